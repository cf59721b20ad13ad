/* refmodel.c — the reference model of physmem (refmodel.h): SPEC §3 written
 * out as plainly as it reads, one rule after another, for the differential
 * tester to hold the real physmem against. */
#include "refmodel.h"

#include <string.h>

/* 1: a logical copy shares the group instead (no copy-on-write);
 * 2: a forced write does not break copy-on-write;
 * 3: deallocating does not give A back;
 * 4: a weak capability may revoke;
 * 5: a lease blocks nobody;
 * 6: release_data keeps the data. */
int rm_mutation;

void rm_init(struct rm *m, uint64_t frames)
{
    memset(m, 0, sizeof *m);
    m->frames = frames;
    m->next_gen = 1;
    m->next_container = 1;
    for (int t = 0; t < RM_TASKS; t++)
        m->task[t].live = true;
}

/* ---- small helpers ----------------------------------------------------------- */

static bool task_ok(const struct rm *m, int t)
{
    return t >= 0 && t < RM_TASKS && m->task[t].live;
}

int rm_cap_of(const struct rm *m, int task, container_t h)
{
    uint64_t slot = h >> 32;
    uint32_t gen = (uint32_t)h;
    for (int i = 0; i < m->ncaps; i++) {
        const struct rm_cap *c = &m->cap[i];
        if (c->live && c->task == task && c->slot + 1 == slot && c->gen == gen)
            return i;
    }
    return -1;
}

container_t rm_handle(const struct rm *m, int cap)
{
    return ((container_t)m->cap[cap].slot + 1) << 32 | m->cap[cap].gen;
}

static int new_cap(struct rm *m, int task, int container, bool weak)
{
    int i = m->ncaps++;
    m->cap[i] = (struct rm_cap){.live = true,
                                .task = task,
                                .container = container,
                                .weak = weak,
                                .slot = m->task[task].slots++,
                                .gen = m->next_gen++};
    return i;
}

static int new_container(struct rm *m, int owner)
{
    int i = m->ncontainers++;
    m->c[i] = (struct rm_container){.live = true, .owner = owner, .id = m->next_container++};
    return i;
}

static int new_group(struct rm *m, int data)
{
    for (int i = 1; i < RM_GROUPS; i++)
        if (m->g[i].members == 0) {
            m->g[i] = (struct rm_group){.members = 0, .data = data};
            if (data != 0)
                m->d[data].groups++;
            return i;
        }
    return 0; /* cannot be: the tester stays well within */
}

static int new_data(struct rm *m, uint64_t tag)
{
    for (int i = 1; i < RM_GROUPS; i++)
        if (m->d[i].groups == 0) {
            m->d[i] = (struct rm_data){.groups = 0, .tag = tag};
            return i;
        }
    return 0;
}

/* A frame leaves group G: a group left empty leaves its data. */
static void group_leave(struct rm *m, int g)
{
    if (g == 0)
        return;
    if (--m->g[g].members == 0 && m->g[g].data != 0) {
        m->d[m->g[g].data].groups--;
        m->g[g].data = 0;
    }
}

static void group_join(struct rm *m, int g)
{
    m->g[g].members++;
}

/* A group gets a physical frame (zero-filled) if it has none. */
static void bind(struct rm *m, int g)
{
    if (m->g[g].data == 0) {
        int d = new_data(m, 0);
        m->g[g].data = d;
        m->d[d].groups = 1;
    }
}

static bool lease_holds(const struct rm *m, const struct rm_container *c)
{
    return c->locked && m->now < c->lock_until;
}

/* SPEC §3.9 Locks: a holder of a full capability other than the locker is
 * blocked while the lease holds, whatever capability it calls with. */
static bool blocked(const struct rm *m, int cap)
{
    const struct rm_cap *k = &m->cap[cap];
    const struct rm_container *c = &m->c[k->container];
    if (!lease_holds(m, c) || k->task == c->lock_holder)
        return false;
    if (!k->weak)
        return true;
    for (int i = 0; i < m->ncaps; i++)
        if (m->cap[i].live && m->cap[i].container == k->container && m->cap[i].task == k->task &&
            !m->cap[i].weak)
            return true;
    return false;
}

/* A member of group G is in a container under a lease. */
static bool group_pinned(const struct rm *m, int g)
{
    for (int i = 0; i < m->ncontainers; i++) {
        if (!m->c[i].live || !lease_holds(m, &m->c[i]))
            continue;
        for (int f = 0; f < RM_IDS; f++)
            if (m->c[i].frame[f] == g)
                return true;
    }
    return false;
}

static int frame_at(const struct rm_container *c, uint64_t f)
{
    return f < RM_IDS ? c->frame[f] : 0;
}

static uint64_t total_allocated(const struct rm *m)
{
    uint64_t n = 0;
    for (int t = 0; t < RM_TASKS; t++)
        n += m->task[t].allocated;
    return n;
}

/* How many more frames OWNER's containers may have (no task is ever
 * eligible for extra frames here). */
static uint64_t allowance(const struct rm *m, int owner)
{
    uint64_t total = total_allocated(m);
    uint64_t room = m->frames > total ? m->frames - total : 0;
    if (!m->guarantees)
        return room;
    const struct rm_task *t = &m->task[owner];
    uint64_t within = t->guaranteed > t->allocated ? t->guaranteed - t->allocated : 0;
    return within < room ? within : room;
}

static bool range_ok(frame_t start, uint64_t count)
{
    return count > 0 && (uint64_t)start + count - 1 <= UINT32_MAX;
}

/* The frame at F of container C goes (its data may live on elsewhere). */
static void drop_frame(struct rm *m, struct rm_container *c, frame_t f)
{
    group_leave(m, c->frame[f]);
    c->frame[f] = 0;
}

static void kill_cap(struct rm *m, int cap)
{
    m->cap[cap].live = false;
}

static void destroy_container(struct rm *m, int ci)
{
    struct rm_container *c = &m->c[ci];
    uint64_t n = 0;
    for (int f = 0; f < RM_IDS; f++)
        if (c->frame[f] != 0) {
            drop_frame(m, c, (frame_t)f);
            n++;
        }
    m->task[c->owner].allocated -= n;
    for (int i = 0; i < m->ncaps; i++)
        if (m->cap[i].live && m->cap[i].container == ci)
            kill_cap(m, i);
    c->live = false;
}

/* A capability of TASK (EBADF), full where FULL (EPERM), not blocked where
 * UNBLOCKED (EBUSY). */
static pm_error_t open_cap(const struct rm *m, int task, container_t h, bool full, bool unblocked,
                           int *cap)
{
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    if (full && m->cap[k].weak)
        return PM_EPERM;
    if (unblocked && blocked(m, k) && rm_mutation != 5)
        return PM_EBUSY;
    *cap = k;
    return PM_OK;
}

/* ---- tasks ---------------------------------------------------------------------- */

pm_error_t rm_set_guarantee(struct rm *m, int task, uint64_t g)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    m->task[task].guaranteed = g;
    m->guarantees = true;
    return PM_OK;
}

pm_error_t rm_task_info(const struct rm *m, int task, struct pm_task_info *out)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    const struct rm_task *t = &m->task[task];
    memset(out, 0, sizeof *out);
    out->guaranteed = t->guaranteed;
    out->allocated = t->allocated;
    out->extra = t->allocated > t->guaranteed ? t->allocated - t->guaranteed : 0;
    for (int i = 0; i < m->ncontainers; i++)
        out->containers += m->c[i].live && m->c[i].owner == task;
    for (int i = 0; i < m->ncaps; i++)
        out->capabilities += m->cap[i].live && m->cap[i].task == task;
    return PM_OK;
}

pm_error_t rm_task_remove(struct rm *m, int task)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    for (int i = 0; i < m->ncontainers; i++)
        if (m->c[i].live && m->c[i].owner == task)
            destroy_container(m, i);
    for (int i = 0; i < m->ncaps; i++)
        if (m->cap[i].live && m->cap[i].task == task)
            kill_cap(m, i);
    for (int i = 0; i < m->ncontainers; i++)
        if (m->c[i].live && m->c[i].locked && m->c[i].lock_holder == task)
            m->c[i].locked = false;
    m->task[task].live = false;
    return PM_OK;
}

/* ---- containers and capabilities ---------------------------------------------- */

pm_error_t rm_create(struct rm *m, int task, container_t *out)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    int c = new_container(m, task);
    *out = rm_handle(m, new_cap(m, task, c, false));
    return PM_OK;
}

pm_error_t rm_destroy(struct rm *m, int task, container_t h)
{
    int k;
    if (!task_ok(m, task))
        return PM_ESRCH;
    pm_error_t err = open_cap(m, task, h, true, true, &k);
    if (err != PM_OK)
        return err;
    destroy_container(m, m->cap[k].container);
    return PM_OK;
}

static pm_error_t hand_out(struct rm *m, int task, container_t h, int remote, bool weak,
                           container_t *out)
{
    if (!task_ok(m, task) || !task_ok(m, remote))
        return PM_ESRCH;
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    if (m->cap[k].weak)
        return PM_EPERM;
    *out = rm_handle(m, new_cap(m, remote, m->cap[k].container, weak));
    return PM_OK;
}

pm_error_t rm_share(struct rm *m, int task, container_t c, int remote, container_t *out)
{
    return hand_out(m, task, c, remote, true, out);
}

pm_error_t rm_give(struct rm *m, int task, container_t c, int remote, container_t *out)
{
    return hand_out(m, task, c, remote, false, out);
}

pm_error_t rm_revoke(struct rm *m, int task, container_t h, container_t weak_ref)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    int share = -1;
    for (int i = 0; i < m->ncaps; i++)
        if (m->cap[i].live && m->cap[i].container == m->cap[k].container && m->cap[i].weak &&
            rm_handle(m, i) == weak_ref)
            share = i;
    if (share < 0)
        return PM_EBADF;
    if (m->cap[k].weak && rm_mutation != 4)
        return PM_EPERM;
    if (blocked(m, k))
        return PM_EBUSY;
    kill_cap(m, share);
    return PM_OK;
}

pm_error_t rm_lock(struct rm *m, int task, container_t h, pm_time_t duration)
{
    int k;
    if (!task_ok(m, task))
        return PM_ESRCH;
    if (duration == 0)
        return PM_EINVAL;
    pm_error_t err = open_cap(m, task, h, false, false, &k);
    if (err != PM_OK)
        return err;
    struct rm_container *c = &m->c[m->cap[k].container];
    if (lease_holds(m, c))
        return PM_EBUSY;
    c->locked = true;
    c->lock_holder = task;
    c->lock_until = duration > UINT64_MAX - m->now ? UINT64_MAX : m->now + duration;
    return PM_OK;
}

pm_error_t rm_unlock(struct rm *m, int task, container_t h)
{
    int k;
    if (!task_ok(m, task))
        return PM_ESRCH;
    pm_error_t err = open_cap(m, task, h, false, false, &k);
    if (err != PM_OK)
        return err;
    struct rm_container *c = &m->c[m->cap[k].container];
    if (!lease_holds(m, c) || c->lock_holder != task)
        return PM_EPERM;
    c->locked = false;
    return PM_OK;
}

/* ---- allocate and deallocate ------------------------------------------------------ */

pm_error_t rm_allocate(struct rm *m, int task, container_t h, frame_t start, uint32_t *count,
                       unsigned flags)
{
    uint32_t n = *count;
    int k;
    pm_error_t err = PM_OK;
    if (!task_ok(m, task))
        err = PM_ESRCH;
    else if (!range_ok(start, n) ||
             (flags & ~(unsigned)(CONT_ALLOC_PARTIAL | CONT_ALLOC_SQUASH | CONT_ALLOC_EXTRA)) != 0)
        err = PM_EINVAL;
    else
        err = open_cap(m, task, h, true, false, &k);
    if (err != PM_OK) {
        *count = 0;
        return err;
    }
    struct rm_container *c = &m->c[m->cap[k].container];
    if ((flags & CONT_ALLOC_SQUASH) && blocked(m, k))
        for (uint32_t i = 0; i < n; i++)
            if (frame_at(c, (uint64_t)start + i) != 0) {
                *count = 0;
                return PM_EBUSY;
            }
    uint64_t allow = allowance(m, c->owner), need = 0;
    uint32_t got = n;
    for (uint32_t i = 0; i < n; i++) {
        bool used = frame_at(c, (uint64_t)start + i) != 0;
        if (used && !(flags & CONT_ALLOC_SQUASH)) {
            *count = 0;
            return PM_EEXIST;
        }
        need += !used;
        if (need > allow) {
            got = i;
            break;
        }
    }
    if (got < n && (!(flags & CONT_ALLOC_PARTIAL) || got == 0)) {
        *count = 0;
        return PM_ENOMEM;
    }
    uint64_t added = 0;
    for (uint32_t i = 0; i < got; i++) {
        frame_t f = start + i;
        if (c->frame[f] != 0)
            drop_frame(m, c, f);
        else
            added++;
        int g = new_group(m, 0);
        group_join(m, g);
        c->frame[f] = g;
    }
    m->task[c->owner].allocated += added;
    *count = got;
    return got < n ? PM_ENOMEM : PM_OK;
}

pm_error_t rm_deallocate(struct rm *m, int task, container_t h, frame_t start, uint32_t *count,
                         unsigned flags)
{
    uint32_t n = *count;
    int k;
    pm_error_t err = PM_OK;
    if (!task_ok(m, task))
        err = PM_ESRCH;
    else if (!range_ok(start, n) ||
             (flags & ~(unsigned)(CONT_DEALLOC_PARTIAL | CONT_DEALLOC_SQUASH)) != 0)
        err = PM_EINVAL;
    else
        err = open_cap(m, task, h, true, true, &k);
    if (err != PM_OK) {
        *count = 0;
        return err;
    }
    struct rm_container *c = &m->c[m->cap[k].container];
    uint32_t got = n;
    if (!(flags & CONT_DEALLOC_SQUASH)) {
        for (uint32_t i = 0; i < n; i++)
            if (frame_at(c, (uint64_t)start + i) == 0) {
                got = i;
                break;
            }
        if (got < n && (!(flags & CONT_DEALLOC_PARTIAL) || got == 0)) {
            *count = 0;
            return PM_ENOENT;
        }
    }
    uint64_t gone = 0;
    for (uint32_t i = 0; i < got; i++) {
        uint64_t f = (uint64_t)start + i;
        if (frame_at(c, f) == 0)
            continue;
        drop_frame(m, c, (frame_t)f);
        gone++;
    }
    if (rm_mutation != 3)
        m->task[c->owner].allocated -= gone;
    *count = got;
    return got < n ? PM_ENOENT : PM_OK;
}

/* ---- map ---------------------------------------------------------------------------- */

pm_error_t rm_map(struct rm *m, int task, container_t h, frame_t start, uint32_t *count,
                  unsigned flags, uint64_t vaddr, bool *writable)
{
    int k;
    uint32_t n = *count;
    if (!task_ok(m, task))
        return PM_ESRCH;
    if (n == 0 || (uint64_t)start + n - 1 > UINT32_MAX ||
        (flags & ~(unsigned)(CONT_MAP_READ | CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE)) != 0 ||
        !(flags & (CONT_MAP_READ | CONT_MAP_WRITE)) || (vaddr & 4095) != 0 ||
        vaddr >= L4_VADDR_LIMIT || ((uint64_t)n << 12) > L4_VADDR_LIMIT - vaddr)
        return PM_EINVAL;
    pm_error_t err = open_cap(m, task, h, false, true, &k);
    if (err != PM_OK)
        return err;
    struct rm_container *c = &m->c[m->cap[k].container];
    for (uint32_t i = 0; i < n; i++)
        if (frame_at(c, (uint64_t)start + i) == 0)
            return PM_ENOENT;
    bool write = (flags & CONT_MAP_WRITE) != 0;
    bool force = write && (flags & CONT_MAP_FORCE_WRITE);
    /* A frame of a leased container is pinned: it cannot move to a frame of
     * its own to break its copy (nothing is done then). */
    for (uint32_t i = 0; force && i < n; i++) {
        int g = c->frame[start + i];
        if (m->g[g].data != 0 && m->d[m->g[g].data].groups > 1 && group_pinned(m, g))
            return PM_EBUSY;
    }
    for (uint32_t i = 0; i < n; i++) {
        int g = c->frame[start + i];
        bind(m, g);
        int d = m->g[g].data;
        if (force && m->d[d].groups > 1 && rm_mutation != 2) {
            /* Copy-on-write break: the writer's whole share group moves to
             * a frame of its own, with the bytes. */
            int nd = new_data(m, m->d[d].tag);
            m->d[d].groups--;
            m->d[nd].groups = 1;
            m->g[g].data = nd;
            d = nd;
        }
        if (writable != NULL)
            writable[i] = write && m->d[d].groups == 1;
    }
    return PM_OK;
}

void rm_write(struct rm *m, int task, container_t h, frame_t f, uint64_t tag)
{
    int k = rm_cap_of(m, task, h);
    int g = m->c[m->cap[k].container].frame[f];
    m->d[m->g[g].data].tag = tag;
}

/* ---- the copy family ------------------------------------------------------------------- */

static frame_t id_at(frame_t start, const frame_t *list, uint32_t i)
{
    return list != NULL ? list[i] : start + i;
}

static bool side_ok(frame_t start, const frame_t *list, uint32_t count)
{
    return list != NULL || (uint64_t)start + count - 1 <= UINT32_MAX;
}

static bool has_duplicates(const frame_t *list, uint32_t count)
{
    for (uint32_t i = 0; list != NULL && i < count; i++)
        for (uint32_t j = i + 1; j < count; j++)
            if (list[i] == list[j])
                return true;
    return false;
}

static bool overlap(frame_t as, const frame_t *al, frame_t bs, const frame_t *bl, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        for (uint32_t j = 0; j < count; j++)
            if (id_at(as, al, i) == id_at(bs, bl, j))
                return true;
    return false;
}

pm_error_t rm_copy(struct rm *m, int task, container_t src, frame_t ss, const frame_t *sl,
                   container_t dest, frame_t ds, const frame_t *dl, uint32_t count, unsigned flags,
                   frame_t *frame_error)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    bool move = (flags & CONT_COPY_MOVE) != 0, shared = (flags & CONT_COPY_SHARED) != 0;
    if (count == 0 || !side_ok(ss, sl, count) || !side_ok(ds, dl, count) ||
        (flags & ~(unsigned)(CONT_COPY_SHARED | CONT_COPY_MOVE | CONT_COPY_ALL_OR_NONE)) != 0 ||
        (move && shared) || has_duplicates(dl, count) || (move && has_duplicates(sl, count)))
        return PM_EINVAL;
    int sk = rm_cap_of(m, task, src), dk = sk < 0 ? -1 : rm_cap_of(m, task, dest);
    if (sk < 0 || dk < 0)
        return PM_EBADF;
    struct rm_container *sc = &m->c[m->cap[sk].container], *dc = &m->c[m->cap[dk].container];
    if (move && sc == dc && overlap(ss, sl, ds, dl, count))
        return PM_EINVAL;
    if (blocked(m, sk) || blocked(m, dk))
        return PM_EBUSY;
    uint32_t n = count;
    pm_error_t fail = PM_OK;
    frame_t fail_id = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (frame_at(dc, id_at(ds, dl, i)) == 0) {
            fail = PM_ENOMEM;
            fail_id = id_at(ds, dl, i);
        } else if (frame_at(sc, id_at(ss, sl, i)) == 0) {
            fail = PM_ENOENT;
            fail_id = id_at(ss, sl, i);
        } else {
            continue;
        }
        n = i;
        break;
    }
    if (fail != PM_OK && (flags & CONT_COPY_ALL_OR_NONE))
        n = 0;
    /* Every source read first: the groups as they are before any write. */
    int sg[RM_IDS * 2];
    for (uint32_t i = 0; i < n; i++) {
        sg[i] = sc->frame[id_at(ss, sl, i)];
        m->g[sg[i]].members++; /* held while the copy runs, like a pin */
    }
    for (uint32_t i = 0; i < n && !move && !shared; i++)
        bind(m, sg[i]);
    for (uint32_t i = 0; i < n; i++) {
        frame_t s = id_at(ss, sl, i), d = id_at(ds, dl, i);
        int old = dc->frame[d];
        if (move) {
            /* D takes S's place in its group; S leaves its container. */
            sc->frame[s] = 0;
            m->task[sc->owner].allocated--;
            dc->frame[d] = sg[i];
            group_leave(m, old);
        } else if (shared) {
            if (old == sg[i])
                continue;
            group_join(m, sg[i]);
            dc->frame[d] = sg[i];
            group_leave(m, old);
        } else if (rm_mutation == 1) {
            if (old == sg[i])
                continue;
            group_join(m, sg[i]);
            dc->frame[d] = sg[i];
            group_leave(m, old);
        } else {
            int ng = new_group(m, m->g[sg[i]].data);
            group_join(m, ng);
            dc->frame[d] = ng;
            group_leave(m, old);
        }
    }
    for (uint32_t i = 0; i < n; i++)
        group_leave(m, sg[i]);
    if (fail != PM_OK) {
        if (frame_error != NULL)
            *frame_error = fail_id;
        return fail;
    }
    return PM_OK;
}

pm_error_t rm_create_from(struct rm *m, int task, container_t source, frame_t start,
                          const frame_t *list, uint32_t count, int remote, container_t *out,
                          container_t *weak_ref)
{
    if (!task_ok(m, task) || !task_ok(m, remote))
        return PM_ESRCH;
    if (count == 0 || !side_ok(start, list, count))
        return PM_EINVAL;
    int sk = -1;
    if (source != PM_CONTAINER_NONE && (sk = rm_cap_of(m, task, source)) < 0)
        return PM_EBADF;
    if (sk >= 0 && blocked(m, sk))
        return PM_EBUSY;
    uint64_t allow = allowance(m, task);
    const struct rm_container *sc = sk >= 0 ? &m->c[m->cap[sk].container] : NULL;
    for (uint32_t i = 0; i < count; i++) {
        if (sc != NULL && frame_at(sc, id_at(start, list, i)) == 0)
            return PM_ENOENT;
        if (i >= allow)
            return PM_ENOMEM;
    }
    int ci = new_container(m, task);
    int full = new_cap(m, task, ci, false), weak = new_cap(m, remote, ci, true);
    struct rm_container *c = &m->c[ci];
    sc = sk >= 0 ? &m->c[m->cap[sk].container] : NULL;
    for (uint32_t i = 0; i < count && sc != NULL; i++)
        bind(m, sc->frame[id_at(start, list, i)]);
    for (uint32_t i = 0; i < count; i++) {
        int g = new_group(m, sc != NULL ? m->g[sc->frame[id_at(start, list, i)]].data : 0);
        group_join(m, g);
        c->frame[i] = g;
    }
    m->task[task].allocated += count;
    *out = rm_handle(m, full);
    *weak_ref = rm_handle(m, weak);
    return PM_OK;
}

pm_error_t rm_release(struct rm *m, int task, container_t h, const frame_t *frames, uint32_t count)
{
    int k;
    if (!task_ok(m, task))
        return PM_ESRCH;
    if (count == 0)
        return PM_EINVAL;
    pm_error_t err = open_cap(m, task, h, false, true, &k);
    if (err != PM_OK)
        return err;
    struct rm_container *c = &m->c[m->cap[k].container];
    for (uint32_t i = 0; i < count; i++)
        if (frame_at(c, frames[i]) == 0)
            return PM_ENOENT;
    for (uint32_t i = 0; i < count; i++) {
        int old = c->frame[frames[i]];
        if ((m->g[old].members == 1 && m->g[old].data == 0) || rm_mutation == 6)
            continue; /* nothing to let go of */
        int g = new_group(m, 0);
        group_join(m, g);
        c->frame[frames[i]] = g;
        group_leave(m, old);
    }
    return PM_OK;
}

/* ---- inspection ------------------------------------------------------------------------- */

pm_error_t rm_frame_info(const struct rm *m, int task, container_t h, frame_t f,
                         struct pm_frame_info *out, int *data)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    int g = frame_at(&m->c[m->cap[k].container], f);
    if (g == 0)
        return PM_ENOENT;
    int d = m->g[g].data;
    out->bound = d != 0;
    out->pfn = PM_PFN_NONE; /* the tester matches pfns with data */
    out->cow = d != 0 && m->d[d].groups > 1;
    out->group_size = (uint32_t)m->g[g].members;
    if (data != NULL)
        *data = d;
    return PM_OK;
}

pm_error_t rm_container_info(const struct rm *m, int task, container_t h,
                             struct pm_container_info *out)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    const struct rm_container *c = &m->c[m->cap[k].container];
    uint64_t frames = 0;
    for (int f = 0; f < RM_IDS; f++)
        frames += c->frame[f] != 0;
    *out = (struct pm_container_info){.owner = (l4_task_t)c->owner,
                                      .weak = m->cap[k].weak,
                                      .frames = frames,
                                      .locked = lease_holds(m, c),
                                      .id = c->id};
    return PM_OK;
}

pm_error_t rm_container_next(const struct rm *m, int task, container_t h, frame_t from,
                             frame_t *out)
{
    if (!task_ok(m, task))
        return PM_ESRCH;
    int k = rm_cap_of(m, task, h);
    if (k < 0)
        return PM_EBADF;
    const struct rm_container *c = &m->c[m->cap[k].container];
    for (uint64_t f = from; f < RM_IDS; f++)
        if (c->frame[f] != 0) {
            *out = (frame_t)f;
            return PM_OK;
        }
    return PM_ENOENT;
}
