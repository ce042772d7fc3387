"""SendResponseFromFile hands whole files to the front end when the
application's sendfile setting asks for it: X-Sendfile for Apache
(ProxySCGISendfile On) and lighttpd (x-sendfile), X-Accel-Redirect for nginx
(an internal location), each enabled in the shipped samples' commented lines.
The server then sends no file bytes; plain HTTP clients still get them."""
import os

import harness
from common import check, conf_server, eq

MIB = 1 << 20


def sendfile_server(env):
    """One copy of the sample with a 3 MiB file, mounted three times:
    / (sendfile off), /xs (x-sendfile), /xa (x-accel-redirect)."""
    def make():
        w = env.work.path
        app = harness.copy_sample(w, "sendfile-app")
        data = os.urandom(3 * MIB)
        open(os.path.join(app, "big.bin"), "wb").write(data)
        srv = conf_server(env, "sendfile.conf", "threads = 4\n", {
            "off": f"vpath = /\npath = {app}\n",
            "xs": f"vpath = /xs\npath = {app}\nsendfile = x-sendfile\n",
            "xa": f"vpath = /xa\npath = {app}\nsendfile = x-accel-redirect\n"})
        srv.app, srv.data = app, data
        return srv
    return env.once("sendfile_server", make)


def scgi_head_and_body(srv, path):
    data = harness.scgi_get(("127.0.0.1", srv.port), path)
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_server_answers_with_the_header_and_no_bytes(env):
    srv = sendfile_server(env)
    big = os.path.join(srv.app, "big.bin")
    head, body = scgi_head_and_body(srv, "/xs/big.bin")
    check(head.startswith("Status: 200"), head)
    check(f"\r\nX-Sendfile: {big}" in head, f"X-Sendfile names the file: {head}")
    eq(len(body), 0, "no file bytes from the server")
    head, body = scgi_head_and_body(srv, "/xa/big.bin")
    check(f"\r\nX-Accel-Redirect: /scgi-mono-files{big}" in head, f"X-Accel-Redirect: {head}")
    eq(len(body), 0, "no file bytes from the server")
    head, body = scgi_head_and_body(srv, "/big.bin")
    check("X-Sendfile" not in head and "X-Accel" not in head, "off by default")
    eq(body, srv.data, "the server sends the bytes itself when off")
    r = harness.request(srv.port, "GET", "/xs/big.bin")
    eq((r.status, r.body == srv.data, r.header("X-Sendfile")), (200, True, None),
       "plain HTTP clients get the bytes, never the header")


def check_through(fe, prefix, what):
    srv_data = fe.srv_data
    r = harness.request(fe.port, "GET", prefix + "/big.bin")
    eq(r.status, 200, f"{what}: status")
    check(r.body == srv_data, f"{what}: the file arrives whole ({len(r.body)} of {len(srv_data)} bytes)")
    for h in ("X-Sendfile", "X-Accel-Redirect"):
        eq(r.header(h), None, f"{what}: {h} does not reach the client")
    r = harness.request(fe.port, "GET", prefix + "/hello.ashx")
    eq(r.text, "Hello, World", f"{what}: other pages unaffected")


def test_apache_sends_the_file_for_x_sendfile(env):
    srv = sendfile_server(env)
    fe = env.apache(f"127.0.0.1:{srv.port}", subst={"    #ProxySCGISendfile On": "    ProxySCGISendfile On"})
    fe.srv_data = srv.data
    check_through(fe, "/xs", "Apache X-Sendfile")


def test_lighttpd_sends_the_file_for_x_sendfile(env):
    srv = sendfile_server(env)
    fe = env.lighttpd(f"127.0.0.1:{srv.port}",
                      subst={'    #"x-sendfile" => "enable",': '    "x-sendfile" => "enable",'})
    fe.srv_data = srv.data
    check_through(fe, "/xs", "lighttpd x-sendfile")


def test_nginx_sends_the_file_for_x_accel_redirect(env):
    srv = sendfile_server(env)
    fe = env.nginx(f"127.0.0.1:{srv.port}", subst={
        "        #location /scgi-mono-files/ {\n        #    internal;\n        #    alias /;\n        #}":
        "        location /scgi-mono-files/ {\n            internal;\n            alias /;\n        }"})
    fe.srv_data = srv.data
    check_through(fe, "/xa", "nginx X-Accel-Redirect")
    r = harness.request(fe.port, "GET", "/scgi-mono-files/etc/hostname")
    eq(r.status, 404, "clients cannot use the internal location themselves")
