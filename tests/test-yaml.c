/* test-yaml.c — reading scenario files into positioned YAML nodes (the
 * first layer of the scenario loader, sim/ydoc.c).
 *
 * A well-formed file gives a tree whose every node knows its line and
 * column; every bad input gives "name:line:col: message" and no tree, and
 * nothing crashes, hangs or leaks: syntax errors, empty and blank files,
 * binary files (NUL bytes, invalid UTF-8), aliases (refused, so no "billion
 * laughs"), a second document, nesting past the bound, missing files. */
#include "harness.h"
#include "ydoc.h"

static struct sim_ynode *load(const char *text, GError **err)
{
    return sim_yaml_load_string("t.yaml", text, strlen(text), err);
}

/* Load TEXT, which must fail; return the message (caller frees). */
static char *load_error(const char *text, size_t len)
{
    GError *err = NULL;
    struct sim_ynode *root = sim_yaml_load_string("t.yaml", text, len, &err);
    ck_assert_ptr_null(root);
    ck_assert_ptr_nonnull(err);
    ck_assert(g_error_matches(err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID));
    char *msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

START_TEST(test_tree_and_positions)
{
    const char *text = "name: demo\n"
                       "machine:\n"
                       "  frames: 64\n"
                       "  page_size: 4096\n"
                       "steps:\n"
                       "  - { task: a, do: create, as: C }\n"
                       "  - task: a\n"
                       "    do: allocate\n"
                       "    flags: [partial, squash]\n"
                       "description: \"quoted\"\n"
                       "empty:\n";
    GError *err = NULL;
    struct sim_ynode *root = load(text, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(root->kind, SIM_Y_MAP);
    ck_assert_uint_eq(root->n, 10); /* five pairs */
    struct sim_ynode *name = sim_yaml_get(root, "name");
    ck_assert_str_eq(name->value, "demo");
    ck_assert_uint_eq(name->line, 1);
    ck_assert_uint_eq(name->col, 7);
    ck_assert(name->plain);
    struct sim_ynode *frames = sim_yaml_get(sim_yaml_get(root, "machine"), "frames");
    ck_assert_str_eq(frames->value, "64");
    ck_assert_uint_eq(frames->line, 3);
    ck_assert_uint_eq(frames->col, 11);
    struct sim_ynode *steps = sim_yaml_get(root, "steps");
    ck_assert_int_eq(steps->kind, SIM_Y_SEQ);
    ck_assert_uint_eq(steps->n, 2);
    ck_assert_uint_eq(steps->items[0]->line, 6);
    ck_assert_uint_eq(steps->items[0]->col, 5);
    ck_assert_str_eq(sim_yaml_get(steps->items[0], "as")->value, "C");
    struct sim_ynode *flags = sim_yaml_get(steps->items[1], "flags");
    ck_assert_uint_eq(flags->n, 2);
    ck_assert_str_eq(flags->items[1]->value, "squash");
    ck_assert_uint_eq(flags->items[1]->line, 9);
    ck_assert_uint_eq(flags->items[1]->col, 22);
    struct sim_ynode *desc = sim_yaml_get(root, "description");
    ck_assert(!desc->plain);
    ck_assert(!sim_yaml_is_null(desc));
    ck_assert(sim_yaml_is_null(sim_yaml_get(root, "empty")));
    ck_assert_ptr_null(sim_yaml_get(root, "nothing"));
    ck_assert_ptr_null(sim_yaml_get(name, "x")); /* not a map */
    sim_yaml_free(root);
}
END_TEST

START_TEST(test_null_forms)
{
    static const char *const nulls[] = {"a: ~\n", "a: null\n", "a: Null\n", "a: NULL\n", "a:\n"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++) {
        GError *err = NULL;
        struct sim_ynode *root = load(nulls[i], &err);
        ck_assert_ptr_nonnull(root);
        ck_assert(sim_yaml_is_null(sim_yaml_get(root, "a")));
        sim_yaml_free(root);
    }
    GError *err = NULL;
    struct sim_ynode *root = load("a: 'null'\nb: nil\n", &err);
    ck_assert(!sim_yaml_is_null(sim_yaml_get(root, "a"))); /* quoted: a string */
    ck_assert(!sim_yaml_is_null(sim_yaml_get(root, "b")));
    sim_yaml_free(root);
}
END_TEST

/* Bad inputs: the message names the file, line and column. */
static const struct {
    const char *text;
    const char *want;  /* the start of the message */
    const char *about; /* a word it must contain */
} bad[] = {
    {"", "t.yaml:1:1: ", "empty"},
    {"   \n\n\t\n", "t.yaml:1:1: ", "empty"},
    {"name: [1, 2\nmachine: {}\n", "t.yaml:", "flow"},
    {"a: b\n  c: d\n", "t.yaml:2:", "mapping"},
    {"a: &x [1]\nb: *x\n", "t.yaml:2:4: ", "aliases"},
    {"a: 1\n---\nb: 2\n", "t.yaml:2:1: ", "second"},
    {"~\n", "t.yaml:1:1: ", "no scenario"},
    {"a: \"unterminated\n", "t.yaml:", "quoted"},
    {"\xff\xfe\x00garbage", "t.yaml:1:3: ", "NUL"},
    {"a: \xc3\x28\n", "t.yaml:", "UTF-8"},
    {"- a\nb: c\n", "t.yaml:2:", "expected"},
};

START_TEST(test_bad_input)
{
    size_t len = strlen(bad[_i].text);
    if (_i == 8)
        len = 12; /* the NUL byte is part of the input */
    char *msg = load_error(bad[_i].text, len);
    ck_assert_msg(g_str_has_prefix(msg, bad[_i].want), "case %d: %s", _i, msg);
    ck_assert_msg(strstr(msg, bad[_i].about) != NULL, "case %d: %s", _i, msg);
    g_free(msg);
}
END_TEST

START_TEST(test_depth_bound)
{
    /* 100 nested flow sequences: refused at the bound, no recursion. */
    GString *s = g_string_new("a: ");
    for (int i = 0; i < 100; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < 100; i++)
        g_string_append_c(s, ']');
    g_string_append_c(s, '\n');
    char *msg = load_error(s->str, s->len);
    ck_assert_msg(strstr(msg, "nested too deeply") != NULL, "%s", msg);
    ck_assert(g_str_has_prefix(msg, "t.yaml:1:"));
    g_free(msg);
    g_string_free(s, TRUE);

    /* Just inside the bound is fine. */
    s = g_string_new("");
    for (int i = 0; i < SIM_YAML_MAX_DEPTH; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < SIM_YAML_MAX_DEPTH; i++)
        g_string_append_c(s, ']');
    GError *err = NULL;
    struct sim_ynode *root = sim_yaml_load_string("t.yaml", s->str, s->len, &err);
    ck_assert_ptr_nonnull(root);
    sim_yaml_free(root);
    g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_large_document)
{
    /* 100,000 steps load, positions and all. */
    GString *s = g_string_new("name: big\nsteps:\n");
    for (int i = 0; i < 100000; i++)
        g_string_append_printf(s, "  - { task: a, do: allocate, start: %d, count: 1 }\n", i);
    GError *err = NULL;
    struct sim_ynode *root = sim_yaml_load_string("big.yaml", s->str, s->len, &err);
    ck_assert_ptr_nonnull(root);
    struct sim_ynode *steps = sim_yaml_get(root, "steps");
    ck_assert_uint_eq(steps->n, 100000);
    ck_assert_uint_eq(steps->items[99999]->line, 100002);
    ck_assert_str_eq(sim_yaml_get(steps->items[99999], "start")->value, "99999");
    sim_yaml_free(root);
    g_string_free(s, TRUE);
}
END_TEST

START_TEST(test_files)
{
    GError *err = NULL;
    ck_assert_ptr_null(sim_yaml_load_file("/nonexistent/scenario.yaml", &err));
    ck_assert(g_str_has_prefix(err->message, "/nonexistent/scenario.yaml:1:1: "));
    g_error_free(err);
    err = NULL;
    char path[] = "/tmp/pmsim-yaml-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "name: from a file\nmachine: {frames: 8}\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct sim_ynode *root = sim_yaml_load_file(path, &err);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(sim_yaml_get(sim_yaml_get(root, "machine"), "frames")->value, "8");
    ck_assert_uint_eq(sim_yaml_get(sim_yaml_get(root, "machine"), "frames")->line, 2);
    sim_yaml_free(root);
    unlink(path);
    sim_yaml_free(NULL);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("yaml");
    TCase *tc = tcase_create("good");
    tcase_add_test(tc, test_tree_and_positions);
    tcase_add_test(tc, test_null_forms);
    tcase_add_test(tc, test_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, test_depth_bound);
    suite_add_tcase(s, tc);
    tc = tcase_create("large");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_large_document);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
