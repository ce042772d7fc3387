/* Unit tests for route: which application a request goes to. Requests are
 * real conn structures with the variable blocks front ends send (conn_var from
 * conn.c reads them); applications are app_specs as config.c builds them. */
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
    { "iis-script-name-path-info", { "SCRIPT_NAME", "/app/page.aspx", "PATH_INFO", "/x", NULL }, 1 },
    { "iis-path-info-holds-script-name", { "SCRIPT_NAME", "/app", "PATH_INFO", "/app/deep/page.aspx", NULL }, 4 },
    { "iis-x-original-url", { "SCRIPT_NAME", "/scgi/isapi_scgi.dll", "PATH_INFO", "/p", "HTTP_X_ORIGINAL_URL", "/app/p", NULL }, 1 },
    { "x-original-url-not-a-path-ignored", { "SCRIPT_NAME", "/app/p", "HTTP_X_ORIGINAL_URL", "http://x/", NULL }, 1 },
    { "request-uri-wins", { "REQUEST_URI", "/app/p", "HTTP_X_ORIGINAL_URL", "/other", NULL }, 1 },
    { "nothing-at-all", { NULL }, 0 },
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
    return specs;
}

static int pick(const GPtrArray *specs, const char *const *vars)
{
    GString *block = g_string_new(NULL);
    for (gsize i = 0; vars[i]; i += 2) {
        g_string_append_len(block, vars[i], (gssize)strlen(vars[i]) + 1);
        g_string_append_len(block, vars[i + 1], (gssize)strlen(vars[i + 1]) + 1);
    }
    conn c;
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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = g_strdup_printf("/route/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
        g_free(path);
    }
    g_test_add_func("/route/no-match", test_no_match);
    return g_test_run();
}
