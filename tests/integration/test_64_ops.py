"""Run it like a service (issue 11): the error log's level and line format,
syslog (to a datagram socket the test binds, as /dev/log would be), and the
privilege drop (user/group: workers run as the user, the supervisor stays
root; sockets, log files and the private temporary directory belong to the
user; root without user is refused unless allow_root)."""
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import harness
from common import check, eq

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[(supervisor|worker) (\d+)\] "
                  r"(error|critical|warning|notice|info|debug): ")


class FileLogServer(harness.Server):
    """Its log is the error_log file."""

    def __init__(self, error_log, *a, **kw):
        self.error_log = error_log
        super().__init__(*a, **kw)

    def log_text(self):
        try:
            with open(self.error_log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""


def write_conf(env, name, server, app=harness.SAMPLE, port=None):
    port = port or harness.free_port()
    conf = os.path.join(env.work.path, name + ".conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\n{server}\n[app:hello]\nvpath = /\npath = {app}\n")
    return conf, port


def start(env, cls, *a, **kw):
    srv = cls(*a, **kw)
    env.servers.append(srv)
    env.on_exit(srv.stop)
    return srv


def test_log_level_filters_and_every_line_names_time_level_and_pid(env):
    """log_level = warn: no notice or info line; a reload to info: the info
    lines (a worker started) appear; every line has time, process and pid."""
    log = os.path.join(env.work.path, "level.log")
    conf, port = write_conf(env, "level", f"error_log = {log}\nlog_level = warn\nworkers = 2\n")
    # "ready:" is a notice, dropped here: wait for the port, then for the workers
    proc = subprocess.Popen([harness.SERVER, "--config", conf], cwd=env.work.path,
                            env=dict(os.environ, TMPDIR=env.work.path),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env.on_exit(lambda: (proc.send_signal(signal.SIGTERM), proc.wait(40)))
    harness.wait_for(lambda: _connectable(port) and harness.request(port, "GET", "/hello.ashx").status == 200,
                     60, "the server to serve")
    harness.wait_for(lambda: len(harness.worker_pids_of(proc.pid)) == 2, 30, "two workers")
    text = open(log).read()
    check(" notice: " not in text and " info: " not in text, f"nothing below warn at log_level = warn: {text}")
    harness.request(port, "GET", "/bin/private.dll")  # a notice line ("refused (404)") in every case
    time.sleep(0.5)
    check("refused (404)" not in open(log).read(), "the refused notice is dropped at warn")

    text = open(conf).read().replace("log_level = warn", "log_level = info")
    open(conf, "w").write(text)
    old = set(harness.worker_pids_of(proc.pid))
    proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: "log_level changed to info" in open(log).read(), 60, "the reload to commit")
    check(not re.search(r" info: worker \d+: ", open(log).read()), "no info line before the change")
    harness.wait_for(lambda: len([p for p in harness.worker_pids_of(proc.pid) if p not in old]) == 2, 30,
                     "two new workers")
    reloaded = {p for p in harness.worker_pids_of(proc.pid) if p not in old}
    victim = sorted(reloaded)[0]
    os.kill(victim, signal.SIGKILL)  # its replacement is started at log_level = info
    harness.wait_for(lambda: len([p for p in harness.worker_pids_of(proc.pid) if p not in old | {victim}]) == 2,
                     60, "a replacement")
    new = [p for p in harness.worker_pids_of(proc.pid) if p not in old | {victim}]
    repl = [p for p in new if p not in reloaded]
    harness.wait_for(lambda: all(re.search(rf"\[supervisor {proc.pid}\] info: worker {p}: \S+scgi-mono-worker, "
                                           r"generation 1, as the supervisor's user", open(log).read())
                                 for p in repl) and repl, 10, f"the info line of the replacement: {open(log).read()}")
    new = list(reloaded | set(new))
    harness.request(port, "GET", "/bin/private.dll?after")
    harness.wait_for(lambda: "refused (404)" in open(log).read(), 10, "the refused notice at info")
    pids = {proc.pid} | old | set(new)
    lines = [ln for ln in open(log).read().splitlines() if ln]
    check(lines, "lines were written")
    for ln in lines:
        m = LINE.match(ln)
        check(m, f"every line is TIME [PROCESS PID] LEVEL: ...: {ln!r}")
        check(int(m.group(2)) in pids, f"the pid is the supervisor's or a worker's: {ln!r}")
        check((m.group(1) == "supervisor") == (int(m.group(2)) == proc.pid), f"the role matches the pid: {ln!r}")


def _connectable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class SyslogSink:
    """A UNIX datagram socket bound where the server is told the logger is."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append(data.decode("utf-8", "replace"))

    def text(self):
        with self.lock:
            return "\n".join(self.messages)

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


class SyslogServer(harness.Server):
    def __init__(self, sink, *a, **kw):
        self.sink = sink
        super().__init__(*a, **kw)

    def log_text(self):
        return self.sink.text() + "\n" + super().log_text()


def test_syslog_messages_carry_ident_priority_and_pid(env):
    """error_log = syslog:/PATH: one datagram per line, RFC 3164 with facility
    daemon, the level's priority, ident scgi-mono and the sending process's
    pid (supervisor and workers); control characters escaped; nothing of the
    log on standard error."""
    path = os.path.join(env.work.path, "syslog.sock")
    sink = SyslogSink(path)
    env.on_exit(sink.close)
    conf, port = write_conf(env, "syslog", f"error_log = syslog:{path}\nworkers = 2\n")
    srv = start(env, SyslogServer, sink, ["--config", conf], env.work.path, ready_port=port)
    harness.wait_for(lambda: len(srv.worker_pids()) == 2, 30, "two workers")
    workers = srv.worker_pids()
    harness.wait_for(lambda: all(f"[worker {p}]" in sink.text() for p in workers), 30, "the workers' lines")
    # SCGI carries raw bytes: a URL with CR, LF and \x01, quoted by the refusal
    harness.scgi_get(("127.0.0.1", port), "/bin/private.dll?\r\nFORGED\x01")
    harness.wait_for(lambda: "FORGED" in sink.text(), 10, "the refused line")
    with sink.lock:
        msgs = list(sink.messages)
    head = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d scgi-mono\[(\d+)\]: "
                      r"\[(supervisor|worker) (\d+)\] (error|critical|warning|notice|info|debug): ")
    prio = {"critical": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}
    senders = set()
    for m_text in msgs:
        m = head.match(m_text)
        check(m, f"an RFC 3164 message with ident and pid: {m_text!r}")
        pri, pid = int(m.group(1)), int(m.group(2))
        eq(pri >> 3, 3, f"facility daemon: {m_text!r}")
        eq(pri & 7, prio[m.group(5)], f"the level's priority: {m_text!r}")
        eq(int(m.group(4)), pid, f"the pid in the header is the process's: {m_text!r}")
        check(not re.search(r"[\x00-\x1f\x7f]", m_text), f"no control character: {m_text!r}")
        senders.add(pid)
    check({srv.proc.pid, *workers} <= senders, f"supervisor and workers send with their pids: {senders}")
    forged = [m for m in msgs if "FORGED" in m]
    check(forged and "\\r\\nFORGED\\x01" in forged[0], f"CR, LF and \\x01 are escaped: {forged}")
    console = [ln for ln in harness.Server.log_text(srv).splitlines() if LINE.match(ln)]
    check(len(console) == 1 and "logging to syslog:" in console[0],
          f"after saying where, the log lines went to syslog, not to standard error: {console}")


# ---- privilege drop (as root only) ----

def _root_only():
    if os.geteuid() != 0:
        raise harness.Skip("needs root (the privilege drop switches from root to another user)")
    try:
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError:
        raise harness.Skip("needs the system user nobody and group nogroup")


def _status_ids(pid):
    ids = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        if k in ("Uid", "Gid", "Groups"):
            ids[k] = [int(x) for x in v.split()]
    return ids


def _user_dir(env, name):
    """A directory the user can reach (the test's work directory is 0755)."""
    d = os.path.join(env.work.path, name)
    os.makedirs(d)
    os.chmod(d, 0o755)
    return d


def _hello_copy(env):
    app = os.path.join(env.work.path, "hello-copy")
    if not os.path.exists(app):
        shutil.copytree(harness.SAMPLE, app)
        for root, dirs, files in os.walk(app):
            os.chmod(root, 0o755)
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
    return app


def _readable_by_nobody(path):
    """The worker binary, ScgiMono.dll and the build tree must be reachable by the user."""
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "test", "-r", path],
                       capture_output=True)
    return r.returncode == 0


def test_workers_run_as_the_user_and_own_what_they_write(env):
    """user = nobody, group = nogroup as root: the workers run as nobody:nogroup
    (/proc/PID/status), the supervisor as root; the UNIX socket, the log
    files and the private temporary directory (0700) are nobody's; a compiled
    page and a spooled upload work; SIGUSR1 after logrotate's rename makes
    new files the workers can write."""
    _root_only()
    for p in (harness.WORKER, os.path.join(harness.ROOT, "build", "ScgiMono.dll")):
        check(_readable_by_nobody(p), f"{p} is readable by nobody (the build tree must be reachable)")
    nobody, nogroup = pwd.getpwnam("nobody"), grp.getgrnam("nogroup")
    app = _hello_copy(env)
    logs = _user_dir(env, "ops-logs")
    os.chmod(logs, 0o755)
    tmp = _user_dir(env, "ops-tmp")
    os.chmod(tmp, 0o1777)
    sock = os.path.join(env.work.path, "ops.sock")
    err_log, acc_log = os.path.join(logs, "error.log"), os.path.join(logs, "access.log")
    port = harness.free_port()
    conf = os.path.join(env.work.path, "ops-user.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port};unix:{sock}\nuser = nobody\ngroup = nogroup\n"
                          f"workers = 2\nerror_log = {err_log}\naccess_log = {acc_log}\nbody_buffer = 65536\n"
                          f"socket_mode = 0660\n\n[app:hello]\nvpath = /\npath = {app}\n")
    srv = start(env, FileLogServer, err_log, ["--config", conf], env.work.path, ready_port=port, tmp=tmp)
    workers = srv.worker_pids()
    eq(len(workers), 2, "two workers")
    sup = _status_ids(srv.proc.pid)
    eq(sup["Uid"], [0, 0, 0, 0], "the supervisor stays root (it reopens logs, starts workers as the user)")
    for p in workers:
        ids = _status_ids(p)
        eq(ids["Uid"], [nobody.pw_uid] * 4, f"worker {p} runs as nobody (real, effective, saved, fs)")
        eq(ids["Gid"], [nogroup.gr_gid] * 4, f"worker {p} runs as group nogroup")
        check(0 not in ids.get("Groups", []), f"worker {p} kept no root group: {ids}")
        env_text = open(f"/proc/{p}/environ", "rb").read().split(b"\0")
        check(f"USER=nobody".encode() in env_text and f"HOME={nobody.pw_dir}".encode() in env_text,
              "USER and HOME are the user's")
    st = os.stat(sock)
    eq((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (nobody.pw_uid, nogroup.gr_gid, 0o660),
       "the UNIX socket is nobody:nogroup with socket_mode")
    privates = [os.path.join(tmp, d) for d in os.listdir(tmp) if d.startswith(f"scgi-mono-{nobody.pw_uid}-")]
    eq(len(privates), 2, f"one private temporary directory per worker: {os.listdir(tmp)}")
    for d in privates:
        st = os.stat(d)
        eq((st.st_uid, stat.S_IMODE(st.st_mode)), (nobody.pw_uid, 0o700), f"{d} is nobody's with mode 0700")

    r = harness.request(port, "GET", "/Default.aspx")  # compiled by ASP.NET into the private directory
    eq(r.status, 200, f"a compiled page as nobody: {r.body[:300]!r}")
    body = os.urandom(1 << 20)
    r = harness.request(port, "POST", "/upload.ashx", body=body)  # spooled to a file past body_buffer
    eq(r.status, 200, f"a spooled upload as nobody: {r.body[:300]!r}")
    check(f"length={len(body)}".encode() in r.body or str(len(body)).encode() in r.body,
          f"the upload was read whole: {r.body[:200]!r}")
    for path in (err_log, acc_log):
        st = os.stat(path)
        eq((st.st_uid, st.st_gid), (nobody.pw_uid, nogroup.gr_gid), f"{path} belongs to the workers' user")
    harness.wait_for(lambda: "/Default.aspx" in open(acc_log).read(), 10, "the access log line")

    for path in (err_log, acc_log):
        os.rename(path, path + ".1")  # as logrotate does
    srv.proc.send_signal(signal.SIGUSR1)
    harness.wait_for(lambda: os.path.exists(err_log) and all(
        f"[worker {p}] notice: log file reopened" in open(err_log).read() for p in workers), 15,
        "every worker to reopen the error log as nobody")
    eq(harness.request(port, "GET", "/hello.ashx?after-rotate").status, 200, "serving after the rotation")
    harness.wait_for(lambda: os.path.exists(acc_log) and "after-rotate" in open(acc_log).read(), 10,
                     "the access log line in the new file")
    for path in (err_log, acc_log):
        st = os.stat(path)
        eq((st.st_uid, stat.S_IMODE(st.st_mode)), (nobody.pw_uid, 0o640), f"the new {path} is nobody's, 0640")
    check("cannot" not in open(err_log).read(), f"no failure after the rotation: {open(err_log).read()}")


def _run(args, env_extra=None, drop_allow=True, **kw):
    e = dict(os.environ, **(env_extra or {}))
    if drop_allow:
        e.pop("SCGI_MONO_ALLOW_ROOT", None)
    return subprocess.run([harness.SERVER] + args, capture_output=True, text=True, timeout=60, env=e, **kw)


def test_root_without_user_is_refused_unless_allow_root(env):
    _root_only()
    conf, port = write_conf(env, "noroot", "")
    p = _run(["--config", conf])
    eq(p.returncode, 2, f"refused: {p.stderr}")
    check("started as root with no user" in p.stderr and "allow_root = true" in p.stderr,
          f"the message says what to do: {p.stderr}")
    check(not _connectable(port), "nothing was bound")
    p = _run(["-t", "--config", conf])
    eq(p.returncode, 2, f"-t says the same: {p.stderr}")
    conf2, _ = write_conf(env, "allowroot", "allow_root = true\n")
    p = _run(["-t", "--config", conf2])
    eq(p.returncode, 0, f"allow_root = true is valid: {p.stderr}")


def test_unknown_user_or_group_exits_2(env):
    _root_only()
    for line, what in (("user = no-such-user-64\n", 'user "no-such-user-64": no such user'),
                       ("user = nobody\ngroup = no-such-group-64\n", 'group "no-such-group-64": no such group')):
        conf, port = write_conf(env, "unknown", line)
        p = _run(["--config", conf])
        eq(p.returncode, 2, f"exit 2: {p.stderr}")
        check(what in p.stderr, f"the message names it: {p.stderr}")
        p = _run(["-t", "--config", conf])
        eq(p.returncode, 2, f"-t exit 2: {p.stderr}")
        check(what in p.stderr, f"-t names it: {p.stderr}")


def test_an_app_dir_the_user_cannot_read_is_reported(env):
    _root_only()
    private = os.path.join(env.work.path, "root-only")
    os.makedirs(os.path.join(private, "app"))
    os.chmod(private, 0o700)
    conf, _ = write_conf(env, "unreadable", "user = nobody\n", app=os.path.join(private, "app"))
    p = _run(["-t", "--config", conf])
    eq(p.returncode, 2, f"-t exit 2: {p.stderr}")
    check("not readable and searchable by the workers' user nobody" in p.stderr, f"says why: {p.stderr}")
    p = _run(["--config", conf])
    eq(p.returncode, 2, f"a start exits 2: {p.stderr}")
    check("not readable and searchable by user nobody" in p.stderr, f"and says why: {p.stderr}")


def test_a_non_root_start_with_another_user_is_an_error(env):
    _root_only()
    nobody = pwd.getpwnam("nobody")
    conf, _ = write_conf(env, "notroot", "user = root\n", app=_hello_copy(env))
    os.chmod(conf, 0o644)

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)
    p = _run(["--config", conf], drop_allow=False, preexec_fn=as_nobody, cwd="/")
    eq(p.returncode, 2, f"exit 2: {p.stderr}")
    check("only root can switch to another user" in p.stderr, f"the message says why: {p.stderr}")
