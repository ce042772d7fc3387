#!/usr/bin/env python3
"""The scgi-mono benchmark (see bench/README.md).

Starts, on loopback, each target in turn behind the same nginx (one worker
process) and measures it with wrk under the same load:

  scgi-mono     build/scgi-mono-server (SCGI)
  fastcgi-mono  Debian's fastcgi-mono-server4 (FastCGI)                 a peer
  mod_mono      Debian's Apache 2.4 with libapache2-mod-mono (HTTP proxy) a peer
  ceiling       bench/scgi_ceiling.c: nginx + SCGI with no application   a limit
  pipeline      bench/pipeline.cs: HttpRuntime.ProcessRequest in-process,
                no sockets, no nginx, one thread per core               a limit

then prints a table and, for scgi-mono, its requests/s as a ratio to each peer
and as a percentage of the combined limit 1 / (1/ceiling + 1/pipeline).

  python3 bench/run.py [--quick] [--pages LIST] [--targets LIST] [--duration S]
  python3 bench/run.py --selftest     # set-up check, TAP, not timed

Everything runs under build/bench/ in temporary directories, on 127.0.0.1 and
free ports; every process is bounded in time and killed at the end. Python
standard library only.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BENCH = os.path.join(ROOT, "bench")
APP = os.path.join(BENCH, "app")
OUT = os.path.join(ROOT, "build", "bench")
SERVER = os.path.join(ROOT, "build", "scgi-mono-server")
CEILING_SRC = os.path.join(BENCH, "scgi_ceiling.c")
CEILING_BIN = os.path.join(OUT, "scgi_ceiling")
PIPELINE_SRC = os.path.join(BENCH, "pipeline.cs")
PIPELINE_EXE = os.path.join(OUT, "pipeline.exe")
FASTCGI_MONO = "/usr/bin/fastcgi-mono-server4"
APACHE = "/usr/sbin/apache2"
APACHE_MODULES = "/usr/lib/apache2/modules"
MOD_MONO = os.path.join(APACHE_MODULES, "mod_mono.so")
MOD_MONO_SERVER = "/usr/bin/mod-mono-server4"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"

UPLOAD_SIZE = 1 << 20
WRK_THREADS = 2
WRK_TIMEOUT = 5          # seconds before wrk counts a request as timed out
START_TIMEOUT = 90       # seconds a server may take to listen
FIRST_REQUEST_TIMEOUT = 120  # the first request of a page compiles it


# ---------------------------------------------------------------- pages

class Page:
    """session: None for the pages of bench/app/, else the session state mode of the
    session page (bench/app_sessions/session.ashx in its own application copy)."""

    def __init__(self, name, path, method, body_size, what, session=None):
        self.name, self.path, self.method, self.body_size, self.what = name, path, method, body_size, what
        self.session = session


PAGES = {
    "hello": Page("hello", "/hello.ashx", "GET", 0, "one-line handler"),
    "page": Page("page", "/page.aspx", "GET", 0, "small WebForms page"),
    "big": Page("big", "/big.ashx", "GET", 0, "64 KiB response"),
    "upload": Page("upload", "/upload.ashx", "POST", UPLOAD_SIZE, "1 MiB POST"),
    "session-off": Page("session-off", "/s-off/session.ashx", "GET", 0, "session page, sessionState Off",
                        "off"),
    "session-inproc": Page("session-inproc", "/s-inproc/session.ashx", "GET", 0,
                           "session page, sessionState InProc", "inproc"),
    "session-redis": Page("session-redis", "/s-redis/session.ashx", "GET", 0,
                          "session page, ScgiMono.RedisSessionStateStore", "redis"),
}
BASE_PAGES = ["hello", "page", "big", "upload"]
SESSION_PAGES = ["session-off", "session-inproc", "session-redis"]
PAGE_ORDER = BASE_PAGES + SESSION_PAGES
SESSIONS_ONLY_ON = "the session pages are measured on scgi-mono only (the Redis store is ScgiMono.dll's)"


def big_body():
    """What big.ashx (and the ceiling) answer: 1024 lines of 64 bytes."""
    out = []
    for i in range(1024):
        out.append("%05d " % i + "".join(chr(ord("a") + (i + j) % 26) for j in range(57)) + "\n")
    return "".join(out).encode("ascii")


BIG_BODY = big_body()


def upload_body():
    return bytes(ord("a") + i % 26 for i in range(UPLOAD_SIZE))


def check_body(page, status, body):
    """None if (status, body) is the right answer to page, else what is wrong."""
    if status != 200:
        snippet = body[:200].decode("utf-8", "replace").replace("\n", " ")
        return f"status {status}: {snippet}"
    if page.name == "hello":
        ok = body == b"Hello, World"
    elif page.name == "page":
        ok = b"<!-- bench-page-end -->" in body and b"</html>" in body and 1500 <= len(body) <= 4096
    elif page.name == "big":
        ok = body == BIG_BODY
    elif page.session == "off":
        ok = body == b"0 -"
    elif page.session:
        ok = re.fullmatch(rb"[1-9][0-9]* [0-9A-Za-z_-]{1,80}", body) is not None
    else:
        ok = body.strip() == str(UPLOAD_SIZE).encode()
    if ok:
        return None
    return f"wrong body ({len(body)} bytes): {body[:80]!r}"


# ---------------------------------------------------------------- processes

LIVE = []  # every Proc started and not yet stopped


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def read_text(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""


class Proc:
    """A child in its own process group, with its output in a log file. marker,
    when given, is a string unique to this run (a path in its temporary directory)
    that finds the processes it detaches (mod_mono's mod-mono-server4)."""

    def __init__(self, name, argv, log_path, env=None, cwd=None, marker=None):
        self.name, self.log_path, self.marker = name, log_path, marker
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=cwd, start_new_session=True)
        LIVE.append(self)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log_text(self):
        self.log.flush()
        return read_text(self.log_path)

    def pids(self):
        """This process, its descendants, and any process carrying the marker."""
        return tree_pids(self.proc.pid, self.marker)

    def stop(self, sig=signal.SIGTERM, grace=20):
        extra = [p for p in self.pids() if p != self.proc.pid]
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except OSError:
                pass
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.proc.wait(10)
        # detached children (own session) and leftovers of the group
        deadline = time.monotonic() + 5
        for p in extra:
            while pid_alive(p) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(p):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.log.close()
        if self in LIVE:
            LIVE.remove(self)


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def proc_table():
    """{pid: (ppid, cmdline)} of every process."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            out[int(d)] = (ppid, cmd)
        except (OSError, ValueError, IndexError):
            pass
    return out


def tree_pids(root, marker=None):
    table = proc_table()
    pids = {root} if root in table else set()
    if marker:
        pids |= {p for p, (_, cmd) in table.items() if marker in cmd}
    changed = True
    while changed:
        changed = False
        for p, (pp, _) in table.items():
            if pp in pids and p not in pids:
                pids.add(p)
                changed = True
    return sorted(pids)


def mem_kb(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids):
    """User + system CPU time (s) used so far by pids, summed."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            pass
    return total / CLK_TCK


def rss_kb(pids):
    """Resident memory (VmRSS) summed over pids, in kB."""
    return sum(mem_kb(p, "VmRSS") for p in pids)


def stop_all():
    for p in list(reversed(LIVE)):
        try:
            p.stop(grace=5)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def wait_for(pred, timeout, what, proc=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what}: exited with status {proc.proc.returncode}: {proc.log_text()[-800:]}")
        if pred():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def http_request(port, page, timeout):
    """One request to page through port: (status, body)."""
    body = upload_body() if page.method == "POST" else None
    headers = {"Connection": "close"}
    if body is not None:
        headers["Content-Type"] = "application/octet-stream"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(page.method, page.path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


# ---------------------------------------------------------------- session state

SESSION_APP = os.path.join(BENCH, "app_sessions")
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_PREFIX = "bench-session:"
# The same session id manager for InProc and Redis (the one samples/redis-sessions.web.config
# uses), so the two differ in the store only.
_ID_MANAGER = 'sessionIDManagerType="ScgiMono.LenientSessionIDManager, ScgiMono"'
SESSION_STATE = {
    "off": '<sessionState mode="Off" />',
    "inproc": f'<sessionState mode="InProc" timeout="20" cookieless="UseCookies" {_ID_MANAGER} />',
    "redis": (f'<sessionState mode="Custom" customProvider="redis" timeout="20" cookieless="UseCookies" '
              f'{_ID_MANAGER}>\n'
              '      <providers>\n'
              '        <add name="redis" type="ScgiMono.RedisSessionStateStore, ScgiMono" host="127.0.0.1" '
              f'port="{{port}}" database="0" keyPrefix="{REDIS_PREFIX}" />\n'
              '      </providers>\n'
              '    </sessionState>'),
}


class Redis:
    """The benchmark's own redis-server (Debian's): 127.0.0.1 on a free port, no RDB, no
    AOF, its own directory; never the system service. Stopped with the target."""

    def __init__(self, workdir):
        self.port = free_port()
        self.dir = os.path.join(workdir, "redis")
        os.makedirs(self.dir)
        self.proc = Proc("redis-server", [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                                          "--save", "", "--appendonly", "no", "--dir", self.dir,
                                          "--daemonize", "no"], os.path.join(self.dir, "redis.log"))
        wait_for(lambda: self.ping(), 20, "redis-server to answer", self.proc)

    def ping(self):
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def command(self, *args):
        """One command in the Redis protocol (RESP); the reply as str, int, list or None."""
        req = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            sock.sendall(req)
            return _resp_read(sock.makefile("rb"))

    def pids(self):
        return self.proc.pids() if self.proc.alive() else []

    def calls(self):
        """{command: calls} the server has run so far (INFO commandstats; those run inside Lua
        scripts included; INFO itself left out)."""
        info = self.command("INFO", "commandstats") or ""
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^cmdstat_(\S+?):calls=(\d+)", info, re.M)
                if m.group(1) != "info"}

    def stop(self):
        self.proc.stop(grace=10)


def _resp_read(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("redis: connection closed")
    kind, rest = line[:1], line[1:-2].decode("utf-8", "replace")
    if kind == b"+":
        return rest
    if kind == b"-":
        raise OSError("redis: " + rest)
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_resp_read(f) for _ in range(n)]
    raise OSError(f"redis: unexpected reply {line[:40]!r}")


def session_apps(workdir, pages, redis_port):
    """--app arguments of one application copy per session page, each with its <sessionState>."""
    out = []
    for name in pages:
        mode = PAGES[name].session
        dest = os.path.join(workdir, "app-" + mode)
        shutil.copytree(SESSION_APP, dest)
        path = os.path.join(dest, "web.config")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("SESSION_STATE", SESSION_STATE[mode].format(port=redis_port)))
        out += ["--app", f"/s-{mode}:{dest}"]
    return out


def session_request(port, page, sid, timeout):
    """One request to a session page, with the cookie of session sid if given:
    (status, body, the ASP.NET_SessionId the answer set or None)."""
    headers = {"Connection": "close"}
    if sid:
        headers["Cookie"] = f"ASP.NET_SessionId={sid}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(page.method, page.path, headers=headers)
        r = conn.getresponse()
        cookie = None
        for k, v in r.getheaders():
            m = re.match(r"ASP\.NET_SessionId=([^;]*)", v) if k.lower() == "set-cookie" else None
            if m:
                cookie = m.group(1)
        return r.status, r.read(), cookie
    finally:
        conn.close()


def check_session(port, page, redis, timeout):
    """None if the session page works, else what is wrong. Off: "0 -" and no session cookie.
    InProc and Redis: three requests of one new session answer 1, 2, 3 and its id; with Redis
    the session's key is in the benchmark's redis-server, with InProc it is not."""
    if page.session == "off":
        status, body, cookie = session_request(port, page, None, timeout)
        bad = check_body(page, status, body)
        if bad is None and cookie:
            bad = f"session state is off, yet a session cookie came: {cookie}"
        return bad
    sid = None
    for n in (1, 2, 3):
        status, body, cookie = session_request(port, page, sid, timeout)
        bad = check_body(page, status, body)
        if bad:
            return f"request {n} of a session: {bad}"
        if n == 1:
            if not cookie:
                return "a new session got no ASP.NET_SessionId cookie"
            sid = cookie
        elif cookie and cookie != sid:
            return f"request {n} of session {sid} got a new session id {cookie}"
        if body != f"{n} {sid}".encode():
            return f"request {n} of session {sid}: expected {n} and its id, got {body[:80]!r}"
    if redis is not None:
        keys = redis.command("KEYS", REDIS_PREFIX + "*") or []
        mine = [k for k in keys if sid in k]
        if page.session == "redis" and not mine:
            return f"no key of session {sid} in redis-server (keys: {keys[:5]})"
        if page.session == "inproc" and mine:
            return f"an InProc session is in redis-server: {mine[:3]}"
    return None


def check_page(port, page, target, timeout):
    """None if page answers right through port, else what is wrong."""
    if page.session:
        return check_session(port, page, getattr(target, "redis", None), timeout)
    status, body = http_request(port, page, timeout)
    return check_body(page, status, body)


# ---------------------------------------------------------------- building

def build_ceiling():
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(CEILING_BIN) and os.path.getmtime(CEILING_BIN) >= os.path.getmtime(CEILING_SRC):
        return
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", CEILING_BIN, CEILING_SRC],
                   check=True, timeout=120)


def build_pipeline():
    os.makedirs(OUT, exist_ok=True)
    if os.path.exists(PIPELINE_EXE) and os.path.getmtime(PIPELINE_EXE) >= os.path.getmtime(PIPELINE_SRC):
        return
    subprocess.run(["mcs", "-nologo", "-unsafe", "-optimize+", "-warnaserror", "-r:System.Web.dll",
                    "-out:" + PIPELINE_EXE, PIPELINE_SRC], check=True, timeout=300)


# ---------------------------------------------------------------- nginx

NGINX_CONF = """\
# nginx in front of the benchmark target {target}: the same for every target but
# for the *_pass lines. One worker process.
worker_processes 1;
daemon off;
pid nginx.pid;
error_log error.log warn;
worker_rlimit_nofile 8192;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path client_body;
    scgi_temp_path scgi_temp;
    proxy_temp_path proxy_temp;
    fastcgi_temp_path fastcgi_temp;
    uwsgi_temp_path uwsgi_temp;
    # the 1 MiB POST stays in memory; responses up to 256 KiB are buffered in memory
    client_max_body_size 16m;
    client_body_buffer_size 2m;
    scgi_buffers 16 16k;
    fastcgi_buffers 16 16k;
    proxy_buffers 16 16k;
    keepalive_requests 1000000;

    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {app};

        location / {{
{location}
        }}
    }}
}}
"""


def nginx_location(kind, backend_port):
    if kind == "scgi":
        return ("            include /etc/nginx/scgi_params;\n"
                f"            scgi_pass 127.0.0.1:{backend_port};")
    if kind == "fastcgi":
        return ("            include /etc/nginx/fastcgi_params;\n"
                "            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
                "            fastcgi_param PATH_INFO \"\";\n"
                f"            fastcgi_pass 127.0.0.1:{backend_port};")
    if kind == "http":
        return ("            proxy_set_header Host $host;\n"
                f"            proxy_pass http://127.0.0.1:{backend_port};")
    raise ValueError(kind)


class Nginx:
    def __init__(self, workdir, target, kind, backend_port):
        self.prefix = os.path.join(workdir, "nginx")
        os.makedirs(self.prefix)
        self.port = free_port()
        conf = NGINX_CONF.format(target=target, port=self.port, app=APP,
                                 location=nginx_location(kind, backend_port))
        self.conf = os.path.join(self.prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = Proc("nginx", [NGINX, "-e", os.path.join(self.prefix, "error.log"), "-p", self.prefix,
                                   "-c", self.conf], os.path.join(self.prefix, "stdout.log"))
        wait_for(lambda: port_open(self.port), 20, "nginx to listen", self.proc)

    def error_log(self):
        return read_text(os.path.join(self.prefix, "error.log"), 2000)

    def stop(self):
        self.proc.stop(signal.SIGQUIT, grace=10)


# ---------------------------------------------------------------- targets

class Target:
    """A server measured behind nginx. Subclasses set name, kind (the nginx pass),
    and start() (which sets self.proc and self.port)."""
    name = ""
    kind = ""
    role = ""
    pipeline = False

    def __init__(self, args):
        self.args = args
        self.proc = None
        self.port = None

    def missing(self):
        """None if it can run here, else why not (then it is skipped)."""
        return None

    def session_missing(self, page):
        """None if this target measures the session page, else why not (then it is skipped,
        not failed)."""
        return SESSIONS_ONLY_ON

    def start(self, workdir):
        raise NotImplementedError

    def pids(self):
        return self.proc.pids() if self.proc else []

    def aux_pids(self):
        """Processes besides the target's own whose CPU time a request costs (the redis-server)."""
        return []

    def log_text(self):
        return self.proc.log_text() if self.proc else ""

    def stop(self):
        if self.proc:
            self.proc.stop()


class ScgiMono(Target):
    """With session_pages, a server of its own for the session pages: one copy of
    bench/app_sessions per page (/s-off, /s-inproc, /s-redis), and the benchmark's own
    redis-server when session-redis is among them; bench/app is not served then."""
    name, kind, role = "scgi-mono", "scgi", "this server"

    def __init__(self, args, session_pages=None):
        super().__init__(args)
        self.session_pages = session_pages or []
        self.redis = None

    def missing(self):
        if not os.access(SERVER, os.X_OK):
            return f"{SERVER} is not built (./build.sh build)"
        return None

    def session_missing(self, page):
        if page.session == "redis" and not os.access(REDIS_SERVER, os.X_OK):
            return "redis-server is not installed (./build.sh bench installs it)"
        return None

    def start(self, workdir):
        self.port = free_port()
        if self.session_pages:
            if any(PAGES[p].session == "redis" for p in self.session_pages):
                self.redis = Redis(workdir)
            apps = session_apps(workdir, self.session_pages, self.redis.port if self.redis else 0)
        else:
            apps = ["--app", f"/:{APP}"]
        argv = [SERVER, "--listen", f"tcp:127.0.0.1:{self.port}"] + apps
        if self.args.scgi_threads:
            argv += ["--threads", str(self.args.scgi_threads)]
        self.proc = Proc(self.name, argv, os.path.join(workdir, "server.log"), cwd=workdir,
                         env=mono_env(self.args, SCGI_MONO_ALLOW_ROOT="1"))  # runs as the caller, root included
        wait_for(lambda: "ready:" in self.proc.log_text() and port_open(self.port), START_TIMEOUT,
                 "scgi-mono-server to be ready", self.proc)

    def aux_pids(self):
        return self.redis.pids() if self.redis else []

    def log_text(self):
        text = super().log_text()
        if self.redis:
            text += "\nredis-server: " + self.redis.proc.log_text()[-500:]
        return text

    def stop(self):
        super().stop()
        if self.redis:
            self.redis.stop()


class Ceiling(Target):
    name, kind, role = "ceiling", "scgi", "limit: nginx + SCGI, no application"

    def missing(self):
        if not shutil.which("gcc"):
            return "gcc is not installed"
        return None

    def start(self, workdir):
        build_ceiling()
        self.port = free_port()
        self.proc = Proc(self.name, [CEILING_BIN, "127.0.0.1", str(self.port), str(self.args.ceiling_threads)],
                         os.path.join(workdir, "ceiling.log"))
        wait_for(lambda: port_open(self.port), 10, "scgi_ceiling to listen", self.proc)


class FastCgiMono(Target):
    name, kind, role = "fastcgi-mono", "fastcgi", "peer: fastcgi-mono-server4"

    def missing(self):
        if not os.access(FASTCGI_MONO, os.X_OK):
            return "mono-fastcgi-server4 is not installed"
        return None

    def start(self, workdir):
        self.port = free_port()
        argv = [FASTCGI_MONO, f"--applications=/:{APP}", f"--socket=tcp:127.0.0.1:{self.port}",
                "--printlog", "--loglevels=Standard"]
        self.proc = Proc(self.name, argv, os.path.join(workdir, "fastcgi-mono.log"), cwd=workdir,
                         env=mono_env(self.args))
        wait_for(lambda: port_open(self.port), START_TIMEOUT, "fastcgi-mono-server4 to listen", self.proc)


APACHE_CONF = """\
# Apache 2.4 + mod_mono for the benchmark: Debian's modules, no system files.
ServerRoot "{dir}"
DefaultRuntimeDir "{dir}"
PidFile "{dir}/httpd.pid"
Mutex file:{dir} default
Listen 127.0.0.1:{port}
ServerName localhost
{user}
ErrorLog "{dir}/error.log"
LogLevel warn

LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
LoadModule mono_module {mods}/mod_mono.so
TypesConfig /etc/mime.types

# The event MPM (Debian's default MPM): 64 proxied connections wait for mod_mono's 20 active
# requests (MonoMaxActiveRequests) and hold workers meanwhile; keep MinSpareThreads (75) free.
StartServers 2
ThreadsPerChild 32
MaxRequestWorkers 256
KeepAlive On

DocumentRoot "{app}"
<Directory "{app}">
    Require all granted
</Directory>

# One mod-mono-server4 (ASP.NET 4.x) for the application; mod_mono starts it.
MonoServerPath default {mono_server}
MonoApplications default "/:{app}"
MonoUnixSocket default "{dir}/mod_mono_server"
# mod-mono-server4 runs as nobody (HOME=/nonexistent): give Mono a writable home
# and registry, or ASP.NET cannot store its machine key (view state MAC).
MonoSetEnv default "HOME={dir};MONO_SHARED_DIR={dir};MONO_REGISTRY_PATH={dir}/registry{gc}"
<Location "/">
    MonoSetServerAlias default
    SetHandler mono
</Location>
"""


class ModMono(Target):
    name, kind, role = "mod_mono", "http", "peer: Apache + mod_mono"

    def missing(self):
        for path, pkg in ((APACHE, "apache2"), (MOD_MONO, "libapache2-mod-mono"),
                          (MOD_MONO_SERVER, "mono-apache-server4")):
            if not os.path.exists(path):
                return f"{pkg} is not installed"
        return None

    def start(self, workdir):
        adir = os.path.join(workdir, "apache")
        os.makedirs(adir)
        # Apache's children and mod-mono-server4 run as nobody when we are root:
        # they create the socket and lock files here.
        os.chmod(adir, 0o1777)
        self.port = free_port()
        user = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
        gc = f";MONO_GC_PARAMS={self.args.mono_gc_params}" if self.args.mono_gc_params else ""
        conf = APACHE_CONF.format(dir=adir, port=self.port, user=user, mods=APACHE_MODULES, app=APP,
                                  mono_server=MOD_MONO_SERVER, gc=gc)
        path = os.path.join(adir, "httpd.conf")
        with open(path, "w") as f:
            f.write(conf)
        self.error_log = os.path.join(adir, "error.log")
        # mod-mono-server4 detaches (its own session): found by its socket path.
        self.proc = Proc(self.name, [APACHE, "-DFOREGROUND", "-f", path], os.path.join(adir, "stdout.log"),
                         cwd=adir, marker=os.path.join(adir, "mod_mono_server"))
        wait_for(lambda: port_open(self.port), START_TIMEOUT, "apache2 to listen", self.proc)

    def log_text(self):
        return super().log_text() + read_text(self.error_log)

    def stop(self):
        if self.proc:
            self.proc.stop(signal.SIGTERM, grace=20)


class Pipeline(Target):
    name, kind, role = "pipeline", None, "limit: ASP.NET in-process, no server"
    pipeline = True

    def missing(self):
        if not shutil.which("mcs"):
            return "mcs (mono-devel) is not installed"
        return None


TARGET_CLASSES = [ScgiMono, FastCgiMono, ModMono, Ceiling, Pipeline]
TARGET_NAMES = [c.name for c in TARGET_CLASSES]
PEERS = ["fastcgi-mono", "mod_mono"]


# ---------------------------------------------------------------- wrk

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"cannot read a wrk duration: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out):
    """The figures of one wrk --latency run."""
    r = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": 0, "non2xx": 0,
         "connect": 0, "read": 0, "write": 0, "timeout": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        if m:
            r[key] = parse_duration_ms(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["connect"], r["read"], r["write"], r["timeout"] = (int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    m = re.search(r"^session-check new (\d+) bad (\d+) checked (\d+)", out, re.M)
    if m:  # the session pages' script (SESSION_LUA)
        r["session_new"], r["session_bad"], r["session_checked"] = (int(x) for x in m.groups())
    if r["rps"] is None:
        raise ValueError("wrk printed no Requests/sec: " + out[-500:])
    return r


SESSION_LUA = """\
-- The session pages (bench/run.py): every wrk connection keeps ONE session, as a
-- returning user does. wrk's request() does not say which connection asks, so each
-- thread keeps a pool of the session ids whose last request has completed (the page
-- answers "n sessionid"): request() takes one from the pool (none yet: no cookie, and
-- the answer's new session joins the pool), response() gives it back. A connection has
-- one request in flight, so there are as many sessions as connections and no two
-- requests of one session run at once (no waiting on the session lock).
-- Checked on every answer: a session's counter goes up by exactly one.
pool, last = {}, {}
new_sessions, bad, checked = 0, 0, 0

request = function()
  local sid = table.remove(pool)
  if sid then
    return wrk.format(nil, nil, {["Cookie"] = "ASP.NET_SessionId=" .. sid})
  end
  return wrk.format()
end

response = function(status, headers, body)
  if status ~= 200 then return end  -- wrk counts it (non-2xx); its session is dropped
  local n, sid = string.match(body, "^(%d+) (%S+)$")
  n = tonumber(n)
  if not n then bad = bad + 1; return end
  checked = checked + 1
  if sid == "-" then  -- session state off: no session, no cookie
    if n ~= 0 then bad = bad + 1 end
    return
  end
  if last[sid] == nil then
    new_sessions = new_sessions + 1
    if n ~= 1 then bad = bad + 1 end
  elseif n ~= last[sid] + 1 then
    bad = bad + 1
  end
  last[sid] = n
  table.insert(pool, sid)
end

local threads = {}
function setup(thread) table.insert(threads, thread) end

function done(summary, latency, requests)
  local n, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    n = n + t:get("new_sessions"); b = b + t:get("bad"); c = c + t:get("checked")
  end
  io.write(string.format("session-check new %d bad %d checked %d\\n", n, b, c))
end
"""


def session_problem(page, w, conns):
    """None if a wrk pass on a session page kept one session per connection and every
    counter went up by one, else what went wrong."""
    if "session_bad" not in w:
        return "the session script printed no check"
    if w["session_bad"]:
        return f"{w['session_bad']} answers broke a session's counter (reset, skipped or garbled)"
    if w["session_checked"] == 0:
        return "no answer was checked"
    if page.session != "off" and w["session_new"] > conns + errors_of(w):
        return f"{w['session_new']} new sessions for {conns} connections: sessions were not kept"
    return None


def wrk_script(workdir, page):
    """A Lua script for a POST page (wrk.method/wrk.body) or a session page, else None."""
    if page.session:
        path = os.path.join(workdir, "session.lua")
        with open(path, "w") as f:
            f.write(SESSION_LUA)
        return path
    if page.method != "POST":
        return None
    path = os.path.join(workdir, f"{page.name}.lua")
    with open(path, "w") as f:
        f.write('-- the 1 MiB POST: the same body on every request\n'
                f'wrk.method = "{page.method}"\n'
                f'wrk.body = string.rep("abcdefghijklmnopqrstuvwxyz", {page.body_size // 26 + 1}):sub(1, {page.body_size})\n'
                'wrk.headers["Content-Type"] = "application/octet-stream"\n')
    return path


def run_wrk(port, page, conns, duration, script):
    # wrk takes whole seconds only ("-d2.0s" is refused)
    duration = max(1, int(round(duration)))
    argv = [WRK, f"-t{WRK_THREADS}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", f"{WRK_TIMEOUT}s"]
    if script:
        argv += ["-s", script]
    argv.append(f"http://127.0.0.1:{port}{page.path}")
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=duration + 60)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError(f"wrk exited with {p.returncode}: {out[-500:]}")
    return parse_wrk(out)


def pass_duration(opts, i):
    """Seconds of the i-th wrk pass: the later (latency) passes are half as long in quick mode."""
    if i > 0 and opts.quick:
        return max(1, opts.duration // 2)
    return opts.duration


def errors_of(w):
    return w["non2xx"] + w["connect"] + w["read"] + w["write"] + w["timeout"]


# ---------------------------------------------------------------- measuring

def say(*a):
    print(*a, file=sys.stderr, flush=True)


def measure_http(target, pages, opts, root):
    """Measures one target behind nginx. Returns {"pages": {page: result}, "error": str|None}.
    The session pages run on a second start of the target (ScgiMono with session_pages: the
    three session applications and a redis-server), after the other pages; a target that
    does not measure them marks them skipped."""
    res = {"role": target.role, "pages": {}, "error": None}
    why = target.missing()
    if why:
        res["error"] = "skipped: " + why
        return res
    base = [p for p in pages if not PAGES[p].session]
    sess = []
    for name in pages:
        if PAGES[name].session:
            why = target.session_missing(PAGES[name])
            if why:
                res["pages"][name] = {"skipped": why}
            else:
                sess.append(name)
    t0 = time.monotonic()
    if base:
        measure_group(target, base, opts, root, res, main=True)
    if sess and not res["error"]:
        starget = type(target)(opts, session_pages=sess)
        res["sessions"] = {}
        measure_group(starget, sess, opts, root, res["sessions"], main=False)
        res["pages"].update(res["sessions"].pop("pages"))
        if res["sessions"].get("error"):  # the session server failed: its pages say so
            for name in sess:
                res["pages"].setdefault(name, {}).setdefault("error", res["sessions"]["error"])
        if not base:
            for k in ("start_s", "log_tail", "rss_kb", "peak_rss_kb", "processes", "nginx_errors",
                      "nginx_error_sample"):
                if k in res["sessions"]:
                    res[k] = res["sessions"][k]
    res["wall_s"] = round(time.monotonic() - t0, 1)
    return res


def measure_group(target, pages, opts, root, res, main):
    """Starts target and nginx, measures pages, stops both; results into res (res["pages"],
    and res["error"] if the target failed)."""
    res.setdefault("pages", {})
    res.setdefault("error", None)
    workdir = tempfile.mkdtemp(prefix=target.name + ("-" if main else "-sessions-"), dir=root)
    os.chmod(workdir, 0o755)
    nginx = None
    t0 = time.monotonic()
    try:
        target.start(workdir)
        nginx = Nginx(workdir, target.name, target.kind, target.port)
        res["start_s"] = round(time.monotonic() - t0, 1)
        say(f"  {target.name}: listening (started in {res['start_s']} s)"
            + ("" if main else f" for the session pages ({', '.join(pages)})"))
        if not main and opts.warmup > 0:
            # The pages of one fresh server are compared with each other: warm the process as a
            # whole first (every page compiled and run for the warm-up time), or the first page
            # measured pays the process's own first seconds (seen: Off's p99 at 400 ms and its
            # req/s 30 % lower when measured first, not when measured second).
            for name in pages:
                page = PAGES[name]
                if check_page(nginx.port, page, target, FIRST_REQUEST_TIMEOUT) is None:
                    run_wrk(nginx.port, page, opts.connections[0], opts.warmup, wrk_script(workdir, page))
        for name in pages:
            page = PAGES[name]
            pr = {}
            res["pages"][name] = pr
            try:
                bad = check_page(nginx.port, page, target, FIRST_REQUEST_TIMEOUT)
                if bad:
                    raise RuntimeError("wrong answer: " + bad)
                script = wrk_script(workdir, page)
                if opts.warmup > 0:
                    run_wrk(nginx.port, page, opts.connections[0], opts.warmup, script)
                for i, conns in enumerate(opts.connections):
                    pids, npids, apids = target.pids(), nginx.proc.pids(), target.aux_pids()
                    cpu0, ncpu0, acpu0 = cpu_seconds(pids), cpu_seconds(npids), cpu_seconds(apids)
                    redis = getattr(target, "redis", None)
                    calls0 = redis.calls() if redis else None
                    w = run_wrk(nginx.port, page, conns, pass_duration(opts, i), script)
                    if redis and w["requests"]:  # Redis commands per request, and which
                        calls1 = redis.calls()
                        per = {k: (v - calls0.get(k, 0)) / w["requests"] for k, v in calls1.items()
                               if v > calls0.get(k, 0)}
                        w["redis_calls_per_request"] = sum(per.values())
                        w["redis_commands_per_request"] = {k: round(v, 3) for k, v in sorted(per.items())}
                    # CPU time per request of the target and of nginx during this pass
                    if w["requests"]:
                        w["cpu_us"] = (cpu_seconds(pids) - cpu0) * 1e6 / w["requests"]
                        w["nginx_cpu_us"] = (cpu_seconds(npids) - ncpu0) * 1e6 / w["requests"]
                        if apids:
                            w["aux_cpu_us"] = (cpu_seconds(apids) - acpu0) * 1e6 / w["requests"]
                    pr[f"c{conns}"] = w
                    say(f"  {target.name} {name} -c{conns}: {w['rps']:.0f} req/s, p50 {fmt_ms(w['p50_ms'])}, "
                        f"p99 {fmt_ms(w['p99_ms'])}, errors {errors_of(w)}")
                    if page.session:
                        bad = session_problem(page, w, conns)
                        if bad:
                            pr["after"] = f"-c{conns}: " + bad
                # the server must still answer right after the load
                bad = check_page(nginx.port, page, target, 60)
                if bad:
                    pr["after"] = "wrong answer after the load: " + bad
                pr["rss_kb"] = rss_kb(target.pids())
                if target.aux_pids():
                    pr["aux_rss_kb"] = rss_kb(target.aux_pids())
            except Exception as e:  # noqa: BLE001 - a failing page is reported, the run goes on
                pr["error"] = one_line(str(e))
                say(f"  {target.name} {name}: FAILED: {pr['error']}")
                if not target.proc or not target.proc.alive():
                    raise RuntimeError("the server died: " + one_line(target.log_text()[-600:]))
        res["rss_kb"] = rss_kb(target.pids())
        res["peak_rss_kb"] = sum(mem_kb(p, "VmHWM") for p in target.pids())
        res["processes"] = len(target.pids())
    except Exception as e:  # noqa: BLE001 - a failing target is reported, the run goes on
        res["error"] = one_line(str(e))
        say(f"  {target.name}: FAILED: {res['error']}")
    finally:
        if nginx:
            ng_err = [line for line in nginx.error_log().splitlines() if "[error]" in line or "[crit]" in line]
            if ng_err:
                res["nginx_errors"] = len(ng_err)
                res["nginx_error_sample"] = ng_err[:3]
            nginx.stop()
        log = target.log_text()
        target.stop()
        res["log_tail"] = log[-1500:]
        res["wall_s"] = round(time.monotonic() - t0, 1)


def measure_pipeline(pages, opts, root):
    res = {"role": Pipeline.role, "pages": {}, "error": None}
    why = Pipeline(opts).missing()
    if why:
        res["error"] = "skipped: " + why
        return res
    for name in pages:
        if PAGES[name].session:
            res["pages"][name] = {"skipped": SESSIONS_ONLY_ON}
    pages = [p for p in pages if not PAGES[p].session]
    if not pages:
        return res
    t0 = time.monotonic()
    try:
        build_pipeline()
        workdir = tempfile.mkdtemp(prefix="pipeline-", dir=root)
        # the runtime settings the server makes for its workers (README, "Mono settings the
        # server makes"), so that the limit runs the same runtime as the server
        env = mono_env(opts, MONO_PATH=OUT, MONO_THREADS_SUSPEND="preemptive")
        threads = opts.pipeline_threads or os.cpu_count()
        argv = ["mono", PIPELINE_EXE, "--app", APP, "--duration", str(opts.duration),
                "--warmup", str(max(opts.warmup, 1)), "--threads", str(threads), "--pages", ",".join(pages)]
        budget = 60 + len(pages) * (opts.duration + max(opts.warmup, 1) + 30)
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=workdir,
                           timeout=budget, start_new_session=True)
        out = p.stdout.decode("utf-8", "replace")
        res["threads"] = threads
        for line in out.splitlines():
            f = line.split()
            if f[:1] == ["result"] and len(f) >= 14:
                kv = dict(zip(f[2::2], f[3::2]))
                res["pages"][f[1]] = {"pipeline": {
                    "rps": float(kv["rps"]), "requests": int(kv["requests"]), "errors": int(kv["errors"]),
                    "p50_ms": float(kv["p50_ms"]), "p99_ms": float(kv["p99_ms"]),
                    "async": int(kv.get("async", 0)), "cpu_us": float(kv.get("cpu_us", 0))}}
                say(f"  pipeline {f[1]}: {float(kv['rps']):.0f} req/s on {threads} threads, errors {kv['errors']}")
            elif f[:1] == ["rss_kb"]:
                res["rss_kb"] = int(f[1])
        for name in pages:
            if name not in res["pages"]:
                res["pages"][name] = {"error": "no result: " + one_line(out[-600:])}
    except Exception as e:  # noqa: BLE001
        res["error"] = one_line(str(e))
    res["wall_s"] = round(time.monotonic() - t0, 1)
    return res


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError):
        return None


def mono_env(opts, **extra):
    """The environment of a Mono process: ours, plus MONO_GC_PARAMS if --mono-gc-params."""
    env = dict(os.environ, **extra)
    if getattr(opts, "mono_gc_params", None):
        env["MONO_GC_PARAMS"] = opts.mono_gc_params
    return env


def one_line(s):
    return " ".join(s.split())[:400]


# ---------------------------------------------------------------- report

def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v / 1000:.2f}s"
    if v >= 100:
        return f"{v:.0f}ms"
    if v >= 10:
        return f"{v:.1f}ms"
    return f"{v:.2f}ms"


def fmt_rps(v):
    return "-" if v is None else f"{v:,.0f}"


def main_pass(pr, opts):
    """The -c32 (first concurrency) figures of a page result, or the pipeline's."""
    if "pipeline" in pr:
        return pr["pipeline"]
    return pr.get(f"c{opts.connections[0]}")


def rps_of(results, target, page, opts):
    t = results.get(target)
    if not t or t.get("error"):
        return None
    pr = t["pages"].get(page)
    if not pr or pr.get("error") or pr.get("after"):
        return None
    m = main_pass(pr, opts)
    return m["rps"] if m else None


SESSION_MODES = [("off", "Off"), ("inproc", "InProc"), ("redis", "Redis")]


def session_cost(results, opts):
    """The cost of session state on scgi-mono, per mode measured (the first concurrency):
    {mode: {rps, p50_ms, p99_ms, cpu_us, redis_cpu_us, ratio_to_off, cost_us, cpu_cost_us}}, or
    None without a session page. cost_us = 1e6/rps - 1e6/rps(Off): the extra time per request
    of the whole machine at saturation (CPU time = cores x that); cpu_cost_us = the difference
    of the CPU time per request of scgi-mono plus the redis-server (idle but running in every
    mode), measured from /proc."""
    t = results.get("scgi-mono")
    if not t or t.get("error"):
        return None
    out = {}
    for mode, _ in SESSION_MODES:
        pr = t["pages"].get("session-" + mode)
        if not pr or pr.get("skipped"):
            continue
        m = None if pr.get("error") or pr.get("after") else main_pass(pr, opts)
        if not m or not m.get("rps"):
            out[mode] = {"error": pr.get("error") or pr.get("after") or "not measured"}
            continue
        out[mode] = {"rps": m["rps"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"], "cpu_us": m.get("cpu_us"),
                     "redis_cpu_us": m.get("aux_cpu_us"), "nginx_cpu_us": m.get("nginx_cpu_us"),
                     "redis_calls_per_request": m.get("redis_calls_per_request"),
                     "redis_commands_per_request": m.get("redis_commands_per_request")}
    if not out:
        return None
    off = out.get("off")
    for mode, v in out.items():
        if mode == "off" or "rps" not in v or not off or "rps" not in off:
            continue
        v["ratio_to_off"] = v["rps"] / off["rps"]
        v["cost_us"] = 1e6 / v["rps"] - 1e6 / off["rps"]
        if v.get("cpu_us") is not None and off.get("cpu_us") is not None:
            v["cpu_cost_us"] = (v["cpu_us"] + (v.get("redis_cpu_us") or 0)
                                - off["cpu_us"] - (off.get("redis_cpu_us") or 0))
    return out


def session_report(cost, c1):
    lines = [f"session state on scgi-mono: the same read-write page (Session[\"n\"] += 1), one session per "
             f"wrk connection, -c{c1}",
             "x Off = req/s / req/s of Off; +us/req = 1e6/req/s - 1e6/req/s of Off (time per request, "
             "whole machine at saturation); +CPU us = CPU per request of scgi-mono + redis-server minus Off's (both from /proc); cmds: Redis commands per request (inside Lua scripts included)"]
    hdr = (f"{'mode':<7} {'req/s':>8} {'p50':>8} {'p99':>8} {'CPU us':>7} {'redis us':>8} {'cmds':>5} "
           f"{'x Off':>7} {'+us/req':>8} {'+CPU us':>8}")
    lines += [hdr, "-" * len(hdr)]
    for mode, label in SESSION_MODES:
        v = cost.get(mode)
        if v is None:
            continue
        if "rps" not in v:
            lines.append(f"{label:<7} FAILED: {v['error'][:120]}")
            continue

        def num(x, f="%.0f"):
            return "-" if x is None else f % x
        lines.append(f"{label:<7} {fmt_rps(v['rps']):>8} {fmt_ms(v['p50_ms']):>8} {fmt_ms(v['p99_ms']):>8} "
                     f"{num(v.get('cpu_us')):>7} {num(v.get('redis_cpu_us')):>8} "
                     f"{num(v.get('redis_calls_per_request'), '%.1f'):>5} "
                     f"{num(v.get('ratio_to_off'), '%.2fx'):>7} {num(v.get('cost_us'), '%+.0f'):>8} "
                     f"{num(v.get('cpu_cost_us'), '%+.0f'):>8}")
    return lines


def report(results, pages, opts, machine, elapsed):
    lines = []
    c1 = opts.connections[0]
    others = opts.connections[1:]
    passes = ", ".join(f"-c{c} {pass_duration(opts, i)} s" for i, c in enumerate(opts.connections))
    lines.append(f"scgi-mono benchmark ({opts.mode}: wrk -t{WRK_THREADS}, {passes}, "
                 f"warm-up {opts.warmup:g} s; nginx 1 worker; pipeline on {results.get('pipeline', {}).get('threads', '-')} threads)")
    lines.append(f"machine: {machine['summary']}")
    if getattr(opts, "mono_gc_params", ""):
        lines.append(f"MONO_GC_PARAMS={opts.mono_gc_params} for every Mono process")
    if machine.get("load_before") is not None:
        lines.append(f"load average (1 min) before the run {machine['load_before']:.2f}, after "
                     f"{machine.get('load_after') or 0:.2f} (the benchmark's own load included)")
    lines.append("")
    pw = max([7] + [len(p) for p in pages])  # the page column
    hdr = f"{'target':<13} {'page':<{pw}} {'req/s':>8} {'p50':>8} {'p99':>8}"
    for c in others:
        hdr += f" {'req/s@' + str(c):>10} {'p50@' + str(c):>8} {'p99@' + str(c):>8}"
    hdr += f" {'errors':>7} {'CPU us':>7} {'nginx us':>8} {'RSS MiB':>8}"
    lines.append(f"{'':<{pw + 14}} {'-- -c' + str(c1) + ' --':^26}" + "".join(f" {'-- -c' + str(c) + ' --':^28}" for c in others))
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for tname in opts.targets:
        t = results.get(tname)
        if t is None:
            continue
        if t.get("error"):
            lines.append(f"{tname:<13} {'*':<{pw}} {t['error']}")
            continue
        first = True
        skipped = {}  # reason -> pages: one row each, after the measured pages
        for pname in pages:
            pr = t["pages"].get(pname, {"error": "not measured"})
            if pr.get("skipped"):
                skipped.setdefault(pr["skipped"], []).append(pname)
                continue
            label = tname if first else ""
            first = False
            if pr.get("error"):
                lines.append(f"{label:<13} {pname:<{pw}} FAILED: {pr['error'][:150]}")
                continue
            m = main_pass(pr, opts)
            row = f"{label:<13} {pname:<{pw}} {fmt_rps(m['rps']):>8} {fmt_ms(m['p50_ms']):>8} {fmt_ms(m['p99_ms']):>8}"
            errs = m.get("errors", 0) if "pipeline" in pr else errors_of(m)
            for c in others:
                w = pr.get(f"c{c}")
                if w:
                    row += f" {fmt_rps(w['rps']):>10} {fmt_ms(w['p50_ms']):>8} {fmt_ms(w['p99_ms']):>8}"
                    errs += errors_of(w)
                else:
                    row += f" {'-':>10} {'-':>8} {'-':>8}"
            rss = pr.get("rss_kb", t.get("rss_kb"))
            cpu, ncpu = m.get("cpu_us"), m.get("nginx_cpu_us")
            row += (f" {errs:>7} {('%.0f' % cpu) if cpu else '-':>7} {('%.0f' % ncpu) if ncpu else '-':>8}"
                    f" {rss / 1024 if rss else 0:>8.1f}")
            if pr.get("after"):
                row += "  " + pr["after"][:80]
            lines.append(row)
        for why, names in skipped.items():
            label = tname if first else ""
            first = False
            lines.append(f"{label:<13} {names[0] if len(names) == 1 else 'session-*':<{pw}} skipped: {why}")
    lines.append("")
    lines.append("errors: non-2xx responses + socket errors (connect, read, write, timeout > "
                 f"{WRK_TIMEOUT} s) over all passes; CPU us: CPU time (user + system) of the target's "
                 f"processes per request in the -c{c1} pass (pipeline: the whole process), nginx us: nginx's "
                 "in the same pass; RSS: resident memory "
                 "of the target's processes (Apache: all children and mod-mono-server4) right after the page's passes.")
    # per-target memory
    mem = []
    for tname in opts.targets:
        t = results.get(tname)
        if t and not t.get("error") and t.get("rss_kb"):
            extra = f", peak {t['peak_rss_kb'] / 1024:.1f} MiB" if t.get("peak_rss_kb") else ""
            if t.get("processes", 1) > 1:
                extra = extra.replace("peak", "sum of peaks")
            procs = f", {t['processes']} processes" if t.get("processes", 1) > 1 else ""
            mem.append(f"{tname} {t['rss_kb'] / 1024:.1f} MiB{extra}{procs}")
    if mem:
        lines.append("resident memory after the run: " + "; ".join(mem))
    lines.append("")

    # ratios
    if "scgi-mono" in opts.targets and any(not PAGES[p].session for p in pages):
        peers = [p for p in PEERS if p in opts.targets]
        hdr = f"{'page':<7} {'scgi-mono':>9}"
        for p in peers:
            hdr += f" {'x ' + p:>14}"
        hdr += f" {'ceiling':>9} {'pipeline':>9} {'combined':>9} {'% of combined':>14}"
        lines.append("scgi-mono requests/s (-c%d) against the peers and the limits; combined = "
                     "1 / (1/ceiling + 1/pipeline)" % c1)
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for pname in [p for p in pages if not PAGES[p].session]:
            s = rps_of(results, "scgi-mono", pname, opts)
            row = f"{pname:<7} {fmt_rps(s):>9}"
            for p in peers:
                v = rps_of(results, p, pname, opts)
                row += f" {('%.2fx' % (s / v)) if s and v else '-':>14}"
            c = rps_of(results, "ceiling", pname, opts)
            pl = rps_of(results, "pipeline", pname, opts)
            comb = 1.0 / (1.0 / c + 1.0 / pl) if c and pl else None
            row += f" {fmt_rps(c):>9} {fmt_rps(pl):>9} {fmt_rps(comb):>9}"
            row += f" {('%.1f%%' % (100.0 * s / comb)) if s and comb else '-':>14}"
            lines.append(row)
        lines.append("")
    cost = session_cost(results, opts)
    if cost:
        lines += session_report(cost, c1)
        lines.append("")
    walls = ", ".join(f"{t} {results[t]['wall_s']:.0f} s" for t in opts.targets
                      if t in results and results[t].get("wall_s") is not None)
    lines.append(f"total time {elapsed:.0f} s ({walls})" if walls else f"total time {elapsed:.0f} s")
    return "\n".join(lines)


def machine_info():
    def first(cmd):
        try:
            out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10).stdout
            return out.decode("utf-8", "replace").strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return "?"
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) // 1024
    except OSError:
        pass
    deb = "?"
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        pass
    info = {
        "cpu": cpu, "cores": os.cpu_count(), "memory_mib": mem, "kernel": platform.release(),
        "debian": deb, "mono": first(["mono", "--version"]), "nginx": first([NGINX, "-v"]),
        "wrk": first([WRK, "-v"]), "apache": first([APACHE, "-v"]) if os.path.exists(APACHE) else "-",
    }
    info["summary"] = (f"{cpu}, {info['cores']} cores, {mem} MiB, Linux {info['kernel']}, Debian {deb}, "
                       f"{info['mono'].split('(')[0].strip()}, {info['nginx'].replace('nginx version: ', '')}")
    return info


# ---------------------------------------------------------------- selftest

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {desc}", flush=True)
        if not cond:
            self.failed += 1
            for line in (diag or "").splitlines()[-15:]:
                print(f"#   {line}", flush=True)
        return cond

    def skip(self, desc, why):
        self.n += 1
        print(f"ok {self.n} - {desc} # SKIP {why}", flush=True)


WRK_SAMPLE = """\
Running 3s test @ http://127.0.0.1:1/hello.ashx
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   131.80ms   23.85ms   1.02s    82.82%
    Req/Sec   118.58     25.35   202.00     75.00%
  Latency Distribution
     50%  734.00us
     75%  146.30ms
     90%  154.11ms
     99%    1.50s
  710 requests in 3.01s, 147.69KB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 5
Requests/sec:    236.20
Transfer/sec:     49.13KB
"""


def selftest(opts, root):
    tap = Tap()
    t_start = time.monotonic()
    # the pure parts
    w = parse_wrk(WRK_SAMPLE)
    tap.ok(w["rps"] == 236.2 and abs(w["p50_ms"] - 0.734) < 1e-9 and w["p99_ms"] == 1500.0
           and w["requests"] == 710 and errors_of(w) == 15, "wrk output is parsed", repr(w))
    tap.ok(len(BIG_BODY) == 65536 and BIG_BODY.startswith(b"00000 abc") and BIG_BODY.endswith(b"\n"),
           "the expected 64 KiB body is 1024 lines of 64 bytes")

    # building the limits
    try:
        build_ceiling()
        tap.ok(os.access(CEILING_BIN, os.X_OK), "scgi_ceiling builds with -Wall -Wextra -Werror")
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "scgi_ceiling builds with -Wall -Wextra -Werror", str(e))
    if shutil.which("mcs"):
        try:
            build_pipeline()
            tap.ok(os.path.exists(PIPELINE_EXE), "pipeline.exe builds")
        except Exception as e:  # noqa: BLE001
            tap.ok(False, "pipeline.exe builds", str(e))
    else:
        tap.skip("pipeline.exe builds", "mcs is not installed")

    # each target behind nginx: one request per page, the answer checked
    have_wrk = os.access(WRK, os.X_OK)
    for cls in [ScgiMono, Ceiling, FastCgiMono, ModMono]:
        target = cls(opts)
        why = target.missing()
        if why:
            for name in BASE_PAGES:
                tap.skip(f"{target.name}: {name} through nginx", why)
            continue
        workdir = tempfile.mkdtemp(prefix=f"selftest-{target.name}-", dir=root)
        os.chmod(workdir, 0o755)
        nginx = None
        try:
            target.start(workdir)
            nginx = Nginx(workdir, target.name, target.kind, target.port)
            for name in BASE_PAGES:
                page = PAGES[name]
                try:
                    bad = check_page(nginx.port, page, target, FIRST_REQUEST_TIMEOUT)
                    tap.ok(bad is None, f"{target.name}: {name} through nginx ({page.what})",
                           f"{bad}\n{nginx.error_log()}\n{target.log_text()[-1500:]}")
                except Exception as e:  # noqa: BLE001
                    tap.ok(False, f"{target.name}: {name} through nginx ({page.what})",
                           f"{e}\n{nginx.error_log()}\n{target.log_text()[-1500:]}")
            if target.name == "ceiling":
                # the load generator and its POST script, one short run each
                if not have_wrk:
                    tap.skip("wrk runs a GET and the 1 MiB POST script", "wrk is not installed")
                else:
                    try:
                        g = run_wrk(nginx.port, PAGES["hello"], 4, 1, None)
                        p = run_wrk(nginx.port, PAGES["upload"], 4, 1, wrk_script(workdir, PAGES["upload"]))
                        tap.ok(g["requests"] > 0 and p["requests"] > 0 and errors_of(g) == 0 and errors_of(p) == 0,
                               "wrk runs a GET and the 1 MiB POST script", f"{g}\n{p}")
                    except Exception as e:  # noqa: BLE001
                        tap.ok(False, "wrk runs a GET and the 1 MiB POST script", str(e))
            tap.ok(len(target.pids()) >= 1 and rss_kb(target.pids()) > 0,
                   f"{target.name}: resident memory is readable")
        except Exception as e:  # noqa: BLE001
            tap.ok(False, f"{target.name}: starts behind nginx", f"{e}\n{target.log_text()[-1500:]}")
        finally:
            if nginx:
                nginx.stop()
            pids = target.pids()
            target.stop()
            left = [p for p in pids if pid_alive(p)]
            tap.ok(not left, f"{target.name}: every process is gone after stop", f"still running: {left}")

    selftest_sessions(tap, opts, root, have_wrk)

    # the pipeline tool: one in-memory request per page
    if shutil.which("mcs") and os.path.exists(PIPELINE_EXE):
        dump = tempfile.mkdtemp(prefix="selftest-pipeline-", dir=root)
        try:
            p = subprocess.run(["mono", PIPELINE_EXE, "--app", APP, "--dump", dump],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=dict(os.environ, MONO_PATH=OUT), timeout=120, start_new_session=True)
            out = p.stdout.decode("utf-8", "replace")
            for name in BASE_PAGES:
                m = re.search(rf"^dump {name} status (-?\d+)$", out, re.M)
                body = b""
                try:
                    with open(os.path.join(dump, name + ".body"), "rb") as f:
                        body = f.read()
                except OSError:
                    pass
                bad = check_body(PAGES[name], int(m.group(1)) if m else -1, body) if m else "no answer"
                tap.ok(bad is None, f"pipeline: {name} in-process ({PAGES[name].what})", f"{bad}\n{out[-1500:]}")
            # and the measuring loop, briefly
            p = subprocess.run(["mono", PIPELINE_EXE, "--app", APP, "--duration", "0.5", "--warmup", "0.2",
                                "--pages", "hello"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=dict(os.environ, MONO_PATH=OUT), timeout=120, start_new_session=True)
            out = p.stdout.decode("utf-8", "replace")
            tap.ok(p.returncode == 0 and re.search(r"^result hello rps [\d.]+ requests [1-9]\d* errors 0 ", out, re.M)
                   and re.search(r"^rss_kb [1-9]", out, re.M), "pipeline: the measuring loop runs", out[-1500:])
        except Exception as e:  # noqa: BLE001
            tap.ok(False, "pipeline: runs", str(e))
    else:
        for name in BASE_PAGES:
            tap.skip(f"pipeline: {name} in-process", "pipeline.exe is not built (mcs missing)")

    # the report with made-up results
    fake = {}
    for tname, base in (("scgi-mono", 1000.0), ("fastcgi-mono", 200.0), ("ceiling", 10000.0)):
        fake[tname] = {"pages": {"hello": {"c32": dict(parse_wrk(WRK_SAMPLE), rps=base, non2xx=0, connect=0,
                                                       read=0, write=0, timeout=0), "rss_kb": 1024}},
                       "error": None, "rss_kb": 1024}
    fake["mod_mono"] = {"pages": {}, "error": "skipped: not installed"}
    fake["pipeline"] = {"pages": {"hello": {"pipeline": {"rps": 2500.0, "p50_ms": 0.2, "p99_ms": 1.0,
                                                         "errors": 0, "requests": 1}}}, "error": None}
    ropts = argparse.Namespace(connections=[32], duration=1, warmup=0, mode="selftest", targets=TARGET_NAMES,
                               quick=False)
    text = report(fake, ["hello"], ropts, {"summary": "test"}, 0)
    # combined = 1/(1/10000 + 1/2500) = 2000; scgi-mono 1000 -> 50.0 %, 5.00x fastcgi
    tap.ok("50.0%" in text and "5.00x" in text and "skipped: not installed" in text,
           "the report computes ratios and the combined limit", text)
    # the session table: Off 1000 req/s, InProc 800 (+250 us, 0.80x), Redis 500 (+1000 us, 0.50x)
    for mode, rps, cpu, rcpu in (("off", 1000.0, 300.0, None), ("inproc", 800.0, 350.0, None),
                                 ("redis", 500.0, 420.0, 30.0)):
        w = dict(parse_wrk(WRK_SAMPLE), rps=rps, non2xx=0, connect=0, read=0, write=0, timeout=0, cpu_us=cpu)
        if rcpu is not None:
            w["aux_cpu_us"] = rcpu
        fake["scgi-mono"]["pages"]["session-" + mode] = {"c32": w, "rss_kb": 1024}
        fake["fastcgi-mono"]["pages"]["session-" + mode] = {"skipped": SESSIONS_ONLY_ON}
    text = report(fake, ["hello"] + SESSION_PAGES, ropts, {"summary": "test"}, 0)
    cost = session_cost(fake, ropts)
    tap.ok(cost and abs(cost["inproc"]["cost_us"] - 250) < 1e-6 and abs(cost["redis"]["cost_us"] - 1000) < 1e-6
           and abs(cost["redis"]["ratio_to_off"] - 0.5) < 1e-9 and abs(cost["redis"]["cpu_cost_us"] - 150) < 1e-6
           and re.search(r"^InProc .* 0\.80x +\+250 +\+50$", text, re.M)
           and re.search(r"^Redis .* 30 +- +0\.50x +\+1000 +\+150$", text, re.M)
           and re.search(r"^ +session-\* +skipped: " + re.escape(SESSIONS_ONLY_ON) + "$", text, re.M),
           "the report computes the cost of session state against Off", text)

    print(f"1..{tap.n}")
    print(f"# {tap.failed} failed, {time.monotonic() - t_start:.0f} s", flush=True)
    return 1 if tap.failed else 0


def selftest_sessions(tap, opts, root, have_wrk):
    """The session pages on scgi-mono: the server with the three session applications and
    the benchmark's redis-server, each page's answer checked (a session's counter goes up,
    Redis holds the Redis sessions), and one short wrk pass with the session script."""
    target = ScgiMono(opts, session_pages=SESSION_PAGES)
    why = target.missing() or target.session_missing(PAGES["session-redis"])
    if why:
        for name in SESSION_PAGES:
            tap.skip(f"scgi-mono: {name} through nginx", why)
        return
    workdir = tempfile.mkdtemp(prefix="selftest-sessions-", dir=root)
    os.chmod(workdir, 0o755)
    nginx = None
    pids = []
    try:
        target.start(workdir)
        tap.ok(target.redis is not None and target.redis.ping() and target.aux_pids(),
               "redis-server of the benchmark answers on 127.0.0.1", f"port {target.redis and target.redis.port}")
        nginx = Nginx(workdir, target.name, target.kind, target.port)
        for name in SESSION_PAGES:
            page = PAGES[name]
            try:
                bad = check_page(nginx.port, page, target, FIRST_REQUEST_TIMEOUT)
                tap.ok(bad is None, f"scgi-mono: {name} through nginx ({page.what})",
                       f"{bad}\n{nginx.error_log()}\n{target.log_text()[-1500:]}")
            except Exception as e:  # noqa: BLE001
                tap.ok(False, f"scgi-mono: {name} through nginx ({page.what})",
                       f"{e}\n{nginx.error_log()}\n{target.log_text()[-1500:]}")
        if not have_wrk:
            tap.skip("wrk keeps one session per connection", "wrk is not installed")
        else:
            for name in ("session-off", "session-redis"):
                page = PAGES[name]
                try:
                    w = run_wrk(nginx.port, page, 4, 1, wrk_script(workdir, page))
                    bad = session_problem(page, w, 4)
                    ok = (bad is None and w["requests"] > 0 and errors_of(w) == 0 and w["session_checked"] > 0
                          and (w["session_new"] == 0 if page.session == "off" else 1 <= w["session_new"] <= 4))
                    tap.ok(ok, f"wrk on {name}: one session per connection, every counter up by one", f"{bad}\n{w}")
                except Exception as e:  # noqa: BLE001
                    tap.ok(False, f"wrk on {name}: one session per connection, every counter up by one", str(e))
        pids = target.pids() + target.aux_pids()
    except Exception as e:  # noqa: BLE001
        tap.ok(False, "scgi-mono: starts with the session applications behind nginx",
               f"{e}\n{target.log_text()[-1500:]}")
    finally:
        if nginx:
            nginx.stop()
        pids = pids or (target.pids() + target.aux_pids())
        target.stop()
        left = [p for p in pids if pid_alive(p)]
        tap.ok(not left, "scgi-mono and redis-server of the session pages are gone after stop",
               f"still running: {left}")


# ---------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description="scgi-mono benchmark: this server against its peers and the limits")
    ap.add_argument("--quick", action="store_true", help="short passes (under 2 minutes in all)")
    ap.add_argument("--selftest", action="store_true", help="check the set-up (one request per page), print TAP")
    ap.add_argument("--pages", default=",".join(PAGE_ORDER), help="comma-separated: " + ",".join(PAGE_ORDER))
    ap.add_argument("--targets", default=",".join(TARGET_NAMES), help="comma-separated: " + ",".join(TARGET_NAMES))
    ap.add_argument("--duration", type=int, help="whole seconds of each measured wrk pass (quick 2, full 15)")
    ap.add_argument("--warmup", type=int, help="whole seconds of wrk warm-up per page (quick 1, full 3)")
    ap.add_argument("--connections", default="32,64",
                    help="wrk connections of each pass; the first is the main one (default 32,64)")
    ap.add_argument("--scgi-threads", type=int, default=0, help="scgi-mono-server --threads (default: its own)")
    ap.add_argument("--ceiling-threads", type=int, default=1, help="threads of the ceiling responder (default 1)")
    ap.add_argument("--pipeline-threads", type=int, default=0, help="pipeline threads (default: one per core)")
    ap.add_argument("--mono-gc-params", default="",
                    help="MONO_GC_PARAMS for every Mono process (scgi-mono, the peers, the pipeline), "
                         "e.g. nursery-size=64m (default: Mono's own)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories under build/bench/")
    opts = ap.parse_args(argv)
    opts.mode = "quick" if opts.quick else "full"
    if (opts.duration is not None or opts.warmup is not None or opts.pages != ",".join(PAGE_ORDER)
            or opts.targets != ",".join(TARGET_NAMES) or opts.connections != "32,64"):
        opts.mode += "-custom"  # not comparable with a plain run: its own results file
    if opts.duration is None:
        opts.duration = 2 if opts.quick else 15
    if opts.warmup is None:
        opts.warmup = 1 if opts.quick else 3
    opts.pages = [p.strip() for p in opts.pages.split(",") if p.strip()]
    opts.targets = [t.strip() for t in opts.targets.split(",") if t.strip()]
    try:
        opts.connections = [int(c) for c in opts.connections.split(",")]
    except ValueError:
        ap.error("--connections: a comma-separated list of numbers")
    for p in opts.pages:
        if p not in PAGES:
            ap.error(f"unknown page {p!r} (pages: {', '.join(PAGE_ORDER)})")
    for t in opts.targets:
        if t not in TARGET_NAMES:
            ap.error(f"unknown target {t!r} (targets: {', '.join(TARGET_NAMES)})")
    if opts.duration <= 0 or opts.warmup < 0 or not opts.connections or min(opts.connections) < WRK_THREADS:
        ap.error("bad --duration, --warmup or --connections")
    return opts


def on_signal(sig, frame):
    raise KeyboardInterrupt


def main(argv):
    opts = parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    root = tempfile.mkdtemp(prefix="run-", dir=OUT)
    os.chmod(root, 0o755)
    signal.signal(signal.SIGTERM, on_signal)
    rc = 0
    try:
        if opts.selftest:
            return selftest(opts, root)
        if not os.access(WRK, os.X_OK):
            say("wrk is not installed (./build.sh bench installs it)")
            return 1
        t0 = time.monotonic()
        machine = machine_info()
        say(f"machine: {machine['summary']}")
        machine["load_before"] = loadavg()
        if machine["load_before"] and machine["load_before"] > 0.5:
            say(f"warning: the machine is busy (load average {machine['load_before']:.2f}); figures will be noisy")
        results = {}
        for tname in opts.targets:
            say(f"{tname}:")
            if tname == "pipeline":
                results[tname] = measure_pipeline(opts.pages, opts, root)
            else:
                cls = next(c for c in TARGET_CLASSES if c.name == tname)
                results[tname] = measure_http(cls(opts), opts.pages, opts, root)
        elapsed = time.monotonic() - t0
        machine["load_after"] = loadavg()
        text = report(results, opts.pages, opts, machine, elapsed)
        print(text, flush=True)
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        data = {"mode": opts.mode, "duration": opts.duration, "warmup": opts.warmup,
                "mono_gc_params": opts.mono_gc_params, "scgi_threads": opts.scgi_threads,
                "connections": opts.connections, "pages": opts.pages, "machine": machine,
                "elapsed_s": round(elapsed, 1), "results": results,
                "session_cost": session_cost(results, opts), "report": text}
        for name in (f"results-{opts.mode}-{stamp}.json", f"latest-{opts.mode}.json"):
            with open(os.path.join(OUT, name), "w") as f:
                json.dump(data, f, indent=1)
        say(f"results: {os.path.join(OUT, f'results-{opts.mode}-{stamp}.json')}")
        if "scgi-mono" in results and (results["scgi-mono"].get("error")
                                       or any(p.get("error") for p in results["scgi-mono"]["pages"].values())):
            rc = 1
    except KeyboardInterrupt:
        say("interrupted")
        rc = 130
    finally:
        stop_all()
        if not opts.keep:
            shutil.rmtree(root, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
