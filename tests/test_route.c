/* Unit tests for route: which application a request goes to. Requests are
 * real request structures with the variable blocks front ends send (request_var from
 * request.c reads them); applications are app_specs as config.c builds them. */
#include "route.h"

#include <string.h>

typedef struct {
    const char *vhost, *vpath;
} app_row;

/* the applications of every case, by index */
static const app_row apps[] = {
    { NULL, "/" },            /* 0 */
    { NULL, "/app" },         /* 1 */
    { "example.org", "/" },   /* 2 */
    { "example.org", "/shop" }, /* 3 */
    { NULL, "/app/deep" },    /* 4 */
    { NULL, "/sub" },         /* 5 */
    { NULL, "/mvc" },         /* 6 */
};

typedef struct {
    const char *name;
    const char *vars[12]; /* name, value, ..., NULL */
    int want;             /* index into apps, or -1 */
} route_case;

static const route_case cases[] = {
    { "root", { "REQUEST_URI", "/page.aspx", NULL }, 0 },
    { "mount-exact", { "REQUEST_URI", "/app", NULL }, 1 },
    { "mount-subpath", { "REQUEST_URI", "/app/x.aspx?q=1", NULL }, 1 },
    { "mount-query", { "REQUEST_URI", "/app?q=1", NULL }, 1 },
    { "mount-needs-segment-boundary", { "REQUEST_URI", "/apple", NULL }, 0 },
    { "longest-mount", { "REQUEST_URI", "/app/deep/x", NULL }, 4 },
    { "vhost-beats-longer-any-host-mount", { "REQUEST_URI", "/app/x", "HTTP_HOST", "example.org", NULL }, 2 },
    { "vhost-longest", { "REQUEST_URI", "/shop/cart", "HTTP_HOST", "example.org", NULL }, 3 },
    { "vhost-case-and-port", { "REQUEST_URI", "/shop", "HTTP_HOST", "EXAMPLE.org:8080", NULL }, 3 },
    { "vhost-from-server-name", { "REQUEST_URI", "/", "SERVER_NAME", "example.org", NULL }, 2 },
    { "empty-host-falls-back-to-server-name", { "REQUEST_URI", "/", "HTTP_HOST", "", "SERVER_NAME", "example.org", NULL }, 2 },
    { "other-host", { "REQUEST_URI", "/shop", "HTTP_HOST", "other.example", NULL }, 0 },
    { "ipv6-host", { "REQUEST_URI", "/app/", "HTTP_HOST", "[::1]:8000", NULL }, 1 },
    /* one trailing dot is the DNS root: the same vhost (http_host_name_len) */
    { "vhost-trailing-dot", { "REQUEST_URI", "/", "HTTP_HOST", "example.org.", NULL }, 2 },
    { "vhost-trailing-dot-port", { "REQUEST_URI", "/shop", "HTTP_HOST", "example.org.:80", NULL }, 3 },
    { "vhost-trailing-dot-server-name", { "REQUEST_URI", "/", "SERVER_NAME", "example.org.", NULL }, 2 },
    /* an invalid HTTP_HOST from a front end: no application (400, see resolve) */
    { "invalid-host", { "REQUEST_URI", "/app/", "HTTP_HOST", "evil.com/x?", NULL }, -1 },
    { "iis-script-name-path-info", { "SCRIPT_NAME", "/app/page.aspx", "PATH_INFO", "/x", NULL }, 1 },
    { "iis-path-info-holds-script-name", { "SCRIPT_NAME", "/app", "PATH_INFO", "/app/deep/page.aspx", NULL }, 4 },
    { "iis-x-original-url", { "SCRIPT_NAME", "/scgi/isapi_scgi.dll", "PATH_INFO", "/p", "HTTP_X_ORIGINAL_URL", "/app/p", NULL }, 1 },
    { "x-original-url-not-a-path-ignored", { "SCRIPT_NAME", "/app/p", "HTTP_X_ORIGINAL_URL", "http://x/", NULL }, 1 },
    { "request-uri-wins", { "REQUEST_URI", "/app/p", "HTTP_X_ORIGINAL_URL", "/other", NULL }, 1 },
    { "nothing-at-all", { NULL }, 0 },
    /* routing on the decoded, collapsed path */
    { "double-slash-before-mount", { "REQUEST_URI", "//mvc/Home/About", NULL }, 6 },
    { "triple-slash-before-mount", { "REQUEST_URI", "///mvc/Home/About", NULL }, 6 },
    { "encoded-mount", { "REQUEST_URI", "/%6dvc/Home/About", NULL }, 6 },
    { "encoded-mount-upper", { "REQUEST_URI", "/%6Dvc/Home/About", NULL }, 6 },
    { "encoded-sub", { "REQUEST_URI", "/%73ub/x", NULL }, 5 },
    { "slashes-inside-mount", { "REQUEST_URI", "/app//deep/x", NULL }, 4 },
    { "encoded-slash-inside-mount", { "REQUEST_URI", "/app%2Fdeep/x", NULL }, 4 },
    { "backslash-inside-mount", { "REQUEST_URI", "/app\\deep/x", NULL }, 4 },
    { "mount-case-sensitive", { "REQUEST_URI", "/MVC/x", NULL }, 0 },
    { "absolute-form", { "REQUEST_URI", "http://h.example//mvc/x?q", NULL }, 6 },
    { "refused-url-no-app", { "REQUEST_URI", "/mvc/%zz", NULL }, -1 },
    { "iis-path-info-encoded-chars", { "SCRIPT_NAME", "/m%76c", "PATH_INFO", "/x", NULL }, 0 },
};

/* route_resolve's whole decision: status, path, raw URL, query, server name. */
typedef struct {
    const char *name;
    conn_proto proto;
    const char *vars[16];
    int app, status;
    const char *path, *raw_url, *query, *server_name;
} resolve_case;

static const resolve_case resolve_cases[] = {
    /* the observed exploits: private files through spellings of the path */
    { "bin-double-slash", PROTO_SCGI, { "REQUEST_URI", "//bin/secret.txt", NULL }, 0, 404, "/bin/secret.txt", "//bin/secret.txt", "", "127.0.0.1" },
    { "bin-triple-slash", PROTO_HTTP, { "REQUEST_URI", "///bin/secret.txt", NULL }, 0, 404, "/bin/secret.txt", NULL, NULL, NULL },
    { "bin-encoded-slash", PROTO_HTTP, { "REQUEST_URI", "/%2fbin/secret.txt", NULL }, 0, 404, "/bin/secret.txt", NULL, NULL, NULL },
    { "app-data-double-slash", PROTO_SCGI, { "REQUEST_URI", "//App_Data/x", NULL }, 0, 404, "/App_Data/x", NULL, NULL, NULL },
    { "sub-bin-double-slash", PROTO_SCGI, { "REQUEST_URI", "/sub//bin/secret.txt", NULL }, 5, 404, "/sub/bin/secret.txt", NULL, NULL, NULL },
    { "sub-encoded-bin", PROTO_SCGI, { "REQUEST_URI", "/%73ub/bin/secret.txt", NULL }, 5, 404, "/sub/bin/secret.txt", NULL, NULL, NULL },
    { "sub-encoded-slash-bin", PROTO_SCGI, { "REQUEST_URI", "/sub%2fbin/secret.txt", NULL }, 5, 404, "/sub/bin/secret.txt", NULL, NULL, NULL },
    { "sub-backslash-bin", PROTO_SCGI, { "REQUEST_URI", "/sub%5Cbin%5Csecret.txt", NULL }, 5, 404, "/sub/bin/secret.txt", NULL, NULL, NULL },
    /* the root application must not serve a nested application's private
     * directory, in any letter case of the mount */
    { "sub-mount-other-case-bin", PROTO_SCGI, { "REQUEST_URI", "/SUB/bin/secret.txt", NULL }, 0, 404, "/SUB/bin/secret.txt", NULL, NULL, NULL },
    { "bin-upper", PROTO_SCGI, { "REQUEST_URI", "/BIN/x.dll", NULL }, 0, 404, "/BIN/x.dll", NULL, NULL, NULL },
    { "dot-git", PROTO_SCGI, { "REQUEST_URI", "/%2egit/config", NULL }, 0, 404, "/.git/config", NULL, NULL, NULL },
    { "dot-env-in-app", PROTO_SCGI, { "REQUEST_URI", "/app/deep/.env", NULL }, 4, 404, "/app/deep/.env", NULL, NULL, NULL },
    /* behind a cookieless-session segment, which System.Web removes in every
     * application: judged as ASP.NET will serve the path */
    { "session-bin", PROTO_HTTP, { "REQUEST_URI", "/(AAAAAAAAAAAAAAAAAAAAAAAA)/bin/App.dll.config", NULL }, 0, 404, "/(AAAAAAAAAAAAAAAAAAAAAAAA)/bin/App.dll.config", NULL, NULL, NULL },
    { "session-encoded-app-data", PROTO_SCGI, { "REQUEST_URI", "/%28AAAAAAAAAAA.AAAAAA-AAAAA%29/App_Data/x", NULL }, 0, 404, "/(AAAAAAAAAAA.AAAAAA-AAAAA)/App_Data/x", NULL, NULL, NULL },
    { "session-sub-bin", PROTO_SCGI, { "REQUEST_URI", "/sub/(AAAAAAAAAAAAAAAAAAAAAAAA)/bin/x", NULL }, 5, 404, NULL, NULL, NULL, NULL },
    { "session-root-serving-sub-bin", PROTO_SCGI, { "REQUEST_URI", "/(AAAAAAAAAAAAAAAAAAAAAAAA)/sub/bin/x", NULL }, 0, 404, NULL, NULL, NULL, NULL },
    { "session-multi-segment", PROTO_SCGI, { "REQUEST_URI", "/()/bin/AAAAAAAAAAAAAAAAAA)/x", NULL }, 0, 404, NULL, NULL, NULL, NULL },
    { "session-page-served-with-its-segment", PROTO_HTTP, { "REQUEST_URI", "/sub/(AAAAAAAAAAAAAAAAAAAAAAAA)/page.aspx", NULL },
      5, 0, "/sub/(AAAAAAAAAAAAAAAAAAAAAAAA)/page.aspx", NULL, NULL, NULL },
    { "session-deeper-bin-is-public", PROTO_HTTP, { "REQUEST_URI", "/(AAAAAAAAAAAAAAAAAAAAAAAA)/docs/bin/x", NULL }, 0, 0, NULL, NULL, NULL, NULL },
    /* refused URLs */
    { "colon", PROTO_HTTP, { "REQUEST_URI", "/x::$DATA/y", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "star", PROTO_HTTP, { "REQUEST_URI", "/bin*/x", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "encoded-colon-in-script-name", PROTO_SCGI, { "SCRIPT_NAME", "/a:b", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "dot-dot", PROTO_SCGI, { "REQUEST_URI", "/dir/%2e%2e/web.config", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "bad-escape", PROTO_HTTP, { "REQUEST_URI", "/a%4", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "nul", PROTO_SCGI, { "REQUEST_URI", "/a%00.aspx", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "crlf", PROTO_SCGI, { "REQUEST_URI", "/a%0d%0aX:%20y", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "bad-utf8", PROTO_SCGI, { "REQUEST_URI", "/%C0%AE%C0%AE/x", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "not-a-path", PROTO_HTTP, { "REQUEST_URI", "*", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    /* served: what is handed to the application */
    { "served-utf8", PROTO_SCGI, { "REQUEST_URI", "/app/caf%C3%A9.aspx/x?a=%C3%A9", "QUERY_STRING", "a=%C3%A9", "HTTP_HOST", "Example.COM:8080", NULL },
      1, 0, "/app/caf\xc3\xa9.aspx/x", "/app/caf%C3%A9.aspx/x?a=%C3%A9", "a=%C3%A9", "Example.COM" },
    { "served-collapsed", PROTO_HTTP, { "REQUEST_URI", "//sub//x/?q=1", "QUERY_STRING", "q=1", NULL },
      5, 0, "/sub/x/", "//sub//x/?q=1", "q=1", "127.0.0.1" },
    { "query-from-url-without-query-string", PROTO_SCGI, { "REQUEST_URI", "/p?x=%20y", NULL }, 0, 0, "/p", "/p?x=%20y", "x=%20y", NULL },
    { "query-string-var-wins", PROTO_SCGI, { "REQUEST_URI", "/p?orig", "QUERY_STRING", "rewritten", NULL }, 0, 0, "/p", "/p?orig", "rewritten", NULL },
    { "server-name-fallbacks", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "", "SERVER_NAME", "srv.example", NULL }, 0, 0, "/", "/", "", "srv.example" },
    { "server-name-from-addr", PROTO_SCGI, { "REQUEST_URI", "/", "SERVER_ADDR", "198.51.100.1", NULL }, 0, 0, "/", "/", "", "198.51.100.1" },
    { "server-name-ipv6", PROTO_HTTP, { "REQUEST_URI", "/", "HTTP_HOST", "[::1]:8000", NULL }, 0, 0, "/", "/", "", "[::1]" },
    { "server-name-ipv6-no-port", PROTO_HTTP, { "REQUEST_URI", "/", "HTTP_HOST", "[2001:db8::1]", NULL }, 0, 0, "/", "/", "", "[2001:db8::1]" },
    { "server-name-trailing-dot", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "Vh.Example.:8080", NULL }, 0, 0, "/", "/", "", "Vh.Example" },
    /* an HTTP_HOST that http_host_valid refuses: 400 before routing */
    { "host-with-path", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "evil.com/x?", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "host-userinfo", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "x@example.org", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "host-list", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "example.org,other", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "host-two-ports", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "example.org:1:2", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "host-space", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "a b", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    { "host-brackets", PROTO_SCGI, { "REQUEST_URI", "/", "HTTP_HOST", "[example.org]", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    /* IIS's isapi_scgi: no REQUEST_URI (SCGI only) */
    { "iis-rebuilt", PROTO_SCGI, { "SCRIPT_NAME", "/page.aspx", "PATH_INFO", "/extra/info", "QUERY_STRING", "q=1&r=2", NULL },
      0, 0, "/page.aspx/extra/info", "/page.aspx/extra/info?q=1&r=2", "q=1&r=2", NULL },
    { "iis-rebuilt-no-query", PROTO_SCGI, { "SCRIPT_NAME", "/dir/Default.aspx", "QUERY_STRING", "", NULL },
      0, 0, "/dir/Default.aspx", "/dir/Default.aspx", "", NULL },
    { "iis-rebuilt-reencoded", PROTO_SCGI, { "SCRIPT_NAME", "/caf\xc3\xa9.aspx", "PATH_INFO", "/a b?#%", NULL },
      0, 0, "/caf\xc3\xa9.aspx/a b?#%", "/caf%C3%A9.aspx/a%20b%3F%23%25", "", NULL },
    { "iis-nothing-is-root", PROTO_SCGI, { "REQUEST_METHOD", "GET", NULL }, 0, 0, "/", "/", "", NULL },
    { "iis-path-info-holds-script-name", PROTO_SCGI, { "SCRIPT_NAME", "/page.aspx", "PATH_INFO", "/page.aspx/extra", "QUERY_STRING", "q=1", NULL },
      0, 0, "/page.aspx/extra", "/page.aspx/extra?q=1", "q=1", NULL },
    { "iis-x-original-url", PROTO_SCGI, { "SCRIPT_NAME", "/s/isapi_scgi.dll", "PATH_INFO", "/page.aspx", "QUERY_STRING", "q=1", "HTTP_X_ORIGINAL_URL", "/sub/page.aspx/more?q=1", NULL },
      5, 0, "/sub/page.aspx/more", "/sub/page.aspx/more?q=1", "q=1", NULL },
    { "iis-x-original-url-private", PROTO_SCGI, { "SCRIPT_NAME", "/s/isapi_scgi.dll", "HTTP_X_ORIGINAL_URL", "//bin/x.dll", NULL },
      0, 404, "/bin/x.dll", NULL, NULL, NULL },
    { "iis-script-name-private", PROTO_SCGI, { "SCRIPT_NAME", "/sub/bin/x.dll", NULL }, 5, 404, "/sub/bin/x.dll", NULL, NULL, NULL },
    { "iis-script-name-dot-dot", PROTO_SCGI, { "SCRIPT_NAME", "/a/../web.config", NULL }, -1, 400, NULL, NULL, NULL, NULL },
    /* a client over plain HTTP never chooses the URL with X-Original-URL
     * (http_req always sets REQUEST_URI; without one, "/", never the header) */
    { "http-x-original-url-ignored", PROTO_HTTP, { "REQUEST_URI", "/sub/x", "HTTP_X_ORIGINAL_URL", "/bin/secret.txt", NULL },
      5, 0, "/sub/x", "/sub/x", "", NULL },
    { "http-x-original-url-ignored-without-request-uri", PROTO_HTTP, { "HTTP_X_ORIGINAL_URL", "/mvc/x", "SCRIPT_NAME", "/sub/y", NULL },
      0, 0, "/", "/", "", NULL },
    { "request-uri-wins-over-x-original-url", PROTO_SCGI, { "REQUEST_URI", "/mvc/x", "HTTP_X_ORIGINAL_URL", "/sub/y", NULL },
      6, 0, "/mvc/x", "/mvc/x", "", NULL },
};

static GPtrArray *make_specs(gsize n)
{
    GPtrArray *specs = g_ptr_array_new_with_free_func((GDestroyNotify)app_spec_free);
    for (gsize i = 0; i < n; i++) {
        app_spec *a = g_new0(app_spec, 1);
        a->name = g_strdup_printf("app%zu", i);
        a->vhost = g_strdup(apps[i].vhost);
        a->vpath = g_strdup(apps[i].vpath);
        a->path = g_strdup("/nonexistent");
        g_ptr_array_add(specs, a);
    }
    config_nest_apps(specs);
    return specs;
}

static void fill_conn(request *c, conn_proto proto, const char *const *vars, GString *block)
{
    for (gsize i = 0; vars[i]; i += 2) {
        char *n = g_strcompress(vars[i]), *v = g_strcompress(vars[i + 1]);
        g_string_append_len(block, n, (gssize)strlen(n) + 1);
        g_string_append_len(block, v, (gssize)strlen(v) + 1);
        g_free(n);
        g_free(v);
    }
    memset(c, 0, sizeof *c);
    c->proto = proto;
    c->vars = block->str;
    c->vars_len = block->len;
}

static void test_resolve(gconstpointer data)
{
    const resolve_case *rc = data;
    GPtrArray *specs = make_specs(G_N_ELEMENTS(apps));
    GString *block = g_string_new(NULL);
    request c;
    fill_conn(&c, rc->proto, rc->vars, block);
    route_req r;
    route_resolve(specs, &c, &r);
    g_assert_cmpint(r.status, ==, rc->status);
    if (rc->status != 400)
        g_assert_cmpint(r.app, ==, rc->app);
    g_assert_true(rc->status == 0 ? r.why == NULL : r.why != NULL);
    char *want_path = rc->path ? g_strcompress(rc->path) : NULL;
    if (want_path)
        g_assert_cmpstr(r.path->str, ==, want_path);
    if (rc->raw_url)
        g_assert_cmpstr(r.raw_url->str, ==, rc->raw_url);
    if (rc->query)
        g_assert_cmpstr(r.query->str, ==, rc->query);
    if (rc->server_name)
        g_assert_cmpstr(r.server_name->str, ==, rc->server_name);
    /* route_pick agrees, refusing what route_resolve refuses */
    g_assert_cmpint(route_pick(specs, &c), ==, rc->status == 400 ? -1 : rc->app);
    g_free(want_path);
    route_req_clear(&r);
    g_string_free(block, TRUE);
    g_ptr_array_unref(specs);
}

static int pick(const GPtrArray *specs, const char *const *vars)
{
    GString *block = g_string_new(NULL);
    for (gsize i = 0; vars[i]; i += 2) {
        g_string_append_len(block, vars[i], (gssize)strlen(vars[i]) + 1);
        g_string_append_len(block, vars[i + 1], (gssize)strlen(vars[i + 1]) + 1);
    }
    request c;
    memset(&c, 0, sizeof c);
    c.vars = block->str;
    c.vars_len = block->len;
    int r = route_pick(specs, &c);
    g_string_free(block, TRUE);
    return r;
}

static void test_case(gconstpointer data)
{
    const route_case *rc = data;
    GPtrArray *specs = make_specs(G_N_ELEMENTS(apps));
    g_assert_cmpint(pick(specs, rc->vars), ==, rc->want);
    g_ptr_array_unref(specs);
}

/* Without an any-host application at "/", nothing matches what no mount covers. */
static void test_no_match(void)
{
    GPtrArray *specs = make_specs(2); /* "/" and "/app" */
    g_ptr_array_remove_index(specs, 0);
    static const char *const other[] = { "REQUEST_URI", "/other", NULL };
    static const char *const app[] = { "REQUEST_URI", "/app/x", NULL };
    g_assert_cmpint(pick(specs, other), ==, -1);
    g_assert_cmpint(pick(specs, app), ==, 0);
    g_ptr_array_unref(specs);
}

/* Privacy follows the disk: an application whose directory lies inside
 * another's keeps its private names private in the outer one's URL space, and
 * every application counts whatever its virtual host. */
static void test_nested_on_disk(void)
{
    static const struct { const char *vhost, *vpath, *path; } rows[] = {
        { NULL, "/", "/srv/root" },
        { NULL, "/n2", "/srv/root/phys2" },
        { "vh.example", "/vh", "/srv/root/vh" },
        { NULL, "/shop", "/srv/shop" },
        { NULL, "/deep", "/srv/shop/a/b" },
    };
    GPtrArray *specs = g_ptr_array_new_with_free_func((GDestroyNotify)app_spec_free);
    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        app_spec *a = g_new0(app_spec, 1);
        a->name = g_strdup_printf("app%zu", i);
        a->vhost = g_strdup(rows[i].vhost);
        a->vpath = g_strdup(rows[i].vpath);
        a->path = g_strdup(rows[i].path);
        g_ptr_array_add(specs, a);
    }
    config_nest_apps(specs);
    const app_spec *root = g_ptr_array_index(specs, 0), *shop = g_ptr_array_index(specs, 3);
    g_assert_nonnull(root->inner_mounts);
    g_assert_cmpstr(root->inner_mounts[0], ==, "/phys2");
    g_assert_cmpstr(root->inner_mounts[1], ==, "/vh");
    g_assert_null(root->inner_mounts[2]);
    g_assert_cmpstr(shop->inner_mounts[0], ==, "/shop/a/b");
    g_assert_null(shop->inner_mounts[1]);
    g_assert_null(((const app_spec *)g_ptr_array_index(specs, 1))->inner_mounts);

    static const struct { const char *uri, *host; int app, status; } reqs[] = {
        { "/phys2/bin/secret.txt", NULL, 0, 404 },
        { "/PHYS2/App_Data/x", NULL, 0, 404 },
        { "/(AAAAAAAAAAAAAAAAAAAAAAAA)/phys2/bin/x", NULL, 0, 404 },
        { "/n2/bin/x", NULL, 1, 404 },
        { "/phys2/page.aspx", NULL, 0, 0 },
        { "/phys2x/bin/x", NULL, 0, 0 },
        { "/vh/bin/secret.txt", "127.0.0.1", 0, 404 },   /* the vhost application still counts */
        { "/vh/bin/secret.txt", "vh.example", 2, 404 },
        { "/vh/page.aspx", "127.0.0.1", 0, 0 },
        { "/shop/a/b/bin/x", NULL, 3, 404 },
        { "/shop/a/b/x", NULL, 3, 0 },
        { "/deep/bin/x", NULL, 4, 404 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS(reqs); i++) {
        const char *vars[] = { "REQUEST_URI", reqs[i].uri, reqs[i].host ? "HTTP_HOST" : NULL, reqs[i].host, NULL };
        GString *block = g_string_new(NULL);
        request c;
        fill_conn(&c, PROTO_HTTP, vars, block);
        route_req r;
        route_resolve(specs, &c, &r);
        if (r.app != reqs[i].app || r.status != reqs[i].status)
            g_error("%s (Host %s): app %d status %d, want app %d status %d", reqs[i].uri, reqs[i].host, r.app,
                    r.status, reqs[i].app, reqs[i].status);
        route_req_clear(&r);
        g_string_free(block, TRUE);
    }
    g_ptr_array_unref(specs);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/route/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(resolve_cases); i++) {
        char *path = g_strdup_printf("/route/resolve/%s", resolve_cases[i].name);
        g_test_add_data_func(path, &resolve_cases[i], test_resolve);
        g_free(path);
    }
    g_test_add_func("/route/no-match", test_no_match);
    g_test_add_func("/route/nested-on-disk", test_nested_on_disk);
    return g_test_run();
}
