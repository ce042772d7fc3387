/* resp_head: see resp_head.h. */
#include "resp_head.h"

#include <string.h>

const char *rh_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* RFC 9110 tchar. */
static gboolean is_tchar(guchar ch)
{
    return g_ascii_isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static gboolean is_token(const char *s, gsize n)
{
    if (n == 0)
        return FALSE;
    for (gsize i = 0; i < n; i++)
        if (!is_tchar((guchar)s[i]))
            return FALSE;
    return TRUE;
}

/* Control bytes other than HTAB (CR, LF, NUL, DEL, ...) may not be in a
 * reason phrase or a field value: each becomes a space. Returns TRUE if any did. */
static gboolean append_clean(GString *out, const char *s, gsize n)
{
    gboolean changed = FALSE;
    gsize from = 0;
    for (gsize i = 0; i < n; i++) {
        guchar ch = (guchar)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            g_string_append_len(out, s + from, (gssize)(i - from));
            g_string_append_c(out, ' ');
            from = i + 1;
            changed = TRUE;
        }
    }
    g_string_append_len(out, s + from, (gssize)(n - from));
    return changed;
}

static gboolean name_is(const rh_header *h, const char *name)
{
    return h->name_len == strlen(name) && g_ascii_strncasecmp(h->name, name, h->name_len) == 0;
}

/* Optional whitespace around a field value is not part of it. */
static void trim_ows(const char **s, gsize *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* A Content-Length value: 1*DIGIT, at most 18 digits (no overflow). -1 if invalid. */
static gint64 parse_length(const char *s, gsize n)
{
    trim_ows(&s, &n);
    if (n == 0 || n > 18)
        return -1;
    gint64 v = 0;
    for (gsize i = 0; i < n; i++) {
        if (!g_ascii_isdigit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Does a Connection value list the "close" token? */
static gboolean lists_close(const char *s, gsize n)
{
    gsize i = 0;
    while (i < n) {
        gsize j = i;
        while (j < n && s[j] != ',')
            j++;
        const char *t = s + i;
        gsize tn = j - i;
        trim_ows(&t, &tn);
        if (tn == 5 && g_ascii_strncasecmp(t, "close", 5) == 0)
            return TRUE;
        i = j + 1;
    }
    return FALSE;
}

static const char *const framing_names[] = {
    "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection",
    "Trailer", "Upgrade", "Status",
};

static gboolean is_framing(const rh_header *h)
{
    for (gsize i = 0; i < G_N_ELEMENTS(framing_names); i++)
        if (name_is(h, framing_names[i]))
            return TRUE;
    return FALSE;
}

void rh_head(GString *out, const char *first, int status, const char *reason, gsize reason_len,
             const rh_header *h, gsize n, rh_result *res)
{
    memset(res, 0, sizeof *res);
    res->length = -1;
    res->status = status;
    if (status < 200 || status > 999) {
        res->status = 500;
        res->status_replaced = TRUE;
        reason_len = 0; /* the application's phrase went with its status */
    }
    g_string_append_printf(out, "%s %d ", first, res->status);
    gsize mark = out->len;
    if (reason && reason_len)
        res->sanitized += append_clean(out, reason, reason_len);
    gboolean blank = TRUE;
    for (gsize i = mark; i < out->len && blank; i++)
        blank = out->str[i] == ' ' || out->str[i] == '\t';
    if (blank) {
        g_string_truncate(out, mark);
        g_string_append(out, rh_reason(res->status));
    }
    g_string_append(out, "\r\n");

    gboolean conflict = FALSE;
    for (gsize i = 0; i < n; i++) {
        if (!is_token(h[i].name, h[i].name_len)) {
            res->dropped++;
            continue;
        }
        if (name_is(&h[i], "Content-Length")) {
            gint64 v = parse_length(h[i].value, h[i].value_len);
            if (v < 0 || (res->length >= 0 && v != res->length))
                conflict = TRUE;
            else
                res->length = v;
        } else if (name_is(&h[i], "Connection")) {
            res->close |= lists_close(h[i].value, h[i].value_len);
        } else if (name_is(&h[i], "X-Sendfile") || name_is(&h[i], "X-Accel-Redirect")) {
            res->handoff = TRUE;
        }
        if (is_framing(&h[i]))
            continue;
        g_string_append_len(out, h[i].name, (gssize)h[i].name_len);
        g_string_append(out, ": ");
        res->sanitized += append_clean(out, h[i].value, h[i].value_len);
        g_string_append(out, "\r\n");
    }
    if (conflict) {
        res->length = -1;
        res->length_ignored = TRUE;
    }
}

gboolean rh_body_allowed(int status, gboolean head_request)
{
    return status >= 200 && status != 204 && status != 205 && status != 304 && !head_request;
}

void rh_frame(GString *out, const rh_frame_in *in, rh_frame_out *res)
{
    res->length = -1;
    res->chunked = FALSE;
    res->close = in->close;
    gboolean no_length = in->status < 200 || in->status == 204; /* may not carry Content-Length */
    if (in->status == 205) {
        res->length = 0; /* RFC 9110 15.3.6: no content, said so, whatever was announced */
    } else if (!no_length) {
        if (in->length >= 0)
            res->length = in->length;
        else if (in->final && rh_body_allowed(in->status, in->head_request))
            res->length = in->buffered;
        else if (in->final && in->head_request && in->buffered > 0 && rh_body_allowed(in->status, FALSE))
            res->length = in->buffered; /* what the same GET would have announced */
    }
    if (res->length < 0 && rh_body_allowed(in->status, in->head_request)) {
        /* A body of unknown length: chunked for HTTP/1.1, else delimited by the
         * close (an SCGI front end always reads to the end of the connection). */
        if (in->http && in->http_minor >= 1)
            res->chunked = TRUE;
        else
            res->close = TRUE;
    }
    if (res->length >= 0)
        g_string_append_printf(out, "Content-Length: %" G_GINT64_FORMAT "\r\n", res->length);
    if (res->chunked)
        g_string_append(out, "Transfer-Encoding: chunked\r\n");
    if (in->http) {
        if (!in->keep_alive)
            res->close = TRUE;
        if (res->close)
            g_string_append(out, "Connection: close\r\n");
        else if (in->http_minor == 0)
            g_string_append(out, "Connection: keep-alive\r\n");
    }
    g_string_append(out, "\r\n");
}

void rh_count_init(rh_count *k, int status, gboolean head_request, gint64 length)
{
    k->allowed = rh_body_allowed(status, head_request);
    k->limit = k->allowed ? length : 0;
    k->counted = 0;
    k->offered = 0;
}

gint64 rh_count_accept(rh_count *k, gint64 len)
{
    if (len <= 0)
        return 0;
    k->offered += len;
    gint64 take = len;
    if (k->limit >= 0)
        take = MIN(len, MAX(k->limit - k->counted, 0));
    k->counted += take;
    return take;
}

gboolean rh_count_mismatch(const rh_count *k, gboolean final)
{
    if (!k->allowed || k->limit < 0)
        return FALSE;
    return k->offered > k->limit || (final && k->offered < k->limit);
}
