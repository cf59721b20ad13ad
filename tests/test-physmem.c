/* test-physmem.c — physmem's tasks and accounting, containers and
 * capabilities, leases, and allocating and deallocating (SPEC §3.1–§3.3,
 * §3.9, §4, §12).
 *
 * Tasks: pm_task_add's errors, and every call by a task physmem does not
 * know failing with ESRCH.  Containers: create; destroy (its frames go, A
 * drops, every capability to it dies, shares and given ones included, the
 * mappings made through them go, and a logical copy held in another
 * container survives with its bytes).  Handles: stale, revoked, foreign,
 * garbage and PM_CONTAINER_NONE handles are EBADF and never reach another
 * container.  Shares: a weak capability maps and copies but every owner-only
 * call through it is EPERM; revoke kills the weak handle and unmaps exactly
 * what the remote task mapped through it (and what was derived from that);
 * give hands out a full capability that allocates against the owner's A
 * and G.  Allocation: PARTIAL, SQUASH, EXTRA and DMA per §3.3 and §3.9,
 * first come first served until a guarantee is set, EEXIST, EINVAL, the
 * in/out count, and error precedence.  Deallocation: PARTIAL, SQUASH, SOFT,
 * ENOENT, splitting an allocated range.  Leases on the simulated clock:
 * what the owner (and every holder of a full capability) may and may not
 * do while a server holds one, old mappings that keep working, relock,
 * unlock, expiry at exactly start + duration.  pm_task_info's fields, and
 * pm_check on healthy states and on problems a test can make from outside
 * (an over-committing guarantee, a mapping physmem did not make).
 *
 * The invariant checker runs after every step, and every failing call is
 * checked to change nothing: task accounting, physmem's and the pool's
 * counters, every frame's bytes and mappings, and what the watched
 * capabilities see of their frames are compared before and after.  Data is
 * checked through real mappings and simulated accesses; tasks have no
 * pager, so an access to an unmapped page is EFAULT. */
#include "harness.h"
#include "mapping_hash.h"

#define PG 4096u
#define FRAMES 64u
#define DMA 8u
#define NTASKS 4u

#define VA_A 0x100000ull
#define VA_B 0x200000ull
#define VA_C 0x300000ull
#define VA_D 0x400000ull
#define VA_E 0x500000ull

#define RW (CONT_MAP_READ | CONT_MAP_WRITE)
#define BAD_HANDLE ((container_t)0xdeadbeefcafef00dull)
#define SENTINEL ((container_t)0x5a5a5a5a5a5a5a5aull)
#define NOTASK ((l4_task_t)9999)

static struct pmworld p;
static unsigned char buf[PG];
static uint32_t cnt; /* the in/out count of the last alloc(), dealloc() or run_op() */

/* ---- what a failing call must not change ------------------------------- */

#define MAX_FRAMES 256u
#define MAX_WATCH 32u
#define WATCH_FRAMES 32u

/* Capabilities whose view of frames 0 … WATCH_FRAMES − 1 is compared. */
struct watched {
    unsigned ti;
    container_t c;
};
static struct watched watches[MAX_WATCH];
static unsigned nwatches;

static void watch(unsigned ti, container_t c)
{
    if (nwatches < MAX_WATCH)
        watches[nwatches++] = (struct watched){ti, c};
}

struct finfo_rec {
    pm_error_t err;
    bool bound, cow;
    uint32_t pfn, group_size;
};

struct snap {
    pm_error_t ti_err[8];
    struct pm_task_info ti[8];
    struct pm_stats st;
    struct pm_pool_stats ps;
    uint32_t frames;
    uint64_t bytes[MAX_FRAMES]; /* a hash of each physical frame's bytes */
    uint64_t maps[MAX_FRAMES];  /* a hash of each physical frame's mappings */
    size_t nmaps[MAX_FRAMES];
    struct finfo_rec fi[MAX_WATCH][WATCH_FRAMES];
};

static struct snap *snap_take(void)
{
    struct snap *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    for (unsigned i = 0; i < p.ntasks; i++)
        s->ti_err[i] = pm_task_info(p.pm, p.task[i], &s->ti[i]);
    pm_stats(p.pm, &s->st);
    s->st.rpcs = 0; /* a failing call is still a call */
    pm_pool_stats(p.w.pool, &s->ps);
    s->frames = pm_pool_frames(p.w.pool);
    ck_assert_uint_le(s->frames, MAX_FRAMES);
    for (uint32_t f = 0; f < s->frames; f++) {
        s->bytes[f] = fnv(0xcbf29ce484222325ull, pm_pool_frame(p.w.pool, PM_PFN(f)), PG);
        s->maps[f] = 0xcbf29ce484222325ull;
        s->nmaps[f] = l4_mappings_of(p.w.k, PM_PFN(f), hash_mapping, &s->maps[f]);
    }
    for (unsigned w = 0; w < nwatches; w++) {
        for (frame_t f = 0; f < WATCH_FRAMES; f++) {
            struct pm_frame_info fi = {0};
            struct finfo_rec *r = &s->fi[w][f];
            r->err = pm_frame_info(p.pm, p.task[watches[w].ti], watches[w].c, f, &fi);
            r->bound = fi.bound;
            r->cow = fi.cow;
            r->pfn = fi.pfn.n;
            r->group_size = fi.group_size;
        }
    }
    return s;
}

/* Fail unless the state now is the state in *B.  WHAT names the call. */
static void snap_same(const struct snap *b, const char *what, int line)
{
    struct snap *a = snap_take();
    for (unsigned i = 0; i < p.ntasks; i++) {
        const struct pm_task_info *x = &b->ti[i], *y = &a->ti[i];
        if (b->ti_err[i] != a->ti_err[i] || x->guaranteed != y->guaranteed ||
            x->allocated != y->allocated || x->extra != y->extra ||
            x->extra_eligible != y->extra_eligible || x->containers != y->containers ||
            x->capabilities != y->capabilities)
            ck_abort_msg("line %d: %s changed task %u's accounting", line, what, i);
    }
    const uint64_t *sx = (const uint64_t *)&b->st, *sy = (const uint64_t *)&a->st;
    for (size_t i = 0; i < sizeof b->st / sizeof(uint64_t); i++)
        if (sx[i] != sy[i])
            ck_abort_msg("line %d: %s changed pm_stats field %zu (%llu -> %llu)", line, what, i,
                         (unsigned long long)sx[i], (unsigned long long)sy[i]);
    if (b->ps.free != a->ps.free || b->ps.bound != a->ps.bound ||
        b->ps.dma_free != a->ps.dma_free || b->ps.allocs != a->ps.allocs ||
        b->ps.releases != a->ps.releases)
        ck_abort_msg("line %d: %s changed the pool", line, what);
    for (uint32_t f = 0; f < b->frames; f++) {
        if (b->bytes[f] != a->bytes[f])
            ck_abort_msg("line %d: %s changed the bytes of physical frame %u", line, what, f);
        if (b->maps[f] != a->maps[f] || b->nmaps[f] != a->nmaps[f])
            ck_abort_msg("line %d: %s changed the mappings of physical frame %u", line, what, f);
    }
    for (unsigned w = 0; w < nwatches; w++)
        for (frame_t f = 0; f < WATCH_FRAMES; f++)
            if (memcmp(&b->fi[w][f], &a->fi[w][f], sizeof(struct finfo_rec)) != 0)
                ck_abort_msg("line %d: %s changed frame %u as watch %u sees it", line, what, f, w);
    free(a);
}

/* CALL returns CODE; the invariants hold. */
#define STEP(code, call)                                                                           \
    do {                                                                                           \
        pm_error_t step_err_ = (call);                                                             \
        ck_assert_msg(step_err_ == (code), "line %d: %s returned %s, expected %s", __LINE__,       \
                      #call, pm_strerror(step_err_), pm_strerror(code));                           \
        PM_CHECK_INVARIANTS(&p);                                                                   \
    } while (0)
#define OK(call) STEP(PM_OK, call)
/* CALL fails with CODE and changes nothing. */
#define FAILS(code, call)                                                                          \
    do {                                                                                           \
        struct snap *fails_before_ = snap_take();                                                  \
        STEP(code, call);                                                                          \
        snap_same(fails_before_, #call, __LINE__);                                                 \
        free(fails_before_);                                                                       \
    } while (0)

/* ---- fixture and helpers ------------------------------------------------ */

static void setup(void)
{
    nwatches = 0;
    pmworld_init(&p, FRAMES, DMA, NTASKS);
    PM_CHECK_INVARIANTS(&p);
}

static void teardown(void)
{
    pmworld_fini(&p);
}

static l4_task_t T(unsigned i)
{
    return p.task[i];
}

static container_t create(unsigned ti)
{
    container_t c = PM_CONTAINER_NONE;
    OK(pm_container_create(p.pm, T(ti), &c));
    ck_assert_uint_ne(c, PM_CONTAINER_NONE);
    watch(ti, c);
    return c;
}

static container_t share(unsigned ti, container_t c, unsigned remote)
{
    container_t w = PM_CONTAINER_NONE;
    OK(pm_container_share(p.pm, T(ti), c, T(remote), &w));
    ck_assert_uint_ne(w, PM_CONTAINER_NONE);
    watch(remote, w);
    return w;
}

static container_t give(unsigned ti, container_t c, unsigned remote)
{
    container_t g = PM_CONTAINER_NONE;
    OK(pm_container_give(p.pm, T(ti), c, T(remote), &g));
    ck_assert_uint_ne(g, PM_CONTAINER_NONE);
    watch(remote, g);
    return g;
}

static pm_error_t alloc(unsigned ti, container_t c, frame_t start, uint32_t n, unsigned flags)
{
    cnt = n;
    return pm_container_allocate(p.pm, T(ti), c, start, &cnt, flags);
}

static pm_error_t dealloc(unsigned ti, container_t c, frame_t start, uint32_t n, unsigned flags)
{
    cnt = n;
    return pm_container_deallocate(p.pm, T(ti), c, start, &cnt, flags);
}

/* Allocate N frames at START, all of them. */
static void alloc_ok(unsigned ti, container_t c, frame_t start, uint32_t n, unsigned flags)
{
    OK(alloc(ti, c, start, n, flags));
    ck_assert_uint_eq(cnt, n);
}

/* Map frames START … START + N − 1 at VA with FLAGS, continuing after short
 * maps; the first error ends it. */
static pm_error_t map_flags(unsigned ti, container_t c, frame_t start, uint32_t n, unsigned flags,
                            uint64_t va)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t k = n - done;
        pm_error_t err =
            pm_container_map(p.pm, T(ti), c, start + done, &k, flags, va + (uint64_t)done * PG);
        if (err != PM_OK)
            return err;
        CHECK(k > 0 && k <= n - done);
        done += k;
    }
    return PM_OK;
}

static pm_error_t map_rw(unsigned ti, container_t c, frame_t start, uint32_t n, uint64_t va)
{
    return map_flags(ti, c, start, n, RW, va);
}

static pm_error_t copy(unsigned ti, container_t src, frame_t s, container_t dst, frame_t d,
                       uint32_t n)
{
    frame_t fe = 12345;
    pm_error_t err = pm_container_copy(p.pm, T(ti), src, s, dst, d, n, 0, &fe);
    if (err == PM_OK)
        CHECK_EQ(fe, 12345);
    return err;
}

static pm_error_t release1(unsigned ti, container_t c, frame_t f)
{
    return pm_release_data(p.pm, T(ti), c, &f, 1);
}

/* Page I of the PAGES pages at VA gets byte SEED + I (through task TI). */
static void fill(unsigned ti, uint64_t va, uint32_t pages, unsigned seed)
{
    for (uint32_t i = 0; i < pages; i++) {
        memset(buf, (int)((seed + i) & 0xff), PG);
        CHECK_EQ(pm_rw(&p, ti, L4_ACCESS_WRITE, va + (uint64_t)i * PG, buf, PG), PM_OK);
    }
}

/* Page I of the PAGES pages at VA reads as byte SEED + I (through task TI). */
static void expect_fill(unsigned ti, uint64_t va, uint32_t pages, unsigned seed)
{
    for (uint32_t i = 0; i < pages; i++) {
        memset(buf, 0xee, PG);
        CHECK_EQ(pm_rw(&p, ti, L4_ACCESS_READ, va + (uint64_t)i * PG, buf, PG), PM_OK);
        if (!bytes_all(buf, PG, (unsigned char)((seed + i) & 0xff)))
            ck_abort_msg("task %u page 0x%llx: read 0x%02x..., expected 0x%02x", ti,
                         (unsigned long long)(va + (uint64_t)i * PG), buf[0], (seed + i) & 0xff);
    }
}

static void expect_zero(unsigned ti, uint64_t va, uint32_t pages)
{
    for (uint32_t i = 0; i < pages; i++) {
        memset(buf, 0xee, PG);
        CHECK_EQ(pm_rw(&p, ti, L4_ACCESS_READ, va + (uint64_t)i * PG, buf, PG), PM_OK);
        CHECK(bytes_all(buf, PG, 0));
    }
}

/* Nothing is mapped at the PAGES pages at VA in task TI: the kernel has no
 * mapping, and an access faults (no pager). */
static void expect_unmapped(unsigned ti, uint64_t va, uint32_t pages)
{
    for (uint32_t i = 0; i < pages; i++) {
        uint64_t a = va + (uint64_t)i * PG;
        CHECK_EQ(l4_lookup(p.w.k, T(ti), a, NULL, NULL), PM_ENOENT);
        CHECK_EQ(pm_rw(&p, ti, L4_ACCESS_READ, a, buf, 1), PM_EFAULT);
    }
}

/* The physical frame task TI has at VA (asserted mapped), its rights in *RIGHTS. */
static uint32_t mapped_pfn(unsigned ti, uint64_t va, unsigned *rights)
{
    pm_pfn_t pfn = PM_PFN_NONE;
    unsigned r = 0;
    CHECK_EQ(l4_lookup(p.w.k, T(ti), va, &pfn, &r), PM_OK);
    if (rights != NULL)
        *rights = r;
    return pfn.n;
}

static struct pm_frame_info finfo(unsigned ti, container_t c, frame_t f)
{
    struct pm_frame_info fi;
    CHECK_EQ(pm_frame_info(p.pm, T(ti), c, f, &fi), PM_OK);
    return fi;
}

/* Frames START … START + N − 1 exist in C (as TI sees it), or none does. */
static void expect_frames(unsigned ti, container_t c, frame_t start, uint32_t n, bool exist)
{
    struct pm_frame_info fi;
    for (uint32_t i = 0; i < n; i++)
        if (pm_frame_info(p.pm, T(ti), c, start + i, &fi) != (exist ? PM_OK : PM_ENOENT))
            ck_abort_msg("frame %u of container 0x%llx: expected %s", start + i,
                         (unsigned long long)c, exist ? "a frame" : "none");
}

static struct pm_task_info tinfo(unsigned ti)
{
    struct pm_task_info i;
    ck_assert_int_eq(pm_task_info(p.pm, T(ti), &i), PM_OK);
    return i;
}

/* Task TI's accounting is exactly this (E is computed). */
static void expect_task(unsigned ti, uint64_t g, uint64_t a, bool eligible, uint64_t containers,
                        uint64_t caps)
{
    struct pm_task_info i = tinfo(ti);
    ck_assert_msg(i.guaranteed == g && i.allocated == a && i.extra == (a > g ? a - g : 0) &&
                      i.extra_eligible == eligible && i.containers == containers &&
                      i.capabilities == caps,
                  "task %u: G %llu A %llu E %llu eligible %d containers %llu caps %llu; expected "
                  "G %llu A %llu eligible %d containers %llu caps %llu",
                  ti, (unsigned long long)i.guaranteed, (unsigned long long)i.allocated,
                  (unsigned long long)i.extra, i.extra_eligible, (unsigned long long)i.containers,
                  (unsigned long long)i.capabilities, (unsigned long long)g, (unsigned long long)a,
                  eligible, (unsigned long long)containers, (unsigned long long)caps);
}

static struct pm_stats stats(void)
{
    struct pm_stats s;
    pm_stats(p.pm, &s);
    return s;
}

static struct pm_pool_stats pool_stats(void)
{
    struct pm_pool_stats s;
    pm_pool_stats(p.w.pool, &s);
    return s;
}

/* ---- every call, for the tables ----------------------------------------- */

enum op {
    OP_ALLOCATE,
    OP_DEALLOCATE,
    OP_DESTROY,
    OP_SHARE,
    OP_GIVE,
    OP_REVOKE,
    OP_LOCK,
    OP_UNLOCK,
    OP_MAP,
    OP_COPY_OUT,
    OP_COPY_IN,
    OP_RELEASE,
    OP_FRAME_INFO,
    OP_N
};

static const char *const op_names[OP_N] = {
    "allocate", "deallocate", "destroy",  "share",   "give",    "revoke",     "lock",
    "unlock",   "map",        "copy-out", "copy-in", "release", "frame-info",
};

struct opargs {
    l4_task_t caller;
    container_t c;
    container_t other; /* a container of the caller with frame 0, for copies */
    l4_task_t remote;  /* for share and give */
    container_t weak;  /* for revoke */
    frame_t f;
    uint64_t va;
};

/* Make call OP; out-parameters other than the count must be untouched on failure. */
static pm_error_t run_op(enum op op, const struct opargs *a)
{
    pm_error_t err;
    container_t ref = SENTINEL;
    frame_t fe = 777;
    struct pm_frame_info fi, fi0;
    switch (op) {
    case OP_ALLOCATE:
        cnt = 1;
        return pm_container_allocate(p.pm, a->caller, a->c, a->f, &cnt, 0);
    case OP_DEALLOCATE:
        cnt = 1;
        return pm_container_deallocate(p.pm, a->caller, a->c, a->f, &cnt, 0);
    case OP_DESTROY:
        return pm_container_destroy(p.pm, a->caller, a->c);
    case OP_SHARE:
    case OP_GIVE:
        err = op == OP_SHARE ? pm_container_share(p.pm, a->caller, a->c, a->remote, &ref)
                             : pm_container_give(p.pm, a->caller, a->c, a->remote, &ref);
        if (err != PM_OK)
            CHECK_EQ(ref, SENTINEL);
        return err;
    case OP_REVOKE:
        return pm_container_revoke(p.pm, a->caller, a->c, a->weak);
    case OP_LOCK:
        return pm_container_lock(p.pm, a->caller, a->c, 1000);
    case OP_UNLOCK:
        return pm_container_unlock(p.pm, a->caller, a->c);
    case OP_MAP:
        cnt = 1;
        return pm_container_map(p.pm, a->caller, a->c, a->f, &cnt, RW, a->va);
    case OP_COPY_OUT:
        err = pm_container_copy(p.pm, a->caller, a->c, a->f, a->other, 0, 1, 0, &fe);
        if (err != PM_ENOENT && err != PM_ENOMEM)
            CHECK_EQ(fe, 777);
        return err;
    case OP_COPY_IN:
        err = pm_container_copy(p.pm, a->caller, a->other, 0, a->c, a->f, 1, 0, &fe);
        if (err != PM_ENOENT && err != PM_ENOMEM)
            CHECK_EQ(fe, 777);
        return err;
    case OP_RELEASE:
        return pm_release_data(p.pm, a->caller, a->c, &a->f, 1);
    case OP_FRAME_INFO:
        memset(&fi, 0xa5, sizeof fi);
        fi0 = fi;
        err = pm_frame_info(p.pm, a->caller, a->c, a->f, &fi);
        if (err != PM_OK)
            CHECK(memcmp(&fi, &fi0, sizeof fi) == 0);
        return err;
    case OP_N:
        break;
    }
    ck_abort_msg("no such op");
    return PM_EINVAL;
}

/* Call OP: it fails with WANT and changes nothing. */
static void op_fails(enum op op, const struct opargs *a, pm_error_t want, const char *ctx)
{
    struct snap *s = snap_take();
    pm_error_t err = run_op(op, a);
    ck_assert_msg(err == want, "%s: %s returned %s, expected %s", ctx, op_names[op],
                  pm_strerror(err), pm_strerror(want));
    PM_CHECK_INVARIANTS(&p);
    snap_same(s, op_names[op], __LINE__);
    free(s);
}

/* ---- tasks --------------------------------------------------------------- */

START_TEST(test_task_add)
{
    l4_task_t fresh, other;
    l4_thread_t fresh_th = world_task(&p.w, &fresh);
    l4_thread_t other_th = world_task(&p.w, &other);
    /* No such task, the nil task, a thread of another task, no such thread. */
    FAILS(PM_ESRCH, pm_task_add(p.pm, NOTASK, fresh_th));
    FAILS(PM_ESRCH, pm_task_add(p.pm, L4_NILTASK, fresh_th));
    FAILS(PM_ESRCH, pm_task_add(p.pm, fresh, other_th));
    FAILS(PM_ESRCH, pm_task_add(p.pm, fresh, L4_NILTHREAD));
    FAILS(PM_ESRCH, pm_task_add(p.pm, fresh, 99999));
    FAILS(PM_ESRCH, pm_task_add(p.pm, fresh, p.thread[0]));
    struct pm_task_info i;
    FAILS(PM_ESRCH, pm_task_info(p.pm, fresh, &i));
    /* Then right; twice is EEXIST, also with another thread of its own. */
    OK(pm_task_add(p.pm, fresh, fresh_th));
    ck_assert_int_eq(pm_task_info(p.pm, fresh, &i), PM_OK);
    ck_assert_uint_eq(i.guaranteed, 0);
    ck_assert_uint_eq(i.allocated, 0);
    ck_assert_uint_eq(i.extra, 0);
    ck_assert(!i.extra_eligible);
    ck_assert_uint_eq(i.containers, 0);
    ck_assert_uint_eq(i.capabilities, 0);
    l4_thread_t second;
    ck_assert_int_eq(l4_thread_create(p.w.k, fresh, &second), PM_OK);
    FAILS(PM_EEXIST, pm_task_add(p.pm, fresh, fresh_th));
    FAILS(PM_EEXIST, pm_task_add(p.pm, fresh, second));
    FAILS(PM_EEXIST, pm_task_add(p.pm, T(0), p.thread[0]));
    /* The new task works: it creates, allocates and maps to its thread. */
    container_t c = PM_CONTAINER_NONE;
    OK(pm_container_create(p.pm, fresh, &c));
    cnt = 2;
    OK(pm_container_allocate(p.pm, fresh, c, 0, &cnt, 0));
    cnt = 2;
    OK(pm_container_map(p.pm, fresh, c, 0, &cnt, RW, VA_A));
    ck_assert_uint_eq(cnt, 2);
    memset(buf, 0x42, PG);
    ck_assert_int_eq(l4_access(p.w.k, fresh_th, L4_ACCESS_WRITE, VA_A + PG, buf, PG, NULL), PM_OK);
    memset(buf, 0, PG);
    ck_assert_int_eq(l4_access(p.w.k, fresh_th, L4_ACCESS_READ, VA_A + PG, buf, PG, NULL), PM_OK);
    ck_assert(bytes_all(buf, PG, 0x42));
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* Unknown callers: the nil task, the root task (physmem's own, not a
 * client), a kernel task never added, a task the kernel does not have. */
enum { N_UNKNOWN = 4 };

START_TEST(test_unknown_caller)
{
    container_t c = create(0), d = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, d, 0, 1, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x10);
    container_t w = share(0, c, 1);
    l4_task_t kernel_only;
    (void)world_task(&p.w, &kernel_only);
    const l4_task_t callers[N_UNKNOWN] = {L4_NILTASK, L4_ROOT_TASK, kernel_only, NOTASK};
    l4_task_t who = callers[_i];

    /* Every call: ESRCH before anything else (the other arguments are bad
     * too where they can be), and out-parameters untouched. */
    struct opargs a = {.caller = who, .c = c, .other = d, .remote = T(1), .weak = w, .va = VA_B};
    for (enum op op = 0; op < OP_N; op++)
        op_fails(op, &a, PM_ESRCH, "unknown caller");
    container_t out = SENTINEL, out2 = SENTINEL;
    FAILS(PM_ESRCH, pm_container_create(p.pm, who, &out));
    ck_assert_uint_eq(out, SENTINEL);
    FAILS(PM_ESRCH, pm_container_create(p.pm, who, NULL));
    cnt = 0;
    FAILS(PM_ESRCH, pm_container_allocate(p.pm, who, PM_CONTAINER_NONE, 0, &cnt, 1u << 20));
    FAILS(PM_ESRCH, pm_container_allocate(p.pm, who, c, 0, NULL, 0));
    cnt = 1;
    FAILS(PM_ESRCH, pm_container_deallocate(p.pm, who, c, 0, &cnt, CONT_DEALLOC_SOFT));
    FAILS(PM_ESRCH, pm_container_lock(p.pm, who, c, 0));
    cnt = 1;
    FAILS(PM_ESRCH, pm_container_map(p.pm, who, c, 0, &cnt, 0, VA_B + 1));
    FAILS(PM_ESRCH, pm_container_create_with(p.pm, who, 1, T(1), &out, &out2));
    ck_assert_uint_eq(out, SENTINEL);
    ck_assert_uint_eq(out2, SENTINEL);
    /* A known caller naming an unknown remote task. */
    FAILS(PM_ESRCH, pm_container_share(p.pm, T(0), c, who, &out));
    FAILS(PM_ESRCH, pm_container_give(p.pm, T(0), c, who, &out));
    ck_assert_uint_eq(out, SENTINEL);
    /* Accounting calls about it. */
    struct pm_task_info info;
    memset(&info, 0xa5, sizeof info);
    struct pm_task_info info0 = info;
    FAILS(PM_ESRCH, pm_task_info(p.pm, who, &info));
    ck_assert(memcmp(&info, &info0, sizeof info) == 0);
    FAILS(PM_ESRCH, pm_task_set_guarantee(p.pm, who, 5, true));
    /* A failed guarantee puts no guarantees in force: still first come,
     * first served, so T1 (G = 0) may allocate. */
    container_t e = create(1);
    alloc_ok(1, e, 0, 3, 0);
    expect_fill(0, VA_A, 4, 0x10);
}
END_TEST

/* ---- containers ------------------------------------------------------------ */

START_TEST(test_create)
{
    container_t c = create(0), d = create(0), e = create(1);
    ck_assert_uint_ne(c, d);
    ck_assert_uint_ne(c, e);
    ck_assert_uint_ne(d, e);
    expect_task(0, 0, 0, false, 2, 2);
    expect_task(1, 0, 0, false, 1, 1);
    /* A new container is empty. */
    struct opargs a = {.caller = T(0), .c = c, .f = 0};
    op_fails(OP_FRAME_INFO, &a, PM_ENOENT, "empty");
    expect_frames(0, c, 0, WATCH_FRAMES, false);
    /* Its frames are its own: allocating into one leaves the other empty. */
    alloc_ok(0, c, 0, 3, 0);
    expect_frames(0, c, 0, 3, true);
    expect_frames(0, d, 0, 3, false);
    expect_task(0, 0, 3, false, 2, 2);
    FAILS(PM_EINVAL, pm_container_create(p.pm, T(0), NULL));
    ck_assert_uint_eq(stats().frames_allocated, 3);
}
END_TEST

START_TEST(test_destroy)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 8, 0);
    OK(map_rw(0, c, 0, 8, VA_A));
    fill(0, VA_A, 8, 0x10);
    container_t w = share(0, c, 1);
    OK(map_rw(1, w, 0, 8, VA_B));
    expect_fill(1, VA_B, 8, 0x10);
    container_t g = give(0, c, 2);
    OK(map_flags(2, g, 0, 2, CONT_MAP_READ, VA_C));
    /* A logical copy of its frames in another container, owned by T0, and
     * one frame copied into T3's own container. */
    container_t d = create(0), x = create(3);
    alloc_ok(0, d, 0, 8, 0);
    alloc_ok(3, x, 0, 1, 0);
    OK(copy(0, c, 0, d, 0, 8));
    container_t wx = share(3, x, 0);
    OK(copy(0, c, 5, wx, 0, 1));
    ck_assert(finfo(0, d, 3).cow);
    uint32_t pfn3 = finfo(0, c, 3).pfn.n;
    expect_task(0, 0, 16, false, 2, 3);
    expect_task(1, 0, 0, false, 0, 1);
    expect_task(2, 0, 0, false, 0, 1);
    expect_task(3, 0, 1, false, 1, 1);
    struct pm_stats s0 = stats();
    struct pm_pool_stats ps0 = pool_stats();

    OK(pm_container_destroy(p.pm, T(0), c));

    /* A drops by its 8 frames; every capability to it is gone. */
    expect_task(0, 0, 8, false, 1, 2);
    expect_task(1, 0, 0, false, 0, 0);
    expect_task(2, 0, 0, false, 0, 0);
    expect_task(3, 0, 1, false, 1, 1);
    struct pm_stats s1 = stats();
    ck_assert_uint_eq(s1.frames_deallocated, s0.frames_deallocated + 8);
    /* The physical frames live on in the logical copies: none freed. */
    ck_assert_uint_eq(s1.frames_freed, s0.frames_freed);
    ck_assert_uint_eq(pool_stats().bound, ps0.bound);
    struct opargs a = {.caller = T(0), .c = c, .other = d, .remote = T(1), .weak = w, .va = VA_E};
    for (enum op op = 0; op < OP_N; op++)
        op_fails(op, &a, PM_EBADF, "destroyed (owner)");
    a.caller = T(1);
    a.c = w;
    a.other = PM_CONTAINER_NONE;
    for (enum op op = 0; op < OP_N; op++)
        if (op != OP_COPY_OUT && op != OP_COPY_IN)
            op_fails(op, &a, PM_EBADF, "destroyed (share)");
    a.caller = T(2);
    a.c = g;
    for (enum op op = 0; op < OP_N; op++)
        if (op != OP_COPY_OUT && op != OP_COPY_IN)
            op_fails(op, &a, PM_EBADF, "destroyed (given)");
    /* Every mapping of its frames is gone, the owner's and the others'. */
    expect_unmapped(0, VA_A, 8);
    expect_unmapped(1, VA_B, 8);
    expect_unmapped(2, VA_C, 2);
    /* The copies survive with their bytes, now sole owners of the frames. */
    struct pm_frame_info fi = finfo(0, d, 3);
    ck_assert(fi.bound);
    ck_assert(!fi.cow);
    ck_assert_uint_eq(fi.pfn.n, pfn3);
    ck_assert_uint_eq(fi.group_size, 1);
    OK(map_rw(0, d, 0, 8, VA_D));
    expect_fill(0, VA_D, 8, 0x10);
    OK(map_rw(3, x, 0, 1, VA_D));
    expect_fill(3, VA_D, 1, 0x15);
    /* The copy is writable in place now (no other group on its frame),
     * except frame 5, whose frame T3's copy still shares. */
    unsigned rights;
    ck_assert_uint_eq(mapped_pfn(0, VA_D + 3 * PG, &rights), pfn3);
    ck_assert_uint_eq(rights, L4_RWX);
    mapped_pfn(0, VA_D + 5 * PG, &rights);
    ck_assert_uint_eq(rights, L4_R | L4_X);
    ck_assert(finfo(0, d, 5).cow);
    fill(0, VA_D, 5, 0x80);
    expect_fill(0, VA_D, 5, 0x80);
    expect_fill(3, VA_D, 1, 0x15);
    /* Destroying the last container frees the frames. */
    OK(pm_container_destroy(p.pm, T(0), d));
    expect_task(0, 0, 0, false, 0, 1); /* wx, the share of T3's container */
    ck_assert_uint_eq(stats().frames_freed, s1.frames_freed + 7);
}
END_TEST

START_TEST(test_destroy_by_given)
{
    /* A given full capability may destroy: the owner loses its data. */
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x20);
    container_t g = give(0, c, 1);
    OK(pm_container_destroy(p.pm, T(1), g));
    expect_task(0, 0, 0, false, 0, 0);
    expect_task(1, 0, 0, false, 0, 0);
    expect_unmapped(0, VA_A, 4);
    struct opargs a = {.caller = T(0), .c = c, .f = 0};
    op_fails(OP_FRAME_INFO, &a, PM_EBADF, "destroyed by receiver");
    op_fails(OP_ALLOCATE, &a, PM_EBADF, "destroyed by receiver");
}
END_TEST

/* ---- handles ------------------------------------------------------------ */

enum {
    BH_NONE,
    BH_STALE,
    BH_REVOKED,
    BH_FOREIGN,      /* T1's handle used by T0, whose same slot holds another container */
    BH_FOREIGN_WEAK, /* T0's handle used by T1, whose same slot holds a share of it */
    BH_GARBAGE,
    BH_WRONG_GEN,
    BH_WRONG_SLOT,
    BH_GEN_ONLY,
    BH_ALL_ONES,
    N_BAD_HANDLES
};

START_TEST(test_bad_handle)
{
    static const char *const names[N_BAD_HANDLES] = {
        "none",    "stale",     "revoked",    "foreign",  "foreign-weak",
        "garbage", "wrong-gen", "wrong-slot", "gen-only", "all-ones"};
    /* T0: C (slot 1) and Y (slot 2); T1: a share of C (slot 1) and its own X (slot 2). */
    container_t c = create(0), y = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, y, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x30);
    container_t w = share(0, c, 1);
    container_t x = create(1);
    alloc_ok(1, x, 0, 2, 0);
    OK(map_rw(1, w, 0, 4, VA_B));
    ck_assert_uint_eq(c >> 32, w >> 32); /* the premise of the foreign cases */
    ck_assert_uint_eq(y >> 32, x >> 32);

    unsigned caller = 0;
    container_t h = PM_CONTAINER_NONE;
    switch (_i) {
    case BH_NONE:
        h = PM_CONTAINER_NONE;
        break;
    case BH_STALE: {
        container_t z = create(0);
        alloc_ok(0, z, 0, 2, 0);
        OK(pm_container_destroy(p.pm, T(0), z));
        h = z;
        /* A new container never gets the old handle. */
        container_t z2 = create(0);
        ck_assert_uint_ne(z2, z);
        break;
    }
    case BH_REVOKED: {
        container_t w2 = share(0, c, 1);
        OK(map_rw(1, w2, 0, 1, VA_E));
        OK(pm_container_revoke(p.pm, T(0), c, w2));
        caller = 1;
        h = w2;
        break;
    }
    case BH_FOREIGN:
        h = x;
        break;
    case BH_FOREIGN_WEAK:
        caller = 1;
        h = c;
        break;
    case BH_GARBAGE:
        h = BAD_HANDLE;
        break;
    case BH_WRONG_GEN:
        h = c ^ 0x100; /* slot of C, a generation nobody has */
        break;
    case BH_WRONG_SLOT:
        h = c + (2ull << 32); /* C's generation, a slot that is empty */
        break;
    case BH_GEN_ONLY:
        h = (uint32_t)c;
        break;
    case BH_ALL_ONES:
        h = UINT64_MAX;
        break;
    }
    struct opargs a = {.caller = T(caller),
                       .c = h,
                       .other = caller == 0 ? y : x,
                       .remote = T(2),
                       .weak = w,
                       .f = 0,
                       .va = VA_D};
    for (enum op op = 0; op < OP_N; op++)
        op_fails(op, &a, PM_EBADF, names[_i]);
    /* As the weak reference of a revoke, too. */
    FAILS(PM_EBADF, pm_container_revoke(p.pm, T(0), c, h));
    /* Nothing else was reached: the real containers are intact. */
    expect_task(0, 0, 8, false, _i == BH_STALE ? 3 : 2, _i == BH_STALE ? 3 : 2);
    expect_task(1, 0, 2, false, 1, 2);
    expect_frames(0, c, 0, 4, true);
    expect_frames(0, y, 0, 4, true);
    expect_frames(1, x, 0, 2, true);
    expect_fill(0, VA_A, 4, 0x30);
    expect_fill(1, VA_B, 4, 0x30);
}
END_TEST

/* ---- shares, revoke, give ------------------------------------------------ */

START_TEST(test_share)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x40);
    container_t w = share(0, c, 1);
    ck_assert_uint_ne(w, c);
    expect_task(0, 0, 4, false, 1, 1);
    expect_task(1, 0, 0, false, 0, 1); /* a capability, not a container, and no frames */
    /* The remote sees the same frames, maps them and reads and writes the
     * owner's bytes (real sharing of one physical frame). */
    for (frame_t f = 0; f < 4; f++) {
        struct pm_frame_info fo = finfo(0, c, f), fr = finfo(1, w, f);
        ck_assert_uint_eq(fo.pfn.n, fr.pfn.n);
        ck_assert(fr.bound);
    }
    OK(map_rw(1, w, 0, 4, VA_B));
    expect_fill(1, VA_B, 4, 0x40);
    ck_assert_uint_eq(mapped_pfn(1, VA_B + 2 * PG, NULL), mapped_pfn(0, VA_A + 2 * PG, NULL));
    fill(1, VA_B + PG, 1, 0xe1);
    expect_fill(0, VA_A + PG, 1, 0xe1);
    /* A second share is a second handle, to the same container. */
    container_t w2 = share(0, c, 1);
    ck_assert_uint_ne(w2, w);
    ck_assert_uint_eq(finfo(1, w2, 3).pfn.n, finfo(0, c, 3).pfn.n);
    expect_task(1, 0, 0, false, 0, 2);
    /* Errors: unknown remote, no place for the reference. */
    container_t ref = SENTINEL;
    FAILS(PM_ESRCH, pm_container_share(p.pm, T(0), c, NOTASK, &ref));
    FAILS(PM_ESRCH, pm_container_share(p.pm, T(0), BAD_HANDLE, NOTASK, &ref));
    FAILS(PM_EINVAL, pm_container_share(p.pm, T(0), c, T(2), NULL));
    FAILS(PM_EINVAL, pm_container_share(p.pm, T(0), BAD_HANDLE, T(2), NULL));
    FAILS(PM_EBADF, pm_container_share(p.pm, T(0), BAD_HANDLE, T(2), &ref));
    ck_assert_uint_eq(ref, SENTINEL);
}
END_TEST

/* Every owner-only call through a weak capability is EPERM. */
START_TEST(test_weak_owner_only)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x50);
    container_t w = share(0, c, 1), w2 = share(0, c, 2);
    container_t x = create(1);
    alloc_ok(1, x, 0, 2, 0);
    struct opargs a = {.caller = T(1), .c = w, .other = x, .remote = T(2), .weak = w, .f = 0};
    static const enum op owner_only[] = {OP_ALLOCATE, OP_DEALLOCATE, OP_DESTROY,
                                         OP_SHARE,    OP_GIVE,       OP_REVOKE};
    for (size_t i = 0; i < sizeof owner_only / sizeof owner_only[0]; i++)
        op_fails(owner_only[i], &a, PM_EPERM, "weak");
    /* With arguments that would fail later, EPERM still comes first. */
    a.f = 100; /* empty: deallocate would be ENOENT; allocate there would succeed */
    op_fails(OP_ALLOCATE, &a, PM_EPERM, "weak, empty id");
    op_fails(OP_DEALLOCATE, &a, PM_EPERM, "weak, empty id");
    FAILS(PM_EPERM, alloc(1, w, 0, 4, 0));                 /* would be EEXIST */
    FAILS(PM_EPERM, alloc(1, w, 0, 4, CONT_ALLOC_SQUASH)); /* would replace */
    FAILS(PM_EPERM, alloc(1, w, 10, 1000, CONT_ALLOC_PARTIAL | CONT_ALLOC_EXTRA));
    FAILS(PM_EPERM, dealloc(1, w, 0, 10, CONT_DEALLOC_SQUASH));
    FAILS(PM_EPERM, pm_container_revoke(p.pm, T(1), w, w));
    FAILS(PM_EPERM, pm_container_revoke(p.pm, T(2), w2, w));
    /* Even after the lease the weak holder itself took. */
    OK(pm_container_lock(p.pm, T(1), w, 1000));
    FAILS(PM_EPERM, pm_container_destroy(p.pm, T(1), w));
    FAILS(PM_EPERM, dealloc(1, w, 0, 1, 0));
    OK(pm_container_unlock(p.pm, T(1), w));
    /* What a weak capability may do. */
    OK(map_rw(1, w, 0, 4, VA_B));
    expect_fill(1, VA_B, 4, 0x50);
    OK(copy(1, w, 2, x, 0, 1)); /* out of */
    OK(copy(1, x, 1, w, 3, 1)); /* into: frame 3 becomes x's (zero) frame 1 */
    OK(release1(1, w, 1));
    OK(map_rw(0, c, 0, 4, VA_C));
    expect_fill(0, VA_C, 1, 0x50);
    expect_zero(0, VA_C + PG, 1);
    expect_fill(0, VA_C + 2 * PG, 1, 0x52);
    expect_zero(0, VA_C + 3 * PG, 1);
    expect_task(0, 0, 4, false, 1, 1);
    expect_task(1, 0, 2, false, 1, 2);
}
END_TEST

START_TEST(test_revoke)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x60);
    container_t w1 = share(0, c, 1), w2 = share(0, c, 2);
    container_t g1 = give(0, c, 1);
    OK(map_rw(1, w1, 0, 4, VA_B));
    OK(map_rw(1, g1, 0, 4, VA_D)); /* T1 also maps through its full capability */
    OK(map_rw(2, w2, 0, 4, VA_C));
    fill(1, VA_B + PG, 1, 0x77);
    expect_fill(0, VA_A + PG, 1, 0x77);
    /* T1 passes its page on to T3 with an L4 map item: derived from the share. */
    ck_assert_int_eq(world_item(&p.w, L4_ITEM_MAP, p.thread[1], p.thread[3], VA_B, 12, L4_RW, VA_E),
                     PM_OK);
    expect_fill(3, VA_E, 1, 0x60);
    expect_task(1, 0, 0, false, 0, 2);

    OK(pm_container_revoke(p.pm, T(0), c, w1));

    /* The weak handle is dead for everything. */
    struct opargs a = {.caller = T(1), .c = w1, .remote = T(2), .weak = w1, .va = VA_E};
    for (enum op op = 0; op < OP_N; op++)
        if (op != OP_COPY_OUT && op != OP_COPY_IN)
            op_fails(op, &a, PM_EBADF, "revoked");
    expect_task(1, 0, 0, false, 0, 1);
    /* What T1 mapped through it is gone, and what was derived from that. */
    expect_unmapped(1, VA_B, 4);
    expect_unmapped(3, VA_E, 1);
    /* The owner's own mappings stay, writable, on the same frames; so do
     * T2's (another share) and T1's through the given full capability. */
    for (frame_t f = 0; f < 4; f++) {
        unsigned r;
        uint32_t pfn = finfo(0, c, f).pfn.n;
        ck_assert_uint_eq(mapped_pfn(0, VA_A + f * PG, &r), pfn);
        ck_assert_uint_eq(r, L4_RWX);
        ck_assert_uint_eq(mapped_pfn(2, VA_C + f * PG, NULL), pfn);
        ck_assert_uint_eq(mapped_pfn(1, VA_D + f * PG, NULL), pfn);
    }
    expect_fill(0, VA_A, 1, 0x60);
    expect_fill(0, VA_A + PG, 1, 0x77); /* what T1 wrote stays */
    expect_fill(2, VA_C + 2 * PG, 2, 0x62);
    expect_fill(1, VA_D + 3 * PG, 1, 0x63);
    /* Revoking it again, or with the wrong container, is EBADF. */
    FAILS(PM_EBADF, pm_container_revoke(p.pm, T(0), c, w1));
    /* The frames themselves are untouched: A and the container are intact. */
    expect_task(0, 0, 4, false, 1, 1);
    OK(pm_container_revoke(p.pm, T(0), c, w2));
    expect_unmapped(2, VA_C, 4);
    ck_assert_uint_eq(mapped_pfn(1, VA_D, NULL), finfo(0, c, 0).pfn.n);
}
END_TEST

/* Revoking with a handle that is not a live share of that container. */
enum {
    RV_OTHER_CONTAINER,
    RV_OWNER_HANDLE,
    RV_GIVEN,
    RV_REVOKED,
    RV_NONE,
    RV_GARBAGE,
    RV_WRONG_C,
    N_REVOKE_BAD
};

START_TEST(test_revoke_not_a_share)
{
    container_t c = create(0), y = create(0);
    alloc_ok(0, c, 0, 2, 0);
    alloc_ok(0, y, 0, 2, 0);
    container_t w = share(0, c, 1), wy = share(0, y, 1), g = give(0, c, 2);
    container_t gone = share(0, c, 3);
    OK(map_rw(1, w, 0, 2, VA_B));
    OK(map_rw(1, wy, 0, 2, VA_C));
    OK(pm_container_revoke(p.pm, T(0), c, gone));
    container_t cc = c, ref = PM_CONTAINER_NONE;
    switch (_i) {
    case RV_OTHER_CONTAINER:
        ref = wy;
        break;
    case RV_OWNER_HANDLE:
        ref = c;
        break;
    case RV_GIVEN:
        ref = g;
        break;
    case RV_REVOKED:
        ref = gone;
        break;
    case RV_NONE:
        ref = PM_CONTAINER_NONE;
        break;
    case RV_GARBAGE:
        ref = BAD_HANDLE;
        break;
    case RV_WRONG_C:
        cc = y;
        ref = w;
        break;
    }
    FAILS(PM_EBADF, pm_container_revoke(p.pm, T(0), cc, ref));
    /* Every share still works. */
    expect_frames(1, w, 0, 2, true);
    expect_frames(1, wy, 0, 2, true);
    expect_frames(2, g, 0, 2, true);
    mapped_pfn(1, VA_B + PG, NULL);
    mapped_pfn(1, VA_C + PG, NULL);
}
END_TEST

START_TEST(test_give)
{
    /* First come, first served: the receiver allocates, the owner pays. */
    container_t c = create(0);
    alloc_ok(0, c, 0, 2, 0);
    container_t g = give(0, c, 1);
    ck_assert_uint_ne(g, c);
    expect_task(0, 0, 2, false, 1, 1);
    expect_task(1, 0, 0, false, 0, 1);
    alloc_ok(1, g, 10, 5, 0);
    expect_task(0, 0, 7, false, 1, 1);
    expect_task(1, 0, 0, false, 0, 1);
    /* The receiver writes through it, the owner reads. */
    OK(map_rw(1, g, 10, 1, VA_B));
    fill(1, VA_B, 1, 0x91);
    OK(map_rw(0, c, 10, 1, VA_A));
    expect_fill(0, VA_A, 1, 0x91);
    /* It deallocates the owner's frames too. */
    OK(dealloc(1, g, 0, 1, 0));
    ck_assert_uint_eq(cnt, 1);
    expect_task(0, 0, 6, false, 1, 1);
    /* It may hand the container on; the third task's allocations are still the owner's. */
    container_t g2 = give(1, g, 2);
    container_t w3 = share(1, g, 3);
    alloc_ok(2, g2, 20, 1, 0);
    expect_task(0, 0, 7, false, 1, 1);
    expect_task(2, 0, 0, false, 0, 1);
    expect_frames(3, w3, 20, 1, true);
    /* Errors. */
    container_t ref = SENTINEL;
    FAILS(PM_ESRCH, pm_container_give(p.pm, T(0), c, NOTASK, &ref));
    FAILS(PM_EINVAL, pm_container_give(p.pm, T(0), c, T(1), NULL));
    FAILS(PM_EBADF, pm_container_give(p.pm, T(0), BAD_HANDLE, T(1), &ref));
    FAILS(PM_EPERM, pm_container_give(p.pm, T(3), w3, T(1), &ref));
    ck_assert_uint_eq(ref, SENTINEL);
}
END_TEST

/* Why give is dangerous: the receiver spends the owner's guarantee. */
START_TEST(test_give_against_owner_guarantee)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 6, false));
    OK(pm_task_set_guarantee(p.pm, T(1), 20, false));
    container_t c = create(0), own = create(0);
    alloc_ok(0, c, 0, 2, 0);
    container_t g = give(0, c, 1);
    alloc_ok(1, g, 10, 4, 0); /* T0 is at its G now */
    expect_task(0, 6, 6, false, 2, 2);
    expect_task(1, 20, 0, false, 0, 1);
    /* The receiver has 20 frames of G of its own, but this counts against T0's. */
    FAILS(PM_ENOMEM, alloc(1, g, 14, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOMEM, alloc(1, g, 14, 1, CONT_ALLOC_EXTRA | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 0);
    /* And the owner is locked out of its own guarantee. */
    FAILS(PM_ENOMEM, alloc(0, own, 0, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    /* The receiver's own container draws on its own G. */
    container_t x = create(1);
    alloc_ok(1, x, 0, 20, 0);
    FAILS(PM_ENOMEM, alloc(1, x, 20, 1, 0));
    expect_task(1, 20, 20, false, 1, 2);
    /* Giving it back: the receiver deallocates, the owner's room returns. */
    OK(dealloc(1, g, 10, 4, 0));
    alloc_ok(0, own, 0, 4, 0);
    expect_task(0, 6, 6, false, 2, 2);
}
END_TEST

/* ---- allocate ----------------------------------------------------------- */

/* A request of 28 frames with room for exactly ROOM (G = 28, PRE frames
 * already allocated elsewhere). */
static const struct {
    uint32_t pre, n;
    unsigned flags;
    pm_error_t err;
    uint32_t count;
} shortfall[] = {
    {0, 28, 0, PM_OK, 28},
    {0, 28, CONT_ALLOC_PARTIAL, PM_OK, 28},
    {0, 29, 0, PM_ENOMEM, 0},
    {0, 29, CONT_ALLOC_PARTIAL, PM_ENOMEM, 28},
    {1, 28, 0, PM_ENOMEM, 0},
    {1, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 27},
    {12, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 16},
    {20, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 8},
    {24, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 4},
    {24, 28, 0, PM_ENOMEM, 0},
    {24, 28, CONT_ALLOC_EXTRA, PM_ENOMEM, 0}, /* not eligible: EXTRA ignored */
    {24, 28, CONT_ALLOC_PARTIAL | CONT_ALLOC_EXTRA, PM_ENOMEM, 4},
    {27, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 1},
    {28, 28, CONT_ALLOC_PARTIAL, PM_ENOMEM, 0}, /* k = 0 is no partial success */
    {28, 28, 0, PM_ENOMEM, 0},
    {24, 4, 0, PM_OK, 4},
};

START_TEST(test_alloc_shortfall)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 28, false));
    container_t pre = create(0), c = create(0);
    if (shortfall[_i].pre > 0)
        alloc_ok(0, pre, 0, shortfall[_i].pre, 0);
    uint32_t n = shortfall[_i].n, k = shortfall[_i].count;
    if (k == 0) {
        FAILS(shortfall[_i].err, alloc(0, c, 100, n, shortfall[_i].flags));
    } else {
        struct pm_stats s0 = stats();
        STEP(shortfall[_i].err, alloc(0, c, 100, n, shortfall[_i].flags));
        ck_assert_uint_eq(stats().frames_allocated, s0.frames_allocated + k);
    }
    ck_assert_uint_eq(cnt, k);
    /* Exactly the first k identifiers. */
    expect_frames(0, c, 100, k, true);
    expect_frames(0, c, 100 + k, n - k, false);
    expect_frames(0, c, 99, 1, false);
    expect_task(0, 28, shortfall[_i].pre + k, false, 2, 2);
    if (k > 0) {
        /* Zero-filled frames that hold data. */
        OK(map_rw(0, c, 100, k, VA_A));
        expect_zero(0, VA_A, k);
        fill(0, VA_A, k, 0x11);
        expect_fill(0, VA_A, k, 0x11);
    }
}
END_TEST

/* 16 + 8 + 4: three allocations fill G = 28; a fourth of 28 gets 4 with
 * PARTIAL, none without; the 28 frames then go out as 16 + 8 + 4 in one map. */
START_TEST(test_alloc_16_8_4)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 28, false));
    container_t c = create(0);
    alloc_ok(0, c, 0, 16, 0);
    alloc_ok(0, c, 16, 8, 0);
    FAILS(PM_ENOMEM, alloc(0, c, 24, 28, 0));
    ck_assert_uint_eq(cnt, 0);
    STEP(PM_ENOMEM, alloc(0, c, 24, 28, CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 4);
    expect_task(0, 28, 28, false, 1, 1);
    expect_frames(0, c, 0, 28, true);
    expect_frames(0, c, 28, 4, false);
    FAILS(PM_ENOMEM, alloc(0, c, 28, 1, CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 0);
    struct pm_stats s0 = stats();
    uint32_t n = 28;
    OK(pm_container_map(p.pm, T(0), c, 0, &n, RW, VA_A));
    ck_assert_uint_eq(n, 28);
    ck_assert_uint_eq(stats().map_calls, s0.map_calls + 1);
    ck_assert_uint_eq(stats().frames_mapped, s0.frames_mapped + 28);
    fill(0, VA_A, 28, 0x21);
    expect_fill(0, VA_A, 28, 0x21);
    /* Each frame is its own: physically distinct. */
    for (frame_t f = 0; f < 28; f++)
        for (frame_t g = 0; g < f; g++)
            CHECK(finfo(0, c, f).pfn.n != finfo(0, c, g).pfn.n);
}
END_TEST

START_TEST(test_alloc_eexist)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, c, 6, 1, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x31);
    static const unsigned flags[] = {0, CONT_ALLOC_PARTIAL, CONT_ALLOC_PARTIAL | CONT_ALLOC_EXTRA,
                                     CONT_ALLOC_DMA | CONT_ALLOC_PARTIAL};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        /* The first identifier in use. */
        FAILS(PM_EEXIST, alloc(0, c, 2, 4, flags[i]));
        ck_assert_uint_eq(cnt, 0);
        /* 4 and 5 could be had, 6 is in use: nothing, even with PARTIAL. */
        FAILS(PM_EEXIST, alloc(0, c, 4, 4, flags[i]));
        ck_assert_uint_eq(cnt, 0);
        expect_frames(0, c, 4, 2, false);
    }
    expect_task(0, 0, 5, false, 1, 1);
    expect_fill(0, VA_A, 4, 0x31);
}
END_TEST

START_TEST(test_alloc_squash)
{
    container_t c = create(0), d = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, d, 0, 1, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x30);
    OK(copy(0, c, 1, d, 0, 1)); /* a logical copy of frame 1 elsewhere */
    uint32_t old1 = finfo(0, c, 1).pfn.n;
    ck_assert(finfo(0, d, 0).cow);
    struct pm_stats s0 = stats();

    OK(alloc(0, c, 1, 2, CONT_ALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 2);
    ck_assert_uint_eq(stats().frames_allocated, s0.frames_allocated + 2);
    expect_task(0, 0, 5, false, 2, 2); /* one frame goes, one comes */
    /* The old frames' mappings are gone, the neighbours' are not. */
    expect_unmapped(0, VA_A + PG, 2);
    expect_fill(0, VA_A, 1, 0x30);
    expect_fill(0, VA_A + 3 * PG, 1, 0x33);
    /* New, unbound, private frames that read as zero. */
    struct pm_frame_info fi = finfo(0, c, 1);
    ck_assert(!fi.bound);
    ck_assert_uint_eq(fi.group_size, 1);
    OK(map_rw(0, c, 1, 2, VA_A + PG));
    expect_zero(0, VA_A + PG, 2);
    /* The logical copy kept the old contents, now alone on its frame. */
    fi = finfo(0, d, 0);
    ck_assert(!fi.cow);
    ck_assert_uint_eq(fi.pfn.n, old1);
    OK(map_rw(0, d, 0, 1, VA_B));
    expect_fill(0, VA_B, 1, 0x31);
    /* Over a mixed range: only the empty identifiers add to A. */
    OK(alloc(0, c, 3, 3, CONT_ALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 3);
    expect_task(0, 0, 7, false, 2, 2);
    expect_unmapped(0, VA_A + 3 * PG, 1);
    expect_fill(0, VA_A, 1, 0x30);
}
END_TEST

START_TEST(test_alloc_squash_at_guarantee)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 4, false));
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x41);
    /* At G, squashing needs no room. */
    OK(alloc(0, c, 2, 2, CONT_ALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 2);
    expect_task(0, 4, 4, false, 1, 1);
    /* Frame 4 needs room: ENOMEM, nothing squashed. */
    FAILS(PM_ENOMEM, alloc(0, c, 0, 5, CONT_ALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 0);
    expect_fill(0, VA_A, 2, 0x41);
    /* With PARTIAL the first four are squashed. */
    STEP(PM_ENOMEM, alloc(0, c, 0, 5, CONT_ALLOC_SQUASH | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 4);
    expect_task(0, 4, 4, false, 1, 1);
    expect_frames(0, c, 4, 1, false);
    expect_unmapped(0, VA_A, 2);
    OK(map_rw(0, c, 0, 4, VA_A));
    expect_zero(0, VA_A, 4);
}
END_TEST

START_TEST(test_alloc_extra)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 8, true));
    OK(pm_task_set_guarantee(p.pm, T(1), 16, true));
    OK(pm_task_set_guarantee(p.pm, T(2), 10, false));
    OK(pm_task_set_guarantee(p.pm, T(3), 0, false));
    container_t c0 = create(0), c1 = create(1), c2 = create(2), c3 = create(3);
    /* T1 goes past its G: 64 − (8 + 10) frames are nobody else's. */
    alloc_ok(1, c1, 0, 20, CONT_ALLOC_EXTRA);
    expect_task(1, 16, 20, true, 1, 1);
    FAILS(PM_ENOMEM, alloc(1, c1, 20, 1, 0)); /* no EXTRA: stops at G */
    ck_assert_uint_eq(cnt, 0);
    /* T0: G, then no further without EXTRA. */
    alloc_ok(0, c0, 0, 8, 0);
    FAILS(PM_ENOMEM, alloc(0, c0, 8, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    /* With EXTRA up to 64 − 20 (T1 uses) − 10 (T2 is guaranteed) = 34 in all. */
    FAILS(PM_ENOMEM, alloc(0, c0, 8, 27, CONT_ALLOC_EXTRA));
    ck_assert_uint_eq(cnt, 0);
    STEP(PM_ENOMEM, alloc(0, c0, 8, 27, CONT_ALLOC_EXTRA | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 26);
    expect_task(0, 8, 34, true, 1, 1);
    /* T2 is not eligible: EXTRA is ignored, and its G is still there for it. */
    FAILS(PM_ENOMEM, alloc(2, c2, 0, 11, CONT_ALLOC_EXTRA));
    ck_assert_uint_eq(cnt, 0);
    alloc_ok(2, c2, 0, 10, CONT_ALLOC_EXTRA);
    FAILS(PM_ENOMEM, alloc(2, c2, 10, 1, CONT_ALLOC_EXTRA | CONT_ALLOC_PARTIAL));
    expect_task(2, 10, 10, false, 1, 1);
    /* The pool is full: nobody gets more. */
    FAILS(PM_ENOMEM, alloc(1, c1, 20, 1, CONT_ALLOC_EXTRA));
    FAILS(PM_ENOMEM, alloc(3, c3, 0, 1, CONT_ALLOC_EXTRA));
    ck_assert_uint_eq(tinfo(0).allocated + tinfo(1).allocated + tinfo(2).allocated, FRAMES);
    /* T0 gives 4 back; T1 may take exactly those. */
    OK(dealloc(0, c0, 30, 4, 0));
    STEP(PM_ENOMEM, alloc(1, c1, 20, 5, CONT_ALLOC_EXTRA | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 4);
    expect_task(1, 16, 24, true, 1, 1);
    expect_task(0, 8, 30, true, 1, 1);
    /* The extra frames are real: map and use them all. */
    OK(map_rw(0, c0, 0, 30, VA_A));
    fill(0, VA_A, 30, 0x01);
    OK(map_rw(1, c1, 0, 24, VA_B));
    fill(1, VA_B, 24, 0x81);
    expect_fill(0, VA_A, 30, 0x01);
    expect_fill(1, VA_B, 24, 0x81);
}
END_TEST

START_TEST(test_alloc_first_come)
{
    container_t c0 = create(0), c1 = create(1), c2 = create(2), c3 = create(3);
    /* No guarantee set: anyone may allocate while the pool has frames. */
    alloc_ok(0, c0, 0, 40, 0);
    alloc_ok(1, c1, 0, 24, 0);
    expect_task(1, 0, 24, false, 1, 1); /* E = A − 0 */
    FAILS(PM_ENOMEM, alloc(2, c2, 0, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOMEM, alloc(2, c2, 0, 5, CONT_ALLOC_PARTIAL | CONT_ALLOC_EXTRA));
    ck_assert_uint_eq(cnt, 0);
    OK(dealloc(0, c0, 37, 3, 0));
    STEP(PM_ENOMEM, alloc(2, c2, 0, 5, CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 3);
    expect_frames(2, c2, 0, 3, true);
    /* Every allocated frame can be bound: map them all. */
    OK(map_rw(0, c0, 0, 37, VA_A));
    OK(map_rw(1, c1, 0, 24, VA_B));
    OK(map_rw(2, c2, 0, 3, VA_C));
    fill(0, VA_A, 37, 0x40);
    fill(1, VA_B, 24, 0xa0);
    fill(2, VA_C, 3, 0xf0);
    expect_fill(0, VA_A, 37, 0x40);
    expect_fill(1, VA_B, 24, 0xa0);
    expect_fill(2, VA_C, 3, 0xf0);
    ck_assert_uint_eq(pool_stats().free, 0);
    /* The first guarantee ends it: T0 (G = 0) may not use free frames now. */
    OK(dealloc(2, c2, 0, 3, 0));
    OK(pm_task_set_guarantee(p.pm, T(3), 3, false));
    FAILS(PM_ENOMEM, alloc(0, c0, 40, 1, 0));
    FAILS(PM_ENOMEM, alloc(2, c2, 0, 1, CONT_ALLOC_EXTRA));
    alloc_ok(3, c3, 0, 3, 0);
}
END_TEST

START_TEST(test_alloc_dma)
{
    container_t c = create(0);
    struct pm_stats s0 = stats();
    alloc_ok(0, c, 0, DMA, CONT_ALLOC_DMA);
    /* Bound at once, from the DMA zone, each frame its own. */
    ck_assert_uint_eq(stats().frames_bound, s0.frames_bound + DMA);
    ck_assert_uint_eq(pool_stats().dma_free, 0);
    bool seen[DMA] = {false};
    for (frame_t f = 0; f < DMA; f++) {
        struct pm_frame_info fi = finfo(0, c, f);
        ck_assert(fi.bound);
        ck_assert_uint_lt(fi.pfn.n, DMA);
        ck_assert(!seen[fi.pfn.n]);
        seen[fi.pfn.n] = true;
    }
    OK(map_rw(0, c, 0, DMA, VA_A));
    expect_zero(0, VA_A, DMA);
    fill(0, VA_A, DMA, 0x51);
    for (frame_t f = 0; f < DMA; f++)
        ck_assert_uint_eq(mapped_pfn(0, VA_A + f * PG, NULL), finfo(0, c, f).pfn.n);
    /* The zone is exhausted, though the pool is not. */
    FAILS(PM_ENOMEM, alloc(0, c, 8, 1, CONT_ALLOC_DMA));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOMEM, alloc(0, c, 8, 3, CONT_ALLOC_DMA | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 0);
    /* Ordinary frames still come, from outside the zone. */
    alloc_ok(0, c, 8, 4, 0);
    ck_assert(!finfo(0, c, 8).bound);
    OK(map_rw(0, c, 8, 4, VA_A + 8 * PG));
    for (frame_t f = 8; f < 12; f++)
        ck_assert_uint_ge(finfo(0, c, f).pfn.n, DMA);
    /* Two DMA frames back: a request for three gets two with PARTIAL. */
    OK(dealloc(0, c, 2, 2, 0));
    ck_assert_uint_eq(pool_stats().dma_free, 2);
    FAILS(PM_ENOMEM, alloc(0, c, 20, 3, CONT_ALLOC_DMA));
    ck_assert_uint_eq(cnt, 0);
    STEP(PM_ENOMEM, alloc(0, c, 20, 3, CONT_ALLOC_DMA | CONT_ALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 2);
    expect_frames(0, c, 20, 2, true);
    expect_frames(0, c, 22, 1, false);
    ck_assert_uint_lt(finfo(0, c, 20).pfn.n, DMA);
    ck_assert_uint_lt(finfo(0, c, 21).pfn.n, DMA);
    /* They reuse the zone's frames, zero-filled again. */
    OK(map_rw(0, c, 20, 2, VA_B));
    expect_zero(0, VA_B, 2);
    expect_fill(0, VA_A, 2, 0x51);
    expect_fill(0, VA_A + 4 * PG, 4, 0x55);
    expect_task(0, 0, DMA - 2 + 4 + 2, false, 1, 1);
}
END_TEST

/* Malformed allocations: EINVAL (or not), and the count. */
static const struct {
    frame_t start;
    uint32_t n;
    unsigned flags;
    pm_error_t err;
    uint32_t count;
} alloc_args[] = {
    {0, 0, 0, PM_EINVAL, 0},
    {0, 0, CONT_ALLOC_PARTIAL, PM_EINVAL, 0},
    {UINT32_MAX, 2, 0, PM_EINVAL, 0},
    {2, UINT32_MAX, CONT_ALLOC_PARTIAL, PM_EINVAL, 0},
    {0x80000000u, 0x80000001u, 0, PM_EINVAL, 0},
    {0, 1, 1u << 4, PM_EINVAL, 0},
    {0, 1, 1u << 31, PM_EINVAL, 0},
    {0, 1, CONT_ALLOC_PARTIAL | (1u << 8), PM_EINVAL, 0},
    /* Not malformed: the last identifier, a range ending there, and the
     * whole identifier space (which no pool can back). */
    {UINT32_MAX, 1, 0, PM_OK, 1},
    {UINT32_MAX - 3, 4, 0, PM_OK, 4},
    {1, UINT32_MAX, 0, PM_ENOMEM, 0}, /* 1 … 2^32 − 1: in range */
    {0, UINT32_MAX, 0, PM_ENOMEM, 0},
    {0, UINT32_MAX, CONT_ALLOC_PARTIAL, PM_ENOMEM, FRAMES},
};

START_TEST(test_alloc_args)
{
    container_t c = create(0);
    uint32_t k = alloc_args[_i].count;
    if (k == 0)
        FAILS(alloc_args[_i].err,
              alloc(0, c, alloc_args[_i].start, alloc_args[_i].n, alloc_args[_i].flags));
    else
        STEP(alloc_args[_i].err,
             alloc(0, c, alloc_args[_i].start, alloc_args[_i].n, alloc_args[_i].flags));
    if (alloc_args[_i].err != PM_EINVAL) /* EINVAL's count: test_alloc_count_on_error */
        ck_assert_uint_eq(cnt, k);
    expect_task(0, 0, k, false, 1, 1);
    if (k > 0)
        expect_frames(0, c, alloc_args[_i].start, k, true);
    if (_i == 0) /* a NULL count */
        FAILS(PM_EINVAL, pm_container_allocate(p.pm, T(0), c, 0, NULL, 0));
}
END_TEST

/* Error precedence for allocate: ESRCH, EINVAL, EBADF, EPERM, EBUSY (only
 * for SQUASH over live frames: allocating is otherwise allowed while
 * locked), then per frame in visiting order. */
enum { AP_CALLER_C, AP_CALLER_W, AP_CALLER_UNKNOWN };
enum { AH_FULL, AH_WEAK, AH_GARBAGE };
static const struct {
    int caller, handle;
    frame_t start;
    uint32_t n;
    unsigned flags;
    bool locked;
    pm_error_t err;
    uint32_t count;
} alloc_prec[] = {
    /* unknown caller, garbage handle, zero count, unknown flag */
    {AP_CALLER_UNKNOWN, AH_GARBAGE, 0, 0, 1u << 9, false, PM_ESRCH, 0},
    /* garbage handle, zero count */
    {AP_CALLER_C, AH_GARBAGE, 0, 0, 0, false, PM_EINVAL, 0},
    /* garbage handle, unknown flag, identifiers in use */
    {AP_CALLER_C, AH_GARBAGE, 0, 2, 1u << 9, false, PM_EINVAL, 0},
    /* garbage handle, identifiers in use */
    {AP_CALLER_C, AH_GARBAGE, 0, 2, 0, false, PM_EBADF, 0},
    /* weak handle, identifiers in use, over G */
    {AP_CALLER_W, AH_WEAK, 0, 50, 0, false, PM_EPERM, 0},
    /* weak handle, locked */
    {AP_CALLER_W, AH_WEAK, 20, 1, 0, true, PM_EPERM, 0},
    /* locked, identifier in use: EEXIST (no EBUSY for allocate) */
    {AP_CALLER_C, AH_FULL, 3, 2, 0, true, PM_EEXIST, 0},
    /* locked, room: allocated */
    {AP_CALLER_C, AH_FULL, 20, 2, 0, true, PM_OK, 2},
    /* locked, SQUASH over an identifier in use: squashing deallocates, EBUSY */
    {AP_CALLER_C, AH_FULL, 3, 2, CONT_ALLOC_SQUASH, true, PM_EBUSY, 0},
    /* locked, SQUASH over empty identifiers only: allowed */
    {AP_CALLER_C, AH_FULL, 20, 2, CONT_ALLOC_SQUASH, true, PM_OK, 2},
    /* 10 fits, 11 in use: EEXIST, nothing, even with PARTIAL */
    {AP_CALLER_C, AH_FULL, 10, 2, CONT_ALLOC_PARTIAL, false, PM_EEXIST, 0},
    /* 12, 13, 14 fit (room 3), 15 does not, 16 is in use: visiting order says
     * ENOMEM at 15 */
    {AP_CALLER_C, AH_FULL, 12, 5, CONT_ALLOC_PARTIAL, false, PM_ENOMEM, 3},
    {AP_CALLER_C, AH_FULL, 12, 5, 0, false, PM_ENOMEM, 0},
    /* in use first, then over G: EEXIST */
    {AP_CALLER_C, AH_FULL, 16, 10, CONT_ALLOC_PARTIAL, false, PM_EEXIST, 0},
};

START_TEST(test_alloc_precedence)
{
    OK(pm_task_set_guarantee(p.pm, T(0), 10, false));
    container_t c = create(0);
    alloc_ok(0, c, 0, 5, 0);
    alloc_ok(0, c, 11, 1, 0);
    alloc_ok(0, c, 16, 1, 0); /* A = 7: room for 3 */
    container_t w = share(0, c, 1);
    if (alloc_prec[_i].locked)
        OK(pm_container_lock(p.pm, T(1), w, 1000));
    l4_task_t caller = alloc_prec[_i].caller == AP_CALLER_C   ? T(0)
                       : alloc_prec[_i].caller == AP_CALLER_W ? T(1)
                                                              : NOTASK;
    container_t h = alloc_prec[_i].handle == AH_FULL   ? c
                    : alloc_prec[_i].handle == AH_WEAK ? w
                                                       : BAD_HANDLE;
    uint32_t k = alloc_prec[_i].count;
    cnt = alloc_prec[_i].n;
    if (k == 0)
        FAILS(alloc_prec[_i].err, pm_container_allocate(p.pm, caller, h, alloc_prec[_i].start, &cnt,
                                                        alloc_prec[_i].flags));
    else
        STEP(alloc_prec[_i].err, pm_container_allocate(p.pm, caller, h, alloc_prec[_i].start, &cnt,
                                                       alloc_prec[_i].flags));
    /* The count is what was allocated (the early errors' count:
     * test_alloc_count_on_error). */
    if (alloc_prec[_i].err == PM_OK || alloc_prec[_i].err == PM_EEXIST ||
        alloc_prec[_i].err == PM_ENOMEM)
        ck_assert_uint_eq(cnt, k);
    expect_task(0, 10, 7 + k, false, 1, 1);
    expect_frames(0, c, alloc_prec[_i].start, k, true);
}
END_TEST

/* physmem.h: "On return *COUNT is the number allocated: all, or on error 0"
 * -- the errors before any frame is visited included (SPEC §3.9 leaves
 * count to §3.3, which names only the shortfall). */
enum { CE_ESRCH, CE_EINVAL_RANGE, CE_EINVAL_FLAG, CE_EBADF, CE_EPERM, N_COUNT_ERR };

START_TEST(test_alloc_count_on_error)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 2, 0);
    container_t w = share(0, c, 1);
    static const pm_error_t want[N_COUNT_ERR] = {PM_ESRCH, PM_EINVAL, PM_EINVAL, PM_EBADF,
                                                 PM_EPERM};
    l4_task_t caller = _i == CE_ESRCH ? NOTASK : _i == CE_EPERM ? T(1) : T(0);
    container_t h = _i == CE_EBADF ? BAD_HANDLE : _i == CE_EPERM ? w : c;
    frame_t start = _i == CE_EINVAL_RANGE ? UINT32_MAX : 10;
    unsigned flags = _i == CE_EINVAL_FLAG ? 1u << 12 : 0;
    cnt = 5;
    FAILS(want[_i], pm_container_allocate(p.pm, caller, h, start, &cnt, flags));
    ck_assert_msg(cnt == 0, "%s: count %u after the error, expected 0", pm_strerror(want[_i]), cnt);
}
END_TEST

/* ---- deallocate ----------------------------------------------------------- */

START_TEST(test_dealloc_partial)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 10, 0);
    OK(map_rw(0, c, 0, 10, VA_A));
    fill(0, VA_A, 10, 0x40);
    struct pm_stats s0 = stats();
    /* 5 … 9 go, 10 is the first empty identifier. */
    STEP(PM_ENOENT, dealloc(0, c, 5, 10, CONT_DEALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 5);
    ck_assert_uint_eq(stats().frames_deallocated, s0.frames_deallocated + 5);
    expect_task(0, 0, 5, false, 1, 1);
    expect_frames(0, c, 5, 5, false);
    expect_unmapped(0, VA_A + 5 * PG, 5);
    expect_fill(0, VA_A, 5, 0x40);
    /* Starting at an empty identifier: nothing. */
    FAILS(PM_ENOENT, dealloc(0, c, 5, 3, CONT_DEALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOENT, dealloc(0, c, 100, 1, CONT_DEALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 0);
    /* Exactly the frames there: success. */
    OK(dealloc(0, c, 0, 5, CONT_DEALLOC_PARTIAL));
    ck_assert_uint_eq(cnt, 5);
    expect_task(0, 0, 0, false, 1, 1);
    expect_unmapped(0, VA_A, 5);
    /* Their physical frames went back to the pool. */
    ck_assert_uint_eq(pool_stats().bound, 0);
}
END_TEST

START_TEST(test_dealloc_squash)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, c, 6, 4, 0);
    alloc_ok(0, c, 12, 1, 0);
    OK(map_rw(0, c, 12, 1, VA_B));
    fill(0, VA_B, 1, 0x12);
    OK(dealloc(0, c, 0, 12, CONT_DEALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 12); /* the requested count, not the 8 there were */
    expect_task(0, 0, 1, false, 1, 1);
    expect_frames(0, c, 0, 12, false);
    expect_fill(0, VA_B, 1, 0x12);
    /* All empty: success, nothing changes. */
    struct snap *s = snap_take();
    OK(dealloc(0, c, 0, 12, CONT_DEALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 12);
    snap_same(s, "squash over nothing", __LINE__);
    free(s);
    OK(dealloc(0, c, 10, 5, CONT_DEALLOC_SQUASH));
    ck_assert_uint_eq(cnt, 5);
    expect_task(0, 0, 0, false, 1, 1);
    expect_unmapped(0, VA_B, 1);
}
END_TEST

START_TEST(test_dealloc_enoent)
{
    container_t c = create(0), empty = create(0);
    alloc_ok(0, c, 0, 4, 0);
    alloc_ok(0, c, 5, 1, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x61);
    /* 3 is there, 4 is not: nothing happens. */
    FAILS(PM_ENOENT, dealloc(0, c, 3, 3, 0));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOENT, dealloc(0, c, 4, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOENT, dealloc(0, c, 0, 6, 0));
    ck_assert_uint_eq(cnt, 0);
    FAILS(PM_ENOENT, dealloc(0, empty, 0, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    expect_task(0, 0, 5, false, 2, 2);
    expect_fill(0, VA_A, 4, 0x61);
    /* A drops by what goes. */
    OK(dealloc(0, c, 5, 1, 0));
    ck_assert_uint_eq(cnt, 1);
    expect_task(0, 0, 4, false, 2, 2);
}
END_TEST

/* Deallocating the middle of a range leaves both sides, with their bytes
 * and mappings. */
START_TEST(test_dealloc_split)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 16, 0);
    OK(map_rw(0, c, 0, 16, VA_A));
    fill(0, VA_A, 16, 0x70);
    uint32_t pfn[16];
    for (frame_t f = 0; f < 16; f++)
        pfn[f] = finfo(0, c, f).pfn.n;
    OK(dealloc(0, c, 6, 4, 0));
    ck_assert_uint_eq(cnt, 4);
    expect_task(0, 0, 12, false, 1, 1);
    expect_frames(0, c, 0, 6, true);
    expect_frames(0, c, 6, 4, false);
    expect_frames(0, c, 10, 6, true);
    expect_unmapped(0, VA_A + 6 * PG, 4);
    for (frame_t f = 0; f < 16; f++) {
        if (f >= 6 && f < 10)
            continue;
        ck_assert_uint_eq(finfo(0, c, f).pfn.n, pfn[f]);
        ck_assert_uint_eq(mapped_pfn(0, VA_A + f * PG, NULL), pfn[f]);
    }
    expect_fill(0, VA_A, 6, 0x70);
    expect_fill(0, VA_A + 10 * PG, 6, 0x7a);
    /* Both sides stay writable. */
    fill(0, VA_A + 5 * PG, 1, 0xc5);
    fill(0, VA_A + 10 * PG, 1, 0xca);
    expect_fill(0, VA_A + 5 * PG, 1, 0xc5);
    expect_fill(0, VA_A + 10 * PG, 1, 0xca);
    /* The hole again: new zero frames, neighbours untouched. */
    alloc_ok(0, c, 6, 4, 0);
    OK(map_rw(0, c, 6, 4, VA_A + 6 * PG));
    expect_zero(0, VA_A + 6 * PG, 4);
    expect_fill(0, VA_A + 11 * PG, 5, 0x7b);
    /* And a split from a deallocation of a range's two ends. */
    OK(dealloc(0, c, 0, 1, 0));
    OK(dealloc(0, c, 15, 1, 0));
    expect_fill(0, VA_A + PG, 4, 0x71);
    expect_unmapped(0, VA_A, 1);
    expect_unmapped(0, VA_A + 15 * PG, 1);
    expect_task(0, 0, 14, false, 1, 1);
}
END_TEST

static const struct {
    frame_t start;
    uint32_t n;
    unsigned flags;
} dealloc_einval[] = {
    {0, 1, CONT_DEALLOC_SOFT | (1u << 5)}, /* an unknown flag beside a known one */
    {0, 4, CONT_DEALLOC_PARTIAL | (1u << 9)},
    {2, 1, CONT_DEALLOC_SQUASH | (1u << 31)},
    {0, 0, 0},
    {UINT32_MAX, 2, CONT_DEALLOC_SQUASH},
    {0, 1, 1u << 3},
    {0, 1, 1u << 30},
};

START_TEST(test_dealloc_einval)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x15);
    FAILS(PM_EINVAL,
          dealloc(0, c, dealloc_einval[_i].start, dealloc_einval[_i].n, dealloc_einval[_i].flags));
    /* EINVAL comes before EBADF and EPERM. */
    container_t w = share(0, c, 1);
    cnt = dealloc_einval[_i].n;
    FAILS(PM_EINVAL, pm_container_deallocate(p.pm, T(0), BAD_HANDLE, dealloc_einval[_i].start, &cnt,
                                             dealloc_einval[_i].flags));
    cnt = dealloc_einval[_i].n;
    FAILS(PM_EINVAL, pm_container_deallocate(p.pm, T(1), w, dealloc_einval[_i].start, &cnt,
                                             dealloc_einval[_i].flags));
    if (_i == 0)
        FAILS(PM_EINVAL, pm_container_deallocate(p.pm, T(0), c, 0, NULL, 0));
    expect_task(0, 0, 4, false, 1, 1);
    expect_fill(0, VA_A, 4, 0x15);
}
END_TEST

/* Error precedence for deallocate: ESRCH, EINVAL, EBADF, EPERM, EBUSY, ENOENT. */
static const struct {
    int caller; /* 0 owner, 1 weak holder, 2 given full holder, -1 unknown */
    bool garbage, locked;
    frame_t start;
    unsigned flags;
    pm_error_t err;
} dealloc_prec[] = {
    {-1, true, true, 50, 1u << 7, PM_ESRCH}, {0, true, true, 50, 1u << 7, PM_EINVAL},
    {0, true, true, 50, 0, PM_EBADF},        {1, false, true, 50, 0, PM_EPERM},
    {1, false, false, 0, 0, PM_EPERM},       {0, false, true, 50, 0, PM_EBUSY},
    {2, false, true, 50, 0, PM_EBUSY},       {0, false, true, 0, 0, PM_EBUSY},
    {0, false, false, 50, 0, PM_ENOENT},     {2, false, false, 50, CONT_DEALLOC_PARTIAL, PM_ENOENT},
};

START_TEST(test_dealloc_precedence)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    container_t w = share(0, c, 1), g = give(0, c, 2);
    container_t w3 = share(0, c, 3);
    if (dealloc_prec[_i].locked)
        OK(pm_container_lock(p.pm, T(3), w3, 1000));
    int who = dealloc_prec[_i].caller;
    l4_task_t caller = who < 0 ? NOTASK : T((unsigned)who);
    container_t h = dealloc_prec[_i].garbage ? BAD_HANDLE : who == 1 ? w : who == 2 ? g : c;
    cnt = 1;
    FAILS(dealloc_prec[_i].err, pm_container_deallocate(p.pm, caller, h, dealloc_prec[_i].start,
                                                        &cnt, dealloc_prec[_i].flags));
    if (dealloc_prec[_i].err == PM_ENOENT)
        ck_assert_uint_eq(cnt, 0);
    expect_task(0, 0, 4, false, 1, 1);
}
END_TEST

/* ---- leases ------------------------------------------------------------ */

/* The world of the lease tests: T0 owns C (frames 0 … 3, mapped at VA_A,
 * bytes 0x50 …) and D (0 … 3); T1, the server, has a weak capability W1 and
 * its own container S (0 … 3, mapped at VA_C, bytes 0x60 …); T2 holds a
 * given full capability G2 and its own D2; T3 a share W3. */
static container_t C, D, W1, S, G2, D2, W3;

static void lease_world(void)
{
    C = create(0);
    D = create(0);
    alloc_ok(0, C, 0, 4, 0);
    alloc_ok(0, D, 0, 4, 0);
    OK(map_rw(0, C, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x50);
    W1 = share(0, C, 1);
    S = create(1);
    alloc_ok(1, S, 0, 4, 0);
    OK(map_rw(1, S, 0, 4, VA_C));
    fill(1, VA_C, 4, 0x60);
    G2 = give(0, C, 2);
    D2 = create(2);
    alloc_ok(2, D2, 0, 2, 0);
    W3 = share(0, C, 3);
}

/* What every holder of a full capability may not do while a lease holds. */
static const enum op blocked_ops[] = {OP_DEALLOCATE, OP_REVOKE,  OP_DESTROY, OP_MAP,
                                      OP_COPY_OUT,   OP_COPY_IN, OP_RELEASE};

static void expect_blocked(const char *ctx)
{
    struct opargs owner = {
        .caller = T(0), .c = C, .other = D, .remote = T(3), .weak = W3, .f = 1, .va = VA_E};
    struct opargs given = {
        .caller = T(2), .c = G2, .other = D2, .remote = T(3), .weak = W3, .f = 1, .va = VA_E};
    for (size_t i = 0; i < sizeof blocked_ops / sizeof blocked_ops[0]; i++) {
        op_fails(blocked_ops[i], &owner, PM_EBUSY, ctx);
        op_fails(blocked_ops[i], &given, PM_EBUSY, ctx);
    }
    /* Revoking the locker's own share too. */
    owner.weak = W1;
    op_fails(OP_REVOKE, &owner, PM_EBUSY, ctx);
    /* Even ranges that would fail later: EBUSY first. */
    FAILS(PM_EBUSY, dealloc(0, C, 50, 1, 0));
    cnt = 1;
    FAILS(PM_EBUSY, pm_container_map(p.pm, T(0), C, 50, &cnt, RW, VA_E));
}

START_TEST(test_lease_blocks_owner)
{
    lease_world();
    OK(pm_container_lock(p.pm, T(1), W1, 1000000));
    expect_blocked("leased");
    expect_task(0, 0, 8, false, 2, 2);
    expect_frames(0, C, 0, 4, true);
}
END_TEST

START_TEST(test_lease_allows)
{
    lease_world();
    OK(pm_container_lock(p.pm, T(1), W1, 1000000));
    /* The owner may allocate, share and give. */
    alloc_ok(0, C, 10, 2, 0);
    alloc_ok(2, G2, 12, 1, 0);
    expect_task(0, 0, 11, false, 2, 2);
    container_t w = share(0, C, 2);
    container_t g = give(0, C, 3);
    expect_frames(2, w, 0, 4, true);
    expect_frames(3, g, 10, 3, true);
    /* ... and look. */
    ck_assert(finfo(0, C, 0).bound);
    /* The owner's mappings from before keep working, both ways. */
    expect_fill(0, VA_A, 4, 0x50);
    fill(0, VA_A + 2 * PG, 1, 0x99);
    /* The server maps and copies out and in through its weak capability. */
    OK(map_rw(1, W1, 0, 4, VA_B));
    expect_fill(1, VA_B, 2, 0x50);
    expect_fill(1, VA_B + 2 * PG, 1, 0x99);
    OK(copy(1, W1, 0, S, 0, 1));
    OK(copy(1, S, 1, W1, 10, 1));
    OK(map_rw(1, S, 0, 1, VA_D));
    expect_fill(1, VA_D, 1, 0x50);
    /* Task 3 holds a weak capability, but also the full one just given to
     * it: a holder of a full capability is blocked whichever it uses (so a
     * share to oneself cannot get round a lease). */
    FAILS(PM_EBUSY, map_rw(3, W3, 0, 1, VA_D));
    /* Still leased: the new frame cannot be mapped by the owner yet. */
    uint32_t one = 1;
    FAILS(PM_EBUSY, pm_container_map(p.pm, T(0), C, 10, &one, RW, VA_E));
    OK(pm_container_unlock(p.pm, T(1), W1));
    OK(map_rw(0, C, 10, 1, VA_E));
    expect_fill(0, VA_E, 1, 0x61);
    expect_fill(0, VA_A + PG, 1, 0x51);
}
END_TEST

START_TEST(test_lease_relock_unlock)
{
    lease_world();
    /* Nobody holds a lease yet: unlock is EPERM. */
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(1), W1));
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(0), C));
    OK(pm_container_lock(p.pm, T(1), W1, 1000000));
    /* Relocking is EBUSY, whoever asks and through whatever capability. */
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(1), W1, 1000000));
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(1), W1, 1));
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(0), C, 1000));
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(2), G2, 1000));
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(3), W3, 1000));
    /* Unlock by anyone but the holder is EPERM, the owner included. */
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(0), C));
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(2), G2));
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(3), W3));
    FAILS(PM_EBADF, pm_container_unlock(p.pm, T(1), BAD_HANDLE));
    FAILS(PM_ESRCH, pm_container_unlock(p.pm, NOTASK, W1));
    /* Unlocking another container is EPERM, and leaves this one held. */
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(1), S));
    expect_blocked("still leased");
    /* The holder ends it; the owner may do everything again. */
    OK(pm_container_unlock(p.pm, T(1), W1));
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(1), W1));
    OK(map_rw(0, C, 0, 1, VA_E));
    expect_fill(0, VA_E, 1, 0x50);
    OK(copy(0, C, 1, D, 1, 1));
    OK(copy(0, D, 2, C, 2, 1));
    OK(release1(0, C, 3));
    OK(dealloc(0, C, 0, 1, 0));
    OK(pm_container_revoke(p.pm, T(0), C, W3));
    /* A new lease by another task. */
    OK(pm_container_lock(p.pm, T(2), G2, 10));
    FAILS(PM_EBUSY, dealloc(0, C, 1, 1, 0));
    OK(pm_container_unlock(p.pm, T(2), G2));
    OK(pm_container_destroy(p.pm, T(0), C));
    expect_task(0, 0, 4, false, 1, 1);
    expect_unmapped(0, VA_A, 4);
}
END_TEST

/* A lease holds while now < start + duration, and ends by itself. */
START_TEST(test_lease_expires)
{
    lease_world();
    l4_clock_advance(p.w.k, 12345);
    OK(map_rw(1, W1, 0, 4, VA_B));
    pm_time_t start = l4_system_clock(p.w.k);
    OK(pm_container_lock(p.pm, T(1), W1, 1000));
    l4_clock_advance(p.w.k, 999);
    ck_assert_uint_eq(l4_system_clock(p.w.k), start + 999);
    expect_blocked("at start + duration - 1");
    FAILS(PM_EBUSY, pm_container_lock(p.pm, T(1), W1, 5));
    l4_clock_advance(p.w.k, 1);
    /* At start + duration: over.  The holder's unlock is EPERM now. */
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(1), W1));
    OK(map_rw(0, C, 0, 1, VA_E));
    expect_fill(0, VA_E, 1, 0x50);
    OK(dealloc(2, G2, 3, 1, 0));
    /* The owner may now cancel the server's access. */
    OK(pm_container_revoke(p.pm, T(0), C, W1));
    expect_unmapped(1, VA_B, 4);
    FAILS(PM_EBADF, pm_container_lock(p.pm, T(1), W1, 5));
    /* A lease may be taken again after one expired. */
    OK(pm_container_lock(p.pm, T(3), W3, 1));
    FAILS(PM_EBUSY, dealloc(0, C, 2, 1, 0));
    l4_clock_advance(p.w.k, 1);
    OK(dealloc(0, C, 2, 1, 0));
    expect_task(0, 0, 6, false, 2, 2);
}
END_TEST

START_TEST(test_lease_args)
{
    lease_world();
    FAILS(PM_EINVAL, pm_container_lock(p.pm, T(1), W1, 0));
    FAILS(PM_ESRCH, pm_container_lock(p.pm, NOTASK, BAD_HANDLE, 0));
    FAILS(PM_EINVAL, pm_container_lock(p.pm, T(1), BAD_HANDLE, 0));
    FAILS(PM_EBADF, pm_container_lock(p.pm, T(1), BAD_HANDLE, 10));
    FAILS(PM_EBADF, pm_container_lock(p.pm, T(1), C, 10)); /* T0's handle */
    /* The longest lease does not wrap around: it never ends by itself. */
    l4_clock_advance(p.w.k, 100);
    OK(pm_container_lock(p.pm, T(1), W1, UINT64_MAX));
    l4_clock_advance(p.w.k, UINT64_MAX / 2);
    FAILS(PM_EBUSY, dealloc(0, C, 0, 1, 0));
    OK(pm_container_unlock(p.pm, T(1), W1));
    OK(dealloc(0, C, 0, 1, 0));
}
END_TEST

/* The owner may lock its own container: then it is the holder and not
 * blocked, while other full capabilities are. */
START_TEST(test_lease_owner_locks)
{
    lease_world();
    OK(pm_container_lock(p.pm, T(0), C, 1000));
    OK(map_rw(0, C, 0, 1, VA_E));
    struct opargs given = {.caller = T(2), .c = G2, .other = D2, .f = 0, .va = VA_E};
    op_fails(OP_DEALLOCATE, &given, PM_EBUSY, "owner's lease");
    op_fails(OP_MAP, &given, PM_EBUSY, "owner's lease");
    op_fails(OP_DESTROY, &given, PM_EBUSY, "owner's lease");
    OK(map_rw(1, W1, 0, 1, VA_B));
    FAILS(PM_EPERM, pm_container_unlock(p.pm, T(1), W1));
    OK(dealloc(0, C, 3, 1, 0));
    OK(pm_container_unlock(p.pm, T(0), C));
    OK(dealloc(2, G2, 2, 1, 0));
    expect_task(0, 0, 6, false, 2, 2);
}
END_TEST

/* ---- accounting ---------------------------------------------------------- */

START_TEST(test_task_info)
{
    expect_task(0, 0, 0, false, 0, 0);
    OK(pm_task_set_guarantee(p.pm, T(0), 5, true));
    expect_task(0, 5, 0, true, 0, 0);
    container_t c = create(0);
    expect_task(0, 5, 0, true, 1, 1);
    alloc_ok(0, c, 0, 3, 0);
    expect_task(0, 5, 3, true, 1, 1);
    alloc_ok(0, c, 3, 4, CONT_ALLOC_EXTRA);
    struct pm_task_info i = tinfo(0);
    ck_assert_uint_eq(i.extra, 2);
    expect_task(0, 5, 7, true, 1, 1);
    container_t w = share(0, c, 1);
    expect_task(0, 5, 7, true, 1, 1);
    expect_task(1, 0, 0, false, 0, 1);
    container_t g = give(0, c, 2);
    expect_task(2, 0, 0, false, 0, 1);
    container_t d = create(0);
    expect_task(0, 5, 7, true, 2, 2);
    /* A given capability's allocations are the owner's. */
    alloc_ok(2, g, 10, 1, CONT_ALLOC_EXTRA);
    expect_task(0, 5, 8, true, 2, 2);
    expect_task(2, 0, 0, false, 0, 1);
    /* A larger G: E = max(0, A − G). */
    OK(pm_task_set_guarantee(p.pm, T(0), 10, false));
    i = tinfo(0);
    ck_assert_uint_eq(i.extra, 0);
    ck_assert(!i.extra_eligible);
    OK(pm_task_set_guarantee(p.pm, T(0), 3, false));
    i = tinfo(0);
    ck_assert_uint_eq(i.extra, 5);
    OK(pm_container_revoke(p.pm, T(0), c, w));
    expect_task(1, 0, 0, false, 0, 0);
    /* Guarantees are in force: over G (T0) or with none (T1) is ENOMEM. */
    FAILS(PM_ENOMEM, alloc(0, d, 0, 1, 0));
    ck_assert_uint_eq(cnt, 0);
    container_t x = create(1);
    FAILS(PM_ENOMEM, alloc(1, x, 0, 1, CONT_ALLOC_EXTRA));
    ck_assert_uint_eq(cnt, 0);
    OK(pm_container_destroy(p.pm, T(0), c));
    expect_task(0, 3, 0, false, 1, 1);
    expect_task(1, 0, 0, false, 1, 1);
    expect_task(2, 0, 0, false, 0, 0);
    OK(pm_container_destroy(p.pm, T(0), d));
    expect_task(0, 3, 0, false, 0, 0);
}
END_TEST

/* ---- the invariant checker ------------------------------------------------- */

START_TEST(test_check_healthy)
{
    struct pm_problems r;
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
    ck_assert_uint_eq(r.n, 0);
    /* A busy but healthy state: containers, shares, gifts, maps, copies,
     * leases, DMA frames, holes. */
    lease_world();
    OK(pm_container_lock(p.pm, T(1), W1, 100));
    OK(map_rw(1, W1, 0, 4, VA_B));
    OK(copy(1, W1, 0, S, 2, 2));
    alloc_ok(0, D, 10, 2, CONT_ALLOC_DMA);
    OK(map_rw(0, D, 10, 2, VA_D));
    OK(map_rw(3, W3, 0, 4, VA_B));
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
    ck_assert_uint_eq(r.n, 0);
    l4_clock_advance(p.w.k, 100);
    OK(dealloc(0, C, 1, 2, 0));
    OK(pm_container_revoke(p.pm, T(0), C, W1));
    OK(pm_container_destroy(p.pm, T(1), S));
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
    ck_assert_uint_eq(r.n, 0);
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 0);
}
END_TEST

START_TEST(test_check_overcommit)
{
    struct pm_problems r;
    /* ΣG over the pool is a policy violation the checker reports. */
    OK(pm_task_set_guarantee(p.pm, T(0), 40, false));
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, T(1), 30, false), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 1);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_ptr_nonnull(strstr(r.last, "over-commit"));
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 1);
    /* Exactly the pool is fine. */
    OK(pm_task_set_guarantee(p.pm, T(1), 24, false));
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
}
END_TEST

START_TEST(test_check_rogue_mapping)
{
    struct pm_problems r;
    container_t c = create(0), d = create(0);
    alloc_ok(0, c, 0, 2, 0);
    alloc_ok(0, d, 0, 1, 0);
    OK(map_rw(0, c, 0, 2, VA_A));
    uint32_t pfn0 = finfo(0, c, 0).pfn.n;
    /* A mapping of a frame physmem holds that physmem did not make (an
     * untagged map item from the root): no live capability behind it. */
    l4_task_t rogue;
    l4_thread_t rogue_th = world_task(&p.w, &rogue);
    ck_assert_int_eq(world_map_frame(&p.w, PM_PFN(pfn0), rogue_th, VA_E, L4_R), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 1);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_ptr_nonnull(strstr(r.last, "dead capability"));
    ck_assert_int_eq(l4_task_delete(p.w.k, rogue), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
    /* A writable mapping of a copy-on-write frame: two problems. */
    OK(copy(0, c, 1, d, 0, 1));
    uint32_t pfn1 = finfo(0, c, 1).pfn.n;
    ck_assert(finfo(0, d, 0).cow);
    rogue_th = world_task(&p.w, &rogue);
    ck_assert_int_eq(world_map_frame(&p.w, PM_PFN(pfn1), rogue_th, VA_E, L4_RW), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 2);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(l4_task_delete(p.w.k, rogue), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
    /* A mapping of a free frame is none of physmem's business. */
    uint32_t free_pfn = DMA;
    while (pm_pool_is_bound(p.w.pool, PM_PFN(free_pfn)))
        free_pfn++;
    rogue_th = world_task(&p.w, &rogue);
    ck_assert_int_eq(world_map_frame(&p.w, PM_PFN(free_pfn), rogue_th, VA_E, L4_RW), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
}
END_TEST

/* The tag physmem gave the mapping of PFN it made (there is one). */
static void first_tag(void *ctx, const struct l4_mapping_info *m)
{
    uint64_t *tag = ctx;
    if (m->depth == 1 && *tag == 0)
        *tag = m->tag;
}

START_TEST(test_check_stale_tag)
{
    /* A mapping straight from the root that carries a live capability's tag
     * but for a frame that does not name its physical frame: the checker
     * says which container frame the mapping claims.  Made from outside
     * with a tagged map item (l4_send_tagged) of physmem's own tag. */
    struct pm_problems r;
    container_t c = create(0);
    alloc_ok(0, c, 0, 2, 0);
    OK(map_rw(0, c, 0, 2, VA_A));
    uint32_t pfn0 = finfo(0, c, 0).pfn.n, pfn1 = finfo(0, c, 1).pfn.n;
    ck_assert_uint_ne(pfn0, pfn1);
    uint64_t tag0 = 0;
    ck_assert_uint_eq(l4_mappings_of(p.w.k, PM_PFN(pfn0), first_tag, &tag0), 1);
    ck_assert_uint_ne(tag0, 0);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);

    /* Frame 0's tag on physical frame 1. */
    l4_task_t rogue;
    l4_thread_t rogue_th = world_task(&p.w, &rogue);
    l4_msg_t m;
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP,
                              l4_fpage(world_phys(&p.w, PM_PFN(pfn1)), p.w.shift, L4_R), VA_E));
    unsigned sent = 0;
    ck_assert_int_eq(l4_send_tagged(p.w.k, l4_root_thread(p.w.k), rogue_th, &m, &tag0, &sent),
                     PM_OK);
    ck_assert_uint_eq(sent, 1);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 1);
    ck_assert_uint_eq(r.n, 1);
    ck_assert_ptr_nonnull(strstr(r.last, "which no longer names it"));
    char want[64];
    snprintf(want, sizeof want, "maps frame %u at", pfn1);
    ck_assert_msg(strstr(r.last, want) != NULL, "%s", r.last);
    ck_assert_int_eq(l4_task_delete(p.w.k, rogue), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);

    /* The same capability's tag for a frame the container does not hold. */
    uint64_t tag5 = (tag0 & ~UINT64_C(0xffffffff)) | 5;
    rogue_th = world_task(&p.w, &rogue);
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP,
                              l4_fpage(world_phys(&p.w, PM_PFN(pfn0)), p.w.shift, L4_R), VA_E));
    ck_assert_int_eq(l4_send_tagged(p.w.k, l4_root_thread(p.w.k), rogue_th, &m, &tag5, &sent),
                     PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 1);
    ck_assert_ptr_nonnull(strstr(r.last, "frame 5, which no longer names it"));
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 1);
    ck_assert_int_eq(l4_task_delete(p.w.k, rogue), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &r), 0);
}
END_TEST

/* ---- the suite ------------------------------------------------------------ */

/* SPEC §3.9 kill: the dying task's containers go (shares of them EBADF),
 * logical copies others took survive with their bytes, its capabilities to
 * others' containers go with their mappings, its leases end, and physmem
 * forgets it (ESRCH). */
/* Soft references (SPEC §5.3): a soft-deallocated frame leaves A and its
 * mappings but keeps its data until physmem needs the physical frame;
 * reclaim brings it back, or says ESTALE once the frame was taken. */
START_TEST(test_soft_references)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 4, 0);
    OK(map_rw(0, c, 0, 4, VA_A));
    fill(0, VA_A, 4, 0x31);
    cnt = 2;
    OK(pm_container_deallocate(p.pm, T(0), c, 1, &cnt, CONT_DEALLOC_SOFT));
    ck_assert_uint_eq(cnt, 2);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(0).allocated, 2);
    expect_unmapped(0, VA_A + PG, 2);
    struct pm_frame_info fi;
    FAILS(PM_ENOENT, pm_frame_info(p.pm, T(0), c, 1, &fi));
    FAILS(PM_ENOENT, map_rw(0, c, 0, 4, VA_A));                  /* a soft reference is no frame */
    FAILS(PM_ENOENT, pm_container_reclaim(p.pm, T(0), c, 0, 2)); /* frame 0 is a frame */
    container_t w = share(0, c, 1);
    FAILS(PM_EPERM, pm_container_reclaim(p.pm, T(1), w, 1, 2));
    FAILS(PM_EINVAL, pm_container_reclaim(p.pm, T(0), c, 1, 0));
    OK(pm_container_reclaim(p.pm, T(0), c, 1, 2));
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(0).allocated, 4);
    OK(map_rw(0, c, 0, 4, VA_A));
    expect_fill(0, VA_A, 4, 0x31); /* the data came back with them */
    ck_assert_uint_eq(stats().soft_made, 2);
    ck_assert_uint_eq(stats().soft_reclaimed, 2);
    ck_assert_uint_eq(stats().soft_lost, 0);
    /* Allocating over a soft reference replaces it. */
    cnt = 1;
    OK(pm_container_deallocate(p.pm, T(0), c, 3, &cnt, CONT_DEALLOC_SOFT));
    alloc_ok(0, c, 3, 1, 0);
    OK(map_rw(0, c, 3, 1, VA_B));
    expect_zero(0, VA_B, 1);
    FAILS(PM_ENOENT, pm_container_reclaim(p.pm, T(0), c, 3, 1));
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* When the pool runs dry, physmem takes back frames only soft references
 * hold (oldest first), and their reclaim is ESTALE; a reclaim past G is
 * ENOMEM. */
START_TEST(test_soft_references_lost)
{
    struct pmworld q;
    pmworld_init(&q, 8, 0, 2);
    container_t c, d;
    ck_assert_int_eq(pm_container_create(q.pm, q.task[0], &c), PM_OK);
    uint32_t n = 8;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[0], c, 0, &n, 0), PM_OK);
    n = 8;
    ck_assert_int_eq(pm_container_map(q.pm, q.task[0], c, 0, &n, RW, VA_A), PM_OK);
    unsigned char page[PG];
    memset(page, 0x44, PG);
    for (unsigned i = 0; i < 8; i++)
        ck_assert_int_eq(pm_rw(&q, 0, L4_ACCESS_WRITE, VA_A + i * PG, page, PG), PM_OK);
    n = 3;
    ck_assert_int_eq(pm_container_deallocate(q.pm, q.task[0], c, 0, &n, CONT_DEALLOC_SOFT), PM_OK);
    /* The pool is full (8 bound); 3 new frames fit in A, and mapping them
     * takes the 3 soft-held frames back. */
    ck_assert_int_eq(pm_container_create(q.pm, q.task[1], &d), PM_OK);
    n = 3;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[1], d, 0, &n, 0), PM_OK);
    n = 3;
    ck_assert_int_eq(pm_container_map(q.pm, q.task[1], d, 0, &n, RW, VA_B), PM_OK);
    ck_assert_uint_eq(n, 3);
    unsigned char back[PG];
    ck_assert_int_eq(pm_rw(&q, 1, L4_ACCESS_READ, VA_B, back, PG), PM_OK);
    ck_assert(bytes_all(back, PG, 0)); /* zero-filled: the old bytes did not leak */
    PM_CHECK_INVARIANTS(&q);
    struct pm_stats st;
    pm_stats(q.pm, &st);
    ck_assert_uint_eq(st.soft_lost, 3);
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], c, 0, 1), PM_ESTALE);
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], c, 2, 2), PM_ESTALE); /* 2 first */
    /* The frames no soft reference held are intact. */
    ck_assert_int_eq(pm_rw(&q, 0, L4_ACCESS_READ, VA_A + 5 * PG, back, PG), PM_OK);
    ck_assert(bytes_all(back, PG, 0x44));
    /* Nothing left to take: a map that needs a frame is ENOMEM?  No frame
     * is unbound, so instead: past G a reclaim is ENOMEM. */
    ck_assert_int_eq(pm_task_set_guarantee(q.pm, q.task[0], 5, false), PM_OK);
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(q.pm, q.task[0], c, 7, &n, CONT_DEALLOC_SOFT), PM_OK);
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], c, 7, 1), PM_OK); /* A 5 = G */
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(q.pm, q.task[0], c, 7, &n, CONT_DEALLOC_SOFT), PM_OK);
    n = 1;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[0], c, 0, &n, 0), PM_OK); /* over stale */
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], c, 7, 1), PM_ENOMEM);
    PM_CHECK_INVARIANTS(&q);
    pmworld_fini(&q);
}
END_TEST

/* A physical frame that several logical copies hold is taken back only
 * when every one of them is a soft reference: then all go stale at once. */
START_TEST(test_soft_references_shared_frame)
{
    struct pmworld q;
    pmworld_init(&q, 4, 0, 2);
    container_t c, d, e;
    ck_assert_int_eq(pm_container_create(q.pm, q.task[0], &c), PM_OK);
    ck_assert_int_eq(pm_container_create(q.pm, q.task[0], &d), PM_OK);
    uint32_t n = 2;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[0], c, 0, &n, 0), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_map(q.pm, q.task[0], c, 0, &n, RW, VA_A), PM_OK);
    unsigned char page[PG], back[PG];
    memset(page, 0x3C, PG);
    ck_assert_int_eq(pm_rw(&q, 0, L4_ACCESS_WRITE, VA_A, page, PG), PM_OK);
    n = 1;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[0], d, 0, &n, 0), PM_OK);
    ck_assert_int_eq(pm_container_copy(q.pm, q.task[0], c, 0, d, 0, 1, 0, NULL), PM_OK);
    /* Both copies soft; one live frame (c 1) and one unbound (e) to come. */
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(q.pm, q.task[0], c, 0, &n, CONT_DEALLOC_SOFT), PM_OK);
    ck_assert_int_eq(pm_container_create(q.pm, q.task[1], &e), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[1], e, 0, &n, 0), PM_OK);
    n = 2;
    ck_assert_int_eq(pm_container_map(q.pm, q.task[1], e, 0, &n, RW, VA_B), PM_OK);
    /* The pool (4) is full: the shared frame, held by d's live copy too,
     * was not taken. */
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(q.pm, q.task[0], d, 0, &fi), PM_OK);
    ck_assert(fi.bound);
    struct pm_stats st;
    pm_stats(q.pm, &st);
    ck_assert_uint_eq(st.soft_lost, 0);
    ck_assert_int_eq(pm_rw(&q, 0, L4_ACCESS_READ, VA_A, back, PG), PM_EFAULT); /* soft: unmapped */
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(q.pm, q.task[0], d, 0, &n, CONT_DEALLOC_SOFT), PM_OK);
    n = 1;
    ck_assert_int_eq(pm_container_allocate(q.pm, q.task[1], e, 2, &n, 0), PM_OK);
    n = 1;
    ck_assert_int_eq(pm_container_map(q.pm, q.task[1], e, 2, &n, RW, VA_B + 2 * PG), PM_OK);
    ck_assert_int_eq(pm_rw(&q, 1, L4_ACCESS_READ, VA_B + 2 * PG, back, PG), PM_OK);
    ck_assert(bytes_all(back, PG, 0));
    pm_stats(q.pm, &st);
    ck_assert_uint_eq(st.soft_lost, 2);
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], c, 0, 1), PM_ESTALE);
    ck_assert_int_eq(pm_container_reclaim(q.pm, q.task[0], d, 0, 1), PM_ESTALE);
    PM_CHECK_INVARIANTS(&q);
    pmworld_fini(&q);
}
END_TEST

/* A task that holds only weak capabilities is not blocked by another's
 * lease; the owner cannot get round the lease through a share to itself. */
START_TEST(test_lease_self_share)
{
    lease_world();
    OK(pm_container_lock(p.pm, T(1), W1, 1000000));
    OK(map_rw(3, W3, 0, 1, VA_D)); /* task 3 holds only W3 */
    expect_fill(3, VA_D, 1, 0x50);
    container_t self = share(0, C, 0);
    FAILS(PM_EBUSY, map_rw(0, self, 0, 1, VA_E));
    FAILS(PM_EBUSY, release1(0, self, 1));
    FAILS(PM_EBUSY, copy(0, self, 1, D, 0, 1));
    frame_t fe = 77;
    FAILS(PM_EBUSY, pm_container_copy(p.pm, T(0), self, 1, D, 0, 1, CONT_COPY_MOVE, &fe));
    ck_assert_uint_eq(fe, 77);
    OK(pm_container_unlock(p.pm, T(1), W1));
    OK(map_rw(0, self, 0, 1, VA_E));
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

START_TEST(test_task_remove)
{
    container_t c = create(0);
    alloc_ok(0, c, 0, 2, 0);
    OK(map_rw(0, c, 0, 2, 0x100000));
    fill(0, 0x100000, 2, 7);
    container_t w = share(0, c, 1);
    container_t d = create(1);
    alloc_ok(1, d, 0, 2, 0);
    OK(copy(1, w, 0, d, 0, 2));
    OK(map_flags(1, d, 0, 2, CONT_MAP_READ, 0x200000));
    OK(map_rw(1, w, 0, 1, 0x300000));
    container_t e = create(2);
    alloc_ok(2, e, 0, 1, 0);
    OK(map_rw(2, e, 0, 1, 0x400000));
    container_t x = share(2, e, 0);
    OK(map_rw(0, x, 0, 1, 0x500000));
    OK(pm_container_lock(p.pm, T(0), x, 1000000));
    FAILS(PM_EBUSY, dealloc(2, e, 0, 1, 0));
    PM_CHECK_INVARIANTS(&p);

    OK(pm_task_remove(p.pm, T(0)));
    PM_CHECK_INVARIANTS(&p);
    expect_fill(1, 0x200000, 2, 7);  /* b's copy survives */
    expect_unmapped(1, 0x300000, 1); /* its mapping through the share went */
    FAILS(PM_EBADF, map_rw(1, w, 0, 1, 0x300000));
    ck_assert_int_eq(l4_lookup(p.w.k, T(0), 0x500000, NULL, NULL), PM_ENOENT);
    expect_task(2, 0, 1, false, 1, 1); /* c's share to a went */
    OK(dealloc(2, e, 0, 1, 0));        /* a's lease ended */
    container_t z;
    FAILS(PM_ESRCH, pm_container_create(p.pm, T(0), &z));
    FAILS(PM_ESRCH, pm_task_info(p.pm, T(0), &(struct pm_task_info){0}));
    FAILS(PM_ESRCH, pm_task_remove(p.pm, T(0)));
    FAILS(PM_ESRCH, pm_container_share(p.pm, T(2), e, T(0), &z));
    ck_assert_uint_eq(tinfo(1).allocated, 2);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("physmem");
    struct {
        const char *name;
        const TTest *test;
        int loops; /* 0: a plain test */
    } cases[] = {
        {"task_add", test_task_add, 0},
        {"unknown_caller", test_unknown_caller, N_UNKNOWN},
        {"create", test_create, 0},
        {"destroy", test_destroy, 0},
        {"destroy_by_given", test_destroy_by_given, 0},
        {"task_remove", test_task_remove, 0},
        {"lease_self_share", test_lease_self_share, 0},
        {"soft_references", test_soft_references, 0},
        {"soft_references_lost", test_soft_references_lost, 0},
        {"soft_references_shared_frame", test_soft_references_shared_frame, 0},
        {"bad_handle", test_bad_handle, N_BAD_HANDLES},
        {"share", test_share, 0},
        {"weak_owner_only", test_weak_owner_only, 0},
        {"revoke", test_revoke, 0},
        {"revoke_not_a_share", test_revoke_not_a_share, N_REVOKE_BAD},
        {"give", test_give, 0},
        {"give_against_owner_guarantee", test_give_against_owner_guarantee, 0},
        {"alloc_shortfall", test_alloc_shortfall, (int)(sizeof shortfall / sizeof shortfall[0])},
        {"alloc_16_8_4", test_alloc_16_8_4, 0},
        {"alloc_eexist", test_alloc_eexist, 0},
        {"alloc_squash", test_alloc_squash, 0},
        {"alloc_squash_at_guarantee", test_alloc_squash_at_guarantee, 0},
        {"alloc_extra", test_alloc_extra, 0},
        {"alloc_first_come", test_alloc_first_come, 0},
        {"alloc_dma", test_alloc_dma, 0},
        {"alloc_args", test_alloc_args, (int)(sizeof alloc_args / sizeof alloc_args[0])},
        {"alloc_precedence", test_alloc_precedence,
         (int)(sizeof alloc_prec / sizeof alloc_prec[0])},
        {"alloc_count_on_error", test_alloc_count_on_error, N_COUNT_ERR},
        {"dealloc_partial", test_dealloc_partial, 0},
        {"dealloc_squash", test_dealloc_squash, 0},
        {"dealloc_enoent", test_dealloc_enoent, 0},
        {"dealloc_split", test_dealloc_split, 0},
        {"dealloc_einval", test_dealloc_einval,
         (int)(sizeof dealloc_einval / sizeof dealloc_einval[0])},
        {"dealloc_precedence", test_dealloc_precedence,
         (int)(sizeof dealloc_prec / sizeof dealloc_prec[0])},
        {"lease_blocks_owner", test_lease_blocks_owner, 0},
        {"lease_allows", test_lease_allows, 0},
        {"lease_relock_unlock", test_lease_relock_unlock, 0},
        {"lease_expires", test_lease_expires, 0},
        {"lease_args", test_lease_args, 0},
        {"lease_owner_locks", test_lease_owner_locks, 0},
        {"task_info", test_task_info, 0},
        {"check_healthy", test_check_healthy, 0},
        {"check_overcommit", test_check_overcommit, 0},
        {"check_rogue_mapping", test_check_rogue_mapping, 0},
        {"check_stale_tag", test_check_stale_tag, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        if (cases[i].loops > 0)
            tcase_add_loop_test(tc, cases[i].test, 0, cases[i].loops);
        else
            tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

PMSIM_TEST_MAIN
