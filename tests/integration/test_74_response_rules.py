"""The response is framed by the server, whatever the application says
(README "Response rules"): over plain HTTP keep-alive with a pipelined second
request, over SCGI as a front end sees it, and through nginx. The application
is tests/integration/apps/framing/rules.ashx."""
import os
import socket
import time

import harness
from common import check, conf_server, eq

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "framing")
BODY = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?\n"
NEXT = b"GET /rules.ashx HTTP/1.1\r\nHost: x\r\n\r\n"  # answered "next\n"


def rules_server(env):
    def make():
        srv = conf_server(env, "rules.conf", "threads = 2\nkeepalive_timeout = 2\n",
                          apps={"rules": f"vpath = /\npath = {APP}\n"})
        eq(harness.request(srv.port, "GET", "/rules.ashx").body, b"next\n", "warm-up")
        return srv
    return env.once("rules_server", make)


def rules_nginx(env):
    return env.once("rules_nginx", lambda: env.nginx(f"127.0.0.1:{rules_server(env).port}"))


class Parsed:
    def __init__(self, line, headers, body):
        self.line = line          # the status line, bytes
        self.headers = headers    # [(name lowercased str, value bytes)]
        self.body = body
        self.status = int(line.split(b" ")[1])

    def all(self, name):
        return [v for k, v in self.headers if k == name]


def parse_one(data, head_request=False):
    """One response from the front of data, strictly: returns (Parsed, rest).
    The body is framed by Content-Length or chunked; with neither it runs to the end."""
    end = data.find(b"\r\n\r\n")
    check(end >= 0, f"no complete head in {data[:200]!r}")
    lines = data[:end].split(b"\r\n")
    check(lines[0].startswith(b"HTTP/1.1 ") or lines[0].startswith(b"Status: "), f"status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        check(sep and name and all(c > 32 and c < 127 and c not in b'()<>@,;:\\"/[]?={}' for c in name),
              f"malformed header line {line!r}")
        check(b"\0" not in value and b"\r" not in value and b"\n" not in value, f"control byte in {line!r}")
        headers.append((name.decode().lower(), value.strip()))
    p = Parsed(lines[0], headers, b"")
    rest = data[end + 4:]
    cl, te = p.all("content-length"), p.all("transfer-encoding")
    check(len(cl) + len(te) <= 1, f"framing headers {headers!r}")
    if head_request or p.status in (204, 304) or 100 <= p.status < 200:
        return p, rest
    if cl:
        n = int(cl[0])
        check(len(rest) >= n, f"body of {len(rest)} bytes where Content-Length is {n}")
        p.body, rest = rest[:n], rest[n:]
    elif te:
        eq(te[0], b"chunked", "Transfer-Encoding")
        body = b""
        while True:
            size_end = rest.find(b"\r\n")
            size = int(rest[:size_end], 16)
            chunk = rest[size_end + 2:size_end + 2 + size]
            eq(rest[size_end + 2 + size:size_end + 4 + size], b"\r\n", "after chunk data")
            rest = rest[size_end + 4 + size:]
            if size == 0:
                break
            body += chunk
        p.body = body
    else:
        p.body, rest = rest, b""
    return p, rest


def pipelined(srv, first, method="GET"):
    """first, then NEXT, on one keep-alive connection; everything until the
    server closes (keepalive_timeout is 2 s). Returns (data, seconds)."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=15) as s:
        s.sendall(f"{method} {first} HTTP/1.1\r\nHost: x\r\n\r\n".encode() + NEXT)
        t = time.monotonic()
        data = harness.read_all(s)
        return data, time.monotonic() - t


def check_next_follows(data, method="GET"):
    """data holds exactly two responses: the first's and "next\n"."""
    first, rest = parse_one(data, head_request=method == "HEAD")
    second, rest = parse_one(rest)
    eq(second.body, b"next\n", "the pipelined request's own answer")
    eq(rest, b"", "bytes after the second response")
    return first


def check_closed_after_first(srv, data, log_text):
    """The first response is the only one: its body does not match what its
    head announced, so the connection ends with it (no desync)."""
    check(b"next\n" not in data, f"the pipelined request was answered after a mismatched body: {data!r}")
    check(data.count(b"HTTP/1.1 ") == 1, f"one response only: {data!r}")
    harness.wait_for(lambda: log_text in srv.log_text(), 5, f"log line {log_text!r}")


def test_http_long_body_is_cut_at_content_length_and_closes(env):
    srv = rules_server(env)
    data, waited = pipelined(srv, "/rules.ashx?case=long")
    first, rest = parse_one(data)
    eq(first.all("content-length"), [b"2"], "the application's Content-Length")
    eq(first.body, BODY[:2], "body cut at the announced length")
    eq(rest, b"", "nothing after the cut body")
    check_closed_after_first(srv, data, "more than the 2 bytes it announced")
    check(waited < 1.5, f"closed at once, not by keepalive_timeout ({waited:.1f} s)")


def test_http_short_body_closes(env):
    srv = rules_server(env)
    for case, n in (("short", 1000), ("short-flushed", 100000)):
        data, waited = pipelined(srv, f"/rules.ashx?case={case}")
        end = data.find(b"\r\n\r\n") + 4
        check(f"Content-Length: {n}\r\n".encode() in data[:end], f"{case}: head {data[:end]!r}")
        eq(data[end:], BODY, f"{case}: the body written, then the end of the connection")
        check_closed_after_first(srv, data, f"wrote 65 of the {n} bytes it announced")
        check(waited < 1.5, f"{case}: closed at once, not by keepalive_timeout ({waited:.1f} s)")


def test_http_app_transfer_encoding_is_not_doubled(env):
    srv = rules_server(env)
    data, _ = pipelined(srv, "/rules.ashx?case=te")
    first = check_next_follows(data)
    eq(first.body, BODY, "body")


def test_http_204_304_send_no_body(env):
    srv = rules_server(env)
    for code in (204, 304):
        data, _ = pipelined(srv, f"/rules.ashx?case={code}")
        first = check_next_follows(data)
        eq(first.status, code, "status")
        if code == 204:
            eq(first.all("content-length") + first.all("transfer-encoding"), [], "204 framing headers")


def test_http_head_sends_no_body(env):
    srv = rules_server(env)
    for case in ("long", "short", "te"):
        data, _ = pipelined(srv, f"/rules.ashx?case={case}", method="HEAD")
        check_next_follows(data, method="HEAD")


def test_scgi_head_and_204_send_no_body(env):
    srv = rules_server(env)
    for method, case in (("HEAD", "next"), ("GET", "204"), ("GET", "304")):
        raw = harness.scgi_request([("REQUEST_METHOD", method), ("REQUEST_URI", f"/rules.ashx?case={case}"),
                                    ("QUERY_STRING", f"case={case}"), ("SERVER_PROTOCOL", "HTTP/1.1"),
                                    ("SERVER_NAME", "x"), ("SERVER_PORT", "80"), ("REMOTE_ADDR", "127.0.0.1")])
        data = harness.exchange(("127.0.0.1", srv.port), raw, timeout=15)
        end = data.find(b"\r\n\r\n")
        check(end > 0, f"{method} {case}: {data!r}")
        eq(data[end + 4:], b"", f"SCGI {method} {case}: body")


def framing_of(p):
    return (p.all("content-length"), p.all("transfer-encoding"))


def test_http_205_sends_no_body(env):
    """RFC 9110 15.3.6: a 205 carries no content and says so (Content-Length: 0),
    whatever the application writes or announces; the connection stays usable."""
    srv = rules_server(env)
    for case in ("205", "205-length"):
        for method in ("GET", "HEAD"):
            data, _ = pipelined(srv, f"/rules.ashx?case={case}", method=method)
            first = check_next_follows(data, method=method)
            eq(first.status, 205, f"{method} {case}: status")
            eq(framing_of(first), ([b"0"], []), f"{method} {case}: framing headers")


def test_http_head_framing_matches_get(env):
    """HEAD announces what GET would (Content-Length or chunked), sends no body,
    and keeps the connection whenever GET keeps it."""
    srv = rules_server(env)
    # Not "flush-more" (a flush, then more writes): Mono's HttpResponse ends a
    # HEAD response at its first Flush with a Content-Length of the bytes
    # written so far, and discards the body before the server sees it, so the
    # server cannot know that GET would have been chunked (README).
    for case in ("next", "te", "204", "304", "205", "short-flushed"):
        get, _ = pipelined(srv, f"/rules.ashx?case={case}")
        head, _ = pipelined(srv, f"/rules.ashx?case={case}", method="HEAD")
        g, _ = parse_one(get, head_request=True)  # the head only: some GET bodies end short
        h, hrest = parse_one(head, head_request=True)
        eq(framing_of(h), framing_of(g), f"HEAD {case}: framing headers as GET's ({h.headers!r})")
        get_keeps = get.endswith(b"next\n")
        if get_keeps:
            second, rest = parse_one(hrest)
            eq(second.body, b"next\n", f"HEAD {case}: the pipelined request's answer right after the head")
            eq(rest, b"", f"HEAD {case}: bytes after the second response")
    # flush-more: no body, and the pipelined request is still answered
    head, _ = pipelined(srv, "/rules.ashx?case=flush-more", method="HEAD")
    check_next_follows(head, method="HEAD")


def scgi_get(srv, case, method="GET"):
    raw = harness.scgi_request([("REQUEST_METHOD", method), ("REQUEST_URI", f"/rules.ashx?case={case}"),
                                ("QUERY_STRING", f"case={case}"), ("SERVER_PROTOCOL", "HTTP/1.1"),
                                ("SERVER_NAME", "x"), ("SERVER_PORT", "80"), ("REMOTE_ADDR", "127.0.0.1")])
    return harness.exchange(("127.0.0.1", srv.port), raw, timeout=15)


def test_scgi_no_body_statuses(env):
    """Over SCGI: 204, 304 and 205 send no body (205 says Content-Length: 0),
    a 1xx from the application becomes a 500 whole, HEAD sends no body."""
    srv = rules_server(env)
    for method in ("GET", "HEAD"):
        for case, status in (("204", 204), ("304", 304), ("205", 205), ("205-length", 205)):
            data = scgi_get(srv, case, method)
            end = data.find(b"\r\n\r\n")
            check(end > 0, f"{method} {case}: {data!r}")
            p, _ = parse_one(data, head_request=True)
            eq(p.status, status, f"SCGI {method} {case}: status")
            eq(data[end + 4:], b"", f"SCGI {method} {case}: body")
            if status == 205:
                eq(framing_of(p), ([b"0"], []), f"SCGI {method} {case}: framing headers")
            if status == 204:
                eq(framing_of(p), ([], []), f"SCGI {method} {case}: framing headers")
    data = scgi_get(srv, "1xx")
    p, rest = parse_one(data)
    eq(p.status, 500, "SCGI 1xx: replaced")
    eq(p.body + rest, BODY, "SCGI 1xx: the body written, framed")


def test_scgi_long_body_is_cut(env):
    srv = rules_server(env)
    raw = harness.scgi_request([("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/rules.ashx?case=long"),
                                ("QUERY_STRING", "case=long"), ("SERVER_PROTOCOL", "HTTP/1.1"),
                                ("SERVER_NAME", "x"), ("SERVER_PORT", "80"), ("REMOTE_ADDR", "127.0.0.1")])
    data = harness.exchange(("127.0.0.1", srv.port), raw, timeout=15)
    first, rest = parse_one(data)
    eq(first.body + rest, BODY[:2], "SCGI body cut at the announced length")


def check_no_injection(p):
    names = [k for k, _ in p.headers]
    check("x-injected" not in names, f"a header was injected: {p.headers!r}")
    check(b"\r" not in p.line and b"\n" not in p.line and b"\0" not in p.line, f"status line {p.line!r}")


def test_http_crlf_nul_in_status_text_and_headers_never_reach_the_wire(env):
    srv = rules_server(env)
    for case in ("status-crlf", "value-crlf", "name-crlf"):
        data, _ = pipelined(srv, f"/rules.ashx?case={case}")
        first = check_next_follows(data)
        check_no_injection(first)
        eq(first.body, BODY, f"{case}: body")
        if case == "name-crlf":
            names = [k for k, _ in first.headers]
            eq(first.all("x-after"), [b"ok"], "the valid header after the dropped ones")
            check("bad name" not in names and not any(n.startswith("x-name") for n in names),
                  f"headers with invalid names are dropped: {names!r}")
        if case == "value-crlf":
            eq(first.all("x-value"), [b"a  X-Injected: yes z"], "control bytes of a value sent as spaces")


def test_nginx_response_rules(env):
    """Through nginx (SCGI): nothing injected, and framing cases come out whole."""
    ng = rules_nginx(env)
    for case in ("status-crlf", "value-crlf", "name-crlf"):
        with socket.create_connection(("127.0.0.1", ng.port), timeout=15) as s:
            s.sendall(f"GET /rules.ashx?case={case} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = harness.read_all(s)
        p, _ = parse_one(data)
        eq(p.status, 200, f"{case} through nginx ({data[:300]!r})")
        check_no_injection(p)
        eq(p.body, BODY, f"{case}: body")
    for case, want in (("long", BODY[:2]), ("te", BODY), ("204", b""), ("304", b"")):
        r = harness.request(ng.port, "GET", f"/rules.ashx?case={case}", timeout=15)
        eq(r.body, want, f"{case} through nginx")
        check(not (r.header("Content-Length") and r.header("Transfer-Encoding")),
              f"{case}: both framing headers {r.headers!r}")
