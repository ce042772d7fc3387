"""Issue 13: how many requests a worker runs at once (native/pool.h). With
`concurrency = auto` (the default) CPU-bound requests run about one per CPU
this process may use, however many `threads` there are, and requests that
block (Thread.Sleep here; a database or a remote call in real applications)
let more in, up to `threads`. `concurrency = N` fixes the number.
Handler: tests/integration/apps/concurrency/run.ashx, which answers how many
requests of its worker were running when it started."""
import concurrent.futures
import os
import re
import time

import harness
from common import check, conf_server, eq

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "concurrency")
CLIENTS = 16


def ncpu():
    return len(os.sched_getaffinity(0))  # the server inherits this affinity


def server(env, name, lines):
    def make():
        srv = conf_server(env, name, lines, apps={"concurrency": f"vpath = /\npath = {APP}\n"})
        eq(harness.request(srv.port, "GET", "/run.ashx").status, 200, "warm-up (compiles run.ashx)")
        return srv
    return env.once(name, make)


def burst(port, path, clients=CLIENTS, rounds=1):
    """`clients` requests at once, `rounds` times over; returns (the most
    running at once any answer saw, the most pool threads seen, seconds per round)."""
    most = threads = 0
    took = []
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        for _ in range(rounds):
            t = time.monotonic()
            answers = list(ex.map(lambda _: harness.request(port, "GET", path, timeout=60), range(clients)))
            took.append(time.monotonic() - t)
            for r in answers:
                eq(r.status, 200, f"{path}: status ({r.text[:200]})")
                m = re.fullmatch(r"running=(\d+) threads=(\d+)", r.text)
                check(m, f"{path}: answer {r.text[:200]!r}")
                most = max(most, int(m.group(1)))
                threads = max(threads, int(m.group(2)))
    return most, threads, took


def test_blocking_requests_run_well_past_the_cpus(env):
    n = ncpu()
    if n * 2 > CLIENTS:
        raise harness.Skip(f"{n} CPUs: {CLIENTS} clients do not show concurrency past them")
    srv = server(env, "conc-auto.conf", "threads = 32\n")
    most, threads, took = burst(srv.port, "/run.ashx?sleep=200", rounds=2)
    # serial over the CPUs would be 16 * 200 ms / ncpu; what it took is printed, not judged
    print(f"# {CLIENTS} requests sleeping 200 ms, {n} CPU(s): at most {most} at once, {threads} threads, "
          f"rounds took {', '.join('%.0f ms' % (t * 1000) for t in took)} "
          f"(one per CPU would take {CLIENTS * 200 // n} ms)")
    check(most >= min(CLIENTS, 32) * 3 // 4,
          f"requests that sleep let others in: at most {most} of {CLIENTS} ran at once on {n} CPU(s)")
    check(threads <= 32, f"{threads} pool threads, past threads = 32")


def test_cpu_bound_requests_run_one_per_cpu(env):
    n = ncpu()
    if n * 2 > CLIENTS:
        raise harness.Skip(f"{n} CPUs: {CLIENTS} clients do not show a limit at the CPUs")
    srv = server(env, "conc-auto.conf", "threads = 32\n")
    # spin: no allocation; churn: garbage, so collections stop the world (all
    # threads but the collector stand still: not to be taken as blocking)
    for path in ("/run.ashx?spin=60", "/run.ashx?churn=60"):
        # The places the blocking requests before (the test above, on this
        # server) left are kept for the next ones for 10-20 ms (README,
        # native/pool.h): a burst within that window would start in them
        # (seen: 4-5 at once). Here the steady state is judged, so wait past it.
        time.sleep(0.1)
        most, threads, took = burst(srv.port, path, rounds=3)
        print(f"# {CLIENTS} x {path}, {n} CPU(s), threads = 32: at most {most} at once, "
              f"{threads} pool threads seen, rounds took {', '.join('%.0f ms' % (t * 1000) for t in took)}")
        # +1: a thread that has just been judged blocked (ASP.NET's own waits)
        # may let one more in until the next tick (10 ms) sees it run again
        check(most <= n + 1, f"CPU-bound requests {path}: {most} ran at once on {n} CPU(s) with threads = 32")
        check(most >= 1, "something ran")


def test_places_left_by_blocking_requests_do_not_last(env):
    """Blocking requests, then CPU-bound ones at once: the first CPU-bound
    requests may start in the places the blocking ones left (kept 10-20 ms
    for a client's next request), but once the monitor has seen them run,
    CPU-bound requests are back to about one per CPU."""
    n = ncpu()
    if n * 2 > CLIENTS:
        raise harness.Skip(f"{n} CPUs: {CLIENTS} clients do not show a limit at the CPUs")
    srv = server(env, "conc-auto.conf", "threads = 32\n")
    burst(srv.port, "/run.ashx?sleep=100")
    first, _, _ = burst(srv.port, "/run.ashx?spin=40")
    after, _, took = burst(srv.port, "/run.ashx?spin=40", rounds=2)
    print(f"# CPU-bound right after blocking, {n} CPU(s): at most {first} at once in the first burst, "
          f"{after} in the two after ({', '.join('%.0f ms' % (t * 1000) for t in took)})")
    check(first <= CLIENTS, f"{first} at once")
    check(after <= n + 1, f"CPU-bound requests after a blocking burst: {after} ran at once on {n} CPU(s) "
          f"(the places blocking requests left should be gone)")


def test_concurrency_fixes_the_number(env):
    srv = server(env, "conc-fixed.conf", "threads = 16\nconcurrency = 3\n")
    most, threads, _ = burst(srv.port, "/run.ashx?sleep=100", clients=9)
    eq(most, 3, "requests at once with concurrency = 3 (blocking or not)")
    check(threads <= 3, f"{threads} pool threads started for concurrency = 3")
