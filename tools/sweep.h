/* sweep.h — `pmsim sweep`: a scenario over a grid of its parameters (SPEC
 * §10), in parallel across cores, or as a jobs file for a batch system,
 * and merging the reports back into CSV and JSON. */
#ifndef PMSIM_TOOLS_SWEEP_H
#define PMSIM_TOOLS_SWEEP_H

#include <glib.h>
#include <stdbool.h>

/** Expand one --param argument, "NAME=LIST", into *NAME and the values
 *  (a GPtrArray of char *).  LIST is comma-separated; an element may be a
 *  range "A..B:xF" (A, A×F, … up to B) or "A..B:+S" (A, A+S, … up to B) of
 *  integers or sizes (B, KiB, MiB, GiB: the values keep the largest unit
 *  that divides them).  Returns NULL with *ERROR set for a bad one. */
GPtrArray *pm_sweep_values(const char *arg, char **name, char **error);

/** The sweep command; ARGV as main's (argv[0] "sweep"). */
int pm_sweep_main(int argc, char **argv);

#endif
