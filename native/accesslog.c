/* accesslog: see accesslog.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"

/* ---- formatting ---- */

static const char hexdig[] = "0123456789abcdef";

/* combined: printable ASCII but '"' and '\\'; everything else \xHH. */
static void esc_combined(GString *out, const char *s)
{
    if (!s || !*s) {
        g_string_append_c(out, '-');
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, 'x');
            g_string_append_c(out, hexdig[*p >> 4]);
            g_string_append_c(out, hexdig[*p & 15]);
        } else
            g_string_append_c(out, (char)*p);
    }
}

static void json_u00(GString *out, unsigned char c)
{
    g_string_append(out, "\\u00");
    g_string_append_c(out, hexdig[c >> 4]);
    g_string_append_c(out, hexdig[c & 15]);
}

/* A JSON string of the bytes s (see accesslog.h), or null. */
static void esc_json(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '"');
    gsize len = strlen(s);
    const char *p = s, *end = s + len;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80) {
            if (c == '"' || c == '\\') {
                g_string_append_c(out, '\\');
                g_string_append_c(out, (char)c);
            } else if (c < 0x20 || c == 0x7f)
                json_u00(out, c);
            else
                g_string_append_c(out, (char)c);
            p++;
            continue;
        }
        /* one UTF-8 sequence, whole and valid, or its first byte escaped */
        const char *next = NULL;
        if (g_utf8_validate(p, MIN(end - p, 4), &next) || next > p) {
            /* valid up to next: copy just the first character */
            const char *ch_end = g_utf8_next_char(p);
            gunichar u = g_utf8_get_char(p);
            if ((u >= 0x80 && u <= 0x9f) || u == 0x2028 || u == 0x2029) /* C1 controls, line separators */
                g_string_append_printf(out, "\\u%04x", u);
            else
                g_string_append_len(out, p, ch_end - p);
            p = ch_end;
        } else {
            json_u00(out, c);
            p++;
        }
    }
    g_string_append_c(out, '"');
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void accesslog_format(GString *out, const accesslog_fields *f, accesslog_fmt fmt)
{
    time_t t = (time_t)(f->time / G_USEC_PER_SEC);
    struct tm tm;
    localtime_r(&t, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;

    if (fmt == ACCESSLOG_JSON) {
        g_string_append_printf(out, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld\",\"remote_addr\":",
                               tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                               off / 60, off % 60);
        esc_json(out, f->remote);
        g_string_append(out, ",\"method\":");
        esc_json(out, f->method);
        g_string_append(out, ",\"uri\":");
        esc_json(out, f->uri);
        g_string_append(out, ",\"protocol\":");
        esc_json(out, f->protocol);
        g_string_append_printf(out, ",\"status\":%d,\"bytes\":%" G_GINT64_FORMAT ",\"referer\":", f->status, f->bytes);
        esc_json(out, f->referer);
        g_string_append(out, ",\"user_agent\":");
        esc_json(out, f->user_agent);
        g_string_append_printf(out, ",\"request_time_us\":%" G_GINT64_FORMAT ",\"app\":", f->duration_us);
        esc_json(out, f->app);
        g_string_append_printf(out, ",\"pid\":%d}\n", f->pid);
        return;
    }
    esc_combined(out, f->remote);
    g_string_append_printf(out, " - - [%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld] \"", tm.tm_mday, months[tm.tm_mon],
                           tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60, off % 60);
    esc_combined(out, f->method);
    g_string_append_c(out, ' ');
    esc_combined(out, f->uri);
    g_string_append_c(out, ' ');
    esc_combined(out, f->protocol);
    g_string_append_printf(out, "\" %d ", f->status);
    if (f->bytes > 0)
        g_string_append_printf(out, "%" G_GINT64_FORMAT, f->bytes);
    else
        g_string_append_c(out, '-');
    g_string_append(out, " \"");
    esc_combined(out, f->referer);
    g_string_append(out, "\" \"");
    esc_combined(out, f->user_agent);
    g_string_append_printf(out, "\" %" G_GINT64_FORMAT " \"", f->duration_us);
    esc_combined(out, f->app);
    g_string_append_printf(out, "\" %d\n", f->pid);
}

/* ---- writing ---- */

struct accesslog {
    GMutex lock;
    char *path;
    accesslog_fmt fmt;
    int fd;
    GString *buf;
    gint64 oldest; /* monotonic time of the oldest buffered line, 0 when empty */
};

static int open_file(const char *path, GError **error)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "access_log %s: %s", path,
                    g_strerror(errno));
    return fd;
}

accesslog *accesslog_open(const char *path, accesslog_fmt fmt, GError **error)
{
    int fd = open_file(path, error);
    if (fd < 0)
        return NULL;
    accesslog *al = g_new0(accesslog, 1);
    g_mutex_init(&al->lock);
    al->path = g_strdup(path);
    al->fmt = fmt;
    al->fd = fd;
    al->buf = g_string_sized_new(ACCESSLOG_BUFFER + 4096);
    return al;
}

/* With the lock held: the whole buffer in one write() (retried for the rest
 * if the kernel took less, which it does not for regular files). */
static void flush_locked(accesslog *al)
{
    gsize done = 0;
    while (done < al->buf->len) {
        ssize_t n = write(al->fd, al->buf->str + done, al->buf->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            static gint warned;
            if (g_atomic_int_compare_and_exchange(&warned, 0, 1))
                g_warning("access_log %s: %s (lines are dropped)", al->path, n < 0 ? g_strerror(errno) : "short write");
            break;
        }
        done += (gsize)n;
    }
    g_string_truncate(al->buf, 0);
    al->oldest = 0;
}

void accesslog_write(accesslog *al, const accesslog_fields *f)
{
    if (!al)
        return;
    g_mutex_lock(&al->lock);
    if (al->buf->len == 0)
        al->oldest = g_get_monotonic_time();
    accesslog_format(al->buf, f, al->fmt);
    if (al->buf->len >= ACCESSLOG_BUFFER)
        flush_locked(al);
    g_mutex_unlock(&al->lock);
}

void accesslog_tick(accesslog *al, gint64 now)
{
    if (!al)
        return;
    g_mutex_lock(&al->lock);
    if (al->buf->len && now - al->oldest >= G_USEC_PER_SEC)
        flush_locked(al);
    g_mutex_unlock(&al->lock);
}

gboolean accesslog_reopen(accesslog *al, GError **error)
{
    if (!al)
        return TRUE;
    g_mutex_lock(&al->lock);
    flush_locked(al); /* the lines so far belong to the file being rotated */
    int fd = open_file(al->path, error);
    if (fd >= 0) {
        close(al->fd);
        al->fd = fd;
    }
    g_mutex_unlock(&al->lock);
    return fd >= 0;
}

void accesslog_flush(accesslog *al)
{
    if (!al)
        return;
    g_mutex_lock(&al->lock);
    flush_locked(al);
    g_mutex_unlock(&al->lock);
}

const char *accesslog_path(const accesslog *al)
{
    return al ? al->path : NULL;
}

void accesslog_close(accesslog *al)
{
    if (!al)
        return;
    g_mutex_lock(&al->lock);
    flush_locked(al);
    close(al->fd);
    g_mutex_unlock(&al->lock);
    g_mutex_clear(&al->lock);
    g_string_free(al->buf, TRUE);
    g_free(al->path);
    g_free(al);
}
