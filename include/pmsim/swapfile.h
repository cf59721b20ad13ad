/* swapfile.h — the swap device of the simulated machine (SPEC §7): page
 * slots in a real file, behind physmem's pm_swap_dev interface, with one
 * wrapper around the file I/O where tests make calls fail.
 *
 * The file is a temporary one (created in $TMPDIR or /tmp and unlinked at
 * once, so it never outlives the run) unless a path is given; then it is
 * created if missing and truncated to size.  Slot N is the page at offset
 * N × page size.  Writes and reads are pwrite/pread, retried on EINTR and
 * continued on short transfers until the file says it can do no more: a
 * write that stops short is ENOSPC when the disk is full and EIO otherwise;
 * a read that stops short (past the end of the file) is EIO. */
#ifndef PMSIM_SWAPFILE_H
#define PMSIM_SWAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "pmsim/physmem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sim_swapfile sim_swapfile_t;

/** A new temporary file, already unlinked (gone when the descriptor is
 *  closed), read-write: its descriptor, or -1 with *MESSAGE (optional;
 *  g_free it) saying why a WHAT could not be made. */
int sim_temp_fd(const char *what, char **message);

/** Open a swap file of SLOTS pages of PAGE_SIZE bytes at PATH (NULL: a
 *  temporary file).  On failure *MESSAGE (optional; free with g_free) says
 *  why.  Returns 0; EINVAL (no slots, a page size that is not a power of
 *  two, a size past the file system's limits); EIO (the file cannot be
 *  made: the message has the host's reason). */
pm_error_t sim_swapfile_open(const char *path, uint64_t slots, size_t page_size,
                             sim_swapfile_t **out, char **message);

/** Close (and, for a temporary file, remove) it.  NULL is a no-op. */
void sim_swapfile_close(sim_swapfile_t *sf);

/** The device to give physmem (pm_physmem_config.swap); valid until close. */
const struct pm_swap_dev *sim_swapfile_dev(sim_swapfile_t *sf);

/** Failures a test can inject into the next I/O calls. */
enum sim_swap_fault {
    SIM_SWAP_OK,         /**< no failure */
    SIM_SWAP_WRITE_EIO,  /**< a write fails with EIO (a failing disk) */
    SIM_SWAP_WRITE_FULL, /**< a write stops short, the disk full: ENOSPC */
    SIM_SWAP_READ_EIO,   /**< a read fails with EIO */
    SIM_SWAP_READ_SHORT, /**< a read returns half a page: EIO */
};

/** Make calls of the kind FAULT names fail: the AFTER calls of that kind
 *  (reads or writes) go through first, then COUNT fail (UINT64_MAX: all
 *  of them).  A new injection replaces the previous one of the same
 *  direction; SIM_SWAP_OK with either direction's kind clears both. */
void sim_swapfile_inject(sim_swapfile_t *sf, enum sim_swap_fault fault, uint64_t after,
                         uint64_t count);

struct sim_swapfile_stats {
    uint64_t slots;
    uint64_t writes, reads; /**< calls that succeeded */
    uint64_t failures;      /**< calls that failed, injected or not */
    uint64_t bytes_written, bytes_read;
};

void sim_swapfile_stats(const sim_swapfile_t *sf, struct sim_swapfile_stats *out);

/** The file descriptor (benchmarks compare against raw pwrite/pread on it). */
int sim_swapfile_fd(const sim_swapfile_t *sf);

/** A device of SLOTS pages of PAGE_SIZE bytes whose temporary file is
 *  made at its first write (so a backing most runs never use costs no
 *  file): a pager's final pager pages its database to one.  A read before
 *  any write, or a write when the file cannot be made, is EIO. */
typedef struct sim_lazy_swap sim_lazy_swap_t;

sim_lazy_swap_t *sim_lazy_swap_new(uint64_t slots, size_t page_size);
const struct pm_swap_dev *sim_lazy_swap_dev(sim_lazy_swap_t *ls);
/** The file's counters (zeros while there is no file). */
void sim_lazy_swap_stats(const sim_lazy_swap_t *ls, struct sim_swapfile_stats *out);
/** Close it (and its file).  NULL is a no-op. */
void sim_lazy_swap_free(sim_lazy_swap_t *ls);

#ifdef __cplusplus
}
#endif
#endif
