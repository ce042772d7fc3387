#!/usr/bin/env python3
"""First requests: what a user waits for while ASP.NET compiles (issue 13).

For each application (the sample `./build.sh run` serves, samples/hello, and
the benchmark's bench/app) and each set-up (nothing; a `warmup` URL;
`precompile = true`), it starts build/scgi-mono-server on a free loopback port
with a fresh $TMPDIR (nothing compiled before), and measures:

  ready    time from the server's start to its "ready:" log line
  first    time from the server's start to the first answered request (a
           client that connects at once and asks for the application's first
           URL; the listening socket exists from the start, the connection
           waits in its backlog until the worker accepts)
  PAGE     the first request of each other page, in order, after that one

and then the same pages once more (warm: nothing left to compile), printing
each first request as a multiple of its warm request. Not a test: it passes
and fails nothing; the machine's noise is in the figures (one run).

    python3 bench/first_requests.py            # both applications, all set-ups
    python3 bench/first_requests.py --markdown # the tables for bench/README.md
"""
import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "build", "scgi-mono-server")

# application -> (directory, first URL, the other pages in the order requested, a WebForms page)
APPS = {
    "samples/hello": ("samples/hello", "/",
                      ["/page.aspx", "/hello.ashx", "/CodeBehind.aspx", "/caf%C3%A9.aspx", "/dir/", "/echo.ashx",
                       "/stream.ashx"], "/"),
    "bench/app": ("bench/app", "/hello.ashx", ["/page.aspx", "/big.ashx"], "/page.aspx"),
}


def setups(first, page):
    """The set-ups compared: nothing; the first URL as a warm-up URL; precompile; and precompile with
    one WebForms page as a warm-up URL (it runs the page life-cycle once: Mono's JIT)."""
    return {
        "none": "",
        f"warmup = {first}": f"warmup = {first}\n",
        "precompile": "precompile = true\n",
        f"precompile, warmup = {page}": f"precompile = true\nwarmup = {page}\n",
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, deadline):
    """One GET; returns (status, seconds from the first connect attempt), retrying the connect until it succeeds."""
    t0 = time.monotonic()
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=max(1.0, deadline - time.monotonic()))
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    with s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.") else -1
    return status, time.monotonic() - t0


def run_one(app_dir, first, pages, extra, timeout=180):
    port = free_port()
    work = tempfile.mkdtemp(prefix="scgi-mono-first-")
    conf = os.path.join(work, "s.conf")
    root = "allow_root = true\n" if os.geteuid() == 0 else ""
    with open(conf, "w") as f:
        f.write(f"[server]\nlisten = tcp:127.0.0.1:{port}\n{root}warmup_timeout = {timeout}\n\n"
                f"[app:a]\nvpath = /\npath = {os.path.join(ROOT, app_dir)}\n{extra}")
    log_path = os.path.join(work, "log")
    log = open(log_path, "wb")
    env = dict(os.environ, TMPDIR=work)
    t0 = time.monotonic()
    proc = subprocess.Popen([SERVER, "--config", conf], stdout=log, stderr=subprocess.STDOUT, env=env)
    ready = [None]

    def watch():
        while proc.poll() is None and ready[0] is None:
            if b"ready:" in open(log_path, "rb").read():
                ready[0] = time.monotonic() - t0
            time.sleep(0.01)
    w = threading.Thread(target=watch)
    w.start()
    try:
        deadline = time.monotonic() + timeout
        status, _ = get(port, first, deadline)
        first_s = time.monotonic() - t0
        firsts = {first: (status, first_s)}
        for p in pages:
            firsts[p] = get(port, p, deadline)
        warms = {p: get(port, p, deadline) for p in [first] + pages}
        w.join(10)
        text = open(log_path, "rb").read().decode("utf-8", "replace")
        summary = [ln.split("notice: ", 1)[1] for ln in text.splitlines() if "notice: precompile of" in ln]
        return ready[0], first_s, firsts, warms, summary
    finally:
        proc.terminate()
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--app", choices=sorted(APPS), action="append", help="only this application (repeatable)")
    args = ap.parse_args()
    if not os.access(SERVER, os.X_OK):
        sys.exit(f"{SERVER} is missing: run make server managed first")
    print(f"# {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}; one run each; times in seconds", flush=True)
    for name in args.app or list(APPS):
        app_dir, first, pages, page = APPS[name]
        results = {}
        for label, extra in setups(first, page).items():
            results[label] = run_one(app_dir, first, pages, extra)
            for s in results[label][4]:
                print(f"# {name}, {label}: {s}", flush=True)
        base_ready = results["none"][0]
        urls = [first] + pages
        if args.markdown:
            print(f"\n**{name}** (first URL `{first}`; then each page once, in this order; x: the first request "
                  f"over the same page's next request)\n")
            print("| set-up | start to ready | start to first answer | " +
                  " | ".join(f"`{u}` first (x)" for u in pages) + " |")
            print("| --- | --- | --- | " + " | ".join("---" for _ in pages) + " |")
        else:
            print(f"\n{name}: ready, first answer (s), then each page's first request in s (x its warm request)")
        for label, (ready, first_s, firsts, warms, _) in results.items():
            cells = []
            for u in pages:
                st, t = firsts[u]
                wt = warms[u][1]
                cells.append(f"{t:.3f} ({t / wt:.{0 if t / wt >= 10 else 1}f}x)" + ("" if st == 200 else f" [{st}]"))
            ready_txt = f"{ready:.2f} ({ready / base_ready:.1f}x)" if ready and base_ready else "?"
            if args.markdown:
                print(f"| {label} | {ready_txt} | {first_s:.2f} | " + " | ".join(cells) + " |")
            else:
                print(f"  {label:24} ready {ready_txt:>14}  first answer {first_s:6.2f}  " + "  ".join(
                    f"{u} {c}" for u, c in zip(pages, cells)))
        slowest = {label: max(r[2][u][1] for u in pages) for label, r in results.items()}
        print(("\n" if args.markdown else "") + f"# {name}: slowest first request after the first URL: " +
              ", ".join(f"{k} {v:.3f} s" for k, v in slowest.items()) + f"; warm requests {min(r[3][u][1] for r in results.values() for u in urls):.4f}-{max(r[3][u][1] for r in results.values() for u in urls):.4f} s")


if __name__ == "__main__":
    main()
