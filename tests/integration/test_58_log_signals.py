"""Signals beyond stop and reload (issue 10): SIGUSR1 reopens the error_log
file in the supervisor and in every worker (logrotate renames the file, then
signals: every process must write to the new file and none to the old one);
SIGQUIT does not kill the supervisor: it asks each worker for Mono's managed
thread dump. The workers keep SIGUSR1 blocked from their first instruction:
one that arrives while a worker starts does not kill it."""
import os
import subprocess
import re
import signal
import time

import harness
from common import check, eq
from test_55_supervisor import APP, faults_server


class FileLogServer(harness.Server):
    """A server whose log is the error_log file (read by its path, so after a
    rename it is the new file); its standard output and error before the
    switch stay in self.log_path."""

    def __init__(self, error_log, *a, **kw):
        self.error_log = error_log
        super().__init__(*a, **kw)

    def log_text(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def console_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def file_log_server(env, name, server):
    port = harness.free_port()
    log = os.path.join(env.work.path, name + ".log")
    conf = os.path.join(env.work.path, name + ".conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nerror_log = {log}\n{server}\n"
                          f"[app:faults]\nvpath = /\npath = {APP}\n")
    srv = FileLogServer(log, ["--config", conf], env.work.path, ready_port=port)
    env.servers.append(srv)
    env.on_exit(srv.stop)
    return srv, log


def refused(port, marker):
    # a private path: the worker thread that serves it logs one line with the URL
    eq(harness.request(port, "GET", f"/bin/private.dll?{marker}").status, 404, "private path")


def test_sigusr1_reopens_the_log_in_every_process(env):
    srv, log = file_log_server(env, "usr1", "workers = 2\nthreads = 2\n")
    workers = srv.worker_pids()
    eq(len(workers), 2, "two workers")
    console = srv.console_text()
    check(f"logging to {log} (error_log)" in console, f"the console says where the log goes: {console}")
    check("ready:" not in console, "the rest goes to the file")
    text = open(log).read()
    check("ready:" in text and all(f"[worker {p}]" in text for p in workers), "supervisor and workers log to the file")
    for i in range(10):
        refused(srv.port, f"before-{i}")
    harness.wait_for(lambda: open(log).read().count("refused (404)") >= 10, 10, "the refused lines")

    rotated = log + ".1"
    os.rename(log, rotated)  # as logrotate does
    for i in range(4):
        refused(srv.port, f"between-{i}")  # still the renamed file: nothing reopened it yet
    srv.proc.send_signal(signal.SIGUSR1)
    harness.wait_for(lambda: os.path.exists(log) and all(
        re.search(rf"\[worker {p}\] notice: log file reopened: {re.escape(log)}", open(log).read()) for p in workers),
        10, "every worker to reopen the file")
    new = open(log).read()
    check(re.search(rf"^\S+ \[supervisor {srv.proc.pid}\] notice: log file reopened: {re.escape(log)}; passed on to 2 worker", new, re.M),
          f"the supervisor reopened it: {new}")
    old_size = os.path.getsize(rotated)
    old = open(rotated).read()
    check("between-3" in old, "lines before the signal went to the renamed file")

    # after the signal: requests on worker threads, a reload (old and new
    # workers and the supervisor log), application output: all in the new file
    for i in range(20):
        refused(srv.port, f"after-{i}")
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in open(log).read(), 60, "the reload")
    harness.wait_for(lambda: all(re.search(rf"worker {p} exited", open(log).read()) for p in workers), 30,
                     "the old workers to exit")
    for i in range(5):
        refused(srv.port, f"late-{i}")
    time.sleep(0.3)
    eq(os.path.getsize(rotated), old_size, "bytes written to the renamed file after the signal")
    new = open(log).read()
    missing = [m for m in [f"after-{i}" for i in range(20)] + [f"late-{i}" for i in range(5)] if m not in new]
    eq(missing, [], "request lines missing from the new file")
    for p in workers:
        check(re.search(rf"\[worker {p}\] notice: stopped", new), f"old worker {p} logged its stop in the new file")
    new_workers = srv.worker_pids()
    check(all(f"[worker {p}] notice: worker {p} serving" in new for p in new_workers), "the new workers log there")
    eq(srv.stop(), 0, "exit 0")
    check("notice: stopped" in open(log).read().splitlines()[-1], "the supervisor's last line is in the file")


def test_sigusr1_while_workers_start_kills_none(env):
    """SIGUSR1 without a log file: logged, passed on, harmless; sent over and
    over while a reload starts new workers (between their fork and their
    event loop) it kills none of them."""
    srv = faults_server(env, "usr1-race.conf", server="workers = 2\nthreads = 2\n")
    before = srv.worker_pids()
    srv.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + 60
    while "reloaded:" not in srv.log_text() and time.monotonic() < end:
        srv.proc.send_signal(signal.SIGUSR1)
        time.sleep(0.0005)
    log = srv.log_text()
    check("reloaded:" in log, "the reload finished")
    sent = log.count("SIGUSR1: logging to standard error, no file to reopen")
    print(f"# {sent} SIGUSR1 while 2 new workers started")
    check(sent > 20, f"many SIGUSR1 during the start: {sent}")
    bad = [ln for ln in log.splitlines() if re.search(r"worker \d+ (was killed by signal|exited with status [1-9])", ln)]
    eq(bad, [], "workers killed")
    harness.wait_for(lambda: all(re.search(rf"worker {p} exited", srv.log_text()) for p in before), 30,
                     "the old workers to exit")
    log = srv.log_text()
    bad = [ln for ln in log.splitlines() if re.search(r"worker \d+ (was killed by signal|exited with status [1-9])", ln)]
    eq(bad, [], "workers killed")
    after = srv.worker_pids()
    check(len(after) == 2 and not set(after) & set(before), f"two new workers: {before} -> {after}")
    eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "serving")


def test_sigquit_dumps_the_workers_threads_and_the_supervisor_lives(env):
    srv = faults_server(env, "quit.conf", server="workers = 2\nthreads = 2\n")
    workers = srv.worker_pids()
    eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "serving")
    srv.proc.send_signal(signal.SIGQUIT)
    # Both workers write their dumps at once, thread by thread, to the one
    # standard output: wait for two whole dumps, not for their first lines.
    harness.wait_for(lambda: (lambda t: t.count("Full thread dump") >= 2 and t.count('"Finalizer"') >= 2
                              and "  at System.Threading." in t)(srv.log_text()), 20,
                     "a whole thread dump from each worker")
    log = srv.log_text()
    line = [ln for ln in log.splitlines() if "SIGQUIT" in ln]
    eq(len(line), 1, "one log line")
    check(all(str(p) in line[0] for p in workers), f"the line names the workers: {line}")
    check('"Finalizer"' in log and "  at System.Threading." in log, "managed threads and their stacks in the dump")
    time.sleep(0.5)
    check(srv.proc.poll() is None, "the supervisor lives")
    eq(srv.worker_pids(), workers, "the same workers")
    eq(harness.request(srv.port, "GET", "/pid.ashx").status, 200, "still serving")
    eq(srv.stop(), 0, "exit 0")


def test_a_reload_that_changes_error_log_moves_every_process(env):
    srv, log = file_log_server(env, "move", "threads = 2\n")
    conf = os.path.join(env.work.path, "move.conf")
    old_worker = srv.worker_pid()
    moved = os.path.join(env.work.path, "moved.log")
    text = open(conf).read()
    open(conf, "w").write(text.replace(f"error_log = {log}", f"error_log = {moved}"))
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: os.path.exists(moved) and "error_log changed" in open(moved).read(), 60,
                     "the reload, then the supervisor in the new file")
    check("reloaded:" in open(log).read(), "the reload committed (logged before the supervisor moved)")
    harness.wait_for(lambda: old_worker not in srv.worker_pids(), 30, "the old worker to exit")
    new_worker = srv.worker_pid()
    text = open(moved).read()
    check(f"[worker {new_worker}] notice: worker {new_worker} serving" in text, "the new worker logs to the new file")
    check(f"error_log changed: logging here from now on (before: {log})" in text, f"the supervisor moved: {text}")
    check(f"error_log changed: logging to {moved} from now on" in open(log).read(), "the old file says where")
    size = os.path.getsize(log)
    refused(srv.port, "moved-1")
    time.sleep(0.3)
    check("moved-1" in open(moved).read(), "requests log to the new file")
    eq(os.path.getsize(log) - size, 0, "bytes to the old file after the move (the old worker is gone)")


def test_an_error_log_that_cannot_be_opened_stops_the_start(env):
    port = harness.free_port()
    conf = os.path.join(env.work.path, "badlog.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nerror_log = /nonexistent-dir/e.log\n"
                          f"[app:faults]\nvpath = /\npath = {APP}\n")

    r = subprocess.run([harness.SERVER, "--config", conf], capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1, "exit status")
    check("cannot open the log file /nonexistent-dir/e.log" in r.stderr, f"the reason on stderr: {r.stderr}")
