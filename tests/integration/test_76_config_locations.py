"""Mono 6.8 opens a web.config <location path="..."> element's configuration on
the first lookup of a path under it, without a lock: concurrent first requests
under one location could get 500 ("The section <authorization> is defined more
than once", or ArgumentNullException "s") from the forms authentication and URL
authorization modules. The host opens every location of the root web.config
on one thread before a domain takes requests (managed/Host.cs,
OpenLocations). Found by test_73_netns (forms authentication behind a
<location>, concurrent users on a fresh worker)."""
import os
import re
import shutil
import threading

import harness
from common import check, conf_server, eq

APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps", "hosts")


def test_concurrent_first_requests_under_a_location(env):
    app = os.path.join(env.work.path, "locations-app")
    shutil.copytree(APP, app)
    path = os.path.join(app, "web.config")
    text = open(path).read().replace("REDIS_HOST", "127.0.0.1")  # no session page is requested
    open(path, "w").write(text)
    conf = {"h": f"vpath = /\npath = {app}\n"}
    srv = conf_server(env, "loc-0.conf", server="threads = 8\nlog_level = info\n", apps=conf)
    r = harness.request(srv.port, "GET", "/login.ashx?user=u1")
    eq(r.status, 200, f"login: {r.text[:200]}")
    cookie = [v.split(";")[0] for k, v in r.headers if k.lower() == "set-cookie" and v.startswith(".T73AUTH=")]
    check(cookie, "a forms authentication cookie")
    check(re.search(r"info: configuration: \d+ location\(s\) opened ahead", srv.log_text()),
          "the log says the locations were opened ahead")
    srv.stop()
    failures, answers = [], 0
    rounds, clients = 6, 16
    for n in range(rounds):  # each round a fresh worker: its first requests all at once
        srv = conf_server(env, f"loc-{n + 1}.conf", server="threads = 8\n", apps=conf)
        barrier = threading.Barrier(clients)
        lock = threading.Lock()

        def client():
            nonlocal answers
            barrier.wait(10)
            for _ in range(3):
                rr = harness.request(srv.port, "GET", "/secret.ashx", headers={"Cookie": cookie[0]})
                with lock:
                    answers += 1
                    if rr.status != 200 or rr.text.split()[3:] != ["secret", "u1"]:
                        m = re.search(r'class="exceptionMessage">(.*?)<', rr.text, re.S)
                        failures.append((rr.status, m.group(1).strip() if m else rr.text[:200]))
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        srv.stop()
    print(f"# {rounds} fresh workers, {clients} concurrent first requests each under <location path=\"secret.ashx\">: "
          f"{answers} answers, {len(failures)} failed")
    eq(failures[:3], [], "concurrent first requests under a location")
    eq(answers, rounds * clients * 3, "every request answered")
