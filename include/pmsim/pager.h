/* pager.h — the default self-pager (SPEC §8): the task side of the model.
 *
 * A pager is a library in the task: a thread of the task receives its page
 * faults (it is the other threads' L4 pager), and it keeps a mapping
 * database — virtual ranges made with pm_pager_mmap, and for each page of
 * them where its data is: nowhere yet (zero-fill), in a frame of the task's
 * primary container, or in swap.  It multiplexes a fixed number of data
 * frames (by default the task's guaranteed frames G): a fault with no frame
 * free picks a victim with a pluggable eviction policy, sends precious
 * (written) data to swap with pm_swap or drops clean (never written) data
 * with pm_release_data, and reuses the frame.  Pages are mapped read-only
 * until written, so the pager knows which are precious.
 *
 * References.  Physmem's mappings make hits invisible to the pager, as
 * hardware does without accessed bits; the simulation stands for those bits
 * by driving the task's accesses through the pager (pm_pager_access,
 * pm_pager_ref), which tells the eviction policy of every reference, hit or
 * miss.  That is what lets LRU and OPT be exact, and textbook miss counts
 * come out right.
 *
 * Eviction policies are plug-ins: an ops table, one file each, one registry
 * (pm_evict_policies).  Each sees slots (frame identifiers 0 … frames − 1)
 * only: inserted when a page comes in, touched on every reference, removed
 * when the page goes (munmap), and asked for a victim. */
#ifndef PMSIM_PAGER_H
#define PMSIM_PAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/l4.h"
#include "pmsim/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- eviction policies ------------------------------------------------------ */

/** Hints an application gives about a range (the "hint" policy uses them;
 *  the others ignore them). */
enum pm_evict_hint {
    PM_HINT_NORMAL = 0,
    PM_HINT_DONTNEED = 1, /**< evict these first */
    PM_HINT_WILLNEED = 2, /**< evict these last */
};

/** What a policy may ask the pager about a slot. */
struct pm_evict_view {
    void *ctx;
    /** The position in the reference string of the slot's page's next
     *  reference (UINT64_MAX: never again, or the future is not known). */
    uint64_t (*next_use)(void *ctx, uint32_t slot);
    /** The hint last given for the slot's page. */
    enum pm_evict_hint (*hint)(void *ctx, uint32_t slot);
};

struct pm_evict_policy {
    const char *name;
    const char *summary;
    /** State for SLOTS slots (they may grow: see grow). */
    void *(*create)(uint32_t slots, const struct pm_evict_view *view);
    void (*destroy)(void *st);
    /** Room for SLOTS slots now (more than before). */
    void (*grow)(void *st, uint32_t slots);
    /** A page came into SLOT (it is referenced too). */
    void (*insert)(void *st, uint32_t slot);
    /** SLOT's page was referenced. */
    void (*touch)(void *st, uint32_t slot);
    /** SLOT's page went (munmap, or it was evicted). */
    void (*remove)(void *st, uint32_t slot);
    /** Pick the slot to evict among the inserted ones (there is one). */
    uint32_t (*victim)(void *st);
    /** True when the policy needs the future (pm_pager_set_future). */
    bool needs_future;
};

/** The registered policies, NULL-terminated: fifo, lru, clock, hint, opt. */
const struct pm_evict_policy *const *pm_evict_policies(void);
/** The policy called NAME, or NULL. */
const struct pm_evict_policy *pm_evict_policy_find(const char *name);

/* ---- the pager -------------------------------------------------------------- */

typedef struct pm_pager pm_pager_t;

struct pm_pager_config {
    pm_physmem_t *pm;
    l4_kernel_t *k;
    /** The task's thread whose accesses the pager serves and that makes
     *  physmem calls.  Its L4 pager must be PAGER_THREAD. */
    l4_thread_t thread;
    /** A thread of the same task that receives the faults: its message
     *  handler must be pm_pager_on_fault with the pager as context (setting
     *  threads up is the simulation's business, l4sim.h). */
    l4_thread_t pager_thread;
    /** An eviction policy's name; NULL: "lru". */
    const char *policy;
    /** Data frames to multiplex; 0: the task's G (pm_task_info), followed
     *  as it changes (read at every fault), or, with no guarantee (first
     *  come, first served), as many as physmem gives. */
    uint64_t frames;
    /** Use extra frames (past FRAMES, CONT_ALLOC_EXTRA) for clean pages —
     *  zeros that were only read, which can be remade at no cost — instead
     *  of evicting (SPEC §8).  Physmem may demand them back at any moment:
     *  pm_pager_return. */
    bool extra;
    /** The final pager (SPEC §8): the pager's database — a 32-byte record
     *  per page of its ranges, in record pages of pm_pager_record_page()
     *  bytes — is paged by a small final pager holding at most
     *  FINAL_FRAMES of them in memory (0: PM_PAGER_FINAL_FRAMES), least
     *  recently used out to FINAL_BACKING (slots of a record page; NULL:
     *  none, and nothing is paged out).  Its frames are the pager's own
     *  memory, counted apart (own_frames), never the task's data frames. */
    uint32_t final_frames;
    const struct pm_swap_dev *final_backing;
};

/** The final pager's frames by default: 32 pages of records, the records
 *  of 16 MiB of ranges at 4 KiB pages. */
#define PM_PAGER_FINAL_FRAMES 32u

/** The size of a page of records for a machine of PAGE_SIZE pages: the
 *  page size, at most 64 KiB (huge pages would make the final pager's
 *  frames huge for nothing). */
static inline size_t pm_pager_record_page(size_t page_size)
{
    return page_size < 65536 ? page_size : 65536;
}

/** Start a pager (its primary container is made at the first mmap).
 *  Returns 0; EINVAL (unknown policy, threads of different tasks, NULL);
 *  ESRCH (a task physmem does not know); ENOMEM. */
pm_error_t pm_pager_new(const struct pm_pager_config *cfg, pm_pager_t **out);

/** Stop it: its container is destroyed (its swap identifiers dropped).
 *  Remove pm_pager_on_fault from the pager thread first.  NULL is a no-op. */
void pm_pager_free(pm_pager_t *p);

/** The pager thread's message handler (an l4_handler_fn, CTX the pager):
 *  resolves a page fault, or fails it with EFAULT (outside every range),
 *  ENOMEM (no frame can be had), or the error of the swap device. */
pm_error_t pm_pager_on_fault(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                             const l4_msg_t *msg, l4_msg_t *reply);

/** Map [VADDR, VADDR + LEN) as anonymous zero-fill memory (a database
 *  entry only: data comes on fault).  Page-aligned, non-empty, not
 *  overlapping another range.  Returns 0; EINVAL; EEXIST (overlap). */
pm_error_t pm_pager_mmap(pm_pager_t *p, uint64_t vaddr, uint64_t len);

/** Where a file-backed range's data comes from: FETCH fills frame F of
 *  container C (the pager's primary container, as the task names it) with
 *  the page of the file at byte OFFSET — in the simulation, by the
 *  container protocol with a file server (SPEC §9.1).  Returns 0 or the
 *  error that fails the fault. */
struct pm_pager_source {
    void *ctx;
    pm_error_t (*fetch)(void *ctx, uint64_t offset, container_t c, frame_t f);
};

/** Map [VADDR, VADDR + LEN) to a file from byte OFFSET (page aligned):
 *  pages come from SRC (copied) on fault, clean — a clean file page is
 *  dropped when evicted, and may sit in an extra frame — and become
 *  precious when written (a private mapping: writes do not reach the
 *  file).  Returns as pm_pager_mmap; EINVAL (no SRC, OFFSET unaligned). */
pm_error_t pm_pager_mmap_file(pm_pager_t *p, uint64_t vaddr, uint64_t len,
                              const struct pm_pager_source *src, uint64_t offset);

/** Map [VADDR, VADDR + LEN) eagerly to data the caller already has in a
 *  container (SPEC §8: just read from a server): frames START … of C (the
 *  task's handle) are logically copied into the pager's own frames (no
 *  byte moves; copy-on-write) and mapped at once, read-only until written.
 *  The range is anonymous from then on, its pages precious (swapped when
 *  evicted: the pager cannot remake them); more pages than frames evict
 *  the first ones as usual.  C is left as it was.  All or nothing: on an
 *  error the range is gone again.  Returns as pm_pager_mmap; EINVAL (no
 *  C, identifiers past 2^32); and the errors of pm_container_copy (ENOENT:
 *  a frame missing in C; EBADF) or of getting frames (ENOMEM). */
pm_error_t pm_pager_mmap_eager(pm_pager_t *p, uint64_t vaddr, uint64_t len, container_t c,
                               frame_t start);

/** Drop the pages of [VADDR, VADDR + LEN), which must be whole ranges made
 *  by pm_pager_mmap: frames go back, swap identifiers are discarded.
 *  Returns 0; EINVAL (unaligned, or not whole ranges); ENOENT (nothing
 *  mapped there). */
pm_error_t pm_pager_munmap(pm_pager_t *p, uint64_t vaddr, uint64_t len);

/** True when [VADDR, VADDR + LEN) lies within the pager's ranges. */
bool pm_pager_covers(pm_pager_t *p, uint64_t vaddr, uint64_t len);

/** True when the eviction policy wants the future (pm_pager_set_future). */
bool pm_pager_wants_future(const pm_pager_t *p);

/** Give HINT for the pages of [VADDR, VADDR + LEN).  Returns 0 or EINVAL. */
pm_error_t pm_pager_hint(pm_pager_t *p, uint64_t vaddr, uint64_t len, enum pm_evict_hint hint);

/** A simulated access by the task (l4_access), faults resolved by the
 *  pager, every page referenced told to the policy.  Returns what
 *  l4_access returns. */
pm_error_t pm_pager_access(pm_pager_t *p, enum l4_access_kind kind, uint64_t vaddr, void *buf,
                           size_t len, size_t *done);

/** One reference at VADDR (a one-byte load, or a store that changes
 *  nothing: L4_ACCESS_TOUCH, one fault at most): the unit of access
 *  streams and traces.  Returns as pm_pager_access. */
pm_error_t pm_pager_ref(pm_pager_t *p, uint64_t vaddr, bool write);

/** The reference string that follows (virtual page numbers, one per
 *  pm_pager_ref from now on), for policies that need the future (OPT).
 *  The array is copied. */
void pm_pager_set_future(pm_pager_t *p, const uint64_t *vpages, size_t n);

/** Physmem asks for COUNT frames back (pm_return_frames): the pager gives
 *  back frames of clean pages first (dropped, no swap: they are zeros to
 *  remake), then, if it must, precious ones by swapping them out; the
 *  frames are deallocated, so A goes down.  Returns the frames given. */
uint64_t pm_pager_return(pm_pager_t *p, uint64_t count);

/** Lend N of the pager's frames to the task's other containers (SPEC §8:
 *  short-lived I/O containers whose frames come out of the task's G): the
 *  pager's limit goes down by N, and pages it holds beyond the new limit
 *  are evicted (clean dropped, precious swapped) and their frames
 *  deallocated, so that an allocation elsewhere finds room in G.  Returns
 *  how many it lent (fewer when its limit is smaller). */
uint64_t pm_pager_lend(pm_pager_t *p, uint64_t n);

/** Give up one frame now, the eviction policy's victim (clean dropped,
 *  precious swapped), its frame deallocated: room in G for a moment, for
 *  an I/O container's frame while a fault is being resolved (the pager
 *  takes a frame again at a later fault).  May be called from a
 *  pm_pager_source's fetch.  True when a frame was given up. */
bool pm_pager_give_one(pm_pager_t *p);

/** Take back N frames lent before (the I/O container was destroyed). */
void pm_pager_take_back(pm_pager_t *p, uint64_t n);

struct pm_pager_stats {
    uint64_t frames;       /**< data frames it multiplexes (0: no limit) */
    uint64_t resident;     /**< pages in frames now */
    uint64_t refs;         /**< references told to the policy */
    uint64_t hits, misses; /**< references that found the page resident, or not */
    uint64_t faults;       /**< faults it resolved */
    uint64_t refused;      /**< faults it could not (outside every range, no memory) */
    uint64_t zero_fills;   /**< pages that came in as zeros */
    uint64_t evictions;    /**< pages evicted */
    uint64_t swap_outs;    /**< of those, written to swap (precious) */
    uint64_t drops;        /**< of those, dropped (clean) */
    uint64_t swap_ins;     /**< pages brought back from swap */
    uint64_t file_reads;   /**< pages brought in from a file */
    uint64_t extra;        /**< pages in extra frames now (past FRAMES) */
    uint64_t returned;     /**< frames given back to pm_return_frames */
    uint64_t lent;         /**< frames lent out now (pm_pager_lend) */
    uint64_t own_frames;   /**< frames its own memory takes now (counted
                            *   apart: never out of the data frames): the
                            *   database pages in memory, and the slot
                            *   table and range tables, always in memory */
    uint64_t final_frames; /**< the final pager's budget (0: no backing, no
                            *   paging of the database) */
    uint64_t db_resident;  /**< database pages in memory now */
    uint64_t db_stored;    /**< database pages on the backing now */
    uint64_t db_faults;    /**< database pages brought in (made or read) */
    uint64_t db_reads;     /**< of those, read from the backing */
    uint64_t db_writes;    /**< database pages written to the backing */
};

void pm_pager_stats(const pm_pager_t *p, struct pm_pager_stats *out);

/** Catch up with physmem now rather than at the next fault: follow G (a
 *  pager multiplexing all of G) and notice frames an exile took (their
 *  pages read zero again).  So the figures of pm_pager_stats are current. */
void pm_pager_refresh(pm_pager_t *p);

/** The pager's primary container (the task's handle). */
container_t pm_pager_container(const pm_pager_t *p);

#ifdef __cplusplus
}
#endif
#endif
