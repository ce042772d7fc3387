"""Plain HTTP/1.1 on the server's own port (no front end)."""
import socket

import harness
from common import check, eq, main_server


def test_home_page_over_http(env):
    r = harness.request(main_server(env).port, "GET", "/")
    eq(r.status, 200, "status")
    check("scgi-mono sample" in r.text and "__VIEWSTATE" in r.text, "home page with its form")
    eq(r.header("X-Sample"), "hello", "Global.asax header")


def test_every_sample_page_over_http(env):
    port = main_server(env).port
    for path, status, needle in [("/hello.ashx", 200, "Hello, World"),
                                 ("/CodeBehind.aspx", 200, "Code-behind says: 6 x 7 = 42"),
                                 ("/dir/", 200, "dir default page"),
                                 ("/style.css", 200, "{"),
                                 ("/echo.ashx", 200, "method=GET")]:
        r = harness.request(port, "GET", path)
        eq(r.status, status, path)
        check(needle in r.text, f"{path} contains {needle!r}: {r.text[:200]!r}")


def test_http_keep_alive_serves_several_requests(env):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", main_server(env).port, timeout=30)
    try:
        for i in range(5):
            conn.request("GET", f"/echo.ashx?i={i}")
            r = conn.getresponse()
            body = r.read().decode()
            eq(r.status, 200, "status")
            check(f"q.i={i}" in body, f"answer {i} on the same connection")
            check(r.getheader("Connection", "").lower() != "close", "connection kept open")
    finally:
        conn.close()


def test_http_head_has_no_body(env):
    data = harness.exchange(("127.0.0.1", main_server(env).port),
                            b"HEAD /hello.ashx HTTP/1.1\r\nHost: x\r\n\r\n"
                            b"GET /hello.ashx HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    text = data.decode()
    # HEAD: headers only (with the body's length); the pipelined GET follows right after.
    first, _, rest = text.partition("\r\n\r\n")
    check(first.startswith("HTTP/1.1 200"), first)
    check("Content-Length: 12" in first, first)
    check(rest.startswith("HTTP/1.1 200"), "second response starts right after the HEAD headers: " + rest[:80])
    check(rest.endswith("Hello, World"), rest[-40:])


def test_http_bad_request_gets_400(env):
    with socket.create_connection(("127.0.0.1", main_server(env).port), timeout=30) as s:
        s.sendall(b"GARBAGE\x01 / HTTP/1.1\r\n\r\n")
        data = s.recv(65536)
    check(data.startswith(b"HTTP/1.1 400"), data[:80])
    # and the server keeps serving
    eq(harness.request(main_server(env).port, "GET", "/hello.ashx").status, 200, "next request")


def test_http_post_1mib_echoed_with_exact_length(env):
    body = bytes((i * 7) % 251 for i in range(1 << 20))
    r = harness.request(main_server(env).port, "POST", "/echo.ashx", body=body,
                        headers={"Content-Type": "application/octet-stream"})
    e = r.echo()
    eq(r.status, 200, "status")
    eq(e["bodylength"], str(len(body)), "body length")
    eq(e["bodysum"], str(sum(body) % (1 << 32)), "body checksum")
