/* Unit tests for urlpath: decoding, collapsing and refusing URL paths, and the
 * private-path rule. The attack tables spell each leaking path in every way a
 * client can (escapes in either case, %2F and backslashes as separators,
 * doubled slashes, letter case) and check that all of them give the same
 * normalised path, judged private. */
#include "urlpath.h"

#include <string.h>

typedef struct {
    const char *raw;
    urlpath_status want;
    const char *out; /* on URLPATH_OK */
} norm_case;

static const norm_case norm_cases[] = {
    { "", URLPATH_OK, "/" },
    { "/", URLPATH_OK, "/" },
    { "//", URLPATH_OK, "/" },
    { "///", URLPATH_OK, "/" },
    { "/page.aspx", URLPATH_OK, "/page.aspx" },
    { "/dir/", URLPATH_OK, "/dir/" },
    { "/dir//", URLPATH_OK, "/dir/" },
    { "//bin/x.dll", URLPATH_OK, "/bin/x.dll" },
    { "///bin///x.dll", URLPATH_OK, "/bin/x.dll" },
    { "/%2fbin/x", URLPATH_OK, "/bin/x" },
    { "/%2Fbin/x", URLPATH_OK, "/bin/x" },
    { "/sub%2fbin/x", URLPATH_OK, "/sub/bin/x" },
    { "/sub%2F%2Fbin/x", URLPATH_OK, "/sub/bin/x" },
    { "/a\\b", URLPATH_OK, "/a/b" },
    { "/a%5cb", URLPATH_OK, "/a/b" },
    { "/a%5Cb%5C", URLPATH_OK, "/a/b/" },
    { "\\bin\\x", URLPATH_OK, "/bin/x" },
    { "/%73ub/x", URLPATH_OK, "/sub/x" },
    { "/caf%C3%A9.aspx", URLPATH_OK, "/caf\xc3\xa9.aspx" },
    { "/caf%c3%a9.aspx", URLPATH_OK, "/caf\xc3\xa9.aspx" },
    { "/caf\xc3\xa9.aspx", URLPATH_OK, "/caf\xc3\xa9.aspx" },
    { "/my%20page.aspx", URLPATH_OK, "/my page.aspx" },
    { "/a+b", URLPATH_OK, "/a+b" },
    { "/a%2Bb", URLPATH_OK, "/a+b" },
    { "/100%25", URLPATH_OK, "/100%" },
    { "/%2525", URLPATH_OK, "/%25" },
    { "/...", URLPATH_OK, "/..." },
    { "/.hidden", URLPATH_OK, "/.hidden" },
    { "/a..b/c.", URLPATH_OK, "/a..b/c." },
    { "/%F0%9F%98%80", URLPATH_OK, "/\xf0\x9f\x98\x80" },
    { "/ok#frag", URLPATH_OK, "/ok#frag" },
    /* dot segments, however spelled */
    { "/.", URLPATH_DOT_SEGMENT, NULL },
    { "/..", URLPATH_DOT_SEGMENT, NULL },
    { "/./x", URLPATH_DOT_SEGMENT, NULL },
    { "/../x", URLPATH_DOT_SEGMENT, NULL },
    { "/a/..", URLPATH_DOT_SEGMENT, NULL },
    { "/a/../", URLPATH_DOT_SEGMENT, NULL },
    { "/a/./", URLPATH_DOT_SEGMENT, NULL },
    { "/%2e/x", URLPATH_DOT_SEGMENT, NULL },
    { "/%2E%2E/x", URLPATH_DOT_SEGMENT, NULL },
    { "/.%2e/x", URLPATH_DOT_SEGMENT, NULL },
    { "/%2e./x", URLPATH_DOT_SEGMENT, NULL },
    { "/.%2E", URLPATH_DOT_SEGMENT, NULL },
    { "/a%2f..%2fweb.config", URLPATH_DOT_SEGMENT, NULL },
    { "/a%2F%2e%2e%2Fweb.config", URLPATH_DOT_SEGMENT, NULL },
    { "/a\\..\\web.config", URLPATH_DOT_SEGMENT, NULL },
    { "/a%5c..%5cweb.config", URLPATH_DOT_SEGMENT, NULL },
    { "/page.aspx/../web.config", URLPATH_DOT_SEGMENT, NULL },
    { "//..//x", URLPATH_DOT_SEGMENT, NULL },
    /* escapes */
    { "/a%", URLPATH_BAD_ESCAPE, NULL },
    { "/a%4", URLPATH_BAD_ESCAPE, NULL },
    { "/a%zz", URLPATH_BAD_ESCAPE, NULL },
    { "/a%g1", URLPATH_BAD_ESCAPE, NULL },
    { "/a%%41", URLPATH_BAD_ESCAPE, NULL },
    /* control bytes, raw or decoded */
    { "/a%00b", URLPATH_CONTROL, NULL },
    { "/a%0d%0aX: y", URLPATH_CONTROL, NULL },
    { "/a%09", URLPATH_CONTROL, NULL },
    { "/a%7f", URLPATH_CONTROL, NULL },
    { "/a%1F", URLPATH_CONTROL, NULL },
    { "/a\tb", URLPATH_CONTROL, NULL },
    { "/a\x7f", URLPATH_CONTROL, NULL },
    /* invalid UTF-8 */
    { "/%C3", URLPATH_BAD_UTF8, NULL },
    { "/%C3%28", URLPATH_BAD_UTF8, NULL },
    { "/%FF", URLPATH_BAD_UTF8, NULL },
    { "/%C0%AE%C0%AE/x", URLPATH_BAD_UTF8, NULL }, /* overlong "..": must not become ".." */
    { "/%C0%AF", URLPATH_BAD_UTF8, NULL },         /* overlong "/" */
    { "/%E0%80%AF", URLPATH_BAD_UTF8, NULL },
    { "/%ED%A0%80", URLPATH_BAD_UTF8, NULL },      /* a surrogate */
    { "/\xc3", URLPATH_BAD_UTF8, NULL },
    { "/\xff", URLPATH_BAD_UTF8, NULL },
    /* what Mono refuses in a virtual path (':' and '*'), raw or decoded */
    { "/bin*/x", URLPATH_INVALID_CHAR, NULL },
    { "/x::$DATA/y", URLPATH_INVALID_CHAR, NULL },
    { "/page.aspx:x", URLPATH_INVALID_CHAR, NULL },
    { "/Home/Index/a:b", URLPATH_INVALID_CHAR, NULL },
    { "/a%3Ab", URLPATH_INVALID_CHAR, NULL },
    { "/a%3ab", URLPATH_INVALID_CHAR, NULL },
    { "/a%2Ab", URLPATH_INVALID_CHAR, NULL },
    { "/a%2a", URLPATH_INVALID_CHAR, NULL },
    /* not a path */
    { "*", URLPATH_NOT_ABSOLUTE, NULL },
    { "x/y", URLPATH_NOT_ABSOLUTE, NULL },
    { "%2Fx", URLPATH_NOT_ABSOLUTE, NULL },
};

static void test_normalize(gconstpointer data)
{
    const norm_case *nc = data;
    GString *out = g_string_new("junk");
    urlpath_status st = urlpath_normalize(nc->raw, strlen(nc->raw), out);
    g_assert_cmpstr(urlpath_strerror(st), ==, urlpath_strerror(nc->want));
    if (nc->want == URLPATH_OK)
        g_assert_cmpstr(out->str, ==, nc->out);
    g_string_free(out, TRUE);
}

/* "/a\0b" with an explicit length: a raw NUL is refused too. */
static void test_raw_nul(void)
{
    GString *out = g_string_new(NULL);
    g_assert_cmpint(urlpath_normalize("/a\0b", 4, out), ==, URLPATH_CONTROL);
    g_string_free(out, TRUE);
}

typedef struct {
    const char *target;
    const char *path, *query; /* query NULL: none */
} split_case;

static const split_case split_cases[] = {
    { "/a/b", "/a/b", NULL },
    { "/a/b?", "/a/b", "" },
    { "/a/b?x=1?y", "/a/b", "x=1?y" },
    { "", "", NULL },
    { "http://example.org/a/b?q", "/a/b", "q" },
    { "HTTPS://example.org:8443/a", "/a", NULL },
    { "http://example.org", "", NULL },
    { "http://example.org?q=1", "", "q=1" },
    { "//host/x", "//host/x", NULL },    /* origin-form with an empty first segment */
    { "/x?http://y/z", "/x", "http://y/z" },
    { "*", "*", NULL },
};

static void test_split(gconstpointer data)
{
    const split_case *sc = data;
    const char *path, *query;
    gsize plen, qlen;
    urlpath_split_target(sc->target, strlen(sc->target), &path, &plen, &query, &qlen);
    char *p = g_strndup(path, plen);
    g_assert_cmpstr(p, ==, sc->path);
    g_free(p);
    if (!sc->query) {
        g_assert_null(query);
    } else {
        char *q = g_strndup(query, qlen);
        g_assert_cmpstr(q, ==, sc->query);
        g_free(q);
    }
}

typedef struct {
    const char *path, *mount;
    gboolean priv;
} private_case;

static const private_case private_cases[] = {
    { "/bin/x.dll", "/", TRUE },
    { "/bin", "/", TRUE },
    { "/bin/", "/", TRUE },
    { "/BIN/x", "/", TRUE },
    { "/Bin/x", "/", TRUE },
    { "/App_Code/a.cs", "/", TRUE },
    { "/app_code/a.cs", "/", TRUE },
    { "/App_Data/db.mdf", "/", TRUE },
    { "/APP_DATA/db.mdf", "/", TRUE },
    { "/App_GlobalResources/r.resx", "/", TRUE },
    { "/App_LocalResources/r.resx", "/", TRUE },
    { "/dir/App_LocalResources/r.resx", "/", TRUE },
    { "/dir/deeper/app_localresources/r.resx", "/", TRUE },
    { "/App_WebReferences/x.wsdl", "/", TRUE },
    { "/App_Browsers/x.browser", "/", TRUE },
    { "/.git/config", "/", TRUE },
    { "/.env", "/", TRUE },
    { "/dir/.htpasswd", "/", TRUE },
    { "/page.aspx/.info", "/", TRUE },
    { "/sub/bin/x", "/sub", TRUE },
    { "/sub/App_Data/x", "/sub", TRUE },
    { "/sub/.git/x", "/sub", TRUE },
    { "/sub/x/.env", "/sub", TRUE },
    { "/x/.env", "/sub", TRUE },
    { "/SUB/bin/x", "/sub", TRUE },         /* the mount in any case */
    { "/Sub/App_Data/x", "/sub", TRUE },  /* dot segments are private anywhere */
    /* not private */
    { "/", "/", FALSE },
    { "/page.aspx", "/", FALSE },
    { "/binder.aspx", "/", FALSE },
    { "/bin.aspx", "/", FALSE },
    { "/App_Themes/site.css", "/", FALSE },
    { "/App_Data2/x", "/", FALSE },
    { "/dir/bin/x.txt", "/", FALSE },       /* only at the application's root */
    { "/dir/App_Data/x", "/", FALSE },
    { "/sub/x", "/sub", FALSE },
    { "/sub", "/sub", FALSE },
    { "/sub/", "/sub", FALSE },
    { "/bin/x", "/sub", FALSE },            /* not under the mount: not its bin */
    { "/subbin/x", "/sub", FALSE },
    { "/a.b/c..d/e.", "/", FALSE },
};

static void test_private(gconstpointer data)
{
    const private_case *pc = data;
    g_assert_cmpint(urlpath_is_private(pc->path, pc->mount), ==, pc->priv);
}

static void test_under(void)
{
    g_assert_cmpstr(urlpath_under("/x/y", "/", FALSE), ==, "x/y");
    g_assert_cmpstr(urlpath_under("/", "/", FALSE), ==, "");
    g_assert_cmpstr(urlpath_under("/sub", "/sub", FALSE), ==, "");
    g_assert_cmpstr(urlpath_under("/sub/", "/sub", FALSE), ==, "");
    g_assert_cmpstr(urlpath_under("/sub/a", "/sub", FALSE), ==, "a");
    g_assert_null(urlpath_under("/subway", "/sub", FALSE));
    g_assert_null(urlpath_under("/su", "/sub", FALSE));
    g_assert_null(urlpath_under("/SUB/a", "/sub", FALSE));
    g_assert_cmpstr(urlpath_under("/SUB/a", "/sub", TRUE), ==, "a");
    g_assert_cmpstr(urlpath_under("/a/b/c", "/a/b", FALSE), ==, "c");
}

/* ---- every spelling of the attacks ---- */

/* Spellings of one character: itself, %XX, %xx, and (letters) the other case. */
static GPtrArray *spellings_of_char(char c, gboolean fold_case)
{
    GPtrArray *v = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(v, g_strdup_printf("%c", c));
    g_ptr_array_add(v, g_strdup_printf("%%%02X", (unsigned char)c));
    g_ptr_array_add(v, g_strdup_printf("%%%02x", (unsigned char)c));
    if (fold_case && g_ascii_isalpha(c)) {
        char o = g_ascii_isupper(c) ? g_ascii_tolower(c) : g_ascii_toupper(c);
        g_ptr_array_add(v, g_strdup_printf("%c", o));
        g_ptr_array_add(v, g_strdup_printf("%%%02X", (unsigned char)o));
    }
    return v;
}

/* Separators a client can write for the '/' between two segments. */
static const char *const separators[] = { "/", "//", "///", "%2f", "%2F", "/%2F", "%2F/", "\\", "%5c", "%5C", "/\\" };

/* Spellings of a segment: for up to 4 characters every combination of the
 * spellings of its characters; for longer ones each character's spellings
 * with the others literal, plus the whole segment in each spelling. */
static GPtrArray *spellings_of_segment(const char *segment, gboolean fold_case)
{
    gsize n = strlen(segment);
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GPtrArray **sp = g_new0(GPtrArray *, n);
    for (gsize i = 0; i < n; i++)
        sp[i] = spellings_of_char(segment[i], fold_case);
    if (n <= 4) {
        gsize *idx = g_new0(gsize, n);
        for (;;) {
            GString *s = g_string_new(NULL);
            for (gsize i = 0; i < n; i++)
                g_string_append(s, g_ptr_array_index(sp[i], idx[i]));
            g_ptr_array_add(out, g_string_free(s, FALSE));
            gsize i = 0;
            while (i < n && ++idx[i] == sp[i]->len)
                idx[i++] = 0;
            if (i == n)
                break;
        }
        g_free(idx);
    } else {
        for (gsize i = 0; i < n; i++)
            for (guint k = 0; k < sp[i]->len; k++) {
                GString *s = g_string_new_len(segment, (gssize)i);
                g_string_append(s, g_ptr_array_index(sp[i], k));
                g_string_append(s, segment + i + 1);
                g_ptr_array_add(out, g_string_free(s, FALSE));
            }
        for (guint k = 1; k < 5; k++) { /* %XX, %xx, other case, other case %XX */
            GString *s = g_string_new(NULL);
            for (gsize i = 0; i < n; i++)
                g_string_append(s, g_ptr_array_index(sp[i], MIN(k, sp[i]->len - 1)));
            g_ptr_array_add(out, g_string_free(s, FALSE));
        }
    }
    for (gsize i = 0; i < n; i++)
        g_ptr_array_unref(sp[i]);
    g_free(sp);
    return out;
}

/* Every spelling of `segment` times every separator before and after it,
 * inside prefix...suffix (an empty prefix still starts with a literal '/'):
 * each must normalise to want (up to letter case) and be judged private for
 * mount. Returns how many were checked. */
static guint check_spellings(const char *prefix, const char *segment, gboolean fold_case, const char *suffix,
                             const char *want, const char *mount)
{
    GPtrArray *segs = spellings_of_segment(segment, fold_case);
    guint checked = 0;
    GString *raw = g_string_new(NULL), *out = g_string_new(NULL);
    for (guint k = 0; k < segs->len; k++) {
        for (gsize a = 0; a < G_N_ELEMENTS(separators); a++) {
            for (gsize b = 0; b < G_N_ELEMENTS(separators); b++) {
                g_string_assign(raw, *prefix ? prefix : "/");
                g_string_append(raw, separators[a]);
                g_string_append(raw, g_ptr_array_index(segs, k));
                g_string_append(raw, separators[b]);
                g_string_append(raw, suffix);
                urlpath_status st = urlpath_normalize(raw->str, raw->len, out);
                if (st != URLPATH_OK || !urlpath_is_private(out->str, mount) ||
                    g_ascii_strcasecmp(out->str, want) != 0)
                    g_error("%s: %s -> %s (private: %d), want %s", raw->str, urlpath_strerror(st), out->str,
                            urlpath_is_private(out->str, mount), want);
                checked++;
            }
        }
    }
    g_ptr_array_unref(segs);
    g_string_free(raw, TRUE);
    g_string_free(out, TRUE);
    return checked;
}

static void test_attack_spellings(void)
{
    guint n = 0;
    /* bin/ and App_Data/ of the application at / */
    n += check_spellings("", "bin", TRUE, "secret.txt", "/bin/secret.txt", "/");
    n += check_spellings("", "App_Data", TRUE, "data.txt", "/App_Data/data.txt", "/");
    n += check_spellings("", "App_Code", TRUE, "Helper.cs", "/App_Code/Helper.cs", "/");
    /* the nested application's bin/ through its mount, however /sub is spelled */
    n += check_spellings("", "sub", FALSE, "bin/secret.txt", "/sub/bin/secret.txt", "/sub");
    n += check_spellings("/sub", "bin", TRUE, "secret.txt", "/sub/bin/secret.txt", "/sub");
    /* dot files anywhere */
    n += check_spellings("", ".git", FALSE, "config", "/.git/config", "/");
    n += check_spellings("/dir", ".htpasswd", FALSE, "", "/dir/.htpasswd/", "/");
    g_test_message("%u spellings checked", n);
    g_assert_cmpuint(n, >, 10000);
}

/* Every spelling of a dot segment between two names is refused. */
static void test_dot_spellings(void)
{
    static const char *const dots[] = { ".", "%2e", "%2E" };
    GString *raw = g_string_new(NULL), *out = g_string_new(NULL);
    for (gsize a = 0; a < G_N_ELEMENTS(separators); a++)
        for (gsize b = 0; b < G_N_ELEMENTS(separators); b++)
            for (gsize d1 = 0; d1 < 3; d1++)
                for (gsize d2 = 0; d2 <= 3; d2++) { /* d2 == 3: a single dot */
                    g_string_printf(raw, "/dir%s%s%s%sweb.config", separators[a], dots[d1],
                                    d2 < 3 ? dots[d2] : "", separators[b]);
                    g_assert_cmpint(urlpath_normalize(raw->str, raw->len, out), ==, URLPATH_DOT_SEGMENT);
                }
    g_string_free(raw, TRUE);
    g_string_free(out, TRUE);
}

/* ---- cookieless-session views ---- */

#define SID "(AAAAAAAAAAAAAAAAAAAAAAAA)" /* "(" + 24 + ")" */

typedef struct {
    const char *path, *mount;
    const char *views; /* what urlpath_session_views gives, joined by '|' ("" for none) */
} views_case;

/* Each row checked against Mono 6.8 (SessionStateModule on an application at mount) */
static const views_case views_cases[] = {
    { "/" SID "/bin/App.dll.config", "/", "/bin/App.dll.config|/bin" },
    { "/" SID "/App_Data/x", "/", "/App_Data/x|/App_Data" },
    { "/sub/" SID "/bin/x", "/sub", "/sub/bin/x|/sub/bin" },
    { "/SUB/" SID "/bin/x", "/sub", "/SUB/bin/x|/SUB/bin" },   /* the mount in any case */
    { "/" SID "/sub/bin/x", "/", "/sub/bin/x|/sub" },
    { "/" SID "/page.aspx", "/", "/page.aspx" },
    { "/" SID "/", "/", "/" },
    { "/" SID "/dir/", "/", "/dir/|/dir" },
    /* the 24 characters are anything, '/' and ')' included: the strip runs from
     * the first "/(" to the first ")/" */
    { "/()/bin/AAAAAAAAAAAAAAAAAA)/secret.txt", "/", "/bin/AAAAAAAAAAAAAAAAAA)/secret.txt" },
    { "/(a/b/cccccccccccccccccccc)/bin/x", "/", "/bin/x|/bin" },
    /* no ")/" in the directory: the file name alone is kept after "/" */
    { "/" SID "x/bin/Hi.txt", "/", "/bin|/Hi.txt" },
    /* not a session id where Mono looks for one */
    { "/" SID, "/", "" },                       /* no directory after it */
    { "/" SID "/x", "/sub", "" },               /* not under the mount */
    { "/sub/" SID "/bin/x", "/", "" },         /* "(" not right under "/" */
    { "/(AAAAAAAAAAAAAAAAAAAAAAA)/bin/x", "/", "" },  /* 23 characters */
    { "/(AAAAAAAAAAAAAAAAAAAAAAAAA)/bin/x", "/", "" }, /* 25 characters */
    { "/docs/bin/x", "/", "" },
};

static gboolean collect_view(const char *view, void *ud)
{
    GString *all = ud;
    if (all->len)
        g_string_append_c(all, '|');
    g_string_append(all, view);
    return FALSE;
}

static void test_session_views(gconstpointer data)
{
    const views_case *vc = data;
    GString *all = g_string_new(NULL);
    g_assert_false(urlpath_session_views(vc->path, vc->mount, collect_view, all));
    g_assert_cmpstr(all->str, ==, vc->views);
    g_string_free(all, TRUE);
}

static gboolean stop_at_first(const char *view, void *ud)
{
    (void)view;
    (*(int *)ud)++;
    return TRUE;
}

static void test_session_views_stop(void)
{
    int calls = 0;
    g_assert_true(urlpath_session_views("/" SID "/bin/x", "/", stop_at_first, &calls));
    g_assert_cmpint(calls, ==, 1);
}

static void test_encode(void)
{
    GString *out = g_string_new(NULL);
    const char *s = "/caf\xc3\xa9 x/what?#%+&=";
    urlpath_encode(s, strlen(s), out);
    g_assert_cmpstr(out->str, ==, "/caf%C3%A9%20x/what%3F%23%25+&=");
    /* the encoded form normalises back to the decoded one */
    GString *back = g_string_new(NULL);
    g_assert_cmpint(urlpath_normalize(out->str, out->len, back), ==, URLPATH_OK);
    g_assert_cmpstr(back->str, ==, s);
    g_string_free(back, TRUE);
    g_string_free(out, TRUE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(norm_cases); i++) {
        char *name = g_strescape(norm_cases[i].raw, NULL);
        g_strdelimit(name, "/", '|'); /* a test path has no empty segments */
        char *path = g_strdup_printf("/urlpath/normalize/%zu:%s", i, name);
        g_test_add_data_func(path, &norm_cases[i], test_normalize);
        g_free(path);
        g_free(name);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(split_cases); i++) {
        char *path = g_strdup_printf("/urlpath/split/%zu", i);
        g_test_add_data_func(path, &split_cases[i], test_split);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(private_cases); i++) {
        char *path = g_strdup_printf("/urlpath/private/%zu", i);
        g_test_add_data_func(path, &private_cases[i], test_private);
        g_free(path);
    }
    g_test_add_func("/urlpath/raw-nul", test_raw_nul);
    g_test_add_func("/urlpath/under", test_under);
    g_test_add_func("/urlpath/attack-spellings", test_attack_spellings);
    g_test_add_func("/urlpath/dot-spellings", test_dot_spellings);
    g_test_add_func("/urlpath/encode", test_encode);
    for (gsize i = 0; i < G_N_ELEMENTS(views_cases); i++) {
        char *path = g_strdup_printf("/urlpath/session-views/%zu", i);
        g_test_add_data_func(path, &views_cases[i], test_session_views);
        g_free(path);
    }
    g_test_add_func("/urlpath/session-views-stop", test_session_views_stop);
    return g_test_run();
}
