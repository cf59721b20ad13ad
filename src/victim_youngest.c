/* victim_youngest.c — the task that came last is asked first (last in,
 * first out: long-running tasks keep their caches). */
#include <stdlib.h>

#include "pmsim/physmem.h"

static int by_age(const void *a, const void *b)
{
    const struct pm_victim *x = a, *y = b;
    return x->age < y->age ? 1 : x->age > y->age ? -1 : 0;
}

static void order(struct pm_victim *v, size_t n)
{
    qsort(v, n, sizeof *v, by_age);
}

const struct pm_victim_policy pm__victim_youngest = {
    .name = "youngest",
    .summary = "the task known last first, each asked for what its E covers",
    .order = order,
};
