/* pool.c — the frame pool: real host memory cut into physical frames.
 *
 * A binary buddy allocator over two zones, the DMA zone [0, dma_frames) and
 * the rest [dma_frames, frames).  Runs never cross the zone boundary and are
 * naturally aligned in absolute frame numbers, so a run of 2^k frames can be
 * sent as one fpage.  Bookkeeping lives beside the memory, never in it (the
 * frames' bytes belong to the simulated machine, and touching them would cost
 * host RSS): one state byte and two free-list links per frame, nine bytes in
 * all.  Allocation finds the smallest non-empty order with one bit scan and
 * splits down; release merges with free buddies upwards; both O(log n).
 *
 * Giving memory back costs a system call, so released single frames first go
 * to a small LIFO cache that the next single-frame allocations take from (the
 * common allocate/free churn never reaches the kernel).  When the cache is
 * full its older half goes back to the buddy lists, each frame's memory
 * returned to the host; pm_pool_trim() empties it.  Frames in the buddy
 * lists therefore always read as zero, and only cached frames need clearing
 * for PM_POOL_ZERO. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <fcntl.h>

#include "pmsim/pool.h"

#define NIL UINT32_MAX

/* state[] values.  A head of a run carries its order in the low six bits. */
#define ST_INTERIOR 0x00 /* inside a run, not its first frame */
#define ST_FREE 0x40     /* first frame of a free run in the buddy lists */
#define ST_ALLOC 0x80    /* first frame of an allocated run */
#define ST_CACHED 0xC0   /* a free single frame in the reuse cache */
#define ST_KIND(s) ((s)&0xC0)
#define ST_ORDER(s) ((unsigned)((s)&0x3F))

enum { ZONE_DMA = 0, ZONE_NORMAL = 1, NZONES = 2 };

struct zone {
    uint32_t start, end;                 /* frames [start, end) */
    uint32_t head[PM_POOL_MAX_ORDER + 1]; /* free lists by order */
    uint64_t nonempty;                   /* bit k set: head[k] != NIL */
    uint64_t free;                       /* free frames in the buddy lists */
};

struct pm_pool {
    unsigned char *base;
    size_t page_size;
    unsigned shift;
    uint32_t frames;
    int memfd;
    struct zone zone[NZONES];
    uint8_t *state;
    uint32_t *next, *prev; /* free-list links, valid for ST_FREE heads */
    uint32_t *cache;       /* LIFO of cached frames */
    uint32_t cache_len, cache_cap;
    struct pm_pool_stats st; /* counters; the gauges are computed on read */
};

static int zone_of(const pm_pool_t *p, uint32_t pfn)
{
    return pfn < p->zone[ZONE_NORMAL].start ? ZONE_DMA : ZONE_NORMAL;
}

/* Give the bytes of frames [pfn, pfn + n) back to the host; they read as
 * zero afterwards. */
static void host_release(pm_pool_t *p, uint32_t pfn, uint64_t n)
{
    size_t off = (size_t)pfn << p->shift, len = (size_t)n << p->shift;
    if (p->memfd >= 0)
        (void)fallocate(p->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                        (off_t)len);
    else
        (void)madvise(p->base + off, len, MADV_DONTNEED);
    p->st.host_releases++;
}

static void list_push(pm_pool_t *p, struct zone *z, uint32_t pfn, unsigned order)
{
    uint32_t h = z->head[order];
    p->state[pfn] = (uint8_t)(ST_FREE | order);
    p->prev[pfn] = NIL;
    p->next[pfn] = h;
    if (h != NIL)
        p->prev[h] = pfn;
    z->head[order] = pfn;
    z->nonempty |= 1ull << order;
    z->free += 1ull << order;
}

static void list_remove(pm_pool_t *p, struct zone *z, uint32_t pfn, unsigned order)
{
    uint32_t n = p->next[pfn], pv = p->prev[pfn];
    if (pv != NIL)
        p->next[pv] = n;
    else
        z->head[order] = n;
    if (n != NIL)
        p->prev[n] = pv;
    if (z->head[order] == NIL)
        z->nonempty &= ~(1ull << order);
    p->state[pfn] = ST_INTERIOR;
    z->free -= 1ull << order;
}

/* Put the run [pfn, pfn + 2^order) into the buddy lists of its zone, merged
 * with free buddies.  The caller has already returned its memory. */
static void buddy_free(pm_pool_t *p, uint32_t pfn, unsigned order)
{
    int zi = zone_of(p, pfn);
    struct zone *z = &p->zone[zi];
    while (order < PM_POOL_MAX_ORDER) {
        uint64_t buddy = (uint64_t)pfn ^ (1ull << order);
        if (buddy < z->start || buddy + (1ull << order) > z->end)
            break;
        if (p->state[buddy] != (ST_FREE | order))
            break;
        list_remove(p, z, (uint32_t)buddy, order);
        if (buddy < pfn) {
            p->state[pfn] = ST_INTERIOR;
            pfn = (uint32_t)buddy;
        }
        order++;
    }
    list_push(p, z, pfn, order);
}

/* Take a run of 2^order frames from zone Z, splitting a larger one. */
static bool buddy_alloc(pm_pool_t *p, struct zone *z, unsigned order, uint32_t *out)
{
    uint64_t candidates = z->nonempty & ~((1ull << order) - 1);
    if (candidates == 0)
        return false;
    unsigned k = (unsigned)__builtin_ctzll(candidates);
    uint32_t pfn = z->head[k];
    list_remove(p, z, pfn, k);
    while (k > order) {
        k--;
        list_push(p, z, pfn + (1u << k), k);
    }
    p->state[pfn] = (uint8_t)(ST_ALLOC | order);
    *out = pfn;
    return true;
}

/* Return the older half of the cache (or all of it) to the buddy lists. */
static void cache_spill(pm_pool_t *p, uint32_t keep)
{
    uint32_t n = p->cache_len - keep;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pfn = p->cache[i];
        p->state[pfn] = ST_INTERIOR;
        host_release(p, pfn, 1);
        buddy_free(p, pfn, 0);
    }
    memmove(p->cache, p->cache + n, (size_t)keep * sizeof p->cache[0]);
    p->cache_len = keep;
}

static unsigned log2_exact(size_t v)
{
    return (unsigned)__builtin_ctzll((unsigned long long)v);
}

pm_error_t pm_pool_new(const struct pm_pool_config *cfg, pm_pool_t **out)
{
    if (cfg == NULL || out == NULL)
        return PM_EINVAL;
    size_t ps = cfg->page_size;
    if (ps < 4096 || (ps & (ps - 1)) != 0 || cfg->frames == 0 || cfg->frames == NIL ||
        cfg->dma_frames > cfg->frames)
        return PM_EINVAL;
    unsigned shift = log2_exact(ps);
    if (shift > 30 || (uint64_t)cfg->frames > (UINT64_MAX >> 1) >> shift ||
        (uint64_t)cfg->frames << shift > (uint64_t)SIZE_MAX / 2)
        return PM_EINVAL;
    if (cfg->backing != PM_POOL_ANON && cfg->backing != PM_POOL_MEMFD)
        return PM_EINVAL;

    pm_pool_t *p = calloc(1, sizeof *p);
    if (p == NULL)
        return PM_ENOMEM;
    p->page_size = ps;
    p->shift = shift;
    p->frames = cfg->frames;
    p->memfd = -1;
    p->cache_cap = cfg->cache_frames;
    size_t bytes = (size_t)cfg->frames << shift;

    p->state = calloc(cfg->frames, 1);
    p->next = malloc((size_t)cfg->frames * sizeof *p->next);
    p->prev = malloc((size_t)cfg->frames * sizeof *p->prev);
    p->cache = malloc(((size_t)p->cache_cap + 1) * sizeof *p->cache);
    if (p->state == NULL || p->next == NULL || p->prev == NULL || p->cache == NULL)
        goto nomem;

    if (cfg->backing == PM_POOL_MEMFD) {
        p->memfd = memfd_create("pmsim-pool", MFD_CLOEXEC);
        if (p->memfd < 0 || ftruncate(p->memfd, (off_t)bytes) != 0)
            goto nomem;
        p->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, p->memfd,
                       0);
    } else {
        p->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    }
    if (p->base == MAP_FAILED) {
        p->base = NULL;
        goto nomem;
    }

    p->zone[ZONE_DMA].start = 0;
    p->zone[ZONE_DMA].end = cfg->dma_frames;
    p->zone[ZONE_NORMAL].start = cfg->dma_frames;
    p->zone[ZONE_NORMAL].end = cfg->frames;
    for (int zi = 0; zi < NZONES; zi++) {
        struct zone *z = &p->zone[zi];
        for (unsigned k = 0; k <= PM_POOL_MAX_ORDER; k++)
            z->head[k] = NIL;
        /* Carve the zone into maximal naturally aligned runs. */
        uint64_t pfn = z->start;
        while (pfn < z->end) {
            unsigned k = pfn == 0 ? PM_POOL_MAX_ORDER : (unsigned)__builtin_ctzll(pfn);
            if (k > PM_POOL_MAX_ORDER)
                k = PM_POOL_MAX_ORDER;
            while (pfn + (1ull << k) > z->end)
                k--;
            list_push(p, z, (uint32_t)pfn, k);
            pfn += 1ull << k;
        }
    }
    p->st.frames = cfg->frames;
    p->st.page_size = ps;
    p->st.dma_frames = cfg->dma_frames;
    *out = p;
    return PM_OK;

nomem:
    pm_pool_free(p);
    return PM_ENOMEM;
}

void pm_pool_free(pm_pool_t *pool)
{
    if (pool == NULL)
        return;
    if (pool->base != NULL)
        munmap(pool->base, (size_t)pool->frames << pool->shift);
    if (pool->memfd >= 0)
        close(pool->memfd);
    free(pool->state);
    free(pool->next);
    free(pool->prev);
    free(pool->cache);
    free(pool);
}

/* The allocation itself, shared by alloc and move.  Cached frames serve
 * single-frame requests outside the DMA zone first. */
static bool take(pm_pool_t *p, unsigned order, unsigned flags, uint32_t *out, bool *dirty)
{
    *dirty = false;
    if (flags & PM_POOL_DMA)
        return buddy_alloc(p, &p->zone[ZONE_DMA], order, out);
    if (order == 0 && p->cache_len > 0) {
        uint32_t pfn = p->cache[--p->cache_len];
        p->state[pfn] = ST_ALLOC;
        *out = pfn;
        *dirty = true;
        return true;
    }
    return buddy_alloc(p, &p->zone[ZONE_NORMAL], order, out) ||
           buddy_alloc(p, &p->zone[ZONE_DMA], order, out);
}

pm_error_t pm_pool_alloc(pm_pool_t *pool, unsigned order, unsigned flags, pm_pfn_t *out)
{
    if (order > PM_POOL_MAX_ORDER || (flags & ~(unsigned)(PM_POOL_DMA | PM_POOL_ZERO)) != 0)
        return PM_EINVAL;
    uint32_t pfn;
    bool dirty;
    if (!take(pool, order, flags, &pfn, &dirty)) {
        pool->st.alloc_failures++;
        return PM_ENOMEM;
    }
    if (dirty && (flags & PM_POOL_ZERO))
        memset(pool->base + ((size_t)pfn << pool->shift), 0, pool->page_size);
    pool->st.allocs++;
    *out = PM_PFN(pfn);
    return PM_OK;
}

static bool is_alloc_head(const pm_pool_t *p, uint32_t pfn, unsigned order)
{
    return pfn < p->frames && order <= PM_POOL_MAX_ORDER && p->state[pfn] == (ST_ALLOC | order);
}

/* Release without the argument checks (done by the callers). */
static void give_back(pm_pool_t *p, uint32_t pfn, unsigned order)
{
    if (order == 0 && p->cache_cap > 0 && zone_of(p, pfn) == ZONE_NORMAL) {
        if (p->cache_len == p->cache_cap)
            cache_spill(p, p->cache_cap / 2);
        p->state[pfn] = ST_CACHED;
        p->cache[p->cache_len++] = pfn;
        return;
    }
    p->state[pfn] = ST_INTERIOR;
    host_release(p, pfn, 1ull << order);
    buddy_free(p, pfn, order);
}

pm_error_t pm_pool_release(pm_pool_t *pool, pm_pfn_t pfn, unsigned order)
{
    if (!is_alloc_head(pool, pfn.n, order))
        return PM_EINVAL;
    give_back(pool, pfn.n, order);
    pool->st.releases++;
    return PM_OK;
}

pm_error_t pm_pool_move(pm_pool_t *pool, pm_pfn_t from, unsigned order, unsigned flags,
                        pm_pfn_t *to)
{
    if (!is_alloc_head(pool, from.n, order) || (flags & ~(unsigned)PM_POOL_DMA) != 0)
        return PM_EINVAL;
    uint32_t pfn;
    bool dirty;
    if (!take(pool, order, flags, &pfn, &dirty)) {
        pool->st.alloc_failures++;
        return PM_ENOMEM;
    }
    size_t len = (size_t)1 << (order + pool->shift);
    memcpy(pool->base + ((size_t)pfn << pool->shift), pool->base + ((size_t)from.n << pool->shift),
           len);
    give_back(pool, from.n, order);
    pool->st.moves++;
    pool->st.bytes_moved += len;
    *to = PM_PFN(pfn);
    return PM_OK;
}

void *pm_pool_frame(const pm_pool_t *pool, pm_pfn_t pfn)
{
    if (pfn.n >= pool->frames)
        return NULL;
    return pool->base + ((size_t)pfn.n << pool->shift);
}

void *pm_pool_base(const pm_pool_t *pool) { return pool->base; }
size_t pm_pool_page_size(const pm_pool_t *pool) { return pool->page_size; }
unsigned pm_pool_page_shift(const pm_pool_t *pool) { return pool->shift; }
uint32_t pm_pool_frames(const pm_pool_t *pool) { return pool->frames; }
int pm_pool_memfd(const pm_pool_t *pool) { return pool->memfd; }

bool pm_pool_is_bound(const pm_pool_t *pool, pm_pfn_t pfn)
{
    if (pfn.n >= pool->frames)
        return false;
    /* Walk back to the head of the run that contains PFN: the nearest head
     * at or below it whose run reaches PFN.  Runs are aligned, so the head is
     * PFN with some low bits cleared. */
    for (unsigned k = 0; k <= PM_POOL_MAX_ORDER; k++) {
        uint32_t head = pfn.n & ~((1u << k) - 1);
        uint8_t s = pool->state[head];
        if (s != ST_INTERIOR)
            return ST_KIND(s) == ST_ALLOC && ST_ORDER(s) >= k;
        if (head == 0)
            break;
    }
    return false;
}

void pm_pool_trim(pm_pool_t *pool) { cache_spill(pool, 0); }

void pm_pool_stats(const pm_pool_t *pool, struct pm_pool_stats *out)
{
    *out = pool->st;
    uint64_t dma = pool->zone[ZONE_DMA].free, normal = pool->zone[ZONE_NORMAL].free;
    out->cached = pool->cache_len;
    out->free = dma + normal + pool->cache_len;
    out->bound = pool->frames - out->free;
    out->dma_free = dma;
    uint64_t any = pool->zone[ZONE_DMA].nonempty | pool->zone[ZONE_NORMAL].nonempty;
    out->largest_free = any ? 1ull << (63 - __builtin_clzll(any)) : (pool->cache_len ? 1 : 0);
}
