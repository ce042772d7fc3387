/* libFuzzer harness for status_http's request-head parser and responder:
 * the input is a request head as a client would send it. Invariants: the
 * parser stays within the bytes and the limit; a complete head parses the
 * same when cut at its end; the path lies inside the head, starts with '/'
 * and holds no '?' or '#'; every response is "HTTP/1.1 NNN ..." with a head
 * that ends in an empty line, Connection: close and no-store, and (but for
 * HEAD) exactly Content-Length bytes of body. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "status_http.h"

static char *render(void *ud, gsize *len)
{
    *len = strlen(ud);
    return g_strdup(ud);
}

static const status_route routes[] = {
    {"/status", "text/html; charset=utf-8", render, "<p>page</p>"},
    {"/status.json", "application/json", render, "{}"},
    {"/metrics", "text/plain; version=0.0.4", render, "scgimono_up 1\n"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a small limit as well as the real one, so that 431 is reached */
    const gsize limits[] = {STATUS_HTTP_MAX_HEAD, 64};
    for (gsize li = 0; li < G_N_ELEMENTS(limits); li++) {
        gsize limit = limits[li];
        /* a copy of exactly size bytes: ASan sees any read past the end */
        char *buf = g_malloc(size ? size : 1);
        memcpy(buf, data, size);
        status_http_request req;
        memset(&req, 0xa5, sizeof req);
        status_http_parse_result r = status_http_parse(buf, size, limit, &req);
        CHECK(r == STATUS_HTTP_INCOMPLETE || r == STATUS_HTTP_OK || r == STATUS_HTTP_BAD ||
              r == STATUS_HTTP_TOO_LARGE);
        if (r == STATUS_HTTP_INCOMPLETE)
            CHECK(size < limit);
        if (r == STATUS_HTTP_OK) {
            CHECK(req.head_len > 0 && req.head_len <= size && req.head_len <= limit);
            CHECK(req.path >= buf && req.path + req.path_len <= buf + req.head_len);
            CHECK(req.path_len >= 1 && req.path[0] == '/');
            CHECK(!memchr(req.path, '?', req.path_len) && !memchr(req.path, '#', req.path_len));
            CHECK(req.minor >= 0 && req.minor <= 9);
            status_http_request again;
            CHECK(status_http_parse(buf, req.head_len, limit, &again) == STATUS_HTTP_OK);
            CHECK(again.head_len == req.head_len && again.path_len == req.path_len && again.method == req.method);
        }
        GBytes *b = status_http_respond(r, &req, routes, G_N_ELEMENTS(routes));
        gsize n = 0;
        const char *out = g_bytes_get_data(b, &n);
        char *text = g_strndup(out, n);
        CHECK(strlen(text) == n);
        CHECK(g_str_has_prefix(text, "HTTP/1.1 ") && g_ascii_isdigit(text[9]) && text[12] == ' ');
        char *end = strstr(text, "\r\n\r\n");
        CHECK(end);
        *end = '\0';
        CHECK(strstr(text, "\r\nConnection: close"));
        CHECK(strstr(text, "\r\nCache-Control: no-store"));
        char *cl = strstr(text, "\r\nContent-Length: ");
        CHECK(cl);
        gsize body = n - (gsize)(end + 4 - text);
        gsize declared = (gsize)g_ascii_strtoull(cl + 18, NULL, 10);
        gboolean head = r == STATUS_HTTP_OK && req.method == STATUS_HTTP_HEAD;
        CHECK(head ? body == 0 : body == declared);
        if (r == STATUS_HTTP_TOO_LARGE)
            CHECK(g_str_has_prefix(text, "HTTP/1.1 431 "));
        if (r == STATUS_HTTP_BAD || r == STATUS_HTTP_INCOMPLETE)
            CHECK(g_str_has_prefix(text, "HTTP/1.1 400 "));
        if (r == STATUS_HTTP_OK && req.method == STATUS_HTTP_OTHER)
            CHECK(g_str_has_prefix(text, "HTTP/1.1 405 ") && strstr(text, "\r\nAllow: GET, HEAD"));
        g_free(text);
        g_bytes_unref(b);
        g_free(buf);
    }
    return 0;
}
