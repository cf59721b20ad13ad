/* policy.c — the memory policy server (SPEC §4; pmsim/policy.h).
 *
 * The server keeps each task's contract and the G it last wrote.  A
 * recomputation asks the kind for targets; a smaller target starts a grace
 * period (the task is told at once, the buffer keeps the old G until the
 * period ends); a larger one is written as far as the frames that no
 * written G holds allow, so that shrinking tasks' frames are not promised
 * twice.  Everything the server knows of physmem it reads from the buffer,
 * through its own mapping, like a real server on L4 would. */
#include <glib.h>
#include <stddef.h>
#include <stdlib.h>

#include "pmsim/policy.h"

/* ---- the buffer client ------------------------------------------------------ */

pm_error_t pm_policy_client_open(struct pm_policy_client *c)
{
    return pm_get_policy_buffer(c->pm, c->task, c->control, c->vaddr, &c->bytes);
}

/* A load or store at offset OFF of the buffer; a fault (physmem resized
 * it, or gave control away) asks physmem again, once. */
static pm_error_t buf_access(struct pm_policy_client *c, enum l4_access_kind kind, uint64_t off,
                             void *data, size_t len)
{
    pm_error_t err = l4_access(c->k, c->thread, kind, c->vaddr + off, data, len, NULL);
    if (err != PM_EFAULT)
        return err;
    pm_error_t again = pm_policy_client_open(c);
    if (again != PM_OK)
        return again;
    c->reasks++;
    return l4_access(c->k, c->thread, kind, c->vaddr + off, data, len, NULL);
}

pm_error_t pm_policy_client_read(struct pm_policy_client *c, struct pm_policy_header *h,
                                 struct pm_policy_record **records, size_t *n)
{
    pm_error_t err = buf_access(c, L4_ACCESS_READ, 0, h, sizeof *h);
    if (err != PM_OK)
        return err;
    if (h->magic != PM_POLICY_MAGIC || h->used > h->capacity)
        return PM_EFAULT;
    if (records == NULL)
        return PM_OK;
    struct pm_policy_record *r = g_new(struct pm_policy_record, h->used ? h->used : 1);
    err = buf_access(c, L4_ACCESS_READ, sizeof *h, r, h->used * sizeof *r);
    if (err != PM_OK) {
        g_free(r);
        return err;
    }
    *records = r;
    *n = h->used;
    return PM_OK;
}

static uint64_t rec_off(size_t i, size_t field)
{
    return sizeof(struct pm_policy_header) + i * sizeof(struct pm_policy_record) + field;
}

/* Write the server's fields of record I (no epoch bump). */
static pm_error_t write_fields(struct pm_policy_client *c, size_t i,
                               const struct pm_policy_fields *f)
{
    pm_error_t err = PM_OK;
    if (f->guaranteed != NULL)
        err = buf_access(c, L4_ACCESS_WRITE,
                         rec_off(i, offsetof(struct pm_policy_record, guaranteed)),
                         (void *)f->guaranteed, sizeof(uint64_t));
    if (err == PM_OK && f->eligible != NULL) {
        uint32_t e = *f->eligible;
        err = buf_access(c, L4_ACCESS_WRITE,
                         rec_off(i, offsetof(struct pm_policy_record, eligible)), &e, sizeof e);
    }
    if (err == PM_OK && f->swap_quota != NULL)
        err = buf_access(c, L4_ACCESS_WRITE,
                         rec_off(i, offsetof(struct pm_policy_record, swap_quota)),
                         (void *)f->swap_quota, sizeof(uint64_t));
    return err;
}

static pm_error_t bump_epoch(struct pm_policy_client *c)
{
    uint64_t epoch;
    size_t off = offsetof(struct pm_policy_header, epoch);
    pm_error_t err = buf_access(c, L4_ACCESS_READ, off, &epoch, sizeof epoch);
    if (err != PM_OK)
        return err;
    epoch++;
    return buf_access(c, L4_ACCESS_WRITE, off, &epoch, sizeof epoch);
}

static ptrdiff_t find_record(const struct pm_policy_record *r, size_t n, l4_task_t task)
{
    for (size_t i = 0; i < n; i++)
        if (r[i].task == task)
            return (ptrdiff_t)i;
    return -1;
}

pm_error_t pm_policy_client_set(struct pm_policy_client *c, l4_task_t target,
                                const struct pm_policy_fields *f)
{
    struct pm_policy_header h;
    struct pm_policy_record *r;
    size_t n;
    pm_error_t err = pm_policy_client_read(c, &h, &r, &n);
    if (err != PM_OK)
        return err;
    ptrdiff_t i = target != L4_NILTASK ? find_record(r, n, target) : -1;
    g_free(r);
    if (i < 0)
        return PM_ESRCH;
    if ((err = write_fields(c, (size_t)i, f)) != PM_OK)
        return err;
    return bump_epoch(c);
}

/* ---- the server ----------------------------------------------------------------- */

struct contract {
    struct pm_policy_task t;
    uint64_t target;  /* what the kind wants */
    uint64_t written; /* G in the buffer */
    bool elig_written;
    uint64_t quota_written;
    bool fresh;      /* nothing written yet */
    bool pending;    /* a shrink in its grace period */
    uint64_t pend_g; /* to this G */
    pm_time_t pend_at;
};

struct pm_policy {
    struct pm_policy_client c;
    const struct pm_policy_kind *kind;
    pm_time_t grace;
    GArray *tasks; /* struct contract, in the order they came */
    struct pm_policy_stats st;
};

static pm_error_t server_new(pm_physmem_t *pm, l4_kernel_t *k, l4_thread_t thread,
                             container_t control, const struct pm_policy_config *cfg,
                             pm_policy_t **out)
{
    if (pm == NULL || k == NULL || cfg == NULL || out == NULL)
        return PM_EINVAL;
    const struct pm_policy_kind *kind = pm_policy_kind_find(cfg->kind);
    if (kind == NULL)
        return PM_EINVAL;
    l4_task_t task = l4_thread_task(k, thread);
    if (task == L4_NILTASK)
        return PM_ESRCH;
    /* What pm_get_policy_buffer would refuse, refused before control is
     * taken: control is had once, and a server that cannot map the buffer
     * must not lose it. */
    size_t page = pm_physmem_page_size(pm);
    if ((cfg->vaddr & (page - 1)) != 0 || cfg->vaddr >= L4_VADDR_LIMIT ||
        L4_VADDR_LIMIT - cfg->vaddr < ((uint64_t)page << PM_POLICY_MAX_ORDER))
        return PM_EINVAL;
    pm_error_t err = PM_OK;
    if (control == PM_CONTAINER_NONE && (err = pm_get_control(pm, task, &control)) != PM_OK)
        return err;
    pm_policy_t *p = g_new0(pm_policy_t, 1);
    p->c = (struct pm_policy_client){
        .pm = pm, .k = k, .task = task, .thread = thread, .control = control, .vaddr = cfg->vaddr};
    p->kind = kind;
    p->grace = cfg->grace == 0 ? PM_DEFAULT_GRACE : cfg->grace == PM_GRACE_NONE ? 0 : cfg->grace;
    p->tasks = g_array_new(FALSE, FALSE, sizeof(struct contract));
    if ((err = pm_policy_client_open(&p->c)) != PM_OK) {
        pm_policy_free(p);
        return err;
    }
    *out = p;
    return PM_OK;
}

pm_error_t pm_policy_new(pm_physmem_t *pm, l4_kernel_t *k, l4_thread_t thread,
                         const struct pm_policy_config *cfg, pm_policy_t **out)
{
    return server_new(pm, k, thread, PM_CONTAINER_NONE, cfg, out);
}

pm_error_t pm_policy_adopt(pm_physmem_t *pm, l4_kernel_t *k, l4_thread_t thread,
                           container_t control, const struct pm_policy_config *cfg,
                           pm_policy_t **out)
{
    if (control == PM_CONTAINER_NONE)
        return PM_EBADF;
    return server_new(pm, k, thread, control, cfg, out);
}

void pm_policy_free(pm_policy_t *p)
{
    if (p == NULL)
        return;
    g_array_free(p->tasks, TRUE);
    g_free(p);
}

struct pm_policy_client *pm_policy_client(pm_policy_t *p)
{
    return &p->c;
}

static struct contract *contract_of(pm_policy_t *p, l4_task_t task, guint *at)
{
    for (guint i = 0; i < p->tasks->len; i++) {
        struct contract *x = &g_array_index(p->tasks, struct contract, i);
        if (x->t.task == task) {
            if (at != NULL)
                *at = i;
            return x;
        }
    }
    return NULL;
}

static void notify_shrink(pm_policy_t *p, const struct contract *x)
{
    p->st.shrinks++;
    if (x->t.memctl == L4_NILTHREAD)
        return;
    l4_msg_t msg;
    l4_msg_init(&msg, PM_LABEL_SHRINK);
    l4_msg_put_word(&msg, x->pend_g);
    l4_msg_put_word(&msg, x->pend_at);
    (void)l4_send_async(p->c.k, p->c.thread, x->t.memctl, &msg); /* not listening: its loss */
}

/* Write what the clock allows; bump the epoch once if anything changed. */
static int apply(pm_policy_t *p)
{
    struct pm_policy_header h;
    struct pm_policy_record *r;
    size_t n;
    pm_error_t err = pm_policy_client_read(&p->c, &h, &r, &n);
    if (err != PM_OK)
        return -err;
    pm_time_t now = l4_system_clock(p->c.k);
    uint64_t committed = 0, wanted = 0;
    /* Guarantees in the buffer for tasks this server has no contract with
     * (a predecessor's, before their tasks register again) still hold. */
    for (size_t i = 0; i < n; i++)
        if (r[i].task != 0 && contract_of(p, r[i].task, NULL) == NULL)
            committed += r[i].guaranteed;
    for (guint i = 0; i < p->tasks->len; i++) {
        struct contract *x = &g_array_index(p->tasks, struct contract, i);
        if (x->pending && x->pend_at <= now) {
            x->written = x->pend_g;
            x->pending = false;
            x->fresh = true; /* to be written */
        }
        committed += x->written;
        wanted += x->target;
    }
    /* A kind whose targets over-commit gets them written as they are. */
    bool as_asked = wanted > h.available;
    uint64_t room = h.available > committed ? h.available - committed : 0;
    int writes = 0;
    uint64_t pending = 0;
    for (guint i = 0; i < p->tasks->len && err == PM_OK; i++) {
        struct contract *x = &g_array_index(p->tasks, struct contract, i);
        ptrdiff_t at = find_record(r, n, x->t.task);
        if (at < 0) {
            x->fresh = true; /* physmem does not know the task yet: later */
            continue;
        }
        bool change = x->fresh;
        if (!x->pending && x->target > x->written) {
            uint64_t grow = x->target - x->written;
            if (!as_asked)
                grow = grow < room ? grow : room;
            room -= as_asked ? 0 : grow;
            x->written += grow;
            change |= grow > 0;
        }
        pending += x->pending;
        change |= x->elig_written != x->t.extra || x->quota_written != x->t.swap_quota;
        if (!change)
            continue;
        struct pm_policy_fields f = {
            .guaranteed = &x->written, .eligible = &x->t.extra, .swap_quota = &x->t.swap_quota};
        if ((err = write_fields(&p->c, (size_t)at, &f)) == PM_OK) {
            x->fresh = false;
            x->elig_written = x->t.extra;
            x->quota_written = x->t.swap_quota;
            writes++;
        }
    }
    g_free(r);
    if (err == PM_OK && writes > 0)
        err = bump_epoch(&p->c);
    p->st.writes += (uint64_t)writes;
    p->st.pending = pending;
    p->st.reasks = p->c.reasks;
    p->st.tasks = p->tasks->len;
    p->st.committed = 0;
    for (guint i = 0; i < p->tasks->len; i++)
        p->st.committed += g_array_index(p->tasks, struct contract, i).written;
    return err == PM_OK ? writes : -err;
}

/* The kind's targets for everyone; shrinks start their grace period. */
static int recompute(pm_policy_t *p)
{
    struct pm_policy_header h;
    pm_error_t err = pm_policy_client_read(&p->c, &h, NULL, NULL);
    if (err != PM_OK)
        return -err;
    guint n = p->tasks->len;
    struct pm_policy_task *t = g_new(struct pm_policy_task, n ? n : 1);
    uint64_t *target = g_new(uint64_t, n ? n : 1);
    for (guint i = 0; i < n; i++)
        t[i] = g_array_index(p->tasks, struct contract, i).t;
    p->kind->targets(t, n, h.available, target);
    pm_time_t now = l4_system_clock(p->c.k);
    for (guint i = 0; i < n; i++) {
        struct contract *x = &g_array_index(p->tasks, struct contract, i);
        x->target = target[i];
        if (target[i] >= x->written) {
            x->pending = false;
        } else if (!x->pending || x->pend_g != target[i]) {
            if (!x->pending)
                x->pend_at = p->grace > UINT64_MAX - now ? UINT64_MAX : now + p->grace;
            x->pending = true;
            x->pend_g = target[i];
            notify_shrink(p, x);
        }
    }
    g_free(t);
    g_free(target);
    return apply(p);
}

pm_error_t pm_policy_add_tasks(pm_policy_t *p, const struct pm_policy_task *tasks, size_t n)
{
    if (tasks == NULL && n > 0)
        return PM_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (tasks[i].weight == 0 || tasks[i].weight > PM_POLICY_MAX_WEIGHT)
            return PM_EINVAL;
    /* A new contract starts from what the buffer says now (a successor
     * adopting control inherits its predecessor's guarantees: shrinking
     * them takes a grace period too). */
    struct pm_policy_header h;
    struct pm_policy_record *r = NULL;
    size_t nr = 0;
    pm_error_t err = pm_policy_client_read(&p->c, &h, &r, &nr);
    if (err != PM_OK)
        return err;
    for (size_t i = 0; i < n; i++) {
        struct contract *x = contract_of(p, tasks[i].task, NULL);
        if (x != NULL) {
            x->t = tasks[i];
            continue;
        }
        struct contract c = {.t = tasks[i], .fresh = true};
        ptrdiff_t at = find_record(r, nr, tasks[i].task);
        if (at >= 0) {
            c.written = r[at].guaranteed;
            c.elig_written = r[at].eligible != 0;
            c.quota_written = r[at].swap_quota;
            c.fresh = false;
        }
        g_array_append_val(p->tasks, c);
    }
    g_free(r);
    int done = recompute(p);
    return done < 0 ? -done : PM_OK;
}

pm_error_t pm_policy_add_task(pm_policy_t *p, const struct pm_policy_task *task)
{
    return pm_policy_add_tasks(p, task, 1);
}

pm_error_t pm_policy_remove_task(pm_policy_t *p, l4_task_t task)
{
    guint at;
    if (contract_of(p, task, &at) == NULL)
        return PM_ESRCH;
    g_array_remove_index(p->tasks, at);
    /* If physmem still has its record, its G goes now (not left in force
     * to be shared out twice); ESRCH: the task is gone already. */
    uint64_t zero = 0;
    struct pm_policy_fields f = {.guaranteed = &zero};
    pm_error_t err = pm_policy_client_set(&p->c, task, &f);
    if (err != PM_OK && err != PM_ESRCH)
        return err;
    int r = recompute(p);
    return r < 0 ? -r : PM_OK;
}

int pm_policy_tick(pm_policy_t *p)
{
    bool due = false;
    pm_time_t now = l4_system_clock(p->c.k);
    for (guint i = 0; i < p->tasks->len; i++) {
        const struct contract *x = &g_array_index(p->tasks, struct contract, i);
        due |= (x->pending && x->pend_at <= now) || (!x->pending && x->target > x->written) ||
               x->fresh;
    }
    return due ? apply(p) : 0;
}

void pm_policy_stats(const pm_policy_t *p, struct pm_policy_stats *out)
{
    *out = p->st;
    out->reasks = p->c.reasks;
}

uint64_t pm_policy_written(const pm_policy_t *p, l4_task_t task)
{
    for (guint i = 0; i < p->tasks->len; i++) {
        const struct contract *x = &g_array_index(p->tasks, struct contract, i);
        if (x->t.task == task)
            return x->written;
    }
    return 0;
}
