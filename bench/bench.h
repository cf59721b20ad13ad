/* bench.h — small helpers shared by the benchmarks: a monotonic clock, the
 * command line (a scale for the iteration counts), best-of-N bookkeeping,
 * the output lines, and the host's heap, RSS and minor-fault counters.
 *
 * Every measurement is run a few times and the best repetition is reported:
 * the machines these run on are shared and noisy, and the best run is the one
 * least disturbed by others.  All helpers are static inline so that each
 * benchmark is one translation unit. */
#ifndef PMSIM_BENCH_H
#define PMSIM_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

/* Nanoseconds on the monotonic clock. */
static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The best (smallest) time per operation over the repetitions so far. */
struct bench_best {
    double ns_per_op; /* 0 until the first repetition */
    double first;     /* ns/op of the first repetition */
};

/* Record one repetition of OPS operations that took NS nanoseconds. */
static inline void bench_record(struct bench_best *b, uint64_t ns, uint64_t ops)
{
    double per = ops ? (double)ns / (double)ops : 0.0;
    if (b->ns_per_op == 0.0) {
        b->first = per;
        b->ns_per_op = per;
    } else if (per < b->ns_per_op) {
        b->ns_per_op = per;
    }
}

/* Operations per second at the best time. */
static inline double bench_rate(const struct bench_best *b)
{
    return b->ns_per_op > 0.0 ? 1e9 / b->ns_per_op : 0.0;
}

/* Per-repetition figures of one quantity (ns, or ns per operation), for
 * the best and the median. */
#define BENCH_MAX_REPS 64
struct bench_series {
    double v[BENCH_MAX_REPS];
    unsigned n;
};

/* One repetition: NS nanoseconds for OPS operations (OPS 1: a time). */
static inline void bench_series_add(struct bench_series *s, uint64_t ns, uint64_t ops)
{
    if (s->n < BENCH_MAX_REPS)
        s->v[s->n++] = ops ? (double)ns / (double)ops : 0.0;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static inline double bench_series_best(const struct bench_series *s)
{
    double b = s->n ? s->v[0] : 0.0;
    for (unsigned i = 1; i < s->n; i++)
        if (s->v[i] < b)
            b = s->v[i];
    return b;
}

static inline double bench_series_median(const struct bench_series *s)
{
    double v[BENCH_MAX_REPS];
    if (s->n == 0)
        return 0.0;
    memcpy(v, s->v, s->n * sizeof v[0]);
    qsort(v, s->n, sizeof v[0], bench_cmp_double);
    return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

/* The ratio of the best figures, BASE's over S's (>= 1: S is as fast). */
static inline double bench_series_ratio(const struct bench_series *s,
                                        const struct bench_series *base)
{
    double b = bench_series_best(s);
    return b > 0.0 ? bench_series_best(base) / b : 0.0;
}

/* Parse the command line: `--quick` (a tenth of the work, fewer
 * repetitions), `--scale=F` (F times the work), `--help`.  Returns the scale,
 * sets *REPS, or exits (0 for --help, 2 for a bad argument). */
static inline double bench_parse_args(int argc, char **argv, const char *about, unsigned *reps)
{
    double scale = 1.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--quick") == 0) {
            scale = 0.1;
            *reps = 3;
        } else if (strncmp(a, "--scale=", 8) == 0) {
            char *end;
            scale = strtod(a + 8, &end);
            if (*end != '\0' || !(scale > 0.0) || scale > 1000.0) {
                fprintf(stderr, "%s: bad scale '%s' (a number in (0, 1000])\n", argv[0], a + 8);
                exit(2);
            }
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("usage: %s [--quick | --scale=F]\n\n%s\n\n"
                   "  --quick     a short run: a tenth of the iterations, 3 repetitions\n"
                   "  --scale=F   F times the default iterations (e.g. 0.5, 4)\n",
                   argv[0], about);
            exit(0);
        } else {
            fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], a);
            exit(2);
        }
    }
    return scale;
}

/* N scaled by SCALE, at least MIN. */
static inline uint64_t bench_scaled(uint64_t n, double scale, uint64_t min)
{
    double v = (double)n * scale;
    return v < (double)min ? min : (uint64_t)v;
}

#define BENCH_LABEL_WIDTH 38

/* `label : 45.20 M/s   22.1 ns/op` */
static inline void bench_print_rate(const char *label, const struct bench_best *b)
{
    printf("%-*s: %8.2f M/s %9.1f ns/op\n", BENCH_LABEL_WIDTH, label, bench_rate(b) / 1e6,
           b->ns_per_op);
}

/* `label : 1.80x  (goal >= 1.0)`; GOAL <= 0 prints no goal. */
static inline void bench_print_ratio(const char *label, double ratio, double goal)
{
    if (goal > 0.0)
        printf("%-*s: %8.2fx  (goal >= %.1f)\n", BENCH_LABEL_WIDTH, label, ratio, goal);
    else
        printf("%-*s: %8.2fx  (no goal)\n", BENCH_LABEL_WIDTH, label, ratio);
}

/* `goal label : met` or `NOT met`. */
static inline void bench_print_goal(const char *label, bool met)
{
    printf("goal %-*s: %s\n", BENCH_LABEL_WIDTH - 5, label, met ? "met" : "NOT met");
}

/* ---- host memory and faults (Linux, glibc) -------------------------------- */

/* Bytes this process holds from malloc: glibc's mallinfo2, arena bytes in
 * use plus mmapped blocks (virtual size: a large calloc'd block counts in
 * full whether or not it was touched).  0 without glibc 2.33 or later. */
static inline size_t bench_heap_bytes(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#else
    return 0;
#endif
}

/* Resident set size in bytes (/proc/self/statm; 0 when unreadable). */
static inline size_t bench_rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Minor page faults this process has taken so far (getrusage). */
static inline uint64_t bench_minor_faults(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (uint64_t)ru.ru_minflt;
}

/* `label : 12.34 ms   47.1 ns/UNIT`: the best repetition's total time for
 * OPS operations, and the time per operation. */
static inline void bench_print_ms(const char *label, const struct bench_best *b, uint64_t ops,
                                  const char *unit)
{
    printf("%-*s: %8.2f ms %9.1f ns/%s\n", BENCH_LABEL_WIDTH, label,
           b->ns_per_op * (double)ops / 1e6, b->ns_per_op, unit);
}

/* `label : 9.87 GiB/s   395.2 ns/op`, for operations of BYTES bytes each. */
static inline void bench_print_bandwidth(const char *label, const struct bench_best *b,
                                         uint64_t bytes)
{
    double gibs = b->ns_per_op > 0.0 ? (double)bytes / b->ns_per_op * 1e9 / (1u << 30) : 0.0;
    printf("%-*s: %8.2f GiB/s %7.1f ns/op\n", BENCH_LABEL_WIDTH, label, gibs, b->ns_per_op);
}

/* Abort the benchmark on a failure that makes its figures meaningless. */
#define BENCH_CHECK(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
