/* anon_pager.c — the minimal zero-fill pager (see pmsim/anon_pager.h). */
#include <stdlib.h>

#include "pmsim/anon_pager.h"

static pm_error_t on_fault(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                           const l4_msg_t *msg, l4_msg_t *reply)
{
    struct sim_anon_pager *p = ctx;
    if ((l4_msg_label(msg) & 0xFFF0u) != L4_LABEL_PAGEFAULT)
        return PM_EINVAL;
    uint64_t addr = l4_msg_word(msg, 0);
    unsigned shift = l4_page_shift(k);
    uint64_t page = addr & ~(((uint64_t)1 << shift) - 1);
    if (l4_lookup(k, l4_thread_task(k, from), page, NULL, NULL) == PM_OK) {
        p->refused++; /* mapped already: a protection fault */
        return PM_EFAULT;
    }
    if (p->nframes == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 64;
        pm_pfn_t *nf = realloc(p->frames, ncap * sizeof *nf);
        if (nf == NULL)
            return PM_ENOMEM;
        p->frames = nf;
        p->cap = ncap;
    }
    pm_pfn_t pfn;
    pm_error_t err = pm_pool_alloc(p->pool, 0, PM_POOL_ZERO, &pfn);
    if (err != PM_OK) {
        p->refused++;
        return err;
    }
    p->frames[p->nframes++] = pfn;
    l4_msg_put_item(reply, L4_ITEM_MAP, l4_fpage((uint64_t)pfn.n << shift, shift, p->rights), page);
    p->faults++;
    return PM_OK;
}

pm_error_t sim_anon_pager_init(struct sim_anon_pager *p, l4_kernel_t *k, pm_pool_t *pool)
{
    *p = (struct sim_anon_pager){.k = k, .pool = pool, .rights = L4_RW};
    pm_error_t err = l4_thread_create(k, L4_ROOT_TASK, &p->thread);
    if (err == PM_OK)
        err = l4_thread_set_handler(k, p->thread, on_fault, p);
    return err;
}

void sim_anon_pager_fini(struct sim_anon_pager *p)
{
    for (size_t i = 0; i < p->nframes; i++)
        (void)pm_pool_release(p->pool, p->frames[i], 0);
    free(p->frames);
    p->frames = NULL;
    p->nframes = p->cap = 0;
}
