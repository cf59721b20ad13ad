/* fuzz-scenario.c — libFuzzer harness: the input is a scenario file.
 *
 * Every input goes to the loader (sim_scenario_load_string), which must
 * either accept it or refuse it with a "name:line:col: message"; it must
 * never crash, leak or read out of bounds (ASan and UBSan watch).
 *
 * An input that loads and is small is also run (sim_scenario_run with the
 * invariant checker after every step, on the simulated back end): that is
 * where a scenario's values meet physmem, the kernel and the servers, and
 * where most of the coverage is.  "Small" keeps the fuzzer fast (a run
 * takes well under a millisecond) and keeps it off the host's files:
 *  - at most RUN_FRAMES frames of at most 16 KiB, RUN_STEPS steps (lanes of
 *    parallel blocks counted), RUN_TASKS tasks;
 *  - no step that moves more than RUN_COUNT frames, RUN_BYTES bytes or
 *    RUN_REFS references, and no mapping database region over RUN_REGION;
 *  - no file path of the scenario's own for swap or a store's backing
 *    (the runner would open it read-write); temporary files only.
 * A larger scenario is only loaded.  The bounds are on the scenario, never
 * on the input's bytes, so the decision is the same on every run.
 *
 * A run's failures (a step with another outcome than expected, an
 * expectation that does not hold) are the scenario's business, not bugs.
 * A broken invariant is a bug, with one exception the SPEC makes (§4): a
 * policy server that over-commits is reported by the checker, as it should
 * be.  Any other broken invariant aborts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmsim/scenario.h"
#include "scenario_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RUN_FRAMES 256u
#define RUN_PAGE 16384u
#define RUN_STEPS 64u
#define RUN_TASKS 16u
#define RUN_COUNT 4096u
#define RUN_BYTES (256u << 10)
#define RUN_REFS 4096u
#define RUN_REGION (16u << 20)

/* True if step S (and, for a parallel block, its lanes' steps) is cheap;
 * *STEPS counts the steps seen. */
static bool step_small(const struct sim_step *s, unsigned *steps)
{
    if (++*steps > RUN_STEPS)
        return false;
    if (s->op == OP_PARALLEL) {
        for (guint i = 0; i < s->lanes->len; i++) {
            const struct sim_lane *l = g_ptr_array_index(s->lanes, i);
            for (guint j = 0; j < l->steps->len; j++)
                if (!step_small(g_ptr_array_index(l->steps, j), steps))
                    return false;
        }
        return true;
    }
    switch (s->op) {
    case OP_READ:
    case OP_WRITE:
        return s->bytes <= RUN_BYTES;
    case OP_MMAP:
    case OP_MUNMAP:
        return s->bytes <= RUN_REGION;
    case OP_ACCESS:
        return s->count <= RUN_REFS && s->bytes <= RUN_REGION;
    case OP_REPLAY:
        return s->trace == NULL || s->trace->len <= RUN_REFS;
    default:
        return s->count <= RUN_COUNT;
    }
}

/* True if SC is small enough to run on every input (see the top). */
static bool scenario_small(const struct sim_scenario *sc)
{
    if (sc->frames > RUN_FRAMES || sc->page_size > RUN_PAGE || sc->swap_path != NULL ||
        sc->swap_frames > RUN_FRAMES || sc->tasks->len > RUN_TASKS)
        return false;
    for (guint i = 0; i < sc->tasks->len; i++) {
        const struct sim_task_def *d = g_ptr_array_index(sc->tasks, i);
        if (d->backing_path != NULL || d->backing_size > RUN_BYTES)
            return false;
    }
    unsigned steps = 0;
    for (guint i = 0; i < sc->steps->len; i++)
        if (!step_small(g_ptr_array_index(sc->steps, i), &steps))
            return false;
    return true;
}

/* Abort if the run found a broken invariant other than an over-commit.
 * The runner counts them; which ones they were is in the report's lines
 * "step N (fuzz.yaml:L): invariant: …" (the scenario's own text, which
 * may say anything, is only looked at when the count says there is one). */
static void check_run(const sim_run_t *run)
{
    if (sim_run_invariant_failures(run) == 0)
        return;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    sim_run_write_text(run, f);
    fclose(f);
    for (const char *line = text; line != NULL && *line != '\0';) {
        const char *eol = strchr(line, '\n');
        size_t n = eol != NULL ? (size_t)(eol - line) : strlen(line);
        const char *file = memmem(line, n, "(fuzz.yaml:", 11);
        if (file != NULL && memmem(file, n - (size_t)(file - line), "): invariant: ", 14) != NULL &&
            memmem(line, n, "over-commit", 11) == NULL) {
            fprintf(stderr, "fuzz-scenario: a broken invariant: %.*s\n", (int)n, line);
            abort();
        }
        line = eol != NULL ? eol + 1 : NULL;
    }
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *message = NULL;
    sim_scenario_t *sc = sim_scenario_load_string("fuzz.yaml", (const char *)data, size, &message);
    if (sc == NULL) {
        /* Refused: with a message that names the place. */
        if (message == NULL || strncmp(message, "fuzz.yaml:", 10) != 0) {
            fprintf(stderr, "fuzz-scenario: refused without a positioned message: %s\n",
                    message != NULL ? message : "(none)");
            abort();
        }
        free(message);
        return 0;
    }
    if (scenario_small(sc)) {
        struct sim_run_options opt = {.check = true, .backend = SIM_BACKEND_SIM};
        sim_run_t *run = sim_scenario_run(sc, &opt);
        if (run == NULL)
            abort();
        check_run(run);
        sim_run_free(run);
    }
    sim_scenario_free(sc);
    return 0;
}
