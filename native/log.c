/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void log_escape(const char *text, gssize len, GString *out)
{
    gsize n = len < 0 ? strlen(text) : (gsize)len;
    const char *p = text, *end = text + n;
    while (p < end) {
        unsigned char ch = (unsigned char)*p;
        if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
            const char *run = p;
            while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '\\')
                p++;
            g_string_append_len(out, run, p - run);
            continue;
        }
        if (ch >= 0x80) {
            /* one whole UTF-8 character, or its first byte escaped */
            gunichar u = g_utf8_get_char_validated(p, end - p);
            if (u != (gunichar)-1 && u != (gunichar)-2) {
                const char *next = g_utf8_next_char(p);
                if ((u >= 0x80 && u < 0xa0) || u == 0x2028 || u == 0x2029)
                    g_string_append_printf(out, "\\u%04x", u); /* C1 controls, line separators */
                else
                    g_string_append_len(out, p, next - p);
                p = next;
                continue;
            }
        }
        switch (ch) {
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        case '\\': g_string_append(out, "\\\\"); break;
        default: g_string_append_printf(out, "\\x%02x", ch); break;
        }
        p++;
    }
}

static char tag[48]; /* "[worker 1234] ", or empty */

void log_set_tag(const char *t)
{
    g_snprintf(tag, sizeof tag, "%s%s%s", t && *t ? "[" : "", t ? t : "", t && *t ? "] " : "");
}

static void handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer ud)
{
    (void)ud;
    const char *name = (level & G_LOG_LEVEL_ERROR) ? "error"
                     : (level & G_LOG_LEVEL_CRITICAL) ? "critical"
                     : (level & G_LOG_LEVEL_WARNING) ? "warning"
                     : (level & G_LOG_LEVEL_MESSAGE) ? "notice"
                     : (level & G_LOG_LEVEL_INFO) ? "info" : "debug";
    if ((level & G_LOG_LEVEL_DEBUG) && !g_getenv("SCGI_MONO_DEBUG"))
        return;
    GDateTime *now = g_date_time_new_now_utc();
    char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
    GString *line = g_string_sized_new(128 + (message ? strlen(message) : 0));
    g_string_append_printf(line, "%s.%03dZ %s%s%s%s: ", ts, g_date_time_get_microsecond(now) / 1000, tag,
                           domain && *domain ? domain : "", domain && *domain ? " " : "", name);
    log_escape(message ? message : "", -1, line);
    g_string_append_c(line, '\n');
    /* one write per line: lines of different threads never interleave */
    fwrite(line->str, 1, line->len, stderr);
    fflush(stderr);
    g_string_free(line, TRUE);
    g_free(ts);
    g_date_time_unref(now);
}

void log_init(void)
{
    g_log_set_default_handler(handler, NULL);
}

static char *file_path;   /* the log file over fd 2, NULL = the original stderr */
static int original_fd = -1; /* a copy of the standard error the process started with */

gboolean log_open_file(const char *path, GError **error)
{
    int fd;
    if (path) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0) {
            int e = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot open the log file %s: %s", path,
                        g_strerror(e));
            return FALSE;
        }
        if (original_fd < 0 && !file_path)
            original_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    } else {
        if (!file_path)
            return TRUE;
        fd = original_fd >= 0 ? fcntl(original_fd, F_DUPFD_CLOEXEC, 3) : open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot restore standard error: %s",
                        g_strerror(e));
            return FALSE;
        }
    }
    fflush(stderr);
    if (fd == STDERR_FILENO) { /* standard error was closed: the file took its place */
        fcntl(fd, F_SETFD, 0);
        fd = -1;
    }
    /* dup2 replaces fd 2 atomically: a write by another thread goes wholly
     * to one file or the other */
    int r = fd < 0 ? STDERR_FILENO : dup2(fd, STDERR_FILENO);
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (r < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "cannot make %s the standard error: %s",
                    path ? path : "the original standard error", g_strerror(e));
        return FALSE;
    }
    if (path != file_path) {
        char *copy = g_strdup(path);
        g_free(file_path);
        file_path = copy;
    }
    return TRUE;
}

gboolean log_reopen(GError **error)
{
    return file_path ? log_open_file(file_path, error) : TRUE;
}

const char *log_file_path(void)
{
    return file_path;
}
