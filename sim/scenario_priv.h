/* scenario_priv.h — a validated scenario, as the loader (scenario.c) builds
 * it and the runner (runner.c) runs it.  Internal to sim/.
 *
 * Names are resolved at load time: tasks to indexes, capability and share
 * names to small integers (one table for the whole file; each task keeps
 * its own bindings at run time, so `C` in two tasks are two bindings). */
#ifndef PMSIM_SIM_SCENARIO_PRIV_H
#define PMSIM_SIM_SCENARIO_PRIV_H

#include <glib.h>
#include <stdint.h>

#include "pmsim/error.h"
#include "pmsim/costs.h"
#include "pmsim/scenario.h"

enum sim_op {
    OP_CREATE,
    OP_DESTROY,
    OP_SHARE,
    OP_REVOKE,
    OP_GIVE,
    OP_LOCK,
    OP_UNLOCK,
    OP_ALLOCATE,
    OP_DEALLOCATE,
    OP_MAP,
    OP_COPY,
    OP_CREATE_WITH,
    OP_CREATE_FROM,
    OP_CREATE_GATHER,
    OP_RELEASE_DATA,
    OP_WRITE,
    OP_READ,
    OP_ADVANCE,
    OP_KILL,
    OP_RECLAIM,
    OP_GET_CONTROL,
    OP_SET_GUARANTEE,
    OP_SWAP_OUT,
    OP_SWAP_IN,
    OP_SWAP_RECOVER,
    OP_PRESSURE,
    OP_START,
    OP_MMAP,
    OP_MUNMAP,
    OP_ACCESS,
    OP_REPLAY,
    OP_READ_INTO,
    OP_WRITE_FROM,
    OP_PARALLEL,
    OP_COUNT
};

extern const char *const sim_op_names[OP_COUNT];

#define NO_NAME (-1)

struct sim_step {
    unsigned line, col;
    enum sim_op op;
    int task;                 /* acting task */
    int other;                /* with / to: a task, or -1 */
    int container, src, dest; /* capability names, or NO_NAME */
    int as, weak, ref;        /* names bound or used as share references */
    int ids;                  /* swap_in / swap_recover: a swap_out's `as` */
    bool has_extra, extra;    /* set_guarantee */
    bool has_quota;
    uint64_t quota;
    /* access: a generated stream over [at, at + bytes) */
    int pattern_kind; /* enum sim_access_pattern */
    double alpha, write_ratio;
    /* replay: the trace, read at load time */
    GArray *trace;     /* struct sim_ref */
    bool binary_trace; /* it was an oracleGeneral file */
    /* read_into / write_from */
    uint64_t offset;
    int strategy; /* enum sim_strategy */
    bool has_at;
    bool measure; /* measure: true (an addition): counted in time.measured_* */
    bool map_all; /* map: all: true (an addition): every frame, message after message */
    /* read: expect_data: { store, offset } */
    int data_store; /* a task with server: store, or -1 */
    uint64_t data_offset;
    uint64_t start, count, src_start, dest_start;
    bool has_count;
    GArray *frames, *src_frames, *dest_frames; /* uint32_t; NULL if absent */
    unsigned flags;
    uint64_t at, bytes, duration;
    int pattern; /* write: the byte; read: expect_pattern; -1 none */
    char *data;  /* write: data; read: expect_data */
    pm_error_t expect;
    bool has_expect_count, has_expect_frame_error, has_expect_mapped;
    uint64_t expect_count, expect_frame_error, expect_mapped;
    /* OP_PARALLEL: one lane per task, in file order */
    GPtrArray *lanes; /* struct sim_lane * */
};

enum sim_access_pattern { PAT_SEQUENTIAL, PAT_UNIFORM, PAT_ZIPF, PAT_LOOP };

/* One reference of a trace. */
struct sim_ref {
    uint64_t addr;
    bool write;
};

struct sim_lane {
    int task;
    GPtrArray *steps; /* struct sim_step * */
};

/* How a task without a pager answers upcalls (SCENARIO.md on_return). */
enum sim_on_return {
    RETURN_COMPLY, /* gives the frames back at once (soft references) */
    RETURN_IGNORE, /* never answers */
    RETURN_SLOW,   /* answers, after the deadline */
    RETURN_UNREADY /* has no memory control thread receiving (an addition) */
};

struct sim_task_def {
    char *name;
    uint64_t guaranteed;
    bool extra;
    uint64_t weight;
    enum sim_on_return on_return;
    bool late;           /* `start: false`: it comes to life at a `start` step */
    uint64_t swap_quota; /* given by the policy server; 0: none */
    bool no_pager;       /* pager: none */
    int server;          /* 0: none, 1: file, 2: store */
    int store;           /* a file server's store (task index), or -1 */
    int behaviour;       /* a file server's (enum sim_behaviour) */
    bool keep_mappings;  /* a file server keeps its window and cache mapped */
    char *backing_path;  /* a store's backing file, or NULL: generated */
    uint64_t backing_size;
    char *backing_fill;          /* "pattern" or "zero" */
    char *pager_policy;          /* pager.policy; NULL: lru */
    uint64_t pager_frames;       /* pager.frames; 0: all of G */
    uint64_t pager_final_frames; /* pager.final_frames; 0: PM_PAGER_FINAL_FRAMES */
};

enum sim_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct sim_expect {
    unsigned line, col;
    char *path;
    enum sim_cmp cmp;
    bool is_number, is_bool, is_string;
    int64_t number;
    bool boolean;
    char *string;
};

struct sim_scenario {
    char *file;
    char *dir; /* the file's folder (relative paths in it), or NULL: the current one */
    char *name, *description;
    uint64_t seed;
    uint32_t frames, dma_frames;
    uint64_t page_size;
    unsigned map_items;
    char *policy;   /* a policy kind (pm_policy_kind_find); NULL: first come, first served */
    uint64_t grace; /* policy.grace (ns); 0: the server's default */
    char *victim;   /* machine.victim; NULL: physmem's default */
    uint64_t return_deadline;   /* machine.return_deadline (ns); 0: physmem's default */
    char *swap_path;            /* machine.swap.path; NULL: a temporary file */
    uint64_t swap_frames;       /* machine.swap.frames; 0: as many as the machine's frames */
    struct sim_cost_table cost; /* machine.cost; "none" when absent */
    GPtrArray *params;          /* char *: name, value, name, value… (as run) */
    GPtrArray *tasks;           /* struct sim_task_def * */
    GPtrArray *names;           /* char *: capability and share names */
    GPtrArray *steps;           /* struct sim_step * */
    GPtrArray *expects;         /* struct sim_expect * */
};

#endif
