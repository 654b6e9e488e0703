#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden monitor` never loses records silently (SPEC §9): a flood of
# refused datagrams while the monitor is stopped, over a small socket
# buffer, gives `lost` events; delivered events plus lost counts equal
# exactly what the rule's kernel counter counted. And --all-netns watches
# every namespace, each event naming its own.
# MON_FLOOD=N sets the size of the flood (default 20000).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours

N=${MON_FLOOD:-20000}
MON_PID=
mon_stop() {
	if [ -n "$MON_PID" ]; then
		kill -CONT "$MON_PID" 2>/dev/null
		kill "$MON_PID" 2>/dev/null
		wait "$MON_PID" 2>/dev/null
	fi
	MON_PID=
}
trap 'mon_stop; net_cleanup' EXIT

# bound NS-CMD...: is NFLOG group 1000 bound in that namespace?
bound() { "$@" cat /proc/net/netfilter/nfnetlink_log 2>/dev/null | grep -q '^ *1000 '; }
wait_bound() {
	local i
	for i in $(seq 600); do bound "$@" && return 0; sleep 0.05; done
	return 1
}
counter() {
	nft -j list table inet pwlost | python3 -c '
import json, sys
n = 0
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r and r.get("comment") == sys.argv[1]:
        n += sum(x["counter"]["packets"] for x in r["expr"] if "counter" in x)
print(n)' "$1"
}
# udp_from PORT N: N datagrams from the peer to this host's PORT, from
# source port SPORT (0: any)
udp_from() { # SPORT PORT N
	in_peer $PY -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
for i in range(int(sys.argv[3])):
    s.sendto(b"x", ("10.77.0.1", int(sys.argv[2])))' "$@"
}

policy lost.yaml <<Y
portwarden: 1
table: pwlost
inbound:
  - name: flood
    proto: udp
    port: 7000
    action: drop
Y
pw_apply "apply" "$WORK/lost.yaml" || exit 1

OUT="$WORK/ev.json"
"$PORTWARDEN" monitor --format json --rcvbuf 4096 --timeout 60 > "$OUT" 2> "$OUT.err" &
MON_PID=$!
wait_bound || { not_ok "monitor starts" "$(cat "$OUT.err")"; exit 1; }
kill -STOP "$MON_PID"
udp_from 0 7000 "$N"
kill -CONT "$MON_PID"
# one more, from a port of its own, after the flood: its record shows
# the gap of everything lost before it. Sent again each second until it
# shows: the kernel drops records until the monitor has emptied its queue
# (slow under a checker), and a dropped sentinel shows nothing.
for t in $(seq 30); do
	udp_from 7777 7000 1
	for i in $(seq 20); do
		grep -q '"src": "10.77.0.2:7777"' "$OUT" && break 2
		sleep 0.05
	done
done
mon_stop

read -r delivered lost nlost < <(python3 -c '
import json, sys
d = l = n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["kind"] == "lost":
        l += e["count"]; n += 1
    elif e["rule"] == "flood":
        d += 1
print(d, l, n)' "$OUT")
total=$(counter flood)
echo "# sent $N + $t, counted $total, delivered $delivered, lost $lost in $nlost events"
check "the flood overran the socket buffer (lost events)" test "$nlost" -gt 0
check "some records were delivered" test "$delivered" -gt 0
check_eq "delivered + lost = what the rule counted, exactly" "$total" "$((delivered + lost))"
check "a sentinel after the flood was delivered" \
	grep -q '"src": "10.77.0.2:7777"' "$OUT"
check_eq "monitor reported no error" "" "$(cat "$OUT.err")"

# --all-netns: a policy in the peer namespace too; an outbound refusal
# there and an inbound one here, each event naming its namespace. The
# monitor and the clients run in a pid namespace of their own, so that
# the monitor sees only these two network namespaces, never the host's.
policy peer.yaml <<Y
portwarden: 1
table: pwpeer
outbound:
  - name: peer-no-web
    proto: tcp
    port: 8080
    action: drop
Y
ip netns exec peer "$PORTWARDEN" apply -q "$WORK/peer.yaml" ||
	not_ok "apply in the peer namespace"
all_netns() {
	local pid i
	"$PORTWARDEN" monitor --all-netns --format json --timeout 30 \
		> "$WORK/all.json" 2> "$WORK/all.err" &
	pid=$!
	if wait_bound && wait_bound in_peer; then ok "--all-netns binds every namespace"
	else not_ok "--all-netns binds every namespace" "$(cat "$WORK/all.err")"; fi
	in_peer $PY "$TESTS_DIR/tools/monclient.py" tcp 10.77.0.1 8080 0.6 > "$WORK/pc" 2>&1
	udp_from 7001 7000 1
	for i in $(seq 600); do [ "$(wc -l < "$WORK/all.json")" -ge 2 ] && break; sleep 0.05; done
	kill "$pid"
	wait "$pid"
}
export PORTWARDEN WORK PY TESTS_DIR
unshare -p -f --kill-child --mount-proc bash -c \
	"$(declare -f all_netns wait_bound bound in_peer udp_from ok not_ok); all_netns"
pc=$(awk '/^pid/ { print $2 }' "$WORK/pc")
ev() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["rule"] == sys.argv[2]:
        print(e["netns"], e["pid"], e["comm"], e["dir"])' "$WORK/all.json" "$1"
}
check_eq "peer's refusal: its netns, pid and comm" "/run/netns/peer $pc pwclient out" \
	"$(ev peer-no-web)"
check "this namespace's refusal carries its own netns" \
	test -n "$(ev flood | awk '$1 != "/run/netns/peer" && $4 == "in"')"
exit $((T_FAILED > 0))
