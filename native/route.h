/* route: which application a request is for, the path the server reasons
 * about, and whether the request may reach the application at all.
 *
 * The URL: REQUEST_URI; without it (IIS's isapi_scgi, SCGI only) the
 * HTTP_X_ORIGINAL_URL of IIS's URL Rewrite when it starts with '/', else
 * SCRIPT_NAME + PATH_INFO re-encoded (PATH_INFO alone when it already starts
 * with SCRIPT_NAME, as IIS may send it), plus "?" QUERY_STRING. Over plain HTTP
 * only the request line's target counts: a client's X-Original-URL header
 * never chooses the URL. The path is that URL's path made canonical by
 * urlpath_normalize (the only place that decodes a URL); the query is
 * QUERY_STRING when the front end sent one, else the URL's.
 *
 * Routing, on the normalised path: an application whose vhost matches the
 * server name (case-insensitive) beats one for any host; then the longest mount
 * (vpath) the path is under at a segment boundary (case-sensitive, like the
 * file system below it).
 *
 * Refusals, before any application runs: an HTTP_HOST that http_host_valid
 * refuses -> 400 (over plain HTTP http_req refused it already); a URL urlpath
 * refuses -> 400; a private path (route_is_private) -> 404; no application
 * -> 404.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <glib.h>
#include "config.h"
#include "request.h"

/* What route decided for one request. The strings are owned by it (freed by
 * route_req_clear) and valid for the whole request. */
typedef struct {
    int app;            /* index into specs, or -1 */
    int status;         /* 0: serve through app; else the status to answer (400, 404) */
    const char *why;    /* the text of that answer */
    GString *raw_url;   /* what the client sent: path and query (ASP.NET's RawUrl) */
    GString *path;      /* the normalised path (valid when status != 400) */
    GString *query;     /* the query string, without '?' (bytes as sent) */
    GString *server_name; /* HTTP_HOST without port, else SERVER_NAME, else SERVER_ADDR */
} route_req;

/* TRUE when a normalised path is private (urlpath_is_private) for any
 * application's mount or inner mount (config_nest_apps: where another
 * application's directory lies inside its own), whatever their virtual hosts,
 * as the server reads the path or as any application's SessionStateModule may
 * read it once it removed a cookieless session id (urlpath_session_views). */
gboolean route_is_private(const GPtrArray *specs, const char *path);

/* Fills r (uninitialised memory is fine) for the request rq. */
void route_resolve(const GPtrArray *specs, const request *rq, route_req *r);
void route_req_clear(route_req *r);

/* Index into specs (of app_spec*) of the application for rq, or -1 (also for
 * a refused URL). */
int route_pick(const GPtrArray *specs, const request *rq);

/* The worker's part before the application: answers refusals itself, else
 * calls run() with the application's index and the decision. It does not call
 * conn_done: the caller does, after it. */
typedef void (*route_run_fn)(int app, request *rq, const route_req *r, void *ud);
void route_serve(const GPtrArray *specs, request *rq, route_run_fn run, void *ud);

#endif
