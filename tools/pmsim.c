/* pmsim.c — the command line program.
 *
 * `pmsim [--version] COMMAND [OPTIONS]`.  Global options are parsed up to
 * the first non-option (the command); each command parses its own.  Exit
 * status: 0 success, 1 the command ran and found something wrong, 2 usage
 * errors (an unknown command or option, a bad value).
 *
 * Commands today:
 * - run FILE: run a scenario file and report (SCENARIO.md): exit 0 when
 *   every step and expectation held, 1 when one did not, 2 when the file is
 *   not a valid scenario;
 * - demo: a walk through the simulated kernel on real memory — faults
 *   answered by a pager, a frame shared by two tasks, a mapping handed on,
 *   a recursive unmap — printing each event and the counters;
 * - calibrate: measure this host and write a cost table (docs/costs.md);
 * - sweep: a scenario over a grid of its parameters, in parallel (sweep.c);
 * - plot: sweep results and timelines with gnuplot (plot.c). */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "plot.h"
#include "sweep.h"
#include "pmsim-config.h"
#include "pmsim/anon_pager.h"
#include "pmsim/l4sim.h"
#include "pmsim/pool.h"
#include "pmsim/scenario.h"

#define EXIT_USAGE 2

static void print_event(void *ctx, const struct l4_event *ev)
{
    (void)ctx;
    char from[32], details[160];
    snprintf(from, sizeof from, "task %u", ev->from);
    l4_event_details(ev, from, details, sizeof details);
    printf("  [t=%" PRIu64 "ns] %-6s task %u%s\n", ev->time, l4_event_kind_name(ev->kind), ev->task,
           details);
}

static void print_stats(const l4_kernel_t *k, const pm_pool_t *pool)
{
    struct l4_stats s;
    struct pm_pool_stats ps;
    l4_stats(k, &s);
    pm_pool_stats(pool, &ps);
    printf("\ncounters:\n");
    printf("  ipcs: %" PRIu64 "\n  typed_items: %" PRIu64 "\n  pages_mapped: %" PRIu64 "\n", s.ipcs,
           s.typed_items, s.pages_mapped);
    printf("  unmaps: %" PRIu64 "\n  pages_unmapped: %" PRIu64 "\n  pages_downgraded: %" PRIu64
           "\n  tlb_flushes: %" PRIu64 "\n",
           s.unmaps, s.pages_unmapped, s.pages_downgraded, s.tlb_flushes);
    printf("  faults: %" PRIu64 " (missing %" PRIu64 ", write %" PRIu64 ", unresolved %" PRIu64
           ")\n",
           s.faults, s.faults_by_cause[L4_FAULT_MISSING], s.faults_by_cause[L4_FAULT_WRITE],
           s.faults_unresolved);
    printf("  bytes_read: %" PRIu64 "\n  bytes_written: %" PRIu64 "\n", s.bytes_read,
           s.bytes_written);
    printf("pool: %" PRIu64 " frames of %" PRIu64 " bytes, %" PRIu64 " bound, %" PRIu64
           " free, largest free run %" PRIu64 "\n",
           ps.frames, ps.page_size, ps.bound, ps.free, ps.largest_free);
}

/* One step of the demo: say what happens, check it did. */
static int expect(const char *what, pm_error_t got, pm_error_t want)
{
    bool ok = got == want;
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what, pm_strerror(got));
    return ok ? 0 : 1;
}

static int run_demo(uint32_t frames, size_t page_size, bool quiet)
{
    pm_pool_t *pool = NULL;
    l4_kernel_t *k = NULL;
    struct pm_pool_config pc = {
        .page_size = page_size, .frames = frames, .retain_frames = PM_POOL_DEFAULT_RETAIN};
    pm_error_t err = pm_pool_new(&pc, &pool);
    if (err != PM_OK) {
        fprintf(stderr, "pmsim: demo: cannot make a pool of %" PRIu32 " frames of %zu bytes: %s\n",
                frames, page_size, pm_strerror(err));
        return EXIT_USAGE;
    }
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(pool), .page_size = page_size, .frames = frames};
    if ((err = l4_kernel_new(&kc, &k)) != PM_OK) {
        fprintf(stderr, "pmsim: demo: cannot make the kernel: %s\n", pm_strerror(err));
        pm_pool_free(pool);
        return 1;
    }
    if (!quiet)
        l4_set_event_hook(k, print_event, NULL);

    int failed = 0;
    struct sim_anon_pager pager;
    l4_task_t a = 0, b = 0;
    l4_thread_t ta = 0, tb = 0;
    failed |= expect("pager thread in the root task", sim_anon_pager_init(&pager, k, pool), PM_OK);
    failed |= expect("task A", l4_task_create(k, &a), PM_OK);
    failed |= expect("task B", l4_task_create(k, &b), PM_OK);
    failed |= expect("thread of A", l4_thread_create(k, a, &ta), PM_OK);
    failed |= expect("thread of B", l4_thread_create(k, b, &tb), PM_OK);
    failed |=
        expect("A's pager is the zero-fill pager", l4_thread_set_pager(k, ta, pager.thread), PM_OK);

    const uint64_t va = 0x100000, vb = 0x300000;
    char msg[] = "hello from task A";
    char buf[64] = {0};
    printf("\nA writes %zu bytes at 0x%" PRIx64 " (unmapped: a fault, answered by the pager)\n",
           sizeof msg, va);
    failed |=
        expect("A write", l4_access(k, ta, L4_ACCESS_WRITE, va, msg, sizeof msg, NULL), PM_OK);
    failed |=
        expect("A read back", l4_access(k, ta, L4_ACCESS_READ, va, buf, sizeof msg, NULL), PM_OK);
    failed |= expect("bytes equal", strcmp(buf, msg) == 0 ? PM_OK : PM_EFAULT, PM_OK);

    printf("\nA maps its page to B read-only (a map item from A to B)\n");
    l4_msg_t m;
    l4_msg_init(&m, 0);
    l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(va, l4_page_shift(k), L4_R), vb);
    unsigned sent = 0;
    failed |= expect("send", l4_send(k, ta, tb, &m, &sent), PM_OK);
    memset(buf, 0, sizeof buf);
    failed |= expect("B reads A's bytes",
                     l4_access(k, tb, L4_ACCESS_READ, vb, buf, sizeof msg, NULL), PM_OK);
    failed |= expect("bytes equal", strcmp(buf, msg) == 0 ? PM_OK : PM_EFAULT, PM_OK);
    char x = 'X';
    failed |= expect("B writes its read-only page (no pager)",
                     l4_access(k, tb, L4_ACCESS_WRITE, vb, &x, 1, NULL), PM_EFAULT);

    printf("\nphysmem unmaps the frame: A's mapping and B's (derived from it) go\n");
    pm_pfn_t pfn = PM_PFN_NONE;
    l4_lookup(k, a, va, &pfn, NULL);
    failed |= expect(
        "unmap",
        l4_unmap(k, l4_root_thread(k),
                 l4_fpage((uint64_t)pfn.n << l4_page_shift(k), l4_page_shift(k), L4_RWX), 0, NULL),
        PM_OK);
    failed |= expect("B reads again (no pager)", l4_access(k, tb, L4_ACCESS_READ, vb, buf, 1, NULL),
                     PM_EFAULT);
    failed |= expect("A reads again (a fresh zero page)",
                     l4_access(k, ta, L4_ACCESS_READ, va, buf, sizeof msg, NULL), PM_OK);
    failed |= expect("reads zero", buf[0] == 0 ? PM_OK : PM_EFAULT, PM_OK);

    print_stats(k, pool);
    l4_kernel_free(k);
    sim_anon_pager_fini(&pager);
    pm_pool_free(pool);
    printf("\n%s\n", failed ? "demo FAILED" : "demo ok");
    return failed ? 1 : 0;
}

static int cmd_demo(int argc, char **argv)
{
    gint frames = 1024, page_size = 4096;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        {"frames", 'f', 0, G_OPTION_ARG_INT, &frames, "Physical frames in the pool (1024)", "N"},
        {"page-size", 'p', 0, G_OPTION_ARG_INT, &page_size, "Page size in bytes (4096)", "P"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not print the kernel's events", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("- walk through the simulated kernel");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    if (!ok) {
        fprintf(stderr, "pmsim demo: %s\n", error->message);
        g_error_free(error);
        return EXIT_USAGE;
    }
    if (argc > 1) {
        fprintf(stderr, "pmsim demo: unexpected argument '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    if (frames <= 0 || page_size <= 0) {
        fprintf(stderr, "pmsim demo: --frames and --page-size must be positive\n");
        return EXIT_USAGE;
    }
    return run_demo((uint32_t)frames, (size_t)page_size, quiet);
}

static int cmd_run(int argc, char **argv)
{
    gboolean json = FALSE, trace = FALSE, check = FALSE;
    char **params = NULL, *timeline = NULL, *backend = NULL, *kill = NULL;
    GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Write the report as JSON", NULL},
        {"param", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &params,
         "Set a parameter the scenario declares (params:), overriding its default", "NAME=VALUE"},
        {"backend", 'b', 0, G_OPTION_ARG_STRING, &backend,
         "The kernel's back end: sim (simulated MMU) or host-mmu (real host mappings); "
         "default $PMSIM_BACKEND, else sim",
         "NAME"},
        {"timeline", 0, 0, G_OPTION_ARG_FILENAME, &timeline,
         "Write each task's G, A and E after every step to FILE (CSV; pmsim plot --timeline)",
         "FILE"},
        {"trace", 't', 0, G_OPTION_ARG_NONE, &trace,
         "Print one line per event as it happens (to stderr with --json)", NULL},
        {"check", 'c', 0, G_OPTION_ARG_NONE, &check,
         "Check the invariants (SPEC §12) after every step", NULL},
        {"kill", 'k', 0, G_OPTION_ARG_STRING, &kill,
         "Kill TASK right after step STEP (0: before the first), checking that the other "
         "tasks' containers are unchanged by it; the run goes on",
         "TASK@STEP"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("FILE - run a scenario file");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Exit status: 0 every step and expectation held; 1 one did not (the report says\n"
             "which, and why); 2 the file is not a valid scenario (file:line:col: message).");
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    int status = EXIT_USAGE;
    sim_scenario_t *sc = NULL;
    struct sim_run_options opt = {.check = check};
    if (!ok) {
        fprintf(stderr, "pmsim run: %s\n", error->message);
        g_error_free(error);
        goto out;
    }
    if (argc != 2) {
        fprintf(stderr, "pmsim run: %s (try 'pmsim run --help')\n",
                argc < 2 ? "which scenario file?" : "one scenario file at a time");
        goto out;
    }
    if (backend != NULL && strcmp(backend, "sim") != 0 && strcmp(backend, "host-mmu") != 0) {
        fprintf(stderr, "pmsim run: --backend: sim or host-mmu, not '%s'\n", backend);
        goto out;
    }
    if (kill != NULL) {
        char *at = strrchr(kill, '@'), *end = NULL;
        unsigned long long step = at != NULL ? g_ascii_strtoull(at + 1, &end, 10) : 0;
        if (at == NULL || at == kill || end == at + 1 || *end != '\0' || at[1] == '-') {
            fprintf(stderr, "pmsim run: --kill: TASK@STEP, not '%s'\n", kill);
            goto out;
        }
        *at = '\0';
        opt.kill_task = kill;
        opt.kill_after = (size_t)step;
    }
    opt.backend = backend == NULL                    ? SIM_BACKEND_DEFAULT
                  : strcmp(backend, "host-mmu") == 0 ? SIM_BACKEND_HOST_MMU
                                                     : SIM_BACKEND_SIM;
    char *message = NULL;
    sc = sim_scenario_load_params(argv[1], (const char *const *)params, &message);
    if (sc == NULL) {
        fprintf(stderr, "%s\n", message);
        free(message);
        goto out;
    }
    if (timeline != NULL && (opt.timeline = fopen(timeline, "w")) == NULL) {
        fprintf(stderr, "pmsim run: %s: %s\n", timeline, g_strerror(errno));
        status = 1;
        goto out;
    }
    /* With --json the trace goes to stderr, so stdout stays one JSON document. */
    opt.trace = trace ? (json ? stderr : stdout) : NULL;
    sim_run_t *run = sim_scenario_run(sc, &opt);
    if (json)
        sim_run_write_json(run, stdout);
    else
        sim_run_write_text(run, stdout);
    status = sim_run_failures(run) == 0 ? 0 : 1;
    sim_run_free(run);
out:
    if (opt.timeline != NULL)
        fclose(opt.timeline);
    sim_scenario_free(sc);
    g_strfreev(params);
    g_free(timeline);
    g_free(backend);
    g_free(kill);
    return status;
}

static int cmd_calibrate(int argc, char **argv)
{
    char *output = NULL, *name = NULL, *fit = NULL;
    gboolean quick = FALSE;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
         "Write the table to FILE (default: standard output)", "FILE"},
        {"name", 'n', 0, G_OPTION_ARG_STRING, &name, "The table's name (default: host)", "NAME"},
        {"quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Fewer, smaller samples (seconds less; noisier)",
         NULL},
        {"fit", 0, 0, G_OPTION_ARG_FILENAME, &fit,
         "Measure nothing: fit the prices to a sweep's measured steps (pmsim sweep --json)",
         "SWEEP.json"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("- measure this host and write a cost table");
    g_option_context_set_description(
        ctx, "Times IPC between threads, mmap/munmap/mprotect, minor faults, page clearing,\n"
             "memcpy by size and page-sized file I/O, the best of several runs each, and\n"
             "writes a cost table (docs/costs.md) that a scenario's machine.cost can name.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    g_option_context_free(ctx);
    int status = 0;
    if (!ok || argc != 1) {
        fprintf(stderr, "pmsim calibrate: %s (try 'pmsim calibrate --help')\n",
                ok ? "no arguments expected" : error->message);
        status = EXIT_USAGE;
    } else if (name != NULL &&
               (name[0] == '\0' || strlen(name) >= 64 || strpbrk(name, "\n\r\t") != NULL)) {
        fprintf(stderr, "pmsim calibrate: --name: 1 to 63 characters on one line\n");
        status = EXIT_USAGE;
    }
    struct sim_cost_table t;
    char *text = NULL, *why = NULL;
    if (status == 0 && fit != NULL &&
        (text = pm_calibrate_fit(fit, name != NULL ? name : "fitted", &t, &why)) == NULL) {
        fprintf(stderr, "pmsim calibrate --fit: %s\n", why);
        g_free(why);
        status = 1;
    } else if (status == 0 && fit == NULL) {
        text = pm_calibrate(name != NULL ? name : "host", quick, &t);
    }
    if (status == 0) {
        if (output == NULL) {
            fputs(text, stdout);
        } else if (!g_file_set_contents(output, text, -1, &error)) {
            fprintf(stderr, "pmsim calibrate: %s\n", error->message);
            status = 1;
        } else {
            fprintf(stderr, "pmsim calibrate: wrote %s\n", output);
        }
        g_free(text);
    }
    g_clear_error(&error);
    g_free(output);
    g_free(name);
    g_free(fit);
    return status;
}

static const struct command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
} commands[] = {
    {"run", "run a scenario file and report what happened", cmd_run},
    {"demo", "walk through the simulated kernel: faults, sharing, recursive unmap", cmd_demo},
    {"calibrate", "measure this host and write a cost table", cmd_calibrate},
    {"sweep", "run a scenario over a grid of its parameters (CSV, JSON)", pm_sweep_main},
    {"plot", "plot sweep results or a timeline (SVG, PNG) with gnuplot", pm_plot_main},
};

static char *commands_text(void)
{
    GString *s = g_string_new("Commands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        g_string_append_printf(s, "  %-10s %s\n", commands[i].name, commands[i].summary);
    g_string_append(s, "\nRun 'pmsim COMMAND --help' for a command's options.");
    return g_string_free(s, FALSE);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, ""); /* GLib's help text is UTF-8 (§) */
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        {"version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("COMMAND [OPTIONS…]");
    g_option_context_set_summary(
        ctx, "pmsim simulates the Hurd-on-L4 physical memory server, its memory policy and\n"
             "self-paged tasks over real memory and a simulated L4 kernel.");
    char *desc = commands_text();
    g_option_context_set_description(ctx, desc);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_strict_posix(ctx, TRUE); /* stop at the command */
    GError *error = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &error);
    if (!ok) {
        fprintf(stderr, "pmsim: %s (try 'pmsim --help')\n", error->message);
        g_error_free(error);
        g_option_context_free(ctx);
        g_free(desc);
        return EXIT_USAGE;
    }
    if (version) {
        printf("pmsim %s\n", PMSIM_VERSION);
        g_option_context_free(ctx);
        g_free(desc);
        return 0;
    }
    if (argc < 2) {
        char *help = g_option_context_get_help(ctx, TRUE, NULL);
        fprintf(stderr, "%s", help);
        g_free(help);
        g_option_context_free(ctx);
        g_free(desc);
        return EXIT_USAGE;
    }
    g_option_context_free(ctx);
    g_free(desc);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "pmsim: unknown command '%s' (try 'pmsim --help')\n", argv[1]);
    return EXIT_USAGE;
}
