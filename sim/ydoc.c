/* ydoc.c — reading a scenario file into a tree of positioned nodes with
 * libyaml's event API (see ydoc.h for the bounds and what is refused).
 *
 * The tree is built with an explicit stack of open collections, never by
 * recursion over the input, so the depth bound is a plain comparison and a
 * hostile file cannot exhaust the C stack. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "ydoc.h"

G_DEFINE_QUARK(pmsim - scenario - error - quark, sim_scenario_error)

static void node_free(struct sim_ynode *n)
{
    /* Depth is bounded by SIM_YAML_MAX_DEPTH: recursion is safe here. */
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        node_free(n->items[i]);
    g_free(n->items);
    g_free(n->value);
    g_free(n);
}

void sim_yaml_free(struct sim_ynode *node)
{
    node_free(node);
}

static void add_item(struct sim_ynode *parent, struct sim_ynode *child)
{
    /* Capacity doubles from 4: grow when n is 0 or a power of two ≥ 4. */
    size_t n = parent->n;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0))
        parent->items = g_renew(struct sim_ynode *, parent->items, n == 0 ? 4 : 2 * n);
    parent->items[parent->n++] = child;
}

static struct sim_ynode *new_node(enum sim_ynode_kind kind, const yaml_mark_t *m)
{
    struct sim_ynode *n = g_new0(struct sim_ynode, 1);
    n->kind = kind;
    n->line = (unsigned)m->line + 1;
    n->col = (unsigned)m->column + 1;
    return n;
}

static void fail_at(GError **error, const char *name, size_t line, size_t col, const char *msg)
{
    g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:%zu:%zu: %s", name, line,
                col, msg);
}

struct sim_ynode *sim_yaml_load_string(const char *name, const char *text, size_t len,
                                       GError **error)
{
    /* TEXT need not end in a NUL: look at its LEN bytes only. */
    size_t blank = 0;
    while (blank < len && (text[blank] == ' ' || text[blank] == '\t' || text[blank] == '\r' ||
                           text[blank] == '\n'))
        blank++;
    if (blank == len) {
        fail_at(error, name, 1, 1,
                "the file is empty: a scenario needs at least name, machine "
                "and steps");
        return NULL;
    }
    if (len > SIM_YAML_MAX_BYTES) {
        fail_at(error, name, 1, 1, "the file is too large for a scenario");
        return NULL;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        size_t line = 1, col = 1;
        for (const char *p = text; p < nul; p++, col++)
            if (*p == '\n')
                line++, col = 0;
        fail_at(error, name, line, col, "a NUL byte: this is not a text file");
        return NULL;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fail_at(error, name, 1, 1, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    struct sim_ynode *root = NULL;
    struct sim_ynode *stack[SIM_YAML_MAX_DEPTH];
    size_t depth = 0, nodes = 0, documents = 0;
    bool done = false, ok = true;
    while (!done && ok) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s%s%s", parser.problem ? parser.problem : "invalid YAML",
                     parser.context ? " " : "", parser.context ? parser.context : "");
            size_t line = parser.problem_mark.line + 1, col = parser.problem_mark.column + 1;
            if (parser.error == YAML_READER_ERROR) {
                /* The reader gives only a byte offset: count lines to it. */
                line = 1;
                col = 1;
                for (size_t i = 0; i < parser.problem_offset && i < len; i++, col++)
                    if (text[i] == '\n')
                        line++, col = 0;
            }
            fail_at(error, name, line, col, msg);
            ok = false;
            break;
        }
        struct sim_ynode *node = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                fail_at(error, name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                        "a second YAML document: a scenario file holds one");
                ok = false;
            }
            break;
        case YAML_ALIAS_EVENT:
            fail_at(error, name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                    "YAML aliases are not supported in scenario files");
            ok = false;
            break;
        case YAML_SCALAR_EVENT:
            node = new_node(SIM_Y_SCALAR, &ev.start_mark);
            node->value = g_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (strlen(node->value) != ev.data.scalar.length) {
                fail_at(error, name, node->line, node->col, "a NUL character in a string");
                node_free(node);
                node = NULL;
                ok = false;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            node = new_node(SIM_Y_SEQ, &ev.start_mark);
            break;
        case YAML_MAPPING_START_EVENT:
            node = new_node(SIM_Y_MAP, &ev.start_mark);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0)
                depth--;
            break;
        default:
            break;
        }
        if (node != NULL) {
            if (++nodes > SIM_YAML_MAX_NODES) {
                fail_at(error, name, node->line, node->col, "too many YAML nodes for a scenario");
                node_free(node);
                ok = false;
            } else if (depth == 0 && root != NULL) {
                node_free(node); /* cannot happen within one document */
            } else {
                if (depth == 0)
                    root = node;
                else
                    add_item(stack[depth - 1], node);
                if (node->kind != SIM_Y_SCALAR) {
                    if (depth == SIM_YAML_MAX_DEPTH) {
                        fail_at(error, name, node->line, node->col,
                                "nested too deeply for a scenario");
                        ok = false;
                    } else {
                        stack[depth++] = node;
                    }
                }
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    if (!ok) {
        node_free(root);
        return NULL;
    }
    if (root == NULL || sim_yaml_is_null(root)) {
        fail_at(error, name, 1, 1, "the file holds no scenario");
        node_free(root);
        return NULL;
    }
    return root;
}

/* Read at most SIM_YAML_MAX_BYTES + 1 bytes of PATH (a pipe or a device
 * that never ends included).  Returns the text (caller frees) or NULL. */
char *sim_yaml_read_bounded(const char *path, size_t *len, GError **error)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:1:1: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    size_t cap = 64 << 10, n = 0;
    char *buf = g_malloc(cap + 1);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n > SIM_YAML_MAX_BYTES) {
            g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID,
                        "%s:1:1: the file is larger than the %u MiB a scenario may be", path,
                        SIM_YAML_MAX_BYTES >> 20);
            g_free(buf);
            fclose(f);
            return NULL;
        }
        if (got == 0)
            break;
        if (n == cap) {
            cap *= 2;
            if (cap > SIM_YAML_MAX_BYTES + 1)
                cap = SIM_YAML_MAX_BYTES + 1;
            buf = g_realloc(buf, cap + 1);
        }
    }
    bool bad = ferror(f) != 0;
    int e = errno;
    fclose(f);
    if (bad) {
        g_set_error(error, SIM_SCENARIO_ERROR, SIM_SCENARIO_ERROR_INVALID, "%s:1:1: %s", path,
                    g_strerror(e));
        g_free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

struct sim_ynode *sim_yaml_load_file(const char *path, GError **error)
{
    size_t len = 0;
    char *text = sim_yaml_read_bounded(path, &len, error);
    if (text == NULL)
        return NULL;
    struct sim_ynode *root = sim_yaml_load_string(path, text, len, error);
    g_free(text);
    return root;
}

struct sim_ynode *sim_yaml_get(const struct sim_ynode *map, const char *key)
{
    if (map == NULL || map->kind != SIM_Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->items[i]->kind == SIM_Y_SCALAR && strcmp(map->items[i]->value, key) == 0)
            return map->items[i + 1];
    return NULL;
}

bool sim_yaml_is_null(const struct sim_ynode *node)
{
    if (node == NULL || node->kind != SIM_Y_SCALAR || !node->plain)
        return false;
    const char *v = node->value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const struct sim_ynode *sim_yaml_bad_key(const struct sim_ynode *n, const char *what,
                                         const char *const *allowed, char **message)
{
    if (n->kind != SIM_Y_MAP) {
        *message = g_strdup_printf("%s must be a mapping, not %s", what,
                                   n->kind == SIM_Y_SEQ ? "a list" : "a scalar");
        return n;
    }
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const struct sim_ynode *k = n->items[i];
        if (k->kind != SIM_Y_SCALAR) {
            *message = g_strdup_printf("a key in %s must be a plain name", what);
            return k;
        }
        for (size_t j = 0; j < i; j += 2)
            if (strcmp(n->items[j]->value, k->value) == 0) {
                *message = g_strdup_printf("'%s' appears twice in %s", k->value, what);
                return k;
            }
        bool known = false;
        for (const char *const *a = allowed; *a != NULL && !known; a++)
            known = strcmp(*a, k->value) == 0;
        if (!known) {
            GString *ok = g_string_new("");
            for (const char *const *a = allowed; *a != NULL; a++)
                g_string_append_printf(ok, "%s%s", a == allowed ? "" : ", ", *a);
            *message =
                g_strdup_printf("unknown key '%s' in %s (known: %s)", k->value, what, ok->str);
            g_string_free(ok, TRUE);
            return k;
        }
    }
    return NULL;
}
