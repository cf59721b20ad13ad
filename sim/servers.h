/* servers.h — the simulated servers of SPEC §9.2: a store (a device driver
 * over a real backing file, no cache) and a file server (blocks cached in
 * extra frames of its own cache container, filled by the store), and the
 * four ways a file server moves data to and from a client's container
 * (§9.3).  Internal to sim/: the scenario runner drives them.
 *
 * Both are tasks like any other: everything they do to memory goes through
 * physmem calls made as their task and the simulated kernel. */
#ifndef PMSIM_SIM_SERVERS_H
#define PMSIM_SIM_SERVERS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "pmsim/l4sim.h"
#include "pmsim/physmem.h"

enum sim_strategy {
    STRAT_LOGICAL_COPY,  /* pm_container_copy (copy-on-write) */
    STRAT_PHYSICAL_COPY, /* the server maps both and copies the bytes */
    STRAT_SHARED,        /* CONT_COPY_SHARED: the client's frames join the cache's groups */
    STRAT_DIRECT_MAP,    /* the server maps its own pages straight into the client */
    STRAT_COUNT
};

extern const char *const sim_strategy_names[STRAT_COUNT];

/* How a file server behaves (a scenario's `behaviour:` on it). */
enum sim_behaviour {
    BEHAVE_HONEST,
    BEHAVE_GARBAGE, /* writes garbage into the client's frames instead of the data */
    BEHAVE_LOCK,    /* locks the client's container and never unlocks it */
    BEHAVE_SILENT,  /* takes the request and never does anything */
};

struct sim_store {
    l4_task_t task;
    l4_thread_t thread;
    int fd;
    uint64_t size; /* bytes of backing */
    uint64_t reads, writes, bytes_read, bytes_written;
};

struct sim_server_stats {
    uint64_t requests, hits, misses, drops, bytes_copied;
};

struct sim_fileserver {
    l4_task_t task;
    l4_thread_t thread;
    struct sim_store *store;
    enum sim_behaviour behaviour;
    container_t cache;     /* its cache container (full capability) */
    container_t store_ref; /* the store's weak capability to it */
    GHashTable *blocks;    /* block number + 1 → cache frame + 1 */
    GQueue *order;         /* cached block numbers, oldest first */
    GHashTable *pinned;    /* blocks of the request being served: not dropped */
    frame_t next_frame;
    struct sim_server_stats st;
    /* keep_mappings: the cache frames mapped at CACHE_VA + frame × page
     * (frame + 1 → 1), and the container whose frames are mapped in the copy
     * window, at WINDOW_VA + (frame mod window slots) × page (slot + 1 →
     * frame + 1). */
    bool keep;
    GHashTable *cache_mapped;
    container_t win_c;
    GHashTable *win_mapped;
};

struct sim_env {
    pm_physmem_t *pm;
    l4_kernel_t *k;
    size_t page;
};

/** Open a store over PATH (a real file, read and written in place) or,
 *  with PATH NULL, over a temporary file of SIZE bytes filled with FILL
 *  ("zero" or "pattern": byte at offset o = (o + o / page) % 251).
 *  Returns 0 or EIO (*MESSAGE says why; free with g_free). */
pm_error_t sim_store_open(struct sim_store *s, const char *path, uint64_t size, const char *fill,
                          size_t page, char **message);
void sim_store_close(struct sim_store *s);

/** The backing's bytes at OFFSET (what a read must find), into BUF; short
 *  past the end (zeros). */
void sim_store_peek(const struct sim_store *s, uint64_t offset, void *buf, size_t len);

/** A file server of task TASK (thread THREAD) over STORE.  KEEP_MAPPINGS:
 *  the mappings it makes to serve a request stay for the next (its cache
 *  pages, and the client frames of its copy window), instead of being made
 *  again each time; one that went meanwhile (the client revoked its share,
 *  a frame changed) faults when the server copies through it and is made
 *  again then. */
pm_error_t sim_fileserver_init(struct sim_fileserver *fs, const struct sim_env *e, l4_task_t task,
                               l4_thread_t thread, struct sim_store *store,
                               enum sim_behaviour behaviour, bool keep_mappings);
void sim_fileserver_fini(struct sim_fileserver *fs);

/** SCENARIO.md read_into: COUNT blocks of the backing from byte OFFSET
 *  (page aligned) into frames START … of the client's container, which the
 *  server names W (the weak capability the client shared with it).  For
 *  direct-map, the pages go to CLIENT_THREAD's space at AT instead (no
 *  CLIENT_THREAD: the blocks only come into the cache, and the caller maps
 *  each later with sim_direct_map).
 *  *COPIED gets the bytes the server copied.  Returns 0 or an error. */
pm_error_t sim_read_into(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                         frame_t start, uint32_t count, uint64_t offset, enum sim_strategy strat,
                         l4_thread_t client_thread, uint64_t at);

/** direct-map, deferred: the server maps blocks BLOCKS[0 … N − 1] of the
 *  backing (read into its cache if they are not there) into CLIENT_THREAD's
 *  space from VA on, a page each, read-only, with L4 map items from its
 *  own mappings (as many to a message as the kernel carries).  Returns 0
 *  or an error. */
pm_error_t sim_direct_map(struct sim_fileserver *fs, const struct sim_env *e,
                          const uint64_t *blocks, uint32_t n, l4_thread_t client_thread,
                          uint64_t va);

/** SCENARIO.md write_from: the mirror image, frames → backing. */
pm_error_t sim_write_from(struct sim_fileserver *fs, const struct sim_env *e, container_t w,
                          frame_t start, uint32_t count, uint64_t offset, enum sim_strategy strat);

/** pm_return_frames: drop up to N cached blocks (clean: the store has
 *  them).  Returns how many went. */
uint64_t sim_fileserver_drop(struct sim_fileserver *fs, const struct sim_env *e, uint64_t n);

#endif
