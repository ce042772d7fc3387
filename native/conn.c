/* conn: the event loop that accepts and reads requests. See conn.h. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "body.h"
#include "listener.h"
#include "response.h"

/* Free buffer space kept for reading a body that goes to a spool file. */
#define SPOOL_READ (64 * 1024)
/* Parked response bytes the loop sends to one connection per wake-up, so that a
 * fast reader of a large file does not keep the loop from the others. */
#define WRITE_TURN (1024 * 1024)

/* epoll tags below this value name the loop's own descriptors; anything else is a conn*. */
enum { TAG_EVENTFD = 1, TAG_WATCH0 = 4, TAG_LISTENER0 = 16, TAG_LIMIT = 4096 };
/* Descriptors server_watch takes (tags TAG_WATCH0 on). */
#define WATCH_MAX 4

typedef struct {
    int fd;                 /* -1: free slot */
    void (*cb)(void *ud);
    void *ud;
} watch_slot;

struct server {
    server_opts o;
    const config *cfg;
    int epfd, evfd;
    GMutex resume_lock;
    conn *resumed;          /* singly linked through ->next, handed back by workers */
    conn owned;             /* sentinel of the list of loop-owned connections */
    gint nconns;            /* atomic: open connections */
    gint64 spooled;         /* atomic: body bytes in spool files, all connections */
    gboolean stopping;
    gboolean stop_wanted;   /* loop: server_stop was called; begin_stop after the batch */
    watch_slot watches[WATCH_MAX];
    gint64 stop_idle_deadline; /* when idle keep-alive connections close, once stopping */
    gint64 last_sweep;
    int writing;            /* loop-owned connections sending a parked response */
    GArray *adopted;        /* under resume_lock: sockets handed over by server_adopt */
    gboolean listen_wanted; /* under resume_lock: server_listen was called */
    gboolean listening;     /* loop: the listeners are in epfd */
    gint adopt_pending;     /* atomic: adopted or listen_wanted changed since the loop looked */
};

typedef struct {
    int fd;
    listen_protocols protocols;
} adopted_fd;

static gint64 now_us(void) { return g_get_monotonic_time(); }

static void list_add(server *s, conn *c)
{
    c->next = s->owned.next;
    c->prev = &s->owned;
    s->owned.next->prev = c;
    s->owned.next = c;
}

static void list_del(conn *c)
{
    if (!c->prev)
        return;
    c->prev->next = c->next;
    c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Gives the request's spool bytes back to the server's budget, before
 * request_reset or request_clear releases its body. Any thread. */
static void spool_give_back(conn *c)
{
    if (c->req.spooled)
        __atomic_fetch_sub(&c->srv->spooled, c->req.spooled, __ATOMIC_RELAXED);
}

static gboolean refuse(conn *c, int status, const char *why);

/* Writes n body bytes to the connection's spool file (opened on first use)
 * within max_spool. On failure refuses the request (503 or 500), sets *owned
 * to refuse()'s result (c may be gone) and returns FALSE. Loop only. */
static gboolean spool(conn *c, const void *p, gsize n, gboolean *owned)
{
    server *s = c->srv;
    if (c->req.spool_fd < 0 && c->req.announced > 0 &&
        __atomic_load_n(&s->spooled, __ATOMIC_RELAXED) + c->req.announced > s->cfg->max_spool) {
        /* the announced length does not fit: say so before the body comes */
        *owned = refuse(c, 503, "server busy: request bodies waiting in temporary files exceed max_spool");
        return FALSE;
    }
    if (__atomic_add_fetch(&s->spooled, (gint64)n, __ATOMIC_RELAXED) > s->cfg->max_spool) {
        __atomic_fetch_sub(&s->spooled, (gint64)n, __ATOMIC_RELAXED);
        *owned = refuse(c, 503, "server busy: request bodies waiting in temporary files exceed max_spool");
        return FALSE;
    }
    gint64 before = c->req.spooled;
    gboolean ok = (c->req.spool_fd >= 0 || body_spool_open(&c->req)) && body_spool_write(&c->req, p, n);
    /* what did not reach the file is not owed */
    __atomic_fetch_sub(&s->spooled, (gint64)n - (c->req.spooled - before), __ATOMIC_RELAXED);
    if (!ok)
        *owned = refuse(c, 500, "the request body could not be written to a temporary file");
    return ok;
}

/* The request on c is being received (TRUE) or left the loop's hands
 * (dispatched, answered by the loop, closed): server_opts.receiving. */
static void set_receiving(conn *c, gboolean on)
{
    gint64 *g = c->srv->o.receiving;
    if (c->receiving == on)
        return;
    c->receiving = on;
    if (g)
        __atomic_add_fetch(g, on ? 1 : -1, __ATOMIC_RELAXED);
}

static void conn_free(conn *c)
{
    server *s = c->srv;
    set_receiving(c, FALSE);
    spool_give_back(c);
    request_clear(&c->req);
    close(c->fd);
    http_req_free(c->http);
    outq_clear(&c->out);
    g_free(c->buf);
    g_free(c);
    g_atomic_int_add(&s->nconns, -1);
}

/* Closes a connection the loop owns. */
static void loop_close(conn *c)
{
    if (c->writing) {
        c->writing = FALSE;
        c->srv->writing--;
    }
    list_del(c);
    epoll_ctl(c->srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    conn_free(c);
}

/* "addr" and port of a socket address; UNIX sockets read as 127.0.0.1, port 0. */
static void format_addr(const struct sockaddr_storage *ss, char *out, gsize size, int *port)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const void *)ss;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)size);
        *port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const void *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)size);
        *port = ntohs(a->sin6_port);
    } else {
        g_strlcpy(out, "127.0.0.1", size);
        *port = 0;
    }
}

static void describe_peer(conn *c, const struct sockaddr_storage *ss)
{
    format_addr(ss, c->remote_addr, sizeof c->remote_addr, &c->remote_port);
    g_snprintf(c->peer, sizeof c->peer, ss->ss_family == AF_UNIX ? "unix" : ss->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
               c->remote_addr, c->remote_port);
}

/* The server side of the connection, which only plain HTTP needs (an SCGI
 * front end sends SERVER_ADDR and SERVER_PORT itself): one getsockname, lazily. */
static void describe_local(conn *c)
{
    if (c->local_addr[0])
        return;
    struct sockaddr_storage ls = {.ss_family = AF_UNSPEC};
    socklen_t ll = sizeof ls;
    if (getsockname(c->fd, (struct sockaddr *)&ls, &ll) < 0)
        ls.ss_family = AF_UNSPEC;
    format_addr(&ls, c->local_addr, sizeof c->local_addr, &c->local_port);
}

static void watch(server *s, conn *c)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

/* A new loop-owned connection on fd (non-blocking), reading its first request. */
static void conn_new(server *s, int fd, listen_protocols protocols, const struct sockaddr_storage *ss)
{
    g_atomic_int_inc(&s->nconns);
    conn *c = g_new0(conn, 1);
    c->fd = fd;
    c->srv = s;
    c->cap = 8192;
    c->buf = g_malloc(c->cap);
    request_init(&c->req, c, c->peer, s->cfg->apache_status);
    c->write_timeout_ms = s->cfg->write_timeout * 1000;
    c->write_buffer = (gsize)s->cfg->write_buffer;
    outq_init(&c->out);
    c->protocols = protocols;
    describe_peer(c, ss);
    c->deadline = now_us() + (gint64)s->cfg->header_timeout * G_USEC_PER_SEC;
    set_receiving(c, TRUE);
    list_add(s, c);
    watch(s, c);
}

static void on_accept(server *s, listener *l)
{
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                g_warning("accept on %s: %s", l->desc, g_strerror(errno));
            return;
        }
        if (g_atomic_int_get(&s->nconns) >= s->cfg->max_connections) {
            g_warning("refusing a connection on %s: %d connections open (max_connections)", l->desc,
                      s->cfg->max_connections);
            close(fd);
            continue;
        }
        if (l->kind == LISTEN_TCP) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        conn_new(s, fd, l->protocols, &ss);
    }
}

static void watch_listeners(server *s)
{
    struct epoll_event ev = {.events = EPOLLIN};
    for (guint i = 0; i < s->o.listeners->len; i++) {
        listener *l = g_ptr_array_index(s->o.listeners, i);
        ev.data.u64 = TAG_LISTENER0 + i;
        epoll_ctl(s->epfd, EPOLL_CTL_ADD, l->fd, &ev);
    }
    s->listening = TRUE;
}

/* server_adopt's sockets and server_listen's request, on the loop. */
static void take_adopted(server *s)
{
    if (!g_atomic_int_compare_and_exchange(&s->adopt_pending, 1, 0))
        return; /* nothing new (the common case: a worker handing a connection back) */
    g_mutex_lock(&s->resume_lock);
    GArray *fds = s->adopted;
    s->adopted = g_array_new(FALSE, FALSE, sizeof(adopted_fd));
    gboolean listen = s->listen_wanted && !s->listening && !s->stopping;
    g_mutex_unlock(&s->resume_lock);
    for (guint i = 0; i < fds->len; i++) {
        adopted_fd *a = &g_array_index(fds, adopted_fd, i);
        if (s->stopping) {
            close(a->fd);
            continue;
        }
        struct sockaddr_storage ss = {.ss_family = AF_UNIX};
        socklen_t sl = sizeof ss;
        if (getpeername(a->fd, (struct sockaddr *)&ss, &sl) < 0)
            ss.ss_family = AF_UNIX;
        int fl = fcntl(a->fd, F_GETFL);
        fcntl(a->fd, F_SETFL, fl | O_NONBLOCK);
        conn_new(s, a->fd, a->protocols, &ss);
    }
    g_array_free(fds, TRUE);
    if (listen)
        watch_listeners(s);
}

static void wake(server *s)
{
    guint64 one = 1;
    if (write(s->evfd, &one, sizeof one) < 0)
        g_warning("eventfd write: %s", g_strerror(errno));
}

void server_listen(server *s)
{
    g_mutex_lock(&s->resume_lock);
    s->listen_wanted = TRUE;
    g_mutex_unlock(&s->resume_lock);
    g_atomic_int_set(&s->adopt_pending, 1);
    wake(s);
}

void server_adopt(server *s, int fd, listen_protocols protocols)
{
    adopted_fd a = {.fd = fd, .protocols = protocols};
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    g_mutex_lock(&s->resume_lock);
    g_array_append_val(s->adopted, a);
    g_mutex_unlock(&s->resume_lock);
    g_atomic_int_set(&s->adopt_pending, 1);
    wake(s);
}

/* Sends a short error answer from the loop (best effort, never blocks), then
 * drains the connection until it can close without losing the answer.
 * Returns TRUE while the loop still owns c (draining), FALSE once it is closed. */
static gboolean refuse(conn *c, int status, const char *why)
{
    set_receiving(c, FALSE); /* answered here */
    g_message("%s: refused (%d): %s", c->peer, status, why);
    char msg[512];
    int n;
    if (c->req.proto == PROTO_HTTP)
        n = g_snprintf(msg, sizeof msg,
                       "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n\r\n%s\n",
                       status, resp_reason(status), strlen(why) + 1, why);
    else
        n = g_snprintf(msg, sizeof msg, "%s %d %s\r\nContent-Type: text/plain\r\n\r\n%s\n",
                       c->srv->cfg->apache_status ? "Status:" : "HTTP/1.1", status,
                       resp_reason(status), why);
    if (n <= 0 || (gsize)n >= sizeof msg || send(c->fd, msg, (size_t)n, MSG_NOSIGNAL) < 0) {
        loop_close(c);
        return FALSE;
    }
    /* Closing now, with request bytes still unread, would make the kernel reset
     * the connection and the client could lose the answer. So: no more writing,
     * read and discard what the client still sends, for a few seconds at most. */
    shutdown(c->fd, SHUT_WR);
    c->draining = TRUE;
    c->deadline = now_us() + 2 * G_USEC_PER_SEC;
    return TRUE;
}

/* Discards input of a refused connection until EOF, its deadline or 1 MiB. */
static void drain(conn *c)
{
    char sink[16384];
    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof sink);
        if (n > 0 && (c->drained += (gsize)n) < 1024 * 1024)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        loop_close(c);
        return;
    }
}

static gboolean dispatch(conn *c)
{
    server *s = c->srv;
    list_del(c);
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    c->deadline = 0;
    set_receiving(c, FALSE);
    if (!s->o.dispatch(c, s->o.ud)) {
        list_add(s, c);
        watch(s, c);
        return refuse(c, 503, "server busy: request queue is full");
    }
    return FALSE;
}

static void grow(conn *c, gsize want)
{
    if (c->cap >= want)
        return;
    gsize cap = c->cap;
    while (cap < want)
        cap *= 2;
    c->buf = g_realloc(c->buf, cap);
    c->cap = cap;
}

/* SCGI: a complete header, then exactly CONTENT_LENGTH body bytes. */
static gboolean process_scgi(conn *c)
{
    const config *cfg = c->srv->cfg;
    scgi_parse_status st = scgi_parse(&c->scgi, c->buf, c->len);
    if (st == SCGI_PARSE_AGAIN) {
        if (c->len == c->cap)
            grow(c, MIN(c->cap * 2, cfg->max_header + 32));
        return TRUE;
    }
    if (st != SCGI_PARSE_DONE)
        return refuse(c, 400, scgi_parse_strerror(st));
    if (c->scgi.content_length > (guint64)cfg->max_body)
        return refuse(c, 413, "request body larger than max_body");
    gint64 length = (gint64)c->scgi.content_length;
    gsize end = c->scgi.header_end;
    if (length > cfg->body_buffer) {
        /* Too big to hold: to the spool file as it comes; the buffer keeps
         * only the header (the variables point into it). */
        gsize n = (gsize)MIN((gint64)(c->len - end), length - c->req.spooled);
        c->req.announced = length;
        gboolean owned;
        if (!spool(c, c->buf + end, n, &owned))
            return owned;
        c->len = end;
        grow(c, end + SPOOL_READ); /* room to read the body in large pieces */
        if (c->req.spooled < length) {
            c->deadline = now_us() + (gint64)cfg->body_timeout * G_USEC_PER_SEC;
            return TRUE;
        }
        c->req.body_mode = BODY_SPOOL;
    } else if (c->len < end + (gsize)length) {
        grow(c, end + (gsize)length);
        c->deadline = now_us() + (gint64)cfg->body_timeout * G_USEC_PER_SEC;
        return TRUE;
    } else {
        c->req.body_mode = BODY_MEMORY;
        c->req.body = c->buf + end;
        c->req.body_len = (gsize)length;
    }
    c->req.vars = c->buf + c->scgi.block_start;
    c->req.vars_len = c->scgi.block_len;
    c->req.body_total = length;
    c->req.keep_alive = FALSE;
    return dispatch(c);
}

static void send_continue(conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->sent_continue = TRUE;
    if (send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL) < 0) {
        /* a failed write shows up as EOF or an error on the next read */
    }
}

static gboolean process_http(conn *c)
{
    const config *cfg = c->srv->cfg;
    if (!c->http)
        c->http = http_req_new(cfg->max_header, (guint)cfg->max_headers, cfg->max_body);
    http_req *h = c->http;
    gsize used = 0;
    http_req_status st = http_req_feed(h, c->buf, c->len, &used);
    memmove(c->buf, c->buf + used, c->len - used);
    c->len -= used;
    if (st == HTTP_REQ_ERROR)
        return refuse(c, h->error_status, h->error_reason);
    if (!http_req_headers_complete(h))
        return TRUE;
    /* A body too big to hold (announced, or a chunked one that outgrew
     * body_buffer) goes to the spool file as it is decoded. */
    if (c->req.spool_fd >= 0 || h->content_length > cfg->body_buffer ||
        (gint64)h->body_received > cfg->body_buffer) {
        grow(c, c->len + SPOOL_READ);
        c->req.announced = h->content_length;
        gboolean owned;
        if (!spool(c, h->body->data, h->body->len, &owned))
            return owned;
        g_byte_array_set_size(h->body, 0);
    }
    if (st == HTTP_REQ_AGAIN) {
        c->deadline = now_us() + (gint64)cfg->body_timeout * G_USEC_PER_SEC;
        if (h->expect_continue && !c->sent_continue)
            send_continue(c);
        return TRUE;
    }
    if (c->req.spool_fd >= 0) {
        c->req.body_mode = BODY_SPOOL;
        c->req.body_total = c->req.spooled;
    } else {
        c->req.body_mode = BODY_MEMORY;
        c->req.body = (const char *)h->body->data;
        c->req.body_len = h->body->len;
        c->req.body_total = (gint64)h->body->len;
    }
    describe_local(c);
    http_conn_info ci = {c->remote_addr, c->remote_port, c->local_addr, c->local_port};
    if (!c->req.http_vars)
        c->req.http_vars = g_string_sized_new(1024);
    g_string_truncate(c->req.http_vars, 0);
    http_req_cgi_block(h, &ci, c->req.http_vars);
    c->req.vars = c->req.http_vars->str;
    c->req.vars_len = c->req.http_vars->len;
    c->req.keep_alive = h->keep_alive;
    c->req.is_head = http_req_is_head(c->http);
    c->req.http_minor = http_req_minor(c->http);
    return dispatch(c);
}

/* Returns TRUE while the loop still owns c (more bytes are needed); FALSE once
 * c was dispatched to a worker or closed: the caller must not touch it then. */
static gboolean process(conn *c)
{
    if (c->req.proto == PROTO_UNKNOWN && c->len > 0) {
        c->req.proto = (c->buf[0] >= '0' && c->buf[0] <= '9') ? PROTO_SCGI : PROTO_HTTP;
        if (!(c->protocols & (c->req.proto == PROTO_SCGI ? LISTEN_PROTO_SCGI : LISTEN_PROTO_HTTP)))
            return refuse(c, 400, c->req.proto == PROTO_SCGI ? "an SCGI request on a listener for HTTP only"
                                                         : "an HTTP request on a listener for SCGI only");
    }
    if (c->req.proto == PROTO_SCGI) {
        if (c->scgi.max_header == 0)
            scgi_parse_init(&c->scgi, c->srv->cfg->max_header,
                            c->srv->cfg->scgi_lenient ? SCGI_PARSE_LENIENT : 0);
        return process_scgi(c);
    }
    if (c->req.proto == PROTO_HTTP)
        return process_http(c);
    return TRUE;
}

static void on_eof(conn *c)
{
    if (c->req.proto == PROTO_HTTP && c->http && c->len == 0 && !c->http->url->len)
        ; /* idle keep-alive connection closed by the client */
    else if (c->len > 0 || (c->http && c->http->url->len))
        g_message("%s: connection closed before the request was complete", c->peer);
    loop_close(c);
}

static void on_readable(conn *c)
{
    if (c->draining) {
        drain(c);
        return;
    }
    for (;;) {
        if (c->len == c->cap)
            grow(c, c->cap * 2);
        ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len);
        if (n > 0) {
            c->len += (gsize)n;
            set_receiving(c, TRUE); /* a keep-alive connection's next request */
            if (!process(c))
                return;
            if (c->draining) {
                drain(c);
                return;
            }
            continue;
        }
        if (n == 0) {
            on_eof(c);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            loop_close(c);
        return;
    }
}

static void sweep_timeouts(server *s)
{
    gint64 now = now_us();
    if (now - s->last_sweep < G_USEC_PER_SEC / 4)
        return;
    s->last_sweep = now;
    conn *c = s->owned.next;
    while (c != &s->owned) {
        conn *next = c->next;
        if (c->deadline && now > c->deadline) {
            if (c->writing)
                g_message("%s: response write timed out: the client took nothing for %d s "
                          "(write_timeout); connection closed", c->peer, s->cfg->write_timeout);
            else if (!c->draining && (c->len > 0 || (c->http && http_req_headers_complete(c->http))))
                g_message("%s: timed out reading the request", c->peer);
            loop_close(c);
        }
        c = next;
    }
}

/* The response is all on the wire: wait for the next request (HTTP
 * keep-alive; one may be here already) or close. */
static void resume(server *s, conn *c)
{
    if (c->close_when_written) {
        loop_close(c);
        return;
    }
    http_req_reset(c->http);
    c->requests++;
    c->sent_continue = FALSE;
    c->deadline = now_us() + (gint64)s->cfg->keepalive_timeout * G_USEC_PER_SEC;
    if (s->stopping) /* answered as keep-alive before the stop: 1 s for its next request, see begin_stop */
        c->deadline = MIN(c->deadline, MAX(s->stop_idle_deadline, now_us() + G_USEC_PER_SEC));
    watch(s, c);
    if (c->len > 0)
        set_receiving(c, TRUE);
    if (c->len > 0 && process(c) && !c->draining) /* a pipelined request already arrived */
        c->deadline = now_us() + (gint64)s->cfg->header_timeout * G_USEC_PER_SEC;
}

/* Sends what the worker parked, WRITE_TURN bytes at most per call; the
 * connection is closed when the client is gone or takes nothing for
 * write_timeout (sweep_timeouts). */
static void on_writable(conn *c)
{
    server *s = c->srv;
    gsize sent;
    outq_status st = outq_flush(&c->out, c->fd, WRITE_TURN, &sent);
    if (sent)
        c->deadline = now_us() + (gint64)s->cfg->write_timeout * G_USEC_PER_SEC;
    if (st == OUTQ_AGAIN)
        return;
    if (st == OUTQ_DONE) {
        c->writing = FALSE;
        s->writing--;
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        resume(s, c);
        return;
    }
    if (st == OUTQ_SHORT_FILE)
        g_warning("%s: a file ended before the length the response announced; connection closed", c->peer);
    else if (errno != EPIPE && errno != ECONNRESET)
        g_message("%s: response write failed: %s", c->peer, g_strerror(errno));
    loop_close(c);
}

/* Takes back connections that workers finished with: those with a parked
 * response are written to, the others wait for their next request. */
static void take_resumed(server *s)
{
    guint64 v;
    if (read(s->evfd, &v, sizeof v) < 0) {
        /* EAGAIN: nothing was signalled since the last read */
    }
    g_mutex_lock(&s->resume_lock);
    conn *c = s->resumed;
    s->resumed = NULL;
    g_mutex_unlock(&s->resume_lock);
    while (c) {
        conn *next = c->next;
        c->next = NULL;
        list_add(s, c);
        spool_give_back(c);
        request_reset(&c->req, s->cfg->apache_status);
        if (outq_empty(&c->out)) {
            resume(s, c);
        } else {
            c->writing = TRUE;
            s->writing++;
            c->deadline = now_us() + (gint64)s->cfg->write_timeout * G_USEC_PER_SEC;
            struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
            epoll_ctl(s->epfd, EPOLL_CTL_ADD, c->fd, &ev);
        }
        c = next;
    }
}

void conn_done(conn *c)
{
    server *s = c->srv;
    /* once stopping, responses say "Connection: close" (conn_stopping) */
    gboolean again = c->req.proto == PROTO_HTTP && c->req.keep_alive && !c->req.r.close_after && !c->req.r.client_gone;
    gboolean parked = !outq_empty(&c->out) && !c->req.r.client_gone;
    if (!again && !parked) {
        conn_free(c);
        return;
    }
    c->close_when_written = !again;
    g_mutex_lock(&s->resume_lock);
    c->next = s->resumed;
    s->resumed = c;
    g_mutex_unlock(&s->resume_lock);
    wake(s);
}

server *server_new(const server_opts *opts, GError **error)
{
    server *s = g_new0(server, 1);
    s->o = *opts;
    s->cfg = opts->cfg;
    s->owned.next = s->owned.prev = &s->owned;
    g_mutex_init(&s->resume_lock);
    s->adopted = g_array_new(FALSE, FALSE, sizeof(adopted_fd));
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    for (int i = 0; i < WATCH_MAX; i++)
        s->watches[i].fd = -1;
    if (s->epfd < 0 || s->evfd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "event loop: %s",
                    g_strerror(errno));
        server_free(s);
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN};
    ev.data.u64 = TAG_EVENTFD;
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->evfd, &ev);
    if (!opts->hold_listeners)
        watch_listeners(s);
    return s;
}

static void begin_stop(server *s)
{
    g_message("stopping: no new connections; finishing requests in progress");
    g_atomic_int_set(&s->stopping, TRUE);
    for (guint i = 0; i < s->o.listeners->len; i++) {
        listener *l = g_ptr_array_index(s->o.listeners, i);
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->fd, NULL);
    }
    /* Responses being sent are finished (within shutdown_timeout), then
     * closed. A request being read is read, answered and closed too: the
     * client sent it to a server that accepted its connection (when workers
     * are replaced, the listening socket never closes, so nothing else tells
     * it to retry). A connection that has sent nothing yet, and an idle
     * keep-alive one, gets 1 s to begin a request (answered with
     * "Connection: close"): closing an idle connection at once races with a
     * client that sends its next request right after its last answer, and
     * the request is lost (with SCGI or a POST, it cannot be retried). */
    gint64 begin = now_us() + 1 * G_USEC_PER_SEC;
    s->stop_idle_deadline = begin;
    conn *c = s->owned.next;
    while (c != &s->owned) {
        conn *next = c->next;
        if (c->writing)
            c->close_when_written = TRUE;
        else if (c->len == 0 && (!c->deadline || c->deadline > begin))
            c->deadline = begin;
        c = next;
    }
}

void server_stop(server *s)
{
    s->stop_wanted = TRUE;
}

gboolean server_watch(server *s, int fd, void (*cb)(void *ud), void *ud)
{
    for (int i = 0; i < WATCH_MAX; i++) {
        if (s->watches[i].fd >= 0)
            continue;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_WATCH0 + (guint64)i};
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
            return FALSE;
        s->watches[i] = (watch_slot){.fd = fd, .cb = cb, .ud = ud};
        return TRUE;
    }
    errno = ENOSPC;
    return FALSE;
}

void server_unwatch(server *s, int fd)
{
    for (int i = 0; i < WATCH_MAX; i++) {
        if (s->watches[i].fd == fd) {
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
            s->watches[i] = (watch_slot){.fd = -1};
        }
    }
}

gboolean server_stopping(server *s)
{
    return g_atomic_int_get(&s->stopping);
}

gboolean conn_stopping(const conn *c)
{
    return c->srv && g_atomic_int_get(&c->srv->stopping);
}

void conn_answered(conn *c)
{
    if (c->srv && c->srv->o.answered)
        c->srv->o.answered(c->srv->o.ud);
}

void server_run(server *s)
{
    struct epoll_event evs[64];
    gint64 stop_deadline = 0;
    for (;;) {
        if (s->o.tick)
            s->o.tick(s->o.ud);
        if (s->stopping) {
            if (s->o.busy(s->o.ud) == 0 && s->owned.next == &s->owned)
                break;
            if (now_us() > stop_deadline) {
                g_warning("stopping with %d requests unfinished after %d s", s->o.busy(s->o.ud),
                          s->cfg->shutdown_timeout);
                break;
            }
        }
        int n = epoll_wait(s->epfd, evs, G_N_ELEMENTS(evs), s->stopping ? 50 : 250);
        if (n < 0 && errno != EINTR) {
            g_warning("epoll_wait: %s", g_strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            guint64 tag = evs[i].data.u64;
            if (tag == TAG_EVENTFD) {
                take_resumed(s);
                take_adopted(s);
            } else if (tag >= TAG_WATCH0 && tag < TAG_WATCH0 + WATCH_MAX) {
                watch_slot *w = &s->watches[tag - TAG_WATCH0];
                if (w->fd >= 0)
                    w->cb(w->ud);
            } else if (tag >= TAG_LISTENER0 && tag < TAG_LIMIT) {
                if (!s->stopping)
                    on_accept(s, g_ptr_array_index(s->o.listeners, tag - TAG_LISTENER0));
            } else {
                conn *c = evs[i].data.ptr;
                if (c->writing)
                    on_writable(c);
                else
                    on_readable(c);
            }
        }
        /* Only once the batch is handled: begin_stop closes idle connections,
         * and one of them may have an event later in evs (it was freed under
         * that event: a double free under load, seen on SIGHUP reloads). */
        if (s->stop_wanted && !s->stopping) {
            begin_stop(s);
            stop_deadline = now_us() + (gint64)s->cfg->shutdown_timeout * G_USEC_PER_SEC;
        }
        sweep_timeouts(s);
    }
}

int server_connections(server *s) { return g_atomic_int_get(&s->nconns); }

gint64 server_spooled(server *s) { return __atomic_load_n(&s->spooled, __ATOMIC_RELAXED); }

void server_free(server *s)
{
    if (!s)
        return;
    while (s->owned.next != &s->owned)
        loop_close(s->owned.next);
    if (s->epfd >= 0)
        close(s->epfd);
    if (s->evfd >= 0)
        close(s->evfd);
    for (guint i = 0; s->adopted && i < s->adopted->len; i++)
        close(g_array_index(s->adopted, adopted_fd, i).fd);
    if (s->adopted)
        g_array_free(s->adopted, TRUE);
    g_mutex_clear(&s->resume_lock);
    g_free(s);
}
