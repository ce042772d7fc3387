"""Slow and hostile clients cost a connection slot and a timer, nothing more;
time-outs close them; HTTP/1.1 features on the shared port."""
import os
import socket
import time

import harness
from common import check, conf_server, eq


def limits_server(env):
    """A server with short time-outs, so the tests can watch them fire."""
    def make():
        srv = conf_server(env, "limits.conf", "threads = 4\nmax_connections = 2000\nheader_timeout = 2\n"
                          "body_timeout = 2\nkeepalive_timeout = 2\nwrite_timeout = 2\nmax_body = 100000\n"
                          "body_buffer = 1000\n")
        eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "warm-up")
        return srv
    return env.once("limits_server", make)


def test_1000_trickling_clients_do_not_delay_a_normal_request(env):
    srv = limits_server(env)
    port = srv.port
    baseline = []
    for _ in range(5):
        t = time.monotonic()
        eq(harness.request(port, "GET", "/hello.ashx").status, 200, "baseline")
        baseline.append(time.monotonic() - t)
    slow = []
    try:
        for i in range(1000):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            # half an HTTP header, half an SCGI header, or a body stopped half way
            # (past body_buffer: its spool file is open): never completed
            s.sendall([b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\n", b"70:CONTENT_LENGTH\x000\x00",
                       b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: 90000\r\n\r\n" + b"b" * 5000][i % 3])
            slow.append(s)
        during = []
        for _ in range(5):
            t = time.monotonic()
            eq(harness.request(port, "GET", "/hello.ashx").status, 200, "a normal request among 1000 slow ones")
            during.append(time.monotonic() - t)
        delay = min(during) - min(baseline)
        print(f"# baseline best {min(baseline) * 1000:.1f} ms, with 1000 slow clients best "
              f"{min(during) * 1000:.1f} ms, worst {max(during) * 1000:.1f} ms")
        check(delay < 0.1, f"normal request delayed by {delay * 1000:.0f} ms")
    finally:
        for s in slow:
            s.close()


def test_header_timeout_closes_a_stalled_client(env):
    srv = limits_server(env)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"GET /hello.ashx HTTP/1.1\r\n")
        t = time.monotonic()
        data = harness.read_all(s)  # the server closes it at header_timeout (2 s)
        waited = time.monotonic() - t
    eq(data, b"", "no answer to half a request")
    check(1.0 < waited < 5.0, f"closed after {waited:.1f} s (header_timeout = 2)")


def test_body_over_max_body_is_413(env):
    srv = limits_server(env)
    r = harness.request(srv.port, "POST", "/echo.ashx", body=b"x" * 200000,
                        headers={"Content-Type": "application/octet-stream"})
    eq(r.status, 413, "HTTP body over max_body")
    raw = harness.scgi_request([("REQUEST_METHOD", "POST"), ("REQUEST_URI", "/echo.ashx")], b"y" * 200000)
    data = harness.exchange(("127.0.0.1", srv.port), raw)
    check(data.startswith(b"Status: 413"), f"SCGI body over max_body: {data[:60]!r}")
    eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "still serving")


def test_keepalive_timeout_closes_idle_connection(env):
    srv = limits_server(env)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\n\r\n")
        t = time.monotonic()
        data = harness.read_all(s)  # answered, then closed when idle for keepalive_timeout
        waited = time.monotonic() - t
    check(data.startswith(b"HTTP/1.1 200") and data.endswith(b"Hello, World"), data[:80])
    check(1.0 < waited < 5.0, f"idle connection closed after {waited:.1f} s (keepalive_timeout = 2)")


def test_http10_client_and_connection_close(env):
    srv = limits_server(env)
    data = harness.exchange(("127.0.0.1", srv.port), b"GET /hello.ashx HTTP/1.0\r\n\r\n")
    check(data.startswith(b"HTTP/1.1 200") and b"Content-Length: 12" in data, data[:200])
    check(data.endswith(b"Hello, World"), "HTTP/1.0: body, then the server closes")
    data = harness.exchange(("127.0.0.1", srv.port),
                            b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(b"Connection: close" in data and data.endswith(b"Hello, World"), data[:200])


def test_http_chunked_request_body_and_expect_continue(env):
    srv = limits_server(env)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"POST /echo.ashx HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                  b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
        interim = s.recv(100)
        check(interim.startswith(b"HTTP/1.1 100 Continue"), f"100 Continue first: {interim!r}")
        s.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        data = harness.read_all(s)
    body = data.split(b"\r\n\r\n", 1)[1].decode()
    check("bodylength=11" in body, body)
    check(f"bodysum={sum(b'hello world')}" in body, body)


def test_http_pipelined_requests_answered_in_order(env):
    srv = limits_server(env)
    reqs = b"".join(b"GET /echo.ashx?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
    reqs += b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = harness.exchange(("127.0.0.1", srv.port), reqs)
    positions = [data.find(b"q.n=%d\n" % i) for i in range(5)]
    check(all(p > 0 for p in positions) and positions == sorted(positions), f"answers in order: {positions}")
    check(data.endswith(b"Hello, World"), "the last answer last")


def test_streamed_response_arrives_whole_without_buffering(env):
    from common import main_nginx, main_server
    srv = main_server(env)
    rss_before = srv.status_kib("VmRSS")
    r = harness.request(srv.port, "GET", "/stream.ashx?mb=64", timeout=120)
    eq(r.status, 200, "status")
    eq(len(r.body), 64 << 20, "64 MiB over plain HTTP (chunked)")
    eq(r.body[:26], b"abcdefghijklmnopqrstuvwxyz", "content")
    r = harness.request(main_nginx(env).port, "GET", "/stream.ashx?mb=8", timeout=120)
    eq(len(r.body), 8 << 20, "8 MiB through nginx")
    rss_after = srv.status_kib("VmRSS")
    print(f"# server RSS {rss_before // 1024} MiB before, {rss_after // 1024} MiB after streaming 72 MiB")
    check(rss_after - rss_before < 64 * 1024, "the response was not held whole in memory")


def test_client_gone_mid_response_stops_the_handler(env):
    from common import main_server
    srv = main_server(env)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"GET /stream.ashx?mb=1024 HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < (1 << 20):
            got += len(s.recv(65536))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close
    deadline = time.monotonic() + 20
    report = ""
    while time.monotonic() < deadline:
        report = harness.request(srv.port, "GET", "/stream.ashx?report=1").text
        if report != "abandoned=-1":
            break
        time.sleep(0.2)
    check(report.startswith("abandoned="), report)
    piece = int(report.split("=")[1])
    check(0 < piece < 1024 * 16, f"IsClientConnected turned false after the client left (piece {piece} of 16384)")


def static_file_server(env):
    def make():
        w = env.work.path
        app = harness.copy_sample(w, "static-app")
        data = bytes((i * 31 + 7) % 256 for i in range(5 << 20))
        open(os.path.join(app, "big.bin"), "wb").write(data)
        port = harness.free_port()
        srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{app}", "--threads", "2"], ready_port=port)
        return srv, data
    return env.once("static_file_server", make)


def test_static_file_sent_whole_over_http_and_nginx(env):
    srv, data = static_file_server(env)
    r = harness.request(srv.port, "GET", "/big.bin")
    eq(r.status, 200, "status")
    eq(r.header("Content-Length"), str(len(data)), "Content-Length from ASP.NET")
    check(r.body == data, "5 MiB file byte for byte over HTTP")
    n = env.nginx(f"127.0.0.1:{srv.port}")
    r = harness.request(n.port, "GET", "/big.bin")
    check(r.status == 200 and r.body == data, "byte for byte through nginx")
    head = harness.exchange(("127.0.0.1", srv.port), b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    check(head.endswith(b"\r\n\r\n") and b"Content-Length: %d" % len(data) in head, "HEAD: headers only")


def test_static_file_uses_sendfile(env):
    import shutil
    import subprocess
    srv, data = static_file_server(env)
    if not shutil.which("strace"):
        raise AssertionError("strace is missing (build.sh installs it)")
    out = os.path.join(env.work.path, "strace.out")
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendfile", "-o", out, "-p", str(srv.worker_pid())],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # let strace attach to every thread
        r = harness.request(srv.port, "GET", "/big.bin")
        check(r.body == data, "file intact while traced")
    finally:
        tracer.terminate()
        tracer.wait(10)
    calls = open(out).read()
    check("sendfile(" in calls, "sendfile(2) carried the file: " + calls[-500:])


def test_stalled_reader_is_dropped_after_write_timeout(env):
    srv = limits_server(env)
    before = srv.log_text()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /stream.ashx?mb=1024 HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        # Read nothing: once the socket buffers fill, the server's write stalls.
        deadline = time.monotonic() + 15
        new = ""
        while time.monotonic() < deadline:
            new = srv.log_text()[len(before):]
            if "response write timed out" in new:
                break
            time.sleep(0.2)
        check("response write timed out" in new, "the stalled write was given up: " + new[-300:])
        t = time.monotonic()
        eq(harness.request(srv.port, "GET", "/hello.ashx").text, "Hello, World", "others are served")
        check(time.monotonic() - t < 1.0, "promptly")
    finally:
        s.close()
