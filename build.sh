#!/usr/bin/env bash
# scgi-mono: the one entry point.
#   ./build.sh run    install what is missing, build, serve samples/hello on 127.0.0.1:8000
#   ./build.sh test   install what is missing, build, run every test; ends "N passed, N failed"
#   ./build.sh build  install what is missing, build
#   ./build.sh fuzz [SECONDS]  run each libFuzzer harness (default 60 s each)
#   ./build.sh bench [--quick] [ARGS]  install the peers, build, run bench/run.py (see bench/README.md)
#   ./build.sh install  build, then make install (PREFIX=/usr/local, DESTDIR honoured; see README "Install"); uninstall
#   ./build.sh deb [OUTDIR]  build the Debian package with dpkg-buildpackage into OUTDIR (default build/deb)
#   ./build.sh clean  remove build/
# Every dependency comes from Debian's archive through apt-get.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)

# package -> a file that proves it is installed (checked before asking apt).
DEPS=(
  "make:/usr/bin/make"
  "gcc:/usr/bin/gcc"
  "pkg-config:/usr/bin/pkg-config"
  "libglib2.0-dev:/usr/include/glib-2.0/glib.h"
  # sd_notify (systemd Type=notify), linked into the supervisor only
  "libsystemd-dev:/usr/include/systemd/sd-daemon.h"
  "libmono-2.0-dev:/usr/include/mono-2.0/mono/jit/jit.h"
  "mono-devel:/usr/bin/mcs"
  "mono-runtime:/usr/bin/mono"
  "libmono-system-web4.0-cil:/usr/lib/mono/4.5/System.Web.dll"
  # The MVC 3 + Razor sample (make samples; served by the tests, see README)
  "libmono-system-web-mvc3.0-cil:/usr/lib/mono/4.5/System.Web.Mvc.dll"
  "libmono-system-web-razor2.0-cil:/usr/lib/mono/4.5/System.Web.Razor.dll"
  "libmono-system-web-webpages2.0-cil:/usr/lib/mono/4.5/System.Web.WebPages.dll"
  "nunit-console:/usr/bin/nunit-console"
  "node-llhttp:/usr/share/llhttp/llhttp.c"
  "clang:/usr/bin/clang"
  "libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a"
  "nginx:/usr/sbin/nginx"
  "curl:/usr/bin/curl"
  "python3:/usr/bin/python3"
  "strace:/usr/bin/strace"
)
# ./build.sh deb, and ./build.sh test (which builds, lints and installs the
# package, and checks the man pages): added to DEPS by those two commands only.
DEB_DEPS=(
  "debhelper:/usr/bin/dh"
  "dpkg-dev:/usr/bin/dpkg-buildpackage"
  "fakeroot:/usr/bin/fakeroot"
  "lintian:/usr/bin/lintian"
  "groff-base:/usr/bin/groff"
  "man-db:/usr/bin/man"
  "adduser:/usr/sbin/adduser"
)

log() { printf '==> %s\n' "$*" >&2; }

deps() {
  local missing=() entry pkg file
  for entry in "${DEPS[@]}"; do
    pkg=${entry%%:*}
    file=${entry#*:}
    [ -e "$file" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  log "installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # nginx must not start a system-wide instance on port 80 while it installs.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f "$policy"
  return 0
}

# build [TARGETS]: the server and ScgiMono.dll by default; tests add the rest.
build() {
  log "building"
  make -s -j"$(nproc)" "${@:-server}"
}

run() {
  deps
  build
  log "serving samples/hello on http://127.0.0.1:8000/ (SCGI and HTTP); Ctrl-C stops"
  # A developer's server: as root (a container) its workers may run as root
  # too; a production configuration sets user instead (README, "Privileges").
  [ "$(id -u)" = 0 ] && export SCGI_MONO_ALLOW_ROOT=1
  exec build/scgi-mono-server --config scgi-mono.conf "$@"
}

fuzz() {
  deps
  make -s -j"$(nproc)" fuzz
  local secs=${1:-60} h
  for h in build/fuzz/fuzz_*; do
    local name=${h##*/fuzz_}
    local work=build/fuzz-corpus/$name
    mkdir -p "$work"
    log "fuzzing $name for ${secs}s (corpus: $work, seeds: tests/fuzz/corpus/$name)"
    "$h" -max_total_time="$secs" -print_final_stats=1 "$work" "tests/fuzz/corpus/$name"
  done
}

run_tests() {
  # The front ends the integration tests run (nginx is already in DEPS), PHP
  # beside them, and the load generator of the side-by-side test.
  DEPS+=(
    "apache2:/usr/lib/apache2/modules/mod_proxy_scgi.so"
    "lighttpd:/usr/sbin/lighttpd"
    # the load balancer in front of several servers (test_72_drain)
    "haproxy:/usr/sbin/haproxy"
    "php8.2-fpm:/usr/sbin/php-fpm8.2"
    "wrk:/usr/bin/wrk"
    "${DEB_DEPS[@]}"
    # headless browser that loads the status page (test_63_status_http)
    "chromium:/usr/bin/chromium"
    # promtool checks the /metrics exposition (tests/integration/test_63_status_data.py)
    "prometheus:/usr/bin/promtool"
    # Session state in Redis: the store a test starts (tests/integration/test_71_redis_sessions.py;
    # never the system service) and redis-benchmark for the ratio in the README
    "redis-server:/usr/bin/redis-server"
    "redis-tools:/usr/bin/redis-benchmark"
    # a third-party application and Mono's own FastCGI host to compare with
    # (tests/integration/test_99_third_party_app.py)
    "asp.net-examples:/usr/share/asp.net-demos/index.aspx"
    "mono-fastcgi-server4:/usr/bin/fastcgi-mono-server4"
  )
  deps
  build server managed tests asan samples
  exec "$ROOT/tests/run_all.sh"
}

# install: the files (Makefile "install"), then, into the live system only
# (no DESTDIR) as root, the system user the unit runs as.
install_files() {
  deps
  build server PREFIX="${PREFIX:-/usr/local}"
  log "installing under ${DESTDIR:-}${PREFIX:-/usr/local}"
  make -s install PREFIX="${PREFIX:-/usr/local}" DESTDIR="${DESTDIR:-}"
  if [ -z "${DESTDIR:-}" ] && [ "$(id -u)" -eq 0 ] && ! getent passwd scgi-mono >/dev/null; then
    log "creating the system user scgi-mono (User= of scgi-mono.service)"
    adduser --system --group --no-create-home --home /nonexistent --gecos "scgi-mono server" --quiet scgi-mono
  fi
}

# deb [OUTDIR]: dpkg-buildpackage on a copy of the sources (build/ and .git
# left out), so the tree's own build/ is untouched; the .deb, .changes and
# .buildinfo land in OUTDIR.
deb() {
  DEPS+=("${DEB_DEPS[@]}")
  deps
  local out=${1:-$ROOT/build/deb}
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  local work="$out/src" version
  rm -rf "$work"
  mkdir -p "$work/scgi-mono"
  tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$work/scgi-mono" -xf -
  version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
  log "building scgi-mono $version with dpkg-buildpackage in $work"
  (cd "$work/scgi-mono" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
    tail -40 "$out/build.log" >&2; echo "dpkg-buildpackage failed: $out/build.log" >&2; exit 1; }
  mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
  rm -f "$work"/*.ddeb
  rm -rf "$work"
  log "built: $(cd "$out" && ls ./*.deb ./*.changes | tr '\n' ' ')"
}

case "${1:-}" in
  run) shift; run "$@" ;;
  test) run_tests ;;
  build) deps; build server managed tests asan samples ;;
  fuzz) shift; fuzz "$@" ;;
  bench)
    # Bench-only packages (the load generator and the peers; nginx is already in DEPS), then bench/run.py.
    shift
    DEPS+=(
      "wrk:/usr/bin/wrk"
      "apache2:/usr/lib/apache2/modules/mod_proxy_scgi.so"
      "libapache2-mod-mono:/usr/lib/apache2/modules/mod_mono.so"
      "mono-fastcgi-server4:/usr/bin/fastcgi-mono-server4"
      # the store of the session-redis page: a redis-server the benchmark starts (never the system service)
      "redis-server:/usr/bin/redis-server"
    )
    deps; build server
    export SCGI_MONO_ALLOW_ROOT=1 # the benchmark's servers run as the caller, root included
    exec python3 "$ROOT/bench/run.py" "$@" ;;
  install) install_files ;;
  uninstall) make -s uninstall PREFIX="${PREFIX:-/usr/local}" DESTDIR="${DESTDIR:-}" ;;
  deb) shift; deb "$@" ;;
  clean) rm -rf build ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
