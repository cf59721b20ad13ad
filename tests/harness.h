/* harness.h — what every Check suite shares: a small simulated machine (a
 * pool and a kernel over it), host RSS, and running one Suite as a program.
 *
 * Each suite is its own executable (tests/meson.build), built from one .c
 * file that defines `static Suite *make_suite(void)` and uses
 * PMSIM_TEST_MAIN. */
#ifndef PMSIM_TESTS_HARNESS_H
#define PMSIM_TESTS_HARNESS_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsim/anon_pager.h"
#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"
#include "pmsim/swapfile.h"

/* Assertions for hot loops.  Check's ck_assert_* record every passing
 * check through a pipe to the parent (a system call each), which makes a
 * loop of a million checks take seconds; these say nothing unless they fail. */
#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr))                                                                               \
            ck_abort_msg("%s:%d: assertion '%s' failed", __FILE__, __LINE__, #expr);               \
    } while (0)
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long check_a_ = (unsigned long long)(a), check_b_ = (unsigned long long)(b); \
        if (check_a_ != check_b_)                                                                  \
            ck_abort_msg("%s:%d: %s == %llu, %s == %llu", __FILE__, __LINE__, #a, check_a_, #b,    \
                         check_b_);                                                                \
    } while (0)

/* True when the LEN bytes at P all equal BYTE. */
static inline bool bytes_all(const void *p, size_t len, unsigned char byte)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        if (b[i] != byte)
            return false;
    return true;
}

/* A machine: a pool of FRAMES frames of PAGE bytes and a kernel over it. */
struct world {
    pm_pool_t *pool;
    l4_kernel_t *k;
    size_t page;
    unsigned shift;
};

static inline void world_init(struct world *w, uint32_t frames, size_t page)
{
    struct pm_pool_config pc = {.page_size = page, .frames = frames, .retain_frames = 16};
    ck_assert_int_eq(pm_pool_new(&pc, &w->pool), PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w->pool), .page_size = page, .frames = frames};
    ck_assert_int_eq(l4_kernel_new(&kc, &w->k), PM_OK);
    w->page = page;
    w->shift = (unsigned)__builtin_ctzll(page);
}

static inline void world_fini(struct world *w)
{
    l4_kernel_free(w->k);
    pm_pool_free(w->pool);
}

/* A new task with one thread; returns the thread, the task in *TASK. */
static inline l4_thread_t world_task(struct world *w, l4_task_t *task)
{
    l4_task_t t;
    l4_thread_t th;
    ck_assert_int_eq(l4_task_create(w->k, &t), PM_OK);
    ck_assert_int_eq(l4_thread_create(w->k, t, &th), PM_OK);
    if (task != NULL)
        *task = t;
    return th;
}

/* The address, in the root task, of physical frame PFN. */
static inline uint64_t world_phys(const struct world *w, pm_pfn_t pfn)
{
    return (uint64_t)pfn.n << w->shift;
}

/* Send one item of the fpage at SRC (2^LOG2 bytes, RIGHTS) from thread FROM
 * to thread TO at DST; returns the send's result. */
static inline pm_error_t world_item(struct world *w, enum l4_item_kind kind, l4_thread_t from,
                                    l4_thread_t to, uint64_t src, unsigned log2, unsigned rights,
                                    uint64_t dst)
{
    l4_msg_t m;
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, kind, l4_fpage(src, log2, rights), dst));
    return l4_send(w->k, from, to, &m, NULL);
}

/* Map physical frame PFN from physmem (the root) to thread TO at DST. */
static inline pm_error_t world_map_frame(struct world *w, pm_pfn_t pfn, l4_thread_t to,
                                         uint64_t dst, unsigned rights)
{
    return world_item(w, L4_ITEM_MAP, l4_root_thread(w->k), to, world_phys(w, pfn), w->shift,
                      rights, dst);
}

/* The first 16 events of a run (an l4_event_fn: l4_set_event_hook(k,
 * event_log_record, &log)); n counts them all. */
struct event_log {
    struct l4_event ev[16];
    size_t n;
};

static inline void event_log_record(void *ctx, const struct l4_event *ev)
{
    struct event_log *e = ctx;
    if (e->n < 16)
        e->ev[e->n] = *ev;
    e->n++;
}

/* ---- physmem ------------------------------------------------------------ */

/* A machine with physmem on it, and up to 8 tasks known to physmem. */
struct pmworld {
    struct world w;
    pm_physmem_t *pm;
    l4_task_t task[8];
    l4_thread_t thread[8];
    unsigned ntasks;
    sim_swapfile_t *swap; /* pmworld_init_swap */
};

static inline void pmworld_init(struct pmworld *p, uint32_t frames, uint32_t dma, unsigned ntasks)
{
    struct pm_pool_config pc = {
        .page_size = 4096, .frames = frames, .dma_frames = dma, .retain_frames = 16};
    ck_assert_int_eq(pm_pool_new(&pc, &p->w.pool), PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(p->w.pool), .page_size = 4096, .frames = frames};
    ck_assert_int_eq(l4_kernel_new(&kc, &p->w.k), PM_OK);
    p->w.page = 4096;
    p->w.shift = 12;
    p->swap = NULL;
    struct pm_physmem_config cfg = {
        .pool = p->w.pool, .kernel = p->w.k, .thread = l4_root_thread(p->w.k)};
    ck_assert_int_eq(pm_physmem_new(&cfg, &p->pm), PM_OK);
    ck_assert_uint_le(ntasks, 8);
    p->ntasks = ntasks;
    for (unsigned i = 0; i < ntasks; i++) {
        p->thread[i] = world_task(&p->w, &p->task[i]);
        ck_assert_int_eq(pm_task_add(p->pm, p->task[i], p->thread[i]), PM_OK);
    }
}

/* pmworld_init, with a temporary swap file of SLOTS pages given to physmem
 * (p->swap, for injecting failures) and the victim policy VICTIM (NULL:
 * the default). */
static inline void pmworld_init_swap(struct pmworld *p, uint32_t frames, unsigned ntasks,
                                     uint64_t slots, const char *victim)
{
    pmworld_init(p, frames, 0, 0);
    pm_physmem_free(p->pm);
    ck_assert_int_eq(sim_swapfile_open(NULL, slots, 4096, &p->swap, NULL), PM_OK);
    struct pm_physmem_config cfg = {.pool = p->w.pool,
                                    .kernel = p->w.k,
                                    .thread = l4_root_thread(p->w.k),
                                    .swap = sim_swapfile_dev(p->swap),
                                    .victim_policy = victim};
    ck_assert_int_eq(pm_physmem_new(&cfg, &p->pm), PM_OK);
    ck_assert_uint_le(ntasks, 8);
    p->ntasks = ntasks;
    for (unsigned i = 0; i < ntasks; i++) {
        p->thread[i] = world_task(&p->w, &p->task[i]);
        ck_assert_int_eq(pm_task_add(p->pm, p->task[i], p->thread[i]), PM_OK);
    }
}

static inline void pmworld_fini(struct pmworld *p)
{
    pm_physmem_free(p->pm);
    sim_swapfile_close(p->swap);
    p->swap = NULL;
    world_fini(&p->w);
}

static inline void pmworld_report(void *ctx, const char *problem)
{
    (void)ctx;
    fprintf(stderr, "invariant: %s\n", problem);
}

/* What the invariant checker reported: how many problems, the last one's
 * words. */
struct pm_problems {
    size_t n;
    char last[256];
};

static inline void pm_problems_note(void *ctx, const char *problem)
{
    struct pm_problems *pr = ctx;
    pr->n++;
    snprintf(pr->last, sizeof pr->last, "%s", problem);
}

/* Run the invariant checker on P into *PR; returns how many it found. */
static inline size_t pm_problems_check(struct pmworld *p, struct pm_problems *pr)
{
    memset(pr, 0, sizeof *pr);
    return pm_check(p->pm, pm_problems_note, pr);
}

/* Run the invariant checker; fail the test if anything is broken. */
#define PM_CHECK_INVARIANTS(p)                                                                     \
    do {                                                                                           \
        size_t pm_problems_ = pm_check((p)->pm, pmworld_report, NULL);                             \
        if (pm_problems_ != 0)                                                                     \
            ck_abort_msg("%s:%d: %zu invariant(s) broken", __FILE__, __LINE__, pm_problems_);      \
    } while (0)

/* A simulated access by task I; returns its result. */
static inline pm_error_t pm_rw(struct pmworld *p, unsigned i, enum l4_access_kind kind, uint64_t va,
                               void *buf, size_t len)
{
    return l4_access(p->w.k, p->thread[i], kind, va, buf, len, NULL);
}

/* Host resident set size in bytes (from /proc/self/statm). */
static inline size_t host_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

#define PMSIM_TEST_MAIN                                                                            \
    int main(void)                                                                                 \
    {                                                                                              \
        SRunner *sr = srunner_create(make_suite());                                                \
        srunner_run_all(sr, CK_NORMAL);                                                            \
        int failed = srunner_ntests_failed(sr);                                                    \
        srunner_free(sr);                                                                          \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                                          \
    }

#endif
