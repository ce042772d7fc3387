"""Integration harness: starts the real scgi-mono-server and real front ends
(nginx from Debian) on loopback, each with its own temporary directory, and
talks to them over real sockets. Everything is bounded in time."""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The suite runs as root and most tests do not test the account the workers
# run as: let them run as root (privs.h; test_64_ops tests the refusal).
os.environ.setdefault("SCGI_MONO_ALLOW_ROOT", "1")
SERVER = os.path.join(ROOT, "build", "scgi-mono-server")
WORKER = os.path.join(ROOT, "build", "scgi-mono-worker")
SAMPLE = os.path.join(ROOT, "samples", "hello")
NGINX_SAMPLE = os.path.join(ROOT, "samples", "nginx.conf")


class Skip(Exception):
    """Raised by a test that cannot run here (its message says why): run.py
    reports it as TAP "ok N - NAME # SKIP reason", not as a pass or failure."""


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def copy_sample(dest_parent, name, apache_status=None):
    """A private copy of samples/hello, optionally with MonoServerApacheStatus set."""
    dest = os.path.join(dest_parent, name)
    shutil.copytree(SAMPLE, dest)
    if apache_status is not None:
        path = os.path.join(dest, "web.config")
        text = open(path).read()
        text = text.replace("<appSettings>",
                            f'<appSettings>\n    <add key="MonoServerApacheStatus" value="{apache_status}" />', 1)
        open(path, "w").write(text)
    return dest


class Server:
    """scgi-mono-server running in the foreground of a child process."""

    def __init__(self, args, workdir, ready_port=None, ready_unix=None, env=None, stdin=None, preexec_fn=None,
                 pass_fds=(), wrap=(), tmp=None, exe=SERVER):
        n = len(os.listdir(workdir))
        self.log_path = os.path.join(workdir, f"server-{n}.log")
        self.log = open(self.log_path, "wb")
        # ASP.NET compiles pages under $TMPDIR/<user>-temp-aspnet-0/<hash of the
        # app's path>; two processes serving the same directory would share (and
        # race on) it, so every server gets a temporary directory of its own.
        # (`tmp`: a given one instead, e.g. shared with an earlier server.)
        if tmp is None:
            tmp = os.path.join(workdir, f"tmp-{n}")
            os.makedirs(tmp)
        self.tmp = tmp
        env = dict(env or os.environ, TMPDIR=tmp)
        self.proc = subprocess.Popen(list(wrap) + [exe] + args, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=workdir, env=env, stdin=stdin, preexec_fn=preexec_fn,
                                     pass_fds=pass_fds)
        self.port = ready_port

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}: {self.log_text()}")
            if ready_unix:
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(ready_unix)
                    return "ready:" in self.log_text()
                finally:
                    s.close()
            with socket.create_connection(("127.0.0.1", ready_port), timeout=1):
                return "ready:" in self.log_text()

        wait_for(ready, 60, "scgi-mono-server to listen")

    def worker_pids(self):
        """The worker processes (build/scgi-mono-worker) the supervisor runs now."""
        return worker_pids_of(self.proc.pid)

    def worker_pid(self):
        """The one worker process (the default, workers = 1)."""
        pids = self.worker_pids()
        if len(pids) != 1:
            raise AssertionError(f"expected one worker process, found {pids}")
        return pids[0]

    def status_kib(self, key):
        """A VmRSS/VmHWM-style figure of /proc/PID/status, in KiB, summed over
        the worker processes (the supervisor itself holds no requests)."""
        total, seen = 0, False
        for pid in self.worker_pids():
            try:
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
                        seen = True
            except OSError:
                pass  # exited meanwhile
        if not seen:
            raise AssertionError(f"{key} not in /proc/PID/status of the workers of {self.proc.pid}")
        return total

    def open_files(self):
        """Targets of the workers' open file descriptors."""
        out = []
        for pid in self.worker_pids():
            fd_dir = f"/proc/{pid}/fd"
            try:
                fds = os.listdir(fd_dir)
            except OSError:
                continue
            for fd in fds:
                try:
                    out.append(os.readlink(os.path.join(fd_dir, fd)))
                except OSError:
                    pass
        return out

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=40):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def worker_pids_of(supervisor_pid):
    """Children of supervisor_pid that run build/scgi-mono-worker."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open(f"/proc/{p}/stat").read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == supervisor_pid and os.readlink(f"/proc/{p}/exe") == WORKER:
                out.append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    return sorted(out)


class Daemon:
    """A front end (or php-fpm) run in the foreground under self.prefix: started
    by _start, ready once ready_check passes, stopped by its stop signal."""

    stop_signal = signal.SIGTERM
    name = "daemon"

    def _start(self, argv, ready_check, env=None):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env=env)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: " + self.error_log())
            return ready_check()

        wait_for(ready, 20, f"{self.name} to listen")

    def _tcp_ready(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    def error_log(self):
        try:
            return open(os.path.join(self.prefix, "error.log")).read()
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Nginx(Daemon):
    """nginx from Debian running samples/nginx.conf with the test's ports."""

    stop_signal = signal.SIGQUIT
    name = "nginx"

    def __init__(self, workdir, backend, port=None, sample=NGINX_SAMPLE, subst=None):
        # a directory of its own (a free port as its name could repeat)
        self.prefix = tempfile.mkdtemp(prefix="nginx-", dir=workdir)
        os.chmod(self.prefix, 0o755)  # its workers run as another user
        self.port = port or free_port()
        conf = open(sample).read()
        for old, new in (subst or {}).items():
            conf = _replace(conf, old, new)
        conf = conf.replace("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        conf = conf.replace("scgi_pass 127.0.0.1:8000;", f"scgi_pass {backend};")  # "unix:/path" too
        assert f"listen 127.0.0.1:{self.port};" in conf and f"scgi_pass {backend};" in conf
        self.conf = os.path.join(self.prefix, "nginx.conf")
        open(self.conf, "w").write(conf)
        self._start(["nginx", "-p", self.prefix, "-c", self.conf], self._tcp_ready)


APACHE_SAMPLE = os.path.join(ROOT, "samples", "apache2.conf")
LIGHTTPD_SAMPLE = os.path.join(ROOT, "samples", "lighttpd.conf")
APACHE_MODULES = "/usr/lib/apache2/modules"


def _replace(text, old, new):
    assert old in text, f"sample lost {old!r}"
    return text.replace(old, new)


class Apache(Daemon):
    """apache2 from Debian with samples/apache2.conf as its site, on the test's
    ports; backend "127.0.0.1:PORT" or "unix:/path" (the sample's commented
    UNIX line is used then)."""

    name = "apache2"

    def __init__(self, workdir, backend, port=None, sample=APACHE_SAMPLE, subst=None):
        # a directory of its own (a free port as its name could repeat)
        self.prefix = tempfile.mkdtemp(prefix="apache-", dir=workdir)
        os.chmod(self.prefix, 0o755)  # its workers run as another user
        self.port = port or free_port()
        site = _replace(open(sample).read(), "127.0.0.1:8080", f"127.0.0.1:{self.port}")
        for old, new in (subst or {}).items():
            site = _replace(site, old, new)
        if sample != APACHE_SAMPLE:
            site = _replace(site, "127.0.0.1:8000", backend)
        elif backend.startswith("unix:"):
            site = _replace(site, "    ProxyPass / scgi://127.0.0.1:8000/\n", "")
            site = _replace(site, "    #ProxyPass / unix:/run/scgi-mono/scgi.sock|",
                            f"    ProxyPass / {backend}|")
        else:
            site = _replace(site, "scgi://127.0.0.1:8000/", f"scgi://{backend}/")
        open(os.path.join(self.prefix, "site.conf"), "w").write(site)
        mods = ["mpm_event", "authz_core", "proxy", "proxy_scgi", "proxy_fcgi"]
        conf = "\n".join([f"ServerRoot {self.prefix}", f"DefaultRuntimeDir {self.prefix}",
                          f"PidFile {self.prefix}/httpd.pid", f"ErrorLog {self.prefix}/error.log",
                          "LogLevel warn", "User www-data", "Group www-data", "ServerName localhost"] +
                         [f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in mods] +
                         [f"Include {self.prefix}/site.conf", ""])
        self.conf = os.path.join(self.prefix, "httpd.conf")
        open(self.conf, "w").write(conf)
        self._start(["apache2", "-f", self.conf, "-DFOREGROUND"], self._tcp_ready)


class Lighttpd(Daemon):
    """lighttpd from Debian running samples/lighttpd.conf with the test's ports;
    backend "127.0.0.1:PORT", "unix:/path", or ("spawn", [server args]) for the
    sample's bin-path variant (lighttpd starts the server itself)."""

    name = "lighttpd"

    def __init__(self, workdir, backend, port=None, extra_env=None, sample=LIGHTTPD_SAMPLE, subst=None):
        # a directory of its own (a free port as its name could repeat)
        self.prefix = tempfile.mkdtemp(prefix="lighttpd-", dir=workdir)
        os.chmod(self.prefix, 0o755)  # its workers run as another user
        self.port = port or free_port()
        conf = open(sample).read()
        for old, new in (subst or {}).items():
            conf = _replace(conf, old, new)
        conf = _replace(conf, "server.port          = 8080", f"server.port          = {self.port}")
        conf = _replace(conf, '"/var/log/lighttpd/error.log"', f'"{self.prefix}/error.log"')
        conf = _replace(conf, '"/run/lighttpd.pid"', f'"{self.prefix}/lighttpd.pid"')
        if '"/var/www/html"' in conf:
            conf = _replace(conf, '"/var/www/html"', f'"{self.prefix}"')
        if isinstance(backend, tuple):
            _, args = backend
            start = conf.index("scgi.server = ( \"/\" => ((")
            end = conf.index(")))", start) + 3
            conf = conf[:start] + conf[end:]  # drop the TCP variant
            lines = conf.splitlines()
            first = lines.index("#scgi.server = ( \"/\" => ((")
            last = next(i for i in range(first, len(lines)) if lines[i] == "#)))")
            for i in range(first, last + 1):
                lines[i] = lines[i][1:]
            conf = "\n".join(lines) + "\n"
            conf = _replace(conf, '"/run/lighttpd/scgi-mono.sock"', f'"{self.prefix}/scgi-mono.sock"')
            conf = _replace(conf, '( "PATH", "HOME", "TMPDIR" )', '( "PATH", "HOME", "TMPDIR", "SCGI_MONO_ALLOW_ROOT" )')
            conf = _replace(conf, '"/usr/local/sbin/scgi-mono-server --config /etc/scgi-mono/scgi-mono.conf"',
                            '"' + " ".join([SERVER] + args) + '"')
        elif backend.startswith("unix:"):
            conf = _replace(conf, '    "host" => "127.0.0.1",\n    "port" => 8000,\n', "")
            conf = _replace(conf, '    #"socket" => "/run/scgi-mono/scgi.sock",', f'    "socket" => "{backend[5:]}",')
        else:
            host, port = backend.rsplit(":", 1)
            conf = _replace(conf, '"port" => 8000,', f'"port" => {port},')
        self.conf = os.path.join(self.prefix, "lighttpd.conf")
        open(self.conf, "w").write(conf)
        self._start(["lighttpd", "-D", "-f", self.conf], self._tcp_ready, env=dict(os.environ, **(extra_env or {})))


class PhpFpm(Daemon):
    """Debian's php-fpm with one pool on a UNIX socket, as its packaged pool
    (www-data, /run/php/php8.2-fpm.sock) but under the test's directory."""

    stop_signal = signal.SIGQUIT
    name = "php-fpm"

    def __init__(self, workdir):
        self.prefix = os.path.join(workdir, f"php-fpm-{free_port()}")
        os.makedirs(self.prefix)
        os.chmod(self.prefix, 0o755)
        self.sock = os.path.join(self.prefix, "php-fpm.sock")
        conf = os.path.join(self.prefix, "php-fpm.conf")
        open(conf, "w").write(f"[global]\npid = {self.prefix}/php-fpm.pid\nerror_log = {self.prefix}/error.log\n"
                              f"daemonize = no\n\n[www]\nuser = www-data\ngroup = www-data\n"
                              f"listen = {self.sock}\nlisten.mode = 0666\npm = static\npm.max_children = 4\n")
        binary = sorted(p for p in os.listdir("/usr/sbin") if p.startswith("php-fpm"))[-1]
        self._start([f"/usr/sbin/{binary}", "-F", "-R", "-y", conf], self._unix_ready)

    def _unix_ready(self):
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(self.sock)
            return True
        finally:
            s.close()


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def echo(self):
        """Parses echo.ashx's "key=value" lines into a dict."""
        out = {}
        for line in self.text.splitlines():
            k, _, v = line.partition("=")
            out[k] = v
        return out


def request(port, method, path, body=None, headers=None, host="127.0.0.1", timeout=60):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


def scgi_request(variables, body=b""):
    """Bytes of an SCGI request: CONTENT_LENGTH first, then SCGI=1, then the rest."""
    pairs = [("CONTENT_LENGTH", str(len(body))), ("SCGI", "1")] + list(variables)
    block = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    return str(len(block)).encode() + b":" + block + b"," + body


def read_all(sock):
    """Everything the peer sends until it closes the connection."""
    chunks = []
    while True:
        b = sock.recv(65536)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def exchange(address, data, timeout=60):
    """Sends raw bytes to a socket (a UNIX path or a (host, port) pair) and
    returns everything it answers until it closes."""
    fam = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(address)
        s.sendall(data)
        return read_all(s)


def scgi_get(address, path, extra=()):
    uri = path
    q = uri.split("?", 1)[1] if "?" in uri else ""
    variables = [("REQUEST_METHOD", "GET"), ("REQUEST_URI", uri), ("QUERY_STRING", q),
                 ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "localhost"), ("SERVER_PORT", "80"),
                 ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "40000"), ("HTTP_HOST", "localhost")]
    return exchange(address, scgi_request(variables + list(extra)))


def form_fields(html):
    """Hidden WebForms fields (__VIEWSTATE, __EVENTVALIDATION, ...) of a page."""
    fields = {}
    for m in re.finditer(r'<input[^>]*type="hidden"[^>]*>', html):
        tag = m.group(0)
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="scgi-mono-it-")
        # nginx's workers run as an unprivileged user: they must reach files here.
        os.chmod(self.path, 0o755)

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)
