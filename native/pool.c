/* pool: see pool.h. One mutex guards the queue and the counts; the monitor
 * reads the threads' clocks outside it. */
#include "pool.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TICK_US 10000          /* the monitor's interval while something is busy */
#define LOW_DIVISOR 6          /* on a CPU (or waiting for one) < interval / 6: blocked */
#define STALL_GRACE 5          /* ticks a process-wide stall (GC) is not taken as blocking */

typedef struct pool_thread pool_thread;

struct pool_thread {
    pool *p;
    GThread *thread;
    /* set by the thread before it takes its first item, then constant */
    int schedstat_fd;          /* /proc/thread-self/schedstat, or -1 */
    int stat_fd;               /* /proc/thread-self/stat (its state), or -1 */
    int syscall_fd;            /* /proc/thread-self/syscall (where it sleeps), or -1 */
    gboolean has_clock;
    clockid_t clock;           /* its CPU clock (when schedstat_fd < 0) */
    /* under p->m */
    gboolean busy;
    guint seq;                 /* items taken */
    gint64 start_us;           /* when it took its item (monotonic) */
    gint64 base_ns;            /* its active time then (read before it takes one, outside p->m) */
    gboolean low;              /* judged blocked (counted in p->blocked) */
    /* the monitor's own */
    gboolean have_prev;
    guint prev_seq;
    gint64 prev_ns;
};

struct pool {
    pool_opts o;
    GMutex m;
    GCond work_cond;           /* idle threads wait here */
    GCond mon_cond;            /* the monitor waits here */
    GQueue q;
    int queued, running;       /* items in q; items a thread holds */
    int target, blocked;
    int credits[2];            /* places of blocked items that ended, this tick and the last */
    int base;                  /* CPUs, or the configured concurrency */
    int started, starting, idle;
    gboolean stopping, mon_stop, mon_sleeping;
    pool_thread *t;            /* o.threads entries, `started` used */
    GThread *monitor;
    gint busy_now;             /* atomic mirror of queued + running for pool_busy */
    gint target_now, blocked_now, started_now; /* atomic mirrors for pool_counts */
};

int pool_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return MAX((int)g_get_num_processors(), 1);
}

static void mirror(pool *p)
{
    g_atomic_int_set(&p->busy_now, p->queued + p->running);
    g_atomic_int_set(&p->target_now, p->target);
    g_atomic_int_set(&p->blocked_now, p->blocked);
    g_atomic_int_set(&p->started_now, p->started);
}

static gpointer worker_main(gpointer data);

static void retarget(pool *p)
{
    p->target = CLAMP(p->base + p->blocked + p->credits[0] + p->credits[1], 1, p->o.threads);
}

/* Wakes or starts the threads the queue may use now. */
static void kick(pool *p)
{
    int want = MIN(p->queued, p->target - p->running);
    if (want <= 0)
        return;
    for (int i = 0; i < MIN(want, p->idle); i++)
        g_cond_signal(&p->work_cond);
    for (int more = want - p->idle - p->starting; more > 0 && p->started < p->o.threads && !p->stopping; more--) {
        pool_thread *t = &p->t[p->started++];
        char name[16];
        g_snprintf(name, sizeof name, "worker-%d", p->started - 1);
        t->p = p;
        t->schedstat_fd = t->stat_fd = t->syscall_fd = -1;
        p->starting++;
        t->thread = g_thread_new(name, worker_main, t);
    }
    mirror(p);
}

static gboolean may_take(pool *p)
{
    return p->queued > 0 && p->running < p->target;
}

static gint64 ts_ns(const struct timespec *ts)
{
    return (gint64)ts->tv_sec * G_GINT64_CONSTANT(1000000000) + ts->tv_nsec;
}

/* Nanoseconds the thread spent on a CPU or runnable and waiting for one
 * (schedstat's first two fields); without schedstat, its CPU time; -1 when
 * neither can be read (the thread then never counts as blocked). */
static gint64 thread_active_ns(int fd, gboolean has_clock, clockid_t clock)
{
    if (fd >= 0) {
        char buf[128];
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        unsigned long long run, wait;
        if (n <= 0)
            return -1;
        buf[n] = '\0';
        return sscanf(buf, "%llu %llu", &run, &wait) == 2 ? (gint64)(run + wait) : -1;
    }
    struct timespec ts;
    if (!has_clock || clock_gettime(clock, &ts) != 0)
        return -1;
    return ts_ns(&ts);
}

/* The thread is running or waiting for a CPU now (state R in its stat). The
 * times above reach the runqueue wait only once it ends, so this tells a
 * thread starved of CPU from one that sleeps. */
static gboolean thread_runnable(int fd)
{
    char buf[512];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return FALSE;
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* the name may hold ')' */
    return paren && paren[1] == ' ' && paren[2] == 'R';
}

/* The thread sleeps in sigsuspend: stopped by a signal handler that waits for
 * the next signal, which is how Mono's preemptive suspend (the server's
 * setting) holds every thread while a garbage collection stops the world.
 * Such a thread is paused, not blocked. */
static gboolean thread_suspended(int fd)
{
    char buf[64];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return FALSE;
    buf[n] = '\0';
    char *end;
    long nr = strtol(buf, &end, 10);
    return end != buf && nr == SYS_rt_sigsuspend;
}

static gint64 clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts_ns(&ts);
}

static gpointer worker_main(gpointer data)
{
    pool_thread *t = data;
    pool *p = t->p;
    if (p->o.thread_init)
        p->o.thread_init(p->o.ud);
    int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    int stat_fd = open("/proc/thread-self/stat", O_RDONLY | O_CLOEXEC);
    int syscall_fd = open("/proc/thread-self/syscall", O_RDONLY | O_CLOEXEC);
    clockid_t clock = CLOCK_MONOTONIC;
    gboolean has_clock = pthread_getcpuclockid(pthread_self(), &clock) == 0;
    gint64 base = thread_active_ns(fd, has_clock, clock);

    g_mutex_lock(&p->m);
    t->schedstat_fd = fd;
    t->stat_fd = stat_fd;
    t->syscall_fd = syscall_fd;
    t->has_clock = has_clock;
    t->clock = clock;
    p->starting--;
    for (;;) {
        while (!may_take(p) && !(p->stopping && p->queued == 0)) {
            if (t->low) {
                /* no next item yet: its place is kept for the next one to
                 * come (a client sends its next request once it has this
                 * answer) until the tick after the next */
                t->low = FALSE;
                p->blocked--;
                p->credits[0]++;
                mirror(p);
            }
            p->idle++;
            g_cond_wait(&p->work_cond, &p->m);
            p->idle--;
        }
        if (p->queued == 0)
            break; /* stopping */
        gpointer item = g_queue_pop_head(&p->q);
        p->queued--;
        p->running++;
        if (p->stopping && p->queued == 0)
            g_cond_broadcast(&p->work_cond); /* the idle ones may exit now */
        t->busy = TRUE;
        t->seq++;
        if (!t->low && p->credits[0] + p->credits[1] > 0) {
            /* a place a blocked item left: counted blocked until judged */
            p->credits[p->credits[1] > 0]--;
            t->low = TRUE;
            p->blocked++;
        }
        t->start_us = g_get_monotonic_time();
        t->base_ns = base; /* idle waiting does not count as active */
        if (p->mon_sleeping)
            g_cond_signal(&p->mon_cond);
        kick(p); /* a chain: more may wait with room left */
        mirror(p);
        g_mutex_unlock(&p->m);

        p->o.work(item, p->o.ud);

        base = thread_active_ns(fd, has_clock, clock);
        g_mutex_lock(&p->m);
        p->running--;
        t->busy = FALSE;
        /* Still counted blocked: its next item, taken at once, keeps that
         * place until the monitor judges it (a new item is judged after
         * TICK_US / 2), else requests that all block would get in at most
         * CPUs per tick. */
        mirror(p);
    }
    g_mutex_unlock(&p->m);
    if (p->o.thread_fini)
        p->o.thread_fini(p->o.ud);
    return NULL;
}

typedef struct {
    gboolean busy;
    guint seq;
    int fd, stat_fd, syscall_fd;
    gboolean has_clock;
    clockid_t clock;
    gint64 ns;
    gboolean runnable, suspended;
} sample;

/* One tick's judgement from the samples of the `n` started threads: which busy
 * threads are blocked. Returns how many. */
static int judge(pool *p, const sample *s, int n, gint64 now, gint64 wall, gint64 proc, int *stall_run)
{
    int evaluated = 0, low = 0;
    signed char verdict[n > 0 ? n : 1]; /* -1 not judged this tick, 0 ran, 1 stood still */
    for (int i = 0; i < n; i++) {
        pool_thread *t = &p->t[i];
        verdict[i] = -1;
        if (!t->busy) {
            t->have_prev = t->low = FALSE;
            continue;
        }
        if (!s[i].busy || t->seq != s[i].seq) {
            /* it took an item while the clocks were read: judged next tick,
             * with the verdict of its item before until then */
            t->have_prev = FALSE;
            continue;
        }
        gint64 span, from; /* ns of wall time, active time at its start (-1: unknown) */
        if (t->have_prev && t->prev_seq == s[i].seq && wall > 0) {
            span = wall;
            from = t->prev_ns;
        }
        else {
            /* a new item: judged since it started, if that is long enough
             * ago (until then it keeps the verdict of the item before) */
            span = now - t->start_us * 1000;
            from = t->base_ns;
            if (span * 2 < TICK_US * 1000)
                span = 0;
        }
        if (span > 0 && s[i].suspended) {
            /* paused by the GC: keeps its verdict, judged again after */
        }
        else if (span > 0) {
            gboolean known = s[i].ns >= 0 && from >= 0;
            verdict[i] = known && (s[i].ns - from) * LOW_DIVISOR < span && !s[i].runnable;
            evaluated++;
            low += verdict[i];
        }
        t->have_prev = TRUE;
        t->prev_seq = s[i].seq;
        t->prev_ns = s[i].ns;
    }
    /* Every busy thread but at most one stood still while the process kept a
     * CPU at least half busy: a stop-the-world GC (the collector runs, the
     * rest are suspended), until it lasts longer than a GC pause should. The
     * threads keep their verdict of before meanwhile. */
    gboolean stall = wall > 0 && low > 0 && low >= evaluated - 1 && proc * 2 >= wall;
    *stall_run = stall ? *stall_run + 1 : 0;
    gboolean hold = stall && *stall_run <= STALL_GRACE;
    int blocked = 0;
    for (int i = 0; i < n; i++) {
        if (verdict[i] == 0)
            p->t[i].low = FALSE;
        else if (verdict[i] == 1 && !hold)
            p->t[i].low = TRUE;
        blocked += p->t[i].low;
    }
    return blocked;
}

static gpointer monitor_main(gpointer data)
{
    pool *p = data;
    sample *s = g_new0(sample, p->o.threads);
    gint64 prev_wall = 0, prev_proc = 0;
    int stall_run = 0;

    g_mutex_lock(&p->m);
    while (!p->mon_stop) {
        if (p->running == 0 && p->queued == 0) {
            for (int i = 0; i < p->started; i++)
                p->t[i].have_prev = p->t[i].low = FALSE;
            p->blocked = 0;
            p->credits[0] = p->credits[1] = 0;
            p->target = MIN(p->base, p->o.threads);
            prev_wall = 0;
            stall_run = 0;
            mirror(p);
            p->mon_sleeping = TRUE;
            g_cond_wait(&p->mon_cond, &p->m);
            p->mon_sleeping = FALSE;
            continue;
        }
        gint64 until = g_get_monotonic_time() + TICK_US;
        while (!p->mon_stop && g_cond_wait_until(&p->mon_cond, &p->m, until))
            ;
        if (p->mon_stop)
            break;
        int n = p->started;
        for (int i = 0; i < n; i++) {
            s[i].busy = p->t[i].busy;
            s[i].seq = p->t[i].seq;
            s[i].fd = p->t[i].schedstat_fd;
            s[i].stat_fd = p->t[i].stat_fd;
            s[i].syscall_fd = p->t[i].syscall_fd;
            s[i].has_clock = p->t[i].has_clock;
            s[i].clock = p->t[i].clock;
        }
        g_mutex_unlock(&p->m);

        gint64 wall = clock_ns(CLOCK_MONOTONIC), proc = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        for (int i = 0; i < n; i++) {
            s[i].ns = s[i].busy ? thread_active_ns(s[i].fd, s[i].has_clock, s[i].clock) : -1;
            s[i].runnable = s[i].busy && thread_runnable(s[i].stat_fd);
            s[i].suspended = s[i].busy && !s[i].runnable && thread_suspended(s[i].syscall_fd);
        }

        g_mutex_lock(&p->m);
        int blocked = judge(p, s, n, wall, prev_wall ? wall - prev_wall : 0, proc - prev_proc, &stall_run);
        prev_wall = wall;
        prev_proc = proc;
        p->blocked = blocked;
        p->credits[1] = p->credits[0]; /* unused for a tick: gone at the next */
        p->credits[0] = 0;
        retarget(p);
        kick(p);
        mirror(p);
    }
    g_mutex_unlock(&p->m);
    g_free(s);
    return NULL;
}

pool *pool_new(const pool_opts *opts)
{
    pool *p = g_new0(pool, 1);
    p->o = *opts;
    p->o.threads = MAX(p->o.threads, 1);
    g_mutex_init(&p->m);
    g_cond_init(&p->work_cond);
    g_cond_init(&p->mon_cond);
    g_queue_init(&p->q);
    p->base = p->o.concurrency > 0 ? p->o.concurrency : p->o.cpus > 0 ? p->o.cpus : pool_cpus();
    p->target = MIN(p->base, p->o.threads);
    p->t = g_new0(pool_thread, p->o.threads);

    g_mutex_lock(&p->m);
    /* the first threads at once, so that the first requests do not wait for them */
    p->queued = p->target;
    kick(p);
    p->queued = 0;
    mirror(p);
    g_mutex_unlock(&p->m);
    if (p->o.concurrency <= 0 && p->o.threads > p->target)
        p->monitor = g_thread_new("pool-monitor", monitor_main, p);
    return p;
}

gboolean pool_push(pool *p, gpointer item)
{
    g_mutex_lock(&p->m);
    if (p->queued >= p->o.queue) {
        g_mutex_unlock(&p->m);
        return FALSE;
    }
    g_queue_push_tail(&p->q, item);
    p->queued++;
    if (p->mon_sleeping)
        g_cond_signal(&p->mon_cond);
    kick(p);
    mirror(p);
    g_mutex_unlock(&p->m);
    return TRUE;
}

int pool_busy(pool *p)
{
    return g_atomic_int_get(&p->busy_now);
}

void pool_counts(pool *p, int *target, int *blocked, int *started)
{
    if (target)
        *target = g_atomic_int_get(&p->target_now);
    if (blocked)
        *blocked = g_atomic_int_get(&p->blocked_now);
    if (started)
        *started = g_atomic_int_get(&p->started_now);
}

void pool_free(pool *p)
{
    if (!p)
        return;
    g_mutex_lock(&p->m);
    p->stopping = TRUE;
    g_cond_broadcast(&p->work_cond);
    int n = p->started;
    g_mutex_unlock(&p->m);
    /* no thread starts once stopping is set, so n is final; the monitor keeps
     * judging while the queue drains */
    for (int i = 0; i < n; i++)
        g_thread_join(p->t[i].thread);
    g_mutex_lock(&p->m);
    p->mon_stop = TRUE;
    g_cond_signal(&p->mon_cond);
    g_mutex_unlock(&p->m);
    if (p->monitor)
        g_thread_join(p->monitor);
    for (int i = 0; i < n; i++) {
        if (p->t[i].schedstat_fd >= 0)
            close(p->t[i].schedstat_fd);
        if (p->t[i].stat_fd >= 0)
            close(p->t[i].stat_fd);
        if (p->t[i].syscall_fd >= 0)
            close(p->t[i].syscall_fd);
    }
    g_queue_clear(&p->q);
    g_cond_clear(&p->work_cond);
    g_cond_clear(&p->mon_cond);
    g_mutex_clear(&p->m);
    g_free(p->t);
    g_free(p);
}
