/* worker: one serving process: configuration, sockets, Mono, thread pool,
 * event loop (see worker.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "monohost.h"
#include "pool.h"
#include "proc.h"
#include "response.h"
#include "route.h"
#include "slowlog.h"
#include "stats.h"
#include "tmpdir.h"
#include "warmup.h"
#include "worker.h"

/* The block shared with the supervisor (stats.h), NULL when started alone. */
static stats_block *wstats;
/* The control pipe to the supervisor (worker.h), -1 when started alone. */
static int control_fd = -1;
static __thread int my_stats_slot = -1;
/* slow_request_timeout's logger (slowlog.h), NULL when off. */
static slowlog *slog;
/* access_log (accesslog.h), NULL when off. */
static accesslog *alog;
/* The application the current request was routed to (run_app), or -1. */
static __thread int current_app = -1;

typedef struct {
    config *cfg;
    GPtrArray *apps;   /* of mh_app* */
    pool *workers;
} server_ctx;

static void run_app(int app, request *rq, const route_req *r, void *ud)
{
    server_ctx *ctx = ud;
    current_app = app;
    if (wstats)
        stats_request_info(wstats, my_stats_slot, app, request_var(rq, "REQUEST_METHOD", NULL), r->raw_url->str,
                           r->raw_url->len);
    if (slog) {
        const app_spec *spec = g_ptr_array_index(ctx->cfg->apps, app);
        char *name = g_strconcat(spec->vhost ? spec->vhost : "", spec->vpath, NULL);
        const char *method = request_var(rq, "REQUEST_METHOD", NULL);
        slowlog_begin(slog, name, method, r->raw_url->str, r->raw_url->len);
        g_free(name);
    }
    monohost_process(g_ptr_array_index(ctx->apps, app), rq, r);
    slowlog_end(slog);
}

/* One access_log line for the request just answered (before conn_done: a
 * keep-alive connection's request is reset there). */
static void log_access(server_ctx *ctx, const request *rq, gint64 start_real, gint64 start, gint64 end)
{
    const app_spec *spec = current_app >= 0 ? g_ptr_array_index(ctx->cfg->apps, current_app) : NULL;
    char *name = spec ? g_strconcat(spec->vhost ? spec->vhost : "", spec->vpath, NULL) : NULL;
    const char *remote = request_var(rq, "REMOTE_ADDR", NULL);
    accesslog_fields f = {
        .remote = remote ? remote : rq->peer,
        .time = start_real,
        .method = request_var(rq, "REQUEST_METHOD", NULL),
        .uri = request_var(rq, "REQUEST_URI", NULL),
        .protocol = request_var(rq, "SERVER_PROTOCOL", NULL),
        .status = rq->r.status,
        .bytes = rq->r.count.counted,
        .referer = request_var(rq, "HTTP_REFERER", NULL),
        .user_agent = request_var(rq, "HTTP_USER_AGENT", NULL),
        .duration_us = end - start,
        .app = name,
        .pid = (int)getpid(),
    };
    accesslog_write(alog, &f);
    g_free(name);
}

static void work(gpointer item, gpointer ud)
{
    conn *c = item;
    server_ctx *ctx = ud;
    gint64 start_real = alog ? g_get_real_time() : 0;
    gint64 start = g_get_monotonic_time();
    stats_request_begin(wstats, my_stats_slot, start);
    current_app = -1;
    route_serve(ctx->cfg->apps, &c->req, run_app, ctx);
    if (!c->req.r.finished) /* never flushed (not expected): it is not in flight any more either */
        stats_request_answered(wstats, g_get_monotonic_time());
    if (wstats) {
        gint64 took = g_get_monotonic_time() - start, slow = (gint64)ctx->cfg->slow_request_timeout * G_USEC_PER_SEC;
        stats_request_done(wstats, current_app, c->req.r.status, took, slow > 0 && took >= slow);
    }
    if (alog)
        log_access(ctx, &c->req, start_real, start, g_get_monotonic_time());
    conn_done(c);
    stats_request_end(wstats, my_stats_slot, g_get_monotonic_time());
}

static void worker_init(gpointer ud)
{
    (void)ud;
    my_stats_slot = stats_thread_register(wstats);
    monohost_thread_attach();
    slowlog_thread_register(slog);
}

static void worker_fini(gpointer ud)
{
    (void)ud;
    monohost_thread_detach();
}

static gboolean dispatch(conn *c, void *ud)
{
    server_ctx *ctx = ud;
    stats_dispatch(wstats);
    if (pool_push(ctx->workers, c))
        return TRUE;
    stats_undispatch(wstats);
    return FALSE;
}

static void answered(void *ud)
{
    (void)ud;
    stats_request_answered(wstats, g_get_monotonic_time());
}

static void loop_tick(void *ud)
{
    (void)ud;
    gint64 now = g_get_monotonic_time();
    stats_loop_tick(wstats, now);
    accesslog_tick(alog, now);
}

/* The runtime's heartbeat: a thread attached to Mono that calls into managed
 * code twice a second and records that it came back (see monohost_ping). */
static gpointer heartbeat(gpointer ud)
{
    (void)ud;
    monohost_thread_attach();
    for (;;) {
        monohost_ping();
        stats_runtime_tick(wstats, g_get_monotonic_time());
        g_usleep(G_USEC_PER_SEC / 2);
    }
    return NULL;
}

/* An AppDomain unloaded in-process under the supervisor (monohost_set_supervised):
 * Mono 6.8 may not come back from it under load, so ask for a new worker
 * (WORKER_REPLACE_ME); this one keeps serving meanwhile as best it can. */
static void ask_replacement(const char *app_name)
{
    static gint asked;
    if (!g_atomic_int_compare_and_exchange(&asked, 0, 1))
        return;
    g_warning("application %s: its AppDomain is unloaded in-process (HttpRuntime.UnloadAppDomain, app_offline.htm "
              "or too many recompilations): asking the supervisor for a new worker, this one serves meanwhile",
              app_name);
    char c = WORKER_REPLACE_ME;
    if (write(control_fd, &c, 1) != 1)
        g_warning("cannot ask the supervisor for a new worker: %s", g_strerror(errno));
}

/* SIGUSR1 (the supervisor passes it on): the log file again by its path. */
static void reopen_logs(void *ud)
{
    (void)ud;
    GError *error = NULL;
    if (alog && !accesslog_reopen(alog, &error)) {
        g_warning("SIGUSR1: %s; writing on to the access log already open", error->message);
        g_clear_error(&error);
    }
    if (!log_file_path()) {
        log_reopen(NULL); /* syslog: connects again; standard error: nothing to do */
        return;
    }
    if (log_reopen(&error))
        g_message("log file reopened: %s", log_file_path());
    else
        g_warning("SIGUSR1: %s; logging on to the file already open", error->message);
    g_clear_error(&error);
}

static int busy(void *ud)
{
    server_ctx *ctx = ud;
    return pool_busy(ctx->workers);
}

/* Each connection can hold four descriptors (its socket, a body spool file and
 * up to two files of a response parked for the loop, see response.c): raise the
 * soft limit on open files to the hard one, and say so when even that is short
 * of what max_connections asks. (Short of it, a response file is sent by its
 * worker instead of being parked; a connection past it is refused.) */
static void raise_file_limit(const config *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t want = (rlim_t)cfg->max_connections * 4 + 256;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        g_warning("open files are limited to %lu (ulimit -n); max_connections = %d may need %lu: "
                  "connections past the limit are refused", (unsigned long)rl.rlim_cur,
                  cfg->max_connections, (unsigned long)want);
}

/* ScgiMono.dll sits next to the executable. */
static char *managed_dll_path(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir = exe ? g_path_get_dirname(exe) : g_get_current_dir();
    char *p = g_build_filename(dir, "ScgiMono.dll", NULL);
    g_free(exe);
    g_free(dir);
    return p;
}

/* What the worker needs to say it serves, from the main or the warm-up thread. */
typedef struct {
    server *srv;
    const config *cfg;
    GPtrArray *listeners;
    int control_fd;
    guint napps;
} ready_ctx;

static void log_concurrency(const config *cfg)
{
    if (cfg->concurrency > 0)
        g_info("requests at once: %d (concurrency), threads at most %d", MIN(cfg->concurrency, cfg->threads),
               cfg->threads);
    else
        g_info("requests at once: %d CPU(s) plus the threads blocked, at most %d (concurrency auto)", pool_cpus(),
               cfg->threads);
}

static void announce(ready_ctx *rc)
{
    if (rc->control_fd >= 0) {
        g_message("worker %d serving: %d threads, %u application(s)", (int)getpid(), rc->cfg->threads, rc->napps);
        log_concurrency(rc->cfg);
        if (write(rc->control_fd, (char[]){WORKER_READY}, 1) != 1)
            g_warning("cannot tell the supervisor this worker is ready: %s", g_strerror(errno));
    } else {
        for (guint i = 0; i < rc->listeners->len; i++) {
            listener *l = g_ptr_array_index(rc->listeners, i);
            g_message("listening on %s (%s)", l->desc, listen_protocols_name(l->protocols));
        }
        g_message("scgi-mono-server %s ready: %d worker threads, %u application(s)", SCGI_MONO_VERSION,
                  rc->cfg->threads, rc->napps);
        log_concurrency(rc->cfg);
    }
}

/* Runs while the loop serves only the warm-up's own connections; then the
 * loop accepts and the worker says it serves, or it exits WORKER_EXIT_WARMUP
 * without ever accepting (see worker.h). */
static gpointer warmup_thread(gpointer ud)
{
    ready_ctx *rc = ud;
    gint64 t0 = g_get_monotonic_time();
    char *why = NULL;
    if (warmup_run(rc->srv, rc->cfg, &why)) {
        g_message("warm-up done in %.2f s", (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
        server_listen(rc->srv);
        announce(rc);
    } else if (why) {
        g_warning("%s: this worker is not put in service", why);
        fflush(NULL);
        _exit(WORKER_EXIT_WARMUP);
    }
    g_free(why);
    return NULL;
}

int worker_main(int argc, char **argv)
{
    log_init();
    /* SIGTERM/SIGINT (stop) and SIGUSR1 (reopen the log file) are read from a
     * signalfd by the loop: block them before any thread (Mono's included)
     * exists so that every thread inherits the mask. Mono 6.8 leaves SIGUSR1
     * alone (it takes SIGQUIT for its thread dump, the crash signals and
     * real-time signals for GC suspend; /proc/PID/status SigCgt of a worker
     * shows them); SIGQUIT stays Mono's. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    GError *error = NULL;
    gboolean exit_now = FALSE;
    server_ctx ctx = {0};
    ctx.cfg = config_load(argc, argv, &exit_now, &error);
    if (exit_now)
        return 0;
    if (!ctx.cfg) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        g_error_free(error);
        return 2;
    }

    /* error_log: started by the supervisor, standard error is the file
     * already; opening it here too follows a reload that changed it (and
     * connects to syslog). log_level likewise. */
    log_set_level((log_level)ctx.cfg->log_level);
    if (ctx.cfg->error_log && g_strcmp0(ctx.cfg->error_log, log_target()) != 0 &&
        !log_set_target(ctx.cfg->error_log, &error)) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }

    /* Started by a front end through the SCGI autolaunch convention: the
     * applications must not inherit the marker, and the server must not outlive
     * its parent. */
    gboolean autolaunched = g_strcmp0(g_getenv("SCGI"), "1") == 0;
    g_unsetenv("SCGI");
    /* Started by the supervisor: it watches the parent, holds and names the
     * listening sockets, and hears "ready" on the control descriptor. */
    gboolean strict = g_strcmp0(g_getenv(WORKER_STRICT_ENV), "1") == 0;
    g_unsetenv(WORKER_STRICT_ENV);
    const char *control = g_getenv(WORKER_CONTROL_ENV);
    if (control) {
        control_fd = (int)g_ascii_strtoll(control, NULL, 10);
        g_unsetenv(WORKER_CONTROL_ENV);
        if (control_fd < 3 || fcntl(control_fd, F_SETFD, FD_CLOEXEC) < 0) {
            fprintf(stderr, "scgi-mono-worker: bad %s\n", WORKER_CONTROL_ENV);
            return 1;
        }
        const char *sfd = g_getenv(STATS_FD_ENV);
        if (sfd) {
            int fd = (int)g_ascii_strtoll(sfd, NULL, 10);
            g_unsetenv(STATS_FD_ENV);
            wstats = fd >= 3 ? stats_attach(fd, &error) : NULL;
            if (fd >= 3)
                close(fd);
            if (!wstats) {
                fprintf(stderr, "scgi-mono-worker: bad %s: %s\n", STATS_FD_ENV, error ? error->message : sfd);
                return 1;
            }
        }
        char *tag = g_strdup_printf("worker %d", (int)getpid());
        log_set_tag(tag);
        g_free(tag);
        /* die with the supervisor (set before exec too; checked again here) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            return 1;
    }
    raise_file_limit(ctx.cfg);
    GPtrArray *listeners = control_fd >= 0 ? listener_adopt_handed(&error) : listener_open_all(ctx.cfg, &error);
    if (!listeners) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }
    int parent_fd = -1;
    if (autolaunched) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1) {
            fprintf(stderr, "scgi-mono-server: started with SCGI=1 but the parent is already gone\n");
            return 1;
        }
        if (!listener_is_listening(0))
            parent_fd = 0; /* standard input from the parent: its EOF means the parent is gone */
    }

    /* ASP.NET compiles into $TMPDIR/<user>-temp-aspnet-N: make $TMPDIR a
     * directory of our own before the runtime reads it (see tmpdir.h). */
    char *private_tmp = tmpdir_create(NULL, &error);
    if (!private_tmp) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }
    g_setenv("TMPDIR", private_tmp, TRUE);

    if (ctx.cfg->access_log) {
        alog = accesslog_open(ctx.cfg->access_log,
                              ctx.cfg->access_log_format == ACCESS_LOG_JSON ? ACCESSLOG_JSON : ACCESSLOG_COMBINED, &error);
        if (!alog) {
            fprintf(stderr, "scgi-mono-server: %s\n", error->message);
            tmpdir_remove(private_tmp);
            return 1;
        }
    }
    slog = slowlog_new(ctx.cfg->threads, ctx.cfg->slow_request_timeout);
    if (!warmup_arm_precompile(ctx.cfg, &error)) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        tmpdir_remove(private_tmp);
        return 1;
    }
    char *dll = managed_dll_path();
    if (!monohost_init(dll, &error)) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        tmpdir_remove(private_tmp);
        return 1;
    }
    g_free(dll);
    if (control_fd >= 0)
        monohost_set_supervised(ask_replacement);

    ctx.apps = g_ptr_array_new();
    for (guint i = 0; i < ctx.cfg->apps->len; i++) {
        mh_app *app = monohost_app_new(g_ptr_array_index(ctx.cfg->apps, i), ctx.cfg->apache_status);
        g_ptr_array_add(ctx.apps, app);
        if (!monohost_app_start(app, &error)) {
            if (strict) {
                g_warning("%s: this new worker is not put in service; the running one(s) keep serving", error->message);
                tmpdir_remove(private_tmp);
                fflush(NULL);
                _exit(1); /* Mono's own shutdown can wait on ASP.NET's threads */
            }
            g_warning("%s (will retry on the next request)", error->message);
            g_clear_error(&error);
        }
    }

    pool_opts po = {.threads = ctx.cfg->threads, .queue = ctx.cfg->queue, .concurrency = ctx.cfg->concurrency,
                    .work = work,
                    .thread_init = worker_init, .thread_fini = worker_fini, .ud = &ctx};
    ctx.workers = pool_new(&po);

    gboolean warm = warmup_wanted(ctx.cfg);
    server_opts so = {.cfg = ctx.cfg, .listeners = listeners, .dispatch = dispatch, .busy = busy, .ud = &ctx,
                      .tick = loop_tick, .answered = answered, .hold_listeners = warm,
                      .receiving = stats_receiving(wstats)};
    server *srv = server_new(&so, &error);
    proc *pr = srv ? proc_new(srv, parent_fd, reopen_logs, &ctx, &error) : NULL;
    if (!pr) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        server_free(srv);
        tmpdir_remove(private_tmp);
        return 1;
    }
    if (wstats) {
        stats_runtime_tick(wstats, g_get_monotonic_time());
        stats_loop_tick(wstats, g_get_monotonic_time());
        g_thread_unref(g_thread_new("heartbeat", heartbeat, NULL));
    }
    slowlog_start(slog);
    ready_ctx rc = {.srv = srv, .cfg = ctx.cfg, .listeners = listeners, .control_fd = control_fd,
                    .napps = ctx.apps->len};
    if (warm) {
        if (control_fd >= 0 && write(control_fd, (char[]){WORKER_WARMING}, 1) != 1)
            g_warning("cannot tell the supervisor this worker warms up: %s", g_strerror(errno));
        g_thread_unref(g_thread_new("warmup", warmup_thread, &rc));
    }
    else
        announce(&rc);

    server_run(srv);
    /* the lines of the last second (left open: a request past shutdown_timeout
     * may still finish) */
    accesslog_flush(alog);
    proc_free(pr);
    server_free(srv);
    g_ptr_array_free(listeners, TRUE);
    if (!tmpdir_remove(private_tmp))
        g_warning("could not remove all of %s", private_tmp);
    g_message("stopped");
    /* Mono's own shutdown can wait on ASP.NET's threads: the work is done, so
     * leave without it. */
    fflush(NULL);
    _exit(0);
}

int main(int argc, char **argv)
{
    return worker_main(argc, argv);
}
