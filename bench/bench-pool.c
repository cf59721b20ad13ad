/* bench-pool.c — throughput of the frame pool against glibc malloc.
 *
 * Measures, on a pool of 1 M frames of 4 KiB (4 GiB reserved with
 * MAP_NORESERVE; untouched frames cost nothing), and against glibc in the
 * same run:
 * - allocate+free, tight loop: pm_pool_alloc (order 0) and pm_pool_release
 *   of one frame, against malloc(4096) and free;
 * - allocate+free, batch: allocate 4096 frames, then free them all (in
 *   allocation order), repeated; the same with malloc(4096)/free;
 * - an order-4 run (16 frames, 64 KiB) allocated and released, against
 *   malloc(65536)/free;
 * - pm_pool_move of one frame (allocate, copy 4 KiB, release), against a
 *   plain memcpy of one page.
 * Every allocated block, frame or run gets one byte written at its start (the
 * malloc'd block must be touched anyway: malloc writes its header there), and
 * the addresses go into a volatile checksum, so nothing is optimised away.
 * The batch pattern is also run without that write (the pool's own cost,
 * host releases included), and on a pool whose retained-frame bound holds a whole
 * batch (released frames stay resident: no host release, no refault).
 * Each measurement runs a few times, pool and glibc interleaved, and the
 * best repetition is reported.  Figures are allocate+free pairs per second;
 * ratios are pool/glibc throughput.
 *
 * Goals (from the issue): allocate+free at least 10 M/s, and no slower than
 * malloc.  They are measurements, not tests: the exit status is 0 either way.
 *
 * Run: ./build/bench/bench-pool [--quick | --scale=F]   (a release build,
 * `meson setup build-rel --buildtype=release`, gives the figures that count). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsim/pool.h"

#include "bench.h"

#define PAGE 4096u
#define PAGE_SHIFT 12u
#define POOL_FRAMES (1u << 20)
#define BATCH 4096u
#define RUN_ORDER 4u

#define GOAL_RATE 10e6 /* allocate+free per second */

/* Keeps every result observable, so no loop can be optimised away. */
static volatile uint64_t sink;

/* Copying through a volatile pointer keeps the baseline memcpy a real copy. */
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;

struct ctx {
    pm_pool_t *pool;
    unsigned char *base;  /* frame N at base + N * PAGE */
    pm_pfn_t *pfns;       /* BATCH entries */
    unsigned char **ptrs; /* BATCH entries */
};

static unsigned char *frame_at(const struct ctx *c, pm_pfn_t pfn)
{
    return c->base + ((size_t)pfn.n << PAGE_SHIFT);
}

/* ---- allocate+free, tight loop ----------------------------------------- */

static uint64_t pool_tight(struct ctx *c, uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        pm_pfn_t pfn;
        BENCH_CHECK(pm_pool_alloc(c->pool, 0, 0, &pfn) == PM_OK);
        frame_at(c, pfn)[0] = (unsigned char)i;
        sum += pfn.n;
        BENCH_CHECK(pm_pool_release(c->pool, pfn, 0) == PM_OK);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

static uint64_t malloc_tight(size_t size, uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        unsigned char *p = malloc(size);
        BENCH_CHECK(p != NULL);
        p[0] = (unsigned char)i;
        sum += (uintptr_t)p;
        free(p);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

/* ---- allocate+free, batch ---------------------------------------------- */

static uint64_t pool_batch(struct ctx *c, uint64_t rounds, bool touch)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < BATCH; i++) {
            BENCH_CHECK(pm_pool_alloc(c->pool, 0, 0, &c->pfns[i]) == PM_OK);
            if (touch)
                frame_at(c, c->pfns[i])[0] = (unsigned char)i;
            sum += c->pfns[i].n;
        }
        for (unsigned i = 0; i < BATCH; i++)
            BENCH_CHECK(pm_pool_release(c->pool, c->pfns[i], 0) == PM_OK);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

static uint64_t malloc_batch(struct ctx *c, uint64_t rounds)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        for (unsigned i = 0; i < BATCH; i++) {
            unsigned char *p = malloc(PAGE);
            BENCH_CHECK(p != NULL);
            p[0] = (unsigned char)i;
            sum += (uintptr_t)p;
            c->ptrs[i] = p;
        }
        for (unsigned i = 0; i < BATCH; i++)
            free(c->ptrs[i]);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

/* ---- order-k runs ------------------------------------------------------ */

static uint64_t pool_runs(struct ctx *c, unsigned order, uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        pm_pfn_t pfn;
        BENCH_CHECK(pm_pool_alloc(c->pool, order, 0, &pfn) == PM_OK);
        frame_at(c, pfn)[0] = (unsigned char)i;
        sum += pfn.n;
        BENCH_CHECK(pm_pool_release(c->pool, pfn, order) == PM_OK);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

/* ---- move against memcpy ----------------------------------------------- */

static uint64_t pool_moves(struct ctx *c, uint64_t n)
{
    pm_pfn_t pfn;
    BENCH_CHECK(pm_pool_alloc(c->pool, 0, 0, &pfn) == PM_OK);
    memset(frame_at(c, pfn), 0x5A, PAGE);
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        pm_pfn_t to;
        BENCH_CHECK(pm_pool_move(c->pool, pfn, 0, 0, &to) == PM_OK);
        sum += to.n;
        pfn = to;
    }
    uint64_t t = bench_now_ns() - t0;
    sum += frame_at(c, pfn)[PAGE - 1];
    BENCH_CHECK(pm_pool_release(c->pool, pfn, 0) == PM_OK);
    sink += sum;
    return t;
}

static uint64_t memcpy_pages(unsigned char *a, unsigned char *b, uint64_t n)
{
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        memcpy_fn(b, a, PAGE);
        unsigned char *tmp = a;
        a = b;
        b = tmp;
    }
    uint64_t t = bench_now_ns() - t0;
    sink += a[PAGE - 1];
    return t;
}

/* ---- reporting --------------------------------------------------------- */

static double ratio(const struct bench_best *pool, const struct bench_best *libc)
{
    return pool->ns_per_op > 0.0 ? libc->ns_per_op / pool->ns_per_op : 0.0;
}

/* Host releases (madvise calls) per allocate+free pair in one extra round of
 * the batch pattern. */
static double batch_host_releases(struct ctx *c)
{
    struct pm_pool_stats before, after;
    pm_pool_stats(c->pool, &before);
    pool_batch(c, 1, true);
    pm_pool_stats(c->pool, &after);
    return (double)(after.host_releases - before.host_releases) / BATCH;
}

int main(int argc, char **argv)
{
    unsigned reps = 5;
    double scale =
        bench_parse_args(argc, argv,
                         "Frame pool allocate+free (order 0, tight and batched), order-4 runs and\n"
                         "pm_pool_move, against glibc malloc/free and memcpy of one page.",
                         &reps);
    uint64_t n_tight = bench_scaled(10000000, scale, 1000);
    uint64_t n_rounds = bench_scaled(40, scale, 2);
    uint64_t n_runs = bench_scaled(100000, scale, 1000);
    uint64_t n_moves = bench_scaled(2000000, scale, 1000);

    struct pm_pool_config cfg = {
        .page_size = PAGE,
        .frames = POOL_FRAMES,
        .dma_frames = 0,
        .retain_frames = PM_POOL_DEFAULT_RETAIN,
        .backing = PM_POOL_ANON,
    };
    struct ctx c = {0}, big = {0};
    uint64_t t0 = bench_now_ns();
    BENCH_CHECK(pm_pool_new(&cfg, &c.pool) == PM_OK);
    uint64_t t_new = bench_now_ns() - t0;
    c.base = pm_pool_base(c.pool);
    c.pfns = calloc(BATCH, sizeof *c.pfns);
    c.ptrs = calloc(BATCH, sizeof *c.ptrs);
    /* The same pool with a retained-frame bound that holds a whole batch: released
     * frames stay resident and no memory goes back to the host. */
    struct pm_pool_config big_cfg = cfg;
    big_cfg.retain_frames = 2 * BATCH;
    BENCH_CHECK(pm_pool_new(&big_cfg, &big.pool) == PM_OK);
    big.base = pm_pool_base(big.pool);
    big.pfns = c.pfns;
    unsigned char *pa = aligned_alloc(PAGE, PAGE), *pb = aligned_alloc(PAGE, PAGE);
    BENCH_CHECK(c.pfns != NULL && c.ptrs != NULL && pa != NULL && pb != NULL);
    memset(pa, 0x5A, PAGE);
    memset(pb, 0xA5, PAGE);

    printf("bench-pool: frame pool vs glibc malloc/memcpy\n");
    printf("pool: %u frames of %u B (%.0f GiB, MAP_NORESERVE), retained-frame bound %u frames, "
           "created in %.1f ms (not timed below)\n",
           POOL_FRAMES, PAGE, (double)POOL_FRAMES * PAGE / (1u << 30), cfg.retain_frames,
           (double)t_new / 1e6);
    printf("best of %u repetitions; scale %.2g; one byte written into every block; "
           "rates are allocate+free pairs\n\n",
           reps, scale);

    struct bench_best tp = {0}, tm = {0}, bp = {0}, bpu = {0}, bpc = {0}, bm = {0};
    struct bench_best rp = {0}, rm = {0}, mp = {0}, mm = {0};
    for (unsigned r = 0; r < reps; r++) {
        bench_record(&tp, pool_tight(&c, n_tight), n_tight);
        bench_record(&tm, malloc_tight(PAGE, n_tight), n_tight);
    }
    pm_pool_trim(c.pool);
    for (unsigned r = 0; r < reps; r++) {
        bench_record(&bp, pool_batch(&c, n_rounds, true), n_rounds * BATCH);
        bench_record(&bm, malloc_batch(&c, n_rounds), n_rounds * BATCH);
        bench_record(&bpu, pool_batch(&c, n_rounds, false), n_rounds * BATCH);
        bench_record(&bpc, pool_batch(&big, n_rounds, true), n_rounds * BATCH);
    }
    double hr = batch_host_releases(&c);
    pm_pool_trim(c.pool);
    for (unsigned r = 0; r < reps; r++) {
        bench_record(&rp, pool_runs(&c, RUN_ORDER, n_runs), n_runs);
        bench_record(&rm, malloc_tight((size_t)PAGE << RUN_ORDER, n_runs), n_runs);
    }
    pm_pool_trim(c.pool);
    for (unsigned r = 0; r < reps; r++) {
        bench_record(&mp, pool_moves(&c, n_moves), n_moves);
        bench_record(&mm, memcpy_pages(pa, pb, n_moves), n_moves);
    }

    printf("allocate+free, tight loop (one frame / one 4 KiB block):\n");
    bench_print_rate("  alloc+free (pool)", &tp);
    bench_print_rate("  alloc+free (malloc)", &tm);
    bench_print_ratio("  ratio pool/malloc", ratio(&tp, &tm), 1.0);
    printf("allocate+free, batch (allocate %u, then free all):\n", BATCH);
    bench_print_rate("  batch alloc+free (pool)", &bp);
    bench_print_rate("  batch alloc+free (malloc)", &bm);
    bench_print_ratio("  ratio pool/malloc", ratio(&bp, &bm), 1.0);
    bench_print_rate("  batch alloc+free (pool, no write)", &bpu);
    printf("  %-*s: %8.2f per alloc+free\n", BENCH_LABEL_WIDTH - 2, "pool host releases (madvise)",
           hr);
    printf("  %-*s: %8.2f M/s %9.1f ns/op  (retain_frames = %u)\n", BENCH_LABEL_WIDTH - 2,
           "batch alloc+free (pool, big retain)", bench_rate(&bpc) / 1e6, bpc.ns_per_op,
           big_cfg.retain_frames);
    printf("order-%u runs (%u frames, %u KiB):\n", RUN_ORDER, 1u << RUN_ORDER,
           (PAGE << RUN_ORDER) / 1024);
    bench_print_rate("  alloc+free order 4 (pool)", &rp);
    bench_print_rate("  alloc+free 64 KiB (malloc)", &rm);
    bench_print_ratio("  ratio pool/malloc", ratio(&rp, &rm), 0.0);
    printf("move one frame (allocate, copy %u B, release) vs memcpy of one page:\n", PAGE);
    bench_print_rate("  move (pool)", &mp);
    bench_print_rate("  memcpy 4 KiB", &mm);
    bench_print_ratio("  ratio pool/memcpy", ratio(&mp, &mm), 0.0);
    printf("\n");
    bench_print_goal("alloc+free >= 10 M/s (tight)", bench_rate(&tp) >= GOAL_RATE);
    bench_print_goal("alloc+free >= malloc (tight)", ratio(&tp, &tm) >= 1.0);
    bench_print_goal("alloc+free >= 10 M/s (batch)", bench_rate(&bp) >= GOAL_RATE);
    bench_print_goal("alloc+free >= malloc (batch)", ratio(&bp, &bm) >= 1.0);

    free(pa);
    free(pb);
    free(c.pfns);
    free(c.ptrs);
    pm_pool_free(c.pool);
    pm_pool_free(big.pool);
    return 0;
}
