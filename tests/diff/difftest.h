/* difftest.h — the differential tester (issue 9): seeded random streams of
 * physmem calls from several tasks, every call, flag, bad handle and range
 * included, made on the real physmem and on the reference model
 * (refmodel.h); every result, out-parameter, accounting figure, frame and
 * byte compared.  A divergence is minimised (ops taken out while it stays)
 * and written as a scenario file. */
#ifndef PMSIM_DIFFTEST_H
#define PMSIM_DIFFTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dt_options {
    uint64_t seed;
    uint64_t ops;             /* calls to make */
    unsigned full_every;      /* compare every frame and byte after this many calls (1: each) */
    bool guarantees;          /* guarantees in force (set before anything), else first come */
    unsigned epoch;           /* calls on one machine before a fresh one (0: 5000) */
    const char *scenario_out; /* where a minimised divergence is written (NULL: not) */
    FILE *log;                /* what diverged, and the minimised ops (NULL: quiet) */
};

struct dt_result {
    uint64_t ops;            /* calls made (up to and with the diverging one) */
    uint64_t divergences;    /* 0 or 1: the run stops at the first */
    uint64_t checks;         /* values compared */
    uint64_t full_checks;    /* whole-state comparisons */
    uint64_t minimal_ops;    /* ops of the minimised divergence */
    char what[512];          /* the divergence, in words */
    uint64_t by_kind[32];    /* calls made, by operation */
    uint64_t ok_by_kind[32]; /* of those, calls that succeeded on both sides */
    uint64_t machines;       /* fresh machines the stream ran on (an epoch each) */
};

/* Run one stream.  Returns true when no divergence was found. */
bool dt_run(const struct dt_options *opt, struct dt_result *res);

/* The name of operation kind K (for by_kind), or NULL past the last. */
const char *dt_op_name(unsigned k);

#endif
