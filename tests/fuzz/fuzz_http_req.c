/* libFuzzer harness for http_req.
 *
 * Input: one selector byte, then the bytes a client sent on one connection.
 *   bits 0-1   max_header: 4096, 256, 40, 8 (fuzz_max_header below)
 *   bits 2-3   max_body: 1 MiB, 100, 10, 0 (fuzz_max_body below)
 *   (max_headers is FUZZ_MAX_HEADERS whatever the selector)
 *   bits 4-7   how the bytes arrive: 0 = all that is left at each call;
 *              k = pseudo-random pieces of 1..k bytes (1: one byte at a time)
 * The corpus (tests/fuzz/corpus/http_req/) holds requests of the unit tests'
 * shapes in this form, most with the selector 0x00.
 *
 * The bytes are fed like a server does: each piece in a buffer of exactly its
 * size, and after HTTP_REQ_DONE the CGI block is built, checked, the request
 * reset and the unconsumed bytes fed again (pipelining), for up to FUZZ_MAX_REQS
 * requests; at the end of input http_req_finish. When the selector splits the
 * input, the whole run is repeated feeding everything at once, and both must
 * find the same requests.
 *
 * Invariants checked (abort on violation):
 *  - AGAIN consumes the whole piece; DONE consumes at most the piece and at
 *    least one byte per request; a finished request stays DONE (consuming
 *    nothing) until reset; an error stays an error; an error's status is 400,
 *    413, 431, 501 or 505 with a reason; http_req_finish never finishes a request and
 *    fails only with 400;
 *  - on DONE: headers complete, a URL, body within max_body, header bytes within
 *    max_header, header fields within max_headers, chunk extensions within
 *    HTTP_REQ_MAX_CHUNK_EXT, an HTTP/1.1 request has exactly one Host, a Host
 *    is one http_host_valid accepts, Transfer-Encoding is "chunked" alone, the
 *    version is 1.x, http_req_is_head agrees with the method, minor is 0 or 1; the
 *    CGI block is pairs of NUL-terminated strings, CONTENT_LENGTH first and equal
 *    to the body's length, never again, names non-empty, unique, of upper-case
 *    token characters, values free of CR and LF, exactly the fixed variables plus
 *    one per header the request kept, with the given connection facts;
 *    a Content-Length header, when kept, agrees with the body (but for CONNECT).
 */
#include "http_req.h"
#include "fuzz_check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_MAX_REQS 64
/* Above what the corpus' requests carry, low enough to be reached. */
#define FUZZ_MAX_HEADERS 24
/* The variables every block has before the headers' (CONTENT_LENGTH included). */
#define FUZZ_FIXED_VARS 12

static const gsize fuzz_max_header[4] = { 4096, 256, 40, 8 };
static const gint64 fuzz_max_body[4] = { 1 << 20, 100, 10, 0 };

static const http_conn_info fuzz_ci = { "192.0.2.7", 54321, "198.51.100.1", 8080 };

typedef struct {
    gsize max_header;
    gint64 max_body;
    unsigned split; /* 0: all that is left; k: random pieces of 1..k bytes */
} fuzz_setup;

static fuzz_setup fuzz_decode(uint8_t selector)
{
    fuzz_setup s = {
        .max_header = fuzz_max_header[selector & 3],
        .max_body = fuzz_max_body[(selector >> 2) & 3],
        .split = selector >> 4,
    };
    return s;
}

/* A small deterministic generator, so that a crash input replays identically. */
static size_t fuzz_next_step(const fuzz_setup *s, uint32_t *rng, size_t left)
{
    size_t step;

    if (s->split == 0)
        return left;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 17;
    *rng ^= *rng << 5;
    step = 1 + *rng % s->split;
    return step < left ? step : left;
}

/* Upper case letters, digits, and the token punctuation of RFC 9110, with '_'
 * for '-'; '_' itself never comes from a header name, but the fixed names have it. */
static bool fuzz_cgi_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("!#$%&'*+.^_`|~", c);
}

static unsigned fuzz_kept_headers(const http_req *r)
{
    unsigned n = 0;

    for (guint i = 0; i < r->names->len; i++)
        if (strcmp(g_ptr_array_index(r->names, i), "CONTENT_LENGTH") != 0)
            n++;
    return n;
}

/* The value of the CGI variable name in the request's own header list. */
static const GString *fuzz_header(const http_req *r, const char *name)
{
    for (guint i = 0; i < r->names->len; i++)
        if (strcmp(g_ptr_array_index(r->names, i), name) == 0)
            return g_ptr_array_index(r->values, i);
    return NULL;
}

/* Checks one pair's name and value against the fixed facts. */
static void fuzz_check_fixed(const http_req *r, const char *name, const char *value,
                             size_t value_len)
{
    char num[32];

    if (strcmp(name, "REQUEST_METHOD") == 0)
        CHECK(strcmp(value, http_req_method(r)) == 0);
    if (strcmp(name, "REQUEST_URI") == 0)
        CHECK(value_len == r->url->len && memcmp(value, r->url->str, value_len) == 0);
    if (strcmp(name, "REMOTE_ADDR") == 0)
        CHECK(strcmp(value, fuzz_ci.remote_addr) == 0);
    if (strcmp(name, "SERVER_ADDR") == 0)
        CHECK(strcmp(value, fuzz_ci.server_addr) == 0);
    if (strcmp(name, "REMOTE_PORT") == 0) {
        g_snprintf(num, sizeof num, "%d", fuzz_ci.remote_port);
        CHECK(strcmp(value, num) == 0);
    }
    if (strcmp(name, "SERVER_PORT") == 0) {
        g_snprintf(num, sizeof num, "%d", fuzz_ci.server_port);
        CHECK(strcmp(value, num) == 0);
    }
    if (strcmp(name, "GATEWAY_INTERFACE") == 0)
        CHECK(strcmp(value, "CGI/1.1") == 0);
}

static void fuzz_check_block(const http_req *r, const GString *b)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    const char *end = b->str + b->len;
    const char *p = b->str;
    unsigned count = 0;
    char num[32];

    while (p < end) {
        const char *name = p, *name_end = memchr(name, '\0', (size_t)(end - name));
        const char *value, *value_end;

        CHECK(name_end != NULL && name_end > name);
        value = name_end + 1;
        CHECK(value < end);
        value_end = memchr(value, '\0', (size_t)(end - value));
        CHECK(value_end != NULL);
        for (const char *c = name; c < name_end; c++)
            CHECK(fuzz_cgi_name_char(*c));
        CHECK(memchr(value, '\r', (size_t)(value_end - value)) == NULL);
        CHECK(memchr(value, '\n', (size_t)(value_end - value)) == NULL);
        CHECK(g_hash_table_add(seen, (gpointer)name));
        if (count == 0) {
            CHECK(strcmp(name, "CONTENT_LENGTH") == 0);
            g_snprintf(num, sizeof num, "%u", r->body->len);
            CHECK(strcmp(value, num) == 0);
        } else if (count < FUZZ_FIXED_VARS) {
            CHECK(strncmp(name, "HTTP_", 5) != 0 && strcmp(name, "CONTENT_TYPE") != 0);
            fuzz_check_fixed(r, name, value, (size_t)(value_end - value));
        } else {
            CHECK(strncmp(name, "HTTP_", 5) == 0 || strcmp(name, "CONTENT_TYPE") == 0);
            CHECK(strcmp(name, "HTTP_") != 0);
        }
        p = value_end + 1;
        count++;
    }
    CHECK(p == end);
    CHECK(count == FUZZ_FIXED_VARS + fuzz_kept_headers(r));
    g_hash_table_unref(seen);
}

static void fuzz_check_done(const fuzz_setup *s, const http_req *r, GString *block)
{
    const GString *cl = fuzz_header(r, "CONTENT_LENGTH");
    const char *method = http_req_method(r);

    CHECK(http_req_headers_complete(r));
    CHECK(r->done && r->error_status == 0);
    CHECK(r->url->len > 0);
    CHECK((gint64)r->body->len <= s->max_body);
    CHECK(r->header_bytes <= s->max_header);
    CHECK(r->header_count <= FUZZ_MAX_HEADERS);
    CHECK(r->chunk_ext_bytes <= HTTP_REQ_MAX_CHUNK_EXT);
    if (r->parser.http_major == 1 && r->parser.http_minor == 1)
        CHECK(fuzz_header(r, "HTTP_HOST") != NULL);
    CHECK(r->parser.http_major == 1);
    const GString *host = fuzz_header(r, "HTTP_HOST"), *te = fuzz_header(r, "HTTP_TRANSFER_ENCODING");
    if (host != NULL)
        CHECK(http_host_valid(host->str, host->len));
    if (te != NULL)
        CHECK(g_ascii_strcasecmp(te->str, "chunked") == 0);
    /* exactly one SP after the method (obs-fold and double spaces are refused) */
    CHECK(strstr(r->url->str, " ") == NULL);
    CHECK(method != NULL && http_req_is_head(r) == (strcmp(method, "HEAD") == 0));
    CHECK(http_req_minor(r) == 0 || http_req_minor(r) == 1);
    /* (CONNECT has no body: what follows its headers is another protocol) */
    if (cl != NULL && r->parser.method != HTTP_CONNECT)
        CHECK(g_ascii_strtoull(cl->str, NULL, 10) == r->body->len);
    g_string_truncate(block, 0);
    http_req_cgi_block(r, &fuzz_ci, block);
    fuzz_check_block(r, block);
}

static void fuzz_check_error(const http_req *r)
{
    CHECK(r->error_status == 400 || r->error_status == 413 || r->error_status == 431 ||
          r->error_status == 501 || r->error_status == 505);
    CHECK(r->error_reason != NULL && r->error_reason[0] != '\0');
}

/* Feeds in[0..n) in a buffer of exactly that size (at least one byte: llhttp
 * does arithmetic on the pointer even for an empty input). */
static http_req_status fuzz_feed(http_req *r, const char *in, size_t n, gsize *used)
{
    char *buf = g_malloc(n ? n : 1);
    http_req_status st;

    memcpy(buf, in, n);
    *used = G_MAXSIZE;
    st = http_req_feed(r, buf, n, used);
    g_free(buf);
    CHECK(*used <= n);
    return st;
}

/* Parses one connection's bytes; appends to log what a server would see: each
 * request's CGI block, body and flags, where it ended, and how the input ended. */
static void fuzz_run(const fuzz_setup *s, const char *in, size_t n, GString *log)
{
    http_req *r = http_req_new(s->max_header, FUZZ_MAX_HEADERS, s->max_body);
    GString *block = g_string_new(NULL);
    uint32_t rng = 0x9e3779b9u ^ s->split;
    http_req_status st = HTTP_REQ_AGAIN;
    size_t off = 0, req_start = 0;
    unsigned nreq = 0;
    gsize used;

    CHECK(fuzz_feed(r, in, 0, &used) == HTTP_REQ_AGAIN && used == 0);
    while (off < n && nreq < FUZZ_MAX_REQS) {
        size_t step = fuzz_next_step(s, &rng, n - off);

        st = fuzz_feed(r, in + off, step, &used);
        off += used;
        if (st == HTTP_REQ_AGAIN) {
            CHECK(used == step);
            continue;
        }
        if (st == HTTP_REQ_ERROR) {
            fuzz_check_error(r);
            CHECK(fuzz_feed(r, "GET / HTTP/1.1\r\n\r\n", 18, &used) == HTTP_REQ_ERROR);
            g_string_append_printf(log, "error\n");
            break;
        }
        CHECK(st == HTTP_REQ_DONE);
        CHECK(off > req_start);
        fuzz_check_done(s, r, block);
        g_string_append_printf(log, "request ending at %zu, keep-alive %d, expect %d, body %u\n",
                               off, r->keep_alive, r->expect_continue, r->body->len);
        g_string_append_len(log, block->str, (gssize)block->len);
        g_string_append_len(log, (const char *)r->body->data, (gssize)r->body->len);
        CHECK(fuzz_feed(r, in + off, n - off, &used) == HTTP_REQ_DONE && used == 0);
        http_req_reset(r);
        CHECK(!http_req_headers_complete(r) && r->body->len == 0 && r->error_status == 0);
        req_start = off;
        nreq++;
    }
    if (st != HTTP_REQ_ERROR && nreq < FUZZ_MAX_REQS) {
        /* End of input: a request cut short is an error, never a request. */
        st = http_req_finish(r);
        CHECK(st != HTTP_REQ_DONE);
        if (st == HTTP_REQ_ERROR)
            CHECK(r->error_status == 400 && r->error_reason != NULL);
        g_string_append_printf(log, "eof: %d\n", st);
    }
    g_string_free(block, TRUE);
    http_req_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup s, whole;
    GString *log, *log_whole;

    if (size == 0)
        return 0;
    s = fuzz_decode(data[0]);
    log = g_string_new(NULL);
    fuzz_run(&s, (const char *)data + 1, size - 1, log);
    if (s.split != 0) {
        /* Where the pieces break must not change which requests are found, nor
         * how the input ends. Which error it ends with may differ (a size limit
         * met in a piece before a syntax error that one call meets first), so
         * the log holds only the fact of an error. */
        whole = s;
        whole.split = 0;
        log_whole = g_string_new(NULL);
        fuzz_run(&whole, (const char *)data + 1, size - 1, log_whole);
        CHECK(log->len == log_whole->len && memcmp(log->str, log_whole->str, log->len) == 0);
        g_string_free(log_whole, TRUE);
    }
    g_string_free(log, TRUE);
    return 0;
}
