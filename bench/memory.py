#!/usr/bin/env python3
"""scgi-mono's resident memory over 100,000 requests of each page (see
bench/README.md, "Memory over 100,000 requests").

Starts build/scgi-mono-server with its defaults behind the benchmark's nginx
(bench/run.py's: one nginx worker, scgi_pass) on loopback, and for each page
runs wrk in passes until at least --requests requests were answered, reading
the resident memory (VmRSS) of every worker process after each pass. Prints,
per page, the memory after the first pass and at the end, the growth per
10,000 requests over the second half (a leak grows there; a heap that has
found its size does not), and the errors.

  python3 bench/memory.py [--pages hello,page,big,upload] [--requests 100000]
                          [--connections 32] [--workers N]

Results also go to build/bench/memory-STAMP.json. Nothing here is a test:
it prints what it measured.
"""
import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: nginx, wrk, the pages, process handling)
import matrix  # noqa: E402  (its Server: build/scgi-mono-server from a configuration file)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", default="hello,page,big,upload")
    ap.add_argument("--requests", type=int, default=100000, help="requests of each page, at least")
    ap.add_argument("--passes", type=int, default=10, help="memory readings per page")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--workers", type=int, default=0, help="worker processes (default: the server's)")
    o = ap.parse_args(argv)
    o.pages = [p for p in o.pages.split(",") if p]
    for p in o.pages:
        if p not in bench.BASE_PAGES:
            ap.error(f"unknown page {p} (one of {', '.join(bench.BASE_PAGES)})")
    # what matrix.Server and bench.mono_env read
    o.knob, o.scgi_threads, o.mono_gc_params = "threads", 0, ""
    return o


def worker_rss_kb(srv):
    """{pid: VmRSS KiB} of the server's worker processes (not the supervisor)."""
    out = {}
    for pid in srv.pids():
        if pid == srv.proc.pid:
            continue
        kb = bench.mem_kb(pid, "VmRSS")
        if kb:
            out[pid] = kb
    return out


def measure_page(o, srv, nginx, workdir, name):
    page = bench.PAGES[name]
    status, body = bench.http_request(nginx.port, page, bench.FIRST_REQUEST_TIMEOUT)
    bad = bench.check_body(page, status, body)
    if bad:
        raise RuntimeError(f"{name}: wrong answer: {bad}")
    script = bench.wrk_script(workdir, page)
    # the rate, to cut the requests into passes of about requests/passes each
    w = bench.run_wrk(nginx.port, page, o.connections, 2, script)
    rate = max(w["rps"], 50.0)
    per_pass = o.requests / o.passes
    done, errors, samples = w["requests"], bench.errors_of(w), []
    samples.append({"requests": done, "rss_kb": worker_rss_kb(srv)})
    while done < o.requests:
        secs = max(1, round(min(per_pass, o.requests - done) / rate))
        w = bench.run_wrk(nginx.port, page, o.connections, secs, script)
        done += w["requests"]
        errors += bench.errors_of(w)
        rate = max(w["rps"], 50.0)
        samples.append({"requests": done, "rss_kb": worker_rss_kb(srv)})
    total = [sum(s["rss_kb"].values()) for s in samples]
    half = [s for s in samples if s["requests"] >= done / 2]
    a, b = half[0], half[-1]
    growth = 0.0
    if b["requests"] > a["requests"]:
        growth = (sum(b["rss_kb"].values()) - sum(a["rss_kb"].values())) / 1024 * 10000 / (b["requests"] - a["requests"])
    res = {"requests": done, "errors": errors, "samples": samples,
           "first_mib": total[0] / 1024, "peak_mib": max(total) / 1024, "end_mib": total[-1] / 1024,
           "growth_mib_per_10k_second_half": growth,
           "workers": len(samples[-1]["rss_kb"])}
    bench.say(f"  {name}: {done} requests, {errors} errors; RSS {res['first_mib']:.1f} -> {res['end_mib']:.1f} MiB "
              f"(peak {res['peak_mib']:.1f}), second half {growth:+.2f} MiB per 10,000")
    return res


def main(argv):
    o = parse_args(argv)
    if not os.access(bench.SERVER, os.X_OK):
        sys.exit(f"{bench.SERVER} is not built (./build.sh build)")
    os.makedirs(bench.OUT, exist_ok=True)
    root = tempfile.mkdtemp(prefix="memory-run-", dir=bench.OUT)
    os.chmod(root, 0o755)
    machine = bench.machine_info()
    srv = matrix.Server(o, None, o.workers or None, "")
    nginx = None
    results, t0 = {}, time.monotonic()
    try:
        srv.start(root)
        nginx = bench.Nginx(root, srv.name, srv.kind, srv.port)
        start_kb = worker_rss_kb(srv)
        for name in o.pages:
            try:
                results[name] = measure_page(o, srv, nginx, root, name)
            except Exception as e:  # noqa: BLE001 - reported, the next page goes on
                results[name] = {"error": bench.one_line(str(e))}
                bench.say(f"  {name}: FAILED: {results[name]['error']}")
    finally:
        if nginx:
            nginx.stop()
        srv.stop()
        bench.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    elapsed = time.monotonic() - t0
    print(f"# scgi-mono resident memory over {o.requests:,} requests of each page, one server start, pages in order; "
          f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, {machine['summary']}")
    print(f"# wrk -t{bench.WRK_THREADS} -c{o.connections} behind nginx (1 worker), the server's defaults; "
          f"workers' VmRSS summed; after start (ready, nothing requested): {sum(start_kb.values()) / 1024:.1f} MiB; "
          f"load average at the end {bench.loadavg()}; {elapsed:.0f} s")
    print()
    print("| page | requests | errors | after the first pass MiB | peak MiB | at the end MiB | second half, MiB per 10,000 requests |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in o.pages:
        r = results.get(name, {})
        if r.get("error"):
            print(f"| {name} | - | - | {r['error'][:60]} | - | - | - |")
            continue
        print(f"| {name} | {r['requests']:,} | {r['errors']} | {r['first_mib']:.1f} | {r['peak_mib']:.1f} | "
              f"{r['end_mib']:.1f} | {r['growth_mib_per_10k_second_half']:+.2f} |")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(bench.OUT, f"memory-{stamp}.json")
    with open(path, "w") as f:
        json.dump({"machine": machine, "options": vars(o), "start_rss_kb": start_kb, "results": results,
                   "elapsed_s": round(elapsed, 1)}, f, indent=1)
    print(f"# results: {os.path.relpath(path, bench.ROOT)}")
    return 1 if any(r.get("error") for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
