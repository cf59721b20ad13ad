/* evict_fifo.c — first in, first out: the page that came in first goes
 * first, whatever its use since (Belady's anomaly included). */
#include "evict_list.h"
#include "pmsim/pager.h"

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    (void)view;
    return el_create(slots, 1);
}

static void touch(void *st, uint32_t s)
{
    (void)st;
    (void)s;
}

const struct pm_evict_policy pm__evict_fifo = {
    .name = "fifo",
    .summary = "first in, first out",
    .create = create,
    .destroy = el_destroy,
    .grow = el_grow,
    .insert = el_insert_one,
    .touch = touch,
    .remove = el_remove_one,
    .victim = el_victim_one,
};
