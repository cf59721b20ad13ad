/* mapping_hash.h — a hash of the mappings of a frame, for snapshots that
 * must show any change of them (test-physmem, fuzz-ops): FNV-1a over the
 * fields l4_mappings_of reports.  Header-only; no Check, so the fuzz
 * harnesses can use it. */
#ifndef PMSIM_TESTS_MAPPING_HASH_H
#define PMSIM_TESTS_MAPPING_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "pmsim/l4.h"

static inline uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* An l4_mappings_of callback: CTX is the uint64_t hash so far. */
static inline void hash_mapping(void *ctx, const struct l4_mapping_info *m)
{
    uint64_t *h = ctx;
    uint64_t v[5] = {m->task, m->vaddr, m->rights, m->depth, m->tag};
    *h = fnv(*h, v, sizeof v);
}

#endif
