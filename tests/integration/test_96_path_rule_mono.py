"""The path rule as Mono's System.Web reads the path (issue 9, part 1, red-team gaps).

- Cookieless sessions: System.Web's SessionStateModule (in every application,
  whatever sessionState says) removes a segment "(" + 24 characters + ")" right
  under the application's mount from Request.FilePath before serving it. The
  server must judge privacy on the path as ASP.NET serves it: every private name
  behind such a segment, at / and under /sub, over HTTP and nginx, is 404. A
  cookieless-session URL to a public page still reaches ASP.NET with its segment.
- Privacy follows the disk: an application whose directory lies inside another's
  (mounted elsewhere, or for another virtual host) keeps its private names
  private when reached through the outer application's URL space.
- Paths Mono refuses as virtual paths (':' and '*') are answered 400 by the
  server, never a host-level 500."""
import os
import shutil

import harness
from common import check, eq

SID = "(AAAAAAAAAAAAAAAAAAAAAAAA)"   # "(" + 24 characters + ")"
PRIVATE = {"bin/secret.txt": "BIN-SECRET", "bin/App.dll.config": "CONFIG-SECRET", "App_Data/x": "DATA-SECRET",
           "App_Code/Helper.cs": "// CODE-SECRET\npublic static class Helper {}\n",
           "App_GlobalResources/g.txt": "GRES-SECRET", "App_LocalResources/l.txt": "LRES-SECRET",
           "App_WebReferences/w.txt": "WREF-SECRET", "App_Browsers/b.txt": "BROWSER-SECRET",
           "dir/App_LocalResources/d.txt": "DLRES-SECRET", ".git/config": "GIT-SECRET"}
# (.txt: a broken .resx, .browser or .wsdl would stop the whole application from compiling)
MARKERS = ("BIN-SECRET", "CONFIG-SECRET", "DATA-SECRET", "CODE-SECRET", "GRES-SECRET", "LRES-SECRET",
           "WREF-SECRET", "BROWSER-SECRET", "DLRES-SECRET", "GIT-SECRET", "PHYS2-SECRET", "VH-SECRET")


def server(env):
    def make():
        w = env.work.path
        port = harness.free_port()
        root = harness.copy_sample(w, "pm-root")
        sub = harness.copy_sample(root, "sub")      # nested in URL and on disk
        phys2 = harness.copy_sample(root, "phys2")  # inside the root's directory, mounted at /n2
        vh = harness.copy_sample(root, "vh")        # inside the root's directory, for another host
        for app in (root, sub):
            for rel, text in PRIVATE.items():
                os.makedirs(os.path.dirname(os.path.join(app, rel)), exist_ok=True)
                open(os.path.join(app, rel), "w").write(text)
        for app, marker in ((phys2, "PHYS2-SECRET"), (vh, "VH-SECRET")):
            for d in ("bin", "App_Data"):
                os.makedirs(os.path.join(app, d), exist_ok=True)
                open(os.path.join(app, d, "secret.txt"), "w").write(marker)
        # a file the multi-segment form of the strip would reach: /()/bin/A..)/x -> /bin/A..)/x
        odd = os.path.join(root, "bin", "A" * 18 + ")")
        os.makedirs(odd)
        open(os.path.join(odd, "secret.txt"), "w").write("BIN-SECRET")
        open(os.path.join(root, "Hi.txt"), "w").write("hi")
        os.makedirs(os.path.join(root, "dir", "bin"))    # "bin" below the root: public
        shutil.copy(os.path.join(root, "echo.ashx"), os.path.join(root, "dir", "bin"))
        conf = os.path.join(w, "pm.conf")
        open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n\n"
                              f"[app:root]\nvpath = /\npath = {root}\n\n"
                              f"[app:sub]\nvpath = /sub\npath = {sub}\n\n"
                              f"[app:phys2]\nvpath = /n2\npath = {phys2}\n\n"
                              f"[app:vh]\nvhost = vh.example\nvpath = /vh\npath = {vh}\n")
        return env.server(["--config", conf], ready_port=port)
    return env.once("path_mono_server", make)


def fronts(env):
    srv = server(env)
    ngx = env.once("path_mono_nginx", lambda: env.nginx(f"127.0.0.1:{srv.port}"))
    return [("http", srv.port), ("nginx", ngx.port)]


def get(port, url, host=None):
    return harness.request(port, "GET", url, headers={"Host": host or f"127.0.0.1:{port}"})


def session_spellings(rel):
    """Every way to put a cookieless-session segment in front of rel (a path
    relative to an application's mount), as a list of (prefix-free) URL tails."""
    out = []
    for sid in (SID, "%28AAAAAAAAAAAAAAAAAAAAAAAA%29", "(AAAAAAAAAAA.AAAAAA-AAAAA)", "(aaaaaaaaaaaaaaaaaaaaaaaa)",
                "%28" + "%41" * 24 + "%29"):
        out.append(f"{sid}/{rel}")
        out.append(f"/{sid}//{rel}")
    return out


def leaks(port, url, host=None):
    r = get(port, url, host)
    found = [m for m in MARKERS if m in r.text]
    return None if r.status in (400, 404) and not found else f"{r.status} {found}"


def test_private_names_behind_a_cookieless_session_segment_are_404(env):
    bad = []
    for kind, port in fronts(env):
        for rel in PRIVATE:
            urls = ["/" + t for t in session_spellings(rel)]          # the root application's own
            urls += ["/sub/" + t for t in session_spellings(rel)]     # the nested application's own
            urls += ["/" + t for t in session_spellings("sub/" + rel)]  # the root application serving /sub's
            for url in urls:
                why = leaks(port, url)
                if why:
                    bad.append(f"{kind} {url}: {why}")
        # the strip removes from the first "/(" to the first ")/": not one segment only
        for url in ("/()/bin/" + "A" * 18 + ")/secret.txt", "/(" + "A" * 24 + ")x/bin/secret.txt"):
            why = leaks(port, url)
            if why:
                bad.append(f"{kind} {url}: {why}")
    check(not bad, "private files reachable behind a session segment:\n  " + "\n  ".join(bad))


def test_cookieless_session_urls_still_reach_asp_net(env):
    for kind, port in fronts(env):
        for url, app, path in ((f"/{SID}/echo.ashx", "/", f"/{SID}/echo.ashx"),
                               (f"/sub/{SID}/echo.ashx", "/sub", f"/sub/{SID}/echo.ashx"),
                               (f"/{SID}/dir/bin/echo.ashx", "/", f"/{SID}/dir/bin/echo.ashx")):
            r = get(port, url)
            eq(r.status, 200, f"{kind} {url}")
            e = r.echo()
            # the segment is handed to ASP.NET, which removes it itself
            eq((e["apppath"], e["rawurl"]), (app, url), f"{kind} {url}")
            check(e["path"] in (path, path.replace(SID + "/", "")), f"{kind} {url}: path {e['path']}")
        r = get(port, f"/{SID}/Hi.txt")
        eq((r.status, r.text), (200, "hi"), f"{kind} static file behind a session segment")


def test_privacy_follows_the_disk_not_the_mount(env):
    bad = []
    for kind, port in fronts(env):
        for url in ("/phys2/bin/secret.txt", "/phys2/App_Data/secret.txt", "/PHYS2/bin/secret.txt",
                    "/phys2//bin/secret.txt", f"/{SID}/phys2/bin/secret.txt", "/n2/bin/secret.txt",
                    "/vh/bin/secret.txt", "/vh/App_Data/secret.txt", f"/vh/{SID}/bin/secret.txt"):
            for host in (None, "vh.example"):
                why = leaks(port, url, host)
                if why:
                    bad.append(f"{kind} {url} (Host {host}): {why}")
        # the nested applications' public files are still served by the root application
        r = get(port, "/phys2/echo.ashx")
        eq((r.status, r.echo().get("apppath")), (200, "/"), f"{kind} /phys2/echo.ashx")
        r = get(port, "/vh/echo.ashx", "vh.example")
        eq((r.status, r.echo().get("apppath")), (200, "/vh"), f"{kind} /vh/echo.ashx for vh.example")
    check(not bad, "private files reachable:\n  " + "\n  ".join(bad))


def test_paths_mono_refuses_are_400(env):
    srv = server(env)
    before = srv.log_text().count("not a valid virtual path")
    for kind, port in fronts(env):
        for url in ("/bin*/x", "/x::$DATA/y", "/page.aspx:x", "/echo.ashx/a:b", "/echo.ashx/a*b", "/a%3Ab",
                    "/a%2ab", "/sub/x:y", "/Home/Index/a:b"):
            r = get(port, url)
            eq(r.status, 400, f"{kind} {url}")
    # SCGI straight: SCRIPT_NAME is decoded, so a '*' or ':' in it is one too
    for sn in ("/b*n/x", "/a:b"):
        v = [("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", sn), ("PATH_INFO", ""), ("QUERY_STRING", ""),
             ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "localhost"), ("SERVER_PORT", "80"),
             ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "4000")]
        raw = harness.exchange(("127.0.0.1", srv.port), harness.scgi_request(v))
        check(raw.startswith(b"Status: 400"), f"SCGI SCRIPT_NAME={sn}: {raw[:60]!r}")
    # ':' and '*' stay fine in the query string
    r = get(srv.port, "/echo.ashx?a=b:c*d")
    eq(r.status, 200, "query with ':' and '*'")
    eq(srv.log_text().count("not a valid virtual path"), before, "host-level failures logged")
