/* frames.c — virtual frames, share groups and physical frames: binding,
 * copy-on-write breaks, and unmapping no more than a frame's own mappings.
 *
 * Reference counts are structural: a group lives while it has members or
 * pins, a physical frame while groups name it or pins hold it; when the
 * last goes, the frame returns to the pool.  Pins let a multi-frame
 * operation (a copy whose ranges overlap) hold on to what it read first
 * while it rewrites the same slots. */
#include <stdlib.h>
#include <string.h>

#include "physmem_priv.h"

/* A frame's slot value, or 0 for none — a soft reference is not a frame. */
uint32_t pm__slot(const struct container *c, frame_t f)
{
    uint32_t v = pm__sparse_get(&c->frames, f);
    return (v & SLOT_SOFT) ? 0 : v;
}

/* The slot value, soft references included. */
uint32_t pm__slot_raw(const struct container *c, frame_t f)
{
    return pm__sparse_get(&c->frames, f);
}

static struct container *container_by_id(const pm_physmem_t *pm, uint32_t id)
{
    return g_hash_table_lookup(pm->containers, GUINT_TO_POINTER(id));
}

/* ---- physical frames ----------------------------------------------------- */

void pm__pframe_put(pm_physmem_t *pm, uint32_t pfn)
{
    struct pframe *p = &pm->pf[pfn];
    p->groups--;
    if (p->groups == 0 && p->pins == 0) {
        (void)pm_pool_release(pm->pool, PM_PFN(pfn), 0);
        pm->st.frames_freed++;
    }
}

/* ---- groups ---------------------------------------------------------------- */

bool pm__group_reserve(pm_physmem_t *pm, uint32_t n)
{
    /* Free entries on the list, then room at the end of the array. */
    uint32_t avail = pm->ngroups_cap - pm->groups_used;
    for (uint32_t g = pm->group_free; g != 0 && avail < n; g = pm->groups[g].next_free)
        avail++;
    if (avail >= n)
        return true;
    uint64_t want = (uint64_t)pm->groups_used + n + 1;
    if (want > GROUP_ID_LIMIT)
        return false; /* group ids must leave the slot's top bit free */
    /* Double, unless one request needs more than that: then exactly what
     * it needs, so that one large allocation carries no slack. */
    uint64_t cap = pm->ngroups_cap ? 2 * (uint64_t)pm->ngroups_cap : 64;
    if (cap < want)
        cap = want;
    if (cap > GROUP_ID_LIMIT)
        cap = GROUP_ID_LIMIT;
    struct group *ng = pm__realloc(pm->groups, cap * sizeof *ng);
    if (ng == NULL)
        return false;
    memset(ng + pm->ngroups_cap, 0, (cap - pm->ngroups_cap) * sizeof *ng);
    pm->groups = ng;
    if (pm->groups_used == 0)
        pm->groups_used = 1; /* id 0 is no group */
    pm->ngroups_cap = (uint32_t)cap;
    return true;
}

uint32_t pm__group_new(pm_physmem_t *pm, uint32_t pfn)
{
    uint32_t g;
    if (pm->group_free != 0) {
        g = pm->group_free;
        pm->group_free = pm->groups[g].next_free;
    } else {
        g = pm->groups_used++; /* reserved by the caller */
    }
    pm->groups[g] = (struct group){.pfn = pfn};
    if (pfn != NO_PFN)
        pm->pf[pfn].groups++;
    return g;
}

static void group_free(pm_physmem_t *pm, uint32_t g)
{
    struct group *gr = &pm->groups[g];
    if (gr->pfn != NO_PFN)
        pm__pframe_put(pm, gr->pfn);
    *gr = (struct group){.next_free = pm->group_free};
    pm->group_free = g;
}

static GArray *member_list(const pm_physmem_t *pm, uint32_t g)
{
    return g_hash_table_lookup(pm->members, GUINT_TO_POINTER(g));
}

void pm__group_join(pm_physmem_t *pm, uint32_t g, struct vref member)
{
    struct group *gr = &pm->groups[g];
    if (gr->members == 0) {
        gr->sole = member;
    } else if (gr->members == 1) {
        GArray *list = g_array_sized_new(FALSE, FALSE, sizeof(struct vref), 4);
        g_array_append_val(list, gr->sole);
        g_array_append_val(list, member);
        g_hash_table_insert(pm->members, GUINT_TO_POINTER(g), list);
    } else {
        g_array_append_val(member_list(pm, g), member);
    }
    gr->members++;
}

static bool same(struct vref a, struct vref b)
{
    return a.cid == b.cid && a.f == b.f;
}

void pm__group_leave(pm_physmem_t *pm, uint32_t g, struct vref member)
{
    struct group *gr = &pm->groups[g];
    if (gr->members > 1) {
        GArray *list = member_list(pm, g);
        for (guint i = 0; i < list->len; i++) {
            if (same(g_array_index(list, struct vref, i), member)) {
                g_array_remove_index_fast(list, i);
                break;
            }
        }
        if (list->len == 1) {
            gr->sole = g_array_index(list, struct vref, 0);
            g_hash_table_remove(pm->members, GUINT_TO_POINTER(g));
        }
    }
    gr->members--;
    if (gr->members == 0 && gr->pins == 0)
        group_free(pm, g);
}

void pm__group_replace(pm_physmem_t *pm, uint32_t g, struct vref old, struct vref member)
{
    struct group *gr = &pm->groups[g];
    if (gr->members == 1) {
        gr->sole = member;
        return;
    }
    GArray *list = member_list(pm, g);
    for (guint i = 0; i < list->len; i++)
        if (same(g_array_index(list, struct vref, i), old))
            g_array_index(list, struct vref, i) = member;
}

void pm__group_pin(pm_physmem_t *pm, uint32_t g)
{
    pm->groups[g].pins++;
}

void pm__group_unpin(pm_physmem_t *pm, uint32_t g)
{
    struct group *gr = &pm->groups[g];
    gr->pins--;
    if (gr->members == 0 && gr->pins == 0)
        group_free(pm, g);
}

/* Call FN for each member of group G. */
static void each_member(pm_physmem_t *pm, uint32_t g,
                        void (*fn)(pm_physmem_t *, struct vref, void *), void *ctx)
{
    struct group *gr = &pm->groups[g];
    if (gr->members == 1) {
        fn(pm, gr->sole, ctx);
        return;
    }
    GArray *list = member_list(pm, g);
    for (guint i = 0; list != NULL && i < list->len; i++)
        fn(pm, g_array_index(list, struct vref, i), ctx);
}

static void pinned_member(pm_physmem_t *pm, struct vref m, void *ctx)
{
    struct container *c = container_by_id(pm, m.cid);
    if (c != NULL && pm__lease_holds(pm, c))
        *(bool *)ctx = true;
}

bool pm__group_pinned(const pm_physmem_t *pm, uint32_t g)
{
    bool pinned = false;
    each_member((pm_physmem_t *)pm, g, pinned_member, &pinned);
    return pinned;
}

/* ---- unmapping ---------------------------------------------------------- */

/* Revoke RIGHTS from the mappings made for frame F of C, or only those
 * made through the capability with generation GEN (0: through any), on
 * physical frame PFN. */
static void unmap_tagged(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t pfn,
                         uint32_t gen, unsigned rights)
{
    l4_fpage_t fp = l4_fpage((uint64_t)pfn << pm->shift, pm->shift, rights);
    for (guint i = 0; i < c->mapcaps->len; i++) {
        uint32_t g = g_array_index(c->mapcaps, uint32_t, i);
        if (gen != 0 && g != gen)
            continue;
        (void)l4_unmap_tagged(pm->k, pm->thread, fp, (uint64_t)g << 32 | f, NULL);
        pm->st.unmaps++;
    }
    struct pm_event ev = {
        .kind = PM_EV_UNMAP, .container = c->id, .frame = f, .pfn = PM_PFN(pfn), .count = 1};
    pm__emit(pm, &ev);
}

void pm__unmap_frame(pm_physmem_t *pm, struct container *c, frame_t f)
{
    uint32_t v = pm__slot(c, f);
    if (!(v & SLOT_MAPPED))
        return;
    uint32_t pfn = pm->groups[SLOT_GROUP(v)].pfn;
    if (pfn != NO_PFN)
        unmap_tagged(pm, c, f, pfn, 0, L4_RWX);
    pm__sparse_set(&c->frames, f, SLOT_GROUP(v));
}

void pm__unmap_frame_cap(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t gen)
{
    uint32_t v = pm__slot(c, f);
    uint32_t pfn = pm->groups[SLOT_GROUP(v)].pfn;
    if ((v & SLOT_MAPPED) && pfn != NO_PFN)
        unmap_tagged(pm, c, f, pfn, gen, L4_RWX);
}

void pm__downgrade_pfn(pm_physmem_t *pm, uint32_t pfn)
{
    (void)l4_unmap(pm->k, pm->thread, l4_fpage((uint64_t)pfn << pm->shift, pm->shift, L4_W), 0,
                   NULL);
    pm->st.unmaps++;
}

/* ---- binding and copy-on-write ------------------------------------------ */

/* ---- the undo log --------------------------------------------------------- */

void pm__undo_init(struct pm__undo *u)
{
    u->r = u->local;
    u->n = 0;
    u->cap = PM_UNDO_LOCAL;
}

void pm__undo_fini(struct pm__undo *u)
{
    if (u->r != u->local)
        free(u->r);
    pm__undo_init(u);
}

/* Room for one more record; false when the host has no memory for it. */
static bool undo_room(struct pm__undo *u)
{
    if (u->n < u->cap)
        return true;
    uint32_t cap = 2 * u->cap;
    struct pm__undo_rec *r =
        u->r == u->local ? pm__malloc(cap * sizeof *r) : pm__realloc(u->r, cap * sizeof *r);
    if (r == NULL)
        return false;
    if (u->r == u->local)
        memcpy(r, u->local, sizeof u->local);
    u->r = r;
    u->cap = cap;
    return true;
}

/* Undo, newest first: a bind gives its frame back (the group reads as zero
 * again, as it did), a copy-on-write break puts the group back on the
 * frame it shared (which the break left held by the other groups, so it is
 * still there) and frees the copy.  The mappings the break revoked stay
 * revoked: physmem may unmap at any time. */
void pm__undo_rollback(pm_physmem_t *pm, struct pm__undo *u)
{
    while (u->n > 0) {
        struct pm__undo_rec r = u->r[--u->n];
        struct group *gr = &pm->groups[r.g];
        uint32_t pfn = gr->pfn;
        gr->pfn = r.old_pfn;
        if (r.old_pfn != NO_PFN) {
            pm->pf[r.old_pfn].groups++;
            pm->st.cow_breaks--;
            pm->st.bytes_copied -= pm->page_size;
        }
        /* Not counted: what is undone was not done (frames_bound). */
        pm->pf[pfn].groups = 0;
        if (pm->pf[pfn].pins == 0)
            (void)pm_pool_release(pm->pool, PM_PFN(pfn), 0);
        pm->st.frames_bound--;
    }
    pm__undo_fini(u);
}

/* ---- binding and copy-on-write ------------------------------------------ */

/* Group G (of frame F of C, for the event) takes physical frame PFN. */
static void bind_to(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t g, uint32_t pfn)
{
    pm->groups[g].pfn = pfn;
    pm->pf[pfn] = (struct pframe){.groups = 1};
    pm->st.frames_bound++;
    struct pm_event ev = {
        .kind = PM_EV_BIND, .container = c->id, .frame = f, .pfn = PM_PFN(pfn), .count = 1};
    pm__emit(pm, &ev);
}

pm_error_t pm__bind(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t g, unsigned flags,
                    struct pm__undo *u)
{
    struct group *gr = &pm->groups[g];
    if (gr->pfn != NO_PFN)
        return PM_OK;
    if (u != NULL && !undo_room(u))
        return PM_ENOMEM;
    pm_pfn_t pfn;
    unsigned pf = PM_POOL_ZERO | ((flags & CONT_ALLOC_DMA) ? PM_POOL_DMA : 0);
    pm_error_t err = pm__frame_alloc(pm, 0, pf, &pfn);
    if (err != PM_OK)
        return err;
    bind_to(pm, c, f, g, pfn.n);
    if (u != NULL)
        u->r[u->n++] = (struct pm__undo_rec){.g = g, .old_pfn = NO_PFN};
    return PM_OK;
}

bool pm__bind_log(pm_physmem_t *pm, struct pm__undo *u, uint32_t g)
{
    if (u == NULL)
        return true;
    if (!undo_room(u))
        return false;
    u->r[u->n++] = (struct pm__undo_rec){.g = g, .old_pfn = NO_PFN};
    return true;
}

struct break_ctx {
    uint32_t old_pfn;
};

static void unmap_member_old(pm_physmem_t *pm, struct vref m, void *ctx)
{
    struct break_ctx *b = ctx;
    struct container *c = container_by_id(pm, m.cid);
    if (c == NULL)
        return;
    uint32_t v = pm__slot(c, m.f);
    if (!(v & SLOT_MAPPED))
        return;
    unmap_tagged(pm, c, m.f, b->old_pfn, 0, L4_RWX);
    pm__sparse_set(&c->frames, m.f, SLOT_GROUP(v));
}

/* Give group G a private copy of its physical frame, which other groups
 * share: a copy-on-write break, for the whole group at once.  The group's
 * old mappings go; the other groups keep theirs. */
pm_error_t pm__cow_break(pm_physmem_t *pm, uint32_t g, struct pm__undo *u)
{
    struct group *gr = &pm->groups[g];
    uint32_t old = gr->pfn;
    if (old == NO_PFN || pm->pf[old].groups < 2)
        return PM_OK;
    if (u != NULL && !undo_room(u))
        return PM_ENOMEM;
    pm_pfn_t pfn;
    pm_error_t err = pm__frame_alloc(pm, 0, 0, &pfn);
    if (err != PM_OK)
        return err;
    memcpy(pm_pool_frame(pm->pool, pfn), pm_pool_frame(pm->pool, PM_PFN(old)), pm->page_size);
    struct break_ctx b = {.old_pfn = old};
    each_member(pm, g, unmap_member_old, &b);
    gr->pfn = pfn.n;
    pm->pf[pfn.n] = (struct pframe){.groups = 1};
    pm__pframe_put(pm, old);
    if (u != NULL)
        u->r[u->n++] = (struct pm__undo_rec){.g = g, .old_pfn = old};
    pm->st.cow_breaks++;
    pm->st.bytes_copied += pm->page_size;
    pm->st.frames_bound++;
    struct pm_event ev = {
        .kind = PM_EV_COW_BREAK, .pfn = pfn, .old_pfn = PM_PFN(old), .count = gr->members};
    if (gr->members >= 1) {
        ev.container = gr->members == 1 ? gr->sole.cid : 0;
        ev.frame = gr->members == 1 ? gr->sole.f : 0;
    }
    pm__emit(pm, &ev);
    return PM_OK;
}

/* ---- adding and dropping virtual frames -------------------------------- */

void pm__frame_add(pm_physmem_t *pm, struct container *c, frame_t f, uint32_t pfn)
{
    if (pm__slot_raw(c, f) & SLOT_SOFT)
        pm__frame_drop(pm, c, f); /* a new frame replaces the soft reference */
    uint32_t g = pm__group_new(pm, NO_PFN);
    pm__group_join(pm, g, (struct vref){c->id, f});
    pm__sparse_set(&c->frames, f, g);
    if (pfn != NO_PFN)
        bind_to(pm, c, f, g, pfn);
}

void pm__frame_drop(pm_physmem_t *pm, struct container *c, frame_t f)
{
    uint32_t v = pm__slot_raw(c, f);
    if (v == 0)
        return;
    if (v & SLOT_SOFT) {
        pm->groups[SLOT_GROUP(v)].soft--;
        c->nsoft--;
    }
    pm__unmap_frame(pm, c, f);
    pm__sparse_set(&c->frames, f, 0);
    pm__group_leave(pm, SLOT_GROUP(v), (struct vref){c->id, f});
}

/* ---- soft references (SPEC §5.3) ---------------------------------------- */

/* Turn frame F of C into a soft reference: it leaves A (the caller counts
 * that), its mappings go, its data stays until physmem needs the frame. */
void pm__soften(pm_physmem_t *pm, struct container *c, frame_t f)
{
    pm__unmap_frame(pm, c, f);
    uint32_t g = SLOT_GROUP(pm__slot_raw(c, f));
    pm__sparse_set(&c->frames, f, g | SLOT_SOFT);
    pm->groups[g].soft++;
    c->nsoft++;
    struct vref *r = g_new(struct vref, 1);
    *r = (struct vref){c->id, f};
    g_queue_push_tail(pm->soft, r);
}

/* The share group of soft reference R, if R still is one and its group is
 * soft references only; else 0. */
static uint32_t soft_only_group(const pm_physmem_t *pm, const struct vref *r)
{
    struct container *c = container_by_id(pm, r->cid);
    uint32_t v = c != NULL ? pm__slot_raw(c, r->f) : 0;
    if (!(v & SLOT_SOFT))
        return 0;
    const struct group *gr = &pm->groups[SLOT_GROUP(v)];
    return gr->soft == gr->members && gr->pins == 0 ? SLOT_GROUP(v) : 0;
}

/* Physmem takes group G's frame: its soft references go stale. */
static void soft_lose(pm_physmem_t *pm, uint32_t g)
{
    struct group *gr = &pm->groups[g];
    uint32_t pfn = gr->pfn;
    gr->pfn = NO_PFN;
    gr->stale = true;
    pm->st.soft_lost += gr->soft;
    struct pm_event ev = {.kind = PM_EV_SOFT_LOST, .pfn = PM_PFN(pfn), .count = gr->soft};
    pm__pframe_put(pm, pfn);
    pm__emit(pm, &ev);
}

/* Every group on physical frame PFN, if all of them are soft references
 * only (logical copies all soft-deallocated), into GROUPS (the soft queue
 * is where they all are); false if some holder is not. */
static bool all_soft(const pm_physmem_t *pm, uint32_t pfn, GArray *groups)
{
    for (GList *l = pm->soft->head; l != NULL; l = l->next) {
        uint32_t g = soft_only_group(pm, l->data);
        if (g == 0 || pm->groups[g].pfn != pfn)
            continue;
        bool seen = false;
        for (guint i = 0; i < groups->len && !seen; i++)
            seen = g_array_index(groups, uint32_t, i) == g;
        if (!seen)
            g_array_append_val(groups, g);
    }
    /* A swap entry may hold it too: it keeps its data on the device. */
    return groups->len + pm__swap_holds(pm, pfn) == pm->pf[pfn].groups;
}

/* Take back one physical frame that only soft references hold, oldest
 * first (a frame several logical copies hold is taken when every one of
 * them is soft).  Returns false when there is none. */
bool pm__take_soft_frame(pm_physmem_t *pm)
{
    for (guint left = g_queue_get_length(pm->soft); left > 0; left--) {
        struct vref *r = g_queue_pop_head(pm->soft);
        struct container *c = container_by_id(pm, r->cid);
        if (c == NULL || !(pm__slot_raw(c, r->f) & SLOT_SOFT)) {
            g_free(r); /* reclaimed, replaced or gone since */
            continue;
        }
        uint32_t g = soft_only_group(pm, r);
        uint32_t pfn = g != 0 ? pm->groups[g].pfn : NO_PFN;
        if (g != 0 && pfn == NO_PFN) {
            g_free(r); /* stale or never bound: no frame to take, ever */
            continue;
        }
        g_queue_push_tail(pm->soft, r); /* a soft reference with a frame: later, or now */
        if (pfn == NO_PFN || pm->pf[pfn].pins != 0)
            continue;
        if (pm->pf[pfn].groups == 1) {
            soft_lose(pm, g);
            g_free(g_queue_pop_tail(pm->soft)); /* stale now: nothing more to take */
            return true;
        }
        GArray *groups = g_array_new(FALSE, FALSE, sizeof(uint32_t));
        bool all = all_soft(pm, pfn, groups);
        /* A swap entry that holds the frame lets go first (written if it
         * must be: a failed write keeps everything as it was). */
        pm_error_t io = PM_OK;
        if (all && pm__swap_holds(pm, pfn))
            all = pm__swap_let_go(pm, pfn, &io);
        for (guint i = 0; all && i < groups->len; i++)
            soft_lose(pm, g_array_index(groups, uint32_t, i));
        g_array_free(groups, TRUE);
        if (all)
            return true;
    }
    return false;
}

/* Every physical frame physmem takes comes through here: from the pool,
 * or, the pool being empty, in SPEC §5.1's order: frames only soft
 * references hold, clean frames of the swap inactive list, then dirty ones
 * written to the device first.  (Upcalls free no frame at once, so they are
 * no use here: pm_pressure and allocation within G send them.) */
pm_error_t pm__frame_alloc(pm_physmem_t *pm, unsigned order, unsigned flags, pm_pfn_t *out)
{
    if (pm__inject(PM_INJECT_FRAME))
        return PM_ENOMEM;
    pm_error_t err, io = PM_OK;
    while ((err = pm_pool_alloc(pm->pool, order, flags, out)) == PM_ENOMEM && order == 0 &&
           (pm__take_soft_frame(pm) || pm__take_inactive(pm, false, &io) ||
            pm__take_inactive(pm, true, &io)))
        ;
    /* No frame, because the swap device failed: say so (EIO, ENOSPC). */
    return err == PM_ENOMEM && io != PM_OK ? io : err;
}
