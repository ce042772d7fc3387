"""Large request bodies are never held whole in memory, and never hold a worker:
the event loop writes a body over body_buffer to an unlinked temporary file as
it arrives and hands the request to a worker once it is whole; a body that
ends early never reaches the application."""
import os
import socket
import time

import harness
from common import check, conf_server, eq, main_nginx

GIB = 1 << 30
MIB = 1 << 20
PATTERN = bytes(range(256)) * 4096  # 1 MiB; its byte sum is 32640 * 4096


def expected_sum(size):
    # the body is PATTERN repeated; size is a multiple of 256
    return (size // 256 * 32640) & 0xFFFFFFFF


def big_server(env):
    """Bodies up to 2 GiB accepted; body_timeout short enough to watch it fire."""
    def make():
        srv = conf_server(env, "big.conf", "threads = 4\nmax_body = 2147483647\nbody_timeout = 2\n")
        eq(harness.request(srv.port, "POST", "/upload.ashx", body=PATTERN[:256]).text,
           f"bodylength=256\nbodysum={expected_sum(256)}\n", "warm-up")
        return srv
    return env.once("big_server", make)


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return lines[0], lines[1:], body


def send_body(sock, size, chunked, on_progress=None):
    sent = 0
    while sent < size:
        n = min(len(PATTERN), size - sent)
        piece = PATTERN[:n]
        sock.sendall(b"%x\r\n" % n + piece + b"\r\n" if chunked else piece)
        sent += n
        if on_progress:
            on_progress(sent)
    if chunked:
        sock.sendall(b"0\r\n\r\n")


def upload(srv, size, how, on_progress=None):
    """Sends size bytes to upload.ashx ("http", "chunked" or "scgi"); returns
    (first line, body of the response, peak VmRSS growth in KiB, seconds)."""
    base = srv.status_kib("VmRSS")
    peak = [base]

    def progress(sent):
        if sent % (32 * MIB) == 0:
            peak[0] = max(peak[0], srv.status_kib("VmRSS"))
        if on_progress:
            on_progress(sent)

    t = time.monotonic()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=60) as s:
        if how == "scgi":
            s.sendall(scgi_head(size))
        elif how == "chunked":
            s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                      b"Connection: close\r\n\r\n")
        else:
            s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % size)
        send_body(s, size, how == "chunked", progress)
        data = harness.read_all(s)
    secs = time.monotonic() - t
    peak[0] = max(peak[0], srv.status_kib("VmRSS"))
    first, _, body = parse_response(data)
    return first, body.decode("latin-1"), peak[0] - base, secs


def scgi_head(size, uri="/upload.ashx"):
    pairs = [("CONTENT_LENGTH", str(size)), ("SCGI", "1"), ("REQUEST_METHOD", "POST"), ("REQUEST_URI", uri),
             ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_PORT", "80"), ("REMOTE_ADDR", "127.0.0.1")]
    block = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in pairs)
    return str(len(block)).encode() + b":" + block + b","


def check_upload(srv, size, how):
    first, body, growth, secs = upload(srv, size, how)
    print(f"# {how}: {size // MIB} MiB in {secs:.1f} s, server VmRSS growth {growth // 1024} MiB")
    check(first.endswith("200 OK"), f"{how}: first line {first!r}")
    eq(body, f"bodylength={size}\nbodysum={expected_sum(size)}\n", f"{how}: what upload.ashx read")
    check(growth <= 64 * 1024, f"{how}: resident memory grew by {growth // 1024} MiB (limit 64 MiB)")


def test_1gib_upload_over_http_grows_memory_at_most_64mib(env):
    check_upload(big_server(env), GIB, "http")


def test_1gib_upload_over_scgi_grows_memory_at_most_64mib(env):
    check_upload(big_server(env), GIB, "scgi")


def test_chunked_upload_spools_to_a_temporary_file_that_is_removed(env):
    srv = big_server(env)
    seen = []

    def look(sent):
        if sent == 128 * MIB:
            time.sleep(0.3)
            seen.extend(f for f in srv.open_files() if f.startswith(srv.tmp))
    first, body, growth, secs = upload(srv, 256 * MIB, "chunked", look)
    print(f"# chunked: 256 MiB in {secs:.1f} s, VmRSS growth {growth // 1024} MiB, spool seen as {seen}")
    check(first.endswith("200 OK"), f"first line {first!r}")
    eq(body, f"bodylength={256 * MIB}\nbodysum={expected_sum(256 * MIB)}\n", "what upload.ashx read")
    check(growth <= 64 * 1024, f"resident memory grew by {growth // 1024} MiB (limit 64 MiB)")
    check(len(seen) == 1 and seen[0].endswith("(deleted)"),
          f"while uploading, one unlinked file in the server's TMPDIR is open: {seen}")
    time.sleep(0.2)
    left = [f for f in srv.open_files() if f.startswith(srv.tmp)]
    eq(left, [], "spool files still open after the request")
    spools = [n for _, _, files in os.walk(srv.tmp) for n in files if n.startswith("scgi-mono-body")]
    eq(spools, [], "spool files left in TMPDIR")


def test_large_upload_through_nginx(env):
    ng = main_nginx(env)
    size = 64 * MIB
    with socket.create_connection(("127.0.0.1", ng.port), timeout=60) as s:
        s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % size)
        send_body(s, size, False)
        first, _, body = parse_response(harness.read_all(s))
    check(first.endswith("200 OK"), f"first line {first!r}")
    eq(body.decode(), f"bodylength={size}\nbodysum={expected_sum(size)}\n", "what upload.ashx read")


def incomplete(srv):
    return harness.request(srv.port, "GET", "/upload.ashx?report=1").text.strip()


def test_body_cut_short_never_reaches_the_application(env):
    srv = big_server(env)
    for how in ("http", "scgi"):
        before = incomplete(srv)
        log_before = len(srv.log_text())
        with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
            s.sendall(scgi_head(8 * MIB) if how == "scgi" else
                      b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (8 * MIB))
            s.sendall(PATTERN * 3)
            s.shutdown(socket.SHUT_WR)
            data = harness.read_all(s)
        eq(data, b"", f"{how}: no answer to a request that never ended")
        time.sleep(0.2)
        eq(incomplete(srv), before, f"{how}: upload.ashx never ran")
        new = srv.log_text()[log_before:]
        check("connection closed before the request was complete" in new, f"{how}: logged: {new[-400:]}")


def test_body_stalled_past_body_timeout_is_dropped(env):
    srv = big_server(env)
    before = incomplete(srv)
    log_before = len(srv.log_text())
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (8 * MIB))
        s.sendall(PATTERN * 2)
        t = time.monotonic()
        data = harness.read_all(s)  # the server gives up after body_timeout (2 s) and closes
        waited = time.monotonic() - t
    eq(data, b"", "no answer")
    check(1.5 < waited < 10, f"closed after {waited:.1f} s (body_timeout is 2 s)")
    eq(incomplete(srv), before, "upload.ashx never ran")
    check("timed out reading the request" in srv.log_text()[log_before:], "logged")


def test_slow_uploaders_hold_no_worker(env):
    """More clients than workers, each stalled in the middle of a large body,
    cost connection slots only: a normal request is answered at once."""
    srv = big_server(env)  # 4 worker threads
    baseline = min(_timed(srv) for _ in range(3))
    slow = []
    try:
        for i in range(40):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.sendall(scgi_head(64 * MIB) if i % 2 else
                      b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (64 * MIB))
            s.sendall(PATTERN[:100000])  # a part of the body, then silence
            slow.append(s)
        time.sleep(0.3)
        during = min(_timed(srv) for _ in range(3))
        print(f"# a normal request: {baseline * 1000:.1f} ms alone, {during * 1000:.1f} ms beside 40 stalled uploads")
        check(during - baseline < 0.1, f"delayed by {(during - baseline) * 1000:.0f} ms")
    finally:
        for s in slow:
            s.close()


def _timed(srv):
    t = time.monotonic()
    eq(harness.request(srv.port, "GET", "/hello.ashx", timeout=10).text, "Hello, World", "normal request")
    return time.monotonic() - t


def test_unread_large_body_then_keep_alive(env):
    srv = big_server(env)
    size = 16 * MIB
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"POST /hello.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        send_body(s, size, False)  # hello.ashx never reads it
        s.sendall(b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = harness.read_all(s)
    answers = data.split(b"HTTP/1.1 200 OK\r\n")
    eq(len(answers), 3, f"two answers on one connection: {data[:300]!r}")
    check(answers[1].endswith(b"Hello, World") and answers[2].endswith(b"Hello, World"), repr(data[-200:]))


def test_expect_continue_with_a_large_body(env):
    srv = big_server(env)
    size = 4 * MIB
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"Expect: 100-continue\r\nConnection: close\r\n\r\n" % size)
        cont = s.recv(100)
        eq(cont, b"HTTP/1.1 100 Continue\r\n\r\n", "interim answer")
        send_body(s, size, False)
        first, _, body = parse_response(harness.read_all(s))
    eq(first, "HTTP/1.1 200 OK", "final answer")
    eq(body.decode(), f"bodylength={size}\nbodysum={expected_sum(size)}\n", "what upload.ashx read")


def test_keep_alive_and_pipelining_after_a_spooled_body(env):
    srv = big_server(env)
    size = 3 * MIB
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        s.sendall(b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        send_body(s, size, False)
        # the next request right behind the body, in the same stream
        s.sendall(b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = harness.read_all(s)
    answers = data.split(b"HTTP/1.1 200 OK\r\n")
    eq(len(answers), 3, f"two answers on one connection: {data!r}")
    check(f"bodylength={size}\n".encode() in answers[1], f"first answer: {answers[1]!r}")
    check(b"Connection: close" not in answers[1], "the connection stayed open after a fully read body")
    check(answers[2].endswith(b"Hello, World"), f"second answer: {answers[2]!r}")


def test_spool_budget_max_spool_answers_503_then_recovers(env):
    srv = conf_server(env, "spool-budget.conf", "threads = 2\nbody_buffer = 65536\nmax_spool = 3145728\n")
    port = srv.port
    head = b"POST /upload.ashx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (2 * MIB)
    a = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        a.sendall(head + PATTERN + PATTERN[:MIB // 2])  # 1.5 MiB waiting in a spool file
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as b:
            b.sendall(head)
            try:
                send_body(b, 2 * MIB, False)  # 1.5 + 2 MiB > max_spool (3 MiB)
            except OSError:
                pass  # refused part way: the server stops reading
            first, _, body = parse_response(harness.read_all(b))
        eq(first, "HTTP/1.1 503 Service Unavailable", "a body past the spool budget")
        check(b"max_spool" in body, f"the answer says why: {body!r}")
        # a length announced past what is left: 503 at once, before any body (no 100 Continue)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
            c.sendall(head.replace(b"Connection: close", b"Expect: 100-continue"))
            first, _, body = parse_response(harness.read_all(c))
        eq(first, "HTTP/1.1 503 Service Unavailable", "announced past the spool budget")
    finally:
        a.close()  # its 1.5 MiB go back to the budget
    time.sleep(0.3)
    first, body, _, _ = upload(srv, 2 * MIB, "http")
    check(first.endswith("200 OK"), f"after the stalled upload went away: {first}")
    eq(body, f"bodylength={2 * MIB}\nbodysum={expected_sum(2 * MIB)}\n", "what upload.ashx read")
    check("exceed max_spool" in srv.log_text(), "logged")
