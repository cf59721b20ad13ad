/* test-access.c — simulated loads, stores and page faults (SPEC §6).
 *
 * Accesses go through a task's page table to the real bytes of the pool: two
 * mappings of one frame (in two tasks, or twice in one task) see each other's
 * writes, accesses cross page boundaries at any alignment, and the root task
 * reaches physical memory at its identity addresses.  A missing mapping or a
 * missing right raises a fault with the right cause, which goes to the
 * thread's pager: none (EFAULT), the zero-fill anon pager (one fault and two
 * IPCs per page, protection faults refused), a custom pager answering with a
 * map item of its own or having physmem map meanwhile, one that never
 * resolves (EFAULT after L4_FAULT_ROUNDS rounds), one that fails, and one
 * that deletes the faulting task.  A failing multi-page access reports, and
 * has really done, the pages before the failure.  Translations do not
 * outlive unmaps.  Kernel and per-task counters, and argument checks. */
#include "harness.h"

#define PG 4096u
#define FRAMES 64u

#define VA_A 0x10000000ull
#define VA_B 0x20000000ull
#define VA_P 0x50000000ull

static struct world w;

static void setup(void)
{
    world_init(&w, FRAMES, PG);
}
static void teardown(void)
{
    world_fini(&w);
}

static struct l4_stats stats(void)
{
    struct l4_stats s;
    l4_stats(w.k, &s);
    return s;
}

static struct l4_task_stats tstats(l4_task_t task)
{
    struct l4_task_stats s;
    ck_assert_int_eq(l4_task_stats(w.k, task, &s), PM_OK);
    return s;
}

static l4_thread_t root(void)
{
    return l4_root_thread(w.k);
}

static unsigned char *frame(uint32_t pfn)
{
    return pm_pool_frame(w.pool, PM_PFN(pfn));
}

static pm_error_t rd(l4_thread_t th, uint64_t va, void *buf, size_t len, size_t *done)
{
    return l4_access(w.k, th, L4_ACCESS_READ, va, buf, len, done);
}

static pm_error_t wr(l4_thread_t th, uint64_t va, const void *buf, size_t len, size_t *done)
{
    return l4_access(w.k, th, L4_ACCESS_WRITE, va, (void *)buf, len, done);
}

static void map(uint32_t pfn, l4_thread_t to, uint64_t va, unsigned rights)
{
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(pfn), to, va, rights), PM_OK);
}

/* Fill BUF with a pattern that depends on SEED and the position. */
static void pattern(unsigned char *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 8));
}

/* ---- shared frames ----------------------------------------------------- */

START_TEST(test_shared_two_tasks)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    map(10, ta, VA_A, L4_RW);
    map(10, tb, VA_B + 3 * PG, L4_RW);
    char buf[32] = {0};
    ck_assert_int_eq(wr(ta, VA_A + 1000, "hello from A", 12, NULL), PM_OK);
    ck_assert_int_eq(rd(tb, VA_B + 3 * PG + 1000, buf, 12, NULL), PM_OK);
    ck_assert_str_eq(buf, "hello from A");
    ck_assert_int_eq(wr(tb, VA_B + 3 * PG + 1006, "to A", 4, NULL), PM_OK);
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(rd(ta, VA_A + 1000, buf, 12, NULL), PM_OK);
    ck_assert_str_eq(buf, "hello to A A");
    ck_assert_mem_eq(frame(10) + 1000, "hello to A A", 12);
}
END_TEST

START_TEST(test_shared_one_task)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(11, ta, VA_A, L4_RW);
    map(11, ta, VA_B, L4_R);
    /* A third alias, derived from the first within the task. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, ta, ta, VA_A, w.shift, L4_RW, VA_P), PM_OK);
    char buf[8] = {0};
    ck_assert_int_eq(wr(ta, VA_A + PG - 5, "alias", 5, NULL), PM_OK);
    ck_assert_int_eq(rd(ta, VA_B + PG - 5, buf, 5, NULL), PM_OK);
    ck_assert_str_eq(buf, "alias");
    ck_assert_int_eq(wr(ta, VA_P + PG - 5, "ALIAS", 5, NULL), PM_OK);
    ck_assert_int_eq(rd(ta, VA_B + PG - 5, buf, 5, NULL), PM_OK);
    ck_assert_str_eq(buf, "ALIAS");
    ck_assert_uint_eq(tstats(a).mapped_pages, 3);
}
END_TEST

/* ---- faults without a pager -------------------------------------------- */

START_TEST(test_write_readonly_faults)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(12, ta, VA_A, L4_R);
    memcpy(frame(12), "original", 8);
    struct event_log e = {.n = 0};
    l4_set_event_hook(w.k, event_log_record, &e);
    size_t done = 99;
    ck_assert_int_eq(wr(ta, VA_A + 2, "XX", 2, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_mem_eq(frame(12), "original", 8);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.faults, 1);
    ck_assert_uint_eq(s.faults_by_cause[L4_FAULT_WRITE], 1);
    ck_assert_uint_eq(s.faults_by_cause[L4_FAULT_MISSING], 0);
    ck_assert_uint_eq(s.faults_unresolved, 1);
    ck_assert_uint_eq(s.bytes_written, 0);
    ck_assert_uint_eq(s.ipcs, 1); /* the map item only: no pager, no fault IPC */
    ck_assert_uint_eq(e.n, 2);
    ck_assert_int_eq(e.ev[0].kind, L4_EV_FAULT);
    ck_assert_uint_eq(e.ev[0].task, a);
    ck_assert_uint_eq(e.ev[0].vaddr, VA_A + 2);
    ck_assert_int_eq(e.ev[0].cause, L4_FAULT_WRITE);
    ck_assert_uint_eq(e.ev[0].rights, L4_W);
    ck_assert_int_eq(e.ev[1].kind, L4_EV_EFAULT);
    ck_assert_uint_eq(e.ev[1].task, a);
    ck_assert_uint_eq(e.ev[1].vaddr, VA_A + 2);
    /* Reading is allowed. */
    char buf[9] = {0};
    ck_assert_int_eq(rd(ta, VA_A, buf, 8, &done), PM_OK);
    ck_assert_uint_eq(done, 8);
    ck_assert_str_eq(buf, "original");
    ck_assert_uint_eq(stats().faults, 1);
    ck_assert_str_eq(l4_fault_cause_name(L4_FAULT_WRITE), "write");
    ck_assert_str_eq(l4_event_kind_name(L4_EV_FAULT), "fault");
}
END_TEST

START_TEST(test_unmapped_efault)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    char buf[4];
    size_t done = 99;
    ck_assert_int_eq(rd(ta, VA_A, buf, sizeof buf, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_int_eq(wr(ta, VA_A, buf, sizeof buf, &done), PM_EFAULT);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_EXEC, VA_A, buf, 1, NULL), PM_EFAULT);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.faults, 3);
    ck_assert_uint_eq(s.faults_by_cause[L4_FAULT_MISSING], 3);
    ck_assert_uint_eq(s.faults_unresolved, 3);
    ck_assert_uint_eq(s.accesses, 3);
    ck_assert_uint_eq(s.ipcs, 0);
    /* The root task's addresses above physical memory are ordinary. */
    ck_assert_int_eq(rd(root(), (uint64_t)FRAMES * PG, buf, 1, NULL), PM_EFAULT);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_MISSING], 4);
    /* A pager thread with no handler is not receiving: EFAULT too. */
    l4_thread_t deaf = world_task(&w, NULL);
    ck_assert_int_eq(l4_thread_set_pager(w.k, ta, deaf), PM_OK);
    ck_assert_int_eq(rd(ta, VA_A, buf, 1, NULL), PM_EFAULT);
    ck_assert_uint_eq(tstats(a).faults, 4);
    ck_assert_uint_eq(tstats(a).faults_unresolved, 4);
}
END_TEST

START_TEST(test_rights_needed)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(13, ta, VA_A, L4_RW);
    map(14, ta, VA_A + PG, L4_R | L4_X);
    map(15, ta, VA_A + 2 * PG, L4_W);
    memcpy(frame(14), "\x90\x90\xc3", 3);
    unsigned char code[3] = {0};
    /* Exec needs X: the RW page faults, the RX page runs. */
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_EXEC, VA_A, code, 3, NULL), PM_EFAULT);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_EXEC], 1);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_EXEC, VA_A + PG, code, 3, NULL), PM_OK);
    ck_assert_mem_eq(code, "\x90\x90\xc3", 3);
    ck_assert_uint_eq(stats().bytes_read, 3);
    /* Write needs W: the RX page faults. */
    ck_assert_int_eq(wr(ta, VA_A + PG, "z", 1, NULL), PM_EFAULT);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_WRITE], 1);
    /* Read needs R: the write-only page faults on reads, takes writes. */
    char c;
    ck_assert_int_eq(rd(ta, VA_A + 2 * PG, &c, 1, NULL), PM_EFAULT);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_READ], 1);
    ck_assert_int_eq(wr(ta, VA_A + 2 * PG + 7, "w", 1, NULL), PM_OK);
    ck_assert_int_eq(frame(15)[7], 'w');
    ck_assert_uint_eq(stats().faults, 3);
    ck_assert_str_eq(l4_fault_cause_name(L4_FAULT_EXEC), "exec");
    ck_assert_str_eq(l4_fault_cause_name(L4_FAULT_READ), "read");
    ck_assert_str_eq(l4_fault_cause_name(L4_FAULT_MISSING), "missing");
}
END_TEST

/* TOUCH, the store that moves no bytes: it needs W and faults as a write,
 * changes nothing, needs no buffer, and its bytes count as written. */
START_TEST(test_touch)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(20, ta, VA_A, L4_R);
    map(21, ta, VA_A + PG, L4_W);
    memset(frame(20), 0x5A, PG);
    memset(frame(21), 0xA5, PG);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_TOUCH, VA_A + PG + 3, NULL, 10, NULL), PM_OK);
    ck_assert_uint_eq(stats().bytes_written, 10);
    ck_assert_uint_eq(stats().faults, 0);
    /* Without W it faults as a write, and fails without a pager. */
    size_t done = 99;
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_TOUCH, VA_A, NULL, 1, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_WRITE], 1);
    /* Across a writable and a read-only page: the first counts, then it stops. */
    map(22, ta, VA_A + 2 * PG, L4_R);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_TOUCH, VA_A + 2 * PG - 4, NULL, 8, &done),
                     PM_EFAULT);
    ck_assert_uint_eq(done, 4);
    for (unsigned i = 0; i < PG; i++) {
        ck_assert_uint_eq(frame(20)[i], 0x5A);
        ck_assert_uint_eq(frame(21)[i], 0xA5);
    }
    /* Reads and writes still need their buffer; an unknown kind is refused. */
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_READ, VA_A, NULL, 1, NULL), PM_EINVAL);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_WRITE, VA_A + PG, NULL, 1, NULL), PM_EINVAL);
    ck_assert_int_eq(
        l4_access(w.k, ta, (enum l4_access_kind)(L4_ACCESS_TOUCH + 1), VA_A, NULL, 0, NULL),
        PM_EINVAL);
}
END_TEST

/* ---- page boundaries ---------------------------------------------------- */

static const struct {
    uint64_t off;
    size_t len;
} spans[] = {
    {0, 3 * PG},        {1, 3 * PG - 1},      {PG - 1, 2}, {PG - 1, PG + 2}, {123, 2 * PG + 1000},
    {2 * PG + 4095, 1}, {PG / 2, PG},         {3, 5},      {0, 1},           {PG, PG},
    {PG + 17, PG - 17}, {2 * PG - 8, PG + 8},
};

START_TEST(test_cross_pages)
{
    /* Three pages of A backed by scattered frames, and B mapping the same
     * frames in a different order. */
    static const uint32_t pfns[3] = {41, 7, 23};
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    for (int i = 0; i < 3; i++) {
        map(pfns[i], ta, VA_A + (uint64_t)i * PG, L4_RW);
        map(pfns[i], tb, VA_B + (uint64_t)(2 - i) * PG, L4_RW);
        memset(frame(pfns[i]), 0, PG);
    }
    static unsigned char in[3 * PG], out[3 * PG], phys[3 * PG];
    uint64_t off = spans[_i].off;
    size_t len = spans[_i].len;
    pattern(in, len, (unsigned)_i + 1);
    size_t done = 0;
    ck_assert_int_eq(wr(ta, VA_A + off, in, len, &done), PM_OK);
    ck_assert_uint_eq(done, len);
    memset(out, 0, sizeof out);
    ck_assert_int_eq(rd(ta, VA_A + off, out, len, &done), PM_OK);
    ck_assert_uint_eq(done, len);
    ck_assert_mem_eq(out, in, len);
    /* The bytes landed in the right frames, page by page. */
    for (int i = 0; i < 3; i++)
        memcpy(phys + (size_t)i * PG, frame(pfns[i]), PG);
    ck_assert_mem_eq(phys + off, in, len);
    ck_assert(bytes_all(phys, off, 0));
    ck_assert(bytes_all(phys + off + len, 3 * PG - off - len, 0));
    /* Through B, page by page in its order. */
    for (uint64_t p = 0; p < 3; p++) {
        ck_assert_int_eq(rd(tb, VA_B + (2 - p) * PG, out, PG, NULL), PM_OK);
        ck_assert_mem_eq(out, phys + p * PG, PG);
    }
    ck_assert_uint_eq(tstats(a).bytes_written, len);
    ck_assert_uint_eq(tstats(a).bytes_read, len);
    ck_assert_uint_eq(tstats(b).bytes_read, 3 * PG);
    ck_assert_uint_eq(stats().faults, 0);
}
END_TEST

START_TEST(test_partial_failure)
{
    /* Pages 0 and 1 mapped, page 2 not: a write from the middle of page 0
     * through page 2 does page 0's rest and page 1, then fails. */
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(20, ta, VA_A, L4_RW);
    map(21, ta, VA_A + PG, L4_RW);
    memset(frame(20), 0, PG);
    memset(frame(21), 0, PG);
    static unsigned char in[3 * PG], out[3 * PG];
    pattern(in, sizeof in, 5);
    uint64_t off = 300;
    size_t done = 0;
    ck_assert_int_eq(wr(ta, VA_A + off, in, 3 * PG - off, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 2 * PG - off);
    ck_assert_mem_eq(frame(20) + off, in, PG - off);
    ck_assert_mem_eq(frame(21), in + PG - off, PG);
    ck_assert_uint_eq(frame(20)[off - 1], 0);
    ck_assert_uint_eq(stats().bytes_written, 2 * PG - off);
    ck_assert_uint_eq(tstats(a).bytes_written, 2 * PG - off);
    ck_assert_uint_eq(tstats(a).faults_unresolved, 1);
    /* A read the same way: done counts the bytes really copied. */
    memset(out, 0xEE, sizeof out);
    ck_assert_int_eq(rd(ta, VA_A + off, out, 3 * PG - off, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 2 * PG - off);
    ck_assert_mem_eq(out, in, done);
    ck_assert_uint_eq(out[done], 0xEE);
    /* A read-only page 1 stops a write at page 1. */
    ck_assert_int_eq(l4_unmap(w.k, root(), l4_fpage(21ull * PG, w.shift, L4_W), 0, NULL), PM_OK);
    ck_assert_int_eq(wr(ta, VA_A + PG - 10, in, 20, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 10);
}
END_TEST

/* ---- the anon pager ---------------------------------------------------- */

START_TEST(test_anon_pager_zero_fill)
{
    /* Take every frame and dirty it, then give back only the five the
     * pager will need: it must hand out those, dirty ones the pool keeps
     * (retains) for reuse, so a pager that forgot to zero would show it. */
    enum { SPARE = 5 };
    pm_pfn_t got[FRAMES];
    uint32_t n = 0;
    while (n < FRAMES && pm_pool_alloc(w.pool, 0, 0, &got[n]) == PM_OK) {
        memset(frame(got[n].n), 0xA5, PG);
        n++;
    }
    ck_assert_uint_eq(n, FRAMES);
    for (uint32_t i = 0; i < SPARE; i++)
        ck_assert_int_eq(pm_pool_release(w.pool, got[i], 0), PM_OK);

    struct sim_anon_pager p;
    ck_assert_int_eq(sim_anon_pager_init(&p, w.k, w.pool), PM_OK);
    ck_assert_uint_eq(l4_thread_task(w.k, p.thread), L4_ROOT_TASK);
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    ck_assert_int_eq(l4_thread_set_pager(w.k, ta, p.thread), PM_OK);

    /* Three pages' worth from an unaligned start touches four pages: four
     * faults, two IPCs each. */
    static unsigned char out[3 * PG + 200];
    memset(out, 0x11, sizeof out);
    size_t done = 0;
    ck_assert_int_eq(rd(ta, VA_A + 100, out, 3 * PG, &done), PM_OK);
    ck_assert_uint_eq(done, 3 * PG);
    ck_assert(bytes_all(out, 3 * PG, 0));
    ck_assert(bytes_all(out + 3 * PG, sizeof out - 3 * PG, 0x11));
    ck_assert_uint_eq(p.faults, 4);
    ck_assert_uint_eq(p.refused, 0);
    ck_assert_uint_eq(p.nframes, 4);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.faults, 4);
    ck_assert_uint_eq(s.faults_by_cause[L4_FAULT_MISSING], 4);
    ck_assert_uint_eq(s.ipcs, 8);
    ck_assert_uint_eq(s.faults_unresolved, 0);
    ck_assert_uint_eq(tstats(a).mapped_pages, 4);
    ck_assert_uint_eq(tstats(a).faults, 4);
    for (uint64_t i = 0; i < 4; i++) {
        unsigned r = 0;
        pm_pfn_t pfn;
        ck_assert_int_eq(l4_lookup(w.k, a, VA_A + i * PG, &pfn, &r), PM_OK);
        ck_assert_uint_eq(r, L4_RW);
        ck_assert_uint_eq(pfn.n, p.frames[i].n);
        ck_assert(pm_pool_is_bound(w.pool, pfn));
    }

    /* Mapped now: writing and reading again raises nothing. */
    static unsigned char in[2 * PG];
    pattern(in, sizeof in, 9);
    ck_assert_int_eq(wr(ta, VA_A + 50, in, sizeof in, NULL), PM_OK);
    ck_assert_int_eq(rd(ta, VA_A + 50, out, sizeof in, NULL), PM_OK);
    ck_assert_mem_eq(out, in, sizeof in);
    ck_assert_uint_eq(stats().faults, 4);
    ck_assert_uint_eq(p.faults, 4);
    /* A write to a fresh page: one more fault. */
    ck_assert_int_eq(wr(ta, VA_B, "fresh", 5, NULL), PM_OK);
    ck_assert_uint_eq(p.faults, 5);
    ck_assert_uint_eq(stats().ipcs, 10);

    /* The pager used the spare frames, and the pool has none left. */
    for (size_t i = 0; i < p.nframes; i++) {
        bool spare = false;
        for (uint32_t j = 0; j < SPARE; j++)
            spare = spare || p.frames[i].n == got[j].n;
        ck_assert(spare);
    }
    pm_pfn_t none;
    ck_assert_int_eq(pm_pool_alloc(w.pool, 0, 0, &none), PM_ENOMEM);

    ck_assert_int_eq(l4_task_delete(w.k, a), PM_OK);
    sim_anon_pager_fini(&p);
    for (uint32_t i = SPARE; i < FRAMES; i++)
        ck_assert_int_eq(pm_pool_release(w.pool, got[i], 0), PM_OK);
    struct pm_pool_stats ps;
    pm_pool_stats(w.pool, &ps);
    ck_assert_uint_eq(ps.bound, 0);
}
END_TEST

START_TEST(test_anon_pager_refuses_protection)
{
    struct sim_anon_pager p;
    ck_assert_int_eq(sim_anon_pager_init(&p, w.k, w.pool), PM_OK);
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    ck_assert_int_eq(l4_thread_set_pager(w.k, ta, p.thread), PM_OK);
    map(30, ta, VA_A, L4_R);
    memcpy(frame(30), "ro", 2);
    size_t done = 9;
    ck_assert_int_eq(wr(ta, VA_A, "rw", 2, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_mem_eq(frame(30), "ro", 2);
    ck_assert_uint_eq(p.refused, 1);
    ck_assert_uint_eq(p.faults, 0);
    ck_assert_uint_eq(p.nframes, 0);
    ck_assert_uint_eq(stats().faults, 1);
    ck_assert_uint_eq(stats().faults_unresolved, 1);
    ck_assert_uint_eq(stats().ipcs, 3);
    ck_assert_uint_eq(tstats(a).mapped_pages, 1);
    /* Exec of an anon page (RW) is a protection fault too. */
    char c;
    ck_assert_int_eq(rd(ta, VA_B, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_EXEC, VA_B, &c, 1, NULL), PM_EFAULT);
    ck_assert_uint_eq(p.refused, 2);
    ck_assert_uint_eq(p.faults, 1);
    ck_assert_int_eq(l4_task_delete(w.k, a), PM_OK);
    sim_anon_pager_fini(&p);
}
END_TEST

/* ---- custom pagers ----------------------------------------------------- */

/* A pager's state: what it saw and how it answers. */
struct pager {
    int mode;
    unsigned calls;
    unsigned resolve_at; /* MODE_LATE: resolve on this call */
    l4_thread_t last_from;
    uint16_t last_label;
    uint64_t last_addr;
    uint32_t pfn;    /* the frame it hands out */
    uint32_t step;   /* … plus step × (calls - 1) */
    uint64_t own_va; /* where its own task has it (MODE_OWN) */
};

enum {
    MODE_OWN,    /* reply with a map item of its own page */
    MODE_ROOT,   /* have physmem map, reply empty */
    MODE_NEVER,  /* reply empty and do nothing */
    MODE_ERROR,  /* fail with ENOMEM */
    MODE_LATE,   /* like MODE_ROOT, but only on call resolve_at */
    MODE_DELETE, /* delete the faulting task */
    MODE_GROW,   /* create many tasks and threads, then as MODE_ROOT */
};

static pm_error_t pager_fn(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                           const l4_msg_t *msg, l4_msg_t *reply)
{
    struct pager *pg = ctx;
    (void)self;
    pg->calls++;
    pg->last_from = from;
    pg->last_label = l4_msg_label(msg);
    pg->last_addr = l4_msg_word(msg, 0);
    uint64_t page = pg->last_addr & ~(uint64_t)(l4_page_size(k) - 1);
    unsigned shift = l4_page_shift(k);
    switch (pg->mode) {
    case MODE_OWN:
        ck_assert(l4_msg_put_item(reply, L4_ITEM_MAP, l4_fpage(pg->own_va, shift, L4_RW), page));
        return PM_OK;
    case MODE_GROW:
        /* Enough new threads and tasks to move the kernel's tables. */
        for (int i = 0; i < 100; i++) {
            l4_task_t t;
            l4_thread_t th;
            ck_assert_int_eq(l4_task_create(k, &t), PM_OK);
            ck_assert_int_eq(l4_thread_create(k, t, &th), PM_OK);
        }
        /* fall through */
    case MODE_LATE:
        if (pg->mode == MODE_LATE && pg->calls != pg->resolve_at)
            return PM_OK;
        /* fall through */
    case MODE_ROOT: {
        l4_msg_t m;
        l4_msg_init(&m, 0);
        uint64_t pfn = pg->pfn + (uint64_t)pg->step * (pg->calls - 1);
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(pfn << shift, shift, L4_RW), page));
        ck_assert_int_eq(l4_send(k, l4_root_thread(k), from, &m, NULL), PM_OK);
        return PM_OK;
    }
    case MODE_ERROR:
        return PM_ENOMEM;
    case MODE_DELETE:
        ck_assert_int_eq(l4_task_delete(k, l4_thread_task(k, from)), PM_OK);
        return PM_OK;
    default:
        return PM_OK;
    }
}

/* A pager thread in a task of its own, paging a new task's thread (*TASK). */
static l4_thread_t paged_task(struct pager *pg, l4_task_t *task, l4_thread_t *pager_thread)
{
    l4_task_t pt;
    l4_thread_t pth = world_task(&w, &pt);
    ck_assert_int_eq(l4_thread_set_handler(w.k, pth, pager_fn, pg), PM_OK);
    l4_thread_t th = world_task(&w, task);
    ck_assert_int_eq(l4_thread_set_pager(w.k, th, pth), PM_OK);
    if (pager_thread != NULL)
        *pager_thread = pth;
    return th;
}

START_TEST(test_pager_own_item)
{
    struct pager pg = {.mode = MODE_OWN, .pfn = 33, .own_va = VA_P};
    l4_task_t a;
    l4_thread_t pth;
    l4_thread_t ta = paged_task(&pg, &a, &pth);
    map(33, pth, VA_P, L4_RW);
    memcpy(frame(33) + 64, "pager's page", 12);
    char buf[13] = {0};
    ck_assert_int_eq(rd(ta, VA_A + PG + 64, buf, 12, NULL), PM_OK);
    ck_assert_str_eq(buf, "pager's page");
    ck_assert_uint_eq(pg.calls, 1);
    ck_assert_uint_eq(pg.last_from, ta);
    ck_assert_uint_eq(pg.last_label, L4_LABEL_PAGEFAULT | L4_R);
    ck_assert_uint_eq(pg.last_addr, VA_A + PG + 64);
    /* The mapping is derived from the pager's. */
    pm_pfn_t pfn;
    ck_assert_int_eq(l4_lookup(w.k, a, VA_A + PG, &pfn, NULL), PM_OK);
    ck_assert_uint_eq(pfn.n, 33);
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(33), NULL, NULL), 2);
    ck_assert_uint_eq(stats().ipcs, 1 + 2);
    /* A write through it reaches the pager's page; the pager can revoke. */
    ck_assert_int_eq(wr(ta, VA_A + PG, "W", 1, NULL), PM_OK);
    ck_assert_int_eq(frame(33)[0], 'W');
    ck_assert_uint_eq(pg.calls, 1);
    ck_assert_int_eq(l4_unmap(w.k, pth, l4_fpage(VA_P, w.shift, L4_RWX), 0, NULL), PM_OK);
    ck_assert_int_eq(l4_lookup(w.k, a, VA_A + PG, NULL, NULL), PM_ENOENT);
    /* The next write faults again, with the write label, and resolves. */
    ck_assert_int_eq(wr(ta, VA_A + PG + 1, "X", 1, NULL), PM_OK);
    ck_assert_uint_eq(pg.calls, 2);
    ck_assert_uint_eq(pg.last_label, L4_LABEL_PAGEFAULT | L4_W);
    ck_assert_int_eq(frame(33)[1], 'X');
}
END_TEST

START_TEST(test_pager_maps_via_root)
{
    struct pager pg = {.mode = MODE_ROOT, .pfn = 34};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    memcpy(frame(34) + 8, "physmem", 7);
    char buf[8] = {0};
    ck_assert_int_eq(rd(ta, VA_A + 8, buf, 7, NULL), PM_OK);
    ck_assert_str_eq(buf, "physmem");
    ck_assert_uint_eq(pg.calls, 1);
    /* Fault call + reply, and physmem's send. */
    ck_assert_uint_eq(stats().ipcs, 3);
    ck_assert_uint_eq(stats().faults, 1);
    ck_assert_uint_eq(tstats(a).faults, 1);
    ck_assert_uint_eq(tstats(a).faults_unresolved, 0);
    ck_assert_uint_eq(tstats(a).mapped_pages, 1);
}
END_TEST

START_TEST(test_pager_never_resolves)
{
    struct pager pg = {.mode = MODE_NEVER};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    char buf[4];
    size_t done = 7;
    ck_assert_int_eq(rd(ta, VA_A, buf, sizeof buf, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(pg.calls, L4_FAULT_ROUNDS);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.faults, L4_FAULT_ROUNDS);
    ck_assert_uint_eq(s.ipcs, 2 * L4_FAULT_ROUNDS);
    ck_assert_uint_eq(s.faults_unresolved, 1);
    ck_assert_uint_eq(tstats(a).faults, L4_FAULT_ROUNDS);
    ck_assert_uint_eq(tstats(a).faults_unresolved, 1);
}
END_TEST

START_TEST(test_pager_resolves_late)
{
    /* Resolving on the last allowed round still succeeds. */
    struct pager pg = {.mode = MODE_LATE, .pfn = 35, .resolve_at = L4_FAULT_ROUNDS};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    ck_assert_int_eq(wr(ta, VA_A + 3, "late", 4, NULL), PM_OK);
    ck_assert_mem_eq(frame(35) + 3, "late", 4);
    ck_assert_uint_eq(pg.calls, L4_FAULT_ROUNDS);
    ck_assert_uint_eq(stats().faults, L4_FAULT_ROUNDS);
    ck_assert_uint_eq(stats().faults_unresolved, 0);
    /* Rounds count per page: the next page gets its own. */
    pg.calls = 0;
    pg.resolve_at = 2;
    ck_assert_int_eq(wr(ta, VA_A + PG, "next", 4, NULL), PM_OK);
    ck_assert_uint_eq(pg.calls, 2);
}
END_TEST

START_TEST(test_pager_error)
{
    struct pager pg = {.mode = MODE_ERROR};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    size_t done = 5;
    ck_assert_int_eq(wr(ta, VA_A, "x", 1, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(pg.calls, 1);
    ck_assert_uint_eq(stats().faults, 1);
    ck_assert_uint_eq(stats().faults_unresolved, 1);
    ck_assert_uint_eq(tstats(a).faults_unresolved, 1);
}
END_TEST

START_TEST(test_pager_deletes_task)
{
    struct pager pg = {.mode = MODE_DELETE};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    map(36, ta, VA_A, L4_RW);
    struct event_log e = {.n = 0};
    l4_set_event_hook(w.k, event_log_record, &e);
    static unsigned char in[2 * PG];
    pattern(in, sizeof in, 3);
    size_t done = 0;
    ck_assert_int_eq(wr(ta, VA_A, in, sizeof in, &done), PM_EFAULT);
    ck_assert_uint_eq(done, PG);
    ck_assert_mem_eq(frame(36), in, PG);
    ck_assert_uint_eq(pg.calls, 1);
    ck_assert(!l4_task_exists(w.k, a));
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(36), NULL, NULL), 0);
    ck_assert_int_eq(wr(ta, VA_A, in, 1, NULL), PM_ESRCH);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.faults, 1);
    ck_assert_uint_eq(s.faults_unresolved, 1);
    ck_assert_uint_eq(s.bytes_written, PG);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_int_eq(e.ev[1].kind, L4_EV_EFAULT);
    ck_assert_uint_eq(e.ev[1].task, a);
    ck_assert_uint_eq(e.ev[1].vaddr, VA_A + PG);
}
END_TEST

START_TEST(test_pager_grows_kernel)
{
    /* A pager that creates tasks and threads while handling the fault: the
     * access carries on over the moved tables. */
    struct pager pg = {.mode = MODE_GROW, .pfn = 40, .step = 1};
    l4_task_t a;
    l4_thread_t ta = paged_task(&pg, &a, NULL);
    static unsigned char in[2 * PG], out[2 * PG];
    pattern(in, sizeof in, 6);
    size_t done = 0;
    ck_assert_int_eq(wr(ta, VA_A + 100, in, sizeof in, &done), PM_OK);
    ck_assert_uint_eq(done, sizeof in);
    ck_assert_uint_eq(pg.calls, 3);
    ck_assert_mem_eq(frame(40) + 100, in, PG - 100);
    ck_assert_mem_eq(frame(41), in + PG - 100, PG);
    ck_assert_mem_eq(frame(42), in + 2 * PG - 100, 100);
    ck_assert_int_eq(rd(ta, VA_A + 100, out, sizeof out, NULL), PM_OK);
    ck_assert_mem_eq(out, in, sizeof in);
    ck_assert_uint_eq(pg.calls, 3);
    ck_assert_uint_eq(tstats(a).faults, 3);
    ck_assert_uint_eq(tstats(a).bytes_written, sizeof in);
    ck_assert_uint_eq(tstats(a).mapped_pages, 3);
    ck_assert(l4_task_exists(w.k, a + 300));
}
END_TEST

/* ---- translations follow the mapping database -------------------------- */

START_TEST(test_no_stale_translation)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    map(37, ta, VA_A, L4_RW);
    char c = 0;
    ck_assert_int_eq(rd(ta, VA_A, &c, 1, NULL), PM_OK);
    /* Downgraded: the next write faults. */
    ck_assert_int_eq(l4_unmap(w.k, root(), l4_fpage(37ull * PG, w.shift, L4_W), 0, NULL), PM_OK);
    ck_assert_int_eq(wr(ta, VA_A, "x", 1, NULL), PM_EFAULT);
    ck_assert_int_eq(rd(ta, VA_A, &c, 1, NULL), PM_OK);
    /* Replaced: the next read sees the new frame. */
    map(38, ta, VA_A, L4_RW);
    frame(38)[0] = 'N';
    frame(37)[0] = 'O';
    ck_assert_int_eq(rd(ta, VA_A, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(c, 'N');
    /* Granted away: the next read faults here and works there. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_GRANT, ta, tb, VA_A, w.shift, L4_RW, VA_B), PM_OK);
    ck_assert_int_eq(rd(ta, VA_A, &c, 1, NULL), PM_EFAULT);
    ck_assert_int_eq(rd(tb, VA_B, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(c, 'N');
    /* Granted within the task: the old address faults, the new one works. */
    ck_assert_int_eq(rd(tb, VA_B, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(world_item(&w, L4_ITEM_GRANT, tb, tb, VA_B, w.shift, L4_RW, VA_B + PG), PM_OK);
    ck_assert_int_eq(rd(tb, VA_B, &c, 1, NULL), PM_EFAULT);
    ck_assert_int_eq(rd(tb, VA_B + PG, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(c, 'N');
    /* Deleting another task's mapping it derived from: gone too. */
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    map(39, td, VA_A, L4_RW);
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, td, ta, VA_A, w.shift, L4_RW, VA_P), PM_OK);
    ck_assert_int_eq(rd(ta, VA_P, &c, 1, NULL), PM_OK);
    ck_assert_int_eq(l4_task_delete(w.k, d), PM_OK);
    ck_assert_int_eq(rd(ta, VA_P, &c, 1, NULL), PM_EFAULT);
    /* Unmapped: gone. */
    ck_assert_int_eq(l4_unmap(w.k, root(), l4_fpage(38ull * PG, w.shift, L4_RWX), 0, NULL), PM_OK);
    ck_assert_int_eq(rd(tb, VA_B + PG, &c, 1, NULL), PM_EFAULT);
}
END_TEST

/* ---- counters ---------------------------------------------------------- */

START_TEST(test_task_stats)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), ta2;
    (void)world_task(&w, &b);
    ck_assert_int_eq(l4_thread_create(w.k, a, &ta2), PM_OK);
    struct l4_task_stats s = tstats(a);
    ck_assert_uint_eq(s.faults + s.mapped_pages + s.accesses + s.bytes_read + s.bytes_written, 0);
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, root(), ta, 0, w.shift + 2, L4_RW, VA_A), PM_OK);
    ck_assert_uint_eq(tstats(a).mapped_pages, 4);
    static unsigned char buf[3 * PG];
    ck_assert_int_eq(wr(ta, VA_A + 10, buf, 5000, NULL), PM_OK);
    ck_assert_int_eq(rd(ta2, VA_A, buf, 3 * PG, NULL), PM_OK);
    ck_assert_int_eq(l4_access(w.k, ta2, L4_ACCESS_EXEC, VA_A, buf, 10, NULL), PM_EFAULT);
    ck_assert_int_eq(rd(ta, VA_B, buf, 10, NULL), PM_EFAULT);
    ck_assert_int_eq(rd(ta, VA_A, buf, 0, NULL), PM_OK);
    s = tstats(a);
    ck_assert_uint_eq(s.accesses, 5);
    ck_assert_uint_eq(s.bytes_written, 5000);
    ck_assert_uint_eq(s.bytes_read, 3 * PG);
    ck_assert_uint_eq(s.faults, 2);
    ck_assert_uint_eq(s.faults_unresolved, 2);
    ck_assert_uint_eq(s.mapped_pages, 4);
    /* B is untouched, the kernel's counters add up. */
    s = tstats(b);
    ck_assert_uint_eq(s.accesses + s.faults + s.bytes_read + s.mapped_pages, 0);
    struct l4_stats k = stats();
    ck_assert_uint_eq(k.accesses, 5);
    ck_assert_uint_eq(k.bytes_written, 5000);
    ck_assert_uint_eq(k.bytes_read, 3 * PG);
    ck_assert_uint_eq(k.faults, 2);
    /* Unmapping shrinks mapped_pages; unknown tasks are ESRCH. */
    ck_assert_int_eq(l4_unmap(w.k, root(), l4_fpage(0, w.shift + 1, L4_RWX), 0, NULL), PM_OK);
    ck_assert_uint_eq(tstats(a).mapped_pages, 2);
    struct l4_task_stats untouched = {.faults = 77};
    ck_assert_int_eq(l4_task_stats(w.k, 9999, &untouched), PM_ESRCH);
    ck_assert_int_eq(l4_task_stats(w.k, L4_NILTASK, &untouched), PM_ESRCH);
    ck_assert_uint_eq(untouched.faults, 77);
}
END_TEST

/* ---- arguments --------------------------------------------------------- */

START_TEST(test_invalid_args)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(39, ta, L4_VADDR_LIMIT - PG, L4_RW);
    char buf[16] = {0};
    size_t done = 42;
    ck_assert_int_eq(rd(9999, VA_A, buf, 1, &done), PM_ESRCH);
    ck_assert_int_eq(rd(L4_NILTHREAD, VA_A, buf, 1, &done), PM_ESRCH);
    ck_assert_int_eq(rd(ta, L4_VADDR_LIMIT - 8, buf, 16, &done), PM_EINVAL);
    ck_assert_int_eq(rd(ta, L4_VADDR_LIMIT, buf, 1, &done), PM_EINVAL);
    ck_assert_int_eq(rd(ta, UINT64_MAX - 3, buf, 8, &done), PM_EINVAL);
    ck_assert_int_eq(rd(ta, L4_VADDR_LIMIT + PG, buf, 1, &done), PM_EINVAL);
    ck_assert_int_eq(rd(ta, VA_A, NULL, 4, &done), PM_EINVAL);
    ck_assert_int_eq(wr(ta, VA_A, NULL, 4, &done), PM_EINVAL);
    ck_assert_int_eq(l4_access(w.k, ta, (enum l4_access_kind)7, VA_A, buf, 1, &done), PM_EINVAL);
    ck_assert_uint_eq(done, 42);
    ck_assert_uint_eq(stats().accesses, 0);
    ck_assert_uint_eq(stats().faults, 0);
    /* The last bytes of the address space are fine; so is nothing. */
    ck_assert_int_eq(wr(ta, L4_VADDR_LIMIT - 8, "the end!", 8, &done), PM_OK);
    ck_assert_uint_eq(done, 8);
    ck_assert_mem_eq(frame(39) + PG - 8, "the end!", 8);
    ck_assert_int_eq(rd(ta, VA_A, NULL, 0, &done), PM_OK);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(stats().faults, 0);
    ck_assert_int_eq(l4_thread_set_pager(w.k, ta, 9999), PM_ESRCH);
    ck_assert_int_eq(l4_thread_set_pager(w.k, 9999, ta), PM_ESRCH);
    ck_assert_int_eq(l4_thread_set_handler(w.k, 9999, pager_fn, NULL), PM_ESRCH);
}
END_TEST

/* ---- physmem's identity mapping ---------------------------------------- */

START_TEST(test_root_identity)
{
    l4_thread_t r = root();
    ck_assert_uint_eq(l4_thread_task(w.k, r), L4_ROOT_TASK);
    /* Write through the identity addresses, across frames 5..7. */
    static unsigned char in[2 * PG + 100], out[2 * PG + 100];
    pattern(in, sizeof in, 4);
    ck_assert_int_eq(wr(r, 5ull * PG + PG - 50, in, sizeof in, NULL), PM_OK);
    ck_assert_mem_eq(frame(5) + PG - 50, in, 50);
    ck_assert_mem_eq(frame(6), in + 50, PG);
    ck_assert_mem_eq(frame(7), in + 50 + PG, sizeof in - 50 - PG);
    /* And read what the pool holds. */
    pattern(frame(FRAMES - 1), PG, 8);
    ck_assert_int_eq(rd(r, (uint64_t)(FRAMES - 1) * PG, out, PG, NULL), PM_OK);
    ck_assert_mem_eq(out, frame(FRAMES - 1), PG);
    ck_assert_int_eq(rd(r, 0, out, 16, NULL), PM_OK);
    ck_assert_mem_eq(out, frame(0), 16);
    /* All of physical memory, in one access, with no faults. */
    static unsigned char all[FRAMES * PG];
    ck_assert_int_eq(rd(r, 0, all, sizeof all, NULL), PM_OK);
    ck_assert_mem_eq(all, pm_pool_base(w.pool), sizeof all);
    ck_assert_uint_eq(stats().faults, 0);
    /* Past the end it is an ordinary address space: the last page of
     * physical memory is done, then it faults. */
    size_t done = 0;
    ck_assert_int_eq(rd(r, (uint64_t)(FRAMES - 1) * PG, out, 2 * PG, &done), PM_EFAULT);
    ck_assert_uint_eq(done, PG);
    /* Another root thread sees the same. */
    l4_thread_t r2;
    ck_assert_int_eq(l4_thread_create(w.k, L4_ROOT_TASK, &r2), PM_OK);
    ck_assert_int_eq(rd(r2, 6ull * PG, out, PG, NULL), PM_OK);
    ck_assert_mem_eq(out, in + 50, PG);
}
END_TEST

START_TEST(test_copy)
{
    /* Two scattered frames as the source, two as the destination; a copy
     * at unaligned offsets crosses both page boundaries at different
     * points, and every byte lands where it should. */
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    map(3, ta, VA_A, L4_R);
    map(9, ta, VA_A + PG, L4_R);
    map(12, ta, VA_B, L4_RW);
    map(5, ta, VA_B + PG, L4_RW);
    unsigned char src[2 * PG], out[2 * PG];
    pattern(src, sizeof src, 7);
    memcpy(pm_pool_frame(w.pool, PM_PFN(3)), src, PG);
    memcpy(pm_pool_frame(w.pool, PM_PFN(9)), src + PG, PG);
    memset(pm_pool_frame(w.pool, PM_PFN(12)), 0xEE, PG);
    memset(pm_pool_frame(w.pool, PM_PFN(5)), 0xEE, PG);
    size_t done = 0;
    ck_assert_int_eq(l4_copy(w.k, ta, VA_B + 100, VA_A + 3000, 5000, &done), PM_OK);
    ck_assert_uint_eq(done, 5000);
    memcpy(out, pm_pool_frame(w.pool, PM_PFN(12)), PG);
    memcpy(out + PG, pm_pool_frame(w.pool, PM_PFN(5)), PG);
    ck_assert(bytes_all(out, 100, 0xEE));
    ck_assert_mem_eq(out + 100, src + 3000, 5000);
    ck_assert(bytes_all(out + 5100, 2 * PG - 5100, 0xEE));
    struct l4_stats st;
    l4_stats(w.k, &st);
    ck_assert_uint_eq(st.bytes_read, 5000);
    ck_assert_uint_eq(st.bytes_written, 5000);
    /* Into a read-only page: EFAULT (no pager), done counts what went. */
    ck_assert_int_eq(l4_copy(w.k, ta, VA_A + PG - 10, VA_B, 100, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    /* From an unmapped page, after a first piece that went. */
    ck_assert_int_eq(l4_copy(w.k, ta, VA_B, VA_A + 2 * PG - 16, 64, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 16);
    ck_assert_mem_eq(pm_pool_frame(w.pool, PM_PFN(12)), src + 2 * PG - 16, 16);
    ck_assert_int_eq(l4_copy(w.k, ta, 0, L4_VADDR_LIMIT - 8, 16, &done), PM_EINVAL);
    ck_assert_int_eq(l4_copy(w.k, 9999, VA_B, VA_A, 16, &done), PM_ESRCH);
}
END_TEST

START_TEST(test_copy_contiguous)
{
    /* Frames 16..19 at A and 24..27 at B: contiguous on both sides, so one
     * memmove moves them; the last destination page is read-only, so the
     * copy stops there with EFAULT and exactly three pages done. */
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    for (unsigned i = 0; i < 4; i++) {
        map(16 + i, ta, VA_A + i * PG, L4_R);
        map(24 + i, ta, VA_B + i * PG, i == 3 ? L4_R : L4_RW);
    }
    static unsigned char src[4 * PG];
    pattern(src, sizeof src, 3);
    memcpy(pm_pool_frame(w.pool, PM_PFN(16)), src, sizeof src);
    memset(pm_pool_frame(w.pool, PM_PFN(24)), 0, 4 * PG);
    size_t done = 0;
    ck_assert_int_eq(l4_copy(w.k, ta, VA_B, VA_A, 4 * PG, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 3 * PG);
    ck_assert_mem_eq(pm_pool_frame(w.pool, PM_PFN(24)), src, 3 * PG);
    ck_assert(bytes_all(pm_pool_frame(w.pool, PM_PFN(27)), PG, 0));
    /* Three pages at offsets that differ: piece by piece, same bytes. */
    ck_assert_int_eq(l4_copy(w.k, ta, VA_B + 8, VA_A, 2 * PG, &done), PM_OK);
    ck_assert_mem_eq((unsigned char *)pm_pool_frame(w.pool, PM_PFN(24)) + 8, src, 2 * PG);
}
END_TEST

START_TEST(test_copy_faults_to_pager)
{
    /* With the zero-fill pager, both sides fault in: the destination gets
     * zero-filled frames, the source's bytes come from a zeroed page too. */
    struct sim_anon_pager pg;
    ck_assert_int_eq(sim_anon_pager_init(&pg, w.k, w.pool), PM_OK);
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    ck_assert_int_eq(l4_thread_set_pager(w.k, ta, pg.thread), PM_OK);
    ck_assert_int_eq(wr(ta, VA_A, "copied by the task", 19, NULL), PM_OK);
    size_t done = 0;
    ck_assert_int_eq(l4_copy(w.k, ta, VA_B + PG - 5, VA_A, 19, &done), PM_OK);
    ck_assert_uint_eq(done, 19);
    char back[19];
    ck_assert_int_eq(rd(ta, VA_B + PG - 5, back, 19, NULL), PM_OK);
    ck_assert_str_eq(back, "copied by the task");
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, a, &ts), PM_OK);
    ck_assert_uint_eq(ts.faults, 3); /* A, then both destination pages */
    l4_task_delete(w.k, a);
    sim_anon_pager_fini(&pg);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("access");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"shared_two_tasks", test_shared_two_tasks},
        {"shared_one_task", test_shared_one_task},
        {"write_readonly_faults", test_write_readonly_faults},
        {"unmapped_efault", test_unmapped_efault},
        {"rights_needed", test_rights_needed},
        {"touch", test_touch},
        {"partial_failure", test_partial_failure},
        {"anon_pager_zero_fill", test_anon_pager_zero_fill},
        {"anon_pager_refuses_protection", test_anon_pager_refuses_protection},
        {"pager_own_item", test_pager_own_item},
        {"pager_maps_via_root", test_pager_maps_via_root},
        {"pager_never_resolves", test_pager_never_resolves},
        {"pager_resolves_late", test_pager_resolves_late},
        {"pager_error", test_pager_error},
        {"pager_deletes_task", test_pager_deletes_task},
        {"pager_grows_kernel", test_pager_grows_kernel},
        {"no_stale_translation", test_no_stale_translation},
        {"task_stats", test_task_stats},
        {"invalid_args", test_invalid_args},
        {"root_identity", test_root_identity},
        {"copy", test_copy},
        {"copy_contiguous", test_copy_contiguous},
        {"copy_faults_to_pager", test_copy_faults_to_pager},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("cross_pages");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_cross_pages, 0, (int)(sizeof spans / sizeof spans[0]));
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
