/* inject_priv.h — the injection points of pmsim/inject.h and the
 * fallible host-memory wrappers that carry one.  Not a public header.
 *
 * pm__inject(kind) is the one test in every wrapper around a resource
 * acquisition: false (go on) unless a test armed an injection and this is
 * the acquisition it asked to fail.  Disarmed, it is one load of a
 * thread-local flag and a branch predicted not taken. */
#ifndef PMSIM_SRC_INJECT_H
#define PMSIM_SRC_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "pmsim/inject.h"

extern _Thread_local bool pm__inject_armed;

/* Count one acquisition of KIND; true when it is the one to fail. */
bool pm__inject_hit(enum pm_inject_kind kind);

static inline bool pm__inject(enum pm_inject_kind kind)
{
#ifdef PMSIM_NO_INJECT /* for measuring what the injection points cost */
    (void)kind;
    return false;
#else
    return __builtin_expect(pm__inject_armed, 0) && pm__inject_hit(kind);
#endif
}

/* Host memory that physmem survives not getting: NULL on failure (real
 * or injected), as malloc, calloc and realloc (which keeps P then). */
static inline void *pm__malloc(size_t n)
{
    return pm__inject(PM_INJECT_MEMORY) ? NULL : malloc(n);
}

static inline void *pm__calloc(size_t n, size_t size)
{
    return pm__inject(PM_INJECT_MEMORY) ? NULL : calloc(n, size);
}

static inline void *pm__realloc(void *p, size_t n)
{
    return pm__inject(PM_INJECT_MEMORY) ? NULL : realloc(p, n);
}

#endif
