/* plot.c — `pmsim plot`: sweep results and timelines as SVG or PNG, drawn
 * by gnuplot (a well-kept plotter; pmsim only writes its script).
 *
 * `pmsim plot SWEEP.csv -x PARAM -y COLUMN [--by PARAM]`: COLUMN (a time or
 * a counter of `pmsim sweep`'s CSV) against PARAM, one line per value of
 * --by (a strategy, say), points in x order.  Sizes (4KiB…) plot as bytes;
 * an axis whose values grow by a constant factor of 2 or more is
 * logarithmic, as is a y axis spanning more than two orders of magnitude;
 * axes say their units (ns, bytes, or a count).  A non-numeric x is a
 * category axis.  `pmsim plot --timeline FILE` draws each task's allocated
 * frames A (and its G, dashed) over simulated time from `pmsim run
 * --timeline`.  The output's extension picks SVG or PNG; --script writes
 * the gnuplot script instead of running it. */
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot.h"
#include "pmsim/scenario.h"

#define EXIT_USAGE 2

/* ---- CSV ------------------------------------------------------------------------- */

/* The rows of the CSV at PATH (GPtrArray of GPtrArray of char *); the
 * first is the header.  NULL with *ERROR set. */
static GPtrArray *read_csv(const char *path, char **error)
{
    char *text = NULL;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, NULL, &e)) {
        *error = g_strdup(e->message);
        g_error_free(e);
        return NULL;
    }
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    GPtrArray *row = g_ptr_array_new_with_free_func(g_free);
    GString *field = g_string_new(NULL);
    bool quoted = false;
    for (const char *c = text;; c++) {
        if (quoted) {
            if (*c == '\0')
                break;
            if (*c == '"' && c[1] == '"')
                g_string_append_c(field, *c++);
            else if (*c == '"')
                quoted = false;
            else
                g_string_append_c(field, *c);
            continue;
        }
        if (*c == '"') {
            quoted = true;
        } else if (*c == ',' || *c == '\n' || *c == '\0') {
            if (*c != '\0' || field->len > 0 || row->len > 0)
                g_ptr_array_add(row, g_strdup(field->str));
            g_string_truncate(field, 0);
            if (*c != ',' && row->len > 0) {
                g_ptr_array_add(rows, row);
                row = g_ptr_array_new_with_free_func(g_free);
            }
            if (*c == '\0')
                break;
        } else if (*c != '\r') {
            g_string_append_c(field, *c);
        }
    }
    g_ptr_array_unref(row);
    g_string_free(field, TRUE);
    g_free(text);
    if (rows->len < 2) {
        *error = g_strdup_printf("%s: no rows to plot", path);
        g_ptr_array_unref(rows);
        return NULL;
    }
    return rows;
}

/* read_csv, saying what went wrong. */
static GPtrArray *load_csv(const char *path)
{
    char *error = NULL;
    GPtrArray *rows = read_csv(path, &error);
    if (rows == NULL) {
        fprintf(stderr, "pmsim plot: %s\n", error);
        g_free(error);
    }
    return rows;
}

static int column(const GPtrArray *header, const char *name)
{
    for (guint i = 0; i < header->len; i++)
        if (strcmp(g_ptr_array_index(header, i), name) == 0)
            return (int)i;
    return -1;
}

static const char *cell(const GPtrArray *rows, guint r, int c)
{
    const GPtrArray *row = g_ptr_array_index(rows, r);
    return c >= 0 && (guint)c < row->len ? g_ptr_array_index(row, c) : "";
}

/* A number, or a size with B/KiB/MiB/GiB (as bytes): *SIZED says which. */
static bool value_of(const char *s, double *out, bool *sized)
{
    uint64_t bytes;
    if (sim_parse_size(s, &bytes, sized)) {
        *out = (double)bytes;
        return true;
    }
    char *end;
    double v = g_ascii_strtod(s, &end);
    *sized = false;
    *out = v;
    return end != s && *end == '\0';
}

/* The unit of a report column, for its axis. */
static const char *unit_of(const char *name)
{
    if (g_str_has_suffix(name, "_ns"))
        return "ns";
    if (g_str_has_prefix(name, "bytes") || strstr(name, "bytes") != NULL)
        return "bytes";
    return "count";
}

/* Values that grow by a constant factor of 2 or more (sorted, distinct,
 * positive): a log scale shows them evenly. */
static bool geometric(const double *v, guint n)
{
    if (n < 3 || v[0] <= 0)
        return false;
    double f = v[1] / v[0];
    if (f < 2)
        return false;
    for (guint i = 2; i < n; i++)
        if (fabs(v[i] / v[i - 1] - f) > 0.01 * f)
            return false;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- gnuplot ------------------------------------------------------------------------ */

static char *quote(const char *s)
{
    GString *q = g_string_new("'");
    for (; *s != '\0'; s++) {
        if (*s == '\'')
            g_string_append_c(q, '\'');
        g_string_append_c(q, *s);
    }
    g_string_append_c(q, '\'');
    return g_string_free(q, FALSE);
}

static void terminal(GString *s, const char *out)
{
    char *qo = quote(out);
    if (g_str_has_suffix(out, ".png"))
        g_string_append(s, "set terminal pngcairo size 960,600 enhanced font 'sans,11'\n");
    else
        g_string_append(s, "set terminal svg size 960,600 dynamic enhanced font 'sans,11'\n");
    g_string_append_printf(s, "set output %s\nset grid\nset key outside right top\n", qo);
    g_free(qo);
}

/* Run gnuplot on SCRIPT (or write it to SCRIPT_PATH). */
static int finish(const char *script, const char *script_path, const char *out)
{
    if (script_path != NULL) {
        GError *e = NULL;
        if (!g_file_set_contents(script_path, script, -1, &e)) {
            fprintf(stderr, "pmsim plot: %s\n", e->message);
            g_error_free(e);
            return 1;
        }
        return 0;
    }
    /* The output must be writable first: gnuplot would carry on without it
     * and print the plot to its standard output. */
    FILE *probe = fopen(out, "w");
    if (probe == NULL) {
        fprintf(stderr, "pmsim plot: cannot write %s: %s\n", out, g_strerror(errno));
        return 1;
    }
    fclose(probe);
    char *gp = g_find_program_in_path("gnuplot");
    if (gp == NULL) {
        fprintf(stderr, "pmsim plot: gnuplot is not installed (apt-get install gnuplot-nox); "
                        "--script FILE writes the script instead\n");
        return 1;
    }
    char *argv[] = {gp, NULL};
    GError *e = NULL;
    int in = -1, status = 0;
    GPid pid;
    char *err_text = NULL;
    bool ok = g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                       &pid, &in, NULL, NULL, &e);
    if (ok) {
        size_t len = strlen(script);
        ok = write(in, script, len) == (ssize_t)len;
        close(in);
        int ws = 0;
        if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            ok = false;
        g_spawn_close_pid(pid);
    }
    if (!ok) {
        fprintf(stderr, "pmsim plot: gnuplot failed%s%s\n", e ? ": " : "", e ? e->message : "");
        status = 1;
    } else {
        fprintf(stderr, "pmsim plot: wrote %s\n", out);
    }
    g_clear_error(&e);
    g_free(err_text);
    g_free(gp);
    return status;
}

/* ---- a sweep ----------------------------------------------------------------------- */

static int plot_sweep(const char *csv, const char *x, const char *y, const char *by,
                      const char *out, const char *title, const char *script_path)
{
    GPtrArray *rows = load_csv(csv);
    if (rows == NULL)
        return 1;
    const GPtrArray *head = g_ptr_array_index(rows, 0);
    int cx = column(head, x), cy = column(head, y), cb = by != NULL ? column(head, by) : -1;
    int cs = column(head, "status");
    if (cx < 0 || cy < 0 || (by != NULL && cb < 0)) {
        fprintf(stderr, "pmsim plot: %s has no column '%s'\n", csv, cx < 0 ? x : cy < 0 ? y : by);
        g_ptr_array_unref(rows);
        return EXIT_USAGE;
    }
    /* Is x numeric? */
    bool numeric = true, sized = false, ysized;
    guint n = rows->len - 1;
    double *xs = g_new(double, n), ymin = INFINITY, ymax = 0;
    for (guint r = 1; r <= n; r++) {
        bool s = false;
        double yv;
        numeric = numeric && value_of(cell(rows, r, cx), &xs[r - 1], &s);
        sized = sized || s;
        if (value_of(cell(rows, r, cy), &yv, &ysized)) {
            ymin = yv > 0 && yv < ymin ? yv : ymin;
            ymax = yv > ymax ? yv : ymax;
        }
    }
    /* The groups, in order of appearance. */
    GPtrArray *groups = g_ptr_array_new();
    for (guint r = 1; r <= n; r++) {
        const char *gname = cb >= 0 ? cell(rows, r, cb) : y;
        bool seen = false;
        for (guint i = 0; i < groups->len && !seen; i++)
            seen = strcmp(g_ptr_array_index(groups, i), gname) == 0;
        if (!seen)
            g_ptr_array_add(groups, (gpointer)gname);
    }
    GString *s = g_string_new("# pmsim plot: ");
    g_string_append_printf(s, "%s against %s%s%s, from %s\n", y, x, by ? " by " : "", by ? by : "",
                           csv);
    terminal(s, out);
    char *qt = quote(title != NULL ? title : csv);
    g_string_append_printf(s, "set title %s noenhanced\n", qt);
    g_free(qt);
    char *xl = g_strdup_printf("%s%s", x, sized ? " (bytes)" : "");
    char *yl = g_strdup_printf("%s (%s)", y, unit_of(y));
    char *qx = quote(xl), *qy = quote(yl);
    g_string_append_printf(s, "set xlabel %s noenhanced\nset ylabel %s noenhanced\n", qx, qy);
    g_free(qx);
    g_free(qy);
    g_free(xl);
    g_free(yl);
    if (numeric) {
        double *sorted = g_memdup2(xs, n * sizeof *xs);
        qsort(sorted, n, sizeof *sorted, cmp_double);
        guint d = 0;
        for (guint i = 0; i < n; i++)
            if (d == 0 || sorted[i] != sorted[d - 1])
                sorted[d++] = sorted[i];
        if (geometric(sorted, d))
            g_string_append_printf(s, "set logscale x %g\n", round(sorted[1] / sorted[0]));
        g_free(sorted);
    }
    if (ymin > 0 && ymax / ymin > 100)
        g_string_append(s, "set logscale y 10\n");
    g_string_append(s, "plot ");
    for (guint i = 0; i < groups->len; i++) {
        char *qg = quote(g_ptr_array_index(groups, i));
        g_string_append_printf(s, "%s'-' using %s with linespoints lw 2 title %s noenhanced",
                               i ? ", " : "", numeric ? "1:2" : "0:2:xtic(1)", qg);
        g_free(qg);
    }
    g_string_append_c(s, '\n');
    guint skipped = 0;
    for (guint i = 0; i < groups->len; i++) {
        const char *gname = g_ptr_array_index(groups, i);
        /* This group's points in x order (rows as they come for categories). */
        GArray *idx = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint r = 1; r <= n; r++)
            if (strcmp(cb >= 0 ? cell(rows, r, cb) : y, gname) == 0)
                g_array_append_val(idx, r);
        for (guint a = 0; numeric && a < idx->len; a++)
            for (guint b2 = a + 1; b2 < idx->len; b2++)
                if (xs[g_array_index(idx, guint, b2) - 1] < xs[g_array_index(idx, guint, a) - 1]) {
                    guint t = g_array_index(idx, guint, a);
                    g_array_index(idx, guint, a) = g_array_index(idx, guint, b2);
                    g_array_index(idx, guint, b2) = t;
                }
        for (guint k = 0; k < idx->len; k++) {
            guint r = g_array_index(idx, guint, k);
            double yv;
            bool ys;
            if (cs >= 0 && strcmp(cell(rows, r, cs), "ok") != 0 &&
                strcmp(cell(rows, r, cs), "failed") != 0) {
                skipped++; /* no report: no figures */
                continue;
            }
            if (!value_of(cell(rows, r, cy), &yv, &ys))
                continue;
            char buf[G_ASCII_DTOSTR_BUF_SIZE];
            if (numeric)
                g_string_append_printf(s, "%s ", g_ascii_dtostr(buf, sizeof buf, xs[r - 1]));
            else
                g_string_append_printf(s, "\"%s\" ", cell(rows, r, cx));
            g_string_append_printf(s, "%s\n", g_ascii_dtostr(buf, sizeof buf, yv));
        }
        g_string_append(s, "e\n");
        g_array_free(idx, TRUE);
    }
    if (skipped > 0)
        fprintf(stderr, "pmsim plot: %u points without a report left out\n", skipped);
    int status = finish(s->str, script_path, out);
    g_string_free(s, TRUE);
    g_ptr_array_free(groups, TRUE);
    g_free(xs);
    g_ptr_array_unref(rows);
    return status;
}

/* ---- a timeline ---------------------------------------------------------------------- */

static int plot_timeline(const char *csv, const char *out, const char *title,
                         const char *script_path)
{
    GPtrArray *rows = load_csv(csv);
    if (rows == NULL)
        return 1;
    const GPtrArray *head = g_ptr_array_index(rows, 0);
    int ct = column(head, "time_ns"), ck = column(head, "task"), cg = column(head, "guaranteed"),
        ca = column(head, "allocated");
    if (ct < 0 || ck < 0 || cg < 0 || ca < 0) {
        fprintf(stderr, "pmsim plot: %s is not a timeline (pmsim run --timeline)\n", csv);
        g_ptr_array_unref(rows);
        return EXIT_USAGE;
    }
    GPtrArray *tasks = g_ptr_array_new();
    for (guint r = 1; r < rows->len; r++) {
        const char *t = cell(rows, r, ck);
        bool seen = false;
        for (guint i = 0; i < tasks->len && !seen; i++)
            seen = strcmp(g_ptr_array_index(tasks, i), t) == 0;
        if (!seen)
            g_ptr_array_add(tasks, (gpointer)t);
    }
    /* Along simulated time; along steps when the clock hardly moved (a run
     * without a cost table, say: most steps at the same time). */
    int cstep = column(head, "step");
    GHashTable *times = g_hash_table_new(g_str_hash, g_str_equal),
               *steps = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint r = 1; r < rows->len; r++) {
        g_hash_table_add(times, (gpointer)cell(rows, r, ct));
        g_hash_table_add(steps, (gpointer)cell(rows, r, cstep));
    }
    bool by_step = cstep >= 0 && g_hash_table_size(times) * 2 < g_hash_table_size(steps);
    g_hash_table_destroy(times);
    g_hash_table_destroy(steps);
    if (by_step)
        ct = cstep;
    GString *s = g_string_new("# pmsim plot --timeline: frames over simulated time, from ");
    g_string_append_printf(s, "%s\n", csv);
    terminal(s, out);
    char *qt = quote(title != NULL ? title : csv);
    g_string_append_printf(s, "set title %s noenhanced\n", qt);
    g_free(qt);
    g_string_append_printf(s, "set xlabel '%s'\nset ylabel 'frames (count)'\n",
                           by_step ? "step" : "simulated time (ns)");
    g_string_append(s, "plot ");
    for (guint i = 0; i < tasks->len; i++) {
        char *qa = quote(g_ptr_array_index(tasks, i));
        char *gt = g_strdup_printf("%s G", (const char *)g_ptr_array_index(tasks, i));
        char *qg = quote(gt);
        g_string_append_printf(s,
                               "%s'-' using 1:2 with steps lw 2 lc %u title %s noenhanced, "
                               "'-' using 1:2 with steps dt 2 lc %u title %s noenhanced",
                               i ? ", " : "", i + 1, qa, i + 1, qg);
        g_free(qa);
        g_free(qg);
        g_free(gt);
    }
    g_string_append_c(s, '\n');
    for (guint i = 0; i < tasks->len; i++)
        for (int which = 0; which < 2; which++) {
            for (guint r = 1; r < rows->len; r++)
                if (strcmp(cell(rows, r, ck), g_ptr_array_index(tasks, i)) == 0)
                    g_string_append_printf(s, "%s %s\n", cell(rows, r, ct),
                                           cell(rows, r, which == 0 ? ca : cg));
            g_string_append(s, "e\n");
        }
    int status = finish(s->str, script_path, out);
    g_string_free(s, TRUE);
    g_ptr_array_free(tasks, TRUE);
    g_ptr_array_unref(rows);
    return status;
}

/* ---- the command ---------------------------------------------------------------------- */

int pm_plot_main(int argc, char **argv)
{
    char *x = NULL, *y = NULL, *by = NULL, *out = NULL, *title = NULL, *script = NULL;
    gboolean timeline = FALSE;
    GOptionEntry entries[] = {
        {"x", 'x', 0, G_OPTION_ARG_STRING, &x, "The parameter along x", "PARAM"},
        {"y", 'y', 0, G_OPTION_ARG_STRING, &y,
         "The column along y (a time, or a counter; default: simulated_ns)", "COLUMN"},
        {"by", 'b', 0, G_OPTION_ARG_STRING, &by, "One line per value of this parameter", "PARAM"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
         "The plot: FILE.svg or FILE.png (default: plot.svg)", "FILE"},
        {"title", 't', 0, G_OPTION_ARG_STRING, &title, "The title (default: the input's name)",
         "TEXT"},
        {"timeline", 0, 0, G_OPTION_ARG_NONE, &timeline,
         "The input is a timeline (pmsim run --timeline): frames per task over time", NULL},
        {"script", 0, 0, G_OPTION_ARG_FILENAME, &script,
         "Write the gnuplot script to FILE instead of running gnuplot", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx =
        g_option_context_new("CSV - plot sweep results (pmsim sweep) or a timeline with gnuplot");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    int status;
    const char *o = out != NULL ? out : "plot.svg";
    if (!ok) {
        fprintf(stderr, "pmsim plot: %s\n", error->message);
        status = EXIT_USAGE;
    } else if (argc != 2) {
        fprintf(stderr, "pmsim plot: %s (try 'pmsim plot --help')\n",
                argc < 2 ? "which CSV file?" : "one CSV file at a time");
        status = EXIT_USAGE;
    } else if (!g_str_has_suffix(o, ".svg") && !g_str_has_suffix(o, ".png")) {
        fprintf(stderr, "pmsim plot: the output is FILE.svg or FILE.png\n");
        status = EXIT_USAGE;
    } else if (timeline) {
        status = plot_timeline(argv[1], o, title, script);
    } else if (x == NULL) {
        fprintf(stderr, "pmsim plot: -x PARAM: what goes along x?\n");
        status = EXIT_USAGE;
    } else {
        status = plot_sweep(argv[1], x, y != NULL ? y : "simulated_ns", by, o, title, script);
    }
    g_clear_error(&error);
    g_free(x);
    g_free(y);
    g_free(by);
    g_free(out);
    g_free(title);
    g_free(script);
    return status;
}
