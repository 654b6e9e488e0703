#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# portwarden monitor vs ulogd2 on the same NFLOG stream, in the same run.
#
# In a throwaway network namespace, portwarden's table drops UDP to
# 127.0.0.1:9 (loopback: false, so the rule sees loopback traffic) and
# logs each packet to group 1000; a second table, ahead of it in the
# output hook, logs the same packets to group 1001. `portwarden monitor
# --format json` reads 1000 (naming the rule, its FILE:LINE and the
# sending process: pid, comm, uid, cgroup), `ulogd -c FILE` reads 1001
# (NFLOG -> BASE -> IFINDEX -> IP2STR -> JSON, no attribution); both
# write JSON lines to files on tmpfs. bench/udppace.c sends at each RATE
# (packets/s; 0 = as fast as one thread can) for SECONDS.
#
# Per rate: packets the rule counted, events each reader wrote, what
# monitor reported lost (from sequence numbers; ulogd's loss is counted
# here as counted - written), and the CPU each reader used (user +
# system, from /proc/PID/stat) per event written.
#
#   bench/monitor.sh build/portwarden
#   RATES="50000 100000 0" SECONDS_PER_RUN=3 bench/monitor.sh build/portwarden
#   ULOGD=0 bench/monitor.sh build/portwarden     # monitor alone
set -u
PW=${1:?usage: bench/monitor.sh PATH/TO/portwarden}
PW=$(cd "$(dirname "$PW")" && pwd)/$(basename "$PW")
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
MON_ARGS=${MON_ARGS:-}
RATES=${RATES:-"25000 50000 100000 200000 0"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
command -v ulogd >/dev/null || { echo "bench: needs ulogd (ulogd2, ulogd2-json)" >&2; exit 2; }

if [ -z "${PW_BENCH_INNER:-}" ]; then
	exec unshare -m -n -- env PW_BENCH_INNER=1 RATES="$RATES" MON_ARGS="$MON_ARGS" \
		SECONDS_PER_RUN="$SECONDS_PER_RUN" bash -c \
		'mount -t tmpfs tmpfs /run && ip link set lo up && exec bash "$0" "$1"' "$0" "$PW"
fi

W=$(mktemp -d /run/pwmonbench.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
cc -O2 -Wall -Wextra -o "$W/udppace" "$BENCH_DIR/udppace.c" || exit 1
PLUG=$(dirname "$(find /usr/lib -name ulogd_inppkt_NFLOG.so 2>/dev/null | head -1)")
[ -d "$PLUG" ] || { echo "bench: ulogd plugins not found" >&2; exit 2; }

cat > "$W/policy.yaml" <<Y
portwarden: 1
table: pwbench
loopback: false
outbound:
  - name: blocked
    proto: udp
    port: 9
    to: 127.0.0.1
    action: drop
Y
"$PW" apply -q "$W/policy.yaml" || exit 1
nft -f - <<N || exit 1
table inet pwbench_ulogd {
	chain output {
		type filter hook output priority -10; policy accept;
		ip daddr 127.0.0.1 udp dport 9 log prefix "pw1 D out drop blocked $W/policy.yaml:5" group 1001
	}
}
N

cat > "$W/ulogd.conf" <<U
[global]
logfile="$W/ulogd.log"
loglevel=5
plugin="$PLUG/ulogd_inppkt_NFLOG.so"
plugin="$PLUG/ulogd_raw2packet_BASE.so"
plugin="$PLUG/ulogd_filter_IFINDEX.so"
plugin="$PLUG/ulogd_filter_IP2STR.so"
plugin="$PLUG/ulogd_output_JSON.so"
stack=log1:NFLOG,base1:BASE,ifi1:IFINDEX,ip2str1:IP2STR,json1:JSON

[log1]
group=1001
netlink_socket_buffer_size=33554432
netlink_socket_buffer_maxsize=33554432

[json1]
file="$W/ulogd.json"
sync=0
U

bound() { grep -q "^ *$1 " /proc/net/netfilter/nfnetlink_log 2>/dev/null; }
wait_bound() {
	local i
	for i in $(seq 200); do bound "$1" && return 0; sleep 0.05; done
	echo "bench: nothing bound group $1" >&2
	return 1
}
counter() {
	nft -j list table inet pwbench | python3 -c '
import json, sys
print(sum(x["counter"]["packets"] for o in json.load(sys.stdin)["nftables"]
          if "rule" in o for x in o["rule"]["expr"] if "counter" in x))'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

printf '%-8s %9s %9s | %9s %7s %8s %9s | %9s %8s %9s\n' rate/s counted sent/s \
	monitor lost cpu_s us/event ulogd cpu_s us/event
for rate in $RATES; do
	rm -f "$W/mon.json" "$W/ulogd.json"
	"$PW" monitor --format json ${MON_ARGS:-} > "$W/mon.json" 2> "$W/mon.err" &
	mon=$!
	PIDS+=("$mon")
	if [ "${ULOGD:-1}" = 1 ]; then
		ulogd -c "$W/ulogd.conf" > /dev/null 2>&1 &
	else
		sleep 3600 &	# no ulogd (ULOGD=0): a stand-in using no CPU
	fi
	ulg=$!
	PIDS+=("$ulg")
	wait_bound 1000 || exit 1
	[ "${ULOGD:-1}" = 1 ] && { wait_bound 1001 || exit 1; }
	c0=$(counter)
	m0=$(cpu_ticks "$mon") u0=$(cpu_ticks "$ulg")
	read -r sent took < <("$W/udppace" 127.0.0.1 9 "$rate" "$SECONDS_PER_RUN")
	sleep 1
	# one more packet: its record shows any gap of records lost before it
	"$W/udppace" 127.0.0.1 9 1 0.0001 > /dev/null
	# until both readers have caught up (their CPU time stops moving)
	m1=-1 u1=-1
	for i in $(seq 100); do
		sleep 0.3
		a=$(cpu_ticks "$mon") b=$(cpu_ticks "$ulg")
		[ "$a" = "$m1" ] && [ "$b" = "$u1" ] && break
		m1=$a u1=$b
	done
	kill "$mon" "$ulg"
	wait "$mon" "$ulg" 2>/dev/null
	PIDS=()
	c1=$(counter)
	read -r mev mlost < <(python3 -c '
import json, sys
d = l = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["kind"] == "lost":
        l += e["count"]
    else:
        d += 1
print(d, l)' "$W/mon.json")
	uev=$(cat "$W/ulogd.json" 2>/dev/null | wc -l)
	python3 -c '
import sys
rate, counted, sent, took, mev, mlost, mt, uev, ut, tck = sys.argv[1:]
counted, mev, mlost, uev, tck = int(counted), int(mev), int(mlost), int(uev), int(tck)
ms, us = int(mt) / tck, int(ut) / tck
print("%-8s %9d %9.0f | %9d %7d %8.2f %9.2f | %9d %8.2f %9.2f%s" % (
    "max" if rate == "0" else rate, counted, int(sent) / float(took),
    mev, mlost, ms, 1e6 * ms / max(mev, 1), uev, us, 1e6 * us / max(uev, 1),
    "" if mev + mlost == counted else "  (monitor: events + lost != counted!)"))' \
		"$rate" "$((c1 - c0))" "$sent" "$took" "$mev" "$mlost" "$((m1 - m0))" \
		"$uev" "$((u1 - u0))" "$TCK"
	[ -s "$W/mon.err" ] && sed 's/^/# monitor: /' "$W/mon.err"
done
echo "# events: JSON lines written; lost: what monitor reported lost (ulogd: counted - written)"
echo "# $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
