/* libFuzzer harness for response framing: the real response.c (and the rules
 * of resp_head.c) writing one response to a socketpair, from an application
 * that sends hostile status codes, status text, header names and values,
 * Content-Length values and body sizes. A strict, independent parser reads
 * what came out.
 *
 * Input:
 *   byte 0: bit 0 plain HTTP (else SCGI); bit 1 HTTP/1.1 (else 1.0); bit 2 the
 *           request allows keep-alive; bit 3 HEAD; bit 4 SCGI "Status:" line;
 *           bit 5 flush after every write; bit 6 large writes go by resp_file
 *   bytes 1-2: status, (b1 | b2 << 8) % 1100 - 50
 *   byte 3: header count (mod 9)
 *   then [len][bytes] for the reason, then per header [len][name][len][value];
 *   the rest: body writes, two bytes each, of ((b0 | b1 << 8) % 3000) * 50 bytes
 *   (up to 150 KB, past the 64 KiB buffer), at most 1 MB in all.
 *
 * Invariants (abort on violation):
 *  - the bytes written are exactly one response head followed by a body: a
 *    first line "HTTP/1.1 NNN reason" or "Status: NNN reason" with NNN in
 *    200..999 (the application's when in range, else 500), header lines
 *    "token: value", and no CR, LF, NUL or other control byte (but HTAB)
 *    anywhere in them;
 *  - framing headers appear at most once each and only in the server's forms
 *    (Content-Length: digits, Transfer-Encoding: chunked, Connection:
 *    close/keep-alive; no Keep-Alive, Status, Upgrade, Trailer...), never
 *    Content-Length and Transfer-Encoding together, neither on a 204, and
 *    exactly "Content-Length: 0" on a 205;
 *  - no body on 204, 205, 304 or HEAD; with Content-Length, at most that many body
 *    bytes and nothing after them; chunked: well-formed chunks ending with
 *    the last chunk and nothing after; neither: the connection closes;
 *  - the body is a prefix of what the application wrote;
 *  - the connection closes whenever the body on the wire is not the
 *    application's whole body of the announced length (too long: cut; too
 *    short), so the next response on it can never be misread.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "fuzz_check.h"
#include "response.h"

#define MAX_BODY (1 << 20)

static void quiet(const gchar *d, GLogLevelFlags l, const gchar *m, gpointer ud)
{
    (void)d, (void)l, (void)m, (void)ud;
}

typedef struct {
    int fd;
    GByteArray *out;
} reader;

static void *read_all(void *arg)
{
    reader *r = arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(r->fd, buf, sizeof buf)) > 0)
        g_byte_array_append(r->out, (guint8 *)buf, (guint)n);
    return NULL;
}

typedef struct {
    const uint8_t *p;
    size_t left;
} input;

static size_t take(input *in, size_t n, const uint8_t **at)
{
    n = MIN(n, in->left);
    *at = in->p;
    in->p += n;
    in->left -= n;
    return n;
}

static int byte(input *in)
{
    const uint8_t *b;
    return take(in, 1, &b) ? b[0] : 0;
}

static gboolean is_tchar(guchar ch)
{
    return g_ascii_isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static gboolean is_digits(const char *s, size_t n)
{
    if (n == 0)
        return FALSE;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    return TRUE;
}

static gboolean name_eq(const char *s, size_t n, const char *name)
{
    return n == strlen(name) && g_ascii_strncasecmp(s, name, n) == 0;
}

/* Decodes a chunked body strictly; TRUE if it is whole and ends exactly at len. */
static gboolean chunked_ok(const char *p, size_t len, size_t *body)
{
    size_t at = 0;
    *body = 0;
    for (;;) {
        size_t size = 0, digits = 0;
        while (at < len && g_ascii_isxdigit(p[at]) && digits < 15)
            size = size * 16 + (size_t)g_ascii_xdigit_value(p[at++]), digits++;
        if (!digits || at + 2 > len || p[at] != '\r' || p[at + 1] != '\n')
            return FALSE;
        at += 2;
        if (size == 0)
            return at + 2 == len && p[at] == '\r' && p[at + 1] == '\n';
        if (at + size + 2 > len || p[at + size] != '\r' || p[at + size + 1] != '\n')
            return FALSE;
        *body += size;
        at += size + 2;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        g_log_set_default_handler(quiet, NULL);
        g_once_init_leave(&once, 1);
    }
    input in = {data, size};
    int flags = byte(&in);
    int s_lo = byte(&in), s_hi = byte(&in);
    int status = (s_lo | s_hi << 8) % 1100 - 50;
    int nh = byte(&in) % 9;
    const uint8_t *reason;
    size_t reason_len = take(&in, (size_t)byte(&in), &reason);
    rh_header h[8];
    for (int i = 0; i < nh; i++) {
        const uint8_t *n, *v;
        h[i].name_len = take(&in, (size_t)byte(&in), &n);
        h[i].value_len = take(&in, (size_t)byte(&in), &v);
        h[i].name = (const char *)n;
        h[i].value = (const char *)v;
    }

    gboolean http = flags & 1, head = (flags & 8) != 0, streaming = (flags & 32) != 0;
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    reader rd = {sv[1], g_byte_array_new()};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, read_all, &rd) == 0);

    static const char scgi_head[] = "REQUEST_METHOD\0HEAD";
    conn *c = g_new0(conn, 1);
    request *rq = &c->req;
    c->fd = sv[0];
    g_strlcpy(c->peer, "fuzz", sizeof c->peer);
    request_init(rq, c, c->peer, 0);
    rq->proto = http ? PROTO_HTTP : PROTO_SCGI;
    c->write_timeout_ms = 10000;
    rq->http_minor = (flags & 2) ? 1 : 0;
    rq->keep_alive = http && (flags & 4);
    rq->is_head = http && head;
    if (!http && head) {
        rq->vars = scgi_head;
        rq->vars_len = sizeof scgi_head;
    }
    resp_clear(&rq->r);
    rq->r.apache_status = (flags & 16) != 0;

    /* The application's body: byte i is (i * 7 + 3) mod 251, so any prefix is checkable. */
    static char pattern[MAX_BODY];
    static gsize pattern_once;
    if (g_once_init_enter(&pattern_once)) {
        for (size_t i = 0; i < sizeof pattern; i++)
            pattern[i] = (char)((i * 7 + 3) % 251);
        g_once_init_leave(&pattern_once, 1);
    }
    int memfd = -1;
    if (flags & 64) {
        memfd = memfd_create("fuzz-response", MFD_CLOEXEC);
        CHECK(memfd >= 0);
        CHECK(write(memfd, pattern, sizeof pattern) == (ssize_t)sizeof pattern);
    }

    resp_start(rq, status, (const char *)reason, reason_len, h, (gsize)nh);
    size_t offered = 0;
    while (in.left >= 2 && offered < MAX_BODY) {
        int lo = byte(&in), hi = byte(&in);
        size_t n = MIN((size_t)((lo | hi << 8) % 3000) * 50, MAX_BODY - offered);
        if (memfd < 0 || !resp_file(rq, memfd, (gint64)offered, (gint64)n))
            resp_body(rq, pattern + offered, n);
        offered += n;
        if (streaming)
            resp_flush(rq, FALSE);
    }
    resp_flush(rq, TRUE);
    gboolean closes = rq->r.close_after || !http;
    CHECK(!rq->r.client_gone);
    shutdown(sv[0], SHUT_WR);
    CHECK(pthread_join(t, NULL) == 0);
    close(sv[0]);
    close(sv[1]);
    if (memfd >= 0)
        close(memfd);
    resp_clear(&rq->r);
    g_free(c);

    const char *out = (const char *)rd.out->data;
    size_t len = rd.out->len;
    if (g_getenv("FUZZ_SHOW"))
        fprintf(stderr, "--- %zu bytes offered, %zu written, closes=%d:\n%.*s\n", offered, len, closes,
                (int)MIN(len, 2000), out);

    /* The head: first line, header lines, blank line; no stray control byte. */
    const char *end = g_strstr_len(out, (gssize)len, "\r\n\r\n");
    CHECK(end != NULL);
    size_t head_len = (size_t)(end - out) + 4;
    for (size_t i = 0; i < head_len; i++) {
        guchar ch = (guchar)out[i];
        if (ch == '\r')
            CHECK(out[i + 1] == '\n');
        else if (ch == '\n')
            CHECK(i > 0 && out[i - 1] == '\r');
        else
            CHECK((ch >= 0x20 || ch == '\t') && ch != 0x7f);
    }
    const char *first = http || !(flags & 16) ? "HTTP/1.1 " : "Status: ";
    CHECK(len >= strlen(first) + 4 && memcmp(out, first, strlen(first)) == 0);
    const char *code = out + strlen(first);
    CHECK(g_ascii_isdigit(code[0]) && g_ascii_isdigit(code[1]) && g_ascii_isdigit(code[2]) && code[3] == ' ');
    int wrote = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    CHECK(wrote == (status >= 200 && status <= 999 ? status : 500));
    CHECK(code[4] != '\r'); /* a reason phrase is always there */

    gint64 cl = -1;
    int n_cl = 0, n_te = 0, n_conn = 0;
    const char *line = strstr(out, "\r\n") + 2;
    while (line < end + 2) {
        const char *eol = g_strstr_len(line, end + 2 - line, "\r\n");
        CHECK(eol != NULL);
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        CHECK(colon != NULL && colon > line);
        for (const char *q = line; q < colon; q++)
            CHECK(is_tchar((guchar)*q));
        CHECK(colon[1] == ' ');
        const char *v = colon + 2;
        size_t nl = (size_t)(colon - line), vl = (size_t)(eol - v);
        if (name_eq(line, nl, "Content-Length")) {
            n_cl++;
            CHECK(is_digits(v, vl) && vl <= 18);
            cl = g_ascii_strtoll(v, NULL, 10);
        } else if (name_eq(line, nl, "Transfer-Encoding")) {
            n_te++;
            CHECK(vl == 7 && memcmp(v, "chunked", 7) == 0);
        } else if (name_eq(line, nl, "Connection")) {
            n_conn++;
            CHECK((vl == 5 && memcmp(v, "close", 5) == 0) || (vl == 10 && memcmp(v, "keep-alive", 10) == 0));
            if (vl == 5)
                CHECK(closes);
        } else {
            static const char *const never[] = {"Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade", "Status"};
            for (size_t i = 0; i < G_N_ELEMENTS(never); i++)
                CHECK(!name_eq(line, nl, never[i]));
        }
        line = eol + 2;
    }
    CHECK(n_cl <= 1 && n_te <= 1 && n_conn <= 1 && !(n_cl && n_te));
    if (!http)
        CHECK(n_te == 0 && n_conn == 0);
    if (wrote == 204)
        CHECK(n_cl == 0 && n_te == 0);
    if (wrote == 205) /* RFC 9110 15.3.6: no content, and the server says so */
        CHECK(n_cl == 1 && cl == 0 && n_te == 0);

    /* The body. */
    const char *body = out + head_len;
    size_t body_len = len - head_len, got;
    gboolean allowed = wrote != 204 && wrote != 205 && wrote != 304 && !head;
    if (!allowed) {
        CHECK(body_len == 0 && n_te == 0);
        got = 0;
    } else if (n_te) {
        CHECK(chunked_ok(body, body_len, &got));
        size_t at = 0; /* the chunks' contents, in order, are the application's bytes */
        for (const char *p = body; got && p < body + body_len;) {
            char *after;
            size_t k = strtoul(p, &after, 16);
            if (k == 0)
                break;
            CHECK(memcmp(after + 2, pattern + at, k) == 0);
            at += k;
            p = after + 2 + k + 2;
        }
    } else {
        got = body_len;
        CHECK(memcmp(body, pattern, body_len) == 0);
        if (n_cl) {
            CHECK((gint64)body_len <= cl);
            if ((gint64)body_len < cl)
                CHECK(closes);
        } else {
            CHECK(closes); /* delimited by the close */
        }
    }
    CHECK(got <= offered);
    if (allowed && n_cl && (gint64)offered != cl)
        CHECK(closes); /* the application's body did not match what was announced */
    if (allowed && got != offered)
        CHECK(closes);
    g_byte_array_free(rd.out, TRUE);
    return 0;
}
