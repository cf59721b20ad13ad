/* final_pager.h — the small final pager that pages the primary pager's
 * database (SPEC §8).  Internal to src/ (pager.c).
 *
 * The primary pager's database is an array of fixed-size records per range
 * (one per virtual page), cut into database pages of PAGE bytes.  The
 * final pager keeps at most BUDGET of them in memory, its frames; the rest
 * are written to a backing device (a pm_swap_dev: page slots) and read
 * back when the primary pager touches them, least recently used first
 * out.  A page that was never touched is not made until it is, and one
 * that holds only fresh records (equal to BLANK) is dropped, not written.
 *
 * Its frames are not physmem's: the pager's own memory is counted apart
 * (SCENARIO.md), so that it never takes one of the task's data frames.
 * Without a device, nothing is paged out and the budget is not enforced.
 *
 * Pointers into a database page stay valid until the next pm_fp_get that
 * may page another in, except for the pinned page (one at a time: the
 * record a fault is resolving), which is never chosen. */
#ifndef PMSIM_SRC_FINAL_PAGER_H
#define PMSIM_SRC_FINAL_PAGER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/physmem.h"

/* One database page. */
struct pm_dbpage {
    unsigned char *mem; /* NULL: not in memory */
    uint64_t used;      /* the final pager's clock at its last use */
    uint64_t key;       /* its slot on the device (UINT64_MAX: none) */
    uint32_t resi;      /* its place in the resident list */
    bool stored;        /* the device holds its contents */
};

struct pm_final_stats {
    uint64_t resident; /* database pages in memory now */
    uint64_t stored;   /* database pages on the device now */
    uint64_t faults;   /* database pages brought into memory */
    uint64_t reads;    /* of those, read from the device */
    uint64_t writes;   /* database pages written out */
    uint64_t dropped;  /* pages of fresh records let go without a write */
    uint64_t over;     /* page-ins past the budget (nothing could go out) */
    uint64_t failures; /* device reads or writes that failed */
};

struct pm_final_pager {
    size_t page;
    const unsigned char *blank; /* a page of fresh records */
    const struct pm_swap_dev *dev;
    uint32_t budget;
    GPtrArray *resident; /* struct pm_dbpage * */
    uint64_t clock;
    struct pm_dbpage *pin;
    GArray *free_keys; /* uint64_t */
    uint64_t next_key;
    struct pm_final_stats st;
};

/* A final pager of BUDGET pages of PAGE bytes paging to DEV (NULL: none),
 * fresh pages copied from BLANK (kept by the caller). */
void pm_fp_init(struct pm_final_pager *fp, size_t page, const unsigned char *blank,
                const struct pm_swap_dev *dev, uint32_t budget);
void pm_fp_fini(struct pm_final_pager *fp);

/* Bring D in (it is not): NULL when memory or the device fails. */
unsigned char *pm_fp_fault(struct pm_final_pager *fp, struct pm_dbpage *d);

/* D's contents in memory, marked used: NULL as pm_fp_fault.  The clock
 * moves at every fault, not every use (the hot path of every reference
 * stays a load and a compare): the page that goes out is one not used
 * since the oldest fault, least recently used at the grain of faults. */
static inline unsigned char *pm_fp_get(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    unsigned char *m = d->mem;
    if (G_UNLIKELY(m == NULL))
        m = pm_fp_fault(fp, d);
    if (d->used != fp->clock)
        d->used = fp->clock;
    return m;
}

/* True when D holds records (in memory or on the device). */
static inline bool pm_fp_holds(const struct pm_dbpage *d)
{
    return d->mem != NULL || d->stored;
}

/* Forget D (its range goes): its memory and its slot are freed. */
void pm_fp_forget(struct pm_final_pager *fp, struct pm_dbpage *d);

#endif
