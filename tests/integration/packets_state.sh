#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets: `established: false`, `loopback: false`, and `icmp`
# (IPv6 neighbour discovery must survive `outbound: drop`).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here "$HERE4,$HERE6,127.0.0.1,::1" 8080,8081
serve peer "$PEER4,$PEER6" 8080,8081

# expect_ping NAME WHERE ADDR open|drop
expect_ping() {
	local got
	got=$(run_as "$2" root $PY "$PROBE" ping "$3" -t 0.7)
	case "$4:$got" in
	open:open|drop:timeout|drop:eperm) ok "$1";;
	*) not_ok "$1" "ping from $2 to $3: expected $4, got $got";;
	esac
}
flush_neigh() {
	ip neigh flush dev veth0
	in_peer ip neigh flush dev veth1
}

state_policy() { # FILE ESTABLISHED
	policy "$1" <<-Y
	portwarden: 1
	table: portwarden
	defaults: { inbound: drop, outbound: drop }
	established: $2
	inbound:
	  - { name: web-in, proto: tcp, port: 8080 }
	  - { name: dns-in, proto: udp, port: 8080 }
	outbound:
	  - { name: web-out, proto: tcp, port: 8081 }
	  - { name: dns-out, proto: udp, port: 8081 }
	Y
}
# With established/related accepted, the answers come back...
state_policy est.yaml true
pw_apply "apply established: true" "$WORK/est.yaml" &&
expect_probes 0.7 <<T
est-in-tcp4    peer root tcp $HERE4 8080 open
est-in-udp6    peer root udp $HERE6 8080 open
est-out-tcp6   here root tcp $PEER6 8081 open
est-out-udp4   here root udp $PEER4 8081 open
est-out-other  here root tcp $PEER4 8080 drop
T
# ...and without it, the replies meet the other direction's default.
state_policy noest.yaml false
pw_apply "apply established: false" "$WORK/noest.yaml" &&
expect_probes 0.7 <<T
noest-in-tcp4  peer root tcp $HERE4 8080 drop
noest-in-udp6  peer root udp $HERE6 8080 drop
noest-out-tcp6 here root tcp $PEER6 8081 drop
noest-out-udp4 here root udp $PEER4 8081 drop
T

# loopback: true accepts everything on lo; false leaves lo to the rules.
lo_policy() { # FILE LOOPBACK
	policy "$1" <<-Y
	portwarden: 1
	table: portwarden
	defaults: { inbound: drop, outbound: accept }
	loopback: $2
	inbound:
	  - { name: lo-web, proto: tcp, port: 8081, to: [127.0.0.1, "::1"] }
	Y
}
lo_policy lo.yaml true
pw_apply "apply loopback: true" "$WORK/lo.yaml" &&
expect_probes 0.7 <<T
lo-on-tcp4       here root tcp 127.0.0.1 8080 open
lo-on-udp6       here root udp ::1       8080 open
lo-on-rule       here root tcp ::1       8081 open
lo-on-veth-drop  peer root tcp $HERE4    8080 drop
T
lo_policy nolo.yaml false
pw_apply "apply loopback: false" "$WORK/nolo.yaml" &&
expect_probes 0.7 <<T
nolo-tcp4        here root tcp 127.0.0.1 8080 drop
nolo-udp6        here root udp ::1       8080 drop
nolo-rule-tcp4   here root tcp 127.0.0.1 8081 open
nolo-rule-tcp6   here root tcp ::1       8081 open
T

# icmp: essential keeps ping and IPv6 neighbour discovery working under
# drop defaults; none leaves ICMP to the defaults.
icmp_policy() { # FILE MODE IN OUT
	policy "$1" <<-Y
	portwarden: 1
	table: portwarden
	defaults: { inbound: $3, outbound: $4 }
	icmp: $2
	outbound:
	  - { name: web-out, proto: tcp, port: 8081 }
	Y
}
icmp_policy ess.yaml essential drop drop
if pw_apply "apply icmp: essential, drop both ways" "$WORK/ess.yaml"; then
	flush_neigh
	expect_ping "essential: ping6 the peer after a neighbour flush" here $PEER6 open
	flush_neigh
	expect_ping "essential: the peer pings us over IPv6" peer $HERE6 open
	expect_ping "essential: ping the peer over IPv4" here $PEER4 open
	flush_neigh
	expect_probes 0.7 <<-T
	ess-nd-then-tcp6 here root tcp $PEER6 8081 open
	ess-nd-other     here root tcp $PEER6 8080 drop
	T
fi
icmp_policy all.yaml all drop drop
if pw_apply "apply icmp: all, drop both ways" "$WORK/all.yaml"; then
	flush_neigh
	expect_ping "all: ping6 the peer after a neighbour flush" here $PEER6 open
	expect_ping "all: the peer pings us over IPv4" peer $HERE4 open
fi
icmp_policy none.yaml none drop drop
if pw_apply "apply icmp: none, drop both ways" "$WORK/none.yaml"; then
	flush_neigh
	expect_ping "none: ping6 the peer is dropped" here $PEER6 drop
	expect_ping "none: ping the peer is dropped" here $PEER4 drop
	expect_ping "none: the peer cannot ping us" peer $HERE4 drop
	flush_neigh
	expect_probes 0.7 <<-T
	none-no-nd-tcp6 here root tcp $PEER6 8081 drop
	none-tcp4       here root tcp $PEER4 8081 open
	T
fi
icmp_policy none-acc.yaml none accept accept
if pw_apply "apply icmp: none, accept both ways" "$WORK/none-acc.yaml"; then
	flush_neigh
	expect_ping "none+accept: ping6 the peer works" here $PEER6 open
	expect_ping "none+accept: the peer pings us" peer $HERE6 open
fi
exit 0
