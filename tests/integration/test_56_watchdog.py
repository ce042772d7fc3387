"""Issue 10: the supervisor's watchdog. A worker whose Mono runtime or event
loop stalls for hang_timeout is killed (SIGKILL) and replaced as after a crash
(Environment.Exit under Mono 6.8 leaves the process alive and silent); a
request past request_timeout gets its worker replaced overlapped (the others'
requests finish). Requests lost with a worker are counted in the log, and the
count is what the clients saw fail. Handlers: tests/integration/apps/faults/."""
import os
import signal
import re
import threading
import time

import harness
from common import check, eq
from test_55_supervisor import Load, faults_server, pid_of


def lost_in_log(srv, pid):
    m = re.search(rf"worker {pid} [^\n]*; lost (\d+) request\(s\) in progress", srv.log_text())
    return int(m.group(1)) if m else None


def background_request(port, path, out):
    def run():
        t = time.monotonic()
        try:
            r = harness.request(port, "GET", path, timeout=60)
            out.append((time.monotonic() - t, r.status, r.text))
        except Exception as e:  # the connection closed with the worker
            out.append((time.monotonic() - t, None, f"{type(e).__name__}: {e}"))
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_environment_exit_under_load_is_a_hang_the_watchdog_ends(env):
    hang = 3
    srv = faults_server(env, "wd-exit.conf", server=f"threads = 4\nhang_timeout = {hang}\n")
    old = srv.worker_pid()
    eq(pid_of(srv.port), old, "served by the first worker")
    load = Load(srv.port, clients=3)
    time.sleep(1.0)
    t0 = time.monotonic()
    exit_req = []
    th = background_request(srv.port, "/exit.ashx", exit_req)
    harness.wait_for(lambda: lost_in_log(srv, old) is not None, hang + 20, "the watchdog to kill the worker")
    harness.wait_for(lambda: any(isinstance(o, int) and o != old and t > t0 for t, o in load.results), 20,
                     "a new worker to serve under load")
    recovered = min(t for t, o in load.results if isinstance(o, int) and o != old and t > t0) - t0
    time.sleep(1.0)
    results = load.finish()
    th.join(30)
    errors = [o for _, o in results if not isinstance(o, int)]
    failed = len(errors) + sum(1 for _, status, _ in exit_req if status is None)
    lost = lost_in_log(srv, old)
    print(f"# Environment.Exit under load (hang_timeout = {hang}): served again {recovered:.2f} s after the "
          f"request; {len(results)} requests, {failed} failed (the Exit one included), {lost} lost per the log")
    eq(len(exit_req), 1, "the Exit request ended")
    eq(exit_req[0][1], None, "the Exit request is lost with its worker")
    eq([e for e in errors if e == "refused"], [], "connections refused")
    eq(lost, failed, "requests lost per the log vs. requests the clients saw fail")
    check(recovered < hang + 5, f"recovery took {recovered:.2f} s")
    log = srv.log_text()
    check(re.search(rf"worker {old} hangs: its Mono runtime made no progress", log), "the log names the reason")
    check(re.search(rf"worker {old} was killed by signal 9 \(Killed\)[^\n]*\(hang: ", log),
          "the exit line carries the reason")
    new = srv.worker_pid()
    check(new != old, "a new worker")
    eq(pid_of(srv.port), new, "the new worker serves")


def test_long_requests_are_not_hangs(env):
    """A request longer than hang_timeout, while the worker's loop and runtime
    go on, is served: the watchdog judges progress, not durations."""
    srv = faults_server(env, "wd-long.conf", server="threads = 2\nhang_timeout = 2\n")
    old = srv.worker_pid()
    r = harness.request(srv.port, "GET", "/pid.ashx?sleep=5000", timeout=30)
    eq(r.status, 200, "a 5 s request with hang_timeout = 2")
    eq(int(r.text), old, "served by the same worker")
    eq(srv.worker_pid(), old, "the worker was not replaced")
    check("hangs:" not in srv.log_text(), "no hang logged")


def test_request_timeout_replaces_the_worker_and_others_are_served(env):
    srv = faults_server(env, "wd-reqtime.conf",
                        server="threads = 4\nrequest_timeout = 3\nshutdown_timeout = 4\n")
    old = srv.worker_pid()
    eq(pid_of(srv.port), old, "served by the first worker")
    t0 = time.monotonic()
    hung, slow = [], []
    th_hang = background_request(srv.port, "/hang.ashx", hung)  # a deadlock: never ends by itself
    time.sleep(1.5)
    # on the old worker still; it must get its grace period when the old worker is drained
    th_slow = background_request(srv.port, "/pid.ashx?sleep=3000", slow)
    load = Load(srv.port, clients=2)
    harness.wait_for(lambda: lost_in_log(srv, old) is not None, 30, "the old worker to exit")
    th_hang.join(30)
    th_slow.join(30)
    time.sleep(0.5)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, int)]
    took = hung[0][0] if hung else None
    print(f"# request_timeout = 3: the hung request ended (connection closed) after {took:.2f} s; "
          f"{len(results)} other requests meanwhile, {len(errors)} failed; a slower one on the old worker: "
          f"{slow[0][1] if slow else None}")
    eq(errors, [], "other requests failed meanwhile")
    eq(len(hung), 1, "the hung request ended")
    eq(hung[0][1], None, "the hung request is lost (its connection closes)")
    eq(len(slow), 1, "the slow request ended")
    eq(slow[0][1], 200, "a request in progress on the replaced worker finished (grace period)")
    eq(int(slow[0][2]), old, "...on the old worker")
    eq(lost_in_log(srv, old), 1, "one request lost per the log")
    log = srv.log_text()
    check(re.search(rf"worker {old}: a request has run for [0-9.]+ s \(request_timeout\): starting a replacement",
                    log), "the log says why")
    new = srv.worker_pid()
    check(new != old, "a new worker")
    check(any(o == new for _, o in results), "the new worker served meanwhile")
    check(time.monotonic() - t0 < 20, "bounded")


def test_a_leaking_application_is_recycled_at_max_rss_losing_nothing(env):
    srv = faults_server(env, "wd-rss.conf", server="threads = 4\nmax_rss = 250\n")
    old = srv.worker_pid()
    with open(f"/proc/{old}/statm") as f:
        base = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
    load = Load(srv.port, clients=2)
    leaks = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and not re.search(rf"worker {old} exited", srv.log_text()):
        r = harness.request(srv.port, "GET", "/leak.ashx", timeout=30)
        leaks.append((r.status, r.text))
        time.sleep(0.2)
    r = harness.request(srv.port, "GET", "/leak.ashx", timeout=30)
    leaks.append((r.status, r.text))
    time.sleep(1.0)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, int)]
    new = srv.worker_pid()
    log = srv.log_text()
    took = time.monotonic() - t0
    print(f"# max_rss = 250 (worker at {base} MiB idle): recycled after {len(leaks)} leaking requests "
          f"({took:.1f} s); {len(results)} other requests meanwhile, {len(errors)} failed")
    check(re.search(rf"worker {old} recycled at \d+ MiB resident \(max_rss 250\)", log), "the log says why")
    check(re.search(rf"worker {old} exited with status 0", log), "the old worker exited cleanly")
    check(new != old, "a new worker")
    eq(errors, [], "requests failed during the recycle")
    eq([s for s, _ in leaks if s != 200], [], "leaking requests not answered 200")
    check(any(int(t) == new for _, t in leaks), "the new worker served the leaking handler too")
    check("lost" not in "".join(ln for ln in log.splitlines() if f"worker {old}" in ln), "nothing lost")


def test_max_requests_recycles_with_jitter(env):
    srv = faults_server(env, "wd-maxreq.conf", server="threads = 2\nmax_requests = 40\n")
    old = srv.worker_pid()
    pids = []
    for _ in range(60):
        pids.append(pid_of(srv.port))
        if re.search(rf"worker {old} exited", srv.log_text()):
            break
    harness.wait_for(lambda: re.search(rf"worker {old} exited with status 0", srv.log_text()), 20,
                     "the old worker to exit")
    m = re.search(rf"worker {old} recycled after (\d+) requests \(max_requests 40, (\d+) for this worker\)",
                  srv.log_text())
    check(m, "the log says why")
    n, limit = int(m.group(1)), int(m.group(2))
    check(40 <= limit <= 45, f"this worker's limit {limit}: 40 + a jitter of up to 40/8")
    check(n >= limit, f"recycled after {n} requests, limit {limit}")
    served_old = sum(1 for p in pids if p == old)
    check(served_old >= 40, f"the old worker served {served_old}")
    new = srv.worker_pid()
    check(new != old, "a new worker")
    eq(pid_of(srv.port), new, "the new worker serves")


def started_monotonic(pid):
    """time.monotonic() at which process pid started (from /proc: its start
    time since boot and the uptime now, 1/CLK_TCK resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    now = time.monotonic()
    return now - (uptime - start_ticks / os.sysconf("SC_CLK_TCK"))


def test_max_age_recycles_overlapped_under_load(env):
    age = 3
    srv = faults_server(env, "wd-maxage.conf", server=f"threads = 2\nmax_age = {age}\n")
    old = srv.worker_pid()
    born = started_monotonic(old)
    load = Load(srv.port, clients=2)
    harness.wait_for(lambda: any(isinstance(o, int) and o != old for _, o in load.results), 30,
                     "a new worker to serve")
    harness.wait_for(lambda: re.search(rf"worker {old} exited", srv.log_text()), 20, "the old worker to exit")
    time.sleep(0.5)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, int)]
    switched = min(t for t, o in results if isinstance(o, int) and o != old) - born
    last_old = max(t for t, o in results if o == old) - born
    log = srv.log_text()
    m = re.search(rf"worker {old} recycled at the age of ([0-9.]+) s \(max_age {age}, ([0-9.]+) s for this worker\)",
                  log)
    print(f"# max_age = {age}: {m.group(0) if m else None}; the new worker served {switched:.2f} s after the old "
          f"one started (last answer of the old one at {last_old:.2f} s); {len(results)} requests, "
          f"{len(errors)} failed")
    check(m, "the log says why")
    at, limit = float(m.group(1)), float(m.group(2))
    check(age <= limit <= age * 9 / 8 + 0.05, f"this worker's age limit {limit}: {age} + a jitter of up to 1/8")
    check(limit <= at <= limit + 1.0, f"recycled at {at} s, limit {limit}")
    check(age <= switched <= age * 9 / 8 + 8, f"the new worker served {switched:.2f} s after the old one started")
    eq(errors, [], "requests failed during the recycle")
    check(re.search(rf"worker {old} exited with status 0", log), "the old worker exited cleanly")
    check("lost" not in "".join(ln for ln in log.splitlines() if f"worker {old}" in ln), "nothing lost")


def test_a_worker_retired_by_sighup_that_does_not_exit_is_killed(env):
    """A worker retired by SIGHUP gets SIGTERM and shutdown_timeout for its
    requests; one that has still not exited shutdown_timeout + 5 s after the
    SIGTERM is killed (SIGKILL) and its lost requests are counted. A deadlocked
    request alone does not keep the worker alive (it stops after
    shutdown_timeout, losing that request), so the test also freezes the old
    worker (SIGSTOP) once it is retired: a worker that cannot exit by itself,
    as one stuck in the runtime's shutdown."""
    grace = 2
    srv = faults_server(env, "wd-hupkill.conf", server=f"threads = 2\nshutdown_timeout = {grace}\n")
    old = srv.worker_pid()
    hung = []
    th = background_request(srv.port, "/hang.ashx", hung)  # a deadlock: never ends by itself
    time.sleep(1.0)
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in srv.log_text(), 60, "the reload")
    t_term = time.monotonic()  # the old worker got SIGTERM when the reload committed
    os.kill(old, signal.SIGSTOP)
    harness.wait_for(lambda: lost_in_log(srv, old) is not None, grace + 5 + 10, "the old worker to be killed")
    took = time.monotonic() - t_term
    th.join(30)
    log = srv.log_text()
    print(f"# SIGHUP, a deadlocked request, the old worker frozen, shutdown_timeout = {grace}: killed "
          f"{took:.2f} s after the reload (expected {grace + 5} s)")
    check(re.search(rf"worker {old} still running {grace + 5} s after SIGTERM \(shutdown_timeout \+ 5 s\): "
                    rf"killing it \(SIGKILL\)", log), "the log says it is killed")
    check(re.search(rf"worker {old} was killed by signal 9 \(Killed\)[^\n]*still running {grace + 5} s after "
                    rf"SIGTERM\); lost 1 request\(s\) in progress", log), "the exit line counts the lost request")
    check(grace + 5 - 0.5 <= took <= grace + 5 + 3, f"killed {took:.2f} s after SIGTERM")
    eq(len(hung), 1, "the hung request ended")
    eq(hung[0][1], None, "the hung request is lost (its connection closes)")
    new = srv.worker_pid()
    check(new != old, "a new worker")
    eq(pid_of(srv.port), new, "the new worker serves")


def test_a_worker_that_hangs_while_it_drains_is_killed_at_hang_timeout(env):
    """Environment.Exit in a worker that is being replaced (SIGHUP) hangs it
    as in a serving one: the watchdog judges draining workers too, instead of
    waiting for shutdown_timeout + 5 s."""
    hang, grace = 3, 20
    srv = faults_server(env, "wd-drain-hang.conf",
                        server=f"threads = 4\nhang_timeout = {hang}\nshutdown_timeout = {grace}\n")
    old = srv.worker_pid()
    exit_req = []
    th = background_request(srv.port, "/exit.ashx?delay=3000", exit_req)
    time.sleep(0.5)
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in srv.log_text(), 30, "the reload")
    t0 = time.monotonic()
    harness.wait_for(lambda: re.search(rf"worker {old} (was killed|exited)", srv.log_text()), grace + 10,
                     "the old worker's end")
    took = time.monotonic() - t0
    th.join(30)
    line = [ln for ln in srv.log_text().splitlines() if re.search(rf"worker {old} (was killed|exited)", ln)][0]
    print(f"# Environment.Exit while draining (hang_timeout = {hang}, shutdown_timeout = {grace}): ended "
          f"{took:.1f} s after the reload: {line[-160:]}")
    check(re.search(rf"worker {old} hangs: ", srv.log_text()), "judged a hang")
    check("lost 1 request(s)" in line, f"the Exit request is counted lost: {line}")
    check(took < hang + 3 + 5, f"killed at hang_timeout, not after shutdown_timeout: {took:.1f} s")
    eq(exit_req[0][1], None, "the Exit request is lost")
    check(pid_of(srv.port) != old, "the new worker serves")
