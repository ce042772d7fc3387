"""Every front end from Debian's archive in front of the real server, each run
with the configuration shipped in samples/ (so the samples cannot rot):
Apache 2.4 mod_proxy_scgi and lighttpd mod_scgi over TCP and a UNIX socket,
lighttpd starting the server itself (bin-path), nginx in test_20/test_50.
Each answers the sample's pages exactly as the server answers plain HTTP."""
import os
import socket

import harness
from common import check, eq, front

MIB = 1 << 20


def get(fe, path, **kw):
    return harness.request(fe.port, "GET", path, headers={"Host": f"127.0.0.1:{fe.port}"}, **kw)


FRONTS = ["nginx", "nginx-unix", "apache", "apache-unix", "lighttpd", "lighttpd-unix"]


def basics(kind):
    def test(env):
        fe = front(env, kind)
        r = get(fe, "/hello.ashx")
        eq((r.status, r.text), (200, "Hello, World"), f"{kind}: /hello.ashx")
        eq(r.header("X-Sample"), "hello", f"{kind}: Global.asax header")
        r = get(fe, "/app/hello.ashx")
        eq((r.status, r.text), (200, "Hello, World"), f"{kind}: /app/hello.ashx")
        page = get(fe, "/")
        eq(page.status, 200, f"{kind}: default document")
        check("<form" in page.text, f"{kind}: the WebForms page")
        body = bytes(range(256)) * 4096
        r = harness.request(fe.port, "POST", "/echo.ashx", body=body,
                            headers={"Content-Type": "application/octet-stream"})
        e = r.echo()
        eq((e["bodylength"], e["bodysum"]), (str(len(body)), str(sum(body) & 0xFFFFFFFF)), f"{kind}: 1 MiB POST")
        r = get(fe, "/nonexistent.aspx")
        eq(r.status, 404, f"{kind}: 404 from ASP.NET")
    test.__name__ = f"test_{kind.replace('-', '_')}_serves_the_sample"
    return test


for _k in FRONTS:
    _t = basics(_k)
    globals()[_t.__name__] = _t
    _t.__module__ = __name__


def test_apache_refuses_http_status_lines_and_takes_status_lines(env):
    """MonoServerApacheStatus=false makes the first line "HTTP/1.1 200 OK",
    which Apache refuses (500, "malformed header"); true (or absent, the
    server's default) works."""
    w = env.work.path
    results = {}
    for value in ("false", "true"):
        app = harness.copy_sample(w, f"apache-status-{value}", apache_status=value)
        port = harness.free_port()
        srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{app}", "--threads", "2"],
                         ready_port=port)
        ap = env.apache(f"127.0.0.1:{srv.port}")
        results[value] = (get(ap, "/hello.ashx"), ap.error_log())
    r, log = results["false"]
    eq(r.status, 500, "Apache with MonoServerApacheStatus=false")
    check("malformed header" in log, "Apache's error log says why: " + log[-300:])
    r, _ = results["true"]
    eq((r.status, r.text), (200, "Hello, World"), "Apache with MonoServerApacheStatus=true")


def test_lighttpd_starts_the_server_itself_with_bin_path(env):
    """lighttpd binds the socket and starts the server with it as fd 0
    (samples/lighttpd.conf's bin-path variant); stopping lighttpd stops it."""
    w = env.work.path
    tmp = os.path.join(w, "spawned-tmp")
    os.makedirs(tmp)
    lt = env.lighttpd(("spawn", ["--app", f"/:{harness.SAMPLE}", "--threads", "2"]),
                      extra_env={"TMPDIR": tmp})
    harness.wait_for(lambda: get(lt, "/hello.ashx", timeout=5).status == 200, 60,
                     "the spawned server to answer through lighttpd")
    eq(get(lt, "/hello.ashx").text, "Hello, World", "served by the server lighttpd started")
    e = get(lt, "/echo.ashx?env=SCGI").echo()
    eq(e["path"], "/echo.ashx", "path")
    pids = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(p) == lt.proc.pid
            and _cmdline(p).startswith(harness.SERVER)]
    check(len(pids) == 1, f"one server process started by lighttpd: {pids}")
    lt.stop()
    harness.wait_for(lambda: not os.path.exists(f"/proc/{pids[0]}"), 40,
                     "the spawned server to exit when lighttpd stops")


def _ppid(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def _cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
    except OSError:
        return ""
