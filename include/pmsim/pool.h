/* pool.h — the frame pool: the simulated machine's physical memory.
 *
 * One region of real host memory, mapped once and cut into physical frames of
 * the page size P.  Physmem owns it; nobody else allocates from it.  Frames
 * are handed out as naturally aligned power-of-two runs (a buddy allocator),
 * so that large fpages can be sent for them.  The first `dma_frames` frames
 * form the DMA zone: they are used only when asked for, or when nothing else
 * is left.
 *
 * Host memory: the region is reserved with MAP_NORESERVE, so a frame costs no
 * resident memory until it is touched.  Released frames give their memory
 * back to the host (madvise MADV_DONTNEED, or a hole punched in the memfd),
 * but lazily: up to `retain_frames` released frames keep their memory (and
 * bytes) so that the next allocations reuse them without a host page fault;
 * past that bound all of them are given back at once, in as few calls as
 * their runs allow.  pm_pool_trim() gives them back now.
 *
 * A pool is not thread-safe: one caller at a time. */
#ifndef PMSIM_POOL_H
#define PMSIM_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/error.h"
#include "pmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_pool pm_pool_t;

/** Where the pool's bytes live. */
enum pm_pool_backing {
    /** Private anonymous memory (the default). */
    PM_POOL_ANON = 0,
    /** A memfd mapped shared, so that the same bytes can be mapped again
     *  elsewhere (the host-MMU back end, SPEC §9.3). */
    PM_POOL_MEMFD = 1,
};

/** The largest order the pool hands out: runs of up to 2^31 frames. */
#define PM_POOL_MAX_ORDER 31

/** Default bound on released frames that keep their memory (16 MiB of 4 KiB frames). */
#define PM_POOL_DEFAULT_RETAIN 4096

struct pm_pool_config {
    /** P, the page and frame size in bytes: a power of two, at least 4096. */
    size_t page_size;
    /** Number of physical frames; at least 1. */
    uint32_t frames;
    /** Frames at the start of the pool that form the DMA zone; at most `frames`. */
    uint32_t dma_frames;
    /** Released frames that may keep their memory (and contents) for quick
     *  reuse before it goes back to the host; 0 gives every released frame
     *  back at once. */
    uint32_t retain_frames;
    enum pm_pool_backing backing;
};

/** Allocation flags. */
enum {
    /** Take the frames from the DMA zone only. */
    PM_POOL_DMA = 1u << 0,
    /** The frames must read as zero (retained frames are cleared). */
    PM_POOL_ZERO = 1u << 1,
    /** Hand the run out as 2^order single frames, each released on its own
     *  with order 0 (an aligned run for one large fpage, whose frames then
     *  live separate lives). */
    PM_POOL_SPLIT = 1u << 2,
};

/** Statistics, read into a struct the caller owns (pm_pool_stats). */
struct pm_pool_stats {
    uint64_t frames;         /**< physical frames in the pool */
    uint64_t page_size;      /**< P in bytes */
    uint64_t free;           /**< free frames (retained ones included) */
    uint64_t bound;          /**< frames handed out (bound to virtual frames) */
    uint64_t dma_frames;     /**< frames in the DMA zone */
    uint64_t dma_free;       /**< free frames in the DMA zone */
    uint64_t retained;       /**< free frames still holding their host memory */
    uint64_t largest_free;   /**< frames in the largest free naturally aligned run */
    uint64_t allocs;         /**< successful pm_pool_alloc calls */
    uint64_t releases;       /**< successful pm_pool_release calls */
    uint64_t moves;          /**< successful pm_pool_move calls */
    uint64_t bytes_moved;    /**< bytes copied by moves */
    uint64_t host_releases;  /**< madvise/hole-punch calls giving memory back */
    uint64_t alloc_failures; /**< allocations refused with ENOMEM */
};

/** Create a pool.  Copies *CFG.  On success stores the pool in *OUT.
 *  Returns 0; EINVAL (page size not a power of two ≥ 4096, no frames, more
 *  DMA frames than frames, a pool larger than the address space); ENOMEM
 *  (the host refused the memory).  On failure *OUT is untouched. */
pm_error_t pm_pool_new(const struct pm_pool_config *cfg, pm_pool_t **out);

/** Destroy a pool and unmap its memory.  NULL is a no-op. */
void pm_pool_free(pm_pool_t *pool);

/** Allocate a naturally aligned run of 2^ORDER frames and store its first
 *  frame in *OUT.  FLAGS: PM_POOL_DMA, PM_POOL_ZERO.  Without PM_POOL_DMA
 *  the DMA zone is used only when the rest of the pool cannot serve.
 *  Contents are undefined unless PM_POOL_ZERO is given.  O(log n).
 *  Returns 0; EINVAL (ORDER > PM_POOL_MAX_ORDER, unknown flag); ENOMEM (no
 *  free run that large).  On failure *OUT is untouched. */
pm_error_t pm_pool_alloc(pm_pool_t *pool, unsigned order, unsigned flags, pm_pfn_t *out);

/** Release the run of 2^ORDER frames starting at PFN, as it was allocated.
 *  Returns 0, or EINVAL when PFN is not the start of an allocated run of
 *  that order (nothing changes then). */
pm_error_t pm_pool_release(pm_pool_t *pool, pm_pfn_t pfn, unsigned order);

/** Move the allocated run of 2^ORDER frames at FROM: allocate another run
 *  (FLAGS as for pm_pool_alloc, PM_POOL_ZERO excepted), copy the bytes,
 *  release FROM, and store the new run's first frame in *TO.  The caller
 *  unmaps the old frames first; the pool does not know about mappings.
 *  Returns 0; EINVAL (FROM is not an allocated run of that order, bad
 *  flags); ENOMEM (no free run: FROM is kept and *TO untouched). */
pm_error_t pm_pool_move(pm_pool_t *pool, pm_pfn_t from, unsigned order, unsigned flags,
                        pm_pfn_t *to);

/** The bytes of frame PFN (P bytes), or NULL when PFN is outside the pool. */
void *pm_pool_frame(const pm_pool_t *pool, pm_pfn_t pfn);

/** The first byte of the pool: frame N starts at base + N × P. */
void *pm_pool_base(const pm_pool_t *pool);

/** The page size P in bytes, and log2 of it. */
size_t pm_pool_page_size(const pm_pool_t *pool);
unsigned pm_pool_page_shift(const pm_pool_t *pool);

/** The number of physical frames. */
uint32_t pm_pool_frames(const pm_pool_t *pool);

/** The memfd behind a PM_POOL_MEMFD pool (owned by the pool), or -1. */
int pm_pool_memfd(const pm_pool_t *pool);

/** True when PFN lies inside a run that is currently allocated. */
bool pm_pool_is_bound(const pm_pool_t *pool, pm_pfn_t pfn);

/** Give the memory of every retained free frame back to the host now. */
void pm_pool_trim(pm_pool_t *pool);

/** Read the statistics into *OUT (which the caller owns). */
void pm_pool_stats(const pm_pool_t *pool, struct pm_pool_stats *out);

#ifdef __cplusplus
}
#endif
#endif
