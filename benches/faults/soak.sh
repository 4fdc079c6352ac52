#!/usr/bin/env bash
# Soak: mixed load (client.py: sync, async/promoted, pipelined, bodies up to
# 256 KiB, chunked streams, connection churn — every response checked) for
# MINUTES against the conformance app on loopback, sampling every 10 s the
# server's RSS, open descriptors, active connections and error count.
#
# Where the engine serves h2c (epoll, io-uring, std; H2C=0 turns it off), h2load runs
# beside it for the whole time: 2 connections of 4 concurrent streams, each
# connection at most 100 requests a second, over sync, async and streamed
# routes; its request and status counts are printed at the end.
#
# Usage: benches/faults/soak.sh BINARY ENGINE MINUTES [CONCURRENCY]
# (SECS=N runs N seconds instead of MINUTES.)
# Prints a table (one row per sample) and the clients' final counts.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$1 ENGINE=$2 MINUTES=$3 CONC=${4:-16}
OUT=$(mktemp -d /tmp/switchyard-soak.XXXXXX)
"$BIN" --addr 127.0.0.1:0 --engine "$ENGINE" --workers 2 >"$OUT/app.out" 2>"$OUT/app.err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening "$OUT/app.out" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*://p' "$OUT/app.out")
secs=${SECS:-$((MINUTES * 60))}
python3 "$HERE/client.py" 127.0.0.1 "$port" "$secs" "$CONC" >"$OUT/client.out" &
client=$!
h2=none
case "$ENGINE" in
  epoll|io-uring|std) [ "${H2C:-1}" = 1 ] && command -v h2load >/dev/null && h2=yes ;;
esac
if [ "$h2" = yes ]; then
  base="http://127.0.0.1:$port"
  h2load -c 2 -m 4 --rps 100 -D "$secs" "$base/hello" "$base/async/hello" "$base/json" \
    "$base/stream?n=100" "$base/async/stream?n=5" >"$OUT/h2load.out" 2>&1 &
  h2pid=$!
fi
printf '%6s %9s %5s %6s %10s %8s\n' t_s rss_kib fds conns requests errors
start=$(date +%s)
while kill -0 "$client" 2>/dev/null; do
  now=$(($(date +%s) - start))
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  m=$(curl -s "http://127.0.0.1:$port/metrics")
  read -r conns reqs errs < <(python3 -c 'import json,sys; m=json.loads(sys.argv[1]); print(m["active_conns"], m["requests_total"], m["errors_total"])' "$m")
  printf '%6d %9d %5d %6d %10d %8d\n' "$now" "$rss" "$fds" "$conns" "$reqs" "$errs"
  sleep 10
done
wait "$client" || true
sleep 2
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
fds=$(ls "/proc/$pid/fd" | wc -l)
m=$(curl -s "http://127.0.0.1:$port/metrics")
echo "after the load: rss_kib=$rss fds=$fds metrics=$m" | cut -c1-300
echo "client: $(cat "$OUT/client.out")"
if [ "$h2" = yes ]; then
  wait "$h2pid" || true
  echo "h2load: $(grep -E '^(requests|status codes):' "$OUT/h2load.out" | tr '\n' ' ')"
fi
