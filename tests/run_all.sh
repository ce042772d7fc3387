#!/usr/bin/env bash
# Runs every test suite (C unit tests, their ASan/UBSan builds, fuzz corpus
# replays, NUnit, integration against real front ends). Each suite speaks TAP;
# this script counts the results and ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
LOGS=build/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
pass=0 fail=0 skip=0

# count SUITE LOGFILE EXITCODE: adds the TAP results of one suite to the totals.
count() {
  local suite=$1 file=$2 rc=$3
  local p f s
  p=$(grep -E '^ok ' "$file" | grep -vc '# SKIP' || true)
  s=$(grep -E '^ok .*# SKIP' "$file" | wc -l)
  f=$(grep -cE '^not ok ' "$file" || true)
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # the suite died without reporting a failure: count that as one
    echo "not ok - $suite exited with status $rc" >> "$file"
    f=1
  fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  printf '%-34s %4d passed %4d failed %4d skipped\n' "$suite" "$p" "$f" "$s"
  if [ "$f" -gt 0 ]; then
    # each failure with the last lines of its reason (the assertion), so
    # that a run seen only by its last lines (CI) says why
    awk 'function flush(  i) { for (i = 0; i < n; i++) print "      " substr(buf[i], 1, 300); n = 0; inr = 0 }
         /^not ok / { flush(); print "    " $0; inr = 1; next }
         inr && /^# --- / { flush(); next }
         inr && /^# / { if (n == 3) { buf[0] = buf[1]; buf[1] = buf[2]; n = 2 } buf[n++] = $0; next }
         inr { flush() }
         END { flush() }' "$file"
    echo "    (log: $file)"
  fi
}

suite() {
  local name=$1; shift
  local log="$LOGS/$name.log"
  "$@" > "$log" 2>&1
  count "$name" "$log" $?
}

# The unit tests and fuzz replays make their fixtures in TMPDIR: one
# directory for this run, removed at its end (a test that fails or is killed
# by its timeout leaves nothing behind in /tmp). The integration tests clean
# up after themselves and keep /tmp: their Unix socket paths must stay short.
UNIT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/scgi-mono-tests-XXXXXX")
trap 'rm -rf "$UNIT_TMP"' EXIT
for t in build/tests/test_*; do
  suite "unit:${t##*/}" env TMPDIR="$UNIT_TMP" timeout 300 "$t" --tap
done
for t in build/asan/test_*; do
  suite "asan:${t##*/}" env TMPDIR="$UNIT_TMP" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 timeout 300 "$t" --tap
done
for r in build/asan/fuzz_*-replay; do
  name=${r##*/fuzz_}; name=${name%-replay}
  suite "fuzz-replay:$name" env TMPDIR="$UNIT_TMP" tests/fuzz/replay_tap.sh "$r" "tests/fuzz/corpus/$name"
done
suite "nunit:ScgiMono.Tests" tests/nunit_tap.sh
# The suites run as root here; their servers may run workers as root
# (privs.h), except where a test checks the refusal itself.
export SCGI_MONO_ALLOW_ROOT=1
suite "bench-selftest" timeout 300 python3 bench/run.py --selftest
suite "integration" timeout 1200 python3 tests/integration/run.py

line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo
echo "$line"
[ "$fail" -eq 0 ]
