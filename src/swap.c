/* swap.c — the swap server inside physmem (SPEC §7).
 *
 * pm_swap turns virtual frames into swap identifiers.  The data does not
 * move: each swapped physical frame gets an *entry* that holds the frame
 * (counted among its pframe's groups, so a logical copy that writes breaks
 * copy-on-write away from it and the swapped bytes never change) and goes
 * on the inactive list, dirty.  Another virtual frame on the same physical
 * frame — a logical copy in another task — finds the entry through
 * swap_by_pfn and shares it: one entry, one write, however many copies.
 * Under pressure physmem writes dirty entries to the device and lets their
 * frames go (pm__take_inactive, called by pm__frame_alloc and pm_pressure);
 * the entry then lives on the device only.  Swapping in takes the frame
 * back from memory when the entry still holds one (no I/O), else reads the
 * slot into a fresh frame, which the entry keeps too while other
 * identifiers still name it (one read for all of them).
 *
 * Device errors change nothing: a failed write leaves the entry dirty in
 * memory, a failed read leaves the identifier valid and the target frame
 * as it was.  Device slots are reserved when the data is swapped out, so a
 * full device is ENOSPC at pm_swap, not a loss later. */
#include <stdlib.h>
#include <string.h>

#include "physmem_priv.h"

pm_error_t pm__swap_init(pm_physmem_t *pm, const struct pm_swap_dev *dev)
{
    pm->swap_ids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    pm->swap_by_pfn = g_hash_table_new(g_direct_hash, g_direct_equal);
    pm->inactive = g_queue_new();
    pm->inactive_clean = g_queue_new();
    pm->next_swap_id = 1;
    if (dev == NULL)
        return PM_OK;
    pm->dev = *dev;
    pm->slot_map = calloc(dev->slots / 8 + 1, 1);
    if (pm->slot_map == NULL)
        return PM_ENOMEM;
    pm->has_swap = true;
    return PM_OK;
}

/* ---- the device ------------------------------------------------------------ */

/* Every transfer to and from the device goes through these two: the
 * injection point for swap I/O (pmsim/inject.h). */
static pm_error_t dev_write(pm_physmem_t *pm, uint64_t slot, const void *page)
{
    if (pm__inject(PM_INJECT_SWAP_IO))
        return PM_EIO;
    return pm->dev.write(pm->dev.ctx, slot, page, pm->page_size);
}

static pm_error_t dev_read(pm_physmem_t *pm, uint64_t slot, void *page)
{
    if (pm__inject(PM_INJECT_SWAP_IO))
        return PM_EIO;
    return pm->dev.read(pm->dev.ctx, slot, page, pm->page_size);
}

/* ---- device slots ---------------------------------------------------------- */

static bool slot_used(const pm_physmem_t *pm, uint64_t s)
{
    return (pm->slot_map[s / 8] >> (s % 8)) & 1;
}

static uint64_t slot_take(pm_physmem_t *pm)
{
    for (uint64_t i = 0; i < pm->dev.slots; i++) {
        uint64_t s = (pm->slot_hint + i) % pm->dev.slots;
        if (!slot_used(pm, s)) {
            pm->slot_map[s / 8] |= (uint8_t)(1u << (s % 8));
            pm->slot_hint = s + 1;
            pm->st.swap_slots_used++;
            return s;
        }
    }
    return NO_SLOT; /* the caller counted free slots first */
}

static void slot_give(pm_physmem_t *pm, uint64_t s)
{
    if (s == NO_SLOT)
        return;
    pm->slot_map[s / 8] &= (uint8_t) ~(1u << (s % 8));
    pm->st.swap_slots_used--;
}

/* ---- entries --------------------------------------------------------------- */

static struct swent *entry_of_pfn(const pm_physmem_t *pm, uint32_t pfn)
{
    return g_hash_table_lookup(pm->swap_by_pfn, GUINT_TO_POINTER(pfn + 1));
}

uint32_t pm__swap_holds(const pm_physmem_t *pm, uint32_t pfn)
{
    return pm->swap_by_pfn != NULL && entry_of_pfn(pm, pfn) != NULL;
}

/* The inactive list an entry in memory is on: dirty ones wait to be
 * written, clean ones only to be dropped (two lists, so that finding a
 * clean one never walks the dirty ones). */
static GQueue *list_of(pm_physmem_t *pm, const struct swent *e)
{
    return e->dirty ? pm->inactive : pm->inactive_clean;
}

/* Entry E keeps physical frame PFN (one more holder of it), on the
 * inactive list. */
static void entry_hold(pm_physmem_t *pm, struct swent *e, uint32_t pfn)
{
    e->pfn = pfn;
    pm->pf[pfn].groups++;
    if (pm->pf[pfn].groups == 2)
        pm__downgrade_pfn(pm, pfn); /* now copy-on-write: no writable mapping */
    g_hash_table_insert(pm->swap_by_pfn, GUINT_TO_POINTER(pfn + 1), e);
    g_queue_push_tail(list_of(pm, e), e);
    e->link = list_of(pm, e)->tail;
}

/* Entry E lets its frame go (freed if nobody else holds it). */
static void entry_release(pm_physmem_t *pm, struct swent *e)
{
    if (e->pfn == NO_PFN)
        return;
    g_queue_delete_link(list_of(pm, e), e->link);
    e->link = NULL;
    g_hash_table_remove(pm->swap_by_pfn, GUINT_TO_POINTER(e->pfn + 1));
    uint32_t pfn = e->pfn;
    e->pfn = NO_PFN;
    pm__pframe_put(pm, pfn);
}

static void entry_unref(pm_physmem_t *pm, struct swent *e)
{
    if (--e->refs > 0)
        return;
    entry_release(pm, e);
    slot_give(pm, e->slot);
    free(e);
}

static pm_error_t entry_write(pm_physmem_t *pm, struct swent *e)
{
    pm_error_t err = dev_write(pm, e->slot, pm_pool_frame(pm->pool, PM_PFN(e->pfn)));
    struct pm_event ev = {.kind = err == PM_OK ? PM_EV_SWAP_WRITE : PM_EV_SWAP_ERROR,
                          .pfn = PM_PFN(e->pfn),
                          .vaddr = e->slot,
                          .count = (uint64_t)err};
    pm__emit(pm, &ev);
    if (err != PM_OK) {
        pm->st.swap_errors++;
        return err == PM_ENOSPC ? PM_ENOSPC : PM_EIO;
    }
    g_queue_unlink(pm->inactive, e->link);
    e->dirty = false;
    g_queue_push_tail_link(pm->inactive_clean, e->link); /* written now: clean, newest */
    pm->st.swap_writes++;
    return PM_OK;
}

/* Free one physical frame from the inactive list, oldest first: one that
 * only its entry holds, clean (FLUSH false) or written now (FLUSH true).
 * A failed write stops it (*IO_ERR gets the error, the entry stays dirty).
 * Returns true when a frame went back to the pool. */
bool pm__take_inactive(pm_physmem_t *pm, bool flush, pm_error_t *io_err)
{
    if (pm->inactive == NULL)
        return false;
    GQueue *q = flush ? pm->inactive : pm->inactive_clean;
    for (GList *l = q->head; l != NULL; l = l->next) {
        struct swent *e = l->data;
        const struct pframe *p = &pm->pf[e->pfn];
        if (p->groups != 1 || p->pins != 0)
            continue; /* a copy still uses the frame: dropping it frees nothing */
        return pm__swap_let_go(pm, e->pfn, io_err);
    }
    return false;
}

/* The entry holding PFN lets it go, written first if dirty (the soft
 * references that hold the frame too are losing it).  False, with
 * *IO_ERR, when the write failed: nothing changed. */
bool pm__swap_let_go(pm_physmem_t *pm, uint32_t pfn, pm_error_t *io_err)
{
    struct swent *e = entry_of_pfn(pm, pfn);
    if (e == NULL)
        return true;
    if (e->dirty) {
        pm_error_t err = entry_write(pm, e);
        if (err != PM_OK) {
            *io_err = err;
            return false;
        }
    }
    entry_release(pm, e);
    pm->st.inactive_dropped++;
    return true;
}

pm_error_t pm_swap_flush(pm_physmem_t *pm, uint64_t max, uint64_t *written)
{
    uint64_t n = 0;
    pm_error_t err = PM_OK;
    /* Each write moves the entry to the clean list: take the head each time. */
    while (n < max && err == PM_OK && pm->inactive->head != NULL) {
        if ((err = entry_write(pm, pm->inactive->head->data)) == PM_OK)
            n++;
    }
    if (written != NULL)
        *written = n;
    return err;
}

/* ---- identifiers ------------------------------------------------------------ */

static struct swid *id_lookup(const pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id)
{
    gint64 key = (gint64)id;
    struct swid *s = g_hash_table_lookup(pm->swap_ids, &key);
    return s != NULL && s->holder == caller ? s : NULL;
}

static void id_drop(pm_physmem_t *pm, pm_swap_id_t id, struct swid *s)
{
    struct task *t = pm__task(pm, s->holder);
    struct swent *e = s->e;
    gint64 key = (gint64)id;
    g_hash_table_remove(pm->swap_ids, &key); /* frees s */
    if (t != NULL) {
        t->swap_ids--;
        if (pm->buf.exists)
            pm__policy_write_task(pm, t);
    }
    entry_unref(pm, e);
}

void pm__swap_drop_task(pm_physmem_t *pm, struct task *t)
{
    if (t->swap_ids == 0)
        return;
    GHashTableIter it;
    gpointer key, value;
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(pm_swap_id_t));
    g_hash_table_iter_init(&it, pm->swap_ids);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (((struct swid *)value)->holder == t->id) {
            pm_swap_id_t id = (pm_swap_id_t) * (gint64 *)key;
            g_array_append_val(ids, id);
        }
    }
    for (guint i = 0; i < ids->len; i++) {
        pm_swap_id_t id = g_array_index(ids, pm_swap_id_t, i);
        id_drop(pm, id, id_lookup(pm, t->id, id));
    }
    g_array_free(ids, TRUE);
}

void pm__swap_free(pm_physmem_t *pm)
{
    if (pm->swap_ids != NULL) {
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, pm->swap_ids);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            struct swent *e = ((struct swid *)value)->e;
            if (--e->refs == 0) {
                entry_release(pm, e);
                free(e);
            }
        }
        g_hash_table_destroy(pm->swap_ids);
    }
    if (pm->swap_by_pfn != NULL)
        g_hash_table_destroy(pm->swap_by_pfn);
    if (pm->inactive != NULL)
        g_queue_free(pm->inactive);
    if (pm->inactive_clean != NULL)
        g_queue_free(pm->inactive_clean);
    free(pm->slot_map);
}

/* ---- the calls ---------------------------------------------------------------- */

/* What pm_swap takes from the host: ENTRIES new entries (some may be left
 * over: frames repeated in the call share one) and, per frame, an
 * identifier record and its key, all taken before anything changes. */
#define SWAP_OUT_LOCAL 8 /* frames whose pointers fit on the stack (the pager swaps one) */
struct swap_out_mem {
    struct swent **entries;
    uint64_t nentries;
    struct swid **ids;
    gint64 **keys;
    uint32_t count;
    struct swent *local_entries[SWAP_OUT_LOCAL];
    struct swid *local_ids[SWAP_OUT_LOCAL];
    gint64 *local_keys[SWAP_OUT_LOCAL];
};

/* Free what is left of M (ALL: the identifiers and keys too). */
static void swap_out_mem_put(struct swap_out_mem *m, bool all)
{
    for (uint64_t i = 0; m->entries != NULL && i < m->nentries; i++)
        free(m->entries[i]);
    for (uint32_t i = 0; all && m->ids != NULL && i < m->count; i++)
        free(m->ids[i]);
    for (uint32_t i = 0; all && m->keys != NULL && i < m->count; i++)
        free(m->keys[i]);
    if (m->entries != m->local_entries) {
        free(m->entries);
        free(m->ids);
        free(m->keys);
    }
}

static bool swap_out_mem_get(struct swap_out_mem *m, uint64_t entries, uint32_t count)
{
    *m = (struct swap_out_mem){.count = count};
    if (entries <= SWAP_OUT_LOCAL && count <= SWAP_OUT_LOCAL) {
        m->entries = m->local_entries;
        m->ids = m->local_ids;
        m->keys = m->local_keys;
    } else {
        m->entries = pm__calloc(entries + 1, sizeof *m->entries);
        m->ids = pm__calloc(count, sizeof *m->ids);
        m->keys = pm__calloc(count, sizeof *m->keys);
    }
    bool ok = m->entries != NULL && m->ids != NULL && m->keys != NULL;
    for (; ok && m->nentries < entries; m->nentries++)
        ok = (m->entries[m->nentries] = pm__malloc(sizeof **m->entries)) != NULL;
    for (uint32_t i = 0; ok && i < count; i++)
        ok = (m->ids[i] = pm__malloc(sizeof **m->ids)) != NULL &&
             (m->keys[i] = pm__malloc(sizeof **m->keys)) != NULL;
    if (!ok)
        swap_out_mem_put(m, true);
    return ok;
}

pm_error_t pm_swap(pm_physmem_t *pm, l4_task_t caller, container_t c, frame_t start, uint32_t count,
                   pm_swap_id_t *ids)
{
    pm__enter(pm);
    struct task *t = pm__task(pm, caller);
    if (t == NULL)
        return PM_ESRCH;
    if (count == 0 || (uint64_t)start + count - 1 > UINT32_MAX || ids == NULL)
        return PM_EINVAL;
    struct cap *cap;
    pm_error_t err = pm__open(pm, caller, c, PM_OPEN_FULL | PM_OPEN_UNBLOCKED, &cap);
    if (err != PM_OK)
        return err;
    struct container *ct = cap->c;
    if (pm__lease_holds(pm, ct))
        return PM_EBUSY; /* pinned: a locked container's frames stay put */
    /* Count what the data needs: a slot per physical frame no entry holds
     * yet (frames repeated in this call once), and an entry for each of
     * those and each unbound frame. */
    GHashTable *fresh = g_hash_table_new(g_direct_hash, g_direct_equal);
    uint64_t zeros = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t v = pm__slot(ct, start + i);
        if (v == 0) {
            g_hash_table_destroy(fresh);
            return PM_ENOENT;
        }
        uint32_t pfn = pm->groups[SLOT_GROUP(v)].pfn;
        if (pfn == NO_PFN)
            zeros++;
        else if (entry_of_pfn(pm, pfn) == NULL)
            g_hash_table_add(fresh, GUINT_TO_POINTER(pfn + 1));
    }
    uint64_t slots = g_hash_table_size(fresh);
    g_hash_table_destroy(fresh);
    if (t->swap_quota != 0 && t->swap_ids + count > t->swap_quota)
        return PM_EDQUOT;
    if (!pm->has_swap || slots > pm->dev.slots - pm->st.swap_slots_used)
        return PM_ENOSPC;
    /* The host memory it all takes, before anything changes. */
    struct swap_out_mem mem;
    if (!swap_out_mem_get(&mem, slots + zeros, count))
        return PM_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        frame_t f = start + i;
        uint32_t pfn = pm->groups[SLOT_GROUP(pm__slot(ct, f))].pfn;
        struct swent *e = pfn != NO_PFN ? entry_of_pfn(pm, pfn) : NULL;
        if (e != NULL) {
            pm->st.swap_shared++;
        } else {
            e = mem.entries[--mem.nentries];
            *e = (struct swent){.pfn = NO_PFN, .slot = NO_SLOT};
            if (pfn == NO_PFN) {
                e->zero = true;
            } else {
                e->slot = slot_take(pm);
                e->dirty = true;
                entry_hold(pm, e, pfn);
            }
        }
        e->refs++;
        struct swid *sw = mem.ids[i];
        *sw = (struct swid){.e = e, .holder = caller};
        gint64 *key = mem.keys[i];
        *key = (gint64)pm->next_swap_id;
        ids[i] = pm->next_swap_id++;
        g_hash_table_insert(pm->swap_ids, key, sw);
        t->swap_ids++;
        pm__frame_drop(pm, ct, f);
    }
    swap_out_mem_put(&mem, false);
    pm__charge(pm, ct->owner, -(int64_t)count);
    if (pm->buf.exists)
        pm__policy_write_task(pm, t);
    pm->st.frames_deallocated += count;
    pm->st.swap_outs += count;
    pm__emit_range(pm, PM_EV_SWAP_OUT, caller, ct->id, start, count);
    return PM_OK;
}

/* Frame F of DC gets the data of physical frame PFN (NO_PFN: zeros) as a
 * new share group of its own; its old group and mappings go. */
static void refill(pm_physmem_t *pm, struct container *dc, frame_t f, uint32_t pfn)
{
    uint32_t old = SLOT_GROUP(pm__slot(dc, f));
    pm__unmap_frame(pm, dc, f);
    uint32_t ng = pm__group_new(pm, pfn);
    if (pfn != NO_PFN && pm->pf[pfn].groups == 2)
        pm__downgrade_pfn(pm, pfn);
    pm__group_join(pm, ng, (struct vref){dc->id, f});
    pm__sparse_set(&dc->frames, f, ng);
    pm__group_leave(pm, old, (struct vref){dc->id, f});
}

static void read_failed(pm_physmem_t *pm, l4_task_t caller, const struct swent *e, pm_error_t err)
{
    pm->st.swap_errors++;
    struct pm_event ev = {
        .kind = PM_EV_SWAP_ERROR, .task = caller, .vaddr = e->slot, .count = (uint64_t)err};
    pm__emit(pm, &ev);
}

/* pm_swap_in with no free frame: frame F of CT gets the data in a frame of
 * its own — its private physical frame when it has one, else (unbound, or
 * shared) the frame physmem can take for it — read through a bounce page. */
static pm_error_t read_in_place(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, struct swid *s,
                                struct container *ct, frame_t f)
{
    struct swent *e = s->e;
    uint32_t g = SLOT_GROUP(pm__slot(ct, f));
    struct group *gr = &pm->groups[g];
    if (gr->pfn == NO_PFN || gr->members != 1 || gr->pins != 0 || pm->pf[gr->pfn].groups != 1 ||
        pm->pf[gr->pfn].pins != 0)
        return PM_ENOMEM; /* no frame of its own to reuse */
    void *bounce = pm__malloc(pm->page_size);
    if (bounce == NULL)
        return PM_ENOMEM;
    pm_error_t err = dev_read(pm, e->slot, bounce);
    if (err != PM_OK) {
        free(bounce);
        read_failed(pm, caller, e, err);
        return PM_EIO;
    }
    pm__unmap_frame(pm, ct, f); /* its contents change under its mappings */
    memcpy(pm_pool_frame(pm->pool, PM_PFN(gr->pfn)), bounce, pm->page_size);
    free(bounce);
    pm->st.swap_reads++;
    if (e->refs > 1)
        entry_hold(pm, e, gr->pfn); /* one read for every identifier */
    id_drop(pm, id, s);
    struct pm_event ev = {
        .kind = PM_EV_SWAP_IN, .task = caller, .container = ct->id, .frame = f, .count = 1};
    pm__emit(pm, &ev);
    return PM_OK;
}

static pm_error_t swap_back(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, container_t c,
                            frame_t f, bool may_read)
{
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    struct swid *s = id_lookup(pm, caller, id);
    struct cap *cap;
    struct task *t;
    /* EBADF (the container, then the identifier) before EBUSY (SPEC §3.9). */
    pm_error_t err = pm__lookup(pm, caller, c, &t, &cap);
    if (err != PM_OK)
        return err;
    if (s == NULL)
        return PM_EBADF;
    if (pm__blocked(pm, cap))
        return PM_EBUSY;
    struct container *ct = cap->c;
    if (pm__slot(ct, f) == 0)
        return PM_ENOENT;
    if (!pm__group_reserve(pm, 1))
        return PM_ENOMEM;
    struct swent *e = s->e;
    bool read = false;
    uint32_t pfn = e->zero ? NO_PFN : e->pfn;
    if (!e->zero && e->pfn == NO_PFN) {
        if (!may_read)
            return PM_ESTALE;
        pm_pfn_t fresh;
        if ((err = pm__frame_alloc(pm, 0, 0, &fresh)) != PM_OK) {
            if (err != PM_ENOMEM)
                return err;
            /* The pool is full: read into the target's own frame, through a
             * bounce page so that a failed read changes nothing. */
            return read_in_place(pm, caller, id, s, ct, f);
        }
        err = dev_read(pm, e->slot, pm_pool_frame(pm->pool, fresh));
        if (err != PM_OK) {
            (void)pm_pool_release(pm->pool, fresh, 0);
            read_failed(pm, caller, e, err);
            return PM_EIO;
        }
        pm->st.swap_reads++;
        pm->st.frames_bound++;
        pm->pf[fresh.n] = (struct pframe){0};
        pfn = fresh.n;
        read = true;
    } else {
        pm->st.swap_recovered++;
    }
    refill(pm, ct, f, pfn);
    /* One read serves every identifier of the entry: while others remain,
     * the entry keeps the frame it read (clean, on the inactive list). */
    if (read && e->refs > 1)
        entry_hold(pm, e, pfn);
    id_drop(pm, id, s);
    struct pm_event ev = {
        .kind = PM_EV_SWAP_IN, .task = caller, .container = ct->id, .frame = f, .count = read};
    pm__emit(pm, &ev);
    return PM_OK;
}

pm_error_t pm_swap_recover(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, container_t c,
                           frame_t f)
{
    return swap_back(pm, caller, id, c, f, false);
}

pm_error_t pm_swap_in(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id, container_t c, frame_t f)
{
    return swap_back(pm, caller, id, c, f, true);
}

pm_error_t pm_swap_discard(pm_physmem_t *pm, l4_task_t caller, pm_swap_id_t id)
{
    pm__enter(pm);
    if (pm__task(pm, caller) == NULL)
        return PM_ESRCH;
    struct swid *s = id_lookup(pm, caller, id);
    if (s == NULL)
        return PM_EBADF;
    id_drop(pm, id, s);
    return PM_OK;
}
