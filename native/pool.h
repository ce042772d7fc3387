/* pool: worker threads fed by a bounded queue of requests, running at most
 * `target` items at once.
 *
 * target = the CPUs this process may use (sched_getaffinity, so taskset and
 * cpusets count) + the busy threads that are blocked now (sleeping in a system
 * call, a lock, Thread.Sleep: not running and not waiting for a CPU), capped by
 * `threads`. CPU-bound items therefore run about one per CPU (more runnable
 * threads than CPUs only add context switches, GC suspend work and latency),
 * and items that block let others in, up to `threads`. A monitor thread
 * (pool.c) finds the blocked threads: every 10 ms while something is busy, it
 * reads each busy thread's time on a CPU or waiting for one
 * (/proc/thread-self/schedstat; the thread's CPU clock where that is missing)
 * since the last tick, or since its item started: a thread that got less than
 * a sixth of that time is blocked, unless it is runnable now (state R: starved
 * of CPU by other processes, not blocked) or sleeps in sigsuspend (Mono's
 * preemptive suspend: a garbage collection stopping the world). And a tick in
 * which every busy thread but one stands still while the process keeps a CPU
 * busy looks like a GC too (other suspend modes): it counts as blocking only
 * once it lasts 50 ms. The place of a blocked item that ends is kept for the
 * next item (the same client's next request comes once it has its answer)
 * until the monitor has judged that one, or for one to two ticks when none
 * comes: so requests that all block are not held to CPUs per tick, and a
 * CPU-bound one in such a place is found within 10-20 ms. With `concurrency`
 * > 0 the target is that number instead (no monitor).
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
