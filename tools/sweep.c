/* sweep.c — `pmsim sweep` (sweep.h).
 *
 * Every point of the grid is independent: each runs in a process of its
 * own (fork: a point that crashes or leaks cannot harm the others), at most
 * --jobs at a time, and writes its JSON report to a file of a temporary
 * folder; the results are read back from there in grid order.  The same
 * reading serves --merge, which joins reports run anywhere (a jobs file
 * given to GNU parallel or a Slurm array: one `pmsim run --json` a point). */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pmsim/scenario.h"
#include "sweep.h"

#define EXIT_USAGE 2

/* ---- values ------------------------------------------------------------------ */

static const struct {
    const char *suffix;
    unsigned shift;
} units[] = {{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}};

/* An integer or a size: its value and whether it had a unit. */
static bool number(const char *s, guint64 *out, bool *sized)
{
    uint64_t v;
    if (!sim_parse_size(s, &v, sized))
        return false;
    *out = v;
    return true;
}

static char *format_number(guint64 v, bool sized)
{
    if (!sized)
        return g_strdup_printf("%" G_GUINT64_FORMAT, v);
    for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
        if (v != 0 && (v & ((G_GUINT64_CONSTANT(1) << units[i].shift) - 1)) == 0)
            return g_strdup_printf("%" G_GUINT64_FORMAT "%s", v >> units[i].shift, units[i].suffix);
    return g_strdup_printf("%" G_GUINT64_FORMAT "B", v);
}

/* One element of a list: a value, or a range. */
static bool expand(const char *e, GPtrArray *out, char **error)
{
    const char *dots = strstr(e, "..");
    if (dots == NULL) {
        if (*e == '\0') {
            *error = g_strdup("an empty value");
            return false;
        }
        g_ptr_array_add(out, g_strdup(e));
        return true;
    }
    char *a = g_strndup(e, (gsize)(dots - e));
    const char *colon = strchr(dots + 2, ':');
    char *b = colon != NULL ? g_strndup(dots + 2, (gsize)(colon - dots - 2)) : g_strdup(dots + 2);
    guint64 lo, hi, step = 0;
    bool sa, sb, ss = false, ok = false, mul = false;
    if (!number(a, &lo, &sa) || !number(b, &hi, &sb)) {
        /* Not two numbers: a value that has ".." in it (a path, say). */
        g_free(a);
        g_free(b);
        g_ptr_array_add(out, g_strdup(e));
        return true;
    }
    if (colon == NULL || (colon[1] != 'x' && colon[1] != '+') || !number(colon + 2, &step, &ss) ||
        step == 0 || (colon[1] == 'x' && step < 2))
        *error = g_strdup_printf("'%s': the step is :xF (F >= 2) or :+S (S >= 1)", e);
    else if (lo > hi)
        *error = g_strdup_printf("'%s': the range goes down", e);
    else if (colon[1] == 'x' && lo == 0)
        *error = g_strdup_printf("'%s': a geometric range starts above 0", e);
    else
        ok = true;
    mul = ok && colon[1] == 'x';
    for (guint64 v = lo; ok && v <= hi;) {
        if (out->len >= 100000) {
            *error = g_strdup_printf("'%s': more than 100000 values", e);
            ok = false;
            break;
        }
        g_ptr_array_add(out, format_number(v, sa || sb || ss));
        if (mul ? v > hi / step : v > hi - step)
            break;
        v = mul ? v * step : v + step;
    }
    g_free(a);
    g_free(b);
    return ok;
}

GPtrArray *pm_sweep_values(const char *arg, char **name, char **error)
{
    const char *eq = strchr(arg, '=');
    *name = NULL;
    if (eq == NULL || eq == arg) {
        *error = g_strdup_printf("--param %s: write NAME=VALUE,VALUE… or NAME=A..B:xF", arg);
        return NULL;
    }
    if (eq[1] == '\0') {
        *error = g_strdup_printf("--param %s: no values", arg);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    char **parts = g_strsplit(eq + 1, ",", -1);
    bool ok = true;
    for (char **p = parts; ok && *p != NULL; p++)
        ok = expand(*p, out, error);
    g_strfreev(parts);
    if (!ok) {
        g_ptr_array_free(out, TRUE);
        return NULL;
    }
    *name = g_strndup(arg, (gsize)(eq - arg));
    return out;
}

/* ---- the grid ------------------------------------------------------------------ */

struct grid {
    GPtrArray *names;  /* char * */
    GPtrArray *values; /* GPtrArray * of char *, one a name */
    guint64 points;
};

/* Point I's assignments, "NAME=VALUE" (NULL-terminated; g_strfreev). */
static char **assignments(const struct grid *g, guint64 i)
{
    guint n = g->names->len;
    char **a = g_new0(char *, n + 1);
    for (guint k = n; k-- > 0;) {
        const GPtrArray *v = g_ptr_array_index(g->values, k);
        a[k] = g_strdup_printf("%s=%s", (const char *)g_ptr_array_index(g->names, k),
                               (const char *)g_ptr_array_index(v, i % v->len));
        i /= v->len;
    }
    return a;
}

/* ---- results -------------------------------------------------------------------- */

struct results {
    GPtrArray *params;   /* char *: every parameter name, in order of appearance */
    GPtrArray *counters; /* char *: every counter name, in order of appearance */
    GPtrArray *points;   /* JsonNode * (a report), or NULL for a point without one */
    GPtrArray *status;   /* char *: ok, failed, invalid, crashed */
};

static void results_init(struct results *r)
{
    r->params = g_ptr_array_new_with_free_func(g_free);
    r->counters = g_ptr_array_new_with_free_func(g_free);
    r->points = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
    r->status = g_ptr_array_new_with_free_func(g_free);
}

static void results_fini(struct results *r)
{
    g_ptr_array_free(r->params, TRUE);
    g_ptr_array_free(r->counters, TRUE);
    g_ptr_array_free(r->points, TRUE);
    g_ptr_array_free(r->status, TRUE);
}

static void add_name(GPtrArray *names, const char *n)
{
    for (guint i = 0; i < names->len; i++)
        if (strcmp(g_ptr_array_index(names, i), n) == 0)
            return;
    g_ptr_array_add(names, g_strdup(n));
}

static void add_members(GPtrArray *names, JsonObject *o)
{
    GList *m = json_object_get_members(o);
    for (GList *l = m; l != NULL; l = l->next)
        add_name(names, l->data);
    g_list_free(m);
}

/* Read the report at PATH as a point (STATUS, or from the report). */
static bool add_report(struct results *r, const char *path, const char *status, char **error)
{
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    bool ok = json_parser_load_from_file(p, path, &e);
    JsonNode *root = ok ? json_parser_get_root(p) : NULL;
    if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        *error =
            g_strdup_printf("%s: not a pmsim report%s%s", path, e ? ": " : "", e ? e->message : "");
        g_clear_error(&e);
        g_object_unref(p);
        return false;
    }
    JsonObject *o = json_node_get_object(root);
    if (!json_object_has_member(o, "counters") || !json_object_has_member(o, "time")) {
        *error = g_strdup_printf("%s: not a pmsim report (no counters or time)", path);
        g_object_unref(p);
        return false;
    }
    if (json_object_has_member(o, "params"))
        add_members(r->params, json_object_get_object_member(o, "params"));
    add_members(r->counters, json_object_get_object_member(o, "counters"));
    if (status == NULL)
        status = json_object_get_boolean_member_with_default(o, "ok", FALSE) ? "ok" : "failed";
    g_ptr_array_add(r->points, json_node_copy(root));
    g_ptr_array_add(r->status, g_strdup(status));
    g_object_unref(p);
    return true;
}

/* A point without a report: its parameters (ASSIGN, "NAME=VALUE"; NULL:
 * unknown) and STATUS, no figures. */
static void add_unreported(struct results *r, char **assign, const char *status)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "params");
    json_builder_begin_object(b);
    for (char **x = assign; x != NULL && *x != NULL; x++) {
        char *eq = strchr(*x, '=');
        char *name = g_strndup(*x, (gsize)(eq - *x));
        json_builder_set_member_name(b, name);
        json_builder_add_string_value(b, eq + 1);
        g_free(name);
    }
    json_builder_end_object(b);
    static const char *const empty[] = {"time", "counters"};
    for (size_t i = 0; i < G_N_ELEMENTS(empty); i++) {
        json_builder_set_member_name(b, empty[i]);
        json_builder_begin_object(b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    g_ptr_array_add(r->points, json_builder_get_root(b));
    g_ptr_array_add(r->status, g_strdup(status));
    g_object_unref(b);
}

static void csv_field(FILE *f, const char *s, bool last)
{
    bool quote = strpbrk(s, ",\"\n") != NULL;
    if (quote) {
        fputc('"', f);
        for (const char *c = s; *c != '\0'; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
    fputc(last ? '\n' : ',', f);
}

static const char *const time_keys[] = {"simulated_ns",     "cost_ns", "measured_cost_ns",
                                        "measured_host_ns", "host_ns", "host_cpu_ns"};

static void write_csv(const struct results *r, FILE *f)
{
    fputs("point,status", f);
    for (guint i = 0; i < r->params->len; i++)
        fprintf(f, ",%s", (const char *)g_ptr_array_index(r->params, i));
    for (size_t i = 0; i < G_N_ELEMENTS(time_keys); i++)
        fprintf(f, ",%s", time_keys[i]);
    for (guint i = 0; i < r->counters->len; i++)
        fprintf(f, ",%s", (const char *)g_ptr_array_index(r->counters, i));
    fputc('\n', f);
    for (guint p = 0; p < r->points->len; p++) {
        fprintf(f, "%u,%s", p + 1, (const char *)g_ptr_array_index(r->status, p));
        JsonNode *n = g_ptr_array_index(r->points, p);
        JsonObject *o = n != NULL ? json_node_get_object(n) : NULL;
        JsonObject *pa = o != NULL && json_object_has_member(o, "params")
                             ? json_object_get_object_member(o, "params")
                             : NULL;
        JsonObject *tm = o != NULL ? json_object_get_object_member(o, "time") : NULL;
        JsonObject *ct = o != NULL ? json_object_get_object_member(o, "counters") : NULL;
        fputc(',', f);
        for (guint i = 0; i < r->params->len; i++) {
            const char *k = g_ptr_array_index(r->params, i);
            csv_field(f, pa != NULL ? json_object_get_string_member_with_default(pa, k, "") : "",
                      false);
        }
        /* A point without a report has blank figures, not zeros. */
        bool figures = ct != NULL && json_object_get_size(ct) > 0;
        for (size_t i = 0; i < G_N_ELEMENTS(time_keys); i++) {
            if (figures)
                fprintf(f, "%" G_GINT64_FORMAT,
                        json_object_get_int_member_with_default(tm, time_keys[i], 0));
            fputc(',', f);
        }
        for (guint i = 0; i < r->counters->len; i++) {
            const char *k = g_ptr_array_index(r->counters, i);
            if (figures)
                fprintf(f, "%" G_GINT64_FORMAT, json_object_get_int_member_with_default(ct, k, 0));
            if (i + 1 < r->counters->len)
                fputc(',', f);
        }
        fputc('\n', f);
    }
}

static void write_json(const struct results *r, const char *scenario, FILE *f)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "scenario");
    json_builder_add_string_value(b, scenario != NULL ? scenario : "");
    json_builder_set_member_name(b, "params");
    json_builder_begin_array(b);
    for (guint i = 0; i < r->params->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(r->params, i));
    json_builder_end_array(b);
    json_builder_set_member_name(b, "points");
    json_builder_begin_array(b);
    static const char *const kept[] = {"params", "time",    "counters",
                                       "tasks",  "servers", "failures"};
    for (guint p = 0; p < r->points->len; p++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "point");
        json_builder_add_int_value(b, p + 1);
        json_builder_set_member_name(b, "status");
        json_builder_add_string_value(b, g_ptr_array_index(r->status, p));
        JsonNode *n = g_ptr_array_index(r->points, p);
        for (size_t i = 0; n != NULL && i < G_N_ELEMENTS(kept); i++) {
            JsonObject *o = json_node_get_object(n);
            if (!json_object_has_member(o, kept[i]))
                continue;
            json_builder_set_member_name(b, kept[i]);
            json_builder_add_value(b, json_node_copy(json_object_get_member(o, kept[i])));
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    json_generator_set_pretty(g, TRUE);
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    char *text = json_generator_to_data(g, NULL);
    fputs(text, f);
    fputc('\n', f);
    g_free(text);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
}

/* Write the results where asked: CSV to CSV_PATH (NULL and no JSON_PATH:
 * standard output), JSON to JSON_PATH. */
static int write_results(const struct results *r, const char *scenario, const char *csv_path,
                         const char *json_path)
{
    int status = 0;
    if (csv_path != NULL || json_path == NULL) {
        FILE *f = csv_path != NULL && strcmp(csv_path, "-") != 0 ? fopen(csv_path, "w") : stdout;
        if (f == NULL) {
            fprintf(stderr, "pmsim sweep: %s: %s\n", csv_path, g_strerror(errno));
            return 1;
        }
        write_csv(r, f);
        if (f != stdout && fclose(f) != 0)
            status = 1;
    }
    if (json_path != NULL) {
        FILE *f = strcmp(json_path, "-") != 0 ? fopen(json_path, "w") : stdout;
        if (f == NULL) {
            fprintf(stderr, "pmsim sweep: %s: %s\n", json_path, g_strerror(errno));
            return 1;
        }
        write_json(r, scenario, f);
        if (f != stdout && fclose(f) != 0)
            status = 1;
    }
    return status;
}

/* ---- running -------------------------------------------------------------------- */

/* The child: point ASSIGN of FILE, its report to OUT.  Exit status as
 * `pmsim run`. */
static int run_point(const char *file, char **assign, const char *out, bool check,
                     enum sim_backend backend)
{
    char *message = NULL;
    sim_scenario_t *sc = sim_scenario_load_params(file, (const char *const *)assign, &message);
    if (sc == NULL) {
        FILE *f = fopen(out, "w");
        if (f != NULL) {
            fprintf(f, "%s\n", message);
            fclose(f);
        }
        free(message);
        return EXIT_USAGE;
    }
    struct sim_run_options opt = {.check = check, .backend = backend};
    sim_run_t *run = sim_scenario_run(sc, &opt);
    FILE *f = fopen(out, "w");
    int status = f == NULL ? 1 : sim_run_failures(run) == 0 ? 0 : 1;
    if (f != NULL) {
        sim_run_write_json(run, f);
        if (fclose(f) != 0)
            status = 1;
    }
    sim_run_free(run);
    sim_scenario_free(sc);
    return status;
}

static void progress(guint64 done, guint64 all)
{
    if (!isatty(STDERR_FILENO))
        return;
    int width = 40, fill = all ? (int)(done * (guint64)width / all) : width;
    fprintf(stderr, "\r[%.*s%*s] %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, fill,
            "########################################", width - fill, "", done, all);
    if (done == all)
        fputc('\n', stderr);
    fflush(stderr);
}

static int run_grid(const char *file, const struct grid *g, unsigned jobs, bool check,
                    enum sim_backend backend, const char *csv_path, const char *json_path)
{
    /* Where the results go must be writable before anything runs. */
    const char *outs[] = {csv_path, json_path};
    for (size_t i = 0; i < G_N_ELEMENTS(outs); i++) {
        if (outs[i] == NULL || strcmp(outs[i], "-") == 0)
            continue;
        FILE *f = fopen(outs[i], "w");
        if (f == NULL) {
            fprintf(stderr, "pmsim sweep: cannot write %s: %s\n", outs[i], g_strerror(errno));
            return EXIT_USAGE;
        }
        fclose(f);
    }
    /* The points' reports, while they run (removed after the merge); the
     * XXXXXX is the template g_dir_make_tmp (mkdtemp) replaces by a unique
     * name. */
    char *dir = g_dir_make_tmp("pmsim-sweep-XXXXXX", NULL);
    if (dir == NULL) {
        fprintf(stderr, "pmsim sweep: cannot make a temporary folder\n");
        return 1;
    }
    guint64 n = g->points, next = 0, done = 0;
    int *exit_of = g_new0(int, n);
    pid_t *pid_of = g_new0(pid_t, jobs);
    guint64 *point_of = g_new0(guint64, jobs);
    unsigned running = 0;
    fflush(NULL);
    progress(0, n);
    while (done < n) {
        while (running < jobs && next < n) {
            char *out = g_strdup_printf("%s/point-%06" G_GUINT64_FORMAT ".json", dir, next);
            char **assign = assignments(g, next);
            pid_t pid = fork();
            if (pid == 0) {
                /* The point's process frees its copies of the parent's tables,
                 * and its own strings once run, so that a leak check following
                 * the fork (valgrind, .ci/valgrind) sees only what the point
                 * itself leaves behind. */
                g_free(exit_of);
                g_free(pid_of);
                g_free(point_of);
                int rc = run_point(file, assign, out, check, backend);
                g_strfreev(assign);
                g_free(out);
                _exit(rc);
            }
            g_strfreev(assign);
            g_free(out);
            if (pid < 0) {
                exit_of[next++] = -1; /* counted as crashed */
                done++;
                continue;
            }
            unsigned slot = 0;
            while (pid_of[slot] != 0)
                slot++;
            pid_of[slot] = pid;
            point_of[slot] = next++;
            running++;
        }
        if (running == 0)
            continue;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0)
            break;
        for (unsigned s = 0; s < jobs; s++)
            if (pid_of[s] == pid) {
                exit_of[point_of[s]] = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
                pid_of[s] = 0;
                running--;
                done++;
                progress(done, n);
            }
    }
    struct results r;
    results_init(&r);
    for (guint i = 0; i < g->names->len; i++)
        add_name(r.params, g_ptr_array_index(g->names, i));
    int status = 0;
    for (guint64 p = 0; p < n; p++) {
        char *out = g_strdup_printf("%s/point-%06" G_GUINT64_FORMAT ".json", dir, p);
        const char *st = exit_of[p] == 0   ? "ok"
                         : exit_of[p] == 1 ? "failed"
                         : exit_of[p] == 2 ? "invalid"
                                           : "crashed";
        char *err = NULL;
        if (exit_of[p] > 1 || exit_of[p] < 0 || !add_report(&r, out, st, &err)) {
            char *text = NULL;
            if (exit_of[p] == EXIT_USAGE && g_file_get_contents(out, &text, NULL, NULL)) {
                char **a = assignments(g, p);
                char *line = g_strjoinv(" ", a);
                fprintf(stderr, "pmsim sweep: point %" G_GUINT64_FORMAT " (%s): %s", p + 1, line,
                        text);
                g_free(line);
                g_strfreev(a);
                g_free(text);
            }
            g_free(err);
            char **a = assignments(g, p);
            add_unreported(&r, a, st);
            g_strfreev(a);
            status = 1;
        } else if (exit_of[p] != 0) {
            status = 1;
        }
        g_unlink(out);
        g_free(out);
    }
    if (write_results(&r, file, csv_path, json_path) != 0)
        status = 1;
    results_fini(&r);
    g_rmdir(dir);
    g_free(dir);
    g_free(exit_of);
    g_free(pid_of);
    g_free(point_of);
    return status;
}

/* One command line a point, for a batch system. */
static int write_jobs(const char *file, const struct grid *g, const char *jobs_path,
                      const char *out_dir, bool check, const char *backend)
{
    char *self = g_file_read_link("/proc/self/exe", NULL);
    char *abs_file = g_canonicalize_filename(file, NULL);
    char *abs_out = g_canonicalize_filename(out_dir, NULL);
    FILE *f = strcmp(jobs_path, "-") != 0 ? fopen(jobs_path, "w") : stdout;
    if (f == NULL) {
        fprintf(stderr, "pmsim sweep: %s: %s\n", jobs_path, g_strerror(errno));
        return 1;
    }
    char *qself = g_shell_quote(self != NULL ? self : "pmsim"), *qfile = g_shell_quote(abs_file);
    for (guint64 p = 0; p < g->points; p++) {
        char **a = assignments(g, p);
        GString *line = g_string_new(qself);
        g_string_append(line, check ? " run --json --check" : " run --json");
        if (backend != NULL)
            g_string_append_printf(line, " --backend %s", backend);
        for (char **x = a; *x != NULL; x++) {
            char *q = g_shell_quote(*x);
            g_string_append_printf(line, " --param %s", q);
            g_free(q);
        }
        char *out = g_strdup_printf("%s/point-%06" G_GUINT64_FORMAT ".json", abs_out, p);
        char *qout = g_shell_quote(out);
        g_string_append_printf(line, " %s > %s\n", qfile, qout);
        fputs(line->str, f);
        g_string_free(line, TRUE);
        g_free(out);
        g_free(qout);
        g_strfreev(a);
    }
    int status = f != stdout && fclose(f) != 0 ? 1 : 0;
    if (g_mkdir_with_parents(abs_out, 0755) != 0) {
        fprintf(stderr, "pmsim sweep: cannot make %s\n", abs_out);
        status = 1;
    }
    fprintf(stderr, "pmsim sweep: %" G_GUINT64_FORMAT " jobs; their reports go to %s\n", g->points,
            abs_out);
    g_free(qself);
    g_free(qfile);
    g_free(self);
    g_free(abs_file);
    g_free(abs_out);
    return status;
}

/* ---- the command ------------------------------------------------------------------ */

int pm_sweep_main(int argc, char **argv)
{
    char **params = NULL, *csv_path = NULL, *json_path = NULL, *jobs_path = NULL;
    char *out_dir = NULL, *backend = NULL;
    gboolean merge = FALSE, check = FALSE;
    gint jobs = 0;
    GOptionEntry entries[] = {
        {"param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &params,
         "A parameter and its values: NAME=V1,V2… or NAME=A..B:xF or NAME=A..B:+S", "NAME=LIST"},
        {"jobs", 'j', 0, G_OPTION_ARG_INT, &jobs, "Points run at once (default: the CPUs online)",
         "N"},
        {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path, "Write the CSV here ('-': stdout)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the JSON here ('-': stdout)",
         "FILE"},
        {"check", 'c', 0, G_OPTION_ARG_NONE, &check, "Check the invariants after every step", NULL},
        {"backend", 'b', 0, G_OPTION_ARG_STRING, &backend,
         "The kernel's back end: sim or host-mmu (as pmsim run)", "NAME"},
        {"jobs-file", 0, 0, G_OPTION_ARG_FILENAME, &jobs_path,
         "Run nothing: write one command a point to FILE (for GNU parallel or a job array)",
         "FILE"},
        {"out-dir", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
         "Where the jobs file's commands put their reports (default: sweep-out)", "DIR"},
        {"merge", 0, 0, G_OPTION_ARG_NONE, &merge,
         "Join the JSON reports given (pmsim run --json) into CSV and JSON", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx =
        g_option_context_new("FILE | --merge REPORT.json… - run a scenario over a "
                             "grid of its parameters");
    g_option_context_set_description(
        ctx, "Each point of the grid (every combination of the --param values, the first\n"
             "varying slowest) runs on its own, --jobs at a time, a progress bar on a\n"
             "terminal.  The CSV has a row a point: its parameters, its status (ok, failed,\n"
             "invalid, crashed), its times and every counter; the JSON keeps each point's\n"
             "params, time, counters, tasks, servers and failures.  Exit status: 0 every\n"
             "point held, 1 one did not, 2 a usage error.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    int status = 0;
    struct grid g = {g_ptr_array_new_with_free_func(g_free),
                     g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref), 1};
    if (!ok) {
        fprintf(stderr, "pmsim sweep: %s\n", error->message);
        status = EXIT_USAGE;
    } else if (merge) {
        if (argc < 2 || params != NULL || jobs_path != NULL) {
            fprintf(stderr, "pmsim sweep --merge: the reports to join (and no --param)\n");
            status = EXIT_USAGE;
        } else {
            struct results r;
            results_init(&r);
            for (int i = 1; i < argc; i++) {
                char *err = NULL;
                if (!add_report(&r, argv[i], NULL, &err)) {
                    /* A point whose run left no report (invalid, crashed):
                     * a row of its own, no figures. */
                    fprintf(stderr, "pmsim sweep --merge: %s\n", err);
                    g_free(err);
                    add_unreported(&r, NULL, "invalid");
                    status = 1;
                }
            }
            if (write_results(&r, NULL, csv_path, json_path) != 0)
                status = 1;
            results_fini(&r);
        }
    } else if (argc != 2) {
        fprintf(stderr, "pmsim sweep: %s (try 'pmsim sweep --help')\n",
                argc < 2 ? "which scenario file?" : "one scenario file at a time");
        status = EXIT_USAGE;
    } else if (backend != NULL && strcmp(backend, "sim") != 0 && strcmp(backend, "host-mmu") != 0) {
        fprintf(stderr, "pmsim sweep: --backend: sim or host-mmu, not '%s'\n", backend);
        status = EXIT_USAGE;
    } else if (jobs < 0 || jobs > 1024) {
        fprintf(stderr, "pmsim sweep: --jobs: 1 to 1024\n");
        status = EXIT_USAGE;
    } else {
        for (char **p = params; p != NULL && *p != NULL && status == 0; p++) {
            char *name = NULL, *err = NULL;
            GPtrArray *v = pm_sweep_values(*p, &name, &err);
            if (v == NULL) {
                fprintf(stderr, "pmsim sweep: %s\n", err);
                g_free(err);
                status = EXIT_USAGE;
                break;
            }
            for (guint i = 0; i < g.names->len; i++)
                if (strcmp(g_ptr_array_index(g.names, i), name) == 0) {
                    fprintf(stderr, "pmsim sweep: --param %s given twice\n", name);
                    status = EXIT_USAGE;
                }
            g_ptr_array_add(g.names, name);
            g_ptr_array_add(g.values, v);
            if (g.points > G_MAXUINT64 / v->len || g.points * v->len > 1000000) {
                fprintf(stderr, "pmsim sweep: more than 1000000 points\n");
                status = EXIT_USAGE;
            }
            g.points *= v->len;
        }
        if (status == 0) {
            /* Every point must load: check the first and the last now, so
             * that a typo is one message, not a grid of them. */
            for (guint64 p = 0; p < g.points && status == 0; p += g.points > 1 ? g.points - 1 : 1) {
                char **a = assignments(&g, p);
                char *message = NULL;
                sim_scenario_t *sc =
                    sim_scenario_load_params(argv[1], (const char *const *)a, &message);
                if (sc == NULL) {
                    fprintf(stderr, "%s\n", message);
                    free(message);
                    status = EXIT_USAGE;
                }
                sim_scenario_free(sc);
                g_strfreev(a);
            }
        }
        enum sim_backend be = backend == NULL                    ? SIM_BACKEND_DEFAULT
                              : strcmp(backend, "host-mmu") == 0 ? SIM_BACKEND_HOST_MMU
                                                                 : SIM_BACKEND_SIM;
        unsigned n = jobs > 0 ? (unsigned)jobs : (unsigned)g_get_num_processors();
        if (status == 0 && jobs_path != NULL)
            status = write_jobs(argv[1], &g, jobs_path, out_dir != NULL ? out_dir : "sweep-out",
                                check, backend);
        else if (status == 0)
            status = run_grid(argv[1], &g, n, check, be, csv_path, json_path);
    }
    g_clear_error(&error);
    g_strfreev(params);
    g_free(csv_path);
    g_free(json_path);
    g_free(jobs_path);
    g_free(out_dir);
    g_free(backend);
    g_ptr_array_free(g.names, TRUE);
    g_ptr_array_free(g.values, TRUE);
    return status;
}
