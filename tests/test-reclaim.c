/* test-reclaim.c — the memory policy as physmem sees it (SPEC §4: the
 * control capability, the policy buffer, over-commit) and taking frames
 * back (§5: pressure, pm_return_frames upcalls, deadlines, exile).
 *
 * Control: taken once (EPERM after), its errors in §3.9's order, a handle
 * that is no container capability and the other way round, handed on with
 * pm_control_give (the old holder's handle and buffer mapping die), and
 * pm_task_set_guarantee refused once it is taken.  The policy buffer: the
 * records at first contact (current A, G = 0), A kept up to date by
 * physmem, G read only when the epoch moves, growth past one page (the
 * server faults, asks again, finds every record intact), over-commit (a
 * violation: counter, event, invariant failure, guarantees honoured in
 * record order as far as the frames go), extra eligibility.  Reclaim:
 * soft-only frames first, then upcalls to the memory control thread
 * (label, count, deadline) asking no victim for more than its E, the three
 * victim policies, compliance, exile at the deadline or at once when no one
 * receives, what survives an exile (other tasks' logical copies, with their
 * bytes) and what does not (the exiled task's frames, mappings, soft
 * references, swap ids), and allocation within G that asks for the frames
 * others' extra frames hold.
 *
 * Tasks have no pager, so an access to an unmapped page is EFAULT.  Bytes
 * are checked through real mappings wherever data is involved. */
#include "harness.h"

static struct pmworld p;

#define BUF_VA 0x7f0000000000ull
#define BUF_VA2 0x7e0000000000ull

#define PG 4096u
#define RW (CONT_MAP_READ | CONT_MAP_WRITE)
#define NOTASK ((l4_task_t)9999)
#define VA 0x100000ull    /* a task's own container */
#define VA2 0x10000000ull /* a second container, or a copy */
#define VA3 0x20000000ull /* a third */
#define DEADLINE PM_DEFAULT_RETURN_DEADLINE

/* Write task T's G and eligibility in the buffer as a policy server does,
 * through task I's mapping at BUF_VA, and bump the epoch. */
static void write_guarantee(unsigned i, l4_task_t t, uint64_t g, bool eligible)
{
    struct pm_policy_header h;
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, BUF_VA, &h, sizeof h), PM_OK);
    ck_assert_uint_eq(h.magic, PM_POLICY_MAGIC);
    for (uint64_t r = 0; r < h.used; r++) {
        uint64_t va = BUF_VA + sizeof h + r * sizeof(struct pm_policy_record);
        struct pm_policy_record rec;
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, va, &rec, sizeof rec), PM_OK);
        if (rec.task != t)
            continue;
        rec.guaranteed = g;
        rec.eligible = eligible;
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, va, &rec, sizeof rec), PM_OK);
        h.epoch++;
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, BUF_VA, &h, sizeof h), PM_OK);
        return;
    }
    ck_abort_msg("task %u has no record", t);
}

/* ---- helpers --------------------------------------------------------------- */

static struct pm_task_info tinfo(l4_task_t t)
{
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, t, &ti), PM_OK);
    return ti;
}

static struct pm_task_info info(unsigned i)
{
    return tinfo(p.task[i]);
}

static struct pm_stats stats(void)
{
    struct pm_stats st;
    pm_stats(p.pm, &st);
    return st;
}

static pm_time_t now(void)
{
    return l4_system_clock(p.w.k);
}

/* The policy buffer as task I sees it at VA. */
static struct pm_policy_header read_header(unsigned i, uint64_t va)
{
    struct pm_policy_header h;
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, va, &h, sizeof h), PM_OK);
    ck_assert_uint_eq(h.magic, PM_POLICY_MAGIC);
    return h;
}

static uint64_t record_va(uint64_t va, uint64_t r)
{
    return va + sizeof(struct pm_policy_header) + r * sizeof(struct pm_policy_record);
}

static struct pm_policy_record read_record(unsigned i, uint64_t va, uint64_t r)
{
    struct pm_policy_record rec;
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, record_va(va, r), &rec, sizeof rec), PM_OK);
    return rec;
}

/* The index of task T's record, or abort. */
static uint64_t record_of(unsigned i, uint64_t va, l4_task_t t)
{
    struct pm_policy_header h = read_header(i, va);
    for (uint64_t r = 0; r < h.used; r++)
        if (read_record(i, va, r).task == t)
            return r;
    ck_abort_msg("task %u has no record", t);
    return 0;
}

/* Write T's G and eligibility through task I's mapping at VA; bump the
 * epoch only when BUMP. */
static void put_guarantee(unsigned i, uint64_t va, l4_task_t t, uint64_t g, bool eligible,
                          bool bump)
{
    uint64_t r = record_of(i, va, t);
    struct pm_policy_record rec = read_record(i, va, r);
    rec.guaranteed = g;
    rec.eligible = eligible;
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, record_va(va, r), &rec, sizeof rec), PM_OK);
    if (bump) {
        struct pm_policy_header h = read_header(i, va);
        h.epoch++;
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, va, &h, sizeof h), PM_OK);
    }
}

static void bump_epoch(unsigned i, uint64_t va)
{
    struct pm_policy_header h = read_header(i, va);
    h.epoch++;
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, va, &h, sizeof h), PM_OK);
}

/* Task I takes control and maps the buffer at BUF_VA. */
static container_t take_control(unsigned i)
{
    container_t ctl = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_get_control(p.pm, p.task[i], &ctl), PM_OK);
    ck_assert_uint_ne(ctl, PM_CONTAINER_NONE);
    uint64_t bytes = 0;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[i], ctl, BUF_VA, &bytes), PM_OK);
    ck_assert_uint_eq(bytes, PG);
    return ctl;
}

static container_t new_container(unsigned i)
{
    container_t c;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[i], &c), PM_OK);
    return c;
}

/* Allocate COUNT frames at START of C for task I, with FLAGS; expect ERR. */
static void alloc(unsigned i, container_t c, frame_t start, uint32_t count, unsigned flags,
                  pm_error_t err)
{
    uint32_t n = count;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[i], c, start, &n, flags), err);
    ck_assert_uint_eq(n, err == PM_OK ? count : 0);
}

static void dealloc(unsigned i, container_t c, frame_t start, uint32_t count, unsigned flags)
{
    uint32_t n = count;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[i], c, start, &n, flags), PM_OK);
    ck_assert_uint_eq(n, count);
}

/* Map frames START … START + COUNT − 1 of C for task I at VA (as many
 * calls as the item limit needs). */
static void map_all(unsigned i, container_t c, frame_t start, uint32_t count, unsigned flags,
                    uint64_t va)
{
    uint32_t done = 0;
    while (done < count) {
        uint32_t n = count - done;
        ck_assert_int_eq(
            pm_container_map(p.pm, p.task[i], c, start + done, &n, flags, va + (uint64_t)done * PG),
            PM_OK);
        ck_assert_uint_gt(n, 0);
        done += n;
    }
}

/* Fill the COUNT pages at VA of task I: page j with byte SEED + j. */
static void write_pages(unsigned i, uint64_t va, uint32_t count, unsigned char seed)
{
    static unsigned char page[PG];
    for (uint32_t j = 0; j < count; j++) {
        memset(page, (unsigned char)(seed + j), sizeof page);
        CHECK_EQ(pm_rw(&p, i, L4_ACCESS_WRITE, va + (uint64_t)j * PG, page, sizeof page), PM_OK);
    }
}

/* The COUNT pages at VA of task I hold SEED + j each. */
static void expect_pages(unsigned i, uint64_t va, uint32_t count, unsigned char seed)
{
    static unsigned char page[PG];
    for (uint32_t j = 0; j < count; j++) {
        CHECK_EQ(pm_rw(&p, i, L4_ACCESS_READ, va + (uint64_t)j * PG, page, sizeof page), PM_OK);
        if (!bytes_all(page, sizeof page, (unsigned char)(seed + j)))
            ck_abort_msg("task %u page 0x%llx does not hold 0x%02x", i,
                         (unsigned long long)(va + (uint64_t)j * PG), (unsigned char)(seed + j));
    }
}

/* Allocate COUNT frames at START of C for task I (FLAGS), map them
 * writable at VA + START × PG and fill them from SEED. */
static void fill(unsigned i, container_t c, frame_t start, uint32_t count, unsigned flags,
                 unsigned char seed)
{
    alloc(i, c, start, count, flags, PM_OK);
    map_all(i, c, start, count, RW, VA + (uint64_t)start * PG);
    write_pages(i, VA + (uint64_t)start * PG, count, seed);
}

static uint64_t free_frames(void)
{
    struct pm_pool_stats ps;
    pm_pool_stats(p.w.pool, &ps);
    return ps.free;
}

/* ---- memory control threads -------------------------------------------- */

/* What task I's memory control thread received, and how it answers: with
 * COMPLY set it deallocates (soft) what it is asked for, from frame NEXT of
 * container C on. */
struct upcalls {
    unsigned ti;
    l4_thread_t thread;
    unsigned n;
    l4_thread_t self, from;
    uint16_t label;
    unsigned words;
    uint64_t count[8], deadline[8];
    bool comply;
    container_t c;
    frame_t next;
    pm_error_t comply_err;
};
static struct upcalls up[8];

static pm_error_t on_upcall(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                            const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)k;
    (void)reply;
    struct upcalls *u = ctx;
    u->self = self;
    u->from = from;
    u->label = l4_msg_label(msg);
    u->words = l4_msg_untyped(msg);
    uint64_t count = l4_msg_word(msg, 0);
    if (u->n < 8) {
        u->count[u->n] = count;
        u->deadline[u->n] = l4_msg_word(msg, 1);
    }
    u->n++;
    if (u->comply) {
        uint32_t n = (uint32_t)count;
        u->comply_err =
            pm_container_deallocate(p.pm, p.task[u->ti], u->c, u->next, &n, CONT_DEALLOC_SOFT);
        u->next += (frame_t)count;
    }
    return PM_OK;
}

/* Give task I a memory control thread (a second thread) that receives
 * upcalls into up[I]. */
static void give_memctl(unsigned i)
{
    up[i] = (struct upcalls){.ti = i};
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[i], &up[i].thread), PM_OK);
    ck_assert_int_eq(l4_thread_set_handler(p.w.k, up[i].thread, on_upcall, &up[i]), PM_OK);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[i], up[i].thread), PM_OK);
}

/* ---- physmem events --------------------------------------------------------- */

/* The reclaim events of a run (overcommit, return-frames, exile, soft-lost). */
struct pm_log {
    struct pm_event ev[32];
    size_t n;
};
static struct pm_log pmlog;

static void pm_log_record(void *ctx, const struct pm_event *ev)
{
    struct pm_log *l = ctx;
    if (ev->kind != PM_EV_OVERCOMMIT && ev->kind != PM_EV_RETURN_FRAMES &&
        ev->kind != PM_EV_EXILE && ev->kind != PM_EV_SOFT_LOST)
        return;
    if (l->n < 32)
        l->ev[l->n] = *ev;
    l->n++;
}

static size_t count_events(enum pm_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < pmlog.n && i < 32; i++)
        n += pmlog.ev[i].kind == kind;
    return n;
}

static const struct pm_event *last_event(enum pm_event_kind kind)
{
    const struct pm_event *e = NULL;
    for (size_t i = 0; i < pmlog.n && i < 32; i++)
        if (pmlog.ev[i].kind == kind)
            e = &pmlog.ev[i];
    ck_assert_msg(e != NULL, "no event of kind %d", (int)kind);
    return e;
}

/* ==== control (§4) ========================================================= */

START_TEST(test_control_once_and_guarantees)
{
    pmworld_init(&p, 64, 0, 3);
    container_t ctl, again;
    ck_assert_int_eq(pm_get_control(p.pm, p.task[0], &ctl), PM_OK);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[1], &again), PM_EPERM);
    uint64_t bytes = 0;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_OK);
    ck_assert_uint_eq(bytes, 4096);
    /* G = 0 for everyone at first contact: nothing can be allocated. */
    container_t c;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[1], &c), PM_OK);
    uint32_t n = 1;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[1], c, 0, &n, 0), PM_ENOMEM);
    write_guarantee(0, p.task[1], 10, false);
    n = 10;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[1], c, 0, &n, 0), PM_OK);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[1], &ti), PM_OK);
    ck_assert_uint_eq(ti.guaranteed, 10);
    ck_assert_uint_eq(ti.allocated, 10);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* The invariant checker's view of the control capability: the policy
 * buffer is mapped by the holder alone, and a server that guarantees more
 * than the pool has is reported (the guarantees past the pool are not
 * honoured). */

START_TEST(test_check_control)
{
    pmworld_init(&p, 64, 0, 3);
    struct pm_problems pr;
    take_control(0);
    ck_assert_uint_eq(pm_problems_check(&p, &pr), 0);
    /* Another task maps a frame of the buffer (an item straight from the
     * root, not through physmem). */
    pm_pfn_t pfn;
    unsigned rights;
    ck_assert_int_eq(l4_lookup(p.w.k, p.task[0], BUF_VA, &pfn, &rights), PM_OK);
    ck_assert_uint_eq(rights, L4_RW);
    l4_task_t rogue;
    l4_thread_t rogue_th = world_task(&p.w, &rogue);
    ck_assert_int_eq(world_map_frame(&p.w, pfn, rogue_th, VA, L4_R), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &pr), 1);
    ck_assert_uint_eq(pr.n, 1);
    char want[128];
    snprintf(want, sizeof want, "task %u maps frame %u of the policy buffer at 0x%llx", rogue,
             pfn.n, (unsigned long long)VA);
    ck_assert_msg(strstr(pr.last, want) != NULL, "%s", pr.last);
    ck_assert_int_eq(l4_task_delete(p.w.k, rogue), PM_OK);
    ck_assert_uint_eq(pm_problems_check(&p, &pr), 0);

    /* The server guarantees task 1 more than the pool: physmem honours
     * what it can, counts a violation, and the checker says so until the
     * server takes it back. */
    write_guarantee(0, p.task[1], 1000, false);
    (void)pm_physmem_tick(p.pm);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[1], &ti), PM_OK);
    ck_assert_uint_lt(ti.guaranteed, 64);
    ck_assert_uint_eq(pm_problems_check(&p, &pr), 1);
    ck_assert_msg(strstr(pr.last, "the policy server over-commits: it guarantees 1000 frames") !=
                      NULL,
                  "%s", pr.last);
    write_guarantee(0, p.task[1], 10, false);
    (void)pm_physmem_tick(p.pm);
    ck_assert_uint_eq(pm_problems_check(&p, &pr), 0);
    ck_assert_int_eq(pm_task_info(p.pm, p.task[1], &ti), PM_OK);
    ck_assert_uint_eq(ti.guaranteed, 10);
    pmworld_fini(&p);
}
END_TEST

/* pm_get_control, pm_get_policy_buffer and pm_control_give refuse what
 * they must, in the order ESRCH, EINVAL, EBADF, EPERM; pm_task_set_guarantee
 * is EPERM once control is taken. */
START_TEST(test_control_errors)
{
    pmworld_init(&p, 64, 0, 3);
    container_t ctl = 77, again = 88;
    /* Before control. */
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, NOTASK, 4, false), PM_ESRCH);
    ck_assert_int_eq(pm_get_control(p.pm, NOTASK, &ctl), PM_ESRCH);
    ck_assert_int_eq(pm_get_control(p.pm, NOTASK, NULL), PM_ESRCH);
    ck_assert_int_eq(pm_get_control(p.pm, L4_NILTASK, &ctl), PM_ESRCH);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[0], NULL), PM_EINVAL);
    ck_assert_uint_eq(ctl, 77); /* untouched by the failures */
    /* No buffer yet: nobody has the control capability. */
    uint64_t bytes = 5;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], 12345, BUF_VA, &bytes), PM_EBADF);
    ck_assert_uint_eq(bytes, 5);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[0], &ctl), PM_OK);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[0], &again), PM_EPERM);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[1], &again), PM_EPERM);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[1], NULL), PM_EINVAL); /* EINVAL first */
    ck_assert_int_eq(pm_get_control(p.pm, NOTASK, &again), PM_ESRCH);   /* ESRCH first */
    ck_assert_uint_eq(again, 88);

    /* pm_get_policy_buffer. */
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, NOTASK, ctl, BUF_VA, &bytes), PM_ESRCH);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA + 8, &bytes), PM_EINVAL);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, NULL), PM_EINVAL);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, L4_VADDR_LIMIT, &bytes), PM_EINVAL);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], 0, BUF_VA + 8, &bytes),
                     PM_EINVAL); /* EINVAL before EBADF */
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[1], ctl, BUF_VA, &bytes), PM_EBADF);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], PM_CONTAINER_NONE, BUF_VA, &bytes),
                     PM_EBADF);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl + 1, BUF_VA, &bytes), PM_EBADF);
    ck_assert_uint_eq(bytes, 5);
    /* Nothing was mapped by the failures. */
    pm_pfn_t pfn;
    unsigned rights;
    ck_assert_int_eq(l4_lookup(p.w.k, p.task[1], BUF_VA, &pfn, &rights), PM_ENOENT);
    ck_assert_int_eq(l4_lookup(p.w.k, p.task[0], BUF_VA, &pfn, &rights), PM_ENOENT);

    /* A container handle is not the control capability. */
    container_t c = new_container(0);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], c, BUF_VA, &bytes), PM_EBADF);
    container_t out = 99;
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], c, p.task[1], &out), PM_EBADF);
    ck_assert_uint_eq(out, 99);

    /* The control capability is not a container capability. */
    uint32_t n = 1;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[0], ctl, 0, &n, 0), PM_EBADF);
    n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[0], ctl, 0, &n, RW, VA), PM_EBADF);
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[0], ctl, 0, &n, 0), PM_EBADF);
    container_t ref = 99;
    ck_assert_int_eq(pm_container_share(p.pm, p.task[0], ctl, p.task[1], &ref), PM_EBADF);
    ck_assert_int_eq(pm_container_give(p.pm, p.task[0], ctl, p.task[1], &ref), PM_EBADF);
    ck_assert_uint_eq(ref, 99);
    ck_assert_int_eq(pm_container_destroy(p.pm, p.task[0], ctl), PM_EBADF);
    ck_assert_int_eq(pm_container_lock(p.pm, p.task[0], ctl, 100), PM_EBADF);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[0], ctl, 0, 1), PM_EBADF);
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(p.pm, p.task[0], ctl, 0, &fi), PM_EBADF);
    frame_t fe = 0;
    ck_assert_int_eq(pm_container_copy(p.pm, p.task[0], ctl, 0, c, 0, 1, 0, &fe), PM_EBADF);
    container_t wr;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], ctl, 0, 1, p.task[1], &ref, &wr),
                     PM_EBADF);

    /* pm_control_give. */
    ck_assert_int_eq(pm_control_give(p.pm, NOTASK, ctl, p.task[1], &out), PM_ESRCH);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, NOTASK, &out), PM_ESRCH);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, NOTASK, NULL), PM_ESRCH);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, p.task[1], NULL), PM_EINVAL);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], 0, p.task[1], NULL), PM_EINVAL);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[1], ctl, p.task[2], &out), PM_EBADF);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl ^ 1, p.task[2], &out), PM_EBADF);
    ck_assert_uint_eq(out, 99);

    /* Guarantees are the policy server's now. */
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 4, false), PM_EPERM);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 0, true), PM_EPERM);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, NOTASK, 4, false), PM_ESRCH);
    ck_assert_uint_eq(info(1).guaranteed, 0);
    ck_assert(!info(0).extra_eligible);

    /* The holder still has it, and it works. */
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_OK);
    ck_assert_uint_eq(bytes, PG);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Control needs a frame for the buffer; a failure (ENOMEM) takes nothing, so
 * control can be had once the frame is there. */
START_TEST(test_control_enomem)
{
    pmworld_init(&p, 16, 0, 2);
    container_t c = new_container(1);
    fill(1, c, 0, 16, 0, 0x30); /* first come, first served: the whole pool */
    container_t ctl = 5;
    ck_assert_int_eq(pm_get_control(p.pm, p.task[0], &ctl), PM_ENOMEM);
    ck_assert_uint_eq(ctl, 5);
    /* Still first come, first served: G was not reset, set_guarantee works. */
    dealloc(1, c, 15, 1, 0);
    alloc(1, c, 15, 1, 0, PM_OK);
    PM_CHECK_INVARIANTS(&p);
    dealloc(1, c, 15, 1, 0);
    ctl = take_control(0);
    struct pm_policy_header h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.available, 15);
    ck_assert_uint_eq(read_record(0, BUF_VA, record_of(0, BUF_VA, p.task[1])).allocated, 15);
    expect_pages(1, VA, 15, 0x30);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* pm_control_give hands control on: the old holder's handle is EBADF and
 * its mapping of the buffer is gone (its access faults: EFAULT, it has no
 * pager); the new holder maps the buffer and writes G. */
START_TEST(test_control_give)
{
    pmworld_init(&p, 64, 0, 3);
    container_t ctl = take_control(0);
    write_guarantee(0, p.task[1], 5, false);
    container_t c = new_container(1);
    fill(1, c, 0, 5, 0, 0x10);
    alloc(1, c, 5, 1, 0, PM_ENOMEM);

    container_t ctl2 = 0;
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, p.task[2], &ctl2), PM_OK);
    ck_assert_uint_ne(ctl2, 0);
    ck_assert_uint_ne(ctl2, ctl);
    /* The old holder: handle dead, mapping gone. */
    uint64_t bytes = 0;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_EBADF);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl2, BUF_VA, &bytes), PM_EBADF);
    container_t out = 0;
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, p.task[1], &out), PM_EBADF);
    struct pm_policy_header h;
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, BUF_VA, &h, sizeof h), PM_EFAULT);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_WRITE, BUF_VA, &h, sizeof h), PM_EFAULT);
    pm_pfn_t pfn;
    unsigned rights;
    ck_assert_int_eq(l4_lookup(p.w.k, p.task[0], BUF_VA, &pfn, &rights), PM_ENOENT);
    /* The new holder: the records as the old one left them. */
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[2], ctl2, BUF_VA2, &bytes), PM_OK);
    ck_assert_uint_eq(bytes, PG);
    h = read_header(2, BUF_VA2);
    ck_assert_uint_eq(h.used, 3);
    ck_assert_uint_eq(h.seen, h.epoch);
    struct pm_policy_record r = read_record(2, BUF_VA2, record_of(2, BUF_VA2, p.task[1]));
    ck_assert_uint_eq(r.guaranteed, 5);
    ck_assert_uint_eq(r.honoured, 5);
    ck_assert_uint_eq(r.allocated, 5);
    put_guarantee(2, BUF_VA2, p.task[1], 8, false, true);
    fill(1, c, 5, 3, 0, 0x15);
    alloc(1, c, 8, 1, 0, PM_ENOMEM);
    ck_assert_uint_eq(info(1).guaranteed, 8);
    expect_pages(1, VA, 8, 0x10);
    PM_CHECK_INVARIANTS(&p);

    /* And back: another fresh handle; the two before stay dead. */
    container_t ctl3 = 0;
    ck_assert_int_eq(pm_control_give(p.pm, p.task[2], ctl2, p.task[0], &ctl3), PM_OK);
    ck_assert_int_eq(pm_rw(&p, 2, L4_ACCESS_READ, BUF_VA2, &h, sizeof h), PM_EFAULT);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_EBADF);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl3, BUF_VA, &bytes), PM_OK);
    ck_assert_uint_eq(read_header(0, BUF_VA).used, 3);
    /* Control can still not be asked for. */
    ck_assert_int_eq(pm_get_control(p.pm, p.task[1], &out), PM_EPERM);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* ==== the policy buffer ===================================================== */

/* At first contact the records hold every task's current A (first come,
 * first served before) and G = 0, even for a task set_guarantee gave one;
 * afterwards physmem keeps A up to date. */
START_TEST(test_first_contact_records)
{
    pmworld_init(&p, 64, 0, 4);
    container_t c1 = new_container(1), c2 = new_container(2);
    fill(1, c1, 0, 5, 0, 0x51);
    fill(2, c2, 0, 7, 0, 0x72);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[3], 10, true), PM_OK);
    ck_assert_uint_eq(info(3).guaranteed, 10);

    take_control(0);
    struct pm_policy_header h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.capacity, (PG - sizeof h) / sizeof(struct pm_policy_record));
    ck_assert_uint_eq(h.capacity, 63);
    ck_assert_uint_eq(h.used, 4);
    ck_assert_uint_eq(h.available, 63);
    ck_assert_uint_eq(h.epoch, 0);
    ck_assert_uint_eq(h.seen, 0);
    ck_assert_uint_eq(h.committed, 0);
    ck_assert_uint_eq(h.violations, 0);
    const uint64_t want_a[4] = {0, 5, 7, 0};
    for (unsigned i = 0; i < 4; i++) {
        struct pm_policy_record r = read_record(0, BUF_VA, i);
        ck_assert_uint_eq(r.task, p.task[i]);
        ck_assert_uint_eq(r.allocated, want_a[i]);
        ck_assert_uint_eq(r.guaranteed, 0);
        ck_assert_uint_eq(r.honoured, 0);
        ck_assert_uint_eq(r.eligible, 0);
        ck_assert_uint_eq(info(i).guaranteed, 0);
        ck_assert_uint_eq(info(i).allocated, want_a[i]);
        ck_assert_uint_eq(info(i).extra, want_a[i]);
        ck_assert(!info(i).extra_eligible);
    }
    /* G = 0: the tasks keep what they have, but get nothing more. */
    alloc(1, c1, 5, 1, 0, PM_ENOMEM);
    alloc(3, new_container(3), 0, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    expect_pages(1, VA, 5, 0x51);
    expect_pages(2, VA, 7, 0x72);
    PM_CHECK_INVARIANTS(&p);

    /* A follows allocate, deallocate, soft deallocate, reclaim, destroy. */
    write_guarantee(0, p.task[1], 10, false);
    alloc(1, c1, 5, 3, 0, PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 8);
    dealloc(1, c1, 0, 2, 0);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 6);
    dealloc(1, c1, 2, 1, CONT_DEALLOC_SOFT);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 5);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[1], c1, 2, 1), PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 6);
    ck_assert_int_eq(pm_container_destroy(p.pm, p.task[1], c1), PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 0);
    /* … a logical copy into a new container, and a move out of one. */
    container_t d = new_container(1), wr;
    ck_assert_int_eq(pm_container_share(p.pm, p.task[2], c2, p.task[1], &wr), PM_OK);
    alloc(1, d, 0, 3, 0, PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 3);
    container_t e, ew;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[1], wr, 0, 2, p.task[2], &e, &ew),
                     PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 5);
    frame_t fe;
    ck_assert_int_eq(pm_container_copy(p.pm, p.task[1], e, 0, d, 0, 2, CONT_COPY_MOVE, &fe), PM_OK);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 3);
    map_all(1, d, 0, 2, CONT_MAP_READ, VA3);
    expect_pages(1, VA3, 2, 0x72);
    ck_assert_uint_eq(read_record(0, BUF_VA, 2).allocated, 7);
    ck_assert_uint_eq(read_record(0, BUF_VA, 2).allocated, info(2).allocated);
    h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.committed, 10);
    ck_assert_uint_eq(h.seen, h.epoch);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* G and eligibility written without moving the epoch are not read; the
 * next call after the epoch moves reads them all. */
START_TEST(test_epoch_gates_guarantees)
{
    pmworld_init(&p, 64, 0, 3);
    take_control(0);
    container_t c = new_container(1);
    put_guarantee(0, BUF_VA, p.task[1], 6, true, false);
    put_guarantee(0, BUF_VA, p.task[2], 4, false, false);
    alloc(1, c, 0, 1, 0, PM_ENOMEM);
    alloc(1, c, 0, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    ck_assert_uint_eq(info(1).guaranteed, 0);
    ck_assert(!info(1).extra_eligible);
    struct pm_policy_header h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.epoch, 0);
    ck_assert_uint_eq(h.seen, 0);
    ck_assert_uint_eq(h.committed, 0);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).honoured, 0);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).guaranteed, 6); /* the server's field stays */

    bump_epoch(0, BUF_VA);
    fill(1, c, 0, 6, 0, 0x60);
    h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.epoch, 1);
    ck_assert_uint_eq(h.seen, 1);
    ck_assert_uint_eq(h.committed, 10);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).honoured, 6);
    ck_assert_uint_eq(read_record(0, BUF_VA, 2).honoured, 4);
    ck_assert_uint_eq(info(1).guaranteed, 6);
    ck_assert(info(1).extra_eligible);
    ck_assert_uint_eq(info(2).guaranteed, 4);

    /* Lowering G without the epoch: still 6 in force. */
    put_guarantee(0, BUF_VA, p.task[1], 2, false, false);
    alloc(1, c, 6, 2, CONT_ALLOC_EXTRA, PM_OK); /* still eligible */
    ck_assert_uint_eq(info(1).guaranteed, 6);
    bump_epoch(0, BUF_VA);
    alloc(1, c, 8, 1, CONT_ALLOC_EXTRA, PM_ENOMEM); /* not eligible any more */
    ck_assert_uint_eq(info(1).guaranteed, 2);
    ck_assert_uint_eq(info(1).extra, 6);
    ck_assert_uint_eq(read_header(0, BUF_VA).committed, 6);
    expect_pages(1, VA, 6, 0x60);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Add tasks until the records outgrow one page (63 records of 64 bytes
 * after a 64-byte header): physmem moves them into a buffer twice the
 * size, the server's next access faults, and when it asks again it finds
 * every record intact, the dead task's record dropped, the new task's
 * there, and one frame less available. */
START_TEST(test_buffer_resize)
{
    pmworld_init(&p, 256, 0, 3);
    container_t ctl = take_control(0);
    write_guarantee(0, p.task[1], 4, true);
    write_guarantee(0, p.task[2], 3, false);
    container_t c = new_container(1);
    fill(1, c, 0, 6, CONT_ALLOC_EXTRA, 0xA0);
    struct pm_policy_header h0 = read_header(0, BUF_VA);
    ck_assert_uint_eq(h0.capacity, 63);
    ck_assert_uint_eq(h0.available, 255);
    ck_assert_uint_eq(h0.used, 3);

    l4_task_t more[64];
    unsigned nmore = 0;
    while (nmore < 60) {
        l4_thread_t th = world_task(&p.w, &more[nmore]);
        ck_assert_int_eq(pm_task_add(p.pm, more[nmore], th), PM_OK);
        nmore++;
        /* Still room: the new record appears in the mapped buffer. */
        struct pm_policy_header h = read_header(0, BUF_VA);
        CHECK_EQ(h.used, 3 + nmore);
        struct pm_policy_record r = read_record(0, BUF_VA, h.used - 1);
        CHECK_EQ(r.task, more[nmore - 1]);
        CHECK_EQ(r.guaranteed, 0);
        CHECK_EQ(r.allocated, 0);
    }
    ck_assert_uint_eq(read_header(0, BUF_VA).used, 63);
    /* A G for one of them, and one of them dies (its record stays, dead). */
    write_guarantee(0, more[10], 2, false);
    ck_assert_int_eq(pm_task_remove(p.pm, more[0]), PM_OK);
    struct pm_policy_header h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.used, 63);
    struct pm_policy_record dead = read_record(0, BUF_VA, 3);
    ck_assert_uint_eq(dead.task, 0);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.buffer_resizes, 0);
    uint64_t epoch = h.epoch;

    /* The 64th record does not fit. */
    l4_task_t last;
    l4_thread_t th = world_task(&p.w, &last);
    ck_assert_int_eq(pm_task_add(p.pm, last, th), PM_OK);
    ck_assert_uint_eq(stats().buffer_resizes, 1);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_READ, BUF_VA, &h, sizeof h), PM_EFAULT);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_WRITE, BUF_VA, &h, sizeof h), PM_EFAULT);
    PM_CHECK_INVARIANTS(&p);

    /* Ask again: twice the bytes. */
    uint64_t bytes = 0;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_OK);
    ck_assert_uint_eq(bytes, 2 * PG);
    h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.capacity, (2 * PG - sizeof h) / sizeof(struct pm_policy_record));
    ck_assert_uint_eq(h.capacity, 127);
    ck_assert_uint_eq(h.used, 63); /* 62 live before, the new one; the dead one dropped */
    ck_assert_uint_eq(h.available, h0.available - 1);
    ck_assert_uint_eq(h.epoch, epoch);
    ck_assert_uint_eq(h.seen, epoch);
    ck_assert_uint_eq(h.committed, 9);
    /* Every record intact, in the order the tasks came. */
    l4_task_t order[64];
    unsigned n = 0;
    order[n++] = p.task[0];
    order[n++] = p.task[1];
    order[n++] = p.task[2];
    for (unsigned i = 1; i < nmore; i++)
        order[n++] = more[i];
    order[n++] = last;
    ck_assert_uint_eq(n, 63);
    for (unsigned i = 0; i < n; i++) {
        struct pm_policy_record r = read_record(0, BUF_VA, i);
        CHECK_EQ(r.task, order[i]);
        uint64_t g = order[i] == p.task[1]   ? 4
                     : order[i] == p.task[2] ? 3
                     : order[i] == more[10]  ? 2
                                             : 0;
        CHECK_EQ(r.guaranteed, g);
        CHECK_EQ(r.honoured, g);
        CHECK_EQ(r.eligible, order[i] == p.task[1]);
        CHECK_EQ(r.allocated, order[i] == p.task[1] ? 6 : 0);
    }
    /* The new buffer works both ways: a G for the new task is honoured. */
    write_guarantee(0, last, 2, false);
    container_t cl;
    ck_assert_int_eq(pm_container_create(p.pm, last, &cl), PM_OK);
    uint32_t k = 2;
    ck_assert_int_eq(pm_container_allocate(p.pm, last, cl, 0, &k, 0), PM_OK);
    ck_assert_uint_eq(tinfo(last).guaranteed, 2);
    ck_assert_uint_eq(read_record(0, BUF_VA, 62).allocated, 2);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 6);
    expect_pages(1, VA, 6, 0xA0);
    ck_assert_uint_eq(stats().buffer_resizes, 1);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* ΣG over the available frames: a policy violation (counter, header,
 * event, invariant failure); the guarantees are honoured in record order
 * as far as the frames go, so the last task's allocation within the G it
 * was given fails.  Mending the buffer mends the invariant. */
START_TEST(test_overcommit)
{
    pmworld_init(&p, 64, 0, 4);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    take_control(0);
    put_guarantee(0, BUF_VA, p.task[1], 30, false, false);
    put_guarantee(0, BUF_VA, p.task[2], 20, false, false);
    put_guarantee(0, BUF_VA, p.task[3], 20, false, true); /* ΣG = 70 > 63 */
    ck_assert_uint_eq(stats().policy_violations, 0);
    container_t c3 = new_container(3); /* the next call reads the records */
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.policy_violations, 1);
    struct pm_policy_header h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.violations, 1);
    ck_assert_uint_eq(h.committed, 70);
    ck_assert_uint_eq(h.available, 63);
    ck_assert_uint_eq(h.seen, h.epoch);
    ck_assert_uint_eq(count_events(PM_EV_OVERCOMMIT), 1);
    const struct pm_event *ev = last_event(PM_EV_OVERCOMMIT);
    ck_assert_uint_eq(ev->count, 70);
    ck_assert_uint_eq(ev->to_frame, 63);
    ck_assert_uint_eq(ev->task, p.task[0]);
    /* Honoured in record order as far as the frames go. */
    const uint64_t asked[4] = {0, 30, 20, 20}, honoured[4] = {0, 30, 20, 13};
    for (unsigned i = 0; i < 4; i++) {
        struct pm_policy_record r = read_record(0, BUF_VA, record_of(0, BUF_VA, p.task[i]));
        ck_assert_uint_eq(r.guaranteed, asked[i]);
        ck_assert_uint_eq(r.honoured, honoured[i]);
        ck_assert_uint_eq(info(i).guaranteed, honoured[i]);
    }
    ck_assert_uint_gt(pm_check(p.pm, NULL, NULL), 0);
    /* The last task gets its 13, not the 20 it was given. */
    alloc(3, c3, 0, 14, 0, PM_ENOMEM);
    uint32_t k = 20;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[3], c3, 0, &k, CONT_ALLOC_PARTIAL),
                     PM_ENOMEM);
    ck_assert_uint_eq(k, 13); /* PARTIAL: the first 13 */
    ck_assert_uint_eq(info(3).allocated, 13);
    dealloc(3, c3, 0, 13, 0);
    fill(3, c3, 0, 13, 0, 0x30);
    alloc(3, c3, 13, 1, 0, PM_ENOMEM);
    container_t c1 = new_container(1), c2 = new_container(2);
    alloc(1, c1, 0, 30, 0, PM_OK);
    alloc(2, c2, 0, 20, 0, PM_OK);
    alloc(1, c1, 30, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    ck_assert_uint_eq(stats().policy_violations, 1); /* one per epoch read */
    ck_assert_uint_gt(pm_check(p.pm, NULL, NULL), 0);
    /* The server moves the epoch without mending: another violation. */
    bump_epoch(0, BUF_VA);
    alloc(3, c3, 13, 1, 0, PM_ENOMEM);
    ck_assert_uint_eq(stats().policy_violations, 2);
    ck_assert_uint_eq(read_header(0, BUF_VA).violations, 2);
    ck_assert_uint_eq(count_events(PM_EV_OVERCOMMIT), 2);
    /* Mended: ΣG = 63. */
    put_guarantee(0, BUF_VA, p.task[3], 13, false, true);
    alloc(3, c3, 13, 1, 0, PM_ENOMEM);
    ck_assert_uint_eq(stats().policy_violations, 2);
    h = read_header(0, BUF_VA);
    ck_assert_uint_eq(h.committed, 63);
    ck_assert_uint_eq(h.violations, 2);
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 0);
    expect_pages(3, VA, 13, 0x30);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* CONT_ALLOC_EXTRA takes an eligible task past G into the frames nobody
 * else is guaranteed or using; a task not eligible stops at G (EXTRA is
 * ignored within it). */
START_TEST(test_extra_eligibility)
{
    pmworld_init(&p, 64, 0, 3);
    take_control(0);
    write_guarantee(0, p.task[1], 10, true);
    write_guarantee(0, p.task[2], 10, false);
    container_t c1 = new_container(1), c2 = new_container(2);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).eligible, 1);
    fill(1, c1, 0, 10, 0, 0x11);
    alloc(1, c1, 10, 1, 0, PM_ENOMEM); /* past G needs EXTRA */
    ck_assert(info(1).extra_eligible);
    /* 63 available, 10 guaranteed to task 2: 43 extra. */
    fill(1, c1, 10, 43, CONT_ALLOC_EXTRA, 0x40);
    alloc(1, c1, 53, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    ck_assert_uint_eq(info(1).extra, 43);
    ck_assert_uint_eq(read_record(0, BUF_VA, 1).allocated, 53);
    /* Task 2: EXTRA within G is fine, past it refused. */
    ck_assert(!info(2).extra_eligible);
    fill(2, c2, 0, 10, CONT_ALLOC_EXTRA, 0x80);
    alloc(2, c2, 10, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    ck_assert_uint_eq(info(2).extra, 0);
    /* Task 2 made eligible: now the pool is full. */
    write_guarantee(0, p.task[2], 10, true);
    alloc(2, c2, 10, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    dealloc(1, c1, 50, 3, 0);
    alloc(2, c2, 10, 3, CONT_ALLOC_EXTRA, PM_OK);
    alloc(2, c2, 13, 1, CONT_ALLOC_EXTRA, PM_ENOMEM);
    expect_pages(1, VA, 10, 0x11);
    expect_pages(1, VA + 10 * PG, 40, 0x40);
    expect_pages(2, VA, 10, 0x80);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* ==== reclaim (§5.1) ======================================================= */

/* pm_pressure takes frames only soft references hold first (oldest first;
 * their data is lost: ESTALE), then asks the task with most extra frames
 * with an upcall to its memory control thread (label, count, deadline),
 * never for more than its E, never for guaranteed frames. */
START_TEST(test_pressure_soft_then_upcalls)
{
    pmworld_init(&p, 64, 0, 4);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 8, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 4, true), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[2], 4, true), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[3], 8, false), PM_OK);
    give_memctl(1);
    give_memctl(2);
    container_t c[4];
    for (unsigned i = 0; i < 4; i++)
        c[i] = new_container(i);
    fill(0, c[0], 0, 8, 0, 0x00);
    fill(1, c[1], 0, 24, CONT_ALLOC_EXTRA, 0x10); /* E = 20 */
    fill(2, c[2], 0, 12, CONT_ALLOC_EXTRA, 0x40); /* E = 8 */
    fill(3, c[3], 0, 8, 0, 0x80);
    dealloc(3, c[3], 2, 6, CONT_DEALLOC_SOFT); /* six frames only soft references hold */
    ck_assert_uint_eq(info(3).allocated, 2);
    ck_assert_uint_eq(stats().soft_made, 6);
    ck_assert_uint_eq(free_frames(), 12);
    PM_CHECK_INVARIANTS(&p);

    /* Two frames wanted beyond the free ones: two soft frames, the oldest. */
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, 14, &r), PM_OK);
    ck_assert_uint_eq(r.free_before, 12);
    ck_assert_uint_eq(r.soft_taken, 2);
    ck_assert_uint_eq(r.inactive_dropped, 0);
    ck_assert_uint_eq(r.flushed, 0);
    ck_assert_uint_eq(r.upcalls, 0);
    ck_assert_uint_eq(r.asked, 0);
    ck_assert_uint_eq(r.exiled, 0);
    ck_assert_uint_eq(r.free_after, 14);
    ck_assert_uint_eq(stats().soft_lost, 2);
    ck_assert_uint_eq(count_events(PM_EV_SOFT_LOST), 2);
    ck_assert_uint_eq(up[1].n + up[2].n, 0);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[3], c[3], 2, 1), PM_ESTALE);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[3], c[3], 3, 1), PM_ESTALE);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[3], c[3], 6, 2), PM_OK);
    ck_assert_uint_eq(stats().soft_reclaimed, 2);
    map_all(3, c[3], 6, 2, CONT_MAP_READ, VA + 6 * PG);
    expect_pages(3, VA + 6 * PG, 2, 0x86); /* the data survived */
    PM_CHECK_INVARIANTS(&p);

    /* Fourteen more: the two soft frames left, then twelve asked of task 1. */
    pm_time_t t0 = now();
    ck_assert_int_eq(pm_pressure(p.pm, 30, &r), PM_OK);
    ck_assert_uint_eq(r.free_before, 14);
    ck_assert_uint_eq(r.soft_taken, 2);
    ck_assert_uint_eq(r.upcalls, 1);
    ck_assert_uint_eq(r.asked, 14);
    ck_assert_uint_eq(r.exiled, 0);
    ck_assert_uint_eq(r.free_after, 16); /* the upcall frees nothing at once */
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[3], c[3], 4, 2), PM_ESTALE);
    ck_assert_uint_eq(up[1].n, 1);
    ck_assert_uint_eq(up[2].n, 0);
    ck_assert_uint_eq(up[1].label, PM_LABEL_RETURN_FRAMES);
    ck_assert_uint_eq(up[1].words, 2);
    ck_assert_uint_eq(up[1].count[0], 14);
    ck_assert_uint_eq(up[1].deadline[0], t0 + DEADLINE);
    ck_assert_uint_eq(up[1].self, up[1].thread);
    ck_assert_uint_eq(up[1].from, l4_root_thread(p.w.k));
    ck_assert_uint_eq(info(1).owed, 14);
    ck_assert_uint_eq(info(1).deadline, t0 + DEADLINE);
    ck_assert_uint_eq(info(2).owed, 0);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.reclaim_upcalls, 1);
    ck_assert_uint_eq(st.frames_asked, 14);
    ck_assert_uint_eq(st.pressure_calls, 2);
    ck_assert_uint_eq(st.soft_lost, 4);
    const struct pm_event *ev = last_event(PM_EV_RETURN_FRAMES);
    ck_assert_uint_eq(ev->task, p.task[1]);
    ck_assert_uint_eq(ev->count, 14);
    ck_assert_uint_eq(ev->vaddr, t0 + DEADLINE);
    PM_CHECK_INVARIANTS(&p);

    /* The whole pool: no more than each E (less what is owed already),
     * nothing of the guaranteed frames of tasks 0 and 3. */
    l4_clock_advance(p.w.k, 1000);
    ck_assert_int_eq(pm_pressure(p.pm, 64, &r), PM_OK);
    ck_assert_uint_eq(r.soft_taken, 0);
    ck_assert_uint_eq(r.upcalls, 2);
    ck_assert_uint_eq(r.asked, 14);
    ck_assert_uint_eq(up[2].n, 1);
    ck_assert_uint_eq(up[2].count[0], 8); /* most extra first: 8 > 20 − 14 */
    ck_assert_uint_eq(up[2].deadline[0], t0 + 1000 + DEADLINE); /* its own deadline */
    ck_assert_uint_eq(up[1].n, 2);
    ck_assert_uint_eq(up[1].count[1], 6);
    ck_assert_uint_eq(up[1].deadline[1], t0 + DEADLINE); /* still the first deadline */
    ck_assert_uint_eq(info(1).owed, 20);
    ck_assert_uint_eq(info(2).owed, 8);
    ck_assert_uint_eq(info(0).owed, 0);
    ck_assert_uint_eq(info(3).owed, 0);
    st = stats();
    ck_assert_uint_eq(st.reclaim_upcalls, 3);
    ck_assert_uint_eq(st.frames_asked, 28);
    /* (Pressure again now would find no victim: see
     * test_bug_pressure_no_victims.) */
    expect_pages(0, VA, 8, 0x00);
    expect_pages(1, VA, 24, 0x10);
    expect_pages(2, VA, 12, 0x40);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Pressure that the free frames, or the soft-only frames, cover asks
 * nobody, and a task without a memory control thread is not exiled. */
START_TEST(test_pressure_covered)
{
    pmworld_init(&p, 32, 0, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[i], 4, true), PM_OK);
    container_t c[3];
    for (unsigned i = 0; i < 3; i++) {
        c[i] = new_container(i);
        fill(i, c[i], 0, 8, CONT_ALLOC_EXTRA, (unsigned char)(0x20 * i)); /* E = 4 each */
    }
    dealloc(2, c[2], 6, 2, CONT_DEALLOC_SOFT);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, 8, &r), PM_OK);
    ck_assert_uint_eq(r.free_before, 8);
    ck_assert_uint_eq(r.soft_taken + r.inactive_dropped + r.flushed, 0);
    ck_assert_uint_eq(r.upcalls, 0);
    ck_assert_uint_eq(r.asked, 0);
    ck_assert_uint_eq(r.exiled, 0);
    ck_assert_uint_eq(r.free_after, 8);
    ck_assert_int_eq(pm_pressure(p.pm, 0, NULL), PM_OK);
    ck_assert_int_eq(pm_pressure(p.pm, 10, &r), PM_OK);
    ck_assert_uint_eq(r.soft_taken, 2);
    ck_assert_uint_eq(r.upcalls, 0);
    ck_assert_uint_eq(r.free_after, 10);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.pressure_calls, 3);
    ck_assert_uint_eq(st.reclaim_upcalls, 0);
    ck_assert_uint_eq(st.exiles, 0);
    ck_assert_uint_eq(st.soft_lost, 2);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(info(i).exiles, 0);
        expect_pages(i, VA, i == 2 ? 6 : 8, (unsigned char)(0x20 * i));
    }
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): pressure (or an allocation within G) that finds nobody with extra
 * frames left to ask hands the victim policy an empty array whose data is
 * NULL (g_array_new, nothing appended), and most-extra and youngest call
 * qsort(NULL, 0, …): undefined behaviour (qsort's argument is declared
 * nonnull).  The plain build passes this test; the sanitizer build
 * (build-asan, -fsanitize=undefined -fno-sanitize-recover) aborts at
 * src/victim_most_extra.c:19 "null pointer passed as argument 1".  Fix:
 * skip order() when there are no victims (src/reclaim.c pm__ask_victims). */
START_TEST(test_bug_pressure_no_victims)
{
    pmworld_init(&p, 32, 0, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[i], 8, true), PM_OK);
    for (unsigned i = 0; i < 3; i++)
        fill(i, new_container(i), 0, 8, CONT_ALLOC_EXTRA, (unsigned char)(0x20 * i));
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, 32, &r), PM_OK); /* aborts under UBSan */
    ck_assert_uint_eq(r.free_before, 8);
    ck_assert_uint_eq(r.upcalls, 0);
    ck_assert_uint_eq(r.asked, 0);
    ck_assert_uint_eq(r.exiled, 0);
    ck_assert_uint_eq(r.free_after, 8);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_uint_eq(info(i).exiles, 0);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* pm_task_set_memctl's errors. */
START_TEST(test_set_memctl_errors)
{
    pmworld_init(&p, 16, 0, 2);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, NOTASK, p.thread[0]), PM_ESRCH);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[0], p.thread[1]), PM_ESRCH);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[0], L4_NILTHREAD), PM_ESRCH);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[0], 9999), PM_ESRCH);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[0], p.thread[0]), PM_OK);
    pmworld_fini(&p);
}
END_TEST

/* ---- victim policies --------------------------------------------------------- */

/* Tasks 1 … N − 1 get G = 2, extra eligibility, a memory control thread,
 * and 2 + E[i] frames (mapped and filled). */
static void victims(const uint32_t *e, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[i], 2, true), PM_OK);
        give_memctl(i);
    }
    for (unsigned i = 1; i < n; i++)
        fill(i, new_container(i), 0, 2 + e[i], CONT_ALLOC_EXTRA, (unsigned char)(0x10 * i));
}

START_TEST(test_victim_most_extra)
{
    pmworld_init(&p, 64, 0, 4);
    const uint32_t e[4] = {0, 6, 10, 3};
    victims(e, 4);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 12, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 2);
    ck_assert_uint_eq(r.asked, 12);
    ck_assert_uint_eq(up[2].n, 1);
    ck_assert_uint_eq(up[2].count[0], 10); /* the most extra first, all of it */
    ck_assert_uint_eq(up[1].n, 1);
    ck_assert_uint_eq(up[1].count[0], 2); /* then the next, for what is missing */
    ck_assert_uint_eq(up[3].n, 0);
    ck_assert_uint_eq(info(2).owed, 10);
    ck_assert_uint_eq(info(1).owed, 2);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Most-extra breaks ties by age. */
START_TEST(test_victim_most_extra_ties)
{
    pmworld_init(&p, 64, 0, 3);
    const uint32_t e[3] = {0, 10, 10};
    victims(e, 3);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 2, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 1);
    ck_assert_uint_eq(up[1].n, 1);
    ck_assert_uint_eq(up[1].count[0], 2);
    ck_assert_uint_eq(up[2].n, 0);
    pmworld_fini(&p);
}
END_TEST

/* Spread asks everyone with extra frames for a part in proportion to E. */
START_TEST(test_victim_spread)
{
    pmworld_init_swap(&p, 64, 3, 8, "spread");
    const uint32_t e[3] = {0, 10, 10};
    victims(e, 3);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 2, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 2);
    ck_assert_uint_eq(r.asked, 2);
    ck_assert_uint_eq(up[1].n, 1);
    ck_assert_uint_eq(up[1].count[0], 1);
    ck_assert_uint_eq(up[2].n, 1);
    ck_assert_uint_eq(up[2].count[0], 1);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): the spread policy's parts do not cover the shortfall.  pm__ask_victims
 * (src/reclaim.c) passes spread's ask() the shortfall still missing but the
 * total E of all victims (asked ones included), so every part after the
 * first is shrunk twice: E = 10 and 10, 10 frames missing → asks 5, then
 * ceil(5 × 10 / 20) = 3; 2 frames are never asked for although the victims
 * have 20 extra frames. */
START_TEST(test_bug_victim_spread_covers_shortfall)
{
    pmworld_init_swap(&p, 64, 3, 8, "spread");
    const uint32_t e[3] = {0, 10, 10};
    victims(e, 3);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 10, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 2);
    ck_assert_uint_eq(up[1].count[0], 5);
    ck_assert_uint_eq(up[2].count[0], 5);
    ck_assert_uint_eq(r.asked, 10);
    pmworld_fini(&p);
}
END_TEST

/* Youngest asks the task known last first. */
START_TEST(test_victim_youngest)
{
    pmworld_init_swap(&p, 64, 4, 8, "youngest");
    const uint32_t e[4] = {0, 10, 3, 5};
    victims(e, 4);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 10, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 3);
    ck_assert_uint_eq(r.asked, 10);
    ck_assert_uint_eq(up[3].count[0], 5);
    ck_assert_uint_eq(up[2].count[0], 3);
    ck_assert_uint_eq(up[1].count[0], 2);
    /* Only task 1 has extra left to ask for. */
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 3, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 1);
    ck_assert_uint_eq(up[1].n, 2);
    ck_assert_uint_eq(up[1].count[1], 3);
    ck_assert_uint_eq(up[3].n, 1);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* The registry, and physmem refusing an unknown policy. */
START_TEST(test_victim_registry)
{
    const struct pm_victim_policy *const *all = pm_victim_policies();
    ck_assert_ptr_nonnull(all);
    const char *names[] = {"most-extra", "spread", "youngest"};
    size_t n = 0;
    for (; all[n] != NULL; n++) {
        ck_assert_ptr_nonnull(all[n]->name);
        ck_assert_ptr_nonnull(all[n]->summary);
        ck_assert(all[n]->order != NULL);
        ck_assert_ptr_eq(pm_victim_policy_find(all[n]->name), all[n]);
    }
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(all[0]->name, "most-extra");
    for (size_t i = 0; i < 3; i++)
        ck_assert_ptr_nonnull(pm_victim_policy_find(names[i]));
    ck_assert_ptr_null(pm_victim_policy_find(NULL));
    ck_assert_ptr_null(pm_victim_policy_find("nope"));
    ck_assert_ptr_null(pm_victim_policy_find(""));
    ck_assert_ptr_null(pm_victim_policy_find("Most-Extra"));

    struct world w;
    world_init(&w, 16, 4096);
    pm_physmem_t *pm = (pm_physmem_t *)(uintptr_t)0x1234;
    struct pm_physmem_config cfg = {
        .pool = w.pool, .kernel = w.k, .thread = l4_root_thread(w.k), .victim_policy = "nope"};
    ck_assert_int_eq(pm_physmem_new(&cfg, &pm), PM_EINVAL);
    ck_assert_ptr_eq(pm, (pm_physmem_t *)(uintptr_t)0x1234);
    cfg.victim_policy = "";
    ck_assert_int_eq(pm_physmem_new(&cfg, &pm), PM_EINVAL);
    for (size_t i = 0; i < 3; i++) {
        cfg.victim_policy = names[i];
        ck_assert_int_eq(pm_physmem_new(&cfg, &pm), PM_OK);
        pm_physmem_free(pm);
    }
    world_fini(&w);
}
END_TEST

/* ==== deadlines and exile (§5.2) ============================================ */

/* Task 1: G = 4, eligible, 14 frames (E = 10) filled from 0x10, a memory
 * control thread; task 0 holds 8 guaranteed frames.  Pressure asks task 1
 * for 6; returns the deadline. */
static pm_time_t asked_six(container_t *c1, bool handler)
{
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 8, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 4, true), PM_OK);
    if (handler)
        give_memctl(1);
    fill(0, new_container(0), 0, 8, 0, 0x00);
    *c1 = new_container(1);
    fill(1, *c1, 0, 14, CONT_ALLOC_EXTRA, 0x10);
    up[1].c = *c1;
    up[1].next = 8;
    pm_time_t d = now() + DEADLINE;
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 6, &r), PM_OK);
    ck_assert_uint_eq(r.asked, 6);
    return d;
}

/* A task that returns what it is asked for before the deadline (soft
 * deallocations count, in parts) is not exiled. */
START_TEST(test_comply_before_deadline)
{
    pmworld_init(&p, 64, 0, 2);
    container_t c1;
    pm_time_t d = asked_six(&c1, true);
    ck_assert_uint_eq(info(1).owed, 6);
    ck_assert_uint_eq(info(1).deadline, d);
    ck_assert_uint_eq(up[1].deadline[0], d);
    l4_clock_advance(p.w.k, d - now() - 1);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    PM_CHECK_INVARIANTS(&p);
    dealloc(1, c1, 8, 2, CONT_DEALLOC_SOFT);
    ck_assert_uint_eq(info(1).owed, 4);
    dealloc(1, c1, 10, 4, 0);
    ck_assert_uint_eq(info(1).owed, 0);
    l4_clock_advance(p.w.k, 2 * DEADLINE);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    (void)new_container(0); /* a later call: nothing happens either */
    struct pm_task_info ti = info(1);
    ck_assert_uint_eq(ti.exiles, 0);
    ck_assert_uint_eq(ti.allocated, 8);
    ck_assert_uint_eq(stats().exiles, 0);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[1], c1, 8, 2), PM_OK);
    map_all(1, c1, 8, 2, CONT_MAP_READ, VA + 8 * PG);
    expect_pages(1, VA, 10, 0x10);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* The memory control thread answers inside the upcall (a handler may call
 * physmem): the task owes nothing when pm_pressure returns. */
START_TEST(test_comply_in_handler)
{
    pmworld_init(&p, 64, 0, 2);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 4, true), PM_OK);
    give_memctl(1);
    up[1].comply = true;
    container_t c1 = new_container(1);
    fill(1, c1, 0, 14, CONT_ALLOC_EXTRA, 0x10);
    up[1].c = c1;
    up[1].next = 8;
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 6, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 1);
    ck_assert_uint_eq(r.asked, 6);
    ck_assert_uint_eq(r.exiled, 0);
    ck_assert_int_eq(up[1].comply_err, PM_OK);
    ck_assert_uint_eq(info(1).owed, 0);
    ck_assert_uint_eq(info(1).allocated, 8);
    ck_assert_uint_eq(stats().soft_made, 6);
    l4_clock_advance(p.w.k, 2 * DEADLINE);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    ck_assert_uint_eq(info(1).exiles, 0);
    expect_pages(1, VA, 8, 0x10);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* A task that ignores the upcall is exiled once the clock passes the
 * deadline, by pm_physmem_tick: all its frames dropped, its mappings gone. */
START_TEST(test_ignore_exiled_by_tick)
{
    pmworld_init(&p, 64, 0, 2);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    container_t c1;
    pm_time_t d = asked_six(&c1, true);
    l4_clock_advance(p.w.k, d - now() - 1);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    ck_assert_uint_eq(info(1).owed, 6);
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 0);
    l4_clock_advance(p.w.k, 2);                       /* past the deadline */
    ck_assert_uint_gt(pm_check(p.pm, NULL, NULL), 0); /* owes past its deadline */
    ck_assert_uint_eq(count_events(PM_EV_EXILE), 0);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 1);
    struct pm_task_info ti = info(1);
    ck_assert_uint_eq(ti.allocated, 0);
    ck_assert_uint_eq(ti.extra, 0);
    ck_assert_uint_eq(ti.owed, 0);
    ck_assert_uint_eq(ti.exiles, 1);
    ck_assert_uint_eq(ti.containers, 1);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.exiles, 1);
    ck_assert_uint_eq(st.frames_exiled, 14);
    const struct pm_event *ev = last_event(PM_EV_EXILE);
    ck_assert_uint_eq(ev->task, p.task[1]);
    ck_assert_uint_eq(ev->count, 14);
    unsigned char b;
    ck_assert_int_eq(pm_rw(&p, 1, L4_ACCESS_READ, VA, &b, 1), PM_EFAULT);
    ck_assert_int_eq(pm_rw(&p, 1, L4_ACCESS_READ, VA + 13 * PG, &b, 1), PM_EFAULT);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0); /* once */
    ck_assert_uint_eq(free_frames(), 56);
    expect_pages(0, VA, 8, 0x00);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Past the deadline, the next physmem call exiles first: an answer that
 * comes too late finds the frames gone. */
START_TEST(test_ignore_exiled_at_next_call)
{
    pmworld_init(&p, 64, 0, 2);
    container_t c1;
    pm_time_t d = asked_six(&c1, true);
    l4_clock_advance(p.w.k, d - now() + 1);
    ck_assert_uint_eq(info(1).exiles, 0); /* pm_task_info only looks */
    uint32_t n = 6;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[1], c1, 8, &n, CONT_DEALLOC_SOFT),
                     PM_ENOENT);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(info(1).exiles, 1);
    ck_assert_uint_eq(info(1).allocated, 0);
    ck_assert_uint_eq(stats().frames_exiled, 14);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* A task without a memory control thread, or whose thread is not
 * receiving, is exiled at the upcall; the others are asked as usual. */
START_TEST(test_not_ready_exiled_at_once)
{
    pmworld_init(&p, 64, 0, 4);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    for (unsigned i = 1; i < 4; i++)
        ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[i], 2, true), PM_OK);
    l4_thread_t deaf;
    ck_assert_int_eq(l4_thread_create(p.w.k, p.task[2], &deaf), PM_OK);
    ck_assert_int_eq(pm_task_set_memctl(p.pm, p.task[2], deaf), PM_OK); /* no handler */
    give_memctl(3);
    container_t c[4];
    const uint32_t a[4] = {0, 7, 6, 5};
    for (unsigned i = 1; i < 4; i++) {
        c[i] = new_container(i);
        fill(i, c[i], 0, a[i], CONT_ALLOC_EXTRA, (unsigned char)(0x10 * i));
    }
    uint64_t free0 = free_frames();
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free0 + 12, &r), PM_OK);
    ck_assert_uint_eq(r.upcalls, 3);
    ck_assert_uint_eq(r.asked, 12); /* 5 + 4 + 3 */
    ck_assert_uint_eq(r.exiled, 2);
    ck_assert_uint_eq(r.free_before, free0);
    ck_assert_uint_eq(r.free_after, free0 + 7 + 6); /* every frame of the exiled */
    for (unsigned i = 1; i < 3; i++) {
        struct pm_task_info ti = info(i);
        ck_assert_uint_eq(ti.allocated, 0);
        ck_assert_uint_eq(ti.owed, 0);
        ck_assert_uint_eq(ti.exiles, 1);
        unsigned char b;
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, VA, &b, 1), PM_EFAULT);
    }
    ck_assert_uint_eq(info(3).owed, 3);
    ck_assert_uint_eq(info(3).exiles, 0);
    ck_assert_uint_eq(up[3].n, 1);
    ck_assert_uint_eq(up[3].count[0], 3);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.exiles, 2);
    ck_assert_uint_eq(st.frames_exiled, 13);
    ck_assert_uint_eq(st.reclaim_upcalls, 3);
    ck_assert_uint_eq(st.frames_asked, 12);
    ck_assert_uint_eq(count_events(PM_EV_EXILE), 2);
    ck_assert_uint_eq(count_events(PM_EV_RETURN_FRAMES), 3);
    expect_pages(3, VA, 5, 0x30);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* What an exile takes and what it leaves: the exiled task's frames (soft
 * references and swap ids too) and every mapping of them go; its
 * containers and capabilities stay, empty, and it can allocate again;
 * other tasks' logical copies (pm_container_copy, create_from) keep their
 * bytes; a share of its container finds the frames gone. */
START_TEST(test_after_exile)
{
    pmworld_init_swap(&p, 64, 4, 8, NULL);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 16, true), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[2], 16, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[3], 4, false), PM_OK);
    container_t c = new_container(1), c2 = new_container(1);
    fill(1, c, 0, 12, 0, 0xC0);
    alloc(1, c2, 0, 2, 0, PM_OK); /* never bound */
    /* Task 2: a share of c, a logical copy of 0…3, create_from of 4…6, and
     * a mapping of 8…9 through the share. */
    container_t w2, w3, d = new_container(2), e, ew;
    ck_assert_int_eq(pm_container_share(p.pm, p.task[1], c, p.task[2], &w2), PM_OK);
    ck_assert_int_eq(pm_container_share(p.pm, p.task[1], c, p.task[3], &w3), PM_OK);
    alloc(2, d, 0, 4, 0, PM_OK);
    frame_t fe = 0;
    ck_assert_int_eq(pm_container_copy(p.pm, p.task[2], w2, 0, d, 0, 4, 0, &fe), PM_OK);
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[2], w2, 4, 3, p.task[3], &e, &ew),
                     PM_OK);
    map_all(2, w2, 8, 2, CONT_MAP_READ, VA3);
    expect_pages(2, VA3, 2, 0xC8);
    map_all(3, w3, 10, 1, CONT_MAP_READ, VA);
    expect_pages(3, VA, 1, 0xCA);
    /* Task 1: a soft reference at 11, frame 7 swapped out. */
    dealloc(1, c, 11, 1, CONT_DEALLOC_SOFT);
    pm_swap_id_t id;
    ck_assert_int_eq(pm_swap(p.pm, p.task[1], c, 7, 1, &id), PM_OK);
    struct pm_task_info before = info(1);
    ck_assert_uint_eq(before.allocated, 12);
    ck_assert_uint_eq(before.swap_ids, 1);
    PM_CHECK_INVARIANTS(&p);

    ck_assert_int_eq(pm_task_exile(p.pm, p.task[1]), PM_OK);
    struct pm_task_info ti = info(1);
    ck_assert_uint_eq(ti.allocated, 0);
    ck_assert_uint_eq(ti.extra, 0);
    ck_assert_uint_eq(ti.swap_ids, 0);
    ck_assert_uint_eq(ti.exiles, 1);
    ck_assert_uint_eq(ti.containers, before.containers);
    ck_assert_uint_eq(ti.capabilities, before.capabilities);
    ck_assert_uint_eq(ti.guaranteed, 16);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.exiles, 1);
    ck_assert_uint_eq(st.frames_exiled, 12);
    ck_assert_uint_eq(last_event(PM_EV_EXILE)->count, 12);
    PM_CHECK_INVARIANTS(&p);

    /* Its mappings are gone, everywhere. */
    unsigned char b;
    for (unsigned j = 0; j < 12; j++)
        ck_assert_int_eq(pm_rw(&p, 1, L4_ACCESS_READ, VA + j * PG, &b, 1), PM_EFAULT);
    ck_assert_int_eq(pm_rw(&p, 2, L4_ACCESS_READ, VA3, &b, 1), PM_EFAULT);
    ck_assert_int_eq(pm_rw(&p, 3, L4_ACCESS_READ, VA, &b, 1), PM_EFAULT);
    /* Its containers are empty: no frame, no soft reference, no swap id. */
    uint32_t n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[1], c, 0, &n, CONT_MAP_READ, VA), PM_ENOENT);
    n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[1], c2, 0, &n, CONT_MAP_READ, VA), PM_ENOENT);
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(p.pm, p.task[1], c, 0, &fi), PM_ENOENT);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[1], c, 11, 1), PM_ENOENT);
    n = 1;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[1], c, 0, &n, 0), PM_ENOENT);
    /* The shares find the frames gone. */
    n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[2], w2, 8, &n, CONT_MAP_READ, VA3), PM_ENOENT);
    n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[3], w3, 10, &n, CONT_MAP_READ, VA), PM_ENOENT);
    /* Task 2's copies survive with their bytes, and are its own now. */
    map_all(2, d, 0, 4, RW, VA2);
    expect_pages(2, VA2, 4, 0xC0);
    map_all(2, e, 0, 3, RW, VA2 + 4 * PG);
    expect_pages(2, VA2 + 4 * PG, 3, 0xC4);
    write_pages(2, VA2, 7, 0x50);
    expect_pages(2, VA2, 7, 0x50);
    ck_assert_uint_eq(info(2).allocated, 7);
    PM_CHECK_INVARIANTS(&p);

    /* Its capabilities still work: it allocates again, and the swap id is
     * gone. */
    alloc(1, c, 0, 4, 0, PM_OK);
    map_all(1, c, 0, 4, RW, VA);
    static unsigned char page[PG];
    ck_assert_int_eq(pm_rw(&p, 1, L4_ACCESS_READ, VA, page, PG), PM_OK);
    ck_assert(bytes_all(page, PG, 0));
    write_pages(1, VA, 4, 0xE0);
    ck_assert_int_eq(pm_swap_in(p.pm, p.task[1], id, c, 0), PM_EBADF);
    map_all(2, w2, 0, 4, CONT_MAP_READ, VA3);
    expect_pages(2, VA3, 4, 0xE0);
    ck_assert_uint_eq(info(1).allocated, 4);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* An allocation within G that finds the frames held by other tasks' extra
 * frames fails (ENOMEM) and asks the victims for the shortfall — no more
 * than needed, not again for frames already owed; once they comply the
 * same allocation succeeds (binding takes their soft frames). */
START_TEST(test_guarantee_asks_for_frames)
{
    pmworld_init(&p, 64, 0, 3);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 0, false), PM_OK);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[2], 8, true), PM_OK);
    give_memctl(2);
    container_t c1 = new_container(1), c2 = new_container(2);
    fill(2, c2, 0, 64, CONT_ALLOC_EXTRA, 0x00); /* the whole pool */
    ck_assert_uint_eq(info(2).extra, 56);
    ck_assert_uint_eq(free_frames(), 0);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 16, false), PM_OK);
    PM_CHECK_INVARIANTS(&p);

    alloc(1, c1, 0, 4, 0, PM_ENOMEM);
    ck_assert_uint_eq(up[2].n, 1);
    ck_assert_uint_eq(up[2].count[0], 4);
    ck_assert_uint_eq(info(2).owed, 4);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.reclaim_upcalls, 1);
    ck_assert_uint_eq(st.frames_asked, 4);
    alloc(1, c1, 0, 4, 0, PM_ENOMEM); /* owed already: not asked again */
    ck_assert_uint_eq(stats().reclaim_upcalls, 1);
    alloc(1, c1, 0, 16, 0, PM_ENOMEM); /* twelve more */
    ck_assert_uint_eq(up[2].n, 2);
    ck_assert_uint_eq(up[2].count[1], 12);
    ck_assert_uint_eq(info(2).owed, 16);
    alloc(1, c1, 0, 20, 0, PM_ENOMEM); /* past G: nothing more asked */
    alloc(1, c1, 0, 16, CONT_ALLOC_PARTIAL, PM_ENOMEM);
    alloc(1, c1, 0, 2, CONT_ALLOC_EXTRA, PM_ENOMEM);
    st = stats();
    ck_assert_uint_eq(st.reclaim_upcalls, 2);
    ck_assert_uint_eq(st.frames_asked, 16);
    ck_assert_uint_eq(info(1).allocated, 0);
    PM_CHECK_INVARIANTS(&p);

    /* Task 2 complies: the allocation succeeds, and binding reuses the
     * frames its soft references held. */
    dealloc(2, c2, 48, 16, CONT_DEALLOC_SOFT);
    ck_assert_uint_eq(info(2).owed, 0);
    fill(1, c1, 0, 16, 0, 0x90);
    ck_assert_uint_eq(stats().soft_lost, 16);
    ck_assert_int_eq(pm_container_reclaim(p.pm, p.task[2], c2, 48, 1), PM_ESTALE);
    alloc(1, c1, 16, 1, 0, PM_ENOMEM); /* at G: nobody asked */
    ck_assert_uint_eq(stats().reclaim_upcalls, 2);
    l4_clock_advance(p.w.k, 2 * DEADLINE);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    ck_assert_uint_eq(info(2).exiles, 0);
    expect_pages(1, VA, 16, 0x90);
    expect_pages(2, VA, 48, 0x00);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* The victim ignores the request from an allocation within G: it is
 * exiled at the deadline, and the allocation succeeds then. */
START_TEST(test_guarantee_victim_exiled)
{
    pmworld_init(&p, 32, 0, 3);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[2], 4, true), PM_OK);
    give_memctl(2);
    container_t c1 = new_container(1), c2 = new_container(2);
    fill(2, c2, 0, 32, CONT_ALLOC_EXTRA, 0x00);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 8, false), PM_OK);
    alloc(1, c1, 0, 8, 0, PM_ENOMEM);
    ck_assert_uint_eq(info(2).owed, 8);
    l4_clock_advance(p.w.k, DEADLINE);
    fill(1, c1, 0, 8, 0, 0x77); /* the call exiles task 2 first */
    ck_assert_uint_eq(info(2).exiles, 1);
    ck_assert_uint_eq(info(2).allocated, 0);
    expect_pages(1, VA, 8, 0x77);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* The victim has no memory control thread: the allocation's upcall exiles
 * it at once; the allocation does not wait (ENOMEM), its retry succeeds. */
START_TEST(test_guarantee_victim_not_ready)
{
    pmworld_init(&p, 32, 0, 3);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[2], 4, true), PM_OK);
    container_t c1 = new_container(1), c2 = new_container(2);
    fill(2, c2, 0, 32, CONT_ALLOC_EXTRA, 0x00);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 8, false), PM_OK);
    /* The victim is exiled at once, inside the allocation, which then
     * finds the room it left and succeeds. */
    fill(1, c1, 0, 8, 0, 0x78);
    ck_assert_uint_eq(info(2).exiles, 1);
    ck_assert_uint_eq(info(2).allocated, 0);
    ck_assert_uint_eq(info(2).owed, 0);
    ck_assert_uint_eq(count_events(PM_EV_RETURN_FRAMES), 1);
    ck_assert_uint_eq(last_event(PM_EV_RETURN_FRAMES)->count, 8);
    ck_assert_uint_eq(last_event(PM_EV_EXILE)->count, 32);
    expect_pages(1, VA, 8, 0x78);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): a victim's extra frames in a container a server has locked cannot
 * be returned — the owner's deallocate is EBUSY while the lease holds
 * (§3.9) — yet physmem counts them in E, asks for them, exiles the task at
 * the deadline and drops the locked frames, revoking the server's mappings:
 * §3.2 says a locked container's frames are never moved or reclaimed by
 * physmem while the lock holds (and §12: they do not move).  The server
 * that locked the container (a DMA in progress) loses its frames. */
START_TEST(test_bug_exile_drops_locked_frames)
{
    pmworld_init(&p, 64, 0, 3);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 4, true), PM_OK);
    give_memctl(1);
    container_t c1 = new_container(1), w;
    fill(1, c1, 0, 14, CONT_ALLOC_EXTRA, 0x10);
    ck_assert_int_eq(pm_container_share(p.pm, p.task[1], c1, p.task[2], &w), PM_OK);
    map_all(2, w, 0, 14, CONT_MAP_READ, VA2);
    ck_assert_int_eq(pm_container_lock(p.pm, p.task[2], w, 100 * DEADLINE), PM_OK);
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, free_frames() + 6, &r), PM_OK);
    ck_assert_uint_eq(r.asked, 6);
    uint32_t n = 6;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[1], c1, 8, &n, CONT_DEALLOC_SOFT),
                     PM_EBUSY); /* it cannot comply */
    l4_clock_advance(p.w.k, 2 * DEADLINE);
    (void)pm_physmem_tick(p.pm);
    /* The lease still holds: the server's frames must still be there. */
    expect_pages(2, VA2, 14, 0x10);
    pmworld_fini(&p);
}
END_TEST

/* ==== tasks going ============================================================ */

/* The control holder dies: control dies with it (nobody can take it again;
 * set_guarantee stays EPERM), the guarantees in force stay. */
START_TEST(test_remove_control_holder)
{
    pmworld_init(&p, 64, 0, 3);
    container_t ctl = take_control(0);
    write_guarantee(0, p.task[1], 5, false);
    write_guarantee(0, p.task[2], 7, false);
    container_t c = new_container(1);
    fill(1, c, 0, 5, 0, 0x55);
    /* A task that is not the holder: its record is marked dead. */
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[2]), PM_OK);
    struct pm_policy_record r = read_record(0, BUF_VA, 2);
    ck_assert_uint_eq(r.task, 0);
    ck_assert_uint_eq(r.allocated, 0);
    ck_assert_uint_eq(r.honoured, 0);
    ck_assert_uint_eq(read_header(0, BUF_VA).used, 3);
    PM_CHECK_INVARIANTS(&p);

    ck_assert_int_eq(pm_task_remove(p.pm, p.task[0]), PM_OK);
    uint64_t bytes;
    container_t out;
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[0], ctl, BUF_VA, &bytes), PM_ESRCH);
    ck_assert_int_eq(pm_control_give(p.pm, p.task[0], ctl, p.task[1], &out), PM_ESRCH);
    ck_assert_int_eq(pm_get_policy_buffer(p.pm, p.task[1], ctl, BUF_VA, &bytes), PM_EBADF);
    ck_assert_int_eq(pm_get_control(p.pm, p.task[1], &out), PM_EPERM);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[1], 10, false), PM_EPERM);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[0]), PM_ESRCH);
    ck_assert_int_eq(pm_task_exile(p.pm, p.task[0]), PM_ESRCH);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_ESRCH);
    ck_assert_uint_eq(info(1).guaranteed, 5);
    alloc(1, c, 5, 1, 0, PM_ENOMEM);
    expect_pages(1, VA, 5, 0x55);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): pm_task_remove of the control holder drops the control capability
 * but leaves the policy buffer mapped in the task's address space (src/
 * physmem.c pm_task_remove sets control_holder = L4_NILTASK without
 * unmapping the buffer; pm_control_give does unmap).  The mapping outlives
 * the capability it came from (SPEC §12), and the dead holder can still
 * write G and bump the epoch, which physmem honours: task 1's G becomes 40
 * although nobody holds control.  pm_check does not see it (it skips the
 * buffer's frames). */
START_TEST(test_bug_removed_holder_keeps_buffer)
{
    pmworld_init(&p, 64, 0, 2);
    take_control(0);
    write_guarantee(0, p.task[1], 5, false);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[0]), PM_OK);
    ck_assert(l4_task_exists(p.w.k, p.task[0])); /* the kernel's task is the caller's */
    struct pm_policy_header h;
    pm_error_t rd = pm_rw(&p, 0, L4_ACCESS_READ, BUF_VA, &h, sizeof h);
    if (rd == PM_OK) {
        /* The dead holder still sets policy through the stale mapping. */
        write_guarantee(0, p.task[1], 40, true);
        (void)new_container(1);
    }
    ck_assert_uint_eq(info(1).guaranteed, 5);
    ck_assert_int_eq(rd, PM_EFAULT);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* A victim that goes away while it owes frames: no exile, nothing broken. */
START_TEST(test_remove_victim)
{
    pmworld_init(&p, 64, 0, 2);
    container_t c1;
    (void)asked_six(&c1, true);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    l4_clock_advance(p.w.k, 2 * DEADLINE);
    ck_assert_uint_eq(pm_physmem_tick(p.pm), 0);
    (void)new_container(0);
    ck_assert_uint_eq(stats().exiles, 0);
    ck_assert_uint_eq(free_frames(), 56);
    expect_pages(0, VA, 8, 0x00);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* pm_task_exile: ESRCH for a task physmem does not know; a task with
 * nothing is exiled all the same (counted, nothing dropped). */
START_TEST(test_exile_errors)
{
    pmworld_init(&p, 16, 0, 2);
    pm_set_event_hook(p.pm, pm_log_record, &pmlog);
    ck_assert_int_eq(pm_task_exile(p.pm, NOTASK), PM_ESRCH);
    ck_assert_int_eq(pm_task_exile(p.pm, L4_NILTASK), PM_ESRCH);
    ck_assert_int_eq(pm_task_exile(p.pm, L4_ROOT_TASK), PM_ESRCH);
    ck_assert_uint_eq(stats().exiles, 0);
    ck_assert_int_eq(pm_task_exile(p.pm, p.task[1]), PM_OK);
    ck_assert_uint_eq(info(1).exiles, 1);
    struct pm_stats st = stats();
    ck_assert_uint_eq(st.exiles, 1);
    ck_assert_uint_eq(st.frames_exiled, 0);
    ck_assert_uint_eq(last_event(PM_EV_EXILE)->count, 0);
    ck_assert_int_eq(pm_task_remove(p.pm, p.task[1]), PM_OK);
    ck_assert_int_eq(pm_task_exile(p.pm, p.task[1]), PM_ESRCH);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Growing the policy buffer must not take frames the guarantees in force
 * need: with ΣG = available, the task whose record needs a bigger buffer
 * cannot be added (ENOMEM, nothing changed) until the server lowers G. */
START_TEST(test_bug_resize_overcommits)
{
    pmworld_init(&p, 128, 0, 2);
    take_control(0);
    write_guarantee(0, p.task[1], 127, false); /* ΣG = available: allowed */
    (void)new_container(1);
    ck_assert_uint_eq(stats().policy_violations, 0);
    PM_CHECK_INVARIANTS(&p);
    for (unsigned i = 0; i < 61; i++) {
        l4_task_t t;
        l4_thread_t th = world_task(&p.w, &t);
        ck_assert_int_eq(pm_task_add(p.pm, t, th), PM_OK);
    }
    l4_task_t t;
    l4_thread_t th = world_task(&p.w, &t);
    ck_assert_int_eq(pm_task_add(p.pm, t, th), PM_ENOMEM);
    ck_assert_uint_eq(stats().buffer_resizes, 0);
    ck_assert_uint_eq(info(1).guaranteed, 127);
    PM_CHECK_INVARIANTS(&p);
    write_guarantee(0, p.task[1], 126, false);
    (void)new_container(1);
    ck_assert_int_eq(pm_task_add(p.pm, t, th), PM_OK);
    ck_assert_uint_eq(stats().buffer_resizes, 1);
    ck_assert_uint_eq(stats().policy_violations, 0);
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

/* Regression (was a bug): pm_event_kind_name (src/physmem.c) names only the kinds up to
 * PM_EV_RELEASE: soft-lost, overcommit, return-frames, exile and the swap
 * events are all "?", which is what `pmsim run --trace` prints for them
 * (sim/runner.c). */
START_TEST(test_bug_event_kind_names)
{
    const enum pm_event_kind kinds[] = {PM_EV_SOFT_LOST, PM_EV_OVERCOMMIT, PM_EV_RETURN_FRAMES,
                                        PM_EV_EXILE};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const char *name = pm_event_kind_name(kinds[i]);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strcmp(name, "?") != 0, "event kind %d has no name", (int)kinds[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(name, pm_event_kind_name(kinds[j]));
    }
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("reclaim");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, test_control_once_and_guarantees);
    tcase_add_test(tc, test_check_control);
    tcase_add_test(tc, test_control_errors);
    tcase_add_test(tc, test_control_enomem);
    tcase_add_test(tc, test_control_give);
    tcase_add_test(tc, test_first_contact_records);
    tcase_add_test(tc, test_epoch_gates_guarantees);
    tcase_add_test(tc, test_buffer_resize);
    tcase_add_test(tc, test_overcommit);
    tcase_add_test(tc, test_extra_eligibility);
    tcase_add_test(tc, test_bug_resize_overcommits);
    tcase_add_test(tc, test_bug_removed_holder_keeps_buffer);
    suite_add_tcase(s, tc);

    TCase *rc = tcase_create("reclaim");
    tcase_add_test(rc, test_pressure_soft_then_upcalls);
    tcase_add_test(rc, test_pressure_covered);
    tcase_add_test(rc, test_bug_pressure_no_victims);
    tcase_add_test(rc, test_set_memctl_errors);
    tcase_add_test(rc, test_victim_most_extra);
    tcase_add_test(rc, test_victim_most_extra_ties);
    tcase_add_test(rc, test_victim_spread);
    tcase_add_test(rc, test_bug_victim_spread_covers_shortfall);
    tcase_add_test(rc, test_victim_youngest);
    tcase_add_test(rc, test_victim_registry);
    tcase_add_test(rc, test_guarantee_asks_for_frames);
    tcase_add_test(rc, test_guarantee_victim_exiled);
    tcase_add_test(rc, test_guarantee_victim_not_ready);
    tcase_add_test(rc, test_bug_exile_drops_locked_frames);
    suite_add_tcase(s, rc);

    TCase *ec = tcase_create("exile");
    tcase_add_test(ec, test_comply_before_deadline);
    tcase_add_test(ec, test_comply_in_handler);
    tcase_add_test(ec, test_ignore_exiled_by_tick);
    tcase_add_test(ec, test_ignore_exiled_at_next_call);
    tcase_add_test(ec, test_not_ready_exiled_at_once);
    tcase_add_test(ec, test_after_exile);
    tcase_add_test(ec, test_remove_control_holder);
    tcase_add_test(ec, test_remove_victim);
    tcase_add_test(ec, test_exile_errors);
    tcase_add_test(ec, test_bug_event_kind_names);
    suite_add_tcase(s, ec);
    return s;
}

PMSIM_TEST_MAIN
