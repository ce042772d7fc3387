#!/usr/bin/env bash
# Replays each file of a fuzz corpus through a harness built with ASan + UBSan;
# one TAP line per input.
set -u
harness=$1 dir=$2
n=0
for f in "$dir"/*; do
  [ -f "$f" ] || continue
  n=$((n + 1))
  # a directory of its own for what the harness leaves in TMPDIR (spool
  # files, sockets, fixtures), removed after it, whatever the harness did
  tmp=$(mktemp -d)
  if out=$(TMPDIR=$tmp ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 timeout 60 "$harness" "$f" 2>&1); then
    echo "ok $n - ${f##*/}"
  else
    echo "not ok $n - ${f##*/}"
    printf '%s\n' "$out" | sed 's/^/# /' | tail -40
  fi
  rm -rf "$tmp"
done
echo "1..$n"
