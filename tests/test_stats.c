/* Unit tests for stats: the shared counters block and the watchdog rule. */
#include "stats.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define S G_USEC_PER_SEC

/* A child process writes through its own mapping of the descriptor; the
 * parent's mapping sees it: the block is shared, as between the supervisor
 * and a worker. */
static void test_shared_across_fork(void)
{
    int fd = -1;
    stats_block *b = stats_create(4, &fd);
    g_assert_nonnull(b);
    g_assert_cmpint(fd, >=, 0);
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        GError *error = NULL;
        stats_block *w = stats_attach(fd, &error);
        if (!w)
            _exit(1);
        int t0 = stats_thread_register(w), t1 = stats_thread_register(w);
        stats_loop_tick(w, 100 * S);
        stats_runtime_tick(w, 101 * S);
        for (int i = 0; i < 3; i++)
            stats_dispatch(w);
        stats_dispatch(w);
        stats_undispatch(w); /* the pool refused it */
        stats_request_begin(w, t0, 50 * S);
        stats_request_answered(w, 60 * S);
        stats_request_end(w, t0, 61 * S);
        stats_request_begin(w, t0, 70 * S);
        stats_request_begin(w, t1, 65 * S);
        /* the loop receives two requests, then hands one to the pool */
        __atomic_add_fetch(stats_receiving(w), 2, __ATOMIC_RELAXED);
        __atomic_sub_fetch(stats_receiving(w), 1, __ATOMIC_RELAXED);
        stats_unmap(w);
        _exit(t0 == 0 && t1 == 1 ? 0 : 2);
    }
    int st;
    g_assert_cmpint(waitpid(pid, &st, 0), ==, pid);
    g_assert_true(WIFEXITED(st));
    g_assert_cmpint(WEXITSTATUS(st), ==, 0);
    stats_snapshot s;
    stats_read(b, &s);
    g_assert_cmpint(s.pid, ==, pid);
    g_assert_cmpint(s.started, ==, 3);
    g_assert_cmpint(s.finished, ==, 1);
    g_assert_cmpint(s.in_flight, ==, 2);
    g_assert_cmpint(s.receiving, ==, 1);
    g_assert_cmpint(s.lost_if_dead, ==, 3);
    g_assert_cmpint(s.busy, ==, 2);
    g_assert_cmpint(s.oldest, ==, 65 * S);
    g_assert_cmpint(s.loop_tick, ==, 100 * S);
    g_assert_cmpint(s.runtime_tick, ==, 101 * S);
    g_assert_cmpint(s.last_finished, ==, 60 * S);
    stats_unmap(b);
    close(fd);
}

static void test_threads_beyond_the_block(void)
{
    int fd;
    stats_block *b = stats_create(1, &fd);
    g_assert_cmpint(stats_thread_register(b), ==, 0);
    g_assert_cmpint(stats_thread_register(b), ==, -1);
    /* a thread without an entry still counts its requests */
    stats_dispatch(b);
    stats_request_begin(b, -1, 5 * S);
    stats_request_answered(b, 6 * S);
    stats_request_end(b, -1, 6 * S);
    stats_snapshot s;
    stats_read(b, &s);
    g_assert_cmpint(s.in_flight, ==, 0);
    g_assert_cmpint(s.finished, ==, 1);
    g_assert_cmpint(s.busy, ==, 0);
    /* a NULL block (no supervisor) is a no-op */
    stats_loop_tick(NULL, 1);
    stats_dispatch(NULL);
    g_assert_cmpint(stats_thread_register(NULL), ==, -1);
    stats_unmap(b);
    close(fd);
}

static void test_attach_refuses_other_files(void)
{
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    GError *error = NULL;
    g_assert_null(stats_attach(fds[0], &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    close(fds[0]);
    close(fds[1]);
    int fd = memfd_create("zeros", 0);
    g_assert_cmpint(ftruncate(fd, 4096), ==, 0);
    g_assert_null(stats_attach(fd, &error)); /* no magic */
    g_clear_error(&error);
    close(fd);
}

/* Responses by class, the histogram's buckets (bounds inclusive), the queue
 * (handed to the pool, not begun) and the "other" slot. */
static void test_responses_and_histogram(void)
{
    int fd;
    stats_block *b = stats_create(2, &fd);
    stats_request_done(b, 0, 200, 1000, FALSE);     /* le 1 ms */
    stats_request_done(b, 0, 204, 1001, FALSE);     /* le 2.5 ms */
    stats_request_done(b, 0, 404, 61 * S, TRUE);    /* +Inf */
    stats_request_done(b, 1, 302, 60 * S, TRUE);    /* le 60 s */
    stats_request_done(b, -1, 400, 10, FALSE);      /* no application */
    stats_request_done(b, STATS_MAX_APPS, 101, 10, FALSE); /* past the maximum */
    stats_request_done(b, 2, 0, 10, FALSE);         /* no status: 5xx */
    stats_request_done(b, 2, 700, 10, FALSE);
    stats_app a[STATS_APP_SLOTS];
    stats_read_apps(b, a);
    g_assert_cmpint(a[0].responses[1], ==, 2);
    g_assert_cmpint(a[0].responses[3], ==, 1);
    g_assert_cmpint(a[0].bucket[0], ==, 1);
    g_assert_cmpint(a[0].bucket[1], ==, 1);
    g_assert_cmpint(a[0].bucket[STATS_NBUCKETS - 1], ==, 1);
    g_assert_cmpint(a[0].count, ==, 3);
    g_assert_cmpint(a[0].sum_us, ==, 2001 + 61 * S);
    g_assert_cmpint(a[0].slow, ==, 1);
    g_assert_cmpint(a[1].responses[2], ==, 1);
    g_assert_cmpint(a[1].bucket[STATS_NBUCKETS - 2], ==, 1);
    g_assert_cmpint(a[STATS_APP_OTHER].responses[3], ==, 1);
    g_assert_cmpint(a[STATS_APP_OTHER].responses[0], ==, 1);
    g_assert_cmpint(a[2].responses[4], ==, 2);
    /* queue: three handed to the pool, one begun */
    stats_dispatch(b);
    stats_dispatch(b);
    stats_dispatch(b);
    g_assert_cmpint(stats_queue(b), ==, 3);
    stats_request_begin(b, 0, 5 * S);
    g_assert_cmpint(stats_queue(b), ==, 2);
    g_assert_cmpint(stats_queue(NULL), ==, 0);
    stats_unmap(b);
    close(fd);
}

/* The current request of a thread: routed or not, idle, URI cut. */
static void test_current_request(void)
{
    int fd;
    stats_block *b = stats_create(2, &fd);
    stats_current c;
    g_assert_false(stats_read_thread(b, 0, &c)); /* idle */
    g_assert_false(stats_read_thread(b, 5, &c));
    stats_request_begin(b, 0, 7 * S);
    g_assert_true(stats_read_thread(b, 0, &c));
    g_assert_cmpint(c.app, ==, -1);
    g_assert_cmpint(c.since, ==, 7 * S);
    g_assert_cmpstr(c.uri, ==, "");
    stats_request_info(b, 0, 3, "PROPFIND-VERY-LONG-METHOD", "/a?b=\"c\"", 8);
    g_assert_true(stats_read_thread(b, 0, &c));
    g_assert_cmpint(c.app, ==, 3);
    g_assert_cmpstr(c.method, ==, "PROPFIND-VERY-L");
    g_assert_cmpstr(c.uri, ==, "/a?b=\"c\"");
    char big[1000];
    memset(big, 'x', sizeof big);
    stats_request_info(b, 0, 0, "GET", big, sizeof big);
    g_assert_true(stats_read_thread(b, 0, &c));
    g_assert_cmpuint(c.uri_len, ==, STATS_URI_MAX);
    g_assert_cmpuint(strlen(c.uri), ==, STATS_URI_MAX);
    stats_request_end(b, 0, 8 * S);
    g_assert_false(stats_read_thread(b, 0, &c));
    stats_unmap(b);
    close(fd);
}

/* The sequence lock: a writer thread rewrites its entry as fast as it can
 * with URIs made of one repeated letter whose length tells the letter; a
 * reader must never see a mix (a torn copy). */
typedef struct {
    stats_block *b;
    gint stop;
    gint64 writes;
} seq_ctx;

static gpointer seq_writer(gpointer ud)
{
    seq_ctx *x = ud;
    char uri[STATS_URI_MAX];
    gint64 n = 0;
    while (!g_atomic_int_get(&x->stop)) {
        int k = (int)(n % 26);
        gsize len = 10 + (gsize)k * 9; /* up to 235 */
        memset(uri, 'a' + k, len);
        stats_request_begin(x->b, 0, 1 + n);
        stats_request_info(x->b, 0, k, k & 1 ? "GET" : "POST", uri, len);
        stats_request_end(x->b, 0, 1 + n);
        n++;
    }
    x->writes = n;
    return NULL;
}

static void test_seqlock_no_torn_reads(void)
{
    int fd;
    seq_ctx x = {.b = stats_create(1, &fd)};
    GThread *w = g_thread_new("writer", seq_writer, &x);
    gint64 seen = 0, routed = 0, end = g_get_monotonic_time() + S / 2;
    while (g_get_monotonic_time() < end) {
        stats_current c;
        if (!stats_read_thread(x.b, 0, &c))
            continue;
        seen++;
        if (c.app < 0) {
            g_assert_cmpuint(c.uri_len, ==, 0);
            continue;
        }
        routed++;
        int k = c.app;
        g_assert_cmpint(k, <, 26);
        g_assert_cmpuint(c.uri_len, ==, 10 + (gsize)k * 9);
        for (gsize i = 0; i < c.uri_len; i++)
            g_assert_cmpint(c.uri[i], ==, 'a' + k);
        g_assert_cmpstr(c.method, ==, k & 1 ? "GET" : "POST");
    }
    g_atomic_int_set(&x.stop, 1);
    g_thread_join(w);
    g_test_message("%" G_GINT64_FORMAT " writes, %" G_GINT64_FORMAT " consistent reads (%" G_GINT64_FORMAT " routed)",
                   x.writes, seen, routed);
    g_assert_cmpint(x.writes, >, 0);
    g_assert_cmpint(seen, >, 0);
    stats_unmap(x.b);
    close(fd);
}

static stats_snapshot healthy(gint64 now)
{
    stats_snapshot s = {.loop_tick = now - S / 4, .runtime_tick = now - S};
    return s;
}

static void test_verdict(void)
{
    gint64 now = 1000 * S, since = 900 * S, hang = 10 * S, req = 60 * S;
    char *why;
    stats_snapshot s = healthy(now);
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_OK);
    g_assert_null(why);

    /* the event loop stopped */
    s.loop_tick = now - 11 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_LOOP_STUCK);
    g_assert_nonnull(strstr(why, "event loop"));
    g_free(why);
    /* ...but not before the worker has served for hang_timeout */
    g_assert_cmpint(stats_verdict(&s, now, now - 5 * S, hang, req, &why), ==, STATS_OK);
    /* ...and not with the watchdog off */
    g_assert_cmpint(stats_verdict(&s, now, since, 0, req, &why), ==, STATS_OK);

    /* the runtime's heartbeat stopped (Environment.Exit, a stuck collection) */
    s = healthy(now);
    s.runtime_tick = 0;
    s.in_flight = 3;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_RUNTIME_STUCK);
    g_assert_nonnull(strstr(why, "3 request(s)"));
    g_free(why);

    /* a request running past request_timeout; one just under it is fine */
    s = healthy(now);
    s.in_flight = 2;
    s.busy = 2;
    s.oldest = now - 61 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_REQUEST_TIMEOUT);
    g_assert_nonnull(strstr(why, "request_timeout"));
    g_free(why);
    s.oldest = now - 59 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_OK);
    /* long requests are not a hang while the loop and the runtime go on */
    s.oldest = now - 59 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, 0, &why), ==, STATS_OK);
    s.oldest = now - 1000 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, 0, &why), ==, STATS_OK);
    /* a hang is named before a timeout */
    s.loop_tick = now - 20 * S;
    g_assert_cmpint(stats_verdict(&s, now, since, hang, req, &why), ==, STATS_LOOP_STUCK);
    g_free(why);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/stats/shared_across_fork", test_shared_across_fork);
    g_test_add_func("/stats/threads_beyond_the_block", test_threads_beyond_the_block);
    g_test_add_func("/stats/attach_refuses_other_files", test_attach_refuses_other_files);
    g_test_add_func("/stats/verdict", test_verdict);
    g_test_add_func("/stats/responses_and_histogram", test_responses_and_histogram);
    g_test_add_func("/stats/current_request", test_current_request);
    g_test_add_func("/stats/seqlock_no_torn_reads", test_seqlock_no_torn_reads);
    return g_test_run();
}
