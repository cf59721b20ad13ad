/* evict_opt.c — Belady's optimal policy (for traces): the page whose next
 * reference lies furthest in the future goes (one never referenced again
 * first).  It needs the future: the pager gives it the reference string
 * (pm_pager_set_future) and answers next_use.  Ties go to the lowest slot. */
#include "evict_list.h"
#include "pmsim/pager.h"

struct opt {
    struct pm_evict_view view;
    struct slot_bytes used;
};

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    struct opt *o = calloc(1, sizeof *o);
    if (o == NULL || !sb_init(&o->used, slots)) {
        free(o);
        return NULL;
    }
    o->view = *view;
    return o;
}

static void destroy(void *st)
{
    struct opt *o = st;
    free(o->used.b);
    free(o);
}

static void grow(void *st, uint32_t slots)
{
    sb_grow(&((struct opt *)st)->used, slots);
}

static void insert(void *st, uint32_t s)
{
    ((struct opt *)st)->used.b[s] = 1;
}

static void touch(void *st, uint32_t s)
{
    (void)st;
    (void)s;
}

static void remove_slot(void *st, uint32_t s)
{
    ((struct opt *)st)->used.b[s] = 0;
}

static uint32_t victim(void *st)
{
    struct opt *o = st;
    uint32_t best = UINT32_MAX;
    uint64_t far = 0;
    for (uint32_t s = 0; s < o->used.n; s++) {
        if (!o->used.b[s])
            continue;
        uint64_t next = o->view.next_use(o->view.ctx, s);
        if (best == UINT32_MAX || next > far) {
            best = s;
            far = next;
        }
        if (next == UINT64_MAX)
            break; /* never again: nothing is further */
    }
    return best;
}

const struct pm_evict_policy pm__evict_opt = {
    .name = "opt",
    .summary = "Belady's OPT: the page used furthest in the future (needs the trace)",
    .create = create,
    .destroy = destroy,
    .grow = grow,
    .insert = insert,
    .touch = touch,
    .remove = remove_slot,
    .victim = victim,
    .needs_future = true,
};
