"""Fixtures shared by the integration tests."""
import errno
import os
import threading
import time

import harness


def main_server(env):
    """samples/hello at / on a TCP port (SCGI and HTTP)."""
    def make():
        port = harness.free_port()
        return env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}", "--threads", "4"],
                          ready_port=port)
    return env.once("main_server", make)


def conf_server(env, name, server="", apps=None, **kw):
    """A server on a free TCP port, from a configuration file `name` written for
    the test: `server` holds extra [server] lines, `apps` maps application names
    to their group's lines (default: samples/hello at /)."""
    port = harness.free_port()
    apps = apps or {"hello": f"vpath = /\npath = {harness.SAMPLE}\n"}
    text = f"[server]\nlisten = tcp:127.0.0.1:{port}\n{server}" + \
        "".join(f"\n[app:{group}]\n{lines}" for group, lines in apps.items())
    conf = os.path.join(env.work.path, name)
    open(conf, "w").write(text)
    return env.server(["--config", conf], ready_port=port, **kw)


def main_nginx(env):
    """nginx (samples/nginx.conf) in front of main_server over TCP."""
    def make():
        srv = main_server(env)
        return env.nginx(f"127.0.0.1:{srv.port}")
    return env.once("main_nginx", make)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


SECRET = "SECRET-MARKER"
SECRETS = {
    "bin/secret.txt": SECRET,
    "App_Data/data.txt": SECRET,
    "App_Code/Helper.cs": "// " + SECRET + "\npublic static class Helper { public const string Name = \"helper\"; }\n",
    ".secret": SECRET,
    "dir/.htpasswd": SECRET,
    ".git/config": SECRET,
}


def two_apps_server(env):
    """samples/hello at / and a second copy at /app, TCP and a UNIX socket."""
    def make():
        w = env.work.path
        port = harness.free_port()
        sock = os.path.join(w, "fe.sock")
        root = harness.copy_sample(w, "fe-root")
        sub = harness.copy_sample(w, "fe-app")
        for app in (root, sub):  # files no front end may serve
            for rel, text in SECRETS.items():
                os.makedirs(os.path.dirname(os.path.join(app, rel)), exist_ok=True)
                open(os.path.join(app, rel), "w").write(text)
        conf = os.path.join(w, "fe.conf")
        open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port};unix:{sock}\nsocket_mode = 0666\n"
                              f"threads = 4\n\n[app:root]\nvpath = /\npath = {root}\n\n"
                              f"[app:sub]\nvpath = /app\npath = {sub}\n")
        srv = env.server(["--config", conf], ready_port=port)
        srv.sock = sock
        srv.roots = {"/": root, "/app": sub}
        return srv
    return env.once("two_apps_server", make)


def front(env, kind):
    srv = two_apps_server(env)
    key = f"front:{kind}"

    def make():
        if kind == "http":
            return srv
        if kind == "nginx":
            return env.nginx(f"127.0.0.1:{srv.port}")
        if kind == "nginx-unix":
            return env.nginx(f"unix:{srv.sock}")
        if kind == "apache":
            return env.apache(f"127.0.0.1:{srv.port}")
        if kind == "apache-unix":
            return env.apache(f"unix:{srv.sock}")
        if kind == "lighttpd":
            return env.lighttpd(f"127.0.0.1:{srv.port}")
        if kind == "lighttpd-unix":
            return env.lighttpd(f"unix:{srv.sock}")
        raise AssertionError(kind)
    return env.once(key, make)


class Load:
    """`clients` threads requesting `path` over plain HTTP in a loop, one
    connection per request, recording (monotonic time at the answer, parse(r))
    for a 200, or (time, "error text") otherwise. Default: /pid.ashx, the pid."""

    def __init__(self, port, clients=4, path="/pid.ashx", parse=lambda r: int(r.text)):
        self.port, self.path, self.parse = port, path, parse
        self.results = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                r = harness.request(self.port, "GET", self.path, timeout=30)
                out = self.parse(r) if r.status == 200 else f"status {r.status}: {r.text[:200]}"
            except OSError as e:
                out = "refused" if e.errno == errno.ECONNREFUSED else f"{type(e).__name__}: {e}"
            except Exception as e:  # http.client's RemoteDisconnected, BadStatusLine...
                out = f"{type(e).__name__}: {e}"
            with self.lock:
                self.results.append((time.monotonic(), out))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(60)
        return self.results

    def errors(self):
        with self.lock:
            return [o for _, o in self.results if isinstance(o, str)]
