/* body: the request body as the application reads it, on the worker's thread.
 *
 * The loop reads bodies up to body_buffer bytes whole before dispatch
 * (BODY_MEMORY). A larger body with a known length (SCGI's CONTENT_LENGTH, HTTP's
 * Content-Length) is dispatched as soon as the headers are in and streams: each
 * body_read takes what arrived already, then reads the socket (BODY_STREAM), so
 * memory stays bounded whatever the size. A chunked HTTP body that outgrows
 * body_buffer has no length to announce to ASP.NET, so the worker first spools
 * it to an unlinked temporary file in $TMPDIR (body_spool; BODY_SPOOL): nothing
 * is left on disk, whatever happens to the process.
 *
 * A body that ends early (EOF, body_timeout of silence, bad chunked framing,
 * max_body) is an error, never a short body: body_read returns -1 and sets
 * conn.body_error. Only the worker owning the connection calls these.
 */
#ifndef BODY_H
#define BODY_H

#include <glib.h>
#include "conn.h"

/* Copies up to len next body bytes to dst. Returns the count, 0 at the end of
 * the body, -1 on error (conn.body_error says why; logged once). */
gssize body_read(conn *c, void *dst, gsize len);

/* BODY_SPOOL_PENDING: reads the rest of the body into a temporary file and
 * rebuilds the CGI block with its length. On failure returns FALSE with the
 * status to answer (400, 408, 413 or 500) in *status. */
gboolean body_spool(conn *c, int *status);

/* TRUE while body bytes are still unread on the socket (the connection cannot
 * carry another request, and closing it at once could lose the response). */
gboolean body_unread(const conn *c);

/* Releases what the body held (the spool file); resets the body fields. */
void body_reset(conn *c);

#endif
