#!/usr/bin/env python3
"""scgi-mono's threads x workers matrix (see bench/README.md, "Threads and workers").

For each setting of `threads` (per worker process) and `workers`, and once with
no setting at all (the server's defaults), starts build/scgi-mono-server behind
the benchmark's nginx (bench/run.py's: one nginx worker, scgi_pass) on
loopback, and measures each page with wrk at 32 and 64 connections, as
bench/run.py does. Prints a table of req/s and p99 per setting and page, the
best setting per page, and the defaults' ratio to the best; with --cpus the
server (supervisor and workers) is pinned there with taskset, for the scaling
with cores (e.g. --cpus 0 and --cpus 0-1 in two invocations, or --cpus 0,0-1
in one: each setting is then run once per CPU list).

  python3 bench/matrix.py [--threads 1,2,4,8,16] [--workers 1,2,3,4]
                          [--pages hello,page] [--duration S] [--cpus LIST[;LIST]]
                          [--only-default] [--mono-gc-params P]

Results also go to build/bench/matrix-STAMP.json. Nothing here is a test:
it prints what it measured.
"""
import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: nginx, wrk, the pages, process handling)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", default="1,2,4,8,16", help="the rows: values of --knob")
    ap.add_argument("--knob", default="threads", choices=["threads", "concurrency"],
                    help="the key the rows set: threads (the most per worker) or concurrency (requests run at once)")
    ap.add_argument("--workers", default="1,2,3,4")
    ap.add_argument("--pages", default="hello,page")
    ap.add_argument("--duration", type=int, default=6, help="seconds of each wrk pass")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--connections", default="32,64")
    ap.add_argument("--cpus", default="", help="taskset CPU lists for the server, ';'-separated (e.g. '0;0-1')")
    ap.add_argument("--only-default", action="store_true", help="only the server's defaults (with --cpus: scaling)")
    ap.add_argument("--mono-gc-params", default="")
    ap.add_argument("--scgi-threads", type=int, default=0)  # bench.mono_env and Target read these
    o = ap.parse_args(argv)
    o.threads = [int(x) for x in o.threads.split(",") if x]
    o.workers = [int(x) for x in o.workers.split(",") if x]
    o.pages = [p for p in o.pages.split(",") if p]
    o.connections = [int(x) for x in o.connections.split(",") if x]
    o.cpus = [c for c in o.cpus.split(";") if c] or [""]
    for p in o.pages:
        if p not in bench.PAGES:
            ap.error(f"unknown page {p}")
    return o


class Server(bench.Target):
    """build/scgi-mono-server with a configuration file: threads and workers
    (None: the default), pinned to cpus with taskset if given."""
    name, kind, role = "scgi-mono", "scgi", "this server"

    def __init__(self, args, threads, workers, cpus):
        super().__init__(args)
        self.threads, self.workers, self.cpus = threads, workers, cpus
        self.knob = args.knob

    def start(self, workdir):
        self.port = bench.free_port()
        conf = os.path.join(workdir, "server.conf")
        with open(conf, "w") as f:
            f.write(f"[server]\nlisten = tcp:127.0.0.1:{self.port}\n")
            if self.threads:
                f.write(f"{self.knob} = {self.threads}\n")
            if self.workers:
                f.write(f"workers = {self.workers}\n")
            f.write(f"\n[app:bench]\nvpath = /\npath = {bench.APP}\n")
        argv = [bench.SERVER, "--config", conf]
        if self.cpus:
            argv = ["taskset", "-c", self.cpus] + argv
        self.proc = bench.Proc(self.name, argv, os.path.join(workdir, "server.log"), cwd=workdir,
                               env=bench.mono_env(self.args, SCGI_MONO_ALLOW_ROOT="1"))  # as the caller, root included
        bench.wait_for(lambda: "ready:" in self.proc.log_text() and bench.port_open(self.port),
                       bench.START_TIMEOUT, "scgi-mono-server to be ready", self.proc)

    def settings(self):
        """The threads and workers the server says it runs (its ready line)."""
        import re
        m = re.search(r"ready: (\d+) worker process\(es\).*?, (\d+) threads each", self.proc.log_text())
        return (int(m.group(2)), int(m.group(1))) if m else (None, None)


def ctx_switches(pids):
    """(voluntary, involuntary) context switches of every thread of pids so far."""
    vol = inv = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            vol += int(line.split()[1])
                        elif line.startswith("nonvoluntary_ctxt_switches:"):
                            inv += int(line.split()[1])
            except OSError:
                pass
    return vol, inv


def measure(o, root, threads, workers, cpus):
    srv = Server(o, threads, workers, cpus)
    workdir = tempfile.mkdtemp(prefix="matrix-", dir=root)
    os.chmod(workdir, 0o755)
    out = {"threads": threads, "knob": o.knob, "workers": workers, "cpus": cpus, "pages": {}}
    nginx = None
    try:
        t0 = time.monotonic()
        srv.start(workdir)
        out["start_s"] = round(time.monotonic() - t0, 2)
        out["threads_run"], out["workers_run"] = srv.settings()
        nginx = bench.Nginx(workdir, srv.name, srv.kind, srv.port)
        for name in o.pages:
            page = bench.PAGES[name]
            status, body = bench.http_request(nginx.port, page, bench.FIRST_REQUEST_TIMEOUT)
            bad = bench.check_body(page, status, body)
            if bad:
                raise RuntimeError(f"{name}: wrong answer: {bad}")
            script = bench.wrk_script(workdir, page)
            bench.run_wrk(nginx.port, page, o.connections[0], o.warmup, script)
            pr = {}
            for conns in o.connections:
                pids = srv.pids()
                cpu0 = bench.cpu_seconds(pids)
                cs0 = ctx_switches(pids)
                w = bench.run_wrk(nginx.port, page, conns, o.duration, script)
                if w["requests"]:
                    w["cpu_us"] = (bench.cpu_seconds(pids) - cpu0) * 1e6 / w["requests"]
                    cs1 = ctx_switches(pids)
                    w["cs_vol"] = (cs1[0] - cs0[0]) / w["requests"]
                    w["cs_inv"] = (cs1[1] - cs0[1]) / w["requests"]
                pr[f"c{conns}"] = w
            pr["rss_kb"] = bench.rss_kb(srv.pids())
            out["pages"][name] = pr
            c = pr[f"c{o.connections[0]}"]
            bench.say(f"  threads {threads or 'default'} workers {workers or 'default'}"
                      f"{' cpus ' + cpus if cpus else ''} {name}: {c['rps']:.0f} req/s, p50 {bench.fmt_ms(c['p50_ms'])}, "
                      f"p99 {bench.fmt_ms(c['p99_ms'])}, errors {bench.errors_of(c)}")
    except Exception as e:  # noqa: BLE001 - reported, the matrix goes on
        out["error"] = bench.one_line(str(e))
        bench.say(f"  threads {threads} workers {workers}: FAILED: {out['error']}")
    finally:
        if nginx:
            nginx.stop()
        srv.stop()
    return out


def label(r):
    if r["threads"] is None:
        t = f"{r.get('threads_run')}(default)"
    else:
        t = f"{r['threads']}" if r.get("knob", "threads") == "threads" else f"concurrency {r['threads']}"
    w = r["workers"] or f"{r.get('workers_run')}(default)"
    return f"{t}x{w}" + (f" cpus {r['cpus']}" if r["cpus"] else "")


def report(o, results, machine, elapsed):
    c0 = f"c{o.connections[0]}"
    clast = f"c{o.connections[-1]}"
    print(f"# scgi-mono {o.knob} x workers, {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, {machine['summary']}")
    print(f"# wrk -t{bench.WRK_THREADS} -c{'/'.join(map(str, o.connections))} -d{o.duration}s behind nginx (1 worker); "
          f"load average at the end {bench.loadavg()}; {elapsed:.0f} s")
    print()
    head = f"| {o.knob} x workers | " + " | ".join(
        f"{p} req/s ({c0}) | {p} p50/p99 ms ({clast}) | {p} CPU µs, switches/req ({c0}) | {p} RSS MiB"
        for p in o.pages) + " |"
    print(head)
    print("|" + " --- |" * (1 + 4 * len(o.pages)))
    for r in results:
        cells = []
        for p in o.pages:
            pr = r["pages"].get(p)
            if not pr:
                cells += [r.get("error", "-")[:40], "-", "-", "-"]
                continue
            a, b = pr[c0], pr[clast]
            sw = (f"{a.get('cpu_us', 0):.0f}, {a['cs_vol']:.1f}+{a['cs_inv']:.1f}" if "cs_vol" in a else "-")
            cells += [f"{a['rps']:.0f}", f"{b['p50_ms']:.1f} / {b['p99_ms']:.1f}", sw, f"{pr['rss_kb'] / 1024:.0f}"]
        print(f"| {label(r)} | " + " | ".join(cells) + " |")
    print()
    for cpus in o.cpus:
        rows = [r for r in results if r["cpus"] == cpus and not r.get("error")]
        for p in o.pages:
            ok = [r for r in rows if p in r["pages"]]
            if not ok:
                continue
            best = max(ok, key=lambda r: r["pages"][p][c0]["rps"])
            default = [r for r in ok if r["threads"] is None and r["workers"] is None]
            line = (f"# {p}{' cpus ' + cpus if cpus else ''}: best {label(best)} "
                    f"{best['pages'][p][c0]['rps']:.0f} req/s")
            if default:
                d = default[0]
                line += (f"; the defaults ({label(d)}) {d['pages'][p][c0]['rps']:.0f} req/s = "
                         f"{d['pages'][p][c0]['rps'] / best['pages'][p][c0]['rps']:.2f} of the best")
            print(line)
    if len(o.cpus) > 1:
        for p in o.pages:
            by = {}
            for r in results:
                if p in r["pages"] and r["threads"] is None and r["workers"] is None:
                    by[r["cpus"]] = r["pages"][p][c0]["rps"]
            if len(by) > 1:
                base = by[o.cpus[0]]
                print(f"# scaling, {p}, the defaults: " + ", ".join(
                    f"cpus {c}: {v:.0f} req/s ({v / base:.2f}x)" for c, v in by.items()))


def main(argv):
    o = parse_args(argv)
    if not os.access(bench.SERVER, os.X_OK):
        sys.exit(f"{bench.SERVER} is not built (./build.sh build)")
    if any(o.cpus) and not shutil.which("taskset"):
        sys.exit("taskset is not installed (util-linux)")
    os.makedirs(bench.OUT, exist_ok=True)
    root = tempfile.mkdtemp(prefix="matrix-run-", dir=bench.OUT)
    os.chmod(root, 0o755)
    settings = [(None, None)]
    if not o.only_default:
        settings += [(t, w) for w in o.workers for t in o.threads]
    machine = bench.machine_info()
    t0 = time.monotonic()
    results = []
    try:
        for cpus in o.cpus:
            for t, w in settings:
                results.append(measure(o, root, t, w, cpus))
    finally:
        bench.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - t0
    report(o, results, machine, elapsed)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(bench.OUT, f"matrix-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"machine": machine, "options": {k: v for k, v in vars(o).items()}, "results": results,
                   "elapsed_s": round(elapsed, 1)}, f, indent=1)
    print(f"# results: {os.path.relpath(path, bench.ROOT)}")
    return 1 if all(r.get("error") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
