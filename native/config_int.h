/* config_int: what the parts of the config module share; included only by
 * native/config*.c (config.h stays the interface for everyone else).
 *
 *   config.c       the model: defaults, freeing, nesting, add_app (the check
 *                  shared by file and command line), config_load (the merge)
 *   config_spec.c  the value grammars: numbers, booleans, modes, protocols,
 *                  log file, listen specs, host names, virtual paths,
 *                  directories, --app specs, sendfile values, warm-up paths
 *   config_file.c  scgi-mono.conf over GKeyFile: [server] and [app:NAME]
 *   config_cli.c   the command line over GOptionContext
 *
 * Every function that takes `where` puts it before its message, as
 * "WHERE: 'VALUE' is ..." (so the caller names the file and key, or the
 * option). Every function that returns NULL or FALSE on failure sets error
 * (CONFIG_ERROR, CONFIG_ERROR_VALUE unless said otherwise) and leaves its
 * outputs unchanged.
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include "config.h"

#define DEFAULT_LISTEN "tcp:127.0.0.1:8000"
#define LISTEN_FORMS "expected [scgi:|http:]tcp:HOST:PORT, tcp:[IPV6]:PORT or unix:PATH"
#define MAX_THREADS 1024
#define MAX_TIMEOUT 86400
#define DEFAULT_X_ACCEL_PREFIX "/scgi-mono-files"

/* ---- the model (config.c) ---- */

/* A config with every default; its listen list is empty (config_load adds
 * DEFAULT_LISTEN only when neither the file nor the command line named one)
 * and so is its application list. */
config *cfg_new_defaults(void);

/* Empty arrays that free their listen_spec* / app_spec* elements. */
GPtrArray *cfg_listen_array_new(void);
GPtrArray *cfg_app_array_new(void);

/* An app_spec with the defaults every source shares (apache_status -1,
 * sendfile off, x_accel_prefix DEFAULT_X_ACCEL_PREFIX) and a copy of name. */
app_spec *cfg_app_new(const char *name);

/* Appends a to apps unless another application already serves the same
 * (vhost, vpath); `what` names a in the message. Takes ownership of a. */
gboolean cfg_add_app(GPtrArray *apps, app_spec *a, const char *what, GError **error);

/* ---- value grammars (config_spec.c) ---- */

/* Decimal digits only (no sign, no spaces), min..max. */
gboolean cfg_parse_bounded(const char *where, const char *text, gint64 min, gint64 max,
                           gint64 *out, GError **error);
/* true/yes/on/1 or false/no/off/0, any case. */
gboolean cfg_parse_boolean(const char *where, const char *text, gboolean *out, GError **error);
/* Octal digits, 0..0777. */
gboolean cfg_parse_mode(const char *where, const char *text, int *out, GError **error);
/* "scgi", "http" or "both". */
gboolean cfg_parse_protocols(const char *where, const char *text, listen_protocols *out,
                             GError **error);
/* "stderr" (*out becomes NULL) or an absolute path (*out becomes a copy);
 * the previous *out is freed. */
gboolean cfg_parse_log_file(const char *where, const char *text, char **out, GError **error);
/* log_level: error, warn, notice, info or debug (log.h's log_level). */
gboolean cfg_parse_log_level(const char *where, const char *text, int *out, GError **error);
/* user, group: a user or group name (or a number), not looked up here
 * (the supervisor and -t do, where the accounts of the running system count). */
gboolean cfg_parse_account(const char *where, const char *text, char **out, GError **error);
/* status_listen: "off" (NULL) or tcp:HOST:PORT, tcp:[IPV6]:PORT, unix:PATH
 * (plain HTTP: no scgi:/http: prefix). */
gboolean cfg_parse_status_listen(const char *where, const char *text, listen_spec **out, GError **error);
/* "off", "x-sendfile" or "x-accel-redirect". */
gboolean cfg_parse_sendfile(const char *where, const char *text, app_sendfile *out, GError **error);
/* A URI path starting with '/' without spaces, '?' or '#': returns a copy
 * without trailing '/' (but "/" itself). */
char *cfg_parse_x_accel_prefix(const char *where, const char *text, GError **error);

/* The message of the next four starts with the value (the caller prefixes
 * where it came from). */
/* "/a//b/" becomes "/a/b"; "." and ".." segments are refused. */
char *cfg_normalize_vpath(const char *raw, GError **error);
/* A host name or IPv4 literal, lower-cased. */
char *cfg_normalize_vhost(const char *raw, GError **error);
/* raw made absolute against base (NULL: the current directory); it must
 * name an existing directory. */
char *cfg_resolve_dir(const char *raw, const char *base, GError **error);
/* One warm-up path p (relative to vpath: starts with '/', printable ASCII
 * without spaces or '#'), returned joined to vpath ("/blog" + "/" = "/blog/"). */
char *cfg_warmup_path(const char *vpath, const char *p, GError **error);

/* ---- the file (config_file.c) ---- */

/* Reads and validates file into c (c->config_file becomes its absolute
 * name). Relative application paths are taken against the file's own
 * directory. An unreadable file is CONFIG_ERROR_USAGE, a syntax error
 * CONFIG_ERROR_PARSE. */
gboolean cfg_load_file(config *c, const char *file, GError **error);

/* ---- the command line (config_cli.c) ---- */

/* The options as given; NULL or FALSE where absent. */
typedef struct {
    char *config_file;
    char **listen;
    char **apps;
    char *threads;
    gboolean version;
    gboolean test;      /* -t/--test: read by config_test_requested */
} cfg_cli;

/* Parses a copy of argv into o (the caller's argv is never changed);
 * errors are CONFIG_ERROR_USAGE. On --help GLib prints help and exits 0. */
gboolean cfg_cli_parse(int argc, char **argv, cfg_cli *o, GError **error);
/* Applies --threads, --listen, --app to c: a list given replaces c's. */
gboolean cfg_cli_apply(config *c, const cfg_cli *o, GError **error);
void cfg_cli_clear(cfg_cli *o);

#endif
