"""A small network of the test's own, for tests across hosts (test_73_netns):
one network namespace per "host", each joined to the root namespace by a veth
pair (point to point, 10.N.i.1 on the root side, 10.N.i.2 in the host), with
names unique per run (the pid) and everything removed by Network.close, which
also kills whatever still runs in the namespaces. Needs root
(CAP_SYS_ADMIN, CAP_NET_ADMIN) and veth; Network.probe() says why not."""
import os
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
        return None
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot create a network namespace and a veth pair here ({e})"
    finally:
        ip("link", "del", tag, check=False)
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
    """hosts: names ("a", "b"); self.addr[name] is the host's address,
    self.gw[name] the root namespace's end of its link, self.ns[name] its
    namespace."""

    def __init__(self, hosts):
        self.ns, self.links, self.addr, self.gw = {}, [], {}, {}
        pid = os.getpid()
        try:
            n = _free_subnet()
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
                self.gw[name], self.addr[name] = f"10.{n}.{i}.1", f"10.{n}.{i}.2"
                ip("addr", "add", f"{self.gw[name]}/24", "dev", link)
                ip("link", "set", link, "up")
                ip("addr", "add", f"{self.addr[name]}/24", "dev", "eth0", ns=ns)
                ip("link", "set", "eth0", "up", ns=ns)
                ip("link", "set", "lo", "up", ns=ns)
        except BaseException:
            self.close()
            raise

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
            ip("link", "del", link, check=False)  # gone with its peer's namespace, normally
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
