/* urlpath: see urlpath.h. */
#include "urlpath.h"

#include <string.h>

const char *urlpath_strerror(urlpath_status st)
{
    switch (st) {
    case URLPATH_OK:
        return "no error";
    case URLPATH_NOT_ABSOLUTE:
        return "the URL path does not start with '/'";
    case URLPATH_BAD_ESCAPE:
        return "the URL has a '%' not followed by two hex digits";
    case URLPATH_CONTROL:
        return "the URL path has a NUL or control character";
    case URLPATH_BAD_UTF8:
        return "the URL path is not valid UTF-8 once decoded";
    case URLPATH_DOT_SEGMENT:
        return "the URL path has a '.' or '..' segment";
    case URLPATH_INVALID_CHAR:
        return "the URL path has a ':' or '*', which ASP.NET refuses in a path";
    }
    return "the URL path is invalid";
}

/* "scheme:" at the start of target (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )) */
static gsize scheme_len(const char *t, gsize len)
{
    if (len == 0 || !g_ascii_isalpha(t[0]))
        return 0;
    for (gsize i = 1; i < len; i++) {
        if (t[i] == ':')
            return i;
        if (!g_ascii_isalnum(t[i]) && t[i] != '+' && t[i] != '-' && t[i] != '.')
            return 0;
    }
    return 0;
}

void urlpath_split_target(const char *target, gsize len, const char **path, gsize *path_len,
                          const char **query, gsize *query_len)
{
    const char *q = memchr(target, '?', len);
    gsize plen = q ? (gsize)(q - target) : len;
    *query = q ? q + 1 : NULL;
    *query_len = q ? len - plen - 1 : 0;
    gsize s = scheme_len(target, plen);
    if (s && plen >= s + 3 && target[s + 1] == '/' && target[s + 2] == '/') {
        /* absolute-form: the path starts at the first '/' after the authority */
        const char *auth = target + s + 3;
        const char *slash = memchr(auth, '/', plen - (s + 3));
        *path = slash ? slash : target + plen;
        *path_len = slash ? plen - (gsize)(slash - target) : 0;
        return;
    }
    *path = target;
    *path_len = plen;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Ends the segment out[seg..] : drops it if empty, refuses "." and "..". */
static urlpath_status end_segment(GString *out, gsize seg)
{
    gsize n = out->len - seg;
    const char *s = out->str + seg;
    if (n == 0) {
        g_string_truncate(out, seg - 1); /* "//": drop the slash just written */
        return URLPATH_OK;
    }
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return URLPATH_DOT_SEGMENT;
    return URLPATH_OK;
}

urlpath_status urlpath_normalize(const char *raw, gsize len, GString *out)
{
    g_string_truncate(out, 0);
    if (len == 0) {
        g_string_append_c(out, '/');
        return URLPATH_OK;
    }
    if (raw[0] != '/' && raw[0] != '\\')
        return URLPATH_NOT_ABSOLUTE;
    /* out is built segment by segment: "/seg/seg"; seg is where the current one starts */
    gsize seg = 0;
    gboolean trailing = FALSE;
    for (gsize i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval(raw[i + 1]) : -1;
            int lo = i + 2 < len ? hexval(raw[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return URLPATH_BAD_ESCAPE;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (c < 0x20 || c == 0x7f)
            return URLPATH_CONTROL;
        if (c == ':' || c == '*')
            return URLPATH_INVALID_CHAR;
        if (c == '/' || c == '\\') {
            if (seg) {
                urlpath_status st = end_segment(out, seg);
                if (st != URLPATH_OK)
                    return st;
            }
            g_string_append_c(out, '/');
            seg = out->len;
            trailing = TRUE;
            continue;
        }
        trailing = FALSE;
        g_string_append_c(out, (char)c);
    }
    urlpath_status st = end_segment(out, seg);
    if (st != URLPATH_OK)
        return st;
    /* end_segment dropped the last slash of a trailing "/" (or of "/" itself) */
    if (trailing || out->len == 0)
        g_string_append_c(out, '/');
    if (!g_utf8_validate_len(out->str, out->len, NULL))
        return URLPATH_BAD_UTF8;
    return URLPATH_OK;
}

const char *urlpath_under(const char *path, const char *mount, gboolean fold_case)
{
    gsize n = strlen(mount);
    if (n == 1 && mount[0] == '/')
        return path[0] == '/' ? path + 1 : NULL;
    if ((fold_case ? g_ascii_strncasecmp(path, mount, n) : strncmp(path, mount, n)) != 0)
        return NULL;
    if (path[n] == '\0')
        return path + n;
    return path[n] == '/' ? path + n + 1 : NULL;
}

static const char *const private_dirs[] = {
    "bin", "App_Code", "App_Data", "App_GlobalResources", "App_LocalResources",
    "App_WebReferences", "App_Browsers",
};

static gboolean seg_is(const char *s, gsize n, const char *name)
{
    return strlen(name) == n && g_ascii_strncasecmp(s, name, n) == 0;
}

gboolean urlpath_is_private(const char *path, const char *mount)
{
    if (strstr(path, "/."))
        return TRUE;
    const char *rel = urlpath_under(path, mount, TRUE);
    if (!rel)
        return FALSE;
    gboolean first = TRUE;
    while (*rel) {
        const char *slash = strchr(rel, '/');
        gsize n = slash ? (gsize)(slash - rel) : strlen(rel);
        if (first) {
            for (gsize i = 0; i < G_N_ELEMENTS(private_dirs); i++)
                if (seg_is(rel, n, private_dirs[i]))
                    return TRUE;
        } else if (seg_is(rel, n, "App_LocalResources")) {
            return TRUE;
        }
        first = FALSE;
        rel += n + (slash ? 1 : 0);
    }
    return FALSE;
}

gboolean urlpath_session_views(const char *path, const char *mount, urlpath_view_fn fn, void *ud)
{
    /* Mono 6.8, SessionStateModule.OnBeginRequest: D = the FilePath's directory
     * (up to its last '/'); UrlUtils.GetSessionId(D) drops the application's
     * virtual path (by length) and wants "/(" then ')' at offset 26 of the rest,
     * 27 bytes at least; UrlUtils.RemoveSessionId(D, FilePath) keeps D up to its
     * first "/(" (its '/'), then, when D's first ")/" is not at D's very end,
     * what follows that ")/", then the FilePath's file name. */
    if (!urlpath_under(path, mount, TRUE))
        return FALSE;
    gsize m = (mount[0] == '/' && mount[1] == '\0') ? 0 : strlen(mount);
    gsize n = strlen(path);
    if (n < m + 28 || path[m] != '/' || path[m + 1] != '(' || path[m + 26] != ')')
        return FALSE;
    gsize i = (gsize)(strstr(path, "/(") - path); /* found: path[m] at the latest */
    const char *jp = strstr(path, ")/");
    gsize j = jp ? (gsize)(jp - path) : 0;
    GString *v = g_string_sized_new(n);
    gboolean stop = FALSE;
    /* FilePaths whose directory D (= path[0..s), s after a '/') reaches past
     * the first ")/": path[0..i] + path[j+2..k], k the FilePath's end. The
     * whole path gives the longest; the others are its prefixes. */
    gsize last = (gsize)(strrchr(path, '/') - path) + 1;
    if (jp && last >= m + 28 && last > j + 2) {
        g_string_append_len(v, path, (gssize)i + 1);
        g_string_append(v, path + j + 2);
        stop = fn(v->str, ud);
    }
    /* FilePaths whose directory does not (or no ")/" at all): path[0..i] + the
     * FilePath's file name, for every segment starting at s >= m + 28 */
    for (gsize s = m + 28; !stop && s <= n; s++) {
        if (path[s - 1] != '/')
            continue;
        if (jp && s > j + 2)
            break;
        const char *end = strchr(path + s, '/');
        g_string_truncate(v, 0);
        g_string_append_len(v, path, (gssize)i + 1);
        g_string_append_len(v, path + s, end ? end - (path + s) : (gssize)(n - s));
        stop = fn(v->str, ud);
    }
    g_string_free(v, TRUE);
    return stop;
}

void urlpath_encode(const char *s, gsize len, GString *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (gsize i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (g_ascii_isalnum(c) || (c && strchr("-._~/!$&'()*+,;=:@", c))) {
            g_string_append_c(out, (char)c);
        } else {
            g_string_append_c(out, '%');
            g_string_append_c(out, hex[c >> 4]);
            g_string_append_c(out, hex[c & 15]);
        }
    }
}
