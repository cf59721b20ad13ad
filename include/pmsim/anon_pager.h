/* anon_pager.h — a minimal pager for the simulated kernel, for demos,
 * tests and benchmarks until the real self-pager exists (SPEC §8).
 *
 * It is a thread of the root task.  On a fault at an unmapped address it
 * takes a zeroed frame from the pool and answers with a map item of that
 * frame (from the root task's identity mapping) at the faulting page, with
 * the rights it was set up with.  It refuses protection faults (a write to a
 * read-only mapping, say): those fail the access with EFAULT.  The frames it
 * handed out go back to the pool in sim_anon_pager_fini. */
#ifndef PMSIM_ANON_PAGER_H
#define PMSIM_ANON_PAGER_H

#include "pmsim/l4sim.h"
#include "pmsim/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

struct sim_anon_pager {
    l4_kernel_t *k;
    pm_pool_t *pool;
    l4_thread_t thread; /**< the pager thread: make it other threads' pager */
    unsigned rights;    /**< rights of the mappings it makes (default L4_RW) */
    uint64_t faults;    /**< faults it answered */
    uint64_t refused;   /**< faults it refused */
    pm_pfn_t *frames;   /**< frames it took from the pool */
    size_t nframes, cap;
};

/** Set up *P (caller-owned) with a new pager thread in the root task of K,
 *  taking frames from POOL, which must be the memory K was created over.
 *  Returns 0, or an error of l4_thread_create. */
pm_error_t sim_anon_pager_init(struct sim_anon_pager *p, l4_kernel_t *k, pm_pool_t *pool);

/** Release the frames the pager took.  Unmap them first (or delete the
 *  tasks): the kernel's mappings of them are not touched. */
void sim_anon_pager_fini(struct sim_anon_pager *p);

#ifdef __cplusplus
}
#endif
#endif
