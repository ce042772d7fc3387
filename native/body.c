/* body: see body.h. */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gssize body_read(request *rq, void *dst, gsize len)
{
    if (rq->body_error)
        return -1;
    gint64 left = rq->body_total - rq->body_taken;
    if (left <= 0 || len == 0)
        return 0;
    gsize want = (gsize)MIN((gint64)len, left);
    gssize n;
    if (rq->body_mode == BODY_SPOOL) {
        do
            n = pread(rq->spool_fd, dst, want, (off_t)rq->body_taken);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            g_warning("%s: reading the spooled request body: %s", rq->peer, n < 0 ? g_strerror(errno) : "short file");
            rq->body_error = "the spooled body could not be read";
            return -1;
        }
    } else {
        memcpy(dst, rq->body + rq->body_taken, want);
        n = (gssize)want;
    }
    rq->body_taken += n;
    return n;
}

gboolean body_spool_open(request *rq)
{
    const char *dir = g_get_tmp_dir();
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) { /* a file system without O_TMPFILE: create, then unlink at once */
        char *path = g_build_filename(dir, "scgi-mono-body-XXXXXX", NULL);
        fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
        if (fd >= 0)
            unlink(path);
        g_free(path);
    }
    if (fd < 0) {
        g_warning("%s: cannot create a temporary file in %s for the request body: %s", rq->peer, dir,
                  g_strerror(errno));
        return FALSE;
    }
    rq->spool_fd = fd;
    rq->spooled = 0;
    return TRUE;
}

gboolean body_spool_write(request *rq, const void *p, gsize n)
{
    const char *at = p;
    while (n > 0) {
        ssize_t w = write(rq->spool_fd, at, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            g_warning("%s: writing the request body to a temporary file in %s: %s", rq->peer, g_get_tmp_dir(),
                      w < 0 ? g_strerror(errno) : "no space");
            return FALSE;
        }
        at += w;
        n -= (gsize)w;
        rq->spooled += w;
    }
    return TRUE;
}

void body_reset(request *rq)
{
    if (rq->spool_fd >= 0)
        close(rq->spool_fd);
    rq->spool_fd = -1;
    rq->spooled = 0;
    rq->announced = 0;
    rq->body = NULL;
    rq->body_len = 0;
    rq->body_mode = BODY_MEMORY;
    rq->body_total = rq->body_taken = 0;
    rq->body_error = NULL;
}
