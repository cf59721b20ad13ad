/* calibrate.h — measuring the host for a cost table (`pmsim calibrate`). */
#ifndef PMSIM_TOOLS_CALIBRATE_H
#define PMSIM_TOOLS_CALIBRATE_H

#include <stdbool.h>

#include "pmsim/costs.h"

/** Measure this host (calibrate.c says how) into *OUT, named NAME; QUICK
 *  takes fewer and smaller samples (tests).  Returns the table as a file,
 *  with a comment saying what was measured where (g_free it). */
char *pm_calibrate(const char *name, bool quick, struct sim_cost_table *out);

#endif
