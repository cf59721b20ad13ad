/* reclaim.c — taking frames back (SPEC §5): pressure, upcalls to victims,
 * deadlines and exile.
 *
 * Physmem never waits for a task.  When it needs frames it first frees
 * what costs no task anything (frames only soft references hold, clean
 * inactive swap frames, then dirty ones written to the device), then sends
 * pm_return_frames upcalls — a non-blocking send to each victim's memory
 * control thread — in the order the victim policy gives, each asking for
 * no more than the victim's extra frames E (less what it owes already), so
 * guaranteed frames are never asked for.  A victim owes what it was asked
 * until its A has gone down by as much (every deallocation, soft or swap
 * counts, pm__charge), and is exiled if it still owes at the deadline, or
 * at once if its memory control thread is not receiving. */
#include "physmem_priv.h"

/* Frames physmem could take now without breaking a promise: free in the
 * pool, and not owed to an allocated virtual frame that has none yet. */
static uint64_t pool_free(const pm_physmem_t *pm)
{
    struct pm_pool_stats ps;
    pm_pool_stats(pm->pool, &ps);
    return ps.free;
}

uint64_t pm_free_frames(const pm_physmem_t *pm)
{
    struct pm_pool_stats ps;
    pm_pool_stats(pm->pool, &ps);
    uint64_t avail = pm__available(pm);
    uint64_t uncommitted = avail > pm->total_allocated ? avail - pm->total_allocated : 0;
    return ps.free < uncommitted ? ps.free : uncommitted;
}

/* E as physmem counts it: over G, or everything before there are
 * guarantees (first come, first served guarantees nothing). */
static uint64_t extra_of(const struct task *t)
{
    return t->allocated > t->guaranteed ? t->allocated - t->guaranteed : 0;
}

void pm__exile(pm_physmem_t *pm, struct task *t)
{
    uint64_t n = 0;
    for (guint i = 0; i < t->mine->len; i++) {
        struct container *c = g_ptr_array_index(t->mine, i);
        /* A server's lease pins the frames (SPEC §3.2): they stay. */
        if (pm__lease_holds(pm, c))
            continue;
        uint32_t f, v;
        for (uint64_t from = 0; pm__sparse_next(&c->frames, from, &f, &v); from = (uint64_t)f + 1) {
            n += !(v & SLOT_SOFT);
            pm__frame_drop(pm, c, f);
        }
    }
    pm__charge(pm, t, -(int64_t)n);
    pm->st.frames_deallocated += n;
    pm__swap_drop_task(pm, t);
    t->owed = 0;
    t->exiles++;
    pm->st.exiles++;
    pm->st.frames_exiled += n;
    struct pm_event ev = {.kind = PM_EV_EXILE, .task = t->id, .count = n};
    pm__emit(pm, &ev);
}

pm_error_t pm_task_exile(pm_physmem_t *pm, l4_task_t task)
{
    struct task *t = pm__task(pm, task);
    if (t == NULL)
        return PM_ESRCH;
    pm__exile(pm, t);
    return PM_OK;
}

uint64_t pm_physmem_tick(pm_physmem_t *pm)
{
    if (pm->buf.exists)
        pm__policy_sync(pm);
    pm_time_t now = l4_system_clock(pm->k), next = UINT64_MAX;
    uint64_t exiled = 0;
    for (guint i = 0; i < pm->tasks->len; i++) {
        struct task *t = g_ptr_array_index(pm->tasks, i);
        if (t == NULL || t->owed == 0)
            continue;
        if (t->deadline <= now) {
            pm__exile(pm, t);
            exiled++;
        } else if (t->deadline < next) {
            next = t->deadline;
        }
    }
    pm->next_deadline = next;
    return exiled;
}

/* Send TASK the upcall; false when it is not ready to receive. */
static bool upcall(pm_physmem_t *pm, struct task *t, uint64_t count)
{
    pm_time_t now = l4_system_clock(pm->k);
    if (t->owed == 0)
        t->deadline =
            pm->return_deadline > UINT64_MAX - now ? UINT64_MAX : now + pm->return_deadline;
    t->owed += count;
    if (t->deadline < pm->next_deadline)
        pm->next_deadline = t->deadline;
    pm->st.reclaim_upcalls++;
    pm->st.frames_asked += count;
    struct pm_event ev = {
        .kind = PM_EV_RETURN_FRAMES, .task = t->id, .count = count, .vaddr = t->deadline};
    pm__emit(pm, &ev);
    if (t->memctl == L4_NILTHREAD)
        return false;
    l4_msg_t msg;
    l4_msg_init(&msg, PM_LABEL_RETURN_FRAMES);
    l4_msg_put_word(&msg, count);
    l4_msg_put_word(&msg, t->deadline);
    return l4_send_async(pm->k, pm->thread, t->memctl, &msg) != PM_ESRCH;
}

uint64_t pm__ask_victims(pm_physmem_t *pm, uint64_t shortfall, uint64_t *upcalls, uint64_t *exiled)
{
    GArray *v = g_array_new(FALSE, FALSE, sizeof(struct pm_victim));
    uint64_t total = 0;
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *t = g_ptr_array_index(pm->tasks, i);
        uint64_t e = t != NULL ? extra_of(t) : 0;
        if (e <= (t != NULL ? t->owed : 0))
            continue;
        struct pm_victim x = {.task = t->id,
                              .extra = e - t->owed,
                              .allocated = t->allocated,
                              .guaranteed = t->guaranteed,
                              .age = t->age};
        g_array_append_val(v, x);
        total += x.extra;
    }
    if (v->len > 1)
        pm->victim->order((struct pm_victim *)(void *)v->data, v->len);
    uint64_t asked = 0;
    for (guint i = 0; i < v->len && asked < shortfall; i++) {
        const struct pm_victim *x = &g_array_index(v, struct pm_victim, i);
        uint64_t left = shortfall - asked;
        /* TOTAL is the extra of this victim and those after it, so a
         * policy that shares the shortfall out covers all of it. */
        uint64_t n = pm->victim->ask != NULL ? pm->victim->ask(x, left, total)
                                             : (x->extra < left ? x->extra : left);
        total -= x->extra;
        if (n > x->extra)
            n = x->extra;
        struct task *t = pm__task(pm, x->task); /* a handler may have changed things */
        if (n == 0 || t == NULL)
            continue;
        asked += n;
        if (upcalls != NULL)
            (*upcalls)++;
        if (!upcall(pm, t, n) && (t = pm__task(pm, x->task)) != NULL && t->owed > 0) {
            pm__exile(pm, t); /* not ready to receive: misbehaving (SPEC §5.2) */
            if (exiled != NULL)
                (*exiled)++;
        }
    }
    g_array_free(v, TRUE);
    return asked;
}

pm_error_t pm_pressure(pm_physmem_t *pm, uint64_t frames, struct pm_pressure_result *out)
{
    pm__enter(pm);
    pm->st.pressure_calls++;
    struct pm_pressure_result r = {.free_before = pm_free_frames(pm)};
    pm_error_t io = PM_OK;
    /* First the pool: frames soft references and the inactive list hold
     * come back while it has fewer than FRAMES free.  Then the promises:
     * what allocated frames may still claim is asked back from tasks with
     * extra frames. */
    while (pool_free(pm) < frames && pm__take_soft_frame(pm))
        r.soft_taken++;
    while (pool_free(pm) < frames && pm__take_inactive(pm, false, &io))
        r.inactive_dropped++;
    while (pool_free(pm) < frames && io == PM_OK && pm__take_inactive(pm, true, &io))
        r.flushed++;
    uint64_t have = pm_free_frames(pm);
    if (have < frames)
        r.asked = pm__ask_victims(pm, frames - have, &r.upcalls, &r.exiled);
    r.free_after = pm_free_frames(pm);
    if (out != NULL)
        *out = r;
    return io;
}
