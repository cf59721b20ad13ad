/* swapfile.c — the swap device over a real file (pmsim/swapfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmsim/swapfile.h"

struct injection {
    enum sim_swap_fault fault;
    uint64_t after, count;
};

struct sim_swapfile {
    int fd;
    size_t page_size;
    struct pm_swap_dev dev;
    struct injection w, r; /* for writes, for reads */
    struct sim_swapfile_stats st;
};

/* The one place I/O can be made to fail: true when this call must. */
static bool injected(struct injection *in)
{
    if (in->fault == SIM_SWAP_OK)
        return false;
    if (in->after > 0) {
        in->after--;
        return false;
    }
    if (in->count == 0)
        return false;
    if (in->count != UINT64_MAX)
        in->count--;
    return true;
}

static pm_error_t sf_write(void *ctx, uint64_t slot, const void *page, size_t len)
{
    struct sim_swapfile *sf = ctx;
    if (slot >= sf->dev.slots || len != sf->page_size) {
        sf->st.failures++;
        return PM_EIO;
    }
    size_t limit = len;
    enum sim_swap_fault f = injected(&sf->w) ? sf->w.fault : SIM_SWAP_OK;
    if (f == SIM_SWAP_WRITE_EIO) {
        sf->st.failures++;
        return PM_EIO;
    }
    if (f == SIM_SWAP_WRITE_FULL)
        limit = len / 2; /* half goes, then the disk is full */
    off_t off = (off_t)(slot * sf->page_size);
    size_t done = 0;
    while (done < limit) {
        ssize_t n = pwrite(sf->fd, (const char *)page + done, limit - done, off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sf->st.failures++;
            return n < 0 && (errno == ENOSPC || errno == EDQUOT) ? PM_ENOSPC : PM_EIO;
        }
        done += (size_t)n;
    }
    if (done < len) {
        sf->st.failures++;
        return PM_ENOSPC;
    }
    sf->st.writes++;
    sf->st.bytes_written += len;
    return PM_OK;
}

static pm_error_t sf_read(void *ctx, uint64_t slot, void *page, size_t len)
{
    struct sim_swapfile *sf = ctx;
    if (slot >= sf->dev.slots || len != sf->page_size) {
        sf->st.failures++;
        return PM_EIO;
    }
    size_t limit = len;
    enum sim_swap_fault f = injected(&sf->r) ? sf->r.fault : SIM_SWAP_OK;
    if (f == SIM_SWAP_READ_EIO) {
        sf->st.failures++;
        return PM_EIO;
    }
    if (f == SIM_SWAP_READ_SHORT)
        limit = len / 2;
    off_t off = (off_t)(slot * sf->page_size);
    size_t done = 0;
    while (done < limit) {
        ssize_t n = pread(sf->fd, (char *)page + done, limit - done, off + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (done < len) {
        sf->st.failures++;
        return PM_EIO;
    }
    sf->st.reads++;
    sf->st.bytes_read += len;
    return PM_OK;
}

int sim_temp_fd(const char *what, char **message)
{
    char *name = NULL;
    GError *err = NULL;
    int fd = g_file_open_tmp(NULL, &name, &err);
    if (fd < 0) {
        if (message != NULL)
            *message = g_strdup_printf("cannot make a %s: %s", what, err->message);
        g_error_free(err);
        return -1;
    }
    unlink(name); /* it lives as long as the descriptor */
    g_free(name);
    return fd;
}

pm_error_t sim_swapfile_open(const char *path, uint64_t slots, size_t page_size,
                             sim_swapfile_t **out, char **message)
{
    if (slots == 0 || page_size == 0 || (page_size & (page_size - 1)) != 0 ||
        slots > (uint64_t)INT64_MAX / page_size) {
        if (message != NULL)
            *message = g_strdup("swap needs at least one slot of a power-of-two page size");
        return PM_EINVAL;
    }
    int fd;
    if (path == NULL) {
        fd = sim_temp_fd("swap file", message);
    } else {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0 && message != NULL)
            *message = g_strdup_printf("cannot open swap file %s: %s", path, strerror(errno));
    }
    if (fd < 0)
        return PM_EIO;
    /* Sparse: the size costs no disk until pages are written. */
    if (ftruncate(fd, (off_t)(slots * page_size)) != 0) {
        if (message != NULL)
            *message = g_strdup_printf("cannot size the swap file to %llu pages: %s",
                                       (unsigned long long)slots, strerror(errno));
        close(fd);
        return PM_EIO;
    }
    sim_swapfile_t *sf = g_new0(sim_swapfile_t, 1);
    sf->fd = fd;
    sf->page_size = page_size;
    sf->dev = (struct pm_swap_dev){.slots = slots, .ctx = sf, .write = sf_write, .read = sf_read};
    sf->st.slots = slots;
    *out = sf;
    return PM_OK;
}

void sim_swapfile_close(sim_swapfile_t *sf)
{
    if (sf == NULL)
        return;
    close(sf->fd);
    g_free(sf);
}

const struct pm_swap_dev *sim_swapfile_dev(sim_swapfile_t *sf)
{
    return &sf->dev;
}

void sim_swapfile_inject(sim_swapfile_t *sf, enum sim_swap_fault fault, uint64_t after,
                         uint64_t count)
{
    struct injection in = {.fault = fault, .after = after, .count = count};
    switch (fault) {
    case SIM_SWAP_OK:
        sf->w = sf->r = (struct injection){0};
        break;
    case SIM_SWAP_WRITE_EIO:
    case SIM_SWAP_WRITE_FULL:
        sf->w = in;
        break;
    case SIM_SWAP_READ_EIO:
    case SIM_SWAP_READ_SHORT:
        sf->r = in;
        break;
    }
}

void sim_swapfile_stats(const sim_swapfile_t *sf, struct sim_swapfile_stats *out)
{
    *out = sf->st;
}

int sim_swapfile_fd(const sim_swapfile_t *sf)
{
    return sf->fd;
}

/* ---- a device whose file comes at the first write ---------------------------- */

struct sim_lazy_swap {
    struct pm_swap_dev dev;
    size_t page_size;
    sim_swapfile_t *sf;
};

static pm_error_t lazy_write(void *ctx, uint64_t slot, const void *page, size_t len)
{
    sim_lazy_swap_t *ls = ctx;
    if (ls->sf == NULL &&
        sim_swapfile_open(NULL, ls->dev.slots, ls->page_size, &ls->sf, NULL) != PM_OK)
        return PM_EIO;
    return ls->sf->dev.write(ls->sf, slot, page, len);
}

static pm_error_t lazy_read(void *ctx, uint64_t slot, void *page, size_t len)
{
    sim_lazy_swap_t *ls = ctx;
    return ls->sf != NULL ? ls->sf->dev.read(ls->sf, slot, page, len) : PM_EIO;
}

sim_lazy_swap_t *sim_lazy_swap_new(uint64_t slots, size_t page_size)
{
    sim_lazy_swap_t *ls = g_new0(sim_lazy_swap_t, 1);
    ls->page_size = page_size;
    ls->dev =
        (struct pm_swap_dev){.slots = slots, .ctx = ls, .write = lazy_write, .read = lazy_read};
    return ls;
}

const struct pm_swap_dev *sim_lazy_swap_dev(sim_lazy_swap_t *ls)
{
    return &ls->dev;
}

void sim_lazy_swap_stats(const sim_lazy_swap_t *ls, struct sim_swapfile_stats *out)
{
    if (ls->sf != NULL)
        sim_swapfile_stats(ls->sf, out);
    else
        *out = (struct sim_swapfile_stats){.slots = ls->dev.slots};
}

void sim_lazy_swap_free(sim_lazy_swap_t *ls)
{
    if (ls == NULL)
        return;
    sim_swapfile_close(ls->sf);
    g_free(ls);
}
