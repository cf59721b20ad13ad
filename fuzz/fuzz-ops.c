/* fuzz-ops.c — libFuzzer harness: the input is a stream of physmem calls
 * (SPEC §3, §5, §7) on a small world, checked against the invariants of
 * SPEC §12 after every call.
 *
 * The world is made afresh for every input, so an input always means the
 * same thing: a pool of 16 frames (4 of them DMA), the simulated kernel
 * over it with a map-item limit the input chooses (short maps), physmem
 * with an in-memory swap device of 8 slots that the input can make fail,
 * and four tasks.  Tasks 0 and 1 have memory control threads that note the
 * upcalls they get (task 1 answers them later, when the input says so, by
 * deallocating soft: a real task answers from its own thread, never from
 * inside physmem's call); tasks 2 and 3 have none, so pressure exiles them.
 *
 * The rest of the input is read a byte at a time: an operation, then its
 * arguments.  Every capability a call returns is remembered in its task's
 * table; an argument byte picks one of them, or a handle that must fail
 * (none, garbage, another task's, a revoked or destroyed one stays in the
 * table).  Numbers are mostly small, so that calls meet each other's
 * frames, with a few values at the edges (2^32 − 1, counts that overflow).
 * All flags, unknown bits included, come from the input.
 *
 * Two checks turn a bug into a crash (abort, which libFuzzer reports):
 *  - pm_check after every call: any broken invariant;
 *  - a call that fails, and that the SPEC says changes nothing on failure
 *    (no PARTIAL flag asked, no copy without ALL_OR_NONE), is compared
 *    with a snapshot taken before it: the tasks' accounting, physmem's
 *    and the pool's counters, every physical frame's bytes and mappings,
 *    and what each remembered capability sees of frames 0 … 15.
 * A snapshot costs tens of microseconds, so every failing call is checked
 * (a snapshot is taken before every call that has the atomic contract).
 *
 * Physmem ticks (enforces deadlines) at the start of every call; the
 * harness ticks before taking a snapshot, so that what a failing call's
 * tick would change has changed already. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"
#include "../tests/mapping_hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PG 4096u
#define FRAMES 16u
#define DMA 4u
#define NTASKS 4u
#define NHANDLES 8u  /* remembered capabilities per task */
#define WATCH 16u    /* frame identifiers a snapshot looks at */
#define SLOTS 8u     /* swap device slots */
#define NSWAP 16u    /* remembered swap identifiers per task */
#define MAX_OPS 256u /* operations per input */
#define MAX_G 12u    /* the most the guarantees add up to */
#define VA_BASE 0x100000ull

/* ---- the input -------------------------------------------------------------- */

struct input {
    const uint8_t *p;
    size_t left;
};

/* The next byte, 0 once the input is used up. */
static uint8_t byte(struct input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* A frame identifier or a count: mostly 0 … 15 (or 1 … 8 for counts), now
 * and then an edge. */
static uint32_t number(struct input *in, bool count)
{
    uint8_t b = byte(in);
    if (b < 0xf0)
        return count ? 1u + b % 8u : b % 16u;
    switch (b & 7) {
    case 0:
        return 0;
    case 1:
        return UINT32_MAX;
    case 2:
        return UINT32_MAX - 1;
    case 3:
        return 1u << 31;
    case 4:
        return FRAMES;
    case 5:
        return FRAMES + 1;
    case 6:
        return 31;
    default:
        return 64;
    }
}

/* ---- the world ----------------------------------------------------------- */

struct task {
    l4_task_t id;
    l4_thread_t thread, memctl;
    bool removed;
    container_t h[NHANDLES];
    unsigned nh; /* handles seen (h is a ring: the newest replace the oldest) */
    pm_swap_id_t swap[NSWAP];
    unsigned nswap;
    uint64_t owed; /* frames upcalls asked for and not yet given back */
};

struct world {
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    struct task t[NTASKS];
    container_t control; /* the control capability, once a task took it */
    /* The swap device: SLOTS pages in memory, failing on demand. */
    unsigned char slots[SLOTS][PG];
    bool fail_write, fail_read;
};

static struct world W;

/* $FUZZ_OPS_TRACE: one line per operation on stderr (to read a crash). */
static int trace = -1;

static pm_error_t swap_write(void *ctx, uint64_t slot, const void *page, size_t len)
{
    struct world *w = ctx;
    if (slot >= SLOTS || len != PG)
        abort(); /* physmem asked for a slot the device does not have */
    if (w->fail_write)
        return PM_EIO;
    memcpy(w->slots[slot], page, len);
    return PM_OK;
}

static pm_error_t swap_read(void *ctx, uint64_t slot, void *page, size_t len)
{
    struct world *w = ctx;
    if (slot >= SLOTS || len != PG)
        abort();
    if (w->fail_read)
        return PM_EIO;
    memcpy(page, w->slots[slot], len);
    return PM_OK;
}

/* A memory control thread: note what is asked (SPEC §5.1). */
static pm_error_t on_upcall(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                            const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)k;
    (void)self;
    (void)from;
    (void)reply;
    struct task *t = ctx;
    if (l4_msg_label(msg) == PM_LABEL_RETURN_FRAMES && l4_msg_untyped(msg) >= 1)
        t->owed += l4_msg_word(msg, 0);
    return PM_OK;
}

static void die(const char *what, pm_error_t err)
{
    fprintf(stderr, "fuzz-ops: setting up the world: %s: %s\n", what, pm_strerror(err));
    abort();
}

static void world_init(unsigned map_items)
{
    memset(&W, 0, sizeof W);
    pm_error_t err;
    struct pm_pool_config pc = {
        .page_size = PG, .frames = FRAMES, .dma_frames = DMA, .retain_frames = 4};
    if ((err = pm_pool_new(&pc, &W.pool)) != PM_OK)
        die("pool", err);
    struct l4_kernel_config kc = {.phys_base = pm_pool_base(W.pool),
                                  .page_size = PG,
                                  .frames = FRAMES,
                                  .map_items = map_items};
    if ((err = l4_kernel_new(&kc, &W.k)) != PM_OK)
        die("kernel", err);
    static const struct pm_swap_dev dev_template = {
        .slots = SLOTS, .write = swap_write, .read = swap_read};
    struct pm_swap_dev dev = dev_template;
    dev.ctx = &W;
    struct pm_physmem_config cfg = {
        .pool = W.pool, .kernel = W.k, .thread = l4_root_thread(W.k), .swap = &dev};
    if ((err = pm_physmem_new(&cfg, &W.pm)) != PM_OK)
        die("physmem", err);
    for (unsigned i = 0; i < NTASKS; i++) {
        struct task *t = &W.t[i];
        if ((err = l4_task_create(W.k, &t->id)) != PM_OK ||
            (err = l4_thread_create(W.k, t->id, &t->thread)) != PM_OK ||
            (err = pm_task_add(W.pm, t->id, t->thread)) != PM_OK)
            die("a task", err);
        if (i < 2) {
            if ((err = l4_thread_create(W.k, t->id, &t->memctl)) != PM_OK ||
                (err = l4_thread_set_handler(W.k, t->memctl, on_upcall, t)) != PM_OK ||
                (err = pm_task_set_memctl(W.pm, t->id, t->memctl)) != PM_OK)
                die("a memory control thread", err);
        }
    }
}

static void world_fini(void)
{
    pm_physmem_free(W.pm);
    l4_kernel_free(W.k);
    pm_pool_free(W.pool);
}

static void remember(unsigned ti, container_t c)
{
    struct task *t = &W.t[ti];
    t->h[t->nh++ % NHANDLES] = c;
}

/* A task for an argument: one of the four, or (rarely) one physmem does
 * not know.  *TI gets its index (NTASKS for the unknown one). */
static l4_task_t pick_task(struct input *in, unsigned *ti)
{
    uint8_t b = byte(in);
    unsigned i = b % (NTASKS + 1);
    if (i == NTASKS && (b & 0x80) == 0)
        i = b % NTASKS; /* unknown tasks one time in ten */
    if (ti != NULL)
        *ti = i;
    return i < NTASKS ? W.t[i].id : (l4_task_t)(0x7000u + b);
}

/* A capability for task TI to use: one it was given, or one that must be
 * refused (none, garbage, another task's). */
static container_t pick_handle(struct input *in, unsigned ti)
{
    uint8_t b = byte(in);
    if (b >= 0xf8) {
        switch (b & 3) {
        case 0:
            return PM_CONTAINER_NONE;
        case 1:
            return (container_t)0xdeadbeefcafef00dull;
        case 2:
            return W.control;
        default: {
            const struct task *o = &W.t[(ti + 1 + (b >> 2) % 3) % NTASKS];
            return o->nh ? o->h[(b >> 4) % (o->nh < NHANDLES ? o->nh : NHANDLES)] : 1;
        }
        }
    }
    if (ti >= NTASKS)
        return (container_t)b;
    const struct task *t = &W.t[ti];
    if (t->nh == 0)
        return (container_t)(b % 4); /* small numbers: maybe someone's handle */
    return t->h[b % (t->nh < NHANDLES ? t->nh : NHANDLES)];
}

/* Physmem visits every identifier of a range in some calls, so a valid
 * range of 2^31 identifiers takes seconds (docs/fuzzing.md, "Findings").
 * Unless $FUZZ_OPS_HUGE is set, a count past HUGE is kept for the overflow
 * checks only: START moves up so that the range passes 2^32 and the call
 * must be EINVAL. */
#define HUGE 64u
static int huge_ranges = -1;
static frame_t fix_range(frame_t start, uint32_t count)
{
    if (huge_ranges < 0)
        huge_ranges = getenv("FUZZ_OPS_HUGE") != NULL;
    if (!huge_ranges && count > HUGE && (uint64_t)start + count - 1 <= UINT32_MAX)
        return UINT32_MAX;
    return start;
}

/* A list of COUNT frame identifiers (COUNT ≤ 8). */
static void pick_frames(struct input *in, frame_t *f, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        f[i] = number(in, false);
}

/* ---- snapshots: what a failing call must not change ----------------------- */

struct finfo {
    pm_error_t err;
    bool bound, cow;
    uint32_t pfn, group_size;
};

struct snap {
    pm_error_t ti_err[NTASKS];
    struct pm_task_info ti[NTASKS];
    struct pm_stats st;
    struct pm_pool_stats ps;
    bool bound[FRAMES];
    unsigned char bytes[FRAMES][PG];
    uint64_t maps[FRAMES];
    size_t nmaps[FRAMES];
    struct finfo fi[NTASKS][NHANDLES][WATCH];
    unsigned nh[NTASKS];
    uint64_t owed[NTASKS];
};

static struct snap before, after;

static void snap_take(struct snap *s)
{
    memset(s, 0, sizeof *s);
    for (unsigned i = 0; i < NTASKS; i++) {
        s->ti_err[i] = pm_task_info(W.pm, W.t[i].id, &s->ti[i]);
        s->ti[i].swap_quota = 0;
        s->owed[i] = W.t[i].owed;
    }
    pm_stats(W.pm, &s->st);
    s->st.rpcs = 0; /* a failing call is still a call */
    pm_pool_stats(W.pool, &s->ps);
    for (uint32_t f = 0; f < FRAMES; f++) {
        /* A frame that is not bound may hold anything (a retained frame
         * is cleared when it is handed out): only bound frames count. */
        s->bound[f] = pm_pool_is_bound(W.pool, PM_PFN(f));
        if (s->bound[f])
            memcpy(s->bytes[f], pm_pool_frame(W.pool, PM_PFN(f)), PG);
        s->maps[f] = 0xcbf29ce484222325ull;
        s->nmaps[f] = l4_mappings_of(W.k, PM_PFN(f), hash_mapping, &s->maps[f]);
    }
    /* Each live container once (through the first handle that reaches
     * it: a weak, given or remembered-twice handle sees the same frames);
     * for every handle, whether it works. */
    uint32_t ids[NTASKS * NHANDLES];
    unsigned nids = 0;
    for (unsigned i = 0; i < NTASKS; i++) {
        const struct task *t = &W.t[i];
        s->nh[i] = t->nh;
        for (unsigned h = 0; h < NHANDLES && h < t->nh; h++) {
            struct pm_container_info ci;
            s->fi[i][h][0].err = pm_container_info(W.pm, t->id, t->h[h], &ci);
            bool seen = s->fi[i][h][0].err != PM_OK;
            for (unsigned e = 0; e < nids && !seen; e++)
                seen = ids[e] == ci.id;
            if (seen)
                continue;
            ids[nids++] = ci.id;
            for (frame_t f = 0; f < WATCH; f++) {
                struct pm_frame_info fi = {0};
                struct finfo *r = &s->fi[i][h][f];
                r->err = pm_frame_info(W.pm, t->id, t->h[h], f, &fi);
                r->bound = fi.bound;
                r->cow = fi.cow;
                r->pfn = fi.pfn.n;
                r->group_size = fi.group_size;
            }
        }
    }
}

/* $FUZZ_OPS_STRICT: check what the known findings break too (docs/fuzzing.md). */
static int strict = -1;
/* Set by a failing map for the comparison after it (see OP_MAP). */
static bool lenient_bind;

/* Abort unless the world is as BEFORE says: call WHAT failed with ERR. */
static void snap_same(const char *what, pm_error_t err)
{
    snap_take(&after);
    const char *diff = NULL;
    /* A failed device write is counted (swap_errors): that is what the
     * counter is for. */
    after.st.swap_errors = before.st.swap_errors;
    if (lenient_bind) {
        /* Frames bound by a failing map (see OP_MAP): as if they were not;
         * and the frames it took to bind them (SPEC §3.4: binding may
         * reclaim): soft-only frames, inactive swap frames dropped or
         * written first. */
        after.st.frames_bound = before.st.frames_bound;
        after.st.frames_freed = before.st.frames_freed;
        after.st.soft_lost = before.st.soft_lost;
        after.st.inactive_dropped = before.st.inactive_dropped;
        after.st.swap_writes = before.st.swap_writes;
        after.st.swap_inactive = before.st.swap_inactive;
        after.st.swap_dirty = before.st.swap_dirty;
        after.st.swap_slots_used = before.st.swap_slots_used;
        after.ps.free = before.ps.free;
        after.ps.bound = before.ps.bound;
        after.ps.dma_free = before.ps.dma_free;
        for (uint32_t f = 0; f < FRAMES; f++)
            if (before.bound[f] != after.bound[f]) {
                after.bound[f] = before.bound[f];
                memcpy(after.bytes[f], before.bytes[f], PG);
            }
        for (unsigned i = 0; i < NTASKS; i++)
            for (unsigned h = 0; h < NHANDLES; h++)
                for (frame_t f = 0; f < WATCH; f++) {
                    struct finfo *x = &before.fi[i][h][f], *y = &after.fi[i][h][f];
                    if (x->err == PM_OK && y->err == PM_OK && !x->bound && y->bound) {
                        y->bound = false;
                        y->pfn = x->pfn;
                    }
                }
    }
    if (memcmp(before.ti_err, after.ti_err, sizeof before.ti_err) != 0 ||
        memcmp(before.ti, after.ti, sizeof before.ti) != 0)
        diff = "a task's accounting";
    else if (memcmp(&before.st, &after.st, sizeof before.st) != 0)
        diff = "physmem's counters";
    else if (before.ps.free != after.ps.free || before.ps.bound != after.ps.bound ||
             before.ps.dma_free != after.ps.dma_free)
        diff = "the pool";
    else if (memcmp(before.bytes, after.bytes, sizeof before.bytes) != 0)
        diff = "the bytes of a frame";
    else if (memcmp(before.maps, after.maps, sizeof before.maps) != 0 ||
             memcmp(before.nmaps, after.nmaps, sizeof before.nmaps) != 0)
        diff = "the mappings of a frame";
    else if (memcmp(before.fi, after.fi, sizeof before.fi) != 0)
        diff = "a frame as a capability sees it";
    else if (memcmp(before.owed, after.owed, sizeof before.owed) != 0)
        diff = "the upcalls sent";
    if (diff != NULL) {
        fprintf(stderr, "fuzz-ops: %s failed with %s and changed %s\n", what, pm_strerror(err),
                diff);
        fprintf(stderr,
                "fuzz-ops: pool: free %llu -> %llu, bound %llu -> %llu, dma_free %llu -> %llu\n",
                (unsigned long long)before.ps.free, (unsigned long long)after.ps.free,
                (unsigned long long)before.ps.bound, (unsigned long long)after.ps.bound,
                (unsigned long long)before.ps.dma_free, (unsigned long long)after.ps.dma_free);
        const uint64_t *sx = (const uint64_t *)&before.st, *sy = (const uint64_t *)&after.st;
        for (size_t i = 0; i < sizeof before.st / sizeof(uint64_t); i++)
            if (sx[i] != sy[i])
                fprintf(stderr, "fuzz-ops: pm_stats field %zu (struct pm_stats): %llu -> %llu\n", i,
                        (unsigned long long)sx[i], (unsigned long long)sy[i]);
        for (unsigned i = 0; i < NTASKS; i++) {
            const struct pm_task_info *x = &before.ti[i], *y = &after.ti[i];
            if (memcmp(x, y, sizeof *x) != 0 || before.ti_err[i] != after.ti_err[i])
                fprintf(stderr,
                        "fuzz-ops: task %u: %s -> %s, G %llu -> %llu, A %llu -> %llu, owed %llu "
                        "-> %llu, exiles %llu -> %llu, containers %llu -> %llu\n",
                        i, pm_strerror(before.ti_err[i]), pm_strerror(after.ti_err[i]),
                        (unsigned long long)x->guaranteed, (unsigned long long)y->guaranteed,
                        (unsigned long long)x->allocated, (unsigned long long)y->allocated,
                        (unsigned long long)x->owed, (unsigned long long)y->owed,
                        (unsigned long long)x->exiles, (unsigned long long)y->exiles,
                        (unsigned long long)x->containers, (unsigned long long)y->containers);
        }
        abort();
    }
}

static void report(void *ctx, const char *problem)
{
    fprintf(stderr, "fuzz-ops: after %s: invariant: %s\n", (const char *)ctx, problem);
}

/* ---- the operations ------------------------------------------------------- */

enum op {
    OP_CREATE,
    OP_DESTROY,
    OP_SHARE,
    OP_REVOKE,
    OP_GIVE,
    OP_LOCK,
    OP_UNLOCK,
    OP_ALLOCATE,
    OP_DEALLOCATE,
    OP_RECLAIM,
    OP_MAP,
    OP_COPY,
    OP_COPY_SCATTER,
    OP_COPY_GATHER,
    OP_COPY_SCATTER_GATHER,
    OP_CREATE_WITH,
    OP_CREATE_FROM,
    OP_CREATE_GATHER,
    OP_RELEASE_DATA,
    OP_INFO,
    OP_WRITE,
    OP_READ,
    OP_ADVANCE,
    OP_SET_GUARANTEE,
    OP_SWAP,
    OP_SWAP_BACK,
    OP_SWAP_FLUSH,
    OP_SWAP_FAIL,
    OP_PRESSURE,
    OP_ANSWER,
    OP_REMOVE,
    OP_EXILE,
    OP_CONTROL,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    [OP_CREATE] = "create",
    [OP_DESTROY] = "destroy",
    [OP_SHARE] = "share",
    [OP_REVOKE] = "revoke",
    [OP_GIVE] = "give",
    [OP_LOCK] = "lock",
    [OP_UNLOCK] = "unlock",
    [OP_ALLOCATE] = "allocate",
    [OP_DEALLOCATE] = "deallocate",
    [OP_RECLAIM] = "reclaim",
    [OP_MAP] = "map",
    [OP_COPY] = "copy",
    [OP_COPY_SCATTER] = "copy_scatter",
    [OP_COPY_GATHER] = "copy_gather",
    [OP_COPY_SCATTER_GATHER] = "copy_scatter_gather",
    [OP_CREATE_WITH] = "create_with",
    [OP_CREATE_FROM] = "create_from",
    [OP_CREATE_GATHER] = "create_gather",
    [OP_RELEASE_DATA] = "release_data",
    [OP_INFO] = "info",
    [OP_WRITE] = "write",
    [OP_READ] = "read",
    [OP_ADVANCE] = "advance",
    [OP_SET_GUARANTEE] = "set_guarantee",
    [OP_SWAP] = "swap",
    [OP_SWAP_BACK] = "swap_in",
    [OP_SWAP_FLUSH] = "swap_flush",
    [OP_SWAP_FAIL] = "swap_fail",
    [OP_PRESSURE] = "pressure",
    [OP_ANSWER] = "answer",
    [OP_REMOVE] = "remove",
    [OP_EXILE] = "exile",
    [OP_CONTROL] = "control",
};

/* Flags: the known ones from the low bits, an unknown bit one time in 16. */
static unsigned flags(struct input *in, unsigned known_bits)
{
    uint8_t b = byte(in);
    unsigned f = b & ((1u << known_bits) - 1);
    if ((b & 0xf0) == 0xf0)
        f |= 1u << (known_bits + (b >> 2 & 1));
    return f;
}

/* Run one operation.  *MAY_CHANGE is set when the call may change the
 * world even if it fails (PARTIAL, copies without ALL_OR_NONE, and the
 * operations that are not physmem calls with an atomic contract). */
static pm_error_t run_op(enum op op, struct input *in, bool *may_change)
{
    unsigned ti, ri;
    l4_task_t caller = pick_task(in, &ti), remote;
    container_t c, d, out = PM_CONTAINER_NONE, weak = PM_CONTAINER_NONE;
    frame_t fa[8], fb[8], ferr = 0;
    uint32_t cnt, n;
    frame_t start;
    unsigned fl;
    pm_error_t err = PM_OK;
    *may_change = false;

    switch (op) {
    case OP_CREATE:
        err = pm_container_create(W.pm, caller, &out);
        if (err == PM_OK && ti < NTASKS)
            remember(ti, out);
        break;
    case OP_DESTROY:
        err = pm_container_destroy(W.pm, caller, pick_handle(in, ti));
        break;
    case OP_SHARE:
    case OP_GIVE:
        c = pick_handle(in, ti);
        remote = pick_task(in, &ri);
        err = (op == OP_SHARE ? pm_container_share : pm_container_give)(W.pm, caller, c, remote,
                                                                        &out);
        if (err == PM_OK && ri < NTASKS) {
            remember(ri, out);
            if (op == OP_SHARE && ti < NTASKS)
                remember(ti, out); /* the owner's name for the share (revoke) */
        }
        break;
    case OP_REVOKE:
        c = pick_handle(in, ti);
        err = pm_container_revoke(W.pm, caller, c, pick_handle(in, ti));
        break;
    case OP_LOCK: {
        c = pick_handle(in, ti);
        uint8_t b = byte(in);
        pm_time_t dur = b == 0 ? 0 : b == 0xff ? UINT64_MAX : (pm_time_t)b * 1000;
        err = pm_container_lock(W.pm, caller, c, dur);
        break;
    }
    case OP_UNLOCK:
        err = pm_container_unlock(W.pm, caller, pick_handle(in, ti));
        break;
    case OP_ALLOCATE:
    case OP_DEALLOCATE: {
        c = pick_handle(in, ti);
        start = number(in, false);
        cnt = number(in, true);
        start = fix_range(start, cnt);
        fl = flags(in, op == OP_ALLOCATE ? 4 : 3);
        uint32_t asked = cnt;
        if (trace > 0)
            fprintf(stderr,
                    "fuzz-ops: %s by task %u: handle %#llx, start %u, count %u, flags %#x\n",
                    op_names[op], ti, (unsigned long long)c, start, cnt, fl);
        err = (op == OP_ALLOCATE ? pm_container_allocate
                                 : pm_container_deallocate)(W.pm, caller, c, start, &cnt, fl);
        /* SPEC §3.3, §3.9: the in/out count. */
        if (err == PM_OK && cnt != asked) {
            fprintf(stderr, "fuzz-ops: %s succeeded with count %u of %u\n", op_names[op], cnt,
                    asked);
            abort();
        }
        if (err != PM_OK && cnt > asked) {
            fprintf(stderr, "fuzz-ops: %s failed with count %u of %u\n", op_names[op], cnt, asked);
            abort();
        }
        unsigned partial = op == OP_ALLOCATE ? CONT_ALLOC_PARTIAL : CONT_DEALLOC_PARTIAL;
        if (err != PM_OK && cnt != 0 && !(fl & partial)) {
            fprintf(stderr, "fuzz-ops: %s without PARTIAL failed with count %u\n", op_names[op],
                    cnt);
            abort();
        }
        *may_change = (fl & partial) != 0 && cnt != 0;
        if (op == OP_ALLOCATE && err == PM_ENOMEM && !*may_change && ti < NTASKS) {
            /* Short of room within G, physmem asks other tasks for their
             * extra frames (SPEC §5.1) and fails now: the upcalls, and the
             * exile of a task that cannot receive one, are its side
             * effects (src/physmem.c, ask_for_guarantee).  The caller's
             * own A must not change. */
            struct pm_stats st;
            struct pm_task_info info;
            pm_stats(W.pm, &st);
            if (st.reclaim_upcalls != before.st.reclaim_upcalls || st.exiles != before.st.exiles) {
                if (pm_task_info(W.pm, caller, &info) == PM_OK &&
                    info.allocated != before.ti[ti].allocated) {
                    fprintf(stderr, "fuzz-ops: allocate failed and changed the caller's A\n");
                    abort();
                }
                *may_change = true;
            }
        }
        break;
    }
    case OP_RECLAIM:
        c = pick_handle(in, ti);
        start = number(in, false);
        cnt = number(in, true);
        err = pm_container_reclaim(W.pm, caller, c, fix_range(start, cnt), cnt);
        break;
    case OP_MAP: {
        c = pick_handle(in, ti);
        start = number(in, false);
        cnt = number(in, true);
        start = fix_range(start, cnt);
        fl = flags(in, 3);
        uint8_t b = byte(in);
        uint64_t va = VA_BASE + (uint64_t)(b & 0x3f) * PG;
        if (b & 0x40)
            va += 0x800; /* unaligned */
        if ((b & 0xc0) == 0xc0)
            va = (1ull << 48) - PG; /* at the top of the address space */
        uint32_t asked = cnt;
        err = pm_container_map(W.pm, caller, c, start, &cnt, fl, va);
        /* A map that fails (EIO or ENOSPC from the swap device, EBUSY from
         * a pinned copy-on-write frame) keeps the frames it bound before
         * failing (docs/fuzzing.md, "Findings"): unless $FUZZ_OPS_STRICT,
         * bindings made are not counted as a change; all else is. */
        lenient_bind = !strict;
        /* Nor are the copy-on-write breaks it made for earlier frames
         * (FORCE_WRITE): a failing map is not compared at all. */
        *may_change = !strict;
        if (err == PM_OK && (cnt == 0 || cnt > asked)) {
            fprintf(stderr, "fuzz-ops: map succeeded with count %u of %u\n", cnt, asked);
            abort();
        }
        break;
    }
    case OP_COPY:
    case OP_COPY_SCATTER:
    case OP_COPY_GATHER:
    case OP_COPY_SCATTER_GATHER: {
        c = pick_handle(in, ti);
        d = pick_handle(in, ti);
        n = number(in, true);
        uint32_t len = n <= 8 ? n : 8; /* lists hold at most 8 */
        fl = flags(in, 3);
        frame_t s0 = fix_range(number(in, false), n), d0 = fix_range(number(in, false), n);
        pick_frames(in, fa, len);
        pick_frames(in, fb, len);
        switch (op) {
        case OP_COPY:
            err = pm_container_copy(W.pm, caller, c, s0, d, d0, n, fl, &ferr);
            break;
        case OP_COPY_SCATTER:
            err = pm_container_copy_scatter(W.pm, caller, c, s0, d, fb, len, fl, &ferr);
            break;
        case OP_COPY_GATHER:
            err = pm_container_copy_gather(W.pm, caller, c, fa, d, d0, len, fl, &ferr);
            break;
        default:
            err = pm_container_copy_scatter_gather(W.pm, caller, c, fa, d, fb, len, fl, &ferr);
            break;
        }
        /* Without ALL_OR_NONE the pairs before the failing one stay copied. */
        *may_change = !(fl & CONT_COPY_ALL_OR_NONE) && (err == PM_ENOMEM || err == PM_ENOENT);
        break;
    }
    case OP_CREATE_WITH:
    case OP_CREATE_FROM:
    case OP_CREATE_GATHER:
        c = op == OP_CREATE_WITH ? PM_CONTAINER_NONE : pick_handle(in, ti);
        n = number(in, true);
        remote = pick_task(in, &ri);
        if (op == OP_CREATE_WITH) {
            err = pm_container_create_with(W.pm, caller, n, remote, &out, &weak);
        } else if (op == OP_CREATE_FROM) {
            err = pm_container_create_from(W.pm, caller, c, fix_range(number(in, false), n), n,
                                           remote, &out, &weak);
        } else {
            n = n <= 8 ? n : 8;
            pick_frames(in, fa, n);
            err = pm_container_create_gather(W.pm, caller, c, fa, n, remote, &out, &weak);
        }
        if (err == PM_OK) {
            if (ti < NTASKS) {
                remember(ti, out);
                remember(ti, weak);
            }
            if (ri < NTASKS)
                remember(ri, weak);
        }
        break;
    case OP_RELEASE_DATA:
        c = pick_handle(in, ti);
        n = number(in, true);
        n = n <= 8 ? n : 8;
        pick_frames(in, fa, n);
        err = pm_release_data(W.pm, caller, c, fa, n);
        break;
    case OP_INFO: {
        /* Read-only calls: they must change nothing, whatever they answer. */
        struct pm_frame_info fi;
        struct pm_container_info ci;
        frame_t next;
        struct pm_task_info tinfo;
        c = pick_handle(in, ti);
        frame_t f = number(in, false);
        pm_physmem_tick(W.pm);
        snap_take(&before);
        (void)pm_frame_info(W.pm, caller, c, f, &fi);
        (void)pm_container_info(W.pm, caller, c, &ci);
        (void)pm_container_next(W.pm, caller, c, f, &next);
        (void)pm_task_info(W.pm, caller, &tinfo);
        (void)pm_free_frames(W.pm);
        snap_same("an inspection call", PM_OK);
        *may_change = true; /* checked already */
        break;
    }
    case OP_WRITE:
    case OP_READ: {
        /* Simulated accesses by the task's thread (no pager: EFAULT when
         * nothing is mapped); they break copy-on-write only through
         * FORCE_WRITE maps, so a write to a read-only mapping faults. */
        uint8_t b = byte(in), v = byte(in);
        unsigned char buf[2 * PG];
        size_t len = 1 + (size_t)(v & 0x0f) * 512;
        uint64_t va = VA_BASE + (uint64_t)(b & 0x3f) * PG + (uint64_t)(b & 0xc0) * 16;
        memset(buf, v, sizeof buf);
        if (ti < NTASKS) {
            err = l4_access(W.k, W.t[ti].thread, op == OP_WRITE ? L4_ACCESS_WRITE : L4_ACCESS_READ,
                            va, buf, len, NULL);
            if (err != PM_OK && err != PM_EFAULT) {
                fprintf(stderr, "fuzz-ops: an access failed with %s\n", pm_strerror(err));
                abort();
            }
        }
        *may_change = true;
        break;
    }
    case OP_ADVANCE: {
        uint8_t b = byte(in);
        l4_clock_advance(W.k, b < 0x80 ? (pm_time_t)b * 1000 : (pm_time_t)(b - 0x7f) * 1000000);
        pm_physmem_tick(W.pm);
        *may_change = true;
        break;
    }
    case OP_SET_GUARANTEE: {
        /* Never over-commit (that is the policy server's promise, SPEC §4,
         * and pm_check rightly reports it): G stays within what the other
         * tasks leave of MAX_G, which leaves room for the policy buffer. */
        uint8_t b = byte(in);
        uint64_t g = b % 20u, others = 0;
        for (unsigned i = 0; i < NTASKS; i++) {
            struct pm_task_info info;
            if (i != ti && pm_task_info(W.pm, W.t[i].id, &info) == PM_OK)
                others += info.guaranteed;
        }
        if (g + others > MAX_G)
            g = MAX_G - others;
        err = pm_task_set_guarantee(W.pm, caller, g, b & 0x20);
        *may_change = true; /* not a call with an atomic contract */
        break;
    }
    case OP_SWAP: {
        pm_swap_id_t ids[64];
        c = pick_handle(in, ti);
        n = number(in, true);
        start = fix_range(number(in, false), n);
        /* IDS has room for 64: a larger count (which cannot succeed on 16
         * frames) is passed as 0, which must be EINVAL. */
        err = pm_swap(W.pm, caller, c, start, n <= 64 ? n : 0, ids);
        if (err == PM_OK && ti < NTASKS)
            for (uint32_t i = 0; i < n; i++) {
                struct task *t = &W.t[ti];
                t->swap[t->nswap++ % NSWAP] = ids[i];
            }
        break;
    }
    case OP_SWAP_BACK: {
        uint8_t b = byte(in);
        c = pick_handle(in, ti);
        frame_t f = number(in, false);
        pm_swap_id_t id = b;
        if (ti < NTASKS && W.t[ti].nswap > 0 && b < 0xf0)
            id = W.t[ti].swap[b % (W.t[ti].nswap < NSWAP ? W.t[ti].nswap : NSWAP)];
        switch (byte(in) % 3) {
        case 0:
            err = pm_swap_in(W.pm, caller, id, c, f);
            break;
        case 1:
            err = pm_swap_recover(W.pm, caller, id, c, f);
            break;
        default:
            err = pm_swap_discard(W.pm, caller, id);
            break;
        }
        break;
    }
    case OP_SWAP_FLUSH: {
        uint64_t written;
        err = pm_swap_flush(W.pm, byte(in) % 4, &written);
        *may_change = true; /* writes what it can */
        break;
    }
    case OP_SWAP_FAIL: {
        uint8_t b = byte(in);
        W.fail_write = b & 1;
        W.fail_read = b & 2;
        *may_change = true;
        break;
    }
    case OP_PRESSURE: {
        struct pm_pressure_result pr;
        err = pm_pressure(W.pm, byte(in) % (FRAMES + 4), &pr);
        *may_change = true;
        break;
    }
    case OP_ANSWER: {
        /* Task 1 gives back what it owes: soft deallocations from its first
         * frames, as a task that complies with pm_return_frames does. */
        struct task *t = &W.t[1];
        if (t->owed > 0 && t->nh > 0) {
            cnt = (uint32_t)(t->owed < 8 ? t->owed : 8);
            err = pm_container_deallocate(W.pm, t->id, t->h[byte(in) % NHANDLES % t->nh],
                                          number(in, false), &cnt,
                                          CONT_DEALLOC_SOFT | CONT_DEALLOC_PARTIAL);
            t->owed -= cnt < t->owed ? cnt : t->owed;
        }
        *may_change = true;
        break;
    }
    case OP_REMOVE:
        err = pm_task_remove(W.pm, caller);
        if (err == PM_OK && ti < NTASKS)
            W.t[ti].removed = true;
        *may_change = true;
        break;
    case OP_EXILE:
        err = pm_task_exile(W.pm, caller);
        *may_change = true;
        break;
    case OP_CONTROL: {
        uint8_t b = byte(in);
        if (b & 1) {
            err = pm_get_control(W.pm, caller, &out);
            if (err == PM_OK)
                W.control = out;
        } else {
            remote = pick_task(in, &ri);
            err = pm_control_give(W.pm, caller, W.control, remote, &out);
            if (err == PM_OK)
                W.control = out;
        }
        *may_change = true; /* the policy buffer takes a frame */
        break;
    }
    default:
        break;
    }
    return err;
}

/* True for the operations that are physmem calls with the atomic contract
 * (a failure changes nothing unless a flag says otherwise): only for them
 * is a snapshot taken before the call. */
static bool atomic_op(enum op op)
{
    switch (op) {
    case OP_INFO: /* takes its own */
    case OP_WRITE:
    case OP_READ:
    case OP_ADVANCE:
    case OP_SET_GUARANTEE:
    case OP_SWAP_FLUSH:
    case OP_SWAP_FAIL:
    case OP_PRESSURE:
    case OP_ANSWER:
    case OP_REMOVE:
    case OP_EXILE:
    case OP_CONTROL:
        return false;
    default:
        return true;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    if (trace < 0)
        trace = getenv("FUZZ_OPS_TRACE") != NULL;
    if (strict < 0)
        strict = getenv("FUZZ_OPS_STRICT") != NULL;
    world_init(1 + byte(&in) % 31);
    /* A guarantee for some tasks ends first come, first served. */
    uint8_t g = byte(&in);
    if (g & 0x80) {
        for (unsigned i = 0; i < NTASKS; i++)
            (void)pm_task_set_guarantee(W.pm, W.t[i].id, (g >> (2 * i)) & 3 ? 3 : 0, (g >> i) & 1);
    }
    for (unsigned k = 0; k < MAX_OPS && in.left > 0; k++) {
        enum op op = (enum op)(byte(&in) % OP_COUNT);
        /* Deadlines first, so that a failing call's own tick changes nothing. */
        pm_physmem_tick(W.pm);
        if (atomic_op(op))
            snap_take(&before);
        bool may_change = false;
        lenient_bind = false;
        pm_error_t err = run_op(op, &in, &may_change);
        if (trace > 0)
            fprintf(stderr, "fuzz-ops: %u: %s: %s\n", k, op_names[op], pm_strerror(err));
        if (err != PM_OK && !may_change && atomic_op(op))
            snap_same(op_names[op], err);
        if (pm_check(W.pm, report, (void *)op_names[op]) != 0)
            abort();
    }
    world_fini();
    return 0;
}
