/* check.c — the invariant checker (SPEC §12), as far as physmem can see.
 *
 * It recomputes from the containers what the counters claim — allocated
 * totals, group sizes, the groups naming each physical frame — compares
 * them, then asks the kernel (through l4.h's inspection interface) for
 * every mapping of every physical frame physmem holds: each mapping made
 * straight from physmem's roots must carry the tag of a live capability
 * and of a frame that still names that physical frame, and no mapping of a
 * copy-on-write frame may be writable; a lease that holds belongs to a live
 * task.  It reports; it never aborts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "physmem_priv.h"

struct checker {
    const pm_physmem_t *pm;
    void (*report)(void *ctx, const char *problem);
    void *ctx;
    size_t problems;
    uint32_t pfn; /* the frame whose mappings are being looked at */
    bool cow;
};

static void problem(struct checker *ck, const char *fmt, ...)
{
    ck->problems++;
    if (ck->report == NULL)
        return;
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ck->report(ck->ctx, buf);
}

static void check_mapping(void *ctx, const struct l4_mapping_info *m)
{
    struct checker *ck = ctx;
    const pm_physmem_t *pm = ck->pm;
    if (ck->cow && (m->rights & L4_W))
        problem(ck, "task %u maps copy-on-write frame %u writable at 0x%llx", m->task, ck->pfn,
                (unsigned long long)m->vaddr);
    if (m->depth != 1)
        return; /* derived by tasks from physmem's mappings: checked through those */
    uint32_t gen = (uint32_t)(m->tag >> 32);
    frame_t f = (frame_t)m->tag;
    const struct cap *cap = g_hash_table_lookup(pm->caps, GUINT_TO_POINTER(gen));
    if (cap == NULL) {
        problem(ck, "task %u maps frame %u at 0x%llx through a dead capability (generation %u)",
                m->task, ck->pfn, (unsigned long long)m->vaddr, gen);
        return;
    }
    uint32_t v = pm__slot(cap->c, f);
    if (v == 0 || pm->groups[SLOT_GROUP(v)].pfn != ck->pfn)
        problem(ck,
                "task %u maps frame %u at 0x%llx for container %u frame %u, which no longer "
                "names it",
                m->task, ck->pfn, (unsigned long long)m->vaddr, cap->c->id, f);
}

/* The policy buffer is mapped by the control capability's holder alone. */
static void check_buffer_mapping(void *ctx, const struct l4_mapping_info *m)
{
    struct checker *ck = ctx;
    if (m->task != ck->pm->control_holder)
        problem(ck, "task %u maps frame %u of the policy buffer at 0x%llx without holding control",
                m->task, ck->pfn, (unsigned long long)m->vaddr);
}

size_t pm_check(const pm_physmem_t *pm, void (*report)(void *ctx, const char *problem), void *ctx)
{
    struct checker ck = {.pm = pm, .report = report, .ctx = ctx};

    /* Accounting. */
    uint64_t sum_g = 0, sum_a = 0;
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *t = g_ptr_array_index(pm->tasks, i);
        if (t == NULL)
            continue;
        sum_g += t->guaranteed;
        sum_a += t->allocated;
    }
    uint64_t avail = pm__available(pm);
    if (pm->guarantees && sum_g > avail)
        problem(&ck, "guarantees in force over-commit the pool: sum of G %llu > %llu frames",
                (unsigned long long)sum_g, (unsigned long long)avail);
    if (pm->buf.exists && pm->buf.committed > avail)
        problem(&ck,
                "the policy server over-commits: it guarantees %llu frames, %llu are available "
                "(guarantees past them are not honoured)",
                (unsigned long long)pm->buf.committed, (unsigned long long)avail);
    if (sum_a != pm->total_allocated)
        problem(&ck, "sum of A is %llu but the total says %llu", (unsigned long long)sum_a,
                (unsigned long long)pm->total_allocated);
    if (pm->total_allocated > avail)
        problem(&ck, "%llu virtual frames allocated over %llu physical frames available",
                (unsigned long long)pm->total_allocated, (unsigned long long)avail);
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *t = g_ptr_array_index(pm->tasks, i);
        if (t != NULL && t->owed > 0 && t->deadline < l4_system_clock(pm->k))
            problem(&ck, "task %u owes %llu frames past its deadline and is not exiled", t->id,
                    (unsigned long long)t->owed);
    }

    /* Recount frames per owner, members per group, groups per frame. */
    GHashTable *owned = g_hash_table_new(g_direct_hash, g_direct_equal);
    uint32_t *members = calloc(pm->ngroups_cap ? pm->ngroups_cap : 1, sizeof *members);
    uint32_t *groups = calloc(pm->frames, sizeof *groups);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, pm->containers);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const struct container *c = value;
        if (pm__lease_holds(pm, c) && pm__task(pm, c->lock_holder) == NULL)
            problem(&ck, "container %u is locked by task %u, which physmem does not know", c->id,
                    c->lock_holder);
        uint32_t f, v;
        uint64_t n = 0, live = 0, soft = 0;
        for (uint64_t from = 0; pm__sparse_next(&c->frames, from, &f, &v); from = (uint64_t)f + 1) {
            n++;
            live += !(v & SLOT_SOFT);
            soft += (v & SLOT_SOFT) != 0;
            uint32_t g = SLOT_GROUP(v);
            if (g == 0 || g >= pm->groups_used || pm->groups[g].members == 0) {
                problem(&ck, "container %u frame %u names no live share group", c->id, f);
                continue;
            }
            if (members != NULL)
                members[g]++;
        }
        if (n != c->frames.count)
            problem(&ck, "container %u counts %llu frames but holds %llu", c->id,
                    (unsigned long long)c->frames.count, (unsigned long long)n);
        if (soft != c->nsoft)
            problem(&ck, "container %u counts %llu soft references but holds %llu", c->id,
                    (unsigned long long)c->nsoft, (unsigned long long)soft);
        gpointer prev = g_hash_table_lookup(owned, c->owner);
        g_hash_table_insert(owned, c->owner, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(prev) + live));
    }
    for (guint i = 0; i < pm->tasks->len; i++) {
        const struct task *t = g_ptr_array_index(pm->tasks, i);
        if (t == NULL)
            continue;
        uint64_t n = GPOINTER_TO_SIZE(g_hash_table_lookup(owned, t));
        if (n != t->allocated)
            problem(&ck, "task %u: A is %llu but its containers hold %llu frames", t->id,
                    (unsigned long long)t->allocated, (unsigned long long)n);
    }
    for (uint32_t g = 1; members != NULL && groups != NULL && g < pm->groups_used; g++) {
        const struct group *gr = &pm->groups[g];
        if (gr->members == 0)
            continue;
        if (members[g] != gr->members)
            problem(&ck, "share group %u counts %u members but %u frames name it", g, gr->members,
                    members[g]);
        if (gr->pfn != NO_PFN)
            groups[gr->pfn]++;
    }
    for (uint32_t pfn = 0; groups != NULL && pfn < pm->frames; pfn++) {
        if (pm__policy_frame(pm, pfn)) {
            if (!pm_pool_is_bound(pm->pool, PM_PFN(pfn)))
                problem(&ck, "frame %u of the policy buffer is free in the pool", pfn);
            ck.pfn = pfn;
            l4_mappings_of(pm->k, PM_PFN(pfn), check_buffer_mapping, &ck);
            continue;
        }
        groups[pfn] += pm__swap_holds(pm, pfn); /* a swap entry holds it like a group */
        if (groups[pfn] != pm->pf[pfn].groups)
            problem(&ck, "frame %u counts %u share groups but %u name it", pfn, pm->pf[pfn].groups,
                    groups[pfn]);
        bool bound = pm_pool_is_bound(pm->pool, PM_PFN(pfn));
        if (groups[pfn] > 0 && !bound)
            problem(&ck, "frame %u is named by a share group but free in the pool", pfn);
        if (groups[pfn] == 0 && bound)
            problem(&ck,
                    "frame %u is bound in the pool but no virtual frame or swap entry names it",
                    pfn);
        if (groups[pfn] == 0)
            continue;
        ck.pfn = pfn;
        ck.cow = groups[pfn] > 1;
        l4_mappings_of(pm->k, PM_PFN(pfn), check_mapping, &ck);
    }
    free(members);
    free(groups);
    g_hash_table_destroy(owned);
    return ck.problems;
}
