/* libFuzzer harness for status_model's escaping: the input is a URI (JSON
 * string writer) and an application name (Prometheus label values).
 * JSON: the string is valid UTF-8 with no raw control character, every
 * backslash starts a valid escape, no unescaped quote inside; input that is
 * valid UTF-8 without anything to escape comes out as is. Metrics: valid
 * UTF-8 and as many lines as for a plain name (no raw newline in a label). */
#include <string.h>

#include "fuzz_check.h"
#include "status_model.h"

static void check_json_string(const char *s, size_t len)
{
    GString *o = g_string_new(NULL);
    status_model_json_string(o, s, len);
    CHECK(o->len >= 2 && o->str[0] == '"' && o->str[o->len - 1] == '"');
    CHECK(g_utf8_validate(o->str, (gssize)o->len, NULL));
    for (gsize i = 1; i + 1 < o->len; i++) {
        unsigned char c = (unsigned char)o->str[i];
        CHECK(c >= 0x20 && c != 0x7f && c != '"');
        if (c == '\\') {
            char e = o->str[++i];
            CHECK(i + 1 < o->len && strchr("\"\\nrtu", e));
            if (e == 'u') {
                for (int k = 1; k <= 4; k++)
                    CHECK(g_ascii_isxdigit(o->str[i + k]));
                i += 4;
            }
        }
    }
    gboolean plain = g_utf8_validate(s, (gssize)len, NULL);
    for (size_t i = 0; plain && i < len; i++)
        plain = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f && s[i] != '"' && s[i] != '\\';
    if (plain)
        CHECK(o->len == len + 2 && memcmp(o->str + 1, s, len) == 0);
    g_string_free(o, TRUE);
}

static int count_lines(const char *app)
{
    sm_app_info apps[] = {{app, "/", "/srv"}};
    sm_server_info info = {.version = "x", .pid = 1, .workers_configured = 1, .threads = 1, .apps = apps, .napps = 1};
    status_model *m = status_model_new(&info, 1, 1);
    char *text = status_model_metrics(m, 2, 2, NULL);
    CHECK(g_utf8_validate(text, -1, NULL));
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    g_free(text);
    status_model_free(m);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_json_string((const char *)data, size);
    char *app = g_strndup((const char *)data, size); /* up to the first NUL */
    static int plain_lines;
    if (!plain_lines)
        plain_lines = count_lines("x");
    CHECK(count_lines(app) == plain_lines);
    g_free(app);
    return 0;
}
