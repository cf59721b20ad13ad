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
 * report exactly what they did; host memory that cannot be had is ENOMEM
 * and changes nothing either (tests/inject fails each acquisition of every
 * call in turn to prove it: pmsim/inject.h).  On failure out-parameters
 * are untouched, except `count` and `frame_error` (SPEC §3.9).  Errors, when several apply,
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
    /** The swap device (SPEC §7), or NULL: no swap (pm_swap is ENOSPC).
     *  Copied; its context must outlive physmem. */
    const struct pm_swap_dev *swap;
    /** How long a task has to answer pm_return_frames (SPEC §5.1), in
     *  simulated nanoseconds; 0 means PM_DEFAULT_RETURN_DEADLINE. */
    pm_time_t return_deadline;
    /** The victim policy by name (pm_victim_policies); NULL: "most-extra". */
    const char *victim_policy;
    /** Frames of the pool held back for physmem's own memory (the policy
     *  buffer): tasks can have the rest.  A buffer that outgrows the
     *  reserve takes frames from the tasks' share.  Rounded up to a power
     *  of two and held as one run from the start, so no task's frame is
     *  ever bound in it.  0: none, so the buffer comes out of the tasks'
     *  share when control is taken. */
    uint32_t reserved_frames;
};

/** The default time a task has to answer pm_return_frames: 1 ms. */
#define PM_DEFAULT_RETURN_DEADLINE ((pm_time_t)1000000)

/** Create physmem over *CFG (copied).  Returns 0; EINVAL (a NULL pool or
 *  kernel, a thread outside the root task, an unknown victim policy, a swap
 *  device without slots or functions); ENOMEM. */
pm_error_t pm_physmem_new(const struct pm_physmem_config *cfg, pm_physmem_t **out);

/** The page size P of PM's pool, in bytes. */
size_t pm_physmem_page_size(const pm_physmem_t *pm);

/** Destroy physmem: every container's frames go back to the pool.  The
 *  kernel's mappings are left as they are.  NULL is a no-op. */
void pm_physmem_free(pm_physmem_t *pm);

/* ---- tasks and accounting ------------------------------------------------ */

/** Make TASK known to physmem, with THREAD the thread its map items go to
 *  (the thread that makes its calls).  G = 0, not eligible for extra.
 *  Returns 0; ESRCH (no such task or thread in the kernel); EEXIST (known
 *  already); ENOMEM (host memory, or the policy buffer must grow for its
 *  record and the frames that takes are needed by the guarantees in force
 *  or by what is allocated). */
pm_error_t pm_task_add(pm_physmem_t *pm, l4_task_t task, l4_thread_t thread);

/** Set TASK's guarantee G and extra eligibility directly, as a test or a
 *  simulation without a policy server does.  The first call puts
 *  guarantees in force for every task (the end of first come, first
 *  served).  Once a task holds the control capability, G is the policy
 *  server's to write in the policy buffer, and this is EPERM.
 *  Returns 0; ESRCH; EPERM. */
pm_error_t pm_task_set_guarantee(pm_physmem_t *pm, l4_task_t task, uint64_t guaranteed,
                                 bool extra_eligible);

struct pm_task_info {
    uint64_t guaranteed; /**< G */
    uint64_t allocated;  /**< A: virtual frames in containers the task owns */
    uint64_t extra;      /**< E = max(0, A − G) */
    bool extra_eligible;
    uint64_t containers;   /**< containers it owns */
    uint64_t capabilities; /**< live capabilities it holds */
    uint64_t swap_ids;     /**< swap identifiers it holds (pm_swap) */
    uint64_t swap_quota;   /**< the most it may hold; 0: no limit */
    uint64_t owed;         /**< frames a pm_return_frames asks of it, not yet returned */
    pm_time_t deadline;    /**< when they are due (meaningful while owed > 0) */
    uint64_t exiles;       /**< times it was exiled */
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

/** THREAD (of TASK) is TASK's memory control thread: physmem's upcalls
 *  (pm_return_frames) go to it, by a non-blocking send (l4_send_async).  A
 *  task without one, or whose thread is not receiving, is not ready and is
 *  exiled when physmem asks it for frames (SPEC §5.2).
 *  Returns 0; ESRCH (no such task, or THREAD is not one of its threads). */
pm_error_t pm_task_set_memctl(pm_physmem_t *pm, l4_task_t task, l4_thread_t thread);

/* ---- memory policy (§4) ---------------------------------------------------- */

/** The policy buffer: physmem's memory, mapped read-write into the policy
 *  server's address space by pm_get_policy_buffer.  A header, then one
 *  record per task (in the order tasks became known).  Every field has one
 *  writer, named beside it; nobody locks.  The server writes G, eligibility
 *  and quotas into the records, then bumps `epoch`; physmem reads the
 *  records again whenever it finds the epoch changed (at its next call),
 *  checks that the guarantees fit (SPEC §4: an over-commit is a policy
 *  violation: an event, a counter, an invariant failure, and guarantees
 *  honoured in record order only as far as the frames go), and writes
 *  `honoured` and `seen`.  When the records outgrow the buffer, physmem
 *  copies them into one twice the size (dropping dead tasks' records),
 *  unmaps the old one everywhere and frees it: the server's next access
 *  faults, and it must ask again. */
#define PM_POLICY_MAGIC 0x7963696c6f706d70ull /* "pmpolicy", little-endian */

struct pm_policy_header {
    uint64_t magic;      /**< physmem: PM_POLICY_MAGIC */
    uint64_t capacity;   /**< physmem: records the buffer has room for */
    uint64_t used;       /**< physmem: records in use (dead tasks' included) */
    uint64_t available;  /**< physmem: frames guarantees may cover (ΣG ≤ this) */
    uint64_t epoch;      /**< policy server: bumped after it writes records */
    uint64_t seen;       /**< physmem: the epoch it last read */
    uint64_t committed;  /**< physmem: ΣG as asked, at that epoch */
    uint64_t violations; /**< physmem: over-commits seen so far */
};

struct pm_policy_record {
    uint32_t task;       /**< physmem: the task, 0 once it is gone */
    uint32_t eligible;   /**< policy server: non-zero: may have extra frames */
    uint64_t allocated;  /**< physmem: A */
    uint64_t guaranteed; /**< policy server: G */
    uint64_t honoured;   /**< physmem: the G in force (less when over-committed) */
    uint64_t swap_quota; /**< policy server: swap ids it may hold, 0: no limit */
    uint64_t swap_used;  /**< physmem: swap ids it holds */
    uint64_t reserved[2];
};

/** Take control of the memory policy (SPEC §4): *CONTROL gets the control
 *  capability, a handle in CALLER's table like a container's (using it as
 *  a container is EBADF, and the other way round).  Succeeds once in the
 *  life of physmem: first come, first served ends, every task's record
 *  holding its current A and G = 0 until the server writes one.  The
 *  buffer's memory comes out of the pool (one page to start with).
 *  Returns 0; ESRCH; EINVAL (CONTROL NULL); EPERM (taken before); ENOMEM
 *  (no frame for the buffer). */
pm_error_t pm_get_control(pm_physmem_t *pm, l4_task_t caller, container_t *control);

/** Hand the control capability to REMOTE (a policy server replaced on a
 *  live system): CALLER's handle stops working (EBADF), *OUT gets
 *  REMOTE's, and the buffer's mappings in CALLER's space go.
 *  Returns 0; ESRCH; EINVAL (OUT NULL); EBADF (CONTROL is not CALLER's
 *  control capability). */
pm_error_t pm_control_give(pm_physmem_t *pm, l4_task_t caller, container_t control,
                           l4_task_t remote, container_t *out);

/** Map the policy buffer read-write into CALLER's space at VADDR (page
 *  aligned; the buffer needs *BYTES of room there, and twice that once it
 *  grows).  *BYTES gets its size.  Call again after an access to it
 *  faults.  Returns 0; ESRCH; EINVAL (VADDR unaligned, or the buffer would
 *  not fit below the top of the address space); EBADF (not the control
 *  capability). */
pm_error_t pm_get_policy_buffer(pm_physmem_t *pm, l4_task_t caller, container_t control,
                                uint64_t vaddr, uint64_t *bytes);

/* ---- reclaim and exile (§5) ------------------------------------------------- */

/** The upcall physmem sends a task's memory control thread (SPEC §5.1):
 *  label PM_LABEL_RETURN_FRAMES, untyped words: the count asked for, the
 *  deadline (simulated ns).  The task must deallocate that many frames
 *  (CONT_DEALLOC_SOFT leaves soft references) before the deadline. */
#define PM_LABEL_RETURN_FRAMES 0x5246u /* "RF" */

/** What a pm_pressure did.  "Free" frames are those physmem could take
 *  without breaking a promise: free in the pool and not owed to allocated
 *  virtual frames that are not bound yet (the smaller of the two). */
struct pm_pressure_result {
    uint64_t free_before;      /**< free frames before */
    uint64_t soft_taken;       /**< frames taken from soft references (their data lost) */
    uint64_t inactive_dropped; /**< clean frames of the swap inactive list dropped */
    uint64_t flushed;          /**< inactive frames written to swap, then dropped */
    uint64_t upcalls;          /**< pm_return_frames sent */
    uint64_t asked;            /**< frames they asked for */
    uint64_t exiled;           /**< tasks exiled at once (not ready to receive) */
    uint64_t free_after;       /**< free frames after */
};

/** The free frames, as pm_pressure counts them: free in the pool and not
 *  owed to allocated virtual frames that are not bound yet. */
uint64_t pm_free_frames(const pm_physmem_t *pm);

/** Physmem needs FRAMES free physical frames now (SPEC §5.1; the scenario
 *  step `pressure`): it frees frames that only soft references hold, then
 *  clean frames of the swap inactive list, then flushes dirty ones to the
 *  swap device, and asks victims for what is still missing with upcalls
 *  (no more than each one's E; never guaranteed frames).  It does not wait
 *  for the answers and keeps nothing: the frames it freed stay in the pool.
 *  *OUT (optional) says what it did.  Returns 0 (a shortfall is no error:
 *  the upcalls are out); EIO or ENOSPC when a swap write failed (what was
 *  written stays written, the rest stays in memory). */
pm_error_t pm_pressure(pm_physmem_t *pm, uint64_t frames, struct pm_pressure_result *out);

/** Catch up with the clock and the policy server: read the policy buffer
 *  if its epoch moved, and enforce the deadlines (SPEC §5.2): every task
 *  that still owes frames past its deadline is exiled.  Physmem does this
 *  itself at the start of every call; a simulation calls it when its clock
 *  moves.  Returns the number of tasks exiled. */
uint64_t pm_physmem_tick(pm_physmem_t *pm);

/** Exile TASK now (SPEC §5.2): every frame of every container it owns is
 *  dropped, data and soft references included, not swapped (logical copies
 *  other tasks took survive); the mappings of them go everywhere; its swap
 *  identifiers are dropped.  Its containers and capabilities stay, empty,
 *  so a task that mends its ways can allocate again.  Returns 0 or ESRCH. */
pm_error_t pm_task_exile(pm_physmem_t *pm, l4_task_t task);

/** Victim policies (SPEC §5.1: pluggable).  A policy orders the tasks with
 *  extra frames; physmem asks them in that order, each for at most its E
 *  (less what it already owes), until the shortfall is covered. */
struct pm_victim {
    l4_task_t task;
    uint64_t extra; /**< E, less what it owes already */
    uint64_t allocated, guaranteed;
    uint64_t age; /**< order in which the task became known (0 first) */
};
struct pm_victim_policy {
    const char *name;
    const char *summary;
    /** Order V[0..N) in place, first asked first.  Ties must be broken
     *  deterministically (by age). */
    void (*order)(struct pm_victim *v, size_t n);
    /** How much to ask of V given SHORTFALL frames still missing (at most
     *  V->extra; 0 skips it).  NULL: min(extra, shortfall). */
    uint64_t (*ask)(const struct pm_victim *v, uint64_t shortfall, uint64_t total_extra);
};
/** The registered victim policies, NULL-terminated ("most-extra" first). */
const struct pm_victim_policy *const *pm_victim_policies(void);
/** The policy called NAME, or NULL. */
const struct pm_victim_policy *pm_victim_policy_find(const char *name);

/* ---- swap (§7) ---------------------------------------------------------------- */

/** A swap identifier: local to the task that holds it, used once. */
typedef uint64_t pm_swap_id_t;

/** The swap device: SLOTS page-sized slots.  WRITE and READ move one page
 *  (LEN bytes) to or from slot SLOT and return 0, EIO (a failed or short
 *  transfer) or ENOSPC (the device is full).  sim/ implements it over a
 *  real file. */
struct pm_swap_dev {
    uint64_t slots;
    void *ctx;
    pm_error_t (*write)(void *ctx, uint64_t slot, const void *page, size_t len);
    pm_error_t (*read)(void *ctx, uint64_t slot, void *page, size_t len);
};

/** Swap out frames START … START + COUNT − 1 of C (SPEC §7): their contents
 *  go to swap, the identifiers become empty (the frames leave A), and
 *  IDS[i] gets frame START + i's swap identifier.  The data goes first to
 *  the inactive list (still in memory, no I/O); physmem writes it to the
 *  device when it needs the frames (pm_pressure, pm_swap_flush).  A
 *  physical frame that several logical copies share is one swap entry,
 *  written once however many of them are swapped.  Full capability only;
 *  all or nothing.  Returns 0; ESRCH; EINVAL (count 0, past 2^32, IDS
 *  NULL); EBADF; EPERM (weak); EBUSY (locked); ENOENT (an identifier
 *  without a frame); EDQUOT (over the task's quota); ENOSPC (no device, or
 *  no free slot for the data); ENOMEM (no host memory for the entries and
 *  identifiers). */
pm_error_t pm_swap(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start, uint32_t count,
                   pm_swap_id_t *ids);

/** Bring swap entry ID back into frame F of C (allocated already; its old
 *  contents go) without I/O: only while the data is still in memory (on
 *  the inactive list).  ID is used up.  Weak capabilities may (copy into).
 *  Returns 0; ESRCH; EBADF (C, or ID not one of CALLER's); EBUSY; ENOENT
 *  (no frame at F); ESTALE (the data is on the device only: use
 *  pm_swap_in; ID stays valid); ENOMEM (no host memory). */
pm_error_t pm_swap_recover(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, container_t c,
                           frame_t f);

/** Read swap entry ID into frame F of C: from memory when it is still on
 *  the inactive list, else from the device into a fresh physical frame.
 *  ID is used up.  Returns as pm_swap_recover, without ESTALE; EIO (the
 *  read failed: nothing changed, ID stays valid); ENOMEM. */
pm_error_t pm_swap_in(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, container_t c,
                      frame_t f);

/** Drop swap entry ID unread.  Returns 0; ESRCH; EBADF. */
pm_error_t pm_swap_discard(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id);

/** Write up to MAX dirty inactive entries to the device, oldest first
 *  (they stay in memory, now clean); *WRITTEN (optional) gets how many.
 *  Returns 0; EIO or ENOSPC from the device (the failing entry and those
 *  after it stay dirty, in memory). */
pm_error_t pm_swap_flush(pm_physmem_t *pm, uint64_t max, uint64_t *written);

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
 * without EXTRA, no memory; with PARTIAL the first k are allocated); with DMA, EIO or ENOSPC
 * (a frame could only come from the swap inactive list and writing it failed: nothing done).
 * On every error *COUNT is 0, except k for a PARTIAL shortfall. */
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
 *  mapped, *COUNT untouched); ENOMEM; EIO or ENOSPC (a frame to bind could
 *  only come from the swap inactive list and writing it failed: nothing
 *  changed). */
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
 *  missing frame: nothing done); ENOMEM (no host memory). */
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

/** What a capability holder may know of a container. */
struct pm_container_info {
    l4_task_t owner; /**< the task whose A its frames count against */
    bool weak;       /**< the caller's capability is weak */
    uint64_t frames; /**< frames in it (soft references not counted) */
    uint64_t soft;   /**< soft references in it */
    bool locked;     /**< a lease holds */
    uint32_t id;     /**< the container's number: the same through every
                      *   capability (what events call it) */
};

/** Describe C (through CALLER's capability) into *OUT.
 *  Returns 0; ESRCH; EBADF. */
pm_error_t pm_container_info(const pm_physmem_t *pm, l4_task_t caller, container_t c,
                             struct pm_container_info *out);

/** The first identifier at or after FROM that names a frame (soft
 *  references skipped) into *OUT: how a task walks its container.
 *  Returns 0; ESRCH; EBADF; ENOENT (none). */
pm_error_t pm_container_next(const pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t from,
                             frame_t *out);

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
    uint64_t policy_violations;  /**< over-commits found in the policy buffer */
    uint64_t buffer_resizes;     /**< times the policy buffer grew */
    uint64_t pressure_calls;     /**< pm_pressure calls */
    uint64_t reclaim_upcalls;    /**< pm_return_frames upcalls sent */
    uint64_t frames_asked;       /**< frames those upcalls asked for */
    uint64_t exiles;             /**< tasks exiled */
    uint64_t frames_exiled;      /**< frames dropped by exiles */
    uint64_t swap_outs;          /**< frames swapped out (pm_swap) */
    uint64_t swap_shared;        /**< of those, frames whose data another entry held already */
    uint64_t swap_writes;        /**< pages written to the swap device */
    uint64_t swap_reads;         /**< pages read from it */
    uint64_t swap_recovered;     /**< entries brought back from memory (no I/O) */
    uint64_t swap_errors;        /**< device reads and writes that failed */
    uint64_t inactive_dropped;   /**< inactive frames freed after their data was written */
    uint64_t swap_inactive;      /**< now: entries whose data is in memory (inactive list) */
    uint64_t swap_dirty;         /**< now: of those, not yet written */
    uint64_t swap_slots_used;    /**< now: device slots in use */
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
    PM_EV_COPY,      /**< frames copied: container (source), frame, to_container, to_frame, count */
    PM_EV_MOVE,      /**< frames moved (CONT_COPY_MOVE): as for copy */
    PM_EV_RELEASE,   /**< release_data: container, frame, count */
    PM_EV_SOFT_LOST, /**< a soft-only frame taken back: pfn, count (references) */
    PM_EV_OVERCOMMIT,    /**< ΣG over what is available: count (ΣG), to_frame (available) */
    PM_EV_RETURN_FRAMES, /**< an upcall: task (the victim), count, vaddr (the deadline) */
    PM_EV_EXILE,         /**< a task exiled: task, count (frames dropped) */
    PM_EV_SWAP_OUT,      /**< frames swapped out: container, frame, count */
    PM_EV_SWAP_WRITE,    /**< a swap entry written: pfn, vaddr (the slot) */
    PM_EV_SWAP_IN, /**< an entry brought back: container, frame, count (1: read from the device) */
    PM_EV_SWAP_ERROR, /**< a device transfer failed: count (the error), vaddr (the slot) */
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
