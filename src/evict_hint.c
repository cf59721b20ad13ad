/* evict_hint.c — LRU guided by the application: pages hinted DONTNEED go
 * first, then ordinary ones, WILLNEED last; LRU within each class.  The
 * class is read when the page comes in or is referenced. */
#include "evict_list.h"
#include "pmsim/pager.h"

struct hint {
    struct el_state *el;
    struct pm_evict_view view;
    struct slot_bytes cls; /* by slot: the list it is on */
};

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    struct hint *h = calloc(1, sizeof *h);
    if (h == NULL || (h->el = el_create(slots, 3)) == NULL || !sb_init(&h->cls, slots)) {
        if (h != NULL && h->el != NULL)
            el_destroy(h->el);
        free(h);
        return NULL;
    }
    h->view = *view;
    return h;
}

static void destroy(void *st)
{
    struct hint *h = st;
    el_destroy(h->el);
    free(h->cls.b);
    free(h);
}

static void grow(void *st, uint32_t slots)
{
    struct hint *h = st;
    sb_grow(&h->cls, slots);
    el_grow(h->el, slots);
}

/* The list a page of hint H belongs on: DONTNEED 0, NORMAL 1, WILLNEED 2. */
static uint8_t list_of(enum pm_evict_hint hint)
{
    return hint == PM_HINT_DONTNEED ? 0 : hint == PM_HINT_WILLNEED ? 2 : 1;
}

static void insert(void *st, uint32_t s)
{
    struct hint *h = st;
    h->cls.b[s] = list_of(h->view.hint != NULL ? h->view.hint(h->view.ctx, s) : PM_HINT_NORMAL);
    el_push(&h->el->q[h->cls.b[s]], s);
}

static void touch(void *st, uint32_t s)
{
    struct hint *h = st;
    el_unlink(&h->el->q[h->cls.b[s]], s);
    insert(st, s);
}

static void remove_slot(void *st, uint32_t s)
{
    struct hint *h = st;
    el_unlink(&h->el->q[h->cls.b[s]], s);
}

static uint32_t victim(void *st)
{
    struct hint *h = st;
    for (unsigned i = 0; i < 3; i++)
        if (h->el->q[i].head != EL_NONE)
            return h->el->q[i].head;
    return EL_NONE;
}

const struct pm_evict_policy pm__evict_hint = {
    .name = "hint",
    .summary = "LRU within classes the application hints: DONTNEED first, WILLNEED last",
    .create = create,
    .destroy = destroy,
    .grow = grow,
    .insert = insert,
    .touch = touch,
    .remove = remove_slot,
    .victim = victim,
};
