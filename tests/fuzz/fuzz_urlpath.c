/* libFuzzer harness for urlpath.
 *
 * Input: a request target as a client sends it (REQUEST_URI or the request
 * line's target). The corpus (tests/fuzz/corpus/urlpath/) holds the attack
 * spellings and the unit-test table's rows.
 *
 * Invariants checked (abort on violation), for every input that normalises:
 *  - the path starts with '/', is valid UTF-8, has no NUL, control byte or '\',
 *    no "//", "/./", "/../", and does not end in "/." or "/..";
 *  - it is no longer than the raw path (or "/" for an empty one);
 *  - normalising it again gives itself when it has no '%' (a decoded '%' would
 *    be decoded again), and normalising its urlpath_encode'd form always does;
 *  - a path judged private under "/" for a root private name stays private
 *    however mounted at "/sub" when it starts with "/sub/" (the judgement only
 *    depends on the relative part), and urlpath_under agrees with is_private.
 */
#include "urlpath.h"
#include "fuzz_check.h"

#include <string.h>

static void check_path(const GString *p, gsize raw_len)
{
    CHECK(p->len >= 1 && p->str[0] == '/');
    CHECK(p->len <= MAX(raw_len, (gsize)1));
    CHECK(g_utf8_validate_len(p->str, p->len, NULL));
    for (gsize i = 0; i < p->len; i++) {
        unsigned char c = (unsigned char)p->str[i];
        CHECK(c >= 0x20 && c != 0x7f && c != '\\');
    }
    CHECK(!strstr(p->str, "//"));
    CHECK(!strstr(p->str, "/./"));
    CHECK(!strstr(p->str, "/../"));
    CHECK(!g_str_has_suffix(p->str, "/.") && !g_str_has_suffix(p->str, "/.."));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *target = (const char *)data;
    const char *path, *query;
    gsize plen, qlen;
    urlpath_split_target(target, size, &path, &plen, &query, &qlen);
    CHECK(path >= target && path + plen <= target + size);
    CHECK(!query || (query > target && query + qlen == target + size && query[-1] == '?'));

    GString *out = g_string_new(NULL), *again = g_string_new(NULL), *enc = g_string_new(NULL);
    urlpath_status st = urlpath_normalize(path, plen, out);
    CHECK(urlpath_strerror(st) != NULL);
    if (st == URLPATH_OK) {
        check_path(out, plen);
        if (!memchr(out->str, '%', out->len)) {
            CHECK(urlpath_normalize(out->str, out->len, again) == URLPATH_OK);
            CHECK(strcmp(again->str, out->str) == 0);
        }
        urlpath_encode(out->str, out->len, enc);
        CHECK(urlpath_normalize(enc->str, enc->len, again) == URLPATH_OK);
        CHECK(strcmp(again->str, out->str) == 0);

        gboolean dotted = strstr(out->str, "/.") != NULL;
        CHECK(!dotted || (urlpath_is_private(out->str, "/") && urlpath_is_private(out->str, "/sub")));
        const char *rel = urlpath_under(out->str, "/sub", FALSE);
        if (rel) {
            /* the same relative path under "/" is judged the same way */
            GString *alone = g_string_new("/");
            g_string_append(alone, rel);
            CHECK(urlpath_is_private(out->str, "/sub") == urlpath_is_private(alone->str, "/"));
            g_string_free(alone, TRUE);
        }
        CHECK(urlpath_under(out->str, "/", FALSE) == out->str + 1);
    }
    g_string_free(out, TRUE);
    g_string_free(again, TRUE);
    g_string_free(enc, TRUE);
    return 0;
}
