/* diff-run.c — the differential tester from the command line (issue 9):
 * `diff-run [--ops N] [--seed S] [--seeds K] [--full-every N]
 * [--guarantees] [--scenario FILE]`: K seeded streams of N calls each on
 * physmem and on the reference model; prints the calls made, by kind, the
 * values compared and the divergences (a divergence is minimised, printed
 * and, with --scenario, written as a scenario file).  Exit status 1 on a
 * divergence.  The benchmark target runs 10^6 calls. */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "difftest.h"

int main(int argc, char **argv)
{
    gint64 ops = 100000, seeds = 1, seed = 1, full_every = 16;
    gboolean guarantees = FALSE;
    gchar *scenario = NULL;
    GOptionEntry entries[] = {
        {"ops", 'n', 0, G_OPTION_ARG_INT64, &ops, "calls a stream makes (100000)", "N"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "the first seed (1)", "S"},
        {"seeds", 'k', 0, G_OPTION_ARG_INT64, &seeds, "streams, seeds S, S+1, … (1)", "K"},
        {"full-every", 'f', 0, G_OPTION_ARG_INT64, &full_every,
         "compare every frame and byte after this many calls (16)", "N"},
        {"guarantees", 'g', 0, G_OPTION_ARG_NONE, &guarantees,
         "guarantees in force (default: first come, first served; half the streams each with "
         "--seeds)",
         NULL},
        {"scenario", 'o', 0, G_OPTION_ARG_FILENAME, &scenario,
         "write a divergence, minimised, as this scenario file", "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- physmem against its reference model");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "diff-run: %s\n", err->message);
        return 2;
    }
    g_option_context_free(ctx);
    uint64_t total = 0, checks = 0, full = 0, diverged = 0;
    uint64_t by_kind[32] = {0}, ok_by_kind[32] = {0}, machines = 0;
    gint64 t0 = g_get_monotonic_time();
    for (gint64 i = 0; i < seeds; i++) {
        struct dt_options opt = {.seed = (uint64_t)(seed + i),
                                 .ops = (uint64_t)ops,
                                 .full_every = (unsigned)full_every,
                                 .guarantees = guarantees || (seeds > 1 && i % 2 == 1),
                                 .scenario_out = scenario,
                                 .log = stderr};
        struct dt_result res;
        bool ok = dt_run(&opt, &res);
        total += res.ops;
        checks += res.checks;
        full += res.full_checks;
        machines += res.machines;
        for (unsigned k = 0; k < 32; k++) {
            by_kind[k] += res.by_kind[k];
            ok_by_kind[k] += res.ok_by_kind[k];
        }
        if (!ok) {
            diverged++;
            printf("seed %lld: DIVERGENCE after %llu calls (minimised to %llu): %s\n",
                   (long long)opt.seed, (unsigned long long)res.ops,
                   (unsigned long long)res.minimal_ops, res.what);
        }
    }
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    printf("calls by kind (succeeded):");
    for (unsigned k = 0; dt_op_name(k) != NULL; k++)
        printf(" %s %llu (%llu)", dt_op_name(k), (unsigned long long)by_kind[k],
               (unsigned long long)ok_by_kind[k]);
    printf("\n%llu calls in %lld streams on %llu machines, %llu values compared, %llu whole-state "
           "comparisons, "
           "%llu divergences, %.1f s (%.0f calls/s)\n",
           (unsigned long long)total, (long long)seeds, (unsigned long long)machines,
           (unsigned long long)checks, (unsigned long long)full, (unsigned long long)diverged, secs,
           secs > 0 ? (double)total / secs : 0.0);
    g_free(scenario);
    return diverged == 0 ? 0 : 1;
}
