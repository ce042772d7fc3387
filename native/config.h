/* config: the server's settings, from scgi-mono.conf (GKeyFile) and the command line.
 *
 * Precedence: built-in defaults < configuration file < command-line options.
 * A value given on the command line for a repeatable option (--listen, --app)
 * replaces the whole list from the file, it does not add to it.
 *
 * Ownership: config_load returns a config the caller frees with config_free
 * (NULL is accepted). All strings inside belong to the config.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <glib.h>

typedef enum { LISTEN_TCP, LISTEN_UNIX } listen_kind;

/* The protocols a listener accepts (a bit set); a connection that speaks
 * another is answered 400 and closed. SCGI variables (HTTPS, REMOTE_ADDR, ...)
 * are trusted, so an SCGI listener must be reachable by the front end only. */
typedef enum {
    LISTEN_PROTO_SCGI = 1,
    LISTEN_PROTO_HTTP = 2,
    LISTEN_PROTO_BOTH = 3,
} listen_protocols;

/* access_log_format's values (the same as accesslog.h's accesslog_fmt). */
enum { ACCESS_LOG_COMBINED = 0, ACCESS_LOG_JSON = 1 };

typedef struct {
    listen_kind kind;
    listen_protocols protocols; /* "scgi:" or "http:" before the address, else both */
    char *host;        /* TCP: literal address or name, IPv6 without brackets; UNIX: NULL */
    int port;          /* TCP: 1..65535 */
    char *path;        /* UNIX: socket path; TCP: NULL */
    char *spec;        /* the text as the user wrote it, for messages */
} listen_spec;

/* How an application's SendResponseFromFile reaches an SCGI front end. */
typedef enum {
    SENDFILE_OFF = 0,       /* the server sends the bytes (sendfile(2)) */
    SENDFILE_X_SENDFILE,    /* "X-Sendfile: PATH" (Apache ProxySCGISendfile, lighttpd x-sendfile) */
    SENDFILE_X_ACCEL,       /* "X-Accel-Redirect: PREFIX/PATH" (nginx, an internal location) */
} app_sendfile;

typedef struct {
    char *name;        /* group name after "app:", or "cli1", "cli2"... for --app */
    char *vhost;       /* host name this application answers for, or NULL for any */
    char *vpath;       /* virtual path, always starts with '/', no trailing '/' except "/" itself */
    char *path;        /* physical directory, absolute, no trailing '/' */
    int apache_status; /* -1: use the server default; 0/1 not set by config today */
    app_sendfile sendfile; /* hand files from SendResponseFromFile to the front end; default off */
    char *x_accel_prefix;  /* URI prefix for X-Accel-Redirect; default "/scgi-mono-files" */
    char **inner_mounts;   /* NULL or NULL-terminated: for every other application whose
                              directory lies inside this one's, the URL (vpath + the relative
                              directory) at which this application serves that directory;
                              its private names are private there too (config_nest_apps) */
    char **warmup;         /* NULL or NULL-terminated: the request paths (vpath joined, query
                              allowed) a new worker requests, in order, before it accepts
                              (config key "warmup": paths relative to vpath, ';'-separated,
                              each starting with '/') */
    gboolean precompile;   /* config key "precompile": a new worker compiles every page, user
                              control, master page and handler of the application (after its
                              warmup paths) before it accepts (warmup.h); default FALSE */
} app_spec;

typedef struct {
    GPtrArray *listen;     /* of listen_spec*; default: one TCP 127.0.0.1:8000 */
    gboolean listen_from_cli; /* --listen was given: it wins over inherited sockets too */
    listen_protocols inherited_protocols; /* of sockets from systemd or fd 0 (inherited_protocols
                              = scgi, http or both); default both */
    GPtrArray *apps;       /* of app_spec*; may be empty (the server then refuses to start) */
    int workers;           /* worker processes the supervisor keeps running (1..256); default 1 */
    int threads;           /* most worker threads per worker process; default 16 per core, at least 64 */
    int concurrency;       /* requests run at once per worker process: 0 = auto (the CPUs it may use
                              plus its threads blocked now, at most `threads`, see pool.h), or N */
    int queue;             /* requests waiting for a worker before 503; default 256 */
    int max_connections;   /* open connections; default 1024 */
    gsize max_header;      /* SCGI header block / HTTP header bytes; default 65536 */
    int max_headers;       /* HTTP header fields (trailers included) per request, 431 past it;
                              default 100 (Apache's LimitRequestFields). SCGI variables are
                              not counted: the front end applies its own limit */
    gint64 max_body;       /* request body bytes; default 100 MiB (104857600), at most 2^31-1
                              (ASP.NET counts body bytes in an int) */
    gint64 max_spool;      /* bytes of request bodies in temporary files at once, all
                              connections together; past it: 503; default 4 GiB */
    gint64 body_buffer;    /* bodies up to this size are held in memory, larger ones go to a
                              spool file; either way whole before the application runs;
                              default 1 MiB (1048576) */
    int header_timeout;    /* seconds to receive a whole request header; default 30 */
    int body_timeout;      /* seconds of idle time between body reads; default 30 */
    int write_timeout;     /* seconds a response write may make no progress; default 60 */
    gint64 write_buffer;   /* response bytes a connection may park for the event loop to
                              send when the client reads slowly; default 256 KiB (262144) */
    int keepalive_timeout; /* seconds an idle HTTP keep-alive connection is kept; default 15 */
    int shutdown_timeout;  /* seconds to finish in-flight requests on SIGTERM; default 30 */
    int drain_delay;       /* seconds the supervisor reports not ready (/health/ready) after
                              SIGTERM while the workers keep serving, before it stops them;
                              default 0 */
    int hang_timeout;      /* seconds a worker's event loop or Mono heartbeat may stall before
                              the supervisor kills it; 0 = off; default 30 */
    int request_timeout;   /* seconds a request may run before its worker is replaced; 0 = off;
                              default 300 */
    int slow_request_timeout; /* seconds after which a running request is logged with its managed
                              stack (slowlog.h), once per request; 0 = off; default 0 */
    int stats_interval;    /* seconds between the supervisor's statistics lines in the error log
                              (status_model_log_line); 0 = off; default 0 */
    gint64 max_requests;   /* requests after which a worker is recycled (plus up to 1/8 of random
                              jitter per worker); 0 = never; default 0 */
    gint64 max_rss;        /* MiB of resident memory past which a worker is recycled; 0 = never */
    int warmup_timeout;    /* seconds a worker's whole warm-up (every application's warmup
                              URLs) may take before the worker counts as failed; default 60 */
    int max_age;           /* seconds after which a worker is recycled (plus up to 1/8 of random
                              jitter per worker); 0 = never; default 0 */
    gboolean apache_status;/* default status-line style for SCGI: TRUE "Status: 200 OK"; default TRUE */
    gboolean scgi_lenient; /* accept SCGI requests without SCGI=1; default FALSE */
    gboolean watch;        /* the supervisor watches the applications' files (web.config, bin/...)
                              and replaces the workers when they change; default TRUE */
    int socket_mode;       /* permission bits of UNIX sockets; default 0660 */
    char *error_log;       /* where every process logs (log.h, log_set_target): NULL = standard
                              error as inherited ("stderr", the default), an absolute path = that
                              file made standard error, reopened on SIGUSR1, "syslog" or
                              "syslog:/PATH" = the system logger (/dev/log or that socket) */
    int log_level;         /* log.h's log_level: lines below it are dropped; default LOG_LEVEL_NOTICE */
    char *user;            /* workers run as this user (setuid after fork, before exec); NULL =
                              as the supervisor (default) */
    char *group;           /* ... and this group; NULL = the user's primary group */
    gboolean allow_root;   /* started as root with no user: run the workers as root anyway
                              (else refuse to start); default FALSE */
    char *access_log;      /* one line per answered request, written by each worker (accesslog.h),
                              reopened on SIGUSR1; NULL = off (the default) */
    int access_log_format; /* ACCESS_LOG_COMBINED (the default) or ACCESS_LOG_JSON */
    listen_spec *status_listen; /* the supervisor's status page listener (status_http.h): plain HTTP
                              on tcp:HOST:PORT or unix:PATH; NULL = off (the default) */
    char *config_file;     /* file that was read, or NULL */
} config;

/* Error domain and codes for config_load. The message always names the file
 * (or "command line") and the key, and the line when GLib's parser knows it. */
#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
typedef enum { CONFIG_ERROR_PARSE, CONFIG_ERROR_VALUE, CONFIG_ERROR_USAGE, CONFIG_ERROR_HELP } config_error_code;

/* Parses argv (GOptionContext: --config FILE, --listen SPEC (repeatable),
 * --app [VHOST:]VPATH:DIR (repeatable), --threads N, -t/--test, --version, --help),
 * reads the configuration file if one was named (or ./scgi-mono.conf is NOT read
 * implicitly), and validates everything.
 * On --version prints the version to stdout and sets *exit_now = TRUE.
 * On --help GLib prints help and exits 0 itself.
 * Returns NULL and sets error on any invalid input. */
config *config_load(int argc, char **argv, gboolean *exit_now, GError **error);

/* -t/--test was given (scgi-mono-server checks the configuration and exits:
 * confcheck.h); *config_file gets a copy of --config FILE or NULL (the
 * caller frees it). Also TRUE on a command line with a usage error that has
 * -t or --test among its words. */
gboolean config_test_requested(int argc, char **argv, char **config_file);

/* Parses one listen spec: [scgi:|http:]tcp:HOST:PORT, tcp:[IPV6]:PORT, unix:PATH.
 * Returns NULL and sets error (CONFIG_ERROR_VALUE) if invalid. */
listen_spec *config_parse_listen(const char *text, GError **error);

/* Parses one --app value: [VHOST:]VPATH:DIR. Relative DIR is made absolute
 * against the current directory. Returns NULL and sets error if invalid. */
app_spec *config_parse_app(const char *text, GError **error);

/* Fills every application's inner_mounts (replacing what they held): B's
 * directory lies inside A's when it is A's directory plus "/rel", compared as
 * written (canonical) and with symbolic links resolved (realpath); A's inner
 * mount is then A's vpath + "/" + rel. Called by config_load; tests building
 * app_specs by hand call it themselves. */
void config_nest_apps(GPtrArray *apps);

void config_free(config *c);
void listen_spec_free(listen_spec *l);
void app_spec_free(app_spec *a);

/* "SCGI", "HTTP" or "SCGI and HTTP", for messages. */
const char *listen_protocols_name(listen_protocols p);

#define SCGI_MONO_VERSION "0.1.0"

#endif
