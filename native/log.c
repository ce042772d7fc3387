/* log: see log.h. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

static char tag[64]; /* "[worker 1234] ", or empty: "[PID] " */

void log_set_tag(const char *t)
{
    g_snprintf(tag, sizeof tag, "%s%s%s", t && *t ? "[" : "", t ? t : "", t && *t ? "] " : "");
}

volatile int log_threshold_ = LOG_LEVEL_NOTICE;

void log_set_level(log_level level)
{
    log_threshold_ = g_getenv("SCGI_MONO_DEBUG") ? LOG_LEVEL_DEBUG : (int)level;
}

/* ---- syslog (log_set_target): our own client, so that the socket path can
 * be chosen (glibc's openlog cannot) and a refused message falls back to
 * standard error instead of vanishing ---- */

#define SYSLOG_DEFAULT_PATH "/dev/log"
#define SYSLOG_FACILITY_DAEMON (3 << 3)

static GMutex target_lock; /* guards target and sys_fd against the writer */
static char *target;       /* NULL, a path, "syslog" or "syslog:/PATH" */
static int sys_fd = -1;
static char *sys_path;

static int syslog_severity(GLogLevelFlags level)
{
    return (level & G_LOG_LEVEL_ERROR) ? 2       /* LOG_CRIT */
         : (level & G_LOG_LEVEL_CRITICAL) ? 3    /* LOG_ERR */
         : (level & G_LOG_LEVEL_WARNING) ? 4     /* LOG_WARNING */
         : (level & G_LOG_LEVEL_MESSAGE) ? 5     /* LOG_NOTICE */
         : (level & G_LOG_LEVEL_INFO) ? 6 : 7;   /* LOG_INFO, LOG_DEBUG */
}

static void sys_connect(void) /* target_lock held */
{
    if (sys_fd >= 0)
        close(sys_fd);
    sys_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sys_fd < 0)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, sys_path, sizeof sa.sun_path);
    if (connect(sys_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(sys_fd);
        sys_fd = -1;
    }
}

/* One datagram; reconnects once (the logger restarted). FALSE if refused. */
static gboolean sys_send(const char *msg, gsize len) /* target_lock held */
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (sys_fd < 0)
            sys_connect();
        if (sys_fd >= 0 && send(sys_fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len)
            return TRUE;
        if (sys_fd >= 0) {
            close(sys_fd);
            sys_fd = -1;
        }
    }
    return FALSE;
}

static void write_stderr(const GString *line)
{
    /* one write per line: lines of different threads never interleave */
    fwrite(line->str, 1, line->len, stderr);
    fflush(stderr);
}

static void handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer ud)
{
    (void)ud;
    if (!log_enabled(level))
        return;
    const char *name = (level & G_LOG_LEVEL_ERROR) ? "error"
                     : (level & G_LOG_LEVEL_CRITICAL) ? "critical"
                     : (level & G_LOG_LEVEL_WARNING) ? "warning"
                     : (level & G_LOG_LEVEL_MESSAGE) ? "notice"
                     : (level & G_LOG_LEVEL_INFO) ? "info" : "debug";
    char pidtag[32] = "";
    if (!tag[0])
        g_snprintf(pidtag, sizeof pidtag, "[%d] ", (int)getpid());
    GString *body = g_string_sized_new(96 + (message ? strlen(message) : 0));
    g_string_append_printf(body, "%s%s%s%s: ", tag[0] ? tag : pidtag, domain && *domain ? domain : "",
                           domain && *domain ? " " : "", name);
    log_escape(message ? message : "", -1, body);
    GDateTime *now = g_date_time_new_now_utc();
    g_mutex_lock(&target_lock);
    gboolean sent = FALSE;
    if (sys_path) {
        static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        GDateTime *local = g_date_time_to_local(now);
        GString *msg = g_string_sized_new(body->len + 64);
        g_string_append_printf(msg, "<%d>%s %2d %02d:%02d:%02d scgi-mono[%d]: ",
                               SYSLOG_FACILITY_DAEMON | syslog_severity(level),
                               mon[g_date_time_get_month(local) - 1], g_date_time_get_day_of_month(local),
                               g_date_time_get_hour(local), g_date_time_get_minute(local),
                               g_date_time_get_second(local), (int)getpid());
        g_string_append_len(msg, body->str, (gssize)body->len);
        sent = sys_send(msg->str, msg->len);
        g_string_free(msg, TRUE);
        g_date_time_unref(local);
    }
    g_mutex_unlock(&target_lock);
    if (!sent) {
        char *ts = g_date_time_format(now, "%Y-%m-%dT%H:%M:%S");
        GString *line = g_string_sized_new(body->len + 32);
        g_string_append_printf(line, "%s.%03dZ ", ts, g_date_time_get_microsecond(now) / 1000);
        g_string_append_len(line, body->str, (gssize)body->len);
        g_string_append_c(line, '\n');
        write_stderr(line);
        g_string_free(line, TRUE);
        g_free(ts);
    }
    g_string_free(body, TRUE);
    g_date_time_unref(now);
}

void log_init(void)
{
    log_set_level((log_level)log_threshold_);
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

const char *log_target(void)
{
    return sys_path ? target : file_path;
}

gboolean log_reopen(GError **error)
{
    if (sys_path) {
        g_mutex_lock(&target_lock);
        sys_connect();
        g_mutex_unlock(&target_lock);
        return TRUE;
    }
    return file_path ? log_open_file(file_path, error) : TRUE;
}

gboolean log_set_target(const char *error_log, GError **error)
{
    if (g_strcmp0(error_log, "stderr") == 0)
        error_log = NULL;
    gboolean syslog = log_target_is_syslog(error_log);
    if (error_log && !syslog && !g_path_is_absolute(error_log)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "error_log \"%s\": stderr, syslog, syslog:/PATH or an absolute path", error_log);
        return FALSE;
    }
    if (!log_open_file(syslog ? NULL : error_log, error))
        return FALSE;
    char *copy = g_strdup(error_log), *path = NULL;
    if (syslog)
        path = g_strdup(error_log[strlen("syslog")] == ':' ? error_log + strlen("syslog:") : SYSLOG_DEFAULT_PATH);
    g_mutex_lock(&target_lock);
    char *old_target = target, *old_path = sys_path;
    target = copy;
    sys_path = path;
    if (sys_fd >= 0) {
        close(sys_fd);
        sys_fd = -1;
    }
    if (sys_path)
        sys_connect();
    g_mutex_unlock(&target_lock);
    g_free(old_target);
    g_free(old_path);
    return TRUE;
}

const char *log_file_path(void)
{
    return file_path;
}
