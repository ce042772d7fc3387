/* outq: see outq.h. */
#include "outq.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int fd;          /* -1: memory segment */
    GByteArray *mem; /* memory: the bytes; those before pos have gone */
    gsize pos;
    gint64 off, left;/* file: next offset and bytes still to send */
} outq_seg;

static void seg_free(outq_seg *s)
{
    if (s->fd >= 0)
        close(s->fd);
    if (s->mem)
        g_byte_array_free(s->mem, TRUE);
    g_free(s);
}

void outq_init(outq *q)
{
    g_queue_init(&q->segs);
    q->mem = 0;
    q->files = 0;
}

void outq_clear(outq *q)
{
    if (!q)
        return;
    outq_seg *s;
    while ((s = g_queue_pop_head(&q->segs)))
        seg_free(s);
    q->mem = 0;
    q->files = 0;
}

gboolean outq_empty(const outq *q) { return q->segs.head == NULL; }

/* The memory segment to append to: the tail if it is memory none of which has
 * gone yet (so that a segment never grows while it drains), else a new one. */
static GByteArray *tail_mem(outq *q, gsize hint)
{
    outq_seg *t = g_queue_peek_tail(&q->segs);
    if (t && t->fd < 0 && t->pos == 0)
        return t->mem;
    t = g_new0(outq_seg, 1);
    t->fd = -1;
    t->mem = g_byte_array_sized_new((guint)MAX(hint, 4096));
    g_queue_push_tail(&q->segs, t);
    return t->mem;
}

void outq_push(outq *q, const void *p, gsize n)
{
    if (n == 0)
        return;
    g_byte_array_append(tail_mem(q, n), p, (guint)n);
    q->mem += n;
}

void outq_push_iov(outq *q, const struct iovec *iov, int n)
{
    gsize total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return;
    GByteArray *a = tail_mem(q, total);
    for (int i = 0; i < n; i++)
        g_byte_array_append(a, iov[i].iov_base, (guint)iov[i].iov_len);
    q->mem += total;
}

gboolean outq_push_file(outq *q, int fd, gint64 offset, gint64 length)
{
    if (length <= 0)
        return TRUE;
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0)
        return FALSE;
    outq_seg *s = g_new0(outq_seg, 1);
    s->fd = own;
    s->off = offset;
    s->left = length;
    g_queue_push_tail(&q->segs, s);
    q->files++;
    return TRUE;
}

/* Drops n sent bytes from the memory segments at the head. */
static void consume(outq *q, gsize n)
{
    q->mem -= n;
    while (n > 0) {
        outq_seg *s = g_queue_peek_head(&q->segs);
        gsize have = s->mem->len - s->pos;
        if (n < have) {
            s->pos += n;
            return;
        }
        n -= have;
        seg_free(g_queue_pop_head(&q->segs));
    }
}

outq_status outq_flush(outq *q, int sock, gsize budget, gsize *sent)
{
    gsize total = 0;
    outq_status st = OUTQ_DONE;
    while (!g_queue_is_empty(&q->segs)) {
        if (budget && total >= budget) {
            st = OUTQ_AGAIN;
            break;
        }
        outq_seg *s = g_queue_peek_head(&q->segs);
        ssize_t w;
        if (s->fd < 0) {
            struct iovec iov[64];
            int n = 0;
            for (GList *l = q->segs.head; l && n < (int)G_N_ELEMENTS(iov); l = l->next) {
                outq_seg *m = l->data;
                if (m->fd >= 0)
                    break;
                iov[n++] = (struct iovec){m->mem->data + m->pos, m->mem->len - m->pos};
            }
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
            w = sendmsg(sock, &mh, MSG_NOSIGNAL);
            if (w > 0)
                consume(q, (gsize)w);
            else if (w == 0) {
                st = OUTQ_AGAIN; /* a stream socket takes a byte or fails: not reached */
                break;
            }
        } else {
            off_t off = (off_t)s->off;
            w = sendfile(sock, s->fd, &off, (size_t)MIN(s->left, (gint64)1 << 30));
            if (w > 0) {
                s->off += w;
                s->left -= w;
                if (s->left == 0) {
                    seg_free(g_queue_pop_head(&q->segs));
                    q->files--;
                }
            } else if (w == 0) {
                st = OUTQ_SHORT_FILE;
                break;
            }
        }
        if (w > 0) {
            total += (gsize)w;
        } else if (errno == EINTR) {
            continue;
        } else {
            st = errno == EAGAIN || errno == EWOULDBLOCK ? OUTQ_AGAIN : OUTQ_ERROR;
            break;
        }
    }
    if (sent)
        *sent = total;
    return st;
}
