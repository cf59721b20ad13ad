/* evict_lru.c — least recently used: every reference moves the page to the
 * young end of one list; the page referenced longest ago goes. */
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
    struct evict_list *q = &((struct el_state *)st)->q[0];
    if (q->tail != s) {
        el_unlink(q, s);
        el_push(q, s);
    }
}

static void remove_slot(void *st, uint32_t s)
{
    el_unlink(&((struct el_state *)st)->q[0], s);
}

static uint32_t victim(void *st)
{
    return ((struct el_state *)st)->q[0].head;
}

const struct pm_evict_policy pm__evict_lru = {
    .name = "lru",
    .summary = "least recently used (exact: every reference counts)",
    .create = create,
    .destroy = el_destroy,
    .grow = el_grow,
    .insert = insert,
    .touch = touch,
    .remove = remove_slot,
    .victim = victim,
};
