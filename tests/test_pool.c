/* Unit tests for pool: CPU-bound items run one per CPU, items that block let
 * others in up to `threads`, the 503 queue bound, pool_free drains. */
#include <string.h>

#include "pool.h"

/* An item: > 0 spins that many ms on the CPU, < 0 sleeps -that many ms. */
#define SPIN(ms) GINT_TO_POINTER(ms)
#define SLEEP(ms) GINT_TO_POINTER(-(ms))

typedef struct {
    gint now, max;              /* items running, most at once */
    gint spin_now, spin_max;    /* of them spinning */
    gint done, inits, finis;
} tally;

static void raise_max(gint *max, int v)
{
    int m = g_atomic_int_get(max);
    while (v > m && !g_atomic_int_compare_and_exchange(max, m, v))
        m = g_atomic_int_get(max);
}

static volatile guint64 sink;

static void spin_ms(int ms)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
    guint64 x = 0;
    while (g_get_monotonic_time() < end)
        for (int i = 0; i < 1000; i++)
            x += (guint64)i * x + 1;
    sink = x;
}

static void work(gpointer item, gpointer ud)
{
    tally *t = ud;
    int ms = GPOINTER_TO_INT(item);
    raise_max(&t->max, g_atomic_int_add(&t->now, 1) + 1);
    if (ms > 0) {
        raise_max(&t->spin_max, g_atomic_int_add(&t->spin_now, 1) + 1);
        spin_ms(ms);
        g_atomic_int_add(&t->spin_now, -1);
    }
    else
        g_usleep((gulong)-ms * 1000);
    g_atomic_int_add(&t->now, -1);
    g_atomic_int_inc(&t->done);
}

static void init(gpointer ud)
{
    g_atomic_int_inc(&((tally *)ud)->inits);
}

static void fini(gpointer ud)
{
    g_atomic_int_inc(&((tally *)ud)->finis);
}

static pool *new_pool(tally *t, int threads, int concurrency)
{
    memset(t, 0, sizeof *t);
    pool_opts o = {.threads = threads, .queue = 1000, .concurrency = concurrency, .work = work,
                   .thread_init = init, .thread_fini = fini, .ud = t};
    return pool_new(&o);
}

static void wait_done(pool *p, tally *t, int n)
{
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while ((g_atomic_int_get(&t->done) < n || pool_busy(p) > 0) && g_get_monotonic_time() < end)
        g_usleep(2000);
    g_assert_cmpint(g_atomic_int_get(&t->done), ==, n);
    g_assert_cmpint(pool_busy(p), ==, 0);
}

static void free_pool(pool *p, tally *t)
{
    int started;
    pool_counts(p, NULL, NULL, &started);
    pool_free(p);
    g_assert_cmpint(t->inits, ==, started);
    g_assert_cmpint(t->finis, ==, started);
}

/* Only as many CPU-bound items at once as CPUs, with many more threads. */
static void test_cpu_bound(void)
{
    int ncpu = pool_cpus(), threads = MAX(8, 4 * ncpu);
    tally t;
    pool *p = new_pool(&t, threads, 0);
    int started;
    pool_counts(p, NULL, NULL, &started);
    g_assert_cmpint(started, ==, ncpu); /* the rest start when blocking asks for them */
    for (int i = 0; i < 6 * threads; i++)
        g_assert_true(pool_push(p, SPIN(15)));
    g_assert_cmpint(pool_busy(p), >, ncpu);
    wait_done(p, &t, 6 * threads);
    g_test_message("ncpu %d, threads %d: at most %d at once", ncpu, threads, t.max);
    g_assert_cmpint(t.max, ==, ncpu);
    pool_counts(p, NULL, NULL, &started);
    g_assert_cmpint(started, ==, ncpu);
    free_pool(p, &t);
}

/* Items that sleep let more run at once, up to `threads` and never past it. */
static void test_blocking(void)
{
    int ncpu = pool_cpus(), threads = ncpu + 8;
    tally t;
    pool *p = new_pool(&t, threads, 0);
    for (int i = 0; i < 4 * threads; i++)
        g_assert_true(pool_push(p, SLEEP(150)));
    int target, blocked;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_usleep(5000);
        pool_counts(p, &target, &blocked, NULL);
    } while (target < threads && g_get_monotonic_time() < end);
    g_assert_cmpint(target, ==, threads);
    g_assert_cmpint(blocked, >=, threads - ncpu);
    wait_done(p, &t, 4 * threads);
    g_test_message("ncpu %d, threads %d: at most %d at once", ncpu, threads, t.max);
    g_assert_cmpint(t.max, ==, threads);
    /* idle again: back to the CPUs */
    end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do {
        g_usleep(5000);
        pool_counts(p, &target, &blocked, NULL);
    } while (target != ncpu && g_get_monotonic_time() < end);
    g_assert_cmpint(target, ==, ncpu);
    g_assert_cmpint(blocked, ==, 0);
    free_pool(p, &t);
}

/* Sleepers and spinners in turn: the sleepers let others in, and the spinners
 * outnumber the CPUs only by the few that took the place of a sleeper that had
 * just ended (kept for the next item until the monitor has judged it). */
static void test_mix(void)
{
    int ncpu = pool_cpus(), threads = 4 * ncpu + 4, n = 0;
    tally t;
    pool *p = new_pool(&t, threads, 0);
    for (int round = 0; round < 6; round++)
        for (int i = 0; i < threads; i++, n++)
            g_assert_true(pool_push(p, i % 2 ? SPIN(30) : SLEEP(60)));
    wait_done(p, &t, n);
    g_test_message("ncpu %d, threads %d: at most %d at once, %d spinning", ncpu, threads, t.max, t.spin_max);
    g_assert_cmpint(t.spin_max, <=, ncpu + 2);
    g_assert_cmpint(t.max, >, ncpu);
    g_assert_cmpint(t.max, <=, threads);
    free_pool(p, &t);
}

/* concurrency = N: exactly N at once, blocking or not. */
static void test_fixed(void)
{
    tally t;
    pool *p = new_pool(&t, 8, 3);
    for (int i = 0; i < 12; i++)
        g_assert_true(pool_push(p, SLEEP(40)));
    wait_done(p, &t, 12);
    g_assert_cmpint(t.max, ==, 3);
    int target, started;
    pool_counts(p, &target, NULL, &started);
    g_assert_cmpint(target, ==, 3);
    g_assert_cmpint(started, ==, 3);
    free_pool(p, &t);

    p = new_pool(&t, 2, 5); /* capped by threads */
    for (int i = 0; i < 6; i++)
        g_assert_true(pool_push(p, SLEEP(20)));
    wait_done(p, &t, 6);
    g_assert_cmpint(t.max, ==, 2);
    free_pool(p, &t);
}

/* The queue bound: pool_push refuses at once when `queue` items wait. */
static void test_queue_full(void)
{
    tally t;
    memset(&t, 0, sizeof t);
    pool_opts o = {.threads = 1, .queue = 4, .work = work, .ud = &t};
    pool *p = pool_new(&o);
    g_assert_true(pool_push(p, SLEEP(200)));
    while (g_atomic_int_get(&t.now) == 0)
        g_usleep(1000);
    for (int i = 0; i < 4; i++)
        g_assert_true(pool_push(p, SLEEP(1)));
    gint64 before = g_get_monotonic_time();
    g_assert_false(pool_push(p, SLEEP(1)));
    g_assert_cmpint(g_get_monotonic_time() - before, <, 100000); /* did not wait for room */
    g_assert_cmpint(pool_busy(p), ==, 5);
    wait_done(p, &t, 5);
    g_assert_true(pool_push(p, SLEEP(1)));
    wait_done(p, &t, 6);
    pool_free(p);
}

/* pool_free with items waiting: every item runs (its owner is the pool), then
 * every thread finishes and is joined. */
static void test_free_with_waiting(void)
{
    tally t;
    pool *p = new_pool(&t, 6, 0);
    for (int i = 0; i < 40; i++)
        g_assert_true(pool_push(p, i % 3 ? SLEEP(5) : SPIN(2)));
    free_pool(p, &t);
    g_assert_cmpint(t.done, ==, 40);
    g_assert_cmpint(t.now, ==, 0);

    p = new_pool(&t, 4, 0); /* never used */
    free_pool(p, &t);
    pool_free(NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pool/cpu-bound", test_cpu_bound);
    g_test_add_func("/pool/blocking", test_blocking);
    g_test_add_func("/pool/mix", test_mix);
    g_test_add_func("/pool/fixed", test_fixed);
    g_test_add_func("/pool/queue-full", test_queue_full);
    g_test_add_func("/pool/free-with-waiting", test_free_with_waiting);
    return g_test_run();
}
