/* supervisor: see supervisor.h. */
#include "supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "appwatch.h"
#include "confcheck.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "notify.h"
#include "privs.h"
#include "stats.h"
#include "status_http.h"
#include "status_model.h"
#include "status_page.h"
#include "worker.h"

/* epoll tags: below TAG_PROC the supervisor's own descriptors, else a worker pid */
enum { TAG_SIGNAL = 0, TAG_PARENT = 1, TAG_WATCH = 2, TAG_PROC = 3 };

typedef struct {
    pid_t pid;
    int ctl;           /* read end of its control pipe, -1 once closed */
    gboolean ready;    /* said "R" */
    gint64 started;    /* monotonic µs */
    int gen;           /* the configuration generation it was started for */
    gboolean retiring; /* replaced (reload, request_timeout): its exit is expected */
    stats_block *stats;/* shared with it (stats.h), unmapped once it is reaped */
    int stats_fd;      /* handed to the child, closed after the fork */
    gint64 ready_at;   /* monotonic µs it said "R" */
    char *why;         /* why the supervisor ended it (watchdog), for the exit line */
    gboolean killed;   /* the watchdog sent SIGKILL */
    gboolean condemned;/* request_timeout, recycling: SIGTERM once a replacement serves */
    gint64 condemned_at;
    gint64 term_at;    /* monotonic µs it got SIGTERM (watchdog, recycling, reload), 0 = not yet */
    int term_grace;    /* seconds after term_at before SIGKILL (its shutdown_timeout + 5) */
    gint64 max_requests;/* its recycling point (max_requests + jitter), 0 = none */
    gint64 rss_checked;/* monotonic µs of its last RSS check */
    gint64 max_age;    /* its recycling age in µs (max_age + jitter), 0 = none */
    sm_reason reason;  /* why the supervisor ended it (status_model.h), SM_NO_RESTART = it did not */
} wproc;

typedef struct {
    config *cfg;
    char **argv;       /* the command line, for the workers */
    char *worker_exe;
    GPtrArray *listeners; /* of listener* */
    GPtrArray *procs;  /* of wproc*: every live worker */
    int epfd, sigfd, parent_fd;
    pid_t self;
    gboolean announced;/* "ready:" logged */
    gboolean stopping;
    gint64 stop_deadline;
    int exit_code;
    int argc;
    int gen;           /* generation of the serving workers */
    gint64 backoff_ms; /* delay before the next replacement of a worker that died young */
    gint64 restart_at; /* monotonic µs: no replacement starts before */
    /* a reload (SIGHUP) in progress: new workers of generation reload_gen start
     * with new_cfg; once all are ready the old ones are retired */
    config *new_cfg;
    privs *privs;      /* the account cfg's workers run as (privs.h) */
    privs *new_privs;  /* new_cfg's, during a reload (NULL during a replacement) */
    int reload_gen;
    gint64 reload_deadline;
    gboolean reload_again; /* another SIGHUP came meanwhile */
    /* application changes (appwatch.h): a replacement is a reload that keeps
     * the configuration (new_cfg == cfg, borrowed) */
    appwatch *watch;   /* NULL: watch = false, or inotify refused */
    gboolean replace_again; /* an application changed during a reload or replacement */
    gboolean start_failing; /* the last worker started to replace one exited before it was
                               ready (warm-up or start failed): a condemned worker keeps
                               serving until a replacement is ready */
    status_http *status; /* status_listen (status_http.h), NULL when off */
    status_model *model; /* the status page's and the metrics' figures (status_model.h) */
    gint64 next_sample;  /* monotonic µs of the next status_model_tick */
    gint64 next_stats_line; /* of the next stats_interval line, 0 = not scheduled */
} sup;

#define LIVED_RESETS_BACKOFF_US (30 * G_USEC_PER_SEC)
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 10000
#define RELOAD_TIMEOUT_US (120 * G_USEC_PER_SEC)
/* replacements that fail their warm-up are retried no sooner than this, doubling */
#define BACKOFF_WARMUP_FIRST_MS 1000
#define BACKOFF_WARMUP_MAX_MS 60000

static gint64 now_us(void)
{
    return g_get_monotonic_time();
}

static char *describe_status(int st)
{
    if (WIFEXITED(st))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(st));
    if (WIFSIGNALED(st))
        return g_strdup_printf("was killed by signal %d (%s)%s", WTERMSIG(st), strsignal(WTERMSIG(st)),
                               WCOREDUMP(st) ? ", core dumped" : "");
    return g_strdup_printf("ended (status 0x%x)", st);
}

/* In the child: descriptors and environment as worker.h says, then exec. */
/* The status model's view of the server (after the start and each reload). */
static void model_set_server(sup *s)
{
    const char **listen = g_new0(const char *, s->listeners->len + 1);
    for (guint i = 0; i < s->listeners->len; i++)
        listen[i] = ((listener *)g_ptr_array_index(s->listeners, i))->desc;
    sm_app_info *apps = g_new0(sm_app_info, s->cfg->apps->len + 1);
    for (guint i = 0; i < s->cfg->apps->len; i++) {
        const app_spec *a = g_ptr_array_index(s->cfg->apps, i);
        apps[i] = (sm_app_info){.name = a->name, .vpath = a->vpath, .path = a->path};
    }
    sm_server_info info = {.version = SCGI_MONO_VERSION, .pid = (int)s->self,
                           .workers_configured = s->cfg->workers, .threads = s->cfg->threads,
                           .listen = listen, .apps = apps, .napps = (int)s->cfg->apps->len};
    if (s->model)
        status_model_set_server(s->model, &info);
    else
        s->model = status_model_new(&info, now_us(), g_get_real_time());
    g_free(listen);
    g_free(apps);
}

/* A reaped worker (before its counters are unmapped): its last counters,
 * how it ended, and whether that is a restart and why. */
static void model_exited(sup *s, wproc *w, int st, gint64 lost)
{
    sm_reason r = w->reason;
    if (r == SM_NO_RESTART && !s->stopping && !w->retiring)
        r = SM_CRASH; /* it ended on its own */
    char *how = describe_status(st);
    char *text = w->why ? g_strdup_printf("%s (%s)", how, w->why) : g_strdup(how);
    status_model_worker_exited(s->model, (int)w->pid, text, r, lost);
    g_free(text);
    g_free(how);
}

/* Once a second: a sample of the workers' counters (status_model_tick) and
 * the stats_interval line when due. The status listener renders the model
 * when asked (render_json, render_metrics). */
static void status_tick(sup *s)
{
    gint64 now = now_us();
    if (now < s->next_sample)
        return;
    s->next_sample = MAX(s->next_sample + G_USEC_PER_SEC, now + G_USEC_PER_SEC / 2);
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        status_model_worker_state(s->model, (int)w->pid,
                                  w->term_at ? SM_DRAINING : w->ready ? SM_READY : SM_STARTING);
    }
    status_model_tick(s->model, now, g_get_real_time());
    if (s->cfg->stats_interval > 0) {
        if (!s->next_stats_line)
            s->next_stats_line = now + (gint64)s->cfg->stats_interval * G_USEC_PER_SEC;
        else if (now >= s->next_stats_line - G_USEC_PER_SEC / 4) {
            char *line = status_model_log_line(s->model, now);
            g_message("%s", line);
            g_free(line);
            s->next_stats_line += (gint64)s->cfg->stats_interval * G_USEC_PER_SEC;
            s->next_stats_line = MAX(s->next_stats_line, now + G_USEC_PER_SEC / 2);
        }
    } else {
        s->next_stats_line = 0;
    }
}

static void G_GNUC_NORETURN child_exec(sup *s, const privs *pv, int ctl_write, int stats_fd, gboolean strict)
{
    /* SIGUSR1 stays blocked through exec: the worker reads it from its
     * signalfd, and one forwarded before the worker blocked it itself would
     * kill it (default action) */
    sigset_t none;
    sigemptyset(&none);
    sigaddset(&none, SIGUSR1);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* the workers' account (privs.h): before PR_SET_PDEATHSIG, which a
     * change of credentials clears */
    const char *step = "";
    int e = privs_apply(pv, &step);
    if (e) {
        fprintf(stderr, "scgi-mono-server: cannot start a worker as user %s: %s: %s\n", pv->user, step, strerror(e));
        _exit(1);
    }
    if (pv && pv->drop) {
        setenv("USER", pv->user, 1);
        setenv("LOGNAME", pv->user, 1);
        setenv("HOME", pv->home, 1);
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != s->self)
        _exit(1); /* the supervisor is already gone */
    notify_scrub_env(); /* only the supervisor talks to the service manager */
    int n = (int)s->listeners->len, high = 3 + n + 2;
    int tmp[66];
    if (n > 64)
        _exit(1); /* listener_adopt_handed takes at most 64 */
    for (int i = 0; i < n; i++)
        tmp[i] = fcntl(((listener *)g_ptr_array_index(s->listeners, i))->fd, F_DUPFD_CLOEXEC, high);
    tmp[n] = fcntl(ctl_write, F_DUPFD_CLOEXEC, high);
    tmp[n + 1] = fcntl(stats_fd, F_DUPFD_CLOEXEC, high);
    for (int i = 0; i <= n + 1; i++)
        if (tmp[i] < 0 || dup2(tmp[i], 3 + i) < 0)
            _exit(1);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0 && null != 0) {
        dup2(null, 0);
        close(null);
    }
    char num[32];
    GString *protos = g_string_new(NULL);
    for (int i = 0; i < n; i++)
        g_string_append_printf(protos, "%s%s", i ? "," : "",
                               listener_protocols_token(((listener *)g_ptr_array_index(s->listeners, i))->protocols));
    snprintf(num, sizeof num, "%d", (int)getpid());
    setenv("LISTEN_PID", num, 1);
    snprintf(num, sizeof num, "%d", n);
    setenv("LISTEN_FDS", num, 1);
    unsetenv("LISTEN_FDNAMES");
    setenv(LISTENER_PROTOCOLS_ENV, protos->str, 1);
    snprintf(num, sizeof num, "%d", 3 + n);
    setenv(WORKER_CONTROL_ENV, num, 1);
    snprintf(num, sizeof num, "%d", 3 + n + 1);
    setenv(STATS_FD_ENV, num, 1);
    if (strict)
        setenv(WORKER_STRICT_ENV, "1", 1);
    else
        unsetenv(WORKER_STRICT_ENV);
    s->argv[0] = s->worker_exe;
    execv(s->worker_exe, s->argv);
    fprintf(stderr, "scgi-mono-server: cannot run %s: %s\n", s->worker_exe, strerror(errno));
    _exit(127);
}

static wproc *spawn(sup *s, int gen)
{
    int p[2], stats_fd = -1;
    const config *cfg = s->new_cfg && gen == s->reload_gen ? s->new_cfg : s->cfg;
    const privs *pv = s->new_cfg && gen == s->reload_gen && s->new_privs ? s->new_privs : s->privs;
    stats_block *stats = stats_create(cfg->threads, &stats_fd);
    if (!stats) {
        g_warning("cannot start a worker: shared memory for its counters: %s", g_strerror(errno));
        return NULL;
    }
    if (pipe2(p, O_CLOEXEC) < 0) {
        g_warning("cannot start a worker: pipe: %s", g_strerror(errno));
        stats_unmap(stats);
        close(stats_fd);
        return NULL;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        g_warning("cannot start a worker: fork: %s", g_strerror(errno));
        close(p[0]);
        close(p[1]);
        stats_unmap(stats);
        close(stats_fd);
        return NULL;
    }
    if (pid == 0)
        child_exec(s, pv, p[1], stats_fd, s->new_cfg && gen == s->reload_gen); /* it replaces running ones */
    close(p[1]);
    close(stats_fd);
    wproc *w = g_new0(wproc, 1);
    w->stats = stats;
    if (cfg->max_requests > 0)
        w->max_requests = cfg->max_requests + g_random_int_range(0, (gint32)MIN(cfg->max_requests / 8, G_MAXINT32 - 1) + 1);
    if (cfg->max_age > 0) {
        gint64 age = (gint64)cfg->max_age * G_USEC_PER_SEC;
        w->max_age = age + (gint64)(g_random_double() * (double)(age / 8));
    }
    w->pid = pid;
    g_info("worker %d: %s, generation %d, as %s%s", (int)pid, s->worker_exe, gen,
           pv && pv->drop ? "user " : "the supervisor's user", pv && pv->drop ? pv->user : "");
    w->ctl = p[0];
    w->started = now_us();
    w->gen = gen;
    w->reason = SM_NO_RESTART;
    status_model_worker_started(s->model, pid, gen, stats, w->started);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)pid};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->ctl, &ev);
    g_ptr_array_add(s->procs, w);
    g_message("worker %d started%s", (int)pid, gen != s->gen ? " (reload)" : "");
    return w;
}

static wproc *find(sup *s, pid_t pid)
{
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->pid == pid)
            return w;
    }
    return NULL;
}

static void close_ctl(sup *s, wproc *w)
{
    if (w->ctl >= 0) {
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->ctl, NULL);
        close(w->ctl);
        w->ctl = -1;
    }
}

static void signal_all(sup *s, int sig)
{
    for (guint i = 0; i < s->procs->len; i++)
        kill(((wproc *)g_ptr_array_index(s->procs, i))->pid, sig);
}

/* SIGTERM to a worker the supervisor retires (reload, recycling,
 * request_timeout): it stops accepting and finishes its requests; the
 * watchdog sends SIGKILL shutdown_timeout + 5 s later (its own configuration's
 * shutdown_timeout: that is what it drains with). */
static void terminate(wproc *w, const config *cfg)
{
    kill(w->pid, SIGTERM);
    w->term_at = now_us();
    w->term_grace = cfg->shutdown_timeout + 5;
}

static void begin_stop(sup *s, const char *why)
{
    if (s->stopping)
        return;
    g_message("stopping (%s): the workers finish their requests in progress", why);
    s->stopping = TRUE;
    s->stop_deadline = now_us() + ((gint64)s->cfg->shutdown_timeout + 5) * G_USEC_PER_SEC;
    signal_all(s, SIGTERM);
}

static void commit_reload(sup *s);
static void abort_reload(sup *s, const char *why);

static void announce_if_ready(sup *s)
{
    if (s->announced || s->stopping || s->procs->len < (guint)s->cfg->workers)
        return;
    GString *pids = g_string_new(NULL);
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (!w->ready) {
            g_string_free(pids, TRUE);
            return;
        }
        g_string_append_printf(pids, "%s%d", i ? " " : "", (int)w->pid);
    }
    s->announced = TRUE;
    g_message("scgi-mono-server %s ready: %u worker process(es) (pid %s), %d threads each, %u application(s)",
              SCGI_MONO_VERSION, s->procs->len, pids->str, s->cfg->threads, s->cfg->apps->len);
    g_string_free(pids, TRUE);
}

/* Workers of generation gen: how many, and how many of them are ready. */
static int count_gen(sup *s, int gen, int *ready)
{
    int n = 0, r = 0;
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->gen == gen && !w->retiring) {
            n++;
            r += w->ready;
        }
    }
    if (ready)
        *ready = r;
    return n;
}

/* The log files c's workers write and reopen by path, created and given to
 * their user (privs.h) before they start or reopen them. FALSE (logged,
 * prefixed with why) if one cannot be. */
static gboolean prepare_log_files(const privs *pv, const config *c, const char *why)
{
    const char *paths[] = { log_target_is_syslog(c->error_log) ? NULL : c->error_log, c->access_log };
    gboolean ok = TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(paths); i++) {
        GError *error = NULL;
        if (paths[i] && !privs_prepare_log(pv, paths[i], &error)) {
            g_warning("%s%s", why, error->message);
            g_clear_error(&error);
            ok = FALSE;
        }
    }
    return ok;
}

/* The UNIX sockets this process created belong to the workers' user and
 * group (their mode is socket_mode's). */
static void chown_sockets(sup *s, const privs *pv)
{
    for (guint i = 0; i < s->listeners->len; i++) {
        listener *l = g_ptr_array_index(s->listeners, i);
        GError *error = NULL;
        if (l->path && !privs_chown_socket(pv, l->path, &error)) {
            g_warning("%s", error->message);
            g_clear_error(&error);
        }
    }
}

static void start_reload(sup *s)
{
    if (s->stopping)
        return;
    if (s->new_cfg) {
        s->reload_again = TRUE;
        g_message("SIGHUP: a %s is in progress; a reload follows it", s->new_cfg == s->cfg ? "replacement" : "reload");
        return;
    }
    GError *error = NULL;
    gboolean exit_now = FALSE;
    config *c = config_load(s->argc, s->argv, &exit_now, &error);
    if (!c) {
        g_warning("SIGHUP: configuration not reloaded, the running workers keep serving: %s",
                  error ? error->message : "no configuration");
        g_clear_error(&error);
        return;
    }
    /* the check of -t: a broken application is refused before any worker starts */
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    if (confcheck_config(c, problems)) {
        for (guint i = 0; i < problems->len; i++)
            g_warning("SIGHUP: %s", (char *)g_ptr_array_index(problems, i));
        g_warning("SIGHUP: configuration not reloaded, the running workers keep serving: %u problem(s) found "
                  "(the lines above; scgi-mono-server -t shows them too)", problems->len);
        g_ptr_array_unref(problems);
        config_free(c);
        return;
    }
    g_ptr_array_unref(problems);
    privs *np = privs_resolve(c, &error);
    if (!np || !prepare_log_files(np, c, "SIGHUP: ")) {
        if (error)
            g_warning("SIGHUP: %s", error->message);
        g_warning("SIGHUP: configuration not reloaded, the running workers keep serving");
        g_clear_error(&error);
        privs_free(np);
        config_free(c);
        return;
    }
    chown_sockets(s, np);
    s->new_privs = np;
    gboolean same_listen = c->listen->len == s->cfg->listen->len;
    for (guint i = 0; same_listen && i < c->listen->len; i++)
        same_listen = g_str_equal(((listen_spec *)g_ptr_array_index(c->listen, i))->spec,
                                  ((listen_spec *)g_ptr_array_index(s->cfg->listen, i))->spec);
    if (!same_listen)
        g_warning("SIGHUP: listen changed; the listening sockets stay as they are until a restart");
    if (g_strcmp0(c->status_listen ? c->status_listen->spec : NULL,
                  s->cfg->status_listen ? s->cfg->status_listen->spec : NULL) != 0)
        g_warning("SIGHUP: status_listen changed; the status listener stays as it is until a restart");
    s->new_cfg = c;
    s->reload_gen = MAX(s->gen, s->reload_gen) + 1;
    s->reload_deadline = now_us() + RELOAD_TIMEOUT_US + (gint64)c->warmup_timeout * G_USEC_PER_SEC;
    g_message("SIGHUP: configuration valid; starting %d new worker(s), the running ones serve until they are ready",
              c->workers);
    for (int i = 0; i < c->workers; i++)
        if (!spawn(s, s->reload_gen)) {
            abort_reload(s, "a new worker could not be started");
            return;
        }
}

/* An application changed: every worker is replaced as by a reload (new ones
 * start, once all serve the old ones drain), with the same configuration. */
static void start_replace(sup *s)
{
    if (s->stopping)
        return;
    if (s->new_cfg) {
        s->replace_again = TRUE;
        g_message("a %s is in progress; the workers are replaced again after it",
                  s->new_cfg == s->cfg ? "replacement" : "reload");
        return;
    }
    s->new_cfg = s->cfg;
    s->reload_gen = MAX(s->gen, s->reload_gen) + 1;
    s->reload_deadline = now_us() + RELOAD_TIMEOUT_US + (gint64)s->cfg->warmup_timeout * G_USEC_PER_SEC;
    for (int i = 0; i < s->cfg->workers; i++)
        if (!spawn(s, s->reload_gen)) {
            abort_reload(s, "a new worker could not be started");
            return;
        }
}

static void end_reload(sup *s)
{
    s->new_cfg = NULL;
    if (s->reload_again) {
        s->reload_again = FALSE;
        s->replace_again = FALSE; /* new workers see the changed files too */
        start_reload(s);
    } else if (s->replace_again) {
        s->replace_again = FALSE;
        start_replace(s);
    }
}

static void abort_reload(sup *s, const char *why)
{
    g_warning("%s failed (%s): the running workers keep serving", s->new_cfg == s->cfg ? "replacement" : "reload",
              why);
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->gen == s->reload_gen && !w->retiring) {
            w->retiring = TRUE;
            terminate(w, s->new_cfg);
        }
    }
    if (s->new_cfg != s->cfg) { /* else a replacement: the configuration stays */
        config_free(s->new_cfg);
        chown_sockets(s, s->privs);
    }
    g_clear_pointer(&s->new_privs, privs_free);
    end_reload(s);
}

/* Every new worker is ready: the old ones stop accepting, finish their
 * requests and exit; the new configuration is the server's. */
static void commit_reload(sup *s)
{
    GString *old = g_string_new(NULL);
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->gen != s->reload_gen && !w->retiring) {
            w->retiring = TRUE;
            w->reason = s->new_cfg == s->cfg ? SM_APP_CHANGE : SM_RELOAD;
            terminate(w, s->cfg); /* the configuration it runs with, still s->cfg here */
            g_string_append_printf(old, " %d", (int)w->pid);
        }
    }
    g_message("%s: %d new worker(s) serving; old worker(s)%s finish their requests and exit",
              s->new_cfg == s->cfg ? "replaced" : "reloaded", s->new_cfg->workers, old->len ? old->str : " (none)");
    g_string_free(old, TRUE);
    if (s->new_cfg != s->cfg) {
        config_free(s->cfg);
        privs_free(s->privs);
        s->privs = s->new_privs;
        s->new_privs = NULL;
    }
    s->cfg = s->new_cfg;
    s->gen = s->reload_gen;
    model_set_server(s);
    s->backoff_ms = 0;
    end_reload(s);
}

static void check_reload(sup *s)
{
    if (!s->new_cfg)
        return;
    int ready = 0, n = count_gen(s, s->reload_gen, &ready);
    if (n == s->new_cfg->workers && ready == n)
        commit_reload(s);
    else if (now_us() > s->reload_deadline)
        abort_reload(s, "the new workers were not ready in time");
}

/* Keeps `workers` workers of the current generation running: a worker that
 * died is replaced at once, or after the back-off when workers die young. */
static void maintain(sup *s)
{
    if (s->stopping || !s->announced)
        return;
    while (count_gen(s, s->gen, NULL) < s->cfg->workers && now_us() >= s->restart_at) {
        if (!spawn(s, s->gen)) {
            s->restart_at = now_us() + G_USEC_PER_SEC;
            break;
        }
    }
}

/* Resident memory of pid in MiB, -1 if unknown. */
static gint64 rss_mib(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    unsigned long size = 0, resident = 0;
    gboolean ok = fgets(buf, sizeof buf, f) && sscanf(buf, "%lu %lu", &size, &resident) == 2;
    fclose(f);
    return ok ? (gint64)resident * sysconf(_SC_PAGESIZE) / (1024 * 1024) : -1;
}

/* The watchdog (stats.h): a worker whose event loop or Mono heartbeat stalled
 * for hang_timeout is killed and replaced as after a crash; one with a
 * request past request_timeout is replaced overlapped (a new worker starts,
 * once it is ready the old one gets SIGTERM, finishes its other requests
 * within shutdown_timeout and exits; SIGKILL 5 s after that). */
/* The hang rule (stats_verdict): a worker whose loop or Mono heartbeat made
 * no progress for hang_timeout is killed. TRUE if it was. */
static gboolean hung(wproc *w, gint64 now, gint64 hang)
{
    stats_snapshot snap;
    stats_read(w->stats, &snap);
    char *why = NULL;
    stats_verdict_kind v = stats_verdict(&snap, now, w->ready_at, hang, 0, &why);
    if (v == STATS_LOOP_STUCK || v == STATS_RUNTIME_STUCK) {
        g_warning("worker %d hangs: %s: killing it (SIGKILL)", (int)w->pid, why);
        g_free(w->why);
        w->why = g_strdup_printf("hang: %s", why);
        w->reason = SM_HANG;
        kill(w->pid, SIGKILL);
        w->killed = TRUE;
    }
    g_free(why);
    return w->killed;
}

static void watchdog(sup *s)
{
    gint64 now = now_us(), hang = (gint64)s->cfg->hang_timeout * G_USEC_PER_SEC,
           req = (gint64)s->cfg->request_timeout * G_USEC_PER_SEC;
    int serving = 0;
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        serving += w->gen == s->gen && w->ready && !w->retiring;
    }
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->killed)
            continue;
        /* a hang is judged in every worker that served, draining ones too:
         * Environment.Exit in a worker being replaced hangs it as well */
        if (w->ready && hung(w, now, hang))
            continue;
        if (w->term_at) {
            /* retired (reload, recycling, request_timeout): it had shutdown_timeout to drain */
            if (now - w->term_at > (gint64)w->term_grace * G_USEC_PER_SEC) {
                g_warning("worker %d still running %d s after SIGTERM (shutdown_timeout + 5 s): killing it (SIGKILL)",
                          (int)w->pid, w->term_grace);
                char *why = g_strdup_printf("%s; still running %d s after SIGTERM", w->why ? w->why : "retired",
                                            w->term_grace);
                g_free(w->why);
                w->why = why;
                kill(w->pid, SIGKILL);
                w->killed = TRUE;
            }
            continue;
        }
        if (!w->ready)
            continue;
        if (w->condemned) {
            /* its replacement serves (or none came within a minute, unless
             * replacements fail to start: then it keeps serving): drain it */
            if (serving >= s->cfg->workers || (now - w->condemned_at > 60 * G_USEC_PER_SEC && !s->start_failing)) {
                g_message("worker %d: its replacement serves; it stops accepting and gets %d s for its "
                          "other requests", (int)w->pid, s->cfg->shutdown_timeout);
                terminate(w, s->cfg);
            }
            continue;
        }
        if (w->retiring || s->stopping)
            continue;
        stats_snapshot snap;
        stats_read(w->stats, &snap);
        char *why = NULL;
        stats_verdict_kind v = stats_verdict(&snap, now, w->ready_at, 0, req, &why);
        if (v == STATS_OK && w->gen == s->gen && !s->new_cfg) {
            /* recycling: overlapped, as for request_timeout, but nothing is lost */
            char *recycle = NULL;
            sm_reason reason = SM_NO_RESTART;
            if (w->max_requests && snap.started >= w->max_requests)
                reason = SM_MAX_REQUESTS, recycle = g_strdup_printf("recycled after %" G_GINT64_FORMAT " requests (max_requests %" G_GINT64_FORMAT
                                          ", %" G_GINT64_FORMAT " for this worker)",
                                          snap.started, s->cfg->max_requests, w->max_requests);
            else if (w->max_age && now - w->started >= w->max_age)
                reason = SM_MAX_AGE, recycle = g_strdup_printf("recycled at the age of %.1f s (max_age %d, %.1f s for this worker)",
                                          (double)(now - w->started) / G_USEC_PER_SEC, s->cfg->max_age,
                                          (double)w->max_age / G_USEC_PER_SEC);
            else if (s->cfg->max_rss && now - w->rss_checked >= G_USEC_PER_SEC) {
                w->rss_checked = now;
                gint64 rss = rss_mib(w->pid);
                if (rss > s->cfg->max_rss)
                    reason = SM_MAX_RSS, recycle = g_strdup_printf("recycled at %" G_GINT64_FORMAT " MiB resident (max_rss %" G_GINT64_FORMAT ")",
                                              rss, s->cfg->max_rss);
            }
            if (recycle) {
                g_message("worker %d %s: starting a replacement; then it stops accepting and finishes its requests",
                          (int)w->pid, recycle);
                w->why = recycle;
                w->reason = reason;
                w->condemned = TRUE;
                w->condemned_at = now;
                w->retiring = TRUE;
            }
        } else if (v == STATS_REQUEST_TIMEOUT) {
            g_warning("worker %d: %s: starting a replacement; then it stops accepting and gets %d s for its "
                      "other requests", (int)w->pid, why, s->cfg->shutdown_timeout);
            w->why = g_strdup(why);
            w->reason = SM_REQUEST_TIMEOUT;
            w->condemned = TRUE;
            w->condemned_at = now;
            w->retiring = TRUE; /* maintain() starts the replacement */
        }
        g_free(why);
    }
}

/* A worker whose AppDomain was unloaded in-process asks to be replaced: as at
 * max_requests, overlapped (maintain starts its replacement, the watchdog
 * drains it once that serves). */
static void on_replace_me(sup *s, wproc *w)
{
    if (s->stopping || w->retiring || w->term_at || w->condemned)
        return;
    g_message("worker %d: an AppDomain was unloaded in-process: starting a replacement; then it stops accepting "
              "and finishes its requests", (int)w->pid);
    w->why = g_strdup("replaced after an in-process AppDomain unload");
    w->reason = SM_APP_CHANGE;
    w->condemned = TRUE;
    w->condemned_at = now_us();
    w->retiring = TRUE;
}

/* Application changes (watch = true): the applications' trees are watched
 * (appwatch.h); a change, once debounced, replaces every worker. */
static void watch_start(sup *s)
{
    if (!s->cfg->watch)
        return;
    GError *error = NULL;
    s->watch = appwatch_new(&error);
    if (!s->watch) {
        g_warning("application changes are not watched: %s", error->message);
        g_error_free(error);
        return;
    }
    for (guint i = 0; i < s->cfg->apps->len; i++) {
        const app_spec *a = g_ptr_array_index(s->cfg->apps, i);
        appwatch_add(s->watch, a->name, a->path);
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_WATCH};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, appwatch_fd(s->watch), &ev);
}

static void check_app_changes(sup *s)
{
    char *name, *file;
    int events, changed = 0;
    while (s->watch && appwatch_due(s->watch, now_us(), &name, &file, &events)) {
        g_message("application %s changed (%s%s): replacing the worker(s) overlapped", name, file,
                  events > 1 ? ", and more" : "");
        changed++;
        g_free(name);
        g_free(file);
    }
    if (changed)
        start_replace(s);
}

static void on_control(sup *s, pid_t pid)
{
    wproc *w = find(s, pid);
    if (!w || w->ctl < 0)
        return;
    char buf[16];
    ssize_t r = read(w->ctl, buf, sizeof buf);
    if (r > 0) {
        if (memchr(buf, 'R', (size_t)r) && !w->ready) {
            w->ready = TRUE;
            w->ready_at = now_us();
            s->start_failing = FALSE;
            announce_if_ready(s);
            check_reload(s);
        }
        if (memchr(buf, WORKER_REPLACE_ME, (size_t)r))
            on_replace_me(s, w);
        return;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    close_ctl(s, w); /* EOF: it is exiting; SIGCHLD tells how */
}

static void not_in_service(sup *s, pid_t pid, gboolean warmup_failed, gint64 lived_us);

static void on_exit_status(sup *s, pid_t pid, int st)
{
    wproc *w = find(s, pid);
    if (!w)
        return;
    char *how = describe_status(st);
    gint64 lived_ms = (now_us() - w->started) / 1000;
    gboolean clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    /* what it was doing when it died: requests handed to its threads and not
     * finished are lost (their connections closed with the process) */
    stats_snapshot snap;
    stats_read(w->stats, &snap);
    model_exited(s, w, st, snap.lost_if_dead);
    stats_unmap(w->stats);
    w->stats = NULL;
    char *lost = snap.lost_if_dead || !clean || w->why
                     ? g_strdup_printf("; lost %" G_GINT64_FORMAT " request(s) in progress", snap.lost_if_dead)
                     : g_strdup("");
    char *why = w->why ? g_strdup_printf(" (%s)", w->why) : g_strdup("");
    if ((s->stopping || w->retiring) && clean && !snap.lost_if_dead)
        g_message("worker %d %s%s", (int)pid, how, why);
    else
        g_warning("worker %d %s%s after %" G_GINT64_FORMAT ".%01d s%s%s", (int)pid, how,
                  w->ready ? "" : " before it was ready", lived_ms / 1000, (int)(lived_ms % 1000) / 100, why,
                  lost);
    g_free(how);
    g_free(lost);
    g_free(why);
    g_free(w->why);
    close_ctl(s, w);
    g_ptr_array_remove(s->procs, w);
    gboolean retiring = w->retiring, was_new = s->new_cfg && w->gen == s->reload_gen, was_ready = w->ready;
    gboolean warmup_failed = !was_ready && WIFEXITED(st) && WEXITSTATUS(st) == WORKER_EXIT_WARMUP;
    gint64 lived_us = now_us() - w->started;
    g_free(w);
    if (s->stopping || retiring)
        return;
    if (was_new) {
        abort_reload(s, warmup_failed ? "a new worker failed its warm-up (the reason is logged above)"
                                      : "a new worker exited");
        return;
    }
    if (!s->announced) {
        g_warning(warmup_failed ? "cannot start: a worker failed its warm-up (the reason is logged above)"
                                : "cannot start: a worker exited before it was ready");
        s->exit_code = 1;
        begin_stop(s, "start failed");
        return;
    }
    if (!was_ready) {
        not_in_service(s, pid, warmup_failed, lived_us);
        return;
    }
    /* replace it: at once, unless workers keep dying young (a crash loop) */
    if (lived_us >= LIVED_RESETS_BACKOFF_US)
        s->backoff_ms = 0;
    gint64 delay_ms = s->backoff_ms;
    s->backoff_ms = s->backoff_ms ? MIN(s->backoff_ms * 2, BACKOFF_MAX_MS) : BACKOFF_FIRST_MS;
    s->restart_at = MAX(s->restart_at, now_us() + delay_ms * 1000);
    if (delay_ms)
        g_warning("workers are dying young: the next one starts in %" G_GINT64_FORMAT ".%01d s", delay_ms / 1000,
                  (int)(delay_ms % 1000) / 100);
}

/* A worker started to replace another (crash, watchdog, recycling) exited
 * before it was ready: it never accepted. The running workers (a condemned
 * one included: see watchdog) keep serving; the next attempt backs off, from
 * 1 s doubling to 60 s after a failed warm-up (each attempt starts Mono and
 * compiles: not a loop to run often), as for a crash loop otherwise. */
static void not_in_service(sup *s, pid_t pid, gboolean warmup_failed, gint64 lived_us)
{
    int serving = 0;
    for (guint i = 0; i < s->procs->len; i++)
        serving += ((wproc *)g_ptr_array_index(s->procs, i))->ready;
    s->start_failing = TRUE;
    gint64 delay_ms = s->backoff_ms;
    if (warmup_failed) {
        delay_ms = MAX(delay_ms, BACKOFF_WARMUP_FIRST_MS);
        s->backoff_ms = MIN(delay_ms * 2, BACKOFF_WARMUP_MAX_MS);
    } else {
        if (lived_us >= LIVED_RESETS_BACKOFF_US)
            delay_ms = 0;
        s->backoff_ms = delay_ms ? MIN(delay_ms * 2, BACKOFF_MAX_MS) : BACKOFF_FIRST_MS;
    }
    s->restart_at = MAX(s->restart_at, now_us() + delay_ms * 1000);
    g_warning("worker %d %s: it was not put in service; %d running worker(s) keep serving; the next attempt "
              "in %" G_GINT64_FORMAT ".%01d s", (int)pid, warmup_failed ? "failed its warm-up" : "did not start",
              serving, delay_ms / 1000, (int)(delay_ms % 1000) / 100);
}

static void reap(sup *s)
{
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        on_exit_status(s, pid, st);
}

/* SIGUSR1: the log file again by its path (logrotate renamed it), here and
 * in every worker (each reopens it itself, see worker.c). */
static void reopen_logs(sup *s)
{
    GError *error = NULL;
    prepare_log_files(s->privs, s->cfg, "SIGUSR1: ");
    if (log_target_is_syslog(log_target()) && log_reopen(NULL))
        g_message("SIGUSR1: logging to syslog (reconnected), no file to reopen");
    else if (!log_file_path())
        g_message("SIGUSR1: logging to standard error, no file to reopen");
    else if (log_reopen(&error))
        g_message("log file reopened: %s; passed on to %u worker(s)", log_file_path(), s->procs->len);
    else
        g_warning("SIGUSR1: %s; logging on to the file already open", error->message);
    g_clear_error(&error);
    signal_all(s, SIGUSR1);
}

/* A reload that changed error_log: the supervisor follows once it commits
 * (its new workers opened the new file themselves). */
static void logs_follow_config(sup *s)
{
    static int seen_gen = -1;
    if (s->gen == seen_gen)
        return;
    seen_gen = s->gen;
    if (log_threshold_ != s->cfg->log_level && !g_getenv("SCGI_MONO_DEBUG")) {
        log_set_level((log_level)s->cfg->log_level);
        g_message("log_level changed to %s", log_level_name((log_level)s->cfg->log_level));
    }
    if (g_strcmp0(s->cfg->error_log, log_target()) == 0)
        return;
    GError *error = NULL;
    char *old = g_strdup(log_target() ? log_target() : "standard error");
    g_message("error_log changed: logging to %s from now on", s->cfg->error_log ? s->cfg->error_log : "standard error");
    if (log_set_target(s->cfg->error_log, &error))
        g_message("error_log changed: logging here from now on (before: %s)", old);
    else
        g_warning("error_log: %s; logging on to %s", error->message, old);
    g_clear_error(&error);
    g_free(old);
}

/* SIGQUIT is a core dump by default: the supervisor passes it to the
 * workers that serve (Mono's handler is installed by then), each of which
 * prints a managed thread dump of all its threads (Mono writes it to
 * standard output): for a worker that seems to hang. */
static void dump_threads(sup *s)
{
    GString *pids = g_string_new(NULL);
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (w->ready && !w->killed) {
            kill(w->pid, SIGQUIT);
            g_string_append_printf(pids, " %d", (int)w->pid);
        }
    }
    g_message("SIGQUIT: Mono thread dumps asked of worker(s)%s (on the standard output)",
              pids->len ? pids->str : " (none serving)");
    g_string_free(pids, TRUE);
}

static void on_signals(sup *s)
{
    struct signalfd_siginfo si;
    while (read(s->sigfd, &si, sizeof si) == sizeof si) {
        switch (si.ssi_signo) {
        case SIGCHLD:
            reap(s);
            break;
        case SIGHUP:
            if (s->announced && !s->stopping)
                notify_update(NOTIFY_RELOADING, "reloading: reading the configuration");
            start_reload(s); /* READY=1 again once it committed, failed or was refused */
            break;
        case SIGTERM:
        case SIGINT:
            begin_stop(s, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
            break;
        case SIGUSR1:
            reopen_logs(s);
            break;
        case SIGQUIT:
            dump_threads(s);
            break;
        }
    }
}

static void on_parent(sup *s)
{
    char sink[256];
    ssize_t r = read(s->parent_fd, sink, sizeof sink);
    if (r > 0 || (r < 0 && (errno == EAGAIN || errno == EINTR)))
        return;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->parent_fd, NULL);
    if (!s->stopping) {
        g_message("standard input closed: the parent process went away");
        begin_stop(s, "parent gone");
    }
}

/* Tells the service manager (notify.h) the state and how many workers serve;
 * called every turn of the loop, it sends only what changed. RELOADING is a
 * configuration reload (SIGHUP) in progress or waiting behind a replacement;
 * a replacement after an application change alone is no reload for the
 * service manager (READY, with the status text saying so). */
static void sync_service_manager(sup *s)
{
    int serving = 0, fresh_ready = 0;
    for (guint i = 0; i < s->procs->len; i++) {
        wproc *w = g_ptr_array_index(s->procs, i);
        if (s->new_cfg && w->gen == s->reload_gen && !w->retiring)
            fresh_ready += w->ready;
        else if (w->ready && !w->term_at && !w->killed)
            serving++;
    }
    gboolean reloading = (s->new_cfg && s->new_cfg != s->cfg) || s->reload_again;
    char *status;
    notify_state st;
    if (s->stopping) {
        st = NOTIFY_STOPPING;
        status = g_strdup_printf("stopping: %u worker(s) finishing their requests", s->procs->len);
    } else if (s->announced && (reloading || s->new_cfg)) {
        st = reloading ? NOTIFY_RELOADING : NOTIFY_READY;
        status = g_strdup_printf("%s: %d worker(s) serving, %d of %d new ready",
                                 s->new_cfg == s->cfg ? "replacing the workers (application changed)" : "reloading",
                                 serving, fresh_ready, s->new_cfg ? s->new_cfg->workers : 0);
    } else if (s->announced) {
        st = NOTIFY_READY;
        status = g_strdup_printf("%d of %d worker(s) serving", serving, s->cfg->workers);
    } else {
        st = NOTIFY_STARTING;
        status = g_strdup_printf("starting: %d of %d worker(s) ready", serving, s->cfg->workers);
    }
    notify_update(st, status);
    g_free(status);
}

/* ---- the status listener's routes (status_http.h): the page compiled in,
 * and the status model's bodies (status_model.h) ---- */

static char *render_page(void *ud, gsize *len)
{
    (void)ud;
    *len = status_page_html_len;
    return g_memdup2(status_page_html, status_page_html_len);
}

static char *render_json(void *ud, gsize *len)
{
    sup *s = ud;
    return status_model_json(s->model, now_us(), g_get_real_time(), len);
}

static char *render_metrics(void *ud, gsize *len)
{
    sup *s = ud;
    return status_model_metrics(s->model, now_us(), g_get_real_time(), len);
}

static void run(sup *s)
{
    while (s->procs->len > 0 || (!s->stopping && s->announced)) {
        maintain(s);
        check_app_changes(s);
        check_reload(s);
        watchdog(s);
        status_tick(s);
        sync_service_manager(s);
        notify_tick(now_us());
        logs_follow_config(s);
        if (s->stopping && now_us() > s->stop_deadline) {
            g_warning("%u worker(s) still running %d s after the stop began: killing them", s->procs->len,
                      s->cfg->shutdown_timeout + 5);
            signal_all(s, SIGKILL);
            s->stop_deadline = G_MAXINT64;
        }
        status_http_tick(s->status, now_us());
        struct epoll_event evs[16];
        int n = epoll_wait(s->epfd, evs, G_N_ELEMENTS(evs), notify_timeout_ms(now_us(), 100));
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag & STATUS_HTTP_TAG)
                status_http_event(s->status, tag, evs[i].events);
            else if (tag == TAG_SIGNAL)
                on_signals(s);
            else if (tag == TAG_PARENT)
                on_parent(s);
            else if (tag == TAG_WATCH)
                appwatch_read(s->watch, now_us());
            else
                on_control(s, (pid_t)tag);
        }
    }
}

/* Where make install puts the worker (with ScgiMono.dll beside it): LIBDIR,
 * $(PREFIX)/lib/scgi-mono, and LIBDIR_REL, the same directory relative to
 * the directory the server is installed in ($(PREFIX)/sbin), so that a tree
 * installed under DESTDIR or moved whole also runs. The Makefile defines both. */
#ifndef SCGI_MONO_LIBDIR
#define SCGI_MONO_LIBDIR "/usr/local/lib/scgi-mono"
#endif
#ifndef SCGI_MONO_LIBDIR_REL
#define SCGI_MONO_LIBDIR_REL "../lib/scgi-mono"
#endif

/* The worker executable: next to this one (the build tree: build/ holds both,
 * and a build then never runs an older installed worker), else in
 * LIBDIR_REL from this one's directory, else in LIBDIR. */
static char *worker_exe_path(void)
{
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");
    char *tries[] = {
        g_build_filename(dir, "scgi-mono-worker", NULL),
        g_build_filename(dir, SCGI_MONO_LIBDIR_REL, "scgi-mono-worker", NULL),
        g_build_filename(SCGI_MONO_LIBDIR, "scgi-mono-worker", NULL),
    };
    char *p = NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(tries); i++) {
        if (!p && g_file_test(tries[i], G_FILE_TEST_IS_EXECUTABLE))
            p = g_steal_pointer(&tries[i]);
        g_free(tries[i]);
    }
    /* none: the spawn fails and says which path it tried */
    if (!p)
        p = g_build_filename(SCGI_MONO_LIBDIR, "scgi-mono-worker", NULL);
    g_free(exe);
    g_free(dir);
    return p;
}

/* -t/--test: the configuration and the applications are checked (config_load,
 * confcheck_config), one line per problem and a verdict on standard error;
 * nothing is bound and no worker starts. Exit status 0 valid, 2 not. */
static int test_config(int argc, char **argv, char *file)
{
    char *what = file ? g_strdup_printf("the configuration %s", file)
                      : g_strdup("the configuration (command line, no --config file)");
    GError *error = NULL;
    gboolean exit_now = FALSE;
    GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
    config *c = config_load(argc, argv, &exit_now, &error);
    if (!c && !exit_now)
        g_ptr_array_add(problems, g_strdup(error ? error->message : "not loaded"));
    g_clear_error(&error);
    if (c)
        confcheck_config(c, problems);
    for (guint i = 0; i < problems->len; i++)
        fprintf(stderr, "scgi-mono-server: %s\n", (char *)g_ptr_array_index(problems, i));
    int rc = problems->len ? 2 : 0;
    fprintf(stderr, "scgi-mono-server: %s is %s\n", what, rc ? "not valid" : "valid");
    config_free(c);
    g_ptr_array_unref(problems);
    g_free(what);
    g_free(file);
    return rc;
}

int supervisor_main(int argc, char **argv)
{
    log_init();
    char *tag = g_strdup_printf("supervisor %d", (int)getpid());
    log_set_tag(tag);
    g_free(tag);
    /* Signals are read from a signalfd; the children get an empty mask back. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGQUIT);
    /* a parent may have left these ignored (a shell's background job
     * ignores SIGQUIT): an ignored signal never reaches the signalfd */
    signal(SIGUSR1, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    sup s0 = {.parent_fd = -1, .epfd = -1, .sigfd = -1}, *s = &s0;
    s->self = getpid();
    s->argc = argc;
    s->argv = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++)
        s->argv[i] = argv[i];
    GError *error = NULL;
    gboolean exit_now = FALSE;
    char *test_file = NULL;
    if (config_test_requested(argc, argv, &test_file))
        return test_config(argc, argv, test_file);
    s->cfg = config_load(argc, argv, &exit_now, &error);
    if (exit_now)
        return 0;
    if (!s->cfg) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    /* SCGI autolaunch: applications must not inherit the marker, and the
     * server must not outlive its parent. */
    gboolean autolaunched = g_strcmp0(g_getenv("SCGI"), "1") == 0;
    g_unsetenv("SCGI");
    s->privs = privs_resolve(s->cfg, &error);
    if (!s->privs) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    for (guint i = 0; s->privs->drop && i < s->cfg->apps->len; i++) {
        /* a worker could not even start its application: say why here */
        const app_spec *a = g_ptr_array_index(s->cfg->apps, i);
        int e = privs_can_read_dir(s->privs, a->path);
        if (e) {
            fprintf(stderr, "scgi-mono-server: app:%s: directory %s: not readable and searchable by user %s (the "
                    "workers run as user %s; every directory above it must be searchable too): %s\n", a->name,
                    a->path, s->privs->user, s->privs->user, g_strerror(e));
            return 2;
        }
    }
    s->listeners = listener_open_all(s->cfg, &error);
    if (!s->listeners) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }
    chown_sockets(s, s->privs);
    if (!prepare_log_files(s->privs, s->cfg, "cannot start: "))
        return 1;
    if (autolaunched) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1) {
            fprintf(stderr, "scgi-mono-server: started with SCGI=1 but the parent is already gone\n");
            return 1;
        }
        if (!listener_is_listening(0))
            s->parent_fd = 0; /* standard input from the parent: its EOF means the parent is gone */
    }
    log_set_level((log_level)s->cfg->log_level);
    if (s->cfg->error_log) {
        /* a file becomes standard error here and, by inheritance, in the
         * workers; with syslog, standard error stays as it is (Mono's and
         * the applications' writes to it, crash reports, go there) */
        g_message("logging to %s (error_log)", s->cfg->error_log);
        if (!log_set_target(s->cfg->error_log, &error)) {
            fprintf(stderr, "scgi-mono-server: %s\n", error->message);
            return 1;
        }
    }
    notify_init();
    model_set_server(s);
    s->next_sample = now_us() + G_USEC_PER_SEC;
    s->worker_exe = worker_exe_path();
    s->procs = g_ptr_array_new();
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->epfd < 0 || s->sigfd < 0) {
        fprintf(stderr, "scgi-mono-server: epoll/signalfd: %s\n", g_strerror(errno));
        return 1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_SIGNAL};
    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev);
    if (s->parent_fd >= 0) {
        ev.data.u64 = TAG_PARENT;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->parent_fd, &ev) < 0)
            g_warning("cannot watch file descriptor %d for the parent going away: %s", s->parent_fd,
                      g_strerror(errno));
    }
    for (guint i = 0; i < s->listeners->len; i++) {
        listener *l = g_ptr_array_index(s->listeners, i);
        g_message("listening on %s (%s)", l->desc, listen_protocols_name(l->protocols));
    }
    if (s->cfg->status_listen) {
        const status_route routes[] = {
            {"/status", "text/html; charset=utf-8", render_page, s},
            {"/status.json", "application/json", render_json, s},
            {"/metrics", "text/plain; version=0.0.4; charset=utf-8", render_metrics, s},
        };
        s->status = status_http_open(s->cfg->status_listen, s->cfg->socket_mode, routes, G_N_ELEMENTS(routes),
                                     s->epfd, &error);
        if (!s->status) {
            fprintf(stderr, "scgi-mono-server: status_listen: %s\n", error->message);
            return 1;
        }
        g_message("status page on %s (/status, /status.json, /metrics)", status_http_desc(s->status));
    }
    for (int i = 0; i < s->cfg->workers; i++)
        if (!spawn(s, s->gen)) {
            s->exit_code = 1;
            begin_stop(s, "start failed");
            break;
        }
    watch_start(s);
    run(s);
    appwatch_free(s->watch);
    status_http_free(s->status); /* removes its UNIX socket file */
    sync_service_manager(s);
    g_ptr_array_free(s->listeners, TRUE); /* removes the UNIX socket files */
    status_model_free(s->model);
    g_message(s->exit_code ? "stopped (exit status %d)" : "stopped", s->exit_code);
    return s->exit_code;
}
