/* Unit tests for log.c: log_escape (one event, one line, whatever the message
 * quotes) and the error_log file (open, reopen after a rename). */
#include "log.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
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

/* Runs fn with standard error sent to a file; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *ud)
{
    char *path = g_build_filename(g_get_tmp_dir(), "scgi-mono-log-capture-XXXXXX", NULL);
    int fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    fflush(stderr);
    int orig = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    fn(ud);
    fflush(stderr);
    dup2(orig, STDERR_FILENO);
    close(orig);
    char *text = slurp(path);
    unlink(path);
    g_free(path);
    return text;
}

static int formatted; /* how often side_effect ran */
static const char *side_effect(void)
{
    formatted++;
    return "formatted";
}

static void log_levels(void *ud)
{
    (void)ud;
    log_set_level(LOG_LEVEL_WARN);
    g_info("info-at-warn %s", side_effect());
    g_debug("debug-at-warn %s", side_effect());
    g_message("notice-at-warn %s", side_effect());
    g_warning("warn-at-warn");
    g_critical("critical-at-warn");
    log_set_level(LOG_LEVEL_INFO);
    g_info("info-at-info");
    g_debug("debug-at-info");
    log_set_level(LOG_LEVEL_ERROR);
    g_warning("warn-at-error");
    g_critical("critical-at-error");
    log_set_level(LOG_LEVEL_NOTICE);
}

/* log_level: lines below it are dropped and not even formatted. */
static void test_levels(void)
{
    g_unsetenv("SCGI_MONO_DEBUG");
    log_init();
    log_set_tag(NULL);
    formatted = 0;
    char *text = capture_stderr(log_levels, NULL);
    g_assert_cmpint(formatted, ==, 0);
    g_assert_null(strstr(text, "info-at-warn"));
    g_assert_null(strstr(text, "debug-at-warn"));
    g_assert_null(strstr(text, "notice-at-warn"));
    g_assert_nonnull(strstr(text, "warning: warn-at-warn"));
    g_assert_nonnull(strstr(text, "critical: critical-at-warn"));
    g_assert_nonnull(strstr(text, "info: info-at-info"));
    g_assert_null(strstr(text, "debug-at-info"));
    g_assert_null(strstr(text, "warn-at-error"));
    g_assert_nonnull(strstr(text, "critical: critical-at-error"));
    g_free(text);
    log_level lv = LOG_LEVEL_ERROR;
    g_assert_true(log_level_parse("warn", &lv));
    g_assert_cmpint(lv, ==, LOG_LEVEL_WARN);
    g_assert_false(log_level_parse("warning", &lv));
    g_assert_cmpstr(log_level_name(LOG_LEVEL_DEBUG), ==, "debug");
    /* SCGI_MONO_DEBUG wins over the configured level */
    g_setenv("SCGI_MONO_DEBUG", "1", TRUE);
    log_set_level(LOG_LEVEL_ERROR);
    g_assert_true(log_enabled(G_LOG_LEVEL_DEBUG));
    g_unsetenv("SCGI_MONO_DEBUG");
    log_set_level(LOG_LEVEL_NOTICE);
    g_assert_false(log_enabled(G_LOG_LEVEL_DEBUG));
}

static void log_two_lines(void *ud)
{
    (void)ud;
    log_set_tag(NULL);
    g_message("plain line");
    log_set_tag("worker 77");
    g_warning("tagged\nline");
    log_set_tag(NULL);
}

/* Every line: time (UTC, milliseconds), the process (tag or pid), the level. */
static void test_line_format(void)
{
    log_init();
    char *text = capture_stderr(log_two_lines, NULL);
    char *want = g_strdup_printf("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[%d\\] notice: plain line\n"
                                 "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[worker 77\\] warning: "
                                 "tagged\\\\nline\n$", (int)getpid());
    if (!g_regex_match_simple(want, text, 0, 0))
        g_error("lines %s do not match %s", text, want);
    g_free(want);
    g_free(text);
}

/* syslog:/PATH: RFC 3164 datagrams to a socket we bind, with facility
 * daemon, the level's priority, ident and pid; escaped; a refused message
 * goes to standard error. */
static void syslog_session(void *ud)
{
    const char *sock = ud;
    GError *err = NULL;
    char *target = g_strdup_printf("syslog:%s", sock);
    g_assert_true(log_set_target(target, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(log_target(), ==, target);
    g_free(target);
    g_assert_null(log_file_path());
    g_warning("one\rtwo");
    g_message("notice line");
    g_info("dropped info");
    g_critical("an error");
}

static void log_one_notice(void *ud)
{
    g_message("%s", (const char *)ud);
}

static void test_syslog(void)
{
    log_init();
    log_set_tag(NULL);
    log_set_level(LOG_LEVEL_NOTICE);
    char *dir = g_dir_make_tmp("scgi-mono-syslog-XXXXXX", NULL);
    char *sock = g_build_filename(dir, "log.sock", NULL);
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, sock, sizeof sa.sun_path);
    g_assert_cmpint(bind(s, (struct sockaddr *)&sa, sizeof sa), ==, 0);
    char *text = capture_stderr(syslog_session, sock);
    g_assert_cmpstr(text, ==, ""); /* everything went to the logger */
    g_free(text);
    char buf[512];
    char *prefix = g_strdup_printf("scgi-mono[%d]: [%d] ", (int)getpid(), (int)getpid());
    const char *want[] = { "<28>", "warning: one\\rtwo", "<29>", "notice: notice line", "<27>", "critical: an error" };
    for (int i = 0; i < 3; i++) {
        ssize_t n = recv(s, buf, sizeof buf - 1, MSG_DONTWAIT);
        g_assert_cmpint(n, >, 0);
        buf[n] = 0;
        g_assert_true(g_str_has_prefix(buf, want[2 * i]));
        g_assert_nonnull(strstr(buf, prefix));
        g_assert_true(g_str_has_suffix(buf, want[2 * i + 1]));
        /* "<PRI>Mmm dd hh:mm:ss " */
        g_assert_true(g_regex_match_simple("^<\\d+>[A-Z][a-z]{2} [ 1-3]\\d \\d\\d:\\d\\d:\\d\\d scgi-mono\\[", buf, 0, 0));
    }
    g_assert_cmpint(recv(s, buf, sizeof buf, MSG_DONTWAIT), <, 0); /* the info line was dropped */
    close(s);
    unlink(sock);
    /* the logger is gone: the line goes to standard error, not nowhere */
    text = capture_stderr(log_one_notice, (void *)"logger gone");
    g_assert_nonnull(strstr(text, "notice: logger gone"));
    g_free(text);
    GError *err = NULL;
    g_assert_true(log_set_target("stderr", &err));
    g_assert_null(log_target());
    g_assert_false(log_set_target("relative.log", &err));
    g_clear_error(&err);
    g_free(prefix);
    rmdir(dir);
    g_free(sock);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* g_test_init makes warnings and criticals fatal; these tests log them */
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    g_test_add_func("/log/level/filter", test_levels);
    g_test_add_func("/log/line/format", test_line_format);
    g_test_add_func("/log/syslog/socket", test_syslog);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/log/escape/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    g_test_add_func("/log/escape/every-byte", test_every_byte);
    g_test_add_func("/log/file/open-and-reopen", test_open_and_reopen);
    return g_test_run();
}
