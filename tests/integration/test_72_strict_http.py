"""Plain HTTP is parsed strictly (issue 9, section 5): request-smuggling shapes
get 400 and a closed connection, never a second request; header count is
bounded (max_headers, 431) and header handling is linear, so a request with
20,000 headers neither takes seconds nor stalls the event loop."""
import os
import re
import socket
import threading
import time

import harness
from common import check, conf_server, eq


def strict_server(env):
    def make():
        srv = conf_server(env, "strict.conf", "threads = 4\n")
        eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "warm-up")
        return srv
    return env.once("strict_server", make)


def many_headers_server(env):
    """max_headers raised past 20,000, so that such a request reaches the application."""
    def make():
        srv = conf_server(env, "many-headers.conf", "threads = 4\nmax_headers = 30000\nmax_header = 1048576\n")
        eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "warm-up")
        return srv
    return env.once("many_headers_server", make)


def send_and_read(port, data, timeout=10):
    """Everything the server answers until it closes; fails if it keeps the
    connection open past timeout."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        try:
            return harness.read_all(s)
        except socket.timeout:
            raise AssertionError(f"the connection stayed open after {data[:60]!r}")


ECHO = b"POST /echo.ashx HTTP/1.1\r\nHost: a.example\r\n"
SMUGGLED = b"GET /hello.ashx?smuggled=1 HTTP/1.1\r\nHost: a.example\r\n\r\n"
SHAPES = {
    # the two bytes after chunk data are not CRLF: a front end that frames
    # chunks differently would see SMUGGLED as a request of its own
    "chunk data not followed by CRLF":
        ECHO + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n" + SMUGGLED,
    "request hidden in chunk data":
        ECHO + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc" + SMUGGLED + b"0\r\n\r\n",
    "chunk data ended by LF only":
        ECHO + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n" + SMUGGLED,
    "chunk extension over 4096 bytes":
        ECHO + b"Transfer-Encoding: chunked\r\n\r\n1;" + b"e" * 5000 + b"\r\nx\r\n0\r\n\r\n" + SMUGGLED,
    "two Host headers":
        b"GET /echo.ashx HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n" + SMUGGLED,
    "absolute-form target with another host":
        b"GET http://b.example/echo.ashx HTTP/1.1\r\nHost: a.example\r\n\r\n" + SMUGGLED,
    "HTTP/1.1 without Host":
        b"GET /echo.ashx HTTP/1.1\r\nX-A: 1\r\n\r\n" + SMUGGLED,
    "Content-Length and Transfer-Encoding":
        ECHO + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "bare CR in the request line":
        b"GET /echo.ashx HTTP/1.1\rHost: a.example\r\n\r\n" + SMUGGLED,
}


def test_smuggling_shapes_get_400_and_a_closed_connection(env):
    srv = strict_server(env)
    for name, data in SHAPES.items():
        out = send_and_read(srv.port, data)
        check(out.startswith(b"HTTP/1.1 400 "), f"{name}: {out[:80]!r}")
        eq(responses(out), 1, f"{name}: one answer, the next request is never read")
        check(b"Hello, World" not in out, f"{name}: the smuggled request was not served")
    eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "still serving")


def test_http10_with_transfer_encoding_closes_after_the_response(env):
    srv = strict_server(env)
    data = (b"POST /echo.ashx HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n" + b"GET /hello.ashx HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    out = send_and_read(srv.port, data)
    check(out.startswith(b"HTTP/1.1 200 "), f"served: {out[:80]!r}")
    eq(responses(out), 1, "one response, then the connection closed (RFC 9112 6.1)")
    check(b"Hello, World" not in out, "the request after it was not read")
    # without Transfer-Encoding, HTTP/1.0 keep-alive still works
    out = send_and_read(srv.port, b"GET /hello.ashx HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                        b"GET /hello.ashx HTTP/1.0\r\n\r\n")
    eq(out.count(b"Hello, World"), 2, "HTTP/1.0 keep-alive")


def responses(out):
    """Number of status lines in what the server sent."""
    return len(re.findall(rb"(?m)^HTTP/1\.1 \d{3} ", out))


def empty_headers(n, distinct):
    return b"".join((b"X-%d:\r\n" % i) if distinct else b"X:\r\n" for i in range(n))


def test_20000_empty_headers_get_431_at_once_while_others_are_served(env):
    srv = strict_server(env)
    req = b"GET /hello.ashx HTTP/1.1\r\nHost: a.example\r\n" + empty_headers(20000, True) + b"\r\n"
    t = time.monotonic()
    out = send_and_read(srv.port, req)
    took = time.monotonic() - t
    check(out.startswith(b"HTTP/1.1 431 "), f"past max_headers (100): {out[:80]!r}")
    check(took < 1.0, f"refused in {took:.2f} s")
    # four clients keep sending such requests; normal requests are answered meanwhile
    stop = threading.Event()
    answers = []

    def hostile():
        while not stop.is_set():
            answers.append(send_and_read(srv.port, req)[:12])

    threads = [threading.Thread(target=hostile) for _ in range(4)]
    for th in threads:
        th.start()
    try:
        worst = 0.0
        for _ in range(20):
            t = time.monotonic()
            eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "a normal request meanwhile")
            worst = max(worst, time.monotonic() - t)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    print(f"# 20,000 empty headers: 431 in {took * 1000:.0f} ms; {len(answers)} such requests during 20 "
          f"normal ones, worst normal {worst * 1000:.0f} ms")
    check(answers and all(a == b"HTTP/1.1 431" for a in answers), f"all 431: {set(answers)}")
    check(worst < 0.5, f"a normal request waited {worst * 1000:.0f} ms")


def test_20000_headers_within_max_headers_are_linear(env):
    """Raised max_headers: the whole path (C parser, CGI block, RequestVars,
    ASP.NET's header collection) handles 20,000 headers in well under the 4-6 s
    it took when every lookup scanned every header."""
    srv = many_headers_server(env)
    for distinct in (True, False):
        req = (b"GET /echo.ashx HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n" +
               empty_headers(20000, distinct) + b"X-Last: end\r\n\r\n")
        t = time.monotonic()
        out = send_and_read(srv.port, req, timeout=30)
        took = time.monotonic() - t
        print(f"# 20,000 {'distinct' if distinct else 'repeated'} headers served in {took * 1000:.0f} ms")
        check(out.startswith(b"HTTP/1.1 200 "), f"served: {out[:80]!r}")
        check(b"h.X-Last=end" in out, "the last header reached the application")
        check(took < 2.0, f"took {took:.2f} s")


# issue 9 red-team: shapes llhttp lets through, refused with the status RFC 9112 names
MORE_SHAPES = {
    # obs-fold: a proxy that does not unfold reads a Transfer-Encoding here
    "obs-fold before Transfer-Encoding":
        (ECHO + b"X-Foo: bar\r\n Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n" + SMUGGLED, 400),
    "two spaces after the method": (b"GET  /echo.ashx HTTP/1.1\r\nHost: a.example\r\n\r\n" + SMUGGLED, 400),
    "the HTTP/0.9 form": (b"GET /echo.ashx\r\n\r\n" + SMUGGLED, 400),
    "gzip, chunked": (ECHO + b"Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n" + SMUGGLED, 501),
    "chunked, chunked": (ECHO + b"Transfer-Encoding: chunked, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n" + SMUGGLED, 400),
    "HTTP/2.0": (b"GET /echo.ashx HTTP/2.0\r\nHost: a.example\r\n\r\n" + SMUGGLED, 505),
    "HTTP/3.0": (b"GET /echo.ashx HTTP/3.0\r\nHost: a.example\r\n\r\n" + SMUGGLED, 505),
}
BAD_HOSTS = ["evil.com/x?", "x@vh.example", "a b", "evil.com:1:2", "evil.com\\x", "[vh.example]",
             "vh.example,other", "vh.example..", "vh%2eexample"]


def test_more_shapes_get_their_status_and_a_closed_connection(env):
    srv = strict_server(env)
    for name, (data, status) in MORE_SHAPES.items():
        out = send_and_read(srv.port, data)
        check(out.startswith(b"HTTP/1.1 %d " % status), f"{name}: {out[:80]!r}")
        eq(responses(out), 1, f"{name}: one answer, the next request is never read")
        check(b"Hello, World" not in out, f"{name}: the smuggled request was not served")


def vhost_server(env):
    """samples/hello for any host, the framing app for vh.example only."""
    app = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "framing")
    def make():
        srv = conf_server(env, "vhost.conf", "threads = 2\n",
                          apps={"hello": f"vpath = /\npath = {harness.SAMPLE}\n",
                                "vh": f"vpath = /\nvhost = vh.example\npath = {app}\n"})
        eq(harness.request(srv.port, "GET", "/hello.ashx").status, 200, "warm-up")
        return srv
    return env.once("vhost_server", make)


def scgi_host(srv, host, uri="/echo.ashx"):
    raw = harness.scgi_request([("REQUEST_METHOD", "GET"), ("REQUEST_URI", uri), ("QUERY_STRING", ""),
                                ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "x"), ("SERVER_PORT", "80"),
                                ("REMOTE_ADDR", "127.0.0.1"), ("HTTP_HOST", host)])
    return harness.exchange(("127.0.0.1", srv.port), raw, timeout=15)


def test_invalid_host_gets_400_over_http_and_scgi(env):
    """RFC 9112 3.2: an invalid Host is a 400 before any application runs, whether
    a client sends it or a front end passes it on as HTTP_HOST (one rule)."""
    srv = vhost_server(env)
    for host in BAD_HOSTS:
        out = send_and_read(srv.port, b"GET /echo.ashx HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n" + SMUGGLED)
        check(out.startswith(b"HTTP/1.1 400 "), f"HTTP Host {host!r}: {out[:120]!r}")
        eq(responses(out), 1, f"HTTP Host {host!r}: one answer")
        out = scgi_host(srv, host)
        check(re.match(rb"(Status:|HTTP/1.1) 400 ", out) is not None, f"SCGI HTTP_HOST {host!r}: {out[:120]!r}")
    for host, uri in (("vh.example:8080", "/rules.ashx"), ("[::1]:80", "/hello.ashx"),
                      ("my_host.example", "/hello.ashx")):
        out = scgi_host(srv, host, uri)
        check(re.match(rb"(Status:|HTTP/1.1) 200 ", out) is not None, f"SCGI HTTP_HOST {host!r}: {out[:120]!r}")


def test_trailing_dot_is_the_same_vhost(env):
    """vh.example. is vh.example (the DNS root), as nginx takes it: the vhost's
    application answers, over HTTP and SCGI, and SERVER_NAME has no dot."""
    srv = vhost_server(env)
    for host in ("vh.example", "vh.example.", "VH.example.:8080"):
        r = harness.request(srv.port, "GET", "/rules.ashx", headers={"Host": host}, timeout=15)
        eq((r.status, r.body), (200, b"next\n"), f"HTTP Host {host!r}")
        out = scgi_host(srv, host, "/rules.ashx")
        check(out.endswith(b"next\n"), f"SCGI HTTP_HOST {host!r}: {out[:200]!r}")
    r = harness.request(srv.port, "GET", "/rules.ashx", headers={"Host": "other.example."}, timeout=15)
    eq(r.status, 404, "another host: the default application, which has no rules.ashx")
