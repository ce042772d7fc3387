"""Apache, lighttpd and nginx each serving a PHP site from Debian's php-fpm over
FastCGI and the ASP.NET application (at /app) over SCGI in the same virtual
host, with the samples/*-php.conf files: both answer, side by side, under 10
seconds of load from wrk, with no errors."""
import os
import re
import shutil
import subprocess

import harness
from common import check, eq, two_apps_server

PHP_SAMPLE = os.path.join(harness.ROOT, "samples", "php")


def php_site(env):
    def make():
        fpm = env.php_fpm()
        docroot = os.path.join(env.work.path, "php-site")
        shutil.copytree(PHP_SAMPLE, docroot)
        os.chmod(docroot, 0o755)
        return fpm, docroot
    return env.once("php_site", make)


def front_with_php(env, kind):
    srv = two_apps_server(env)
    fpm, docroot = php_site(env)
    sock = "/run/php/php8.2-fpm.sock"
    sample = os.path.join(harness.ROOT, "samples", f"{kind}-php.conf")
    if kind == "nginx":
        return env.nginx(f"127.0.0.1:{srv.port}", sample=sample,
                         subst={"root /var/www/html;": f"root {docroot};", sock: fpm.sock})
    if kind == "apache2":
        return env.apache(f"127.0.0.1:{srv.port}", sample=sample,
                          subst={"/var/www/html": docroot, sock: fpm.sock})
    return env.lighttpd(f"127.0.0.1:{srv.port}", sample=sample,
                        subst={'"/var/www/html"': f'"{docroot}"', sock: fpm.sock})


def wrk(url, seconds=10):
    return subprocess.Popen(["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "5s", url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(p, what):
    out, _ = p.communicate(timeout=60)
    eq(p.returncode, 0, f"{what}: wrk exit status\n{out}")
    m = re.search(r"(\d+) requests in", out)
    check(m and int(m.group(1)) > 0, f"{what}: requests made\n{out}")
    check("Non-2xx or 3xx responses" not in out, f"{what}: error responses\n{out}")
    check("Socket errors" not in out, f"{what}: socket errors\n{out}")
    return int(m.group(1)), out


def side_by_side(kind):
    def test(env):
        fe = front_with_php(env, kind)
        base = f"http://127.0.0.1:{fe.port}"
        r = harness.request(fe.port, "GET", "/index.php")
        eq((r.status, r.text.splitlines()[0]), (200, "Hello from PHP"), f"{kind}: PHP answers")
        r = harness.request(fe.port, "GET", "/app/hello.ashx")
        eq((r.status, r.text), (200, "Hello, World"), f"{kind}: ASP.NET answers")
        e = harness.request(fe.port, "GET", "/app/echo.ashx/x?y=1").echo()
        eq((e["apppath"], e["filepath"], e["pathinfo"]), ("/app", "/app/echo.ashx", "/x"), f"{kind}: paths")
        php = wrk(base + "/index.php")
        asp = wrk(base + "/app/hello.ashx")
        n_php, _ = wrk_result(php, f"{kind} PHP")
        n_asp, _ = wrk_result(asp, f"{kind} ASP.NET")
        print(f"# {kind}: 10 s side by side, PHP {n_php} requests, ASP.NET {n_asp} requests, no errors")
    test.__name__ = f"test_{kind}_serves_php_and_aspnet_side_by_side_under_load"
    return test


for _k in ("nginx", "apache2", "lighttpd"):
    _t = side_by_side(_k)
    globals()[_t.__name__] = _t
    _t.__module__ = __name__
