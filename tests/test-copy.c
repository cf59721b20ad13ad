/* test-copy.c — the copy family of physmem: pm_container_copy, _scatter,
 * _gather and _scatter_gather (SPEC §3.5, §3.9).
 *
 * Every source frame gets distinct bytes (a pattern derived from a tag,
 * written through a real mapping), and every result is checked by mapping
 * the frame and reading it back, beside pm_frame_info, the owners' A, the
 * counters and the kernel's mappings.  Covered: a plain logical copy (the
 * bytes arrive, the destination's old bytes and mappings go, the source's
 * writable mappings become read-only, A does not move, copy-on-write keeps
 * the copies apart); the visiting order and frame_error for every variant,
 * with and without ALL_OR_NONE (which leaves every destination, mapping and
 * frame as it was), SHARED and MOVE; real sharing (writes seen through
 * either member, copy into a group member takes only that frame out,
 * logical copies of a group, unbound groups); MOVE (sources leave the
 * container and its owner's A, their mappings vanish, a moved group member
 * keeps its place in the group, MOVE out through a weak capability, MOVE
 * within one container); every EINVAL row and its near misses at the 2^32
 * boundary; one container with overlapping ranges in both directions, a
 * frame onto itself, an in-place reversal; the error precedence ESRCH >
 * EINVAL > EBADF > EBUSY > per-frame errors with a server's lease; weak
 * capabilities copying in and out until revoked; scatter/gather lists in
 * arbitrary orders; the copy and move events; a MOVE of 2^31 frames
 * within one container decided at once; and a copy of 1024 frames.  The
 * invariant checker runs after every step. */
#include "harness.h"

#define PG 4096u
#define FRAMES 4096u

/* Where tasks map frames: their own sources, destinations, and one
 * scratch page for reading a frame back. */
#define VA_SRC 0x10000000ull
#define VA_DST 0x20000000ull
#define VA_CHK 0x30000000ull

/* frame_error before a call: a call that must not touch it leaves this. */
#define SENTINEL 0xDEADBEEFu
/* The tag of a zero-filled frame. */
#define TAG_ZERO UINT32_MAX
#define BOGUS_HANDLE ((container_t)0x7777000000001234ull)

static struct pmworld p;

static void setup(void)
{
    pmworld_init(&p, FRAMES, 0, 4);
}
static void teardown(void)
{
    pmworld_fini(&p);
}

static l4_task_t T(unsigned i)
{
    return p.task[i];
}

/* ---- helpers ------------------------------------------------------------ */

/* A page of bytes derived from TAG; its first four bytes are TAG itself. */
static void pattern(uint32_t tag, unsigned char *buf)
{
    if (tag == TAG_ZERO) {
        memset(buf, 0, PG);
        return;
    }
    memcpy(buf, &tag, sizeof tag);
    uint32_t x = tag * 2654435761u + 1u;
    for (size_t i = sizeof tag; i < PG; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (unsigned char)(x >> 24);
    }
}

/* A new container of task T with frames START … START + N − 1. */
static container_t make(unsigned t, frame_t start, uint32_t n)
{
    container_t c = PM_CONTAINER_NONE;
    CHECK_EQ(pm_container_create(p.pm, T(t), &c), PM_OK);
    if (n > 0) {
        uint32_t k = n;
        CHECK_EQ(pm_container_allocate(p.pm, T(t), c, start, &k, 0), PM_OK);
        CHECK_EQ(k, n);
    }
    return c;
}

static void drop(unsigned t, container_t c, frame_t f)
{
    uint32_t k = 1;
    CHECK_EQ(pm_container_deallocate(p.pm, T(t), c, f, &k, 0), PM_OK);
}

/* Task OWNER shares C with task TO; TO's weak handle. */
static container_t share(unsigned owner, container_t c, unsigned to)
{
    container_t w = PM_CONTAINER_NONE;
    CHECK_EQ(pm_container_share(p.pm, T(owner), c, T(to), &w), PM_OK);
    return w;
}

/* Task T maps N frames of C from F at VA, looping over short maps. */
static void map_frames(unsigned t, container_t c, frame_t f, uint32_t n, unsigned flags,
                       uint64_t va)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t k = n - done;
        CHECK_EQ(pm_container_map(p.pm, T(t), c, f + done, &k, flags, va + (uint64_t)done * PG),
                 PM_OK);
        CHECK(k > 0);
        done += k;
    }
}

/* Task T writes the pattern of TAG into frame F of C, mapped writable (the
 * mapping stays) at VA. */
static void fill(unsigned t, container_t c, frame_t f, uint64_t va, uint32_t tag)
{
    unsigned char buf[PG];
    map_frames(t, c, f, 1, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE, va);
    pattern(tag, buf);
    CHECK_EQ(pm_rw(&p, t, L4_ACCESS_WRITE, va, buf, PG), PM_OK);
}

/* fill frames START … START + N − 1, frame f at VA_BASE + f·P with tag
 * TAG_BASE + f. */
static void fill_range(unsigned t, container_t c, frame_t start, uint32_t n, uint64_t va_base,
                       uint32_t tag_base)
{
    unsigned char buf[PG];
    map_frames(t, c, start, n, CONT_MAP_WRITE | CONT_MAP_FORCE_WRITE,
               va_base + (uint64_t)start * PG);
    for (uint32_t i = 0; i < n; i++) {
        pattern(tag_base + start + i, buf);
        CHECK_EQ(pm_rw(&p, t, L4_ACCESS_WRITE, va_base + (uint64_t)(start + i) * PG, buf, PG),
                 PM_OK);
    }
}

/* The tag of the page task T sees at VA (TAG_ZERO for zeros), or abort if
 * it is neither a pattern nor zeros. */
static uint32_t tag_at(int line, unsigned t, uint64_t va)
{
    unsigned char buf[PG], want[PG];
    pm_error_t err = pm_rw(&p, t, L4_ACCESS_READ, va, buf, PG);
    if (err != PM_OK)
        ck_abort_msg("line %d: task %u reading 0x%llx: %s", line, t, (unsigned long long)va,
                     pm_strerror(err));
    uint32_t tag;
    memcpy(&tag, buf, sizeof tag);
    if (tag == 0 && bytes_all(buf, PG, 0))
        return TAG_ZERO;
    pattern(tag, want);
    if (memcmp(buf, want, PG) != 0)
        ck_abort_msg("line %d: task %u at 0x%llx: page starts as tag %#x but is not its pattern",
                     line, t, (unsigned long long)va, tag);
    return tag;
}

/* Task T maps frame F of C read-only at its scratch page and checks that
 * it holds the pattern of TAG. */
static void expect_frame(int line, unsigned t, container_t c, frame_t f, uint32_t tag)
{
    uint32_t k = 1;
    pm_error_t err = pm_container_map(p.pm, T(t), c, f, &k, CONT_MAP_READ, VA_CHK);
    if (err != PM_OK)
        ck_abort_msg("line %d: task %u mapping frame %u: %s", line, t, f, pm_strerror(err));
    uint32_t got = tag_at(line, t, VA_CHK);
    if (got != tag)
        ck_abort_msg("line %d: frame %u holds tag %#x, want %#x", line, f, got, tag);
}
#define EXPECT_FRAME(t, c, f, tag) expect_frame(__LINE__, (t), (c), (f), (tag))
#define EXPECT_AT(t, va, tag) CHECK_EQ(tag_at(__LINE__, (t), (va)), (tag))

/* Rights of task T's mapping at VA; 0 when nothing is mapped there. */
static unsigned rights_at(unsigned t, uint64_t va)
{
    unsigned r = 0;
    pm_error_t err = l4_lookup(p.w.k, T(t), va, NULL, &r);
    CHECK(err == PM_OK || err == PM_ENOENT);
    return err == PM_OK ? r : 0;
}

static uint32_t pfn_at(unsigned t, uint64_t va)
{
    pm_pfn_t pfn = PM_PFN_NONE;
    CHECK_EQ(l4_lookup(p.w.k, T(t), va, &pfn, NULL), PM_OK);
    return pfn.n;
}

static struct pm_frame_info info(unsigned t, container_t c, frame_t f)
{
    struct pm_frame_info i;
    memset(&i, 0, sizeof i);
    CHECK_EQ(pm_frame_info(p.pm, T(t), c, f, &i), PM_OK);
    return i;
}

/* True when frame F of C exists (pm_frame_info says ENOENT otherwise). */
static bool exists(unsigned t, container_t c, frame_t f)
{
    struct pm_frame_info i;
    pm_error_t err = pm_frame_info(p.pm, T(t), c, f, &i);
    CHECK(err == PM_OK || err == PM_ENOENT);
    return err == PM_OK;
}

static bool same_info(struct pm_frame_info a, struct pm_frame_info b)
{
    return a.bound == b.bound && a.pfn.n == b.pfn.n && a.cow == b.cow &&
           a.group_size == b.group_size;
}

static uint64_t A(unsigned t)
{
    struct pm_task_info ti;
    CHECK_EQ(pm_task_info(p.pm, T(t), &ti), PM_OK);
    return ti.allocated;
}

static struct pm_stats stats(void)
{
    struct pm_stats s;
    pm_stats(p.pm, &s);
    return s;
}

/* The four calls behind one signature: a range side takes its start from
 * the first element of its list (0 for NULL). */
enum variant { V_COPY, V_SCATTER, V_GATHER, V_SG };

static pm_error_t copy_v(enum variant v, l4_task_t caller, container_t src, const frame_t *s,
                         container_t dst, const frame_t *d, uint32_t n, unsigned flags, frame_t *fe)
{
    frame_t s0 = s != NULL ? s[0] : 0, d0 = d != NULL ? d[0] : 0;
    switch (v) {
    case V_COPY:
        return pm_container_copy(p.pm, caller, src, s0, dst, d0, n, flags, fe);
    case V_SCATTER:
        return pm_container_copy_scatter(p.pm, caller, src, s0, dst, d, n, flags, fe);
    case V_GATHER:
        return pm_container_copy_gather(p.pm, caller, src, s, dst, d0, n, flags, fe);
    default:
        return pm_container_copy_scatter_gather(p.pm, caller, src, s, dst, d, n, flags, fe);
    }
}

/* ---- a plain logical copy --------------------------------------------- */

START_TEST(test_logical_basic)
{
    container_t src = make(0, 0, 8), dst = make(1, 0, 8);
    fill_range(0, src, 0, 8, VA_SRC, 0x100);
    fill_range(1, dst, 0, 8, VA_DST, 0x200);
    container_t wsrc = share(0, src, 1);
    /* Task 2 maps both writable through weak capabilities. */
    map_frames(2, share(0, src, 2), 0, 8, CONT_MAP_WRITE, VA_SRC);
    map_frames(2, share(1, dst, 2), 0, 8, CONT_MAP_WRITE, VA_DST);
    PM_CHECK_INVARIANTS(&p);
    for (frame_t f = 0; f < 8; f++) {
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), L4_RWX);
        CHECK_EQ(rights_at(1, VA_DST + f * PG), L4_RWX);
        CHECK_EQ(rights_at(2, VA_SRC + f * PG), L4_RWX);
        CHECK_EQ(rights_at(2, VA_DST + f * PG), L4_RWX);
    }
    struct pm_stats s0 = stats();

    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), wsrc, 0, dst, 0, 8, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    struct pm_stats s1 = stats();
    ck_assert_uint_eq(s1.logical_copies - s0.logical_copies, 8);
    ck_assert_uint_eq(s1.shared_copies, s0.shared_copies);
    ck_assert_uint_eq(s1.moves, s0.moves);
    ck_assert_uint_eq(A(0), 8);
    ck_assert_uint_eq(A(1), 8);
    for (frame_t f = 0; f < 8; f++) {
        /* The destination's old mappings are gone; the source's stay,
         * read-only, and still read the source's bytes. */
        CHECK_EQ(rights_at(1, VA_DST + f * PG), 0);
        CHECK_EQ(rights_at(2, VA_DST + f * PG), 0);
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), L4_R | L4_X);
        CHECK_EQ(rights_at(2, VA_SRC + f * PG), L4_R | L4_X);
        EXPECT_AT(0, VA_SRC + f * PG, 0x100 + f);
        EXPECT_AT(2, VA_SRC + f * PG, 0x100 + f);
        unsigned char b = 1;
        CHECK_EQ(pm_rw(&p, 0, L4_ACCESS_WRITE, VA_SRC + f * PG, &b, 1), PM_EFAULT);
        CHECK_EQ(pm_rw(&p, 1, L4_ACCESS_READ, VA_DST + f * PG, &b, 1), PM_EFAULT);
        struct pm_frame_info si = info(0, src, f), di = info(1, dst, f);
        CHECK(si.bound && di.bound && si.cow && di.cow);
        CHECK_EQ(di.pfn.n, si.pfn.n);
        CHECK_EQ(si.group_size, 1);
        CHECK_EQ(di.group_size, 1);
        EXPECT_FRAME(1, dst, f, 0x100 + f);
    }
    PM_CHECK_INVARIANTS(&p);

    /* Copy-on-write keeps them apart: a write to source 0 after a forced
     * writable map, a write to destination 1 likewise. */
    fill(0, src, 0, VA_SRC, 0x300);
    PM_CHECK_INVARIANTS(&p);
    fill(1, dst, 1, VA_DST + PG, 0x301);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(0, src, 0, 0x300);
    EXPECT_FRAME(1, dst, 0, 0x100);
    EXPECT_FRAME(0, src, 1, 0x101);
    EXPECT_FRAME(1, dst, 1, 0x301);
    CHECK(!info(0, src, 0).cow && !info(1, dst, 0).cow);
    CHECK(!info(0, src, 1).cow && !info(1, dst, 1).cow);
    CHECK(info(0, src, 2).cow && info(1, dst, 2).cow);
    ck_assert_uint_eq(A(0), 8);
    ck_assert_uint_eq(A(1), 8);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A source never mapped is bound by the copy (lazy binding) and reads as
 * zeros on both sides; the destination's old bytes are gone. */
START_TEST(test_logical_unbound_source)
{
    container_t src = make(0, 0, 2), dst = make(1, 0, 2);
    fill_range(1, dst, 0, 2, VA_DST, 0x200);
    container_t wdst = share(1, dst, 0);
    CHECK(!info(0, src, 1).bound);
    PM_CHECK_INVARIANTS(&p);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), src, 1, wdst, 0, 1, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    struct pm_frame_info si = info(0, src, 1), di = info(1, dst, 0);
    ck_assert(si.bound && di.bound && si.cow && di.cow);
    ck_assert_uint_eq(si.pfn.n, di.pfn.n);
    ck_assert_uint_eq(rights_at(1, VA_DST), 0);
    EXPECT_FRAME(1, dst, 0, TAG_ZERO);
    EXPECT_FRAME(0, src, 1, TAG_ZERO);
    EXPECT_FRAME(1, dst, 1, 0x201);
    /* The unbound source 0 was not part of it. */
    ck_assert(!info(0, src, 0).bound);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A frame_error of NULL is allowed, on success and on failure. */
START_TEST(test_null_frame_error)
{
    container_t src = make(0, 0, 4), dst = make(0, 10, 3);
    fill_range(0, src, 0, 4, VA_SRC, 0x100);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), src, 0, dst, 10, 2, 0, NULL), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), src, 2, dst, 12, 2, 0, NULL), PM_ENOMEM);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(0, dst, 10, 0x100);
    EXPECT_FRAME(0, dst, 11, 0x101);
    EXPECT_FRAME(0, dst, 12, 0x102);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- visiting order and frame_error ------------------------------------- */

/* Pairs i = 0 … 7: (SRC_*[i], DST_*[i]); the range variants use the
 * ranges, the list variants the shuffled lists. */
static const frame_t SRC_RANGE[8] = {0, 1, 2, 3, 4, 5, 6, 7};
static const frame_t SRC_LIST[8] = {5, 2, 7, 0, 3, 6, 1, 4};
static const frame_t DST_RANGE[8] = {10, 11, 12, 13, 14, 15, 16, 17};
static const frame_t DST_LIST[8] = {17, 12, 15, 10, 16, 11, 14, 13};

#define NONE UINT32_MAX
#define AON CONT_COPY_ALL_OR_NONE

struct fe_row {
    enum variant v;
    unsigned flags;
    frame_t miss_src[2], miss_dst[2]; /* NONE-padded */
    pm_error_t err;
    frame_t fe;      /* SENTINEL: untouched */
    uint32_t copied; /* pairs copied */
};

static const struct fe_row fe_rows[] = {
    /* ranges */
    {V_COPY, 0, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_COPY, 0, {NONE, NONE}, {13, NONE}, PM_ENOMEM, 13, 3},
    {V_COPY, 0, {4, NONE}, {NONE, NONE}, PM_ENOENT, 4, 4},
    {V_COPY, 0, {2, NONE}, {15, NONE}, PM_ENOENT, 2, 2},
    {V_COPY, 0, {5, NONE}, {12, NONE}, PM_ENOMEM, 12, 2},
    {V_COPY, 0, {3, NONE}, {13, NONE}, PM_ENOMEM, 13, 3}, /* both missing: ENOMEM */
    {V_COPY, 0, {0, NONE}, {NONE, NONE}, PM_ENOENT, 0, 0},
    {V_COPY, 0, {NONE, NONE}, {17, NONE}, PM_ENOMEM, 17, 7},
    {V_COPY, 0, {6, 1}, {NONE, NONE}, PM_ENOENT, 1, 1},
    {V_COPY, AON, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_COPY, AON, {NONE, NONE}, {13, NONE}, PM_ENOMEM, 13, 0},
    {V_COPY, AON, {4, NONE}, {NONE, NONE}, PM_ENOENT, 4, 0},
    {V_COPY, AON, {3, NONE}, {13, NONE}, PM_ENOMEM, 13, 0},
    {V_COPY, AON, {NONE, NONE}, {17, NONE}, PM_ENOMEM, 17, 0},
    /* scatter: destinations 17 12 15 10 16 11 14 13 */
    {V_SCATTER, 0, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_SCATTER, 0, {NONE, NONE}, {10, NONE}, PM_ENOMEM, 10, 3},
    {V_SCATTER, 0, {1, NONE}, {14, NONE}, PM_ENOENT, 1, 1},
    {V_SCATTER, 0, {NONE, NONE}, {13, 11}, PM_ENOMEM, 11, 5},
    {V_SCATTER, AON, {NONE, NONE}, {10, NONE}, PM_ENOMEM, 10, 0},
    /* gather: sources 5 2 7 0 3 6 1 4 */
    {V_GATHER, 0, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_GATHER, 0, {7, NONE}, {NONE, NONE}, PM_ENOENT, 7, 2},
    {V_GATHER, 0, {4, NONE}, {11, NONE}, PM_ENOMEM, 11, 1},
    {V_GATHER, 0, {0, 1}, {NONE, NONE}, PM_ENOENT, 0, 3},
    {V_GATHER, AON, {7, NONE}, {NONE, NONE}, PM_ENOENT, 7, 0},
    /* scatter-gather */
    {V_SG, 0, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_SG, 0, {3, NONE}, {12, NONE}, PM_ENOMEM, 12, 1},
    {V_SG, 0, {1, NONE}, {14, NONE}, PM_ENOMEM, 14, 6}, /* pair 6 lacks both */
    {V_SG, 0, {0, NONE}, {11, NONE}, PM_ENOENT, 0, 3},
    {V_SG, 0, {5, NONE}, {NONE, NONE}, PM_ENOENT, 5, 0},
    {V_SG, AON, {0, NONE}, {11, NONE}, PM_ENOENT, 0, 0},
    {V_SG, AON, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    /* SHARED */
    {V_COPY, CONT_COPY_SHARED, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_COPY, CONT_COPY_SHARED, {NONE, NONE}, {14, NONE}, PM_ENOMEM, 14, 4},
    {V_COPY, CONT_COPY_SHARED | AON, {NONE, NONE}, {14, NONE}, PM_ENOMEM, 14, 0},
    {V_GATHER, CONT_COPY_SHARED, {6, NONE}, {NONE, NONE}, PM_ENOENT, 6, 5},
    {V_SG, CONT_COPY_SHARED | AON, {NONE, NONE}, {16, NONE}, PM_ENOMEM, 16, 0},
    /* MOVE */
    {V_COPY, CONT_COPY_MOVE, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
    {V_COPY, CONT_COPY_MOVE, {5, NONE}, {NONE, NONE}, PM_ENOENT, 5, 5},
    {V_COPY, CONT_COPY_MOVE | AON, {5, NONE}, {NONE, NONE}, PM_ENOENT, 5, 0},
    {V_SG, CONT_COPY_MOVE, {NONE, NONE}, {16, NONE}, PM_ENOMEM, 16, 4},
    {V_SG, CONT_COPY_MOVE | AON, {NONE, NONE}, {16, NONE}, PM_ENOMEM, 16, 0},
    {V_SCATTER, CONT_COPY_MOVE, {NONE, NONE}, {15, NONE}, PM_ENOMEM, 15, 2},
    {V_GATHER, CONT_COPY_MOVE | AON, {NONE, NONE}, {NONE, NONE}, PM_OK, SENTINEL, 8},
};

static bool listed(const frame_t *l, frame_t f)
{
    return l[0] == f || l[1] == f;
}

/* Task 0 owns the sources 0 … 7 (tags 0x100 + f, mapped at VA_SRC), task 1
 * the destinations 10 … 17 (tags 0x200 + f, mapped at VA_DST) and copies
 * through a weak capability to the sources. */
START_TEST(test_frame_error)
{
    const struct fe_row *r = &fe_rows[_i];
    const frame_t *s = (r->v == V_GATHER || r->v == V_SG) ? SRC_LIST : SRC_RANGE;
    const frame_t *d = (r->v == V_SCATTER || r->v == V_SG) ? DST_LIST : DST_RANGE;
    bool move = r->flags & CONT_COPY_MOVE, shared = r->flags & CONT_COPY_SHARED;
    container_t src = make(0, 0, 8), dst = make(1, 10, 8);
    fill_range(0, src, 0, 8, VA_SRC, 0x100);
    fill_range(1, dst, 10, 8, VA_DST, 0x200);
    for (int i = 0; i < 2; i++) {
        if (r->miss_src[i] != NONE)
            drop(0, src, r->miss_src[i]);
        if (r->miss_dst[i] != NONE)
            drop(1, dst, r->miss_dst[i]);
    }
    container_t wsrc = share(0, src, 1);
    PM_CHECK_INVARIANTS(&p);
    struct pm_frame_info sbefore[8], dbefore[8];
    for (frame_t f = 0; f < 8; f++) {
        if (!listed(r->miss_src, f))
            sbefore[f] = info(0, src, f);
        if (!listed(r->miss_dst, 10 + f))
            dbefore[f] = info(1, dst, 10 + f);
    }
    uint64_t a0 = A(0), a1 = A(1);
    struct pm_stats s0 = stats();

    frame_t fe = SENTINEL;
    ck_assert_int_eq(copy_v(r->v, T(1), wsrc, s, dst, d, 8, r->flags, &fe), r->err);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, r->fe);

    struct pm_stats s1 = stats();
    uint64_t n = r->copied;
    ck_assert_uint_eq(s1.logical_copies - s0.logical_copies, (move || shared) ? 0 : n);
    ck_assert_uint_eq(s1.shared_copies - s0.shared_copies, (shared ? n : 0));
    ck_assert_uint_eq(s1.moves - s0.moves, (move ? n : 0));
    if (n == 0)
        ck_assert_uint_eq(s1.unmaps, s0.unmaps);
    ck_assert_uint_eq(A(0), (move ? a0 - n : a0));
    ck_assert_uint_eq(A(1), a1);

    for (uint32_t i = 0; i < 8; i++) {
        frame_t sf = s[i], df = d[i];
        uint64_t sva = VA_SRC + (uint64_t)sf * PG, dva = VA_DST + (uint64_t)df * PG;
        if (i < n) {
            /* Copied: the destination has the source's bytes and lost its
             * mappings; the source according to the flags. */
            CHECK_EQ(rights_at(1, dva), 0);
            EXPECT_FRAME(1, dst, df, 0x100 + sf);
            if (move) {
                CHECK(!exists(0, src, sf));
                CHECK_EQ(rights_at(0, sva), 0);
                CHECK_EQ(info(1, dst, df).pfn.n, sbefore[sf].pfn.n);
                CHECK(!info(1, dst, df).cow);
            } else if (shared) {
                CHECK_EQ(rights_at(0, sva), L4_RWX);
                struct pm_frame_info si = info(0, src, sf), di = info(1, dst, df);
                CHECK_EQ(si.pfn.n, di.pfn.n);
                CHECK(!si.cow && !di.cow);
                CHECK_EQ(si.group_size, 2);
                CHECK_EQ(di.group_size, 2);
                EXPECT_FRAME(0, src, sf, 0x100 + sf);
            } else {
                CHECK_EQ(rights_at(0, sva), L4_R | L4_X);
                struct pm_frame_info si = info(0, src, sf), di = info(1, dst, df);
                CHECK_EQ(si.pfn.n, di.pfn.n);
                CHECK(si.cow && di.cow);
                EXPECT_FRAME(0, src, sf, 0x100 + sf);
            }
        } else {
            /* Not copied: everything as it was. */
            if (!listed(r->miss_dst, df)) {
                CHECK(same_info(info(1, dst, df), dbefore[df - 10]));
                CHECK_EQ(rights_at(1, dva), L4_RWX);
                CHECK_EQ(pfn_at(1, dva), dbefore[df - 10].pfn.n);
                EXPECT_AT(1, dva, 0x200 + df);
            } else {
                CHECK(!exists(1, dst, df));
            }
            if (!listed(r->miss_src, sf)) {
                CHECK(same_info(info(0, src, sf), sbefore[sf]));
                CHECK_EQ(rights_at(0, sva), L4_RWX);
                EXPECT_AT(0, sva, 0x100 + sf);
            } else {
                CHECK(!exists(0, src, sf));
            }
        }
    }
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- real sharing -------------------------------------------------------- */

START_TEST(test_shared_basic)
{
    container_t a = make(0, 0, 2), b = make(1, 0, 2);
    fill_range(0, a, 0, 2, VA_SRC, 0x100);
    fill_range(1, b, 0, 2, VA_DST, 0x200);
    container_t wb = share(1, b, 0);
    struct pm_stats s0 = stats();
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_SHARED, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(stats().shared_copies - s0.shared_copies, 1);
    ck_assert_uint_eq(stats().logical_copies, s0.logical_copies);
    struct pm_frame_info ai = info(0, a, 0), bi = info(1, b, 0);
    ck_assert(ai.bound && bi.bound && !ai.cow && !bi.cow);
    ck_assert_uint_eq(ai.pfn.n, bi.pfn.n);
    ck_assert_uint_eq(ai.group_size, 2);
    ck_assert_uint_eq(bi.group_size, 2);
    ck_assert_uint_eq(info(1, b, 1).group_size, 1);
    ck_assert_uint_eq(A(0), 2);
    ck_assert_uint_eq(A(1), 2);
    /* The source's mapping stays writable; the destination's old one went. */
    ck_assert_uint_eq(rights_at(0, VA_SRC), L4_RWX);
    ck_assert_uint_eq(rights_at(1, VA_DST), 0);
    EXPECT_AT(0, VA_SRC, 0x100);

    /* Writes through either member are seen through the other. */
    fill(1, b, 0, VA_DST, 0x500);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(rights_at(0, VA_SRC), L4_RWX); /* no break: nothing else shares */
    EXPECT_AT(0, VA_SRC, 0x500);
    fill(0, a, 0, VA_SRC, 0x501);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_AT(1, VA_DST, 0x501);
    ck_assert_uint_eq(info(0, a, 0).pfn.n, ai.pfn.n);
    ck_assert_uint_eq(info(1, b, 0).pfn.n, ai.pfn.n);
    EXPECT_FRAME(1, b, 1, 0x201);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A logical copy of a group member downgrades every member's mappings; a
 * forced write through one member breaks copy-on-write for the whole
 * group, which still shares, while the logical copy keeps the old bytes. */
START_TEST(test_shared_group_logical_copy)
{
    container_t a = make(0, 0, 1), b = make(1, 0, 1), c = make(2, 0, 1);
    fill(0, a, 0, VA_SRC, 0x100);
    container_t wb = share(1, b, 0), wc = share(2, c, 0);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_SHARED, &fe), PM_OK);
    map_frames(1, b, 0, 1, CONT_MAP_WRITE, VA_DST);
    ck_assert_uint_eq(rights_at(1, VA_DST), L4_RWX);
    PM_CHECK_INVARIANTS(&p);

    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wc, 0, 1, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(rights_at(0, VA_SRC), L4_R | L4_X);
    ck_assert_uint_eq(rights_at(1, VA_DST), L4_R | L4_X);
    struct pm_frame_info ai = info(0, a, 0), ci = info(2, c, 0);
    ck_assert(ai.cow && ci.cow);
    ck_assert_uint_eq(ai.group_size, 2);
    ck_assert_uint_eq(ci.group_size, 1);
    ck_assert_uint_eq(ai.pfn.n, ci.pfn.n);

    fill(1, b, 0, VA_DST, 0x600); /* FORCE_WRITE: breaks for the group */
    PM_CHECK_INVARIANTS(&p);
    struct pm_frame_info a2 = info(0, a, 0), b2 = info(1, b, 0), c2 = info(2, c, 0);
    ck_assert_uint_eq(a2.pfn.n, b2.pfn.n);
    ck_assert_uint_ne(a2.pfn.n, c2.pfn.n);
    ck_assert(!a2.cow && !b2.cow && !c2.cow);
    ck_assert_uint_eq(a2.group_size, 2);
    EXPECT_FRAME(0, a, 0, 0x600);
    EXPECT_FRAME(2, c, 0, 0x100);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A copy into a member of a share group takes only that frame out. */
START_TEST(test_copy_into_group_member)
{
    static const unsigned flags[] = {0, CONT_COPY_SHARED};
    for (size_t k = 0; k < 2; k++) {
        container_t a = make(0, 0, 2), b = make(1, 0, 1);
        fill_range(0, a, 0, 2, VA_SRC, 0x100);
        container_t wb = share(1, b, 0);
        frame_t fe = SENTINEL;
        ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_SHARED, &fe),
                         PM_OK);
        map_frames(1, b, 0, 1, CONT_MAP_WRITE, VA_DST);
        uint32_t pfn0 = info(0, a, 0).pfn.n;
        ck_assert_uint_eq(info(1, b, 0).group_size, 2);
        PM_CHECK_INVARIANTS(&p);

        /* Frame 1 of a into b's frame 0, the group's other member. */
        ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 1, wb, 0, 1, flags[k], &fe), PM_OK);
        PM_CHECK_INVARIANTS(&p);
        ck_assert_uint_eq(fe, SENTINEL);
        struct pm_frame_info a0 = info(0, a, 0), a1 = info(0, a, 1), b0 = info(1, b, 0);
        ck_assert_uint_eq(a0.group_size, 1);
        ck_assert_uint_eq(a0.pfn.n, pfn0);
        ck_assert(!a0.cow);
        ck_assert_uint_eq(b0.pfn.n, a1.pfn.n);
        ck_assert_uint_eq(b0.group_size, flags[k] ? 2 : 1);
        ck_assert_uint_eq(b0.cow, !flags[k]);
        /* a's frame 0 keeps its writable mapping and its bytes; b lost its. */
        ck_assert_uint_eq(rights_at(0, VA_SRC), L4_RWX);
        ck_assert_uint_eq(rights_at(1, VA_DST), 0);
        EXPECT_AT(0, VA_SRC, 0x100);
        EXPECT_FRAME(1, b, 0, 0x101);
        /* Writes to a's frame 0 no longer reach b. */
        fill(0, a, 0, VA_SRC, 0x700);
        PM_CHECK_INVARIANTS(&p);
        EXPECT_FRAME(1, b, 0, 0x101);
        ck_assert_int_eq(pm_container_destroy(p.pm, T(0), a), PM_OK);
        ck_assert_int_eq(pm_container_destroy(p.pm, T(1), b), PM_OK);
        PM_CHECK_INVARIANTS(&p);
    }
}
END_TEST

/* Sharing an unbound frame: the group is bound by its first map, and both
 * members see it. */
START_TEST(test_shared_unbound)
{
    container_t a = make(0, 0, 1), b = make(1, 0, 1);
    container_t wb = share(1, b, 0);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_SHARED, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(info(0, a, 0).group_size, 2);
    fill(1, b, 0, VA_DST, 0x800);
    PM_CHECK_INVARIANTS(&p);
    ck_assert(info(0, a, 0).bound);
    ck_assert_uint_eq(info(0, a, 0).pfn.n, info(1, b, 0).pfn.n);
    EXPECT_FRAME(0, a, 0, 0x800);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* Two unbound members of one group in one container, bound by one map. */
START_TEST(test_shared_unbound_same_container)
{
    container_t a = make(0, 0, 2);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 1, 1, CONT_COPY_SHARED, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(info(0, a, 1).group_size, 2);
    map_frames(0, a, 0, 2, CONT_MAP_WRITE, VA_SRC);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(info(0, a, 0).pfn.n, info(0, a, 1).pfn.n);
    ck_assert_uint_eq(pfn_at(0, VA_SRC), pfn_at(0, VA_SRC + PG));
    unsigned char buf[PG];
    pattern(0x900, buf);
    ck_assert_int_eq(pm_rw(&p, 0, L4_ACCESS_WRITE, VA_SRC, buf, PG), PM_OK);
    EXPECT_AT(0, VA_SRC + PG, 0x900);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- MOVE ------------------------------------------------------------------ */

/* The owner moves with its full capability into a weak one. */
START_TEST(test_move_basic)
{
    container_t a = make(0, 0, 4), b = make(1, 0, 4);
    fill_range(0, a, 0, 4, VA_SRC, 0x100);
    fill_range(1, b, 0, 4, VA_DST, 0x200);
    container_t wb = share(1, b, 0);
    map_frames(2, share(0, a, 2), 0, 4, CONT_MAP_READ, VA_SRC);
    PM_CHECK_INVARIANTS(&p);
    struct pm_stats s0 = stats();
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 4, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(stats().moves - s0.moves, 4);
    ck_assert_uint_eq(stats().logical_copies, s0.logical_copies);
    ck_assert_uint_eq(stats().shared_copies, s0.shared_copies);
    ck_assert_uint_eq(A(0), 0);
    ck_assert_uint_eq(A(1), 4);
    for (frame_t f = 0; f < 4; f++) {
        struct pm_frame_info fi;
        CHECK_EQ(pm_frame_info(p.pm, T(0), a, f, &fi), PM_ENOENT);
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), 0);
        CHECK_EQ(rights_at(2, VA_SRC + f * PG), 0);
        CHECK_EQ(rights_at(1, VA_DST + f * PG), 0);
        unsigned char byte;
        CHECK_EQ(pm_rw(&p, 0, L4_ACCESS_READ, VA_SRC + f * PG, &byte, 1), PM_EFAULT);
        struct pm_frame_info bi = info(1, b, f);
        CHECK(bi.bound && !bi.cow);
        CHECK_EQ(bi.group_size, 1);
        EXPECT_FRAME(1, b, f, 0x100 + f);
    }
    /* The identifiers are free again: allocate, and they read as zeros. */
    uint32_t k = 4;
    ck_assert_int_eq(pm_container_allocate(p.pm, T(0), a, 0, &k, 0), PM_OK);
    ck_assert_uint_eq(A(0), 4);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(0, a, 2, TAG_ZERO);
    EXPECT_FRAME(1, b, 2, 0x102);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A server with weak capabilities to both moves out of one into the other:
 * the frames leave the source container and its owner's A. */
START_TEST(test_move_weak_out)
{
    container_t a = make(0, 0, 4), b = make(1, 0, 8);
    fill_range(0, a, 0, 4, VA_SRC, 0x100);
    fill_range(1, b, 0, 8, VA_DST, 0x200);
    container_t wa = share(0, a, 2), wb = share(1, b, 2);
    PM_CHECK_INVARIANTS(&p);
    static const frame_t dl[4] = {7, 5, 6, 4};
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, T(2), wa, 0, wb, dl, 4, CONT_COPY_MOVE, &fe),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 0);
    ck_assert_uint_eq(A(1), 8);
    ck_assert_uint_eq(A(2), 0);
    for (frame_t f = 0; f < 4; f++) {
        CHECK(!exists(0, a, f));
        CHECK(!exists(2, wa, f));
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), 0);
        CHECK_EQ(rights_at(1, VA_DST + (uint64_t)dl[f] * PG), 0);
        CHECK_EQ(rights_at(1, VA_DST + f * PG), L4_RWX);
        EXPECT_FRAME(2, wb, dl[f], 0x100 + f);
        EXPECT_AT(1, VA_DST + f * PG, 0x200 + f);
    }
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* MOVE of a frame in a share group puts the destination in its place. */
START_TEST(test_move_share_group)
{
    container_t a = make(0, 0, 1), b = make(1, 0, 1), c = make(2, 0, 1);
    fill(0, a, 0, VA_SRC, 0x100);
    container_t wb = share(1, b, 0), wc = share(2, c, 0);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wc, 0, 1, CONT_COPY_SHARED, &fe), PM_OK);
    map_frames(2, c, 0, 1, CONT_MAP_WRITE, VA_DST);
    PM_CHECK_INVARIANTS(&p);
    uint32_t pfn = info(0, a, 0).pfn.n;

    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert(!exists(0, a, 0));
    ck_assert_uint_eq(A(0), 0);
    ck_assert_uint_eq(A(1), 1);
    ck_assert_uint_eq(A(2), 1);
    ck_assert_uint_eq(rights_at(0, VA_SRC), 0);
    ck_assert_uint_eq(rights_at(2, VA_DST), L4_RWX); /* the other member keeps its mapping */
    struct pm_frame_info bi = info(1, b, 0), ci = info(2, c, 0);
    ck_assert_uint_eq(bi.group_size, 2);
    ck_assert_uint_eq(ci.group_size, 2);
    ck_assert_uint_eq(bi.pfn.n, pfn);
    ck_assert_uint_eq(ci.pfn.n, pfn);
    ck_assert(!bi.cow && !ci.cow);
    EXPECT_FRAME(1, b, 0, 0x100);

    /* They share: a write through either is seen through the other. */
    fill(2, c, 0, VA_DST, 0x101);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(1, b, 0, 0x101);
    fill(1, b, 0, VA_SRC, 0x102);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_AT(2, VA_DST, 0x102);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* MOVE of a copy-on-write frame: the destination stays a logical copy. */
START_TEST(test_move_cow_frame)
{
    container_t a = make(0, 0, 1), b = make(1, 0, 1), c = make(2, 0, 1);
    fill(0, a, 0, VA_SRC, 0x100);
    container_t wb = share(1, b, 0), wc = share(2, c, 0);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wc, 0, 1, 0, &fe), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert(!exists(0, a, 0));
    struct pm_frame_info bi = info(1, b, 0), ci = info(2, c, 0);
    ck_assert(bi.cow && ci.cow);
    ck_assert_uint_eq(bi.pfn.n, ci.pfn.n);
    fill(1, b, 0, VA_DST, 0x200);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(2, c, 0, 0x100);
    EXPECT_FRAME(1, b, 0, 0x200);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* MOVE within one container, to identifiers that do not overlap. */
START_TEST(test_move_within_container)
{
    container_t a = make(0, 0, 8);
    fill_range(0, a, 0, 8, VA_SRC, 0x100);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 4, 2, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(A(0), 6);
    static const frame_t s[2] = {2, 3}, d[2] = {7, 6};
    ck_assert_int_eq(
        pm_container_copy_scatter_gather(p.pm, T(0), a, s, a, d, 2, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 4);
    for (frame_t f = 0; f < 4; f++) {
        CHECK(!exists(0, a, f));
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), 0);
    }
    EXPECT_FRAME(0, a, 4, 0x100);
    EXPECT_FRAME(0, a, 5, 0x101);
    EXPECT_FRAME(0, a, 6, 0x103);
    EXPECT_FRAME(0, a, 7, 0x102);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A MOVE within one container tells disjoint ranges from overlapping ones
 * without visiting every identifier: a huge disjoint one fails at its
 * first pair at once, a huge overlapping one is EINVAL at once. */
START_TEST(test_move_huge_ranges)
{
    container_t a = make(0, 0, 2);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(
        pm_container_copy(p.pm, T(0), a, 0, a, 0x80000000u, 0x80000000u, CONT_COPY_MOVE, &fe),
        PM_ENOMEM);
    ck_assert_uint_eq(fe, 0x80000000u);
    fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 1, a, 0, UINT32_MAX - 1, CONT_COPY_MOVE, &fe),
                     PM_EINVAL);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 2);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- events ------------------------------------------------------------------- */

struct evlog {
    struct pm_event ev[64];
    size_t n;
};

static void ev_record(void *ctx, const struct pm_event *ev)
{
    struct evlog *l = ctx;
    if (l->n < 64)
        l->ev[l->n] = *ev;
    l->n++;
}

/* The copy and move events of LOG, in order, into OUT (at most MAX). */
static size_t copy_events(const struct evlog *log, struct pm_event *out, size_t max)
{
    size_t k = 0;
    CHECK(log->n <= 64);
    for (size_t i = 0; i < log->n; i++)
        if ((log->ev[i].kind == PM_EV_COPY || log->ev[i].kind == PM_EV_MOVE) && k < max)
            out[k++] = log->ev[i];
    return k;
}

START_TEST(test_events)
{
    container_t a = make(0, 0, 4), b = make(1, 0, 4);
    container_t wb = share(1, b, 0);
    fill_range(0, a, 0, 4, VA_SRC, 0x100);
    struct evlog log = {.n = 0};
    struct pm_event ev[8];
    pm_set_event_hook(p.pm, ev_record, &log);
    static const frame_t d[3] = {3, 0, 2};
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, T(0), a, 1, wb, d, 3, 0, &fe), PM_OK);
    ck_assert_uint_eq(copy_events(&log, ev, 8), 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(ev[i].kind, PM_EV_COPY);
        ck_assert_uint_eq(ev[i].task, T(0));
        ck_assert_uint_eq(ev[i].frame, 1 + i);
        ck_assert_uint_eq(ev[i].to_frame, d[i]);
        ck_assert_uint_eq(ev[i].count, 1);
        ck_assert_uint_ne(ev[i].container, ev[i].to_container);
        ck_assert_uint_eq(ev[i].container, ev[0].container);
        ck_assert_uint_eq(ev[i].to_container, ev[0].to_container);
    }
    uint32_t aid = ev[0].container, bid = ev[0].to_container;
    /* A failure with ALL_OR_NONE reports nothing copied. */
    log.n = 0;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 2, 3, AON, &fe), PM_ENOMEM);
    ck_assert_uint_eq(fe, 4);
    ck_assert_uint_eq(copy_events(&log, ev, 8), 0);
    /* A move. */
    log.n = 0;
    fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 1, 1, CONT_COPY_MOVE, &fe), PM_OK);
    ck_assert_uint_eq(copy_events(&log, ev, 8), 1);
    ck_assert_int_eq(ev[0].kind, PM_EV_MOVE);
    ck_assert_uint_eq(ev[0].container, aid);
    ck_assert_uint_eq(ev[0].to_container, bid);
    ck_assert_uint_eq(ev[0].frame, 0);
    ck_assert_uint_eq(ev[0].to_frame, 1);
    pm_set_event_hook(p.pm, NULL, NULL);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- EINVAL ---------------------------------------------------------------- */

struct inval_row {
    const char *name;
    enum variant v;
    bool same;     /* source and destination are one container */
    bool null_src; /* the list variants with a NULL list */
    bool null_dst;
    unsigned flags;
    uint32_t n;
    frame_t s[4], d[4];
};

static const struct inval_row inval_rows[] = {
    {"count 0 copy", V_COPY, false, false, false, 0, 0, {0}, {0}},
    {"count 0 scatter", V_SCATTER, false, false, false, 0, 0, {0}, {0}},
    {"count 0 gather", V_GATHER, false, false, false, 0, 0, {0}, {0}},
    {"count 0 sg", V_SG, false, false, false, 0, 0, {0}, {0}},
    {"count 0 move", V_COPY, false, false, false, CONT_COPY_MOVE, 0, {0}, {0}},
    {"unknown flag", V_COPY, false, false, false, 1u << 3, 1, {0}, {0}},
    {"unknown high flag", V_SG, false, false, false, 1u << 31, 2, {0, 1}, {0, 1}},
    {"move|shared", V_COPY, false, false, false, CONT_COPY_MOVE | CONT_COPY_SHARED, 1, {0}, {0}},
    {"move|shared|aon scatter",
     V_SCATTER,
     false,
     false,
     false,
     CONT_COPY_MOVE | CONT_COPY_SHARED | AON,
     2,
     {0},
     {0, 1}},
    {"duplicate dest scatter", V_SCATTER, false, false, false, 0, 3, {0}, {1, 2, 1}},
    {"duplicate dest 0 scatter", V_SCATTER, false, false, false, 0, 2, {0}, {0, 0}},
    {"duplicate dest sg", V_SG, false, false, false, 0, 3, {0, 1, 2}, {3, 4, 3}},
    {"duplicate dest shared", V_SCATTER, false, false, false, CONT_COPY_SHARED, 2, {0}, {5, 5}},
    {"duplicate dest move", V_SG, false, false, false, CONT_COPY_MOVE, 2, {0, 1}, {2, 2}},
    {"duplicate dest aon", V_SCATTER, false, false, false, AON, 4, {0}, {0, 1, 2, 0}},
    {"move repeated sources gather", V_GATHER, false, false, false, CONT_COPY_MOVE, 2, {0, 0}, {4}},
    {"move repeated sources sg",
     V_SG,
     false,
     false,
     false,
     CONT_COPY_MOVE,
     3,
     {1, 2, 1},
     {4, 5, 6}},
    {"move overlap forward", V_COPY, true, false, false, CONT_COPY_MOVE, 4, {0}, {2}},
    {"move overlap backward", V_COPY, true, false, false, CONT_COPY_MOVE, 4, {2}, {0}},
    {"move onto itself", V_COPY, true, false, false, CONT_COPY_MOVE, 1, {3}, {3}},
    {"move overlap sg", V_SG, true, false, false, CONT_COPY_MOVE, 2, {0, 1}, {5, 0}},
    {"move overlap scatter", V_SCATTER, true, false, false, CONT_COPY_MOVE, 2, {0}, {6, 1}},
    {"move overlap gather", V_GATHER, true, false, false, CONT_COPY_MOVE, 2, {4, 5}, {3}},
    {"move overlap aon", V_COPY, true, false, false, CONT_COPY_MOVE | AON, 8, {0}, {7}},
    {"src range past 2^32", V_COPY, false, false, false, 0, 3, {UINT32_MAX - 1}, {0}},
    {"dest range past 2^32", V_COPY, false, false, false, 0, 2, {0}, {UINT32_MAX}},
    {"src range past 2^32 scatter", V_SCATTER, false, false, false, 0, 2, {UINT32_MAX}, {0, 1}},
    {"dest range past 2^32 gather",
     V_GATHER,
     false,
     false,
     false,
     0,
     4,
     {0, 1, 2, 3},
     {UINT32_MAX - 2}},
    {"huge count", V_COPY, false, false, false, 0, UINT32_MAX, {2}, {0}},
    {"null dest list", V_SCATTER, false, false, true, 0, 1, {0}, {0}},
    {"null src list", V_GATHER, false, true, false, 0, 1, {0}, {0}},
    {"null lists", V_SG, false, true, true, 0, 1, {0}, {0}},
};

/* Task 0 owns a (frames 0 … 7) and b (frames 0 … 7); every malformed call
 * fails with EINVAL and changes nothing. */
START_TEST(test_einval)
{
    const struct inval_row *r = &inval_rows[_i];
    container_t a = make(0, 0, 8), b = make(0, 0, 8);
    fill_range(0, a, 0, 8, VA_SRC, 0x100);
    fill_range(0, b, 0, 8, VA_DST, 0x200);
    PM_CHECK_INVARIANTS(&p);
    struct pm_frame_info before[16];
    for (frame_t f = 0; f < 8; f++) {
        before[f] = info(0, a, f);
        before[8 + f] = info(0, b, f);
    }
    struct pm_stats s0 = stats();
    frame_t fe = SENTINEL;
    pm_error_t err = copy_v(r->v, T(0), a, r->null_src ? NULL : r->s, r->same ? a : b,
                            r->null_dst ? NULL : r->d, r->n, r->flags, &fe);
    ck_assert_msg(err == PM_EINVAL, "%s: %s", r->name, pm_strerror(err));
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    struct pm_stats s1 = stats();
    ck_assert_uint_eq(s1.logical_copies, s0.logical_copies);
    ck_assert_uint_eq(s1.shared_copies, s0.shared_copies);
    ck_assert_uint_eq(s1.moves, s0.moves);
    ck_assert_uint_eq(s1.unmaps, s0.unmaps);
    ck_assert_uint_eq(A(0), 16);
    for (frame_t f = 0; f < 8; f++) {
        CHECK(same_info(info(0, a, f), before[f]));
        CHECK(same_info(info(0, b, f), before[8 + f]));
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), L4_RWX);
        CHECK_EQ(rights_at(0, VA_DST + f * PG), L4_RWX);
        EXPECT_AT(0, VA_SRC + f * PG, 0x100 + f);
        EXPECT_AT(0, VA_DST + f * PG, 0x200 + f);
    }
}
END_TEST

/* Near misses of the EINVAL rows: allowed, or another error. */
START_TEST(test_einval_near_misses)
{
    container_t a = make(0, 0, 8), b = make(0, 0, 8);
    fill_range(0, a, 0, 8, VA_SRC, 0x100);
    fill_range(0, b, 0, 8, VA_DST, 0x200);
    frame_t fe = SENTINEL;

    /* Repeated sources without MOVE are fine. */
    static const frame_t rep[3] = {1, 1, 6};
    ck_assert_int_eq(pm_container_copy_gather(p.pm, T(0), a, rep, b, 0, 3, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    EXPECT_FRAME(0, b, 0, 0x101);
    EXPECT_FRAME(0, b, 1, 0x101);
    EXPECT_FRAME(0, b, 2, 0x106);

    /* The last identifier, 2^32 − 1, is in range: a missing frame there. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, UINT32_MAX, b, 3, 1, 0, &fe), PM_ENOENT);
    ck_assert_uint_eq(fe, UINT32_MAX);
    fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 3, b, UINT32_MAX, 1, 0, &fe), PM_ENOMEM);
    ck_assert_uint_eq(fe, UINT32_MAX);
    fe = SENTINEL;
    static const frame_t top[2] = {UINT32_MAX, 4};
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, T(0), a, 3, b, top, 2, 0, &fe), PM_ENOMEM);
    ck_assert_uint_eq(fe, UINT32_MAX);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(0, b, 3, 0x203);
    EXPECT_FRAME(0, b, 4, 0x204);

    /* MOVE between two containers with the same identifiers: no overlap. */
    fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 4, b, 4, 4, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 12);
    EXPECT_FRAME(0, b, 4, 0x104);
    EXPECT_FRAME(0, b, 7, 0x107);

    /* A frame shared onto itself stays as it is. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 2, a, 2, 1, CONT_COPY_SHARED, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(info(0, a, 2).group_size, 1);
    EXPECT_FRAME(0, a, 2, 0x102);

    /* The same container through a second handle (the owner's own weak
     * one) is still one container for the MOVE overlap rule. */
    container_t wa = share(0, a, 0);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wa, 1, 2, CONT_COPY_MOVE, &fe), PM_EINVAL);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 12);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- one container, overlapping ranges ---------------------------------- */

/* 0 … 7 onto 4 … 11: as if every source were read first. */
START_TEST(test_overlap_forward)
{
    container_t a = make(0, 0, 12);
    fill_range(0, a, 0, 12, VA_SRC, 0x100);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 4, 8, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 12);
    for (frame_t f = 0; f < 12; f++)
        EXPECT_FRAME(0, a, f, f < 4 ? 0x100 + f : 0x100 + f - 4);
    for (frame_t f = 0; f < 4; f++)
        CHECK_EQ(info(0, a, f).pfn.n, info(0, a, f + 4).pfn.n);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* 4 … 11 onto 0 … 7. */
START_TEST(test_overlap_backward)
{
    container_t a = make(0, 0, 12);
    fill_range(0, a, 0, 12, VA_SRC, 0x100);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 4, a, 0, 8, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    for (frame_t f = 0; f < 12; f++)
        EXPECT_FRAME(0, a, f, f < 8 ? 0x104 + f : 0x100 + f);
    /* 8 … 11 were not copied into: their writable mappings stayed
     * (read-only now, as sources). */
    for (frame_t f = 8; f < 12; f++)
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), L4_R | L4_X);
    for (frame_t f = 0; f < 8; f++)
        CHECK_EQ(rights_at(0, VA_SRC + f * PG), 0);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* The same with real sharing: 4 … 11 hold the old 0 … 7; each of 4 … 7
 * shares with its source, and 8 … 11 with nobody (their sources left). */
START_TEST(test_overlap_shared)
{
    container_t a = make(0, 0, 12);
    fill_range(0, a, 0, 12, VA_SRC, 0x100);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 4, 8, CONT_COPY_SHARED, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    for (frame_t f = 0; f < 12; f++)
        EXPECT_FRAME(0, a, f, f < 4 ? 0x100 + f : 0x100 + f - 4);
    for (frame_t f = 0; f < 8; f++)
        CHECK_EQ(info(0, a, f).group_size, 2);
    for (frame_t f = 8; f < 12; f++)
        CHECK_EQ(info(0, a, f).group_size, 1);
    for (frame_t f = 0; f < 12; f++)
        CHECK(!info(0, a, f).cow);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* A frame copied onto itself keeps its bytes and is nobody's copy. */
START_TEST(test_self_copy)
{
    container_t a = make(0, 0, 2);
    fill_range(0, a, 0, 2, VA_SRC, 0x100);
    uint32_t pfn = info(0, a, 1).pfn.n;
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 1, a, 1, 1, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    struct pm_frame_info fi = info(0, a, 1);
    ck_assert(fi.bound && !fi.cow);
    ck_assert_uint_eq(fi.pfn.n, pfn);
    ck_assert_uint_eq(fi.group_size, 1);
    EXPECT_FRAME(0, a, 1, 0x101);
    EXPECT_FRAME(0, a, 0, 0x100);
    ck_assert_uint_eq(A(0), 2);
    PM_CHECK_INVARIANTS(&p);
    /* Writable again without a copy-on-write break. */
    uint64_t breaks = stats().cow_breaks;
    fill(0, a, 1, VA_SRC + PG, 0x200);
    ck_assert_uint_eq(stats().cow_breaks, breaks);
    EXPECT_FRAME(0, a, 1, 0x200);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* An in-place reversal of 0 … 7 with a gather list. */
START_TEST(test_reverse_in_place)
{
    container_t a = make(0, 0, 8);
    fill_range(0, a, 0, 8, VA_SRC, 0x100);
    static const frame_t rev[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy_gather(p.pm, T(0), a, rev, a, 0, 8, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    for (frame_t f = 0; f < 8; f++)
        EXPECT_FRAME(0, a, f, 0x107 - f);
    PM_CHECK_INVARIANTS(&p);
    /* And a swap of two frames with scatter-gather. */
    static const frame_t s[2] = {0, 1}, d[2] = {1, 0};
    ck_assert_int_eq(pm_container_copy_scatter_gather(p.pm, T(0), a, s, a, d, 2, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(0, a, 0, 0x106);
    EXPECT_FRAME(0, a, 1, 0x107);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- error precedence and leases ---------------------------------------- */

START_TEST(test_precedence)
{
    container_t a = make(0, 0, 4), b = make(1, 0, 4);
    fill_range(0, a, 0, 4, VA_SRC, 0x100);
    fill_range(1, b, 0, 4, VA_DST, 0x200);
    container_t wb0 = share(1, b, 0); /* task 0's weak handle to b */
    container_t wa2 = share(0, a, 2), wb2 = share(1, b, 2);
    l4_task_t stranger; /* a kernel task physmem does not know */
    (void)world_task(&p.w, &stranger);
    frame_t fe = SENTINEL;
    static const frame_t l2[2] = {0, 1};

    /* ESRCH first: even with nothing else right. */
    ck_assert_int_eq(
        pm_container_copy(p.pm, stranger, BOGUS_HANDLE, 0, BOGUS_HANDLE, 0, 0, 99, &fe), PM_ESRCH);
    ck_assert_int_eq(pm_container_copy(p.pm, 4242, a, 0, wb0, 0, 1, 0, &fe), PM_ESRCH);
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, stranger, a, 0, wb0, NULL, 1, 0, &fe),
                     PM_ESRCH);
    ck_assert_int_eq(pm_container_copy_gather(p.pm, stranger, a, NULL, wb0, 0, 1, 0, &fe),
                     PM_ESRCH);
    ck_assert_int_eq(
        pm_container_copy_scatter_gather(p.pm, stranger, a, NULL, wb0, NULL, 1, 0, &fe), PM_ESRCH);
    ck_assert_int_eq(pm_container_copy_scatter_gather(p.pm, stranger, a, l2, wb0, l2, 2, 0, &fe),
                     PM_ESRCH);
    /* EINVAL before EBADF. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), BOGUS_HANDLE, 0, wb0, 0, 0, 0, &fe), PM_EINVAL);
    ck_assert_int_eq(
        pm_container_copy(p.pm, T(0), a, 0, PM_CONTAINER_NONE, 0, 1, CONT_COPY_MOVE | 1, &fe),
        PM_EINVAL);
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, T(0), BOGUS_HANDLE, 0, wb0, NULL, 1, 0, &fe),
                     PM_EINVAL);
    /* EBADF: no handle, a bogus one, another task's, the owner's own full
     * handle used by someone else. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), PM_CONTAINER_NONE, 0, wb0, 0, 1, 0, &fe),
                     PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, BOGUS_HANDLE, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, b, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(3), a, 0, wb0, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_uint_eq(fe, SENTINEL);
    PM_CHECK_INVARIANTS(&p);

    /* The server locks a through its weak capability. */
    ck_assert_int_eq(pm_container_lock(p.pm, T(2), wa2, 1000), PM_OK);
    /* The owner may not copy out of it or into it. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb0, 0, 1, 0, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), wb0, 0, a, 0, 1, 0, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 1, 1, CONT_COPY_SHARED, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy_scatter_gather(p.pm, T(0), a, l2, wb0, l2, 2, 0, &fe),
                     PM_EBUSY);
    /* EBADF before EBUSY, EINVAL before EBUSY. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, BOGUS_HANDLE, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), BOGUS_HANDLE, 0, a, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb0, 0, 0, 0, &fe), PM_EINVAL);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 1, 2, CONT_COPY_MOVE, &fe), PM_EINVAL);
    /* EBUSY before the per-frame errors: frame_error untouched. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb0, 9, 1, 0, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 9, wb0, 0, 1, 0, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), wb0, 9, a, 8, 1, 0, &fe), PM_EBUSY);
    ck_assert_uint_eq(fe, SENTINEL);
    /* A full capability given to another task is just as blocked. */
    container_t fa3 = PM_CONTAINER_NONE;
    ck_assert_int_eq(pm_container_give(p.pm, T(0), a, T(3), &fa3), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(3), fa3, 0, fa3, 1, 1, 0, &fe), PM_EBUSY);
    PM_CHECK_INVARIANTS(&p);
    /* Nothing moved. */
    ck_assert_uint_eq(rights_at(0, VA_SRC), L4_RWX);
    ck_assert_uint_eq(rights_at(1, VA_DST), L4_RWX);
    EXPECT_AT(1, VA_DST, 0x200);
    EXPECT_AT(0, VA_SRC + PG, 0x101);

    /* The server holding the lease copies out of and into a. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wa2, 0, wb2, 0, 1, 0, &fe), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wb2, 1, wa2, 3, 1, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    EXPECT_FRAME(2, wb2, 0, 0x100);
    EXPECT_FRAME(2, wa2, 3, 0x201);
    /* Its per-frame errors come as usual. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wa2, 0, wb2, 3, 2, 0, &fe), PM_ENOMEM);
    ck_assert_uint_eq(fe, 4);
    fe = SENTINEL;

    /* Unlocked: the owner copies again. */
    ck_assert_int_eq(pm_container_unlock(p.pm, T(2), wa2), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 1, wb0, 2, 1, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(1, b, 2, 0x101);
    /* b locked now: its owner's full capability is EBUSY until the lease
     * expires (it holds while now < start + duration).  Task 0 reaches b
     * only through a weak capability, which a lease does not block (SPEC
     * §3.9: the holders of full capabilities get EBUSY). */
    ck_assert_int_eq(pm_container_lock(p.pm, T(2), wb2, 100), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), b, 0, b, 1, 1, 0, &fe), PM_EBUSY);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 1, wb0, 3, 1, 0, &fe), PM_OK);
    l4_clock_advance(p.w.k, 99);
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), b, 0, b, 1, 1, 0, &fe), PM_EBUSY);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(2, wb2, 1, 0x201);
    l4_clock_advance(p.w.k, 1);
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), b, 0, b, 1, 1, 0, &fe), PM_OK);
    ck_assert_uint_eq(fe, SENTINEL);
    PM_CHECK_INVARIANTS(&p);
    EXPECT_FRAME(1, b, 3, 0x101);
    EXPECT_FRAME(1, b, 1, 0x100);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* Stale handles: revoked, destroyed. */
START_TEST(test_stale_handles)
{
    container_t a = make(0, 0, 2), b = make(1, 0, 2);
    fill_range(0, a, 0, 2, VA_SRC, 0x100);
    container_t wb = share(1, b, 0), wa2 = share(0, a, 2);
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, 0, &fe), PM_OK);
    ck_assert_int_eq(pm_container_revoke(p.pm, T(1), b, wb), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, wb, 7, 1, 0, &fe), PM_EBADF);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_int_eq(pm_container_destroy(p.pm, T(0), a), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wa2, 0, wa2, 1, 1, 0, &fe), PM_EBADF);
    ck_assert_int_eq(pm_container_copy(p.pm, T(0), a, 0, a, 1, 1, 0, &fe), PM_EBADF);
    ck_assert_uint_eq(fe, SENTINEL);
    PM_CHECK_INVARIANTS(&p);
    /* b's copy of a's frame 0 survived a's destruction. */
    EXPECT_FRAME(1, b, 0, 0x100);
    ck_assert(!info(1, b, 0).cow);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- weak capabilities ---------------------------------------------------- */

START_TEST(test_weak_copy_in_out)
{
    container_t a = make(0, 0, 4), b = make(1, 0, 4);
    fill_range(0, a, 0, 4, VA_SRC, 0x100);
    fill_range(1, b, 0, 4, VA_DST, 0x200);
    container_t wa = share(0, a, 2), wb = share(1, b, 2);
    frame_t fe = SENTINEL;
    /* Out of a, into b: both weak. */
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wa, 0, wb, 0, 2, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    /* Into a from b, shared. */
    static const frame_t d[1] = {3};
    ck_assert_int_eq(pm_container_copy_scatter(p.pm, T(2), wb, 2, wa, d, 1, CONT_COPY_SHARED, &fe),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), 4);
    ck_assert_uint_eq(A(1), 4);
    ck_assert_uint_eq(A(2), 0);
    EXPECT_FRAME(1, b, 0, 0x100);
    EXPECT_FRAME(1, b, 1, 0x101);
    EXPECT_FRAME(0, a, 3, 0x202);
    ck_assert_uint_eq(info(0, a, 3).group_size, 2);
    ck_assert_uint_eq(rights_at(0, VA_SRC), L4_R | L4_X);
    ck_assert_uint_eq(rights_at(1, VA_DST), 0);
    ck_assert_uint_eq(rights_at(0, VA_SRC + 3 * PG), 0);
    ck_assert_uint_eq(rights_at(1, VA_DST + 2 * PG), L4_RWX);
    /* Revoked: the weak handle stops working. */
    ck_assert_int_eq(pm_container_revoke(p.pm, T(1), b, wb), PM_OK);
    ck_assert_int_eq(pm_container_copy(p.pm, T(2), wa, 0, wb, 0, 1, 0, &fe), PM_EBADF);
    ck_assert_uint_eq(fe, SENTINEL);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- lists in arbitrary order --------------------------------------------- */

struct order_row {
    enum variant v;
    uint32_t n;
    frame_t s[16], d[16];
};

static const struct order_row order_rows[] = {
    {V_SG,
     16,
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
    {V_SG,
     16,
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
     {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
    {V_SG,
     16,
     {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
    {V_SG,
     16,
     {9, 3, 14, 0, 7, 12, 5, 1, 15, 10, 2, 8, 13, 6, 11, 4},
     {4, 11, 6, 13, 8, 2, 10, 15, 1, 5, 12, 7, 0, 14, 3, 9}},
    {V_SG, 5, {12, 3, 3, 8, 0}, {1, 14, 7, 0, 9}},
    {V_SCATTER, 8, {4}, {11, 0, 15, 3, 8, 6, 13, 1}},
    {V_GATHER, 8, {2, 15, 9, 0, 11, 6, 13, 4}, {5}},
    {V_SG, 3, {15, 0, 7}, {0, 15, 7}},
};

START_TEST(test_orders)
{
    const struct order_row *r = &order_rows[_i];
    container_t a = make(0, 0, 16), b = make(1, 0, 16);
    fill_range(0, a, 0, 16, VA_SRC, 0x100);
    fill_range(1, b, 0, 16, VA_DST, 0x200);
    container_t wa = share(0, a, 1);
    uint32_t want[16];
    for (frame_t f = 0; f < 16; f++)
        want[f] = 0x200 + f;
    for (uint32_t i = 0; i < r->n; i++) {
        frame_t sf = r->v == V_SCATTER ? r->s[0] + i : r->s[i];
        frame_t df = r->v == V_GATHER ? r->d[0] + i : r->d[i];
        want[df] = 0x100 + sf;
    }
    frame_t fe = SENTINEL;
    ck_assert_int_eq(copy_v(r->v, T(1), wa, r->s, b, r->d, r->n, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    for (frame_t f = 0; f < 16; f++) {
        EXPECT_FRAME(1, b, f, want[f]);
        EXPECT_FRAME(0, a, f, 0x100 + f);
    }
    ck_assert_uint_eq(A(0), 16);
    ck_assert_uint_eq(A(1), 16);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- large ----------------------------------------------------------------- */

#define LARGE 1024u

START_TEST(test_large)
{
    container_t a = make(0, 0, LARGE), b = make(1, 0, LARGE), c = make(2, 0, LARGE);
    fill_range(0, a, 0, LARGE, VA_SRC, 0x10000);
    container_t wa = share(0, a, 1), wc = share(2, c, 1);
    PM_CHECK_INVARIANTS(&p);
    struct pm_stats s0 = stats();
    frame_t fe = SENTINEL;
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), wa, 0, b, 0, LARGE, 0, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(stats().logical_copies - s0.logical_copies, LARGE);
    for (frame_t f = 0; f < LARGE; f++) {
        struct pm_frame_info ai = info(0, a, f), bi = info(1, b, f);
        CHECK(ai.cow && bi.cow);
        CHECK_EQ(ai.pfn.n, bi.pfn.n);
        CHECK_EQ(rights_at(0, VA_SRC + (uint64_t)f * PG), L4_R | L4_X);
    }
    for (frame_t f = 0; f < LARGE; f += 37)
        EXPECT_FRAME(1, b, f, 0x10000 + f);
    EXPECT_FRAME(1, b, LARGE - 1, 0x10000 + LARGE - 1);

    /* Reversed into c, then all of b moved into c's upper half after
     * c's lower half is released: a scatter-gather of 1024 pairs. */
    static frame_t rev[LARGE], id[LARGE];
    for (frame_t f = 0; f < LARGE; f++) {
        rev[f] = LARGE - 1 - f;
        id[f] = f;
    }
    ck_assert_int_eq(pm_container_copy_scatter_gather(p.pm, T(1), b, id, wc, rev, LARGE, 0, &fe),
                     PM_OK);
    PM_CHECK_INVARIANTS(&p);
    for (frame_t f = 0; f < LARGE; f += 41)
        EXPECT_FRAME(1, wc, f, 0x10000 + LARGE - 1 - f);
    ck_assert_int_eq(pm_container_copy(p.pm, T(1), b, 0, wc, 0, LARGE, CONT_COPY_MOVE, &fe), PM_OK);
    PM_CHECK_INVARIANTS(&p);
    ck_assert_uint_eq(fe, SENTINEL);
    ck_assert_uint_eq(A(0), LARGE);
    ck_assert_uint_eq(A(1), 0);
    ck_assert_uint_eq(A(2), LARGE);
    for (frame_t f = 0; f < LARGE; f += 43)
        EXPECT_FRAME(1, wc, f, 0x10000 + f);
    EXPECT_FRAME(1, wc, LARGE - 1, 0x10000 + LARGE - 1);
    PM_CHECK_INVARIANTS(&p);
}
END_TEST

/* ---- the suite ----------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("copy");
    const struct {
        const char *name;
        const TTest *test;
    } cases[] = {
        {"logical_basic", test_logical_basic},
        {"logical_unbound_source", test_logical_unbound_source},
        {"null_frame_error", test_null_frame_error},
        {"shared_basic", test_shared_basic},
        {"shared_group_logical_copy", test_shared_group_logical_copy},
        {"copy_into_group_member", test_copy_into_group_member},
        {"shared_unbound", test_shared_unbound},
        {"shared_unbound_same_container", test_shared_unbound_same_container},
        {"move_basic", test_move_basic},
        {"move_weak_out", test_move_weak_out},
        {"move_share_group", test_move_share_group},
        {"move_cow_frame", test_move_cow_frame},
        {"move_within_container", test_move_within_container},
        {"einval_near_misses", test_einval_near_misses},
        {"events", test_events},
        {"overlap_forward", test_overlap_forward},
        {"overlap_backward", test_overlap_backward},
        {"overlap_shared", test_overlap_shared},
        {"self_copy", test_self_copy},
        {"reverse_in_place", test_reverse_in_place},
        {"precedence", test_precedence},
        {"stale_handles", test_stale_handles},
        {"weak_copy_in_out", test_weak_copy_in_out},
        {"large", test_large},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TCase *tc = tcase_create(cases[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, cases[i].test);
        suite_add_tcase(s, tc);
    }
    const struct {
        const char *name;
        const TTest *test;
        int n;
    } loops[] = {
        {"frame_error", test_frame_error, (int)(sizeof fe_rows / sizeof fe_rows[0])},
        {"einval", test_einval, (int)(sizeof inval_rows / sizeof inval_rows[0])},
        {"orders", test_orders, (int)(sizeof order_rows / sizeof order_rows[0])},
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        TCase *tc = tcase_create(loops[i].name);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_loop_test(tc, loops[i].test, 0, loops[i].n);
        suite_add_tcase(s, tc);
    }
    /* Linear work here takes minutes and gigabytes: fail fast instead. */
    TCase *tc = tcase_create("move_huge_ranges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 3);
    tcase_add_test(tc, test_move_huge_ranges);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
