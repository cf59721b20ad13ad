/* policy.h — the memory policy server (SPEC §4): the task that decides
 * every task's guaranteed frames G, extra eligibility and swap quota, and
 * tells physmem through the policy buffer.
 *
 * Two layers:
 * - a *buffer client* (struct pm_policy_client): what any task holding the
 *   control capability does to read and write the buffer — loads and
 *   stores through its own mapping (l4_access), asking physmem again
 *   (pm_get_policy_buffer) when an access faults because physmem resized
 *   the buffer.  Scenario steps `set_guarantee` use it directly;
 * - the *server* (pm_policy_t): a client plus a pluggable policy kind that
 *   computes G from the tasks' contracts, recomputed as tasks come and go.
 *   When a task's G shrinks, the server first tells the task (a
 *   PM_LABEL_SHRINK message to its memory control thread: swap out or
 *   give back down to the new G) and writes the smaller G only when the
 *   grace period is over; meanwhile growth of other tasks waits for the
 *   frames, so the buffer never promises more than there is — unless the
 *   kind's own targets do (a `fixed` policy whose quotas over-commit is
 *   written as it is, and physmem reports the violation).
 *
 * The server is a task like any other: it must be known to physmem
 * (pm_task_add) before pm_policy_new takes control. */
#ifndef PMSIM_POLICY_H
#define PMSIM_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/l4.h"
#include "pmsim/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the buffer client ---------------------------------------------------- */

struct pm_policy_client {
    pm_physmem_t *pm;
    l4_kernel_t *k;
    l4_task_t task;      /**< the task holding the control capability */
    l4_thread_t thread;  /**< its thread that touches the buffer */
    container_t control; /**< the control capability */
    uint64_t vaddr;      /**< where the buffer is mapped in its space */
    uint64_t bytes;      /**< the buffer's size at the last ask */
    uint64_t reasks;     /**< times an access faulted and it asked again */
};

/** Map the buffer (pm_get_policy_buffer) at C->vaddr.  Returns its errors. */
pm_error_t pm_policy_client_open(struct pm_policy_client *c);

/** Read the header into *H and, if RECORDS is not NULL, the records into
 *  *RECORDS (g_malloc'd, *N of them; free with g_free).  A fault asks
 *  physmem again, once.  Returns 0; EBADF (not the control capability);
 *  EFAULT; the errors of l4_access. */
pm_error_t pm_policy_client_read(struct pm_policy_client *c, struct pm_policy_header *h,
                                 struct pm_policy_record **records, size_t *n);

/** What pm_policy_client_set writes; a NULL field is left alone. */
struct pm_policy_fields {
    const uint64_t *guaranteed;
    const bool *eligible;
    const uint64_t *swap_quota;
};

/** Write TARGET's fields (only the policy server's own: G, eligibility,
 *  quota) and bump the epoch so physmem reads them at its next call.
 *  Returns 0; ESRCH (no live record for TARGET); EBADF; EFAULT. */
pm_error_t pm_policy_client_set(struct pm_policy_client *c, l4_task_t target,
                                const struct pm_policy_fields *f);

/* ---- policy kinds (plug-ins) ------------------------------------------------ */

/** A task's contract, as the server learns it when the task is created. */
/** The largest weight a contract may carry (2^32 − 1: shares are computed
 *  in 64 bits). */
#define PM_POLICY_MAX_WEIGHT 0xFFFFFFFFull
/** pm_policy_new wants room for a buffer of up to 2^this pages at vaddr. */
#define PM_POLICY_MAX_ORDER 8

struct pm_policy_task {
    l4_task_t task;
    l4_thread_t memctl;  /**< where shrink notices go (0: nowhere) */
    uint64_t guaranteed; /**< what it asks for (the `fixed` kind gives it) */
    uint64_t weight;     /**< its share (the `proportional` kind), 1 … PM_POLICY_MAX_WEIGHT */
    bool extra;          /**< eligible for extra frames */
    uint64_t swap_quota; /**< swap identifiers it may hold; 0: no limit */
};

struct pm_policy_kind {
    const char *name;
    const char *summary;
    /** The G each of the N tasks should have (TARGET[i]), given AVAILABLE
     *  frames.  Deterministic. */
    void (*targets)(const struct pm_policy_task *tasks, size_t n, uint64_t available,
                    uint64_t *target);
};

/** The registered kinds, NULL-terminated ("fixed", "proportional"). */
const struct pm_policy_kind *const *pm_policy_kinds(void);
/** The kind called NAME, or NULL. */
const struct pm_policy_kind *pm_policy_kind_find(const char *name);

/* ---- the server ----------------------------------------------------------------- */

/** The message a task gets when its G is going to shrink: label
 *  PM_LABEL_SHRINK, untyped words: the new G, when it takes effect. */
#define PM_LABEL_SHRINK 0x5348u /* "SH" */

/** The default grace period before a smaller G takes effect: 10 ms. */
#define PM_DEFAULT_GRACE ((pm_time_t)10000000)
/** No grace period: a smaller G is written at once (the task is still
 *  told).  (0 in pm_policy_config.grace means the default.) */
#define PM_GRACE_NONE ((pm_time_t)UINT64_MAX)

typedef struct pm_policy pm_policy_t;

struct pm_policy_config {
    const char *kind; /**< a registered kind's name */
    pm_time_t grace;  /**< 0: PM_DEFAULT_GRACE */
    uint64_t vaddr;   /**< where the server maps the buffer */
};

/** A policy server running in THREAD's task: it takes control of PM
 *  (pm_get_control) and maps the buffer at cfg->vaddr.  Returns 0; EINVAL
 *  (unknown kind, NULL arguments, a vaddr not page aligned or without room
 *  for 2^PM_POLICY_MAX_ORDER pages below the top of the address space:
 *  all checked before control is taken); the errors of pm_get_control and
 *  pm_get_policy_buffer. */
pm_error_t pm_policy_new(pm_physmem_t *pm, l4_kernel_t *k, l4_thread_t thread,
                         const struct pm_policy_config *cfg, pm_policy_t **out);

/** The same for a server that was given the control capability CONTROL
 *  (pm_control_give): a successor on a live system. */
pm_error_t pm_policy_adopt(pm_physmem_t *pm, l4_kernel_t *k, l4_thread_t thread,
                           container_t control, const struct pm_policy_config *cfg,
                           pm_policy_t **out);

void pm_policy_free(pm_policy_t *p);

/** Negotiate TASK's contract (a new task, or a new contract for a known
 *  one), then recompute everyone's G.  A new contract starts from the G the
 *  buffer holds for the task (so a successor that adopted control shrinks
 *  its predecessor's guarantees with grace periods too).  A task physmem
 *  does not know yet is written once it has a record (pm_policy_tick).
 *  Returns 0; EINVAL (NULL, weight 0 or over PM_POLICY_MAX_WEIGHT); the
 *  errors of reading and writing the buffer. */
pm_error_t pm_policy_add_task(pm_policy_t *p, const struct pm_policy_task *task);

/** pm_policy_add_task for N tasks at once, with one recomputation: tasks
 *  that come together (a system starting up) share the frames at once,
 *  without grace periods between them.  N may be 0 (TASKS NULL): a
 *  recomputation only. */
pm_error_t pm_policy_add_tasks(pm_policy_t *p, const struct pm_policy_task *tasks, size_t n);

/** TASK is gone: its G in the buffer goes to 0 if physmem still has its
 *  record, and the others' G are recomputed.  Returns 0; ESRCH (no
 *  contract); the errors of writing the buffer. */
pm_error_t pm_policy_remove_task(pm_policy_t *p, l4_task_t task);

/** Apply what the clock allows: shrinks whose grace period is over, and
 *  the growth that waited for their frames.  Returns the number of
 *  records written (0 when nothing changed), or a negative error. */
int pm_policy_tick(pm_policy_t *p);

/** The control capability and the buffer client (to hand control on). */
struct pm_policy_client *pm_policy_client(pm_policy_t *p);

/** What the server has written and is waiting for. */
struct pm_policy_stats {
    uint64_t tasks;     /**< tasks with a contract */
    uint64_t committed; /**< ΣG written */
    uint64_t pending;   /**< shrinks in their grace period */
    uint64_t shrinks;   /**< shrink notices sent */
    uint64_t writes;    /**< records written */
    uint64_t reasks;    /**< buffer faults answered by asking again */
};
void pm_policy_stats(const pm_policy_t *p, struct pm_policy_stats *out);

/** The G the server has written for TASK (0 if unknown). */
uint64_t pm_policy_written(const pm_policy_t *p, l4_task_t task);

#ifdef __cplusplus
}
#endif
#endif
