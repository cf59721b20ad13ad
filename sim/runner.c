/* runner.c — running a scenario and reporting it (SPEC §11, SCENARIO.md).
 *
 * The world is a pool, a kernel over it and physmem, and one L4 task with
 * one thread per scenario task, created in file order.  Each task has its
 * own bindings of capability names and of share references; a name bound by
 * a step that failed is bound to no capability, so using it gives EBADF.
 *
 * Steps run in order.  A parallel block interleaves its lanes by simulated
 * time: each lane has a clock of its own (its advances move it), the lane
 * whose clock is earliest goes next, ties are broken by a generator seeded
 * with the scenario's seed, and the machine's clock follows the lane that
 * runs.  Steps other than advance take no simulated time yet (the cost
 * model comes with SPEC §10).
 *
 * The report is a JSON tree built with json-glib; the final expectations
 * are paths into it, and the text report is written from it too, so the
 * two always say the same. */
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "pmsim/l4sim.h"
#include "pmsim/pager.h"
#include "pmsim/physmem.h"
#include "pmsim/policy.h"
#include "pmsim/pool.h"
#include "pmsim/swapfile.h"
#include "scenario_priv.h"
#include "servers.h"

/* Where a task that takes control maps the policy buffer, and where the
 * built-in policy server does: high in the address space, out of the way
 * of scenario addresses (documented in docs/scenarios.md). */
#define POLICY_BUFFER_VA 0x7f0000000000ull

struct sim_run;

/* What a task's memory control thread is handed (its handler's context). */
struct upctx {
    struct sim_run *r;
    int t;
};

struct rt_task {
    l4_task_t id; /* 0 until it starts */
    l4_thread_t thread;
    l4_thread_t memctl; /* its memory control thread (0: unready) */
    bool started;
    bool dead;                     /* killed: what it had is in `last` */
    struct l4_task_stats last;     /* its kernel counters when it died */
    struct pm_task_info last_info; /* and what physmem said of it (what it held: nothing) */
    GHashTable *caps;              /* name id + 1 → container_t */
    GHashTable *refs;              /* name id + 1 → container_t (the sharee's handle) */
    GHashTable *swaps;             /* name id + 1 → GArray of pm_swap_id_t */
    GHashTable *controls;          /* name id + 1 → 1: names bound to the control capability */
    struct upctx up;
    uint64_t upcalls, shrinks, returned; /* upcalls and shrink notices got, frames given back */
    pm_pager_t *pager;         /* its pager, made at its first use (NULL: none yet, or none) */
    sim_lazy_swap_t *pager_db; /* where its final pager pages the database */
    /* direct-map without `at`: frames of its containers whose next map
     * puts a file server's page there instead (container id << 32 | frame
     * → struct direct). */
    GHashTable *direct;
    l4_thread_t pager_thread;
    struct pm_pager_stats last_pager; /* its pager's counters when it died */
    uint64_t lent;                    /* frames its pager lent to its containers */
    GArray *lent_to;                  /* struct loan: where they went */
    uint64_t exposed;       /* steps after which a file server held a share of its containers */
    uint64_t holds;         /* a file server: clients' containers it holds now */
    struct sim_store store; /* server: store */
    bool store_open;
    struct sim_fileserver fs; /* server: file, once it served */
    bool fs_up;
};

/* An answer a task owes to an upcall, given when the clock reaches DUE. */
struct reply {
    int task;
    bool shrink;    /* a shrink notice: give back down to NEW_G */
    uint64_t count; /* a pm_return_frames: this many */
    uint64_t new_g;
    pm_time_t due;
};

/* What a step did, kept compact while the run goes; the report's "steps"
 * array is built from these only when something reads it (an expectation
 * on a steps.N path, the JSON or text report). */
enum rec_value { REC_NONE, REC_COUNT, REC_MAPPED, REC_FRAME_ERROR };

struct step_rec {
    unsigned line;
    int task;
    uint8_t op;         /* enum sim_op */
    uint8_t value_kind; /* enum rec_value */
    bool ok;
    pm_error_t outcome, expect;
    uint32_t value;
    uint64_t time_ns;
    uint64_t cost_ns; /* what the step's events cost (machine.cost) */
    uint64_t host_ns; /* the host's wall time running it */
};

struct sim_run {
    const struct sim_scenario *sc;
    const struct sim_run_options *opt;
    pm_pool_t *pool;
    l4_kernel_t *k;
    pm_physmem_t *pm;
    struct rt_task *tasks;
    GPtrArray *failures; /* char * */
    GArray *recs;        /* struct step_rec, one a step run */
    bool steps_built;    /* the report's "steps" holds them */
    size_t nsteps;
    GRand *rand;
    GPtrArray *task_of_l4; /* l4 task id → task index + 1 */
    sim_swapfile_t *swapf;
    pm_policy_t *policy; /* the built-in policy server (policy.kind) */
    l4_task_t policy_task;
    GArray *replies;  /* struct reply, in the order they were owed */
    GPtrArray *files; /* struct filectx *: the sources of file-backed ranges */
    /* What the built-in policy server cost: kept out of the counters, which
     * are the scenario tasks', and reported under "policy". */
    struct l4_stats pol_k;
    struct pm_stats pol_pm;
    JsonNode *report;
    uint64_t host_ns, host_cpu_ns;
    bool setup_failed;
    /* The cost model (SPEC §10): events counted when last charged, and
     * what they cost so far, in all and by kind. */
    struct sim_cost_counts charged;
    uint64_t charged_copy;
    bool priced; /* the table prices something (not none): every step is charged */
    double cost_ns, cost_by[SIM_COST_KINDS];
    /* The steps marked measure: true, in all. */
    uint64_t measured_steps, measured_cost_ns, measured_host_ns;
    struct sim_cost_counts measured_events; /* their events (copy: bytes, all in copy.cold) */
    bool host_mmu;                          /* the host-MMU back end */
    size_t invariant_failures;              /* broken invariants found (check mode) */
    struct sim_kill_result kill;            /* the kill injected (opt->kill_task) */
};

G_GNUC_PRINTF(2, 3)
static void failure(struct sim_run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(r->failures, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static const char *task_name(const struct sim_run *r, int t)
{
    return t >= 0 ? ((struct sim_task_def *)g_ptr_array_index(r->sc->tasks, t))->name : "-";
}

static const char *l4_task_name(const struct sim_run *r, l4_task_t id)
{
    if (id == L4_ROOT_TASK)
        return "physmem";
    if (id < r->task_of_l4->len) {
        int t = GPOINTER_TO_INT(g_ptr_array_index(r->task_of_l4, id));
        if (t > 0)
            return task_name(r, t - 1);
    }
    return "?";
}

/* ---- tracing --------------------------------------------------------------- */

static void trace_l4(void *ctx, const struct l4_event *ev)
{
    struct sim_run *r = ctx;
    char details[160];
    l4_event_details(ev, l4_task_name(r, ev->from), details, sizeof details);
    fprintf(r->opt->trace, "trace %12llu ns  %-7s %-10s%s\n", (unsigned long long)ev->time,
            l4_event_kind_name(ev->kind), l4_task_name(r, ev->task), details);
}

static void trace_pm(void *ctx, const struct pm_event *ev)
{
    struct sim_run *r = ctx;
    FILE *f = r->opt->trace;
    fprintf(f, "trace %12llu ns  %-13s %-10s", (unsigned long long)ev->time,
            pm_event_kind_name(ev->kind), ev->task ? l4_task_name(r, ev->task) : "physmem");
    switch (ev->kind) {
    case PM_EV_COPY:
    case PM_EV_MOVE:
        fprintf(f, " container %u frame %u -> container %u frame %u count %llu\n", ev->container,
                ev->frame, ev->to_container, ev->to_frame, (unsigned long long)ev->count);
        break;
    case PM_EV_MAP:
        fprintf(f, " container %u frame %u count %llu at 0x%llx\n", ev->container, ev->frame,
                (unsigned long long)ev->count, (unsigned long long)ev->vaddr);
        break;
    case PM_EV_BIND:
    case PM_EV_UNMAP:
        fprintf(f, " container %u frame %u pfn %u\n", ev->container, ev->frame, ev->pfn.n);
        break;
    case PM_EV_COW_BREAK:
        fprintf(f, " pfn %u -> %u (%llu frames)\n", ev->old_pfn.n, ev->pfn.n,
                (unsigned long long)ev->count);
        break;
    case PM_EV_SOFT_LOST:
        fprintf(f, " pfn %u (%llu soft references)\n", ev->pfn.n, (unsigned long long)ev->count);
        break;
    case PM_EV_OVERCOMMIT:
        fprintf(f, " guarantees %llu over %u frames available\n", (unsigned long long)ev->count,
                ev->to_frame);
        break;
    case PM_EV_RETURN_FRAMES:
        fprintf(f, " asked for %llu frames by %llu ns\n", (unsigned long long)ev->count,
                (unsigned long long)ev->vaddr);
        break;
    case PM_EV_EXILE:
        fprintf(f, " %llu frames dropped\n", (unsigned long long)ev->count);
        break;
    case PM_EV_SWAP_WRITE:
        fprintf(f, " pfn %u to slot %llu\n", ev->pfn.n, (unsigned long long)ev->vaddr);
        break;
    case PM_EV_SWAP_ERROR:
        fprintf(f, " slot %llu: %s\n", (unsigned long long)ev->vaddr,
                pm_strerror((pm_error_t)ev->count));
        break;
    case PM_EV_SWAP_IN:
        fprintf(f, " container %u frame %u%s\n", ev->container, ev->frame,
                ev->count ? " (read from the swap file)" : " (from memory)");
        break;
    default:
        fprintf(f, " container %u frame %u count %llu\n", ev->container, ev->frame,
                (unsigned long long)ev->count);
        break;
    }
}

/* ---- the world --------------------------------------------------------------- */

/* Counters before a piece of the built-in policy server's work; after it,
 * its cost goes to the policy server's account. */
struct snap {
    struct l4_stats k;
    struct pm_stats pm;
};

static void snap_take(const struct sim_run *r, struct snap *s)
{
    l4_stats(r->k, &s->k);
    pm_stats(r->pm, &s->pm);
}

/* A += (now − BEFORE), field by field (both structs are all uint64_t). */
static void add_delta(uint64_t *acc, const uint64_t *now, const uint64_t *before, size_t n)
{
    for (size_t i = 0; i < n; i++)
        acc[i] += now[i] - before[i];
}

static void snap_charge(struct sim_run *r, const struct snap *before)
{
    G_STATIC_ASSERT(sizeof(struct l4_stats) % sizeof(uint64_t) == 0);
    G_STATIC_ASSERT(sizeof(struct pm_stats) % sizeof(uint64_t) == 0);
    struct snap now;
    snap_take(r, &now);
    add_delta((uint64_t *)(void *)&r->pol_k, (const uint64_t *)(const void *)&now.k,
              (const uint64_t *)(const void *)&before->k, sizeof now.k / sizeof(uint64_t));
    add_delta((uint64_t *)(void *)&r->pol_pm, (const uint64_t *)(const void *)&now.pm,
              (const uint64_t *)(const void *)&before->pm, sizeof now.pm / sizeof(uint64_t));
}

static container_t cap_of(const struct sim_run *r, int t, int name);

/* A memory control thread receiving: physmem's pm_return_frames and the
 * policy server's shrink notices.  A task without a pager answers as its
 * on_return says; the answer is given by settle(), after the call that
 * sent the upcall returned (the task's thread runs on its own). */
static pm_error_t on_upcall(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                            const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)self;
    (void)from;
    (void)reply;
    struct upctx *u = ctx;
    struct sim_run *r = u->r;
    struct rt_task *rt = &r->tasks[u->t];
    const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, u->t);
    struct reply x = {.task = u->t};
    pm_time_t when;
    switch (l4_msg_label(msg)) {
    case PM_LABEL_RETURN_FRAMES:
        rt->upcalls++;
        x.count = l4_msg_word(msg, 0);
        when = l4_msg_word(msg, 1);
        break;
    case PM_LABEL_SHRINK:
        rt->shrinks++;
        x.shrink = true;
        x.new_g = l4_msg_word(msg, 0);
        when = l4_msg_word(msg, 1);
        break;
    default:
        return PM_EINVAL;
    }
    if (d->on_return == RETURN_IGNORE)
        return PM_OK;
    /* A slow task answers just after the deadline: too late. */
    x.due =
        d->on_return == RETURN_SLOW ? (when == UINT64_MAX ? when : when + 1) : l4_system_clock(k);
    g_array_append_val(r->replies, x);
    return PM_OK;
}

/* Bring task T to life: an L4 task with its thread and (unless it is
 * unready) a memory control thread, known to physmem and to the policy
 * server. */
static struct pm_policy_task contract_of(const struct sim_run *r, int t)
{
    const struct rt_task *rt = &r->tasks[t];
    const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, t);
    return (struct pm_policy_task){.task = rt->id,
                                   .memctl = rt->memctl,
                                   .guaranteed = d->guaranteed,
                                   .weight = d->weight,
                                   .extra = d->extra,
                                   .swap_quota = d->swap_quota};
}

/* ANNOUNCE: tell the policy server now (a task that starts later); the
 * tasks of the start are announced together. */
static pm_error_t task_start(struct sim_run *r, int t, bool announce)
{
    struct rt_task *rt = &r->tasks[t];
    const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, t);
    pm_error_t err;
    if ((err = l4_task_create(r->k, &rt->id)) != PM_OK ||
        (err = l4_thread_create(r->k, rt->id, &rt->thread)) != PM_OK)
        return err;
    if (d->on_return != RETURN_UNREADY &&
        ((err = l4_thread_create(r->k, rt->id, &rt->memctl)) != PM_OK ||
         (err = l4_thread_set_handler(r->k, rt->memctl, on_upcall, &rt->up)) != PM_OK))
        return err;
    if ((err = pm_task_add(r->pm, rt->id, rt->thread)) != PM_OK)
        return err;
    if (rt->memctl != L4_NILTHREAD &&
        (err = pm_task_set_memctl(r->pm, rt->id, rt->memctl)) != PM_OK)
        return err;
    rt->started = true;
    if (r->task_of_l4->len <= rt->id)
        g_ptr_array_set_size(r->task_of_l4, rt->id + 1);
    g_ptr_array_index(r->task_of_l4, rt->id) = GINT_TO_POINTER(t + 1);
    if (r->policy != NULL && announce) {
        struct pm_policy_task c = contract_of(r, t);
        struct snap before;
        snap_take(r, &before);
        err = pm_policy_add_task(r->policy, &c);
        snap_charge(r, &before);
    }
    return err;
}

/* Task T gives COUNT frames back as soft references, as a task without a
 * pager complies: the highest identifiers of the containers it owns, the
 * most recently named container first. */
static uint64_t give_back(struct sim_run *r, int t, uint64_t count)
{
    struct rt_task *rt = &r->tasks[t];
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, rt->caps);
    GArray *names = g_array_new(FALSE, FALSE, sizeof(int));
    while (g_hash_table_iter_next(&it, &key, &value)) {
        int name = GPOINTER_TO_INT(key) - 1;
        g_array_append_val(names, name);
    }
    /* The most recent name first (names are numbered in file order). */
    for (guint i = 1; i < names->len; i++)
        for (guint j = i; j > 0 && g_array_index(names, int, j - 1) < g_array_index(names, int, j);
             j--) {
            int x = g_array_index(names, int, j);
            g_array_index(names, int, j) = g_array_index(names, int, j - 1);
            g_array_index(names, int, j - 1) = x;
        }
    GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    uint64_t done = 0;
    for (guint i = 0; i < names->len && done < count; i++) {
        container_t h = cap_of(r, t, g_array_index(names, int, i));
        struct pm_container_info ci;
        if (h == 0 || g_hash_table_contains(seen, &h) ||
            pm_container_info(r->pm, rt->id, h, &ci) != PM_OK || ci.weak || ci.owner != rt->id)
            continue;
        gint64 *k = g_new(gint64, 1);
        *k = (gint64)h;
        g_hash_table_add(seen, k);
        GArray *frames = g_array_new(FALSE, FALSE, sizeof(frame_t));
        frame_t f;
        for (uint64_t from = 0;
             from <= UINT32_MAX && pm_container_next(r->pm, rt->id, h, (frame_t)from, &f) == PM_OK;
             from = (uint64_t)f + 1)
            g_array_append_val(frames, f);
        for (guint j = frames->len; j > 0 && done < count; j--) {
            uint32_t one = 1;
            if (pm_container_deallocate(r->pm, rt->id, h, g_array_index(frames, frame_t, j - 1),
                                        &one, CONT_DEALLOC_SOFT) == PM_OK)
                done++;
        }
        g_array_free(frames, TRUE);
    }
    g_hash_table_destroy(seen);
    g_array_free(names, TRUE);
    rt->returned += done;
    return done;
}

/* A final pager's backing: room for the records of 2^20 database pages
 * (at 4 KiB pages, 512 GiB of ranges; a sparse file, made when first
 * written). */
#define PAGER_DB_SLOTS (1ull << 20)

/* Task T's pager, made at its first use (so that G is known by then):
 * SCENARIO.md's default pager is LRU over all of G.  NULL for a task with
 * `pager: none` or one that is not alive. */
static pm_pager_t *pager_of(struct sim_run *r, int t)
{
    struct rt_task *rt = &r->tasks[t];
    const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, t);
    if (rt->pager != NULL || d->no_pager || !rt->started || rt->dead)
        return rt->pager;
    if (rt->pager_db == NULL)
        rt->pager_db = sim_lazy_swap_new(PAGER_DB_SLOTS, pm_pager_record_page(r->sc->page_size));
    struct pm_pager_config cfg = {.pm = r->pm,
                                  .k = r->k,
                                  .thread = rt->thread,
                                  .policy = d->pager_policy,
                                  .frames = d->pager_frames,
                                  .extra = d->extra,
                                  .final_frames = (uint32_t)d->pager_final_frames,
                                  .final_backing = sim_lazy_swap_dev(rt->pager_db)};
    if (l4_thread_create(r->k, rt->id, &rt->pager_thread) != PM_OK)
        return NULL;
    cfg.pager_thread = rt->pager_thread;
    if (pm_pager_new(&cfg, &rt->pager) != PM_OK)
        return NULL;
    (void)l4_thread_set_handler(r->k, rt->pager_thread, pm_pager_on_fault, rt->pager);
    (void)l4_thread_set_pager(r->k, rt->thread, rt->pager_thread);
    return rt->pager;
}

static void pager_drop(struct sim_run *r, struct rt_task *rt)
{
    if (rt->pager == NULL)
        return;
    pm_pager_stats(rt->pager, &rt->last_pager);
    if (l4_task_exists(r->k, rt->id))
        (void)l4_thread_set_handler(r->k, rt->pager_thread, NULL, NULL);
    pm_pager_free(rt->pager);
    rt->pager = NULL;
    sim_lazy_swap_free(rt->pager_db);
    rt->pager_db = NULL;
}

/* A generated access stream (SCENARIO.md access): COUNT page references
 * over [at, at + bytes), seeded by the scenario's seed and the step. */
/* The page (number within the region) of a stream's next reference. */
static uint64_t stream_page(const struct sim_step *s, GRand *rnd, const double *cdf, uint64_t pages,
                            uint64_t i)
{
    switch (s->pattern_kind) {
    case PAT_UNIFORM: {
        uint64_t pg = (uint64_t)(g_rand_double(rnd) * (double)pages);
        return pg < pages ? pg : pages - 1;
    }
    case PAT_ZIPF: {
        double u = g_rand_double(rnd);
        uint64_t lo = 0, hi = pages - 1;
        while (lo < hi) {
            uint64_t mid = (lo + hi) / 2;
            if (cdf[mid] < u)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }
    default: /* sequential and loop: in order, round and round */
        return i % pages;
    }
}

/* The most references a stream keeps in memory at once, for a policy that
 * needs the future (OPT): 2^27 (1 GiB of page numbers). */
#define FUTURE_LIMIT (1ull << 27)

static pm_error_t run_stream(struct sim_run *r, const struct sim_step *s, pm_pager_t *pg)
{
    uint64_t pages = s->bytes / r->sc->page_size, n = s->count, base = s->at / r->sc->page_size;
    if (!pm_pager_covers(pg, s->at, s->bytes))
        return PM_EFAULT; /* the region must lie in the task's ranges */
    /* The same stream for the same parameters, whichever task runs it: the
     * way to compare eviction policies on one workload.  Pages and writes
     * come from two generators, so that the stream is the same whether it
     * is made ahead (for OPT) or as it goes. */
    char *key =
        g_strdup_printf("%llu/%llx/%llx/%d/%g/%llu/%g", (unsigned long long)r->sc->seed,
                        (unsigned long long)s->at, (unsigned long long)s->bytes, s->pattern_kind,
                        s->alpha, (unsigned long long)s->count, s->write_ratio);
    GRand *rnd = g_rand_new_with_seed(g_str_hash(key));
    GRand *wrnd = g_rand_new_with_seed(g_str_hash(key) ^ 0x9e3779b9u);
    g_free(key);
    double *cdf = NULL;
    if (s->pattern_kind == PAT_ZIPF) {
        /* P(rank k) ∝ 1 / k^alpha, page k − 1 of the region the k-th most used. */
        cdf = g_try_new(double, pages);
        if (cdf == NULL) {
            g_rand_free(rnd);
            g_rand_free(wrnd);
            return PM_ENOMEM;
        }
        double sum = 0;
        for (uint64_t k = 0; k < pages; k++)
            cdf[k] = (sum += 1.0 / pow((double)(k + 1), s->alpha));
        for (uint64_t k = 0; k < pages; k++)
            cdf[k] /= sum;
    }
    pm_error_t err = PM_OK;
    uint64_t *seq = NULL;
    if (pm_pager_wants_future(pg)) {
        seq = n <= FUTURE_LIMIT ? g_try_new(uint64_t, n) : NULL;
        if (seq == NULL)
            err = PM_ENOMEM;
        for (uint64_t i = 0; seq != NULL && i < n; i++)
            seq[i] = base + stream_page(s, rnd, cdf, pages, i);
        if (seq != NULL)
            pm_pager_set_future(pg, seq, n);
    }
    for (uint64_t i = 0; i < n && err == PM_OK; i++) {
        uint64_t page = seq != NULL ? seq[i] : base + stream_page(s, rnd, cdf, pages, i);
        bool write = s->write_ratio > 0 && g_rand_double(wrnd) < s->write_ratio;
        err = pm_pager_ref(pg, page * r->sc->page_size, write);
    }
    g_free(cdf);
    g_free(seq);
    g_rand_free(rnd);
    g_rand_free(wrnd);
    return err;
}

static pm_error_t run_trace(struct sim_run *r, const struct sim_step *s, pm_pager_t *pg)
{
    const struct sim_ref *refs = (const struct sim_ref *)(const void *)s->trace->data;
    uint64_t *seq = g_new(uint64_t, s->trace->len);
    for (guint i = 0; i < s->trace->len; i++)
        seq[i] = refs[i].addr / r->sc->page_size;
    if (pm_pager_wants_future(pg))
        pm_pager_set_future(pg, seq, s->trace->len);
    g_free(seq);
    pm_error_t err = PM_OK;
    for (guint i = 0; i < s->trace->len && err == PM_OK; i++)
        err = pm_pager_ref(pg, refs[i].addr, refs[i].write);
    return err;
}

static struct sim_env env_of(const struct sim_run *r)
{
    return (struct sim_env){.pm = r->pm, .k = r->k, .page = r->sc->page_size};
}

/* Task T's file server, set up at its first request (its store must be
 * alive by then).  NULL when it cannot be. */
static struct sim_fileserver *fileserver_of(struct sim_run *r, int t, pm_error_t *err)
{
    struct rt_task *rt = &r->tasks[t];
    const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, t);
    if (rt->dead) {
        *err = PM_ESRCH; /* a server that died serves nobody */
        return NULL;
    }
    if (rt->fs_up)
        return &rt->fs;
    struct rt_task *st = &r->tasks[d->store];
    if (!rt->started || rt->dead || !st->started || st->dead || !st->store_open) {
        *err = PM_ESRCH;
        return NULL;
    }
    st->store.task = st->id;
    st->store.thread = st->thread;
    struct sim_env e = env_of(r);
    *err = sim_fileserver_init(&rt->fs, &e, rt->id, rt->thread, &st->store,
                               (enum sim_behaviour)d->behaviour, d->keep_mappings);
    if (*err != PM_OK) {
        sim_fileserver_fini(&rt->fs);
        return NULL;
    }
    rt->fs_up = true;
    return &rt->fs;
}

/* A file-backed range of task CLIENT: its pages come from file server FS
 * by the container protocol (SPEC §9.1): the client shares its container
 * with the server, the server copies the block in, the client revokes. */
struct filectx {
    struct sim_run *r;
    int client, fs;
};

/* Ask the file server for one block into frame F0 of container IO, shared
 * with it for the request only (SPEC §9.1).  Returns the read's error, or
 * EBUSY when the share cannot be revoked (a server keeping the container
 * locked): its data cannot be trusted. */
static pm_error_t fetch_via(struct filectx *x, struct sim_fileserver *fs, container_t io,
                            frame_t f0, uint64_t offset)
{
    struct sim_run *r = x->r;
    const struct rt_task *ct = &r->tasks[x->client];
    container_t w;
    pm_error_t err = pm_container_share(r->pm, ct->id, io, r->tasks[x->fs].id, &w);
    if (err != PM_OK)
        return err;
    struct sim_env e = env_of(r);
    err = sim_read_into(fs, &e, w, f0, 1, offset, STRAT_LOGICAL_COPY, L4_NILTHREAD, 0);
    pm_error_t rv = pm_container_revoke(r->pm, ct->id, io, w);
    return err != PM_OK ? err : rv;
}

/* The block at OFFSET into frame 0 of the client's I/O container IO (the
 * server shares only that), then a logical copy into frame F of C, and IO
 * goes. */
static pm_error_t fetch_through(struct filectx *x, struct sim_fileserver *fs, container_t io,
                                container_t c, frame_t f, uint64_t offset)
{
    struct sim_run *r = x->r;
    l4_task_t task = r->tasks[x->client].id;
    pm_error_t err = fetch_via(x, fs, io, 0, offset);
    frame_t fe;
    if (err == PM_OK)
        err = pm_container_copy(r->pm, task, io, 0, c, f, 1, 0, &fe);
    if (pm_container_destroy(r->pm, task, io) != PM_OK && err == PM_OK)
        err = PM_EBUSY;
    return err;
}

static pm_error_t fetch_page(void *ctx, uint64_t offset, container_t c, frame_t f)
{
    struct filectx *x = ctx;
    struct sim_run *r = x->r;
    pm_error_t err;
    struct sim_fileserver *fs = fileserver_of(r, x->fs, &err);
    if (fs == NULL)
        return err;
    const struct rt_task *ct = &r->tasks[x->client];
    /* A short-lived I/O container of one frame: the server never holds a
     * share of the pager's own container.  The block is copied (logically)
     * into the pager's frame once the share is revoked. */
    container_t io;
    if ((err = pm_container_create(r->pm, ct->id, &io)) != PM_OK)
        return err;
    uint32_t one = 1;
    if (pm_container_allocate(r->pm, ct->id, io, 0, &one, CONT_ALLOC_EXTRA) == PM_OK)
        return fetch_through(x, fs, io, c, f, offset);
    /* No frame to spare past G (a task at its guarantee, not eligible for
     * extra): the pager gives up one of its pages (SPEC 8: the I/O
     * container's frame comes out of the task's G), and the request goes
     * through the I/O container after all. */
    one = 1;
    if (ct->pager != NULL && pm_pager_give_one(ct->pager) &&
        pm_container_allocate(r->pm, ct->id, io, 0, &one, 0) == PM_OK)
        return fetch_through(x, fs, io, c, f, offset);
    (void)pm_container_destroy(r->pm, ct->id, io);
    /* Not even that (the pager holds no other page): the request goes into
     * the pager's frame itself, its container shared for the moment. */
    return fetch_via(x, fs, c, f, offset);
}

/* A page a file server will map into its client (direct-map without
 * `at`): the client's next map of the frame puts it there. */
struct direct {
    int server;
    uint64_t block;
    /* The client's frame as it was then: a frame changed since (copied
     * into, written, swapped) has new data of its own, and the entry is
     * stale. */
    struct pm_frame_info was;
};

static uint64_t *direct_key(uint32_t cid, frame_t f)
{
    uint64_t *k = g_new(uint64_t, 1);
    *k = (uint64_t)cid << 32 | f;
    return k;
}

/* The client's side of a deferred direct-map: frames START … START + COUNT
 * − 1 of the container the server names W are to show blocks from B0. */
static void direct_defer(struct sim_run *r, int server, container_t w, frame_t start,
                         uint32_t count, uint64_t b0)
{
    struct pm_container_info ci;
    if (pm_container_info(r->pm, r->tasks[server].id, w, &ci) != PM_OK ||
        ci.owner >= r->task_of_l4->len)
        return;
    int c = GPOINTER_TO_INT(g_ptr_array_index(r->task_of_l4, ci.owner)) - 1;
    if (c < 0)
        return;
    struct rt_task *ct = &r->tasks[c];
    if (ct->direct == NULL)
        ct->direct = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    for (uint32_t i = 0; i < count; i++) {
        struct direct *d = g_new(struct direct, 1);
        *d = (struct direct){.server = server, .block = b0 + i};
        if (pm_frame_info(r->pm, r->tasks[server].id, w, start + i, &d->was) != PM_OK) {
            g_free(d);
            continue;
        }
        g_hash_table_replace(ct->direct, direct_key(ci.id, start + i), d);
    }
}

/* A map by task T of frames of H some of which a server is to fill by
 * direct-map: those pages come from the server (an L4 map item from its
 * own mapping, read-only), the others from physmem, one at a time.
 * Returns -1 when no frame of the range is such a page (an ordinary map),
 * else the error, *COUNT the frames mapped. */
static int direct_map(struct sim_run *r, int t, container_t h, const struct sim_step *s,
                      uint32_t *count)
{
    struct rt_task *rt = &r->tasks[t];
    struct pm_container_info ci;
    if (rt->direct == NULL || g_hash_table_size(rt->direct) == 0 ||
        pm_container_info(r->pm, rt->id, h, &ci) != PM_OK)
        return -1;
    bool any = false;
    for (uint32_t i = 0; i < *count && !any; i++) {
        uint64_t k = (uint64_t)ci.id << 32 | (frame_t)(s->start + i);
        any = g_hash_table_contains(rt->direct, &k);
    }
    if (!any)
        return -1;
    /* What physmem's map would refuse, it refuses here too, mapping
     * nothing: a lease that holds, a frame that is not there. */
    uint32_t n = *count, done = 0;
    *count = 0;
    if (ci.locked && !ci.weak)
        return PM_EBUSY;
    struct pm_frame_info fi;
    for (uint32_t i = 0; i < n; i++)
        if (pm_frame_info(r->pm, rt->id, h, (frame_t)(s->start + i), &fi) != PM_OK)
            return PM_ENOENT;
    /* Each frame: a live server's page (its index), or the client's own
     * frame (-1: a stale entry, a server gone, no entry). */
    int *from = g_new(int, n);
    uint64_t *blocks = g_new(uint64_t, n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t k = (uint64_t)ci.id << 32 | (frame_t)(s->start + i);
        const struct direct *d = g_hash_table_lookup(rt->direct, &k);
        pm_error_t ferr;
        from[i] = -1;
        (void)pm_frame_info(r->pm, rt->id, h, (frame_t)(s->start + i), &fi);
        if (d != NULL && fi.bound == d->was.bound && fi.pfn.n == d->was.pfn.n &&
            fileserver_of(r, d->server, &ferr) != NULL) {
            from[i] = d->server;
            blocks[i] = d->block;
        }
        g_hash_table_remove(rt->direct, &k); /* used now, or stale */
    }
    /* Runs of frames from the same place, a call each. */
    pm_error_t err = PM_OK;
    struct sim_env e = env_of(r);
    for (uint32_t i = 0; i < n && err == PM_OK;) {
        uint32_t run = 1;
        while (i + run < n && from[i + run] == from[i])
            run++;
        uint64_t va = s->at + (uint64_t)i * r->sc->page_size;
        if (from[i] >= 0) {
            pm_error_t ferr;
            err = sim_direct_map(fileserver_of(r, from[i], &ferr), &e, blocks + i, run, rt->thread,
                                 va);
            if (err == PM_OK)
                done += run;
        } else {
            /* As physmem maps: what one message carries (a short map ends
             * the step there, as it would have, unless all: true). */
            for (uint32_t m = 0; err == PM_OK && m < run;) {
                uint32_t k = run - m;
                err = pm_container_map(r->pm, rt->id, h, (frame_t)(s->start + i + m), &k, s->flags,
                                       va + (uint64_t)m * r->sc->page_size);
                if (err == PM_OK) {
                    m += k;
                    done += k;
                }
                if (err == PM_OK && m < run && !s->map_all) {
                    *count = done;
                    g_free(from);
                    g_free(blocks);
                    return (int)err;
                }
            }
        }
        i += run;
    }
    g_free(from);
    g_free(blocks);
    *count = done;
    return (int)err;
}

/* read_into / write_from by file server T. */
static pm_error_t transfer(struct sim_run *r, const struct sim_step *s, int t)
{
    pm_error_t err;
    struct sim_fileserver *fs = fileserver_of(r, t, &err);
    if (fs == NULL)
        return err;
    struct rt_task *rt = &r->tasks[t];
    container_t w = cap_of(r, t, s->container);
    struct sim_env e = env_of(r);
    if (s->op == OP_WRITE_FROM)
        return sim_write_from(fs, &e, w, (frame_t)s->start, (uint32_t)s->count, s->offset,
                              (enum sim_strategy)s->strategy);
    if (s->strategy == STRAT_DIRECT_MAP && !s->has_at) {
        /* No `at`: the blocks come into the server's cache now, and the
         * client's next map of those frames puts the server's pages there
         * (the same steps as under the other strategies). */
        pm_error_t e2 = sim_read_into(fs, &e, w, (frame_t)s->start, (uint32_t)s->count, s->offset,
                                      STRAT_DIRECT_MAP, L4_NILTHREAD, 0);
        if (e2 == PM_OK && (fs->behaviour == BEHAVE_HONEST || fs->behaviour == BEHAVE_LOCK))
            direct_defer(r, t, w, (frame_t)s->start, (uint32_t)s->count,
                         s->offset / r->sc->page_size);
        return e2;
    }
    /* direct-map goes to the client: the owner of the container. */
    l4_thread_t client = L4_NILTHREAD;
    struct pm_container_info ci;
    if (pm_container_info(r->pm, rt->id, w, &ci) == PM_OK && ci.owner < r->task_of_l4->len) {
        int c = GPOINTER_TO_INT(g_ptr_array_index(r->task_of_l4, ci.owner)) - 1;
        if (c >= 0)
            client = r->tasks[c].thread;
    }
    return sim_read_into(fs, &e, w, (frame_t)s->start, (uint32_t)s->count, s->offset,
                         (enum sim_strategy)s->strategy, client, s->at);
}

/* Frames a pager lent to one of its task's containers (SPEC §8). */
struct loan {
    container_t c; /* the task's handle */
    uint64_t n;
};

static void lend_to(struct rt_task *rt, container_t c, uint64_t n)
{
    if (n == 0)
        return;
    if (rt->lent_to == NULL)
        rt->lent_to = g_array_new(FALSE, FALSE, sizeof(struct loan));
    rt->lent += n;
    for (guint i = 0; i < rt->lent_to->len; i++)
        if (g_array_index(rt->lent_to, struct loan, i).c == c) {
            g_array_index(rt->lent_to, struct loan, i).n += n;
            return;
        }
    struct loan l = {c, n};
    g_array_append_val(rt->lent_to, l);
}

/* Frames a pager lent to a container come back as soon as that container
 * holds fewer frames than it was lent, whatever took them (destroy,
 * deallocate, swap_out, a soft give-back, an exile, a give). */
static void lending(struct sim_run *r)
{
    for (guint i = 0; i < r->sc->tasks->len; i++) {
        struct rt_task *rt = &r->tasks[i];
        if (rt->pager == NULL || rt->lent == 0 || rt->dead || rt->lent_to == NULL)
            continue;
        for (guint j = rt->lent_to->len; j-- > 0;) {
            struct loan *l = &g_array_index(rt->lent_to, struct loan, j);
            struct pm_container_info ci;
            uint64_t holds = pm_container_info(r->pm, rt->id, l->c, &ci) == PM_OK && !ci.weak &&
                                     ci.owner == rt->id
                                 ? ci.frames
                                 : 0;
            if (holds >= l->n)
                continue;
            pm_pager_take_back(rt->pager, l->n - holds);
            rt->lent -= l->n - holds;
            l->n = holds;
            if (holds == 0)
                g_array_remove_index_fast(rt->lent_to, j);
        }
    }
}

/* SPEC §9.1: a client's data is at a server's mercy only while the server
 * holds a share of its container.  After each step, every file server's
 * capabilities to other tasks' containers are counted: the client is
 * exposed for that step. */
static void exposure(struct sim_run *r)
{
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < r->sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(r->sc->tasks, i);
        struct rt_task *rt = &r->tasks[i];
        if (d->server != 1 || !rt->started || rt->dead)
            continue;
        rt->holds = 0;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, rt->caps);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            container_t h = (container_t)(uintptr_t)value;
            struct pm_container_info ci;
            if (h == 0 || pm_container_info(r->pm, rt->id, h, &ci) != PM_OK || ci.owner == rt->id ||
                ci.owner >= r->task_of_l4->len)
                continue;
            int c = GPOINTER_TO_INT(g_ptr_array_index(r->task_of_l4, ci.owner)) - 1;
            rt->holds++;
            if (c >= 0 && g_hash_table_add(seen, GINT_TO_POINTER(c + 1)))
                r->tasks[c].exposed++; /* once a step, whatever the servers */
        }
    }
    g_hash_table_destroy(seen);
}

/* After every step: what the clock allows happens, in time order —
 * physmem's deadlines (exile), the answers tasks owe, the policy server's
 * grace periods. */
static void settle(struct sim_run *r)
{
    for (;;) {
        (void)pm_physmem_tick(r->pm);
        pm_time_t now = l4_system_clock(r->k);
        guint best = r->replies->len;
        for (guint i = 0; i < r->replies->len; i++) {
            const struct reply *x = &g_array_index(r->replies, struct reply, i);
            if (x->due <= now && (best == r->replies->len ||
                                  x->due < g_array_index(r->replies, struct reply, best).due))
                best = i;
        }
        if (best == r->replies->len)
            break;
        struct reply x = g_array_index(r->replies, struct reply, best);
        g_array_remove_index(r->replies, best);
        struct rt_task *rt = &r->tasks[x.task];
        if (!rt->started || rt->dead)
            continue;
        uint64_t n = x.count;
        if (x.shrink) {
            struct pm_task_info ti;
            n = pm_task_info(r->pm, rt->id, &ti) == PM_OK && ti.allocated > x.new_g
                    ? ti.allocated - x.new_g
                    : 0;
        }
        if (rt->fs_up) {
            /* A file server gives back cached blocks first (clean: the store
             * has them), then what its pager holds. */
            struct sim_env e = env_of(r);
            uint64_t done = sim_fileserver_drop(&rt->fs, &e, n);
            if (done < n && rt->pager != NULL)
                done += pm_pager_return(rt->pager, n - done);
            rt->returned += done;
        } else {
            /* The pager gives back its clean pages first (SPEC §8); what it
             * cannot cover comes from the task's other containers. */
            uint64_t done = rt->pager != NULL ? pm_pager_return(rt->pager, n) : 0;
            rt->returned += done;
            if (done < n)
                (void)give_back(r, x.task, n - done);
        }
    }
    if (r->policy != NULL) {
        struct snap before;
        snap_take(r, &before);
        (void)pm_policy_tick(r->policy);
        snap_charge(r, &before);
    }
    (void)pm_physmem_tick(r->pm);
}

static bool world_up(struct sim_run *r)
{
    const struct sim_scenario *sc = r->sc;
    /* The machine's frames are the tasks'; physmem's own memory (the
     * policy buffer, a record per task) comes on top, as a reserve. */
    uint64_t records = sc->tasks->len + 1;
    uint32_t reserve = 1;
    while (((uint64_t)reserve * sc->page_size - sizeof(struct pm_policy_header)) /
               sizeof(struct pm_policy_record) <
           records)
        reserve *= 2;
    enum sim_backend be = r->opt->backend;
    if (be == SIM_BACKEND_DEFAULT) {
        const char *env = g_getenv("PMSIM_BACKEND");
        if (env != NULL && *env != '\0' && strcmp(env, "sim") != 0 &&
            strcmp(env, "host-mmu") != 0) {
            failure(r, "PMSIM_BACKEND: '%s' is neither sim nor host-mmu", env);
            return false;
        }
        be = env != NULL && strcmp(env, "host-mmu") == 0 ? SIM_BACKEND_HOST_MMU : SIM_BACKEND_SIM;
    }
    r->host_mmu = be == SIM_BACKEND_HOST_MMU;
    struct pm_pool_config pc = {.page_size = sc->page_size,
                                .frames = sc->frames + reserve,
                                .dma_frames = sc->dma_frames,
                                .retain_frames = PM_POOL_DEFAULT_RETAIN,
                                .backing = r->host_mmu ? PM_POOL_MEMFD : PM_POOL_ANON};
    pm_error_t err = pm_pool_new(&pc, &r->pool);
    if (err != PM_OK) {
        failure(r, "the machine cannot be made: pool of %u frames: %s", sc->frames + reserve,
                pm_strerror(err));
        return false;
    }
    struct l4_kernel_config kc = {.phys_base = pm_pool_base(r->pool),
                                  .page_size = sc->page_size,
                                  .frames = sc->frames + reserve,
                                  .map_items = sc->map_items,
                                  .host_mmu = r->host_mmu,
                                  .host_memfd = pm_pool_memfd(r->pool)};
    char *why = NULL;
    uint64_t slots = sc->swap_frames ? sc->swap_frames : sc->frames;
    if ((err = sim_swapfile_open(sc->swap_path, slots, sc->page_size, &r->swapf, &why)) != PM_OK) {
        failure(r, "the machine cannot be made: swap: %s", why != NULL ? why : pm_strerror(err));
        g_free(why);
        return false;
    }
    struct pm_physmem_config mc;
    if ((err = l4_kernel_new(&kc, &r->k)) != PM_OK ||
        (mc = (struct pm_physmem_config){.pool = r->pool,
                                         .kernel = r->k,
                                         .thread = l4_root_thread(r->k),
                                         .swap = sim_swapfile_dev(r->swapf),
                                         .return_deadline = sc->return_deadline,
                                         .victim_policy = sc->victim,
                                         .reserved_frames = reserve},
         err = pm_physmem_new(&mc, &r->pm)) != PM_OK) {
        failure(r, "the machine cannot be made: %s", pm_strerror(err));
        return false;
    }
    r->tasks = g_new0(struct rt_task, sc->tasks->len);
    for (guint i = 0; i < sc->tasks->len; i++) {
        struct rt_task *t = &r->tasks[i];
        t->caps = g_hash_table_new(g_direct_hash, g_direct_equal);
        t->refs = g_hash_table_new(g_direct_hash, g_direct_equal);
        t->swaps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                         (GDestroyNotify)g_array_unref);
        t->controls = g_hash_table_new(g_direct_hash, g_direct_equal);
        t->up = (struct upctx){r, (int)i};
    }
    if (sc->policy != NULL) {
        /* The built-in policy server: a task of its own, known to physmem
         * before any scenario task, so it takes control first. */
        l4_thread_t th;
        struct pm_policy_config pol = {
            .kind = sc->policy, .grace = sc->grace, .vaddr = POLICY_BUFFER_VA};
        struct snap before;
        snap_take(r, &before);
        if ((err = l4_task_create(r->k, &r->policy_task)) != PM_OK ||
            (err = l4_thread_create(r->k, r->policy_task, &th)) != PM_OK ||
            (err = pm_task_add(r->pm, r->policy_task, th)) != PM_OK ||
            (err = pm_policy_new(r->pm, r->k, th, &pol, &r->policy)) != PM_OK) {
            failure(r, "the policy server cannot be made: %s", pm_strerror(err));
            return false;
        }
        snap_charge(r, &before);
    }
    GArray *contracts = g_array_new(FALSE, FALSE, sizeof(struct pm_policy_task));
    for (guint i = 0; i < sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        if (d->late)
            continue;
        if ((err = task_start(r, (int)i, false)) != PM_OK) {
            failure(r, "task %s cannot be made: %s", d->name, pm_strerror(err));
            g_array_free(contracts, TRUE);
            return false;
        }
        struct pm_policy_task c = contract_of(r, (int)i);
        g_array_append_val(contracts, c);
    }
    if (r->policy != NULL) {
        struct snap before;
        snap_take(r, &before);
        err = pm_policy_add_tasks(r->policy, (const struct pm_policy_task *)(void *)contracts->data,
                                  contracts->len);
        snap_charge(r, &before);
    }
    g_array_free(contracts, TRUE);
    if (err != PM_OK) {
        failure(r, "the policy server cannot take the tasks' contracts: %s", pm_strerror(err));
        return false;
    }
    for (guint i = 0; i < sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        if (d->server != 2)
            continue;
        char *bad = NULL;
        err = sim_store_open(&r->tasks[i].store, d->backing_path, d->backing_size, d->backing_fill,
                             sc->page_size, &bad);
        if (err != PM_OK) {
            failure(r, "store %s cannot be made: %s", d->name, bad);
            g_free(bad);
            return false;
        }
        r->tasks[i].store_open = true;
    }
    settle(r); /* the policy server's first guarantees, read by physmem */
    if (r->opt->trace != NULL) {
        l4_set_event_hook(r->k, trace_l4, r);
        pm_set_event_hook(r->pm, trace_pm, r);
    }
    return true;
}

static void world_down(struct sim_run *r)
{
    if (r->tasks != NULL) {
        for (guint i = 0; i < r->sc->tasks->len; i++) {
            pager_drop(r, &r->tasks[i]);
            sim_fileserver_fini(&r->tasks[i].fs);
            if (r->tasks[i].store_open)
                sim_store_close(&r->tasks[i].store);
            if (r->tasks[i].caps)
                g_hash_table_destroy(r->tasks[i].caps);
            if (r->tasks[i].refs)
                g_hash_table_destroy(r->tasks[i].refs);
            if (r->tasks[i].swaps)
                g_hash_table_destroy(r->tasks[i].swaps);
            if (r->tasks[i].controls)
                g_hash_table_destroy(r->tasks[i].controls);
            if (r->tasks[i].direct)
                g_hash_table_destroy(r->tasks[i].direct);
            if (r->tasks[i].lent_to)
                g_array_free(r->tasks[i].lent_to, TRUE);
        }
        g_free(r->tasks);
        r->tasks = NULL;
    }
    pm_policy_free(r->policy);
    r->policy = NULL;
    pm_physmem_free(r->pm);
    sim_swapfile_close(r->swapf);
    r->swapf = NULL;
    l4_kernel_free(r->k);
    pm_pool_free(r->pool);
    r->pm = NULL;
    r->k = NULL;
    r->pool = NULL;
}

/* The handle task T has under NAME (0 if bound by a failed step). */
static container_t cap_of(const struct sim_run *r, int t, int name)
{
    return (container_t)(uintptr_t)g_hash_table_lookup(r->tasks[t].caps, GINT_TO_POINTER(name + 1));
}

static container_t ref_of(const struct sim_run *r, int t, int name)
{
    return (container_t)(uintptr_t)g_hash_table_lookup(r->tasks[t].refs, GINT_TO_POINTER(name + 1));
}

/* Bind NAME in TABLE to H after a step that gave ERR: a success binds it;
 * a failure binds it to no capability only if it names nothing yet (SPEC
 * §3.9: a name bound only by a failed step is EBADF; a failed call leaves
 * what the name held alone). */
static void bind_after(GHashTable *table, int name, pm_error_t err, container_t h)
{
    gpointer key = GINT_TO_POINTER(name + 1);
    if (err == PM_OK)
        g_hash_table_insert(table, key, (gpointer)(uintptr_t)h);
    else if (!g_hash_table_contains(table, key))
        g_hash_table_insert(table, key, NULL);
}

static void set_cap(struct sim_run *r, int t, int name, pm_error_t err, container_t h)
{
    bind_after(r->tasks[t].caps, name, err, h);
}

static void set_ref(struct sim_run *r, int t, int name, pm_error_t err, container_t h)
{
    bind_after(r->tasks[t].refs, name, err, h);
}

/* ---- memory accesses ---------------------------------------------------------- */

#define CHUNK (64u << 10)

/* The byte at offset I of what a write of S stores, or a read expects. */
static unsigned char byte_at(const struct sim_step *s, uint64_t i)
{
    if (s->data != NULL)
        return (unsigned char)s->data[i % strlen(s->data)];
    return (unsigned char)s->pattern;
}

static pm_error_t do_access(struct sim_run *r, const struct sim_step *s, char **mismatch)
{
    struct rt_task *t = &r->tasks[s->task];
    pm_pager_t *pg = pager_of(r, s->task);
    unsigned char *buf = g_malloc(s->bytes < CHUNK ? s->bytes : CHUNK);
    bool check = s->op == OP_READ && (s->pattern >= 0 || s->data != NULL || s->data_store >= 0);
    const struct sim_store *from = s->data_store >= 0 && r->tasks[s->data_store].store_open
                                       ? &r->tasks[s->data_store].store
                                       : NULL;
    unsigned char *want = from != NULL ? g_malloc(s->bytes < CHUNK ? s->bytes : CHUNK) : NULL;
    pm_error_t err = PM_OK;
    for (uint64_t pos = 0; pos < s->bytes && err == PM_OK;) {
        size_t n = s->bytes - pos < CHUNK ? (size_t)(s->bytes - pos) : CHUNK;
        size_t done = 0;
        if (s->op == OP_WRITE) {
            for (size_t i = 0; i < n; i++)
                buf[i] = byte_at(s, pos + i);
            err = pg != NULL
                      ? pm_pager_access(pg, L4_ACCESS_WRITE, s->at + pos, buf, n, &done)
                      : l4_access(r->k, t->thread, L4_ACCESS_WRITE, s->at + pos, buf, n, &done);
        } else {
            err = pg != NULL
                      ? pm_pager_access(pg, L4_ACCESS_READ, s->at + pos, buf, n, &done)
                      : l4_access(r->k, t->thread, L4_ACCESS_READ, s->at + pos, buf, n, &done);
            if (want != NULL)
                sim_store_peek(from, s->data_offset + pos, want, n);
            for (size_t i = 0; check && i < done && *mismatch == NULL; i++) {
                unsigned char w = want != NULL ? want[i] : byte_at(s, pos + i);
                if (buf[i] != w)
                    *mismatch = g_strdup_printf("the byte at 0x%llx is 0x%02x, expected 0x%02x",
                                                (unsigned long long)(s->at + pos + i), buf[i], w);
            }
        }
        pos += done;
    }
    g_free(want);
    g_free(buf);
    return err;
}

/* ---- one step ------------------------------------------------------------------ */

static const uint32_t *frames_of(const GArray *a)
{
    return a ? (const uint32_t *)a->data : NULL;
}

/* SPEC §3.9 kill: physmem lets go of everything, then the kernel deletes
 * the task with its mappings, and the policy server gives its share to the
 * others.  A `kill` step, or the kill a run is asked to inject. */
static pm_error_t kill_task(struct sim_run *r, int t)
{
    struct rt_task *rt = &r->tasks[t];
    (void)pm_task_info(r->pm, rt->id, &rt->last_info);
    pm_error_t err = pm_task_remove(r->pm, rt->id);
    if (err != PM_OK)
        return err;
    struct pm_task_info *li = &rt->last_info;
    li->guaranteed = li->allocated = li->extra = li->containers = li->capabilities = 0;
    li->swap_ids = li->owed = 0;
    l4_task_stats(r->k, rt->id, &rt->last);
    rt->last.mapped_pages = 0;
    pager_drop(r, rt);
    if (rt->fs_up)
        sim_fileserver_fini(&rt->fs); /* its statistics stay for the report */
    l4_task_delete(r->k, rt->id);
    rt->dead = true;
    if (r->policy != NULL) {
        struct snap before;
        snap_take(r, &before);
        (void)pm_policy_remove_task(r->policy, rt->id);
        snap_charge(r, &before);
    }
    return PM_OK;
}

static void run_step(struct sim_run *r, const struct sim_step *s)
{
    const struct sim_scenario *sc = r->sc;
    int t = s->task;
    struct rt_task *rt = t >= 0 ? &r->tasks[t] : NULL;
    pm_error_t err = PM_OK;
    uint32_t count = (uint32_t)s->count;
    frame_t frame_error = UINT32_MAX;
    char *mismatch = NULL;
    bool has_count = false, has_fe = false;
    container_t h = 0, w = 0;
    l4_task_t other = s->other >= 0 ? r->tasks[s->other].id : L4_NILTASK;

    switch (s->op) {
    case OP_CREATE:
        err = pm_container_create(r->pm, rt->id, &h);
        set_cap(r, t, s->as, err, h);
        break;
    case OP_DESTROY:
        err = pm_container_destroy(r->pm, rt->id, cap_of(r, t, s->container));
        break;
    case OP_SHARE:
        err = pm_container_share(r->pm, rt->id, cap_of(r, t, s->container), other, &h);
        set_cap(r, s->other, s->as, err, h);
        set_ref(r, t, s->as, err, h);
        break;
    case OP_REVOKE:
        err = pm_container_revoke(r->pm, rt->id, cap_of(r, t, s->container), ref_of(r, t, s->ref));
        break;
    case OP_GIVE:
        if (g_hash_table_contains(rt->controls, GINT_TO_POINTER(s->container + 1))) {
            /* The control capability: a policy server hands over. */
            err = pm_control_give(r->pm, rt->id, cap_of(r, t, s->container), other, &h);
            if (err == PM_OK)
                g_hash_table_add(r->tasks[s->other].controls, GINT_TO_POINTER(s->as + 1));
        } else {
            err = pm_container_give(r->pm, rt->id, cap_of(r, t, s->container), other, &h);
        }
        set_cap(r, s->other, s->as, err, h);
        break;
    case OP_LOCK:
        err = pm_container_lock(r->pm, rt->id, cap_of(r, t, s->container), s->duration);
        break;
    case OP_UNLOCK:
        err = pm_container_unlock(r->pm, rt->id, cap_of(r, t, s->container));
        break;
    case OP_ALLOCATE:
        err = pm_container_allocate(r->pm, rt->id, cap_of(r, t, s->container), (frame_t)s->start,
                                    &count, s->flags);
        struct pm_pager_stats ps0 = {0};
        if (err == PM_ENOMEM && count == 0 && rt->pager != NULL && !(s->flags & CONT_ALLOC_DMA))
            pm_pager_stats(rt->pager, &ps0);
        if (ps0.resident > 0) {
            /* Short of G while the pager holds frames: it lends some to the
             * task's other containers (SPEC §8), taken back when they are
             * destroyed. */
            uint64_t lent =
                pm_pager_lend(rt->pager, s->count < ps0.resident ? s->count : ps0.resident);
            if (lent > 0) {
                count = (uint32_t)s->count;
                err = pm_container_allocate(r->pm, rt->id, cap_of(r, t, s->container),
                                            (frame_t)s->start, &count, s->flags);
            }
            /* Only what the container got stays lent. */
            uint64_t kept = err == PM_OK || (s->flags & CONT_ALLOC_PARTIAL) ? count : 0;
            if (kept > lent)
                kept = lent;
            pm_pager_take_back(rt->pager, lent - kept);
            lend_to(rt, cap_of(r, t, s->container), kept);
        }
        has_count = true;
        break;
    case OP_DEALLOCATE:
        err = pm_container_deallocate(r->pm, rt->id, cap_of(r, t, s->container), (frame_t)s->start,
                                      &count, s->flags);
        has_count = true;
        break;
    case OP_MAP: {
        container_t mc = cap_of(r, t, s->container);
        int d = direct_map(r, t, mc, s, &count);
        if (d >= 0)
            err = (pm_error_t)d;
        else if (!s->map_all)
            err = pm_container_map(r->pm, rt->id, mc, (frame_t)s->start, &count, s->flags, s->at);
        else {
            /* Message after message until every frame is mapped. */
            uint32_t done = 0;
            for (err = PM_OK; err == PM_OK && done < count;) {
                uint32_t k = count - done;
                err = pm_container_map(r->pm, rt->id, mc, (frame_t)(s->start + done), &k, s->flags,
                                       s->at + (uint64_t)done * r->sc->page_size);
                if (err == PM_OK)
                    done += k;
            }
            count = done;
        }
        if (err != PM_OK)
            count = 0; /* a failed map mapped nothing (the call leaves the count alone) */
        has_count = true;
        break;
    }
    case OP_COPY: {
        container_t src = cap_of(r, t, s->src), dst = cap_of(r, t, s->dest);
        if (s->src_frames && s->dest_frames)
            err = pm_container_copy_scatter_gather(r->pm, rt->id, src, frames_of(s->src_frames),
                                                   dst, frames_of(s->dest_frames), count, s->flags,
                                                   &frame_error);
        else if (s->src_frames)
            err = pm_container_copy_gather(r->pm, rt->id, src, frames_of(s->src_frames), dst,
                                           (frame_t)s->dest_start, count, s->flags, &frame_error);
        else if (s->dest_frames)
            err =
                pm_container_copy_scatter(r->pm, rt->id, src, (frame_t)s->src_start, dst,
                                          frames_of(s->dest_frames), count, s->flags, &frame_error);
        else
            err = pm_container_copy(r->pm, rt->id, src, (frame_t)s->src_start, dst,
                                    (frame_t)s->dest_start, count, s->flags, &frame_error);
        has_fe = true;
        break;
    }
    case OP_CREATE_WITH:
    case OP_CREATE_FROM:
    case OP_CREATE_GATHER:
        if (s->op == OP_CREATE_WITH)
            err = pm_container_create_with(r->pm, rt->id, count, other, &h, &w);
        else if (s->op == OP_CREATE_FROM)
            err = pm_container_create_from(r->pm, rt->id, cap_of(r, t, s->src), (frame_t)s->start,
                                           count, other, &h, &w);
        else
            err = pm_container_create_gather(r->pm, rt->id, cap_of(r, t, s->src),
                                             frames_of(s->frames), s->frames->len, other, &h, &w);
        set_cap(r, t, s->as, err, h);
        set_cap(r, s->other, s->weak, err, w);
        set_ref(r, t, s->weak, err, w);
        break;
    case OP_RELEASE_DATA:
        err = pm_release_data(r->pm, rt->id, cap_of(r, t, s->container), frames_of(s->frames),
                              s->frames->len);
        break;
    case OP_WRITE:
    case OP_READ:
        err = do_access(r, s, &mismatch);
        break;
    case OP_ADVANCE:
        l4_clock_advance(r->k, s->duration);
        break;
    case OP_RECLAIM:
        err = pm_container_reclaim(r->pm, rt->id, cap_of(r, t, s->container), (frame_t)s->start,
                                   count);
        break;
    case OP_KILL:
        err = kill_task(r, t);
        break;
    case OP_START: {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, t);
        err = rt->dead ? PM_ESRCH : rt->started ? PM_EEXIST : PM_OK;
        if (err == PM_OK && !d->late)
            err = PM_EEXIST;
        if (err == PM_OK)
            err = task_start(r, t, true);
        break;
    }
    case OP_GET_CONTROL:
        err = pm_get_control(r->pm, rt->id, &h);
        set_cap(r, t, s->as, err, h);
        if (err == PM_OK)
            g_hash_table_add(rt->controls, GINT_TO_POINTER(s->as + 1));
        break;
    case OP_SET_GUARANTEE: {
        /* The acting task writes the buffer through its own mapping; the
         * first write (or one after physmem resized it) faults, and the
         * client asks physmem to map it again. */
        struct pm_policy_client c = {.pm = r->pm,
                                     .k = r->k,
                                     .task = rt->id,
                                     .thread = rt->thread,
                                     .control = cap_of(r, t, s->container),
                                     .vaddr = POLICY_BUFFER_VA};
        uint64_t g = s->count, quota = s->quota;
        struct pm_policy_fields f = {.guaranteed = &g,
                                     .eligible = s->has_extra ? &s->extra : NULL,
                                     .swap_quota = s->has_quota ? &quota : NULL};
        l4_task_t target = r->tasks[s->other].id;
        err = pm_task_info(r->pm, rt->id, &(struct pm_task_info){0});
        if (err == PM_OK)
            err = pm_policy_client_set(&c, target, &f);
        break;
    }
    case OP_SWAP_OUT: {
        /* pm_swap writes identifiers only when every frame of the range
         * exists, so room for the container's frames is room enough (a
         * count of four billion must not allocate 32 GiB first). */
        struct pm_container_info ci = {0};
        (void)pm_container_info(r->pm, rt->id, cap_of(r, t, s->container), &ci);
        guint room = (guint)(count < ci.frames ? count : ci.frames);
        GArray *ids = g_array_sized_new(FALSE, TRUE, sizeof(pm_swap_id_t), room ? room : 1);
        g_array_set_size(ids, room ? room : 1);
        err = pm_swap(r->pm, rt->id, cap_of(r, t, s->container), (frame_t)s->start, count,
                      (pm_swap_id_t *)(void *)ids->data);
        if (err == PM_OK)
            g_array_set_size(ids, count);
        gpointer key = GINT_TO_POINTER(s->as + 1);
        if (err == PM_OK)
            g_hash_table_insert(rt->swaps, key, ids);
        else if (!g_hash_table_contains(rt->swaps, key))
            g_hash_table_insert(rt->swaps, key, g_array_set_size(ids, 0));
        else
            g_array_unref(ids);
        break;
    }
    case OP_SWAP_IN:
    case OP_SWAP_RECOVER: {
        /* One call per identifier, in order; the first failure stops. */
        GArray *ids = g_hash_table_lookup(rt->swaps, GINT_TO_POINTER(s->ids + 1));
        container_t c = cap_of(r, t, s->container);
        count = 0;
        err = ids == NULL || ids->len == 0 ? PM_EBADF : PM_OK;
        for (guint i = 0; err == PM_OK && ids != NULL && i < ids->len; i++) {
            pm_swap_id_t id = g_array_index(ids, pm_swap_id_t, i);
            frame_t f = (frame_t)(s->start + i);
            err = s->op == OP_SWAP_IN ? pm_swap_in(r->pm, rt->id, id, c, f)
                                      : pm_swap_recover(r->pm, rt->id, id, c, f);
            count += err == PM_OK;
        }
        if (ids != NULL && ids->len > 0 && err == PM_ESRCH)
            count = 0;
        has_count = true;
        break;
    }
    case OP_MMAP:
    case OP_MUNMAP:
    case OP_ACCESS:
    case OP_REPLAY: {
        pm_pager_t *pg = pager_of(r, t);
        if (pg == NULL) {
            err = rt->started && !rt->dead ? PM_ENOMEM : PM_ESRCH;
            break;
        }
        if (s->op == OP_MMAP && s->other >= 0) {
            struct filectx *x = g_new(struct filectx, 1);
            *x = (struct filectx){r, t, s->other};
            g_ptr_array_add(r->files, x);
            struct pm_pager_source src = {.ctx = x, .fetch = fetch_page};
            err = pm_pager_mmap_file(pg, s->at, s->bytes, &src, s->offset);
        } else if (s->op == OP_MMAP && s->container != NO_NAME) {
            err = pm_pager_mmap_eager(pg, s->at, s->bytes, cap_of(r, t, s->container),
                                      (frame_t)s->start);
        } else if (s->op == OP_MMAP) {
            err = pm_pager_mmap(pg, s->at, s->bytes);
        } else if (s->op == OP_MUNMAP)
            err = pm_pager_munmap(pg, s->at, s->bytes);
        else if (s->op == OP_ACCESS)
            err = run_stream(r, s, pg);
        else
            err = run_trace(r, s, pg);
        break;
    }
    case OP_READ_INTO:
    case OP_WRITE_FROM:
        err = rt->started && !rt->dead ? transfer(r, s, t) : PM_ESRCH;
        break;
    case OP_PRESSURE: {
        struct pm_pressure_result pr;
        err = pm_pressure(r->pm, s->count, &pr);
        count = (uint32_t)pr.asked;
        has_count = true;
        break;
    }
    default:
        break;
    }

    settle(r);
    exposure(r);
    lending(r);

    /* The record, and its checks. */
    size_t index = ++r->nsteps;
    bool ok = err == s->expect;
    char where[64];
    where[0] = '\0';
    if (!ok || s->has_expect_count || s->has_expect_mapped || s->has_expect_frame_error ||
        mismatch != NULL)
        snprintf(where, sizeof where, "step %zu (%s:%u)", index, sc->file, s->line);
    if (!ok)
        failure(r, "%s: %s by %s gave %s, expected %s", where, sim_op_names[s->op], task_name(r, t),
                pm_strerror(err), pm_strerror(s->expect));
    if (s->has_expect_count && count != s->expect_count) {
        ok = false;
        failure(r, "%s: %s by %s: count is %u, expected %llu", where, sim_op_names[s->op],
                task_name(r, t), count, (unsigned long long)s->expect_count);
    }
    if (s->has_expect_mapped && count != s->expect_mapped) {
        ok = false;
        failure(r, "%s: map by %s mapped %u frames, expected %llu", where, task_name(r, t), count,
                (unsigned long long)s->expect_mapped);
    }
    if (s->has_expect_frame_error && frame_error != s->expect_frame_error) {
        ok = false;
        if (frame_error == UINT32_MAX)
            failure(r, "%s: copy by %s set no frame_error, expected %llu", where, task_name(r, t),
                    (unsigned long long)s->expect_frame_error);
        else
            failure(r, "%s: copy by %s: frame_error is %u, expected %llu", where, task_name(r, t),
                    frame_error, (unsigned long long)s->expect_frame_error);
    }
    if (mismatch != NULL) {
        ok = false;
        failure(r, "%s: read by %s: %s", where, task_name(r, t), mismatch);
    }
    struct step_rec rec = {.line = s->line,
                           .task = t,
                           .op = (uint8_t)s->op,
                           .ok = ok,
                           .outcome = err,
                           .expect = s->expect,
                           .time_ns = l4_system_clock(r->k)};
    /* A count the call reported: always for allocate and deallocate (0 on
     * error), for a map only when it mapped. */
    if (has_count && (s->op != OP_MAP || err == PM_OK)) {
        rec.value_kind = s->op == OP_MAP ? REC_MAPPED : REC_COUNT;
        rec.value = count;
    }
    if (has_fe && err != PM_OK && frame_error != UINT32_MAX) {
        rec.value_kind = REC_FRAME_ERROR;
        rec.value = frame_error;
    }
    g_array_append_val(r->recs, rec);
    g_free(mismatch);
}

/* Invariants after a step: failures naming it. */
struct check_ctx {
    struct sim_run *r;
    size_t index;
    unsigned line;
    bool killed; /* after the kill injected after step INDEX */
};

static void check_report(void *ctx, const char *problem)
{
    struct check_ctx *c = ctx;
    c->r->invariant_failures++;
    if (c->killed)
        failure(c->r, "kill of %s after step %zu: invariant: %s", c->r->opt->kill_task, c->index,
                problem);
    else if (c->index == 0)
        failure(c->r, "before the first step (%s): invariant: %s", c->r->sc->file, problem);
    else
        failure(c->r, "step %zu (%s:%u): invariant: %s", c->index, c->r->sc->file, c->line,
                problem);
}

static uint64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the machine has done so far, in the cost model's kinds (the copy
 * kinds left 0: *COPIED gets the bytes copied, split per step later).  The
 * built-in policy server's and the servers' work is the machine's too. */
static void cost_counts(const struct sim_run *r, struct sim_cost_counts *c, uint64_t *copied)
{
    struct l4_stats ks;
    struct pm_stats ps;
    l4_stats(r->k, &ks);
    pm_stats(r->pm, &ps);
    uint64_t server_rpcs = 0, server_copied = 0, disk_reads = 0, disk_writes = 0;
    for (guint i = 0; i < r->sc->tasks->len; i++) {
        const struct rt_task *rt = &r->tasks[i];
        if (rt->fs_up || rt->dead) {
            server_rpcs += rt->fs.st.requests;
            server_copied += rt->fs.st.bytes_copied;
        }
        if (rt->store_open) {
            server_rpcs += rt->store.reads + rt->store.writes;
            disk_reads += rt->store.reads;
            disk_writes += rt->store.writes;
        }
    }
    memset(c, 0, sizeof *c);
    c->n[SIM_COST_IPC] = ks.ipcs + 2 * (ps.rpcs + server_rpcs) - ps.map_calls;
    c->n[SIM_COST_TYPED_ITEM] = ks.typed_items;
    c->n[SIM_COST_MAP_PAGE] = ks.pages_mapped + ks.pages_granted;
    c->n[SIM_COST_UNMAP] = ks.unmaps;
    c->n[SIM_COST_UNMAP_PAGE] = ks.pages_unmapped + ks.pages_downgraded;
    c->n[SIM_COST_TLB_FLUSH] = ks.tlb_flushes;
    c->n[SIM_COST_FAULT_MISSING] = ks.faults_by_cause[L4_FAULT_MISSING];
    c->n[SIM_COST_FAULT_READ] = ks.faults_by_cause[L4_FAULT_READ];
    c->n[SIM_COST_FAULT_WRITE] = ks.faults_by_cause[L4_FAULT_WRITE];
    c->n[SIM_COST_FAULT_EXEC] = ks.faults_by_cause[L4_FAULT_EXEC];
    c->n[SIM_COST_FRAME_BIND] = ps.frames_bound;
    c->n[SIM_COST_DISK_WRITE] = ps.swap_writes + disk_writes;
    c->n[SIM_COST_DISK_READ] = ps.swap_reads + disk_reads;
    *copied = ps.bytes_copied + server_copied;
}

/* Charge what happened since the last charge to the step just recorded:
 * its cost (machine.cost) in nanoseconds. */
static pm_time_t charge(struct sim_run *r, bool measured)
{
    struct sim_cost_counts now, delta;
    uint64_t copied;
    cost_counts(r, &now, &copied);
    for (int k = 0; k < SIM_COST_KINDS; k++)
        delta.n[k] = now.n[k] - r->charged.n[k];
    if (measured) {
        /* The measured steps' events as counted, bytes copied all in one
         * kind (what a table fitted to measured times needs). */
        for (int k = 0; k < SIM_COST_KINDS; k++)
            r->measured_events.n[k] += delta.n[k];
        r->measured_events.n[SIM_COST_COPY_COLD] += copied - r->charged_copy;
    }
    sim_cost_split_copy(&r->sc->cost, copied - r->charged_copy, &delta);
    r->charged = now;
    r->charged_copy = copied;
    /* Charged in whole nanoseconds, by the rounded running total: the steps'
     * costs add up to time.cost_ns exactly. */
    double before = r->cost_ns;
    r->cost_ns += sim_cost_price(&r->sc->cost, &delta, r->cost_by);
    pm_time_t t = (pm_time_t)(llround(r->cost_ns) - llround(before));
    if (r->recs->len > 0)
        g_array_index(r->recs, struct step_rec, r->recs->len - 1).cost_ns = t;
    return t;
}

/* Run step S, check the invariants if asked, and charge its events.
 * Returns what they cost: the caller moves the clock (a lane's, in a
 * parallel block). */
static pm_time_t run_checked(struct sim_run *r, const struct sim_step *s)
{
    /* Events are counted for a table that prices them, and for a measured
     * step; with neither, a step costs nothing and counts nothing. */
    bool counted = r->priced || s->measure;
    if (counted && !r->priced)
        cost_counts(r, &r->charged, &r->charged_copy); /* from this step's start */
    uint64_t h0 = now_ns(CLOCK_MONOTONIC);
    run_step(r, s);
    uint64_t host = now_ns(CLOCK_MONOTONIC) - h0;
    if (r->recs->len > 0)
        g_array_index(r->recs, struct step_rec, r->recs->len - 1).host_ns = host;
    if (r->opt->check) {
        struct check_ctx c = {r, r->nsteps, s->line, false};
        pm_check(r->pm, check_report, &c);
    }
    pm_time_t cost = counted ? charge(r, s->measure) : 0;
    if (s->measure) {
        r->measured_steps++;
        r->measured_cost_ns += cost;
        r->measured_host_ns += host;
    }
    if (r->opt->timeline != NULL) {
        /* Each task's frames as the step left them, at its end. */
        for (guint i = 0; i < r->sc->tasks->len; i++) {
            struct pm_task_info ti = r->tasks[i].last_info;
            if (r->tasks[i].started && !r->tasks[i].dead &&
                pm_task_info(r->pm, r->tasks[i].id, &ti) != PM_OK)
                continue;
            fprintf(r->opt->timeline, "%llu,%zu,%s,%llu,%llu,%llu\n",
                    (unsigned long long)(l4_system_clock(r->k) + cost), r->nsteps,
                    task_name(r, (int)i), (unsigned long long)ti.guaranteed,
                    (unsigned long long)ti.allocated, (unsigned long long)ti.extra);
        }
    }
    return cost;
}

/* ---- a kill injected (sim_run_options.kill_task) -------------------------------- */

/* One line of a snapshot of the other tasks' data: a container (FRAME
 * UINT64_MAX: A its frames, B its soft references and owner) or one of its
 * frames (A a hash of its bytes, B unused). */
struct snap_line {
    uint32_t container;
    uint64_t frame;
    uint64_t a, b;
};

static int snap_line_cmp(const void *x, const void *y)
{
    const struct snap_line *p = x, *q = y;
    if (p->container != q->container)
        return p->container < q->container ? -1 : 1;
    return p->frame < q->frame ? -1 : p->frame > q->frame;
}

/* A hash of a frame's LEN bytes (a multiple of 8), word by word: two
 * snapshots compare these, so a changed byte must change it. */
static uint64_t bytes_hash(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 31;
    }
    return h;
}

/* Add container H (held by task T) to the snapshot, unless it is task
 * VICTIM's, a control capability, stale, or there already. */
static void snap_container(const struct sim_run *r, int t, container_t h, l4_task_t victim,
                           GHashTable *seen, GArray *lines, uint64_t zero_hash)
{
    l4_task_t holder = r->tasks[t].id;
    struct pm_container_info ci;
    if (h == 0 || pm_container_info(r->pm, holder, h, &ci) != PM_OK || ci.owner == victim ||
        !g_hash_table_add(seen, GUINT_TO_POINTER(ci.id + 1)))
        return;
    struct snap_line head = {ci.id, UINT64_MAX, ci.frames, ci.soft << 32 | ci.owner};
    g_array_append_val(lines, head);
    frame_t f = 0;
    for (uint64_t from = 0; from <= UINT32_MAX; from = (uint64_t)f + 1) {
        if (pm_container_next(r->pm, holder, h, (frame_t)from, &f) != PM_OK)
            break;
        struct pm_frame_info fi;
        struct snap_line l = {ci.id, f, zero_hash, 0};
        if (pm_frame_info(r->pm, holder, h, f, &fi) == PM_OK && fi.bound)
            l.a = bytes_hash(pm_pool_frame(r->pool, fi.pfn), r->sc->page_size);
        g_array_append_val(lines, l);
        if (f == UINT32_MAX)
            break;
    }
}

/* Every container the living tasks other than VICTIM own, as far as the
 * run knows their handles (the names the steps bound, the pagers' and the
 * file servers' own containers), sorted. */
static GArray *snap_data(const struct sim_run *r, int victim, uint64_t zero_hash)
{
    GArray *lines = g_array_new(FALSE, FALSE, sizeof(struct snap_line));
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    l4_task_t vid = r->tasks[victim].id;
    for (guint i = 0; i < r->sc->tasks->len; i++) {
        const struct rt_task *rt = &r->tasks[i];
        if ((int)i == victim || !rt->started || rt->dead)
            continue;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, rt->caps);
        while (g_hash_table_iter_next(&it, &key, &value))
            snap_container(r, (int)i, (container_t)(uintptr_t)value, vid, seen, lines, zero_hash);
        if (rt->pager != NULL)
            snap_container(r, (int)i, pm_pager_container(rt->pager), vid, seen, lines, zero_hash);
        if (rt->fs_up)
            snap_container(r, (int)i, rt->fs.cache, vid, seen, lines, zero_hash);
    }
    g_hash_table_destroy(seen);
    g_array_sort(lines, snap_line_cmp);
    return lines;
}

/* Compare two snapshots: every difference is a failure.  Returns how many. */
static uint64_t snap_compare(struct sim_run *r, const GArray *before, const GArray *after)
{
    uint64_t changed = 0;
    guint i = 0, j = 0;
    while (i < before->len || j < after->len) {
        const struct snap_line *p =
            i < before->len ? &g_array_index(before, struct snap_line, i) : NULL;
        const struct snap_line *q =
            j < after->len ? &g_array_index(after, struct snap_line, j) : NULL;
        int c = p == NULL ? 1 : q == NULL ? -1 : snap_line_cmp(p, q);
        const struct snap_line *x = c <= 0 ? p : q;
        char what[64];
        if (x->frame == UINT64_MAX)
            snprintf(what, sizeof what, "container %u", x->container);
        else
            snprintf(what, sizeof what, "frame %llu of container %u", (unsigned long long)x->frame,
                     x->container);
        if (c != 0 || p->a != q->a || p->b != q->b) {
            changed++;
            if (changed <= 8)
                failure(r, "kill of %s after step %zu: %s %s", r->opt->kill_task, r->kill.after,
                        what,
                        c < 0                    ? "went"
                        : c > 0                  ? "appeared"
                        : x->frame == UINT64_MAX ? "changed its frames or soft references"
                                                 : "changed its bytes");
        }
        i += c <= 0;
        j += c >= 0;
    }
    return changed;
}

/* After step N (0: before the first): if the run is asked to kill a task
 * then and it is alive, kill it, and check that the other tasks' data is
 * what it was. */
static void kill_injected(struct sim_run *r)
{
    const char *name = r->opt->kill_task;
    if (name == NULL || r->kill.asked || r->nsteps != r->opt->kill_after)
        return;
    r->kill.asked = true;
    r->kill.after = r->nsteps;
    int t = -1;
    for (guint i = 0; i < r->sc->tasks->len; i++)
        if (strcmp(task_name(r, (int)i), name) == 0)
            t = (int)i;
    if (t < 0)
        failure(r, "kill of %s: no such task", name);
    if (t < 0 || !r->tasks[t].started || r->tasks[t].dead)
        return;
    void *zero = g_malloc0(r->sc->page_size);
    uint64_t zero_hash = bytes_hash(zero, r->sc->page_size);
    g_free(zero);
    GArray *before = snap_data(r, t, zero_hash);
    r->kill.killed = kill_task(r, t) == PM_OK;
    GArray *after = snap_data(r, t, zero_hash);
    for (guint i = 0; i < before->len; i++)
        r->kill.frames += g_array_index(before, struct snap_line, i).frame != UINT64_MAX;
    r->kill.containers = before->len - r->kill.frames;
    r->kill.changed = snap_compare(r, before, after);
    g_array_free(before, TRUE);
    g_array_free(after, TRUE);
    if (!r->kill.killed)
        failure(r, "kill of %s after step %zu: the task did not die", name, r->nsteps);
    /* What the death brings (the policy server's new shares) happens now,
     * as after a kill step. */
    settle(r);
    lending(r);
    if (r->opt->check) {
        struct check_ctx c = {r, r->nsteps, 0, true};
        pm_check(r->pm, check_report, &c);
    }
}

/* A parallel block: the lane with the earliest clock goes next. */
static void run_parallel(struct sim_run *r, const struct sim_step *block)
{
    guint n = block->lanes->len;
    pm_time_t start = l4_system_clock(r->k), end = start;
    pm_time_t *clock = g_new(pm_time_t, n);
    guint *next = g_new0(guint, n), *tied = g_new(guint, n);
    for (guint i = 0; i < n; i++)
        clock[i] = start;
    for (;;) {
        pm_time_t best = UINT64_MAX;
        guint nt = 0;
        for (guint i = 0; i < n; i++) {
            const struct sim_lane *l = g_ptr_array_index(block->lanes, i);
            if (next[i] >= l->steps->len)
                continue;
            if (clock[i] < best) {
                best = clock[i];
                nt = 0;
            }
            if (clock[i] == best)
                tied[nt++] = i;
        }
        if (nt == 0)
            break;
        guint pick = nt == 1 ? tied[0] : tied[g_rand_int_range(r->rand, 0, (gint32)nt)];
        const struct sim_lane *l = g_ptr_array_index(block->lanes, pick);
        const struct sim_step *s = g_ptr_array_index(l->steps, next[pick]++);
        pm_time_t now = l4_system_clock(r->k);
        if (clock[pick] > now) {
            l4_clock_advance(r->k, clock[pick] - now);
            settle(r); /* what the clock brought (deadlines, replies, grace) first */
        }
        if (s->op == OP_ADVANCE) {
            /* The lane waits (from its own time on); the others go on
             * meanwhile. */
            pm_time_t started = clock[pick];
            clock[pick] += s->duration;
            size_t index = ++r->nsteps;
            struct step_rec rec = {.line = s->line,
                                   .task = l->task,
                                   .op = OP_ADVANCE,
                                   .ok = s->expect == PM_OK,
                                   .outcome = PM_OK,
                                   .expect = s->expect,
                                   .time_ns = started};
            g_array_append_val(r->recs, rec);
            if (s->expect != PM_OK)
                failure(r, "step %zu (%s:%u): advance gave ok, expected %s", index, r->sc->file,
                        s->line, pm_strerror(s->expect));
        } else {
            clock[pick] += run_checked(r, s); /* the lane is busy meanwhile */
        }
        kill_injected(r);
        if (clock[pick] > end)
            end = clock[pick];
    }
    pm_time_t now = l4_system_clock(r->k);
    if (end > now) {
        l4_clock_advance(r->k, end - now);
        settle(r);
        if (r->opt->check) {
            struct check_ctx c = {r, r->nsteps, block->line, false};
            pm_check(r->pm, check_report, &c);
        }
    }
    g_free(clock);
    g_free(next);
    g_free(tied);
}

/* ---- the report ----------------------------------------------------------------- */

/* JSON integers are signed 64-bit: larger counts and times saturate. */
static gint64 json_int(uint64_t v)
{
    return v > INT64_MAX ? INT64_MAX : (gint64)v;
}

static void member_int(JsonBuilder *b, const char *name, uint64_t v)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, json_int(v));
}

/* The "steps" array of the report, from the records. */
static JsonNode *build_steps(const struct sim_run *r)
{
    JsonArray *a = json_array_sized_new(r->recs->len);
    for (guint i = 0; i < r->recs->len; i++) {
        const struct step_rec *x = &g_array_index(r->recs, struct step_rec, i);
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "index", (gint64)i + 1);
        json_object_set_int_member(o, "line", x->line);
        json_object_set_string_member(o, "task", task_name(r, x->task));
        json_object_set_string_member(o, "do", sim_op_names[x->op]);
        json_object_set_string_member(o, "outcome", pm_strerror(x->outcome));
        json_object_set_string_member(o, "expect", pm_strerror(x->expect));
        json_object_set_boolean_member(o, "ok", x->ok);
        if (x->value_kind != REC_NONE)
            json_object_set_int_member(o,
                                       x->value_kind == REC_COUNT    ? "count"
                                       : x->value_kind == REC_MAPPED ? "mapped"
                                                                     : "frame_error",
                                       x->value);
        json_object_set_int_member(o, "time_ns", json_int(x->time_ns));
        json_object_set_int_member(o, "cost_ns", json_int(x->cost_ns));
        json_object_set_int_member(o, "host_ns", json_int(x->host_ns));
        json_array_add_object_element(a, o);
    }
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, a);
    return n;
}

/* The report with its "steps" array filled in (built the first time). */
static JsonNode *full_report(const struct sim_run *cr)
{
    struct sim_run *r = (struct sim_run *)cr; /* a cache: the report's content does not change */
    if (!r->steps_built) {
        json_object_set_member(json_node_get_object(r->report), "steps", build_steps(r));
        r->steps_built = true;
    }
    return r->report;
}

static void build_report(struct sim_run *r)
{
    const struct sim_scenario *sc = r->sc;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, sc->name);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, sc->file);
    if (sc->description != NULL) {
        json_builder_set_member_name(b, "description");
        json_builder_add_string_value(b, sc->description);
    }
    member_int(b, "seed", sc->seed);
    json_builder_set_member_name(b, "params");
    json_builder_begin_object(b);
    for (guint i = 0; sc->params != NULL && i + 1 < sc->params->len; i += 2) {
        json_builder_set_member_name(b, g_ptr_array_index(sc->params, i));
        json_builder_add_string_value(b, g_ptr_array_index(sc->params, i + 1));
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "policy");
    json_builder_add_string_value(b, sc->policy != NULL ? sc->policy : "first-come-first-served");
    if (r->policy != NULL) {
        /* The built-in policy server: what it did and what it cost. */
        struct pm_policy_stats st;
        pm_policy_stats(r->policy, &st);
        json_builder_set_member_name(b, "policy_server");
        json_builder_begin_object(b);
        member_int(b, "tasks", st.tasks);
        member_int(b, "committed", st.committed);
        member_int(b, "pending", st.pending);
        member_int(b, "shrink_notices", st.shrinks);
        member_int(b, "records_written", st.writes);
        member_int(b, "buffer_reasks", st.reasks);
        member_int(b, "rpcs", r->pol_pm.rpcs);
        member_int(b, "ipcs", r->pol_k.ipcs + 2 * r->pol_pm.rpcs - r->pol_pm.map_calls);
        member_int(b, "map_items", r->pol_k.map_items);
        member_int(b, "accesses", r->pol_k.accesses);
        json_builder_end_object(b);
    }
    json_builder_set_member_name(b, "machine");
    json_builder_begin_object(b);
    member_int(b, "frames", sc->frames);
    member_int(b, "page_size", sc->page_size);
    member_int(b, "dma_frames", sc->dma_frames);
    member_int(b, "map_items", sc->map_items);
    json_builder_set_member_name(b, "backend");
    json_builder_add_string_value(b, r->host_mmu ? "host-mmu" : "sim");
    if (r->host_mmu && r->k != NULL) {
        /* Pages mapped for real at the end, and those that found their
         * host page taken (they went through physical memory). */
        uint64_t mapped, unplaced, calls;
        l4_host_mmu_stats(r->k, &mapped, &unplaced, &calls);
        member_int(b, "host_pages_mapped", mapped);
        member_int(b, "host_pages_unplaced", unplaced);
        member_int(b, "host_calls", calls);
    }
    json_builder_end_object(b);
    /* Filled in by full_report when read (the member keeps its place). */
    json_builder_set_member_name(b, "steps");
    json_builder_add_null_value(b);

    struct pm_stats ps = {0};
    struct l4_stats ks = {0};
    if (r->pm != NULL) {
        struct snap zero = {0};
        pm_stats(r->pm, &ps);
        l4_stats(r->k, &ks);
        /* The scenario tasks' counters: the policy server's cost apart. */
        add_delta((uint64_t *)(void *)&zero.pm, (const uint64_t *)(const void *)&ps,
                  (const uint64_t *)(const void *)&r->pol_pm, sizeof ps / sizeof(uint64_t));
        add_delta((uint64_t *)(void *)&zero.k, (const uint64_t *)(const void *)&ks,
                  (const uint64_t *)(const void *)&r->pol_k, sizeof ks / sizeof(uint64_t));
        ps = zero.pm;
        ks = zero.k;
        /* Gauges are the machine's, not deltas. */
        pm_stats(r->pm, &zero.pm);
        ps.swap_inactive = zero.pm.swap_inactive;
        ps.swap_dirty = zero.pm.swap_dirty;
        ps.swap_slots_used = zero.pm.swap_slots_used;
    }

    uint64_t evictions = 0;
    json_builder_set_member_name(b, "tasks");
    json_builder_begin_object(b);
    for (guint i = 0; r->tasks != NULL && i < sc->tasks->len; i++) {
        struct pm_task_info ti = r->tasks[i].last_info;
        struct l4_task_stats ts = r->tasks[i].last;
        if (!r->tasks[i].dead)
            pm_task_info(r->pm, r->tasks[i].id, &ti);
        if (!r->tasks[i].dead)
            l4_task_stats(r->k, r->tasks[i].id, &ts);
        json_builder_set_member_name(b, task_name(r, (int)i));
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "alive");
        json_builder_add_boolean_value(b, !r->tasks[i].dead);
        member_int(b, "guaranteed", ti.guaranteed);
        member_int(b, "allocated", ti.allocated);
        member_int(b, "extra", ti.extra);
        json_builder_set_member_name(b, "extra_eligible");
        json_builder_add_boolean_value(b, ti.extra_eligible);
        member_int(b, "resident", ts.mapped_pages);
        member_int(b, "faults", ts.faults);
        struct pm_pager_stats pgs = r->tasks[i].last_pager;
        if (r->tasks[i].pager != NULL) {
            pm_pager_refresh(r->tasks[i].pager); /* G moved, or an exile, since its last fault */
            pm_pager_stats(r->tasks[i].pager, &pgs);
        }
        member_int(b, "evictions", pgs.evictions);
        evictions += pgs.evictions;
        member_int(b, "containers", ti.containers);
        member_int(b, "capabilities", ti.capabilities);
        member_int(b, "bytes_read", ts.bytes_read);
        member_int(b, "bytes_written", ts.bytes_written);
        member_int(b, "swap_ids", ti.swap_ids);
        member_int(b, "swap_quota", ti.swap_quota);
        member_int(b, "upcalls", r->tasks[i].upcalls);
        member_int(b, "shrink_notices", r->tasks[i].shrinks);
        member_int(b, "returned", r->tasks[i].returned);
        member_int(b, "owed", ti.owed);
        member_int(b, "exiled", ti.exiles);
        member_int(b, "exposed_steps", r->tasks[i].exposed);
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        if (!d->no_pager) {
            json_builder_set_member_name(b, "pager");
            json_builder_begin_object(b);
            json_builder_set_member_name(b, "policy");
            json_builder_add_string_value(b, d->pager_policy ? d->pager_policy : "lru");
            member_int(b, "frames", pgs.frames);
            member_int(b, "resident", pgs.resident);
            member_int(b, "refs", pgs.refs);
            member_int(b, "hits", pgs.hits);
            member_int(b, "misses", pgs.misses);
            member_int(b, "faults", pgs.faults);
            member_int(b, "refused", pgs.refused);
            member_int(b, "zero_fills", pgs.zero_fills);
            member_int(b, "evictions", pgs.evictions);
            member_int(b, "swap_outs", pgs.swap_outs);
            member_int(b, "drops", pgs.drops);
            member_int(b, "swap_ins", pgs.swap_ins);
            member_int(b, "file_reads", pgs.file_reads);
            member_int(b, "extra", pgs.extra);
            member_int(b, "returned", pgs.returned);
            member_int(b, "lent", pgs.lent);
            member_int(b, "own_frames", pgs.own_frames);
            member_int(b, "final_frames", pgs.final_frames);
            member_int(b, "db_resident", pgs.db_resident);
            member_int(b, "db_stored", pgs.db_stored);
            member_int(b, "db_faults", pgs.db_faults);
            member_int(b, "db_reads", pgs.db_reads);
            member_int(b, "db_writes", pgs.db_writes);
            json_builder_end_object(b);
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);

    /* Counters.  Each physmem call is an RPC of two IPCs (request and
     * reply); a map's reply goes through the kernel with its items, so the
     * kernel counted it already. */
    /* The servers: what they did (SPEC §9.2). */
    uint64_t server_rpcs = 0, server_copied = 0;
    json_builder_set_member_name(b, "servers");
    json_builder_begin_object(b);
    for (guint i = 0; r->tasks != NULL && i < sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        const struct rt_task *rt = &r->tasks[i];
        if (d->server == 0)
            continue;
        static const char *const behaviours[] = {"honest", "garbage", "lock", "silent"};
        json_builder_set_member_name(b, d->name);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, d->server == 1 ? "file" : "store");
        if (d->server == 1) {
            json_builder_set_member_name(b, "behaviour");
            json_builder_add_string_value(b, behaviours[d->behaviour]);
            member_int(b, "requests", rt->fs.st.requests);
            member_int(b, "hits", rt->fs.st.hits);
            member_int(b, "misses", rt->fs.st.misses);
            member_int(b, "drops", rt->fs.st.drops);
            member_int(b, "bytes_copied", rt->fs.st.bytes_copied);
            member_int(b, "shares_held", rt->dead ? 0 : rt->holds);
            server_rpcs += rt->fs.st.requests;
            server_copied += rt->fs.st.bytes_copied;
        } else {
            member_int(b, "reads", rt->store.reads);
            member_int(b, "writes", rt->store.writes);
            member_int(b, "bytes_read", rt->store.bytes_read);
            member_int(b, "bytes_written", rt->store.bytes_written);
            server_rpcs += rt->store.reads + rt->store.writes;
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);

    json_builder_set_member_name(b, "counters");
    json_builder_begin_object(b);
    /* Server requests (client to file server, file server to store) are
     * RPCs of two IPCs each too. */
    member_int(b, "rpcs", ps.rpcs + server_rpcs);
    member_int(b, "ipcs", ks.ipcs + 2 * (ps.rpcs + server_rpcs) - ps.map_calls);
    member_int(b, "map_items", ks.map_items);
    member_int(b, "typed_items", ks.typed_items);
    member_int(b, "pages_mapped", ks.pages_mapped);
    member_int(b, "unmaps", ks.unmaps);
    member_int(b, "pages_unmapped", ks.pages_unmapped);
    member_int(b, "tlb_flushes", ks.tlb_flushes);
    member_int(b, "faults", ks.faults);
    member_int(b, "faults_unresolved", ks.faults_unresolved);
    member_int(b, "cow_breaks", ps.cow_breaks);
    member_int(b, "bytes_copied", ps.bytes_copied + server_copied);
    member_int(b, "bytes_copied_by_cow", ps.bytes_copied);
    member_int(b, "bytes_copied_by_servers", server_copied);
    member_int(b, "frames_allocated", ps.frames_allocated);
    member_int(b, "frames_deallocated", ps.frames_deallocated);
    member_int(b, "frames_bound", ps.frames_bound);
    member_int(b, "frames_moved", ps.frames_moved);
    member_int(b, "logical_copies", ps.logical_copies);
    member_int(b, "shared_copies", ps.shared_copies);
    member_int(b, "moves", ps.moves);
    member_int(b, "frames_released", ps.frames_released);
    member_int(b, "short_maps", ps.short_maps);
    member_int(b, "soft_made", ps.soft_made);
    member_int(b, "soft_reclaimed", ps.soft_reclaimed);
    member_int(b, "soft_lost", ps.soft_lost);
    member_int(b, "reclaim_upcalls", ps.reclaim_upcalls);
    member_int(b, "frames_asked", ps.frames_asked);
    member_int(b, "exiles", ps.exiles);
    member_int(b, "frames_exiled", ps.frames_exiled);
    member_int(b, "pressure_calls", ps.pressure_calls);
    member_int(b, "policy_violations", ps.policy_violations);
    member_int(b, "buffer_resizes", ps.buffer_resizes);
    member_int(b, "swap_outs", ps.swap_outs);
    member_int(b, "swap_shared", ps.swap_shared);
    member_int(b, "swap_writes", ps.swap_writes);
    member_int(b, "swap_reads", ps.swap_reads);
    member_int(b, "swap_recovered", ps.swap_recovered);
    member_int(b, "swap_errors", ps.swap_errors);
    member_int(b, "inactive_dropped", ps.inactive_dropped);
    member_int(b, "swap_inactive", ps.swap_inactive);
    member_int(b, "swap_slots_used", ps.swap_slots_used);
    member_int(b, "evictions", evictions);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "time");
    json_builder_begin_object(b);
    member_int(b, "simulated_ns", r->k != NULL ? l4_system_clock(r->k) : 0);
    member_int(b, "cost_ns", (uint64_t)llround(r->cost_ns));
    /* The steps marked measure: true: their operations' cost and the
     * host's time running them (setting up left out). */
    member_int(b, "measured_steps", r->measured_steps);
    member_int(b, "measured_cost_ns", r->measured_cost_ns);
    member_int(b, "measured_host_ns", r->measured_host_ns);
    json_builder_set_member_name(b, "measured_events");
    json_builder_begin_object(b);
    for (int k = 0; k < SIM_COST_KINDS; k++)
        if (k != SIM_COST_COPY_HOT)
            member_int(b,
                       k == SIM_COST_COPY_COLD ? "bytes_copied"
                                               : sim_cost_kind_name((enum sim_cost_kind)k),
                       r->measured_events.n[k]);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "cost_table");
    json_builder_add_string_value(b, r->sc->cost.name);
    json_builder_set_member_name(b, "cost");
    json_builder_begin_object(b);
    for (int k = 0; k < SIM_COST_KINDS; k++)
        member_int(b, sim_cost_kind_name((enum sim_cost_kind)k), (uint64_t)llround(r->cost_by[k]));
    json_builder_end_object(b);
    member_int(b, "host_ns", r->host_ns);
    member_int(b, "host_cpu_ns", r->host_cpu_ns);
    json_builder_end_object(b);
    if (r->opt->kill_task != NULL) {
        /* The kill injected: whom, when, and what it was checked against. */
        json_builder_set_member_name(b, "kill");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "task");
        json_builder_add_string_value(b, r->opt->kill_task);
        member_int(b, "after_step", r->opt->kill_after);
        json_builder_set_member_name(b, "killed");
        json_builder_add_boolean_value(b, r->kill.killed);
        member_int(b, "containers", r->kill.containers);
        member_int(b, "frames", r->kill.frames);
        member_int(b, "changed", r->kill.changed);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    r->report = json_builder_get_root(b);
    g_object_unref(b);
}

/* The node at PATH (dot-separated; numbers index arrays), or NULL. */
static JsonNode *lookup_path(JsonNode *root, const char *path)
{
    gchar **parts = g_strsplit(path, ".", -1);
    JsonNode *n = root;
    for (gchar **p = parts; n != NULL && *p != NULL; p++) {
        if (JSON_NODE_HOLDS_OBJECT(n)) {
            JsonObject *o = json_node_get_object(n);
            n = json_object_has_member(o, *p) ? json_object_get_member(o, *p) : NULL;
        } else if (JSON_NODE_HOLDS_ARRAY(n)) {
            char *end;
            long i = strtol(*p, &end, 10);
            JsonArray *a = json_node_get_array(n);
            n = (*end == '\0' && i >= 0 && (guint)i < json_array_get_length(a))
                    ? json_array_get_element(a, (guint)i)
                    : NULL;
        } else {
            n = NULL;
        }
    }
    g_strfreev(parts);
    return n;
}

static const char *const cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};

static bool compare(enum sim_cmp c, int64_t a, int64_t b)
{
    switch (c) {
    case CMP_EQ:
        return a == b;
    case CMP_NE:
        return a != b;
    case CMP_LT:
        return a < b;
    case CMP_LE:
        return a <= b;
    case CMP_GT:
        return a > b;
    case CMP_GE:
        return a >= b;
    }
    return false;
}

static void check_expectations(struct sim_run *r)
{
    for (guint i = 0; i < r->sc->expects->len; i++) {
        const struct sim_expect *x = g_ptr_array_index(r->sc->expects, i);
        bool steps = strncmp(x->path, "steps", 5) == 0 && (x->path[5] == '.' || x->path[5] == '\0');
        JsonNode *n = lookup_path(steps ? full_report(r) : r->report, x->path);
        char where[64];
        snprintf(where, sizeof where, "expect (%s:%u)", r->sc->file, x->line);
        if (n == NULL || !JSON_NODE_HOLDS_VALUE(n)) {
            failure(r, "%s: %s is not a value in the report", where, x->path);
            continue;
        }
        GType t = json_node_get_value_type(n);
        if (x->is_number && t == G_TYPE_INT64) {
            gint64 v = json_node_get_int(n);
            if (!compare(x->cmp, v, x->number))
                failure(r, "%s: %s is %lld, expected %s %lld", where, x->path, (long long)v,
                        cmp_names[x->cmp], (long long)x->number);
        } else if (x->is_bool && t == G_TYPE_BOOLEAN) {
            bool v = json_node_get_boolean(n);
            if (!compare(x->cmp, v, x->boolean))
                failure(r, "%s: %s is %s, expected %s %s", where, x->path, v ? "true" : "false",
                        cmp_names[x->cmp], x->boolean ? "true" : "false");
        } else if (t == G_TYPE_STRING) {
            const char *v = json_node_get_string(n);
            const char *want = x->is_string ? x->string : NULL;
            char buf[32];
            if (want == NULL) {
                snprintf(buf, sizeof buf, "%lld", (long long)x->number);
                want = x->is_bool ? (x->boolean ? "true" : "false") : buf;
            }
            bool eq = strcmp(v, want) == 0;
            if (x->cmp == CMP_EQ ? !eq : x->cmp == CMP_NE ? eq : true)
                failure(r, "%s: %s is '%s', expected %s '%s'", where, x->path, v, cmp_names[x->cmp],
                        want);
        } else {
            failure(r, "%s: %s has another type than the expected value", where, x->path);
        }
    }
}

sim_run_t *sim_scenario_run(const sim_scenario_t *sc, const struct sim_run_options *opt)
{
    static const struct sim_run_options none = {0};
    struct sim_run *r = g_new0(struct sim_run, 1);
    r->sc = sc;
    r->opt = opt != NULL ? opt : &none;
    r->failures = g_ptr_array_new_with_free_func(g_free);
    r->task_of_l4 = g_ptr_array_new();
    r->replies = g_array_new(FALSE, FALSE, sizeof(struct reply));
    r->files = g_ptr_array_new_with_free_func(g_free);
    r->rand = g_rand_new_with_seed((guint32)sc->seed);
    r->recs = g_array_sized_new(FALSE, FALSE, sizeof(struct step_rec), sc->steps->len);
    uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (world_up(r)) {
        if (r->opt->check) {
            /* The machine as the file sets it up (guarantees, say) first. */
            struct check_ctx c = {r, 0, 1, false};
            pm_check(r->pm, check_report, &c);
        }
        cost_counts(r, &r->charged, &r->charged_copy); /* setting up is free */
        for (int k = 0; k < SIM_COST_KINDS; k++)
            r->priced |= sc->cost.ns[k] > 0;
        if (r->opt->timeline != NULL)
            fputs("time_ns,step,task,guaranteed,allocated,extra\n", r->opt->timeline);
        kill_injected(r);
        for (guint i = 0; i < sc->steps->len; i++) {
            const struct sim_step *s = g_ptr_array_index(sc->steps, i);
            if (s->op == OP_PARALLEL) {
                run_parallel(r, s);
                continue;
            }
            pm_time_t cost = run_checked(r, s);
            if (cost > 0) {
                /* The step took that long: the clock moves on, and what it
                 * brings (deadlines, replies, grace periods) happens. */
                l4_clock_advance(r->k, cost);
                settle(r);
            }
            kill_injected(r);
        }
        if (r->opt->kill_task != NULL && !r->kill.asked)
            failure(r, "kill of %s after step %zu: the run has %zu steps", r->opt->kill_task,
                    r->opt->kill_after, r->nsteps);
    } else {
        r->setup_failed = true;
    }
    r->host_ns = now_ns(CLOCK_MONOTONIC) - t0;
    r->host_cpu_ns = now_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
    build_report(r);
    check_expectations(r);
    /* The verdict and the failures join the report last. */
    JsonObject *o = json_node_get_object(r->report);
    JsonArray *fa = json_array_new();
    for (guint i = 0; i < r->failures->len; i++)
        json_array_add_string_element(fa, g_ptr_array_index(r->failures, i));
    json_object_set_array_member(o, "failures", fa);
    json_object_set_boolean_member(o, "ok", r->failures->len == 0);
    if (r->k != NULL) {
        /* Taking the machine apart is not part of the run: no trace of it. */
        l4_set_event_hook(r->k, NULL, NULL);
        if (r->pm != NULL)
            pm_set_event_hook(r->pm, NULL, NULL);
    }
    world_down(r);
    return r;
}

void sim_run_free(sim_run_t *r)
{
    if (r == NULL)
        return;
    if (r->report)
        json_node_unref(r->report);
    g_array_free(r->recs, TRUE);
    g_ptr_array_free(r->files, TRUE);
    g_array_free(r->replies, TRUE);
    g_ptr_array_free(r->failures, TRUE);
    g_ptr_array_free(r->task_of_l4, TRUE);
    g_rand_free(r->rand);
    g_free(r);
}

size_t sim_run_failures(const sim_run_t *r)
{
    return r->failures->len;
}

size_t sim_run_steps(const sim_run_t *r)
{
    return r->nsteps;
}

const char *sim_run_failure(const sim_run_t *r, size_t i)
{
    return i < r->failures->len ? g_ptr_array_index(r->failures, (guint)i) : NULL;
}

size_t sim_run_invariant_failures(const sim_run_t *r)
{
    return r->invariant_failures;
}

void sim_run_kill_result(const sim_run_t *r, struct sim_kill_result *out)
{
    *out = r->kill;
}

void sim_run_write_json(const sim_run_t *r, FILE *out)
{
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    json_generator_set_indent(g, 2);
    json_generator_set_root(g, full_report(r));
    gchar *text = json_generator_to_data(g, NULL);
    fprintf(out, "%s\n", text);
    g_free(text);
    g_object_unref(g);
}

void sim_run_write_text(const sim_run_t *r, FILE *out)
{
    JsonObject *o = json_node_get_object(full_report(r));
    const struct sim_scenario *sc = r->sc;
    fprintf(out, "scenario: %s (%s), seed %llu, policy %s\n", sc->name, sc->file,
            (unsigned long long)sc->seed, json_object_get_string_member(o, "policy"));
    if (sc->description != NULL)
        fprintf(out, "  %s\n", sc->description);
    for (guint i = 0; sc->params != NULL && i + 1 < sc->params->len; i += 2)
        fprintf(out, "%s%s=%s%s", i == 0 ? "params: " : ", ",
                (const char *)g_ptr_array_index(sc->params, i),
                (const char *)g_ptr_array_index(sc->params, i + 1),
                i + 2 >= sc->params->len ? "\n" : "");
    if (r->failures->len > 0) {
        fprintf(out, "\n*** %u FAILURE%s ***\n", r->failures->len,
                r->failures->len == 1 ? "" : "S");
        for (guint i = 0; i < r->failures->len; i++)
            fprintf(out, "  - %s\n", (const char *)g_ptr_array_index(r->failures, i));
    }
    if (json_object_has_member(o, "kill")) {
        JsonObject *kl = json_object_get_object_member(o, "kill");
        if (json_object_get_boolean_member(kl, "killed"))
            fprintf(out,
                    "\nkilled %s after step %lld: %lld containers, %lld frames of the others "
                    "compared, %lld changed\n",
                    json_object_get_string_member(kl, "task"),
                    (long long)json_object_get_int_member(kl, "after_step"),
                    (long long)json_object_get_int_member(kl, "containers"),
                    (long long)json_object_get_int_member(kl, "frames"),
                    (long long)json_object_get_int_member(kl, "changed"));
        else
            fprintf(out, "\n%s was not alive after step %lld: nobody killed\n",
                    json_object_get_string_member(kl, "task"),
                    (long long)json_object_get_int_member(kl, "after_step"));
    }
    fprintf(out, "\nsteps:\n");
    JsonArray *steps = json_object_get_array_member(o, "steps");
    for (guint i = 0; i < json_array_get_length(steps); i++) {
        JsonObject *s = json_array_get_object_element(steps, i);
        bool ok = json_object_get_boolean_member(s, "ok");
        fprintf(out, "  %s %4lld  line %-4lld %-10s %-14s %s", ok ? "ok  " : "FAIL",
                (long long)json_object_get_int_member(s, "index"),
                (long long)json_object_get_int_member(s, "line"),
                json_object_get_string_member(s, "task"), json_object_get_string_member(s, "do"),
                json_object_get_string_member(s, "outcome"));
        if (strcmp(json_object_get_string_member(s, "outcome"),
                   json_object_get_string_member(s, "expect")) != 0)
            fprintf(out, " (expected %s)", json_object_get_string_member(s, "expect"));
        if (json_object_has_member(s, "count"))
            fprintf(out, "  count %lld", (long long)json_object_get_int_member(s, "count"));
        if (json_object_has_member(s, "mapped"))
            fprintf(out, "  mapped %lld", (long long)json_object_get_int_member(s, "mapped"));
        if (json_object_has_member(s, "frame_error"))
            fprintf(out, "  frame_error %lld",
                    (long long)json_object_get_int_member(s, "frame_error"));
        fprintf(out, "\n");
    }
    fprintf(out, "\ntasks:\n");
    JsonObject *tasks = json_object_get_object_member(o, "tasks");
    for (guint i = 0; i < sc->tasks->len; i++) {
        const char *name = ((struct sim_task_def *)g_ptr_array_index(sc->tasks, i))->name;
        if (!json_object_has_member(tasks, name))
            continue; /* the machine could not be made */
        JsonObject *t = json_object_get_object_member(tasks, name);
        fprintf(out, "  %-12s G %-6lld A %-6lld E %-6lld resident %-6lld faults %lld\n", name,
                (long long)json_object_get_int_member(t, "guaranteed"),
                (long long)json_object_get_int_member(t, "allocated"),
                (long long)json_object_get_int_member(t, "extra"),
                (long long)json_object_get_int_member(t, "resident"),
                (long long)json_object_get_int_member(t, "faults"));
        if (json_object_has_member(t, "pager")) {
            JsonObject *pg = json_object_get_object_member(t, "pager");
            if (json_object_get_int_member(pg, "refs") > 0 ||
                json_object_get_int_member(pg, "faults") > 0)
                fprintf(out,
                        "  %-12s pager %s, %lld frames: %lld refs, %lld misses, %lld evictions "
                        "(%lld to swap, %lld back)\n",
                        "", json_object_get_string_member(pg, "policy"),
                        (long long)json_object_get_int_member(pg, "frames"),
                        (long long)json_object_get_int_member(pg, "refs"),
                        (long long)json_object_get_int_member(pg, "misses"),
                        (long long)json_object_get_int_member(pg, "evictions"),
                        (long long)json_object_get_int_member(pg, "swap_outs"),
                        (long long)json_object_get_int_member(pg, "swap_ins"));
            if (json_object_get_int_member(pg, "db_writes") > 0)
                fprintf(out,
                        "  %-12s its database paged by the final pager (%lld frames): %lld "
                        "pages in, %lld written out\n",
                        "", (long long)json_object_get_int_member(pg, "final_frames"),
                        (long long)json_object_get_int_member(pg, "db_faults"),
                        (long long)json_object_get_int_member(pg, "db_writes"));
        }
        if (json_object_get_int_member(t, "exposed_steps") > 0)
            fprintf(out, "  %-12s a file server held a share of its data after %lld steps\n", "",
                    (long long)json_object_get_int_member(t, "exposed_steps"));
    }
    JsonObject *sv = json_object_get_object_member(o, "servers");
    GList *names = json_object_get_members(sv);
    if (names != NULL)
        fprintf(out, "\nservers:\n");
    for (GList *l = names; l != NULL; l = l->next) {
        JsonObject *x = json_object_get_object_member(sv, l->data);
        if (strcmp(json_object_get_string_member(x, "kind"), "file") == 0)
            fprintf(out,
                    "  %-12s file server (%s): %lld requests, %lld hits, %lld misses, %lld drops, "
                    "%lld bytes copied, %lld client shares held\n",
                    (const char *)l->data, json_object_get_string_member(x, "behaviour"),
                    (long long)json_object_get_int_member(x, "requests"),
                    (long long)json_object_get_int_member(x, "hits"),
                    (long long)json_object_get_int_member(x, "misses"),
                    (long long)json_object_get_int_member(x, "drops"),
                    (long long)json_object_get_int_member(x, "bytes_copied"),
                    (long long)json_object_get_int_member(x, "shares_held"));
        else
            fprintf(out, "  %-12s store: %lld pages read, %lld written\n", (const char *)l->data,
                    (long long)json_object_get_int_member(x, "reads"),
                    (long long)json_object_get_int_member(x, "writes"));
    }
    g_list_free(names);
    fprintf(out, "\ncounters:\n");
    JsonObject *c = json_object_get_object_member(o, "counters");
    GList *keys = json_object_get_members(c);
    for (GList *l = keys; l != NULL; l = l->next)
        fprintf(out, "  %s: %lld\n", (const char *)l->data,
                (long long)json_object_get_int_member(c, l->data));
    g_list_free(keys);
    JsonObject *tm = json_object_get_object_member(o, "time");
    fprintf(out, "\ntime: simulated %lld ns, host %lld ns (cpu %lld ns)\n",
            (long long)json_object_get_int_member(tm, "simulated_ns"),
            (long long)json_object_get_int_member(tm, "host_ns"),
            (long long)json_object_get_int_member(tm, "host_cpu_ns"));
    if (strcmp(json_object_get_string_member(tm, "cost_table"), "none") != 0) {
        /* Where the simulated time went, the largest first. */
        JsonObject *by = json_object_get_object_member(tm, "cost");
        fprintf(out, "  of which the operations (cost table %s): %lld ns\n",
                json_object_get_string_member(tm, "cost_table"),
                (long long)json_object_get_int_member(tm, "cost_ns"));
        bool shown[SIM_COST_KINDS] = {false};
        for (int n = 0; n < SIM_COST_KINDS; n++) {
            int best = -1;
            for (int k = 0; k < SIM_COST_KINDS; k++) {
                gint64 v =
                    json_object_get_int_member(by, sim_cost_kind_name((enum sim_cost_kind)k));
                if (!shown[k] && v > 0 &&
                    (best < 0 || v > json_object_get_int_member(
                                         by, sim_cost_kind_name((enum sim_cost_kind)best))))
                    best = k;
            }
            if (best < 0)
                break;
            shown[best] = true;
            fprintf(out, "    %-14s %lld ns\n", sim_cost_kind_name((enum sim_cost_kind)best),
                    (long long)json_object_get_int_member(
                        by, sim_cost_kind_name((enum sim_cost_kind)best)));
        }
    }
    fprintf(out, "result: %s\n", r->failures->len == 0 ? "ok" : "FAILED");
}
