/* costs.c — cost tables: loading, finding, pricing (pmsim/costs.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pmsim/costs.h"
#include "pmsim/scenario.h"
#include "ydoc.h"

#ifndef PMSIM_SOURCE_COST_DIR
#define PMSIM_SOURCE_COST_DIR ""
#endif
#ifndef PMSIM_INSTALL_COST_DIR
#define PMSIM_INSTALL_COST_DIR ""
#endif

static const char *const kind_names[SIM_COST_KINDS] = {
    [SIM_COST_IPC] = "ipc",
    [SIM_COST_TYPED_ITEM] = "typed_item",
    [SIM_COST_MAP_PAGE] = "map_page",
    [SIM_COST_UNMAP] = "unmap",
    [SIM_COST_UNMAP_PAGE] = "unmap_page",
    [SIM_COST_TLB_FLUSH] = "tlb_flush",
    [SIM_COST_FAULT_MISSING] = "fault.missing",
    [SIM_COST_FAULT_READ] = "fault.read",
    [SIM_COST_FAULT_WRITE] = "fault.write",
    [SIM_COST_FAULT_EXEC] = "fault.exec",
    [SIM_COST_FRAME_BIND] = "frame_bind",
    [SIM_COST_COPY_HOT] = "copy.hot",
    [SIM_COST_COPY_COLD] = "copy.cold",
    [SIM_COST_DISK_WRITE] = "disk_write",
    [SIM_COST_DISK_READ] = "disk_read",
};

const char *sim_cost_kind_name(enum sim_cost_kind kind)
{
    return (unsigned)kind < SIM_COST_KINDS ? kind_names[kind] : "?";
}

/* ---- loading ------------------------------------------------------------------ */

struct tload {
    const char *path;
    GError **error;
};

G_GNUC_PRINTF(3, 4)
static bool bad(struct tload *L, const struct sim_ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(L->error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:%u:%u: %s", L->path,
                n->line, n->col, what);
    g_free(what);
    return false;
}

/* The index of the unit END (after a number) among UNITS (NULL-terminated,
 * "" first: no unit), or -1 with the error. */
static int unit_of(struct tload *L, const struct sim_ynode *n, const char *key, const char *end,
                   const char *const *units)
{
    for (int u = 0; units[u] != NULL; u++)
        if (strcmp(end, units[u]) == 0)
            return u;
    GString *known = g_string_new(NULL);
    for (int u = 1; units[u] != NULL; u++)
        g_string_append_printf(known, "%s%s", u > 1 ? ", " : "", units[u]);
    bad(L, n, "%s: unknown unit '%s' (%s)", key, end, known->str);
    g_string_free(known, TRUE);
    return -1;
}

/* A price: a number of nanoseconds, or a number with a unit (ns, us, ms,
 * s), not negative, finite. */
static bool price(struct tload *L, const struct sim_ynode *n, const char *key, double *out)
{
    if (n->kind != SIM_Y_SCALAR)
        return bad(L, n, "%s: a price (nanoseconds, or a duration such as 1.5us)", key);
    char *end;
    errno = 0;
    double v = g_ascii_strtod(n->value, &end);
    if (end == n->value || errno != 0 || strpbrk(n->value, "xXpP") != NULL)
        return bad(L, n, "%s: '%s' is not a price (nanoseconds, or a duration such as 1.5us)", key,
                   n->value);
    static const char *const units[] = {"", "ns", "us", "ms", "s", NULL};
    static const double scale[] = {1, 1, 1e3, 1e6, 1e9};
    int u = unit_of(L, n, key, end, units);
    if (u < 0)
        return false;
    v *= scale[u];
    if (!isfinite(v) || v < 0 || v > 1e15)
        return bad(L, n, "%s: %s is not a price between 0 and 10^15 ns", key, n->value);
    *out = v;
    return true;
}

/* A size in bytes: an integer, or one with B, KiB, MiB, GiB (as scenario
 * files write sizes), at most 1 TiB. */
static bool size(struct tload *L, const struct sim_ynode *n, const char *key, uint64_t *out)
{
    if (n->kind != SIM_Y_SCALAR || !sim_parse_size(n->value, out, NULL))
        return bad(L, n, "%s: '%s' is not a size (bytes, or with B, KiB, MiB, GiB)", key,
                   n->kind == SIM_Y_SCALAR ? n->value : "");
    if (*out > (UINT64_C(1) << 40))
        return bad(L, n, "%s: %s is larger than 1 TiB", key, n->value);
    return true;
}

/* Keys of MAP must be among KEYS, each once. */
static bool only_keys(struct tload *L, const struct sim_ynode *map, const char *what,
                      const char *const *keys)
{
    char *msg = NULL;
    const struct sim_ynode *at = sim_yaml_bad_key(map, what, keys, &msg);
    if (at != NULL)
        bad(L, at, "%s", msg);
    g_free(msg);
    return at == NULL;
}

static bool load_tree(struct tload *L, const struct sim_ynode *root, struct sim_cost_table *t)
{
    memset(t, 0, sizeof *t);
    if (root->kind != SIM_Y_MAP)
        return bad(L, root, "a cost table is a map of prices");
    static const char *const top[] = {"name",      "description", "ipc",        "typed_item",
                                      "map_page",  "unmap",       "unmap_page", "tlb_flush",
                                      "fault",     "frame_bind",  "copy",       "disk_write",
                                      "disk_read", NULL};
    if (!only_keys(L, root, "cost table", top))
        return false;
    const struct sim_ynode *v = sim_yaml_get(root, "name");
    if (v == NULL)
        return bad(L, root, "a cost table needs 'name'");
    if (v->kind != SIM_Y_SCALAR || v->value[0] == '\0' || strlen(v->value) >= sizeof t->name)
        return bad(L, v, "name: a short text (1 to %zu characters)", sizeof t->name - 1);
    g_strlcpy(t->name, v->value, sizeof t->name);
    if ((v = sim_yaml_get(root, "description")) != NULL && v->kind != SIM_Y_SCALAR)
        return bad(L, v, "description: a text");
    static const struct {
        const char *key;
        enum sim_cost_kind kind;
    } plain[] = {{"ipc", SIM_COST_IPC},
                 {"typed_item", SIM_COST_TYPED_ITEM},
                 {"map_page", SIM_COST_MAP_PAGE},
                 {"unmap", SIM_COST_UNMAP},
                 {"unmap_page", SIM_COST_UNMAP_PAGE},
                 {"tlb_flush", SIM_COST_TLB_FLUSH},
                 {"frame_bind", SIM_COST_FRAME_BIND},
                 {"disk_write", SIM_COST_DISK_WRITE},
                 {"disk_read", SIM_COST_DISK_READ}};
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++)
        if ((v = sim_yaml_get(root, plain[i].key)) != NULL &&
            !price(L, v, plain[i].key, &t->ns[plain[i].kind]))
            return false;
    if ((v = sim_yaml_get(root, "fault")) != NULL) {
        static const char *const fk[] = {"missing", "read", "write", "exec", NULL};
        if (v->kind != SIM_Y_MAP)
            return bad(L, v, "fault: a map of prices by cause (missing, read, write, exec)");
        if (!only_keys(L, v, "fault", fk))
            return false;
        for (int c = 0; fk[c] != NULL; c++) {
            const struct sim_ynode *x = sim_yaml_get(v, fk[c]);
            if (x != NULL && !price(L, x, kind_names[SIM_COST_FAULT_MISSING + c],
                                    &t->ns[SIM_COST_FAULT_MISSING + c]))
                return false;
        }
    }
    if ((v = sim_yaml_get(root, "copy")) != NULL) {
        static const char *const ck[] = {"hot", "cold", "cache", NULL};
        if (v->kind != SIM_Y_MAP)
            return bad(L, v, "copy: a map { hot, cold, cache }");
        if (!only_keys(L, v, "copy", ck))
            return false;
        const struct sim_ynode *x;
        if ((x = sim_yaml_get(v, "hot")) != NULL &&
            !price(L, x, "copy.hot", &t->ns[SIM_COST_COPY_HOT]))
            return false;
        if ((x = sim_yaml_get(v, "cold")) != NULL &&
            !price(L, x, "copy.cold", &t->ns[SIM_COST_COPY_COLD]))
            return false;
        if ((x = sim_yaml_get(v, "cache")) != NULL && !size(L, x, "copy.cache", &t->cache_bytes))
            return false;
    }
    return true;
}

bool sim_cost_table_load(const char *path, struct sim_cost_table *out, GError **error)
{
    char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL) && g_strstrip(text)[0] == '\0') {
        g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                    "%s:1:1: the file is empty: a cost table needs at least 'name'", path);
        g_free(text);
        return false;
    }
    g_free(text);
    struct sim_ynode *root = sim_yaml_load_file(path, error);
    if (root == NULL)
        return false;
    struct tload L = {path, error};
    bool ok = load_tree(&L, root, out);
    sim_yaml_free(root);
    return ok;
}

/* ---- finding -------------------------------------------------------------------- */

bool sim_cost_table_find(const char *name, const char *base_dir, struct sim_cost_table *out,
                         GError **error)
{
    if (strcmp(name, "none") == 0) {
        memset(out, 0, sizeof *out);
        g_strlcpy(out->name, "none", sizeof out->name);
        return true;
    }
    if (strchr(name, '/') != NULL || g_str_has_suffix(name, ".yaml")) {
        char *path = g_path_is_absolute(name) || base_dir == NULL
                         ? g_strdup(name)
                         : g_build_filename(base_dir, name, NULL);
        bool ok = g_file_test(path, G_FILE_TEST_IS_REGULAR);
        if (!ok)
            g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                        "no cost table file %s", path);
        else
            ok = sim_cost_table_load(path, out, error);
        g_free(path);
        return ok;
    }
    const char *file = strcmp(name, "l4-x2") == 0 ? "l4-published" : name;
    const char *dirs[] = {g_getenv("PMSIM_COST_DIR"), PMSIM_SOURCE_COST_DIR,
                          PMSIM_INSTALL_COST_DIR};
    for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
        if (dirs[i] == NULL || dirs[i][0] == '\0')
            continue;
        char *leaf = g_strconcat(file, ".yaml", NULL);
        char *path = g_build_filename(dirs[i], leaf, NULL);
        g_free(leaf);
        bool there = g_file_test(path, G_FILE_TEST_IS_REGULAR);
        bool ok = there && sim_cost_table_load(path, out, error);
        g_free(path);
        if (there)
            return ok;
    }
    g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                "no cost table '%s' (built in: none, l4-published, l4-x2; or a file path)", name);
    return false;
}

/* ---- pricing -------------------------------------------------------------------- */

void sim_cost_split_copy(const struct sim_cost_table *t, uint64_t copied,
                         struct sim_cost_counts *counts)
{
    uint64_t hot = copied < t->cache_bytes ? copied : t->cache_bytes;
    counts->n[SIM_COST_COPY_HOT] = hot;
    counts->n[SIM_COST_COPY_COLD] = copied - hot;
}

double sim_cost_price(const struct sim_cost_table *t, const struct sim_cost_counts *counts,
                      double by[SIM_COST_KINDS])
{
    double total = 0;
    for (int k = 0; k < SIM_COST_KINDS; k++) {
        double v = (double)counts->n[k] * t->ns[k];
        if (by != NULL)
            by[k] += v;
        total += v;
    }
    return total;
}

/* ---- writing ---------------------------------------------------------------------- */

char *sim_cost_table_format(const struct sim_cost_table *t, const char *comment)
{
    GString *s = g_string_new(NULL);
    if (comment != NULL) {
        char **lines = g_strsplit(comment, "\n", -1);
        for (char **l = lines; *l != NULL; l++)
            if (**l != '\0' || l[1] != NULL)
                g_string_append_printf(s, "# %s\n", *l);
        g_strfreev(lines);
    }
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
#define NS(k) g_ascii_formatd(buf, sizeof buf, "%.6g", t->ns[k])
    /* The name single-quoted (any text reads back as itself). */
    g_string_append(s, "name: '");
    for (const char *c = t->name; *c != '\0'; c++) {
        if (*c == '\'')
            g_string_append_c(s, '\'');
        g_string_append_c(s, *c);
    }
    g_string_append(s, "'\n");
    static const enum sim_cost_kind plain[] = {
        SIM_COST_IPC,        SIM_COST_TYPED_ITEM, SIM_COST_MAP_PAGE,
        SIM_COST_UNMAP,      SIM_COST_UNMAP_PAGE, SIM_COST_TLB_FLUSH,
        SIM_COST_FRAME_BIND, SIM_COST_DISK_WRITE, SIM_COST_DISK_READ};
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++)
        g_string_append_printf(s, "%s: %s\n", kind_names[plain[i]], NS(plain[i]));
    g_string_append(s, "fault:\n");
    for (int c = 0; c < 4; c++)
        g_string_append_printf(s, "  %s: %s\n", kind_names[SIM_COST_FAULT_MISSING + c] + 6,
                               NS(SIM_COST_FAULT_MISSING + c));
    g_string_append(s, "copy:\n");
    g_string_append_printf(s, "  hot: %s\n", NS(SIM_COST_COPY_HOT));
    g_string_append_printf(s, "  cold: %s\n", NS(SIM_COST_COPY_COLD));
    g_string_append_printf(s, "  cache: %llu\n", (unsigned long long)t->cache_bytes);
#undef NS
    return g_string_free(s, FALSE);
}
