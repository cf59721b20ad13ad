/* victim_spread.c — share the pain: every task with extra frames is asked
 * for a part of the shortfall in proportion to its E (rounded up, so the
 * parts cover it), most extra first. */
#include "pmsim/physmem.h"

extern const struct pm_victim_policy pm__victim_most_extra;

static uint64_t ask(const struct pm_victim *v, uint64_t shortfall, uint64_t total_extra)
{
    if (total_extra == 0)
        return 0;
    /* ceil(shortfall × E / ΣE): frame counts stay below 2^32 (a pool has
     * at most that many), so the product fits. */
    uint64_t n = (shortfall * v->extra + total_extra - 1) / total_extra;
    if (n > shortfall)
        n = shortfall;
    return n < v->extra ? n : v->extra;
}

static void order(struct pm_victim *v, size_t n)
{
    pm__victim_most_extra.order(v, n);
}

const struct pm_victim_policy pm__victim_spread = {
    .name = "spread",
    .summary = "every task with extra frames gives its share, in proportion to E",
    .order = order,
    .ask = ask,
};
