/* pool.c — the frame pool: real host memory cut into physical frames.
 *
 * A binary buddy allocator over two zones, the DMA zone [0, dma_frames) and
 * the rest [dma_frames, frames).  Runs never cross the zone boundary and are
 * naturally aligned in absolute frame numbers, so a run of 2^k frames can be
 * sent as one fpage.  Bookkeeping lives beside the memory, never in it (the
 * frames' bytes belong to the simulated machine, and touching them would cost
 * host RSS): one state byte and two free-list links per frame, and a bit for
 * "retained".  Allocation finds the smallest non-empty order with one bit
 * scan and splits down; release merges with free buddies upwards; both
 * O(log n).  Lists are LIFO, so the run released last is reused first.
 *
 * Merging and splitting all the way up and down a large pool on every
 * allocate/free pair would touch a cache line per level, so, as Linux's
 * per-CPU page lists do, small released runs (up to HOT_ORDERS - 1) first go
 * to short LIFO "hot" lists, unmerged, that serve the next allocations of
 * that size; a full list hands its older half to the buddy lists.
 *
 * Giving memory back costs a system call and, worse, a host page fault when
 * the frame is used again.  So a released run goes into the buddy lists at
 * once but keeps its memory: its frames are marked retained (a bitmap, with
 * a summary bit per 64 frames to find them quickly).  Allocation clears the
 * marks of what it takes (zeroing those frames for PM_POOL_ZERO); when more
 * than `retain_frames` free frames are retained, all of them are given back,
 * one call per run of neighbours.  A free frame that is not retained reads
 * as zero: never touched, or given back. */
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
#define ST_HOT 0xC0      /* first frame of a free run in a hot list */
#define ST_KIND(s) ((s)&0xC0)
#define ST_ORDER(s) ((unsigned)((s)&0x3F))

enum { ZONE_DMA = 0, ZONE_NORMAL = 1, NZONES = 2 };

/* Hot lists: orders 0 … HOT_ORDERS - 1, up to HOT_LEN runs each. */
#define HOT_ORDERS 5
#define HOT_LEN 32
/* Frames the hot lists may hold: they are used only when retain_frames
 * allows that many. */
#define HOT_FRAMES ((uint64_t)HOT_LEN * ((1u << HOT_ORDERS) - 1))

struct zone {
    uint32_t start, end;                  /* frames [start, end) */
    uint32_t head[PM_POOL_MAX_ORDER + 1]; /* free lists by order */
    uint64_t nonempty;                    /* bit k set: head[k] != NIL */
    uint64_t free;                        /* free frames in the buddy lists */
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
    uint64_t *kept;        /* bit per frame: free, but still holding host memory */
    uint64_t *kept_sum;    /* bit per word of kept[]: that word is not zero */
    uint64_t nkept, retain;
    uint32_t hot[HOT_ORDERS][HOT_LEN]; /* free runs of the normal zone, unmerged */
    uint32_t hot_len[HOT_ORDERS];
    uint64_t hot_frames;
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

/* ---- retained frames ------------------------------------------------ */

/* Mark frames [pfn, pfn + n) retained. */
static void keep_range(pm_pool_t *p, uint32_t pfn, uint64_t n)
{
    for (uint64_t f = pfn; f < (uint64_t)pfn + n;) {
        uint64_t w = f >> 6, bit = f & 63, take = 64 - bit;
        if (take > (uint64_t)pfn + n - f)
            take = (uint64_t)pfn + n - f;
        uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
        p->nkept += take - (uint64_t)__builtin_popcountll(p->kept[w] & mask);
        p->kept[w] |= mask;
        p->kept_sum[w >> 6] |= 1ull << (w & 63);
        f += take;
    }
}

/* Unmark frames [pfn, pfn + n) as they are allocated; with ZERO, clear the
 * bytes of those that were retained (the others read as zero already). */
static void unkeep_range(pm_pool_t *p, uint32_t pfn, uint64_t n, bool zero)
{
    for (uint64_t f = pfn; f < (uint64_t)pfn + n;) {
        uint64_t w = f >> 6, bit = f & 63, take = 64 - bit;
        if (take > (uint64_t)pfn + n - f)
            take = (uint64_t)pfn + n - f;
        uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
        uint64_t hit = p->kept[w] & mask;
        if (hit != 0) {
            p->nkept -= (uint64_t)__builtin_popcountll(hit);
            p->kept[w] &= ~hit;
            if (p->kept[w] == 0)
                p->kept_sum[w >> 6] &= ~(1ull << (w & 63));
            for (; zero && hit != 0; hit &= hit - 1) {
                uint64_t frame = (w << 6) | (uint64_t)__builtin_ctzll(hit);
                memset(p->base + ((size_t)frame << p->shift), 0, p->page_size);
            }
        }
        f += take;
    }
}

/* Give the memory of every retained frame back, one call per run. */
static void purge(pm_pool_t *p)
{
    uint64_t words = ((uint64_t)p->frames + 63) >> 6;
    uint64_t run_start = 0, run_len = 0;
    for (uint64_t sw = 0; sw < (words + 63) >> 6; sw++) {
        for (uint64_t sum = p->kept_sum[sw]; sum != 0; sum &= sum - 1) {
            uint64_t w = (sw << 6) | (uint64_t)__builtin_ctzll(sum);
            for (uint64_t bits = p->kept[w]; bits != 0; bits &= bits - 1) {
                uint64_t f = (w << 6) | (uint64_t)__builtin_ctzll(bits);
                if (run_len > 0 && f == run_start + run_len) {
                    run_len++;
                    continue;
                }
                if (run_len > 0)
                    host_release(p, (uint32_t)run_start, run_len);
                run_start = f;
                run_len = 1;
            }
            p->kept[w] = 0;
        }
        p->kept_sum[sw] = 0;
    }
    if (run_len > 0)
        host_release(p, (uint32_t)run_start, run_len);
    p->nkept = 0;
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
    p->retain = cfg->retain_frames;
    size_t bytes = (size_t)cfg->frames << shift;

    p->state = calloc(cfg->frames, 1);
    p->next = malloc((size_t)cfg->frames * sizeof *p->next);
    p->prev = malloc((size_t)cfg->frames * sizeof *p->prev);
    size_t words = ((size_t)cfg->frames + 63) / 64;
    p->kept = calloc(words, sizeof *p->kept);
    p->kept_sum = calloc((words + 63) / 64, sizeof *p->kept_sum);
    if (p->state == NULL || p->next == NULL || p->prev == NULL || p->kept == NULL ||
        p->kept_sum == NULL)
        goto nomem;

    if (cfg->backing == PM_POOL_MEMFD) {
        p->memfd = memfd_create("pmsim-pool", MFD_CLOEXEC);
        if (p->memfd < 0 || ftruncate(p->memfd, (off_t)bytes) != 0)
            goto nomem;
        p->base =
            mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, p->memfd, 0);
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
    free(pool->kept);
    free(pool->kept_sum);
    free(pool);
}

/* The allocation itself, shared by alloc and move: the normal zone first
 * unless DMA is asked for, the DMA zone as the last resort. */
static bool take(pm_pool_t *p, unsigned order, unsigned flags, uint32_t *out)
{
    if (order < HOT_ORDERS && p->hot_len[order] > 0 && !(flags & PM_POOL_DMA)) {
        uint32_t pfn = p->hot[order][--p->hot_len[order]];
        p->hot_frames -= 1ull << order;
        p->state[pfn] = (uint8_t)(ST_ALLOC | order);
        if (flags & PM_POOL_ZERO)
            memset(p->base + ((size_t)pfn << p->shift), 0, p->page_size << order);
        *out = pfn;
        return true;
    }
    bool ok = (flags & PM_POOL_DMA) ? buddy_alloc(p, &p->zone[ZONE_DMA], order, out)
                                    : buddy_alloc(p, &p->zone[ZONE_NORMAL], order, out) ||
                                          buddy_alloc(p, &p->zone[ZONE_DMA], order, out);
    if (ok && p->nkept > 0)
        unkeep_range(p, *out, 1ull << order, (flags & PM_POOL_ZERO) != 0);
    return ok;
}

pm_error_t pm_pool_alloc(pm_pool_t *pool, unsigned order, unsigned flags, pm_pfn_t *out)
{
    if (order > PM_POOL_MAX_ORDER ||
        (flags & ~(unsigned)(PM_POOL_DMA | PM_POOL_ZERO | PM_POOL_SPLIT)) != 0)
        return PM_EINVAL;
    uint32_t pfn;
    if (!take(pool, order, flags, &pfn)) {
        pool->st.alloc_failures++;
        return PM_ENOMEM;
    }
    if (flags & PM_POOL_SPLIT)
        for (uint64_t i = 0; i < 1ull << order; i++)
            pool->state[pfn + i] = ST_ALLOC;
    pool->st.allocs++;
    *out = PM_PFN(pfn);
    return PM_OK;
}

static bool is_alloc_head(const pm_pool_t *p, uint32_t pfn, unsigned order)
{
    return pfn < p->frames && order <= PM_POOL_MAX_ORDER && p->state[pfn] == (ST_ALLOC | order);
}

/* Into the buddy lists, merged, memory retained or given back. */
static void to_buddy(pm_pool_t *p, uint32_t pfn, unsigned order)
{
    uint64_t n = 1ull << order;
    p->state[pfn] = ST_INTERIOR;
    buddy_free(p, pfn, order);
    if (p->retain == 0) {
        host_release(p, pfn, n);
        return;
    }
    keep_range(p, pfn, n);
    if (p->nkept + p->hot_frames > p->retain)
        purge(p);
}

/* Hand the older half of hot list ORDER (all of it with ALL) to the buddy
 * lists. */
static void hot_spill(pm_pool_t *p, unsigned order, bool all)
{
    uint32_t len = p->hot_len[order], n = all ? len : len / 2;
    for (uint32_t i = 0; i < n; i++) {
        p->hot_frames -= 1ull << order;
        to_buddy(p, p->hot[order][i], order);
    }
    memmove(p->hot[order], p->hot[order] + n, (size_t)(len - n) * sizeof p->hot[order][0]);
    p->hot_len[order] = len - n;
}

/* Release without the argument checks (done by the callers). */
static void give_back(pm_pool_t *p, uint32_t pfn, unsigned order)
{
    if (order < HOT_ORDERS && p->retain >= HOT_FRAMES && zone_of(p, pfn) == ZONE_NORMAL) {
        if (p->hot_len[order] == HOT_LEN)
            hot_spill(p, order, false);
        p->state[pfn] = (uint8_t)(ST_HOT | order);
        p->hot[order][p->hot_len[order]++] = pfn;
        p->hot_frames += 1ull << order;
        return;
    }
    to_buddy(p, pfn, order);
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
    if (!take(pool, order, flags, &pfn)) {
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

void *pm_pool_base(const pm_pool_t *pool)
{
    return pool->base;
}
size_t pm_pool_page_size(const pm_pool_t *pool)
{
    return pool->page_size;
}
unsigned pm_pool_page_shift(const pm_pool_t *pool)
{
    return pool->shift;
}
uint32_t pm_pool_frames(const pm_pool_t *pool)
{
    return pool->frames;
}
int pm_pool_memfd(const pm_pool_t *pool)
{
    return pool->memfd;
}

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

void pm_pool_trim(pm_pool_t *pool)
{
    for (unsigned k = 0; k < HOT_ORDERS; k++)
        hot_spill(pool, k, true);
    if (pool->nkept > 0)
        purge(pool);
}

void pm_pool_stats(const pm_pool_t *pool, struct pm_pool_stats *out)
{
    *out = pool->st;
    uint64_t dma = pool->zone[ZONE_DMA].free, normal = pool->zone[ZONE_NORMAL].free;
    out->retained = pool->nkept + pool->hot_frames;
    out->free = dma + normal + pool->hot_frames;
    out->bound = pool->frames - out->free;
    out->dma_free = dma;
    uint64_t any = pool->zone[ZONE_DMA].nonempty | pool->zone[ZONE_NORMAL].nonempty;
    out->largest_free = any ? 1ull << (63 - __builtin_clzll(any)) : 0;
    for (unsigned k = 0; k < HOT_ORDERS; k++)
        if (pool->hot_len[k] > 0 && (1ull << k) > out->largest_free)
            out->largest_free = 1ull << k;
}
