/* Unit tests for log.c: log_escape (one event, one line, whatever the message
 * quotes) and the error_log file (open, reopen after a rename). */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    const char *in;
    gssize len;      /* -1: up to the NUL */
    const char *want;
} esc_case;

static const esc_case cases[] = {
    { "plain", "GET /index.aspx", -1, "GET /index.aspx" },
    { "crlf-forged-line", "/\r\n2026-01-01T00:00:00Z notice: forged", -1,
      "/\\r\\n2026-01-01T00:00:00Z notice: forged" },
    { "tab", "a\tb", -1, "a\\tb" },
    { "backslash-is-escaped-so-escapes-are-unambiguous", "a\\nb", -1, "a\\\\nb" },
    { "other-controls", "\x01\x1b[31m\x7f", -1, "\\x01\\x1b[31m\\x7f" },
    { "nul-inside-a-counted-string", "a\0b", 3, "a\\x00b" },
    { "utf8-kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", -1, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
    { "invalid-utf8-escaped", "\xc3(\xff\xfe", -1, "\\xc3(\\xff\\xfe" },
    { "truncated-utf8-at-end", "x\xe2\x82", -1, "x\\xe2\\x82" },
    { "overlong-slash", "\xc0\xaf", -1, "\\xc0\\xaf" },
    { "c1-next-line", "a\xc2\x85" "b", -1, "a\\u0085b" },
    { "line-separator", "a\xe2\x80\xa8" "b\xe2\x80\xa9", -1, "a\\u2028b\\u2029" },
    { "empty", "", -1, "" },
};

static void test_case(gconstpointer data)
{
    const esc_case *c = data;
    GString *out = g_string_new(NULL);
    log_escape(c->in, c->len, out);
    g_assert_cmpstr(out->str, ==, c->want);
    g_string_free(out, TRUE);
}

/* Every byte value, alone and after a valid character: never a control byte out. */
static void test_every_byte(void)
{
    for (int b = 0; b < 256; b++) {
        char in[3] = {'x', (char)b, 'y'};
        GString *out = g_string_new(NULL);
        log_escape(in, 3, out);
        for (gsize i = 0; i < out->len; i++) {
            unsigned char ch = (unsigned char)out->str[i];
            g_assert_true(ch >= 0x20 && ch != 0x7f);
        }
        g_assert_true(g_utf8_validate(out->str, (gssize)out->len, NULL));
        g_string_free(out, TRUE);
    }
}

static char *slurp(const char *path)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("(missing)");
    return text;
}

/* error_log: the file becomes standard error (a plain write(2, ...) lands
 * there too, as Mono's and the applications' would); after a rename, as
 * logrotate does, log_reopen sends what follows to a new file at the path
 * and nothing more to the renamed one; NULL puts the first stderr back. */
static void test_open_and_reopen(void)
{
    GError *err = NULL;
    char *dir = g_dir_make_tmp("scgi-mono-log-XXXXXX", &err);
    g_assert_no_error(err);
    char *path = g_build_filename(dir, "error.log", NULL), *rotated = g_build_filename(dir, "error.log.1", NULL);
    char *saved_path = g_build_filename(dir, "saved", NULL);
    int saved = open(saved_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    g_assert_cmpint(saved, >=, 0);
    int orig = dup(STDERR_FILENO);
    dup2(saved, STDERR_FILENO); /* the "original" standard error of this test */
    close(saved);
    log_init();
    g_assert_null(log_file_path());
    g_assert_true(log_reopen(&err)); /* nothing to reopen */
    g_assert_true(log_open_file(path, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(log_file_path(), ==, path);
    g_message("line one");
    g_assert_cmpint(write(STDERR_FILENO, "raw one\n", 8), ==, 8);
    g_assert_cmpint(rename(path, rotated), ==, 0);
    g_message("line two"); /* still the renamed file: it is not reopened yet */
    g_assert_true(log_reopen(&err));
    g_message("line three");
    g_assert_cmpint(write(STDERR_FILENO, "raw three\n", 10), ==, 10);
    g_assert_false(log_open_file("/nonexistent-dir/x.log", &err));
    g_assert_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_nonnull(strstr(err->message, "/nonexistent-dir/x.log"));
    g_clear_error(&err);
    g_message("line four"); /* the failed open left the file in place */
    g_assert_true(log_open_file(NULL, &err));
    g_assert_null(log_file_path());
    g_message("line five");
    dup2(orig, STDERR_FILENO);
    close(orig);

    char *old = slurp(rotated), *cur = slurp(path), *first = slurp(saved_path);
    g_assert_nonnull(strstr(old, "line one"));
    g_assert_nonnull(strstr(old, "raw one"));
    g_assert_nonnull(strstr(old, "line two"));
    g_assert_null(strstr(old, "three"));
    g_assert_null(strstr(old, "four"));
    g_assert_nonnull(strstr(cur, "line three"));
    g_assert_nonnull(strstr(cur, "raw three"));
    g_assert_nonnull(strstr(cur, "line four"));
    g_assert_null(strstr(cur, "line one"));
    g_assert_null(strstr(cur, "five"));
    g_assert_nonnull(strstr(first, "line five"));
    g_assert_null(strstr(first, "line one"));
    g_free(old);
    g_free(cur);
    g_free(first);
    unlink(path);
    unlink(rotated);
    unlink(saved_path);
    rmdir(dir);
    g_free(path);
    g_free(rotated);
    g_free(saved_path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/log/escape/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    g_test_add_func("/log/escape/every-byte", test_every_byte);
    g_test_add_func("/log/file/open-and-reopen", test_open_and_reopen);
    return g_test_run();
}
