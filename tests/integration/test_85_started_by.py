"""However the server is started, it serves: sockets handed over by systemd
(samples/scgi-mono.socket and .service, set up the way systemd does), a
listening socket on standard input (lighttpd's bin-path, the FastCGI
convention), and the SCGI autolaunch convention (SCGI=1: the marker is not
passed on to applications, and the server exits when its parent goes away)."""
import os
import re
import shlex
import socket
import subprocess
import sys
import time

import harness
from common import check, eq

ROOT = harness.ROOT


def unit_value(path, key):
    for line in open(path):
        m = re.match(rf"\s*{key}\s*=\s*(.*)$", line)
        if m:
            return m.group(1).strip()
    raise AssertionError(f"{path}: no {key}=")


def conf(env, name):
    path = os.path.join(env.work.path, name)
    # the file names an address the inherited sockets must win over
    open(path, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{harness.free_port()}\nthreads = 2\n\n"
                          f"[app:hello]\nvpath = /\npath = {harness.SAMPLE}\n")
    return path


def listening_tcp():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def test_systemd_socket_activation_with_the_sample_units(env):
    sock_unit = os.path.join(ROOT, "samples", "scgi-mono.socket")
    svc_unit = os.path.join(ROOT, "samples", "scgi-mono.service")
    eq(unit_value(sock_unit, "ListenStream"), "127.0.0.1:8000", "the sample socket's address")
    exec_start = shlex.split(unit_value(svc_unit, "ExecStart"))
    check(exec_start[0].endswith("/scgi-mono-server") and exec_start[1] == "--config",
          f"ExecStart runs the server with a configuration: {exec_start}")
    lsock = listening_tcp()  # what systemd binds for ListenStream (on a free port here)
    port = lsock.getsockname()[1]

    args = exec_start[1:]
    args[1] = conf(env, "systemd.conf")
    # As systemd: the socket as fd 3 (and nothing else extra), LISTEN_PID the pid
    # of the process that runs the server: a tiny launcher that moves the fd and
    # execs the server (same pid).
    n = lsock.fileno()
    launcher = ("import os, sys\n"
                "n = int(sys.argv[1])\n"
                "if n != 3:\n    os.dup2(n, 3)\n    os.close(n)\n"
                "os.set_inheritable(3, True)\n"
                "os.environ['LISTEN_PID'] = str(os.getpid())\n"
                "os.environ['WATCHDOG_PID'] = str(os.getpid())\n"
                "os.execv(sys.argv[2], sys.argv[2:])\n")
    as_systemd = [sys.executable, "-c", launcher, str(n)]
    # Type=notify, with the watchdog the unit asks for (WatchdogSec=, here 1 s)
    eq(unit_value(svc_unit, "Type"), "notify", "the sample service is Type=notify")
    eq(unit_value(svc_unit, "NotifyAccess"), "main", "only the supervisor notifies")
    eq(unit_value(svc_unit, "KillMode"), "mixed", "SIGTERM to the supervisor only")
    check(int(unit_value(svc_unit, "WatchdogSec")) > 0, "WatchdogSec= is set")
    nsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    npath = os.path.join(env.work.path, "systemd.notify")
    nsock.bind(npath)
    nsock.settimeout(10)
    srv = env.server(args, ready_port=port, pass_fds=(n,), wrap=as_systemd,
                     env=dict(os.environ, LISTEN_FDS="1", LISTEN_FDNAMES="scgi-mono.socket",
                              NOTIFY_SOCKET=npath, WATCHDOG_USEC="1000000"))
    lsock.close()
    got = []
    while not any("READY=1" in m for m in got):
        got.append(nsock.recv(4096).decode())
    while sum("WATCHDOG=1" in m for m in got) < 2:
        got.append(nsock.recv(4096).decode())
    check(any(f"MAINPID={srv.proc.pid}" in m for m in got), f"READY=1 with the supervisor's MAINPID: {got}")
    r = harness.request(port, "GET", "/echo.ashx?env=LISTEN_FDS")
    eq(r.status, 200, "served on the socket systemd handed over")
    eq(r.echo()["env.LISTEN_FDS"], "(unset)", "LISTEN_* not passed on to the application")
    out = harness.scgi_get(("127.0.0.1", port), "/hello.ashx")
    check(out.startswith(b"Status: 200 OK") and out.endswith(b"Hello, World"), f"SCGI too: {out[:60]!r}")
    check("(fd 3 from systemd)" in srv.log_text(), "the log names the inherited socket")
    check(srv.stop() == 0, "SIGTERM: exit 0")
    nsock.settimeout(0)
    try:
        while True:
            got.append(nsock.recv(4096).decode())
    except BlockingIOError:
        pass
    nsock.close()
    check(any("STOPPING=1" in m for m in got), f"STOPPING=1 on SIGTERM: {got[-3:]}")


def test_listening_socket_on_stdin_is_served(env):
    lsock = listening_tcp()
    port = lsock.getsockname()[1]
    srv = env.server(["--config", conf(env, "stdin.conf")], ready_port=port, stdin=lsock.fileno())
    lsock.close()
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "served on fd 0")
    check("(fd 0 from standard input)" in srv.log_text(), "the log names the inherited socket")


def test_listen_on_the_command_line_wins_over_an_inherited_socket(env):
    lsock = listening_tcp()
    port = harness.free_port()
    env.server(["--config", conf(env, "cli.conf"), "--listen", f"tcp:127.0.0.1:{port}"], ready_port=port,
               stdin=lsock.fileno())
    eq(harness.request(port, "GET", "/hello.ashx").status, 200, "served on --listen")
    lsock.settimeout(0.5)
    c = socket.create_connection(lsock.getsockname(), timeout=2)  # queued in the backlog, never accepted
    try:
        lsock.accept()[0].close()  # only this test process accepts on it
    finally:
        c.close()
        lsock.close()


def test_scgi_autolaunch_marker_removed_and_exit_when_parent_goes_away(env):
    port = harness.free_port()
    r, w = os.pipe()  # the parent's end of our standard input
    srv = env.server(["--config", conf(env, "auto.conf"), "--listen", f"tcp:127.0.0.1:{port}"], ready_port=port,
                     stdin=r, env=dict(os.environ, SCGI="1"))
    os.close(r)
    resp = harness.request(port, "GET", "/echo.ashx?env=SCGI")
    eq(resp.echo()["env.SCGI"], "(unset)", "SCGI=1 is not passed on to the application")
    t = time.monotonic()
    os.close(w)  # the parent goes away
    try:
        code = srv.proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server outlived its parent's standard input by 30 s")
    eq(code, 0, "clean exit")
    print(f"# exited {time.monotonic() - t:.1f} s after standard input closed")
    check("standard input closed" in srv.log_text(), "logged why it stopped")


def test_scgi_autolaunch_with_a_listening_socket_on_stdin(env):
    lsock = listening_tcp()
    port = lsock.getsockname()[1]
    env.server(["--config", conf(env, "auto-sock.conf")], ready_port=port, stdin=lsock.fileno(),
               env=dict(os.environ, SCGI="1"))
    lsock.close()
    out = harness.scgi_get(("127.0.0.1", port), "/echo.ashx?env=SCGI")
    check(out.startswith(b"Status: 200 OK"), f"served: {out[:60]!r}")
    check(b"env.SCGI=(unset)" in out, "SCGI=1 not passed on")
