"""Issue 12, load balancers and draining: the status listener's health checks
(/health/live, /health/ready) through a server's life (starting and warming
up, ready, a worker lost, draining, stopping); drain_delay (after SIGTERM the
server reports not ready while it keeps serving, then stops; a second SIGTERM
stops at once); the two samples parse (nginx -t, haproxy -c) and the nginx
upstream fails over to the server left; and a rolling
restart of two servers behind a real HAProxy (Debian's, httpchk on
/health/ready) under load loses no request."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness
from common import Load, check, eq
from test_59_systemd_notify import NotifySocket

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "warmup")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SAMPLES = os.path.join(harness.ROOT, "samples")


def write_conf(env, name, port, status_port, server="", warmup=None):
    conf = os.path.join(env.work.path, name)
    open(conf, "w").write(
        f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\nstatus_listen = tcp:127.0.0.1:{status_port}\n"
        f"{server}\n[app:warm]\nvpath = /\npath = {APP}\n" + (f"warmup = {warmup}\n" if warmup else ""))
    return conf


class Starting:
    """scgi-mono-server started without waiting for it to be ready (harness.Server
    waits), so that its start can be watched; stopped at the end of the run."""

    def __init__(self, env, conf, port, status_port):
        self.port, self.status_port = port, status_port
        n = len(os.listdir(env.work.path))
        self.log_path = os.path.join(env.work.path, f"server-{n}.log")
        self.log = open(self.log_path, "wb")
        tmp = os.path.join(env.work.path, f"tmp-{n}")
        os.makedirs(tmp)
        self.proc = subprocess.Popen([harness.SERVER, "--config", conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=env.work.path, env=dict(os.environ, TMPDIR=tmp))
        env.servers.append(self)
        env.on_exit(self.stop)

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        return open(self.log_path, "rb").read().decode("utf-8", "replace")

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


def health(status_port, path, method="GET", timeout=5):
    """(status, body) of a health check, or (None, error) if nothing answers."""
    try:
        out = harness.exchange(("127.0.0.1", status_port),
                               f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), timeout=timeout)
    except OSError as e:
        return None, str(e)
    head, _, body = out.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), body.decode("utf-8", "replace")
    except (IndexError, ValueError):
        return None, out.decode("latin-1")


def wait_health(status_port, want, timeout, what):
    seen = []

    def ok():
        r = health(status_port, "/health/ready")
        seen.append(r)
        return r == want
    try:
        harness.wait_for(ok, timeout, what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last answers: {seen[-3:]}")


def test_health_through_start_warmup_ready_and_a_lost_worker(env):
    port, sport = harness.free_port(), harness.free_port()
    # a warm-up of 3 s: the worker says it serves only after it
    conf = write_conf(env, "health.conf", port, sport, server="workers = 1\n", warmup="/pid.ashx?sleep=3000")
    srv = Starting(env, conf, port, sport)
    answers, states = [], set()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 90 and srv.proc.poll() is None:
        logged = "ready:" in srv.log_text()  # read before the question: the log may say it just after
        r = health(sport, "/health/ready")
        live = health(sport, "/health/live")
        code, body = health(sport, "/status.json")
        if code == 200:
            states.update(w["state"] for w in json.loads(body)["workers"])
        answers.append((time.monotonic() - t0, r, live, logged))
        if r[0] == 200:
            break
        time.sleep(0.05)
    check(srv.proc.poll() is None, f"the server runs: {srv.log_text()[-2000:]}")
    starting = [a for a in answers if a[1] == (503, "not ready: starting\n")]
    check(starting, f"/health/ready said 'not ready: starting' while the worker warmed up: {answers[:5]}")
    check(all(a[2] == (200, "live\n") for a in starting), f"/health/live is 200 meanwhile: {starting[:3]}")
    check(not any(a[3] for a in starting), "no 'starting' answer once the log said ready:")
    eq(answers[-1][1], (200, "ready\n"), "/health/ready once started")
    warm_s = starting[-1][0] - starting[0][0]
    print(f"# /health/ready: 503 starting for {warm_s:.1f} s ({len(starting)} checks), then 200 at "
          f"{answers[-1][0]:.1f} s after the start")
    check(warm_s >= 2.0, f"'not ready' lasted through the 3 s warm-up ({warm_s:.1f} s seen)")
    check("warm-up done" in srv.log_text(), "the warm-up ran")
    check("warming" in states, f"/status.json showed the worker 'warming' during its warm-up (seen: {states})")
    eq(harness.request(port, "GET", "/pid.ashx").status, 200, "the main port serves")
    # HEAD: the status, no body
    out = harness.exchange(("127.0.0.1", sport), b"HEAD /health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n"), f"HEAD /health/ready: {out!r}")
    eq(health(sport, "/health/nothing")[0], 404, "an unknown health path")
    # the only worker killed: not ready until its replacement warmed up
    worker = harness.worker_pids_of(srv.proc.pid)
    eq(len(worker), 1, "one worker")
    os.kill(worker[0], signal.SIGKILL)
    t1 = time.monotonic()
    wait_health(sport, (503, "not ready: no worker ready\n"), 10, "'no worker ready' after the worker was killed")
    eq(health(sport, "/health/live"), (200, "live\n"), "/health/live without workers")
    wait_health(sport, (200, "ready\n"), 60, "ready again once the replacement warmed up")
    out_s = time.monotonic() - t1
    print(f"# the only worker killed: not ready for {out_s:.1f} s (its replacement's warm-up: 3 s)")
    check(out_s >= 2.5, f"not ready through the replacement's warm-up ({out_s:.1f} s)")
    eq(srv.stop(), 0, "exit status")


def test_drain_delay_reports_not_ready_while_serving_then_stops(env):
    port, sport = harness.free_port(), harness.free_port()
    conf = write_conf(env, "drain.conf", port, sport, server="workers = 2\ndrain_delay = 3\n", warmup="/pid.ashx")
    # the test plays systemd too: STOPPING=1 at the start of the delay
    ns = NotifySocket(os.path.join(env.work.path, "drain.notify"))
    env.on_exit(ns.close)
    srv = env.server(["--config", conf], ready_port=port, env=dict(os.environ, NOTIFY_SOCKET=ns.path))
    eq(health(sport, "/health/ready"), (200, "ready\n"), "ready")
    harness.wait_for(lambda: ns.find("READY"), 10, "READY=1")
    load = Load(port, clients=3)
    time.sleep(1)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    wait_health(sport, (503, "not ready: draining\n"), 0.5, "503 draining at once after SIGTERM")
    first_503 = time.monotonic() - t0
    eq(health(sport, "/health/live"), (200, "live\n"), "/health/live while draining")
    harness.wait_for(lambda: ns.find("STOPPING"), 1, "STOPPING=1 at the start of the delay")
    stopping_at = ns.find("STOPPING")[0][0] - t0
    check(any(s.startswith("draining") for s in ns.statuses()), f"STATUS says draining: {ns.statuses()}")
    rc = srv.proc.wait(30)
    exit_s = time.monotonic() - t0
    results = load.finish()
    eq(rc, 0, "exit status after the drain")
    eq(ns.states(), ["READY", "STOPPING"], "systemd states")
    check(stopping_at < 0.5, f"STOPPING=1 at the start of the delay ({stopping_at:.2f} s after SIGTERM)")
    served = [t - t0 for t, o in results if isinstance(o, int) and t >= t0]
    early_errors = [o for t, o in results if isinstance(o, str) and t - t0 < 2.9]
    last_200 = max(served) if served else 0
    during = len([s for s in served if s < 3])
    print(f"# SIGTERM with drain_delay = 3: /health/ready 503 after {first_503 * 1000:.0f} ms, STOPPING=1 after "
          f"{stopping_at * 1000:.0f} ms; the main port "
          f"answered {during} requests with 200 during the delay, the last at {last_200:.2f} s; errors in the "
          f"delay: {len(early_errors)}; exit 0 after {exit_s:.2f} s")
    eq(early_errors, [], "errors at the main port during the drain")
    check(last_200 >= 2.7, f"the main port kept serving through the delay (last 200 at {last_200:.2f} s)")
    check(during >= 30, f"requests served during the delay: {during}")
    check(3.0 <= exit_s < 20, f"the stop came after the delay ({exit_s:.2f} s)")
    log = srv.log_text()
    check(re.search(r"draining \(SIGTERM\): /health/ready answers 503 for 3 s", log), f"the drain is logged: {log[-1500:]}")
    check("drain_delay (3 s) over: stopping" in log, "the end of the drain is logged")
    check(log.index("draining (SIGTERM)") < log.index("drain_delay (3 s) over") < log.index("stopped"),
          "drain, then stop, in that order")


def test_second_sigterm_cuts_the_drain(env):
    port, sport = harness.free_port(), harness.free_port()
    conf = write_conf(env, "drain-cut.conf", port, sport, server="drain_delay = 60\n")
    srv = env.server(["--config", conf], ready_port=port)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    wait_health(sport, (503, "not ready: draining\n"), 2, "draining")
    eq(harness.request(port, "GET", "/pid.ashx").status, 200, "served while draining")
    time.sleep(0.5)
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(30)
    took = time.monotonic() - t0
    print(f"# drain_delay = 60, a second SIGTERM after 0.5 s: exit {rc} after {took:.2f} s")
    eq(rc, 0, "exit status")
    check(took < 15, f"the second SIGTERM stopped at once ({took:.2f} s, not 60)")
    check(re.search(r"SIGTERM again while draining: stopping now \(\d+\.\d s of drain_delay skipped\)",
                    srv.log_text()), "the cut is logged")


def test_no_drain_delay_stops_at_once(env):
    port, sport = harness.free_port(), harness.free_port()
    conf = write_conf(env, "drain-none.conf", port, sport)
    srv = env.server(["--config", conf], ready_port=port)
    t0 = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(30)
    eq(rc, 0, "exit status")
    check(time.monotonic() - t0 < 10, "stopped without a delay")
    check("draining" not in srv.log_text(), "no drain without drain_delay")


def test_nginx_and_haproxy_samples_parse(env):
    if not os.access(HAPROXY, os.X_OK):
        raise harness.Skip("haproxy is not installed (apt-get install haproxy)")
    p = subprocess.run([HAPROXY, "-c", "-f", os.path.join(SAMPLES, "haproxy.cfg")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=30)
    eq((p.returncode, b"valid" in p.stdout), (0, True), f"haproxy -c samples/haproxy.cfg: {p.stdout.decode()}")
    prefix = os.path.join(env.work.path, "nginx-upstream")
    os.makedirs(prefix)
    conf = os.path.join(prefix, "nginx.conf")
    # the sample as it is, its relative paths under a temporary prefix
    shutil.copy(os.path.join(SAMPLES, "nginx-upstream.conf"), conf)
    p = subprocess.run([NGINX, "-t", "-p", prefix, "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    eq(p.returncode, 0, f"nginx -t samples/nginx-upstream.conf: {p.stdout.decode()}")
    text = open(os.path.join(SAMPLES, "nginx-upstream.conf")).read()
    check(re.search(r"^\s*scgi_next_upstream error timeout;", text, re.M), "nginx retries on error and timeout")
    check(len(re.findall(r"^\s*server 127\.0\.0\.1:\d+ max_fails=\d+ fail_timeout=\d+s;", text, re.M)) >= 2,
          "several servers with max_fails and fail_timeout")


def test_nginx_upstream_sample_fails_over(env):
    """samples/nginx-upstream.conf run with two servers: both serve; one
    stopped, every GET is answered by the other (scgi_next_upstream error)."""
    pa, pb = harness.free_port(), harness.free_port()
    servers = [env.server(["--config", write_conf(env, f"ngx-{i}.conf", p, harness.free_port(), warmup="/pid.ashx")],
                          ready_port=p) for i, p in enumerate((pa, pb))]
    line = "        server 127.0.0.1:{} max_fails=3 fail_timeout=10s;\n"
    ngx = env.nginx("scgi_mono", sample=os.path.join(SAMPLES, "nginx-upstream.conf"),
                    subst={line.format(8001): line.format(pa), line.format(8002): line.format(pb),
                           line.format(8003): ""})

    def pids(n):
        out = {}
        for _ in range(n):
            r = harness.request(ngx.port, "GET", "/pid.ashx")
            key = int(r.text) if r.status == 200 else f"status {r.status}"
            out[key] = out.get(key, 0) + 1
        return out
    before = pids(40)
    eq(sorted(before), sorted(srv.worker_pid() for srv in servers), "both servers answer through the upstream")
    survivor = servers[1].worker_pid()
    eq(servers[0].stop(), 0, "the first server stopped")
    after = pids(40)
    print(f"# nginx upstream of two servers: {before} before, {after} with the first one stopped")
    eq(after, {survivor: 40}, "every GET answered by the server left")


class HAProxy:
    """Debian's haproxy in the foreground (-db) with a configuration derived
    from samples/haproxy.cfg: its frontend and servers on the test's ports, and
    an admin socket to read the servers' states."""

    def __init__(self, env, servers):
        # a directory of its own: the suite's work directory is shared by every test
        self.dir = tempfile.mkdtemp(prefix="haproxy-", dir=env.work.path)
        self.port = harness.free_port()
        self.sock = os.path.join(self.dir, "admin.sock")
        text = open(os.path.join(SAMPLES, "haproxy.cfg")).read()
        text = re.sub(r"^(\s*)server web\d.*\n", "", text, flags=re.M)
        text = text.replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.port}")
        text = text.replace("    maxconn 4096\n", f"    maxconn 4096\n    stats socket {self.sock} level admin\n")
        text = text.replace("log stdout format raw local0 info", "log stdout format raw local0 notice")
        for name, (port, sport) in servers.items():
            text += f"    server {name} 127.0.0.1:{port} check port {sport}\n"
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        open(self.conf, "w").write(text)
        self.log_path = os.path.join(self.dir, "haproxy.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        env.on_exit(self.stop)
        harness.wait_for(lambda: os.path.exists(self.sock) and self._alive(), 20, "haproxy's admin socket")

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"haproxy exited: {open(self.log_path).read()[-2000:]}")
        return True

    def states(self):
        """{server name: "UP" | "DOWN" | ...} from "show stat"."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = harness.read_all(s).decode()
        finally:
            s.close()
        lines = data.splitlines()
        head = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            f = dict(zip(head, line.split(",")))
            if f.get("svname") not in (None, "FRONTEND", "BACKEND", ""):
                out[f["svname"]] = f.get("status", "").split(" ")[0]
        return out

    def wait_state(self, name, want, timeout):
        harness.wait_for(lambda: self.states().get(name) == want, timeout, f"haproxy to see {name} {want}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def test_rolling_restart_behind_haproxy_loses_nothing(env):
    if not os.access(HAPROXY, os.X_OK):
        raise harness.Skip("haproxy is not installed (apt-get install haproxy)")
    # HAProxy's check: inter 1s fall 2 (out within about 2 s); drain_delay 3 > 2
    ports = {name: (harness.free_port(), harness.free_port()) for name in ("a", "b")}
    confs = {name: write_conf(env, f"lb-{name}.conf", p, sp, server="workers = 1\ndrain_delay = 3\n",
                              warmup="/pid.ashx") for name, (p, sp) in ports.items()}
    servers = {name: env.server(["--config", confs[name]], ready_port=ports[name][0]) for name in ports}
    lb = HAProxy(env, ports)
    for name in ports:
        lb.wait_state(name, "UP", 20)
    load = Load(lb.port, clients=4)
    time.sleep(2)
    out = {}
    try:
        for name in ("a", "b"):
            old = servers[name]
            t0 = time.monotonic()
            old.proc.send_signal(signal.SIGTERM)
            lb.wait_state(name, "DOWN", 10)
            down_at = time.monotonic() - t0
            rc = old.proc.wait(30)
            eq(rc, 0, f"server {name}: exit status after its drain")
            stopped_at = time.monotonic() - t0
            check(down_at < 3.0, f"haproxy took {name} out before its drain_delay ended ({down_at:.2f} s)")
            servers[name] = env.server(["--config", confs[name]], ready_port=ports[name][0])
            lb.wait_state(name, "UP", 60)
            up_at = time.monotonic() - t0
            out[name] = (down_at, stopped_at, up_at)
            time.sleep(1)
        time.sleep(1)
    finally:
        results = load.finish()
    errors = [o for _, o in results if isinstance(o, str)]
    pids = {}
    for _, o in results:
        if isinstance(o, int):
            pids[o] = pids.get(o, 0) + 1
    for name, (down_at, stopped_at, up_at) in out.items():
        print(f"# server {name}: SIGTERM at 0; haproxy saw it DOWN at {down_at:.2f} s, it exited at "
              f"{stopped_at:.2f} s, restarted and UP again at {up_at:.2f} s (out of rotation {up_at - down_at:.1f} s)")
    print(f"# rolling restart behind haproxy: {len(results)} requests, {len(errors)} failed, "
          f"served by {len(pids)} worker processes {sorted(pids.values())}")
    eq(errors[:5], [], "failed requests at the client")
    check(len(results) >= 200, f"requests made: {len(results)}")
    check(len(pids) >= 4, f"both servers, before and after their restart, served (worker pids: {pids})")
