#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 3, data plane: a policy of 10,000 distinct (address, UDP port)
# outbound rules. UDP packets per second through the output hook (one
# sender thread, to the pair of the LAST rule, routed to a sink device)
# with portwarden's applied policy, with an output chain that accepts
# everything and has no rules, and with the naive translation (10,000
# linear rules loaded by nft -f). All in one throwaway namespace.
# Usage: bench/dataplane.sh PATH/TO/portwarden   (SECONDS=2 per run)
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}

cc -O2 -Wall -Wextra -o "$W/udpblast" "$BENCH_DIR/udpblast.c" || exit 1
read -r ADDR PORT < "$W/target"

cat > "$W/dataplane-inner.sh" <<-S
	set -u
	# a sink: a veth whose peer end stays down drops what it is given
	# (counted as TX dropped) after the output hook (no dummy module here)
	ip link add pwb0 type veth peer name pwb1 && ip link set pwb0 up &&
	ip addr add 10.99.0.1/24 dev pwb0 &&
	ip neigh replace 10.99.0.2 lladdr 02:00:00:00:00:02 nud permanent dev pwb0 &&
	ip route add 198.18.0.0/15 via 10.99.0.2 dev pwb0 || exit 1
	load() {
		nft delete table inet portwarden 2>/dev/null
		case \$1 in
		empty)      nft -f "$W/empty.nft";;
		portwarden) "$PW" apply "$W/rules.yaml" >/dev/null;;
		linear)     nft -f "$W/rules-linear.nft";;
		esac
	}
	for round in 1 2; do
		for v in empty portwarden linear; do
			load \$v || { echo "\$v FAILED"; continue; }
			echo "\$v \$("$W/udpblast" $ADDR $PORT $SECONDS_PER_RUN)"
		done
	done
	# the policy really decides: a pair that no rule allows is dropped
	load portwarden && echo "miss \$("$W/udpblast" $ADDR $((PORT == 65535 ? 1024 : PORT + 1)) 0.2 2>/dev/null)"
S
out=$(in_netns bash "$W/dataplane-inner.sh")
best() { echo "$out" | awk -v v="$1" '$1 == v && $2 > m { m = $2 } END { print m + 0 }'; }
e=$(best empty) p=$(best portwarden) l=$(best linear)
miss=$(echo "$out" | awk '$1 == "miss" { print $4 }')

printf '\n== data plane (issue 3): UDP packets/s through the output hook, best of 2 runs of %s s\n' "$SECONDS_PER_RUN"
printf '%-46s %12s   %s\n' "empty accepting output chain" "$e pps" "1.00x"
printf '%-46s %12s   %-7s (goal >= 0.9x)\n' "portwarden apply, 10,000 rules" "$p pps" "$(ratio "$p" "$e")"
printf '%-46s %12s   %-7s (issue: about 0.03x)\n' "naive nft -f, 10,000 linear rules" "$l pps" "$(ratio "$l" "$e")"
printf 'sends to a pair no rule allows, refused by the policy: %s (expect > 0)\n' "${miss:-?}"
if echo "$out" | grep -q FAILED || [ "$e" = 0 ] || [ "$p" = 0 ]; then
	echo "$out"
	exit 1
fi
exit 0
