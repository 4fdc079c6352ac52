#!/usr/bin/env bash
# A/B wall-clock comparison of two builds of the conformance app (say, before
# and after a change), interleaved: epoll engine, one worker pinned to
# SERVER_CPU, wrk (one thread, 64 connections) pinned to CLIENT_CPU.
#
# Usage: benches/load/ab.sh OLD_BINARY NEW_BINARY
#   ROUNDS [3]  DURATION [5s]  SCENARIOS [plaintext pipelined]  ENGINE [epoll]
# Prints one line per measurement: scenario, binary, req/s, requests per
# server CPU-second (utime+stime of the server process over the run).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OLD=$1 NEW=$2
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5s} ENGINE=${ENGINE:-epoll}
SCENARIOS=${SCENARIOS:-plaintext pipelined}
SERVER_CPU=${SERVER_CPU:-0} CLIENT_CPU=${CLIENT_CPU:-1}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/switchyard-ab.XXXXXX)
TICKS=$(getconf CLK_TCK)

# One measurement: BINARY SCENARIO -> "scenario label rps req_per_cpu_s"
measure() {
  local bin=$1 sc=$2 label=$3 pid port t0 t1 out reqs rps
  taskset -c "$SERVER_CPU" "$bin" --addr 127.0.0.1:0 --engine "$ENGINE" --workers 1 \
    >"$WORK/out" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do grep -q listening "$WORK/out" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*://p' "$WORK/out")
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  if [[ $sc == pipelined ]]; then
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$DURATION" -s "$HERE/pipeline.lua" \
      "http://127.0.0.1:$port/hello" -- 16)
  else
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$DURATION" "http://127.0.0.1:$port/hello")
  fi
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$sc $label rps=$rps req_per_cpu_s=$(( reqs * TICKS / ((t1 - t0) > 0 ? (t1 - t0) : 1) ))"
}

for _ in $(seq "$ROUNDS"); do
  for sc in $SCENARIOS; do
    measure "$OLD" "$sc" old
    measure "$NEW" "$sc" new
  done
done
rm -rf "$WORK"
