/* hostmmu.c — the host-MMU back end of the simulated kernel: every page
 * mapping of a task is also a real host mapping of the same physical frame.
 *
 * The pool is a memfd (mapped shared at the pool's base, where physmem and
 * the kernel read frames); each task gets a host range reserved for it at
 * its first page (PROT_NONE, no memory behind it).  A page the mapping
 * database gives the task at VPAGE goes, for real, at its host page in that
 * range (VPAGE itself below the range's size, else shifted by a hash of its
 * high bits): mmap(MAP_FIXED|MAP_SHARED|MAP_POPULATE) of the memfd at the
 * frame's offset, with the page's rights (read, or read and write); a
 * rights change is an mprotect; an unmap puts the reservation back
 * (PROT_NONE).  The pages an item or an unmap carries wait in a batch, and
 * neighbours (host pages and frames both in order, the same rights) are
 * one host call.  When two of a task's pages fall on the
 * same host page (their addresses differ by a multiple of the range), the
 * second is not placed: its accesses go through the physical memory as in
 * the simulated back end, and l4_host_mmu_stats counts it.  Accesses
 * (access.c) load and store through the host mappings. */
#include <sys/mman.h>

#include "kernel_priv.h"

/* The host range of a task: 64 GiB of address space, none of it memory
 * until mapped (the host has 128 TiB of it: some 2,000 tasks). */
#define HOST_RANGE (UINT64_C(1) << 36)

/* The host limits the mappings (VMAs) a process has (vm.max_map_count);
 * each run of pages this back end maps is one, a page put back or a rights
 * change in the middle of a run splits one.  It keeps to seven eighths of
 * the limit (read once), the rest left to the process's other mappings.
 * What it has made is estimated from above (a call that may add mappings
 * adds what it may add), and when the estimate reaches the budget the
 * process's mappings are counted (/proc/self/maps): while they are still
 * over, pages go through physical memory, and the count is made again
 * after a sixteenth of the budget more calls. */
static struct {
    uint64_t budget, estimate, recount_at;
} vmas;

static uint64_t count_maps(void)
{
    char *text = NULL;
    gsize len = 0;
    uint64_t n = 0;
    if (!g_file_get_contents("/proc/self/maps", &text, &len, NULL))
        return vmas.estimate; /* no /proc: the estimate stands */
    for (gsize i = 0; i < len; i++)
        n += text[i] == '\n';
    g_free(text);
    return n;
}

/* May the back end make another host mapping? */
static bool host_room(void)
{
    if (vmas.budget == 0) {
        char *text = NULL;
        uint64_t limit = 65530;
        if (g_file_get_contents("/proc/sys/vm/max_map_count", &text, NULL, NULL))
            limit = g_ascii_strtoull(text, NULL, 10);
        g_free(text);
        vmas.budget = limit > 2048 ? limit - limit / 8 : 1024;
        /* A lower budget, for tests and experiments: the process's
         * mappings at most. */
        const char *forced = g_getenv("PMSIM_HOST_MAP_LIMIT");
        if (forced != NULL && g_ascii_strtoull(forced, NULL, 10) > 0)
            vmas.budget = MIN(vmas.budget, g_ascii_strtoull(forced, NULL, 10));
        vmas.estimate = count_maps();
        vmas.recount_at = vmas.budget;
    }
    if (vmas.estimate < vmas.recount_at)
        return true;
    vmas.estimate = count_maps();
    vmas.recount_at = vmas.estimate < vmas.budget ? vmas.budget : vmas.estimate + vmas.budget / 16;
    return vmas.estimate < vmas.budget;
}

static int prot_of(unsigned rights)
{
    return (rights & L4_W)            ? PROT_READ | PROT_WRITE
           : (rights & (L4_R | L4_X)) ? PROT_READ
                                      : PROT_NONE;
}

/* A host call waiting in the batch: a page to map (NODE, at HOST, frame
 * PFN, protection PROT: in k->host_maps) or a host page to put back to its
 * reservation (HOST; SPACE, to give the host page up for good if the host
 * will not: in k->host_clears). */
struct host_op {
    struct space *space;
    struct mapnode *node;
    unsigned char *host;
    uint64_t pfn;
    int prot;
};

static void host_op_push(GArray **list, struct host_op op)
{
    if (*list == NULL)
        *list = g_array_new(FALSE, FALSE, sizeof(struct host_op));
    g_array_append_val(*list, op);
}

/* The host page of S that N is at (slot + 1, the key of host_used). */
static gpointer slot_key(const l4_kernel_t *k, const struct space *s, const unsigned char *host)
{
    return GSIZE_TO_POINTER(((uint64_t)(host - s->host_base) >> k->shift) + 1);
}

static bool unplace(l4_kernel_t *k, unsigned char *host, size_t n);

/* N's place was not made after all: its accesses go through physical
 * memory, and its host page goes back to the reservation (a refused
 * MAP_FIXED may have left what was there, or nothing), or stays taken for
 * good if the host will not. */
static void unset(l4_kernel_t *k, struct space *s, struct mapnode *n)
{
    if (unplace(k, n->host, 1))
        g_hash_table_remove(s->host_used, slot_key(k, s, n->host));
    n->host = NULL;
    k->host_mapped--;
    k->host_unplaced++;
}

/* Map N pages of the memfd from frame PFN at HOST with PROT, page tables
 * filled at once (an L4 map item enters the pages; nothing is left to
 * fault in). */
static bool place(l4_kernel_t *k, unsigned char *host, uint64_t pfn, size_t n, int prot)
{
    k->host_calls++;
    vmas.estimate += 2; /* the run, and the rest of the reservation split */
    return mmap(host, n << k->shift, prot, MAP_SHARED | MAP_FIXED | MAP_POPULATE, k->host_memfd,
                (off_t)(pfn << k->shift)) != MAP_FAILED;
}

/* Put N host pages at HOST back to the reservation (no memory, no access).
 * False when the host would not (its limit on mappings reached): they are
 * unmapped outright. */
static bool unplace(l4_kernel_t *k, unsigned char *host, size_t n)
{
    k->host_calls++;
    vmas.estimate += 2; /* a hole in a run splits it */
    if (mmap(host, n << k->shift, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) != MAP_FAILED)
        return true;
    (void)munmap(host, n << k->shift);
    return false;
}

void l4__host_set(l4_kernel_t *k, struct space *s, struct mapnode *n)
{
    if (!k->host_mmu || n->host != NULL || s->id == L4_ROOT_TASK)
        return;
    if (!host_room()) {
        /* The host's limit on mappings is near: pages go through physical
         * memory instead. */
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
    g_hash_table_add(s->host_used, key);
    n->host = at;
    k->host_mapped++;
    if (k->host_batching > 0) {
        /* A page put back just before at the same place needs no call of
         * its own: the mapping replaces the reservation there. */
        GArray *clears = k->host_clears;
        if (clears != NULL && clears->len > 0 &&
            g_array_index(clears, struct host_op, clears->len - 1).host == at)
            g_array_set_size(clears, clears->len - 1);
        n->host_pending = true;
        host_op_push(
            &k->host_maps,
            (struct host_op){
                .space = s, .node = n, .host = at, .pfn = n->pfn, .prot = prot_of(n->rights)});
        return;
    }
    if (!place(k, at, n->pfn, 1, prot_of(n->rights)))
        unset(k, s, n);
}

/* One host call for the run of LEN operations of one kind at RUN. */
static void host_run(l4_kernel_t *k, struct host_op *run, size_t len)
{
    if (run->node != NULL) {
        bool whole = place(k, run->host, run->pfn, len, run->prot);
        for (size_t j = 0; j < len; j++) {
            struct host_op *o = run + j;
            o->node->host_pending = false;
            /* Refused as a run (the host's limit on mappings): page by
             * page, each one that fails going through physical memory. */
            if (!whole && !place(k, o->host, o->pfn, 1, o->prot))
                unset(k, o->space, o->node);
        }
    } else if (!unplace(k, run->host, len)) {
        /* Unmapped outright: those host pages stay taken for good, so that
         * nothing is mapped there again. */
        for (size_t j = 0; j < len; j++)
            g_hash_table_add(run[j].space->host_used, slot_key(k, run[j].space, run[j].host));
    }
}

/* The operations of LIST in the order they came, runs of neighbouring
 * pages (host pages, and for maps frames too, in order, the same rights) one
 * host call each. */
static void host_run_all(l4_kernel_t *k, GArray *list)
{
    if (list == NULL)
        return;
    struct host_op *o = (struct host_op *)(void *)list->data;
    size_t n = list->len;
    for (size_t i = 0; i < n;) {
        const struct host_op *a = &o[i];
        size_t len = 1;
        for (; i + len < n; len++) {
            const struct host_op *b = &o[i + len];
            if (b->host != a->host + (len << k->shift))
                break;
            if (a->node != NULL && (b->prot != a->prot || b->pfn != a->pfn + len))
                break;
        }
        host_run(k, &o[i], len);
        i += len;
    }
    g_array_set_size(list, 0);
}

/* Carry out the batch: the pages put back first, then those mapped (a host
 * page put back and mapped again in one batch is always put back first: a
 * page mapped in the batch and then taken away is made at once). */
static void host_flush(l4_kernel_t *k)
{
    host_run_all(k, k->host_clears);
    host_run_all(k, k->host_maps);
}

void l4__host_begin(l4_kernel_t *k)
{
    if (k->host_mmu)
        k->host_batching++;
}

void l4__host_end(l4_kernel_t *k)
{
    if (k->host_mmu && --k->host_batching == 0)
        host_flush(k);
}

void l4__host_fini(l4_kernel_t *k)
{
    if (k->host_clears != NULL)
        g_array_free(k->host_clears, TRUE);
    if (k->host_maps != NULL)
        g_array_free(k->host_maps, TRUE);
    k->host_clears = k->host_maps = NULL;
}

void l4__host_protect(l4_kernel_t *k, struct mapnode *n)
{
    if (n->host_pending)
        host_flush(k); /* its mapping first */
    if (n->host == NULL)
        return;
    k->host_calls++;
    vmas.estimate += 2; /* a page of a run with other rights splits it */
    if (mprotect(n->host, k->page_size, prot_of(n->rights)) == 0)
        return;
    /* The host would not change the rights: no real mapping with other
     * rights than the simulated one; the page goes through physical memory
     * from now on. */
    (void)unplace(k, n->host, 1); /* its host page stays taken for good */
    n->host = NULL;
    k->host_mapped--;
    k->host_unplaced++;
}

void l4__host_clear(l4_kernel_t *k, struct space *s, struct mapnode *n)
{
    if (n->host_pending)
        host_flush(k); /* its mapping first */
    if (n->host == NULL)
        return;
    gpointer key = slot_key(k, s, n->host);
    if (k->host_batching > 0) {
        g_hash_table_remove(s->host_used, key);
        host_op_push(&k->host_clears, (struct host_op){.space = s, .host = n->host});
    } else if (unplace(k, n->host, 1)) {
        /* The reservation back in its place: no memory, no access. */
        g_hash_table_remove(s->host_used, key);
    }
    n->host = NULL;
    k->host_mapped--;
}

void l4__host_release(l4_kernel_t *k, struct space *s)
{
    host_flush(k);
    if (s->host_base != NULL)
        (void)munmap(s->host_base, HOST_RANGE);
    if (s->host_used != NULL)
        g_hash_table_destroy(s->host_used);
    s->host_base = NULL;
    s->host_used = NULL;
}

void l4_host_mmu_stats(const l4_kernel_t *k, uint64_t *mapped, uint64_t *unplaced, uint64_t *calls)
{
    if (calls != NULL)
        *calls = k->host_calls;
    *mapped = k->host_mapped;
    *unplaced = k->host_unplaced;
}
