/* http_req: HTTP/1.x request -> CGI variable block. See http_req.h. */
#include "http_req.h"

#include <arpa/inet.h>
#include <string.h>

static llhttp_settings_t settings;
static gsize settings_once;

static http_req *req_of(llhttp_t *p) { return p->data; }

static int fail(http_req *r, int status, const char *reason)
{
    r->error_status = status;
    r->error_reason = reason;
    return HPE_USER;
}

static int count_header_bytes(http_req *r, size_t len)
{
    r->header_bytes += len;
    if (r->header_bytes > r->max_header)
        return fail(r, 431, "request header too large");
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    if (count_header_bytes(r, len))
        return HPE_USER;
    g_string_append_len(r->url, at, len);
    return 0;
}

/* Maps a header name to its CGI name, or returns FALSE if it must be dropped. */
static gboolean cgi_name(const char *name, gsize len, GString *out)
{
    g_string_truncate(out, 0);
    if (len == 12 && g_ascii_strncasecmp(name, "Content-Type", 12) == 0) {
        g_string_append(out, "CONTENT_TYPE");
        return TRUE;
    }
    if (len == 14 && g_ascii_strncasecmp(name, "Content-Length", 14) == 0) {
        g_string_append(out, "CONTENT_LENGTH");
        return TRUE;
    }
    g_string_append(out, "HTTP_");
    for (gsize i = 0; i < len; i++) {
        char c = name[i];
        if (c == '_')
            return FALSE;
        g_string_append_c(out, c == '-' ? '_' : g_ascii_toupper(c));
    }
    return TRUE;
}

/* Adds the header just received to the block, or joins it to an earlier one of
 * the same name (found through the index: linear in the number of headers).
 * Returns 0, or HPE_USER for a second Host. */
static int store_header(http_req *r)
{
    /* RFC 9110 5.5: whitespace around a value is not part of it (llhttp drops
     * the leading part only) */
    while (r->value->len && (r->value->str[r->value->len - 1] == ' ' || r->value->str[r->value->len - 1] == '\t'))
        g_string_truncate(r->value, r->value->len - 1);
    GString *name = g_string_sized_new(r->field->len + 5);
    if (!cgi_name(r->field->str, r->field->len, name)) {
        g_string_free(name, TRUE);
        return 0;
    }
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(r->index, name->str));
    if (at) {
        gboolean host = strcmp(name->str, "HTTP_HOST") == 0;
        g_string_free(name, TRUE);
        if (host) /* which one would the application and the front end believe? */
            return fail(r, 400, "more than one Host header");
        GString *v = g_ptr_array_index(r->values, at - 1);
        g_string_append(v, strcmp(g_ptr_array_index(r->names, at - 1), "HTTP_COOKIE") == 0 ? "; " : ", ");
        g_string_append_len(v, r->value->str, r->value->len);
        return 0;
    }
    char *key = g_string_free(name, FALSE);
    g_ptr_array_add(r->names, key);
    g_ptr_array_add(r->values, g_string_new_len(r->value->str, r->value->len));
    g_hash_table_insert(r->index, key, GUINT_TO_POINTER(r->names->len));
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    if (count_header_bytes(r, len))
        return HPE_USER;
    /* llhttp (built non-strict) lets "Host : x" and "X Y: z" through; RFC 9112
     * section 5.1 requires a 400, and such a name has no CGI form. */
    if (memchr(at, ' ', len) || memchr(at, '\t', len))
        return fail(r, 400, "whitespace in a header name");
    if (r->headers_done)
        return 0; /* a chunked trailer: dropped, it must not pose as a header */
    if (r->in_value) {
        if (store_header(r))
            return HPE_USER;
        g_string_truncate(r->field, 0);
        g_string_truncate(r->value, 0);
        r->in_value = FALSE;
    }
    g_string_append_len(r->field, at, len);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    if (count_header_bytes(r, len))
        return HPE_USER;
    if (r->headers_done)
        return 0; /* a trailer, see on_header_field */
    if (!r->in_value && r->field->len == 0)
        return fail(r, 400, "empty header name"); /* llhttp (non-strict) allows ": x" */
    r->in_value = TRUE;
    g_string_append_len(r->value, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    http_req *r = req_of(p);
    if (++r->header_count > r->max_headers)
        return fail(r, 431, "too many header fields (max_headers)");
    return 0;
}

static int on_chunk_extension(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    (void)at;
    r->chunk_ext_bytes += len;
    if (r->chunk_ext_bytes > HTTP_REQ_MAX_CHUNK_EXT)
        return fail(r, 400, "chunk extensions too long");
    return 0;
}

static const char *find_value(const http_req *r, const char *cgi)
{
    guint at = GPOINTER_TO_UINT(g_hash_table_lookup(r->index, cgi));
    return at ? ((GString *)g_ptr_array_index(r->values, at - 1))->str : NULL;
}

/* "Host:port" without case and without the scheme's default port, for comparing
 * an absolute-form target's authority with Host. */
static char *authority_key(const char *a, gsize len, gboolean https)
{
    char *k = g_ascii_strdown(a, (gssize)len);
    gsize n = strlen(k);
    const char *dflt = https ? ":443" : ":80";
    gsize dl = strlen(dflt);
    if (n > dl && strcmp(k + n - dl, dflt) == 0)
        k[n - dl] = '\0';
    return k;
}

/* RFC 9112 section 3.2: Host is required in HTTP/1.1, and an absolute-form
 * target names the authority itself; a request whose two names disagree is
 * refused rather than routed by one and seen by the application with the other. */
static int check_host(http_req *r, llhttp_t *p)
{
    const char *host = find_value(r, "HTTP_HOST");
    if (!host && p->http_major == 1 && p->http_minor >= 1)
        return fail(r, 400, "no Host header in an HTTP/1.1 request");
    if (host && !http_host_valid(host, strlen(host)))
        return fail(r, 400, "invalid Host header");
    const char *u = r->url->str, *sep = strstr(u, "://");
    if (p->method == HTTP_CONNECT || u[0] == '/' || u[0] == '*' || !sep)
        return 0;
    for (const char *c = u; c < sep; c++)
        if (!g_ascii_isalnum(*c) && *c != '+' && *c != '-' && *c != '.')
            return 0; /* not a scheme: llhttp accepted it as some other form */
    const char *auth = sep + 3;
    gsize alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen))
        return fail(r, 400, "userinfo in the request target");
    if (!host)
        return 0; /* HTTP/1.0: the target alone names the host */
    gboolean https = (gsize)(sep - u) == 5 && g_ascii_strncasecmp(u, "https", 5) == 0;
    char *a = authority_key(auth, alen, https), *h = authority_key(host, strlen(host), https);
    gboolean same = strcmp(a, h) == 0;
    g_free(a);
    g_free(h);
    return same ? 0 : fail(r, 400, "the request target's host differs from Host");
}

/* RFC 9112 sections 6.1, 6.3 and 7: the one transfer coding served is chunked,
 * applied once and last. Other codings before it are valid HTTP this server
 * does not implement (501: the body would reach the application still
 * encoded); a list that does not end with chunked, names it twice or has an
 * empty element leaves the framing to interpretation (400). */
static int check_transfer_encoding(http_req *r)
{
    const char *te = find_value(r, "HTTP_TRANSFER_ENCODING");
    if (!te)
        return 0;
    guint chunked = 0;
    gboolean other = FALSE, last_chunked = FALSE;
    for (const char *e = te;; e++) {
        gsize n = strcspn(e, ",");
        const char *t = e;
        gsize tn = n;
        while (tn && (*t == ' ' || *t == '\t'))
            t++, tn--;
        while (tn && (t[tn - 1] == ' ' || t[tn - 1] == '\t'))
            tn--;
        if (tn == 0)
            return fail(r, 400, "an empty element in Transfer-Encoding");
        last_chunked = tn == 7 && g_ascii_strncasecmp(t, "chunked", 7) == 0;
        chunked += last_chunked;
        other |= !last_chunked;
        e += n;
        if (!*e)
            break;
    }
    if (!last_chunked)
        return fail(r, 400, "Transfer-Encoding does not end with chunked");
    if (chunked > 1)
        return fail(r, 400, "chunked applied more than once in Transfer-Encoding");
    if (other)
        return fail(r, 501, "a transfer coding other than chunked (not implemented)");
    return 0;
}

/* The request line's version text ("1.1"), kept to tell an unsupported
 * version (505) from a malformed one (400) when llhttp refuses it. */
static int on_version(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    gsize room = sizeof r->version - 1 - strlen(r->version);
    strncat(r->version, at, MIN(len, room));
    return 0;
}

/* "d.d" with a major version other than 1. */
static gboolean other_major(const char *v)
{
    return strlen(v) == 3 && g_ascii_isdigit(v[0]) && v[1] == '.' && g_ascii_isdigit(v[2]) && v[0] != '1';
}

/* RFC 9112 section 2.3: this server speaks HTTP/1.x; llhttp also accepts 0.9
 * and 2.0 in a request line (and refuses other majors itself: status_of). */
static int on_version_complete(llhttp_t *p)
{
    if (p->http_major != 1)
        return fail(req_of(p), 505, "HTTP version not supported (only HTTP/1.x)");
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    http_req *r = req_of(p);
    if (r->url->len == 0) /* llhttp (non-strict) takes "CONNECT \n\n" for HTTP/0.9 */
        return fail(r, 400, "empty request target");
    if (p->http_major != 1) /* "GET /x": llhttp's HTTP/0.9 form, no version at all */
        return fail(r, 400, "a request line without an HTTP version");
    if ((r->in_value || r->field->len) && store_header(r))
        return HPE_USER;
    g_string_truncate(r->field, 0);
    g_string_truncate(r->value, 0);
    r->in_value = FALSE;
    if (check_host(r, p) || check_transfer_encoding(r))
        return HPE_USER;
    r->headers_done = TRUE;
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > (guint64)r->max_body)
        return fail(r, 413, "request body too large");
    r->content_length = (p->flags & F_CONTENT_LENGTH) ? (gint64)p->content_length : -1;
    const char *expect = find_value(r, "HTTP_EXPECT");
    r->expect_continue = expect && g_ascii_strcasecmp(expect, "100-continue") == 0;
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    http_req *r = req_of(p);
    if (r->body_received + len > (guint64)r->max_body)
        return fail(r, 413, "request body too large");
    r->body_received += len;
    g_byte_array_append(r->body, (const guint8 *)at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    http_req *r = req_of(p);
    r->done = TRUE;
    /* Upgrades (and CONNECT) are not supported: the request is served as a plain
     * one, then the connection closes, since what follows is another protocol. */
    r->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
    /* RFC 9112 section 6.1: an HTTP/1.0 message with Transfer-Encoding has
     * faulty framing for any 1.0 intermediary: close after responding. */
    if (p->http_major == 1 && p->http_minor == 0 && (p->flags & F_TRANSFER_ENCODING))
        r->keep_alive = FALSE;
    return HPE_PAUSED; /* stop here: what follows is the next request */
}

static void settings_init(void)
{
    if (g_once_init_enter(&settings_once)) {
        llhttp_settings_init(&settings);
        settings.on_url = on_url;
        settings.on_header_field = on_header_field;
        settings.on_header_value = on_header_value;
        settings.on_header_field_complete = on_header_field_complete;
        settings.on_chunk_extension_name = on_chunk_extension;
        settings.on_chunk_extension_value = on_chunk_extension;
        settings.on_version = on_version;
        settings.on_version_complete = on_version_complete;
        settings.on_headers_complete = on_headers_complete;
        settings.on_body = on_body;
        settings.on_message_complete = on_message_complete;
        g_once_init_leave(&settings_once, 1);
    }
}

static void free_gstring(gpointer s) { g_string_free(s, TRUE); }

http_req *http_req_new(gsize max_header, guint max_headers, gint64 max_body)
{
    settings_init();
    http_req *r = g_new0(http_req, 1);
    r->max_header = max_header;
    r->max_headers = max_headers;
    r->max_body = max_body;
    r->url = g_string_new(NULL);
    r->field = g_string_new(NULL);
    r->value = g_string_new(NULL);
    r->names = g_ptr_array_new_with_free_func(g_free);
    r->values = g_ptr_array_new_with_free_func(free_gstring);
    r->index = g_hash_table_new(g_str_hash, g_str_equal);
    r->body = g_byte_array_new();
    r->content_length = -1;
    llhttp_init(&r->parser, HTTP_REQUEST, &settings);
    r->parser.data = r;
    return r;
}

void http_req_reset(http_req *r)
{
    g_string_truncate(r->url, 0);
    g_string_truncate(r->field, 0);
    g_string_truncate(r->value, 0);
    g_hash_table_remove_all(r->index);
    g_ptr_array_set_size(r->names, 0);
    g_ptr_array_set_size(r->values, 0);
    g_byte_array_set_size(r->body, 0);
    r->body_received = 0;
    r->content_length = -1;
    r->header_bytes = 0;
    r->header_count = 0;
    r->chunk_ext_bytes = 0;
    r->line_state = 0;
    r->version[0] = '\0';
    r->in_value = r->headers_done = r->done = FALSE;
    r->keep_alive = r->expect_continue = FALSE;
    r->error_status = 0;
    r->error_reason = NULL;
    if (llhttp_get_errno(&r->parser) == HPE_PAUSED)
        llhttp_resume(&r->parser);
}

void http_req_free(http_req *r)
{
    if (!r)
        return;
    g_string_free(r->url, TRUE);
    g_string_free(r->field, TRUE);
    g_string_free(r->value, TRUE);
    g_hash_table_unref(r->index);
    g_ptr_array_free(r->names, TRUE);
    g_ptr_array_free(r->values, TRUE);
    g_byte_array_free(r->body, TRUE);
    g_free(r);
}

/* What llhttp lets through in the head and RFC 9112 refuses: a header line
 * that starts with SP or HTAB (obs-fold, section 5.2: a proxy that does not
 * unfold it reads another header there, e.g. a Transfer-Encoding) and more
 * than one SP between the parts of the request line (section 3). Scans the
 * head's bytes as they arrive, up to the blank line that ends it (llhttp
 * requires CRLF, so lines are plain); returns the offset of the offending byte
 * in data, or len, having set error_reason. Linear, resumable at any byte. */
enum { LS_START, LS_REQLINE, LS_REQLINE_SP, LS_LINE, LS_LINE_START, LS_CR_AT_START, LS_DONE };

static gsize head_scan(http_req *r, const char *data, gsize len)
{
    for (gsize i = 0; i < len; i++) {
        char ch = data[i];
        switch (r->line_state) {
        case LS_START: /* llhttp skips empty lines before the request line */
            if (ch == ' ' || ch == '\t') {
                r->error_reason = "whitespace before the request line";
                return i;
            }
            if (ch != '\r' && ch != '\n')
                r->line_state = LS_REQLINE;
            break;
        case LS_REQLINE:
        case LS_REQLINE_SP:
            if (ch == ' ' && r->line_state == LS_REQLINE_SP) {
                r->error_reason = "more than one space between the parts of the request line";
                return i;
            }
            r->line_state = ch == '\n' ? LS_LINE_START : ch == ' ' ? LS_REQLINE_SP : LS_REQLINE;
            break;
        case LS_LINE: {
            const char *lf = memchr(data + i, '\n', len - i);
            if (!lf)
                return len;
            i = (gsize)(lf - data);
            r->line_state = LS_LINE_START;
            break;
        }
        case LS_LINE_START:
            if (ch == ' ' || ch == '\t') {
                r->error_reason = "a header line folded onto the previous one (obs-fold)";
                return i;
            }
            r->line_state = ch == '\r' ? LS_CR_AT_START : LS_LINE;
            break;
        case LS_CR_AT_START:
            r->line_state = ch == '\n' ? LS_DONE : LS_LINE;
            break;
        default:
            return len;
        }
    }
    return len;
}

static http_req_status status_of(http_req *r, llhttp_errno_t err)
{
    if (err == HPE_OK)
        return r->done ? HTTP_REQ_DONE : HTTP_REQ_AGAIN;
    if (err == HPE_PAUSED && r->done)
        return HTTP_REQ_DONE;
    if (!r->error_status && err == HPE_INVALID_VERSION && other_major(r->version)) {
        r->error_status = 505;
        r->error_reason = "HTTP version not supported (only HTTP/1.x)";
    }
    if (!r->error_status) {
        r->error_status = 400;
        /* llhttp pauses for an upgrade only once its request is done (see
         * on_message_complete): these are bytes fed after it. */
        r->error_reason = err == HPE_PAUSED_UPGRADE ? "data after an upgrade request"
                                                    : llhttp_errno_name(err);
    }
    return HTTP_REQ_ERROR;
}

http_req_status http_req_feed(http_req *r, const char *data, gsize len, gsize *consumed)
{
    if (r->done || len == 0) {
        *consumed = 0;
        return r->done ? HTTP_REQ_DONE : r->error_status ? HTTP_REQ_ERROR : HTTP_REQ_AGAIN;
    }
    gsize ok = head_scan(r, data, len);
    llhttp_errno_t err = llhttp_execute(&r->parser, data, ok);
    *consumed = len;
    if (ok < len && (err == HPE_OK || (err == HPE_PAUSED && !r->done))) {
        /* llhttp took the bytes before the offence; the head cannot end before it */
        r->error_status = 400; /* error_reason set by head_scan */
        return HTTP_REQ_ERROR;
    }
    if (err == HPE_PAUSED) {
        const char *pos = llhttp_get_error_pos(&r->parser);
        if (pos >= data && pos <= data + len)
            *consumed = (gsize)(pos - data);
    }
    return status_of(r, err);
}

http_req_status http_req_finish(http_req *r)
{
    if (r->done)
        return HTTP_REQ_DONE;
    if (r->error_status)
        return HTTP_REQ_ERROR;
    return status_of(r, llhttp_finish(&r->parser));
}

gboolean http_req_headers_complete(const http_req *r) { return r->headers_done; }

const char *http_req_method(const http_req *r)
{
    return llhttp_method_name((llhttp_method_t)r->parser.method);
}

gboolean http_req_is_head(const http_req *r) { return r->parser.method == HTTP_HEAD; }

int http_req_minor(const http_req *r) { return r->parser.http_major == 1 ? r->parser.http_minor : 0; }

gsize http_req_take_body(http_req *r, void *dst, gsize len)
{
    gsize n = MIN(len, r->body->len);
    if (n) {
        memcpy(dst, r->body->data, n);
        g_byte_array_remove_range(r->body, 0, (guint)n);
    }
    return n;
}

gsize http_host_name_len(const char *host)
{
    const char *end = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    gsize n;
    if (!end)
        n = strlen(host);
    else
        n = (gsize)(host[0] == '[' ? end - host + 1 : end - host);
    if (n > 1 && host[n - 1] == '.')
        n--; /* "vh.example." is "vh.example" (the DNS root label), as nginx takes it */
    return n;
}

/* A reg-name or IPv4 address as the Host rule takes it: labels of letters,
 * digits, '-' and '_' separated by single dots, one trailing dot allowed. */
static gboolean host_reg_name_valid(const char *s, gsize n)
{
    if (n == 0 || n > HTTP_HOST_NAME_MAX + 1 || (n == HTTP_HOST_NAME_MAX + 1 && s[n - 1] != '.'))
        return FALSE;
    for (gsize i = 0; i < n; i++) {
        guchar ch = (guchar)s[i];
        if (ch == '.') {
            if (i == 0 || s[i - 1] == '.')
                return FALSE; /* an empty label */
        } else if (!g_ascii_isalnum(ch) && ch != '-' && ch != '_') {
            return FALSE;
        }
    }
    return TRUE;
}

/* "[" IPv6address "]" (no zone, no IPvFuture). */
static gboolean host_ipv6_valid(const char *s, gsize n)
{
    char buf[INET6_ADDRSTRLEN + 1];
    struct in6_addr a;
    if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof buf)
        return FALSE;
    for (gsize i = 1; i + 1 < n; i++)
        if (!g_ascii_isxdigit(s[i]) && s[i] != ':' && s[i] != '.')
            return FALSE;
    memcpy(buf, s + 1, n - 2);
    buf[n - 2] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

gboolean http_host_valid(const char *host, gsize len)
{
    if (len == 0)
        return TRUE; /* RFC 9112 3.2: the empty Host of a target without authority */
    const char *colon = NULL;
    if (host[0] == '[') {
        const char *close = memchr(host, ']', len);
        if (!close)
            return FALSE;
        if (close + 1 < host + len) {
            if (close[1] != ':')
                return FALSE;
            colon = close + 1;
        }
    } else {
        colon = memchr(host, ':', len);
    }
    gsize name_len = colon ? (gsize)(colon - host) : len;
    if (colon) {
        gsize plen = len - name_len - 1;
        if (plen == 0 || plen > 5)
            return FALSE;
        guint port = 0;
        for (gsize i = 0; i < plen; i++) {
            if (!g_ascii_isdigit(colon[1 + i]))
                return FALSE; /* also a second ':' ("a:1:2") */
            port = port * 10 + (guint)(colon[1 + i] - '0');
        }
        if (port > 65535)
            return FALSE;
    }
    return host[0] == '[' ? host_ipv6_valid(host, name_len) : host_reg_name_valid(host, name_len);
}

static void add_var(GString *out, const char *name, const char *value, gssize len)
{
    g_string_append(out, name);
    g_string_append_c(out, '\0');
    g_string_append_len(out, value, len < 0 ? (gssize)strlen(value) : len);
    g_string_append_c(out, '\0');
}

void http_req_cgi_block(const http_req *r, const http_conn_info *ci, GString *out)
{
    char num[32];
    /* The length of the body as decoded (a CONNECT has none, whatever it
     * announced; a chunked body has no announced length). */
    g_snprintf(num, sizeof num, "%" G_GUINT64_FORMAT, r->body_received);
    add_var(out, "CONTENT_LENGTH", num, -1);
    add_var(out, "REQUEST_METHOD", http_req_method(r), -1);
    add_var(out, "REQUEST_URI", r->url->str, r->url->len);
    const char *q = memchr(r->url->str, '?', r->url->len);
    add_var(out, "QUERY_STRING", q ? q + 1 : "", -1);
    g_snprintf(num, sizeof num, "HTTP/%u.%u", r->parser.http_major, r->parser.http_minor);
    add_var(out, "SERVER_PROTOCOL", num, -1);
    add_var(out, "GATEWAY_INTERFACE", "CGI/1.1", -1);
    add_var(out, "SERVER_SOFTWARE", "scgi-mono", -1);
    add_var(out, "REMOTE_ADDR", ci->remote_addr, -1);
    g_snprintf(num, sizeof num, "%d", ci->remote_port);
    add_var(out, "REMOTE_PORT", num, -1);
    add_var(out, "SERVER_ADDR", ci->server_addr, -1);
    g_snprintf(num, sizeof num, "%d", ci->server_port);
    add_var(out, "SERVER_PORT", num, -1);
    const char *host = find_value(r, "HTTP_HOST");
    if (host && *host) {
        add_var(out, "SERVER_NAME", host, (gssize)http_host_name_len(host));
    } else {
        add_var(out, "SERVER_NAME", ci->server_addr, -1);
    }
    for (guint i = 0; i < r->names->len; i++) {
        const char *name = g_ptr_array_index(r->names, i);
        if (strcmp(name, "CONTENT_LENGTH") == 0)
            continue; /* the decoded body's length was given above */
        GString *v = g_ptr_array_index(r->values, i);
        add_var(out, name, v->str, v->len);
    }
}
