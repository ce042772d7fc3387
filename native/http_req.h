/* http_req: one HTTP/1.x request read from a byte stream with llhttp (Debian's
 * node-llhttp sources), turned into the same CGI-style variable block an SCGI
 * front end sends, so everything after parsing has one request shape.
 *
 * Contract:
 *  - No I/O. Bytes are fed as they arrive; http_req_feed reports how many it
 *    consumed. After HTTP_REQ_DONE the unconsumed bytes belong to the next
 *    (pipelined) request: call http_req_reset, then feed them again.
 *  - Sizes are bounded: the URL, header names and values together by max_header
 *    (431 past it), the number of header fields (trailers included) by
 *    max_headers (431 past it), chunk extensions by HTTP_REQ_MAX_CHUNK_EXT bytes
 *    per request (400 past it),
 *    the decoded body by max_body (413 past it, refused at the headers when
 *    Content-Length announces it). The body accumulates in `body` unless a
 *    reader takes it as it comes (http_req_take_body).
 *  - Header names become HTTP_NAME (upper case, '-' -> '_'); Content-Type and
 *    Content-Length become CONTENT_TYPE and CONTENT_LENGTH like CGI. A header whose
 *    name contains '_' is dropped (it could impersonate another after mapping).
 *    Repeated headers are joined: "; " for Cookie, ", " otherwise. Chunked
 *    trailers are dropped (they must not pose as headers).
 *  - llhttp is built in strict mode (LLHTTP_STRICT_MODE=1, see the Makefile):
 *    CRLF is required after chunk data and after every CR, and the request
 *    target must be visible ASCII (raw bytes >= 0x80, TAB: 400).
 *  - Refused with 400 beyond llhttp's own checks: whitespace in or an empty
 *    header name, an empty request target, bytes after an upgrade request
 *    (upgrades are served as plain requests, then the connection closes), an
 *    HTTP/1.1 request without Host, more than one Host header, a Host value
 *    that http_host_valid refuses, an absolute-form
 *    target ("GET http://a.example/x") whose authority differs from Host
 *    (compared without case and default port), or that carries userinfo.
 *  - An HTTP/1.0 request with Transfer-Encoding is served, then the connection
 *    closes (RFC 9112 section 6.1): keep_alive is FALSE.
 *  - Header handling is linear in the number of headers: names are indexed in a
 *    hash table as they arrive.
 *  - The request owns all its memory; http_req_free accepts NULL.
 */
#ifndef HTTP_REQ_H
#define HTTP_REQ_H

#include <glib.h>
#include <llhttp.h>

/* Bytes of chunk extensions (names and values, all chunks together) one request
 * may carry; nobody uses them, and each costs a callback. */
#define HTTP_REQ_MAX_CHUNK_EXT 4096

typedef enum {
    HTTP_REQ_AGAIN = 0, /* need more bytes */
    HTTP_REQ_DONE,      /* a whole request is parsed */
    HTTP_REQ_ERROR,     /* bad request: answer error_status and close */
} http_req_status;

typedef struct {
    llhttp_t parser;
    gsize max_header;
    guint max_headers;
    gint64 max_body;

    GString *url;
    GString *field;      /* header name being received */
    GString *value;      /* header value being received */
    GPtrArray *names;    /* of char*: CGI names, in arrival order */
    GPtrArray *values;   /* of GString*: values, parallel to names */
    GHashTable *index;   /* CGI name (owned by names) -> its position + 1 */
    gsize header_bytes;
    guint header_count;  /* header fields so far, trailers included */
    gsize chunk_ext_bytes;
    int line_state;      /* where head_scan is in the head's lines */
    char version[8];     /* the request line's version text, cut at 7 bytes */
    gboolean in_value;
    gboolean headers_done;
    gboolean done;

    GByteArray *body;         /* decoded body bytes not yet taken */
    guint64 body_received;    /* decoded body bytes so far, taken or not */
    gint64 content_length;    /* announced by Content-Length, or -1 */

    /* results, valid after HTTP_REQ_DONE */
    gboolean keep_alive;
    gboolean expect_continue; /* set once the headers are complete */
    int error_status;         /* 400, 413 or 431 after HTTP_REQ_ERROR */
    const char *error_reason; /* static text after HTTP_REQ_ERROR */
} http_req;

/* Facts about the connection that a CGI block carries. Strings may not be NULL. */
typedef struct {
    const char *remote_addr;
    int remote_port;
    const char *server_addr;
    int server_port;
} http_conn_info;

http_req *http_req_new(gsize max_header, guint max_headers, gint64 max_body);
void http_req_free(http_req *r);
/* Forget the finished request and get ready for the next on the same connection. */
void http_req_reset(http_req *r);

http_req_status http_req_feed(http_req *r, const char *data, gsize len, gsize *consumed);
/* The peer closed its side: a request whose body ends at EOF is complete then. */
http_req_status http_req_finish(http_req *r);

gboolean http_req_headers_complete(const http_req *r);
const char *http_req_method(const http_req *r);
gboolean http_req_is_head(const http_req *r);
/* HTTP minor version (0 or 1). */
int http_req_minor(const http_req *r);

/* Moves up to len decoded body bytes into dst (for a reader that streams the
 * body instead of letting it accumulate); returns how many. */
gsize http_req_take_body(http_req *r, void *dst, gsize len);

/* Length of the host name in a Host value, without its port and without one
 * trailing dot (the DNS root: "vh.example." is "vh.example", as nginx takes
 * it): "a.example:80" -> 9, "a.example.:80" -> 9, "[::1]:8000" -> 5 ("[::1]"),
 * "a.example" -> 9. The one rule for SERVER_NAME here and for the server name
 * route.c decides. */
gsize http_host_name_len(const char *host);

/* Longest host name (DNS: 253 bytes, a trailing dot aside). */
#define HTTP_HOST_NAME_MAX 253

/* The one rule for a Host value (host[0..len), no NUL inside), used at parse
 * time here and by route.c for an SCGI front end's HTTP_HOST: TRUE for
 *   empty (RFC 9112 3.2 allows it when the target has no authority), or
 *   name [":" port], where port is 1-5 digits <= 65535 and name is either
 *   - "[" IPv6 address "]" (inet_pton; no zone identifier, no IPvFuture), or
 *   - labels of ASCII letters, digits, '-' and '_' separated by single dots,
 *     with at most one trailing dot, at most 253 bytes without it (an IPv4
 *     address is such a name).
 * Everything else RFC 3986's reg-name would allow is refused on purpose:
 * percent-encoding (the router and the application would see different
 * names), '~' and sub-delims (",;=!$&'()*+", found in no DNS name and
 * breaking URL rebuilding in ASP.NET), userinfo ('@'), paths ('/', '?', '#'),
 * '\', spaces, a second ':'. '_' is kept: it occurs in real internal host names
 * and nginx and Apache accept it. A request whose Host fails is answered 400. */
gboolean http_host_valid(const char *host, gsize len);

/* Appends the CGI variable block ("NAME\0value\0" pairs, CONTENT_LENGTH first,
 * the decoded body's length) describing the finished request to out. */
void http_req_cgi_block(const http_req *r, const http_conn_info *ci, GString *out);

#endif
