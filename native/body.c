/* body: see body.h. */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads from the socket in pieces of this size while streaming HTTP bodies. */
#define READ_CHUNK (64 * 1024)

static gssize fail(conn *c, const char *why)
{
    if (!c->body_error) {
        c->body_error = why;
        g_message("%s: request body: %s", c->peer, why);
    }
    return -1;
}

/* One read from the (non-blocking) socket, waiting at most body_timeout for
 * bytes. Returns > 0, or -1 after fail(). */
static gssize sock_read(conn *c, void *dst, gsize len)
{
    int timeout_ms = c->body_timeout_ms;
    for (;;) {
        ssize_t n = read(c->fd, dst, len);
        if (n > 0)
            return n;
        if (n == 0)
            return fail(c, "the client closed the connection before sending the whole body");
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return fail(c, errno == ECONNRESET ? "the client reset the connection while sending the body"
                                               : "reading the body failed");
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0)
            return fail(c, "no body bytes arrived for body_timeout seconds");
        if (r < 0 && errno != EINTR)
            return fail(c, "waiting for the body failed");
    }
}

static void send_continue_once(conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    if (!c->body_continue)
        return;
    c->body_continue = FALSE;
    /* After the final response has started, a 100 would be out of place. */
    if (c->r.committed || c->sent_continue)
        return;
    c->sent_continue = TRUE;
    if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) < 0) {
        /* a dead client shows up on the next read */
    }
}

/* HTTP: feeds more socket bytes to the parser until it has decoded body bytes
 * for us, or the request is complete. Returns FALSE after fail(). */
static gboolean http_fill(conn *c)
{
    http_req *h = c->http;
    while (h->body->len == 0 && !h->done) {
        if (c->cap - c->len < READ_CHUNK) {
            c->cap = MAX(c->cap, c->len + READ_CHUNK);
            c->buf = g_realloc(c->buf, c->cap);
        }
        gssize n = sock_read(c, c->buf + c->len, c->cap - c->len);
        if (n < 0)
            return FALSE;
        c->len += (gsize)n;
        gsize used = 0;
        http_req_status st = http_req_feed(h, c->buf, c->len, &used);
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        if (st == HTTP_REQ_ERROR) {
            c->body_error_status = h->error_status;
            fail(c, h->error_reason);
            return FALSE;
        }
    }
    return TRUE;
}

gssize body_read(conn *c, void *dst, gsize len)
{
    if (c->body_error)
        return -1;
    gint64 left = c->body_total - c->body_taken;
    if (left <= 0 || len == 0)
        return 0;
    gsize want = (gsize)MIN((gint64)len, left);
    gssize n = 0;
    switch (c->body_mode) {
    case BODY_MEMORY:
        memcpy(dst, c->body + c->body_taken, want);
        n = (gssize)want;
        break;
    case BODY_SPOOL:
        do
            n = pread(c->spool_fd, dst, want, (off_t)c->body_taken);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
            return fail(c, "reading the spooled body failed");
        break;
    case BODY_STREAM:
        if (c->proto == PROTO_SCGI) {
            if (c->body_taken < (gint64)c->body_len) {
                n = (gssize)MIN(want, c->body_len - (gsize)c->body_taken);
                memcpy(dst, c->body + c->body_taken, (gsize)n);
            } else {
                n = sock_read(c, dst, (gsize)MIN((gint64)want, c->body_socket_left));
                if (n < 0)
                    return -1;
                c->body_socket_left -= n;
            }
        } else {
            send_continue_once(c);
            if (!http_fill(c))
                return -1;
            n = (gssize)http_req_take_body(c->http, dst, want);
            if (n == 0)
                return fail(c, "the body ended before its announced length");
        }
        break;
    case BODY_SPOOL_PENDING:
        return fail(c, "the body was not spooled");
    }
    c->body_taken += n;
    return n;
}

/* An unlinked file in $TMPDIR: O_TMPFILE where the file system has it. */
static int open_spool(void)
{
    const char *dir = g_get_tmp_dir();
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char *path = g_build_filename(dir, "scgi-mono-body-XXXXXX", NULL);
    fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        unlink(path);
    g_free(path);
    return fd;
}

static gboolean write_all(int fd, const guint8 *p, gsize len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return FALSE;
        p += w;
        len -= (gsize)w;
    }
    return TRUE;
}

gboolean body_spool(conn *c, int *status)
{
    http_req *h = c->http;
    int fd = open_spool();
    if (fd < 0) {
        g_warning("%s: cannot create a temporary file in %s for the request body: %s", c->peer,
                  g_get_tmp_dir(), g_strerror(errno));
        *status = 500;
        c->body_error = "no temporary file for the body";
        return FALSE;
    }
    c->spool_fd = fd;
    for (;;) {
        if (!write_all(fd, h->body->data, h->body->len)) {
            g_warning("%s: writing the request body to a temporary file in %s: %s", c->peer,
                      g_get_tmp_dir(), g_strerror(errno));
            *status = 500;
            c->body_error = "the temporary file for the body could not be written";
            return FALSE;
        }
        g_byte_array_set_size(h->body, 0);
        if (h->done)
            break;
        if (!http_fill(c)) {
            *status = c->body_error_status ? c->body_error_status
                      : strstr(c->body_error, "body_timeout") ? 408 : 400;
            return FALSE;
        }
    }
    c->body_mode = BODY_SPOOL;
    c->body_total = (gint64)h->body_received;
    c->body_taken = 0;
    conn_build_http_vars(c);
    return TRUE;
}

gboolean body_unread(const conn *c)
{
    switch (c->body_mode) {
    case BODY_STREAM:
        return c->proto == PROTO_SCGI ? c->body_socket_left > 0 : !c->http->done;
    case BODY_SPOOL_PENDING:
        return TRUE;
    case BODY_SPOOL:
        return !c->http->done;
    case BODY_MEMORY:
        break;
    }
    return FALSE;
}

void body_reset(conn *c)
{
    if (c->spool_fd >= 0)
        close(c->spool_fd);
    c->spool_fd = -1;
    c->body = NULL;
    c->body_len = 0;
    c->body_mode = BODY_MEMORY;
    c->body_total = c->body_taken = c->body_socket_left = 0;
    c->body_error = NULL;
    c->body_error_status = 0;
    c->body_continue = FALSE;
}
