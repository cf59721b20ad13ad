/* evict_clock.c — CLOCK (second chance): slots on a ring with a reference
 * bit, set on every reference; the hand sweeps, clearing bits, and takes
 * the first page whose bit is clear. */
#include "evict_list.h"
#include "pmsim/pager.h"

enum { USED = 1, REF = 2 };

struct clock {
    struct slot_bytes bits; /* USED | REF by slot */
    uint32_t hand;
};

static void *create(uint32_t slots, const struct pm_evict_view *view)
{
    (void)view;
    struct clock *c = calloc(1, sizeof *c);
    if (c == NULL || !sb_init(&c->bits, slots)) {
        free(c);
        return NULL;
    }
    return c;
}

static void destroy(void *st)
{
    struct clock *c = st;
    free(c->bits.b);
    free(c);
}

static void grow(void *st, uint32_t slots)
{
    sb_grow(&((struct clock *)st)->bits, slots);
}

static void insert(void *st, uint32_t s)
{
    ((struct clock *)st)->bits.b[s] = USED | REF;
}

static void touch(void *st, uint32_t s)
{
    ((struct clock *)st)->bits.b[s] |= REF;
}

static void remove_slot(void *st, uint32_t s)
{
    ((struct clock *)st)->bits.b[s] = 0;
}

static uint32_t victim(void *st)
{
    struct clock *c = st;
    uint32_t n = c->bits.n;
    for (uint64_t k = 0; k < 2ull * n + 1; k++) {
        uint32_t s = c->hand;
        c->hand = (c->hand + 1) % n;
        if (!(c->bits.b[s] & USED))
            continue;
        if (!(c->bits.b[s] & REF))
            return s;
        c->bits.b[s] &= (uint8_t)~REF; /* a second chance */
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
