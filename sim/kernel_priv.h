/* kernel_priv.h — the simulated kernel's data structures, shared by the files
 * of sim/ that implement pmsim/l4.h and pmsim/l4sim.h.  Not a public header.
 *
 * An address space is a radix page table (9 bits a level over the 48-bit
 * virtual address) whose leaves point at mapping nodes.  A mapping node is
 * one page mapping: where it is (task, virtual page), what it maps (physical
 * frame, rights), and its place in the mapping database (parent, first
 * child, siblings).  Mappings are kept per page, so an fpage of 2^k pages is
 * 2^k nodes; items and unmaps are still counted per fpage.  The roots —
 * physmem's identity mappings of every frame — are made on first use. */
#ifndef PMSIM_SIM_KERNEL_PRIV_H
#define PMSIM_SIM_KERNEL_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "pmsim/l4sim.h"

#define PT_BITS 9u
#define PT_FANOUT (1u << PT_BITS)
#define TLB_ENTRIES 64u

struct mapnode {
    struct mapnode *parent;
    struct mapnode *child;       /* first child */
    struct mapnode *next, *prev; /* siblings */
    uint64_t vpage;
    uint64_t tag; /* l4_send_tagged */
    l4_task_t task;
    uint32_t pfn;
    uint8_t rights;
    bool host_pending;   /* host-MMU back end: its host mapping is in the batch, not made yet */
    unsigned char *host; /* host-MMU back end: where the page is mapped for real */
};

struct space {
    l4_task_t id;
    bool alive;
    void **pt_root; /* radix page table; leaves are struct mapnode * */
    /* The leaf table found last and the page numbers it covers (>> PT_BITS):
     * tables live as long as the space, so it never dangles. */
    void **pt_last;
    uint64_t pt_last_hi;
    /* A small direct-mapped translation cache for the access hit path,
     * indexed by the page number's low bits (a copy alternates between two
     * pages, so one entry would thrash). */
    struct {
        uint64_t vpage;
        struct mapnode *node;
    } tlb[TLB_ENTRIES];
    struct l4_task_stats st;
    /* Host-MMU back end: the host range reserved for the task (made at its
     * first page), and which of its pages are taken. */
    unsigned char *host_base;
    GHashTable *host_used; /* host page index → 1 */
};

struct thread {
    l4_task_t task;
    bool alive;
    l4_thread_t pager;
    l4_handler_fn handler;
    void *handler_ctx;
};

struct l4_kernel {
    unsigned char *phys;
    size_t page_size;
    unsigned shift;
    uint32_t frames;
    unsigned map_items;
    unsigned pt_levels; /* levels of the radix page table */
    pm_time_t now;

    struct space **spaces; /* by task id; [0] unused */
    uint32_t nspaces, cap_spaces;
    struct thread *threads; /* by thread id; [0] unused */
    uint32_t nthreads, cap_threads;
    l4_thread_t root_thread;

    struct mapnode **roots; /* by frame, made on first use */
    struct mapnode *spare;  /* freed nodes kept for the next map (linked by next) */
    bool host_mmu;          /* the host-MMU back end (l4_kernel_config) */
    int host_memfd;
    uint64_t host_mapped, host_unplaced, host_calls;
    /* Host-MMU back end: while an item or an unmap is carried out, the host
     * calls wait in a batch (l4__host_begin … l4__host_end), so that a run
     * of neighbouring pages is one host call. */
    unsigned host_batching;
    GArray *host_clears, *host_maps; /* struct host_op, in the order they came */

    struct l4_stats st;
    l4_event_fn hook;
    void *hook_ctx;
};

/* mdb.c */
struct mapnode *l4__lookup(l4_kernel_t *k, struct space *s, uint64_t vpage, bool make_root);
uint64_t l4__next_mapped(const l4_kernel_t *k, const struct space *s, uint64_t from, uint64_t end);
pm_error_t l4__map_page(l4_kernel_t *k, struct mapnode *src, struct space *dst, uint64_t vpage,
                        unsigned rights, uint64_t tag, bool *changed);
uint64_t l4__unmap_children_tagged(l4_kernel_t *k, struct mapnode *node, unsigned mask,
                                   uint64_t tag);
pm_error_t l4__grant_page(l4_kernel_t *k, struct mapnode *src, struct space *dst, uint64_t vpage,
                          unsigned rights, bool *changed);
uint64_t l4__unmap_page(l4_kernel_t *k, struct mapnode *node, unsigned mask, bool flush);
void l4__space_clear(l4_kernel_t *k, struct space *s);
void l4__space_free_pt(l4_kernel_t *k, struct space *s);
bool l4__is_root(const l4_kernel_t *k, const struct mapnode *n);
void l4__nodes_free(l4_kernel_t *k);
void l4__host_set(l4_kernel_t *k, struct space *s, struct mapnode *n);
void l4__host_protect(l4_kernel_t *k, struct mapnode *n);
void l4__host_clear(l4_kernel_t *k, struct space *s, struct mapnode *n);
void l4__host_release(l4_kernel_t *k, struct space *s);
void l4__host_begin(l4_kernel_t *k);
void l4__host_end(l4_kernel_t *k);
void l4__host_fini(l4_kernel_t *k);

/* kernel.c */
struct space *l4__space(const l4_kernel_t *k, l4_task_t task);
struct thread *l4__thread(const l4_kernel_t *k, l4_thread_t thread);
void l4__emit(l4_kernel_t *k, const struct l4_event *ev);
pm_error_t l4__call(l4_kernel_t *k, l4_thread_t from, l4_thread_t to, const l4_msg_t *msg,
                    l4_msg_t *reply);

#endif
