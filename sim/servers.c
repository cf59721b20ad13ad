/* servers.c — the store and the file server (SPEC §9.1–§9.3; servers.h).
 *
 * The store reads and writes its backing file a page at a time, straight
 * between the file and frames it maps from a container it was given a
 * share of; it keeps nothing.  The file server keeps cached blocks in its
 * cache container, allocated as extra frames (CONT_ALLOC_EXTRA), filled by
 * the store on a miss, dropped oldest first when physmem wants frames back
 * or the cache cannot grow.  A request moves blocks between the cache and
 * the client's container by one of the four strategies. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "pmsim/swapfile.h"
#include "servers.h"

const char *const sim_strategy_names[STRAT_COUNT] = {
    [STRAT_LOGICAL_COPY] = "logical-copy",
    [STRAT_PHYSICAL_COPY] = "physical-copy",
    [STRAT_SHARED] = "shared",
    [STRAT_DIRECT_MAP] = "direct-map",
};

/* Where servers map what they work on, far from scenario addresses. */
#define STORE_VA 0x700000000000ull
#define CACHE_VA 0x600000000000ull
#define WINDOW_VA 0x680000000000ull
/* keep_mappings: frame F of the client's container is kept at window slot
 * F mod WINDOW_SLOTS. */
#define WINDOW_SLOTS (UINT64_C(1) << 24)

/* ---- the store --------------------------------------------------------------- */

static unsigned char pattern_byte(uint64_t o, size_t page)
{
    return (unsigned char)((o + o / page) % 251);
}

pm_error_t sim_store_open(struct sim_store *s, const char *path, uint64_t size, const char *fill,
                          size_t page, char **message)
{
    *s = (struct sim_store){.fd = -1};
    if (path != NULL) {
        s->fd = open(path, O_RDWR | O_CLOEXEC);
        if (s->fd < 0) {
            *message = g_strdup_printf("cannot open backing file %s: %s", path, strerror(errno));
            return PM_EIO;
        }
        off_t end = lseek(s->fd, 0, SEEK_END);
        s->size = end > 0 ? (uint64_t)end : 0;
        return PM_OK;
    }
    if ((s->fd = sim_temp_fd("backing file", message)) < 0)
        return PM_EIO;
    s->size = size;
    bool pat = fill != NULL && strcmp(fill, "pattern") == 0;
    unsigned char *buf = g_malloc0(page);
    for (uint64_t o = 0; o < size; o += page) {
        size_t n = size - o < page ? (size_t)(size - o) : page;
        for (size_t i = 0; pat && i < n; i++)
            buf[i] = pattern_byte(o + i, page);
        if (pwrite(s->fd, buf, n, (off_t)o) != (ssize_t)n) {
            *message = g_strdup_printf("cannot fill the backing file: %s", strerror(errno));
            g_free(buf);
            close(s->fd);
            s->fd = -1;
            return PM_EIO;
        }
    }
    g_free(buf);
    return PM_OK;
}

void sim_store_close(struct sim_store *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

void sim_store_peek(const struct sim_store *s, uint64_t offset, void *buf, size_t len)
{
    memset(buf, 0, len);
    if (offset < s->size) {
        size_t n = s->size - offset < len ? (size_t)(s->size - offset) : len;
        if (pread(s->fd, buf, n, (off_t)offset) < 0)
            memset(buf, 0, len);
    }
}

/* The store fills frame F of the container it names REF with the page of
 * the backing at OFFSET (WRITE) or writes that frame there (!WRITE). */
static pm_error_t store_io(struct sim_store *s, const struct sim_env *e, container_t ref, frame_t f,
                           uint64_t offset, bool fill)
{
    uint32_t one = 1;
    pm_error_t err =
        pm_container_map(e->pm, s->task, ref, f, &one,
                         fill ? CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE : CONT_MAP_READ, STORE_VA);
    if (err != PM_OK)
        return err;
    unsigned char *buf = g_malloc(e->page);
    if (fill) {
        sim_store_peek(s, offset, buf, e->page);
        err = l4_access(e->k, s->thread, L4_ACCESS_WRITE, STORE_VA, buf, e->page, NULL);
        s->reads++;
        s->bytes_read += e->page;
    } else {
        err = l4_access(e->k, s->thread, L4_ACCESS_READ, STORE_VA, buf, e->page, NULL);
        if (err == PM_OK && pwrite(s->fd, buf, e->page, (off_t)offset) != (ssize_t)e->page)
            err = PM_EIO;
        if (err == PM_OK && offset + e->page > s->size)
            s->size = offset + e->page;
        s->writes++;
        s->bytes_written += e->page;
    }
    g_free(buf);
    return err;
}

/* ---- the file server ------------------------------------------------------------ */

pm_error_t sim_fileserver_init(struct sim_fileserver *fs, const struct sim_env *e, l4_task_t task,
                               l4_thread_t thread, struct sim_store *store,
                               enum sim_behaviour behaviour, bool keep_mappings)
{
    *fs = (struct sim_fileserver){.task = task,
                                  .thread = thread,
                                  .store = store,
                                  .behaviour = behaviour,
                                  .keep = keep_mappings};
    pm_error_t err = pm_container_create(e->pm, task, &fs->cache);
    if (err == PM_OK)
        err = pm_container_share(e->pm, task, fs->cache, store->task, &fs->store_ref);
    fs->blocks = g_hash_table_new(g_direct_hash, g_direct_equal);
    fs->order = g_queue_new();
    fs->pinned = g_hash_table_new(g_direct_hash, g_direct_equal);
    fs->cache_mapped = g_hash_table_new(g_direct_hash, g_direct_equal);
    fs->win_mapped = g_hash_table_new(g_direct_hash, g_direct_equal);
    return err;
}

void sim_fileserver_fini(struct sim_fileserver *fs)
{
    if (fs->blocks != NULL)
        g_hash_table_destroy(fs->blocks);
    if (fs->order != NULL)
        g_queue_free(fs->order);
    if (fs->pinned != NULL)
        g_hash_table_destroy(fs->pinned);
    if (fs->cache_mapped != NULL)
        g_hash_table_destroy(fs->cache_mapped);
    if (fs->win_mapped != NULL)
        g_hash_table_destroy(fs->win_mapped);
    fs->cache_mapped = fs->win_mapped = NULL;
    fs->blocks = NULL;
    fs->order = NULL;
    fs->pinned = NULL;
}

/* Cache frame F deallocated: its mapping went with it. */
static pm_error_t cache_free(struct sim_fileserver *fs, const struct sim_env *e, frame_t f)
{
    uint32_t one = 1;
    g_hash_table_remove(fs->cache_mapped, GSIZE_TO_POINTER((size_t)f + 1));
    return pm_container_deallocate(e->pm, fs->task, fs->cache, f, &one, 0);
}

uint64_t sim_fileserver_drop(struct sim_fileserver *fs, const struct sim_env *e, uint64_t n)
{
    uint64_t done = 0;
    for (guint left = g_queue_get_length(fs->order); done < n && left > 0; left--) {
        gpointer b = g_queue_pop_head(fs->order);
        if (g_hash_table_contains(fs->pinned, b)) {
            g_queue_push_tail(fs->order, b); /* the request in hand needs it */
            continue;
        }
        frame_t f = (frame_t)(GPOINTER_TO_SIZE(g_hash_table_lookup(fs->blocks, b)) - 1);
        g_hash_table_remove(fs->blocks, b);
        if (cache_free(fs, e, f) == PM_OK) {
            done++;
            fs->st.drops++;
        }
    }
    return done;
}

/* The cache frame of block B, new (filled from the store unless FILL is
 * false: a write overwrites it whole).  *HIT says whether it was there. */
static pm_error_t block(struct sim_fileserver *fs, const struct sim_env *e, uint64_t b, bool fill,
                        frame_t *out)
{
    gpointer key = GSIZE_TO_POINTER(b + 1);
    gpointer v = g_hash_table_lookup(fs->blocks, key);
    if (v != NULL) {
        fs->st.hits++;
        *out = (frame_t)(GPOINTER_TO_SIZE(v) - 1);
        return PM_OK;
    }
    frame_t f = fs->next_frame;
    uint32_t one = 1;
    pm_error_t err;
    /* Extra frames for the cache; when none can be had, the oldest block goes. */
    while ((err = pm_container_allocate(e->pm, fs->task, fs->cache, f, &one, CONT_ALLOC_EXTRA)) ==
               PM_ENOMEM &&
           sim_fileserver_drop(fs, e, 1) == 1)
        one = 1;
    if (err != PM_OK)
        return err; /* no room: not a miss yet (the caller may serve and retry) */
    fs->next_frame++;
    if (fill && (err = store_io(fs->store, e, fs->store_ref, f, b * e->page, true)) != PM_OK) {
        (void)cache_free(fs, e, f);
        return err;
    }
    fs->st.misses++;
    g_hash_table_insert(fs->blocks, key, GSIZE_TO_POINTER((size_t)f + 1));
    g_queue_push_tail(fs->order, key);
    *out = f;
    return PM_OK;
}

static pm_error_t map1(const struct sim_env *e, l4_task_t task, container_t c, frame_t f,
                       unsigned flags, uint64_t va)
{
    uint32_t one = 1;
    return pm_container_map(e->pm, task, c, f, &one, flags, va);
}

/* The server copies one page from frame SF of SC to frame DF of DC, mapping
 * both into its space. */
static pm_error_t copy_page(struct sim_fileserver *fs, const struct sim_env *e, container_t sc,
                            frame_t sf, container_t dc, frame_t df)
{
    pm_error_t err = map1(e, fs->task, sc, sf, CONT_MAP_READ, CACHE_VA);
    if (err == PM_OK)
        err = map1(e, fs->task, dc, df, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE, WINDOW_VA);
    if (err == PM_OK)
        err = l4_copy(e->k, fs->thread, WINDOW_VA, CACHE_VA, e->page, NULL);
    if (err == PM_OK)
        fs->st.bytes_copied += e->page;
    return err;
}

/* Map frames FIRST … FIRST + N − 1 of C at VA into the server's space,
 * message after message until all are (a map maps what one message
 * carries). */
static pm_error_t map_run(const struct sim_env *e, l4_task_t task, container_t c, frame_t first,
                          uint32_t n, unsigned flags, uint64_t va)
{
    for (uint32_t done = 0; done < n;) {
        uint32_t k = n - done;
        pm_error_t err = pm_container_map(e->pm, task, c, first + done, &k, flags,
                                          va + (uint64_t)done * e->page);
        if (err != PM_OK)
            return err;
        done += k;
    }
    return PM_OK;
}

static bool cache_kept(const struct sim_fileserver *fs, frame_t f)
{
    return fs->keep && g_hash_table_contains(fs->cache_mapped, GSIZE_TO_POINTER((size_t)f + 1));
}

/* The server's cache frames SRC mapped at their places in its cache range
 * (CACHE_VA + frame × page), a run of neighbours a call; with
 * keep_mappings, those mapped before stay as they are. */
static pm_error_t map_cache(struct sim_fileserver *fs, const struct sim_env *e, const frame_t *src,
                            uint32_t n)
{
    pm_error_t err = PM_OK;
    for (uint32_t i = 0; err == PM_OK && i < n;) {
        if (cache_kept(fs, src[i])) {
            i++;
            continue;
        }
        uint32_t run = 1;
        while (i + run < n && src[i + run] == src[i] + run && !cache_kept(fs, src[i + run]))
            run++;
        err = map_run(e, fs->task, fs->cache, src[i], run, CONT_MAP_READ,
                      CACHE_VA + (uint64_t)src[i] * e->page);
        for (uint32_t j = 0; err == PM_OK && fs->keep && j < run; j++)
            g_hash_table_add(fs->cache_mapped, GSIZE_TO_POINTER((size_t)src[i + j] + 1));
        i += run;
    }
    return err;
}

/* keep_mappings: where frame F of the client's container is in the copy
 * window, and whether it is mapped there (as far as the server knows). */
static uint64_t window_va(const struct sim_env *e, frame_t f)
{
    return WINDOW_VA + (uint64_t)(f % WINDOW_SLOTS) * e->page;
}

static gpointer window_slot(frame_t f)
{
    return GSIZE_TO_POINTER((size_t)(f % WINDOW_SLOTS) + 1);
}

static bool window_kept(const struct sim_fileserver *fs, frame_t f)
{
    return g_hash_table_lookup(fs->win_mapped, window_slot(f)) == GSIZE_TO_POINTER((size_t)f + 1);
}

/* keep_mappings: frames START … START + N − 1 of W mapped writable in the
 * copy window, a run of neighbours a call, those mapped before left as
 * they are (another container's frames there are replaced). */
static pm_error_t window_map(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                             frame_t start, uint32_t n)
{
    if (w != fs->win_c) {
        g_hash_table_remove_all(fs->win_mapped);
        fs->win_c = w;
    }
    pm_error_t err = PM_OK;
    for (uint32_t i = 0; err == PM_OK && i < n;) {
        frame_t f = start + i;
        if (window_kept(fs, f)) {
            i++;
            continue;
        }
        uint32_t run = 1;
        while (i + run < n && !window_kept(fs, f + run) && (f + run) % WINDOW_SLOTS != 0)
            run++;
        err =
            map_run(e, fs->task, w, f, run, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE, window_va(e, f));
        for (uint32_t j = 0; err == PM_OK && j < run; j++)
            g_hash_table_insert(fs->win_mapped, window_slot(f + j),
                                GSIZE_TO_POINTER((size_t)(f + j) + 1));
        i += run;
    }
    return err;
}

/* keep_mappings: the server's own mappings at WINDOW_VA and CACHE_VA (the
 * first slot of each) made for another use: forget what was there. */
static void window_reused(struct sim_fileserver *fs)
{
    g_hash_table_remove_all(fs->win_mapped);
    g_hash_table_remove(fs->cache_mapped, GSIZE_TO_POINTER(1));
}

/* keep_mappings: copy page I of a request (client frame F at the window,
 * cache frame SF); a mapping that went since the server made it (the
 * client revoked its share, a frame changed under it) faults, and both are
 * made again. */
static pm_error_t copy_kept(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                            frame_t f, frame_t sf)
{
    uint64_t to = window_va(e, f), from = CACHE_VA + (uint64_t)sf * e->page;
    pm_error_t err = l4_copy(e->k, fs->thread, to, from, e->page, NULL);
    if (err != PM_EFAULT)
        return err;
    g_hash_table_remove(fs->win_mapped, window_slot(f));
    g_hash_table_remove(fs->cache_mapped, GSIZE_TO_POINTER((size_t)sf + 1));
    err = window_map(fs, e, w, f, 1);
    if (err == PM_OK)
        err = map_cache(fs, e, &sf, 1);
    return err == PM_OK ? l4_copy(e->k, fs->thread, to, from, e->page, NULL) : err;
}

/* physical-copy of a read: the server maps the client's frames START …
 * START + N − 1 writable at its window, and its cache frames SRC (a run of
 * neighbours at a time) at their places in its cache range, as few map
 * calls as the frames allow, then copies page after page. */
static pm_error_t copy_pages(struct sim_fileserver *fs, const struct sim_env *e, const frame_t *src,
                             container_t w, frame_t start, uint32_t n)
{
    if (fs->keep) {
        /* The window and the cache pages stay mapped from one request to
         * the next: only what is not mapped yet is. */
        pm_error_t err = window_map(fs, e, w, start, n);
        if (err == PM_OK)
            err = map_cache(fs, e, src, n);
        for (uint32_t i = 0; err == PM_OK && i < n; i++) {
            err = copy_kept(fs, e, w, start + i, src[i]);
            if (err == PM_OK)
                fs->st.bytes_copied += e->page;
        }
        return err;
    }
    pm_error_t err =
        map_run(e, fs->task, w, start, n, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE, WINDOW_VA);
    if (err == PM_OK)
        err = map_cache(fs, e, src, n);
    for (uint32_t i = 0; err == PM_OK && i < n; i++) {
        err = l4_copy(e->k, fs->thread, WINDOW_VA + (uint64_t)i * e->page,
                      CACHE_VA + (uint64_t)src[i] * e->page, e->page, NULL);
        if (err == PM_OK)
            fs->st.bytes_copied += e->page;
    }
    return err;
}

/* A malicious server's doing, instead of (or beside) the request. */
static pm_error_t misbehave(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                            frame_t start, uint32_t count, bool *done)
{
    *done = true;
    switch (fs->behaviour) {
    case BEHAVE_SILENT:
        return PM_OK; /* took the request; never answers */
    case BEHAVE_GARBAGE: {
        window_reused(fs);
        unsigned char *junk = g_malloc(e->page);
        memset(junk, 0xDE, e->page);
        pm_error_t err = PM_OK;
        for (uint32_t i = 0; i < count && err == PM_OK; i++) {
            err = map1(e, fs->task, w, start + i, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE, WINDOW_VA);
            if (err == PM_OK)
                err = l4_access(e->k, fs->thread, L4_ACCESS_WRITE, WINDOW_VA, junk, e->page, NULL);
        }
        g_free(junk);
        return err;
    }
    case BEHAVE_LOCK:
        /* Keeps the client's container locked (for ever, in practice) and
         * then serves the request. */
        (void)pm_container_lock(e->pm, fs->task, w, UINT64_MAX / 2);
        *done = false;
        return PM_OK;
    default:
        *done = false;
        return PM_OK;
    }
}

static pm_error_t deliver(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                          frame_t start, const frame_t *src, uint32_t count,
                          enum sim_strategy strat, l4_thread_t client_thread, uint64_t at);

/* direct-map of a read: the server maps its cache frames SRC (a run of
 * neighbours at a time) at their places in its cache range, then sends the
 * client one map item a page, as many to a message as the kernel carries,
 * pages at AT onwards. */
static pm_error_t map_pages_to_client(struct sim_fileserver *fs, const struct sim_env *e,
                                      const frame_t *src, uint32_t n, l4_thread_t client_thread,
                                      uint64_t at)
{
    pm_error_t err = map_cache(fs, e, src, n);
    unsigned per = l4_map_item_limit(e->k), shift = (unsigned)__builtin_ctzll(e->page);
    if (per > L4_MSG_MAX_ITEMS)
        per = L4_MSG_MAX_ITEMS;
    l4_msg_t m;
    l4_msg_init(&m, 0);
    unsigned items = 0;
    for (uint32_t i = 0; err == PM_OK && i < n;) {
        /* A run of neighbouring cache frames is a run of the server's
         * pages: as few fpages as its alignment on both sides allows. */
        uint32_t run = 1;
        while (i + run < n && src[i + run] == src[i] + run)
            run++;
        l4_fpage_t fp[L4_MSG_MAX_ITEMS];
        uint64_t covered = 0, from = CACHE_VA + (uint64_t)src[i] * e->page,
                 to = at + (uint64_t)i * e->page;
        size_t k = l4_fpage_cover(from, to, (uint64_t)run * e->page, shift, L4_R, fp, per - items,
                                  &covered);
        for (size_t x = 0, off = 0; x < k; off += l4_fpage_size(fp[x]), x++)
            l4_msg_put_item(&m, L4_ITEM_MAP, fp[x], to + off);
        if (covered == 0)
            return PM_EINVAL; /* cannot be: pages on both sides */
        items += (unsigned)k;
        i += (uint32_t)(covered >> shift);
        if (items == per || i == n) {
            err = l4_send(e->k, fs->thread, client_thread, &m, NULL);
            l4_msg_init(&m, 0);
            items = 0;
        }
    }
    return err;
}

pm_error_t sim_read_into(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                         frame_t start, uint32_t count, uint64_t offset, enum sim_strategy strat,
                         l4_thread_t client_thread, uint64_t at)
{
    fs->st.requests++;
    bool done;
    pm_error_t err = misbehave(fs, e, w, start, count, &done);
    if (done || err != PM_OK)
        return err;
    frame_t *all = g_new(frame_t, count ? count : 1);
    uint64_t b0 = offset / e->page;
    /* In chunks: as many blocks as the cache holds at once (those of the
     * chunk are pinned), moved to the client, then the next chunk. */
    for (uint32_t first = 0; first < count && err == PM_OK;) {
        uint32_t n = 0;
        g_hash_table_remove_all(fs->pinned);
        while (first + n < count) {
            err = block(fs, e, b0 + first + n, true, &all[first + n]);
            if (err != PM_OK)
                break;
            g_hash_table_add(fs->pinned, GSIZE_TO_POINTER(b0 + first + n + 1));
            n++;
        }
        if (err == PM_ENOMEM && n > 0)
            err = PM_OK; /* the cache is full: this chunk first */
        if (err == PM_OK)
            err = deliver(fs, e, w, start + first, all + first, n, strat, client_thread,
                          at + (uint64_t)first * e->page);
        first += n;
    }
    g_hash_table_remove_all(fs->pinned);
    g_free(all);
    return err;
}

/* Move N cache frames SRC to the client: frames START … of W, or (direct
 * map) pages at AT of CLIENT_THREAD's space. */
static pm_error_t deliver(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                          frame_t start, const frame_t *src, uint32_t count,
                          enum sim_strategy strat, l4_thread_t client_thread, uint64_t at)
{
    pm_error_t err = PM_OK;
    frame_t fe;
    if (strat == STRAT_LOGICAL_COPY || strat == STRAT_SHARED)
        err = pm_container_copy_gather(e->pm, fs->task, fs->cache, src, w, start, count,
                                       strat == STRAT_SHARED ? CONT_COPY_SHARED : 0, &fe);
    if (strat == STRAT_PHYSICAL_COPY)
        err = copy_pages(fs, e, src, w, start, count);
    if (strat == STRAT_DIRECT_MAP && client_thread != L4_NILTHREAD)
        err = map_pages_to_client(fs, e, src, count, client_thread, at);
    return err;
}

pm_error_t sim_direct_map(struct sim_fileserver *fs, const struct sim_env *e,
                          const uint64_t *blocks, uint32_t n, l4_thread_t client_thread,
                          uint64_t va)
{
    frame_t *f = g_new(frame_t, n ? n : 1);
    pm_error_t err = PM_OK;
    /* The blocks pinned in the cache while they are gathered. */
    g_hash_table_remove_all(fs->pinned);
    for (uint32_t i = 0; err == PM_OK && i < n; i++) {
        err = block(fs, e, blocks[i], true, &f[i]);
        g_hash_table_add(fs->pinned, GSIZE_TO_POINTER(blocks[i] + 1));
    }
    g_hash_table_remove_all(fs->pinned);
    if (err == PM_OK)
        err = map_pages_to_client(fs, e, f, n, client_thread, va);
    g_free(f);
    return err;
}

/* Block B leaves the cache (its frame deallocated), if it is there. */
static void forget_block(struct sim_fileserver *fs, const struct sim_env *e, uint64_t b)
{
    gpointer key = GSIZE_TO_POINTER(b + 1);
    gpointer v = g_hash_table_lookup(fs->blocks, key);
    if (v == NULL)
        return;
    (void)cache_free(fs, e, (frame_t)(GPOINTER_TO_SIZE(v) - 1));
    g_hash_table_remove(fs->blocks, key);
    g_queue_remove(fs->order, key);
}

pm_error_t sim_write_from(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                          frame_t start, uint32_t count, uint64_t offset, enum sim_strategy strat)
{
    fs->st.requests++;
    bool done;
    pm_error_t err = misbehave(fs, e, w, start, count, &done);
    if (done || err != PM_OK)
        return err;
    uint64_t b0 = offset / e->page;
    unsigned char *buf = g_malloc(e->page);
    window_reused(fs); /* a page at a time at the window's and the cache's first slot */
    for (uint32_t i = 0; i < count && err == PM_OK; i++) {
        uint64_t off = (b0 + i) * e->page;
        if (strat == STRAT_DIRECT_MAP) {
            /* No cache copy: the server maps the client's page and the
             * bytes go to the backing from there (the store's device). */
            err = map1(e, fs->task, w, start + i, CONT_MAP_READ, WINDOW_VA);
            if (err == PM_OK)
                err = l4_access(e->k, fs->thread, L4_ACCESS_READ, WINDOW_VA, buf, e->page, NULL);
            if (err == PM_OK && pwrite(fs->store->fd, buf, e->page, (off_t)off) != (ssize_t)e->page)
                err = PM_EIO;
            if (err != PM_OK)
                break;
            if (off + e->page > fs->store->size)
                fs->store->size = off + e->page;
            fs->store->writes++;
            fs->store->bytes_written += e->page;
            forget_block(fs, e, b0 + i); /* a cached copy is stale now */
            continue;
        }
        frame_t f;
        bool cached = g_hash_table_contains(fs->blocks, GSIZE_TO_POINTER(b0 + i + 1));
        if ((err = block(fs, e, b0 + i, false, &f)) != PM_OK)
            break;
        frame_t fe;
        if (strat == STRAT_LOGICAL_COPY || strat == STRAT_SHARED)
            err = pm_container_copy(e->pm, fs->task, w, start + i, fs->cache, f, 1,
                                    strat == STRAT_SHARED ? CONT_COPY_SHARED : 0, &fe);
        else
            err = copy_page(fs, e, w, start + i, fs->cache, f);
        if (err != PM_OK && !cached)
            forget_block(fs, e, b0 + i); /* made for this write, never filled */
        if (err == PM_OK)
            err = store_io(fs->store, e, fs->store_ref, f, off, false);
    }
    g_free(buf);
    return err;
}
