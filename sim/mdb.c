/* mdb.c — page tables and the mapping database of the simulated kernel.
 *
 * Every page mapping is a node in a tree whose root is physmem's identity
 * mapping of a physical frame.  Mapping derives a child; granting moves a
 * node (its children stay attached); unmapping revokes rights from a node's
 * descendants, and a flush from the node itself.  Rights only shrink down
 * the tree (a child has the intersection of its parent's rights and those
 * it was sent with), so a revocation can skip any subtree whose top lacks
 * the rights being revoked.
 *
 * Deep trees are possible (a chain of tasks each mapping to the next), so
 * nothing here recurses over the tree: walks follow parent and sibling
 * links.  Only the page table, a fixed handful of levels deep, is walked
 * recursively. */
#include <stdlib.h>
#include <string.h>

#include "kernel_priv.h"

bool l4__is_root(const l4_kernel_t *k, const struct mapnode *n)
{
    return n->parent == NULL && n->task == L4_ROOT_TASK && n->vpage < k->frames;
}

/* Mapping nodes come and go with every map and unmap: freed ones are kept
 * on a list for the next map instead of going back to malloc (except under
 * AddressSanitizer, which should see every use after free). */
#if defined(__SANITIZE_ADDRESS__)
#define KEEP_SPARE_NODES 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEP_SPARE_NODES 0
#endif
#endif
#ifndef KEEP_SPARE_NODES
#define KEEP_SPARE_NODES 1
#endif

static struct mapnode *node_new(l4_kernel_t *k)
{
    struct mapnode *n = k->spare;
    if (!KEEP_SPARE_NODES || n == NULL)
        return calloc(1, sizeof *n);
    k->spare = n->next;
    memset(n, 0, sizeof *n);
    return n;
}

static void node_free(l4_kernel_t *k, struct mapnode *n)
{
    if (!KEEP_SPARE_NODES) {
        free(n);
        return;
    }
    n->next = k->spare;
    k->spare = n;
}

void l4__nodes_free(l4_kernel_t *k)
{
    while (k->spare != NULL) {
        struct mapnode *n = k->spare;
        k->spare = n->next;
        free(n);
    }
}

/* The leaf slot for VPAGE in S's page table, or NULL (not there and not
 * CREATE, or out of host memory). */
static struct mapnode **pt_slot(l4_kernel_t *k, struct space *s, uint64_t vpage, bool create)
{
    void **table;
    if (s->pt_last != NULL && vpage >> PT_BITS == s->pt_last_hi)
        return (struct mapnode **)&s->pt_last[vpage & (PT_FANOUT - 1)];
    if (s->pt_root == NULL) {
        if (!create)
            return NULL;
        s->pt_root = calloc(PT_FANOUT, sizeof(void *));
        if (s->pt_root == NULL)
            return NULL;
    }
    table = s->pt_root;
    for (unsigned level = k->pt_levels - 1; level > 0; level--) {
        unsigned idx = (unsigned)(vpage >> (PT_BITS * level)) & (PT_FANOUT - 1);
        if (table[idx] == NULL) {
            if (!create)
                return NULL;
            table[idx] = calloc(PT_FANOUT, sizeof(void *));
            if (table[idx] == NULL)
                return NULL;
        }
        table = table[idx];
    }
    s->pt_last = table;
    s->pt_last_hi = vpage >> PT_BITS;
    return (struct mapnode **)&table[vpage & (PT_FANOUT - 1)];
}

static struct mapnode *root_node(l4_kernel_t *k, uint32_t pfn, bool make)
{
    struct mapnode *n = k->roots[pfn];
    if (n == NULL && make) {
        n = calloc(1, sizeof *n);
        if (n == NULL)
            return NULL;
        n->task = L4_ROOT_TASK;
        n->vpage = pfn;
        n->pfn = pfn;
        n->rights = L4_RWX;
        k->roots[pfn] = n;
    }
    return n;
}

struct mapnode *l4__lookup(l4_kernel_t *k, struct space *s, uint64_t vpage, bool make_root)
{
    if (s->id == L4_ROOT_TASK && vpage < k->frames)
        return root_node(k, (uint32_t)vpage, make_root);
    struct mapnode **slot = pt_slot(k, s, vpage, false);
    return slot ? *slot : NULL;
}

/* The first page at or after FROM, below END, that TABLE (a page table at
 * LEVEL covering pages from BASE) maps; END when there is none. */
static uint64_t pt_next(void *const *table, unsigned level, uint64_t base, uint64_t from,
                        uint64_t end)
{
    uint64_t span = 1ull << (PT_BITS * level);
    for (uint64_t i = from > base ? (from - base) / span : 0; i < PT_FANOUT; i++) {
        uint64_t at = base + i * span;
        if (at >= end)
            return end;
        if (table[i] == NULL)
            continue;
        if (level == 0)
            return at;
        uint64_t f = pt_next(table[i], level - 1, at, from > at ? from : at, end);
        if (f < end)
            return f;
    }
    return end;
}

uint64_t l4__next_mapped(const l4_kernel_t *k, const struct space *s, uint64_t from, uint64_t end)
{
    if (from >= end)
        return end;
    if (s->id == L4_ROOT_TASK && from < k->frames)
        return from; /* the identity range is all mapped */
    if (s->pt_root == NULL)
        return end;
    return pt_next(s->pt_root, k->pt_levels - 1, 0, from, end);
}

static void link_child(struct mapnode *parent, struct mapnode *child)
{
    child->parent = parent;
    child->prev = NULL;
    child->next = parent->child;
    if (parent->child != NULL)
        parent->child->prev = child;
    parent->child = child;
}

static void unlink_node(struct mapnode *n)
{
    if (n->prev != NULL)
        n->prev->next = n->next;
    else if (n->parent != NULL)
        n->parent->child = n->next;
    if (n->next != NULL)
        n->next->prev = n->prev;
    n->next = n->prev = NULL;
}

/* Take N out of its space's page table (the node itself lives on). */
static void detach_from_space(l4_kernel_t *k, struct mapnode *n)
{
    struct space *s = k->spaces[n->task];
    struct mapnode **slot = pt_slot(k, s, n->vpage, false);
    if (slot != NULL && *slot == n)
        *slot = NULL;
    unsigned e = (unsigned)n->vpage & (TLB_ENTRIES - 1);
    if (s->tlb[e].node == n)
        s->tlb[e].node = NULL;
    l4__host_clear(k, s, n);
    s->st.mapped_pages--;
}

/* Delete N and everything derived from it.  Iterative: always descend into
 * the first child, delete leaves, climb back. */
static void subtree_delete(l4_kernel_t *k, struct mapnode *top)
{
    unlink_node(top);
    struct mapnode *cur = top;
    while (cur != NULL) {
        if (cur->child != NULL) {
            cur = cur->child;
            continue;
        }
        struct mapnode *up = cur == top ? NULL : cur->parent;
        if (up != NULL) {
            up->child = cur->next;
            if (cur->next != NULL)
                cur->next->prev = NULL;
        }
        detach_from_space(k, cur);
        k->st.pages_unmapped++;
        k->st.tlb_flushes++;
        node_free(k, cur);
        cur = up;
    }
}

/* The next node after CUR in a pre-order walk of TOP's descendants that
 * skips CUR's own subtree. */
static struct mapnode *next_skip(struct mapnode *cur, const struct mapnode *top)
{
    while (cur != top) {
        if (cur->next != NULL)
            return cur->next;
        cur = cur->parent;
    }
    return NULL;
}

/* Revoke MASK from every descendant of TOP.  Returns the mappings changed. */
static uint64_t reduce_descendants(l4_kernel_t *k, struct mapnode *top, unsigned mask)
{
    uint64_t changed = 0;
    struct mapnode *cur = top->child;
    while (cur != NULL) {
        if ((cur->rights & mask) == 0) {
            /* Children never have rights their parent lacks. */
            cur = next_skip(cur, top);
            continue;
        }
        cur->rights &= (uint8_t)~mask;
        if (cur->rights == 0) {
            struct mapnode *nxt = next_skip(cur, top);
            uint64_t before = k->st.pages_unmapped;
            subtree_delete(k, cur);
            changed += k->st.pages_unmapped - before;
            cur = nxt;
            continue;
        }
        l4__host_protect(k, cur);
        changed++;
        k->st.pages_downgraded++;
        k->st.tlb_flushes++;
        cur = cur->child != NULL ? cur->child : next_skip(cur, top);
    }
    return changed;
}

static bool is_ancestor(const struct mapnode *a, const struct mapnode *n)
{
    for (const struct mapnode *p = n; p != NULL; p = p->parent)
        if (p == a)
            return true;
    return false;
}

/* The slot at VPAGE of DST for a new mapping derived from SRC, emptied of
 * what was there.  Returns NULL with *err = 0 when the page must be left
 * alone (the root range of the root task, SRC itself or one of its
 * ancestors), with *err = ENOMEM when out of host memory. */
static struct mapnode **claim_slot(l4_kernel_t *k, const struct mapnode *src, struct space *dst,
                                   uint64_t vpage, pm_error_t *err)
{
    *err = PM_OK;
    if (dst->id == L4_ROOT_TASK && vpage < k->frames)
        return NULL;
    struct mapnode **slot = pt_slot(k, dst, vpage, true);
    if (slot == NULL) {
        *err = PM_ENOMEM;
        return NULL;
    }
    if (*slot != NULL && is_ancestor(*slot, src))
        return NULL;
    return slot;
}

pm_error_t l4__map_page(l4_kernel_t *k, struct mapnode *src, struct space *dst, uint64_t vpage,
                        unsigned rights, uint64_t tag, bool *changed)
{
    pm_error_t err;
    *changed = false;
    rights &= src->rights;
    if (rights == 0)
        return PM_OK;
    struct mapnode **slot = claim_slot(k, src, dst, vpage, &err);
    if (slot == NULL)
        return err;
    struct mapnode *ex = *slot;
    if (ex != NULL && ex->parent == src && ex->pfn == src->pfn) {
        /* Mapping again from the same source extends the rights (and
         * takes the new tag). */
        ex->tag = tag;
        if ((ex->rights | rights) != ex->rights) {
            ex->rights |= (uint8_t)rights;
            l4__host_protect(k, ex);
            k->st.pages_mapped++;
            *changed = true;
        }
        return PM_OK;
    }
    struct mapnode *n = node_new(k);
    if (n == NULL)
        return PM_ENOMEM;
    if (ex != NULL)
        subtree_delete(k, ex); /* a new mapping replaces the old one */
    n->vpage = vpage;
    n->task = dst->id;
    n->pfn = src->pfn;
    n->rights = (uint8_t)rights;
    n->tag = tag;
    link_child(src, n);
    *slot = n;
    l4__host_set(k, dst, n);
    dst->st.mapped_pages++;
    k->st.pages_mapped++;
    *changed = true;
    return PM_OK;
}

pm_error_t l4__grant_page(l4_kernel_t *k, struct mapnode *src, struct space *dst, uint64_t vpage,
                          unsigned rights, bool *changed)
{
    pm_error_t err;
    *changed = false;
    rights &= src->rights;
    if (rights == 0 || l4__is_root(k, src))
        return PM_OK;
    if (src->task == dst->id && src->vpage == vpage)
        return PM_OK;
    struct mapnode **slot = claim_slot(k, src, dst, vpage, &err);
    if (slot == NULL)
        return err;
    if (*slot != NULL)
        subtree_delete(k, *slot); /* may be a descendant of SRC: SRC stays */
    detach_from_space(k, src);
    src->task = dst->id;
    src->vpage = vpage;
    *slot = src;
    dst->st.mapped_pages++;
    unsigned removed = src->rights & ~rights;
    if (removed != 0) {
        src->rights = (uint8_t)rights;
        reduce_descendants(k, src, removed);
    }
    l4__host_set(k, dst, src);
    k->st.pages_granted++;
    *changed = true;
    return PM_OK;
}

uint64_t l4__unmap_page(l4_kernel_t *k, struct mapnode *node, unsigned mask, bool flush)
{
    uint64_t changed = reduce_descendants(k, node, mask);
    if (flush && !l4__is_root(k, node) && (node->rights & mask) != 0) {
        node->rights &= (uint8_t)~mask;
        changed++;
        if (node->rights == 0) {
            subtree_delete(k, node); /* its host page too */
        } else {
            l4__host_protect(k, node);
            k->st.pages_downgraded++;
            k->st.tlb_flushes++;
        }
    }
    return changed;
}

uint64_t l4__unmap_children_tagged(l4_kernel_t *k, struct mapnode *node, unsigned mask,
                                   uint64_t tag)
{
    uint64_t changed = 0;
    struct mapnode *c = node->child;
    while (c != NULL) {
        struct mapnode *next = c->next;
        if (c->tag == tag && (c->rights & mask) != 0)
            changed += l4__unmap_page(k, c, mask, true);
        c = next;
    }
    return changed;
}

/* Delete every mapping of S (and what derives from them), leaf by leaf. */
static void clear_level(l4_kernel_t *k, void **table, unsigned level)
{
    for (unsigned i = 0; i < PT_FANOUT; i++) {
        if (table[i] == NULL)
            continue;
        if (level == 0)
            subtree_delete(k, (struct mapnode *)table[i]);
        else
            clear_level(k, table[i], level - 1);
    }
}

void l4__space_clear(l4_kernel_t *k, struct space *s)
{
    if (s->pt_root != NULL)
        clear_level(k, s->pt_root, k->pt_levels - 1);
}

static void free_level(void **table, unsigned level)
{
    if (level > 0)
        for (unsigned i = 0; i < PT_FANOUT; i++)
            if (table[i] != NULL)
                free_level(table[i], level - 1);
    free(table);
}

void l4__space_free_pt(l4_kernel_t *k, struct space *s)
{
    if (s->pt_root != NULL)
        free_level(s->pt_root, k->pt_levels - 1);
    s->pt_root = NULL;
    s->pt_last = NULL;
    l4__host_release(k, s);
    memset(s->tlb, 0, sizeof s->tlb);
}
