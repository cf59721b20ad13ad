/* bench-physmem.c — physmem's copies, copy-on-write breaks, allocation and
 * metadata, each against what the host does for the same job.
 *
 * The simulated machine is a pool of 1 M frames of 4 KiB (4 GiB reserved
 * with MAP_NORESERVE), a kernel over it and physmem, with one task whose
 * address space receives every mapping.  Measured:
 * 1. a logical copy of 1 GiB: pm_container_copy of 262,144 frames that are
 *    bound, written (one byte a page, through the task) and mapped writable,
 *    into a container of 262,144 allocated frames; against fork() of a
 *    process with 1 GiB of touched anonymous memory in 4 KiB pages
 *    (MADV_NOHUGEPAGE).  The host figure is the time fork() takes to return
 *    in the parent, i.e. the page-table copy; the child _exits at once and
 *    is reaped outside the timing (that round trip is printed too, no
 *    goal).  Physmem's copy downgrades the source's writable mappings as
 *    fork write-protects the parent's PTEs.  Physmem represents copies per
 *    frame (a share group per destination frame), not as ranges.  Goal: no
 *    slower than fork;
 * 2. a physical copy of 4 KiB, 64 KiB, 1 MiB and 16 MiB, as SPEC §9.3's
 *    physical-copy strategy makes it: the server maps the source readable
 *    and the destination writable and copies the bytes through its page
 *    tables (l4_copy); maps and copy timed together (the goal), and the copy
 *    alone.  Also a physical copy made by physmem: a logical copy and
 *    a map of the destination with CONT_MAP_READ | WRITE | FORCE_WRITE,
 *    which breaks copy-on-write for every frame (4 KiB copied each), the map
 *    called again while it maps fewer frames than asked (a message carries
 *    31 items, and a frame to break takes one); copy and maps timed
 *    together, back to back on the same two containers (so each copy also
 *    drops the destination's previous frames and mappings).  Against memcpy
 *    between two touched host buffers.  Goal (on the server copy): >= 0.9x
 *    memcpy from 64 KiB up;
 * 3. a copy-on-write break: N frames logically copied (not timed), then the
 *    copy mapped with FORCE_WRITE (timed: N breaks and their mappings);
 *    against the host's COW fault: a process with N touched pages forks and
 *    the child writes one byte to each page (only the writes timed).  No
 *    goal;
 * 4. pm_container_allocate of one frame then pm_container_deallocate of it
 *    (same container and identifier), in a loop; against malloc(4096)/free.
 *    Goal: >= 5 M pairs/s;
 * 5. host memory per frame at 1 M frames (a machine of its own): heap growth
 *    (glibc mallinfo2: arena bytes in use + mmapped blocks) when physmem is
 *    created (its array of per-pool-frame records) and when 1 M frames are
 *    allocated in one container (unbound); then with all of them bound and
 *    mapped into the task, at full size (binding a frame that was never
 *    touched does not touch its memory).  Pool and kernel are shown apart.
 *    Goal: physmem's bytes per frame <= 64 (the size of Linux's struct
 *    page, printed as the reference).
 * Maps in 2 and 3 are issued as a client would, asking each time for all
 * the frames left; the same with at most 31 frames a call is printed too.
 * The pool keeps up to 512 MiB of released frames resident, so that after
 * the first repetition breaks reuse resident frames, as the host's page
 * allocator hands out memory without a fault; the host minor faults taken
 * during the timed sections are printed to show it.
 *
 * Each figure is the best of a few repetitions, host and simulation
 * alternating.  The host's fork-based measurements (1 and 3) run in a
 * helper process forked at start, while the benchmark is small, so that
 * fork copies only the memory it is meant to.  Measurements, not tests: the
 * exit status is 0 whether the goals are met or not.
 *
 * Run: ./build-rel/bench/bench-physmem [--quick | --scale=F]   (a release
 * build, `meson setup build-rel --buildtype=release`, gives the figures
 * that count).  The default run takes about 10 s, --quick about 3 s; the
 * scale changes N in 3 (16,384 pages), the bytes copied in 2 and the pairs
 * in 4, not the 1 GiB of 1 or the 1 M frames of 5. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"

#include "bench.h"

#define PAGE 4096u
#define POOL_FRAMES (1u << 20)
#define GIB_FRAMES (1u << 18)      /* 1 GiB of 4 KiB frames */
#define RETAIN_FRAMES (1u << 17)   /* 512 MiB of released frames stay resident */
#define COW_FRAMES 16384u          /* measurement 3, default scale */
#define PCOPY_BYTES (256ull << 20) /* measurement 2: bytes copied per repetition */
#define ALLOC_PAIRS 5000000u       /* measurement 4 */
#define LINUX_STRUCT_PAGE 64.0     /* bytes of host metadata per 4 KiB frame */

#define GOAL_ALLOC_RATE 5e6
#define GOAL_PCOPY 0.9
#define GOAL_META 64.0

/* Where the task sees each container. */
#define VA_SRC (1ull << 40)  /* the 1 GiB source */
#define VA_COW (2ull << 40)  /* the copies broken in measurement 3 */
#define VA_PSRC (3ull << 40) /* physical copy: source */
#define VA_PDST (4ull << 40) /* physical copy: destination */
#define VA_META (5ull << 40) /* measurement 5 */

static volatile uint64_t sink;

/* Copying through a volatile pointer keeps the baseline memcpy a real copy. */
static void *(*volatile memcpy_fn)(void *, const void *, size_t) = memcpy;

/* ---- the simulated machine -------------------------------------------- */

struct pmw {
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    l4_task_t task;
    l4_thread_t thread;
    unsigned limit; /* map items per message */
};

static void pmw_init(struct pmw *w, uint32_t frames, uint32_t retain)
{
    struct pm_pool_config pc = {
        .page_size = PAGE, .frames = frames, .retain_frames = retain, .backing = PM_POOL_ANON};
    BENCH_CHECK(pm_pool_new(&pc, &w->pool) == PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w->pool), .page_size = PAGE, .frames = frames};
    BENCH_CHECK(l4_kernel_new(&kc, &w->k) == PM_OK);
    struct pm_physmem_config cfg = {
        .pool = w->pool, .kernel = w->k, .thread = l4_root_thread(w->k)};
    BENCH_CHECK(pm_physmem_new(&cfg, &w->pm) == PM_OK);
    BENCH_CHECK(l4_task_create(w->k, &w->task) == PM_OK);
    BENCH_CHECK(l4_thread_create(w->k, w->task, &w->thread) == PM_OK);
    BENCH_CHECK(pm_task_add(w->pm, w->task, w->thread) == PM_OK);
    w->limit = l4_map_item_limit(w->k);
}

static void pmw_fini(struct pmw *w)
{
    pm_physmem_free(w->pm);
    l4_kernel_free(w->k);
    pm_pool_free(w->pool);
}

/* Allocate frames 0 … N − 1 of C. */
static void cont_fill(struct pmw *w, container_t c, uint32_t n)
{
    uint32_t cnt = n;
    BENCH_CHECK(pm_container_allocate(w->pm, w->task, c, 0, &cnt, 0) == PM_OK && cnt == n);
}

/* Deallocate frames 0 … N − 1 of C (their mappings go). */
static void cont_empty(struct pmw *w, container_t c, uint32_t n)
{
    uint32_t cnt = n;
    BENCH_CHECK(pm_container_deallocate(w->pm, w->task, c, 0, &cnt, 0) == PM_OK && cnt == n);
}

/* A new container holding frames 0 … N − 1 (none when N is 0). */
static container_t cont_new(struct pmw *w, uint32_t n)
{
    container_t c;
    BENCH_CHECK(pm_container_create(w->pm, w->task, &c) == PM_OK);
    if (n > 0)
        cont_fill(w, c, n);
    return c;
}

/* Destroy C, whose frames are 0 … N − 1.  They are deallocated first, in
 * one call: when this was written, destroying a container with its frames
 * in it took time quadratic in their number (pm__destroy_container
 * restarted its walk of the sparse array from identifier 0 after each frame
 * it dropped: minutes for 1 GiB). */
static void cont_destroy(struct pmw *w, container_t c, uint32_t n)
{
    cont_empty(w, c, n);
    BENCH_CHECK(pm_container_destroy(w->pm, w->task, c) == PM_OK);
}

/* Map frames 0 … N − 1 of C at VA with FLAGS, calling again while a call
 * maps fewer frames than asked.  Each call asks for all the frames left,
 * or at most CHUNK of them (CHUNK > 0).  Returns the number of calls. */
static uint64_t map_all(struct pmw *w, container_t c, uint32_t n, unsigned flags, uint64_t va,
                        uint32_t chunk)
{
    uint64_t calls = 0;
    for (uint32_t done = 0; done < n; calls++) {
        uint32_t cnt = n - done;
        if (chunk > 0 && cnt > chunk)
            cnt = chunk;
        BENCH_CHECK(pm_container_map(w->pm, w->task, c, done, &cnt, flags,
                                     va + (uint64_t)done * PAGE) == PM_OK);
        BENCH_CHECK(cnt > 0);
        done += cnt;
    }
    return calls;
}

/* Write one byte (SEED + page index) to each of N pages at VA, as the task. */
static void write_pages(struct pmw *w, uint64_t va, uint32_t n, unsigned seed)
{
    for (uint32_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)(seed + i);
        BENCH_CHECK(l4_access(w->k, w->thread, L4_ACCESS_WRITE, va + (uint64_t)i * PAGE, &b, 1,
                              NULL) == PM_OK);
    }
}

/* The byte at VA, as the task reads it. */
static unsigned char read_byte(struct pmw *w, uint64_t va)
{
    unsigned char b = 0;
    BENCH_CHECK(l4_access(w->k, w->thread, L4_ACCESS_READ, va, &b, 1, NULL) == PM_OK);
    return b;
}

static void copy_frames(struct pmw *w, container_t src, container_t dst, uint32_t n)
{
    frame_t err;
    BENCH_CHECK(pm_container_copy(w->pm, w->task, src, 0, dst, 0, n, 0, &err) == PM_OK);
}

static struct pm_stats stats_of(const struct pmw *w)
{
    struct pm_stats s;
    pm_stats(w->pm, &s);
    return s;
}

#define FORCE (CONT_MAP_READ | CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE)
#define RW (CONT_MAP_READ | CONT_MAP_WRITE)

/* ---- the host ----------------------------------------------------------- */

/* N pages of private anonymous memory in 4 KiB pages, one byte written to each. */
static unsigned char *host_touched(uint64_t n)
{
    size_t len = (size_t)n * PAGE;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    BENCH_CHECK(m != MAP_FAILED);
    (void)madvise(m, len, MADV_NOHUGEPAGE);
    for (uint64_t i = 0; i < n; i++)
        ((volatile unsigned char *)m)[i * PAGE] = (unsigned char)(i + 1);
    return m;
}

/* The host's fork-based measurements run in a helper process, forked at
 * start while this process is small: fork copies the page tables of the
 * whole process, and those of the simulated machine (its pool, its mapping
 * nodes) must not be part of what the host's fork copies.  The helper holds
 * the 1 GiB of touched memory and answers requests over pipes, so that host
 * and simulated repetitions can alternate. */
struct helper {
    pid_t pid;
    int req, resp; /* our ends of the pipes */
};

enum { REQ_FORK = 1, REQ_COW = 2 };

struct request {
    uint32_t op;
    uint32_t n;
};

/* Two figures back: fork (ns), fork+exit+wait (ns); or the COW writes (ns),
 * the minor faults they took. */
struct reply {
    uint64_t a, b;
};

static void read_all(int fd, void *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t r = read(fd, (char *)buf + got, len - got);
        BENCH_CHECK(r > 0);
        got += (size_t)r;
    }
}

static void write_all(int fd, const void *buf, size_t len)
{
    for (size_t put = 0; put < len;) {
        ssize_t r = write(fd, (const char *)buf + put, len - put);
        BENCH_CHECK(r > 0);
        put += (size_t)r;
    }
}

/* The helper: fork measurements on FORK_PAGES touched pages, COW
 * measurements on a region of the size asked for. */
static void helper_main(int req, int resp, uint64_t fork_pages)
{
    unsigned char *m = host_touched(fork_pages);
    struct reply rp = {0, 0};
    write_all(resp, &rp, sizeof rp); /* ready */
    struct request rq;
    while (read(req, &rq, sizeof rq) == (ssize_t)sizeof rq) {
        int st;
        if (rq.op == REQ_FORK) {
            uint64_t t0 = bench_now_ns();
            pid_t pid = fork();
            if (pid == 0)
                _exit(0);
            uint64_t t1 = bench_now_ns();
            BENCH_CHECK(pid > 0);
            BENCH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
            rp = (struct reply){t1 - t0, bench_now_ns() - t0};
            write_all(resp, &rp, sizeof rp);
        } else if (rq.op == REQ_COW) {
            unsigned char *c = host_touched(rq.n);
            pid_t pid = fork();
            if (pid == 0) {
                /* The child's writes: one COW fault a page. */
                uint64_t f0 = bench_minor_faults();
                uint64_t t0 = bench_now_ns();
                for (uint64_t i = 0; i < rq.n; i++)
                    ((volatile unsigned char *)c)[i * PAGE] = (unsigned char)(i + 7);
                rp = (struct reply){bench_now_ns() - t0, bench_minor_faults() - f0};
                write_all(resp, &rp, sizeof rp);
                _exit(0);
            }
            BENCH_CHECK(pid > 0);
            BENCH_CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
            munmap(c, (size_t)rq.n * PAGE);
        } else {
            break;
        }
    }
    munmap(m, (size_t)fork_pages * PAGE);
    _exit(0);
}

static void helper_start(struct helper *h, uint64_t fork_pages)
{
    int req[2], resp[2];
    BENCH_CHECK(pipe(req) == 0 && pipe(resp) == 0);
    fflush(NULL);
    h->pid = fork();
    BENCH_CHECK(h->pid >= 0);
    if (h->pid == 0) {
        close(req[1]);
        close(resp[0]);
        helper_main(req[0], resp[1], fork_pages);
    }
    close(req[0]);
    close(resp[1]);
    h->req = req[1];
    h->resp = resp[0];
    struct reply ready;
    read_all(h->resp, &ready, sizeof ready);
}

static struct reply helper_ask(struct helper *h, uint32_t op, uint32_t n)
{
    struct request rq = {op, n};
    struct reply rp;
    write_all(h->req, &rq, sizeof rq);
    read_all(h->resp, &rp, sizeof rp);
    return rp;
}

static void helper_stop(struct helper *h)
{
    close(h->req); /* the helper reads end-of-file and exits */
    close(h->resp);
    int st;
    BENCH_CHECK(waitpid(h->pid, &st, 0) == h->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The host side of measurements 1 and 3. */
struct host_figures {
    struct bench_best fork_only, fork_round, cow;
    double cow_faults; /* minor faults per write, in the best COW repetition */
};

/* ---- 1. logical copy of 1 GiB --------------------------------------------- */

struct lcopy {
    struct bench_best copy, recopy;
    uint64_t downgraded; /* source mappings made read-only by one copy */
};

static void bench_logical_copy(struct pmw *w, container_t src, unsigned reps, struct lcopy *out,
                               struct helper *h, struct host_figures *host)
{
    const uint32_t n = GIB_FRAMES;
    container_t dst = cont_new(w, n);
    for (unsigned r = 0; r < reps; r++) {
        struct reply fk = helper_ask(h, REQ_FORK, 0);
        bench_record(&host->fork_only, fk.a, n);
        bench_record(&host->fork_round, fk.b, n);

        /* Not timed: a fresh destination, and the source writable again
         * (it is no longer copy-on-write once the old copy is gone). */
        cont_empty(w, dst, n);
        cont_fill(w, dst, n);
        map_all(w, src, n, RW, VA_SRC, 0);
        unsigned rights = 0;
        pm_pfn_t pfn;
        BENCH_CHECK(l4_lookup(w->k, w->task, VA_SRC, &pfn, &rights) == PM_OK && (rights & L4_W));
        struct l4_stats k0;
        l4_stats(w->k, &k0);
        struct pm_stats s0 = stats_of(w);

        uint64_t t0 = bench_now_ns();
        copy_frames(w, src, dst, n);
        bench_record(&out->copy, bench_now_ns() - t0, n);

        struct pm_stats s1 = stats_of(w);
        struct l4_stats k1;
        l4_stats(w->k, &k1);
        BENCH_CHECK(s1.logical_copies - s0.logical_copies == n);
        BENCH_CHECK(s1.frames_bound == s0.frames_bound && s1.bytes_copied == s0.bytes_copied);
        out->downgraded = k1.pages_downgraded - k0.pages_downgraded;
        BENCH_CHECK(l4_lookup(w->k, w->task, VA_SRC, &pfn, &rights) == PM_OK && !(rights & L4_W));
        struct pm_frame_info fs, fd;
        BENCH_CHECK(pm_frame_info(w->pm, w->task, src, n - 1, &fs) == PM_OK);
        BENCH_CHECK(pm_frame_info(w->pm, w->task, dst, n - 1, &fd) == PM_OK);
        BENCH_CHECK(fd.cow && fd.pfn.n == fs.pfn.n && fd.group_size == 1);

        /* Copying again over the copy: nothing writable left to downgrade,
         * and the old copies' groups are dropped. */
        t0 = bench_now_ns();
        copy_frames(w, src, dst, n);
        bench_record(&out->recopy, bench_now_ns() - t0, n);
    }
    cont_destroy(w, dst, n);
}

/* ---- 2. physical copy ------------------------------------------------------ */

#define PCOPY_SIZES 4
static const uint32_t pcopy_frames[PCOPY_SIZES] = {1, 16, 256, 4096};

struct pcopy {
    struct bench_best sim, sim_chunk, host;
    struct bench_best server, server_copy; /* the server maps both and copies (l4_copy) */
    uint64_t ops;
    double bytes_per_op;  /* pm_stats bytes_copied per copy */
    double calls_per_op;  /* map calls per copy */
    double faults_per_op; /* host minor faults per copy, in the last timed run */
};

/* OPS physical copies of N frames from SRC to DST, maps asking for CHUNK
 * frames at most (0: all that are left).  Returns the time; adds the map
 * calls to *CALLS. */
static uint64_t sim_pcopy(struct pmw *w, container_t src, container_t dst, uint32_t n, uint64_t ops,
                          uint32_t chunk, uint64_t *calls)
{
    uint64_t c = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i++) {
        copy_frames(w, src, dst, n);
        c += map_all(w, dst, n, FORCE, VA_PDST, chunk);
    }
    uint64_t t = bench_now_ns() - t0;
    *calls += c;
    return t;
}

/* OPS physical copies as SPEC §9.3 has a server make them: map SRC
 * readable and DST writable into its address space, then copy the bytes
 * (l4_copy, a memcpy through the page tables).  Returns the time; with
 * COPY_ONLY the maps are made once, before the clock starts. */
static uint64_t sim_server_copy(struct pmw *w, container_t src, container_t dst, uint32_t n,
                                uint64_t ops, bool copy_only)
{
    size_t len = (size_t)n * PAGE;
    if (copy_only) {
        map_all(w, src, n, CONT_MAP_READ, VA_PSRC, 0);
        map_all(w, dst, n, RW, VA_PDST, 0);
    }
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i++) {
        if (!copy_only) {
            map_all(w, src, n, CONT_MAP_READ, VA_PSRC, 0);
            map_all(w, dst, n, RW, VA_PDST, 0);
        }
        size_t done = 0;
        BENCH_CHECK(l4_copy(w->k, w->thread, VA_PDST, VA_PSRC, len, &done) == PM_OK && done == len);
    }
    return bench_now_ns() - t0;
}

static uint64_t host_memcpy(unsigned char *a, unsigned char *b, size_t len, uint64_t ops)
{
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < ops; i++)
        memcpy_fn(b, a, len);
    uint64_t t = bench_now_ns() - t0;
    sink += b[len - 1];
    return t;
}

static void bench_physical_copy(struct pmw *w, unsigned reps, double scale,
                                struct pcopy out[PCOPY_SIZES])
{
    size_t maxlen = (size_t)pcopy_frames[PCOPY_SIZES - 1] * PAGE;
    unsigned char *ha = host_touched(maxlen / PAGE), *hb = host_touched(maxlen / PAGE);
    memset(ha, 0x5A, maxlen);
    memset(hb, 0xA5, maxlen);
    uint64_t budget = bench_scaled(PCOPY_BYTES, scale, 16ull << 20);
    for (unsigned s = 0; s < PCOPY_SIZES; s++) {
        uint32_t n = pcopy_frames[s];
        size_t len = (size_t)n * PAGE;
        struct pcopy *o = &out[s];
        o->ops = budget / len > 0 ? budget / len : 1;
        container_t src = cont_new(w, n), dst = cont_new(w, n);
        map_all(w, src, n, RW, VA_PSRC, 0);
        write_pages(w, VA_PSRC, n, s * 31u + 1);
        uint64_t calls = 0, chunk_calls = 0;
        for (unsigned r = 0; r < reps; r++) {
            struct pm_stats s0 = stats_of(w);
            uint64_t f0 = bench_minor_faults();
            bench_record(&o->sim, sim_pcopy(w, src, dst, n, o->ops, 0, &calls), o->ops);
            o->faults_per_op = (double)(bench_minor_faults() - f0) / (double)o->ops;
            struct pm_stats s1 = stats_of(w);
            BENCH_CHECK(s1.cow_breaks - s0.cow_breaks == o->ops * n);
            o->bytes_per_op = (double)(s1.bytes_copied - s0.bytes_copied) / (double)o->ops;
            bench_record(&o->sim_chunk, sim_pcopy(w, src, dst, n, o->ops, w->limit, &chunk_calls),
                         o->ops);
            bench_record(&o->host, host_memcpy(ha, hb, len, o->ops), o->ops);
        }

        o->calls_per_op = (double)calls / ((double)reps * (double)o->ops);
        /* The bytes really moved: the destination reads as the source,
         * writably mapped on frames of its own. */
        uint32_t step = n > 64 ? n / 64 : 1;
        for (uint32_t i = 0; i < n; i += step)
            BENCH_CHECK(read_byte(w, VA_PDST + (uint64_t)i * PAGE) ==
                        (unsigned char)(s * 31u + 1 + i));
        struct pm_frame_info fi;
        BENCH_CHECK(pm_frame_info(w->pm, w->task, dst, n - 1, &fi) == PM_OK && !fi.cow);
        /* The server's byte copy, into a destination of private frames. */
        container_t dst2 = cont_new(w, n);
        for (unsigned r = 0; r < reps; r++) {
            bench_record(&o->server, sim_server_copy(w, src, dst2, n, o->ops, false), o->ops);
            bench_record(&o->server_copy, sim_server_copy(w, src, dst2, n, o->ops, true), o->ops);
        }
        BENCH_CHECK(read_byte(w, VA_PDST + (uint64_t)(n - 1) * PAGE) ==
                    (unsigned char)(s * 31u + 1 + (n - 1)));
        cont_destroy(w, dst2, n);
        cont_destroy(w, src, n);
        cont_destroy(w, dst, n);
    }
    munmap(ha, maxlen);
    munmap(hb, maxlen);
}

/* ---- 3. copy-on-write breaks ---------------------------------------------- */

struct cow {
    struct bench_best sim, sim_chunk;
    double faults; /* host minor faults per break, best plain run */
    double calls;  /* map calls per run */
};

/* N fresh copies of SRC's first frames in DST, then one timed FORCE_WRITE
 * map of them.  Returns the time. */
static uint64_t sim_cow_round(struct pmw *w, container_t src, container_t dst, uint32_t n,
                              uint32_t chunk, double *faults, double *calls)
{
    cont_empty(w, dst, n);
    cont_fill(w, dst, n);
    copy_frames(w, src, dst, n);
    struct pm_stats s0 = stats_of(w);
    uint64_t f0 = bench_minor_faults();
    uint64_t t0 = bench_now_ns();
    uint64_t c = map_all(w, dst, n, FORCE, VA_COW, chunk);
    uint64_t t = bench_now_ns() - t0;
    uint64_t f = bench_minor_faults() - f0;
    struct pm_stats s1 = stats_of(w);
    BENCH_CHECK(s1.cow_breaks - s0.cow_breaks == n);
    BENCH_CHECK(s1.bytes_copied - s0.bytes_copied == (uint64_t)n * PAGE);
    if (faults != NULL)
        *faults = (double)f / n;
    if (calls != NULL)
        *calls = (double)c;
    return t;
}

static void bench_cow(struct pmw *w, container_t src, uint32_t n, unsigned reps, struct cow *out,
                      struct helper *h, struct host_figures *host)
{
    container_t dst = cont_new(w, n);
    for (unsigned r = 0; r < reps; r++) {
        struct reply cr = helper_ask(h, REQ_COW, n);
        double prev = host->cow.ns_per_op;
        bench_record(&host->cow, cr.a, n);
        if (host->cow.ns_per_op != prev)
            host->cow_faults = (double)cr.b / n;

        double faults, calls;
        uint64_t t = sim_cow_round(w, src, dst, n, 0, &faults, &calls);
        double before = out->sim.ns_per_op;
        bench_record(&out->sim, t, n);
        if (out->sim.ns_per_op != before) {
            out->faults = faults;
            out->calls = calls;
        }
        bench_record(&out->sim_chunk, sim_cow_round(w, src, dst, n, w->limit, NULL, NULL), n);
    }
    BENCH_CHECK(read_byte(w, VA_COW + (uint64_t)(n - 1) * PAGE) == (unsigned char)(n - 1));
    cont_destroy(w, dst, n);
}

/* ---- 4. allocate + deallocate ---------------------------------------------- */

static uint64_t sim_alloc_pairs(struct pmw *w, container_t c, uint64_t n)
{
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        uint32_t cnt = 1;
        BENCH_CHECK(pm_container_allocate(w->pm, w->task, c, 0, &cnt, 0) == PM_OK);
        cnt = 1;
        BENCH_CHECK(pm_container_deallocate(w->pm, w->task, c, 0, &cnt, 0) == PM_OK);
    }
    return bench_now_ns() - t0;
}

static uint64_t host_malloc_pairs(uint64_t n)
{
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        void *p = malloc(PAGE);
        BENCH_CHECK(p != NULL);
        sum += (uintptr_t)p;
        free(p);
    }
    uint64_t t = bench_now_ns() - t0;
    sink += sum;
    return t;
}

/* ---- 5. metadata ------------------------------------------------------------ */

struct meta {
    double pool, kernel, physmem_fixed, physmem_alloc, mapped;
    double rss_alloc, rss_mapped; /* RSS growth per frame */
    double alloc_ms, map_ms;
};

static void bench_metadata(struct meta *m)
{
    const uint32_t n = POOL_FRAMES;
    struct pmw w;
    size_t h0 = bench_heap_bytes();
    struct pm_pool_config pc = {.page_size = PAGE,
                                .frames = n,
                                .retain_frames = PM_POOL_DEFAULT_RETAIN,
                                .backing = PM_POOL_ANON};
    BENCH_CHECK(pm_pool_new(&pc, &w.pool) == PM_OK);
    size_t h1 = bench_heap_bytes();
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w.pool), .page_size = PAGE, .frames = n};
    BENCH_CHECK(l4_kernel_new(&kc, &w.k) == PM_OK);
    size_t h2 = bench_heap_bytes();
    struct pm_physmem_config cfg = {.pool = w.pool, .kernel = w.k, .thread = l4_root_thread(w.k)};
    BENCH_CHECK(pm_physmem_new(&cfg, &w.pm) == PM_OK);
    size_t h3 = bench_heap_bytes();
    BENCH_CHECK(l4_task_create(w.k, &w.task) == PM_OK);
    BENCH_CHECK(l4_thread_create(w.k, w.task, &w.thread) == PM_OK);
    BENCH_CHECK(pm_task_add(w.pm, w.task, w.thread) == PM_OK);
    container_t c = cont_new(&w, 0);
    size_t h4 = bench_heap_bytes(), r4 = bench_rss_bytes();
    uint64_t t0 = bench_now_ns();
    cont_fill(&w, c, n);
    m->alloc_ms = (double)(bench_now_ns() - t0) / 1e6;
    size_t h5 = bench_heap_bytes(), r5 = bench_rss_bytes();
    t0 = bench_now_ns();
    map_all(&w, c, n, RW, VA_META, 0);
    m->map_ms = (double)(bench_now_ns() - t0) / 1e6;
    size_t h6 = bench_heap_bytes(), r6 = bench_rss_bytes();
    struct pm_pool_stats ps;
    pm_pool_stats(w.pool, &ps);
    BENCH_CHECK(ps.bound == n);

    m->pool = (double)(h1 - h0) / n;
    m->kernel = (double)(h2 - h1) / n;
    m->physmem_fixed = (double)(h3 - h2) / n;
    m->physmem_alloc = (double)(h5 - h4) / n;
    m->mapped = (double)(h6 - h5) / n;
    m->rss_alloc = ((double)r5 - (double)r4) / n;
    m->rss_mapped = ((double)r6 - (double)r5) / n;
    cont_destroy(&w, c, n);
    pmw_fini(&w);
}

/* ---- main ------------------------------------------------------------------- */

static double ratio(const struct bench_best *sim, const struct bench_best *host)
{
    return sim->ns_per_op > 0.0 ? host->ns_per_op / sim->ns_per_op : 0.0;
}

/* `label : 12.34 UNIT` with DECIMALS decimals. */
static void print_line(const char *label, int decimals, double v, const char *unit)
{
    printf("%-*s: %8.*f%s\n", BENCH_LABEL_WIDTH, label, decimals, v, unit);
}

int main(int argc, char **argv)
{
    unsigned reps = 5;
    double scale = bench_parse_args(
        argc, argv,
        "physmem against the host: a logical copy of 1 GiB against fork(), physical\n"
        "copies (copy + FORCE_WRITE map) against memcpy, copy-on-write breaks against\n"
        "the host's COW faults, allocate+deallocate of one frame, and metadata bytes\n"
        "per frame at 1 M frames.",
        &reps);
    uint32_t n_cow = (uint32_t)bench_scaled(COW_FRAMES, scale, 1024);
    if (n_cow > GIB_FRAMES)
        n_cow = GIB_FRAMES;
    uint64_t n_alloc = bench_scaled(ALLOC_PAIRS, scale, 10000);

    printf("bench-physmem: physmem vs the host\n");
    printf("best of %u repetitions; scale %.2g; pages and frames of %u B; "
           "host pages without THP (MADV_NOHUGEPAGE)\n\n",
           reps, scale, PAGE);

    /* The host helper first, while this process is small. */
    struct helper h;
    struct host_figures host;
    memset(&host, 0, sizeof host);
    helper_start(&h, GIB_FRAMES);

    struct pmw w;
    uint64_t t0 = bench_now_ns();
    pmw_init(&w, POOL_FRAMES, RETAIN_FRAMES);
    /* The 1 GiB source: bound by its map, one byte written to each page. */
    container_t src = cont_new(&w, GIB_FRAMES);
    map_all(&w, src, GIB_FRAMES, RW, VA_SRC, 0);
    write_pages(&w, VA_SRC, GIB_FRAMES, 0);
    double setup_ms = (double)(bench_now_ns() - t0) / 1e6;
    printf("simulated machine: pool of %u frames (%.0f GiB, MAP_NORESERVE), %u released frames "
           "kept resident;\n  source of 1 GiB bound, mapped and written in %.0f ms (not timed)\n",
           POOL_FRAMES, (double)POOL_FRAMES * PAGE / (1u << 30), RETAIN_FRAMES, setup_ms);

    /* 1. */
    struct lcopy lc = {0};
    bench_logical_copy(&w, src, reps, &lc, &h, &host);
    double r_fork = ratio(&lc.copy, &host.fork_only);
    printf("\n1. logical copy of 1 GiB (%u frames) vs fork() of a process with 1 GiB touched\n",
           GIB_FRAMES);
    printf("   pmsim keeps copies per frame: each destination frame becomes a share group of\n"
           "   its own naming the source's physical frame (no ranges or extents), so a copy\n"
           "   costs O(frames), like fork's per-PTE copy.  Host: time for fork() to return\n"
           "   in the parent; the child _exits at once and is reaped outside the timing.\n");
    bench_print_ms("  fork() in the parent (host)", &host.fork_only, GIB_FRAMES, "page");
    bench_print_ms("  fork+_exit+waitpid (host)", &host.fork_round, GIB_FRAMES, "page");
    bench_print_ms("  pm_container_copy (sim)", &lc.copy, GIB_FRAMES, "frame");
    bench_print_ms("  copy again over the copy (sim)", &lc.recopy, GIB_FRAMES, "frame");
    print_line("  source mappings made read-only", 0, (double)lc.downgraded, "");
    bench_print_ratio("  ratio sim/host (fork only)", r_fork, 1.0);
    bench_print_ratio("  ratio sim/host (fork+exit+wait)", ratio(&lc.copy, &host.fork_round), 0.0);
    fflush(stdout);

    /* 3 (before 2: it copies from the 1 GiB source). */
    struct cow cw = {0};
    bench_cow(&w, src, n_cow, reps, &cw, &h, &host);
    helper_stop(&h);
    cont_destroy(&w, src, GIB_FRAMES);
    pm_pool_trim(w.pool);

    /* 2. */
    struct pcopy pcs[PCOPY_SIZES];
    memset(pcs, 0, sizeof pcs);
    bench_physical_copy(&w, reps, scale, pcs);
    printf("\n2. physical copy vs memcpy between two touched host buffers\n");
    printf("   server copy (the goal): the server maps source (read) and destination\n"
           "   (write), then copies the bytes through its page tables (l4_copy); timed:\n"
           "   both maps and the copy.  copy+break: a logical copy, then a FORCE_WRITE map\n"
           "   of the destination breaking every frame's copy-on-write (31 items a message)\n");
    bool pcopy_met = true;
    for (unsigned s = 0; s < PCOPY_SIZES; s++) {
        struct pcopy *o = &pcs[s];
        size_t len = (size_t)pcopy_frames[s] * PAGE;
        char label[64];
        char sz[16];
        if (len >= (1u << 20))
            snprintf(sz, sizeof sz, "%zu MiB", len >> 20);
        else
            snprintf(sz, sizeof sz, "%zu KiB", len >> 10);
        printf("  %s (%u frame%s), %llu copies a repetition:\n", sz, pcopy_frames[s],
               pcopy_frames[s] == 1 ? "" : "s", (unsigned long long)o->ops);
        bench_print_bandwidth("    memcpy (host)", &o->host, len);
        bench_print_bandwidth("    copy + map (sim)", &o->sim, len);
        bench_print_bandwidth("    copy + map, <= 31 a call (sim)", &o->sim_chunk, len);
        print_line("    bytes_copied per copy (pm_stats)", 0, o->bytes_per_op, "");
        print_line("    map calls per copy", 1, o->calls_per_op, "");
        print_line("    host minor faults per copy", 2, o->faults_per_op, "");
        bench_print_bandwidth("    server: map both + l4_copy (sim)", &o->server, len);
        bench_print_bandwidth("    server: l4_copy, mapped (sim)", &o->server_copy, len);
        snprintf(label, sizeof label, "    ratio copy+break/host (%s)", sz);
        bench_print_ratio(label, ratio(&o->sim, &o->host), 0.0);
        snprintf(label, sizeof label, "    ratio copy+break/host, <= 31 a call");
        bench_print_ratio(label, ratio(&o->sim_chunk, &o->host), 0.0);
        double r = ratio(&o->server, &o->host);
        snprintf(label, sizeof label, "    ratio server copy/host (%s)", sz);
        bench_print_ratio(label, r, s >= 1 ? GOAL_PCOPY : 0.0);
        snprintf(label, sizeof label, "    ratio l4_copy alone/host (%s)", sz);
        bench_print_ratio(label, ratio(&o->server_copy, &o->host), 0.0);
        if (s >= 1)
            pcopy_met &= r >= GOAL_PCOPY;
    }
    fflush(stdout);

    printf("\n3. copy-on-write break vs host COW fault, %u pages\n", n_cow);
    printf("   host: the child of a fork writes one byte to each page (writes timed);\n"
           "   sim: %u frames copied (not timed), then mapped with FORCE_WRITE (timed)\n",
           n_cow);
    bench_print_rate("  COW fault (host)", &host.cow);
    bench_print_rate("  COW break + map (sim)", &cw.sim);
    bench_print_rate("  COW break + map, <= 31 a call (sim)", &cw.sim_chunk);
    printf("  %-*s: %8.1f ns/op\n", BENCH_LABEL_WIDTH - 2, "first repetition (sim)", cw.sim.first);
    print_line("  host minor faults per write (host)", 2, host.cow_faults, "");
    print_line("  host minor faults per break (sim)", 2, cw.faults, "");
    print_line("  map calls per run (sim)", 0, cw.calls, "");
    bench_print_ratio("  ratio sim/host", ratio(&cw.sim, &host.cow), 0.0);
    bench_print_ratio("  ratio sim/host, <= 31 a call", ratio(&cw.sim_chunk, &host.cow), 0.0);
    fflush(stdout);

    /* 4. */
    struct bench_best ap = {0}, am = {0};
    container_t c4 = cont_new(&w, 0);
    for (unsigned r = 0; r < reps; r++) {
        bench_record(&ap, sim_alloc_pairs(&w, c4, n_alloc), n_alloc);
        bench_record(&am, host_malloc_pairs(n_alloc), n_alloc);
    }
    printf("\n4. allocate + deallocate of one frame (same container and identifier)\n");
    bench_print_rate("  allocate+deallocate (sim)", &ap);
    bench_print_rate("  malloc(4096)+free (host)", &am);
    bench_print_ratio("  ratio sim/host", ratio(&ap, &am), 0.0);
    printf("  %-*s: %8.2f M/s\n", BENCH_LABEL_WIDTH - 2, "goal", GOAL_ALLOC_RATE / 1e6);
    fflush(stdout);
    pmw_fini(&w);

    /* 5. */
    struct meta m = {0};
    bench_metadata(&m);
    double physmem_bytes = m.physmem_fixed + m.physmem_alloc;
    printf("\n5. host memory per frame, 1 M frames (heap growth, glibc mallinfo2)\n");
    print_line("  pool (per pool frame)", 2, m.pool, " B");
    print_line("  kernel, root table (per pool frame)", 2, m.kernel, " B");
    print_line("  physmem, fixed (per pool frame)", 2, m.physmem_fixed, " B");
    print_line("  physmem, per allocated frame", 2, m.physmem_alloc, " B");
    print_line("  physmem, total per frame", 2, physmem_bytes, " B");
    print_line("  Linux struct page (reference)", 2, LINUX_STRUCT_PAGE, " B");
    bench_print_ratio("  ratio struct page/physmem", LINUX_STRUCT_PAGE / physmem_bytes, 1.0);
    print_line("  all layers, unbound frames", 2, m.pool + m.kernel + physmem_bytes, " B");
    print_line("  bind + map of all 1 M: added", 2, m.mapped, " B");
    print_line("  RSS growth: allocate (per frame)", 2, m.rss_alloc, " B");
    print_line("  RSS growth: bind + map (per frame)", 2, m.rss_mapped, " B");
    printf("  (allocating took %.0f ms, binding and mapping %.0f ms.  Binding adds nothing to\n"
           "   physmem (a group has its pfn field already): what it adds is the kernel's, a\n"
           "   mapping node and a root node per page and page tables.  A frame that was never\n"
           "   touched is bound without touching it: the RSS shows the pool's 4 GiB untouched)\n",
           m.alloc_ms, m.map_ms);

    printf("\n");
    bench_print_goal("1 GiB logical copy >= fork", r_fork >= 1.0);
    bench_print_goal("physical copy >= 0.9x memcpy", pcopy_met);
    for (unsigned s = 1; s < PCOPY_SIZES; s++) {
        char label[64];
        size_t len = (size_t)pcopy_frames[s] * PAGE;
        snprintf(label, sizeof label, "  ... at %zu %s", len >= (1u << 20) ? len >> 20 : len >> 10,
                 len >= (1u << 20) ? "MiB" : "KiB");
        bench_print_goal(label, ratio(&pcs[s].server, &pcs[s].host) >= GOAL_PCOPY);
    }
    bench_print_goal("alloc+dealloc >= 5 M/s", bench_rate(&ap) >= GOAL_ALLOC_RATE);
    bench_print_goal("physmem metadata <= 64 B/frame", physmem_bytes <= GOAL_META);
    return 0;
}
