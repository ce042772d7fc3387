/* monohost: see monohost.h. */
#include "monohost.h"

#include <string.h>

#include <mono/jit/jit.h>
#include <mono/metadata/appdomain.h>
#include <mono/metadata/assembly.h>
#include <mono/metadata/class.h>
#include <mono/metadata/debug-helpers.h>
#include <mono/metadata/mono-config.h>
#include <mono/metadata/mono-debug.h>
#include <mono/metadata/profiler.h>
#include <mono/metadata/object.h>
#include <mono/metadata/threads.h>

#include "body.h"
#include "log.h" /* g_debug of a failed request: not even formatted unless debug */
#include "reqflags.h"
#include "response.h"

/* One AppDomain of an application. A request holds it (inflight) while inside. */
typedef struct gen {
    mh_app *app;
    MonoDomain *domain;   /* set by DomainReady, from inside the domain */
    int apache_status;    /* from web.config: 1, 0, or -1 for the server default */
    int inflight;
    gboolean dead;        /* ASP.NET is unloading it: no new requests */
    gboolean gone;        /* its DomainUnload handler has finished (DomainGone) */
} gen;

struct mh_app {
    const app_spec *spec;
    gboolean default_apache_status;
    GMutex lock;
    GCond cond;
    gen *current;
    gboolean creating;
    gint64 failed_at;     /* monotonic time of the last failed start, 0 if none */
    /* Domains dead but not yet gone. ApplicationHost clears the application's
     * compilation directory (shared by all its domains) when it creates one,
     * under the requests the old domain still runs (they fail to compile), so
     * a fresh domain is made only once the old ones are gone, or at
     * unload_deadline (monotonic) if one never reports. */
    int unloading;
    gint64 unload_deadline;
};

/* How long requests wait for an unloading domain to go before a fresh one is
 * made anyway. */
#define UNLOAD_WAIT_USEC (10 * G_USEC_PER_SEC)

/* Marks g dead (app->lock held). TRUE the first time. */
static gboolean mark_dead(gen *g)
{
    mh_app *app = g->app;
    if (app->current == g)
        app->current = NULL;
    if (g->dead)
        return FALSE;
    g->dead = TRUE;
    if (!g->gone && app->unloading++ == 0)
        app->unload_deadline = g_get_monotonic_time() + UNLOAD_WAIT_USEC;
    return TRUE;
}

static char *dll_path;
static void (*supervised_on_unload)(const char *app_name); /* NULL: not under the supervisor */
static MonoImage *image;
static MonoMethod *create_method;   /* ScgiMono.Bootstrap:CreateApp, root domain */
static MonoMethod *ping_method;     /* System.Environment:get_TickCount, root domain */
static MonoMethod *process_method;  /* ScgiMono.Entry:Process, application domains */

/* ---- internal calls (managed ScgiMono.Native) ---- */

/* The application's headers as given: count pairs, lens[2i] and lens[2i+1]
 * the byte lengths of name i and value i, laid end to end in block. */
static void icall_send_headers(request *rq, gint32 status, const char *reason, gint32 reason_len,
                               const char *block, gint32 block_len, const gint32 *lens, gint32 count)
{
    rh_header *h = g_new(rh_header, MAX(count, 1));
    gsize n = 0, at = 0;
    for (gint32 i = 0; i < count; i++) {
        gsize nl = (gsize)MAX(lens[2 * i], 0), vl = (gsize)MAX(lens[2 * i + 1], 0);
        if (at + nl + vl > (gsize)MAX(block_len, 0))
            break; /* cannot happen with ScgiMono.NativeSink; never read past block */
        h[n++] = (rh_header){block + at, nl, block + at + nl, vl};
        at += nl + vl;
    }
    resp_start(rq, status, reason, (gsize)MAX(reason_len, 0), h, n);
    g_free(h);
}

static void icall_send_body(request *rq, const char *data, gint32 len)
{
    if (len > 0)
        resp_body(rq, data, (gsize)len);
}

static void icall_flush(request *rq, gint32 final) { resp_flush(rq, final != 0); }

static gint32 icall_send_file(request *rq, gintptr fd, gint64 offset, gint64 length)
{
    return resp_file(rq, (int)fd, offset, length);
}

/* The next body bytes, as the application reads them: a count, 0 at the end,
 * -1 when the body cannot be read whole (the application must not take a
 * short body for a complete one). */
static gint32 icall_read_body(request *rq, char *dst, gint32 len)
{
    return len <= 0 ? 0 : (gint32)body_read(rq, dst, (gsize)len);
}

static gint32 icall_is_connected(request *rq) { return !rq->r.client_gone; }

static void icall_close_connection(request *rq) { rq->r.close_after = TRUE; }

static void icall_domain_ready(gen *g, gint32 apache_status)
{
    g->domain = mono_domain_get();
    g->apache_status = apache_status;
}

static gint32 icall_in_flight(gen *g)
{
    g_mutex_lock(&g->app->lock);
    int n = g->inflight;
    g_mutex_unlock(&g->app->lock);
    return n;
}

static void icall_domain_unloading(gen *g)
{
    mh_app *app = g->app;
    g_mutex_lock(&app->lock);
    mark_dead(g);
    g_mutex_unlock(&app->lock);
    g_message("application %s: AppDomain unloading (web.config, bin/ or recycle); "
              "the next request starts a fresh one", app->spec->name);
    if (supervised_on_unload)
        supervised_on_unload(app->spec->name);
}

/* The managed side waited for the domain's requests; forget it if none is left. */
static void icall_domain_gone(gen *g)
{
    mh_app *app = g->app;
    g_mutex_lock(&app->lock);
    mark_dead(g);
    g->gone = TRUE;
    app->unloading--;
    g_cond_broadcast(&app->cond);
    gboolean idle = g->inflight == 0;
    g_mutex_unlock(&app->lock);
    if (idle)
        g_free(g);
}

static void icall_unload_started(gen *g)
{
    if (supervised_on_unload)
        supervised_on_unload(g->app->spec->name);
}

/* A line of the managed host (ScgiMono.ServerLog) into this process's log: its
 * time, [worker PID] and level, the error_log target, log_level (level: 1 warn,
 * 2 notice, 3 info, 4 debug). The text is copied; log escapes it. */
static void icall_log(gint32 level, const char *text, gint32 len)
{
    GLogLevelFlags lv = level <= 1 ? G_LOG_LEVEL_WARNING : level == 2 ? G_LOG_LEVEL_MESSAGE
                      : level == 3 ? G_LOG_LEVEL_INFO : G_LOG_LEVEL_DEBUG;
    if (len < 0 || !log_enabled(lv))
        return;
    g_log(G_LOG_DOMAIN, lv, "%.*s", (int)len, text);
}

static void register_icalls(void)
{
    mono_add_internal_call("ScgiMono.Native::Log", icall_log);
    mono_add_internal_call("ScgiMono.Native::UnloadStarted", icall_unload_started);
    mono_add_internal_call("ScgiMono.Native::SendHeaders", icall_send_headers);
    mono_add_internal_call("ScgiMono.Native::SendBody", icall_send_body);
    mono_add_internal_call("ScgiMono.Native::Flush", icall_flush);
    mono_add_internal_call("ScgiMono.Native::SendFile", icall_send_file);
    mono_add_internal_call("ScgiMono.Native::ReadBody", icall_read_body);
    mono_add_internal_call("ScgiMono.Native::IsConnected", icall_is_connected);
    mono_add_internal_call("ScgiMono.Native::CloseConnection", icall_close_connection);
    mono_add_internal_call("ScgiMono.Native::DomainReady", icall_domain_ready);
    mono_add_internal_call("ScgiMono.Native::InFlight", icall_in_flight);
    mono_add_internal_call("ScgiMono.Native::DomainUnloading", icall_domain_unloading);
    mono_add_internal_call("ScgiMono.Native::DomainGone", icall_domain_gone);
}

/* Makes "ScgiMono" resolvable by name in every AppDomain (ApplicationHost loads
 * the host type's assembly by name inside the new domain). */
static MonoAssembly *preload_hook(MonoAssemblyName *aname, char **paths, void *ud)
{
    (void)paths;
    (void)ud;
    if (strcmp(mono_assembly_name_get_name(aname), "ScgiMono") != 0)
        return NULL;
    MonoImageOpenStatus st;
    return mono_assembly_open(dll_path, &st);
}

static MonoMethod *find_method(const char *klass, const char *name, int nargs, GError **error)
{
    MonoClass *k = mono_class_from_name(image, "ScgiMono", klass);
    MonoMethod *m = k ? mono_class_get_method_from_name(k, name, nargs) : NULL;
    if (!m)
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: ScgiMono.%s:%s not found",
                    dll_path, klass, name);
    return m;
}

/* mono(1) reads MONO_ENV_OPTIONS itself; an embedded runtime does not. The
 * options an operator needs from it: --debug (line numbers in stack traces),
 * --profile=... (a Mono profiler), and whatever mono_jit_parse_options takes. */
static void apply_env_options(void)
{
    const char *opts = g_getenv("MONO_ENV_OPTIONS");
    char **argv = NULL;
    int argc = 0;
    if (!opts || !*opts || !g_shell_parse_argv(opts, &argc, &argv, NULL))
        return;
    GPtrArray *rest = g_ptr_array_new();
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--debug") == 0)
            mono_debug_init(MONO_DEBUG_FORMAT_MONO);
        else if (g_str_has_prefix(argv[i], "--profile="))
            mono_profiler_load(argv[i] + strlen("--profile="));
        else
            g_ptr_array_add(rest, argv[i]);
    }
    if (rest->len)
        mono_jit_parse_options((int)rest->len, (char **)rest->pdata);
    g_ptr_array_free(rest, TRUE);
    g_strfreev(argv);
}

gboolean monohost_init(const char *managed_dll, GError **error)
{
    dll_path = g_strdup(managed_dll);
    /* Debian's Mono 6.8 defaults to hybrid suspend, under which a thread Mono
     * knows that blocks in native code (our loop in epoll_wait, workers waiting
     * for requests or writing to a slow client) stalls every garbage collection
     * until it returns. Preemptive suspend stops such threads with a signal
     * instead, so blocking in C is safe anywhere. */
    g_setenv("MONO_THREADS_SUSPEND", "preemptive", TRUE);
    /* Mono 6.8's FileSystemWatcher takes one inotify instance per watcher, and
     * ASP.NET makes a couple of dozen per application (web.config, bin/,
     * App_Code/, every compiled file...): the default per-user limit of 128
     * instances is gone with a few applications or processes, after which
     * ASP.NET answers every new page with 500. Mono's managed watcher polls
     * instead (one thread, well under 1% CPU idle) and has no such limit. An
     * operator's own MONO_MANAGED_WATCHER wins. */
    if (!g_getenv("MONO_MANAGED_WATCHER"))
        g_setenv("MONO_MANAGED_WATCHER", "enabled", TRUE);
    /* On a native crash (Environment.FailFast, a segfault in native code)
     * Mono 6.8 prints its native stack trace and then, where gdb is
     * installed, forks gdb to attach to the dying process and print every
     * thread's stack, writing /tmp/mono-gdb-commands.PID (left behind). The
     * worker is held stopped meanwhile, with its connections, for seconds
     * (measured: 3.7 s from a FailFast to a new worker serving, 0.7 s for an
     * exit by an exception), and a server must not depend on whether gdb is
     * installed. An operator's own MONO_DEBUG wins (gdb backtraces come back
     * with any MONO_DEBUG that does not name no-gdb-backtrace). */
    if (!g_getenv("MONO_DEBUG"))
        g_setenv("MONO_DEBUG", "no-gdb-backtrace", TRUE);
    apply_env_options();
    mono_config_parse(NULL);
    mono_install_assembly_preload_hook(preload_hook, NULL);
    MonoDomain *root = mono_jit_init_version("scgi-mono", "v4.0.30319");
    if (!root) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the Mono runtime did not start");
        return FALSE;
    }
    register_icalls();
    MonoAssembly *a = mono_domain_assembly_open(root, dll_path);
    if (!a) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "cannot load %s", dll_path);
        return FALSE;
    }
    image = mono_assembly_get_image(a);
    create_method = find_method("Bootstrap", "CreateApp", 6, error);
    if (!create_method)
        return FALSE;
    process_method = find_method("Entry", "Process", 8, error);
    MonoClass *env = mono_class_from_name(mono_get_corlib(), "System", "Environment");
    ping_method = env ? mono_class_get_method_from_name(env, "get_TickCount", 0) : NULL;
    if (!ping_method)
        g_warning("System.Environment:get_TickCount not found: the runtime heartbeat only shows the thread runs");
    return process_method != NULL;
}

mh_app *monohost_app_new(const app_spec *spec, gboolean default_apache_status)
{
    mh_app *app = g_new0(mh_app, 1);
    app->spec = spec;
    app->default_apache_status = default_apache_status;
    g_mutex_init(&app->lock);
    g_cond_init(&app->cond);
    return app;
}

const app_spec *monohost_app_spec(const mh_app *app) { return app->spec; }

void monohost_set_supervised(void (*on_unload)(const char *app_name)) { supervised_on_unload = on_unload; }

/* Text of a managed exception (caller g_free's). Call inside the exception's domain. */
static char *exception_text(MonoObject *exc)
{
    MonoObject *inner = NULL;
    MonoString *s = mono_object_to_string(exc, &inner);
    if (!s || inner)
        return g_strdup("(exception text unavailable)");
    char *u = mono_string_to_utf8(s);
    char *r = g_strdup(u);
    mono_free(u);
    return r;
}

/* "Namespace.Type: Message" of a managed exception, without its stack (caller
 * g_free's). Call inside the exception's domain. */
static char *exception_summary(MonoObject *exc)
{
    MonoClass *k = mono_object_get_class(exc);
    MonoClass *base = k;
    MonoProperty *prop = NULL;
    while (base && !(prop = mono_class_get_property_from_name(base, "Message")))
        base = mono_class_get_parent(base);
    char *message = NULL;
    if (prop) {
        MonoObject *inner = NULL;
        MonoObject *v = mono_property_get_value(prop, exc, NULL, &inner);
        if (v && !inner) {
            char *u = mono_string_to_utf8((MonoString *)v);
            message = g_strdup(u);
            mono_free(u);
        }
    }
    const char *ns = mono_class_get_namespace(k);
    char *r = g_strdup_printf("%s%s%s: %s", ns && *ns ? ns : "", ns && *ns ? "." : "", mono_class_get_name(k),
                              message ? message : "(no message)");
    g_free(message);
    return r;
}

/* Runs ApplicationHost in the root domain to make a new AppDomain for app. */
static gen *create_gen(mh_app *app, GError **error)
{
    gen *g = g_new0(gen, 1);
    g->app = app;
    g->apache_status = -1;
    MonoDomain *root = mono_get_root_domain();
    mono_domain_set(root, FALSE);
    MonoString *vpath = mono_string_new(root, app->spec->vpath);
    MonoString *path = mono_string_new(root, app->spec->path);
    gint32 sendfile = (gint32)app->spec->sendfile;
    MonoString *prefix = mono_string_new(root, app->spec->x_accel_prefix ? app->spec->x_accel_prefix : "");
    gint32 supervised = supervised_on_unload != NULL;
    void *args[6] = {vpath, path, &g, &sendfile, prefix, &supervised};
    MonoObject *exc = NULL;
    mono_runtime_invoke(create_method, NULL, args, &exc);
    if (exc || !g->domain) {
        char *text = exc ? exception_text(exc) : g_strdup("no domain reported");
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "application %s (%s): %s",
                    app->spec->name, app->spec->path, text);
        g_free(text);
        g_free(g);
        return NULL;
    }
    g_message("application %s: AppDomain ready for %s at %s", app->spec->name, app->spec->path,
              app->spec->vpath);
    return g;
}

/* Returns the app's live domain with a reference held, creating it if needed. */
static gen *acquire(mh_app *app, GError **error)
{
    g_mutex_lock(&app->lock);
    while (app->creating ||
           (!app->current && app->unloading > 0 && g_get_monotonic_time() < app->unload_deadline)) {
        if (app->creating)
            g_cond_wait(&app->cond, &app->lock);
        else
            g_cond_wait_until(&app->cond, &app->lock, app->unload_deadline);
    }
    if (!app->current) {
        if (app->failed_at && g_get_monotonic_time() - app->failed_at < 2 * G_USEC_PER_SEC) {
            g_mutex_unlock(&app->lock);
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "application %s failed to start recently",
                        app->spec->name);
            return NULL;
        }
        app->creating = TRUE;
        g_mutex_unlock(&app->lock);
        gen *g = create_gen(app, error);
        g_mutex_lock(&app->lock);
        app->creating = FALSE;
        app->current = g;
        app->failed_at = g ? 0 : g_get_monotonic_time();
        g_cond_broadcast(&app->cond);
    }
    gen *g = app->current;
    if (g)
        g->inflight++;
    g_mutex_unlock(&app->lock);
    return g;
}

static void release(gen *g)
{
    g_mutex_lock(&g->app->lock);
    g->inflight--;
    g_mutex_unlock(&g->app->lock);
}

gboolean monohost_app_start(mh_app *app, GError **error)
{
    gen *g = acquire(app, error);
    if (!g)
        return FALSE;
    release(g);
    return TRUE;
}

void monohost_ping(void)
{
    MonoObject *exc = NULL;
    if (ping_method)
        mono_runtime_invoke(ping_method, NULL, NULL, &exc);
}

void monohost_thread_attach(void) { mono_thread_attach(mono_get_root_domain()); }

void monohost_thread_detach(void)
{
    MonoThread *t = mono_thread_current();
    if (t)
        mono_thread_detach(t);
}

/* route's decision as "NAME\0value\0" pairs, in the format of the CGI block:
 * the managed side takes these values as they are and derives none itself.
 * No value holds a NUL (each comes from a CGI variable or from urlpath). */
static void route_block(const route_req *r, GString *out)
{
    const struct { const char *name; const GString *value; } vals[] = {
        { "RAW_URL", r->raw_url }, { "PATH", r->path }, { "QUERY_STRING", r->query },
        { "SERVER_NAME", r->server_name },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(vals); i++) {
        g_string_append_len(out, vals[i].name, (gssize)strlen(vals[i].name) + 1);
        g_string_append_len(out, vals[i].value->str, (gssize)vals[i].value->len + 1);
    }
}

/* What one crossing into an AppDomain came to. */
typedef enum {
    INVOKE_DONE,     /* answered (or failed with an answer, a 500, or a cut connection) */
    INVOKE_RETRY,    /* not run, nothing sent: the domain is gone or unloading */
} invoke_result;

/* True when the exception is the domain's unload reaching the request's
 * thread (Mono aborts the threads inside a domain it unloads). */
static gboolean unload_exception(gen *g, MonoObject *exc)
{
    MonoClass *k = mono_object_get_class(exc);
    const char *name = mono_class_get_name(k), *ns = mono_class_get_namespace(k);
    if (strcmp(ns, "System") == 0 && strcmp(name, "AppDomainUnloadedException") == 0)
        return TRUE;
    g_mutex_lock(&g->app->lock);
    gboolean dead = g->dead;
    g_mutex_unlock(&g->app->lock);
    return dead && strcmp(ns, "System.Threading") == 0 && strcmp(name, "ThreadAbortException") == 0;
}

/* Nothing of the request went out or was consumed: it may be run again. */
static gboolean retryable(const request *rq) { return !rq->r.started && !rq->r.finished && rq->body_taken == 0; }

/* One crossing: the whole request goes to ScgiMono.Entry.Process in the app's domain. */
static invoke_result invoke(gen *g, request *rq, const GString *routed)
{
    if (!mono_domain_set(g->domain, FALSE))
        return INVOKE_RETRY;
    /* A body in memory is read by the managed side straight from it; any other
     * (spooled to a temporary file) through the ReadBody internal call. */
    gboolean in_memory = rq->body_mode == BODY_MEMORY;
    gpointer vars = (gpointer)rq->vars, body = in_memory ? (gpointer)rq->body : NULL;
    gpointer route = routed->str;
    gint32 vars_len = (gint32)rq->vars_len, body_len = (gint32)rq->body_total, route_len = (gint32)routed->len;
    gint32 flags = (rq->proto == PROTO_HTTP ? REQ_FLAG_PLAIN_HTTP : 0) | (in_memory ? 0 : REQ_FLAG_BODY_SPOOLED);
    void *args[8] = {&rq, &vars, &vars_len, &body, &body_len, &flags, &route, &route_len};
    MonoObject *exc = NULL;
    MonoObject *ret = mono_runtime_invoke(process_method, NULL, args, &exc);
    invoke_result result = INVOKE_DONE;
    if (exc && retryable(rq) && unload_exception(g, exc)) {
        result = INVOKE_RETRY;
    } else if (exc) {
        /* one line per failed request (type and message); the stack at debug level */
        char *summary = exception_summary(exc);
        const char *uri = request_var(rq, "REQUEST_URI", NULL), *method = request_var(rq, "REQUEST_METHOD", NULL);
        g_warning("%s: application %s failed on %s %s: %s", rq->peer, g->app->spec->name,
                  method ? method : "-", uri ? uri : "-", summary);
        g_free(summary);
        if (g_getenv("SCGI_MONO_DEBUG")) {
            char *text = exception_text(exc);
            g_debug("%s: application %s: %s", rq->peer, g->app->spec->name, text);
            g_free(text);
        }
        if (!rq->r.started)
            resp_simple(rq, 500, "Internal Server Error");
        else
            rq->r.close_after = TRUE;
    } else if (ret && *(gint32 *)mono_object_unbox(ret) == REQ_RESULT_DOMAIN_UNLOADING) {
        if (retryable(rq)) {
            result = INVOKE_RETRY;
        } else { /* cannot happen (the managed side sends nothing first); never send twice */
            g_warning("%s: application %s: a request left by an unloading AppDomain had begun its response",
                      rq->peer, g->app->spec->name);
            rq->r.close_after = TRUE;
        }
    }
    mono_domain_set(mono_get_root_domain(), FALSE);
    return result;
}

/* The request found g unloading: no new request goes to it (the next acquire
 * creates a fresh domain), then the reference is dropped. Logged once per
 * domain. Must be called instead of release (g may be freed once released). */
static void retire_and_release(gen *g)
{
    mh_app *app = g->app;
    g_mutex_lock(&app->lock);
    gboolean first = mark_dead(g);
    g->inflight--;
    g_mutex_unlock(&app->lock);
    if (first)
        g_message("application %s: AppDomain unloading, requests that reached it go to a fresh one",
                  app->spec->name);
}

/* Tries of a request whose AppDomain was unloading under it (each time in a
 * fresh domain): beyond this it is answered 503. */
#define MAX_TRIES 3

void monohost_process(mh_app *app, request *rq, const route_req *r)
{
    GError *error = NULL;
    GString *routed = g_string_sized_new(r->raw_url->len * 2 + r->query->len + 64);
    route_block(r, routed);
    invoke_result res = INVOKE_RETRY;
    for (int attempt = 0; attempt < MAX_TRIES && res == INVOKE_RETRY; attempt++) {
        gen *g = acquire(app, &error);
        if (!g) {
            g_warning("%s: %s", rq->peer, error->message);
            g_clear_error(&error);
            resp_simple(rq, 503, "Service Unavailable: the application could not be started");
            g_string_free(routed, TRUE);
            return;
        }
        rq->r.apache_status = g->apache_status >= 0 ? g->apache_status : app->default_apache_status;
        res = invoke(g, rq, routed);
        if (res == INVOKE_RETRY)
            retire_and_release(g);
        else
            release(g);
    }
    g_string_free(routed, TRUE);
    if (res == INVOKE_RETRY) {
        const char *uri = request_var(rq, "REQUEST_URI", NULL);
        g_warning("%s: application %s: %s reached %d AppDomains that were unloading; answered 503", rq->peer,
                  app->spec->name, uri ? uri : "-", MAX_TRIES);
        resp_simple(rq, 503, "Service Unavailable: the application is restarting");
        return;
    }
    if (!rq->r.finished)
        resp_flush(rq, TRUE);
}
