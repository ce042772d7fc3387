"""One path rule (issue 9, part 1): the URL is decoded, collapsed and judged once,
in C, and routing, the private-file rule and ASP.NET all see that one path.

A server with an application at /, a nested application at /sub inside the
root application's directory (its bin/ is a file of the root application too),
and one at /mvc, reached over plain HTTP and through nginx (SCGI). Every
spelling of a private path answers 400 or 404 and never the file's bytes; every
spelling of a mount reaches the application mounted there; RawUrl stays what
the client sent."""
import os

import harness
from common import check, eq

SECRETS = {"bin/secret.txt": "BIN-SECRET", "App_Data/data.txt": "DATA-SECRET", ".git/config": "GIT-SECRET",
           "dir/.htpasswd": "HTPASSWD-SECRET", "App_Code/Helper.cs": "// CODE-SECRET\npublic static class Helper {}\n"}
MARKERS = ("BIN-SECRET", "DATA-SECRET", "GIT-SECRET", "HTPASSWD-SECRET", "CODE-SECRET")

MAPPATH_PAGE = """<%@ Page Language="C#" %>
<%-- Server.MapPath of ?p=..., or the type of the exception it throws --%>
<script runat="server">
string Mapped() {
    try { return "mapped=" + Server.MapPath(Request.QueryString["p"]); }
    catch (Exception e) { return "exception=" + e.GetType().FullName; }
}
</script>
<pre><%= HttpUtility.HtmlEncode(Mapped()) %></pre>
"""


def path_server(env):
    def make():
        w = env.work.path
        port = harness.free_port()
        root = harness.copy_sample(w, "pr-root")
        sub = harness.copy_sample(root, "sub")   # nested inside the root application
        mvc = harness.copy_sample(w, "pr-mvc")
        for app in (root, sub, mvc):
            for rel, text in SECRETS.items():
                os.makedirs(os.path.dirname(os.path.join(app, rel)), exist_ok=True)
                open(os.path.join(app, rel), "w").write(text)
        open(os.path.join(root, "mappath.aspx"), "w").write(MAPPATH_PAGE)
        conf = os.path.join(w, "pr.conf")
        open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n\n"
                              f"[app:root]\nvpath = /\npath = {root}\n\n"
                              f"[app:sub]\nvpath = /sub\npath = {sub}\n\n"
                              f"[app:mvc]\nvpath = /mvc\npath = {mvc}\n")
        return env.server(["--config", conf], ready_port=port)
    return env.once("path_rule_server", make)


def fronts(env):
    srv = path_server(env)
    ngx = env.once("path_rule_nginx", lambda: env.nginx(f"127.0.0.1:{srv.port}"))
    return [("http", srv.port), ("nginx", ngx.port)]


def get(port, url, headers=None):
    h = {"Host": f"127.0.0.1:{port}"}
    h.update(headers or {})
    return harness.request(port, "GET", url, headers=h)


# Spellings of private paths seen to leak (issue 9) and their relatives.
ATTACKS = [
    "//bin/secret.txt", "///bin/secret.txt", "/%2fbin/secret.txt", "/%2Fbin/secret.txt", "/%2F%2Fbin/secret.txt",
    "//App_Data/data.txt", "//app_data/data.txt", "/%41pp_Data/data.txt", "//App_Code/Helper.cs",
    "/\\bin\\secret.txt", "/%5cbin%5csecret.txt", "/bin%5Csecret.txt", "//BIN/secret.txt", "/b%69n/secret.txt",
    "/sub//bin/secret.txt", "//sub//bin/secret.txt", "/%73ub/bin/secret.txt", "/%73%75%62/%62%69%6e/secret.txt",
    "/sub%2fbin/secret.txt", "/sub%2Fbin/secret.txt", "/sub%5cbin/secret.txt", "/sub\\bin\\secret.txt",
    "/SUB/bin/secret.txt", "/sub/App_Data//data.txt", "/sub//.git/config",
    "//mvc/bin/secret.txt", "/%6dvc/bin/secret.txt", "/mvc%2FApp_Data/data.txt",
    "//.git/config", "/%2egit/config", "/dir//.htpasswd", "/dir/%2ehtpasswd",
    "/%2e%2e/pr-root/bin/secret.txt", "/sub/%2e%2e/bin/secret.txt", "/sub/..%2fbin/secret.txt",
    "/sub/.%2e/bin/secret.txt", "/x/..%5cbin/secret.txt", "/%C0%AE%C0%AE/bin/secret.txt",
]


def test_private_files_never_leak_however_spelled(env):
    bad = []
    for kind, port in fronts(env):
        for url in ATTACKS:
            r = get(port, url)
            leaked = [m for m in MARKERS if m in r.text]
            if r.status not in (400, 404) or leaked:
                bad.append(f"{kind} {url}: {r.status} {leaked}")
    check(not bad, "private files reachable:\n  " + "\n  ".join(bad))


def test_refused_urls_answer_400(env):
    srv = path_server(env)
    for url in ("/a%00b.aspx", "/a%0d%0aX-Injected:%20y", "/%C3%28.aspx", "/a%zz", "/%2e%2e/x", "/sub/./x"):
        r = get(srv.port, url)
        eq(r.status, 400, f"http {url}")


def test_every_spelling_of_a_mount_reaches_its_application(env):
    for kind, port in fronts(env):
        for url, app in (("//sub/echo.ashx", "/sub"), ("/%73ub/echo.ashx", "/sub"), ("/%73%75%62/echo.ashx", "/sub"),
                         ("///sub//echo.ashx", "/sub"), ("/sub%2Fecho.ashx", "/sub"),
                         ("//mvc/echo.ashx", "/mvc"), ("/%6dvc/echo.ashx", "/mvc"), ("/%6Dvc//echo.ashx", "/mvc"),
                         ("//echo.ashx", "/"), ("/submarine/../echo.ashx", None)):
            r = get(port, url)
            if app is None:
                check(r.status in (400, 404), f"{kind} {url}: {r.status}")
                continue
            eq(r.status, 200, f"{kind} {url}")
            e = r.echo()
            eq((e["apppath"], e["path"]), (app, app.rstrip("/") + "/echo.ashx"), f"{kind} {url}")


def test_raw_url_is_what_the_client_sent(env):
    for kind, port in fronts(env):
        for url, path in (("//sub//echo.ashx?x=%41", "/sub/echo.ashx"), ("/%73ub/echo.ashx/a%2Fb", "/sub/echo.ashx/a/b"),
                          ("/sub/caf%C3%A9/../echo.ashx", None)):
            r = get(port, url)
            if path is None:
                check(r.status in (400, 404), f"{kind} {url}: {r.status}")
                continue
            eq(r.status, 200, f"{kind} {url}")
            e = r.echo()
            eq((e["rawurl"], e["path"]), (url, path), f"{kind} {url}")


def test_percent_encoded_utf8_file_names_still_work(env):
    for kind, port in fronts(env):
        for url in ("/caf%C3%A9.aspx", "/caf%c3%a9.aspx", "//caf%C3%A9.aspx", "/sub/caf%C3%A9.aspx", "/%73ub/caf%C3%A9.aspx"):
            r = get(port, url)
            eq(r.status, 200, f"{kind} {url}")
            check("filepath=" + os.path.dirname(url.replace("%73ub", "sub").replace("//", "/")).rstrip("/") +
                  "/caf&#233;.aspx" in r.text, f"{kind} {url}: {r.text[:400]!r}")


def test_http_client_x_original_url_never_chooses_the_url(env):
    srv = path_server(env)
    for hdr in ("/bin/secret.txt", "/sub/echo.ashx", "/mvc/echo.ashx"):
        r = get(srv.port, "/echo.ashx", headers={"X-Original-URL": hdr})
        eq(r.status, 200, f"X-Original-URL: {hdr}")
        e = r.echo()
        eq((e["apppath"], e["path"], e["rawurl"]), ("/", "/echo.ashx", "/echo.ashx"), f"X-Original-URL: {hdr}")
        check(not any(m in r.text for m in MARKERS), "a secret leaked")


def test_server_mappath_above_the_root_throws_httpexception(env):
    srv = path_server(env)
    for p, want in (("/../x", "exception=System.Web.HttpException"),
                    ("/dir/../../x", "exception=System.Web.HttpException"),
                    ("/dir/../page.aspx", "mapped=" + os.path.join(srv_root(env), "page.aspx"))):
        r = get(srv.port, "/mappath.aspx?p=" + p)
        eq(r.status, 200, f"MapPath({p})")
        check(want in r.text, f"MapPath({p}): want {want!r}: {r.text[:400]!r}")


def srv_root(env):
    return os.path.join(env.work.path, "pr-root")
