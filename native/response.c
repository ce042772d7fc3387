/* response: see response.h. */
#include "response.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conn.h"

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

/* A write failed (errno): the client is gone; later writes do nothing. */
static void write_failed(request *rq)
{
    if (errno != EPIPE && errno != ECONNRESET)
        g_message("%s: response write failed: %s", rq->peer, g_strerror(errno));
    rq->r.client_gone = TRUE;
}

static void file_ended_early(request *rq)
{
    g_warning("%s: a file ended before the length the response announced; closing the connection", rq->peer);
    rq->r.client_gone = rq->r.close_after = TRUE; /* the framing is broken: end it */
}

/* Waits until the socket takes bytes again. *deadline (monotonic µs, 0: not
 * set yet) is write_timeout after the last progress, by the clock: a signal
 * (Mono's GC suspends threads with one) or an early return only polls again
 * with the time left. FALSE after marking the client gone. */
static gboolean wait_writable(request *rq, gint64 *deadline)
{
    if (!*deadline)
        *deadline = g_get_monotonic_time() + (gint64)rq->con->write_timeout_ms * 1000;
    for (;;) {
        gint64 left = *deadline - g_get_monotonic_time();
        if (left <= 0) {
            g_message("%s: response write timed out: the client took nothing for %d s (write_timeout)",
                      rq->peer, rq->con->write_timeout_ms / 1000);
            rq->r.client_gone = TRUE;
            return FALSE;
        }
        struct pollfd p = {.fd = rq->con->fd, .events = POLLOUT};
        int r = poll(&p, 1, (int)MIN((left + 999) / 1000, G_MAXINT));
        if (r > 0)
            return TRUE; /* writable, or an error the next write reports */
        if (r < 0 && errno != EINTR) {
            write_failed(rq);
            return FALSE;
        }
    }
}

/* Sends what is parked, as far as the socket takes it now. FALSE if the client
 * is gone (or a parked file ended early); *progress is set when bytes went. */
static gboolean send_parked(request *rq, gboolean *progress)
{
    gsize sent;
    outq_status st = outq_flush(&rq->con->out, rq->con->fd, 0, &sent);
    if (sent)
        *progress = TRUE;
    if (st == OUTQ_SHORT_FILE)
        file_ended_early(rq);
    else if (st == OUTQ_ERROR)
        write_failed(rq);
    return !rq->r.client_gone;
}

/* Writes iov, in order after what is parked: what the socket does not take now
 * is parked, so the worker waits for the client only while more than
 * write_buffer bytes would be parked, and then by the clock (wait_writable).
 * Marks the client gone on failure. */
static void write_all(request *rq, struct iovec *iov, int n)
{
    gint64 deadline = 0;
    while (!rq->r.client_gone) {
        gboolean progress = FALSE;
        if (!outq_empty(&rq->con->out) && !send_parked(rq, &progress))
            return;
        if (n > 0 && outq_empty(&rq->con->out)) {
            ssize_t w = writev(rq->con->fd, iov, n);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                write_failed(rq);
                return;
            }
            if (w > 0)
                progress = TRUE;
            while (n > 0 && w >= 0 && (size_t)w >= iov->iov_len) {
                w -= (ssize_t)iov->iov_len;
                iov++;
                n--;
            }
            if (n > 0 && w > 0) {
                iov->iov_base = (char *)iov->iov_base + w;
                iov->iov_len -= (size_t)w;
            }
        }
        if (n == 0)
            return;
        gsize rest = 0;
        for (int i = 0; i < n; i++)
            rest += iov[i].iov_len;
        if (rq->con->out.mem + rest <= rq->con->write_buffer) {
            outq_push_iov(&rq->con->out, iov, n);
            return;
        }
        if (progress)
            deadline = 0;
        if (!wait_writable(rq, &deadline))
            return;
    }
}

/* Most files one connection parks (each holds a descriptor). */
#define PARKED_FILES 2

/* Sends length bytes of the file fd from offset, in order after what is parked:
 * what the socket does not take now is parked as a descriptor of its own (the
 * caller's fd is closed by its owner, the managed FileStream), so a file of any
 * size costs the worker no wait. Past PARKED_FILES parked files, or when no
 * descriptor is left to dup, the worker sends it itself, waiting by the clock. */
static void send_file(request *rq, int fd, gint64 offset, gint64 length)
{
    gint64 deadline = 0;
    off_t off = (off_t)offset;
    gint64 left = length;
    while (left > 0 && !rq->r.client_gone) {
        gboolean progress = FALSE;
        if (!outq_empty(&rq->con->out) && !send_parked(rq, &progress))
            return;
        if (outq_empty(&rq->con->out)) {
            ssize_t w = sendfile(rq->con->fd, fd, &off, (size_t)MIN(left, (gint64)1 << 30));
            if (w > 0) {
                left -= w;
                continue;
            }
            if (w == 0) {
                file_ended_early(rq);
                return;
            }
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN) {
                write_failed(rq);
                return;
            }
        }
        if (rq->con->out.files < PARKED_FILES && outq_push_file(&rq->con->out, fd, (gint64)off, left))
            return;
        if (progress)
            deadline = 0;
        if (!wait_writable(rq, &deadline))
            return;
    }
}

/* HEAD over plain HTTP, or an SCGI request whose method is HEAD (RFC 3875
 * 4.3.2: no body either). */
static gboolean head_request(request *rq)
{
    if (rq->proto == PROTO_HTTP)
        return rq->is_head;
    const char *m = rq->vars ? request_var(rq, "REQUEST_METHOD", NULL) : NULL;
    return m && strcmp(m, "HEAD") == 0;
}

void resp_start(request *rq, int status, const char *reason, gsize reason_len, const rh_header *h, gsize n)
{
    resp *r = &rq->r;
    if (r->started)
        return;
    r->started = TRUE;
    const char *first = rq->proto == PROTO_SCGI && r->apache_status ? "Status:" : "HTTP/1.1";
    r->head = g_string_sized_new(256);
    rh_result res;
    rh_head(r->head, first, status, reason, reason_len, h, n, &res);
    r->status = res.status;
    r->content_length = res.length;
    r->app_close = res.close;
    r->handoff = res.handoff && rq->proto == PROTO_SCGI;
    rh_count_init(&r->count, res.status, head_request(rq), res.length);
    if (res.status_replaced)
        g_warning("%s: the application's status %d is not a final status (200-999); sent 500", rq->peer, status);
    if (res.dropped)
        g_warning("%s: %u response header(s) with an invalid name dropped", rq->peer, res.dropped);
    if (res.length_ignored)
        g_message("%s: the application's Content-Length is invalid or repeated with another value; ignored",
                  rq->peer);
    if (res.sanitized)
        g_message("%s: control characters in the application's status text or header values sent as spaces",
                  rq->peer);
}

/* Adds the framing headers and the blank line; decides chunked / close. */
static void commit(request *rq, gboolean final)
{
    resp *r = &rq->r;
    rh_frame_in in = {
        .http = rq->proto == PROTO_HTTP,
        .http_minor = rq->http_minor,
        .keep_alive = rq->keep_alive,
        .head_request = head_request(rq),
        .status = r->status,
        .length = r->content_length,
        .close = r->close_after || r->app_close || conn_stopping(rq->con),
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
static gint64 resp_accept(request *rq, gint64 len)
{
    resp *r = &rq->r;
    gboolean was = rh_count_mismatch(&r->count, FALSE);
    gint64 take = rh_count_accept(&r->count, len);
    if (!was && rh_count_mismatch(&r->count, FALSE) && !r->handoff) {
        g_warning("%s: the application wrote more than the %" G_GINT64_FORMAT " bytes it announced; "
                  "body cut there, connection closed", rq->peer, r->count.limit);
        r->close_after = TRUE;
    }
    return take;
}

/* Writes pending head, buffered body and extra bytes in one writev. */
static void send_out(request *rq, const char *extra, gsize extra_len, gboolean final)
{
    resp *r = &rq->r;
    struct iovec iov[6];
    int n = 0;
    char chunk[32];
    gsize blen = r->body ? r->body->len : 0;
    gboolean drop_body = rq->is_head && rq->proto == PROTO_HTTP;
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
        write_all(rq, iov, n);
    g_string_truncate(r->head, 0);
    if (r->body)
        g_byte_array_set_size(r->body, 0);
}

static void ensure_started(request *rq)
{
    if (!rq->r.started)
        resp_start(rq, 200, NULL, 0, NULL, 0);
}

void resp_body(request *rq, const char *data, gsize len)
{
    resp *r = &rq->r;
    if (r->client_gone || r->finished || len == 0)
        return;
    ensure_started(rq);
    len = (gsize)resp_accept(rq, (gint64)len);
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
        commit(rq, FALSE);
    send_out(rq, data, len, FALSE);
}

gboolean resp_file(request *rq, int fd, gint64 offset, gint64 length)
{
    resp *r = &rq->r;
    if (r->client_gone || r->finished || length <= 0)
        return TRUE;
    ensure_started(rq);
    if ((r->body ? r->body->len : 0) + (guint64)length <= BUFFER_LIMIT)
        return FALSE; /* copied through resp_body, counted there */
    length = resp_accept(rq, length);
    if (length == 0)
        return TRUE;
    if (!r->committed)
        commit(rq, FALSE);
    send_out(rq, NULL, 0, FALSE); /* head and what was buffered go first */
    if (rq->is_head && rq->proto == PROTO_HTTP)
        return TRUE;
    if (r->chunked) {
        char chunk[32];
        struct iovec iov = {chunk, (size_t)g_snprintf(chunk, sizeof chunk, "%" G_GINT64_MODIFIER "x\r\n", length)};
        write_all(rq, &iov, 1);
    }
    send_file(rq, fd, offset, length);
    if (r->chunked) {
        struct iovec iov = {(void *)"\r\n", 2};
        write_all(rq, &iov, 1);
    }
    return TRUE;
}

void resp_flush(request *rq, gboolean final)
{
    resp *r = &rq->r;
    if (r->finished)
        return;
    ensure_started(rq);
    if (final && rh_count_mismatch(&r->count, TRUE) && r->count.offered < r->count.limit && !r->handoff) {
        g_warning("%s: the application wrote %" G_GINT64_FORMAT " of the %" G_GINT64_FORMAT
                  " bytes it announced; connection closed", rq->peer, r->count.offered, r->count.limit);
        r->close_after = TRUE;
    }
    if (!r->client_gone) {
        if (!r->committed)
            commit(rq, final);
        send_out(rq, NULL, 0, final);
    }
    if (final) {
        r->finished = TRUE;
        conn_answered(rq->con);
    }
}

void resp_simple(request *rq, int status, const char *text)
{
    static const rh_header type = {"Content-Type", 12, "text/plain; charset=utf-8", 25};
    resp_start(rq, status, NULL, 0, &type, 1);
    resp_body(rq, text, strlen(text));
    resp_body(rq, "\n", 1);
    resp_flush(rq, TRUE);
}
