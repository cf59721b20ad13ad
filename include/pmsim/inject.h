/* inject.h — fault injection: make the k-th resource acquisition of
 * physmem fail, to prove that every call is atomic (SPEC §3: a call that
 * fails changes nothing, except where a PARTIAL flag says otherwise).
 *
 * Physmem acquires four kinds of resources, each through one wrapper in
 * src/ that holds the one injection point of its kind:
 * - PM_INJECT_FRAME: a physical frame (or an aligned run) from the pool —
 *   pm__frame_alloc, the way every frame physmem takes comes in (binding,
 *   copy-on-write breaks, DMA frames, swap-in, the policy buffer).  An
 *   injected failure is "the pool has nothing, and nothing can be
 *   reclaimed": ENOMEM;
 * - PM_INJECT_MEMORY: host memory that physmem must survive not getting —
 *   pm__malloc, pm__calloc and pm__realloc (the sparse arrays' leaves, the
 *   share-group table, capability, container and task records, swap
 *   entries, copy and bounce buffers).  Fails as malloc does (NULL); the
 *   call returns ENOMEM.  GLib's own small allocations inside its
 *   containers (hash tables, pointer arrays, queues) abort on failure, as
 *   GLib does everywhere, and are not injection points;
 * - PM_INJECT_SWAP_IO: a read or a write of the swap device (the wrappers
 *   around pm_swap_dev.read and .write): EIO;
 * - PM_INJECT_SLOT: a capability or a container handle (pm__new_cap,
 *   pm__new_container): ENOMEM.
 *
 * Arming counts the acquisitions of the chosen kinds from then on and
 * fails the k-th (one failure; the later ones succeed).  Disarmed (the
 * default) an injection point costs one predicted branch on a thread-local
 * flag.  The state is per thread, so that tests running physmems on
 * several threads do not see each other's injections. */
#ifndef PMSIM_INJECT_H
#define PMSIM_INJECT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pm_inject_kind {
    PM_INJECT_FRAME,   /**< a physical frame from the pool */
    PM_INJECT_MEMORY,  /**< host memory (malloc, calloc, realloc) */
    PM_INJECT_SWAP_IO, /**< a swap device read or write */
    PM_INJECT_SLOT,    /**< a capability or container handle */
    PM_INJECT_KINDS
};

/** Every kind, for pm_inject_arm. */
#define PM_INJECT_ALL ((1u << PM_INJECT_KINDS) - 1u)

/** Count the acquisitions of the kinds in KINDS (a mask of 1 << kind) made
 *  from now on, and fail the K-th of them.  K = 0 disarms (and stops
 *  counting); K = UINT64_MAX only counts.  The counts start again at 0. */
void pm_inject_arm(uint64_t k, unsigned kinds);

/** Besides the K-th: make every acquisition of the kinds in KINDS fail
 *  (not counted), until the next pm_inject_arm — "the pool is empty and
 *  nothing can be reclaimed", to reach the paths taken then. */
void pm_inject_always(unsigned kinds);

/** What happened since the last pm_inject_arm. */
struct pm_inject_stats {
    uint64_t acquisitions;             /**< of the chosen kinds, the failed one included */
    uint64_t by_kind[PM_INJECT_KINDS]; /**< the same, by kind */
    bool fired;                        /**< the K-th was reached and failed */
    enum pm_inject_kind fired_kind;    /**< its kind, when fired */
};

/** Read the counts into *OUT (the caller's). */
void pm_inject_stats(struct pm_inject_stats *out);

/** A short name for KIND ("frame", "memory", "swap-io", "slot"), "?" for
 *  another value.  Static; never NULL. */
const char *pm_inject_kind_name(enum pm_inject_kind kind);

#ifdef __cplusplus
}
#endif
#endif
