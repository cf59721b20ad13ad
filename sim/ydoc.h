/* ydoc.h — a scenario file as a tree of YAML nodes, each with its line and
 * column.  Internal to sim/.
 *
 * libyaml's event parser reads the file; this builds the tree with bounds
 * that no input can get past (nesting depth, node count, scalar size, file
 * size), refuses what a scenario never needs and an attacker could use
 * (aliases, several documents), and reports every problem as a GError whose
 * message is "file:line:col: what". */
#ifndef PMSIM_SIM_YDOC_H
#define PMSIM_SIM_YDOC_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* Bounds on what a scenario file may be. */
#define SIM_YAML_MAX_DEPTH 64
#define SIM_YAML_MAX_NODES (4u << 20)
#define SIM_YAML_MAX_BYTES (64u << 20)

enum sim_ynode_kind { SIM_Y_SCALAR, SIM_Y_MAP, SIM_Y_SEQ };

struct sim_ynode {
    enum sim_ynode_kind kind;
    unsigned line, col;       /* 1-based, where the node starts */
    char *value;              /* SIM_Y_SCALAR: the text (NUL-terminated) */
    bool plain;               /* a plain (unquoted) scalar: may be null/bool/number */
    struct sim_ynode **items; /* SIM_Y_SEQ: the items; SIM_Y_MAP: key, value, key, value… */
    size_t n;                 /* items (a map has n / 2 pairs) */
};

/* The error domain of scenario files. */
#define SIM_SCENARIO_ERROR (sim_scenario_error_quark())
GQuark sim_scenario_error_quark(void);
enum { SIM_SCENARIO_ERROR_INVALID = 1 };

/** Parse the file at PATH.  Returns the root node (a document's top node),
 *  or NULL with *ERROR set ("PATH:line:col: message"). */
struct sim_ynode *sim_yaml_load_file(const char *path, GError **error);

/** Read the file at PATH whole, refusing one larger than SIM_YAML_MAX_BYTES
 *  (reading stops there: a pipe or device that never ends is refused too).
 *  Returns the text, NUL-terminated (free with g_free), its length in *LEN;
 *  or NULL with *ERROR set. */
char *sim_yaml_read_bounded(const char *path, size_t *len, GError **error);

/** Parse LEN bytes of TEXT, naming it NAME in messages. */
struct sim_ynode *sim_yaml_load_string(const char *name, const char *text, size_t len,
                                       GError **error);

/** Free a tree.  NULL is a no-op. */
void sim_yaml_free(struct sim_ynode *node);

/** The value of KEY in map NODE, or NULL. */
struct sim_ynode *sim_yaml_get(const struct sim_ynode *map, const char *key);

/** Check that MAP is a mapping whose keys are plain names among ALLOWED
 *  (NULL-terminated), each once.  Returns NULL when it is; else the node at
 *  fault, with *MESSAGE (g_free it) saying what is wrong with it (WHAT
 *  names the map in the message). */
const struct sim_ynode *sim_yaml_bad_key(const struct sim_ynode *map, const char *what,
                                         const char *const *allowed, char **message);

/** True for a plain scalar "~", "null", "Null", "NULL" or empty. */
bool sim_yaml_is_null(const struct sim_ynode *node);

#endif
