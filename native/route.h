/* route: which application a request is for, and what a worker does with it.
 *
 * Routing: an application whose vhost matches the request's host (HTTP_HOST,
 * else SERVER_NAME; case-insensitive, without the port) beats one for any host;
 * then the longest mount (vpath) that the URL path starts with at a segment
 * boundary. The URL path is REQUEST_URI; without it (IIS's isapi_scgi) the
 * HTTP_X_ORIGINAL_URL of IIS's URL Rewrite, else SCRIPT_NAME + PATH_INFO (PATH_INFO
 * alone when it already starts with SCRIPT_NAME, as IIS may send it).
 *
 * route_serve is the worker's part before the application: no application ->
 * 404, else run() with the application's index. It does not call conn_done:
 * the caller does, after it.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <glib.h>
#include "config.h"
#include "conn.h"

/* Index into specs (of app_spec*) of the application for c, or -1. */
int route_pick(const GPtrArray *specs, const conn *c);

typedef void (*route_run_fn)(int app, conn *c, void *ud);
void route_serve(const GPtrArray *specs, conn *c, route_run_fn run, void *ud);

#endif
