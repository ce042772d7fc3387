/* stats: see stats.h. */
#include "stats.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static gsize block_size(int nthreads)
{
    return sizeof(stats_block) + (gsize)nthreads * sizeof(stats_thread);
}

stats_block *stats_create(int nthreads, int *fd)
{
    if (nthreads < 1 || nthreads > 65536) {
        errno = EINVAL;
        return NULL;
    }
    int f = memfd_create("scgi-mono-stats", MFD_CLOEXEC);
    if (f < 0)
        return NULL;
    gsize size = block_size(nthreads);
    if (ftruncate(f, (off_t)size) < 0) {
        int e = errno;
        close(f);
        errno = e;
        return NULL;
    }
    stats_block *b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
    if (b == MAP_FAILED) {
        int e = errno;
        close(f);
        errno = e;
        return NULL;
    }
    b->nthreads = nthreads; /* the memfd is zero-filled */
    __atomic_store_n(&b->magic, STATS_MAGIC, __ATOMIC_RELEASE);
    *fd = f;
    return b;
}

stats_block *stats_attach(int fd, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || (gsize)st.st_size < sizeof(stats_block)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "stats descriptor %d is not a stats block", fd);
        return NULL;
    }
    stats_block *b = mmap(NULL, (gsize)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (b == MAP_FAILED) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "stats descriptor %d: mmap: %s", fd,
                    g_strerror(errno));
        return NULL;
    }
    if (__atomic_load_n(&b->magic, __ATOMIC_ACQUIRE) != STATS_MAGIC || b->nthreads < 1 ||
        block_size(b->nthreads) > (gsize)st.st_size) {
        munmap(b, (gsize)st.st_size);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "stats descriptor %d is not a stats block", fd);
        return NULL;
    }
    __atomic_store_n(&b->pid, (gint32)getpid(), __ATOMIC_RELAXED);
    return b;
}

void stats_unmap(stats_block *b)
{
    if (b)
        munmap(b, block_size(b->nthreads));
}

#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

void stats_loop_tick(stats_block *b, gint64 now)
{
    if (b)
        STORE(&b->loop_tick, now);
}

void stats_runtime_tick(stats_block *b, gint64 now)
{
    if (b)
        STORE(&b->runtime_tick, now);
}

void stats_dispatch(stats_block *b)
{
    if (b)
        __atomic_add_fetch(&b->started, 1, __ATOMIC_RELAXED);
}

void stats_undispatch(stats_block *b)
{
    if (b)
        __atomic_sub_fetch(&b->started, 1, __ATOMIC_RELAXED);
}

int stats_thread_register(stats_block *b)
{
    if (!b)
        return -1;
    int i = __atomic_fetch_add(&b->next_thread, 1, __ATOMIC_RELAXED);
    return i < b->nthreads ? i : -1;
}

void stats_request_begin(stats_block *b, int thread, gint64 now)
{
    if (!b || thread < 0 || thread >= b->nthreads)
        return;
    STORE(&b->t[thread].busy_since, now);
    STORE(&b->t[thread].progress, now);
}

void stats_request_answered(stats_block *b, gint64 now)
{
    if (!b)
        return;
    STORE(&b->last_finished, now);
    __atomic_add_fetch(&b->finished, 1, __ATOMIC_RELAXED);
}

void stats_request_end(stats_block *b, int thread, gint64 now)
{
    if (!b || thread < 0 || thread >= b->nthreads)
        return;
    STORE(&b->t[thread].busy_since, 0);
    STORE(&b->t[thread].progress, now);
}

gint64 *stats_receiving(stats_block *b)
{
    return b ? &b->receiving : NULL;
}

void stats_read(const stats_block *b, stats_snapshot *o)
{
    memset(o, 0, sizeof *o);
    if (!b)
        return;
    o->pid = LOAD(&b->pid);
    o->finished = LOAD(&b->finished); /* before started: in_flight is never low */
    o->started = LOAD(&b->started);
    o->in_flight = MAX(o->started - o->finished, 0);
    o->receiving = MAX(LOAD(&b->receiving), 0);
    o->lost_if_dead = o->in_flight + o->receiving;
    o->loop_tick = LOAD(&b->loop_tick);
    o->runtime_tick = LOAD(&b->runtime_tick);
    o->last_finished = LOAD(&b->last_finished);
    for (int i = 0; i < b->nthreads; i++) {
        gint64 since = LOAD(&b->t[i].busy_since);
        if (since) {
            o->busy++;
            if (!o->oldest || since < o->oldest)
                o->oldest = since;
        }
    }
}

static double secs(gint64 us)
{
    return (double)us / G_USEC_PER_SEC;
}

stats_verdict_kind stats_verdict(const stats_snapshot *s, gint64 now, gint64 since, gint64 hang_timeout,
                                 gint64 request_timeout, char **why)
{
    *why = NULL;
    if (hang_timeout > 0) {
        gint64 loop = MAX(s->loop_tick, since), rt = MAX(s->runtime_tick, since);
        if (now - loop > hang_timeout) {
            *why = g_strdup_printf("its event loop made no progress for %.1f s (hang_timeout)", secs(now - loop));
            return STATS_LOOP_STUCK;
        }
        if (now - rt > hang_timeout) {
            *why = g_strdup_printf("its Mono runtime made no progress for %.1f s (hang_timeout; "
                                   "%" G_GINT64_FORMAT " request(s) in progress)",
                                   secs(now - rt), s->in_flight);
            return STATS_RUNTIME_STUCK;
        }
    }
    if (request_timeout > 0 && s->oldest && now - s->oldest > request_timeout) {
        *why = g_strdup_printf("a request has run for %.1f s (request_timeout)", secs(now - s->oldest));
        return STATS_REQUEST_TIMEOUT;
    }
    return STATS_OK;
}
