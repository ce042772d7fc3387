/* Unit tests for confcheck (confcheck.h): web.config well-formedness with the
 * line of the first error, and the application directory checks. */
#include "confcheck.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static confcheck_xml_result judge(const char *text, int *line, int *col, char **msg)
{
    return confcheck_xml(text, strlen(text), line, col, msg);
}

static void ok(const char *text)
{
    char *msg = NULL;
    int line = 0, col = 0;
    confcheck_xml_result r = judge(text, &line, &col, &msg);
    if (r == CONFCHECK_XML_BAD)
        g_test_message("unexpected error %d:%d: %s", line, col, msg);
    g_assert_cmpint(r, ==, CONFCHECK_XML_OK);
    g_assert_null(msg);
}

static void bad(const char *text, int want_line)
{
    char *msg = NULL;
    int line = 0, col = 0;
    g_assert_cmpint(judge(text, &line, &col, &msg), ==, CONFCHECK_XML_BAD);
    g_assert_nonnull(msg);
    g_assert_cmpint(line, ==, want_line);
    g_assert_cmpint(col, >=, 1);
    g_free(msg);
}

static void test_good(void)
{
    ok("<configuration/>");
    ok("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- a comment -->\n<configuration>\n"
       "  <system.web><compilation debug=\"true\" /></system.web>\n</configuration>\n");
    ok("\xef\xbb\xbf<?xml version=\"1.0\"?><configuration><![CDATA[ <x> & ]]></configuration>");
    ok("<configuration><a b='&lt;&#65;&#x42;&amp;'/></configuration>");
    ok("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><configuration a=\"\xe9t\xe9\"/>");
    ok("<?xml version='1.0' encoding='UTF-16'?><configuration/>");
}

static void test_bad_lines(void)
{
    bad("<configuration>\n  <system.web>\n  </system.wbe>\n</configuration>\n", 3);
    bad("<configuration>\n<a b=\"1\" b2=unquoted/>\n</configuration>", 2);
    bad("<configuration>\n\n\n", 4);
    bad("", 1);
    bad("<a/>\n<b/>", 2);
    bad("<configuration>\n &nbsp;\n</configuration>", 2);
    bad("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a>\xff\xfe</a>", 2);
}

static void test_unjudged(void)
{
    char *msg = NULL;
    /* a DTD may declare &nbsp;: GMarkup cannot tell, so no error */
    g_assert_cmpint(judge("<!DOCTYPE c [<!ENTITY nbsp \"&#160;\">]><c>&nbsp;</c>", NULL, NULL, &msg), ==,
                    CONFCHECK_XML_UNJUDGED);
    g_assert_nonnull(msg);
    g_free(msg);
    g_assert_cmpint(judge("<?xml version=\"1.0\" encoding=\"x-no-such-charset\"?><c/>", NULL, NULL, NULL), ==,
                    CONFCHECK_XML_UNJUDGED);
}

static void test_utf16(void)
{
    const char *src = "<configuration>\n<a>\n</b>\n</configuration>";
    gsize n = 0;
    char *u = g_convert(src, -1, "UTF-16LE", "UTF-8", NULL, &n, NULL);
    char *buf = g_malloc(n + 2);
    buf[0] = '\xff';
    buf[1] = '\xfe';
    memcpy(buf + 2, u, n);
    int line = 0;
    g_assert_cmpint(confcheck_xml(buf, n + 2, &line, NULL, NULL), ==, CONFCHECK_XML_BAD);
    g_assert_cmpint(line, ==, 3);
    g_free(u);
    g_free(buf);
}

/* Every web.config the project ships passes (the build's copy of the MVC sample too). */
static void test_shipped_files(void)
{
    const char *files[] = { "samples/hello/web.config", "samples/mvc/web.config", "samples/mvc/Views/web.config",
                            "samples/mvc/Areas/Admin/Views/web.config", "tests/integration/apps/faults/web.config",
                            "tests/integration/apps/changes/web.config", "tests/integration/apps/framing/web.config",
                            "tests/integration/apps/warmup/web.config" };
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        char *data = NULL;
        gsize len = 0;
        if (!g_file_get_contents(files[i], &data, &len, NULL)) {
            g_test_message("%s: not found (run from the repository root)", files[i]);
            g_test_fail();
            continue;
        }
        int line = 0, col = 0;
        char *msg = NULL;
        confcheck_xml_result r = confcheck_xml(data, len, &line, &col, &msg);
        if (r != CONFCHECK_XML_OK)
            g_test_message("%s:%d:%d: %s", files[i], line, col, msg);
        g_assert_cmpint(r, ==, CONFCHECK_XML_OK);
        g_free(data);
    }
}

static app_spec *app(const char *name, const char *path)
{
    app_spec *a = g_new0(app_spec, 1);
    a->name = g_strdup(name);
    a->vpath = g_strdup("/");
    a->path = g_strdup(path);
    return a;
}

static void test_directories(void)
{
    char *dir = g_dir_make_tmp("confcheck-XXXXXX", NULL);
    char *good = g_build_filename(dir, "good", NULL);
    char *broken = g_build_filename(dir, "broken", NULL);
    char *file = g_build_filename(dir, "file", NULL);
    char *missing = g_build_filename(dir, "missing", NULL);
    char *bw = g_build_filename(broken, "web.config", NULL);
    char *gw = g_build_filename(good, "web.config", NULL);
    g_assert_cmpint(mkdir(good, 0755), ==, 0);
    g_assert_cmpint(mkdir(broken, 0755), ==, 0);
    g_assert_true(g_file_set_contents(gw, "<configuration/>", -1, NULL));
    g_assert_true(g_file_set_contents(bw, "<configuration>\n<x>\n</configuration>", -1, NULL));
    g_assert_true(g_file_set_contents(file, "", -1, NULL));

    config c = { 0 };
    c.apps = g_ptr_array_new_with_free_func((GDestroyNotify)app_spec_free);
    g_ptr_array_add(c.apps, app("good", good));
    GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
    g_assert_cmpuint(confcheck_config(&c, p), ==, 0);
    g_ptr_array_add(c.apps, app("broken", broken));
    g_ptr_array_add(c.apps, app("file", file));
    g_ptr_array_add(c.apps, app("missing", missing));
    g_assert_cmpuint(confcheck_config(&c, p), ==, 3);
    g_assert_cmpuint(p->len, ==, 3);
    g_assert_nonnull(strstr(p->pdata[0], "app:broken"));
    g_assert_nonnull(strstr(p->pdata[0], "web.config:3:"));
    g_assert_nonnull(strstr(p->pdata[1], "app:file"));
    g_assert_nonnull(strstr(p->pdata[1], "not a directory"));
    g_assert_nonnull(strstr(p->pdata[2], "app:missing"));
    g_assert_nonnull(strstr(p->pdata[2], "No such file"));

    g_ptr_array_unref(p);
    g_ptr_array_unref(c.apps);
    unlink(gw);
    unlink(bw);
    unlink(file);
    rmdir(good);
    rmdir(broken);
    rmdir(dir);
    g_free(gw);
    g_free(bw);
    g_free(good);
    g_free(broken);
    g_free(file);
    g_free(missing);
    g_free(dir);
}

/* The account rules (privs.h): an unknown user or group is a problem; as
 * root, no user needs allow_root; as another user, user must be that one. */
static void test_accounts(void)
{
    config c = { 0 };
    c.apps = g_ptr_array_new();
    GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
    g_unsetenv("SCGI_MONO_ALLOW_ROOT");
    c.user = g_strdup("no-such-user-scgi-mono");
    g_assert_cmpuint(confcheck_config(&c, p), ==, 1);
    g_assert_nonnull(strstr(p->pdata[0], "user \"no-such-user-scgi-mono\": no such user"));
    g_ptr_array_set_size(p, 0);
    g_free(c.user);
    c.user = g_strdup(g_get_user_name());
    c.group = g_strdup("no-such-group-scgi-mono");
    g_assert_cmpuint(confcheck_config(&c, p), ==, 1);
    g_assert_nonnull(strstr(p->pdata[0], "group \"no-such-group-scgi-mono\": no such group"));
    g_ptr_array_set_size(p, 0);
    g_clear_pointer(&c.group, g_free);
    g_assert_cmpuint(confcheck_config(&c, p), ==, geteuid() == 0 ? 1 : 0); /* root as user needs allow_root */
    g_ptr_array_set_size(p, 0);
    g_clear_pointer(&c.user, g_free);
    if (geteuid() == 0) {
        g_assert_cmpuint(confcheck_config(&c, p), ==, 1);
        g_assert_nonnull(strstr(p->pdata[0], "started as root with no user"));
        g_ptr_array_set_size(p, 0);
        c.allow_root = TRUE;
        g_assert_cmpuint(confcheck_config(&c, p), ==, 0);
        c.allow_root = FALSE;
        c.user = g_strdup("nobody");
        g_assert_cmpuint(confcheck_config(&c, p), ==, 0);
        g_free(c.user);
    } else {
        g_assert_cmpuint(confcheck_config(&c, p), ==, 0);
        c.user = g_strdup("root");
        g_assert_cmpuint(confcheck_config(&c, p), ==, 1);
        g_assert_nonnull(strstr(p->pdata[0], "only root can switch"));
        g_free(c.user);
    }
    g_setenv("SCGI_MONO_ALLOW_ROOT", "1", TRUE);
    g_ptr_array_unref(p);
    g_ptr_array_unref(c.apps);
}

int main(int argc, char **argv)
{
    /* the directory tests run as whoever runs them, root included */
    g_setenv("SCGI_MONO_ALLOW_ROOT", "1", TRUE);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/confcheck/accounts", test_accounts);
    g_test_add_func("/confcheck/xml/good", test_good);
    g_test_add_func("/confcheck/xml/bad-lines", test_bad_lines);
    g_test_add_func("/confcheck/xml/unjudged", test_unjudged);
    g_test_add_func("/confcheck/xml/utf16", test_utf16);
    g_test_add_func("/confcheck/xml/shipped-files", test_shipped_files);
    g_test_add_func("/confcheck/directories", test_directories);
    return g_test_run();
}
