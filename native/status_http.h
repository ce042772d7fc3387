/* status_http: the supervisor's small HTTP/1.x server for the status page
 * (config key status_listen): GET or HEAD of a fixed set of paths, each
 * answered by a render callback. No Mono, no threads: it runs in the
 * supervisor's epoll loop, and nothing a client sends or fails to read can
 * block that loop, crash it, or hold memory without bound:
 *
 *   - the request head (request line and header fields) is at most
 *     STATUS_HTTP_MAX_HEAD bytes: 431 past it; a malformed head: 400; a method
 *     other than GET and HEAD: 405 with Allow; an unknown path: 404; the query
 *     string is ignored for routing; HEAD gets the head only;
 *   - every response is complete in memory before it is sent and is written
 *     non-blocking (EPOLLOUT for the rest); "Connection: close" after each
 *     one (no keep-alive, no pipelining; a request body is never read);
 *   - at most STATUS_HTTP_MAX_CONNS connections at once: a new one past that
 *     evicts the oldest connection still waiting for its request head (a
 *     client that connects and sends nothing cannot lock others out); if all
 *     are busy sending, the new one gets a 503 (one non-blocking send) and is
 *     closed;
 *   - each connection lives at most STATUS_HTTP_TIMEOUT_S seconds from its
 *     accept, whatever it does (slow senders, readers that never read).
 *
 * Every response carries Cache-Control: no-store and X-Content-Type-Options:
 * nosniff; HTML gets a Content-Security-Policy that allows its own inline
 * script and style and requests to the same origin only.
 *
 * The request-head parser and the response builder are pure functions
 * (unit-tested in tests/test_status_http.c, fuzzed by
 * tests/fuzz/fuzz_status_http.c).
 */
#ifndef STATUS_HTTP_H
#define STATUS_HTTP_H

#include <glib.h>
#include <stdint.h>

#include "config.h"

#define STATUS_HTTP_MAX_HEAD 8192
#define STATUS_HTTP_MAX_CONNS 32
#define STATUS_HTTP_TIMEOUT_S 10

/* A route's body: a new buffer (g_free'd by the caller) of *len bytes, or
 * NULL if the figures cannot be had (then 500). */
typedef char *(*status_render_fn)(void *ud, gsize *len);

typedef struct {
    const char *path;          /* exact path, e.g. "/status.json" (no query) */
    const char *content_type;  /* e.g. "application/json" */
    status_render_fn render;
    void *ud;
} status_route;

/* ---- pure: the request head ---- */

typedef enum {
    STATUS_HTTP_INCOMPLETE = 0, /* no end of head yet: read more */
    STATUS_HTTP_OK,             /* a well-formed head (any method) */
    STATUS_HTTP_BAD,            /* 400 */
    STATUS_HTTP_TOO_LARGE,      /* 431: no end of head within the limit */
} status_http_parse_result;

typedef enum { STATUS_HTTP_GET, STATUS_HTTP_HEAD, STATUS_HTTP_OTHER } status_http_method;

typedef struct {
    status_http_method method;
    const char *path;   /* into the parsed buffer: the target up to '?' or '#' */
    gsize path_len;
    int minor;          /* HTTP/1.minor */
    gsize head_len;     /* bytes of the head, final empty line included */
} status_http_request;

/* Parses buf[0..len) as an HTTP/1.x request head: a request line
 * "METHOD SP /target SP HTTP/1.d" (origin form only), header fields
 * "name: value" (token names, no obs-fold, no control characters but HT),
 * then an empty line; lines end in CRLF or LF. The head may be at most
 * `limit` bytes. *req is filled on STATUS_HTTP_OK only. */
status_http_parse_result status_http_parse(const char *buf, gsize len, gsize limit, status_http_request *req);

/* The whole response (head, and body unless HEAD) for a parse result and,
 * on STATUS_HTTP_OK, its request: 200 from the matching route's render, 404,
 * 405 (Allow: GET, HEAD), 400, 431, 500 if render returned NULL. */
GBytes *status_http_respond(status_http_parse_result r, const status_http_request *req,
                            const status_route *routes, gsize n_routes);

/* ---- the server, in the caller's epoll loop ---- */

/* Every epoll registration of the module carries this bit in data.u64 (the
 * supervisor's own tags and worker pids stay below it). */
#define STATUS_HTTP_TAG (UINT64_C(1) << 62)

typedef struct status_http status_http;

/* Listens on spec (TCP, or a UNIX socket created with socket_mode, removed
 * by status_http_free) and adds the socket to epfd. The routes (copied; the
 * ud pointers must outlive the server) are matched by exact path. NULL and
 * error if it cannot listen. */
status_http *status_http_open(const listen_spec *spec, int socket_mode, const status_route *routes, gsize n_routes,
                              int epfd, GError **error);
/* An epoll event whose tag has STATUS_HTTP_TAG. */
void status_http_event(status_http *h, uint64_t tag, uint32_t events);
/* Closes connections past their time (call at least once a second). */
void status_http_tick(status_http *h, gint64 now_us);
/* "tcp:127.0.0.1:8001", for messages. */
const char *status_http_desc(const status_http *h);
/* Open connections (tests, messages). */
guint status_http_connections(const status_http *h);
/* Closes every connection and the listener (NULL accepted). */
void status_http_free(status_http *h);

#endif
