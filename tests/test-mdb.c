/* test-mdb.c — the mapping database of the simulated kernel (SPEC §6).
 *
 * Map items from physmem's root mappings to tasks and on down chains of
 * tasks, with the rights of a child the intersection of its sender's and its
 * item's; recursive unmap from the root and from the middle of a tree, flush
 * (which takes the caller's own mapping too, except physmem's permanent
 * roots), and rights reduction that leaves read-only mappings down a whole
 * tree; a new mapping replacing an old one with its subtree, mapping again
 * from the same source extending rights, grant moving a mapping with its
 * children attached (and reducing them), grants of the root's identity range
 * refused; items naming nothing, malformed messages refused as a whole, the
 * typed-item limit; task deletion taking what was derived from the task;
 * mapping onto an ancestor of the source left alone; large fpages; exact
 * counters and events; and a chain of ten thousand tasks torn down without
 * recursion.  Data is checked too: bytes written through one mapping are
 * read through another.  On the host-MMU back end, runs of pages entered in
 * one host call read back each its own frame. */
#include "harness.h"

#define PG 4096u
#define FRAMES 64u

/* Addresses where the chain's tasks receive their page. */
#define VA_A 0x10000000ull
#define VA_B 0x20000000ull
#define VA_C 0x30000000ull
#define VA_D 0x40000000ull

static struct world w;

static void setup(void)
{
    world_init(&w, FRAMES, PG);
}
static void teardown(void)
{
    world_fini(&w);
}

static struct l4_stats stats(void)
{
    struct l4_stats s;
    l4_stats(w.k, &s);
    return s;
}

static l4_thread_t root(void)
{
    return l4_root_thread(w.k);
}

/* Rights of TASK's mapping at VA, 0 when nothing is mapped there. */
static unsigned rights_at(l4_task_t task, uint64_t va)
{
    unsigned r = 99;
    pm_error_t err = l4_lookup(w.k, task, va, NULL, &r);
    ck_assert_msg(err == PM_OK || err == PM_ENOENT, "lookup: %s", pm_strerror(err));
    return err == PM_OK ? r : 0;
}

/* The frame TASK has at VA (asserted mapped). */
static uint32_t pfn_at(l4_task_t task, uint64_t va)
{
    pm_pfn_t pfn = PM_PFN_NONE;
    ck_assert_int_eq(l4_lookup(w.k, task, va, &pfn, NULL), PM_OK);
    return pfn.n;
}

static pm_error_t map1(l4_thread_t from, l4_thread_t to, uint64_t src, unsigned rights,
                       uint64_t dst)
{
    return world_item(&w, L4_ITEM_MAP, from, to, src, w.shift, rights, dst);
}

/* map1 for hot loops: says nothing unless it fails. */
static pm_error_t map1_quiet(l4_thread_t from, l4_thread_t to, uint64_t src, uint64_t dst)
{
    l4_msg_t m;
    l4_msg_init(&m, 0);
    CHECK(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(src, w.shift, L4_RW), dst));
    return l4_send(w.k, from, to, &m, NULL);
}

static pm_error_t grant1(l4_thread_t from, l4_thread_t to, uint64_t src, unsigned rights,
                         uint64_t dst)
{
    return world_item(&w, L4_ITEM_GRANT, from, to, src, w.shift, rights, dst);
}

static pm_error_t unmap1(l4_thread_t caller, uint64_t va, unsigned rights, unsigned flags,
                         uint64_t *changed)
{
    return l4_unmap(w.k, caller, l4_fpage(va, w.shift, rights), flags, changed);
}

/* Write the string S at VA through THREAD; it must succeed. */
static void put(l4_thread_t th, uint64_t va, const char *s)
{
    size_t done = 0;
    ck_assert_int_eq(l4_access(w.k, th, L4_ACCESS_WRITE, va, (void *)s, strlen(s), &done), PM_OK);
    ck_assert_uint_eq(done, strlen(s));
}

/* Read strlen(WANT) bytes at VA through THREAD and compare them with WANT. */
static void expect(l4_thread_t th, uint64_t va, const char *want)
{
    char buf[64] = {0};
    size_t n = strlen(want);
    ck_assert_uint_lt(n, sizeof buf);
    ck_assert_int_eq(l4_access(w.k, th, L4_ACCESS_READ, va, buf, n, NULL), PM_OK);
    ck_assert_str_eq(buf, want);
}

/* The mappings of a frame as l4_mappings_of reports them. */
struct seen {
    struct l4_mapping_info m[16];
    size_t n;
};

static void collect(void *ctx, const struct l4_mapping_info *m)
{
    struct seen *s = ctx;
    if (s->n < 16)
        s->m[s->n] = *m;
    s->n++;
}

static struct seen mappings(uint32_t pfn)
{
    struct seen s = {.n = 0};
    size_t n = l4_mappings_of(w.k, PM_PFN(pfn), collect, &s);
    ck_assert_uint_eq(n, s.n);
    return s;
}

/* Root → A (at VA_A) → B (VA_B) → C (VA_C), all of frame PFN with RIGHTS
 * given at the root and RWX below. */
struct chain {
    l4_task_t t[3];
    l4_thread_t th[3];
};

static struct chain make_chain(uint32_t pfn, unsigned rights)
{
    struct chain c;
    for (int i = 0; i < 3; i++)
        c.th[i] = world_task(&w, &c.t[i]);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(pfn), c.th[0], VA_A, rights), PM_OK);
    ck_assert_int_eq(map1(c.th[0], c.th[1], VA_A, L4_RWX, VA_B), PM_OK);
    ck_assert_int_eq(map1(c.th[1], c.th[2], VA_B, L4_RWX, VA_C), PM_OK);
    return c;
}

/* ---- map --------------------------------------------------------------- */

START_TEST(test_map_rights_intersect)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(3), ta, VA_A, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(4), ta, VA_A + PG, L4_R | L4_X), PM_OK);
    ck_assert_uint_eq(pfn_at(a, VA_A), 3);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
    ck_assert_uint_eq(pfn_at(a, VA_A + PG), 4);
    ck_assert_uint_eq(rights_at(a, VA_A + PG), L4_R | L4_X);

    /* A sends everything it may: B gets only what A has. */
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RWX, VA_B), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_RW);
    ck_assert_int_eq(map1(ta, tb, VA_A + PG, L4_RWX, VA_B + PG), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B + PG), L4_R | L4_X);
    /* The item's rights limit too; W of an R|X page is nothing at all. */
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_R, VA_B + 2 * PG), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B + 2 * PG), L4_R);
    ck_assert_int_eq(map1(ta, tb, VA_A + PG, L4_W, VA_B + 3 * PG), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B + 3 * PG), 0);

    /* The data is the frame's: written in A, read in B and by physmem. */
    put(ta, VA_A + 100, "through A");
    expect(tb, VA_B + 100, "through A");
    expect(tb, VA_B + 2 * PG + 100, "through A");
    expect(root(), 3ull * PG + 100, "through A");
    ck_assert_mem_eq((char *)pm_pool_frame(w.pool, PM_PFN(3)) + 100, "through A", 9);
}
END_TEST

START_TEST(test_map_chain)
{
    struct chain c = make_chain(7, L4_RW);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(rights_at(c.t[i], (uint64_t)(i + 1) * VA_A), L4_RW);
    struct seen s = mappings(7);
    ck_assert_uint_eq(s.n, 3);
    const uint64_t vas[3] = {VA_A, VA_B, VA_C};
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_uint_eq(s.m[i].task, c.t[i]);
        ck_assert_uint_eq(s.m[i].vaddr, vas[i]);
        ck_assert_uint_eq(s.m[i].depth, i + 1);
        ck_assert_uint_eq(s.m[i].rights, L4_RW);
    }
    put(c.th[2], VA_C + 10, "from C");
    expect(c.th[0], VA_A + 10, "from C");
    put(c.th[1], VA_B + 20, "from B");
    expect(c.th[2], VA_C + 20, "from B");
    ck_assert_uint_eq(mappings(8).n, 0);
}
END_TEST

START_TEST(test_map_replaces)
{
    struct chain c = make_chain(5, L4_RW);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(5), td, VA_D, L4_RW), PM_OK);
    put(c.th[0], VA_A, "old");
    struct l4_stats before = stats();

    /* Frame 6 over A's page: A's old mapping and all derived from it go;
     * D's mapping of frame 5 (a sibling) stays. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(6), c.th[0], VA_A, L4_RW), PM_OK);
    ck_assert_uint_eq(pfn_at(c.t[0], VA_A), 6);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), 0);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), 0);
    struct seen s = mappings(5);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.m[0].task, d);
    ck_assert_uint_eq(mappings(6).n, 1);
    struct l4_stats after = stats();
    ck_assert_uint_eq(after.pages_unmapped - before.pages_unmapped, 3);
    ck_assert_uint_eq(after.pages_mapped - before.pages_mapped, 1);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, c.t[1], &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    /* A now sees frame 6, not what it wrote into frame 5. */
    put(root(), 6ull * PG, "new");
    expect(c.th[0], VA_A, "new");
    expect(td, VA_D, "old");

    /* A mapping from another task replaces too: D's page over B's empty
     * address and then over A's. */
    ck_assert_int_eq(map1(c.th[0], c.th[1], VA_A, L4_RW, VA_B), PM_OK);
    ck_assert_int_eq(map1(td, c.th[1], VA_D, L4_R, VA_B), PM_OK);
    ck_assert_uint_eq(pfn_at(c.t[1], VA_B), 5);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), L4_R);
    ck_assert_uint_eq(mappings(6).n, 1);
    ck_assert_uint_eq(mappings(5).n, 2);

    /* The same frame from a different source is a new mapping, not an
     * extension: A maps frame 5 anew, C takes it, then D's copy replaces
     * C's — after which unmapping from A leaves C alone. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(5), c.th[0], VA_A + PG, L4_R), PM_OK);
    ck_assert_int_eq(map1(c.th[0], c.th[2], VA_A + PG, L4_R, VA_C), PM_OK);
    ck_assert_int_eq(map1(td, c.th[2], VA_D, L4_RW, VA_C), PM_OK);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_RW);
    s = mappings(5);
    ck_assert_uint_eq(s.n, 4);
    ck_assert_uint_eq(stats().pages_unmapped - before.pages_unmapped, 5);
    ck_assert_int_eq(unmap1(c.th[0], VA_A + PG, L4_RWX, 0, NULL), PM_OK);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_RW);
    ck_assert_int_eq(unmap1(td, VA_D, L4_RWX, 0, NULL), PM_OK);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), 0);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), 0);
}
END_TEST

START_TEST(test_map_extends)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(9), ta, VA_A, L4_R), PM_OK);
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RW, VA_B), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_R);
    ck_assert_uint_eq(stats().pages_mapped, 2);

    /* Again from the same source with more rights: the same mapping grows,
     * so B's mapping, derived from it, is still there. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(9), ta, VA_A, L4_RW), PM_OK);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_R);
    ck_assert_uint_eq(stats().pages_mapped, 3);
    ck_assert_uint_eq(stats().pages_unmapped, 0);
    ck_assert_uint_eq(mappings(9).n, 2);
    /* The same rights again change nothing. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(9), ta, VA_A, L4_RW), PM_OK);
    ck_assert_uint_eq(stats().pages_mapped, 3);
    /* B's extends in turn, now that A has W. */
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RW, VA_B), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_RW);
    ck_assert_uint_eq(stats().pages_mapped, 4);
    put(tb, VA_B, "grown");
    expect(ta, VA_A, "grown");
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 1);
}
END_TEST

START_TEST(test_map_unmapped_source)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    unsigned sent = 0;
    l4_msg_t m;
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A, w.shift, L4_RW), VA_B));
    ck_assert_int_eq(l4_send(w.k, ta, tb, &m, &sent), PM_OK);
    ck_assert_uint_eq(sent, 1);
    ck_assert_uint_eq(rights_at(b, VA_B), 0);
    ck_assert_uint_eq(stats().pages_mapped, 0);
    ck_assert_uint_eq(stats().map_items, 1);

    /* A 4-page fpage of which A has pages 1 and 3: B gets just those. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(11), ta, VA_A + PG, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(13), ta, VA_A + 3 * PG, L4_RW), PM_OK);
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, ta, tb, VA_A, w.shift + 2, L4_RW, VA_B), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B), 0);
    ck_assert_uint_eq(pfn_at(b, VA_B + PG), 11);
    ck_assert_uint_eq(rights_at(b, VA_B + 2 * PG), 0);
    ck_assert_uint_eq(pfn_at(b, VA_B + 3 * PG), 13);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 2);
    /* Unmapped root-task addresses above physical memory name nothing too. */
    ck_assert_int_eq(map1(root(), tb, (uint64_t)FRAMES * PG, L4_RW, VA_C), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_C), 0);
}
END_TEST

START_TEST(test_map_large_fpage)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    /* 16 KiB: frames 4..7, at a 16 KiB-aligned address of A. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, root(), ta, 4ull * PG, w.shift + 2, L4_RW, VA_A),
                     PM_OK);
    for (uint32_t i = 0; i < 4; i++) {
        ck_assert_uint_eq(pfn_at(a, VA_A + i * PG), 4 + i);
        ck_assert_uint_eq(rights_at(a, VA_A + i * PG), L4_RW);
        ck_assert_uint_eq(mappings(4 + i).n, 1);
    }
    ck_assert_uint_eq(rights_at(a, VA_A + 4 * PG), 0);
    ck_assert_uint_eq(stats().pages_mapped, 4);
    ck_assert_uint_eq(stats().map_items, 1);

    /* On to B as one 16 KiB item; a write across all four pages in B reads
     * back in A. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, ta, tb, VA_A, w.shift + 2, L4_RW, VA_B), PM_OK);
    static char data[4 * PG], back[4 * PG];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 1);
    ck_assert_int_eq(l4_access(w.k, tb, L4_ACCESS_WRITE, VA_B, data, sizeof data, NULL), PM_OK);
    ck_assert_int_eq(l4_access(w.k, ta, L4_ACCESS_READ, VA_A, back, sizeof back, NULL), PM_OK);
    ck_assert_mem_eq(back, data, sizeof data);
    ck_assert_mem_eq(pm_pool_frame(w.pool, PM_PFN(6)), data + 2 * PG, PG);

    /* Unmapping the upper 8 KiB from the root takes frames 6, 7 only. */
    uint64_t changed = 0;
    ck_assert_int_eq(
        l4_unmap(w.k, root(), l4_fpage(4ull * PG + 2 * PG, w.shift + 1, L4_RWX), 0, &changed),
        PM_OK);
    ck_assert_uint_eq(changed, 4);
    ck_assert_uint_eq(rights_at(a, VA_A + PG), L4_RW);
    ck_assert_uint_eq(rights_at(b, VA_B + PG), L4_RW);
    ck_assert_uint_eq(rights_at(a, VA_A + 2 * PG), 0);
    ck_assert_uint_eq(rights_at(b, VA_B + 3 * PG), 0);
}
END_TEST

/* ---- unmap and flush --------------------------------------------------- */

START_TEST(test_unmap_root_recursive)
{
    struct chain c = make_chain(12, L4_RWX);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(12), td, VA_D, L4_RW), PM_OK);
    put(c.th[2], VA_C + 5, "kept in the frame");
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(root(), 12ull * PG, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 4);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(rights_at(c.t[i], (uint64_t)(i + 1) * VA_A), 0);
    ck_assert_uint_eq(rights_at(d, VA_D), 0);
    ck_assert_uint_eq(mappings(12).n, 0);
    ck_assert_uint_eq(stats().pages_unmapped, 4);
    /* Physmem keeps its frame and the bytes. */
    ck_assert_uint_eq(rights_at(L4_ROOT_TASK, 12ull * PG), L4_RWX);
    expect(root(), 12ull * PG + 5, "kept in the frame");
    /* And the unmapped tasks fault. */
    char b;
    ck_assert_int_eq(l4_access(w.k, c.th[2], L4_ACCESS_READ, VA_C, &b, 1, NULL), PM_EFAULT);
    ck_assert_int_eq(l4_access(w.k, td, L4_ACCESS_READ, VA_D, &b, 1, NULL), PM_EFAULT);
}
END_TEST

START_TEST(test_unmap_middle)
{
    struct chain c = make_chain(13, L4_RW);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(map1(c.th[1], td, VA_B, L4_R, VA_D), PM_OK);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(c.th[1], VA_B, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(rights_at(c.t[0], VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), 0);
    ck_assert_uint_eq(rights_at(d, VA_D), 0);
    ck_assert_uint_eq(mappings(13).n, 2);
    put(c.th[1], VA_B, "B still maps");
    expect(c.th[0], VA_A, "B still maps");
    /* Unmapping again changes nothing. */
    ck_assert_int_eq(unmap1(c.th[1], VA_B, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 0);
    ck_assert_uint_eq(stats().unmaps, 2);
    ck_assert_uint_eq(stats().pages_unmapped, 2);
}
END_TEST

START_TEST(test_flush_middle)
{
    struct chain c = make_chain(14, L4_RW);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(c.th[1], VA_B, L4_RWX, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(rights_at(c.t[0], VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), 0);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), 0);
    struct seen s = mappings(14);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.m[0].task, c.t[0]);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, c.t[1], &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    /* Flushing an unmapped page is fine and does nothing. */
    ck_assert_int_eq(unmap1(c.th[1], VA_B, L4_RWX, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 0);
    /* Unknown flags and bad fpages. */
    ck_assert_int_eq(unmap1(c.th[0], VA_A, L4_RWX, 2, NULL), PM_EINVAL);
    ck_assert_int_eq(l4_unmap(w.k, c.th[0], l4_fpage(VA_A, 10, L4_RWX), 0, NULL), PM_EINVAL);
    ck_assert_int_eq(l4_unmap(w.k, 9999, l4_fpage(VA_A, w.shift, L4_RWX), 0, NULL), PM_ESRCH);
    ck_assert_uint_eq(rights_at(c.t[0], VA_A), L4_RW);
}
END_TEST

START_TEST(test_flush_root_keeps_roots)
{
    struct chain c = make_chain(15, L4_RW);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(root(), 15ull * PG, L4_RWX, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(mappings(15).n, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(rights_at(c.t[i], (uint64_t)(i + 1) * VA_A), 0);
    pm_pfn_t pfn = PM_PFN_NONE;
    unsigned r = 0;
    ck_assert_int_eq(l4_lookup(w.k, L4_ROOT_TASK, 15ull * PG, &pfn, &r), PM_OK);
    ck_assert_uint_eq(pfn.n, 15);
    ck_assert_uint_eq(r, L4_RWX);
    /* Physmem still reads and writes it, and can map it again. */
    put(root(), 15ull * PG, "root");
    expect(root(), 15ull * PG, "root");
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(15), c.th[2], VA_C, L4_R), PM_OK);
    expect(c.th[2], VA_C, "root");
    /* A flush of only W from the root downgrades, and still keeps the root. */
    ck_assert_int_eq(unmap1(root(), 15ull * PG, L4_W, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 0);
    put(root(), 15ull * PG, "ROOT");
    expect(c.th[2], VA_C, "ROOT");
    /* Above physical memory the root task's mappings are ordinary: a flush
     * takes them. */
    uint64_t high = 0x300000000ull;
    ck_assert_int_eq(map1(c.th[2], root(), VA_C, L4_R, high), PM_OK);
    ck_assert_uint_eq(pfn_at(L4_ROOT_TASK, high), 15);
    ck_assert_int_eq(unmap1(root(), high, L4_RWX, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 1);
    ck_assert_uint_eq(rights_at(L4_ROOT_TASK, high), 0);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_R);
}
END_TEST

START_TEST(test_unmap_write_only)
{
    struct chain c = make_chain(16, L4_RWX);
    put(c.th[0], VA_A, "before");
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(root(), 16ull * PG, L4_W, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(stats().pages_downgraded, 3);
    ck_assert_uint_eq(stats().pages_unmapped, 0);
    ck_assert_uint_eq(stats().tlb_flushes, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_uint_eq(rights_at(c.t[i], (uint64_t)(i + 1) * VA_A), L4_R | L4_X);
    struct seen s = mappings(16);
    ck_assert_uint_eq(s.n, 3);
    for (size_t i = 0; i < s.n; i++)
        ck_assert_uint_eq(s.m[i].rights, L4_R | L4_X);

    /* Reads work; a write faults (no pager: EFAULT) and changes nothing. */
    expect(c.th[2], VA_C, "before");
    size_t done = 99;
    ck_assert_int_eq(l4_access(w.k, c.th[2], L4_ACCESS_WRITE, VA_C, "after", 5, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
    ck_assert_uint_eq(stats().faults_by_cause[L4_FAULT_WRITE], 1);
    expect(c.th[0], VA_A, "before");

    /* Unmapping W again finds nothing with W. */
    ck_assert_int_eq(unmap1(root(), 16ull * PG, L4_W, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 0);
    ck_assert_uint_eq(stats().pages_downgraded, 3);
    /* Unmapping R then leaves X only; unmapping X removes them all. */
    ck_assert_int_eq(unmap1(root(), 16ull * PG, L4_R, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_X);
    ck_assert_int_eq(unmap1(root(), 16ull * PG, L4_X, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(mappings(16).n, 0);
    ck_assert_uint_eq(stats().pages_unmapped, 3);
}
END_TEST

START_TEST(test_unmap_partial_tree)
{
    /* A has RW; B got R only, C from B; D got RW from A.  Revoking W from
     * A's descendants downgrades D alone. */
    l4_task_t a, b, cc, d;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    l4_thread_t tc = world_task(&w, &cc), td = world_task(&w, &d);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(17), ta, VA_A, L4_RW), PM_OK);
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_R, VA_B), PM_OK);
    ck_assert_int_eq(map1(tb, tc, VA_B, L4_RW, VA_C), PM_OK);
    ck_assert_int_eq(map1(ta, td, VA_A, L4_RW, VA_D), PM_OK);
    ck_assert_uint_eq(rights_at(cc, VA_C), L4_R);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(ta, VA_A, L4_W, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 1);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_R);
    ck_assert_uint_eq(rights_at(cc, VA_C), L4_R);
    ck_assert_uint_eq(rights_at(d, VA_D), L4_R);
    /* Flush of W from A: A too. */
    ck_assert_int_eq(unmap1(ta, VA_A, L4_W, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 1);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_R);
    ck_assert_uint_eq(mappings(17).n, 4);
    ck_assert_uint_eq(stats().pages_downgraded, 2);
}
END_TEST

/* ---- grant ------------------------------------------------------------- */

START_TEST(test_grant_moves)
{
    struct chain c = make_chain(18, L4_RW);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(grant1(c.th[0], td, VA_A, L4_RWX, VA_D), PM_OK);
    ck_assert_uint_eq(rights_at(c.t[0], VA_A), 0);
    ck_assert_uint_eq(pfn_at(d, VA_D), 18);
    ck_assert_uint_eq(rights_at(d, VA_D), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_RW);
    struct seen s = mappings(18);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_uint_eq(s.m[0].task, d);
    ck_assert_uint_eq(s.m[0].vaddr, VA_D);
    ck_assert_uint_eq(s.m[0].depth, 1);
    ck_assert_uint_eq(s.m[1].task, c.t[1]);
    ck_assert_uint_eq(s.m[1].depth, 2);
    ck_assert_uint_eq(s.m[2].task, c.t[2]);
    ck_assert_uint_eq(s.m[2].depth, 3);
    struct l4_stats st = stats();
    ck_assert_uint_eq(st.grant_items, 1);
    ck_assert_uint_eq(st.pages_granted, 1);
    ck_assert_uint_eq(st.pages_unmapped, 0);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, c.t[0], &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    ck_assert_int_eq(l4_task_stats(w.k, d, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 1);

    /* The children still work, and still hang from the moved mapping. */
    put(c.th[2], VA_C, "child of a grant");
    expect(td, VA_D, "child of a grant");
    char byte;
    ck_assert_int_eq(l4_access(w.k, c.th[0], L4_ACCESS_READ, VA_A, &byte, 1, NULL), PM_EFAULT);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(td, VA_D, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), 0);
    ck_assert_uint_eq(rights_at(d, VA_D), L4_RW);
}
END_TEST

START_TEST(test_grant_reduces_children)
{
    struct chain c = make_chain(19, L4_RWX);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(grant1(c.th[0], td, VA_A, L4_R, VA_D), PM_OK);
    ck_assert_uint_eq(rights_at(d, VA_D), L4_R);
    ck_assert_uint_eq(rights_at(c.t[1], VA_B), L4_R);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), L4_R);
    ck_assert_uint_eq(stats().pages_downgraded, 2);
    ck_assert_uint_eq(mappings(19).n, 3);
    size_t done = 9;
    ck_assert_int_eq(l4_access(w.k, c.th[2], L4_ACCESS_WRITE, VA_C, "x", 1, &done), PM_EFAULT);
    ck_assert_uint_eq(done, 0);
}
END_TEST

START_TEST(test_grant_within_and_onto_child)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(20), ta, VA_A, L4_RW), PM_OK);
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RW, VA_B), PM_OK);
    /* Within one task: the mapping moves to another address. */
    ck_assert_int_eq(grant1(ta, ta, VA_A, L4_RW, VA_A + PG), PM_OK);
    ck_assert_uint_eq(rights_at(a, VA_A), 0);
    ck_assert_uint_eq(pfn_at(a, VA_A + PG), 20);
    ck_assert_uint_eq(mappings(20).n, 2);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, a, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 1);
    /* Onto its own child: the child goes, the granted mapping takes its
     * place. */
    ck_assert_uint_eq(stats().pages_unmapped, 0);
    ck_assert_int_eq(grant1(ta, tb, VA_A + PG, L4_RW, VA_B), PM_OK);
    ck_assert_uint_eq(stats().pages_unmapped, 1);
    ck_assert_uint_eq(stats().pages_granted, 2);
    ck_assert_uint_eq(rights_at(a, VA_A + PG), 0);
    ck_assert_uint_eq(pfn_at(b, VA_B), 20);
    struct seen s = mappings(20);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(s.m[0].task, b);
    ck_assert_uint_eq(s.m[0].depth, 1);
    put(tb, VA_B, "moved twice");
    expect(root(), 20ull * PG, "moved twice");
    /* Onto itself: nothing changes. */
    ck_assert_int_eq(grant1(tb, tb, VA_B, L4_RW, VA_B), PM_OK);
    ck_assert_uint_eq(pfn_at(b, VA_B), 20);
    ck_assert_uint_eq(mappings(20).n, 1);
}
END_TEST

START_TEST(test_grant_from_root_einval)
{
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(21), ta, VA_A, L4_RW), PM_OK);
    struct l4_stats before = stats();
    ck_assert_int_eq(grant1(root(), ta, 21ull * PG, L4_RW, VA_B), PM_EINVAL);
    ck_assert_int_eq(world_item(&w, L4_ITEM_GRANT, root(), ta, 0, w.shift + 4, L4_RW, 0x1000000),
                     PM_EINVAL);
    ck_assert_uint_eq(rights_at(a, VA_B), 0);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(L4_ROOT_TASK, 21ull * PG), L4_RWX);
    ck_assert_uint_eq(mappings(21).n, 1);
    struct l4_stats after = stats();
    ck_assert_uint_eq(after.typed_items, before.typed_items);
    ck_assert_uint_eq(after.grant_items, 0);
    ck_assert_uint_eq(after.pages_granted, 0);
    ck_assert_uint_eq(after.ipcs, before.ipcs);
    put(root(), 21ull * PG, "still physmem's");
    expect(ta, VA_A, "still physmem's");
}
END_TEST

/* ---- malformed messages, the item limit ------------------------------- */

/* A valid first item, then a malformed one. */
static const struct {
    const char *what;
    uint64_t src;
    unsigned log2; /* 0: the page size */
    uint64_t dst;
} bad_items[] = {
    {"send base not aligned on the fpage", VA_A, 14, VA_B + PG},
    {"send base not page aligned", VA_A, 0, VA_B + 0x400},
    {"fpage smaller than a page", VA_A, 10, VA_B},
    {"fpage not aligned on its size", VA_A + PG, 14, VA_B},
    {"fpage beyond 2^48", L4_VADDR_LIMIT, 0, VA_B},
    {"fpage far beyond 2^48", 1ull << 52, 14, VA_B},
    {"fpage larger than the address space", 0, 49, 0},
    {"send base at 2^48", VA_A, 0, L4_VADDR_LIMIT},
    {"send base far beyond 2^48", VA_A, 14, 1ull << 50},
    {"send base near 2^64", VA_A, 0, UINT64_MAX - PG + 1},
    {"fpage near 2^64", UINT64_MAX - PG + 1, 0, VA_B},
};

START_TEST(test_malformed_atomic)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, root(), ta, 0, w.shift + 4, L4_RW, VA_A), PM_OK);
    struct l4_stats before = stats();
    for (int kind = L4_ITEM_MAP; kind <= L4_ITEM_GRANT; kind++) {
        l4_msg_t m;
        l4_msg_init(&m, 0);
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A, w.shift, L4_RW), VA_C));
        unsigned log2 = bad_items[_i].log2 ? bad_items[_i].log2 : w.shift;
        ck_assert(l4_msg_put_item(&m, (enum l4_item_kind)kind,
                                  l4_fpage(bad_items[_i].src, log2, L4_RW), bad_items[_i].dst));
        unsigned sent = 99;
        pm_error_t err = l4_send(w.k, ta, tb, &m, &sent);
        ck_assert_msg(err == PM_EINVAL, "%s (%s): got %s", bad_items[_i].what,
                      kind == L4_ITEM_MAP ? "map" : "grant", pm_strerror(err));
        ck_assert_uint_eq(sent, 99);
    }
    ck_assert_uint_eq(rights_at(b, VA_C), 0);
    ck_assert_uint_eq(rights_at(b, VA_B), 0);
    ck_assert_uint_eq(rights_at(b, L4_VADDR_LIMIT - PG), 0);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    ck_assert_int_eq(l4_task_stats(w.k, a, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 16);
    struct l4_stats after = stats();
    ck_assert_uint_eq(after.typed_items, before.typed_items);
    ck_assert_uint_eq(after.pages_mapped, before.pages_mapped);
    ck_assert_uint_eq(after.ipcs, before.ipcs);
    for (uint32_t f = 0; f < 16; f++)
        ck_assert_uint_eq(mappings(f).n, 1);
}
END_TEST

START_TEST(test_unmap_beyond_address_space)
{
    /* An fpage outside the 48-bit space is not an alias of one inside. */
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    uint64_t top = L4_VADDR_LIMIT - PG;
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(22), ta, top, L4_RW), PM_OK);
    ck_assert_int_eq(
        l4_unmap(w.k, ta, l4_fpage(UINT64_MAX - PG + 1, w.shift, L4_RWX), L4_UNMAP_FLUSH, NULL),
        PM_EINVAL);
    ck_assert_int_eq(l4_unmap(w.k, ta, l4_fpage(L4_VADDR_LIMIT, w.shift, L4_RWX), 0, NULL),
                     PM_EINVAL);
    ck_assert_uint_eq(rights_at(a, top), L4_RW);
    put(ta, top + PG - 4, "top");
    expect(root(), 22ull * PG + PG - 4, "top");
}
END_TEST

START_TEST(test_item_limit)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_uint_eq(l4_map_item_limit(w.k), L4_DEFAULT_MAP_ITEMS);
    ck_assert_uint_eq(l4_map_item_limit(w.k), 31);

    /* A full message of 31 page items goes entirely by default. */
    l4_msg_t m;
    l4_msg_init(&m, 0);
    for (unsigned i = 0; i < L4_MSG_MAX_ITEMS; i++)
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage((uint64_t)i * PG, w.shift, L4_RW),
                                  VA_A + (uint64_t)i * PG));
    ck_assert(!l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(0, w.shift, L4_RW), VA_C));
    ck_assert_uint_eq(l4_msg_items(&m), 31);
    unsigned sent = 0;
    ck_assert_int_eq(l4_send(w.k, root(), ta, &m, &sent), PM_OK);
    ck_assert_uint_eq(sent, 31);
    for (unsigned i = 0; i < 31; i++)
        ck_assert_uint_eq(pfn_at(a, VA_A + (uint64_t)i * PG), i);
    ck_assert_uint_eq(stats().typed_items, 31);

    /* Limit 3: five items, three go. */
    ck_assert_int_eq(l4_set_map_item_limit(w.k, 3), PM_OK);
    ck_assert_uint_eq(l4_map_item_limit(w.k), 3);
    l4_msg_init(&m, 0);
    for (unsigned i = 0; i < 5; i++)
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A + (uint64_t)i * PG, w.shift, L4_R),
                                  VA_B + (uint64_t)i * PG));
    sent = 0;
    ck_assert_int_eq(l4_send(w.k, ta, tb, &m, &sent), PM_OK);
    ck_assert_uint_eq(sent, 3);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_uint_eq(rights_at(b, VA_B + (uint64_t)i * PG), i < 3 ? L4_R : 0);
    ck_assert_uint_eq(stats().typed_items, 34);
    ck_assert_uint_eq(stats().map_items, 34);
    /* The sender resumes from where it got to. */
    l4_msg_init(&m, 0);
    for (unsigned i = sent; i < 5; i++)
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A + (uint64_t)i * PG, w.shift, L4_R),
                                  VA_B + (uint64_t)i * PG));
    ck_assert_int_eq(l4_send(w.k, ta, tb, &m, &sent), PM_OK);
    ck_assert_uint_eq(sent, 2);
    ck_assert_uint_eq(rights_at(b, VA_B + 4 * PG), L4_R);

    /* Out-of-range limits are refused and change nothing. */
    ck_assert_int_eq(l4_set_map_item_limit(w.k, 0), PM_EINVAL);
    ck_assert_int_eq(l4_set_map_item_limit(w.k, 32), PM_EINVAL);
    ck_assert_uint_eq(l4_map_item_limit(w.k), 3);
    ck_assert_int_eq(l4_set_map_item_limit(w.k, 31), PM_OK);
    ck_assert_uint_eq(l4_map_item_limit(w.k), 31);
}
END_TEST

START_TEST(test_item_limit_config)
{
    struct l4_kernel_config kc = {
        .phys_base = pm_pool_base(w.pool), .page_size = PG, .frames = FRAMES, .map_items = 2};
    l4_kernel_t *k2 = NULL;
    ck_assert_int_eq(l4_kernel_new(&kc, &k2), PM_OK);
    ck_assert_uint_eq(l4_map_item_limit(k2), 2);
    l4_task_t a;
    l4_thread_t ta;
    ck_assert_int_eq(l4_task_create(k2, &a), PM_OK);
    ck_assert_int_eq(l4_thread_create(k2, a, &ta), PM_OK);
    l4_msg_t m;
    l4_msg_init(&m, 0);
    for (unsigned i = 0; i < 4; i++)
        ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage((uint64_t)i * PG, w.shift, L4_RW),
                                  VA_A + (uint64_t)i * PG));
    unsigned sent = 0;
    ck_assert_int_eq(l4_send(k2, l4_root_thread(k2), ta, &m, &sent), PM_OK);
    ck_assert_uint_eq(sent, 2);
    ck_assert_int_eq(l4_lookup(k2, a, VA_A + PG, NULL, NULL), PM_OK);
    ck_assert_int_eq(l4_lookup(k2, a, VA_A + 2 * PG, NULL, NULL), PM_ENOENT);
    l4_kernel_free(k2);

    kc.map_items = 32;
    k2 = (l4_kernel_t *)0x1;
    ck_assert_int_eq(l4_kernel_new(&kc, &k2), PM_EINVAL);
    ck_assert_ptr_eq(k2, (l4_kernel_t *)0x1);
}
END_TEST

/* A server that answers a call with map items of its pages VA_A + i × P
 * at VA_B + i × P, for i < items; a negative count sends a malformed item. */
struct server {
    int items;
    unsigned calls;
};

static pm_error_t serve(void *ctx, l4_kernel_t *k, l4_thread_t self, l4_thread_t from,
                        const l4_msg_t *msg, l4_msg_t *reply)
{
    struct server *sv = ctx;
    (void)self;
    (void)from;
    (void)msg;
    sv->calls++;
    unsigned shift = l4_page_shift(k);
    if (sv->items < 0) {
        ck_assert(l4_msg_put_item(reply, L4_ITEM_MAP, l4_fpage(VA_A, shift, L4_RW), VA_B));
        ck_assert(l4_msg_put_item(reply, L4_ITEM_MAP, l4_fpage(VA_A, shift - 2, L4_RW), VA_C));
        return PM_OK;
    }
    for (int i = 0; i < sv->items; i++)
        ck_assert(l4_msg_put_item(reply, L4_ITEM_MAP,
                                  l4_fpage(VA_A + ((uint64_t)i << shift), shift, L4_RW),
                                  VA_B + ((uint64_t)i << shift)));
    return PM_OK;
}

START_TEST(test_call_reply_items)
{
    /* Items go both ways in a call, within the limit, all or nothing. */
    l4_task_t sv_task, cl;
    l4_thread_t tsv = world_task(&w, &sv_task), tcl = world_task(&w, &cl);
    struct server sv = {.items = 5};
    ck_assert_int_eq(l4_thread_set_handler(w.k, tsv, serve, &sv), PM_OK);
    for (uint32_t i = 0; i < 5; i++)
        ck_assert_int_eq(world_map_frame(&w, PM_PFN(40 + i), tsv, VA_A + i * PG, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(50), tcl, VA_D, L4_RW), PM_OK);
    ck_assert_int_eq(l4_set_map_item_limit(w.k, 3), PM_OK);
    struct l4_stats before = stats();

    l4_msg_t m, reply;
    l4_msg_init(&m, 7);
    ck_assert(l4_msg_put_word(&m, 1234));
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_D, w.shift, L4_R), VA_D));
    ck_assert_int_eq(l4_call(w.k, tcl, tsv, &m, &reply), PM_OK);
    ck_assert_uint_eq(sv.calls, 1);
    ck_assert_uint_eq(l4_msg_items(&reply), 5);
    ck_assert_uint_eq(rights_at(sv_task, VA_D), L4_R); /* the request's item */
    for (uint32_t i = 0; i < 5; i++)
        ck_assert_uint_eq(rights_at(cl, VA_B + i * PG), i < 3 ? L4_RW : 0);
    struct l4_stats after = stats();
    ck_assert_uint_eq(after.ipcs - before.ipcs, 2);
    ck_assert_uint_eq(after.typed_items - before.typed_items, 4);
    put(tcl, VA_B + 2 * PG, "served");
    expect(tsv, VA_A + 2 * PG, "served");

    /* A malformed reply: EINVAL, nothing of it carried out. */
    sv.items = -1;
    l4_msg_init(&m, 7);
    ck_assert_int_eq(l4_call(w.k, tcl, tsv, &m, NULL), PM_EINVAL);
    ck_assert_uint_eq(sv.calls, 2);
    ck_assert_uint_eq(pfn_at(cl, VA_B), 40);
    ck_assert_uint_eq(rights_at(cl, VA_C), 0);
    /* Nobody receiving: ESRCH. */
    ck_assert_int_eq(l4_call(w.k, tsv, tcl, &m, NULL), PM_ESRCH);
}
END_TEST

/* ---- tasks ------------------------------------------------------------- */

START_TEST(test_task_delete)
{
    struct chain c = make_chain(23, L4_RW);
    l4_task_t d;
    l4_thread_t td = world_task(&w, &d);
    ck_assert_int_eq(map1(c.th[0], td, VA_A, L4_RW, VA_D), PM_OK);
    /* B holds a second page of its own, mapped on to C. */
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(24), c.th[1], VA_B + PG, L4_RW), PM_OK);
    ck_assert_int_eq(map1(c.th[1], c.th[2], VA_B + PG, L4_RW, VA_C + PG), PM_OK);
    l4_thread_t tb2;
    ck_assert_int_eq(l4_thread_create(w.k, c.t[1], &tb2), PM_OK);
    struct l4_stats before = stats();

    ck_assert_int_eq(l4_task_delete(w.k, c.t[1]), PM_OK);
    ck_assert_uint_eq(stats().pages_unmapped - before.pages_unmapped, 4);
    ck_assert(!l4_task_exists(w.k, c.t[1]));
    ck_assert_uint_eq(rights_at(c.t[0], VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(d, VA_D), L4_RW);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C), 0);
    ck_assert_uint_eq(rights_at(c.t[2], VA_C + PG), 0);
    ck_assert_uint_eq(mappings(23).n, 2);
    ck_assert_uint_eq(mappings(24).n, 0);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, c.t[2], &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);

    /* The task and both its threads are gone. */
    char byte = 0;
    for (int i = 0; i < 2; i++) {
        l4_thread_t th = i == 0 ? c.th[1] : tb2;
        ck_assert_int_eq(l4_access(w.k, th, L4_ACCESS_READ, VA_B, &byte, 1, NULL), PM_ESRCH);
        ck_assert_uint_eq(l4_thread_task(w.k, th), L4_NILTASK);
        ck_assert_int_eq(map1(c.th[0], th, VA_A, L4_RW, VA_B), PM_ESRCH);
        ck_assert_int_eq(map1(th, c.th[0], VA_B, L4_RW, VA_C), PM_ESRCH);
        ck_assert_int_eq(unmap1(th, VA_B, L4_RWX, 0, NULL), PM_ESRCH);
        ck_assert_int_eq(l4_thread_set_pager(w.k, th, L4_NILTHREAD), PM_ESRCH);
    }
    ck_assert_int_eq(l4_thread_create(w.k, c.t[1], &tb2), PM_ESRCH);
    ck_assert_int_eq(l4_lookup(w.k, c.t[1], VA_B, NULL, NULL), PM_ESRCH);
    ck_assert_int_eq(l4_task_stats(w.k, c.t[1], &ts), PM_ESRCH);
    ck_assert_int_eq(l4_task_delete(w.k, c.t[1]), PM_ESRCH);
    ck_assert_int_eq(l4_task_delete(w.k, L4_ROOT_TASK), PM_ESRCH);
    ck_assert_int_eq(l4_task_delete(w.k, L4_NILTASK), PM_ESRCH);
    ck_assert_int_eq(l4_task_delete(w.k, 12345), PM_ESRCH);

    /* Ids are not reused; the survivors go on mapping. */
    l4_task_t e;
    l4_thread_t te = world_task(&w, &e);
    ck_assert_uint_gt(e, d);
    ck_assert_int_eq(map1(td, te, VA_D, L4_RW, VA_B), PM_OK);
    put(te, VA_B, "after delete");
    expect(c.th[0], VA_A, "after delete");
}
END_TEST

START_TEST(test_task_delete_self_derived)
{
    /* A maps its page on to itself and into the root task's ordinary range;
     * deleting A takes all of it. */
    l4_task_t a;
    l4_thread_t ta = world_task(&w, &a);
    uint64_t high = 0x200000000ull;
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(25), ta, VA_B, L4_RW), PM_OK);
    ck_assert_int_eq(map1(ta, ta, VA_B, L4_RW, VA_A), PM_OK);
    ck_assert_int_eq(map1(ta, ta, VA_A, L4_RW, VA_C), PM_OK);
    ck_assert_int_eq(map1(ta, root(), VA_C, L4_RW, high), PM_OK);
    ck_assert_uint_eq(mappings(25).n, 4);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, a, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 3);
    ck_assert_int_eq(l4_task_delete(w.k, a), PM_OK);
    ck_assert_uint_eq(mappings(25).n, 0);
    ck_assert_uint_eq(rights_at(L4_ROOT_TASK, high), 0);
    ck_assert_uint_eq(stats().pages_unmapped, 4);
    ck_assert_int_eq(l4_task_stats(w.k, L4_ROOT_TASK, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
}
END_TEST

START_TEST(test_map_onto_ancestor)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(26), ta, VA_A, L4_RW), PM_OK);
    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RW, VA_B), PM_OK);
    struct l4_stats before = stats();
    /* B's page onto A's (its parent), onto physmem's frame, and A's onto
     * itself: all left alone. */
    ck_assert_int_eq(map1(tb, ta, VA_B, L4_RW, VA_A), PM_OK);
    ck_assert_int_eq(map1(tb, root(), VA_B, L4_RW, 26ull * PG), PM_OK);
    ck_assert_int_eq(map1(tb, root(), VA_B, L4_RW, 3ull * PG), PM_OK);
    ck_assert_int_eq(map1(ta, ta, VA_A, L4_RW, VA_A), PM_OK);
    ck_assert_int_eq(grant1(tb, ta, VA_B, L4_RW, VA_A), PM_OK);
    ck_assert_uint_eq(pfn_at(a, VA_A), 26);
    ck_assert_uint_eq(pfn_at(b, VA_B), 26);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_RW);
    ck_assert_uint_eq(pfn_at(L4_ROOT_TASK, 3ull * PG), 3);
    struct seen s = mappings(26);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.m[0].task, a);
    ck_assert_uint_eq(s.m[1].task, b);
    ck_assert_uint_eq(s.m[1].depth, 2);
    ck_assert_uint_eq(mappings(3).n, 0);
    struct l4_stats after = stats();
    ck_assert_uint_eq(after.pages_unmapped, before.pages_unmapped);
    ck_assert_uint_eq(after.pages_mapped, before.pages_mapped);
    ck_assert_uint_eq(after.pages_granted, 0);
    put(tb, VA_B, "intact");
    expect(ta, VA_A, "intact");
}
END_TEST

/* ---- counters and events ----------------------------------------------- */

START_TEST(test_counters)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    struct l4_stats s = stats();
    ck_assert_uint_eq(s.typed_items + s.pages_mapped + s.unmaps + s.ipcs, 0);

    /* 16 KiB root → A, then A → B as one 16 KiB item and one page item. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, root(), ta, 8ull * PG, w.shift + 2, L4_RW, VA_A),
                     PM_OK);
    l4_msg_t m;
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A, w.shift + 2, L4_RW), VA_B));
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(VA_A, w.shift, L4_R), VA_C));
    ck_assert_int_eq(l4_send(w.k, ta, tb, &m, NULL), PM_OK);
    s = stats();
    ck_assert_uint_eq(s.ipcs, 2);
    ck_assert_uint_eq(s.typed_items, 3);
    ck_assert_uint_eq(s.map_items, 3);
    ck_assert_uint_eq(s.grant_items, 0);
    ck_assert_uint_eq(s.pages_mapped, 9);
    ck_assert_uint_eq(s.unmaps, 0);

    /* Grant one page of B's to A. */
    ck_assert_int_eq(grant1(tb, ta, VA_C, L4_R, VA_D), PM_OK);
    s = stats();
    ck_assert_uint_eq(s.typed_items, 4);
    ck_assert_uint_eq(s.grant_items, 1);
    ck_assert_uint_eq(s.pages_granted, 1);
    ck_assert_uint_eq(s.pages_mapped, 9);

    /* Revoke W from A's 16 KiB: B's four pages downgrade. */
    ck_assert_int_eq(l4_unmap(w.k, ta, l4_fpage(VA_A, w.shift + 2, L4_W), 0, NULL), PM_OK);
    s = stats();
    ck_assert_uint_eq(s.unmaps, 1);
    ck_assert_uint_eq(s.pages_downgraded, 4);
    ck_assert_uint_eq(s.pages_unmapped, 0);
    ck_assert_uint_eq(s.tlb_flushes, 4);

    /* Flush everything from the root: A's 4, B's 4, A's granted page. */
    uint64_t changed = 0;
    ck_assert_int_eq(
        l4_unmap(w.k, root(), l4_fpage(8ull * PG, w.shift + 2, L4_RWX), L4_UNMAP_FLUSH, &changed),
        PM_OK);
    ck_assert_uint_eq(changed, 9);
    s = stats();
    ck_assert_uint_eq(s.unmaps, 2);
    ck_assert_uint_eq(s.pages_unmapped, 9);
    ck_assert_uint_eq(s.tlb_flushes, 13);
    ck_assert_uint_eq(s.pages_downgraded, 4);
    ck_assert_uint_eq(s.ipcs, 3);
    ck_assert_uint_eq(s.faults + s.accesses, 0);
    /* An unmap of nothing still counts as a call. */
    ck_assert_int_eq(unmap1(ta, VA_A, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, 0);
    ck_assert_uint_eq(stats().unmaps, 3);
    ck_assert_uint_eq(stats().tlb_flushes, 13);
}
END_TEST

START_TEST(test_events)
{
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    struct event_log e = {.n = 0};
    l4_set_event_hook(w.k, event_log_record, &e);
    l4_clock_advance(w.k, 1000);

    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, root(), ta, 4ull * PG, w.shift + 1, L4_RW, VA_A),
                     PM_OK);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_int_eq(e.ev[0].kind, L4_EV_MAP);
    ck_assert_uint_eq(e.ev[0].time, 1000);
    ck_assert_uint_eq(e.ev[0].task, a);
    ck_assert_uint_eq(e.ev[0].from, L4_ROOT_TASK);
    ck_assert_uint_eq(e.ev[0].vaddr, VA_A);
    ck_assert_uint_eq(e.ev[0].size, 2 * PG);
    ck_assert_uint_eq(e.ev[0].rights, L4_RW);
    ck_assert_uint_eq(e.ev[0].pages, 2);

    l4_clock_advance(w.k, 500);
    ck_assert_int_eq(grant1(ta, tb, VA_A + PG, L4_R, VA_B), PM_OK);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_int_eq(e.ev[1].kind, L4_EV_GRANT);
    ck_assert_uint_eq(e.ev[1].time, 1500);
    ck_assert_uint_eq(e.ev[1].task, b);
    ck_assert_uint_eq(e.ev[1].from, a);
    ck_assert_uint_eq(e.ev[1].vaddr, VA_B);
    ck_assert_uint_eq(e.ev[1].size, PG);
    ck_assert_uint_eq(e.ev[1].rights, L4_R);
    ck_assert_uint_eq(e.ev[1].pages, 1);

    ck_assert_int_eq(map1(ta, tb, VA_A, L4_RW, VA_C), PM_OK);
    ck_assert_int_eq(l4_unmap(w.k, root(), l4_fpage(4ull * PG, w.shift + 2, L4_W), 0, NULL), PM_OK);
    ck_assert_uint_eq(e.n, 4);
    ck_assert_int_eq(e.ev[3].kind, L4_EV_UNMAP);
    ck_assert_uint_eq(e.ev[3].task, L4_ROOT_TASK);
    ck_assert_uint_eq(e.ev[3].from, 0);
    ck_assert_uint_eq(e.ev[3].vaddr, 4ull * PG);
    ck_assert_uint_eq(e.ev[3].size, 4 * PG);
    ck_assert_uint_eq(e.ev[3].rights, L4_W);
    ck_assert_uint_eq(e.ev[3].pages, 2); /* A's frame-4 page and B's copy of it */

    /* A map item naming nothing still reports, with no pages. */
    ck_assert_int_eq(map1(tb, ta, VA_D, L4_RW, VA_D), PM_OK);
    ck_assert_uint_eq(e.n, 5);
    ck_assert_int_eq(e.ev[4].kind, L4_EV_MAP);
    ck_assert_uint_eq(e.ev[4].pages, 0);
    /* A malformed message reports nothing. */
    ck_assert_int_eq(map1(tb, ta, VA_D, L4_RW, L4_VADDR_LIMIT), PM_EINVAL);
    ck_assert_uint_eq(e.n, 5);
    ck_assert_str_eq(l4_event_kind_name(L4_EV_MAP), "map");
    ck_assert_str_eq(l4_event_kind_name(L4_EV_UNMAP), "unmap");
    ck_assert_str_eq(l4_event_kind_name(L4_EV_GRANT), "grant");

    l4_set_event_hook(w.k, NULL, NULL);
    ck_assert_int_eq(unmap1(ta, VA_A, L4_RWX, L4_UNMAP_FLUSH, NULL), PM_OK);
    ck_assert_uint_eq(e.n, 5);
}
END_TEST

/* ---- deep trees -------------------------------------------------------- */

#define CHAIN 10000

START_TEST(test_long_chain_tasks)
{
    l4_thread_t prev = root();
    uint64_t prev_va = 30ull * PG;
    l4_thread_t *th = malloc(CHAIN * sizeof *th);
    ck_assert_ptr_nonnull(th);
    for (int i = 0; i < CHAIN; i++) {
        uint64_t va = VA_A + (uint64_t)(i % 7) * PG;
        l4_task_t t;
        CHECK_EQ(l4_task_create(w.k, &t), PM_OK);
        CHECK_EQ(l4_thread_create(w.k, t, &th[i]), PM_OK);
        CHECK_EQ(map1_quiet(prev, th[i], prev_va, va), PM_OK);
        prev = th[i];
        prev_va = va;
    }
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(30), NULL, NULL), CHAIN);
    put(th[CHAIN - 1], prev_va + 8, "bottom");
    expect(th[0], VA_A + 8, "bottom");
    expect(root(), 30ull * PG + 8, "bottom");

    /* Revoking W from the middle downgrades the lower half. */
    uint64_t changed = 0;
    l4_thread_t mid = th[CHAIN / 2 - 1];
    ck_assert_int_eq(unmap1(mid, VA_A + (uint64_t)((CHAIN / 2 - 1) % 7) * PG, L4_W, 0, &changed),
                     PM_OK);
    ck_assert_uint_eq(changed, CHAIN / 2);

    ck_assert_int_eq(unmap1(root(), 30ull * PG, L4_RWX, 0, &changed), PM_OK);
    ck_assert_uint_eq(changed, CHAIN);
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(30), NULL, NULL), 0);
    ck_assert_uint_eq(stats().pages_unmapped, CHAIN);
    ck_assert_int_eq(l4_lookup(w.k, l4_thread_task(w.k, th[CHAIN - 1]), prev_va, NULL, NULL),
                     PM_ENOENT);
    free(th);
}
END_TEST

START_TEST(test_long_chain_one_task)
{
    /* The same depth inside one address space, torn down by deleting the
     * task and by a flush. */
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(31), ta, VA_A, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(32), tb, VA_A, L4_RW), PM_OK);
    for (uint64_t i = 1; i < CHAIN; i++) {
        CHECK_EQ(map1_quiet(ta, ta, VA_A + (i - 1) * PG, VA_A + i * PG), PM_OK);
        CHECK_EQ(map1_quiet(tb, tb, VA_A + (i - 1) * PG, VA_A + i * PG), PM_OK);
    }
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(31), NULL, NULL), CHAIN);
    put(ta, VA_A + (CHAIN - 1) * (uint64_t)PG, "deep");
    expect(root(), 31ull * PG, "deep");
    ck_assert_int_eq(l4_task_delete(w.k, a), PM_OK);
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(31), NULL, NULL), 0);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(tb, VA_A, L4_RWX, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, CHAIN);
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(32), NULL, NULL), 0);
    ck_assert_uint_eq(stats().pages_unmapped, 2 * CHAIN);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
}
END_TEST

START_TEST(test_sparse_huge_fpages)
{
    /* Unmapping or sending the whole 48-bit address space visits only what
     * is mapped: it must be quick and exact. */
    l4_task_t a, b;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(1), ta, 0x1000, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(2), ta, 0x7FFF00000000ull, L4_RW), PM_OK);
    ck_assert_int_eq(world_map_frame(&w, PM_PFN(3), ta, L4_VADDR_LIMIT - PG, L4_RW), PM_OK);
    /* A to B, everything at once: the same three pages. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_MAP, ta, tb, 0, L4_VADDR_BITS, L4_R, 0), PM_OK);
    ck_assert_uint_eq(pfn_at(b, 0x1000), 1);
    ck_assert_uint_eq(pfn_at(b, 0x7FFF00000000ull), 2);
    ck_assert_uint_eq(pfn_at(b, L4_VADDR_LIMIT - PG), 3);
    ck_assert_uint_eq(rights_at(b, L4_VADDR_LIMIT - PG), L4_R);
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 3);
    uint64_t changed = 0;
    ck_assert_int_eq(unmap1(ta, 0, L4_RWX, 0, &changed), PM_OK); /* fpage of 2^12 at 0: none */
    ck_assert_uint_eq(changed, 0);
    l4_fpage_t all = l4_fpage(0, L4_VADDR_BITS, L4_RWX);
    ck_assert_int_eq(l4_unmap(w.k, ta, all, L4_UNMAP_FLUSH, &changed), PM_OK);
    ck_assert_uint_eq(changed, 6);
    ck_assert_int_eq(l4_task_stats(w.k, a, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    ck_assert_int_eq(l4_task_stats(w.k, b, &ts), PM_OK);
    ck_assert_uint_eq(ts.mapped_pages, 0);
    /* Addresses near 2^64 wrap nowhere. */
    ck_assert(!l4_fpage_valid(l4_fpage(UINT64_MAX - (PG - 1), 12, L4_RWX), 12));
    ck_assert_int_eq(l4_unmap(w.k, ta, l4_fpage(UINT64_MAX - (PG - 1), 12, L4_RWX), 0, NULL),
                     PM_EINVAL);
}
END_TEST

/* The host-MMU back end enters the pages an item or an unmap carries in
 * runs (one host call for neighbouring pages of neighbouring frames): the
 * bytes read through every real mapping are the frame's, after mapping,
 * replacing, unmapping part of a run, reducing rights and granting. */
static void host_world(struct world *hw)
{
    struct pm_pool_config pc = {
        .page_size = PG, .frames = FRAMES, .retain_frames = 16, .backing = PM_POOL_MEMFD};
    ck_assert_int_eq(pm_pool_new(&pc, &hw->pool), PM_OK);
    struct l4_kernel_config kc = {.phys_base = pm_pool_base(hw->pool),
                                  .page_size = PG,
                                  .frames = FRAMES,
                                  .host_mmu = true,
                                  .host_memfd = pm_pool_memfd(hw->pool)};
    ck_assert_int_eq(l4_kernel_new(&kc, &hw->k), PM_OK);
    hw->page = PG;
    hw->shift = (unsigned)__builtin_ctzll(PG);
}

/* Each of pages 0 … N − 1 at VA through TH holds TAG + frame (its first
 * byte), frames from FIRST on; a page at index HOLE_LO … HOLE_HI − 1 is not
 * mapped. */
static void host_expect(struct world *hw, l4_thread_t th, uint64_t va, unsigned n, unsigned first,
                        unsigned hole_lo, unsigned hole_hi)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned char b = 0;
        pm_error_t err =
            l4_access(hw->k, th, L4_ACCESS_READ, va + (uint64_t)i * PG + 7, &b, 1, NULL);
        if (i >= hole_lo && i < hole_hi) {
            ck_assert_int_eq(err, PM_EFAULT);
            continue;
        }
        ck_assert_int_eq(err, PM_OK);
        ck_assert_uint_eq(b, (unsigned char)(0x40 + first + i));
    }
}

START_TEST(test_host_mmu_runs)
{
    struct world hw;
    host_world(&hw);
    l4_task_t a, b, c;
    l4_thread_t ta = world_task(&hw, &a), tb = world_task(&hw, &b), tc = world_task(&hw, &c);
    /* Every frame's byte 7 says which frame it is. */
    unsigned char *phys = pm_pool_base(hw.pool);
    for (unsigned f = 0; f < FRAMES; f++)
        phys[(size_t)f * PG + 7] = (unsigned char)(0x40 + f);
    uint64_t mapped, unplaced, calls0, calls;
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls0);
    /* Frames 0 … 31 to A in one item (2^17 bytes): one host call. */
    ck_assert_int_eq(world_item(&hw, L4_ITEM_MAP, l4_root_thread(hw.k), ta, 0, 17, L4_RW, VA_A),
                     PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(mapped, 32);
    ck_assert_uint_eq(unplaced, 0);
    ck_assert_uint_eq(calls - calls0, 1);
    host_expect(&hw, ta, VA_A, 32, 0, 0, 0);
    /* A gives B its first 16 pages read-only, then (replacing them) its
     * last 16: one call each. */
    ck_assert_int_eq(world_item(&hw, L4_ITEM_MAP, ta, tb, VA_A, 16, L4_R, VA_B), PM_OK);
    host_expect(&hw, tb, VA_B, 16, 0, 0, 0);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls0);
    ck_assert_int_eq(world_item(&hw, L4_ITEM_MAP, ta, tb, VA_A + 16 * PG, 16, L4_R, VA_B), PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(calls - calls0, 1);
    ck_assert_uint_eq(mapped, 48);
    host_expect(&hw, tb, VA_B, 16, 16, 0, 0);
    /* A write through A is seen through B (the same frame, really). */
    unsigned char x = 0xAB, y = 0;
    ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_WRITE, VA_A + 20 * PG + 9, &x, 1, NULL), PM_OK);
    ck_assert_int_eq(l4_access(hw.k, tb, L4_ACCESS_READ, VA_B + 4 * PG + 9, &y, 1, NULL), PM_OK);
    ck_assert_uint_eq(y, 0xAB);
    /* B cannot write: read-only, on the host too. */
    ck_assert_int_eq(l4_access(hw.k, tb, L4_ACCESS_WRITE, VA_B, &x, 1, NULL), PM_EFAULT);
    /* A takes pages 20 … 23 back from B (4 pages, 2^14 bytes at A + 20):
     * one call; B keeps the rest. */
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls0);
    ck_assert_int_eq(l4_unmap(hw.k, ta, l4_fpage(VA_A + 20 * PG, 14, L4_RWX), 0, NULL), PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(calls - calls0, 1);
    ck_assert_uint_eq(mapped, 44);
    host_expect(&hw, tb, VA_B, 16, 16, 4, 8);
    /* A's own pages lose write (flush): B's are read-only already. */
    ck_assert_int_eq(l4_unmap(hw.k, ta, l4_fpage(VA_A, 17, L4_W), L4_UNMAP_FLUSH, NULL), PM_OK);
    ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_WRITE, VA_A, &x, 1, NULL), PM_EFAULT);
    host_expect(&hw, ta, VA_A, 32, 0, 0, 0);
    /* B grants its last 8 pages to C: they leave B, C reads them (a call
     * to take them from B, one to give them to C). */
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls0);
    ck_assert_int_eq(world_item(&hw, L4_ITEM_GRANT, tb, tc, VA_B + 8 * PG, 15, L4_R, VA_C), PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(calls - calls0, 2);
    host_expect(&hw, tb, VA_B, 8, 16, 4, 8);
    host_expect(&hw, tc, VA_C, 8, 24, 0, 0);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(mapped, 44);
    ck_assert_uint_eq(unplaced, 0);
    /* Everything of A's away: what derived from it goes, on the host too. */
    ck_assert_int_eq(l4_unmap(hw.k, ta, l4_fpage(VA_A, 17, L4_RWX), L4_UNMAP_FLUSH, NULL), PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(mapped, 0);
    host_expect(&hw, tc, VA_C, 8, 24, 0, 8);
    world_fini(&hw);
}
END_TEST

/* Near the host's limit on mappings (made low here: PMSIM_HOST_MAP_LIMIT),
 * pages go through physical memory instead, counted as unplaced; every
 * page still reads its frame's bytes and a write through one mapping is
 * read through another, placed or not. */
START_TEST(test_host_mmu_limit)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    ck_assert_ptr_nonnull(maps);
    unsigned now = 0;
    for (int c; (c = fgetc(maps)) != EOF;)
        now += c == '\n';
    fclose(maps);
    char limit[32];
    snprintf(limit, sizeof limit, "%u", now + 300);
    ck_assert_int_eq(setenv("PMSIM_HOST_MAP_LIMIT", limit, 1), 0);
    struct world hw;
    host_world(&hw);
    l4_task_t a;
    l4_thread_t ta = world_task(&hw, &a);
    unsigned char *phys = pm_pool_base(hw.pool);
    for (unsigned f = 0; f < FRAMES; f++)
        phys[(size_t)f * PG + 7] = (unsigned char)(0x40 + f);
    /* Pages two apart (never one run): each is a host mapping. */
    enum { N = 400 };
    for (unsigned i = 0; i < N; i++)
        ck_assert_int_eq(world_map_frame(&hw, PM_PFN(i % FRAMES), ta, VA_A + 2ull * i * PG, L4_RW),
                         PM_OK);
    uint64_t mapped, unplaced, calls;
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_gt(unplaced, 0);
    ck_assert_uint_gt(mapped, 0);
    ck_assert_uint_eq(mapped + unplaced, N);
    for (unsigned i = 0; i < N; i++) {
        unsigned char b = 0;
        ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_READ, VA_A + 2ull * i * PG + 7, &b, 1, NULL),
                         PM_OK);
        ck_assert_uint_eq(b, (unsigned char)(0x40 + i % FRAMES));
    }
    /* Page 0 (placed) and the last page of frame 0 (not placed). */
    unsigned char x = 0x99, y = 0;
    ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_WRITE, VA_A + 9, &x, 1, NULL), PM_OK);
    uint64_t last = VA_A + 2ull * ((N - 1) / FRAMES * FRAMES) * PG;
    ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_READ, last + 9, &y, 1, NULL), PM_OK);
    ck_assert_uint_eq(y, 0x99);
    /* Unmapped, placed or not: nothing is left mapped on the host. */
    ck_assert_int_eq(l4_unmap(hw.k, ta, l4_fpage(VA_A, 23, L4_RWX), L4_UNMAP_FLUSH, NULL), PM_OK);
    l4_host_mmu_stats(hw.k, &mapped, &unplaced, &calls);
    ck_assert_uint_eq(mapped, 0);
    ck_assert_int_eq(l4_access(hw.k, ta, L4_ACCESS_READ, last + 9, &y, 1, NULL), PM_EFAULT);
    world_fini(&hw);
    unsetenv("PMSIM_HOST_MAP_LIMIT");
}
END_TEST

/* Tags reported by l4_mappings_of, by task. */
struct tags_seen {
    l4_task_t task[8];
    uint64_t tag[8];
    unsigned depth[8];
    size_t n;
};

static void collect_tags(void *ctx, const struct l4_mapping_info *m)
{
    struct tags_seen *t = ctx;
    if (t->n < 8) {
        t->task[t->n] = m->task;
        t->tag[t->n] = m->tag;
        t->depth[t->n] = m->depth;
    }
    t->n++;
}

START_TEST(test_tagged)
{
    l4_task_t a, b, c;
    l4_thread_t ta = world_task(&w, &a), tb = world_task(&w, &b), tc = world_task(&w, &c);
    /* Frames 8..11 as one 16 KiB item to A with tag 100 (pages get 100..103),
     * frame 9 to B with tag 200; A passes its second page on to C. */
    l4_msg_t m;
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(8ull * PG, 14, L4_RW), VA_A));
    uint64_t tag = 100;
    ck_assert_int_eq(l4_send_tagged(w.k, root(), ta, &m, &tag, NULL), PM_OK);
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(9ull * PG, 12, L4_RW), VA_B));
    tag = 200;
    ck_assert_int_eq(l4_send_tagged(w.k, root(), tb, &m, &tag, NULL), PM_OK);
    ck_assert_int_eq(map1(ta, tc, VA_A + PG, L4_R, VA_C), PM_OK);
    struct tags_seen seen = {.n = 0};
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(9), collect_tags, &seen), 3);
    for (size_t i = 0; i < seen.n; i++) {
        if (seen.task[i] == a)
            ck_assert_uint_eq(seen.tag[i], 101);
        else if (seen.task[i] == b)
            ck_assert_uint_eq(seen.tag[i], 200);
        else
            ck_assert_uint_eq(seen.tag[i], 0); /* C's, derived by an untagged send */
    }
    /* Revoke what was made with tag 101 on frame 9: A's page and C's go,
     * B's stays; a wrong tag does nothing. */
    uint64_t changed = 0;
    ck_assert_int_eq(l4_unmap_tagged(w.k, root(), l4_fpage(9ull * PG, 12, L4_RWX), 999, &changed),
                     PM_OK);
    ck_assert_uint_eq(changed, 0);
    ck_assert_int_eq(l4_unmap_tagged(w.k, root(), l4_fpage(9ull * PG, 12, L4_RWX), 101, &changed),
                     PM_OK);
    ck_assert_uint_eq(changed, 2);
    ck_assert_uint_eq(rights_at(a, VA_A + PG), 0);
    ck_assert_uint_eq(rights_at(c, VA_C), 0);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_RW);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW); /* frame 8, another tag */
    /* A range: tags 100 + i over frames 8..11 revokes A's remaining pages
     * (only W: they stay readable). */
    ck_assert_int_eq(l4_unmap_tagged(w.k, root(), l4_fpage(8ull * PG, 14, L4_W), 100, &changed),
                     PM_OK);
    ck_assert_uint_eq(changed, 3);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_R);
    ck_assert_uint_eq(rights_at(a, VA_A + 3 * PG), L4_R);
    ck_assert_uint_eq(rights_at(b, VA_B), L4_RW);
    /* A grant keeps the tag: B hands its page to C, and tag 200 still finds it. */
    ck_assert_int_eq(world_item(&w, L4_ITEM_GRANT, tb, tc, VA_B, w.shift, L4_RW, VA_D), PM_OK);
    ck_assert_uint_eq(rights_at(b, VA_B), 0);
    ck_assert_uint_eq(rights_at(c, VA_D), L4_RW);
    ck_assert_int_eq(l4_unmap_tagged(w.k, root(), l4_fpage(9ull * PG, 12, L4_RWX), 200, &changed),
                     PM_OK);
    ck_assert_uint_eq(changed, 1);
    ck_assert_uint_eq(rights_at(c, VA_D), 0);
    /* Remapping from the same source takes the new tag. */
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(8ull * PG, 12, L4_RW), VA_A));
    tag = 7;
    ck_assert_int_eq(l4_send_tagged(w.k, root(), ta, &m, &tag, NULL), PM_OK);
    seen.n = 0;
    ck_assert_uint_eq(l4_mappings_of(w.k, PM_PFN(8), collect_tags, &seen), 1);
    ck_assert_uint_eq(seen.tag[0], 7);
    ck_assert_uint_eq(rights_at(a, VA_A), L4_RW);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("mdb");
    struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"map_rights_intersect", test_map_rights_intersect},
        {"map_chain", test_map_chain},
        {"map_replaces", test_map_replaces},
        {"map_extends", test_map_extends},
        {"map_unmapped_source", test_map_unmapped_source},
        {"map_large_fpage", test_map_large_fpage},
        {"unmap_root_recursive", test_unmap_root_recursive},
        {"unmap_middle", test_unmap_middle},
        {"flush_middle", test_flush_middle},
        {"flush_root_keeps_roots", test_flush_root_keeps_roots},
        {"unmap_write_only", test_unmap_write_only},
        {"unmap_partial_tree", test_unmap_partial_tree},
        {"unmap_beyond_address_space", test_unmap_beyond_address_space},
        {"grant_moves", test_grant_moves},
        {"grant_reduces_children", test_grant_reduces_children},
        {"grant_within_and_onto_child", test_grant_within_and_onto_child},
        {"grant_from_root_einval", test_grant_from_root_einval},
        {"item_limit", test_item_limit},
        {"item_limit_config", test_item_limit_config},
        {"call_reply_items", test_call_reply_items},
        {"task_delete", test_task_delete},
        {"task_delete_self_derived", test_task_delete_self_derived},
        {"map_onto_ancestor", test_map_onto_ancestor},
        {"counters", test_counters},
        {"events", test_events},
        {"long_chain_tasks", test_long_chain_tasks},
        {"long_chain_one_task", test_long_chain_one_task},
        {"sparse_huge_fpages", test_sparse_huge_fpages},
        {"tagged", test_tagged},
        {"host_mmu_runs", test_host_mmu_runs},
        {"host_mmu_limit", test_host_mmu_limit},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        /* The tests that need real host mappings are tagged: under valgrind
         * the host-MMU back end cannot reserve its 64 GiB range per task (every
         * page goes through physical memory), so the memcheck run of .ci/run
         * leaves them out with CK_EXCLUDE_TAGS=host-mmu. */
        if (strncmp(cases[i].name, "host_mmu", 8) == 0)
            tcase_set_tags(tc, "host-mmu");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("malformed_atomic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_malformed_atomic, 0,
                        (int)(sizeof bad_items / sizeof bad_items[0]));
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
