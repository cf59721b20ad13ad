/* policy_kind.c — the registry of policy kinds (SPEC §4: policies are
 * pluggable).  One kind a file; add a new one here. */
#include <string.h>

#include "pmsim/policy.h"

extern const struct pm_policy_kind pm__policy_fixed;
extern const struct pm_policy_kind pm__policy_proportional;

static const struct pm_policy_kind *const registry[] = {
    &pm__policy_fixed,
    &pm__policy_proportional,
    NULL,
};

const struct pm_policy_kind *const *pm_policy_kinds(void)
{
    return registry;
}

const struct pm_policy_kind *pm_policy_kind_find(const char *name)
{
    for (size_t i = 0; name != NULL && registry[i] != NULL; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
