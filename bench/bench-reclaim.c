/* bench-reclaim.c — the cost of a reclaim round (SPEC §5) at 1,000 tasks,
 * for every victim policy, against the host doing the same kind of work.
 *
 * The simulated machine: a pool of ΣK + 256 frames (released frames kept
 * resident up to the default bound, as pmsim runs), a kernel, physmem with
 * the victim policy under test (no swap, the default deadline of 1 ms), and
 * 1,000 tasks.  Task i has a main thread, a memory control thread whose
 * handler receives pm_return_frames, and one container of K_i = 4 … 16
 * frames (K_i = 4 + 7i mod 13: unequal, so that the policies order them
 * differently; ΣK = 10,000), allocated and mapped (so bound: they hold
 * physical frames).  No policy server: allocation is first come, first
 * served, so every frame is extra (E_i = A_i = K_i).  Each timed round runs
 * on a machine of its own, built (not timed) for it, so that no round sees
 * what an earlier one left behind.
 *
 * Rounds (the pool's free frames are F; physmem is asked for F + S):
 *  1. all asked, tasks comply: S = ΣE, so every policy must ask every task
 *     for all of its E.  Timed apart: pm_pressure (1,000 upcalls: each an
 *     asynchronous send to the task's memory control thread, whose handler
 *     only records the count); the compliance (each asked task deallocates
 *     its count with CONT_DEALLOC_SOFT, one call a task, after pm_pressure
 *     returned); pm_physmem_tick (nothing owed any more).
 *  2. half asked, tasks comply: S = ΣE / 2; how many tasks are asked
 *     depends on the policy (most-extra and youngest ask tasks in their
 *     order, each for its whole E, until S is covered; spread asks every
 *     task for its share).
 *  3. all asked, every task ignores the upcall: pm_pressure as in 1, then
 *     the clock moved past the deadline (not timed) and pm_physmem_tick
 *     (timed), which exiles all 1,000 (their frames dropped, mappings gone).
 *  4. all asked, no task ready to receive (no handler on the memory control
 *     thread): pm_pressure exiles each victim at once.
 *
 * The host baseline: a round is, for each of 1,000 tasks, a notification
 * carrying a count delivered to a handler, then a call by which the task
 * gives back that many pages, which unmaps them.  The host's nearest
 * equivalents are sigqueue(2) of SIGUSR1 with the count as its value,
 * delivered to an SA_SIGINFO handler that records it (a kernel-mediated
 * asynchronous notification with a payload), and madvise(2) with
 * MADV_DONTNEED on the same number of pages (a system call that unmaps
 * them and gives their memory back), on 1,000 regions of K_i touched pages
 * each.  The signals go to this process: the simulator delivers an upcall
 * by calling the handler in the same host thread (l4_send_async), and does
 * not model a context switch, so neither does the baseline.  MADV_FREE,
 * which like a soft reference lets the kernel take the pages whenever it
 * needs them and keeps their data until then, is printed for context.
 * Ratio = host time / pmsim time (> 1: pmsim is faster).  No goal: the
 * figures show what a round costs the simulator per task, and whether it
 * stays linear in the tasks (exile included).
 *
 * Last, rounds 1 and 3 (most-extra) at a quarter of the tasks, at the
 * tasks, and at four times as many, to show how the cost per task changes
 * with the number of tasks.  When this was written, an exile's cost grew
 * in proportion to the number of tasks (pm__exile walks every container
 * of the machine to find the exiled task's own), so that a round of N
 * exiles took time quadratic in N: about 9 µs a task at 1,000 tasks, 37 µs
 * at 4,000.
 *
 * Each figure is the best of the repetitions (5 by default), host and
 * simulation alternating.  The exit status is 0 whether or not pmsim beats
 * the host; 1 when a round did not do what it should (a task asked twice,
 * an exile missing, frames left over).
 *
 * Run: ./build-rel/bench/bench-reclaim [--quick | --scale=F]   (a release
 * build gives the figures that count).  The scale multiplies the number of
 * tasks (at least 10); --quick is 0.1 with 3 repetitions.  The default run
 * takes about 3 s (the last part, at 4,000 tasks, half of it). */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"

#include "bench.h"

#define PAGE 4096u
#define TASKS 1000u
#define SLACK_FRAMES 256u
#define VA (1ull << 32) /* where each task maps its container */
#define RW (CONT_MAP_READ | CONT_MAP_WRITE)

static volatile uint64_t sink;

/* K_i: the frames task i holds. */
static uint32_t frames_of(uint32_t i)
{
    return 4 + (7 * i) % 13;
}

/* ---- the simulated machine -------------------------------------------- */

struct tsk {
    l4_task_t task;
    l4_thread_t thread, memctl;
    container_t c;
    uint32_t k;        /* frames it holds at the start */
    uint64_t asked;    /* count of the last upcall, not yet returned */
    unsigned upcalls;  /* upcalls received */
    uint64_t deadline; /* of the last upcall */
};

struct rcw {
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    uint32_t ntasks, frames;
    uint64_t total_extra; /* ΣK */
    struct tsk *t;
};

/* The memory control thread's handler: it records the request, nothing
 * more (the task answers, or not, after pm_pressure returns). */
static pm_error_t on_return_frames(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                                   const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)k;
    (void)self;
    (void)from;
    (void)reply;
    struct tsk *t = ctx;
    if (l4_msg_label(msg) != PM_LABEL_RETURN_FRAMES)
        return PM_EINVAL;
    t->asked += l4_msg_word(msg, 0);
    t->deadline = l4_msg_word(msg, 1);
    t->upcalls++;
    return PM_OK;
}

/* A machine with NTASKS tasks as described at the top; READY: their memory
 * control threads receive. */
static void rcw_init(struct rcw *w, uint32_t ntasks, const char *policy, bool ready)
{
    memset(w, 0, sizeof *w);
    w->ntasks = ntasks;
    for (uint32_t i = 0; i < ntasks; i++)
        w->total_extra += frames_of(i);
    w->frames = (uint32_t)w->total_extra + SLACK_FRAMES;
    struct pm_pool_config pc = {.page_size = PAGE,
                                .frames = w->frames,
                                .retain_frames = PM_POOL_DEFAULT_RETAIN,
                                .backing = PM_POOL_ANON};
    BENCH_CHECK(pm_pool_new(&pc, &w->pool) == PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w->pool), .page_size = PAGE, .frames = w->frames};
    BENCH_CHECK(l4_kernel_new(&kc, &w->k) == PM_OK);
    struct pm_physmem_config cfg = {
        .pool = w->pool, .kernel = w->k, .thread = l4_root_thread(w->k), .victim_policy = policy};
    BENCH_CHECK(pm_physmem_new(&cfg, &w->pm) == PM_OK);
    w->t = calloc(ntasks, sizeof *w->t);
    BENCH_CHECK(w->t != NULL);
    for (uint32_t i = 0; i < ntasks; i++) {
        struct tsk *t = &w->t[i];
        t->k = frames_of(i);
        BENCH_CHECK(l4_task_create(w->k, &t->task) == PM_OK);
        BENCH_CHECK(l4_thread_create(w->k, t->task, &t->thread) == PM_OK);
        BENCH_CHECK(l4_thread_create(w->k, t->task, &t->memctl) == PM_OK);
        BENCH_CHECK(pm_task_add(w->pm, t->task, t->thread) == PM_OK);
        if (ready)
            BENCH_CHECK(l4_thread_set_handler(w->k, t->memctl, on_return_frames, t) == PM_OK);
        BENCH_CHECK(pm_task_set_memctl(w->pm, t->task, t->memctl) == PM_OK);
        BENCH_CHECK(pm_container_create(w->pm, t->task, &t->c) == PM_OK);
        uint32_t cnt = t->k;
        BENCH_CHECK(pm_container_allocate(w->pm, t->task, t->c, 0, &cnt, 0) == PM_OK &&
                    cnt == t->k);
        cnt = t->k;
        BENCH_CHECK(pm_container_map(w->pm, t->task, t->c, 0, &cnt, RW, VA) == PM_OK &&
                    cnt == t->k);
    }
}

static void rcw_fini(struct rcw *w)
{
    pm_physmem_free(w->pm);
    l4_kernel_free(w->k);
    pm_pool_free(w->pool);
    free(w->t);
}

static uint64_t pool_free(const struct rcw *w)
{
    struct pm_pool_stats ps;
    pm_pool_stats(w->pool, &ps);
    return ps.free;
}

static struct pm_stats stats_of(const struct rcw *w)
{
    struct pm_stats s;
    pm_stats(w->pm, &s);
    return s;
}

/* ---- the rounds ---------------------------------------------------------- */

enum round_kind { R_ALL, R_HALF, R_IGNORE, R_NOTREADY, R_KINDS };

static const char *const round_names[R_KINDS] = {
    "all asked, tasks comply",
    "half asked, tasks comply",
    "all asked, all ignore: exiled at the deadline",
    "all asked, none ready: exiled at once",
};

struct round_times {
    uint64_t pressure, comply, tick; /* ns */
    uint64_t upcalls, asked, exiled, complied;
};

/* One round of KIND on a fresh machine with NTASKS tasks and POLICY. */
static void run_round(uint32_t ntasks, const char *policy, enum round_kind kind,
                      struct round_times *rt)
{
    struct rcw w;
    rcw_init(&w, ntasks, policy, kind != R_NOTREADY);
    memset(rt, 0, sizeof *rt);
    uint64_t want = kind == R_HALF ? w.total_extra / 2 : w.total_extra;
    uint64_t target = pool_free(&w) + want;
    struct pm_stats s0 = stats_of(&w);
    pm_time_t due = l4_system_clock(w.k) + PM_DEFAULT_RETURN_DEADLINE;

    struct pm_pressure_result pr;
    uint64_t t0 = bench_now_ns();
    BENCH_CHECK(pm_pressure(w.pm, target, &pr) == PM_OK);
    rt->pressure = bench_now_ns() - t0;
    rt->upcalls = pr.upcalls;
    rt->asked = pr.asked;
    rt->exiled = pr.exiled;
    BENCH_CHECK(pr.asked == want && pr.soft_taken == 0 && pr.inactive_dropped == 0);

    if (kind == R_ALL || kind == R_HALF) {
        t0 = bench_now_ns();
        for (uint32_t i = 0; i < ntasks; i++) {
            struct tsk *t = &w.t[i];
            if (t->asked == 0)
                continue;
            uint32_t cnt = (uint32_t)t->asked;
            BENCH_CHECK(pm_container_deallocate(w.pm, t->task, t->c, t->k - cnt, &cnt,
                                                CONT_DEALLOC_SOFT) == PM_OK);
            t->asked = 0;
            rt->complied++;
        }
        rt->comply = bench_now_ns() - t0;
        t0 = bench_now_ns();
        uint64_t ex = pm_physmem_tick(w.pm);
        rt->tick = bench_now_ns() - t0;
        BENCH_CHECK(ex == 0);
        BENCH_CHECK(rt->complied == rt->upcalls);
    } else if (kind == R_IGNORE) {
        BENCH_CHECK(pr.exiled == 0);
        l4_clock_advance(w.k, PM_DEFAULT_RETURN_DEADLINE + 1);
        t0 = bench_now_ns();
        rt->exiled = pm_physmem_tick(w.pm);
        rt->tick = bench_now_ns() - t0;
        BENCH_CHECK(rt->exiled == ntasks);
    } else {
        BENCH_CHECK(pr.exiled == ntasks);
    }

    /* Not timed: what the round should have left. */
    struct pm_stats s1 = stats_of(&w);
    BENCH_CHECK(s1.reclaim_upcalls - s0.reclaim_upcalls == rt->upcalls);
    uint64_t left = 0;
    for (uint32_t i = 0; i < ntasks; i++) {
        struct tsk *t = &w.t[i];
        struct pm_task_info ti;
        BENCH_CHECK(pm_task_info(w.pm, t->task, &ti) == PM_OK);
        BENCH_CHECK(ti.owed == 0);
        BENCH_CHECK(t->upcalls <= 1 && (t->upcalls == 0 || t->deadline >= due));
        if (kind == R_ALL)
            BENCH_CHECK(t->upcalls == 1 && ti.allocated == 0);
        if (kind == R_IGNORE || kind == R_NOTREADY)
            BENCH_CHECK(ti.allocated == 0 && ti.exiles == 1);
        left += ti.allocated;
    }
    if (kind == R_HALF)
        BENCH_CHECK(left == w.total_extra - want);
    if (kind == R_ALL || kind == R_HALF)
        BENCH_CHECK(s1.soft_made - s0.soft_made == want);
    else
        BENCH_CHECK(s1.frames_exiled - s0.frames_exiled == w.total_extra);
    rcw_fini(&w);
}

/* ---- the host ------------------------------------------------------------ */

static volatile sig_atomic_t sig_n, sig_sum;

static void on_sigusr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    sig_n++;
    sig_sum += si->si_value.sival_int;
}

/* 1,000 signals to this process, each carrying task i's count. */
static uint64_t host_signals(uint32_t ntasks)
{
    sig_n = 0;
    sig_sum = 0;
    pid_t me = getpid();
    int expect = 0;
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < ntasks; i++) {
        union sigval v = {.sival_int = (int)frames_of(i)};
        BENCH_CHECK(sigqueue(me, SIGUSR1, v) == 0);
    }
    uint64_t t = bench_now_ns() - t0;
    for (uint32_t i = 0; i < ntasks; i++)
        expect += (int)frames_of(i);
    BENCH_CHECK(sig_n == (sig_atomic_t)ntasks && sig_sum == expect);
    return t;
}

/* NTASKS regions of K_i pages each. */
struct host_regions {
    unsigned char **r;
    uint32_t n;
};

static void regions_init(struct host_regions *h, uint32_t ntasks)
{
    h->n = ntasks;
    h->r = calloc(ntasks, sizeof *h->r);
    BENCH_CHECK(h->r != NULL);
    for (uint32_t i = 0; i < ntasks; i++) {
        h->r[i] = mmap(NULL, (size_t)frames_of(i) * PAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        BENCH_CHECK(h->r[i] != MAP_FAILED);
        (void)madvise(h->r[i], (size_t)frames_of(i) * PAGE, MADV_NOHUGEPAGE);
    }
}

static void regions_fini(struct host_regions *h)
{
    for (uint32_t i = 0; i < h->n; i++)
        munmap(h->r[i], (size_t)frames_of(i) * PAGE);
    free(h->r);
}

/* Every page of every region touched (not timed), then one madvise(ADVICE)
 * a region over all of its pages (timed). */
static uint64_t host_madvise(struct host_regions *h, int advice)
{
    for (uint32_t i = 0; i < h->n; i++)
        for (uint32_t p = 0; p < frames_of(i); p++)
            h->r[i][(size_t)p * PAGE] = (unsigned char)(i + p + 1);
    uint64_t t0 = bench_now_ns();
    for (uint32_t i = 0; i < h->n; i++)
        BENCH_CHECK(madvise(h->r[i], (size_t)frames_of(i) * PAGE, advice) == 0);
    uint64_t t = bench_now_ns() - t0;
    if (advice == MADV_DONTNEED)
        sink += h->r[0][0]; /* reads as zero now */
    return t;
}

/* ---- figures ---------------------------------------------------------------- */

struct best {
    double v; /* ns, 0 until recorded */
};

static void best_add(struct best *b, uint64_t ns)
{
    if (b->v == 0.0 || (double)ns < b->v)
        b->v = (double)ns;
}

struct policy_figures {
    struct best pressure[R_KINDS], comply[R_KINDS], tick[R_KINDS], round[R_KINDS];
    struct round_times last[R_KINDS]; /* counts of the last repetition */
};

/* `label : 1.234 ms   123.4 ns/UNIT` (PER 0: no per-unit figure) */
static void print_time(const char *label, double ns, uint64_t per, const char *unit)
{
    if (per > 0)
        printf("%-*s: %9.3f ms %8.1f ns/%s\n", BENCH_LABEL_WIDTH, label, ns / 1e6, ns / (double)per,
               unit);
    else
        printf("%-*s: %9.3f ms\n", BENCH_LABEL_WIDTH, label, ns / 1e6);
}

int main(int argc, char **argv)
{
    unsigned reps = 5;
    double scale = bench_parse_args(
        argc, argv,
        "a reclaim round at 1,000 tasks (pm_pressure with its pm_return_frames upcalls,\n"
        "the tasks' CONT_DEALLOC_SOFT answers, pm_physmem_tick; exile at the deadline\n"
        "and at once) for each victim policy, against 1,000 sigqueue() signals and\n"
        "1,000 madvise(MADV_DONTNEED) calls.",
        &reps);
    uint32_t ntasks = (uint32_t)bench_scaled(TASKS, scale, 10);

    const struct pm_victim_policy *const *pols = pm_victim_policies();
    size_t npol = 0;
    while (pols[npol] != NULL)
        npol++;

    printf("bench-reclaim: a reclaim round at %u tasks vs signals + madvise on the host\n", ntasks);
    printf("best of %u repetitions; scale %.2g; frames of %u B; every round on a fresh\n"
           "machine (not timed to build); task i holds K_i = 4 + 7i mod 13 frames, all extra\n",
           reps, scale, PAGE);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigusr1;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    BENCH_CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    struct host_regions hr;
    regions_init(&hr, ntasks);
    struct best h_sig = {0}, h_dontneed = {0}, h_free = {0};

    struct policy_figures *pf = calloc(npol, sizeof *pf);
    BENCH_CHECK(pf != NULL);
    uint64_t build_ns = 0, builds = 0;
    uint64_t total_pages = 0;
    for (uint32_t i = 0; i < ntasks; i++)
        total_pages += frames_of(i);

    for (unsigned r = 0; r < reps; r++) {
        best_add(&h_sig, host_signals(ntasks));
        best_add(&h_dontneed, host_madvise(&hr, MADV_DONTNEED));
        best_add(&h_free, host_madvise(&hr, MADV_FREE));
        for (size_t p = 0; p < npol; p++) {
            for (int k = 0; k < R_KINDS; k++) {
                struct round_times rt;
                uint64_t b0 = bench_now_ns();
                run_round(ntasks, pols[p]->name, (enum round_kind)k, &rt);
                build_ns += bench_now_ns() - b0 - rt.pressure - rt.comply - rt.tick;
                builds++;
                best_add(&pf[p].pressure[k], rt.pressure);
                best_add(&pf[p].comply[k], rt.comply);
                best_add(&pf[p].tick[k], rt.tick);
                best_add(&pf[p].round[k], rt.pressure + rt.comply + rt.tick);
                pf[p].last[k] = rt;
            }
        }
    }
    regions_fini(&hr);

    printf("(a machine of %u tasks and %llu frames took %.1f ms to build, check and free)\n",
           ntasks, (unsigned long long)total_pages, (double)build_ns / (double)builds / 1e6);

    printf("\nhost, %u tasks (%llu pages in %u regions):\n", ntasks,
           (unsigned long long)total_pages, ntasks);
    print_time("  sigqueue(SIGUSR1) to self x tasks", h_sig.v, ntasks, "signal");
    print_time("  madvise(MADV_DONTNEED) x tasks", h_dontneed.v, ntasks, "call");
    print_time("  madvise(MADV_FREE) x tasks", h_free.v, ntasks, "call");
    double host_round = h_sig.v + h_dontneed.v;
    print_time("  round: signals + DONTNEED", host_round, ntasks, "task");

    for (size_t p = 0; p < npol; p++) {
        struct policy_figures *f = &pf[p];
        printf("\nvictim policy \"%s\" (%s):\n", pols[p]->name, pols[p]->summary);
        for (int k = 0; k < R_KINDS; k++) {
            const struct round_times *l = &f->last[k];
            printf("  %d. %s: %llu upcalls asking %llu frames, %llu exiled\n", k + 1,
                   round_names[k], (unsigned long long)l->upcalls, (unsigned long long)l->asked,
                   (unsigned long long)l->exiled);
            print_time("    pm_pressure", f->pressure[k].v, l->upcalls, "upcall");
            if (k == R_ALL || k == R_HALF) {
                print_time("    compliance (deallocate SOFT)", f->comply[k].v, l->complied, "task");
                print_time("    pm_physmem_tick", f->tick[k].v, 0, "");
                print_time("    round", f->round[k].v, l->upcalls, "task asked");
                if (k == R_ALL) {
                    bench_print_ratio("    ratio host/pmsim, round", host_round / f->round[k].v,
                                      0.0);
                    bench_print_ratio("    ratio signals/upcalls", h_sig.v / f->pressure[k].v, 0.0);
                    bench_print_ratio("    ratio DONTNEED/compliance",
                                      h_dontneed.v / f->comply[k].v, 0.0);
                }
            } else if (k == R_IGNORE) {
                print_time("    pm_physmem_tick (exiles)", f->tick[k].v, l->exiled, "exile");
                print_time("    round", f->round[k].v, ntasks, "task");
            } else {
                printf("    %-*s: %9.1f ns/exile (upcall included)\n", BENCH_LABEL_WIDTH - 4,
                       "per task", f->pressure[k].v / (double)ntasks);
            }
        }
        fflush(stdout);
    }
    free(pf);

    /* How the costs per task change with the number of tasks. */
    uint32_t scale_n[3] = {ntasks / 4 > 10 ? ntasks / 4 : 10, ntasks, ntasks * 4};
    double per_comply[3], per_exile[3];
    printf("\ncost per task as the number of tasks grows (most-extra, all asked, best of %u):\n",
           reps < 3 ? reps : 3);
    printf("  %8s %22s %22s\n", "tasks", "comply round ns/task", "exile (tick) ns/task");
    for (int i = 0; i < 3; i++) {
        struct best comply = {0}, exile = {0};
        for (unsigned r = 0; r < (reps < 3 ? reps : 3); r++) {
            struct round_times rt;
            run_round(scale_n[i], "most-extra", R_ALL, &rt);
            best_add(&comply, rt.pressure + rt.comply + rt.tick);
            run_round(scale_n[i], "most-extra", R_IGNORE, &rt);
            best_add(&exile, rt.tick);
        }
        per_comply[i] = comply.v / scale_n[i];
        per_exile[i] = exile.v / scale_n[i];
        printf("  %8u %22.1f %22.1f\n", scale_n[i], per_comply[i], per_exile[i]);
        fflush(stdout);
    }
    double grow_c = per_comply[2] / per_comply[0], grow_e = per_exile[2] / per_exile[0];
    printf("  from %u to %u tasks the cost per task grows %.1fx (comply), %.1fx (exile)%s\n",
           scale_n[0], scale_n[2], grow_c, grow_e,
           grow_e > 4.0 ? ":\n  exile is not O(1) per task: a round of N exiles costs O(N^2)" : "");
    return 0;
}
