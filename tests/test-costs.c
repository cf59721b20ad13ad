/* test-costs.c — cost tables (SPEC §10, pmsim/costs.h): the table format,
 * every class of bad table refused at file:line:col, finding tables by
 * name and by path, pricing (the copy split into hot and cold at the
 * cache), and writing a table that reads back the same. */
#include <glib/gstdio.h>

#include "harness.h"
#include "pmsim/costs.h"

static char *dir;

static void setup(void)
{
    dir = g_dir_make_tmp("pmsim-costs-XXXXXX", NULL);
    ck_assert_ptr_nonnull(dir);
}

static void teardown(void)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d != NULL && (n = g_dir_read_name(d)) != NULL) {
        char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d != NULL)
        g_dir_close(d);
    g_rmdir(dir);
    g_free(dir);
}

/* TEXT as the file NAME in the test's folder; its path (g_free it). */
static char *file(const char *name, const char *text)
{
    char *p = g_build_filename(dir, name, NULL);
    ck_assert(g_file_set_contents(p, text, -1, NULL));
    return p;
}

static const char full[] = "name: t1\n"
                           "description: every key\n"
                           "ipc: 425\n"
                           "typed_item: 50.5\n"
                           "map_page: 0.1us\n"
                           "unmap: 101ns\n"
                           "unmap_page: 2\n"
                           "tlb_flush: 3\n"
                           "fault: { missing: 4, read: 5, write: 6, exec: 7 }\n"
                           "frame_bind: 8\n"
                           "copy: { hot: 0.04, cold: 0.1, cache: 2MiB }\n"
                           "disk_write: 1ms\n"
                           "disk_read: 0.5s\n";

START_TEST(test_load_full)
{
    char *p = file("t.yaml", full);
    struct sim_cost_table t;
    GError *e = NULL;
    ck_assert_msg(sim_cost_table_load(p, &t, &e), "%s", e ? e->message : "");
    ck_assert_str_eq(t.name, "t1");
    ck_assert(t.ns[SIM_COST_IPC] == 425);
    ck_assert(t.ns[SIM_COST_TYPED_ITEM] == 50.5);
    ck_assert(t.ns[SIM_COST_MAP_PAGE] == 100);
    ck_assert(t.ns[SIM_COST_UNMAP] == 101);
    ck_assert(t.ns[SIM_COST_FAULT_MISSING] == 4 && t.ns[SIM_COST_FAULT_EXEC] == 7);
    ck_assert(t.ns[SIM_COST_COPY_HOT] == 0.04 && t.ns[SIM_COST_COPY_COLD] == 0.1);
    ck_assert_uint_eq(t.cache_bytes, 2u << 20);
    ck_assert(t.ns[SIM_COST_DISK_WRITE] == 1e6 && t.ns[SIM_COST_DISK_READ] == 5e8);
    g_free(p);
}
END_TEST

/* Missing prices are 0: a table says only what it knows. */
START_TEST(test_load_partial)
{
    char *p = file("t.yaml", "name: few\nipc: 10\n");
    struct sim_cost_table t;
    ck_assert(sim_cost_table_load(p, &t, NULL));
    for (int k = 0; k < SIM_COST_KINDS; k++)
        ck_assert(t.ns[k] == (k == SIM_COST_IPC ? 10 : 0));
    ck_assert_uint_eq(t.cache_bytes, 0);
    g_free(p);
}
END_TEST

static const struct {
    const char *what, *text;
    unsigned line, col;
    const char *about;
} bad[] = {
    {"not a map", "- ipc\n", 1, 1, "a cost table is a map"},
    {"no name", "ipc: 1\n", 1, 1, "needs 'name'"},
    {"empty name", "name: ''\n", 1, 7, "name: a short text"},
    {"unknown key", "name: t\nipcs: 1\n", 2, 1, "unknown key 'ipcs'"},
    {"twice", "name: t\nipc: 1\nipc: 2\n", 3, 1, "'ipc' appears twice"},
    {"negative", "name: t\nipc: -1\n", 2, 6, "not a price between"},
    {"not a number", "name: t\nipc: fast\n", 2, 6, "'fast' is not a price"},
    {"bad unit", "name: t\nipc: 3 weeks\n", 2, 6, "unknown unit ' weeks'"},
    {"infinite", "name: t\nipc: 1e400\n", 2, 6, "ipc"},
    {"a map for a price", "name: t\nipc: { a: 1 }\n", 2, 6, "ipc: a price"},
    {"fault not a map", "name: t\nfault: 3\n", 2, 8, "fault: a map of prices by cause"},
    {"unknown fault cause", "name: t\nfault: { missing: 1, page: 2 }\n", 2, 22,
     "unknown key 'page'"},
    {"bad fault price", "name: t\nfault:\n  write: x\n", 3, 10, "fault.write: 'x'"},
    {"copy not a map", "name: t\ncopy: 0.1\n", 2, 7, "copy: a map"},
    {"bad cache size", "name: t\ncopy: { cache: 2 MB }\n", 2, 16,
     "copy.cache: '2 MB' is not a size"},
    {"cache too large", "name: t\ncopy: { cache: 2048GiB }\n", 2, 16, "larger than 1 TiB"},
    {"syntax", "name: t\nipc: [1\n", 3, 1, ""},
    {"empty", "  \n", 1, 1, "the file is empty: a cost table needs at least 'name'"},
    {"hexadecimal", "name: t\nipc: 0x10\n", 2, 6, "'0x10' is not a price"},
};

START_TEST(test_bad_table)
{
    char *p = file("bad.yaml", bad[_i].text);
    struct sim_cost_table t;
    GError *e = NULL;
    ck_assert_msg(!sim_cost_table_load(p, &t, &e), "%s: loaded", bad[_i].what);
    ck_assert_ptr_nonnull(e);
    char *prefix = g_strdup_printf("%s:%u:%u: ", p, bad[_i].line, bad[_i].col);
    ck_assert_msg(g_str_has_prefix(e->message, prefix), "%s: '%s' does not start with '%s'",
                  bad[_i].what, e->message, prefix);
    ck_assert_msg(strstr(e->message, bad[_i].about) != NULL, "%s: '%s' does not say '%s'",
                  bad[_i].what, e->message, bad[_i].about);
    g_free(prefix);
    g_error_free(e);
    g_free(p);
}
END_TEST

START_TEST(test_find)
{
    struct sim_cost_table t;
    GError *e = NULL;
    ck_assert(sim_cost_table_find("none", NULL, &t, NULL));
    ck_assert_str_eq(t.name, "none");
    for (int k = 0; k < SIM_COST_KINDS; k++)
        ck_assert(t.ns[k] == 0);
    /* The shipped table, by name and by its alias. */
    ck_assert_msg(sim_cost_table_find("l4-published", NULL, &t, &e), "%s", e ? e->message : "");
    ck_assert_str_eq(t.name, "l4-published");
    ck_assert(t.ns[SIM_COST_IPC] > 0 && t.ns[SIM_COST_DISK_READ] > 0 && t.cache_bytes > 0);
    double ipc = t.ns[SIM_COST_IPC];
    ck_assert(sim_cost_table_find("l4-x2", NULL, &t, NULL));
    ck_assert(t.ns[SIM_COST_IPC] == ipc);
    /* A path, relative to a folder, and a missing one. */
    char *p = file("mine.yaml", "name: mine\nipc: 7\n");
    ck_assert(sim_cost_table_find("mine.yaml", dir, &t, NULL));
    ck_assert_str_eq(t.name, "mine");
    ck_assert(sim_cost_table_find(p, "/nonexistent", &t, NULL));
    ck_assert(!sim_cost_table_find("gone.yaml", dir, &t, &e));
    ck_assert_ptr_nonnull(strstr(e->message, "no cost table file"));
    g_clear_error(&e);
    ck_assert(!sim_cost_table_find("l4-x9", NULL, &t, &e));
    ck_assert_ptr_nonnull(strstr(e->message, "no cost table 'l4-x9'"));
    g_clear_error(&e);
    /* $PMSIM_COST_DIR comes first. */
    g_free(file("none2.yaml", "name: from-env\nipc: 3\n"));
    g_setenv("PMSIM_COST_DIR", dir, TRUE);
    ck_assert(sim_cost_table_find("none2", NULL, &t, NULL));
    ck_assert_str_eq(t.name, "from-env");
    g_unsetenv("PMSIM_COST_DIR");
    g_free(p);
}
END_TEST

START_TEST(test_price)
{
    struct sim_cost_table t = {.name = "p", .cache_bytes = 1000};
    t.ns[SIM_COST_IPC] = 100;
    t.ns[SIM_COST_FAULT_WRITE] = 10;
    t.ns[SIM_COST_COPY_HOT] = 0.5;
    t.ns[SIM_COST_COPY_COLD] = 2;
    struct sim_cost_counts c = {{0}};
    c.n[SIM_COST_IPC] = 3;
    c.n[SIM_COST_FAULT_WRITE] = 2;
    sim_cost_split_copy(&t, 1500, &c);
    ck_assert_uint_eq(c.n[SIM_COST_COPY_HOT], 1000);
    ck_assert_uint_eq(c.n[SIM_COST_COPY_COLD], 500);
    double by[SIM_COST_KINDS] = {0};
    ck_assert(sim_cost_price(&t, &c, by) == 300 + 20 + 500 + 1000);
    ck_assert(by[SIM_COST_IPC] == 300 && by[SIM_COST_COPY_COLD] == 1000);
    sim_cost_split_copy(&t, 999, &c);
    ck_assert_uint_eq(c.n[SIM_COST_COPY_HOT], 999);
    ck_assert_uint_eq(c.n[SIM_COST_COPY_COLD], 0);
}
END_TEST

/* A table written out reads back the same (what `pmsim calibrate` does). */
START_TEST(test_format_round_trip)
{
    char *p = file("t.yaml", full);
    struct sim_cost_table t, u;
    ck_assert(sim_cost_table_load(p, &t, NULL));
    g_strlcpy(t.name, "it's #1: - [x] & more", sizeof t.name); /* any name reads back */
    char *text = sim_cost_table_format(&t, "measured here\nby a test");
    ck_assert(g_str_has_prefix(text, "# measured here\n# by a test\n"));
    char *q = file("u.yaml", text);
    GError *e = NULL;
    ck_assert_msg(sim_cost_table_load(q, &u, &e), "%s", e ? e->message : "");
    ck_assert_str_eq(u.name, t.name);
    for (int k = 0; k < SIM_COST_KINDS; k++)
        ck_assert_msg(u.ns[k] == t.ns[k], "%s: %g != %g", sim_cost_kind_name((enum sim_cost_kind)k),
                      u.ns[k], t.ns[k]);
    ck_assert_uint_eq(u.cache_bytes, t.cache_bytes);
    g_free(text);
    g_free(p);
    g_free(q);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("costs");
    TCase *tc = tcase_create("costs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_load_full);
    tcase_add_test(tc, test_load_partial);
    tcase_add_loop_test(tc, test_bad_table, 0, (int)G_N_ELEMENTS(bad));
    tcase_add_test(tc, test_find);
    tcase_add_test(tc, test_price);
    tcase_add_test(tc, test_format_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
