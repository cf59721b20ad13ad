/* test-scenario.c — the scenario loader and runner (sim/scenario.c,
 * sim/runner.c; SPEC §11, shared/SCENARIO.md, issue 5), through the API of
 * pmsim/scenario.h.
 *
 * Loading: every class of bad input is refused with no scenario and a
 * message "t.yaml:LINE:COL: what" that points at the offending node (its
 * line and column are computed from the inline YAML of each case) and says
 * what is wrong: syntax errors, unknown keys, operations and flags,
 * operations of later SPEC sections, wrong types, negative and overflowing
 * numbers, bad size and time suffixes, unaligned and absurd addresses, bad
 * page sizes and machines, missing sections, empty, blank and binary files,
 * names the acting task never bound, unknown tasks, revokes of shares never
 * made, deep nesting, bad expectations and policies, duplicate keys and
 * tasks.  A huge file loads (or fails at its last line) quickly.  Good
 * files load, and sizes, times and addresses mean what SCENARIO.md says.
 *
 * Running: a passing scenario has no failure; a step with another outcome,
 * a result check (expect_count, expect_mapped, expect_frame_error,
 * expect_pattern, expect_data) or a final expectation that does not hold is
 * one failure each, and the run goes on; a name bound by a failed step
 * gives EBADF; runs are deterministic (the JSON reports of two runs differ
 * only in host time); a parallel block runs its lanes by simulated time,
 * ties broken by the seed; --check finds no problem in healthy runs and
 * names the step after which an invariant broke; the text report and the
 * trace say what happened.  Reports are read back with json-glib. */
#include <json-glib/json-glib.h>
#include <sys/resource.h>
#include <time.h>

#include <glib/gstdio.h>

#include "harness.h"
#include "pmsim/scenario.h"

/* ---- loading ------------------------------------------------------------ */

/* The start of a scenario: two tasks under a fixed policy, and a first step
 * that binds C in task a.  Lines 1-8; what a case adds starts at line 9. */
#define HEAD                                                                                       \
    "name: t\n"                                                                                    \
    "machine: { frames: 64 }\n"                                                                    \
    "policy: { kind: fixed }\n"                                                                    \
    "tasks:\n"                                                                                     \
    "  a: { guaranteed: 16, extra: true }\n"                                                       \
    "  b: { guaranteed: 16 }\n"                                                                    \
    "steps:\n"                                                                                     \
    "  - { task: a, do: create, as: C }\n"

/* Load TEXT (LEN bytes), which must fail; returns the message (free()). */
static char *load_error(const char *text, size_t len)
{
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load_string("t.yaml", text, len, &msg);
    if (sc != NULL) {
        sim_scenario_free(sc);
        ck_abort_msg("loaded, but must be refused:\n%s", text);
    }
    ck_assert_ptr_nonnull(msg);
    return msg;
}

/* Load TEXT, which must succeed. */
static sim_scenario_t *load_ok(const char *text)
{
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load_string("t.yaml", text, strlen(text), &msg);
    ck_assert_msg(sc != NULL, "refused: %s", msg ? msg : "(no message)");
    ck_assert_ptr_null(msg);
    return sc;
}

/* The message MSG is "t.yaml:LINE:COL: " followed by text containing ABOUT. */
static void assert_message(const char *msg, unsigned line, unsigned col, const char *about,
                           const char *what)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "t.yaml:%u:%u: ", line, col);
    ck_assert_msg(strncmp(msg, prefix, strlen(prefix)) == 0, "%s: '%s' does not start with '%s'",
                  what, msg, prefix);
    ck_assert_msg(strstr(msg + strlen(prefix), about) != NULL, "%s: '%s' does not say '%s'", what,
                  msg, about);
}

/* Bad inputs: each is refused at LINE:COL, the offending node. */
static const struct {
    const char *what;
    const char *text;
    unsigned line, col;
    const char *about; /* what the message must say */
} bad[] = {
    {"syntax error",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "steps: ]\n",
     3, 8, "did not find expected node content"},
    {"unclosed flow mapping",
     "name: t\n"
     "machine: { frames: 64\n"
     "tasks: {}\n",
     3, 6, "flow mapping"},
    {"unknown top-level key", HEAD "frobnicate: 1\n", 9, 1,
     "unknown key 'frobnicate' in the scenario"},
    {"unknown key in a step",
     HEAD "  - { task: a, do: allocate, container: C, count: 1, colour: red }\n", 9, 54,
     "unknown key 'colour' in a 'allocate' step"},
    {"unknown key in machine",
     "name: t\n"
     "machine: { frames: 64, cpus: 4 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 24, "unknown key 'cpus' in machine"},
    {"unknown key in a task",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { guaranteed: 1, priority: 3 }\n"
     "steps: []\n",
     4, 23, "unknown key 'priority' in task 'a'"},
    {"unknown operation", HEAD "  - { task: a, do: frobnicate }\n", 9, 20,
     "unknown operation 'frobnicate'"},
    {"pressure without frames", HEAD "  - { task: a, do: pressure }\n", 9, 5,
     "do: pressure needs 'frames'"},
    {"kill takes no arguments", HEAD "  - { task: a, do: kill, now: true }\n", 9, 26,
     "unknown key 'now'"},
    {"swap_in of ids never swapped out",
     HEAD "  - { task: a, do: swap_in, ids: I, container: C }\n", 9, 34,
     "task 'a' never swapped anything out as 'I'"},
    {"set_guarantee of negative frames",
     HEAD "  - { task: a, do: set_guarantee, control: C, target: a, frames: -1 }\n", 9, 66,
     "frames must not be negative"},
    {"swap of no frames",
     "name: t\n"
     "machine: { frames: 64, swap: { frames: 0 } }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 40, "machine.swap.frames: swap needs at least one frame"},
    {"unknown victim policy",
     "name: t\n"
     "machine: { frames: 64, victim: eldest }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 32, "unknown victim policy 'eldest' (known: most-extra, spread, youngest)"},
    {"swap_quota without a policy",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks: { a: { swap_quota: 4 } }\n"
     "steps: []\n",
     3, 27, "swap_quota: quotas come from the policy server"},
    {"unknown on_return",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks: { a: { on_return: sulk } }\n"
     "steps: []\n",
     3, 26, "on_return: 'sulk' is not comply, ignore, slow or unready"},
    {"mmap of a file from no file server",
     HEAD "  - { task: a, do: mmap, at: 0x100000, bytes: 4KiB, kind: file, file: b }\n", 9, 71,
     "file: task 'b' is not a file server (server: file)"},
    {"zipf of a negative skew",
     HEAD "  - { task: a, do: access, region: { at: 0x100000, bytes: 4KiB }, pattern: zipf,"
          " alpha: -1 }\n",
     9, 89, "alpha: '-1' is not a number from 0 to 100"},
    {"mmap without a pager",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { pager: none }\n"
     "steps:\n"
     "  - { task: a, do: mmap, at: 0x100000, bytes: 4KiB }\n",
     6, 20, "task 'a' has no pager (pager: none): mmap needs one"},
    {"unknown flag",
     HEAD "  - { task: a, do: map, container: C, count: 1, at: 0x100000, flags: [read, exec] }\n",
     9, 77, "unknown flag 'exec'"},
    {"flag of another operation",
     HEAD "  - { task: a, do: allocate, container: C, count: 1, flags: [force_write] }\n", 9, 62,
     "unknown flag 'force_write' (known: partial, squash, extra, dma)"},
    {"flags as a mapping",
     HEAD "  - { task: a, do: allocate, container: C, count: 1, flags: { partial: true } }\n", 9,
     61, "flags must be a list of names, not a mapping"},
    {"a flag that is a list",
     HEAD "  - { task: a, do: allocate, container: C, count: 1, flags: [[partial]] }\n", 9, 62,
     "a flag must be a single value, not a list"},
    {"a list where a number goes", HEAD "  - { task: a, do: allocate, container: C, count: [4] }\n",
     9, 51, "count must be a single value, not a list"},
    {"a mapping where a name goes", HEAD "  - { task: a, do: create, as: { x: 1 } }\n", 9, 32,
     "as must be a single value, not a mapping"},
    {"a string for a boolean",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { extra: maybe }\n"
     "steps: []\n",
     4, 15, "extra must be true or false, not 'maybe'"},
    {"a number for a boolean",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { extra: 1 }\n"
     "steps: []\n",
     4, 15, "extra must be true or false"},
    {"a word for a number", HEAD "  - { task: a, do: allocate, container: C, count: four }\n", 9,
     51, "count: 'four' is not a number"},
    {"negative count", HEAD "  - { task: a, do: allocate, container: C, count: -1 }\n", 9, 51,
     "count must not be negative"},
    {"negative seed", HEAD "seed: -5\n", 9, 7, "seed must not be negative"},
    {"negative size", HEAD "  - { task: a, do: write, at: 0x100000, bytes: -4KiB, pattern: 1 }\n",
     9, 48, "bytes must not be negative"},
    {"count past 2^64",
     HEAD "  - { task: a, do: allocate, container: C, count: 99999999999999999999 }\n", 9, 51,
     "count: 99999999999999999999 is too large"},
    {"count of 2^32", HEAD "  - { task: a, do: allocate, container: C, count: 4294967296 }\n", 9,
     51, "count: 4294967296 is too large (at most 4294967295)"},
    {"start of 2^32",
     HEAD "  - { task: a, do: allocate, container: C, start: 0x100000000, count: 1 }\n", 9, 51,
     "start: 0x100000000 is too large"},
    {"size suffix KB", HEAD "  - { task: a, do: write, at: 0x100000, bytes: 4KB, pattern: 1 }\n", 9,
     48, "bytes: unknown unit 'KB' (use B, KiB, MiB, GiB, TiB)"},
    {"size suffix kib", HEAD "  - { task: a, do: write, at: 0x100000, bytes: 4kib, pattern: 1 }\n",
     9, 48, "bytes: unknown unit 'kib'"},
    {"size with a fraction",
     HEAD "  - { task: a, do: write, at: 0x100000, bytes: 1.5KiB, pattern: 1 }\n", 9, 48,
     "bytes: '1.5KiB' is not a number"},
    {"time suffix min", HEAD "  - { task: a, do: lock, container: C, duration: 5min }\n", 9, 50,
     "duration: unknown unit 'min' (use ns, us, ms, s)"},
    {"time suffix h", HEAD "  - { do: advance, time: 1h }\n", 9, 26, "time: unknown unit 'h'"},
    {"time suffix sec", HEAD "  - { do: advance, time: 2sec }\n", 9, 26,
     "time: unknown unit 'sec'"},
    {"size overflowing 2^64",
     HEAD "  - { task: a, do: write, at: 0x100000, bytes: 16777216TiB, pattern: 1 }\n", 9, 48,
     "bytes: 16777216TiB is too large"},
    {"size over the access bound",
     HEAD "  - { task: a, do: write, at: 0x100000, bytes: 5GiB, pattern: 1 }\n", 9, 48,
     "bytes: 5GiB is too large"},
    {"time overflowing 2^64", HEAD "  - { do: advance, time: 18446744073710s }\n", 9, 26,
     "time: 18446744073710s is too large"},
    {"unaligned map address",
     HEAD "  - { task: a, do: map, container: C, count: 1, at: 0x100800 }\n", 9, 53,
     "at: 0x100800 is not aligned on the page size (4096)"},
    {"map address of 2^48",
     HEAD "  - { task: a, do: map, container: C, count: 1, at: 0x1000000000000 }\n", 9, 53,
     "at: 0x1000000000000 is too large"},
    {"read address of 2^64", HEAD "  - { task: a, do: read, at: 0x10000000000000000, bytes: 1 }\n",
     9, 30, "is too large"},
    {"access past 2^48",
     HEAD "  - { task: a, do: write, at: 0xfffffffff000, bytes: 8KiB, pattern: 1 }\n", 9, 31,
     "past the 48-bit address space"},
    {"page_size not a power of two",
     "name: t\n"
     "machine: { frames: 64, page_size: 6144 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 35, "page_size: 6144 is not a power of two of at least 4096"},
    {"page_size below 4096",
     "name: t\n"
     "machine:\n"
     "  frames: 64\n"
     "  page_size: 2KiB\n"
     "tasks: {}\n"
     "steps: []\n",
     4, 14, "page_size: 2048 is not a power of two of at least 4096"},
    {"page_size 0",
     "name: t\n"
     "machine: { frames: 64, page_size: 0 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 35, "page_size: 0 is not a power of two"},
    {"machine without frames",
     "name: t\n"
     "machine: { page_size: 4096 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 10, "machine needs 'frames'"},
    {"machine without frames, block",
     "name: t\n"
     "machine:\n"
     "  page_size: 4096\n"
     "tasks: {}\n"
     "steps: []\n",
     3, 3, "machine needs 'frames'"},
    {"frames: 0",
     "name: t\n"
     "machine: { frames: 0 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 20, "frames: a machine needs at least one frame"},
    {"frames past 1 TiB",
     "name: t\n"
     "machine: { frames: 1000000, page_size: 2MiB }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 20, "more than the 1 TiB"},
    {"machine is a list",
     "name: t\n"
     "machine: [64]\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 10, "machine must be a mapping, not a list"},
    {"missing machine",
     "name: t\n"
     "tasks: {}\n"
     "steps: []\n",
     1, 1, "a scenario needs 'machine'"},
    {"missing name",
     "machine: { frames: 64 }\n"
     "tasks: {}\n"
     "steps: []\n",
     1, 1, "a scenario needs 'name'"},
    {"name without a value",
     "name:\n"
     "machine: { frames: 64 }\n"
     "tasks: {}\n"
     "steps: []\n",
     1, 6, "name has no value"},
    {"missing tasks",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "steps: []\n",
     1, 1, "a scenario needs 'tasks'"},
    {"missing steps",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks: {}\n",
     1, 1, "a scenario needs 'steps'"},
    {"a list, not a mapping",
     "- name: t\n"
     "- machine: {}\n",
     1, 1, "a scenario must be a mapping"},
    {"a lone scalar", "just some words\n", 1, 1, "a scenario must be a mapping"},
    {"empty file", "", 1, 1, "the file is empty"},
    {"blank file",
     "  \n"
     "\n"
     "\t \r\n",
     1, 1, "the file is empty"},
    {"comments only",
     "# nothing here\n"
     "# at all\n",
     1, 1, "the file holds no scenario"},
    {"capability never bound", HEAD "  - { task: a, do: allocate, container: X, count: 1 }\n", 9,
     41, "task 'a' has bound no capability named 'X'"},
    {"capability bound later",
     HEAD "  - { task: a, do: allocate, container: D, count: 1 }\n"
          "  - { task: a, do: create, as: D }\n",
     9, 41, "task 'a' has bound no capability named 'D'"},
    {"capability of another task", HEAD "  - { task: b, do: allocate, container: C, count: 1 }\n",
     9, 41, "task 'b' has bound no capability named 'C'"},
    {"the sharee's name used by the owner",
     HEAD "  - { task: a, do: share, container: C, with: b, as: W }\n"
          "  - { task: a, do: map, container: W, count: 1, at: 0x100000 }\n",
     10, 36, "task 'a' has bound no capability named 'W'"},
    {"capability never bound, block step",
     HEAD "  - task: a\n"
          "    do: destroy\n"
          "    container: Q\n",
     11, 16, "task 'a' has bound no capability named 'Q'"},
    {"copy source never bound", HEAD "  - { task: a, do: copy, src: S, dest: C, count: 1 }\n", 9,
     31, "has bound no capability named 'S'"},
    {"unknown acting task", HEAD "  - { task: nobody, do: create, as: D }\n", 9, 13,
     "task: unknown task 'nobody'"},
    {"unknown sharee", HEAD "  - { task: a, do: share, container: C, with: nobody, as: W }\n", 9,
     47, "with: unknown task 'nobody'"},
    {"unknown receiver of give",
     HEAD "  - { task: a, do: give, container: C, to: nobody, as: G }\n", 9, 44,
     "to: unknown task 'nobody'"},
    {"unknown lane task",
     HEAD "  - parallel:\n"
          "      nobody: [ { do: advance, time: 1 } ]\n",
     10, 7, "parallel: unknown task 'nobody'"},
    {"step without a task", HEAD "  - { do: create, as: D }\n", 9, 5, "a step needs 'task'"},
    {"step without do", HEAD "  - { task: a, as: D }\n", 9, 5, "a step needs 'do'"},
    {"a step that is a scalar", HEAD "  - create\n", 9, 5, "a step must be a mapping"},
    {"revoke of a ref never shared", HEAD "  - { task: a, do: revoke, container: C, ref: Z }\n", 9,
     47, "task 'a' never shared anything as 'Z'"},
    {"revoke of another task's share",
     HEAD "  - { task: a, do: share, container: C, with: b, as: W }\n"
          "  - { task: b, do: create, as: C }\n"
          "  - { task: b, do: revoke, container: C, ref: W }\n",
     11, 47, "task 'b' never shared anything as 'W'"},
    {"expect an unknown error", HEAD "  - { task: a, do: create, as: D, expect: EWHAT }\n", 9, 43,
     "expect: 'EWHAT' is neither ok nor an error name"},
    {"expect in lower case", HEAD "  - { task: a, do: create, as: D, expect: eexist }\n", 9, 43,
     "'eexist' is neither ok nor an error name"},
    {"policy grace not a time",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "policy: { kind: proportional, grace: soon }\n"
     "tasks: {}\n"
     "steps: []\n",
     3, 38, "policy.grace: unknown unit 'soon' (use ns, us, ms, s)"},
    {"unknown policy kind",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "policy: { kind: lottery }\n"
     "tasks: {}\n"
     "steps: []\n",
     3, 17, "unknown policy kind 'lottery' (known: fixed, proportional)"},
    {"policy without kind",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "policy: { }\n"
     "tasks: {}\n"
     "steps: []\n",
     3, 9, "policy needs 'kind'"},
    {"unknown eviction policy",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { pager: { policy: mru } }\n"
     "steps: []\n",
     4, 25, "unknown eviction policy 'mru' (known: fifo, lru, clock, hint, opt)"},
    {"final pager of one frame",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { pager: { final_frames: 1 } }\n"
     "steps: []\n",
     4, 31,
     "pager.final_frames: the final pager needs at least 2 frames (the record a fault resolves, "
     "and one more)"},
    {"final pager frames not a number",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { pager: { final_frames: many } }\n"
     "steps: []\n",
     4, 31, "pager.final_frames: 'many' is not a number"},
    {"duplicate top-level key", HEAD "name: again\n", 9, 1, "'name' appears twice in the scenario"},
    {"duplicate key in a step",
     HEAD "  - { task: a, do: allocate, container: C, count: 1, count: 2 }\n", 9, 54,
     "'count' appears twice in a 'allocate' step"},
    {"duplicate key in machine",
     "name: t\n"
     "machine: { frames: 64, frames: 32 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 24, "'frames' appears twice in machine"},
    {"duplicate key in a task",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { guaranteed: 1, guaranteed: 2 }\n"
     "steps: []\n",
     4, 23, "'guaranteed' appears twice in task 'a'"},
    {"duplicate task names",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a: { guaranteed: 1 }\n"
     "  a: { guaranteed: 2 }\n"
     "steps: []\n",
     5, 3, "task 'a' is declared twice"},
    {"duplicate lanes",
     HEAD "  - parallel:\n"
          "      a: [ { do: advance, time: 1 } ]\n"
          "      a: [ { do: advance, time: 2 } ]\n",
     11, 7, "task 'a' has two lanes in one parallel block"},
    {"nested parallel blocks",
     HEAD "  - parallel:\n"
          "      a:\n"
          "        - parallel: { b: [] }\n",
     11, 11, "parallel blocks do not nest"},
    {"lane step naming another task",
     HEAD "  - parallel:\n"
          "      a: [ { task: b, do: create, as: D } ]\n",
     10, 20, "a step in task 'a''s lane names task 'b'"},
    {"unknown comparison",
     HEAD "expect:\n"
          "  tasks.a.allocated: { \"=~\": 1 }\n",
     10, 24, "unknown comparison '=~'"},
    {"string compared by order",
     HEAD "expect:\n"
          "  scenario: { \">\": abc }\n",
     10, 20, "'abc' is not a number: only == and != compare strings"},
    {"write without a value", HEAD "  - { task: a, do: write, at: 0x100000, bytes: 4 }\n", 9, 5,
     "do: write needs 'pattern' (a byte) or 'data' (a string)"},
    {"pattern past a byte",
     HEAD "  - { task: a, do: write, at: 0x100000, bytes: 4, pattern: 256 }\n", 9, 60,
     "pattern: 256 is too large (at most 255)"},
    {"copy with start and frames",
     HEAD "  - { task: a, do: copy, src: C, src_start: 0, src_frames: [0], dest: C, count: 1 }\n",
     9, 45, "give src_start or src_frames, not both"},
    {"copy count against its list",
     HEAD "  - { task: a, do: copy, src: C, src_frames: [0, 1], dest: C, count: 3 }\n", 9, 5,
     "count 3 does not match a frame list of 2"},
    {"empty frame list", HEAD "  - { task: a, do: release_data, container: C, frames: [] }\n", 9,
     56, "frames must not be empty"},
    {"task name with a dot",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  a.b: {}\n"
     "steps: []\n",
     4, 3, "task name 'a.b' must not contain '.'"},
    {"map_items of 0",
     "name: t\n"
     "machine: { frames: 64, map_items: 0 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 35, "map_items: a message carries at least one item"},
    {"dma_frames past frames",
     "name: t\n"
     "machine: { frames: 64, dma_frames: 65 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 36, "dma_frames: 65 is more than the 64 frames"},
    {"unknown cost table",
     "name: t\n"
     "machine: { frames: 64, cost: l4-x9 }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 30, "machine.cost: no cost table 'l4-x9'"},
    {"cost table file missing",
     "name: t\n"
     "machine: { frames: 64, cost: nowhere/costs.yaml }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 30, "machine.cost: no cost table file"},
    {"cost table not a name",
     "name: t\n"
     "machine: { frames: 64, cost: [ipc] }\n"
     "tasks: {}\n"
     "steps: []\n",
     2, 30, "machine.cost"},
    {"file server without a store",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  fs: { server: file }\n"
     "steps: []\n",
     4, 7, "task 'fs' is a file server: it needs 'store' (a store task)"},
    {"keep_mappings on a task that is no file server",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  s: { server: store, backing: { size: 4KiB }, keep_mappings: true }\n"
     "steps: []\n",
     4, 63, "keep_mappings: only a file server (server: file) has them"},
    {"keep_mappings not a boolean",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  s: { server: store, backing: { size: 4KiB } }\n"
     "  fs: { server: file, store: s, keep_mappings: often }\n"
     "steps: []\n",
     5, 48, "keep_mappings must be true or false"},
    {"store without backing",
     "name: t\n"
     "machine: { frames: 64 }\n"
     "tasks:\n"
     "  s: { server: store }\n"
     "steps: []\n",
     4, 6, "task 's' is a store: it needs 'backing'"},
    {"read_into by a task that is no file server",
     HEAD "  - { task: a, do: read_into, container: C, count: 1 }\n", 9, 13,
     "do: read_into is done by a file server (SCENARIO.md): task 'a' is not one"},
    {"an alias",
     HEAD "name: &n t\n"
          "description: *n\n",
     10, 14, "aliases are not supported"},
    {"a second document",
     HEAD "---\n"
          "name: u\n",
     9, 1, "a second YAML document"},
    /* Refused by the contract; the loader of issue 5 still accepts them: an
     * empty data string (a run then divides by zero), a duplicate key in
     * expect:, and an expected value past 2^63 (clamped). */
    {"empty write data", HEAD "  - { task: a, do: write, at: 0x100000, bytes: 4, data: \"\" }\n", 9,
     57, "data must not be empty"},
    {"duplicate expectation path",
     HEAD "expect:\n"
          "  tasks.a.allocated: 0\n"
          "  tasks.a.allocated: 1\n",
     11, 3, "'tasks.a.allocated' appears twice"},
    {"expected value past 2^63",
     HEAD "expect:\n"
          "  counters.faults: { \"<\": 99999999999999999999 }\n",
     10, 27, "too large"},
};

START_TEST(test_bad_input)
{
    char *msg = load_error(bad[_i].text, strlen(bad[_i].text));
    assert_message(msg, bad[_i].line, bad[_i].col, bad[_i].about, bad[_i].what);
    free(msg);
}
END_TEST

/* NUL bytes, invalid UTF-8 and control characters: refused where they are. */
START_TEST(test_binary_content)
{
    static const char nul[] = HEAD "  - { task: a, do: cre\0ate, as: D }\n";
    char *msg = load_error(nul, sizeof nul - 1);
    assert_message(msg, 9, 23, "NUL", "a NUL byte");
    free(msg);

    static const char nul_first[] = "\0\x01\x02\x03";
    msg = load_error(nul_first, sizeof nul_first - 1);
    assert_message(msg, 1, 1, "NUL", "a NUL byte first");
    free(msg);

    static const char *const bytes[] = {
        HEAD "description: \xff\xfe\n", /* bytes no UTF-8 text holds */
        HEAD "description: ab\x80\n",   /* a continuation byte alone */
        HEAD "description: a\x01z\n",   /* a control character */
    };
    static const unsigned cols[] = {14, 16, 15};
    for (size_t i = 0; i < G_N_ELEMENTS(bytes); i++) {
        msg = load_error(bytes[i], strlen(bytes[i]));
        assert_message(msg, 9, cols[i], "", "binary content");
        free(msg);
    }
}
END_TEST

/* Nesting past the bound is refused at the node that goes too deep (the
 * root mapping is the first level, the 64th '[' the 65th); just inside the
 * bound it reaches the loader, which refuses the value for what it is. */
START_TEST(test_deep_nesting)
{
    GString *s = g_string_new(HEAD "description: ");
    for (int i = 0; i < 1000; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < 1000; i++)
        g_string_append_c(s, ']');
    g_string_append_c(s, '\n');
    char *msg = load_error(s->str, s->len);
    assert_message(msg, 9, 14 + 63, "nested too deeply", "1000 levels");
    free(msg);
    g_string_free(s, TRUE);

    /* Deep block mappings inside a step's argument. */
    s = g_string_new(HEAD "  - task: a\n    do: create\n    as:\n");
    for (int i = 0; i < 200; i++)
        g_string_append_printf(s, "%*sk:\n", 6 + 2 * i, "");
    msg = load_error(s->str, s->len);
    ck_assert_msg(strstr(msg, "nested too deeply") != NULL, "%s", msg);
    ck_assert_msg(g_str_has_prefix(msg, "t.yaml:"), "%s", msg);
    free(msg);
    g_string_free(s, TRUE);

    s = g_string_new(HEAD "description: ");
    for (int i = 0; i < 62; i++)
        g_string_append_c(s, '[');
    for (int i = 0; i < 62; i++)
        g_string_append_c(s, ']');
    g_string_append_c(s, '\n');
    msg = load_error(s->str, s->len);
    assert_message(msg, 9, 14, "description must be text", "62 levels");
    free(msg);
    g_string_free(s, TRUE);
}
END_TEST

/* 200,000 steps: they load fast and run; one bad step at the end is found
 * at its line. */
#define HUGE_STEPS 200000

static GString *huge_document(void)
{
    GString *s = g_string_new("name: huge\n"
                              "machine: { frames: 64 }\n"
                              "tasks: { a: {} }\n"
                              "steps:\n"
                              "  - { task: a, do: create, as: C }\n");
    for (int i = 1; i < HUGE_STEPS; i++)
        g_string_append_printf(s, "  - { task: a, do: %s, container: C, start: 0, count: 1 }\n",
                               i % 2 ? "allocate" : "deallocate");
    return s;
}

START_TEST(test_huge_document)
{
    /* How fast is bench-scenario's business; here: it loads and runs. */
    GString *s = huge_document();
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load_string("t.yaml", s->str, s->len, &msg);
    ck_assert_msg(sc != NULL, "%s", msg);
    ck_assert_uint_eq(sim_scenario_steps(sc), HUGE_STEPS);
    sim_run_t *run = sim_scenario_run(sc, NULL);
    ck_assert_uint_eq(sim_run_failures(run), 0);
    sim_run_free(run);
    sim_scenario_free(sc);

    /* The same with a bad last step: refused, at line 5 + HUGE_STEPS. */
    g_string_append(s, "  - { task: a, do: allocate, container: Q, count: 1 }\n");
    msg = load_error(s->str, s->len);
    assert_message(msg, 5 + HUGE_STEPS, 41, "has bound no capability named 'Q'", "last step");
    free(msg);
    g_string_free(s, TRUE);
}
END_TEST

/* Files: a missing one, a real one, a bad one named by its path. */
START_TEST(test_files)
{
    char *msg = NULL;
    ck_assert_ptr_null(sim_scenario_load("/nonexistent/dir/s.yaml", &msg));
    ck_assert_msg(g_str_has_prefix(msg, "/nonexistent/dir/s.yaml:1:1: "), "%s", msg);
    free(msg);

    char dir[] = "/tmp/pmsim-scenario-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *path = g_build_filename(dir, "s.yaml", NULL);
    const char *text = HEAD "  - { task: a, do: allocate, container: C, count: 2 }\n";
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    msg = NULL;
    sim_scenario_t *sc = sim_scenario_load(path, &msg);
    ck_assert_msg(sc != NULL, "%s", msg);
    ck_assert_uint_eq(sim_scenario_steps(sc), 2);
    sim_scenario_free(sc);

    text = HEAD "  - { task: a, do: allocate, container: C, count: 2KiB }\n";
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    ck_assert_ptr_null(sim_scenario_load(path, &msg));
    char *want = g_strdup_printf("%s:9:51: count: '2KiB' is not a number", path);
    ck_assert_str_eq(msg, want);
    g_free(want);
    free(msg);
    unlink(path);
    rmdir(dir);
    g_free(path);

    /* A NULL message pointer is allowed. */
    ck_assert_ptr_null(sim_scenario_load_string("t.yaml", "", 0, NULL));
    sim_scenario_free(NULL);
}
END_TEST

/* ---- running ------------------------------------------------------------ */

/* What a run said: its failure count, its JSON report read back, its text. */
struct outcome {
    size_t failures;
    JsonNode *json;
    char *text;
};

static JsonNode *parse_json(const char *text, size_t len)
{
    JsonParser *p = json_parser_new();
    GError *err = NULL;
    ck_assert_msg(json_parser_load_from_data(p, text, (gssize)len, &err), "bad JSON: %s",
                  err ? err->message : "?");
    JsonNode *root = json_node_copy(json_parser_get_root(p));
    g_object_unref(p);
    ck_assert(JSON_NODE_HOLDS_OBJECT(root));
    return root;
}

static struct outcome run_scenario(const sim_scenario_t *sc, const struct sim_run_options *opt)
{
    struct outcome o;
    sim_run_t *run = sim_scenario_run(sc, opt);
    ck_assert_ptr_nonnull(run);
    o.failures = sim_run_failures(run);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sim_run_write_json(run, f);
    fclose(f);
    ck_assert_msg(len > 0 && buf[0] == '{', "the JSON report starts with '%c'", len ? buf[0] : ' ');
    o.json = parse_json(buf, len);
    free(buf);
    f = open_memstream(&o.text, &len);
    sim_run_write_text(run, f);
    fclose(f);
    sim_run_free(run);
    return o;
}

/* Load TEXT (which must load) and run it with OPT. */
static struct outcome run_text(const char *text, const struct sim_run_options *opt)
{
    sim_scenario_t *sc = load_ok(text);
    struct outcome o = run_scenario(sc, opt);
    sim_scenario_free(sc);
    return o;
}

static void outcome_free(struct outcome *o)
{
    json_node_unref(o->json);
    free(o->text);
}

/* The node at PATH in a report ("tasks.a.allocated", "steps.0.line"). */
static JsonNode *jnode(JsonNode *root, const char *path)
{
    gchar **parts = g_strsplit(path, ".", -1);
    JsonNode *n = root;
    for (gchar **p = parts; n != NULL && *p != NULL; p++) {
        if (JSON_NODE_HOLDS_OBJECT(n)) {
            JsonObject *o = json_node_get_object(n);
            n = json_object_has_member(o, *p) ? json_object_get_member(o, *p) : NULL;
        } else if (JSON_NODE_HOLDS_ARRAY(n)) {
            JsonArray *a = json_node_get_array(n);
            guint i = (guint)atoi(*p);
            n = i < json_array_get_length(a) ? json_array_get_element(a, i) : NULL;
        } else {
            n = NULL;
        }
    }
    g_strfreev(parts);
    return n;
}

static gint64 jint(JsonNode *root, const char *path)
{
    JsonNode *n = jnode(root, path);
    ck_assert_msg(n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
                      json_node_get_value_type(n) == G_TYPE_INT64,
                  "%s is not a number in the report", path);
    return json_node_get_int(n);
}

static const char *jstr(JsonNode *root, const char *path)
{
    JsonNode *n = jnode(root, path);
    ck_assert_msg(n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
                      json_node_get_value_type(n) == G_TYPE_STRING,
                  "%s is not a string in the report", path);
    return json_node_get_string(n);
}

static bool jbool(JsonNode *root, const char *path)
{
    JsonNode *n = jnode(root, path);
    ck_assert_msg(n != NULL && JSON_NODE_HOLDS_VALUE(n) &&
                      json_node_get_value_type(n) == G_TYPE_BOOLEAN,
                  "%s is not a boolean in the report", path);
    return json_node_get_boolean(n);
}

static guint jlen(JsonNode *root, const char *path)
{
    JsonNode *n = jnode(root, path);
    ck_assert_msg(n != NULL && JSON_NODE_HOLDS_ARRAY(n), "%s is not a list in the report", path);
    return json_array_get_length(json_node_get_array(n));
}

/* Failure I of the report is exactly WANT. */
static void assert_failure(struct outcome *o, guint i, const char *want)
{
    char path[32];
    snprintf(path, sizeof path, "failures.%u", i);
    ck_assert_str_eq(jstr(o->json, path), want);
}

/* Step I (0-based) of the report: its line, task, operation and outcome. */
static void assert_step(struct outcome *o, guint i, gint64 line, const char *task, const char *op,
                        const char *outcome, bool ok)
{
    char path[64];
    snprintf(path, sizeof path, "steps.%u.index", i);
    ck_assert_int_eq(jint(o->json, path), i + 1);
    snprintf(path, sizeof path, "steps.%u.line", i);
    ck_assert_int_eq(jint(o->json, path), line);
    snprintf(path, sizeof path, "steps.%u.task", i);
    ck_assert_str_eq(jstr(o->json, path), task);
    snprintf(path, sizeof path, "steps.%u.do", i);
    ck_assert_str_eq(jstr(o->json, path), op);
    snprintf(path, sizeof path, "steps.%u.outcome", i);
    ck_assert_str_eq(jstr(o->json, path), outcome);
    snprintf(path, sizeof path, "steps.%u.ok", i);
    ck_assert_int_eq(jbool(o->json, path), ok);
}

/* A scenario with one of every operation the model has so far; it passes,
 * with the invariants checked after every step. */
static const char every_op[] =
    "name: every operation\n"
    "description: one of each\n"
    "seed: 7\n"
    "machine: { frames: 128, page_size: 4KiB, dma_frames: 8, map_items: 31 }\n"
    "policy: { kind: fixed }\n"
    "tasks:\n"
    "  a: { guaranteed: 48, extra: true, weight: 2, pager: none }\n"
    "  b: { guaranteed: 32 }\n"
    "  c:\n"
    "steps:\n"
    "  - { task: a, do: create, as: C }\n"
    "  - { task: a, do: allocate, container: C, start: 0, count: 8, flags: [partial],"
    " expect_count: 8 }\n"
    "  - { task: a, do: allocate, container: C, start: 8, count: 1, flags: dma }\n"
    "  - { task: a, do: deallocate, container: C, start: 8, count: 1, expect_count: 1 }\n"
    "  - { task: a, do: map, container: C, start: 0, count: 8, at: 0x100000,"
    " flags: [read, write], expect_mapped: 8 }\n"
    "  - { task: a, do: write, at: 0x100000, bytes: 8KiB, pattern: 0xab }\n"
    "  - { task: a, do: write, at: 0x102000, data: \"hello\" }\n"
    "  - { task: a, do: read, at: 0x102000, bytes: 5, expect_data: \"hello\" }\n"
    "  - { task: a, do: share, container: C, with: b, as: W }\n"
    "  - { task: b, do: lock, container: W, duration: 1ms }\n"
    "  - { task: b, do: unlock, container: W }\n"
    "  - { task: a, do: revoke, container: C, ref: W }\n"
    "  - { task: b, do: map, container: W, count: 1, at: 0x100000, expect: EBADF }\n"
    "  - { task: a, do: create, as: D }\n"
    "  - { task: a, do: allocate, container: D, count: 8 }\n"
    "  - { task: a, do: copy, src: C, src_start: 0, dest: D, dest_start: 0, count: 2 }\n"
    "  - { task: a, do: copy, src: C, src_frames: [3, 2], dest: D, dest_start: 2 }\n"
    "  - { task: a, do: copy, src: C, src_start: 4, dest: D, dest_frames: [5, 4] }\n"
    "  - { task: a, do: copy, src: C, src_frames: [6], dest: D, dest_frames: [6],"
    " flags: [shared] }\n"
    "  - { task: a, do: create_with, count: 2, with: b, as: E, weak: WE }\n"
    "  - { task: a, do: create_from, source: C, start: 0, count: 2, with: c, as: F, weak: WF }\n"
    "  - { task: a, do: create_gather, source: C, frames: [1, 0], with: b, as: G, weak: WG }\n"
    "  - { task: a, do: release_data, container: D, frames: [0, 1] }\n"
    "  - { task: a, do: give, container: D, to: c, as: H }\n"
    "  - { task: c, do: deallocate, container: H, start: 7, count: 1 }\n"
    "  - { task: b, do: map, container: WE, count: 2, at: 0x200000, flags: [read] }\n"
    "  - task: a\n"
    "    do: destroy\n"
    "    container: G\n"
    "  - { do: advance, time: 2us }\n"
    "  - parallel:\n"
    "      a: [ { do: advance, time: 5 }, { do: read, at: 0x100000, bytes: 1,"
    " expect_pattern: 0xab } ]\n"
    "      b: [ { task: b, do: read, at: 0x200000, bytes: 4KiB, expect_pattern: 0 } ]\n"
    "expect:\n"
    "  tasks.a.allocated: 19\n"
    "  tasks.c.allocated: 0\n"
    "  time.simulated_ns: 2005\n"
    "  counters.bytes_copied: { \"==\": 0 }\n"
    "  counters.rpcs: { \">=\": 20 }\n"
    "  scenario: every operation\n";

START_TEST(test_every_operation)
{
    sim_scenario_t *sc = load_ok(every_op);
    ck_assert_uint_eq(sim_scenario_steps(sc), 29); /* the parallel block counts one */
    struct sim_run_options opt = {.check = true};
    struct outcome o = run_scenario(sc, &opt);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    ck_assert_str_eq(jstr(o.json, "scenario"), "every operation");
    ck_assert_str_eq(jstr(o.json, "description"), "one of each");
    ck_assert_int_eq(jint(o.json, "seed"), 7);
    ck_assert_int_eq(jint(o.json, "machine.dma_frames"), 8);
    ck_assert_uint_eq(jlen(o.json, "steps"), 31);
    ck_assert_uint_eq(jlen(o.json, "failures"), 0);
    ck_assert(jbool(o.json, "ok"));
    ck_assert_int_eq(jint(o.json, "tasks.a.guaranteed"), 48);
    ck_assert_int_eq(jint(o.json, "tasks.b.guaranteed"), 32);
    ck_assert(jbool(o.json, "tasks.a.extra_eligible"));
    ck_assert_int_eq(jint(o.json, "tasks.b.resident"), 2);
    assert_step(&o, 12, 23, "b", "map", "EBADF", true);
    ck_assert_str_eq(jstr(o.json, "steps.12.expect"), "EBADF");
    sim_scenario_free(sc);
    outcome_free(&o);

    /* Every field SCENARIO.md promises is in the report. */
    static const char *const fields[] = {
        "tasks.a.guaranteed",
        "tasks.a.allocated",
        "tasks.a.extra",
        "tasks.a.resident",
        "tasks.a.faults",
        "tasks.a.evictions",
        "counters.rpcs",
        "counters.ipcs",
        "counters.map_items",
        "counters.unmaps",
        "counters.faults",
        "counters.cow_breaks",
        "counters.bytes_copied",
        "counters.frames_bound",
        "counters.frames_moved",
        "counters.reclaim_upcalls",
        "counters.exiles",
        "counters.swap_writes",
        "counters.swap_reads",
        "counters.soft_reclaimed",
        "counters.soft_lost",
        "counters.evictions",
        "time.simulated_ns",
        "time.host_ns",
        "seed",
    };
    o = run_text(every_op, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
        (void)jint(o.json, fields[i]);
    outcome_free(&o);
}
END_TEST

/* Sizes, times and addresses mean what SCENARIO.md says. */
START_TEST(test_units)
{
    struct outcome o =
        run_text("name: units\n"
                 "machine: { frames: 0x40, page_size: 16KiB }\n"
                 "tasks: { a: {} }\n"
                 "steps:\n"
                 "  - { task: a, do: create, as: C }\n"
                 "  - { task: a, do: allocate, container: C, count: 1_0 }\n"
                 "  - { task: a, do: map, container: C, count: 10, at: 0x10000 }\n"
                 "  - { task: a, do: write, at: 0x10000, bytes: 1 KiB, pattern: 1 }\n"
                 "  - { task: a, do: write, at: 0x10400, bytes: 3B, pattern: 2 }\n"
                 "  - { task: a, do: write, at: 0x20000, bytes: 1024, pattern: 3 }\n"
                 "  - { task: a, do: read, at: 0x10000, bytes: 0x400,"
                 " expect_pattern: 1 }\n"
                 "  - { task: a, do: read, at: 0x10400, bytes: 3, expect_pattern: 2 }\n"
                 "  - { do: advance, time: 1s }\n"
                 "  - { do: advance, time: 2ms }\n"
                 "  - { do: advance, time: 3us }\n"
                 "  - { do: advance, time: 4ns }\n"
                 "  - { do: advance, time: 5 }\n"
                 "expect:\n"
                 "  tasks.a.bytes_written: 2051\n"
                 "  tasks.a.bytes_read: { \">\": 1KiB }\n"
                 "  tasks.a.allocated: 10\n",
                 NULL);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    ck_assert_int_eq(jint(o.json, "machine.frames"), 64);
    ck_assert_int_eq(jint(o.json, "machine.page_size"), 16384);
    ck_assert_int_eq(jint(o.json, "time.simulated_ns"), 1002003009);
    ck_assert_int_eq(jint(o.json, "tasks.a.bytes_read"), 1027);
    outcome_free(&o);
}
END_TEST

/* A step with another outcome is a failure, and the run goes on. */
START_TEST(test_failure_continues)
{
    struct outcome o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 2 }\n"
                                     "  - { task: a, do: allocate, container: C, count: 2,"
                                     " expect: ok }\n"
                                     "  - { task: a, do: allocate, container: C, start: 4,"
                                     " count: 2, expect: EEXIST }\n"
                                     "  - { task: a, do: allocate, container: C, start: 8,"
                                     " count: 3 }\n",
                                NULL);
    ck_assert_uint_eq(o.failures, 2);
    ck_assert_uint_eq(jlen(o.json, "failures"), 2);
    assert_failure(&o, 0, "step 3 (t.yaml:10): allocate by a gave EEXIST, expected ok");
    assert_failure(&o, 1, "step 4 (t.yaml:11): allocate by a gave ok, expected EEXIST");
    ck_assert(!jbool(o.json, "ok"));
    ck_assert_uint_eq(jlen(o.json, "steps"), 5);
    assert_step(&o, 2, 10, "a", "allocate", "EEXIST", false);
    ck_assert_str_eq(jstr(o.json, "steps.2.expect"), "ok");
    assert_step(&o, 3, 11, "a", "allocate", "ok", false);
    assert_step(&o, 4, 12, "a", "allocate", "ok", true); /* ran after the failures */
    ck_assert_int_eq(jint(o.json, "steps.4.count"), 3);
    ck_assert_int_eq(jint(o.json, "tasks.a.allocated"), 7);
    outcome_free(&o);
}
END_TEST

/* expect_count, expect_mapped and expect_frame_error: a mismatch is a
 * failure saying both values; a match is none. */
START_TEST(test_result_checks)
{
    struct outcome o = run_text(
        HEAD "  - { task: a, do: allocate, container: C, count: 4, expect_count: 3 }\n"
             "  - { task: a, do: allocate, container: C, start: 4, count: 2, expect_count: 2 }\n"
             "  - { task: a, do: map, container: C, count: 4, at: 0x100000, expect_mapped: 2 }\n"
             "  - { task: a, do: map, container: C, count: 6, at: 0x100000, expect_mapped: 6 }\n"
             "  - { task: a, do: create, as: D }\n"
             "  - { task: a, do: allocate, container: D, count: 2 }\n"
             "  - { task: a, do: copy, src: C, src_start: 0, dest: D, dest_start: 0, count: 4,"
             " flags: [all_or_none], expect: ENOMEM, expect_frame_error: 1 }\n"
             "  - { task: a, do: copy, src: C, src_start: 0, dest: D, dest_start: 0, count: 4,"
             " flags: [all_or_none], expect: ENOMEM, expect_frame_error: 2 }\n"
             "  - { task: a, do: copy, src: C, src_start: 0, dest: D, dest_start: 0, count: 2,"
             " expect_frame_error: 0 }\n"
             "  - { task: a, do: deallocate, container: C, start: 4, count: 2,"
             " expect_count: 1 }\n",
        NULL);
    ck_assert_uint_eq(o.failures, 5);
    assert_failure(&o, 0, "step 2 (t.yaml:9): allocate by a: count is 4, expected 3");
    assert_failure(&o, 1, "step 4 (t.yaml:11): map by a mapped 4 frames, expected 2");
    assert_failure(&o, 2, "step 8 (t.yaml:15): copy by a: frame_error is 2, expected 1");
    assert_failure(&o, 3, "step 10 (t.yaml:17): copy by a set no frame_error, expected 0");
    assert_failure(&o, 4, "step 11 (t.yaml:18): deallocate by a: count is 2, expected 1");
    assert_step(&o, 1, 9, "a", "allocate", "ok", false); /* the outcome was right */
    assert_step(&o, 2, 10, "a", "allocate", "ok", true);
    ck_assert_int_eq(jint(o.json, "steps.3.mapped"), 4);
    assert_step(&o, 4, 12, "a", "map", "ok", true);
    assert_step(&o, 7, 15, "a", "copy", "ENOMEM", false);
    ck_assert_int_eq(jint(o.json, "steps.7.frame_error"), 2);
    assert_step(&o, 8, 16, "a", "copy", "ENOMEM", true);
    assert_step(&o, 9, 17, "a", "copy", "ok", false);
    outcome_free(&o);
}
END_TEST

/* expect_pattern and expect_data: a mismatch is a failure naming the
 * address of the first byte that differs, its value and the one expected. */
START_TEST(test_data_checks)
{
    struct outcome o = run_text(
        HEAD "  - { task: a, do: allocate, container: C, count: 3 }\n"
             "  - { task: a, do: map, container: C, count: 3, at: 0x100000 }\n"
             "  - { task: a, do: write, at: 0x100000, bytes: 8KiB, pattern: 0x11 }\n"
             "  - { task: a, do: write, at: 0x101ffe, data: \"xyz\" }\n"
             "  - { task: a, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0x11 }\n"
             "  - { task: a, do: read, at: 0x101ffe, bytes: 3, expect_data: \"xyz\" }\n"
             "  - { task: a, do: read, at: 0x101ffe, bytes: 6, expect_data: \"xyz\" }\n"
             "  - { task: a, do: read, at: 0x100000, bytes: 2, expect_data: \"\\x11\\x11\" }\n"
             "  - { task: a, do: read, at: 0x101ff0, bytes: 16, expect_pattern: 0x11 }\n"
             "  - { task: a, do: write, at: 0x100000, bytes: 4, data: \"ab\" }\n"
             "  - { task: a, do: read, at: 0x100000, bytes: 4, expect_data: \"ab\" }\n"
             "  - { task: a, do: read, at: 0x100000, bytes: 4, expect_data: \"abba\" }\n",
        NULL);
    ck_assert_uint_eq(o.failures, 4);
    assert_failure(&o, 0,
                   "step 6 (t.yaml:13): read by a: the byte at 0x101ffe is 0x78, "
                   "expected 0x11");
    assert_failure(&o, 1,
                   "step 8 (t.yaml:15): read by a: the byte at 0x102001 is 0x00, "
                   "expected 0x78");
    assert_failure(&o, 2,
                   "step 10 (t.yaml:17): read by a: the byte at 0x101ffe is 0x78, "
                   "expected 0x11");
    assert_failure(&o, 3,
                   "step 13 (t.yaml:20): read by a: the byte at 0x100002 is 0x61, "
                   "expected 0x62");
    assert_step(&o, 5, 13, "a", "read", "ok", false);
    assert_step(&o, 6, 14, "a", "read", "ok", true);
    assert_step(&o, 7, 15, "a", "read", "ok", false);
    assert_step(&o, 8, 16, "a", "read", "ok", true);
    outcome_free(&o);
}
END_TEST

/* Final expectations: exact values, comparisons, sizes, strings, and paths
 * that are not in the report. */
START_TEST(test_final_expect)
{
    struct outcome o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 4 }\n"
                                     "  - { task: a, do: map, container: C, count: 4,"
                                     " at: 0x100000 }\n"
                                     "expect:\n"
                                     "  tasks.a.allocated: 4\n"
                                     "  tasks.a.resident: { \">=\": 4 }\n"
                                     "  counters.frames_bound: { \">\": 4 }\n"
                                     "  tasks.b.allocated: { \"<\": 1 }\n"
                                     "  tasks.b.containers: { \"!=\": 0 }\n"
                                     "  tasks.a.containers: { \"<=\": 0 }\n"
                                     "  counters.frames_allocated: 5\n"
                                     "  counters.cow_breaks: { \">=\": 0 }\n"
                                     "  counters.pages_mapped: 16KiB\n"
                                     "  scenario: t\n"
                                     "  file: { \"!=\": t.yaml }\n"
                                     "  tasks.a.extra_eligible: true\n"
                                     "  tasks.zed.allocated: 0\n"
                                     "  counters.no_such_counter: { \">=\": 0 }\n"
                                     "  tasks.a: 1\n"
                                     "  steps.1.do: allocate\n"
                                     "  steps.1.count: 4\n"
                                     "  steps.7.count: 4\n",
                                NULL);
    static const char *const want[] = {
        "expect (t.yaml:14): counters.frames_bound is 4, expected > 4",
        "expect (t.yaml:16): tasks.b.containers is 0, expected != 0",
        "expect (t.yaml:17): tasks.a.containers is 1, expected <= 0",
        "expect (t.yaml:18): counters.frames_allocated is 4, expected == 5",
        "expect (t.yaml:20): counters.pages_mapped is 4, expected == 16384",
        "expect (t.yaml:22): file is 't.yaml', expected != 't.yaml'",
        "expect (t.yaml:24): tasks.zed.allocated is not a value in the report",
        "expect (t.yaml:25): counters.no_such_counter is not a value in the report",
        "expect (t.yaml:26): tasks.a is not a value in the report",
        "expect (t.yaml:29): steps.7.count is not a value in the report",
    };
    ck_assert_msg(o.failures == G_N_ELEMENTS(want), "%s", o.text);
    for (guint i = 0; i < G_N_ELEMENTS(want); i++)
        assert_failure(&o, i, want[i]);
    /* Every step had its expected outcome. */
    for (guint i = 0; i < jlen(o.json, "steps"); i++) {
        char path[32];
        snprintf(path, sizeof path, "steps.%u.ok", i);
        ck_assert(jbool(o.json, path));
    }
    outcome_free(&o);
}
END_TEST

/* A name bound by a step that failed names no capability: EBADF at run
 * time, for the acting task and for the sharee; so does a revoked one. */
START_TEST(test_failed_binding)
{
    const char *text =
        HEAD "  - { task: a, do: create_with, count: 40, with: b, as: X, weak: WX,"
             " expect: ENOMEM }\n"
             "  - { task: a, do: allocate, container: X, count: 1, expect: EBADF }\n"
             "  - { task: b, do: map, container: WX, count: 1, at: 0x100000, expect: EBADF }\n"
             "  - { task: a, do: share, container: C, with: b, as: W }\n"
             "  - { task: a, do: revoke, container: C, ref: W }\n"
             "  - { task: b, do: map, container: W, count: 1, at: 0x100000, expect: EBADF }\n"
             "  - { task: a, do: destroy, container: C }\n"
             "  - { task: a, do: allocate, container: C, count: 1, expect: EBADF }\n"
             "  - { task: a, do: allocate, container: X, count: 1 }\n";
    struct outcome o = run_text(text, NULL);
    ck_assert_uint_eq(o.failures, 1);
    assert_failure(&o, 0, "step 10 (t.yaml:17): allocate by a gave EBADF, expected ok");
    assert_step(&o, 1, 9, "a", "create_with", "ENOMEM", true);
    assert_step(&o, 2, 10, "a", "allocate", "EBADF", true);
    assert_step(&o, 3, 11, "b", "map", "EBADF", true);
    assert_step(&o, 6, 14, "b", "map", "EBADF", true);
    assert_step(&o, 8, 16, "a", "allocate", "EBADF", true);
    ck_assert_int_eq(jint(o.json, "tasks.a.allocated"), 0);
    outcome_free(&o);
}
END_TEST

/* Policy, reclaim and swap steps: outcomes at the edges. */
START_TEST(test_policy_swap_steps)
{
    const char *text = "name: t\n"
                       "machine: { frames: 16, swap: { frames: 2 }, return_deadline: 1us }\n"
                       "tasks:\n"
                       "  a: {}\n"
                       "  b: { start: false, on_return: slow }\n"
                       "steps:\n"
                       "  - { task: a, do: create, as: C }\n"
                       "  - { task: a, do: allocate, container: C, count: 4 }\n"
                       "  - { task: a, do: map, container: C, count: 3, at: 0x100000 }\n"
                       /* 3 bound frames need 3 slots: ENOSPC, nothing swapped */
                       "  - { task: a, do: swap_out, container: C, count: 3, as: S,"
                       " expect: ENOSPC }\n"
                       "  - { task: a, do: swap_in, ids: S, container: C, expect: EBADF,"
                       " expect_count: 0 }\n"
                       /* the unbound fourth frame needs no slot */
                       "  - { task: a, do: swap_out, container: C, start: 2, count: 2, as: S }\n"
                       "  - { task: a, do: allocate, container: C, start: 8, count: 2 }\n"
                       "  - { task: a, do: swap_recover, ids: S, container: C, start: 8,"
                       " expect_count: 2 }\n"
                       "  - { task: a, do: swap_recover, ids: S, container: C, start: 8,"
                       " expect: EBADF, expect_count: 0 }\n"
                       "  - { task: b, do: create, as: D, expect: ESRCH }\n"
                       "  - { task: a, do: set_guarantee, control: C, target: a, frames: 1,"
                       " expect: EBADF }\n"
                       "  - { task: b, do: start }\n"
                       "  - { task: b, do: start, expect: EEXIST }\n"
                       "  - { task: b, do: create, as: D }\n"
                       "  - { task: b, do: allocate, container: D, count: 2 }\n"
                       "  - { task: b, do: map, container: D, count: 2, at: 0x100000 }\n"
                       "  - { task: a, do: pressure, frames: 16, expect_count: 6 }\n"
                       "  - { do: advance, time: 2us }\n"
                       "  - { task: a, do: get_control, as: X }\n"
                       "  - { task: b, do: get_control, as: X, expect: EPERM }\n"
                       "  - { task: a, do: set_guarantee, control: X, target: b, frames: 4,"
                       " swap_quota: 1 }\n"
                       "  - { task: b, do: kill }\n"
                       "  - { task: a, do: set_guarantee, control: X, target: b, frames: 4,"
                       " expect: ESRCH }\n"
                       "expect:\n"
                       "  tasks.a.upcalls: 1\n"
                       "  tasks.a.returned: 4\n"
                       "  tasks.b.upcalls: 1\n"
                       "  tasks.b.exiled: 1\n"
                       "  tasks.b.swap_quota: 1\n"
                       "  counters.swap_outs: 2\n"
                       "  counters.swap_recovered: 2\n"
                       "  counters.exiles: 1\n";
    struct outcome o = run_text(text, NULL);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    outcome_free(&o);
}
END_TEST

/* A scenario text and what it shows; run_cases runs each and wants no
 * failure. */
struct named_text {
    const char *what, *text;
};

static void run_cases(const struct named_text *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct outcome o = run_text(cases[i].text, NULL);
        ck_assert_msg(o.failures == 0, "%s: %s", cases[i].what, o.text);
        outcome_free(&o);
    }
}

/* Cases an outside review found: each runs clean. */
START_TEST(test_review_reclaim)
{
    static const struct named_text cases[] = {
        {"unbound extra frames are promises: pressure asks for them",
         "name: pressure with unbound extra frames\n"
         "machine: { frames: 32 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  a: { guaranteed: 8, extra: true }\n"
         "  b: { guaranteed: 8, extra: true }\n"
         "steps:\n"
         "  - { task: a, do: create, as: C }\n"
         "  - { task: a, do: allocate, container: C, count: 20, flags: [extra] }\n"
         "  - { task: b, do: create, as: D }\n"
         "  - { task: b, do: allocate, container: D, count: 8 }\n"
         "  - { task: b, do: pressure, frames: 8, expect_count: 4 }\n"
         "expect:\n"
         "  counters.reclaim_upcalls: 1\n"
         "  tasks.a.allocated: 16\n"
         "  tasks.a.extra: 8\n"},
        {"a deadline that passes at the end of a parallel block",
         "name: parallel deadline at the end\n"
         "machine: { frames: 16 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  a: { guaranteed: 4, extra: true, on_return: ignore }\n"
         "  b: { guaranteed: 4 }\n"
         "steps:\n"
         "  - { task: a, do: create, as: C }\n"
         "  - { task: a, do: allocate, container: C, count: 12, flags: [extra] }\n"
         "  - { task: a, do: map, container: C, count: 12, at: 0x100000 }\n"
         "  - parallel:\n"
         "      b:\n"
         "        - { task: b, do: pressure, frames: 8, expect_count: 4 }\n"
         "        - { do: advance, time: 2ms }\n"
         "expect:\n"
         "  counters.exiles: 1\n"
         "  tasks.a.exiled: 1\n"
         "  time.simulated_ns: 2000000\n"},
        {"grace 0 is no grace", "name: grace zero\n"
                                "machine: { frames: 32 }\n"
                                "policy: { kind: proportional, grace: 0 }\n"
                                "tasks:\n"
                                "  a: { weight: 1 }\n"
                                "  b: { weight: 1, start: false }\n"
                                "steps:\n"
                                "  - { task: b, do: start }\n"
                                "  - { task: b, do: create, as: C }\n"
                                "  - { task: b, do: allocate, container: C, count: 16 }\n"
                                "expect:\n"
                                "  tasks.a.guaranteed: 16\n"
                                "  tasks.b.guaranteed: 16\n"},
        {"a swap_out of four billion frames",
         "name: huge swap_out count\n"
         "machine: { frames: 8 }\n"
         "tasks:\n"
         "  a: {}\n"
         "steps:\n"
         "  - { task: a, do: create, as: C }\n"
         "  - { task: a, do: allocate, container: C, count: 4 }\n"
         "  - { task: a, do: swap_out, container: C, start: 0, count: 4000000000, as: S, expect: "
         "ENOENT }\n"},
        {"every task starts late", "name: all late\n"
                                   "machine: { frames: 10 }\n"
                                   "policy: { kind: fixed }\n"
                                   "tasks:\n"
                                   "  a: { guaranteed: 5, start: false, extra: true }\n"
                                   "  b: { guaranteed: 5, start: false }\n"
                                   "steps:\n"
                                   "  - { task: a, do: start }\n"
                                   "  - { task: a, do: create, as: C }\n"
                                   "  - { task: a, do: allocate, container: C, count: 5 }\n"
                                   "  - { task: b, do: start }\n"
                                   "  - { task: b, do: create, as: D }\n"
                                   "  - { task: b, do: allocate, container: D, count: 5 }\n"
                                   "expect:\n"
                                   "  tasks.a.guaranteed: 5\n"
                                   "  tasks.b.guaranteed: 5\n"
                                   "  tasks.b.allocated: 5\n"},
    };
    run_cases(cases, G_N_ELEMENTS(cases));
}
END_TEST

/* The cases a second review of the pager found (extra frames after
 * munmap, promotion with room in G, exile, long victim searches, lending
 * with extras and below the limit, a file server with a pager, exposure
 * counted once a step, no lending for DMA): each runs clean with its
 * expectations. */
/* The machine of the direct-map review cases: a client, a file server
 * over a 64 KiB store, the client's container C made. */
#define DM_HEAD                                                                                    \
    "machine: { frames: 64 }\n"                                                                    \
    "policy: { kind: fixed }\n"                                                                    \
    "tasks:\n"                                                                                     \
    "  c: { guaranteed: 16 }\n"                                                                    \
    "  fs: { guaranteed: 8, extra: true, server: file, store: store0 }\n"                          \
    "  store0: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"        \
    "steps:\n"                                                                                     \
    "  - { task: c, do: create, as: C }\n"

/* The third outside review (issue 7's final pager, grant path, eager and
 * deferred direct maps, lending): each case failed before its fix. */
START_TEST(test_review_issue7)
{
    static const struct named_text cases[] = {
        {"alloc lend count", "name: h1\n"
                             "machine: { frames: 8 }\n"
                             "tasks:\n"
                             "  a: {}\n"
                             "steps:\n"
                             "  - { task: a, do: mmap, at: 0x100000, bytes: 64KiB }\n"
                             "  - { task: a, do: write, at: 0x100000, bytes: 32KiB, pattern: 1 }\n"
                             "  - { task: a, do: create, as: C }\n"
                             "  - { task: a, do: allocate, container: C, count: 3, expect: ENOMEM, "
                             "expect_count: 0 }\n"},
        {"direct defer map deallocated",
         "name: map of a deallocated frame succeeds through a deferred direct-map\n" DM_HEAD
         "  - { task: c, do: allocate, container: C, count: 1 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 1, offset: 0, strategy: "
         "direct-map }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: deallocate, container: C, count: 1 }\n"
         "  - { task: c, do: map, container: C, count: 1, at: 0x100000, flags: [read], expect: "
         "ENOENT }\n"},
        {"direct defer map esrch after server death",
         "name: after the file server dies, the client's map of its own frames fails\n" DM_HEAD
         "  - { task: c, do: allocate, container: C, count: 2 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 2, offset: 0, strategy: "
         "direct-map }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: fs, do: kill }\n"
         "  - { task: c, do: map, container: C, count: 2, at: 0x100000, flags: [read] }\n"},
        {"direct defer map ignores lock",
         "name: a deferred direct-map gets past a lock (behaviour lock)\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  c: { guaranteed: 16 }\n"
         "  fs: { guaranteed: 8, extra: true, server: file, store: store0, behaviour: lock }\n"
         "  store0: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: c, do: create, as: C }\n"
         "  - { task: c, do: allocate, container: C, count: 2 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 1, offset: 0, strategy: "
         "direct-map }\n"
         "  - { task: c, do: revoke, container: C, ref: W, expect: EBUSY }\n"
         "  # SPEC 3.9: while the lease holds, map by the owner is EBUSY\n"
         "  - { task: c, do: map, container: C, start: 1, count: 1, at: 0x200000, flags: [read], "
         "expect: EBUSY }\n"
         "  - { task: c, do: map, container: C, start: 0, count: 1, at: 0x100000, flags: [read], "
         "expect: EBUSY }\n"},
        {"direct defer stale after reread",
         "name: a deferred direct-map outlives a later read into the same frame\n" DM_HEAD
         "  - { task: c, do: allocate, container: C, count: 1 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 1, offset: 0, strategy: "
         "direct-map }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 1, offset: 8KiB, strategy: "
         "logical-copy }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: map, container: C, count: 1, at: 0x100000, flags: [read] }\n"
         "  - { task: c, do: read, at: 0x100000, bytes: 4KiB, expect_data: { store: store0, "
         "offset: 8KiB } }\n"},
        {"final pager huge page rss",
         "name: big pages\n"
         "machine: { frames: 4, page_size: 1GiB }\n"
         "tasks:\n"
         "  a: {}\n"
         "steps:\n"
         "  - { task: a, do: mmap, at: 0x40000000, bytes: 1GiB }\n"
         "  - { task: a, do: read, at: 0x40000000, bytes: 1, expect_pattern: 0 }\n"},
        {"grant moves foreign mapping",
         "name: grant moves whatever is mapped at the victim's address\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  a: { guaranteed: 8, pager: { policy: lru, frames: 1 } }\n"
         "steps:\n"
         "  - { task: a, do: mmap, at: 0x100000, bytes: 8KiB }\n"
         "  - { task: a, do: create, as: C }\n"
         "  - { task: a, do: allocate, container: C, count: 1 }\n"
         "  - { task: a, do: map, container: C, count: 1, at: 0x800000 }\n"
         "  - { task: a, do: write, at: 0x800000, bytes: 4KiB, pattern: 0x77 }\n"
         "  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 0 }\n"
         "  # the task maps its own frame over the pager's page 0\n"
         "  - { task: a, do: map, container: C, count: 1, at: 0x100000, flags: [read] }\n"
         "  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 0x77 }\n"
         "  # page 1 is a fresh anonymous page: it must read zero\n"
         "  - { task: a, do: read, at: 0x101000, bytes: 4KiB, expect_pattern: 0 }\n"},
        {"grant of vanished mapping double fault",
         "name: grant of a vanished mapping\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  a: { guaranteed: 8, pager: { policy: lru, frames: 1 } }\n"
         "steps:\n"
         "  - { task: a, do: mmap, at: 0x100000, bytes: 8KiB }\n"
         "  - { task: a, do: create, as: C }\n"
         "  - { task: a, do: allocate, container: C, count: 1 }\n"
         "  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 0 }\n"
         "  - { task: a, do: map, container: C, count: 1, at: 0x100000, flags: [read] }\n"
         "  - { task: a, do: destroy, container: C }\n"
         "  - { task: a, do: read, at: 0x101000, bytes: 4KiB, expect_pattern: 0 }\n"
         "  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 0 }\n"
         "expect:\n"
         "  tasks.a.faults: 3\n"
         "  tasks.a.pager.misses: 3\n"},
        {"write from failed leaves zero block",
         "name: a write_from that fails leaves a zero block in the file server's cache\n" DM_HEAD
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  # frame 0 of C does not exist: the write fails (ENOENT) and the backing is unchanged\n"
         "  - { task: fs, do: write_from, container: W, start: 0, count: 1, offset: 12KiB, expect: "
         "ENOENT }\n"
         "  - { task: c, do: allocate, container: C, count: 1 }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 1, offset: 12KiB }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: map, container: C, count: 1, at: 0x100000, flags: [read] }\n"
         "  - { task: c, do: read, at: 0x100000, bytes: 4KiB, expect_data: { store: store0, "
         "offset: 12KiB } }\n"},
    };
    run_cases(cases, G_N_ELEMENTS(cases));
}
END_TEST

START_TEST(test_review_pager)
{
    static const struct named_text cases[] = {
        {"munmap-extra",
         "name: munmap of extra pages leaves nextra\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  t: { guaranteed: 2, extra: true, pager: { policy: lru } }\n"
         "steps:\n"
         "  - { task: t, do: mmap, at: 0x100000, bytes: 16KiB }\n"
         "  - { task: t, do: read, at: 0x100000, bytes: 16KiB, expect_pattern: 0 }\n"
         "  - { task: t, do: munmap, at: 0x100000, bytes: 16KiB }\n"
         "  - { task: t, do: mmap, at: 0x200000, bytes: 16KiB }\n"
         "  - { task: t, do: read, at: 0x200000, bytes: 4KiB, expect_pattern: 0 }\n"
         "  - { task: t, do: write, at: 0x200000, bytes: 4KiB, pattern: 7 }\n"
         "  - { task: t, do: write, at: 0x201000, bytes: 4KiB, pattern: 7 }\n"},
        {"promote-empty",
         "name: promote with guaranteed room but no guaranteed page\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  t: { guaranteed: 2, extra: true, pager: { policy: lru } }\n"
         "steps:\n"
         "  - { task: t, do: mmap, at: 0x100000, bytes: 8KiB }\n"
         "  - { task: t, do: mmap, at: 0x200000, bytes: 8KiB }\n"
         "  - { task: t, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0 }\n"
         "  - { task: t, do: read, at: 0x200000, bytes: 8KiB, expect_pattern: 0 }\n"
         "  - { task: t, do: munmap, at: 0x100000, bytes: 8KiB }\n"
         "  - { task: t, do: write, at: 0x200000, bytes: 4KiB, pattern: 7 }\n"
         "  - { task: t, do: read, at: 0x200000, bytes: 4KiB, expect_pattern: 7 }\n"},
        {"exile4",
         "name: exile then write to a page in an extra frame\n"
         "machine: { frames: 32 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  t: { guaranteed: 2, extra: true, on_return: ignore, pager: { policy: lru } }\n"
         "steps:\n"
         "  - { task: t, do: mmap, at: 0x100000, bytes: 16KiB }\n"
         "  - { task: t, do: write, at: 0x100000, bytes: 8KiB, pattern: 0xAB }\n"
         "  - { task: t, do: read, at: 0x102000, bytes: 8KiB }\n"
         "  - { task: t, do: pressure, frames: 32 }\n"
         "  - { task: t, do: advance, time: 5ms }\n"
         "  - { task: t, do: write, at: 0x103000, bytes: 4KiB, pattern: 0x11 }\n"
         "  - { task: t, do: read, at: 0x103000, bytes: 4KiB, expect_pattern: 0x11 }\n"
         "  - { task: t, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0 }\n"},
        {"rounds", "name: a precious page when the oldest 64+ pages are in extra frames\n"
                   "machine: { frames: 256 }\n"
                   "policy: { kind: fixed }\n"
                   "tasks:\n"
                   "  t: { guaranteed: 2, extra: true, pager: { policy: lru } }\n"
                   "steps:\n"
                   "  - { task: t, do: mmap, at: 0x100000, bytes: 400KiB }\n"
                   "  - { task: t, do: read, at: 0x100000, bytes: 400KiB, expect_pattern: 0 }\n"
                   "  - { task: t, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0 }\n"
                   "  - { task: t, do: mmap, at: 0x900000, bytes: 4KiB }\n"
                   "  - { task: t, do: write, at: 0x900000, bytes: 4KiB, pattern: 1 }\n"
                   "  - { task: t, do: read, at: 0x900000, bytes: 4KiB, expect_pattern: 1 }\n"},
        {"lend-extra", "name: lend while the pager holds extras\n"
                       "machine: { frames: 64 }\n"
                       "policy: { kind: fixed }\n"
                       "tasks:\n"
                       "  t: { guaranteed: 4, extra: true, pager: { policy: lru } }\n"
                       "steps:\n"
                       "  - { task: t, do: mmap, at: 0x100000, bytes: 32KiB }\n"
                       "  - { task: t, do: read, at: 0x100000, bytes: 32KiB, expect_pattern: 0 }\n"
                       "  - { task: t, do: create, as: C }\n"
                       "  - { task: t, do: allocate, container: C, start: 0, count: 2 }\n"},
        {"lend-order",
         "name: lend when the pager holds fewer than its limit\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  t: { guaranteed: 4, pager: { policy: lru } }\n"
         "steps:\n"
         "  - { task: t, do: create, as: C }\n"
         "  - { task: t, do: allocate, container: C, start: 0, count: 2 }\n"
         "  - { task: t, do: mmap, at: 0x100000, bytes: 16KiB }\n"
         "  - { task: t, do: write, at: 0x100000, bytes: 16KiB, pattern: 5 }\n"
         "  - { task: t, do: allocate, container: C, start: 2, count: 1 }\n"
         "  - { task: t, do: read, at: 0x100000, bytes: 16KiB, expect_pattern: 5 }\n"},
        {"fspager",
         "name: a file server with a pager holding extras is asked for frames\n"
         "machine: { frames: 24 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  c: { guaranteed: 2, pager: { policy: lru } }\n"
         "  fs: { guaranteed: 2, extra: true, server: file, store: disk }\n"
         "  disk: { guaranteed: 1, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: c, do: mmap, at: 0x100000, bytes: 4KiB, kind: file, file: fs }\n"
         "  - { task: c, do: read, at: 0x100000, bytes: 4KiB, expect_data: { store: disk, offset: "
         "0 } }\n"
         "  - { task: fs, do: mmap, at: 0x100000, bytes: 64KiB }\n"
         "  - { task: fs, do: read, at: 0x100000, bytes: 64KiB, expect_pattern: 0 }\n"
         "  - { task: fs, do: pressure, frames: 24 }\n"
         "  - { task: fs, do: advance, time: 5ms }\n"},
        {"expose",
         "name: exposure\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  c: { guaranteed: 8, pager: none }\n"
         "  fs: { guaranteed: 2, extra: true, server: file, store: disk }\n"
         "  fs2: { guaranteed: 2, extra: true, server: file, store: disk }\n"
         "  disk: { guaranteed: 1, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: c, do: create, as: C }\n"
         "  - { task: c, do: allocate, container: C, start: 0, count: 4 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W2 }\n"
         "  - { task: c, do: give, container: C, to: fs2, as: F }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 4 }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: advance, time: 1ms }\n"
         "  - { task: c, do: revoke, container: C, ref: W2 }\n"
         "  - { task: c, do: advance, time: 1ms }\n"},
        {"dma", "name: a DMA allocation that cannot succeed makes the pager evict\n"
                "machine: { frames: 64, dma_frames: 2 }\n"
                "policy: { kind: fixed }\n"
                "tasks:\n"
                "  t: { guaranteed: 8, pager: { policy: lru } }\n"
                "steps:\n"
                "  - { task: t, do: mmap, at: 0x100000, bytes: 32KiB }\n"
                "  - { task: t, do: write, at: 0x100000, bytes: 32KiB, pattern: 5 }\n"
                "  - { task: t, do: create, as: C }\n"
                "  - { task: t, do: allocate, container: C, start: 0, count: 4, flags: [dma], "
                "expect: ENOMEM }\n"},
        {"direct-map deferred, the server dead before the map: the client's own frames",
         "name: the client maps after the server died\n"
         "machine: { frames: 128 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  c: { guaranteed: 16 }\n"
         "  fs: { guaranteed: 16, extra: true, server: file, store: st }\n"
         "  st: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: c, do: create, as: C }\n"
         "  - { task: c, do: allocate, container: C, start: 0, count: 4 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 2, offset: 8KiB, "
         "strategy: direct-map }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: map, container: C, start: 2, count: 2, at: 0x300000, flags: [read] }\n"
         "  - { task: c, do: read, at: 0x300000, bytes: 8KiB, expect_pattern: 0 }\n"
         "  - { task: fs, do: kill }\n"
         "  - { task: c, do: map, container: C, start: 0, count: 2, at: 0x100000, flags: [read] "
         "}\n"
         "  - { task: c, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0 }\n"
         "expect:\n"
         "  tasks.c.allocated: 4\n"
         "  steps.5.mapped: 2\n"},
        {"a file-backed range whose server died",
         "name: faults after the file server died\n"
         "machine: { frames: 128 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  r: { guaranteed: 8, pager: { policy: lru, frames: 2 } }\n"
         "  fs: { guaranteed: 8, extra: true, server: file, store: st }\n"
         "  st: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: r, do: mmap, at: 0x400000, bytes: 32KiB, kind: file, file: fs }\n"
         "  - { task: r, do: read, at: 0x400000, bytes: 8KiB, expect_data: { store: st, offset: 0 "
         "} }\n"
         "  - { task: fs, do: kill }\n"
         "  - { task: r, do: read, at: 0x400000, bytes: 8KiB, expect_data: { store: st, offset: 0 "
         "} }\n"
         "  - { task: r, do: read, at: 0x404000, bytes: 4KiB, expect: EFAULT }\n"
         "  - { task: r, do: write, at: 0x400000, bytes: 4KiB, pattern: 9, expect: EFAULT }\n"
         "  - { task: r, do: write, at: 0x401000, bytes: 4KiB, pattern: 9 }\n"
         "  - { task: r, do: read, at: 0x401000, bytes: 4KiB, expect_pattern: 9 }\n"},
        {"the pager's figures follow G at the report, not only at its next fault",
         "name: pager figures follow G\n"
         "machine: { frames: 64 }\n"
         "tasks:\n"
         "  pol: { pager: none }\n"
         "  t: {}\n"
         "steps:\n"
         "  - { task: pol, do: get_control, as: CTL }\n"
         "  - { task: pol, do: set_guarantee, control: CTL, target: t, frames: 8 }\n"
         "  - { task: t, do: mmap, at: 0x100000, bytes: 16KiB }\n"
         "  - { task: t, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: 0 }\n"
         "  - { task: pol, do: set_guarantee, control: CTL, target: t, frames: 12 }\n"
         "expect:\n"
         "  tasks.t.pager.frames: 12\n"},
        {"lent frames come back from the container they went to",
         "name: lent frames come back from their container\n"
         "machine: { frames: 64 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  io: { guaranteed: 16 }\n"
         "steps:\n"
         "  - { task: io, do: create, as: OLD }\n"
         "  - { task: io, do: allocate, container: OLD, count: 4 }\n"
         "  - { task: io, do: mmap, at: 0x100000, bytes: 128KiB }\n"
         "  - { task: io, do: write, at: 0x100000, bytes: 64KiB, pattern: 0x17 }\n"
         "  - { task: io, do: create, as: IO }\n"
         "  - { task: io, do: allocate, container: IO, count: 4 }\n"
         "  - { task: io, do: destroy, container: IO }\n"
         "  - { task: io, do: read, at: 0x100000, bytes: 64KiB, expect_pattern: 0x17 }\n"
         "expect:\n"
         "  tasks.io.pager.lent: 0\n"
         "  tasks.io.allocated: 16\n"},
        {"file faults of a task at its G go through I/O containers",
         "name: file faults at G\n"
         "machine: { frames: 128 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  r: { guaranteed: 4 }\n"
         "  fs: { guaranteed: 16, extra: true, server: file, store: st }\n"
         "  st: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: r, do: mmap, at: 0x400000, bytes: 64KiB, kind: file, file: fs }\n"
         "  - { task: r, do: read, at: 0x400000, bytes: 64KiB, expect_data: { store: st, offset: 0 "
         "} }\n"
         "  - { task: r, do: read, at: 0x400000, bytes: 64KiB, expect_data: { store: st, offset: 0 "
         "} }\n"
         "expect:\n"
         "  tasks.r.allocated: { \"<=\": 4 }\n"
         "  tasks.r.exposed_steps: 0\n"
         "  tasks.r.pager.file_reads: 32\n"},
        {"a locking server at G fails its faults, not the pager",
         "name: a locking server at G\n"
         "machine: { frames: 128 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  r: { guaranteed: 4 }\n"
         "  fs: { guaranteed: 16, extra: true, server: file, store: st, behaviour: lock }\n"
         "  st: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: r, do: mmap, at: 0x400000, bytes: 64KiB, kind: file, file: fs }\n"
         "  - { task: r, do: mmap, at: 0x800000, bytes: 16KiB }\n"
         "  - { task: r, do: write, at: 0x800000, bytes: 12KiB, pattern: 3 }\n"
         "  - { task: r, do: read, at: 0x400000, bytes: 4KiB, expect: EFAULT }\n"
         "  - { task: r, do: read, at: 0x401000, bytes: 4KiB, expect: EFAULT }\n"
         "  - { task: r, do: write, at: 0x800000, bytes: 16KiB, pattern: 4 }\n"
         "  - { task: r, do: read, at: 0x800000, bytes: 16KiB, expect_pattern: 4 }\n"
         "expect:\n"
         "  tasks.r.exposed_steps: 0\n"},
        {"map all: message after message until every frame is mapped",
         "name: map all\n"
         "machine: { frames: 256, map_items: 4 }\n"
         "tasks: { t: { pager: none } }\n"
         "steps:\n"
         "  - { task: t, do: create, as: C }\n"
         "  - { task: t, do: allocate, container: C, count: 16 }\n"
         "  - { task: t, do: map, container: C, count: 16, at: 0x101000, expect_mapped: 15 }\n"
         "  - { task: t, do: write, at: 0x101000, bytes: 60KiB, pattern: 0x3c }\n"
         "  - { task: t, do: map, container: C, count: 16, at: 0x200000, flags: [read], all: true, "
         "expect_mapped: 16 }\n"
         "  - { task: t, do: read, at: 0x200000, bytes: 60KiB, expect_pattern: 0x3c }\n"
         "  - { task: t, do: map, container: C, count: 17, at: 0x300000, all: true, expect: ENOENT "
         "}\n"},
        {"direct-map deferred, a silent server maps nothing later",
         "name: silent server under direct-map\n"
         "machine: { frames: 128 }\n"
         "policy: { kind: fixed }\n"
         "tasks:\n"
         "  c: { guaranteed: 16 }\n"
         "  fs: { guaranteed: 16, extra: true, server: file, store: st, behaviour: silent }\n"
         "  st: { guaranteed: 4, server: store, backing: { size: 64KiB, fill: pattern } }\n"
         "steps:\n"
         "  - { task: c, do: create, as: C }\n"
         "  - { task: c, do: allocate, container: C, start: 0, count: 2 }\n"
         "  - { task: c, do: share, container: C, with: fs, as: W }\n"
         "  - { task: fs, do: read_into, container: W, start: 0, count: 2, strategy: direct-map }\n"
         "  - { task: c, do: revoke, container: C, ref: W }\n"
         "  - { task: c, do: map, container: C, start: 0, count: 2, at: 0x100000, flags: [read] }\n"
         "  - { task: c, do: read, at: 0x100000, bytes: 8KiB, expect_pattern: 0 }\n"},
    };
    run_cases(cases, G_N_ELEMENTS(cases));
}
END_TEST

/* The JSON report of RUN without its host times, as compact text. */
/* Take the host's own times out of a report: the run's, the measured
 * steps', and every step's. */
static void drop_host_times(JsonNode *json)
{
    JsonObject *o = json_node_get_object(json);
    JsonObject *t = json_object_get_object_member(o, "time");
    ck_assert(json_object_has_member(t, "host_ns"));
    ck_assert(json_object_has_member(t, "host_cpu_ns"));
    json_object_remove_member(t, "host_ns");
    json_object_remove_member(t, "host_cpu_ns");
    json_object_remove_member(t, "measured_host_ns");
    JsonArray *steps = json_object_get_array_member(o, "steps");
    for (guint i = 0; i < json_array_get_length(steps); i++)
        json_object_remove_member(json_array_get_object_element(steps, i), "host_ns");
}

static char *without_host_time(JsonNode *json)
{
    drop_host_times(json);
    return json_to_string(json, FALSE);
}

/* Three lanes that tie all the time: the seed decides their order. */
static char *ties(unsigned seed)
{
    return g_strdup_printf("name: ties\n"
                           "seed: %u\n"
                           "machine: { frames: 64 }\n"
                           "tasks: { a: {}, b: {}, c: {} }\n"
                           "steps:\n"
                           "  - parallel:\n"
                           "      a: [ { do: create, as: A }, { do: allocate, container: A,"
                           " count: 1 }, { do: destroy, container: A } ]\n"
                           "      b: [ { do: create, as: B }, { do: allocate, container: B,"
                           " count: 2 }, { do: destroy, container: B } ]\n"
                           "      c: [ { do: create, as: C }, { do: allocate, container: C,"
                           " count: 3 }, { do: destroy, container: C } ]\n",
                           seed);
}

/* The order in which the lanes' steps ran, as a string of task names. */
static char *order_of(struct outcome *o)
{
    GString *s = g_string_new("");
    for (guint i = 0; i < jlen(o->json, "steps"); i++) {
        char path[32];
        snprintf(path, sizeof path, "steps.%u.task", i);
        g_string_append(s, jstr(o->json, path));
    }
    return g_string_free(s, FALSE);
}

/* Two runs of one scenario give the same report, host times aside. */
START_TEST(test_determinism)
{
    const char *texts[] = {every_op, NULL};
    char *t = ties(3);
    texts[1] = t;
    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        sim_scenario_t *sc = load_ok(texts[i]);
        struct outcome o1 = run_scenario(sc, NULL), o2 = run_scenario(sc, NULL);
        char *j1 = without_host_time(o1.json), *j2 = without_host_time(o2.json);
        ck_assert_str_eq(j1, j2);
        g_free(j1);
        g_free(j2);
        outcome_free(&o1);
        outcome_free(&o2);
        /* Loaded again: the same. */
        sim_scenario_t *again = load_ok(texts[i]);
        o1 = run_scenario(sc, NULL);
        o2 = run_scenario(again, NULL);
        j1 = without_host_time(o1.json);
        j2 = without_host_time(o2.json);
        ck_assert_str_eq(j1, j2);
        g_free(j1);
        g_free(j2);
        outcome_free(&o1);
        outcome_free(&o2);
        sim_scenario_free(again);
        sim_scenario_free(sc);
    }
    g_free(t);
}
END_TEST

/* A parallel block runs the lane whose simulated clock is earliest: an
 * advance in one lane lets the others go first, whatever the file order
 * and the seed; the block ends at its latest lane's time. */
START_TEST(test_parallel_by_time)
{
    for (unsigned seed = 1; seed <= 8; seed++) {
        char *text = g_strdup_printf("name: lanes\n"
                                     "seed: %u\n"
                                     "machine: { frames: 64 }\n"
                                     "tasks: { a: {}, b: {} }\n"
                                     "steps:\n"
                                     "  - parallel:\n"
                                     "      a:\n"
                                     "        - { do: advance, time: 3ms }\n"
                                     "        - { do: create, as: A }\n"
                                     "      b:\n"
                                     "        - { do: advance, time: 1ms }\n"
                                     "        - { do: create, as: B }\n"
                                     "        - { do: advance, time: 1ms }\n"
                                     "        - { do: create, as: B2 }\n"
                                     "  - { task: a, do: create, as: Z }\n",
                                     seed);
        struct outcome o = run_text(text, NULL);
        ck_assert_msg(o.failures == 0, "%s", o.text);
        ck_assert_uint_eq(jlen(o.json, "steps"), 7);
        /* Both advances run at 0 (in the seed's order), then b's create at
         * 1 ms, b's second advance, b's create at 2 ms, a's at 3 ms. */
        ck_assert_int_eq(jint(o.json, "steps.0.time_ns"), 0);
        ck_assert_int_eq(jint(o.json, "steps.1.time_ns"), 0);
        ck_assert_int_eq(jint(o.json, "steps.0.line") + jint(o.json, "steps.1.line"), 8 + 11);
        assert_step(&o, 2, 12, "b", "create", "ok", true);
        ck_assert_int_eq(jint(o.json, "steps.2.time_ns"), 1000000);
        assert_step(&o, 3, 13, "b", "advance", "ok", true);
        assert_step(&o, 4, 14, "b", "create", "ok", true);
        ck_assert_int_eq(jint(o.json, "steps.4.time_ns"), 2000000);
        assert_step(&o, 5, 9, "a", "create", "ok", true);
        ck_assert_int_eq(jint(o.json, "steps.5.time_ns"), 3000000);
        assert_step(&o, 6, 15, "a", "create", "ok", true);
        ck_assert_int_eq(jint(o.json, "steps.6.time_ns"), 3000000);
        ck_assert_int_eq(jint(o.json, "time.simulated_ns"), 3000000);
        outcome_free(&o);
        g_free(text);
    }
}
END_TEST

/* The cost model (SPEC 10): with machine.cost, every step's events cost
 * simulated time by the table (a file beside the scenario here), the clock
 * moves on by it, the report adds it up by kind, and lanes of a parallel
 * block are busy for what their steps cost. */
START_TEST(test_cost_model)
{
    char *dir = g_dir_make_tmp("pmsim-cost-XXXXXX", NULL);
    char *table = g_build_filename(dir, "tiny.yaml", NULL);
    char *scen = g_build_filename(dir, "s.yaml", NULL);
    ck_assert(g_file_set_contents(table,
                                  "name: tiny\nipc: 100\ntyped_item: 10\nmap_page: 1\n"
                                  "frame_bind: 1000\nfault: { missing: 7 }\n",
                                  -1, NULL));
    ck_assert(
        g_file_set_contents(scen,
                            "name: costs\n"
                            "machine: { frames: 64, cost: tiny.yaml }\n"
                            "tasks: { a: { pager: none }, b: { pager: none } }\n"
                            "steps:\n"
                            "  - { task: a, do: create, as: C }\n"
                            "  - { task: a, do: allocate, container: C, count: 2 }\n"
                            "  - { task: a, do: map, container: C, count: 2, at: 0x100000 }\n"
                            "  - { task: a, do: write, at: 0x100000, bytes: 8KiB, pattern: 1 }\n"
                            "  - { do: advance, time: 1ms }\n"
                            "  - parallel:\n"
                            "      a:\n"
                            "        - { do: create, as: D }\n"
                            "        - { do: create, as: E }\n"
                            "      b:\n"
                            "        - { do: advance, time: 150ns }\n"
                            "        - { do: create, as: F }\n",
                            -1, NULL));
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load(scen, &msg);
    ck_assert_msg(sc != NULL, "%s", msg);
    struct outcome o = run_scenario(sc, NULL);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    ck_assert_str_eq(jstr(o.json, "time.cost_table"), "tiny");
    /* create: one RPC, two IPCs.  allocate: the same (frames unbound yet).
     * map: an RPC whose reply carries the item (one IPC apart from it), one
     * typed item, two pages, two frames bound.  write: nothing new. */
    ck_assert_int_eq(jint(o.json, "steps.0.cost_ns"), 200);
    ck_assert_int_eq(jint(o.json, "steps.1.cost_ns"), 200);
    ck_assert_int_eq(jint(o.json, "steps.2.cost_ns"), 200 + 10 + 2 + 2000);
    ck_assert_int_eq(jint(o.json, "steps.3.cost_ns"), 0);
    ck_assert_int_eq(jint(o.json, "steps.4.time_ns"), 200 + 200 + 2212 + 1000000);
    /* The lanes start together: a's creates at 0 and 200 ns after the block
     * starts, b's advance then its create at 150 ns. */
    gint64 t0 = jint(o.json, "steps.5.time_ns");
    ck_assert_int_eq(t0, 2612 + 1000000);
    gint64 sum = 0;
    for (guint i = 0; i < jlen(o.json, "steps"); i++) {
        char path[32];
        snprintf(path, sizeof path, "steps.%u.cost_ns", i);
        sum += jint(o.json, path);
    }
    ck_assert_int_eq(jint(o.json, "time.cost_ns"), sum);
    ck_assert_int_eq(jint(o.json, "time.cost.ipc") + jint(o.json, "time.cost.typed_item") +
                         jint(o.json, "time.cost.map_page") + jint(o.json, "time.cost.frame_bind"),
                     sum);
    /* The block ends with its latest lane: a's two creates (400 ns). */
    ck_assert_int_eq(jint(o.json, "time.simulated_ns"), t0 + 400);
    outcome_free(&o);
    sim_scenario_free(sc);
    g_unlink(scen);
    g_unlink(table);
    g_rmdir(dir);
    g_free(scen);
    g_free(table);
    g_free(dir);
}
END_TEST

/* Run the file PATH with parameters SET; it must hold. */
static struct outcome run_file_params(const char *path, const char *const *set)
{
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load_params(path, set, &msg);
    ck_assert_msg(sc != NULL, "%s", msg);
    struct outcome o = run_scenario(sc, NULL);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    sim_scenario_free(sc);
    return o;
}

/* The third review of issue 8: costs charged in whole nanoseconds add up
 * to time.cost_ns; an advance in a lane starts at the lane's time; a
 * misspelt PMSIM_BACKEND is said, not ignored. */
START_TEST(test_review_issue8)
{
    char *dir = g_dir_make_tmp("pmsim-r8-XXXXXX", NULL);
    char *table = g_build_filename(dir, "frac.yaml", NULL);
    char *path = g_build_filename(dir, "s.yaml", NULL);
    ck_assert(g_file_set_contents(table, "name: frac\nipc: 0.4\n", -1, NULL));
    ck_assert(g_file_set_contents(path,
                                  "name: rounding\n"
                                  "machine: { frames: 16, cost: frac.yaml }\n"
                                  "tasks: { a: { pager: none } }\n"
                                  "steps:\n"
                                  "  - { task: a, do: create, as: A }\n"
                                  "  - { task: a, do: create, as: B }\n"
                                  "  - { task: a, do: create, as: C }\n"
                                  "  - { do: advance, time: 10 }\n"
                                  "  - { task: a, do: create, as: D }\n"
                                  "  - { task: a, do: create, as: E }\n",
                                  -1, NULL));
    struct outcome o = run_file_params(path, NULL);
    gint64 sum = 0;
    for (guint i = 0; i < jlen(o.json, "steps"); i++) {
        char key[32];
        snprintf(key, sizeof key, "steps.%u.cost_ns", i);
        sum += jint(o.json, key);
    }
    ck_assert_int_eq(jint(o.json, "time.cost_ns"), 4); /* 5 creates of 2 IPCs at 0.4 ns */
    ck_assert_int_eq(sum, 4);
    ck_assert_int_eq(jint(o.json, "time.simulated_ns"), 14);
    outcome_free(&o);
    ck_assert(g_file_set_contents(path,
                                  "name: lanes\n"
                                  "machine: { frames: 16, cost: frac.yaml }\n"
                                  "tasks: { a: { pager: none }, b: { pager: none } }\n"
                                  "steps:\n"
                                  "  - parallel:\n"
                                  "      a:\n"
                                  "        - { do: create, as: A }\n"
                                  "        - { do: advance, time: 1us }\n"
                                  "      b:\n"
                                  "        - { do: advance, time: 5us }\n",
                                  -1, NULL));
    o = run_file_params(path, NULL);
    /* b's advance at 0, a's create at 0 (1 ns), a's advance at 1 ns. */
    for (guint i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "steps.%u.do", i);
        if (strcmp(jstr(o.json, key), "advance") == 0) {
            snprintf(key, sizeof key, "steps.%u.task", i);
            const char *task = jstr(o.json, key);
            snprintf(key, sizeof key, "steps.%u.time_ns", i);
            ck_assert_int_eq(jint(o.json, key), strcmp(task, "a") == 0 ? 1 : 0);
        }
    }
    outcome_free(&o);
    /* Without a table, a measured step still counts its events (and only
     * its own): a create is one RPC (two IPCs), the map one more; its frames bound. */
    ck_assert(g_file_set_contents(path,
                                  "name: measured\n"
                                  "machine: { frames: 16 }\n"
                                  "tasks: { a: { pager: none } }\n"
                                  "steps:\n"
                                  "  - { task: a, do: create, as: A }\n"
                                  "  - { task: a, do: create, as: B, measure: true }\n"
                                  "  - { task: a, do: allocate, container: A, count: 2 }\n"
                                  "  - { task: a, do: map, container: A, count: 2, at: 0x100000, "
                                  "measure: true }\n",
                                  -1, NULL));
    o = run_file_params(path, NULL);
    ck_assert_int_eq(jint(o.json, "time.measured_steps"), 2);
    ck_assert_int_eq(jint(o.json, "time.measured_events.ipc"), 2 + 2);
    ck_assert_int_eq(jint(o.json, "time.measured_events.frame_bind"), 2);
    ck_assert_int_eq(jint(o.json, "time.measured_events.typed_item"), 1);
    ck_assert_int_eq(jint(o.json, "time.measured_cost_ns"), 0);
    outcome_free(&o);
    g_setenv("PMSIM_BACKEND", "hostmmu", TRUE);
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load(path, &msg);
    o = run_scenario(sc, NULL);
    g_unsetenv("PMSIM_BACKEND");
    ck_assert_uint_gt(o.failures, 0);
    ck_assert_msg(strstr(o.text, "PMSIM_BACKEND: 'hostmmu' is neither sim nor host-mmu") != NULL,
                  "%s", o.text);
    outcome_free(&o);
    sim_scenario_free(sc);
    g_unlink(path);
    g_unlink(table);
    g_rmdir(dir);
    g_free(path);
    g_free(table);
    g_free(dir);
}
END_TEST

/* Parameters (an addition, for sweeps): params declares them with their
 * defaults, ${NAME} stands for one in any value, assignments override the
 * defaults; the report says what they were.  Unknown ones are errors. */
START_TEST(test_params)
{
    char *dir = g_dir_make_tmp("pmsim-params-XXXXXX", NULL);
    char *path = g_build_filename(dir, "p.yaml", NULL);
    ck_assert(g_file_set_contents(
        path,
        "name: copies of ${n}\n"
        "params: { n: 2, fill: 7 }\n"
        "machine: { frames: 64 }\n"
        "tasks: { a: { pager: none } }\n"
        "steps:\n"
        "  - { task: a, do: create, as: C }\n"
        "  - { task: a, do: allocate, container: C, count: \"${n}\" }\n"
        "  - { task: a, do: map, container: C, count: \"${n}\", at: 0x100000 }\n"
        "  - { task: a, do: write, at: 0x100000, bytes: 4KiB, pattern: \"${fill}\" }\n"
        "  - { task: a, do: read, at: 0x100000, bytes: 4KiB, expect_pattern: \"${fill}\" }\n"
        "expect:\n"
        "  tasks.a.allocated: \"${n}\"\n",
        -1, NULL));
    struct outcome o = run_file_params(path, NULL);
    ck_assert_str_eq(jstr(o.json, "scenario"), "copies of 2");
    ck_assert_str_eq(jstr(o.json, "params.n"), "2");
    ck_assert_int_eq(jint(o.json, "tasks.a.allocated"), 2);
    outcome_free(&o);
    const char *const set[] = {"n=5", "fill=0x33", NULL};
    o = run_file_params(path, set);
    ck_assert_str_eq(jstr(o.json, "params.n"), "5");
    ck_assert_str_eq(jstr(o.json, "params.fill"), "0x33");
    ck_assert_int_eq(jint(o.json, "tasks.a.allocated"), 5);
    outcome_free(&o);
    char *msg;
    /* Errors: an undeclared name, no '=', a value the step refuses. */
    static const struct {
        const char *set, *says;
    } wrong[] = {
        {"m=1", "p.yaml:2:9: parameter 'm' is not in the scenario's params"},
        {"n", "p.yaml:2:9: parameter 'n': write NAME=VALUE"},
        {"n=-1", "p.yaml:7:"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
        const char *const one[] = {wrong[i].set, NULL};
        msg = NULL;
        ck_assert_ptr_null(sim_scenario_load_params(path, one, &msg));
        ck_assert_msg(msg != NULL && strstr(msg, wrong[i].says) != NULL, "%s: %s", wrong[i].set,
                      msg);
        free(msg);
    }
    ck_assert(g_file_set_contents(path,
                                  "name: t\nparams: { n: 1 }\nmachine: { frames: 8 }\n"
                                  "tasks: {}\nsteps:\n  - { do: advance, time: \"${m}\" }\n",
                                  -1, NULL));
    msg = NULL;
    ck_assert_ptr_null(sim_scenario_load_params(path, NULL, &msg));
    ck_assert_msg(strstr(msg, "p.yaml:6:") != NULL &&
                      strstr(msg, "${m}: no such parameter") != NULL,
                  "%s", msg);
    free(msg);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}
END_TEST

/* The host-MMU back end (issue 8): every shipped scenario gives the same
 * report on both back ends — counters, tasks, servers, time — but for the
 * back end's name and the host's own times. */
static void strip_host(JsonNode *root)
{
    JsonObject *o = json_node_get_object(root);
    JsonObject *m = json_object_get_object_member(o, "machine");
    static const char *const gone[] = {"backend", "host_pages_mapped", "host_pages_unplaced",
                                       "host_calls"};
    for (size_t i = 0; i < G_N_ELEMENTS(gone); i++)
        json_object_remove_member(m, gone[i]);
    drop_host_times(root);
}

START_TEST(test_backend_parity)
{
    GDir *d = g_dir_open(PMSIM_SCENARIO_DIR, 0, NULL);
    ck_assert_ptr_nonnull(d);
    const char *name;
    unsigned n = 0;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_suffix(name, ".yaml"))
            continue;
        char *path = g_build_filename(PMSIM_SCENARIO_DIR, name, NULL);
        char *msg = NULL;
        sim_scenario_t *sc = sim_scenario_load(path, &msg);
        ck_assert_msg(sc != NULL, "%s", msg);
        struct sim_run_options sim = {.backend = SIM_BACKEND_SIM},
                               host = {.backend = SIM_BACKEND_HOST_MMU};
        struct outcome a = run_scenario(sc, &sim), b = run_scenario(sc, &host);
        ck_assert_msg(a.failures == 0 && b.failures == 0, "%s: %s", name,
                      a.failures ? a.text : b.text);
        ck_assert_str_eq(jstr(b.json, "machine.backend"), "host-mmu");
        strip_host(a.json);
        strip_host(b.json);
        ck_assert_msg(json_node_equal(a.json, b.json), "%s: the back ends disagree", name);
        outcome_free(&a);
        outcome_free(&b);
        sim_scenario_free(sc);
        g_free(path);
        n++;
    }
    g_dir_close(d);
    ck_assert_uint_ge(n, 30);
}
END_TEST

/* Ties are broken by the seed: the same seed, the same order; other seeds,
 * other orders; each lane's own steps always in their order. */
START_TEST(test_parallel_seed)
{
    GHashTable *orders = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (unsigned seed = 1; seed <= 12; seed++) {
        char *text = ties(seed);
        struct outcome o1 = run_text(text, NULL), o2 = run_text(text, NULL);
        ck_assert_msg(o1.failures == 0, "%s", o1.text);
        char *order = order_of(&o1), *order2 = order_of(&o2);
        ck_assert_str_eq(order, order2);
        ck_assert_int_eq(strlen(order), 9);
        /* Within a lane: create, allocate, destroy, at increasing lines. */
        for (char lane = 'a'; lane <= 'c'; lane++) {
            static const char *const ops[] = {"create", "allocate", "destroy"};
            int k = 0;
            for (guint i = 0; i < 9; i++) {
                if (order[i] != lane)
                    continue;
                char path[32];
                snprintf(path, sizeof path, "steps.%u.do", i);
                ck_assert_str_eq(jstr(o1.json, path), ops[k++]);
            }
            ck_assert_int_eq(k, 3);
        }
        g_hash_table_add(orders, order);
        g_free(order2);
        outcome_free(&o1);
        outcome_free(&o2);
        g_free(text);
    }
    ck_assert_uint_ge(g_hash_table_size(orders), 3);
    g_hash_table_destroy(orders);
}
END_TEST

/* --check: healthy runs have no failure; a broken invariant is a failure
 * naming the step after which it was found. */
START_TEST(test_check_option)
{
    struct sim_run_options check = {.check = true};
    struct outcome o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 8 }\n"
                                     "  - { task: a, do: map, container: C, count: 8,"
                                     " at: 0x100000 }\n"
                                     "  - { task: a, do: create_from, source: C, count: 8,"
                                     " with: b, as: D, weak: WD }\n"
                                     "  - { task: b, do: map, container: WD, count: 8,"
                                     " at: 0x200000, flags: [read, write, force_write] }\n"
                                     "  - { task: b, do: write, at: 0x200000, bytes: 32KiB,"
                                     " pattern: 7 }\n"
                                     "  - { task: a, do: destroy, container: C }\n",
                                &check);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    ck_assert_int_ge(jint(o.json, "counters.cow_breaks"), 1);
    outcome_free(&o);

    /* Guarantees that over-commit the pool break an invariant: with
     * --check that is a failure before the first step (the machine as the
     * file sets it up is checked too); without, none. */
    const char *over = "name: over\n"
                       "machine: { frames: 64 }\n"
                       "policy: { kind: fixed }\n"
                       "tasks: { a: { guaranteed: 48 }, b: { guaranteed: 48 } }\n"
                       "steps:\n"
                       "  - { task: a, do: create, as: C }\n"
                       "  - { task: a, do: create, as: D }\n";
    o = run_text(over, NULL);
    ck_assert_uint_eq(o.failures, 0);
    outcome_free(&o);
    o = run_text(over, &check);
    ck_assert_uint_ge(o.failures, 1);
    const char *f = jstr(o.json, "failures.0");
    ck_assert_msg(g_str_has_prefix(f, "before the first step (t.yaml): invariant: "), "%s", f);
    outcome_free(&o);
}
END_TEST

/* Times past 2^63 ns: refused at load, or run and reported as they are,
 * never as negative times. */
START_TEST(test_absurd_times)
{
    const char *text = HEAD "  - { do: advance, time: 9223372036854775808 }\n"
                            "  - { do: advance, time: 1 }\n";
    char *msg = NULL;
    sim_scenario_t *sc = sim_scenario_load_string("t.yaml", text, strlen(text), &msg);
    if (sc == NULL) {
        assert_message(msg, 9, 26, "too large", "2^63 ns");
        free(msg);
        return;
    }
    struct outcome o = run_scenario(sc, NULL);
    ck_assert_int_ge(jint(o.json, "steps.2.time_ns"), 0);
    ck_assert_int_ge(jint(o.json, "time.simulated_ns"), 0);
    outcome_free(&o);
    sim_scenario_free(sc);
}
END_TEST

/* The text report: loud failures and "result: FAILED", or "result: ok". */
START_TEST(test_text_report)
{
    struct outcome o =
        run_text(HEAD "  - { task: a, do: allocate, container: C, count: 1 }\n", NULL);
    ck_assert_uint_eq(o.failures, 0);
    ck_assert_msg(strstr(o.text, "result: ok\n") != NULL, "%s", o.text);
    ck_assert_ptr_null(strstr(o.text, "FAILURE"));
    ck_assert_ptr_null(strstr(o.text, "FAILED"));
    ck_assert_ptr_nonnull(strstr(o.text, "scenario: t (t.yaml), seed 1"));
    outcome_free(&o);

    o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 1, expect: ENOMEM }\n"
                      "expect:\n"
                      "  tasks.a.allocated: 2\n",
                 NULL);
    ck_assert_uint_eq(o.failures, 2);
    ck_assert_msg(strstr(o.text, "*** 2 FAILURES ***") != NULL, "%s", o.text);
    ck_assert_ptr_nonnull(strstr(o.text, "step 2 (t.yaml:9): allocate by a gave ok, expected "
                                         "ENOMEM"));
    ck_assert_ptr_nonnull(strstr(o.text, "expect (t.yaml:11): tasks.a.allocated is 1"));
    ck_assert_ptr_nonnull(strstr(o.text, "(expected ENOMEM)"));
    ck_assert_ptr_nonnull(strstr(o.text, "result: FAILED\n"));
    ck_assert_ptr_null(strstr(o.text, "result: ok"));
    /* Failures come first: before the steps. */
    ck_assert(strstr(o.text, "FAILURES") < strstr(o.text, "steps:"));
    outcome_free(&o);
}
END_TEST

/* --trace: one line per event, each starting with "trace". */
START_TEST(test_trace)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct sim_run_options opt = {.trace = f};
    sim_scenario_t *sc = load_ok(HEAD "  - { task: a, do: allocate, container: C, count: 1 }\n"
                                      "  - { task: a, do: map, container: C, count: 1,"
                                      " at: 0x100000 }\n"
                                      "  - { task: a, do: read, at: 0x200000, bytes: 1,"
                                      " expect: EFAULT }\n");
    sim_run_t *run = sim_scenario_run(sc, &opt);
    ck_assert_uint_eq(sim_run_failures(run), 0);
    fclose(f);
    ck_assert_uint_gt(len, 0);
    gchar **lines = g_strsplit(buf, "\n", -1);
    guint n = 0;
    bool map = false, fault = false;
    for (gchar **l = lines; *l != NULL; l++) {
        if (**l == '\0')
            continue;
        ck_assert_msg(g_str_has_prefix(*l, "trace "), "%s", *l);
        map = map || strstr(*l, "0x100000") != NULL;
        fault = fault || strstr(*l, "0x200000") != NULL;
        n++;
    }
    ck_assert_uint_ge(n, 2);
    ck_assert(map);
    ck_assert(fault);
    g_strfreev(lines);
    free(buf);
    sim_run_free(run);

    /* Without a trace file, nothing is traced (and nothing crashes). */
    run = sim_scenario_run(sc, NULL);
    ck_assert_uint_eq(sim_run_failures(run), 0);
    sim_run_free(run);
    sim_scenario_free(sc);
}
END_TEST

/* A machine the host cannot make is a failure of the run, reported in both
 * forms without GLib criticals.  The address space is limited so that the
 * pool of 2^28 frames cannot be had (not under AddressSanitizer, whose
 * allocator dies instead of failing). */
START_TEST(test_machine_cannot_be_made)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#endif
    sim_scenario_t *sc = load_ok("name: t\n"
                                 "machine: { frames: 16777216 }\n"
                                 "tasks: { a: {}, b: {} }\n"
                                 "steps:\n"
                                 "  - { task: a, do: create, as: C }\n");
    unsigned long vm = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    ck_assert_ptr_nonnull(statm);
    ck_assert_int_eq(fscanf(statm, "%lu", &vm), 1);
    fclose(statm);
    struct rlimit old, lim;
    ck_assert_int_eq(getrlimit(RLIMIT_AS, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)vm * (rlim_t)sysconf(_SC_PAGESIZE) + (256u << 20);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    sim_run_t *run = sim_scenario_run(sc, NULL);
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &old), 0);
    ck_assert_uint_eq(sim_run_failures(run), 1);
    GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    sim_run_write_json(run, f);
    fclose(f);
    JsonNode *json = parse_json(buf, len);
    ck_assert_msg(g_str_has_prefix(jstr(json, "failures.0"), "the machine cannot be made"), "%s",
                  jstr(json, "failures.0"));
    ck_assert_uint_eq(jlen(json, "steps"), 0);
    json_node_unref(json);
    free(buf);
    f = open_memstream(&buf, &len);
    sim_run_write_text(run, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "*** 1 FAILURE ***"));
    ck_assert_ptr_nonnull(strstr(buf, "result: FAILED"));
    free(buf);
    g_log_set_always_fatal(fatal);
    sim_run_free(run);
    sim_scenario_free(sc);
}
END_TEST

/* What an outside review of the runner found, now settled. */
START_TEST(test_review_settled)
{
    /* A failed step that would re-bind names leaves their old capabilities. */
    struct outcome o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 1 }\n"
                                     "  - { task: a, do: share, container: C, with: b, as: W }\n"
                                     "  - { task: a, do: create_with, count: 100, with: b, as: C,"
                                     " weak: W, expect: ENOMEM }\n"
                                     "  - { task: a, do: allocate, container: C, start: 1,"
                                     " count: 1 }\n"
                                     "  - { task: b, do: map, container: W, count: 2,"
                                     " at: 0x100000 }\n"
                                     "  - { task: a, do: revoke, container: C, ref: W }\n",
                                NULL);
    ck_assert_msg(o.failures == 0, "%s", o.text);
    ck_assert_int_eq(jint(o.json, "tasks.a.allocated"), 2);
    outcome_free(&o);

    /* A leading zero (octal in YAML 1.1) is refused, not read as decimal. */
    const char *oct = HEAD "  - { task: a, do: allocate, container: C, count: 010 }\n";
    char *msg = load_error(oct, strlen(oct));
    assert_message(msg, 9, 51, "leading 0", "octal");
    free(msg);
    /* expect_data against a store names a task that is a store. */
    const char *store = HEAD "  - { task: a, do: read, at: 0x1000, bytes: 4,"
                             " expect_data: { store: s0, offset: 0 } }\n";
    msg = load_error(store, strlen(store));
    assert_message(msg, 9, 70, "unknown task 's0'", "store");
    free(msg);
    /* A map whose pages would pass the 48-bit address space. */
    const char *far = HEAD "  - { task: a, do: allocate, container: C, count: 4 }\n"
                           "  - { task: a, do: map, container: C, count: 4, at: 0xffffffffe000 }\n";
    msg = load_error(far, strlen(far));
    assert_message(msg, 10, 53, "48-bit", "far map");
    free(msg);
    /* unlock may name a duration, as the contract's table lists it. */
    sim_scenario_free(load_ok(HEAD "  - { task: a, do: lock, container: C, duration: 1ms }\n"
                                   "  - { task: a, do: unlock, container: C, duration: 1ms }\n"));
    /* A failed map mapped nothing: expect_mapped checks 0. */
    o = run_text(HEAD "  - { task: a, do: allocate, container: C, count: 1 }\n"
                      "  - { task: a, do: map, container: C, count: 2, at: 0x200000,"
                      " expect: ENOENT, expect_mapped: 0 }\n"
                      "  - { task: a, do: map, container: C, count: 2, at: 0x200000,"
                      " expect: ENOENT, expect_mapped: 2 }\n",
                 NULL);
    ck_assert_uint_eq(o.failures, 1);
    assert_failure(&o, 0, "step 4 (t.yaml:11): map by a mapped 0 frames, expected 2");
    outcome_free(&o);

    /* A file that never ends is refused at the size bound. */
    msg = NULL;
    ck_assert_ptr_null(sim_scenario_load("/dev/zero", &msg));
    ck_assert_msg(strstr(msg, "/dev/zero:1:1: ") == msg && strstr(msg, "larger than") != NULL, "%s",
                  msg);
    free(msg);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *tc = tcase_create("bad");
    tcase_add_loop_test(tc, test_bad_input, 0, (int)G_N_ELEMENTS(bad));
    tcase_add_test(tc, test_binary_content);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_files);
    suite_add_tcase(s, tc);
    tc = tcase_create("huge");
    /* HUGE_STEPS steps: minutes under valgrind, whose run (.ci/run) leaves it
     * out with CK_EXCLUDE_TAGS=slow; the paths it takes are the small
     * documents' paths, and the sanitizer builds run it. */
    tcase_set_tags(tc, "slow");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_huge_document);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_add_test(tc, test_every_operation);
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_failure_continues);
    tcase_add_test(tc, test_result_checks);
    tcase_add_test(tc, test_data_checks);
    tcase_add_test(tc, test_final_expect);
    tcase_add_test(tc, test_failed_binding);
    tcase_add_test(tc, test_policy_swap_steps);
    tcase_add_test(tc, test_review_reclaim);
    tcase_add_test(tc, test_review_pager);
    tcase_add_test(tc, test_review_issue7);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_parallel_by_time);
    tcase_add_test(tc, test_cost_model);
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_backend_parity);
    tcase_add_test(tc, test_review_issue8);
    tcase_add_test(tc, test_parallel_seed);
    tcase_add_test(tc, test_check_option);
    tcase_add_test(tc, test_absurd_times);
    tcase_add_test(tc, test_text_report);
    tcase_add_test(tc, test_trace);
    tcase_add_test(tc, test_machine_cannot_be_made);
    tcase_add_test(tc, test_review_settled);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
