/* victim_most_extra.c — the default victim policy: the task with the most
 * extra frames first (it has the most to give and the least claim to
 * them), each asked for as much of the shortfall as its E covers; ties go
 * to the task known first. */
#include <stdlib.h>

#include "pmsim/physmem.h"

static int by_extra(const void *a, const void *b)
{
    const struct pm_victim *x = a, *y = b;
    if (x->extra != y->extra)
        return x->extra < y->extra ? 1 : -1;
    return x->age < y->age ? -1 : x->age > y->age;
}

static void order(struct pm_victim *v, size_t n)
{
    qsort(v, n, sizeof *v, by_extra);
}

const struct pm_victim_policy pm__victim_most_extra = {
    .name = "most-extra",
    .summary = "most extra frames first, each asked for what its E covers",
    .order = order,
};
