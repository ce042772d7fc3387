"""The first line of an SCGI response: "Status: 200 OK" or "HTTP/1.1 200 OK",
chosen per application by web.config's MonoServerApacheStatus, else by the
server default (apache_status in scgi-mono.conf)."""
import os

import harness
from common import eq


def status_server(env):
    def make():
        w = env.work.path
        apps = [("/yes", harness.copy_sample(w, "status-true", "true")),
                ("/no", harness.copy_sample(w, "status-false", "false")),
                ("/default", harness.copy_sample(w, "status-default"))]
        sock = os.path.join(w, "status.sock")
        args = ["--listen", f"unix:{sock}"]
        for vpath, path in apps:
            args += ["--app", f"{vpath}:{path}"]
        env.server(args, ready_unix=sock)
        return sock
    return env.once("status_server", make)


def first_line(data):
    return data.split(b"\r\n", 1)[0].decode()


def test_apache_status_true_writes_status_line(env):
    eq(first_line(harness.scgi_get(status_server(env), "/yes/hello.ashx")), "Status: 200 OK", "first line")


def test_apache_status_false_writes_http_line(env):
    eq(first_line(harness.scgi_get(status_server(env), "/no/hello.ashx")), "HTTP/1.1 200 OK", "first line")


def test_server_default_is_status_line(env):
    eq(first_line(harness.scgi_get(status_server(env), "/default/hello.ashx")), "Status: 200 OK", "first line")


def test_error_status_uses_the_same_form(env):
    sock = status_server(env)
    eq(first_line(harness.scgi_get(sock, "/yes/nothing-here.aspx")), "Status: 404 Not Found", "404, apache form")
    eq(first_line(harness.scgi_get(sock, "/no/nothing-here.aspx")), "HTTP/1.1 404 Not Found", "404, http form")


def test_server_default_false_from_config_file(env):
    w = env.work.path
    conf = os.path.join(w, "status-default-false.conf")
    sock = os.path.join(w, "status2.sock")
    app = harness.copy_sample(w, "status-default-2")
    open(conf, "w").write(f"[server]\nlisten = unix:{sock}\napache_status = false\nthreads = 2\n\n"
                          f"[app:plain]\nvpath = /\npath = {app}\n")
    env.server(["--config", conf], ready_unix=sock)
    data = harness.scgi_get(sock, "/hello.ashx")
    eq(first_line(data), "HTTP/1.1 200 OK", "first line with apache_status = false")
    eq(data.split(b"\r\n\r\n", 1)[1], b"Hello, World", "body")


def test_plain_http_client_always_gets_http_line(env):
    # The same app whose web.config says "true" still answers a browser with HTTP/1.1.
    data = harness.exchange(status_server(env), b"GET /yes/hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    eq(first_line(data), "HTTP/1.1 200 OK", "first line over plain HTTP")
