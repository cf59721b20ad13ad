/* control.c — physmem's side of the memory policy (SPEC §4): the control
 * capability and the policy buffer.
 *
 * The buffer is a naturally aligned run of pool frames that physmem holds
 * outside every container (it is not a task's memory, and it is taken out
 * of the frames guarantees may cover).  The policy server maps it with
 * pm_get_policy_buffer and writes G, eligibility and quotas; physmem
 * writes A.  Physmem reads the server's fields only when the header's
 * epoch moved (one load at the start of each call), so a server that
 * writes many records pays for one pass.
 *
 * The control capability is not a container capability: its handle has
 * the top half all ones, which no container slot ever reaches, so using it
 * as a container is EBADF, and a container handle is never taken for it. */
#include <string.h>

#include "physmem_priv.h"

#define CONTROL_SLOT ((container_t)0xFFFFFFFFu << 32)

static struct pm_policy_header *header(const pm_physmem_t *pm)
{
    return pm_pool_frame(pm->pool, PM_PFN(pm->buf.pfn));
}

static struct pm_policy_record *records(const pm_physmem_t *pm)
{
    return (struct pm_policy_record *)(header(pm) + 1);
}

static uint64_t capacity(const pm_physmem_t *pm, unsigned order)
{
    return ((pm->page_size << order) - sizeof(struct pm_policy_header)) /
           sizeof(struct pm_policy_record);
}

static uint64_t live_tasks(const pm_physmem_t *pm)
{
    uint64_t n = 0;
    for (guint i = 0; i < pm->tasks->len; i++)
        n += g_ptr_array_index(pm->tasks, i) != NULL;
    return n;
}

/* Tasks in the order they became known (the records' order). */
static GPtrArray *tasks_by_age(const pm_physmem_t *pm)
{
    GPtrArray *a = g_ptr_array_new();
    for (guint i = 0; i < pm->tasks->len; i++)
        if (g_ptr_array_index(pm->tasks, i) != NULL)
            g_ptr_array_add(a, g_ptr_array_index(pm->tasks, i));
    for (guint i = 1; i < a->len; i++) /* insertion sort: ids mostly follow age */
        for (guint j = i; j > 0; j--) {
            struct task *x = g_ptr_array_index(a, j - 1), *y = g_ptr_array_index(a, j);
            if (x->age <= y->age)
                break;
            g_ptr_array_index(a, j - 1) = y;
            g_ptr_array_index(a, j) = x;
        }
    return a;
}

bool pm__policy_frame(const pm_physmem_t *pm, uint32_t pfn)
{
    return pm->buf.held && pfn >= pm->buf.pfn && pfn - pm->buf.pfn < (1u << pm->buf.order);
}

void pm__policy_write_task(pm_physmem_t *pm, const struct task *t)
{
    struct pm_policy_record *r = &records(pm)[t->rec];
    r->allocated = t->allocated;
    r->swap_used = t->swap_ids;
}

/* Take a run for a buffer of 2^ORDER frames, if the frames guarantees may
 * cover stay enough for what is allocated. */
static pm_error_t take_run(pm_physmem_t *pm, unsigned order, pm_pfn_t *out)
{
    /* While the old buffer and the new one both exist, physmem holds both. */
    uint64_t old = pm->buf.held ? (uint64_t)1 << pm->buf.order : 0;
    uint64_t own = ((uint64_t)1 << order) + old;
    own = own > pm->reserved ? own : pm->reserved;
    if (own > pm->frames || pm->frames - own < pm->total_allocated)
        return PM_ENOMEM;
    return pm__frame_alloc(pm, order, PM_POOL_ZERO, out);
}

/* Write the records of every live task, oldest first, into the buffer at
 * PFN of 2^ORDER frames: fresh (A, G = 0) or copied from OLD. */
static void fill(pm_physmem_t *pm, uint32_t pfn, unsigned order, const struct pm_policy_header *oh,
                 const struct pm_policy_record *old)
{
    struct pm_policy_header *h = pm_pool_frame(pm->pool, PM_PFN(pfn));
    struct pm_policy_record *r = (struct pm_policy_record *)(h + 1);
    if (oh != NULL)
        *h = *oh;
    h->magic = PM_POLICY_MAGIC;
    h->capacity = capacity(pm, order);
    GPtrArray *a = tasks_by_age(pm);
    for (guint i = 0; i < a->len; i++) {
        struct task *t = g_ptr_array_index(a, i);
        if (old != NULL) {
            r[i] = old[t->rec];
        } else {
            r[i] = (struct pm_policy_record){.task = t->id};
            t->guaranteed = 0;
            t->eligible = false;
            t->swap_quota = 0;
        }
        t->rec = i;
        r[i].allocated = t->allocated;
        r[i].honoured = t->guaranteed;
        r[i].swap_used = t->swap_ids;
    }
    h->used = a->len;
    g_ptr_array_free(a, TRUE);
}

static void set_available(pm_physmem_t *pm)
{
    header(pm)->available = pm__available(pm);
}

pm_error_t pm_get_control(pm_physmem_t *pm, l4_task_t caller, container_t *control)
{
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (control == NULL)
        return PM_EINVAL;
    if (pm->control_taken)
        return PM_EPERM;
    unsigned order = 0;
    while (capacity(pm, order) < live_tasks(pm) + 1)
        order++;
    if (!pm->buf.held || order > pm->buf.order) {
        pm_pfn_t pfn;
        pm_error_t err = take_run(pm, order, &pfn);
        if (err != PM_OK)
            return err;
        if (pm->buf.held)
            (void)pm_pool_release(pm->pool, PM_PFN(pm->buf.pfn), pm->buf.order);
        pm->buf = (struct policy_buf){.held = true, .pfn = pfn.n, .order = order};
    }
    /* The reserve, or a new run: the buffer takes all of it. */
    fill(pm, pm->buf.pfn, pm->buf.order, NULL, NULL);
    pm->buf.exists = true;
    set_available(pm);
    pm->control_taken = true;
    pm->guarantees = true;
    pm->control_holder = caller;
    pm->control = CONTROL_SLOT | pm->next_gen++;
    *control = pm->control;
    return PM_OK;
}

static bool is_control(const pm_physmem_t *pm, l4_task_t caller, container_t control)
{
    return pm->control_holder != L4_NILTASK && pm->control_holder == caller &&
           control == pm->control;
}

/* Revoke every mapping of the buffer (physmem's own roots stay). */
void pm__policy_unmap(pm_physmem_t *pm)
{
    l4_fpage_t fp = l4_fpage((uint64_t)pm->buf.pfn << pm->shift, pm->shift + pm->buf.order, L4_RWX);
    (void)l4_unmap(pm->k, pm->thread, fp, 0, NULL);
    pm->st.unmaps++;
}

pm_error_t pm_control_give(pm_physmem_t *pm, l4_task_t caller, container_t control,
                           l4_task_t remote, container_t *out)
{
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL || pm__task(pm, remote) == NULL)
        return PM_ESRCH;
    if (out == NULL)
        return PM_EINVAL;
    if (!is_control(pm, caller, control))
        return PM_EBADF;
    pm__policy_unmap(pm);
    pm->control_holder = remote;
    pm->control = CONTROL_SLOT | pm->next_gen++;
    *out = pm->control;
    return PM_OK;
}

pm_error_t pm_get_policy_buffer(pm_physmem_t *pm, l4_task_t caller, container_t control,
                                uint64_t vaddr, uint64_t *bytes)
{
    pm__enter(pm);
    struct task *t = pm__task(pm, caller);
    if (t == NULL)
        return PM_ESRCH;
    uint64_t size = (uint64_t)pm->page_size << (pm->buf.exists ? pm->buf.order : 0);
    if (bytes == NULL || (vaddr & (pm->page_size - 1)) != 0 || vaddr >= L4_VADDR_LIMIT ||
        size > L4_VADDR_LIMIT - vaddr)
        return PM_EINVAL;
    if (!is_control(pm, caller, control))
        return PM_EBADF;
    /* Map it with as few items as alignment allows, a message at a time. */
    uint64_t src = (uint64_t)pm->buf.pfn << pm->shift, done = 0;
    unsigned limit = l4_map_item_limit(pm->k);
    while (done < size) {
        l4_fpage_t fp[L4_MSG_MAX_ITEMS];
        uint64_t covered = 0;
        size_t n = l4_fpage_cover(src + done, vaddr + done, size - done, pm->shift, L4_RW, fp,
                                  limit, &covered);
        l4_msg_t msg;
        l4_msg_init(&msg, 0);
        uint64_t at = vaddr + done;
        for (size_t i = 0; i < n; i++) {
            l4_msg_put_item(&msg, L4_ITEM_MAP, fp[i], at);
            at += l4_fpage_size(fp[i]);
        }
        pm_error_t err = l4_send(pm->k, pm->thread, t->thread, &msg, NULL);
        if (err != PM_OK || covered == 0)
            return err != PM_OK ? err : PM_EINVAL;
        done += covered;
    }
    *bytes = size;
    return PM_OK;
}

/* A new task gets a record; a full buffer is replaced by one twice the
 * size, and the old one unmapped, so that the server faults and asks again. */
pm_error_t pm__policy_add_task(pm_physmem_t *pm, struct task *t)
{
    struct pm_policy_header *h = header(pm);
    if (h->used < h->capacity) {
        t->rec = (uint32_t)h->used++;
        records(pm)[t->rec] = (struct pm_policy_record){.task = t->id, .allocated = 0};
        return PM_OK;
    }
    unsigned order = pm->buf.order + 1;
    while (capacity(pm, order) < live_tasks(pm) + 1)
        order++;
    /* A bigger buffer must not take frames the guarantees in force need:
     * then there is no room for the task (the server must lower G first). */
    uint64_t own = (uint64_t)1 << order;
    own = own > pm->reserved ? own : pm->reserved;
    if (own > pm->frames || pm->frames - own < pm->buf.committed)
        return PM_ENOMEM;
    pm_pfn_t pfn;
    pm_error_t err = take_run(pm, order, &pfn);
    if (err != PM_OK)
        return err;
    fill(pm, pfn.n, order, h, records(pm));
    pm__policy_unmap(pm);
    (void)pm_pool_release(pm->pool, PM_PFN(pm->buf.pfn), pm->buf.order);
    pm->buf.pfn = pfn.n;
    pm->buf.order = order;
    pm->st.buffer_resizes++;
    set_available(pm);
    h = header(pm);
    t->rec = (uint32_t)h->used++;
    records(pm)[t->rec] = (struct pm_policy_record){.task = t->id};
    return PM_OK;
}

static void honour(pm_physmem_t *pm, bool fresh);

void pm__policy_task_gone(pm_physmem_t *pm, struct task *t)
{
    struct pm_policy_record *r = &records(pm)[t->rec];
    r->task = 0;
    r->allocated = 0;
    r->honoured = 0;
    r->swap_used = 0;
    /* Its guarantee no longer counts: honour the others again (an
     * over-commit may be over; no new violation: nobody wrote anything). */
    t->rec = UINT32_MAX;
    honour(pm, false);
}

/* Read G, eligibility and quotas; honour the guarantees in record order
 * as far as the frames go; an over-commit the server just wrote (FRESH) is
 * a policy violation. */
static void honour(pm_physmem_t *pm, bool fresh)
{
    struct pm_policy_header *h = header(pm);
    struct pm_policy_record *r = records(pm);
    uint64_t asked = 0, left = pm__available(pm);
    for (uint64_t i = 0; i < h->used && i < h->capacity; i++) {
        struct task *t = r[i].task != 0 ? pm__task(pm, r[i].task) : NULL;
        if (t == NULL || t->rec != i)
            continue;
        uint64_t g = r[i].guaranteed;
        asked = g > UINT64_MAX - asked ? UINT64_MAX : asked + g;
        t->guaranteed = g < left ? g : left;
        left -= t->guaranteed;
        t->eligible = r[i].eligible != 0;
        t->swap_quota = r[i].swap_quota;
        r[i].honoured = t->guaranteed;
    }
    pm->buf.epoch = h->epoch;
    pm->buf.committed = asked;
    h->seen = h->epoch;
    h->committed = asked;
    if (fresh && asked > pm__available(pm)) {
        pm->st.policy_violations++;
        h->violations++;
        struct pm_event ev = {.kind = PM_EV_OVERCOMMIT,
                              .task = pm->control_holder,
                              .count = asked,
                              .to_frame = (frame_t)pm__available(pm)};
        pm__emit(pm, &ev);
    }
}

/* At the start of every call: the server moved the epoch. */
void pm__policy_sync(pm_physmem_t *pm)
{
    if (header(pm)->epoch != pm->buf.epoch)
        honour(pm, true);
}

void pm__policy_free(pm_physmem_t *pm)
{
    if (!pm->buf.held)
        return;
    (void)pm_pool_release(pm->pool, PM_PFN(pm->buf.pfn), pm->buf.order);
    pm->buf.held = pm->buf.exists = false;
}

/* Hold the reserve (pm_physmem_config.reserved_frames, rounded up to a
 * power of two) as one run, so that no task's frame is ever bound in it:
 * the buffer goes there when a policy server takes control. */
pm_error_t pm__policy_reserve(pm_physmem_t *pm)
{
    if (pm->reserved == 0)
        return PM_OK;
    unsigned order = 0;
    while ((1u << order) < pm->reserved)
        order++;
    pm->reserved = 1u << order;
    pm_pfn_t pfn;
    if (pm->reserved > pm->frames || pm_pool_alloc(pm->pool, order, PM_POOL_ZERO, &pfn) != PM_OK)
        return PM_EINVAL;
    pm->buf = (struct policy_buf){.held = true, .pfn = pfn.n, .order = order};
    return PM_OK;
}
