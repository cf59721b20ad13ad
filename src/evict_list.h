/* evict_list.h — a doubly linked list of slots kept in arrays, the one data
 * structure FIFO, LRU and the hint policy share: O(1) insert at the tail,
 * unlink, and head.  Not a public header. */
#ifndef PMSIM_SRC_EVICT_LIST_H
#define PMSIM_SRC_EVICT_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define EL_NONE UINT32_MAX

struct evict_list {
    uint32_t *prev, *next; /* by slot; shared by all lists of one policy */
    uint32_t head, tail;
};

/* Links for SLOTS slots (grown in place); false when out of memory. */
static inline bool el_links(uint32_t **prev, uint32_t **next, uint32_t old, uint32_t slots)
{
    uint32_t *p = realloc(*prev, (size_t)slots * sizeof *p);
    if (p == NULL)
        return false;
    *prev = p;
    uint32_t *n = realloc(*next, (size_t)slots * sizeof *n);
    if (n == NULL)
        return false;
    *next = n;
    for (uint32_t i = old; i < slots; i++)
        p[i] = n[i] = EL_NONE;
    return true;
}

static inline void el_init(struct evict_list *l, uint32_t *prev, uint32_t *next)
{
    *l = (struct evict_list){.prev = prev, .next = next, .head = EL_NONE, .tail = EL_NONE};
}

static inline void el_push(struct evict_list *l, uint32_t s)
{
    l->prev[s] = l->tail;
    l->next[s] = EL_NONE;
    if (l->tail != EL_NONE)
        l->next[l->tail] = s;
    else
        l->head = s;
    l->tail = s;
}

static inline void el_unlink(struct evict_list *l, uint32_t s)
{
    uint32_t p = l->prev[s], n = l->next[s];
    if (p != EL_NONE)
        l->next[p] = n;
    else
        l->head = n;
    if (n != EL_NONE)
        l->prev[n] = p;
    else
        l->tail = p;
    l->prev[s] = l->next[s] = EL_NONE;
}

/* The state of a list policy: NQ lists over shared links. */
struct el_state {
    uint32_t *prev, *next, slots;
    unsigned nq;
    struct evict_list q[3];
};

static inline void *el_create(uint32_t slots, unsigned nq)
{
    struct el_state *f = calloc(1, sizeof *f);
    if (slots == 0)
        slots = 1;
    if (f == NULL || !el_links(&f->prev, &f->next, 0, slots)) {
        if (f != NULL) {
            free(f->prev);
            free(f->next);
        }
        free(f);
        return NULL;
    }
    f->slots = slots;
    f->nq = nq;
    for (unsigned i = 0; i < nq; i++)
        el_init(&f->q[i], f->prev, f->next);
    return f;
}

static inline void el_destroy(void *st)
{
    struct el_state *f = st;
    free(f->prev);
    free(f->next);
    free(f);
}

static inline void el_grow(void *st, uint32_t slots)
{
    struct el_state *f = st;
    if (slots <= f->slots || !el_links(&f->prev, &f->next, f->slots, slots))
        return;
    for (unsigned i = 0; i < f->nq; i++) {
        f->q[i].prev = f->prev;
        f->q[i].next = f->next;
    }
    f->slots = slots;
}

/* One-list policies (FIFO, LRU): pages join the young end, the old end
 * goes first. */
static inline void el_insert_one(void *st, uint32_t s)
{
    el_push(&((struct el_state *)st)->q[0], s);
}

static inline void el_remove_one(void *st, uint32_t s)
{
    el_unlink(&((struct el_state *)st)->q[0], s);
}

static inline uint32_t el_victim_one(void *st)
{
    return ((struct el_state *)st)->q[0].head;
}

/* A byte per slot (flags, classes), zeroed as it grows. */
struct slot_bytes {
    uint8_t *b;
    uint32_t n;
};

static inline bool sb_init(struct slot_bytes *sb, uint32_t n)
{
    sb->n = n ? n : 1;
    sb->b = calloc(sb->n, 1);
    return sb->b != NULL;
}

static inline void sb_grow(struct slot_bytes *sb, uint32_t n)
{
    uint8_t *b = n > sb->n ? realloc(sb->b, n) : NULL;
    if (b == NULL)
        return;
    for (uint32_t i = sb->n; i < n; i++)
        b[i] = 0;
    sb->b = b;
    sb->n = n;
}

#endif
