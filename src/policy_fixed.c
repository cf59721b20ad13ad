/* policy_fixed.c — fixed quotas: every task gets the G it asked for (in a
 * scenario, its `guaranteed:`).  The kind does not check that they fit:
 * an over-committing scenario is written as it is, and physmem reports
 * the violation (SPEC §4). */
#include "pmsim/policy.h"

static void targets(const struct pm_policy_task *tasks, size_t n, uint64_t available,
                    uint64_t *target)
{
    (void)available;
    for (size_t i = 0; i < n; i++)
        target[i] = tasks[i].guaranteed;
}

const struct pm_policy_kind pm__policy_fixed = {
    .name = "fixed",
    .summary = "each task gets the G it asks for",
    .targets = targets,
};
