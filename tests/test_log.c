/* Unit tests for log_escape: one event, one line, whatever the message quotes. */
#include "log.h"

#include <string.h>

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/log/escape/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    g_test_add_func("/log/escape/every-byte", test_every_byte);
    return g_test_run();
}
