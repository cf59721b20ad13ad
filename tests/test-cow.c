/* test-cow.c — mapping containers, lazy binding, logical copies and
 * copy-on-write, real sharing and share groups, the create shortcuts,
 * release_data and minimal unmapping (SPEC §2, §3.4, §3.6, §3.7, §3.9).
 *
 * pm_container_map binds frames lazily (zero-filled), sends the largest
 * fpages alignment allows (one item for 16 aligned frames, page-sized items
 * when the destination is misaligned with the physical frames), stops at the
 * kernel's item limit and reports how far it got so that a pager's loop
 * finishes the job, refuses malformed arguments and missing frames without
 * mapping or binding anything, maps through weak capabilities too, and gives
 * READ read-only and WRITE writable mappings.  A logical copy downgrades the
 * source's writable mappings; a copy-on-write frame maps read-only unless
 * WRITE|FORCE_WRITE breaks the copy first (a new physical frame with the old
 * bytes, counted), from either side, moving only the writer's share group:
 * the other group's mappings stay.  Frames copied with CONT_COPY_SHARED see
 * each other's writes (two members in one mapped range are bound to one
 * physical frame, once); a share group of three in three tasks breaks as one,
 * whichever member writes.  A copy into a group member or release_data on it
 * takes only that frame out; a released frame reads zero and its reuse
 * copies nothing.  create_with/from/gather build and share a container all
 * or nothing.  Destroying a container leaves its logical copies' bytes and
 * mappings alone; revoking a share unmaps only what the remote mapped
 * through it.  Every step is followed by the invariant checker, and the
 * bytes themselves are checked through simulated accesses (tasks have no
 * pager: an access no mapping allows is EFAULT). */
#include "harness.h"

#define PG 4096u
#define FRAMES 256u

/* Where task I maps things: distinct, and aligned far beyond any fpage used. */
#define VA(i) (0x10000000ull * ((uint64_t)(i) + 1))
#define VA_D 0x50000000ull

#define RO (L4_R | L4_X)
#define RWX L4_RWX
#define WF (CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE)

static struct pmworld p;
static unsigned char buf[32 * PG];

static void setup(void)
{
    pmworld_init(&p, FRAMES, 0, 3);
}
static void teardown(void)
{
    pmworld_fini(&p);
}

/* ---- helpers ----------------------------------------------------------- */

static struct pm_stats pst(void)
{
    struct pm_stats s;
    pm_stats(p.pm, &s);
    return s;
}

static struct l4_stats kst(void)
{
    struct l4_stats s;
    l4_stats(p.w.k, &s);
    return s;
}

static struct pm_task_info tinfo(unsigned i)
{
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[i], &ti), PM_OK);
    return ti;
}

static uint64_t mapped_pages(unsigned i)
{
    struct l4_task_stats ts;
    ck_assert_int_eq(l4_task_stats(p.w.k, p.task[i], &ts), PM_OK);
    return ts.mapped_pages;
}

/* Frame F of C as task I sees it through its capability C. */
static struct pm_frame_info finfo(unsigned i, container_t c, frame_t f)
{
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(p.pm, p.task[i], c, f, &fi), PM_OK);
    return fi;
}

/* A new container of task I with frames 0 … N − 1 (none when N is 0). */
static container_t mk(unsigned i, uint32_t n)
{
    container_t c = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[i], &c), PM_OK);
    if (n > 0) {
        uint32_t cnt = n;
        ck_assert_int_eq(pm_container_allocate(p.pm, p.task[i], c, 0, &cnt, 0), PM_OK);
        ck_assert_uint_eq(cnt, n);
    }
    PM_CHECK_INVARIANTS(&p);
    return c;
}

/* Task OWNER shares C with task REMOTE; returns REMOTE's weak handle. */
static container_t share(unsigned owner, container_t c, unsigned remote)
{
    container_t w = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_share(p.pm, p.task[owner], c, p.task[remote], &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    return w;
}

/* Task I maps N frames of C from START at VA; all of them must be mapped. */
static void map_ok(unsigned i, container_t c, frame_t start, uint32_t n, unsigned flags,
                   uint64_t va)
{
    uint32_t cnt = n;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[i], c, start, &cnt, flags, va), PM_OK);
    ck_assert_uint_eq(cnt, n);
    PM_CHECK_INVARIANTS(&p);
}

/* Task I copies N frames from SRC (START) to DEST (DSTART) with FLAGS. */
static void copy_ok(unsigned i, container_t src, frame_t start, container_t dest, frame_t dstart,
                    uint32_t n, unsigned flags)
{
    frame_t fe = 12345;
    ck_assert_int_eq(pm_container_copy(p.pm, p.task[i], src, start, dest, dstart, n, flags, &fe),
                     PM_OK);
    ck_assert_uint_eq(fe, 12345);
    PM_CHECK_INVARIANTS(&p);
}

/* Task I writes LEN bytes of BYTE at VA; it must succeed. */
static void put(unsigned i, uint64_t va, size_t len, unsigned char byte)
{
    ck_assert_uint_le(len, sizeof buf);
    memset(buf, byte, len);
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, va, buf, len), PM_OK);
    PM_CHECK_INVARIANTS(&p);
}

/* Task I reads LEN bytes at VA; they must all be BYTE. */
static void expect(unsigned i, uint64_t va, size_t len, unsigned char byte)
{
    ck_assert_uint_le(len, sizeof buf);
    memset(buf, byte ^ 0xFF, len);
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, va, buf, len), PM_OK);
    ck_assert_msg(bytes_all(buf, len, byte), "task %u at 0x%llx: want 0x%02x, first byte 0x%02x", i,
                  (unsigned long long)va, byte, buf[0]);
    PM_CHECK_INVARIANTS(&p);
}

/* Page K of N pages from VA gets BASE + K (task I). */
static void put_pages(unsigned i, uint64_t va, uint32_t n, unsigned char base)
{
    for (uint32_t k = 0; k < n; k++)
        put(i, va + (uint64_t)k * PG, PG, (unsigned char)(base + k));
}

static void expect_pages(unsigned i, uint64_t va, uint32_t n, unsigned char base)
{
    for (uint32_t k = 0; k < n; k++)
        expect(i, va + (uint64_t)k * PG, PG, (unsigned char)(base + k));
}

/* Task I's access of one page at VA; the result (the invariants must hold). */
static pm_error_t try_rw(unsigned i, enum l4_access_kind kind, uint64_t va)
{
    memset(buf, 0x5A, PG);
    pm_error_t err = pm_rw(&p, i, kind, va, buf, PG);
    PM_CHECK_INVARIANTS(&p);
    return err;
}

/* Rights of task I's mapping at VA; 0 when nothing is mapped there. */
static unsigned rights_at(unsigned i, uint64_t va)
{
    unsigned r = 99;
    pm_error_t err = l4_lookup(p.w.k, p.task[i], va, NULL, &r);
    ck_assert_msg(err == PM_OK || err == PM_ENOENT, "lookup: %s", pm_strerror(err));
    return err == PM_OK ? r : 0;
}

/* The physical frame task I has at VA (asserted mapped). */
static uint32_t pfn_at(unsigned i, uint64_t va)
{
    pm_pfn_t pfn = PM_PFN_NONE;
    ck_assert_int_eq(l4_lookup(p.w.k, p.task[i], va, &pfn, NULL), PM_OK);
    return pfn.n;
}

/* Take one physical frame (bound by task 2's map) so that the pool's next
 * free frame is not on a large boundary: aligned runs must then be asked
 * for, not had by luck. */
static void fragment_pool(void)
{
    container_t c = mk(2, 1);
    map_ok(2, c, 0, 1, CONT_MAP_READ, VA(2));
}

/* ---- mapping and lazy binding ------------------------------------------ */

START_TEST(test_map_lazy_binding)
{
    container_t c = mk(0, 4);
    for (frame_t f = 0; f < 4; f++) {
        struct pm_frame_info fi = finfo(0, c, f);
        ck_assert(!fi.bound);
        ck_assert_uint_eq(fi.pfn.n, PM_PFN_NONE.n);
        ck_assert(!fi.cow);
        ck_assert_uint_eq(fi.group_size, 1);
    }
    ck_assert_uint_eq(pst().frames_bound, 0);
    /* Dirty some pool frames so that zero-filling is visible: a private
     * container mapped, written and deallocated. */
    container_t junk = mk(1, 8);
    map_ok(1, junk, 0, 8, CONT_MAP_WRITE, VA(1));
    put(1, VA(1), 8 * PG, 0xEE);
    uint32_t cnt = 8;
    ck_assert_int_eq(pm_container_deallocate(p.pm, p.task[1], junk, 0, &cnt, 0), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    struct pm_stats s0 = pst();

    map_ok(0, c, 0, 2, CONT_MAP_WRITE, VA(0));
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 2);
    ck_assert_uint_eq(pst().frames_mapped - s0.frames_mapped, 2);
    ck_assert_uint_eq(pst().map_calls - s0.map_calls, 1);
    for (frame_t f = 0; f < 2; f++) {
        struct pm_frame_info fi = finfo(0, c, f);
        ck_assert(fi.bound);
        ck_assert_uint_ne(fi.pfn.n, PM_PFN_NONE.n);
        ck_assert_uint_eq(fi.pfn.n, pfn_at(0, VA(0) + f * PG));
    }
    /* The frames not mapped stay unbound. */
    ck_assert(!finfo(0, c, 2).bound);
    ck_assert(!finfo(0, c, 3).bound);
    expect(0, VA(0), 2 * PG, 0x00);
    /* Mapping a bound frame again binds nothing new and keeps its frame. */
    uint32_t pfn0 = finfo(0, c, 0).pfn.n;
    map_ok(0, c, 0, 1, CONT_MAP_READ, VA(0) + 8 * PG);
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 2);
    ck_assert_uint_eq(finfo(0, c, 0).pfn.n, pfn0);
    ck_assert_uint_eq(pfn_at(0, VA(0) + 8 * PG), pfn0);
}
END_TEST

/* The second binding point: an unbound frame that is the source of a
 * logical copy; a real share binds nothing. */
START_TEST(test_copy_binds_unbound_source)
{
    container_t a = mk(0, 2), b = mk(0, 2);
    struct pm_stats s0 = pst();
    copy_ok(0, a, 0, b, 0, 1, 0);
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 1);
    struct pm_frame_info fa = finfo(0, a, 0), fb = finfo(0, b, 0);
    ck_assert(fa.bound);
    ck_assert(fb.bound);
    ck_assert_uint_eq(fa.pfn.n, fb.pfn.n);
    ck_assert(fa.cow);
    ck_assert(fb.cow);
    ck_assert_uint_eq(pst().logical_copies - s0.logical_copies, 1);
    copy_ok(0, a, 1, b, 1, 1, CONT_COPY_SHARED);
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 1);
    ck_assert(!finfo(0, a, 1).bound);
    ck_assert(!finfo(0, b, 1).bound);
    ck_assert_uint_eq(finfo(0, a, 1).group_size, 2);
    /* Both read zero. */
    map_ok(0, b, 0, 2, CONT_MAP_READ, VA(0));
    expect(0, VA(0), 2 * PG, 0x00);
    /* Mapping the share bound the group: both members name that frame. */
    ck_assert_uint_eq(finfo(0, a, 1).pfn.n, pfn_at(0, VA(0) + PG));
}
END_TEST

/* 16 frames at an address aligned on 16 pages: one map item of 64 KiB. */
START_TEST(test_map_aligned_one_item)
{
    fragment_pool();
    container_t c = mk(0, 16);
    struct l4_stats k0 = kst();
    map_ok(0, c, 0, 16, CONT_MAP_WRITE, VA(0));
    struct l4_stats k1 = kst();
    ck_assert_uint_eq(k1.map_items - k0.map_items, 1);
    ck_assert_uint_eq(k1.pages_mapped - k0.pages_mapped, 16);
    ck_assert_uint_eq(mapped_pages(0), 16);
    uint32_t base = finfo(0, c, 0).pfn.n;
    ck_assert_uint_eq(base % 16, 0);
    for (frame_t f = 0; f < 16; f++) {
        ck_assert_uint_eq(finfo(0, c, f).pfn.n, base + f);
        ck_assert_uint_eq(pfn_at(0, VA(0) + f * PG), base + f);
        ck_assert_uint_eq(rights_at(0, VA(0) + f * PG), RWX);
    }
    put_pages(0, VA(0), 16, 0x40);
    expect_pages(0, VA(0), 16, 0x40);
}
END_TEST

/* 16 frames at an address aligned on 8 pages only: two items of 8 pages. */
START_TEST(test_map_half_aligned_two_items)
{
    fragment_pool();
    container_t c = mk(0, 16);
    struct l4_stats k0 = kst();
    map_ok(0, c, 0, 16, CONT_MAP_READ, VA(0) + 8 * PG);
    ck_assert_uint_eq(kst().map_items - k0.map_items, 2);
    ck_assert_uint_eq(kst().pages_mapped - k0.pages_mapped, 16);
    ck_assert_uint_eq(finfo(0, c, 0).pfn.n % 8, 0);
    ck_assert_uint_eq(finfo(0, c, 8).pfn.n % 8, 0);
    for (frame_t f = 0; f < 16; f++)
        ck_assert_uint_eq(rights_at(0, VA(0) + (8 + f) * PG), RO);
    expect(0, VA(0) + 8 * PG, 16 * PG, 0x00);
}
END_TEST

/* Frames bound on a 16-page boundary, mapped one page off it: no two pages
 * are aligned alike at both ends, so 16 page-sized items. */
START_TEST(test_map_misaligned_page_items)
{
    fragment_pool();
    container_t c = mk(0, 16);
    map_ok(0, c, 0, 16, CONT_MAP_WRITE, VA(0));
    uint32_t base = finfo(0, c, 0).pfn.n;
    ck_assert_uint_eq(base % 16, 0);
    put_pages(0, VA(0), 16, 0x60);
    struct l4_stats k0 = kst();
    map_ok(0, c, 0, 16, CONT_MAP_READ, VA(1) + PG);
    ck_assert_uint_eq(kst().map_items - k0.map_items, 16);
    ck_assert_uint_eq(kst().pages_mapped - k0.pages_mapped, 16);
    for (frame_t f = 0; f < 16; f++)
        ck_assert_uint_eq(pfn_at(0, VA(1) + (1 + f) * PG), base + f);
    expect_pages(0, VA(1) + PG, 16, 0x60);
    /* The aligned mapping is still there and still writable. */
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
}
END_TEST

/* Fresh frames one page off a 16-page boundary are bound to match the
 * destination: items of 1, 2, 4, 8 and 1 pages, not 16 of one. */
START_TEST(test_map_misaligned_fresh)
{
    fragment_pool();
    container_t c = mk(0, 16);
    struct l4_stats k0 = kst();
    map_ok(0, c, 0, 16, CONT_MAP_WRITE, VA(0) + PG);
    ck_assert_uint_eq(kst().map_items - k0.map_items, 5);
    ck_assert_uint_eq(kst().pages_mapped - k0.pages_mapped, 16);
    ck_assert_uint_eq(finfo(0, c, 1).pfn.n % 2, 0);
    ck_assert_uint_eq(finfo(0, c, 3).pfn.n % 4, 0);
    ck_assert_uint_eq(finfo(0, c, 7).pfn.n % 8, 0);
    put_pages(0, VA(0) + PG, 16, 0x50);
    expect_pages(0, VA(0) + PG, 16, 0x50);
}
END_TEST

/* The message limit: a map needing 16 items with room for 4 maps 4 frames,
 * returns 0 and says so; nothing past them is mapped. */
START_TEST(test_map_item_limit_short)
{
    fragment_pool();
    container_t c = mk(0, 16);
    map_ok(0, c, 0, 16, CONT_MAP_WRITE, VA(0)); /* bind on a 16-page boundary */
    ck_assert_int_eq(l4_set_map_item_limit(p.w.k, 4), PM_OK);
    struct l4_stats k0 = kst();
    struct pm_stats s0 = pst();
    uint32_t cnt = 16;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[0], c, 0, &cnt, CONT_MAP_WRITE, VA(1) + PG),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(cnt, 4);
    ck_assert_uint_eq(kst().map_items - k0.map_items, 4);
    ck_assert_uint_eq(pst().short_maps - s0.short_maps, 1);
    ck_assert_uint_eq(pst().frames_mapped - s0.frames_mapped, 4);
    ck_assert_uint_eq(pst().map_calls - s0.map_calls, 1);
    for (frame_t f = 0; f < 4; f++)
        ck_assert_uint_eq(rights_at(0, VA(1) + (1 + f) * PG), RWX);
    ck_assert_uint_eq(rights_at(0, VA(1) + 5 * PG), 0);
    ck_assert_int_eq(try_rw(0, L4_ACCESS_READ, VA(1) + 5 * PG), PM_EFAULT);
    ck_assert_uint_eq(mapped_pages(0), 16 + 4);
}
END_TEST

/* Fresh frames one page off alignment need items of 1, 2, 4, 8 and 1
 * pages: with room for 4 items, 15 frames are mapped. */
START_TEST(test_map_item_limit_fresh)
{
    container_t c = mk(0, 16);
    ck_assert_int_eq(l4_set_map_item_limit(p.w.k, 4), PM_OK);
    struct l4_stats k0 = kst();
    uint32_t cnt = 16;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[0], c, 0, &cnt, CONT_MAP_READ, VA(0) + PG),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(cnt, 15);
    ck_assert_uint_eq(kst().map_items - k0.map_items, 4);
    ck_assert_uint_eq(kst().pages_mapped - k0.pages_mapped, 15);
    ck_assert_uint_eq(rights_at(0, VA(0) + 15 * PG), RO);
    ck_assert_uint_eq(rights_at(0, VA(0) + 16 * PG), 0);
    /* The rest goes in one more call. */
    map_ok(0, c, 15, 1, CONT_MAP_READ, VA(0) + 16 * PG);
    expect(0, VA(0) + PG, 16 * PG, 0x00);
}
END_TEST

/* The pager's loop: continue from where the short map stopped. */
START_TEST(test_map_item_limit_loop)
{
    fragment_pool();
    container_t c = mk(0, 16);
    map_ok(0, c, 0, 16, CONT_MAP_WRITE, VA(0));
    ck_assert_int_eq(l4_set_map_item_limit(p.w.k, 4), PM_OK);
    struct pm_stats s0 = pst();
    frame_t next = 0;
    unsigned calls = 0;
    while (next < 16) {
        uint32_t cnt = 16 - next;
        ck_assert_int_eq(pm_container_map(p.pm, p.task[0], c, next, &cnt, CONT_MAP_WRITE,
                                          VA(1) + PG + (uint64_t)next * PG),
                         PM_OK);
        PM_CHECK_INVARIANTS(&p);
        ck_assert_uint_eq(cnt, 4);
        next += cnt;
        ck_assert_uint_le(++calls, 4);
    }
    ck_assert_uint_eq(calls, 4);
    ck_assert_uint_eq(pst().short_maps - s0.short_maps, 3);
    ck_assert_uint_eq(pst().frames_mapped - s0.frames_mapped, 16);
    /* Written through the misaligned mapping, read through the aligned one. */
    put_pages(0, VA(1) + PG, 16, 0x70);
    expect_pages(0, VA(0), 16, 0x70);
}
END_TEST

START_TEST(test_map_enoent_maps_nothing)
{
    container_t c = mk(0, 4);
    uint32_t cnt = 1;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[0], c, 5, &cnt, 0), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    struct pm_stats s0 = pst();
    struct l4_stats k0 = kst();
    cnt = 6; /* 0 … 5: frame 4 is missing */
    ck_assert_int_eq(pm_container_map(p.pm, p.task[0], c, 0, &cnt, CONT_MAP_WRITE, VA(0)),
                     PM_ENOENT);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(cnt, 6);
    ck_assert_uint_eq(mapped_pages(0), 0);
    ck_assert_uint_eq(kst().map_items, k0.map_items);
    ck_assert_uint_eq(pst().frames_bound, s0.frames_bound);
    ck_assert_uint_eq(pst().map_calls, s0.map_calls);
    ck_assert_uint_eq(pst().frames_mapped, s0.frames_mapped);
    for (frame_t f = 0; f < 4; f++)
        ck_assert(!finfo(0, c, f).bound);
    ck_assert(!finfo(0, c, 5).bound);
    ck_assert_int_eq(try_rw(0, L4_ACCESS_READ, VA(0)), PM_EFAULT);
    /* The frames that exist map fine. */
    map_ok(0, c, 0, 4, CONT_MAP_WRITE, VA(0));
    ck_assert_uint_eq(mapped_pages(0), 4);
}
END_TEST

static const struct {
    frame_t start;
    uint32_t count;
    unsigned flags;
    uint64_t va;
} bad_maps[] = {
    {0, 1, CONT_MAP_READ, VA(0) + 1},              /* unaligned */
    {0, 1, CONT_MAP_WRITE, VA(0) + PG / 2},        /* unaligned */
    {0, 0, CONT_MAP_READ, VA(0)},                  /* count 0 */
    {0, 1, 0, VA(0)},                              /* no READ or WRITE */
    {0, 1, CONT_MAP_FORCE_WRITE, VA(0)},           /* FORCE_WRITE alone */
    {0, 1, CONT_MAP_READ | (1u << 3), VA(0)},      /* unknown flag */
    {0, 1, CONT_MAP_READ | 0x80000000u, VA(0)},    /* unknown flag */
    {0, 1, CONT_MAP_READ, L4_VADDR_LIMIT},         /* at 2^48 */
    {0, 2, CONT_MAP_READ, L4_VADDR_LIMIT - PG},    /* across 2^48 */
    {0, 1, CONT_MAP_READ, UINT64_MAX & ~0xFFFull}, /* far beyond */
    {UINT32_MAX, 2, CONT_MAP_READ, VA(0)},         /* identifiers past 2^32 */
};

START_TEST(test_map_einval)
{
    container_t c = mk(0, 4);
    struct pm_stats s0 = pst();
    struct l4_stats k0 = kst();
    uint32_t cnt = bad_maps[_i].count;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[0], c, bad_maps[_i].start, &cnt,
                                      bad_maps[_i].flags, bad_maps[_i].va),
                     PM_EINVAL);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(cnt, bad_maps[_i].count);
    ck_assert_uint_eq(mapped_pages(0), 0);
    ck_assert_uint_eq(kst().map_items, k0.map_items);
    ck_assert_uint_eq(pst().frames_bound, s0.frames_bound);
    ck_assert_uint_eq(pst().map_calls, s0.map_calls);
    for (frame_t f = 0; f < 4; f++)
        ck_assert(!finfo(0, c, f).bound);
}
END_TEST

/* The last page of the address space is fine. */
START_TEST(test_map_last_page)
{
    container_t c = mk(0, 1);
    map_ok(0, c, 0, 1, CONT_MAP_WRITE, L4_VADDR_LIMIT - PG);
    ck_assert_uint_eq(rights_at(0, L4_VADDR_LIMIT - PG), RWX);
    put(0, L4_VADDR_LIMIT - PG, PG, 0x3C);
    expect(0, L4_VADDR_LIMIT - PG, PG, 0x3C);
}
END_TEST

/* READ gives r and x (a write faults); WRITE gives r, w and x. */
START_TEST(test_map_rights)
{
    container_t c = mk(0, 2);
    map_ok(0, c, 0, 1, CONT_MAP_READ, VA(0));
    ck_assert_uint_eq(rights_at(0, VA(0)), RO);
    ck_assert_int_eq(try_rw(0, L4_ACCESS_WRITE, VA(0)), PM_EFAULT);
    expect(0, VA(0), PG, 0x00);
    map_ok(0, c, 1, 1, CONT_MAP_WRITE, VA(0) + PG);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), RWX);
    put(0, VA(0) + PG, PG, 0x21);
    expect(0, VA(0) + PG, PG, 0x21);
    /* READ|WRITE is WRITE. */
    map_ok(0, c, 0, 1, CONT_MAP_READ | CONT_MAP_WRITE, VA(0) + 2 * PG);
    ck_assert_uint_eq(rights_at(0, VA(0) + 2 * PG), RWX);
    put(0, VA(0) + 2 * PG, PG, 0x22);
    /* The read-only mapping of the same frame sees it; it stays read-only. */
    expect(0, VA(0), PG, 0x22);
    ck_assert_uint_eq(rights_at(0, VA(0)), RO);
    ck_assert_int_eq(try_rw(0, L4_ACCESS_WRITE, VA(0)), PM_EFAULT);
}
END_TEST

/* A weak capability maps (and writes); the owner sees the bytes. */
START_TEST(test_map_weak)
{
    container_t c = mk(0, 2);
    container_t w = share(0, c, 1);
    map_ok(1, w, 0, 2, CONT_MAP_WRITE, VA(1));
    ck_assert_uint_eq(rights_at(1, VA(1)), RWX);
    ck_assert(finfo(0, c, 0).bound);
    put_pages(1, VA(1), 2, 0x90);
    map_ok(0, c, 0, 2, CONT_MAP_READ, VA(0));
    expect_pages(0, VA(0), 2, 0x90);
    ck_assert_uint_eq(pfn_at(0, VA(0)), pfn_at(1, VA(1)));
    ck_assert_uint_eq(tinfo(1).allocated, 0);
}
END_TEST

/* ---- logical copies and copy-on-write --------------------------------- */

/* A (task 0, mapped writable at VA(0), bytes 0xA0 + k) logically copied to
 * B (task 1's, mapped read-only at VA(1)); the source's writable mappings
 * become read-only and keep reading the same bytes. */
START_TEST(test_cow_downgrades_source)
{
    container_t a = mk(0, 4), b = mk(1, 4);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 4, 0xA0);
    struct pm_stats s0 = pst();
    struct l4_stats k0 = kst();
    copy_ok(1, wa, 0, b, 0, 3, 0); /* frames 0 … 2 only */
    ck_assert_uint_eq(pst().logical_copies - s0.logical_copies, 3);
    ck_assert_uint_eq(pst().bytes_copied, s0.bytes_copied);
    ck_assert_uint_eq(kst().pages_downgraded - k0.pages_downgraded, 3);
    for (frame_t f = 0; f < 3; f++) {
        ck_assert_uint_eq(rights_at(0, VA(0) + f * PG), RO);
        ck_assert_int_eq(try_rw(0, L4_ACCESS_WRITE, VA(0) + f * PG), PM_EFAULT);
        struct pm_frame_info fa = finfo(0, a, f), fb = finfo(1, b, f);
        ck_assert(fa.cow);
        ck_assert(fb.cow);
        ck_assert_uint_eq(fa.pfn.n, fb.pfn.n);
        ck_assert_uint_eq(fa.pfn.n, pfn_at(0, VA(0) + f * PG));
        ck_assert_uint_eq(fa.group_size, 1);
        ck_assert_uint_eq(fb.group_size, 1);
    }
    expect_pages(0, VA(0), 4, 0xA0);
    /* Frame 3 was not copied: still writable (minimal unmapping). */
    ck_assert_uint_eq(rights_at(0, VA(0) + 3 * PG), RWX);
    ck_assert(!finfo(0, a, 3).cow);
    put(0, VA(0) + 3 * PG, PG, 0xA9);
    /* The copy reads the bytes (frame 3 of B is its own zero frame). */
    map_ok(1, b, 0, 4, CONT_MAP_READ, VA(1));
    expect_pages(1, VA(1), 3, 0xA0);
    expect(1, VA(1) + 3 * PG, PG, 0x00);
}
END_TEST

/* Mapping a copy-on-write frame with WRITE alone, or READ|FORCE_WRITE,
 * gives a read-only mapping and breaks nothing. */
START_TEST(test_cow_write_alone_readonly)
{
    container_t a = mk(0, 1), b = mk(0, 1);
    map_ok(0, a, 0, 1, CONT_MAP_WRITE, VA(0));
    put(0, VA(0), PG, 0x11);
    copy_ok(0, a, 0, b, 0, 1, 0);
    uint32_t pfn = finfo(0, a, 0).pfn.n;
    struct pm_stats s0 = pst();
    map_ok(0, b, 0, 1, CONT_MAP_WRITE, VA(1));
    map_ok(0, a, 0, 1, CONT_MAP_WRITE, VA(0) + PG);
    map_ok(0, b, 0, 1, CONT_MAP_READ | CONT_MAP_FORCE_WRITE, VA(1) + PG);
    ck_assert_uint_eq(pst().cow_breaks, s0.cow_breaks);
    ck_assert_uint_eq(pst().bytes_copied, s0.bytes_copied);
    ck_assert_uint_eq(pst().frames_bound, s0.frames_bound);
    const uint64_t vas[] = {VA(0), VA(0) + PG, VA(1), VA(1) + PG};
    for (size_t x = 0; x < 4; x++) {
        ck_assert_uint_eq(rights_at(0, vas[x]), RO);
        ck_assert_uint_eq(pfn_at(0, vas[x]), pfn);
        ck_assert_int_eq(try_rw(0, L4_ACCESS_WRITE, vas[x]), PM_EFAULT);
        expect(0, vas[x], PG, 0x11);
    }
    ck_assert(finfo(0, a, 0).cow);
    ck_assert(finfo(0, b, 0).cow);
}
END_TEST

/* WRITE|FORCE_WRITE breaks the copy from the source side (_i == 0) or from
 * the copy side (_i == 1): a new frame with the old bytes, writable; the
 * other side keeps the old frame, its bytes and its mapping. */
START_TEST(test_cow_break_each_side)
{
    container_t a = mk(0, 1), b = mk(1, 1);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 1, CONT_MAP_WRITE, VA(0));
    put(0, VA(0), PG, 0x5E);
    copy_ok(1, wa, 0, b, 0, 1, 0);
    map_ok(1, b, 0, 1, CONT_MAP_READ, VA(1));
    uint32_t old = finfo(0, a, 0).pfn.n;
    ck_assert_uint_eq(finfo(1, b, 0).pfn.n, old);

    unsigned wi = (unsigned)_i, oi = 1 - wi;
    container_t wc = wi == 0 ? a : b, oc = wi == 0 ? b : a;
    uint64_t wva = VA(wi), ova = VA(oi);
    struct pm_stats s0 = pst();
    map_ok(wi, wc, 0, 1, WF, wva);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    ck_assert_uint_eq(pst().bytes_copied - s0.bytes_copied, PG);
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 1);
    struct pm_frame_info fw = finfo(wi, wc, 0), fo = finfo(oi, oc, 0);
    ck_assert(fw.bound);
    ck_assert_uint_ne(fw.pfn.n, old);
    ck_assert(!fw.cow);
    ck_assert_uint_eq(fw.group_size, 1);
    ck_assert_uint_eq(fo.pfn.n, old);
    ck_assert(!fo.cow);
    ck_assert_uint_eq(rights_at(wi, wva), RWX);
    ck_assert_uint_eq(pfn_at(wi, wva), fw.pfn.n);
    /* The copy carries the old bytes until written. */
    expect(wi, wva, PG, 0x5E);
    put(wi, wva, PG, 0x77);
    expect(wi, wva, PG, 0x77);
    /* The other side: old frame, old bytes, mapping untouched (read-only as
     * it was: the source's was downgraded, the copy's was made so). */
    ck_assert_uint_eq(pfn_at(oi, ova), old);
    ck_assert_uint_eq(rights_at(oi, ova), RO);
    expect(oi, ova, PG, 0x5E);
    /* A second FORCE_WRITE of a private frame copies nothing. */
    map_ok(wi, wc, 0, 1, WF, wva);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    ck_assert_uint_eq(finfo(wi, wc, 0).pfn.n, fw.pfn.n);
    expect(wi, wva, PG, 0x77);
    /* The other side, alone on its frame now, maps writable without a copy. */
    map_ok(oi, oc, 0, 1, CONT_MAP_WRITE, ova);
    ck_assert_uint_eq(rights_at(oi, ova), RWX);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    put(oi, ova, PG, 0x88);
    expect(wi, wva, PG, 0x77);
    expect(oi, ova, PG, 0x88);
}
END_TEST

/* A break moves the writer's group: its other mappings of the old frame go,
 * the other group's mappings (several) stay. */
START_TEST(test_cow_break_minimal_unmap)
{
    container_t a = mk(0, 1), b = mk(0, 1);
    map_ok(0, a, 0, 1, CONT_MAP_WRITE, VA(0));
    put(0, VA(0), PG, 0x42);
    map_ok(0, a, 0, 1, CONT_MAP_READ, VA(0) + PG); /* a second mapping of A */
    copy_ok(0, a, 0, b, 0, 1, 0);
    map_ok(0, b, 0, 1, CONT_MAP_READ, VA(1));
    map_ok(0, b, 0, 1, CONT_MAP_WRITE, VA(1) + PG);
    uint32_t old = finfo(0, a, 0).pfn.n;
    struct l4_stats k0 = kst();
    map_ok(0, a, 0, 1, WF, VA(2));
    /* A's mappings of the old frame went; B's two stay. */
    ck_assert_uint_eq(rights_at(0, VA(0)), 0);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), 0);
    ck_assert_uint_eq(kst().pages_unmapped - k0.pages_unmapped, 2);
    ck_assert_uint_eq(pfn_at(0, VA(1)), old);
    ck_assert_uint_eq(pfn_at(0, VA(1) + PG), old);
    ck_assert_uint_eq(rights_at(0, VA(1)), RO);
    ck_assert_uint_eq(rights_at(0, VA(1) + PG), RO);
    ck_assert_uint_eq(l4_mappings_of(p.w.k, PM_PFN(old), NULL, NULL), 2);
    ck_assert_uint_eq(l4_mappings_of(p.w.k, finfo(0, a, 0).pfn, NULL, NULL), 1);
    put(0, VA(2), PG, 0x43);
    expect(0, VA(1), PG, 0x42);
    expect(0, VA(1) + PG, PG, 0x42);
    ck_assert_int_eq(try_rw(0, L4_ACCESS_READ, VA(0)), PM_EFAULT);
}
END_TEST

/* FORCE_WRITE over several copy-on-write frames breaks each one. */
START_TEST(test_cow_break_many)
{
    container_t a = mk(0, 4), b = mk(0, 4);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 4, 0xC0);
    copy_ok(0, a, 0, b, 0, 4, 0);
    uint32_t old[4];
    for (frame_t f = 0; f < 4; f++)
        old[f] = finfo(0, a, f).pfn.n;
    struct pm_stats s0 = pst();
    map_ok(0, b, 0, 4, WF, VA(1));
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 4);
    ck_assert_uint_eq(pst().bytes_copied - s0.bytes_copied, 4 * PG);
    for (frame_t f = 0; f < 4; f++) {
        struct pm_frame_info fb = finfo(0, b, f);
        ck_assert(!fb.cow);
        for (frame_t g = 0; g < 4; g++)
            ck_assert_uint_ne(fb.pfn.n, old[g]);
        for (frame_t g = 0; g < f; g++)
            ck_assert_uint_ne(fb.pfn.n, finfo(0, b, g).pfn.n);
        ck_assert_uint_eq(rights_at(0, VA(1) + f * PG), RWX);
        ck_assert_uint_eq(finfo(0, a, f).pfn.n, old[f]);
        ck_assert(!finfo(0, a, f).cow);
    }
    expect_pages(0, VA(1), 4, 0xC0);
    put_pages(0, VA(1), 4, 0xD0);
    expect_pages(0, VA(0), 4, 0xC0);
    expect_pages(0, VA(1), 4, 0xD0);
}
END_TEST

/* ---- real sharing and share groups ------------------------------------- */

START_TEST(test_share_sees_writes)
{
    container_t a = mk(0, 2), b = mk(1, 2);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0x10);
    struct pm_stats s0 = pst();
    copy_ok(1, wa, 0, b, 0, 2, CONT_COPY_SHARED);
    ck_assert_uint_eq(pst().shared_copies - s0.shared_copies, 2);
    ck_assert_uint_eq(pst().logical_copies, s0.logical_copies);
    /* No copy-on-write: A's mappings stay writable. */
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
    for (frame_t f = 0; f < 2; f++) {
        struct pm_frame_info fa = finfo(0, a, f), fb = finfo(1, b, f);
        ck_assert_uint_eq(fa.pfn.n, fb.pfn.n);
        ck_assert(!fa.cow);
        ck_assert_uint_eq(fa.group_size, 2);
        ck_assert_uint_eq(fb.group_size, 2);
    }
    map_ok(1, b, 0, 2, CONT_MAP_WRITE, VA(1));
    ck_assert_uint_eq(rights_at(1, VA(1)), RWX);
    expect_pages(1, VA(1), 2, 0x10);
    put(1, VA(1), PG, 0x31);
    expect(0, VA(0), PG, 0x31);
    put(0, VA(0) + PG, PG, 0x32);
    expect(1, VA(1) + PG, PG, 0x32);
    /* FORCE_WRITE on a frame no other group shares copies nothing. */
    map_ok(1, b, 0, 2, WF, VA(1));
    ck_assert_uint_eq(pst().cow_breaks, s0.cow_breaks);
    put(1, VA(1), PG, 0x33);
    expect(0, VA(0), PG, 0x33);
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
}
END_TEST

/* Two members of one unbound share group in the same container, mapped in
 * one call (frames 0 and 1 + _i): the group is bound once, to one physical
 * frame, and the two mappings see each other's writes. */
START_TEST(test_share_bind_once)
{
    container_t a = mk(0, 4);
    frame_t twin = 1 + (frame_t)_i;
    copy_ok(0, a, 0, a, twin, 1, CONT_COPY_SHARED);
    ck_assert(!finfo(0, a, 0).bound);
    ck_assert_uint_eq(finfo(0, a, twin).group_size, 2);
    struct pm_stats s0 = pst();
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    ck_assert_uint_eq(pst().frames_bound - s0.frames_bound, 3);
    struct pm_frame_info f0 = finfo(0, a, 0), ft = finfo(0, a, twin);
    ck_assert_uint_eq(f0.pfn.n, ft.pfn.n);
    ck_assert_uint_eq(f0.group_size, 2);
    ck_assert_uint_eq(pfn_at(0, VA(0)), f0.pfn.n);
    ck_assert_uint_eq(pfn_at(0, VA(0) + twin * PG), f0.pfn.n);
    ck_assert_uint_eq(l4_mappings_of(p.w.k, f0.pfn, NULL, NULL), 2);
    for (frame_t f = 1; f < 4; f++)
        if (f != twin)
            ck_assert_uint_ne(finfo(0, a, f).pfn.n, f0.pfn.n);
    put(0, VA(0), PG, 0x1A);
    expect(0, VA(0) + twin * PG, PG, 0x1A);
    put(0, VA(0) + twin * PG, PG, 0x1B);
    expect(0, VA(0), PG, 0x1B);
    /* Everything goes back to the pool with the container. */
    ck_assert_int_eq(pm_container_destroy(p.pm, p.task[0], a), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().frames_freed - s0.frames_freed, 3);
}
END_TEST

/* Frame 0 of three containers, one per task, in one share group holding
 * BYTE, each mapped writable by its task at VA(i).  c[0] is the original;
 * tasks 1 and 2 copied it in with CONT_COPY_SHARED through weak handles. */
struct trio {
    container_t c[3];
};

static void make_trio(struct trio *t, unsigned char byte)
{
    t->c[0] = mk(0, 1);
    map_ok(0, t->c[0], 0, 1, CONT_MAP_WRITE, VA(0));
    put(0, VA(0), PG, byte);
    for (unsigned i = 1; i < 3; i++) {
        container_t w = share(0, t->c[0], i);
        t->c[i] = mk(i, 1);
        copy_ok(i, w, 0, t->c[i], 0, 1, CONT_COPY_SHARED);
        map_ok(i, t->c[i], 0, 1, CONT_MAP_WRITE, VA(i));
        expect(i, VA(i), PG, byte);
    }
    uint32_t pfn = finfo(0, t->c[0], 0).pfn.n;
    for (unsigned i = 0; i < 3; i++) {
        struct pm_frame_info fi = finfo(i, t->c[i], 0);
        ck_assert_uint_eq(fi.pfn.n, pfn);
        ck_assert_uint_eq(fi.group_size, 3);
        ck_assert(!fi.cow);
        ck_assert_uint_eq(rights_at(i, VA(i)), RWX);
    }
}

/* A share group of three plus a logical copy of one member: a write
 * through member _i breaks the copy for the whole group at once. */
START_TEST(test_share_group_three_break)
{
    struct trio t;
    make_trio(&t, 0x61);
    put(1, VA(1), PG, 0x62); /* real sharing: everyone sees it */
    expect(0, VA(0), PG, 0x62);
    expect(2, VA(2), PG, 0x62);
    container_t d = mk(0, 1);
    copy_ok(0, t.c[0], 0, d, 0, 1, 0);
    map_ok(0, d, 0, 1, CONT_MAP_READ, VA_D);
    uint32_t old = finfo(0, d, 0).pfn.n;
    for (unsigned i = 0; i < 3; i++) {
        struct pm_frame_info fi = finfo(i, t.c[i], 0);
        ck_assert_uint_eq(fi.pfn.n, old);
        ck_assert(fi.cow);
        ck_assert_uint_eq(fi.group_size, 3);
        ck_assert_uint_eq(rights_at(i, VA(i)), RO);
        ck_assert_int_eq(try_rw(i, L4_ACCESS_WRITE, VA(i)), PM_EFAULT);
        expect(i, VA(i), PG, 0x62);
    }
    ck_assert(finfo(0, d, 0).cow);
    ck_assert_uint_eq(finfo(0, d, 0).group_size, 1);

    unsigned wi = (unsigned)_i;
    struct pm_stats s0 = pst();
    map_ok(wi, t.c[wi], 0, 1, WF, VA(wi));
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    ck_assert_uint_eq(pst().bytes_copied - s0.bytes_copied, PG);
    uint32_t fresh = finfo(wi, t.c[wi], 0).pfn.n;
    ck_assert_uint_ne(fresh, old);
    for (unsigned i = 0; i < 3; i++) {
        struct pm_frame_info fi = finfo(i, t.c[i], 0);
        ck_assert_uint_eq(fi.pfn.n, fresh);
        ck_assert(!fi.cow);
        ck_assert_uint_eq(fi.group_size, 3);
    }
    struct pm_frame_info fd = finfo(0, d, 0);
    ck_assert_uint_eq(fd.pfn.n, old);
    ck_assert(!fd.cow);
    ck_assert_uint_eq(fd.group_size, 1);
    /* The writer's mapping is writable; the other members' old mappings
     * went with the group; the copy's stays. */
    ck_assert_uint_eq(rights_at(wi, VA(wi)), RWX);
    ck_assert_uint_eq(pfn_at(wi, VA(wi)), fresh);
    for (unsigned i = 0; i < 3; i++)
        if (i != wi)
            ck_assert_uint_eq(rights_at(i, VA(i)), 0);
    ck_assert_uint_eq(pfn_at(0, VA_D), old);
    ck_assert_uint_eq(rights_at(0, VA_D), RO);
    put(wi, VA(wi), PG, 0x63);
    /* The others map again (WRITE alone suffices now) and see the write. */
    for (unsigned i = 0; i < 3; i++) {
        if (i == wi)
            continue;
        map_ok(i, t.c[i], 0, 1, CONT_MAP_WRITE, VA(i));
        ck_assert_uint_eq(rights_at(i, VA(i)), RWX);
        expect(i, VA(i), PG, 0x63);
    }
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    /* Still one group after the break. */
    unsigned other = (wi + 1) % 3;
    put(other, VA(other), PG, 0x64);
    expect(wi, VA(wi), PG, 0x64);
    expect(0, VA_D, PG, 0x62);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
}
END_TEST

/* A copy into a group member takes only that frame out: logical (_i == 0)
 * or shared (_i == 1) from another container E. */
START_TEST(test_share_copy_into_member)
{
    struct trio t;
    make_trio(&t, 0x71);
    uint32_t gpfn = finfo(0, t.c[0], 0).pfn.n;
    container_t e = mk(2, 1);
    map_ok(2, e, 0, 1, CONT_MAP_WRITE, VA_D);
    put(2, VA_D, PG, 0xEE);
    uint32_t epfn = finfo(2, e, 0).pfn.n;
    unsigned flags = _i == 0 ? 0u : (unsigned)CONT_COPY_SHARED;
    copy_ok(2, e, 0, t.c[2], 0, 1, flags);
    struct pm_frame_info f2 = finfo(2, t.c[2], 0);
    ck_assert_uint_eq(f2.pfn.n, epfn);
    ck_assert_uint_eq(f2.group_size, _i == 0 ? 1 : 2);
    ck_assert(f2.cow == (_i == 0));
    for (unsigned i = 0; i < 2; i++) {
        struct pm_frame_info fi = finfo(i, t.c[i], 0);
        ck_assert_uint_eq(fi.pfn.n, gpfn);
        ck_assert_uint_eq(fi.group_size, 2);
        ck_assert(!fi.cow);
        ck_assert_uint_eq(rights_at(i, VA(i)), RWX);
    }
    /* The frame copied into lost its mapping; the others kept theirs. */
    ck_assert_uint_eq(rights_at(2, VA(2)), 0);
    ck_assert_uint_eq(rights_at(2, VA_D), _i == 0 ? RO : RWX);
    put(1, VA(1), PG, 0x72);
    expect(0, VA(0), PG, 0x72);
    map_ok(2, t.c[2], 0, 1, CONT_MAP_READ, VA(2));
    expect(2, VA(2), PG, 0xEE);
}
END_TEST

/* release_data on a member takes only it out: it reads zero, the others
 * keep the data, their mappings and each other. */
START_TEST(test_share_release_member)
{
    struct trio t;
    make_trio(&t, 0x81);
    uint32_t gpfn = finfo(0, t.c[0], 0).pfn.n;
    struct pm_stats s0 = pst();
    struct pm_task_info ti0 = tinfo(2);
    frame_t f0 = 0;
    ck_assert_int_eq(pm_release_data(p.pm, p.task[2], t.c[2], &f0, 1), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().frames_released - s0.frames_released, 1);
    ck_assert_uint_eq(tinfo(2).allocated, ti0.allocated);
    struct pm_frame_info f2 = finfo(2, t.c[2], 0);
    ck_assert(!f2.bound);
    ck_assert_uint_eq(f2.group_size, 1);
    ck_assert(!f2.cow);
    ck_assert_uint_eq(rights_at(2, VA(2)), 0);
    for (unsigned i = 0; i < 2; i++) {
        struct pm_frame_info fi = finfo(i, t.c[i], 0);
        ck_assert_uint_eq(fi.pfn.n, gpfn);
        ck_assert_uint_eq(fi.group_size, 2);
        ck_assert_uint_eq(rights_at(i, VA(i)), RWX);
        expect(i, VA(i), PG, 0x81);
    }
    map_ok(2, t.c[2], 0, 1, CONT_MAP_WRITE, VA(2));
    expect(2, VA(2), PG, 0x00);
    ck_assert_uint_ne(finfo(2, t.c[2], 0).pfn.n, gpfn);
    put(2, VA(2), PG, 0x82);
    expect(0, VA(0), PG, 0x81);
    put(0, VA(0), PG, 0x83);
    expect(1, VA(1), PG, 0x83);
    expect(2, VA(2), PG, 0x82);
    ck_assert_uint_eq(pst().cow_breaks, s0.cow_breaks);
}
END_TEST

/* ---- release_data ------------------------------------------------------- */

/* A released frame is free of its logical copies: writing it again copies
 * nothing (frame 0); the frame not released still breaks (frame 1). */
START_TEST(test_release_reuse_no_cow)
{
    container_t a = mk(0, 2), b = mk(1, 2);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0x90);
    copy_ok(1, wa, 0, b, 0, 2, 0);
    map_ok(1, b, 0, 2, CONT_MAP_READ, VA(1));
    uint32_t old0 = finfo(0, a, 0).pfn.n;
    struct pm_stats s0 = pst();
    frame_t f0 = 0;
    ck_assert_int_eq(pm_release_data(p.pm, p.task[0], a, &f0, 1), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().frames_released - s0.frames_released, 1);
    ck_assert(!finfo(0, a, 0).bound);
    ck_assert_uint_eq(rights_at(0, VA(0)), 0);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), RO);
    /* B's frame 0 is alone on the old frame now, mapping untouched. */
    struct pm_frame_info fb = finfo(1, b, 0);
    ck_assert_uint_eq(fb.pfn.n, old0);
    ck_assert(!fb.cow);
    ck_assert_uint_eq(pfn_at(1, VA(1)), old0);
    /* Reuse: no copy. */
    map_ok(0, a, 0, 1, WF, VA(0));
    ck_assert_uint_eq(pst().cow_breaks, s0.cow_breaks);
    ck_assert_uint_eq(pst().bytes_copied, s0.bytes_copied);
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
    expect(0, VA(0), PG, 0x00);
    put(0, VA(0), PG, 0x95);
    expect(1, VA(1), PG, 0x90);
    /* Frame 1 was not released: the same map breaks it. */
    map_ok(0, a, 1, 1, WF, VA(0) + PG);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    ck_assert_uint_eq(pst().bytes_copied - s0.bytes_copied, PG);
    expect(0, VA(0) + PG, PG, 0x91);
    expect(1, VA(1) + PG, PG, 0x91);
}
END_TEST

/* ENOENT for a missing frame (anywhere in the list) changes nothing;
 * EINVAL for no frames. */
START_TEST(test_release_enoent)
{
    container_t a = mk(0, 2), b = mk(0, 2);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0xA5);
    copy_ok(0, a, 0, b, 0, 2, CONT_COPY_SHARED);
    struct pm_stats s0 = pst();
    const frame_t list[] = {0, 7, 1};
    ck_assert_int_eq(pm_release_data(p.pm, p.task[0], a, list, 3), PM_ENOENT);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_int_eq(pm_release_data(p.pm, p.task[0], a, list, 0), PM_EINVAL);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().frames_released, s0.frames_released);
    for (frame_t f = 0; f < 2; f++) {
        ck_assert_uint_eq(finfo(0, a, f).group_size, 2);
        ck_assert(finfo(0, a, f).bound);
        ck_assert_uint_eq(rights_at(0, VA(0) + f * PG), RWX);
    }
    expect_pages(0, VA(0), 2, 0xA5);
    map_ok(0, b, 0, 2, CONT_MAP_READ, VA(1));
    expect_pages(0, VA(1), 2, 0xA5);
}
END_TEST

/* A weak capability may release_data; the owner's mapping of it goes and
 * the owner reads zero after mapping again. */
START_TEST(test_release_weak)
{
    container_t a = mk(0, 2);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0xB0);
    map_ok(1, wa, 0, 2, CONT_MAP_READ, VA(1));
    frame_t f1 = 1;
    ck_assert_int_eq(pm_release_data(p.pm, p.task[1], wa, &f1, 1), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert(!finfo(0, a, 1).bound);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), 0);
    ck_assert_uint_eq(rights_at(1, VA(1) + PG), 0);
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
    ck_assert_uint_eq(rights_at(1, VA(1)), RO);
    expect(1, VA(1), PG, 0xB0);
    map_ok(0, a, 1, 1, CONT_MAP_READ, VA(0) + PG);
    expect(0, VA(0) + PG, PG, 0x00);
    ck_assert_uint_eq(tinfo(0).allocated, 2);
}
END_TEST

/* ---- the create shortcuts ----------------------------------------------- */

START_TEST(test_create_with)
{
    struct pm_task_info t0 = tinfo(0), t1 = tinfo(1);
    container_t c = PM_CONTAINER_NONE, w = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[0], 4, p.task[1], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_ne(c, PM_CONTAINER_NONE);
    ck_assert_uint_ne(w, PM_CONTAINER_NONE);
    ck_assert_uint_eq(tinfo(0).allocated - t0.allocated, 4);
    ck_assert_uint_eq(tinfo(0).containers - t0.containers, 1);
    ck_assert_uint_eq(tinfo(0).capabilities - t0.capabilities, 1);
    ck_assert_uint_eq(tinfo(1).allocated, t1.allocated);
    ck_assert_uint_eq(tinfo(1).capabilities - t1.capabilities, 1);
    for (frame_t f = 0; f < 4; f++)
        ck_assert(!finfo(0, c, f).bound);
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(p.pm, p.task[0], c, 4, &fi), PM_ENOENT);
    /* The remote maps through its weak handle and reads zeros. */
    map_ok(1, w, 0, 4, CONT_MAP_WRITE, VA(1));
    expect(1, VA(1), 4 * PG, 0x00);
    /* It is the same container: the owner sees what the remote writes. */
    put_pages(1, VA(1), 4, 0x20);
    map_ok(0, c, 0, 4, CONT_MAP_READ, VA(0));
    expect_pages(0, VA(0), 4, 0x20);
    /* The weak handle is weak. */
    uint32_t cnt = 1;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[1], w, 4, &cnt, 0), PM_EPERM);
    PM_CHECK_INVARIANTS(&p);
    /* Count 0 creates nothing. */
    container_t c2 = 77, w2 = 88;
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[0], 0, p.task[1], &c2, &w2), PM_EINVAL);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c2, 77);
    ck_assert_uint_eq(w2, 88);
    ck_assert_uint_eq(tinfo(0).containers - t0.containers, 1);
}
END_TEST

/* The shortcuts take no flags: they stop at G, all or nothing. */
START_TEST(test_create_with_guarantee)
{
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 3, false), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    struct pm_task_info t0 = tinfo(0), t1 = tinfo(1);
    struct pm_stats s0 = pst();
    container_t c = 77, w = 88;
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[0], 4, p.task[1], &c, &w), PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c, 77);
    ck_assert_uint_eq(w, 88);
    ck_assert_uint_eq(tinfo(0).allocated, t0.allocated);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers);
    ck_assert_uint_eq(tinfo(0).capabilities, t0.capabilities);
    ck_assert_uint_eq(tinfo(1).capabilities, t1.capabilities);
    ck_assert_uint_eq(pst().frames_allocated, s0.frames_allocated);
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[0], 3, p.task[1], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(0).allocated, 3);
    ck_assert_uint_eq(tinfo(0).extra, 0);
    map_ok(1, w, 0, 3, CONT_MAP_READ, VA(1));
    expect(1, VA(1), 3 * PG, 0x00);
    container_t c2 = 77, w2 = 88;
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[0], 1, p.task[1], &c2, &w2), PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c2, 77);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers + 1);
    /* Task 2's guarantee is 0: it can create nothing. */
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[2], 1, p.task[1], &c2, &w2), PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(2).containers, 0);
}
END_TEST

/* create_from: logical copies of SOURCE[start …]; the remote reads them. */
START_TEST(test_create_from)
{
    container_t a = mk(0, 4);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 4, 0x30);
    struct pm_stats s0 = pst();
    struct pm_task_info t0 = tinfo(0);
    container_t c = PM_CONTAINER_NONE, w = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], a, 1, 2, p.task[1], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().logical_copies - s0.logical_copies, 2);
    ck_assert_uint_eq(pst().bytes_copied, s0.bytes_copied);
    ck_assert_uint_eq(tinfo(0).allocated - t0.allocated, 2);
    ck_assert_uint_eq(tinfo(0).containers - t0.containers, 1);
    for (frame_t f = 0; f < 2; f++) {
        struct pm_frame_info fc = finfo(0, c, f), fa = finfo(0, a, f + 1);
        ck_assert_uint_eq(fc.pfn.n, fa.pfn.n);
        ck_assert(fc.cow);
        ck_assert(fa.cow);
        ck_assert_uint_eq(fc.group_size, 1);
    }
    struct pm_frame_info fi;
    ck_assert_int_eq(pm_frame_info(p.pm, p.task[0], c, 2, &fi), PM_ENOENT);
    /* Sources 1 and 2 were downgraded; 0 and 3 were not. */
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), RO);
    ck_assert_uint_eq(rights_at(0, VA(0) + 2 * PG), RO);
    ck_assert_uint_eq(rights_at(0, VA(0) + 3 * PG), RWX);
    map_ok(1, w, 0, 2, CONT_MAP_READ, VA(1));
    expect_pages(1, VA(1), 2, 0x31);
    /* The source writes (breaking the copy); the remote keeps the old bytes. */
    map_ok(0, a, 1, 1, WF, VA(0) + PG);
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    put(0, VA(0) + PG, PG, 0x3F);
    expect(1, VA(1), PG, 0x31);
    ck_assert_uint_eq(rights_at(1, VA(1)), RO);
}
END_TEST

/* Unbound source frames are bound by create_from, and the copy reads zero;
 * a weak capability may be the source. */
START_TEST(test_create_from_weak_unbound)
{
    container_t a = mk(0, 2);
    container_t wa = share(0, a, 1);
    struct pm_task_info t0 = tinfo(0), t1 = tinfo(1);
    container_t c = PM_CONTAINER_NONE, w = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[1], wa, 0, 2, p.task[2], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    /* Task 1 owns the new container and pays for it. */
    ck_assert_uint_eq(tinfo(1).allocated - t1.allocated, 2);
    ck_assert_uint_eq(tinfo(1).containers - t1.containers, 1);
    ck_assert_uint_eq(tinfo(0).allocated, t0.allocated);
    for (frame_t f = 0; f < 2; f++) {
        ck_assert(finfo(0, a, f).bound);
        ck_assert_uint_eq(finfo(0, a, f).pfn.n, finfo(1, c, f).pfn.n);
    }
    map_ok(2, w, 0, 2, CONT_MAP_READ, VA(2));
    expect(2, VA(2), 2 * PG, 0x00);
    /* The owner of the source writes; the copy still reads zero. */
    map_ok(0, a, 0, 2, WF, VA(0));
    put(0, VA(0), 2 * PG, 0x4D);
    expect(2, VA(2), 2 * PG, 0x00);
}
END_TEST

/* A missing source frame: ENOENT, no container, nothing bound or copied,
 * the source's mappings untouched. */
START_TEST(test_create_from_enoent)
{
    container_t a = mk(0, 2);
    uint32_t cnt = 1;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[0], a, 3, &cnt, 0), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    map_ok(0, a, 0, 1, CONT_MAP_WRITE, VA(0));
    put(0, VA(0), PG, 0x51);
    struct pm_task_info t0 = tinfo(0), t1 = tinfo(1);
    struct pm_stats s0 = pst();
    container_t c = 77, w = 88;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], a, 0, 4, p.task[1], &c, &w),
                     PM_ENOENT);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c, 77);
    ck_assert_uint_eq(w, 88);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers);
    ck_assert_uint_eq(tinfo(0).allocated, t0.allocated);
    ck_assert_uint_eq(tinfo(0).capabilities, t0.capabilities);
    ck_assert_uint_eq(tinfo(1).capabilities, t1.capabilities);
    ck_assert_uint_eq(pst().logical_copies, s0.logical_copies);
    ck_assert_uint_eq(pst().frames_bound, s0.frames_bound);
    ck_assert(!finfo(0, a, 0).cow);
    ck_assert(!finfo(0, a, 1).bound);
    ck_assert_uint_eq(rights_at(0, VA(0)), RWX);
    put(0, VA(0), PG, 0x52);
    expect(0, VA(0), PG, 0x52);
}
END_TEST

/* Over G: ENOMEM, and the source is not downgraded. */
START_TEST(test_create_from_guarantee)
{
    container_t a = mk(0, 4);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 4, 0x58);
    ck_assert_int_eq(pm_task_set_guarantee(p.pm, p.task[0], 5, false), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    struct pm_task_info t0 = tinfo(0);
    struct pm_stats s0 = pst();
    container_t c = 77, w = 88;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], a, 0, 2, p.task[1], &c, &w),
                     PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c, 77);
    ck_assert_uint_eq(w, 88);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers);
    ck_assert_uint_eq(tinfo(0).allocated, 4);
    ck_assert_uint_eq(pst().logical_copies, s0.logical_copies);
    for (frame_t f = 0; f < 4; f++) {
        ck_assert(!finfo(0, a, f).cow);
        ck_assert_uint_eq(rights_at(0, VA(0) + f * PG), RWX);
    }
    const frame_t list[] = {0, 1};
    ck_assert_int_eq(pm_container_create_gather(p.pm, p.task[0], a, list, 2, p.task[1], &c, &w),
                     PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c, 77);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers);
    /* One frame fits. */
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], a, 3, 1, p.task[1], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(0).allocated, 5);
    map_ok(1, w, 0, 1, CONT_MAP_READ, VA(1));
    expect(1, VA(1), PG, 0x5B);
}
END_TEST

/* create_gather: any order, a source listed twice. */
START_TEST(test_create_gather)
{
    container_t a = mk(0, 4);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 4, 0x30);
    const frame_t list[] = {3, 0, 3};
    struct pm_stats s0 = pst();
    container_t c = PM_CONTAINER_NONE, w = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_create_gather(p.pm, p.task[0], a, list, 3, p.task[1], &c, &w),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(pst().logical_copies - s0.logical_copies, 3);
    ck_assert_uint_eq(tinfo(0).allocated, 4 + 3);
    for (frame_t f = 0; f < 3; f++)
        ck_assert_uint_eq(finfo(0, c, f).pfn.n, finfo(0, a, list[f]).pfn.n);
    ck_assert_uint_eq(rights_at(0, VA(0)), RO);
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), RWX);
    ck_assert_uint_eq(rights_at(0, VA(0) + 2 * PG), RWX);
    ck_assert_uint_eq(rights_at(0, VA(0) + 3 * PG), RO);
    map_ok(1, w, 0, 3, CONT_MAP_READ, VA(1));
    expect(1, VA(1), PG, 0x33);
    expect(1, VA(1) + PG, PG, 0x30);
    expect(1, VA(1) + 2 * PG, PG, 0x33);
    /* Three groups on A's frame 3: breaking one leaves two. */
    map_ok(1, w, 0, 1, WF, VA(1));
    ck_assert_uint_eq(pst().cow_breaks - s0.cow_breaks, 1);
    ck_assert(finfo(0, a, 3).cow);
    ck_assert(finfo(0, c, 2).cow);
    ck_assert(!finfo(0, c, 0).cow);
    put(1, VA(1), PG, 0x3A);
    expect(1, VA(1) + 2 * PG, PG, 0x33);
    expect(0, VA(0) + 3 * PG, PG, 0x33);
}
END_TEST

START_TEST(test_create_gather_enoent)
{
    container_t a = mk(0, 4);
    map_ok(0, a, 0, 4, CONT_MAP_WRITE, VA(0));
    struct pm_task_info t0 = tinfo(0);
    struct pm_stats s0 = pst();
    const frame_t list[] = {2, 9, 1};
    container_t c = 77, w = 88;
    ck_assert_int_eq(pm_container_create_gather(p.pm, p.task[0], a, list, 3, p.task[1], &c, &w),
                     PM_ENOENT);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(c, 77);
    ck_assert_uint_eq(w, 88);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers);
    ck_assert_uint_eq(tinfo(0).allocated, t0.allocated);
    ck_assert_uint_eq(pst().logical_copies, s0.logical_copies);
    ck_assert(!finfo(0, a, 2).cow);
    ck_assert_uint_eq(rights_at(0, VA(0) + 2 * PG), RWX);
}
END_TEST

/* ---- destroy and revoke ------------------------------------------------- */

/* Destroying a container whose frames have logical copies elsewhere: the
 * copies keep the bytes and their mappings; the destroyed frames'
 * mappings (the owner's and a remote's through a share) vanish. */
START_TEST(test_destroy_copy_survives)
{
    container_t a = mk(0, 2), b = mk(1, 2);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0xD0);
    copy_ok(1, wa, 0, b, 0, 2, 0);
    map_ok(1, b, 0, 2, CONT_MAP_READ, VA(1));
    map_ok(1, wa, 0, 2, CONT_MAP_READ, VA(1) + 4 * PG);
    uint32_t pfn[2] = {finfo(1, b, 0).pfn.n, finfo(1, b, 1).pfn.n};
    struct pm_task_info t0 = tinfo(0);
    struct pm_stats s0 = pst();
    ck_assert_int_eq(pm_container_destroy(p.pm, p.task[0], a), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(0).containers, t0.containers - 1);
    ck_assert_uint_eq(tinfo(0).allocated, t0.allocated - 2);
    ck_assert_uint_eq(pst().frames_freed, s0.frames_freed); /* B holds them */
    for (frame_t f = 0; f < 2; f++) {
        ck_assert_uint_eq(rights_at(0, VA(0) + f * PG), 0);
        ck_assert_uint_eq(rights_at(1, VA(1) + (4 + f) * PG), 0);
        ck_assert_uint_eq(pfn_at(1, VA(1) + f * PG), pfn[f]);
        ck_assert_uint_eq(rights_at(1, VA(1) + f * PG), RO);
        struct pm_frame_info fb = finfo(1, b, f);
        ck_assert_uint_eq(fb.pfn.n, pfn[f]);
        ck_assert(!fb.cow);
    }
    ck_assert_int_eq(try_rw(0, L4_ACCESS_READ, VA(0)), PM_EFAULT);
    expect_pages(1, VA(1), 2, 0xD0);
    uint32_t cnt = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[1], wa, 0, &cnt, CONT_MAP_READ, VA(2)),
                     PM_EBADF);
    PM_CHECK_INVARIANTS(&p);
    /* B is alone on its frames: WRITE is writable, no copy. */
    map_ok(1, b, 0, 2, CONT_MAP_WRITE, VA(1));
    ck_assert_uint_eq(pst().cow_breaks, s0.cow_breaks);
    put(1, VA(1), PG, 0xD5);
    expect(1, VA(1), PG, 0xD5);
}
END_TEST

/* Revoking a share while mapped: the remote's mappings through it vanish,
 * the owner's stay. */
START_TEST(test_revoke_mapped)
{
    container_t a = mk(0, 2);
    container_t wa = share(0, a, 1);
    map_ok(0, a, 0, 2, CONT_MAP_WRITE, VA(0));
    put_pages(0, VA(0), 2, 0xE0);
    map_ok(1, wa, 0, 2, CONT_MAP_WRITE, VA(1));
    expect_pages(1, VA(1), 2, 0xE0);
    /* The remote also has a copy of its own, mapped: it must survive. */
    container_t b = mk(1, 1);
    copy_ok(1, wa, 0, b, 0, 1, 0);
    map_ok(1, b, 0, 1, CONT_MAP_READ, VA(2));
    uint64_t caps1 = tinfo(1).capabilities;
    ck_assert_int_eq(pm_container_revoke(p.pm, p.task[0], a, wa), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(tinfo(1).capabilities, caps1 - 1);
    for (frame_t f = 0; f < 2; f++) {
        ck_assert_uint_eq(rights_at(1, VA(1) + f * PG), 0);
        ck_assert_int_eq(try_rw(1, L4_ACCESS_READ, VA(1) + f * PG), PM_EFAULT);
    }
    ck_assert_uint_eq(rights_at(0, VA(0)), RO); /* downgraded by the copy */
    ck_assert_uint_eq(rights_at(0, VA(0) + PG), RWX);
    expect_pages(0, VA(0), 2, 0xE0);
    ck_assert_uint_eq(rights_at(1, VA(2)), RO);
    expect(1, VA(2), PG, 0xE0);
    uint32_t cnt = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[1], wa, 0, &cnt, CONT_MAP_READ, VA(1)),
                     PM_EBADF);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(mapped_pages(1), 1);
}
END_TEST

/* ---- a busy, healthy state --------------------------------------------- */

static void count_problem(void *ctx, const char *problem)
{
    (void)problem;
    ++*(unsigned *)ctx;
}

/* Everything at once: share groups, logical copies of them, breaks,
 * releases, shortcuts, a revoke and a destroy; the checker finds nothing. */
START_TEST(test_check_healthy)
{
    struct trio t;
    make_trio(&t, 0x11);
    container_t d = mk(0, 4);
    copy_ok(0, t.c[0], 0, d, 0, 1, 0);
    copy_ok(0, t.c[0], 0, d, 1, 1, CONT_COPY_SHARED);
    copy_ok(0, d, 0, d, 2, 1, 0);
    map_ok(0, d, 0, 4, CONT_MAP_WRITE, VA_D);
    map_ok(1, t.c[1], 0, 1, WF, VA(1));
    put(1, VA(1), PG, 0x12);
    frame_t r = 3;
    ck_assert_int_eq(pm_release_data(p.pm, p.task[0], d, &r, 1), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    container_t c, w;
    ck_assert_int_eq(pm_container_create_from(p.pm, p.task[0], d, 0, 3, p.task[2], &c, &w), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    map_ok(2, w, 0, 3, CONT_MAP_READ, VA(2) + 16 * PG);
    expect(2, VA(2) + 16 * PG, PG, 0x11);
    expect(2, VA(2) + 17 * PG, PG, 0x12);
    expect(2, VA(2) + 18 * PG, PG, 0x11);
    container_t cw, ww;
    ck_assert_int_eq(pm_container_create_with(p.pm, p.task[1], 2, p.task[0], &cw, &ww), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    map_ok(0, ww, 0, 2, CONT_MAP_WRITE, VA(3));
    put(0, VA(3), 2 * PG, 0x13);
    ck_assert_int_eq(pm_container_revoke(p.pm, p.task[1], cw, ww), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_int_eq(pm_container_destroy(p.pm, p.task[0], t.c[0]), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    unsigned reported = 0;
    ck_assert_uint_eq(pm_check(p.pm, count_problem, &reported), 0);
    ck_assert_uint_eq(reported, 0);
    ck_assert_uint_eq(pm_check(p.pm, NULL, NULL), 0);
    /* The survivors read what they should. */
    expect(1, VA(1), PG, 0x12);
    expect(2, VA(2) + 16 * PG, PG, 0x11);
    map_ok(1, cw, 0, 2, CONT_MAP_READ, VA(1) + 16 * PG);
    expect(1, VA(1) + 16 * PG, 2 * PG, 0x13);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("cow");
    struct {
        const char *name;
        const TTest *test;
        int loops;
    } cases[] = {
        {"map_lazy_binding", test_map_lazy_binding, 1},
        {"copy_binds_unbound_source", test_copy_binds_unbound_source, 1},
        {"map_aligned_one_item", test_map_aligned_one_item, 1},
        {"map_half_aligned_two_items", test_map_half_aligned_two_items, 1},
        {"map_misaligned_page_items", test_map_misaligned_page_items, 1},
        {"map_misaligned_fresh", test_map_misaligned_fresh, 1},
        {"map_item_limit_short", test_map_item_limit_short, 1},
        {"map_item_limit_fresh", test_map_item_limit_fresh, 1},
        {"map_item_limit_loop", test_map_item_limit_loop, 1},
        {"map_enoent_maps_nothing", test_map_enoent_maps_nothing, 1},
        {"map_einval", test_map_einval, (int)(sizeof bad_maps / sizeof bad_maps[0])},
        {"map_last_page", test_map_last_page, 1},
        {"map_rights", test_map_rights, 1},
        {"map_weak", test_map_weak, 1},
        {"cow_downgrades_source", test_cow_downgrades_source, 1},
        {"cow_write_alone_readonly", test_cow_write_alone_readonly, 1},
        {"cow_break_each_side", test_cow_break_each_side, 2},
        {"cow_break_minimal_unmap", test_cow_break_minimal_unmap, 1},
        {"cow_break_many", test_cow_break_many, 1},
        {"share_sees_writes", test_share_sees_writes, 1},
        {"share_bind_once", test_share_bind_once, 2},
        {"share_group_three_break", test_share_group_three_break, 3},
        {"share_copy_into_member", test_share_copy_into_member, 2},
        {"share_release_member", test_share_release_member, 1},
        {"release_reuse_no_cow", test_release_reuse_no_cow, 1},
        {"release_enoent", test_release_enoent, 1},
        {"release_weak", test_release_weak, 1},
        {"create_with", test_create_with, 1},
        {"create_with_guarantee", test_create_with_guarantee, 1},
        {"create_from", test_create_from, 1},
        {"create_from_weak_unbound", test_create_from_weak_unbound, 1},
        {"create_from_enoent", test_create_from_enoent, 1},
        {"create_from_guarantee", test_create_from_guarantee, 1},
        {"create_gather", test_create_gather, 1},
        {"create_gather_enoent", test_create_gather_enoent, 1},
        {"destroy_copy_survives", test_destroy_copy_survives, 1},
        {"revoke_mapped", test_revoke_mapped, 1},
        {"check_healthy", test_check_healthy, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, cases[i].test, 0, cases[i].loops);
        suite_add_tcase(s, tc);
    }
    return s;
}

PMSIM_TEST_MAIN
