/* scenario.c — loading and validating a scenario file (shared/SCENARIO.md).
 *
 * Two layers: ydoc.c turns the file into positioned YAML nodes; this file
 * turns those into a struct sim_scenario, checking everything a run could
 * trip on before anything runs: unknown keys and operations, types,
 * numbers, sizes, times and their suffixes, addresses, flags, error names,
 * tasks, and names a task uses without ever binding them.  The first
 * problem ends the load with "file:line:col: message".
 *
 * Operations that belong to later parts of the model (policy servers,
 * swap, pagers, servers) are refused by name with the section they need,
 * so a user knows the file is ahead of the simulator rather than wrong. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_priv.h"
#include "ydoc.h"
#include "pmsim/physmem.h"
#include "pmsim/pager.h"
#include "pmsim/policy.h"
#include "servers.h"

const char *const sim_op_names[OP_COUNT] = {
    [OP_CREATE] = "create",
    [OP_DESTROY] = "destroy",
    [OP_SHARE] = "share",
    [OP_REVOKE] = "revoke",
    [OP_GIVE] = "give",
    [OP_LOCK] = "lock",
    [OP_UNLOCK] = "unlock",
    [OP_ALLOCATE] = "allocate",
    [OP_DEALLOCATE] = "deallocate",
    [OP_MAP] = "map",
    [OP_COPY] = "copy",
    [OP_CREATE_WITH] = "create_with",
    [OP_CREATE_FROM] = "create_from",
    [OP_CREATE_GATHER] = "create_gather",
    [OP_RELEASE_DATA] = "release_data",
    [OP_WRITE] = "write",
    [OP_READ] = "read",
    [OP_ADVANCE] = "advance",
    [OP_KILL] = "kill",
    [OP_RECLAIM] = "reclaim",
    [OP_GET_CONTROL] = "get_control",
    [OP_SET_GUARANTEE] = "set_guarantee",
    [OP_SWAP_OUT] = "swap_out",
    [OP_SWAP_IN] = "swap_in",
    [OP_SWAP_RECOVER] = "swap_recover",
    [OP_PRESSURE] = "pressure",
    [OP_START] = "start",
    [OP_MMAP] = "mmap",
    [OP_MUNMAP] = "munmap",
    [OP_ACCESS] = "access",
    [OP_REPLAY] = "replay",
    [OP_READ_INTO] = "read_into",
    [OP_WRITE_FROM] = "write_from",
    [OP_PARALLEL] = "parallel",
};

struct loader {
    const char *file;
    GError *err;
    struct sim_scenario *sc;
    GHashTable *task_ids;   /* name → index + 1 */
    GHashTable *name_ids;   /* name → id + 1 */
    GPtrArray *caps, *refs; /* per task: GHashTable of bound name ids (static check) */
    GPtrArray *swaps;       /* per task: names bound by swap_out */
};

/* ---- errors ---------------------------------------------------------------- */

G_GNUC_PRINTF(3, 4)
static bool fail(struct loader *L, const struct sim_ynode *at, const char *fmt, ...)
{
    if (L->err != NULL)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(&L->err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:%u:%u: %s", L->file,
                at ? at->line : 1, at ? at->col : 1, msg);
    g_free(msg);
    return false;
}

static const char *kind_name(const struct sim_ynode *n)
{
    return n->kind == SIM_Y_MAP ? "a mapping" : n->kind == SIM_Y_SEQ ? "a list" : "a scalar";
}

/* ---- scalars --------------------------------------------------------------- */

static bool want_scalar(struct loader *L, const struct sim_ynode *n, const char *what)
{
    if (n->kind != SIM_Y_SCALAR)
        return fail(L, n, "%s must be a single value, not %s", what, kind_name(n));
    if (sim_yaml_is_null(n))
        return fail(L, n, "%s has no value", what);
    return true;
}

/* An unsigned integer: decimal or 0x hexadecimal, at most MAX.  The text
 * ends at END (for suffixes) or at its end. */
static bool parse_uint(struct loader *L, const struct sim_ynode *n, const char *what,
                       const char *text, size_t len, uint64_t max, uint64_t *out)
{
    if (len > 0 && (text[0] == '-'))
        return fail(L, n, "%s must not be negative", what);
    if (len > 0 && text[0] == '+') {
        text++;
        len--;
    }
    unsigned base = 10;
    if (len > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        len -= 2;
    }
    if (len == 0)
        return fail(L, n, "%s: '%s' is not a number", what, n->value);
    if (base == 10 && len > 1 && text[0] == '0')
        return fail(L, n,
                    "%s: '%s' has a leading 0, which YAML 1.1 reads as octal: write it "
                    "without the 0 (or in hex, 0x…)",
                    what, n->value);
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int c = text[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else if (c == '_' && i > 0)
            continue; /* YAML 1.1 digit separators */
        else
            return fail(L, n, "%s: '%s' is not a number", what, n->value);
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return fail(L, n, "%s: %s is too large", what, n->value);
        v = v * base + (uint64_t)d;
    }
    if (v > max)
        return fail(L, n, "%s: %s is too large (at most %llu)", what, n->value,
                    (unsigned long long)max);
    *out = v;
    return true;
}

static bool get_uint(struct loader *L, const struct sim_ynode *n, const char *what, uint64_t max,
                     uint64_t *out)
{
    return want_scalar(L, n, what) && parse_uint(L, n, what, n->value, strlen(n->value), max, out);
}

/* A number with an optional unit suffix from TABLE (multipliers). */
struct unit {
    const char *suffix;
    uint64_t mult;
};

/* Split V into its number and its unit from UNITS: *DIGITS gets the
 * number's length (trailing spaces trimmed), *MULT the unit's multiplier (1
 * when there is no unit), *SUFFIX the letters at its end.  False when those
 * letters are no unit of UNITS.  Hexadecimal numbers end in letters too:
 * they take no unit. */
static bool split_unit(const char *v, const struct unit *units, size_t nunits, size_t *digits,
                       uint64_t *mult, const char **suffix)
{
    size_t len = strlen(v), d = len;
    while (d > 0 && ((v[d - 1] >= 'a' && v[d - 1] <= 'z') || (v[d - 1] >= 'A' && v[d - 1] <= 'Z')))
        d--;
    if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
        d = len;
    *suffix = v + d;
    *mult = 1;
    bool known = d == len;
    for (size_t i = 0; i < nunits && !known; i++) {
        if (strcmp(v + d, units[i].suffix) == 0) {
            *mult = units[i].mult;
            known = true;
        }
    }
    while (d > 0 && v[d - 1] == ' ')
        d--;
    *digits = d;
    return known;
}

static bool get_with_unit(struct loader *L, const struct sim_ynode *n, const char *what,
                          const struct unit *units, size_t nunits, uint64_t max, uint64_t *out)
{
    if (!want_scalar(L, n, what))
        return false;
    const char *v = n->value, *suf;
    size_t digits;
    uint64_t mult, x;
    if (!split_unit(v, units, nunits, &digits, &mult, &suf)) {
        GString *ok = g_string_new("");
        for (size_t j = 0; j < nunits; j++)
            g_string_append_printf(ok, "%s%s", j ? ", " : "", units[j].suffix);
        fail(L, n, "%s: unknown unit '%s' (use %s)", what, suf, ok->str);
        g_string_free(ok, TRUE);
        return false;
    }
    if (!parse_uint(L, n, what, v, digits, UINT64_MAX, &x))
        return false;
    if (x != 0 && mult > UINT64_MAX / x)
        return fail(L, n, "%s: %s is too large", what, v);
    if (x * mult > max)
        return fail(L, n, "%s: %s is too large (at most %llu)", what, v, (unsigned long long)max);
    *out = x * mult;
    return true;
}

static const struct unit size_units[] = {
    {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
};
static const struct unit time_units[] = {
    {"ns", 1},
    {"us", 1000},
    {"ms", 1000000},
    {"s", 1000000000},
};

bool sim_parse_size(const char *text, uint64_t *bytes, bool *had_unit)
{
    size_t digits;
    uint64_t mult, x = 0;
    const char *suf;
    if (!split_unit(text, size_units, G_N_ELEMENTS(size_units), &digits, &mult, &suf) ||
        digits == 0 || digits != (size_t)(suf - text))
        return false;
    for (size_t i = 0; i < digits; i++) {
        if (!g_ascii_isdigit(text[i]) || x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(text[i] - '0');
    }
    if (x > UINT64_MAX / mult)
        return false;
    *bytes = x * mult;
    if (had_unit != NULL)
        *had_unit = *suf != '\0';
    return true;
}

static bool get_size(struct loader *L, const struct sim_ynode *n, const char *what, uint64_t max,
                     uint64_t *out)
{
    return get_with_unit(L, n, what, size_units, G_N_ELEMENTS(size_units), max, out);
}

static bool get_time(struct loader *L, const struct sim_ynode *n, const char *what, uint64_t *out)
{
    /* Times stay below 2^63 ns (292 years), so reports never show them negative. */
    return get_with_unit(L, n, what, time_units, G_N_ELEMENTS(time_units), INT64_MAX, out);
}

/* A YAML 1.1 boolean (plain scalars only: a quoted "true" is a string). */
static bool parse_bool_quietly(const struct sim_ynode *n, bool *out)
{
    static const char *const yes[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON"};
    static const char *const no[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                     "False", "FALSE", "off", "Off", "OFF"};
    if (n->kind != SIM_Y_SCALAR || !n->plain)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (strcmp(n->value, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(n->value, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool get_bool(struct loader *L, const struct sim_ynode *n, const char *what, bool *out)
{
    if (!want_scalar(L, n, what))
        return false;
    if (!parse_bool_quietly(n, out))
        return fail(L, n, "%s must be true or false, not '%s'", what, n->value);
    return true;
}

/* ---- keys ------------------------------------------------------------------ */

/* Every key of map N is a scalar, appears once, and is in ALLOWED. */
static bool check_keys(struct loader *L, const struct sim_ynode *n, const char *what,
                       const char *const *allowed)
{
    char *msg = NULL;
    const struct sim_ynode *at = sim_yaml_bad_key(n, what, allowed, &msg);
    if (at != NULL)
        fail(L, at, "%s", msg);
    g_free(msg);
    return at == NULL;
}

/* ---- names and tasks -------------------------------------------------------- */

static int name_id(struct loader *L, const char *name)
{
    gpointer v = g_hash_table_lookup(L->name_ids, name);
    if (v != NULL)
        return GPOINTER_TO_INT(v) - 1;
    int id = (int)L->sc->names->len;
    char *copy = g_strdup(name);
    g_ptr_array_add(L->sc->names, copy);
    g_hash_table_insert(L->name_ids, copy, GINT_TO_POINTER(id + 1));
    return id;
}

static bool get_name(struct loader *L, const struct sim_ynode *n, const char *what, int *id)
{
    if (!want_scalar(L, n, what))
        return false;
    if (n->value[0] == '\0')
        return fail(L, n, "%s must not be empty", what);
    *id = name_id(L, n->value);
    return true;
}

static bool get_task(struct loader *L, const struct sim_ynode *n, const char *what, int *task)
{
    if (!want_scalar(L, n, what))
        return false;
    gpointer v = g_hash_table_lookup(L->task_ids, n->value);
    if (v == NULL)
        return fail(L, n, "%s: unknown task '%s'", what, n->value);
    *task = GPOINTER_TO_INT(v) - 1;
    return true;
}

static void bind(GPtrArray *sets, int task, int name)
{
    g_hash_table_add(g_ptr_array_index(sets, task), GINT_TO_POINTER(name + 1));
}

static bool bound(GPtrArray *sets, int task, int name)
{
    return g_hash_table_contains(g_ptr_array_index(sets, task), GINT_TO_POINTER(name + 1));
}

/* ---- steps ------------------------------------------------------------------ */

struct flag_name {
    const char *name;
    unsigned flag;
};

static const struct flag_name alloc_flags[] = {{"partial", CONT_ALLOC_PARTIAL},
                                               {"squash", CONT_ALLOC_SQUASH},
                                               {"extra", CONT_ALLOC_EXTRA},
                                               {"dma", CONT_ALLOC_DMA},
                                               {NULL, 0}};
static const struct flag_name dealloc_flags[] = {{"partial", CONT_DEALLOC_PARTIAL},
                                                 {"squash", CONT_DEALLOC_SQUASH},
                                                 {"soft", CONT_DEALLOC_SOFT},
                                                 {NULL, 0}};
static const struct flag_name map_flags[] = {{"read", CONT_MAP_READ},
                                             {"write", CONT_MAP_WRITE},
                                             {"force_write", CONT_MAP_FORCE_WRITE},
                                             {NULL, 0}};
static const struct flag_name copy_flags[] = {{"shared", CONT_COPY_SHARED},
                                              {"move", CONT_COPY_MOVE},
                                              {"all_or_none", CONT_COPY_ALL_OR_NONE},
                                              {NULL, 0}};

static bool get_flags(struct loader *L, const struct sim_ynode *n, const struct flag_name *table,
                      unsigned *out)
{
    const struct sim_ynode *const *items = (const struct sim_ynode *const *)&n;
    size_t count = 1;
    if (n->kind == SIM_Y_SEQ) {
        items = (const struct sim_ynode *const *)n->items;
        count = n->n;
    } else if (n->kind != SIM_Y_SCALAR) {
        return fail(L, n, "flags must be a list of names, not %s", kind_name(n));
    }
    unsigned flags = 0;
    for (size_t i = 0; i < count; i++) {
        const struct sim_ynode *f = items[i];
        if (!want_scalar(L, f, "a flag"))
            return false;
        const struct flag_name *t;
        for (t = table; t->name != NULL; t++)
            if (strcmp(t->name, f->value) == 0)
                break;
        if (t->name == NULL) {
            GString *ok = g_string_new("");
            for (const struct flag_name *x = table; x->name != NULL; x++)
                g_string_append_printf(ok, "%s%s", x == table ? "" : ", ", x->name);
            fail(L, f, "unknown flag '%s' (known: %s)", f->value, ok->str);
            g_string_free(ok, TRUE);
            return false;
        }
        flags |= t->flag;
    }
    *out = flags;
    return true;
}

static bool get_frames(struct loader *L, const struct sim_ynode *n, const char *what, GArray **out)
{
    if (n->kind != SIM_Y_SEQ)
        return fail(L, n, "%s must be a list of frame identifiers, not %s", what, kind_name(n));
    if (n->n == 0)
        return fail(L, n, "%s must not be empty", what);
    GArray *a = g_array_sized_new(FALSE, FALSE, sizeof(uint32_t), (guint)n->n);
    for (size_t i = 0; i < n->n; i++) {
        uint64_t v;
        if (!get_uint(L, n->items[i], "a frame identifier", UINT32_MAX, &v)) {
            g_array_free(a, TRUE);
            return false;
        }
        uint32_t f = (uint32_t)v;
        g_array_append_val(a, f);
    }
    *out = a;
    return true;
}

/* [at, at + bytes) of step S: page aligned, non-empty, inside the address
 * space. */
static bool page_range(struct loader *L, const struct sim_ynode *n, struct sim_step *s)
{
    uint64_t page = L->sc->page_size;
    if (s->bytes == 0)
        return fail(L, sim_yaml_get(n, "bytes"), "bytes: a range of 0 bytes");
    if (s->at % page != 0 || s->bytes % page != 0)
        return fail(L, sim_yaml_get(n, s->at % page ? "at" : "bytes"),
                    "%s is not a multiple of the page size (%llu)", s->at % page ? "at" : "bytes",
                    (unsigned long long)page);
    if (s->bytes > (1ull << 48) - s->at)
        return fail(L, sim_yaml_get(n, "bytes"), "at + bytes goes past the 48-bit address space");
    return true;
}

/* Task T has a pager (the operation at N needs one). */
static bool has_pager(struct loader *L, const struct sim_ynode *n, int t)
{
    const struct sim_task_def *d = t >= 0 ? g_ptr_array_index(L->sc->tasks, t) : NULL;
    if (d != NULL && d->no_pager)
        return fail(L, sim_yaml_get(n, "do"), "task '%s' has no pager (pager: none): %s needs one",
                    d->name, sim_yaml_get(n, "do")->value);
    return true;
}

/* A real number in [LO, HI]. */
static bool get_real(struct loader *L, const struct sim_ynode *n, const char *what, double lo,
                     double hi, double *out)
{
    if (!want_scalar(L, n, what))
        return false;
    char *end = NULL;
    double v = g_ascii_strtod(n->value, &end);
    if (end == n->value || *end != '\0' || !(v >= lo && v <= hi))
        return fail(L, n, "%s: '%s' is not a number from %g to %g", what, n->value, lo, hi);
    *out = v;
    return true;
}

/* A trace file (SCENARIO.md replay): one reference a line, a page number
 * (decimal) or an address (0x…), then optionally r or w, separated by
 * blanks or a comma (CSV); blank lines and lines starting with # are
 * skipped.  Relative to the scenario file.  Errors name the trace's own
 * line and column. */
/* libCacheSim's oracleGeneral binary trace: 24-byte little-endian records
 * (uint32 time, uint64 object id, uint32 size, int64 next access).  Object
 * ids (hashes) are numbered densely in order of first appearance, one page
 * each, from AT; all references are reads. */
static bool oracle_general(struct loader *L, const char *path, const gchar *text, gsize len,
                           uint64_t at, GArray *a)
{
    if (len == 0 || len % 24 != 0) {
        g_set_error(&L->err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                    "%s:1:1: %llu bytes are not whole 24-byte oracleGeneral records", path,
                    (unsigned long long)len);
        return false;
    }
    GHashTable *ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    uint64_t limit = ((1ull << 48) - at) / L->sc->page_size;
    bool ok = true;
    for (gsize off = 0; ok && off < len; off += 24) {
        uint64_t id = 0;
        for (int b = 7; b >= 0; b--)
            id = id << 8 | (unsigned char)text[off + 4 + (gsize)b];
        gpointer dense = g_hash_table_lookup(ids, &id);
        if (dense == NULL) {
            uint64_t *k = g_new(uint64_t, 1);
            *k = id;
            dense = GSIZE_TO_POINTER(g_hash_table_size(ids) + 1);
            g_hash_table_insert(ids, k, dense);
        }
        uint64_t page = GPOINTER_TO_SIZE(dense) - 1;
        if (page >= limit) {
            g_set_error(&L->err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                        "%s:1:1: more objects than pages above at", path);
            ok = false;
        }
        struct sim_ref ref = {.addr = at + page * L->sc->page_size};
        g_array_append_val(a, ref);
    }
    g_hash_table_destroy(ids);
    return ok;
}

static bool get_trace(struct loader *L, const struct sim_ynode *n, const struct sim_ynode *fmt,
                      uint64_t at, GArray **out, bool *binary_out)
{
    if (!want_scalar(L, n, "trace"))
        return false;
    bool binary = g_str_has_suffix(n->value, ".oracleGeneral") ||
                  g_str_has_suffix(n->value, ".oracleGeneral.bin");
    if (fmt != NULL) {
        if (!want_scalar(L, fmt, "format"))
            return false;
        if (strcmp(fmt->value, "oracleGeneral") != 0 && strcmp(fmt->value, "text") != 0)
            return fail(L, fmt, "format: '%s' is not text or oracleGeneral", fmt->value);
        binary = strcmp(fmt->value, "oracleGeneral") == 0;
    }
    char *path = L->sc->dir != NULL && !g_path_is_absolute(n->value)
                     ? g_build_filename(L->sc->dir, n->value, NULL)
                     : g_strdup(n->value);
    gchar *text = NULL;
    gsize len = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, &len, &err)) {
        fail(L, n, "trace: %s", err->message);
        g_error_free(err);
        g_free(path);
        return false;
    }
    GArray *a = g_array_new(FALSE, FALSE, sizeof(struct sim_ref));
    bool ok = true;
    unsigned line = 1;
    *binary_out = binary;
    if (binary) {
        ok = oracle_general(L, path, text, len, at, a);
        len = 0; /* no text to read */
    }
    for (char *p = text, *nl; ok && p < text + len; p = nl + 1, line++) {
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (nl == NULL)
            nl = text + len;
        char *ln = g_strndup(p, (gsize)(nl - p));
        g_strstrip(ln);
        if (ln[0] != '\0' && ln[0] != '#') {
            for (char *c = ln; *c; c++)
                if (*c == ',' || *c == '\t')
                    *c = ' ';
            gchar **f = g_strsplit_set(ln, " ", -1);
            guint nf = 0;
            for (guint i = 0; f[i] != NULL; i++)
                if (f[i][0] != '\0')
                    f[nf++] = f[i];
            struct sim_ref ref = {0};
            guint64 v = 0;
            bool hex = g_str_has_prefix(f[0], "0x") || g_str_has_prefix(f[0], "0X");
            if (!g_ascii_string_to_unsigned(
                    hex ? f[0] + 2 : f[0], hex ? 16 : 10, 0,
                    hex ? (1ull << 48) - 1 : ((1ull << 48) - 1) / L->sc->page_size, &v, NULL)) {
                g_set_error(&L->err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                            "%s:%u:1: '%s' is not a page number or an address (0x…) in the "
                            "48-bit address space",
                            path, line, f[0]);
                ok = false;
            } else if (nf > 2 || (nf == 2 && strcmp(f[1], "r") != 0 && strcmp(f[1], "w") != 0 &&
                                  strcmp(f[1], "R") != 0 && strcmp(f[1], "W") != 0)) {
                g_set_error(&L->err, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                            "%s:%u:%u: after the address only r or w may follow", path, line,
                            (unsigned)(strstr(p, f[nf > 1 ? 1 : 0]) - p) + 1);
                ok = false;
            } else {
                ref.addr = hex ? v : v * L->sc->page_size;
                ref.write = nf == 2 && (f[1][0] == 'w' || f[1][0] == 'W');
                g_array_append_val(a, ref);
            }
            f[nf] = NULL;
            g_strfreev(f);
        }
        g_free(ln);
    }
    g_free(text);
    g_free(path);
    if (ok && a->len == 0) {
        fail(L, n, "trace: the file holds no references");
        ok = false;
    }
    if (!ok) {
        g_array_free(a, TRUE);
        return false;
    }
    *out = a;
    return true;
}

/* Which keys each operation takes beyond task, do and expect. */
static const char *const *op_keys(enum sim_op op)
{
    static const char *const k_create[] = {"as", NULL};
    static const char *const k_destroy[] = {"container", NULL};
    static const char *const k_share[] = {"container", "with", "as", NULL};
    static const char *const k_revoke[] = {"container", "ref", NULL};
    static const char *const k_give[] = {"container", "to", "as", NULL};
    static const char *const k_lock[] = {"container", "duration", NULL};
    /* SCENARIO.md lists duration for lock / unlock together; an unlock ends
     * the lease now, whatever duration it names. */
    static const char *const k_unlock[] = {"container", "duration", NULL};
    static const char *const k_alloc[] = {"container", "start",        "count",
                                          "flags",     "expect_count", NULL};
    static const char *const k_map[] = {"container",     "start",        "count", "at", "flags",
                                        "expect_mapped", "expect_count", "all",   NULL};
    static const char *const k_copy[] = {
        "src",   "src_start", "src_frames",         "dest", "dest_start", "dest_frames",
        "count", "flags",     "expect_frame_error", NULL};
    static const char *const k_with[] = {"count", "with", "as", "weak", NULL};
    static const char *const k_from[] = {"source", "start", "count", "with", "as", "weak", NULL};
    static const char *const k_gather[] = {"source", "frames", "with", "as", "weak", NULL};
    static const char *const k_release[] = {"container", "frames", NULL};
    static const char *const k_write[] = {"at", "bytes", "pattern", "data", NULL};
    static const char *const k_read[] = {"at", "bytes", "expect_pattern", "expect_data", NULL};
    static const char *const k_advance[] = {"time", NULL};
    static const char *const k_kill[] = {NULL};
    static const char *const k_reclaim[] = {"container", "start", "count", NULL};
    static const char *const k_get_control[] = {"as", NULL};
    static const char *const k_set_guarantee[] = {"control", "target",     "frames",
                                                  "extra",   "swap_quota", NULL};
    static const char *const k_swap_out[] = {"container", "start", "count", "as", NULL};
    static const char *const k_swap_in[] = {"ids", "container", "start", "expect_count", NULL};
    static const char *const k_pressure[] = {"frames", "expect_count", NULL};
    static const char *const k_start[] = {NULL};
    static const char *const k_mmap[] = {"at",     "bytes",     "kind",  "file",
                                         "offset", "container", "start", NULL};
    static const char *const k_munmap[] = {"at", "bytes", NULL};
    static const char *const k_access[] = {"region", "pattern",     "alpha",
                                           "count",  "write_ratio", NULL};
    static const char *const k_replay[] = {"trace", "format", "at", NULL};
    static const char *const k_transfer[] = {"container", "start", "count", "offset",
                                             "strategy",  "at",    NULL};
    switch (op) {
    case OP_CREATE:
        return k_create;
    case OP_DESTROY:
        return k_destroy;
    case OP_SHARE:
        return k_share;
    case OP_REVOKE:
        return k_revoke;
    case OP_GIVE:
        return k_give;
    case OP_LOCK:
        return k_lock;
    case OP_UNLOCK:
        return k_unlock;
    case OP_ALLOCATE:
    case OP_DEALLOCATE:
        return k_alloc;
    case OP_MAP:
        return k_map;
    case OP_COPY:
        return k_copy;
    case OP_CREATE_WITH:
        return k_with;
    case OP_CREATE_FROM:
        return k_from;
    case OP_CREATE_GATHER:
        return k_gather;
    case OP_RELEASE_DATA:
        return k_release;
    case OP_WRITE:
        return k_write;
    case OP_READ:
        return k_read;
    case OP_ADVANCE:
        return k_advance;
    case OP_KILL:
        return k_kill;
    case OP_RECLAIM:
        return k_reclaim;
    case OP_GET_CONTROL:
        return k_get_control;
    case OP_SET_GUARANTEE:
        return k_set_guarantee;
    case OP_SWAP_OUT:
        return k_swap_out;
    case OP_SWAP_IN:
    case OP_SWAP_RECOVER:
        return k_swap_in;
    case OP_PRESSURE:
        return k_pressure;
    case OP_START:
        return k_start;
    case OP_MMAP:
        return k_mmap;
    case OP_MUNMAP:
        return k_munmap;
    case OP_ACCESS:
        return k_access;
    case OP_REPLAY:
        return k_replay;
    case OP_READ_INTO:
    case OP_WRITE_FROM:
        return k_transfer;
    default:
        return NULL;
    }
}

static void step_free(struct sim_step *s)
{
    if (s == NULL)
        return;
    if (s->trace != NULL)
        g_array_free(s->trace, TRUE);
    if (s->frames)
        g_array_free(s->frames, TRUE);
    if (s->src_frames)
        g_array_free(s->src_frames, TRUE);
    if (s->dest_frames)
        g_array_free(s->dest_frames, TRUE);
    g_free(s->data);
    if (s->lanes != NULL) {
        for (guint i = 0; i < s->lanes->len; i++) {
            struct sim_lane *l = g_ptr_array_index(s->lanes, i);
            g_ptr_array_free(l->steps, TRUE);
            g_free(l);
        }
        g_ptr_array_free(s->lanes, TRUE);
    }
    g_free(s);
}

/* The argument KEY of STEP (required unless OPTIONAL) read by FN. */
#define ARG(key, optional, call)                                                                   \
    do {                                                                                           \
        const struct sim_ynode *v_ = sim_yaml_get(n, key);                                         \
        if (v_ == NULL && !(optional)) {                                                           \
            fail(L, n, "do: %s needs '%s'", sim_op_names[s->op], key);                             \
            goto bad;                                                                              \
        }                                                                                          \
        if (v_ != NULL && !(call))                                                                 \
            goto bad;                                                                              \
    } while (0)
#define V v_

static bool use_cap(struct loader *L, const struct sim_ynode *n, const char *key, int task, int *id)
{
    const struct sim_ynode *v = sim_yaml_get(n, key);
    if (!get_name(L, v, key, id))
        return false;
    if (task >= 0 && !bound(L->caps, task, *id))
        return fail(L, v, "task '%s' has bound no capability named '%s' before this step",
                    ((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, task))->name, v->value);
    return true;
}

/* Parse one step.  LANE_TASK >= 0 inside a parallel block.  Bindings are
 * applied as the step is read; inside a parallel block the uses are
 * checked after all of the block's bindings (see parse_parallel). */
static struct sim_step *parse_step(struct loader *L, const struct sim_ynode *n, int lane_task,
                                   bool check_uses);

static bool parse_steps(struct loader *L, const struct sim_ynode *list, int lane_task,
                        bool check_uses, GPtrArray *out)
{
    if (list->kind != SIM_Y_SEQ)
        return fail(L, list, "steps must be a list, not %s", kind_name(list));
    for (size_t i = 0; i < list->n; i++) {
        struct sim_step *s = parse_step(L, list->items[i], lane_task, check_uses);
        if (s == NULL)
            return false;
        g_ptr_array_add(out, s);
    }
    return true;
}

static struct sim_step *parse_parallel(struct loader *L, const struct sim_ynode *n)
{
    const struct sim_ynode *block = sim_yaml_get(n, "parallel");
    if (n->n != 2)
        return fail(L, n, "a parallel step holds only 'parallel'"), NULL;
    if (block->kind != SIM_Y_MAP)
        return fail(L, block, "parallel must map task names to lists of steps"), NULL;
    struct sim_step *s = g_new0(struct sim_step, 1);
    s->line = n->line;
    s->col = n->col;
    s->op = OP_PARALLEL;
    s->task = -1;
    s->lanes = g_ptr_array_new();
    /* Bindings of the whole block first, then the uses: the order of steps
     * across lanes is the scheduler's, so any binding in the block counts. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i + 1 < block->n; i += 2) {
            int task;
            if (!get_task(L, block->items[i], "parallel", &task))
                goto bad;
            for (size_t j = 0; j < i; j += 2)
                if (strcmp(block->items[j]->value, block->items[i]->value) == 0) {
                    fail(L, block->items[i], "task '%s' has two lanes in one parallel block",
                         block->items[i]->value);
                    goto bad;
                }
            GPtrArray *steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
            bool ok = parse_steps(L, block->items[i + 1], task, pass == 1, steps);
            if (pass == 1 && ok) {
                struct sim_lane *lane = g_new0(struct sim_lane, 1);
                lane->task = task;
                lane->steps = steps;
                g_ptr_array_add(s->lanes, lane);
            } else {
                g_ptr_array_free(steps, TRUE);
            }
            if (!ok)
                goto bad;
        }
    }
    return s;
bad:
    step_free(s);
    return NULL;
}

static struct sim_step *parse_step(struct loader *L, const struct sim_ynode *n, int lane_task,
                                   bool check_uses)
{
    if (n->kind != SIM_Y_MAP)
        return fail(L, n, "a step must be a mapping, not %s", kind_name(n)), NULL;
    if (sim_yaml_get(n, "parallel") != NULL) {
        if (lane_task >= 0)
            return fail(L, n, "parallel blocks do not nest"), NULL;
        return parse_parallel(L, n);
    }
    const struct sim_ynode *dn = sim_yaml_get(n, "do");
    if (dn == NULL)
        return fail(L, n, "a step needs 'do' (the operation)"), NULL;
    if (!want_scalar(L, dn, "do"))
        return NULL;
    struct sim_step *s = g_new0(struct sim_step, 1);
    s->line = n->line;
    s->col = n->col;
    s->other = -1;
    s->container = s->src = s->dest = s->as = s->weak = s->ref = NO_NAME;
    s->pattern = -1;
    s->data_store = -1;
    s->op = OP_COUNT;
    for (int o = 0; o < OP_PARALLEL; o++)
        if (strcmp(sim_op_names[o], dn->value) == 0)
            s->op = (enum sim_op)o;
    if (s->op == OP_COUNT) {
        fail(L, dn, "unknown operation '%s'", dn->value);
        goto bad;
    }
    /* Keys: the common ones plus the operation's. */
    const char *const *own = op_keys(s->op);
    const char *allowed[24];
    size_t na = 0;
    allowed[na++] = "task";
    allowed[na++] = "do";
    allowed[na++] = "expect";
    allowed[na++] = "measure";
    for (; *own != NULL; own++)
        allowed[na++] = *own;
    allowed[na] = NULL;
    char what[64];
    snprintf(what, sizeof what, "a '%s' step", sim_op_names[s->op]);
    if (!check_keys(L, n, what, allowed))
        goto bad;

    const struct sim_ynode *tn = sim_yaml_get(n, "task");
    s->task = lane_task;
    if (tn != NULL) {
        int t;
        if (!get_task(L, tn, "task", &t))
            goto bad;
        if (lane_task >= 0 && t != lane_task) {
            fail(L, tn, "a step in task '%s''s lane names task '%s'",
                 ((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, lane_task))->name,
                 tn->value);
            goto bad;
        }
        s->task = t;
    } else if (lane_task < 0 && s->op != OP_ADVANCE) {
        fail(L, n, "a step needs 'task' (the task that acts)");
        goto bad;
    }
    const struct sim_ynode *mn = sim_yaml_get(n, "measure");
    if (mn != NULL && !get_bool(L, mn, "measure", &s->measure))
        goto bad;
    const struct sim_ynode *en = sim_yaml_get(n, "expect");
    s->expect = PM_OK;
    if (en != NULL) {
        if (!want_scalar(L, en, "expect"))
            goto bad;
        if (!pm_error_parse(en->value, &s->expect)) {
            fail(L, en, "expect: '%s' is neither ok nor an error name (EINVAL, ENOMEM, …)",
                 en->value);
            goto bad;
        }
    }

    int t = s->task;
    bool uses = check_uses || lane_task < 0;
    switch (s->op) {
    case OP_CREATE:
        ARG("as", false, get_name(L, V, "as", &s->as));
        break;
    case OP_DESTROY:
    case OP_UNLOCK:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("duration", true, get_time(L, V, "duration", &s->duration));
        break;
    case OP_SHARE:
    case OP_GIVE: {
        const char *key = s->op == OP_SHARE ? "with" : "to";
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG(key, false, get_task(L, V, key, &s->other));
        ARG("as", false, get_name(L, V, "as", &s->as));
        break;
    }
    case OP_REVOKE:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("ref", false, get_name(L, V, "ref", &s->ref));
        if (uses && !bound(L->refs, t, s->ref)) {
            fail(L, sim_yaml_get(n, "ref"), "task '%s' never shared anything as '%s'",
                 ((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, t))->name,
                 sim_yaml_get(n, "ref")->value);
            goto bad;
        }
        break;
    case OP_LOCK:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("duration", false, get_time(L, V, "duration", &s->duration));
        break;
    case OP_ALLOCATE:
    case OP_DEALLOCATE:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        ARG("flags", true,
            get_flags(L, V, s->op == OP_ALLOCATE ? alloc_flags : dealloc_flags, &s->flags));
        ARG("expect_count", true, get_uint(L, V, "expect_count", UINT32_MAX, &s->expect_count));
        s->has_expect_count = sim_yaml_get(n, "expect_count") != NULL;
        break;
    case OP_MAP:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        ARG("at", false, get_uint(L, V, "at", (1ull << 48) - 1, &s->at));
        s->flags = CONT_MAP_READ | CONT_MAP_WRITE;
        ARG("flags", true, get_flags(L, V, map_flags, &s->flags));
        /* all: true (an addition): map again from where a message stopped
         * until every frame is mapped, as a client does. */
        ARG("all", true, get_bool(L, V, "all", &s->map_all));
        ARG("expect_mapped", true, get_uint(L, V, "expect_mapped", UINT32_MAX, &s->expect_mapped));
        s->has_expect_mapped = sim_yaml_get(n, "expect_mapped") != NULL;
        /* A map returns a count too (frames mapped): expect_count says the same. */
        ARG("expect_count", true, get_uint(L, V, "expect_count", UINT32_MAX, &s->expect_count));
        s->has_expect_count = sim_yaml_get(n, "expect_count") != NULL;
        if (s->count > ((1ull << 48) - s->at) / L->sc->page_size) {
            fail(L, sim_yaml_get(n, "at"), "at + count pages goes past the 48-bit address space");
            goto bad;
        }
        if (s->at % L->sc->page_size != 0) {
            fail(L, sim_yaml_get(n, "at"), "at: 0x%llx is not aligned on the page size (%llu)",
                 (unsigned long long)s->at, (unsigned long long)L->sc->page_size);
            goto bad;
        }
        break;
    case OP_COPY:
        ARG("src", false, use_cap(L, n, "src", uses ? t : -1, &s->src));
        ARG("dest", false, use_cap(L, n, "dest", uses ? t : -1, &s->dest));
        ARG("src_start", true, get_uint(L, V, "src_start", UINT32_MAX, &s->src_start));
        ARG("dest_start", true, get_uint(L, V, "dest_start", UINT32_MAX, &s->dest_start));
        ARG("src_frames", true, get_frames(L, V, "src_frames", &s->src_frames));
        ARG("dest_frames", true, get_frames(L, V, "dest_frames", &s->dest_frames));
        ARG("count", true, get_uint(L, V, "count", UINT32_MAX, &s->count));
        ARG("flags", true, get_flags(L, V, copy_flags, &s->flags));
        ARG("expect_frame_error", true,
            get_uint(L, V, "expect_frame_error", UINT32_MAX, &s->expect_frame_error));
        s->has_expect_frame_error = sim_yaml_get(n, "expect_frame_error") != NULL;
        s->has_count = sim_yaml_get(n, "count") != NULL;
        if (s->src_frames && sim_yaml_get(n, "src_start")) {
            fail(L, sim_yaml_get(n, "src_start"), "give src_start or src_frames, not both");
            goto bad;
        }
        if (s->dest_frames && sim_yaml_get(n, "dest_start")) {
            fail(L, sim_yaml_get(n, "dest_start"), "give dest_start or dest_frames, not both");
            goto bad;
        }
        {
            GArray *lists[2] = {s->src_frames, s->dest_frames};
            for (int i = 0; i < 2; i++) {
                if (lists[i] == NULL)
                    continue;
                if (!s->has_count) {
                    s->count = lists[i]->len;
                    s->has_count = true;
                } else if (s->count != lists[i]->len) {
                    fail(L, n, "count %llu does not match a frame list of %u",
                         (unsigned long long)s->count, lists[i]->len);
                    goto bad;
                }
            }
            if (!s->has_count) {
                fail(L, n, "do: copy needs 'count' (or a frame list)");
                goto bad;
            }
        }
        break;
    case OP_CREATE_WITH:
    case OP_CREATE_FROM:
    case OP_CREATE_GATHER:
        if (s->op != OP_CREATE_WITH)
            ARG("source", false, use_cap(L, n, "source", uses ? t : -1, &s->src));
        if (s->op == OP_CREATE_GATHER) {
            ARG("frames", false, get_frames(L, V, "frames", &s->frames));
            s->count = s->frames->len;
        } else {
            ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        }
        if (s->op == OP_CREATE_FROM)
            ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("with", false, get_task(L, V, "with", &s->other));
        ARG("as", false, get_name(L, V, "as", &s->as));
        ARG("weak", false, get_name(L, V, "weak", &s->weak));
        break;
    case OP_RELEASE_DATA:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("frames", false, get_frames(L, V, "frames", &s->frames));
        break;
    case OP_WRITE:
    case OP_READ: {
        ARG("at", false, get_uint(L, V, "at", (1ull << 48) - 1, &s->at));
        const char *pk = s->op == OP_WRITE ? "pattern" : "expect_pattern";
        const char *dk = s->op == OP_WRITE ? "data" : "expect_data";
        const struct sim_ynode *pn = sim_yaml_get(n, pk), *dn2 = sim_yaml_get(n, dk);
        if (pn != NULL && dn2 != NULL) {
            fail(L, dn2, "give %s or %s, not both", pk, dk);
            goto bad;
        }
        uint64_t pat;
        if (pn != NULL) {
            if (!get_uint(L, pn, pk, 255, &pat))
                goto bad;
            s->pattern = (int)pat;
        }
        if (dn2 != NULL) {
            if (dn2->kind == SIM_Y_MAP && s->op == OP_READ) {
                static const char *const dkeys[] = {"store", "offset", NULL};
                const struct sim_ynode *sv, *ov;
                if (!check_keys(L, dn2, "expect_data", dkeys))
                    goto bad;
                if ((sv = sim_yaml_get(dn2, "store")) == NULL) {
                    fail(L, dn2, "expect_data needs 'store' (a store task)");
                    goto bad;
                }
                if (!get_task(L, sv, "store", &s->data_store))
                    goto bad;
                if (((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, s->data_store))
                        ->server != 2) {
                    fail(L, sv, "store: task '%s' is not a store (server: store)", sv->value);
                    goto bad;
                }
                if ((ov = sim_yaml_get(dn2, "offset")) != NULL &&
                    !get_size(L, ov, "offset", 1ull << 40, &s->data_offset))
                    goto bad;
                if (sim_yaml_get(n, "bytes") == NULL) {
                    fail(L, n, "do: read with expect_data from a store needs 'bytes'");
                    goto bad;
                }
                ARG("bytes", false, get_size(L, V, "bytes", 1ull << 32, &s->bytes));
                break;
            }
            if (dn2->kind != SIM_Y_SCALAR) {
                fail(L, dn2, "%s must be a string", dk);
                goto bad;
            }
            if (dn2->value[0] == '\0') {
                fail(L, dn2, "%s must not be empty", dk);
                goto bad;
            }
            s->data = g_strdup(dn2->value);
        }
        ARG("bytes", s->data != NULL && s->data[0] != '\0',
            get_size(L, V, "bytes", 1ull << 32, &s->bytes));
        if (sim_yaml_get(n, "bytes") == NULL)
            s->bytes = strlen(s->data);
        if (s->bytes == 0) {
            fail(L, n, "do: %s of 0 bytes", sim_op_names[s->op]);
            goto bad;
        }
        if (s->op == OP_WRITE && pn == NULL && dn2 == NULL) {
            fail(L, n, "do: write needs 'pattern' (a byte) or 'data' (a string)");
            goto bad;
        }
        if (s->at + s->bytes > (1ull << 48)) {
            fail(L, sim_yaml_get(n, "at"), "at + bytes goes past the 48-bit address space");
            goto bad;
        }
        break;
    }
    case OP_ADVANCE:
        ARG("time", false, get_time(L, V, "time", &s->duration));
        break;
    case OP_RECLAIM:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        break;
    case OP_GET_CONTROL:
        ARG("as", false, get_name(L, V, "as", &s->as));
        break;
    case OP_SET_GUARANTEE:
        ARG("control", false, use_cap(L, n, "control", uses ? t : -1, &s->container));
        ARG("target", false, get_task(L, V, "target", &s->other));
        ARG("frames", false, get_uint(L, V, "frames", UINT32_MAX, &s->count));
        ARG("extra", true, get_bool(L, V, "extra", &s->extra));
        s->has_extra = sim_yaml_get(n, "extra") != NULL;
        ARG("swap_quota", true, get_uint(L, V, "swap_quota", UINT32_MAX, &s->quota));
        s->has_quota = sim_yaml_get(n, "swap_quota") != NULL;
        break;
    case OP_SWAP_OUT:
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        ARG("as", false, get_name(L, V, "as", &s->as));
        break;
    case OP_SWAP_IN:
    case OP_SWAP_RECOVER:
        ARG("ids", false, get_name(L, V, "ids", &s->ids));
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("expect_count", true, get_uint(L, V, "expect_count", UINT32_MAX, &s->expect_count));
        s->has_expect_count = sim_yaml_get(n, "expect_count") != NULL;
        if (uses && !bound(L->swaps, t, s->ids)) {
            fail(L, sim_yaml_get(n, "ids"), "task '%s' never swapped anything out as '%s'",
                 ((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, t))->name,
                 sim_yaml_get(n, "ids")->value);
            goto bad;
        }
        break;
    case OP_MMAP:
    case OP_MUNMAP:
        ARG("at", false, get_uint(L, V, "at", (1ull << 48) - 1, &s->at));
        ARG("bytes", false, get_size(L, V, "bytes", 1ull << 48, &s->bytes));
        if (!page_range(L, n, s))
            goto bad;
        if (s->op == OP_MMAP) {
            const struct sim_ynode *k = sim_yaml_get(n, "kind");
            if (k != NULL && (!want_scalar(L, k, "kind") || (strcmp(k->value, "anonymous") != 0 &&
                                                             strcmp(k->value, "file") != 0))) {
                if (L->err == NULL)
                    fail(L, k, "kind: '%s' is not anonymous or file", k->value);
                goto bad;
            }
            bool file = k != NULL && strcmp(k->value, "file") == 0;
            const struct sim_ynode *fk = sim_yaml_get(n, "file");
            if (!file && (fk != NULL || sim_yaml_get(n, "offset") != NULL)) {
                fail(L, fk != NULL ? fk : sim_yaml_get(n, "offset"),
                     "file and offset belong to kind: file");
                goto bad;
            }
            if (file) {
                if (fk == NULL) {
                    fail(L, k, "kind: file needs 'file' (a file server task)");
                    goto bad;
                }
                if (!get_task(L, fk, "file", &s->other))
                    goto bad;
                if (((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, s->other))->server !=
                    1) {
                    fail(L, fk, "file: task '%s' is not a file server (server: file)", fk->value);
                    goto bad;
                }
                ARG("offset", true, get_size(L, V, "offset", 1ull << 40, &s->offset));
                if (s->offset % L->sc->page_size != 0) {
                    fail(L, sim_yaml_get(n, "offset"), "offset is not a multiple of the page size");
                    goto bad;
                }
            }
            /* An addition: the data is already in a container of the task
             * (SPEC 8: mapped eagerly). */
            const struct sim_ynode *ck = sim_yaml_get(n, "container");
            if (file && ck != NULL) {
                fail(L, ck, "container belongs to kind: anonymous (data already in a container)");
                goto bad;
            }
            if (ck == NULL && sim_yaml_get(n, "start") != NULL) {
                fail(L, sim_yaml_get(n, "start"), "start goes with container");
                goto bad;
            }
            ARG("container", true, use_cap(L, n, "container", uses ? t : -1, &s->container));
            ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        }
        if (!has_pager(L, n, t))
            goto bad;
        break;
    case OP_ACCESS: {
        const struct sim_ynode *rg = sim_yaml_get(n, "region");
        if (rg == NULL) {
            fail(L, n, "do: access needs 'region' ({ at, bytes })");
            goto bad;
        }
        static const char *const rkeys[] = {"at", "bytes", NULL};
        if (!check_keys(L, rg, "region", rkeys))
            goto bad;
        const struct sim_ynode *V;
        if ((V = sim_yaml_get(rg, "at")) == NULL || !get_uint(L, V, "at", (1ull << 48) - 1, &s->at))
            goto bad_region;
        if ((V = sim_yaml_get(rg, "bytes")) == NULL ||
            !get_size(L, V, "bytes", 1ull << 48, &s->bytes))
            goto bad_region;
        if (!page_range(L, rg, s))
            goto bad;
        s->pattern_kind = PAT_SEQUENTIAL;
        if ((V = sim_yaml_get(n, "pattern")) != NULL) {
            static const char *const pats[] = {"sequential", "uniform", "zipf", "loop"};
            size_t i = 0;
            if (!want_scalar(L, V, "pattern"))
                goto bad;
            while (i < G_N_ELEMENTS(pats) && strcmp(pats[i], V->value) != 0)
                i++;
            if (i == G_N_ELEMENTS(pats)) {
                fail(L, V, "pattern: '%s' is not sequential, uniform, zipf or loop", V->value);
                goto bad;
            }
            s->pattern_kind = (int)i;
        }
        s->alpha = 1.0;
        if ((V = sim_yaml_get(n, "alpha")) != NULL &&
            !get_real(L, V, "alpha", 0.0, 100.0, &s->alpha))
            goto bad;
        if (V != NULL && s->pattern_kind != PAT_ZIPF) {
            fail(L, V, "alpha is the skew of a zipf pattern only");
            goto bad;
        }
        s->count = s->bytes / L->sc->page_size;
        if ((V = sim_yaml_get(n, "count")) != NULL &&
            !get_uint(L, V, "count", 1ull << 32, &s->count))
            goto bad;
        if (s->count == 0) {
            fail(L, V != NULL ? V : n, "count: an access stream of no references");
            goto bad;
        }
        if ((V = sim_yaml_get(n, "write_ratio")) != NULL &&
            !get_real(L, V, "write_ratio", 0.0, 1.0, &s->write_ratio))
            goto bad;
        if (!has_pager(L, n, t))
            goto bad;
        break;
    bad_region:
        if (L->err == NULL)
            fail(L, rg, "region needs 'at' and 'bytes'");
        goto bad;
    }
    case OP_REPLAY:
        ARG("at", true, get_uint(L, V, "at", (1ull << 48) - 1, &s->at));
        if (s->at % L->sc->page_size != 0) {
            fail(L, sim_yaml_get(n, "at"), "at is not a multiple of the page size");
            goto bad;
        }
        ARG("trace", false,
            get_trace(L, V, sim_yaml_get(n, "format"), s->at, &s->trace, &s->binary_trace));
        if (sim_yaml_get(n, "at") != NULL && !s->binary_trace) {
            fail(L, sim_yaml_get(n, "at"),
                 "at places an oracleGeneral trace's objects; a text trace names its addresses");
            goto bad;
        }
        if (!has_pager(L, n, t))
            goto bad;
        break;
    case OP_READ_INTO:
    case OP_WRITE_FROM: {
        const struct sim_task_def *d = t >= 0 ? g_ptr_array_index(L->sc->tasks, t) : NULL;
        if (d != NULL && d->server != 1) {
            fail(L, sim_yaml_get(n, "task"),
                 "do: %s is done by a file server (SCENARIO.md): task '%s' is not one",
                 sim_op_names[s->op], d->name);
            goto bad;
        }
        ARG("container", false, use_cap(L, n, "container", uses ? t : -1, &s->container));
        ARG("start", true, get_uint(L, V, "start", UINT32_MAX, &s->start));
        ARG("count", false, get_uint(L, V, "count", UINT32_MAX, &s->count));
        ARG("offset", true, get_size(L, V, "offset", 1ull << 40, &s->offset));
        if (s->offset % L->sc->page_size != 0) {
            fail(L, sim_yaml_get(n, "offset"), "offset is not a multiple of the page size");
            goto bad;
        }
        const struct sim_ynode *sv = sim_yaml_get(n, "strategy");
        s->strategy = STRAT_LOGICAL_COPY;
        if (sv != NULL) {
            int k = 0;
            if (!want_scalar(L, sv, "strategy"))
                goto bad;
            while (k < STRAT_COUNT && strcmp(sim_strategy_names[k], sv->value) != 0)
                k++;
            if (k == STRAT_COUNT) {
                fail(L, sv,
                     "strategy: '%s' is not logical-copy, physical-copy, shared or direct-map",
                     sv->value);
                goto bad;
            }
            s->strategy = k;
        }
        ARG("at", true, get_uint(L, V, "at", (1ull << 48) - 1, &s->at));
        s->has_at = sim_yaml_get(n, "at") != NULL;
        if (s->has_at && s->at % L->sc->page_size != 0) {
            fail(L, sim_yaml_get(n, "at"), "at is not a multiple of the page size");
            goto bad;
        }
        break;
    }
    case OP_PRESSURE:
        ARG("frames", false, get_uint(L, V, "frames", UINT32_MAX, &s->count));
        ARG("expect_count", true, get_uint(L, V, "expect_count", UINT32_MAX, &s->expect_count));
        s->has_expect_count = sim_yaml_get(n, "expect_count") != NULL;
        break;
    default:
        break;
    }
    if (s->op == OP_ADVANCE && s->task < 0 && lane_task >= 0)
        s->task = lane_task;

    /* Bindings (capability names of the acting task or of the other one;
     * share references of the acting task). */
    if (s->op == OP_CREATE || s->op == OP_CREATE_WITH || s->op == OP_CREATE_FROM ||
        s->op == OP_CREATE_GATHER)
        bind(L->caps, t, s->as);
    if (s->op == OP_GET_CONTROL)
        bind(L->caps, t, s->as);
    if (s->op == OP_SWAP_OUT)
        bind(L->swaps, t, s->as);
    if (s->op == OP_SHARE || s->op == OP_GIVE)
        bind(L->caps, s->other, s->as);
    if (s->op == OP_SHARE)
        bind(L->refs, t, s->as);
    if (s->weak != NO_NAME) {
        bind(L->caps, s->other, s->weak);
        bind(L->refs, t, s->weak);
    }
    return s;
bad:
    step_free(s);
    return NULL;
}

/* ---- the file --------------------------------------------------------------- */

static bool parse_machine(struct loader *L, const struct sim_ynode *m)
{
    static const char *const keys[] = {"frames", "page_size", "dma_frames", "map_items",
                                       "cost",   "swap",      "victim",     "return_deadline",
                                       NULL};
    if (!check_keys(L, m, "machine", keys))
        return false;
    struct sim_scenario *sc = L->sc;
    const struct sim_ynode *v;
    if ((v = sim_yaml_get(m, "cost")) != NULL) {
        /* A built-in table's name or a file path (relative to the scenario). */
        if (!want_scalar(L, v, "machine.cost"))
            return false;
        GError *e = NULL;
        if (!sim_cost_table_find(v->value, sc->dir, &sc->cost, &e)) {
            fail(L, v, "machine.cost: %s", e->message);
            g_error_free(e);
            return false;
        }
    }
    if ((v = sim_yaml_get(m, "swap")) != NULL && !sim_yaml_is_null(v)) {
        static const char *const swap_keys[] = {"path", "frames", NULL};
        if (!check_keys(L, v, "machine.swap", swap_keys))
            return false;
        const struct sim_ynode *x;
        if ((x = sim_yaml_get(v, "path")) != NULL && !sim_yaml_is_null(x)) {
            if (!want_scalar(L, x, "machine.swap.path"))
                return false;
            if (L->sc->dir != NULL && !g_path_is_absolute(x->value))
                sc->swap_path = g_build_filename(L->sc->dir, x->value, NULL);
            else
                sc->swap_path = g_strdup(x->value);
        }
        if ((x = sim_yaml_get(v, "frames")) != NULL) {
            if (!get_uint(L, x, "machine.swap.frames", 1ull << 32, &sc->swap_frames))
                return false;
            if (sc->swap_frames == 0)
                return fail(L, x, "machine.swap.frames: swap needs at least one frame");
        }
    }
    if ((v = sim_yaml_get(m, "victim")) != NULL) {
        if (!want_scalar(L, v, "machine.victim"))
            return false;
        if (pm_victim_policy_find(v->value) == NULL) {
            GString *ok = g_string_new(NULL);
            for (const struct pm_victim_policy *const *p = pm_victim_policies(); *p; p++)
                g_string_append_printf(ok, "%s%s", ok->len ? ", " : "", (*p)->name);
            fail(L, v, "unknown victim policy '%s' (known: %s)", v->value, ok->str);
            g_string_free(ok, TRUE);
            return false;
        }
        sc->victim = g_strdup(v->value);
    }
    if ((v = sim_yaml_get(m, "return_deadline")) != NULL) {
        if (!get_time(L, v, "machine.return_deadline", &sc->return_deadline))
            return false;
        if (sc->return_deadline == 0)
            return fail(L, v, "machine.return_deadline must be more than 0");
    }
    sc->page_size = 4096;
    if ((v = sim_yaml_get(m, "page_size")) != NULL) {
        if (!get_size(L, v, "page_size", 1ull << 30, &sc->page_size))
            return false;
        if (sc->page_size < 4096 || (sc->page_size & (sc->page_size - 1)) != 0)
            return fail(L, v, "page_size: %llu is not a power of two of at least 4096",
                        (unsigned long long)sc->page_size);
    }
    if ((v = sim_yaml_get(m, "frames")) == NULL)
        return fail(L, m, "machine needs 'frames' (physical frames in the pool)");
    uint64_t frames;
    if (!get_uint(L, v, "frames", 1u << 24, &frames))
        return false; /* 16 M frames: 64 GiB of 4 KiB pages, metadata and all */
    if (frames == 0)
        return fail(L, v, "frames: a machine needs at least one frame");
    if (frames * sc->page_size > (1ull << 40))
        return fail(L, v,
                    "frames: %llu frames of %llu bytes is more than the 1 TiB a simulated "
                    "machine may have",
                    (unsigned long long)frames, (unsigned long long)sc->page_size);
    sc->frames = (uint32_t)frames;
    uint64_t x = 0;
    if ((v = sim_yaml_get(m, "dma_frames")) != NULL) {
        if (!get_uint(L, v, "dma_frames", UINT32_MAX, &x))
            return false;
        if (x > frames)
            return fail(L, v, "dma_frames: %llu is more than the %llu frames",
                        (unsigned long long)x, (unsigned long long)frames);
        sc->dma_frames = (uint32_t)x;
    }
    sc->map_items = 31;
    if ((v = sim_yaml_get(m, "map_items")) != NULL) {
        if (!get_uint(L, v, "map_items", 31, &x))
            return false;
        if (x == 0)
            return fail(L, v, "map_items: a message carries at least one item");
        sc->map_items = (unsigned)x;
    }
    return true;
}

/* server: file | store, with store, backing, behaviour and keep_mappings. */
static bool parse_server(struct loader *L, const struct sim_ynode *props, struct sim_task_def *d)
{
    const struct sim_ynode *v = sim_yaml_get(props, "server"), *x;
    d->store = -1;
    if (v != NULL) {
        if (!want_scalar(L, v, "server"))
            return false;
        if (strcmp(v->value, "file") == 0)
            d->server = 1;
        else if (strcmp(v->value, "store") == 0)
            d->server = 2;
        else
            return fail(L, v, "server: '%s' is not file or store", v->value);
    }
    if ((x = sim_yaml_get(props, "store")) != NULL && d->server != 1)
        return fail(L, x, "store: only a file server (server: file) has a store");
    if ((x = sim_yaml_get(props, "behaviour")) != NULL) {
        static const char *const names[] = {"honest", "garbage", "lock", "silent"};
        size_t i = 0;
        if (d->server != 1)
            return fail(L, x, "behaviour: only a file server (server: file) has one");
        if (!want_scalar(L, x, "behaviour"))
            return false;
        while (i < G_N_ELEMENTS(names) && strcmp(names[i], x->value) != 0)
            i++;
        if (i == G_N_ELEMENTS(names))
            return fail(L, x, "behaviour: '%s' is not honest, garbage, lock or silent", x->value);
        d->behaviour = (int)i;
    }
    if ((x = sim_yaml_get(props, "keep_mappings")) != NULL) {
        if (d->server != 1)
            return fail(L, x, "keep_mappings: only a file server (server: file) has them");
        if (!get_bool(L, x, "keep_mappings", &d->keep_mappings))
            return false;
    }
    x = sim_yaml_get(props, "backing");
    if (d->server == 2 && x == NULL)
        return fail(L, props,
                    "task '%s' is a store: it needs 'backing' ({ size, fill } or { path })",
                    d->name);
    if (x == NULL)
        return true;
    if (d->server != 2)
        return fail(L, x, "backing: only a store (server: store) has one");
    static const char *const keys[] = {"size", "fill", "path", NULL};
    if (x->kind != SIM_Y_MAP)
        return fail(L, x, "backing must be { size, fill } or { path }");
    if (!check_keys(L, x, "backing", keys))
        return false;
    const struct sim_ynode *y;
    if ((y = sim_yaml_get(x, "path")) != NULL) {
        if (!want_scalar(L, y, "backing.path"))
            return false;
        if (sim_yaml_get(x, "size") != NULL || sim_yaml_get(x, "fill") != NULL)
            return fail(L, y, "backing: give a path, or a size and fill, not both");
        d->backing_path = L->sc->dir != NULL && !g_path_is_absolute(y->value)
                              ? g_build_filename(L->sc->dir, y->value, NULL)
                              : g_strdup(y->value);
        if (!g_file_test(d->backing_path, G_FILE_TEST_IS_REGULAR))
            return fail(L, y, "backing.path: %s is not a file", d->backing_path);
        return true;
    }
    if ((y = sim_yaml_get(x, "size")) == NULL)
        return fail(L, x, "backing needs 'size' (or 'path')");
    if (!get_size(L, y, "backing.size", 1ull << 40, &d->backing_size))
        return false;
    d->backing_fill = g_strdup("pattern");
    if ((y = sim_yaml_get(x, "fill")) != NULL) {
        if (!want_scalar(L, y, "backing.fill"))
            return false;
        if (strcmp(y->value, "pattern") != 0 && strcmp(y->value, "zero") != 0)
            return fail(L, y, "backing.fill: '%s' is not pattern or zero", y->value);
        g_free(d->backing_fill);
        d->backing_fill = g_strdup(y->value);
    }
    return true;
}

/* pager: none, or { policy: NAME, frames: N }. */
static bool parse_pager(struct loader *L, const struct sim_ynode *v, struct sim_task_def *d)
{
    if (v->kind == SIM_Y_SCALAR && strcmp(v->value, "none") == 0) {
        d->no_pager = true;
        return true;
    }
    if (v->kind != SIM_Y_MAP)
        return fail(L, v, "pager: 'none' or { policy, frames, final_frames }");
    static const char *const keys[] = {"policy", "frames", "final_frames", NULL};
    if (!check_keys(L, v, "pager", keys))
        return false;
    const struct sim_ynode *x;
    if ((x = sim_yaml_get(v, "policy")) != NULL) {
        if (!want_scalar(L, x, "pager.policy"))
            return false;
        if (pm_evict_policy_find(x->value) == NULL) {
            GString *ok = g_string_new(NULL);
            for (const struct pm_evict_policy *const *p = pm_evict_policies(); *p; p++)
                g_string_append_printf(ok, "%s%s", ok->len ? ", " : "", (*p)->name);
            fail(L, x, "unknown eviction policy '%s' (known: %s)", x->value, ok->str);
            g_string_free(ok, TRUE);
            return false;
        }
        d->pager_policy = g_strdup(x->value);
    }
    if ((x = sim_yaml_get(v, "frames")) != NULL) {
        if (!get_uint(L, x, "pager.frames", UINT32_MAX, &d->pager_frames))
            return false;
        if (d->pager_frames == 0)
            return fail(L, x, "pager.frames: a pager needs at least one frame");
    }
    if ((x = sim_yaml_get(v, "final_frames")) != NULL) {
        if (!get_uint(L, x, "pager.final_frames", UINT32_MAX, &d->pager_final_frames))
            return false;
        if (d->pager_final_frames < 2)
            return fail(L, x,
                        "pager.final_frames: the final pager needs at least 2 frames (the "
                        "record a fault resolves, and one more)");
    }
    return true;
}

static bool parse_tasks(struct loader *L, const struct sim_ynode *t)
{
    if (t->kind != SIM_Y_MAP)
        return fail(L, t, "tasks must map task names to their properties, not %s", kind_name(t));
    static const char *const keys[] = {
        "guaranteed", "extra", "weight",     "pager",     "on_return",     "server", "store",
        "backing",    "start", "swap_quota", "behaviour", "keep_mappings", NULL};
    for (size_t i = 0; i + 1 < t->n; i += 2) {
        const struct sim_ynode *k = t->items[i], *props = t->items[i + 1];
        if (!want_scalar(L, k, "a task name"))
            return false;
        if (strchr(k->value, '.') != NULL)
            return fail(L, k, "task name '%s' must not contain '.' (report paths use it)",
                        k->value);
        if (g_hash_table_contains(L->task_ids, k->value))
            return fail(L, k, "task '%s' is declared twice", k->value);
        struct sim_task_def *d = g_new0(struct sim_task_def, 1);
        d->name = g_strdup(k->value);
        d->weight = 1;
        g_ptr_array_add(L->sc->tasks, d);
        g_hash_table_insert(L->task_ids, d->name, GINT_TO_POINTER(L->sc->tasks->len));
        g_ptr_array_add(L->caps, g_hash_table_new(g_direct_hash, g_direct_equal));
        g_ptr_array_add(L->refs, g_hash_table_new(g_direct_hash, g_direct_equal));
        g_ptr_array_add(L->swaps, g_hash_table_new(g_direct_hash, g_direct_equal));
        if (sim_yaml_is_null(props))
            continue;
        char what[128];
        snprintf(what, sizeof what, "task '%s'", d->name);
        if (!check_keys(L, props, what, keys))
            return false;
        const struct sim_ynode *v;
        if ((v = sim_yaml_get(props, "guaranteed")) != NULL &&
            !get_uint(L, v, "guaranteed", UINT32_MAX, &d->guaranteed))
            return false;
        if ((v = sim_yaml_get(props, "extra")) != NULL && !get_bool(L, v, "extra", &d->extra))
            return false;
        if ((v = sim_yaml_get(props, "weight")) != NULL) {
            if (!get_uint(L, v, "weight", UINT32_MAX, &d->weight))
                return false;
            if (d->weight == 0)
                return fail(L, v, "weight must be at least 1");
        }
        if ((v = sim_yaml_get(props, "pager")) != NULL && !parse_pager(L, v, d))
            return false;
        if ((v = sim_yaml_get(props, "on_return")) != NULL) {
            static const char *const answers[] = {"comply", "ignore", "slow", "unready"};
            if (!want_scalar(L, v, "on_return"))
                return false;
            size_t a = 0;
            while (a < G_N_ELEMENTS(answers) && strcmp(answers[a], v->value) != 0)
                a++;
            if (a == G_N_ELEMENTS(answers))
                return fail(L, v, "on_return: '%s' is not comply, ignore, slow or unready",
                            v->value);
            d->on_return = (enum sim_on_return)a;
        }
        if ((v = sim_yaml_get(props, "start")) != NULL) {
            bool now;
            if (!get_bool(L, v, "start", &now))
                return false;
            d->late = !now;
        }
        if ((v = sim_yaml_get(props, "swap_quota")) != NULL &&
            !get_uint(L, v, "swap_quota", UINT32_MAX, &d->swap_quota))
            return false;
        if (!parse_server(L, props, d))
            return false;
    }
    /* A file server's store: a task declared anywhere in the file. */
    for (size_t i = 0; i + 1 < t->n; i += 2) {
        const struct sim_ynode *props = t->items[i + 1], *v;
        struct sim_task_def *d = g_ptr_array_index(L->sc->tasks, i / 2);
        if (d->server != 1)
            continue;
        if ((v = sim_yaml_get(props, "store")) == NULL)
            return fail(L, props, "task '%s' is a file server: it needs 'store' (a store task)",
                        d->name);
        int st;
        if (!get_task(L, v, "store", &st))
            return false;
        if (((struct sim_task_def *)g_ptr_array_index(L->sc->tasks, st))->server != 2)
            return fail(L, v, "store: task '%s' is not a store (server: store)", v->value);
        d->store = st;
    }
    return true;
}

/* A size or a time with its unit ("64KiB", "1ms"), without reporting
 * anything: the two sets of suffixes do not overlap. */
static bool parse_unit_quietly(const char *v, uint64_t *out)
{
    const struct {
        const struct unit *units;
        size_t n;
    } sets[] = {{size_units, G_N_ELEMENTS(size_units)}, {time_units, G_N_ELEMENTS(time_units)}};
    for (size_t k = 0; k < G_N_ELEMENTS(sets); k++) {
        const char *suf;
        size_t digits;
        uint64_t mult;
        guint64 x;
        if (!split_unit(v, sets[k].units, sets[k].n, &digits, &mult, &suf) || *suf == '\0' ||
            digits == 0)
            continue;
        char *num = g_strndup(v, digits);
        bool ok = g_ascii_string_to_unsigned(num, 10, 0, UINT64_MAX / mult, &x, NULL);
        g_free(num);
        if (ok) {
            *out = x * mult;
            return true;
        }
    }
    return false;
}

static bool parse_expects(struct loader *L, const struct sim_ynode *e)
{
    if (e->kind != SIM_Y_MAP)
        return fail(L, e, "expect must map report paths to values, not %s", kind_name(e));
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (size_t i = 0; i + 1 < e->n; i += 2) {
        const struct sim_ynode *k = e->items[i], *v = e->items[i + 1];
        if (!want_scalar(L, k, "an expectation's path"))
            return false;
        for (size_t j = 0; j < i; j += 2)
            if (strcmp(e->items[j]->value, k->value) == 0)
                return fail(L, k, "'%s' appears twice in expect", k->value);
        struct sim_expect *x = g_new0(struct sim_expect, 1);
        g_ptr_array_add(L->sc->expects, x);
        x->line = k->line;
        x->col = k->col;
        x->path = g_strdup(k->value);
        x->cmp = CMP_EQ;
        if (v->kind == SIM_Y_MAP) {
            if (v->n != 2)
                return fail(L, v, "an expectation holds one comparison, like { \">=\": 3 }");
            const struct sim_ynode *op = v->items[0];
            size_t j;
            for (j = 0; j < G_N_ELEMENTS(ops); j++)
                if (op->kind == SIM_Y_SCALAR && strcmp(op->value, ops[j]) == 0)
                    break;
            if (j == G_N_ELEMENTS(ops))
                return fail(L, op, "unknown comparison '%s' (use ==, !=, <, <=, >, >=)",
                            op->kind == SIM_Y_SCALAR ? op->value : "?");
            x->cmp = (enum sim_cmp)j;
            v = v->items[1];
        }
        if (!want_scalar(L, v, "an expected value"))
            return false;
        const char *s = v->value;
        uint64_t sized;
        gint64 num;
        guint64 unum;
        GError *perr = NULL;
        bool neg = s[0] == '-';
        bool hex = s[neg] == '0' && (s[neg + 1] == 'x' || s[neg + 1] == 'X');
        if (v->plain && s[neg] >= '0' && s[neg] <= '9' && !hex &&
            g_ascii_string_to_signed(s, 10, INT64_MIN, INT64_MAX, &num, &perr)) {
            x->is_number = true;
            x->number = num;
        } else if (v->plain && hex && !neg &&
                   g_ascii_string_to_unsigned(s + 2, 16, 0, INT64_MAX, &unum, &perr)) {
            x->is_number = true;
            x->number = (int64_t)unum;
        } else if (perr != NULL && perr->code == G_NUMBER_PARSER_ERROR_OUT_OF_BOUNDS) {
            g_error_free(perr);
            return fail(L, v, "%s: %s is too large", k->value, s);
        } else if (parse_bool_quietly(v, &x->boolean)) {
            x->is_bool = true;
        } else if (v->plain && parse_unit_quietly(s, &sized) && sized <= INT64_MAX) {
            x->is_number = true; /* a size like 64KiB or a time like 1ms */
            x->number = (int64_t)sized;
        } else {
            x->is_string = true;
            x->string = g_strdup(s);
        }
        if (perr != NULL)
            g_error_free(perr);
        if (x->is_string && x->cmp != CMP_EQ && x->cmp != CMP_NE)
            return fail(L, v, "'%s' is not a number: only == and != compare strings", s);
    }
    return true;
}

static void scenario_free(struct sim_scenario *sc)
{
    if (sc == NULL)
        return;
    g_free(sc->file);
    g_free(sc->dir);
    if (sc->params != NULL)
        g_ptr_array_free(sc->params, TRUE);
    g_free(sc->policy);
    g_free(sc->victim);
    g_free(sc->swap_path);
    g_free(sc->name);
    g_free(sc->description);
    for (guint i = 0; sc->tasks && i < sc->tasks->len; i++) {
        struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        g_free(d->name);
        g_free(d->pager_policy);
        g_free(d->backing_path);
        g_free(d->backing_fill);
        g_free(d);
    }
    if (sc->tasks)
        g_ptr_array_free(sc->tasks, TRUE);
    if (sc->names)
        g_ptr_array_free(sc->names, TRUE);
    if (sc->steps)
        g_ptr_array_free(sc->steps, TRUE);
    for (guint i = 0; sc->expects && i < sc->expects->len; i++) {
        struct sim_expect *x = g_ptr_array_index(sc->expects, i);
        g_free(x->path);
        g_free(x->string);
        g_free(x);
    }
    if (sc->expects)
        g_ptr_array_free(sc->expects, TRUE);
    g_free(sc);
}

void sim_scenario_free(sim_scenario_t *sc)
{
    scenario_free(sc);
}

size_t sim_scenario_steps(const sim_scenario_t *sc)
{
    return sc->steps->len;
}

/* ---- parameters (an addition: sweeps) ------------------------------------------ */

static bool param_name_ok(const char *s)
{
    if (!g_ascii_isalpha(*s) && *s != '_')
        return false;
    for (; *s != '\0'; s++)
        if (!g_ascii_isalnum(*s) && *s != '_')
            return false;
    return true;
}

/* The value of parameter NAME (LEN bytes), or NULL. */
static const char *param_value(const GPtrArray *params, const char *name, size_t len)
{
    for (guint i = 0; i + 1 < params->len; i += 2) {
        const char *p = g_ptr_array_index(params, i);
        if (strlen(p) == len && strncmp(p, name, len) == 0)
            return g_ptr_array_index(params, i + 1);
    }
    return NULL;
}

/* Replace ${NAME} in every scalar value under N (not in keys, not in the
 * params map itself) by the parameter's value. */
static bool substitute(struct loader *L, struct sim_ynode *n, const struct sim_ynode *skip)
{
    if (n == skip)
        return true;
    if (n->kind == SIM_Y_SCALAR) {
        if (strstr(n->value, "${") == NULL)
            return true;
        GString *out = g_string_new(NULL);
        for (const char *p = n->value; *p != '\0';) {
            const char *at = strstr(p, "${");
            if (at == NULL) {
                g_string_append(out, p);
                break;
            }
            g_string_append_len(out, p, at - p);
            const char *end = strchr(at + 2, '}');
            /* ${NAME}, or ${NAME*K} / ${NAME/K}: an integer parameter (a
             * size counts in bytes) times or over an integer K. */
            const char *op = end != NULL ? strpbrk(at + 2, "*/}") : NULL;
            const char *v =
                op != NULL ? param_value(L->sc->params, at + 2, (size_t)(op - at - 2)) : NULL;
            int len = end != NULL ? (int)(end - at + 1) : (int)strlen(at);
            if (v == NULL) {
                fail(L, n, "%.*s: no such parameter (the scenario's params declare them)", len, at);
                g_string_free(out, TRUE);
                return false;
            }
            if (op != end) {
                char *tail;
                guint64 k = g_ascii_strtoull(op + 1, &tail, 10), x;
                if (tail != end || k == 0 || !sim_parse_size(v, &x, NULL) ||
                    (*op == '*' && x > G_MAXUINT64 / k)) {
                    fail(L, n, "%.*s: NAME*K or NAME/K needs an integer parameter and K > 0", len,
                         at);
                    g_string_free(out, TRUE);
                    return false;
                }
                g_string_append_printf(out, "%" G_GUINT64_FORMAT, *op == '*' ? x * k : x / k);
            } else {
                g_string_append(out, v);
            }
            p = end + 1;
        }
        /* A value that is one reference and nothing else reads as the
         * parameter's value written plain (quotes were only there for the
         * YAML: "${n}" in a flow mapping), so a number stays a number. */
        const char *close = strchr(n->value, '}');
        if (g_str_has_prefix(n->value, "${") && close != NULL && close[1] == '\0')
            n->plain = true;
        g_free(n->value);
        n->value = g_string_free(out, FALSE);
        return true;
    }
    for (size_t i = n->kind == SIM_Y_MAP ? 1 : 0; i < n->n; i += n->kind == SIM_Y_MAP ? 2 : 1)
        if (!substitute(L, n->items[i], skip))
            return false;
    return true;
}

/* params: { NAME: default, … }, then ASSIGN ("NAME=value", NULL-terminated)
 * over the defaults, then ${NAME} replaced everywhere. */
static bool load_params(struct loader *L, struct sim_ynode *root, const char *const *assign)
{
    struct sim_scenario *sc = L->sc;
    sc->params = g_ptr_array_new_with_free_func(g_free);
    const struct sim_ynode *v = sim_yaml_get(root, "params");
    if (v != NULL && !sim_yaml_is_null(v)) {
        if (v->kind != SIM_Y_MAP)
            return fail(L, v, "params must map parameter names to their default values");
        for (size_t i = 0; i + 1 < v->n; i += 2) {
            const struct sim_ynode *k = v->items[i], *x = v->items[i + 1];
            if (k->kind != SIM_Y_SCALAR || !param_name_ok(k->value))
                return fail(L, k,
                            "a parameter's name is letters, digits and _ (not first a digit)");
            if (param_value(sc->params, k->value, strlen(k->value)) != NULL)
                return fail(L, k, "parameter '%s' appears twice", k->value);
            if (!want_scalar(L, x, k->value))
                return false;
            g_ptr_array_add(sc->params, g_strdup(k->value));
            g_ptr_array_add(sc->params, g_strdup(x->value));
        }
    }
    for (const char *const *a = assign; a != NULL && *a != NULL; a++) {
        const char *eq = strchr(*a, '=');
        size_t len = eq != NULL ? (size_t)(eq - *a) : strlen(*a);
        guint i = 0;
        while (i < sc->params->len && (strlen(g_ptr_array_index(sc->params, i)) != len ||
                                       strncmp(g_ptr_array_index(sc->params, i), *a, len) != 0))
            i += 2;
        const struct sim_ynode *at = v != NULL ? v : root;
        if (eq == NULL)
            return fail(L, at, "parameter '%s': write NAME=VALUE", *a);
        if (i >= sc->params->len)
            return fail(L, at, "parameter '%.*s' is not in the scenario's params", (int)len, *a);
        g_free(g_ptr_array_index(sc->params, i + 1));
        sc->params->pdata[i + 1] = g_strdup(eq + 1);
    }
    return substitute(L, root, v);
}

static sim_scenario_t *load_tree(const char *name, struct sim_ynode *root, const char *dir,
                                 const char *const *assign, char **message)
{
    struct loader L = {.file = name};
    struct sim_scenario *sc = g_new0(struct sim_scenario, 1);
    L.sc = sc;
    sc->file = g_strdup(name);
    sc->dir = dir != NULL ? g_strdup(dir) : NULL;
    g_strlcpy(sc->cost.name, "none", sizeof sc->cost.name);
    sc->tasks = g_ptr_array_new();
    sc->names = g_ptr_array_new_with_free_func(g_free);
    sc->steps = g_ptr_array_new_with_free_func((GDestroyNotify)step_free);
    sc->expects = g_ptr_array_new();
    sc->seed = 1;
    L.task_ids = g_hash_table_new(g_str_hash, g_str_equal);
    L.name_ids = g_hash_table_new(g_str_hash, g_str_equal);
    L.caps = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_destroy);
    L.refs = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_destroy);
    L.swaps = g_ptr_array_new_with_free_func((GDestroyNotify)g_hash_table_destroy);

    static const char *const top[] = {"name",  "description", "seed",   "machine", "policy",
                                      "tasks", "steps",       "expect", "params",  NULL};
    const struct sim_ynode *v;
    if (!check_keys(&L, root, "the scenario", top))
        goto out;
    if (!load_params(&L, root, assign))
        goto out;
    if ((v = sim_yaml_get(root, "name")) == NULL) {
        fail(&L, root, "a scenario needs 'name'");
        goto out;
    }
    if (!want_scalar(&L, v, "name"))
        goto out;
    sc->name = g_strdup(v->value);
    if ((v = sim_yaml_get(root, "description")) != NULL) {
        if (v->kind != SIM_Y_SCALAR) {
            fail(&L, v, "description must be text");
            goto out;
        }
        sc->description = g_strstrip(g_strdup(v->value)); /* a folded ">" ends in "\n" */
    }
    if ((v = sim_yaml_get(root, "seed")) != NULL && !get_uint(&L, v, "seed", UINT32_MAX, &sc->seed))
        goto out;
    if ((v = sim_yaml_get(root, "machine")) == NULL) {
        fail(&L, root, "a scenario needs 'machine' (at least its frames)");
        goto out;
    }
    if (!parse_machine(&L, v))
        goto out;
    if ((v = sim_yaml_get(root, "policy")) != NULL && !sim_yaml_is_null(v)) {
        static const char *const keys[] = {"kind", "grace", NULL};
        if (!check_keys(&L, v, "policy", keys))
            goto out;
        const struct sim_ynode *kind = sim_yaml_get(v, "kind");
        if (kind == NULL) {
            fail(&L, v, "policy needs 'kind' (fixed or proportional)");
            goto out;
        }
        if (!want_scalar(&L, kind, "policy.kind"))
            goto out;
        if (pm_policy_kind_find(kind->value) == NULL) {
            GString *ok = g_string_new(NULL);
            for (const struct pm_policy_kind *const *p = pm_policy_kinds(); *p; p++)
                g_string_append_printf(ok, "%s%s", ok->len ? ", " : "", (*p)->name);
            fail(&L, kind, "unknown policy kind '%s' (known: %s)", kind->value, ok->str);
            g_string_free(ok, TRUE);
            goto out;
        }
        sc->policy = g_strdup(kind->value);
        const struct sim_ynode *grace = sim_yaml_get(v, "grace");
        if (grace != NULL && !get_time(&L, grace, "policy.grace", &sc->grace))
            goto out;
        if (grace != NULL && sc->grace == 0)
            sc->grace = PM_GRACE_NONE; /* 0 is no grace at all, not the default */
    }
    if ((v = sim_yaml_get(root, "tasks")) == NULL) {
        fail(&L, root, "a scenario needs 'tasks'");
        goto out;
    }
    if (!parse_tasks(&L, v))
        goto out;
    for (guint i = 0; sc->policy == NULL && i < sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        if (d->swap_quota != 0) {
            const struct sim_ynode *props = sim_yaml_get(v, d->name);
            fail(&L, sim_yaml_get(props, "swap_quota"),
                 "swap_quota: quotas come from the policy server, and this scenario has no "
                 "'policy' (give one, or set quotas with set_guarantee)");
            goto out;
        }
    }
    if ((v = sim_yaml_get(root, "steps")) == NULL) {
        fail(&L, root, "a scenario needs 'steps'");
        goto out;
    }
    if (!parse_steps(&L, v, -1, true, sc->steps))
        goto out;
    if ((v = sim_yaml_get(root, "expect")) != NULL && !sim_yaml_is_null(v) && !parse_expects(&L, v))
        goto out;
out:
    g_hash_table_destroy(L.task_ids);
    g_hash_table_destroy(L.name_ids);
    g_ptr_array_free(L.caps, TRUE);
    g_ptr_array_free(L.refs, TRUE);
    g_ptr_array_free(L.swaps, TRUE);
    if (L.err != NULL) {
        if (message != NULL)
            *message = strdup(L.err->message);
        g_error_free(L.err);
        scenario_free(sc);
        return NULL;
    }
    return sc;
}

static sim_scenario_t *load_text(const char *name, const char *text, size_t len, const char *dir,
                                 const char *const *assign, char **message)
{
    GError *err = NULL;
    struct sim_ynode *root = sim_yaml_load_string(name, text, len, &err);
    if (root == NULL) {
        if (message != NULL)
            *message = strdup(err->message);
        g_error_free(err);
        return NULL;
    }
    sim_scenario_t *sc = NULL;
    if (root->kind != SIM_Y_MAP) {
        if (message != NULL) {
            char *m = g_strdup_printf("%s:%u:%u: a scenario must be a mapping (name, machine, "
                                      "tasks, steps…)",
                                      name, root->line, root->col);
            *message = strdup(m);
            g_free(m);
        }
    } else {
        sc = load_tree(name, root, dir, assign, message);
    }
    sim_yaml_free(root);
    return sc;
}

sim_scenario_t *sim_scenario_load_string(const char *name, const char *text, size_t len,
                                         char **message)
{
    return load_text(name, text, len, NULL, NULL, message);
}

sim_scenario_t *sim_scenario_load(const char *path, char **message)
{
    return sim_scenario_load_params(path, NULL, message);
}

sim_scenario_t *sim_scenario_load_params(const char *path, const char *const *assign,
                                         char **message)
{
    size_t len = 0;
    GError *io = NULL;
    char *text = sim_yaml_read_bounded(path, &len, &io);
    if (text == NULL) {
        if (message != NULL)
            *message = strdup(io->message);
        g_error_free(io);
        return NULL;
    }
    char *dir = g_path_get_dirname(path);
    sim_scenario_t *sc = load_text(path, text, len, dir, assign, message);
    g_free(dir);
    g_free(text);
    return sc;
}
