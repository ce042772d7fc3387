/* conn: client connections and the event loop that reads them.
 *
 * One thread (the loop) accepts connections and reads requests with epoll, so a
 * slow client never occupies a worker. The first byte picks the protocol: a digit
 * is SCGI, anything else HTTP/1.1; a protocol the listener does not accept is
 * answered 400 (in that protocol) and logged. A complete request (CGI variable block + body)
 * is handed to the worker pool; the loop forgets the connection until the worker
 * gives it back (conn_done) or frees it.
 *
 * Writing: a response write the socket does not take at once is parked on the
 * connection (conn.out, at most write_buffer bytes of memory and a few files)
 * instead of waiting for the client; when the worker is done, a connection with
 * parked bytes goes back to the loop, which sends them (EPOLLOUT, sendfile for
 * files) and then resumes reading (HTTP keep-alive) or closes. A slow or silent
 * reader thus costs a connection slot, a bounded buffer and a timer, never a
 * worker. write_timeout is measured by the clock on both sides.
 *
 * Ownership: a connection has exactly one owner at a time, the loop or one
 * worker, and only its owner touches it (its parked output included): the loop
 * from accept to dispatch and from conn_done's hand-back (parked output, or the
 * next keep-alive request) to the next dispatch or close; the worker from
 * dispatch to conn_done. The hand-over in either direction goes through a
 * queue (the pool's, or the loop's resume list under its lock), which orders
 * the memory. It is freed only by conn_free, by its owner.
 */
#ifndef CONN_H
#define CONN_H

#include <glib.h>
#include "config.h"
#include "http_req.h"
#include "outq.h"
#include "request.h"
#include "scgi_parse.h"

typedef struct server server;

typedef struct conn {
    int fd;
    server *srv;
    listen_protocols protocols; /* what the listener that accepted it allows */
    char peer[80];          /* "addr:port" or "unix", for log lines */
    char local_addr[64];
    int local_port;
    char remote_addr[64];
    int remote_port;
    int write_timeout_ms;
    gsize write_buffer;     /* memory bytes conn.out may hold (config write_buffer) */

    /* reading (loop-owned) */
    char *buf;
    gsize len, cap;
    scgi_parser scgi;
    http_req *http;
    gint64 deadline;        /* monotonic µs; 0 = none */
    gboolean sent_continue;
    gboolean draining;      /* refused: answer sent, discarding input until EOF */
    gboolean receiving;     /* counted in server_opts.receiving (see there) */
    unsigned requests;      /* requests answered on it before the current one (keep-alive) */
    gsize drained;
    struct conn *prev, *next; /* the loop's list of connections it owns */

    /* the request being read or served (request.h): its variables and body
     * are valid from dispatch to conn_done; reset for the next keep-alive one */
    request req;

    /* Response bytes the socket did not take yet, in wire order (see outq.h):
     * filled by the worker's writes, sent by whoever owns the connection. */
    outq out;
    gboolean writing;       /* loop: sending out, then resuming or closing */
    gboolean close_when_written; /* loop: close once out is sent (no keep-alive) */
} conn;

/* Settings and collaborators the loop needs. */
typedef struct {
    const config *cfg;
    GPtrArray *listeners;   /* of listener*; the loop does not own them */
    /* Called on the loop thread with a complete request; returns FALSE if the
     * request could not be queued (the loop then answers 503 and closes). */
    gboolean (*dispatch)(conn *c, void *ud);
    /* Number of requests queued or being served, for the shutdown wait. */
    int (*busy)(void *ud);
    void *ud;
    /* Called on the loop thread once per loop iteration (at least every
     * 250 ms), for the worker's heartbeat (stats.h); may be NULL. */
    void (*tick)(void *ud);
    /* Called on a worker thread when a request's response is complete (its
     * final flush: sent, parked for the loop, or dropped with a gone client),
     * once per dispatched request; may be NULL. */
    void (*answered)(void *ud);
    /* TRUE: the listeners are not accepted from until server_listen (a worker
     * warming up serves its own requests first, see server_adopt). */
    gboolean hold_listeners;
    /* Where the loop counts the requests it is receiving: connections accepted
     * (or back from keep-alive with new bytes) and neither handed to a worker
     * (dispatch counts from there) nor answered by the loop nor closed. With
     * dispatch's count, what a process that dies takes with it. May be NULL. */
    gint64 *receiving;
} server_opts;

server *server_new(const server_opts *opts, GError **error);
/* Runs until server_stop (the process layer, proc.h, calls it on SIGTERM,
 * SIGINT or the parent going away), then stops accepting, waits for in-flight
 * requests (at most cfg->shutdown_timeout seconds) and returns. */
void server_run(server *s);
/* Loop thread: the server begins to stop once the events at hand are handled
 * (stop accepting, finish what is in progress, see server_run); nothing more
 * once it is stopping. */
void server_stop(server *s);
/* Before server_run or on the loop thread: calls cb(ud) on the loop thread
 * whenever fd is readable or hung up (level-triggered), until server_unwatch.
 * At most 4 descriptors; the caller keeps owning fd. FALSE (errno set) if it
 * cannot be watched. For the process layer's descriptors (proc.h). */
gboolean server_watch(server *s, int fd, void (*cb)(void *ud), void *ud);
/* Stops watching fd (no more calls, also for events already at hand). */
void server_unwatch(server *s, int fd);
void server_free(server *s);
/* Any thread: the loop begins accepting from the listeners on its next turn
 * (for hold_listeners; nothing once it is stopping or already accepting). */
void server_listen(server *s);
/* Any thread: the loop takes fd, a connected stream socket, as if it had
 * accepted it from a listener allowing `protocols` (its peer is read with
 * getpeername). The server owns fd from then on; it is not counted against
 * max_connections. Used by the warm-up (worker.c) to send requests through
 * the real request path before any listener is accepted from. */
void server_adopt(server *s, int fd, listen_protocols protocols);
/* TRUE once the server began to stop (server_stop); any thread. */
gboolean server_stopping(server *s);
/* Connections open now (owned by the loop or a worker). */
int server_connections(server *s);
/* Request body bytes in spool files now, all connections together. */
gint64 server_spooled(server *s);

/* Worker side: the response to the current request is complete (written or
 * parked). The connection goes back to the loop, which sends what is parked and
 * waits for the next request (HTTP keep-alive) or closes; or, with nothing
 * parked and no keep-alive, it is freed at once. The worker must not touch c
 * afterwards. */
void conn_done(conn *c);

/* Worker side, response.c: the response is complete (see server_opts.answered). */
void conn_answered(conn *c);
/* TRUE once the server is stopping: a response committed then says
 * "Connection: close" (any thread). */
gboolean conn_stopping(const conn *c);

#endif
