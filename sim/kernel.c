/* kernel.c — the simulated L4 kernel: tasks, threads, IPC, unmap, clock.
 *
 * Tasks and threads live in arrays indexed by their ids; ids are never
 * reused, so a stale id finds a dead entry and gets ESRCH rather than a new
 * task.  IPC is synchronous and runs in the caller's host thread: a call runs
 * the receiver's handler at once.  Typed items are checked in full before
 * the first one is carried out, so a malformed message changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_priv.h"

struct space *l4__space(const l4_kernel_t *k, l4_task_t task)
{
    if (task == L4_NILTASK || task >= k->nspaces)
        return NULL;
    struct space *s = k->spaces[task];
    return s != NULL && s->alive ? s : NULL;
}

struct thread *l4__thread(const l4_kernel_t *k, l4_thread_t thread)
{
    if (thread == L4_NILTHREAD || thread >= k->nthreads)
        return NULL;
    struct thread *t = &k->threads[thread];
    return t->alive ? t : NULL;
}

void l4__emit(l4_kernel_t *k, const struct l4_event *ev)
{
    if (k->hook != NULL)
        k->hook(k->hook_ctx, ev);
}

static bool valid_page_size(size_t ps)
{
    return ps >= 4096 && (ps & (ps - 1)) == 0;
}

pm_error_t l4_kernel_new(const struct l4_kernel_config *cfg, l4_kernel_t **out)
{
    if (cfg == NULL || out == NULL || cfg->phys_base == NULL || cfg->frames == 0 ||
        !valid_page_size(cfg->page_size) || cfg->map_items > L4_MSG_MAX_ITEMS ||
        (cfg->host_mmu && cfg->host_memfd < 0))
        return PM_EINVAL;
    unsigned shift = (unsigned)__builtin_ctzll(cfg->page_size);
    if (shift > 30 || ((uint64_t)cfg->frames << shift) > L4_VADDR_LIMIT)
        return PM_EINVAL;
    l4_kernel_t *k = calloc(1, sizeof *k);
    if (k == NULL)
        return PM_ENOMEM;
    k->phys = cfg->phys_base;
    k->host_mmu = cfg->host_mmu;
    k->host_memfd = cfg->host_memfd;
    k->page_size = cfg->page_size;
    k->shift = shift;
    k->frames = cfg->frames;
    k->map_items = cfg->map_items ? cfg->map_items : L4_DEFAULT_MAP_ITEMS;
    k->pt_levels = (L4_VADDR_BITS - shift + PT_BITS - 1) / PT_BITS;
    k->nspaces = 1; /* id 0 is no task */
    k->nthreads = 1;
    k->roots = calloc(cfg->frames, sizeof *k->roots);
    l4_task_t root = 0;
    if (k->roots == NULL || l4_task_create(k, &root) != PM_OK ||
        l4_thread_create(k, root, &k->root_thread) != PM_OK) {
        l4_kernel_free(k);
        return PM_ENOMEM;
    }
    *out = k;
    return PM_OK;
}

void l4_kernel_free(l4_kernel_t *k)
{
    if (k == NULL)
        return;
    for (uint32_t i = 1; i < k->nspaces; i++) {
        struct space *s = k->spaces[i];
        if (s == NULL)
            continue;
        if (s->alive)
            l4__space_clear(k, s);
        l4__space_free_pt(k, s);
        free(s);
    }
    if (k->roots != NULL) {
        for (uint32_t f = 0; f < k->frames; f++) {
            struct mapnode *r = k->roots[f];
            if (r != NULL) {
                /* Children are gone with their spaces. */
                free(r);
            }
        }
    }
    l4__nodes_free(k);
    l4__host_fini(k);
    free(k->roots);
    free(k->spaces);
    free(k->threads);
    free(k);
}

l4_thread_t l4_root_thread(const l4_kernel_t *k)
{
    return k->root_thread;
}
size_t l4_page_size(const l4_kernel_t *k)
{
    return k->page_size;
}
unsigned l4_page_shift(const l4_kernel_t *k)
{
    return k->shift;
}
unsigned l4_map_item_limit(const l4_kernel_t *k)
{
    return k->map_items;
}
pm_time_t l4_system_clock(const l4_kernel_t *k)
{
    return k->now;
}

void l4_clock_advance(l4_kernel_t *k, pm_time_t ns)
{
    k->now = ns > UINT64_MAX - k->now ? UINT64_MAX : k->now + ns;
}

pm_error_t l4_set_map_item_limit(l4_kernel_t *k, unsigned items)
{
    if (items == 0 || items > L4_MSG_MAX_ITEMS)
        return PM_EINVAL;
    k->map_items = items;
    return PM_OK;
}

/* Grow *ARR (of *CAP elements of SIZE bytes) to hold at least NEED. */
static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return true;
    if (need == UINT32_MAX)
        return false;
    uint32_t ncap = *cap ? *cap : 8;
    while (ncap < need)
        ncap = ncap > UINT32_MAX / 2 ? UINT32_MAX : ncap * 2;
    void *p = realloc(*arr, (size_t)ncap * size);
    if (p == NULL)
        return false;
    memset((char *)p + (size_t)*cap * size, 0, (size_t)(ncap - *cap) * size);
    *arr = p;
    *cap = ncap;
    return true;
}

pm_error_t l4_task_create(l4_kernel_t *k, l4_task_t *out)
{
    void *arr = k->spaces;
    if (!grow(&arr, &k->cap_spaces, k->nspaces + 1, sizeof *k->spaces))
        return PM_ENOMEM;
    k->spaces = arr;
    struct space *s = calloc(1, sizeof *s);
    if (s == NULL)
        return PM_ENOMEM;
    s->id = k->nspaces;
    s->alive = true;
    k->spaces[k->nspaces++] = s;
    *out = s->id;
    return PM_OK;
}

pm_error_t l4_task_delete(l4_kernel_t *k, l4_task_t task)
{
    struct space *s = l4__space(k, task);
    if (s == NULL || task == L4_ROOT_TASK)
        return PM_ESRCH;
    l4__space_clear(k, s);
    l4__space_free_pt(k, s);
    s->alive = false;
    for (uint32_t t = 1; t < k->nthreads; t++)
        if (k->threads[t].task == task)
            k->threads[t].alive = false;
    return PM_OK;
}

bool l4_task_exists(const l4_kernel_t *k, l4_task_t task)
{
    return l4__space(k, task) != NULL;
}

pm_error_t l4_thread_create(l4_kernel_t *k, l4_task_t task, l4_thread_t *out)
{
    if (l4__space(k, task) == NULL)
        return PM_ESRCH;
    void *arr = k->threads;
    if (!grow(&arr, &k->cap_threads, k->nthreads + 1, sizeof *k->threads))
        return PM_ENOMEM;
    k->threads = arr;
    struct thread *t = &k->threads[k->nthreads];
    memset(t, 0, sizeof *t);
    t->task = task;
    t->alive = true;
    *out = k->nthreads++;
    return PM_OK;
}

l4_task_t l4_thread_task(const l4_kernel_t *k, l4_thread_t thread)
{
    struct thread *t = l4__thread(k, thread);
    return t ? t->task : L4_NILTASK;
}

pm_error_t l4_thread_set_pager(l4_kernel_t *k, l4_thread_t thread, l4_thread_t pager)
{
    struct thread *t = l4__thread(k, thread);
    if (t == NULL || (pager != L4_NILTHREAD && l4__thread(k, pager) == NULL))
        return PM_ESRCH;
    t->pager = pager;
    return PM_OK;
}

pm_error_t l4_thread_set_handler(l4_kernel_t *k, l4_thread_t thread, l4_handler_fn fn, void *ctx)
{
    struct thread *t = l4__thread(k, thread);
    if (t == NULL)
        return PM_ESRCH;
    t->handler = fn;
    t->handler_ctx = ctx;
    return PM_OK;
}

/* ---- sending typed items ---------------------------------------------- */

/* Check every typed item of MSG sent from task FROM.  Nothing changes. */
static pm_error_t check_items(const l4_kernel_t *k, l4_task_t from, const l4_msg_t *msg)
{
    unsigned u = l4_msg_untyped(msg), t = (unsigned)(msg->mr[0] >> 6) & 0x3F;
    if ((t & 1) != 0 || 1 + u + t > L4_MSG_MRS)
        return PM_EINVAL;
    for (unsigned i = 0; i < t / 2; i++) {
        enum l4_item_kind kind;
        l4_fpage_t fp;
        uint64_t base;
        l4_msg_item(msg, i, &kind, &fp, &base);
        if (kind != L4_ITEM_MAP && kind != L4_ITEM_GRANT)
            return PM_EINVAL;
        if (!l4_fpage_valid(fp, k->shift))
            return PM_EINVAL;
        uint64_t size = l4_fpage_size(fp);
        if ((base & (size - 1)) != 0 || base > L4_VADDR_LIMIT - size)
            return PM_EINVAL;
        if (kind == L4_ITEM_GRANT && from == L4_ROOT_TASK &&
            l4_fpage_base(fp) < ((uint64_t)k->frames << k->shift))
            return PM_EINVAL; /* the roots are permanent */
    }
    return PM_OK;
}

/* Carry out one checked item from space S to space R. */
static pm_error_t do_item(l4_kernel_t *k, struct space *s, struct space *r, enum l4_item_kind kind,
                          l4_fpage_t fp, uint64_t base, uint64_t tag)
{
    uint64_t npages = l4_fpage_size(fp) >> k->shift;
    uint64_t svp = l4_fpage_base(fp) >> k->shift, dvp = base >> k->shift;
    unsigned rights = l4_fpage_rights(fp);
    uint64_t pages = 0;
    pm_error_t err = PM_OK;
    l4__host_begin(k);
    for (uint64_t i = 0; err == PM_OK; i++) {
        /* Skip the holes of a sparse sender quickly (a one-page item
         * needs no search: the lookup says). */
        if (npages > 1)
            i = l4__next_mapped(k, s, svp + i, svp + npages) - svp;
        if (i >= npages)
            break;
        struct mapnode *src = l4__lookup(k, s, svp + i, true);
        if (src == NULL)
            continue;
        bool changed = false;
        err = kind == L4_ITEM_MAP ? l4__map_page(k, src, r, dvp + i, rights, tag + i, &changed)
                                  : l4__grant_page(k, src, r, dvp + i, rights, &changed);
        pages += changed;
    }
    l4__host_end(k);
    k->st.typed_items++;
    if (kind == L4_ITEM_MAP)
        k->st.map_items++;
    else
        k->st.grant_items++;
    if (k->hook != NULL) { /* no event to build for nobody */
        struct l4_event ev = {
            .kind = kind == L4_ITEM_MAP ? L4_EV_MAP : L4_EV_GRANT,
            .time = k->now,
            .task = r->id,
            .from = s->id,
            .vaddr = base,
            .size = l4_fpage_size(fp),
            .rights = rights,
            .pages = pages,
        };
        l4__emit(k, &ev);
    }
    return err;
}

/* Carry out the items of a checked message, up to the item limit. */
static pm_error_t carry(l4_kernel_t *k, l4_task_t from, l4_task_t to, const l4_msg_t *msg,
                        const uint64_t *tags, unsigned *items_sent)
{
    unsigned n = l4_msg_items(msg), sent = 0;
    if (n == 0) {
        /* Nothing to carry (a fault, most replies). */
        if (items_sent != NULL)
            *items_sent = 0;
        return PM_OK;
    }
    struct space *s = l4__space(k, from), *r = l4__space(k, to);
    if (s == NULL || r == NULL)
        return PM_ESRCH;
    pm_error_t err = PM_OK;
    if (n > k->map_items)
        n = k->map_items;
    for (; sent < n && err == PM_OK; sent++) {
        enum l4_item_kind kind;
        l4_fpage_t fp;
        uint64_t base;
        l4_msg_item(msg, sent, &kind, &fp, &base);
        err = do_item(k, s, r, kind, fp, base, tags != NULL ? tags[sent] : 0);
    }
    if (items_sent != NULL)
        *items_sent = sent;
    return err;
}

pm_error_t l4_send(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                   unsigned *items_sent)
{
    return l4_send_tagged(k, from, to, msg, NULL, items_sent);
}

pm_error_t l4_send_tagged(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                          const uint64_t *tags, unsigned *items_sent)
{
    struct thread *f = l4__thread(k, from), *t = l4__thread(k, to);
    if (f == NULL || t == NULL)
        return PM_ESRCH;
    pm_error_t err = check_items(k, f->task, msg);
    if (err != PM_OK)
        return err;
    k->st.ipcs++;
    return carry(k, f->task, t->task, msg, tags, items_sent);
}

/* A message to a receiving thread: FROM's items carried out into TO's
 * space, then TO's handler run with it (*RAN), its answer in *R. */
static pm_error_t deliver(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                          l4_msg_t *r, bool *ran)
{
    *ran = false;
    struct thread *f = l4__thread(k, from), *t = l4__thread(k, to);
    if (f == NULL || t == NULL || t->handler == NULL)
        return PM_ESRCH;
    pm_error_t err = check_items(k, f->task, msg);
    if (err != PM_OK)
        return err;
    k->st.ipcs++;
    err = carry(k, f->task, t->task, msg, NULL, NULL);
    if (err != PM_OK)
        return err;
    l4_msg_init(r, 0);
    *ran = true;
    return t->handler(t->handler_ctx, k, to, from, msg, r);
}

pm_error_t l4__call(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                    l4_msg_t *reply)
{
    l4_msg_t r;
    bool ran;
    pm_error_t err = deliver(k, from, to, msg, &r, &ran);
    if (!ran)
        return err; /* nobody received it: no reply either */
    k->st.ipcs++;   /* the reply */
    /* The handler may have created threads (moving the array) or deleted
     * either task; a reply to the dead goes nowhere. */
    struct thread *f = l4__thread(k, from), *t = l4__thread(k, to);
    if (err == PM_OK && f != NULL && t != NULL) {
        err = check_items(k, t->task, &r);
        if (err == PM_OK)
            err = carry(k, t->task, f->task, &r, NULL, NULL);
    }
    if (err == PM_OK && reply != NULL)
        *reply = r;
    return err;
}

pm_error_t l4_call(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                   l4_msg_t *reply)
{
    return l4__call(k, from, to, msg, reply);
}

pm_error_t l4_send_async(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg)
{
    l4_msg_t r; /* the answer goes nowhere: nobody waits for it */
    bool ran;
    return deliver(k, from, to, msg, &r, &ran);
}

/* ---- unmap ------------------------------------------------------------ */

/* The work of l4_unmap and l4_unmap_tagged: visit the caller's mapped pages
 * in FPAGE; TAGGED restricts it to direct descendants with TAG + index. */
static pm_error_t unmap_common(l4_kernel_t *k, l4_thread_t caller, l4_fpage_t fpage, unsigned flags,
                               bool tagged, uint64_t tag, uint64_t *pages_changed)
{
    struct thread *t = l4__thread(k, caller);
    if (t == NULL)
        return PM_ESRCH;
    if (!l4_fpage_valid(fpage, k->shift) || (flags & ~(unsigned)L4_UNMAP_FLUSH) != 0)
        return PM_EINVAL;
    struct space *s = l4__space(k, t->task);
    unsigned mask = l4_fpage_rights(fpage);
    uint64_t vp = l4_fpage_base(fpage) >> k->shift;
    uint64_t npages = l4_fpage_size(fpage) >> k->shift, changed = 0;
    k->st.unmaps++;
    if (mask != 0) {
        l4__host_begin(k);
        for (uint64_t i = 0;; i++) {
            if (npages > 1)
                i = l4__next_mapped(k, s, vp + i, vp + npages) - vp;
            if (i >= npages)
                break;
            struct mapnode *n = l4__lookup(k, s, vp + i, false);
            if (n == NULL)
                continue;
            changed += tagged ? l4__unmap_children_tagged(k, n, mask, tag + i)
                              : l4__unmap_page(k, n, mask, (flags & L4_UNMAP_FLUSH) != 0);
        }
        l4__host_end(k);
    }
    if (k->hook != NULL) { /* no event to build for nobody */
        struct l4_event ev = {
            .kind = L4_EV_UNMAP,
            .time = k->now,
            .task = t->task,
            .vaddr = l4_fpage_base(fpage),
            .size = l4_fpage_size(fpage),
            .rights = mask,
            .pages = changed,
        };
        l4__emit(k, &ev);
    }
    if (pages_changed != NULL)
        *pages_changed = changed;
    return PM_OK;
}

pm_error_t l4_unmap(l4_kernel_t *k, l4_thread_t caller, l4_fpage_t fpage, unsigned flags,
                    uint64_t *pages_changed)
{
    return unmap_common(k, caller, fpage, flags, false, 0, pages_changed);
}

pm_error_t l4_unmap_tagged(l4_kernel_t *k, l4_thread_t caller, l4_fpage_t fpage, uint64_t tag,
                           uint64_t *pages_changed)
{
    return unmap_common(k, caller, fpage, 0, true, tag, pages_changed);
}

/* ---- inspection and counters ------------------------------------------ */

pm_error_t l4_lookup(const l4_kernel_t *k, l4_task_t task, uint64_t vaddr, pm_pfn_t *pfn,
                     unsigned *rights)
{
    struct space *s = l4__space(k, task);
    if (s == NULL)
        return PM_ESRCH;
    if (vaddr >= L4_VADDR_LIMIT)
        return PM_ENOENT;
    uint64_t vp = vaddr >> k->shift;
    struct mapnode *n;
    if (task == L4_ROOT_TASK && vp < k->frames) {
        /* Root mappings always exist, made or not. */
        if (pfn != NULL)
            *pfn = PM_PFN(vp);
        if (rights != NULL)
            *rights = L4_RWX;
        return PM_OK;
    }
    n = l4__lookup((l4_kernel_t *)k, s, vp, false);
    if (n == NULL)
        return PM_ENOENT;
    if (pfn != NULL)
        *pfn = PM_PFN(n->pfn);
    if (rights != NULL)
        *rights = n->rights;
    return PM_OK;
}

size_t l4_mappings_of(const l4_kernel_t *k, pm_pfn_t pfn,
                      void (*fn)(void *ctx, const struct l4_mapping_info *m), void *ctx)
{
    if (pfn.n >= k->frames || k->roots[pfn.n] == NULL)
        return 0;
    const struct mapnode *top = k->roots[pfn.n], *cur = top->child;
    size_t count = 0;
    unsigned depth = 1;
    while (cur != NULL) {
        count++;
        if (fn != NULL) {
            struct l4_mapping_info m = {
                .task = cur->task,
                .vaddr = cur->vpage << k->shift,
                .rights = cur->rights,
                .depth = depth,
                .tag = cur->tag,
            };
            fn(ctx, &m);
        }
        if (cur->child != NULL) {
            cur = cur->child;
            depth++;
            continue;
        }
        while (cur != top && cur->next == NULL) {
            cur = cur->parent;
            depth--;
        }
        cur = cur == top ? NULL : cur->next;
    }
    return count;
}

void l4_stats(const l4_kernel_t *k, struct l4_stats *out)
{
    *out = k->st;
}

pm_error_t l4_task_stats(const l4_kernel_t *k, l4_task_t task, struct l4_task_stats *out)
{
    struct space *s = l4__space(k, task);
    if (s == NULL)
        return PM_ESRCH;
    *out = s->st;
    return PM_OK;
}

void l4_set_event_hook(l4_kernel_t *k, l4_event_fn fn, void *ctx)
{
    k->hook = fn;
    k->hook_ctx = ctx;
}

const char *l4_event_kind_name(enum l4_event_kind kind)
{
    static const char *const names[] = {
        [L4_EV_MAP] = "map",     [L4_EV_GRANT] = "grant",   [L4_EV_UNMAP] = "unmap",
        [L4_EV_FAULT] = "fault", [L4_EV_EFAULT] = "efault",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

const char *l4_fault_cause_name(enum l4_fault_cause cause)
{
    static const char *const names[] = {
        [L4_FAULT_MISSING] = "missing",
        [L4_FAULT_READ] = "read",
        [L4_FAULT_WRITE] = "write",
        [L4_FAULT_EXEC] = "exec",
    };
    return (unsigned)cause < L4_FAULT_NCAUSES ? names[cause] : "?";
}

void l4_event_details(const struct l4_event *ev, const char *from, char *buf, size_t len)
{
    char r[4] = {ev->rights & L4_R ? 'r' : '-', ev->rights & L4_W ? 'w' : '-',
                 ev->rights & L4_X ? 'x' : '-', '\0'};
    unsigned long long va = ev->vaddr, size = ev->size, pages = ev->pages;
    switch (ev->kind) {
    case L4_EV_MAP:
    case L4_EV_GRANT:
        snprintf(buf, len, " from %s  0x%llx +%llu rights %s  pages %llu", from, va, size, r,
                 pages);
        break;
    case L4_EV_UNMAP:
        snprintf(buf, len, " 0x%llx +%llu revoke %s  pages %llu", va, size, r, pages);
        break;
    case L4_EV_FAULT:
        snprintf(buf, len, " 0x%llx cause %s", va, l4_fault_cause_name(ev->cause));
        break;
    case L4_EV_EFAULT:
        snprintf(buf, len, " 0x%llx unresolved (EFAULT)", va);
        break;
    default:
        snprintf(buf, len, "%s", "");
        break;
    }
}
