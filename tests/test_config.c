/* Unit tests for config: defaults, the key file, the command line, and the
 * listen and --app spec parsers. Each test that touches the file system gets
 * its own temporary directory (fixture), removed afterwards. */
#include "config.h"
#include "log.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char *dir;  /* temporary directory; holds app/ (a directory) and file.txt */
    char *app;  /* dir/app */
    char *cwd;  /* working directory before the test, restored after it */
} fixture;

static void rm_rf(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *name;
        g_assert_nonnull(d);
        while ((name = g_dir_read_name(d))) {
            char *child = g_build_filename(path, name, NULL);
            rm_rf(child);
            g_free(child);
        }
        g_dir_close(d);
        g_assert_no_errno(g_rmdir(path));
    } else {
        g_assert_no_errno(g_unlink(path));
    }
}

static char *fx_path(fixture *fx, const char *name)
{
    return g_build_filename(fx->dir, name, NULL);
}

static void fx_mkdir(fixture *fx, const char *name)
{
    char *p = fx_path(fx, name);
    g_assert_no_errno(g_mkdir_with_parents(p, 0700));
    g_free(p);
}

/* Writes dir/name and returns its path. */
static char *fx_write(fixture *fx, const char *name, const char *contents)
{
    char *p = fx_path(fx, name);
    GError *err = NULL;
    g_file_set_contents(p, contents, -1, &err);
    g_assert_no_error(err);
    return p;
}

static void fx_setup(fixture *fx, gconstpointer data)
{
    GError *err = NULL;
    (void)data;
    fx->cwd = g_get_current_dir();
    fx->dir = g_dir_make_tmp("scgi-mono-config-XXXXXX", &err);
    g_assert_no_error(err);
    fx->app = fx_path(fx, "app");
    fx_mkdir(fx, "app");
    g_free(fx_write(fx, "file.txt", "not a directory\n"));
}

static void fx_teardown(fixture *fx, gconstpointer data)
{
    (void)data;
    g_assert_no_errno(chdir(fx->cwd));
    rm_rf(fx->dir);
    g_free(fx->dir);
    g_free(fx->app);
    g_free(fx->cwd);
}

static void fx_chdir(fixture *fx)
{
    g_assert_no_errno(chdir(fx->dir));
}

/* config_load on "scgi-mono-server" followed by the NULL-terminated args. */
static config *load(GError **err, ...)
{
    GPtrArray *args = g_ptr_array_new();
    gboolean exit_now = TRUE;
    const char *a;
    va_list ap;
    config *c;

    g_ptr_array_add(args, (char *)"scgi-mono-server");
    va_start(ap, err);
    while ((a = va_arg(ap, const char *)))
        g_ptr_array_add(args, (char *)a);
    va_end(ap);
    g_ptr_array_add(args, NULL);
    c = config_load((int)args->len - 1, (char **)args->pdata, &exit_now, err);
    g_assert_false(exit_now);
    g_assert_true((c == NULL) == (*err != NULL));
    g_ptr_array_free(args, TRUE);
    return c;
}

/* Loads a configuration file holding `contents` and expects an error whose
 * message contains the file's path and every needle given. */
static void expect_file_error(fixture *fx, const char *contents, int code, ...)
{
    char *file = fx_write(fx, "test.conf", contents);
    GError *err = NULL;
    config *c = load(&err, "--config", file, NULL);
    const char *needle;
    va_list ap;

    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, code);
    g_assert_nonnull(strstr(err->message, file));
    va_start(ap, code);
    while ((needle = va_arg(ap, const char *))) {
        if (!strstr(err->message, needle))
            g_error("message \"%s\" lacks \"%s\"", err->message, needle);
    }
    va_end(ap);
    g_error_free(err);
    g_free(file);
}

static const listen_spec *listen_at(const config *c, guint i)
{
    g_assert_cmpuint(i, <, c->listen->len);
    return g_ptr_array_index(c->listen, i);
}

static const app_spec *app_at(const config *c, guint i)
{
    g_assert_cmpuint(i, <, c->apps->len);
    return g_ptr_array_index(c->apps, i);
}

static void assert_defaults_except_lists(const config *c)
{
    g_assert_cmpint(c->threads, ==, MIN(MAX(64, 16 * (int)g_get_num_processors()), 1024));
    g_assert_cmpint(c->concurrency, ==, 0);
    g_assert_cmpint(c->queue, ==, 256);
    g_assert_cmpint(c->max_connections, ==, 1024);
    g_assert_cmpuint(c->max_header, ==, 65536);
    g_assert_cmpint(c->max_headers, ==, 100);
    g_assert_cmpint(c->inherited_protocols, ==, LISTEN_PROTO_BOTH);
    g_assert_null(c->error_log);
    g_assert_cmpint(c->log_level, ==, LOG_LEVEL_NOTICE);
    g_assert_null(c->user);
    g_assert_null(c->group);
    g_assert_false(c->allow_root);
    g_assert_null(c->access_log);
    g_assert_cmpint(c->access_log_format, ==, ACCESS_LOG_COMBINED);
    g_assert_cmpint(c->max_body, ==, 104857600);
    g_assert_cmpint(c->body_buffer, ==, 1048576);
    g_assert_cmpint(c->max_spool, ==, G_GINT64_CONSTANT(4294967296));
    g_assert_cmpint(c->header_timeout, ==, 30);
    g_assert_cmpint(c->body_timeout, ==, 30);
    g_assert_cmpint(c->write_timeout, ==, 60);
    g_assert_cmpint(c->write_buffer, ==, 262144);
    g_assert_cmpint(c->keepalive_timeout, ==, 15);
    g_assert_cmpint(c->shutdown_timeout, ==, 30);
    g_assert_cmpint(c->drain_delay, ==, 0);
    g_assert_cmpint(c->hang_timeout, ==, 30);
    g_assert_cmpint(c->request_timeout, ==, 300);
    g_assert_cmpint(c->slow_request_timeout, ==, 0);
    g_assert_cmpint(c->stats_interval, ==, 0);
    g_assert_cmpint(c->max_requests, ==, 0);
    g_assert_cmpint(c->max_rss, ==, 0);
    g_assert_cmpint(c->max_age, ==, 0);
    g_assert_cmpint(c->warmup_timeout, ==, 60);
    g_assert_cmpint(c->workers, ==, 1);
    g_assert_true(c->apache_status);
    g_assert_false(c->scgi_lenient);
    g_assert_true(c->watch);
    g_assert_cmpint(c->socket_mode, ==, 0660);
}

static void assert_default_listen(const config *c)
{
    const listen_spec *l = listen_at(c, 0);
    g_assert_cmpuint(c->listen->len, ==, 1);
    g_assert_cmpint(l->kind, ==, LISTEN_TCP);
    g_assert_cmpstr(l->host, ==, "127.0.0.1");
    g_assert_cmpint(l->port, ==, 8000);
    g_assert_null(l->path);
    g_assert_cmpstr(l->spec, ==, "tcp:127.0.0.1:8000");
    g_assert_cmpint(l->protocols, ==, LISTEN_PROTO_BOTH);
}

/* ---- defaults and the command line ---- */

static void test_defaults(fixture *fx, gconstpointer data)
{
    char *arg = g_strdup_printf("/:%s", fx->app);
    GError *err = NULL;
    config *c = load(&err, "--app", arg, NULL);
    const app_spec *a;

    (void)data;
    g_assert_no_error(err);
    assert_defaults_except_lists(c);
    assert_default_listen(c);
    g_assert_null(c->config_file);
    g_assert_cmpuint(c->apps->len, ==, 1);
    a = app_at(c, 0);
    g_assert_cmpstr(a->name, ==, "cli1");
    g_assert_null(a->vhost);
    g_assert_cmpstr(a->vpath, ==, "/");
    g_assert_cmpstr(a->path, ==, fx->app);
    g_assert_cmpint(a->apache_status, ==, -1);
    g_assert_cmpint(a->sendfile, ==, SENDFILE_OFF);
    g_assert_cmpstr(a->x_accel_prefix, ==, "/scgi-mono-files");
    g_assert_null(a->warmup);
    config_free(c);
    g_free(arg);
}

static void test_no_app(fixture *fx, gconstpointer data)
{
    const char *msg = "no application configured: give --app VPATH:DIR or an [app:NAME] group "
                      "in the configuration file";
    char *file = fx_write(fx, "server-only.conf", "[server]\nthreads = 2\n");
    GError *err = NULL;
    config *c = load(&err, NULL);

    (void)data;
    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_USAGE);
    g_assert_cmpstr(err->message, ==, msg);
    g_clear_error(&err);

    c = load(&err, "--config", file, "--listen", "tcp:127.0.0.1:9000", NULL);
    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_USAGE);
    g_assert_cmpstr(err->message, ==, msg);
    g_clear_error(&err);
    g_free(file);
}

static void test_cli_short_options(fixture *fx, gconstpointer data)
{
    char *file = fx_write(fx, "short.conf", "[server]\nqueue = 5\n");
    char *arg = g_strdup_printf("/a:%s", fx->app);
    GError *err = NULL;
    config *c = load(&err, "-c", file, "-l", "tcp:127.0.0.1:1", "-l", "unix:/tmp/s.sock", "-a", arg,
                     "-a", "example.org:/b:app", "--threads", "5", NULL);

    (void)data;
    g_assert_null(c); /* "app" is relative to the current directory, not dir */
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
    g_clear_error(&err);

    fx_chdir(fx);
    c = load(&err, "-c", file, "-l", "tcp:127.0.0.1:1", "-l", "unix:/tmp/s.sock", "-a", arg,
             "-a", "example.org:/b:app", "--threads", "5", NULL);
    g_assert_no_error(err);
    g_assert_cmpint(c->queue, ==, 5);
    g_assert_cmpint(c->threads, ==, 5);
    g_assert_cmpuint(c->listen->len, ==, 2);
    g_assert_cmpint(listen_at(c, 0)->port, ==, 1);
    g_assert_cmpstr(listen_at(c, 1)->path, ==, "/tmp/s.sock");
    g_assert_cmpuint(c->apps->len, ==, 2);
    g_assert_cmpstr(app_at(c, 0)->name, ==, "cli1");
    g_assert_cmpstr(app_at(c, 1)->name, ==, "cli2");
    g_assert_cmpstr(app_at(c, 1)->vhost, ==, "example.org");
    g_assert_cmpstr(app_at(c, 1)->path, ==, fx->app);
    g_assert_cmpstr(c->config_file, ==, file);
    config_free(c);
    g_free(arg);
    g_free(file);
}

static void test_cli_errors(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *args[4];
        int code;
        const char *needle;
    } cases[] = {
        { { "--threads", "abc" }, CONFIG_ERROR_VALUE, "command line: --threads: 'abc' is not a positive integer" },
        { { "--threads", "0" }, CONFIG_ERROR_VALUE, "command line: --threads: '0' is out of range: must be between 1 and 1024" },
        { { "--threads", "1025" }, CONFIG_ERROR_VALUE, "command line: --threads: '1025' is out of range" },
        { { "--threads", "-3" }, CONFIG_ERROR_VALUE, "'-3' is not a positive integer" },
        { { "--bogus" }, CONFIG_ERROR_USAGE, "command line: Unknown option --bogus" },
        { { "extra" }, CONFIG_ERROR_USAGE, "command line: unexpected argument 'extra'" },
        { { "--config" }, CONFIG_ERROR_USAGE, "command line: " },
        { { "--listen", "bad" }, CONFIG_ERROR_VALUE, "command line: --listen: listen address 'bad'" },
        { { "--listen", "tcp:127.0.0.1:1", "--listen", "tcp:x" }, CONFIG_ERROR_VALUE, "listen address 'tcp:x'" },
        { { "--app", "nowhere" }, CONFIG_ERROR_VALUE, "command line: --app: application 'nowhere'" },
        { { "--app", "/:nowhere" }, CONFIG_ERROR_VALUE, "'nowhere' (" },
    };

    (void)data;
    fx_chdir(fx);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        config *c = load(&err, "--app", "/:app", cases[i].args[0], cases[i].args[1],
                         cases[i].args[2], cases[i].args[3], NULL);
        g_test_message("case %" G_GSIZE_FORMAT ": %s %s", i, cases[i].args[0],
                       cases[i].args[1] ? cases[i].args[1] : "");
        g_assert_null(c);
        g_assert_error(err, CONFIG_ERROR, cases[i].code);
        if (!strstr(err->message, cases[i].needle))
            g_error("message \"%s\" lacks \"%s\"", err->message, cases[i].needle);
        g_error_free(err);
    }
}

/* config_load parses a copy: the caller's array and strings stay as they were. */
static void test_argv_untouched(fixture *fx, gconstpointer data)
{
    char *arg = g_strdup_printf("/:%s", fx->app);
    char *argv[] = { g_strdup("scgi-mono-server"), g_strdup("--threads"), g_strdup("3"),
                     g_strdup("--app"), arg, NULL };
    char *saved[G_N_ELEMENTS(argv)];
    GError *err = NULL;
    gboolean exit_now = TRUE;
    config *c;

    (void)data;
    memcpy(saved, argv, sizeof argv);
    c = config_load(5, argv, &exit_now, &err);
    g_assert_no_error(err);
    g_assert_false(exit_now);
    g_assert_cmpint(c->threads, ==, 3);
    for (gsize i = 0; i < G_N_ELEMENTS(argv); i++)
        g_assert_true(argv[i] == saved[i]);
    g_assert_cmpstr(argv[1], ==, "--threads");
    g_assert_cmpstr(argv[2], ==, "3");
    g_assert_cmpstr(argv[4], ==, arg);
    config_free(c);
    for (gsize i = 0; argv[i]; i++)
        g_free(argv[i]);
}

/* --version prints, sets *exit_now and returns NULL without an error, before
 * any file is read. Runs in a subprocess to capture stdout. */
static void test_version(void)
{
    if (g_test_subprocess()) {
        static const char *flags[] = { "--version", "-V" };
        for (gsize i = 0; i < G_N_ELEMENTS(flags); i++) {
            char *argv[] = { (char *)"scgi-mono-server", (char *)"--config",
                             (char *)"/nonexistent/scgi-mono.conf", (char *)flags[i], NULL };
            gboolean exit_now = FALSE;
            GError *err = NULL;
            config *c = config_load(4, argv, &exit_now, &err);
            g_assert_null(c);
            g_assert_no_error(err);
            g_assert_true(exit_now);
        }
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("scgi-mono-server " SCGI_MONO_VERSION "\n"
                              "scgi-mono-server " SCGI_MONO_VERSION "\n");
}

/* --help is GLib's: it prints the options and exits 0. */
static void test_help(void)
{
    if (g_test_subprocess()) {
        char *argv[] = { (char *)"scgi-mono-server", (char *)"--help", NULL };
        gboolean exit_now = FALSE;
        GError *err = NULL;
        config_load(2, argv, &exit_now, &err);
        g_assert_not_reached();
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("*scgi-mono-server hosts ASP.NET applications on Mono for SCGI front "
                              "ends and plain HTTP*");
    g_test_trap_assert_stdout("*--config*--listen*--app*--threads*--version*");
}

static void test_free_null(void)
{
    config_free(NULL);
    listen_spec_free(NULL);
    app_spec_free(NULL);
}

/* ---- the configuration file ---- */

static void test_file_every_key(fixture *fx, gconstpointer data)
{
    char *file;
    GError *err = NULL;
    config *c;
    const app_spec *a;

    (void)data;
    fx_mkdir(fx, "sub");
    file = fx_write(fx, "every.conf",
                    "# every key, none at its default\n"
                    "[server]\n"
                    "listen = tcp:0.0.0.0:9000; http:tcp:[::1]:9001;scgi:unix:/run/scgi-mono.sock;\n"
                    "inherited_protocols = scgi\n"
                    "max_headers = 50\n"
                    "threads = 7\n"
                    "concurrency = 5\n"
                    "queue = 11\n"
                    "max_connections = 13\n"
                    "max_header = 2048\n"
                    "max_body = 2000000000\n"
                    "body_buffer = 65536\n"
                    "max_spool = 0\n"
                    "header_timeout = 1\n"
                    "body_timeout = 2\n"
                    "write_timeout = 3\n"
                    "write_buffer = 1000\n"
                    "keepalive_timeout = 4\n"
                    "workers = 3\n"
                    "warmup_timeout = 5\n"
                    "shutdown_timeout = 86400  \n"
                    "drain_delay = 12\n"
                    "apache_status = false\n"
                    "scgi_lenient = true\n"
                    "socket_mode = 0600\n"
                    "error_log = /var/log/scgi-mono/error.log\n"
                    "log_level = info\n"
                    "user = www-data\n"
                    "group = 33\n"
                    "allow_root = yes\n"
                    "access_log = /var/log/scgi-mono/access.log\n"
                    "access_log_format = json\n"
                    "\n"
                    "[app:hello]\n"
                    "vpath = /hello/\n"
                    "path = app\n"
                    "vhost = WWW.Example.com\n"
                    "sendfile = x-accel-redirect\n"
                    "x_accel_prefix = /internal/files/\n"
                    "warmup = / ; /Default.aspx?a=1&b=%20;\n"
                    "[app:root]\n"
                    "vpath = /\n"
                    "path = sub/../app/\n"
                    "warmup = /;/x/y.ashx\n");
    c = load(&err, "--config", file, NULL);
    g_assert_no_error(err);
    g_assert_cmpstr(c->config_file, ==, file);
    g_assert_cmpuint(c->listen->len, ==, 3);
    g_assert_cmpint(listen_at(c, 0)->kind, ==, LISTEN_TCP);
    g_assert_cmpstr(listen_at(c, 0)->host, ==, "0.0.0.0");
    g_assert_cmpint(listen_at(c, 0)->port, ==, 9000);
    g_assert_cmpstr(listen_at(c, 1)->host, ==, "::1");
    g_assert_cmpint(listen_at(c, 1)->port, ==, 9001);
    g_assert_cmpstr(listen_at(c, 1)->spec, ==, "http:tcp:[::1]:9001");
    g_assert_cmpint(listen_at(c, 0)->protocols, ==, LISTEN_PROTO_BOTH);
    g_assert_cmpint(listen_at(c, 1)->protocols, ==, LISTEN_PROTO_HTTP);
    g_assert_cmpint(listen_at(c, 2)->protocols, ==, LISTEN_PROTO_SCGI);
    g_assert_cmpint(c->inherited_protocols, ==, LISTEN_PROTO_SCGI);
    g_assert_cmpint(c->max_headers, ==, 50);
    g_assert_cmpint(listen_at(c, 2)->kind, ==, LISTEN_UNIX);
    g_assert_cmpstr(listen_at(c, 2)->path, ==, "/run/scgi-mono.sock");
    g_assert_null(listen_at(c, 2)->host);
    g_assert_cmpint(c->threads, ==, 7);
    g_assert_cmpint(c->concurrency, ==, 5);
    g_assert_cmpint(c->queue, ==, 11);
    g_assert_cmpint(c->max_connections, ==, 13);
    g_assert_cmpuint(c->max_header, ==, 2048);
    g_assert_cmpint(c->max_body, ==, 2000000000);
    g_assert_cmpint(c->body_buffer, ==, 65536);
    g_assert_cmpint(c->max_spool, ==, 0);
    g_assert_cmpint(c->header_timeout, ==, 1);
    g_assert_cmpint(c->body_timeout, ==, 2);
    g_assert_cmpint(c->write_timeout, ==, 3);
    g_assert_cmpint(c->write_buffer, ==, 1000);
    g_assert_cmpint(c->keepalive_timeout, ==, 4);
    g_assert_cmpint(c->workers, ==, 3);
    g_assert_cmpint(c->warmup_timeout, ==, 5);
    g_assert_cmpint(c->shutdown_timeout, ==, 86400);
    g_assert_cmpint(c->drain_delay, ==, 12);
    g_assert_false(c->apache_status);
    g_assert_true(c->scgi_lenient);
    g_assert_cmpint(c->socket_mode, ==, 0600);
    g_assert_cmpstr(c->error_log, ==, "/var/log/scgi-mono/error.log");
    g_assert_cmpint(c->log_level, ==, LOG_LEVEL_INFO);
    g_assert_cmpstr(c->user, ==, "www-data");
    g_assert_cmpstr(c->group, ==, "33");
    g_assert_true(c->allow_root);
    g_assert_cmpstr(c->access_log, ==, "/var/log/scgi-mono/access.log");
    g_assert_cmpint(c->access_log_format, ==, ACCESS_LOG_JSON);
    g_assert_cmpuint(c->apps->len, ==, 2);
    a = app_at(c, 0);
    g_assert_cmpstr(a->name, ==, "hello");
    g_assert_cmpstr(a->vpath, ==, "/hello");
    g_assert_cmpstr(a->path, ==, fx->app);
    g_assert_cmpstr(a->vhost, ==, "www.example.com");
    g_assert_cmpint(a->apache_status, ==, -1);
    g_assert_cmpint(a->sendfile, ==, SENDFILE_X_ACCEL);
    g_assert_cmpstr(a->x_accel_prefix, ==, "/internal/files");
    /* warm-up paths are relative to vpath, blanks and empty items ignored */
    g_assert_nonnull(a->warmup);
    g_assert_cmpstr(a->warmup[0], ==, "/hello/");
    g_assert_cmpstr(a->warmup[1], ==, "/hello/Default.aspx?a=1&b=%20");
    g_assert_null(a->warmup[2]);
    a = app_at(c, 1);
    g_assert_cmpstr(a->name, ==, "root");
    g_assert_cmpstr(a->vpath, ==, "/");
    g_assert_cmpstr(a->path, ==, fx->app);
    g_assert_null(a->vhost);
    g_assert_nonnull(a->warmup);
    g_assert_cmpstr(a->warmup[0], ==, "/");
    g_assert_cmpstr(a->warmup[1], ==, "/x/y.ashx");
    g_assert_null(a->warmup[2]);
    g_assert_cmpint(a->sendfile, ==, SENDFILE_OFF);
    config_free(c);
    g_free(file);
}

/* Values at the edges of their ranges, and the other boolean spellings. */
static void test_file_bounds(fixture *fx, gconstpointer data)
{
    char *file = fx_write(fx, "bounds.conf",
                          "[server]\nthreads = 1024\nqueue = 1000000\nmax_connections = 1\n"
                          "max_header = 1024\nmax_body = 0\nheader_timeout = 86400\n"
                          "apache_status = No\nscgi_lenient = 1\nsocket_mode = 0\nerror_log = stderr\n"
                          "log_level = debug\n"
                          "access_log = off\naccess_log_format = combined\n"
                          "[app:a]\nvpath = /\npath = app\n");
    GError *err = NULL;
    config *c = load(&err, "--config", file, NULL);

    (void)data;
    g_assert_no_error(err);
    g_assert_cmpint(c->threads, ==, 1024);
    g_assert_cmpint(c->queue, ==, 1000000);
    g_assert_cmpint(c->max_connections, ==, 1);
    g_assert_cmpuint(c->max_header, ==, 1024);
    g_assert_cmpint(c->max_body, ==, 0);
    g_assert_cmpint(c->header_timeout, ==, 86400);
    g_assert_false(c->apache_status);
    g_assert_true(c->scgi_lenient);
    g_assert_cmpint(c->socket_mode, ==, 0);
    g_assert_null(c->error_log);
    g_assert_cmpint(c->log_level, ==, LOG_LEVEL_DEBUG);
    g_assert_null(c->access_log);
    g_assert_cmpint(c->access_log_format, ==, ACCESS_LOG_COMBINED);
    assert_default_listen(c);
    config_free(c);
    g_free(file);
}

/* Relative paths are taken from the file's directory, wherever the server
 * runs and however the file was named. */
static void test_file_relative_path(fixture *fx, gconstpointer data)
{
    char *file, *abs_file;
    GError *err = NULL;
    config *c;

    (void)data;
    fx_mkdir(fx, "etc");
    file = fx_write(fx, "etc/scgi.conf", "[app:up]\nvpath = /up\npath = ../app\n");
    g_assert_no_errno(chdir("/"));
    c = load(&err, "--config", file, NULL);
    g_assert_no_error(err);
    g_assert_cmpstr(app_at(c, 0)->path, ==, fx->app);
    config_free(c);

    fx_chdir(fx);
    c = load(&err, "--config", "etc/scgi.conf", NULL);
    g_assert_no_error(err);
    g_assert_cmpstr(app_at(c, 0)->path, ==, fx->app);
    abs_file = g_build_filename(fx->dir, "etc", "scgi.conf", NULL);
    g_assert_cmpstr(c->config_file, ==, abs_file);
    config_free(c);
    g_free(abs_file);
    g_free(file);
}

static void test_file_cli_overrides(fixture *fx, gconstpointer data)
{
    char *file = fx_write(fx, "over.conf",
                          "[server]\nlisten = tcp:127.0.0.1:9000;unix:/tmp/x.sock\n"
                          "threads = 8\nqueue = 99\n"
                          "[app:a]\nvpath = /a\npath = app\n[app:b]\nvpath = /b\npath = app\n");
    char *arg = g_strdup_printf("/x:%s", fx->app);
    GError *err = NULL;
    config *c;

    (void)data;
    c = load(&err, "--config", file, "--listen", "tcp:[::]:1", "--threads", "3", "--app", arg, NULL);
    g_assert_no_error(err);
    g_assert_cmpuint(c->listen->len, ==, 1);
    g_assert_cmpstr(listen_at(c, 0)->host, ==, "::");
    g_assert_cmpint(c->threads, ==, 3);
    g_assert_cmpint(c->queue, ==, 99);
    g_assert_cmpuint(c->apps->len, ==, 1);
    g_assert_cmpstr(app_at(c, 0)->name, ==, "cli1");
    g_assert_cmpstr(app_at(c, 0)->vpath, ==, "/x");
    config_free(c);

    /* Options not given leave the file's values and lists alone. */
    c = load(&err, "--threads", "2", "--config", file, NULL);
    g_assert_no_error(err);
    g_assert_cmpint(c->threads, ==, 2);
    g_assert_cmpuint(c->listen->len, ==, 2);
    g_assert_cmpstr(listen_at(c, 1)->path, ==, "/tmp/x.sock");
    g_assert_cmpuint(c->apps->len, ==, 2);
    g_assert_cmpstr(app_at(c, 0)->name, ==, "a");
    g_assert_cmpstr(app_at(c, 1)->name, ==, "b");
    config_free(c);
    g_free(arg);
    g_free(file);
}

static void test_file_bad_server_values(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *line;  /* "key = value" */
        const char *tail;  /* expected after "FILE: [server] " */
    } cases[] = {
        { "threads = abc", "threads: 'abc' is not a positive integer" },
        { "threads =", "threads: '' is not a positive integer" },
        { "threads = -4", "threads: '-4' is not a positive integer" },
        { "threads = 1.5", "threads: '1.5' is not a positive integer" },
        { "threads = 0x10", "threads: '0x10' is not a positive integer" },
        { "threads = 0", "threads: '0' is out of range: must be between 1 and 1024" },
        { "threads = 1025", "threads: '1025' is out of range: must be between 1 and 1024" },
        { "threads = 99999999999999999999", "threads: '99999999999999999999' is out of range" },
        { "concurrency = 0", "concurrency: '0' is neither auto nor a number between 1 and 1024" },
        { "concurrency = many", "concurrency: 'many' is neither auto nor a number between 1 and 1024" },
        { "concurrency = 1025", "concurrency: '1025' is neither auto nor a number between 1 and 1024" },
        { "queue = 0", "queue: '0' is out of range: must be between 1 and 1000000" },
        { "queue = 1000001", "queue: '1000001' is out of range" },
        { "max_connections = 0", "max_connections: '0' is out of range: must be between 1 and 1000000" },
        { "max_connections = 1000001", "max_connections: '1000001' is out of range" },
        { "max_connections = many", "max_connections: 'many' is not a positive integer" },
        { "max_header = 1023", "max_header: '1023' is out of range: must be between 1024 and 16777216" },
        { "max_header = 16777217", "max_header: '16777217' is out of range" },
        { "max_body = -1", "max_body: '-1' is not a non-negative integer" },
        { "max_body = 10M", "max_body: '10M' is not a non-negative integer" },
        { "max_body = 9223372036854775808", "max_body: '9223372036854775808' is out of range: must be between 0 and 2147483647" },
        { "max_body = 2147483648", "max_body: '2147483648' is out of range: must be between 0 and 2147483647" },
        { "body_buffer = -5", "body_buffer: '-5' is not a non-negative integer" },
        { "body_buffer = 2147483648", "body_buffer: '2147483648' is out of range" },
        { "max_spool = -1", "max_spool: '-1' is not a non-negative integer" },
        { "header_timeout = 0", "header_timeout: '0' is out of range: must be between 1 and 86400" },
        { "body_timeout = 86401", "body_timeout: '86401' is out of range" },
        { "write_timeout = soon", "write_timeout: 'soon' is not a positive integer" },
        { "write_buffer = -1", "write_buffer: '-1' is not a non-negative integer" },
        { "write_buffer = 2147483648", "write_buffer: '2147483648' is out of range" },
        { "keepalive_timeout = 0", "keepalive_timeout: '0' is out of range" },
        { "workers = 0", "workers: '0' is out of range" },
        { "workers = 257", "workers: '257' is out of range" },
        { "shutdown_timeout = 100000", "shutdown_timeout: '100000' is out of range" },
        { "drain_delay = -1", "drain_delay: '-1' is" },
        { "drain_delay = 86401", "drain_delay: '86401' is out of range" },
        { "apache_status = maybe", "apache_status: 'maybe' is not a boolean (true or false)" },
        { "scgi_lenient = 2", "scgi_lenient: '2' is not a boolean" },
        { "socket_mode = 0999", "socket_mode: '0999' is not an octal permission mode" },
        { "socket_mode = 01000", "socket_mode: '01000' is not an octal permission mode" },
        { "socket_mode = rw-rw----", "socket_mode: 'rw-rw----' is not an octal permission mode" },
        { "socket_mode = -660", "socket_mode: '-660' is not an octal" },
        { "listen = tcp:localhost", "listen: listen address 'tcp:localhost': missing ':PORT'" },
        { "listen = tcp:127.0.0.1:80;udp:1.2.3.4:53", "listen: listen address 'udp:1.2.3.4:53'" },
        { "listen = ;", "listen: no address given" },
        { "listen = scgi:", "listen: listen address 'scgi:': the address starts with neither tcp: nor unix:" },
        { "max_headers = 0", "max_headers: '0' is out of range: must be between 1 and 1000000" },
        { "max_headers = 1000001", "max_headers: '1000001' is out of range" },
        { "inherited_protocols = SCGI", "inherited_protocols: 'SCGI' is not one of scgi, http, both" },
        { "inherited_protocols = scgi,http", "inherited_protocols: 'scgi,http' is not one of scgi, http, both" },
        { "error_log = error.log", "error_log: \"error.log\": stderr, syslog, syslog:/PATH (the logger's UNIX socket) or an absolute path" },
        { "error_log = ", "error_log: \"\": stderr, syslog" },
        { "error_log = syslog:dev/log", "error_log: \"syslog:dev/log\": stderr, syslog" },
        { "error_log = syslogd", "error_log: \"syslogd\": stderr, syslog" },
        { "log_level = warning", "log_level: \"warning\": error, warn, notice, info or debug" },
        { "log_level = NOTICE", "log_level: \"NOTICE\": error, warn, notice, info or debug" },
        { "user = ", "user: \"\" is not a user or group name" },
        { "user = www data", "user: \"www data\" is not a user or group name" },
        { "group = -g", "group: \"-g\" is not a user or group name" },
        { "allow_root = maybe", "allow_root: 'maybe' is not a boolean" },
        { "access_log = access.log", "access_log: \"access.log\": off or an absolute path" },
        { "access_log = stderr", "access_log: \"stderr\": off or an absolute path" },
        { "access_log_format = common", "access_log_format: \"common\": combined or json" },
        { "threads = \\x", "threads: " }, /* GKeyFile's invalid escape */
    };

    (void)data;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *contents = g_strdup_printf("[server]\n%s\n[app:a]\nvpath = /\npath = app\n", cases[i].line);
        char *tail = g_strdup_printf(": [server] %s", cases[i].tail);
        g_test_message("case: %s", cases[i].line);
        expect_file_error(fx, contents, CONFIG_ERROR_VALUE, tail, NULL);
        g_free(tail);
        g_free(contents);
    }
}

/* The exact form of a value error, as the documentation shows it. */
static void test_file_message_form(fixture *fx, gconstpointer data)
{
    char *file = fx_write(fx, "scgi-mono.conf", "[server]\nthreads = abc\n");
    GError *err = NULL;
    config *c;

    (void)data;
    fx_chdir(fx);
    c = load(&err, "--config", "scgi-mono.conf", NULL);
    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
    g_assert_cmpstr(err->message, ==, "scgi-mono.conf: [server] threads: 'abc' is not a positive integer");
    g_error_free(err);
    g_free(file);
}

static void test_file_bad_app_values(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *group;
        const char *needle;
    } cases[] = {
        { "[app:a]\npath = app\n", ": [app:a] vpath: missing (this key is required)" },
        { "[app:a]\nvpath = /\n", ": [app:a] path: missing (this key is required)" },
        { "[app:a]\nvpath = app\npath = app\n", ": [app:a] vpath: 'app' is not a virtual path: it must start with '/'" },
        { "[app:a]\nvpath =\npath = app\n", ": [app:a] vpath: '' is not a virtual path" },
        { "[app:a]\nvpath = /a/../b\npath = app\n", ": [app:a] vpath: '/a/../b' is not a virtual path: '.' and '..' segments are not allowed" },
        { "[app:a]\nvpath = /a/./b\npath = app\n", ": [app:a] vpath: '/a/./b' is not a virtual path" },
        { "[app:a]\nvpath = /a?b\npath = app\n", ": [app:a] vpath: '/a?b' is not a virtual path" },
        { "[app:a]\nvpath = /\npath = nowhere\n", ": [app:a] path: 'nowhere' (" },
        { "[app:a]\nvpath = /\npath = file.txt\n", "file.txt) is not an existing directory" },
        { "[app:a]\nvpath = /\npath =\n", ": [app:a] path: the directory is empty" },
        { "[app:a]\nvpath = /\npath = app\nvhost = bad host\n", ": [app:a] vhost: 'bad host' is neither a host name" },
        { "[app:a]\nvpath = /\npath = app\nvhost =\n", ": [app:a] vhost: '' is neither" },
        { "[app:a]\nvpath = /\npath = app\nvhost = a/b\n", ": [app:a] vhost: 'a/b'" },
        { "[app:]\nvpath = /\npath = app\n", ": [app:]: the application name after 'app:' is empty" },
        { "[app:a]\nvpath = /\npath = app\nvpth = /x\n", ": [app:a] vpth: unknown key (known: vpath, path, vhost, sendfile, x_accel_prefix, warmup, precompile)" },
        { "[app:a]\nvpath = /\npath = app\nwarmup = Default.aspx\n", ": [app:a] warmup: 'Default.aspx' is not a request path: it must start with '/'" },
        { "[app:a]\nvpath = /\npath = app\nwarmup = /;/a b\n", ": [app:a] warmup: '/a b' is not a request path" },
        { "[app:a]\nvpath = /\npath = app\nwarmup = /a\\tb\n", ": [app:a] warmup: '/a\tb' is not a request path" },
        { "[app:a]\nvpath = /\npath = app\nwarmup = /a#top\n", ": [app:a] warmup: '/a#top' is not a request path" },
        { "[app:a]\nvpath = /\npath = app\nwarmup = http://x/\n", ": [app:a] warmup: 'http://x/' is not a request path" },
        { "[app:a]\nvpath = /\npath = app\nsendfile = yes\n", ": [app:a] sendfile: 'yes' is not one of off, x-sendfile, x-accel-redirect" },
        { "[app:a]\nvpath = /\npath = app\nx_accel_prefix = files\n", ": [app:a] x_accel_prefix: 'files' must be a URI path starting with '/'" },
        { "[app:a]\nvpath = /\npath = app\nx_accel_prefix = /a b\n", ": [app:a] x_accel_prefix: '/a b' must be a URI path" },
    };

    (void)data;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *shown = g_strescape(cases[i].group, NULL);
        g_test_message("case: %s", shown);
        g_free(shown);
        expect_file_error(fx, cases[i].group, CONFIG_ERROR_VALUE, cases[i].needle, NULL);
    }
    /* The message also shows the directory as resolved, absolute. */
    expect_file_error(fx, "[app:a]\nvpath = /\npath = nowhere\n", CONFIG_ERROR_VALUE, fx->dir, NULL);
}

static void test_file_unknown(fixture *fx, gconstpointer data)
{
    (void)data;
    expect_file_error(fx, "[server]\nlisen = tcp:127.0.0.1:8000\n", CONFIG_ERROR_VALUE,
                      ": [server] lisen: unknown key (known: listen, threads", NULL);
    expect_file_error(fx, "[server]\nthreads[de] = 4\n", CONFIG_ERROR_VALUE,
                      ": [server] threads[de]: unknown key", NULL);
    expect_file_error(fx, "[sever]\nthreads = 4\n", CONFIG_ERROR_VALUE,
                      ": [sever]: unknown group (expected [server] or [app:NAME])", NULL);
    expect_file_error(fx, "[hello]\nvpath = /\npath = app\n", CONFIG_ERROR_VALUE,
                      ": [hello]: unknown group", NULL);
}

static void test_file_syntax_errors(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *contents;
        const char *needles[2];
    } cases[] = {
        { "[server]\nthreads = 4\nthis is not valid\n[app:a]\n", { ": line 3: ", "this is not valid" } },
        { "# comment\n\nthreads = 4\n", { ": line 3: ", "group" } },
        { "[server]\n[app:a\nvpath = /\n", { ": line 2: ", "app:a" } },
        { "[server]\nthreads = 4\n\n\n[app:x]\nvpath = /\nno equals sign", { ": line 7: ", "no equals sign" } },
        { "[server]\n = 4\n", { ": line 2: ", "" } },
    };

    (void)data;
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("case %" G_GSIZE_FORMAT, i);
        expect_file_error(fx, cases[i].contents, CONFIG_ERROR_PARSE, cases[i].needles[0],
                          cases[i].needles[1], NULL);
    }
}

static void test_file_missing(fixture *fx, gconstpointer data)
{
    char *missing = fx_path(fx, "none.conf");
    GError *err = NULL;
    config *c;

    (void)data;
    fx_chdir(fx);
    c = load(&err, "--config", missing, "--app", "/:app", NULL);
    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_USAGE);
    g_assert_true(g_str_has_prefix(err->message, missing));
    g_clear_error(&err);

    c = load(&err, "--config", fx->app, "--app", "/:app", NULL);
    g_assert_null(c);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_USAGE);
    g_assert_true(g_str_has_prefix(err->message, fx->app));
    g_clear_error(&err);
    g_free(missing);
}

/* The shipped scgi-mono.conf loads, serves samples/hello, and each of its
 * commented-out "#key = value" lines, once uncommented, states the default. */
static void test_shipped_file(fixture *fx, gconstpointer data)
{
    char *src_dir = g_path_get_dirname(__FILE__);
    char *shipped = g_build_filename(src_dir, "..", "scgi-mono.conf", NULL);
    char *text = NULL, *file, *uncommented_file, *hello;
    GRegex *re;
    char *uncommented;
    GError *err = NULL;
    config *c;

    (void)data;
    if (!g_file_get_contents(shipped, &text, NULL, NULL)) {
        g_test_skip("scgi-mono.conf not found (run from the repository root)");
        goto out;
    }
    fx_mkdir(fx, "samples/hello");
    hello = fx_path(fx, "samples/hello");
    file = fx_write(fx, "scgi-mono.conf", text);
    c = load(&err, "--config", file, NULL);
    g_assert_no_error(err);
    assert_defaults_except_lists(c);
    assert_default_listen(c);
    g_assert_cmpuint(c->apps->len, ==, 1);
    g_assert_cmpstr(app_at(c, 0)->name, ==, "hello");
    g_assert_cmpstr(app_at(c, 0)->vpath, ==, "/");
    g_assert_cmpstr(app_at(c, 0)->path, ==, hello);
    config_free(c);

    re = g_regex_new("^#([a-z_]+ = )", G_REGEX_MULTILINE, 0, &err);
    g_assert_no_error(err);
    uncommented = g_regex_replace(re, text, -1, 0, "\\1", 0, &err);
    g_assert_no_error(err);
    uncommented_file = fx_write(fx, "uncommented.conf", uncommented);
    c = load(&err, "--config", uncommented_file, NULL);
    g_assert_no_error(err);
    assert_defaults_except_lists(c);
    assert_default_listen(c);
    config_free(c);
    {
        static const char *const keys[] = { "concurrency", "queue", "max_connections", "max_header", "max_headers",
                                             "inherited_protocols", "max_body", "body_buffer", "max_spool",
                                             "header_timeout", "body_timeout", "write_timeout", "write_buffer",
                                             "keepalive_timeout", "shutdown_timeout", "drain_delay", "apache_status",
                                             "scgi_lenient", "socket_mode", "listen", "workers",
                                             "hang_timeout", "request_timeout", "max_requests", "max_rss",
                                             "max_age", "slow_request_timeout", "stats_interval", "watch", "warmup_timeout",
                                             "error_log", "access_log", "access_log_format", "log_level",
                                             "allow_root" }; /* user, group: no default to show */
        GKeyFile *kf = g_key_file_new();
        g_key_file_load_from_data(kf, uncommented, -1, G_KEY_FILE_NONE, &err);
        g_assert_no_error(err);
        for (gsize i = 0; i < G_N_ELEMENTS(keys); i++)
            if (!g_key_file_has_key(kf, "server", keys[i], NULL))
                g_error("scgi-mono.conf does not show the default of %s", keys[i]);
        g_assert_nonnull(strstr(text, "\n# threads:"));
        g_key_file_free(kf);
    }
    g_regex_unref(re);
    g_free(uncommented);
    g_free(uncommented_file);
    g_free(file);
    g_free(hello);
out:
    g_free(text);
    g_free(shipped);
    g_free(src_dir);
}

/* ---- listen specs ---- */

/* "scgi:" or "http:" before the address limits the listener to that protocol;
 * without a prefix it accepts both, as before. */
static void test_listen_protocols(void)
{
    static const struct {
        const char *text;
        listen_protocols protocols;
        listen_kind kind;
        const char *host_or_path;
    } ok[] = {
        { "scgi:tcp:127.0.0.1:9000", LISTEN_PROTO_SCGI, LISTEN_TCP, "127.0.0.1" },
        { "http:tcp:127.0.0.1:8000", LISTEN_PROTO_HTTP, LISTEN_TCP, "127.0.0.1" },
        { "http:tcp:[::1]:8000", LISTEN_PROTO_HTTP, LISTEN_TCP, "::1" },
        { "scgi:unix:/run/x.sock", LISTEN_PROTO_SCGI, LISTEN_UNIX, "/run/x.sock" },
        { "http:unix:scgi:x", LISTEN_PROTO_HTTP, LISTEN_UNIX, "scgi:x" },
        { "tcp:127.0.0.1:8000", LISTEN_PROTO_BOTH, LISTEN_TCP, "127.0.0.1" },
        { "unix:/run/x.sock", LISTEN_PROTO_BOTH, LISTEN_UNIX, "/run/x.sock" },
    };
    static const char *const bad[] = {
        "scgi:", "http:", "scgi:http:tcp:127.0.0.1:1", "http:scgi:tcp:127.0.0.1:1", "SCGI:tcp:127.0.0.1:1",
        "both:tcp:127.0.0.1:1", "https:tcp:127.0.0.1:1", "scgi:127.0.0.1:9000", "scgi tcp:127.0.0.1:1",
    };
    GError *err = NULL;

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        listen_spec *l = config_parse_listen(ok[i].text, &err);
        g_assert_no_error(err);
        g_assert_cmpint(l->protocols, ==, ok[i].protocols);
        g_assert_cmpint(l->kind, ==, ok[i].kind);
        g_assert_cmpstr(l->kind == LISTEN_TCP ? l->host : l->path, ==, ok[i].host_or_path);
        g_assert_cmpstr(l->spec, ==, ok[i].text);
        listen_spec_free(l);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *quoted = g_strdup_printf("'%s'", bad[i]);
        g_assert_null(config_parse_listen(bad[i], &err));
        g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
        g_assert_nonnull(strstr(err->message, quoted));
        g_assert_nonnull(strstr(err->message, "[scgi:|http:]"));
        g_clear_error(&err);
        g_free(quoted);
    }
    g_assert_cmpstr(listen_protocols_name(LISTEN_PROTO_SCGI), ==, "SCGI");
    g_assert_cmpstr(listen_protocols_name(LISTEN_PROTO_HTTP), ==, "HTTP");
    g_assert_cmpstr(listen_protocols_name(LISTEN_PROTO_BOTH), ==, "SCGI and HTTP");
}

/* --listen takes the same prefixes. */
static void test_listen_protocols_cli(fixture *fx, gconstpointer data)
{
    GError *err = NULL;
    char *arg = g_strdup_printf("/:%s", fx->app);
    config *c = load(&err, "--listen", "scgi:tcp:127.0.0.1:9000", "--listen", "http:unix:/tmp/h.sock",
                     "--app", arg, NULL);

    (void)data;
    g_assert_no_error(err);
    g_assert_cmpuint(c->listen->len, ==, 2);
    g_assert_cmpint(listen_at(c, 0)->protocols, ==, LISTEN_PROTO_SCGI);
    g_assert_cmpint(listen_at(c, 0)->port, ==, 9000);
    g_assert_cmpint(listen_at(c, 1)->protocols, ==, LISTEN_PROTO_HTTP);
    g_assert_cmpstr(listen_at(c, 1)->path, ==, "/tmp/h.sock");
    config_free(c);
    g_free(arg);
}

static void test_listen_specs(void)
{
    static const struct {
        const char *text;
        gboolean ok;
        listen_kind kind;
        const char *host_or_path;
        int port;
    } cases[] = {
        { "tcp:127.0.0.1:8000", TRUE, LISTEN_TCP, "127.0.0.1", 8000 },
        { "tcp:0.0.0.0:1", TRUE, LISTEN_TCP, "0.0.0.0", 1 },
        { "tcp:localhost:65535", TRUE, LISTEN_TCP, "localhost", 65535 },
        { "tcp:web-1.example.com:80", TRUE, LISTEN_TCP, "web-1.example.com", 80 },
        { "tcp:[::1]:8000", TRUE, LISTEN_TCP, "::1", 8000 },
        { "tcp:[::]:8000", TRUE, LISTEN_TCP, "::", 8000 },
        { "tcp:[2001:db8::17]:443", TRUE, LISTEN_TCP, "2001:db8::17", 443 },
        { "tcp:[::ffff:127.0.0.1]:8080", TRUE, LISTEN_TCP, "::ffff:127.0.0.1", 8080 },
        { "unix:/run/scgi-mono/scgi.sock", TRUE, LISTEN_UNIX, "/run/scgi-mono/scgi.sock", 0 },
        { "unix:relative.sock", TRUE, LISTEN_UNIX, "relative.sock", 0 },
        { "unix:/a:b", TRUE, LISTEN_UNIX, "/a:b", 0 },
        { "", FALSE, 0, NULL, 0 },
        { "tcp:", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:0", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:65536", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:80x", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:+80", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1:-80", FALSE, 0, NULL, 0 },
        { "tcp:127.0.0.1: 80", FALSE, 0, NULL, 0 },
        { "tcp::80", FALSE, 0, NULL, 0 },
        { "tcp:::1:80", FALSE, 0, NULL, 0 },
        { "tcp:2001:db8::1:80", FALSE, 0, NULL, 0 },
        { "tcp:[::1]", FALSE, 0, NULL, 0 },
        { "tcp:[::1]80", FALSE, 0, NULL, 0 },
        { "tcp:[::1:80", FALSE, 0, NULL, 0 },
        { "tcp:[]:80", FALSE, 0, NULL, 0 },
        { "tcp:[127.0.0.1]:80", FALSE, 0, NULL, 0 },
        { "tcp:[::g]:80", FALSE, 0, NULL, 0 },
        { "tcp:999.1.1.1:80", FALSE, 0, NULL, 0 },
        { "tcp:1.2.3:80", FALSE, 0, NULL, 0 },
        { "tcp:bad host:80", FALSE, 0, NULL, 0 },
        { "tcp:a..b:80", FALSE, 0, NULL, 0 },
        { "tcp:*:80", FALSE, 0, NULL, 0 },
        { "unix:", FALSE, 0, NULL, 0 },
        { "TCP:127.0.0.1:80", FALSE, 0, NULL, 0 },
        { "udp:127.0.0.1:53", FALSE, 0, NULL, 0 },
        { "127.0.0.1:8000", FALSE, 0, NULL, 0 },
        { "http://127.0.0.1:8000/", FALSE, 0, NULL, 0 },
    };
    char *longest = g_strnfill(107, 'x'), *too_long = g_strnfill(108, 'x');
    char *longest_spec = g_strconcat("unix:", longest, NULL);
    char *too_long_spec = g_strconcat("unix:", too_long, NULL);
    GError *err = NULL;
    listen_spec *l;

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_test_message("listen spec '%s'", cases[i].text);
        l = config_parse_listen(cases[i].text, &err);
        if (!cases[i].ok) {
            char *quoted = g_strdup_printf("'%s'", cases[i].text);
            g_assert_null(l);
            g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
            g_assert_nonnull(strstr(err->message, quoted));
            g_assert_nonnull(strstr(err->message, "tcp:HOST:PORT, tcp:[IPV6]:PORT or unix:PATH"));
            g_clear_error(&err);
            g_free(quoted);
            continue;
        }
        g_assert_no_error(err);
        g_assert_cmpint(l->kind, ==, cases[i].kind);
        g_assert_cmpstr(l->spec, ==, cases[i].text);
        if (l->kind == LISTEN_TCP) {
            g_assert_cmpstr(l->host, ==, cases[i].host_or_path);
            g_assert_cmpint(l->port, ==, cases[i].port);
            g_assert_null(l->path);
        } else {
            g_assert_cmpstr(l->path, ==, cases[i].host_or_path);
            g_assert_null(l->host);
        }
        listen_spec_free(l);
    }

    l = config_parse_listen(longest_spec, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(l->path, ==, longest);
    listen_spec_free(l);
    l = config_parse_listen(too_long_spec, &err);
    g_assert_null(l);
    g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
    g_assert_nonnull(strstr(err->message, "too long"));
    g_clear_error(&err);
    g_free(longest);
    g_free(too_long);
    g_free(longest_spec);
    g_free(too_long_spec);
}

/* ---- --app specs ---- */

static void test_app_specs(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *text;
        const char *vhost;  /* for bad cases: a needle of the message, or NULL */
        const char *vpath;  /* NULL: must fail */
        const char *dir;    /* relative to the fixture's directory */
    } cases[] = {
        { "/:app", NULL, "/", "app" },
        { "/x/:app/", NULL, "/x", "app" },
        { "//a//b//:app", NULL, "/a/b", "app" },
        { "///:app", NULL, "/", "app" },
        { "/:./app/../app", NULL, "/", "app" },
        { "/shop:app/sub", NULL, "/shop", "app/sub" },
        { "www.example.com:/:app", "www.example.com", "/", "app" },
        { "WWW.Example.COM:/shop/:app/sub", "www.example.com", "/shop", "app/sub" },
        { "10.0.0.1:/x:app", "10.0.0.1", "/x", "app" },
        { "/w:we:ird", NULL, "/w", "we:ird" },
        { "", "expected [VHOST:]VPATH:DIR", NULL, NULL },
        { "/", "missing ':DIR'", NULL, NULL },
        { "/:", "the directory is empty", NULL, NULL },
        { "app", "missing ':'", NULL, NULL },
        { "host:app", "must start with '/'", NULL, NULL },
        { "host:/x", "missing ':DIR'", NULL, NULL },
        { ":/:app", "'' is neither a host name", NULL, NULL },
        { "bad host:/:app", "'bad host' is neither a host name", NULL, NULL },
        { "a/b:/:app", "'a/b' is neither", NULL, NULL },
        { "/x:nowhere", "'nowhere' (", NULL, NULL },
        { "/x:file.txt", "is not an existing directory", NULL, NULL },
        { "/a/../b:app", "'.' and '..' segments are not allowed", NULL, NULL },
        { "/./:app", "'.' and '..'", NULL, NULL },
        { "/..:app", "'.' and '..'", NULL, NULL },
        { "/a?b:app", "'?'", NULL, NULL },
        { "/a#b:app", "'#'", NULL, NULL },
    };

    (void)data;
    fx_mkdir(fx, "app/sub");
    fx_mkdir(fx, "we:ird");
    fx_chdir(fx);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        app_spec *a = config_parse_app(cases[i].text, &err);
        g_test_message("app spec '%s'", cases[i].text);
        if (!cases[i].vpath) {
            char *prefix = g_strdup_printf("application '%s': ", cases[i].text);
            g_assert_null(a);
            g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
            g_assert_true(g_str_has_prefix(err->message, prefix));
            if (!strstr(err->message, cases[i].vhost))
                g_error("message \"%s\" lacks \"%s\"", err->message, cases[i].vhost);
            g_error_free(err);
            g_free(prefix);
        } else {
            char *dir = fx_path(fx, cases[i].dir);
            g_assert_no_error(err);
            g_assert_cmpstr(a->vhost, ==, cases[i].vhost);
            g_assert_cmpstr(a->vpath, ==, cases[i].vpath);
            g_assert_cmpstr(a->path, ==, dir);
            g_assert_cmpint(a->apache_status, ==, -1);
            g_assert_nonnull(a->name);
            app_spec_free(a);
            g_free(dir);
        }
    }
}

static void test_duplicate_app(fixture *fx, gconstpointer data)
{
    static const struct {
        const char *first, *second;
        gboolean ok;
    } cases[] = {
        { "/:app", "/:app", FALSE },
        { "/x:app", "/x/:app/sub", FALSE },
        { "a.com:/:app", "A.COM:/:app", FALSE },
        { "/:app", "a.com:/:app", TRUE },
        { "a.com:/:app", "b.com:/:app", TRUE },
        { "/x:app", "/y:app", TRUE },
    };
    (void)data;
    fx_mkdir(fx, "app/sub");
    fx_chdir(fx);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        config *c = load(&err, "--app", cases[i].first, "--app", cases[i].second, NULL);
        g_test_message("--app %s --app %s", cases[i].first, cases[i].second);
        if (cases[i].ok) {
            g_assert_no_error(err);
            g_assert_cmpuint(c->apps->len, ==, 2);
            config_free(c);
        } else {
            g_assert_null(c);
            g_assert_error(err, CONFIG_ERROR, CONFIG_ERROR_VALUE);
            g_assert_nonnull(strstr(err->message, cases[i].second));
            g_assert_nonnull(strstr(err->message, "is already served by application 'cli1'"));
            g_error_free(err);
        }
    }
    expect_file_error(fx, "[app:a]\nvpath = /\npath = app\n[app:b]\nvpath = //\npath = app/sub\n",
                      CONFIG_ERROR_VALUE, ": [app:b]: virtual path '/' on any host is already served by application 'a'",
                      NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define FX(path, fn) g_test_add(path, fixture, NULL, fx_setup, fn, fx_teardown)
    FX("/config/defaults", test_defaults);
    FX("/config/no-app", test_no_app);
    FX("/config/cli/short-options", test_cli_short_options);
    FX("/config/cli/errors", test_cli_errors);
    FX("/config/cli/argv-untouched", test_argv_untouched);
    g_test_add_func("/config/cli/version", test_version);
    g_test_add_func("/config/cli/help", test_help);
    g_test_add_func("/config/free-null", test_free_null);
    FX("/config/file/every-key", test_file_every_key);
    FX("/config/file/bounds", test_file_bounds);
    FX("/config/file/relative-path", test_file_relative_path);
    FX("/config/file/cli-overrides", test_file_cli_overrides);
    FX("/config/file/bad-server-values", test_file_bad_server_values);
    FX("/config/file/message-form", test_file_message_form);
    FX("/config/file/bad-app-values", test_file_bad_app_values);
    FX("/config/file/unknown-group-or-key", test_file_unknown);
    FX("/config/file/syntax-errors", test_file_syntax_errors);
    FX("/config/file/missing", test_file_missing);
    FX("/config/file/shipped", test_shipped_file);
    g_test_add_func("/config/listen-specs", test_listen_specs);
    g_test_add_func("/config/listen-protocols", test_listen_protocols);
    FX("/config/cli/listen-protocols", test_listen_protocols_cli);
    FX("/config/app-specs", test_app_specs);
    FX("/config/duplicate-app", test_duplicate_app);
#undef FX
    return g_test_run();
}
