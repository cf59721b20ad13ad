/* refmodel.h — a second, deliberately simple implementation of physmem's
 * semantics (SPEC §3), for the differential tester only (issue 9).
 *
 * Plain arrays, linear searches, no performance tricks: a task table, a
 * container table with a small array of identifiers each, share groups and
 * "data" (what a physical frame holds, as a tag the tester turns into a
 * page of bytes).  It knows nothing of pfns: the tester checks that real
 * physical frames and model data correspond one to one.  It covers the
 * calls of SPEC §3 except swap, soft references, DMA, the control
 * capability and reclaim: tasks are never eligible for extra frames (so
 * physmem never has to ask for frames back) and guarantees, when used, are
 * set once before anything is allocated.
 *
 * Each call returns what physmem must return, and fills the same
 * out-parameters in the same cases (count and frame_error on failure, the
 * rest only on success).  Capability handles are physmem's own encoding:
 * (slot + 1) << 32 | generation, slots never reused per task, generations
 * global. */
#ifndef PMSIM_REFMODEL_H
#define PMSIM_REFMODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "pmsim/physmem.h"

#define RM_TASKS 4 /* tasks 0 … RM_TASKS − 1 */
#define RM_IDS 24  /* identifiers 0 … RM_IDS − 1 can hold frames */
#define RM_CONTAINERS 4096
#define RM_CAPS 8192
#define RM_GROUPS 8192

struct rm_cap {
    bool live;
    int task;      /* holder */
    int container; /* index into containers */
    bool weak;
    uint32_t slot, gen;
};

struct rm_container {
    bool live;
    int owner;
    uint32_t id;       /* physmem's container number */
    int frame[RM_IDS]; /* group index, 0: no frame */
    bool locked;       /* a lease was taken */
    int lock_holder;   /* task */
    pm_time_t lock_until;
};

struct rm_group {
    int members; /* 0: free */
    int data;    /* index into data, 0: unbound (reads as zero) */
};

struct rm_data {
    int groups; /* share groups on it; 0: free */
    uint64_t tag;
};

struct rm_task {
    bool live;
    uint64_t guaranteed, allocated;
    uint32_t slots; /* slots used so far (never reused) */
};

struct rm {
    uint64_t frames; /* physical frames tasks may have */
    bool guarantees; /* in force */
    pm_time_t now;
    uint32_t next_gen, next_container;
    struct rm_task task[RM_TASKS];
    struct rm_container c[RM_CONTAINERS];
    int ncontainers;
    struct rm_cap cap[RM_CAPS];
    int ncaps;
    struct rm_group g[RM_GROUPS];
    struct rm_data d[RM_GROUPS];
};

void rm_init(struct rm *m, uint64_t frames);

/* A rule of the model broken on purpose, to show that the tester catches
 * it (0: none; see refmodel.c for the others). */
extern int rm_mutation;

/* The model's view of a handle: the capability index, or −1. */
int rm_cap_of(const struct rm *m, int task, container_t h);
container_t rm_handle(const struct rm *m, int cap);

pm_error_t rm_set_guarantee(struct rm *m, int task, uint64_t g);
pm_error_t rm_task_info(const struct rm *m, int task, struct pm_task_info *out);
pm_error_t rm_task_remove(struct rm *m, int task);

pm_error_t rm_create(struct rm *m, int task, container_t *out);
pm_error_t rm_destroy(struct rm *m, int task, container_t c);
pm_error_t rm_share(struct rm *m, int task, container_t c, int remote, container_t *out);
pm_error_t rm_give(struct rm *m, int task, container_t c, int remote, container_t *out);
pm_error_t rm_revoke(struct rm *m, int task, container_t c, container_t weak_ref);
pm_error_t rm_lock(struct rm *m, int task, container_t c, pm_time_t duration);
pm_error_t rm_unlock(struct rm *m, int task, container_t c);

pm_error_t rm_allocate(struct rm *m, int task, container_t c, frame_t start, uint32_t *count,
                       unsigned flags);
pm_error_t rm_deallocate(struct rm *m, int task, container_t c, frame_t start, uint32_t *count,
                         unsigned flags);
/* pm_container_map of COUNT frames (the tester keeps COUNT within one
 * message); *WRITABLE (optional) says, per frame, whether the mapping
 * allows writing. */
pm_error_t rm_map(struct rm *m, int task, container_t c, frame_t start, uint32_t *count,
                  unsigned flags, uint64_t vaddr, bool *writable);
/* A write of a whole page with TAG through a writable mapping of frame F. */
void rm_write(struct rm *m, int task, container_t c, frame_t f, uint64_t tag);

/* The copy family: SRC_LIST / DEST_LIST NULL for a range from the start. */
pm_error_t rm_copy(struct rm *m, int task, container_t src, frame_t ss, const frame_t *src_list,
                   container_t dest, frame_t ds, const frame_t *dest_list, uint32_t count,
                   unsigned flags, frame_t *frame_error);
pm_error_t rm_create_from(struct rm *m, int task, container_t source, frame_t start,
                          const frame_t *list, uint32_t count, int remote, container_t *out,
                          container_t *weak_ref);
pm_error_t rm_release(struct rm *m, int task, container_t c, const frame_t *frames, uint32_t count);

pm_error_t rm_frame_info(const struct rm *m, int task, container_t c, frame_t f,
                         struct pm_frame_info *out, int *data);
pm_error_t rm_container_info(const struct rm *m, int task, container_t c,
                             struct pm_container_info *out);
pm_error_t rm_container_next(const struct rm *m, int task, container_t c, frame_t from,
                             frame_t *out);

#endif
