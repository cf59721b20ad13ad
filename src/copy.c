/* copy.c — the copy family, the create shortcuts and release_data (SPEC
 * §3.5–§3.7).
 *
 * All four copy calls are one walk over pairs (source identifier,
 * destination identifier), given as a start or a list on either side.  The
 * walk first finds the first failing pair (visiting order decides), then
 * takes every source's share group as it is (pinned, so rewriting a slot
 * cannot free it) — which is what makes overlapping ranges behave as if the
 * sources were read first — and only then rewrites the destinations. */
#include <stdlib.h>

#include "physmem_priv.h"

/* One side of a copy: identifiers START + i, or LIST[i]. */
struct side {
    frame_t start;
    const frame_t *list;
};

static frame_t id_at(struct side s, uint32_t i)
{
    return s.list ? s.list[i] : s.start + i;
}

static bool side_ok(struct side s, uint32_t count)
{
    return s.list != NULL || (uint64_t)s.start + count - 1 <= UINT32_MAX;
}

/* True when some identifier appears twice on side S. */
static bool has_duplicates(struct side s, uint32_t count)
{
    if (s.list == NULL)
        return false;
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    bool dup = false;
    for (uint32_t i = 0; i < count && !dup; i++) {
        dup = !g_hash_table_add(seen, GUINT_TO_POINTER(s.list[i])); /* NULL is a fine key */
    }
    g_hash_table_destroy(seen);
    return dup;
}

/* True when an identifier appears on both sides.  Ranges compare as
 * intervals, a list against a range element by element: only two lists
 * need a set. */
static bool overlaps(struct side a, struct side b, uint32_t count)
{
    if (a.list == NULL && b.list == NULL)
        return (uint64_t)a.start < (uint64_t)b.start + count &&
               (uint64_t)b.start < (uint64_t)a.start + count;
    if (a.list == NULL || b.list == NULL) {
        struct side range = a.list == NULL ? a : b, list = a.list == NULL ? b : a;
        for (uint32_t i = 0; i < count; i++)
            if (list.list[i] >= range.start &&
                (uint64_t)list.list[i] < (uint64_t)range.start + count)
                return true;
        return false;
    }
    GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    gint64 *keys = g_new(gint64, count);
    bool hit = false;
    for (uint32_t i = 0; i < count; i++) {
        keys[i] = id_at(a, i);
        g_hash_table_add(seen, &keys[i]);
    }
    for (uint32_t i = 0; i < count && !hit; i++) {
        gint64 k = id_at(b, i);
        hit = g_hash_table_contains(seen, &k);
    }
    g_hash_table_destroy(seen);
    g_free(keys);
    return hit;
}

/* Make frame D of DC a logical copy of group SG (bound): a new group of one
 * on SG's physical frame. */
static void copy_logical(pm_physmem_t *pm, struct container *dc, frame_t d, uint32_t sg)
{
    uint32_t pfn = pm->groups[sg].pfn;
    uint32_t old = SLOT_GROUP(pm__slot(dc, d));
    pm__unmap_frame(pm, dc, d);
    uint32_t ng = pm__group_new(pm, pfn);
    if (pm->pf[pfn].groups == 2)
        pm__downgrade_pfn(pm, pfn); /* it had one group, so writable mappings */
    pm__group_join(pm, ng, (struct vref){dc->id, d});
    pm__sparse_set(&dc->frames, d, ng);
    pm__group_leave(pm, old, (struct vref){dc->id, d});
    pm->st.logical_copies++;
}

/* Make frame D of DC a member of group SG (real sharing). */
static void copy_shared(pm_physmem_t *pm, struct container *dc, frame_t d, uint32_t sg)
{
    uint32_t old = SLOT_GROUP(pm__slot(dc, d));
    pm__unmap_frame(pm, dc, d);
    if (old == sg)
        return; /* already a member */
    pm__group_join(pm, sg, (struct vref){dc->id, d});
    pm__sparse_set(&dc->frames, d, sg);
    pm__group_leave(pm, old, (struct vref){dc->id, d});
    pm->st.shared_copies++;
}

/* Move frame S of SC (group SG) to D of DC: D takes S's place in its group
 * and S leaves its container. */
static void copy_move(pm_physmem_t *pm, struct container *sc, frame_t s, struct container *dc,
                      frame_t d, uint32_t sg)
{
    uint32_t old = SLOT_GROUP(pm__slot(dc, d));
    pm__unmap_frame(pm, dc, d);
    pm__unmap_frame(pm, sc, s);
    pm__group_replace(pm, sg, (struct vref){sc->id, s}, (struct vref){dc->id, d});
    pm__sparse_set(&sc->frames, s, 0);
    pm__sparse_set(&dc->frames, d, sg);
    pm__group_leave(pm, old, (struct vref){dc->id, d});
    pm__charge(pm, sc->owner, -1);
    pm->st.frames_deallocated++;
    pm->st.moves++;
}

static pm_error_t copy_pairs(pm_physmem_t *pm, l4_task_t caller, container_t src, struct side ss,
                             container_t dest, struct side ds, uint32_t count, unsigned flags,
                             frame_t *frame_error)
{
    struct task *t;
    struct cap *scap, *dcap;
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    bool move = (flags & CONT_COPY_MOVE) != 0, shared = (flags & CONT_COPY_SHARED) != 0;
    if (count == 0 || !side_ok(ss, count) || !side_ok(ds, count) ||
        (flags & ~(unsigned)(CONT_COPY_SHARED | CONT_COPY_MOVE | CONT_COPY_ALL_OR_NONE)) != 0 ||
        (move && shared) || has_duplicates(ds, count) || (move && has_duplicates(ss, count)))
        return PM_EINVAL;
    pm_error_t err = pm__lookup(pm, caller, src, &t, &scap);
    if (err == PM_OK)
        err = pm__lookup(pm, caller, dest, &t, &dcap);
    if (err != PM_OK)
        return err;
    struct container *sc = scap->c, *dc = dcap->c;
    if (move && sc == dc && overlaps(ss, ds, count))
        return PM_EINVAL;
    if (pm__blocked(pm, scap) || pm__blocked(pm, dcap))
        return PM_EBUSY;

    /* The first failing pair, in visiting order. */
    uint32_t n = count;
    pm_error_t fail = PM_OK;
    frame_t fail_id = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (pm__slot(dc, id_at(ds, i)) == 0) {
            fail = PM_ENOMEM;
            fail_id = id_at(ds, i);
        } else if (pm__slot(sc, id_at(ss, i)) == 0) {
            fail = PM_ENOENT;
            fail_id = id_at(ss, i);
        } else {
            continue;
        }
        n = i;
        break;
    }
    if (fail != PM_OK && (flags & CONT_COPY_ALL_OR_NONE))
        n = 0;
    if (n > 0) {
        uint32_t *sg = pm__malloc((size_t)n * sizeof *sg);
        if (sg == NULL || !pm__group_reserve(pm, n)) {
            free(sg);
            return PM_ENOMEM;
        }
        /* Read every source first; bind the sources of logical copies (all
         * of them, or none: a failure undoes the binds before it). */
        for (uint32_t i = 0; i < n; i++) {
            sg[i] = SLOT_GROUP(pm__slot(sc, id_at(ss, i)));
            pm__group_pin(pm, sg[i]);
        }
        struct pm__undo undo;
        pm__undo_init(&undo);
        for (uint32_t i = 0; i < n && err == PM_OK; i++)
            if (!move && !shared)
                err = pm__bind(pm, sc, id_at(ss, i), sg[i], 0, &undo);
        if (err != PM_OK)
            pm__undo_rollback(pm, &undo);
        pm__undo_fini(&undo);
        if (err == PM_OK) {
            for (uint32_t i = 0; i < n; i++) {
                frame_t s = id_at(ss, i), d = id_at(ds, i);
                if (move)
                    copy_move(pm, sc, s, dc, d, sg[i]);
                else if (shared)
                    copy_shared(pm, dc, d, sg[i]);
                else
                    copy_logical(pm, dc, d, sg[i]);
                struct pm_event ev = {.kind = move ? PM_EV_MOVE : PM_EV_COPY,
                                      .task = caller,
                                      .container = sc->id,
                                      .frame = s,
                                      .to_container = dc->id,
                                      .to_frame = d,
                                      .count = 1};
                pm__emit(pm, &ev);
            }
        }
        for (uint32_t i = 0; i < n; i++)
            pm__group_unpin(pm, sg[i]);
        free(sg);
        if (err != PM_OK)
            return err; /* binding found no frame: nothing was copied */
    }
    if (fail != PM_OK) {
        if (frame_error != NULL)
            *frame_error = fail_id;
        return fail;
    }
    return PM_OK;
}

pm_error_t pm_container_copy(pm_physmem_t *pm, l4_task_t caller, container_t src, frame_t src_start,
                             container_t dest, frame_t dest_start, uint32_t count, unsigned flags,
                             frame_t *frame_error)
{
    pm__enter(pm);
    return copy_pairs(pm, caller, src, (struct side){src_start, NULL}, dest,
                      (struct side){dest_start, NULL}, count, flags, frame_error);
}

pm_error_t pm_container_copy_scatter(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                     frame_t src_start, container_t dest,
                                     const frame_t *dest_frames, uint32_t count, unsigned flags,
                                     frame_t *frame_error)
{
    pm__enter(pm);
    if (dest_frames == NULL && count > 0)
        return pm__task(pm, caller) == NULL ? PM_ESRCH : PM_EINVAL;
    return copy_pairs(pm, caller, src, (struct side){src_start, NULL}, dest,
                      (struct side){0, dest_frames}, count, flags, frame_error);
}

pm_error_t pm_container_copy_gather(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                    const frame_t *src_frames, container_t dest, frame_t dest_start,
                                    uint32_t count, unsigned flags, frame_t *frame_error)
{
    pm__enter(pm);
    if (src_frames == NULL && count > 0)
        return pm__task(pm, caller) == NULL ? PM_ESRCH : PM_EINVAL;
    return copy_pairs(pm, caller, src, (struct side){0, src_frames}, dest,
                      (struct side){dest_start, NULL}, count, flags, frame_error);
}

pm_error_t pm_container_copy_scatter_gather(pm_physmem_t *pm, l4_task_t caller, container_t src,
                                            const frame_t *src_frames, container_t dest,
                                            const frame_t *dest_frames, uint32_t count,
                                            unsigned flags, frame_t *frame_error)
{
    pm__enter(pm);
    if ((src_frames == NULL || dest_frames == NULL) && count > 0)
        return pm__task(pm, caller) == NULL ? PM_ESRCH : PM_EINVAL;
    return copy_pairs(pm, caller, src, (struct side){0, src_frames}, dest,
                      (struct side){0, dest_frames}, count, flags, frame_error);
}

/* ---- doing it all at once --------------------------------------------------- */

/* The shortcuts: a container of COUNT frames owned by CALLER, copies of
 * SOURCE's frames SS (if SOURCE is not PM_CONTAINER_NONE), shared with
 * REMOTE.  All or nothing. */
static pm_error_t create_common(pm_physmem_t *pm, l4_task_t caller, container_t source,
                                struct side ss, uint32_t count, l4_task_t remote, container_t *out,
                                container_t *weak_ref)
{
    struct task *t = pm__task(pm, caller), *r = pm__task(pm, remote), *tt;
    if (t == NULL || r == NULL)
        return PM_ESRCH;
    if (count == 0 || !side_ok(ss, count) || out == NULL || weak_ref == NULL)
        return PM_EINVAL;
    struct cap *scap = NULL;
    if (source != PM_CONTAINER_NONE) {
        pm_error_t err = pm__lookup(pm, caller, source, &tt, &scap);
        if (err != PM_OK)
            return err;
    }
    if (scap != NULL && pm__blocked(pm, scap))
        return PM_EBUSY;
    /* Frame i needs a source frame (for copies), then room in A: per frame,
     * ENOENT comes before ENOMEM (SPEC §3.9). */
    uint64_t allow = pm__allowance(pm, t, false);
    for (uint32_t i = 0; i < count; i++) {
        if (scap != NULL && pm__slot(scap->c, id_at(ss, i)) == 0)
            return PM_ENOENT;
        if (i >= allow)
            return PM_ENOMEM;
    }
    struct container *c;
    struct cap *full, *weak;
    pm_error_t err = pm__new_container(pm, t, &c);
    if (err != PM_OK)
        return err;
    if ((err = pm__new_cap(pm, t, c, false, &full)) != PM_OK ||
        (err = pm__new_cap(pm, r, c, true, &weak)) != PM_OK ||
        !pm__sparse_reserve(&c->frames, 0, count) || !pm__group_reserve(pm, 2 * count)) {
        pm__destroy_container(pm, c);
        return err != PM_OK ? err : PM_ENOMEM;
    }
    if (scap != NULL) {
        /* Bind the sources first: if the pool fails, the binds before are
         * undone and nothing has happened. */
        struct pm__undo undo;
        pm__undo_init(&undo);
        for (uint32_t i = 0; i < count && err == PM_OK; i++) {
            uint32_t sg = SLOT_GROUP(pm__slot(scap->c, id_at(ss, i)));
            err = pm__bind(pm, scap->c, id_at(ss, i), sg, 0, &undo);
        }
        if (err != PM_OK) {
            pm__undo_rollback(pm, &undo);
            pm__destroy_container(pm, c);
            return err;
        }
        pm__undo_fini(&undo);
    }
    for (uint32_t i = 0; i < count; i++) {
        pm__frame_add(pm, c, i, NO_PFN);
        if (scap != NULL) {
            copy_logical(pm, c, i, SLOT_GROUP(pm__slot(scap->c, id_at(ss, i))));
            struct pm_event ev = {.kind = PM_EV_COPY,
                                  .task = caller,
                                  .container = scap->c->id,
                                  .frame = id_at(ss, i),
                                  .to_container = c->id,
                                  .to_frame = i,
                                  .count = 1};
            pm__emit(pm, &ev);
        }
    }
    pm__charge(pm, t, (int64_t)count);
    pm->st.frames_allocated += count;
    struct pm_event ev = {
        .kind = PM_EV_ALLOCATE, .task = caller, .container = c->id, .count = count};
    pm__emit(pm, &ev);
    *out = pm__handle(full);
    *weak_ref = pm__handle(weak);
    return PM_OK;
}

pm_error_t pm_container_create_with(pm_physmem_t *pm, l4_task_t caller, uint32_t count,
                                    l4_task_t remote, container_t *out, container_t *weak_ref)
{
    pm__enter(pm);
    return create_common(pm, caller, PM_CONTAINER_NONE, (struct side){0, NULL}, count, remote, out,
                         weak_ref);
}

pm_error_t pm_container_create_from(pm_physmem_t *pm, l4_task_t caller, container_t source,
                                    frame_t start, uint32_t count, l4_task_t remote,
                                    container_t *out, container_t *weak_ref)
{
    pm__enter(pm);
    if (source == PM_CONTAINER_NONE)
        return pm__task(pm, caller) == NULL ? PM_ESRCH : PM_EBADF;
    return create_common(pm, caller, source, (struct side){start, NULL}, count, remote, out,
                         weak_ref);
}

pm_error_t pm_container_create_gather(pm_physmem_t *pm, l4_task_t caller, container_t source,
                                      const frame_t *frames, uint32_t count, l4_task_t remote,
                                      container_t *out, container_t *weak_ref)
{
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (frames == NULL)
        return PM_EINVAL;
    if (source == PM_CONTAINER_NONE)
        return PM_EBADF;
    return create_common(pm, caller, source, (struct side){0, frames}, count, remote, out,
                         weak_ref);
}

/* ---- release_data --------------------------------------------------------- */

pm_error_t pm_release_data(pm_physmem_t *pm, l4_task_t caller, container_t c, const frame_t *frames,
                           uint32_t count)
{
    pm__enter(pm);
    struct cap *cap;
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    if (count == 0 || frames == NULL)
        return PM_EINVAL;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    for (uint32_t i = 0; i < count; i++)
        if (pm__slot(ct, frames[i]) == 0)
            return PM_ENOENT;
    if (!pm__group_reserve(pm, count))
        return PM_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        frame_t f = frames[i];
        uint32_t old = SLOT_GROUP(pm__slot(ct, f));
        const struct group *gr = &pm->groups[old];
        if (gr->members == 1 && gr->pfn == NO_PFN)
            continue; /* nothing to let go of */
        pm__unmap_frame(pm, ct, f);
        uint32_t ng = pm__group_new(pm, NO_PFN);
        pm__group_join(pm, ng, (struct vref){ct->id, f});
        pm__sparse_set(&ct->frames, f, ng);
        pm__group_leave(pm, old, (struct vref){ct->id, f});
        pm->st.frames_released++;
    }
    pm__emit_range(pm, PM_EV_RELEASE, caller, ct->id, frames[0], count);
    return PM_OK;
}
