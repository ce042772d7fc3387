"""Issue 11, the data behind the status page and the metrics (native/stats.c,
native/status_model.c): the workers' shared counters as the supervisor reports
them, read here through the status listener (/status.json and /metrics), and
the stats_interval lines of the error log. Under load the figures match what the clients counted; a slow
request is listed with its URI and running time while it runs; promtool
accepts the metrics; a worker killed under load counts as a crash restart and
the totals do not go backwards."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import harness
from common import Load, check, eq
from test_55_supervisor import APP

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")


def dump_server(env, name, server=""):
    port, sport = harness.free_port(), harness.free_port()
    dump = os.path.join(env.work.path, name + "-dump")
    os.makedirs(dump)
    conf = os.path.join(env.work.path, name + ".conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n"
                          f"status_listen = tcp:127.0.0.1:{sport}\n{server}\n"
                          f"[app:faults]\nvpath = /\npath = {APP}\n")
    srv = env.server(["--config", conf], ready_port=port)
    srv.dump, srv.status_port = dump, sport
    return srv


def fetch(srv, path):
    """The body of GET path from the status listener (200 asserted)."""
    out = harness.exchange(("127.0.0.1", srv.status_port), f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                           timeout=15)
    head, _, body = out.partition(b"\r\n\r\n")
    eq(head.split(b"\r\n")[0].split()[1], b"200", f"GET {path}")
    return body


def status(srv):
    return json.loads(fetch(srv, "/status.json"))


def metrics_file(srv):
    """/metrics saved under the test's directory (for promtool): its path."""
    path = os.path.join(srv.dump, "metrics")
    open(path, "wb").write(fetch(srv, "/metrics"))
    return path


def next_sample(srv, after):
    """The first status.json whose last sample was taken after `after` (unix time)."""
    found = []

    def fresh():
        d = status(srv)
        if d["history"]["end"] > after:
            found.append(d)
            return True
        return False
    harness.wait_for(fresh, 10, "a new sample")
    return found[0]


def promtool(path):
    r = subprocess.run(["promtool", "check", "metrics"], stdin=open(path, "rb"), capture_output=True, timeout=30)
    eq((r.returncode, r.stdout.decode() + r.stderr.decode()), (0, ""), f"promtool check metrics {path}")


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.M)
    check(m, f"{name}{labels} in the metrics:\n{text}")
    return float(m.group(1))


def within(actual, expected, what, tolerance=0.01):
    check(abs(actual - expected) <= max(1, expected * tolerance),
          f"{what}: {actual} is not within {tolerance:.0%} of {expected}")


def test_figures_under_load_match_the_clients(env):
    srv = dump_server(env, "sd-load", "stats_interval = 1\n")
    base = status(srv)["totals"]["requests"]
    slow_uri = "/slow.ashx?ms=4000&tag=%22x%22"
    slow_out = []
    slow = threading.Thread(target=lambda: slow_out.append(harness.request(srv.port, "GET", slow_uri, timeout=30)),
                            daemon=True)
    load = Load(srv.port, clients=4)
    slow.start()
    # the slow request is listed while it runs, with its URI, app and running time
    seen = []

    def listed():
        d = status(srv)
        rs = [r for r in d["requests"] if r["uri"] == slow_uri]
        if rs and rs[0]["running"] >= 1.0:
            seen.append((d, rs[0]))
            return True
        return False
    harness.wait_for(listed, 10, "the slow request in status.json's requests")
    d, r = seen[0]
    eq((r["app"], r["method"], r["worker"]), ("faults", "GET", srv.worker_pid()), "the slow request's fields")
    check(d["requests"][0]["running"] >= r["running"], "the slowest request first")
    check(d["totals"]["active"] >= 1, f"active requests while the slow one runs: {d['totals']}")
    time.sleep(2)
    results = load.finish()
    slow.join(30)
    eq([x.status for x in slow_out], [200], "the slow request")
    eq(load.errors(), [], "load errors")
    end = time.time()
    d = next_sample(srv, end + 1.2)  # and a whole idle second after it
    done = len(results) + 1  # the load and the slow request
    t = d["totals"]
    print(f"# {done} requests by the clients; status.json: {t['requests'] - base} requests, "
          f"responses {t['responses']}, rps history max {max(d['history']['rps']):.0f}, p50 "
          f"{max(x or 0 for x in d['history']['p50_ms']):.2f} ms, p99 {max(x or 0 for x in d['history']['p99_ms']):.2f} ms")
    within(t["requests"] - base, done, "answered requests")
    within(t["responses"]["2xx"] - base, done, "2xx responses")
    eq((t["responses"]["4xx"], t["responses"]["5xx"], t["lost"], t["active"], t["queue"]), (0, 0, 0, 0, 0),
       "4xx, 5xx, lost, active, queue after the load")
    check(max(d["history"]["rps"]) >= 20, f"history.rps moved: {d['history']['rps']}")
    check(any(p is not None and p > 0 for p in d["history"]["p99_ms"]), "a p99 latency in the history")
    check(d["history"]["p50_ms"][-1] is None, "no latency for the last (idle) second")
    eq([(w["state"], w["pid"], w["last_exit"]) for w in d["workers"]], [("ready", srv.worker_pid(), None)],
       "the workers")
    eq(d["server"]["apps"], [{"name": "faults", "vpath": "/", "path": APP}], "apps")

    # the metrics: accepted by promtool, the same counts
    mpath = metrics_file(srv)
    promtool(mpath)
    m = open(mpath).read()
    within(metric(m, "scgimono_requests_total", '{app="faults",code="2xx"}') - base, done, "requests_total 2xx")
    within(metric(m, "scgimono_request_duration_seconds_count", '{app="faults"}') - base, done, "histogram count")
    check(metric(m, "scgimono_request_duration_seconds_count", '{app="faults"}')
          - metric(m, "scgimono_request_duration_seconds_bucket", '{app="faults",le="2.5"}') >= 1,
          "the 4 s request above the 2.5 s bucket")
    eq(metric(m, "scgimono_workers", '{state="ready"}'), 1.0, "ready workers")
    check(metric(m, "scgimono_resident_memory_bytes", f'{{pid="{srv.worker_pid()}"}}') > 10e6, "worker RSS")

    # stats_interval = 1: one line a second; the last one's total is the JSON's
    # (the lines' own "N in" figures add up to it), and one shows the load's rate
    harness.wait_for(lambda: len(re.findall(r"statistics: ", srv.log_text())) >= 3
                     and int(re.findall(r"statistics: (\d+) requests", srv.log_text())[-1]) == t["requests"],
                     5, "a statistics line after the load")
    lines = re.findall(r"statistics: (\d+) requests \((\d+) in ([\d.]+) s, ([\d.]+)/s\); responses 1xx (\d+) "
                       r"2xx (\d+) 3xx (\d+) 4xx (\d+) 5xx (\d+); queue (\d+); busy (\d+); resident ([\d.]+) MiB "
                       r"in (\d+) worker\(s\); restarts (\d+)", srv.log_text())
    check(len(lines) >= 3, f"statistics lines:\n{srv.log_text()[-3000:]}")
    eq(sum(int(x[1]) for x in lines), int(lines[-1][0]), "the lines' new requests add up to the total")
    eq(sum(int(x[5]) for x in lines), t["responses"]["2xx"], "the lines' 2xx add up")
    check(max(float(x[3]) for x in lines) >= 20, "a line shows the load's rate")
    check(all(float(x[11]) > 10 for x in lines), "resident memory in every line")
    eq(sum(int(x[13]) for x in lines), 0, "restarts")


def test_a_crash_is_counted_and_the_totals_stay(env):
    srv = dump_server(env, "sd-crash")
    old = srv.worker_pid()
    for _ in range(20):
        eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "served")
    before = next_sample(srv, time.time())["totals"]["requests"]
    check(before >= 20, f"counted before the crash: {before}")
    os.kill(old, signal.SIGKILL)
    harness.wait_for(lambda: srv.worker_pids() and srv.worker_pids() != [old], 30, "a replacement")
    harness.wait_for(lambda: harness.request(srv.port, "GET", "/pid.ashx").status == 200, 30, "served again")
    d = next_sample(srv, time.time())
    t = d["totals"]
    eq(t["requests"], before + 1, "the totals keep the dead worker's requests")
    eq(t["restarts_by_reason"]["crash"], 1, "a crash restart")
    eq(t["restarts"], 1, "restarts")
    eq([(w["slot"], w["restarts"]) for w in d["workers"]], [(0, 1)], "the slot's restarts")
    check("signal 9" in d["workers"][0]["last_exit"], f"last_exit: {d['workers'][0]['last_exit']}")
    mpath = metrics_file(srv)
    promtool(mpath)
    m = open(mpath).read()
    eq(metric(m, "scgimono_worker_restarts_total", '{reason="crash"}'), 1.0, "restarts_total crash")
    eq(metric(m, "scgimono_worker_restarts_total", '{reason="hang"}'), 0.0, "restarts_total hang")


def test_recycling_is_counted_by_its_reason(env):
    """max_requests: the worker is replaced overlapped; the restart is counted
    as max_requests (not crash), its slot's last_exit says why, and every
    request stays in the totals."""
    srv = dump_server(env, "sd-recycle", "max_requests = 40\n")
    old = srv.worker_pid()
    n = 0
    for _ in range(120):
        eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "served")
        n += 1
        if status(srv)["totals"]["restarts"] >= 1:
            break
    harness.wait_for(lambda: status(srv)["totals"]["restarts"] >= 1, 30, "the recycling to be counted")
    d = next_sample(srv, time.time())
    t = d["totals"]
    eq(t["restarts_by_reason"]["max_requests"], t["restarts"], "restarts by reason")
    eq(t["restarts_by_reason"]["crash"], 0, "no crash")
    eq(t["requests"], n, "every request in the totals")
    check(old not in [w["pid"] for w in d["workers"]], f"the old worker is gone: {d['workers']}")
    eq([(w["slot"], w["restarts"]) for w in d["workers"]], [(0, 1)], "the replacement in the old one's slot")
    check("max_requests" in d["workers"][0]["last_exit"], f"last_exit: {d['workers']}")


def test_hostile_strings_make_valid_json_and_metrics(env):
    """The renderers' escaping, end to end: test_status_model --dump puts quotes,
    control characters and invalid UTF-8 in a URI and an application name."""
    exe = os.path.join(BUILD, "tests", "test_status_model")
    j = subprocess.run([exe, "--dump", "json"], capture_output=True, timeout=30, check=True).stdout
    d = json.loads(j.decode("utf-8"))  # strict: raw control characters or bad UTF-8 would fail
    eq(d["requests"][0]["uri"], '/\ufffd\ufffd"\\\n\x7f\ufffd\ufffd', "the URI, escaped and made valid")
    eq(d["server"]["apps"][0]["name"], 'h"\\\x01\ufffd(app)', "the application name")
    path = os.path.join(env.work.path, "hostile.metrics")
    open(path, "wb").write(subprocess.run([exe, "--dump", "metrics"], capture_output=True, timeout=30,
                                          check=True).stdout)
    promtool(path)
