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
    uint64_t guaranteed, allocated;
    bool eligible;
    GPtrArray *slots; /* struct cap *, NULL for a dead slot */
    uint64_t live_caps;
    uint64_t owned; /* containers it owns */
};

struct pm_physmem {
    pm_pool_t *pool;
    l4_kernel_t *k;
    l4_thread_t thread;
    unsigned shift;
    size_t page_size;
    uint32_t frames;

    struct pframe *pf; /* by physical frame number */
    struct group *groups;
    uint32_t ngroups_cap, groups_used, group_free; /* free list through next_free */
    GHashTable *members; /* group id → GArray of struct vref, for groups of two or more */

    GPtrArray *tasks;       /* by l4_task_t; NULL when unknown */
    GHashTable *caps;       /* gen → struct cap *, the live ones */
    GHashTable *containers; /* id → struct container * */
    uint32_t next_gen, next_container;
    bool guarantees;          /* first come, first served until false */
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
pm_error_t pm__new_container(pm_physmem_t *pm, struct task *owner, struct container **out);
pm_error_t pm__new_cap(pm_physmem_t *pm, struct task *holder, struct container *c, bool weak,
                       struct cap **out);
void pm__kill_cap(pm_physmem_t *pm, struct cap *cap);
void pm__destroy_container(pm_physmem_t *pm, struct container *c);
uint64_t pm__allowance(const pm_physmem_t *pm, const struct task *owner, bool extra);
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
pm_error_t pm__bind(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t g, unsigned flags);
pm_error_t pm__cow_break(pm_physmem_t *pm, uint32_t g);
bool pm__group_pinned(const pm_physmem_t *pm, uint32_t g);
void pm__unmap_frame(pm_physmem_t *pm, struct container *c, frame_t f);
void pm__unmap_frame_cap(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t gen);
void pm__downgrade_pfn(pm_physmem_t *pm, uint32_t pfn);
void pm__frame_drop(pm_physmem_t *pm, struct container *c, frame_t f);
pm_error_t pm__frame_add(pm_physmem_t *pm, struct container *c, frame_t f, unsigned flags);

#endif
