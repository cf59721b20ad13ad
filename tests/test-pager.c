/* test-pager.c — the default self-pager (SPEC §8): ranges, faults, the
 * multiplexing of G frames with every eviction policy (a contract test runs
 * each registered one), data kept across eviction and swap, and golden
 * miss counts from the literature: Belady's anomaly for FIFO, the OSTEP
 * paging-policy examples for OPT, FIFO and LRU. */
#include <glib.h>

#include "harness.h"
#include "pmsim/pager.h"

static struct pmworld p;
static pm_pager_t *pg;
static l4_thread_t pager_thread;

#define BASE 0x10000000ull
#define PG 4096u

/* The final pager's backing, where a test wants one (setup_final). */
static sim_swapfile_t *dbfile;

/* A machine of FRAMES frames, one task, a pager multiplexing NFRAMES with
 * POLICY over a range of PAGES pages at BASE; a final pager of FINAL
 * frames paging to dbfile when FINAL is not 0. */
static void setup_final(uint32_t frames, const char *policy, uint64_t nframes, uint64_t pages,
                        uint32_t final)
{
    pmworld_init_swap(&p, frames, 1, 4 * frames, NULL);
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[0], &pager_thread), PM_OK);
    struct pm_pager_config cfg = {.pm = p.pm,
                                  .k = p.w.k,
                                  .thread = p.thread[0],
                                  .pager_thread = pager_thread,
                                  .policy = policy,
                                  .frames = nframes,
                                  .final_frames = final};
    if (final != 0) {
        ck_assert_int_eq(sim_swapfile_open(NULL, 4096, PG, &dbfile, NULL), PM_OK);
        cfg.final_backing = sim_swapfile_dev(dbfile);
    }
    ck_assert_int_eq(pm_pager_new(&cfg, &pg), PM_OK);
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, pager_thread, pm_pager_on_fault, pg), PM_OK);
    ck_assert_int_eq(l4_thread_set_pager(p.w.k, p.thread[0], pager_thread), PM_OK);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE, pages * PG), PM_OK);
}

static void setup(uint32_t frames, const char *policy, uint64_t nframes, uint64_t pages)
{
    setup_final(frames, policy, nframes, pages, 0);
}

static void teardown(void)
{
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, pager_thread, NULL, NULL), PM_OK);
    pm_pager_free(pg);
    pg = NULL;
    pmworld_fini(&p);
    sim_swapfile_close(dbfile);
    dbfile = NULL;
}

static struct pm_pager_stats stats(void)
{
    struct pm_pager_stats s;
    pm_pager_stats(pg, &s);
    return s;
}

/* Misses of POLICY with NFRAMES frames on the reference string REFS. */
static uint64_t misses(const char *policy, uint64_t nframes, const unsigned *refs, size_t n)
{
    setup(64, policy, nframes, 64);
    uint64_t *future = g_new(uint64_t, n);
    for (size_t i = 0; i < n; i++)
        future[i] = (BASE >> 12) + refs[i];
    pm_pager_set_future(pg, future, n);
    g_free(future);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(pm_pager_ref(pg, BASE + (uint64_t)refs[i] * PG, false), PM_OK);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.refs, n);
    ck_assert_uint_eq(s.hits + s.misses, n);
    ck_assert_uint_le(s.resident, nframes);
    PM_CHECK_INVARIANTS(&p);
    teardown();
    return s.misses;
}

/* Belady's anomaly: FIFO with more frames misses more on this string. */
START_TEST(test_belady_anomaly)
{
    static const unsigned refs[] = {1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5};
    ck_assert_uint_eq(misses("fifo", 3, refs, G_N_ELEMENTS(refs)), 9);
    ck_assert_uint_eq(misses("fifo", 4, refs, G_N_ELEMENTS(refs)), 10);
    /* LRU is a stack algorithm: no anomaly. */
    ck_assert_uint_eq(misses("lru", 3, refs, G_N_ELEMENTS(refs)), 10);
    ck_assert_uint_eq(misses("lru", 4, refs, G_N_ELEMENTS(refs)), 8);
    /* OPT: 7 and 6 misses. */
    ck_assert_uint_eq(misses("opt", 3, refs, G_N_ELEMENTS(refs)), 7);
    ck_assert_uint_eq(misses("opt", 4, refs, G_N_ELEMENTS(refs)), 6);
}
END_TEST

/* OSTEP, "Beyond Physical Memory: Policies" (chapter 22): the stream
 * 0 1 2 0 1 3 0 3 1 2 1 with a cache of three pages: the optimal policy
 * hits 6 times (5 misses), FIFO 4 (7 misses), LRU 6 (5 misses). */
START_TEST(test_ostep_examples)
{
    static const unsigned refs[] = {0, 1, 2, 0, 1, 3, 0, 3, 1, 2, 1};
    ck_assert_uint_eq(misses("opt", 3, refs, G_N_ELEMENTS(refs)), 5);
    ck_assert_uint_eq(misses("fifo", 3, refs, G_N_ELEMENTS(refs)), 7);
    ck_assert_uint_eq(misses("lru", 3, refs, G_N_ELEMENTS(refs)), 5);
}
END_TEST

/* Every registered policy: a random stream over twice as many pages as
 * frames, every page holding its own bytes, written and read back across
 * evictions to swap and back; resident never over the limit; the miss count
 * never under OPT's. */
START_TEST(test_policy_contract)
{
    const struct pm_evict_policy *pol = pm_evict_policies()[_i];
    ck_assert_ptr_nonnull(pol);
    const unsigned npages = 24, nframes = 8, nrefs = 600;
    unsigned *refs = g_new(unsigned, nrefs);
    GRand *rnd = g_rand_new_with_seed(42);
    for (unsigned i = 0; i < nrefs; i++)
        refs[i] = (unsigned)g_rand_int_range(rnd, 0, npages);
    g_rand_free(rnd);
    uint64_t opt = misses("opt", nframes, refs, nrefs);
    ck_assert_uint_ge(misses(pol->name, nframes, refs, nrefs), opt);

    setup(64, pol->name, nframes, npages);
    uint64_t *future = g_new(uint64_t, nrefs);
    for (unsigned i = 0; i < nrefs; i++)
        future[i] = (BASE >> 12) + refs[i];
    pm_pager_set_future(pg, future, nrefs);
    g_free(future);
    uint32_t *val = g_new0(uint32_t, npages);
    for (unsigned i = 0; i < nrefs; i++) {
        uint64_t va = BASE + (uint64_t)refs[i] * PG;
        uint32_t got;
        CHECK_EQ(pm_pager_access(pg, L4_ACCESS_READ, va, &got, sizeof got, NULL), PM_OK);
        CHECK_EQ(got, val[refs[i]]);
        if (i % 3 == 0) {
            val[refs[i]] = i + 1;
            CHECK_EQ(
                pm_pager_access(pg, L4_ACCESS_WRITE, va, &val[refs[i]], sizeof(uint32_t), NULL),
                PM_OK);
        }
        CHECK(stats().resident <= nframes);
    }
    struct pm_pager_stats s = stats();
    ck_assert_uint_gt(s.evictions, 0);
    ck_assert_uint_gt(s.swap_outs, 0);
    ck_assert_uint_gt(s.swap_ins, 0);
    ck_assert_uint_eq(s.evictions, s.swap_outs + s.drops);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_le(ti.allocated, nframes);
    PM_CHECK_INVARIANTS(&p);
    g_free(val);
    g_free(refs);
    teardown();
}
END_TEST

/* Ranges: faults outside them fail; overlap is EEXIST; munmap drops the
 * pages (frames back, swap discarded), and the range reads zero again. */
START_TEST(test_ranges)
{
    setup(64, "lru", 2, 4);
    unsigned char b = 0;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + 4 * PG, &b, 1, NULL), PM_EFAULT);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE + 2 * PG, PG), PM_EEXIST);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE + 1, PG), PM_EINVAL);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE + 8 * PG, 0), PM_EINVAL);
    uint32_t v[4] = {11, 22, 33, 44}, got;
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(
            pm_pager_access(pg, L4_ACCESS_WRITE, BASE + i * PG, &v[i], sizeof v[i], NULL), PM_OK);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &got, sizeof got, NULL),
                         PM_OK);
        ck_assert_uint_eq(got, v[i]);
    }
    ck_assert_uint_eq(stats().resident, 2);
    ck_assert_int_eq(pm_pager_munmap(pg, BASE, 2 * PG), PM_EINVAL); /* part of a range */
    ck_assert_int_eq(pm_pager_munmap(pg, BASE + 16 * PG, PG), PM_ENOENT);
    ck_assert_int_eq(pm_pager_munmap(pg, BASE, 4 * PG), PM_OK);
    ck_assert_uint_eq(stats().resident, 0);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.allocated, 0);
    ck_assert_uint_eq(ti.swap_ids, 0);
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE, &got, sizeof got, NULL), PM_EFAULT);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE, 4 * PG), PM_OK);
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE, &got, sizeof got, NULL), PM_OK);
    ck_assert_uint_eq(got, 0);
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* Clean pages (never written) are dropped, not swapped. */
START_TEST(test_clean_pages_dropped)
{
    setup(64, "fifo", 2, 8);
    unsigned char b;
    for (unsigned i = 0; i < 8; i++)
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &b, 1, NULL), PM_OK);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.evictions, 6);
    ck_assert_uint_eq(s.drops, 6);
    ck_assert_uint_eq(s.swap_outs, 0);
    ck_assert_uint_eq(s.zero_fills, 8);
    teardown();
}
END_TEST

/* A read fault that zero-fills takes a clean victim's frame with its
 * mapping: a grant item in the fault's reply moves the victim's read-only
 * mapping to the faulting page (no unmap, no map through physmem).  The
 * old page is gone from the address space, the new one reads zero, and a
 * later write still goes through physmem for a writable mapping. */
START_TEST(test_clean_victim_granted)
{
    setup(64, "fifo", 2, 8);
    unsigned char b = 0xFF;
    for (unsigned i = 0; i < 2; i++)
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &b, 1, NULL), PM_OK);
    struct l4_stats k0;
    l4_stats(p.w.k, &k0);
    struct pm_stats m0;
    pm_stats(p.pm, &m0);
    /* Pages 2 … 7 evict clean pages: each takes its victim's mapping. */
    for (unsigned i = 2; i < 8; i++) {
        b = 0xFF;
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG + 5, &b, 1, NULL),
                         PM_OK);
        ck_assert_uint_eq(b, 0);
    }
    struct l4_stats k1;
    l4_stats(p.w.k, &k1);
    struct pm_stats m1;
    pm_stats(p.pm, &m1);
    ck_assert_uint_eq(k1.grant_items - k0.grant_items, 6);
    ck_assert_uint_eq(k1.faults - k0.faults, 6);
    ck_assert_uint_eq(m1.map_calls, m0.map_calls);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.evictions, 6);
    ck_assert_uint_eq(s.drops, 6);
    ck_assert_uint_eq(s.faults, 8);
    ck_assert_uint_eq(s.resident, 2);
    /* Only pages 6 and 7 are mapped now: page 5 faults again (a miss). */
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(p.w.k, p.task[0], &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 2);
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + 5 * PG, &b, 1, NULL), PM_OK);
    ck_assert_uint_eq(stats().misses, 9);
    /* A write to a page mapped by a grant: physmem maps it writable. */
    unsigned char w = 0x77;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_WRITE, BASE + 5 * PG + 9, &w, 1, NULL), PM_OK);
    pm_stats(p.pm, &m1);
    ck_assert_uint_gt(m1.map_calls, m0.map_calls);
    b = 0;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + 5 * PG + 9, &b, 1, NULL), PM_OK);
    ck_assert_uint_eq(b, 0x77);
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* The hint policy evicts DONTNEED pages first and WILLNEED pages last. */
START_TEST(test_hints)
{
    setup(64, "hint", 3, 8);
    ck_assert_int_eq(pm_pager_hint(pg, BASE, PG, PM_HINT_WILLNEED), PM_OK);
    ck_assert_int_eq(pm_pager_hint(pg, BASE + PG, PG, PM_HINT_DONTNEED), PM_OK);
    ck_assert_int_eq(pm_pager_hint(pg, BASE, PG, 7), PM_EINVAL);
    /* 0 (willneed), 1 (dontneed), 2; then 3 evicts 1, 4 evicts 2 (LRU of
     * the normal ones), 0 is still there. */
    static const unsigned refs[] = {0, 1, 2, 3, 4, 0};
    for (size_t i = 0; i < G_N_ELEMENTS(refs); i++)
        ck_assert_int_eq(pm_pager_ref(pg, BASE + refs[i] * PG, false), PM_OK);
    ck_assert_uint_eq(stats().misses, 5);
    ck_assert_uint_eq(stats().hits, 1);
    teardown();
}
END_TEST

/* Extra frames for clean pages: past its frames, an eligible pager keeps
 * pages it only read in extra frames instead of evicting; asked for frames
 * back, it drops clean pages first, then swaps precious ones. */
START_TEST(test_extra_frames)
{
    pmworld_init_swap(&p, 64, 1, 256, NULL);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 4, true), PM_OK);
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[0], &pager_thread), PM_OK);
    struct pm_pager_config cfg = {
        .pm = p.pm, .k = p.w.k, .thread = p.thread[0], .pager_thread = pager_thread, .extra = true};
    ck_assert_int_eq(pm_pager_new(&cfg, &pg), PM_OK);
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, pager_thread, pm_pager_on_fault, pg), PM_OK);
    ck_assert_int_eq(l4_thread_set_pager(p.w.k, p.thread[0], pager_thread), PM_OK);
    ck_assert_int_eq(pm_pager_mmap(pg, BASE, 16 * PG), PM_OK);
    uint32_t v = 77, got;
    /* Two precious pages, then ten clean ones: 4 frames of G, 8 extra. */
    for (unsigned i = 0; i < 2; i++)
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_WRITE, BASE + i * PG, &v, sizeof v, NULL),
                         PM_OK);
    for (unsigned i = 2; i < 12; i++)
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &got, sizeof got, NULL),
                         PM_OK);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.resident, 12);
    ck_assert_uint_eq(s.extra, 8);
    ck_assert_uint_eq(s.evictions, 0);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.extra, 8);
    /* Asked for 11: ten clean pages go at once, then one precious page is
     * swapped. */
    ck_assert_uint_eq(pm_pager_return(pg, 11), 11);
    s = stats();
    ck_assert_uint_eq(s.drops, 10);
    ck_assert_uint_eq(s.swap_outs, 1);
    ck_assert_uint_eq(s.resident, 1);
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.allocated, 1);
    for (unsigned i = 0; i < 2; i++) {
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &got, sizeof got, NULL),
                         PM_OK);
        ck_assert_uint_eq(got, 77);
    }
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* Lending frames to I/O containers: the limit goes down, pages over it go
 * (precious ones to swap) and the frames leave A; taking them back raises
 * the limit again.  The data is intact throughout. */
START_TEST(test_lend)
{
    setup(64, "lru", 8, 16);
    uint32_t v[8], got;
    for (unsigned i = 0; i < 8; i++) {
        v[i] = 100 + i;
        ck_assert_int_eq(
            pm_pager_access(pg, L4_ACCESS_WRITE, BASE + i * PG, &v[i], sizeof v[i], NULL), PM_OK);
    }
    ck_assert_uint_eq(pm_pager_lend(pg, 3), 3);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.frames, 5);
    ck_assert_uint_eq(s.lent, 3);
    ck_assert_uint_eq(s.resident, 5);
    ck_assert_uint_eq(s.swap_outs, 3);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.allocated, 5);
    ck_assert_uint_eq(pm_pager_lend(pg, 100), 4); /* one frame stays to work with */
    pm_pager_take_back(pg, 7);
    ck_assert_uint_eq(stats().frames, 8);
    ck_assert_uint_eq(stats().lent, 0);
    for (unsigned i = 0; i < 8; i++) {
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + i * PG, &got, sizeof got, NULL),
                         PM_OK);
        ck_assert_uint_eq(got, v[i]);
    }
    ck_assert_uint_gt(stats().own_frames, 0);
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* A file-backed range: pages come from the source on fault (here, logical
 * copies out of a container standing for the file), clean until written;
 * evicted clean pages are dropped and fetched again, written ones are the
 * task's own (swapped, the file unchanged). */
static container_t file_c;
static unsigned fetches;

static pm_error_t fetch_from_container(void *ctx, uint64_t offset, container_t c, frame_t f)
{
    (void)ctx;
    fetches++;
    frame_t fe;
    return pm_container_copy(p.pm, p.task[0], file_c, (frame_t)(offset / PG), c, f, 1, 0, &fe);
}

/* A container of N frames of the task, mapped at 0x900000, frame I
 * holding the 32-bit value BASE_VALUE + I at byte 0. */
static container_t data_container(uint32_t n, uint32_t base_value)
{
    container_t c;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[0], &c), PM_OK);
    uint32_t k = n;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[0], c, 0, &k, 0), PM_OK);
    k = n;
    ck_assert_int_eq(
        pm_container_map(p.pm, p.task[0], c, 0, &k, CONT_MAP_READ | CONT_MAP_WRITE, 0x900000),
        PM_OK);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t tag = base_value + i;
        ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_WRITE, 0x900000 + i * PG, &tag, sizeof tag), PM_OK);
    }
    return c;
}

START_TEST(test_file_range)
{
    setup(64, "lru", 2, 1);
    fetches = 0;
    file_c = data_container(8, 500);
    struct pm_pager_source src = {.ctx = NULL, .fetch = fetch_from_container};
    ck_assert_int_eq(pm_pager_mmap_file(pg, BASE + 8 * PG, 4 * PG, &src, 2 * PG), PM_OK);
    ck_assert_int_eq(pm_pager_mmap_file(pg, BASE + 16 * PG, PG, &src, 1), PM_EINVAL);
    uint32_t got;
    for (int round = 0; round < 2; round++)
        for (uint32_t i = 0; i < 4; i++) {
            ck_assert_int_eq(
                pm_pager_access(pg, L4_ACCESS_READ, BASE + (8 + i) * PG, &got, sizeof got, NULL),
                PM_OK);
            ck_assert_uint_eq(got, 502 + i);
        }
    ck_assert_uint_eq(fetches, 8); /* two frames for four pages: each fetched twice */
    ck_assert_uint_eq(stats().swap_outs, 0);
    uint32_t mine = 4242;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_WRITE, BASE + 8 * PG, &mine, sizeof mine, NULL),
                     PM_OK);
    for (uint32_t i = 1; i < 4; i++)
        ck_assert_int_eq(
            pm_pager_access(pg, L4_ACCESS_READ, BASE + (8 + i) * PG, &got, sizeof got, NULL),
            PM_OK);
    ck_assert_uint_ge(stats().swap_outs, 1);
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, BASE + 8 * PG, &got, sizeof got, NULL),
                     PM_OK);
    ck_assert_uint_eq(got, 4242);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, 0x900000 + 2 * PG, &got, sizeof got), PM_OK);
    ck_assert_uint_eq(got, 502); /* the file is unchanged */
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* Eager mapping (SPEC 8): data already in a container is logically copied
 * into the pager's frames and mapped at once: no fault for the pages it
 * holds, precious (swapped, not dropped, when evicted), the container left
 * as it was; a missing frame fails the call and the range is gone again. */
START_TEST(test_mmap_eager)
{
    setup(64, "fifo", 3, 1);
    container_t c = data_container(5, 700);
    const uint64_t at = BASE + 16 * PG;
    /* A hole in the source: nothing stays. */
    uint32_t one = 1;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[0], c, 4, &one, 0), PM_OK);
    ck_assert_int_eq(pm_pager_mmap_eager(pg, at, 5 * PG, c, 0), PM_ENOENT);
    ck_assert(!pm_pager_covers(pg, at, PG));
    ck_assert_uint_eq(stats().resident, 0);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.swap_ids, 0);
    ck_assert_uint_eq(ti.allocated, 4);
    ck_assert_int_eq(pm_pager_mmap_eager(pg, at, PG, PM_CONTAINER_NONE, 0), PM_EINVAL);
    /* Four pages through three frames: the first is swapped out already. */
    struct l4_stats k0;
    l4_stats(p.w.k, &k0);
    uint64_t outs = stats().swap_outs;
    ck_assert_int_eq(pm_pager_mmap_eager(pg, at, 4 * PG, c, 0), PM_OK);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.resident, 3);
    ck_assert_uint_eq(s.swap_outs, outs + 1);
    ck_assert_uint_eq(s.faults, 0);
    uint32_t got;
    for (uint32_t i = 1; i < 4; i++) {
        ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, at + i * PG, &got, sizeof got, NULL),
                         PM_OK);
        ck_assert_uint_eq(got, 700 + i);
    }
    ck_assert_uint_eq(stats().faults, 0); /* mapped at once */
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, at, &got, sizeof got, NULL), PM_OK);
    ck_assert_uint_eq(got, 700);
    ck_assert_uint_eq(stats().swap_ins, 1);
    /* Writing the pager's copy leaves the container's frame alone. */
    uint32_t mine = 1;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_WRITE, at + 2 * PG, &mine, sizeof mine, NULL),
                     PM_OK);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, 0x900000 + 2 * PG, &got, sizeof got), PM_OK);
    ck_assert_uint_eq(got, 702);
    struct l4_stats k1;
    l4_stats(p.w.k, &k1);
    ck_assert_uint_eq(k1.faults - k0.faults, 2); /* the swapped page, the write */
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* ---- the final pager ---------------------------------------------------- */

#define RECS_PER_PAGE (PG / 32u) /* a record is 32 bytes */

/* Page I of the pages the final pager test writes: one in each database
 * page, not at its start. */
static uint64_t spread_page(unsigned i)
{
    return (uint64_t)i * RECS_PER_PAGE + i % 7;
}

static pm_error_t put(unsigned i, uint64_t v)
{
    return pm_pager_access(pg, L4_ACCESS_WRITE, BASE + spread_page(i) * PG + 8, &v, sizeof v, NULL);
}

static void expect_value(unsigned i, uint64_t want)
{
    uint64_t got = 0;
    ck_assert_int_eq(
        pm_pager_access(pg, L4_ACCESS_READ, BASE + spread_page(i) * PG + 8, &got, sizeof got, NULL),
        PM_OK);
    ck_assert_uint_eq(got, want);
}

/* The pager's database is paged by a final pager of two frames: records
 * of pages in swap (their swap identifiers) go out to the backing and come
 * back, and every byte written is read back; the pager's own frames are
 * the records in memory plus its tables, never more than its budget of
 * records; munmap discards every swap identifier, even those whose
 * records were out. */
START_TEST(test_final_pager)
{
    const unsigned n = 48;
    setup_final(64, "lru", 8, (uint64_t)n * RECS_PER_PAGE, 2);
    struct pm_pager_stats s = stats();
    ck_assert_uint_eq(s.final_frames, 2);
    ck_assert_uint_eq(s.db_resident, 0); /* records come when first used */
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(put(i, 1000 + i), PM_OK);
    s = stats();
    ck_assert_uint_le(s.db_resident, 2);
    ck_assert_uint_ge(s.db_writes, n - 2);
    ck_assert_uint_ge(s.swap_outs, n - 8);
    ck_assert_uint_ge(s.own_frames, s.db_resident + 1);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_le(ti.allocated, 8); /* its own memory is not physmem's */
    for (int round = 0; round < 2; round++)
        for (unsigned i = 0; i < n; i++)
            expect_value(i, 1000 + i);
    s = stats();
    ck_assert_uint_ge(s.db_reads, n);
    ck_assert_uint_le(s.db_resident, 2);
    PM_CHECK_INVARIANTS(&p);

    /* The backing refuses writes: the final pager keeps what it cannot
     * write (over its budget) and nothing is lost; it gets back under its
     * budget at its next fault once the backing takes writes again. */
    sim_swapfile_inject(dbfile, SIM_SWAP_WRITE_EIO, 0, UINT64_MAX);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(put(i, 2000 + i), PM_OK);
    ck_assert_uint_gt(stats().db_resident, 2);
    sim_swapfile_inject(dbfile, SIM_SWAP_OK, 0, 0);
    const uint64_t other = BASE + (uint64_t)n * RECS_PER_PAGE * PG;
    ck_assert_int_eq(pm_pager_mmap(pg, other, PG), PM_OK);
    unsigned char z = 1;
    ck_assert_int_eq(pm_pager_access(pg, L4_ACCESS_READ, other, &z, 1, NULL), PM_OK);
    ck_assert_uint_eq(z, 0);
    ck_assert_uint_le(stats().db_resident, 2);
    for (unsigned i = 0; i < n; i++)
        expect_value(i, 2000 + i);
    ck_assert_uint_le(stats().db_resident, 2);

    /* The backing fails a read: the fault fails (the pager cannot know
     * where the page is) and changes nothing; it works once the backing
     * does. */
    expect_value(0, 2000); /* page 1 is in swap, its records on the backing */
    sim_swapfile_inject(dbfile, SIM_SWAP_READ_EIO, 0, UINT64_MAX);
    uint64_t got = 0, refused = stats().refused;
    ck_assert_int_eq(
        pm_pager_access(pg, L4_ACCESS_READ, BASE + spread_page(1) * PG + 8, &got, sizeof got, NULL),
        PM_EFAULT);
    ck_assert_uint_eq(stats().refused, refused + 1);
    sim_swapfile_inject(dbfile, SIM_SWAP_OK, 0, 0);
    expect_value(1, 2001);
    for (unsigned i = 0; i < n; i++)
        expect_value(i, 2000 + i);

    /* munmap: every swap identifier goes, the records too. */
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_gt(ti.swap_ids, 0);
    ck_assert_int_eq(pm_pager_munmap(pg, BASE, (uint64_t)n * RECS_PER_PAGE * PG), PM_OK);
    ck_assert_int_eq(pm_pager_munmap(pg, other, PG), PM_OK);
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.swap_ids, 0);
    ck_assert_uint_eq(ti.allocated, 0);
    s = stats();
    ck_assert_uint_eq(s.db_resident, 0);
    ck_assert_uint_eq(s.db_stored, 0);
    ck_assert_uint_eq(s.resident, 0);
    PM_CHECK_INVARIANTS(&p);
    teardown();
}
END_TEST

/* Freeing a pager whose records are partly on the backing discards every
 * swap identifier it held. */
START_TEST(test_final_pager_free)
{
    setup_final(64, "fifo", 4, 32 * RECS_PER_PAGE, 3);
    for (unsigned i = 0; i < 32; i++)
        ck_assert_int_eq(put(i, i), PM_OK);
    ck_assert_uint_gt(stats().db_stored, 0);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_ge(ti.swap_ids, 28);
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, pager_thread, NULL, NULL), PM_OK);
    pm_pager_free(pg);
    pg = NULL;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.swap_ids, 0);
    ck_assert_uint_eq(ti.allocated, 0);
    pmworld_fini(&p);
    sim_swapfile_close(dbfile);
    dbfile = NULL;
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("pager");
    TCase *tc = tcase_create("pager");
    tcase_add_test(tc, test_belady_anomaly);
    tcase_add_test(tc, test_ostep_examples);
    size_t n = 0;
    while (pm_evict_policies()[n] != NULL)
        n++;
    tcase_add_loop_test(tc, test_policy_contract, 0, (int)n);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_clean_pages_dropped);
    tcase_add_test(tc, test_clean_victim_granted);
    tcase_add_test(tc, test_hints);
    tcase_add_test(tc, test_extra_frames);
    tcase_add_test(tc, test_lend);
    tcase_add_test(tc, test_file_range);
    tcase_add_test(tc, test_mmap_eager);
    tcase_add_test(tc, test_final_pager);
    tcase_add_test(tc, test_final_pager_free);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
