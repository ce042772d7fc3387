"""nginx from Debian (samples/nginx.conf) in front of the server over SCGI."""
import urllib.parse

import harness
from common import check, eq, main_nginx


def test_every_sample_page_through_nginx(env):
    port = main_nginx(env).port
    for path, status, needle in [("/", 200, "scgi-mono sample"),
                                 ("/hello.ashx", 200, "Hello, World"),
                                 ("/CodeBehind.aspx", 200, "Code-behind says: 6 x 7 = 42"),
                                 ("/dir/", 200, "dir default page"),
                                 ("/style.css", 200, "{"),
                                 ("/echo.ashx/extra/info?q=1", 200, "pathinfo=/extra/info")]:
        r = harness.request(port, "GET", path)
        eq(r.status, status, path)
        check(needle in r.text, f"{path} contains {needle!r}: {r.text[:300]!r}")
        eq(r.header("X-Sample"), "hello", f"{path} Global.asax header")


def test_postback_round_trip_through_nginx(env):
    port = main_nginx(env).port
    page = harness.request(port, "GET", "/")
    fields = harness.form_fields(page.text)
    check("__VIEWSTATE" in fields, "the page has view state")
    fields.update({"Name": "Ada", "Send": "Send"})
    cookie = page.header("Set-Cookie")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie.split(";")[0]
    r = harness.request(port, "POST", "/", body=urllib.parse.urlencode(fields), headers=headers)
    eq(r.status, 200, "postback status")
    check('<span id="Result">Hello, Ada!</span>' in r.text, "the posted field comes back: " + r.text[-600:])


def test_query_string_through_nginx(env):
    r = harness.request(main_nginx(env).port, "GET", "/echo.ashx?a=1&b=two%20words&c=x%2By")
    e = r.echo()
    eq(e["q.a"], "1", "a")
    eq(e["q.b"], "two words", "b")
    eq(e["q.c"], "x+y", "c")
    eq(e["query"], "?a=1&b=two%20words&c=x%2By", "raw query")


def test_percent_encoded_utf8_path_and_query_through_nginx(env):
    r = harness.request(main_nginx(env).port, "GET", "/echo.ashx/caf%C3%A9/%E2%82%AC?q=%C3%A9t%C3%A9")
    e = r.echo()
    eq(r.status, 200, "status")
    eq(e["pathinfo"], "/café/€", "decoded PathInfo")
    eq(e["filepath"], "/echo.ashx", "FilePath")
    eq(e["q.q"], "été", "decoded query value")
    eq(e["rawurl"], "/echo.ashx/caf%C3%A9/%E2%82%AC?q=%C3%A9t%C3%A9", "RawUrl as sent")


def test_request_headers_and_url_through_nginx(env):
    n = main_nginx(env)
    r = harness.request(n.port, "GET", "/echo.ashx", headers={"X-Custom-Thing": "42", "User-Agent": "itest"})
    e = r.echo()
    eq(e["h.X-Custom-Thing"], "42", "custom header")
    eq(e["h.User-Agent"], "itest", "known header")
    eq(e["url"], f"http://127.0.0.1:{n.port}/echo.ashx", "Request.Url as the client addressed nginx")


def test_1mib_post_through_nginx(env):
    body = bytes((i * 13 + 5) % 256 for i in range(1 << 20))
    r = harness.request(main_nginx(env).port, "POST", "/echo.ashx", body=body,
                        headers={"Content-Type": "application/octet-stream"})
    e = r.echo()
    eq(r.status, 200, "status")
    eq(e["bodylength"], "1048576", "body length")
    eq(e["bodysum"], str(sum(body) % (1 << 32)), "body checksum")


def test_missing_page_is_404_through_nginx(env):
    r = harness.request(main_nginx(env).port, "GET", "/no-such-page.aspx")
    eq(r.status, 404, "status")


def test_throwing_page_is_500_then_good_answer(env):
    port = main_nginx(env).port
    r = harness.request(port, "GET", "/throw.aspx")
    eq(r.status, 500, "status of the throwing page")
    check("sample failure" in r.text, "ASP.NET error page names the exception")
    r = harness.request(port, "GET", "/hello.ashx")
    eq(r.status, 200, "the next request")
    eq(r.text, "Hello, World", "body of the next request")


def test_directory_without_slash_redirects_through_nginx(env):
    n = main_nginx(env)
    r = harness.request(n.port, "GET", "/dir?x=1")
    eq(r.status, 301, "status")
    eq(r.header("Location"), f"http://127.0.0.1:{n.port}/dir/?x=1", "Location")


def test_dot_dot_path_refused_on_raw_scgi(env):
    from common import main_server
    port = main_server(env).port
    for path in ("/%2e%2e/etc/passwd", "/dir/%2E%2E/%2e%2e/web.config", "/./hello.ashx"):
        data = harness.scgi_get(("127.0.0.1", port), path)
        check(data.startswith(b"Status: 400 Bad Request"), f"{path}: {data[:60]!r}")
    eq(harness.request(port, "GET", "/hello.ashx").status, 200, "still serving")
