/* test-fpage.c — flexpages and messages.  The range decomposition is
 * checked exhaustively over small ranges and alignments against a search
 * for the fewest pieces (dynamic programming over every valid choice), and
 * for an exact, ordered, doubly aligned cover.  Messages: the tag, word and
 * item layout, the 64-register bound (31 items), and round trips. */
#include "harness.h"

#define SHIFT 12
#define PG (1ull << SHIFT)

START_TEST(test_fpage_encoding)
{
    l4_fpage_t f = l4_fpage(0x1234000, 12, L4_RW);
    ck_assert_uint_eq(l4_fpage_base(f), 0x1234000);
    ck_assert_uint_eq(l4_fpage_log2size(f), 12);
    ck_assert_uint_eq(l4_fpage_size(f), 4096);
    ck_assert_uint_eq(l4_fpage_rights(f), L4_RW);
    f = l4_fpage_with_rights(f, L4_X);
    ck_assert_uint_eq(l4_fpage_rights(f), L4_X);
    ck_assert_uint_eq(l4_fpage_base(f), 0x1234000);
    ck_assert_uint_eq(l4_fpage_log2size(f), 12);
    f = l4_fpage(0x7F0000000000ull, 40, L4_RWX);
    ck_assert_uint_eq(l4_fpage_base(f), 0x7F0000000000ull);
    ck_assert_uint_eq(l4_fpage_size(f), 1ull << 40);
}
END_TEST

START_TEST(test_fpage_valid)
{
    ck_assert(l4_fpage_valid(l4_fpage(0, 12, L4_R), 12));
    ck_assert(l4_fpage_valid(l4_fpage(0x10000, 16, L4_R), 12));
    ck_assert(!l4_fpage_valid(l4_fpage(0x11000, 16, L4_R), 12));          /* unaligned */
    ck_assert(!l4_fpage_valid(l4_fpage(0x1000, 11, L4_R), 12));           /* below a page */
    ck_assert(!l4_fpage_valid(l4_fpage(0x2000, 12, L4_R), 14));           /* below a 16K page */
    ck_assert(l4_fpage_valid(l4_fpage(0, L4_VADDR_BITS, L4_R), 12));      /* all of it */
    ck_assert(!l4_fpage_valid(l4_fpage(0, L4_VADDR_BITS + 1, L4_R), 12)); /* too big */
    ck_assert(!l4_fpage_valid(l4_fpage(L4_VADDR_LIMIT, 12, L4_R), 12));   /* outside */
    ck_assert(l4_fpage_valid(l4_fpage(L4_VADDR_LIMIT - PG, 12, L4_R), 12));
}
END_TEST

/* The fewest fpages for src..+len at dst, by exhaustive search. */
static unsigned fewest(uint64_t src, uint64_t dst, uint64_t pages)
{
    unsigned best[65];
    best[pages] = 0;
    for (int64_t o = (int64_t)pages - 1; o >= 0; o--) {
        unsigned b = ~0u;
        for (unsigned s = 0; (1ull << s) <= pages - (uint64_t)o; s++) {
            uint64_t a = src / PG + (uint64_t)o, d = dst / PG + (uint64_t)o;
            if ((a | d) & ((1ull << s) - 1))
                break;
            unsigned c = 1 + best[(uint64_t)o + (1ull << s)];
            if (c < b)
                b = c;
        }
        best[o] = b;
    }
    return best[0];
}

/* Every source alignment 0..31 pages, destination 0..31, length 1..64. */
START_TEST(test_cover_exhaustive)
{
    uint64_t src = (uint64_t)_i * PG + 0x40000000;
    l4_fpage_t out[64];
    for (uint64_t d = 0; d < 32; d++) {
        uint64_t dst = d * PG + 0x7000000;
        for (uint64_t pages = 1; pages <= 64; pages++) {
            uint64_t covered = 0;
            size_t n = l4_fpage_cover(src, dst, pages * PG, SHIFT, L4_RW, out, 64, &covered);
            CHECK_EQ(covered, pages * PG);
            CHECK_EQ(n, fewest(src, dst, pages));
            uint64_t at = src;
            for (size_t i = 0; i < n; i++) {
                uint64_t size = l4_fpage_size(out[i]), off = at - src;
                CHECK_EQ(l4_fpage_base(out[i]), at); /* in order, no gap */
                CHECK(l4_fpage_valid(out[i], SHIFT));
                CHECK_EQ((dst + off) % size, 0); /* aligned at the receiver */
                CHECK_EQ(l4_fpage_rights(out[i]), L4_RW);
                at += size;
            }
            CHECK_EQ(at, src + pages * PG); /* exact cover */
        }
    }
}
END_TEST

START_TEST(test_cover_shapes)
{
    l4_fpage_t out[64];
    uint64_t covered;
    /* Both sides aligned: one fpage for 2 MiB. */
    ck_assert_uint_eq(l4_fpage_cover(0x200000, 0x400000, 0x200000, SHIFT, L4_R, out, 64, &covered),
                      1);
    ck_assert_uint_eq(l4_fpage_log2size(out[0]), 21);
    /* Misaligned by one page at the receiver: page-sized pieces only. */
    ck_assert_uint_eq(l4_fpage_cover(0x200000, 0x401000, 0x10000, SHIFT, L4_R, out, 64, &covered),
                      16);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(l4_fpage_log2size(out[i]), SHIFT);
    /* Offset by 16 KiB: 8 KiB, then 16 KiB where both sides allow, then 8 KiB. */
    ck_assert_uint_eq(l4_fpage_cover(0x2000, 0x6000, 0x8000, SHIFT, L4_R, out, 64, &covered), 3);
    ck_assert_uint_eq(l4_fpage_size(out[1]), 0x4000);
    /* 3 pages from 0: 2 + 1. */
    ck_assert_uint_eq(l4_fpage_cover(0, 0, 3 * PG, SHIFT, L4_R, out, 64, &covered), 2);
    ck_assert_uint_eq(l4_fpage_size(out[0]), 2 * PG);
    /* Big pages. */
    ck_assert_uint_eq(l4_fpage_cover(0, 0, 1ull << 20, 16, L4_R, out, 64, &covered), 1);
    ck_assert_uint_eq(l4_fpage_cover(1ull << 16, 0, 1ull << 17, 16, L4_R, out, 64, &covered), 2);
}
END_TEST

START_TEST(test_cover_limited)
{
    l4_fpage_t out[40];
    uint64_t covered = 1;
    /* 40 misaligned pages, room for 31: 31 pages covered. */
    size_t n = l4_fpage_cover(0x1000, 0x2000 + 0x100000, 40 * PG, SHIFT, L4_R, out, 31, &covered);
    ck_assert_uint_eq(n, 31);
    ck_assert_uint_eq(covered, 31 * PG);
    /* Zero room: nothing. */
    ck_assert_uint_eq(l4_fpage_cover(0, 0, PG, SHIFT, L4_R, NULL, 0, &covered), 0);
    ck_assert_uint_eq(covered, 0);
    /* Zero length: nothing, fully covered. */
    ck_assert_uint_eq(l4_fpage_cover(0, 0, 0, SHIFT, L4_R, out, 40, &covered), 0);
    ck_assert_uint_eq(covered, 0);
}
END_TEST

START_TEST(test_cover_malformed)
{
    l4_fpage_t out[4];
    uint64_t covered = 99;
    ck_assert_uint_eq(l4_fpage_cover(0x800, 0, PG, SHIFT, L4_R, out, 4, &covered), 0);
    ck_assert_uint_eq(covered, 0);
    ck_assert_uint_eq(l4_fpage_cover(0, 0x10, PG, SHIFT, L4_R, out, 4, &covered), 0);
    ck_assert_uint_eq(l4_fpage_cover(0, 0, 100, SHIFT, L4_R, out, 4, &covered), 0);
    ck_assert_uint_eq(l4_fpage_cover(L4_VADDR_LIMIT - PG, 0, 2 * PG, SHIFT, L4_R, out, 4, &covered),
                      0);
    ck_assert_uint_eq(l4_fpage_cover(0, L4_VADDR_LIMIT, PG, SHIFT, L4_R, out, 4, &covered), 0);
    ck_assert_uint_eq(l4_fpage_cover(0, 0, UINT64_MAX & ~(PG - 1), SHIFT, L4_R, out, 4, &covered),
                      0);
    ck_assert_uint_eq(l4_fpage_cover(0, 0, PG, SHIFT, L4_R, NULL, 4, &covered), 0);
    ck_assert_uint_eq(covered, 0);
}
END_TEST

START_TEST(test_msg_layout)
{
    l4_msg_t m;
    l4_msg_init(&m, 0x1234);
    ck_assert_uint_eq(l4_msg_label(&m), 0x1234);
    ck_assert_uint_eq(l4_msg_untyped(&m), 0);
    ck_assert_uint_eq(l4_msg_items(&m), 0);
    ck_assert(l4_msg_put_word(&m, 11));
    ck_assert(l4_msg_put_word(&m, 22));
    ck_assert(l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(0x5000, 12, L4_R), 0x9000));
    ck_assert(l4_msg_put_item(&m, L4_ITEM_GRANT, l4_fpage(0x10000, 16, L4_RW), 0x20000));
    ck_assert(!l4_msg_put_word(&m, 33)); /* words come before items */
    ck_assert_uint_eq(l4_msg_untyped(&m), 2);
    ck_assert_uint_eq(l4_msg_items(&m), 2);
    ck_assert_uint_eq(l4_msg_word(&m, 0), 11);
    ck_assert_uint_eq(l4_msg_word(&m, 1), 22);
    ck_assert_uint_eq(l4_msg_word(&m, 2), 0);
    enum l4_item_kind kind;
    l4_fpage_t f;
    uint64_t base;
    ck_assert(l4_msg_item(&m, 0, &kind, &f, &base));
    ck_assert_int_eq(kind, L4_ITEM_MAP);
    ck_assert_uint_eq(l4_fpage_base(f), 0x5000);
    ck_assert_uint_eq(base, 0x9000);
    ck_assert(l4_msg_item(&m, 1, &kind, &f, &base));
    ck_assert_int_eq(kind, L4_ITEM_GRANT);
    ck_assert_uint_eq(l4_fpage_log2size(f), 16);
    ck_assert_uint_eq(l4_fpage_rights(f), L4_RW);
    ck_assert_uint_eq(base, 0x20000);
    ck_assert(!l4_msg_item(&m, 2, &kind, &f, &base));
    ck_assert_uint_eq(l4_msg_label(&m), 0x1234); /* the label survives */
}
END_TEST

START_TEST(test_msg_capacity)
{
    l4_msg_t m;
    l4_msg_init(&m, 0);
    unsigned n = 0;
    while (l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage((uint64_t)n << 12, 12, L4_R), 0))
        n++;
    ck_assert_uint_eq(n, L4_MSG_MAX_ITEMS); /* 1 tag + 31 × 2 = 63 of 64 MRs */
    ck_assert_uint_eq(l4_msg_items(&m), 31);
    /* With one untyped word, still 31 (1 + 1 + 62 = 64). */
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_word(&m, 1));
    n = 0;
    while (l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(0, 12, L4_R), 0))
        n++;
    ck_assert_uint_eq(n, 31);
    /* Two words: 30. */
    l4_msg_init(&m, 0);
    ck_assert(l4_msg_put_word(&m, 1));
    ck_assert(l4_msg_put_word(&m, 2));
    n = 0;
    while (l4_msg_put_item(&m, L4_ITEM_MAP, l4_fpage(0, 12, L4_R), 0))
        n++;
    ck_assert_uint_eq(n, 30);
    /* Words alone: 63. */
    l4_msg_init(&m, 0);
    n = 0;
    while (l4_msg_put_word(&m, n))
        n++;
    ck_assert_uint_eq(n, 63);
    /* An unknown item kind is refused. */
    l4_msg_init(&m, 0);
    ck_assert(!l4_msg_put_item(&m, (enum l4_item_kind)3, l4_fpage(0, 12, L4_R), 0));
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("fpage");
    TCase *tc = tcase_create("fpages");
    tcase_add_test(tc, test_fpage_encoding);
    tcase_add_test(tc, test_fpage_valid);
    suite_add_tcase(s, tc);

    tc = tcase_create("cover");
    tcase_add_loop_test(tc, test_cover_exhaustive, 0, 32);
    tcase_add_test(tc, test_cover_shapes);
    tcase_add_test(tc, test_cover_limited);
    tcase_add_test(tc, test_cover_malformed);
    suite_add_tcase(s, tc);

    tc = tcase_create("messages");
    tcase_add_test(tc, test_msg_layout);
    tcase_add_test(tc, test_msg_capacity);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
