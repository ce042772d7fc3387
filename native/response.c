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

const char *resp_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

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

void resp_start(conn *c, int status, const char *reason, gsize reason_len,
                const char *head, gsize head_len, gint64 content_length)
{
    resp *r = &c->r;
    if (r->started)
        return;
    r->started = TRUE;
    r->status = status;
    r->content_length = content_length;
    if (!reason || !reason_len) {
        reason = resp_reason(status);
        reason_len = strlen(reason);
    }
    r->head = g_string_sized_new(128 + head_len);
    const char *first = c->proto == PROTO_SCGI && r->apache_status ? "Status:" : "HTTP/1.1";
    g_string_append_printf(r->head, "%s %d ", first, status);
    g_string_append_len(r->head, reason, (gssize)reason_len);
    g_string_append(r->head, "\r\n");
    g_string_append_len(r->head, head, (gssize)head_len);
}

static gboolean status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* Adds the framing headers and the blank line; decides chunked / close. */
static void commit(conn *c, gboolean final)
{
    resp *r = &c->r;
    gsize blen = r->body ? r->body->len : 0;
    gboolean known = r->content_length >= 0;
    if (c->proto == PROTO_HTTP) {
        if (!known && status_has_body(r->status) && !c->is_head) {
            if (final)
                g_string_append_printf(r->head, "Content-Length: %zu\r\n", blen);
            else if (c->http_minor >= 1)
                r->chunked = TRUE;
            else
                r->close_after = TRUE;
        }
        if (r->chunked)
            g_string_append(r->head, "Transfer-Encoding: chunked\r\n");
        if (!c->keep_alive || r->close_after) {
            r->close_after = TRUE;
            g_string_append(r->head, "Connection: close\r\n");
        } else if (c->http_minor == 0) {
            g_string_append(r->head, "Connection: keep-alive\r\n");
        }
    } else if (!known && final && status_has_body(r->status) && !c->is_head) {
        g_string_append_printf(r->head, "Content-Length: %zu\r\n", blen);
    }
    g_string_append(r->head, "\r\n");
    r->committed = TRUE;
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
        resp_start(c, 200, NULL, 0, "", 0, -1);
}

void resp_body(conn *c, const char *data, gsize len)
{
    resp *r = &c->r;
    if (r->client_gone || r->finished || len == 0)
        return;
    ensure_started(c);
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
        return FALSE;
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
    static const char type[] = "Content-Type: text/plain; charset=utf-8\r\n";
    resp_start(c, status, NULL, 0, type, sizeof type - 1, -1);
    resp_body(c, text, strlen(text));
    resp_body(c, "\n", 1);
    resp_flush(c, TRUE);
}
