/* http_req: HTTP/1.x request -> CGI variable block. See http_req.h. */
#include "http_req.h"

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

static int on_headers_complete(llhttp_t *p)
{
    http_req *r = req_of(p);
    if (r->url->len == 0) /* llhttp (non-strict) takes "CONNECT \n\n" for HTTP/0.9 */
        return fail(r, 400, "empty request target");
    if ((r->in_value || r->field->len) && store_header(r))
        return HPE_USER;
    g_string_truncate(r->field, 0);
    g_string_truncate(r->value, 0);
    r->in_value = FALSE;
    if (check_host(r, p))
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

static http_req_status status_of(http_req *r, llhttp_errno_t err)
{
    if (err == HPE_OK)
        return r->done ? HTTP_REQ_DONE : HTTP_REQ_AGAIN;
    if (err == HPE_PAUSED && r->done)
        return HTTP_REQ_DONE;
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
    llhttp_errno_t err = llhttp_execute(&r->parser, data, len);
    *consumed = len;
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
        /* SERVER_NAME is the Host header without its port ("[::1]:80" -> "[::1]"). */
        const char *end = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
        gssize len = !end ? -1 : host[0] == '[' ? end - host + 1 : end - host;
        add_var(out, "SERVER_NAME", host, len);
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
