/* libFuzzer harness for log_escape: whatever a message quotes, the line
 * written holds no control byte, no C1 control or line separator, is valid
 * UTF-8, and un-escaping it gives the input back. */
#include <string.h>

#include "fuzz_check.h"
#include "log.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reverses log_escape; returns the decoded bytes. */
static GString *unescape(const GString *s)
{
    GString *r = g_string_new(NULL);
    for (gsize i = 0; i < s->len; i++) {
        if (s->str[i] != '\\') {
            g_string_append_c(r, s->str[i]);
            continue;
        }
        CHECK(i + 1 < s->len);
        char k = s->str[++i];
        if (k == 'n') g_string_append_c(r, '\n');
        else if (k == 'r') g_string_append_c(r, '\r');
        else if (k == 't') g_string_append_c(r, '\t');
        else if (k == '\\') g_string_append_c(r, '\\');
        else if (k == 'x') {
            CHECK(i + 2 < s->len);
            int hi = hexval(s->str[i + 1]), lo = hexval(s->str[i + 2]);
            CHECK(hi >= 0 && lo >= 0);
            g_string_append_c(r, (char)(hi * 16 + lo));
            i += 2;
        } else {
            CHECK(k == 'u' && i + 4 < s->len);
            char hex[5] = {s->str[i + 1], s->str[i + 2], s->str[i + 3], s->str[i + 4], 0};
            g_string_append_unichar(r, (gunichar)strtoul(hex, NULL, 16));
            i += 4;
        }
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GString *out = g_string_new(NULL);
    log_escape((const char *)data, (gssize)size, out);
    for (gsize i = 0; i < out->len; i++) {
        unsigned char ch = (unsigned char)out->str[i];
        CHECK(ch >= 0x20 && ch != 0x7f);
    }
    CHECK(g_utf8_validate(out->str, (gssize)out->len, NULL));
    for (const char *p = out->str; *p; p = g_utf8_next_char(p)) {
        gunichar u = g_utf8_get_char(p);
        CHECK(!(u >= 0x80 && u < 0xa0) && u != 0x2028 && u != 0x2029);
    }
    GString *back = unescape(out);
    CHECK(back->len == size && memcmp(back->str, data, size) == 0);
    g_string_free(back, TRUE);
    g_string_free(out, TRUE);
    return 0;
}
