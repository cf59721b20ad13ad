/* pager.c — the default self-pager (SPEC §8; pmsim/pager.h).
 *
 * Slots are the frame identifiers of the primary container, 0 … frames − 1:
 * a slot holds one page at a time.  A page is a struct vpage in an array
 * per range (so finding one is a range lookup, the last range cached, and
 * an index): resident in a slot, or in swap, or nowhere (it reads as
 * zero).  What policies ask of a slot (next use, hint) is kept in arrays
 * by slot, so that a victim scan is plain loads.  A fault finds the page's range, gets a slot
 * (a free one, a new one while under the limit, or an evicted one), fills
 * it (swap-in, or the zeros a fresh or released frame holds) and maps it:
 * read-only for a read, so that the first write faults again and marks the
 * page precious. */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "final_pager.h"
#include "pmsim/pager.h"

#define NO_SLOT UINT32_MAX

struct vpage {
    uint32_t slot; /* NO_SLOT: not resident */
    bool dirty;    /* precious: written (or swapped in) since it was zero */
    bool in_swap;
    bool filled; /* its frame holds data from a file (not zeros) */
    uint8_t hint;
    pm_swap_id_t swap;
    uint64_t next_use; /* OPT: position of its next reference */
    uint64_t brought;  /* the reference epoch that brought it in */
};

/* Records per database page: a power of two (a record is 32 bytes). */
G_STATIC_ASSERT(sizeof(struct vpage) == 32);
#define REC_SHIFT 5u

struct region {
    uint64_t start, end;  /* bytes, page aligned */
    struct pm_dbpage *db; /* the pages of its records (one record per page) */
    uint64_t ndb;
    bool file; /* backed by SOURCE from OFFSET, else anonymous zeros */
    struct pm_pager_source source;
    uint64_t offset;
};

struct pm_pager {
    pm_physmem_t *pm;
    l4_kernel_t *k;
    l4_task_t task;
    l4_thread_t thread, pager_thread;
    container_t c; /* the primary container (made at the first mmap) */
    size_t page;
    unsigned shift;
    const struct pm_evict_policy *pol;
    void *pst;
    struct pm_evict_view view;
    GArray *regions;     /* struct region, sorted by start */
    guint last;          /* the range the last lookup found */
    uint64_t *slot_page; /* by slot: the page it holds (UINT64_MAX: none) */
    uint64_t *slot_next; /* by slot: its page's next use (OPT) */
    uint8_t *slot_hint;  /* by slot: its page's hint */
    uint8_t *slot_extra; /* by slot: its frame is counted as extra (clean pages only) */
    uint32_t
        *slot_pfn;   /* by slot: its frame's physical frame as last seen (UINT32_MAX: not known) */
    uint32_t nextra; /* slots labelled extra */
    uint32_t nslots, cap, limit;
    uint64_t lent;
    bool extra_ok;
    bool follow_g; /* frames not configured: the limit follows G (less what is lent) */
    GArray *empty; /* uint32 slots without a frame (given back by munmap) */
    uint64_t *future, *next;
    size_t nfuture, pos;
    uint64_t epoch; /* one per access through the pager */
    /* The database: records in pages the final pager keeps. */
    struct pm_final_pager fp;
    unsigned char *blank; /* a page of fresh records */
    unsigned db_shift;    /* log2 of records per database page */
    bool db_failed;       /* a database page could not be had */
    /* A read fault that will zero-fill: a clean victim's mapping may move
     * to the faulting page by a grant item in the fault's reply, instead of
     * an unmap here and a map through physmem (the frame holds zeros and
     * stays where physmem put it). */
    l4_msg_t *reply; /* the fault's reply while it is being resolved */
    bool grant_ok;   /* this fault may take a victim's mapping so */
    bool granting;   /* a victim's mapping at grant_from is to move */
    uint64_t grant_from;
    struct pm_pager_stats st;
};

/* ---- the view policies get ----------------------------------------------------- */

/* Record I of range R, from the final pager (NULL if its database page
 * cannot be had: out of memory, or the device failed). */
static struct vpage *record(pm_pager_t *p, const struct region *r, uint64_t i)
{
    struct pm_dbpage *d = &r->db[i >> p->db_shift];
    unsigned char *m = pm_fp_get(&p->fp, d);
    if (m == NULL) {
        p->db_failed = true;
        return NULL;
    }
    return (struct vpage *)m + (i & ((1u << p->db_shift) - 1));
}

/* The range that holds byte ADDR, or NULL. */
static const struct region *find_region(pm_pager_t *p, uint64_t addr)
{
    if (p->last < p->regions->len) {
        const struct region *r = &g_array_index(p->regions, struct region, p->last);
        if (addr >= r->start && addr < r->end)
            return r;
    }
    guint lo = 0, hi = p->regions->len;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        const struct region *r = &g_array_index(p->regions, struct region, mid);
        if (addr < r->start) {
            hi = mid;
        } else if (addr >= r->end) {
            lo = mid + 1;
        } else {
            p->last = mid;
            return r;
        }
    }
    return NULL;
}

/* The page VP, or NULL outside every range (or when its record cannot be
 * had: db_failed says). */
static struct vpage *page_get(pm_pager_t *p, uint64_t vp)
{
    uint64_t addr = vp << p->shift;
    const struct region *r = find_region(p, addr);
    return r != NULL ? record(p, r, (addr - r->start) >> p->shift) : NULL;
}

static struct vpage *page_of_slot(pm_pager_t *p, uint32_t s)
{
    return p->slot_page[s] != UINT64_MAX ? page_get(p, p->slot_page[s]) : NULL;
}

static uint64_t view_next_use(void *ctx, uint32_t s)
{
    const pm_pager_t *p = ctx;
    return p->slot_page[s] != UINT64_MAX ? p->slot_next[s] : UINT64_MAX;
}

static enum pm_evict_hint view_hint(void *ctx, uint32_t s)
{
    const pm_pager_t *p = ctx;
    return (enum pm_evict_hint)p->slot_hint[s];
}

static bool slots_grow(pm_pager_t *p)
{
    if (p->nslots < p->cap)
        return true;
    uint32_t ncap = p->cap ? 2 * p->cap : 64;
    uint64_t *sp = realloc(p->slot_page, (size_t)ncap * sizeof *sp);
    if (sp == NULL)
        return false;
    p->slot_page = sp;
    uint64_t *sn = realloc(p->slot_next, (size_t)ncap * sizeof *sn);
    if (sn == NULL)
        return false;
    p->slot_next = sn;
    uint8_t *sh = realloc(p->slot_hint, ncap);
    if (sh == NULL)
        return false;
    p->slot_hint = sh;
    uint8_t *sx = realloc(p->slot_extra, ncap);
    if (sx == NULL)
        return false;
    p->slot_extra = sx;
    uint32_t *sf = realloc(p->slot_pfn, (size_t)ncap * sizeof *sf);
    if (sf == NULL)
        return false;
    p->slot_pfn = sf;
    for (uint32_t i = p->cap; i < ncap; i++) {
        sp[i] = UINT64_MAX;
        sn[i] = UINT64_MAX;
        sh[i] = PM_HINT_NORMAL;
        sx[i] = 0;
        sf[i] = UINT32_MAX;
    }
    p->cap = ncap;
    p->pol->grow(p->pst, ncap);
    return true;
}

/* Physmem counts A against G, not which frame is which: while the pager
 * holds extra frames, even a guaranteed slot's frame is past G in its
 * eyes, so an eligible pager always allocates with CONT_ALLOC_EXTRA (which
 * changes nothing within G).  Which frames are extra is the pager's own
 * label (slot_extra). */
static unsigned alloc_flags(const pm_pager_t *p)
{
    return p->extra_ok ? CONT_ALLOC_EXTRA : 0;
}

static pm_error_t alloc_slot(pm_pager_t *p, uint32_t s)
{
    uint32_t one = 1;
    p->slot_pfn[s] = UINT32_MAX; /* a new frame */
    return pm_container_allocate(p->pm, p->task, p->c, s, &one, alloc_flags(p));
}

/* Slot S, taken for a page that could not come in, goes back: its frame
 * deallocated, the slot empty. */
static void slot_back(pm_pager_t *p, uint32_t s)
{
    uint32_t one = 1;
    p->slot_pfn[s] = UINT32_MAX;
    (void)pm_container_deallocate(p->pm, p->task, p->c, s, &one, 0);
    p->nextra -= p->slot_extra[s];
    p->slot_extra[s] = 0;
    g_array_append_val(p->empty, s);
}

static bool give_up(pm_pager_t *p, uint32_t s);

/* Forget slot S's page (it was evicted or given up). */
static void unslot(pm_pager_t *p, uint32_t s, struct vpage *v)
{
    p->pol->remove(p->pst, s);
    v->slot = NO_SLOT;
    p->slot_page[s] = UINT64_MAX;
    p->st.resident--;
    p->st.evictions++;
}

/* The pager's own mapping of slot S's frame is still at VADDR (the task
 * may have mapped something else over it, or physmem taken it away): only
 * then may a grant move it. */
static bool still_mapped(pm_pager_t *p, uint32_t s, uint64_t vaddr)
{
    pm_pfn_t pfn;
    unsigned rights;
    if (l4_lookup(p->k, p->task, vaddr, &pfn, &rights) != PM_OK || (rights & L4_R) == 0)
        return false;
    if (p->slot_pfn[s] == pfn.n)
        return true; /* the frame as last seen: its frame still */
    /* Not known, or another: ask physmem which physical frame the slot has. */
    struct pm_frame_info fi;
    if (pm_frame_info(p->pm, p->task, p->c, s, &fi) != PM_OK || !fi.bound)
        return false;
    p->slot_pfn[s] = (uint32_t)fi.pfn.n;
    return fi.pfn.n == pfn.n;
}

/* Evict VICTIM's page and keep its slot, with a zero frame, in *S. */
static pm_error_t evict_into(pm_pager_t *p, uint32_t victim, uint32_t *s)
{
    struct vpage *v = page_of_slot(p, victim);
    pm_error_t err;
    if (v == NULL)
        return PM_ENOMEM; /* its record cannot be had */
    if (v->dirty) {
        /* Precious: to swap, then a fresh frame in the slot. */
        pm_swap_id_t id;
        if ((err = pm_swap(p->pm, p->task, p->c, victim, 1, &id)) != PM_OK)
            return err;
        v->in_swap = true;
        v->swap = id;
        p->st.swap_outs++;
        unslot(p, victim, v);
        if ((err = alloc_slot(p, victim)) != PM_OK) {
            g_array_append_val(p->empty, victim); /* the slot has no frame now */
            return err;
        }
    } else if (v->filled) {
        /* Clean data of a file: dropped (the file has it), the frame
         * released so that it reads zero again. */
        frame_t f = victim;
        if ((err = pm_release_data(p->pm, p->task, p->c, &f, 1)) != PM_OK)
            return err;
        v->filled = false;
        p->st.drops++;
        unslot(p, victim, v);
    } else {
        /* Clean: zeros, only ever mapped read-only, so the frame still
         * holds zeros, and is reused as it is: no release, no fresh frame
         * to clear.  The old page's mapping moves to the faulting page
         * with the reply (a read fault that zero-fills), or the pager
         * unmaps it (a flush of its own address space). */
        uint64_t old = p->slot_page[victim] << p->shift;
        if (p->grant_ok && still_mapped(p, victim, old)) {
            p->granting = true;
            p->grant_from = old;
        } else {
            l4_fpage_t fp = l4_fpage(old, p->shift, L4_RWX);
            if ((err = l4_unmap(p->k, p->thread, fp, L4_UNMAP_FLUSH, NULL)) != PM_OK)
                return err;
        }
        p->st.drops++;
        unslot(p, victim, v);
    }
    *s = victim;
    return PM_OK;
}

static uint32_t guaranteed_held(const pm_pager_t *p)
{
    return (uint32_t)p->st.resident - p->nextra;
}

/* A slot index without a frame: an empty one, or a new one. */
static bool free_index(pm_pager_t *p, uint32_t *s)
{
    if (p->empty->len > 0) {
        *s = g_array_index(p->empty, uint32_t, p->empty->len - 1);
        return true;
    }
    if (!slots_grow(p))
        return false;
    *s = p->nslots;
    return true;
}

/* Give slot index S a frame, labelled extra or not; it leaves the empty
 * list. */
static pm_error_t fill_index(pm_pager_t *p, uint32_t s, bool extra)
{
    if (extra && !p->extra_ok)
        return PM_ENOMEM;
    pm_error_t err = alloc_slot(p, s);
    if (err != PM_OK)
        return err;
    if (s == p->nslots)
        p->nslots++;
    else
        g_array_set_size(p->empty, p->empty->len - 1); /* it was the last empty one */
    p->slot_extra[s] = extra;
    p->nextra += extra;
    return PM_OK;
}

/* A slot with a zero frame and no page, for a page coming in.  CLEAN: the
 * page is clean (zeros, read), so an extra frame may hold it; a precious
 * page needs one of the guaranteed frames (SPEC §8: extra frames hold only
 * data that can be remade). */
static pm_error_t get_slot(pm_pager_t *p, uint32_t *s, bool clean)
{
    for (uint64_t round = 0; round <= (uint64_t)p->nslots + 1; round++) {
        uint32_t i;
        bool under = p->limit == 0 || guaranteed_held(p) < p->limit;
        if (under && free_index(p, &i) && fill_index(p, i, false) == PM_OK) {
            *s = i;
            return PM_OK;
        }
        if (!under && clean && p->extra_ok && free_index(p, &i) &&
            fill_index(p, i, true) == PM_OK) {
            *s = i;
            return PM_OK;
        }
        uint32_t victim = p->pol->victim(p->pst);
        struct vpage *v = victim != NO_SLOT && victim < p->nslots ? page_of_slot(p, victim) : NULL;
        if (v == NULL)
            return PM_ENOMEM; /* nothing to evict */
        /* A precious page does not go into an extra frame: such a victim's
         * frame goes back instead, and the search goes on. */
        if (!clean && p->slot_extra[victim]) {
            if (!give_up(p, victim))
                return PM_ENOENT; /* its frame is gone: catch up with physmem */
            continue;
        }
        return evict_into(p, victim, s);
    }
    return PM_ENOMEM;
}

/* A page in an extra frame was written: it is precious now, so it needs a
 * guaranteed frame.  Physmem counts extras, not frames: the labels swap
 * with a guaranteed slot holding a clean page; with none, a precious page
 * in a guaranteed slot goes to swap (its frame back) to make room. */
static pm_error_t promote(pm_pager_t *p, uint32_t s)
{
    if (!p->slot_extra[s])
        return PM_OK;
    if (p->limit == 0 || guaranteed_held(p) < p->limit) {
        p->slot_extra[s] = 0; /* room in G: it is simply one of the guaranteed now */
        p->nextra--;
        return PM_OK;
    }
    uint32_t dirty_g = NO_SLOT;
    for (uint32_t g = 0; g < p->nslots; g++) {
        const struct vpage *v = p->slot_extra[g] ? NULL : page_of_slot(p, g);
        if (v == NULL)
            continue;
        if (!v->dirty) {
            p->slot_extra[g] = 1;
            p->slot_extra[s] = 0;
            return PM_OK;
        }
        if (dirty_g == NO_SLOT)
            dirty_g = g;
    }
    if (dirty_g == NO_SLOT)
        return PM_ENOMEM;
    if (!give_up(p, dirty_g))
        return PM_ENOENT; /* its frame is gone (an exile): catch up, try again */
    p->slot_extra[s] = 0;
    p->nextra--;
    return PM_OK;
}

static pm_error_t map_page(pm_pager_t *p, uint32_t s, uint64_t vaddr, bool write)
{
    uint32_t one = 1;
    unsigned flags = write ? CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE : CONT_MAP_READ;
    return pm_container_map(p->pm, p->task, p->c, s, &one, flags, vaddr);
}

/* ---- faults ---------------------------------------------------------------------- */

/* Page V's frame vanished under the pager (its task was exiled): the page
 * reads zero again, its slot is empty. */
static void forget_lost(pm_pager_t *p, struct vpage *v)
{
    uint32_t s = v->slot;
    p->pol->remove(p->pst, s);
    p->slot_page[s] = UINT64_MAX;
    slot_back(p, s);
    v->slot = NO_SLOT;
    v->dirty = false;
    v->filled = false;
    p->st.resident--;
}

/* Physmem dropped frames behind the pager's back (an exile): every page
 * whose frame is gone reads zero again. */
static void resync(pm_pager_t *p)
{
    struct pm_container_info ci;
    if (p->c == PM_CONTAINER_NONE || pm_container_info(p->pm, p->task, p->c, &ci) != PM_OK ||
        ci.frames == (uint64_t)(p->nslots - p->empty->len))
        return;
    for (uint32_t s = 0; s < p->nslots; s++) {
        struct pm_frame_info fi;
        if (pm_frame_info(p->pm, p->task, p->c, s, &fi) == PM_OK)
            continue;
        struct vpage *v = page_of_slot(p, s);
        if (v == NULL && p->slot_page[s] != UINT64_MAX)
            continue; /* its record cannot be had: left for the next time */
        if (v != NULL) {
            forget_lost(p, v);
            continue;
        }
        bool listed = false;
        for (guint i = 0; i < p->empty->len && !listed; i++)
            listed = g_array_index(p->empty, uint32_t, i) == s;
        if (!listed) {
            p->nextra -= p->slot_extra[s];
            p->slot_extra[s] = 0;
            g_array_append_val(p->empty, s);
        }
    }
}

static pm_error_t resolve_once(pm_pager_t *p, uint64_t addr, bool write);

/* Page VP (record V) is in slot S now: the tables and the policy know. */
static void seat(pm_pager_t *p, struct vpage *v, uint64_t vp, uint32_t s)
{
    v->slot = s;
    p->slot_page[s] = vp;
    p->slot_next[s] = v->next_use;
    p->slot_hint[s] = v->hint;
    p->st.resident++;
    v->brought = p->epoch;
    p->pol->insert(p->pst, s);
}

/* A fault.  Frames an exile took show as ENOENT on the way: the pager
 * catches up with physmem and tries once more. */
static pm_error_t resolve(pm_pager_t *p, uint64_t addr, bool write)
{
    pm_error_t err = resolve_once(p, addr, write);
    if (err == PM_ENOENT) {
        p->fp.pin = NULL;
        resync(p);
        err = resolve_once(p, addr, write);
    }
    p->fp.pin = NULL;
    return err;
}

/* A pager that multiplexes "all of G" follows G as the policy server moves
 * it (a smaller G after its grace period, a larger one at once). */
static void follow_guarantee(pm_pager_t *p)
{
    struct pm_task_info ti;
    if (!p->follow_g || pm_task_info(p->pm, p->task, &ti) != PM_OK)
        return;
    uint64_t g = ti.guaranteed > p->lent ? ti.guaranteed - p->lent : 1;
    p->limit = (uint32_t)(g < UINT32_MAX ? g : UINT32_MAX);
}

static pm_error_t resolve_once(pm_pager_t *p, uint64_t addr, bool write)
{
    follow_guarantee(p);
    uint64_t vaddr = addr & ~((uint64_t)p->page - 1), vp = addr >> p->shift;
    p->db_failed = false;
    struct vpage *v = page_get(p, vp);
    if (v == NULL)
        return p->db_failed ? PM_ENOMEM : PM_EFAULT;
    /* Its record stays where it is while the fault is resolved (the
     * victims' records come and go). */
    const struct region *r = find_region(p, addr);
    p->fp.pin = &r->db[((addr - r->start) >> p->shift) >> p->db_shift];
    pm_error_t err;
    if (v->slot != NO_SLOT) {
        /* Resident, mapped read-only: the first write makes it precious. */
        if (write && !v->dirty && (err = promote(p, v->slot)) != PM_OK)
            return err;
        err = map_page(p, v->slot, vaddr, write);
        if (err == PM_ENOENT) {
            /* The frame is gone (the task was exiled): the data with it. */
            forget_lost(p, v);
        } else {
            if (err == PM_OK)
                v->dirty |= write;
            return err;
        }
    }
    uint32_t s;
    p->grant_ok = p->reply != NULL && !write && !v->in_swap && !r->file;
    p->granting = false;
    err = get_slot(p, &s, !v->in_swap && !write);
    p->grant_ok = false;
    if (err != PM_OK)
        return err;
    if (v->in_swap) {
        err = pm_swap_in(p->pm, p->task, v->swap, p->c, s);
        if (err == PM_EBADF) {
            v->in_swap = false; /* dropped (an exile): the data is lost, zeros */
            p->st.zero_fills++;
        } else if (err != PM_OK) {
            slot_back(p, s); /* the data stays in swap */
            return err;
        } else {
            v->in_swap = false;
            v->dirty = true; /* its only copy is this frame now */
            p->st.swap_ins++;
        }
    } else if ((r = find_region(p, addr))->file) {
        /* A page of a file: the file server puts it in the frame (a clean
         * copy: it can be read again). */
        err = r->source.fetch(r->source.ctx, r->offset + (vaddr - r->start), p->c, s);
        if (err != PM_OK) {
            slot_back(p, s);
            return err;
        }
        v->filled = true;
        p->st.file_reads++;
    } else {
        p->st.zero_fills++;
    }
    seat(p, v, vp, s);
    if (p->granting) {
        /* The victim's read-only mapping of this frame moves here. */
        p->granting = false;
        l4_msg_put_item(p->reply, L4_ITEM_GRANT, l4_fpage(p->grant_from, p->shift, L4_R | L4_X),
                        vaddr);
        return PM_OK;
    }
    if ((err = map_page(p, s, vaddr, write)) != PM_OK)
        return err;
    v->dirty |= write;
    return PM_OK;
}

pm_error_t pm_pager_on_fault(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                             const l4_msg_t *msg, l4_msg_t *reply)
{
    (void)self;
    pm_pager_t *p = ctx;
    if ((l4_msg_label(msg) & 0xFFF0u) != L4_LABEL_PAGEFAULT)
        return PM_EINVAL;
    /* A grant in the reply only makes sense to the task's own threads. */
    p->reply = l4_thread_task(k, from) == p->task ? reply : NULL;
    pm_error_t err = resolve(p, l4_msg_word(msg, 0), (l4_msg_label(msg) & L4_W) != 0);
    p->reply = NULL;
    if (err == PM_OK)
        p->st.faults++;
    else
        p->st.refused++;
    return err;
}

/* ---- the calls --------------------------------------------------------------------- */

pm_error_t pm_pager_new(const struct pm_pager_config *cfg, pm_pager_t **out)
{
    if (cfg == NULL || out == NULL || cfg->pm == NULL || cfg->k == NULL)
        return PM_EINVAL;
    const struct pm_evict_policy *pol = pm_evict_policy_find(cfg->policy ? cfg->policy : "lru");
    l4_task_t task = l4_thread_task(cfg->k, cfg->thread);
    if (pol == NULL || task == L4_NILTASK || l4_thread_task(cfg->k, cfg->pager_thread) != task ||
        cfg->thread == cfg->pager_thread)
        return PM_EINVAL;
    struct pm_task_info ti;
    pm_error_t err = pm_task_info(cfg->pm, task, &ti);
    if (err != PM_OK)
        return err;
    pm_pager_t *p = g_new0(pm_pager_t, 1);
    p->pm = cfg->pm;
    p->k = cfg->k;
    p->task = task;
    p->thread = cfg->thread;
    p->pager_thread = cfg->pager_thread;
    p->page = pm_physmem_page_size(cfg->pm);
    p->shift = (unsigned)__builtin_ctzll(p->page);
    p->pol = pol;
    p->limit = (uint32_t)(cfg->frames ? cfg->frames : ti.guaranteed);
    p->extra_ok = cfg->extra;
    p->follow_g = cfg->frames == 0 && ti.guaranteed != 0;
    p->view = (struct pm_evict_view){.ctx = p, .next_use = view_next_use, .hint = view_hint};
    p->pst = pol->create(p->limit ? p->limit : 64, &p->view);
    p->regions = g_array_new(FALSE, FALSE, sizeof(struct region));
    p->empty = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    if (p->pst == NULL) {
        pm_pager_free(p);
        return PM_ENOMEM;
    }
    /* The database: a page of fresh records, and the final pager. */
    size_t unit = pm_pager_record_page(p->page);
    p->db_shift = (unsigned)__builtin_ctzll(unit) - REC_SHIFT;
    p->blank = g_malloc(unit);
    for (size_t i = 0; i < unit / sizeof(struct vpage); i++)
        ((struct vpage *)p->blank)[i] =
            (struct vpage){.slot = NO_SLOT, .next_use = UINT64_MAX, .brought = UINT64_MAX};
    pm_fp_init(&p->fp, unit, p->blank, cfg->final_backing,
               cfg->final_frames ? cfg->final_frames : PM_PAGER_FINAL_FRAMES);
    p->st.frames = p->limit;
    *out = p;
    return PM_OK;
}

/* The records of range R go: swap identifiers they hold are discarded
 * (those in a database page that cannot be read back stay with physmem
 * until the task goes), their pages freed. */
static void drop_records(pm_pager_t *p, struct region *r)
{
    uint64_t n = (r->end - r->start) >> p->shift, per = 1ull << p->db_shift;
    for (uint64_t b = 0; b < r->ndb; b++) {
        struct pm_dbpage *d = &r->db[b];
        if (!pm_fp_holds(d))
            continue;
        const struct vpage *recs = (const struct vpage *)pm_fp_get(&p->fp, d);
        for (uint64_t j = 0; recs != NULL && j < per && b * per + j < n; j++)
            if (recs[j].in_swap)
                (void)pm_swap_discard(p->pm, p->task, recs[j].swap);
        pm_fp_forget(&p->fp, d);
    }
    g_free(r->db);
    r->db = NULL;
}

void pm_pager_free(pm_pager_t *p)
{
    if (p == NULL)
        return;
    for (guint i = 0; p->regions != NULL && i < p->regions->len; i++)
        drop_records(p, &g_array_index(p->regions, struct region, i));
    pm_fp_fini(&p->fp);
    g_free(p->blank);
    if (p->c != PM_CONTAINER_NONE)
        (void)pm_container_destroy(p->pm, p->task, p->c);
    if (p->pst != NULL)
        p->pol->destroy(p->pst);
    if (p->regions != NULL)
        g_array_free(p->regions, TRUE);
    if (p->empty != NULL)
        g_array_free(p->empty, TRUE);
    free(p->slot_page);
    free(p->slot_next);
    free(p->slot_hint);
    free(p->slot_extra);
    free(p->slot_pfn);
    g_free(p->future);
    g_free(p->next);
    g_free(p);
}

static bool range_ok(const pm_pager_t *p, uint64_t vaddr, uint64_t len)
{
    return len > 0 && ((vaddr | len) & (p->page - 1)) == 0 && vaddr < L4_VADDR_LIMIT &&
           len <= L4_VADDR_LIMIT - vaddr;
}

static pm_error_t add_range(pm_pager_t *p, uint64_t vaddr, uint64_t len,
                            const struct pm_pager_source *src, uint64_t offset);

pm_error_t pm_pager_mmap(pm_pager_t *p, uint64_t vaddr, uint64_t len)
{
    return add_range(p, vaddr, len, NULL, 0);
}

pm_error_t pm_pager_mmap_file(pm_pager_t *p, uint64_t vaddr, uint64_t len,
                              const struct pm_pager_source *src, uint64_t offset)
{
    if (src == NULL || src->fetch == NULL || (offset & (p->page - 1)) != 0)
        return PM_EINVAL;
    return add_range(p, vaddr, len, src, offset);
}

static pm_error_t add_range(pm_pager_t *p, uint64_t vaddr, uint64_t len,
                            const struct pm_pager_source *src, uint64_t offset)
{
    if (!range_ok(p, vaddr, len))
        return PM_EINVAL;
    guint at = 0;
    while (at < p->regions->len && g_array_index(p->regions, struct region, at).start < vaddr)
        at++;
    if ((at > 0 && g_array_index(p->regions, struct region, at - 1).end > vaddr) ||
        (at < p->regions->len && g_array_index(p->regions, struct region, at).start < vaddr + len))
        return PM_EEXIST;
    if (p->c == PM_CONTAINER_NONE) {
        pm_error_t err = pm_container_create(p->pm, p->task, &p->c);
        if (err != PM_OK)
            return err;
    }
    /* Records come when first used (the final pager makes their pages):
     * here only the table of database pages. */
    uint64_t n = len >> p->shift, ndb = (n + (1ull << p->db_shift) - 1) >> p->db_shift;
    struct region r = {.start = vaddr,
                       .end = vaddr + len,
                       .db = g_try_new0(struct pm_dbpage, ndb),
                       .ndb = ndb,
                       .file = src != NULL,
                       .offset = offset};
    if (src != NULL)
        r.source = *src;
    if (r.db == NULL)
        return PM_ENOMEM;
    for (uint64_t i = 0; i < ndb; i++)
        r.db[i].key = UINT64_MAX;
    g_array_insert_val(p->regions, at, r);
    return PM_OK;
}

pm_error_t pm_pager_mmap_eager(pm_pager_t *p, uint64_t vaddr, uint64_t len, container_t c,
                               frame_t start)
{
    if (c == PM_CONTAINER_NONE || (len >> p->shift) > (uint64_t)UINT32_MAX + 1 - start)
        return PM_EINVAL;
    pm_error_t err = add_range(p, vaddr, len, NULL, 0);
    if (err != PM_OK)
        return err;
    /* Each page: a frame of the pager's (evicting if it must), a logical
     * copy of the caller's frame into it (no byte moves), mapped read-only
     * at once.  The data is the caller's, not zeros the pager could remake:
     * the page is precious. */
    for (uint64_t i = 0; err == PM_OK && i < len >> p->shift; i++) {
        uint64_t vp = (vaddr >> p->shift) + i;
        uint32_t s;
        p->fp.pin = NULL;
        if ((err = get_slot(p, &s, false)) != PM_OK)
            break;
        frame_t fe;
        err = pm_container_copy(p->pm, p->task, c, start + (frame_t)i, p->c, s, 1, 0, &fe);
        struct vpage *v = err == PM_OK ? page_get(p, vp) : NULL;
        if (v == NULL) {
            slot_back(p, s);
            if (err == PM_OK)
                err = PM_ENOMEM; /* its record cannot be had */
            break;
        }
        v->dirty = true;
        seat(p, v, vp, s);
        err = map_page(p, s, vp << p->shift, false);
    }
    if (err != PM_OK)
        (void)pm_pager_munmap(p, vaddr, len); /* all or nothing */
    return err;
}

pm_error_t pm_pager_munmap(pm_pager_t *p, uint64_t vaddr, uint64_t len)
{
    if (!range_ok(p, vaddr, len))
        return PM_EINVAL;
    guint first = 0, last;
    while (first < p->regions->len && g_array_index(p->regions, struct region, first).end <= vaddr)
        first++;
    if (first == p->regions->len ||
        g_array_index(p->regions, struct region, first).start >= vaddr + len)
        return PM_ENOENT;
    /* Whole ranges, back to back, exactly [vaddr, vaddr + len). */
    if (g_array_index(p->regions, struct region, first).start != vaddr)
        return PM_EINVAL;
    uint64_t end = vaddr;
    for (last = first; last < p->regions->len; last++) {
        const struct region *r = &g_array_index(p->regions, struct region, last);
        if (r->start != end || r->end > vaddr + len)
            break;
        end = r->end;
    }
    if (end != vaddr + len)
        return PM_EINVAL;
    /* Frames: the slots holding pages of the ranges (the slot table says,
     * without the records). */
    uint64_t vp0 = vaddr >> p->shift, vp1 = end >> p->shift;
    for (uint32_t s = 0; s < p->nslots; s++) {
        if (p->slot_page[s] == UINT64_MAX || p->slot_page[s] < vp0 || p->slot_page[s] >= vp1)
            continue;
        p->pol->remove(p->pst, s);
        p->slot_page[s] = UINT64_MAX;
        slot_back(p, s);
        p->st.resident--;
    }
    for (guint i = first; i < last; i++)
        drop_records(p, &g_array_index(p->regions, struct region, i));
    g_array_remove_range(p->regions, first, last - first);
    p->last = 0;
    return PM_OK;
}

bool pm_pager_covers(pm_pager_t *p, uint64_t vaddr, uint64_t len)
{
    if (len == 0 || !range_ok(p, vaddr & ~((uint64_t)p->page - 1), p->page))
        return false;
    for (uint64_t a = vaddr & ~((uint64_t)p->page - 1); a < vaddr + len;) {
        const struct region *r = find_region(p, a);
        if (r == NULL)
            return false;
        a = r->end; /* on past the range that holds A */
    }
    return true;
}

bool pm_pager_wants_future(const pm_pager_t *p)
{
    return p->pol->needs_future;
}

pm_error_t pm_pager_hint(pm_pager_t *p, uint64_t vaddr, uint64_t len, enum pm_evict_hint hint)
{
    if (!range_ok(p, vaddr, len) || (unsigned)hint > PM_HINT_WILLNEED)
        return PM_EINVAL;
    for (uint64_t vp = vaddr >> p->shift; vp < (vaddr + len) >> p->shift; vp++) {
        struct vpage *v = page_get(p, vp);
        if (v == NULL)
            continue; /* outside every range: nothing to hint */
        v->hint = (uint8_t)hint;
        if (v->slot != NO_SLOT)
            p->slot_hint[v->slot] = (uint8_t)hint;
    }
    return PM_OK;
}

/* After an access: every page it touched is a reference, a hit unless the
 * access brought it in. */
static void referenced(pm_pager_t *p, uint64_t vaddr, size_t len)
{
    if (len == 0)
        return;
    for (uint64_t vp = vaddr >> p->shift; vp <= (vaddr + len - 1) >> p->shift; vp++) {
        struct vpage *v = page_get(p, vp);
        if (v == NULL)
            continue;
        if (v->brought == p->epoch) {
            /* Brought in by this access (even if evicted again since). */
            p->st.refs++;
            p->st.misses++;
        } else if (v->slot != NO_SLOT) {
            p->st.refs++;
            p->st.hits++;
            p->pol->touch(p->pst, v->slot);
        }
    }
}

pm_error_t pm_pager_access(pm_pager_t *p, enum l4_access_kind kind, uint64_t vaddr, void *buf,
                           size_t len, size_t *done)
{
    p->epoch++;
    size_t did = 0;
    pm_error_t err = l4_access(p->k, p->thread, kind, vaddr, buf, len, &did);
    referenced(p, vaddr, did);
    if (done != NULL)
        *done = did;
    return err;
}

pm_error_t pm_pager_ref(pm_pager_t *p, uint64_t vaddr, bool write)
{
    uint64_t vp = vaddr >> p->shift;
    if (p->future != NULL && p->pos < p->nfuture) {
        /* The page's next reference, for OPT: known before the fault, so
         * that a victim chosen now already sees it. */
        struct vpage *v = page_get(p, vp);
        if (v != NULL) {
            v->next_use = p->next[p->pos];
            if (v->slot != NO_SLOT)
                p->slot_next[v->slot] = v->next_use;
        }
        p->pos++;
    }
    p->epoch++;
    unsigned char b;
    pm_error_t err =
        l4_access(p->k, p->thread, write ? L4_ACCESS_TOUCH : L4_ACCESS_READ, vaddr, &b, 1, NULL);
    if (err == PM_OK)
        referenced(p, vaddr, 1);
    return err;
}

void pm_pager_set_future(pm_pager_t *p, const uint64_t *vpages, size_t n)
{
    g_free(p->future);
    g_free(p->next);
    p->future = g_memdup2(vpages, n * sizeof *vpages);
    p->next = g_new(uint64_t, n ? n : 1);
    p->nfuture = n;
    p->pos = 0;
    /* next[i]: where future[i]'s page comes next (UINT64_MAX: never). */
    GHashTable *last = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (size_t i = n; i-- > 0;) {
        gpointer seen = g_hash_table_lookup(last, &p->future[i]);
        p->next[i] = seen ? (uint64_t)GPOINTER_TO_SIZE(seen) - 1 : UINT64_MAX;
        g_hash_table_insert(last, &p->future[i], GSIZE_TO_POINTER(i + 1));
    }
    /* Resident pages: their first reference from now. */
    for (uint32_t s = 0; s < p->nslots; s++) {
        struct vpage *v = page_of_slot(p, s);
        if (v == NULL)
            continue;
        gpointer first = g_hash_table_lookup(last, &p->slot_page[s]);
        v->next_use = first ? (uint64_t)GPOINTER_TO_SIZE(first) - 1 : UINT64_MAX;
        p->slot_next[s] = v->next_use;
    }
    g_hash_table_destroy(last);
}

uint64_t pm_pager_return(pm_pager_t *p, uint64_t count)
{
    uint64_t done = 0;
    /* Extra frames first, then other clean pages, then precious ones to
     * swap (three passes). */
    for (int pass = 0; pass < 3 && done < count; pass++) {
        for (uint32_t s = p->nslots; s-- > 0 && done < count;) {
            struct vpage *v = page_of_slot(p, s);
            if (v == NULL)
                continue;
            bool fits = pass == 0 ? p->slot_extra[s] != 0 : pass == 2 || !v->dirty;
            if (fits && give_up(p, s))
                done++;
        }
    }
    p->st.returned += done;
    return done;
}

/* Give up the frame of slot S (its page evicted): deallocated, the slot
 * empty. */
static bool give_up(pm_pager_t *p, uint32_t s)
{
    struct vpage *v = page_of_slot(p, s);
    if (v == NULL)
        return false;
    if (v->dirty) {
        pm_swap_id_t id;
        if (pm_swap(p->pm, p->task, p->c, s, 1, &id) != PM_OK)
            return false;
        v->in_swap = true;
        v->swap = id;
        p->st.swap_outs++;
    } else {
        uint32_t one = 1;
        if (pm_container_deallocate(p->pm, p->task, p->c, s, &one, 0) != PM_OK)
            return false;
        v->filled = false;
        p->st.drops++;
    }
    unslot(p, s, v);
    p->nextra -= p->slot_extra[s];
    p->slot_extra[s] = 0;
    g_array_append_val(p->empty, s);
    return true;
}

uint64_t pm_pager_lend(pm_pager_t *p, uint64_t n)
{
    if (p->limit == 0 || n == 0)
        return 0; /* no limit: nothing of G is the pager's to lend */
    /* Extra frames count in A too (physmem does not tell them apart): they
     * go first, all of them, being clean. */
    for (uint32_t s = 0; s < p->nslots && p->nextra > 0; s++)
        if (p->slot_extra[s] && page_of_slot(p, s) != NULL)
            (void)give_up(p, s);
    /* Then frames it holds: the limit comes down below what it holds (not
     * just below the old limit), keeping one frame to work with. */
    uint32_t held = guaranteed_held(p) < p->limit ? guaranteed_held(p) : p->limit;
    uint64_t give = held > 1 ? (n < held - 1 ? n : held - 1) : 0;
    uint32_t target = held - (uint32_t)give;
    if (target == 0)
        target = 1;
    uint64_t lent = p->limit > target ? p->limit - target : 0;
    p->limit = target;
    p->lent += lent;
    for (int guard = 0; guaranteed_held(p) > p->limit && guard < 1 << 20; guard++) {
        uint32_t victim = p->pol->victim(p->pst);
        if (victim == NO_SLOT || victim >= p->nslots || !give_up(p, victim))
            break;
    }
    return lent;
}

bool pm_pager_give_one(pm_pager_t *p)
{
    uint32_t victim = p->nslots > 0 && p->st.resident > 0 ? p->pol->victim(p->pst) : NO_SLOT;
    return victim != NO_SLOT && victim < p->nslots && give_up(p, victim);
}

void pm_pager_take_back(pm_pager_t *p, uint64_t n)
{
    if (n > p->lent)
        n = p->lent;
    p->lent -= n;
    p->limit += (uint32_t)n;
}

void pm_pager_stats(const pm_pager_t *p, struct pm_pager_stats *out)
{
    *out = p->st;
    out->extra = p->nextra;
    out->lent = p->lent;
    out->frames = p->limit;
    /* Its own memory: the database pages the final pager holds, and what
     * stays in memory (wired): the slot table, the ranges and their
     * tables of database pages. */
    uint64_t wired = (uint64_t)p->cap * (2 * sizeof(uint64_t) + 2) +
                     (uint64_t)p->regions->len * sizeof(struct region);
    for (guint i = 0; i < p->regions->len; i++)
        wired += g_array_index(p->regions, struct region, i).ndb * sizeof(struct pm_dbpage);
    out->db_resident = p->fp.st.resident;
    out->db_stored = p->fp.st.stored;
    out->db_faults = p->fp.st.faults;
    out->db_reads = p->fp.st.reads;
    out->db_writes = p->fp.st.writes;
    out->final_frames = p->fp.dev != NULL ? p->fp.budget : 0;
    uint64_t own = wired + p->fp.st.resident * p->fp.page;
    out->own_frames = (own + p->page - 1) / p->page;
}

void pm_pager_refresh(pm_pager_t *p)
{
    follow_guarantee(p);
    resync(p);
}

container_t pm_pager_container(const pm_pager_t *p)
{
    return p->c;
}
