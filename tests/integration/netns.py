"""A small network of the test's own, for tests across hosts (test_73_netns):
one network namespace per "host", each joined by a veth pair to a bridge in the
root namespace (one LAN, 10.N.0.0/24: the bridge is 10.N.0.1, host i is
10.N.0.(10+i)), so the hosts reach each other and the root namespace without
IP forwarding. Names are unique per run (the pid) and everything is removed by
Network.close, which also kills whatever still runs in the namespaces. Needs
root (CAP_SYS_ADMIN, CAP_NET_ADMIN), veth and bridge links; probe() says why
not."""
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness


def ip(*args, ns=None, check=True):
    argv = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    if check and p.returncode != 0:
        raise OSError(f"{' '.join(argv)}: exit {p.returncode}: {p.stdout.decode(errors='replace').strip()}")
    return p.stdout.decode(errors="replace")


def probe():
    """None if a namespace and a veth pair into it can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    tag = f"smp{os.getpid()}"
    try:
        ip("netns", "add", tag)
        ip("link", "add", tag, "type", "veth", "peer", "name", tag + "p")
        ip("link", "set", tag + "p", "netns", tag)
        ip("link", "add", tag + "b", "type", "bridge")
        return None
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot create a network namespace, a veth pair and a bridge here ({e})"
    finally:
        ip("link", "del", tag, check=False)
        ip("link", "del", tag + "b", check=False)
        ip("netns", "del", tag, check=False)


def _free_subnet():
    """A 10.N.0.0/16 that no address or route here uses, N from the pid."""
    used = ip("-4", "addr") + ip("-4", "route")
    for i in range(200):
        n = 20 + (os.getpid() + i) % 200
        if f" 10.{n}." not in used and f"\n10.{n}." not in "\n" + used:
            return n
    raise OSError("no free 10.N.0.0/16 subnet")


class Network:
    """hosts: names ("a", "b", "r"); self.addr[name] is the host's address,
    self.gw the bridge's (the root namespace's) address, self.ns[name] the
    host's namespace."""

    def __init__(self, hosts):
        self.ns, self.links, self.addr = {}, [], {}
        pid = os.getpid()
        try:
            n = _free_subnet()
            self.gw = f"10.{n}.0.1"
            self.bridge = f"sm{pid % 10**7}br"
            ip("link", "add", self.bridge, "type", "bridge")
            self.links.append(self.bridge)
            ip("addr", "add", f"{self.gw}/24", "dev", self.bridge)
            ip("link", "set", self.bridge, "up")
            for i, name in enumerate(hosts, 1):
                ns = f"scgimono-{pid}-{name}"
                link = f"sm{pid % 10**7}{name}"  # at most 15 characters with its peer's "p"
                peer = link + "p"
                ip("netns", "add", ns)
                self.ns[name] = ns
                ip("link", "add", link, "type", "veth", "peer", "name", peer)
                self.links.append(link)
                ip("link", "set", peer, "netns", ns)
                ip("link", "set", peer, "name", "eth0", ns=ns)
                self.addr[name] = f"10.{n}.0.{10 + i}"
                ip("link", "set", link, "master", self.bridge)
                ip("link", "set", link, "up")
                ip("addr", "add", f"{self.addr[name]}/24", "dev", "eth0", ns=ns)
                ip("link", "set", "eth0", "up", ns=ns)
                ip("link", "set", "lo", "up", ns=ns)
        except BaseException:
            self.close()
            raise

    def run(self, name, argv, **kw):
        """subprocess.run of argv in host `name`'s namespace."""
        return subprocess.run(["ip", "netns", "exec", self.ns[name]] + list(argv), **kw)

    def pids(self, name):
        out = ip("netns", "pids", self.ns[name], check=False)
        return [int(p) for p in out.split() if p.isdigit()]

    def close(self):
        for name, ns in self.ns.items():
            for pid in self.pids(name):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            ip("netns", "del", ns, check=False)
        for link in self.links:
            ip("link", "del", link, check=False)  # a veth goes with its peer's namespace, normally
        self.ns, self.links = {}, []

    def leftovers(self, names):
        """Namespaces or links of this run still there (after close: none)."""
        text = ip("netns", "list", check=False) + ip("-o", "link", check=False)
        return [n for n in names if n in text]


class HostServer:
    """scgi-mono-server run with `ip netns exec NS` (which execs it: its pid
    is the supervisor's), NETNS_HOST=name in its environment; wait_ready waits until it
    accepts on (address, port) and logged ready."""

    def __init__(self, workdir, net, name, conf, port, tmp):
        self.name, self.address, self.port = name, net.addr[name], port
        n = len(os.listdir(workdir))
        self.log_path = os.path.join(workdir, f"server-{n}-{name}.log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, TMPDIR=tmp, NETNS_HOST=name)
        self.proc = subprocess.Popen(["ip", "netns", "exec", net.ns[name], harness.SERVER, "--config", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir, env=env)

    def wait_ready(self, timeout=60):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"server {self.name} exited with {self.proc.returncode}: "
                                     f"{self.log_text()[-2000:]}")
            with socket.create_connection((self.address, self.port), timeout=1):
                return "ready:" in self.log_text()
        harness.wait_for(ready, timeout, f"server {self.name} to listen on {self.address}:{self.port}")
        return self

    def pids(self):
        """The supervisor and its workers."""
        return [self.proc.pid] + harness.worker_pids_of(self.proc.pid)

    def log_text(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, timeout=40, cut_drain=False):
        """SIGTERM (a second one 0.2 s later with cut_drain: no drain_delay)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if cut_drain:
                time.sleep(0.2)
                if self.proc.poll() is None:
                    self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Load:
    """`clients` threads GETting `path` from 127.0.0.1:port in a loop, one
    connection per request, recording (start, end, outcome) in time.time()
    seconds; outcome: (host, pid, t0) of host.ashx's answer (t0: when the
    handler began, in seconds) or an error text."""

    def __init__(self, port, clients, path):
        self.port, self.path = port, path
        self.results, self.lock, self.stop = [], threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]
        for t in self.threads:
            t.start()

    def _run(self):
        while not self.stop.is_set():
            start = time.time()
            try:
                r = harness.request(self.port, "GET", self.path, timeout=20)
                if r.status == 200:
                    host, pid, t0 = r.text.split()
                    out = (host, int(pid), int(t0) / 1000.0)
                else:
                    out = f"status {r.status}: {r.text[:200]}"
            except Exception as e:  # OSError, http.client's RemoteDisconnected...
                out = f"{type(e).__name__}: {e}"
            with self.lock:
                self.results.append((start, time.time(), out))

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return self.snapshot()


class Browser:
    """One user: keeps the cookies it is given (the session id, the forms
    authentication ticket) and sends them back."""

    def __init__(self, port):
        self.port, self.cookies = port, {}

    def get(self, path, timeout=20):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}
        r = harness.request(self.port, "GET", path, headers=headers, timeout=timeout)
        for k, v in r.headers:
            if k.lower() == "set-cookie":
                name, _, value = v.split(";", 1)[0].partition("=")
                self.cookies[name.strip()] = value.strip()
        return r


def gist(text):
    """An ASP.NET error page's exception and the top of its stack, else the start of the text."""
    m = re.search(r'class="exceptionMessage">(.*?)<', text, re.S)
    if not m:
        return text[:300]
    at = re.findall(r"at [\w.`<>\[\]]+ ?\([^)\n]*\)", re.sub(r"<[^>]*>", " ", text[m.end():]))
    return m.group(1).strip() + " | " + " ".join(at[:8])


class SessionLoad:
    """`clients` users through 127.0.0.1:port, each signed in as userK
    (login.ashx) and with a session of its own, alternating counter.ashx
    (Session["n"] += 1 in Redis) and secret.ashx (behind forms
    authentication), one connection per request. Records, like Load,
    (start, end, outcome) in time.time() seconds; outcome (host, pid, t0, page,
    value): value the counter (an int) or the signed-in name; or an error text
    "PAGE: ...". self.by_client[k] lists client k's (start, end, outcome)."""

    PAGES = ("counter", "secret")

    def __init__(self, port, clients):
        self.port = port
        self.results, self.lock, self.stop = [], threading.Lock(), threading.Event()
        self.by_client = {k: [] for k in range(clients)}
        self.browsers = {}
        self.threads = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(clients)]
        for t in self.threads:
            t.start()

    def _record(self, k, start, out):
        with self.lock:
            entry = (start, time.time(), out)
            self.results.append(entry)
            self.by_client[k].append(entry)

    def _run(self, k):
        b = Browser(self.port)
        self.browsers[k] = b
        user = f"user{k}"
        while not self.stop.is_set():  # signed in first (retried: the load may start during a fault)
            try:
                r = b.get(f"/login.ashx?user={user}")
                if r.status == 200 and r.text.split()[3:] == ["login", user] and ".T73AUTH" in b.cookies:
                    break
                out = f"login: status {r.status}: {r.text[:200]}"
            except Exception as e:  # noqa: BLE001
                out = f"login: {type(e).__name__}: {e}"
            self._record(k, time.time(), out)
            time.sleep(0.1)
        i = 0
        while not self.stop.is_set():
            page = self.PAGES[i % 2]
            i += 1
            start = time.time()
            try:
                r = b.get(f"/{page}.ashx")
                f = r.text.split()
                if r.status == 200 and page == "counter" and len(f) == 5:
                    out = (f[0], int(f[1]), int(f[2]) / 1000.0, page, int(f[3]))
                    if f[4] != b.cookies.get("ASP.NET_SessionId"):
                        out = f"counter: the page saw session {f[4]!r}, the cookie is {b.cookies.get('ASP.NET_SessionId')!r}"
                elif r.status == 200 and page == "secret" and len(f) == 5:
                    out = (f[0], int(f[1]), int(f[2]) / 1000.0, page, f[4])
                else:
                    where = dict((h.lower(), v) for h, v in r.headers).get("location", "")
                    out = f"{page}: status {r.status}{' to ' + where if where else ''}: {gist(r.text)}"
            except Exception as e:  # noqa: BLE001 - OSError, http.client's RemoteDisconnected...
                out = f"{page}: {type(e).__name__}: {e}"
            self._record(k, start, out)
            if isinstance(out, str):
                time.sleep(0.02)  # no busy loop while a page fails

    def snapshot(self):
        with self.lock:
            return list(self.results)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return self.snapshot()

    def violations(self):
        """What breaks the users' sessions or logins, per client: a counter
        that does not go up by one (more only after as many failed counter
        requests: one may have counted before it failed), a counter answer
        that is not one, a secret page for another name. Failed requests are
        not violations (errors_of counts them)."""
        out = []
        with self.lock:
            clients = {k: list(v) for k, v in self.by_client.items()}
        for k, entries in clients.items():
            last, failed = 0, 0  # a new session: its first counter is 1
            for _, _, o in entries:
                if isinstance(o, str):
                    failed += o.startswith("counter")
                    continue
                if o[3] == "counter":
                    if not last < o[4] <= last + 1 + failed:
                        out.append(f"user{k}: counter {last} then {o[4]} ({failed} failed between)")
                    last, failed = o[4], 0
                elif o[4] != f"user{k}":
                    out.append(f"user{k}: secret.ashx for {o[4]!r}")
        return out
