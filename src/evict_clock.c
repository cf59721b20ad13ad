/* evict_clock.c — CLOCK (second chance): slots on a ring with a reference
 * bit, set on every reference; the hand sweeps, clearing bits, and takes
 * the first page whose bit is clear. */
#include <stdlib.h>
#include <string.h>

#include "pmsim/pager.h"

struct clock {
    uint8_t *ref, *used; /* by slot */
    uint32_t slots, hand;
};

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    (void)view;
    struct clock *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->slots = slots ? slots : 1;
    c->ref = calloc(c->slots, 1);
    c->used = calloc(c->slots, 1);
    if (c->ref == NULL || c->used == NULL) {
        free(c->ref);
        free(c->used);
        free(c);
        return NULL;
    }
    return c;
}

static void destroy(void *st)
{
    struct clock *c = st;
    free(c->ref);
    free(c->used);
    free(c);
}

static void grow(void *st, uint32_t slots)
{
    struct clock *c = st;
    if (slots <= c->slots)
        return;
    uint8_t *r = realloc(c->ref, slots), *u = r != NULL ? realloc(c->used, slots) : NULL;
    if (r != NULL)
        c->ref = r;
    if (u == NULL)
        return;
    c->used = u;
    memset(c->ref + c->slots, 0, slots - c->slots);
    memset(c->used + c->slots, 0, slots - c->slots);
    c->slots = slots;
}

static void insert(void *st, uint32_t s)
{
    struct clock *c = st;
    c->used[s] = 1;
    c->ref[s] = 1;
}

static void touch(void *st, uint32_t s)
{
    ((struct clock *)st)->ref[s] = 1;
}

static void remove_slot(void *st, uint32_t s)
{
    struct clock *c = st;
    c->used[s] = 0;
    c->ref[s] = 0;
}

static uint32_t victim(void *st)
{
    struct clock *c = st;
    for (uint64_t n = 0; n < 2ull * c->slots + 1; n++) {
        uint32_t s = c->hand;
        c->hand = (c->hand + 1) % c->slots;
        if (!c->used[s])
            continue;
        if (!c->ref[s])
            return s;
        c->ref[s] = 0; /* a second chance */
    }
    return UINT32_MAX; /* nothing inserted */
}

const struct pm_evict_policy pm__evict_clock = {
    .name = "clock",
    .summary = "CLOCK: a reference bit per page and a sweeping hand (second chance)",
    .create = create,
    .destroy = destroy,
    .grow = grow,
    .insert = insert,
    .touch = touch,
    .remove = remove_slot,
    .victim = victim,
};
