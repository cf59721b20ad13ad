/* sparse.c — the radix tree behind a container's frames (see sparse.h). */
#include <stdlib.h>

#include "inject_priv.h"
#include "sparse.h"

#define BITS 8u
#define FAN (1u << BITS)
#define LEVELS 4u /* 32-bit keys */

void pm__sparse_init(struct pm__sparse *s)
{
    s->root = NULL;
    s->count = 0;
}

static void free_level(void **t, unsigned level)
{
    if (t == NULL)
        return;
    if (level > 1)
        for (unsigned i = 0; i < FAN; i++)
            free_level(t[i], level - 1);
    else
        for (unsigned i = 0; i < FAN; i++)
            free(t[i]);
    free(t);
}

void pm__sparse_fini(struct pm__sparse *s)
{
    free_level(s->root, LEVELS - 1);
    s->root = NULL;
    s->count = 0;
}

static unsigned idx(uint32_t key, unsigned level)
{
    return (key >> (BITS * level)) & (FAN - 1);
}

/* The leaf holding KEY, or NULL.  Kept apart from leaf_make, which
 * allocates, so that this one (every lookup's) stays small enough to be
 * inlined. */
static inline uint32_t *leaf(const struct pm__sparse *s, uint32_t key)
{
    void **t = s->root;
    if (t == NULL || (t = t[idx(key, 3)]) == NULL || (t = t[idx(key, 2)]) == NULL)
        return NULL;
    return (uint32_t *)t[idx(key, 1)];
}

/* The leaf holding KEY, made if missing; NULL when out of memory. */
static uint32_t *leaf_make(struct pm__sparse *s, uint32_t key)
{
    void ***slot = &s->root;
    for (unsigned level = LEVELS - 1; level > 0; level--) {
        if (*slot == NULL && (*slot = pm__calloc(FAN, sizeof(void *))) == NULL)
            return NULL;
        slot = (void ***)&(*slot)[idx(key, level)];
    }
    if (*slot == NULL)
        *slot = pm__calloc(FAN + 1, sizeof(uint32_t)); /* [FAN]: values set */
    return (uint32_t *)*slot;
}

uint32_t pm__sparse_get(const struct pm__sparse *s, uint32_t key)
{
    const uint32_t *l = leaf(s, key);
    return l != NULL ? l[key & (FAN - 1)] : 0;
}

uint32_t *pm__sparse_at(struct pm__sparse *s, uint32_t key)
{
    uint32_t *l = leaf(s, key);
    return l != NULL ? &l[key & (FAN - 1)] : NULL;
}

bool pm__sparse_reserve(struct pm__sparse *s, uint32_t key, uint64_t n)
{
    for (uint64_t k = key; k < (uint64_t)key + n; k = (k | (FAN - 1)) + 1)
        if (leaf_make(s, (uint32_t)k) == NULL)
            return false;
    return true;
}

void pm__sparse_set(struct pm__sparse *s, uint32_t key, uint32_t value)
{
    uint32_t *l = leaf(s, key);
    if (l == NULL && value != 0)
        l = leaf_make(s, key);
    if (l == NULL)
        return; /* removing from nothing */
    uint32_t *v = &l[key & (FAN - 1)];
    int delta = (value != 0) - (*v != 0);
    s->count += delta;
    l[FAN] += delta;
    *v = value;
}

/* Search T (at LEVEL, covering keys from BASE) for the first value at or
 * after FROM. */
static bool next_in(void *const *t, unsigned level, uint64_t base, uint64_t from, uint32_t *key,
                    uint32_t *value)
{
    uint64_t span = 1ull << (BITS * level);
    for (uint64_t i = from > base ? (from - base) / span : 0; i < FAN; i++) {
        uint64_t at = base + i * span;
        if (level == 0) {
            const uint32_t *vals = (const uint32_t *)t;
            if (vals[i] != 0) {
                *key = (uint32_t)at;
                *value = vals[i];
                return true;
            }
            continue;
        }
        if (t[i] != NULL && next_in(t[i], level - 1, at, from > at ? from : at, key, value))
            return true;
    }
    return false;
}

bool pm__sparse_next(const struct pm__sparse *s, uint64_t from, uint32_t *key, uint32_t *value)
{
    if (s->root == NULL || from > UINT32_MAX)
        return false;
    return next_in(s->root, LEVELS - 1, 0, from, key, value);
}

bool pm__sparse_all(const struct pm__sparse *s, uint32_t key, uint64_t n)
{
    for (uint64_t k = key, end = (uint64_t)key + n; k < end;) {
        uint64_t leaf_end = (k | (FAN - 1)) + 1;
        if (leaf_end > end)
            leaf_end = end;
        const uint32_t *l = leaf(s, (uint32_t)k);
        if (l == NULL)
            return false;
        if (l[FAN] != FAN)
            for (uint64_t x = k; x < leaf_end; x++)
                if (l[x & (FAN - 1)] == 0)
                    return false;
        k = leaf_end;
    }
    return true;
}
