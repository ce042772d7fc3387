/* Unit tests for warmup_parse_response (warmup.h): the status and the reason
 * a failed warm-up URL is logged with. */
#include <string.h>
#include <glib.h>
#include "warmup.h"

static int parse(const char *text, char **detail)
{
    return warmup_parse_response(text, strlen(text), detail);
}

static void test_status(void)
{
    static const struct { const char *in; int status; const char *detail; } cases[] = {
        { "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "OK" },
        { "HTTP/1.0 302 Found\r\n\r\n", 302, "Found" },
        { "HTTP/1.1 204\r\n\r\n", 204, "" },
        { "HTTP/1.1 404 Not Found\r\n\r\n<html><head><title>Error 404</title></head>"
          "<h2 class=\"exceptionMessage\">The resource cannot\r\n   be found.</h2>", 404,
          "Not Found (The resource cannot be found.)" },
        { "HTTP/1.1 500 Internal Server Error\r\n\r\n<title>Error\t500</title>", 500,
          "Internal Server Error (Error 500)" },
        { "HTTP/1.1 500 Internal Server Error\r\n\r\n<title>unterminated", 500,
          "Internal Server Error (unterminated)" },
        { "HTTP/1.1 500 X\r\n\r\n<title>\x01\xff</title><h2 class=\"exceptionMessage\"></h2>", 500, "X" },
        { "HTTP/1.1 200", 200, "" },
        { "", -1, NULL },
        { "HTTP/1.1 20", -1, NULL },
        { "HTTP/2 200 OK\r\n", -1, NULL },
        { "Status: 200 OK\r\n", -1, NULL },
        { "HTTP/1.1 2000 OK\r\n", -1, NULL },
        { "HTTP/1.1 099 Low\r\n", -1, NULL },
        { "HTTP/1.1 abc OK\r\n", -1, NULL },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *detail = NULL;
        g_test_message("case %" G_GSIZE_FORMAT, i);
        g_assert_cmpint(parse(cases[i].in, &detail), ==, cases[i].status);
        g_assert_cmpstr(detail, ==, cases[i].detail);
        g_free(detail);
        g_assert_cmpint(parse(cases[i].in, NULL), ==, cases[i].status);
    }
}

static void test_detail_bounded(void)
{
    GString *in = g_string_new("HTTP/1.1 500 Internal Server Error\r\n\r\n<title>");
    for (int i = 0; i < 10000; i++)
        g_string_append(in, "x ");
    char *detail = NULL;
    g_assert_cmpint(warmup_parse_response(in->str, in->len, &detail), ==, 500);
    g_assert_cmpuint(strlen(detail), <=, 200 + 40);
    g_free(detail);
    /* a buffer that is not NUL-terminated is read within its length */
    char *copy = g_memdup2(in->str, 60);
    g_assert_cmpint(warmup_parse_response(copy, 60, &detail), ==, 500);
    g_free(detail);
    g_free(copy);
    g_string_free(in, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/warmup/status", test_status);
    g_test_add_func("/warmup/detail-bounded", test_detail_bounded);
    return g_test_run();
}
