/* final_pager.c — the small final pager (final_pager.h). */
#include <stdlib.h>
#include <string.h>

#include "final_pager.h"

void pm_fp_init(struct pm_final_pager *fp, size_t page, const unsigned char *blank,
                const struct pm_swap_dev *dev, uint32_t budget)
{
    memset(fp, 0, sizeof *fp);
    fp->page = page;
    fp->blank = blank;
    fp->dev = dev;
    fp->budget = budget > 2 ? budget : 2; /* the pinned page and one more */
    fp->resident = g_ptr_array_new();
    fp->free_keys = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

void pm_fp_fini(struct pm_final_pager *fp)
{
    if (fp->resident != NULL) {
        for (guint i = 0; i < fp->resident->len; i++) {
            struct pm_dbpage *d = g_ptr_array_index(fp->resident, i);
            free(d->mem);
            d->mem = NULL;
        }
        g_ptr_array_free(fp->resident, TRUE);
    }
    if (fp->free_keys != NULL)
        g_array_free(fp->free_keys, TRUE);
    memset(fp, 0, sizeof *fp);
}

static void unlist(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    GPtrArray *a = fp->resident;
    struct pm_dbpage *last = g_ptr_array_index(a, a->len - 1);
    a->pdata[d->resi] = last;
    last->resi = d->resi;
    g_ptr_array_set_size(a, a->len - 1);
    free(d->mem);
    d->mem = NULL;
    fp->st.resident--;
}

static void key_free(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    if (d->key != UINT64_MAX)
        g_array_append_val(fp->free_keys, d->key);
    d->key = UINT64_MAX;
    if (d->stored)
        fp->st.stored--;
    d->stored = false;
}

/* Write D out (or let it go, fresh) and free its memory.  False when the
 * device will not take it: D stays. */
static bool page_out(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    if (memcmp(d->mem, fp->blank, fp->page) == 0) {
        key_free(fp, d); /* fresh records: remade on the next use */
        fp->st.dropped++;
        unlist(fp, d);
        return true;
    }
    if (d->key == UINT64_MAX) {
        if (fp->free_keys->len > 0) {
            d->key = g_array_index(fp->free_keys, uint64_t, fp->free_keys->len - 1);
            g_array_set_size(fp->free_keys, fp->free_keys->len - 1);
        } else if (fp->next_key < fp->dev->slots) {
            d->key = fp->next_key++;
        } else {
            return false; /* the device is full */
        }
    }
    if (fp->dev->write(fp->dev->ctx, d->key, d->mem, fp->page) != PM_OK) {
        fp->st.failures++;
        return false;
    }
    fp->st.writes++;
    if (!d->stored)
        fp->st.stored++;
    d->stored = true;
    unlist(fp, d);
    return true;
}

/* Make room for one more page: the least recently used one that is not
 * pinned goes out.  When the device refuses one (it is failing or full),
 * the final pager stops there and goes over its budget for now. */
static void make_room(struct pm_final_pager *fp)
{
    GPtrArray *a = fp->resident;
    while (fp->dev != NULL && a->len >= fp->budget) {
        struct pm_dbpage *victim = NULL;
        for (guint i = 0; i < a->len; i++) {
            struct pm_dbpage *d = g_ptr_array_index(a, i);
            if (d != fp->pin && (victim == NULL || d->used < victim->used))
                victim = d;
        }
        if (victim == NULL || !page_out(fp, victim)) {
            fp->st.over++;
            return;
        }
    }
}

unsigned char *pm_fp_fault(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    make_room(fp);
    fp->clock++;
    unsigned char *m = malloc(fp->page);
    if (m == NULL)
        return NULL;
    if (d->stored) {
        if (fp->dev->read(fp->dev->ctx, d->key, m, fp->page) != PM_OK) {
            fp->st.failures++;
            free(m);
            return NULL;
        }
        fp->st.reads++;
    } else {
        memcpy(m, fp->blank, fp->page);
    }
    d->mem = m;
    d->resi = fp->resident->len;
    g_ptr_array_add(fp->resident, d);
    fp->st.resident++;
    fp->st.faults++;
    return m;
}

void pm_fp_forget(struct pm_final_pager *fp, struct pm_dbpage *d)
{
    if (d->mem != NULL)
        unlist(fp, d);
    key_free(fp, d);
    if (fp->pin == d)
        fp->pin = NULL;
}
