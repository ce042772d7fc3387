"""The same URLs through every front end, with one application at / and another
at /app of the same server: ASP.NET's view (Request.Path, PathInfo, FilePath,
ApplicationPath, RawUrl, Url, MapPath) is what it is over plain HTTP, the
directory redirect carries the scheme, host and port the client used, and the
files ASP.NET keeps private stay private, however the URL is spelled."""
import html
import re

import harness
from common import SECRET, check, eq, front

FRONTS = ["http", "nginx", "nginx-unix", "apache", "apache-unix", "lighttpd", "lighttpd-unix"]
URLS = ["/", "/dir/", "/page.aspx", "/page.aspx/extra/info?q=1", "/caf%C3%A9.aspx",
        "/echo.ashx/x%20y?a=%C3%A9"]


def view(fe, url):
    r = harness.request(fe.port, "GET", url, headers={"Host": f"127.0.0.1:{fe.port}"})
    text = r.text.replace(f"127.0.0.1:{fe.port}", "HOST")
    m = re.search(r'<pre id="paths">\n(.*?)</pre>', text, re.S)
    if m:
        lines = html.unescape(m.group(1)).splitlines()
    else:  # echo.ashx
        lines = [ln for ln in text.splitlines()
                 if ln.split("=", 1)[0] in ("path", "pathinfo", "filepath", "apppath", "rawurl", "url",
                                            "physical", "q.a")]
    return r.status, lines


def paths_test(kind):
    def test(env):
        direct = front(env, "http")
        fe = front(env, kind)
        for mount in ("", "/app"):
            for url in URLS:
                want = view(direct, mount + url)
                got = view(fe, mount + url)
                eq(want[0], 200, f"direct {mount + url}")
                check(len(want[1]) >= 6, f"direct {mount + url}: the page shows its paths: {want}")
                eq(got, want, f"{kind} {mount + url}")
            # a directory without its slash: 301 to the URL the client used, plus "/"
            r = harness.request(fe.port, "GET", mount + "/dir?x=1", headers={"Host": f"127.0.0.1:{fe.port}"})
            eq((r.status, r.header("Location")), (301, f"http://127.0.0.1:{fe.port}{mount}/dir/?x=1"),
               f"{kind} {mount}/dir redirect")
    test.__name__ = f"test_{kind.replace('-', '_')}_paths_as_over_plain_http"
    return test


FORBIDDEN = ["/web.config", "/bin/secret.txt", "/App_Data/data.txt", "/App_Code/Helper.cs", "/.secret",
             "/dir/.htpasswd", "/.git/config", "/%77eb.config", "/WEB.CONFIG", "/bin%2fsecret.txt",
             "/App%5FData/data.txt", "/%2esecret", "/dir/%2e%2e/web.config", "/dir/../web.config",
             "/page.aspx/../web.config", "/./web.config", "/Global.asax", "/paths.ascx"]


def forbidden_test(kind):
    def test(env):
        fe = front(env, kind)
        for mount in ("", "/app"):
            for url in FORBIDDEN:
                r = harness.request(fe.port, "GET", mount + url, headers={"Host": f"127.0.0.1:{fe.port}"})
                check(r.status in (400, 403, 404), f"{kind} {mount + url}: status {r.status}")
                check(SECRET not in r.text and "<configuration>" not in r.text,
                      f"{kind} {mount + url}: the file's content leaked")
    test.__name__ = f"test_{kind.replace('-', '_')}_private_files_stay_private"
    return test


for _k in FRONTS:
    for _t in (paths_test(_k), forbidden_test(_k)):
        globals()[_t.__name__] = _t
        _t.__module__ = __name__


def iis_request(pairs):
    """SCGI bytes of IIS's isapi_scgi request: no REQUEST_URI (documented set)."""
    return harness.scgi_request(pairs)


def view_of(data):
    text = data.decode("utf-8", "replace")
    m = re.search(r'<pre id="paths">\n(.*?)</pre>', text, re.S)
    check(m is not None, f"a page with its paths: {text[:300]!r}")
    return dict(ln.split("=", 1) for ln in html.unescape(m.group(1)).splitlines())


def test_iis_isapi_scgi_request_without_request_uri(env):
    srv = front(env, "http")
    base = [("REQUEST_METHOD", "GET"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "iis.example"),
            ("SERVER_PORT", "80"), ("SERVER_PORT_SECURE", "0"), ("HTTPS", "off"), ("REMOTE_ADDR", "10.0.0.9"),
            ("HTTP_HOST", "iis.example"), ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "Microsoft-IIS/8.5")]
    cases = [
        # (variables, expected path, pathinfo, rawurl, url, apppath)
        ([("SCRIPT_NAME", "/page.aspx"), ("PATH_INFO", "/extra/info"),
          ("PATH_TRANSLATED", "C:\\inetpub\\wwwroot\\page.aspx\\extra\\info"), ("QUERY_STRING", "q=1")],
         "/page.aspx/extra/info", "/extra/info", "/page.aspx/extra/info?q=1",
         "http://iis.example/page.aspx/extra/info?q=1", "/"),
        # IIS's PATH_INFO for script mappings holds the whole path
        ([("SCRIPT_NAME", "/app/page.aspx"), ("PATH_INFO", "/app/page.aspx"), ("QUERY_STRING", "")],
         "/app/page.aspx", "", "/app/page.aspx", "http://iis.example/app/page.aspx", "/app"),
        # behind IIS's URL Rewrite: the original URL, over HTTPS
        ([("SCRIPT_NAME", "/scgi/isapi_scgi.dll"), ("PATH_INFO", "/app/page.aspx"), ("QUERY_STRING", "a=%C3%A9"),
          ("HTTP_X_ORIGINAL_URL", "/app/caf%C3%A9.aspx/more?a=%C3%A9"), ("HTTPS", "on"), ("SERVER_PORT", "443"),
          ("SERVER_PORT_SECURE", "1")],
         "/app/café.aspx/more", "/more", "/app/caf%C3%A9.aspx/more?a=%C3%A9",
         "https://iis.example/app/caf%C3%A9.aspx/more?a=%C3%A9", "/app"),
    ]
    for extra, path, pathinfo, rawurl, url, apppath in cases:
        names = {k for k, _ in extra}
        pairs = [kv for kv in base if kv[0] not in names] + extra
        data = harness.exchange(("127.0.0.1", srv.port), iis_request(pairs))
        check(data.startswith(b"Status: 200 OK"), f"{rawurl}: {data[:200]!r}")
        v = view_of(data)
        eq((v["path"], v["pathinfo"], v["rawurl"], v["url"], v["apppath"]),
           (path, pathinfo, rawurl, url, apppath), f"IIS request for {rawurl}")


def test_directory_redirect_keeps_https_host_and_port_from_the_front_end(env):
    srv = front(env, "http")
    for extra, location in (
            ([("HTTPS", "on"), ("SERVER_PORT", "443"), ("HTTP_HOST", "shop.example")],
             "https://shop.example/app/dir/?x=1"),
            ([("HTTPS", "on"), ("SERVER_PORT", "8443"), ("HTTP_HOST", "shop.example:8443")],
             "https://shop.example:8443/app/dir/?x=1"),
            ([("REQUEST_SCHEME", "http"), ("SERVER_PORT", "8080"), ("HTTP_HOST", "shop.example")],
             "http://shop.example:8080/app/dir/?x=1")):
        pairs = [("REQUEST_METHOD", "GET"), ("REQUEST_URI", "/app/dir?x=1"), ("QUERY_STRING", "x=1"),
                 ("SERVER_PROTOCOL", "HTTP/1.1"), ("SERVER_NAME", "shop.example"), ("REMOTE_ADDR", "10.0.0.1")]
        data = harness.exchange(("127.0.0.1", srv.port), harness.scgi_request(pairs + extra))
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        check(head.startswith("Status: 301"), head)
        check(f"\r\nLocation: {location}" in head, f"expected {location}: {head}")
