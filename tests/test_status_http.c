/* Unit tests for status_http.c: the request-head parser (well-formed heads,
 * each malformation, the size limit, partial input), the responses (routes,
 * 404, 405 with Allow, HEAD without body, 400, 431, 500) and the server in an
 * epoll loop over loopback (a request answered, eviction of idle connections
 * past the limit, the per-connection deadline, a client that never reads). */
#include "status_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static status_http_parse_result parse(const char *s, status_http_request *r)
{
    return status_http_parse(s, strlen(s), STATUS_HTTP_MAX_HEAD, r);
}

static void test_parse_good(void)
{
    status_http_request r;
    g_assert_cmpint(parse("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", &r), ==, STATUS_HTTP_OK);
    g_assert_cmpint(r.method, ==, STATUS_HTTP_GET);
    g_assert_cmpint(r.minor, ==, 1);
    g_assert_cmpint(r.path_len, ==, 7);
    g_assert_true(strncmp(r.path, "/status", 7) == 0);
    g_assert_cmpint(r.head_len, ==, strlen("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));

    g_assert_cmpint(parse("HEAD /status.json?x=1&y HTTP/1.0\n\n", &r), ==, STATUS_HTTP_OK);
    g_assert_cmpint(r.method, ==, STATUS_HTTP_HEAD);
    g_assert_cmpint(r.minor, ==, 0);
    g_assert_cmpint(r.path_len, ==, strlen("/status.json"));

    g_assert_cmpint(parse("DELETE /metrics HTTP/1.1\r\nA:\r\nB: \t v\r\n\r\nbody", &r), ==, STATUS_HTTP_OK);
    g_assert_cmpint(r.method, ==, STATUS_HTTP_OTHER);
    g_assert_cmpint(r.path_len, ==, strlen("/metrics"));
    /* get in lower case is another method (methods are case-sensitive) */
    g_assert_cmpint(parse("get / HTTP/1.1\r\n\r\n", &r), ==, STATUS_HTTP_OK);
    g_assert_cmpint(r.method, ==, STATUS_HTTP_OTHER);
}

static void test_parse_incomplete(void)
{
    status_http_request r;
    const char *full = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
    for (gsize n = 0; n < strlen(full); n++)
        g_assert_cmpint(status_http_parse(full, n, STATUS_HTTP_MAX_HEAD, &r), ==, STATUS_HTTP_INCOMPLETE);
}

static void test_parse_bad(void)
{
    static const char *const bad[] = {
        "\r\nGET / HTTP/1.1\r\n\r\n",       /* empty request line */
        "GET  / HTTP/1.1\r\n\r\n",          /* two spaces */
        "GET / HTTP/1.1 \r\n\r\n",          /* trailing space */
        "GET status HTTP/1.1\r\n\r\n",      /* not origin form */
        "GET * HTTP/1.1\r\n\r\n",
        "GET http://x/status HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "GET / HTTP/1.10\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET /\r\n\r\n",                    /* HTTP/0.9 */
        "GET /a\x01 HTTP/1.1\r\n\r\n",
        "GET /\xc3\xa9 HTTP/1.1\r\n\r\n",   /* raw non-ASCII in the target */
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon\r\n\r\n",
        "GET / HTTP/1.1\r\nName : v\r\n\r\n",
        "GET / HTTP/1.1\r\n: v\r\n\r\n",
        "GET / HTTP/1.1\r\nA: v\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nA: v\rB: w\r\n\r\n", /* bare CR */
        "GET / HTTP/1.1\rX\r\n\r\n",
        "GET / HTTP/1.1\r\nA: \x7f\r\n\r\n",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        status_http_request r;
        if (parse(bad[i], &r) != STATUS_HTTP_BAD)
            g_error("not refused: %s", g_strescape(bad[i], NULL));
    }
    /* a NUL byte in a header value */
    const char nul[] = "GET / HTTP/1.1\r\nA: x\0y\r\n\r\n";
    status_http_request r;
    g_assert_cmpint(status_http_parse(nul, sizeof nul - 1, STATUS_HTTP_MAX_HEAD, &r), ==, STATUS_HTTP_BAD);
}

static void test_parse_limit(void)
{
    status_http_request r;
    GString *s = g_string_new("GET / HTTP/1.1\r\n");
    while (s->len < STATUS_HTTP_MAX_HEAD + 100)
        g_string_append(s, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    g_string_append(s, "\r\n");
    g_assert_cmpint(status_http_parse(s->str, STATUS_HTTP_MAX_HEAD, STATUS_HTTP_MAX_HEAD, &r), ==,
                    STATUS_HTTP_TOO_LARGE);
    g_assert_cmpint(status_http_parse(s->str, s->len, STATUS_HTTP_MAX_HEAD, &r), ==, STATUS_HTTP_TOO_LARGE);
    /* one long line without an end */
    char *line = g_strnfill(STATUS_HTTP_MAX_HEAD, 'a');
    memcpy(line, "GET /", 5);
    g_assert_cmpint(status_http_parse(line, STATUS_HTTP_MAX_HEAD, STATUS_HTTP_MAX_HEAD, &r), ==,
                    STATUS_HTTP_TOO_LARGE);
    /* exactly at the limit: accepted */
    GString *fit = g_string_new("GET / HTTP/1.1\r\nX: ");
    while (fit->len < STATUS_HTTP_MAX_HEAD - 4)
        g_string_append_c(fit, 'b');
    g_string_append(fit, "\r\n\r\n");
    g_assert_cmpint(fit->len, ==, STATUS_HTTP_MAX_HEAD);
    g_assert_cmpint(status_http_parse(fit->str, fit->len, STATUS_HTTP_MAX_HEAD, &r), ==, STATUS_HTTP_OK);
    g_string_free(s, TRUE);
    g_string_free(fit, TRUE);
    g_free(line);
}

/* ---- responses ---- */

static int renders;

static char *render_hello(void *ud, gsize *len)
{
    renders++;
    *len = strlen(ud);
    return g_strdup(ud);
}

static char *render_fail(void *ud, gsize *len)
{
    (void)ud;
    *len = 0;
    return NULL;
}

static const status_route routes[] = {
    {"/status", "text/html; charset=utf-8", render_hello, "<p>hi</p>"},
    {"/status.json", "application/json", render_hello, "{\"a\": 1}"},
    {"/broken", "text/plain", render_fail, NULL},
};

static char *respond(const char *req)
{
    status_http_request r;
    status_http_parse_result pr = parse(req, &r);
    GBytes *b = status_http_respond(pr, &r, routes, G_N_ELEMENTS(routes));
    gsize n = 0;
    char *s = g_strndup(g_bytes_get_data(b, &n), g_bytes_get_size(b));
    g_bytes_unref(b);
    return s;
}

static void test_respond(void)
{
    char *s = respond("GET /status.json?since=3 HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 200 OK\r\n"));
    g_assert_nonnull(strstr(s, "\r\nContent-Type: application/json\r\n"));
    g_assert_nonnull(strstr(s, "\r\nContent-Length: 8\r\n"));
    g_assert_nonnull(strstr(s, "\r\nCache-Control: no-store\r\n"));
    g_assert_nonnull(strstr(s, "\r\nConnection: close\r\n"));
    g_assert_null(strstr(s, "Content-Security-Policy"));
    g_assert_true(g_str_has_suffix(s, "\r\n\r\n{\"a\": 1}"));
    g_free(s);

    s = respond("GET /status HTTP/1.0\r\n\r\n");
    g_assert_nonnull(strstr(s, "\r\nContent-Security-Policy: default-src 'none';"));
    g_assert_true(g_str_has_suffix(s, "\r\n\r\n<p>hi</p>"));
    g_free(s);

    renders = 0;
    s = respond("HEAD /status HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 200 OK\r\n"));
    g_assert_nonnull(strstr(s, "\r\nContent-Length: 9\r\n"));
    g_assert_true(g_str_has_suffix(s, "\r\n\r\n"));
    g_free(s);

    s = respond("GET /nothing HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 404 Not Found\r\n"));
    g_free(s);
    s = respond("GET /status/ HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 404 "));
    g_free(s);
    s = respond("GET /statu HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 404 "));
    g_free(s);
    s = respond("HEAD /nothing HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 404 "));
    g_assert_true(g_str_has_suffix(s, "\r\n\r\n"));
    g_free(s);

    renders = 0;
    s = respond("POST /status HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 405 Method Not Allowed\r\n"));
    g_assert_nonnull(strstr(s, "\r\nAllow: GET, HEAD\r\n"));
    g_assert_cmpint(renders, ==, 0);
    g_free(s);

    s = respond("GET /status HTTP/9.9\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 400 Bad Request\r\n"));
    g_assert_nonnull(strstr(s, "\r\nConnection: close\r\n"));
    g_free(s);

    s = respond("GET /broken HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 500 "));
    g_free(s);

    status_http_request r = {0};
    GBytes *b = status_http_respond(STATUS_HTTP_TOO_LARGE, &r, routes, G_N_ELEMENTS(routes));
    g_assert_true(g_str_has_prefix(g_bytes_get_data(b, NULL), "HTTP/1.1 431 "));
    g_bytes_unref(b);
}

/* ---- the server over loopback ---- */

typedef struct {
    int epfd;
    status_http *h;
    int port;
} server;

static void server_open(server *sv)
{
    sv->epfd = epoll_create1(EPOLL_CLOEXEC);
    GError *error = NULL;
    /* port 0 is not a valid spec: find a free one */
    for (int tries = 0; tries < 20 && !sv->h; tries++) {
        int probe = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        g_assert_cmpint(bind(probe, (struct sockaddr *)&a, sizeof a), ==, 0);
        getsockname(probe, (struct sockaddr *)&a, &al);
        close(probe);
        sv->port = ntohs(a.sin_port);
        char *text = g_strdup_printf("tcp:127.0.0.1:%d", sv->port);
        listen_spec *spec = config_parse_listen(text, &error);
        g_assert_no_error(error);
        sv->h = status_http_open(spec, 0660, routes, G_N_ELEMENTS(routes), sv->epfd, &error);
        g_clear_error(&error);
        listen_spec_free(spec);
        g_free(text);
    }
    g_assert_nonnull(sv->h);
}

static void server_turn(server *sv, int timeout_ms)
{
    struct epoll_event evs[16];
    int n = epoll_wait(sv->epfd, evs, G_N_ELEMENTS(evs), timeout_ms);
    for (int i = 0; i < n; i++) {
        g_assert_true(evs[i].data.u64 & STATUS_HTTP_TAG);
        status_http_event(sv->h, evs[i].data.u64, evs[i].events);
    }
}

static int client(server *sv)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sv->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
    return fd;
}

/* Runs the loop until fd has the whole response (EOF): its text. */
static char *exchange(server *sv, int fd, const char *req)
{
    if (req)
        g_assert_cmpint(send(fd, req, strlen(req), 0), ==, (ssize_t)strlen(req));
    GString *got = g_string_new(NULL);
    for (int turns = 0; turns < 200; turns++) {
        server_turn(sv, 10);
        char buf[4096];
        ssize_t r;
        while ((r = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
            g_string_append_len(got, buf, r);
        if (r == 0)
            return g_string_free(got, FALSE);
    }
    g_error("no end of response: %s", got->str);
    return NULL;
}

static void test_server_answers(void)
{
    server sv = {0};
    server_open(&sv);
    int fd = client(&sv);
    char *s = exchange(&sv, fd, "GET /status.json HTTP/1.1\r\nHost: a\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 200 OK\r\n"));
    g_assert_true(g_str_has_suffix(s, "{\"a\": 1}"));
    g_free(s);
    close(fd);
    /* the request in small pieces, then a half-close */
    fd = client(&sv);
    const char *req = "GET /status HTTP/1.1\r\n\r\n";
    for (const char *p = req; *p; p++) {
        g_assert_cmpint(send(fd, p, 1, 0), ==, 1);
        server_turn(&sv, 5);
    }
    shutdown(fd, SHUT_WR);
    s = exchange(&sv, fd, NULL);
    g_assert_true(g_str_has_suffix(s, "<p>hi</p>"));
    g_free(s);
    close(fd);
    for (int i = 0; i < 20; i++)
        server_turn(&sv, 5);
    g_assert_cmpuint(status_http_connections(sv.h), ==, 0);
    status_http_free(sv.h);
    close(sv.epfd);
}

static void test_server_evicts_idle_and_times_out(void)
{
    server sv = {0};
    server_open(&sv);
    int idle[STATUS_HTTP_MAX_CONNS + 8];
    for (gsize i = 0; i < G_N_ELEMENTS(idle); i++) {
        idle[i] = client(&sv);
        server_turn(&sv, 5);
    }
    for (int i = 0; i < 10; i++)
        server_turn(&sv, 5);
    g_assert_cmpuint(status_http_connections(sv.h), ==, STATUS_HTTP_MAX_CONNS);
    /* a client that sends a request is answered even so */
    int fd = client(&sv);
    char *s = exchange(&sv, fd, "GET /status.json HTTP/1.1\r\n\r\n");
    g_assert_true(g_str_has_prefix(s, "HTTP/1.1 200 OK\r\n"));
    g_free(s);
    close(fd);
    g_assert_cmpuint(status_http_connections(sv.h), <=, STATUS_HTTP_MAX_CONNS);
    /* past the deadline, every idle one is closed */
    status_http_tick(sv.h, g_get_monotonic_time() + (STATUS_HTTP_TIMEOUT_S + 1) * G_USEC_PER_SEC);
    g_assert_cmpuint(status_http_connections(sv.h), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(idle); i++) {
        char c;
        g_assert_cmpint(recv(idle[i], &c, 1, 0), <=, 0);
        close(idle[i]);
    }
    status_http_free(sv.h);
    close(sv.epfd);
}

/* A client that asks for a large body and never reads: the server's loop
 * keeps turning (non-blocking writes) and the deadline closes it. */
static char *render_big(void *ud, gsize *len)
{
    (void)ud;
    *len = 8 << 20;
    return g_malloc0(*len);
}

static void test_server_reader_that_never_reads(void)
{
    static const status_route big[] = {{"/big", "application/octet-stream", render_big, NULL}};
    server sv = {.epfd = epoll_create1(EPOLL_CLOEXEC)};
    GError *error = NULL;
    char *dir = g_dir_make_tmp("status_http-XXXXXX", &error);
    char *path = g_build_filename(dir, "s.sock", NULL), *text = g_strdup_printf("unix:%s", path);
    listen_spec *spec = config_parse_listen(text, &error);
    g_assert_no_error(error);
    sv.h = status_http_open(spec, 0600, big, 1, sv.epfd, &error);
    g_assert_no_error(error);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un { sa_family_t f; char p[108]; } a = {.f = AF_UNIX};
    g_strlcpy(a.p, path, sizeof a.p);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&a, sizeof a), ==, 0);
    const char *req = "GET /big HTTP/1.1\r\n\r\n";
    g_assert_cmpint(send(fd, req, strlen(req), 0), ==, (ssize_t)strlen(req));
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < 50; i++)
        server_turn(&sv, 2);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC);
    g_assert_cmpuint(status_http_connections(sv.h), ==, 1);
    status_http_tick(sv.h, g_get_monotonic_time() + (STATUS_HTTP_TIMEOUT_S + 1) * G_USEC_PER_SEC);
    g_assert_cmpuint(status_http_connections(sv.h), ==, 0);
    close(fd);
    listen_spec_free(spec);
    status_http_free(sv.h);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    close(sv.epfd);
    rmdir(dir);
    g_free(dir);
    g_free(path);
    g_free(text);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/status_http/parse/good", test_parse_good);
    g_test_add_func("/status_http/parse/incomplete", test_parse_incomplete);
    g_test_add_func("/status_http/parse/bad", test_parse_bad);
    g_test_add_func("/status_http/parse/limit", test_parse_limit);
    g_test_add_func("/status_http/respond", test_respond);
    g_test_add_func("/status_http/server/answers", test_server_answers);
    g_test_add_func("/status_http/server/evicts_idle_and_times_out", test_server_evicts_idle_and_times_out);
    g_test_add_func("/status_http/server/reader_that_never_reads", test_server_reader_that_never_reads);
    return g_test_run();
}
