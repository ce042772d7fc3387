/* Unit tests for appwatch: which changes restart an application, and the
 * inotify watch with its debounce on a real directory tree. */
#include "appwatch.h"

#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static void test_counts(void)
{
    static const struct { const char *rel; gboolean is_dir, counts; } cases[] = {
        { "web.config", FALSE, TRUE },
        { "Web.Config", FALSE, TRUE },
        { "WEB.CONFIG", FALSE, TRUE },
        { "sub/web.config", FALSE, TRUE },
        { "a/b/c/d/Web.config", FALSE, TRUE },
        { "web.config", TRUE, FALSE },          /* a directory of that name */
        { "web.config~", FALSE, FALSE },        /* an editor's backup */
        { ".web.config.swp", FALSE, FALSE },
        { "xweb.config", FALSE, FALSE },
        { "web.configx", FALSE, FALSE },
        { "global.asax", FALSE, TRUE },
        { "Global.asax", FALSE, TRUE },
        { "sub/Global.asax", FALSE, FALSE },    /* only at the root */
        { "Global.asax.cs", FALSE, FALSE },
        { "bin", TRUE, TRUE },                  /* created or removed */
        { "Bin", TRUE, TRUE },
        { "bin/App.dll", FALSE, TRUE },
        { "bin/app.DLL", FALSE, TRUE },
        { "bin/App.pdb", FALSE, FALSE },
        { "bin/.dll", FALSE, TRUE },
        { "bin/x.dll", TRUE, FALSE },           /* a directory named like a DLL */
        { "bin/sub/App.dll", FALSE, FALSE },    /* ASP.NET watches the DLLs directly in bin */
        { "bin/web.config", FALSE, TRUE },
        { "App_Code", TRUE, TRUE },
        { "app_code", TRUE, TRUE },
        { "App_Code/Foo.cs", FALSE, TRUE },
        { "App_Code/sub/deeper/Foo.vb", FALSE, TRUE },
        { "App_Code/sub", TRUE, TRUE },
        { "App_Browsers", TRUE, TRUE },
        { "App_Browsers/x.browser", FALSE, TRUE },
        { "App_Browsers/sub/x.browser", FALSE, FALSE },
        { "App_GlobalResources", TRUE, TRUE },
        { "App_GlobalResources/Strings.resx", FALSE, TRUE },
        { "App_LocalResources/Strings.resx", FALSE, FALSE },
        { "App_Data/log.txt", FALSE, FALSE },
        { "App_Data", TRUE, FALSE },
        { "Default.aspx", FALSE, FALSE },       /* pages are recompiled in place */
        { "style.css", FALSE, FALSE },
        { "sub/bin/App.dll", FALSE, FALSE },
        { "sub/App_Code/Foo.cs", FALSE, FALSE },
        { "App_Code/", TRUE, FALSE },
        { "bin/", TRUE, FALSE },
        { "", FALSE, FALSE },
        { NULL, FALSE, FALSE },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean got = appwatch_counts(cases[i].rel, cases[i].is_dir);
        if (got != cases[i].counts)
            g_error("appwatch_counts(\"%s\", %d) = %d, expected %d", cases[i].rel ? cases[i].rel : "(null)",
                    cases[i].is_dir, got, cases[i].counts);
    }
}

static char *root;
static appwatch *aw;

static void write_file(const char *rel, const char *text)
{
    char *p = g_build_filename(root, rel, NULL);
    g_assert_true(g_file_set_contents(p, text, -1, NULL));
    g_free(p);
}

static void make_dir(const char *rel)
{
    char *p = g_build_filename(root, rel, NULL);
    g_assert_cmpint(g_mkdir_with_parents(p, 0755), ==, 0);
    g_free(p);
}

/* Reads events for about ms milliseconds (time stamps: real monotonic time). */
static void pump(int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    for (gint64 now; (now = g_get_monotonic_time()) < end;) {
        struct pollfd p = {.fd = appwatch_fd(aw), .events = POLLIN};
        poll(&p, 1, (int)((end - now) / 1000) + 1);
        appwatch_read(aw, g_get_monotonic_time());
    }
}

/* The change due now, or NULL; checks there is no second one. */
static char *due(gint64 now, int *events)
{
    char *name = NULL, *file = NULL;
    int n = 0;
    if (!appwatch_due(aw, now, &name, &file, &n))
        return NULL;
    g_assert_cmpstr(name, ==, "site");
    g_free(name);
    char *n2 = NULL, *f2 = NULL;
    int e2;
    g_assert_false(appwatch_due(aw, now, &n2, &f2, &e2));
    if (events)
        *events = n;
    return file;
}

static void setup(void)
{
    root = g_dir_make_tmp("test-appwatch-XXXXXX", NULL);
    g_assert_nonnull(root);
    make_dir("bin");
    make_dir("sub/deep");
    make_dir("App_Data");
    write_file("web.config", "<configuration/>");
    write_file("Default.aspx", "hello");
    GError *error = NULL;
    aw = appwatch_new(&error);
    g_assert_no_error(error);
    g_assert_cmpint(appwatch_add(aw, "site", root), ==, 5); /* root, bin, sub, sub/deep, App_Data */
}

static void teardown(void)
{
    appwatch_free(aw);
    char *cmd = g_strdup_printf("rm -rf '%s'", root);
    g_assert_cmpint(system(cmd), ==, 0);
    g_free(cmd);
    g_free(root);
}

static void test_touch_web_config(void)
{
    setup();
    pump(50);
    g_assert_null(due(g_get_monotonic_time() + 10 * G_USEC_PER_SEC, NULL)); /* nothing happened */
    char *p = g_build_filename(root, "web.config", NULL);
    g_assert_cmpint(utimes(p, NULL), ==, 0); /* touch */
    g_free(p);
    write_file("web.config", "<configuration><appSettings/></configuration>");
    pump(50);
    gint64 now = g_get_monotonic_time();
    g_assert_null(due(now, NULL)); /* not quiet long enough yet */
    int events = 0;
    char *file = due(now + APPWATCH_QUIET_US, &events);
    g_assert_cmpstr(file, ==, "web.config");
    g_assert_cmpint(events, >=, 2);
    g_free(file);
    g_assert_null(due(now + 10 * G_USEC_PER_SEC, NULL)); /* reported once */
    teardown();
}

static void test_what_does_not_count(void)
{
    setup();
    write_file("Default.aspx", "changed");
    write_file("App_Data/log.txt", "a line");
    write_file("bin/App.pdb", "x");
    write_file("web.config~", "backup");
    make_dir("App_Themes");
    pump(50);
    g_assert_null(due(g_get_monotonic_time() + 10 * G_USEC_PER_SEC, NULL));
    teardown();
}

static void test_deep_and_new_directories(void)
{
    setup();
    write_file("sub/deep/Web.Config", "<configuration/>");
    pump(50);
    char *file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "sub/deep/Web.Config");
    g_free(file);
    /* a new directory, then a file in it: watched once it appears */
    make_dir("new");
    pump(50);
    write_file("new/web.config", "<configuration/>");
    pump(50);
    file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "new/web.config");
    g_free(file);
    /* a tree created at once (mkdir -p + file before the watch exists) */
    make_dir("x/y/z");
    write_file("x/y/z/web.config", "<configuration/>");
    pump(50);
    file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "x/y/z/web.config");
    g_free(file);
    teardown();
}

static void test_bin_and_app_code(void)
{
    setup();
    write_file("bin/Lib.dll", "MZ");
    pump(50);
    char *file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "bin/Lib.dll");
    g_free(file);
    make_dir("App_Code/Models");
    write_file("App_Code/Models/Foo.cs", "class Foo {}");
    pump(50);
    file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "App_Code");
    g_free(file);
    write_file("Global.asax", "<%@ Application %>");
    pump(50);
    file = due(g_get_monotonic_time() + APPWATCH_QUIET_US, NULL);
    g_assert_cmpstr(file, ==, "Global.asax");
    g_free(file);
    teardown();
}

/* Events that keep coming: the change is due APPWATCH_MAX_WAIT_US after the first. */
static void test_debounce_bound(void)
{
    setup();
    write_file("bin/A.dll", "MZ");
    pump(20);
    gint64 t0 = g_get_monotonic_time();
    write_file("bin/B.dll", "MZ");
    pump(20);
    g_assert_null(due(t0 + APPWATCH_QUIET_US / 2, NULL));
    char *file = due(t0 + APPWATCH_MAX_WAIT_US, NULL);
    g_assert_cmpstr(file, ==, "bin/A.dll");
    g_free(file);
    teardown();
}

/* Two applications on one directory share an entry. */
static void test_same_root(void)
{
    setup();
    g_assert_cmpint(appwatch_add(aw, "other", root), ==, 0);
    write_file("web.config", "<configuration/>");
    pump(50);
    char *name = NULL, *file = NULL;
    int n;
    g_assert_true(appwatch_due(aw, g_get_monotonic_time() + APPWATCH_QUIET_US, &name, &file, &n));
    g_assert_cmpstr(name, ==, "site, other");
    g_free(name);
    g_free(file);
    teardown();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/appwatch/counts", test_counts);
    g_test_add_func("/appwatch/touch_web_config", test_touch_web_config);
    g_test_add_func("/appwatch/what_does_not_count", test_what_does_not_count);
    g_test_add_func("/appwatch/deep_and_new_directories", test_deep_and_new_directories);
    g_test_add_func("/appwatch/bin_and_app_code", test_bin_and_app_code);
    g_test_add_func("/appwatch/debounce_bound", test_debounce_bound);
    g_test_add_func("/appwatch/same_root", test_same_root);
    return g_test_run();
}
