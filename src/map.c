/* map.c — pm_container_map: frames into the caller's address space with L4
 * map items (SPEC §3.4).
 *
 * Three passes, so that nothing visible happens unless it all can:
 * 1. check that every frame exists (a whole leaf of the sparse array at a
 *    time where it is full);
 * 2. find how many frames fit in one message: runs of physically
 *    contiguous frames with the same rights, each cut into the fewest
 *    fpages, until the kernel's item limit (a frame whose copy-on-write
 *    must be broken counts as a run of its own: its new frame is not known
 *    yet, and merging can only lower the count).  Unbound frames met on the
 *    way are bound, a run at a time, to naturally aligned physical runs
 *    that match the destination's alignment, so that they go as large
 *    fpages (binding is invisible: the frames read as zero either way);
 * 3. break copy-on-write where FORCE_WRITE asks for it, among the frames
 *    that fit, then build the message with the real frames and send it,
 *    each item tagged with (capability, first frame identifier). */
#include "physmem_priv.h"

/* The rights frame F (slot value V) is mapped with. */
static unsigned frame_rights(const pm_physmem_t *pm, uint32_t v, unsigned want, bool force)
{
    const struct group *gr = &pm->groups[SLOT_GROUP(v)];
    bool cow = gr->pfn != NO_PFN && pm->pf[gr->pfn].groups > 1;
    if (cow && !force)
        return want & ~(unsigned)L4_W;
    return want;
}

/* Bind the run of unbound frames that starts at index I of START … START +
 * N − 1 of C, mapped at VADDR, to aligned physical runs where the pool has
 * them. */
static pm_error_t bind_range(pm_physmem_t *pm, struct container *c, frame_t start, uint32_t i,
                             uint32_t n, uint64_t vaddr, struct pm__undo *u)
{
    /* The run of unbound frames from i. */
    uint32_t j = i + 1;
    while (j < n && pm->groups[SLOT_GROUP(pm__slot(c, start + j))].pfn == NO_PFN)
        j++;
    while (i < j) {
        uint64_t vp = (vaddr >> pm->shift) + i;
        unsigned order = 63u - (unsigned)__builtin_clzll((uint64_t)(j - i));
        if (vp != 0 && (unsigned)__builtin_ctzll(vp) < order)
            order = (unsigned)__builtin_ctzll(vp);
        if (order > PM_POOL_MAX_ORDER)
            order = PM_POOL_MAX_ORDER;
        pm_pfn_t run;
        pm_error_t err;
        while ((err = pm__frame_alloc(pm, order, PM_POOL_ZERO | PM_POOL_SPLIT, &run)) != PM_OK) {
            if (order == 0)
                return err; /* ENOMEM, or the swap device's error */
            order--;
        }
        for (uint32_t x = 0; x < (1u << order); x++, i++) {
            uint32_t g = SLOT_GROUP(pm__slot(c, start + i));
            struct group *gr = &pm->groups[g];
            if (gr->pfn != NO_PFN) {
                /* Another member of this share group, bound just now. */
                (void)pm_pool_release(pm->pool, PM_PFN(run.n + x), 0);
                continue;
            }
            if (!pm__bind_log(pm, u, g)) {
                for (; x < (1u << order); x++)
                    (void)pm_pool_release(pm->pool, PM_PFN(run.n + x), 0);
                return PM_ENOMEM;
            }
            gr->pfn = run.n + x;
            pm->pf[run.n + x] = (struct pframe){.groups = 1};
            pm->st.frames_bound++;
            struct pm_event ev = {.kind = PM_EV_BIND,
                                  .container = c->id,
                                  .frame = start + i,
                                  .pfn = PM_PFN(run.n + x),
                                  .count = 1};
            pm__emit(pm, &ev);
        }
    }
    return PM_OK;
}

/* One run of frames that can share fpages: [first, first + len) of the
 * range, physical frames pfn …, rights. */
struct run {
    uint32_t first, len;
    uint32_t pfn;
    unsigned rights;
};

/* The run starting at frame index I: contiguous physical frames with the
 * same rights; a frame to be broken stands alone. */
static struct run next_run(const pm_physmem_t *pm, const struct container *c, frame_t start,
                           uint32_t i, uint32_t n, unsigned want, bool force, bool *breaks)
{
    uint32_t v = pm__slot(c, start + i);
    const struct group *gr = &pm->groups[SLOT_GROUP(v)];
    struct run r = {
        .first = i, .len = 1, .pfn = gr->pfn, .rights = frame_rights(pm, v, want, force)};
    *breaks = force && pm->pf[gr->pfn].groups > 1;
    if (*breaks)
        return r;
    while (i + r.len < n) {
        uint32_t w = pm__slot(c, start + i + r.len);
        const struct group *g2 = &pm->groups[SLOT_GROUP(w)];
        if (g2->pfn != r.pfn + r.len || frame_rights(pm, w, want, force) != r.rights ||
            (force && pm->pf[g2->pfn].groups > 1))
            break;
        r.len++;
    }
    return r;
}

/* Passes 2 and 3 for frames START … START + N − 1 of C (they exist): bind,
 * break, and build in MSG (tags in TAGS) the items of as many frames as
 * fit in one message (*FIT). */
static pm_error_t build_items(pm_physmem_t *pm, struct container *ct, const struct cap *cap,
                              frame_t start, uint32_t n, unsigned want, bool force, uint64_t vaddr,
                              l4_msg_t *msg, uint64_t *tags, uint32_t *fit_out, struct pm__undo *u)
{
    pm_error_t err;
    /* Pass 2: how many frames fit in one message. */
    unsigned limit = l4_map_item_limit(pm->k);
    if (limit > L4_MSG_MAX_ITEMS)
        limit = L4_MSG_MAX_ITEMS;
    unsigned items = 0;
    uint32_t fit = 0;
    while (fit < n && items < limit) {
        /* Bind only what may go in this message (binding is invisible). */
        if (pm->groups[SLOT_GROUP(pm__slot(ct, start + fit))].pfn == NO_PFN &&
            (err = bind_range(pm, ct, start, fit, n, vaddr, u)) != PM_OK)
            return err;
        bool breaks;
        struct run r = next_run(pm, ct, start, fit, n, want, force, &breaks);
        if (breaks && pm__group_pinned(pm, SLOT_GROUP(pm__slot(ct, start + fit))))
            return PM_EBUSY; /* a pinned frame cannot move to break its copy */
        l4_fpage_t fp[L4_MSG_MAX_ITEMS];
        uint64_t covered;
        size_t k = l4_fpage_cover(
            (uint64_t)r.pfn << pm->shift, vaddr + ((uint64_t)r.first << pm->shift),
            (uint64_t)r.len << pm->shift, pm->shift, r.rights, fp, limit - items, &covered);
        items += (unsigned)k;
        fit += (uint32_t)(covered >> pm->shift);
    }

    /* Pass 3: break what must be broken, then build the message. */
    if (force) {
        for (uint32_t i = 0; i < fit; i++) {
            uint32_t g = SLOT_GROUP(pm__slot(ct, start + i));
            if ((err = pm__cow_break(pm, g, u)) != PM_OK)
                return err; /* the caller undoes the binds and breaks before */
        }
    }
    items = 0;
    for (uint32_t i = 0; i < fit;) {
        bool breaks;
        struct run r = next_run(pm, ct, start, i, fit, want, false, &breaks);
        l4_fpage_t fp[L4_MSG_MAX_ITEMS];
        size_t k = l4_fpage_cover(
            (uint64_t)r.pfn << pm->shift, vaddr + ((uint64_t)r.first << pm->shift),
            (uint64_t)r.len << pm->shift, pm->shift, r.rights, fp, L4_MSG_MAX_ITEMS - items, NULL);
        uint64_t off = 0;
        for (size_t x = 0; x < k; x++) {
            uint64_t frame = r.first + (off >> pm->shift);
            tags[items++] = (uint64_t)cap->gen << 32 | (start + frame);
            l4_msg_put_item(msg, L4_ITEM_MAP, fp[x], vaddr + (frame << pm->shift));
            off += l4_fpage_size(fp[x]);
        }
        i += r.len;
    }
    *fit_out = fit;
    return PM_OK;
}

/* The same for one frame (a pager's fault), without the runs. */
static pm_error_t build_one(pm_physmem_t *pm, struct container *ct, const struct cap *cap,
                            frame_t f, uint32_t v, unsigned want, bool force, uint64_t vaddr,
                            l4_msg_t *msg, uint64_t *tags, struct pm__undo *u)
{
    pm_error_t err;
    uint32_t g = SLOT_GROUP(v);
    if (pm->groups[g].pfn == NO_PFN && (err = bind_range(pm, ct, f, 0, 1, vaddr, u)) != PM_OK)
        return err;
    if (force && pm->pf[pm->groups[g].pfn].groups > 1) {
        if (pm__group_pinned(pm, g))
            return PM_EBUSY; /* a pinned frame cannot move to break its copy */
        if ((err = pm__cow_break(pm, g, u)) != PM_OK)
            return err;
    }
    unsigned rights = frame_rights(pm, v, want, false);
    tags[0] = (uint64_t)cap->gen << 32 | f;
    l4_msg_put_item(msg, L4_ITEM_MAP,
                    l4_fpage((uint64_t)pm->groups[g].pfn << pm->shift, pm->shift, rights), vaddr);
    return PM_OK;
}

pm_error_t pm_container_map(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start,
                            uint32_t *count, unsigned flags, uint64_t vaddr)
{
    pm__enter(pm);
    struct task *t = pm__task(pm, caller);
    struct cap *cap;
    if (t == NULL)
        return PM_ESRCH;
    if (count == NULL || *count == 0 || (uint64_t)start + *count - 1 > UINT32_MAX ||
        (flags & ~(unsigned)(CONT_MAP_READ | CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE)) != 0 ||
        !(flags & (CONT_MAP_READ | CONT_MAP_WRITE)) || (vaddr & (pm->page_size - 1)) != 0 ||
        vaddr >= L4_VADDR_LIMIT || ((uint64_t)*count << pm->shift) > L4_VADDR_LIMIT - vaddr)
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    uint32_t n = *count;
    uint32_t *one = n == 1 ? pm__sparse_at(&ct->frames, start) : NULL;
    if (n == 1 && (one == NULL || *one == 0 || (*one & SLOT_SOFT)))
        return PM_ENOENT; /* a soft reference is no frame to map either */
    if (n > 1 && ct->nsoft == 0 && !pm__sparse_all(&ct->frames, start, n))
        return PM_ENOENT;
    for (uint32_t i = 0; n > 1 && ct->nsoft > 0 && i < n; i++)
        if (pm__slot(ct, start + i) == 0)
            return PM_ENOENT; /* a soft reference is no frame to map */
    unsigned want = L4_R | L4_X | ((flags & CONT_MAP_WRITE) ? L4_W : 0);
    bool force = (flags & CONT_MAP_WRITE) && (flags & CONT_MAP_FORCE_WRITE);
    l4_msg_t msg;
    uint64_t tags[L4_MSG_MAX_ITEMS];
    uint32_t fit = 1;
    l4_msg_init(&msg, 0);
    /* What is bound and broken on the way is undone if the call fails. */
    struct pm__undo undo;
    pm__undo_init(&undo);
    err = n == 1 ? build_one(pm, ct, cap, start, *one, want, force, vaddr, &msg, tags, &undo)
                 : build_items(pm, ct, cap, start, n, want, force, vaddr, &msg, tags, &fit, &undo);
    unsigned sent = 0;
    if (err == PM_OK)
        err = l4_send_tagged(pm->k, pm->thread, t->thread, &msg, tags, &sent);
    if (err != PM_OK) {
        pm__undo_rollback(pm, &undo);
        return err;
    }
    pm__undo_fini(&undo);
    bool known = false;
    for (guint i = 0; i < ct->mapcaps->len; i++)
        known |= g_array_index(ct->mapcaps, uint32_t, i) == cap->gen;
    if (!known)
        g_array_append_val(ct->mapcaps, cap->gen);
    if (one != NULL)
        *one |= SLOT_MAPPED;
    for (uint32_t i = 0; one == NULL && i < fit; i++)
        pm__sparse_set(&ct->frames, start + i, pm__slot(ct, start + i) | SLOT_MAPPED);
    pm->st.map_calls++;
    pm->st.frames_mapped += fit;
    if (fit < n)
        pm->st.short_maps++;
    if (pm->hook != NULL) {
        struct pm_event ev = {.kind = PM_EV_MAP,
                              .task = caller,
                              .container = ct->id,
                              .frame = start,
                              .count = fit,
                              .vaddr = vaddr};
        pm__emit(pm, &ev);
    }
    *count = fit;
    return PM_OK;
}
