/* config_cli: the command line over GOptionContext (config_int.h: cfg_cli_*).
 * Messages read "command line: --option: ..."; usage errors are
 * CONFIG_ERROR_USAGE and point at --help.
 */
#include "config_int.h"

#define SUMMARY "scgi-mono-server hosts ASP.NET applications on Mono for SCGI front ends and plain HTTP"

void cfg_cli_clear(cfg_cli *o)
{
    g_free(o->config_file);
    g_strfreev(o->listen);
    g_strfreev(o->apps);
    g_free(o->threads);
}

gboolean cfg_cli_parse(int argc, char **argv, cfg_cli *o, GError **error)
{
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &o->config_file,
          "Read settings from FILE (no file is read unless this is given)", "FILE" },
        { "listen", 'l', 0, G_OPTION_ARG_STRING_ARRAY, &o->listen,
          "Accept connections on SPEC: tcp:HOST:PORT, tcp:[IPV6]:PORT or unix:PATH, after "
          "scgi: or http: to accept only that protocol (repeatable; replaces the file's list; "
          "default " DEFAULT_LISTEN ", both protocols)", "SPEC" },
        { "app", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->apps,
          "Serve the application in DIR at virtual path VPATH, for host VHOST only if given "
          "(repeatable; replaces the file's applications)", "[VHOST:]VPATH:DIR" },
        { "threads", 0, 0, G_OPTION_ARG_STRING, &o->threads,
          "Most worker threads, 1..1024 (default 16 per core, at least 64)", "N" },
        { "test", 't', 0, G_OPTION_ARG_NONE, &o->test,
          "Check the configuration and every application directory (exists, readable, web.config "
          "well-formed XML), print one line per problem, and exit: 0 if valid, 2 if not; binds "
          "nothing and starts no worker", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
        { NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL },
    };
    GOptionContext *ctx = g_option_context_new(NULL);
    char **args = g_new0(char *, argc > 0 ? argc + 1 : 1);
    GError *err = NULL;
    gboolean ok = FALSE;

    for (int i = 0; argv && i < argc; i++)
        args[i] = g_strdup(argv[i]);
    g_option_context_set_summary(ctx, SUMMARY);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse_strv(ctx, &args, &err)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_USAGE, "command line: %s (see --help)",
                    err->message);
        g_error_free(err);
        goto out;
    }
    if (args[0] && args[1]) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_USAGE,
                    "command line: unexpected argument '%s' (see --help)", args[1]);
        goto out;
    }
    ok = TRUE;
out:
    g_strfreev(args);
    g_option_context_free(ctx);
    return ok;
}

/* Every --listen, replacing c's list (and winning over inherited sockets). */
static gboolean apply_listen(config *c, char **specs, GError **error)
{
    GPtrArray *list = cfg_listen_array_new();

    for (char **it = specs; *it; it++) {
        listen_spec *l = config_parse_listen(*it, error);
        if (!l) {
            g_prefix_error(error, "command line: --listen: ");
            g_ptr_array_unref(list);
            return FALSE;
        }
        g_ptr_array_add(list, l);
    }
    g_ptr_array_unref(c->listen);
    c->listen = list;
    c->listen_from_cli = TRUE;
    return TRUE;
}

/* Every --app, named cli1, cli2..., replacing c's applications. */
static gboolean apply_apps(config *c, char **specs, GError **error)
{
    GPtrArray *apps = cfg_app_array_new();

    for (guint i = 0; specs[i]; i++) {
        app_spec *a = config_parse_app(specs[i], error);
        char *what = g_strdup_printf("command line: --app '%s'", specs[i]);
        gboolean ok;
        if (a) {
            g_free(a->name);
            a->name = g_strdup_printf("cli%u", i + 1);
        } else {
            g_prefix_error(error, "command line: --app: ");
        }
        ok = a && cfg_add_app(apps, a, what, error);
        g_free(what);
        if (!ok) {
            g_ptr_array_unref(apps);
            return FALSE;
        }
    }
    g_ptr_array_unref(c->apps);
    c->apps = apps;
    return TRUE;
}

gboolean cfg_cli_apply(config *c, const cfg_cli *o, GError **error)
{
    if (o->threads) {
        gint64 n = 0;
        if (!cfg_parse_bounded("command line: --threads", o->threads, 1, MAX_THREADS, &n, error))
            return FALSE;
        c->threads = (int)n;
    }
    if (o->listen && !apply_listen(c, o->listen, error))
        return FALSE;
    return !o->apps || apply_apps(c, o->apps, error);
}

gboolean config_test_requested(int argc, char **argv, char **config_file)
{
    cfg_cli o = { 0 };
    GError *err = NULL;
    gboolean test = FALSE;

    if (config_file)
        *config_file = NULL;
    if (cfg_cli_parse(argc, argv, &o, &err)) {
        test = o.test;
        if (config_file && o.config_file)
            *config_file = g_strdup(o.config_file);
    } else {
        /* a usage error: the check still answers "not valid" */
        for (int i = 1; argv && i < argc && !test; i++)
            test = g_strcmp0(argv[i], "-t") == 0 || g_strcmp0(argv[i], "--test") == 0;
        g_clear_error(&err);
    }
    cfg_cli_clear(&o);
    return test;
}
