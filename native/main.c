/* scgi-mono-server: configuration, sockets, Mono, workers, event loop.
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT), 2 for a bad command line
 * or configuration (before anything listens), 1 for any other failure to start.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "body.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "monohost.h"
#include "pool.h"
#include "response.h"

typedef struct {
    config *cfg;
    GPtrArray *apps;   /* of mh_app* */
    pool *workers;
} server_ctx;

/* Does the URL path start with the application's mount, at a segment boundary? */
static gboolean mount_matches(const char *vpath, const char *path, gsize path_len)
{
    gsize n = strlen(vpath);
    if (n == 1)
        return TRUE; /* "/" */
    if (path_len < n || memcmp(path, vpath, n) != 0)
        return FALSE;
    return path_len == n || path[n] == '/' || path[n] == '?';
}

/* Host name the request was addressed to, lower case, without port. */
static char *request_host(const conn *c)
{
    const char *h = conn_var(c, "HTTP_HOST", NULL);
    if (!h || !*h)
        h = conn_var(c, "SERVER_NAME", NULL);
    if (!h)
        return NULL;
    const char *end = h[0] == '[' ? strchr(h, ']') : strrchr(h, ':');
    gsize len = !end ? strlen(h) : (gsize)(h[0] == '[' ? end - h + 1 : end - h);
    return g_ascii_strdown(h, (gssize)len);
}

/* Picks the application for a request: a matching vhost beats any-host; then the
 * longest mount. NULL when none matches. */
static mh_app *route(server_ctx *ctx, const conn *c)
{
    gsize len = 0;
    const char *uri = conn_var(c, "REQUEST_URI", &len);
    char *rebuilt = NULL;
    if (!uri) {
        const char *sn = conn_var(c, "SCRIPT_NAME", NULL), *pi = conn_var(c, "PATH_INFO", NULL);
        uri = rebuilt = g_strconcat(sn ? sn : "", pi ? pi : "", NULL);
        len = strlen(uri);
    }
    char *host = request_host(c);
    mh_app *best = NULL;
    int best_score = -1;
    for (guint i = 0; i < ctx->apps->len; i++) {
        mh_app *app = g_ptr_array_index(ctx->apps, i);
        const app_spec *s = monohost_app_spec(app);
        if (s->vhost && (!host || strcmp(s->vhost, host) != 0))
            continue;
        if (!mount_matches(s->vpath, uri, len))
            continue;
        int score = (int)strlen(s->vpath) * 2 + (s->vhost ? 1 : 0);
        if (score > best_score) {
            best = app;
            best_score = score;
        }
    }
    g_free(host);
    g_free(rebuilt);
    return best;
}

static void work(gpointer item, gpointer ud)
{
    conn *c = item;
    server_ctx *ctx = ud;
    mh_app *app = route(ctx, c);
    int status = 0;
    if (!app) {
        resp_simple(c, 404, "Not Found: no application is mounted at this URL");
    } else if (c->body_mode == BODY_SPOOL_PENDING && !body_spool(c, &status)) {
        c->r.close_after = TRUE;
        resp_simple(c, status, c->body_error);
    } else {
        monohost_process(app, c);
    }
    conn_done(c);
}

static void worker_init(gpointer ud)
{
    (void)ud;
    monohost_thread_attach();
}

static void worker_fini(gpointer ud)
{
    (void)ud;
    monohost_thread_detach();
}

static gboolean dispatch(conn *c, void *ud)
{
    server_ctx *ctx = ud;
    return pool_push(ctx->workers, c);
}

static int busy(void *ud)
{
    server_ctx *ctx = ud;
    return pool_busy(ctx->workers);
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

int main(int argc, char **argv)
{
    log_init();
    /* SIGTERM/SIGINT are read from a signalfd by the loop: block them before any
     * thread (Mono's included) exists so that every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
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

    GPtrArray *listeners = g_ptr_array_new_with_free_func((GDestroyNotify)listener_free);
    for (guint i = 0; i < ctx.cfg->listen->len; i++) {
        listener *l = listener_open(g_ptr_array_index(ctx.cfg->listen, i), ctx.cfg->socket_mode, 1024, &error);
        if (!l) {
            fprintf(stderr, "scgi-mono-server: %s\n", error->message);
            return 1;
        }
        g_ptr_array_add(listeners, l);
    }

    char *dll = managed_dll_path();
    if (!monohost_init(dll, &error)) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }
    g_free(dll);

    ctx.apps = g_ptr_array_new();
    for (guint i = 0; i < ctx.cfg->apps->len; i++) {
        mh_app *app = monohost_app_new(g_ptr_array_index(ctx.cfg->apps, i), ctx.cfg->apache_status);
        g_ptr_array_add(ctx.apps, app);
        if (!monohost_app_start(app, &error)) {
            g_warning("%s (will retry on the next request)", error->message);
            g_clear_error(&error);
        }
    }

    pool_opts po = {.threads = ctx.cfg->threads, .queue = ctx.cfg->queue, .work = work,
                    .thread_init = worker_init, .thread_fini = worker_fini, .ud = &ctx};
    ctx.workers = pool_new(&po);

    server_opts so = {.cfg = ctx.cfg, .listeners = listeners, .dispatch = dispatch, .busy = busy, .ud = &ctx};
    server *srv = server_new(&so, &error);
    if (!srv) {
        fprintf(stderr, "scgi-mono-server: %s\n", error->message);
        return 1;
    }
    for (guint i = 0; i < listeners->len; i++)
        g_message("listening on %s (SCGI and HTTP)", ((listener *)g_ptr_array_index(listeners, i))->desc);
    g_message("scgi-mono-server %s ready: %d worker threads, %u application(s)", SCGI_MONO_VERSION,
              ctx.cfg->threads, ctx.apps->len);

    server_run(srv);
    server_free(srv);
    g_ptr_array_free(listeners, TRUE);
    g_message("stopped");
    /* Mono's own shutdown can wait on ASP.NET's threads: the work is done, so
     * leave without it. */
    fflush(NULL);
    _exit(0);
}
