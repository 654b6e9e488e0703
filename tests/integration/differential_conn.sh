#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Connection-level differential test (tests/tools/conn_diff.py): random
# policies beside random foreign tables (ip, ip6, inet; before and after
# portwarden's chains and conntrack), real TCP and UDP connections in both
# directions, to this host's own address and to loopback, as root and
# nobody; `portwarden explain` must say accept exactly when the connection
# completes. Then iptables-nft rules as Docker's users write them: right,
# or undetermined where an xt match is reached. Zero disagreements.
# CONN_SEEDS="1 2 3" overrides the seed list.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours
ports=22,53,80,443,8000,8001,8002,8003,9000,9999
serve peer 10.77.0.2,10.77.0.3,10.77.0.4,fd77::2,fd77::3,fd77::4 $ports
serve here 10.77.0.1,10.77.0.11,fd77::1,fd77::11,127.0.0.1,::1 $ports

seeds=${CONN_SEEDS:-$(seq 1 40)}
$PY "$TESTS_DIR/tools/conn_diff.py" "$PORTWARDEN" "$WORK" "$PROBE" $seeds ||
	not_ok "connection differential driver" "exit $?"

# iptables-nft: a clean slate of foreign tables first
nft flush ruleset
if command -v iptables >/dev/null && iptables -V 2>/dev/null | grep -q nf_tables; then
	$PY "$TESTS_DIR/tools/conn_diff.py" --iptables "$PORTWARDEN" "$WORK" "$PROBE" ||
		not_ok "iptables-nft driver" "exit $?"
else
	not_ok "iptables-nft" "iptables (nf_tables backend) is not installed"
fi
