/* bench-pager.c — the default self-pager (SPEC §8, pmsim/pager.h): faults
 * it resolves, its hit path, and trace replay under each eviction policy.
 *
 * Every figure comes from a simulated machine of its own: a pool of 4 KiB
 * frames that retains every released frame (so after the first repetition
 * a frame the pager gets is resident host memory, cleared with memset, and
 * no host fault hides in the simulated one), a kernel over it, physmem with
 * a temporary swap file, one task with two threads (the one whose accesses
 * go through the pager, and the pager thread whose handler is
 * pm_pager_on_fault), and a pager over one range made with pm_pager_mmap.
 * A new pager (and so a new primary container) is made for every
 * repetition, not timed.
 *
 * 1. Resolved faults per second.  N fresh pages of the range, each touched
 *    once, with as many frames as pages (nothing evicted): pm_pager_ref (a
 *    one-byte load: a zero-fill fault, the frame mapped read-only), an
 *    8-byte store with pm_pager_access (one write fault, mapped writable),
 *    and pm_pager_ref with write (a store that changes nothing,
 *    L4_ACCESS_TOUCH: one write fault).  The
 *    baseline is the host's minor fault: the first store of one byte to
 *    each page of a fresh anonymous mmap of N pages (MADV_NOHUGEPAGE: one
 *    fault a 4 KiB page, as the simulated one; mmap and munmap not timed).
 *    The first load of each page (the host maps its shared zero page) is
 *    printed too.  Goal (issue 7): simulated faults per second >= the
 *    host's, ratio >= 1.
 *    Then faults that evict (N = 16 × M pages over M = 1024 frames, LRU; a
 *    second sequential pass, timed, misses on every page): clean pages (only
 *    loaded: each fault reuses the victim's zero frame, its mapping moved
 *    to the faulting page by a grant in the fault's reply) and precious
 *    ones (the first pass stored to every page, so each fault of the timed
 *    pass, an 8-byte load checked against what was stored, swaps its victim
 *    out and its own page in; the pool has M + 64 frames, so physmem writes
 *    dirty inactive frames to the file as it needs them).  Beside them, one
 *    pwrite and one pread of 4 KiB on the same swap file (the I/O a swapping
 *    fault cannot avoid).
 *
 * 2. Hit path: references to pages already resident and mapped writable,
 *    cycling over 64 pages and over 16 (the kernel's translation cache has
 *    64 entries, direct-mapped by page number): pm_pager_ref (load; store),
 *    pm_pager_access of 8 bytes, and plain l4_access of 8 bytes (the
 *    kernel alone: the same path without the pager's bookkeeping).
 *    Baseline: 8-byte loads of host memory in the same pattern.  Goal:
 *    >= 50 M accesses/s.
 *
 * 3. Trace replay: a Zipf (alpha 1.0, ranks shuffled over the pages) and a
 *    uniform trace of page references over 4096 pages, replayed from cold
 *    through pm_pager_ref (loads) with 1024 frames under every registered
 *    policy.  OPT is O(frames) per eviction (it asks next_use of every slot,
 *    a hash lookup each): it replays a prefix, once.  Each policy's misses
 *    are checked against a small reference simulator of this file (exact
 *    LRU, FIFO, CLOCK with the pager's slot order, and OPT; the hint policy
 *    without hints is LRU).  Baseline: that reference LRU simulator on the
 *    same trace (arrays and a linked list, what a trace-driven cache
 *    simulator does).  Goal: >= 20 M refs/s with LRU.
 *
 * Each figure is the best of the repetitions, the median beside it.
 * Measurements, not tests: the exit status is 0 whether goals are met or
 * not; 1 when data came back wrong or a count is off.
 *
 * Run: ./build-rel/bench/bench-pager [--quick | --scale=F] [--only=faults|hits|trace]
 * (a release build with -Db_lto=true gives the figures that count; --only
 * runs one section, for perf).  The default run takes about 16 s. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmsim/l4sim.h"
#include "pmsim/pager.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"
#include "pmsim/swapfile.h"

#include "bench.h"

#define PAGE 4096u
#define PAGE_SHIFT 12u
/* The pager's range: far from anything else. */
#define BASE 0x10000000ull
#define MAX_REPS 16 /* at most BENCH_MAX_REPS */
/* Frames of the pool beyond what the pager multiplexes. */
#define SLACK 64u

#define GOAL_FAULT_RATIO 1.0
#define GOAL_HIT_RATE 50e6
#define GOAL_TRACE_RATE 20e6

static volatile uint64_t sink;

static double rate_of(double ns_per_op)
{
    return ns_per_op > 0.0 ? 1e9 / ns_per_op : 0.0;
}

/* `label : 1.23 M/s  812.0 ns/op  (median 1.20 M/s)` */
static void print_series(const char *label, const struct bench_series *s, const char *unit)
{
    double b = bench_series_best(s), m = bench_series_median(s);
    printf("%-*s: %8.2f M/s %9.1f ns/%-5s (median %.2f M/s)\n", BENCH_LABEL_WIDTH, label,
           rate_of(b) / 1e6, b, unit, rate_of(m) / 1e6);
}

/* ---- a machine ------------------------------------------------------------------- */

struct machine {
    pm_pool_t *pool;
    l4_kernel_t *k;
    sim_swapfile_t *swap;
    pm_physmem_t *pm;
    l4_task_t task;
    l4_thread_t thread, pager_thread;
    pm_pager_t *pg;
};

/* A pool of FRAMES frames (retaining all of them), a kernel, physmem with a
 * swap file of SLOTS pages, and one task with a thread and a pager thread. */
static void machine_new(struct machine *m, uint32_t frames, uint64_t slots)
{
    memset(m, 0, sizeof *m);
    struct pm_pool_config pc = {
        .page_size = PAGE, .frames = frames, .retain_frames = frames, .backing = PM_POOL_ANON};
    BENCH_CHECK(pm_pool_new(&pc, &m->pool) == PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(m->pool), .page_size = PAGE, .frames = frames};
    BENCH_CHECK(l4_kernel_new(&kc, &m->k) == PM_OK);
    BENCH_CHECK(sim_swapfile_open(NULL, slots, PAGE, &m->swap, NULL) == PM_OK);
    struct pm_physmem_config cfg = {.pool = m->pool,
                                    .kernel = m->k,
                                    .thread = l4_root_thread(m->k),
                                    .swap = sim_swapfile_dev(m->swap)};
    BENCH_CHECK(pm_physmem_new(&cfg, &m->pm) == PM_OK);
    BENCH_CHECK(l4_task_create(m->k, &m->task) == PM_OK);
    BENCH_CHECK(l4_thread_create(m->k, m->task, &m->thread) == PM_OK);
    BENCH_CHECK(pm_task_add(m->pm, m->task, m->thread) == PM_OK);
    BENCH_CHECK(l4_thread_create(m->k, m->task, &m->pager_thread) == PM_OK);
    BENCH_CHECK(l4_thread_set_pager(m->k, m->thread, m->pager_thread) == PM_OK);
}

/* A pager multiplexing FRAMES frames with POLICY over PAGES pages at BASE. */
static void pager_start(struct machine *m, const char *policy, uint64_t frames, uint64_t pages)
{
    struct pm_pager_config cfg = {.pm = m->pm,
                                  .k = m->k,
                                  .thread = m->thread,
                                  .pager_thread = m->pager_thread,
                                  .policy = policy,
                                  .frames = frames};
    BENCH_CHECK(pm_pager_new(&cfg, &m->pg) == PM_OK);
    BENCH_CHECK(l4_thread_set_handler(m->k, m->pager_thread, pm_pager_on_fault, m->pg) == PM_OK);
    BENCH_CHECK(pm_pager_mmap(m->pg, BASE, pages * PAGE) == PM_OK);
}

static void pager_stop(struct machine *m)
{
    BENCH_CHECK(l4_thread_set_handler(m->k, m->pager_thread, NULL, NULL) == PM_OK);
    pm_pager_free(m->pg);
    m->pg = NULL;
}

static void machine_free(struct machine *m)
{
    pm_physmem_free(m->pm);
    sim_swapfile_close(m->swap);
    l4_kernel_free(m->k);
    pm_pool_free(m->pool);
}

static struct pm_pager_stats pstats(const struct machine *m)
{
    struct pm_pager_stats s;
    pm_pager_stats(m->pg, &s);
    return s;
}

/* ---- 1. faults ------------------------------------------------------------------- */

enum touch { T_REF_LOAD, T_STORE8, T_REF_STORE };

/* One touch of page I through the pager. */
static void touch_page(struct machine *m, uint64_t i, enum touch how)
{
    uint64_t va = BASE + i * PAGE;
    if (how == T_STORE8) {
        uint64_t v = i;
        BENCH_CHECK(pm_pager_access(m->pg, L4_ACCESS_WRITE, va, &v, sizeof v, NULL) == PM_OK);
    } else {
        BENCH_CHECK(pm_pager_ref(m->pg, va, how == T_REF_STORE) == PM_OK);
    }
}

/* First touch of each of N pages of a fresh pager with N frames.  Returns
 * the time; *HOST_FAULTS gets the host's minor faults meanwhile. */
static uint64_t fresh_round(struct machine *m, uint64_t n, enum touch how, uint64_t *host_faults)
{
    pager_start(m, "lru", n, n);
    uint64_t f0 = bench_minor_faults();
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++)
        touch_page(m, i, how);
    uint64_t t = bench_now_ns() - t0;
    *host_faults = bench_minor_faults() - f0;
    struct pm_pager_stats s = pstats(m);
    BENCH_CHECK(s.faults == n && s.evictions == 0 && s.zero_fills == n && s.resident == n &&
                s.refused == 0);
    pager_stop(m);
    return t;
}

/* First store (or load) of one byte to each of N pages of a fresh
 * anonymous mapping, without transparent huge pages. */
static uint64_t host_round(uint64_t n, bool store)
{
    size_t len = (size_t)n * PAGE;
    unsigned char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(b != MAP_FAILED);
    (void)madvise(b, len, MADV_NOHUGEPAGE);
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    if (store) {
        for (uint64_t i = 0; i < n; i++)
            ((volatile unsigned char *)b)[i * PAGE] = (unsigned char)i;
    } else {
        for (uint64_t i = 0; i < n; i++)
            sum += ((volatile unsigned char *)b)[i * PAGE];
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    munmap(b, len);
    return t;
}

struct evict_result {
    uint64_t ns, faults, writes, reads;
};

/* N pages over M frames: a first pass (stores when SWAP, loads otherwise),
 * then a timed pass of loads over all N, every one a miss that evicts. */
static struct evict_result evict_round(struct machine *m, uint64_t n, uint64_t frames, bool swap,
                                       unsigned rep)
{
    pager_start(m, "lru", frames, n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t va = BASE + i * PAGE;
        if (swap) {
            uint64_t v = i * 2654435761u + rep;
            BENCH_CHECK(pm_pager_access(m->pg, L4_ACCESS_WRITE, va, &v, sizeof v, NULL) == PM_OK);
        } else {
            BENCH_CHECK(pm_pager_ref(m->pg, va, false) == PM_OK);
        }
    }
    struct pm_pager_stats s0 = pstats(m);
    struct sim_swapfile_stats w0, w1;
    sim_swapfile_stats(m->swap, &w0);
    uint64_t bad = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = 0;
        BENCH_CHECK(pm_pager_access(m->pg, L4_ACCESS_READ, BASE + i * PAGE, &v, sizeof v, NULL) ==
                    PM_OK);
        bad += v != (swap ? i * 2654435761u + rep : 0);
    }
    uint64_t t = bench_now_ns() - t0;
    sim_swapfile_stats(m->swap, &w1);
    struct pm_pager_stats s1 = pstats(m);
    if (bad != 0) {
        fprintf(stderr, "bench-pager: %llu pages came back wrong after eviction%s\n",
                (unsigned long long)bad, swap ? " to swap" : "");
        exit(1);
    }
    BENCH_CHECK(s1.faults - s0.faults == n && s1.evictions - s0.evictions == n);
    BENCH_CHECK(swap ? s1.swap_ins - s0.swap_ins == n : s1.drops - s0.drops == n);
    pager_stop(m);
    return (struct evict_result){
        .ns = t, .faults = n, .writes = w1.writes - w0.writes, .reads = w1.reads - w0.reads};
}

/* One pwrite and one pread of a page per page, on the swap file. */
static uint64_t raw_io_round(int fd, uint64_t n)
{
    unsigned char buf[PAGE];
    memset(buf, 0x5a, sizeof buf);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        BENCH_CHECK(pwrite(fd, buf, PAGE, (off_t)(i * PAGE)) == PAGE);
        BENCH_CHECK(pread(fd, buf, PAGE, (off_t)(((i + n / 2) % n) * PAGE)) == PAGE);
    }
    return bench_now_ns() - t0;
}

static void print_thp(void)
{
    char buf[128] = "unknown";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f != NULL) {
        if (fgets(buf, sizeof buf, f) == NULL)
            strcpy(buf, "unknown");
        fclose(f);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("host: transparent huge pages %s (the baseline mappings get MADV_NOHUGEPAGE)\n", buf);
}

static bool bench_faults(double scale, unsigned reps)
{
    uint64_t n = bench_scaled(65536, scale, 1024);
    uint64_t m_frames = 1024, ne = bench_scaled(16 * 1024, scale, 2 * 1024);
    printf("\n1. resolved faults: %llu fresh pages, %llu frames (nothing evicted);\n"
           "   timed: the first touch of every page (a zero-fill fault each)\n",
           (unsigned long long)n, (unsigned long long)n);

    struct machine m;
    machine_new(&m, (uint32_t)(n + SLACK), 1024);
    struct bench_series host_st = {0}, host_ld = {0}, ref = {0}, st8 = {0}, refw = {0};
    double first_ref = 0, hf_ref = 0, hf_st8 = 0;
    for (unsigned r = 0; r < reps; r++) {
        uint64_t hf;
        bench_series_add(&host_st, host_round(n, true), n);
        bench_series_add(&host_ld, host_round(n, false), n);
        uint64_t t = fresh_round(&m, n, T_REF_LOAD, &hf);
        bench_series_add(&ref, t, n);
        hf_ref = (double)hf / (double)n;
        if (r == 0)
            first_ref = (double)t / (double)n;
        bench_series_add(&st8, fresh_round(&m, n, T_STORE8, &hf), n);
        hf_st8 = (double)hf / (double)n;
        bench_series_add(&refw, fresh_round(&m, n, T_REF_STORE, &hf), n);
    }
    machine_free(&m);

    printf("  faults/s:\n");
    print_series("    host, first store (minor fault)", &host_st, "fault");
    print_series("    host, first load (zero page)", &host_ld, "fault");
    print_series("    pager, pm_pager_ref load", &ref, "fault");
    print_series("    pager, pm_pager_access store 8 B", &st8, "fault");
    print_series("    pager, ref store (TOUCH)", &refw, "fault");
    printf("    %-*s: %9.1f ns/fault (the pool's frames not yet resident)\n", BENCH_LABEL_WIDTH - 4,
           "first repetition, ref load", first_ref);
    printf("    host minor faults per simulated fault (last repetition): load %.2f, store %.2f\n",
           hf_ref, hf_st8);
    double r_ref = bench_series_ratio(&ref, &host_st), r_st8 = bench_series_ratio(&st8, &host_st);
    bench_print_ratio("    ratio pager ref load / host store", r_ref, GOAL_FAULT_RATIO);
    bench_print_ratio("    ratio pager store 8 B / host store", r_st8, GOAL_FAULT_RATIO);
    bench_print_ratio("    ratio pager ref store / host store", bench_series_ratio(&refw, &host_st),
                      0.0);
    bench_print_ratio("    ratio pager ref load / host load", bench_series_ratio(&ref, &host_ld),
                      0.0);
    fflush(stdout);

    /* Faults that evict: clean drops, and swap. */
    printf("\n   faults that evict: %llu pages over %llu frames (LRU), a sequential pass\n"
           "   before the timed one, whose every load misses and evicts\n",
           (unsigned long long)ne, (unsigned long long)m_frames);
    struct machine c, w;
    machine_new(&c, (uint32_t)(m_frames + SLACK), 1024);
    machine_new(&w, (uint32_t)(m_frames + SLACK), ne + m_frames);
    struct bench_series clean = {0}, swapping = {0}, raw = {0};
    struct evict_result er = {0};
    for (unsigned r = 0; r < reps; r++) {
        struct evict_result cr = evict_round(&c, ne, m_frames, false, r);
        bench_series_add(&clean, cr.ns, cr.faults);
        er = evict_round(&w, ne, m_frames, true, r);
        bench_series_add(&swapping, er.ns, er.faults);
        bench_series_add(&raw, raw_io_round(sim_swapfile_fd(w.swap), ne), ne);
    }
    machine_free(&c);
    machine_free(&w);
    print_series("    pager, clean victim dropped", &clean, "fault");
    print_series("    pager, victim to swap, page back", &swapping, "fault");
    print_series("    raw pwrite+pread 4 KiB, swap file", &raw, "page");
    printf("    swap device per fault (last repetition): %.2f writes, %.2f reads\n",
           (double)er.writes / (double)er.faults, (double)er.reads / (double)er.faults);
    printf("    swapping fault beyond its pwrite + pread: %.1f ns (best)\n",
           bench_series_best(&swapping) - bench_series_best(&raw));
    bench_print_ratio("    ratio clean eviction / host store", bench_series_ratio(&clean, &host_st),
                      0.0);
    bench_print_ratio("    ratio swapping / host store", bench_series_ratio(&swapping, &host_st),
                      0.0);
    bench_print_ratio("    ratio swapping / raw pwrite+pread", bench_series_ratio(&swapping, &raw),
                      0.0);
    fflush(stdout);
    return r_ref >= GOAL_FAULT_RATIO;
}

/* ---- 2. the hit path ----------------------------------------------------------- */

enum hit_kind { H_REF_LOAD, H_REF_STORE, H_ACCESS8, H_L4_ACCESS8 };

/* M accesses cycling over NPAGES resident pages. */
static uint64_t hit_round(struct machine *m, enum hit_kind kind, uint64_t npages, uint64_t count)
{
    uint64_t sum = 0, mask = npages - 1;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++) {
        uint64_t va = BASE + (i & mask) * PAGE + 8;
        uint64_t v = 0;
        pm_error_t err;
        switch (kind) {
        case H_REF_LOAD:
            err = pm_pager_ref(m->pg, va, false);
            break;
        case H_REF_STORE:
            err = pm_pager_ref(m->pg, va, true);
            break;
        case H_ACCESS8:
            err = pm_pager_access(m->pg, L4_ACCESS_READ, va, &v, sizeof v, NULL);
            break;
        default:
            err = l4_access(m->k, m->thread, L4_ACCESS_READ, va, &v, sizeof v, NULL);
            break;
        }
        if (err != PM_OK)
            BENCH_CHECK(err == PM_OK);
        sum += v;
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

static uint64_t host_hit_round(const unsigned char *mem, uint64_t npages, uint64_t count)
{
    uint64_t sum = 0, mask = npages - 1;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < count; i++)
        sum += *(const volatile uint64_t *)(const void *)(mem + (i & mask) * PAGE + 8);
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

static bool bench_hits(double scale, unsigned reps)
{
    const uint64_t npages = 64;
    uint64_t count = bench_scaled(4000000, scale, 10000);
    printf("\n2. hit path: %llu accesses a figure to resident pages mapped writable, cycling\n"
           "   over 64 pages (16 where it says so); no fault in the timed loops\n",
           (unsigned long long)count);
    struct machine m;
    machine_new(&m, 4096, 1024);
    pager_start(&m, "lru", 1024, npages);
    for (uint64_t i = 0; i < npages; i++)
        touch_page(&m, i, T_STORE8);
    unsigned char *hm =
        mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(hm != MAP_FAILED);
    memset(hm, 1, npages * PAGE);

    struct bench_series ref = {0}, ref16 = {0}, refw = {0}, acc = {0}, l4 = {0}, l4_16 = {0};
    struct bench_series host = {0};
    struct pm_pager_stats s0 = pstats(&m);
    for (unsigned r = 0; r < reps; r++) {
        bench_series_add(&ref, hit_round(&m, H_REF_LOAD, npages, count), count);
        bench_series_add(&ref16, hit_round(&m, H_REF_LOAD, 16, count), count);
        bench_series_add(&refw, hit_round(&m, H_REF_STORE, npages, count), count);
        bench_series_add(&acc, hit_round(&m, H_ACCESS8, npages, count), count);
        bench_series_add(&l4, hit_round(&m, H_L4_ACCESS8, npages, count), count);
        bench_series_add(&l4_16, hit_round(&m, H_L4_ACCESS8, 16, count), count);
        bench_series_add(&host, host_hit_round(hm, npages, count), count);
    }
    struct pm_pager_stats s1 = pstats(&m);
    BENCH_CHECK(s1.faults == s0.faults && s1.misses == s0.misses &&
                s1.hits - s0.hits == 4 * (uint64_t)reps * count);
    munmap(hm, npages * PAGE);
    pager_stop(&m);
    machine_free(&m);

    print_series("    pm_pager_ref load", &ref, "acc");
    print_series("    pm_pager_ref load, 16 pages", &ref16, "acc");
    print_series("    pm_pager_ref store", &refw, "acc");
    print_series("    pm_pager_access load 8 B", &acc, "acc");
    print_series("    l4_access load 8 B (kernel only)", &l4, "acc");
    print_series("    l4_access load 8 B, 16 pages", &l4_16, "acc");
    print_series("    host load 8 B", &host, "acc");
    printf("    pager's own cost over l4_access: ref %.1f ns, access %.1f ns\n",
           bench_series_best(&ref) - bench_series_best(&l4),
           bench_series_best(&acc) - bench_series_best(&l4));
    bench_print_ratio("    ratio pm_pager_ref / host", bench_series_ratio(&ref, &host), 0.0);
    bench_print_ratio("    ratio l4_access / host", bench_series_ratio(&l4, &host), 0.0);
    fflush(stdout);
    printf("    goal >= %.0f M/s: pm_pager_ref %s, pm_pager_access %s, l4_access %s "
           "(16 pages: %s)\n",
           GOAL_HIT_RATE / 1e6,
           rate_of(bench_series_best(&ref)) >= GOAL_HIT_RATE ? "met" : "NOT met",
           rate_of(bench_series_best(&acc)) >= GOAL_HIT_RATE ? "met" : "NOT met",
           rate_of(bench_series_best(&l4)) >= GOAL_HIT_RATE ? "met" : "NOT met",
           rate_of(bench_series_best(&l4_16)) >= GOAL_HIT_RATE ? "met" : "NOT met");
    return rate_of(bench_series_best(&ref)) >= GOAL_HIT_RATE;
}

/* ---- 3. trace replay ------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* N references over NPAGES pages: Zipf with ALPHA (ranks shuffled over
 * the pages), or uniform when ALPHA is 0. */
static uint32_t *make_trace(size_t n, uint32_t npages, double alpha, uint64_t seed)
{
    uint32_t *t = malloc(n * sizeof *t);
    double *cdf = malloc(npages * sizeof *cdf);
    uint32_t *perm = malloc(npages * sizeof *perm);
    BENCH_CHECK(t != NULL && cdf != NULL && perm != NULL);
    double sum = 0;
    for (uint32_t k = 0; k < npages; k++) {
        sum += 1.0 / pow((double)(k + 1), alpha);
        cdf[k] = sum;
        perm[k] = k;
    }
    for (uint32_t k = npages; k-- > 1;) {
        uint32_t j = (uint32_t)(splitmix(&seed) % (k + 1));
        uint32_t x = perm[k];
        perm[k] = perm[j];
        perm[j] = x;
    }
    for (size_t i = 0; i < n; i++) {
        if (alpha == 0.0) {
            t[i] = (uint32_t)(splitmix(&seed) % npages);
            continue;
        }
        double u = (double)(splitmix(&seed) >> 11) * 0x1.0p-53 * sum;
        uint32_t lo = 0, hi = npages - 1;
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (cdf[mid] > u)
                hi = mid;
            else
                lo = mid + 1;
        }
        t[i] = perm[lo];
    }
    free(cdf);
    free(perm);
    return t;
}

/* Reference simulators: misses of each policy on T with F frames. */

/* Exact LRU: a list of resident pages, most recent at the tail. */
static uint64_t ref_lru(const uint32_t *t, size_t n, uint32_t npages, uint32_t f)
{
    uint32_t *prev = malloc(npages * sizeof *prev), *next = malloc(npages * sizeof *next);
    uint8_t *res = calloc(npages, 1);
    BENCH_CHECK(prev != NULL && next != NULL && res != NULL);
    const uint32_t none = UINT32_MAX;
    uint32_t head = none, tail = none, count = 0;
    uint64_t misses = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = t[i];
        if (res[x]) {
            if (x == tail)
                continue;
            /* unlink */
            if (prev[x] != none)
                next[prev[x]] = next[x];
            else
                head = next[x];
            prev[next[x]] = prev[x]; /* x is not the tail: next[x] exists */
        } else {
            misses++;
            if (count == f) {
                uint32_t v = head;
                head = next[v];
                if (head != none)
                    prev[head] = none;
                else
                    tail = none;
                res[v] = 0;
            } else {
                count++;
            }
            res[x] = 1;
        }
        prev[x] = tail;
        next[x] = none;
        if (tail != none)
            next[tail] = x;
        else
            head = x;
        tail = x;
    }
    free(prev);
    free(next);
    free(res);
    return misses;
}

static uint64_t ref_fifo(const uint32_t *t, size_t n, uint32_t npages, uint32_t f)
{
    uint32_t *q = malloc(f * sizeof *q);
    uint8_t *res = calloc(npages, 1);
    BENCH_CHECK(q != NULL && res != NULL);
    uint32_t h = 0, count = 0;
    uint64_t misses = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = t[i];
        if (res[x])
            continue;
        misses++;
        if (count == f) {
            res[q[h]] = 0;
            q[h] = x;
            h = (h + 1) % f;
        } else {
            q[count++] = x;
        }
        res[x] = 1;
    }
    free(q);
    free(res);
    return misses;
}

/* CLOCK as the pager runs it: slot i holds the i-th page to come in until
 * all F are used; the hand sweeps the slots in order. */
static uint64_t ref_clock(const uint32_t *t, size_t n, uint32_t npages, uint32_t f)
{
    uint32_t *slot_of = malloc(npages * sizeof *slot_of), *page = malloc(f * sizeof *page);
    uint8_t *ref = calloc(f, 1);
    BENCH_CHECK(slot_of != NULL && page != NULL && ref != NULL);
    for (uint32_t i = 0; i < npages; i++)
        slot_of[i] = UINT32_MAX;
    uint32_t used = 0, hand = 0;
    uint64_t misses = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = t[i];
        if (slot_of[x] != UINT32_MAX) {
            ref[slot_of[x]] = 1;
            continue;
        }
        misses++;
        uint32_t s;
        if (used < f) {
            s = used++;
        } else {
            for (;;) {
                s = hand;
                hand = (hand + 1) % f;
                if (!ref[s])
                    break;
                ref[s] = 0;
            }
            slot_of[page[s]] = UINT32_MAX;
        }
        page[s] = x;
        slot_of[x] = s;
        ref[s] = 1;
    }
    free(slot_of);
    free(page);
    free(ref);
    return misses;
}

/* OPT: a max-heap of (next use, page) with stale entries skipped. */
struct heap_ent {
    uint64_t next;
    uint32_t page;
};

static void heap_push(struct heap_ent *h, size_t *len, struct heap_ent e)
{
    size_t i = (*len)++;
    while (i > 0 && h[(i - 1) / 2].next < e.next) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *len)
{
    struct heap_ent top = h[0], last = h[--*len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *len)
            break;
        if (c + 1 < *len && h[c + 1].next > h[c].next)
            c++;
        if (h[c].next <= last.next)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*len > 0)
        h[i] = last;
    return top;
}

static uint64_t ref_opt(const uint32_t *t, size_t n, uint32_t npages, uint32_t f)
{
    uint64_t *next = malloc(n * sizeof *next), *last = malloc(npages * sizeof *last);
    uint64_t *cur = malloc(npages * sizeof *cur);
    uint8_t *res = calloc(npages, 1);
    struct heap_ent *h = malloc((n + 1) * sizeof *h);
    BENCH_CHECK(next != NULL && last != NULL && cur != NULL && res != NULL && h != NULL);
    for (uint32_t p = 0; p < npages; p++)
        last[p] = UINT64_MAX;
    for (size_t i = n; i-- > 0;) {
        next[i] = last[t[i]];
        last[t[i]] = i;
    }
    size_t len = 0;
    uint32_t count = 0;
    uint64_t misses = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = t[i];
        if (!res[x]) {
            misses++;
            if (count == f) {
                for (;;) {
                    struct heap_ent e = heap_pop(h, &len);
                    if (res[e.page] && cur[e.page] == e.next) {
                        res[e.page] = 0;
                        break;
                    }
                }
            } else {
                count++;
            }
            res[x] = 1;
        }
        cur[x] = next[i];
        heap_push(h, &len, (struct heap_ent){next[i], x});
    }
    free(next);
    free(last);
    free(cur);
    free(res);
    free(h);
    return misses;
}

/* Misses of POLICY by the reference simulators; UINT64_MAX: none for it. */
static uint64_t ref_misses(const char *policy, const uint32_t *t, size_t n, uint32_t npages,
                           uint32_t f)
{
    if (strcmp(policy, "lru") == 0 || strcmp(policy, "hint") == 0)
        return ref_lru(t, n, npages, f);
    if (strcmp(policy, "fifo") == 0)
        return ref_fifo(t, n, npages, f);
    if (strcmp(policy, "clock") == 0)
        return ref_clock(t, n, npages, f);
    if (strcmp(policy, "opt") == 0)
        return ref_opt(t, n, npages, f);
    return UINT64_MAX;
}

struct replay_result {
    uint64_t ns, future_ns, misses, evictions;
};

/* Replay the first N references of T with POLICY over F frames, from cold;
 * every WRITE_EVERY-th reference a store (0: none). */
static struct replay_result replay(struct machine *m, const char *policy, const uint32_t *t,
                                   size_t n, uint32_t npages, uint32_t f, unsigned write_every)
{
    struct replay_result r = {0};
    pager_start(m, policy, f, npages);
    const struct pm_evict_policy *pol = pm_evict_policy_find(policy);
    BENCH_CHECK(pol != NULL);
    if (pol->needs_future) {
        uint64_t *fut = malloc(n * sizeof *fut);
        BENCH_CHECK(fut != NULL);
        for (size_t i = 0; i < n; i++)
            fut[i] = (BASE >> PAGE_SHIFT) + t[i];
        uint64_t t0 = bench_now_ns();
        pm_pager_set_future(m->pg, fut, n);
        r.future_ns = bench_now_ns() - t0;
        free(fut);
    }
    pm_pager_t *pg = m->pg;
    uint64_t t0 = bench_now_ns();
    if (write_every == 0) {
        for (size_t i = 0; i < n; i++)
            if (pm_pager_ref(pg, BASE + (uint64_t)t[i] * PAGE, false) != PM_OK)
                BENCH_CHECK(!"pm_pager_ref failed");
    } else {
        for (size_t i = 0; i < n; i++)
            if (pm_pager_ref(pg, BASE + (uint64_t)t[i] * PAGE, i % write_every == 0) != PM_OK)
                BENCH_CHECK(!"pm_pager_ref failed");
    }
    r.ns = bench_now_ns() - t0;
    struct pm_pager_stats s = pstats(m);
    BENCH_CHECK(s.refs == n && s.hits + s.misses == n && s.resident <= f);
    r.misses = s.misses;
    r.evictions = s.evictions;
    pager_stop(m);
    return r;
}

/* The reference LRU simulator's time on the first N references of T. */
static uint64_t ref_lru_round(const uint32_t *t, size_t n, uint32_t npages, uint32_t f)
{
    uint64_t t0 = bench_now_ns();
    sink += ref_lru(t, n, npages, f);
    return bench_now_ns() - t0;
}

/* The cost of one pm_pager_ref hit: a fresh LRU pager, 64 pages resident,
 * 1 M loads cycling over them (best of 3). */
static double hit_cost(struct machine *m, uint32_t npages, uint32_t f)
{
    const uint64_t count = 1000000;
    pager_start(m, "lru", f, npages);
    for (uint64_t i = 0; i < 64; i++)
        touch_page(m, i, T_STORE8);
    struct bench_series s = {0};
    for (unsigned r = 0; r < 3; r++)
        bench_series_add(&s, hit_round(m, H_REF_LOAD, 64, count), count);
    pager_stop(m);
    return bench_series_best(&s);
}

struct trace_spec {
    const char *name;
    double alpha;
    size_t refs, opt_refs;
    unsigned reps;
};

/* Every policy on one trace; returns LRU's refs/s (best). */
static double replay_trace(struct machine *m, const struct trace_spec *ts, uint32_t npages,
                           uint32_t f, bool *mismatch)
{
    uint32_t *t = make_trace(ts->refs, npages, ts->alpha, 42);
    if (ts->alpha > 0)
        printf("\n   %s (alpha %.2f): %zu references over %u pages, %u frames\n", ts->name,
               ts->alpha, ts->refs, npages, f);
    else
        printf("\n   %s: %zu references over %u pages, %u frames\n", ts->name, ts->refs, npages, f);
    printf("    %-14s %10s %12s %9s %12s %10s  %s\n", "policy", "refs", "M refs/s", "ns/ref",
           "misses", "miss ratio", "(median M refs/s; reference misses)");
    struct bench_series base = {0};
    for (unsigned r = 0; r < ts->reps; r++)
        bench_series_add(&base, ref_lru_round(t, ts->refs, npages, f), ts->refs);
    double lru_rate = 0, lru_ns = 0;
    uint64_t lru_misses = 1;
    const struct pm_evict_policy *const *pols = pm_evict_policies();
    for (size_t i = 0; pols[i] != NULL; i++) {
        const char *name = pols[i]->name;
        bool opt = pols[i]->needs_future;
        size_t n = opt ? ts->opt_refs : ts->refs;
        unsigned reps = opt ? 1 : ts->reps;
        struct bench_series s = {0};
        struct replay_result rr = {0};
        for (unsigned r = 0; r < reps; r++) {
            rr = replay(m, name, t, n, npages, f, 0);
            bench_series_add(&s, rr.ns, n);
        }
        uint64_t want = ref_misses(name, t, n, npages, f);
        char refbuf[48];
        if (want == UINT64_MAX)
            snprintf(refbuf, sizeof refbuf, "no reference");
        else if (want == rr.misses)
            snprintf(refbuf, sizeof refbuf, "= reference");
        else {
            snprintf(refbuf, sizeof refbuf, "reference %llu: MISMATCH", (unsigned long long)want);
            *mismatch = true;
        }
        printf("    %-14s %10zu %12.2f %9.1f %12llu %9.1f%%  (%.2f; %s)\n", name, n,
               rate_of(bench_series_best(&s)) / 1e6, bench_series_best(&s),
               (unsigned long long)rr.misses, 100.0 * (double)rr.misses / (double)n,
               rate_of(bench_series_median(&s)) / 1e6, refbuf);
        if (opt) {
            printf("    %-14s pm_pager_set_future of %zu: %.1f ms (not in the rate); "
                   "victim O(frames)\n",
                   "", n, (double)rr.future_ns / 1e6);
            uint64_t full = ref_opt(t, ts->refs, npages, f);
            printf("    %-14s %10zu %12s %9s %12llu %9.1f%%  (reference simulator only)\n",
                   "opt (full)", ts->refs, "-", "-", (unsigned long long)full,
                   100.0 * (double)full / (double)ts->refs);
        }
        if (strcmp(name, "lru") == 0) {
            lru_rate = rate_of(bench_series_best(&s));
            lru_ns = bench_series_best(&s);
            lru_misses = rr.misses ? rr.misses : 1;
        }
    }
    /* One more LRU run with every fourth reference a store: evictions swap. */
    {
        struct bench_series s = {0};
        struct replay_result rr = replay(m, "lru", t, ts->refs, npages, f, 4);
        bench_series_add(&s, rr.ns, ts->refs);
        printf("    %-14s %10zu %12.2f %9.1f %12llu %9.1f%%  (one run)\n", "lru, 25% store",
               ts->refs, rate_of(bench_series_best(&s)) / 1e6, bench_series_best(&s),
               (unsigned long long)rr.misses, 100.0 * (double)rr.misses / (double)ts->refs);
    }
    print_series("    reference LRU simulator (host)", &base, "ref");
    /* Where LRU's time goes: hits at the hit path's cost, the rest misses. */
    double hit_ns = hit_cost(m, npages, f);
    double mr = (double)lru_misses / (double)ts->refs;
    double miss_ns = (lru_ns - (1.0 - mr) * hit_ns) / mr;
    double need = (1e9 / GOAL_TRACE_RATE - (1.0 - mr) * hit_ns) / mr;
    printf("    LRU split: a hit costs %.1f ns (resident pages, measured now), so a miss\n"
           "    costs %.0f ns; at %.1f%% misses, 20 M refs/s needs a miss <= %.0f ns\n",
           hit_ns, miss_ns, 100.0 * mr, need);
    bench_print_ratio("    ratio pager LRU / reference sim.",
                      lru_rate > 0 ? lru_rate / rate_of(bench_series_best(&base)) : 0.0, 0.0);
    free(t);
    fflush(stdout);
    return lru_rate;
}

static bool bench_trace(double scale, unsigned reps, bool *mismatch)
{
    const uint32_t npages = 4096, f = 1024;
    struct trace_spec specs[] = {
        {"zipf", 1.0, bench_scaled(2000000, scale, 20000), bench_scaled(200000, scale, 5000),
         reps < 3 ? reps : 3},
        {"uniform", 0.0, bench_scaled(500000, scale, 10000), bench_scaled(100000, scale, 5000),
         reps < 2 ? reps : 2},
    };
    printf("\n3. trace replay through pm_pager_ref (loads), from cold, every policy;\n"
           "   misses checked against this file's reference simulators\n");
    struct machine m;
    machine_new(&m, f + SLACK, 2 * npages);
    double zipf_lru = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        double r = replay_trace(&m, &specs[i], npages, f, mismatch);
        if (i == 0)
            zipf_lru = r;
    }
    machine_free(&m);
    return zipf_lru >= GOAL_TRACE_RATE;
}

/* ---- main ------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    /* --only=SECTION is ours; the rest goes to bench_parse_args. */
    const char *only = NULL;
    int nargs = 1;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--only=", 7) == 0)
            only = argv[i] + 7;
        else
            argv[nargs++] = argv[i];
    }
    if (only != NULL && strcmp(only, "faults") != 0 && strcmp(only, "hits") != 0 &&
        strcmp(only, "trace") != 0) {
        fprintf(stderr, "%s: --only takes faults, hits or trace\n", argv[0]);
        return 2;
    }
    unsigned reps = 5;
    double scale = bench_parse_args(
        nargs, argv,
        "The default self-pager: faults it resolves (fresh zero-fill, evicting clean\n"
        "pages, swapping) against host minor faults; its hit path (pm_pager_ref,\n"
        "pm_pager_access, l4_access) against host loads; trace replay (Zipf and\n"
        "uniform) under every eviction policy.\n"
        "  --only=S    one section: faults, hits or trace",
        &reps);
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    printf("bench-pager: the default self-pager (SPEC 8)\n");
    printf("best of %u repetitions (median beside it); scale %.2g; pages of %u B;\n"
           "pools retain every released frame (no host fault after the first repetition)\n",
           reps, scale, PAGE);
    print_thp();
    uint64_t t0 = bench_now_ns();
    bool all = only == NULL, g_fault = false, g_hit = false, g_trace = false, mismatch = false;
    if (all || strcmp(only, "faults") == 0)
        g_fault = bench_faults(scale, reps);
    if (all || strcmp(only, "hits") == 0)
        g_hit = bench_hits(scale, reps);
    if (all || strcmp(only, "trace") == 0)
        g_trace = bench_trace(scale, reps, &mismatch);

    printf("\n");
    if (all || strcmp(only, "faults") == 0)
        bench_print_goal("pager faults >= host minor faults", g_fault);
    if (all || strcmp(only, "hits") == 0)
        bench_print_goal("pm_pager_ref hits >= 50 M/s", g_hit);
    if (all || strcmp(only, "trace") == 0)
        bench_print_goal("zipf replay, LRU >= 20 M refs/s", g_trace);
    printf("total %.1f s\n", (double)(bench_now_ns() - t0) / 1e9);
    if (mismatch) {
        fprintf(stderr, "bench-pager: a policy's misses differ from the reference simulator\n");
        return 1;
    }
    return 0;
}
