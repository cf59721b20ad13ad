/* error.h — the error codes of pmsim (SPEC §3.8).
 *
 * Every call of the model and of the simulated kernel returns 0 on success or
 * one of these codes.  They carry the host's errno values and names, so a
 * code prints as "EINVAL" and compares equal to the errno of the same name.
 * The list below is the only place the codes are spelled out: the enum, the
 * names and the descriptions are all generated from it. */
#ifndef PMSIM_ERROR_H
#define PMSIM_ERROR_H

#include <errno.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, meaning).  Order is the order of SPEC §3.8; the last three are the
 * simulator's, for swap (SPEC §7): its I/O, its device and its quotas. */
#define PM_ERRNO_MAP(XX)                                                                           \
    XX(EINVAL, "malformed arguments: unaligned address, zero or overflowing count, unknown flag")  \
    XX(EBADF, "not a capability of the caller, revoked, or of the wrong kind")                     \
    XX(EPERM, "a weak capability used for an owner-only call, or the control capability twice")    \
    XX(EEXIST, "allocating into an identifier in use without SQUASH")                              \
    XX(ENOENT, "no frame at a source identifier, or deallocating an empty identifier")             \
    XX(ENOMEM, "over the guarantee without EXTRA, no physical memory, or no destination frame")    \
    XX(EBUSY, "the container is locked by a server")                                               \
    XX(ESTALE, "a soft reference whose frame was reused")                                          \
    XX(EFAULT, "a simulated access that no mapping allows and no pager resolves")                  \
    XX(ESRCH, "no such task")                                                                      \
    XX(EIO, "the swap device failed a read or a write (a short read included)")                    \
    XX(ENOSPC, "no swap device, or no room left on it")                                            \
    XX(EDQUOT, "the task's swap quota, set by the policy server, is used up")

/** An error code: 0 for success, else one of the PM_E* values (host errno values). */
typedef int pm_error_t;

enum {
    PM_OK = 0,
#define PM__ERR_ENUM(name, text) PM_##name = name,
    PM_ERRNO_MAP(PM__ERR_ENUM)
#undef PM__ERR_ENUM
};

/** The errno name of ERR ("EINVAL", "ENOMEM", …), "ok" for 0, or "E?" for a
 *  code outside the list.  The string is static; never NULL. */
const char *pm_strerror(pm_error_t err);

/** One sentence saying what ERR means in pmsim (SPEC §3.8).  Static; never NULL. */
const char *pm_error_describe(pm_error_t err);

/** Parse an errno name ("EBUSY", case-sensitive) or "ok" into *ERR.
 *  Returns true on success; on failure *ERR is untouched. */
bool pm_error_parse(const char *name, pm_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
