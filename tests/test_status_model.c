/* Unit tests for status_model: the percentile math, the JSON string writer,
 * totals that survive reaped workers, per-second samples, and both renderers.
 *
 * `test_status_model --dump json|metrics` prints the bodies of a model with
 * hostile strings (quotes, control characters, invalid UTF-8 in a URI and in
 * an application name) for the integration test (test_63_status_data.py)
 * to check with a JSON parser and with `promtool check metrics`. */
#include "status_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define S G_USEC_PER_SEC
#define T0 (1000 * S)
#define R0 ((gint64)1700000000 * S)

static void test_quantile(void)
{
    gint64 b[STATS_NBUCKETS] = {0};
    g_assert_cmpfloat(status_model_quantile(b, 0.5), <, 0); /* no request */
    /* 100 requests, all in (1 ms, 2.5 ms]: linear inside the bucket */
    b[1] = 100;
    g_assert_cmpfloat_with_epsilon(status_model_quantile(b, 0.5), 1750, 1e-6);
    g_assert_cmpfloat_with_epsilon(status_model_quantile(b, 0.99), 1000 + 1500 * 0.99, 1e-6);
    /* 90 fast (le 1 ms), 10 in (50 ms, 100 ms]: p50 in the first, p99 in the other */
    memset(b, 0, sizeof b);
    b[0] = 90;
    b[6] = 10;
    g_assert_cmpfloat_with_epsilon(status_model_quantile(b, 0.5), 1000.0 * 50 / 90, 1e-6);
    g_assert_cmpfloat_with_epsilon(status_model_quantile(b, 0.99), 50000 + 50000 * 0.9, 1e-6);
    /* beyond the last bound: reported as the last bound */
    memset(b, 0, sizeof b);
    b[STATS_NBUCKETS - 1] = 3;
    g_assert_cmpfloat(status_model_quantile(b, 0.5), ==, (double)stats_bucket_le_us[STATS_NBUCKETS - 2]);
}

static char *jstring(const char *s, gsize len)
{
    GString *o = g_string_new(NULL);
    status_model_json_string(o, s, len);
    return g_string_free(o, FALSE);
}

static void test_json_string(void)
{
    static const struct {
        const char *in;
        gsize len;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t\x01\x1f\x7f", 6, "\"\\n\\r\\t\\u0001\\u001f\\u007f\""},
        {"nul\0x", 5, "\"nul\\u0000x\""},
        {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},            /* valid UTF-8 kept */
        {"\xff/x", 3, "\"\\ufffd/x\""},                   /* invalid byte */
        {"a\xc3", 2, "\"a\\ufffd\""},                     /* cut sequence at the end */
        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* a surrogate is not UTF-8 */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = jstring(cases[i].in, cases[i].len);
        g_assert_cmpstr(got, ==, cases[i].out);
        g_free(got);
    }
}

static const char *const listen[] = {"tcp:127.0.0.1:8000", "unix:/run/x\"y.sock", NULL};

static status_model *new_model(const char *app0)
{
    sm_app_info apps[] = {{app0, "/", "/srv/hello"}, {"two", "/two", "/srv/two"}};
    sm_server_info info = {.version = "1.0", .pid = 42, .workers_configured = 2, .threads = 4,
                           .listen = listen, .apps = apps, .napps = 2};
    return status_model_new(&info, T0, R0);
}

static void serve(stats_block *b, int app, int status, gint64 us, int n)
{
    for (int i = 0; i < n; i++) {
        stats_dispatch(b);
        stats_request_begin(b, -1, 1);
        stats_request_answered(b, 2);
        stats_request_done(b, app, status, us, FALSE);
        stats_request_end(b, -1, 2);
    }
}

static gboolean has(const char *hay, const char *needle)
{
    if (strstr(hay, needle))
        return TRUE;
    g_test_message("not found: %s", needle);
    return FALSE;
}

/* Two workers serve; one dies and is replaced: the totals and the restarts
 * keep counting, the per-second samples show the deltas. */
static void test_totals_and_history(void)
{
    status_model *m = new_model("hello");
    int fa, fb, fc;
    stats_block *a = stats_create(4, &fa), *b = stats_create(4, &fb);
    g_assert_cmpint(status_model_worker_started(m, 101, 0, a, T0), ==, 0);
    g_assert_cmpint(status_model_worker_started(m, 102, 0, b, T0), ==, 1);
    status_model_worker_state(m, 101, SM_READY);
    status_model_worker_state(m, 102, SM_READY);
    serve(a, 0, 200, 1500, 90);
    serve(b, 1, 404, 60000, 10);
    status_model_tick(m, T0 + S, R0 + S);
    /* worker 101 crashes after 5 more; its slot goes to its replacement */
    serve(a, 0, 500, 1500, 5);
    status_model_worker_exited(m, 101, "was killed by signal 11 (crash)", SM_CRASH, 2);
    stats_unmap(a);
    stats_block *c = stats_create(4, &fc);
    g_assert_cmpint(status_model_worker_started(m, 103, 0, c, T0 + S), ==, 0);
    serve(c, 0, 302, 1500, 20);
    status_model_tick(m, T0 + 3 * S, R0 + 3 * S); /* two seconds: rates halve */
    /* a request in progress in the new worker */
    stats_dispatch(c);
    stats_request_begin(c, 0, T0 + 2 * S);
    stats_request_info(c, 0, 1, "GET", "/two/slow.aspx?q=\"x\"\x01", 21);
    stats_dispatch(c); /* queued */

    char *j = status_model_json(m, T0 + 4 * S, R0 + 4 * S, NULL);
    g_test_message("%s", j);
    g_assert_true(has(j, "\"requests\":125,"));
    g_assert_true(has(j, "\"responses\":{\"1xx\":0,\"2xx\":90,\"3xx\":20,\"4xx\":10,\"5xx\":5}"));
    g_assert_true(has(j, "\"lost\":2,"));
    g_assert_true(has(j, "\"active\":1,\"queue\":1,"));
    g_assert_true(has(j, "\"requests_per_second\":12.500,"));
    g_assert_true(has(j, "\"restarts\":1,\"restarts_by_reason\":{\"crash\":1,\"hang\":0,"));
    g_assert_true(has(j, "\"rps\":[100.000,12.500]"));
    g_assert_true(has(j, "\"2xx\":[90.000,0.000]"));
    g_assert_true(has(j, "\"3xx\":[0.000,10.000]"));
    g_assert_true(has(j, "\"5xx\":[0.000,2.500]"));
    /* p50 of 90 in (1, 2.5] ms and 10 in (50, 100] ms; p99 in the slow bucket */
    g_assert_true(has(j, "\"p50_ms\":[1.833,1.750]"));
    g_assert_true(has(j, "\"p99_ms\":[95.000,2.485]"));
    g_assert_true(has(j, "{\"slot\":0,\"pid\":103,\"generation\":0,\"state\":\"starting\""));
    g_assert_true(has(j, "\"restarts\":1,\"last_exit\":\"was killed by signal 11 (crash)\"}"));
    g_assert_true(has(j, "\"last_exit\":null}"));
    g_assert_true(has(j, "\"requests\":[{\"worker\":103,\"app\":\"two\",\"method\":\"GET\","
                         "\"uri\":\"/two/slow.aspx?q=\\\"x\\\"\\u0001\",\"running\":2.000}]"));
    g_assert_true(has(j, "\"listen\":[\"tcp:127.0.0.1:8000\",\"unix:/run/x\\\"y.sock\"]"));
    g_free(j);

    char *p = status_model_metrics(m, T0 + 4 * S, R0 + 4 * S, NULL);
    g_test_message("%s", p);
    g_assert_true(has(p, "# TYPE scgimono_requests_total counter\n"));
    g_assert_true(has(p, "scgimono_requests_total{app=\"hello\",code=\"2xx\"} 90\n"));
    g_assert_true(has(p, "scgimono_requests_total{app=\"hello\",code=\"5xx\"} 5\n"));
    g_assert_true(has(p, "scgimono_requests_total{app=\"two\",code=\"4xx\"} 10\n"));
    g_assert_true(has(p, "scgimono_requests_total{app=\"(other)\",code=\"2xx\"} 0\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_bucket{app=\"hello\",le=\"0.001\"} 0\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_bucket{app=\"hello\",le=\"0.0025\"} 115\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_bucket{app=\"hello\",le=\"+Inf\"} 115\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_count{app=\"hello\"} 115\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_sum{app=\"hello\"} 0.172500\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_bucket{app=\"two\",le=\"0.05\"} 0\n"));
    g_assert_true(has(p, "scgimono_request_duration_seconds_bucket{app=\"two\",le=\"0.1\"} 10\n"));
    g_assert_true(has(p, "scgimono_queue_length 1\n"));
    g_assert_true(has(p, "scgimono_active_requests 1\n"));
    g_assert_true(has(p, "scgimono_workers{state=\"starting\"} 1\n"));
    g_assert_true(has(p, "scgimono_workers{state=\"ready\"} 1\n"));
    g_assert_true(has(p, "scgimono_workers{state=\"draining\"} 0\n"));
    g_assert_true(has(p, "scgimono_worker_restarts_total{reason=\"crash\"} 1\n"));
    g_assert_true(has(p, "scgimono_worker_restarts_total{reason=\"app_change\"} 0\n"));
    g_assert_true(has(p, "scgimono_resident_memory_bytes{pid=\"102\"} "));
    g_assert_true(has(p, "scgimono_lost_requests_total 2\n"));
    g_assert_true(has(p, "scgimono_start_time_seconds 1700000000.000000\n"));
    g_assert_true(has(p, "scgimono_up 1\n"));
    g_free(p);

    char *line = status_model_log_line(m, T0 + 5 * S);
    g_test_message("%s", line);
    g_assert_true(has(line, "125 requests (125 in 5.0 s, 25.0/s)"));
    g_assert_true(has(line, "responses 1xx 0 2xx 90 3xx 20 4xx 10 5xx 5; queue 1; busy 1;"));
    g_assert_true(has(line, "restarts 1"));
    g_free(line);
    serve(b, 1, 200, 10, 3);
    line = status_model_log_line(m, T0 + 6 * S);
    g_assert_true(has(line, "128 requests (3 in 1.0 s, 3.0/s); responses 1xx 0 2xx 3 3xx 0 4xx 0 5xx 0;"));
    g_assert_true(has(line, "restarts 0"));
    g_free(line);

    status_model_free(m);
    stats_unmap(b);
    stats_unmap(c);
    close(fa);
    close(fb);
    close(fc);
}

/* An overlapped replacement (recycling, reload) starts before the old worker
 * exits: it takes the old one's slot over when that one exits. */
static void test_overlapped_replacement_takes_the_slot(void)
{
    status_model *m = new_model("hello"); /* workers_configured = 2 */
    int f1, f2, f3;
    stats_block *a = stats_create(1, &f1), *b = stats_create(1, &f2), *c = stats_create(1, &f3);
    status_model_worker_started(m, 101, 0, a, T0);
    status_model_worker_started(m, 102, 0, b, T0);
    g_assert_cmpint(status_model_worker_started(m, 103, 0, c, T0 + S), ==, 2);
    status_model_worker_exited(m, 102, "exited with status 0 (recycled after 40 requests)", SM_MAX_REQUESTS, 0);
    char *j = status_model_json(m, T0 + 2 * S, R0 + 2 * S, NULL);
    g_assert_true(has(j, "{\"slot\":0,\"pid\":101,"));
    g_assert_true(has(j, "{\"slot\":1,\"pid\":103,"));
    g_assert_true(has(j, "\"restarts\":1,\"last_exit\":\"exited with status 0 (recycled after 40 requests)\"}"));
    g_assert_true(has(j, "\"max_requests\":1,"));
    g_free(j);
    /* a new worker now gets slot 2 again (0 and 1 are held) */
    g_assert_cmpint(status_model_worker_started(m, 104, 1, a, T0 + 3 * S), ==, 2);
    status_model_free(m);
    stats_unmap(a);
    stats_unmap(b);
    stats_unmap(c);
    close(f1);
    close(f2);
    close(f3);
}

/* No sample yet, no worker: nulls where there is no figure. */
static void test_empty(void)
{
    status_model *m = new_model("hello");
    char *j = status_model_json(m, T0, R0, NULL);
    g_assert_true(has(j, "\"requests_per_second\":0.000,\"p50_ms\":null,\"p99_ms\":null"));
    g_assert_true(has(j, "\"rps\":[]"));
    g_assert_true(has(j, "\"workers\":[],\"requests\":[]}"));
    g_free(j);
    status_model_tick(m, T0 + S, R0 + S);
    j = status_model_json(m, T0 + S, R0 + S, NULL);
    g_assert_true(has(j, "\"p50_ms\":[null]"));
    g_free(j);
    status_model_free(m);
}

/* The history keeps the last STATUS_HISTORY samples, oldest first. */
static void test_ring(void)
{
    status_model *m = new_model("hello");
    int fd;
    stats_block *b = stats_create(1, &fd);
    status_model_worker_started(m, 7, 0, b, T0);
    for (int i = 1; i <= STATUS_HISTORY + 5; i++) {
        serve(b, 0, 200, 10, i);
        status_model_tick(m, T0 + i * S, R0 + i * S);
    }
    char *j = status_model_json(m, T0 + 400 * S, R0 + 400 * S, NULL);
    g_assert_true(has(j, "\"rps\":[6.000,7.000,"));
    g_assert_true(has(j, ",305.000],"));
    g_free(j);
    status_model_free(m);
    stats_unmap(b);
    close(fd);
}

/* Label values are escaped; invalid UTF-8 is made valid. */
static void test_metrics_labels(void)
{
    status_model *m = new_model("we\"ird\\app\nname\xff");
    char *p = status_model_metrics(m, T0, R0, NULL);
    g_assert_true(has(p, "scgimono_requests_total{app=\"we\\\"ird\\\\app\\nname\xef\xbf\xbd\",code=\"1xx\"} 0\n"));
    g_free(p);
    status_model_free(m);
}

/* For the integration test: bodies with hostile strings. */
static int dump(const char *what)
{
    status_model *m = new_model("h\"\\\x01\xc3(app)");
    int fd;
    stats_block *b = stats_create(2, &fd);
    status_model_worker_started(m, (int)getpid(), 3, b, T0);
    status_model_worker_state(m, (int)getpid(), SM_DRAINING);
    serve(b, 0, 200, 3000, 50);
    serve(b, 1, 503, 70 * S, 1);
    serve(b, -1, 400, 10, 2);
    status_model_tick(m, T0 + S, R0 + S);
    stats_request_begin(b, 0, T0);
    stats_request_info(b, 0, 0, "GET", "/\xff\xfe\"\\\n\x7f\xe2\x82", 9);
    stats_request_begin(b, 1, T0 + S / 2);
    status_model_worker_exited(m, 999, "not a worker", SM_HANG, 0); /* unknown pid: ignored */
    char *body = g_strcmp0(what, "json") == 0 ? status_model_json(m, T0 + 2 * S, R0 + 2 * S, NULL)
                                              : status_model_metrics(m, T0 + 2 * S, R0 + 2 * S, NULL);
    fputs(body, stdout);
    g_free(body);
    status_model_free(m);
    stats_unmap(b);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0)
        return dump(argv[2]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/status_model/quantile", test_quantile);
    g_test_add_func("/status_model/json_string", test_json_string);
    g_test_add_func("/status_model/totals_and_history", test_totals_and_history);
    g_test_add_func("/status_model/overlapped_replacement_takes_the_slot", test_overlapped_replacement_takes_the_slot);
    g_test_add_func("/status_model/empty", test_empty);
    g_test_add_func("/status_model/ring", test_ring);
    g_test_add_func("/status_model/metrics_labels", test_metrics_labels);
    return g_test_run();
}
