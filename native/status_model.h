/* status_model: the figures of the status page and the metrics, kept by the
 * supervisor (no Mono, single thread) from the workers' shared counters
 * (stats.h) and what the supervisor tells it about its workers.
 *
 * Once a second (status_model_tick) it reads every live worker's block and
 * keeps one sample of the last second in a ring of STATUS_HISTORY samples:
 * answered requests/s, p50/p99 latency (from the histogram's deltas, linear
 * inside a bucket as Prometheus' histogram_quantile), responses per class per
 * second, queue and active requests. Totals never go backwards: when a worker
 * is reaped its last counters are added to the totals of the reaped ones
 * (status_model_worker_exited reads the block one last time; the caller unmaps
 * it afterwards).
 *
 * The renderers return the body of GET /status.json and GET /metrics (the
 * field names and metric names are fixed by the contract in the README,
 * "Status and metrics"); both escape every byte that came from a request or a
 * configuration (JSON: control characters, quotes, backslash, invalid UTF-8
 * as U+FFFD; Prometheus label values: backslash, quote, newline).
 *
 * Application indices are the configuration's order (stats.h: up to
 * STATS_MAX_APPS, the rest and requests no application took under "(other)").
 * After a reload that changes the list, old workers' counts are reported
 * under the new names of the same index until they exit.
 */
#ifndef STATUS_MODEL_H
#define STATUS_MODEL_H

#include <glib.h>

#include "stats.h"

#define STATUS_HISTORY 300
#define STATUS_OTHER_APP "(other)"

typedef enum {
    SM_STARTING = 0, /* started, not yet ready */
    SM_WARMING,      /* running its warm-up requests (not told apart from starting today) */
    SM_READY,        /* serving */
    SM_DRAINING,     /* told to stop: finishes its requests */
    SM_N_STATES
} sm_state;

typedef enum {
    SM_CRASH = 0,         /* exited or killed on its own */
    SM_HANG,              /* killed by the watchdog (hang_timeout) */
    SM_REQUEST_TIMEOUT,   /* replaced for a request past request_timeout */
    SM_MAX_REQUESTS,      /* recycled */
    SM_MAX_RSS,
    SM_MAX_AGE,
    SM_RELOAD,            /* replaced by a SIGHUP reload */
    SM_APP_CHANGE,        /* replaced after an application changed (watch, in-process unload) */
    SM_N_REASONS,
    SM_NO_RESTART = -1,   /* an exit that is not a restart (the server stops, a new worker failed) */
} sm_reason;

const char *status_model_state_name(sm_state s);
const char *status_model_reason_name(sm_reason r);

/* What the server is; copied by status_model_set_server (every string may be NULL). */
typedef struct {
    const char *name, *vpath, *path;
} sm_app_info;

typedef struct {
    const char *version;
    int pid;
    int workers_configured, threads;
    const char *const *listen;  /* NULL-terminated descriptions, NULL for none */
    const sm_app_info *apps;
    int napps;
} sm_server_info;

typedef struct status_model status_model;

/* now_mono: g_get_monotonic_time(); now_real: g_get_real_time() (µs), the
 * server's start. */
status_model *status_model_new(const sm_server_info *info, gint64 now_mono, gint64 now_real);
void status_model_free(status_model *m);
/* After a reload. */
void status_model_set_server(status_model *m, const sm_server_info *info);

/* A worker was started; b is its block (borrowed until status_model_worker_exited).
 * Returns its slot: the lowest one no live worker holds. A worker started
 * overlapped (its slot past workers_configured) moves into the slot of the
 * first worker below workers_configured that exits, so that each of those
 * slots keeps its restarts and last exit across replacements. */
int status_model_worker_started(status_model *m, int pid, int generation, const stats_block *b, gint64 now_mono);
void status_model_worker_state(status_model *m, int pid, sm_state state);
/* The worker was reaped: its block is read one last time (call before
 * unmapping it); `text` (may be NULL) says how it ended, for last_exit;
 * reason SM_NO_RESTART for an exit that is not a restart; lost: requests
 * lost with it. */
void status_model_worker_exited(status_model *m, int pid, const char *text, sm_reason reason, gint64 lost);

/* Takes a sample of the time since the last one (call about once a second;
 * the rates are divided by the time that passed). Also reads each worker's
 * resident memory from /proc. */
void status_model_tick(status_model *m, gint64 now_mono, gint64 now_real);

/* The bodies (g_free); *len gets the length when len is not NULL. They show
 * the state as of now_mono/now_real for running times and uptimes, and the
 * last sample for rates. */
char *status_model_json(status_model *m, gint64 now_mono, gint64 now_real, gsize *len);
char *status_model_metrics(status_model *m, gint64 now_mono, gint64 now_real, gsize *len);

/* The stats_interval line: figures since the previous call (or the start):
 * requests (total and new), requests/s, responses by class, queue, busy
 * threads, resident memory of the workers, restarts. */
char *status_model_log_line(status_model *m, gint64 now_mono);

/* Latency quantile q (0..1) in µs from histogram bucket counts (stats.h
 * bounds; bucket STATS_NBUCKETS - 1 is +Inf, reported as the last bound);
 * a negative value when the counts are all zero. Exposed for tests. */
double status_model_quantile(const gint64 bucket[STATS_NBUCKETS], double q);

/* JSON string escaping (the writer's own): appends "..." with s[0..len) to
 * out. Control characters as \u00XX, invalid UTF-8 as U+FFFD. */
void status_model_json_string(GString *out, const char *s, gsize len);

#endif
