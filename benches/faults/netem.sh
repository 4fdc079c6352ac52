#!/usr/bin/env bash
# Network faults between two network namespaces: the conformance app in one,
# a checking client (client.py) in the other, a veth pair between them with
# a queueing discipline on both ends: `tc netem` delay, loss and reordering
# where the kernel has netem (CONFIG_NET_SCH_NETEM), and always `tbf` rate
# limits (a slow, queueing link: backpressure and delay). Scenarios whose
# qdisc the kernel lacks are reported as skipped. Needs root and iproute2;
# builds and removes its namespaces itself.
#
# Usage: benches/faults/netem.sh BINARY [ENGINES] [SECONDS]
#   ENGINES  default "epoll io-uring std"   SECONDS per scenario, default 20
# For each engine and scenario prints the client's counts (ok, failed,
# wrong — wrong must be 0) and the server's open descriptors and active
# connections before the run and after the clients are gone.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$(realpath "$1")
ENGINES=${2:-epoll io-uring std}
SECONDS_EACH=${3:-20}
NS_S=sy-srv-$$ NS_C=sy-cli-$$
ADDR_S=10.203.0.1 ADDR_C=10.203.0.2 PORT=8080

pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$NS_S"
ip netns add "$NS_C"
ip link add veth-s netns "$NS_S" type veth peer name veth-c netns "$NS_C"
ip -n "$NS_S" addr add "$ADDR_S/24" dev veth-s
ip -n "$NS_C" addr add "$ADDR_C/24" dev veth-c
for ns in "$NS_S" "$NS_C"; do
  ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set veth-s up
ip -n "$NS_C" link set veth-c up

# Scenario name and the netem options applied on both ends.
SCENARIOS=(
  "clean|pfifo"
  "slow-link|tbf rate 20mbit burst 32kbit latency 200ms"
  "very-slow-link|tbf rate 2mbit burst 16kbit latency 1000ms"
  "latency|netem delay 20ms 5ms distribution normal"
  "loss|netem delay 5ms loss 2%"
  "reorder|netem delay 10ms reorder 25% 50%"
  "all|netem delay 20ms 10ms loss 1% reorder 10% 50% duplicate 1%"
)

# The server's open descriptors and active connections.
state() {
  local pid=$1 fds conns
  fds=$(ls "/proc/$pid/fd" | wc -l)
  conns=$(ip netns exec "$NS_S" curl -s "http://$ADDR_S:$PORT/metrics" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["active_conns"])')
  echo "fds=$fds active_conns=$conns"
}

for engine in $ENGINES; do
  ip netns exec "$NS_S" "$BIN" --addr "$ADDR_S:$PORT" --engine "$engine" --workers 2 \
    >/tmp/netem-app.out 2>/tmp/netem-app.err &
  pid=$!
  for _ in $(seq 100); do grep -q listening /tmp/netem-app.out 2>/dev/null && break; sleep 0.05; done
  before=$(state "$pid")
  for sc in "${SCENARIOS[@]}"; do
    name=${sc%%|*} opts=${sc#*|}
    if ! ip netns exec "$NS_S" tc qdisc replace dev veth-s root $opts 2>/dev/null ||
      ! ip netns exec "$NS_C" tc qdisc replace dev veth-c root $opts 2>/dev/null; then
      echo "$engine $name: skipped (this kernel has no ${opts%% *} qdisc)"
      continue
    fi
    result=$(ip netns exec "$NS_C" python3 "$HERE/client.py" "$ADDR_S" "$PORT" "$SECONDS_EACH" 16 | head -1)
    echo "$engine $name: $result"
  done
  ip netns exec "$NS_S" tc qdisc del dev veth-s root || true
  ip netns exec "$NS_C" tc qdisc del dev veth-c root || true
  sleep 2 # lingering closes end
  echo "$engine server before: $before; after: $(state "$pid")"
  kill -TERM "$pid"
  wait "$pid" || echo "$engine: exit status $?"
done
