/* test-policy.c — the memory policy server (SPEC §4, pmsim/policy.h): the
 * buffer client, the kinds (fixed, proportional), grace periods for
 * shrinking guarantees, tasks coming and going, a successor adopting
 * control. */
#include "harness.h"
#include "pmsim/policy.h"

static struct pmworld p;

#define SERVER_VA 0x7f0000000000ull

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

static Suite *make_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("server");
    tcase_add_test(tc, test_fixed_gives_what_is_asked);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
