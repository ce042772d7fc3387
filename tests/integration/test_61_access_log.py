"""Issue 11, logs: the access log (access_log, access_log_format). Each worker
writes one line per answered request through a buffer, appended to one file
that every worker shares; SIGUSR1 (logrotate) reopens it: the lines before the
signal are in the renamed file, the ones after in the new one, none lost or
doubled. The json format parses with Python's json, whatever bytes the client
sent."""
import json
import os
import re
import signal
import threading

import harness
from common import check, eq
from test_58_log_signals import file_log_server

COMBINED = re.compile(r'^(\S+) - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) '
                      r'"([^"]*)" "([^"]*)" (\d+) "([^"]*)" (\d+)$')


def run_load(port, prefix, total, clients=4):
    """`total` requests from `clients` threads, one connection each: even
    numbers to /pid.ashx (200), odd ones to a private path (404, answered
    before any application). Returns {marker: status}."""
    out, lock, errors = {}, threading.Lock(), []
    counter = iter(range(total))

    def run():
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            marker = f"{prefix}-{i}"
            path = f"/pid.ashx?m={marker}" if i % 2 == 0 else f"/bin/private.dll?m={marker}"
            try:
                r = harness.request(port, "GET", path, headers={"User-Agent": f"load/{prefix}"}, timeout=30)
                with lock:
                    out[marker] = r.status
            except OSError as e:
                errors.append(f"{marker}: {e}")

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    eq(errors, [], "request errors")
    return out


def parse_combined(path):
    lines = open(path, "rb").read().decode("ascii").split("\n")
    eq(lines[-1], "", "the file ends with a whole line")
    found = {}
    for line in lines[:-1]:
        m = COMBINED.match(line)
        check(m, f"a combined line: {line!r}")
        marker = re.search(r"[?&]m=([^& ]+)", m.group(3)).group(1)
        check(marker not in found, f"one line per request: {marker} twice")
        found[marker] = m
    return found


def test_one_line_per_request_across_a_rotation(env):
    alog = os.path.join(env.work.path, "access-rot.access.log")
    srv, errlog = file_log_server(env, "access-rot",
                                  f"workers = 2\nthreads = 4\naccess_log = {alog}\n")
    workers = srv.worker_pids()
    eq(len(workers), 2, "two workers")
    before = run_load(srv.port, "before", 1000)

    rotated = alog + ".1"
    os.rename(alog, rotated)
    srv.proc.send_signal(signal.SIGUSR1)
    harness.wait_for(lambda: os.path.exists(errlog) and all(
        re.search(rf"\[worker {p}\] notice: log file reopened", open(errlog).read()) for p in workers),
        10, "every worker to reopen its logs")
    check(os.path.exists(alog), "the access log is created again by the reopen")
    after = run_load(srv.port, "after", 1000)
    eq(srv.stop(), 0, "exit status")  # the last lines are written at exit

    old, new = parse_combined(rotated), parse_combined(alog)
    eq(sorted(old) == sorted(before), True, f"the renamed file holds exactly the requests before the signal "
       f"({len(old)} lines, {len(before)} requests)")
    eq(sorted(new) == sorted(after), True, f"the new file holds exactly the requests after it "
       f"({len(new)} lines, {len(after)} requests)")
    pids = set()
    for sent, found in ((before, old), (after, new)):
        for marker, status in sent.items():
            m = found[marker]
            eq(int(m.group(5)), status, f"{marker}: status")
            eq(status, 200 if int(marker.rsplit("-", 1)[1]) % 2 == 0 else 404, f"{marker}: expected status")
            eq(m.group(1), "127.0.0.1", "remote address")
            eq((m.group(2), m.group(4)), ("GET", "HTTP/1.1"), "method and protocol")
            eq(m.group(8), "load/" + marker.split("-")[0], "User-Agent")
            eq(m.group(10), "/" if status == 200 else "-", "application (none for a refused path)")
            if status == 200:
                check(m.group(6) != "-" and int(m.group(6)) > 0, f"bytes sent: {m.group(0)}")
            pids.add(int(m.group(11)))
    check(pids <= set(workers) and len(pids) == 2, f"the workers' pids: {pids} of {workers}")


def test_buffered_and_flushed_within_a_second(env):
    alog = os.path.join(env.work.path, "access-tick.access.log")
    srv, _ = file_log_server(env, "access-tick", f"workers = 1\nthreads = 2\naccess_log = {alog}\n")
    eq(harness.request(srv.port, "GET", "/pid.ashx?m=tick").status, 200, "request")
    harness.wait_for(lambda: "m=tick" in open(alog).read(), 3, "the line, by the loop's tick, within a second")


def test_json_lines_parse_whatever_the_client_sent(env):
    alog = os.path.join(env.work.path, "access-json.access.log")
    srv, _ = file_log_server(env, "access-json",
                             f"workers = 1\nthreads = 2\naccess_log = {alog}\naccess_log_format = json\n")
    eq(harness.request(srv.port, "GET", "/pid.ashx?m=plain", headers={"Referer": "http://x/", "User-Agent": "ua"}).status,
       200, "plain request")
    # SCGI carries any bytes: quotes, backslashes, newlines, invalid UTF-8
    ua = 'evil" \\ \n{"status":999}\n \x01 caf\u00e9'
    raw = harness.exchange(("127.0.0.1", srv.port), scgi_hostile(ua))
    check(raw.startswith(b"Status: 200") or raw.startswith(b"HTTP/1.1 200"), f"SCGI answer: {raw[:60]!r}")
    eq(srv.stop(), 0, "exit status")
    data = open(alog, "rb").read()
    lines = data.split(b"\n")
    eq(lines[-1], b"", "whole lines")
    eq(len(lines) - 1, 2, f"one line per request: {data!r}")
    # lines are in the order they were written, not the requests' (each
    # thread's lines go out with the loop's tick): find each by its query
    entries = sorted((json.loads(line.decode("utf-8")) for line in lines[:-1]), key=lambda e: e["uri"])
    hostile, plain = entries
    eq(plain["uri"], "/pid.ashx?m=plain", "uri")
    eq((plain["status"], plain["method"], plain["protocol"]), (200, "GET", "HTTP/1.1"), "status, method, protocol")
    eq((plain["referer"], plain["user_agent"], plain["app"]), ("http://x/", "ua", "/"), "referer, user agent, app")
    check(plain["bytes"] > 0 and plain["request_time_us"] > 0 and plain["pid"] > 0, f"numbers: {plain}")
    check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", plain["time"]), f"time: {plain['time']}")
    eq(hostile["user_agent"], ua, "hostile user agent, decoded back")
    eq(hostile["referer"], "\u00ff\u00fe", "invalid UTF-8 bytes, one \\u00XX each")
    eq(hostile["status"], 200, "the hostile request's status")


def scgi_hostile(ua):
    pairs = [("CONTENT_LENGTH", b"0"), ("SCGI", b"1"), ("REQUEST_METHOD", b"GET"),
             ("REQUEST_URI", b"/pid.ashx?m=hostile"), ("QUERY_STRING", b"m=hostile"),
             ("SERVER_PROTOCOL", b"HTTP/1.1"), ("SERVER_NAME", b"localhost"), ("SERVER_PORT", b"80"),
             ("REMOTE_ADDR", b"127.0.0.1"), ("REMOTE_PORT", b"40000"), ("HTTP_HOST", b"localhost"),
             ("HTTP_USER_AGENT", ua.encode("utf-8")), ("HTTP_REFERER", b"\xff\xfe")]
    block = b"".join(k.encode() + b"\0" + v + b"\0" for k, v in pairs)
    return str(len(block)).encode() + b":" + block + b","
