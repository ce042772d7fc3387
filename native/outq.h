/* outq: response bytes parked on a connection until its socket takes them.
 *
 * A queue of segments in the order they must reach the wire: memory (copied in,
 * consecutive pieces merged) and files (a descriptor of its own, dup'ed from the
 * caller's, with an offset and a length, sent with sendfile(2)). outq_flush
 * sends from the head without ever blocking; whoever owns the connection (the
 * worker while it runs the request, then the event loop) calls it when the
 * socket is writable. Memory bytes and files are counted, so that the owner can
 * bound what one connection parks. No locking: the connection's owner alone
 * touches its queue (see conn.h).
 */
#ifndef OUTQ_H
#define OUTQ_H

#include <glib.h>
#include <sys/uio.h>

typedef struct {
    GQueue segs;   /* of outq_seg* (private), head first */
    gsize mem;     /* memory bytes parked */
    guint files;   /* file segments parked */
} outq;

typedef enum {
    OUTQ_DONE = 0,  /* the queue is empty */
    OUTQ_AGAIN,     /* the socket is full (or the byte budget is spent): call again later */
    OUTQ_SHORT_FILE,/* a file ended before its length: the response framing is broken */
    OUTQ_ERROR,     /* the socket failed (errno says why: EPIPE, ECONNRESET, ...) */
} outq_status;

void outq_init(outq *q);
/* Drops everything parked (closes the files' descriptors). NULL-safe. */
void outq_clear(outq *q);
gboolean outq_empty(const outq *q);
/* Copies n bytes to the tail. */
void outq_push(outq *q, const void *p, gsize n);
/* Copies the bytes of iov[0..n) to the tail. */
void outq_push_iov(outq *q, const struct iovec *iov, int n);
/* Parks length bytes of the file fd from offset (fd itself stays the caller's:
 * the queue dups it). FALSE (nothing parked, errno set) if dup fails. */
gboolean outq_push_file(outq *q, int fd, gint64 offset, gint64 length);
/* Sends from the head to the non-blocking socket sock until the queue is empty,
 * the socket would block, or about budget bytes went (0: no budget). Retries
 * EINTR itself. *sent (may be NULL) gets the bytes that went. */
outq_status outq_flush(outq *q, int sock, gsize budget, gsize *sent);

#endif
