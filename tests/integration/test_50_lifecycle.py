"""Starting, stopping and configuration errors."""
import os
import socket
import subprocess
import threading
import time

import harness
from common import check, eq


def test_sigterm_finishes_in_flight_request_and_exits_0(env):
    port = harness.free_port()
    srv = harness.Server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{harness.SAMPLE}", "--threads", "2"],
                         env.work.path, ready_port=port)
    try:
        eq(harness.request(port, "GET", "/hello.ashx").status, 200, "served before stop")
        # A request that takes 1.5 s is in flight when SIGTERM arrives.
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"GET /echo.ashx?sleep=1500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(0.3)
        srv.proc.send_signal(15)
        data = harness.read_all(s)
        s.close()
        check(data.startswith(b"HTTP/1.1 200"), "in-flight request answered: " + repr(data[:100]))
        rc = srv.proc.wait(40)
        eq(rc, 0, "exit status after SIGTERM")
        check("stopped" in srv.log_text(), "logged its stop")
    finally:
        srv.stop()


def test_bad_config_value_exits_2_naming_file_and_key(env):
    conf = os.path.join(env.work.path, "bad.conf")
    open(conf, "w").write("[server]\nthreads = many\n\n[app:x]\nvpath = /\npath = %s\n" % harness.SAMPLE)
    p = subprocess.run([harness.SERVER, "--config", conf], capture_output=True, text=True, timeout=30)
    eq(p.returncode, 2, "exit status")
    check("bad.conf" in p.stderr and "threads" in p.stderr, "message names file and key: " + p.stderr)


def test_config_syntax_error_names_line(env):
    conf = os.path.join(env.work.path, "syntax.conf")
    open(conf, "w").write("[server]\nthreads = 2\nthis line is wrong\n")
    p = subprocess.run([harness.SERVER, "--config", conf], capture_output=True, text=True, timeout=30)
    eq(p.returncode, 2, "exit status")
    check("syntax.conf" in p.stderr and "3" in p.stderr, "message names file and line: " + p.stderr)


def test_version_and_help(env):
    p = subprocess.run([harness.SERVER, "--version"], capture_output=True, text=True, timeout=30)
    eq(p.returncode, 0, "--version exit status")
    check(p.stdout.startswith("scgi-mono-server "), p.stdout)
    p = subprocess.run([harness.SERVER, "--help"], capture_output=True, text=True, timeout=30)
    eq(p.returncode, 0, "--help exit status")
    for opt in ("--config", "--listen", "--app", "--threads", "--version"):
        check(opt in p.stdout, f"--help mentions {opt}")


def test_ipv6_and_unix_listeners_with_nginx_over_unix(env):
    w = env.work.path
    port6 = harness.free_port(socket.AF_INET6, "::1")
    sock = os.path.join(w, "v6unix.sock")
    conf = os.path.join(w, "v6unix.conf")
    # nginx's workers run as an unprivileged user, so the socket must be open to them.
    open(conf, "w").write(f"[server]\nlisten = tcp:[::1]:{port6};unix:{sock}\nsocket_mode = 0666\nthreads = 2\n\n"
                          f"[app:hello]\nvpath = /\npath = {harness.SAMPLE}\n")
    srv = env.server(["--config", conf], ready_unix=sock)
    r = harness.request(port6, "GET", "/hello.ashx", host="::1")
    eq(r.text, "Hello, World", "over IPv6")
    eq(oct(os.stat(sock).st_mode & 0o777), oct(0o666), "socket file mode from socket_mode")
    n = env.nginx(f"unix:{sock}")
    r = harness.request(n.port, "GET", "/echo.ashx?x=1")
    eq(r.status, 200, "nginx over a UNIX socket")
    eq(r.echo()["q.x"], "1", "query through the UNIX socket")
    check(srv.proc.poll() is None, "server still running")


def test_stale_unix_socket_is_replaced(env):
    w = env.work.path
    sock = os.path.join(w, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    s.close()  # bound, never listened, closed: a stale socket file
    srv = env.server(["--listen", f"unix:{sock}", "--app", f"/:{harness.SAMPLE}", "--threads", "1"], ready_unix=sock)
    check(srv.proc.poll() is None, "server started over the stale socket")
    eq(oct(os.stat(sock).st_mode & 0o777), oct(0o660), "default socket file mode")
    eq(harness.scgi_get(sock, "/hello.ashx").split(b"\r\n\r\n", 1)[1], b"Hello, World", "serves on it")


def test_concurrent_requests_all_answered(env):
    from common import main_server
    port = main_server(env).port
    results = []

    def worker(i):
        for j in range(10):
            r = harness.request(port, "GET", f"/echo.ashx?i={i}&j={j}")
            results.append(r.status == 200 and f"q.j={j}" in r.text)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    eq(len(results), 160, "answers")
    check(all(results), "every concurrent answer correct")


def test_full_queue_answers_503_and_server_recovers(env):
    w = env.work.path
    port = harness.free_port()
    conf = os.path.join(w, "tiny-queue.conf")
    open(conf, "w").write(f"[server]\nlisten = tcp:127.0.0.1:{port}\nthreads = 1\nqueue = 1\n\n"
                          f"[app:hello]\nvpath = /\npath = {harness.SAMPLE}\n")
    env.server(["--config", conf], ready_port=port)
    # Warm-up. A first request answered 500 by ASP.NET has been seen about once in
    # fifteen full runs and not reproduced alone; its page is printed for diagnosis and
    # the warm-up retried, since this test is about the queue, not about the first request.
    for attempt in range(3):
        r = harness.request(port, "GET", "/echo.ashx")
        if r.status == 200:
            break
        print(f"# warm-up attempt {attempt + 1}: {r.status}: " + " ".join(r.text.split())[-1500:])
    eq(r.status, 200, "warm-up")
    statuses = []

    def slow(i):
        statuses.append(harness.request(port, "GET", f"/echo.ashx?sleep=1500&i={i}").status)

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join(60)
    eq(sorted(statuses), [200, 200, 503, 503], "one served, one queued, the rest refused")
    eq(harness.request(port, "GET", "/hello.ashx").status, 200, "serving again once idle")
