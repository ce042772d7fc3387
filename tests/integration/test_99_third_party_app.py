"""A third-party application, served as its own authors' server serves it.

Debian's asp.net-examples (the Mono project's sample site: WebForms 1.1 and
2.0 controls, master pages, GridView, Menu, TreeView, a site map, code-behind
assemblies in bin/, App_Code, web services, WebResource.axd) is served twice,
each behind nginx from samples/nginx.conf: by scgi-mono over SCGI and by
Debian's fastcgi-mono-server4 (Mono's own host, the same System.Web) over
FastCGI. Every file of the site, every form posted back, and the web
services' SOAP 1.1, SOAP 1.2, HTTP GET/POST, WSDL and discovery answers must
come back the same from both: status, Content-Type and body, after taking out
what differs by design (view state and WebResource.axd keys, which are
encrypted with each process's own machine key; the AdRotator's random ad; the
MVIDs of assemblies each host compiled itself; the ports). Where scgi-mono
differs on purpose it is asserted on its own: it refuses bin/ and App_Code/,
which the peer serves (bin/*.dll: 200) or forbids."""
import html
import http.client
import os
import re
import shutil
import socket
import subprocess
import urllib.parse

import harness
from common import check, conf_server, eq

DEMOS = "/usr/share/asp.net-demos"
FASTCGI_MONO = shutil.which("fastcgi-mono-server4") or "/usr/bin/fastcgi-mono-server4"


def need():
    if not os.path.isdir(DEMOS) or not os.path.exists(FASTCGI_MONO):
        raise harness.Skip("Debian's asp.net-examples and mono-fastcgi-server4 are not installed "
                           "(./build.sh test installs them)")


class FastcgiNginx(harness.Daemon):
    """samples/nginx.conf with its SCGI location made a FastCGI one, as
    fastcgi-mono-server4's documentation sets it up."""

    stop_signal = harness.signal.SIGQUIT
    name = "nginx (FastCGI)"

    def __init__(self, workdir, backend_port):
        import tempfile
        self.prefix = tempfile.mkdtemp(prefix="nginx-fcgi-", dir=workdir)
        os.chmod(self.prefix, 0o755)
        self.port = harness.free_port()
        conf = open(harness.NGINX_SAMPLE).read()
        conf = harness._replace(conf, "listen 127.0.0.1:8080;", f"listen 127.0.0.1:{self.port};")
        conf = harness._replace(conf, "include /etc/nginx/scgi_params;",
                                "include /etc/nginx/fastcgi_params;\n"
                                "            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n"
                                "            fastcgi_param PATH_INFO \"\";")
        conf = harness._replace(conf, "scgi_pass 127.0.0.1:8000;", f"fastcgi_pass 127.0.0.1:{backend_port};")
        conf = harness._replace(conf, "server_name localhost;", f"server_name localhost;\n        root {DEMOS};")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        open(self.conf, "w").write(conf)
        self._start(["nginx", "-p", self.prefix, "-c", self.conf], self._tcp_ready)


def peer(env):
    """fastcgi-mono-server4 serving the site, behind its nginx: the nginx port."""
    def make():
        need()
        port = harness.free_port()
        wd = os.path.join(env.work.path, "fastcgi-mono")
        os.makedirs(wd, exist_ok=True)
        log = open(os.path.join(wd, "log"), "w")
        p = subprocess.Popen([FASTCGI_MONO, f"--applications=/:{DEMOS}", f"--socket=tcp:127.0.0.1:{port}"],
                             cwd=wd, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, HOME=wd))

        def stop():
            p.kill()
            p.wait()
        env.on_exit(stop)

        def listening():
            if p.poll() is not None:
                raise AssertionError("fastcgi-mono-server4 exited: " + open(log.name).read()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        harness.wait_for(listening, 60, "fastcgi-mono-server4 to listen")
        fe = FastcgiNginx(env.work.path, port)
        env.on_exit(fe.stop)
        return fe.port
    return env.once("demos-peer", make)


def ours(env, name="demos.conf"):
    """scgi-mono serving the site, behind samples/nginx.conf: (server, nginx port)."""
    def make():
        need()
        srv = conf_server(env, name, apps={"demos": f"vpath = /\npath = {DEMOS}\n"})
        return srv, env.nginx(f"127.0.0.1:{srv.port}").port
    return env.once(name, make)


def files():
    """Every file of the site, as a URL path."""
    out = []
    for d, dirs, fs in os.walk(DEMOS):
        dirs.sort()
        for f in sorted(fs):
            out.append("/" + urllib.parse.quote(os.path.relpath(os.path.join(d, f), DEMOS)))
    return out


def fetch(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read(), r.getheader("Set-Cookie")
    finally:
        c.close()


def norm(body, port):
    """The body with what differs by design between two hosts taken out."""
    t = body.decode("utf-8", "replace")
    t = re.sub(r'(id="__(VIEWSTATE|EVENTVALIDATION)[A-Z]*" value=")[^"]*', r"\1X", t)
    t = re.sub(r"(WebResource|ScriptResource)\.axd\?d=[^&\"']*", r"\1.axd?d=X", t)
    t = re.sub(r'<a id="adr".*?</a>', "AD", t, flags=re.S)              # the AdRotator's random pick
    t = re.sub(r"&lt;[0-9a-f]{32}&gt;|<[0-9a-f]{32}>", "MVID", t)      # assemblies each host compiled
    t = re.sub(r"\(Debian [^)]*\)", "(Debian)", t)                      # Mono's version, with or without its build date
    t = re.sub(r"\d{1,2}:\d{2}:\d{2}", "TIME", t)
    return t.replace(f":{port}/", ":PORT/").replace(f":{port}\"", ":PORT\"")


REFUSED_BY_US = ("/bin/", "/App_Code/")  # the path rule (README): never served, whatever ASP.NET would do


def test_every_file_is_answered_as_mono_own_host_answers_it(env):
    fc = peer(env)
    srv, sm = ours(env)
    paths = files()
    same = refused = 0
    diffs = []
    for p in paths:
        a, b = fetch(fc, "GET", p), fetch(sm, "GET", p)
        if p.startswith(REFUSED_BY_US):
            eq(b[0], 404, f"{p}: refused by scgi-mono (the peer answered {a[0]})")
            refused += 1
            continue
        if (a[0], a[1], norm(a[2], fc)) != (b[0], b[1], norm(b[2], sm)):
            diffs.append(f"{p}: peer {a[0]} {a[1]} {len(a[2])} B, scgi-mono {b[0]} {b[1]} {len(b[2])} B")
        else:
            same += 1
    check(not diffs, f"{len(diffs)} of {len(paths)} files differ:\n" + "\n".join(diffs[:20]))
    check(same > 100, f"only {same} files compared")
    statuses = {}
    for p in paths:
        if not p.startswith(REFUSED_BY_US):
            s = fetch(sm, "GET", p)[0]
            statuses[s] = statuses.get(s, 0) + 1
    print(f"# {same} files answered alike by scgi-mono and fastcgi-mono-server4 (statuses {statuses}), "
          f"{refused} under bin/ and App_Code/ refused by scgi-mono")


def web_resources(body):
    return [html.unescape(u) for u in re.findall(r"(/WebResource\.axd\?d=[^\"']*)", body.decode("utf-8", "replace"))]


def test_web_resources_of_every_page_are_served(env):
    """The scripts and images of controls (TreeView, Menu, SiteMapPath) come
    from WebResource.axd, keyed with the process's machine key: each host's
    own URLs, in page order, give the same bytes."""
    fc = peer(env)
    _, sm = ours(env)
    n = 0
    for p in files():
        if not p.endswith(".aspx"):
            continue
        a, b = web_resources(fetch(fc, "GET", p)[2]), web_resources(fetch(sm, "GET", p)[2])
        eq(len(b), len(a), f"{p}: WebResource.axd URLs")
        for ua, ub in zip(a, b):
            ra, rb = fetch(fc, "GET", ua), fetch(sm, "GET", ub)
            eq(rb[0], 200, f"{p}: {ub}")
            eq((rb[1], rb[2]), (ra[1], ra[2]), f"{p}: {ub} (content type and bytes, against the peer's {ua})")
            n += 1
    check(n >= 10, f"only {n} web resources seen")
    print(f"# {n} WebResource.axd answers, byte for byte the peer's")


def form_of(body):
    """The fields a browser would post for a page's form: every input with its
    value, the checked boxes, the last option of each list, the first submit."""
    t = body.decode("utf-8", "replace")
    fields, submit = {}, None
    for m in re.finditer(r"<input([^>]*)>", t):
        at = {k.lower(): html.unescape(v) for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(1))}
        kind, name = at.get("type", "text").lower(), at.get("name")
        if not name:
            continue
        if kind in ("submit", "image"):
            submit = submit or (name, at.get("value", ""), kind)
        elif kind in ("checkbox", "radio"):
            if "checked" in m.group(1):
                fields[name] = at.get("value", "on")
            elif kind == "radio":
                fields.setdefault(name, at.get("value", "on"))
        else:
            fields[name] = at.get("value") or "x"
    for m in re.finditer(r'<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', t, re.S):
        fields[m.group(1)] = html.unescape(m.group(2)) or "text"
    for m in re.finditer(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', t, re.S):
        options = re.findall(r'<option[^>]*value="([^"]*)"', m.group(2))
        if options:
            fields[m.group(1)] = html.unescape(options[-1])
    if submit:
        if submit[2] == "image":
            fields[submit[0] + ".x"], fields[submit[0] + ".y"] = "3", "4"
        else:
            fields[submit[0]] = submit[1]
    return fields


def postback(port, path):
    status, _, body, cookie = fetch(port, "GET", path)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie.split(";")[0]
    s, ctype, b, _ = fetch(port, "POST", path, urllib.parse.urlencode(form_of(body)), headers)
    return s, ctype, norm(b, port)


def test_every_form_posted_back_is_answered_alike(env):
    """Each page's form posted back with its view state, event validation and
    session cookie: the controls' events run (buttons, lists, validators,
    calendar, grids) and the page answers as with the peer."""
    fc = peer(env)
    _, sm = ours(env)
    n = 0
    diffs = []
    for p in files():
        if not p.endswith(".aspx"):
            continue
        if b"<form" not in fetch(sm, "GET", p)[2]:
            continue
        a, b = postback(fc, p), postback(sm, p)
        n += 1
        if a != b:
            diffs.append(f"{p}: peer {a[0]} {len(a[2])} chars, scgi-mono {b[0]} {len(b[2])} chars")
    check(not diffs, f"{len(diffs)} of {n} postbacks differ:\n" + "\n".join(diffs[:20]))
    check(n >= 50, f"only {n} forms posted back")
    print(f"# {n} forms posted back, answered alike")


SOAP = ('<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:soap="{ns}"><soap:Body><Echo xmlns="http://tempuri.org/">'
        '<a>caf\u00e9 &amp; &lt;x&gt; \u65e5\u672c</a></Echo></soap:Body></soap:Envelope>')


def test_web_services_answer_alike(env):
    fc = peer(env)
    _, sm = ours(env)
    ws = "/1.1/webservice/TestService.asmx"
    soap11 = SOAP.format(ns="http://schemas.xmlsoap.org/soap/envelope/").encode()
    soap12 = SOAP.format(ns="http://www.w3.org/2003/05/soap-envelope").encode()
    cases = [
        ("GET", ws + "/Echo?a=hello%20w%C3%B6rld", None, {}),
        ("POST", ws + "/Echo", b"a=x%26y%3Dz", {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", ws, soap11, {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://tempuri.org/Echo"'}),
        ("POST", ws, soap12, {"Content-Type": "application/soap+xml; charset=utf-8"}),
        ("POST", ws, b"<broken", {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"http://tempuri.org/Echo"'}),
        ("GET", ws + "?WSDL", None, {}),
        ("GET", "/1.1/webservice/ConverterService.asmx?WSDL", None, {}),
        ("GET", "/1.1/webservice/ConverterService.asmx?disco", None, {}),
    ]
    for method, path, body, headers in cases:
        a, b = fetch(fc, method, path, body, headers), fetch(sm, method, path, body, headers)
        # the peer names nginx's server_name (localhost) in its addresses,
        # scgi-mono the client's Host (as IIS does)
        na = norm(a[2], fc).replace("http://localhost:PORT/", "http://HOST:PORT/")
        nb = norm(b[2], sm).replace("http://127.0.0.1:PORT/", "http://HOST:PORT/")
        eq((b[0], b[1], nb), (a[0], a[1], na), f"{method} {path}")
        if "?" not in path and a[0] == 200:
            check("caf\u00e9" in b[2].decode() or "w\u00f6rld" in b[2].decode() or "x&amp;y=z" in b[2].decode(),
                  f"{method} {path}: the echo came back: {b[2][:300]!r}")
    print(f"# {len(cases)} web service calls (SOAP 1.1, SOAP 1.2, HTTP GET and POST, a broken envelope, "
          f"WSDL, discovery) answered alike")
