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
 *     last progress (the start or end of a request).
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

typedef struct {
    gint64 busy_since;  /* start of the request it serves, 0 when idle */
    gint64 progress;    /* last start or end of a request */
} stats_thread;

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
