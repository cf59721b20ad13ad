/* evict_lru.c — least recently used: every reference moves the page to the
 * young end of one list; the page referenced longest ago goes. */
#include "evict_list.h"
#include "pmsim/pager.h"

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    (void)view;
    return el_create(slots, 1);
}

static void touch(void *st, uint32_t s)
{
    struct evict_list *q = &((struct el_state *)st)->q[0];
    if (q->tail != s) {
        el_unlink(q, s);
        el_push(q, s);
    }
}

const struct pm_evict_policy pm__evict_lru = {
    .name = "lru",
    .summary = "least recently used (exact: every reference counts)",
    .create = create,
    .destroy = el_destroy,
    .grow = el_grow,
    .insert = el_insert_one,
    .touch = touch,
    .remove = el_remove_one,
    .victim = el_victim_one,
};
