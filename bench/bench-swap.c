/* bench-swap.c — swapping out and back in (SPEC §7) against raw
 * pwrite/pread of the same bytes to the same file.
 *
 * For each size (4 MiB, 64 MiB and 256 MiB by default: N frames of 4 KiB),
 * a simulated machine of its own: a pool of N + 64 frames, a kernel, and
 * physmem with a temporary swap file of exactly N slots (sim/swapfile.c),
 * one task holding one container.  Each repetition:
 *
 *   not timed: N frames allocated, mapped read-write into the task (so
 *     they are bound) and filled with a pattern that differs per page and
 *     per repetition (written straight into the pool's memory);
 *   timed, "out": pm_swap of all N (the data goes to the inactive list,
 *     the mappings go), pm_swap_flush (N page writes to the file), and
 *     pm_pressure asking for every frame of the pool, which drops the N
 *     clean inactive frames (no I/O);
 *   not timed: the N physical frames just released are scribbled over, so
 *     that a swap-in that did not read would be caught;
 *   timed, "in": N fresh frames allocated (unbound) in the container, and
 *     pm_swap_in of every identifier (N page reads into fresh frames);
 *   not timed: every byte of every page checked (exit 1 on a mismatch),
 *     and the frames deallocated.
 *
 * Physmem gets the swap file's device behind a wrapper of this benchmark
 * (one more indirect call a page); in one extra round, after the timed
 * ones, the wrapper times each device call, which splits pm_swap_flush and
 * pm_swap_in into the file's time and physmem's own.
 *
 * Baseline (the host): the same N pages written with one pwrite a page to
 * the same file descriptor at the same offsets (slot i is the page at
 * i × 4 KiB; with N slots physmem uses slots 0 … N − 1 every repetition),
 * then read back with one pread a page into a buffer (scribbled over first,
 * not timed, like the pool frames); the swap device makes exactly these
 * calls.  For context, the same bytes with one pwrite and one pread of the
 * whole range.  Raw bytes are checked too.
 *
 * The page cache: the file is an ordinary file (in $TMPDIR or /tmp), never
 * fsynced, so both sides write into and read from the host's page cache,
 * the same pages of it, and nothing here waits for the disk.  Every page
 * of the file is written once before timing, so that every measured write
 * overwrites a cached page (no block allocation in the timed part).  What
 * is compared is the cost of the system calls and the copies into and out
 * of the page cache, plus physmem's bookkeeping on its side.
 *
 * The pool keeps released frames resident (retain_frames = the whole pool)
 * so that the fresh frames swap-in reads into are resident, as the baseline's
 * buffer is; the host minor faults of each side are printed to show it.
 *
 * Figures: MB/s (10^6 bytes) of the data moved one way, i.e. N × 4 KiB over
 * the time of the whole round trip (out + in), and each half on its own.
 * Ratio pmsim/raw = raw time / pmsim time (≥ 1: pmsim is as fast).  Goal:
 * ≥ 0.8 for the round trip against one call a page.  Each figure is the best
 * of the repetitions (the median is printed too); pmsim and the raw runs
 * alternate.  Measurements, not tests: the exit status is 0 whether the
 * goal is met or not, 1 when data came back wrong.
 *
 * Then (section 2) the asynchronous path: N frames swapped out and left
 * dirty on the inactive list with the pool full, and N fresh frames bound
 * by maps, each bind past the spare frames writing and taking the oldest
 * inactive frame (N = 1,024, 4,096, 16,384, times the scale; best of 3).
 * Against the same maps with the pool free plus one pwrite a page.  When
 * this was written, eviction's own work per frame (what it costs beyond
 * its map and its pwrite) grew in proportion to N: pm__frame_alloc calls
 * pm__take_inactive(pm, false, …) first, which walks the whole inactive
 * list looking for a clean frame, past every dirty one, before it writes
 * one; so taking N dirty frames costs O(N^2): about 1.3 µs a frame at
 * N = 1,024, 24 µs at 16,384 (and 108 µs at 65,536, 7 s for 256 MiB).
 *
 * Run: ./build-rel/bench/bench-swap [--quick | --scale=F]   (a release
 * build gives the figures that count).  The scale multiplies the sizes
 * (at least 1 MiB); --quick is 0.1 with 3 repetitions.  The default run
 * takes about 10 s. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"
#include "pmsim/swapfile.h"

#include "bench.h"

#define PAGE 4096u
#define SLACK_FRAMES 64u /* pool frames beyond N */
#define VA (1ull << 32)  /* where the task maps its container */
#define RW (CONT_MAP_READ | CONT_MAP_WRITE)
#define GOAL_RATIO 0.8
#define MAX_REPS 64 /* at most BENCH_MAX_REPS */

static const uint64_t sizes_mib[] = {4, 64, 256};
#define NSIZES (sizeof sizes_mib / sizeof sizes_mib[0])

/* ---- the pattern ---------------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Page I of repetition SEED: 512 words, all different. */
static void pattern_fill(void *page, unsigned seed, uint32_t i)
{
    uint64_t *w = page;
    uint64_t base = mix(((uint64_t)seed << 32) | i);
    for (unsigned j = 0; j < PAGE / 8; j++)
        w[j] = base + j * 0x9e3779b97f4a7c15ull;
}

/* The first word of page I that differs from the pattern, or -1. */
static int pattern_check(const void *page, unsigned seed, uint32_t i)
{
    const uint64_t *w = page;
    uint64_t base = mix(((uint64_t)seed << 32) | i);
    for (unsigned j = 0; j < PAGE / 8; j++)
        if (w[j] != base + j * 0x9e3779b97f4a7c15ull)
            return (int)j;
    return -1;
}

static void mismatch(const char *who, uint32_t i, int word)
{
    fprintf(stderr,
            "bench-swap: %s: page %u came back wrong (the first bad 8 bytes at offset %d)\n", who,
            i, word * 8);
    exit(1);
}

/* ---- the simulated machine ------------------------------------------------ */

struct swm {
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    sim_swapfile_t *sf;
    int fd;
    l4_task_t task;
    l4_thread_t thread;
    container_t c, c2; /* the data; fresh frames (section 2) */
    uint32_t n, frames;
    pm_swap_id_t *ids;
    pm_pfn_t *pfns; /* where the data was before swap-out */
    /* Physmem's device is the swap file's behind a thin wrapper that, in
     * the one diagnostic round only, times each call. */
    struct pm_swap_dev file, dev;
    bool timing;
    uint64_t write_ns, read_ns;
};

static pm_error_t timed_write(void *ctx, uint64_t slot, const void *page, size_t len)
{
    struct swm *m = ctx;
    if (!m->timing)
        return m->file.write(m->file.ctx, slot, page, len);
    uint64_t t0 = bench_now_ns();
    pm_error_t err = m->file.write(m->file.ctx, slot, page, len);
    m->write_ns += bench_now_ns() - t0;
    return err;
}

static pm_error_t timed_read(void *ctx, uint64_t slot, void *page, size_t len)
{
    struct swm *m = ctx;
    if (!m->timing)
        return m->file.read(m->file.ctx, slot, page, len);
    uint64_t t0 = bench_now_ns();
    pm_error_t err = m->file.read(m->file.ctx, slot, page, len);
    m->read_ns += bench_now_ns() - t0;
    return err;
}

static void swm_init(struct swm *m, uint32_t n)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->frames = n + SLACK_FRAMES;
    struct pm_pool_config pc = {.page_size = PAGE,
                                .frames = m->frames,
                                .retain_frames = m->frames,
                                .backing = PM_POOL_ANON};
    BENCH_CHECK(pm_pool_new(&pc, &m->pool) == PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(m->pool), .page_size = PAGE, .frames = m->frames};
    BENCH_CHECK(l4_kernel_new(&kc, &m->k) == PM_OK);
    char *msg = NULL;
    if (sim_swapfile_open(NULL, n, PAGE, &m->sf, &msg) != PM_OK) {
        fprintf(stderr, "bench-swap: %s\n", msg != NULL ? msg : "cannot open the swap file");
        exit(1);
    }
    m->fd = sim_swapfile_fd(m->sf);
    m->file = *sim_swapfile_dev(m->sf);
    m->dev = m->file;
    m->dev.ctx = m;
    m->dev.write = timed_write;
    m->dev.read = timed_read;
    m->timing = false;
    struct pm_physmem_config cfg = {
        .pool = m->pool, .kernel = m->k, .thread = l4_root_thread(m->k), .swap = &m->dev};
    BENCH_CHECK(pm_physmem_new(&cfg, &m->pm) == PM_OK);
    BENCH_CHECK(l4_task_create(m->k, &m->task) == PM_OK);
    BENCH_CHECK(l4_thread_create(m->k, m->task, &m->thread) == PM_OK);
    BENCH_CHECK(pm_task_add(m->pm, m->task, m->thread) == PM_OK);
    BENCH_CHECK(pm_container_create(m->pm, m->task, &m->c) == PM_OK);
    BENCH_CHECK(pm_container_create(m->pm, m->task, &m->c2) == PM_OK);
    m->ids = calloc(n, sizeof *m->ids);
    m->pfns = calloc(n, sizeof *m->pfns);
    BENCH_CHECK(m->ids != NULL && m->pfns != NULL);
}

static void swm_fini(struct swm *m)
{
    pm_physmem_free(m->pm);
    sim_swapfile_close(m->sf);
    l4_kernel_free(m->k);
    pm_pool_free(m->pool);
    free(m->ids);
    free(m->pfns);
}

/* Frames 0 … N − 1 of C allocated (unbound). */
static void swm_alloc(struct swm *m, container_t c)
{
    uint32_t cnt = m->n;
    BENCH_CHECK(pm_container_allocate(m->pm, m->task, c, 0, &cnt, 0) == PM_OK && cnt == m->n);
}

static void swm_dealloc(struct swm *m, container_t c)
{
    uint32_t cnt = m->n;
    BENCH_CHECK(pm_container_deallocate(m->pm, m->task, c, 0, &cnt, 0) == PM_OK && cnt == m->n);
}

/* Frames 0 … N − 1 of C mapped read-write at VA_AT (binding them), a call
 * asking for all the frames left each time. */
static void swm_map(struct swm *m, container_t c, uint64_t va_at)
{
    for (uint32_t done = 0; done < m->n;) {
        uint32_t cnt = m->n - done;
        BENCH_CHECK(pm_container_map(m->pm, m->task, c, done, &cnt, RW,
                                     va_at + (uint64_t)done * PAGE) == PM_OK &&
                    cnt > 0);
        done += cnt;
    }
}

/* Not timed: N frames allocated, bound by a map, filled with SEED's pattern. */
static void swm_prepare(struct swm *m, unsigned seed)
{
    swm_alloc(m, m->c);
    swm_map(m, m->c, VA);
    for (uint32_t i = 0; i < m->n; i++) {
        struct pm_frame_info fi;
        BENCH_CHECK(pm_frame_info(m->pm, m->task, m->c, i, &fi) == PM_OK && fi.bound);
        m->pfns[i] = fi.pfn;
        pattern_fill(pm_pool_frame(m->pool, fi.pfn), seed, i);
    }
}

/* Not timed: every byte checked, through the pool, then the frames go. */
static void swm_verify(struct swm *m, unsigned seed)
{
    for (uint32_t i = 0; i < m->n; i++) {
        struct pm_frame_info fi;
        BENCH_CHECK(pm_frame_info(m->pm, m->task, m->c, i, &fi) == PM_OK && fi.bound);
        int bad = pattern_check(pm_pool_frame(m->pool, fi.pfn), seed, i);
        if (bad >= 0)
            mismatch("pmsim", i, bad);
    }
    /* One page through the task's own eyes too (a fault-free read needs a
     * mapping: map the first frame again). */
    uint32_t one = 1;
    BENCH_CHECK(pm_container_map(m->pm, m->task, m->c, 0, &one, CONT_MAP_READ, VA) == PM_OK);
    unsigned char page[PAGE];
    BENCH_CHECK(l4_access(m->k, m->thread, L4_ACCESS_READ, VA, page, PAGE, NULL) == PM_OK);
    int bad = pattern_check(page, seed, 0);
    if (bad >= 0)
        mismatch("pmsim (read by the task)", 0, bad);
    swm_dealloc(m, m->c);
}

struct sim_times {
    uint64_t swap, flush, drop, alloc, swapin; /* ns */
    uint64_t faults_out, faults_in;            /* host minor faults */
};

/* One timed round trip of all N frames. */
static void swm_round(struct swm *m, unsigned seed, struct sim_times *t)
{
    swm_prepare(m, seed);
    struct pm_stats s0;
    pm_stats(m->pm, &s0);

    uint64_t f0 = bench_minor_faults();
    uint64_t t0 = bench_now_ns();
    BENCH_CHECK(pm_swap(m->pm, m->task, m->c, 0, m->n, m->ids) == PM_OK);
    uint64_t t1 = bench_now_ns();
    uint64_t written = 0;
    BENCH_CHECK(pm_swap_flush(m->pm, UINT64_MAX, &written) == PM_OK);
    uint64_t t2 = bench_now_ns();
    struct pm_pressure_result pr;
    BENCH_CHECK(pm_pressure(m->pm, m->frames, &pr) == PM_OK);
    uint64_t t3 = bench_now_ns();
    t->faults_out = bench_minor_faults() - f0;
    BENCH_CHECK(written == m->n);
    BENCH_CHECK(pr.inactive_dropped == m->n && pr.flushed == 0 && pr.upcalls == 0);

    /* Not timed: the released frames scribbled over (they are retained,
     * i.e. free but resident, and the pool clears retained frames itself
     * when it must hand out zeros). */
    for (uint32_t i = 0; i < m->n; i++) {
        BENCH_CHECK(!pm_pool_is_bound(m->pool, m->pfns[i]));
        memset(pm_pool_frame(m->pool, m->pfns[i]), 0xa5, PAGE);
    }

    f0 = bench_minor_faults();
    uint64_t t4 = bench_now_ns();
    swm_alloc(m, m->c);
    uint64_t t5 = bench_now_ns();
    for (uint32_t i = 0; i < m->n; i++)
        BENCH_CHECK(pm_swap_in(m->pm, m->task, m->ids[i], m->c, i) == PM_OK);
    uint64_t t6 = bench_now_ns();
    t->faults_in = bench_minor_faults() - f0;

    struct pm_stats s1;
    pm_stats(m->pm, &s1);
    BENCH_CHECK(s1.swap_writes - s0.swap_writes == m->n);
    BENCH_CHECK(s1.swap_reads - s0.swap_reads == m->n);
    BENCH_CHECK(s1.swap_recovered == s0.swap_recovered);
    BENCH_CHECK(s1.swap_slots_used == 0 && s1.swap_inactive == 0);

    t->swap = t1 - t0;
    t->flush = t2 - t1;
    t->drop = t3 - t2;
    t->alloc = t5 - t4;
    t->swapin = t6 - t5;
    swm_verify(m, seed);
}

/* ---- the host --------------------------------------------------------------- */

static void pwrite_all(int fd, const unsigned char *buf, size_t len, off_t off)
{
    for (size_t done = 0; done < len;) {
        ssize_t r = pwrite(fd, buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        BENCH_CHECK(r > 0);
        done += (size_t)r;
    }
}

static void pread_all(int fd, unsigned char *buf, size_t len, off_t off)
{
    for (size_t done = 0; done < len;) {
        ssize_t r = pread(fd, buf + done, len - done, off + (off_t)done);
        if (r < 0 && errno == EINTR)
            continue;
        BENCH_CHECK(r > 0);
        done += (size_t)r;
    }
}

struct raw_times {
    uint64_t out, in, faults_out, faults_in;
};

/* One round trip of N pages through FD: one call a page (PER_PAGE) or one
 * call for all.  SRC holds the data, DST receives it. */
static void raw_round(int fd, unsigned char *src, unsigned char *dst, uint32_t n, unsigned seed,
                      bool per_page, struct raw_times *t)
{
    for (uint32_t i = 0; i < n; i++)
        pattern_fill(src + (size_t)i * PAGE, seed, i);
    memset(dst, 0xa5, (size_t)n * PAGE);

    uint64_t f0 = bench_minor_faults();
    uint64_t t0 = bench_now_ns();
    if (per_page) {
        for (uint32_t i = 0; i < n; i++)
            pwrite_all(fd, src + (size_t)i * PAGE, PAGE, (off_t)i * PAGE);
    } else {
        pwrite_all(fd, src, (size_t)n * PAGE, 0);
    }
    t->out = bench_now_ns() - t0;
    t->faults_out = bench_minor_faults() - f0;

    f0 = bench_minor_faults();
    t0 = bench_now_ns();
    if (per_page) {
        for (uint32_t i = 0; i < n; i++)
            pread_all(fd, dst + (size_t)i * PAGE, PAGE, (off_t)i * PAGE);
    } else {
        pread_all(fd, dst, (size_t)n * PAGE, 0);
    }
    t->in = bench_now_ns() - t0;
    t->faults_in = bench_minor_faults() - f0;

    for (uint32_t i = 0; i < n; i++) {
        int bad = pattern_check(dst + (size_t)i * PAGE, seed, i);
        if (bad >= 0)
            mismatch(per_page ? "raw, one call a page" : "raw, one call", i, bad);
    }
}

/* A touched buffer of N pages (no transparent huge pages, like the pool). */
static unsigned char *host_buffer(uint32_t n)
{
    size_t len = (size_t)n * PAGE;
    unsigned char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(b != MAP_FAILED);
    (void)madvise(b, len, MADV_NOHUGEPAGE);
    memset(b, 0, len);
    return b;
}

/* ---- figures ------------------------------------------------------------------ */

/* `label : 1234.5 MB/s  12.34 ms  (median 1200.0 MB/s)  301.2 ns/page` */
static void print_mbs(const char *label, const struct bench_series *s, uint64_t bytes,
                      uint32_t pages)
{
    double best = bench_series_best(s), med = bench_series_median(s);
    printf("%-*s: %8.1f MB/s %8.2f ms %7.1f ns/page  (median %.1f MB/s)\n", BENCH_LABEL_WIDTH,
           label, best > 0 ? (double)bytes / best * 1e3 : 0.0, best / 1e6, best / pages,
           med > 0 ? (double)bytes / med * 1e3 : 0.0);
}

/* `label : 12.34 ms  301.2 ns/page` (best) */
static void print_phase(const char *label, const struct bench_series *s, uint32_t pages)
{
    double best = bench_series_best(s);
    printf("%-*s: %8.2f ms %7.1f ns/page\n", BENCH_LABEL_WIDTH, label, best / 1e6, best / pages);
}

struct size_figures {
    struct bench_series sim_total, sim_out, sim_in;
    struct bench_series swap, flush, drop, alloc, swapin;
    struct bench_series raw_total, raw_out, raw_in;
    struct bench_series big_total, big_out, big_in;
    double sim_faults_out, sim_faults_in, raw_faults_out, raw_faults_in; /* per page, last rep */
};

static const char *fs_name(int fd)
{
    struct statfs st;
    if (fstatfs(fd, &st) != 0)
        return "unknown";
    switch ((unsigned long)st.f_type) {
    case 0xEF53:
        return "ext2/3/4";
    case 0x01021994:
        return "tmpfs";
    case 0x9123683E:
        return "btrfs";
    case 0x58465342:
        return "xfs";
    case 0x794c7630:
        return "overlayfs";
    default:
        return "other";
    }
}

/* Everything for one size; returns the round-trip ratio against one call a page. */
static double bench_size(uint32_t n, unsigned reps)
{
    uint64_t bytes = (uint64_t)n * PAGE;
    struct swm m;
    uint64_t t0 = bench_now_ns();
    swm_init(&m, n);
    unsigned char *src = host_buffer(n), *dst = host_buffer(n);
    /* Every page of the file written once: later writes overwrite cached pages. */
    pwrite_all(m.fd, src, bytes, 0);
    double setup_ms = (double)(bench_now_ns() - t0) / 1e6;

    struct size_figures *f = calloc(1, sizeof *f);
    BENCH_CHECK(f != NULL);
    unsigned seed = 1;
    for (unsigned r = 0; r < reps; r++) {
        struct raw_times rt;
        raw_round(m.fd, src, dst, n, seed++, true, &rt);
        bench_series_add(&f->raw_out, rt.out, 1);
        bench_series_add(&f->raw_in, rt.in, 1);
        bench_series_add(&f->raw_total, rt.out + rt.in, 1);
        f->raw_faults_out = (double)rt.faults_out / n;
        f->raw_faults_in = (double)rt.faults_in / n;

        struct sim_times st;
        swm_round(&m, seed++, &st);
        bench_series_add(&f->swap, st.swap, 1);
        bench_series_add(&f->flush, st.flush, 1);
        bench_series_add(&f->drop, st.drop, 1);
        bench_series_add(&f->alloc, st.alloc, 1);
        bench_series_add(&f->swapin, st.swapin, 1);
        bench_series_add(&f->sim_out, st.swap + st.flush + st.drop, 1);
        bench_series_add(&f->sim_in, st.alloc + st.swapin, 1);
        bench_series_add(&f->sim_total, st.swap + st.flush + st.drop + st.alloc + st.swapin, 1);
        f->sim_faults_out = (double)st.faults_out / n;
        f->sim_faults_in = (double)st.faults_in / n;

        raw_round(m.fd, src, dst, n, seed++, false, &rt);
        bench_series_add(&f->big_out, rt.out, 1);
        bench_series_add(&f->big_in, rt.in, 1);
        bench_series_add(&f->big_total, rt.out + rt.in, 1);
    }
    /* One more round, not among the figures above: the device calls timed,
     * to split physmem's time between the file and its own work. */
    struct sim_times diag;
    m.timing = true;
    swm_round(&m, seed++, &diag);
    m.timing = false;
    struct sim_swapfile_stats ss;
    sim_swapfile_stats(m.sf, &ss);

    char sz[32];
    if (bytes >= (1u << 20))
        snprintf(sz, sizeof sz, "%.4g MiB", (double)bytes / (1u << 20));
    else
        snprintf(sz, sizeof sz, "%.4g KiB", (double)bytes / 1024);
    printf("\n1. %s: %u pages; swap file on %s, %u slots; set up in %.0f ms\n", sz, n,
           fs_name(m.fd), n, setup_ms);
    printf("  round trip (out + in), MB/s of %s moved each way:\n", sz);
    print_mbs("    pmsim", &f->sim_total, bytes, n);
    print_mbs("    raw, one pwrite/pread a page", &f->raw_total, bytes, n);
    print_mbs("    raw, one pwrite + one pread", &f->big_total, bytes, n);
    printf("  out:\n");
    print_mbs("    pmsim: swap + flush + drop", &f->sim_out, bytes, n);
    print_phase("      pm_swap (to the inactive list)", &f->swap, n);
    print_phase("      pm_swap_flush (N writes)", &f->flush, n);
    print_phase("      pm_pressure (drops N clean)", &f->drop, n);
    print_mbs("    raw: pwrite a page", &f->raw_out, bytes, n);
    print_mbs("    raw: one pwrite", &f->big_out, bytes, n);
    printf("  in:\n");
    print_mbs("    pmsim: allocate + swap in", &f->sim_in, bytes, n);
    print_phase("      pm_container_allocate of N", &f->alloc, n);
    print_phase("      pm_swap_in x N (N reads)", &f->swapin, n);
    print_mbs("    raw: pread a page", &f->raw_in, bytes, n);
    print_mbs("    raw: one pread", &f->big_in, bytes, n);
    printf("  one more pmsim round with the device calls timed (ns/page):\n"
           "    pm_swap_flush %.1f = device writes %.1f + physmem %.1f\n"
           "    pm_swap_in    %.1f = device reads  %.1f + physmem %.1f\n",
           (double)diag.flush / n, (double)m.write_ns / n,
           ((double)diag.flush - (double)m.write_ns) / n, (double)diag.swapin / n,
           (double)m.read_ns / n, ((double)diag.swapin - (double)m.read_ns) / n);
    printf("  host minor faults per page: pmsim out %.2f, in %.2f; raw out %.2f, in %.2f\n",
           f->sim_faults_out, f->sim_faults_in, f->raw_faults_out, f->raw_faults_in);
    printf("  swap device: %llu writes, %llu reads, %llu failures (all repetitions)\n",
           (unsigned long long)ss.writes, (unsigned long long)ss.reads,
           (unsigned long long)ss.failures);
    double r = bench_series_ratio(&f->sim_total, &f->raw_total);
    bench_print_ratio("  ratio pmsim/raw, round trip", r, GOAL_RATIO);
    bench_print_ratio("  ratio pmsim/raw, out", bench_series_ratio(&f->sim_out, &f->raw_out), 0.0);
    bench_print_ratio("  ratio pmsim/raw, in", bench_series_ratio(&f->sim_in, &f->raw_in), 0.0);
    bench_print_ratio("  ratio pmsim/one call, round trip",
                      bench_series_ratio(&f->sim_total, &f->big_total), 0.0);
    fflush(stdout);

    free(f);
    munmap(src, bytes);
    munmap(dst, bytes);
    swm_fini(&m);
    return r;
}

/* ---- 2. swap-out by eviction ------------------------------------------------ */

/* Swapping is asynchronous (SPEC §7): pm_swap leaves the data dirty on the
 * inactive list, and physmem writes it when it needs the frames.  Here
 * the pool is full of such frames (N swapped out, 64 spare frames) and
 * the task binds N fresh frames (a map of another container): from the
 * 65th on, each bind finds the pool empty and pm__frame_alloc writes the
 * oldest dirty inactive frame and takes it.  Timed: the maps.  Against the
 * same maps when the pool has free frames (no eviction), plus one pwrite a
 * page; the ratio (map + pwrite) / (map with eviction) says how close
 * eviction comes to the cost of its parts. */
struct evict_figures {
    struct bench_series evict, plain, pwrite;
    uint64_t writes; /* device writes during one eviction run */
};

static void bench_evict_size(uint32_t n, unsigned reps, struct evict_figures *f)
{
    struct swm m;
    swm_init(&m, n);
    unsigned char *src = host_buffer(n);
    pwrite_all(m.fd, src, (size_t)n * PAGE, 0);
    unsigned seed = 1000;
    for (unsigned r = 0; r < reps; r++) {
        /* Not timed: N frames of data swapped out, dirty on the inactive list. */
        swm_prepare(&m, seed);
        BENCH_CHECK(pm_swap(m.pm, m.task, m.c, 0, m.n, m.ids) == PM_OK);
        swm_alloc(&m, m.c2);
        struct pm_stats s0, s1;
        pm_stats(m.pm, &s0);
        uint64_t t0 = bench_now_ns();
        swm_map(&m, m.c2, VA << 1);
        bench_series_add(&f->evict, bench_now_ns() - t0, 1);
        pm_stats(m.pm, &s1);
        f->writes = s1.swap_writes - s0.swap_writes;
        BENCH_CHECK(f->writes + SLACK_FRAMES >= m.n);

        /* Not timed: the data back and checked, every frame freed. */
        swm_dealloc(&m, m.c2);
        swm_alloc(&m, m.c);
        for (uint32_t i = 0; i < m.n; i++)
            BENCH_CHECK(pm_swap_in(m.pm, m.task, m.ids[i], m.c, i) == PM_OK);
        swm_verify(&m, seed++);

        /* The same maps, the pool's frames free. */
        swm_alloc(&m, m.c2);
        t0 = bench_now_ns();
        swm_map(&m, m.c2, VA << 1);
        bench_series_add(&f->plain, bench_now_ns() - t0, 1);
        swm_dealloc(&m, m.c2);

        for (uint32_t i = 0; i < n; i++)
            pattern_fill(src + (size_t)i * PAGE, seed, i);
        t0 = bench_now_ns();
        for (uint32_t i = 0; i < n; i++)
            pwrite_all(m.fd, src + (size_t)i * PAGE, PAGE, (off_t)i * PAGE);
        bench_series_add(&f->pwrite, bench_now_ns() - t0, 1);
    }
    munmap(src, (size_t)n * PAGE);
    swm_fini(&m);
}

static void bench_evict(double scale, unsigned reps)
{
    static const uint32_t evict_pages[] = {1024, 4096, 16384};
    printf("\n2. swap-out by eviction: N frames swapped out (dirty, in memory), the pool\n"
           "   full, then N fresh frames bound by maps; each bind past the 64 spare frames\n"
           "   writes the oldest dirty inactive frame and takes it (pm__frame_alloc)\n");
    double own[3] = {0}; /* evicting − (maps + pwrite), per page */
    uint32_t ns[3];
    for (unsigned s = 0; s < 3; s++) {
        uint32_t n = (uint32_t)bench_scaled(evict_pages[s], scale, 256);
        ns[s] = n;
        struct evict_figures *f = calloc(1, sizeof *f);
        BENCH_CHECK(f != NULL);
        bench_evict_size(n, reps < 3 ? reps : 3, f);
        printf("  N = %u (%.4g MiB), %llu device writes in the timed maps:\n", n,
               (double)n * PAGE / (1u << 20), (unsigned long long)f->writes);
        print_phase("    maps, evicting (pmsim)", &f->evict, n);
        print_phase("    maps, pool free (pmsim)", &f->plain, n);
        print_phase("    pwrite a page (raw)", &f->pwrite, n);
        double parts = bench_series_best(&f->plain) + bench_series_best(&f->pwrite);
        bench_print_ratio("    ratio (maps + pwrite)/evicting",
                          parts / bench_series_best(&f->evict), 0.0);
        own[s] = (bench_series_best(&f->evict) - parts) / n;
        printf("    %-*s: %8.1f ns/page\n", BENCH_LABEL_WIDTH - 4, "eviction's own work", own[s]);
        free(f);
        fflush(stdout);
    }
    printf("  eviction's own work per page (evicting - maps - pwrite): %.0f ns at N = %u,\n"
           "  %.0f ns at N = %u, %.0f ns at N = %u%s\n",
           own[0], ns[0], own[1], ns[1], own[2], ns[2],
           own[2] > 4 * (own[0] > 500 ? own[0] : 500)
               ? ":\n  it grows with N, so taking one frame costs more than O(1)"
               : "");
}

int main(int argc, char **argv)
{
    unsigned reps = 5;
    double scale = bench_parse_args(
        argc, argv,
        "swap out + swap in of N pages (pm_swap, pm_swap_flush, pm_pressure, allocate,\n"
        "pm_swap_in) against raw pwrite/pread of the same pages to the same file, at\n"
        "4, 64 and 256 MiB (times the scale).",
        &reps);
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    printf("bench-swap: swap out and in vs raw pwrite/pread on the swap file\n");
    printf("best of %u repetitions (median beside it); scale %.2g; pages of %u B;\n"
           "both sides go through the host's page cache alike (no fsync): the disk is not\n"
           "measured, the system calls and copies are\n",
           reps, scale, PAGE);

    double ratios[NSIZES];
    uint32_t pages[NSIZES];
    for (size_t s = 0; s < NSIZES; s++) {
        pages[s] = (uint32_t)bench_scaled(sizes_mib[s] * (1u << 20) / PAGE, scale, 256);
        ratios[s] = bench_size(pages[s], reps);
    }
    bench_evict(scale, reps);

    printf("\n");
    for (size_t s = 0; s < NSIZES; s++) {
        char label[64];
        snprintf(label, sizeof label, "round trip >= 0.8x raw, %.4g MiB",
                 (double)pages[s] * PAGE / (1u << 20));
        bench_print_goal(label, ratios[s] >= GOAL_RATIO);
    }
    return 0;
}
