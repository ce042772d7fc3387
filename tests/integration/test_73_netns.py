"""Issue 12, tested across hosts: a network of the test's own (netns.py: three
network namespaces on one bridged LAN): hosts a and b each run an scgi-mono
server (workers = 2, drain_delay = 3, listen and status_listen on the host's
address), host r runs Redis, and HAProxy (httpchk GET /health/ready on the
status port, inter 1s fall 2 rise 2, retries, redispatch, roundrobin: no
stickiness) and an nginx upstream (scgi_pass to both, scgi_next_upstream error
timeout) in the root namespace are in front. The application
(apps/hosts) keeps its session state in Redis and shares one <machineKey>.
Under load through HAProxy, on a page that says which host answered, on a
session counter and on a page behind forms authentication:
  1. both hosts and all four workers serve; every user's counter goes up by
     one whichever host and worker answers, and logins hold;
  2. kill -9 of every process of host a: no more failed requests than were in
     flight on a, sessions and logins continue on b;
  3. a rolling SIGTERM/restart of a then b: nothing fails, sessions continue;
  4. Redis stopped for 10 s (SHUTDOWN SAVE, then started again from its dump):
     counter pages 503 within the bounded time, the other pages 200 throughout,
     the counters continue once it is back.
Needs root; skipped where namespaces, veth pairs or a bridge cannot be made."""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

import harness
import netns
from common import check, eq
from test_71_redis_sessions import REDIS, REDIS_CLI
from test_72_drain import HAPROXY, SAMPLES
from test_72_drain import HAProxy as LocalHAProxy

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "hosts")
PORT, STATUS_PORT = 8000, 9000  # the same in each host: its own namespace
PATH = "/host.ashx?sleep=100"  # 100 ms a request: some are always in flight
HOSTS = ("a", "b")  # the servers; "r" runs Redis
REDIS_PORT = 6379  # apps/hosts/web.config's


class NsRedis:
    """redis-server in host r's namespace, on its address, with its own
    directory: no periodic save, but SHUTDOWN SAVE writes a dump that the next
    start loads (so a stop of Redis is an outage, not a loss of the sessions)."""

    def __init__(self, net, name, workdir):
        self.net, self.name, self.address = net, name, net.addr[name]
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=workdir)
        self.proc = None
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.net.ns[self.name], REDIS, "--bind", self.address,
                                      "--port", str(REDIS_PORT), "--protected-mode", "no", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_for(lambda: self.cli("PING") == "PONG", 20, "redis-server in its namespace to answer")

    def cli(self, *args):
        """redis-cli from the root namespace, across the bridge."""
        r = subprocess.run([REDIS_CLI, "-h", self.address, "-p", str(REDIS_PORT), *args], capture_output=True,
                           timeout=10)
        return r.stdout.decode("utf-8", "replace").strip()

    def shutdown(self):
        self.cli("SHUTDOWN", "SAVE")
        self.proc.wait(10)
        self.log.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class HAProxy(LocalHAProxy):
    """test_72's HAProxy (from samples/haproxy.cfg, an admin socket) with the
    servers on the hosts' addresses."""

    def __init__(self, env, servers):  # the same, but for the servers' addresses
        # a directory of its own: the suite's work directory is shared by every test
        self.dir = tempfile.mkdtemp(prefix="haproxy-", dir=env.work.path)
        self.port = harness.free_port()
        self.sock = os.path.join(self.dir, "admin.sock")
        text = open(os.path.join(SAMPLES, "haproxy.cfg")).read()
        for line in ("option httpchk GET /health/ready", "default-server inter 1s fall 2 rise 2", "retries 3",
                     "option redispatch"):
            check(line in text, f"samples/haproxy.cfg has {line!r}")
        text = re.sub(r"^(\s*)server web\d.*\n", "", text, flags=re.M)
        text = text.replace("bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.port}")
        text = text.replace("    maxconn 4096\n", f"    maxconn 4096\n    stats socket {self.sock} level admin\n")
        text = text.replace("log stdout format raw local0 info", "log stdout format raw local0 notice")
        for name, address in servers.items():
            text += f"    server {name} {address}:{PORT} check port {STATUS_PORT}\n"
        self.conf = os.path.join(self.dir, "haproxy.cfg")
        open(self.conf, "w").write(text)
        self.log_path = os.path.join(self.dir, "haproxy.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.conf], stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir)
        harness.wait_for(lambda: os.path.exists(self.sock) and self._alive(), 20, "haproxy's admin socket")

    def current(self, name):
        """HAProxy's count of requests on server `name` now (scur of "show stat")."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            lines = harness.read_all(s).decode().splitlines()
        finally:
            s.close()
        head = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            f = dict(zip(head, line.split(",")))
            if f.get("svname") == name:
                return int(f["scur"])
        raise AssertionError(f"no server {name} in haproxy's stats")


def per_host(results, since=0.0):
    out = {}
    for start, _, o in results:
        if start >= since and isinstance(o, tuple):
            out[o[0]] = out.get(o[0], 0) + 1
    return out


def dead(pid):
    """pid has exited: every thread of it (a Mono worker has many; its files,
    its listening socket among them, close with the last one) a zombie or gone."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return True
    for tid in tasks:
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            return False
    return True


def errors_of(results):
    return [(start, end, o) for start, end, o in results if isinstance(o, str)]


def in_flight_on(results, t_kill, t_killed, host="b"):
    """Requests in flight at the kill (begun before every process was gone,
    answered after the first signal), less those the other host had begun to
    handle before it: at most, those that were on the killed host."""
    in_flight = [(s, e, o) for s, e, o in results if s < t_killed and e > t_kill]
    other = [r for r in in_flight if isinstance(r[2], tuple) and r[2][0] == host and r[2][2] < t_kill]
    return len(in_flight), len(in_flight) - len(other)


def outcome_kind(o):
    """"counter 200", "counter 503", "secret 200"... or the error's text."""
    if isinstance(o, tuple):
        return f"{o[3]} 200"
    m = re.match(r"(\w+): status (\d+)", o)
    return f"{m.group(1)} {m.group(2)}" if m else o[:60]


def session_summary(results):
    """Counter answers by host and by worker, and the failures, of a SessionLoad."""
    ok = [o for _, _, o in results if isinstance(o, tuple)]
    counters = [o for o in ok if o[3] == "counter"]
    return {"requests": len(results), "counter": len(counters), "secret": len(ok) - len(counters),
            "hosts": sorted({o[0] for o in counters}), "workers": len({o[:2] for o in counters}),
            "failed": len(errors_of(results))}


def app_copy(env, redis_address):
    dest = tempfile.mkdtemp(prefix="hosts-app-", dir=env.work.path)
    for f in os.listdir(APP):
        text = open(os.path.join(APP, f)).read()
        open(os.path.join(dest, f), "w").write(text.replace("REDIS_HOST", redis_address))
    return dest


def test_two_hosts_behind_haproxy_and_nginx(env):
    if not os.access(HAPROXY, os.X_OK):
        raise harness.Skip("haproxy is not installed (apt-get install haproxy)")
    if not os.access(REDIS, os.X_OK) or not os.access(REDIS_CLI, os.X_OK):
        raise harness.Skip("redis-server or redis-cli not installed (Debian packages redis-server, redis-tools)")
    why = netns.probe()
    if why:
        raise harness.Skip(why)
    t_begin = time.monotonic()
    net = netns.Network(list(HOSTS) + ["r"])
    names = list(net.ns.values()) + list(net.links)
    servers, stoppers = {}, []
    loads = []
    try:
        rd = NsRedis(net, "r", env.work.path)
        stoppers.append(rd.stop)
        ping = net.run("a", [REDIS_CLI, "-h", rd.address, "-p", str(REDIS_PORT), "PING"], capture_output=True,
                       timeout=10)
        if ping.stdout.strip() != b"PONG":
            raise harness.Skip(f"host a cannot reach host r across the bridge here (a firewall on bridged "
                               f"traffic?): redis-cli PING: {ping.stdout!r} {ping.stderr!r}")
        app = app_copy(env, rd.address)
        confs, tmps = {}, {}
        for name in HOSTS:
            address = net.addr[name]
            confs[name] = os.path.join(env.work.path, f"netns-{name}.conf")
            open(confs[name], "w").write(
                f"[server]\nlisten = tcp:{address}:{PORT}\nstatus_listen = tcp:{address}:{STATUS_PORT}\n"
                f"workers = 2\nthreads = 8\ndrain_delay = 3\n\n[app:hosts]\nvpath = /\npath = {app}\n"
                f"warmup = /host.ashx\n")
            tmps[name] = os.path.join(env.work.path, f"netns-tmp-{name}")
            os.makedirs(tmps[name])

        def start(name):
            servers[name] = netns.HostServer(env.work.path, net, name, confs[name], PORT, tmps[name])
            env.servers.append(servers[name])  # its log on failure
            return servers[name]
        for name in HOSTS:
            start(name)
        for srv in servers.values():
            srv.wait_ready()
        lb = HAProxy(env, {name: net.addr[name] for name in HOSTS})
        stoppers.append(lb.stop)
        line = "        server 127.0.0.1:{} max_fails=3 fail_timeout=10s;\n"
        ngx = harness.Nginx(env.work.path, "scgi_mono", sample=os.path.join(SAMPLES, "nginx-upstream.conf"),
                            subst={line.format(8001): line.replace("127.0.0.1:{}", f"{net.addr['a']}:{PORT}"),
                                   line.format(8002): line.replace("127.0.0.1:{}", f"{net.addr['b']}:{PORT}"),
                                   line.format(8003): ""})
        stoppers.append(ngx.stop)
        for name in HOSTS:
            lb.wait_state(name, "UP", 20)
        print(f"# network: host a {net.addr['a']}, host b {net.addr['b']}, Redis on host r {net.addr['r']} "
              f"(namespaces {', '.join(net.ns.values())}, bridge {net.bridge}); both servers ready and UP in "
              f"haproxy {time.monotonic() - t_begin:.1f} s after the start")

        def through_nginx(n):
            out = {}
            for _ in range(n):
                r = harness.request(ngx.port, "GET", "/host.ashx")
                key = r.text.split()[0] if r.status == 200 else f"status {r.status}"
                out[key] = out.get(key, 0) + 1
            return out

        def session_through_nginx(n):
            """One user's counter through nginx: (the counters, the hosts)."""
            b = netns.Browser(ngx.port)
            values, hosts = [], set()
            for _ in range(n):
                r = b.get("/counter.ashx")
                eq(r.status, 200, f"counter.ashx through nginx: {r.text[:200]}")
                f = r.text.split()
                values.append(int(f[3]))
                hosts.add(f[0])
            return values, hosts

        def check_sessions(sl, results, what):
            v = sl.violations()
            eq(v[:5], [], f"sessions and logins broken ({what})")

        # 1. both hosts serve, through haproxy and through nginx; sessions and
        # logins are the same whichever host and worker answers
        ngx_before = through_nginx(20)
        eq(sorted(ngx_before), ["a", "b"], f"both hosts answer through nginx ({ngx_before})")
        values, hosts = session_through_nginx(12)
        eq(values, list(range(1, 13)), f"one user's counter through nginx, across hosts {sorted(hosts)}")
        eq(sorted(hosts), ["a", "b"], "nginx sent that user to both hosts")
        anon = harness.request(lb.port, "GET", "/secret.ashx")
        eq(anon.status, 302, f"secret.ashx without a login: redirected ({anon.text[:100]})")
        check("login.ashx" in dict((k.lower(), v) for k, v in anon.headers).get("location", ""),
              "to login.ashx")
        load = netns.Load(lb.port, clients=4, path=PATH)
        sl = netns.SessionLoad(lb.port, clients=4)
        loads += [load, sl]
        time.sleep(3)
        first, sfirst = load.snapshot(), sl.snapshot()
        hosts = per_host(first)
        pids = {o[:2] for _, _, o in first if isinstance(o, tuple)}
        ss = session_summary(sfirst)
        print(f"# through haproxy, 3 s, 4 clients on host.ashx: {len(first)} requests, per host {hosts}, "
              f"{len(pids)} worker processes; 4 users (a session and a login each): {ss}; "
              f"through nginx: {ngx_before}, one user's counter 1..12 on {sorted(hosts)}")
        eq(errors_of(first), [], "failed requests with both hosts up")
        eq(errors_of(sfirst)[:5], [], "failed session requests with both hosts up")
        check(min(hosts.get("a", 0), hosts.get("b", 0)) >= 0.25 * len(first),
              f"both hosts share the load (roundrobin): {hosts}")
        check(len(pids) == 4, f"both workers of both hosts served: {sorted(pids)}")
        eq(ss["hosts"], ["a", "b"], "counter pages served by both hosts")
        eq(ss["workers"], 4, "counter pages served by all four workers")
        check(ss["counter"] >= 40 and ss["secret"] >= 40, f"session requests made: {ss}")
        for k, entries in sl.by_client.items():
            seen = {o[0] for _, _, o in entries if isinstance(o, tuple) and o[3] == "counter"}
            eq(sorted(seen), ["a", "b"], f"user{k}'s session was served by both hosts")
        check_sessions(sl, sfirst, "both hosts up")

        # 2. kill -9 of every process of host a (the supervisor first: it
        # starts no new worker; then whatever is left in its namespace)
        victims = servers["a"].pids()
        in_haproxy = lb.current("a")
        # the kill spans t_kill..t_killed: from the first signal until every
        # process is gone (a zombie or reaped: its sockets closed; until then
        # the kernel still queues connections on its listening socket)
        t_kill = time.time()
        killed = []
        for pid in victims + [p for p in net.pids("a") if p not in victims]:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        while not all(dead(pid) for pid in killed) and time.time() - t_kill < 10:
            time.sleep(0.001)
        t_killed = time.time()
        harness.wait_for(lambda: not net.pids("a"), 5, "no process left in host a's namespace")
        servers["a"].proc.wait(5)
        servers["a"].log.close()
        lb.wait_state("a", "DOWN", 10)
        down_s = time.time() - t_kill
        time.sleep(2)
        t_end = time.time()
        # a user whose session lock died with a worker of a waits for it to be
        # broken (executionTimeout = 5 s): let every user make requests after it
        harness.wait_for(lambda: all(any(isinstance(o, tuple) and s >= t_killed + 5 and o[3] == "counter"
                                         for s, _, o in sl.by_client[k]) for k in sl.by_client), 30,
                         "every user's counter answered after the kill and the lock timeout")
        results, sresults = load.finish(), sl.finish()
        loads = []
        n_flight, in_flight_a = in_flight_on(results, t_kill, t_killed)
        sn_flight, sin_flight_a = in_flight_on(sresults, t_kill, t_killed)
        failed, sfailed = errors_of(results), errors_of(sresults)
        after = [r for r in results if r[0] >= t_killed]
        after_hosts = per_host(results, since=t_killed)
        safter_hosts = per_host(sresults, since=t_killed)
        print(f"# kill -9 of host a's {len(killed)} processes (all gone {(t_killed - t_kill) * 1000:.1f} ms after "
              f"the first signal): haproxy saw it DOWN after {down_s:.2f} s; "
              f"host.ashx: in flight at the kill {n_flight} at the client, {in_flight_a} of them not on b "
              f"(haproxy's count on a just before: {in_haproxy}), failed {len(failed)}; "
              f"{len(after)} requests begun after the kill ({t_end - t_kill:.1f} s): {after_hosts}, "
              f"{len(errors_of(after))} failed; session pages: in flight {sn_flight}, {sin_flight_a} not on b, "
              f"failed {len(sfailed)}, after the kill {safter_hosts}")
        slowest = max(((e - s, s) for s, e, o in sresults if s >= t_kill - 1 and isinstance(o, tuple)), default=(0, 0))
        print(f"# the slowest session request around the kill: {slowest[0]:.2f} s, begun {slowest[1] - t_kill:+.2f} s from "
              f"it (a session whose lock died with a's worker waits for the lock's lease, 3 s)")
        for s, e, o in (failed + sfailed)[:6]:
            print(f"#   failed: begun {s - t_kill:+.3f} s, ended {e - t_kill:+.3f} s from the kill: {o[:70]!r}")
        check(len(failed) <= in_flight_a, f"failed requests ({len(failed)}) <= those in flight on a ({in_flight_a})")
        check(len(sfailed) <= sin_flight_a,
              f"failed session requests ({len(sfailed)}) <= those in flight on a ({sin_flight_a})")
        eq([r for r in failed + sfailed if r[0] >= t_killed], [], "failed requests begun after the kill")
        eq(set(after_hosts), {"b"}, "after the kill, only b answers")
        eq(set(safter_hosts), {"b"}, "after the kill, only b answers the session pages")
        check(after_hosts["b"] >= 20, f"requests keep succeeding on b: {after_hosts}")
        check_sessions(sl, sresults, "across the kill of host a: sessions and logins continue on b")
        ngx_after = through_nginx(20)
        print(f"# through nginx with a gone: {ngx_after}")
        eq(ngx_after, {"b": 20}, "nginx fails over to b (scgi_next_upstream error)")

        # 3. host a back, then a rolling restart of a and b: nothing lost
        t0 = time.monotonic()
        start("a").wait_ready()
        lb.wait_state("a", "UP", 20)
        print(f"# host a restarted and UP in haproxy after {time.monotonic() - t0:.1f} s")
        load = netns.Load(lb.port, clients=3, path=PATH)
        sl = netns.SessionLoad(lb.port, clients=3)
        loads = [load, sl]
        time.sleep(1)
        steps = {}
        for name in HOSTS:
            old = servers[name]
            t0 = time.monotonic()
            old.proc.send_signal(signal.SIGTERM)
            lb.wait_state(name, "DOWN", 10)
            down_at = time.monotonic() - t0
            eq(old.proc.wait(30), 0, f"server {name}: exit status after its drain")
            old.log.close()
            stopped_at = time.monotonic() - t0
            start(name).wait_ready()
            lb.wait_state(name, "UP", 20)
            steps[name] = (down_at, stopped_at, time.monotonic() - t0, time.time())
            time.sleep(1)
        results, sresults = load.finish(), sl.finish()
        loads = []
        failed, sfailed = errors_of(results), errors_of(sresults)
        for name, (down_at, stopped_at, up_at, _) in steps.items():
            print(f"# rolling: {name} SIGTERM at 0; DOWN in haproxy at {down_at:.2f} s, exited at {stopped_at:.2f} s, "
                  f"restarted and UP at {up_at:.2f} s")
        print(f"# rolling restart of a then b under 3 clients on host.ashx and 3 users: {len(results)} requests, "
              f"{len(failed)} failed, per host {per_host(results)}; session pages {session_summary(sresults)}")
        eq(failed[:5], [], "failed requests during the rolling restart")
        eq(sfailed[:5], [], "failed session requests during the rolling restart")
        check(len(results) >= 100, f"requests made: {len(results)}")
        check(per_host(results, since=steps["a"][3]).get("a", 0) > 0, "a served again after its restart")
        check(per_host(results, since=steps["b"][3]).get("b", 0) > 0, "b served again after its restart")
        check(per_host(sresults, since=steps["a"][3]).get("a", 0) > 0, "sessions served by a after its restart")
        check_sessions(sl, sresults, "across the rolling restart")

        # 4. Redis stopped for 10 s under load: session pages 503 within the
        # bounded time, host.ashx and the login-protected page 200, then back
        load = netns.Load(lb.port, clients=2, path="/host.ashx")
        sl = netns.SessionLoad(lb.port, clients=3)
        loads = [load, sl]
        harness.wait_for(lambda: all(any(isinstance(o, tuple) and o[3] == "counter" for _, _, o in v)
                                     for v in sl.by_client.values()), 20, "every user has a session")
        time.sleep(1)
        t_down = time.time()
        rd.shutdown()
        t_stopped = time.time()
        time.sleep(10)
        t_up = time.time()  # from here on, Redis may answer
        rd.start()
        # Redis' own start (a process in the namespace, its dump loaded) took
        # seconds on a loaded machine: the service is judged from when Redis
        # answers PING, not from when it was started
        t_answers = time.time()
        harness.wait_for(lambda: all(any(isinstance(o, tuple) and s >= t_up and o[3] == "counter"
                                         for s, _, o in v) for v in sl.by_client.values()), 20,
                         "every user's counter answered again after Redis' return")
        recovered = max(0.0, max(min(s for s, _, o in v if isinstance(o, tuple) and s >= t_up and o[3] == "counter")
                                 for v in sl.by_client.values()) - t_answers)
        print(f"# redis-server answered {t_answers - t_up:.2f} s after its start")
        time.sleep(1)
        results, sresults = load.finish(), sl.finish()
        loads = []
        during = [(s, e, o) for s, e, o in sresults if t_stopped + 0.2 <= s and e <= t_up]
        kinds = {}
        for s, e, o in during:
            key = outcome_kind(o)
            kinds[key] = kinds.get(key, 0) + 1
        slow_503 = max([e - s for s, e, o in during if isinstance(o, str)] or [0])
        host_during = [r for r in results if t_stopped <= r[0] and r[1] <= t_up]
        print(f"# Redis stopped (SHUTDOWN SAVE) for {t_up - t_stopped:.1f} s under 2 clients on host.ashx and 3 "
              f"users: during it, session users' requests {kinds}, the slowest failure {slow_503 * 1000:.0f} ms; "
              f"host.ashx {len(host_during)} requests, {len(errors_of(results))} failed; every user's counter "
              f"answered again {recovered:.2f} s after Redis answered again")
        eq(errors_of(results)[:5], [], "host.ashx (no session state) while Redis was stopped")
        check(len(host_during) >= 50, f"host.ashx kept being served: {len(host_during)}")
        check(kinds.get("counter 503", 0) >= 10, f"counter pages 503 while Redis was stopped: {kinds}")
        check(kinds.get("secret 200", 0) >= 10, f"the login-protected page 200 while Redis was stopped: {kinds}")
        eq(sorted(set(kinds) - {"counter 503", "secret 200"}), [],
           "nothing but counter 503 and secret 200 while Redis was stopped")
        check(slow_503 < 2.5, f"every 503 within operationTimeout (1 s) and a little: {slow_503:.2f} s")
        check(recovered < 10, f"service back within 10 s of Redis answering again: {recovered:.2f} s")
        check_sessions(sl, sresults, "across the Redis outage (its dump kept the sessions)")
        for name in HOSTS:
            check(re.search(r"session state unavailable", servers[name].log_text()),
                  f"server {name} logged the session store's failure")
        print(f"# the whole test: {time.monotonic() - t_begin:.1f} s")
    finally:
        for ld in loads:
            ld.finish()
        for stop in list(reversed(stoppers)) + [lambda srv=srv: srv.stop(timeout=15, cut_drain=True)
                                                for srv in servers.values()]:
            try:
                stop()
            except Exception as e:  # noqa: BLE001 - the network goes whatever happens
                print(f"# cleanup: {type(e).__name__}: {e}")
        net.close()
        left = net.leftovers(names)
    eq(left, [], "namespaces and links left after the test")
