/* Unit tests for http_req: one GTest case per table row, each parsed in one call,
 * one byte at a time, split in two at every point, and (when the connection stays
 * open) followed by a pipelined request; then the behaviours that need a sequence
 * of calls: pipelining, upgrades, Expect: 100-continue, http_req_finish, reuse.
 * Every feed gets a buffer of exactly its size, so ASan sees any overread.
 * The rows seed the fuzz corpus (tests/fuzz/corpus/http_req/).
 */
#include "http_req.h"

#include <glib.h>
#include <string.h>

/* A byte string literal with its length (some contain NULs). */
#define BYTES(s) (s), sizeof(s) - 1

#define MAXH 4096    /* max_header of rows that do not test it */
#define MAXB 1000000 /* max_body of rows that do not test it */
#define MAXHS 100    /* max_headers of rows that do not test it (their max_headers is 0) */
#define HDRS(c) ((c)->max_headers ? (c)->max_headers : MAXHS)

/* The connection every test's CGI block describes. */
static const http_conn_info test_ci = { "192.0.2.7", 54321, "198.51.100.1", 8080 };
#define CI_SERVER_ADDR "198.51.100.1"

/* One expected CGI pair of a header, as block bytes. */
#define H(name, value) name "\0" value "\0"

/* ---- requests that parse ---------------------------------------------------- */

typedef struct {
    const char *name; /* test path below /http_req/accept/ */
    const char *in;
    size_t len;
    gsize max_header;
    gint64 max_body;
    const char *method, *uri, *query, *protocol, *server_name;
    const char *headers; /* the pairs expected after the fixed ones, in order */
    size_t headers_len;
    const char *body;
    size_t body_len;
    gboolean keep_alive;
    guint max_headers; /* 0: MAXHS */
} accept_case;

#define ACCEPT_LIM(name, in, maxh, maxb, method, uri, query, proto, sname, headers, body, ka) \
    { name, BYTES(in), maxh, maxb, method, uri, query, proto, sname, BYTES(headers),        \
      BYTES(body), ka, 0 }
#define ACCEPT(name, in, method, uri, query, proto, sname, headers, body, ka) \
    ACCEPT_LIM(name, in, MAXH, MAXB, method, uri, query, proto, sname, headers, body, ka)

#define V11 "HTTP/1.1"
#define V10 "HTTP/1.0"
#define HOST_H "Host: example.org\r\n"
#define HOST_P H("HTTP_HOST", "example.org")
/* A short Host for rows about something else (HTTP/1.1 requires one). */
#define HOST_S "Host: h\r\n"
#define HOST_SP H("HTTP_HOST", "h")

/* 4096 bytes, for the chunk-extension bound (HTTP_REQ_MAX_CHUNK_EXT). */
#define LONG_32X "0123456789abcdef0123456789abcdef"
#define LONG_512 LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X \
                 LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X LONG_32X
#define LONG_2048 LONG_512 LONG_512 LONG_512 LONG_512
#define LONG_4096 LONG_2048 LONG_2048

/* A chunked body of "hello world" in two chunks, and its header. */
#define TE_CHUNKED "Transfer-Encoding: chunked\r\n"
#define HELLO_CHUNKS "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

/* Counted against max_header: the URL, header names and values (here 2+4+11 = 17). */
#define LIMIT_REQ "GET /x HTTP/1.1\r\n" HOST_H "\r\n"

static const accept_case accept_cases[] = {
    /* the request line and the fixed variables */
    ACCEPT("get-simple",
           "GET /index.aspx?a=1&b=2 HTTP/1.1\r\nHost: example.org:8000\r\n"
           "User-Agent: test/1.0\r\nAccept: */*\r\n\r\n",
           "GET", "/index.aspx?a=1&b=2", "a=1&b=2", V11, "example.org",
           H("HTTP_HOST", "example.org:8000") H("HTTP_USER_AGENT", "test/1.0")
           H("HTTP_ACCEPT", "*/*"), "", TRUE),
    ACCEPT("get-no-query", "GET /a/b.aspx HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/a/b.aspx", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("get-empty-query", "GET /a? HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/a?", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("query-with-question-mark", "GET /a?b=?&c HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/a?b=?&c", "b=?&c", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("query-percent-encoded", "GET /%7Eu/?q=a%20b+c HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/%7Eu/?q=a%20b+c", "q=a%20b+c", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("absolute-form", "GET http://example.org/p?x=1 HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "http://example.org/p?x=1", "x=1", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("options-asterisk", "OPTIONS * HTTP/1.1\r\n" HOST_H "\r\n",
           "OPTIONS", "*", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("head", "HEAD /page HTTP/1.1\r\n" HOST_H "\r\n",
           "HEAD", "/page", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("delete", "DELETE /item/7 HTTP/1.1\r\n" HOST_H "\r\n",
           "DELETE", "/item/7", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("leading-empty-lines", "\r\n\r\nGET / HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/", "", V11, "example.org", HOST_P, "", TRUE),

    /* SERVER_NAME: the Host header without its port, else the server address */
    ACCEPT("host-with-port", "GET / HTTP/1.1\r\nHost: www.example.org:8080\r\n\r\n",
           "GET", "/", "", V11, "www.example.org", H("HTTP_HOST", "www.example.org:8080"),
           "", TRUE),
    ACCEPT("host-ipv6-with-port", "GET / HTTP/1.1\r\nHost: [::1]:8000\r\n\r\n",
           "GET", "/", "", V11, "[::1]", H("HTTP_HOST", "[::1]:8000"), "", TRUE),
    ACCEPT("host-ipv6", "GET / HTTP/1.1\r\nHost: [2001:db8::7]\r\n\r\n",
           "GET", "/", "", V11, "[2001:db8::7]", H("HTTP_HOST", "[2001:db8::7]"), "", TRUE),
    ACCEPT("host-ipv4-with-port", "GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\n\r\n",
           "GET", "/", "", V11, "10.0.0.1", H("HTTP_HOST", "10.0.0.1:80"), "", TRUE),
    ACCEPT("host-mixed-case-name", "GET / HTTP/1.1\r\nhOsT: example.org\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P, "", TRUE),
    /* a trailing dot is the DNS root: dropped from SERVER_NAME (as nginx does) */
    ACCEPT("host-trailing-dot", "GET / HTTP/1.1\r\nHost: vh.example.\r\n\r\n",
           "GET", "/", "", V11, "vh.example", H("HTTP_HOST", "vh.example."), "", TRUE),
    ACCEPT("host-trailing-dot-port", "GET / HTTP/1.1\r\nHost: vh.example.:8080\r\n\r\n",
           "GET", "/", "", V11, "vh.example", H("HTTP_HOST", "vh.example.:8080"), "", TRUE),
    ACCEPT("host-underscore-digits", "GET / HTTP/1.1\r\nHost: my_host-2.example:1\r\n\r\n",
           "GET", "/", "", V11, "my_host-2.example", H("HTTP_HOST", "my_host-2.example:1"), "",
           TRUE),
    ACCEPT("host-trailing-whitespace", "GET / HTTP/1.1\r\nHost: example.org \t\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("host-empty", "GET / HTTP/1.1\r\nHost:\r\n\r\n",
           "GET", "/", "", V11, CI_SERVER_ADDR, H("HTTP_HOST", ""), "", TRUE),
    ACCEPT("host-absent-http10", "GET / HTTP/1.0\r\n\r\n",
           "GET", "/", "", V10, CI_SERVER_ADDR, "", "", FALSE),
    /* an absolute-form target names the same authority as Host, up to case and
     * the scheme's default port */
    ACCEPT("absolute-form-default-port",
           "GET http://Example.ORG:80/p HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "http://Example.ORG:80/p", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("absolute-form-https-host-default-port",
           "GET https://example.org/p HTTP/1.1\r\nHost: EXAMPLE.org:443\r\n\r\n",
           "GET", "https://example.org/p", "", V11, "EXAMPLE.org",
           H("HTTP_HOST", "EXAMPLE.org:443"), "", TRUE),
    ACCEPT("absolute-form-with-port",
           "GET http://example.org:8080/p HTTP/1.1\r\nHost: example.org:8080\r\n\r\n",
           "GET", "http://example.org:8080/p", "", V11, "example.org",
           H("HTTP_HOST", "example.org:8080"), "", TRUE),
    ACCEPT("absolute-form-http10-no-host", "GET http://example.org/p HTTP/1.0\r\n\r\n",
           "GET", "http://example.org/p", "", V10, CI_SERVER_ADDR, "", "", FALSE),

    /* header names and values */
    ACCEPT("header-mapping",
           "GET / HTTP/1.1\r\n" HOST_H "X-Forwarded-For: 203.0.113.9\r\n"
           "accept-language: fr-CH, fr;q=0.9\r\nDNT: 1\r\nX-1-2: 3\r\n\r\n",
           "GET", "/", "", V11, "example.org",
           HOST_P H("HTTP_X_FORWARDED_FOR", "203.0.113.9")
           H("HTTP_ACCEPT_LANGUAGE", "fr-CH, fr;q=0.9") H("HTTP_DNT", "1") H("HTTP_X_1_2", "3"),
           "", TRUE),
    ACCEPT("content-type",
           "POST /f HTTP/1.1\r\n" HOST_H "Content-Type: text/plain; charset=utf-8\r\n"
           "Content-Length: 2\r\n\r\nhi",
           "POST", "/f", "", V11, "example.org",
           HOST_P H("CONTENT_TYPE", "text/plain; charset=utf-8"), "hi", TRUE),
    ACCEPT("content-type-lowercase",
           "POST /f HTTP/1.1\r\n" HOST_H "content-type: a/b\r\ncontent-length: 1\r\n\r\nx",
           "POST", "/f", "", V11, "example.org", HOST_P H("CONTENT_TYPE", "a/b"), "x", TRUE),
    ACCEPT("underscore-header-dropped",
           "GET / HTTP/1.1\r\n" HOST_H "X_Forwarded_For: evil\r\nX-Forwarded-For: good\r\n"
           "Content_Type: evil\r\nContent_Length: 99\r\n_: x\r\n\r\n",
           "GET", "/", "", V11, "example.org",
           HOST_P H("HTTP_X_FORWARDED_FOR", "good"), "", TRUE),
    ACCEPT("repeated-joined",
           "GET / HTTP/1.1\r\n" HOST_H "Accept: a/a\r\nX-A: 1\r\nAccept: b/b\r\naccept: c/c\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_ACCEPT", "a/a, b/b, c/c") H("HTTP_X_A", "1"), "", TRUE),
    ACCEPT("repeated-cookie",
           "GET / HTTP/1.1\r\n" HOST_H "Cookie: a=1\r\nX-A: 1\r\nCookie: b=2; c=3\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_COOKIE", "a=1; b=2; c=3") H("HTTP_X_A", "1"), "", TRUE),
    ACCEPT("repeated-empty-values", "GET / HTTP/1.1\r\n" HOST_H "X-A:\r\nX-A:\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_A", ", "), "", TRUE),
    ACCEPT("empty-values", "GET / HTTP/1.1\r\n" HOST_H "X-Empty:\r\nX-B: 1\r\nX-Last:\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_EMPTY", "") H("HTTP_X_B", "1") H("HTTP_X_LAST", ""), "", TRUE),
    ACCEPT("value-leading-space-stripped", "GET / HTTP/1.1\r\n" HOST_H "X-A:    v w\r\nX-B:\tt\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_A", "v w") H("HTTP_X_B", "t"), "",
           TRUE),
    ACCEPT("value-trailing-space-stripped", "GET / HTTP/1.1\r\n" HOST_H "X-A: v w \t \r\nX-B: \r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_A", "v w") H("HTTP_X_B", ""), "",
           TRUE),
    ACCEPT("transfer-encoding-chunked-any-case",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: Chunked \r\n\r\n" HELLO_CHUNKS,
           "POST", "/", "", V11, "h", HOST_SP H("HTTP_TRANSFER_ENCODING", "Chunked"), "hello world",
           TRUE),
    ACCEPT("value-high-bytes", "GET / HTTP/1.1\r\n" HOST_H "X-A: caf\xc3\xa9 \xff\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_A", "caf\xc3\xa9 \xff"), "", TRUE),
    ACCEPT("value-colons", "GET / HTTP/1.1\r\n" HOST_H "X-A: b: c:d\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_X_A", "b: c:d"), "", TRUE),

    /* bodies */
    ACCEPT("post-content-length",
           "POST /submit HTTP/1.1\r\n" HOST_H
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n"
           "a=1&b=hello",
           "POST", "/submit", "", V11, "example.org",
           HOST_P H("CONTENT_TYPE", "application/x-www-form-urlencoded"), "a=1&b=hello", TRUE),
    ACCEPT("post-content-length-zero", "POST / HTTP/1.1\r\n" HOST_H "Content-Length: 0\r\n\r\n",
           "POST", "/", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("post-binary-body",
           "PUT /bin HTTP/1.1\r\n" HOST_H "Content-Length: 10\r\n\r\na\0b\r\n\r\nc\xff\x01",
           "PUT", "/bin", "", V11, "example.org", HOST_P, "a\0b\r\n\r\nc\xff\x01", TRUE),
    ACCEPT("post-body-looks-like-request",
           "POST / HTTP/1.1\r\n" HOST_H "Content-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n",
           "POST", "/", "", V11, "example.org", HOST_P, "GET / HTTP/1.1\r\n\r\n", TRUE),
    ACCEPT("chunked", "POST /up HTTP/1.1\r\n" HOST_H TE_CHUNKED "\r\n" HELLO_CHUNKS,
           "POST", "/up", "", V11, "example.org",
           HOST_P H("HTTP_TRANSFER_ENCODING", "chunked"), "hello world", TRUE),
    ACCEPT("chunked-hex-sizes-extensions",
           "POST / HTTP/1.1\r\n" HOST_H "" TE_CHUNKED "\r\n"
           "A;name=value\r\n0123456789\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
           "POST", "/", "", V11, "example.org", HOST_P H("HTTP_TRANSFER_ENCODING", "chunked"),
           "0123456789abcdefghijklmnopqrstuvwxyz", TRUE),
    ACCEPT("chunked-empty", "POST / HTTP/1.1\r\n" HOST_H "" TE_CHUNKED "\r\n0\r\n\r\n",
           "POST", "/", "", V11, "example.org", HOST_P H("HTTP_TRANSFER_ENCODING", "chunked"), "",
           TRUE),
    /* trailers are not headers: they must not add to or override the block */
    ACCEPT("chunked-trailers-dropped",
           "POST / HTTP/1.1\r\n" HOST_H TE_CHUNKED "\r\n3\r\nabc\r\n0\r\n"
           "Host: evil.example\r\nX-Trailer: 1\r\nContent-Type: evil/evil\r\n\r\n",
           "POST", "/", "", V11, "example.org",
           HOST_P H("HTTP_TRANSFER_ENCODING", "chunked"), "abc", TRUE),

    /* versions and keep-alive */
    ACCEPT("http11-keep-alive-by-default", "GET / HTTP/1.1\r\n" HOST_H "\r\n",
           "GET", "/", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT("http11-connection-close", "GET / HTTP/1.1\r\n" HOST_H "Connection: close\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_CONNECTION", "close"), "", FALSE),
    ACCEPT("http11-connection-close-mixed-case", "GET / HTTP/1.1\r\n" HOST_H "Connection: Close\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_CONNECTION", "Close"), "", FALSE),
    ACCEPT("http10-close-by-default", "GET / HTTP/1.0\r\n\r\n",
           "GET", "/", "", V10, CI_SERVER_ADDR, "", "", FALSE),
    ACCEPT("http10-keep-alive", "GET / HTTP/1.0\r\n" HOST_H "Connection: keep-alive\r\n\r\n",
           "GET", "/", "", V10, "example.org", HOST_P H("HTTP_CONNECTION", "keep-alive"), "",
           TRUE),
    ACCEPT("http10-keep-alive-mixed-case", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
           "GET", "/", "", V10, CI_SERVER_ADDR, H("HTTP_CONNECTION", "Keep-Alive"), "", TRUE),
    ACCEPT("http10-post", "POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
           "POST", "/", "", V10, CI_SERVER_ADDR, "", "abc", FALSE),
    /* RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 closes the connection */
    ACCEPT("http10-chunked-closes",
           "POST / HTTP/1.0\r\nConnection: keep-alive\r\n" TE_CHUNKED "\r\n" HELLO_CHUNKS,
           "POST", "/", "", V10, CI_SERVER_ADDR,
           H("HTTP_CONNECTION", "keep-alive") H("HTTP_TRANSFER_ENCODING", "chunked"),
           "hello world", FALSE),
    /* upgrades are served as plain requests, then the connection closes */
    ACCEPT("upgrade-websocket",
           "GET /ws HTTP/1.1\r\n" HOST_H "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
           "GET", "/ws", "", V11, "example.org",
           HOST_P H("HTTP_CONNECTION", "Upgrade") H("HTTP_UPGRADE", "websocket"), "", FALSE),
    ACCEPT("upgrade-with-body",
           "POST / HTTP/1.1\r\n" HOST_H "Connection: upgrade\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\nab",
           "POST", "/", "", V11, "example.org", HOST_P H("HTTP_CONNECTION", "upgrade") H("HTTP_UPGRADE", "h2c"), "ab", FALSE),
    ACCEPT("connect", "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
           "CONNECT", "example.org:443", "", V11, "example.org",
           H("HTTP_HOST", "example.org:443"), "", FALSE),
    /* CONNECT has no body, whatever Content-Length says: what follows is a tunnel */
    ACCEPT("connect-with-content-length",
           "CONNECT example.org:443 HTTP/1.1\r\n" HOST_H "Content-Length: 5\r\n\r\n",
           "CONNECT", "example.org:443", "", V11, "example.org", HOST_P, "", FALSE),
    ACCEPT("upgrade-header-without-connection", "GET / HTTP/1.1\r\n" HOST_H "Upgrade: websocket\r\n\r\n",
           "GET", "/", "", V11, "example.org", HOST_P H("HTTP_UPGRADE", "websocket"), "", TRUE),

    /* the limits, reached exactly */
    ACCEPT_LIM("header-limit-exact", LIMIT_REQ, 17, MAXB,
               "GET", "/x", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT_LIM("content-length-equals-max-body",
               "POST / HTTP/1.1\r\n" HOST_H "Content-Length: 5\r\n\r\nabcde", MAXH, 5,
               "POST", "/", "", V11, "example.org", HOST_P, "abcde", TRUE),
    ACCEPT_LIM("chunked-equals-max-body", "POST / HTTP/1.1\r\n" HOST_H "" TE_CHUNKED "\r\n" HELLO_CHUNKS,
               MAXH, 11, "POST", "/", "", V11, "example.org", HOST_P H("HTTP_TRANSFER_ENCODING", "chunked"), "hello world", TRUE),
    { "header-count-exact", BYTES("GET / HTTP/1.1\r\n" HOST_S "A: 1\r\nB: 2\r\n\r\n"), MAXH, MAXB,
      "GET", "/", "", V11, "h", BYTES(HOST_SP H("HTTP_A", "1") H("HTTP_B", "2")), BYTES(""), TRUE,
      3 },
    { "trailer-count-exact",
      BYTES("POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n1\r\nx\r\n0\r\nX-T: 1\r\n\r\n"), MAXH,
      MAXB, "POST", "/", "", V11, "h", BYTES(HOST_SP H("HTTP_TRANSFER_ENCODING", "chunked")),
      BYTES("x"), TRUE, 3 },
    ACCEPT("chunk-extensions-at-limit",
           "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n1;" LONG_2048 "=" LONG_2048
           "\r\nx\r\n0\r\n\r\n",
           "POST", "/", "", V11, "h", HOST_SP H("HTTP_TRANSFER_ENCODING", "chunked"), "x", TRUE),
    ACCEPT_LIM("max-body-zero-get", "GET / HTTP/1.1\r\n" HOST_H "\r\n", MAXH, 0,
               "GET", "/", "", V11, "example.org", HOST_P, "", TRUE),
    ACCEPT_LIM("max-body-zero-content-length-zero",
               "POST / HTTP/1.1\r\n" HOST_H "Content-Length: 0\r\n\r\n", MAXH, 0,
               "POST", "/", "", V11, "example.org", HOST_P, "", TRUE),
};

/* The whole block the row's request must give, built independently of the module. */
static void add_pair(GString *s, const char *name, const char *value, gssize len)
{
    g_string_append(s, name);
    g_string_append_c(s, '\0');
    g_string_append_len(s, value, len < 0 ? (gssize)strlen(value) : len);
    g_string_append_c(s, '\0');
}

static GString *expected_block(const accept_case *c)
{
    GString *s = g_string_new(NULL);
    char *len = g_strdup_printf("%zu", c->body_len);
    char *rport = g_strdup_printf("%d", test_ci.remote_port);
    char *sport = g_strdup_printf("%d", test_ci.server_port);

    add_pair(s, "CONTENT_LENGTH", len, -1);
    add_pair(s, "REQUEST_METHOD", c->method, -1);
    add_pair(s, "REQUEST_URI", c->uri, -1);
    add_pair(s, "QUERY_STRING", c->query, -1);
    add_pair(s, "SERVER_PROTOCOL", c->protocol, -1);
    add_pair(s, "GATEWAY_INTERFACE", "CGI/1.1", -1);
    add_pair(s, "SERVER_SOFTWARE", "scgi-mono", -1);
    add_pair(s, "REMOTE_ADDR", test_ci.remote_addr, -1);
    add_pair(s, "REMOTE_PORT", rport, -1);
    add_pair(s, "SERVER_ADDR", test_ci.server_addr, -1);
    add_pair(s, "SERVER_PORT", sport, -1);
    add_pair(s, "SERVER_NAME", c->server_name, -1);
    g_string_append_len(s, c->headers, (gssize)c->headers_len);
    g_free(len);
    g_free(rport);
    g_free(sport);
    return s;
}

static int expected_minor(const char *protocol)
{
    return strcmp(protocol, V11) == 0 ? 1 : 0;
}

/* Everything a finished request exposes. */
static void assert_accepted(const accept_case *c, const http_req *r)
{
    GString *want = expected_block(c), *got = g_string_new(NULL);

    g_assert_true(http_req_headers_complete(r));
    g_assert_cmpint(r->error_status, ==, 0);
    http_req_cgi_block(r, &test_ci, got);
    g_assert_cmpmem(got->str, got->len, want->str, want->len);
    g_assert_cmpstr(http_req_method(r), ==, c->method);
    g_assert_cmpint(http_req_is_head(r), ==, strcmp(c->method, "HEAD") == 0);
    g_assert_cmpint(http_req_minor(r), ==, expected_minor(c->protocol));
    g_assert_cmpint(r->keep_alive, ==, c->keep_alive);
    g_assert_false(r->expect_continue);
    g_assert_cmpmem(r->body->data, r->body->len, c->body, c->body_len);
    g_string_free(want, TRUE);
    g_string_free(got, TRUE);
}

/* Feeds in[0..len) in a buffer of exactly that size (never NULL: llhttp does
 * pointer arithmetic on it even when len is 0). */
static http_req_status feed_copy(http_req *r, const char *in, size_t len, gsize *consumed)
{
    char *buf = g_malloc(len ? len : 1);
    http_req_status st;

    memcpy(buf, in, len);

    *consumed = G_MAXSIZE;
    st = http_req_feed(r, buf, len, consumed);
    g_free(buf);
    return st;
}

/* In one call; then a finished request stays finished until reset. */
static void accept_one_shot(const accept_case *c)
{
    http_req *r = http_req_new(c->max_header, HDRS(c), c->max_body);
    gsize used;

    g_assert_cmpint(feed_copy(r, c->in, c->len, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, c->len);
    assert_accepted(c, r);
    g_assert_cmpint(feed_copy(r, "GET", 3, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, 0);
    g_assert_cmpint(http_req_finish(r), ==, HTTP_REQ_DONE);
    assert_accepted(c, r);
    http_req_free(r);
}

/* One byte per call: AGAIN until the last byte, which finishes it. */
static void accept_bytewise(const accept_case *c)
{
    http_req *r = http_req_new(c->max_header, HDRS(c), c->max_body);
    gsize used;

    for (size_t i = 0; i + 1 < c->len; i++) {
        g_assert_cmpint(feed_copy(r, c->in + i, 1, &used), ==, HTTP_REQ_AGAIN);
        g_assert_cmpuint(used, ==, 1);
    }
    g_assert_cmpint(feed_copy(r, c->in + c->len - 1, 1, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, 1);
    assert_accepted(c, r);
    http_req_free(r);
}

/* Two calls, split at every point. */
static void accept_split_everywhere(const accept_case *c)
{
    for (size_t k = 1; k < c->len; k++) {
        http_req *r = http_req_new(c->max_header, HDRS(c), c->max_body);
        gsize used;

        g_assert_cmpint(feed_copy(r, c->in, k, &used), ==, HTTP_REQ_AGAIN);
        g_assert_cmpuint(used, ==, k);
        g_assert_cmpint(feed_copy(r, c->in + k, c->len - k, &used), ==, HTTP_REQ_DONE);
        g_assert_cmpuint(used, ==, c->len - k);
        assert_accepted(c, r);
        http_req_free(r);
    }
}

#define NEXT_REQ "GET /next?n=2 HTTP/1.1\r\nHost: next.example\r\n\r\n"

/* Followed by another request in the same buffer: the first stops exactly at
 * its end, and the rest parses after a reset. */
static void accept_then_pipelined(const accept_case *c)
{
    static const accept_case next = ACCEPT("next", NEXT_REQ, "GET", "/next?n=2", "n=2", V11,
                                           "next.example", H("HTTP_HOST", "next.example"),
                                           "", TRUE);
    GString *in = g_string_new_len(c->in, (gssize)c->len);
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    g_string_append_len(in, next.in, (gssize)next.len);
    g_assert_cmpint(feed_copy(r, in->str, in->len, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, c->len);
    http_req_reset(r);
    g_assert_cmpint(feed_copy(r, in->str + used, in->len - used, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, next.len);
    assert_accepted(&next, r);
    http_req_free(r);
    g_string_free(in, TRUE);
}

static void test_accept(gconstpointer data)
{
    const accept_case *c = data;

    accept_one_shot(c);
    accept_bytewise(c);
    accept_split_everywhere(c);
    if (c->keep_alive)
        accept_then_pipelined(c);
}

/* ---- requests that are refused ---------------------------------------------- */

typedef struct {
    const char *name; /* test path below /http_req/refuse/ */
    const char *in;
    size_t len;
    gsize max_header;
    gint64 max_body;
    int status;                 /* error_status */
    gboolean headers_complete;  /* at the error */
    size_t error_at;            /* fed one byte at a time, the byte that fails (0: any) */
    guint max_headers;          /* 0: MAXHS */
} refuse_case;

#define REFUSE_LIM(name, in, maxh, maxb, status, hc, at) \
    { name, BYTES(in), maxh, maxb, status, hc, at, 0 }
#define REFUSE(name, in, status, hc) REFUSE_LIM(name, in, MAXH, MAXB, status, hc, 0)
#define REFUSE_HDRS(name, in, maxhs, hc) { name, BYTES(in), MAXH, MAXB, 431, hc, 0, maxhs }
#define CHUNKED_POST "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n"

#define POST_CL(n) "POST / HTTP/1.1\r\n" HOST_S "Content-Length: " n "\r\n\r\n"
#define LONG_32 "0123456789abcdef0123456789abcdef"

static const refuse_case refuse_cases[] = {
    /* the request line */
    REFUSE("garbage-request-line", "HELLO WORLD\r\n\r\n", 400, FALSE),
    REFUSE("binary-garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, FALSE),
    REFUSE("lowercase-method", "get / HTTP/1.1\r\n\r\n", 400, FALSE),
    REFUSE("unknown-method", "FOO / HTTP/1.1\r\n\r\n", 400, FALSE),
    REFUSE("space-in-url", "GET /a b HTTP/1.1\r\n\r\n", 400, FALSE),
    REFUSE("version-trailing-garbage", "GET / HTTP/1.1x\r\n\r\n", 400, FALSE),
    REFUSE("version-unknown-minor", "GET / HTTP/1.5\r\n\r\n", 400, FALSE),
    /* RFC 9112 2.3: a major version other than 1 is 505 (llhttp refuses 3.0
     * itself, accepts 0.9 and 2.0), a malformed version 400 */
    REFUSE("version-3", "GET / HTTP/3.0\r\n\r\n", 505, FALSE),
    REFUSE("version-2", "GET / HTTP/2.0\r\n" HOST_S "\r\n", 505, FALSE),
    REFUSE("version-0-9-explicit", "GET / HTTP/0.9\r\n" HOST_S "\r\n", 505, FALSE),
    REFUSE("version-h2-preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, FALSE),
    REFUSE("version-9", "GET / HTTP/9.1\r\n\r\n", 505, FALSE),
    REFUSE("version-1-2", "GET / HTTP/1.2\r\n" HOST_S "\r\n", 400, FALSE),
    /* the HTTP/0.9 form (no version): 400 */
    REFUSE("http09-form", "GET /x\r\n\r\n", 400, FALSE),
    REFUSE("http09-form-root", "GET /\r\n\r\n", 400, FALSE),
    /* exactly one SP between method, target and version (RFC 9112 3) */
    REFUSE("two-spaces-after-method", "GET  /x HTTP/1.1\r\n" HOST_S "\r\n", 400, FALSE),
    REFUSE("two-spaces-after-target", "GET /x  HTTP/1.1\r\n" HOST_S "\r\n", 400, FALSE),
    REFUSE("space-before-request-line", " GET /x HTTP/1.1\r\n" HOST_S "\r\n", 400, FALSE),
    REFUSE("space-before-request-line-after-crlf", "\r\n GET /x HTTP/1.1\r\n" HOST_S "\r\n", 400,
           FALSE),
    REFUSE("version-lowercase", "GET / http/1.1\r\n\r\n", 400, FALSE),
    REFUSE("connect-empty-target", "CONNECT \n\n", 400, FALSE),
    REFUSE("scgi-request", "24:CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0,", 400, FALSE),
    /* headers */
    REFUSE("header-without-colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400, FALSE),
    REFUSE("header-space-before-colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, FALSE),
    REFUSE("header-space-in-name", "GET / HTTP/1.1\r\nX Y: z\r\n\r\n", 400, FALSE),
    REFUSE("trailer-space-before-colon",
           CHUNKED_POST "0\r\nHost : x\r\n\r\n", 400, TRUE),
    REFUSE("header-empty-name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400, FALSE),
    REFUSE("header-empty-name-after-header", "GET / HTTP/1.1\r\nA: 1\r\n: x\r\n\r\n", 400,
           FALSE),
    REFUSE("header-nul-in-value", "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n", 400, FALSE),
    REFUSE("header-control-in-value", "GET / HTTP/1.1\r\nX-A: a\x01" "b\r\n\r\n", 400, FALSE),
    REFUSE("header-bare-lf", "GET / HTTP/1.1\nHost: x\n\n", 400, FALSE),
    /* Content-Length and Transfer-Encoding */
    REFUSE("content-length-letters", POST_CL("abc"), 400, FALSE),
    REFUSE("content-length-negative", POST_CL("-1"), 400, FALSE),
    REFUSE("content-length-plus", POST_CL("+1"), 400, FALSE),
    REFUSE("content-length-two-numbers", POST_CL("1 2"), 400, FALSE),
    REFUSE("content-length-list", POST_CL("1,1"), 400, FALSE),
    REFUSE("content-length-overflow", POST_CL("99999999999999999999999"), 400, FALSE),
    REFUSE("content-length-duplicate",
           "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na", 400, FALSE),
    REFUSE("content-length-and-chunked",
           "POST / HTTP/1.1\r\nContent-Length: 3\r\n" TE_CHUNKED "\r\n0\r\n\r\n", 400, FALSE),
    REFUSE("transfer-encoding-not-chunked",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: gzip\r\n\r\n", 400, FALSE),
    /* Transfer-Encoding: exactly chunked. Other codings before it: 501 (RFC
     * 9112 6.1; the body would reach the application still encoded); chunked
     * twice, not last, or an empty element: 400 */
    REFUSE("transfer-encoding-gzip-chunked",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
           501, FALSE),
    REFUSE("transfer-encoding-identity-chunked",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
           501, FALSE),
    REFUSE("transfer-encoding-two-lines",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: gzip\r\n" TE_CHUNKED "\r\n0\r\n\r\n",
           501, FALSE),
    REFUSE("transfer-encoding-chunked-twice",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
           400, FALSE),
    REFUSE("transfer-encoding-chunked-twice-two-lines",
           "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED TE_CHUNKED "\r\n0\r\n\r\n", 400, FALSE),
    REFUSE("transfer-encoding-empty-element",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400, FALSE),
    REFUSE("transfer-encoding-empty-with-content-length",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding:\r\nContent-Length: 1\r\n\r\nx", 400,
           FALSE),
    REFUSE("transfer-encoding-identity",
           "POST / HTTP/1.1\r\n" HOST_S "Transfer-Encoding: identity\r\n\r\n", 400, FALSE),
    /* obs-fold (RFC 9112 5.2): a line starting with SP or HTAB is refused, not
     * unfolded: a front end that does not unfold reads another header there */
    REFUSE("obs-fold-transfer-encoding",
           "POST / HTTP/1.1\r\n" HOST_S "X-Foo: bar\r\n Transfer-Encoding: chunked\r\n"
           "Content-Length: 0\r\n\r\n", 400, FALSE),
    REFUSE("obs-fold-tab", "GET / HTTP/1.1\r\n" HOST_S "X-Foo: bar\r\n\tbaz\r\n\r\n", 400, FALSE),
    REFUSE("obs-fold-empty-value", "GET / HTTP/1.1\r\n" HOST_S "X-Foo:\r\n baz\r\n\r\n", 400, FALSE),
    REFUSE("obs-fold-first-header", "GET / HTTP/1.1\r\n X-Foo: bar\r\n" HOST_S "\r\n", 400, FALSE),
    REFUSE("obs-fold-host", "GET / HTTP/1.1\r\nHost: a\r\n .example\r\n\r\n", 400, FALSE),
    REFUSE("chunk-size-invalid", "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\nzz\r\n", 400, TRUE),
    REFUSE("chunk-size-overflow",
           "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n10000000000000000\r\n", 400, TRUE),
    REFUSE("chunk-data-too-long", "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n2\r\nabc\r\n0\r\n\r\n",
           400, TRUE),
    /* strict llhttp: exactly CRLF after chunk data (else a front end that frames
     * chunks otherwise reads another request here), CR only before LF, the
     * request target visible ASCII */
    REFUSE("chunk-data-not-crlf", CHUNKED_POST "5\r\nhelloXX0\r\n\r\n", 400, TRUE),
    REFUSE("chunk-data-lf-only", CHUNKED_POST "5\r\nhello\n0\r\n\r\n", 400, TRUE),
    REFUSE("chunk-data-cr-only", CHUNKED_POST "5\r\nhello\r0\r\n\r\n", 400, TRUE),
    REFUSE("chunk-data-smuggled-request",
           CHUNKED_POST "3\r\nabcGET /admin HTTP/1.1\r\nHost: h\r\n\r\n0\r\n\r\n", 400, TRUE),
    REFUSE("chunk-size-bare-cr", CHUNKED_POST "5\rhello\r\n0\r\n\r\n", 400, TRUE),
    REFUSE("request-line-bare-cr", "GET / HTTP/1.1\r" HOST_S "\r\n", 400, FALSE),
    REFUSE("header-bare-cr-before-blank-line", "GET / HTTP/1.1\r\n" HOST_S "\r\r\n", 400, FALSE),
    REFUSE("url-raw-utf8", "GET /caf\xc3\xa9 HTTP/1.1\r\n" HOST_S "\r\n", 400, FALSE),
    REFUSE("url-tab", "GET /a\tb HTTP/1.1\r\n" HOST_S "\r\n", 400, FALSE),
    /* chunk extensions: HTTP_REQ_MAX_CHUNK_EXT bytes per request */
    REFUSE("chunk-extension-over-limit",
           CHUNKED_POST "1;" LONG_4096 "x\r\nx\r\n0\r\n\r\n", 400, TRUE),
    REFUSE("chunk-extensions-over-limit-in-total",
           CHUNKED_POST "1;a=" LONG_2048 "\r\nx\r\n1;b=" LONG_2048 "\r\ny\r\n0\r\n\r\n", 400,
           TRUE),
    REFUSE("chunk-extension-last-chunk-over-limit", CHUNKED_POST "0;" LONG_4096 "x\r\n\r\n", 400,
           TRUE),
    /* Host: required in HTTP/1.1, once; an absolute-form target agrees with it */
    REFUSE("host-absent-http11", "GET / HTTP/1.1\r\n\r\n", 400, FALSE),
    REFUSE("host-absent-http11-with-headers", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", 400, FALSE),
    REFUSE("host-twice", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n", 400,
           FALSE),
    REFUSE("host-twice-other-case",
           "GET / HTTP/1.1\r\nHost: a.example\r\nX-A: 1\r\nhOST: b.example\r\n\r\n", 400, FALSE),
    REFUSE("host-twice-http10", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400, FALSE),
    REFUSE("host-twice-one-empty", "GET / HTTP/1.1\r\nHost:\r\nHost: a\r\n\r\n", 400, FALSE),
    /* Host: http_host_valid (RFC 9112 3.2: 400 for an invalid Host) */
    REFUSE("host-with-path", "GET / HTTP/1.1\r\nHost: evil.com/x?\r\n\r\n", 400, FALSE),
    REFUSE("host-userinfo", "GET / HTTP/1.1\r\nHost: x@vh.example\r\n\r\n", 400, FALSE),
    REFUSE("host-space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, FALSE),
    REFUSE("host-two-ports", "GET / HTTP/1.1\r\nHost: evil.com:1:2\r\n\r\n", 400, FALSE),
    REFUSE("host-backslash", "GET / HTTP/1.1\r\nHost: evil.com\\x\r\n\r\n", 400, FALSE),
    REFUSE("host-name-in-brackets", "GET / HTTP/1.1\r\nHost: [vh.example]\r\n\r\n", 400, FALSE),
    REFUSE("host-list", "GET / HTTP/1.1\r\nHost: vh.example,other\r\n\r\n", 400, FALSE),
    REFUSE("host-percent", "GET / HTTP/1.1\r\nHost: vh%2eexample\r\n\r\n", 400, FALSE),
    REFUSE("host-port-empty", "GET / HTTP/1.1\r\nHost: vh.example:\r\n\r\n", 400, FALSE),
    REFUSE("host-port-too-big", "GET / HTTP/1.1\r\nHost: vh.example:65536\r\n\r\n", 400, FALSE),
    REFUSE("host-only-port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, FALSE),
    REFUSE("host-two-trailing-dots", "GET / HTTP/1.1\r\nHost: vh.example..\r\n\r\n", 400, FALSE),
    REFUSE("host-http10", "GET / HTTP/1.0\r\nHost: evil.com/x\r\n\r\n", 400, FALSE),
    REFUSE("absolute-form-host-differs",
           "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n", 400, FALSE),
    REFUSE("absolute-form-port-differs",
           "GET http://a.example:8080/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, FALSE),
    REFUSE("absolute-form-default-port-other-scheme",
           "GET https://a.example:80/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, FALSE),
    REFUSE("absolute-form-host-empty", "GET http://a.example/x HTTP/1.1\r\nHost:\r\n\r\n", 400,
           FALSE),
    REFUSE("absolute-form-no-path-differs",
           "GET http://a.example?q HTTP/1.1\r\nHost: b.example\r\n\r\n", 400, FALSE),
    REFUSE("absolute-form-userinfo",
           "GET http://u:p@a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n", 400, FALSE),
    /* max_headers: header fields and trailers, counted as they arrive */
    REFUSE_HDRS("header-count-one-over", "GET / HTTP/1.1\r\n" HOST_S "A: 1\r\nB: 2\r\n\r\n", 2,
                FALSE),
    REFUSE_HDRS("header-count-empty-values", "GET / HTTP/1.1\r\n" HOST_S "A:\r\nA:\r\nA:\r\n\r\n",
                3, FALSE),
    REFUSE_HDRS("trailer-count-one-over",
                CHUNKED_POST "1\r\nx\r\n0\r\nX-T: 1\r\nX-U: 2\r\n\r\n", 3, TRUE),
    /* max_header: the URL, names and values, counted as they arrive */
    REFUSE_LIM("header-limit-one-over", LIMIT_REQ, 16, MAXB, 431, FALSE, 0),
    REFUSE_LIM("url-over-max-header", "GET /" LONG_32 " HTTP/1.1\r\n\r\n", 16, MAXB, 431,
               FALSE, sizeof("GET /") - 1 + 16),
    REFUSE_LIM("header-value-over-max-header",
               "GET / HTTP/1.1\r\nX-Long: " LONG_32 LONG_32 "\r\n\r\n", 40, MAXB, 431, FALSE,
               sizeof("GET / HTTP/1.1\r\nX-Long: ") - 1 + 40 - 1 - 6 + 1),
    REFUSE_LIM("many-headers-over-max-header",
               "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", 9, MAXB, 431,
               FALSE, 0),
    REFUSE_LIM("trailer-over-max-header",
               "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n0\r\nX-T: " LONG_32 "\r\n\r\n", 40, MAXB,
               431, TRUE, 0),
    REFUSE_LIM("max-header-zero", "GET / HTTP/1.1\r\n\r\n", 0, MAXB, 431, FALSE, 5),
    /* max_body: refused at the headers when Content-Length announces too much */
    REFUSE_LIM("content-length-over-max-body", POST_CL("6") "abcdef", MAXH, 5, 413, TRUE,
               sizeof(POST_CL("6")) - 1),
    REFUSE_LIM("content-length-u64-max", POST_CL("18446744073709551615"), MAXH, MAXB, 413,
               TRUE, sizeof(POST_CL("18446744073709551615")) - 1),
    REFUSE_LIM("content-length-over-max-body-zero", POST_CL("1") "a", MAXH, 0, 413, TRUE,
               sizeof(POST_CL("1")) - 1),
    REFUSE_LIM("chunked-over-max-body", "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n" HELLO_CHUNKS,
               MAXH, 10, 413, TRUE,
               sizeof("POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n5\r\nhello\r\n6\r\n world") - 1),
    REFUSE_LIM("chunked-one-chunk-over-max-body",
               "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n5\r\nhello\r\n0\r\n\r\n", MAXH, 4, 413,
               TRUE, sizeof("POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n5\r\nhello") - 1),
};

static void assert_refused(const refuse_case *c, const http_req *r)
{
    g_assert_cmpint(r->error_status, ==, c->status);
    g_assert_nonnull(r->error_reason);
    g_assert_cmpuint(strlen(r->error_reason), >, 0);
    g_assert_cmpint(http_req_headers_complete(r), ==, c->headers_complete);
    g_assert_false(r->expect_continue);
    g_assert_cmpint(r->body->len, <=, c->max_body);
}

/* An error is final: more bytes, or the end of input, do not change it. */
static void assert_error_sticks(const refuse_case *c, http_req *r)
{
    gsize used;

    g_assert_cmpint(feed_copy(r, BYTES("GET / HTTP/1.1\r\n\r\n"), &used), ==, HTTP_REQ_ERROR);
    g_assert_cmpint(r->error_status, ==, c->status);
}

static void refuse_one_shot(const refuse_case *c)
{
    http_req *r = http_req_new(c->max_header, HDRS(c), c->max_body);
    gsize used;

    g_assert_cmpint(feed_copy(r, c->in, c->len, &used), ==, HTTP_REQ_ERROR);
    assert_refused(c, r);
    assert_error_sticks(c, r);
    http_req_free(r);
}

static void refuse_bytewise(const refuse_case *c)
{
    http_req *r = http_req_new(c->max_header, HDRS(c), c->max_body);
    http_req_status st = HTTP_REQ_AGAIN;
    gsize used;
    size_t i;

    for (i = 0; i < c->len && st == HTTP_REQ_AGAIN; i++)
        st = feed_copy(r, c->in + i, 1, &used);
    g_assert_cmpint(st, ==, HTTP_REQ_ERROR);
    if (c->error_at)
        g_assert_cmpuint(i, ==, c->error_at);
    assert_refused(c, r);
    assert_error_sticks(c, r);
    http_req_free(r);
}

static void test_refuse(gconstpointer data)
{
    const refuse_case *c = data;

    refuse_one_shot(c);
    refuse_bytewise(c);
}

/* ---- requests cut short: AGAIN, then what http_req_finish makes of them ----- */

typedef struct {
    const char *name; /* test path below /http_req/truncated/ */
    const char *in;
    size_t len;
    http_req_status at_eof;
    gboolean headers_complete;
} truncated_case;

#define TRUNCATED(name, in, at_eof, hc) { name, BYTES(in), at_eof, hc }

static const truncated_case truncated_cases[] = {
    TRUNCATED("empty", "", HTTP_REQ_AGAIN, FALSE),
    TRUNCATED("empty-lines", "\r\n\r\n", HTTP_REQ_AGAIN, FALSE),
    TRUNCATED("partial-method", "GE", HTTP_REQ_ERROR, FALSE),
    TRUNCATED("partial-url", "GET /ind", HTTP_REQ_ERROR, FALSE),
    TRUNCATED("request-line-only", "GET / HTTP/1.1\r\n", HTTP_REQ_ERROR, FALSE),
    TRUNCATED("no-blank-line", "GET / HTTP/1.1\r\nHost: x\r\n", HTTP_REQ_ERROR, FALSE),
    TRUNCATED("half-blank-line", "GET / HTTP/1.1\r\nHost: x\r\n\r", HTTP_REQ_ERROR, FALSE),
    TRUNCATED("body-short", POST_CL("10") "abcde", HTTP_REQ_ERROR, TRUE),
    TRUNCATED("body-missing", POST_CL("1"), HTTP_REQ_ERROR, TRUE),
    TRUNCATED("chunked-no-last-chunk",
              "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n5\r\nhello\r\n", HTTP_REQ_ERROR, TRUE),
    TRUNCATED("chunked-no-final-crlf",
              "POST / HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n0\r\n", HTTP_REQ_ERROR, TRUE),
};

static void assert_truncated(const truncated_case *c, http_req *r)
{
    http_req_status st;

    g_assert_cmpint(http_req_headers_complete(r), ==, c->headers_complete);
    st = http_req_finish(r);
    g_assert_cmpint(st, ==, c->at_eof);
    if (st == HTTP_REQ_ERROR) {
        g_assert_cmpint(r->error_status, ==, 400);
        g_assert_nonnull(r->error_reason);
    }
}

static void test_truncated(gconstpointer data)
{
    const truncated_case *c = data;
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    g_assert_cmpint(feed_copy(r, c->in, c->len, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(used, ==, c->len);
    assert_truncated(c, r);
    http_req_free(r);

    r = http_req_new(MAXH, MAXHS, MAXB);
    for (size_t i = 0; i < c->len; i++) {
        g_assert_cmpint(feed_copy(r, c->in + i, 1, &used), ==, HTTP_REQ_AGAIN);
        g_assert_cmpuint(used, ==, 1);
    }
    assert_truncated(c, r);
    http_req_free(r);
}

/* ---- sequences ---------------------------------------------------------------- */

/* Feeds in[] in pieces of step bytes (0: all that is left), resetting after each
 * finished request; returns the CGI blocks and bodies of the requests found,
 * each followed by "\n--\n", and sets *last to the final status. */
static GString *parse_stream(const char *in, size_t len, size_t step, http_req_status *last)
{
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    GString *out = g_string_new(NULL);
    size_t off = 0;

    *last = HTTP_REQ_AGAIN;
    while (off < len) {
        size_t n = step && step < len - off ? step : len - off;
        gsize used;

        *last = feed_copy(r, in + off, n, &used);
        g_assert_cmpuint(used, <=, n);
        off += used;
        if (*last == HTTP_REQ_ERROR)
            break;
        if (*last == HTTP_REQ_AGAIN) {
            g_assert_cmpuint(used, ==, n);
            continue;
        }
        http_req_cgi_block(r, &test_ci, out);
        g_string_append_len(out, (const char *)r->body->data, r->body->len);
        g_string_append(out, "\n--\n");
        http_req_reset(r);
    }
    http_req_free(r);
    return out;
}

#define PIPE_A "GET /a HTTP/1.1\r\nHost: a.example\r\n\r\n"
#define PIPE_B "POST /b?x=1 HTTP/1.1\r\nHost: b.example\r\nContent-Length: 3\r\n\r\nxyz"
#define PIPE_C "PUT /c HTTP/1.1\r\n" HOST_S TE_CHUNKED "\r\n" HELLO_CHUNKS
#define PIPE_HEAD "HEAD /d HTTP/1.1\r\n" HOST_S "Cookie: a=1\r\nCookie: b=2\r\n\r\n"

static void test_pipeline_two(void)
{
    static const char in[] = PIPE_A PIPE_B;
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used, first;

    g_assert_cmpint(feed_copy(r, BYTES(in), &first), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(first, ==, sizeof(PIPE_A) - 1);
    g_assert_cmpuint(first, <, sizeof in - 1);
    g_assert_cmpstr(r->url->str, ==, "/a");
    g_assert_cmpstr(http_req_method(r), ==, "GET");
    g_assert_true(r->keep_alive);
    http_req_reset(r);
    g_assert_false(http_req_headers_complete(r));
    g_assert_cmpint(feed_copy(r, in + first, sizeof in - 1 - first, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, sizeof(PIPE_B) - 1);
    g_assert_cmpstr(r->url->str, ==, "/b?x=1");
    g_assert_cmpstr(http_req_method(r), ==, "POST");
    g_assert_cmpmem(r->body->data, r->body->len, "xyz", 3);
    http_req_free(r);
}

/* Three and a half requests: the half is AGAIN, then completes with more bytes. */
static void test_pipeline_partial(void)
{
    static const char in[] = PIPE_A PIPE_C PIPE_HEAD "GET /e HTTP/1.1\r\nHo";
    static const char rest[] = "st: e.example\r\n\r\n";
    static const char *const urls[] = { "/a", "/c", "/d" };
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    size_t off = 0;
    gsize used;

    for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
        g_assert_cmpint(feed_copy(r, in + off, sizeof in - 1 - off, &used), ==,
                        HTTP_REQ_DONE);
        off += used;
        g_assert_cmpstr(r->url->str, ==, urls[i]);
        http_req_reset(r);
    }
    g_assert_cmpint(feed_copy(r, in + off, sizeof in - 1 - off, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(off + used, ==, sizeof in - 1);
    g_assert_cmpint(feed_copy(r, BYTES(rest), &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, sizeof rest - 1);
    g_assert_cmpstr(r->url->str, ==, "/e");
    http_req_free(r);
}

/* Any piece size gives the same requests as the whole stream at once. */
static void test_pipeline_any_split(void)
{
    static const char in[] = PIPE_A PIPE_B PIPE_C PIPE_HEAD PIPE_A;
    http_req_status last;
    GString *whole = parse_stream(BYTES(in), 0, &last);

    g_assert_cmpint(last, ==, HTTP_REQ_DONE);
    for (size_t step = 1; step < sizeof in; step++) {
        GString *parts = parse_stream(BYTES(in), step, &last);

        g_assert_cmpint(last, ==, HTTP_REQ_DONE);
        g_assert_cmpmem(parts->str, parts->len, whole->str, whole->len);
        g_string_free(parts, TRUE);
    }
    g_string_free(whole, TRUE);
}

/* Connection: close ends the keep-alive sequence; the caller closes. */
static void test_pipeline_after_close(void)
{
    static const char in[] = "GET /a HTTP/1.1\r\n" HOST_S "Connection: close\r\n\r\n" PIPE_A;
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    g_assert_cmpint(feed_copy(r, BYTES(in), &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, sizeof in - 1 - (sizeof(PIPE_A) - 1));
    g_assert_false(r->keep_alive);
    http_req_free(r);
}

/* Bytes after an upgrade request (another protocol) are refused, never taken for
 * another request: a finished upgrade must not report DONE again. */
static void check_after_upgrade(const char *req, size_t req_len, const char *more,
                                size_t more_len)
{
    GString *in = g_string_new_len(req, (gssize)req_len);
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    g_string_append_len(in, more, (gssize)more_len);
    g_assert_cmpint(feed_copy(r, in->str, in->len, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, req_len);
    g_assert_false(r->keep_alive);
    http_req_reset(r);
    g_assert_cmpint(feed_copy(r, in->str + used, in->len - used, &used), ==, HTTP_REQ_ERROR);
    g_assert_cmpint(r->error_status, ==, 400);
    g_assert_false(http_req_headers_complete(r));
    g_assert_cmpint(feed_copy(r, "", 0, &used), ==, HTTP_REQ_ERROR);
    http_req_free(r);
    g_string_free(in, TRUE);
}

static void test_upgrade_then_data(void)
{
    static const char req[] = "GET /ws HTTP/1.1\r\n" HOST_S "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n";

    check_after_upgrade(BYTES(req), BYTES("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
    check_after_upgrade(BYTES(req), BYTES(PIPE_A));
}

static void test_connect_then_data(void)
{
    static const char req[] = "CONNECT example.org:443 HTTP/1.1\r\n" HOST_S "\r\n";

    check_after_upgrade(BYTES(req), BYTES("\x16\x03\x01\x00\x05hello"));
    check_after_upgrade(BYTES(req), BYTES(PIPE_A));
}

/* ---- Expect: 100-continue ------------------------------------------------------ */

#define EXPECT_HEADERS(expect) \
    "POST /up HTTP/1.1\r\n" HOST_S "Content-Length: 5\r\nExpect: " expect "\r\n\r\n"

/* Unset while the headers arrive, set by the byte that completes them (so that the
 * server can answer 100 Continue before the body), kept until the request is done. */
static void check_expect(const char *headers, size_t len, gboolean want)
{
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    for (size_t i = 0; i + 1 < len; i++) {
        g_assert_cmpint(feed_copy(r, headers + i, 1, &used), ==, HTTP_REQ_AGAIN);
        g_assert_false(http_req_headers_complete(r));
        g_assert_false(r->expect_continue);
    }
    g_assert_cmpint(feed_copy(r, headers + len - 1, 1, &used), ==, HTTP_REQ_AGAIN);
    g_assert_true(http_req_headers_complete(r));
    g_assert_cmpint(r->expect_continue, ==, want);
    g_assert_cmpstr(http_req_method(r), ==, "POST");
    g_assert_cmpint(feed_copy(r, BYTES("12345"), &used), ==, HTTP_REQ_DONE);
    g_assert_cmpint(r->expect_continue, ==, want);
    g_assert_cmpmem(r->body->data, r->body->len, "12345", 5);
    http_req_reset(r);
    g_assert_false(r->expect_continue);
    http_req_free(r);
}

static void test_expect_continue(void)
{
    check_expect(BYTES(EXPECT_HEADERS("100-continue")), TRUE);
}

static void test_expect_continue_case(void)
{
    check_expect(BYTES(EXPECT_HEADERS("100-Continue")), TRUE);
}

static void test_expect_other(void)
{
    check_expect(BYTES(EXPECT_HEADERS("200-ok")), FALSE);
    check_expect(BYTES("POST /up HTTP/1.1\r\n" HOST_S "Content-Length: 5\r\n\r\n"), FALSE);
}

/* A body refused at the headers must not be asked for. */
static void test_expect_refused(void)
{
    static const char in[] = "POST / HTTP/1.1\r\n" HOST_S "Content-Length: 50\r\nExpect: 100-continue\r\n\r\n";
    http_req *r = http_req_new(MAXH, MAXHS, 10);
    gsize used;

    g_assert_cmpint(feed_copy(r, BYTES(in), &used), ==, HTTP_REQ_ERROR);
    g_assert_cmpint(r->error_status, ==, 413);
    g_assert_false(r->expect_continue);
    http_req_free(r);
}

/* ---- the rest of the interface ------------------------------------------------- */

static void test_new_is_empty(void)
{
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);

    g_assert_false(http_req_headers_complete(r));
    g_assert_cmpint(r->error_status, ==, 0);
    g_assert_null(r->error_reason);
    g_assert_cmpint(http_req_finish(r), ==, HTTP_REQ_AGAIN);
    http_req_free(r);
}

static void test_headers_before_body(void)
{
    static const char in[] = "PUT /f HTTP/1.0\r\nContent-Length: 4\r\n\r\nab";
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gsize used;

    g_assert_cmpint(feed_copy(r, BYTES(in), &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(used, ==, sizeof in - 1);
    g_assert_true(http_req_headers_complete(r));
    g_assert_cmpstr(http_req_method(r), ==, "PUT");
    g_assert_cmpint(http_req_minor(r), ==, 0);
    g_assert_false(http_req_is_head(r));
    g_assert_cmpint(feed_copy(r, BYTES("cd"), &used), ==, HTTP_REQ_DONE);
    g_assert_cmpmem(r->body->data, r->body->len, "abcd", 4);
    http_req_free(r);
}

/* The block is appended: what out held before is kept. */
static void test_cgi_block_appends(void)
{
    static const char in[] = "GET / HTTP/1.1\r\n" HOST_S "\r\n";
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    GString *out = g_string_new_len("X\0y\0", 4);
    gsize used;

    g_assert_cmpint(feed_copy(r, BYTES(in), &used), ==, HTTP_REQ_DONE);
    http_req_cgi_block(r, &test_ci, out);
    g_assert_cmpmem(out->str, 4, "X\0y\0", 4);
    g_assert_cmpmem(out->str + 4, 17, "CONTENT_LENGTH\0" "0\0", 17);
    http_req_free(r);
    g_string_free(out, TRUE);
}

static void test_free_null(void)
{
    http_req_free(NULL);
}

/* One request object, reset between requests of every shape, many times over;
 * LeakSanitizer (the ASan build) checks that nothing accumulates. */
static void test_reuse_many(void)
{
    http_req *r = http_req_new(MAXH, MAXHS, MAXB);
    gboolean keep_alive = TRUE;
    unsigned done = 0;

    for (unsigned round = 0; round < 50; round++) {
        for (size_t i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
            const accept_case *c = &accept_cases[i];
            gsize used;

            if (c->max_header != MAXH || c->max_body != MAXB || c->max_headers)
                continue;
            /* a fresh connection's parser after a request that closed it */
            if (!keep_alive) {
                http_req_free(r);
                r = http_req_new(MAXH, MAXHS, MAXB);
            }
            g_assert_cmpint(feed_copy(r, c->in, c->len, &used), ==, HTTP_REQ_DONE);
            g_assert_cmpuint(used, ==, c->len);
            g_test_message("round %u: %s", round, c->name);
            assert_accepted(c, r);
            keep_alive = r->keep_alive;
            http_req_reset(r);
            done++;
        }
    }
    g_assert_cmpuint(done, >, 1000);
    http_req_free(r);
}

/* A reader that takes the body as it is decoded: content_length is the
 * announced length from the headers on, body_received counts every byte, the
 * bytes come out in order, and max_body counts taken bytes too. */
static void test_take_body_content_length(void)
{
    http_req *r = http_req_new(4096, MAXHS, 100);
    static const char head[] = "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
    gsize used;
    char out[16];

    g_assert_cmpint(r->content_length, ==, -1);
    g_assert_cmpint(feed_copy(r, head, sizeof head - 1, &used), ==, HTTP_REQ_AGAIN);
    g_assert_true(http_req_headers_complete(r));
    g_assert_cmpint(r->content_length, ==, 10);
    g_assert_cmpint(feed_copy(r, "abcd", 4, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(http_req_take_body(r, out, 3), ==, 3);
    g_assert_cmpmem(out, 3, "abc", 3);
    g_assert_cmpuint(r->body->len, ==, 1);
    g_assert_cmpint(feed_copy(r, "efghijGET", 9, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(used, ==, 6);
    g_assert_cmpuint(r->body_received, ==, 10);
    g_assert_cmpuint(http_req_take_body(r, out, sizeof out), ==, 7);
    g_assert_cmpmem(out, 7, "defghij", 7);
    g_assert_cmpuint(http_req_take_body(r, out, sizeof out), ==, 0);
    GString *cgi = g_string_new(NULL);
    http_conn_info ci = {"127.0.0.1", 1, "127.0.0.1", 2};
    http_req_cgi_block(r, &ci, cgi);
    g_assert_cmpmem(cgi->str, 18, "CONTENT_LENGTH\00010\0", 18);
    g_string_free(cgi, TRUE);
    http_req_reset(r);
    g_assert_cmpint(r->content_length, ==, -1);
    g_assert_cmpuint(r->body_received, ==, 0);
    http_req_free(r);
}

static void test_take_body_chunked_counts_taken_bytes(void)
{
    http_req *r = http_req_new(4096, MAXHS, 12);
    static const char head[] = "POST /u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    gsize used;
    char out[16];

    g_assert_cmpint(feed_copy(r, head, sizeof head - 1, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpint(r->content_length, ==, -1);
    g_assert_cmpint(feed_copy(r, "8\r\n12345678\r\n", 13, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(http_req_take_body(r, out, sizeof out), ==, 8);
    g_assert_cmpuint(r->body->len, ==, 0);
    /* 8 taken + 5 more > max_body 12, although only 5 are held */
    g_assert_cmpint(feed_copy(r, "5\r\nabcde\r\n", 10, &used), ==, HTTP_REQ_ERROR);
    g_assert_cmpint(r->error_status, ==, 413);
    http_req_free(r);

    r = http_req_new(4096, MAXHS, 100);
    g_assert_cmpint(feed_copy(r, head, sizeof head - 1, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpint(feed_copy(r, "3\r\nabc\r\n", 8, &used), ==, HTTP_REQ_AGAIN);
    g_assert_cmpuint(http_req_take_body(r, out, 2), ==, 2);
    g_assert_cmpint(feed_copy(r, "2\r\nde\r\n0\r\n\r\n", 12, &used), ==, HTTP_REQ_DONE);
    g_assert_cmpuint(r->body_received, ==, 5);
    GString *cgi = g_string_new(NULL);
    http_conn_info ci = {"127.0.0.1", 1, "127.0.0.1", 2};
    http_req_cgi_block(r, &ci, cgi);
    g_assert_cmpmem(cgi->str, 17, "CONTENT_LENGTH\0005\0", 17);
    g_string_free(cgi, TRUE);
    http_req_free(r);
}

/* Header handling is linear: 20,000 distinct header names (and as many repeats
 * of one name) parse in well under a second, where a scan per header took
 * seconds; every header is in the block once, in order. */
static void check_many_headers(gboolean distinct)
{
    enum { N = 20000 };
    GString *in = g_string_new("GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < N; i++)
        g_string_append_printf(in, distinct ? "X-%d:\r\n" : "X-A: %d\r\n", i);
    g_string_append(in, "\r\n");
    http_req *r = http_req_new(in->len, N + 1, MAXB);
    gsize used;
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(feed_copy(r, in->str, in->len, &used), ==, HTTP_REQ_DONE);
    GString *block = g_string_new(NULL);
    http_req_cgi_block(r, &test_ci, block);
    gint64 took = g_get_monotonic_time() - t0;
    g_test_message("%d %s headers: %" G_GINT64_FORMAT " us", N, distinct ? "distinct" : "repeated", took);
    g_assert_cmpint(took, <, G_USEC_PER_SEC / 2);
    g_assert_cmpuint(r->names->len, ==, distinct ? N + 1 : 2);
    if (distinct) {
        g_assert_cmpstr(g_ptr_array_index(r->names, N), ==, "HTTP_X_19999");
    } else {
        GString *v = g_ptr_array_index(r->values, 1);
        g_assert_true(g_str_has_prefix(v->str, "0, 1, 2, "));
        g_assert_true(g_str_has_suffix(v->str, ", 19998, 19999"));
    }
    /* one more than max_headers: 431 */
    http_req_free(r);
    r = http_req_new(in->len, N, MAXB);
    g_assert_cmpint(feed_copy(r, in->str, in->len, &used), ==, HTTP_REQ_ERROR);
    g_assert_cmpint(r->error_status, ==, 431);
    http_req_free(r);
    g_string_free(block, TRUE);
    g_string_free(in, TRUE);
}

static void test_many_headers_distinct(void) { check_many_headers(TRUE); }
static void test_many_headers_repeated(void) { check_many_headers(FALSE); }

/* Every test path is unique, and every row is what its group says. */
static void test_table(void)
{
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);

    for (size_t i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
        g_assert_true(g_hash_table_add(names, (gpointer)accept_cases[i].name));
        g_assert_cmpuint(accept_cases[i].len, >, 0);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(refuse_cases); i++) {
        const refuse_case *c = &refuse_cases[i];

        g_assert_true(g_hash_table_add(names, (gpointer)c->name));
        g_assert_true(c->status == 400 || c->status == 413 || c->status == 431 ||
                      c->status == 501 || c->status == 505);
        g_assert_true(c->status == 431 || !c->max_headers);
        g_assert_cmpuint(c->error_at, <=, c->len);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(truncated_cases); i++)
        g_assert_true(g_hash_table_add(names, (gpointer)truncated_cases[i].name));
    g_hash_table_unref(names);
}

/* The one rule for a Host value's name part (SERVER_NAME, route's server name). */
static void test_host_name_len(void)
{
    static const struct { const char *host; gsize want; } cases[] = {
        { "a.example", 9 }, { "a.example:8080", 9 }, { "[::1]", 5 }, { "[::1]:8000", 5 },
        { "127.0.0.1:80", 9 }, { "", 0 }, { ":80", 0 }, { "[::1", 4 },
        { "a.example.", 9 }, { "a.example.:80", 9 }, { ".", 1 }, { "a..", 2 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpuint(http_host_name_len(cases[i].host), ==, cases[i].want);
}

/* The one rule for a Host value (http_req at parse time, route for SCGI). */
static void test_host_valid(void)
{
    static const char *const good[] = {
        "", "a", "a.example", "A-B.Example", "my_host", "a.example.", "a.example.:80",
        "a.example:1", "a.example:65535", "127.0.0.1", "10.0.0.1:8080", "[::1]", "[::1]:8000",
        "[2001:db8::7]", "[::ffff:192.0.2.1]:443", "xn--bcher-kva.example", "1",
    };
    static const char *const bad[] = {
        "evil.com/x?", "x@vh.example", "a b", "evil.com:1:2", "evil.com\\x", "[vh.example]",
        "vh.example,other", "vh.example.." , ".vh.example", "a..b", ".", ":80", "a:", "a:123456",
        "a:65536", "a:-1", "a:8x", "[::1", "[::1]x", "[::1]:", "[]", "[:::1:::]", "[fe80::1%25eth0]",
        "a%2eb", "a~b", "a;b", "a=b", "a!b", "a#b", "a?b", "a\tb", "caf\xc3\xa9", "\x01",
        "[v1.x]", "a.example:80 ", " a.example",
    };
    for (gsize i = 0; i < G_N_ELEMENTS(good); i++)
        if (!http_host_valid(good[i], strlen(good[i])))
            g_error("valid Host refused: \"%s\"", good[i]);
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
        if (http_host_valid(bad[i], strlen(bad[i])))
            g_error("invalid Host accepted: \"%s\"", bad[i]);
    /* the length bound: 253 bytes, and one trailing dot beyond it */
    char name[260];
    memset(name, 'a', sizeof name);
    for (gsize i = 63; i < 253; i += 64)
        name[i] = '.';
    g_assert_true(http_host_valid(name, 253));
    name[253] = '.';
    g_assert_true(http_host_valid(name, 254));
    g_assert_false(http_host_valid(name, 255));
    name[253] = 'a';
    g_assert_false(http_host_valid(name, 254));
    /* a length, not a C string: the byte after it is not read */
    g_assert_true(http_host_valid("a.example/x", 9));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
        char *path = g_strdup_printf("/http_req/accept/%s", accept_cases[i].name);
        g_test_add_data_func(path, &accept_cases[i], test_accept);
        g_free(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(refuse_cases); i++) {
        char *path = g_strdup_printf("/http_req/refuse/%s", refuse_cases[i].name);
        g_test_add_data_func(path, &refuse_cases[i], test_refuse);
        g_free(path);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(truncated_cases); i++) {
        char *path = g_strdup_printf("/http_req/truncated/%s", truncated_cases[i].name);
        g_test_add_data_func(path, &truncated_cases[i], test_truncated);
        g_free(path);
    }
    g_test_add_func("/http_req/table", test_table);
    g_test_add_func("/http_req/take-body/content-length", test_take_body_content_length);
    g_test_add_func("/http_req/take-body/chunked-counts-taken", test_take_body_chunked_counts_taken_bytes);
    g_test_add_func("/http_req/pipeline/two-requests", test_pipeline_two);
    g_test_add_func("/http_req/pipeline/partial-third", test_pipeline_partial);
    g_test_add_func("/http_req/pipeline/any-split", test_pipeline_any_split);
    g_test_add_func("/http_req/pipeline/after-connection-close", test_pipeline_after_close);
    g_test_add_func("/http_req/upgrade/data-after-upgrade-refused", test_upgrade_then_data);
    g_test_add_func("/http_req/upgrade/data-after-connect-refused", test_connect_then_data);
    g_test_add_func("/http_req/expect/100-continue", test_expect_continue);
    g_test_add_func("/http_req/expect/100-continue-mixed-case", test_expect_continue_case);
    g_test_add_func("/http_req/expect/other-or-absent", test_expect_other);
    g_test_add_func("/http_req/expect/body-refused-at-headers", test_expect_refused);
    g_test_add_func("/http_req/new-is-empty", test_new_is_empty);
    g_test_add_func("/http_req/headers-before-body", test_headers_before_body);
    g_test_add_func("/http_req/cgi-block-appends", test_cgi_block_appends);
    g_test_add_func("/http_req/free-null", test_free_null);
    g_test_add_func("/http_req/reuse-many", test_reuse_many);
    g_test_add_func("/http_req/linear/many-distinct-headers", test_many_headers_distinct);
    g_test_add_func("/http_req/linear/many-repeated-headers", test_many_headers_repeated);
    g_test_add_func("/http_req/host-name-len", test_host_name_len);
    g_test_add_func("/http_req/host-valid", test_host_valid);
    return g_test_run();
}
