/* stats: see stats.h. */
#include "stats.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

const gint64 stats_bucket_le_us[STATS_NBUCKETS - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};

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

/* The sequence lock of a thread's entry: only that thread writes it. The
 * odd value is stored before the fields (the release fence keeps the field
 * stores after it), the even one after them (release). */
static void seq_write_begin(stats_thread *t)
{
    guint32 s = LOAD(&t->seq);
    STORE(&t->seq, s + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void seq_write_end(stats_thread *t)
{
    guint32 s = LOAD(&t->seq);
    __atomic_store_n(&t->seq, s + 1, __ATOMIC_RELEASE);
}

void stats_request_begin(stats_block *b, int thread, gint64 now)
{
    if (!b)
        return;
    __atomic_add_fetch(&b->begun, 1, __ATOMIC_RELAXED);
    if (thread < 0 || thread >= b->nthreads)
        return;
    stats_thread *t = &b->t[thread];
    seq_write_begin(t);
    t->req_since = now;
    t->app = -1;
    t->uri_len = 0;
    t->method[0] = 0;
    seq_write_end(t);
    STORE(&t->busy_since, now);
    STORE(&t->progress, now);
}

void stats_request_info(stats_block *b, int thread, int app, const char *method, const char *uri, gsize uri_len)
{
    if (!b || thread < 0 || thread >= b->nthreads)
        return;
    stats_thread *t = &b->t[thread];
    gsize n = MIN(uri_len, (gsize)STATS_URI_MAX);
    seq_write_begin(t);
    t->app = app;
    g_strlcpy(t->method, method ? method : "", sizeof t->method);
    if (n)
        memcpy(t->uri, uri, n);
    t->uri_len = (guint16)n;
    seq_write_end(t);
}

gboolean stats_read_thread(const stats_block *b, int i, stats_current *out)
{
    if (!b || i < 0 || i >= b->nthreads || !LOAD(&b->t[i].busy_since))
        return FALSE;
    const stats_thread *t = &b->t[i];
    for (int tries = 0; tries < 4; tries++) {
        guint32 s1 = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        if (s1 & 1)
            continue;
        out->since = t->req_since;
        out->app = t->app;
        memcpy(out->method, t->method, sizeof out->method);
        gsize n = MIN((gsize)t->uri_len, (gsize)STATS_URI_MAX);
        memcpy(out->uri, t->uri, n);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (LOAD(&t->seq) != s1)
            continue;
        out->method[STATS_METHOD_MAX - 1] = 0;
        out->uri[n] = 0;
        out->uri_len = n;
        return out->since != 0;
    }
    return FALSE;
}

static int status_class(int status)
{
    return status >= 100 && status <= 599 ? status / 100 - 1 : 4;
}

void stats_request_done(stats_block *b, int app, int status, gint64 duration_us, gboolean slow)
{
    if (!b)
        return;
    stats_app *a = &b->apps[app >= 0 && app < STATS_MAX_APPS ? app : STATS_APP_OTHER];
    int k = 0;
    while (k < STATS_NBUCKETS - 1 && duration_us > stats_bucket_le_us[k])
        k++;
    __atomic_add_fetch(&a->responses[status_class(status)], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&a->bucket[k], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&a->sum_us, MAX(duration_us, 0), __ATOMIC_RELAXED);
    __atomic_add_fetch(&a->count, 1, __ATOMIC_RELAXED);
    if (slow)
        __atomic_add_fetch(&a->slow, 1, __ATOMIC_RELAXED);
}

gint64 stats_queue(const stats_block *b)
{
    if (!b)
        return 0;
    gint64 begun = LOAD(&b->begun); /* before started: never negative by a race */
    return MAX(LOAD(&b->started) - begun, 0);
}

void stats_read_apps(const stats_block *b, stats_app out[STATS_APP_SLOTS])
{
    memset(out, 0, sizeof(stats_app) * STATS_APP_SLOTS);
    if (!b)
        return;
    for (int i = 0; i < STATS_APP_SLOTS; i++) {
        for (int k = 0; k < 5; k++)
            out[i].responses[k] = LOAD(&b->apps[i].responses[k]);
        for (int k = 0; k < STATS_NBUCKETS; k++)
            out[i].bucket[k] = LOAD(&b->apps[i].bucket[k]);
        out[i].sum_us = LOAD(&b->apps[i].sum_us);
        out[i].count = LOAD(&b->apps[i].count);
        out[i].slow = LOAD(&b->apps[i].slow);
    }
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
    stats_thread *t = &b->t[thread];
    STORE(&t->busy_since, 0);
    seq_write_begin(t);
    t->req_since = 0;
    seq_write_end(t);
    STORE(&t->progress, now);
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
