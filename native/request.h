/* request: the request being served on a connection, from dispatch to
 * conn_done (lighttpd's request_st embedded in its connection is the model).
 *
 * A request lives inside its connection (conn.req, conn.h) and shares its
 * owner: the loop while it reads the request, then the one worker it is
 * dispatched to, until conn_done hands the connection back. What the loop
 * reads (the CGI variables, the body) is filled in before dispatch and only
 * read afterwards (body_taken and body_error excepted, body.h); the response
 * state (resp) is the worker's (response.c). request_reset readies it for the
 * next request on a keep-alive connection.
 *
 * Modules that serve a request (body, response, route, monohost) take a
 * request*; only the event loop and the response writer need the connection
 * behind it (request.con: its socket and parked output).
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <glib.h>
#include "resp_head.h"

typedef enum { PROTO_UNKNOWN = 0, PROTO_SCGI, PROTO_HTTP } conn_proto;

/* Where the request body is (see body.h); the loop reads it whole either way. */
typedef enum {
    BODY_MEMORY = 0,  /* at request.body */
    BODY_SPOOL,       /* in the unlinked temporary file spool_fd */
} body_mode;

/* Response state: written by the worker that owns the request (response.c). */
typedef struct {
    GString *head;        /* status + headers from the application, not yet framed */
    GByteArray *body;     /* buffered body not yet written */
    int status;           /* as written (resp_head rules) */
    gint64 content_length;/* a valid Content-Length from the application, or -1 */
    gboolean app_close;   /* the application sent "Connection: close" */
    gboolean handoff;     /* SCGI: the front end sends the body (X-Sendfile, X-Accel-Redirect) */
    rh_count count;       /* body bytes offered and accepted against the announced length */
    gboolean started;     /* status and headers received from the application */
    gboolean committed;   /* headers written to the socket */
    gboolean chunked;     /* HTTP body framed with chunked encoding */
    gboolean finished;    /* the final flush happened */
    gboolean client_gone; /* a write failed or timed out: drop the rest */
    gboolean close_after; /* close the connection after this response */
    int apache_status;    /* SCGI status line: 1 "Status:", 0 "HTTP/1.1" */
} resp;

struct conn;

typedef struct request {
    struct conn *con;       /* the connection it arrived on (never NULL once served) */
    const char *peer;       /* the connection's "addr:port", for log lines */
    /* The connection's protocol, from its first byte: kept by request_reset. */
    conn_proto proto;

    const char *vars;       /* CGI block: "NAME\0value\0"... (valid from dispatch) */
    gsize vars_len;
    GString *http_vars;     /* backing store of vars for HTTP (kept for reuse) */
    gboolean keep_alive;
    gboolean is_head;
    int http_minor;

    /* body (body.h) */
    const char *body;       /* BODY_MEMORY: the body */
    gsize body_len;         /* bytes at body */
    body_mode body_mode;
    gint64 body_total;      /* body bytes the application sees */
    gint64 body_taken;      /* body bytes handed to the application so far */
    int spool_fd;           /* the temporary file a large body is written to, else -1 */
    gint64 spooled;         /* bytes written to it so far */
    gint64 announced;       /* the body's length as announced, or -1 (chunked) */
    const char *body_error; /* why the body could not be read, or NULL */

    resp r;
} request;

/* A fresh request on connection con (whose peer string outlives it). */
void request_init(request *rq, struct conn *con, const char *peer, int apache_status);
/* Ready for the next request on the same connection (HTTP keep-alive): the
 * body is released (its spool file closed), the variables and the response
 * state cleared; proto and the http_vars buffer are kept. A spool's bytes
 * must have been given back to the server's budget first (conn.c). */
void request_reset(request *rq, int apache_status);
/* Releases everything the request holds; NULL-safe fields. */
void request_clear(request *rq);

/* Looks up a variable of the request; NULL if absent (or no variables yet). */
const char *request_var(const request *rq, const char *name, gsize *len);

#endif
