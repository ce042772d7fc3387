/* response: frames and writes the response to the request a worker is serving.
 *
 * The application hands over its status and header lines once (resp_start), then
 * body bytes (resp_body) and flushes (resp_flush). This module alone decides the
 * first line: "Status: 200 OK" or "HTTP/1.1 200 OK" for SCGI (per application,
 * resp.apache_status), always "HTTP/1.1 ..." for plain HTTP clients; and the
 * body framing (Content-Length when the application gave a valid one or the
 * whole body is known at the first write; for HTTP chunked otherwise, or
 * close-delimited for HTTP/1.0). What of the application's status, reason and
 * headers reaches the wire, and how many body bytes, is decided by the pure
 * rules of resp_head.h: body bytes past the announced length are cut, and a
 * body that did not match it closes the connection (with a log line).
 * Small responses leave in one writev; larger bodies are written without copying.
 * What the socket does not take at once is parked on the connection (conn.out,
 * in wire order; files as descriptors) and sent by the event loop once the
 * worker is done, so a slow reader does not hold the worker; only a write that
 * would park more than write_buffer bytes waits for the client, at most
 * write_timeout without progress, by the clock. A write that fails or times out
 * marks the client gone; later calls then do nothing. Only the worker owning
 * the request calls these; the socket and parked output are its connection's
 * (request.con).
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <glib.h>
#include "request.h"

/* The application's status, reason (may be NULL) and headers, as given: the
 * rules of resp_head.h decide what reaches the wire. Only the first call counts. */
void resp_start(request *rq, int status, const char *reason, gsize reason_len, const rh_header *h, gsize n);
void resp_body(request *rq, const char *data, gsize len);
/* Sends length bytes of the open file fd from offset with sendfile(2), after what
 * is buffered; what the socket does not take at once is parked as a dup of fd
 * (fd stays the caller's). Returns FALSE, having sent nothing, when the bytes are better
 * copied (they fit in the buffer with what is there); the caller then copies. */
gboolean resp_file(request *rq, int fd, gint64 offset, gint64 length);
/* Writes what is buffered; final ends the response (the zero chunk for chunked). */
void resp_flush(request *rq, gboolean final);
/* A complete short answer from the server itself (no application involved). */
void resp_simple(request *rq, int status, const char *text);
/* Frees buffers and resets the state for the next request (NULL-safe fields). */
void resp_clear(resp *r);
/* Standard reason phrase; "Unknown" for codes it does not know. */
const char *resp_reason(int status);

#endif
