/* test-isolation.c — isolation (issue 9): a task never reads or changes a
 * container it holds no capability for (SPEC §3.1, §3.8, §3.9, §12).
 *
 * The world: three victim tasks and an attacker.  The victims own
 * containers full of known bytes: frames marked secret (every 16 bytes say
 * "SECRET" and which frame) in the containers the attacker never gets a
 * capability to, and public ones in the two it does get: a weak share of
 * V1's C1 (whose first frames V2 holds logical copies of, copy-on-write)
 * and a full capability V2 gave it to C2G.  There are also a share that V1
 * revoked and one whose container V1 destroyed, a full capability to a
 * container V2 destroyed since (stale handles), victims' shares among
 * themselves (a real share group across V2 and V3), soft references, swap
 * identifiers of V3's and a lease V3 holds on V2's container.
 *
 * The attacker (a seeded generator; several seeds of thousands of calls,
 * then a sweep of every handle value in a range through every call) calls
 * every physmem call on handle values of every kind: every (slot,
 * generation) pair just past what was ever handed out, small and huge raw
 * values, 0, the victims' own handles, its own live and just-stale ones,
 * swap identifiers in a range, with random frames, counts, flags, tasks
 * and addresses (valid mostly, malformed sometimes), owner-only calls on
 * the share it holds included, and loads and stores in its mappings.
 * After every call:
 *  - a call on a handle it holds no capability for fails with EBADF (or,
 *    with malformed arguments or an unknown task, EINVAL or ESRCH, which
 *    come first: SPEC §3.9), never with an error that would tell it
 *    something of the container; the inspection calls leave their
 *    out-parameters untouched; an owner-only call on its weak share is
 *    EPERM (EBADF for a revoke naming no share of it);
 *  - every victim container it cannot reach is as it was: its info, each
 *    frame's info (copy-on-write flags aside where a physical frame is
 *    shared with a container it can reach) and each frame's bytes, read
 *    from the pool; the victims' capabilities still see what they saw;
 *    a bystander victim's accounting has not moved; after a failed call
 *    (but for the PARTIAL and copy calls that report partial work) the
 *    containers it can reach have not changed either;
 *  - the invariants hold (pm_check).
 * Every 64 calls and at the end, everything the attacker can read — every
 * page of its mapping window and every frame of every container it holds,
 * mapped and loaded — holds no secret byte pattern.  At the end the victim
 * swaps its identifiers back in and finds its bytes.
 *
 * The control capability gets the same treatment in a world of its own:
 * get_control is EPERM, and no handle value works as the control
 * capability but the holder's.
 *
 * Well-formed huge ranges (identifiers 0 … 2^32 − 2) on the attacker's own
 * containers must answer at once (test_huge_ranges: physmem used to walk
 * some of them identifier by identifier, for minutes).
 * PMSIM_ISOLATION_SEED=N runs seed N only, PMSIM_ISOLATION_TRACE=1 prints
 * every call before it is made. */
#include <glib.h>
#include <time.h>

#include "../harness.h"

#define PG 4096u
#define NV 3u       /* victims: tasks 0 … NV − 1 */
#define ATT NV      /* the attacker */
#define NOTASK 4242 /* a task id nobody has */

#define MAP_BASE 0x40000000ull /* the attacker's mapping window */
#define MAP_PAGES 64u
#define SCAN_BASE 0x50000000ull /* where a scan maps what it reads */
#define V_VA 0x100000ull        /* where victims map their containers */

static struct pmworld p;
static GRand *rnd;

/* ---- victim containers and their snapshot --------------------------------- */

struct vframe {
    frame_t f;
    bool readable; /* its owner could read it through its mapping after the setup */
    struct pm_frame_info fi;
    unsigned char bytes[PG];
};

struct vcont {
    const char *name;
    unsigned owner; /* victim index */
    container_t vh; /* the owner's handle */
    uint32_t id;
    bool reachable; /* the attacker holds a capability to it */
    bool ever;      /* it did at some time */
    bool gone;      /* destroyed (by the attacker, through its capability) */
    uint64_t va;    /* where its owner mapped it */
    struct pm_container_info ci;
    GArray *frames; /* struct vframe */
};

#define MAX_VC 16
static struct vcont vc[MAX_VC];
static unsigned nvc;

/* Victims' capabilities (handle, holder) to victim containers, with what
 * they saw. */
struct vcap {
    unsigned holder;
    container_t h;
    struct pm_container_info ci;
};
static GArray *vcaps;

/* Physical frames shared, at the start, with a frame the attacker can
 * reach: their other frames' copy-on-write flag may change. */
static GHashTable *shared_pfns;

/* V3, who holds no capability the attacker reaches: its accounting. */
static struct pm_task_info bystander;

/* V3's swap identifiers and what they hold. */
static pm_swap_id_t vswap[2];
static unsigned char vswap_bytes[2][PG];

/* Field by field: the structures have padding. */
static bool ci_equal(const struct pm_container_info *a, const struct pm_container_info *b)
{
    return a->owner == b->owner && a->weak == b->weak && a->frames == b->frames &&
           a->soft == b->soft && a->locked == b->locked && a->id == b->id;
}

static bool ti_equal(const struct pm_task_info *a, const struct pm_task_info *b)
{
    return a->guaranteed == b->guaranteed && a->allocated == b->allocated && a->extra == b->extra &&
           a->extra_eligible == b->extra_eligible && a->containers == b->containers &&
           a->swap_ids == b->swap_ids && a->swap_quota == b->swap_quota && a->owed == b->owed &&
           a->exiles == b->exiles;
}

static const unsigned char *frame_bytes(const struct pm_frame_info *fi)
{
    static const unsigned char zero[PG];
    return fi->bound ? pm_pool_frame(p.w.pool, fi->pfn) : zero;
}

/* Read container V as its owner sees it into V->ci and V->frames. */
static void vc_read(struct vcont *v, struct pm_container_info *ci, GArray *frames)
{
    g_array_set_size(frames, 0);
    CHECK_EQ(pm_container_info(p.pm, p.task[v->owner], v->vh, ci), PM_OK);
    frame_t f;
    for (uint64_t from = 0; from <= UINT32_MAX && pm_container_next(p.pm, p.task[v->owner], v->vh,
                                                                    (frame_t)from, &f) == PM_OK;
         from = (uint64_t)f + 1) {
        struct vframe x = {.f = f};
        CHECK_EQ(pm_frame_info(p.pm, p.task[v->owner], v->vh, f, &x.fi), PM_OK);
        memcpy(x.bytes, frame_bytes(&x.fi), PG);
        g_array_append_val(frames, x);
    }
}

static struct vcont *vc_add(const char *name, unsigned owner, container_t h, uint64_t va)
{
    ck_assert_uint_lt(nvc, MAX_VC);
    struct vcont *v = &vc[nvc++];
    *v = (struct vcont){.name = name, .owner = owner, .vh = h, .va = va};
    v->frames = g_array_new(FALSE, FALSE, sizeof(struct vframe));
    vc_read(v, &v->ci, v->frames);
    v->id = v->ci.id;
    static unsigned char page[PG];
    for (guint j = 0; j < v->frames->len; j++) {
        struct vframe *x = &g_array_index(v->frames, struct vframe, j);
        x->readable = pm_rw(&p, owner, L4_ACCESS_READ, va + (uint64_t)x->f * PG, page, PG) == PM_OK;
    }
    return v;
}

/* Compare what V is now with its snapshot; a difference fails the test,
 * naming WHAT the attacker just did. */
static void vc_compare(struct vcont *v, const char *what)
{
    struct pm_container_info ci;
    GArray *now = g_array_new(FALSE, FALSE, sizeof(struct vframe));
    vc_read(v, &ci, now);
    if (!ci_equal(&ci, &v->ci))
        ck_abort_msg("%s changed %s: frames %llu→%llu soft %llu→%llu locked %d→%d", what, v->name,
                     (unsigned long long)v->ci.frames, (unsigned long long)ci.frames,
                     (unsigned long long)v->ci.soft, (unsigned long long)ci.soft, v->ci.locked,
                     ci.locked);
    if (now->len != v->frames->len)
        ck_abort_msg("%s changed the frames of %s (%u, were %u)", what, v->name, now->len,
                     v->frames->len);
    for (guint i = 0; i < now->len; i++) {
        const struct vframe *a = &g_array_index(v->frames, struct vframe, i);
        const struct vframe *b = &g_array_index(now, struct vframe, i);
        bool cow_may_change =
            !v->reachable && g_hash_table_contains(shared_pfns, GUINT_TO_POINTER(a->fi.pfn.n + 1));
        if (a->f != b->f || a->fi.bound != b->fi.bound || a->fi.pfn.n != b->fi.pfn.n ||
            a->fi.group_size != b->fi.group_size || (!cow_may_change && a->fi.cow != b->fi.cow))
            ck_abort_msg("%s changed frame %u of %s: bound %d→%d pfn %u→%u cow %d→%d group %u→%u",
                         what, a->f, v->name, a->fi.bound, b->fi.bound, a->fi.pfn.n, b->fi.pfn.n,
                         a->fi.cow, b->fi.cow, a->fi.group_size, b->fi.group_size);
        if (memcmp(a->bytes, b->bytes, PG) != 0)
            ck_abort_msg("%s changed the bytes of frame %u of %s", what, a->f, v->name);
    }
    g_array_free(now, TRUE);
}

/* ---- the attacker's capabilities, as the test knows them ---------------------- */

struct held {
    container_t h;
    uint32_t id;
    bool weak;
};
static GArray *held;     /* live: struct held */
static GArray *stale;    /* once held, dead now: container_t */
static GArray *foreign;  /* victims' handles, and others' handles to its containers */
static GArray *own_swap; /* its swap identifiers */
static uint64_t max_slot, max_gen, max_swap;
static container_t w1; /* its weak share of V1's C1 */

/* What the calls got: without a capability (EBADF, or EINVAL/ESRCH
 * first), owner-only through the weak share (EPERM), with capabilities
 * (succeeded, failed). */
static uint64_t n_foreign, n_ebadf, n_eperm, n_held_ok, n_held_err, n_victim_reads;

static bool trace;                        /* $PMSIM_ISOLATION_TRACE: every call on stderr */
static const char *current = "the setup"; /* the call being made (for messages) */

static void note_handle(container_t h)
{
    if ((h >> 32) > max_slot)
        max_slot = h >> 32;
    if ((uint32_t)h > max_gen)
        max_gen = (uint32_t)h;
}

static const struct held *held_find(container_t h)
{
    for (guint i = 0; i < held->len; i++)
        if (g_array_index(held, struct held, i).h == h)
            return &g_array_index(held, struct held, i);
    return NULL;
}

/* A handle physmem just gave the attacker. */
static void acquire(container_t h)
{
    struct pm_container_info ci;
    pm_error_t err = pm_container_info(p.pm, p.task[ATT], h, &ci);
    if (err != PM_OK)
        ck_abort_msg("a handle %#llx just given to the attacker by %s: %s", (unsigned long long)h,
                     current, pm_strerror(err));
    CHECK(held_find(h) == NULL);
    struct held x = {h, ci.id, ci.weak};
    g_array_append_val(held, x);
    note_handle(h);
}

/* Every handle the attacker holds to container ID dies (destroyed). */
static void drop_container(uint32_t id)
{
    for (guint i = held->len; i-- > 0;)
        if (g_array_index(held, struct held, i).id == id) {
            g_array_append_val(stale, g_array_index(held, struct held, i).h);
            g_array_remove_index(held, i);
        }
    for (unsigned i = 0; i < nvc; i++)
        if (vc[i].id == id)
            vc[i].gone = true;
}

static void drop_handle(container_t h)
{
    for (guint i = held->len; i-- > 0;)
        if (g_array_index(held, struct held, i).h == h) {
            g_array_append_val(stale, h);
            g_array_remove_index(held, i);
        }
}

/* Which victim containers the attacker reaches now. */
static void update_reachable(void)
{
    for (unsigned i = 0; i < nvc; i++) {
        vc[i].reachable = false;
        for (guint j = 0; j < held->len; j++)
            vc[i].reachable |= g_array_index(held, struct held, j).id == vc[i].id;
        vc[i].ever |= vc[i].reachable;
    }
}

/* ---- the world ---------------------------------------------------------------- */

/* Fill frames [START, START + N) of C (mapped by task T at VA + START × PG)
 * with secret or public bytes naming TAG and the frame. */
static void fill(unsigned t, uint64_t va, frame_t start, uint32_t n, unsigned tag, bool secret)
{
    static unsigned char page[PG];
    for (frame_t f = start; f < start + n; f++) {
        for (unsigned o = 0; o < PG; o += 16) {
            memcpy(page + o, secret ? "SECRET" : "public", 6);
            page[o + 6] = (unsigned char)tag;
            page[o + 7] = (unsigned char)t;
            memcpy(page + o + 8, &f, 4);
            memcpy(page + o + 12, &o, 4);
        }
        CHECK_EQ(pm_rw(&p, t, L4_ACCESS_WRITE, va + (uint64_t)f * PG, page, PG), PM_OK);
    }
}

/* A container of task T with N frames mapped read-write at VA. */
static container_t vmake(unsigned t, uint32_t n, uint64_t va)
{
    container_t c;
    CHECK_EQ(pm_container_create(p.pm, p.task[t], &c), PM_OK);
    uint32_t k = n;
    CHECK_EQ(pm_container_allocate(p.pm, p.task[t], c, 0, &k, 0), PM_OK);
    k = n;
    CHECK_EQ(pm_container_map(p.pm, p.task[t], c, 0, &k, CONT_MAP_READ | CONT_MAP_WRITE, va),
             PM_OK);
    CHECK_EQ(k, n);
    return c;
}

static void vcap_add(unsigned holder, container_t h)
{
    struct vcap x = {.holder = holder, .h = h};
    CHECK_EQ(pm_container_info(p.pm, p.task[holder], h, &x.ci), PM_OK);
    g_array_append_val(vcaps, x);
    g_array_append_val(foreign, h);
    note_handle(h);
}

static void world_setup(void)
{
    pmworld_init_swap(&p, 512, NV + 1, 64, NULL);
    for (unsigned i = 0; i <= NV; i++)
        CHECK_EQ(pm_task_set_guarantee(p.pm, p.task[i], 64, false), PM_OK);
    held = g_array_new(FALSE, FALSE, sizeof(struct held));
    stale = g_array_new(FALSE, FALSE, sizeof(container_t));
    foreign = g_array_new(FALSE, FALSE, sizeof(container_t));
    own_swap = g_array_new(FALSE, FALSE, sizeof(pm_swap_id_t));
    vcaps = g_array_new(FALSE, FALSE, sizeof(struct vcap));
    shared_pfns = g_hash_table_new(g_direct_hash, g_direct_equal);
    nvc = 0;
    max_slot = max_gen = max_swap = 0;
    n_foreign = n_ebadf = n_eperm = n_held_ok = n_held_err = n_victim_reads = 0;
    const l4_task_t *T = p.task;
    uint32_t k;
    frame_t fe;
    container_t h, w;

    /* V1: C1 (public, shared with the attacker), C1R (shared, revoked,
     * then secret), C1D (shared, then destroyed), C1V (shared with V2). */
    container_t c1 = vmake(0, 8, V_VA);
    fill(0, V_VA, 0, 8, 1, false);
    CHECK_EQ(pm_container_share(p.pm, T[0], c1, T[ATT], &h), PM_OK);
    acquire(h);
    w1 = h;
    container_t c1r = vmake(0, 4, V_VA + 0x100000);
    CHECK_EQ(pm_container_share(p.pm, T[0], c1r, T[ATT], &h), PM_OK);
    acquire(h);
    CHECK_EQ(pm_container_revoke(p.pm, T[0], c1r, h), PM_OK);
    drop_handle(h);
    fill(0, V_VA + 0x100000, 0, 4, 2, true);
    container_t c1d = vmake(0, 2, V_VA + 0x200000);
    CHECK_EQ(pm_container_share(p.pm, T[0], c1d, T[ATT], &h), PM_OK);
    acquire(h);
    struct pm_container_info ci;
    CHECK_EQ(pm_container_info(p.pm, T[0], c1d, &ci), PM_OK);
    CHECK_EQ(pm_container_destroy(p.pm, T[0], c1d), PM_OK);
    drop_container(ci.id);
    container_t c1v = vmake(0, 4, V_VA + 0x300000);
    fill(0, V_VA + 0x300000, 0, 4, 3, true);
    CHECK_EQ(pm_container_share(p.pm, T[0], c1v, T[1], &w), PM_OK);
    vcap_add(1, w);
    container_t x1; /* V2's share of C1 */
    CHECK_EQ(pm_container_share(p.pm, T[0], c1, T[1], &x1), PM_OK);
    g_array_append_val(foreign, x1);

    /* V2: C2 (frames 0-3 logical copies of C1's, 4-11 secret, 8-9 then
     * soft references), C2G (public, given to the attacker), C2X (given,
     * then destroyed). */
    container_t c2 = vmake(1, 12, V_VA);
    fill(1, V_VA, 4, 8, 4, true);
    CHECK_EQ(pm_container_copy(p.pm, T[1], x1, 0, c2, 0, 4, 0, &fe), PM_OK);
    k = 2;
    CHECK_EQ(pm_container_deallocate(p.pm, T[1], c2, 8, &k, CONT_DEALLOC_SOFT), PM_OK);
    container_t c2g = vmake(1, 4, V_VA + 0x100000);
    fill(1, V_VA + 0x100000, 0, 4, 5, false);
    CHECK_EQ(pm_container_give(p.pm, T[1], c2g, T[ATT], &h), PM_OK);
    acquire(h);
    container_t c2x = vmake(1, 2, V_VA + 0x200000);
    fill(1, V_VA + 0x200000, 0, 2, 6, true);
    CHECK_EQ(pm_container_give(p.pm, T[1], c2x, T[ATT], &h), PM_OK);
    acquire(h);
    CHECK_EQ(pm_container_info(p.pm, T[1], c2x, &ci), PM_OK);
    CHECK_EQ(pm_container_destroy(p.pm, T[1], c2x), PM_OK);
    drop_container(ci.id);
    container_t y; /* V3's share of C2 */
    CHECK_EQ(pm_container_share(p.pm, T[1], c2, T[2], &y), PM_OK);
    vcap_add(2, y);

    /* V3: C3 (secret; frames 0-1 in one share group with C2's 10-11;
     * frames 6-7 swapped out), and a lease on C2 through its share. */
    container_t c3 = vmake(2, 8, V_VA);
    fill(2, V_VA, 2, 6, 7, true);
    frame_t src[2] = {10, 11};
    CHECK_EQ(pm_container_copy_gather(p.pm, T[2], y, src, c3, 0, 2, CONT_COPY_SHARED, &fe), PM_OK);
    for (unsigned i = 0; i < 2; i++) {
        struct pm_frame_info fi;
        CHECK_EQ(pm_frame_info(p.pm, T[2], c3, 6 + i, &fi), PM_OK);
        memcpy(vswap_bytes[i], frame_bytes(&fi), PG);
    }
    CHECK_EQ(pm_swap(p.pm, T[2], c3, 6, 2, vswap), PM_OK);
    max_swap = vswap[1];
    CHECK_EQ(pm_container_lock(p.pm, T[2], y, 1000000000000ull), PM_OK);

    /* The attacker: a container of its own, shared with V1. */
    CHECK_EQ(pm_container_create(p.pm, T[ATT], &h), PM_OK);
    acquire(h);
    k = 4;
    CHECK_EQ(pm_container_allocate(p.pm, T[ATT], h, 0, &k, 0), PM_OK);
    CHECK_EQ(pm_container_share(p.pm, T[ATT], h, T[0], &w), PM_OK);
    g_array_append_val(foreign, w);
    note_handle(w);

    g_array_append_val(foreign, c1);
    g_array_append_val(foreign, c1r);
    g_array_append_val(foreign, c1d);
    g_array_append_val(foreign, c1v);
    g_array_append_val(foreign, c2);
    g_array_append_val(foreign, c2g);
    g_array_append_val(foreign, c2x);
    g_array_append_val(foreign, c3);
    vc_add("V1.C1", 0, c1, V_VA);
    vc_add("V1.C1R", 0, c1r, V_VA + 0x100000);
    vc_add("V1.C1V", 0, c1v, V_VA + 0x300000);
    vc_add("V2.C2", 1, c2, V_VA);
    vc_add("V2.C2G", 1, c2g, V_VA + 0x100000);
    vc_add("V3.C3", 2, c3, V_VA);
    for (unsigned i = 0; i < nvc; i++)
        note_handle(vc[i].vh);
    note_handle(x1);
    update_reachable();
    for (unsigned i = 0; i < nvc; i++)
        for (guint j = 0; vc[i].reachable && j < vc[i].frames->len; j++) {
            const struct vframe *x = &g_array_index(vc[i].frames, struct vframe, j);
            if (x->fi.bound)
                g_hash_table_add(shared_pfns, GUINT_TO_POINTER(x->fi.pfn.n + 1));
        }
    for (guint i = 0; i < vcaps->len; i++) { /* as the setup left them */
        struct vcap *x = &g_array_index(vcaps, struct vcap, i);
        CHECK_EQ(pm_container_info(p.pm, T[x->holder], x->h, &x->ci), PM_OK);
    }
    CHECK_EQ(pm_task_info(p.pm, T[2], &bystander), PM_OK);
    PM_CHECK_INVARIANTS(&p);
}

static void world_teardown(void)
{
    for (unsigned i = 0; i < nvc; i++)
        g_array_free(vc[i].frames, TRUE);
    g_array_free(held, TRUE);
    g_array_free(stale, TRUE);
    g_array_free(foreign, TRUE);
    g_array_free(own_swap, TRUE);
    g_array_free(vcaps, TRUE);
    g_hash_table_destroy(shared_pfns);
    pmworld_fini(&p);
}

/* ---- checks after a call -------------------------------------------------------- */

/* The victims' side after the attacker's call WHAT, which failed or not
 * (STRICT: the containers it reaches must not have changed either). */
static void victims_intact(const char *what, bool strict)
{
    for (unsigned i = 0; i < nvc; i++) {
        struct vcont *v = &vc[i];
        if (v->gone)
            continue;
        if (!v->reachable || strict) {
            vc_compare(v, what);
        } else {
            /* Its legitimate changes become the new snapshot. */
            struct pm_container_info ci;
            if (pm_container_info(p.pm, p.task[v->owner], v->vh, &ci) != PM_OK) {
                v->gone = true;
                continue;
            }
            vc_read(v, &v->ci, v->frames);
        }
    }
    for (guint i = 0; i < vcaps->len; i++) {
        const struct vcap *x = &g_array_index(vcaps, struct vcap, i);
        struct pm_container_info ci;
        CHECK_EQ(pm_container_info(p.pm, p.task[x->holder], x->h, &ci), PM_OK);
        if (!ci_equal(&ci, &x->ci))
            ck_abort_msg("%s changed what a victim's capability sees", what);
    }
    struct pm_task_info ti;
    CHECK_EQ(pm_task_info(p.pm, p.task[2], &ti), PM_OK);
    if (!ti_equal(&ti, &bystander)) /* capabilities aside: others may share with it */
        ck_abort_msg("%s changed the bystander's accounting", what);
    PM_CHECK_INVARIANTS(&p);
}

static bool has_secret(const unsigned char *b, size_t len)
{
    return memmem(b, len, "SECRET", 6) != NULL;
}

/* Everything the attacker can read holds no secret. */
static void scan_readable(void)
{
    static unsigned char page[PG];
    for (unsigned i = 0; i < MAP_PAGES; i++)
        if (pm_rw(&p, ATT, L4_ACCESS_READ, MAP_BASE + (uint64_t)i * PG, page, PG) == PM_OK &&
            has_secret(page, PG))
            ck_abort_msg("the attacker reads a secret at page %u of its window", i);
    uint64_t va = SCAN_BASE;
    for (guint i = 0; i < held->len; i++) {
        const struct held *x = &g_array_index(held, struct held, i);
        frame_t f;
        for (uint64_t from = 0; from <= UINT32_MAX && pm_container_next(p.pm, p.task[ATT], x->h,
                                                                        (frame_t)from, &f) == PM_OK;
             from = (uint64_t)f + 1) {
            uint32_t one = 1;
            if (pm_container_map(p.pm, p.task[ATT], x->h, f, &one, CONT_MAP_READ, va) != PM_OK)
                continue;
            if (pm_rw(&p, ATT, L4_ACCESS_READ, va, page, PG) == PM_OK && has_secret(page, PG))
                ck_abort_msg("the attacker reads a secret in frame %u of a container it holds", f);
            va += PG;
        }
    }
    victims_intact("a scan", false); /* its maps bound frames it may reach */
}

/* ---- the attacker ------------------------------------------------------------------ */

enum aop {
    A_DESTROY,
    A_SHARE,
    A_REVOKE,
    A_GIVE,
    A_LOCK,
    A_UNLOCK,
    A_ALLOCATE,
    A_DEALLOCATE,
    A_RECLAIM,
    A_MAP,
    A_COPY,
    A_SCATTER,
    A_GATHER,
    A_SCATTER_GATHER,
    A_CREATE_FROM,
    A_CREATE_GATHER,
    A_RELEASE,
    A_FRAME_INFO,
    A_INFO,
    A_NEXT,
    A_SWAP,
    A_SWAP_RECOVER,
    A_SWAP_IN,
    A_SWAP_DISCARD,
    A_CONTROL_BUFFER,
    A_CONTROL_GIVE,
    /* Calls that take no handle. */
    A_CREATE,
    A_CREATE_WITH,
    A_READ,
    A_WRITE,
    A_NOPS
};

static const char *const aop_names[A_NOPS] = {
    "destroy",       "share",        "revoke",      "give",           "lock",
    "unlock",        "allocate",     "deallocate",  "reclaim",        "map",
    "copy",          "scatter",      "gather",      "scatter_gather", "create_from",
    "create_gather", "release_data", "frame_info",  "container_info", "container_next",
    "swap",          "swap_recover", "swap_in",     "swap_discard",   "get_policy_buffer",
    "control_give",  "create",       "create_with", "read",           "write"};

/* Owner-only calls (SPEC §3.9: EPERM through a weak capability). */
static bool owner_only(enum aop op)
{
    return op == A_DESTROY || op == A_SHARE || op == A_REVOKE || op == A_GIVE || op == A_ALLOCATE ||
           op == A_DEALLOCATE || op == A_RECLAIM || op == A_SWAP;
}

/* One call: its operation and arguments, and whether they are surely well
 * formed (then a foreign handle must be exactly EBADF). */
struct acall {
    enum aop op;
    container_t c, c2; /* the handle; the second (copy destination, revoke's ref) */
    pm_swap_id_t id;
    frame_t start, start2;
    uint32_t count;
    frame_t list[4], list2[4];
    unsigned flags;
    uint64_t vaddr, duration;
    l4_task_t remote;
    bool valid;
    bool skipped; /* the arguments make no call (a list longer than 4) */
    /* Decided before the call: it names a handle (or swap identifier) the
     * attacker holds no capability for; its handle is a weak one. */
    bool foreign, weak;
};

static uint32_t rint_(uint32_t n)
{
    return (uint32_t)g_rand_int_range(rnd, 0, (gint32)n);
}

/* A handle value of some kind. */
static container_t pick_handle(void)
{
    uint32_t k = rint_(20);
    if (k < 6) /* the (slot, generation) range */
        return ((container_t)(rint_((uint32_t)max_slot + 3))) << 32 | rint_((uint32_t)max_gen + 4);
    if (k < 8) /* a victim's */
        return g_array_index(foreign, container_t, rint_(foreign->len));
    if (k < 11 && held_find(w1) != NULL) /* the weak share of C1 */
        return w1;
    if (k < 14 && held->len > 0) { /* its own, the ones it had from the start most */
        guint n = rint_(2) ? held->len : (held->len < 4 ? held->len : 4);
        return g_array_index(held, struct held, rint_(n)).h;
    }
    if (k < 16 && stale->len > 0) /* a stale one, most likely the newest */
        return g_array_index(stale, container_t, rint_(2) ? stale->len - 1 : rint_(stale->len));
    if (k < 17) { /* a live one of its own, with another slot or generation */
        container_t h = held->len > 0 ? g_array_index(held, struct held, rint_(held->len)).h : 1;
        return rint_(2) ? h + 1 : h + ((container_t)1 << 32);
    }
    if (k < 19)
        return (container_t[]){0,
                               1,
                               UINT64_MAX,
                               UINT64_MAX >> 1,
                               (container_t)1 << 63,
                               0xffffffffull,
                               (container_t)UINT32_MAX << 32}[rint_(7)];
    container_t h = g_rand_int(rnd);
    return h << 32 | g_rand_int(rnd);
}

/* A task to share or give with: a real one mostly (an unknown one is
 * ESRCH, which comes before EBADF). */
static l4_task_t pick_task(void)
{
    if (rint_(6) == 0)
        return (l4_task_t[]){NOTASK, L4_NILTASK, L4_ROOT_TASK}[rint_(3)];
    return p.task[rint_(NV + 1)];
}

static void pick_call(struct acall *a)
{
    memset(a, 0, sizeof *a);
    a->op = (enum aop)rint_(A_NOPS);
    a->valid = true;
    a->c = pick_handle();
    a->c2 = rint_(3) == 0 ? a->c : pick_handle();
    a->id = rint_(4) == 0 ? (pm_swap_id_t)g_rand_int(rnd) << 20 : rint_((uint32_t)max_swap + 4);
    if (rint_(5) == 0 && own_swap->len > 0)
        a->id = g_array_index(own_swap, pm_swap_id_t, rint_(own_swap->len));
    a->start = rint_(16);
    a->start2 = rint_(16);
    a->count = 1 + rint_(4);
    if (rint_(8) == 0) {
        a->valid = false;
        a->count = (uint32_t[]){0, UINT32_MAX, 1u << 20}[rint_(3)];
    }
    if (rint_(10) == 0) {
        a->valid = false;
        a->start = (frame_t[]){UINT32_MAX, UINT32_MAX - 1, 1u << 31, g_rand_int(rnd)}[rint_(4)];
    }
    for (unsigned i = 0; i < 4; i++) {
        a->list[i] = rint_(16);
        a->list2[i] = rint_(16);
    }
    a->flags = rint_(16);
    if (rint_(10) == 0) {
        a->valid = false;
        a->flags |= 1u << (4 + rint_(28));
    }
    a->vaddr = MAP_BASE + (uint64_t)rint_(MAP_PAGES - 4) * PG;
    if (rint_(10) == 0) {
        a->valid = false;
        a->vaddr = rint_(2) ? a->vaddr + 1 + rint_(PG - 1) : (uint64_t)1 << 48;
    }
    a->duration = 1 + rint_(1000000);
    if (rint_(10) == 0) {
        a->valid = false;
        a->duration = 0;
    }
    a->remote = pick_task();
}

/* Is the call's every handle one the attacker holds?  (A revoke's second
 * handle is a share in another table, and may be anything.) */
static bool holds_all(const struct acall *a)
{
    bool c = held_find(a->c) != NULL, c2 = held_find(a->c2) != NULL;
    if (a->op >= A_COPY && a->op <= A_SCATTER_GATHER)
        return c && c2;
    return c;
}

static bool has_dup(const frame_t *l, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (l[i] == l[j])
                return true;
    return false;
}

/* Run call A as the attacker; record what it gets; return its result.
 * *PARTIAL: a failure that may still have done part of the work. */
static pm_error_t run_call(struct acall *a, bool *partial)
{
    const l4_task_t me = p.task[ATT];
    pm_physmem_t *pm = p.pm;
    uint32_t n = a->count;
    uint32_t ln = a->count < 4 ? a->count : 4; /* list lengths */
    frame_t fe = UINT32_MAX;
    container_t out = 0, weak = 0;
    pm_error_t err = PM_OK;
    *partial = false;
    static unsigned char page[PG];
    switch (a->op) {
    case A_DESTROY: {
        const struct held *x = held_find(a->c);
        uint32_t id = x != NULL ? x->id : 0;
        err = pm_container_destroy(pm, me, a->c);
        if (err == PM_OK) {
            CHECK(x != NULL);
            drop_container(id);
        }
        break;
    }
    case A_SHARE:
    case A_GIVE:
        err = (a->op == A_SHARE ? pm_container_share : pm_container_give)(pm, me, a->c, a->remote,
                                                                          &out);
        if (err == PM_OK) {
            if (a->remote == me)
                acquire(out);
            else
                g_array_append_val(foreign, out);
        }
        break;
    case A_REVOKE:
        err = pm_container_revoke(pm, me, a->c, a->c2);
        if (err == PM_OK)
            drop_handle(a->c2); /* when it revoked a share it had made itself */
        break;
    case A_LOCK:
        if (a->duration == 0)
            a->valid = false;
        err = pm_container_lock(pm, me, a->c, a->duration);
        break;
    case A_UNLOCK:
        err = pm_container_unlock(pm, me, a->c);
        break;
    case A_ALLOCATE:
        a->flags &= a->valid ? 0xfu : ~0u;
        err = pm_container_allocate(pm, me, a->c, a->start, &n, a->flags & ~CONT_ALLOC_DMA);
        *partial = (a->flags & CONT_ALLOC_PARTIAL) != 0;
        break;
    case A_DEALLOCATE:
        a->flags &= a->valid ? 0x7u : ~0u;
        err = pm_container_deallocate(pm, me, a->c, a->start, &n, a->flags);
        *partial = (a->flags & CONT_DEALLOC_PARTIAL) != 0;
        break;
    case A_RECLAIM:
        err = pm_container_reclaim(pm, me, a->c, a->start, a->count);
        break;
    case A_MAP:
        a->flags &= a->valid ? 0x7u : ~0u;
        if ((a->flags & (CONT_MAP_READ | CONT_MAP_WRITE)) == 0)
            a->valid = false;
        err = pm_container_map(pm, me, a->c, a->start, &n, a->flags, a->vaddr);
        break;
    case A_COPY:
    case A_SCATTER:
    case A_GATHER:
    case A_SCATTER_GATHER: {
        a->flags &= a->valid ? 0x7u : ~0u;
        if ((a->flags & CONT_COPY_MOVE) &&
            ((a->flags & CONT_COPY_SHARED) || a->c == a->c2 || a->op != A_COPY))
            a->valid = false;
        if ((a->op == A_SCATTER || a->op == A_SCATTER_GATHER) && has_dup(a->list2, ln))
            a->valid = false;
        if (a->op != A_COPY && a->count > 4) {
            a->skipped = true; /* lists of up to 4 */
            break;
        }
        if (a->op == A_COPY)
            err = pm_container_copy(pm, me, a->c, a->start, a->c2, a->start2, a->count, a->flags,
                                    &fe);
        else if (a->op == A_SCATTER)
            err = pm_container_copy_scatter(pm, me, a->c, a->start, a->c2, a->list2, ln, a->flags,
                                            &fe);
        else if (a->op == A_GATHER)
            err = pm_container_copy_gather(pm, me, a->c, a->list, a->c2, a->start2, ln, a->flags,
                                           &fe);
        else
            err = pm_container_copy_scatter_gather(pm, me, a->c, a->list, a->c2, a->list2, ln,
                                                   a->flags, &fe);
        *partial = !(a->flags & CONT_COPY_ALL_OR_NONE);
        break;
    }
    case A_CREATE_FROM:
    case A_CREATE_GATHER:
        if (a->op == A_CREATE_FROM)
            err =
                pm_container_create_from(pm, me, a->c, a->start, a->count, a->remote, &out, &weak);
        else if (a->count <= 4)
            err = pm_container_create_gather(pm, me, a->c, a->list, ln, a->remote, &out, &weak);
        else
            a->skipped = true;
        if (err == PM_OK && !a->skipped) {
            acquire(out);
            if (a->remote == me)
                acquire(weak);
            else
                g_array_append_val(foreign, weak);
        }
        break;
    case A_RELEASE:
        if (a->count <= 4)
            err = pm_release_data(pm, me, a->c, a->list, ln);
        else
            a->skipped = true;
        break;
    case A_FRAME_INFO:
    case A_INFO:
    case A_NEXT: {
        /* What a failing inspection returns: nothing at all. */
        union {
            struct pm_frame_info fi;
            struct pm_container_info ci;
            frame_t f;
        } o, before;
        memset(&o, 0xa5, sizeof o);
        before = o;
        if (a->op == A_FRAME_INFO)
            err = pm_frame_info(pm, me, a->c, a->start, &o.fi);
        else if (a->op == A_INFO)
            err = pm_container_info(pm, me, a->c, &o.ci);
        else
            err = pm_container_next(pm, me, a->c, a->start, &o.f);
        if (err != PM_OK && memcmp(&o, &before, sizeof o) != 0)
            ck_abort_msg("a failing %s wrote its out-parameter", aop_names[a->op]);
        break;
    }
    case A_SWAP: {
        pm_swap_id_t ids[4];
        if (a->count > 4)
            a->count = 4;
        err = pm_swap(pm, me, a->c, a->start, a->count, ids);
        if (err == PM_OK)
            for (uint32_t i = 0; i < a->count; i++) {
                g_array_append_val(own_swap, ids[i]);
                if (ids[i] > max_swap)
                    max_swap = ids[i];
            }
        break;
    }
    case A_SWAP_RECOVER:
    case A_SWAP_IN:
        a->valid = true;
        err = a->op == A_SWAP_IN ? pm_swap_in(pm, me, a->id, a->c, a->start)
                                 : pm_swap_recover(pm, me, a->id, a->c, a->start);
        break;
    case A_SWAP_DISCARD:
        a->valid = true;
        err = pm_swap_discard(pm, me, a->id);
        break;
    case A_CONTROL_BUFFER: {
        uint64_t bytes = 0;
        err = pm_get_policy_buffer(pm, me, a->c, a->vaddr, &bytes);
        break;
    }
    case A_CONTROL_GIVE:
        err = pm_control_give(pm, me, a->c, a->remote, &out);
        break;
    case A_CREATE:
        err = pm_container_create(pm, me, &out);
        if (err == PM_OK)
            acquire(out);
        break;
    case A_CREATE_WITH:
        err = pm_container_create_with(pm, me, a->count, a->remote, &out, &weak);
        if (err == PM_OK) {
            acquire(out);
            if (a->remote == me)
                acquire(weak);
            else
                g_array_append_val(foreign, weak);
        }
        break;
    case A_READ:
        err = pm_rw(&p, ATT, L4_ACCESS_READ, a->vaddr, page, PG);
        if (err == PM_OK && has_secret(page, PG))
            ck_abort_msg("the attacker read a secret at %#llx", (unsigned long long)a->vaddr);
        break;
    case A_WRITE:
        memset(page, 'A', PG);
        err = pm_rw(&p, ATT, L4_ACCESS_WRITE, a->vaddr, page, 1 + rint_(PG));
        *partial = true; /* across two pages, the first may be written */
        break;
    default:
        break;
    }
    return err;
}

/* Before call A: does it name a handle or swap identifier the attacker
 * holds no capability for, and is its handle a weak one? */
static void classify(struct acall *a)
{
    bool id_ok = false;
    for (guint i = 0; i < own_swap->len; i++)
        id_ok |= g_array_index(own_swap, pm_swap_id_t, i) == a->id;
    a->foreign = !holds_all(a);
    if (a->op == A_SWAP_DISCARD)
        a->foreign = !id_ok;
    if (a->op == A_SWAP_RECOVER || a->op == A_SWAP_IN)
        a->foreign |= !id_ok;
    if (a->op == A_CONTROL_BUFFER || a->op == A_CONTROL_GIVE)
        a->foreign = true; /* it never holds the control capability */
    const struct held *x = held_find(a->c);
    a->weak = x != NULL && x->weak;
}

/* The outcome of call A, which gave ERR: is it what the attacker may get? */
static void check_outcome(const struct acall *a, pm_error_t err)
{
    if (a->op >= A_CREATE || a->skipped)
        return;
    bool foreign_handle = a->foreign;
    n_foreign += foreign_handle;
    n_ebadf += foreign_handle && err == PM_EBADF;
    n_eperm += !foreign_handle && a->weak && owner_only(a->op) && err == PM_EPERM;
    n_held_ok += !foreign_handle && err == PM_OK;
    n_held_err += !foreign_handle && err != PM_OK;
    char what[128];
    snprintf(what, sizeof what, "%s on %#llx/%#llx (id %llu, start %u, count %u, flags %#x)",
             aop_names[a->op], (unsigned long long)a->c, (unsigned long long)a->c2,
             (unsigned long long)a->id, a->start, a->count, a->flags);
    if (foreign_handle) {
        if (err == PM_OK)
            ck_abort_msg("the attacker's %s succeeded without a capability", what);
        bool remote_bad = (a->op == A_SHARE || a->op == A_GIVE || a->op == A_CONTROL_GIVE ||
                           a->op == A_CREATE_FROM || a->op == A_CREATE_GATHER) &&
                          a->remote != p.task[0] && a->remote != p.task[1] &&
                          a->remote != p.task[2] && a->remote != p.task[ATT];
        if (a->valid && !remote_bad && err != PM_EBADF)
            ck_abort_msg("the attacker's %s gave %s, not EBADF", what, pm_strerror(err));
        if (err != PM_EBADF && err != PM_EINVAL && err != PM_ESRCH)
            ck_abort_msg("the attacker's %s gave %s: more than EBADF says", what, pm_strerror(err));
        return;
    }
    if (a->weak && owner_only(a->op)) {
        if (err == PM_OK)
            ck_abort_msg("the attacker's owner-only %s succeeded through a weak capability", what);
        if (a->op == A_REVOKE ? err != PM_EPERM && err != PM_EBADF
                              : a->valid && err != PM_EPERM &&
                                    !((a->op == A_SHARE || a->op == A_GIVE) && err == PM_ESRCH))
            ck_abort_msg("the attacker's owner-only %s through a weak capability gave %s", what,
                         pm_strerror(err));
    }
}

/* One call, generated or given, and every check after it. */
static void attack_one(struct acall *a)
{
    bool partial;
    classify(a);
    current = aop_names[a->op];
    if (trace)
        fprintf(stderr,
                "%s c=%#llx c2=%#llx id=%llu start=%u start2=%u count=%u flags=%#x "
                "va=%#llx remote=%u\n",
                current, (unsigned long long)a->c, (unsigned long long)a->c2,
                (unsigned long long)a->id, a->start, a->start2, a->count, a->flags,
                (unsigned long long)a->vaddr, a->remote);
    pm_error_t err = run_call(a, &partial);
    check_outcome(a, err);
    update_reachable();
    char what[96];
    snprintf(what, sizeof what, "the attacker's %s (%s)", aop_names[a->op], pm_strerror(err));
    victims_intact(what, err != PM_OK && !partial);
}

/* At the end: what the victims read through their own mappings is their
 * bytes (a mapping physmem took away is EFAULT: they have no pager), then
 * V3's swapped frames come back whole. */
static void swap_back(void)
{
    static unsigned char page[PG];
    for (unsigned i = 0; i < nvc; i++) {
        const struct vcont *v = &vc[i];
        for (guint j = 0; !v->gone && j < v->frames->len; j++) {
            const struct vframe *x = &g_array_index(v->frames, struct vframe, j);
            pm_error_t err =
                pm_rw(&p, v->owner, L4_ACCESS_READ, v->va + (uint64_t)x->f * PG, page, PG);
            if (err == PM_OK && memcmp(page, x->bytes, PG) != 0)
                ck_abort_msg("%s reads other bytes in its frame %u than it holds", v->name, x->f);
            CHECK(err == PM_OK || err == PM_EFAULT);
            /* Unmapping is minimal (SPEC §3.9): nothing the attacker did
             * took a mapping of a container it never reached. */
            if (!v->ever && x->readable && err != PM_OK)
                ck_abort_msg("%s lost its mapping of frame %u", v->name, x->f);
            n_victim_reads += err == PM_OK;
        }
    }
    container_t c3 = 0;
    for (unsigned i = 0; i < nvc; i++)
        if (strcmp(vc[i].name, "V3.C3") == 0)
            c3 = vc[i].vh;
    uint32_t k = 2;
    CHECK_EQ(pm_container_allocate(p.pm, p.task[2], c3, 6, &k, 0), PM_OK);
    for (unsigned i = 0; i < 2; i++) {
        CHECK_EQ(pm_swap_in(p.pm, p.task[2], vswap[i], c3, 6 + i), PM_OK);
        struct pm_frame_info fi;
        CHECK_EQ(pm_frame_info(p.pm, p.task[2], c3, 6 + i, &fi), PM_OK);
        ck_assert(memcmp(frame_bytes(&fi), vswap_bytes[i], PG) == 0);
    }
    PM_CHECK_INVARIANTS(&p);
}

/* ---- the tests ------------------------------------------------------------------ */

#define SEEDS 8
#define CALLS 3000

START_TEST(test_random_attacker)
{
    if (getenv("PMSIM_ISOLATION_SEED") != NULL && atoi(getenv("PMSIM_ISOLATION_SEED")) != _i)
        return; /* only that one */
    world_setup();
    rnd = g_rand_new_with_seed(0x150 + (guint32)_i);
    unsigned counts[A_NOPS] = {0};
    for (unsigned n = 0; n < CALLS; n++) {
        struct acall a;
        pick_call(&a);
        counts[a.op]++;
        attack_one(&a);
        if (n % 64 == 63)
            scan_readable();
    }
    scan_readable();
    swap_back();
    for (int op = 0; op < A_NOPS; op++)
        ck_assert_uint_gt(counts[op], 0);
    printf("isolation: seed %d: %u calls: %llu without a capability (%llu EBADF, the rest "
           "EINVAL or ESRCH first), %llu owner-only through a weak share (EPERM), %llu with "
           "capabilities (%llu succeeded); %u handles held at the end, %u stale; the victims read "
           "%llu frames back\n",
           _i, CALLS, (unsigned long long)n_foreign, (unsigned long long)n_ebadf,
           (unsigned long long)n_eperm, (unsigned long long)(n_held_ok + n_held_err),
           (unsigned long long)n_held_ok, held->len, stale->len,
           (unsigned long long)n_victim_reads);
    g_rand_free(rnd);
    world_teardown();
}
END_TEST

/* Every handle value in the range — every (slot, generation) pair up to
 * just past the largest handed out, and the raw values 0 … 1023 — through
 * every call that takes a handle, with well-formed arguments. */
START_TEST(test_every_handle)
{
    world_setup();
    rnd = g_rand_new_with_seed(7);
    GArray *values = g_array_new(FALSE, FALSE, sizeof(container_t));
    for (container_t h = 0; h < 1024; h++)
        g_array_append_val(values, h);
    for (uint64_t s = 1; s <= max_slot + 2; s++)
        for (uint64_t g = 0; g <= max_gen + 2; g++) {
            container_t h = s << 32 | g;
            g_array_append_val(values, h);
        }
    uint64_t calls = 0;
    for (guint i = 0; i < values->len; i++) {
        container_t h = g_array_index(values, container_t, i);
        for (int op = 0; op < A_CREATE; op++) {
            struct acall a = {.op = (enum aop)op,
                              .c = h,
                              .c2 = h,
                              .id = (pm_swap_id_t)i % (max_swap + 2),
                              .start = (frame_t)(i % 12),
                              .start2 = (frame_t)((i + 5) % 12),
                              .count = 1,
                              .list = {(frame_t)(i % 12)},
                              .list2 = {(frame_t)((i + 3) % 12)},
                              .flags = op == A_MAP ? CONT_MAP_READ : 0,
                              .vaddr = MAP_BASE + (uint64_t)(i % MAP_PAGES) * PG,
                              .duration = 1000,
                              .remote = p.task[i % (NV + 1)],
                              .valid = true};
            /* A copy pairs it with a container the attacker holds, both ways. */
            if (op >= A_COPY && op <= A_SCATTER_GATHER && held->len > 0 && (i & 1))
                a.c2 = g_array_index(held, struct held, i % held->len).h;
            else if (op >= A_COPY && op <= A_SCATTER_GATHER && held->len > 0)
                a.c = g_array_index(held, struct held, i % held->len).h;
            attack_one(&a);
            calls++;
        }
        if (i % 256 == 255)
            scan_readable();
    }
    scan_readable();
    swap_back();
    printf("isolation: every handle: %u values (slots 1..%llu x generations 0..%llu, and "
           "0..1023) x %d calls = %llu calls: %llu without a capability (%llu EBADF), %llu "
           "owner-only through a weak share (EPERM), %llu with capabilities (%llu succeeded)\n",
           values->len, (unsigned long long)max_slot + 2, (unsigned long long)max_gen + 2,
           (int)A_CREATE, (unsigned long long)calls, (unsigned long long)n_foreign,
           (unsigned long long)n_ebadf, (unsigned long long)n_eperm,
           (unsigned long long)(n_held_ok + n_held_err), (unsigned long long)n_held_ok);
    g_array_free(values, TRUE);
    g_rand_free(rnd);
    world_teardown();
}
END_TEST

/* The control capability: V1 holds it; the attacker's get_control is
 * EPERM, and no handle value of its own, nor V1's, works as it. */
START_TEST(test_control)
{
    pmworld_init(&p, 64, 0, 2);
    container_t ctl, c;
    CHECK_EQ(pm_get_control(p.pm, p.task[0], &ctl), PM_OK);
    CHECK_EQ(pm_container_create(p.pm, p.task[1], &c), PM_OK);
    container_t out = 0x77;
    CHECK_EQ(pm_get_control(p.pm, p.task[1], &out), PM_EPERM);
    CHECK_EQ(out, 0x77);
    uint64_t calls = 0;
    for (uint64_t s = 0; s <= 4; s++)
        for (uint64_t g = 0; g <= ((uint32_t)ctl) + 4; g++) {
            container_t h = s << 32 | g;
            uint64_t bytes = 0x99;
            pm_error_t err = pm_get_policy_buffer(p.pm, p.task[1], h, MAP_BASE, &bytes);
            CHECK_EQ(err, PM_EBADF);
            CHECK_EQ(bytes, 0x99);
            CHECK_EQ(pm_control_give(p.pm, p.task[1], h, p.task[1], &out), PM_EBADF);
            CHECK_EQ(pm_control_give(p.pm, p.task[1], h, NOTASK, &out), PM_ESRCH);
            CHECK_EQ(out, 0x77);
            calls += 3;
        }
    /* V1's control handle is no container of V1's either. */
    struct pm_container_info ci;
    CHECK_EQ(pm_container_info(p.pm, p.task[0], ctl, &ci), PM_EBADF);
    CHECK_EQ(pm_container_destroy(p.pm, p.task[0], ctl), PM_EBADF);
    uint64_t bytes;
    CHECK_EQ(pm_get_policy_buffer(p.pm, p.task[0], ctl, MAP_BASE, &bytes), PM_OK);
    printf("isolation: control: %llu calls\n", (unsigned long long)calls);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A task with a full capability to a container of 4 frames (its own, its
 * guarantee 64) asks for the largest well-formed range, identifiers 0 …
 * 2^32 − 2, in every call that takes a range: each must answer in well
 * under a second (physmem is single-threaded: a call that takes minutes
 * stops every other task).  Physmem used to walk allocate's, and
 * deallocate's with SQUASH, identifier by identifier: 72–129 s each. */
START_TEST(test_huge_ranges)
{
    pmworld_init(&p, 256, 0, 2);
    for (unsigned i = 0; i < 2; i++)
        CHECK_EQ(pm_task_set_guarantee(p.pm, p.task[i], 64, false), PM_OK);
    const l4_task_t me = p.task[0];
    container_t c;
    CHECK_EQ(pm_container_create(p.pm, me, &c), PM_OK);
    uint32_t n = 4;
    CHECK_EQ(pm_container_allocate(p.pm, me, c, 0, &n, 0), PM_OK);
    const uint32_t big = UINT32_MAX;
    static const struct {
        const char *name;
        int kind;
        unsigned flags;
    } calls[] = {
        {"allocate", 0, 0},
        {"allocate extra", 0, CONT_ALLOC_EXTRA},
        {"allocate partial|squash|extra", 0,
         CONT_ALLOC_PARTIAL | CONT_ALLOC_SQUASH | CONT_ALLOC_EXTRA},
        {"deallocate squash", 1, CONT_DEALLOC_SQUASH},
        {"deallocate partial", 1, CONT_DEALLOC_PARTIAL},
        {"reclaim", 2, 0},
        {"map", 3, CONT_MAP_READ},
        {"copy", 4, 0},
        {"create_from", 5, 0},
        {"swap", 6, 0},
    };
    int slow = 0;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        uint64_t t0 = mono_ns();
        pm_error_t err = PM_OK;
        frame_t fe;
        container_t out, weak;
        uint32_t k = big;
        switch (calls[i].kind) {
        case 0: /* past the 4 frames: nothing in the way */
            k = big - 4;
            err = pm_container_allocate(p.pm, me, c, 4, &k, calls[i].flags);
            break;
        case 1:
            err = pm_container_deallocate(p.pm, me, c, 1, &k, calls[i].flags);
            break;
        case 2:
            err = pm_container_reclaim(p.pm, me, c, 0, big);
            break;
        case 3:
            err = pm_container_map(p.pm, me, c, 0, &k, calls[i].flags, MAP_BASE);
            break;
        case 4:
            err = pm_container_copy(p.pm, me, c, 0, c, 1, big - 1, 0, &fe);
            break;
        case 5:
            err = pm_container_create_from(p.pm, me, c, 0, big, p.task[1], &out, &weak);
            break;
        default: {
            static pm_swap_id_t ids[1];
            err = pm_swap(p.pm, me, c, 0, big, ids);
            break;
        }
        }
        double s = (double)(mono_ns() - t0) / 1e9;
        printf("isolation: huge range: %-30s %-7s %.3f s\n", calls[i].name, pm_strerror(err), s);
        fflush(stdout);
        slow += s > 0.5;
    }
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
    ck_assert_msg(slow == 0, "%d calls over a huge range took more than half a second", slow);
}
END_TEST

static Suite *make_suite(void)
{
    trace = getenv("PMSIM_ISOLATION_TRACE") != NULL;
    Suite *s = suite_create("isolation");
    TCase *tc = tcase_create("random attacker");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_random_attacker, 0, SEEDS);
    suite_add_tcase(s, tc);
    tc = tcase_create("every handle");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_every_handle);
    suite_add_tcase(s, tc);
    tc = tcase_create("control");
    tcase_add_test(tc, test_control);
    suite_add_tcase(s, tc);
    tc = tcase_create("huge ranges");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_huge_ranges);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
