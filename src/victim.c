/* victim.c — the registry of victim policies (SPEC §5.1: who is asked to
 * return extra frames first).  One policy a file; add a new one here. */
#include <string.h>

#include "pmsim/physmem.h"

extern const struct pm_victim_policy pm__victim_most_extra;
extern const struct pm_victim_policy pm__victim_spread;
extern const struct pm_victim_policy pm__victim_youngest;

static const struct pm_victim_policy *const registry[] = {
    &pm__victim_most_extra,
    &pm__victim_spread,
    &pm__victim_youngest,
    NULL,
};

const struct pm_victim_policy *const *pm_victim_policies(void)
{
    return registry;
}

const struct pm_victim_policy *pm_victim_policy_find(const char *name)
{
    for (size_t i = 0; name != NULL && registry[i] != NULL; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
