/* test-error.c — the error codes: one list gives the codes, their errno
 * values and names, and their parsing, all consistent with each other. */
#include "harness.h"

static const struct {
    pm_error_t code;
    int host;
    const char *name;
} rows[] = {
    {PM_EINVAL, EINVAL, "EINVAL"}, {PM_EBADF, EBADF, "EBADF"},    {PM_EPERM, EPERM, "EPERM"},
    {PM_EEXIST, EEXIST, "EEXIST"}, {PM_ENOENT, ENOENT, "ENOENT"}, {PM_ENOMEM, ENOMEM, "ENOMEM"},
    {PM_EBUSY, EBUSY, "EBUSY"},    {PM_ESTALE, ESTALE, "ESTALE"}, {PM_EFAULT, EFAULT, "EFAULT"},
    {PM_ESRCH, ESRCH, "ESRCH"},    {PM_EIO, EIO, "EIO"},          {PM_ENOSPC, ENOSPC, "ENOSPC"},
    {PM_EDQUOT, EDQUOT, "EDQUOT"},
};

START_TEST(test_codes_are_errno_values)
{
    ck_assert_int_eq(rows[_i].code, rows[_i].host);
    ck_assert_int_ne(rows[_i].code, PM_OK);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(pm_strerror(rows[_i].code), rows[_i].name);
    ck_assert_ptr_nonnull(pm_error_describe(rows[_i].code));
    ck_assert_str_ne(pm_error_describe(rows[_i].code), "unknown error code");
}
END_TEST

START_TEST(test_parse_round_trip)
{
    pm_error_t e = -1;
    ck_assert(pm_error_parse(rows[_i].name, &e));
    ck_assert_int_eq(e, rows[_i].code);
}
END_TEST

START_TEST(test_ok_and_unknown)
{
    pm_error_t e = 12345;
    ck_assert_str_eq(pm_strerror(PM_OK), "ok");
    ck_assert_str_eq(pm_strerror(9999), "E?");
    ck_assert_str_eq(pm_error_describe(9999), "unknown error code");
    ck_assert(pm_error_parse("ok", &e));
    ck_assert_int_eq(e, PM_OK);
    e = 777;
    ck_assert(!pm_error_parse("EWHATEVER", &e));
    ck_assert(!pm_error_parse("einval", &e)); /* names are case-sensitive */
    ck_assert(!pm_error_parse(NULL, &e));
    ck_assert_int_eq(e, 777); /* untouched on failure */
}
END_TEST

START_TEST(test_all_distinct)
{
    size_t n = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_int_ne(rows[i].code, rows[j].code);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("error");
    int n = (int)(sizeof rows / sizeof rows[0]);
    TCase *tc = tcase_create("codes");
    tcase_add_loop_test(tc, test_codes_are_errno_values, 0, n);
    tcase_add_loop_test(tc, test_names, 0, n);
    tcase_add_loop_test(tc, test_parse_round_trip, 0, n);
    tcase_add_test(tc, test_ok_and_unknown);
    tcase_add_test(tc, test_all_distinct);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
