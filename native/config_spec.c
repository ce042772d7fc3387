/* config_spec: the grammars of single configuration values (config_int.h),
 * shared by the file and the command line: numbers, booleans, modes,
 * protocols, listen specs, host names, virtual paths, directories, --app
 * specs, sendfile values and warm-up paths. Nothing here knows where a value
 * came from: the caller names it (`where`, or a prefix on the error).
 */
#include "config_int.h"
#include "log.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#define APP_FORM "expected [VHOST:]VPATH:DIR"

/* ---- scalar values ---- */

static gboolean all_chars_in(const char *s, const char *set)
{
    return *s != '\0' && s[strspn(s, set)] == '\0';
}

gboolean cfg_parse_bounded(const char *where, const char *text, gint64 min, gint64 max,
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

gboolean cfg_parse_boolean(const char *where, const char *text, gboolean *out, GError **error)
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

gboolean cfg_parse_mode(const char *where, const char *text, int *out, GError **error)
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

/* One of a fixed set of words: text must equal choices[i].name exactly. */
typedef struct {
    const char *name;
    int value;
} choice;

static gboolean parse_choice(const char *where, const char *text, const choice *choices, gsize n,
                             int *out, GError **error)
{
    GString *names;

    for (gsize i = 0; i < n; i++) {
        if (strcmp(text, choices[i].name) == 0) {
            *out = choices[i].value;
            return TRUE;
        }
    }
    names = g_string_new(NULL);
    for (gsize i = 0; i < n; i++)
        g_string_append_printf(names, "%s%s", i ? ", " : "", choices[i].name);
    g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: '%s' is not one of %s", where, text, names->str);
    g_string_free(names, TRUE);
    return FALSE;
}

gboolean cfg_parse_protocols(const char *where, const char *text, listen_protocols *out,
                             GError **error)
{
    static const choice protocols[] = {
        { "scgi", LISTEN_PROTO_SCGI }, { "http", LISTEN_PROTO_HTTP }, { "both", LISTEN_PROTO_BOTH },
    };
    int v = 0;

    if (!parse_choice(where, text, protocols, G_N_ELEMENTS(protocols), &v, error))
        return FALSE;
    *out = (listen_protocols)v;
    return TRUE;
}

/* An absolute path because the processes open the log themselves and reopen
 * it on SIGUSR1: a relative one would depend on their working directory. */
gboolean cfg_parse_log_file(const char *where, const char *text, char **out, GError **error)
{
    if (strcmp(text, "stderr") == 0) {
        g_clear_pointer(out, g_free);
        return TRUE;
    }
    if (g_str_has_prefix(text, "syslog") ? !log_target_is_syslog(text) : !g_path_is_absolute(text)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: \"%s\": stderr, syslog, syslog:/PATH (the logger's UNIX socket) or an absolute path",
                    where, text);
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup(text);
    return TRUE;
}

gboolean cfg_parse_log_level(const char *where, const char *text, int *out, GError **error)
{
    log_level lv;
    if (!log_level_parse(text, &lv)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: \"%s\": error, warn, notice, info or debug",
                    where, text);
        return FALSE;
    }
    *out = (int)lv;
    return TRUE;
}

gboolean cfg_parse_account(const char *where, const char *text, char **out, GError **error)
{
    /* the characters of POSIX portable user names (and numeric ids) */
    if (!*text || strlen(text) > 64 || text[0] == '-' ||
        text[strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-$")] != '\0') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: \"%s\" is not a user or group name", where, text);
        return FALSE;
    }
    g_free(*out);
    *out = g_strdup(text);
    return TRUE;
}

gboolean cfg_parse_status_listen(const char *where, const char *text, listen_spec **out, GError **error)
{
    if (strcmp(text, "off") == 0) {
        g_clear_pointer(out, listen_spec_free);
        return TRUE;
    }
    if (g_str_has_prefix(text, "scgi:") || g_str_has_prefix(text, "http:")) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: \"%s\": the status listener speaks plain HTTP only: off, tcp:HOST:PORT, "
                    "tcp:[IPV6]:PORT or unix:PATH", where, text);
        return FALSE;
    }
    GError *err = NULL;
    listen_spec *l = config_parse_listen(text, &err);
    if (!l) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "%s: %s", where, err->message);
        g_error_free(err);
        return FALSE;
    }
    listen_spec_free(*out);
    *out = l;
    return TRUE;
}

gboolean cfg_parse_sendfile(const char *where, const char *text, app_sendfile *out, GError **error)
{
    static const choice modes[] = {
        { "off", SENDFILE_OFF }, { "x-sendfile", SENDFILE_X_SENDFILE }, { "x-accel-redirect", SENDFILE_X_ACCEL },
    };
    int v = 0;

    if (!parse_choice(where, text, modes, G_N_ELEMENTS(modes), &v, error))
        return FALSE;
    *out = (app_sendfile)v;
    return TRUE;
}

char *cfg_parse_x_accel_prefix(const char *where, const char *text, GError **error)
{
    char *v;
    gsize n;

    if (text[0] != '/' || strpbrk(text, " \t\r\n?#")) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "%s: '%s' must be a URI path starting with '/'", where, text);
        return NULL;
    }
    v = g_strdup(text);
    n = strlen(v);
    while (n > 1 && v[n - 1] == '/')
        v[--n] = '\0';
    return v;
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

/* Parses the part after "unix:". Returns NULL on success or the reason it failed. */
static const char *parse_unix(const char *path, char **out)
{
    if (*path == '\0')
        return "the socket path is empty";
    if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
        return "the socket path is too long (at most 107 bytes)";
    *out = g_strdup(path);
    return NULL;
}

const char *listen_protocols_name(listen_protocols p)
{
    return p == LISTEN_PROTO_SCGI ? "SCGI" : p == LISTEN_PROTO_HTTP ? "HTTP" : "SCGI and HTTP";
}

/* The protocol prefix ("scgi:", "http:" or none: both); returns the rest. */
static const char *parse_protocol_prefix(const char *text, listen_protocols *out)
{
    *out = LISTEN_PROTO_BOTH;
    if (g_str_has_prefix(text, "scgi:")) {
        *out = LISTEN_PROTO_SCGI;
        return text + strlen("scgi:");
    }
    if (g_str_has_prefix(text, "http:")) {
        *out = LISTEN_PROTO_HTTP;
        return text + strlen("http:");
    }
    return text;
}

listen_spec *config_parse_listen(const char *spec_text, GError **error)
{
    listen_spec *l;
    const char *why = NULL, *text = spec_text;

    g_return_val_if_fail(text != NULL, NULL);
    l = g_new0(listen_spec, 1);
    l->spec = g_strdup(spec_text);
    text = parse_protocol_prefix(text, &l->protocols);
    if (g_str_has_prefix(text, "unix:")) {
        l->kind = LISTEN_UNIX;
        why = parse_unix(text + strlen("unix:"), &l->path);
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

/* True when raw holds a control character, '?', '#' or '\\'. */
static gboolean vpath_has_bad_char(const char *raw)
{
    for (const char *p = raw; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || strchr("?#\\", *p))
            return TRUE;
    return FALSE;
}

/* "." and ".." segments are refused rather than resolved, since a request
 * path will never match them. */
char *cfg_normalize_vpath(const char *raw, GError **error)
{
    GString *out;
    char **segs;

    if (raw[0] != '/') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is not a virtual path: it must start with '/'", raw);
        return NULL;
    }
    if (vpath_has_bad_char(raw)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is not a virtual path: control characters, '?', '#' and '\\' are not allowed",
                    raw);
        return NULL;
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
char *cfg_normalize_vhost(const char *raw, GError **error)
{
    if (!valid_host(raw)) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is neither a host name (letters, digits, '-', '_' and '.') nor an IPv4 address",
                    raw);
        return NULL;
    }
    return g_ascii_strdown(raw, -1);
}

char *cfg_resolve_dir(const char *raw, const char *base, GError **error)
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

char *cfg_warmup_path(const char *vpath, const char *p, GError **error)
{
    gboolean valid = p[0] == '/';

    for (const char *q = p; valid && *q; q++)
        valid = *q > ' ' && *q < 0x7f && *q != '#';
    if (!valid) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "'%s' is not a request path: it must start with '/' (relative to the "
                    "application's vpath) and hold no spaces, control characters or '#'", p);
        return NULL;
    }
    return g_strconcat(strcmp(vpath, "/") == 0 ? "" : vpath, p, NULL);
}

/* The part of s before its first ':', normalized by norm; *rest is set to
 * the part after it. Without a ':' the message says "missing MISSING". */
static char *take_field(const char *s, const char *missing, char *(*norm)(const char *, GError **),
                        const char **rest, GError **error)
{
    const char *colon = strchr(s, ':');
    char *raw, *v;

    if (!colon) {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE, "missing %s (%s)", missing, APP_FORM);
        return NULL;
    }
    raw = g_strndup(s, (gsize)(colon - s));
    v = norm(raw, error);
    g_free(raw);
    *rest = colon + 1;
    return v;
}

/* "VHOST:" before text's virtual path: sets a->vhost and returns the rest
 * (which starts with '/'), or NULL with error. */
static const char *parse_app_vhost(app_spec *a, const char *text, GError **error)
{
    const char *rest = NULL;

    if (!(a->vhost = take_field(text, "':'", cfg_normalize_vhost, &rest, error)))
        return NULL;
    if (rest[0] != '/') {
        g_set_error(error, CONFIG_ERROR, CONFIG_ERROR_VALUE,
                    "the virtual path must start with '/' (%s)", APP_FORM);
        return NULL;
    }
    return rest;
}

/* "VPATH:DIR": sets a->vpath and a->path. */
static gboolean parse_app_vpath_dir(app_spec *a, const char *text, GError **error)
{
    const char *dir = NULL;

    if (!(a->vpath = take_field(text, "':DIR'", cfg_normalize_vpath, &dir, error)))
        return FALSE;
    a->path = cfg_resolve_dir(dir, NULL, error);
    return a->path != NULL;
}

app_spec *config_parse_app(const char *text, GError **error)
{
    app_spec *a;
    const char *rest = text;

    g_return_val_if_fail(text != NULL, NULL);
    a = cfg_app_new("cli");
    if (text[0] != '/')
        rest = parse_app_vhost(a, text, error);
    if (!rest || !parse_app_vpath_dir(a, rest, error)) {
        g_prefix_error(error, "application '%s': ", text);
        app_spec_free(a);
        return NULL;
    }
    return a;
}
