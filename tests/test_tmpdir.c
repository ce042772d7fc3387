/* Unit tests for tmpdir: the server's private temporary directory. */
#include "tmpdir.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *parent;

static void setup(void)
{
    parent = g_dir_make_tmp("test-tmpdir-XXXXXX", NULL);
    g_assert_nonnull(parent);
}

static void teardown(void)
{
    g_assert_true(tmpdir_remove(parent));
    g_assert_false(g_file_test(parent, G_FILE_TEST_EXISTS));
    g_free(parent);
}

static void test_private(void)
{
    setup();
    GError *error = NULL;
    char *a = tmpdir_create(parent, &error);
    g_assert_no_error(error);
    char *b = tmpdir_create(parent, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a, !=, b); /* unpredictable, never shared */
    struct stat st;
    g_assert_cmpint(lstat(a, &st), ==, 0);
    g_assert_true(S_ISDIR(st.st_mode));
    g_assert_cmpint(st.st_mode & 0777, ==, 0700);
    g_assert_cmpuint(st.st_uid, ==, geteuid());
    char *prefix = g_strdup_printf("%s/scgi-mono-%u-%d-", parent, (unsigned)geteuid(), (int)getpid());
    g_assert_true(g_str_has_prefix(a, prefix));
    g_free(prefix);
    g_free(a);
    g_free(b);
    teardown();
}

/* A pid that is surely gone: a child we started and reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static void test_stale_removed_live_kept(void)
{
    setup();
    char *stale = g_strdup_printf("%s/scgi-mono-%u-%d-abcdef", parent, (unsigned)geteuid(), (int)dead_pid());
    char *live = g_strdup_printf("%s/scgi-mono-%u-%d-abcdef", parent, (unsigned)geteuid(), (int)getppid());
    char *other = g_strdup_printf("%s/unrelated-%d-x", parent, (int)dead_pid());
    g_assert_cmpint(g_mkdir_with_parents(stale, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(live, 0700), ==, 0);
    g_assert_cmpint(g_mkdir_with_parents(other, 0700), ==, 0);
    /* a link inside the stale directory must be removed, not followed */
    char *outside = g_build_filename(parent, "outside", NULL);
    g_assert_true(g_file_set_contents(outside, "keep", -1, NULL));
    char *link = g_build_filename(stale, "link", NULL);
    g_assert_cmpint(symlink(outside, link), ==, 0);
    GError *error = NULL;
    char *mine = tmpdir_create(parent, &error);
    g_assert_no_error(error);
    g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(live, G_FILE_TEST_IS_DIR));
    g_assert_true(g_file_test(other, G_FILE_TEST_IS_DIR));
    g_assert_true(g_file_test(outside, G_FILE_TEST_IS_REGULAR));
    g_free(mine);
    g_free(link);
    g_free(outside);
    g_free(stale);
    g_free(live);
    g_free(other);
    teardown();
}

static void test_remove_tree(void)
{
    setup();
    char *deep = g_build_filename(parent, "t", "a", "b", NULL);
    g_assert_cmpint(g_mkdir_with_parents(deep, 0700), ==, 0);
    char *f = g_build_filename(deep, "App_Web_x.dll", NULL);
    g_assert_true(g_file_set_contents(f, "x", -1, NULL));
    char *top = g_build_filename(parent, "t", NULL);
    g_assert_true(tmpdir_remove(top));
    g_assert_false(g_file_test(top, G_FILE_TEST_EXISTS));
    g_assert_true(tmpdir_remove(NULL));
    g_free(top);
    g_free(f);
    g_free(deep);
    teardown();
}

static void test_missing_parent(void)
{
    GError *error = NULL;
    char *p = tmpdir_create("/nonexistent/scgi-mono-test", &error);
    g_assert_null(p);
    g_assert_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_nonnull(strstr(error->message, "/nonexistent/scgi-mono-test"));
    g_error_free(error);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tmpdir/private", test_private);
    g_test_add_func("/tmpdir/stale-removed-live-kept", test_stale_removed_live_kept);
    g_test_add_func("/tmpdir/remove-tree", test_remove_tree);
    g_test_add_func("/tmpdir/missing-parent", test_missing_parent);
    return g_test_run();
}
