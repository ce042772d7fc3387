/* config: defaults < scgi-mono.conf (GKeyFile) < command line (GOptionContext).
 *
 * Everything that is read is validated by the config module, so the rest of
 * the server may trust a config: every number is in range, every application
 * directory existed at load time, every listen spec is well formed. Messages
 * name the source ("FILE: [group] key: ..." or "command line: --option: ...")
 * so that a typo is found without reading this code.
 *
 * This file holds the model (defaults, freeing, nesting, the duplicate check
 * shared by file and command line) and config_load, which merges the sources;
 * config_int.h says where the rest lives.
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(scgi-mono-config-error-quark, config_error)

/* ---- freeing ---- */

void listen_spec_free(listen_spec *l)
{
    if (!l)
        return;
    g_free(l->host);
    g_free(l->path);
    g_free(l->spec);
    g_free(l);
}

void app_spec_free(app_spec *a)
{
    if (!a)
        return;
    g_free(a->name);
    g_free(a->vhost);
    g_free(a->x_accel_prefix);
    g_free(a->vpath);
    g_free(a->path);
    g_strfreev(a->inner_mounts);
    g_strfreev(a->warmup);
    g_free(a);
}

/* "rel" when inner is outer + "/" + rel (outer "/": inner minus its '/'), else NULL */
static const char *dir_inside(const char *outer, const char *inner)
{
    if (!outer || !inner)
        return NULL;
    gsize n = strlen(outer);
    if (n == 1 && outer[0] == '/')
        return inner[0] == '/' && inner[1] ? inner + 1 : NULL;
    if (strncmp(outer, inner, n) != 0 || inner[n] != '/' || !inner[n + 1])
        return NULL;
    return inner + n + 1;
}

/* Sets apps[i]'s inner_mounts from every other application whose directory
 * lies inside its own, as written or resolved (real[], realpath, may hold NULL). */
static void nest_one_app(GPtrArray *apps, char **real, guint i)
{
    app_spec *a = g_ptr_array_index(apps, i);
    GPtrArray *mounts = g_ptr_array_new();
    gboolean root = a->vpath[0] == '/' && a->vpath[1] == '\0';

    for (guint k = 0; k < apps->len; k++) {
        app_spec *b = g_ptr_array_index(apps, k);
        if (k == i)
            continue;
        const char *rels[2] = { dir_inside(a->path, b->path), dir_inside(real[i], real[k]) };
        for (int r = 0; r < 2; r++) {
            if (!rels[r] || (r == 1 && rels[0] && strcmp(rels[0], rels[1]) == 0))
                continue;
            g_ptr_array_add(mounts, g_strconcat(root ? "" : a->vpath, "/", rels[r], NULL));
        }
    }
    g_strfreev(a->inner_mounts);
    a->inner_mounts = NULL;
    if (mounts->len) {
        g_ptr_array_add(mounts, NULL);
        a->inner_mounts = (char **)g_ptr_array_free(mounts, FALSE);
    } else {
        g_ptr_array_free(mounts, TRUE);
    }
}

void config_nest_apps(GPtrArray *apps)
{
    char **real = g_new0(char *, apps->len + 1);

    for (guint i = 0; i < apps->len; i++) {
        app_spec *a = g_ptr_array_index(apps, i);
        real[i] = realpath(a->path, NULL);
    }
    for (guint i = 0; i < apps->len; i++)
        nest_one_app(apps, real, i);
    for (guint i = 0; i < apps->len; i++)
        free(real[i]);
    g_free(real);
}

void config_free(config *c)
{
    if (!c)
        return;
    if (c->listen)
        g_ptr_array_unref(c->listen);
    if (c->apps)
        g_ptr_array_unref(c->apps);
    g_free(c->config_file);
    g_free(c->error_log);
    g_free(c->user);
    g_free(c->group);
    g_free(c->access_log);
    listen_spec_free(c->status_listen);
    g_free(c);
}

GPtrArray *cfg_listen_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)listen_spec_free);
}

GPtrArray *cfg_app_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)app_spec_free);
}

config *cfg_new_defaults(void)
{
    config *c = g_new0(config, 1);

    c->listen = cfg_listen_array_new();
    c->apps = cfg_app_array_new();
    /* a most, not a number running: CPU-bound requests run one per CPU
     * whatever it is (concurrency = auto, pool.h); threads beyond are started
     * only while requests block, and an idle one costs about 250 KiB */
    c->threads = CLAMP(MAX(64, 16 * (int)g_get_num_processors()), 1, MAX_THREADS);
    c->queue = 256;
    c->max_connections = 1024;
    c->max_header = 65536;
    c->inherited_protocols = LISTEN_PROTO_BOTH;
    c->max_headers = 100;
    c->max_body = G_GINT64_CONSTANT(104857600);
    c->body_buffer = 1048576;
    c->max_spool = G_GINT64_CONSTANT(4294967296);
    c->header_timeout = 30;
    c->body_timeout = 30;
    c->write_timeout = 60;
    c->write_buffer = 262144;
    c->keepalive_timeout = 15;
    c->shutdown_timeout = 30;
    c->drain_delay = 0;
    c->hang_timeout = 30;
    c->request_timeout = 300;
    c->slow_request_timeout = 0;
    c->stats_interval = 0;
    c->max_requests = 0;
    c->max_rss = 0;
    c->max_age = 0;
    c->warmup_timeout = 60;
    c->workers = 1;
    c->apache_status = TRUE;
    c->scgi_lenient = FALSE;
    c->watch = TRUE;
    c->socket_mode = 0660;
    c->log_level = 2; /* LOG_LEVEL_NOTICE (log.h) */
    c->access_log_format = ACCESS_LOG_COMBINED;
    return c;
}

app_spec *cfg_app_new(const char *name)
{
    app_spec *a = g_new0(app_spec, 1);

    a->apache_status = -1;
    a->x_accel_prefix = g_strdup(DEFAULT_X_ACCEL_PREFIX);
    a->name = g_strdup(name);
    return a;
}

gboolean cfg_add_app(GPtrArray *apps, app_spec *a, const char *what, GError **error)
{
    for (guint i = 0; i < apps->len; i++) {
        app_spec *o = g_ptr_array_index(apps, i);
        if (g_strcmp0(o->vhost, a->vhost) == 0 && strcmp(o->vpath, a->vpath) == 0) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: virtual path '%s' on %s%s is already served by application '%s'",
                        what, a->vpath, a->vhost ? "host " : "any host", a->vhost ? a->vhost : "",
                        o->name);
            app_spec_free(a);
            return FALSE;
        }
    }
    g_ptr_array_add(apps, a);
    return TRUE;
}

/* On --version: prints it, sets *exit_now and returns NULL without an error. */
config *config_load(int argc, char **argv, gboolean *exit_now, GError **error)
{
    cfg_cli o = { 0 };
    config *c = NULL;

    if (exit_now)
        *exit_now = FALSE;
    if (!cfg_cli_parse(argc, argv, &o, error))
        goto out;
    if (o.version) {
        g_print("scgi-mono-server %s\n", SCGI_MONO_VERSION);
        if (exit_now)
            *exit_now = TRUE;
        goto out;
    }
    c = cfg_new_defaults();
    if ((o.config_file && !cfg_load_file(c, o.config_file, error)) || !cfg_cli_apply(c, &o, error))
        goto fail;
    if (c->listen->len == 0)
        g_ptr_array_add(c->listen, config_parse_listen(DEFAULT_LISTEN, NULL));
    if (c->apps->len == 0) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_USAGE,
                    "no application configured: give --app VPATH:DIR or an [app:NAME] group in the "
                    "configuration file");
        goto fail;
    }
    config_nest_apps(c->apps);
    goto out;
fail:
    config_free(c);
    c = NULL;
out:
    cfg_cli_clear(&o);
    return c;
}
