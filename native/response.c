/* response: see response.h. */
#include "response.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Bodies up to this size are buffered so that headers and body leave together
 * and Content-Length can be given. */
#define BUFFER_LIMIT (64 * 1024)

const char *resp_reason(int status) { return rh_reason(status); }

void resp_clear(resp *r)
{
    if (r->head)
        g_string_free(r->head, TRUE);
    if (r->body)
        g_byte_array_free(r->body, TRUE);
    memset(r, 0, sizeof *r);
    r->content_length = -1;
}

/* After a write returned w < 0: TRUE to try again (EINTR, or the socket became
 * writable within write_timeout); FALSE after marking the client gone. */
static gboolean write_again(conn *c)
{
    if (errno == EINTR)
        return TRUE;
    if (errno == EAGAIN) {
        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
        if (poll(&p, 1, c->write_timeout_ms) > 0)
            return TRUE;
        g_message("%s: response write timed out", c->peer);
    } else if (errno != EPIPE && errno != ECONNRESET) {
        g_message("%s: response write failed: %s", c->peer, g_strerror(errno));
    }
    c->r.client_gone = TRUE;
    return FALSE;
}

/* Writes every byte of iov or marks the client gone. */
static void write_all(conn *c, struct iovec *iov, int n)
{
    while (n > 0 && !c->r.client_gone) {
        ssize_t w = writev(c->fd, iov, n);
        if (w < 0) {
            if (write_again(c))
                continue;
            return;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

/* HEAD over plain HTTP, or an SCGI request whose method is HEAD (RFC 3875
 * 4.3.2: no body either). */
static gboolean head_request(conn *c)
{
    if (c->proto == PROTO_HTTP)
        return c->is_head;
    const char *m = c->vars ? conn_var(c, "REQUEST_METHOD", NULL) : NULL;
    return m && strcmp(m, "HEAD") == 0;
}

void resp_start(conn *c, int status, const char *reason, gsize reason_len, const rh_header *h, gsize n)
{
    resp *r = &c->r;
    if (r->started)
        return;
    r->started = TRUE;
    const char *first = c->proto == PROTO_SCGI && r->apache_status ? "Status:" : "HTTP/1.1";
    r->head = g_string_sized_new(256);
    rh_result res;
    rh_head(r->head, first, status, reason, reason_len, h, n, &res);
    r->status = res.status;
    r->content_length = res.length;
    r->app_close = res.close;
    r->handoff = res.handoff && c->proto == PROTO_SCGI;
    rh_count_init(&r->count, res.status, head_request(c), res.length);
    if (res.status_replaced)
        g_warning("%s: the application's status %d is not a final status (200-999); sent 500", c->peer, status);
    if (res.dropped)
        g_warning("%s: %u response header(s) with an invalid name dropped", c->peer, res.dropped);
    if (res.length_ignored)
        g_message("%s: the application's Content-Length is invalid or repeated with another value; ignored",
                  c->peer);
    if (res.sanitized)
        g_message("%s: control characters in the application's status text or header values sent as spaces",
                  c->peer);
}

/* Adds the framing headers and the blank line; decides chunked / close. */
static void commit(conn *c, gboolean final)
{
    resp *r = &c->r;
    rh_frame_in in = {
        .http = c->proto == PROTO_HTTP,
        .http_minor = c->http_minor,
        .keep_alive = c->keep_alive,
        .head_request = head_request(c),
        .status = r->status,
        .length = r->content_length,
        .close = r->close_after || r->app_close,
        .final = final,
        .buffered = r->count.offered,
    };
    rh_frame_out out;
    rh_frame(r->head, &in, &out);
    r->chunked = out.chunked;
    r->close_after = out.close;
    r->committed = TRUE;
}

/* The counting hook: every body byte the application writes passes here.
 * Returns how many of len go on the wire: none where no body is allowed, none
 * past the announced length (the rest is cut, and the connection will close,
 * since the client cannot tell where this response ends otherwise). */
static gint64 resp_accept(conn *c, gint64 len)
{
    resp *r = &c->r;
    gboolean was = rh_count_mismatch(&r->count, FALSE);
    gint64 take = rh_count_accept(&r->count, len);
    if (!was && rh_count_mismatch(&r->count, FALSE) && !r->handoff) {
        g_warning("%s: the application wrote more than the %" G_GINT64_FORMAT " bytes it announced; "
                  "body cut there, connection closed", c->peer, r->count.limit);
        r->close_after = TRUE;
    }
    return take;
}

/* Writes pending head, buffered body and extra bytes in one writev. */
static void send_out(conn *c, const char *extra, gsize extra_len, gboolean final)
{
    resp *r = &c->r;
    struct iovec iov[6];
    int n = 0;
    char chunk[32];
    gsize blen = r->body ? r->body->len : 0;
    gboolean drop_body = c->is_head && c->proto == PROTO_HTTP;
    if (r->head->len)
        iov[n++] = (struct iovec){r->head->str, r->head->len};
    if (!drop_body && blen + extra_len > 0) {
        if (r->chunked) {
            int k = g_snprintf(chunk, sizeof chunk, "%zx\r\n", blen + extra_len);
            iov[n++] = (struct iovec){chunk, (size_t)k};
        }
        if (blen)
            iov[n++] = (struct iovec){r->body->data, blen};
        if (extra_len)
            iov[n++] = (struct iovec){(void *)extra, extra_len};
        if (r->chunked)
            iov[n++] = (struct iovec){(void *)"\r\n", 2};
    }
    if (final && r->chunked && !drop_body)
        iov[n++] = (struct iovec){(void *)"0\r\n\r\n", 5};
    if (n)
        write_all(c, iov, n);
    g_string_truncate(r->head, 0);
    if (r->body)
        g_byte_array_set_size(r->body, 0);
}

static void ensure_started(conn *c)
{
    if (!c->r.started)
        resp_start(c, 200, NULL, 0, NULL, 0);
}

void resp_body(conn *c, const char *data, gsize len)
{
    resp *r = &c->r;
    if (r->client_gone || r->finished || len == 0)
        return;
    ensure_started(c);
    len = (gsize)resp_accept(c, (gint64)len);
    if (len == 0)
        return;
    gsize blen = r->body ? r->body->len : 0;
    if (blen + len <= BUFFER_LIMIT) {
        if (!r->body)
            r->body = g_byte_array_sized_new(MAX(len, 4096));
        g_byte_array_append(r->body, (const guint8 *)data, (guint)len);
        return;
    }
    if (!r->committed)
        commit(c, FALSE);
    send_out(c, data, len, FALSE);
}

gboolean resp_file(conn *c, int fd, gint64 offset, gint64 length)
{
    resp *r = &c->r;
    if (r->client_gone || r->finished || length <= 0)
        return TRUE;
    ensure_started(c);
    if ((r->body ? r->body->len : 0) + (guint64)length <= BUFFER_LIMIT)
        return FALSE; /* copied through resp_body, counted there */
    length = resp_accept(c, length);
    if (length == 0)
        return TRUE;
    if (!r->committed)
        commit(c, FALSE);
    send_out(c, NULL, 0, FALSE); /* head and what was buffered go first */
    if (c->is_head && c->proto == PROTO_HTTP)
        return TRUE;
    if (r->chunked) {
        char chunk[32];
        struct iovec iov = {chunk, (size_t)g_snprintf(chunk, sizeof chunk, "%" G_GINT64_MODIFIER "x\r\n", length)};
        write_all(c, &iov, 1);
    }
    off_t off = (off_t)offset;
    gint64 left = length;
    while (left > 0 && !r->client_gone) {
        ssize_t n = sendfile(c->fd, fd, &off, (size_t)MIN(left, (gint64)1 << 30));
        if (n > 0)
            left -= n;
        else if (n == 0)
            break; /* the file is shorter than announced */
        else if (!write_again(c))
            break;
    }
    if (left > 0 && !r->client_gone) {
        g_warning("%s: file ended %" G_GINT64_FORMAT " bytes early; closing the connection", c->peer, left);
        r->client_gone = r->close_after = TRUE; /* the framing is broken: end it */
    }
    if (r->chunked) {
        struct iovec iov = {(void *)"\r\n", 2};
        write_all(c, &iov, 1);
    }
    return TRUE;
}

void resp_flush(conn *c, gboolean final)
{
    resp *r = &c->r;
    if (r->finished)
        return;
    ensure_started(c);
    if (final && rh_count_mismatch(&r->count, TRUE) && r->count.offered < r->count.limit && !r->handoff) {
        g_warning("%s: the application wrote %" G_GINT64_FORMAT " of the %" G_GINT64_FORMAT
                  " bytes it announced; connection closed", c->peer, r->count.offered, r->count.limit);
        r->close_after = TRUE;
    }
    if (!r->client_gone) {
        if (!r->committed)
            commit(c, final);
        send_out(c, NULL, 0, final);
    }
    if (final)
        r->finished = TRUE;
}

void resp_simple(conn *c, int status, const char *text)
{
    static const rh_header type = {"Content-Type", 12, "text/plain; charset=utf-8", 25};
    resp_start(c, status, NULL, 0, &type, 1);
    resp_body(c, text, strlen(text));
    resp_body(c, "\n", 1);
    resp_flush(c, TRUE);
}
