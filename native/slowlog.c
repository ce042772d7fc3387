/* slowlog: see slowlog.h. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <mono/jit/jit.h>
#include <mono/metadata/appdomain.h>
#include <mono/metadata/debug-helpers.h>
#include <mono/metadata/loader.h>
#include <mono/metadata/threads.h>

#include "slowlog.h"

/* The capture hand-over between the watcher and the handler on the slow
 * thread. The watcher moves IDLE -> REQUESTED and signals; the handler moves
 * REQUESTED -> WALKING, writes frames, then DONE; the watcher reads the frames
 * and moves DONE -> IDLE. A watcher that gives up on an undelivered signal
 * moves REQUESTED -> IDLE, so a late handler does nothing. */
enum { CAP_IDLE, CAP_REQUESTED, CAP_WALKING, CAP_DONE };

typedef struct {
    MonoMethod *method; /* NULL when the walker could not name it safely */
    MonoDomain *domain;
    void *base;
    int offset;
} frame;

typedef struct {
    GMutex lock;        /* guards the request fields below */
    pthread_t thread;
    int tid;
    guint64 serial;     /* requests begun on this thread */
    gint64 since;       /* monotonic µs the current request began, 0 when idle */
    gboolean logged;    /* the current request was logged */
    char app[128];
    char method[24];
    char url[SLOWLOG_URL_MAX + 4];

    gint state;         /* CAP_*, atomically */
    gboolean broken;    /* a walk never ended: no more captures on this thread */
    int nframes;
    gboolean truncated;
    frame frames[SLOWLOG_FRAMES_MAX];
} slot;

struct slowlog {
    gint64 timeout;     /* µs */
    int nslots;
    gint next_slot;
    slot *slots;
};

static __thread slot *my_slot;
static int capture_signal;

/* ---- the pool thread's side ---- */

void slowlog_thread_register(slowlog *sl)
{
    if (!sl)
        return;
    int i = g_atomic_int_add(&sl->next_slot, 1);
    if (i >= sl->nslots)
        return;
    slot *s = &sl->slots[i];
    g_mutex_lock(&s->lock);
    s->thread = pthread_self();
    s->tid = (int)syscall(SYS_gettid);
    g_mutex_unlock(&s->lock);
    my_slot = s;
}

void slowlog_begin(slowlog *sl, const char *app, const char *method, const char *url, gsize url_len)
{
    slot *s = my_slot;
    if (!sl || !s)
        return;
    g_mutex_lock(&s->lock);
    s->serial++;
    s->since = g_get_monotonic_time();
    s->logged = FALSE;
    g_strlcpy(s->app, app ? app : "", sizeof s->app);
    g_strlcpy(s->method, method ? method : "", sizeof s->method);
    gsize n = MIN(url_len, (gsize)SLOWLOG_URL_MAX);
    memcpy(s->url, url ? url : "", url ? n : 0);
    if (!url)
        n = 0;
    if (n < url_len) {
        memcpy(s->url + n, "...", 3);
        n += 3;
    }
    s->url[n] = 0;
    g_mutex_unlock(&s->lock);
}

/* A request that passed the limit between two looks of the watcher (or
 * while it was busy) still gets its line, without a stack. */
void slowlog_end(slowlog *sl)
{
    slot *s = my_slot;
    if (!sl || !s)
        return;
    char *line = NULL;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&s->lock);
    if (!s->logged && now - s->since >= sl->timeout) {
        s->logged = TRUE;
        line = g_strdup_printf("%s %s (application %s) ran %.1f s (slow_request_timeout = %g s) on thread %d; "
                               "it ended before its stack was taken", s->method, s->url, s->app,
                               (now - s->since) / 1e6, sl->timeout / 1e6, s->tid);
    }
    s->since = 0;
    g_mutex_unlock(&s->lock);
    if (line)
        g_warning("slow request: %s", line);
    g_free(line);
}

/* In the signal handler: only pointers and offsets are recorded. */
static mono_bool collect(MonoMethod *method, MonoDomain *domain, void *base, int offset, void *data)
{
    slot *s = data;
    if (s->nframes >= SLOWLOG_FRAMES_MAX) {
        s->truncated = TRUE;
        return TRUE;
    }
    s->frames[s->nframes++] = (frame){method, domain, base, offset};
    return FALSE;
}

static void on_capture_signal(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)si;
    int saved = errno;
    slot *s = my_slot;
    if (s && g_atomic_int_compare_and_exchange(&s->state, CAP_REQUESTED, CAP_WALKING)) {
        s->nframes = 0;
        s->truncated = FALSE;
        mono_stack_walk_async_safe(collect, uctx, s);
        g_atomic_int_set(&s->state, CAP_DONE);
    }
    errno = saved;
}

/* ---- the watcher ---- */

/* Takes the stack of s's thread into s->frames: TRUE when taken (the caller
 * resets the state to CAP_IDLE after reading), FALSE with *why otherwise. */
static gboolean capture(slot *s, gint64 *took, const char **why)
{
    if (s->broken) {
        *why = "an earlier walk on this thread never ended";
        return FALSE;
    }
    gint64 t0 = g_get_monotonic_time();
    g_atomic_int_set(&s->state, CAP_REQUESTED);
    if (pthread_kill(s->thread, capture_signal) != 0) {
        g_atomic_int_set(&s->state, CAP_IDLE);
        *why = "the thread could not be signalled";
        return FALSE;
    }
    /* Delivered at once unless the thread has signals blocked (in Mono's GC
     * suspend handler, for instance): wait a little for it. */
    while (g_atomic_int_get(&s->state) != CAP_DONE) {
        gint64 waited = g_get_monotonic_time() - t0;
        if (waited > G_USEC_PER_SEC / 5 &&
            g_atomic_int_compare_and_exchange(&s->state, CAP_REQUESTED, CAP_IDLE)) {
            *why = "the thread did not take the signal within 200 ms";
            return FALSE;
        }
        if (waited > 5 * G_USEC_PER_SEC) { /* walking for seconds: it will not end */
            s->broken = TRUE;
            *why = "the walk did not end within 5 s";
            return FALSE;
        }
        g_usleep(waited < 1000 ? 20 : 1000);
    }
    *took = g_get_monotonic_time() - t0;
    return TRUE;
}

static void append_frames(slot *s, GString *line)
{
    for (int i = 0; i < s->nframes; i++) {
        frame *f = &s->frames[i];
        MonoMethod *m = f->method;
        if (!m) {
            MonoJitInfo *ji = mono_jit_info_table_find(f->domain ? f->domain : mono_get_root_domain(),
                                                       (char *)f->base + f->offset);
            m = ji ? mono_jit_info_get_method(ji) : NULL;
        }
        if (i)
            g_string_append(line, " <- ");
        char *name = m ? mono_method_full_name(m, TRUE) : NULL;
        if (name) {
            g_string_append(line, name);
            mono_free(name);
        } else {
            g_string_append_printf(line, "(unknown method at %p+0x%x)", f->base, (unsigned)f->offset);
        }
    }
    if (!s->nframes)
        g_string_append(line, "(no managed frames)");
    if (s->truncated)
        g_string_append_printf(line, " <- ... (more than %d frames)", SLOWLOG_FRAMES_MAX);
}

static void report(slowlog *sl, slot *s, gint64 now, int *budget)
{
    g_mutex_lock(&s->lock);
    if (!s->since || s->logged || now - s->since < sl->timeout) {
        g_mutex_unlock(&s->lock);
        return;
    }
    s->logged = TRUE;
    guint64 serial = s->serial;
    gint64 since = s->since;
    char *head = g_strdup_printf("slow request: %s %s (application %s) has run %.1f s (slow_request_timeout = %g s) "
                                 "on thread %d", s->method, s->url, s->app, (now - since) / 1e6,
                                 sl->timeout / 1e6, s->tid);
    g_mutex_unlock(&s->lock);

    GString *line = g_string_new(head);
    g_free(head);
    gint64 took = 0;
    const char *why = NULL;
    if (*budget <= 0) {
        g_string_append_printf(line, "; stack not taken (more than %d slow requests a second)",
                               SLOWLOG_STACKS_PER_SECOND);
    } else {
        (*budget)--;
        if (capture(s, &took, &why)) {
            g_mutex_lock(&s->lock);
            gboolean same = s->serial == serial && s->since == since;
            g_mutex_unlock(&s->lock);
            if (same) {
                g_string_append_printf(line, "; managed stack, innermost first (taken in %" G_GINT64_FORMAT " us): ",
                                       took);
                append_frames(s, line);
            } else {
                g_string_append(line, "; it ended while its stack was taken");
            }
            g_atomic_int_set(&s->state, CAP_IDLE);
        } else {
            g_string_append_printf(line, "; stack not taken: %s", why);
        }
    }
    g_warning("%s", line->str);
    g_string_free(line, TRUE);
}

static gpointer watch(gpointer ud)
{
    slowlog *sl = ud;
    mono_thread_attach(mono_get_root_domain());
    gint64 period = CLAMP(sl->timeout / 10, 10000, G_USEC_PER_SEC / 10);
    gint64 second = 0;
    int budget = SLOWLOG_STACKS_PER_SECOND;
    for (;;) {
        g_usleep((gulong)period);
        gint64 now = g_get_monotonic_time();
        if (now - second >= G_USEC_PER_SEC) {
            second = now;
            budget = SLOWLOG_STACKS_PER_SECOND;
        }
        int n = MIN(g_atomic_int_get(&sl->next_slot), sl->nslots);
        for (int i = 0; i < n; i++)
            report(sl, &sl->slots[i], now, &budget);
    }
    return NULL;
}

slowlog *slowlog_new(int threads, int timeout_s)
{
    if (timeout_s <= 0 || threads <= 0)
        return NULL;
    slowlog *sl = g_new0(slowlog, 1);
    sl->timeout = (gint64)timeout_s * G_USEC_PER_SEC;
    sl->nslots = threads;
    sl->slots = g_new0(slot, threads);
    for (int i = 0; i < threads; i++)
        g_mutex_init(&sl->slots[i].lock);
    /* Mono looks for a free real-time signal in SIGRTMIN+1 .. SIGRTMAX-1 (for
     * thread interruption); SIGRTMAX is never one of them. */
    capture_signal = SIGRTMAX;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_capture_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    /* asynchronous signals (Mono's GC suspend among them) wait the few µs of
     * the walk; a fault inside it is not hidden */
    sigfillset(&sa.sa_mask);
    sigdelset(&sa.sa_mask, SIGSEGV);
    sigdelset(&sa.sa_mask, SIGBUS);
    sigdelset(&sa.sa_mask, SIGILL);
    sigdelset(&sa.sa_mask, SIGFPE);
    sigdelset(&sa.sa_mask, SIGABRT);
    sigaction(capture_signal, &sa, NULL);
    return sl;
}

void slowlog_start(slowlog *sl)
{
    if (sl)
        g_thread_unref(g_thread_new("slowlog", watch, sl));
}
