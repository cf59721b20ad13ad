/* test-pool.c — the frame pool: configuration, exhaustion, the DMA zone,
 * naturally aligned runs and their merging, moves that keep the bytes, the
 * retained frames and zeroing, the memfd backing, and host memory: a large pool
 * costs no RSS until touched, and released frames give their memory back.
 * A randomised run checks the allocator against a plain bitmap. */
#include "harness.h"

static pm_pool_t *make_pool(uint32_t frames, uint32_t dma, uint32_t retain)
{
    pm_pool_t *p = NULL;
    struct pm_pool_config c = {
        .page_size = 4096, .frames = frames, .dma_frames = dma, .retain_frames = retain};
    ck_assert_int_eq(pm_pool_new(&c, &p), PM_OK);
    return p;
}

static struct pm_pool_stats stats(const pm_pool_t *p)
{
    struct pm_pool_stats s;
    pm_pool_stats(p, &s);
    return s;
}

/* ---- configuration ---------------------------------------------------- */

static const struct {
    size_t page;
    uint32_t frames, dma;
    int backing;
    pm_error_t want;
} configs[] = {
    {4096, 16, 0, PM_POOL_ANON, PM_OK},
    {8192, 16, 16, PM_POOL_ANON, PM_OK},
    {65536, 3, 1, PM_POOL_MEMFD, PM_OK},
    {2048, 16, 0, PM_POOL_ANON, PM_EINVAL},
    {4095, 16, 0, PM_POOL_ANON, PM_EINVAL},
    {6144, 16, 0, PM_POOL_ANON, PM_EINVAL},
    {0, 16, 0, PM_POOL_ANON, PM_EINVAL},
    {4096, 0, 0, PM_POOL_ANON, PM_EINVAL},
    {4096, 16, 17, PM_POOL_ANON, PM_EINVAL},
    {4096, 16, 0, 7, PM_EINVAL},
    {(size_t)1 << 31, 16, 0, PM_POOL_ANON, PM_EINVAL},
};

START_TEST(test_config)
{
    pm_pool_t *p = (pm_pool_t *)0x1;
    struct pm_pool_config c = {.page_size = configs[_i].page,
                               .frames = configs[_i].frames,
                               .dma_frames = configs[_i].dma,
                               .backing = (enum pm_pool_backing)configs[_i].backing};
    pm_error_t err = pm_pool_new(&c, &p);
    ck_assert_msg(err == configs[_i].want, "config %d: got %s", _i, pm_strerror(err));
    if (err == PM_OK) {
        struct pm_pool_stats s = stats(p);
        ck_assert_uint_eq(s.frames, configs[_i].frames);
        ck_assert_uint_eq(s.free, configs[_i].frames);
        ck_assert_uint_eq(s.dma_free, configs[_i].dma);
        ck_assert_uint_eq(pm_pool_page_size(p), configs[_i].page);
        ck_assert_uint_eq(1ul << pm_pool_page_shift(p), configs[_i].page);
        pm_pool_free(p);
    } else {
        ck_assert_ptr_eq(p, (pm_pool_t *)0x1); /* untouched */
    }
}
END_TEST

START_TEST(test_null_args)
{
    pm_pool_t *p = NULL;
    ck_assert_int_eq(pm_pool_new(NULL, &p), PM_EINVAL);
    pm_pool_free(NULL); /* a no-op */
}
END_TEST

/* ---- exhaustion --------------------------------------------------------- */

START_TEST(test_exhaustion)
{
    pm_pool_t *p = make_pool(100, 0, 8);
    pm_pfn_t got[100], keep = PM_PFN(4242);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &got[i]), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &keep), PM_ENOMEM);
    ck_assert_uint_eq(keep.n, 4242); /* untouched */
    struct pm_pool_stats s = stats(p);
    ck_assert_uint_eq(s.free, 0);
    ck_assert_uint_eq(s.bound, 100);
    ck_assert_uint_eq(s.largest_free, 0);
    ck_assert_uint_eq(s.alloc_failures, 1);
    /* Every frame handed out once. */
    char seen[100] = {0};
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_lt(got[i].n, 100);
        ck_assert(!seen[got[i].n]);
        seen[got[i].n] = 1;
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(pm_pool_release(p, got[i], 0), PM_OK);
    pm_pool_trim(p);
    s = stats(p);
    ck_assert_uint_eq(s.free, 100);
    ck_assert_uint_eq(s.largest_free, 64); /* merged back: 64 + 32 + 4 */
    pm_pool_free(p);
}
END_TEST

START_TEST(test_exhaustion_large_orders)
{
    pm_pool_t *p = make_pool(48, 0, 0); /* runs of 32 and 16 */
    pm_pfn_t a, b, c;
    ck_assert_int_eq(pm_pool_alloc(p, 6, 0, &a), PM_ENOMEM);
    ck_assert_int_eq(pm_pool_alloc(p, 5, 0, &a), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 5, 0, &b), PM_ENOMEM);
    ck_assert_int_eq(pm_pool_alloc(p, 4, 0, &b), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &c), PM_ENOMEM);
    ck_assert_int_eq(pm_pool_alloc(p, PM_POOL_MAX_ORDER + 1, 0, &c), PM_EINVAL);
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0x100, &c), PM_EINVAL);
    pm_pool_free(p);
}
END_TEST

/* ---- the DMA zone --------------------------------------------------------- */

START_TEST(test_dma_zone_last_resort)
{
    pm_pool_t *p = make_pool(64, 16, 4);
    pm_pfn_t f[64];
    /* Ordinary allocations take the 48 frames above the zone first. */
    for (int i = 0; i < 48; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        ck_assert_uint_ge(f[i].n, 16);
    }
    ck_assert_uint_eq(stats(p).dma_free, 16);
    /* Then, nothing else being left, the DMA zone. */
    for (int i = 48; i < 64; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        ck_assert_uint_lt(f[i].n, 16);
    }
    ck_assert_uint_eq(stats(p).dma_free, 0);
    pm_pfn_t x;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &x), PM_ENOMEM);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_dma_only_from_zone)
{
    pm_pool_t *p = make_pool(64, 8, 4);
    pm_pfn_t f[8], x;
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, PM_POOL_DMA, &f[i]), PM_OK);
        ck_assert_uint_lt(f[i].n, 8);
    }
    /* The zone is empty: a DMA request fails though 56 frames are free. */
    ck_assert_int_eq(pm_pool_alloc(p, 0, PM_POOL_DMA, &x), PM_ENOMEM);
    ck_assert_uint_eq(stats(p).free, 56);
    /* A freed DMA frame goes back to the zone and serves the next DMA
     * request (the lists are LIFO). */
    ck_assert_int_eq(pm_pool_release(p, f[3], 0), PM_OK);
    ck_assert_uint_eq(stats(p).dma_free, 1);
    ck_assert_int_eq(pm_pool_alloc(p, 0, PM_POOL_DMA, &x), PM_OK);
    ck_assert_uint_eq(x.n, f[3].n);
    /* A DMA run of 4 frames, aligned. */
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 2, PM_POOL_DMA, &x), PM_OK);
    ck_assert_uint_lt(x.n, 8);
    ck_assert_uint_eq(x.n % 4, 0);
    ck_assert_int_eq(pm_pool_alloc(p, 4, PM_POOL_DMA, &x), PM_ENOMEM); /* 16 > zone */
    pm_pool_free(p);
}
END_TEST

START_TEST(test_zone_boundary_not_crossed)
{
    /* DMA zone [0, 3): frames 2 and 3 are buddies, but in different zones. */
    pm_pool_t *p = make_pool(8, 3, 0);
    pm_pfn_t a;
    struct pm_pool_stats s = stats(p);
    ck_assert_uint_eq(s.largest_free, 4); /* [4, 8) */
    /* Take everything as single frames, free everything, and check no run
     * spans the boundary: the largest DMA-flag run is 2 frames. */
    pm_pfn_t f[8];
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 2, PM_POOL_DMA, &a), PM_ENOMEM);
    ck_assert_int_eq(pm_pool_alloc(p, 1, PM_POOL_DMA, &a), PM_OK);
    ck_assert_uint_eq(a.n, 0);
    ck_assert_int_eq(pm_pool_alloc(p, 2, 0, &a), PM_OK);
    ck_assert_uint_eq(a.n, 4);
    ck_assert_int_eq(pm_pool_alloc(p, 1, 0, &a), PM_ENOMEM); /* only 2 and 3 left, split */
    pm_pool_free(p);
}
END_TEST

/* ---- aligned runs --------------------------------------------------------- */

START_TEST(test_runs_naturally_aligned)
{
    unsigned order = (unsigned)_i;
    pm_pool_t *p = make_pool(1000, 0, 0);
    pm_pfn_t f;
    /* Fragment first with a single frame so the run cannot start at 0. */
    pm_pfn_t one;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &one), PM_OK);
    int n = 0;
    while (pm_pool_alloc(p, order, 0, &f) == PM_OK) {
        ck_assert_uint_eq(f.n % (1u << order), 0);
        ck_assert_uint_le(f.n + (1u << order), 1000);
        ck_assert(pm_pool_is_bound(p, f));
        ck_assert(pm_pool_is_bound(p, PM_PFN(f.n + (1u << order) - 1)));
        n++;
    }
    ck_assert_int_gt(n, 0);
    ck_assert_uint_eq(stats(p).bound, 1 + (uint64_t)n * (1u << order));
    pm_pool_free(p);
}
END_TEST

START_TEST(test_split_runs)
{
    pm_pool_t *p = make_pool(64, 0, 0);
    pm_pfn_t r;
    ck_assert_int_eq(pm_pool_alloc(p, 3, PM_POOL_SPLIT, &r), PM_OK);
    ck_assert_uint_eq(r.n % 8, 0);
    ck_assert_int_eq(pm_pool_release(p, r, 3), PM_EINVAL); /* no longer one run */
    for (uint32_t i = 0; i < 8; i++)
        ck_assert(pm_pool_is_bound(p, PM_PFN(r.n + i)));
    /* Released one by one, in any order; they merge back. */
    ck_assert_int_eq(pm_pool_release(p, PM_PFN(r.n + 5), 0), PM_OK);
    ck_assert(!pm_pool_is_bound(p, PM_PFN(r.n + 5)));
    ck_assert(pm_pool_is_bound(p, PM_PFN(r.n + 4)));
    for (uint32_t i = 0; i < 8; i++)
        if (i != 5)
            ck_assert_int_eq(pm_pool_release(p, PM_PFN(r.n + i), 0), PM_OK);
    ck_assert_uint_eq(stats(p).largest_free, 64);
    ck_assert_uint_eq(stats(p).bound, 0);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_release_checks)
{
    pm_pool_t *p = make_pool(64, 0, 4);
    pm_pfn_t a, b;
    ck_assert_int_eq(pm_pool_alloc(p, 2, 0, &a), PM_OK);
    ck_assert_int_eq(pm_pool_release(p, a, 1), PM_EINVAL);               /* wrong order */
    ck_assert_int_eq(pm_pool_release(p, PM_PFN(a.n + 1), 0), PM_EINVAL); /* inside the run */
    ck_assert_int_eq(pm_pool_release(p, PM_PFN(64), 0), PM_EINVAL);      /* outside the pool */
    ck_assert_int_eq(pm_pool_release(p, PM_PFN(UINT32_MAX), 0), PM_EINVAL);
    ck_assert_uint_eq(stats(p).bound, 4); /* nothing changed */
    ck_assert_int_eq(pm_pool_release(p, a, 2), PM_OK);
    ck_assert_int_eq(pm_pool_release(p, a, 2), PM_EINVAL); /* twice */
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &b), PM_OK);
    ck_assert_int_eq(pm_pool_release(p, b, 0), PM_OK);
    ck_assert_int_eq(pm_pool_release(p, b, 0), PM_EINVAL); /* twice, while retained */
    ck_assert(!pm_pool_is_bound(p, b));
    ck_assert(!pm_pool_is_bound(p, PM_PFN(64)));
    ck_assert_uint_eq(stats(p).releases, 2);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_merge_restores_largest)
{
    pm_pool_t *p = make_pool(1024, 0, 0);
    ck_assert_uint_eq(stats(p).largest_free, 1024);
    pm_pfn_t f[1024];
    for (int i = 0; i < 1024; i++)
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
    /* Free in a scrambled order: odd ones, then even ones backwards. */
    for (int i = 1; i < 1024; i += 2)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    ck_assert_uint_eq(stats(p).largest_free, 1);
    for (int i = 1022; i >= 0; i -= 2)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    ck_assert_uint_eq(stats(p).largest_free, 1024);
    pm_pfn_t all;
    ck_assert_int_eq(pm_pool_alloc(p, 10, 0, &all), PM_OK);
    ck_assert_uint_eq(all.n, 0);
    pm_pool_free(p);
}
END_TEST

/* ---- moves and bytes ------------------------------------------------------ */

static void fill(pm_pool_t *p, pm_pfn_t f, unsigned order, unsigned seed)
{
    unsigned char *b = pm_pool_frame(p, f);
    size_t n = pm_pool_page_size(p) << order;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed + i * 7);
}

static bool holds(pm_pool_t *p, pm_pfn_t f, unsigned order, unsigned seed)
{
    const unsigned char *b = pm_pool_frame(p, f);
    size_t n = pm_pool_page_size(p) << order;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed + i * 7))
            return false;
    return true;
}

START_TEST(test_move_keeps_bytes)
{
    pm_pool_t *p = make_pool(256, 32, 8);
    pm_pfn_t a, b, moved;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &a), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 3, 0, &b), PM_OK);
    fill(p, a, 0, 11);
    fill(p, b, 3, 99);
    ck_assert_int_eq(pm_pool_move(p, a, 0, 0, &moved), PM_OK);
    ck_assert_uint_ne(moved.n, a.n);
    ck_assert(holds(p, moved, 0, 11));
    ck_assert(!pm_pool_is_bound(p, a));
    /* Into the DMA zone (assembling a DMA arena). */
    pm_pfn_t dma;
    ck_assert_int_eq(pm_pool_move(p, b, 3, PM_POOL_DMA, &dma), PM_OK);
    ck_assert_uint_lt(dma.n, 32);
    ck_assert_uint_eq(dma.n % 8, 0);
    ck_assert(holds(p, dma, 3, 99));
    struct pm_pool_stats s = stats(p);
    ck_assert_uint_eq(s.moves, 2);
    ck_assert_uint_eq(s.bytes_moved, 9 * 4096);
    ck_assert_uint_eq(s.bound, 9);
    /* Bad moves change nothing. */
    pm_pfn_t keep = PM_PFN(77);
    ck_assert_int_eq(pm_pool_move(p, a, 0, 0, &keep), PM_EINVAL);   /* freed */
    ck_assert_int_eq(pm_pool_move(p, dma, 2, 0, &keep), PM_EINVAL); /* wrong order */
    ck_assert_int_eq(pm_pool_move(p, dma, 3, PM_POOL_ZERO, &keep), PM_EINVAL);
    ck_assert_uint_eq(keep.n, 77);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_move_enomem_keeps_source)
{
    pm_pool_t *p = make_pool(4, 0, 0);
    pm_pfn_t f[4], keep = PM_PFN(5);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        fill(p, f[i], 0, (unsigned)i);
    }
    ck_assert_int_eq(pm_pool_move(p, f[2], 0, 0, &keep), PM_ENOMEM);
    ck_assert_uint_eq(keep.n, 5);
    ck_assert(pm_pool_is_bound(p, f[2]));
    ck_assert(holds(p, f[2], 0, 2));
    ck_assert_uint_eq(stats(p).moves, 0);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_zero_flag)
{
    pm_pool_t *p = make_pool(16, 0, 4);
    pm_pfn_t a, b;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &a), PM_OK);
    fill(p, a, 0, 5);
    ck_assert_int_eq(pm_pool_release(p, a, 0), PM_OK); /* retained, bytes kept */
    ck_assert_uint_eq(stats(p).retained, 1);
    ck_assert_uint_eq(*(unsigned char *)pm_pool_frame(p, a), 5);
    ck_assert_int_eq(pm_pool_alloc(p, 0, PM_POOL_ZERO, &b), PM_OK);
    ck_assert_uint_eq(b.n, a.n); /* the hot frame is reused */
    ck_assert(bytes_all(pm_pool_frame(p, b), 4096, 0));
    /* Frames that are not retained read as zero too (never touched, or
     * given back to the host). */
    pm_pfn_t c;
    fill(p, b, 0, 9);
    ck_assert_int_eq(pm_pool_release(p, b, 0), PM_OK);
    pm_pool_trim(p);
    ck_assert_uint_eq(stats(p).retained, 0);
    ck_assert_int_eq(pm_pool_alloc(p, 2, PM_POOL_ZERO, &c), PM_OK);
    ck_assert(bytes_all(pm_pool_frame(p, c), 4 * 4096, 0));
    pm_pool_free(p);
}
END_TEST

START_TEST(test_retain_bounded)
{
    pm_pool_t *p = make_pool(512, 0, 32);
    pm_pfn_t f[200];
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
        ck_assert_uint_le(stats(p).retained, 32);
    }
    struct pm_pool_stats s = stats(p);
    ck_assert_uint_eq(s.free, 512);
    ck_assert_uint_ge(s.host_releases, 1);
    pm_pool_trim(p);
    ck_assert_uint_eq(stats(p).retained, 0);
    ck_assert_uint_eq(stats(p).largest_free, 512);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_retain_churn_costs_no_host_call)
{
    pm_pool_t *p = make_pool(64, 0, 16);
    for (int i = 0; i < 1000; i++) {
        pm_pfn_t a;
        ck_assert_int_eq(pm_pool_alloc(p, (unsigned)(i % 3), 0, &a), PM_OK);
        memset(pm_pool_frame(p, a), i, 4096);
        ck_assert_int_eq(pm_pool_release(p, a, (unsigned)(i % 3)), PM_OK);
    }
    ck_assert_uint_eq(stats(p).host_releases, 0);
    ck_assert_uint_le(stats(p).retained, 16);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_purge_coalesces_runs)
{
    pm_pool_t *p = make_pool(128, 0, 100);
    pm_pfn_t f[128];
    for (int i = 0; i < 128; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        memset(pm_pool_frame(p, f[i]), 0x77, 4096);
    }
    /* Release in address order: the 101st release passes the bound and the
     * 101 retained neighbours go back in one call. */
    for (uint32_t n = 0; n < 128; n++) {
        uint32_t i = 0;
        while (f[i].n != n)
            i++;
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    }
    ck_assert_uint_eq(stats(p).host_releases, 1);
    ck_assert_uint_eq(stats(p).retained, 27);
    pm_pool_trim(p);
    ck_assert_uint_eq(stats(p).host_releases, 2);
    /* Everything reads as zero again. */
    for (uint32_t n = 0; n < 128; n++)
        ck_assert_uint_eq(*(unsigned char *)pm_pool_frame(p, PM_PFN(n)), 0);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_hot_lists)
{
    /* A pool that retains enough for the hot lists of small runs. */
    pm_pool_t *p = make_pool(4096, 0, 2048);
    pm_pfn_t a, b, c;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &a), PM_OK);
    memset(pm_pool_frame(p, a), 0x3C, 4096);
    ck_assert_int_eq(pm_pool_release(p, a, 0), PM_OK);
    ck_assert(!pm_pool_is_bound(p, a));
    ck_assert_int_eq(pm_pool_release(p, a, 0), PM_EINVAL); /* twice */
    ck_assert_int_eq(pm_pool_release(p, PM_PFN(a.n), 1), PM_EINVAL);
    struct pm_pool_stats st = stats(p);
    ck_assert_uint_eq(st.free, 4096);
    ck_assert_uint_eq(st.retained, 1);
    /* The hot frame comes back first, with its bytes unless zeroed. */
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &b), PM_OK);
    ck_assert_uint_eq(b.n, a.n);
    ck_assert(bytes_all(pm_pool_frame(p, b), 4096, 0x3C));
    ck_assert_int_eq(pm_pool_release(p, b, 0), PM_OK);
    ck_assert_int_eq(pm_pool_alloc(p, 0, PM_POOL_ZERO, &c), PM_OK);
    ck_assert_uint_eq(c.n, a.n);
    ck_assert(bytes_all(pm_pool_frame(p, c), 4096, 0));
    ck_assert_int_eq(pm_pool_release(p, c, 0), PM_OK);
    /* Runs of 16 as well; a DMA request never takes a hot run. */
    pm_pfn_t r[100];
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 4, 0, &r[i]), PM_OK);
        memset(pm_pool_frame(p, r[i]), i, 16 * 4096);
    }
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(pm_pool_release(p, r[i], 4), PM_OK);
    st = stats(p);
    ck_assert_uint_eq(st.free, 4096);
    ck_assert_uint_eq(st.bound, 0);
    ck_assert_uint_le(st.retained, 2048);
    ck_assert_uint_eq(st.host_releases, 0);
    ck_assert_int_eq(pm_pool_alloc(p, 4, PM_POOL_ZERO, &b), PM_OK);
    ck_assert(bytes_all(pm_pool_frame(p, b), 16 * 4096, 0));
    ck_assert_int_eq(pm_pool_release(p, b, 4), PM_OK);
    /* Trim empties the hot lists: everything merges back. */
    pm_pool_trim(p);
    st = stats(p);
    ck_assert_uint_eq(st.retained, 0);
    ck_assert_uint_eq(st.largest_free, 4096);
    ck_assert(bytes_all(pm_pool_frame(p, PM_PFN(0)), 4096 * 4096, 0));
    pm_pool_free(p);
}
END_TEST

START_TEST(test_memfd_backing)
{
    pm_pool_t *p = NULL;
    struct pm_pool_config c = {.page_size = 4096, .frames = 64, .backing = PM_POOL_MEMFD};
    ck_assert_int_eq(pm_pool_new(&c, &p), PM_OK);
    int fd = pm_pool_memfd(p);
    ck_assert_int_ge(fd, 0);
    pm_pfn_t a;
    ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &a), PM_OK);
    fill(p, a, 0, 3);
    /* The same bytes are visible through the file. */
    unsigned char b[16];
    ck_assert_int_eq(pread(fd, b, sizeof b, (off_t)a.n * 4096), (ssize_t)sizeof b);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(b[i], (unsigned char)(3 + i * 7));
    /* Released, the hole is punched: the frame reads as zero again. */
    ck_assert_int_eq(pm_pool_release(p, a, 0), PM_OK);
    ck_assert(bytes_all(pm_pool_frame(p, a), 4096, 0));
    pm_pool_free(p);

    pm_pool_t *anon = make_pool(4, 0, 0);
    ck_assert_int_eq(pm_pool_memfd(anon), -1);
    pm_pool_free(anon);
}
END_TEST

/* ---- host memory ---------------------------------------------------------- */

START_TEST(test_rss_low_until_touched)
{
    size_t before = host_rss();
    pm_pool_t *p = NULL;
    struct pm_pool_config c = {.page_size = 4096, .frames = 1u << 20, .retain_frames = 0};
    ck_assert_int_eq(pm_pool_new(&c, &p), PM_OK); /* 4 GiB of frames */
    ck_assert_ptr_nonnull(pm_pool_frame(p, PM_PFN((1u << 20) - 1)));
    /* Bookkeeping is 9 bytes a frame (~9 MiB), untouched as well;
     * the frames themselves cost nothing yet. */
    size_t made = host_rss();
    ck_assert_msg(made - before < 24u << 20, "a fresh 4 GiB pool costs %zu KiB",
                  (made - before) >> 10);

    /* Touch 2048 frames (8 MiB). */
    enum { N = 2048 };
    static pm_pfn_t f[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        memset(pm_pool_frame(p, f[i]), 0xA5, 4096);
    }
    size_t touched = host_rss();
    ck_assert_msg(touched - made >= (size_t)N * 4096 * 3 / 4, "touching 8 MiB added %zu KiB",
                  (touched - made) >> 10);
    /* Release them: the memory goes back to the host. */
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    size_t released = host_rss();
    ck_assert_msg(touched - released >= (size_t)N * 4096 * 3 / 4,
                  "releasing 8 MiB gave back only %zu KiB", (touched - released) >> 10);
    pm_pool_free(p);
}
END_TEST

START_TEST(test_rss_trim_gives_back)
{
    pm_pool_t *p = make_pool(8192, 0, 4096);
    enum { N = 2048 };
    static pm_pfn_t f[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(pm_pool_alloc(p, 0, 0, &f[i]), PM_OK);
        memset(pm_pool_frame(p, f[i]), 0x5A, 4096);
    }
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pm_pool_release(p, f[i], 0), PM_OK);
    ck_assert_uint_eq(stats(p).retained, N); /* kept hot, memory still held */
    size_t held = host_rss();
    pm_pool_trim(p);
    size_t trimmed = host_rss();
    ck_assert_msg(held - trimmed >= (size_t)N * 4096 * 3 / 4, "trim gave back only %zu KiB",
                  (held - trimmed) >> 10);
    pm_pool_free(p);
}
END_TEST

/* ---- randomised, against a bitmap ----------------------------------------- */

START_TEST(test_random_against_bitmap)
{
    enum { FRAMES = 4000, DMA = 300, SLOTS = 500 };
    pm_pool_t *p = make_pool(FRAMES, DMA, 8);
    static unsigned char used[FRAMES];
    struct {
        pm_pfn_t pfn;
        unsigned order;
        bool live;
    } slot[SLOTS] = {{{0}, 0, false}};
    memset(used, 0, sizeof used);
    uint64_t bound = 0;
    srand(1234 + (unsigned)_i);
    for (int step = 0; step < 20000; step++) {
        int s = rand() % SLOTS;
        if (slot[s].live) {
            if (rand() % 4 == 0) { /* a move */
                pm_pfn_t to;
                unsigned char tag = *(unsigned char *)pm_pool_frame(p, slot[s].pfn);
                if (pm_pool_move(p, slot[s].pfn, slot[s].order, 0, &to) == PM_OK) {
                    for (uint32_t i = 0; i < 1u << slot[s].order; i++)
                        used[slot[s].pfn.n + i] = 0;
                    for (uint32_t i = 0; i < 1u << slot[s].order; i++) {
                        CHECK(!used[to.n + i]);
                        used[to.n + i] = 1;
                    }
                    CHECK_EQ(*(unsigned char *)pm_pool_frame(p, to), tag);
                    slot[s].pfn = to;
                }
                continue;
            }
            CHECK_EQ(pm_pool_release(p, slot[s].pfn, slot[s].order), PM_OK);
            for (uint32_t i = 0; i < 1u << slot[s].order; i++)
                used[slot[s].pfn.n + i] = 0;
            bound -= 1u << slot[s].order;
            slot[s].live = false;
        } else {
            unsigned order = (unsigned)(rand() % 6);
            unsigned flags = rand() % 10 == 0 ? PM_POOL_DMA : 0;
            pm_pfn_t f;
            pm_error_t err = pm_pool_alloc(p, order, flags, &f);
            if (err == PM_ENOMEM)
                continue;
            CHECK_EQ(err, PM_OK);
            CHECK_EQ(f.n % (1u << order), 0);
            bool in_dma = f.n < DMA;
            for (uint32_t i = 0; i < 1u << order; i++) {
                CHECK(f.n + i < FRAMES);
                CHECK(!used[f.n + i]);
                CHECK((f.n + i < DMA) == in_dma); /* never across the zone boundary */
                used[f.n + i] = 1;
            }
            if (flags & PM_POOL_DMA)
                CHECK(in_dma);
            *(unsigned char *)pm_pool_frame(p, f) = (unsigned char)step;
            slot[s].pfn = f;
            slot[s].order = order;
            slot[s].live = true;
            bound += 1u << order;
        }
        if (step % 1000 == 0) {
            struct pm_pool_stats st = stats(p);
            CHECK_EQ(st.bound, bound);
            CHECK_EQ(st.free + st.bound, FRAMES);
            for (uint32_t i = 0; i < FRAMES; i += 7)
                CHECK(pm_pool_is_bound(p, PM_PFN(i)) == (used[i] != 0));
        }
    }
    pm_pool_free(p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("config");
    tcase_add_loop_test(tc, test_config, 0, (int)(sizeof configs / sizeof configs[0]));
    tcase_add_test(tc, test_null_args);
    suite_add_tcase(s, tc);

    tc = tcase_create("exhaustion");
    tcase_add_test(tc, test_exhaustion);
    tcase_add_test(tc, test_exhaustion_large_orders);
    suite_add_tcase(s, tc);

    tc = tcase_create("dma");
    tcase_add_test(tc, test_dma_zone_last_resort);
    tcase_add_test(tc, test_dma_only_from_zone);
    tcase_add_test(tc, test_zone_boundary_not_crossed);
    suite_add_tcase(s, tc);

    tc = tcase_create("runs");
    tcase_add_loop_test(tc, test_runs_naturally_aligned, 0, 8);
    tcase_add_test(tc, test_split_runs);
    tcase_add_test(tc, test_release_checks);
    tcase_add_test(tc, test_merge_restores_largest);
    suite_add_tcase(s, tc);

    tc = tcase_create("bytes");
    tcase_add_test(tc, test_move_keeps_bytes);
    tcase_add_test(tc, test_move_enomem_keeps_source);
    tcase_add_test(tc, test_zero_flag);
    tcase_add_test(tc, test_retain_bounded);
    tcase_add_test(tc, test_retain_churn_costs_no_host_call);
    tcase_add_test(tc, test_purge_coalesces_runs);
    tcase_add_test(tc, test_hot_lists);
    tcase_add_test(tc, test_memfd_backing);
    suite_add_tcase(s, tc);

    tc = tcase_create("host-memory");
    tcase_add_test(tc, test_rss_low_until_touched);
    tcase_add_test(tc, test_rss_trim_gives_back);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_loop_test(tc, test_random_against_bitmap, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
