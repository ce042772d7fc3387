"""systemd Type=notify (issue 10): the supervisor tells the service manager
READY=1 once its workers serve, RELOADING=1 and READY=1 around a SIGHUP
reload (done or refused), STOPPING=1 on SIGTERM, and WATCHDOG=1 every
WATCHDOG_USEC / 2. The test plays systemd: it binds the AF_UNIX datagram
socket named by NOTIFY_SOCKET and reads what arrives."""
import os
import shutil
import signal
import socket
import statistics
import threading
import time

import harness
from common import check, eq
from test_55_supervisor import APP


class NotifySocket:
    """The service manager's end: records (monotonic time, {key: value}) per
    datagram; on READY=1 it requests /pid.ashx at once (the workers must serve
    at that moment) and records the outcome."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.ready_checks = []  # outcome of the request sent on each READY=1
        self.port = None
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            t = time.monotonic()
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.msgs.append((t, fields))
            if fields.get("READY") == "1" and self.port:
                # sent at once, answered on a thread of its own (this one keeps
                # timing the datagrams)
                threading.Thread(target=self._check_ready, daemon=True).start()

    def _check_ready(self):
        try:
            out = harness.request(self.port, "GET", "/pid.ashx", timeout=30).status
        except Exception as e:  # noqa: BLE001 (the outcome is what is checked)
            out = f"{type(e).__name__}: {e}"
        with self.lock:
            self.ready_checks.append(out)

    def states(self):
        """The state messages in order (READY, RELOADING, STOPPING), watchdog pings left out."""
        with self.lock:
            return [k for _, f in self.msgs for k in ("READY", "RELOADING", "STOPPING") if f.get(k) == "1"]

    def find(self, key):
        with self.lock:
            return [(t, f) for t, f in self.msgs if f.get(key) == "1"]

    def statuses(self):
        with self.lock:
            return [f["STATUS"] for _, f in self.msgs if "STATUS" in f]

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def notify_server(env, name, server="threads = 2\n", extra_env=None, app=APP):
    path = os.path.join(env.work.path, name + ".notify")
    ns = NotifySocket(path)
    env.on_exit(ns.close)
    port = harness.free_port()
    ns.port = port
    conf = os.path.join(env.work.path, name + ".conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\n{server}\n[app:faults]\nvpath = /\npath = {app}\n")
    e = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="500000")
    e.pop("WATCHDOG_PID", None)
    e.update(extra_env or {})
    srv = env.server(["--config", conf], ready_port=port, env=e)
    return srv, ns, conf


def test_ready_reload_watchdog_stopping_in_order(env):
    srv, ns, conf = notify_server(env, "notify")
    harness.wait_for(lambda: ns.ready_checks, 30, "READY=1 and the request sent then")
    eq(ns.ready_checks[:1], [200], "a request sent at READY=1 is answered")
    t, ready = ns.find("READY")[0]
    eq(ready.get("MAINPID"), str(srv.proc.pid), "MAINPID is the supervisor")
    check("1 of 1 worker(s) serving" in ready.get("STATUS", ""), f"STATUS says how many serve: {ready}")
    check(any(s.startswith("starting") for s in ns.statuses()), f"a STATUS while starting: {ns.statuses()}")
    # the workers do not see the service manager's variables
    environ = open(f"/proc/{srv.worker_pid()}/environ", "rb").read().split(b"\0")
    check(not [v for v in environ if v.startswith((b"NOTIFY_SOCKET=", b"WATCHDOG_"))],
          "NOTIFY_SOCKET and WATCHDOG_* are not passed to the workers")

    # WATCHDOG=1 every WATCHDOG_USEC / 2 = 0.25 s
    time.sleep(2.0)
    pings = [t for t, _ in ns.find("WATCHDOG")]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    print(f"# {len(pings)} WATCHDOG=1 so far; median gap {statistics.median(gaps):.3f} s, max {max(gaps):.3f} s")
    check(len(pings) >= 8, f"WATCHDOG=1 repeatedly: {len(pings)}")
    check(0.2 <= statistics.median(gaps) <= 0.3, f"about every 0.25 s: {gaps}")
    check(max(gaps) < 0.45, f"never late past the 0.5 s limit: {max(gaps):.3f} s")

    # SIGHUP: RELOADING=1 (with MONOTONIC_USEC), READY=1 again once the new workers serve
    old = srv.worker_pid()
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: ns.states().count("READY") >= 2, 60, "READY=1 after the reload")
    eq(ns.states(), ["READY", "RELOADING", "READY"], "states around the reload")
    (_, rel), = ns.find("RELOADING")
    mono = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
    check(0 < mono - int(rel["MONOTONIC_USEC"]) < 120e6, f"MONOTONIC_USEC is CLOCK_MONOTONIC: {rel}")
    check("reloaded:" in srv.log_text(), "READY=1 came once the reload committed")
    harness.wait_for(lambda: old not in srv.worker_pids(), 30, "the old worker to exit")
    harness.wait_for(lambda: len(ns.ready_checks) >= 2, 30, "the request sent at the second READY=1")
    eq(ns.ready_checks[1:2], [200], "a request sent at the second READY=1 is answered")

    # a refused reload (bad configuration): RELOADING=1, then READY=1 again
    open(conf, "a").write("threads = many\n")
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: ns.states().count("READY") >= 3, 20, "READY=1 after the refused reload")
    eq(ns.states(), ["READY", "RELOADING", "READY", "RELOADING", "READY"], "states around the refused reload")
    check("configuration not reloaded" in srv.log_text(), "the refusal is logged")

    # the watchdog kept going through the reloads
    n = len(ns.find("WATCHDOG"))
    time.sleep(0.6)
    check(len(ns.find("WATCHDOG")) >= n + 2, "WATCHDOG=1 after the reloads")

    eq(srv.stop(), 0, "SIGTERM: exit 0")
    eq(ns.states()[-1], "STOPPING", "STOPPING=1 last")
    eq(ns.states().count("STOPPING"), 1, "STOPPING=1 once")
    t_stop = ns.find("STOPPING")[0][0]
    late = [t for t, _ in ns.find("READY") if t > t_stop]
    eq(late, [], "nothing READY after STOPPING")


def test_no_watchdog_when_watchdog_pid_is_another_process(env):
    # WATCHDOG_PID names the process the watchdog is meant for: here not the server
    srv, ns, _ = notify_server(env, "notify-pid", extra_env={"WATCHDOG_PID": "1"})
    harness.wait_for(lambda: ns.find("READY"), 10, "READY=1")
    time.sleep(1.0)
    eq(ns.find("WATCHDOG"), [], "no WATCHDOG=1 for another process's watchdog")
    eq(srv.stop(), 0, "exit 0")
    eq(ns.states(), ["READY", "STOPPING"], "states")


def test_an_application_change_is_no_reload_for_systemd(env):
    """A replacement after an application change (watch = true) keeps the
    service READY (systemd did not ask for a reload): only STATUS says so."""
    app = os.path.join(env.work.path, "notify-app")
    shutil.copytree(APP, app)
    srv, ns, _ = notify_server(env, "notify-change", app=app)
    harness.wait_for(lambda: ns.find("READY"), 30, "READY=1")
    old = srv.worker_pid()
    path = os.path.join(app, "web.config")
    text = open(path).read()
    open(path + ".tmp", "w").write(text.replace("<configuration>", "<configuration>\n  <!-- changed -->", 1))
    os.rename(path + ".tmp", path)
    harness.wait_for(lambda: "replaced:" in srv.log_text(), 60, "the replacement")
    harness.wait_for(lambda: old not in srv.worker_pids(), 30, "the old worker to exit")
    harness.wait_for(lambda: ns.statuses()[-1:] == ["1 of 1 worker(s) serving"], 10, "the status back to serving")
    eq(ns.states(), ["READY"], "no RELOADING for an application change")
    check(any(st.startswith("replacing the workers (application changed)") for st in ns.statuses()),
          f"STATUS said so: {ns.statuses()}")
    eq(srv.stop(), 0, "exit 0")
