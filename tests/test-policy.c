/* test-policy.c — the memory policy server (SPEC §4, pmsim/policy.h): the
 * buffer client, the kinds (fixed, proportional), grace periods for
 * shrinking guarantees, tasks coming and going, a successor adopting
 * control.
 *
 * The registry of kinds; pm_policy_new's errors (unknown kind and NULL
 * arguments EINVAL, a thread of no task ESRCH, control taken already
 * EPERM).  Fixed quotas: G as asked; an over-committing set written as
 * asked, which physmem reports (a violation: counter, event, pm_check)
 * and honours in record order.  Proportional shares: by weight, rounding
 * down, the remainder left to extra frames, and the buffer never
 * over-committed after any call (checked through the buffer itself).
 * Grace: a shrink notice (PM_LABEL_SHRINK: new G, when) to each shrinking
 * task's memory control thread, the old G in force until the period ends,
 * the newcomer's growth waiting for the frames, a task without a memory
 * control thread, a target that changes again (the deadline stays), a task
 * removed in the period.  Removal: the share goes to the others at once.
 * The client: fields left alone when NULL, ESRCH, swap quotas reaching
 * physmem, the buffer resized under it (a fault, asking again, every
 * record intact).  Handover: pm_control_give and pm_policy_adopt; the old
 * server's writes fail with EBADF.
 *
 * Task 0 is the policy server in most tests; tasks 1… are its clients.
 * The buffer takes one frame of the pool, so a pool of F frames has F − 1
 * available for guarantees. */
#include <glib.h>

#include "harness.h"
#include "pmsim/policy.h"

static struct pmworld p;

#define SERVER_VA 0x7f0000000000ull
#define PG 4096u
#define NOTASK ((l4_task_t)9999)
#define VA 0x100000ull
#define GRACE PM_DEFAULT_GRACE

/* ---- helpers --------------------------------------------------------------- */

static struct pm_task_info info(unsigned i)
{
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[i], &ti), PM_OK);
    return ti;
}

static uint64_t g_of(unsigned i)
{
    return info(i).guaranteed;
}

static struct pm_stats pmstats(void)
{
    struct pm_stats st;
    pm_stats(p.pm, &st);
    return st;
}

static struct pm_policy_stats pstats(const pm_policy_t *srv)
{
    struct pm_policy_stats st;
    pm_policy_stats(srv, &st);
    return st;
}

static pm_time_t now(void)
{
    return l4_system_clock(p.w.k);
}

static void quiet(void *ctx, const char *problem)
{
    (void)ctx;
    (void)problem;
}

static size_t problems(void)
{
    return pm_check(p.pm, quiet, NULL);
}

/* A server of KIND in task I's thread (GRACE 0: the default). */
static pm_policy_t *server_in(unsigned i, const char *kind, pm_time_t grace)
{
    pm_policy_t *srv = NULL;
    struct pm_policy_config cfg = {.kind = kind, .grace = grace, .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[i], &cfg, &srv), PM_OK);
    ck_assert_ptr_nonnull(srv);
    return srv;
}

static pm_policy_t *server(const char *kind)
{
    return server_in(0, kind, 0);
}

/* ---- memory control threads ------------------------------------------------- */

/* What task I's memory control thread received. */
struct notices {
    l4_thread_t thread;
    unsigned n;
    l4_thread_t from;
    uint16_t label;
    unsigned words;
    uint64_t g[8];
    pm_time_t at[8];
};
static struct notices nt[8];

static pm_error_t on_notice(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                            const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)k;
    (void)self;
    (void)reply;
    struct notices *u = ctx;
    u->from = from;
    u->label = l4_msg_label(msg);
    u->words = l4_msg_untyped(msg);
    if (u->n < 8) {
        u->g[u->n] = l4_msg_word(msg, 0);
        u->at[u->n] = l4_msg_word(msg, 1);
    }
    u->n++;
    return PM_OK;
}

/* Give task I a memory control thread (a second thread, receiving into
 * nt[I]), known to physmem too. */
static l4_thread_t give_memctl(unsigned i)
{
    nt[i] = (struct notices){0};
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[i], &nt[i].thread), PM_OK);
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, nt[i].thread, on_notice, &nt[i]), PM_OK);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[i], nt[i].thread), PM_OK);
    return nt[i].thread;
}

/* Task I's contract: G asked, weight, eligibility, its memory control
 * thread if it has one. */
static struct pm_policy_task contract(unsigned i, uint64_t g, uint64_t w, bool extra)
{
    return (struct pm_policy_task){
        .task = p.task[i], .memctl = nt[i].thread, .guaranteed = g, .weight = w, .extra = extra};
}

static void add(pm_policy_t *srv, unsigned i, uint64_t g, uint64_t w, bool extra)
{
    struct pm_policy_task t = contract(i, g, w, extra);
    ck_assert_int_eq(pm_policy_add_task(srv, &t), PM_OK);
}

/* ---- the buffer, as the server sees it ---------------------------------------- */

/* The header and records through SRV's own client (asks again on a fault). */
static struct pm_policy_header buffer(pm_policy_t *srv, struct pm_policy_record **r, size_t *n)
{
    struct pm_policy_header h;
    ck_assert_int_eq(pm_policy_client_read(pm_policy_client(srv), &h, r, n), PM_OK);
    ck_assert_uint_eq(h.magic, PM_POLICY_MAGIC);
    return h;
}

/* Task T's record in the buffer (aborts if it has none). */
static struct pm_policy_record record(pm_policy_t *srv, l4_task_t t)
{
    struct pm_policy_record *r, out = {0};
    size_t n;
    (void)buffer(srv, &r, &n);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (r[i].task == t) {
            out = r[i];
            found = true;
        }
    g_free(r);
    ck_assert_msg(found, "task %u has no record", t);
    return out;
}

/* ΣG of the live records in the buffer; *AVAIL gets the frames available. */
static uint64_t buffer_sum(pm_policy_t *srv, uint64_t *avail)
{
    struct pm_policy_record *r;
    size_t n;
    struct pm_policy_header h = buffer(srv, &r, &n);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].task != 0)
            sum += r[i].guaranteed;
    g_free(r);
    if (avail != NULL)
        *avail = h.available;
    return sum;
}

/* The buffer does not over-commit, and once physmem has read it, every
 * invariant holds. */
#define CHECK_COMMIT(srv)                                                                          \
    do {                                                                                           \
        uint64_t avail_, sum_ = buffer_sum((srv), &avail_);                                        \
        if (sum_ > avail_)                                                                         \
            ck_abort_msg("%s:%d: the buffer over-commits: %llu > %llu", __FILE__, __LINE__,        \
                         (unsigned long long)sum_, (unsigned long long)avail_);                    \
        if (pstats(srv).committed > avail_)                                                        \
            ck_abort_msg("%s:%d: the server says it committed %llu > %llu", __FILE__, __LINE__,    \
                         (unsigned long long)pstats(srv).committed, (unsigned long long)avail_);   \
        (void)pm_physmem_tick(p.pm);                                                               \
        PM_CHECK_INVARIANTS(&p);                                                                   \
    } while (0)

/* ---- physmem events -------------------------------------------------------------- */

struct pm_log {
    size_t overcommits;
    struct pm_event last;
};
static struct pm_log pmlog;

static void pm_log_record(void *ctx, const struct pm_event *ev)
{
    struct pm_log *l = ctx;
    if (ev->kind != PM_EV_OVERCOMMIT)
        return;
    l->overcommits++;
    l->last = *ev;
}

static container_t new_container(unsigned i)
{
    container_t c;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[i], &c), PM_OK);
    return c;
}

static pm_error_t alloc(unsigned i, container_t c, frame_t start, uint32_t count, unsigned flags)
{
    uint32_t n = count;
    pm_error_t err = pm_container_allocate(p.pm, p.task[i], c, start, &n, flags);
    ck_assert_uint_eq(n, err == PM_OK ? count : 0);
    return err;
}

/* ==== the existing test ============================================================= */

START_TEST(test_fixed_gives_what_is_asked)
{
    pmworld_init(&p, 64, 0, 3);
    pm_policy_t *srv;
    struct pm_policy_config cfg = {.kind = "fixed", .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &cfg, &srv), PM_OK);
    struct pm_policy_task t[2] = {
        {.task = p.task[1], .guaranteed = 10, .weight = 1},
        {.task = p.task[2], .guaranteed = 20, .weight = 1, .extra = true}};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 2), PM_OK);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0); /* physmem reads the buffer */
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[1], &ti), PM_OK);
    ck_assert_uint_eq(ti.guaranteed, 10);
    ck_assert_int_eq(pm_task_info(p.pm, p.task[2], &ti), PM_OK);
    ck_assert_uint_eq(ti.guaranteed, 20);
    ck_assert(ti.extra_eligible);
    PM_CHECK_INVARIANTS(&p);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== the registry and pm_policy_new ================================================== */

START_TEST(test_kinds_registry)
{
    const struct pm_policy_kind *const *k = pm_policy_kinds();
    ck_assert_ptr_nonnull(k);
    size_t n = 0;
    bool fixed = false, prop = false;
    for (; k[n] != NULL; n++) {
        ck_assert_ptr_nonnull(k[n]->name);
        ck_assert_ptr_nonnull(k[n]->summary);
        ck_assert(k[n]->targets != NULL);
        ck_assert_ptr_eq(pm_policy_kind_find(k[n]->name), k[n]);
        fixed |= strcmp(k[n]->name, "fixed") == 0;
        prop |= strcmp(k[n]->name, "proportional") == 0;
    }
    ck_assert_uint_ge(n, 2);
    ck_assert(fixed && prop);
    ck_assert_ptr_null(pm_policy_kind_find("nope"));
    ck_assert_ptr_null(pm_policy_kind_find(""));
    ck_assert_ptr_null(pm_policy_kind_find("Fixed"));
    ck_assert_ptr_null(pm_policy_kind_find("fixed "));
    ck_assert_ptr_null(pm_policy_kind_find(NULL));

    /* The kinds' targets, called directly. */
    struct pm_policy_task t[3] = {{.task = 1, .guaranteed = 7, .weight = 1},
                                  {.task = 2, .guaranteed = 70, .weight = 2},
                                  {.task = 3, .guaranteed = 700, .weight = 3}};
    uint64_t g[3];
    pm_policy_kind_find("fixed")->targets(t, 3, 100, g);
    ck_assert_uint_eq(g[0], 7);
    ck_assert_uint_eq(g[1], 70);
    ck_assert_uint_eq(g[2], 700); /* over-commits: fixed does not care */
    pm_policy_kind_find("proportional")->targets(t, 3, 100, g);
    ck_assert_uint_eq(g[0], 16);
    ck_assert_uint_eq(g[1], 33);
    ck_assert_uint_eq(g[2], 50);
    pm_policy_kind_find("proportional")->targets(t, 3, 5, g); /* 5/6, 10/6, 15/6 */
    ck_assert_uint_eq(g[0], 0);
    ck_assert_uint_eq(g[1], 1);
    ck_assert_uint_eq(g[2], 2);
    pm_policy_kind_find("proportional")->targets(t, 1, 100, g); /* alone: everything */
    ck_assert_uint_eq(g[0], 100);
    /* Deterministic. */
    uint64_t again[3];
    pm_policy_kind_find("proportional")->targets(t, 3, 1000, g);
    pm_policy_kind_find("proportional")->targets(t, 3, 1000, again);
    ck_assert_mem_eq(g, again, sizeof g);
}
END_TEST

START_TEST(test_new_errors)
{
    pmworld_init(&p, 64, 0, 3);
    pm_policy_t *srv = (pm_policy_t *)&p; /* a sentinel: untouched on failure */
    pm_policy_t *const sentinel = srv;
    struct pm_policy_config cfg = {.kind = "fixed", .vaddr = SERVER_VA};
    struct pm_policy_config bad = {.kind = "lottery", .vaddr = SERVER_VA};
    struct pm_policy_config nokind = {.kind = NULL, .vaddr = SERVER_VA};

    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &bad, &srv), PM_EINVAL);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &nokind, &srv), PM_EINVAL);
    ck_assert_int_eq(pm_policy_new(NULL, p.w.k, p.thread[0], &cfg, &srv), PM_EINVAL);
    ck_assert_int_eq(pm_policy_new(p.pm, NULL, p.thread[0], &cfg, &srv), PM_EINVAL);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], NULL, &srv), PM_EINVAL);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &cfg, NULL), PM_EINVAL);
    /* A thread of no task. */
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, (l4_thread_t)77777, &cfg, &srv), PM_ESRCH);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, L4_NILTHREAD, &cfg, &srv), PM_ESRCH);
    /* A task the kernel has but physmem does not know: pm_get_control's ESRCH. */
    l4_task_t stranger;
    l4_thread_t sth = world_task(&p.w, &stranger);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, sth, &cfg, &srv), PM_ESRCH);
    ck_assert_ptr_eq(srv, sentinel);
    /* None of that took control. */
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 0, false), PM_OK);

    /* Adopting needs a control capability. */
    ck_assert_int_eq(pm_policy_adopt(p.pm, p.w.k, p.thread[1], PM_CONTAINER_NONE, &cfg, &srv),
                     PM_EBADF);
    ck_assert_ptr_eq(srv, sentinel);

    srv = server("fixed");
    ck_assert_uint_eq(pm_policy_client(srv)->task, p.task[0]);
    ck_assert_uint_eq(pm_policy_client(srv)->thread, p.thread[0]);
    ck_assert_uint_eq(pm_policy_client(srv)->bytes, PG);
    ck_assert_uint_eq(pm_policy_client(srv)->vaddr, SERVER_VA);

    /* Control is taken: a second server anywhere is EPERM. */
    pm_policy_t *second = sentinel;
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[1], &cfg, &second), PM_EPERM);
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &cfg, &second), PM_EPERM);
    ck_assert_ptr_eq(second, sentinel);
    /* …and guarantees are the server's. */
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 1, false), PM_EPERM);
    /* Adopting with a handle that is not the control capability. */
    ck_assert_int_eq(pm_policy_adopt(p.pm, p.w.k, p.thread[1], 12345, &cfg, &second), PM_EBADF);
    ck_assert_int_eq(
        pm_policy_adopt(p.pm, p.w.k, p.thread[0], pm_policy_client(srv)->control, &bad, &second),
        PM_EINVAL);
    ck_assert_ptr_eq(second, sentinel);

    /* The server works. */
    add(srv, 1, 5, 1, false);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 5);
    PM_CHECK_INVARIANTS(&p);
    pm_policy_free(srv);
    pm_policy_free(NULL);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): pm_policy_new takes control (pm_get_control) before it maps the
 * buffer; when mapping fails (an unaligned cfg.vaddr: EINVAL from
 * pm_get_policy_buffer) it frees the server and returns the error, but
 * the control capability stays taken by a handle nobody holds: nobody can
 * ever take control again (EPERM), and guarantees can't be set directly
 * either.  A failed call should change nothing. */
START_TEST(test_new_failure_keeps_control)
{
    pmworld_init(&p, 64, 0, 3);
    pm_policy_t *srv = NULL;
    struct pm_policy_config cfg = {.kind = "fixed", .vaddr = SERVER_VA + 8};
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &cfg, &srv), PM_EINVAL);
    ck_assert_ptr_null(srv);
    cfg.vaddr = SERVER_VA;
    ck_assert_int_eq(pm_policy_new(p.pm, p.w.k, p.thread[0], &cfg, &srv), PM_OK);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== fixed ===================================================================== */

/* Fixed quotas that fit: G as asked, eligibility, re-contracts that grow
 * at once and shrink after the grace period. */
START_TEST(test_fixed_contracts)
{
    pmworld_init(&p, 64, 0, 4);
    pm_policy_t *srv = server("fixed");
    give_memctl(1);
    add(srv, 1, 10, 1, true);
    add(srv, 2, 20, 5, false);
    add(srv, 3, 0, 1, true);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 10);
    ck_assert_uint_eq(g_of(2), 20);
    ck_assert_uint_eq(g_of(3), 0);
    ck_assert(info(1).extra_eligible);
    ck_assert(!info(2).extra_eligible);
    ck_assert(info(3).extra_eligible);
    ck_assert_uint_eq(g_of(0), 0); /* the server's own task */
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 10);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 20);
    struct pm_policy_stats st = pstats(srv);
    ck_assert_uint_eq(st.tasks, 3);
    ck_assert_uint_eq(st.committed, 30);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(st.shrinks, 0);
    ck_assert_uint_eq(st.writes, 3);
    ck_assert_uint_eq(st.reasks, 0);
    /* The records: G, eligibility, honoured after physmem read them. */
    struct pm_policy_record r = record(srv, p.task[1]);
    ck_assert_uint_eq(r.guaranteed, 10);
    ck_assert_uint_ne(r.eligible, 0);
    ck_assert_uint_eq(r.honoured, 10);
    struct pm_policy_header h = buffer(srv, NULL, NULL);
    ck_assert_uint_eq(h.available, 63);
    ck_assert_uint_eq(h.seen, h.epoch);
    ck_assert_uint_eq(h.committed, 30);
    ck_assert_uint_eq(h.violations, 0);

    /* Grow: written at once, no notice. */
    add(srv, 1, 40, 1, true);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 40);
    ck_assert_uint_eq(nt[1].n, 0);
    /* Shrink: the old G stays for the grace period. */
    pm_time_t t0 = now();
    add(srv, 1, 15, 1, true);
    ck_assert_uint_eq(nt[1].n, 1);
    ck_assert_uint_eq(nt[1].g[0], 15);
    ck_assert_uint_eq(nt[1].at[0], t0 + GRACE);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 40);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 40);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 1);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 15);
    /* Eligibility alone changes: rewritten, G as it was. */
    add(srv, 1, 15, 1, false);
    CHECK_COMMIT(srv);
    ck_assert(!info(1).extra_eligible);
    ck_assert_uint_eq(g_of(1), 15);
    /* The same contract again writes nothing. */
    uint64_t writes = pstats(srv).writes;
    add(srv, 1, 15, 1, false);
    ck_assert_uint_eq(pstats(srv).writes, writes);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* An over-committing set is written as asked; physmem counts a violation,
 * emits the event, fails pm_check, and honours guarantees in record order
 * (the order physmem learnt of the tasks, not the order of contracts). */
START_TEST(test_fixed_overcommit)
{
    pmworld_init(&p, 64, 0, 4); /* 63 available */
    pmlog = (struct pm_log){0};
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    pm_policy_t *srv = server("fixed");
    /* Contracts in reverse order of the records. */
    struct pm_policy_task t[3] = {contract(3, 30, 1, false), contract(2, 30, 1, false),
                                  contract(1, 30, 1, false)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 3), PM_OK);
    for (unsigned i = 1; i <= 3; i++) {
        ck_assert_uint_eq(pm_policy_written(srv, p.task[i]), 30);
        ck_assert_uint_eq(record(srv, p.task[i]).guaranteed, 30);
    }
    ck_assert_uint_eq(pstats(srv).committed, 90);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    ck_assert_uint_eq(pmstats().policy_violations, 0); /* physmem has not looked yet */
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(pmstats().policy_violations, 1);
    ck_assert_uint_gt(problems(), 0);
    ck_assert_uint_eq(pmlog.overcommits, 1);
    ck_assert_uint_eq(pmlog.last.count, 90);
    ck_assert_uint_eq(pmlog.last.to_frame, 63);
    ck_assert_uint_eq(pmlog.last.task, p.task[0]);
    /* Record order: tasks 1 and 2 in full, task 3 what is left. */
    ck_assert_uint_eq(g_of(1), 30);
    ck_assert_uint_eq(g_of(2), 30);
    ck_assert_uint_eq(g_of(3), 3);
    ck_assert_uint_eq(record(srv, p.task[1]).honoured, 30);
    ck_assert_uint_eq(record(srv, p.task[3]).honoured, 3);
    ck_assert_uint_eq(record(srv, p.task[3]).guaranteed, 30);
    struct pm_policy_header h = buffer(srv, NULL, NULL);
    ck_assert_uint_eq(h.committed, 90);
    ck_assert_uint_eq(h.violations, 1);
    /* The guarantees honoured do back allocations: task 3 has 3. */
    container_t c3 = new_container(3);
    ck_assert_int_eq(alloc(3, c3, 0, 3, 0), PM_OK);
    ck_assert_int_eq(alloc(3, c3, 3, 1, 0), PM_ENOMEM);

    /* Task 3 asks less: a shrink (grace) that ends the over-commit. */
    add(srv, 3, 3, 1, false);
    ck_assert_uint_eq(pstats(srv).pending, 1);
    ck_assert_uint_eq(record(srv, p.task[3]).guaranteed, 30);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 1);
    ck_assert_uint_eq(record(srv, p.task[3]).guaranteed, 3);
    CHECK_COMMIT(srv); /* ΣG = 63: clean */
    ck_assert_uint_eq(pmstats().policy_violations, 1);
    ck_assert_uint_eq(buffer(srv, NULL, NULL).committed, 63);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* An over-commit written one task at a time: fixed grows "as asked" even
 * past what the other contracts leave; each epoch physmem reads is
 * another violation. */
START_TEST(test_fixed_overcommit_one_by_one)
{
    pmworld_init(&p, 64, 0, 3);
    pm_policy_t *srv = server("fixed");
    add(srv, 1, 50, 1, false);
    CHECK_COMMIT(srv);
    add(srv, 2, 50, 1, false);
    ck_assert_uint_eq(record(srv, p.task[2]).guaranteed, 50);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(pmstats().policy_violations, 1);
    ck_assert_uint_eq(g_of(1), 50);
    ck_assert_uint_eq(g_of(2), 13);
    ck_assert_uint_gt(problems(), 0);
    /* Task 1 leaves: the rest fits again in the buffer.  The server has
     * nothing new to write for task 2 (its 50 is written already), so it
     * writes nothing; the next record it writes moves the epoch and
     * physmem honours task 2's 50 in full (see test_task_death_ends_overcommit). */
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[1]), PM_OK);
    uint64_t avail, sum = buffer_sum(srv, &avail);
    ck_assert_uint_eq(sum, 50);
    ck_assert_uint_eq(avail, 63);
    ck_assert_uint_eq(pstats(srv).committed, 50);
    add(srv, 2, 50, 1, true); /* eligibility changes: a write */
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(2), 50);
    ck_assert_uint_eq(buffer(srv, NULL, NULL).committed, 50);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): (physmem, src/control.c) when the task whose G caused an
 * over-commit dies (pm_task_remove), physmem neither re-honours the
 * others' guarantees nor recomputes the committed sum: they are read
 * again only when the server moves the epoch.  Here task 2 keeps the 13
 * frames honoured during the over-commit though the buffer's live records
 * ask 50 of 63, and pm_check keeps reporting "the policy server
 * over-commits: it guarantees 100 frames" — the server's removal writes
 * nothing (task 2's 50 is written already), so the epoch does not move. */
START_TEST(test_task_death_ends_overcommit)
{
    pmworld_init(&p, 64, 0, 3);
    pm_policy_t *srv = server("fixed");
    add(srv, 1, 50, 1, false);
    add(srv, 2, 50, 1, false);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(2), 13);
    ck_assert_uint_gt(problems(), 0);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[1]), PM_OK);
    ck_assert_uint_eq(buffer_sum(srv, NULL), 50);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(2), 50);
    ck_assert_uint_eq(problems(), 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== proportional ================================================================ */

START_TEST(test_proportional_shares)
{
    pmworld_init(&p, 101, 0, 4); /* 100 available */
    pm_policy_t *srv = server("proportional");
    struct pm_policy_task t[3] = {contract(1, 999, 1, false), contract(2, 0, 2, false),
                                  contract(3, 0, 3, true)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 3), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 16); /* G asked means nothing here */
    ck_assert_uint_eq(g_of(2), 33);
    ck_assert_uint_eq(g_of(3), 50);
    ck_assert_uint_eq(pstats(srv).committed, 99);
    ck_assert_uint_eq(pstats(srv).shrinks, 0); /* one round: no grace */
    ck_assert_uint_eq(buffer(srv, NULL, NULL).committed, 99);

    /* The remainder (1 frame) is nobody's: the eligible task may take it
     * as extra, once. */
    container_t c3 = new_container(3);
    ck_assert_int_eq(alloc(3, c3, 0, 50, 0), PM_OK);
    ck_assert_int_eq(alloc(3, c3, 50, 1, 0), PM_ENOMEM); /* not without EXTRA */
    ck_assert_int_eq(alloc(3, c3, 50, 1, CONT_ALLOC_EXTRA), PM_OK);
    ck_assert_int_eq(alloc(3, c3, 51, 1, CONT_ALLOC_EXTRA), PM_ENOMEM);
    ck_assert_uint_eq(info(3).extra, 1);
    /* Task 1 is not eligible: its 16 and no more. */
    container_t c1 = new_container(1);
    ck_assert_int_eq(alloc(1, c1, 0, 16, 0), PM_OK);
    ck_assert_int_eq(alloc(1, c1, 16, 1, CONT_ALLOC_EXTRA), PM_ENOMEM);
    /* Task 2 still has its 33 though task 3 took the spare frame. */
    container_t c2 = new_container(2);
    ck_assert_int_eq(alloc(2, c2, 0, 33, 0), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Tasks come one at a time and go, weights of every size: after every
 * call the buffer holds ΣG ≤ available, and physmem finds nothing wrong;
 * once the grace periods are over the shares are exact. */
START_TEST(test_proportional_never_overcommits)
{
    pmworld_init(&p, 128, 0, 8); /* 127 available */
    pm_policy_t *srv = server_in(0, "proportional", 1000);
    static const uint64_t weight[8] = {0, 5, 1, 3, 7, 2, 9, 4};
    for (unsigned i = 1; i < 8; i++) {
        if (i % 2)
            give_memctl(i);
        add(srv, i, 0, weight[i], i % 3 == 0);
        CHECK_COMMIT(srv);
        l4_clock_advance(p.w.k, 400);
        ck_assert_int_ge(pm_policy_tick(srv), 0);
        CHECK_COMMIT(srv);
    }
    l4_clock_advance(p.w.k, 1000);
    ck_assert_int_ge(pm_policy_tick(srv), 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    uint64_t total = 0;
    for (unsigned i = 1; i < 8; i++)
        total += weight[i];
    for (unsigned i = 1; i < 8; i++) {
        ck_assert_uint_eq(pm_policy_written(srv, p.task[i]), 127 * weight[i] / total);
        ck_assert_uint_eq(g_of(i), 127 * weight[i] / total);
    }
    /* Weights change, tasks leave, in the middle of grace periods. */
    add(srv, 2, 0, 40, false);
    CHECK_COMMIT(srv);
    l4_clock_advance(p.w.k, 500);
    ck_assert_int_ge(pm_policy_tick(srv), 0);
    CHECK_COMMIT(srv);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[6]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[6]), PM_OK);
    CHECK_COMMIT(srv);
    add(srv, 4, 0, 1, false);
    CHECK_COMMIT(srv);
    for (int step = 0; step < 4; step++) {
        l4_clock_advance(p.w.k, 400);
        ck_assert_int_ge(pm_policy_tick(srv), 0);
        CHECK_COMMIT(srv);
    }
    ck_assert_uint_eq(pstats(srv).pending, 0);
    uint64_t w2[8] = {0, 5, 40, 3, 1, 2, 0, 4};
    total = 0;
    for (unsigned i = 1; i < 8; i++)
        total += w2[i];
    for (unsigned i = 1; i < 8; i++)
        if (i != 6)
            ck_assert_uint_eq(g_of(i), 127 * w2[i] / total);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[6]), 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Re-weighing, ticking and the clock in a pseudo-random order (a fixed
 * seed): the buffer never over-commits after any call, and at rest the
 * shares are exact. */
START_TEST(test_proportional_random_walk)
{
    pmworld_init(&p, 97, 0, 8); /* 96 available */
    pm_policy_t *srv = server_in(0, "proportional", 3000);
    uint64_t w[8] = {0};
    for (unsigned i = 1; i < 8; i++)
        give_memctl(i);
    uint32_t x = 12345;
    for (int step = 0; step < 300; step++) {
        x = x * 1103515245u + 12345u;
        unsigned op = (x >> 16) % 4, i = 1 + (x >> 8) % 7;
        if (op <= 1) {
            w[i] = 1 + (x >> 20) % 9;
            add(srv, i, 0, w[i], (x & 1) != 0);
        } else if (op == 2) {
            l4_clock_advance(p.w.k, 1 + (x >> 12) % 1500);
        } else {
            CHECK(pm_policy_tick(srv) >= 0);
        }
        CHECK_COMMIT(srv);
    }
    l4_clock_advance(p.w.k, 3000);
    CHECK(pm_policy_tick(srv) >= 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    uint64_t total = 0;
    for (unsigned i = 1; i < 8; i++)
        total += w[i];
    for (unsigned i = 1; i < 8; i++)
        ck_assert_uint_eq(g_of(i), w[i] ? 96 * w[i] / total : 0);
    ck_assert_uint_gt(pstats(srv).shrinks, 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): the proportional kind computes available × weight in 64 bits and
 * sums the weights in 64 bits without a check, while pm_policy_add_task
 * accepts any non-zero weight: with weights UINT64_MAX and 2 the total
 * wraps to 1 and the first task's target is 2^64 − 100 (of 100
 * available): a proportional server over-commits, and physmem counts a
 * violation.  (Weights of 2^62 each give 0 frames to both instead of 50.) */
START_TEST(test_proportional_huge_weights)
{
    struct pm_policy_task t[2] = {{.task = 1, .weight = UINT64_MAX}, {.task = 2, .weight = 2}};
    uint64_t g[2];
    pm_policy_kind_find("proportional")->targets(t, 2, 100, g);
    ck_assert_uint_le(g[0], 100);
    ck_assert_uint_le(g[1], 100);
    ck_assert_uint_le(g[0] + g[1], 100);
    t[0].weight = t[1].weight = (uint64_t)1 << 62;
    pm_policy_kind_find("proportional")->targets(t, 2, 100, g);
    ck_assert_uint_eq(g[0], 50);
    ck_assert_uint_eq(g[1], 50);
}
END_TEST

/* Physmem refuses a task whose record needs a bigger buffer when the
 * guarantees written need every frame; the server lowers a G (with
 * grace), and then the task comes in, the buffer grows, the server asks
 * again. */
START_TEST(test_guarantees_block_buffer_growth)
{
    pmworld_init(&p, 256, 0, 3); /* 255 available */
    pm_policy_t *srv = server("fixed");
    add(srv, 1, 200, 1, false);
    add(srv, 2, 55, 1, false);
    CHECK_COMMIT(srv);
    unsigned added = 0;
    pm_error_t err = PM_OK;
    l4_task_t t;
    l4_thread_t th = L4_NILTHREAD;
    while (err == PM_OK && added < 100) {
        th = world_task(&p.w, &t);
        err = pm_task_add(p.pm, t, th);
        added += err == PM_OK;
    }
    ck_assert_int_eq(err, PM_ENOMEM);
    ck_assert_uint_eq(added, 63 - 3); /* the page is full */
    ck_assert_uint_eq(pmstats().buffer_resizes, 0);
    add(srv, 2, 54, 1, false); /* a shrink: 254 once the period ends */
    ck_assert_int_eq(pm_task_add(p.pm, t, th), PM_ENOMEM);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 1);
    (void)pm_physmem_tick(p.pm);
    ck_assert_int_eq(pm_task_add(p.pm, t, th), PM_OK);
    ck_assert_uint_eq(pmstats().buffer_resizes, 1);
    CHECK_COMMIT(srv); /* reads through a fault */
    ck_assert_uint_eq(pm_policy_client(srv)->reasks, 1);
    ck_assert_uint_eq(buffer(srv, NULL, NULL).available, 254);
    struct pm_policy_task c = {.task = t, .guaranteed = 0, .weight = 1, .extra = true};
    ck_assert_int_eq(pm_policy_add_task(srv, &c), PM_OK);
    ck_assert_uint_eq(pstats(srv).reasks, 1);
    CHECK_COMMIT(srv);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, t, &ti), PM_OK);
    ck_assert(ti.extra_eligible);
    ck_assert_uint_eq(g_of(1), 200);
    ck_assert_uint_eq(g_of(2), 54);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== grace periods ================================================================= */

/* A newcomer shrinks the task already there: a notice (new G, when), the
 * old G in force until the period ends, the newcomer's growth waiting. */
START_TEST(test_grace_shrink_notice)
{
    pmworld_init(&p, 101, 0, 3);
    pm_policy_t *srv = server("proportional");
    give_memctl(1);
    give_memctl(2);
    add(srv, 1, 0, 1, false);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 100);
    ck_assert_uint_eq(nt[1].n, 0);

    /* Task 1 uses its 100. */
    container_t c1 = new_container(1);
    ck_assert_int_eq(alloc(1, c1, 0, 100, 0), PM_OK);

    l4_clock_advance(p.w.k, 12345);
    pm_time_t t0 = now();
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(nt[1].n, 1);
    ck_assert_uint_eq(nt[1].label, PM_LABEL_SHRINK);
    ck_assert_uint_eq(nt[1].words, 2);
    ck_assert_uint_eq(nt[1].g[0], 50);
    ck_assert_uint_eq(nt[1].at[0], t0 + PM_DEFAULT_GRACE);
    ck_assert_uint_eq(nt[1].from, p.thread[0]);
    ck_assert_uint_eq(nt[2].n, 0); /* the newcomer grows: no notice */
    struct pm_policy_stats st = pstats(srv);
    ck_assert_uint_eq(st.pending, 1);
    ck_assert_uint_eq(st.shrinks, 1);
    ck_assert_uint_eq(st.committed, 100);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 100);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 100);
    ck_assert_uint_eq(g_of(2), 0);
    container_t c2 = new_container(2);
    ck_assert_int_eq(alloc(2, c2, 0, 1, 0), PM_ENOMEM); /* the frames are task 1's still */

    /* Task 1 gives back what it will lose (as told). */
    uint32_t n = 50;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[1], c1, 50, &n, 0), PM_OK);
    /* Task 2 still has no G: it waits for the period. */
    ck_assert_int_eq(alloc(2, c2, 0, 1, 0), PM_ENOMEM);

    l4_clock_advance(p.w.k, PM_DEFAULT_GRACE - 1);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 100);
    ck_assert_uint_eq(pstats(srv).pending, 1);

    l4_clock_advance(p.w.k, 1);
    ck_assert_int_eq(pm_policy_tick(srv), 2); /* task 1 down, task 2 up */
    st = pstats(srv);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(st.committed, 100);
    ck_assert_uint_eq(st.shrinks, 1);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 50);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 50);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 50);
    ck_assert_uint_eq(g_of(2), 50);
    ck_assert_int_eq(alloc(2, c2, 0, 50, 0), PM_OK);
    ck_assert_int_eq(pm_policy_tick(srv), 0); /* nothing left to do */
    ck_assert_uint_eq(nt[1].n, 1);
    PM_CHECK_INVARIANTS(&p);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Every shrinking task gets a notice; a configured grace period. */
START_TEST(test_grace_many_and_configured)
{
    pmworld_init(&p, 101, 0, 5);
    pm_policy_t *srv = server_in(0, "proportional", 777);
    for (unsigned i = 1; i <= 4; i++)
        give_memctl(i);
    struct pm_policy_task t[3] = {contract(1, 0, 1, false), contract(2, 0, 1, false),
                                  contract(3, 0, 2, false)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 3), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 25);
    ck_assert_uint_eq(g_of(2), 25);
    ck_assert_uint_eq(g_of(3), 50);
    pm_time_t t0 = now();
    add(srv, 4, 0, 4, false); /* 100 × 1/8, 1/8, 2/8, 4/8 */
    for (unsigned i = 1; i <= 3; i++) {
        ck_assert_uint_eq(nt[i].n, 1);
        ck_assert_uint_eq(nt[i].label, PM_LABEL_SHRINK);
        ck_assert_uint_eq(nt[i].at[0], t0 + 777);
    }
    ck_assert_uint_eq(nt[1].g[0], 12);
    ck_assert_uint_eq(nt[2].g[0], 12);
    ck_assert_uint_eq(nt[3].g[0], 25);
    ck_assert_uint_eq(nt[4].n, 0);
    ck_assert_uint_eq(pstats(srv).pending, 3);
    ck_assert_uint_eq(pstats(srv).shrinks, 3);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[4]), 0);
    CHECK_COMMIT(srv);
    l4_clock_advance(p.w.k, 776);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    l4_clock_advance(p.w.k, 1);
    ck_assert_int_eq(pm_policy_tick(srv), 4);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 12);
    ck_assert_uint_eq(g_of(2), 12);
    ck_assert_uint_eq(g_of(3), 25);
    ck_assert_uint_eq(g_of(4), 50);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* A task without a memory control thread (or one that is not receiving)
 * is told nothing but still shrinks when the period ends. */
START_TEST(test_grace_without_memctl)
{
    pmworld_init(&p, 101, 0, 4);
    pm_policy_t *srv = server("proportional");
    /* Task 2's memory control thread does not receive. */
    l4_thread_t deaf;
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[2], &deaf), PM_OK);
    struct pm_policy_task t[2] = {contract(1, 0, 1, false), contract(2, 0, 1, false)};
    t[1].memctl = deaf;
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 2), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 50);
    ck_assert_uint_eq(g_of(2), 50);
    add(srv, 3, 0, 2, false);
    ck_assert_uint_eq(pstats(srv).shrinks, 2); /* counted though nobody heard */
    ck_assert_uint_eq(pstats(srv).pending, 2);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 50);
    ck_assert_uint_eq(g_of(3), 0);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 3);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 25);
    ck_assert_uint_eq(g_of(2), 25);
    ck_assert_uint_eq(g_of(3), 50);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* A shrink whose target changes again in its grace period keeps the
 * deadline it was first given; a new notice tells the new G. */
START_TEST(test_grace_retarget_keeps_deadline)
{
    pmworld_init(&p, 101, 0, 5);
    pm_policy_t *srv = server("proportional");
    give_memctl(1);
    give_memctl(2);
    add(srv, 1, 0, 1, false);
    CHECK_COMMIT(srv);
    pm_time_t t0 = now();
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(nt[1].n, 1);
    ck_assert_uint_eq(nt[1].g[0], 50);
    ck_assert_uint_eq(nt[1].at[0], t0 + GRACE);
    l4_clock_advance(p.w.k, GRACE / 2);
    add(srv, 3, 0, 1, false); /* task 1 now goes to 33 */
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(nt[1].n, 2);
    ck_assert_uint_eq(nt[1].g[1], 33);
    ck_assert_uint_eq(nt[1].at[1], t0 + GRACE); /* the first deadline */
    ck_assert_uint_eq(nt[2].n, 0);              /* task 2 has nothing written to shrink */
    ck_assert_uint_eq(pstats(srv).pending, 1);
    ck_assert_uint_eq(pstats(srv).shrinks, 2);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 100);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 0);
    /* Nothing new for the same target. */
    add(srv, 3, 0, 1, false);
    ck_assert_uint_eq(nt[1].n, 2);

    l4_clock_advance(p.w.k, GRACE / 2); /* = t0 + GRACE */
    ck_assert_int_eq(pm_policy_tick(srv), 3);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 33);
    ck_assert_uint_eq(g_of(2), 33);
    ck_assert_uint_eq(g_of(3), 33);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* A shrink is called off when the target comes back up in the period:
 * the newcomer left. */
START_TEST(test_grace_called_off)
{
    pmworld_init(&p, 101, 0, 3);
    pm_policy_t *srv = server("proportional");
    give_memctl(1);
    add(srv, 1, 0, 1, false);
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(pstats(srv).pending, 1);
    l4_clock_advance(p.w.k, GRACE / 2);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[2]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[2]), PM_OK);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    ck_assert_uint_eq(pstats(srv).tasks, 1);
    CHECK_COMMIT(srv);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 100);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 100);
    ck_assert_uint_eq(nt[1].n, 1);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* The shrinking task itself is removed in its grace period: its frames
 * go to the others at once, and the end of the period changes nothing. */
START_TEST(test_grace_task_removed)
{
    pmworld_init(&p, 101, 0, 4);
    pm_policy_t *srv = server("proportional");
    give_memctl(1);
    add(srv, 1, 0, 1, false);
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(pstats(srv).pending, 1);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 0);
    l4_clock_advance(p.w.k, GRACE / 3);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[1]), PM_OK);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 100);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(2), 100);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    ck_assert_uint_eq(g_of(2), 100);
    /* Another newcomer: task 2 shrinks in its turn. */
    add(srv, 3, 0, 3, false);
    ck_assert_uint_eq(pstats(srv).pending, 1);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 2);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(2), 25);
    ck_assert_uint_eq(g_of(3), 75);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* A grace period so long it would pass the end of time: the deadline
 * saturates and the shrink never happens. */
START_TEST(test_grace_saturates)
{
    pmworld_init(&p, 101, 0, 3);
    pm_policy_t *srv = server_in(0, "proportional", UINT64_MAX - 5);
    give_memctl(1);
    add(srv, 1, 0, 1, false);
    l4_clock_advance(p.w.k, 100);
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(nt[1].n, 1);
    ck_assert_uint_eq(nt[1].at[0], UINT64_MAX);
    l4_clock_advance(p.w.k, (pm_time_t)1 << 62);
    ck_assert_int_eq(pm_policy_tick(srv), 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 100);
    CHECK_COMMIT(srv);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== removal ==================================================================== */

START_TEST(test_remove_gives_share_at_once)
{
    pmworld_init(&p, 101, 0, 4);
    pm_policy_t *srv = server("proportional");
    for (unsigned i = 1; i <= 3; i++)
        give_memctl(i);
    struct pm_policy_task t[3] = {contract(1, 0, 1, false), contract(2, 0, 1, false),
                                  contract(3, 0, 2, false)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 3), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(3), 50);
    ck_assert_uint_eq(pstats(srv).tasks, 3);

    ck_assert_int_eq(pm_policy_remove_task(srv, NOTASK), PM_ESRCH);
    ck_assert_int_eq(pm_policy_remove_task(srv, L4_NILTASK), PM_ESRCH);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[0]), PM_ESRCH); /* known to physmem only */
    ck_assert_uint_eq(pstats(srv).tasks, 3);

    ck_assert_int_eq(pm_task_remove(p.pm, p.task[3]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[3]), PM_OK);
    /* Growth needs no grace: written now, no notices. */
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 50);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 50);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 0);
    struct pm_policy_stats st = pstats(srv);
    ck_assert_uint_eq(st.tasks, 2);
    ck_assert_uint_eq(st.pending, 0);
    ck_assert_uint_eq(st.shrinks, 0);
    ck_assert_uint_eq(st.committed, 100);
    for (unsigned i = 1; i <= 3; i++)
        ck_assert_uint_eq(nt[i].n, 0);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 50);
    ck_assert_uint_eq(g_of(2), 50);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[3]), PM_ESRCH); /* twice */
    ck_assert_int_eq(pm_policy_tick(srv), 0);

    /* The last one leaves: nothing committed. */
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[1]), PM_OK);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 100);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[2]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[2]), PM_OK);
    ck_assert_uint_eq(pstats(srv).tasks, 0);
    ck_assert_uint_eq(pstats(srv).committed, 0);
    CHECK_COMMIT(srv);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Fixed quotas: a task that leaves frees its quota, the others' do not
 * change; a quota that waited for the frames gets them. */
START_TEST(test_remove_fixed_frees_room)
{
    pmworld_init(&p, 64, 0, 4);
    pm_policy_t *srv = server("fixed");
    give_memctl(1);
    add(srv, 1, 40, 1, false);
    add(srv, 2, 20, 1, false);
    CHECK_COMMIT(srv);
    /* Task 1 goes down to 10 while task 3 asks 30: it waits for task 1. */
    add(srv, 1, 10, 1, false);
    add(srv, 3, 30, 1, false);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 3); /* 63 − 40 − 20 */
    CHECK_COMMIT(srv);
    /* Task 2 leaves: task 3 gets its 30 at once. */
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[2]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[2]), PM_OK);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 23);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 40);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_ge(pm_policy_tick(srv), 2);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 10);
    ck_assert_uint_eq(g_of(3), 30);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== pm_policy_add_task(s) errors ================================================ */

START_TEST(test_add_errors)
{
    pmworld_init(&p, 64, 0, 4);
    pm_policy_t *srv = server("fixed");
    struct pm_policy_task zero = contract(1, 5, 0, false);
    ck_assert_int_eq(pm_policy_add_task(srv, &zero), PM_EINVAL);
    struct pm_policy_task t[2] = {contract(1, 5, 1, false), contract(2, 5, 0, false)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 2), PM_EINVAL); /* all or nothing */
    ck_assert_int_eq(pm_policy_add_tasks(srv, NULL, 2), PM_EINVAL);
    ck_assert_uint_eq(pstats(srv).tasks, 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 0);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 0);
    /* Zero tasks: a recomputation of nothing. */
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 0), PM_OK);
    ck_assert_uint_eq(pstats(srv).tasks, 0);
    /* A task named twice in one round: the last contract holds. */
    struct pm_policy_task twice[2] = {contract(1, 5, 1, false), contract(1, 9, 1, true)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, twice, 2), PM_OK);
    ck_assert_uint_eq(pstats(srv).tasks, 1);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 9);
    CHECK_COMMIT(srv);
    ck_assert(info(1).extra_eligible);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== pm_policy_written ============================================================== */

START_TEST(test_written)
{
    pmworld_init(&p, 64, 0, 4);
    pm_policy_t *srv = server("fixed");
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 0);
    add(srv, 1, 12, 1, false);
    add(srv, 2, 0, 1, false);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 12);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 0);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[0]), 0);
    ck_assert_uint_eq(pm_policy_written(srv, NOTASK), 0);
    ck_assert_uint_eq(pm_policy_written(srv, L4_NILTASK), 0);
    /* Matches the buffer. */
    ck_assert_uint_eq(record(srv, p.task[1]).guaranteed, 12);
    ck_assert_uint_eq(record(srv, p.task[2]).guaranteed, 0);
    /* In a grace period, the old G. */
    add(srv, 1, 2, 1, false);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 12);
    ck_assert_uint_eq(record(srv, p.task[1]).guaranteed, 12);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 1);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 2);
    ck_assert_uint_eq(record(srv, p.task[1]).guaranteed, 2);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_policy_remove_task(srv, p.task[1]), PM_OK);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 0);
    CHECK_COMMIT(srv);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): a contract for a task physmem does not know yet (no record) is
 * reported as written by pm_policy_written and counted in the stats'
 * committed, though nothing reached the buffer; and once the task is known
 * (pm_task_add), pm_policy_tick does not write it (it is not "due"), so
 * physmem keeps G = 0 for it until some unrelated add or remove
 * recomputes. */
START_TEST(test_written_before_record)
{
    pmworld_init(&p, 64, 0, 2);
    pm_policy_t *srv = server("fixed");
    l4_task_t late;
    l4_thread_t lth = world_task(&p.w, &late);
    struct pm_policy_task t = {.task = late, .guaranteed = 10, .weight = 1};
    ck_assert_int_eq(pm_policy_add_task(srv, &t), PM_OK);
    /* Either nothing is claimed written… */
    uint64_t claimed = pm_policy_written(srv, late);
    ck_assert_int_eq(pm_task_add(p.pm, late, lth), PM_OK);
    /* …or it is written once there is a record to write it in. */
    (void)pm_policy_tick(srv);
    (void)pm_physmem_tick(p.pm);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, late, &ti), PM_OK);
    ck_assert_msg(claimed == 0 || ti.guaranteed == claimed,
                  "pm_policy_written says %llu, physmem has G = %llu", (unsigned long long)claimed,
                  (unsigned long long)ti.guaranteed);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* ==== the buffer client ============================================================= */

/* A client of its own (no server): task 0 holds control. */
static struct pm_policy_client open_client(unsigned i)
{
    struct pm_policy_client c = {
        .pm = p.pm, .k = p.w.k, .task = p.task[i], .thread = p.thread[i], .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_get_control(p.pm, p.task[i], &c.control), PM_OK);
    ck_assert_int_eq(pm_policy_client_open(&c), PM_OK);
    ck_assert_uint_eq(c.bytes, PG);
    return c;
}

static struct pm_policy_record client_record(struct pm_policy_client *c, l4_task_t t)
{
    struct pm_policy_header h;
    struct pm_policy_record *r, out = {0};
    size_t n;
    ck_assert_int_eq(pm_policy_client_read(c, &h, &r, &n), PM_OK);
    ck_assert_uint_eq(n, h.used);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        if (r[i].task == t) {
            out = r[i];
            found = true;
        }
    g_free(r);
    ck_assert_msg(found, "task %u has no record", t);
    return out;
}

START_TEST(test_client_set_fields)
{
    pmworld_init(&p, 64, 0, 4);
    /* Some allocation before control: the records start with it. */
    container_t c1 = new_container(1);
    ck_assert_int_eq(alloc(1, c1, 0, 4, 0), PM_OK);
    struct pm_policy_client c = open_client(0);
    struct pm_policy_header h;
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(h.magic, PM_POLICY_MAGIC);
    ck_assert_uint_eq(h.used, 4);
    ck_assert_uint_eq(h.capacity, (PG - sizeof h) / sizeof(struct pm_policy_record));
    ck_assert_uint_eq(h.available, 63);
    uint64_t epoch = h.epoch;
    struct pm_policy_record r = client_record(&c, p.task[1]);
    ck_assert_uint_eq(r.allocated, 4);
    ck_assert_uint_eq(r.guaranteed, 0);

    uint64_t g = 7, q = 3;
    bool yes = true;
    /* G only. */
    struct pm_policy_fields f = {.guaranteed = &g};
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    r = client_record(&c, p.task[1]);
    ck_assert_uint_eq(r.guaranteed, 7);
    ck_assert_uint_eq(r.eligible, 0);
    ck_assert_uint_eq(r.swap_quota, 0);
    ck_assert_uint_eq(r.allocated, 4); /* physmem's field untouched */
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(h.epoch, epoch + 1);
    /* Eligibility only. */
    f = (struct pm_policy_fields){.eligible = &yes};
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    r = client_record(&c, p.task[1]);
    ck_assert_uint_eq(r.guaranteed, 7);
    ck_assert_uint_ne(r.eligible, 0);
    ck_assert_uint_eq(r.swap_quota, 0);
    /* Quota only. */
    f = (struct pm_policy_fields){.swap_quota = &q};
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    r = client_record(&c, p.task[1]);
    ck_assert_uint_eq(r.guaranteed, 7);
    ck_assert_uint_ne(r.eligible, 0);
    ck_assert_uint_eq(r.swap_quota, 3);
    /* Nothing: only the epoch moves. */
    f = (struct pm_policy_fields){0};
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    r = client_record(&c, p.task[1]);
    ck_assert_uint_eq(r.guaranteed, 7);
    ck_assert_uint_eq(r.swap_quota, 3);
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(h.epoch, epoch + 4);
    /* The other records are left alone. */
    r = client_record(&c, p.task[2]);
    ck_assert_uint_eq(r.guaranteed, 0);
    ck_assert_uint_eq(r.eligible, 0);
    ck_assert_uint_eq(r.swap_quota, 0);

    /* Physmem reads it all at its next call. */
    (void)pm_physmem_tick(p.pm);
    struct pm_task_info ti = info(1);
    ck_assert_uint_eq(ti.guaranteed, 7);
    ck_assert(ti.extra_eligible);
    ck_assert_uint_eq(ti.swap_quota, 3);
    ck_assert_uint_eq(info(2).swap_quota, 0);
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(h.seen, h.epoch);
    ck_assert_uint_eq(client_record(&c, p.task[1]).honoured, 7);
    PM_CHECK_INVARIANTS(&p);

    /* No live record: ESRCH, and nothing written (no epoch bump). */
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    epoch = h.epoch;
    f = (struct pm_policy_fields){.guaranteed = &g};
    ck_assert_int_eq(pm_policy_client_set(&c, NOTASK, &f), PM_ESRCH);
    ck_assert_int_eq(pm_policy_client_set(&c, L4_NILTASK, &f), PM_ESRCH);
    l4_task_t stranger;
    (void)world_task(&p.w, &stranger);
    ck_assert_int_eq(pm_policy_client_set(&c, stranger, &f), PM_ESRCH);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[3]), PM_OK);
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[3], &f), PM_ESRCH);
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(h.epoch, epoch);
    ck_assert_uint_eq(c.reasks, 0);
    pmworld_fini(&p);
}
END_TEST

/* The swap quota the server writes reaches physmem and caps pm_swap. */
START_TEST(test_swap_quota_reaches_physmem)
{
    pmworld_init_swap(&p, 64, 3, 16, NULL);
    pm_policy_t *srv = server("fixed");
    struct pm_policy_task t = contract(1, 10, 1, false);
    t.swap_quota = 2;
    ck_assert_int_eq(pm_policy_add_task(srv, &t), PM_OK);
    add(srv, 2, 10, 1, false);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(record(srv, p.task[1]).swap_quota, 2);
    ck_assert_uint_eq(info(1).swap_quota, 2);
    ck_assert_uint_eq(info(2).swap_quota, 0);
    container_t c = new_container(1);
    ck_assert_int_eq(alloc(1, c, 0, 3, 0), PM_OK);
    pm_swap_id_t ids[3];
    ck_assert_int_eq(pm_swap(p.pm, p.task[1], c, 0, 3, ids), PM_EDQUOT);
    ck_assert_int_eq(pm_swap(p.pm, p.task[1], c, 0, 2, ids), PM_OK);
    ck_assert_uint_eq(record(srv, p.task[1]).swap_used, 2);
    /* A new contract lifts the quota: written, read, used. */
    t.swap_quota = 0;
    ck_assert_int_eq(pm_policy_add_task(srv, &t), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(info(1).swap_quota, 0);
    ck_assert_int_eq(pm_swap(p.pm, p.task[1], c, 2, 1, ids + 2), PM_OK);
    ck_assert_uint_eq(info(1).swap_ids, 3);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* More tasks than the buffer's page holds: physmem resizes it, the
 * server's next access faults, it asks again and goes on, every record
 * intact. */
#define MANY 64

START_TEST(test_buffer_resize_reask)
{
    pmworld_init(&p, 256, 0, 4); /* 255 available */
    pm_policy_t *srv = server("proportional");
    struct pm_policy_task t[3] = {contract(1, 0, 1, true), contract(2, 0, 2, false),
                                  contract(3, 0, 3, false)};
    ck_assert_int_eq(pm_policy_add_tasks(srv, t, 3), PM_OK);
    CHECK_COMMIT(srv);
    ck_assert_uint_eq(g_of(1), 42);
    ck_assert_uint_eq(g_of(2), 85);
    ck_assert_uint_eq(g_of(3), 127);
    struct pm_policy_client *cl = pm_policy_client(srv);
    ck_assert_uint_eq(cl->bytes, PG);
    container_t c2 = new_container(2);
    ck_assert_int_eq(alloc(2, c2, 0, 5, 0), PM_OK);

    l4_task_t more[MANY];
    l4_thread_t th[MANY];
    for (unsigned i = 0; i < MANY; i++) {
        th[i] = world_task(&p.w, &more[i]);
        CHECK_EQ(pm_task_add(p.pm, more[i], th[i]), PM_OK);
    }
    ck_assert_uint_ge(pmstats().buffer_resizes, 1);
    /* Physmem unmapped the old buffer: the server's mapping is gone. */
    struct pm_policy_header h;
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, SERVER_VA, &h, sizeof h), PM_EFAULT);
    ck_assert_uint_eq(cl->reasks, 0);

    /* The next access asks again.  The buffer took a frame more: 254
     * available, so task 2's share goes from 85 to 84 (after grace). */
    add(srv, 1, 0, 1, true); /* the same contract: a recomputation */
    ck_assert_uint_ge(cl->reasks, 1);
    ck_assert_uint_ge(pstats(srv).reasks, 1);
    ck_assert_uint_eq(pstats(srv).reasks, cl->reasks);
    ck_assert_uint_eq(cl->bytes, 2 * PG);
    ck_assert_uint_eq(pstats(srv).pending, 1);
    CHECK_COMMIT(srv);

    /* Every record intact: the tasks' G, eligibility, A; the new tasks'. */
    struct pm_policy_record *r;
    size_t n;
    h = buffer(srv, &r, &n);
    ck_assert_uint_eq(n, 4 + MANY);
    ck_assert_uint_ge(h.capacity, 4 + MANY);
    ck_assert_uint_eq(h.available, 254);
    for (size_t i = 0; i < 4; i++)
        ck_assert_uint_eq(r[i].task, p.task[i]);
    for (size_t i = 0; i < MANY; i++)
        CHECK_EQ(r[4 + i].task, more[i]);
    ck_assert_uint_ne(r[1].eligible, 0);
    ck_assert_uint_eq(r[2].allocated, 5);
    g_free(r);
    /* The shares, recomputed over 254: task 2 in its grace period. */
    ck_assert_uint_eq(pm_policy_written(srv, p.task[1]), 42);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[2]), 85);
    ck_assert_uint_eq(pm_policy_written(srv, p.task[3]), 127);
    ck_assert_uint_eq(record(srv, p.task[1]).guaranteed, 42);
    ck_assert_uint_eq(record(srv, p.task[2]).guaranteed, 85);
    ck_assert_uint_eq(record(srv, p.task[3]).guaranteed, 127);
    ck_assert(info(1).extra_eligible);
    uint64_t reasks = cl->reasks;

    /* And it keeps working: one of the new tasks gets a contract. */
    struct pm_policy_task nt0 = {.task = more[10], .weight = 6};
    ck_assert_int_eq(pm_policy_add_task(srv, &nt0), PM_OK);
    ck_assert_uint_eq(cl->reasks, reasks);
    ck_assert_uint_eq(pstats(srv).pending, 3);
    CHECK_COMMIT(srv);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(srv), 4);
    CHECK_COMMIT(srv);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, more[10], &ti), PM_OK);
    ck_assert_uint_eq(ti.guaranteed, 254 * 6 / 12);
    ck_assert_uint_eq(g_of(1), 254 * 1 / 12);
    ck_assert_uint_eq(g_of(2), 254 * 2 / 12);
    ck_assert_uint_eq(g_of(3), 254 * 3 / 12);
    ck_assert_uint_eq(pstats(srv).pending, 0);
    pm_policy_free(srv);
    pmworld_fini(&p);
}
END_TEST

/* A bare client faults on a resized buffer and asks again, reads included. */
START_TEST(test_client_reask)
{
    pmworld_init(&p, 256, 0, 2);
    struct pm_policy_client c = open_client(0);
    uint64_t g = 9;
    struct pm_policy_fields f = {.guaranteed = &g};
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    for (unsigned i = 0; i < MANY; i++) {
        l4_task_t t;
        l4_thread_t th = world_task(&p.w, &t);
        CHECK_EQ(pm_task_add(p.pm, t, th), PM_OK);
    }
    struct pm_policy_header h;
    ck_assert_int_eq(pm_policy_client_read(&c, &h, NULL, NULL), PM_OK);
    ck_assert_uint_eq(c.reasks, 1);
    ck_assert_uint_eq(c.bytes, 2 * PG);
    ck_assert_uint_eq(h.used, 2 + MANY);
    ck_assert_uint_eq(client_record(&c, p.task[1]).guaranteed, 9);
    g = 11;
    ck_assert_int_eq(pm_policy_client_set(&c, p.task[1], &f), PM_OK);
    ck_assert_uint_eq(c.reasks, 1);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 11);
    PM_CHECK_INVARIANTS(&p);
    /* A client with the wrong handle gets EBADF on a fault. */
    struct pm_policy_client bad = c;
    bad.control ^= 1;
    bad.vaddr = SERVER_VA * 2;
    ck_assert_int_eq(pm_policy_client_read(&bad, &h, NULL, NULL), PM_EBADF);
    ck_assert_int_eq(pm_policy_client_set(&bad, p.task[1], &f), PM_EBADF);
    ck_assert_int_eq(pm_policy_client_open(&bad), PM_EBADF);
    pmworld_fini(&p);
}
END_TEST

/* ==== handover ===================================================================== */

START_TEST(test_handover)
{
    pmworld_init(&p, 64, 0, 5);
    pm_policy_t *old = server("fixed");
    give_memctl(1);
    struct pm_policy_task t[3] = {contract(1, 20, 1, true), contract(2, 10, 1, false),
                                  contract(3, 5, 1, false)};
    ck_assert_int_eq(pm_policy_add_tasks(old, t, 3), PM_OK);
    CHECK_COMMIT(old);
    ck_assert_uint_eq(g_of(1), 20);

    container_t h;
    ck_assert_int_eq(
        pm_control_give(p.pm, p.task[0], pm_policy_client(old)->control, p.task[4], &h), PM_OK);
    /* The old server's mapping is gone; its writes fail. */
    struct pm_policy_header hd;
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, SERVER_VA, &hd, sizeof hd), PM_EFAULT);
    struct pm_policy_task more = contract(2, 12, 1, false);
    ck_assert_int_eq(pm_policy_add_task(old, &more), PM_EBADF);
    uint64_t g = 1;
    struct pm_policy_fields f = {.guaranteed = &g};
    ck_assert_int_eq(pm_policy_client_set(pm_policy_client(old), p.task[1], &f), PM_EBADF);
    ck_assert_int_eq(pm_policy_remove_task(old, p.task[3]), PM_EBADF);
    /* What it wrote stays in force. */
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 20);
    ck_assert_uint_eq(g_of(2), 10);

    /* The successor takes over: the contracts again, in one round. */
    pm_policy_t *succ = NULL;
    struct pm_policy_config cfg = {.kind = "fixed", .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_policy_adopt(p.pm, p.w.k, p.thread[4], h, &cfg, &succ), PM_OK);
    ck_assert_uint_eq(pm_policy_client(succ)->task, p.task[4]);
    ck_assert_uint_eq(pm_policy_client(succ)->control, h);
    ck_assert_int_eq(pm_policy_add_tasks(succ, t, 3), PM_OK);
    CHECK_COMMIT(succ);
    ck_assert_uint_eq(pm_policy_written(succ, p.task[1]), 20);
    ck_assert_uint_eq(g_of(1), 20);
    ck_assert_uint_eq(g_of(2), 10);
    ck_assert_uint_eq(g_of(3), 5);
    ck_assert(info(1).extra_eligible);
    /* It goes on: a growth at once, a shrink after grace. */
    add(succ, 2, 25, 1, false);
    CHECK_COMMIT(succ);
    ck_assert_uint_eq(g_of(2), 25);
    add(succ, 1, 8, 1, true);
    ck_assert_uint_eq(nt[1].n, 1);
    ck_assert_uint_eq(nt[1].g[0], 8);
    ck_assert_uint_eq(g_of(1), 20);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(succ), 1);
    CHECK_COMMIT(succ);
    ck_assert_uint_eq(g_of(1), 8);
    /* The old server's pending work can't be written either. */
    ck_assert_int_eq(pm_policy_add_task(old, &t[0]), PM_EBADF);
    ck_assert_uint_eq(pm_policy_written(old, p.task[1]), 20); /* what it had written */
    /* And control can go on again, from the successor. */
    container_t h2;
    ck_assert_int_eq(pm_control_give(p.pm, p.task[4], h, p.task[0], &h2), PM_OK);
    ck_assert_int_eq(pm_policy_add_task(succ, &t[0]), PM_EBADF);
    pm_policy_free(old);
    pm_policy_free(succ);
    pmworld_fini(&p);
}
END_TEST

/* The old server has a shrink pending when it hands control on: at the
 * end of its period the tick fails with EBADF (a negative result). */
START_TEST(test_handover_old_tick_fails)
{
    pmworld_init(&p, 101, 0, 4);
    pm_policy_t *old = server("proportional");
    add(old, 1, 0, 1, false);
    add(old, 2, 0, 1, false);
    ck_assert_uint_eq(pstats(old).pending, 1);
    container_t h;
    ck_assert_int_eq(
        pm_control_give(p.pm, p.task[0], pm_policy_client(old)->control, p.task[3], &h), PM_OK);
    l4_clock_advance(p.w.k, GRACE);
    ck_assert_int_eq(pm_policy_tick(old), -(int)PM_EBADF);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 100); /* the G last written stays */
    ck_assert_uint_eq(g_of(2), 0);
    PM_CHECK_INVARIANTS(&p);
    pm_policy_free(old);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): an adopting server starts from nothing written (every contract's
 * written G is 0) instead of what the buffer holds, so (a) a proportional
 * successor that re-adds the contracts one at a time writes the first
 * task's full share next to the others' old G: the buffer over-commits
 * (physmem counts a violation), and (b) a G smaller than the one in the
 * buffer is written at once, with no notice and no grace period. */
START_TEST(test_adopt_respects_buffer)
{
    pmworld_init(&p, 64, 0, 5); /* 63 available */
    give_memctl(1);
    pm_policy_t *old = server("proportional");
    struct pm_policy_task t[3] = {contract(1, 0, 1, false), contract(2, 0, 1, false),
                                  contract(3, 0, 1, false)};
    ck_assert_int_eq(pm_policy_add_tasks(old, t, 3), PM_OK);
    CHECK_COMMIT(old);
    ck_assert_uint_eq(g_of(1), 21);
    container_t h;
    ck_assert_int_eq(
        pm_control_give(p.pm, p.task[0], pm_policy_client(old)->control, p.task[4], &h), PM_OK);
    pm_policy_t *succ = NULL;
    struct pm_policy_config cfg = {.kind = "proportional", .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_policy_adopt(p.pm, p.w.k, p.thread[4], h, &cfg, &succ), PM_OK);
    /* Task 1 re-registers first. */
    ck_assert_int_eq(pm_policy_add_task(succ, &t[0]), PM_OK);
    CHECK_COMMIT(succ);
    pm_policy_free(old);
    pm_policy_free(succ);
    pmworld_fini(&p);
}
END_TEST

START_TEST(test_adopt_shrink_has_grace)
{
    pmworld_init(&p, 64, 0, 5);
    give_memctl(1);
    pm_policy_t *old = server("fixed");
    add(old, 1, 40, 1, false);
    CHECK_COMMIT(old);
    container_t h;
    ck_assert_int_eq(
        pm_control_give(p.pm, p.task[0], pm_policy_client(old)->control, p.task[4], &h), PM_OK);
    pm_policy_t *succ = NULL;
    struct pm_policy_config cfg = {.kind = "fixed", .vaddr = SERVER_VA};
    ck_assert_int_eq(pm_policy_adopt(p.pm, p.w.k, p.thread[4], h, &cfg, &succ), PM_OK);
    add(succ, 1, 10, 1, false); /* 40 → 10: a shrink */
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(g_of(1), 40);
    ck_assert_uint_eq(nt[1].n, 1);
    pm_policy_free(old);
    pm_policy_free(succ);
    pmworld_fini(&p);
}
END_TEST

/* ==== the suite ====================================================================== */

/* Each test starts with no memory control threads and no events logged
 * (they are static: a run without fork shares them). */
static void reset(void)
{
    memset(nt, 0, sizeof nt);
    pmlog = (struct pm_log){0};
}

static Suite *make_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("server");
    tcase_add_checked_fixture(tc, reset, NULL);
    tcase_add_test(tc, test_fixed_gives_what_is_asked);
    tcase_add_test(tc, test_kinds_registry);
    tcase_add_test(tc, test_new_errors);
    tcase_add_test(tc, test_new_failure_keeps_control);
    tcase_add_test(tc, test_fixed_contracts);
    tcase_add_test(tc, test_fixed_overcommit);
    tcase_add_test(tc, test_fixed_overcommit_one_by_one);
    tcase_add_test(tc, test_task_death_ends_overcommit);
    tcase_add_test(tc, test_proportional_shares);
    tcase_add_test(tc, test_proportional_never_overcommits);
    tcase_add_test(tc, test_proportional_random_walk);
    tcase_add_test(tc, test_proportional_huge_weights);
    tcase_add_test(tc, test_guarantees_block_buffer_growth);
    tcase_add_test(tc, test_grace_shrink_notice);
    tcase_add_test(tc, test_grace_many_and_configured);
    tcase_add_test(tc, test_grace_without_memctl);
    tcase_add_test(tc, test_grace_retarget_keeps_deadline);
    tcase_add_test(tc, test_grace_called_off);
    tcase_add_test(tc, test_grace_task_removed);
    tcase_add_test(tc, test_grace_saturates);
    tcase_add_test(tc, test_remove_gives_share_at_once);
    tcase_add_test(tc, test_remove_fixed_frees_room);
    tcase_add_test(tc, test_add_errors);
    tcase_add_test(tc, test_written);
    tcase_add_test(tc, test_written_before_record);
    tcase_add_test(tc, test_client_set_fields);
    tcase_add_test(tc, test_swap_quota_reaches_physmem);
    tcase_add_test(tc, test_buffer_resize_reask);
    tcase_add_test(tc, test_client_reask);
    tcase_add_test(tc, test_handover);
    tcase_add_test(tc, test_handover_old_tick_fails);
    tcase_add_test(tc, test_adopt_respects_buffer);
    tcase_add_test(tc, test_adopt_shrink_has_grace);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
