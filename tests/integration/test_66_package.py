"""Install and package: `./build.sh install` (DESTDIR, PREFIX=/usr) puts the
files where README "Install" says and the installed tree serves the sample;
the man pages render without a warning; `./build.sh deb` builds a package that
lintian passes with no error, that installs with dpkg -i (the system user
created, the service enabled but not started: no systemd runs here), whose
unit's ExecStart, run as the unit's User= with the installed configuration,
serves the sample, and that `dpkg --purge` removes without a trace (the system
user stays, as Debian's policy allows; the test removes it if it created it).

The package test needs root and the dpkg lock, and changes the machine while it
runs: it is skipped, saying why, when it cannot run or when scgi-mono is
already installed here; whatever happens, it purges what it installed."""
import fcntl
import grp
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile

import harness
from common import check, eq

ROOT = harness.ROOT
BUILD_SH = os.path.join(ROOT, "build.sh")
SAMPLE_FILES = sorted(os.path.relpath(os.path.join(d, f), harness.SAMPLE)
                      for d, _, fs in os.walk(harness.SAMPLE) for f in fs)
# README "Install": where ./build.sh install PREFIX=/usr and the package put each file.
INSTALLED = [
    "usr/sbin/scgi-mono-server",
    "usr/lib/scgi-mono/scgi-mono-worker",
    "usr/lib/scgi-mono/ScgiMono.dll",
    "etc/scgi-mono/scgi-mono.conf",
    "lib/systemd/system/scgi-mono.service",
    "lib/systemd/system/scgi-mono.socket",
    "etc/logrotate.d/scgi-mono",
    "usr/share/man/man8/scgi-mono-server.8",
    "usr/share/man/man5/scgi-mono.conf.5",
] + [f"usr/share/scgi-mono/samples/hello/{f}" for f in SAMPLE_FILES]
# what the package adds (dh_installdocs, dh_installchangelogs; man pages compressed)
PACKAGED = [("/" + f + ".gz") if "/man/" in f else "/" + f for f in INSTALLED] + [
    "/usr/share/doc/scgi-mono/README.md.gz",
    "/usr/share/doc/scgi-mono/changelog.gz",
    "/usr/share/doc/scgi-mono/copyright",
]


def run(argv, timeout, **kw):
    """argv's exit status, standard output and error together; bounded in time."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def worker_of(srv):
    """The one child process of the server's supervisor, whatever it runs
    (harness.Server.worker_pid counts build/scgi-mono-worker only)."""
    kids = []
    for p in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{p}/stat").read() if p.isdigit() else ""
        except OSError:
            continue
        if stat and int(stat.rsplit(")", 1)[1].split()[1]) == srv.proc.pid:
            kids.append(int(p))
    eq(len(kids), 1, f"one worker process under the supervisor: {kids}")
    return kids[0]


def files_under(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _, fs in os.walk(top) for f in fs)


def check_man_page(path):
    """man -l renders it with no warning (man --warnings passes -ww to groff),
    and groff -man -ww finds nothing either."""
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    p = subprocess.run(["man", "--warnings", "-l", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, timeout=60)
    eq(p.returncode, 0, f"man -l {path}")
    eq(p.stderr.decode(), "", f"man --warnings -l {path}: no warning")
    text = p.stdout.decode()
    check("NAME" in text and "SEE ALSO" in text, f"{path} renders its sections: {text[:200]!r}")
    if path.endswith(".gz"):
        src = subprocess.run(["zcat", path], stdout=subprocess.PIPE, check=True).stdout
    else:
        src = open(path, "rb").read()
    p = subprocess.run(["groff", "-man", "-ww", "-z"], input=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    eq((p.returncode, p.stderr.decode()), (0, ""), f"groff -man -ww -z {path}")
    return text


def test_man_pages_document_every_option_and_key(env):
    srv8 = check_man_page(os.path.join(ROOT, "man", "scgi-mono-server.8"))
    conf5 = check_man_page(os.path.join(ROOT, "man", "scgi-mono.conf.5"))
    # every long option --help lists, and every key the configuration file takes
    help_text = subprocess.run([harness.SERVER, "--help"], stdout=subprocess.PIPE, timeout=30).stdout.decode()
    options = set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", help_text, re.M))
    check({"--config", "--listen", "--app", "--threads", "--test", "--version", "--help"} <= options,
          f"--help lists the options: {sorted(options)}")
    rendered8 = re.sub(r"\u2010|\u2011|\u2212", "-", srv8)
    for opt in options:
        check(opt in rendered8, f"scgi-mono-server(8) documents {opt}")
    keys = re.findall(r'\{ "([a-z_]+)", K_', open(os.path.join(ROOT, "native", "config_file.c")).read())
    app_keys = re.search(r"app_keys\[\] = \{([^}]*)\}", open(os.path.join(ROOT, "native", "config_file.c")).read())
    keys += re.findall(r'"([a-z_]+)"', app_keys.group(1))
    check(len(keys) > 30, f"the keys of config_file.c: {keys}")
    for k in keys:
        check(re.search(rf"^       {k}\b", conf5, re.M), f"scgi-mono.conf(5) documents {k} (as a tagged paragraph)")


def test_build_sh_install_destdir(env):
    dest = os.path.join(env.work.path, "destdir")
    rc, out = run([BUILD_SH, "install"], 600, env=dict(os.environ, DESTDIR=dest, PREFIX="/usr"))
    eq(rc, 0, f"./build.sh install: {out[-2000:]}")
    eq(files_under(dest), sorted(INSTALLED), "the files ./build.sh install PREFIX=/usr puts under DESTDIR")
    for f in ("usr/sbin/scgi-mono-server", "usr/lib/scgi-mono/scgi-mono-worker"):
        check(os.access(os.path.join(dest, f), os.X_OK), f"{f} is executable")
    unit = open(os.path.join(dest, "lib/systemd/system/scgi-mono.service")).read()
    check("\nExecStart=/usr/sbin/scgi-mono-server --config /etc/scgi-mono/scgi-mono.conf\n" in unit,
          "the installed unit runs the installed server with the installed configuration")
    conf = open(os.path.join(dest, "etc/scgi-mono/scgi-mono.conf")).read()
    check("\npath = /usr/share/scgi-mono/samples/hello\n" in conf, "the installed configuration serves the installed sample")
    check("\nlisten = tcp:127.0.0.1:8000\n" in conf, "on loopback")
    for page in ("usr/share/man/man8/scgi-mono-server.8", "usr/share/man/man5/scgi-mono.conf.5"):
        check_man_page(os.path.join(dest, page))
    # The installed tree, run where it lies: its configuration with the paths
    # under DESTDIR and a free port; the server finds its worker (and the worker
    # ScgiMono.dll) by the installed layout, not in the build tree.
    port = harness.free_port()
    test_conf = os.path.join(env.work.path, "destdir.conf")
    conf = conf.replace("\npath = /usr/", f"\npath = {dest}/usr/").replace(
        "\nlisten = tcp:127.0.0.1:8000\n", f"\nlisten = tcp:127.0.0.1:{port}\n")
    open(test_conf, "w").write(conf)
    srv = env.server(["--config", test_conf], ready_port=port, exe=os.path.join(dest, "usr/sbin/scgi-mono-server"))
    r = harness.request(port, "GET", "/")
    eq(r.status, 200, "the installed server serves the installed sample")
    eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "its handler too")
    worker = worker_of(srv)
    eq(os.path.realpath(f"/proc/{worker}/exe"), os.path.join(dest, "usr/lib/scgi-mono/scgi-mono-worker"),
       "the worker that runs is the installed one")
    maps = open(f"/proc/{worker}/maps").read()
    check(os.path.join(dest, "usr/lib/scgi-mono/ScgiMono.dll") in maps, "and it loaded the installed ScgiMono.dll")
    eq(srv.stop(), 0, "SIGTERM: exit 0")
    # uninstall removes it all but the configuration (the administrator's)
    rc, out = run([BUILD_SH, "uninstall"], 120, env=dict(os.environ, DESTDIR=dest, PREFIX="/usr"))
    eq(rc, 0, f"./build.sh uninstall: {out[-2000:]}")
    eq(files_under(dest), ["etc/scgi-mono/scgi-mono.conf"], "uninstall leaves only the configuration")


def test_install_never_overwrites_a_configuration(env):
    """Installing into the live system (no DESTDIR; here a PREFIX of its own,
    so its configuration is PREFIX/etc/scgi-mono) keeps the administrator's
    configuration and leaves the new default beside it."""
    prefix = os.path.join(env.work.path, "prefix")
    make = ["make", "-s", "-C", ROOT, "install", f"PREFIX={prefix}", "DESTDIR="]
    rc, out = run(make, 600)
    eq(rc, 0, f"make install: {out[-2000:]}")
    conf = os.path.join(prefix, "etc/scgi-mono/scgi-mono.conf")
    default = open(conf).read()
    check(f"\npath = {prefix}/share/scgi-mono/samples/hello\n" in default, "the sample's path under PREFIX")
    check(f"\nExecStart={prefix}/sbin/scgi-mono-server --config {prefix}/etc/scgi-mono/scgi-mono.conf\n"
          in open(os.path.join(prefix, "lib/systemd/system/scgi-mono.service")).read(), "the unit's paths under PREFIX")
    open(conf, "a").write("# the administrator's change\n")
    rc, out = run(make, 600)
    eq(rc, 0, f"make install again: {out[-2000:]}")
    eq(open(conf).read(), default + "# the administrator's change\n", "the existing configuration is kept")
    eq(open(conf + ".new").read(), default, "the new default is left beside it")
    check("kept " in out and ".conf.new" in out, f"and make install says so: {out[-500:]}")


def dpkg_busy():
    """Why dpkg cannot be used now, or None: the lock dpkg and apt take
    (fcntl, on lock-frontend then lock), tried without waiting and let go."""
    for name in ("lock-frontend", "lock"):
        path = os.path.join("/var/lib/dpkg", name)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        except OSError as e:
            return f"cannot open {path}: {e}"
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError:
            return f"{path} is held by another process (apt or dpkg running)"
        finally:
            os.close(fd)
    return None


def package_installed():
    rc, out = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "scgi-mono"], 30)
    return rc == 0 and out.strip() not in ("", "un", "pn")


def unit_values(path):
    values = {}
    for line in open(path):
        m = re.match(r"([A-Za-z]+)=(.*)$", line.strip())
        if m:
            values[m.group(1)] = m.group(2)
    return values


def test_debian_package_builds_installs_serves_and_purges(env):
    if os.geteuid() != 0:
        raise harness.Skip("needs root (dpkg -i and --purge of the package built here)")
    why = dpkg_busy()
    if why:
        raise harness.Skip(f"dpkg is busy: {why}")
    if package_installed() or os.path.exists("/etc/scgi-mono"):
        raise harness.Skip("scgi-mono is already installed on this machine (or /etc/scgi-mono exists): not touched")
    out_dir = os.path.join(env.work.path, "deb")
    rc, out = run([BUILD_SH, "deb", out_dir], 900)
    eq(rc, 0, f"./build.sh deb: {out[-3000:]}")
    debs = [f for f in os.listdir(out_dir) if re.match(r"scgi-mono_[^_]+_[a-z0-9]+\.deb$", f)]
    changes = [f for f in os.listdir(out_dir) if f.endswith(".changes")]
    eq((len(debs), len(changes)), (1, 1), f"one .deb and one .changes in {os.listdir(out_dir)}")
    deb = os.path.join(out_dir, debs[0])
    # lintian: no error (E:) on the package or the upload; the rest is printed
    for target in (deb, os.path.join(out_dir, changes[0])):
        rc, out = run(["lintian", "--allow-root", "--display-info", target], 600)
        for line in out.splitlines():
            print(f"# lintian {os.path.basename(target)}: {line}")
        errors = [line for line in out.splitlines() if line.startswith("E:")]
        eq(errors, [], f"lintian errors on {os.path.basename(target)}")
        check(rc in (0, 1) and "internal error" not in out.lower(), f"lintian ran: rc={rc} {out[-500:]}")
    rc, fields = run(["dpkg-deb", "-f", deb, "Depends"], 30)
    for dep in ("mono-runtime", "libmono-system-web4.0-cil", "adduser", "libmonosgen-2.0-1"):
        check(re.search(rf"(^|, ){re.escape(dep)}\b", fields.strip()), f"Depends names {dep}: {fields}")
    rc, conffiles = run(["sh", "-c", f"dpkg-deb --ctrl-tarfile {shlex.quote(deb)} | tar -xOf - ./conffiles"], 30)
    eq(sorted(conffiles.split()), ["/etc/logrotate.d/scgi-mono", "/etc/scgi-mono/scgi-mono.conf"], "the conffiles")

    user_existed = True
    try:
        pwd.getpwnam("scgi-mono")
    except KeyError:
        user_existed = False
    installed_files = []
    try:
        rc, out = run(["dpkg", "-i", deb], 600)
        if rc != 0:
            # dependencies (all present here: the build needs the same packages)
            rc2, out2 = run(["apt-get", "install", "-f", "-y", "-o", "DPkg::Lock::Timeout=120"], 600)
            out += out2
            rc = rc2
        eq(rc, 0, f"dpkg -i: {out[-2000:]}")
        check(package_installed(), "dpkg says it is installed")
        rc, listing = run(["dpkg", "-L", "scgi-mono"], 60)
        installed_files = [f for f in listing.splitlines() if f.startswith("/")]
        present = [f for f in installed_files if os.path.lexists(f) and not os.path.isdir(f)]
        eq((sorted(set(present) - set(PACKAGED)), sorted(set(PACKAGED) - set(present))), ([], []),
           "the package's files are those of README \"Install\" (extra, missing)")
        # the postinst: the system user; the service enabled, not started (no systemd runs here)
        user = pwd.getpwnam("scgi-mono")
        check(user.pw_uid < 1000 and user.pw_dir == "/nonexistent", f"a system user without home: {user}")
        eq(grp.getgrgid(user.pw_gid).gr_name, "scgi-mono", "its own group")
        eq(os.readlink("/etc/systemd/system/multi-user.target.wants/scgi-mono.service"),
           "/lib/systemd/system/scgi-mono.service", "the service is enabled")
        check(not os.path.exists("/etc/systemd/system/sockets.target.wants/scgi-mono.socket"),
              "the socket unit is not enabled")
        rc, ps = run(["pgrep", "-u", "scgi-mono"], 30)
        eq(ps.strip(), "", "nothing started (no running systemd: the unit is not started in a chroot or container)")

        # The unit's ExecStart as its User= and Group=, as systemd would run it
        # (HOME from the user's entry, a private TMPDIR as PrivateTmp=true gives),
        # with the installed configuration on a free loopback port.
        unit = unit_values("/lib/systemd/system/scgi-mono.service")
        argv = shlex.split(unit["ExecStart"])
        eq(argv[0], "/usr/sbin/scgi-mono-server", "ExecStart runs the installed server")
        conf_at = argv.index("--config") + 1
        eq(argv[conf_at], "/etc/scgi-mono/scgi-mono.conf", "with the installed configuration")
        eq((unit["User"], unit["Group"]), ("scgi-mono", "scgi-mono"), "the unit's user")
        port = harness.free_port()
        run_dir = tempfile.mkdtemp(prefix="scgi-mono-pkg-", dir=env.work.path)
        os.chmod(run_dir, 0o755)
        test_conf = os.path.join(run_dir, "scgi-mono.conf")
        text = open("/etc/scgi-mono/scgi-mono.conf").read()
        check("\nlisten = tcp:127.0.0.1:8000\n" in text, "the installed configuration listens on loopback")
        open(test_conf, "w").write(text.replace("\nlisten = tcp:127.0.0.1:8000\n", f"\nlisten = tcp:127.0.0.1:{port}\n"))
        os.chmod(test_conf, 0o644)
        argv[conf_at] = test_conf
        tmp = os.path.join(run_dir, "tmp")
        os.mkdir(tmp, 0o700)
        os.chown(tmp, user.pw_uid, user.pw_gid)
        gid = grp.getgrnam(unit["Group"]).gr_gid

        def as_unit_user():
            os.setgroups([])
            os.setgid(gid)
            os.setuid(user.pw_uid)

        srv = env.server(argv[1:], exe=argv[0], ready_port=port, tmp=tmp, preexec_fn=as_unit_user,
                         env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "HOME": user.pw_dir, "USER": "scgi-mono", "LOGNAME": "scgi-mono", "LANG": "C.UTF-8"})
        r = harness.request(port, "GET", "/")
        eq(r.status, 200, f"the sample's page through the installed unit's command: {r.text[:300]}")
        eq(harness.request(port, "GET", "/hello.ashx").text, "Hello, World", "and its handler")
        worker = worker_of(srv)
        eq(os.path.realpath(f"/proc/{worker}/exe"), "/usr/lib/scgi-mono/scgi-mono-worker", "the installed worker")
        eq(os.stat(f"/proc/{worker}").st_uid, user.pw_uid, "running as the unit's user")
        eq(srv.stop(), 0, "SIGTERM: exit 0")
    finally:
        rc, out = run(["dpkg", "--purge", "scgi-mono"], 600)
        if not user_existed:
            # the test's own leftover, not the package's (Debian keeps system users on purge)
            try:
                pwd.getpwnam("scgi-mono")
                user_left = True
            except KeyError:
                user_left = False
            run(["deluser", "--system", "--quiet", "scgi-mono"], 60)
            run(["delgroup", "--system", "--quiet", "scgi-mono"], 60)
    eq(rc, 0, f"dpkg --purge: {out[-2000:]}")
    check(not package_installed(), "dpkg no longer knows the package")
    left = [f for f in installed_files if os.path.lexists(f) and not os.path.isdir(f)]
    eq(left, [], "no file of the package is left")
    for d in ("/etc/scgi-mono", "/usr/lib/scgi-mono", "/usr/share/scgi-mono", "/usr/share/doc/scgi-mono",
              "/var/log/scgi-mono", "/etc/systemd/system/multi-user.target.wants/scgi-mono.service",
              "/var/lib/systemd/deb-systemd-helper-enabled/scgi-mono.service.dsh-also"):
        check(not os.path.lexists(d), f"{d} is gone")
    if not user_existed:
        check(user_left, "the system user survives the purge (Debian's policy: it may own files elsewhere)")
    shutil.rmtree(out_dir, ignore_errors=True)
