/* physmem_priv.h — physmem's data structures, shared by the files of src/
 * that implement pmsim/physmem.h.  Not a public header.
 *
 * The three levels of the model (SPEC §2):
 * - a container slot (frame_t → group id, in a sparse array) is a virtual
 *   frame; its identity is (container, frame_t);
 * - a share group (struct group, in one array indexed by id) is the set of
 *   virtual frames that really share one copy: it names at most one
 *   physical frame and counts its members.  A lone virtual frame is a group
 *   of one.  Members are listed only for groups of two or more (they are
 *   rare, and only a copy-on-write break of such a group needs the list);
 * - a physical frame (struct pframe, in an array indexed by frame number)
 *   counts the groups that reference it: more than one means copy-on-write.
 *
 * The top bit of a slot's value says that the frame may be mapped, so that
 * unmapping a frame that never was costs nothing.
 *
 * Mappings are tagged (l4.h) with (capability generation << 32 | frame_t):
 * a virtual frame's mappings are found through the capabilities that mapped
 * its container (struct container.mapcaps). */
#ifndef PMSIM_SRC_PHYSMEM_PRIV_H
#define PMSIM_SRC_PHYSMEM_PRIV_H

#include <glib.h>

#include "inject_priv.h"
#include "pmsim/physmem.h"
#include "sparse.h"

#define SLOT_MAPPED 0x80000000u
#define SLOT_SOFT 0x40000000u /* a soft reference (SPEC §5.3), not a frame */
#define SLOT_GROUP(v) ((v) & ~(SLOT_MAPPED | SLOT_SOFT))
#define GROUP_ID_LIMIT SLOT_SOFT
#define NO_PFN UINT32_MAX

struct task;
struct container;

struct pframe {
    uint32_t groups; /* share groups naming this frame */
    uint32_t pins;   /* operations in flight holding it */
};

/* A virtual frame's identity: container id and frame identifier. */
struct vref {
    uint32_t cid;
    frame_t f;
};

struct group {
    uint32_t pfn;     /* NO_PFN: unbound (reads as zero) */
    uint32_t members; /* virtual frames in the group; 0: free entry */
    uint32_t pins;    /* operations in flight holding it */
    uint32_t next_free;
    uint32_t soft;    /* members that are soft references */
    bool stale;       /* soft references only, and physmem took their frame back */
    struct vref sole; /* the member, while there is one (else pm->members lists them) */
};

struct cap {
    uint32_t gen;  /* unique, never reused; the handle's low half */
    uint32_t slot; /* index in the holder's table; the handle's high half */
    bool weak;
    struct task *holder;
    struct container *c;
};

struct container {
    uint32_t id;
    struct task *owner;
    struct pm__sparse frames; /* frame_t → group id (| SLOT_MAPPED) */
    GPtrArray *caps;          /* live capabilities to it */
    GArray *mapcaps;          /* uint32 generations of capabilities that mapped frames */
    uint64_t nsoft;           /* slots holding soft references */
    bool locked;              /* a lease was taken; holds while now < lock_until */
    l4_task_t lock_holder;
    pm_time_t lock_until;
};

struct task {
    l4_task_t id;
    l4_thread_t thread;
    l4_thread_t memctl;  /* its memory control thread (upcalls), or none */
    uint64_t guaranteed; /* G in force (what physmem honours) */
    uint64_t allocated;  /* A */
    bool eligible;
    GPtrArray *slots; /* struct cap *, NULL for a dead slot */
    uint64_t live_caps;
    uint64_t owned;     /* containers it owns */
    GPtrArray *mine;    /* struct container *: those containers */
    uint64_t age;       /* order in which it became known */
    uint32_t rec;       /* its record in the policy buffer, once there is one */
    uint64_t owed;      /* frames a pm_return_frames asked for, not yet returned */
    pm_time_t deadline; /* when they are due */
    uint64_t exiles;
    uint64_t swap_ids;   /* swap identifiers it holds */
    uint64_t swap_quota; /* from the policy buffer; 0: no limit */
};

/* The policy buffer (SPEC §4): a naturally aligned run of pool frames that
 * physmem holds outside any container. */
struct policy_buf {
    bool held;          /* the run is physmem's (the reserve, or the buffer) */
    bool exists;        /* the buffer is in use: control was taken */
    uint32_t pfn;       /* first frame */
    unsigned order;     /* 2^order frames */
    uint64_t epoch;     /* the server's epoch physmem last acted on */
    uint64_t committed; /* ΣG the server asked for at that epoch */
};

/* Swap (SPEC §7).  An entry holds one page of swapped data: in memory (a
 * physical frame, counted in its pframe's groups like a share group, so a
 * write through a logical copy breaks copy-on-write away from it) while it
 * is on the inactive list, on the device once written, or nowhere for an
 * unbound (all-zero) frame.  Identifiers name entries, one per swapped
 * virtual frame; an entry lives while identifiers name it. */
#define NO_SLOT UINT64_MAX
struct swent {
    uint32_t pfn;  /* NO_PFN: not in memory */
    uint64_t slot; /* NO_SLOT: none reserved (zero entries) */
    uint32_t refs; /* identifiers naming it */
    bool dirty;    /* in memory and not yet written */
    bool zero;     /* the data is all zeros: no frame, no I/O */
    GList *link;   /* its node on its inactive list (dirty or clean), while in memory */
};

struct swid {
    struct swent *e;
    l4_task_t holder;
};

struct pm_physmem {
    pm_pool_t *pool;
    l4_kernel_t *k;
    l4_thread_t thread;
    unsigned shift;
    size_t page_size;
    uint32_t frames;
    uint32_t reserved; /* held back for physmem's own memory */

    struct pframe *pf; /* by physical frame number */
    struct group *groups;
    uint32_t ngroups_cap, groups_used, group_free; /* free list through next_free */
    GHashTable *members; /* group id → GArray of struct vref, for groups of two or more */

    GPtrArray *tasks;       /* by l4_task_t; NULL when unknown */
    GHashTable *caps;       /* gen → struct cap *, the live ones */
    GHashTable *containers; /* id → struct container * */
    uint32_t next_gen, next_container;
    bool guarantees;          /* first come, first served until true */
    bool control_taken;       /* pm_get_control succeeded once */
    l4_task_t control_holder; /* who holds the control capability (0: nobody) */
    container_t control;      /* its handle */
    struct policy_buf buf;
    uint64_t next_age;
    pm_time_t return_deadline;
    pm_time_t next_deadline; /* the earliest deadline of a task that owes frames */
    const struct pm_victim_policy *victim;
    /* swap */
    bool has_swap;
    struct pm_swap_dev dev;
    uint8_t *slot_map; /* one bit per device slot: in use */
    uint64_t slot_hint;
    GHashTable *swap_ids;    /* id → struct swid * */
    GHashTable *swap_by_pfn; /* pfn → struct swent *, entries in memory */
    GQueue *inactive;        /* struct swent *, dirty, oldest first */
    GQueue *inactive_clean;  /* struct swent *, written, oldest first */
    uint64_t next_swap_id;
    GQueue *soft;             /* struct vref *: soft references, oldest first */
    uint64_t total_allocated; /* Σ A */

    struct pm_stats st;
    pm_event_fn hook;
    void *hook_ctx;
};

/* physmem.c */
struct task *pm__task(const pm_physmem_t *pm, l4_task_t id);
struct cap *pm__cap(const pm_physmem_t *pm, const struct task *t, container_t handle);
pm_error_t pm__lookup(const pm_physmem_t *pm, l4_task_t caller, container_t c, struct task **t,
                      struct cap **cap);
bool pm__blocked(const pm_physmem_t *pm, const struct cap *cap);
bool pm__lease_holds(const pm_physmem_t *pm, const struct container *c);
enum { PM_OPEN_FULL = 1u << 0, PM_OPEN_UNBLOCKED = 1u << 1 };
pm_error_t pm__open(pm_physmem_t *pm, l4_task_t caller, container_t c, unsigned need,
                    struct cap **cap);
void pm__emit(pm_physmem_t *pm, struct pm_event *ev);
void pm__emit_range(pm_physmem_t *pm, enum pm_event_kind kind, l4_task_t caller, uint32_t cid,
                    frame_t start, uint64_t count);
pm_error_t pm__new_container(pm_physmem_t *pm, struct task *owner, struct container **out);
pm_error_t pm__new_cap(pm_physmem_t *pm, struct task *holder, struct container *c, bool weak,
                       struct cap **out);
void pm__kill_cap(pm_physmem_t *pm, struct cap *cap);
void pm__destroy_container(pm_physmem_t *pm, struct container *c);
uint64_t pm__allowance(const pm_physmem_t *pm, const struct task *owner, bool extra);
uint64_t pm__available(const pm_physmem_t *pm);
void pm__charge(pm_physmem_t *pm, struct task *t, int64_t delta);
void pm__enter(pm_physmem_t *pm);

/* policy.c (physmem's side of SPEC §4) */
pm_error_t pm__policy_reserve(pm_physmem_t *pm);
void pm__policy_sync(pm_physmem_t *pm);
pm_error_t pm__policy_add_task(pm_physmem_t *pm, struct task *t);
void pm__policy_task_gone(pm_physmem_t *pm, struct task *t);
void pm__policy_write_task(pm_physmem_t *pm, const struct task *t);
void pm__policy_free(pm_physmem_t *pm);
void pm__policy_unmap(pm_physmem_t *pm);
bool pm__policy_frame(const pm_physmem_t *pm, uint32_t pfn);

/* reclaim.c (SPEC §5) */
bool pm__take_inactive(pm_physmem_t *pm, bool flush, pm_error_t *io_err);
void pm__exile(pm_physmem_t *pm, struct task *t);
uint64_t pm__ask_victims(pm_physmem_t *pm, uint64_t shortfall, uint64_t *upcalls, uint64_t *exiled);

/* swap.c (SPEC §7) */
pm_error_t pm__swap_init(pm_physmem_t *pm, const struct pm_swap_dev *dev);
void pm__swap_free(pm_physmem_t *pm);
void pm__swap_drop_task(pm_physmem_t *pm, struct task *t);
uint32_t pm__swap_holds(const pm_physmem_t *pm, uint32_t pfn);
bool pm__swap_let_go(pm_physmem_t *pm, uint32_t pfn, pm_error_t *io_err);
void pm__pframe_put(pm_physmem_t *pm, uint32_t pfn);
bool pm__take_soft_frame(pm_physmem_t *pm);
container_t pm__handle(const struct cap *cap);

/* frames.c: groups, physical frames, binding, copy-on-write, unmapping */
uint32_t pm__slot(const struct container *c, frame_t f);
uint32_t pm__slot_raw(const struct container *c, frame_t f);
pm_error_t pm__frame_alloc(pm_physmem_t *pm, unsigned order, unsigned flags, pm_pfn_t *out);
void pm__soften(pm_physmem_t *pm, struct container *c, frame_t f);
uint32_t pm__group_new(pm_physmem_t *pm, uint32_t pfn);
void pm__group_join(pm_physmem_t *pm, uint32_t g, struct vref member);
void pm__group_leave(pm_physmem_t *pm, uint32_t g, struct vref member);
void pm__group_replace(pm_physmem_t *pm, uint32_t g, struct vref old, struct vref member);
void pm__group_pin(pm_physmem_t *pm, uint32_t g);
void pm__group_unpin(pm_physmem_t *pm, uint32_t g);
bool pm__group_reserve(pm_physmem_t *pm, uint32_t n);
/* An undo log (frames.c): what a call bound and broke on its way, so that
 * a failure later in the same call puts it all back (SPEC §3: a call that
 * fails changes nothing).  Records live on the stack up to PM_UNDO_LOCAL,
 * then in host memory: logging can fail (ENOMEM) before the step it logs. */
#define PM_UNDO_LOCAL 32
struct pm__undo_rec {
    uint32_t g;       /* the group */
    uint32_t old_pfn; /* its frame before: NO_PFN for a bind, the shared one for a break */
};
struct pm__undo {
    struct pm__undo_rec *r;
    uint32_t n, cap;
    struct pm__undo_rec local[PM_UNDO_LOCAL];
};
void pm__undo_init(struct pm__undo *u);
void pm__undo_fini(struct pm__undo *u);
void pm__undo_rollback(pm_physmem_t *pm, struct pm__undo *u);
/* Bind group G of frame F of C; U (may be NULL) logs it. */
pm_error_t pm__bind(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t g, unsigned flags,
                    struct pm__undo *u);
/* Log a bind of group G its caller made itself (false: no memory to log). */
bool pm__bind_log(pm_physmem_t *pm, struct pm__undo *u, uint32_t g);
pm_error_t pm__cow_break(pm_physmem_t *pm, uint32_t g, struct pm__undo *u);
bool pm__group_pinned(const pm_physmem_t *pm, uint32_t g);
void pm__unmap_frame(pm_physmem_t *pm, struct container *c, frame_t f);
void pm__unmap_frame_cap(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t gen);
void pm__downgrade_pfn(pm_physmem_t *pm, uint32_t pfn);
void pm__frame_drop(pm_physmem_t *pm, struct container *c, frame_t f);
/* A new frame F of C (replacing a soft reference there), bound to PFN
 * (the caller's, taken from the pool) unless NO_PFN. */
void pm__frame_add(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t pfn);

#endif
