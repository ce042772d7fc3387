"""Issue 9, section 7: what the server writes outside the response. ASP.NET
compiles into a directory the server made itself (mode 0700), never into a
<user>-temp-aspnet-N that someone else created first; the log has one line per
event, whatever a client puts in a URL."""
import os
import pwd
import re
import signal
import stat

import harness
from common import check, eq

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def private_dirs(tmp):
    return [os.path.join(tmp, n) for n in os.listdir(tmp) if n.startswith(f"scgi-mono-{os.geteuid()}-")]


def test_compiles_into_its_own_private_directory(env):
    w = env.work.path
    tmp = os.path.join(w, "hygiene-tmp")
    os.makedirs(tmp)
    # Another local user got there first with the name Mono's ApplicationHost uses.
    trap = os.path.join(tmp, f"{pwd.getpwuid(os.geteuid()).pw_name}-temp-aspnet-0")
    os.makedirs(trap)
    os.chmod(trap, 0o777)
    os.chown(trap, 65534, 65534)
    port = harness.free_port()
    srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}"], ready_port=port, tmp=tmp)
    r = harness.request(port, "GET", "/Default.aspx")
    eq(r.status, 200, "a page that ASP.NET compiles")
    eq(os.listdir(trap), [], "nothing written into the directory another user created")
    mine = private_dirs(tmp)
    eq(len(mine), 1, f"one private directory of this server in {os.listdir(tmp)}")
    st = os.lstat(mine[0])
    check(stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid(), "owned by the server's user")
    eq(oct(st.st_mode & 0o777), oct(0o700), "private directory mode")
    dlls = [f for _, _, files in os.walk(mine[0]) for f in files if f.startswith("App_Web_") and f.endswith(".dll")]
    check(dlls, f"ASP.NET compiled the page inside {mine[0]}")
    eq(srv.stop(), 0, "clean stop")
    eq(private_dirs(tmp), [], "the private directory is removed on a clean stop")


def test_directory_of_a_killed_worker_is_removed_by_the_next_one(env):
    w = env.work.path
    tmp = os.path.join(w, "hygiene-tmp-kill")
    os.makedirs(tmp)
    port = harness.free_port()
    srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}"], ready_port=port, tmp=tmp)
    eq(harness.request(port, "GET", "/Default.aspx").status, 200, "first worker compiles a page")
    left = private_dirs(tmp)
    eq(len(left), 1, "one private directory")
    # The directory is the worker's (the process that runs Mono): kill -9 it; the
    # supervisor starts a new worker, which removes what the killed one left.
    old = srv.worker_pid()
    os.kill(old, signal.SIGKILL)
    harness.wait_for(lambda: srv.worker_pids() and srv.worker_pids() != [old]
                     and harness.request(port, "GET", "/Default.aspx").status == 200, 30, "a new worker")
    now = private_dirs(tmp)
    eq(len(now), 1, "only the new worker's directory")
    check(now[0] not in left, "the killed worker's directory was removed")
    check(f"scgi-mono-{os.geteuid()}-{old}-" in left[0], "the removed directory was the killed worker's")
    check("left by a server that is gone" in srv.log_text(), "the removal is logged")


def test_a_url_cannot_forge_log_lines(env):
    w = env.work.path
    port = harness.free_port()
    srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}"], ready_port=port)
    for path in ["/%0d%0a2026-01-01T00:00:00.000Z%20notice:%20FORGED", "/x%0aFORGED.aspx",
                 "/echo.ashx/%0d%0aFORGED", "/%0d%0aFORGED:%20line"]:
        r = harness.request(port, "GET", path)
        check(r.status in (400, 404, 500) or r.status == 200, f"{path} answered")
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "still serving")
    srv.stop()
    lines = srv.log_text().splitlines()
    bad = [ln for ln in lines if not LINE.match(ln) and ln.strip()
           and not ln.startswith(("WARNING:", "Mono:"))]  # Mono's own stderr, not ours
    eq(bad, [], "every line of the server's log is one of its events")
    forged = [ln for ln in lines if ln.startswith(("2026-01-01T00:00:00.000Z", "FORGED"))]
    eq(forged, [], "no line begins where a URL's CR or LF would have started one")
    refused = [ln for ln in lines if "refused (400)" in ln and "FORGED" in ln]
    check(len(refused) >= 3, f"each refused URL is logged, on one line: {refused}")
    stacks = [ln for ln in lines if ln.lstrip().startswith("at System.")]
    eq(stacks, [], "no stack trace lines at the default log level")
