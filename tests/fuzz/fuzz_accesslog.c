/* libFuzzer harness for accesslog_format: the input is split at NUL bytes into
 * the string fields (remote, method, uri, protocol, referer, user agent, app).
 * combined: one line of printable ASCII whose request line field un-escapes
 * to the bytes given. json: one line, valid UTF-8 without a raw control
 * character, that parses as one JSON object of the twelve fields. */
#include <string.h>

#include "accesslog.h"
#include "fuzz_check.h"

/* A minimal JSON value parser (strings, numbers, null, flat objects): returns
 * the position after the value, or NULL. */
static const char *skip_string(const char *p)
{
    if (*p++ != '"')
        return NULL;
    while (*p && *p != '"') {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!g_ascii_isxdigit(p[i]))
                        return NULL;
                p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", *p) || !*p)
                return NULL;
        }
        p++;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *skip_value(const char *p)
{
    if (*p == '"')
        return skip_string(p);
    if (strncmp(p, "null", 4) == 0)
        return p + 4;
    if (*p == '-')
        p++;
    if (!g_ascii_isdigit(*p))
        return NULL;
    while (g_ascii_isdigit(*p))
        p++;
    return p;
}

static int parse_object(const char *p)
{
    int n = 0;
    if (*p++ != '{')
        return -1;
    for (;;) {
        p = skip_string(p);
        if (!p || *p++ != ':')
            return -1;
        p = skip_value(p);
        if (!p)
            return -1;
        n++;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p++ != '}')
            return -1;
        return *p == '\n' && p[1] == 0 ? n : -1;
    }
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = g_malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = 0;
    const char *parts[7] = {0};
    const char *p = buf;
    for (int i = 0; i < 7 && p <= buf + size; i++) {
        parts[i] = p;
        p += strlen(p) + 1;
    }
    accesslog_fields f = {
        .remote = parts[0], .time = (gint64)size * G_USEC_PER_SEC * 1000, .method = parts[1], .uri = parts[2],
        .protocol = parts[3], .status = (int)size % 600, .bytes = (gint64)size - 3, .referer = parts[4],
        .user_agent = parts[5], .duration_us = (gint64)size * 7, .app = parts[6], .pid = (int)size,
    };

    GString *c = g_string_new(NULL);
    accesslog_format(c, &f, ACCESSLOG_COMBINED);
    CHECK(c->len > 0 && c->str[c->len - 1] == '\n');
    for (gsize i = 0; i + 1 < c->len; i++)
        CHECK(c->str[i] >= 0x20 && c->str[i] < 0x7f);
    /* the request line: after "] \"", up to the next unescaped '"' */
    const char *q = strstr(c->str, "] \"");
    CHECK(q);
    q += 3;
    GString *line = g_string_new(NULL);
    while (*q != '"') {
        CHECK(*q && *q != '\n');
        if (*q == '\\') {
            CHECK(q[1] == 'x' && hexval(q[2]) >= 0 && hexval(q[3]) >= 0);
            g_string_append_c(line, (char)(hexval(q[2]) * 16 + hexval(q[3])));
            q += 4;
        } else
            g_string_append_c(line, *q++);
    }
    char *want = g_strdup_printf("%s %s %s", f.method && *f.method ? f.method : "-", f.uri && *f.uri ? f.uri : "-",
                                 f.protocol && *f.protocol ? f.protocol : "-");
    CHECK(strcmp(line->str, want) == 0);
    g_free(want);
    g_string_free(line, TRUE);
    g_string_free(c, TRUE);

    GString *j = g_string_new(NULL);
    accesslog_format(j, &f, ACCESSLOG_JSON);
    CHECK(g_utf8_validate(j->str, (gssize)j->len, NULL));
    CHECK(memchr(j->str, '\n', j->len) == j->str + j->len - 1);
    CHECK(parse_object(j->str) == 12);
    g_string_free(j, TRUE);
    g_free(buf);
    return 0;
}
