/* physmem.h — the physical memory server: containers of virtual frames
 * (SPEC §2, §3).
 *
 * Physmem owns the frame pool.  Tasks hold *capabilities* to containers:
 * sparse arrays of frame identifiers (frame_t), each naming a virtual frame.
 * A virtual frame references at most one physical frame, bound lazily (on
 * its first map, or when it is the source of a logical copy; CONT_ALLOC_DMA
 * frames are bound at once, from the DMA zone).  Copies are logical
 * (copy-on-write) unless CONT_COPY_SHARED asks for real sharing; the virtual
 * frames that really share one copy form a *share group*, and a write
 * through any member (a map with CONT_MAP_FORCE_WRITE) breaks the sharing
 * for the whole group at once, copying the real bytes.
 *
 * Every call names its calling task (physmem's caller is implicit in the
 * design; here it is an argument) and returns 0 or an error of
 * pmsim/error.h.  Every call is atomic: when it fails it changes nothing,
 * except the PARTIAL flags and copies without CONT_COPY_ALL_OR_NONE, which
 * report exactly what they did.  On failure out-parameters are untouched,
 * except `count` and `frame_error` (SPEC §3.9).  Errors, when several apply,
 * come in this order: ESRCH, EINVAL, EBADF, EPERM, EBUSY, then per frame in
 * visiting order EEXIST / ENOENT / ENOMEM.
 *
 * Accounting (SPEC §2, §4): every virtual frame in a container counts one
 * against the container's owner's allocated total A.  Until a guarantee is
 * set for some task (pm_task_set_guarantee, which the policy server will
 * drive), allocation is first come, first served: it succeeds while the
 * pool has frames for every allocated virtual frame.  Afterwards a task
 * allocates up to its guarantee G, and, with CONT_ALLOC_EXTRA and extra
 * eligibility, beyond it into the frames that nobody else is guaranteed or
 * using.  Physmem never allocates more virtual frames than the pool has
 * physical frames, so binding and copy-on-write breaks always find one.
 *
 * Mappings (SPEC §3.4, §3.9): physmem maps with L4 map items from its root
 * mappings, the largest fpages alignment allows, at most the kernel's item
 * limit per call (the call then reports how many frames it mapped).  It
 * unmaps no more than correctness needs: a logical copy downgrades writable
 * mappings of its source to read-only; a copy-on-write break moves only the
 * writer's share group; a frame deallocated, moved, squashed, released or
 * copied into loses its own mappings; a revoked capability loses the
 * mappings made through it.
 *
 * Physmem is single-threaded, like the simulation around it. */
#ifndef PMSIM_PHYSMEM_H
#define PMSIM_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/error.h"
#include "pmsim/l4.h"
#include "pmsim/pool.h"
#include "pmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_physmem pm_physmem_t;

/** A capability: a handle, local to the task that holds it, on a container.
 *  Handles are never reused, so a stale one is EBADF, never another
 *  container.  0 is no capability. */
typedef uint64_t container_t;
#define PM_CONTAINER_NONE ((container_t)0)

/* ---- flags (SPEC §3.3–§3.5) ------------------------------------------- */

enum {
    CONT_ALLOC_PARTIAL = 1u << 0, /**< allocate the first k that can be had */
    CONT_ALLOC_SQUASH = 1u << 1,  /**< replace frames already there */
    CONT_ALLOC_EXTRA = 1u << 2,   /**< go past G into extra frames (if eligible) */
    CONT_ALLOC_DMA = 1u << 3,     /**< frames from the DMA zone, bound at once */
};

enum {
    CONT_DEALLOC_PARTIAL = 1u << 0, /**< deallocate up to the first empty identifier */
    CONT_DEALLOC_SQUASH = 1u << 1,  /**< skip empty identifiers */
    CONT_DEALLOC_SOFT = 1u << 2,    /**< leave a soft reference (SPEC §5.3) */
};

enum {
    CONT_MAP_READ = 1u << 0,        /**< readable (and executable) */
    CONT_MAP_WRITE = 1u << 1,       /**< writable (and readable) */
    CONT_MAP_FORCE_WRITE = 1u << 2, /**< with WRITE: break copy-on-write first */
};

enum {
    CONT_COPY_SHARED = 1u << 0,      /**< real sharing instead of copy-on-write */
    CONT_COPY_MOVE = 1u << 1,        /**< the source frames leave their container */
    CONT_COPY_ALL_OR_NONE = 1u << 2, /**< on error, copy nothing */
};

/* ---- the server ---------------------------------------------------------- */

struct pm_physmem_config {
    /** The pool; physmem hands out all of its frames.  Owned by the caller,
     *  who must keep it alive until pm_physmem_free. */
    pm_pool_t *pool;
    /** The kernel, created over the pool's memory. */
    l4_kernel_t *kernel;
    /** Physmem's thread, in the root task: the sender of its map items. */
    l4_thread_t thread;
};

/** Create physmem over *CFG (copied).  Returns 0; EINVAL (a NULL pool or
 *  kernel, a thread outside the root task); ENOMEM. */
pm_error_t pm_physmem_new(const struct pm_physmem_config *cfg, pm_physmem_t **out);

/** Destroy physmem: every container's frames go back to the pool.  The
 *  kernel's mappings are left as they are.  NULL is a no-op. */
void pm_physmem_free(pm_physmem_t *pm);

/* ---- tasks and accounting ------------------------------------------------ */

/** Make TASK known to physmem, with THREAD the thread its map items go to
 *  (the thread that makes its calls).  G = 0, not eligible for extra.
 *  Returns 0; ESRCH (no such task or thread in the kernel); EEXIST (known
 *  already); ENOMEM. */
pm_error_t pm_task_add(pm_physmem_t *pm, l4_task_t task, l4_thread_t thread);

/** Set TASK's guarantee G and extra eligibility: the one entry point the
 *  policy server's protocol will use.  The first call puts guarantees in
 *  force for every task (the end of first come, first served).
 *  Returns 0 or ESRCH. */
pm_error_t pm_task_set_guarantee(pm_physmem_t *pm, l4_task_t task, uint64_t guaranteed,
                                 bool extra_eligible);

struct pm_task_info {
    uint64_t guaranteed; /**< G */
    uint64_t allocated;  /**< A: virtual frames in containers the task owns */
    uint64_t extra;      /**< E = max(0, A − G) */
    bool extra_eligible;
    uint64_t containers;   /**< containers it owns */
    uint64_t capabilities; /**< live capabilities it holds */
};

/** Read TASK's accounting into *OUT.  Returns 0 or ESRCH. */
pm_error_t pm_task_info(const pm_physmem_t *pm, l4_task_t task, struct pm_task_info *out);

/** TASK dies (SPEC §3.9 kill): the containers it owns are destroyed (shares
 *  of them stop working: EBADF; logical copies other tasks took survive),
 *  the capabilities it holds to other containers go with the mappings made
 *  through them, the leases it holds end, and physmem forgets it, so its
 *  later calls are ESRCH.  The kernel's task is the caller's to delete.
 *  Returns 0 or ESRCH. */
pm_error_t pm_task_remove(pm_physmem_t *pm, l4_task_t task);

/* ---- containers and capabilities (§3.1) ---------------------------------- */

/** A new empty container owned by CALLER; *OUT gets a full capability.
 *  Returns 0; ESRCH; ENOMEM. */
pm_error_t pm_container_create(pm_physmem_t *pm, l4_task_t caller, container_t *out);

/** Deallocate all frames of the container (logical copies held elsewhere
 *  survive; the frames' mappings go) and invalidate every capability to it,
 *  shares included.  Full capability only.
 *  Returns 0; ESRCH; EBADF; EPERM (weak); EBUSY (locked by a server). */
pm_error_t pm_container_destroy(pm_physmem_t *pm, l4_task_t caller, container_t c);

/** Install a weak capability to C in REMOTE's table; *WEAK_REF gets its
 *  handle (REMOTE's name for it, and the owner's for revoke).  Full
 *  capability only; allowed while locked.
 *  Returns 0; ESRCH (caller or REMOTE); EBADF; EPERM (weak); ENOMEM. */
pm_error_t pm_container_share(pm_physmem_t *pm, l4_task_t caller, container_t c, l4_task_t remote,
                              container_t *weak_ref);

/** Cancel the share WEAK_REF of C (SPEC §3.1, a Decision): the weak handle
 *  stops working and every mapping made through it is unmapped.  Full
 *  capability only.  Returns 0; ESRCH; EBADF (C, or WEAK_REF not a live
 *  share of C); EPERM (weak); EBUSY (locked). */
pm_error_t pm_container_revoke(pm_physmem_t *pm, l4_task_t caller, container_t c,
                               container_t weak_ref);

/** Copy the full capability C to REMOTE; *FULL_REF gets REMOTE's handle.
 *  What REMOTE allocates through it counts against the container's owner.
 *  Returns 0; ESRCH; EBADF; EPERM (weak); ENOMEM. */
pm_error_t pm_container_give(pm_physmem_t *pm, l4_task_t caller, container_t c, l4_task_t remote,
                             container_t *full_ref);

/* ---- locking (§3.2) ----------------------------------------------------- */

/** Lock C for DURATION nanoseconds of simulated time (a lease).  While it
 *  holds, holders of full capabilities other than the locker get EBUSY for
 *  deallocate, revoke, destroy, map, copy into or out of, and release_data;
 *  mappings made before keep working, and the frames are pinned.
 *  Returns 0; ESRCH; EINVAL (DURATION 0); EBADF; EBUSY (locked already). */
pm_error_t pm_container_lock(pm_physmem_t *pm, l4_task_t caller, container_t c, pm_time_t duration);

/** End CALLER's lease on C early.  Returns 0; ESRCH; EBADF; EPERM (the
 *  caller holds no lease on C: never locked, expired, or someone else's). */
pm_error_t pm_container_unlock(pm_physmem_t *pm, l4_task_t caller, container_t c);

/* ---- allocating (§3.3) -------------------------------------------------- */

/** New virtual frames at START … START + *COUNT − 1, zero-filled.  On
 *  return *COUNT is the number allocated: all, or on error 0, or k with
 *  CONT_ALLOC_PARTIAL when only the first k could be had.  FLAGS:
 *  CONT_ALLOC_PARTIAL, _SQUASH, _EXTRA, _DMA.  Full capability only (a given
 *  one allocates against the container's owner); allowed while locked (SQUASH over live frames
 * excepted). Returns 0; ESRCH; EINVAL (count 0, START + count past 2^32, unknown flag); EBADF;
 * EPERM (weak); EBUSY (SQUASH over a frame of a container locked by a server: squashing
 * deallocates); EEXIST (an identifier in use without SQUASH: nothing allocated); ENOMEM (over G
 * without EXTRA, no memory; with PARTIAL the first k are allocated).  On every error *COUNT is 0,
 * except k for a PARTIAL shortfall. */
pm_error_t pm_container_allocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                 uint32_t *count, unsigned flags);

/** Deallocate the frames at START … START + *COUNT − 1 (contents lost,
 *  mappings gone; logical copies elsewhere survive).  FLAGS:
 *  CONT_DEALLOC_PARTIAL (stop before the first empty identifier, *COUNT =
 *  frames deallocated, and return ENOENT), _SQUASH (skip empty identifiers;
 *  *COUNT stays the requested count), _SOFT (each frame becomes a soft
 *  reference, SPEC §5.3: it leaves A and its mappings go, but keeps its data
 *  until physmem needs the physical frame; see pm_container_reclaim).  Full
 *  capability only.
 *  Returns 0; ESRCH; EINVAL; EBADF; EPERM (weak); EBUSY (locked); ENOENT
 *  (an empty identifier: nothing done, unless PARTIAL).  On every error
 *  *COUNT is 0, except k for a PARTIAL stop. */
pm_error_t pm_container_deallocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                   uint32_t *count, unsigned flags);

/** Turn the soft references at START … START + COUNT − 1 of C back into
 *  frames (SPEC §5.3), all or nothing.  Visiting them in order, the first
 *  failing identifier decides: ENOENT (no soft reference there: a frame, or
 *  nothing), ESTALE (physmem took its physical frame back: the data is gone
 *  and must be remanufactured; allocating over the identifier replaces the
 *  soft reference), ENOMEM (no room in G, or beyond it for an eligible
 *  task, as for CONT_ALLOC_EXTRA).  Full capability only.
 *  Returns 0; ESRCH; EINVAL (count 0 or past 2^32); EBADF; EPERM (weak);
 *  EBUSY (locked); ENOENT; ESTALE; ENOMEM. */
pm_error_t pm_container_reclaim(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                uint32_t count);

/* ---- mapping (§3.4) ----------------------------------------------------- */

/** Map frames START … START + *COUNT − 1 into CALLER's address space at
 *  VADDR (page aligned) with L4 map items.  FLAGS: CONT_MAP_READ (rights
 *  r and x), CONT_MAP_WRITE (w and r), CONT_MAP_FORCE_WRITE (with WRITE:
 *  break copy-on-write first, so the mapping is writable).  A copy-on-write
 *  frame is otherwise mapped read-only.  Unbound frames are bound here.
 *  When the frames need more items than one message carries, what fits is
 *  mapped and *COUNT says how many frames that was (success; continue from
 *  there).  Weak capabilities may map.
 *  Returns 0; ESRCH; EINVAL (unaligned VADDR, count 0, range past the
 *  address space or 2^32 identifiers, no READ or WRITE, unknown flag);
 *  EBADF; EBUSY (locked); ENOENT (an identifier without a frame: nothing
 *  mapped, *COUNT untouched); ENOMEM. */
pm_error_t pm_container_map(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                            uint32_t *count, unsigned flags, uint64_t vaddr);

/* ---- copying (§3.5) ----------------------------------------------------- */

/** Copy COUNT frames from SRC (identifiers SRC_START …) to DEST (DEST_START
 *  …).  Logical (copy-on-write) unless CONT_COPY_SHARED (DEST frames join
 *  the source frames' share groups); with CONT_COPY_MOVE the source frames
 *  leave SRC (and its owner's A) and DEST frames take their places in their
 *  groups.  The destination frames must exist; what was in them is lost.
 *  Pairs are visited in order: the first whose destination is missing
 *  fails with ENOMEM (*FRAME_ERROR = its destination identifier), else the
 *  first whose source is missing fails with ENOENT (*FRAME_ERROR = its
 *  source identifier); the pairs before it were copied, unless
 *  CONT_COPY_ALL_OR_NONE.  SRC and DEST may be one container, ranges may
 *  overlap: the result is as if every source were read first.  Weak
 *  capabilities may copy in and out.
 *  Returns 0; ESRCH; EINVAL (count 0, identifiers past 2^32, unknown flag,
 *  MOVE with SHARED, duplicate destinations, a MOVE whose sources and
 *  destinations overlap or repeat); EBADF; EBUSY (either container locked);
 *  ENOMEM; ENOENT. */
pm_error_t pm_container_copy(pm_physmem_t *pm, l4_task_t caller, container_t src, frame_t src_start,
                             container_t dest, frame_t dest_start, uint32_t count, unsigned flags,
                             frame_t *frame_error);

/** pm_container_copy to the COUNT destination identifiers DEST_FRAMES. */
pm_error_t pm_container_copy_scatter(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                     frame_t src_start, container_t dest,
                                     const frame_t *dest_frames, uint32_t count, unsigned flags,
                                     frame_t *frame_error);

/** pm_container_copy from the COUNT source identifiers SRC_FRAMES. */
pm_error_t pm_container_copy_gather(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                    const frame_t *src_frames, container_t dest, frame_t dest_start,
                                    uint32_t count, unsigned flags, frame_t *frame_error);

/** pm_container_copy from SRC_FRAMES to DEST_FRAMES (COUNT each). */
pm_error_t pm_container_copy_scatter_gather(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                            const frame_t *src_frames, container_t dest,
                                            const frame_t *dest_frames, uint32_t count,
                                            unsigned flags, frame_t *frame_error);

/* ---- doing it all at once (§3.6) ------------------------------------------ */

/** Create a container with COUNT frames (0 … COUNT − 1) and share it with
 *  REMOTE: *OUT gets the full capability, *WEAK_REF REMOTE's weak one.  No
 *  flags: allocation stops at G.  All or nothing.
 *  Returns 0; ESRCH; EINVAL (count 0 or past 2^32); ENOMEM. */
pm_error_t pm_container_create_with(pm_physmem_t *pm, l4_task_t caller, uint32_t count,
                                    l4_task_t remote, container_t *out, container_t *weak_ref);

/** Like create_with, the frames being logical copies of SOURCE's frames
 *  START … START + COUNT − 1 (SOURCE may be a weak capability).
 *  Returns also EBADF (SOURCE); EBUSY (SOURCE locked); ENOENT (a source
 *  frame is missing). */
pm_error_t pm_container_create_from(pm_physmem_t *pm, l4_task_t caller, container_t source,
                                    frame_t start, uint32_t count, l4_task_t remote,
                                    container_t *out, container_t *weak_ref);

/** Like create_from, from the COUNT source identifiers FRAMES. */
pm_error_t pm_container_create_gather(pm_physmem_t *pm, l4_task_t caller, container_t source,
                                      const frame_t *frames, uint32_t count, l4_task_t remote,
                                      container_t *out, container_t *weak_ref);

/* ---- reusing frames (§3.7) ------------------------------------------------ */

/** Disassociate the COUNT frames FRAMES of C from their contents, logical
 *  copies and share groups: they stay allocated and read as zero, so that
 *  reusing them costs no needless copy.  Their mappings go.
 *  Returns 0; ESRCH; EINVAL (count 0); EBADF; EBUSY (locked); ENOENT (a
 *  missing frame: nothing done). */
pm_error_t pm_release_data(pm_physmem_t *pm, l4_task_t caller, container_t c, const frame_t *frames,
                           uint32_t count);

/* ---- inspection, statistics, events, invariants -------------------------- */

/** What physmem knows of one frame. */
struct pm_frame_info {
    bool bound;          /**< a physical frame is bound */
    pm_pfn_t pfn;        /**< it (PM_PFN_NONE when unbound) */
    bool cow;            /**< the physical frame carries other share groups */
    uint32_t group_size; /**< virtual frames in its share group (itself included) */
};

/** Describe frame F of C (through CALLER's capability C) into *OUT.
 *  Returns 0; ESRCH; EBADF; ENOENT (no frame there). */
pm_error_t pm_frame_info(const pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t f,
                         struct pm_frame_info *out);

/** Counters (pm_stats). */
struct pm_stats {
    uint64_t rpcs;               /**< calls made to physmem, whatever they answered */
    uint64_t frames_allocated;   /**< virtual frames allocated (all time) */
    uint64_t frames_deallocated; /**< virtual frames deallocated (all time) */
    uint64_t frames_bound;       /**< physical frames bound (lazily, for DMA, or by COW breaks) */
    uint64_t frames_freed;       /**< physical frames given back to the pool */
    uint64_t map_calls;          /**< pm_container_map calls that mapped something */
    uint64_t frames_mapped;      /**< frames mapped */
    uint64_t short_maps;         /**< maps cut short by the message's item limit */
    uint64_t unmaps;             /**< unmap operations physmem asked of the kernel */
    uint64_t cow_breaks;         /**< share groups moved to a private frame by a write */
    uint64_t bytes_copied;       /**< bytes copied by physmem (COW breaks) */
    uint64_t logical_copies;     /**< frames copied copy-on-write */
    uint64_t shared_copies;      /**< frames copied as real sharing */
    uint64_t moves;              /**< frames moved by CONT_COPY_MOVE */
    uint64_t frames_released;    /**< frames whose data release_data dropped */
    uint64_t frames_moved;       /**< physical frames relocated (defragmentation; 0 for now) */
    uint64_t soft_made;          /**< frames turned into soft references */
    uint64_t soft_reclaimed;     /**< soft references turned back into frames, data intact */
    uint64_t soft_lost;          /**< soft references whose frame physmem took back */
};

void pm_stats(const pm_physmem_t *pm, struct pm_stats *out);

/** What an event reports (pm_set_event_hook). */
enum pm_event_kind {
    PM_EV_ALLOCATE,   /**< frames allocated: container, frame, count */
    PM_EV_DEALLOCATE, /**< frames deallocated: container, frame, count */
    PM_EV_BIND,       /**< a physical frame bound: container, frame, pfn */
    PM_EV_MAP,        /**< frames mapped: container, frame, count, vaddr */
    PM_EV_UNMAP,      /**< a frame's mappings revoked: container, frame, pfn */
    PM_EV_COW_BREAK,  /**< a share group moved to its own frame: pfn (new), old_pfn */
    PM_EV_COPY,    /**< frames copied: container (source), frame, to_container, to_frame, count */
    PM_EV_MOVE,    /**< frames moved (CONT_COPY_MOVE): as for copy */
    PM_EV_RELEASE, /**< release_data: container, frame, count */
};

struct pm_event {
    enum pm_event_kind kind;
    pm_time_t time;
    l4_task_t task;     /**< the caller */
    uint32_t container; /**< a container's id (not a handle) */
    frame_t frame;
    uint32_t to_container; /**< copies */
    frame_t to_frame;
    uint64_t count;
    uint64_t vaddr;
    pm_pfn_t pfn, old_pfn;
};

typedef void (*pm_event_fn)(void *ctx, const struct pm_event *ev);

/** Install the one event hook (NULL removes it). */
void pm_set_event_hook(pm_physmem_t *pm, pm_event_fn fn, void *ctx);

/** A short name for an event kind ("map", "cow-break", …). */
const char *pm_event_kind_name(enum pm_event_kind kind);

/** Check the invariants of SPEC §12 that physmem can see: accounting (A is
 *  the frames in owned containers, ΣG within the pool), reference counts
 *  (a physical frame is bound in the pool exactly when virtual frames name
 *  it, and its share-group count is right), mappings (every mapping
 *  physmem made belongs to a live capability and a frame that still names
 *  its physical frame; no writable mapping of a copy-on-write frame), and
 *  locks.  Calls REPORT (may be NULL) once per broken invariant with a
 *  sentence saying what is wrong; never aborts.  Returns how many it found. */
size_t pm_check(const pm_physmem_t *pm, void (*report)(void *ctx, const char *problem), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
