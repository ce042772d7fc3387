/* log: one line per event on standard error (or the error_log file made
 * standard error, see log_open_file), or one syslog message per event
 * (log_set_target), with time, process and level:
 *   2026-12-01T20:35:35.123Z [worker 1234] notice: message
 *   2026-12-01T20:35:35.123Z [supervisor 1233] warning: message
 * (the tag in brackets, log_set_tag, names the process and its pid; a process
 * without one is "[PID]"). The level words are error (GLib's g_error),
 * critical, warning, notice (g_message), info and debug.
 * Everything logs through GLib (g_message, g_warning, g_critical, g_debug);
 * log_init installs the writer. Safe from any thread.
 *
 * One event is one line, whatever it quotes: a message is written through
 * log_escape, so a client or an application cannot forge log lines (a URL with
 * "%0d%0a", an exception text with newlines).
 *
 * Level (log_level in the configuration, log_set_level): lines below it are
 * dropped; in a module that includes this header g_warning, g_message, g_info
 * and g_debug test the level first and do not even format what is dropped
 * (elsewhere GLib formats the message and the writer drops it before building
 * the line: modules linked without this one, e.g. into the fuzzers, keep
 * GLib's macros).
 * SCGI_MONO_DEBUG set in the environment means debug whatever the
 * configuration says. */
#ifndef LOG_H
#define LOG_H

#include <glib.h>
#include <string.h>

/* log_level's values, most severe first: a level shows itself and those above. */
typedef enum {
    LOG_LEVEL_ERROR = 0,  /* g_error, g_critical */
    LOG_LEVEL_WARN = 1,   /* g_warning */
    LOG_LEVEL_NOTICE = 2, /* g_message: the default */
    LOG_LEVEL_INFO = 3,   /* g_info */
    LOG_LEVEL_DEBUG = 4,  /* g_debug */
} log_level;

void log_init(void);
/* Every line after this names t (e.g. "worker 1234") in brackets before its
 * level; NULL or "" for the pid alone. Call before threads start. */
void log_set_tag(const char *t);

/* The lowest level written (LOG_LEVEL_DEBUG if SCGI_MONO_DEBUG is set). */
void log_set_level(log_level level);
/* Its name ("error", "warn", "notice", "info", "debug") and back; FALSE for an
 * unknown name. (Inline, like log_target_is_syslog: the configuration's
 * grammar uses them without linking this module.) */
#define LOG_LEVEL_NAMES { "error", "warn", "notice", "info", "debug" }
static inline const char *log_level_name(log_level level)
{
    static const char *const names[] = LOG_LEVEL_NAMES;
    return (unsigned)level < G_N_ELEMENTS(names) ? names[level] : "?";
}
static inline gboolean log_level_parse(const char *name, log_level *out)
{
    static const char *const names[] = LOG_LEVEL_NAMES;
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_strcmp0(name, names[i]) == 0) {
            *out = (log_level)i;
            return TRUE;
        }
    return FALSE;
}

/* TRUE if a message of this GLib level would be written (cheap, any thread). */
extern volatile int log_threshold_;
static inline gboolean log_enabled(GLogLevelFlags level)
{
    int lv = (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) ? LOG_LEVEL_ERROR
           : (level & G_LOG_LEVEL_WARNING) ? LOG_LEVEL_WARN
           : (level & G_LOG_LEVEL_MESSAGE) ? LOG_LEVEL_NOTICE
           : (level & G_LOG_LEVEL_INFO) ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG;
    return lv <= log_threshold_;
}
#undef g_warning
#undef g_message
#undef g_info
#undef g_debug
#define LOG_AT_(lvl, ...) (log_enabled(lvl) ? g_log(G_LOG_DOMAIN, (lvl), __VA_ARGS__) : (void)0)
#define g_warning(...) LOG_AT_(G_LOG_LEVEL_WARNING, __VA_ARGS__)
#define g_message(...) LOG_AT_(G_LOG_LEVEL_MESSAGE, __VA_ARGS__)
#define g_info(...) LOG_AT_(G_LOG_LEVEL_INFO, __VA_ARGS__)
#define g_debug(...) LOG_AT_(G_LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Where lines go (the error_log value, config.h): NULL or "stderr" the
 * standard error the process started with; an absolute path that file (as
 * log_open_file); "syslog" the system logger at /dev/log, "syslog:/PATH" the
 * one listening on the UNIX datagram socket PATH (a container's, a test's).
 * A syslog message is RFC 3164 as glibc's syslog(3) sends it: facility
 * daemon, the level as its priority (error crit, critical err, warning
 * warning, notice notice, info info, debug debug), ident "scgi-mono" and this
 * process's pid: "<29>Dec  1 20:35:35 scgi-mono[1234]: [worker 1234] notice:
 * message". Standard error is left as it was (a file error_log had put over
 * it is put back): what Mono and applications write there (crash reports,
 * thread dumps) goes where the server's standard error goes (journald under
 * systemd). A message the logger refuses goes to standard error instead of
 * being lost. FALSE with *error (the target unchanged) if a file cannot be
 * opened or the value is not one of these. Same threading rule as
 * log_open_file. */
gboolean log_set_target(const char *error_log, GError **error);
/* The error_log value in use, normalised: NULL (standard error), a path,
 * "syslog" or "syslog:/PATH". */
const char *log_target(void);
/* TRUE for "syslog" and "syslog:/ABSOLUTE-PATH" (shorter than a UNIX socket
 * address allows). */
static inline gboolean log_target_is_syslog(const char *error_log)
{
    return g_strcmp0(error_log, "syslog") == 0 ||
           (error_log && g_str_has_prefix(error_log, "syslog:/") && strlen(error_log) - 7 < 108);
}

/* The log file (error_log, config.h): opens path (O_WRONLY | O_APPEND |
 * O_CREAT, mode 0640) and puts it over standard error (dup2 onto fd 2), so
 * that this process's lines, Mono's and the applications' writes to stderr,
 * and the processes it starts afterwards all write there; remembers path for
 * log_reopen. NULL puts back the standard error the process started with.
 * FALSE with *error (standard error unchanged) if it cannot be opened. Call
 * from one thread at a time (the event loop); other threads may log
 * meanwhile: a line goes wholly to the old file or wholly to the new one. */
gboolean log_open_file(const char *path, GError **error);
/* Opens the remembered file again by its path (after logrotate renamed it)
 * and puts it over standard error; TRUE and nothing done when logging to
 * standard error; reconnects to the logger when logging to syslog. */
gboolean log_reopen(GError **error);
/* The log file in use, NULL for standard error or syslog. */
const char *log_file_path(void);

/* Appends text (len bytes, or up to its NUL if len < 0) to out with every byte
 * that could break or fake a line escaped: \n \r \t as such, a backslash as
 * "\\", other control bytes (below 0x20, 0x7f) and bytes that are not valid
 * UTF-8 as \xNN, C1 controls and U+2028/U+2029 (which some viewers take for
 * line breaks) as \uNNNN. Other valid UTF-8 is kept. The result holds no byte
 * below 0x20, no 0x7f, no C1 control or line separator, and is valid UTF-8. */
void log_escape(const char *text, gssize len, GString *out);

#endif
