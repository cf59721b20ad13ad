/* sparse.h — a sparse array of 32-bit values indexed by 32-bit keys, for the
 * frames of a container.  Internal to src/.
 *
 * A radix tree of four levels of 8 bits; leaves hold 256 values, so a dense
 * range costs 4 bytes a frame and a sparse one costs a leaf per touched
 * group of 256 identifiers.  0 is "no value". */
#ifndef PMSIM_SRC_SPARSE_H
#define PMSIM_SRC_SPARSE_H

#include <stdbool.h>
#include <stdint.h>

struct pm__sparse {
    void **root;
    uint64_t count; /* keys with a value */
};

void pm__sparse_init(struct pm__sparse *s);
void pm__sparse_fini(struct pm__sparse *s);

/** The value at KEY, or 0. */
uint32_t pm__sparse_get(const struct pm__sparse *s, uint32_t key);

/** Where KEY's value is kept, to read (0: no value) and to change in place
 *  from one non-zero value to another; NULL when no value near it was ever
 *  set.  Valid until fini. */
uint32_t *pm__sparse_at(struct pm__sparse *s, uint32_t key);

/** Make sure KEY … KEY + N − 1 can be set without allocating.  False when
 *  out of memory (what was made stays; it is harmless). */
bool pm__sparse_reserve(struct pm__sparse *s, uint32_t key, uint64_t n);

/** Set KEY to VALUE (0 removes it).  The leaf must exist (reserve) unless
 *  VALUE is 0. */
void pm__sparse_set(struct pm__sparse *s, uint32_t key, uint32_t value);

/** True when every key in KEY … KEY + N − 1 has a value: O(N / 256) for
 *  full leaves (each leaf counts its values). */
bool pm__sparse_all(const struct pm__sparse *s, uint32_t key, uint64_t n);

/** The first key ≥ FROM that has a value: true with *KEY and *VALUE set,
 *  false when there is none. */
bool pm__sparse_next(const struct pm__sparse *s, uint64_t from, uint32_t *key, uint32_t *value);

#endif
