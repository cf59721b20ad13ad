/* policy_proportional.c — proportional shares: the available frames are
 * divided by weight, G_i = floor(available × w_i / Σw).  The frames the
 * rounding leaves over are guaranteed to nobody, so eligible tasks may use
 * them as extra frames.  Recomputed whenever a task comes or goes. */
#include "pmsim/policy.h"

/* 128-bit arithmetic, so that no weight can overflow the shares. */
__extension__ typedef unsigned __int128 u128;

static void targets(const struct pm_policy_task *tasks, size_t n, uint64_t available,
                    uint64_t *target)
{
    u128 total = 0;
    for (size_t i = 0; i < n; i++)
        total += tasks[i].weight;
    for (size_t i = 0; i < n; i++)
        target[i] = total ? (uint64_t)((u128)available * tasks[i].weight / total) : 0;
}

const struct pm_policy_kind pm__policy_proportional = {
    .name = "proportional",
    .summary = "G by weight: available × weight / total weight",
    .targets = targets,
};
