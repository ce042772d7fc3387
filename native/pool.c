/* pool: see pool.h. */
#include "pool.h"

struct pool {
    pool_opts o;
    GAsyncQueue *q;
    GThread **threads;
    gint waiting;   /* atomic: items in q */
    gint working;   /* atomic: items a worker holds */
};

/* Pushed once per thread to make it exit; never handed to work(). */
static int stop_marker;

static gpointer worker_main(gpointer data)
{
    pool *p = data;
    if (p->o.thread_init)
        p->o.thread_init(p->o.ud);
    for (;;) {
        gpointer item = g_async_queue_pop(p->q);
        if (item == &stop_marker)
            break;
        g_atomic_int_inc(&p->working);
        g_atomic_int_add(&p->waiting, -1);
        p->o.work(item, p->o.ud);
        g_atomic_int_add(&p->working, -1);
    }
    if (p->o.thread_fini)
        p->o.thread_fini(p->o.ud);
    return NULL;
}

pool *pool_new(const pool_opts *opts)
{
    pool *p = g_new0(pool, 1);
    p->o = *opts;
    p->q = g_async_queue_new();
    p->threads = g_new0(GThread *, opts->threads);
    for (int i = 0; i < opts->threads; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "worker-%d", i);
        p->threads[i] = g_thread_new(name, worker_main, p);
    }
    return p;
}

gboolean pool_push(pool *p, gpointer item)
{
    if (g_atomic_int_get(&p->waiting) >= p->o.queue)
        return FALSE;
    g_atomic_int_inc(&p->waiting);
    g_async_queue_push(p->q, item);
    return TRUE;
}

int pool_busy(pool *p)
{
    return g_atomic_int_get(&p->waiting) + g_atomic_int_get(&p->working);
}

void pool_free(pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->o.threads; i++)
        g_async_queue_push(p->q, &stop_marker);
    for (int i = 0; i < p->o.threads; i++)
        g_thread_join(p->threads[i]);
    g_async_queue_unref(p->q);
    g_free(p->threads);
    g_free(p);
}
