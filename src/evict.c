/* evict.c — the registry of eviction policies (SPEC §8: pluggable; at
 * least FIFO, LRU, CLOCK, an application-hint policy, and OPT for traces).
 * One policy a file; add a new one here. */
#include <string.h>

#include "pmsim/pager.h"

extern const struct pm_evict_policy pm__evict_fifo;
extern const struct pm_evict_policy pm__evict_lru;
extern const struct pm_evict_policy pm__evict_clock;
extern const struct pm_evict_policy pm__evict_hint;
extern const struct pm_evict_policy pm__evict_opt;

static const struct pm_evict_policy *const registry[] = {
    &pm__evict_fifo, &pm__evict_lru, &pm__evict_clock, &pm__evict_hint, &pm__evict_opt, NULL,
};

const struct pm_evict_policy *const *pm_evict_policies(void)
{
    return registry;
}

const struct pm_evict_policy *pm_evict_policy_find(const char *name)
{
    for (size_t i = 0; name != NULL && registry[i] != NULL; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}
