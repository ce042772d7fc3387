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
 *  - it has no ':' or '*' (Mono's invalid virtual-path characters);
 *  - every cookieless-session view (urlpath_session_views, mounts "/" and
 *    "/sub") starts with '/', has no "//", is no longer than the path and is
 *    made of the path's own segments (a strip never forms a new segment, so
 *    never a new dot segment); there is one exactly when the path has "/("
 *    right under the mount, ')' 25 bytes later and a '/' after that;
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
    CHECK(!memchr(p->str, ':', p->len) && !memchr(p->str, '*', p->len));
}

typedef struct {
    const char *path;
    int views;
} view_ctx;

/* segment [s, s+n) of a view is one of path's segments */
static gboolean is_segment_of(const char *path, const char *s, gsize n)
{
    for (const char *p = path; (p = strchr(p, '/')); p++) {
        const char *seg = p + 1, *end = strchr(seg, '/');
        gsize len = end ? (gsize)(end - seg) : strlen(seg);
        if (len == n && memcmp(seg, s, n) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean check_view(const char *view, void *ud)
{
    view_ctx *vc = ud;
    vc->views++;
    CHECK(view[0] == '/');
    CHECK(!strstr(view, "//"));
    CHECK(strlen(view) <= strlen(vc->path));
    for (const char *p = view; (p = strchr(p, '/')); p++) {
        const char *seg = p + 1, *end = strchr(seg, '/');
        gsize len = end ? (gsize)(end - seg) : strlen(seg);
        CHECK(len == 0 || is_segment_of(vc->path, seg, len));
    }
    return FALSE;
}

static void check_views(const char *path, const char *mount)
{
    view_ctx vc = { path, 0 };
    CHECK(!urlpath_session_views(path, mount, check_view, &vc));
    const char *rel = urlpath_under(path, mount, TRUE);
    gsize m = strcmp(mount, "/") == 0 ? 0 : strlen(mount), n = strlen(path);
    gboolean looks = rel && n >= m + 28 && path[m + 1] == '(' && path[m + 26] == ')' &&
                     strchr(path + m + 27, '/') != NULL;
    CHECK((vc.views > 0) == looks);
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
        check_views(out->str, "/");
        check_views(out->str, "/sub");
    }
    g_string_free(out, TRUE);
    g_string_free(again, TRUE);
    g_string_free(enc, TRUE);
    return 0;
}
