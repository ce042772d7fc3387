"""Issue 10, warm-up: a new worker requests each application's `warmup` URLs
through its own request path before it accepts a connection, so that no user
waits for ASP.NET's compilation; a worker whose warm-up fails (4xx, 5xx, no
answer within warmup_timeout) is not put in service: the server does not
start (exit 1), a reload is abandoned and a replacement retried later while
the running workers keep serving, and the log says why.
The handlers are in tests/integration/apps/warmup/."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness
from common import check, conf_server, eq
from test_55_supervisor import Load

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "warmup")


def app_lines(warmup=None):
    return f"vpath = /\npath = {APP}\n" + (f"warmup = {warmup}\n" if warmup else "")


def warm_server(env, name, warmup, server="threads = 4\n", **kw):
    return conf_server(env, name, server=server, apps={"warm": app_lines(warmup)}, **kw)


def timed_get(port, path):
    t = time.monotonic()
    r = harness.request(port, "GET", path, timeout=60)
    return time.monotonic() - t, r


def test_warmup_compiles_before_the_first_user_request(env):
    cold = warm_server(env, "warm-cold.conf", None)
    warm = warm_server(env, "warm-warm.conf", "/page.aspx;/count.ashx")
    cold_s, r = timed_get(cold.port, "/page.aspx")
    eq(r.status, 200, "page.aspx without warm-up")
    warm_s, r = timed_get(warm.port, "/page.aspx")
    eq(r.status, 200, "page.aspx after warm-up")
    print(f"# first request of /page.aspx: {cold_s:.3f} s without warm-up, {warm_s:.3f} s with it")
    check(warm_s < cold_s / 2, f"the first user request did not pay for the compilation ({warm_s:.3f} s "
          f"with warm-up, {cold_s:.3f} s without)")
    # the warm-up ran through the real request path of the same process, first
    eq(harness.request(warm.port, "GET", "/count.ashx").text, "2 scgi-mono-warmup",
       "count.ashx: the warm-up was its first caller")
    log = warm.log_text()
    for url in ("/page.aspx", "/count.ashx"):
        check(re.search(rf"warm-up of warm: GET {re.escape(url)} 200 in \d+\.\d\d s", log),
              f"the log lists the warm-up of {url}: {log[-1500:]}")
    check(log.index("warm-up done") < log.index("ready:"), "ready only after the warm-up")
    check("warm-up" not in cold.log_text(), "no warm-up without the key")


def test_no_connection_is_accepted_before_the_warmup_is_done(env):
    """A client that connects while the worker warms up (a slow warm-up URL
    first) is answered only afterwards: the worker's count shows the warm-up's
    calls before the user's."""
    port = harness.free_port()
    conf = os.path.join(env.work.path, "warm-early.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n\n[app:warm]\n"
                          + app_lines("/count.ashx;/pid.ashx?sleep=3000;/count.ashx"))
    answers = []
    stop = threading.Event()

    def client():
        while not stop.is_set() and not answers:
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=60)
            except OSError:
                time.sleep(0.05)
                continue
            connected = time.monotonic()
            s.sendall(b"GET /count.ashx HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = harness.read_all(s)
            s.close()
            answers.append((connected, time.monotonic(), data.decode("latin-1")))

    t = threading.Thread(target=client, daemon=True)
    t.start()
    srv = env.server(["--config", conf], ready_port=port)
    t.join(60)
    stop.set()
    check(answers, "the early client got an answer")
    connected, answered, text = answers[0]
    body = text.split("\r\n\r\n", 1)[-1]
    print(f"# a client connected during the warm-up waited {answered - connected:.2f} s; got '{body}'")
    eq(body, "3 scgi-mono-warmup", "the early client's request ran after both warm-up calls")
    log = srv.log_text()
    check(re.search(r"GET /pid.ashx\?sleep=3000 200 in [3-9]\.\d\d s", log), "the slow warm-up URL is logged: " + log[-1500:])


def start_fails(env, name, warmup, needles):
    port = harness.free_port()
    conf = os.path.join(env.work.path, name)
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 2\n\n[app:warm]\n" + app_lines(warmup))
    t = time.monotonic()
    p = subprocess.run([harness.SERVER, "--config", conf], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TMPDIR=env.work.path))
    eq(p.returncode, 1, f"exit status when the warm-up fails ({warmup})")
    for n in needles:
        check(n in p.stderr, f"the log says '{n}': {p.stderr[-1500:]}")
    print(f"# warm-up {warmup}: exit 1 after {time.monotonic() - t:.1f} s")


def test_a_failing_warmup_url_makes_startup_exit_1_saying_why(env):
    start_fails(env, "warm-500.conf", "/page.aspx;/throw.ashx",
                ["warm-up of warm: GET /page.aspx 200",
                 "warm-up of warm failed: GET /throw.ashx -> 500 Internal Server Error "
                 "(warm-up test: this handler always throws)",
                 "exited with status 3 before it was ready",
                 "cannot start: a worker failed its warm-up"])
    start_fails(env, "warm-404.conf", "/no-such-page.aspx",
                ["warm-up of warm failed: GET /no-such-page.aspx -> 404 Not Found",
                 "cannot start: a worker failed its warm-up"])


def test_warmup_timeout(env):
    port = harness.free_port()
    conf = os.path.join(env.work.path, "warm-slow.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 2\nwarmup_timeout = 2\n\n[app:warm]\n"
                          + app_lines("/pid.ashx?sleep=20000"))
    t = time.monotonic()
    p = subprocess.run([harness.SERVER, "--config", conf], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TMPDIR=env.work.path))
    took = time.monotonic() - t
    eq(p.returncode, 1, "exit status when the warm-up times out")
    check("warm-up of warm failed: GET /pid.ashx?sleep=20000 -> no complete answer within warmup_timeout"
          in p.stderr, "the log says the warm-up timed out: " + p.stderr[-1500:])
    check(took < 15, f"given up at warmup_timeout, not after the request ({took:.1f} s)")
    print(f"# warmup_timeout = 2 with a 20 s warm-up URL: exit 1 after {took:.1f} s")


def test_a_reload_whose_warmup_fails_keeps_the_old_workers_serving(env):
    srv = warm_server(env, "warm-reload.conf", "/page.aspx")
    conf = os.path.join(env.work.path, "warm-reload.conf")
    good = open(conf).read()
    old = srv.worker_pid()
    load = Load(srv.port)
    time.sleep(1.0)
    open(conf, "w").write(good.replace("warmup = /page.aspx", "warmup = /page.aspx;/throw.ashx"))
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reload failed" in srv.log_text(), 90, "the reload to fail")
    time.sleep(2.0)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, int)]
    pids = {o for _, o in results if isinstance(o, int)}
    log = srv.log_text()
    print(f"# SIGHUP with a failing warm-up under load: {len(results)} requests, {len(errors)} failed")
    eq(errors, [], "requests failed while the new worker warmed up and failed")
    eq(pids, {old}, "every request was served by the old worker")
    eq(srv.worker_pids(), [old], "the old worker still serves, the new one is gone")
    check("warm-up of warm failed: GET /throw.ashx -> 500" in log, "the worker's reason is logged: " + log[-2000:])
    check("reload failed (a new worker failed its warm-up" in log, "the supervisor says why: " + log[-2000:])
    # a good configuration afterwards reloads as usual
    open(conf, "w").write(good)
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in srv.log_text(), 90, "the next reload")
    harness.wait_for(lambda: old not in srv.worker_pids(), 60, "the old worker to exit")
    eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "served after the good reload")


def test_a_recycled_worker_serves_on_while_its_replacement_fails_warmup(env):
    """max_requests condemns the worker; its replacements fail their warm-up
    (a gate closed by a marker file): the old worker keeps serving under load,
    retries back off; once the gate opens, a replacement serves and the old
    worker drains with nothing lost."""
    marker = os.path.join(env.work.path, "gate-closed")
    srv = warm_server(env, "warm-recycle.conf", f"/gate.ashx?closed={marker}",
                      server="threads = 4\nmax_requests = 40\n")
    old = srv.worker_pid()
    open(marker, "w").close()
    load = Load(srv.port, clients=2)
    harness.wait_for(lambda: srv.log_text().count("failed its warm-up: it was not put in service") >= 2, 60,
                     "two replacements to fail their warm-up")
    log = srv.log_text()
    check(re.search(rf"worker {old} recycled after \d+ requests", log), "the recycling is logged")
    check("1 running worker(s) keep serving" in log, "the log says the old worker keeps serving: " + log[-2000:])
    check("warm-up of warm failed: GET /gate.ashx" in log and "the gate is closed" in log,
          "the worker's reason is logged")
    delays = [float(d) for d in re.findall(r"not put in service; \d+ running worker\(s\) keep serving; "
                                           r"the next attempt in (\d+\.\d) s", log)]
    check(len(delays) >= 2 and delays[0] >= 1.0 and delays[1] >= 2 * delays[0] - 0.1,
          f"the retries back off: {delays}")
    mid = [o for _, o in load.results if isinstance(o, int)]
    check(mid and set(mid) == {old}, "the old worker served meanwhile")
    os.unlink(marker)
    harness.wait_for(lambda: old not in srv.worker_pids(), 90, "a replacement to serve and the old worker to exit")
    time.sleep(1.0)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, int)]
    pids = {o for _, o in results if isinstance(o, int)}
    print(f"# recycling with failing warm-ups: {len(results)} requests, {len(errors)} failed; retry delays {delays}")
    eq(errors, [], "requests failed")
    check(len(pids) >= 2, f"the replacement served too: {pids}")
    check(re.search(rf"worker {old} exited with status 0", srv.log_text()), "the old worker drained cleanly")
