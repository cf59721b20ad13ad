/* calibrate.h — measuring the host for a cost table (`pmsim calibrate`). */
#ifndef PMSIM_TOOLS_CALIBRATE_H
#define PMSIM_TOOLS_CALIBRATE_H

#include <stdbool.h>

#include "pmsim/costs.h"

/** Measure this host (calibrate.c says how) into *OUT, named NAME; QUICK
 *  takes fewer and smaller samples (tests).  Returns the table as a file,
 *  with a comment saying what was measured where (g_free it). */
char *pm_calibrate(const char *name, bool quick, struct sim_cost_table *out);

/** Fit a table named NAME to the points of SWEEP_JSON (pmsim sweep --json
 *  of a scenario with `measure: true` steps): the non-negative prices that
 *  best give each point's time.measured_host_ns from its
 *  time.measured_events (relative errors, least squares).  Returns the
 *  table as a file with a comment saying how well it fits, or NULL with
 *  *ERROR (g_free). */
char *pm_calibrate_fit(const char *sweep_json, const char *name, struct sim_cost_table *out,
                       char **error);

#endif
