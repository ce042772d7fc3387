/* Unit tests for accesslog.c: the combined and json lines (hostile bytes
 * included) and the buffered writer (one write at the buffer size, flush on
 * tick, reopen after a rename). */
#include "accesslog.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2026-03-04 05:06:07 UTC */
#define T0 (G_GINT64_CONSTANT(1772600767) * G_USEC_PER_SEC)

static accesslog_fields plain(void)
{
    accesslog_fields f = {
        .remote = "127.0.0.1", .time = T0, .method = "GET", .uri = "/app/index.aspx?a=1", .protocol = "HTTP/1.1",
        .status = 200, .bytes = 1234, .referer = "http://example.com/", .user_agent = "curl/8.0",
        .duration_us = 5678, .app = "/app", .pid = 42,
    };
    return f;
}

static char *fmt(const accesslog_fields *f, accesslog_fmt k)
{
    GString *s = g_string_new(NULL);
    accesslog_format(s, f, k);
    return g_string_free(s, FALSE);
}

static void test_combined_plain(void)
{
    accesslog_fields f = plain();
    char *l = fmt(&f, ACCESSLOG_COMBINED);
    g_assert_cmpstr(l, ==, "127.0.0.1 - - [04/Mar/2026:05:06:07 +0000] \"GET /app/index.aspx?a=1 HTTP/1.1\" 200 1234 "
                           "\"http://example.com/\" \"curl/8.0\" 5678 \"/app\" 42\n");
    g_free(l);
}

static void test_combined_absent(void)
{
    accesslog_fields f = plain();
    f.referer = NULL;
    f.user_agent = "";
    f.bytes = 0;
    f.app = NULL;
    f.status = 404;
    char *l = fmt(&f, ACCESSLOG_COMBINED);
    g_assert_cmpstr(l, ==, "127.0.0.1 - - [04/Mar/2026:05:06:07 +0000] \"GET /app/index.aspx?a=1 HTTP/1.1\" 404 - "
                           "\"-\" \"-\" 5678 \"-\" 42\n");
    g_free(l);
}

static void test_combined_hostile(void)
{
    accesslog_fields f = plain();
    f.uri = "/a\"b\\c\r\nd\x01\x7f\xff";
    f.user_agent = "x\" 999 \"forged";
    char *l = fmt(&f, ACCESSLOG_COMBINED);
    g_assert_cmpstr(l, ==, "127.0.0.1 - - [04/Mar/2026:05:06:07 +0000] "
                           "\"GET /a\\x22b\\x5cc\\x0d\\x0ad\\x01\\x7f\\xff HTTP/1.1\" 200 1234 "
                           "\"http://example.com/\" \"x\\x22 999 \\x22forged\" 5678 \"/app\" 42\n");
    /* one line of printable ASCII */
    for (const char *p = l; *p; p++)
        if (p[1])
            g_assert_true(*p >= 0x20 && *p < 0x7f);
    g_free(l);
}

static void test_json_plain(void)
{
    accesslog_fields f = plain();
    f.referer = NULL;
    char *l = fmt(&f, ACCESSLOG_JSON);
    g_assert_cmpstr(l, ==, "{\"time\":\"2026-03-04T05:06:07+00:00\",\"remote_addr\":\"127.0.0.1\",\"method\":\"GET\","
                           "\"uri\":\"/app/index.aspx?a=1\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"bytes\":1234,"
                           "\"referer\":null,\"user_agent\":\"curl/8.0\",\"request_time_us\":5678,\"app\":\"/app\","
                           "\"pid\":42}\n");
    g_free(l);
}

static void test_json_hostile(void)
{
    accesslog_fields f = plain();
    f.uri = "/q\"\\\r\n\t\x01\x7f";
    f.user_agent = "caf\xc3\xa9 \xe2\x82\xac bad:\xc3( \xff \xc0\xaf \xe2\x82 c1:\xc2\x85 ls:\xe2\x80\xa8";
    char *l = fmt(&f, ACCESSLOG_JSON);
    g_assert_nonnull(strstr(l, "\"uri\":\"/q\\\"\\\\\\u000d\\u000a\\u0009\\u0001\\u007f\""));
    g_assert_nonnull(strstr(l, "\"user_agent\":\"caf\xc3\xa9 \xe2\x82\xac bad:\\u00c3( \\u00ff \\u00c0\\u00af "
                               "\\u00e2\\u0082 c1:\\u0085 ls:\\u2028\""));
    g_assert_true(g_utf8_validate(l, -1, NULL));
    gsize n = strlen(l);
    g_assert_cmpint(l[n - 1], ==, '\n');
    for (gsize i = 0; i + 1 < n; i++)
        g_assert_true((unsigned char)l[i] >= 0x20 && l[i] != 0x7f);
    g_free(l);
}

static char *tmp_path(const char *name)
{
    char *dir = g_dir_make_tmp("accesslog-XXXXXX", NULL);
    g_assert_nonnull(dir);
    char *p = g_build_filename(dir, name, NULL);
    g_free(dir);
    return p;
}

static gsize file_len(const char *path)
{
    char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(path, &data, &len, NULL))
        return 0;
    g_free(data);
    return len;
}

static void test_buffered(void)
{
    char *path = tmp_path("access.log");
    GError *error = NULL;
    accesslog *al = accesslog_open(path, ACCESSLOG_COMBINED, &error);
    g_assert_no_error(error);
    accesslog_fields f = plain();
    accesslog_write(al, &f);
    g_assert_cmpuint(file_len(path), ==, 0);          /* buffered */
    accesslog_tick(al, g_get_monotonic_time());       /* not a second old yet */
    g_assert_cmpuint(file_len(path), ==, 0);
    accesslog_tick(al, g_get_monotonic_time() + G_USEC_PER_SEC);
    gsize one = file_len(path);
    g_assert_cmpuint(one, >, 0);
    /* the buffer goes out whole once it holds ACCESSLOG_BUFFER bytes */
    guint n = 0;
    while (file_len(path) == one) {
        accesslog_write(al, &f);
        n++;
        g_assert_cmpuint(n * one, <=, ACCESSLOG_BUFFER + one);
    }
    g_assert_cmpuint(file_len(path), ==, one * (n + 1));
    g_assert_cmpuint(n * one, >=, ACCESSLOG_BUFFER);
    /* reopen: the buffered lines go to the renamed file, the next to a new one */
    accesslog_write(al, &f);
    char *rotated = g_strconcat(path, ".1", NULL);
    g_assert_cmpint(rename(path, rotated), ==, 0);
    g_assert_true(accesslog_reopen(al, &error));
    g_assert_cmpuint(file_len(rotated), ==, one * (n + 2));
    accesslog_write(al, &f);
    accesslog_close(al);
    g_assert_cmpuint(file_len(path), ==, one);
    unlink(rotated);
    unlink(path);
    g_free(rotated);
    g_free(path);
}

static void test_open_fails(void)
{
    GError *error = NULL;
    g_assert_null(accesslog_open("/nonexistent-dir/x/access.log", ACCESSLOG_JSON, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "/nonexistent-dir/x/access.log"));
    g_error_free(error);
}

int main(int argc, char **argv)
{
    setenv("TZ", "UTC", 1);
    tzset();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/accesslog/combined/plain", test_combined_plain);
    g_test_add_func("/accesslog/combined/absent", test_combined_absent);
    g_test_add_func("/accesslog/combined/hostile", test_combined_hostile);
    g_test_add_func("/accesslog/json/plain", test_json_plain);
    g_test_add_func("/accesslog/json/hostile", test_json_hostile);
    g_test_add_func("/accesslog/writer/buffered", test_buffered);
    g_test_add_func("/accesslog/writer/open-fails", test_open_fails);
    return g_test_run();
}
