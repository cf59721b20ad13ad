/* scenario.h — scenario files: load one, run it, report what happened
 * (SPEC §11, shared/SCENARIO.md).
 *
 * A scenario is validated in full when it is loaded: a bad file never
 * starts running.  A run executes the steps (parallel blocks interleaved by
 * simulated time, ties broken by the scenario's seed), checks every step's
 * outcome and result checks, optionally the invariants after every step,
 * then the final expectations against the report; failures never stop a
 * run.  The same file and seed give the same report, host times aside. */
#ifndef PMSIM_SCENARIO_H
#define PMSIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sim_scenario sim_scenario_t;
typedef struct sim_run sim_run_t;

/** Load and validate the scenario file PATH.  Returns the scenario, or NULL
 *  with *MESSAGE (caller frees with free()) set to "PATH:line:col: what". */
sim_scenario_t *sim_scenario_load(const char *path, char **message);

/** The same with parameters (an addition, for sweeps): a scenario may
 *  declare `params: { NAME: default, … }` and write ${NAME} in any value;
 *  ASSIGN ("NAME=VALUE" strings, NULL-terminated; NULL: none) overrides the
 *  defaults.  A NAME the scenario does not declare is an error. */
sim_scenario_t *sim_scenario_load_params(const char *path, const char *const *assign,
                                         char **message);

/** The same from LEN bytes of TEXT, called NAME in messages; relative paths
 *  in the scenario are relative to the current directory. */
sim_scenario_t *sim_scenario_load_string(const char *name, const char *text, size_t len,
                                         char **message);

/** TEXT as a size, the way scenario files write them: decimal digits, with
 *  B, KiB, MiB, GiB or TiB after them or not (*HAD_UNIT, optional, says).
 *  Returns false for anything else, or past 2^64 bytes. */
bool sim_parse_size(const char *text, uint64_t *bytes, bool *had_unit);

/** Free a scenario.  NULL is a no-op. */
void sim_scenario_free(sim_scenario_t *sc);

/** The number of steps at the top level (a parallel block counts one). */
size_t sim_scenario_steps(const sim_scenario_t *sc);

struct sim_run_options {
    bool check;  /**< run the invariant checker after every step */
    FILE *trace; /**< one line per event here, or NULL */
    /** After every step, a CSV row per task here (or NULL): the header
     *  `time_ns,step,task,guaranteed,allocated,extra`, then the task's G,
     *  A and E as the step left them (`pmsim plot --timeline`). */
    FILE *timeline;
    /** The kernel's back end: the simulated MMU (SIM_BACKEND_SIM), or real
     *  host mappings of a memfd pool (SIM_BACKEND_HOST_MMU: l4sim.h);
     *  SIM_BACKEND_DEFAULT takes $PMSIM_BACKEND ("sim" or "host-mmu"),
     *  else the simulated one. */
    enum sim_backend { SIM_BACKEND_DEFAULT, SIM_BACKEND_SIM, SIM_BACKEND_HOST_MMU } backend;
    /** A fault to survive (an addition, for hardening): the task named
     *  KILL_TASK (NULL: none) dies right after step KILL_AFTER, numbered as
     *  the report numbers steps (the steps of parallel blocks included; 0:
     *  before the first step), as a `kill` step would kill it — if it is
     *  alive then (started, not dead).  Just before and just after, the
     *  run takes a snapshot of every container the other tasks own (its
     *  frames, soft references, and the bytes of every frame) and reports
     *  every difference as a failure: a death changes nothing of the
     *  others' data, their logical copies and shares of the dead task's
     *  frames included (SPEC §5.2, §9.1).  With CHECK, the invariants are
     *  checked after the kill too.  The run then goes on: the dead task's
     *  later steps fail (ESRCH), and others may fail for good reasons. */
    const char *kill_task;
    size_t kill_after;
};

/** Run SC.  Returns the run (never NULL unless out of memory); its report
 *  and failures are read with the functions below. */
sim_run_t *sim_scenario_run(const sim_scenario_t *sc, const struct sim_run_options *opt);

/** Free a run.  NULL is a no-op. */
void sim_run_free(sim_run_t *run);

/** The number of failures: steps with another outcome than expected,
 *  result checks, broken invariants, final expectations. */
size_t sim_run_failures(const sim_run_t *run);

/** The steps run so far, numbered as the report numbers them (the steps of
 *  parallel blocks included). */
size_t sim_run_steps(const sim_run_t *run);

/** The failure number I (0 ≤ I < sim_run_failures) as the report words it,
 *  or NULL.  Owned by the run. */
const char *sim_run_failure(const sim_run_t *run, size_t i);

/** Of the failures, how many were broken invariants (check mode). */
size_t sim_run_invariant_failures(const sim_run_t *run);

/** What the kill of sim_run_options.kill_task did. */
struct sim_kill_result {
    bool asked;          /**< a kill was asked for and its step came */
    bool killed;         /**< the task was alive then and died */
    size_t after;        /**< the step after which it died */
    uint64_t containers; /**< the other tasks' containers compared */
    uint64_t frames;     /**< their frames compared, byte for byte */
    uint64_t changed;    /**< of those, containers or frames the kill changed: 0 */
};

/** Read what the kill did into *OUT (all zero when none was asked). */
void sim_run_kill_result(const sim_run_t *run, struct sim_kill_result *out);

/** The report as JSON (pretty) or text, written to OUT. */
void sim_run_write_json(const sim_run_t *run, FILE *out);
void sim_run_write_text(const sim_run_t *run, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
