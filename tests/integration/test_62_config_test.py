"""Issue 11, safe operations: `scgi-mono-server -t [--config FILE]` checks the
configuration and every application directory (exists, readable and
searchable by the workers' user, web.config well-formed XML with the line of
the first error), prints one line per problem and a verdict, exits 0 or 2,
and binds nothing. SIGHUP runs the same check first: a broken web.config
keeps the running workers, with the reason logged."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import harness
from common import check, conf_server, eq


def run_t(conf, wrap=()):
    p = subprocess.run(list(wrap) + [harness.SERVER, "-t", "--config", conf], capture_output=True, text=True,
                       timeout=30)
    return p.returncode, p.stdout + p.stderr


def world_dir():
    """A directory another user can read (the test's work directory may not be)."""
    d = tempfile.mkdtemp(prefix="scgi-conftest-")
    os.chmod(d, 0o755)
    return d


def write_conf(d, app_path, extra=""):
    port = harness.free_port()
    conf = os.path.join(d, "t.conf")
    with open(conf, "w") as f:
        f.write(f"[server]\nlisten = tcp:127.0.0.1:{port}\n{extra}\n[app:site]\nvpath = /\npath = {app_path}\n")
    os.chmod(conf, 0o644)
    return conf, port


def test_a_good_configuration_is_valid_and_binds_nothing(env):
    d = world_dir()
    try:
        app = harness.copy_sample(d, "site")
        conf, port = write_conf(d, app)
        rc, out = run_t(conf)
        eq(rc, 0, f"exit status of -t on a good configuration ({out})")
        check(f"the configuration {conf} is valid" in out, f"the verdict: {out}")
        # nothing was bound: the port is still free
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.close()
        # the MVC sample (with its Views/web.config files) passes too
        mvc = os.path.join(harness.ROOT, "build", "samples", "mvc")
        conf2, _ = write_conf(d, mvc)
        rc, out = run_t(conf2)
        eq(rc, 0, f"exit status of -t on the MVC sample ({out})")
    finally:
        shutil.rmtree(d)


def test_a_missing_application_directory_is_not_valid(env):
    d = world_dir()
    try:
        conf, _ = write_conf(d, os.path.join(d, "no-such-dir"))
        rc, out = run_t(conf)
        eq(rc, 2, f"exit status ({out})")
        check("no-such-dir" in out and f"the configuration {conf} is not valid" in out, f"names the problem: {out}")
    finally:
        shutil.rmtree(d)


def test_a_web_config_with_broken_xml_is_not_valid_with_its_line(env):
    d = world_dir()
    try:
        app = harness.copy_sample(d, "site")
        wc = os.path.join(app, "web.config")
        lines = open(wc).read().split("\n")
        # break the first closing tag after line 3: the error is on that line
        n = next(i for i, ln in enumerate(lines) if i >= 3 and "</" in ln)
        lines[n] = lines[n].replace("</", "</broken", 1)
        open(wc, "w").write("\n".join(lines))
        conf, _ = write_conf(d, app)
        rc, out = run_t(conf)
        eq(rc, 2, f"exit status ({out})")
        check(f"{wc}:{n + 1}:" in out and "not well-formed XML" in out,
              f"names the file and line {n + 1}: {out}")
        check("is not valid" in out, f"the verdict: {out}")
    finally:
        shutil.rmtree(d)


def test_a_bad_key_value_is_not_valid(env):
    d = world_dir()
    try:
        app = harness.copy_sample(d, "site")
        conf, _ = write_conf(d, app, extra="threads = many")
        rc, out = run_t(conf)
        eq(rc, 2, f"exit status ({out})")
        check("threads" in out and "is not valid" in out, f"names the key: {out}")
    finally:
        shutil.rmtree(d)


def test_an_unreadable_application_directory_is_not_valid(env):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        print("# SKIP: needs root and setpriv to check as another user (root reads any directory)")
        return
    d = world_dir()
    try:
        app = harness.copy_sample(d, "site")
        for root, dirs, files in os.walk(d):
            for x in dirs + files:
                os.chmod(os.path.join(root, x), 0o755 if x in dirs else 0o644)
        as_nobody = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        conf, _ = write_conf(d, app)
        rc, out = run_t(conf, as_nobody)
        eq(rc, 0, f"readable by nobody first ({out})")
        os.chmod(app, 0o000)
        rc, out = run_t(conf, as_nobody)
        eq(rc, 2, f"exit status ({out})")
        check(app in out and "not readable" in out and "is not valid" in out, f"names the problem: {out}")
        os.chmod(app, 0o755)
    finally:
        shutil.rmtree(d)


def test_sighup_with_a_broken_web_config_keeps_the_workers(env):
    app = harness.copy_sample(env.work.path, "confcheck-site")
    srv = conf_server(env, "confcheck-hup.conf", server="watch = false\n",
                      apps={"site": f"vpath = /\npath = {app}\n"})
    eq(harness.request(srv.port, "GET", "/").status, 200, "served")
    before = set(srv.worker_pids())
    wc = os.path.join(app, "web.config")
    text = open(wc).read()
    open(wc, "w").write(text.replace("</configuration>", "</configuration", 1))
    n = srv.log_text().count("configuration not reloaded")
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: srv.log_text().count("configuration not reloaded") > n, 20, "the refusal in the log")
    log = srv.log_text()
    check(f"{wc}:" in log and "not well-formed XML" in log, f"the log names the file: {log[-2000:]}")
    time.sleep(0.5)
    eq(set(srv.worker_pids()), before, "the same workers after the refused reload")
    eq(harness.request(srv.port, "GET", "/").status, 200, "still serving")
    # fixed: the next SIGHUP reloads
    open(wc, "w").write(text)
    srv.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "reloaded:" in srv.log_text(), 60, "the reload after the fix")
    eq(harness.request(srv.port, "GET", "/").status, 200, "serving after the reload")
