/* physmem.c — physmem itself: tasks, capabilities, containers, accounting,
 * leases, and allocating and deallocating frames (SPEC §3.1–§3.3, §4).
 *
 * A capability handle is (slot + 1) << 32 | generation: the slot finds the
 * capability in the holder's table, the generation (unique for the life of
 * physmem) proves it is the same one, so a stale, revoked or foreign handle
 * is EBADF and never reaches another container.
 *
 * Accounting follows the rule in physmem.h: never more virtual frames than
 * physical ones, and once guarantees are in force, G per task plus, for
 * eligible tasks asking for EXTRA, the frames nobody else is guaranteed or
 * using.  Every call checks everything that can fail before it changes
 * anything (host memory included: sparse-array leaves and group entries
 * are reserved first), so a failure leaves no trace. */
#include <stdlib.h>
#include <string.h>

#include "physmem_priv.h"

/* ---- the server ---------------------------------------------------------- */

pm_error_t pm_physmem_new(const struct pm_physmem_config *cfg, pm_physmem_t **out)
{
    if (cfg == NULL || out == NULL || cfg->pool == NULL || cfg->kernel == NULL ||
        l4_thread_task(cfg->kernel, cfg->thread) != L4_ROOT_TASK)
        return PM_EINVAL;
    pm_physmem_t *pm = pm__calloc(1, sizeof *pm);
    if (pm == NULL)
        return PM_ENOMEM;
    pm->pool = cfg->pool;
    pm->k = cfg->kernel;
    pm->thread = cfg->thread;
    pm->shift = pm_pool_page_shift(cfg->pool);
    pm->page_size = pm_pool_page_size(cfg->pool);
    pm->frames = pm_pool_frames(cfg->pool);
    pm->pf = pm__calloc(pm->frames, sizeof *pm->pf);
    pm->tasks = g_ptr_array_new();
    pm->caps = g_hash_table_new(g_direct_hash, g_direct_equal);
    pm->containers = g_hash_table_new(g_direct_hash, g_direct_equal);
    pm->members =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_array_unref);
    pm->soft = g_queue_new();
    pm->next_gen = 1;
    pm->next_container = 1;
    pm->next_deadline = UINT64_MAX;
    pm->reserved = cfg->reserved_frames;
    pm->return_deadline = cfg->return_deadline ? cfg->return_deadline : PM_DEFAULT_RETURN_DEADLINE;
    pm->victim = pm_victim_policy_find(cfg->victim_policy ? cfg->victim_policy : "most-extra");
    pm_error_t err = PM_ENOMEM;
    if (pm->victim == NULL || cfg->reserved_frames >= pm->frames ||
        (cfg->swap != NULL &&
         (cfg->swap->slots == 0 || cfg->swap->write == NULL || cfg->swap->read == NULL)))
        err = PM_EINVAL;
    else if (pm->pf != NULL && pm__group_reserve(pm, 64) && (err = pm__policy_reserve(pm)) == PM_OK)
        err = pm__swap_init(pm, cfg->swap);
    if (err != PM_OK) {
        pm_physmem_free(pm);
        return err;
    }
    *out = pm;
    return PM_OK;
}

size_t pm_physmem_page_size(const pm_physmem_t *pm)
{
    return pm->page_size;
}

void pm_physmem_free(pm_physmem_t *pm)
{
    if (pm == NULL)
        return;
    if (pm->containers != NULL) {
        GList *all = g_hash_table_get_values(pm->containers);
        for (GList *l = all; l != NULL; l = l->next)
            pm__destroy_container(pm, l->data);
        g_list_free(all);
        g_hash_table_destroy(pm->containers);
    }
    if (pm->tasks != NULL) {
        for (guint i = 0; i < pm->tasks->len; i++) {
            struct task *t = g_ptr_array_index(pm->tasks, i);
            if (t == NULL)
                continue;
            g_ptr_array_free(t->slots, TRUE);
            g_ptr_array_free(t->mine, TRUE);
            free(t);
        }
        g_ptr_array_free(pm->tasks, TRUE);
    }
    if (pm->caps != NULL)
        g_hash_table_destroy(pm->caps);
    if (pm->members != NULL)
        g_hash_table_destroy(pm->members);
    if (pm->soft != NULL)
        g_queue_free_full(pm->soft, g_free);
    pm__swap_free(pm);
    pm__policy_free(pm);
    free(pm->groups);
    free(pm->pf);
    free(pm);
}

void pm__emit(pm_physmem_t *pm, struct pm_event *ev)
{
    if (pm->hook == NULL)
        return;
    ev->time = l4_system_clock(pm->k);
    pm->hook(pm->hook_ctx, ev);
}

/* The common event: COUNT frames from START of container CID. */
void pm__emit_range(pm_physmem_t *pm, enum pm_event_kind kind, l4_task_t caller, uint32_t cid,
                    frame_t start, uint64_t count)
{
    struct pm_event ev = {
        .kind = kind, .task = caller, .container = cid, .frame = start, .count = count};
    pm__emit(pm, &ev);
}

void pm_set_event_hook(pm_physmem_t *pm, pm_event_fn fn, void *ctx)
{
    pm->hook = fn;
    pm->hook_ctx = ctx;
}

const char *pm_event_kind_name(enum pm_event_kind kind)
{
    static const char *const names[] = {
        [PM_EV_ALLOCATE] = "allocate",
        [PM_EV_DEALLOCATE] = "deallocate",
        [PM_EV_BIND] = "bind",
        [PM_EV_MAP] = "map",
        [PM_EV_UNMAP] = "unmap",
        [PM_EV_COW_BREAK] = "cow-break",
        [PM_EV_COPY] = "copy",
        [PM_EV_MOVE] = "move",
        [PM_EV_RELEASE] = "release",
        [PM_EV_SOFT_LOST] = "soft-lost",
        [PM_EV_OVERCOMMIT] = "overcommit",
        [PM_EV_RETURN_FRAMES] = "return-frames",
        [PM_EV_EXILE] = "exile",
        [PM_EV_SWAP_OUT] = "swap-out",
        [PM_EV_SWAP_WRITE] = "swap-write",
        [PM_EV_SWAP_IN] = "swap-in",
        [PM_EV_SWAP_ERROR] = "swap-error",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

void pm_stats(const pm_physmem_t *pm, struct pm_stats *out)
{
    *out = pm->st;
    out->swap_dirty = pm->inactive != NULL ? g_queue_get_length(pm->inactive) : 0;
    out->swap_inactive =
        out->swap_dirty + (pm->inactive_clean != NULL ? g_queue_get_length(pm->inactive_clean) : 0);
}

/* The start of every call: deadlines that passed are enforced, and a policy
 * buffer the server changed is read (SPEC §4, §5.2). */
void pm__enter(pm_physmem_t *pm)
{
    pm->st.rpcs++;
    if (pm->next_deadline <= l4_system_clock(pm->k))
        (void)pm_physmem_tick(pm);
    if (pm->buf.exists)
        pm__policy_sync(pm);
}

/* A's of task T change by DELTA: the record in the policy buffer follows,
 * and frames it returns count against what an upcall asked of it. */
void pm__charge(pm_physmem_t *pm, struct task *t, int64_t delta)
{
    t->allocated += (uint64_t)delta;
    pm->total_allocated += (uint64_t)delta;
    if (delta < 0 && t->owed > 0) {
        uint64_t back = (uint64_t)-delta;
        t->owed = back >= t->owed ? 0 : t->owed - back;
    }
    if (pm->buf.exists)
        pm__policy_write_task(pm, t);
}

/* ---- tasks ----------------------------------------------------------------- */

struct task *pm__task(const pm_physmem_t *pm, l4_task_t id)
{
    return id < pm->tasks->len ? g_ptr_array_index(pm->tasks, id) : NULL;
}

pm_error_t pm_task_add(pm_physmem_t *pm, l4_task_t task, l4_thread_t thread)
{
    if (task == L4_NILTASK || l4_thread_task(pm->k, thread) != task)
        return PM_ESRCH;
    if (pm__task(pm, task) != NULL)
        return PM_EEXIST;
    struct task *t = pm__calloc(1, sizeof *t);
    if (t == NULL)
        return PM_ENOMEM;
    t->id = task;
    t->thread = thread;
    t->age = pm->next_age;
    if (pm->buf.exists) {
        pm_error_t err = pm__policy_add_task(pm, t);
        if (err != PM_OK) {
            free(t);
            return err;
        }
    }
    pm->next_age++;
    t->slots = g_ptr_array_new();
    t->mine = g_ptr_array_new();
    if (pm->tasks->len <= task)
        g_ptr_array_set_size(pm->tasks, (guint)task + 1);
    g_ptr_array_index(pm->tasks, task) = t;
    return PM_OK;
}

pm_error_t pm_task_set_memctl(pm_physmem_t *pm, l4_task_t task, l4_thread_t thread)
{
    struct task *t = pm__task(pm, task);
    if (t == NULL || l4_thread_task(pm->k, thread) != task)
        return PM_ESRCH;
    t->memctl = thread;
    return PM_OK;
}

pm_error_t pm_task_remove(pm_physmem_t *pm, l4_task_t task)
{
    struct task *t = pm__task(pm, task);
    if (t == NULL)
        return PM_ESRCH;
    (void)pm_physmem_tick(pm); /* what the policy server wrote before, first */
    /* Its containers first: that kills every capability to them, its own
     * included, and unmaps their frames everywhere. */
    while (t->mine->len > 0)
        pm__destroy_container(pm, g_ptr_array_index(t->mine, t->mine->len - 1));
    /* Then what it holds of other tasks' containers. */
    for (guint i = 0; i < t->slots->len; i++) {
        struct cap *cap = g_ptr_array_index(t->slots, i);
        if (cap == NULL)
            continue;
        if (cap->c->locked && cap->c->lock_holder == task)
            cap->c->locked = false;
        pm__kill_cap(pm, cap);
    }
    pm__swap_drop_task(pm, t);
    if (pm->control_holder == task) {
        pm__policy_unmap(pm);            /* its mapping of the buffer goes with it */
        pm->control_holder = L4_NILTASK; /* control dies with it: it was given once */
    }
    if (pm->buf.exists)
        pm__policy_task_gone(pm, t);
    g_ptr_array_index(pm->tasks, task) = NULL;
    g_ptr_array_free(t->slots, TRUE);
    g_ptr_array_free(t->mine, TRUE);
    free(t);
    return PM_OK;
}

pm_error_t pm_task_set_guarantee(pm_physmem_t *pm, l4_task_t task, uint64_t guaranteed,
                                 bool extra_eligible)
{
    struct task *t = pm__task(pm, task);
    if (t == NULL)
        return PM_ESRCH;
    if (pm->control_taken)
        return PM_EPERM;
    t->guaranteed = guaranteed;
    t->eligible = extra_eligible;
    pm->guarantees = true;
    return PM_OK;
}

pm_error_t pm_task_info(const pm_physmem_t *pm, l4_task_t task, struct pm_task_info *out)
{
    const struct task *t = pm__task(pm, task);
    if (t == NULL)
        return PM_ESRCH;
    out->guaranteed = t->guaranteed;
    out->allocated = t->allocated;
    out->extra = t->allocated > t->guaranteed ? t->allocated - t->guaranteed : 0;
    out->extra_eligible = t->eligible;
    out->containers = t->owned;
    out->capabilities = t->live_caps;
    out->swap_ids = t->swap_ids;
    out->swap_quota = t->swap_quota;
    out->owed = t->owed;
    out->deadline = t->deadline;
    out->exiles = t->exiles;
    return PM_OK;
}

/* Frames that virtual frames may take: the pool less physmem's own (the
 * reserve, or the policy buffer once it outgrew it). */
uint64_t pm__available(const pm_physmem_t *pm)
{
    uint64_t own = pm->buf.held ? (uint64_t)1 << pm->buf.order : 0;
    return pm->frames - (own > pm->reserved ? own : pm->reserved);
}

uint64_t pm__allowance(const pm_physmem_t *pm, const struct task *owner, bool extra)
{
    uint64_t avail = pm__available(pm);
    uint64_t room = avail > pm->total_allocated ? avail - pm->total_allocated : 0;
    if (!pm->guarantees)
        return room;
    uint64_t a = owner->allocated, g = owner->guaranteed;
    if (!(extra && owner->eligible)) {
        uint64_t within = g > a ? g - a : 0;
        return within < room ? within : room;
    }
    /* Everything that no other task is guaranteed or using. */
    uint64_t others = 0;
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *t = g_ptr_array_index(pm->tasks, i);
        if (t != NULL && t != owner)
            others += t->allocated > t->guaranteed ? t->allocated : t->guaranteed;
    }
    uint64_t lim = avail > others + a ? avail - others - a : 0;
    return lim < room ? lim : room;
}

/* ---- capabilities --------------------------------------------------------- */

container_t pm__handle(const struct cap *cap)
{
    return ((container_t)cap->slot + 1) << 32 | cap->gen;
}

struct cap *pm__cap(const pm_physmem_t *pm, const struct task *t, container_t handle)
{
    (void)pm;
    uint64_t slot = (handle >> 32);
    if (slot == 0 || slot > t->slots->len)
        return NULL;
    struct cap *cap = g_ptr_array_index(t->slots, (guint)(slot - 1));
    return cap != NULL && cap->gen == (uint32_t)handle ? cap : NULL;
}

pm_error_t pm__lookup(const pm_physmem_t *pm, l4_task_t caller, container_t c, struct task **t,
                      struct cap **cap)
{
    struct task *tt = pm__task(pm, caller);
    if (tt == NULL)
        return PM_ESRCH;
    struct cap *cc = pm__cap(pm, tt, c);
    if (cc == NULL)
        return PM_EBADF;
    *t = tt;
    *cap = cc;
    return PM_OK;
}

/* A lease holds while now < lock_until; an expired one ends by itself. */
bool pm__lease_holds(const pm_physmem_t *pm, const struct container *c)
{
    return c->locked && l4_system_clock(pm->k) < c->lock_until;
}

/* SPEC §3.9: while a lease holds, every holder of a full capability to the
 * container — the task, whatever capability it uses for the call (a share
 * the owner made to itself must not get round the lease) — gets EBUSY,
 * except the locker.  Tasks that hold only weak capabilities are not
 * blocked: the lease protects the server from the owner. */
bool pm__blocked(const pm_physmem_t *pm, const struct cap *cap)
{
    const struct container *c = cap->c;
    if (!pm__lease_holds(pm, c) || cap->holder->id == c->lock_holder)
        return false;
    if (!cap->weak)
        return true;
    for (guint i = 0; i < c->caps->len; i++) {
        const struct cap *x = g_ptr_array_index(c->caps, i);
        if (x->holder == cap->holder && !x->weak)
            return true;
    }
    return false;
}

/* The common start of a call on a container, once its arguments are
 * checked: the capability (EBADF), then EPERM for a weak one where NEED has
 * PM_OPEN_FULL, EBUSY under another's lease where NEED
 * has PM_OPEN_UNBLOCKED — the order of SPEC §3.9. */
pm_error_t pm__open(pm_physmem_t *pm, l4_task_t caller, container_t c, unsigned need,
                    struct cap **cap)
{
    struct task *t;
    pm_error_t err = pm__lookup(pm, caller, c, &t, cap);
    if (err != PM_OK)
        return err;
    if ((need & PM_OPEN_FULL) && (*cap)->weak)
        return PM_EPERM;
    if ((need & PM_OPEN_UNBLOCKED) && pm__blocked(pm, *cap))
        return PM_EBUSY;
    return PM_OK;
}

pm_error_t pm__new_cap(pm_physmem_t *pm, struct task *holder, struct container *c, bool weak,
                       struct cap **out)
{
    if (pm__inject(PM_INJECT_SLOT))
        return PM_ENOMEM;
    struct cap *cap = pm__calloc(1, sizeof *cap);
    if (cap == NULL)
        return PM_ENOMEM;
    cap->gen = pm->next_gen++;
    cap->weak = weak;
    cap->holder = holder;
    cap->c = c;
    cap->slot = holder->slots->len;
    g_ptr_array_add(holder->slots, cap);
    g_ptr_array_add(c->caps, cap);
    g_hash_table_insert(pm->caps, GUINT_TO_POINTER(cap->gen), cap);
    holder->live_caps++;
    *out = cap;
    return PM_OK;
}

/* Forget CAP: its handle stops working, and every mapping made through it
 * goes (wherever the task passed it on): no mapping outlives the
 * capability it came from (SPEC §12). */
void pm__kill_cap(pm_physmem_t *pm, struct cap *cap)
{
    GArray *mc = cap->c->mapcaps;
    guint at = mc->len;
    for (guint i = 0; i < mc->len && at == mc->len; i++)
        if (g_array_index(mc, uint32_t, i) == cap->gen)
            at = i;
    if (at < mc->len) {
        uint32_t f, v;
        for (uint64_t from = 0; pm__sparse_next(&cap->c->frames, from, &f, &v);
             from = (uint64_t)f + 1)
            if (v & SLOT_MAPPED)
                pm__unmap_frame_cap(pm, cap->c, f, cap->gen);
        g_array_remove_index_fast(mc, at);
    }
    g_ptr_array_index(cap->holder->slots, cap->slot) = NULL;
    g_ptr_array_remove_fast(cap->c->caps, cap);
    g_hash_table_remove(pm->caps, GUINT_TO_POINTER(cap->gen));
    cap->holder->live_caps--;
    free(cap);
}

/* ---- containers ----------------------------------------------------------- */

pm_error_t pm__new_container(pm_physmem_t *pm, struct task *owner, struct container **out)
{
    if (pm__inject(PM_INJECT_SLOT))
        return PM_ENOMEM;
    struct container *c = pm__calloc(1, sizeof *c);
    if (c == NULL)
        return PM_ENOMEM;
    c->id = pm->next_container++;
    c->owner = owner;
    pm__sparse_init(&c->frames);
    c->caps = g_ptr_array_new();
    c->mapcaps = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    g_hash_table_insert(pm->containers, GUINT_TO_POINTER(c->id), c);
    g_ptr_array_add(owner->mine, c);
    owner->owned++;
    *out = c;
    return PM_OK;
}

void pm__destroy_container(pm_physmem_t *pm, struct container *c)
{
    uint32_t f, v;
    uint64_t n = 0;
    for (uint64_t from = 0; pm__sparse_next(&c->frames, from, &f, &v); from = (uint64_t)f + 1) {
        pm__frame_drop(pm, c, f);
        n += !(v & SLOT_SOFT); /* soft references are not in A */
    }
    pm__charge(pm, c->owner, -(int64_t)n);
    pm->st.frames_deallocated += n;
    while (c->caps->len > 0)
        pm__kill_cap(pm, g_ptr_array_index(c->caps, c->caps->len - 1));
    c->owner->owned--;
    g_ptr_array_remove_fast(c->owner->mine, c);
    g_hash_table_remove(pm->containers, GUINT_TO_POINTER(c->id));
    pm__sparse_fini(&c->frames);
    g_ptr_array_free(c->caps, TRUE);
    g_array_free(c->mapcaps, TRUE);
    free(c);
}

pm_error_t pm_container_create(pm_physmem_t *pm, l4_task_t caller, container_t *out)
{
    pm__enter(pm);
    struct task *t = pm__task(pm, caller);
    if (t == NULL)
        return PM_ESRCH;
    if (out == NULL)
        return PM_EINVAL;
    struct container *c;
    struct cap *cap;
    pm_error_t err = pm__new_container(pm, t, &c);
    if (err != PM_OK)
        return err;
    if ((err = pm__new_cap(pm, t, c, false, &cap)) != PM_OK) {
        pm__destroy_container(pm, c);
        return err;
    }
    *out = pm__handle(cap);
    return PM_OK;
}

pm_error_t pm_container_destroy(pm_physmem_t *pm, l4_task_t caller, container_t c)
{
    pm__enter(pm);
    struct cap *cap;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_FULL | PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    pm__destroy_container(pm, cap->c);
    return PM_OK;
}

/* Share and give: a new capability to C in REMOTE's table. */
static pm_error_t hand_out(pm_physmem_t *pm, l4_task_t caller, container_t c, l4_task_t remote,
                           bool weak, container_t *ref)
{
    pm__enter(pm);
    struct task *t, *r;
    struct cap *cap, *ncap;
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err == PM_ESRCH)
        return err;
    if ((r = pm__task(pm, remote)) == NULL)
        return PM_ESRCH;
    if (ref == NULL)
        return PM_EINVAL;
    if (err != PM_OK)
        return err;
    if (cap->weak)
        return PM_EPERM;
    if ((err = pm__new_cap(pm, r, cap->c, weak, &ncap)) != PM_OK)
        return err;
    *ref = pm__handle(ncap);
    return PM_OK;
}

pm_error_t pm_container_share(pm_physmem_t *pm, l4_task_t caller, container_t c, l4_task_t remote,
                              container_t *weak_ref)
{
    return hand_out(pm, caller, c, remote, true, weak_ref);
}

pm_error_t pm_container_give(pm_physmem_t *pm, l4_task_t caller, container_t c, l4_task_t remote,
                             container_t *full_ref)
{
    return hand_out(pm, caller, c, remote, false, full_ref);
}

pm_error_t pm_container_revoke(pm_physmem_t *pm, l4_task_t caller, container_t c,
                               container_t weak_ref)
{
    pm__enter(pm);
    struct task *t;
    struct cap *cap;
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err != PM_OK)
        return err;
    struct cap *share = NULL;
    for (guint i = 0; i < cap->c->caps->len; i++) {
        struct cap *x = g_ptr_array_index(cap->c->caps, i);
        if (x->weak && pm__handle(x) == weak_ref)
            share = x;
    }
    if (share == NULL)
        return PM_EBADF;
    if (cap->weak)
        return PM_EPERM;
    if (pm__blocked(pm, cap))
        return PM_EBUSY;
    pm__kill_cap(pm, share);
    return PM_OK;
}

/* ---- leases --------------------------------------------------------------- */

pm_error_t pm_container_lock(pm_physmem_t *pm, l4_task_t caller, container_t c, pm_time_t duration)
{
    pm__enter(pm);
    struct cap *cap;
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (duration == 0)
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, 0, &cap);
    if (err != PM_OK)
        return err;
    if (pm__lease_holds(pm, cap->c))
        return PM_EBUSY;
    pm_time_t now = l4_system_clock(pm->k);
    cap->c->locked = true;
    cap->c->lock_holder = caller;
    cap->c->lock_until = duration > UINT64_MAX - now ? UINT64_MAX : now + duration;
    return PM_OK;
}

pm_error_t pm_container_unlock(pm_physmem_t *pm, l4_task_t caller, container_t c)
{
    pm__enter(pm);
    struct cap *cap;
    pm_error_t err = pm__open(pm, caller, c, 0, &cap);
    if (err != PM_OK)
        return err;
    if (!pm__lease_holds(pm, cap->c) || cap->c->lock_holder != caller)
        return PM_EPERM;
    cap->c->locked = false;
    return PM_OK;
}

/* ---- allocate and deallocate ---------------------------------------------- */

static bool range_ok(frame_t start, uint64_t count)
{
    return count > 0 && (uint64_t)start + count - 1 <= UINT32_MAX;
}

/* The next frame (soft references skipped) of C at or after FROM and before
 * END, into *F: a walk over what C holds, however wide the range (a range of
 * 2^32 identifiers must not cost 2^32 steps). */
static bool next_frame_in(const struct container *c, uint64_t from, uint64_t end, frame_t *f)
{
    uint32_t key, v;
    for (uint64_t at = from; at < end && pm__sparse_next(&c->frames, at, &key, &v);
         at = (uint64_t)key + 1) {
        if ((uint64_t)key >= end)
            return false;
        if (!(v & SLOT_SOFT)) {
            *f = key;
            return true;
        }
    }
    return false;
}

/* How many frames C holds among START … START + N − 1. */
static uint64_t frames_in(const struct container *c, frame_t start, uint64_t n)
{
    uint64_t found = 0, end = (uint64_t)start + n;
    frame_t f;
    for (uint64_t at = start; next_frame_in(c, at, end, &f); at = (uint64_t)f + 1)
        found++;
    return found;
}

/* An allocation within the owner's G found the frames taken by other
 * tasks' extra frames (SPEC §5.1): ask for them back.  The allocation does
 * not wait (it fails now, or stops short with PARTIAL); it succeeds once
 * the victims return the frames or are exiled. */
static uint64_t ask_for_guarantee(pm_physmem_t *pm, const struct container *ct, frame_t start,
                                  uint32_t n, unsigned flags)
{
    const struct task *t = ct->owner;
    uint64_t exiled = 0;
    if (!pm->guarantees || (flags & CONT_ALLOC_DMA))
        return 0;
    uint64_t need = n - frames_in(ct, start, n);
    uint64_t within = t->guaranteed > t->allocated ? t->guaranteed - t->allocated : 0;
    uint64_t want = need < within ? need : within;
    uint64_t avail = pm__available(pm), owed = 0;
    uint64_t room = avail > pm->total_allocated ? avail - pm->total_allocated : 0;
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *x = g_ptr_array_index(pm->tasks, i);
        owed += x != NULL ? x->owed : 0;
    }
    if (want > room + owed)
        (void)pm__ask_victims(pm, want - room - owed, NULL, &exiled);
    return exiled; /* tasks exiled at once leave room behind them */
}

static pm_error_t allocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                           uint32_t *count, unsigned flags)
{
    struct cap *cap;
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (count == NULL || !range_ok(start, *count) ||
        (flags & ~(unsigned)(CONT_ALLOC_PARTIAL | CONT_ALLOC_SQUASH | CONT_ALLOC_EXTRA |
                             CONT_ALLOC_DMA)) != 0)
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_FULL, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    if ((flags & CONT_ALLOC_SQUASH) && pm__blocked(pm, cap)) {
        /* Squashing a frame deallocates it, which the lease forbids. */
        if (frames_in(ct, start, *count) > 0)
            return PM_EBUSY;
    }
    uint64_t dma_room = UINT64_MAX;
    if (flags & CONT_ALLOC_DMA) {
        struct pm_pool_stats ps;
        pm_pool_stats(pm->pool, &ps);
        dma_room = ps.dma_free;
    }
    /* Visit the identifiers in order: the first that fails decides.  A
     * squashed identifier needs no room in A (one frame goes, one comes),
     * but with DMA its new frame is bound from the zone at once.  Short of
     * room within G, ask for others' extra frames; a task exiled at once
     * leaves its frames behind, so count again then. */
    uint32_t n = *count, k = n;
    for (int round = 0;; round++) {
        uint64_t allow = pm__allowance(pm, ct->owner, (flags & CONT_ALLOC_EXTRA) != 0);
        uint64_t need = 0, need_dma = 0;
        k = n;
        for (uint32_t i = 0; i < n; i++) {
            bool used = pm__slot(ct, start + i) != 0;
            if (used && !(flags & CONT_ALLOC_SQUASH)) {
                *count = 0;
                return PM_EEXIST;
            }
            need += !used;
            need_dma += (flags & CONT_ALLOC_DMA) != 0;
            if (need > allow || need_dma > dma_room) {
                k = i;
                break;
            }
        }
        if (k == n || round > 0 || ask_for_guarantee(pm, ct, start, n, flags) == 0)
            break;
    }
    if (k < n && (!(flags & CONT_ALLOC_PARTIAL) || k == 0)) {
        *count = 0;
        return PM_ENOMEM;
    }
    if (!pm__sparse_reserve(&ct->frames, start, k) || !pm__group_reserve(pm, k)) {
        *count = 0;
        return PM_ENOMEM;
    }
    /* DMA frames are bound at once: take them all before anything changes.
     * The room was counted, but the pool may still fail (or the swap
     * device, when a frame must come from the inactive list): then PARTIAL
     * keeps the first ones (ENOMEM, as for any shortfall), else nothing is
     * done (the error). */
    uint32_t *dma = NULL;
    if (flags & CONT_ALLOC_DMA) {
        if ((dma = pm__malloc((size_t)k * sizeof *dma)) == NULL) {
            *count = 0;
            return PM_ENOMEM;
        }
        for (uint32_t i = 0; i < k; i++) {
            pm_pfn_t pfn;
            if ((err = pm__frame_alloc(pm, 0, PM_POOL_ZERO | PM_POOL_DMA, &pfn)) != PM_OK) {
                if (!(flags & CONT_ALLOC_PARTIAL) || i == 0) {
                    while (i > 0)
                        (void)pm_pool_release(pm->pool, PM_PFN(dma[--i]), 0);
                    free(dma);
                    *count = 0;
                    return err;
                }
                k = i;
                break;
            }
            dma[i] = pfn.n;
        }
    }
    uint64_t added = 0, squashed = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (pm__slot(ct, start + i) != 0) {
            pm__frame_drop(pm, ct, start + i); /* SQUASH: the old contents are lost */
            squashed++;
        } else {
            added++;
        }
        pm__frame_add(pm, ct, start + i, dma != NULL ? dma[i] : NO_PFN);
    }
    free(dma);
    pm__charge(pm, ct->owner, (int64_t)added);
    pm->st.frames_allocated += k;
    pm->st.frames_deallocated += squashed;
    struct pm_event ev = {
        .kind = PM_EV_ALLOCATE, .task = caller, .container = ct->id, .frame = start, .count = k};
    pm__emit(pm, &ev);
    *count = k;
    return k < n ? PM_ENOMEM : PM_OK;
}

/* On error the count is 0, except after a PARTIAL stop (the error
 * PARTIAL_ERR with 0 < *count < WANT), which set it. */
static pm_error_t count_on_error(pm_error_t err, pm_error_t partial_err, uint32_t want,
                                 uint32_t *count)
{
    if (err != PM_OK && count != NULL && !(err == partial_err && *count != want && *count != 0))
        *count = 0;
    return err;
}

pm_error_t pm_container_allocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                 uint32_t *count, unsigned flags)
{
    pm__enter(pm);
    uint32_t want = count != NULL ? *count : 0;
    return count_on_error(allocate(pm, caller, c, start, count, flags), PM_ENOMEM, want, count);
}

static pm_error_t deallocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                             uint32_t *count, unsigned flags)
{
    struct cap *cap;
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (count == NULL || !range_ok(start, *count) ||
        (flags & ~(unsigned)(CONT_DEALLOC_PARTIAL | CONT_DEALLOC_SQUASH | CONT_DEALLOC_SOFT)) != 0)
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_FULL | PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    uint32_t n = *count, k = n;
    if (!(flags & CONT_DEALLOC_SQUASH)) {
        for (uint32_t i = 0; i < n; i++) {
            if (pm__slot(ct, start + i) == 0) {
                k = i;
                break;
            }
        }
        if (k < n && (!(flags & CONT_DEALLOC_PARTIAL) || k == 0)) {
            *count = 0;
            return PM_ENOENT;
        }
    }
    uint64_t gone = 0;
    frame_t f;
    /* The frames there (SQUASH skips the empty identifiers: only what the
     * container holds is visited). */
    for (uint64_t at = start; next_frame_in(ct, at, (uint64_t)start + k, &f);
         at = (uint64_t)f + 1) {
        if (flags & CONT_DEALLOC_SOFT)
            pm__soften(pm, ct, f);
        else
            pm__frame_drop(pm, ct, f);
        gone++;
    }
    pm__charge(pm, ct->owner, -(int64_t)gone);
    pm->st.frames_deallocated += gone;
    if (flags & CONT_DEALLOC_SOFT)
        pm->st.soft_made += gone;
    pm__emit_range(pm, PM_EV_DEALLOCATE, caller, ct->id, start, gone);
    *count = k;
    return k < n ? PM_ENOENT : PM_OK;
}

pm_error_t pm_container_deallocate(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                   uint32_t *count, unsigned flags)
{
    pm__enter(pm);
    uint32_t want = count != NULL ? *count : 0;
    return count_on_error(deallocate(pm, caller, c, start, count, flags), PM_ENOENT, want, count);
}

pm_error_t pm_container_reclaim(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                                uint32_t count)
{
    struct cap *cap;
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (!range_ok(start, count))
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_FULL | PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    /* Back into A, as an allocation would be: up to G, or beyond it for an
     * eligible task (a reclaim asks for what it had). */
    uint64_t allow = pm__allowance(pm, ct->owner, true);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t v = pm__slot_raw(ct, start + i);
        if (!(v & SLOT_SOFT))
            return PM_ENOENT;
        if (pm->groups[SLOT_GROUP(v)].stale)
            return PM_ESTALE;
        if (i >= allow)
            return PM_ENOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t v = pm__slot_raw(ct, start + i);
        pm__sparse_set(&ct->frames, start + i, v & ~SLOT_SOFT);
        pm->groups[SLOT_GROUP(v)].soft--;
        ct->nsoft--;
    }
    pm__charge(pm, ct->owner, (int64_t)count);
    pm->st.soft_reclaimed += count;
    pm__emit_range(pm, PM_EV_ALLOCATE, caller, ct->id, start, count);
    return PM_OK;
}

pm_error_t pm_frame_info(const pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t f,
                         struct pm_frame_info *out)
{
    struct task *t;
    struct cap *cap;
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err != PM_OK)
        return err;
    uint32_t g = SLOT_GROUP(pm__slot(cap->c, f));
    if (g == 0)
        return PM_ENOENT;
    const struct group *gr = &pm->groups[g];
    out->bound = gr->pfn != NO_PFN;
    out->pfn = out->bound ? PM_PFN(gr->pfn) : PM_PFN_NONE;
    out->cow = out->bound && pm->pf[gr->pfn].groups > 1;
    out->group_size = gr->members;
    return PM_OK;
}

/* ---- inspection ------------------------------------------------------------ */

pm_error_t pm_container_info(const pm_physmem_t *pm, l4_task_t caller, container_t c,
                             struct pm_container_info *out)
{
    struct task *t;
    struct cap *cap;
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err != PM_OK)
        return err;
    *out = (struct pm_container_info){.owner = cap->c->owner->id,
                                      .weak = cap->weak,
                                      .frames = cap->c->frames.count - cap->c->nsoft,
                                      .soft = cap->c->nsoft,
                                      .locked = pm__lease_holds(pm, cap->c),
                                      .id = cap->c->id};
    return PM_OK;
}

pm_error_t pm_container_next(const pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t from,
                             frame_t *out)
{
    struct task *t;
    struct cap *cap;
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err != PM_OK)
        return err;
    return next_frame_in(cap->c, from, (uint64_t)UINT32_MAX + 1, out) ? PM_OK : PM_ENOENT;
}
