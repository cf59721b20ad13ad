/* hostmmu.c — the host-MMU back end of the simulated kernel: every page
 * mapping of a task is also a real host mapping of the same physical frame.
 *
 * The pool is a memfd (mapped shared at the pool's base, where physmem and
 * the kernel read frames); each task gets a host range reserved for it at
 * its first page (PROT_NONE, no memory behind it).  A page the mapping
 * database gives the task at VPAGE goes, for real, at its host page in that
 * range (VPAGE itself below the range's size, else shifted by a hash of its
 * high bits): mmap(MAP_FIXED|MAP_SHARED)
 * of the memfd at the frame's offset, with the page's rights (read, or
 * read and write); a rights change is an mprotect; an unmap puts the
 * reservation back (PROT_NONE).  When two of a task's pages fall on the
 * same host page (their addresses differ by a multiple of the range), the
 * second is not placed: its accesses go through the physical memory as in
 * the simulated back end, and l4_host_mmu_stats counts it.  Accesses
 * (access.c) load and store through the host mappings. */
#include <sys/mman.h>

#include "kernel_priv.h"

/* The host range of a task: 64 GiB of address space, none of it memory
 * until mapped (the host has 128 TiB of it: some 2,000 tasks). */
#define HOST_RANGE (UINT64_C(1) << 36)

/* Pages mapped for real at most: half the host's limit on mappings (rights
 * changes split mappings too), read once. */
static uint64_t host_budget(void)
{
    static uint64_t budget;
    if (budget == 0) {
        char *text = NULL;
        uint64_t limit = 65530;
        if (g_file_get_contents("/proc/sys/vm/max_map_count", &text, NULL, NULL))
            limit = g_ascii_strtoull(text, NULL, 10);
        g_free(text);
        budget = limit > 2048 ? limit / 2 : 1024;
    }
    return budget;
}

static int prot_of(unsigned rights)
{
    return (rights & L4_W)            ? PROT_READ | PROT_WRITE
           : (rights & (L4_R | L4_X)) ? PROT_READ
                                      : PROT_NONE;
}

void l4__host_set(l4_kernel_t *k, struct space *s, struct mapnode *n)
{
    if (!k->host_mmu || n->host != NULL || s->id == L4_ROOT_TASK)
        return;
    if (k->host_mapped >= host_budget()) {
        /* Each real page is a mapping of the host's own, and the host has a
         * limit on those (vm.max_map_count): past half of it, pages go
         * through physical memory instead. */
        k->host_unplaced++;
        return;
    }
    if (s->host_base == NULL) {
        void *b =
            mmap(NULL, HOST_RANGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (b == MAP_FAILED) {
            k->host_unplaced++;
            return;
        }
        s->host_base = b;
        s->host_used = g_hash_table_new(g_direct_hash, g_direct_equal);
    }
    /* Pages below the range's size keep their place (the layout, and the
     * TLB's view of it, as the task has it); higher ones are shifted by a
     * hash of their high bits, so that regions far apart (a server's cache
     * and its window, say) do not land on each other. */
    uint64_t pages = HOST_RANGE >> k->shift;
    uint64_t slot = (n->vpage + (n->vpage / pages) * UINT64_C(0x9E3779B1)) % pages;
    gpointer key = GSIZE_TO_POINTER(slot + 1);
    if (g_hash_table_contains(s->host_used, key)) {
        k->host_unplaced++;
        return;
    }
    unsigned char *at = s->host_base + (slot << k->shift);
    void *m = mmap(at, k->page_size, prot_of(n->rights), MAP_SHARED | MAP_FIXED, k->host_memfd,
                   (off_t)((uint64_t)n->pfn << k->shift));
    if (m == MAP_FAILED) {
        k->host_unplaced++;
        return;
    }
    g_hash_table_add(s->host_used, key);
    n->host = at;
    k->host_mapped++;
}

/* Take N's real mapping away.  True when the reservation is back in its
 * place; false when the host would not (its limit on mappings reached): the
 * page is then unmapped outright, and its host page stays taken for good,
 * so that nothing is mapped there again. */
static bool unplace(l4_kernel_t *k, struct mapnode *n)
{
    void *m = mmap(n->host, k->page_size, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    if (m != MAP_FAILED)
        return true;
    (void)munmap(n->host, k->page_size);
    return false;
}

void l4__host_protect(l4_kernel_t *k, struct mapnode *n)
{
    if (n->host == NULL || mprotect(n->host, k->page_size, prot_of(n->rights)) == 0)
        return;
    /* The host would not change the rights: no real mapping with other
     * rights than the simulated one; the page goes through physical memory
     * from now on. */
    (void)unplace(k, n);
    n->host = NULL;
    k->host_mapped--;
    k->host_unplaced++;
}

void l4__host_clear(l4_kernel_t *k, struct space *s, struct mapnode *n)
{
    if (n->host == NULL)
        return;
    /* The reservation back in its place: no memory, no access. */
    if (unplace(k, n)) {
        uint64_t slot = (uint64_t)(n->host - s->host_base) >> k->shift;
        g_hash_table_remove(s->host_used, GSIZE_TO_POINTER(slot + 1));
    }
    n->host = NULL;
    k->host_mapped--;
}

void l4__host_release(l4_kernel_t *k, struct space *s)
{
    (void)k;
    if (s->host_base != NULL)
        (void)munmap(s->host_base, HOST_RANGE);
    if (s->host_used != NULL)
        g_hash_table_destroy(s->host_used);
    s->host_base = NULL;
    s->host_used = NULL;
}

void l4_host_mmu_stats(const l4_kernel_t *k, uint64_t *mapped, uint64_t *unplaced)
{
    *mapped = k->host_mapped;
    *unplaced = k->host_unplaced;
}
