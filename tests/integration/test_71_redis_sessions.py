"""Issue 12, session state in Redis: ScgiMono.RedisSessionStateStore against a
real redis-server (Debian's, started here on a free loopback port with no
persistence, never the system service), serving tests/integration/apps/sessions/
(counter.ashx: read-write, Session["n"] += 1; read.aspx: EnableSessionState=
"ReadOnly"; abandon.ashx; plain.ashx: no session). The locking is compared
with Mono's own InProc store on a copy of the same application."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import harness
from common import Load, check, conf_server, eq

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "sessions")
REDIS = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
PREFIX = "t71:"  # keyPrefix in the app's web.config


class Redis:
    """A redis-server of the test's own: loopback, no RDB, no AOF, its own directory."""

    def __init__(self, workdir, port=None):
        self.port = port or harness.free_port()
        self.dir = os.path.join(workdir, f"redis-{self.port}")
        os.makedirs(self.dir, exist_ok=True)
        self.start()

    def start(self):
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        harness.wait_for(lambda: self.cli("PING") == "PONG", 20, "redis-server to answer")

    def cli(self, *args):
        r = subprocess.run([REDIS_CLI, "-p", str(self.port), *args], capture_output=True, timeout=10)
        return r.stdout.decode("utf-8", "replace").strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def redis(env):
    if not os.path.exists(REDIS) or not os.path.exists(REDIS_CLI):
        raise harness.Skip("redis-server or redis-cli not installed (Debian packages redis-server, redis-tools)")
    r = Redis(env.work.path)
    env.on_exit(r.stop)
    return r


def app_copy(env, name, redis_port=None, inproc=False):
    dest = os.path.join(env.work.path, name)
    shutil.copytree(APP, dest)
    path = os.path.join(dest, "web.config")
    text = open(path).read()
    if inproc:
        text = re.sub(r"<sessionState .*?</sessionState>", '<sessionState mode="InProc" timeout="1" />', text,
                      flags=re.S)
    else:
        text = text.replace("REDIS_PORT", str(redis_port))
    open(path, "w").write(text)
    return dest


def sessions_server(env, name, rd, workers=1):
    return conf_server(env, f"{name}.conf", server=f"workers = {workers}\nthreads = 8\n",
                       apps={"sessions": f"vpath = /\npath = {app_copy(env, name, rd.port)}\n"})


class Client:
    """One browser: keeps the ASP.NET_SessionId cookie it was given."""

    def __init__(self, port, sid=None):
        self.port, self.sid = port, sid

    def get(self, path, timeout=60):
        headers = {"Cookie": f"ASP.NET_SessionId={self.sid}"} if self.sid else {}
        r = harness.request(self.port, "GET", path, headers=headers, timeout=timeout)
        for k, v in r.headers:
            m = re.match(r"ASP\.NET_SessionId=([^;]*)", v) if k.lower() == "set-cookie" else None
            if m:
                self.sid = m.group(1)
        return r

    def counter(self, query=""):
        r = self.get("/counter.ashx" + query)
        eq(r.status, 200, f"counter.ashx: {r.text[:300]}")
        n, pid, sid = r.text.split()
        eq(sid, self.sid, "the session id the page saw is the cookie's")
        return int(n), int(pid)


def test_counter_across_requests_and_sliding_expiry(env):
    rd = redis(env)
    srv = sessions_server(env, "t71-counter", rd)
    c = Client(srv.port)
    eq([c.counter()[0] for _ in range(5)], [1, 2, 3, 4, 5], "Session[\"n\"] across requests")
    key = PREFIX + c.sid
    eq(rd.cli("HGET", key, "timeout"), "1", "the session's timeout (minutes) in its hash")
    ttl = int(rd.cli("PTTL", key))
    check(55000 < ttl <= 60000, f"the key expires one timeout (60 s) after the last access: PTTL {ttl}")
    time.sleep(1.5)
    ttl = int(rd.cli("PTTL", key))
    check(ttl <= 58600, f"PTTL goes down between requests: {ttl}")
    r = c.get("/read.aspx")
    eq(r.status, 200, "read.aspx")
    eq(r.text.split()[0], "5", "the read-only page sees the value")
    ttl = int(rd.cli("PTTL", key))
    check(ttl > 59000, f"a read-only access slides the expiry too: PTTL {ttl}")
    time.sleep(1.2)
    c.counter()
    ttl = int(rd.cli("PTTL", key))
    check(ttl > 59000, f"a read-write access slides the expiry: PTTL {ttl}")
    # Expiry itself, without waiting a minute: the key goes as Redis expires it.
    rd.cli("PEXPIRE", key, "1")
    time.sleep(0.1)
    eq(c.counter()[0], 1, "after the session's key expired, a new session starts")
    # A plain page never touches the store.
    eq(srv_get(srv, "/plain.ashx").status, 200, "plain.ashx")


def srv_get(srv, path):
    return harness.request(srv.port, "GET", path)


def test_abandon_and_garbage_ids(env):
    rd = redis(env)
    srv = sessions_server(env, "t71-abandon", rd)
    c = Client(srv.port)
    c.counter()
    c.counter()
    key = PREFIX + c.sid
    eq(rd.cli("EXISTS", key), "1", "the session is in Redis")
    r = c.get("/abandon.ashx")
    eq(r.status, 200, f"abandon.ashx: {r.text[:300]}")
    eq(rd.cli("EXISTS", key), "0", "Session.Abandon removed the key")
    eq(c.counter()[0], 1, "after Abandon the counter starts again")
    for bad in ["..%2f..%2fetc", "x" * 300, "zzzzzzzzzzzzzzzzzzzzzzzz", "ABCDEFABCDEFABCDEFABCDEF", "",
                "a b;c", "%00"]:
        g = Client(srv.port, bad)
        n, _ = g.counter()
        eq(n, 1, f"a session id cookie {bad[:40]!r} names no session: a new one")
        check(g.sid != bad, f"a new session id was issued for {bad[:40]!r}")
        eq(g.counter()[0], 2, "and the new session works")
    check("Exception" not in srv.log_text(), "no exception logged for garbage session ids")


def test_workers_share_sessions_under_concurrent_load(env):
    rd = redis(env)
    srv = sessions_server(env, "t71-workers", rd, workers=2)
    pids, failures = set(), []
    lock = threading.Lock()

    def client(k):
        c = Client(srv.port)
        try:
            for i in range(1, 31):
                n, pid = c.counter()
                with lock:
                    pids.add(pid)
                if n != i:
                    raise AssertionError(f"client {k}: request {i} saw counter {n}")
        except Exception as e:
            with lock:
                failures.append(str(e))

    deadline = time.monotonic() + 120
    rounds = 0
    while (rounds == 0 or len(pids) < 2) and time.monotonic() < deadline:
        threads = [threading.Thread(target=client, args=(k,)) for k in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        rounds += 1
    eq(failures, [], "every client's counter went 1..30 whichever worker served it")
    eq(len(pids), 2, f"both workers served session requests ({pids}, {rounds} round(s) of 6 clients)")


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def lock_behaviour(port):
    """What a read-write and a read-only request do while another request of
    the same session holds it: (seen by the waiting writer, the writer waited,
    the reader waited, two slow readers ran in parallel, a writer waited for a
    slow reader)."""
    c = Client(port)
    c.counter()
    out = {}

    def slow():
        out["slow"] = c.counter("?sleep=2500")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.7)  # the slow request holds the session now
    w, dw = timed(lambda: Client(port, c.sid).counter())
    t.join(30)
    sees = w[0] == out["slow"][0] + 1
    r = Client(port, c.sid)
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.7)
    rr, dr = timed(lambda: r.get("/read.aspx"))
    t.join(30)
    eq(rr.status, 200, "read.aspx")
    # Two slow read-only requests at once, then a writer during a slow reader.
    res = []
    ts = [threading.Thread(target=lambda: res.append(timed(lambda: Client(port, c.sid).get("/read.aspx?sleep=2000"))))
          for _ in range(2)]
    t0 = time.monotonic()
    for x in ts:
        x.start()
    for x in ts:
        x.join(30)
    both = time.monotonic() - t0
    eq([x[0].status for x in res], [200, 200], "slow read-only pages")
    t = threading.Thread(target=lambda: Client(port, c.sid).get("/read.aspx?sleep=2500"))
    t.start()
    time.sleep(0.7)
    _, dw2 = timed(lambda: Client(port, c.sid).counter())
    t.join(30)
    return {"writer sees the slow write": sees,
            "writer waited": dw > 1.2, "reader waited": dr > 1.2,
            "readers in parallel": both < 3.5, "writer waited for a reader": dw2 > 1.2}


def test_one_session_is_serialized_as_with_inproc(env):
    rd = redis(env)
    srv = conf_server(env, "t71-lock.conf", server="threads = 8\n",
                      apps={"redis": f"vpath = /\npath = {app_copy(env, 't71-lock-redis', rd.port)}\n"})
    inproc = conf_server(env, "t71-lock-inproc.conf", server="threads = 8\n",
                         apps={"inproc": f"vpath = /\npath = {app_copy(env, 't71-lock-inproc', inproc=True)}\n"})
    got = lock_behaviour(srv.port)
    expected = lock_behaviour(inproc.port)
    print(f"# Redis: {got}\n# InProc: {expected}")
    eq(got, expected, "Redis sessions lock exactly as Mono's InProc sessions")
    eq(got["writer sees the slow write"] and got["writer waited"], True,
       "a second read-write request waits for the first and sees its write")
    eq(got["readers in parallel"] and not got["writer waited for a reader"], True,
       "read-only requests take no lock")


def test_stale_lock_is_broken_after_execution_timeout(env):
    rd = redis(env)
    srv = sessions_server(env, "t71-stale", rd)
    c = Client(srv.port)
    c.counter()
    key = PREFIX + c.sid
    now_ms = lambda: (lambda s, us: int(s) * 1000 + int(us) // 1000)(*rd.cli("TIME").split())  # noqa: E731
    # A lock left by a server that died, older than executionTimeout (10 s): broken at once.
    rd.cli("HSET", key, "locktime", str(now_ms() - 60000), "lockid", "dead-server", "lockseen", str(now_ms()))
    (n, _), d = timed(c.counter)
    eq(n, 2, "the request ran after breaking the stale lock")
    check(d < 2, f"a lock older than executionTimeout is broken at once (took {d:.1f}s)")
    # A lock 7 s old whose holder is alive (renews its lease, as a server's
    # renewer thread does): the request waits until it is 10 s old, then breaks it.
    rd.cli("HSET", key, "locktime", str(now_ms() - 7000), "lockid", "slow-server", "lockseen", str(now_ms()))
    alive = threading.Event()

    def renew():
        while not alive.wait(0.5):
            if rd.cli("HGET", key, "lockid") == "slow-server":
                rd.cli("HSET", key, "lockseen", str(now_ms()))
    threading.Thread(target=renew, daemon=True).start()
    try:
        (n, _), d = timed(c.counter)
    finally:
        alive.set()
    eq(n, 3, "the request ran after the lock reached executionTimeout")
    check(2.5 < d < 6, f"it waited for the lock to reach executionTimeout (waited {d:.1f}s, expected ~3)")
    # A lock released while the request waits: taken at once.
    rd.cli("HSET", key, "locktime", str(now_ms()), "lockid", "live-request", "lockseen", str(now_ms()))
    threading.Timer(1.0, lambda: rd.cli("HDEL", key, "locktime")).start()
    (n, _), d = timed(c.counter)
    eq(n, 4, "the request ran after the lock was released")
    check(0.9 < d < 3, f"it waited for the release only (waited {d:.1f}s)")


def test_a_lock_whose_holder_died_is_taken_after_its_lease(env):
    """lockLease (default 3 s): a lock nobody renews is dead, whatever its age;
    one whose holder runs (renewed by its server) holds past the lease."""
    rd = redis(env)
    srv = sessions_server(env, "t71-lease", rd)
    c = Client(srv.port)
    c.counter()
    key = PREFIX + c.sid
    now_ms = lambda: (lambda s, us: int(s) * 1000 + int(us) // 1000)(*rd.cli("TIME").split())  # noqa: E731
    # taken 1 s ago by a server that was killed at once (never renewed): 2 s left of its lease
    rd.cli("HSET", key, "locktime", str(now_ms() - 1000), "lockid", "killed-server")
    (n, _), d = timed(c.counter)
    eq(n, 2, "the request ran after the dead lock's lease ran out")
    check(1.5 < d < 3.5, f"it waited for the lease (3 s from the taking), not executionTimeout (waited {d:.1f}s)")
    # renewed 4 s ago (its holder is gone): dead now
    rd.cli("HSET", key, "locktime", str(now_ms() - 5000), "lockid", "killed-server", "lockseen", str(now_ms() - 4000))
    (n, _), d = timed(c.counter)
    eq(n, 3, "a lock not renewed for longer than the lease is taken at once")
    check(d < 1.5, f"at once (took {d:.1f}s)")
    # A live holder keeps its lock past the lease: a request holding it 5 s
    # (its server renews it), another one of the session waits for it.
    out = {}
    t_slow = threading.Thread(target=lambda: out.update(slow=timed(lambda: Client(srv.port, c.sid).counter("?sleep=5000"))))
    t_slow.start()
    time.sleep(0.5)
    seen_renewed = []

    def watch():
        while t_slow.is_alive():
            v = rd.cli("HGET", key, "lockseen")
            if v:
                seen_renewed.append(int(v))
            time.sleep(0.5)
    threading.Thread(target=watch, daemon=True).start()
    (n, _), d = timed(c.counter)
    t_slow.join(20)
    (n_slow, _), d_slow = out["slow"]
    eq((n_slow, n), (4, 5), "the waiter ran after the holder, on its write")
    check(d > 4, f"the waiter waited for the holder (5 s), past the 3 s lease (waited {d:.1f}s)")
    check(len(set(seen_renewed)) >= 2, f"the holder's server renewed the lease while it ran: {sorted(set(seen_renewed))}")
    eq(rd.cli("HGET", key, "locktime"), "", "released at the end")


def test_redis_down_or_slow_gives_503_and_recovers(env):
    rd = redis(env)
    srv = sessions_server(env, "t71-down", rd)
    c = Client(srv.port)
    eq(c.counter()[0], 1, "served with Redis up")
    rd.stop()
    for path in ["/counter.ashx", "/read.aspx"]:
        r, d = timed(lambda: c.get(path, timeout=30))
        eq(r.status, 503, f"{path} with Redis stopped: {r.text[:200]}")
        check(d < 3, f"{path}: 503 within the bounded time (took {d:.1f}s)")
    eq(srv_get(srv, "/plain.ashx").status, 200, "a page without session state is served with Redis stopped")
    harness.wait_for(lambda: re.search(r"\[worker \d+\] warning: session state unavailable \(GetItem\w*\): "
                                       r"Redis 127\.0\.0\.1:\d+/0: .*: 503", srv.log_text()), 10,
                     "a log line about the 503, in the server's log format (time, worker, level)")
    # Slow: Redis stopped by SIGSTOP accepts connections but never answers.
    rd.start()
    harness.wait_for(lambda: c.get("/counter.ashx").status == 200, 10, "session pages once Redis is back")
    n0 = c.counter()[0]
    # Under load: session pages from 4 clients (each its own session) and plain
    # pages from 2 more, while Redis hangs.
    plain = Load(srv.port, clients=2, path="/plain.ashx", parse=lambda r: int(r.text.split()[1]))
    sessions = Load(srv.port, clients=4, path="/counter.ashx", parse=lambda r: r.status)
    time.sleep(0.5)
    rd.proc.send_signal(signal.SIGSTOP)
    try:
        r, d = timed(lambda: c.get("/counter.ashx", timeout=30))
        eq(r.status, 503, f"counter.ashx with Redis not answering (after {d:.1f}s): {re.sub(r'<[^>]*>', '', r.text)[-1500:]}")
        check(d < 4, f"503 within operationTimeout (1 s) and a little (took {d:.1f}s)")
        eq(srv_get(srv, "/plain.ashx").status, 200, "plain.ashx while Redis hangs")
        time.sleep(2)
    finally:
        rd.proc.send_signal(signal.SIGCONT)
    time.sleep(1)
    t_end = time.monotonic()
    plain_results, session_results = plain.finish(), sessions.finish()
    eq(plain.errors(), [], "plain pages under load while Redis hung")
    check(len(plain_results) > 20, f"plain pages kept being served: {len(plain_results)}")
    outcomes = [o for _, o in session_results]
    check(any(o == 200 for o in outcomes), "session pages served before and after")
    check(any(isinstance(o, str) and o.startswith("status 503") for o in outcomes), "session pages 503 while it hung")
    check(all(o == 200 or (isinstance(o, str) and o.startswith("status 503")) for o in outcomes),
          f"nothing but 200 and 503: {sorted(set(map(str, outcomes)))[:5]}")
    check(any(o == 200 for t, o in session_results if t > t_end - 0.8), "served again within a second of Redis' return")
    # Back: the same session continues, no restart of the server, and the lock
    # the timed-out request may have left taken does not hold the next one up.
    (n, _), d = timed(c.counter)
    eq(n, n0 + 1, "the session continues after Redis answers again")
    check(d < 3, f"without waiting for a lock left by the timed-out request (took {d:.1f}s)")
    eq(srv.proc.poll(), None, "the server kept running")


def test_the_sample_web_config(env):
    """samples/redis-sessions.web.config works once its placeholders are replaced."""
    rd = redis(env)
    sample = open(os.path.join(harness.ROOT, "samples", "redis-sessions.web.config")).read()
    check("REPLACE-WITH" in sample, "the sample's machineKey is a placeholder")
    good = app_copy(env, "t71-sample", rd.port)
    text = sample.replace('port="6379"', f'port="{rd.port}"')
    text = re.sub(r'validationKey="[^"]*"', f'validationKey="{os.urandom(64).hex()}"', text)
    text = re.sub(r'decryptionKey="[^"]*"', f'decryptionKey="{os.urandom(32).hex()}"', text)
    open(os.path.join(good, "web.config"), "w").write(text)
    srv = conf_server(env, "t71-sample.conf", apps={"good": f"vpath = /\npath = {good}\n"})
    c = Client(srv.port)
    eq([c.counter()[0] for _ in range(3)], [1, 2, 3], "the sample's session state")
    check(rd.cli("EXISTS", "myapp:session:" + c.sid) == "1", "under the sample's keyPrefix")


def test_cookieless_ids_start_uninitialized(env):
    """cookieless="UseUri": ASP.NET redirects to /(id)/..., the store made
    the session with CreateUninitializedItem, and the counter counts from there."""
    rd = redis(env)
    dest = app_copy(env, "t71-cookieless", rd.port)
    path = os.path.join(dest, "web.config")
    text = open(path).read().replace('timeout="1"', 'timeout="1" cookieless="UseUri"', 1)
    open(path, "w").write(text)
    srv = conf_server(env, "t71-cookieless.conf", apps={"s": f"vpath = /\npath = {dest}\n"})
    r = harness.request(srv.port, "GET", "/counter.ashx")
    eq(r.status, 302, f"a redirect to the URL with the session id: {r.text[:200]}")
    loc = dict((k.lower(), v) for k, v in r.headers)["location"]
    m = re.search(r"(/\(([A-Za-z0-9]+)\))/counter\.ashx", loc)  # Mono's form: /(ID)/
    check(m, f"Location names the session: {loc}")
    segment, sid = m.group(1), m.group(2)
    eq(rd.cli("HGET", PREFIX + sid, "init"), "1", "an uninitialized item waits in Redis")
    for i in (1, 2, 3):
        r = harness.request(srv.port, "GET", f"{segment}/counter.ashx")
        eq(r.status, 200, f"counter through the cookieless URL: {r.text[:200]}")
        eq(r.text.split()[0], str(i), "the counter")
        eq(r.text.split()[2], sid, "the same session")
    eq(rd.cli("HEXISTS", PREFIX + sid, "init"), "0", "initialized by the first write")
