/* config_file: scgi-mono.conf over GKeyFile (config_int.h: cfg_load_file).
 *
 * Groups: [server] (the keys of server_keys, each checked by its grammar in
 * config_spec.c) and [app:NAME] (app_keys). An unknown group or key is an
 * error that lists the known ones. Messages read "FILE: [GROUP] KEY: ...",
 * with the line number when the file does not parse.
 */
#include "config_int.h"

#include <stddef.h>
#include <string.h>

typedef enum { K_LISTEN, K_INT, K_SIZE, K_INT64, K_BOOL, K_MODE, K_PROTOCOLS, K_LOGFILE, K_ACCESSLOG, K_ACCESSLOG_FORMAT,
               K_LOGLEVEL, K_NAME, K_STATUS_LISTEN, K_CONCURRENCY } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t offset; /* of the field in config */
    gint64 min, max;
} server_key;

static const server_key server_keys[] = {
    { "listen", K_LISTEN, 0, 0, 0 },
    { "threads", K_INT, offsetof(config, threads), 1, MAX_THREADS },
    { "concurrency", K_CONCURRENCY, offsetof(config, concurrency), 1, MAX_THREADS },
    { "queue", K_INT, offsetof(config, queue), 1, 1000000 },
    { "max_connections", K_INT, offsetof(config, max_connections), 1, 1000000 },
    { "max_header", K_SIZE, offsetof(config, max_header), 1024, 16777216 },
    { "max_headers", K_INT, offsetof(config, max_headers), 1, 1000000 },
    { "max_body", K_INT64, offsetof(config, max_body), 0, G_MAXINT32 },
    { "body_buffer", K_INT64, offsetof(config, body_buffer), 0, G_MAXINT32 },
    { "max_spool", K_INT64, offsetof(config, max_spool), 0, G_MAXINT64 },
    { "header_timeout", K_INT, offsetof(config, header_timeout), 1, MAX_TIMEOUT },
    { "body_timeout", K_INT, offsetof(config, body_timeout), 1, MAX_TIMEOUT },
    { "write_timeout", K_INT, offsetof(config, write_timeout), 1, MAX_TIMEOUT },
    { "write_buffer", K_INT64, offsetof(config, write_buffer), 0, G_MAXINT32 },
    { "keepalive_timeout", K_INT, offsetof(config, keepalive_timeout), 1, MAX_TIMEOUT },
    { "shutdown_timeout", K_INT, offsetof(config, shutdown_timeout), 1, MAX_TIMEOUT },
    { "drain_delay", K_INT, offsetof(config, drain_delay), 0, MAX_TIMEOUT },
    { "hang_timeout", K_INT, offsetof(config, hang_timeout), 0, MAX_TIMEOUT },
    { "request_timeout", K_INT, offsetof(config, request_timeout), 0, MAX_TIMEOUT },
    { "slow_request_timeout", K_INT, offsetof(config, slow_request_timeout), 0, MAX_TIMEOUT },
    { "stats_interval", K_INT, offsetof(config, stats_interval), 0, MAX_TIMEOUT },
    { "max_requests", K_INT64, offsetof(config, max_requests), 0, G_MAXINT64 },
    { "max_rss", K_INT64, offsetof(config, max_rss), 0, G_MAXINT32 },
    { "max_age", K_INT, offsetof(config, max_age), 0, 10 * 365 * 86400 },
    { "warmup_timeout", K_INT, offsetof(config, warmup_timeout), 1, MAX_TIMEOUT },
    { "workers", K_INT, offsetof(config, workers), 1, 256 },
    { "apache_status", K_BOOL, offsetof(config, apache_status), 0, 0 },
    { "scgi_lenient", K_BOOL, offsetof(config, scgi_lenient), 0, 0 },
    { "watch", K_BOOL, offsetof(config, watch), 0, 0 },
    { "socket_mode", K_MODE, offsetof(config, socket_mode), 0, 0 },
    { "inherited_protocols", K_PROTOCOLS, offsetof(config, inherited_protocols), 0, 0 },
    { "error_log", K_LOGFILE, offsetof(config, error_log), 0, 0 },
    { "access_log", K_ACCESSLOG, offsetof(config, access_log), 0, 0 },
    { "access_log_format", K_ACCESSLOG_FORMAT, offsetof(config, access_log_format), 0, 0 },
    { "log_level", K_LOGLEVEL, offsetof(config, log_level), 0, 0 },
    { "user", K_NAME, offsetof(config, user), 0, 0 },
    { "group", K_NAME, offsetof(config, group), 0, 0 },
    { "allow_root", K_BOOL, offsetof(config, allow_root), 0, 0 },
    { "status_listen", K_STATUS_LISTEN, offsetof(config, status_listen), 0, 0 },
};

static const char *const app_keys[] = { "vpath", "path", "vhost", "sendfile", "x_accel_prefix", "warmup",
                                        "precompile" };

/* ---- syntax errors ---- */

static gboolean prefix_fails_to_parse(const char *data, gsize len)
{
    GKeyFile *kf = g_key_file_new();
    gboolean ok = g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, NULL);

    g_key_file_free(kf);
    return !ok;
}

/* Length of the first `lines` lines of data, newlines included. */
static gsize prefix_length(const char *data, gsize len, gsize lines)
{
    gsize i = 0;

    for (; i < len && lines > 0; i++)
        if (data[i] == '\n')
            lines--;
    return i;
}

/* GLib's parse errors quote the bad line but not its number. Parsing goes
 * line by line and stops at the first bad one, so a prefix of whole lines
 * fails exactly when it contains that line: binary search for the shortest.
 * Returns 0 if no prefix fails (then the number is not known). */
static gsize syntax_error_line(const char *data, gsize len)
{
    gsize lo = 1, hi = 1;

    for (gsize i = 0; i < len; i++)
        if (data[i] == '\n' && i + 1 < len)
            hi++;
    if (!prefix_fails_to_parse(data, len))
        return 0;
    while (lo < hi) {
        gsize mid = lo + (hi - lo) / 2;
        if (prefix_fails_to_parse(data, prefix_length(data, len, mid)))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- values ---- */

/* The value of group/key, unescaped by GKeyFile and stripped of spaces. */
static char *get_string(GKeyFile *kf, const char *file, const char *group, const char *key,
                        GError **error)
{
    GError *err = NULL;
    char *v = g_key_file_get_string(kf, group, key, &err);

    if (!v) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [%s] %s: %s", file, group, key,
                    err->message);
        g_error_free(err);
        return NULL;
    }
    return g_strstrip(v);
}

/* The ';'-separated list group/key, or NULL with error. */
static char **get_list(GKeyFile *kf, const char *file, const char *group, const char *key,
                       GError **error)
{
    GError *err = NULL;
    char **items = g_key_file_get_string_list(kf, group, key, NULL, &err);

    if (!items) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [%s] %s: %s", file, group, key,
                    err->message);
        g_error_free(err);
    }
    return items;
}

/* ---- [server] ---- */

static gboolean load_listen_list(config *c, GKeyFile *kf, const char *file, GError **error)
{
    GPtrArray *list = cfg_listen_array_new();
    char **items = get_list(kf, file, "server", "listen", error);
    gboolean ok = FALSE;

    if (!items)
        goto out;
    for (char **it = items; *it; it++) {
        listen_spec *l;
        if (*g_strstrip(*it) == '\0')
            continue; /* "a;b;" and "a; b" are both fine */
        l = config_parse_listen(*it, error);
        if (!l) {
            g_prefix_error(error, "%s: [server] listen: ", file);
            goto out;
        }
        g_ptr_array_add(list, l);
    }
    if (list->len == 0) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [server] listen: no address given (%s)",
                    file, LISTEN_FORMS);
        goto out;
    }
    g_ptr_array_unref(c->listen);
    c->listen = g_steal_pointer(&list);
    ok = TRUE;
out:
    g_strfreev(items);
    if (list)
        g_ptr_array_unref(list);
    return ok;
}

/* Parses v by k's grammar into k's field of c. */

/* access_log: off or an absolute path (the workers open it themselves and
 * reopen it on SIGUSR1). */
static gboolean parse_access_log(const char *where, const char *text, char **out, GError **error)
{
    if (strcmp(text, "off") == 0) {
        g_clear_pointer(out, g_free);
        return TRUE;
    }
    if (!g_path_is_absolute(text)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: \"%s\": off or an absolute path", where, text);
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup(text);
    return TRUE;
}

static gboolean parse_access_log_format(const char *where, const char *text, int *out, GError **error)
{
    if (strcmp(text, "combined") == 0)
        *out = ACCESS_LOG_COMBINED;
    else if (strcmp(text, "json") == 0)
        *out = ACCESS_LOG_JSON;
    else {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: \"%s\": combined or json", where, text);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_server_value(config *c, const server_key *k, const char *where, const char *v,
                                   GError **error)
{
    void *field = (char *)c + k->offset;
    gint64 n = 0;

    switch (k->kind) {
    case K_INT:
        if (!cfg_parse_bounded(where, v, k->min, k->max, &n, error))
            return FALSE;
        *(int *)field = (int)n;
        return TRUE;
    case K_SIZE:
        if (!cfg_parse_bounded(where, v, k->min, k->max, &n, error))
            return FALSE;
        *(gsize *)field = (gsize)n;
        return TRUE;
    case K_INT64:
        return cfg_parse_bounded(where, v, k->min, k->max, (gint64 *)field, error);
    case K_BOOL:
        return cfg_parse_boolean(where, v, (gboolean *)field, error);
    case K_MODE:
        return cfg_parse_mode(where, v, (int *)field, error);
    case K_PROTOCOLS:
        return cfg_parse_protocols(where, v, (listen_protocols *)field, error);
    case K_LOGFILE:
        return cfg_parse_log_file(where, v, (char **)field, error);
    case K_ACCESSLOG:
        return parse_access_log(where, v, (char **)field, error);
    case K_ACCESSLOG_FORMAT:
        return parse_access_log_format(where, v, (int *)field, error);
    case K_LOGLEVEL:
        return cfg_parse_log_level(where, v, (int *)field, error);
    case K_NAME:
        return cfg_parse_account(where, v, (char **)field, error);
    case K_STATUS_LISTEN:
        return cfg_parse_status_listen(where, v, (listen_spec **)field, error);
    case K_CONCURRENCY:
        if (g_ascii_strcasecmp(v, "auto") == 0) {
            *(int *)field = 0;
            return TRUE;
        }
        if (!cfg_parse_bounded(where, v, k->min, k->max, &n, NULL)) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: '%s' is neither auto nor a number between %d and %d", where, v, (int)k->min,
                        (int)k->max);
            return FALSE;
        }
        *(int *)field = (int)n;
        return TRUE;
    case K_LISTEN:
        break;
    }
    return FALSE;
}

static gboolean load_server_key(config *c, GKeyFile *kf, const char *file, const server_key *k,
                                GError **error)
{
    char *where, *v;
    gboolean ok;

    if (k->kind == K_LISTEN)
        return load_listen_list(c, kf, file, error);
    v = get_string(kf, file, "server", k->name, error);
    if (!v)
        return FALSE;
    where = g_strdup_printf("%s: [server] %s", file, k->name);
    ok = parse_server_value(c, k, where, v, error);
    g_free(where);
    g_free(v);
    return ok;
}

static void unknown_server_key(const char *file, const char *key, GError **error)
{
    GString *known = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(server_keys); i++)
        g_string_append_printf(known, "%s%s", i ? ", " : "", server_keys[i].name);
    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [server] %s: unknown key (known: %s)",
                file, key, known->str);
    g_string_free(known, TRUE);
}

static const server_key *find_server_key(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(server_keys); i++)
        if (strcmp(name, server_keys[i].name) == 0)
            return &server_keys[i];
    return NULL;
}

static gboolean load_server_group(config *c, GKeyFile *kf, const char *file, GError **error)
{
    char **keys = g_key_file_get_keys(kf, "server", NULL, NULL);
    gboolean ok = TRUE;

    for (char **key = keys; ok && key && *key; key++) {
        const server_key *k = find_server_key(*key);
        if (k) {
            ok = load_server_key(c, kf, file, k, error);
        } else {
            unknown_server_key(file, *key, error);
            ok = FALSE;
        }
    }
    g_strfreev(keys);
    return ok;
}

/* ---- [app:NAME] ---- */

static gboolean check_app_keys(GKeyFile *kf, const char *file, const char *group, GError **error)
{
    char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
    gboolean ok = TRUE;

    for (char **key = keys; ok && key && *key; key++) {
        ok = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(app_keys); i++)
            ok = ok || strcmp(*key, app_keys[i]) == 0;
        if (!ok)
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] %s: unknown key (known: vpath, path, vhost, sendfile, x_accel_prefix, warmup, "
                        "precompile)",
                        file, group, *key);
    }
    g_strfreev(keys);
    return ok;
}

/* One string of an [app:NAME] group, normalized and checked by the helper for
 * its key (relative paths against base). A missing optional key gives NULL
 * without an error. */
static char *load_app_value(GKeyFile *kf, const char *file, const char *group, const char *key,
                            gboolean required, const char *base, GError **error)
{
    char *raw, *v = NULL;

    if (!g_key_file_has_key(kf, group, key, NULL)) {
        if (required)
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] %s: missing (this key is required)", file, group, key);
        return NULL;
    }
    raw = get_string(kf, file, group, key, error);
    if (!raw)
        return NULL;
    if (strcmp(key, "vpath") == 0)
        v = cfg_normalize_vpath(raw, error);
    else if (strcmp(key, "vhost") == 0)
        v = cfg_normalize_vhost(raw, error);
    else
        v = cfg_resolve_dir(raw, base, error);
    if (!v)
        g_prefix_error(error, "%s: [%s] %s: ", file, group, key);
    g_free(raw);
    return v;
}

/* warmup = /;/Default.aspx?x=1 (cfg_warmup_path, each); sets a->warmup (NULL
 * if the list is empty). */
static gboolean load_warmup(app_spec *a, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    char **items = get_list(kf, file, group, "warmup", error);
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = items != NULL;

    for (char **it = items; ok && *it; it++) {
        const char *p = g_strstrip(*it);
        char *path;
        if (*p == '\0')
            continue;
        path = cfg_warmup_path(a->vpath, p, error);
        if (path)
            g_ptr_array_add(paths, path);
        else
            g_prefix_error(error, "%s: [%s] warmup: ", file, group);
        ok = path != NULL;
    }
    if (ok && paths->len) {
        g_ptr_array_add(paths, NULL);
        a->warmup = (char **)g_ptr_array_steal(paths, NULL);
    }
    g_strfreev(items);
    g_ptr_array_unref(paths);
    return ok;
}

/* A true/false key of an [app:NAME] group into *out (cfg_parse_boolean). */
static gboolean load_app_bool(GKeyFile *kf, const char *file, const char *group, const char *key, gboolean *out,
                              GError **error)
{
    char *v = get_string(kf, file, group, key, error);
    char *where = g_strdup_printf("%s: [%s] %s", file, group, key);
    gboolean ok = v && cfg_parse_boolean(where, v, out, error);

    g_free(where);
    g_free(v);
    return ok;
}

/* The optional keys sendfile (keys[0]) and x_accel_prefix (keys[1]), each
 * by its grammar, into a. */
static gboolean load_app_sendfile(app_spec *a, GKeyFile *kf, const char *file, const char *group,
                                  GError **error)
{
    const char *keys[] = { "sendfile", "x_accel_prefix" };
    gboolean ok = TRUE;

    for (gsize i = 0; ok && i < G_N_ELEMENTS(keys); i++) {
        char *v, *where, *prefix = NULL;
        if (!g_key_file_has_key(kf, group, keys[i], NULL))
            continue;
        if (!(v = get_string(kf, file, group, keys[i], error)))
            return FALSE;
        where = g_strdup_printf("%s: [%s] %s", file, group, keys[i]);
        if (i == 0)
            ok = cfg_parse_sendfile(where, v, &a->sendfile, error);
        else if ((ok = (prefix = cfg_parse_x_accel_prefix(where, v, error)) != NULL)) {
            g_free(a->x_accel_prefix);
            a->x_accel_prefix = prefix;
        }
        g_free(where);
        g_free(v);
    }
    return ok;
}

static app_spec *load_app_group(GKeyFile *kf, const char *file, const char *group,
                                const char *base, GError **error)
{
    app_spec *a = cfg_app_new(group + strlen("app:"));
    GError *err = NULL;

    if (a->name[0] == '\0') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: [%s]: the application name after 'app:' is empty", file, group);
        goto fail;
    }
    if (!check_app_keys(kf, file, group, error) ||
        !(a->vpath = load_app_value(kf, file, group, "vpath", TRUE, base, error)) ||
        !(a->path = load_app_value(kf, file, group, "path", TRUE, base, error)))
        goto fail;
    a->vhost = load_app_value(kf, file, group, "vhost", FALSE, base, &err);
    if (err) {
        g_propagate_error(error, err);
        goto fail;
    }
    if (!load_app_sendfile(a, kf, file, group, error))
        goto fail;
    if (g_key_file_has_key(kf, group, "warmup", NULL) && !load_warmup(a, kf, file, group, error))
        goto fail;
    if (g_key_file_has_key(kf, group, "precompile", NULL) && !load_app_bool(kf, file, group, "precompile",
                                                                            &a->precompile, error))
        goto fail;
    return a;
fail:
    app_spec_free(a);
    return NULL;
}

/* ---- the file ---- */

static gboolean load_groups(config *c, GKeyFile *kf, const char *file, const char *base,
                            GError **error)
{
    char **groups = g_key_file_get_groups(kf, NULL);
    gboolean ok = TRUE;

    for (char **g = groups; ok && *g; g++) {
        if (strcmp(*g, "server") == 0) {
            ok = load_server_group(c, kf, file, error);
        } else if (g_str_has_prefix(*g, "app:")) {
            app_spec *a = load_app_group(kf, file, *g, base, error);
            char *what = g_strdup_printf("%s: [%s]", file, *g);
            ok = a && cfg_add_app(c->apps, a, what, error);
            g_free(what);
        } else {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s]: unknown group (expected [server] or [app:NAME])", file, *g);
            ok = FALSE;
        }
    }
    g_strfreev(groups);
    return ok;
}

/* Reads file into data and parses it into kf; the message of a syntax error
 * carries the line number when it is known. */
static gboolean read_key_file(GKeyFile *kf, const char *file, GError **error)
{
    GError *err = NULL;
    char *data = NULL;
    gsize len = 0, line;

    if (!g_file_get_contents(file, &data, &len, &err)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_USAGE, "%s: cannot read the configuration file: %s",
                    file, err->message);
        g_error_free(err);
        return FALSE;
    }
    /* Keeping translations makes "key[de]" an unknown key whatever the locale,
     * instead of being dropped silently in most locales. */
    if (g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, &err)) {
        g_free(data);
        return TRUE;
    }
    line = syntax_error_line(data, len);
    if (line > 0)
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_PARSE, "%s: line %" G_GSIZE_FORMAT ": %s",
                    file, line, err->message);
    else
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_PARSE, "%s: %s", file, err->message);
    g_error_free(err);
    g_free(data);
    return FALSE;
}

gboolean cfg_load_file(config *c, const char *file, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    char *abs = NULL, *base = NULL;
    gboolean ok = FALSE;

    if (!read_key_file(kf, file, error))
        goto out;
    abs = g_canonicalize_filename(file, NULL);
    base = g_path_get_dirname(abs);
    if (!load_groups(c, kf, file, base, error))
        goto out;
    g_free(c->config_file);
    c->config_file = g_steal_pointer(&abs);
    ok = TRUE;
out:
    g_free(abs);
    g_free(base);
    g_key_file_free(kf);
    return ok;
}
