/* status_http: see status_http.h. */
#include "status_http.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

/* ---- the request head ---- */

static gboolean is_tchar(unsigned char c)
{
    return g_ascii_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The end of the line starting at p (the LF), or NULL; a CR anywhere but
 * before the LF makes *bad TRUE. */
static const char *line_end(const char *p, const char *end, gboolean *bad)
{
    for (const char *q = p; q < end; q++) {
        if (*q == '\n')
            return q;
        if (*q == '\r' && (q + 1 >= end ? FALSE : q[1] != '\n')) {
            *bad = TRUE;
            return NULL;
        }
    }
    return NULL;
}

static status_http_parse_result parse_request_line(const char *p, const char *eol, status_http_request *req)
{
    if (eol > p && eol[-1] == '\r')
        eol--;
    const char *m = p;
    while (p < eol && is_tchar((unsigned char)*p))
        p++;
    gsize mlen = (gsize)(p - m);
    if (mlen == 0 || p >= eol || *p != ' ')
        return STATUS_HTTP_BAD;
    p++;
    const char *t = p;
    while (p < eol && (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f)
        p++;
    if (p == t || *t != '/' || p >= eol || *p != ' ')
        return STATUS_HTTP_BAD;
    const char *tend = p++;
    if (eol - p != 8 || memcmp(p, "HTTP/1.", 7) != 0 || !g_ascii_isdigit(p[7]))
        return STATUS_HTTP_BAD;
    req->minor = p[7] - '0';
    req->method = mlen == 3 && memcmp(m, "GET", 3) == 0    ? STATUS_HTTP_GET
                  : mlen == 4 && memcmp(m, "HEAD", 4) == 0 ? STATUS_HTTP_HEAD
                                                           : STATUS_HTTP_OTHER;
    req->path = t;
    req->path_len = (gsize)(tend - t);
    for (gsize i = 0; i < req->path_len; i++)
        if (t[i] == '?' || t[i] == '#') {
            req->path_len = i;
            break;
        }
    return STATUS_HTTP_OK;
}

static gboolean header_line_ok(const char *p, const char *eol)
{
    if (eol > p && eol[-1] == '\r')
        eol--;
    const char *n = p;
    while (p < eol && is_tchar((unsigned char)*p))
        p++;
    if (p == n || p >= eol || *p != ':')
        return FALSE; /* no name, a space before the colon, obs-fold, no colon */
    for (p++; p < eol; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return FALSE;
    return TRUE;
}

status_http_parse_result status_http_parse(const char *buf, gsize len, gsize limit, status_http_request *req)
{
    const char *end = buf + MIN(len, limit), *p = buf;
    gboolean bad = FALSE;
    status_http_request r = {0};
    int line = 0;
    for (;;) {
        const char *eol = line_end(p, end, &bad);
        if (bad)
            return STATUS_HTTP_BAD;
        if (!eol) {
            /* a head with more bytes after the limit cannot end within it */
            return len >= limit ? STATUS_HTTP_TOO_LARGE : STATUS_HTTP_INCOMPLETE;
        }
        if (line == 0) {
            if (parse_request_line(p, eol, &r) != STATUS_HTTP_OK)
                return STATUS_HTTP_BAD;
        } else if (eol == p || (eol == p + 1 && *p == '\r')) {
            r.head_len = (gsize)(eol + 1 - buf);
            *req = r;
            return STATUS_HTTP_OK;
        } else if (!header_line_ok(p, eol)) {
            return STATUS_HTTP_BAD;
        }
        line++;
        p = eol + 1;
    }
}

/* ---- the response ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    }
    return "Error";
}

static GBytes *build(int status, const char *type, const char *body, gsize len, gboolean head_only)
{
    GString *s = g_string_sized_new(256 + (head_only ? 0 : len));
    g_string_append_printf(s, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n"
                              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n",
                           status, reason(status), type, len);
    if (status == 405)
        g_string_append(s, "Allow: GET, HEAD\r\n");
    if (g_str_has_prefix(type, "text/html"))
        g_string_append(s, "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
                           "style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                           "base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n");
    g_string_append(s, "\r\n");
    if (!head_only)
        g_string_append_len(s, body, (gssize)len);
    gsize n = s->len;
    return g_bytes_new_take(g_string_free(s, FALSE), n);
}

static GBytes *error_page(int status, gboolean head_only)
{
    char *body = g_strdup_printf("%d %s\n", status, reason(status));
    GBytes *b = build(status, "text/plain; charset=utf-8", body, strlen(body), head_only);
    g_free(body);
    return b;
}

GBytes *status_http_respond(status_http_parse_result r, const status_http_request *req,
                            const status_route *routes, gsize n_routes)
{
    if (r == STATUS_HTTP_TOO_LARGE)
        return error_page(431, FALSE);
    if (r != STATUS_HTTP_OK)
        return error_page(400, FALSE);
    gboolean head = req->method == STATUS_HTTP_HEAD;
    if (req->method == STATUS_HTTP_OTHER)
        return error_page(405, FALSE);
    for (gsize i = 0; i < n_routes; i++) {
        const status_route *rt = &routes[i];
        if (strlen(rt->path) != req->path_len || memcmp(rt->path, req->path, req->path_len) != 0)
            continue;
        gsize len = 0;
        char *body = rt->render(rt->ud, &len);
        if (!body)
            return error_page(500, head);
        GBytes *b = build(200, rt->content_type, body, len, head);
        g_free(body);
        return b;
    }
    return error_page(404, head);
}

/* ---- the server ---- */

typedef enum { C_READING, C_WRITING, C_LINGER } conn_state;

typedef struct {
    int fd;
    conn_state state;
    gint64 deadline;   /* monotonic µs: closed then, whatever it does */
    gint64 accepted;
    char buf[STATUS_HTTP_MAX_HEAD];
    gsize len;
    GBytes *out;
    gsize sent;
} sconn;

struct status_http {
    listener *l;
    int epfd;
    status_route *routes;
    gsize n_routes;
    GHashTable *conns; /* fd -> sconn* */
};

#define LINGER_US (2 * G_USEC_PER_SEC)

static void conn_close(status_http *h, sconn *c)
{
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->out)
        g_bytes_unref(c->out);
    g_hash_table_remove(h->conns, GINT_TO_POINTER(c->fd));
    g_free(c);
}

static void conn_watch(status_http *h, sconn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.u64 = STATUS_HTTP_TAG | (uint64_t)c->fd};
    epoll_ctl(h->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what it can of the response; once all is sent, half-closes and
 * reads what the client still sends until it closes (so that unread request
 * bytes do not turn the close into a reset that could destroy the response). */
static void conn_write(status_http *h, sconn *c)
{
    gsize total = 0;
    const char *data = g_bytes_get_data(c->out, &total);
    while (c->sent < total) {
        ssize_t w = send(c->fd, data + c->sent, total - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            c->sent += (gsize)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->state != C_WRITING) {
                c->state = C_WRITING;
                conn_watch(h, c, EPOLLOUT);
            }
            return;
        }
        conn_close(h, c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = C_LINGER;
    c->deadline = MIN(c->deadline, g_get_monotonic_time() + LINGER_US);
    conn_watch(h, c, EPOLLIN | EPOLLRDHUP);
}

static void conn_respond(status_http *h, sconn *c, status_http_parse_result r, const status_http_request *req)
{
    c->out = status_http_respond(r, req, h->routes, h->n_routes);
    c->sent = 0;
    c->state = C_WRITING;
    conn_watch(h, c, EPOLLOUT);
    conn_write(h, c);
}

static void conn_read(status_http *h, sconn *c)
{
    if (c->state == C_LINGER) {
        char sink[4096];
        ssize_t r;
        while ((r = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
            ;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
            conn_close(h, c);
        return;
    }
    gboolean gone = FALSE;
    for (;;) {
        if (c->len == sizeof c->buf)
            break;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (r > 0) {
            c->len += (gsize)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        gone = TRUE; /* EOF (a client may half-close after its request) or an error */
        break;
    }
    status_http_request req;
    status_http_parse_result pr = status_http_parse(c->buf, c->len, sizeof c->buf, &req);
    if (pr != STATUS_HTTP_INCOMPLETE)
        conn_respond(h, c, pr, &req);
    else if (gone)
        conn_close(h, c); /* no whole head: nobody to answer */
}

/* The connection to give up for a new one past the limit: the oldest still
 * waiting for (or lingering after) its request; NULL if all are sending. */
static sconn *eviction_candidate(status_http *h)
{
    sconn *best = NULL;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, h->conns);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        sconn *c = v;
        if (c->state == C_WRITING)
            continue;
        if (!best || (c->state == C_LINGER) > (best->state == C_LINGER) ||
            ((c->state == C_LINGER) == (best->state == C_LINGER) && c->accepted < best->accepted))
            best = c;
    }
    return best;
}

static void on_accept(status_http *h)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(h->l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or an error about that one connection (EMFILE: it waits in the backlog) */
        if (g_hash_table_size(h->conns) >= STATUS_HTTP_MAX_CONNS) {
            sconn *old = eviction_candidate(h);
            if (old) {
                conn_close(h, old);
            } else {
                GBytes *b = error_page(503, FALSE);
                gsize n = 0;
                const char *d = g_bytes_get_data(b, &n);
                if (send(fd, d, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                    /* nothing more to do for it */
                }
                g_bytes_unref(b);
                close(fd);
                continue;
            }
        }
        sconn *c = g_new0(sconn, 1);
        c->fd = fd;
        c->accepted = g_get_monotonic_time();
        c->deadline = c->accepted + (gint64)STATUS_HTTP_TIMEOUT_S * G_USEC_PER_SEC;
        c->state = C_READING;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u64 = STATUS_HTTP_TAG | (uint64_t)fd};
        if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            g_free(c);
            continue;
        }
        g_hash_table_insert(h->conns, GINT_TO_POINTER(fd), c);
    }
}

status_http *status_http_open(const listen_spec *spec, int socket_mode, const status_route *routes, gsize n_routes,
                              int epfd, GError **error)
{
    listener *l = listener_open(spec, socket_mode, 64, error);
    if (!l)
        return NULL;
    status_http *h = g_new0(status_http, 1);
    h->l = l;
    h->epfd = epfd;
    h->routes = g_memdup2(routes, sizeof *routes * n_routes);
    h->n_routes = n_routes;
    h->conns = g_hash_table_new(NULL, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = STATUS_HTTP_TAG | (uint64_t)l->fd};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev) < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "status_listen %s: epoll: %s", spec->spec,
                    g_strerror(errno));
        status_http_free(h);
        return NULL;
    }
    return h;
}

void status_http_event(status_http *h, uint64_t tag, uint32_t events)
{
    int fd = (int)(tag & ~STATUS_HTTP_TAG);
    if (fd == h->l->fd) {
        on_accept(h);
        return;
    }
    sconn *c = g_hash_table_lookup(h->conns, GINT_TO_POINTER(fd));
    if (!c)
        return;
    if (c->state == C_WRITING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            conn_write(h, c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
        conn_read(h, c);
}

void status_http_tick(status_http *h, gint64 now_us)
{
    if (!h)
        return;
    GPtrArray *late = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, h->conns);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (((sconn *)v)->deadline <= now_us)
            g_ptr_array_add(late, v);
    for (guint i = 0; i < late->len; i++)
        conn_close(h, g_ptr_array_index(late, i));
    g_ptr_array_free(late, TRUE);
}

const char *status_http_desc(const status_http *h)
{
    return h->l->desc;
}

guint status_http_connections(const status_http *h)
{
    return g_hash_table_size(h->conns);
}

void status_http_free(status_http *h)
{
    if (!h)
        return;
    if (h->conns) {
        GList *all = g_hash_table_get_values(h->conns);
        for (GList *i = all; i; i = i->next)
            conn_close(h, i->data);
        g_list_free(all);
        g_hash_table_destroy(h->conns);
    }
    if (h->l)
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->l->fd, NULL);
    listener_free(h->l);
    g_free(h->routes);
    g_free(h);
}
