/* pool: a fixed set of worker threads fed by a bounded queue of requests.
 *
 * Each worker runs thread_init once when it starts (the Mono host attaches the
 * thread there) and thread_fini before it exits. pool_push never blocks: it
 * returns FALSE when `queue` requests are already waiting, so the caller can
 * answer 503 at once. Ownership of a pushed item passes to the worker.
 */
#ifndef POOL_H
#define POOL_H

#include <glib.h>

typedef struct pool pool;

typedef struct {
    int threads;
    int queue;                      /* most items waiting for a worker */
    void (*work)(gpointer item, gpointer ud);
    void (*thread_init)(gpointer ud);
    void (*thread_fini)(gpointer ud);
    gpointer ud;
} pool_opts;

pool *pool_new(const pool_opts *opts);
gboolean pool_push(pool *p, gpointer item);
/* Items queued plus items being worked on. */
int pool_busy(pool *p);
/* Asks every worker to finish its current item and exit; waits for them. */
void pool_free(pool *p);

#endif
