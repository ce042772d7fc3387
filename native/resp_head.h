/* resp_head: the pure rules of a response's head and framing (no I/O, no conn).
 *
 * response.c owns the wire; this module decides what of the application's
 * status, reason and headers may reach it, which framing headers the server
 * writes, and how many body bytes go out. Tests and fuzzers link it alone.
 *
 * The rules (README "Response rules"):
 *  - Status: 200..999 as given; anything else (a 1xx cannot end an exchange)
 *    becomes 500, and res->status_replaced says so.
 *  - Reason: every control byte but HTAB (CR, LF, NUL, DEL...) becomes a space;
 *    empty (or blank) -> the standard phrase of the status.
 *  - Header names must be RFC 9110 tokens (no ':', whitespace, control bytes,
 *    not empty); a header with another name is dropped (res->dropped).
 *  - Header values: every control byte but HTAB becomes a space.
 *  - Framing headers are the server's: Content-Length, Transfer-Encoding,
 *    Connection, Keep-Alive, Proxy-Connection, Trailer, Upgrade and Status are
 *    never copied. A valid Content-Length (digits only; repeats must agree)
 *    becomes the announced length; an invalid or conflicting one is ignored
 *    (the server then frames by itself). "Connection: close" asks the server
 *    to close after the response.
 *  - No body on 205, and "Content-Length: 0" whatever the application
 *    announced (RFC 9110 15.3.6), for HEAD too.
 *  - No body and no Content-Length/Transfer-Encoding on 204; no body on 304
 *    and for HEAD (their Content-Length is the application's when valid; for
 *    HEAD otherwise the length of the body the application wrote, if any).
 *  - Body bytes are counted against the announced length: bytes past it are
 *    cut (and the connection closed); a body that ends short closes it too.
 */
#ifndef RESP_HEAD_H
#define RESP_HEAD_H

#include <glib.h>

/* One application header as given (not NUL-terminated; may hold any byte). */
typedef struct {
    const char *name;
    gsize name_len;
    const char *value;
    gsize value_len;
} rh_header;

/* What rh_head learned from the application's part of the head. */
typedef struct {
    int status;               /* the status written (see the rules) */
    gboolean status_replaced; /* the application's status was out of range */
    gint64 length;            /* a valid Content-Length from the application, or -1 */
    gboolean length_ignored;  /* there was a Content-Length, invalid or conflicting */
    gboolean close;           /* the application sent "Connection: close" */
    gboolean handoff;         /* X-Sendfile or X-Accel-Redirect: the front end sends the body */
    guint dropped;            /* headers dropped for a bad name */
    guint sanitized;          /* reason or values that had control bytes replaced */
} rh_result;

/* Appends "<first> <status> <reason>\r\n" and the application's headers (the
 * rules above applied) to out, without framing headers or the blank line.
 * first is "HTTP/1.1" or "Status:". reason may be NULL; h may be NULL if n is 0. */
void rh_head(GString *out, const char *first, int status, const char *reason, gsize reason_len,
             const rh_header *h, gsize n, rh_result *res);

/* Standard reason phrase; "Unknown" for codes it does not know. */
const char *rh_reason(int status);

/* TRUE when a response with this status to this method may carry a body. */
gboolean rh_body_allowed(int status, gboolean head_request);

/* How the server frames a response once it commits its head. */
typedef struct {
    gboolean http;         /* a plain HTTP client (else an SCGI front end) */
    int http_minor;        /* HTTP/1.x of the request */
    gboolean keep_alive;   /* the request allows keep-alive */
    gboolean head_request; /* the method is HEAD */
    int status;            /* as rh_result.status */
    gint64 length;         /* as rh_result.length */
    gboolean close;        /* the server or the application wants to close */
    gboolean final;        /* the whole body is known */
    gint64 buffered;       /* body bytes the application wrote (the whole body when
                            * final; for HEAD, what a GET would have sent) */
} rh_frame_in;

typedef struct {
    gint64 length;   /* the Content-Length written, or -1 */
    gboolean chunked;/* Transfer-Encoding: chunked written */
    gboolean close;  /* the connection closes after the response */
} rh_frame_out;

/* Appends the framing headers and the blank line to out. */
void rh_frame(GString *out, const rh_frame_in *in, rh_frame_out *res);

/* Body accounting of one response. limit: the body bytes the wire takes, -1
 * for no bound (chunked or close-delimited framing). */
typedef struct {
    gint64 limit;
    gint64 counted;    /* bytes accepted */
    gint64 offered;    /* bytes the application wrote */
    gboolean allowed;  /* a body may be sent at all */
} rh_count;

/* Starts the count for a response: no body allowed -> limit 0; else the
 * announced length (rh_result.length), or -1. */
void rh_count_init(rh_count *k, int status, gboolean head_request, gint64 length);
/* How many of len offered bytes go on the wire (the rest is cut). */
gint64 rh_count_accept(rh_count *k, gint64 len);
/* TRUE when the body written does not match the announced length, which the
 * connection can only signal by closing: more was offered than announced, or
 * (final) fewer. Bytes dropped because no body is allowed are no mismatch. */
gboolean rh_count_mismatch(const rh_count *k, gboolean final);

#endif
