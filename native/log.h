/* log: one line per event on standard error (or the error_log file made
 * standard error, see log_open_file), with time and level.
 * Everything logs through GLib (g_message, g_warning, g_critical, g_debug);
 * log_init installs the writer. Safe from any thread.
 *
 * One event is one line, whatever it quotes: a message is written through
 * log_escape, so a client or an application cannot forge log lines (a URL with
 * "%0d%0a", an exception text with newlines). Debug messages (e.g. the stack of
 * a failed request) are written only when SCGI_MONO_DEBUG is set. */
#ifndef LOG_H
#define LOG_H

#include <glib.h>

void log_init(void);
/* Every line after this names t (e.g. "worker 1234") in brackets before its
 * level; NULL or "" for none. Call before threads start. */
void log_set_tag(const char *t);

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
 * standard error. */
gboolean log_reopen(GError **error);
/* The log file in use, NULL for standard error. */
const char *log_file_path(void);

/* Appends text (len bytes, or up to its NUL if len < 0) to out with every byte
 * that could break or fake a line escaped: \n \r \t as such, a backslash as
 * "\\", other control bytes (below 0x20, 0x7f) and bytes that are not valid
 * UTF-8 as \xNN, C1 controls and U+2028/U+2029 (which some viewers take for
 * line breaks) as \uNNNN. Other valid UTF-8 is kept. The result holds no byte
 * below 0x20, no 0x7f, no C1 control or line separator, and is valid UTF-8. */
void log_escape(const char *text, gssize len, GString *out);

#endif
