/* costs.h — the cost model (SPEC §10): what each counted event of a run
 * costs in simulated time, from a cost table.
 *
 * A cost table is a small YAML file (docs/costs.md): a name, and a price in
 * nanoseconds for each kind of event the simulator counts — an IPC, a typed
 * item, a page mapped or unmapped, a TLB flush, a page fault by cause, a
 * physical frame bound (cleared), a byte copied (hot while a step's copying
 * fits in the cache, cold past it), a page of disk I/O.  Prices are numbers
 * of nanoseconds (decimals allowed) or durations with a unit ("1.5us").
 * Tables ship in data/costs/ (installed under DATADIR/pmsim/costs/):
 * `l4-published` (published L4 figures, each with its source), and whatever
 * `pmsim calibrate` writes for a host.  `none` costs nothing. */
#ifndef PMSIM_COSTS_H
#define PMSIM_COSTS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a table prices, one event each (the copy prices are per byte). */
enum sim_cost_kind {
    SIM_COST_IPC,           /**< an IPC: a send, or a reply (a call is two) */
    SIM_COST_TYPED_ITEM,    /**< a map or grant item carried out */
    SIM_COST_MAP_PAGE,      /**< a page entered into an address space */
    SIM_COST_UNMAP,         /**< an unmap call */
    SIM_COST_UNMAP_PAGE,    /**< a page unmapped, or its rights reduced */
    SIM_COST_TLB_FLUSH,     /**< a TLB entry flushed */
    SIM_COST_FAULT_MISSING, /**< the kernel's part of a fault on an unmapped page */
    SIM_COST_FAULT_READ,    /**< … of a read without the right */
    SIM_COST_FAULT_WRITE,   /**< … of a write without the right */
    SIM_COST_FAULT_EXEC,    /**< … of an instruction fetch without the right */
    SIM_COST_FRAME_BIND,    /**< a physical frame bound (found and cleared) */
    SIM_COST_COPY_HOT,      /**< a byte copied while the step's copying fits the cache */
    SIM_COST_COPY_COLD,     /**< a byte copied past that */
    SIM_COST_DISK_WRITE,    /**< a page written to the swap device or a store */
    SIM_COST_DISK_READ,     /**< a page read from them */
    SIM_COST_KINDS
};

/** The key of KIND in a table file ("ipc", "fault.missing", "copy.hot"…). */
const char *sim_cost_kind_name(enum sim_cost_kind kind);

struct sim_cost_table {
    char name[64];
    double ns[SIM_COST_KINDS];
    uint64_t cache_bytes; /**< copy.cache: what a step copies hot */
};

/** Events counted, by kind (the copy kinds hold bytes, split per step). */
struct sim_cost_counts {
    uint64_t n[SIM_COST_KINDS];
};

/** Load the table file at PATH into *OUT.  False with *ERROR set
 *  ("PATH:line:col: what") for a file that is not a valid table. */
bool sim_cost_table_load(const char *path, struct sim_cost_table *out, GError **error);

/** The table NAME: `none`, a built-in name (a file NAME.yaml in the cost
 *  directories: $PMSIM_COST_DIR, then the source tree's data/costs, then the
 *  installed one; `l4-x2` is `l4-published`), or a path (it has a '/' or
 *  ends in .yaml; relative to BASE_DIR when not absolute).  False with
 *  *ERROR set. */
bool sim_cost_table_find(const char *name, const char *base_dir, struct sim_cost_table *out,
                         GError **error);

/** The price of COUNTS, in nanoseconds; BY (optional) gets it by kind. */
double sim_cost_price(const struct sim_cost_table *t, const struct sim_cost_counts *counts,
                      double by[SIM_COST_KINDS]);

/** Split COPIED bytes of one step into hot and cold by the table's cache. */
void sim_cost_split_copy(const struct sim_cost_table *t, uint64_t copied,
                         struct sim_cost_counts *counts);

/** The table as a file (what sim_cost_table_load reads back), with
 *  COMMENT (optional, '#' lines) first.  g_free the result. */
char *sim_cost_table_format(const struct sim_cost_table *t, const char *comment);

#ifdef __cplusplus
}
#endif
#endif
