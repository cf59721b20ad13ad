/* evict_fifo.c — first in, first out: the page that came in first goes
 * first, whatever its use since (Belady's anomaly included). */
#include "evict_list.h"
#include "pmsim/pager.h"

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    (void)view;
    return el_create(slots, 1);
}

static void insert(void *st, uint32_t s)
{
    el_push(&((struct el_state *)st)->q[0], s);
}

static void touch(void *st, uint32_t s)
{
    (void)st;
    (void)s;
}

static void remove_slot(void *st, uint32_t s)
{
    el_unlink(&((struct el_state *)st)->q[0], s);
}

static uint32_t victim(void *st)
{
    return ((struct el_state *)st)->q[0].head;
}

const struct pm_evict_policy pm__evict_fifo = {
    .name = "fifo",
    .summary = "first in, first out",
    .create = create,
    .destroy = el_destroy,
    .grow = el_grow,
    .insert = insert,
    .touch = touch,
    .remove = remove_slot,
    .victim = victim,
};
