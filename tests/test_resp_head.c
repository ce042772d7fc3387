/* Unit tests for resp_head: what of an application's status, reason and
 * headers reaches the wire (one GTest case per table row), the framing the
 * server adds, and the body count against the announced length.
 * The head rows are also seeds of the fuzz corpus (tests/fuzz/corpus/response/).
 */
#include "resp_head.h"

/* Table rows leave trailing fields at zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <glib.h>
#include <string.h>

/* A header with its byte lengths (the strings may hold NULs). */
#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}
#define MAXH 6

typedef struct {
    const char *name;
    int status;
    const char *reason;
    gsize reason_len;
    rh_header h[MAXH];
    gsize n;
    const char *want;  /* the text rh_head appends after "HTTP/1.1 " */
    gint64 length;
    gboolean close, handoff, replaced, ignored;
    guint dropped, sanitized;
} head_case;

#define R(s) s, sizeof(s) - 1

static const head_case head_cases[] = {
    {"plain", 200, R("OK"), {H("Content-Type", "text/plain")}, 1,
     "200 OK\r\nContent-Type: text/plain\r\n", -1},
    {"empty-reason-is-standard", 404, R(""), {{0}}, 0, "404 Not Found\r\n", -1},
    {"null-reason-is-standard", 204, NULL, 0, {{0}}, 0, "204 No Content\r\n", -1},
    {"blank-reason-is-standard", 302, R(" \t "), {{0}}, 0, "302 Found\r\n", -1},
    {"unknown-code-keeps-reason", 599, R("Custom"), {{0}}, 0, "599 Custom\r\n", -1},
    {"crlf-in-reason", 200, R("OK\r\nX-Injected: yes"), {{0}}, 0, "200 OK  X-Injected: yes\r\n", -1,
     .sanitized = 1},
    {"lf-nul-del-in-reason", 200, R("A\nB\0C\x7f" "D\tE"), {{0}}, 0, "200 A B C D\tE\r\n", -1, .sanitized = 1},
    {"reason-only-controls", 500, R("\r\n"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .sanitized = 1},
    {"status-99", 99, R("Low"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .replaced = TRUE},
    {"status-100", 100, R("Continue"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .replaced = TRUE},
    {"status-199", 199, R("x"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .replaced = TRUE},
    {"status-999", 999, R("x"), {{0}}, 0, "999 x\r\n", -1},
    {"status-1000", 1000, R("x"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .replaced = TRUE},
    {"status-negative", -200, R("x"), {{0}}, 0, "500 Internal Server Error\r\n", -1, .replaced = TRUE},
    {"crlf-in-value", 200, R("OK"), {H("X-Evil", "a\r\nSet-Cookie: owned=1"), H("X-Next", "ok")}, 2,
     "200 OK\r\nX-Evil: a  Set-Cookie: owned=1\r\nX-Next: ok\r\n", -1, .sanitized = 1},
    {"nul-in-value", 200, R("OK"), {H("X-A", "a\0b")}, 1, "200 OK\r\nX-A: a b\r\n", -1, .sanitized = 1},
    {"tab-and-high-bytes-in-value-kept", 200, R("OK"), {H("X-A", "a\tb \xe9\xff")}, 1,
     "200 OK\r\nX-A: a\tb \xe9\xff\r\n", -1},
    {"empty-value-kept", 200, R("OK"), {H("X-Empty", "")}, 1, "200 OK\r\nX-Empty: \r\n", -1},
    {"crlf-in-name-dropped", 200, R("OK"), {H("X-A\r\nX-Injected", "yes"), H("X-B", "1")}, 2,
     "200 OK\r\nX-B: 1\r\n", -1, .dropped = 1},
    {"colon-in-name-dropped", 200, R("OK"), {H("X-A: b", "c")}, 1, "200 OK\r\n", -1, .dropped = 1},
    {"space-in-name-dropped", 200, R("OK"), {H("X A", "c"), H("X-A ", "c"), H("\tX", "c")}, 3, "200 OK\r\n", -1,
     .dropped = 3},
    {"empty-name-dropped", 200, R("OK"), {H("", "c")}, 1, "200 OK\r\n", -1, .dropped = 1},
    {"nul-in-name-dropped", 200, R("OK"), {H("X\0Y", "c")}, 1, "200 OK\r\n", -1, .dropped = 1},
    {"separators-in-name-dropped", 200, R("OK"), {H("X(a)", "c"), H("X/Y", "c"), H("X\"", "c")}, 3,
     "200 OK\r\n", -1, .dropped = 3},
    {"token-chars-kept", 200, R("OK"), {H("!#$%&'*+-.^_`|~09azAZ", "v")}, 1,
     "200 OK\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n", -1},
    {"content-length-announces", 200, R("OK"), {H("Content-Length", "2")}, 1, "200 OK\r\n", 2},
    {"content-length-any-case-ows", 200, R("OK"), {H("content-LENGTH", " 65\t")}, 1, "200 OK\r\n", 65},
    {"content-length-repeated-same", 200, R("OK"), {H("Content-Length", "5"), H("Content-Length", "5")}, 2,
     "200 OK\r\n", 5},
    {"content-length-conflict", 200, R("OK"), {H("Content-Length", "5"), H("Content-Length", "6")}, 2,
     "200 OK\r\n", -1, .ignored = TRUE},
    {"content-length-conflict-then-same", 200, R("OK"),
     {H("Content-Length", "5"), H("Content-Length", "6"), H("Content-Length", "5")}, 3, "200 OK\r\n", -1,
     .ignored = TRUE},
    {"content-length-negative", 200, R("OK"), {H("Content-Length", "-1")}, 1, "200 OK\r\n", -1, .ignored = TRUE},
    {"content-length-plus", 200, R("OK"), {H("Content-Length", "+5")}, 1, "200 OK\r\n", -1, .ignored = TRUE},
    {"content-length-list", 200, R("OK"), {H("Content-Length", "5, 5")}, 1, "200 OK\r\n", -1, .ignored = TRUE},
    {"content-length-empty", 200, R("OK"), {H("Content-Length", "")}, 1, "200 OK\r\n", -1, .ignored = TRUE},
    {"content-length-crlf", 200, R("OK"), {H("Content-Length", "5\r\n\r\nX")}, 1, "200 OK\r\n", -1,
     .ignored = TRUE},
    {"content-length-huge", 200, R("OK"), {H("Content-Length", "99999999999999999999")}, 1, "200 OK\r\n", -1,
     .ignored = TRUE},
    {"content-length-zero", 200, R("OK"), {H("Content-Length", "0")}, 1, "200 OK\r\n", 0},
    {"transfer-encoding-dropped", 200, R("OK"), {H("Transfer-Encoding", "chunked"), H("X-A", "1")}, 2,
     "200 OK\r\nX-A: 1\r\n", -1},
    {"hop-by-hop-dropped", 200, R("OK"),
     {H("Connection", "keep-alive"), H("Keep-Alive", "timeout=5"), H("Proxy-Connection", "x"), H("Trailer", "x"),
      H("Upgrade", "h2c"), H("Status", "302 Found")}, 6, "200 OK\r\n", -1},
    {"connection-close-asks-close", 200, R("OK"), {H("Connection", "Keep-Alive, CLOSE ")}, 1, "200 OK\r\n", -1,
     .close = TRUE},
    {"connection-closed-is-not-close", 200, R("OK"), {H("Connection", "closed")}, 1, "200 OK\r\n", -1},
    {"x-sendfile-handoff", 200, R("OK"), {H("X-Sendfile", "/srv/f"), H("Content-Length", "10")}, 2,
     "200 OK\r\nX-Sendfile: /srv/f\r\n", 10, .handoff = TRUE},
    {"x-accel-redirect-handoff", 200, R("OK"), {H("x-accel-redirect", "/p/f")}, 1,
     "200 OK\r\nx-accel-redirect: /p/f\r\n", -1, .handoff = TRUE},
};

static void test_head(gconstpointer data)
{
    const head_case *t = data;
    GString *out = g_string_new(NULL);
    rh_result res;
    rh_head(out, "HTTP/1.1", t->status, t->reason, t->reason_len, t->h, t->n, &res);
    char *want = g_strconcat("HTTP/1.1 ", t->want, NULL);
    g_assert_cmpstr(out->str, ==, want);
    g_assert_cmpint(res.length, ==, t->length);
    g_assert_cmpint(res.close, ==, t->close);
    g_assert_cmpint(res.handoff, ==, t->handoff);
    g_assert_cmpint(res.status_replaced, ==, t->replaced);
    g_assert_cmpint(res.length_ignored, ==, t->ignored);
    g_assert_cmpuint(res.dropped, ==, t->dropped);
    g_assert_cmpuint(res.sanitized, ==, t->sanitized);
    /* Whatever the row: only CRLF line ends, no NUL, no other control byte. */
    for (gsize i = 0; i < out->len; i++) {
        guchar ch = (guchar)out->str[i];
        if (ch == '\r')
            g_assert_true(i + 1 < out->len && out->str[i + 1] == '\n');
        else if (ch == '\n')
            g_assert_true(i > 0 && out->str[i - 1] == '\r');
        else
            g_assert_true(ch >= 0x20 || ch == '\t');
        g_assert_true(ch != 0x7f);
    }
    g_free(want);
    g_string_free(out, TRUE);
}

static void test_head_scgi_first(void)
{
    GString *out = g_string_new(NULL);
    rh_result res;
    rh_header h = H("Status", "200 OK");
    rh_head(out, "Status:", 404, NULL, 0, &h, 1, &res);
    g_assert_cmpstr(out->str, ==, "Status: 404 Not Found\r\n");
    g_string_free(out, TRUE);
}

typedef struct {
    const char *name;
    rh_frame_in in;
    const char *want;
    gint64 length;
    gboolean chunked, close;
} frame_case;

/* in: http, minor, keep_alive, head, status, length, close, final, buffered */
static const frame_case frame_cases[] = {
    {"http11-final-known", {TRUE, 1, TRUE, FALSE, 200, -1, FALSE, TRUE, 65}, "Content-Length: 65\r\n\r\n", 65},
    {"http11-app-length-wins", {TRUE, 1, TRUE, FALSE, 200, 2, FALSE, TRUE, 65}, "Content-Length: 2\r\n\r\n", 2},
    {"http11-streaming-chunked", {TRUE, 1, TRUE, FALSE, 200, -1, FALSE, FALSE, 100},
     "Transfer-Encoding: chunked\r\n\r\n", -1, .chunked = TRUE},
    {"http11-streaming-app-length", {TRUE, 1, TRUE, FALSE, 200, 100000, FALSE, FALSE, 0},
     "Content-Length: 100000\r\n\r\n", 100000},
    {"http10-streaming-close", {TRUE, 0, TRUE, FALSE, 200, -1, FALSE, FALSE, 1}, "Connection: close\r\n\r\n", -1,
     .close = TRUE},
    {"http10-keepalive", {TRUE, 0, TRUE, FALSE, 200, -1, FALSE, TRUE, 3},
     "Content-Length: 3\r\nConnection: keep-alive\r\n\r\n", 3},
    {"http11-no-keepalive", {TRUE, 1, FALSE, FALSE, 200, -1, FALSE, TRUE, 0},
     "Content-Length: 0\r\nConnection: close\r\n\r\n", 0, .close = TRUE},
    {"http11-app-close", {TRUE, 1, TRUE, FALSE, 200, -1, TRUE, TRUE, 1},
     "Content-Length: 1\r\nConnection: close\r\n\r\n", 1, .close = TRUE},
    {"204-no-length-no-chunked", {TRUE, 1, TRUE, FALSE, 204, 5, FALSE, FALSE, 5}, "\r\n", -1},
    {"204-final", {TRUE, 1, TRUE, FALSE, 204, -1, FALSE, TRUE, 5}, "\r\n", -1},
    {"304-app-length-kept", {TRUE, 1, TRUE, FALSE, 304, 1234, FALSE, TRUE, 9}, "Content-Length: 1234\r\n\r\n",
     1234},
    {"304-no-length", {TRUE, 1, TRUE, FALSE, 304, -1, FALSE, FALSE, 9}, "\r\n", -1},
    {"head-app-length-kept", {TRUE, 1, TRUE, TRUE, 200, 777, FALSE, TRUE, 0}, "Content-Length: 777\r\n\r\n", 777},
    {"head-written-length", {TRUE, 1, TRUE, TRUE, 200, -1, FALSE, TRUE, 12}, "Content-Length: 12\r\n\r\n", 12},
    {"head-nothing-written", {TRUE, 1, TRUE, TRUE, 200, -1, FALSE, TRUE, 0}, "\r\n", -1},
    {"head-streaming-not-chunked", {TRUE, 1, TRUE, TRUE, 200, -1, FALSE, FALSE, 70000}, "\r\n", -1},
    {"scgi-final", {FALSE, 0, FALSE, FALSE, 200, -1, FALSE, TRUE, 65}, "Content-Length: 65\r\n\r\n", 65},
    {"scgi-streaming", {FALSE, 0, FALSE, FALSE, 200, -1, FALSE, FALSE, 65}, "\r\n", -1, .close = TRUE},
    {"scgi-app-length", {FALSE, 0, FALSE, FALSE, 200, 2, FALSE, TRUE, 65}, "Content-Length: 2\r\n\r\n", 2},
    {"scgi-204", {FALSE, 0, FALSE, FALSE, 204, 2, FALSE, TRUE, 65}, "\r\n", -1},
    /* 205: no content, and says so (RFC 9110 15.3.6), whatever was announced or written */
    {"205-final", {TRUE, 1, TRUE, FALSE, 205, -1, FALSE, TRUE, 65}, "Content-Length: 0\r\n\r\n", 0},
    {"205-app-length", {TRUE, 1, TRUE, FALSE, 205, 65, FALSE, TRUE, 65}, "Content-Length: 0\r\n\r\n", 0},
    {"205-streaming", {TRUE, 1, TRUE, FALSE, 205, -1, FALSE, FALSE, 70000}, "Content-Length: 0\r\n\r\n", 0},
    {"205-http10-keepalive", {TRUE, 0, TRUE, FALSE, 205, -1, FALSE, FALSE, 1},
     "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n", 0},
    {"205-head", {TRUE, 1, TRUE, TRUE, 205, 65, FALSE, TRUE, 0}, "Content-Length: 0\r\n\r\n", 0},
    {"scgi-205", {FALSE, 0, FALSE, FALSE, 205, 9, FALSE, FALSE, 65}, "Content-Length: 0\r\n\r\n", 0},
};

static void test_frame(gconstpointer data)
{
    const frame_case *t = data;
    GString *out = g_string_new(NULL);
    rh_frame_out res;
    rh_frame(out, &t->in, &res);
    g_assert_cmpstr(out->str, ==, t->want);
    g_assert_cmpint(res.length, ==, t->length);
    g_assert_cmpint(res.chunked, ==, t->chunked);
    g_assert_cmpint(res.close, ==, t->close);
    g_string_free(out, TRUE);
}

typedef struct {
    const char *name;
    int status;
    gboolean head;
    gint64 length;
    gint64 writes[4];   /* 0 ends */
    gint64 taken;       /* bytes accepted in all */
    gboolean mismatch;  /* at the end (final) */
    gboolean over;      /* already before the end */
} count_case;

static const count_case count_cases[] = {
    {"exact", 200, FALSE, 5, {2, 3}, 5, FALSE, FALSE},
    {"long-cut", 200, FALSE, 2, {65}, 2, TRUE, TRUE},
    {"long-cut-later-writes", 200, FALSE, 4, {3, 3, 3}, 4, TRUE, TRUE},
    {"short", 200, FALSE, 10, {3}, 3, TRUE, FALSE},
    {"nothing-of-some", 200, FALSE, 10, {0}, 0, TRUE, FALSE},
    {"zero-announced-zero-written", 200, FALSE, 0, {0}, 0, FALSE, FALSE},
    {"zero-announced-some-written", 200, FALSE, 0, {1}, 0, TRUE, TRUE},
    {"unannounced", 200, FALSE, -1, {100, 100}, 200, FALSE, FALSE},
    {"204-body-dropped", 204, FALSE, -1, {5}, 0, FALSE, FALSE},
    {"304-body-dropped", 304, FALSE, 1234, {5}, 0, FALSE, FALSE},
    {"205-body-dropped", 205, FALSE, 65, {65}, 0, FALSE, FALSE},
    {"head-body-dropped", 200, TRUE, 10, {5}, 0, FALSE, FALSE},
};

static void test_count(gconstpointer data)
{
    const count_case *t = data;
    rh_count k;
    rh_count_init(&k, t->status, t->head, t->length);
    gint64 taken = 0;
    for (int i = 0; i < 4 && t->writes[i]; i++)
        taken += rh_count_accept(&k, t->writes[i]);
    g_assert_cmpint(taken, ==, t->taken);
    g_assert_cmpint(rh_count_mismatch(&k, FALSE), ==, t->over);
    g_assert_cmpint(rh_count_mismatch(&k, TRUE), ==, t->mismatch);
}

static void test_body_allowed(void)
{
    g_assert_true(rh_body_allowed(200, FALSE));
    g_assert_true(rh_body_allowed(404, FALSE));
    g_assert_true(rh_body_allowed(999, FALSE));
    g_assert_false(rh_body_allowed(100, FALSE));
    g_assert_false(rh_body_allowed(199, FALSE));
    g_assert_false(rh_body_allowed(204, FALSE));
    g_assert_false(rh_body_allowed(304, FALSE));
    g_assert_false(rh_body_allowed(205, FALSE));
    g_assert_false(rh_body_allowed(205, TRUE));
    g_assert_false(rh_body_allowed(200, TRUE));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(head_cases); i++) {
        char *p = g_strdup_printf("/resp_head/head/%s", head_cases[i].name);
        g_test_add_data_func(p, &head_cases[i], test_head);
        g_free(p);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(frame_cases); i++) {
        char *p = g_strdup_printf("/resp_head/frame/%s", frame_cases[i].name);
        g_test_add_data_func(p, &frame_cases[i], test_frame);
        g_free(p);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(count_cases); i++) {
        char *p = g_strdup_printf("/resp_head/count/%s", count_cases[i].name);
        g_test_add_data_func(p, &count_cases[i], test_count);
        g_free(p);
    }
    g_test_add_func("/resp_head/head/scgi-status-first-line", test_head_scgi_first);
    g_test_add_func("/resp_head/body-allowed", test_body_allowed);
    return g_test_run();
}
