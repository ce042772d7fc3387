"""The ASP.NET MVC 3 + Razor sample (samples/mvc, built into build/samples/mvc)
mounted at / and at /mvc of one server, with samples/hello at /hello beside it,
over plain HTTP and through nginx (SCGI). Routes with dots in their values,
trailing slashes, {id} and an area answer 200 with the controller, action and
values they name; FilePath and PathInfo are what IIS and Mono's own servers
give (the whole path and "" for extension-less URLs); links from Url.Action
and Html.ActionLink carry the mount; a static file followed by a PathInfo is
404, while handlers (echo.ashx/extra/info) keep their PathInfo."""
import os
import shutil

import harness
from common import check, eq

MVC_BUILT = os.path.join(harness.ROOT, "build", "samples", "mvc")
MOUNTS = ("", "/mvc")
FRONTS = ("http", "nginx")

# url (below the mount) -> the route values the page must show
ROUTES = [
    ("/Home/About", dict(controller="Home", action="About", area="", id="")),
    ("/Home/Details/42", dict(controller="Home", action="Details", id="42")),
    ("/Home/Details/42?q=1", dict(controller="Home", action="Details", id="42")),
    ("/Home/Paths", dict(controller="Home", action="Paths", id="")),
    ("/Home/Paths/a.b/", dict(controller="Home", action="Paths", id="a.b")),
    ("/Home/Paths/a.b", dict(controller="Home", action="Paths", id="a.b")),
    ("/users/john.doe/edit", dict(controller="Users", action="edit", name="john.doe")),
    ("/users/john.doe", dict(controller="Users", action="Show", name="john.doe")),
    ("/api/v1.2/items", dict(controller="Api", action="List", version="v1.2", resource="items")),
    ("/api/v1.2/items/", dict(controller="Api", action="List", version="v1.2", resource="items")),
    ("/Admin", dict(controller="Dashboard", action="Index", area="Admin", id="", view="Admin/Dashboard/Index")),
    ("/Admin/Dashboard/Index/x.y", dict(controller="Dashboard", action="Index", area="Admin", id="x.y",
                                        view="Admin/Dashboard/Index")),
]


def mvc_server(env):
    """The built MVC sample at / and /mvc (two copies), samples/hello at /hello."""
    def make():
        check(os.path.exists(os.path.join(MVC_BUILT, "bin", "MvcSample.dll")),
              f"{MVC_BUILT} is not built: make samples")
        w = env.work.path
        root = shutil.copytree(MVC_BUILT, os.path.join(w, "mvc-root"))
        sub = shutil.copytree(MVC_BUILT, os.path.join(w, "mvc-sub"))
        hello = harness.copy_sample(w, "mvc-hello")
        port = harness.free_port()
        conf = os.path.join(w, "mvc.conf")
        open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n\n"
                              f"[app:root]\nvpath = /\npath = {root}\n\n"
                              f"[app:mvc]\nvpath = /mvc\npath = {sub}\n\n"
                              f"[app:hello]\nvpath = /hello\npath = {hello}\n")
        return env.server(["--config", conf], ready_port=port)
    return env.once("mvc_server", make)


def mvc_front(env, kind):
    srv = mvc_server(env)
    if kind == "http":
        return srv
    return env.once(f"mvc_front:{kind}", lambda: env.nginx(f"127.0.0.1:{srv.port}"))


def get(fe, url):
    return harness.request(fe.port, "GET", url, headers={"Host": f"127.0.0.1:{fe.port}"})


def info(fe, url):
    """The key=value lines of the sample's Info view."""
    r = get(fe, url)
    eq(r.status, 200, f"GET {url}: {r.text[:300]!r}")
    return dict(ln.split("=", 1) for ln in r.text.splitlines() if "=" in ln)


def routes_test(kind):
    def test(env):
        fe = mvc_front(env, kind)
        for m in MOUNTS:
            for url, values in ROUTES:
                v = info(fe, m + url)
                got = {k: v.get(k) for k in values}
                eq(got, values, f"{kind} {m + url}: route values")
                path = (m + url).split("?", 1)[0]
                eq((v["filepath"], v["pathinfo"], v["path"], v["rawurl"], v["apprelative"], v["apppath"]),
                   (path, "", path, m + url, "~" + url.split("?", 1)[0], m or "/"),
                   f"{kind} {m + url}: FilePath, PathInfo, Path, RawUrl, AppRelativeCurrentExecutionFilePath, "
                   "ApplicationPath")
    test.__name__ = f"test_mvc_routes_and_paths_{kind}"
    return test


def links_test(kind):
    def test(env):
        fe = mvc_front(env, kind)
        for m in MOUNTS:
            for url in ("/Home/About", "/Admin/Dashboard/Index/x.y"):  # from the root and from the area
                v = info(fe, m + url)
                eq({k: v[k] for k in v if k.startswith(("url.", "link."))},
                   {"url.home": m + "/", "url.about": m + "/Home/About", "url.details": m + "/Home/Details/7",
                    "url.user": m + "/users/jane.roe/Edit", "url.api": m + "/api/v2.0/items",
                    "url.admin": m + "/Admin/Dashboard/Index/x.y", "url.content": m + "/Content/site.css",
                    "link.about": f'<a href="{m}/Home/About">About</a>'},
                   f"{kind} {m + url}: generated links")
            # the Razor layout's Html.ActionLink links, followed
            r = get(fe, m + "/")
            eq(r.status, 200, f"{kind} {m}/")
            for href in (f'href="{m}/Content/site.css"', f'href="{m}/Home/About"', f'href="{m}/users/john.doe/Edit"',
                         f'href="{m}/api/v1.2/items"', f'href="{m}/Admin"', f'href="{m}/Home/Paths/a.b/"'):
                check(href in r.text, f"{kind} {m}/: {href} in {r.text!r}")
            eq(info(fe, m + "/users/john.doe/Edit")["name"], "john.doe", f"{kind} following the user link")
    test.__name__ = f"test_mvc_links_carry_the_mount_{kind}"
    return test


def static_test(kind):
    def test(env):
        fe = mvc_front(env, kind)
        for m in MOUNTS:
            r = get(fe, m + "/Content/site.css")
            eq(r.status, 200, f"{kind} {m}/Content/site.css")
            check("MVC sample stylesheet" in r.text, f"{kind} {m}/Content/site.css: the file: {r.text[:200]!r}")
            for url in ("/Content/site.css/", "/Content/site.css/extra", "/Content/site.css/a/b.aspx",
                        "/Views/Home/Index.cshtml", "/bin/MvcSample.dll"):
                r = get(fe, m + url)
                eq(r.status, 404, f"{kind} {m + url}")
                check("MVC sample stylesheet" not in r.text, f"{kind} {m + url}: the file was served")
    test.__name__ = f"test_mvc_static_file_with_path_info_is_404_{kind}"
    return test


def webforms_test(kind):
    def test(env):
        fe = mvc_front(env, kind)
        r = get(fe, "/hello/echo.ashx/extra/info?q=1")
        eq(r.status, 200, f"{kind} echo.ashx")
        e = r.echo()
        eq((e["filepath"], e["pathinfo"], e["path"]), ("/hello/echo.ashx", "/extra/info", "/hello/echo.ashx/extra/info"),
           f"{kind} /hello/echo.ashx/extra/info")
        r = get(fe, "/hello/echo.ashx/a.b/c.css/")
        eq((r.status, r.echo()["filepath"], r.echo()["pathinfo"]), (200, "/hello/echo.ashx", "/a.b/c.css/"),
           f"{kind} /hello/echo.ashx/a.b/c.css/")
        eq(get(fe, "/hello/style.css").status, 200, f"{kind} /hello/style.css")
        eq(get(fe, "/hello/style.css/extra").status, 404, f"{kind} /hello/style.css/extra")
    test.__name__ = f"test_mvc_webforms_handler_beside_keeps_path_info_{kind}"
    return test


for _k in FRONTS:
    for _t in (routes_test(_k), links_test(_k), static_test(_k), webforms_test(_k)):
        globals()[_t.__name__] = _t
        _t.__module__ = __name__
