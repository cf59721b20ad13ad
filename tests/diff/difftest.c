/* difftest.c — the differential tester (difftest.h).
 *
 * A stream is a list of ops drawn from a seeded generator that looks at the
 * model to pick meaningful arguments (a task's live capabilities most of
 * the time; others' capabilities, stale ones, 0 and junk the rest; ranges
 * in and out of bounds; every flag and an unknown one).  Each op runs on a
 * fresh machine's physmem and on the model; capabilities an op returns are
 * named by the op that made them, so that an op taken out by the minimiser
 * leaves the others' arguments meaning what they meant. */
#include "difftest.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"
#include "pmsim/pool.h"
#include "refmodel.h"

#define FRAMES 96
#define PAGE 4096
#define GUARANTEE (FRAMES / RM_TASKS)
#define MAXLIST 6
/* Where task T maps frame F: its own region, a page per identifier. */
#define VA(t, f) ((UINT64_C(1) << 32) * (uint64_t)((t) + 1) + (uint64_t)(f)*PAGE)

enum op_kind {
    OP_CREATE,
    OP_DESTROY,
    OP_SHARE,
    OP_GIVE,
    OP_REVOKE,
    OP_LOCK,
    OP_UNLOCK,
    OP_ADVANCE,
    OP_ALLOC,
    OP_DEALLOC,
    OP_WRITE,
    OP_READ,
    OP_MAP,
    OP_COPY,
    OP_CREATE_WITH,
    OP_CREATE_FROM,
    OP_RELEASE,
    OP_INFO,
    OP_NEXT,
    OP_KILL,
    OP_KINDS
};

static const char *const op_names[OP_KINDS] = {
    "create",      "destroy",     "share",        "give",  "revoke", "lock", "unlock",
    "advance",     "allocate",    "deallocate",   "write", "read",   "map",  "copy",
    "create_with", "create_from", "release_data", "info",  "next",   "kill",
};

const char *dt_op_name(unsigned k)
{
    return k < OP_KINDS ? op_names[k] : NULL;
}

/* A capability argument: output WHICH (0 the full one, 1 the weak one) of
 * op OP, or the literal LIT when OP < 0. */
struct href {
    int op, which;
    uint64_t lit;
};

struct op {
    enum op_kind kind;
    int orig; /* its index in the stream as generated */
    int task, remote;
    struct href a, b; /* container (source); destination, or the share to revoke */
    frame_t start, start2;
    uint32_t count;
    unsigned flags;
    uint64_t x; /* a tag, a duration, a time, an address */
    bool list1, list2;
    frame_t l1[MAXLIST], l2[MAXLIST];
};

/* The machine and the model side by side. */
struct world {
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    l4_task_t tid[RM_TASKS];
    l4_thread_t th[RM_TASKS];
    struct rm *m;
    container_t (*outs)[2]; /* by original op index */
    int nouts;
    const struct dt_options *opt;
    struct dt_result *res;
    char *what;
    bool diverged;
    bool last_ok; /* the op succeeded on both sides */
};

static bool world_new(struct world *w, const struct dt_options *opt, int nouts)
{
    memset(w, 0, sizeof *w);
    w->opt = opt;
    struct pm_pool_config pc = {.page_size = PAGE, .frames = FRAMES, .retain_frames = 16};
    if (pm_pool_new(&pc, &w->pool) != PM_OK)
        return false;
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w->pool), .page_size = PAGE, .frames = FRAMES};
    if (l4_kernel_new(&kc, &w->k) != PM_OK)
        return false;
    struct pm_physmem_config cfg = {
        .pool = w->pool, .kernel = w->k, .thread = l4_root_thread(w->k)};
    if (pm_physmem_new(&cfg, &w->pm) != PM_OK)
        return false;
    w->m = g_new(struct rm, 1);
    rm_init(w->m, FRAMES);
    for (int t = 0; t < RM_TASKS; t++) {
        if (l4_task_create(w->k, &w->tid[t]) != PM_OK ||
            l4_thread_create(w->k, w->tid[t], &w->th[t]) != PM_OK ||
            pm_task_add(w->pm, w->tid[t], w->th[t]) != PM_OK)
            return false;
        if (opt->guarantees) {
            (void)pm_task_set_guarantee(w->pm, w->tid[t], GUARANTEE, false);
            (void)rm_set_guarantee(w->m, t, GUARANTEE);
        }
    }
    w->outs = g_malloc0_n(nouts > 0 ? (gsize)nouts : 1, sizeof *w->outs);
    w->nouts = nouts;
    return true;
}

static void world_free(struct world *w)
{
    pm_physmem_free(w->pm);
    l4_kernel_free(w->k);
    pm_pool_free(w->pool);
    g_free(w->m);
    g_free(w->outs);
}

/* The first divergence: what it was, in words. */
static void diverge(struct world *w, const struct op *o, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void diverge(struct world *w, const struct op *o, const char *fmt, ...)
{
    if (w->diverged)
        return;
    w->diverged = true;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (w->what != NULL)
        g_snprintf(w->what, 512, "op %d (%s by task %d): %s", o->orig, op_names[o->kind], o->task,
                   msg);
    g_free(msg);
}

/* A value physmem gave and the model's, compared. */
static void same(struct world *w, const struct op *o, uint64_t real, uint64_t model,
                 const char *what)
{
    if (w->res != NULL)
        w->res->checks++;
    if (real != model)
        diverge(w, o, "%s: physmem %llu, model %llu", what, (unsigned long long)real,
                (unsigned long long)model);
}

/* The results of a call, compared; the op succeeded if both did. */
static void same_err(struct world *w, const struct op *o, pm_error_t real, pm_error_t model)
{
    w->last_ok &= real == PM_OK && model == PM_OK;
    if (w->res != NULL)
        w->res->checks++;
    if (real != model)
        diverge(w, o, "result: physmem %s, model %s", pm_strerror(real), pm_strerror(model));
}

static container_t resolve(const struct world *w, struct href h)
{
    if (h.op < 0)
        return h.lit;
    if (h.op >= w->nouts)
        return UINT64_C(0xDEAD00000001);
    return w->outs[h.op][h.which];
}

/* ---- running one op ------------------------------------------------------------ */

static void fill(unsigned char *page, uint64_t tag)
{
    memset(page, (int)(tag & 0xFF), PAGE);
}

static void run_op(struct world *w, const struct op *o)
{
    struct rm *m = w->m;
    int t = o->task;
    l4_task_t me = t < RM_TASKS ? w->tid[t] : 999;
    container_t a = resolve(w, o->a), b = resolve(w, o->b);
    pm_error_t er, em;
    container_t ro = 0, mo = 0, rw = 0, mw = 0;
    uint32_t rc, mc;
    frame_t rfe = 12345, mfe = 12345;
    static unsigned char buf[PAGE], want[PAGE];
    w->last_ok = true;
    switch (o->kind) {
    case OP_CREATE:
        er = pm_container_create(w->pm, me, &ro);
        em = rm_create(m, t, &mo);
        same_err(w, o, er, em);
        same(w, o, ro, mo, "handle");
        w->outs[o->orig][0] = ro;
        break;
    case OP_DESTROY:
        same_err(w, o, pm_container_destroy(w->pm, me, a), rm_destroy(m, t, a));
        break;
    case OP_SHARE:
    case OP_GIVE: {
        l4_task_t rem = w->tid[o->remote];
        if (o->kind == OP_SHARE) {
            er = pm_container_share(w->pm, me, a, rem, &ro);
            em = rm_share(m, t, a, o->remote, &mo);
        } else {
            er = pm_container_give(w->pm, me, a, rem, &ro);
            em = rm_give(m, t, a, o->remote, &mo);
        }
        same_err(w, o, er, em);
        same(w, o, ro, mo, "handle");
        w->outs[o->orig][0] = ro;
        break;
    }
    case OP_REVOKE:
        same_err(w, o, pm_container_revoke(w->pm, me, a, b), rm_revoke(m, t, a, b));
        break;
    case OP_LOCK:
        same_err(w, o, pm_container_lock(w->pm, me, a, o->x), rm_lock(m, t, a, o->x));
        break;
    case OP_UNLOCK:
        same_err(w, o, pm_container_unlock(w->pm, me, a), rm_unlock(m, t, a));
        break;
    case OP_ADVANCE:
        l4_clock_advance(w->k, o->x);
        m->now += o->x;
        break;
    case OP_ALLOC:
        rc = mc = o->count;
        er = pm_container_allocate(w->pm, me, a, o->start, &rc, o->flags);
        em = rm_allocate(m, t, a, o->start, &mc, o->flags);
        same_err(w, o, er, em);
        same(w, o, rc, mc, "count");
        break;
    case OP_DEALLOC:
        rc = mc = o->count;
        er = pm_container_deallocate(w->pm, me, a, o->start, &rc, o->flags);
        em = rm_deallocate(m, t, a, o->start, &mc, o->flags);
        same_err(w, o, er, em);
        same(w, o, rc, mc, "count");
        break;
    case OP_MAP:
    case OP_WRITE:
    case OP_READ: {
        bool writable[8] = {false};
        rc = mc = o->count;
        uint64_t va = o->x;
        er = pm_container_map(w->pm, me, a, o->start, &rc, o->flags, va);
        em = rm_map(m, t, a, o->start, &mc, o->flags, va, writable);
        same_err(w, o, er, em);
        same(w, o, rc, mc, "count");
        if (er != PM_OK || em != PM_OK || o->kind == OP_MAP)
            break;
        if (o->kind == OP_WRITE) {
            fill(buf, o->start2);
            er = l4_access(w->k, w->th[t], L4_ACCESS_WRITE, va, buf, PAGE, NULL);
            same_err(w, o, er, writable[0] ? PM_OK : PM_EFAULT);
            if (er == PM_OK && writable[0])
                rm_write(m, t, a, o->start, o->start2);
        } else {
            struct pm_frame_info fi;
            int d = 0;
            (void)rm_frame_info(m, t, a, o->start, &fi, &d);
            er = l4_access(w->k, w->th[t], L4_ACCESS_READ, va, buf, PAGE, NULL);
            same_err(w, o, er, PM_OK);
            fill(want, d != 0 ? m->d[d].tag : 0);
            if (er == PM_OK && memcmp(buf, want, PAGE) != 0)
                diverge(w, o, "read through a mapping of frame %u: byte %u, model %u", o->start,
                        buf[0], want[0]);
        }
        break;
    }
    case OP_COPY:
        if (o->list1 && o->list2)
            er = pm_container_copy_scatter_gather(w->pm, me, a, o->l1, b, o->l2, o->count, o->flags,
                                                  &rfe);
        else if (o->list2)
            er = pm_container_copy_scatter(w->pm, me, a, o->start, b, o->l2, o->count, o->flags,
                                           &rfe);
        else if (o->list1)
            er = pm_container_copy_gather(w->pm, me, a, o->l1, b, o->start2, o->count, o->flags,
                                          &rfe);
        else
            er = pm_container_copy(w->pm, me, a, o->start, b, o->start2, o->count, o->flags, &rfe);
        em = rm_copy(m, t, a, o->start, o->list1 ? o->l1 : NULL, b, o->start2,
                     o->list2 ? o->l2 : NULL, o->count, o->flags, &mfe);
        same_err(w, o, er, em);
        same(w, o, rfe, mfe, "frame_error");
        break;
    case OP_CREATE_WITH:
    case OP_CREATE_FROM: {
        l4_task_t rem = w->tid[o->remote];
        if (o->kind == OP_CREATE_WITH)
            er = pm_container_create_with(w->pm, me, o->count, rem, &ro, &rw);
        else if (o->list1)
            er = pm_container_create_gather(w->pm, me, a, o->l1, o->count, rem, &ro, &rw);
        else
            er = pm_container_create_from(w->pm, me, a, o->start, o->count, rem, &ro, &rw);
        if (o->kind == OP_CREATE_FROM && a == PM_CONTAINER_NONE)
            em = t < RM_TASKS && m->task[t].live ? PM_EBADF : PM_ESRCH; /* no source: no copy */
        else
            em = rm_create_from(m, t, o->kind == OP_CREATE_WITH ? PM_CONTAINER_NONE : a, o->start,
                                o->list1 ? o->l1 : NULL, o->count, o->remote, &mo, &mw);
        same_err(w, o, er, em);
        same(w, o, ro, mo, "handle");
        same(w, o, rw, mw, "weak handle");
        w->outs[o->orig][0] = ro;
        w->outs[o->orig][1] = rw;
        break;
    }
    case OP_RELEASE:
        same_err(w, o, pm_release_data(w->pm, me, a, o->l1, o->count),
                 rm_release(m, t, a, o->l1, o->count));
        break;
    case OP_INFO: {
        struct pm_container_info ri = {0}, mi = {0};
        er = pm_container_info(w->pm, me, a, &ri);
        em = rm_container_info(m, t, a, &mi);
        same_err(w, o, er, em);
        struct pm_frame_info rf = {0}, mf = {0};
        er = pm_frame_info(w->pm, me, a, o->start, &rf);
        em = rm_frame_info(m, t, a, o->start, &mf, NULL);
        same_err(w, o, er, em);
        break;
    }
    case OP_NEXT: {
        frame_t rn = 777, mn = 777;
        er = pm_container_next(w->pm, me, a, o->start, &rn);
        em = rm_container_next(m, t, a, o->start, &mn);
        same_err(w, o, er, em);
        same(w, o, rn, mn, "next identifier");
        break;
    }
    case OP_KILL:
        same_err(w, o, pm_task_remove(w->pm, me), rm_task_remove(m, t));
        break;
    case OP_KINDS:
        break;
    }
}

/* ---- comparing the whole state ----------------------------------------------------- */

static void report_problem(void *ctx, const char *problem)
{
    struct world *w = ctx;
    if (w->what != NULL && !w->diverged) {
        w->diverged = true;
        g_snprintf(w->what, 512, "invariant: %s", problem);
    }
}

static void compare_tasks(struct world *w, const struct op *o)
{
    for (int t = 0; t < RM_TASKS; t++) {
        struct pm_task_info ri = {0}, mi = {0};
        pm_error_t er = pm_task_info(w->pm, w->tid[t], &ri), em = rm_task_info(w->m, t, &mi);
        same_err(w, o, er, em);
        if (er != PM_OK || em != PM_OK)
            continue;
        same(w, o, ri.guaranteed, mi.guaranteed, "G");
        same(w, o, ri.allocated, mi.allocated, "A");
        same(w, o, ri.extra, mi.extra, "E");
        same(w, o, ri.containers, mi.containers, "containers owned");
        same(w, o, ri.capabilities, mi.capabilities, "capabilities held");
    }
    if (pm_check(w->pm, report_problem, w) != 0 && !w->diverged)
        diverge(w, o, "invariants broken");
}

/* Every live capability's view of its container, every frame of every live
 * container (its physical frame matched one to one with the model's data)
 * and every byte of every bound frame. */
static void compare_all(struct world *w, const struct op *o)
{
    struct rm *m = w->m;
    int pfn_data[FRAMES];
    int data_pfn[RM_GROUPS];
    for (int i = 0; i < FRAMES; i++)
        pfn_data[i] = 0;
    for (int i = 0; i < RM_GROUPS; i++)
        data_pfn[i] = -1;
    static unsigned char want[PAGE];
    bool *seen = g_new0(bool, RM_CONTAINERS);
    if (w->res != NULL)
        w->res->full_checks++;
    for (int k = 0; k < m->ncaps && !w->diverged; k++) {
        const struct rm_cap *cap = &m->cap[k];
        if (!cap->live)
            continue;
        container_t h = rm_handle(m, k);
        l4_task_t me = w->tid[cap->task];
        struct pm_container_info ri = {0}, mi = {0};
        same_err(w, o, pm_container_info(w->pm, me, h, &ri),
                 rm_container_info(m, cap->task, h, &mi));
        same(w, o, ri.owner, w->tid[mi.owner], "owner");
        same(w, o, ri.weak, mi.weak, "weak");
        same(w, o, ri.frames, mi.frames, "frames in the container");
        same(w, o, ri.locked, mi.locked, "locked");
        same(w, o, ri.id, mi.id, "container id");
        if (seen[cap->container])
            continue;
        seen[cap->container] = true;
        for (frame_t f = 0; f < RM_IDS + 1 && !w->diverged; f++) {
            struct pm_frame_info rf = {0}, mf = {0};
            int d = 0;
            pm_error_t er = pm_frame_info(w->pm, me, h, f, &rf);
            pm_error_t em = rm_frame_info(m, cap->task, h, f, &mf, &d);
            same_err(w, o, er, em);
            if (er != PM_OK || em != PM_OK)
                continue;
            same(w, o, rf.bound, mf.bound, "bound");
            same(w, o, rf.cow, mf.cow, "copy-on-write");
            same(w, o, rf.group_size, mf.group_size, "share group size");
            if (!rf.bound || !mf.bound)
                continue;
            uint32_t pfn = rf.pfn.n;
            if (pfn >= FRAMES) {
                diverge(w, o, "frame %u has pfn %u past the pool", f, pfn);
                continue;
            }
            if (data_pfn[d] < 0 && pfn_data[pfn] == 0) {
                data_pfn[d] = (int)pfn;
                pfn_data[pfn] = d;
            } else if (data_pfn[d] != (int)pfn || pfn_data[pfn] != d) {
                diverge(w, o,
                        "frame %u of container %u: physical frames and model data do not "
                        "correspond one to one",
                        f, ri.id);
                continue;
            }
            fill(want, m->d[d].tag);
            const unsigned char *base = pm_pool_base(w->pool);
            if (memcmp(base + (size_t)pfn * PAGE, want, PAGE) != 0)
                diverge(w, o, "bytes of frame %u of container %u differ (first %u, model %u)", f,
                        ri.id, base[(size_t)pfn * PAGE], want[0]);
        }
    }
    g_free(seen);
}

/* ---- generating ------------------------------------------------------------------------- */

struct gen {
    GRand *r;
    struct href *cap_ref; /* by model capability index */
};

static int rnd(struct gen *g, int n)
{
    return (int)g_rand_int_range(g->r, 0, n);
}

/* A capability argument for TASK. */
static struct href pick(struct gen *g, const struct rm *m, int task)
{
    int live[RM_CAPS / 8], nl = 0;
    int roll = rnd(g, 100);
    for (int i = 0; i < m->ncaps && nl < (int)G_N_ELEMENTS(live); i++)
        if (m->cap[i].live && m->cap[i].task == task)
            live[nl++] = i;
    if (roll < 72 && nl > 0)
        return g->cap_ref[live[rnd(g, nl)]];
    if (roll < 88 && m->ncaps > 0)
        return g->cap_ref[rnd(g, m->ncaps)]; /* anyone's, live or not */
    if (roll < 94)
        return (struct href){.op = -1, .lit = 0};
    return (struct href){.op = -1, .lit = ((uint64_t)g_rand_int(g->r) << 32) | g_rand_int(g->r)};
}

/* A frame identifier of the container H names (as TASK's capability, if
 * it is one), most of the time one that holds a frame. */
static frame_t pick_frame(struct gen *g, const struct rm *m, struct href h)
{
    int cap = -1;
    for (int i = 0; h.op >= 0 && i < m->ncaps; i++)
        if (g->cap_ref[i].op == h.op && g->cap_ref[i].which == h.which)
            cap = i;
    if (cap >= 0 && rnd(g, 5) != 0) {
        const struct rm_container *c = &m->c[m->cap[cap].container];
        frame_t have[RM_IDS];
        int n = 0;
        for (int f = 0; f < RM_IDS; f++)
            if (c->frame[f] != 0)
                have[n++] = (frame_t)f;
        if (n > 0)
            return have[rnd(g, n)];
    }
    return (frame_t)rnd(g, RM_IDS);
}

/* Most of the time a full capability of TASK (one it owns or was given),
 * else what pick gives. */
static struct href pick_full(struct gen *g, const struct rm *m, int task)
{
    int full[RM_CAPS / 8], n = 0;
    for (int i = 0; i < m->ncaps && n < (int)G_N_ELEMENTS(full); i++)
        if (m->cap[i].live && m->cap[i].task == task && !m->cap[i].weak)
            full[n++] = i;
    if (n > 0 && rnd(g, 10) < 7)
        return g->cap_ref[full[rnd(g, n)]];
    return pick(g, m, task);
}

/* A free identifier of the container H names, most of the time. */
static frame_t pick_free(struct gen *g, const struct rm *m, struct href h)
{
    for (int i = 0; h.op >= 0 && i < m->ncaps; i++) {
        if (g->cap_ref[i].op != h.op || g->cap_ref[i].which != h.which || rnd(g, 5) == 0)
            continue;
        const struct rm_container *c = &m->c[m->cap[i].container];
        frame_t free_ids[RM_IDS];
        int n = 0;
        for (int f = 0; f < RM_IDS; f++)
            if (c->frame[f] == 0)
                free_ids[n++] = (frame_t)f;
        if (n > 0)
            return free_ids[rnd(g, n)];
        break;
    }
    return (frame_t)rnd(g, RM_IDS);
}

static unsigned pick_flags(struct gen *g, unsigned valid)
{
    unsigned f = (unsigned)rnd(g, 16) & valid;
    if (rnd(g, 40) == 0)
        f |= 1u << 7; /* unknown */
    return f;
}

static void pick_range(struct gen *g, struct op *o, bool alloc)
{
    int roll = rnd(g, 100);
    if (roll < 2) {
        o->start = UINT32_MAX - 2;
        o->count = 8; /* past 2^32 */
        return;
    }
    if (roll < 4) {
        o->start = (frame_t)rnd(g, RM_IDS);
        o->count = 0;
        return;
    }
    o->start = (frame_t)rnd(g, RM_IDS);
    o->count = 1 + (uint32_t)rnd(g, 6);
    if (alloc && o->start + o->count > RM_IDS)
        o->count = RM_IDS - o->start;
    if (!alloc && rnd(g, 20) == 0)
        o->start += RM_IDS; /* nothing there */
}

static void pick_list(struct gen *g, frame_t *l, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        l[i] = (frame_t)rnd(g, RM_IDS + 1);
}

static void generate(struct gen *g, const struct rm *m, int index, struct op *o)
{
    static const int weight[OP_KINDS] = {
        [OP_CREATE] = 5,  [OP_DESTROY] = 3, [OP_SHARE] = 5,       [OP_GIVE] = 2,
        [OP_REVOKE] = 3,  [OP_LOCK] = 3,    [OP_UNLOCK] = 2,      [OP_ADVANCE] = 2,
        [OP_ALLOC] = 14,  [OP_DEALLOC] = 9, [OP_WRITE] = 10,      [OP_READ] = 5,
        [OP_MAP] = 4,     [OP_COPY] = 14,   [OP_CREATE_WITH] = 2, [OP_CREATE_FROM] = 3,
        [OP_RELEASE] = 3, [OP_INFO] = 3,    [OP_NEXT] = 2,        [OP_KILL] = 0,
    };
    int total = 0;
    for (int k = 0; k < OP_KINDS; k++)
        total += weight[k];
    memset(o, 0, sizeof *o);
    o->orig = index;
    o->kind = OP_KILL;
    if (rnd(g, 6000) != 0) {
        int x = rnd(g, total);
        for (int k = 0; k < OP_KINDS; k++) {
            if (x < weight[k]) {
                o->kind = (enum op_kind)k;
                break;
            }
            x -= weight[k];
        }
    }
    o->task = rnd(g, RM_TASKS);
    o->remote = rnd(g, RM_TASKS);
    bool owner_only =
        o->kind == OP_DESTROY || o->kind == OP_SHARE || o->kind == OP_GIVE || o->kind == OP_REVOKE;
    o->a = owner_only ? pick_full(g, m, o->task) : pick(g, m, o->task);
    o->b = pick(g, m, o->task);
    switch (o->kind) {
    case OP_REVOKE: {
        /* Most of the time a share of the container named. */
        int ka = -1;
        for (int i = 0; i < m->ncaps; i++)
            if (g->cap_ref[i].op == o->a.op && g->cap_ref[i].which == o->a.which && o->a.op >= 0)
                ka = i;
        if (ka >= 0 && rnd(g, 4) != 0)
            for (int i = 0; i < m->ncaps; i++)
                if (m->cap[i].live && m->cap[i].weak &&
                    m->cap[i].container == m->cap[ka].container && rnd(g, 2) == 0)
                    o->b = g->cap_ref[i];
        break;
    }
    case OP_LOCK:
        o->x = rnd(g, 30) == 0 ? 0 : 1 + (uint64_t)rnd(g, 2000);
        break;
    case OP_UNLOCK:
        /* Most of the time a container this task holds a lease on. */
        for (int i = 0, look = rnd(g, 4) != 0; look && i < m->ncaps; i++) {
            const struct rm_cap *k = &m->cap[i];
            const struct rm_container *c = &m->c[k->container];
            if (k->live && k->task == o->task && c->locked && c->lock_holder == o->task &&
                m->now < c->lock_until) {
                o->a = g->cap_ref[i];
                break;
            }
        }
        break;
    case OP_ADVANCE:
        o->x = 1 + (uint64_t)rnd(g, 1000);
        break;
    case OP_ALLOC:
        o->a = pick_full(g, m, o->task);
        pick_range(g, o, true);
        if (o->count > 0 && o->count < 8 && rnd(g, 10) < 7) {
            o->start = pick_free(g, m, o->a);
            o->count = 1 + (uint32_t)rnd(g, 3);
            if (o->start + o->count > RM_IDS)
                o->count = RM_IDS - o->start;
        }
        o->flags = pick_flags(g, CONT_ALLOC_PARTIAL | CONT_ALLOC_SQUASH | CONT_ALLOC_EXTRA);
        break;
    case OP_DEALLOC:
        o->a = pick_full(g, m, o->task);
        pick_range(g, o, false);
        if (o->count > 0 && o->count < 8 && rnd(g, 2) == 0) {
            o->start = pick_frame(g, m, o->a);
            o->count = 1 + (uint32_t)rnd(g, 2);
        }
        o->flags = pick_flags(g, CONT_DEALLOC_PARTIAL | CONT_DEALLOC_SQUASH);
        break;
    case OP_WRITE:
    case OP_READ:
    case OP_MAP:
        pick_range(g, o, false);
        if (o->count > 0 && rnd(g, 4) != 0)
            o->start = pick_frame(g, m, o->a);
        if (o->kind != OP_MAP)
            o->count = 1;
        else if (o->count > 0 && rnd(g, 2) == 0)
            o->count = 1 + (uint32_t)rnd(g, 2);
        if (o->kind == OP_MAP) {
            o->flags = pick_flags(g, CONT_MAP_READ | CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE);
            if (rnd(g, 10) != 0)
                o->flags |= rnd(g, 2) ? CONT_MAP_READ : CONT_MAP_WRITE;
        } else if (o->kind == OP_READ)
            o->flags = CONT_MAP_READ;
        else
            o->flags = CONT_MAP_WRITE | (rnd(g, 4) != 0 ? CONT_MAP_FORCE_WRITE : 0);
        o->x = VA(o->task, o->start % 64) + (rnd(g, 50) == 0 ? 8 : 0);
        o->start2 = 1 + (frame_t)rnd(g, 255); /* the byte a write fills with */
        break;
    case OP_COPY:
        /* Both capabilities the task's own, most of the time. */
        for (int side = 0; side < 2; side++) {
            int live[RM_CAPS / 8], nl = 0;
            for (int i = 0; i < m->ncaps && nl < (int)G_N_ELEMENTS(live); i++)
                if (m->cap[i].live && m->cap[i].task == o->task)
                    live[nl++] = i;
            if (nl > 0 && rnd(g, 10) < 8)
                *(side ? &o->b : &o->a) = g->cap_ref[live[rnd(g, nl)]];
        }
        pick_range(g, o, false);
        if (o->count > MAXLIST)
            o->count = MAXLIST;
        if (rnd(g, 3) == 0)
            o->b = o->a; /* within one container */
        if (o->count > 0 && rnd(g, 3) != 0) {
            o->count = 1 + (uint32_t)rnd(g, rnd(g, 2) ? 1 : 3);
            o->start = pick_frame(g, m, o->a);
        }
        o->start2 = rnd(g, 3) != 0 ? pick_frame(g, m, o->b) : (frame_t)rnd(g, RM_IDS);
        o->list1 = rnd(g, 4) == 0;
        o->list2 = rnd(g, 4) == 0;
        if (o->count > 0 && o->count <= MAXLIST) {
            pick_list(g, o->l1, o->count);
            pick_list(g, o->l2, o->count);
        } else {
            o->list1 = o->list2 = false;
        }
        for (uint32_t i = 0; o->count <= MAXLIST && i < o->count; i++) {
            if (rnd(g, 2) == 0)
                o->l1[i] = pick_frame(g, m, o->a);
            if (rnd(g, 2) == 0)
                o->l2[i] = pick_frame(g, m, o->b);
        }
        o->flags = pick_flags(g, CONT_COPY_SHARED | CONT_COPY_MOVE | CONT_COPY_ALL_OR_NONE);
        if ((o->flags & CONT_COPY_SHARED) && (o->flags & CONT_COPY_MOVE) && rnd(g, 4) != 0)
            o->flags &= ~(unsigned)(rnd(g, 2) ? CONT_COPY_SHARED : CONT_COPY_MOVE);
        break;
    case OP_CREATE_WITH:
    case OP_CREATE_FROM:
        for (int i = 0, look = rnd(g, 5) != 0; look && i < m->ncaps; i++)
            if (m->cap[i].live && m->cap[i].task == o->task && rnd(g, 3) == 0) {
                o->a = g->cap_ref[i]; /* a source of its own */
                break;
            }
        o->start = pick_frame(g, m, o->a);
        o->count = rnd(g, 25) == 0 ? 0 : 1 + (uint32_t)rnd(g, rnd(g, 4) ? 1 : MAXLIST);
        o->list1 = o->kind == OP_CREATE_FROM && rnd(g, 3) == 0 && o->count > 0;
        for (int i = 0; i < MAXLIST; i++)
            o->l1[i] = pick_frame(g, m, o->a);
        break;
    case OP_RELEASE:
        o->count = rnd(g, 25) == 0 ? 0 : 1 + (uint32_t)rnd(g, 4);
        for (int i = 0; i < MAXLIST; i++)
            o->l1[i] = pick_frame(g, m, o->a);
        break;
    case OP_INFO:
    case OP_NEXT:
        o->start = rnd(g, 3) ? pick_frame(g, m, o->a) : (frame_t)rnd(g, RM_IDS + 2);
        break;
    default:
        break;
    }
}

/* After an op ran: the capabilities it made, named by it. */
static void name_caps(struct gen *g, const struct rm *m, int before, const struct op *o)
{
    for (int i = before, which = 0; i < m->ncaps; i++, which++)
        g->cap_ref[i] = (struct href){.op = o->orig, .which = which};
}

/* ---- running a stream ------------------------------------------------------------------ */

/* Run OPS[0 … N − 1] on a fresh world; the index of the op after which
 * the first divergence showed, or −1. */
static int replay(const struct dt_options *opt, const struct op *ops, int n, int nouts, char *what)
{
    struct world w;
    if (!world_new(&w, opt, nouts)) {
        world_free(&w);
        return -1;
    }
    w.what = what;
    int at = -1;
    for (int i = 0; i < n && at < 0; i++) {
        run_op(&w, &ops[i]);
        compare_tasks(&w, &ops[i]);
        if (!w.diverged)
            compare_all(&w, &ops[i]);
        if (w.diverged)
            at = i;
    }
    world_free(&w);
    return at;
}

/* Take ops out while the divergence stays (ddmin, chunks halving). */
static int minimise(const struct dt_options *opt, struct op *ops, int n, int nouts)
{
    struct op *trial = g_new(struct op, n > 0 ? n : 1);
    char what[512];
    for (int chunk = n / 2; chunk >= 1; chunk /= 2) {
        for (int from = 0; from < n;) {
            int len = chunk < n - from ? chunk : n - from, m = 0;
            for (int i = 0; i < n; i++)
                if (i < from || i >= from + len)
                    trial[m++] = ops[i];
            int at = m > 0 ? replay(opt, trial, m, nouts, what) : -1;
            if (at >= 0) {
                memcpy(ops, trial, (size_t)(at + 1) * sizeof *ops);
                n = at + 1;
            } else {
                from += len;
            }
        }
    }
    g_free(trial);
    return n;
}

/* ---- the scenario a divergence is written as ------------------------------------------- */

static void yaml_flags(GString *s, unsigned flags, const char *const *names, unsigned n)
{
    g_string_append(s, ", flags: [");
    bool first = true;
    for (unsigned i = 0; i < n; i++)
        if (flags & (1u << i)) {
            g_string_append_printf(s, "%s%s", first ? "" : ", ", names[i]);
            first = false;
        }
    g_string_append(s, "]");
}

static void yaml_list(GString *s, const char *key, const frame_t *l, uint32_t n)
{
    g_string_append_printf(s, ", %s: [", key);
    for (uint32_t i = 0; i < n; i++)
        g_string_append_printf(s, "%s%u", i ? ", " : "", l[i]);
    g_string_append(s, "]");
}

/* The name a capability argument has in TASK's name space, or NULL when no
 * name can give it (junk, 0, or another task's capability).  REF: as the
 * share a revoke names (the owner names a share by the sharee's name). */
static const char *cap_name(const struct op *ops, int n, struct href h, int task, bool ref,
                            char *buf)
{
    for (int i = 0; h.op >= 0 && i < n; i++) {
        const struct op *o = &ops[i];
        if (o->orig != h.op)
            continue;
        bool weak = o->kind == OP_SHARE || h.which == 1;
        int holder =
            o->kind == OP_SHARE || o->kind == OP_GIVE || h.which == 1 ? o->remote : o->task;
        if (ref ? !(weak && task == o->task) : task != holder)
            return NULL;
        g_snprintf(buf, 32, "%s%d", weak ? "w" : "c", h.op);
        return buf;
    }
    return NULL;
}

static void write_scenario(const struct dt_options *opt, const struct op *ops, int n,
                           const char *what)
{
    static const char *const alloc_f[] = {"partial", "squash", "extra", "dma"};
    static const char *const dealloc_f[] = {"partial", "squash", "soft"};
    static const char *const map_f[] = {"read", "write", "force_write"};
    static const char *const copy_f[] = {"shared", "move", "all_or_none"};
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "name: differential divergence (seed %llu)\n"
                           "description: >\n  Found by the differential tester (tests/diff), "
                           "minimised to %d ops: %s.\n  Expectations are the reference "
                           "model's.\nseed: 1\nmachine: { frames: %d }\npolicy: { kind: fixed }\n"
                           "tasks:\n",
                           (unsigned long long)opt->seed, n, what, FRAMES);
    for (int t = 0; t < RM_TASKS; t++) {
        if (opt->guarantees)
            g_string_append_printf(s, "  t%d: { guaranteed: %d, pager: none }\n", t, GUARANTEE);
        else
            g_string_append_printf(s, "  t%d: { pager: none }\n", t);
    }
    g_string_append(s, "steps:\n");
    /* Run the ops on the model alone, for the outcomes to expect. */
    struct rm *m = g_new(struct rm, 1);
    rm_init(m, FRAMES);
    for (int t = 0; opt->guarantees && t < RM_TASKS; t++)
        (void)rm_set_guarantee(m, t, GUARANTEE);
    container_t(*outs)[2] = g_malloc0_n((gsize)ops[n - 1].orig + 1, sizeof *outs);
    for (int i = 0; i < n; i++) {
        const struct op *o = &ops[i];
        char na[32], nb[32];
        container_t a = o->a.op < 0 ? o->a.lit : outs[o->a.op][o->a.which];
        container_t b = o->b.op < 0 ? o->b.lit : outs[o->b.op][o->b.which];
        const char *an = cap_name(ops, n, o->a, o->task, false, na);
        const char *bn = cap_name(ops, n, o->b, o->task, o->kind == OP_REVOKE, nb);
        pm_error_t e = PM_OK;
        container_t mo = 0, mw = 0;
        uint32_t cnt = o->count;
        frame_t fe = 0;
        bool writable[8] = {false};
        GString *st = g_string_new(NULL);
        bool named = true;
        g_string_append_printf(st, "  - { task: t%d, do: %s", o->task,
                               o->kind == OP_READ || o->kind == OP_WRITE ? "map"
                                                                         : op_names[o->kind]);
        switch (o->kind) {
        case OP_CREATE:
            e = rm_create(m, o->task, &mo);
            g_string_append_printf(st, ", as: c%d", o->orig);
            break;
        case OP_DESTROY:
            e = rm_destroy(m, o->task, a);
            g_string_append_printf(st, ", container: %s", an ? an : "?");
            named = an != NULL;
            break;
        case OP_SHARE:
        case OP_GIVE:
            e = o->kind == OP_SHARE ? rm_share(m, o->task, a, o->remote, &mo)
                                    : rm_give(m, o->task, a, o->remote, &mo);
            g_string_append_printf(st, ", container: %s, %s: t%d, as: %s%d", an ? an : "?",
                                   o->kind == OP_SHARE ? "with" : "to", o->remote,
                                   o->kind == OP_SHARE ? "w" : "c", o->orig);
            named = an != NULL;
            break;
        case OP_REVOKE:
            e = rm_revoke(m, o->task, a, b);
            g_string_append_printf(st, ", container: %s, ref: %s", an ? an : "?", bn ? bn : "?");
            named = an != NULL && bn != NULL;
            break;
        case OP_LOCK:
            e = rm_lock(m, o->task, a, o->x);
            g_string_append_printf(st, ", container: %s, duration: %llu", an ? an : "?",
                                   (unsigned long long)o->x);
            named = an != NULL;
            break;
        case OP_UNLOCK:
            e = rm_unlock(m, o->task, a);
            g_string_append_printf(st, ", container: %s", an ? an : "?");
            named = an != NULL;
            break;
        case OP_ADVANCE:
            m->now += o->x;
            g_string_printf(st, "  - { task: t%d, do: advance, time: %llu", o->task,
                            (unsigned long long)o->x);
            break;
        case OP_ALLOC:
        case OP_DEALLOC:
            e = o->kind == OP_ALLOC ? rm_allocate(m, o->task, a, o->start, &cnt, o->flags)
                                    : rm_deallocate(m, o->task, a, o->start, &cnt, o->flags);
            g_string_append_printf(st, ", container: %s, start: %u, count: %u", an ? an : "?",
                                   o->start, o->count);
            if (o->kind == OP_ALLOC)
                yaml_flags(st, o->flags, alloc_f, 4);
            else
                yaml_flags(st, o->flags, dealloc_f, 3);
            if (e != PM_OK && cnt != 0)
                g_string_append_printf(st, ", expect_count: %u", cnt);
            named = an != NULL && (o->flags >> 7) == 0;
            break;
        case OP_MAP:
        case OP_WRITE:
        case OP_READ:
            e = rm_map(m, o->task, a, o->start, &cnt, o->flags, o->x, writable);
            g_string_append_printf(st, ", container: %s, start: %u, count: %u, at: 0x%llx",
                                   an ? an : "?", o->start, o->count, (unsigned long long)o->x);
            yaml_flags(st, o->flags, map_f, 3);
            named = an != NULL && (o->flags >> 7) == 0;
            break;
        case OP_COPY:
            e = rm_copy(m, o->task, a, o->start, o->list1 ? o->l1 : NULL, b, o->start2,
                        o->list2 ? o->l2 : NULL, o->count, o->flags, &fe);
            g_string_append_printf(st, ", src: %s", an ? an : "?");
            if (o->list1)
                yaml_list(st, "src_frames", o->l1, o->count);
            else
                g_string_append_printf(st, ", src_start: %u", o->start);
            g_string_append_printf(st, ", dest: %s", bn ? bn : "?");
            if (o->list2)
                yaml_list(st, "dest_frames", o->l2, o->count);
            else
                g_string_append_printf(st, ", dest_start: %u", o->start2);
            g_string_append_printf(st, ", count: %u", o->count);
            yaml_flags(st, o->flags, copy_f, 3);
            if (e == PM_ENOMEM || e == PM_ENOENT)
                g_string_append_printf(st, ", expect_frame_error: %u", fe);
            named = an != NULL && bn != NULL && (o->flags >> 7) == 0;
            break;
        case OP_CREATE_WITH:
        case OP_CREATE_FROM:
            e = rm_create_from(m, o->task, o->kind == OP_CREATE_WITH ? PM_CONTAINER_NONE : a,
                               o->start, o->list1 ? o->l1 : NULL, o->count, o->remote, &mo, &mw);
            if (o->kind == OP_CREATE_FROM && o->list1)
                g_string_printf(st, "  - { task: t%d, do: create_gather, source: %s", o->task,
                                an ? an : "?");
            else if (o->kind == OP_CREATE_FROM)
                g_string_append_printf(st, ", source: %s, start: %u", an ? an : "?", o->start);
            if (o->list1)
                yaml_list(st, "frames", o->l1, o->count);
            else
                g_string_append_printf(st, ", count: %u", o->count);
            g_string_append_printf(st, ", with: t%d, as: c%d, weak: w%d", o->remote, o->orig,
                                   o->orig);
            named = o->kind == OP_CREATE_WITH || an != NULL;
            break;
        case OP_RELEASE:
            e = rm_release(m, o->task, a, o->l1, o->count);
            g_string_append_printf(st, ", container: %s", an ? an : "?");
            yaml_list(st, "frames", o->l1, o->count);
            named = an != NULL && o->count > 0;
            break;
        case OP_KILL:
            e = rm_task_remove(m, o->task);
            break;
        case OP_INFO:
        case OP_NEXT:
        case OP_KINDS:
            named = false;
            break;
        }
        if (o->kind != OP_ADVANCE && e != PM_OK)
            g_string_append_printf(st, ", expect: %s", pm_strerror(e));
        g_string_append(st, " }\n");
        if (!named) {
            g_string_append_printf(s,
                                   "  # op %d (%s) takes an argument no scenario name gives: "
                                   "left out\n",
                                   o->orig, op_names[o->kind]);
        } else {
            g_string_append(s, st->str);
            if (o->kind == OP_WRITE && e == PM_OK)
                g_string_append_printf(
                    s, "  - { task: t%d, do: write, at: 0x%llx, bytes: %d, pattern: %u%s }\n",
                    o->task, (unsigned long long)o->x, PAGE, o->start2,
                    writable[0] ? "" : ", expect: EFAULT");
            if (o->kind == OP_WRITE && e == PM_OK && writable[0])
                rm_write(m, o->task, a, o->start, o->start2);
            if (o->kind == OP_READ && e == PM_OK) {
                struct pm_frame_info fi;
                int d = 0;
                (void)rm_frame_info(m, o->task, a, o->start, &fi, &d);
                g_string_append_printf(
                    s, "  - { task: t%d, do: read, at: 0x%llx, bytes: %d, expect_pattern: %llu }\n",
                    o->task, (unsigned long long)o->x, PAGE,
                    (unsigned long long)(d != 0 ? m->d[d].tag : 0));
            }
        }
        g_string_free(st, TRUE);
        outs[o->orig][0] = mo;
        outs[o->orig][1] = mw;
    }
    if (opt->scenario_out != NULL)
        (void)g_file_set_contents(opt->scenario_out, s->str, -1, NULL);
    if (opt->log != NULL)
        fputs(s->str, opt->log);
    g_free(outs);
    g_free(m);
    g_string_free(s, TRUE);
}

/* One machine's share of a stream: N ops, numbered from 0.  Returns
 * false on a divergence (minimised and written). */
static bool epoch(const struct dt_options *opt, struct dt_result *res, struct gen *g, int n)
{
    struct world w;
    res->machines++;
    if (!world_new(&w, opt, n)) {
        world_free(&w);
        g_strlcpy(res->what, "cannot make the machine", sizeof res->what);
        return false;
    }
    w.res = res;
    w.what = res->what;
    memset(g->cap_ref, 0, RM_CAPS * sizeof *g->cap_ref);
    struct op *ops = g_new(struct op, n > 0 ? n : 1);
    unsigned every = opt->full_every > 0 ? opt->full_every : 1;
    int at = -1;
    for (int i = 0; i < n; i++) {
        generate(g, w.m, i, &ops[i]);
        const struct op *o = &ops[i];
        int before = w.m->ncaps;
        run_op(&w, o);
        name_caps(g, w.m, before, o);
        res->ops++;
        res->by_kind[o->kind]++;
        res->ok_by_kind[o->kind] += w.last_ok;
        compare_tasks(&w, o);
        bool full = w.m->ncaps > RM_CAPS - 16 || w.m->ncontainers > RM_CONTAINERS - 16;
        if (!w.diverged && (i % every == 0 || i == n - 1 || full))
            compare_all(&w, o);
        if (w.diverged) {
            at = i;
            break;
        }
        if (full)
            break; /* the model's tables are full: a fresh machine */
    }
    world_free(&w);
    if (at >= 0) {
        res->divergences = 1;
        if (opt->log != NULL)
            fprintf(opt->log, "divergence after %d ops: %s\n", at + 1, res->what);
        int m = minimise(opt, ops, at + 1, n);
        res->minimal_ops = (uint64_t)m;
        char what[512] = "";
        if (replay(opt, ops, m, n, what) >= 0)
            write_scenario(opt, ops, m, what);
    }
    g_free(ops);
    return at < 0;
}

bool dt_run(const struct dt_options *opt, struct dt_result *res)
{
    memset(res, 0, sizeof *res);
    uint64_t per = opt->epoch > 0 ? opt->epoch : 5000;
    struct gen g = {.r = g_rand_new_with_seed((guint32)(opt->seed ^ (opt->seed >> 32))),
                    .cap_ref = g_new0(struct href, RM_CAPS)};
    bool ok = true;
    while (ok && res->ops < opt->ops) {
        uint64_t left = opt->ops - res->ops;
        ok = epoch(opt, res, &g, (int)(left < per ? left : per));
    }
    g_free(g.cap_ref);
    g_rand_free(g.r);
    return ok;
}
