/* body: where a request body waits for the application, and how it reads it.
 *
 * The event loop reads every body whole before the request goes to a worker, so
 * a slow or stalled client never holds a worker, only its connection slot and
 * timer. A body up to body_buffer bytes stays in memory (BODY_MEMORY); a larger
 * one (a known length over body_buffer, or a chunked body that outgrows it) is
 * written, as it arrives, to an unlinked temporary file in $TMPDIR
 * (BODY_SPOOL): memory stays bounded whatever the size, and nothing is left on
 * disk whatever happens to the process. A body that ends early (EOF,
 * body_timeout of silence, bad chunked framing, max_body) never reaches the
 * application: the loop refuses or closes the connection.
 *
 * body_read is what the application's ReadEntityBody comes down to, on the
 * worker's thread; the spool functions are the loop's.
 */
#ifndef BODY_H
#define BODY_H

#include <glib.h>
#include "request.h"

/* Copies up to len next body bytes to dst. Returns the count, 0 at the end of
 * the body, -1 if the spool file cannot be read (request.body_error says why). */
gssize body_read(request *rq, void *dst, gsize len);

/* Starts spooling: an unlinked file in $TMPDIR as request.spool_fd. FALSE (and a
 * warning in the log) if none can be made. */
gboolean body_spool_open(request *rq);
/* Appends n bytes to the spool file. FALSE (and a warning) on a write error. */
gboolean body_spool_write(request *rq, const void *p, gsize n);

/* Releases what the body held (the spool file); resets the body fields. */
void body_reset(request *rq);

#endif
