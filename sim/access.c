/* access.c — simulated loads and stores, and page faults.
 *
 * An access walks the task's page table page by page and copies real bytes
 * to or from the pool.  The hit path is a one-entry translation cache per
 * address space, then the radix walk.  A page without the needed right
 * raises a fault: the kernel sends the pager the X.2 fault message (label
 * -2 << 4 | rwx, the address, the instruction pointer, which is 0 here) as a
 * call on the faulting thread's behalf, carries out the reply's items, and
 * retries.  A fault costs two IPCs (fault and reply). */
#include <string.h>

#include "kernel_priv.h"

static const unsigned need_rights[] = {
    [L4_ACCESS_READ] = L4_R,
    [L4_ACCESS_WRITE] = L4_W,
    [L4_ACCESS_EXEC] = L4_X,
    [L4_ACCESS_TOUCH] = L4_W,
};

/* Where the bytes of N's page are: its real host mapping (the host-MMU
 * back end: loads and stores go through the host's MMU), or the physical
 * frame in the pool. */
static unsigned char *page_mem(const l4_kernel_t *k, const struct mapnode *n)
{
    return n->host != NULL ? n->host : k->phys + ((size_t)n->pfn << k->shift);
}

static struct mapnode *translate(l4_kernel_t *k, struct space *s, uint64_t vpage)
{
    unsigned e = (unsigned)vpage & (TLB_ENTRIES - 1);
    if (s->tlb[e].node != NULL && s->tlb[e].vpage == vpage)
        return s->tlb[e].node;
    struct mapnode *n = l4__lookup(k, s, vpage, true);
    if (n != NULL) {
        s->tlb[e].vpage = vpage;
        s->tlb[e].node = n;
    }
    return n;
}

static enum l4_fault_cause cause_of(const struct mapnode *n, enum l4_access_kind kind)
{
    if (n == NULL)
        return L4_FAULT_MISSING;
    return kind == L4_ACCESS_WRITE || kind == L4_ACCESS_TOUCH ? L4_FAULT_WRITE
           : kind == L4_ACCESS_EXEC                           ? L4_FAULT_EXEC
                                                              : L4_FAULT_READ;
}

/* Raise one fault for THREAD at VADDR and let its pager answer.  Returns 0
 * when the pager replied normally (the caller retries), else EFAULT. */
static pm_error_t fault(l4_kernel_t *k, l4_thread_t thread, struct space *s, uint64_t vaddr,
                        enum l4_fault_cause cause, unsigned need)
{
    k->st.faults++;
    k->st.faults_by_cause[cause]++;
    s->st.faults++;
    if (k->hook != NULL) { /* no event to build for nobody */
        struct l4_event ev = {
            .kind = L4_EV_FAULT,
            .time = k->now,
            .task = s->id,
            .vaddr = vaddr,
            .rights = need,
            .pages = 1,
            .cause = cause,
        };
        l4__emit(k, &ev);
    }

    struct thread *t = l4__thread(k, thread);
    l4_thread_t pager = t->pager;
    l4_msg_t msg;
    l4_msg_init(&msg, (uint16_t)(L4_LABEL_PAGEFAULT | need));
    l4_msg_put_word(&msg, vaddr);
    l4_msg_put_word(&msg, 0);
    if (pager == L4_NILTHREAD || l4__call(k, thread, pager, &msg, NULL) != PM_OK)
        return PM_EFAULT;
    return PM_OK;
}

/* The mapping of VADDR for THREAD with the rights KIND needs, raising
 * faults until the pager resolves it.  NULL means EFAULT.  *S is refreshed
 * (the pager may have deleted the task: then *S is NULL). */
static struct mapnode *resolve(l4_kernel_t *k, l4_thread_t thread, l4_task_t task, struct space **s,
                               uint64_t va, enum l4_access_kind kind)
{
    unsigned need = need_rights[kind];
    uint64_t vpage = va >> k->shift;
    struct mapnode *n = translate(k, *s, vpage);
    for (unsigned round = 0; n == NULL || (n->rights & need) == 0; round++) {
        if (round == L4_FAULT_ROUNDS || fault(k, thread, *s, va, cause_of(n, kind), need) != PM_OK)
            return NULL;
        /* The pager may have killed the task. */
        *s = l4__space(k, task);
        if (*s == NULL || l4__thread(k, thread) == NULL)
            return NULL;
        n = translate(k, *s, vpage);
    }
    return n;
}

/* Count bytes moved and report an access given up. */
static void account(l4_kernel_t *k, struct space *s, l4_task_t task, uint64_t read,
                    uint64_t written, pm_error_t err, uint64_t at, unsigned need)
{
    k->st.bytes_read += read;
    k->st.bytes_written += written;
    if (s != NULL) {
        s->st.bytes_read += read;
        s->st.bytes_written += written;
    }
    if (err != PM_OK) {
        k->st.faults_unresolved++;
        if (s != NULL)
            s->st.faults_unresolved++;
        if (k->hook != NULL) { /* no event to build for nobody */
            struct l4_event ev = {
                .kind = L4_EV_EFAULT,
                .time = k->now,
                .task = task,
                .vaddr = at,
                .rights = need,
            };
            l4__emit(k, &ev);
        }
    }
}

pm_error_t l4_access(l4_kernel_t *k, l4_thread_t thread, enum l4_access_kind kind, uint64_t vaddr,
                     void *buf, size_t len, size_t *done)
{
    struct thread *t = l4__thread(k, thread);
    if (t == NULL)
        return PM_ESRCH;
    if ((unsigned)kind > L4_ACCESS_TOUCH || (buf == NULL && len > 0 && kind != L4_ACCESS_TOUCH) ||
        vaddr > L4_VADDR_LIMIT || len > L4_VADDR_LIMIT - vaddr)
        return PM_EINVAL;
    l4_task_t task = t->task;
    struct space *s = l4__space(k, task);
    unsigned char *p = buf;
    size_t pos = 0;
    pm_error_t err = PM_OK;
    k->st.accesses++;
    s->st.accesses++;
    while (pos < len) {
        uint64_t va = vaddr + pos;
        size_t off = (size_t)(va & (k->page_size - 1));
        size_t chunk = k->page_size - off;
        if (chunk > len - pos)
            chunk = len - pos;
        struct mapnode *n = resolve(k, thread, task, &s, va, kind);
        if (n == NULL) {
            err = PM_EFAULT;
            break;
        }
        if (kind == L4_ACCESS_TOUCH) {
            pos += chunk; /* the bytes stay as they are */
            continue;
        }
        unsigned char *mem = page_mem(k, n) + off;
        unsigned char *dst = kind == L4_ACCESS_WRITE ? mem : p + pos;
        const unsigned char *src = kind == L4_ACCESS_WRITE ? p + pos : mem;
        if (chunk == 1)
            *dst = *src; /* a reference of an access stream: no library call */
        else if (chunk == 8)
            memcpy(dst, src, 8); /* a constant size: inlined */
        else
            memcpy(dst, src, chunk);
        pos += chunk;
    }
    bool w = kind == L4_ACCESS_WRITE || kind == L4_ACCESS_TOUCH;
    account(k, s, task, w ? 0 : pos, w ? pos : 0, err, vaddr + pos, need_rights[kind]);
    if (done != NULL)
        *done = pos;
    return err;
}

pm_error_t l4_copy(l4_kernel_t *k, l4_thread_t thread, uint64_t dst, uint64_t src, size_t len,
                   size_t *done)
{
    struct thread *t = l4__thread(k, thread);
    if (t == NULL)
        return PM_ESRCH;
    if (src > L4_VADDR_LIMIT || len > L4_VADDR_LIMIT - src || dst > L4_VADDR_LIMIT ||
        len > L4_VADDR_LIMIT - dst)
        return PM_EINVAL;
    l4_task_t task = t->task;
    struct space *s = l4__space(k, task);
    size_t pos = 0;
    pm_error_t err = PM_OK;
    uint64_t at = src;
    unsigned need = L4_R;
    k->st.accesses++;
    s->st.accesses++;
    while (pos < len) {
        size_t so = (size_t)((src + pos) & (k->page_size - 1));
        size_t dof = (size_t)((dst + pos) & (k->page_size - 1));
        size_t chunk = k->page_size - (so > dof ? so : dof);
        if (chunk > len - pos)
            chunk = len - pos;
        struct mapnode *from = resolve(k, thread, task, &s, src + pos, L4_ACCESS_READ);
        if (from == NULL) {
            err = PM_EFAULT;
            at = src + pos;
            break;
        }
        uint64_t faults = k->st.faults;
        struct mapnode *to = resolve(k, thread, task, &s, dst + pos, L4_ACCESS_WRITE);
        if (to == NULL) {
            err = PM_EFAULT;
            at = dst + pos;
            need = L4_W;
            break;
        }
        /* A fault on the destination may have changed the source's mapping
         * (a pager that maps one over the other): then look again. */
        if (k->st.faults != faults &&
            (from = resolve(k, thread, task, &s, src + pos, L4_ACCESS_READ)) == NULL) {
            err = PM_EFAULT;
            at = src + pos;
            break;
        }
        /* Extend the piece over following pages that are contiguous in
         * physical memory on both sides (frames bound as one aligned run
         * are): one memmove for the lot, each page still translated and
         * checked, never faulted (a missing page ends the piece). */
        uint32_t pf = from->pfn, pt = to->pfn;
        while (pos + chunk < len && so == dof && !k->host_mmu) {
            size_t more = len - pos - chunk < k->page_size ? len - pos - chunk : k->page_size;
            uint64_t vs = (src + pos + chunk) >> k->shift, vd = (dst + pos + chunk) >> k->shift;
            struct mapnode *ns = translate(k, s, vs), *nd = translate(k, s, vd);
            if (ns == NULL || nd == NULL || !(ns->rights & L4_R) || !(nd->rights & L4_W) ||
                ns->pfn != pf + 1 || nd->pfn != pt + 1)
                break;
            pf++;
            pt++;
            chunk += more;
        }
        memmove(page_mem(k, to) + dof, page_mem(k, from) + so, chunk);
        pos += chunk;
    }
    account(k, s, task, pos, pos, err, at, need);
    if (done != NULL)
        *done = pos;
    return err;
}
