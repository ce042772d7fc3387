/* monohost: the embedded Mono runtime and one ASP.NET AppDomain per application.
 *
 * Mono rules kept here (see DESIGN.md): the runtime starts once, on the main
 * thread; every worker thread is attached before it touches Mono and detached
 * before it exits; no MonoObject* is kept in C memory; every invoke passes an
 * exception out-parameter; mono_domain_set is checked, because ASP.NET unloads an
 * application's AppDomain when its web.config or bin/ changes.
 *
 * Domains: an application's AppDomain is created through
 * System.Web.Hosting.ApplicationHost on first use (or by monohost_app_start).
 * When ASP.NET unloads it, the managed side reports it (DomainUnloading), waits
 * until no request is inside it, and the next request creates a fresh domain;
 * a request that meets the unload first retires the domain itself (see
 * monohost_process).
 * ScgiMono.dll is made resolvable in every domain by an assembly preload hook:
 * nothing is copied into the application and no GAC is touched.
 */
#ifndef MONOHOST_H
#define MONOHOST_H

#include <glib.h>
#include "config.h"
#include "request.h"
#include "route.h"

typedef struct mh_app mh_app;

/* Starts the runtime and loads ScgiMono.dll from managed_dll (absolute path). */
gboolean monohost_init(const char *managed_dll, GError **error);

/* Under the supervisor (call before the first monohost_app_start): ASP.NET's
 * own file watchers do not unload an application's AppDomain (the supervisor
 * watches the same files and replaces the worker process, see managed/Host.cs
 * LeaveRestartsToSupervisor), and a domain unloaded anyway (user code calling
 * HttpRuntime.UnloadAppDomain, app_offline.htm, too many recompilations) calls
 * on_unload with the application's name, on the thread that unloads it, once
 * per unload; the next request still gets a fresh domain meanwhile. Without
 * this call ASP.NET restarts applications in-process, as a lone worker does. */
void monohost_set_supervised(void (*on_unload)(const char *app_name));

/* spec is borrowed and must outlive the app. default_apache_status is the
 * server-wide status-line choice used unless web.config says otherwise. */
mh_app *monohost_app_new(const app_spec *spec, gboolean default_apache_status);
const app_spec *monohost_app_spec(const mh_app *app);
/* Creates the application's AppDomain now (else it is created on first request). */
gboolean monohost_app_start(mh_app *app, GError **error);

void monohost_thread_attach(void);
/* One call into managed code (a no-op method of the root domain), on an
 * attached thread: it returns only while the runtime runs managed code (it
 * blocks once Environment.Exit has suspended the runtime's threads, during a
 * garbage collection that never ends...). The worker's heartbeat. */
void monohost_ping(void);
void monohost_thread_detach(void);

/* Serves the request rq through the application (one call into its domain),
 * with route's decision (the raw URL, the normalised path, the query and the
 * server name), which the managed side uses as given. On return the response
 * is complete. Call on an attached thread.
 * A request that reaches a domain ASP.NET is unloading is not lost: the
 * managed side reports it was not run (REQ_RESULT_DOMAIN_UNLOADING, also for
 * a request it was already waiting on when the unload began), the domain is
 * retired and the request runs again in a fresh one, up to 3 tries in all,
 * then 503 with a log line. Only a request with nothing of its response sent
 * and nothing of its body read is run again. */
void monohost_process(mh_app *app, request *rq, const route_req *r);

#endif
