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
    def __init__(self, name, path, method, body_size, what):
        self.name, self.path, self.method, self.body_size, self.what = name, path, method, body_size, what


PAGES = {
    "hello": Page("hello", "/hello.ashx", "GET", 0, "one-line handler"),
    "page": Page("page", "/page.aspx", "GET", 0, "small WebForms page"),
    "big": Page("big", "/big.ashx", "GET", 0, "64 KiB response"),
    "upload": Page("upload", "/upload.ashx", "POST", UPLOAD_SIZE, "1 MiB POST"),
}
PAGE_ORDER = ["hello", "page", "big", "upload"]


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

    def start(self, workdir):
        raise NotImplementedError

    def pids(self):
        return self.proc.pids() if self.proc else []

    def log_text(self):
        return self.proc.log_text() if self.proc else ""

    def stop(self):
        if self.proc:
            self.proc.stop()


class ScgiMono(Target):
    name, kind, role = "scgi-mono", "scgi", "this server"

    def missing(self):
        if not os.access(SERVER, os.X_OK):
            return f"{SERVER} is not built (./build.sh build)"
        return None

    def start(self, workdir):
        self.port = free_port()
        argv = [SERVER, "--listen", f"tcp:127.0.0.1:{self.port}", "--app", f"/:{APP}"]
        if self.args.scgi_threads:
            argv += ["--threads", str(self.args.scgi_threads)]
        self.proc = Proc(self.name, argv, os.path.join(workdir, "server.log"), cwd=workdir,
                         env=mono_env(self.args))
        wait_for(lambda: "ready:" in self.proc.log_text() and port_open(self.port), START_TIMEOUT,
                 "scgi-mono-server to be ready", self.proc)


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
    if r["rps"] is None:
        raise ValueError("wrk printed no Requests/sec: " + out[-500:])
    return r


def wrk_script(workdir, page):
    """A Lua script for a POST page (wrk.method/wrk.body), else None."""
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
    """Measures one target behind nginx. Returns {"pages": {page: result}, "error": str|None}."""
    res = {"role": target.role, "pages": {}, "error": None}
    why = target.missing()
    if why:
        res["error"] = "skipped: " + why
        return res
    workdir = tempfile.mkdtemp(prefix=target.name + "-", dir=root)
    os.chmod(workdir, 0o755)
    nginx = None
    t0 = time.monotonic()
    try:
        target.start(workdir)
        nginx = Nginx(workdir, target.name, target.kind, target.port)
        res["start_s"] = round(time.monotonic() - t0, 1)
        say(f"  {target.name}: listening (started in {res['start_s']} s)")
        for name in pages:
            page = PAGES[name]
            pr = {}
            res["pages"][name] = pr
            try:
                status, body = http_request(nginx.port, page, FIRST_REQUEST_TIMEOUT)
                bad = check_body(page, status, body)
                if bad:
                    raise RuntimeError("wrong answer: " + bad)
                script = wrk_script(workdir, page)
                if opts.warmup > 0:
                    run_wrk(nginx.port, page, opts.connections[0], opts.warmup, script)
                for i, conns in enumerate(opts.connections):
                    pids, npids = target.pids(), nginx.proc.pids()
                    cpu0, ncpu0 = cpu_seconds(pids), cpu_seconds(npids)
                    w = run_wrk(nginx.port, page, conns, pass_duration(opts, i), script)
                    # CPU time per request of the target and of nginx during this pass
                    if w["requests"]:
                        w["cpu_us"] = (cpu_seconds(pids) - cpu0) * 1e6 / w["requests"]
                        w["nginx_cpu_us"] = (cpu_seconds(npids) - ncpu0) * 1e6 / w["requests"]
                    pr[f"c{conns}"] = w
                    say(f"  {target.name} {name} -c{conns}: {w['rps']:.0f} req/s, p50 {fmt_ms(w['p50_ms'])}, "
                        f"p99 {fmt_ms(w['p99_ms'])}, errors {errors_of(w)}")
                # the server must still answer right after the load
                status, body = http_request(nginx.port, page, 60)
                bad = check_body(page, status, body)
                if bad:
                    pr["after"] = "wrong answer after the load: " + bad
                pr["rss_kb"] = rss_kb(target.pids())
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
    return res


def measure_pipeline(pages, opts, root):
    res = {"role": Pipeline.role, "pages": {}, "error": None}
    why = Pipeline(opts).missing()
    if why:
        res["error"] = "skipped: " + why
        return res
    t0 = time.monotonic()
    try:
        build_pipeline()
        workdir = tempfile.mkdtemp(prefix="pipeline-", dir=root)
        env = mono_env(opts, MONO_PATH=OUT)
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
    hdr = f"{'target':<13} {'page':<7} {'req/s':>8} {'p50':>8} {'p99':>8}"
    for c in others:
        hdr += f" {'req/s@' + str(c):>10} {'p50@' + str(c):>8} {'p99@' + str(c):>8}"
    hdr += f" {'errors':>7} {'CPU us':>7} {'nginx us':>8} {'RSS MiB':>8}"
    lines.append(f"{'':<21} {'-- -c' + str(c1) + ' --':^26}" + "".join(f" {'-- -c' + str(c) + ' --':^28}" for c in others))
    lines.append(hdr)
    lines.append("-" * len(hdr))
    for tname in opts.targets:
        t = results.get(tname)
        if t is None:
            continue
        if t.get("error"):
            lines.append(f"{tname:<13} {'*':<7} {t['error']}")
            continue
        first = True
        for pname in pages:
            pr = t["pages"].get(pname, {"error": "not measured"})
            label = tname if first else ""
            first = False
            if pr.get("error"):
                lines.append(f"{label:<13} {pname:<7} FAILED: {pr['error'][:150]}")
                continue
            m = main_pass(pr, opts)
            row = f"{label:<13} {pname:<7} {fmt_rps(m['rps']):>8} {fmt_ms(m['p50_ms']):>8} {fmt_ms(m['p99_ms']):>8}"
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
    if "scgi-mono" in opts.targets:
        peers = [p for p in PEERS if p in opts.targets]
        hdr = f"{'page':<7} {'scgi-mono':>9}"
        for p in peers:
            hdr += f" {'x ' + p:>14}"
        hdr += f" {'ceiling':>9} {'pipeline':>9} {'combined':>9} {'% of combined':>14}"
        lines.append("scgi-mono requests/s (-c%d) against the peers and the limits; combined = "
                     "1 / (1/ceiling + 1/pipeline)" % c1)
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for pname in pages:
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
            for name in PAGE_ORDER:
                tap.skip(f"{target.name}: {name} through nginx", why)
            continue
        workdir = tempfile.mkdtemp(prefix=f"selftest-{target.name}-", dir=root)
        os.chmod(workdir, 0o755)
        nginx = None
        try:
            target.start(workdir)
            nginx = Nginx(workdir, target.name, target.kind, target.port)
            for name in PAGE_ORDER:
                page = PAGES[name]
                try:
                    status, body = http_request(nginx.port, page, FIRST_REQUEST_TIMEOUT)
                    bad = check_body(page, status, body)
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

    # the pipeline tool: one in-memory request per page
    if shutil.which("mcs") and os.path.exists(PIPELINE_EXE):
        dump = tempfile.mkdtemp(prefix="selftest-pipeline-", dir=root)
        try:
            p = subprocess.run(["mono", PIPELINE_EXE, "--app", APP, "--dump", dump],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=dict(os.environ, MONO_PATH=OUT), timeout=120, start_new_session=True)
            out = p.stdout.decode("utf-8", "replace")
            for name in PAGE_ORDER:
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
        for name in PAGE_ORDER:
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

    print(f"1..{tap.n}")
    print(f"# {tap.failed} failed, {time.monotonic() - t_start:.0f} s", flush=True)
    return 1 if tap.failed else 0


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
                "elapsed_s": round(elapsed, 1), "results": results, "report": text}
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
