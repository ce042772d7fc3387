/* accesslog: one line per request a worker answered (access_log, config.h).
 *
 * Formatting is pure (accesslog_format): one line, ending in '\n', from a
 * struct of fields whose strings are bytes as the client sent them.
 *
 * combined: Apache's/nginx's "combined" format plus three fields:
 *   REMOTE [DD/Mon/YYYY:HH:MM:SS +ZZZZ] "METHOD URI PROTOCOL" STATUS BYTES "REFERER" "USER-AGENT" US "APP" PID
 * (US: request time in microseconds; APP: the application, vhost + vpath).
 * Inside the quoted fields and the remote address, '"', '\\', bytes below 0x20
 * and from 0x7f up are written \xHH (nginx's escaping), so a line is printable
 * ASCII and one line whatever the client sent. An absent or empty string is
 * "-"; BYTES is "-" when no body byte was sent.
 *
 * json: one JSON object per line with the same fields: time (ISO 8601 with the
 * offset), remote_addr, method, uri, protocol, status, bytes, referer,
 * user_agent, request_time_us, app, pid. Strings are JSON strings of the
 * bytes: valid UTF-8 is kept, '"' and '\\' are escaped, control characters
 * (below 0x20, 0x7f, C1) and U+2028/U+2029 are \uXXXX, and each byte of an invalid UTF-8 sequence
 * is \u00XX too (the byte read as Latin-1), so the line is valid UTF-8 and
 * valid JSON. Absent strings are null.
 *
 * Writing (accesslog_open ... accesslog_close): lines go to a buffer of the
 * process, written with one write() of whole lines when it reaches
 * ACCESSLOG_BUFFER bytes, from accesslog_tick when its oldest line is a second
 * old, and on close. The file is opened O_APPEND so every worker process of
 * the server can append to the same file. All calls are thread-safe.
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include <glib.h>

typedef enum { ACCESSLOG_COMBINED = 0, ACCESSLOG_JSON } accesslog_fmt;

#define ACCESSLOG_BUFFER 65536

typedef struct {
    const char *remote;      /* client address */
    gint64 time;             /* wall-clock time the request began, microseconds since the epoch */
    const char *method;
    const char *uri;         /* the request target as sent */
    const char *protocol;    /* "HTTP/1.1" */
    int status;
    gint64 bytes;            /* body bytes sent */
    const char *referer;
    const char *user_agent;
    gint64 duration_us;      /* request time */
    const char *app;         /* the application's name, NULL when none was routed to */
    int pid;
} accesslog_fields;

/* Appends one line for f to out. */
void accesslog_format(GString *out, const accesslog_fields *f, accesslog_fmt fmt);

typedef struct accesslog accesslog;

/* Opens path (O_WRONLY | O_APPEND | O_CREAT, 0644). */
accesslog *accesslog_open(const char *path, accesslog_fmt fmt, GError **error);
/* Formats f into the buffer; writes the buffer out once it is full. */
void accesslog_write(accesslog *al, const accesslog_fields *f);
/* Writes the buffer out when it holds a line at least a second old; call it
 * often (the event loop's tick). NULL-safe. */
void accesslog_tick(accesslog *al, gint64 now_monotonic);
/* Writes the buffer out, then opens the path again (after a rename by
 * logrotate, SIGUSR1). On failure the file already open is kept. NULL-safe
 * (TRUE). */
gboolean accesslog_reopen(accesslog *al, GError **error);
/* Writes the buffer out now (at exit, when the file must stay open for
 * requests still finishing). NULL-safe. */
void accesslog_flush(accesslog *al);
const char *accesslog_path(const accesslog *al);
/* Writes the buffer out and closes. NULL-safe. */
void accesslog_close(accesslog *al);

#endif
