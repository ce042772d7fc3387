/* body: see body.h. */
#include "body.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

gssize body_read(conn *c, void *dst, gsize len)
{
    if (c->body_error)
        return -1;
    gint64 left = c->body_total - c->body_taken;
    if (left <= 0 || len == 0)
        return 0;
    gsize want = (gsize)MIN((gint64)len, left);
    gssize n;
    if (c->body_mode == BODY_SPOOL) {
        do
            n = pread(c->spool_fd, dst, want, (off_t)c->body_taken);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            g_warning("%s: reading the spooled request body: %s", c->peer, n < 0 ? g_strerror(errno) : "short file");
            c->body_error = "the spooled body could not be read";
            return -1;
        }
    } else {
        memcpy(dst, c->body + c->body_taken, want);
        n = (gssize)want;
    }
    c->body_taken += n;
    return n;
}

gboolean body_spool_open(conn *c)
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
        g_warning("%s: cannot create a temporary file in %s for the request body: %s", c->peer, dir,
                  g_strerror(errno));
        return FALSE;
    }
    c->spool_fd = fd;
    c->spooled = 0;
    return TRUE;
}

gboolean body_spool_write(conn *c, const void *p, gsize n)
{
    const char *at = p;
    while (n > 0) {
        ssize_t w = write(c->spool_fd, at, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            g_warning("%s: writing the request body to a temporary file in %s: %s", c->peer, g_get_tmp_dir(),
                      w < 0 ? g_strerror(errno) : "no space");
            return FALSE;
        }
        at += w;
        n -= (gsize)w;
        c->spooled += w;
    }
    return TRUE;
}

void body_reset(conn *c)
{
    if (c->spool_fd >= 0)
        close(c->spool_fd);
    c->spool_fd = -1;
    c->spooled = 0;
    c->announced = 0;
    c->body = NULL;
    c->body_len = 0;
    c->body_mode = BODY_MEMORY;
    c->body_total = c->body_taken = 0;
    c->body_error = NULL;
}
