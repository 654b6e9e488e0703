#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets for `interface:` lists (a set of type ifname): with two veth
# pairs to two peer namespaces, traffic through a listed interface is
# accepted and the same traffic through the other interface is dropped,
# inbound (iifname) and outbound (oifname), IPv4 and IPv6, TCP and UDP.
#   here veth0 10.77.0.1 fd77::1 <-> peer  veth1 10.77.0.2 fd77::2
#   here veth2 10.78.0.1 fd78::1 <-> peer2 veth3 10.78.0.2 fd78::2
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
trap 'ip netns del peer2 2>/dev/null; net_cleanup' EXIT
in_peer2() { ip netns exec peer2 "$@"; }
if ! { ip netns add peer2 &&
	ip link add veth2 type veth peer name veth3 netns peer2 &&
	ip addr add 10.78.0.1/24 dev veth2 &&
	ip addr add fd78::1/64 dev veth2 nodad &&
	ip link set veth2 up &&
	in_peer2 ip link set lo up &&
	in_peer2 ip addr add 10.78.0.2/24 dev veth3 &&
	in_peer2 ip addr add fd78::2/64 dev veth3 nodad &&
	in_peer2 ip link set veth3 up; } >/dev/null 2>&1; then
	not_ok "environment" "cannot create the second peer namespace"
	exit 1
fi
for i in $(seq 50); do
	[ "$($PY "$PROBE" ping 10.78.0.2 -t 0.2)" = open ] &&
		[ "$($PY "$PROBE" ping fd78::2 -t 0.2)" = open ] && break
	sleep 0.1
done

serve here "$HERE4,$HERE6,10.78.0.1,fd78::1" 8085,8086
serve peer "$PEER4,$PEER6" 8087,8088
fifo="$WORK/serve2"
mkfifo "$fifo"
in_peer2 $PY "$PROBE" serve 10.78.0.2,fd78::2 8087,8088 > "$fifo" 2>&1 &
NET_PIDS+=($!)
if ! read -r -t 5 line < "$fifo" || [ "$line" != ready ]; then
	not_ok "environment" "listeners did not start in peer2: $line"
	exit 1
fi

policy ifl.yaml <<'Y'
portwarden: 1
defaults: { inbound: drop, outbound: drop }
inbound:
  - { name: web-lan, proto: tcp, port: 8085, interface: [veth0, eth9] }
  - { name: dns-lan, proto: udp, port: 8086, interface: [eth9, veth0, wg0] }
outbound:
  - { name: out-list, proto: [tcp, udp], port: 8087, interface: [wg0, veth2] }
  - { name: out-one, proto: tcp, port: 8088, interface: [veth0] }
Y
pw_apply "apply interface lists" "$WORK/ifl.yaml" || exit 1
nft list table inet portwarden | grep -q 'iifname @web_lan_iface' &&
	ok "an interface list is a set lookup" ||
	not_ok "an interface list is a set lookup" "$(nft list table inet portwarden | grep ifname)"

expect_probes 0.7 <<T
in-list-listed4      peer root tcp $HERE4 8085 open
in-list-listed6      peer root tcp $HERE6 8085 open
in-list-udp-listed   peer root udp $HERE4 8086 open
out-list-unlisted4   here root tcp $PEER4 8087 drop
out-list-unlisted6   here root udp $PEER6 8087 drop
out-one-listed       here root tcp $PEER4 8088 open
T

# the same probes through the other interface (peer2 has no helper in
# netlib.sh: run probe.py there directly)
probe2() { # NAME PROTO DST PORT EXPECT: a client in peer2
	local got
	got=$(echo "$1 $2 $3 $4 - 0" | in_peer2 $PY "$PROBE" run -t 0.7 | awk '{print $2}')
	case "$5:$got" in
	open:open|drop:timeout) ok "$1";;
	*) not_ok "$1" "peer2 $2 -> $3:$4: expected $5, got ${got:-nothing}";;
	esac
}
probe2 in-list-unlisted4 tcp 10.78.0.1 8085 drop
probe2 in-list-unlisted6 tcp fd78::1 8085 drop
probe2 in-list-udp-unlisted udp 10.78.0.1 8086 drop
out2() { # NAME PROTO DST PORT EXPECT: a client here, out through veth2
	local got
	got=$(echo "$1 $2 $3 $4 - 0" | $PY "$PROBE" run -t 0.7 | awk '{print $2}')
	case "$5:$got" in
	open:open|drop:timeout|drop:eperm) ok "$1";;
	*) not_ok "$1" "here $2 -> $3:$4: expected $5, got ${got:-nothing}";;
	esac
}
out2 out-list-listed4 tcp 10.78.0.2 8087 open
out2 out-list-listed6 udp fd78::2 8087 open
out2 out-one-unlisted tcp 10.78.0.2 8088 drop
exit $((T_FAILED > 0))
