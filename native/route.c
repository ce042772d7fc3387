/* route: see route.h. */
#include "route.h"

#include <string.h>

#include "response.h"

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

int route_pick(const GPtrArray *specs, const conn *c)
{
    /* the URL path the same way the managed side rebuilds it (RebuildUrl) */
    gsize len = 0;
    const char *uri = conn_var(c, "REQUEST_URI", &len);
    char *rebuilt = NULL;
    if (!uri) {
        uri = conn_var(c, "HTTP_X_ORIGINAL_URL", &len);
        if (uri && uri[0] != '/')
            uri = NULL;
    }
    if (!uri) {
        const char *sn = conn_var(c, "SCRIPT_NAME", NULL), *pi = conn_var(c, "PATH_INFO", NULL);
        sn = sn ? sn : "";
        pi = pi ? pi : "";
        uri = rebuilt = *sn && g_str_has_prefix(pi, sn) ? g_strdup(pi) : g_strconcat(sn, pi, NULL);
        len = strlen(uri);
    }
    char *host = request_host(c);
    int best = -1, best_score = -1;
    for (guint i = 0; i < specs->len; i++) {
        const app_spec *s = g_ptr_array_index(specs, i);
        if (s->vhost && (!host || strcmp(s->vhost, host) != 0))
            continue;
        if (!mount_matches(s->vpath, uri, len))
            continue;
        /* a matching vhost first, then the longest mount */
        int score = (s->vhost ? 1 << 24 : 0) + (int)MIN(strlen(s->vpath), (gsize)(1 << 23));
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    g_free(host);
    g_free(rebuilt);
    return best;
}

void route_serve(const GPtrArray *specs, conn *c, route_run_fn run, void *ud)
{
    int app = route_pick(specs, c);
    if (app < 0)
        resp_simple(c, 404, "Not Found: no application is mounted at this URL");
    else
        run(app, c, ud);
}
