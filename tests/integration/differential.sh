#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Differential test: random policies (fixed seeds) and random packets;
# `portwarden explain` must agree with what the kernel does with the
# applied policy, packet for packet. Zero disagreements expected.
# DIFF_SEEDS="1 2 3" / DIFF_PROBES=60 override the seed list / probes each.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours

# Observers, tables of our own. Here, after portwarden's chains: the source
# port of every TCP/UDP packet that got through the input chain from the
# veth or from lo, or through the output chain to lo; the identifier of
# every echo request that got through. In the peer (before anything): the
# same for what reached it (so got through our output chain), and the
# resets and port-unreachables our rejects sent back, keyed by the port of
# the probe they answer.
observer() { # HOOK PRIORITY IFNAME
	cat <<-N
	table inet pwobs {
		set seen { type inet_service; flags dynamic; size 65535; }
		set icmp4 { typeof icmp id; flags dynamic; size 65535; }
		set icmp6 { typeof icmpv6 id; flags dynamic; size 65535; }
		set lo_in { type inet_service; flags dynamic; size 65535; }
		set lo_out { type inet_service; flags dynamic; size 65535; }
		set rst { type inet_service; flags dynamic; size 65535; }
		set unreach4 { type inet_service; flags dynamic; size 65535; }
		set unreach6 { type inet_service; flags dynamic; size 65535; }
		chain obs {
			type filter hook $1 priority $2; policy accept;
			iifname "$3" meta l4proto { tcp, udp } add @seen { th sport }
			iifname "$3" icmp type echo-request add @icmp4 { icmp id }
			iifname "$3" icmpv6 type echo-request add @icmp6 { icmpv6 id }
			iifname "lo" meta l4proto { tcp, udp } add @lo_in { th sport }
			# answers to rejected packets: a reset to the probe's port,
			# or port unreachable quoting it (inner IPv4/IPv6 + ports)
			iifname "$3" tcp flags rst add @rst { tcp dport }
			iifname "$3" icmp type destination-unreachable add @unreach4 { @th,224,16 }
			iifname "$3" icmpv6 type destination-unreachable add @unreach6 { @th,384,16 }
		}
		chain obs_out {
			type filter hook output priority $2; policy accept;
			oifname "lo" meta l4proto { tcp, udp } add @lo_out { th sport }
		}
	}
	N
}
if ! observer input 1000 veth0 | nft -f - ||
   ! observer prerouting -400 veth1 | in_peer nft -f -; then
	not_ok "environment" "cannot install the observer tables"
	exit 1
fi

seeds=${DIFF_SEEDS:-$(seq 1 60)}
$PY "$TESTS_DIR/tools/differential.py" "$PORTWARDEN" "$WORK" \
	"$PROBE" $seeds || not_ok "differential driver" "exit $?"
# the observer table here must have survived every apply
if nft list table inet pwobs >/dev/null 2>&1; then ok "applies leave a foreign table alone"
else not_ok "applies leave a foreign table alone" "table inet pwobs is gone"; fi
exit 0
