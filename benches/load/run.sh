#!/usr/bin/env bash
# Side-by-side load bench: switchyard's conformance app against actix-web, hyper and may_minihttp, interleaved, server pinned to one CPU and the load generator to another.
# switchyard runs on its epoll engine ("switchyard") and, except for h2c and
# mixed, on its io_uring engine ("switchyard-uring") with the same settings.
# In plaintext and pipelined, two loop ceilings run too (benches/load/limit/:
# limit-epoll and limit-uring, canned answers, no parsing); the report prints
# each switchyard engine as a fraction of the ceiling of its loop shape.
#
# Usage: benches/load/run.sh            (full run, writes docs/benchmarks.md)
#        QUICK=1 benches/load/run.sh    (smoke run: short, one round, prints only)
#
# Environment (defaults in brackets):
#   DURATION [10s; QUICK 2s]   wrk/h2load duration of one measurement
#   WARMUP [1s]                unmeasured load before each measurement
#   ROUNDS [3; QUICK 1]        interleaved rounds per scenario (A B C A B C ...)
#   IDLE_CONNS [10000; QUICK 1000]   connections of the idle scenario
#   LOAD_MAX [1.0]             refuse to report above this 1-minute load average
#   LOAD_WAIT [120]            seconds to wait for the load to fall after building
#   SERVER_CPU [0] CLIENT_CPU [1]    CPUs of the server and of the load generator
#   WRITE_DOCS [1; QUICK 0]    rewrite the generated part of docs/benchmarks.md
#   SCENARIOS [plaintext pipelined json h2c h2c-m100 mixed idle]
#                              (h2c: h2load -c16 -m32; h2c-m100: h2load -c1 -m100)
#   CARGO_TARGET_DIR           switchyard's target dir [ROOT/target]
#   PEERS_TARGET_DIR           the peers' target dir [benches/load/peers/target]
#   URING [1]                  0: do not run switchyard's io_uring engine
#   PEERS [1]                  0: do not build or run actix-web, hyper, may_minihttp
#                              (skips their release build); idle then has no client
#   LIMITS [1]                 0: do not build or run the loop ceilings
#                              (built by benches/load/limit/build.sh into a temp dir;
#                              it installs liburing-dev with apt if missing)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
  DURATION=${DURATION:-2s}
  ROUNDS=${ROUNDS:-1}
  IDLE_CONNS=${IDLE_CONNS:-1000}
  WRITE_DOCS=${WRITE_DOCS:-0}
else
  DURATION=${DURATION:-10s}
  ROUNDS=${ROUNDS:-3}
  IDLE_CONNS=${IDLE_CONNS:-10000}
  WRITE_DOCS=${WRITE_DOCS:-1}
fi
WARMUP=${WARMUP:-1s}
LOAD_MAX=${LOAD_MAX:-1.0}
LOAD_WAIT=${LOAD_WAIT:-120}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
SCENARIOS=${SCENARIOS:-plaintext pipelined json h2c h2c-m100 mixed idle}
SY_TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PEERS=${PEERS:-1}
URING=${URING:-1}
LIMITS=${LIMITS:-1}
PEERS_TARGET=${PEERS_TARGET_DIR:-$HERE/peers/target}
DOC=$ROOT/docs/benchmarks.md
BEGIN_MARK='<!-- load-bench:begin -->'
END_MARK='<!-- load-bench:end -->'

WORK=$(mktemp -d /tmp/switchyard-load.XXXXXX)
RAW=$WORK/raw.tsv
CMDS=$WORK/commands.txt
NOTES=$WORK/notes.txt
: >"$RAW"
: >"$CMDS"
: >"$NOTES"
SERVER_PID=
# Commands are echoed on fd 3 (the terminal's stdout), whatever their own
# output is redirected to.
exec 3>&1

# Prints a command exactly as it is about to run (shell-quoted) and records
# it for the report. Background commands call it, then start the command
# themselves, so that $! is the command's own PID.
show() {
  local line
  printf -v line '%q ' "$@"
  line=${line% }
  echo "\$ $line" >&3
  # The report names paths from the repository's root, wherever it is checked
  # out, and the run's temp dir as $WORK.
  line=${line//$ROOT\//}
  echo "${line//$WORK\//\$WORK/}" >>"$CMDS"
}

# Shows a command, then runs it in the foreground.
run() {
  show "$@"
  "$@"
}

# Records a note for the report and prints it.
note() {
  echo "note: $*"
  echo "$*" >>"$NOTES"
}

cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- tools -------------------------------------------------------------------

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v h2load >/dev/null || missing+=(nghttp2-client)
  command -v taskset >/dev/null || missing+=(util-linux)
  if ((${#missing[@]} > 0)); then
    run apt-get update
    run apt-get install -y "${missing[@]}"
  fi
}

# --- builds ------------------------------------------------------------------

CONFORMANCE=$SY_TARGET/release/examples/conformance
PEER_BIN=$PEERS_TARGET/release
MAY_OK=1
LIMIT_BIN=$WORK/limit/build

# The loop ceilings are built from a copy in the temp dir, so that nothing is
# written into the source tree; a binary that did not build gets n/a rows.
build_limits() {
  cp -r "$HERE/limit" "$WORK/limit"
  if ! run "$WORK/limit/build.sh" >"$WORK/limit-build.log" 2>&1; then
    tail -n 20 "$WORK/limit-build.log"
    note "the loop ceilings did not build (benches/load/limit/build.sh); their rows are n/a."
  fi
}

build() {
  (cd "$ROOT" && run env CARGO_TARGET_DIR="$SY_TARGET" cargo build --release --example conformance)
  [[ $LIMITS == 1 ]] && build_limits
  if [[ $PEERS != 1 ]]; then
    note "PEERS=$PEERS: actix-web, hyper and may_minihttp were neither built nor run."
    return 0
  fi
  run env CARGO_TARGET_DIR="$PEERS_TARGET" cargo build --release \
    --manifest-path "$HERE/peers/Cargo.toml" --bins
  if ! run env CARGO_TARGET_DIR="$PEERS_TARGET" cargo build --release \
    --manifest-path "$HERE/peers/Cargo.toml" --features may --bin peer-may >"$WORK/may-build.log" 2>&1; then
    MAY_OK=0
    tail -n 20 "$WORK/may-build.log"
    note "may_minihttp did not build on this toolchain ($(rustc --version)); its rows are n/a."
  fi
}

# --- load average ------------------------------------------------------------

load1() {
  cut -d' ' -f1 /proc/loadavg
}

# True when the 1-minute load average is at most LOAD_MAX.
load_ok() {
  awk -v l="$(load1)" -v max="$LOAD_MAX" 'BEGIN { exit !(l <= max) }'
}

wait_for_quiet() {
  local waited=0
  while ! load_ok; do
    if ((waited >= LOAD_WAIT)); then
      echo "refusing to report: 1-minute load average $(load1) is above LOAD_MAX=$LOAD_MAX" \
        "after waiting ${LOAD_WAIT}s; something else is using the CPUs. Results left unchanged."
      exit 0
    fi
    echo "load average $(load1) > $LOAD_MAX; waiting for it to settle (${waited}s/${LOAD_WAIT}s)"
    sleep 10
    waited=$((waited + 10))
  done
}

# --- servers -----------------------------------------------------------------

# Fixed ports, so that recorded commands are the same in every round.
port_of() {
  case $1 in
    switchyard) echo 18080 ;;
    switchyard-std) echo 18086 ;;
    actix-web) echo 18081 ;;
    hyper) echo 18082 ;;
    may_minihttp) echo 18083 ;;
    limit-epoll) echo 18084 ;;
    limit-uring) echo 18085 ;;
    switchyard-uring) echo 18086 ;;
  esac
}

# Starts server $1 for scenario $2 on SERVER_CPU; false when it refuses to start.
start_server() {
  local name=$1 scenario=$2 port
  port=$(port_of "$name")
  if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already taken by another process; $name not started"
    return 1
  fi
  local log=$WORK/$name.out
  local cmd
  case $name in
    switchyard) cmd=("$CONFORMANCE" --addr "127.0.0.1:$port" --engine epoll --workers 1) ;;
    # The std engine's h2c (tokio + h2, a task per stream), for comparison.
    switchyard-std) cmd=("$CONFORMANCE" --addr "127.0.0.1:$port" --engine std --workers 1) ;;
    switchyard-uring) cmd=("$CONFORMANCE" --addr "127.0.0.1:$port" --engine io-uring --workers 1) ;;
    actix-web) cmd=("$PEER_BIN/peer-actix" --addr "127.0.0.1:$port" --workers 1) ;;
    hyper) cmd=("$PEER_BIN/peer-hyper" --addr "127.0.0.1:$port" --workers 1) ;;
    may_minihttp) cmd=("$PEER_BIN/peer-may" --addr "127.0.0.1:$port" --workers 1) ;;
    limit-epoll) cmd=("$LIMIT_BIN/limit_epoll" --port "$port" --workers 1) ;;
    limit-uring) cmd=("$LIMIT_BIN/limit_uring" --port "$port" --workers 1) ;;
  esac
  if [[ ! -x ${cmd[0]} ]]; then
    echo "$name: ${cmd[0]} was not built"
    return 1
  fi
  show taskset -c "$SERVER_CPU" "${cmd[@]}"
  taskset -c "$SERVER_CPU" "${cmd[@]}" >"$log" 2>"$WORK/$name.err" &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    # The ceilings announce themselves on stderr, once every listener is bound.
    if grep -q '^listening on' "$log" 2>/dev/null || grep -q 'worker(s)' "$WORK/$name.err" 2>/dev/null; then
      if [[ $name == limit-uring ]] && ! grep -qF 'limit-uring:' "$NOTES"; then
        note "limit-uring: io_uring works in this environment: $(head -n 1 "$WORK/$name.err")"
      fi
      return 0
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID" 2>/dev/null || true
      SERVER_PID=
      echo "$name refused to start: $(tr '\n' ' ' <"$WORK/$name.err")"
      return 1
    fi
    sleep 0.05
  done
  echo "$name did not announce itself in 10s"
  stop_server
  return 1
}

stop_server() {
  [[ -n ${SERVER_PID:-} ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# utime + stime of process $1, in clock ticks (fields 14 and 15 of stat,
# counted after the parenthesised command name).
cpu_ticks() {
  sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

rss_kib() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

CLK_TCK=$(getconf CLK_TCK)

# --- load generators ---------------------------------------------------------

on_client() {
  taskset -c "$CLIENT_CPU" "$@"
}

# Converts wrk's latency (612.00us, 2.10ms, 1.02s) to milliseconds.
WRK_MS='function ms(v) {
  if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
  if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
  if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
  return v + 0
}'

# Prints "requests rps p50_ms p99_ms errors" from a wrk --latency report.
parse_wrk() {
  awk "$WRK_MS"'
    /requests in/ { reqs = $1 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    /Socket errors:/ { for (i = 3; i <= NF; i += 2) errs += $i }
    END { printf "%d %.0f %.3f %.3f %d\n", reqs, rps, p50, p99, errs }' "$1"
}

# Prints "requests rps p50_ms p99_ms errors" from h2load's summary and its
# per-request log (start, status, duration in us).
parse_h2load() {
  local summary=$1 log=$2 reqs rps errs p50 p99
  reqs=$(awk '/^requests:/ { print $8 }' "$summary")
  errs=$(awk '/^requests:/ { print $10 + $12 + $14 }' "$summary")
  rps=$(awk '/^finished in/ { print $4 }' "$summary")
  read -r p50 p99 < <(cut -f3 "$log" | sort -n | awk '{ v[NR] = $1 }
    END { if (NR == 0) { print "0 0"; exit }
          i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
          i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
          printf "%.3f %.3f\n", v[i50] / 1000, v[i99] / 1000 }')
  printf '%s %s %s %s %s\n' "${reqs:-0}" "${rps:-0}" "$p50" "$p99" "${errs:-0}"
}

# --- scenarios ---------------------------------------------------------------

servers_for() {
  local peers=
  case $1 in
    plaintext | pipelined | json | idle) peers="actix-web hyper may_minihttp" ;;
    h2c | h2c-m100 | mixed) peers="actix-web hyper" ;;
  esac
  [[ $PEERS == 1 ]] || peers=
  # The std engine's h2c, to compare with the epoll workers' own.
  case $1 in
    h2c | h2c-m100) peers="switchyard-std $peers" ;;
  esac
  local limits=
  case $1 in
    plaintext | pipelined) [[ $LIMITS == 1 ]] && limits="limit-epoll limit-uring" ;;
  esac
  local uring=
  case $1 in
    plaintext | pipelined | json | idle) [[ $URING == 1 ]] && uring=switchyard-uring ;;
  esac
  echo switchyard $uring $peers $limits
}

# Appends one raw row: scenario server round reqs rps cpu_s p50 p99 errors extra.
record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"
}

# One measurement of scenario $1 on server $2 (round $3); the server runs.
measure() {
  local scenario=$1 name=$2 round=$3 port base out t0 t1 reqs rps p50 p99 errs extra=-
  port=$(port_of "$name")
  base="http://127.0.0.1:$port"
  out=$WORK/$scenario-$name-$round
  case $scenario in
    plaintext | json)
      local path=/hello
      [[ $scenario == json ]] && path=/json
      on_client wrk -t1 -c64 -d"$WARMUP" "$base$path" >/dev/null || true
      t0=$(cpu_ticks "$SERVER_PID")
      run taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$DURATION" --latency "$base$path" >"$out" || true
      t1=$(cpu_ticks "$SERVER_PID")
      read -r reqs rps p50 p99 errs < <(parse_wrk "$out")
      ;;
    pipelined)
      on_client wrk -t1 -c64 -d"$WARMUP" -s "$HERE/pipeline.lua" "$base/hello" -- 16 >/dev/null || true
      t0=$(cpu_ticks "$SERVER_PID")
      run taskset -c "$CLIENT_CPU" wrk -t1 -c64 -d"$DURATION" --latency -s "$HERE/pipeline.lua" "$base/hello" -- 16 >"$out" || true
      t1=$(cpu_ticks "$SERVER_PID")
      read -r reqs rps p50 p99 errs < <(parse_wrk "$out")
      ;;
    h2c | h2c-m100)
      local shape=(-c16 -m32)
      [[ $scenario == h2c-m100 ]] && shape=(-c1 -m100)
      on_client h2load "${shape[@]}" -D "$WARMUP" "$base/hello" >/dev/null || true
      t0=$(cpu_ticks "$SERVER_PID")
      run taskset -c "$CLIENT_CPU" h2load "${shape[@]}" -D "$DURATION" --log-file="$out.log" "$base/hello" >"$out" || true
      t1=$(cpu_ticks "$SERVER_PID")
      read -r reqs rps p50 p99 errs < <(parse_h2load "$out" "$out.log")
      ;;
    mixed)
      t0=$(cpu_ticks "$SERVER_PID")
      show taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d"$DURATION" --latency "$base/hello"
      taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d"$DURATION" --latency "$base/hello" >"$out" &
      local hello_pid=$!
      show taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d"$DURATION" --latency "$base/async/sleep?ms=5"
      taskset -c "$CLIENT_CPU" wrk -t1 -c32 -d"$DURATION" --latency "$base/async/sleep?ms=5" >"$out.sleep" &
      local sleep_pid=$!
      wait "$hello_pid" || true
      wait "$sleep_pid" || true
      t1=$(cpu_ticks "$SERVER_PID")
      read -r reqs rps p50 p99 errs < <(parse_wrk "$out")
      local sreqs srps serrs
      read -r sreqs srps _ _ serrs < <(parse_wrk "$out.sleep")
      reqs=$((reqs + sreqs))
      errs=$((errs + serrs))
      extra="blocking route: ${srps} req/s"
      ;;
  esac
  local cpu
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", d / hz }')
  echo "  $scenario $name round $round: $rps req/s, server CPU ${cpu}s, p50 ${p50}ms, p99 ${p99}ms, errors $errs"
  record "$scenario" "$name" "$round" "$reqs" "$rps" "$cpu" "$p50" "$p99" "$errs" "$extra"
}

# RSS per idle keep-alive connection of server $1.
measure_idle() {
  local name=$1 port before after held
  port=$(port_of "$name")
  on_client "$PEER_BIN/idle-conns" --addr "127.0.0.1:$port" --conns 1 --hold-secs 0 >/dev/null
  sleep 0.5
  before=$(rss_kib "$SERVER_PID")
  local out=$WORK/idle-$name
  show taskset -c "$CLIENT_CPU" "$PEER_BIN/idle-conns" --addr "127.0.0.1:$port" --conns "$IDLE_CONNS" --hold-secs 60
  taskset -c "$CLIENT_CPU" "$PEER_BIN/idle-conns" --addr "127.0.0.1:$port" --conns "$IDLE_CONNS" --hold-secs 60 >"$out" &
  local client=$!
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -q '^holding' "$out" 2>/dev/null && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.1
  done
  sleep 0.5
  after=$(rss_kib "$SERVER_PID")
  held=$(awk '/^holding/ { print $2 }' "$out")
  kill -TERM "$client" 2>/dev/null || true
  wait "$client" 2>/dev/null || true
  held=${held:-0}
  echo "  idle $name: held $held connections, RSS ${before} KiB -> ${after} KiB"
  printf '%s\t%s\t%s\t%s\n' "$name" "$held" "$before" "$after" >>"$WORK/idle.tsv"
}

run_scenario() {
  local scenario=$1 round name
  echo "== $scenario"
  local rounds=$ROUNDS
  [[ $scenario == idle ]] && rounds=1
  for ((round = 1; round <= rounds; round++)); do
    for name in $(servers_for "$scenario"); do
      if [[ $name == may_minihttp && $MAY_OK == 0 ]]; then
        record "$scenario" "$name" "$round" 0 0 0 0 0 0 "n/a (did not build)"
        continue
      fi
      if [[ $scenario == idle && $PEERS != 1 ]]; then
        echo "  idle $name: skipped (the idle-conns client is built with the peers; PEERS=$PEERS)"
        continue
      fi
      if ! start_server "$name" "$scenario"; then
        local why="n/a (server refused to start)"
        record "$scenario" "$name" "$round" 0 0 0 0 0 0 "$why"
        continue
      fi
      if [[ $scenario == idle ]]; then
        measure_idle "$name"
      else
        measure "$scenario" "$name" "$round"
      fi
      stop_server
    done
  done
}

# --- report ------------------------------------------------------------------

# The awk median of a space-separated list, shared by the report tables.
AWK_MEDIAN='
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      if (n == 0) return 0
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
'

# Markdown table of medians per scenario and server, with the ratio of each
# server's median req/s to the best peer's (switchyard and the ceilings excluded).
throughput_table() {
  echo "| scenario | server | req/s (median) | req per server CPU-s | p50 ms | p99 ms | vs best peer | notes |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |"
  awk -F'\t' "$AWK_MEDIAN"'
    $1 == "idle" { next }
    {
      key = $1 SUBSEP $2
      if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      if ($10 ~ /^n\/a/) { na[key] = $10; next }
      rps[key] = rps[key] " " $5
      eff[key] = eff[key] " " (($6 > 0) ? $4 / $6 : 0)
      p50[key] = p50[key] " " $7
      p99[key] = p99[key] " " $8
      errs[key] += $9
      if ($10 != "-") extra[key] = extra[key] (extra[key] == "" ? "" : "; ") $10
    }
    END {
      for (i = 1; i <= n; i++) {
        split(order[i], k, SUBSEP)
        if (order[i] in na) continue
        m = median(rps[order[i]])
        med[order[i]] = m
        if (k[2] !~ /^switchyard/ && k[2] !~ /^limit-/ && m > best[k[1]]) best[k[1]] = m
      }
      for (i = 1; i <= n; i++) {
        key = order[i]
        split(key, k, SUBSEP)
        if (key in na) {
          printf "| %s | %s | %s | | | | | |\n", k[1], k[2], na[key]
          continue
        }
        ratio = (best[k[1]] > 0) ? sprintf("%.2f", med[key] / best[k[1]]) : "-"
        notes = extra[key]
        if (errs[key] > 0) notes = notes (notes == "" ? "" : "; ") errs[key] " errors"
        # wrk fills its latency histogram wrongly under pipelining (0.00us
        # percentiles): no latency is reported for that scenario.
        lat = (k[1] == "pipelined") ? "n/a | n/a" : sprintf("%.2f | %.2f", median(p50[key]), median(p99[key]))
        printf "| %s | %s | %.0f | %.0f | %s | %s | %s |\n", k[1], k[2], med[key],
          median(eff[key]), lat, ratio, notes
      }
    }' "$RAW"
}

# Each switchyard engine as a fraction of the ceiling of its loop shape, from
# the medians: switchyard (epoll engine) over limit-epoll, switchyard-uring
# (io_uring engine) over limit-uring.
ceiling_table() {
  grep -q $'\tlimit-' "$RAW" || return 0
  echo
  echo "| scenario | server | ceiling | req/s: ceiling's / fraction of it | req per server CPU-s: ceiling's / fraction of it |"
  echo "| --- | --- | --- | ---: | ---: |"
  awk -F'\t' "$AWK_MEDIAN"'
    $1 == "idle" || $10 ~ /^n\/a/ { next }
    {
      if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 }
      rps[$1, $2] = rps[$1, $2] " " $5
      eff[$1, $2] = eff[$1, $2] " " (($6 > 0) ? $4 / $6 : 0)
    }
    function frac(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "n/a" }
    END {
      for (i = 1; i <= n; i++) {
        sc = order[i]
        le_r = median(rps[sc, "limit-epoll"]); le_e = median(eff[sc, "limit-epoll"])
        lu_r = median(rps[sc, "limit-uring"]); lu_e = median(eff[sc, "limit-uring"])
        if (le_r == 0 && lu_r == 0) continue
        sy_r = median(rps[sc, "switchyard"]); sy_e = median(eff[sc, "switchyard"])
        if (le_r > 0)
          printf "| %s | switchyard (epoll engine) | limit-epoll | %.0f / %s | %.0f / %s |\n", sc, le_r,
            (sy_r > 0 ? frac(sy_r, le_r) : "n/a"), le_e, (sy_e > 0 ? frac(sy_e, le_e) : "n/a")
        else
          printf "| %s | switchyard (epoll engine) | limit-epoll | n/a | n/a |\n", sc
        su_r = median(rps[sc, "switchyard-uring"]); su_e = median(eff[sc, "switchyard-uring"])
        if (lu_r > 0)
          printf "| %s | switchyard-uring (io_uring engine) | limit-uring | %.0f / %s | %.0f / %s |\n", sc, lu_r,
            (su_r > 0 ? frac(su_r, lu_r) : "n/a"), lu_e, (su_e > 0 ? frac(su_e, lu_e) : "n/a")
        else
          printf "| %s | switchyard-uring (io_uring engine) | limit-uring | n/a | n/a |\n", sc
      }
    }' "$RAW"
}

idle_table() {
  [[ -s $WORK/idle.tsv ]] || return 0
  echo
  echo "| idle scenario: server | connections held | RSS before (KiB) | RSS after (KiB) | RSS per connection (bytes) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  awk -F'\t' '{
      per = ($2 > 0) ? ($4 - $3) * 1024 / $2 : 0
      printf "| %s | %d | %d | %d | %.0f |\n", $1, $2, $3, $4, per
    }' "$WORK/idle.tsv"
  awk -F'\t' '$1 == "idle" && $10 ~ /^n\/a/ { printf "| %s | %s | | | |\n", $2, $10 }' "$RAW"
}

report() {
  local model
  model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  echo "Generated by \`benches/load/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- machine: $(nproc) CPUs, $model; $(uname -sr)"
  echo "- 1-minute load average when measuring started: $LOAD_AT_START (limit $LOAD_MAX)"
  echo "- settings: DURATION=$DURATION WARMUP=$WARMUP ROUNDS=$ROUNDS IDLE_CONNS=$IDLE_CONNS QUICK=$QUICK;" \
    "server on CPU $SERVER_CPU with one worker, load generator on CPU $CLIENT_CPU"
  echo "- switchyard: conformance app, \`--engine epoll --workers 1\` (h2c on the epoll workers" \
    "themselves); switchyard-std: the same app on \`--engine std\` (h2c on tokio + h2, a task per" \
    "stream), in the h2c scenarios only; switchyard-uring: the same app, \`--engine io-uring" \
    "--workers 1\` (best tier the kernel has)"
  echo "- req/s and latency are medians over the rounds; efficiency is requests answered per second of" \
    "server CPU (utime + stime from /proc/PID/stat over the measured window); \"vs best peer\" divides" \
    "a server's median req/s by the best non-switchyard server's in the same scenario. wrk reports" \
    "no usable latency percentiles under pipelining, so that scenario has none. Mixed: /hello's req/s and latency while" \
    "32 other connections hit a route that blocks 5 ms; efficiency counts both routes' requests."
  if [[ $LIMITS == 1 ]]; then
    echo "- limit-epoll and limit-uring (benches/load/limit/, plaintext and pipelined only) are loop" \
      "ceilings, not HTTP servers: they answer each request head with canned bytes and parse nothing." \
      "They are excluded from \"best peer\"; the second table gives switchyard's epoll engine as a" \
      "fraction of the epoll ceiling and its io_uring engine as a fraction of the io_uring ceiling."
  fi
  if [[ -s $NOTES ]]; then
    echo
    sed 's/^/- /' "$NOTES"
  fi
  echo
  throughput_table
  ceiling_table
  idle_table
  echo
  echo "Commands, as run (server and load generator; ports fixed per server):"
  echo
  echo '```'
  awk '!seen[$0]++' "$CMDS"
  echo '```'
}

write_doc() {
  local body=$1
  mkdir -p "$(dirname "$DOC")"
  if [[ ! -f $DOC ]] || ! grep -qF "$BEGIN_MARK" "$DOC"; then
    printf '\n%s\n%s\n' "$BEGIN_MARK" "$END_MARK" >>"$DOC"
  fi
  awk -v begin="$BEGIN_MARK" -v end="$END_MARK" -v body="$body" '
    $0 == begin { print; while ((getline line < body) > 0) print line; skip = 1; next }
    $0 == end { skip = 0 }
    !skip { print }' "$DOC" >"$WORK/doc.md"
  cp "$WORK/doc.md" "$DOC"
  echo "wrote the load-bench section of $DOC"
}

main() {
  install_tools
  build
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  echo "fd limit: $(ulimit -n)"
  wait_for_quiet
  LOAD_AT_START=$(load1)
  local scenario
  for scenario in $SCENARIOS; do
    run_scenario "$scenario"
  done
  report >"$WORK/report.md"
  echo
  cat "$WORK/report.md"
  if [[ $WRITE_DOCS == 1 ]]; then
    write_doc "$WORK/report.md"
  else
    echo "(WRITE_DOCS=0: $DOC left unchanged)"
  fi
}

main "$@"
