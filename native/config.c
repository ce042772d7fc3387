/* config: defaults < scgi-mono.conf (GKeyFile) < command line (GOptionContext).
 *
 * Everything that is read is validated here, so the rest of the server may
 * trust a config: every number is in range, every application directory
 * existed at load time, every listen spec is well formed. Messages name the
 * source ("FILE: [group] key: ..." or "command line: --option: ...") so that a
 * typo is found without reading this code.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#define SUMMARY "scgi-mono-server hosts ASP.NET applications on Mono for SCGI front ends and plain HTTP"
#define DEFAULT_LISTEN "tcp:127.0.0.1:8000"
#define LISTEN_FORMS "expected [scgi:|http:]tcp:HOST:PORT, tcp:[IPV6]:PORT or unix:PATH"
#define APP_FORM "expected [VHOST:]VPATH:DIR"
#define MAX_THREADS 1024
#define MAX_TIMEOUT 86400

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

void config_nest_apps(GPtrArray *apps)
{
    char **real = g_new0(char *, apps->len + 1);
    for (guint i = 0; i < apps->len; i++) {
        app_spec *a = g_ptr_array_index(apps, i);
        real[i] = realpath(a->path, NULL);
    }
    for (guint i = 0; i < apps->len; i++) {
        app_spec *a = g_ptr_array_index(apps, i);
        GPtrArray *mounts = g_ptr_array_new();
        for (guint k = 0; k < apps->len; k++) {
            app_spec *b = g_ptr_array_index(apps, k);
            if (k == i)
                continue;
            const char *rels[2] = { dir_inside(a->path, b->path), dir_inside(real[i], real[k]) };
            for (int r = 0; r < 2; r++) {
                if (!rels[r] || (r == 1 && rels[0] && strcmp(rels[0], rels[1]) == 0))
                    continue;
                gboolean root = a->vpath[0] == '/' && a->vpath[1] == '\0';
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
    g_free(c);
}

static GPtrArray *listen_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)listen_spec_free);
}

static GPtrArray *app_array_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)app_spec_free);
}

/* The listen list is left empty: config_load adds DEFAULT_LISTEN only when
 * neither the file nor the command line named one. */
static config *config_new_defaults(void)
{
    config *c = g_new0(config, 1);

    c->listen = listen_array_new();
    c->apps = app_array_new();
    c->threads = CLAMP(4 * (int)g_get_num_processors(), 1, MAX_THREADS);
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
    c->hang_timeout = 30;
    c->request_timeout = 300;
    c->slow_request_timeout = 0;
    c->max_requests = 0;
    c->max_rss = 0;
    c->max_age = 0;
    c->warmup_timeout = 60;
    c->workers = 1;
    c->apache_status = TRUE;
    c->scgi_lenient = FALSE;
    c->watch = TRUE;
    c->socket_mode = 0660;
    return c;
}

/* ---- scalar values ---- */

static gboolean all_chars_in(const char *s, const char *set)
{
    return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* Decimal digits only (no sign, no spaces), min..max. `where` prefixes the message. */
static gboolean parse_bounded(const char *where, const char *text, gint64 min, gint64 max,
                              gint64 *out, GError **error)
{
    if (!all_chars_in(text, "0123456789")) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: '%s' is not a %s integer",
                    where, text, min > 0 ? "positive" : "non-negative");
        return FALSE;
    }
    if (!g_ascii_string_to_signed(text, 10, min, max, out, NULL)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: '%s' is out of range: must be between %" G_GINT64_FORMAT
                    " and %" G_GINT64_FORMAT, where, text, min, max);
        return FALSE;
    }
    return TRUE;
}

static gboolean parse_boolean(const char *where, const char *text, gboolean *out, GError **error)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (g_ascii_strcasecmp(text, yes[i]) == 0) {
            *out = TRUE;
            return TRUE;
        }
        if (g_ascii_strcasecmp(text, no[i]) == 0) {
            *out = FALSE;
            return TRUE;
        }
    }
    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                "%s: '%s' is not a boolean (true or false)", where, text);
    return FALSE;
}

static gboolean parse_mode(const char *where, const char *text, int *out, GError **error)
{
    guint64 v = 0;

    if (!all_chars_in(text, "01234567") || !g_ascii_string_to_unsigned(text, 8, 0, 0777, &v, NULL)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: '%s' is not an octal permission mode between 0 and 0777 (like 0660)",
                    where, text);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

/* ---- listen specs ---- */

/* A host name (letters, digits, '-', '_', '.') or, if it looks numeric, a
 * dotted-quad IPv4 literal: "999.1.1.1" is refused rather than resolved. */
static gboolean valid_host(const char *h)
{
    struct in_addr a4;

    if (all_chars_in(h, "0123456789."))
        return inet_pton(AF_INET, h, &a4) == 1;
    return strlen(h) <= 253 && h[0] != '.' && h[0] != '-' && strstr(h, "..") == NULL &&
           all_chars_in(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
}

/* Parses the part after "tcp:". Returns NULL on success or the reason it failed. */
static const char *parse_tcp(const char *s, char **host, int *port)
{
    const char *port_text;
    gint64 p = 0;
    struct in6_addr a6;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end)
            return "missing ']' after the IPv6 address";
        *host = g_strndup(s + 1, (gsize)(end - s - 1));
        if (inet_pton(AF_INET6, *host, &a6) != 1)
            return "the address in brackets is not an IPv6 address";
        if (end[1] != ':')
            return "missing ':PORT' after ']'";
        port_text = end + 2;
    } else {
        const char *colon = strchr(s, ':');
        if (!colon)
            return "missing ':PORT'";
        if (strchr(colon + 1, ':'))
            return "an IPv6 address needs brackets, as in tcp:[::1]:8000";
        *host = g_strndup(s, (gsize)(colon - s));
        if (**host == '\0')
            return "the host is empty";
        if (!valid_host(*host))
            return "the host is neither an IPv4 address nor a host name";
        port_text = colon + 1;
    }
    if (!all_chars_in(port_text, "0123456789") ||
        !g_ascii_string_to_signed(port_text, 10, 1, 65535, &p, NULL))
        return "the port must be a number from 1 to 65535";
    *port = (int)p;
    return NULL;
}

const char *listen_protocols_name(listen_protocols p)
{
    return p == LISTEN_PROTO_SCGI ? "SCGI" : p == LISTEN_PROTO_HTTP ? "HTTP" : "SCGI and HTTP";
}

/* "scgi", "http" or "both". */
static gboolean parse_protocols(const char *where, const char *text, listen_protocols *out,
                                GError **error)
{
    if (strcmp(text, "scgi") == 0)
        *out = LISTEN_PROTO_SCGI;
    else if (strcmp(text, "http") == 0)
        *out = LISTEN_PROTO_HTTP;
    else if (strcmp(text, "both") == 0)
        *out = LISTEN_PROTO_BOTH;
    else {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: '%s' is not one of scgi, http, both", where, text);
        return FALSE;
    }
    return TRUE;
}

listen_spec *config_parse_listen(const char *spec_text, GError **error)
{
    listen_spec *l;
    const char *why = NULL, *text = spec_text;

    g_return_val_if_fail(text != NULL, NULL);
    l = g_new0(listen_spec, 1);
    l->spec = g_strdup(text);
    l->protocols = LISTEN_PROTO_BOTH;
    if (g_str_has_prefix(text, "scgi:")) {
        l->protocols = LISTEN_PROTO_SCGI;
        text += strlen("scgi:");
    } else if (g_str_has_prefix(text, "http:")) {
        l->protocols = LISTEN_PROTO_HTTP;
        text += strlen("http:");
    }
    if (g_str_has_prefix(text, "unix:")) {
        const char *path = text + strlen("unix:");
        l->kind = LISTEN_UNIX;
        if (*path == '\0')
            why = "the socket path is empty";
        else if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
            why = "the socket path is too long (at most 107 bytes)";
        else
            l->path = g_strdup(path);
    } else if (g_str_has_prefix(text, "tcp:")) {
        l->kind = LISTEN_TCP;
        why = parse_tcp(text + strlen("tcp:"), &l->host, &l->port);
    } else {
        why = "the address starts with neither tcp: nor unix:";
    }
    if (why) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "listen address '%s': %s (%s)",
                    spec_text, why, LISTEN_FORMS);
        listen_spec_free(l);
        return NULL;
    }
    return l;
}

/* ---- applications ---- */

/* "/a//b/" becomes "/a/b"; "." and ".." segments are refused rather than
 * resolved, since a request path will never match them. */
static char *normalize_vpath(const char *raw, GError **error)
{
    GString *out;
    char **segs;

    if (raw[0] != '/') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is not a virtual path: it must start with '/'", raw);
        return NULL;
    }
    for (const char *p = raw; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr("?#\\", *p)) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "'%s' is not a virtual path: control characters, '?', '#' and '\\' are not allowed",
                        raw);
            return NULL;
        }
    }
    out = g_string_new(NULL);
    segs = g_strsplit(raw, "/", -1);
    for (char **s = segs; *s; s++) {
        if (**s == '\0')
            continue;
        if (strcmp(*s, ".") == 0 || strcmp(*s, "..") == 0) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "'%s' is not a virtual path: '.' and '..' segments are not allowed", raw);
            g_strfreev(segs);
            g_string_free(out, TRUE);
            return NULL;
        }
        g_string_append_c(out, '/');
        g_string_append(out, *s);
    }
    g_strfreev(segs);
    if (out->len == 0)
        g_string_append_c(out, '/');
    return g_string_free(out, FALSE);
}

/* Host names compare case-insensitively, so the result is lower case. */
static char *normalize_vhost(const char *raw, GError **error)
{
    if (!valid_host(raw)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is neither a host name (letters, digits, '-', '_' and '.') nor an IPv4 address",
                    raw);
        return NULL;
    }
    return g_ascii_strdown(raw, -1);
}

/* Makes raw absolute against base (NULL: the current directory) and checks
 * that it names an existing directory. */
static char *resolve_dir(const char *raw, const char *base, GError **error)
{
    char *path;

    if (*raw == '\0') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "the directory is empty");
        return NULL;
    }
    path = g_canonicalize_filename(raw, base);
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' (%s) is not an existing directory", raw, path);
        g_free(path);
        return NULL;
    }
    return path;
}

app_spec *config_parse_app(const char *text, GError **error)
{
    app_spec *a;
    const char *rest = text, *colon;
    char *vpath = NULL;
    gboolean ok = FALSE;

    g_return_val_if_fail(text != NULL, NULL);
    a = g_new0(app_spec, 1);
    a->apache_status = -1;
    a->x_accel_prefix = g_strdup("/scgi-mono-files");
    a->name = g_strdup("cli");
    if (text[0] != '/') {
        char *vhost;
        colon = strchr(text, ':');
        if (!colon) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "missing ':' (%s)", APP_FORM);
            goto out;
        }
        vhost = g_strndup(text, (gsize)(colon - text));
        a->vhost = normalize_vhost(vhost, error);
        g_free(vhost);
        if (!a->vhost)
            goto out;
        rest = colon + 1;
        if (rest[0] != '/') {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "the virtual path must start with '/' (%s)", APP_FORM);
            goto out;
        }
    }
    colon = strchr(rest, ':');
    if (!colon) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "missing ':DIR' (%s)", APP_FORM);
        goto out;
    }
    vpath = g_strndup(rest, (gsize)(colon - rest));
    a->vpath = normalize_vpath(vpath, error);
    if (!a->vpath)
        goto out;
    a->path = resolve_dir(colon + 1, NULL, error);
    ok = a->path != NULL;
out:
    g_free(vpath);
    if (!ok) {
        g_prefix_error(error, "application '%s': ", text);
        app_spec_free(a);
        return NULL;
    }
    return a;
}

/* Appends a to apps unless another application already serves the same
 * (vhost, vpath); `what` names a in the message. Takes ownership of a. */
static gboolean add_app(GPtrArray *apps, app_spec *a, const char *what, GError **error)
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

/* ---- configuration file ---- */

typedef enum { K_LISTEN, K_INT, K_SIZE, K_INT64, K_BOOL, K_MODE, K_PROTOCOLS, K_LOGFILE } key_kind;

typedef struct {
    const char *name;
    key_kind kind;
    size_t offset; /* of the field in config */
    gint64 min, max;
} server_key;

static const server_key server_keys[] = {
    { "listen", K_LISTEN, 0, 0, 0 },
    { "threads", K_INT, offsetof(config, threads), 1, MAX_THREADS },
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
    { "hang_timeout", K_INT, offsetof(config, hang_timeout), 0, MAX_TIMEOUT },
    { "request_timeout", K_INT, offsetof(config, request_timeout), 0, MAX_TIMEOUT },
    { "slow_request_timeout", K_INT, offsetof(config, slow_request_timeout), 0, MAX_TIMEOUT },
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
};

static const char *const app_keys[] = { "vpath", "path", "vhost", "sendfile", "x_accel_prefix", "warmup" };

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

static gboolean load_listen_list(config *c, GKeyFile *kf, const char *file, GError **error)
{
    GPtrArray *list = listen_array_new();
    GError *err = NULL;
    char **items = g_key_file_get_string_list(kf, "server", "listen", NULL, &err);
    gboolean ok = FALSE;

    if (!items) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [server] listen: %s", file,
                    err->message);
        g_error_free(err);
        goto out;
    }
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

/* error_log: "stderr" (NULL) or an absolute path (the processes open it
 * themselves, and reopen it on SIGUSR1: a relative one would depend on their
 * working directory). */
static gboolean parse_log_file(const char *where, const char *v, char **out, GError **error)
{
    if (strcmp(v, "stderr") == 0) {
        g_clear_pointer(out, g_free);
        return TRUE;
    }
    if (!g_path_is_absolute(v)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: \"%s\": stderr or an absolute path", where, v);
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup(v);
    return TRUE;
}

static gboolean load_server_key(config *c, GKeyFile *kf, const char *file, const server_key *k,
                                GError **error)
{
    char *where, *v;
    gint64 n = 0;
    gboolean ok = FALSE;
    void *field = (char *)c + k->offset;

    if (k->kind == K_LISTEN)
        return load_listen_list(c, kf, file, error);
    v = get_string(kf, file, "server", k->name, error);
    if (!v)
        return FALSE;
    where = g_strdup_printf("%s: [server] %s", file, k->name);
    switch (k->kind) {
    case K_INT:
        if ((ok = parse_bounded(where, v, k->min, k->max, &n, error)))
            *(int *)field = (int)n;
        break;
    case K_SIZE:
        if ((ok = parse_bounded(where, v, k->min, k->max, &n, error)))
            *(gsize *)field = (gsize)n;
        break;
    case K_INT64:
        ok = parse_bounded(where, v, k->min, k->max, (gint64 *)field, error);
        break;
    case K_BOOL:
        ok = parse_boolean(where, v, (gboolean *)field, error);
        break;
    case K_MODE:
        ok = parse_mode(where, v, (int *)field, error);
        break;
    case K_PROTOCOLS:
        ok = parse_protocols(where, v, (listen_protocols *)field, error);
        break;
    case K_LOGFILE:
        ok = parse_log_file(where, v, (char **)field, error);
        break;
    case K_LISTEN:
        break;
    }
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

static gboolean load_server_group(config *c, GKeyFile *kf, const char *file, GError **error)
{
    char **keys = g_key_file_get_keys(kf, "server", NULL, NULL);
    gboolean ok = TRUE;

    for (char **key = keys; ok && key && *key; key++) {
        const server_key *k = NULL;
        for (gsize i = 0; i < G_N_ELEMENTS(server_keys) && !k; i++)
            if (strcmp(*key, server_keys[i].name) == 0)
                k = &server_keys[i];
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
                        "%s: [%s] %s: unknown key (known: vpath, path, vhost, sendfile, x_accel_prefix, warmup)",
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
        v = normalize_vpath(raw, error);
    else if (strcmp(key, "vhost") == 0)
        v = normalize_vhost(raw, error);
    else
        v = resolve_dir(raw, base, error);
    if (!v)
        g_prefix_error(error, "%s: [%s] %s: ", file, group, key);
    g_free(raw);
    return v;
}

/* warmup = /;/Default.aspx?x=1: request paths relative to the application's
 * vpath, each starting with '/', printable ASCII without spaces or '#'; kept
 * joined to vpath ("/blog" + "/" = "/blog/"). Sets a->warmup (NULL if empty). */
static gboolean load_warmup(app_spec *a, GKeyFile *kf, const char *file, const char *group, GError **error)
{
    GError *err = NULL;
    char **items = g_key_file_get_string_list(kf, group, "warmup", NULL, &err);
    gboolean root = strcmp(a->vpath, "/") == 0;
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = FALSE;

    if (!items) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: [%s] warmup: %s", file, group, err->message);
        g_error_free(err);
        goto out;
    }
    for (char **it = items; *it; it++) {
        const char *p = g_strstrip(*it);
        if (*p == '\0')
            continue;
        gboolean valid = p[0] == '/';
        for (const char *q = p; valid && *q; q++)
            valid = *q > ' ' && *q < 0x7f && *q != '#';
        if (!valid) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] warmup: '%s' is not a request path: it must start with '/' (relative to the "
                        "application's vpath) and hold no spaces, control characters or '#'", file, group, p);
            goto out;
        }
        g_ptr_array_add(paths, g_strconcat(root ? "" : a->vpath, p, NULL));
    }
    if (paths->len) {
        g_ptr_array_add(paths, NULL);
        a->warmup = (char **)g_ptr_array_steal(paths, NULL);
    }
    ok = TRUE;
out:
    g_strfreev(items);
    g_ptr_array_unref(paths);
    return ok;
}

static app_spec *load_app_group(GKeyFile *kf, const char *file, const char *group,
                                const char *base, GError **error)
{
    app_spec *a = g_new0(app_spec, 1);
    GError *err = NULL;

    a->apache_status = -1;
    a->x_accel_prefix = g_strdup("/scgi-mono-files");
    a->name = g_strdup(group + strlen("app:"));
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
    if (g_key_file_has_key(kf, group, "sendfile", NULL)) {
        char *v = get_string(kf, file, group, "sendfile", error);
        if (!v)
            goto fail;
        if (strcmp(v, "off") == 0)
            a->sendfile = SENDFILE_OFF;
        else if (strcmp(v, "x-sendfile") == 0)
            a->sendfile = SENDFILE_X_SENDFILE;
        else if (strcmp(v, "x-accel-redirect") == 0)
            a->sendfile = SENDFILE_X_ACCEL;
        else {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] sendfile: '%s' is not one of off, x-sendfile, x-accel-redirect", file, group, v);
            g_free(v);
            goto fail;
        }
        g_free(v);
    }
    if (g_key_file_has_key(kf, group, "x_accel_prefix", NULL)) {
        char *v = get_string(kf, file, group, "x_accel_prefix", error);
        if (!v)
            goto fail;
        if (v[0] != '/' || strpbrk(v, " \t\r\n?#")) {
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                        "%s: [%s] x_accel_prefix: '%s' must be a URI path starting with '/'", file, group, v);
            g_free(v);
            goto fail;
        }
        gsize n = strlen(v);
        while (n > 1 && v[n - 1] == '/')
            v[--n] = '\0';
        g_free(a->x_accel_prefix);
        a->x_accel_prefix = v;
    }
    if (g_key_file_has_key(kf, group, "warmup", NULL) && !load_warmup(a, kf, file, group, error))
        goto fail;
    return a;
fail:
    app_spec_free(a);
    return NULL;
}

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
            ok = a && add_app(c->apps, a, what, error);
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

/* Reads and validates file into c. Relative application paths are taken
 * against the file's own directory. */
static gboolean load_file(config *c, const char *file, GError **error)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    char *data = NULL, *abs = NULL, *base = NULL;
    gsize len = 0;
    gboolean ok = FALSE;

    if (!g_file_get_contents(file, &data, &len, &err)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_USAGE, "%s: cannot read the configuration file: %s",
                    file, err->message);
        goto out;
    }
    /* Keeping translations makes "key[de]" an unknown key whatever the locale,
     * instead of being dropped silently in most locales. */
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, &err)) {
        gsize line = syntax_error_line(data, len);
        if (line > 0)
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_PARSE, "%s: line %" G_GSIZE_FORMAT ": %s",
                        file, line, err->message);
        else
            g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_PARSE, "%s: %s", file, err->message);
        goto out;
    }
    abs = g_canonicalize_filename(file, NULL);
    base = g_path_get_dirname(abs);
    if (!load_groups(c, kf, file, base, error))
        goto out;
    g_free(c->config_file);
    c->config_file = g_steal_pointer(&abs);
    ok = TRUE;
out:
    g_clear_error(&err);
    g_free(data);
    g_free(abs);
    g_free(base);
    g_key_file_free(kf);
    return ok;
}

/* ---- command line ---- */

typedef struct {
    char *config_file;
    char **listen;
    char **apps;
    char *threads;
    gboolean version;
} cli_options;

static void cli_options_clear(cli_options *o)
{
    g_free(o->config_file);
    g_strfreev(o->listen);
    g_strfreev(o->apps);
    g_free(o->threads);
}

/* Parses a copy of argv, so the caller's argv is never changed. */
static gboolean parse_command_line(int argc, char **argv, cli_options *o, GError **error)
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
        { "threads", 't', 0, G_OPTION_ARG_STRING, &o->threads,
          "Number of worker threads, 1..1024 (default 4 per processor core)", "N" },
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

static gboolean apply_command_line(config *c, const cli_options *o, GError **error)
{
    if (o->threads) {
        gint64 n = 0;
        if (!parse_bounded("command line: --threads", o->threads, 1, MAX_THREADS, &n, error))
            return FALSE;
        c->threads = (int)n;
    }
    if (o->listen) {
        GPtrArray *list = listen_array_new();
        for (char **it = o->listen; *it; it++) {
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
    }
    if (o->apps) {
        GPtrArray *apps = app_array_new();
        for (guint i = 0; o->apps[i]; i++) {
            app_spec *a = config_parse_app(o->apps[i], error);
            char *what = g_strdup_printf("command line: --app '%s'", o->apps[i]);
            gboolean ok;
            if (a) {
                g_free(a->name);
                a->name = g_strdup_printf("cli%u", i + 1);
            } else {
                g_prefix_error(error, "command line: --app: ");
            }
            ok = a && add_app(apps, a, what, error);
            g_free(what);
            if (!ok) {
                g_ptr_array_unref(apps);
                return FALSE;
            }
        }
        g_ptr_array_unref(c->apps);
        c->apps = apps;
    }
    return TRUE;
}

/* On --version: prints it, sets *exit_now and returns NULL without an error. */
config *config_load(int argc, char **argv, gboolean *exit_now, GError **error)
{
    cli_options o = { 0 };
    config *c = NULL;

    if (exit_now)
        *exit_now = FALSE;
    if (!parse_command_line(argc, argv, &o, error))
        goto out;
    if (o.version) {
        g_print("scgi-mono-server %s\n", SCGI_MONO_VERSION);
        if (exit_now)
            *exit_now = TRUE;
        goto out;
    }
    c = config_new_defaults();
    if ((o.config_file && !load_file(c, o.config_file, error)) || !apply_command_line(c, &o, error))
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
    cli_options_clear(&o);
    return c;
}
