/* warmup: see warmup.h. */
#include "warmup.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes of an answer kept for the status line and the error page's title. */
#define KEEP (64 * 1024)
#define DETAIL_MAX 200

/* Appends s[0..n) to out, printable ASCII only, spaces collapsed. */
static void append_clean(GString *out, const char *s, gsize n)
{
    for (gsize i = 0; i < n && out->len < DETAIL_MAX; i++) {
        char ch = s[i];
        if (ch == '\r' || ch == '\n' || ch == '\t')
            ch = ' ';
        if (ch < ' ' || ch > '~')
            continue;
        if (ch == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
            continue;
        g_string_append_c(out, ch);
    }
    while (out->len && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
}

int warmup_parse_response(const char *buf, gsize len, char **detail)
{
    if (detail)
        *detail = NULL;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || !g_ascii_isdigit(buf[7]) || buf[8] != ' ' ||
        !g_ascii_isdigit(buf[9]) || !g_ascii_isdigit(buf[10]) || !g_ascii_isdigit(buf[11]) ||
        (len > 12 && buf[12] != ' ' && buf[12] != '\r'))
        return -1;
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    if (status < 100)
        return -1;
    if (detail) {
        GString *d = g_string_new(NULL);
        const char *eol = memchr(buf, '\n', len);
        gsize end = eol ? (gsize)(eol - buf) : len;
        if (end > 13)
            append_clean(d, buf + 13, end - 13);
        /* ASP.NET's error page names the exception in an h2 (Mono's) or the title */
        static const char *const opens[] = {"<h2 class=\"exceptionMessage\">", "<title>"};
        static const char *const closes[] = {"</h2>", "</title>"};
        for (gsize k = 0; k < G_N_ELEMENTS(opens); k++) {
            const char *t = g_strstr_len(buf, (gssize)len, opens[k]);
            if (!t)
                continue;
            t += strlen(opens[k]);
            const char *te = g_strstr_len(t, (gssize)(len - (gsize)(t - buf)), closes[k]);
            gsize tn = te ? (gsize)(te - t) : len - (gsize)(t - buf);
            GString *title = g_string_new(NULL);
            append_clean(title, t, tn);
            gboolean found = title->len > 0;
            if (found)
                g_string_append_printf(d, "%s(%s)", d->len ? " " : "", title->str);
            g_string_free(title, TRUE);
            if (found)
                break;
        }
        *detail = g_string_free(d, FALSE);
    }
    return status;
}

/* One GET through the server's own request path; returns the status, or -1
 * with *why set (no answer, time-out). body (may be NULL) gets the answer's
 * first line of body, printable ASCII (g_free it). */
static int get(server *s, const char *host, const char *path, gint64 deadline, char **detail, char **body,
               char **why)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        *why = g_strdup_printf("socketpair: %s", g_strerror(errno));
        return -1;
    }
    server_adopt(s, sv[0], LISTEN_PROTO_HTTP);
    char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: scgi-mono-warmup\r\n"
                                "Connection: close\r\n\r\n", path, host);
    gsize reqlen = strlen(req);
    /* the request fits the socket buffer: one write, which cannot block long */
    gboolean sent = write(sv[1], req, reqlen) == (ssize_t)reqlen;
    g_free(req);
    GByteArray *got = g_byte_array_new();
    int status = -1;
    if (!sent) {
        *why = g_strdup_printf("the request could not be written: %s", g_strerror(errno));
        goto out;
    }
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0) {
            *why = g_strdup("no complete answer within warmup_timeout");
            goto out;
        }
        struct pollfd p = {.fd = sv[1], .events = POLLIN};
        int n = poll(&p, 1, (int)MIN(left / 1000 + 1, 1000));
        if (n < 0 && errno != EINTR) {
            *why = g_strdup_printf("poll: %s", g_strerror(errno));
            goto out;
        }
        if (n <= 0)
            continue;
        char buf[16384];
        ssize_t r = read(sv[1], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *why = g_strdup_printf("read: %s", g_strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        if (got->len < KEEP)
            g_byte_array_append(got, (guint8 *)buf, (guint)MIN((gsize)r, KEEP - got->len));
    }
    status = warmup_parse_response((const char *)got->data, got->len, detail);
    if (status >= 0 && body) {
        const char *b = g_strstr_len((const char *)got->data, (gssize)got->len, "\r\n\r\n");
        GString *line = g_string_new(NULL);
        if (b) {
            b += 4;
            gsize n = got->len - (gsize)(b - (const char *)got->data);
            const char *eol = memchr(b, '\n', n);
            append_clean(line, b, eol ? (gsize)(eol - b) : n);
        }
        *body = g_string_free(line, FALSE);
    }
    if (status < 0)
        *why = g_strdup(got->len ? "the answer is not an HTTP response" : "the connection closed with no answer");
out:
    close(sv[1]);
    g_byte_array_free(got, TRUE);
    return status;
}

/* This worker's precompilation token (see warmup_arm_precompile). */
static char precompile_token[33];

gboolean warmup_wanted(const config *cfg)
{
    for (guint i = 0; i < cfg->apps->len; i++) {
        const app_spec *a = g_ptr_array_index(cfg->apps, i);
        if (a->warmup || a->precompile)
            return TRUE;
    }
    return FALSE;
}

gboolean warmup_arm_precompile(const config *cfg, GError **error)
{
    gboolean any = FALSE;
    for (guint i = 0; i < cfg->apps->len; i++)
        any = any || ((const app_spec *)g_ptr_array_index(cfg->apps, i))->precompile;
    g_unsetenv(WARMUP_PRECOMPILE_ENV);
    if (!any)
        return TRUE;
    guint8 r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "precompile: getrandom: %s",
                    g_strerror(errno));
        return FALSE;
    }
    for (gsize i = 0; i < sizeof r; i++)
        g_snprintf(precompile_token + 2 * i, 3, "%02x", r[i]);
    g_setenv(WARMUP_PRECOMPILE_ENV, precompile_token, TRUE);
    return TRUE;
}

/* Application a's precompilation (its answer is the summary line). Never
 * fails the warm-up: a file that does not compile is the application's (its
 * requests get the error), and a precompilation not done by the deadline goes
 * on in its domain while the worker serves (a request that needs a file not
 * compiled yet waits for ASP.NET's compilation lock, as without it). Returns
 * FALSE only when the server is stopping. */
static gboolean precompile(server *s, const config *cfg, const app_spec *a, gint64 deadline)
{
    char *path = g_strdup_printf("%s%sscgi-mono-precompile=%s", a->vpath, strcmp(a->vpath, "/") ? "/?" : "?",
                                 precompile_token);
    char *detail = NULL, *body = NULL, *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    int status = precompile_token[0] ? get(s, a->vhost ? a->vhost : "localhost", path, deadline, &detail, &body, &err)
                                     : -1;
    double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    gboolean stopping = server_stopping(s);
    if (stopping) {
        /* nothing to say: the worker stops */
    } else if (status == 200)
        g_message("precompile of %s: %s", a->name, body && *body ? body : "done");
    else if (status >= 0)
        g_warning("precompile of %s: answered %d%s%s after %.2f s; its pages compile on first use", a->name, status,
                  body && *body ? ": " : "", body && *body ? body : (detail ? detail : ""), secs);
    else
        g_warning("precompile of %s: not done after %.2f s (%s; warmup_timeout %d s): the worker serves while it "
                  "finishes", a->name, secs, err ? err : "no token", cfg->warmup_timeout);
    g_free(path);
    g_free(detail);
    g_free(body);
    g_free(err);
    return !stopping;
}

gboolean warmup_run(server *s, const config *cfg, char **why)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)cfg->warmup_timeout * G_USEC_PER_SEC;
    *why = NULL;
    for (guint i = 0; i < cfg->apps->len; i++) {
        const app_spec *a = g_ptr_array_index(cfg->apps, i);
        for (char **p = a->warmup; p && *p; p++) {
            gint64 t0 = g_get_monotonic_time();
            char *detail = NULL, *err = NULL;
            int status = get(s, a->vhost ? a->vhost : "localhost", *p, deadline, &detail, NULL, &err);
            double secs = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
            if (server_stopping(s)) {
                g_free(detail);
                g_free(err);
                return FALSE;
            }
            if (status >= 200 && status < 400) {
                g_message("warm-up of %s: GET %s %d in %.2f s", a->name, *p, status, secs);
            } else if (status >= 0) {
                *why = g_strdup_printf("warm-up of %s failed: GET %s -> %d%s%s in %.2f s (a warm-up URL must answer "
                                       "2xx or 3xx)", a->name, *p, status, detail && *detail ? " " : "",
                                       detail ? detail : "", secs);
            } else {
                *why = g_strdup_printf("warm-up of %s failed: GET %s -> %s after %.2f s (warmup_timeout %d s)",
                                       a->name, *p, err, secs, cfg->warmup_timeout);
            }
            g_free(detail);
            g_free(err);
            if (*why)
                return FALSE;
        }
        if (a->precompile && !precompile(s, cfg, a, deadline))
            return FALSE;
    }
    return TRUE;
}
