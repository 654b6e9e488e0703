#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hostname learner of `portwarden daemon` (issue 12), in a throwaway
# namespace over loopback: a synthetic DNS server (bench/dns_bench.py) on
# 127.0.0.53 is the trusted resolver, clients query it directly.
#  1. hold time: round trips of 2,000 fresh-name queries a second for
#     5 s with the daemon holding each answer until its address is in the
#     set, against the same with the daemon stopped (the queue's bypass);
#  2. addresses learned a second: N answers of K addresses as fast as they
#     come back, portwarden against dnsmasq --nftset forwarding the same
#     answers into an nft set;
#  3. the daemon's resident memory with 100,000 learned addresses.
# Usage: bench/dns_learn.sh PATH/TO/portwarden   (root)
# Environment: RATE (2000), SECONDS_RATE (5), N (5000), K (10).
set -u
PW=$(realpath "${1:?usage: bench/dns_learn.sh PATH/TO/portwarden}")
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DNS_BENCH_IN_NS:-}" ]; then
	export DNS_BENCH_IN_NS=1
	exec unshare -m -n -- bash -c 'mount -t tmpfs tmpfs /run && ip link set lo up && exec bash "$0" "$1"' "$0" "$PW"
fi
RATE=${RATE:-2000} SECONDS_RATE=${SECONDS_RATE:-5} N=${N:-5000} K=${K:-10}
B="$HERE/dns_bench.py"
W=$(mktemp -d /run/dnsbench.XXXXXX)
export PORTWARDEN_STATE_DIR="$W/state"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

serve() { # K
	python3 "$B" serve 127.0.0.53 "$1" > "$W/serve.out" 2>&1 &
	SERVER=$!; PIDS+=($SERVER)
	for i in $(seq 50); do grep -q ready "$W/serve.out" && return; sleep 0.1; done
	echo "bench dns: server did not start"; exit 1
}
cat > "$W/p.yaml" <<EOF
portwarden: 1
dns:
  resolvers: [127.0.0.53]
  max_addresses: 200000
outbound:
  - { name: bench, proto: tcp, port: 443, to: ["*.bench.test"] }
EOF
chmod 644 "$W/p.yaml"
DPID=
daemon_up() {
	: > "$W/events"
	"$PW" daemon "$W/p.yaml" 2>> "$W/events" &
	DPID=$!; PIDS+=($DPID)
	for i in $(seq 100); do grep -q " learning " "$W/events" && return; sleep 0.1; done
	echo "bench dns: daemon did not start: $(tail -3 "$W/events")"; exit 1
}
daemon_down() { kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; }
counter() { sed -n "s/^$1 //p" /run/portwarden/net-*/dns; }
set_size() { nft list set inet "$1" "$2" | grep -o '10\.[0-9]*\.[0-9]*\.[0-9]*' | wc -l; }

echo "bench dns: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %R UTC')"

# 1. hold time
serve 1
daemon_up
python3 "$B" rate 127.0.0.53 53 100 1 900000 > /dev/null	# warm up
held=$(python3 "$B" rate 127.0.0.53 53 "$RATE" "$SECONDS_RATE" 0)
sleep 1.1
echo "hold: $RATE answers/s for ${SECONDS_RATE}s, held by the daemon: $held (held $(counter held), timed-out $(counter timed-out), queue-full $(counter queue-full)); in the daemon, read to verdict: p50 $(counter hold-p50-us) us p99 $(counter hold-p99-us) us max $(counter hold-max-us) us"
daemon_down
bypass=$(python3 "$B" rate 127.0.0.53 53 "$RATE" "$SECONDS_RATE" 1000000)
echo "hold: the same, daemon stopped (queue bypass):  $bypass"

# 2. addresses learned a second
kill "$SERVER"; wait "$SERVER" 2>/dev/null
serve "$K"
"$PW" flush > /dev/null
rm -f "$PORTWARDEN_STATE_DIR"/learned-*	# nothing restored: only what is learned here
daemon_up
out=$(python3 "$B" blast 127.0.0.53 53 "$N" 2000000 64)
sleep 1.1
secs=$(awk '{print $4}' <<<"$out")
added=$(counter added)
echo "learn: portwarden: $N answers of $K addresses: $out, $added added, $(python3 -c "print(round($added / $secs))") addresses/s"
daemon_down
"$PW" flush > /dev/null
nft add table inet bench
nft add set inet bench s '{ type ipv4_addr; }'
dnsmasq --no-daemon --no-resolv --no-hosts --port=5353 --listen-address=127.0.0.1 \
	--bind-interfaces --server=127.0.0.53 --cache-size=0 --user=root --group=root \
	--pid-file="$W/dnsmasq.pid" --nftset=/bench.test/4#inet#bench#s --log-facility=- \
	> "$W/dnsmasq.log" 2>&1 &
PIDS+=($!)
sleep 1
out=$(python3 "$B" blast 127.0.0.1 5353 "$N" 2000000 64)
secs=$(awk '{print $4}' <<<"$out")
n=$(set_size bench s)
echo "learn: dnsmasq --nftset: $N answers of $K addresses: $out, $n in the set, $(python3 -c "print(round($n / $secs))") addresses/s"

# 3. memory with 100,000 learned addresses
kill "$SERVER"; wait "$SERVER" 2>/dev/null
serve 100
nft delete table inet bench
rm -f "$PORTWARDEN_STATE_DIR"/learned-*	# exactly the 100,000 below
daemon_up
r0=$(awk '/^VmRSS/ {print $2}' /proc/$DPID/status)
python3 "$B" blast 127.0.0.53 53 1000 3000000 32 > /dev/null
sleep 1.1
r1=$(awk '/^VmRSS/ {print $2}' /proc/$DPID/status)
hwm=$(awk '/^VmHWM/ {print $2}' /proc/$DPID/status)
echo "memory: $(counter addresses) learned addresses: RSS $r0 kB at start, $r1 kB after (peak $hwm kB); set holds $(set_size portwarden bench_dns_v4)"
daemon_down
