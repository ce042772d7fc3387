"""SCGI conformance on the raw socket: what real front ends send is accepted,
what the specification forbids is refused (400, a log line naming the peer and
the reason, the connection closed) without running the application."""
import socket
import time

import harness
from common import check, eq, main_server


def addr(env):
    return ("127.0.0.1", main_server(env).port)


def body_of(data):
    return data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def echo(data):
    out = {}
    for line in body_of(data).decode("utf-8", "replace").splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def netstring(block):
    return str(len(block)).encode() + b":" + block + b","


def pairs(*kv):
    return b"".join(k + b"\0" + v + b"\0" for k, v in kv)


BASE = [(b"REQUEST_METHOD", b"GET"), (b"REQUEST_URI", b"/echo.ashx"), (b"SERVER_PROTOCOL", b"HTTP/1.1"),
        (b"SERVER_PORT", b"80"), (b"REMOTE_ADDR", b"127.0.0.1")]


# ---- accepted ----

def test_accept_spec_example(env):
    # The specification's own example, byte for byte. /deepthought is no page of the
    # sample, so ASP.NET answers with an error page of its own: what matters is that
    # the request reached the application (Global.asax's header is there).
    req = (b"70:CONTENT_LENGTH\x0027\x00SCGI\x001\x00REQUEST_METHOD\x00POST\x00"
           b"REQUEST_URI\x00/deepthought\x00,What is the answer to life?")
    data = harness.exchange(addr(env), req)
    check(data.startswith(b"Status: "), data[:60])
    check(b"\r\nX-Sample: hello\r\n" in data.split(b"\r\n\r\n", 1)[0], "the application answered")


def test_accept_minimal_request(env):
    data = harness.exchange(addr(env), netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"),
                                                         (b"REQUEST_URI", b"/hello.ashx"))))
    eq(body_of(data), b"Hello, World", "body")


def test_accept_empty_values(env):
    data = harness.exchange(addr(env), netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                                         (b"QUERY_STRING", b""), (b"HTTP_X_EMPTY", b""))))
    e = echo(data)
    eq(e["method"], "GET", "method")
    eq(e.get("h.X-Empty"), "", "empty header value")


def test_accept_high_bytes_in_names_and_values(env):
    data = harness.exchange(addr(env), netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                                         (b"X_\x80\xff", b"\xfe\x81"),
                                                         (b"HTTP_X_UTF8", "été".encode()))))
    e = echo(data)
    eq(e["method"], "GET", "served")
    eq(e.get("h.X-Utf8"), "été", "UTF-8 value")


def test_accept_one_byte_per_write(env):
    body = b"abc"
    req = netstring(pairs((b"CONTENT_LENGTH", b"3"), (b"SCGI", b"1"), (b"REQUEST_METHOD", b"POST"),
                          (b"REQUEST_URI", b"/echo.ashx"), (b"CONTENT_TYPE", b"application/octet-stream"))) + body
    with socket.create_connection(addr(env), timeout=30) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.001)
        data = harness.read_all(s)
    e = echo(data)
    eq(e["bodylength"], "3", "body length")
    eq(e["bodysum"], str(sum(body)), "body bytes")


def test_accept_body_in_pieces_and_half_close(env):
    body = bytes(range(256)) * 400
    head = netstring(pairs((b"CONTENT_LENGTH", str(len(body)).encode()), (b"SCGI", b"1"),
                           (b"REQUEST_METHOD", b"POST"), (b"REQUEST_URI", b"/echo.ashx"),
                           (b"CONTENT_TYPE", b"application/octet-stream")))
    with socket.create_connection(addr(env), timeout=30) as s:
        s.sendall(head)
        for i in range(0, len(body), 7000):
            s.sendall(body[i:i + 7000])
            time.sleep(0.005)
        s.shutdown(socket.SHUT_WR)  # half-close: the response must still come
        data = harness.read_all(s)
    e = echo(data)
    eq(e["bodylength"], str(len(body)), "body length")
    eq(e["bodysum"], str(sum(body)), "body checksum")


def test_duplicate_cookie_variables_are_joined(env):
    data = harness.exchange(addr(env), netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                                         (b"HTTP_COOKIE", b"a=1"), (b"HTTP_COOKIE", b"b=2"),
                                                         (b"HTTP_ACCEPT", b"text/html"),
                                                         (b"HTTP_ACCEPT", b"text/plain"))))
    e = echo(data)
    eq(e.get("h.Cookie"), "a=1; b=2", "cookies joined as HTTP does")
    eq(e.get("h.Accept"), "text/html, text/plain", "other headers joined with a comma")


# ---- refused ----

# A connection whose first byte is not a digit speaks HTTP (that is how one port
# serves both), so these two are refused as bad HTTP, with an HTTP/1.1 400.
REFUSALS = [
    ("empty length", b":CONTENT_LENGTH\x000\x00SCGI\x001\x00,", "HPE_"),
    ("non-digit length", b"1x:CONTENT_LENGTH\x000\x00,", "not a digit"),
    ("signed length", b"+5:CONTENT_LENGTH\x000\x00,", "HPE_"),
    ("leading zero", b"024:CONTENT_LENGTH\x000\x00SCGI\x001\x00,", "leading zero"),
    ("over the header limit", b"99999999:", "larger than the limit"),
    ("wrong terminator", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1")))[:-1] + b";", "','"),
    ("last byte not NUL", netstring(b"CONTENT_LENGTH\x000\x00SCGI\x001\x00X"), "NUL"),
    ("name without value", netstring(b"CONTENT_LENGTH\x000\x00SCGI\x001\x00NAME\x00"), "without a value"),
    ("empty name", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), (b"", b"x"))), "empty"),
    ("no CONTENT_LENGTH", netstring(pairs((b"SCGI", b"1"), (b"REQUEST_URI", b"/"))), "CONTENT_LENGTH"),
    ("CONTENT_LENGTH not first", netstring(pairs((b"SCGI", b"1"), (b"CONTENT_LENGTH", b"0"))), "CONTENT_LENGTH"),
    ("CONTENT_LENGTH empty", netstring(pairs((b"CONTENT_LENGTH", b""), (b"SCGI", b"1"))), "CONTENT_LENGTH"),
    ("CONTENT_LENGTH signed", netstring(pairs((b"CONTENT_LENGTH", b"-1"), (b"SCGI", b"1"))), "CONTENT_LENGTH"),
    ("CONTENT_LENGTH padded", netstring(pairs((b"CONTENT_LENGTH", b" 1"), (b"SCGI", b"1"))), "CONTENT_LENGTH"),
    ("CONTENT_LENGTH beyond 64 bits", netstring(pairs((b"CONTENT_LENGTH", b"99999999999999999999"),
                                                     (b"SCGI", b"1"))), "CONTENT_LENGTH"),
    ("SCGI missing", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"REQUEST_URI", b"/"))), "SCGI"),
    ("SCGI not 1", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"2"))), "SCGI"),
    ("duplicate CONTENT_LENGTH", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"),
                                                 (b"CONTENT_LENGTH", b"0"))), "twice"),
    ("duplicate SCGI", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), (b"SCGI", b"1"))), "twice"),
    # any variable but HTTP_* appears once, and HTTP_HOST too
    ("duplicate REQUEST_URI", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                              (b"REQUEST_URI", b"/hello.ashx"))), "twice"),
    ("duplicate SCRIPT_NAME", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                              (b"SCRIPT_NAME", b"/a"), (b"SCRIPT_NAME", b"/b"))), "twice"),
    ("duplicate HTTP_HOST", netstring(pairs((b"CONTENT_LENGTH", b"0"), (b"SCGI", b"1"), *BASE,
                                            (b"HTTP_HOST", b"a.example"), (b"HTTP_HOST", b"b.example"))), "twice"),
]


def refusal_test(name, raw, reason_word):
    def test(env):
        srv = main_server(env)
        before = srv.log_text()
        data = harness.exchange(addr(env), raw)
        first = b"HTTP/1.1 400 Bad Request" if raw[:1] not in b"0123456789" else b"Status: 400 Bad Request"
        check(data.startswith(first), f"{name}: answer {data[:80]!r}")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            new = srv.log_text()[len(before):]
            if "refused (400)" in new:
                break
            time.sleep(0.05)
        check("refused (400)" in new and "127.0.0.1:" in new, f"{name}: log names the peer: {new[-300:]!r}")
        check(reason_word.lower() in new.lower(), f"{name}: log gives the reason ({reason_word!r}): {new[-300:]!r}")
        eq(body_of(harness.scgi_get(addr(env), "/hello.ashx")), b"Hello, World", "still serving")
    test.__name__ = "test_refuse_" + name.replace(" ", "_").replace("-", "_")
    return test


for _name, _raw, _word in REFUSALS:
    _t = refusal_test(_name, _raw, _word)
    globals()[_t.__name__] = _t
    _t.__module__ = __name__


def test_refuse_body_shorter_than_content_length(env):
    # EOF before the announced body is complete: the application never sees it.
    srv = main_server(env)
    before = srv.log_text()
    raw = netstring(pairs((b"CONTENT_LENGTH", b"100"), (b"SCGI", b"1"), (b"REQUEST_METHOD", b"POST"),
                          (b"REQUEST_URI", b"/echo.ashx"))) + b"only part"
    with socket.create_connection(addr(env), timeout=30) as s:
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        data = harness.read_all(s)
    eq(data, b"", "no answer for a truncated request")
    time.sleep(0.2)
    new = srv.log_text()[len(before):]
    check("before the request was complete" in new, "logged: " + new[-300:])
