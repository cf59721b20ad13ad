/* types.h — the small types shared by the model and the simulated kernel.
 *
 * Physical frame numbers (a frame of the pool) and frame identifiers (a slot
 * of a container, frame_t) are different things that are both small integers;
 * a physical frame number is wrapped in a struct so the compiler refuses to
 * mix the two. */
#ifndef PMSIM_TYPES_H
#define PMSIM_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A physical frame number: frame N of the pool starts at byte N × P. */
typedef struct pm_pfn {
    uint32_t n;
} pm_pfn_t;

/** Build a pm_pfn_t from a frame number. */
#define PM_PFN(x) ((pm_pfn_t){.n = (uint32_t)(x)})

/** No physical frame. */
#define PM_PFN_NONE PM_PFN(UINT32_MAX)

/** A frame identifier inside a container (SPEC §2). */
typedef uint32_t frame_t;

/** Simulated time, in nanoseconds since the simulation started. */
typedef uint64_t pm_time_t;

#ifdef __cplusplus
}
#endif
#endif
