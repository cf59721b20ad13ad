/* test-reclaim.c — the memory policy as physmem sees it (SPEC §4: the
 * control capability, the policy buffer, over-commit) and taking frames
 * back (§5: pressure, pm_return_frames upcalls, deadlines, exile). */
#include "harness.h"

static struct pmworld p;

#define BUF_VA 0x7f0000000000ull

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

static Suite *make_suite(void)
{
    Suite *s = suite_create("reclaim");
    TCase *tc = tcase_create("policy");
    tcase_add_test(tc, test_control_once_and_guarantees);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
