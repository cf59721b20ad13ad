/* l4sim.h — setting up and driving the simulated L4 kernel.
 *
 * What the model's code may call is in pmsim/l4.h.  This header is for the
 * simulator around it (sim/, tools/, tests, benchmarks): creating the kernel
 * over the pool's memory, creating tasks and threads, installing message
 * handlers (a handler stands for a thread waiting in receive: the pager
 * thread that receives fault IPCs, a server thread), running simulated loads
 * and stores, moving the clock, and reading the counters.
 *
 * A simulated access goes through the task's page table to the real bytes of
 * the pool.  A missing mapping or missing right raises a page fault: an IPC
 * to the faulting thread's pager, whose reply (typed items, or mappings it
 * had physmem make meanwhile) should make the access possible; the access is
 * then retried.  With no pager, a pager that answers with an error, or a
 * pager that answers L4_FAULT_ROUNDS times without resolving the fault, the
 * access fails with EFAULT. */
#ifndef PMSIM_L4SIM_H
#define PMSIM_L4SIM_H

#include "pmsim/l4.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fault rounds (fault, reply, retry) on one page before an access gives up. */
#define L4_FAULT_ROUNDS 4

struct l4_kernel_config {
    /** The physical memory: frame N at phys_base + N × page_size.  The kernel
     *  reads and writes it on simulated accesses; the pool owns it. */
    void *phys_base;
    /** P: a power of two, at least 4096. */
    size_t page_size;
    /** Physical frames; at least 1. */
    uint32_t frames;
    /** Typed items per send, 1 … L4_MSG_MAX_ITEMS; 0 means the default (31). */
    unsigned map_items;
    /** The host-MMU back end: mappings are real.  Each task's pages are
     *  also mapped (mmap MAP_FIXED|MAP_SHARED of HOST_MEMFD, the pool's
     *  memfd, at the frame's offset) into a host range reserved for the
     *  task, with its rights (mprotect), unmapped with them; accesses load
     *  and store through those host mappings. */
    bool host_mmu;
    int host_memfd;
};

/** Pages the host-MMU back end has mapped for real now, pages it could not
 *  place (their accesses go through the physical memory instead), and the
 *  host calls (mmap, mprotect) it made to map and unmap them: a run of
 *  neighbouring pages an item or an unmap carries is one call.  CALLS may
 *  be NULL. */
void l4_host_mmu_stats(const l4_kernel_t *k, uint64_t *mapped, uint64_t *unplaced, uint64_t *calls);

/** Why a page fault was raised. */
enum l4_fault_cause {
    L4_FAULT_MISSING = 0, /**< nothing mapped at the address */
    L4_FAULT_READ,        /**< mapped, but without read right */
    L4_FAULT_WRITE,       /**< mapped, but without write right (e.g. read-only/COW) */
    L4_FAULT_EXEC,        /**< mapped, but without execute right */
    L4_FAULT_NCAUSES
};

/** Kernel-wide counters (l4_stats). */
struct l4_stats {
    uint64_t ipcs;             /**< messages: sends, calls (2), faults (fault + reply) */
    uint64_t typed_items;      /**< map and grant items carried out */
    uint64_t map_items;        /**< map items carried out */
    uint64_t grant_items;      /**< grant items carried out */
    uint64_t pages_mapped;     /**< page mappings created or given more rights */
    uint64_t pages_granted;    /**< page mappings moved by grant items */
    uint64_t unmaps;           /**< l4_unmap calls */
    uint64_t pages_unmapped;   /**< page mappings removed (by unmap, replace, task deletion) */
    uint64_t pages_downgraded; /**< page mappings that lost some rights but stayed */
    uint64_t tlb_flushes;      /**< translations invalidated: one per removed or reduced mapping */
    uint64_t faults;           /**< page faults raised */
    uint64_t faults_by_cause[L4_FAULT_NCAUSES];
    uint64_t faults_unresolved; /**< accesses that ended in EFAULT */
    uint64_t accesses;          /**< l4_access calls */
    uint64_t bytes_read;        /**< bytes loaded (read and exec) */
    uint64_t bytes_written;     /**< bytes stored */
};

/** Per-task counters (l4_task_stats). */
struct l4_task_stats {
    uint64_t faults;            /**< page faults raised by the task's threads */
    uint64_t faults_unresolved; /**< of which ended in EFAULT */
    uint64_t mapped_pages;      /**< pages mapped in the address space now */
    uint64_t accesses;
    uint64_t bytes_read;
    uint64_t bytes_written;
};

/** What an event reports (l4_set_event_hook). */
enum l4_event_kind {
    L4_EV_MAP,    /**< a map item carried out: to, vaddr, size, rights, pages */
    L4_EV_GRANT,  /**< a grant item carried out */
    L4_EV_UNMAP,  /**< an unmap/flush: task (caller), vaddr, size, rights revoked, pages */
    L4_EV_FAULT,  /**< a page fault raised: task, vaddr, cause, rights wanted */
    L4_EV_EFAULT, /**< an access given up: task, vaddr */
};

struct l4_event {
    enum l4_event_kind kind;
    pm_time_t time;
    l4_task_t task; /**< the receiver (map, grant), the caller (unmap), the faulter */
    l4_task_t from; /**< the sender (map, grant); 0 otherwise */
    uint64_t vaddr;
    uint64_t size;   /**< bytes (fpage size), 0 for faults */
    unsigned rights; /**< rights given, revoked, or wanted */
    uint64_t pages;  /**< pages affected */
    enum l4_fault_cause cause;
};

typedef void (*l4_event_fn)(void *ctx, const struct l4_event *ev);

/** A thread's message handler: called with the message it receives (a page
 *  fault from the kernel, a request from another thread).  It may call into
 *  the kernel (and physmem) freely, and fills REPLY (initialised to an empty
 *  message with label 0) with the answer.  Returns 0, or an error, which
 *  the caller of l4_call gets (for a fault: the access fails with EFAULT).
 *  FROM is the sending (faulting) thread. */
typedef pm_error_t (*l4_handler_fn)(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                                    const l4_msg_t *msg, l4_msg_t *reply);

/** Create a kernel over physical memory described by *CFG (copied).  It has
 *  the root task (L4_ROOT_TASK) with one thread, l4_root_thread().
 *  Returns 0; EINVAL (bad page size, no frames, NULL memory, map_items
 *  over 31); ENOMEM.  On failure *OUT is untouched. */
pm_error_t l4_kernel_new(const struct l4_kernel_config *cfg, l4_kernel_t **out);

/** Destroy the kernel with all tasks and mappings.  NULL is a no-op.  The
 *  physical memory is the caller's and is not touched. */
void l4_kernel_free(l4_kernel_t *k);

/** The root task's first thread (physmem's). */
l4_thread_t l4_root_thread(const l4_kernel_t *k);

/** P and log2 P. */
size_t l4_page_size(const l4_kernel_t *k);
unsigned l4_page_shift(const l4_kernel_t *k);

/** Change the typed-item limit of later sends (1 … L4_MSG_MAX_ITEMS). */
pm_error_t l4_set_map_item_limit(l4_kernel_t *k, unsigned items);

/** Create a task with an empty address space and no threads. */
pm_error_t l4_task_create(l4_kernel_t *k, l4_task_t *out);

/** Delete a task: every mapping in its address space goes (with everything
 *  derived from it), and so do its threads.  Its id is never reused.
 *  Returns 0; ESRCH (no such task, or the root task). */
pm_error_t l4_task_delete(l4_kernel_t *k, l4_task_t task);

/** True when TASK exists. */
bool l4_task_exists(const l4_kernel_t *k, l4_task_t task);

/** Create a thread in TASK, with no pager and no handler. */
pm_error_t l4_thread_create(l4_kernel_t *k, l4_task_t task, l4_thread_t *out);

/** Set THREAD's pager (L4_NILTHREAD for none).  ESRCH for a missing thread
 *  or pager. */
pm_error_t l4_thread_set_pager(l4_kernel_t *k, l4_thread_t thread, l4_thread_t pager);

/** Install THREAD's message handler (NULL: the thread is not receiving). */
pm_error_t l4_thread_set_handler(l4_kernel_t *k, l4_thread_t thread, l4_handler_fn fn, void *ctx);

/* l4_access (a thread's loads and stores) is in pmsim/l4.h. */

/** A simulated memory-to-memory copy by THREAD (a memcpy the task runs):
 *  LEN bytes from SRC to DST, both in its address space, page by page,
 *  each page faulting as for l4_access (read for the source, write for the
 *  destination).  The bytes go straight from frame to frame.  Overlapping
 *  ranges are copied front to back, a page piece at a time.  *DONE
 *  (optional) gets the bytes copied.
 *  Returns 0; ESRCH; EINVAL (a range outside the address space); EFAULT. */
pm_error_t l4_copy(l4_kernel_t *k, l4_thread_t thread, uint64_t dst, uint64_t src, size_t len,
                   size_t *done);

/** Move the simulated clock forward by NS nanoseconds. */
void l4_clock_advance(l4_kernel_t *k, pm_time_t ns);

/** Read the kernel-wide counters into *OUT. */
void l4_stats(const l4_kernel_t *k, struct l4_stats *out);

/** Read TASK's counters into *OUT.  Returns 0 or ESRCH (*OUT untouched). */
pm_error_t l4_task_stats(const l4_kernel_t *k, l4_task_t task, struct l4_task_stats *out);

/** Install the one event hook (NULL removes it). */
void l4_set_event_hook(l4_kernel_t *k, l4_event_fn fn, void *ctx);

/** Write what EV says beyond its time, kind and task into BUF (LEN bytes,
 *  NUL-terminated): " from FROM 0x… +size rights rwx pages N" for a map or
 *  grant (FROM names the sender, as the caller calls it), " 0x… +size
 *  revoke rwx pages N" for an unmap, " 0x… cause C" for a fault, " 0x…
 *  unresolved (EFAULT)".  One format for every trace that prints events. */
void l4_event_details(const struct l4_event *ev, const char *from, char *buf, size_t len);

/** A short name for an event kind ("map", "fault", …) and a fault cause. */
const char *l4_event_kind_name(enum l4_event_kind kind);
const char *l4_fault_cause_name(enum l4_fault_cause cause);

#ifdef __cplusplus
}
#endif
#endif
