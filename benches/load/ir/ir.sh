#!/usr/bin/env bash
# Instructions per request of the conformance app, counted with callgrind
# (repeatable on a busy machine, unlike wall-clock throughput).
#
# Usage: benches/load/ir/ir.sh BINARY ENGINE SCENARIO N_SMALL N_LARGE
#   BINARY    a release build of the conformance example
#   ENGINE    epoll | std   (always --workers 1)
#   SCENARIO  plaintext | pipelined | json | promoted | sync-sleep
#             (see client.py)
#
# Runs the whole server process under callgrind twice, once answering
# N_SMALL requests and once N_LARGE (one keep-alive connection each, from
# client.py), and prints
#   ENGINE SCENARIO Ir_small Ir_large Ir_per_request
# with Ir_per_request = (Ir_large - Ir_small) / (N_large - N_small): start-up,
# shutdown and the connection's accept/close cancel out.
# OUT_DIR [mktemp] keeps the callgrind.out files (for callgrind_annotate).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$1 ENGINE=$2 SCENARIO=$3 N_SMALL=$4 N_LARGE=$5
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/switchyard-ir.XXXXXX)}
mkdir -p "$OUT_DIR"

# Ir of one callgrind run of BIN answering $1 requests.
one_run() {
  local n=$1 tag out log pid port i
  tag=$ENGINE-$SCENARIO-$n-$$-$RANDOM
  out=$OUT_DIR/callgrind.out.$tag
  log=$OUT_DIR/server.$tag.log
  valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$BIN" --addr 127.0.0.1:0 --engine "$ENGINE" --workers 1 >"$log" 2>"$log.err" &
  pid=$!
  port=
  for ((i = 0; i < 600; i++)); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$log")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || { cat "$log.err" >&2; return 1; }
    sleep 0.1
  done
  [[ -n $port ]] || { echo "server did not start" >&2; kill -KILL "$pid"; return 1; }
  python3 "$HERE/client.py" "$port" "$SCENARIO" "$n" >&2
  sleep "${SETTLE:-1}" # let the server see the close; the same pause in every run
  kill -TERM "$pid"
  wait "$pid" || true
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

small=$(one_run "$N_SMALL")
large=$(one_run "$N_LARGE")
awk -v e="$ENGINE" -v s="$SCENARIO" -v a="$small" -v b="$large" -v na="$N_SMALL" -v nb="$N_LARGE" \
  'BEGIN { printf "%s %s %d %d %.0f\n", e, s, a, b, (b - a) / (nb - na) }'
