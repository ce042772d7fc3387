"""Issue 10: application changes (web.config, bin/*.dll, Global.asax) never
lose a request. The supervisor watches the application's files and replaces
the workers overlapped (ASP.NET's in-process AppDomain restart hangs a worker
under load on Mono 6.8, and is off under the supervisor). The application is
a copy of tests/integration/apps/changes/, edited by the tests."""
import os
import re
import shutil
import signal
import subprocess
import time

import harness
import common
from common import check, conf_server, eq

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "changes")


class Load(common.Load):
    """common.Load on /state.ashx: each answer is [pid, version, global, extra]."""

    def __init__(self, port, clients=4):
        super().__init__(port, clients, path="/state.ashx", parse=lambda r: r.text.split())

    def first(self, since, pred):
        """Time of the first answer after `since` whose state satisfies pred, or None."""
        with self.lock:
            return next((t for t, o in self.results if t > since and isinstance(o, list) and pred(o)), None)

    def wait(self, since, pred, what, timeout=30):
        harness.wait_for(lambda: self.first(since, pred) is not None, timeout, what)
        return self.first(since, pred) - since


def copy_app(env, name):
    dest = os.path.join(env.work.path, name)
    shutil.copytree(APP, dest)
    return dest


def changes_server(env, name, app, server="threads = 8\n"):
    return conf_server(env, name + ".conf", server=server, apps={"changes": f"vpath = /\npath = {app}\n"})


def set_version(app, version):
    path = os.path.join(app, "web.config")
    text = open(path).read()
    start = text.index('key="Version" value="') + len('key="Version" value="')
    end = text.index('"', start)
    # written as editors do: a new file renamed over the old one
    tmp = path + ".tmp"
    open(tmp, "w").write(text[:start] + str(version) + text[end:])
    os.rename(tmp, path)


def state(port):
    r = harness.request(port, "GET", "/state.ashx")
    eq(r.status, 200, "state.ashx")
    return r.text.split()


def extra_dll(env, value):
    """bin/Extra.dll with Extra.Marker.Value = value, compiled by mcs."""
    d = os.path.join(env.work.path, f"extra-{value}")
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "Extra.cs")
    open(src, "w").write('namespace Extra { public static class Marker { public static readonly string Value = "%s"; } }\n'
                         % value)
    out = os.path.join(d, "Extra.dll")
    subprocess.run(["mcs", "-nologo", "-target:library", "-out:" + out, src], check=True, timeout=120)
    return out


def test_web_config_edits_under_load(env):
    app = copy_app(env, "changes-webconfig")
    srv = changes_server(env, "changes-webconfig", app)
    first = state(srv.port)
    eq(first[1:], ["0", "global-0", "none"], "the first state")
    load = Load(srv.port)
    time.sleep(1.0)
    delays = []
    for version in range(1, 6):
        t0 = time.monotonic()
        set_version(app, version)
        delays.append(load.wait(t0, lambda o, v=str(version): o[1] == v, f"version {version} to be served"))
        time.sleep(max(0.0, 3.0 - (time.monotonic() - t0)))
    time.sleep(0.5)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, list)]
    log = srv.log_text()
    print(f"# 5 web.config edits 3 s apart under load: {len(results)} requests, {len(errors)} failed; "
          f"edit to new content served: {', '.join(f'{d:.2f}' for d in delays)} s")
    eq(errors, [], "requests failed across the edits")
    eq(log.count("application changes changed (web.config"), 5, "each change logged once")
    check("AppDomain unloading" not in log, "no in-process AppDomain unload: " + log[-3000:])
    pids = {o[0] for _, o in results}
    check(len(pids) >= 6, f"every edit served by new workers: {pids}")


def test_new_dll_in_bin_and_global_asax_under_load(env):
    one, two = extra_dll(env, "one"), extra_dll(env, "two")
    app = copy_app(env, "changes-bin")
    os.makedirs(os.path.join(app, "bin"))
    shutil.copy(one, os.path.join(app, "bin", "Extra.dll"))
    srv = changes_server(env, "changes-bin", app)
    eq(state(srv.port)[2:], ["global-0", "one"], "Global.asax and bin/Extra.dll as started")
    load = Load(srv.port)
    time.sleep(1.0)
    t0 = time.monotonic()
    shutil.copy(two, os.path.join(app, "bin", "Extra.dll"))  # cp over: truncate, write
    dll_delay = load.wait(t0, lambda o: o[3] == "two", "the new DLL to be served")
    time.sleep(2.0)
    t1 = time.monotonic()
    glob = os.path.join(app, "Global.asax")
    text = open(glob).read()
    check('"global-0"' in text, "Global.asax has its tag")
    open(glob, "w").write(text.replace('"global-0"', '"global-1"'))
    asax_delay = load.wait(t1, lambda o: o[2] == "global-1", "the new Global.asax to be served")
    time.sleep(1.0)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, list)]
    log = srv.log_text()
    print(f"# bin/Extra.dll replaced, then Global.asax edited, under load: {len(results)} requests, "
          f"{len(errors)} failed; new content served {dll_delay:.2f} s and {asax_delay:.2f} s after the change")
    eq(errors, [], "requests failed across the changes")
    check("application changes changed (bin/Extra.dll" in log, "the DLL change logged")
    check("application changes changed (Global.asax" in log, "the Global.asax change logged")
    eq(state(srv.port)[2:], ["global-1", "two"], "the new state")


def test_broken_web_config_keeps_the_old_worker(env):
    """A web.config with broken XML: the replacement cannot start its
    application, so it is not put in service; the old worker keeps serving the
    last good configuration (no 500 or 503 for every request because of a
    typo). Fixing the file brings the change in."""
    app = copy_app(env, "changes-broken")
    srv = changes_server(env, "changes-broken", app)
    old = state(srv.port)
    load = Load(srv.port)
    time.sleep(1.0)
    path = os.path.join(app, "web.config")
    good = open(path).read()
    open(path, "w").write(good.replace("</configuration>", ""))
    harness.wait_for(lambda: "replacement failed" in srv.log_text(), 30, "the replacement to fail")
    time.sleep(1.0)
    eq(srv.worker_pid(), int(old[0]), "the old worker still serves")
    t0 = time.monotonic()
    open(path, "w").write(good.replace('value="0"', 'value="7"'))
    fixed = load.wait(t0, lambda o: o[1] == "7", "the fixed web.config to be served")
    time.sleep(0.5)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, list)]
    log = srv.log_text()
    print(f"# broken web.config, then fixed, under load: {len(results)} requests, {len(errors)} failed; "
          f"fixed content served {fixed:.2f} s after the fix")
    eq(errors, [], "requests failed")
    check("this new worker is not put in service" in log, "the log says why: " + log[-3000:])
    check(all(o[1] in ("0", "7") for _, o in results), "only the good configurations were served")


def test_unload_app_domain_from_user_code_replaces_the_worker(env):
    """HttpRuntime.UnloadAppDomain still unloads in-process: the worker asks
    the supervisor for a replacement, which takes over overlapped. Requests
    that reach the unloading domain meanwhile are run again in a fresh one
    (Mono drops them without an answer): none is lost."""
    app = copy_app(env, "changes-unload")
    srv = changes_server(env, "changes-unload", app)
    old = int(state(srv.port)[0])
    load = Load(srv.port, clients=4)
    time.sleep(0.5)
    t0 = time.monotonic()
    eq(harness.request(srv.port, "GET", "/unload.ashx").status, 200, "unload.ashx")
    replaced = load.wait(t0, lambda o: int(o[0]) != old, "a new worker to serve", timeout=60)
    harness.wait_for(lambda: old not in srv.worker_pids(), 60, "the old worker to exit")
    time.sleep(0.5)
    results = load.finish()
    errors = [o for _, o in results if not isinstance(o, list)]
    log = srv.log_text()
    print(f"# HttpRuntime.UnloadAppDomain under load (4 clients): {len(results)} requests, {len(errors)} failed; "
          f"new worker served {replaced:.2f} s after")
    check("asking the supervisor for a new worker" in log, "the worker asked: " + log[-3000:])
    check(f"worker {old}: an AppDomain was unloaded in-process" in log, "the supervisor heard it")
    eq(errors, [], "requests failed across the unload")
    lost = sum(int(n) for n in re.findall(r"lost (\d+) request", log))
    eq(lost, 0, "requests lost in the old worker")
    check("answered 503" not in log, "no request was given up on")


def test_watch_off(env):
    """watch = false: the files are not watched (and ASP.NET's own restart is
    still off under the supervisor); SIGHUP picks the change up."""
    app = copy_app(env, "changes-nowatch")
    srv = changes_server(env, "changes-nowatch", app, server="threads = 4\nwatch = false\n")
    pid = int(state(srv.port)[0])
    set_version(app, 3)
    time.sleep(3.0)
    eq(state(srv.port)[:2], [str(pid), "0"], "the same worker serves the old web.config")
    check("changed (" not in srv.log_text(), "no change logged")
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: state(srv.port)[1] == "3", 60, "the reload to serve the new web.config")
