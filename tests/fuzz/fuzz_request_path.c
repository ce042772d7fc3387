/* libFuzzer harness for the whole request path, minus Mono.
 *
 * The real event loop (conn.c), worker pool, body reading (body.c), routing
 * (route.c) and response framing (response.c) run in this process, listening
 * on a UNIX socket; each input is one client connection. Where the server
 * would enter Mono, a small C application stands in: it reads the variables
 * ASP.NET would read, reads the body (all, half or none of it), and answers
 * with what it saw, in one piece or flushed in parts.
 *
 * Input: two selector bytes, then the bytes the client sends.
 *   byte 0: how they are written: 0 = at once; k = pieces of 1..k bytes
 *   byte 1: bits 0-1 how much body the application reads: all, none, half, all
 *           bit 2   the application flushes after every line (a chunked or
 *                   close-delimited response instead of Content-Length)
 *           bit 3   the client half-closes only after reading a first answer
 *           bit 4   a large response: after its lines the application writes
 *                   "big=N\n" and N (256..767 KiB) pattern bytes in pieces of
 *                   1..70000 bytes, some flushed
 *           bit 5   every other piece of it is sent from a file (resp_file, or
 *                   copied when resp_file declines, as the managed side does)
 *           bit 6   the client reads nothing for 30 ms when the answer starts
 *           bit 7   the client reads slowly (4 KiB at a time, 0.2 ms apart)
 * The server's limits are small (max_header 1024, body_buffer 64, max_body
 * 4096, max_spool 3000, write_buffer 16384), so bodies in memory, spooled,
 * over the spool budget and refused, and responses written at once, parked
 * (memory and files) and waited for past write_buffer are all within reach.
 *
 * Invariants (abort on violation):
 *  - after the client has sent everything and half-closed, the server closes
 *    the connection within 10 s (nothing a client sends can hang it);
 *  - what comes back is a sequence of responses, each starting with
 *    "HTTP/1.1 " (plain HTTP) or "Status: " (SCGI), or nothing; each body of
 *    the application's (Content-Length, chunked or close-delimited, decoded)
 *    ends, in large mode, with "big=N\n" and exactly the N pattern bytes in
 *    order: parked memory and files never reorder, drop or repeat a byte;
 *  - afterwards no connection stays open, no request stays queued, the spool
 *    budget is back to 0 and no descriptor of the pattern file is left open
 *    (no leak of connections, spool files, parked files, workers);
 *  - the application only ever gets whole bodies (in memory or spooled): it
 *    reads exactly the announced length, never fails, never more; variables
 *    are NUL-terminated pairs with non-empty names;
 *  - ASan/UBSan: no memory error, no undefined behaviour, in any of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "body.h"
#include "fuzz_check.h"
#include "config.h"
#include "conn.h"
#include "listener.h"
#include "pool.h"
#include "response.h"
#include "route.h"
#include "urlpath.h"


static config cfg;
static GPtrArray *listeners;
static pool *workers;
static server *srv;
static char sock_path[108];
static int app_mode; /* byte 1 of the current input; read by the worker */
static gsize big_len; /* large mode: pattern bytes per response, from the input */
static guint32 big_seed;
static char *pattern_path; /* a file holding the pattern from offset 0 */
#define PATTERN_FILE (1u << 20)

static guint8 pattern(gsize p) { return (guint8)((p * 131) ^ (p >> 11)); }

/* Large mode: "big=N\n" and N pattern bytes in pieces, from memory or the file. */
static void write_big(request *c)
{
    char line[64];
    int k = g_snprintf(line, sizeof line, "big=%zu\n", big_len);
    resp_body(c, line, (gsize)k);
    int fd = open(pattern_path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    guint8 *buf = g_malloc(70000);
    guint32 r = big_seed;
    for (gsize at = 0, i = 0; at < big_len; i++) {
        r = r * 1103515245u + 12345u;
        gsize n = MIN(big_len - at, 1 + (r >> 8) % 70000);
        if ((app_mode & 32) && (i & 1)) {
            if (!resp_file(c, fd, (gint64)at, (gint64)n)) {
                CHECK(pread(fd, buf, n, (off_t)at) == (ssize_t)n);
                resp_body(c, (char *)buf, n);
            }
        } else {
            for (gsize j = 0; j < n; j++)
                buf[j] = pattern(at + j);
            resp_body(c, (char *)buf, n);
        }
        if (r & (1u << 30))
            resp_flush(c, FALSE);
        at += n;
    }
    g_free(buf);
    close(fd);
}

static void quiet(const gchar *d, GLogLevelFlags l, const gchar *m, gpointer ud)
{
    (void)d, (void)ud;
    if (l & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        fprintf(stderr, "%s\n", m);
}

/* The stand-in for ASP.NET. */
static void run_app(int app, request *c, const route_req *rr, void *ud)
{
    /* route hands over a canonical path under the chosen mount, never a private one */
    const app_spec *as = g_ptr_array_index((GPtrArray *)ud, (guint)app);
    CHECK(rr->status == 0 && rr->app == app);
    CHECK(rr->path->str[0] == '/' && !strstr(rr->path->str, "//") && !strstr(rr->path->str, "/."));
    CHECK(urlpath_under(rr->path->str, as->vpath, FALSE) != NULL);
    CHECK(!urlpath_is_private(rr->path->str, as->vpath));
    gsize pos = 0, nl, vl;
    const char *n, *v;
    int vars = 0;
    while (scgi_block_next(c->vars, c->vars_len, &pos, &n, &nl, &v, &vl)) {
        CHECK(nl > 0 && n[nl] == '\0' && v[vl] == '\0');
        vars++;
    }
    CHECK(pos == c->vars_len);
    const char *uri = request_var(c, "REQUEST_URI", NULL);
    gint64 want = (app_mode & 3) == 1 ? 0 : (app_mode & 3) == 2 ? c->body_total / 2 : c->body_total;
    gint64 got = 0;
    guint32 sum = 0;
    gboolean failed = FALSE;
    char buf[700];
    while (got < want) {
        gssize r = body_read(c, buf, (gsize)MIN((gint64)sizeof buf, want - got));
        if (r < 0) {
            failed = TRUE;
            break;
        }
        CHECK(r > 0); /* 0 only at the end of the body */
        for (gssize i = 0; i < r; i++)
            sum += (guint8)buf[i];
        got += r;
    }
    if (!failed && want == c->body_total)
        CHECK(body_read(c, buf, sizeof buf) == 0);
    CHECK(!failed); /* the loop hands over whole bodies only */
    char line[256];
    static const rh_header head = {"Content-Type", 12, "text/plain", 10};
    resp_start(c, 200, NULL, 0, &head, 1);
    int k = g_snprintf(line, sizeof line, "app=%d\nvars=%d\nuri=%s\n", app, vars, uri ? uri : "");
    resp_body(c, line, (gsize)MIN(k, (int)sizeof line - 1));
    if (app_mode & 4)
        resp_flush(c, FALSE);
    k = g_snprintf(line, sizeof line, "body=%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " sum=%u\n", got,
                   c->body_total, sum);
    resp_body(c, line, (gsize)k);
    if (app_mode & 16)
        write_big(c);
    resp_flush(c, TRUE);
}

static void work(gpointer item, gpointer ud)
{
    conn *c = item;
    route_serve(ud, &c->req, run_app, ud);
    conn_done(c);
}

static gboolean dispatch(conn *c, void *ud)
{
    (void)ud;
    return pool_push(workers, c);
}

static int busy(void *ud)
{
    (void)ud;
    return pool_busy(workers);
}

static void *loop_main(void *arg)
{
    (void)arg;
    server_run(srv);
    return NULL;
}

static app_spec *spec(const char *vhost, const char *vpath)
{
    app_spec *a = g_new0(app_spec, 1);
    a->name = g_strdup(vpath);
    a->vhost = vhost ? g_strdup(vhost) : NULL;
    a->vpath = g_strdup(vpath);
    a->path = g_strdup("/nonexistent");
    a->apache_status = -1;
    return a;
}

static void start_server(void)
{
    g_log_set_default_handler(quiet, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    cfg.threads = 2;
    cfg.queue = 64;
    cfg.max_connections = 64;
    cfg.max_header = 1024;
    cfg.max_headers = 100;
    cfg.max_body = 4096;
    cfg.body_buffer = 64;
    cfg.max_spool = 3000; /* a body of 3000..4096 bytes meets the spool budget */
    cfg.header_timeout = cfg.body_timeout = cfg.write_timeout = cfg.keepalive_timeout = 5;
    cfg.shutdown_timeout = 1;
    cfg.write_buffer = 16384;
    cfg.apache_status = TRUE;
    cfg.scgi_lenient = FALSE;
    cfg.apps = g_ptr_array_new();
    g_ptr_array_add(cfg.apps, spec(NULL, "/"));
    g_ptr_array_add(cfg.apps, spec(NULL, "/app"));
    g_ptr_array_add(cfg.apps, spec("example.org", "/"));

    char *dir = g_dir_make_tmp("fuzz-request-path-XXXXXX", NULL);
    CHECK(dir != NULL);
    g_setenv("TMPDIR", dir, TRUE); /* spool files */
    pattern_path = g_build_filename(dir, "pattern", NULL);
    guint8 *pat = g_malloc(PATTERN_FILE);
    for (gsize i = 0; i < PATTERN_FILE; i++)
        pat[i] = pattern(i);
    CHECK(g_file_set_contents(pattern_path, (char *)pat, PATTERN_FILE, NULL));
    g_free(pat);
    g_snprintf(sock_path, sizeof sock_path, "%s/s", dir);
    char *text = g_strdup_printf("unix:%s", sock_path);
    listen_spec *ls = config_parse_listen(text, NULL);
    CHECK(ls != NULL);
    listeners = g_ptr_array_new();
    g_ptr_array_add(listeners, listener_open(ls, 0600, 64, NULL));
    CHECK(g_ptr_array_index(listeners, 0) != NULL);
    listen_spec_free(ls);

    pool_opts po = {.threads = cfg.threads, .queue = cfg.queue, .work = work, .ud = cfg.apps};
    workers = pool_new(&po);
    server_opts so = {.cfg = &cfg, .listeners = listeners, .dispatch = dispatch, .busy = busy};
    srv = server_new(&so, NULL);
    CHECK(srv != NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, loop_main, NULL) == 0);
    pthread_detach(t);
    g_free(text);
    g_free(dir);
}

/* A body of the application's, in large mode, ends with "big=N\n" and the N
 * pattern bytes. */
static void check_body(const char *b, size_t len)
{
    if (!(app_mode & 16) || len < 4 || memcmp(b, "app=", 4) != 0)
        return; /* not the application's (a refusal), or no body (HEAD) */
    char tail[64];
    int k = g_snprintf(tail, sizeof tail, "big=%zu\n", big_len);
    CHECK(len >= big_len + (size_t)k);
    const char *big = b + len - big_len;
    CHECK(memcmp(big - k, tail, (size_t)k) == 0);
    for (size_t i = 0; i < big_len; i++)
        CHECK((guint8)big[i] == pattern(i));
}

/* Decodes a chunked body from p (at most left bytes) into body; returns the
 * bytes it took, or 0 if it is cut off. */
static size_t dechunk(const char *p, size_t left, GByteArray *body)
{
    size_t at = 0;
    for (;;) {
        const char *eol = g_strstr_len(p + at, (gssize)(left - at), "\r\n");
        if (!eol)
            return 0;
        size_t n = strtoul(p + at, NULL, 16);
        at = (size_t)(eol + 2 - p);
        if (left - at < n + 2)
            return 0;
        CHECK(memcmp(p + at + n, "\r\n", 2) == 0);
        g_byte_array_append(body, (const guint8 *)p + at, (guint)n);
        at += n + 2;
        if (n == 0)
            return at;
    }
}

/* Does out hold a sequence of responses? Each starts with a status line; its
 * body (Content-Length, chunked, or to the end) is checked by check_body when
 * it is whole. */
static void check_responses(const char *out, size_t len)
{
    size_t at = 0;
    while (at < len) {
        const char *p = out + at;
        size_t left = len - at;
        CHECK((left >= 9 && memcmp(p, "HTTP/1.1 ", 9) == 0) || (left >= 8 && memcmp(p, "Status: ", 8) == 0));
        const char *end = g_strstr_len(p, (gssize)left, "\r\n\r\n");
        if (!end)
            return; /* the head itself was cut off (the client went away first) */
        size_t head = (size_t)(end + 4 - p);
        if (memcmp(p, "HTTP/1.1 100 ", 13) == 0) {
            at += head;
            continue;
        }
        const char *cl = g_strstr_len(p, end - p, "\r\nContent-Length: ");
        /* A response to HEAD announces the length a GET would get and has no
         * body; no body here (the stand-in's "app=...", the server's text, the
         * pattern) starts with a status line, so one right after the head tells. */
        size_t after = at + head;
        gboolean next_head = (len - after >= 9 && memcmp(out + after, "HTTP/1.1 ", 9) == 0) ||
                             (len - after >= 8 && memcmp(out + after, "Status: ", 8) == 0);
        if (next_head) {
            at = after;
            continue;
        }
        if (g_strstr_len(p, end - p, "\r\nTransfer-Encoding: chunked")) {
            GByteArray *body = g_byte_array_new();
            size_t took = dechunk(p + head, left - head, body);
            if (took)
                check_body((const char *)body->data, body->len);
            g_byte_array_free(body, TRUE);
            if (!took)
                return;
            at += head + took;
        } else if (cl) {
            size_t body = strtoul(cl + 18, NULL, 10);
            if (body > left - head)
                return;
            check_body(p + head, body);
            at += head + body;
        } else {
            check_body(p + head, left - head);
            return;
        }
    }
}

/* Descriptors of this process open on the pattern file. */
static int pattern_fds(void)
{
    int n = 0;
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *link = g_strdup_printf("/proc/self/fd/%s", name);
        char *target = g_file_read_link(link, NULL);
        n += target && strcmp(target, pattern_path) == 0;
        g_free(target);
        g_free(link);
    }
    if (d)
        g_dir_close(d);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        start_server();
        g_once_init_leave(&once, 1);
    }
    if (size < 2)
        return 0;
    unsigned piece = data[0];
    app_mode = data[1];
    data += 2;
    size -= 2;
    big_seed = (guint32)size * 2246822519u + piece;
    big_len = (256u << 10) + (big_seed >> 7) % (512u << 10);
    gboolean paused = FALSE;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
    CHECK(fd >= 0);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);

    GByteArray *out = g_byte_array_new();
    size_t sent = 0;
    guint32 rnd = (guint32)size * 2654435761u + piece;
    gboolean shut = FALSE;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        if (sent == size && !shut && (!(app_mode & 8) || out->len > 0 || size == 0)) {
            shutdown(fd, SHUT_WR);
            shut = TRUE;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < size ? POLLOUT : 0)};
        int timeout = (int)((deadline - g_get_monotonic_time()) / 1000);
        CHECK(timeout > 0); /* the server must close within 10 s of the client's EOF */
        if (sent == size && !shut)
            timeout = MIN(timeout, 20); /* waiting for a first answer that may not come */
        int r = poll(&p, 1, timeout);
        if (r == 0 && sent == size && !shut) {
            shutdown(fd, SHUT_WR);
            shut = TRUE;
            continue;
        }
        CHECK(r > 0 || (r < 0 && errno == EINTR));
        if (p.revents & POLLOUT) {
            size_t n = size - sent;
            if (piece) {
                rnd = rnd * 1103515245u + 12345u;
                n = MIN(n, 1 + (rnd >> 16) % piece);
            }
            ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN)
                sent = size; /* the server closed on us: stop sending */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if ((app_mode & 64) && !paused) {
                paused = TRUE;
                g_usleep(30000); /* the server's writes stall and park */
            }
            if (app_mode & 128)
                g_usleep(200);
            char buf[16384];
            ssize_t n = recv(fd, buf, (app_mode & 128) ? 4096 : sizeof buf, 0);
            if (n > 0) {
                g_byte_array_append(out, (guint8 *)buf, (guint)n);
                CHECK(out->len < (64u << 20));
            } else if (n == 0 || errno != EAGAIN) {
                break;
            }
        }
    }
    close(fd);
    if (g_getenv("FUZZ_SHOW")) /* to see what an input gets: FUZZ_SHOW=1 fuzz_request_path-replay FILE */
        fprintf(stderr, "--- %u bytes back:\n%.*s\n", out->len, (int)out->len, (const char *)out->data);
    check_responses((const char *)out->data, out->len);
    g_byte_array_free(out, TRUE);

    /* Everything is given back: no connection, no request left. */
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (server_connections(srv) > 0 || pool_busy(workers) > 0 || server_spooled(srv) != 0 ||
           pattern_fds() > 0) {
        CHECK(g_get_monotonic_time() < until);
        g_usleep(100);
    }
    return 0;
}
