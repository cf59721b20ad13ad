/* inject.c — the counter behind pmsim/inject.h: fail the k-th resource
 * acquisition after pm_inject_arm.
 *
 * The armed flag is separate from the counts so that the injection points
 * (src/inject.h) test one byte when disarmed; everything else happens only
 * in pm__inject_hit, out of line.  The state is thread-local: physmem is
 * single-threaded, but several physmems may run on several threads. */
#include "inject_priv.h"

_Thread_local bool pm__inject_armed;

static _Thread_local struct {
    uint64_t k;
    unsigned kinds, always;
    struct pm_inject_stats st;
} inj;

void pm_inject_arm(uint64_t k, unsigned kinds)
{
    inj.k = k;
    inj.kinds = kinds & PM_INJECT_ALL;
    inj.always = 0;
    inj.st = (struct pm_inject_stats){0};
    pm__inject_armed = k != 0 && inj.kinds != 0;
}

void pm_inject_always(unsigned kinds)
{
    inj.always = kinds & PM_INJECT_ALL;
    pm__inject_armed = (inj.k != 0 && inj.kinds != 0) || inj.always != 0;
}

bool pm__inject_hit(enum pm_inject_kind kind)
{
    if (inj.always & (1u << kind))
        return true;
    if (!(inj.kinds & (1u << kind)))
        return false;
    inj.st.acquisitions++;
    inj.st.by_kind[kind]++;
    if (inj.st.fired || inj.st.acquisitions != inj.k)
        return false;
    inj.st.fired = true;
    inj.st.fired_kind = kind;
    return true;
}

void pm_inject_stats(struct pm_inject_stats *out)
{
    *out = inj.st;
}

const char *pm_inject_kind_name(enum pm_inject_kind kind)
{
    static const char *const names[] = {
        [PM_INJECT_FRAME] = "frame",
        [PM_INJECT_MEMORY] = "memory",
        [PM_INJECT_SWAP_IO] = "swap-io",
        [PM_INJECT_SLOT] = "slot",
    };
    return (unsigned)kind < PM_INJECT_KINDS ? names[kind] : "?";
}
