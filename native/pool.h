/* pool: worker threads fed by a bounded queue of requests, running at most
 * `target` items at once.
 *
 * target = the CPUs this process may use (sched_getaffinity, so taskset and
 * cpusets count) + the busy threads that are blocked now (sleeping in a system
 * call, a lock, Thread.Sleep: not running and not waiting for a CPU), capped by
 * `threads`. CPU-bound items therefore run about one per CPU (more runnable
 * threads than CPUs only add context switches, GC suspend work and latency),
 * and items that block let others in, up to `threads`. A monitor thread
 * (pool.c) finds the blocked threads: every TICK while something is busy, it
 * reads each busy thread's time on a CPU or waiting for one
 * (/proc/thread-self/schedstat; the thread's CPU clock where that is missing);
 * a thread that got less than a sixth of the interval is blocked. A tick in
 * which every busy thread but one stalls while the process still burns CPU
 * looks like a stop-the-world GC (one thread collects, the others are
 * suspended); it is not counted as blocking until it lasts several ticks.
 * With `concurrency` > 0 the target is that number instead (no monitor).
 *
 * Threads are started when needed, the first min(target, threads) by
 * pool_new; a thread, once started, stays until pool_free. Each runs
 * thread_init once when it starts (the Mono host attaches the thread there)
 * and thread_fini before it exits. pool_push never blocks: it returns FALSE
 * when `queue` requests are already waiting, so the caller can answer 503 at
 * once. Ownership of a pushed item passes to the worker.
 */
#ifndef POOL_H
#define POOL_H

#include <glib.h>

typedef struct pool pool;

typedef struct {
    int threads;                    /* most threads, so most items at once */
    int queue;                      /* most items waiting for a worker */
    int concurrency;                /* items at once; 0 = auto (CPUs + blocked threads) */
    int cpus;                       /* CPUs for auto; 0 = this process's (sched_getaffinity) */
    void (*work)(gpointer item, gpointer ud);
    void (*thread_init)(gpointer ud);
    void (*thread_fini)(gpointer ud);
    gpointer ud;
} pool_opts;

pool *pool_new(const pool_opts *opts);
gboolean pool_push(pool *p, gpointer item);
/* Items queued plus items being worked on. */
int pool_busy(pool *p);
/* The most items allowed to run now, the busy threads counted as blocked at the
 * last tick, and the threads started so far (for status and tests). */
void pool_counts(pool *p, int *target, int *blocked, int *started);
/* The number of CPUs this process may run on (at least 1). */
int pool_cpus(void);
/* Asks every worker to finish the items queued and its current one and exit;
 * waits for them. Accepts NULL. */
void pool_free(pool *p);

#endif
