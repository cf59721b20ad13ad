/* test-inject.c — atomicity by fault injection (issue 9; SPEC §3: a call
 * that fails changes nothing, except what a PARTIAL result reports).
 *
 * For every physmem call that acquires something (a physical frame, host
 * memory, swap I/O, a capability or container slot: pmsim/inject.h), and
 * for the flags that take other paths, the test builds the same world —
 * three tasks, containers of known bytes, copy-on-write frames, a share
 * group, a weak capability, swap entries on the device and in memory, a
 * soft reference — and, for k = 1, 2, …, snapshots it, arms "fail the k-th
 * acquisition", makes the call, and checks:
 * - a call that failed left the world exactly as the snapshot (invariant
 *   checker clean; every task's accounting; every container's info; every
 *   frame's info and bytes; which pool frames are bound and their bytes;
 *   the swap counters), or, for a call that reports partial success, as
 *   the same call asked for only what it reports doing, on a fresh world;
 * - a call that succeeded all the same (a fallback path) left the
 *   invariants clean;
 * - the loop ends at the first k the call does not reach: n = k − 1
 *   acquisitions, printed per call ("inject: NAME n=N").
 * A world is built anew for each k, so that every k starts from the same
 * state (the pool hands out the same frames, the handles are the same).
 * A second world has its pool full ("pressed:" cases): the frames calls
 * need come from a soft reference and from dirty swap entries written on
 * the way, so the reclaim paths are failed too; there a failed call may
 * have taken what physmem may take at any time, and the comparison is of
 * what the containers show.
 *
 * Calls that acquire nothing (n = 0: destroy, revoke, lock, deallocate,
 * reclaim, release_data, swap recover, task_remove …) are in the table
 * all the same, so that one that starts acquiring is caught by it. */
#include "../harness.h"
#include "pmsim/inject.h"

#define FRAMES 128
#define DMA_FRAMES 16
#define SWAP_SLOTS 64
#define PAGE 4096u
#define IDS 64             /* identifiers 0 … IDS − 1 are looked at, and */
#define FAR_ID 5000u       /* FAR_ID …, in a sparse leaf of its own */
#define VA_A 0x10000000ull /* where task A maps ca */
#define VA_S 0x20000000ull /* where task A maps cs */
#define VA_X 0x30000000ull /* where the calls map */
#define NHANDLES 8

enum { A, B, C }; /* the tasks */

struct iw {
    struct pmworld p;
    container_t ca, cb, cc, cs; /* owned by A, B, C, A */
    container_t wc;             /* C's weak capability to ca */
    pm_swap_id_t dev[2];        /* A's swap ids whose data is on the device only */
    pm_swap_id_t mem[2];        /* A's swap ids whose data is in memory, dirty */
    /* every capability of the world, for the snapshot: (task, handle) */
    unsigned holder[NHANDLES];
    container_t handle[NHANDLES];
    unsigned nhandles;
};

static void fill_page(struct iw *w, unsigned task, uint64_t va, unsigned char byte)
{
    static unsigned char buf[PAGE];
    memset(buf, byte, sizeof buf);
    ck_assert_int_eq(pm_rw(&w->p, task, L4_ACCESS_WRITE, va, buf, sizeof buf), PM_OK);
}

static void remember(struct iw *w, unsigned task, container_t h)
{
    ck_assert_uint_lt(w->nhandles, NHANDLES);
    w->holder[w->nhandles] = task;
    w->handle[w->nhandles++] = h;
}

/* A machine of FRAMES_ frames (DMA_ of them DMA), a swap file, physmem,
 * three tasks. */
static void machine(struct iw *w, uint32_t frames, uint32_t dma)
{
    memset(w, 0, sizeof *w);
    struct pmworld *p = &w->p;
    struct pm_pool_config pc = {
        .page_size = PAGE, .frames = frames, .dma_frames = dma, .retain_frames = 16};
    ck_assert_int_eq(pm_pool_new(&pc, &p->w.pool), PM_OK);
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(p->w.pool), .page_size = PAGE, .frames = frames};
    ck_assert_int_eq(l4_kernel_new(&kc, &p->w.k), PM_OK);
    p->w.page = PAGE;
    p->w.shift = 12;
    ck_assert_int_eq(sim_swapfile_open(NULL, SWAP_SLOTS, PAGE, &p->swap, NULL), PM_OK);
    struct pm_physmem_config cfg = {.pool = p->w.pool,
                                    .kernel = p->w.k,
                                    .thread = l4_root_thread(p->w.k),
                                    .swap = sim_swapfile_dev(p->swap)};
    ck_assert_int_eq(pm_physmem_new(&cfg, &p->pm), PM_OK);
    p->ntasks = 3;
    for (unsigned i = 0; i < p->ntasks; i++) {
        p->thread[i] = world_task(&p->w, &p->task[i]);
        ck_assert_int_eq(pm_task_add(p->pm, p->task[i], p->thread[i]), PM_OK);
    }
}

/* The world most cases start from.  Deterministic: built twice, it is the
 * same to the byte and the handle. */
static void build(struct iw *w)
{
    machine(w, FRAMES, DMA_FRAMES);
    struct pmworld *p = &w->p;
    /* Guarantees in force, nobody over them (no upcalls, no exiles). */
    ck_assert_int_eq(pm_task_set_guarantee(p->pm, p->task[A], 56, true), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p->pm, p->task[B], 24, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p->pm, p->task[C], 16, true), PM_OK);
    pm_physmem_t *pm = p->pm;
    l4_task_t ta = p->task[A], tb = p->task[B], tc = p->task[C];
    uint32_t n;

    /* A: ca, frames 0 … 11; 0 … 7 mapped and written (0x10 + i), 8 … 11
     * never bound; 7 then soft-deallocated (a soft reference with data). */
    ck_assert_int_eq(pm_container_create(pm, ta, &w->ca), PM_OK);
    n = 12;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->ca, 0, &n, 0), PM_OK);
    n = 8;
    ck_assert_int_eq(pm_container_map(pm, ta, w->ca, 0, &n, CONT_MAP_WRITE, VA_A), PM_OK);
    ck_assert_uint_eq(n, 8);
    for (unsigned i = 0; i < 8; i++)
        fill_page(w, A, VA_A + (uint64_t)i * PAGE, (unsigned char)(0x10 + i));

    /* B: cb, frames 0 … 7; 0 … 3 logical copies of ca 0 … 3 (copy-on-write). */
    ck_assert_int_eq(pm_container_create(pm, tb, &w->cb), PM_OK);
    n = 8;
    ck_assert_int_eq(pm_container_allocate(pm, tb, w->cb, 0, &n, 0), PM_OK);
    ck_assert_int_eq(pm_container_copy(pm, tb, w->cb, 0, w->cb, 4, 1, 0, NULL), PM_OK);
    ck_assert_int_eq(pm_container_copy(pm, ta, w->ca, 0, w->ca, 0, 1, 0, NULL), PM_OK);

    /* A shares ca with C (weak); C's cc 0 … 1 really share ca 4 … 5. */
    ck_assert_int_eq(pm_container_share(pm, ta, w->ca, tc, &w->wc), PM_OK);
    ck_assert_int_eq(pm_container_create(pm, tc, &w->cc), PM_OK);
    n = 4;
    ck_assert_int_eq(pm_container_allocate(pm, tc, w->cc, 0, &n, 0), PM_OK);
    ck_assert_int_eq(pm_container_copy(pm, tc, w->wc, 4, w->cc, 0, 2, CONT_COPY_SHARED, NULL),
                     PM_OK);
    /* B's logical copies of ca 0 … 3, through a share B got too. */
    container_t wb;
    ck_assert_int_eq(pm_container_share(pm, ta, w->ca, tb, &wb), PM_OK);
    ck_assert_int_eq(pm_container_copy(pm, tb, wb, 0, w->cb, 0, 4, 0, NULL), PM_OK);

    /* A: cs, frames 0 … 5 written (0x60 + i) and 10 … 11 unbound (targets
     * for swap-in); 0 … 1 swapped, written and dropped (on the device
     * only), 2 … 3 swapped (in memory, dirty). */
    ck_assert_int_eq(pm_container_create(pm, ta, &w->cs), PM_OK);
    n = 6;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->cs, 0, &n, 0), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->cs, 10, &n, 0), PM_OK);
    n = 6;
    ck_assert_int_eq(pm_container_map(pm, ta, w->cs, 0, &n, CONT_MAP_WRITE, VA_S), PM_OK);
    for (unsigned i = 0; i < 6; i++)
        fill_page(w, A, VA_S + (uint64_t)i * PAGE, (unsigned char)(0x60 + i));
    ck_assert_int_eq(pm_swap(pm, ta, w->cs, 0, 2, w->dev), PM_OK);
    uint64_t written;
    ck_assert_int_eq(pm_swap_flush(pm, UINT64_MAX, &written), PM_OK);
    ck_assert_uint_eq(written, 2);
    struct pm_pressure_result pr;
    ck_assert_int_eq(pm_pressure(pm, FRAMES, &pr), PM_OK);
    ck_assert_uint_eq(pr.inactive_dropped, 2);
    ck_assert_uint_eq(pr.upcalls, 0);
    ck_assert_int_eq(pm_swap(pm, ta, w->cs, 2, 2, w->mem), PM_OK);

    /* The soft reference: ca 7. */
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(pm, ta, w->ca, 7, &n, CONT_DEALLOC_SOFT), PM_OK);

    remember(w, A, w->ca);
    remember(w, B, w->cb);
    remember(w, C, w->cc);
    remember(w, A, w->cs);
    remember(w, C, w->wc);
    remember(w, B, wb);
    PM_CHECK_INVARIANTS(p);
}

/* The world under pressure: a pool of PRESSED_FRAMES frames, every one
 * taken — by A's frames, a soft reference (ca 52) and three dirty swap
 * entries in memory (cs 0 … 2) — while A has two frames not bound yet (ca
 * 56 … 57) and B two copy-on-write copies (cb 0 … 1 of ca 0 … 1).  A frame
 * physmem needs comes from the soft reference first, then from the dirty
 * entries, written to the device first: what may change when a call
 * fails is what physmem may take at any time (soft references go stale,
 * inactive frames go once written), so these cases compare what the
 * containers show (LOGICAL).  A fourth entry (cs 4) is on the device
 * only. */
#define PRESSED_FRAMES 64
static void build_pressed(struct iw *w)
{
    machine(w, PRESSED_FRAMES, 0);
    struct pmworld *p = &w->p;
    pm_physmem_t *pm = p->pm;
    l4_task_t ta = p->task[A], tb = p->task[B];
    ck_assert_int_eq(pm_task_set_guarantee(pm, ta, 62, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(pm, tb, 2, false), PM_OK);
    uint32_t n;
    /* cs: 0 … 11 written; 4 swapped to the device only; 0 … 2 swapped
     * (dirty). */
    ck_assert_int_eq(pm_container_create(pm, ta, &w->cs), PM_OK);
    n = 12;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->cs, 0, &n, 0), PM_OK);
    ck_assert_int_eq(pm_container_map(pm, ta, w->cs, 0, &n, CONT_MAP_WRITE, VA_S), PM_OK);
    for (unsigned i = 0; i < 12; i++)
        fill_page(w, A, VA_S + (uint64_t)i * PAGE, (unsigned char)(0x60 + i));
    ck_assert_int_eq(pm_swap(pm, ta, w->cs, 4, 1, w->dev), PM_OK);
    uint64_t written;
    ck_assert_int_eq(pm_swap_flush(pm, UINT64_MAX, &written), PM_OK);
    ck_assert_int_eq(pm_pressure(pm, PRESSED_FRAMES, NULL), PM_OK);
    pm_swap_id_t ids[3];
    ck_assert_int_eq(pm_swap(pm, ta, w->cs, 0, 3, ids), PM_OK);
    /* ca: 0 … 52 written, 52 then soft; 56 … 57 unbound. */
    ck_assert_int_eq(pm_container_create(pm, ta, &w->ca), PM_OK);
    n = 53;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->ca, 0, &n, 0), PM_OK);
    ck_assert_int_eq(pm_container_map(pm, ta, w->ca, 0, &n, CONT_MAP_WRITE, VA_A), PM_OK);
    ck_assert_uint_eq(n, 53);
    for (unsigned i = 0; i < 53; i++)
        fill_page(w, A, VA_A + (uint64_t)i * PAGE, (unsigned char)(0x10 + i));
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(pm, ta, w->ca, 52, &n, CONT_DEALLOC_SOFT), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_allocate(pm, ta, w->ca, 56, &n, 0), PM_OK);
    /* cb: copies of ca 0 … 1. */
    ck_assert_int_eq(pm_container_create(pm, tb, &w->cb), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_allocate(pm, tb, w->cb, 0, &n, 0), PM_OK);
    container_t wb;
    ck_assert_int_eq(pm_container_share(pm, ta, w->ca, tb, &wb), PM_OK);
    ck_assert_int_eq(pm_container_copy(pm, tb, wb, 0, w->cb, 0, 2, 0, NULL), PM_OK);
    struct pm_pool_stats ps;
    pm_pool_stats(p->w.pool, &ps);
    ck_assert_uint_eq(ps.free, 0);
    remember(w, A, w->ca);
    remember(w, B, w->cb);
    remember(w, A, w->cs);
    remember(w, B, wb);
    PM_CHECK_INVARIANTS(p);
}

static void teardown(struct iw *w)
{
    pm_inject_arm(0, 0);
    pmworld_fini(&w->p);
}

/* ---- the snapshot ------------------------------------------------------- */

struct frame_snap {
    pm_error_t err;
    struct pm_frame_info fi;
    uint64_t sum; /* FNV-1a of its bytes, when bound */
};

struct snap {
    size_t problems;
    pm_error_t task_err[8];
    struct pm_task_info task[8];
    pm_error_t cont_err[NHANDLES];
    struct pm_container_info cont[NHANDLES];
    struct frame_snap frame[NHANDLES][IDS + 4];
    /* the pool: which frames are bound, and their bytes */
    bool bound[FRAMES];
    unsigned char *bytes; /* FRAMES pages */
    uint64_t pool_free;
    uint64_t swap_inactive, swap_dirty, swap_slots;
};

static uint64_t fnv(const unsigned char *b, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The world as the calls' caller can see it: FULL adds the pool's bound
 * frames and the swap counters (what pm_pressure may legitimately change:
 * it takes soft and inactive frames back). */
static void snap_take(struct iw *w, struct snap *s, bool full)
{
    unsigned char *bytes = s->bytes;
    memset(s, 0, sizeof *s);
    s->bytes = bytes;
    pm_physmem_t *pm = w->p.pm;
    s->problems = pm_check(pm, pmworld_report, NULL);
    for (unsigned t = 0; t < w->p.ntasks; t++)
        s->task_err[t] = pm_task_info(pm, w->p.task[t], &s->task[t]);
    for (unsigned h = 0; h < w->nhandles; h++) {
        l4_task_t t = w->p.task[w->holder[h]];
        s->cont_err[h] = pm_container_info(pm, t, w->handle[h], &s->cont[h]);
        for (unsigned i = 0; i < IDS + 4; i++) {
            frame_t f = i < IDS ? i : FAR_ID + (i - IDS);
            struct frame_snap *fs = &s->frame[h][i];
            fs->err = pm_frame_info(pm, t, w->handle[h], f, &fs->fi);
            if (fs->err == PM_OK && fs->fi.bound)
                fs->sum = fnv(pm_pool_frame(w->p.w.pool, fs->fi.pfn), PAGE);
        }
    }
    if (!full)
        return;
    for (uint32_t f = 0; f < FRAMES; f++) {
        s->bound[f] = pm_pool_is_bound(w->p.w.pool, PM_PFN(f));
        if (s->bound[f])
            memcpy(s->bytes + (size_t)f * PAGE, pm_pool_frame(w->p.w.pool, PM_PFN(f)), PAGE);
    }
    struct pm_pool_stats ps;
    pm_pool_stats(w->p.w.pool, &ps);
    s->pool_free = ps.free;
    struct pm_stats st;
    pm_stats(pm, &st);
    s->swap_inactive = st.swap_inactive;
    s->swap_dirty = st.swap_dirty;
    s->swap_slots = st.swap_slots_used;
}

/* The first difference between two snapshots, or NULL. */
static const char *snap_diff(const struct snap *a, const struct snap *b, bool full, char *buf,
                             size_t len)
{
    if (b->problems != 0)
        return "invariants broken";
    for (unsigned t = 0; t < 8; t++)
        if (a->task_err[t] != b->task_err[t] ||
            memcmp(&a->task[t], &b->task[t], sizeof a->task[t]) != 0) {
            snprintf(buf, len, "task %u's accounting (A %llu -> %llu, containers %llu -> %llu)", t,
                     (unsigned long long)a->task[t].allocated,
                     (unsigned long long)b->task[t].allocated,
                     (unsigned long long)a->task[t].containers,
                     (unsigned long long)b->task[t].containers);
            return buf;
        }
    for (unsigned h = 0; h < NHANDLES; h++) {
        if (a->cont_err[h] != b->cont_err[h] ||
            memcmp(&a->cont[h], &b->cont[h], sizeof a->cont[h]) != 0) {
            snprintf(buf, len, "container info of handle %u", h);
            return buf;
        }
        for (unsigned i = 0; i < IDS + 4; i++) {
            const struct frame_snap *x = &a->frame[h][i], *y = &b->frame[h][i];
            if (x->err != y->err || x->fi.bound != y->fi.bound || x->fi.pfn.n != y->fi.pfn.n ||
                x->fi.cow != y->fi.cow || x->fi.group_size != y->fi.group_size ||
                x->sum != y->sum) {
                snprintf(buf, len,
                         "frame %u of handle %u (err %s/%s bound %d/%d pfn %u/%u cow %d/%d "
                         "group %u/%u)",
                         i, h, pm_strerror(x->err), pm_strerror(y->err), x->fi.bound, y->fi.bound,
                         x->fi.pfn.n, y->fi.pfn.n, x->fi.cow, y->fi.cow, x->fi.group_size,
                         y->fi.group_size);
                return buf;
            }
        }
    }
    if (!full)
        return NULL;
    for (uint32_t f = 0; f < FRAMES; f++) {
        if (a->bound[f] != b->bound[f]) {
            snprintf(buf, len, "pool frame %u bound %d -> %d", f, a->bound[f], b->bound[f]);
            return buf;
        }
        if (a->bound[f] &&
            memcmp(a->bytes + (size_t)f * PAGE, b->bytes + (size_t)f * PAGE, PAGE) != 0) {
            snprintf(buf, len, "pool frame %u's bytes", f);
            return buf;
        }
    }
    if (a->pool_free != b->pool_free || a->swap_inactive != b->swap_inactive ||
        a->swap_dirty != b->swap_dirty || a->swap_slots != b->swap_slots) {
        snprintf(buf, len,
                 "pool free %llu/%llu, swap inactive %llu/%llu dirty %llu/%llu slots "
                 "%llu/%llu",
                 (unsigned long long)a->pool_free, (unsigned long long)b->pool_free,
                 (unsigned long long)a->swap_inactive, (unsigned long long)b->swap_inactive,
                 (unsigned long long)a->swap_dirty, (unsigned long long)b->swap_dirty,
                 (unsigned long long)a->swap_slots, (unsigned long long)b->swap_slots);
        return buf;
    }
    return NULL;
}

/* ---- the calls ---------------------------------------------------------- */

/* How a failed call must leave the world. */
enum expect {
    EXACT,   /* as before */
    PARTIAL, /* as the same call limited to what it reports doing (*done) */
    LOGICAL, /* as before, as the containers see it (pm_pressure) */
};

/* A call on world W.  LIMIT caps what it asks for (UINT64_MAX: as the case
 * says); *DONE gets how much a partial result reports done. */
typedef pm_error_t (*call_fn)(struct iw *w, uint64_t limit, uint64_t *done);

struct call {
    const char *name;
    call_fn fn;
    enum expect expect;
    pm_error_t own;              /* its answer without injection */
    void (*build)(struct iw *w); /* the world (NULL: build) */
};

#define PM (w->p.pm)
#define T(i) (w->p.task[i])

static uint32_t capped(uint32_t want, uint64_t limit)
{
    return limit < want ? (uint32_t)limit : want;
}

static pm_error_t c_create(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t c;
    return pm_container_create(PM, T(B), &c);
}

static pm_error_t c_destroy(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_container_destroy(PM, T(B), w->cb);
}

static pm_error_t c_share(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t r;
    return pm_container_share(PM, T(A), w->ca, T(B), &r);
}

static pm_error_t c_give(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t r;
    return pm_container_give(PM, T(A), w->cs, T(C), &r);
}

static pm_error_t c_revoke(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_container_revoke(PM, T(A), w->ca, w->wc);
}

static pm_error_t c_lock(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_container_lock(PM, T(C), w->wc, 1000000);
}

static pm_error_t alloc(struct iw *w, frame_t start, uint32_t want, unsigned flags, uint64_t limit,
                        uint64_t *done)
{
    uint32_t n = capped(want, limit);
    pm_error_t err = pm_container_allocate(PM, T(A), w->ca, start, &n, flags);
    *done = n;
    return err;
}

static pm_error_t c_alloc(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 20, 4, 0, limit, done);
}

static pm_error_t c_alloc_far(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, FAR_ID, 4, 0, limit, done);
}

static pm_error_t c_alloc_grow(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 12, 41, 0, limit, done); /* more groups than the table has room for */
}

static pm_error_t c_alloc_partial_short(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* 60 frames, 41 within G: 41 allocated and ENOMEM (its own answer). */
    return alloc(w, 12, 60, CONT_ALLOC_PARTIAL, limit, done);
}

static pm_error_t c_alloc_partial_extra(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 12, 60, CONT_ALLOC_PARTIAL | CONT_ALLOC_EXTRA, limit, done);
}

static pm_error_t c_alloc_squash(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 4, 4, CONT_ALLOC_SQUASH, limit, done); /* 4 … 5 in a share group, 7 soft */
}

static pm_error_t c_alloc_dma(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 20, 4, CONT_ALLOC_DMA, limit, done);
}

static pm_error_t c_alloc_dma_partial(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 20, 4, CONT_ALLOC_DMA | CONT_ALLOC_PARTIAL, limit, done);
}

static pm_error_t c_alloc_dma_squash(struct iw *w, uint64_t limit, uint64_t *done)
{
    return alloc(w, 0, 4, CONT_ALLOC_DMA | CONT_ALLOC_SQUASH, limit, done);
}

static pm_error_t c_dealloc(struct iw *w, uint64_t limit, uint64_t *done)
{
    uint32_t n = 4;
    return pm_container_deallocate(PM, T(A), w->ca, 0, &n, 0);
}

static pm_error_t c_dealloc_soft(struct iw *w, uint64_t limit, uint64_t *done)
{
    uint32_t n = 4;
    return pm_container_deallocate(PM, T(A), w->ca, 0, &n, CONT_DEALLOC_SOFT);
}

static pm_error_t c_reclaim(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_container_reclaim(PM, T(A), w->ca, 7, 1);
}

static pm_error_t map(struct iw *w, unsigned task, container_t c, frame_t start, uint32_t n,
                      unsigned flags)
{
    return pm_container_map(PM, T(task), c, start, &n, flags, VA_X);
}

static pm_error_t c_map_one_unbound(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, A, w->ca, 8, 1, CONT_MAP_WRITE);
}

static pm_error_t c_map_range_unbound(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, A, w->ca, 8, 4, CONT_MAP_WRITE); /* 8 … 11: bound as one run */
}

static pm_error_t c_map_range_mixed(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, B, w->cb, 0, 8, CONT_MAP_READ); /* copy-on-write 0 … 3, unbound 4 … 7 */
}

static pm_error_t c_map_force_one(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, B, w->cb, 1, 1, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE);
}

static pm_error_t c_map_force_range(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* 0 … 3 are copy-on-write: four breaks; 4 … 7 unbound: binds. */
    return map(w, B, w->cb, 0, 8, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE);
}

static pm_error_t c_map_force_shared(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* C's share group members (ca 4 … 5) are not copy-on-write; ca 0 is
     * (B's copy): one break, through the weak capability. */
    return map(w, C, w->wc, 0, 6, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE);
}

static pm_error_t copy(struct iw *w, frame_t s, frame_t d, uint32_t n, unsigned flags)
{
    return pm_container_copy(PM, T(A), w->ca, s, w->cs, d, n, flags, NULL);
}

static pm_error_t c_copy_logical(struct iw *w, uint64_t limit, uint64_t *done)
{
    return copy(w, 8, 10, 2, 0); /* sources 8 … 9 are unbound: the copy binds them */
}

static pm_error_t c_copy_logical_bound(struct iw *w, uint64_t limit, uint64_t *done)
{
    return copy(w, 0, 4, 2, 0);
}

static pm_error_t c_copy_all_or_none(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* cs 10 … 11 exist, 12 does not: ENOMEM at the third pair, nothing kept. */
    return copy(w, 8, 10, 3, CONT_COPY_ALL_OR_NONE);
}

static pm_error_t c_copy_keep_before(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* Without ALL_OR_NONE the first two pairs are kept, then ENOMEM (its
     * own answer); an injected failure comes before any pair is copied. */
    return copy(w, 8, 10, 3, 0);
}

static pm_error_t c_copy_shared(struct iw *w, uint64_t limit, uint64_t *done)
{
    return copy(w, 8, 10, 2, CONT_COPY_SHARED);
}

static pm_error_t c_copy_move(struct iw *w, uint64_t limit, uint64_t *done)
{
    return copy(w, 0, 4, 2, CONT_COPY_MOVE);
}

static pm_error_t c_copy_scatter(struct iw *w, uint64_t limit, uint64_t *done)
{
    static const frame_t d[] = {11, 4, 10};
    return pm_container_copy_scatter(PM, T(A), w->ca, 8, w->cs, d, 3, 0, NULL);
}

static pm_error_t c_copy_gather(struct iw *w, uint64_t limit, uint64_t *done)
{
    static const frame_t s[] = {9, 0, 11};
    return pm_container_copy_gather(PM, T(A), w->ca, s, w->cs, 4, 2, 0, NULL);
}

static pm_error_t c_copy_scatter_gather(struct iw *w, uint64_t limit, uint64_t *done)
{
    static const frame_t s[] = {10, 8, 9}, d[] = {5, 11, 10};
    return pm_container_copy_scatter_gather(PM, T(A), w->ca, s, w->cs, d, 3, 0, NULL);
}

static pm_error_t c_create_with(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t c, r;
    return pm_container_create_with(PM, T(B), 12, T(C), &c, &r);
}

static pm_error_t c_create_from(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t c, r;
    return pm_container_create_from(PM, T(C), w->wc, 0, 7, T(B), &c, &r);
}

static pm_error_t c_create_from_unbound(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t c, r;
    return pm_container_create_from(PM, T(A), w->ca, 8, 4, T(B), &c, &r);
}

static pm_error_t c_create_gather(struct iw *w, uint64_t limit, uint64_t *done)
{
    static const frame_t f[] = {11, 0, 9, 4};
    container_t c, r;
    return pm_container_create_gather(PM, T(A), w->ca, f, 4, T(C), &c, &r);
}

static pm_error_t c_release(struct iw *w, uint64_t limit, uint64_t *done)
{
    static const frame_t f[] = {0, 4, 8, 2};
    return pm_release_data(PM, T(A), w->ca, f, 4);
}

static pm_error_t c_swap_out(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* 0 … 3 copy-on-write with B, 4 … 5 a share group with C, 6 alone. */
    pm_swap_id_t ids[7];
    return pm_swap(PM, T(A), w->ca, 0, 7, ids);
}

static pm_error_t c_swap_out_unbound(struct iw *w, uint64_t limit, uint64_t *done)
{
    pm_swap_id_t ids[2];
    return pm_swap(PM, T(A), w->ca, 8, 2, ids); /* all zeros: entries, no slots */
}

static pm_error_t c_swap_out_shared(struct iw *w, uint64_t limit, uint64_t *done)
{
    pm_swap_id_t ids[4];
    return pm_swap(PM, T(B), w->cb, 0, 4, ids); /* all copies of ca's frames */
}

static pm_error_t c_swap_in_device(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_swap_in(PM, T(A), w->dev[0], w->cs, 10);
}

static pm_error_t c_swap_in_memory(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_swap_in(PM, T(A), w->mem[1], w->cs, 11);
}

static pm_error_t c_swap_recover(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_swap_recover(PM, T(A), w->mem[0], w->cs, 4);
}

static pm_error_t c_swap_flush(struct iw *w, uint64_t limit, uint64_t *done)
{
    uint64_t written = 0;
    pm_error_t err = pm_swap_flush(PM, limit, &written);
    *done = written;
    return err;
}

static pm_error_t c_pressure(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_pressure(PM, FRAMES, NULL);
}

static pm_error_t c_get_control(struct iw *w, uint64_t limit, uint64_t *done)
{
    container_t ctl;
    return pm_get_control(PM, T(C), &ctl);
}

static pm_error_t c_task_add(struct iw *w, uint64_t limit, uint64_t *done)
{
    l4_task_t t;
    l4_thread_t th = world_task(&w->p.w, &t);
    return pm_task_add(PM, t, th);
}

static pm_error_t c_task_remove(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_task_remove(PM, T(C));
}

static pm_error_t p_map_unbound(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, A, w->ca, 56, 2, CONT_MAP_WRITE); /* the soft frame, then a dirty one */
}

static pm_error_t p_map_force(struct iw *w, uint64_t limit, uint64_t *done)
{
    return map(w, B, w->cb, 0, 2, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE);
}

static pm_error_t p_swap_in(struct iw *w, uint64_t limit, uint64_t *done)
{
    return pm_swap_in(PM, T(A), w->dev[0], w->ca, 56);
}

static pm_error_t p_swap_in_place(struct iw *w, uint64_t limit, uint64_t *done)
{
    /* No frame to be had at all: the data is read into ca 3's own frame
     * through a bounce page. */
    pm_inject_always(1u << PM_INJECT_FRAME);
    return pm_swap_in(PM, T(A), w->dev[0], w->ca, 3);
}

static const struct call calls[] = {
    {"create", c_create, EXACT, PM_OK, NULL},
    {"destroy", c_destroy, EXACT, PM_OK, NULL},
    {"share", c_share, EXACT, PM_OK, NULL},
    {"give", c_give, EXACT, PM_OK, NULL},
    {"revoke", c_revoke, EXACT, PM_OK, NULL},
    {"lock", c_lock, EXACT, PM_OK, NULL},
    {"allocate", c_alloc, EXACT, PM_OK, NULL},
    {"allocate (new sparse leaf)", c_alloc_far, EXACT, PM_OK, NULL},
    {"allocate 41 (the group table grows)", c_alloc_grow, EXACT, PM_OK, NULL},
    {"allocate PARTIAL, short of G", c_alloc_partial_short, PARTIAL, PM_ENOMEM, NULL},
    {"allocate PARTIAL|EXTRA past G", c_alloc_partial_extra, PARTIAL, PM_OK, NULL},
    {"allocate SQUASH", c_alloc_squash, EXACT, PM_OK, NULL},
    {"allocate DMA", c_alloc_dma, EXACT, PM_OK, NULL},
    {"allocate DMA|PARTIAL", c_alloc_dma_partial, PARTIAL, PM_OK, NULL},
    {"allocate DMA|SQUASH", c_alloc_dma_squash, EXACT, PM_OK, NULL},
    {"deallocate", c_dealloc, EXACT, PM_OK, NULL},
    {"deallocate SOFT", c_dealloc_soft, EXACT, PM_OK, NULL},
    {"reclaim", c_reclaim, EXACT, PM_OK, NULL},
    {"map 1 unbound", c_map_one_unbound, EXACT, PM_OK, NULL},
    {"map 4 unbound", c_map_range_unbound, EXACT, PM_OK, NULL},
    {"map 8 READ (cow + unbound)", c_map_range_mixed, EXACT, PM_OK, NULL},
    {"map 1 FORCE_WRITE (cow)", c_map_force_one, EXACT, PM_OK, NULL},
    {"map 8 FORCE_WRITE (cow + unbound)", c_map_force_range, EXACT, PM_OK, NULL},
    {"map 6 FORCE_WRITE (weak, share group)", c_map_force_shared, EXACT, PM_OK, NULL},
    {"copy logical (unbound sources)", c_copy_logical, EXACT, PM_OK, NULL},
    {"copy logical (bound sources)", c_copy_logical_bound, EXACT, PM_OK, NULL},
    {"copy ALL_OR_NONE", c_copy_all_or_none, EXACT, PM_ENOMEM, NULL},
    {"copy keeping the pairs before", c_copy_keep_before, EXACT, PM_ENOMEM, NULL},
    {"copy SHARED", c_copy_shared, EXACT, PM_OK, NULL},
    {"copy MOVE", c_copy_move, EXACT, PM_OK, NULL},
    {"copy_scatter", c_copy_scatter, EXACT, PM_OK, NULL},
    {"copy_gather", c_copy_gather, EXACT, PM_OK, NULL},
    {"copy_scatter_gather", c_copy_scatter_gather, EXACT, PM_OK, NULL},
    {"create_with", c_create_with, EXACT, PM_OK, NULL},
    {"create_from (weak source)", c_create_from, EXACT, PM_OK, NULL},
    {"create_from (unbound source)", c_create_from_unbound, EXACT, PM_OK, NULL},
    {"create_gather", c_create_gather, EXACT, PM_OK, NULL},
    {"release_data", c_release, EXACT, PM_OK, NULL},
    {"swap out", c_swap_out, EXACT, PM_OK, NULL},
    {"swap out (unbound)", c_swap_out_unbound, EXACT, PM_OK, NULL},
    {"swap out (logical copies)", c_swap_out_shared, EXACT, PM_OK, NULL},
    {"swap in (from the device)", c_swap_in_device, EXACT, PM_OK, NULL},
    {"swap in (from memory)", c_swap_in_memory, EXACT, PM_OK, NULL},
    {"swap recover", c_swap_recover, EXACT, PM_OK, NULL},
    {"swap flush", c_swap_flush, PARTIAL, PM_OK, NULL},
    {"pressure", c_pressure, LOGICAL, PM_OK, NULL},
    {"get_control", c_get_control, EXACT, PM_OK, NULL},
    {"task_add", c_task_add, EXACT, PM_OK, NULL},
    {"task_remove", c_task_remove, EXACT, PM_OK, NULL},
    {"pressed: map 2 unbound", p_map_unbound, LOGICAL, PM_OK, build_pressed},
    {"pressed: map 2 FORCE_WRITE (cow)", p_map_force, LOGICAL, PM_OK, build_pressed},
    {"pressed: swap in (from the device)", p_swap_in, LOGICAL, PM_OK, build_pressed},
    {"pressed: swap in, no frame (in place)", p_swap_in_place, EXACT, PM_OK, build_pressed},
};

#define NCALLS (sizeof calls / sizeof calls[0])

/* The loop for one call: k = 1, 2, … until the call no longer reaches the
 * k-th acquisition.  Returns n, the acquisitions it makes. */
static uint64_t loop(const struct call *cl, unsigned kinds, struct pm_inject_stats *by)
{
    static struct snap before, after, ref;
    static unsigned char *mem;
    if (mem == NULL)
        mem = malloc((size_t)3 * FRAMES * PAGE);
    before.bytes = mem;
    after.bytes = mem + (size_t)FRAMES * PAGE;
    ref.bytes = mem + (size_t)2 * FRAMES * PAGE;
    char why[256];
    bool full = cl->expect != LOGICAL;
    void (*world)(struct iw *) = cl->build != NULL ? cl->build : build;
    for (uint64_t k = 1;; k++) {
        struct iw w;
        world(&w);
        snap_take(&w, &before, full);
        uint64_t done = UINT64_MAX;
        pm_inject_arm(k, kinds);
        pm_error_t err = cl->fn(&w, UINT64_MAX, &done);
        struct pm_inject_stats st;
        pm_inject_stats(&st);
        pm_inject_arm(0, 0);
        if (!st.fired) {
            /* Not reached: the call ran whole, and gave its own answer. */
            ck_assert_msg(err == cl->own, "%s: %s without injection", cl->name, pm_strerror(err));
            PM_CHECK_INVARIANTS(&w.p);
            teardown(&w);
            *by = st;
            return k - 1;
        }
        if (err == PM_OK && cl->own == PM_OK) {
            /* A fallback made it work all the same. */
            size_t problems = pm_check(w.p.pm, pmworld_report, NULL);
            ck_assert_msg(problems == 0, "%s, k = %llu (%s): succeeded, invariants broken",
                          cl->name, (unsigned long long)k, pm_inject_kind_name(st.fired_kind));
            teardown(&w);
            continue;
        }
        snap_take(&w, &after, full);
        const struct snap *want = &before;
        if (cl->expect == PARTIAL && done != 0 && done != UINT64_MAX) {
            /* What it reports doing: the same call asked for that much. */
            struct iw w2;
            world(&w2);
            uint64_t d2 = UINT64_MAX;
            (void)cl->fn(&w2, done, &d2);
            snap_take(&w2, &ref, full);
            teardown(&w2);
            want = &ref;
        }
        const char *d = snap_diff(want, &after, full, why, sizeof why);
        ck_assert_msg(d == NULL, "%s, k = %llu (%s failed, the call said %s): %s changed", cl->name,
                      (unsigned long long)k, pm_inject_kind_name(st.fired_kind), pm_strerror(err),
                      d);
        teardown(&w);
    }
}

START_TEST(every_call)
{
    const struct call *cl = &calls[_i];
    struct pm_inject_stats by;
    uint64_t n = loop(cl, PM_INJECT_ALL, &by);
    printf("inject: %-40s n=%-3llu (frame %llu, memory %llu, swap-io %llu, slot %llu)\n", cl->name,
           (unsigned long long)n, (unsigned long long)by.by_kind[PM_INJECT_FRAME],
           (unsigned long long)by.by_kind[PM_INJECT_MEMORY],
           (unsigned long long)by.by_kind[PM_INJECT_SWAP_IO],
           (unsigned long long)by.by_kind[PM_INJECT_SLOT]);
    fflush(stdout);
}
END_TEST

Suite *make_suite(void);
Suite *make_suite(void)
{
    Suite *s = suite_create("inject");
    TCase *tc = tcase_create("every call");
    tcase_add_loop_test(tc, every_call, 0, (int)NCALLS);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
