/* l4.h — the L4 kernel interface, as the model's code sees it.
 *
 * This is the only way code in src/ reaches "the kernel": flexpages, map and
 * grant items, message registers, send and call, unmap and flush, the system
 * clock, and a read-only inspection interface (what a kernel debugger would
 * show) for invariant checks.  sim/ implements it over a simulated kernel
 * (and, later, a host-MMU back end); setting that kernel up — creating tasks
 * and threads, running simulated memory accesses, reading counters — is the
 * simulator's business and lives in pmsim/l4sim.h.
 *
 * Vocabulary follows L4 X.2:
 * - an *address space* belongs to a task; a *thread* runs in a task and has a
 *   *pager*, the thread that receives its page faults;
 * - an *fpage* is 2^s bytes (s ≥ log2 P) aligned on its own size, with access
 *   rights r, w, x;
 * - a *map item* carries an fpage of the sender and a send base in the
 *   receiver; the receiver gets mappings derived from the sender's, with the
 *   intersection of the rights.  A *grant item* moves the mappings instead;
 * - the *mapping database* records from which mapping each mapping was
 *   derived.  Unmapping an fpage revokes rights from every mapping derived
 *   from it, recursively; a flush also revokes the caller's own.
 *
 * One extension to X.2 (a simulator decision): *mapping tags*.  A sender may
 * attach an opaque 64-bit tag to each map item it sends (l4_send_tagged);
 * page i of the item's fpage gets tag + i, and the kernel keeps the tag with
 * the receiver's mapping.  The sender can later revoke exactly the mappings
 * it made with one tag (l4_unmap_tagged), wherever they went since (grants
 * included), with everything derived from them.  Physmem tags each mapping
 * with the capability and frame identifier it was made for, which is what
 * lets it unmap no more than correctness needs (SPEC §3.9): one virtual
 * frame's mappings, or those obtained through one capability, while other
 * virtual frames of the same physical frame keep theirs.  Untagged sends
 * carry tag 0.
 *
 * The root task (L4_ROOT_TASK) is physmem's: it holds all physical memory,
 * frame N at address N × P, with all rights.  Those root mappings are the
 * roots of the mapping database and are permanent: a flush from the root task
 * revokes only what was derived from them.  Addresses of the root task above
 * the physical memory are an ordinary address space.
 *
 * Simulated addresses are 48 bits wide (L4_VADDR_BITS).  Calls return 0 or an
 * error code of pmsim/error.h. */
#ifndef PMSIM_L4_H
#define PMSIM_L4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmsim/error.h"
#include "pmsim/types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A simulated kernel (one machine).  Created by l4_kernel_new (l4sim.h). */
typedef struct l4_kernel l4_kernel_t;

/** A task (address space) id; 0 is no task. */
typedef uint32_t l4_task_t;
/** A thread id; 0 (L4_NILTHREAD) is no thread. */
typedef uint32_t l4_thread_t;

#define L4_NILTASK 0u
#define L4_NILTHREAD 0u
/** Physmem's task: all physical memory, identity mapped. */
#define L4_ROOT_TASK 1u

/** Width of a simulated virtual address. */
#define L4_VADDR_BITS 48
#define L4_VADDR_LIMIT (1ull << L4_VADDR_BITS)

/* ---- access rights ---------------------------------------------------- */

enum {
    L4_X = 1, /**< execute */
    L4_W = 2, /**< write */
    L4_R = 4, /**< read */
    L4_RW = L4_R | L4_W,
    L4_RWX = L4_R | L4_W | L4_X,
};

/* ---- flexpages --------------------------------------------------------- */

/** An fpage, encoded as in X.2: base | log2(size) << 4 | rights. */
typedef struct l4_fpage {
    uint64_t raw;
} l4_fpage_t;

/** The fpage of 2^LOG2SIZE bytes at BASE with RIGHTS.  Use l4_fpage_valid to
 *  check alignment and size. */
static inline l4_fpage_t l4_fpage(uint64_t base, unsigned log2size, unsigned rights)
{
    l4_fpage_t f = {(base & ~(uint64_t)0x3FF) | ((uint64_t)(log2size & 0x3F) << 4) | (rights & 7)};
    return f;
}
static inline uint64_t l4_fpage_base(l4_fpage_t f)
{
    return f.raw & ~(uint64_t)0x3FF;
}
static inline unsigned l4_fpage_log2size(l4_fpage_t f)
{
    return (unsigned)(f.raw >> 4) & 0x3F;
}
static inline uint64_t l4_fpage_size(l4_fpage_t f)
{
    return 1ull << l4_fpage_log2size(f);
}
static inline unsigned l4_fpage_rights(l4_fpage_t f)
{
    return (unsigned)f.raw & 7;
}
static inline l4_fpage_t l4_fpage_with_rights(l4_fpage_t f, unsigned rights)
{
    l4_fpage_t g = {(f.raw & ~(uint64_t)7) | (rights & 7)};
    return g;
}

/** True when F is at least 2^PAGE_SHIFT bytes, aligned on its size, and
 *  inside the simulated address space. */
bool l4_fpage_valid(l4_fpage_t f, unsigned page_shift);

/** Decompose the range [SRC, SRC + LEN) of the sender, to be received at
 *  [DST, DST + LEN), into the fewest fpages that cover it exactly, each
 *  aligned on its own size at both ends (so a misaligned pair of addresses
 *  degrades to page-sized fpages).  SRC, DST and LEN must be multiples of
 *  2^PAGE_SHIFT.  Writes at most MAX fpages (with RIGHTS) to OUT, in address
 *  order, and returns how many it wrote; *COVERED (optional) gets the bytes
 *  they cover, which is LEN unless MAX ran out.  Returns 0 with *COVERED = 0
 *  for malformed arguments. */
size_t l4_fpage_cover(uint64_t src, uint64_t dst, uint64_t len, unsigned page_shift,
                      unsigned rights, l4_fpage_t *out, size_t max, uint64_t *covered);

/* ---- messages ---------------------------------------------------------- */

/** Message registers per message; MR0 holds the tag. */
#define L4_MSG_MRS 64
/** Typed items (two words each) that fit in one message beside the tag. */
#define L4_MSG_MAX_ITEMS 31
/** The default typed-item limit of a send (configurable per kernel). */
#define L4_DEFAULT_MAP_ITEMS 31

/** The label of a page fault message: -2 << 4 | rwx, as in X.2. */
#define L4_LABEL_PAGEFAULT 0xFFE0u

/** A message: the tag (label, untyped word count u, typed word count t)
 *  in mr[0], then u untyped words, then t typed words (items). */
typedef struct l4_msg {
    uint64_t mr[L4_MSG_MRS];
} l4_msg_t;

/** Kinds of typed items. */
enum l4_item_kind { L4_ITEM_MAP = 4, L4_ITEM_GRANT = 5 };

/** Start an empty message with LABEL. */
void l4_msg_init(l4_msg_t *msg, uint16_t label);
uint16_t l4_msg_label(const l4_msg_t *msg);
/** Untyped words in the message. */
unsigned l4_msg_untyped(const l4_msg_t *msg);
/** Typed items (map or grant) in the message. */
unsigned l4_msg_items(const l4_msg_t *msg);
/** Append an untyped word.  Untyped words come before typed items: returns
 *  false (message unchanged) after an item was added or when MRs run out. */
bool l4_msg_put_word(l4_msg_t *msg, uint64_t word);
/** Untyped word I (0-based), or 0 past the end. */
uint64_t l4_msg_word(const l4_msg_t *msg, unsigned i);
/** Append a map or grant item: FPAGE of the sender, received at SEND_BASE.
 *  Returns false (message unchanged) when the MRs are full. */
bool l4_msg_put_item(l4_msg_t *msg, enum l4_item_kind kind, l4_fpage_t fpage, uint64_t send_base);
/** Read typed item I (0-based).  Returns false when there is no such item. */
bool l4_msg_item(const l4_msg_t *msg, unsigned i, enum l4_item_kind *kind, l4_fpage_t *fpage,
                 uint64_t *send_base);

/* ---- IPC --------------------------------------------------------------- */

/** Send MSG from thread FROM to thread TO, which is waiting for it (a reply
 *  to its call, say): the typed items are carried out, from FROM's address
 *  space into TO's, in order.  At most the kernel's typed-item limit (see
 *  l4_map_item_limit) goes; *ITEMS_SENT (optional) gets how many did, so a
 *  sender whose message does not fit learns how far it got.  An item that
 *  names no mapping of the sender maps nothing.
 *  Returns 0; ESRCH (no such thread); EINVAL (a malformed message or item:
 *  an invalid fpage, a send base not aligned on the fpage size or outside
 *  the address space, a grant of the root task's physical memory) — then nothing was
 *  transferred and *ITEMS_SENT is untouched. */
pm_error_t l4_send(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                   unsigned *items_sent);

/** l4_send, with TAGS[i] (TAGS has one entry per item of MSG) attached to
 *  the mappings item i creates: page j of the item's fpage gets TAGS[i] + j.
 *  A map over an existing mapping from the same source takes the new tag.
 *  Grant items keep the tags their mappings had. */
pm_error_t l4_send_tagged(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                          const uint64_t *tags, unsigned *items_sent);

/** Call thread TO: send MSG (its items carried out as by l4_send), run TO's
 *  message handler (l4sim.h), whose reply goes back to FROM with its items
 *  carried out from TO's space into FROM's.  Counts two IPCs.
 *  Returns the handler's result; ESRCH (no such thread, or TO has no
 *  handler: nobody is receiving); EINVAL as for l4_send.  REPLY may be NULL. */
pm_error_t l4_call(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                   l4_msg_t *reply);

/** The most typed items one send carries (31 unless configured). */
unsigned l4_map_item_limit(const l4_kernel_t *k);

/** Send MSG from FROM to TO without blocking (an L4 send with a zero
 *  timeout): delivered only if TO is waiting in receive (has a message
 *  handler, l4sim.h), whose reply is dropped.  Typed items are carried out
 *  as by l4_send.  Counts one IPC when delivered.  Physmem's upcalls to a
 *  task's memory control thread go this way (SPEC §5.1): a thread that is
 *  not receiving is not ready, which physmem must learn at once.
 *  Returns the handler's result; ESRCH (no such thread, or TO is not
 *  receiving); EINVAL as for l4_send. */
pm_error_t l4_send_async(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg);

/* ---- memory: a thread's loads and stores ------------------------------- */

/** Kinds of simulated access. */
enum l4_access_kind {
    L4_ACCESS_READ,
    L4_ACCESS_WRITE,
    L4_ACCESS_EXEC,
    /** A store of the bytes already there: it needs write rights and
     *  faults as a write, and changes nothing (BUF is not used and may be
     *  NULL).  What a reference that dirties a page is in an access
     *  stream: one access, one fault at most. */
    L4_ACCESS_TOUCH,
};

/** A simulated access of LEN bytes at VADDR by THREAD: READ and EXEC copy
 *  from memory into BUF, WRITE copies BUF into memory.  Page faults go to the
 *  thread's pager (a call with the fault message; the pager's reply maps).  *DONE (optional) gets
 * the bytes accessed, which on EFAULT are those of the pages before the failing one. Returns 0;
 * ESRCH (no such thread); EINVAL (range outside the address space, unknown kind, NULL BUF with LEN
 * > 0); EFAULT. */
pm_error_t l4_access(l4_kernel_t *k, l4_thread_t thread, enum l4_access_kind kind, uint64_t vaddr,
                     void *buf, size_t len, size_t *done);

/* ---- unmap ------------------------------------------------------------- */

enum {
    /** Also revoke the rights from the caller's own mappings (except the
     *  root task's, which are permanent). */
    L4_UNMAP_FLUSH = 1u << 0,
};

/** Revoke the rights of FPAGE (its rights field: L4_W only downgrades to
 *  read-only, L4_RWX removes) from every mapping derived from the caller's
 *  mappings in FPAGE, recursively; with L4_UNMAP_FLUSH from the caller's own
 *  too.  A mapping left with no rights disappears.  *PAGES_CHANGED
 *  (optional) gets the number of mappings removed or reduced.
 *  Returns 0; ESRCH (no such thread); EINVAL (invalid fpage). */
pm_error_t l4_unmap(l4_kernel_t *k, l4_thread_t caller, l4_fpage_t fpage, unsigned flags,
                    uint64_t *pages_changed);

/** l4_unmap restricted to the mappings the caller made with one tag: for
 *  each page of FPAGE, revoke the rights of FPAGE from those of its direct
 *  descendants whose tag is TAG + (page index within FPAGE), and from what
 *  derives from them.  The caller's own mappings are never touched (no
 *  flush).  Returns 0; ESRCH (no such thread); EINVAL (invalid fpage,
 *  unknown flag). */
pm_error_t l4_unmap_tagged(l4_kernel_t *k, l4_thread_t caller, l4_fpage_t fpage, uint64_t tag,
                           uint64_t *pages_changed);

/* ---- time -------------------------------------------------------------- */

/** The simulated system clock, in nanoseconds. */
pm_time_t l4_system_clock(const l4_kernel_t *k);

/* ---- inspection (kernel debugger; no side effects, no counters) -------- */

/** The mapping at VADDR in TASK's address space: its physical frame and
 *  rights.  Returns 0; ESRCH (no such task); ENOENT (nothing mapped). */
pm_error_t l4_lookup(const l4_kernel_t *k, l4_task_t task, uint64_t vaddr, pm_pfn_t *pfn,
                     unsigned *rights);

/** One mapping, as l4_mappings_of reports it. */
struct l4_mapping_info {
    l4_task_t task;
    uint64_t vaddr;
    unsigned rights;
    unsigned depth; /**< 1 for a mapping derived straight from the root */
    uint64_t tag;   /**< the tag it was made with (0: none) */
};

/** Call FN for every mapping derived from physical frame PFN (the root
 *  itself excluded), parents before children.  Returns how many there
 *  were.  FN may be NULL (count only); FN must not change mappings. */
size_t l4_mappings_of(const l4_kernel_t *k, pm_pfn_t pfn,
                      void (*fn)(void *ctx, const struct l4_mapping_info *m), void *ctx);

/** The task a thread runs in, or L4_NILTASK. */
l4_task_t l4_thread_task(const l4_kernel_t *k, l4_thread_t thread);

#ifdef __cplusplus
}
#endif
#endif
