#!/bin/sh
# The Redis client of RedisSessionStateStore (C#, managed/RedisClient.cs) against
# hiredis (redis-benchmark, C): round trips per second of GET and SET on one
# connection, one command at a time, and their ratio. A redis-server of its own
# on a free loopback port, no persistence, stopped at the end. Needs `make managed`.
# Usage: bench/redis_client.sh [N]
set -eu
cd "$(dirname "$0")/.."
n=${1:-50000}
tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$tmp" > "$tmp/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$tmp"' EXIT
for i in $(seq 50); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.1; done
mcs -nologo -r:build/ScgiMono.dll -out:"$tmp/redis_client.exe" bench/redis_client.cs
cp build/ScgiMono.dll "$tmp/"
mono "$tmp/redis_client.exe" "$port" "$n" | tee "$tmp/cs.txt"
redis-benchmark -p "$port" -q -t get,set -c 1 -n "$n" 2>/dev/null | tr '\r' '\n' | grep -E '^(SET|GET): [0-9.]+ requests per second' | tee "$tmp/c.txt"
for op in SET GET; do
  cs=$(sed -n "s/^$op: \([0-9.]*\) requests.*/\1/p" "$tmp/cs.txt")
  c=$(sed -n "s/^$op: \([0-9.]*\) requests.*/\1/p" "$tmp/c.txt" | tail -1)
  echo "$op: C# client / hiredis = $(python3 -c "print(f'{$cs/$c:.2f}')")"
done
