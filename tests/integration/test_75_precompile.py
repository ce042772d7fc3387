"""Issue 13, first requests: with `precompile = true` a new worker compiles
every page, user control, master page, handler and web service of the
application before it accepts (after its warmup URLs), so that no user request
pays for an ASP.NET compilation. The observable is ASP.NET's own output: the
assemblies it writes into the worker's compile directory ($TMPDIR of the
worker, see native/tmpdir.h); none appears once the worker serves. A page
that does not compile is logged as a warning and the worker serves the others.
A reload (SIGHUP) precompiles in the new worker before it takes over, and the
worker shows `warming` on the status page while it precompiles.
The application is tests/integration/apps/precompile/."""
import json
import os
import re
import signal
import subprocess

import harness
from common import check, conf_server, eq
from test_72_drain import Starting, health

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "precompile")

# What a user requests, and a piece of each answer (the master page, the user
# control and App_Code's Greeter take part).
PAGES = {
    "/": "hello default",
    "/Default.aspx": "hello default",
    "/Plain.aspx": "plain 42",
    "/Hello.ashx": "hello handler",
    "/sub/Other.aspx": "hello other",
    "/sub/Third.aspx": "hello third",
    # its theme (App_Themes/Blue) is compiled on a page's first request otherwise
    "/sub/Themed.aspx": 'class="blue-label">themed label',
    # a web service's documentation page: Mono's own DefaultWsdlHelpGenerator.aspx
    "/Service.asmx": "EchoService Web Service",
}
# The files it compiles: 10 in 3 directories (bin/, App_Data/, App_Code/ and
# .hidden/ are not among them), one of which (Broken.aspx) does not compile,
# and the theme App_Themes/Blue.
SUMMARY = re.compile(r"\[worker (\d+)\] notice: precompile of pc: 10 of 11 files compiled in \d+\.\d\d s "
                     r"\(3 directories, 1 theme, the web services' documentation page(, \d tried again alone)?\), "
                     r"1 did not compile")


def pc_server(env, name, precompile=True, warmup=None):
    lines = f"vpath = /\npath = {APP}\n" + ("precompile = true\n" if precompile else "") + \
        (f"warmup = {warmup}\n" if warmup else "")
    return conf_server(env, name, server="threads = 4\n", apps={"pc": lines})


def compile_dir(pid):
    """The worker's own $TMPDIR, where ASP.NET writes what it compiles."""
    env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    for kv in env:
        if kv.startswith(b"TMPDIR="):
            return kv[len(b"TMPDIR="):].decode()
    raise AssertionError(f"no TMPDIR in the environment of worker {pid}")


def assemblies(pid):
    out = set()
    for root, _, files in os.walk(compile_dir(pid)):
        out.update(os.path.join(root, f) for f in files if f.endswith(".dll"))
    return out


def check_served_without_compiling(srv, pid, what):
    before = assemblies(pid)
    check(before, f"{what}: the worker compiled assemblies before it served")
    for path, needle in PAGES.items():
        r = harness.request(srv.port, "GET", path)
        eq(r.status, 200, f"{what}: GET {path}")
        check(needle in r.text, f"{what}: GET {path} answers '{needle}': {r.text[:300]}")
    new = assemblies(pid) - before
    eq(sorted(new), [], f"{what}: assemblies ASP.NET compiled for the first requests")
    return before


def test_pages_are_compiled_before_ready_and_not_on_first_request(env):
    srv = pc_server(env, "pc.conf")
    pid = srv.worker_pid()
    log = srv.log_text()
    m = SUMMARY.search(log)
    check(m, "the log has the precompilation's summary: " + log[-2500:])
    eq(int(m.group(1)), pid, "the serving worker precompiled")
    check(log.index("precompile of pc:") < log.index("ready:"), "precompiled before ready")
    check(re.search(r"warning: precompile: /Broken\.aspx does not compile \(Broken\.aspx\(\d+\): error CS0103: "
                    r"The name .thisNameDoesNotExist. does not exist", log), "the broken page is logged: " + log[-2500:])
    eq(log.count("does not compile"), 1, "only the broken page is reported (bin/, App_Data/, .hidden/ are skipped)")
    before = check_served_without_compiling(srv, pid, "precompile = true")
    print(f"# precompile: {len(before)} assemblies before ready, none after the first request of "
          f"{len(PAGES)} URLs")
    # the broken page answers its compilation error, as it would without precompilation
    r = harness.request(srv.port, "GET", "/Broken.aspx")
    eq(r.status, 500, "GET /Broken.aspx")
    check("CS0103" in r.text, "its answer names the compiler's error")
    eq(harness.request(srv.port, "GET", "/Plain.aspx").status, 200, "the others serve on")
    # the precompilation request is the host's own: a client's guess is an ordinary request
    r = harness.request(srv.port, "GET", "/Plain.aspx?scgi-mono-precompile=" + "0" * 32)
    eq((r.status, r.text.strip()), (200, "plain 42"), "a client's precompile query")


def test_without_precompile_the_first_requests_compile(env):
    """The observable is real: without the key, first requests do compile."""
    srv = pc_server(env, "pc-off.conf", precompile=False)
    pid = srv.worker_pid()
    check("precompile of pc" not in srv.log_text(), "no precompilation without the key")
    before = assemblies(pid)
    eq(harness.request(srv.port, "GET", "/sub/Third.aspx").status, 200, "GET /sub/Third.aspx")
    check(assemblies(pid) - before, "the first request of a page compiled an assembly")


def test_precompile_runs_after_the_warmup_urls(env):
    srv = pc_server(env, "pc-warm.conf", warmup="/Plain.aspx")
    log = srv.log_text()
    check("warm-up of pc: GET /Plain.aspx 200" in log, "the warm-up URL ran: " + log[-2000:])
    check(SUMMARY.search(log), "the precompilation ran: " + log[-2000:])
    check(log.index("warm-up of pc: GET /Plain.aspx") < log.index("precompile of pc:") < log.index("ready:"),
          "warm-up URLs, then precompilation, then ready")
    check_served_without_compiling(srv, srv.worker_pid(), "warmup and precompile")


def test_a_reload_precompiles_in_the_new_worker_before_it_takes_over(env):
    srv = pc_server(env, "pc-reload.conf")
    old = srv.worker_pid()
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in srv.log_text(), 90, "the reload")
    harness.wait_for(lambda: old not in srv.worker_pids(), 60, "the old worker to exit")
    new = srv.worker_pid()
    log = srv.log_text()
    runs = [(int(m.group(1)), m.start()) for m in SUMMARY.finditer(log)]
    eq([p for p, _ in runs], [old, new], "each worker precompiled once")
    check(runs[1][1] < log.index("reloaded:"), "the new worker precompiled before the reload completed")
    check_served_without_compiling(srv, new, "after SIGHUP")


def test_the_worker_says_warming_while_it_precompiles(env):
    """Held in Application_Start (which precompilation runs first) by a gate
    file, the worker is 'warming' on the status page and not ready; once the
    gate opens it precompiles and serves."""
    gate = os.path.join(env.work.path, "precompile-gate")
    open(gate, "w").close()
    port, sport = harness.free_port(), harness.free_port()
    conf = os.path.join(env.work.path, "pc-gate.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 4\n"
                          f"status_listen = tcp:127.0.0.1:{sport}\n\n[app:pc]\nvpath = /\npath = {APP}\n"
                          "precompile = true\n")
    os.environ["SCGI_MONO_TEST_PRECOMPILE_GATE"] = gate
    try:
        srv = Starting(env, conf, port, sport)
    finally:
        del os.environ["SCGI_MONO_TEST_PRECOMPILE_GATE"]
    states = []

    def warming():
        code, body = health(sport, "/status.json")
        if code == 200:
            states.append([w["state"] for w in json.loads(body)["workers"]])
        return states and states[-1] == ["warming"]
    harness.wait_for(warming, 60, "the status page to show the worker warming")
    eq(health(sport, "/health/ready"), (503, "not ready: starting\n"), "/health/ready while it precompiles")
    check("ready:" not in srv.log_text() and "precompile of pc" not in srv.log_text(),
          "neither ready nor precompiled while the application's start is held")
    os.unlink(gate)
    harness.wait_for(lambda: health(sport, "/health/ready")[0] == 200, 90, "the worker to be ready")
    log = srv.log_text()
    check(SUMMARY.search(log) and log.index("precompile of pc:") < log.index("ready:"),
          "precompiled, then ready: " + log[-2000:])
    eq(harness.request(port, "GET", "/sub/Third.aspx").status, 200, "then it serves")


def test_precompile_takes_true_or_false(env):
    conf = os.path.join(env.work.path, "pc-bad.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{harness.free_port()}\n\n[app:pc]\nvpath = /\n"
                          f"path = {APP}\nprecompile = sometimes\n")
    p = subprocess.run([harness.SERVER, "--test", "--config", conf], capture_output=True, text=True, timeout=60)
    check(p.returncode != 0, f"--test refuses precompile = sometimes (exit {p.returncode})")
    check("[app:pc] precompile: 'sometimes' is not a boolean (true or false)" in p.stderr, p.stderr)
    text = open(conf).read()
    open(conf, "w").write(text.replace("sometimes", "false"))
    p = subprocess.run([harness.SERVER, "--test", "--config", conf], capture_output=True, text=True, timeout=60)
    eq(p.returncode, 0, f"--test with precompile = false: {p.stderr}")
