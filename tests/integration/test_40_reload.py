"""A worker started alone (build/scgi-mono-worker, no supervisor: ASP.NET's own
in-process restart is kept there) unloads an application's AppDomain when
web.config changes; the next request must be served by a fresh AppDomain, with
no crash and no hang. Under the supervisor the workers are replaced instead:
test_57_app_changes."""
import os
import time

import harness
from common import check, eq


def test_good_answer_after_web_config_touched(env):
    w = env.work.path
    app = harness.copy_sample(w, "reload-app")
    port = harness.free_port()
    srv = env.server(["--listen", f"tcp:127.0.0.1:{port}", "--app", f"/:{app}", "--threads", "4"], ready_port=port,
                     exe=harness.WORKER)
    before = harness.request(port, "GET", "/echo.ashx").echo()
    check(before.get("started"), "echo reports when Application_Start ran")

    now = time.time() + 1
    os.utime(os.path.join(app, "web.config"), (now, now))

    # Requests keep succeeding while ASP.NET notices the change and unloads.
    deadline = time.monotonic() + 60
    after = None
    while time.monotonic() < deadline:
        r = harness.request(port, "GET", "/echo.ashx", timeout=60)
        eq(r.status, 200, "status during and after the reload")
        e = r.echo()
        # Application_Start runs once per AppDomain (Mono reuses domain ids).
        if e["started"] != before["started"]:
            after = e
            break
        time.sleep(0.2)
    check(after is not None, "a fresh AppDomain serves requests within 60 s: " + srv.log_text()[-2000:])
    log = srv.log_text()
    check("AppDomain unloading" in log, "the server logged the unload")
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "pages still work")
