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
};

static struct mapnode *translate(l4_kernel_t *k, struct space *s, uint64_t vpage)
{
    if (s->tlb_node != NULL && s->tlb_vpage == vpage)
        return s->tlb_node;
    struct mapnode *n = l4__lookup(k, s, vpage, true);
    if (n != NULL) {
        s->tlb_vpage = vpage;
        s->tlb_node = n;
    }
    return n;
}

static enum l4_fault_cause cause_of(const struct mapnode *n, enum l4_access_kind kind)
{
    if (n == NULL)
        return L4_FAULT_MISSING;
    return kind == L4_ACCESS_WRITE  ? L4_FAULT_WRITE
           : kind == L4_ACCESS_EXEC ? L4_FAULT_EXEC
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

pm_error_t l4_access(l4_kernel_t *k, l4_thread_t thread, enum l4_access_kind kind, uint64_t vaddr,
                     void *buf, size_t len, size_t *done)
{
    struct thread *t = l4__thread(k, thread);
    if (t == NULL)
        return PM_ESRCH;
    if ((unsigned)kind > L4_ACCESS_EXEC || (buf == NULL && len > 0) || vaddr > L4_VADDR_LIMIT ||
        len > L4_VADDR_LIMIT - vaddr)
        return PM_EINVAL;
    l4_task_t task = t->task;
    struct space *s = l4__space(k, task);
    unsigned need = need_rights[kind];
    unsigned char *p = buf;
    size_t pos = 0;
    pm_error_t err = PM_OK;
    k->st.accesses++;
    s->st.accesses++;

    while (pos < len) {
        uint64_t va = vaddr + pos, vpage = va >> k->shift;
        size_t off = (size_t)(va & (k->page_size - 1));
        size_t chunk = k->page_size - off;
        if (chunk > len - pos)
            chunk = len - pos;
        struct mapnode *n = translate(k, s, vpage);
        for (unsigned round = 0; n == NULL || (n->rights & need) == 0; round++) {
            if (round == L4_FAULT_ROUNDS ||
                fault(k, thread, s, va, cause_of(n, kind), need) != PM_OK) {
                err = PM_EFAULT;
                break;
            }
            /* The pager may have killed the task. */
            s = l4__space(k, task);
            if (s == NULL || l4__thread(k, thread) == NULL) {
                err = PM_EFAULT;
                break;
            }
            n = translate(k, s, vpage);
        }
        if (err != PM_OK)
            break;
        unsigned char *mem = k->phys + ((size_t)n->pfn << k->shift) + off;
        if (kind == L4_ACCESS_WRITE)
            memcpy(mem, p + pos, chunk);
        else
            memcpy(p + pos, mem, chunk);
        pos += chunk;
    }

    size_t bytes = pos;
    if (kind == L4_ACCESS_WRITE)
        k->st.bytes_written += bytes;
    else
        k->st.bytes_read += bytes;
    if (s != NULL) {
        if (kind == L4_ACCESS_WRITE)
            s->st.bytes_written += bytes;
        else
            s->st.bytes_read += bytes;
    }
    if (err != PM_OK) {
        k->st.faults_unresolved++;
        if (s != NULL)
            s->st.faults_unresolved++;
        struct l4_event ev = {
            .kind = L4_EV_EFAULT,
            .time = k->now,
            .task = task,
            .vaddr = vaddr + pos,
            .rights = need,
            .pages = 0,
        };
        l4__emit(k, &ev);
    }
    if (done != NULL)
        *done = pos;
    return err;
}
