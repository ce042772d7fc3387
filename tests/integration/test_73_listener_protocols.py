"""Each listener speaks the protocols it is given (issue 9, section 6): an
"http:" listener refuses SCGI (whose variables, HTTPS or REMOTE_ADDR, the
server trusts) with 400 before the application sees it, an "scgi:" listener
refuses plain HTTP, both still serve their own protocol, and a front end works
through an SCGI-only listener. Sockets handed over at start take
inherited_protocols."""
import os
import socket

import harness
from common import check, eq

SCGI_SPOOF = [("HTTPS", "on"), ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_PORT", "443")]


def split_server(env):
    """One server, an HTTP-only and an SCGI-only TCP listener."""
    def make():
        http_port, scgi_port = harness.free_port(), harness.free_port()
        srv = env.server(["--listen", f"http:tcp:127.0.0.1:{http_port}", "--listen", f"scgi:tcp:127.0.0.1:{scgi_port}",
                          "--app", f"/:{harness.SAMPLE}", "--threads", "4"], ready_port=http_port)
        srv.http_port, srv.scgi_port = http_port, scgi_port
        return srv
    return env.once("split_server", make)


def test_the_startup_log_names_each_listeners_protocols(env):
    srv = split_server(env)
    log = srv.log_text()
    check(f"listening on http:tcp:127.0.0.1:{srv.http_port} (HTTP)" in log, log[-600:])
    check(f"listening on scgi:tcp:127.0.0.1:{srv.scgi_port} (SCGI)" in log, log[-600:])


def test_http_listener_refuses_scgi_before_the_application(env):
    srv = split_server(env)
    out = harness.scgi_get(("127.0.0.1", srv.http_port), "/echo.ashx", SCGI_SPOOF)
    check(out.startswith(b"Status: 400 "), f"SCGI on the HTTP listener: {out[:80]!r}")
    check(b"secure=" not in out and b"method=" not in out, f"the application never ran: {out[:200]!r}")
    check("an SCGI request on a listener for HTTP only" in srv.log_text(), "a log line says why")
    r = harness.request(srv.http_port, "GET", "/echo.ashx")
    eq(r.status, 200, "HTTP on the HTTP listener")
    eq(r.echo()["secure"], "false", "plain HTTP is not HTTPS")


def test_scgi_listener_refuses_http(env):
    srv = split_server(env)
    r = harness.request(srv.scgi_port, "GET", "/hello.ashx")
    eq(r.status, 400, "HTTP on the SCGI listener")
    check("an HTTP request on a listener for SCGI only" in srv.log_text(), "a log line says why")
    out = harness.scgi_get(("127.0.0.1", srv.scgi_port), "/echo.ashx", [("HTTPS", "on")])
    check(out.startswith(b"Status: 200 "), f"SCGI on the SCGI listener: {out[:80]!r}")
    check(b"secure=true" in out, "the front end's HTTPS=on is believed on the SCGI listener")


def test_nginx_through_an_scgi_only_listener(env):
    srv = split_server(env)
    ngx = env.nginx(f"127.0.0.1:{srv.scgi_port}")
    r = harness.request(ngx.port, "GET", "/echo.ashx?a=1")
    eq(r.status, 200, "nginx -> scgi: listener")
    e = r.echo()
    eq(e["q.a"], "1", "query through nginx")
    eq(e["secure"], "false", "nginx on plain HTTP sends no HTTPS=on")
    eq(harness.request(ngx.port, "GET", "/hello.ashx").text, "Hello, World", "a second request")


def test_unix_listener_with_scgi_prefix(env):
    sock = os.path.join(env.work.path, "scgi-only.sock")
    port = harness.free_port()
    env.server(["--listen", f"scgi:unix:{sock}", "--listen", f"http:tcp:127.0.0.1:{port}",
                "--app", f"/:{harness.SAMPLE}", "--threads", "2"], ready_port=port)
    out = harness.scgi_get(sock, "/hello.ashx")
    check(out.startswith(b"Status: 200 ") and out.endswith(b"Hello, World"), f"SCGI on unix: {out[:80]!r}")
    out = harness.exchange(sock, b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 400 "), f"HTTP on the scgi: unix socket: {out[:80]!r}")


def inherited_server(env, name, protocols):
    """A server handed a listening socket on fd 0, with inherited_protocols."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    port = lsock.getsockname()[1]
    conf = os.path.join(env.work.path, name)
    line = f"inherited_protocols = {protocols}\n" if protocols else ""
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{harness.free_port()}\nthreads = 2\n{line}\n"
                          f"[app:hello]\nvpath = /\npath = {harness.SAMPLE}\n")
    srv = env.server(["--config", conf], ready_port=port, stdin=lsock.fileno())
    lsock.close()
    return srv, port


def test_inherited_socket_takes_inherited_protocols(env):
    srv, port = inherited_server(env, "inherit-scgi.conf", "scgi")
    check("(fd 0 from standard input) (SCGI)" in srv.log_text(), srv.log_text()[-400:])
    eq(harness.request(port, "GET", "/hello.ashx").status, 400, "HTTP on an inherited scgi socket")
    out = harness.scgi_get(("127.0.0.1", port), "/hello.ashx")
    check(out.startswith(b"Status: 200 "), f"SCGI on it: {out[:80]!r}")

    srv, port = inherited_server(env, "inherit-http.conf", "http")
    eq(harness.request(port, "GET", "/hello.ashx").status, 200, "HTTP on an inherited http socket")
    out = harness.scgi_get(("127.0.0.1", port), "/hello.ashx")
    check(out.startswith(b"Status: 400 "), f"SCGI on it: {out[:80]!r}")

    srv, port = inherited_server(env, "inherit-default.conf", None)
    eq(harness.request(port, "GET", "/hello.ashx").status, 200, "both by default: HTTP")
    check(harness.scgi_get(("127.0.0.1", port), "/hello.ashx").startswith(b"Status: 200 "), "both: SCGI")
