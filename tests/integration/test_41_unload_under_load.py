"""Requests that reach an AppDomain ASP.NET is unloading are never lost and
never hang. Mono 6.8's HttpRuntime drops such a request without ending it
("Domain is unloading, not processing the request"); the host then runs it
again in a fresh AppDomain (managed/Host.cs Entry.Process, native/monohost.c
monohost_process). A worker started alone (build/scgi-mono-worker) keeps
ASP.NET's in-process restart: five web.config edits under load. Under the
supervisor, HttpRuntime.UnloadAppDomain from user code: test_57_app_changes."""
import http.client
import os
import re
import threading
import time

import harness
from common import check, eq


class KeepAliveLoad:
    """`clients` threads requesting `path` over plain HTTP keep-alive
    connections (as wrk does), each answer within `timeout` seconds:
    results are (monotonic time, (status, body)) or (time, "error text");
    `slowest` is the longest answer in seconds."""

    def __init__(self, port, path, clients=16, timeout=15):
        self.port, self.path, self.timeout = port, path, timeout
        self.results = []
        self.slowest = 0.0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        c = None
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                if c is None:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                c.request("GET", self.path)
                r = c.getresponse()
                out = (r.status, r.read())
                if (r.getheader("Connection") or "").lower() == "close":
                    c.close()
                    c = None
            except Exception as e:  # timeouts, resets, BadStatusLine...
                out = f"{type(e).__name__}: {e}"
                if c is not None:
                    c.close()
                c = None
            with self.lock:
                self.results.append((time.monotonic(), out))
                self.slowest = max(self.slowest, time.monotonic() - t0)
        if c is not None:
            c.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return self.results


def test_web_config_edits_under_load_lose_nothing(env):
    app = harness.copy_sample(env.work.path, "unload-load")
    port = harness.free_port()
    srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{app}", "--threads", "8"], ready_port=port,
                     exe=harness.WORKER)
    first = harness.request(port, "GET", "/echo.ashx").echo()["started"]
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "hello.ashx before the load")
    # 15 s per answer: a fresh domain and its first compilation take about
    # 0.3 s on an idle machine, up to ~5 s on a loaded one (the full suite).
    load = KeepAliveLoad(port, "/hello.ashx")
    edits = 5
    for i in range(edits):
        time.sleep(3)
        now = time.time() + i + 1
        os.utime(os.path.join(app, "web.config"), (now, now))
    time.sleep(3)
    results = load.finish()
    def gist(body):  # the exception of an ASP.NET error page, else the start of the body
        m = re.search(rb'class="exceptionMessage">(.*?)<', body, re.S) or re.search(rb"<title>(.*?)</title>", body, re.S)
        return (m.group(1) if m else body)[:300]

    failed = [(t, o if isinstance(o, str) else (o[0], gist(o[1]))) for t, o in results
              if isinstance(o, str) or o[0] != 200 or o[1] != b"Hello, World"]
    log = srv.log_text()
    unloads = log.count("AppDomain unloading (web.config")
    ready = log.count("AppDomain ready")
    print(f"# {edits} web.config edits 3 s apart, lone worker, 16 keep-alive clients: {len(results)} requests, "
          f"{len(failed)} failed or timed out; {unloads} unloads, {ready - 1} fresh AppDomains; "
          f"{log.count('requests that reached it go to a fresh one')} of them met requests that were run again; "
          f"slowest answer {load.slowest:.2f} s (the wait for a fresh domain and its first compilation)")
    check(len(results) > 1000, f"the load ran ({len(results)} requests)")
    # Known limit (issue 10's note): under heavy parallel load, a request ASP.NET
    # had already begun in the unloading domain can still end in a 500 from
    # ASP.NET's own teardown ('Value cannot be null.', ThreadAbortException).
    # Never a hang, a reset or a time-out; at most one such answer per unload.
    teardown = [f for f in failed if not isinstance(f[1], str) and f[1][0] == 500]
    if teardown:
        print(f"# known limit: {len(teardown)} request(s) begun in an unloading domain answered 500: {teardown[:3]}")
    eq([f for f in failed if f not in teardown][:5], [], "failed requests (errors, time-outs, non-500 statuses)")
    check(len(teardown) <= edits, f"500s from the unloading domains: {len(teardown)} for {edits} unloads")
    eq(unloads, edits, "each edit unloaded the AppDomain once, and the log says so: " + log[-3000:])
    eq(ready, edits + 1, "a fresh AppDomain was made after each unload")
    check("answered 503" not in log, "no request was given up on")
    # The last fresh domain serves (Application_Start ran again).
    now = harness.request(port, "GET", "/echo.ashx").echo()["started"]
    check(now != first, "a fresh AppDomain serves after the edits")
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "hello.ashx after the load")
