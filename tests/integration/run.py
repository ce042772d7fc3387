#!/usr/bin/env python3
"""Runs every integration test (tests/integration/test_*.py, functions named
test_*) in file order and prints TAP. Tests share fixtures through `env`,
which starts the servers and front ends they ask for once and stops them all
at the end. Usage: run.py [substring-filter]"""
import importlib.util
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402


class Env:
    """Lazily started, shared fixtures."""

    def __init__(self):
        self.work = harness.Workdir()
        self._stoppers = []
        self._cache = {}
        self.servers = []  # every server started, for logs on failure

    def once(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def on_exit(self, fn):
        self._stoppers.append(fn)

    def server(self, args, **kw):
        s = harness.Server(args, self.work.path, **kw)
        self.servers.append(s)
        self.on_exit(s.stop)
        return s

    def php_fpm(self):
        p = harness.PhpFpm(self.work.path)
        self.on_exit(p.stop)
        return p

    def nginx(self, backend, **kw):
        n = harness.Nginx(self.work.path, backend, **kw)
        self.on_exit(n.stop)
        return n

    def apache(self, backend, **kw):
        a = harness.Apache(self.work.path, backend, **kw)
        self.on_exit(a.stop)
        return a

    def lighttpd(self, backend, **kw):
        lt = harness.Lighttpd(self.work.path, backend, **kw)
        self.on_exit(lt.stop)
        return lt

    def close(self):
        for fn in reversed(self._stoppers):
            try:
                fn()
            except Exception:
                traceback.print_exc()
        self.work.cleanup()


def collect(filter_text):
    tests = []
    for name in sorted(os.listdir(HERE)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for attr in mod.__dict__:
            fn = getattr(mod, attr)
            if attr.startswith("test_") and callable(fn) and getattr(fn, "__module__", "") == mod.__name__:
                full = f"{name[:-3]}.{attr}"
                if filter_text in full:
                    tests.append((full, fn))
    return tests


def main():
    filter_text = sys.argv[1] if len(sys.argv) > 1 else ""
    tests = collect(filter_text)
    env = Env()
    n = failed = 0
    try:
        for full, fn in tests:
            n += 1
            start = time.monotonic()
            servers_before = len(env.servers)
            try:
                fn(env)
                print(f"ok {n} - {full} ({time.monotonic() - start:.1f}s)", flush=True)
            except harness.Skip as e:
                print(f"ok {n} - {full} # SKIP {e}", flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is a test result
                failed += 1
                print(f"not ok {n} - {full}", flush=True)
                for line in traceback.format_exception(type(e), e, e.__traceback__)[-6:]:
                    for sub in line.rstrip().splitlines():
                        print("# " + sub[:400])
                # the logs of the servers this test started (or all, if it started none)
                for srv in env.servers[servers_before:] or env.servers:
                    print(f"# --- {srv.log_path} (last lines)")
                    for sub in srv.log_text().splitlines()[-25:]:
                        print("#   " + sub[:400])
                sys.stdout.flush()
    finally:
        env.close()
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
