/* calibrate.c — `pmsim calibrate`: measure this host and write a cost table
 * (SPEC §10, docs/costs.md).
 *
 * Each price is the best of several repetitions (machines are shared and
 * noisy: the fastest run is the one least disturbed), taken with what the
 * host itself does for the event the simulator counts:
 * - ipc: a one-byte message between two threads over a pair of pipes, half
 *   a round trip (a send and the wake-up of the receiver);
 * - typed_item: an mmap call of one page of a memfd (the call itself);
 *   map_page: what each further page adds to an mmap with MAP_POPULATE, at
 *   scale (from 64 pages to 4,096: a transfer maps thousands);
 * - unmap: a munmap call of one page; unmap_page: what each further page
 *   adds to a munmap, at the same scale;
 * - tlb_flush: what each page adds to an mprotect(PROT_READ) of a range
 *   whose pages are mapped (one PTE rewritten, one TLB entry shot down);
 *   madvise(MADV_DONTNEED) of a page is measured and said too (the pool's
 *   release of frames; no price of the table stands for it);
 * - fault.*: a minor fault on fresh anonymous memory (no huge pages), less
 *   clearing the page (frame_bind), so that a fault and the frame it binds
 *   are not counted twice;
 * - frame_bind: clearing a page (memset) in cache;
 * - copy: memcpy by size from 4 KiB to 64 MiB: hot is the cheapest byte,
 *   cold the largest size's; cache is the largest size whose byte costs at
 *   most halfway between them;
 * - disk_write, disk_read: pwrite and pread of one page of a temporary
 *   file (the page cache: what the simulator's swap file does). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "pmsim/swapfile.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct cal {
    size_t page;
    unsigned reps;
    bool quick;
    GString *log; /* what was measured, for the table's comment */
};

/* ---- ipc ---------------------------------------------------------------------- */

struct pingpong {
    int to[2], back[2];
    unsigned rounds;
};

static void *echo(void *arg)
{
    struct pingpong *pp = arg;
    char c;
    for (unsigned i = 0; i < pp->rounds; i++) {
        if (read(pp->to[0], &c, 1) != 1 || write(pp->back[1], &c, 1) != 1)
            break;
    }
    return NULL;
}

static double measure_ipc(struct cal *c)
{
    double best = -1;
    unsigned rounds = c->quick ? 2000 : 20000;
    for (unsigned r = 0; r < c->reps; r++) {
        struct pingpong pp = {.rounds = rounds};
        if (pipe(pp.to) != 0 || pipe(pp.back) != 0)
            return -1;
        pthread_t t;
        if (pthread_create(&t, NULL, echo, &pp) != 0)
            return -1;
        char ch = 'x';
        uint64_t t0 = now_ns();
        unsigned done = 0;
        for (; done < rounds; done++)
            if (write(pp.to[1], &ch, 1) != 1 || read(pp.back[0], &ch, 1) != 1)
                break;
        uint64_t t1 = now_ns();
        pthread_join(t, NULL);
        close(pp.to[0]);
        close(pp.to[1]);
        close(pp.back[0]);
        close(pp.back[1]);
        if (done < rounds)
            return -1;
        double v = (double)(t1 - t0) / rounds / 2;
        if (best < 0 || v < best)
            best = v;
    }
    g_string_append_printf(c->log, "ipc: half a pipe round trip between two threads: %.0f ns\n",
                           best);
    return best;
}

/* ---- mappings ----------------------------------------------------------------------- */

/* The best time of mmap (MAP_POPULATE) and munmap of N pages of the memfd
 * FD, a call each, over REPS rounds of CALLS calls: *MAP and *UNMAP in ns
 * a call. */
static void map_unmap(struct cal *c, int fd, size_t n, double *map, double *unmap)
{
    unsigned calls = c->quick ? 200 : 2000;
    if (n > 1)
        calls /= 8;
    if (n > 64)
        calls = c->quick ? 2 : 8; /* large: a few calls say enough */
    *map = *unmap = -1;
    void **at = g_new(void *, calls);
    for (unsigned r = 0; r < c->reps; r++) {
        uint64_t t0 = now_ns();
        unsigned made = 0;
        for (; made < calls; made++) {
            at[made] =
                mmap(NULL, n * c->page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
            if (at[made] == MAP_FAILED)
                break;
        }
        uint64_t t1 = now_ns();
        for (unsigned i = 0; i < made; i++)
            munmap(at[i], n * c->page);
        uint64_t t2 = now_ns();
        if (made == 0)
            continue;
        double m = (double)(t1 - t0) / made, u = (double)(t2 - t1) / made;
        if (*map < 0 || m < *map)
            *map = m;
        if (*unmap < 0 || u < *unmap)
            *unmap = u;
    }
    g_free(at);
}

static void measure_mappings(struct cal *c, struct sim_cost_table *t)
{
    /* A page's price is what it adds at scale: between 64 pages and 4,096
     * (16 MiB of 4 KiB pages), whose page structures no longer sit in the
     * cache, as when a transfer maps thousands of pages. */
    const size_t many = 64, lots = c->quick ? 1024 : 4096;
    int fd = memfd_create("pmsim-calibrate", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)(lots * c->page)) != 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    /* The memfd's pages exist first, as the pool's do: a map enters them. */
    void *fill = mmap(NULL, lots * c->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fill != MAP_FAILED) {
        memset(fill, 1, lots * c->page);
        munmap(fill, lots * c->page);
    }
    double m1, u1, mn, un, ml, ul;
    map_unmap(c, fd, 1, &m1, &u1);
    map_unmap(c, fd, many, &mn, &un);
    map_unmap(c, fd, lots, &ml, &ul);
    if (m1 > 0 && mn > 0 && ml > 0) {
        t->ns[SIM_COST_TYPED_ITEM] = m1;
        t->ns[SIM_COST_MAP_PAGE] = ml > mn ? (ml - mn) / (double)(lots - many) : 0;
        t->ns[SIM_COST_UNMAP] = u1;
        t->ns[SIM_COST_UNMAP_PAGE] = ul > un ? (ul - un) / (double)(lots - many) : 0;
    }
    g_string_append_printf(c->log,
                           "typed_item, map_page: mmap(MAP_POPULATE) of 1 page of a memfd %.0f ns, "
                           "of %zu pages %.0f ns, of %zu pages %.0f ns\n"
                           "unmap, unmap_page: munmap of 1 page %.0f ns, of %zu pages %.0f ns, "
                           "of %zu pages %.0f ns\n",
                           m1, many, mn, lots, ml, u1, many, un, lots, ul);
    /* tlb_flush: what a page adds to mprotect(PROT_READ) of mapped pages. */
    double best = -1;
    void *p = mmap(NULL, many * c->page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    if (p != MAP_FAILED) {
        for (unsigned r = 0; r < c->reps * 20; r++) {
            uint64_t t0 = now_ns();
            int e1 = mprotect(p, many * c->page, PROT_READ);
            uint64_t t1 = now_ns();
            int e2 = mprotect(p, c->page, PROT_READ | PROT_WRITE);
            uint64_t t2 = now_ns();
            (void)mprotect(p, many * c->page, PROT_READ | PROT_WRITE);
            if (e1 != 0 || e2 != 0)
                break;
            double v = ((double)(t1 - t0) - (double)(t2 - t1)) / (double)(many - 1);
            if (v > 0 && (best < 0 || v < best))
                best = v;
        }
        munmap(p, many * c->page);
    }
    if (best > 0)
        t->ns[SIM_COST_TLB_FLUSH] = best;
    g_string_append_printf(
        c->log, "tlb_flush: a page of mprotect(PROT_READ) of %zu pages %.1f ns\n", many, best);
    close(fd);
    /* madvise(MADV_DONTNEED), a page given back to the host: what the pool
     * does for frames it releases (not a price of the table; said here). */
    double give = -1;
    for (unsigned r = 0; r < c->reps; r++) {
        unsigned char *q =
            mmap(NULL, many * c->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (q == MAP_FAILED)
            break;
        memset(q, 1, many * c->page);
        uint64_t t0 = now_ns();
        int e = madvise(q, many * c->page, MADV_DONTNEED);
        uint64_t t1 = now_ns();
        munmap(q, many * c->page);
        double v = (double)(t1 - t0) / (double)many;
        if (e == 0 && (give < 0 || v < give))
            give = v;
    }
    g_string_append_printf(c->log,
                           "(madvise(MADV_DONTNEED): %.1f ns a page given back to the host; the "
                           "pool's release, no price of its own)\n",
                           give);
}

/* ---- faults and clearing ---------------------------------------------------------- */

static void measure_faults(struct cal *c, struct sim_cost_table *t)
{
    size_t n = c->quick ? 256 : 4096;
    double fault = -1, clear = -1;
    unsigned char *hot = aligned_alloc(c->page, c->page);
    for (unsigned r = 0; r < c->reps; r++) {
        unsigned char *p =
            mmap(NULL, n * c->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            break;
        (void)madvise(p, n * c->page, MADV_NOHUGEPAGE);
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < n; i++)
            p[i * c->page] = 1;
        uint64_t t1 = now_ns();
        munmap(p, n * c->page);
        double v = (double)(t1 - t0) / (double)n;
        if (fault < 0 || v < fault)
            fault = v;
        if (hot != NULL) {
            uint64_t a = now_ns();
            for (unsigned i = 0; i < 256; i++) {
                memset(hot, (int)i, c->page);
                __asm__ volatile("" : : "r"(hot) : "memory");
            }
            double w = (double)(now_ns() - a) / 256;
            if (clear < 0 || w < clear)
                clear = w;
        }
    }
    free(hot);
    if (clear > 0)
        t->ns[SIM_COST_FRAME_BIND] = clear;
    double kernel = fault > clear ? fault - (clear > 0 ? clear : 0) : fault;
    for (int k = SIM_COST_FAULT_MISSING; k <= SIM_COST_FAULT_EXEC; k++)
        t->ns[k] = kernel > 0 ? kernel : 0;
    g_string_append_printf(c->log,
                           "fault.*: a minor fault on fresh anonymous memory %.0f ns, less "
                           "frame_bind\nframe_bind: memset of a page in cache %.0f ns\n",
                           fault, clear);
}

/* ---- copying -------------------------------------------------------------------------- */

static void measure_copy(struct cal *c, struct sim_cost_table *t)
{
    size_t top = c->quick ? (size_t)8 << 20 : (size_t)64 << 20;
    unsigned char *a = malloc(top), *b = malloc(top);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return;
    }
    memset(a, 1, top);
    memset(b, 2, top);
    double per[32];
    size_t sizes[32], ns = 0;
    for (size_t sz = 4096; sz <= top && ns < 32; sz *= 4) {
        /* Enough bytes in all to time well; the same buffers again and
         * again (hot while they fit). */
        size_t rounds = (top * (c->quick ? 1 : 4)) / sz;
        if (rounds < 2)
            rounds = 2;
        double best = -1;
        for (unsigned r = 0; r < c->reps; r++) {
            uint64_t t0 = now_ns();
            for (size_t i = 0; i < rounds; i++) {
                memcpy(b, a, sz);
                __asm__ volatile("" : : "r"(b) : "memory");
            }
            double v = (double)(now_ns() - t0) / (double)(rounds * sz);
            if (best < 0 || v < best)
                best = v;
        }
        sizes[ns] = sz;
        per[ns++] = best;
        g_string_append_printf(c->log, "copy: memcpy of %zu KiB %.4f ns a byte\n", sz >> 10, best);
    }
    free(a);
    free(b);
    if (ns == 0)
        return;
    double hot = per[0];
    for (size_t i = 1; i < ns; i++)
        if (per[i] < hot)
            hot = per[i];
    double cold = per[ns - 1] > hot ? per[ns - 1] : hot;
    size_t cache = sizes[0];
    for (size_t i = 0; i < ns; i++)
        if (per[i] <= (hot + cold) / 2)
            cache = sizes[i];
    t->ns[SIM_COST_COPY_HOT] = hot;
    t->ns[SIM_COST_COPY_COLD] = cold;
    t->cache_bytes = cache;
}

/* ---- disk ------------------------------------------------------------------------------- */

static void measure_disk(struct cal *c, struct sim_cost_table *t)
{
    int fd = sim_temp_fd("calibration file", NULL);
    if (fd < 0)
        return;
    size_t n = c->quick ? 256 : 4096;
    unsigned char *buf = aligned_alloc(c->page, c->page);
    double w = -1, rd = -1;
    if (buf != NULL && ftruncate(fd, (off_t)(n * c->page)) == 0) {
        memset(buf, 7, c->page);
        for (unsigned r = 0; r < c->reps; r++) {
            uint64_t t0 = now_ns();
            size_t i = 0;
            for (; i < n; i++)
                if (pwrite(fd, buf, c->page, (off_t)(i * c->page)) != (ssize_t)c->page)
                    break;
            uint64_t t1 = now_ns();
            size_t j = 0;
            for (; j < i; j++)
                if (pread(fd, buf, c->page, (off_t)(j * c->page)) != (ssize_t)c->page)
                    break;
            uint64_t t2 = now_ns();
            if (i < n || j < n)
                break;
            double vw = (double)(t1 - t0) / (double)n, vr = (double)(t2 - t1) / (double)n;
            if (w < 0 || vw < w)
                w = vw;
            if (rd < 0 || vr < rd)
                rd = vr;
        }
    }
    free(buf);
    close(fd);
    if (w > 0) {
        t->ns[SIM_COST_DISK_WRITE] = w;
        t->ns[SIM_COST_DISK_READ] = rd;
    }
    g_string_append_printf(c->log,
                           "disk_write, disk_read: pwrite and pread of a page of a temporary file "
                           "%.0f and %.0f ns\n",
                           w, rd);
}

/* ---- the table ---------------------------------------------------------------------------- */

static char *cpu_model(void)
{
    char *text = NULL;
    if (!g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL))
        return g_strdup("unknown CPU");
    char *model = NULL;
    for (char *line = strtok(text, "\n"); line != NULL && model == NULL; line = strtok(NULL, "\n"))
        if (g_str_has_prefix(line, "model name")) {
            char *colon = strchr(line, ':');
            if (colon != NULL)
                model = g_strstrip(g_strdup(colon + 1));
        }
    g_free(text);
    return model != NULL ? model : g_strdup("unknown CPU");
}

char *pm_calibrate(const char *name, bool quick, struct sim_cost_table *out)
{
    struct cal c = {.page = (size_t)sysconf(_SC_PAGESIZE), .reps = quick ? 2 : 7, .quick = quick};
    c.log = g_string_new(NULL);
    memset(out, 0, sizeof *out);
    g_strlcpy(out->name, name, sizeof out->name);
    double ipc = measure_ipc(&c);
    if (ipc > 0)
        out->ns[SIM_COST_IPC] = ipc;
    measure_mappings(&c, out);
    measure_faults(&c, out);
    measure_copy(&c, out);
    measure_disk(&c, out);

    struct utsname u;
    char *cpu = cpu_model();
    GDateTime *now = g_date_time_new_now_utc();
    char *when = g_date_time_format(now, "%Y-%m-%d %H:%M UTC");
    GString *head = g_string_new(NULL);
    g_string_append_printf(head, "cost table %s, measured by `pmsim calibrate%s` on %s\n", name,
                           quick ? " --quick" : "", when);
    if (uname(&u) == 0)
        g_string_append_printf(head, "host: %s %s %s %s\n", u.nodename, u.sysname, u.release,
                               u.machine);
    g_string_append_printf(head, "cpu: %s; %ld CPUs online; pages of %zu bytes\n", cpu,
                           sysconf(_SC_NPROCESSORS_ONLN), c.page);
    g_string_append_printf(head, "each price the best of %u repetitions; what was measured:\n",
                           c.reps);
    g_string_append(head, c.log->str);
    g_free(when);
    g_date_time_unref(now);
    g_free(cpu);
    g_string_free(c.log, TRUE);
    char *text = sim_cost_table_format(out, head->str);
    g_string_free(head, TRUE);
    return text;
}

/* ---- fitting a table to measured times ------------------------------------------- */

/* The kinds a fit prices, as `time.measured_events` names them. */
static const struct {
    const char *event;
    enum sim_cost_kind kind;
} fitted[] = {
    {"ipc", SIM_COST_IPC},
    {"typed_item", SIM_COST_TYPED_ITEM},
    {"map_page", SIM_COST_MAP_PAGE},
    {"unmap", SIM_COST_UNMAP},
    {"unmap_page", SIM_COST_UNMAP_PAGE},
    {"tlb_flush", SIM_COST_TLB_FLUSH},
    {"fault.missing", SIM_COST_FAULT_MISSING},
    {"fault.read", SIM_COST_FAULT_READ},
    {"fault.write", SIM_COST_FAULT_WRITE},
    {"fault.exec", SIM_COST_FAULT_EXEC},
    {"frame_bind", SIM_COST_FRAME_BIND},
    {"bytes_copied", SIM_COST_COPY_COLD},
    {"disk_write", SIM_COST_DISK_WRITE},
    {"disk_read", SIM_COST_DISK_READ},
};
#define NFIT G_N_ELEMENTS(fitted)

char *pm_calibrate_fit(const char *sweep_json, const char *name, struct sim_cost_table *out,
                       char **error)
{
    JsonParser *p = json_parser_new();
    GError *e = NULL;
    if (!json_parser_load_from_file(p, sweep_json, &e)) {
        *error = g_strdup_printf("%s: %s", sweep_json, e->message);
        g_error_free(e);
        g_object_unref(p);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(p);
    JsonObject *o =
        root != NULL && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
    JsonArray *pts = o != NULL && json_object_has_member(o, "points")
                         ? json_object_get_array_member(o, "points")
                         : NULL;
    /* The rows: a point's measured events and its measured host time,
     * divided by that time (so the fit minimises relative errors). */
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(double) * (NFIT + 1));
    for (guint i = 0; pts != NULL && i < json_array_get_length(pts); i++) {
        JsonObject *pt = json_array_get_object_element(pts, i);
        JsonObject *tm = pt != NULL && json_object_has_member(pt, "time")
                             ? json_object_get_object_member(pt, "time")
                             : NULL;
        if (tm == NULL || !json_object_has_member(tm, "measured_events") ||
            json_object_get_int_member_with_default(tm, "measured_host_ns", 0) <= 0)
            continue;
        JsonObject *ev = json_object_get_object_member(tm, "measured_events");
        double row[NFIT + 1];
        double y = (double)json_object_get_int_member(tm, "measured_host_ns");
        for (size_t k = 0; k < NFIT; k++)
            row[k] = (double)json_object_get_int_member_with_default(ev, fitted[k].event, 0) / y;
        row[NFIT] = 1.0;
        g_array_append_vals(rows, row, 1);
    }
    g_object_unref(p);
    guint n = rows->len;
    if (n < 2) {
        *error = g_strdup_printf("%s: fewer than 2 points with measured steps (a sweep's JSON of "
                                 "a scenario with measure: true)",
                                 sweep_json);
        g_array_free(rows, TRUE);
        return NULL;
    }
    const double *A = (const double *)rows->data;
#define AT(r, k) A[(size_t)(r) * (NFIT + 1) + (k)]
    /* Non-negative least squares by cyclic coordinate descent: each price in
     * turn set to its best non-negative value given the others. */
    double x[NFIT] = {0}, norm[NFIT], *res = g_new(double, n);
    for (guint r = 0; r < n; r++)
        res[r] = AT(r, NFIT);
    for (size_t k = 0; k < NFIT; k++) {
        norm[k] = 0;
        for (guint r = 0; r < n; r++)
            norm[k] += AT(r, k) * AT(r, k);
    }
    for (int sweep = 0; sweep < 20000; sweep++) {
        double moved = 0;
        for (size_t k = 0; k < NFIT; k++) {
            if (norm[k] == 0)
                continue;
            double g = 0;
            for (guint r = 0; r < n; r++)
                g += AT(r, k) * res[r];
            double nx = x[k] + g / norm[k];
            if (nx < 0)
                nx = 0;
            double d = nx - x[k];
            if (d == 0)
                continue;
            for (guint r = 0; r < n; r++)
                res[r] -= d * AT(r, k);
            x[k] = nx;
            moved += fabs(d) * sqrt(norm[k]);
        }
        if (moved < 1e-12)
            break;
    }
    double worst = 0, sum = 0;
    for (guint r = 0; r < n; r++) {
        sum += fabs(res[r]);
        worst = fabs(res[r]) > worst ? fabs(res[r]) : worst;
    }
#undef AT
    g_free(res);
    g_array_free(rows, TRUE);
    memset(out, 0, sizeof *out);
    g_strlcpy(out->name, name, sizeof out->name);
    for (size_t k = 0; k < NFIT; k++)
        out->ns[fitted[k].kind] = x[k] < 1e-6 ? 0 : x[k];     /* below a femtosecond: none */
    out->ns[SIM_COST_COPY_HOT] = out->ns[SIM_COST_COPY_COLD]; /* one price a byte */
    char *head = g_strdup_printf(
        "cost table %s, fitted by `pmsim calibrate --fit %s`:\n"
        "the prices (non-negative least squares) that best give the measured host time\n"
        "of the measured steps of its %u points from their counted events; relative\n"
        "error per point: mean %.1f %%, worst %.1f %%.  Events no point had are priced 0.\n"
        "bytes copied are priced alike hot or cold (cache 0).",
        name, sweep_json, n, 100.0 * sum / n, 100.0 * worst);
    char *text = sim_cost_table_format(out, head);
    g_free(head);
    return text;
}
