/* test-swap.c — swap (SPEC §7): pm_swap to the inactive list, recovery
 * without I/O, flushing to a real file, swapping in, frames shared by
 * logical copies written once, quotas, and device failures that lose
 * nothing.  Every test reads the bytes back. */
#include "harness.h"

static struct pmworld p;

#define VA 0x100000ull

/* Allocate COUNT frames at 0 in a new container of task I, map them
 * writable at VA and fill frame j with byte SEED + j. */
static container_t filled(unsigned i, uint32_t count, unsigned char seed)
{
    container_t c;
    ck_assert_int_eq(pm_container_create(p.pm, p.task[i], &c), PM_OK);
    uint32_t n = count;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[i], c, 0, &n, 0), PM_OK);
    n = count;
    ck_assert_int_eq(
        pm_container_map(p.pm, p.task[i], c, 0, &n, CONT_MAP_READ | CONT_MAP_WRITE, VA), PM_OK);
    ck_assert_uint_eq(n, count);
    unsigned char page[4096];
    for (uint32_t j = 0; j < count; j++) {
        memset(page, seed + (int)j, sizeof page);
        ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_WRITE, VA + j * 4096ull, page, sizeof page), PM_OK);
    }
    return c;
}

/* Map frame F of C read-only at VA2 for task I and check it holds BYTE. */
static void expect_frame(unsigned i, container_t c, frame_t f, unsigned char byte)
{
    const uint64_t va2 = 0x40000000ull + (uint64_t)f * 4096;
    uint32_t n = 1;
    ck_assert_int_eq(pm_container_map(p.pm, p.task[i], c, f, &n, CONT_MAP_READ, va2), PM_OK);
    unsigned char page[4096];
    ck_assert_int_eq(pm_rw(&p, i, L4_ACCESS_READ, va2, page, sizeof page), PM_OK);
    ck_assert_msg(bytes_all(page, sizeof page, byte), "frame %u does not hold 0x%02x", f, byte);
}

START_TEST(test_swap_out_flush_in)
{
    pmworld_init_swap(&p, 64, 1, 64, NULL);
    container_t c = filled(0, 4, 0xA0);
    pm_swap_id_t ids[4];
    ck_assert_int_eq(pm_swap(p.pm, p.task[0], c, 0, 4, ids), PM_OK);
    struct pm_task_info ti;
    ck_assert_int_eq(pm_task_info(p.pm, p.task[0], &ti), PM_OK);
    ck_assert_uint_eq(ti.allocated, 0);
    PM_CHECK_INVARIANTS(&p);
    /* All of the pool wanted: the inactive frames are written and freed. */
    struct pm_pressure_result r;
    ck_assert_int_eq(pm_pressure(p.pm, 64, &r), PM_OK);
    ck_assert_uint_eq(r.flushed, 4);
    struct pm_stats st;
    pm_stats(p.pm, &st);
    ck_assert_uint_eq(st.swap_writes, 4);
    PM_CHECK_INVARIANTS(&p);
    uint32_t n = 4;
    ck_assert_int_eq(pm_container_allocate(p.pm, p.task[0], c, 10, &n, 0), PM_OK);
    ck_assert_int_eq(pm_swap_recover(p.pm, p.task[0], ids[0], c, 10), PM_ESTALE);
    for (uint32_t j = 0; j < 4; j++)
        ck_assert_int_eq(pm_swap_in(p.pm, p.task[0], ids[j], c, 10 + j), PM_OK);
    pm_stats(p.pm, &st);
    ck_assert_uint_eq(st.swap_reads, 4);
    for (uint32_t j = 0; j < 4; j++)
        expect_frame(0, c, 10 + j, (unsigned char)(0xA0 + j));
    PM_CHECK_INVARIANTS(&p);
    pmworld_fini(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("swap");
    TCase *tc = tcase_create("swap");
    tcase_add_test(tc, test_swap_out_flush_in);
    suite_add_tcase(s, tc);
    return s;
}

PMSIM_TEST_MAIN
