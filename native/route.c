/* route: see route.h. */
#include "route.h"

#include <string.h>

#include "http_req.h"
#include "response.h"
#include "urlpath.h"

/* The server name: the Host header without its port, else SERVER_NAME, else SERVER_ADDR. */
static void server_name(const request *rq, GString *out)
{
    const char *h = request_var(rq, "HTTP_HOST", NULL);
    if (!h || !*h)
        h = request_var(rq, "SERVER_NAME", NULL);
    if (!h || !*h)
        h = request_var(rq, "SERVER_ADDR", NULL);
    if (!h || !*h)
        h = "127.0.0.1";
    g_string_assign(out, "");
    g_string_append_len(out, h, (gssize)http_host_name_len(h));
}

/* The URL as the client sent it (see route.h for where it comes from). */
static void raw_url(const request *rq, GString *out)
{
    gsize len = 0;
    const char *uri = request_var(rq, "REQUEST_URI", &len);
    if (!uri && rq->proto != PROTO_HTTP) {
        uri = request_var(rq, "HTTP_X_ORIGINAL_URL", &len);
        if (uri && uri[0] != '/')
            uri = NULL;
    }
    if (uri) {
        g_string_append_len(out, uri, (gssize)len);
        return;
    }
    if (rq->proto == PROTO_HTTP) { /* http_req always sets REQUEST_URI */
        g_string_append_c(out, '/');
        return;
    }
    const char *sn = request_var(rq, "SCRIPT_NAME", NULL), *pi = request_var(rq, "PATH_INFO", NULL);
    sn = sn ? sn : "";
    pi = pi ? pi : "";
    const char *path = *sn && g_str_has_prefix(pi, sn) ? pi : NULL;
    if (path) {
        urlpath_encode(path, strlen(path), out);
    } else {
        urlpath_encode(sn, strlen(sn), out);
        urlpath_encode(pi, strlen(pi), out);
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    const char *qs = request_var(rq, "QUERY_STRING", &len);
    if (qs && len) {
        g_string_append_c(out, '?');
        g_string_append_len(out, qs, (gssize)len);
    }
}

/* private under any application's mount or inner mount */
static gboolean private_anywhere(const char *path, void *ud)
{
    const GPtrArray *specs = ud;
    for (guint i = 0; i < specs->len; i++) {
        const app_spec *s = g_ptr_array_index(specs, i);
        if (urlpath_is_private(path, s->vpath))
            return TRUE;
        for (char **m = s->inner_mounts; m && *m; m++)
            if (urlpath_is_private(path, *m))
                return TRUE;
    }
    return FALSE;
}

gboolean route_is_private(const GPtrArray *specs, const char *path)
{
    if (private_anywhere(path, (void *)specs))
        return TRUE;
    for (guint i = 0; i < specs->len; i++) {
        const app_spec *s = g_ptr_array_index(specs, i);
        if (urlpath_session_views(path, s->vpath, private_anywhere, (void *)specs))
            return TRUE;
    }
    return FALSE;
}

void route_resolve(const GPtrArray *specs, const request *rq, route_req *r)
{
    r->app = -1;
    r->status = 0;
    r->why = NULL;
    r->raw_url = g_string_new(NULL);
    r->path = g_string_new(NULL);
    r->query = g_string_new(NULL);
    r->server_name = g_string_new(NULL);

    raw_url(rq, r->raw_url);
    server_name(rq, r->server_name);
    gsize host_len = 0;
    const char *host_var = request_var(rq, "HTTP_HOST", &host_len);
    if (host_var && !http_host_valid(host_var, host_len)) { /* http_req's one Host rule */
        r->status = 400;
        r->why = "invalid Host header";
        return;
    }
    const char *path, *query;
    gsize path_len, query_len;
    urlpath_split_target(r->raw_url->str, r->raw_url->len, &path, &path_len, &query, &query_len);
    gsize qs_len = 0;
    const char *qs = request_var(rq, "QUERY_STRING", &qs_len);
    if (qs)
        g_string_append_len(r->query, qs, (gssize)qs_len);
    else if (query)
        g_string_append_len(r->query, query, (gssize)query_len);

    urlpath_status st = urlpath_normalize(path, path_len, r->path);
    if (st != URLPATH_OK) {
        r->status = 400;
        r->why = urlpath_strerror(st);
        return;
    }
    char *host = g_ascii_strdown(r->server_name->str, (gssize)r->server_name->len);
    int best_score = -1;
    for (guint i = 0; i < specs->len; i++) {
        const app_spec *s = g_ptr_array_index(specs, i);
        if (s->vhost && strcmp(s->vhost, host) != 0)
            continue;
        if (!urlpath_under(r->path->str, s->vpath, FALSE))
            continue;
        /* a matching vhost first, then the longest mount */
        int score = (s->vhost ? 1 << 24 : 0) + (int)MIN(strlen(s->vpath), (gsize)(1 << 23));
        if (score > best_score) {
            r->app = (int)i;
            best_score = score;
        }
    }
    g_free(host);
    if (r->app < 0) {
        r->status = 404;
        r->why = "Not Found: no application is mounted at this URL";
    } else if (route_is_private(specs, r->path->str)) {
        r->status = 404;
        r->why = "Not Found";
    }
}

void route_req_clear(route_req *r)
{
    if (r->raw_url)
        g_string_free(r->raw_url, TRUE);
    if (r->path)
        g_string_free(r->path, TRUE);
    if (r->query)
        g_string_free(r->query, TRUE);
    if (r->server_name)
        g_string_free(r->server_name, TRUE);
    memset(r, 0, sizeof *r);
}

int route_pick(const GPtrArray *specs, const request *rq)
{
    route_req r;
    route_resolve(specs, rq, &r);
    int app = r.status == 400 ? -1 : r.app;
    route_req_clear(&r);
    return app;
}

void route_serve(const GPtrArray *specs, request *rq, route_run_fn run, void *ud)
{
    route_req r;
    route_resolve(specs, rq, &r);
    if (r.status) /* one line per refused request (the log escapes the URL) */
        g_message("%s: refused (%d): %s: %s", rq->peer, r.status,
                  r.status == 400 ? r.why : r.app < 0 ? "no application is mounted there" : "private path",
                  r.raw_url->str);
    if (r.status == 400) {
        char *text = g_strconcat("Bad Request: ", r.why, NULL);
        resp_simple(rq, 400, text);
        g_free(text);
    } else if (r.status) {
        resp_simple(rq, r.status, r.why);
    } else {
        run(r.app, rq, &r, ud);
    }
    route_req_clear(&r);
}
