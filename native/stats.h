/* stats: counters and heartbeats a worker process keeps in memory it shares
 * with the supervisor. Plain C, no Mono, no locks: every field is written by
 * one side with atomics and read by the other with atomics.
 *
 * The supervisor creates one block per worker it starts (stats_create: a
 * memfd of a fixed layout, sized for the worker's `threads`), hands the
 * descriptor to the worker (worker.h: SCGI_MONO_STATS_FD) and keeps its own
 * mapping until it has reaped the worker, so that it can read what the worker
 * was doing when it died. The worker maps it (stats_attach) and reports:
 *
 *   - requests started (handed to the thread pool) and finished (answered or
 *     dropped by the thread that served them): in flight = started - finished;
 *   - requests being received by the event loop (accepted, not yet handed to
 *     the pool, answered by the loop or closed): what dies with the process
 *     is in flight + receiving;
 *   - the event loop's last tick and the Mono runtime's last heartbeat (a
 *     thread attached to Mono that calls into managed code every second);
 *   - per pool thread: when its current request began (0 when idle) and its
 *     last progress (the start or end of a request); and what that request
 *     is (application, method, URI truncated to STATS_URI_MAX bytes), written
 *     by that thread alone under a sequence lock (seq odd while it writes), so
 *     that a reader copies it whole or retries (stats_read_thread);
 *   - requests begun by a thread: queue = started - begun (handed to the
 *     pool, no thread has taken them yet);
 *   - per application (the worker's configuration order, STATS_MAX_APPS of
 *     them, then one slot STATS_APP_OTHER for requests no application took
 *     or an application past the maximum): responses by status class, a
 *     latency histogram (stats_bucket_le_us, µs, the last bucket unbounded),
 *     the sum of latencies, and slow requests (past slow_request_timeout).
 *
 * All times are CLOCK_MONOTONIC in µs (g_get_monotonic_time), the same clock
 * in every process of the machine.
 *
 * stats_verdict is the supervisor's watchdog rule, kept here as a pure
 * function so that it is unit-tested (tests/test_stats.c).
 */
#ifndef STATS_H
#define STATS_H

#include <glib.h>

#define STATS_MAGIC 0x53434d53u /* "SCMS" */
#define STATS_FD_ENV "SCGI_MONO_STATS_FD"

#define STATS_MAX_APPS 16
#define STATS_APP_OTHER STATS_MAX_APPS         /* index of the "no application" slot */
#define STATS_APP_SLOTS (STATS_MAX_APPS + 1)
#define STATS_NBUCKETS 16                      /* the last one is +Inf */
#define STATS_URI_MAX 256
#define STATS_METHOD_MAX 16

/* Upper bounds (µs, inclusive) of buckets 0 .. STATS_NBUCKETS - 2; bucket
 * STATS_NBUCKETS - 1 holds everything above the last bound. */
extern const gint64 stats_bucket_le_us[STATS_NBUCKETS - 1];

typedef struct {
    gint64 busy_since;  /* start of the request it serves, 0 when idle */
    gint64 progress;    /* last start or end of a request */
    /* under seq (even: stable, odd: being written by the thread) */
    guint32 seq;
    gint32 app;         /* -1 until routed */
    gint64 req_since;   /* busy_since as the reader must pair it with the fields below */
    guint16 uri_len;
    char method[STATS_METHOD_MAX];
    char uri[STATS_URI_MAX];
} stats_thread;

/* Responses of one application slot. */
typedef struct {
    gint64 responses[5]; /* 1xx .. 5xx; a status outside 100..599 counts as 5xx */
    gint64 bucket[STATS_NBUCKETS];
    gint64 sum_us;
    gint64 count;       /* sum of bucket[] */
    gint64 slow;
} stats_app;

typedef struct {
    guint32 magic;
    gint32 nthreads;    /* entries in t[] */
    gint32 pid;         /* of the worker, once attached */
    gint32 next_thread; /* next free entry in t[] (stats_thread_register) */
    gint64 started;     /* requests handed to the pool */
    gint64 finished;    /* requests answered (stats_request_answered) */
    gint64 loop_tick;   /* last event-loop iteration */
    gint64 runtime_tick;/* last heartbeat through the Mono runtime */
    gint64 last_finished;/* last stats_request_answered */
    gint64 receiving;   /* requests the event loop is receiving (conn.h: server_opts.receiving) */
    gint64 begun;       /* requests a pool thread has taken (stats_request_begin) */
    stats_app apps[STATS_APP_SLOTS];
    stats_thread t[];
} stats_block;

/* Supervisor: a new block for a worker with `nthreads` pool threads; *fd is
 * its descriptor (close-on-exec; the caller dups it into the child). NULL
 * with errno set on failure. */
stats_block *stats_create(int nthreads, int *fd);
/* Worker: maps the block of descriptor fd (which may be closed afterwards)
 * and records the pid. NULL with *error set if it is not a stats block. */
stats_block *stats_attach(int fd, GError **error);
void stats_unmap(stats_block *b);

/* Worker side. NULL b is allowed (a worker started without a supervisor). */
void stats_loop_tick(stats_block *b, gint64 now);
void stats_runtime_tick(stats_block *b, gint64 now);
/* A request goes to the pool (call before the hand-over; undo with
 * stats_undispatch if the pool refuses it). */
void stats_dispatch(stats_block *b);
void stats_undispatch(stats_block *b);
/* A pool thread takes an entry of t[]: its index, or -1 when all are taken. */
int stats_thread_register(stats_block *b);
void stats_request_begin(stats_block *b, int thread, gint64 now);
/* The request's response is complete: it is no longer in flight (counted
 * here, not at stats_request_end, so that a process stopped between the two
 * does not count an answered request as lost). */
void stats_request_answered(stats_block *b, gint64 now);
void stats_request_end(stats_block *b, int thread, gint64 now);
/* What the thread's current request is, once routed (app: index in the
 * worker's configuration, -1 for none); the URI is cut at STATS_URI_MAX
 * bytes, the method at STATS_METHOD_MAX - 1. Called by the thread serving it,
 * between stats_request_begin and stats_request_end. */
void stats_request_info(stats_block *b, int thread, int app, const char *method, const char *uri, gsize uri_len);
/* The request is done: its status (0 when none was sent: counted as 5xx),
 * its time in µs, and whether it was slow. app as above (an index past
 * STATS_MAX_APPS counts in STATS_APP_OTHER). */
void stats_request_done(stats_block *b, int app, int status, gint64 duration_us, gboolean slow);
/* The gauge the event loop keeps (server_opts.receiving), NULL for NULL b. */
gint64 *stats_receiving(stats_block *b);

/* Supervisor side: a consistent-enough copy (each field read atomically). */
typedef struct {
    int pid;
    gint64 started, finished, in_flight;
    gint64 receiving;   /* requests the loop was receiving */
    gint64 lost_if_dead;/* in_flight + receiving: lost if the process ends now */
    gint64 loop_tick, runtime_tick, last_finished;
    gint64 oldest;      /* busy_since of the oldest request a thread serves, 0 if none */
    int busy;           /* threads serving a request */
} stats_snapshot;
void stats_read(const stats_block *b, stats_snapshot *out);
/* queue: started - begun (never negative). */
gint64 stats_queue(const stats_block *b);
/* A copy of the application slots (each field read atomically). */
void stats_read_apps(const stats_block *b, stats_app out[STATS_APP_SLOTS]);

/* A thread's current request, copied under its sequence lock. */
typedef struct {
    gint64 since;       /* µs monotonic */
    int app;            /* -1: not routed yet */
    char method[STATS_METHOD_MAX];   /* NUL-terminated */
    char uri[STATS_URI_MAX + 1];     /* NUL-terminated; raw bytes (may be invalid UTF-8) */
    gsize uri_len;
} stats_current;
/* TRUE with *out filled when thread i serves a request and a consistent copy
 * was taken within a few tries; FALSE when idle, out of range, or the thread
 * kept writing (the reader skips it this time). */
gboolean stats_read_thread(const stats_block *b, int i, stats_current *out);

typedef enum {
    STATS_OK = 0,
    STATS_LOOP_STUCK,     /* the event loop made no progress for hang_timeout */
    STATS_RUNTIME_STUCK,  /* the Mono heartbeat stopped for hang_timeout */
    STATS_REQUEST_TIMEOUT,/* a request ran past request_timeout */
} stats_verdict_kind;

/* The watchdog's rule, for a worker that has served since `since` (µs;
 * nothing is judged before since + the timeout). Timeouts in µs, 0 = off.
 * The hang rules come first; *why gets a sentence for the log (g_free it),
 * NULL for STATS_OK. */
stats_verdict_kind stats_verdict(const stats_snapshot *s, gint64 now, gint64 since, gint64 hang_timeout,
                                 gint64 request_timeout, char **why);

#endif
