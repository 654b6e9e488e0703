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
ROUNDS=${ROUNDS:-3}

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
	for round in \$(seq $ROUNDS); do
		for v in empty portwarden linear; do
			load \$v || { echo "\$v FAILED"; continue; }
			echo "\$v \$("$W/udpblast" $ADDR $PORT $SECONDS_PER_RUN)"
		done
	done
	# the policy really decides: a pair that no rule allows is dropped
	load portwarden && echo "miss \$("$W/udpblast" $ADDR $((PORT == 65535 ? 1024 : PORT + 1)) 0.2 2>/dev/null)"
S
out=$(in_netns bash "$W/dataplane-inner.sh")
# best (highest) of the rounds, by wall clock (column 2) and per CPU second (3)
best() { echo "$out" | awk -v v="$1" -v c="$2" '$1 == v && $c > m { m = $c } END { print m + 0 }'; }
e=$(best empty 2) p=$(best portwarden 2) l=$(best linear 2)
ec=$(best empty 3) pc=$(best portwarden 3) lc=$(best linear 3)
miss=$(echo "$out" | awk '$1 == "miss" { print $5 }')

printf '\n== data plane (issue 3): UDP packets/s through the output hook, best of %s runs of %s s\n' "$ROUNDS" "$SECONDS_PER_RUN"
printf '%-40s %14s %7s %16s %7s\n' "" "per wall s" ratio "per CPU s" ratio
printf '%-40s %14s %7s %16s %7s\n' "empty accepting output chain" "$e" 1.00x "$ec" 1.00x
printf '%-40s %14s %7s %16s %7s   (goal >= 0.9x)\n' "portwarden apply, 10,000 rules" "$p" "$(ratio "$p" "$e")" "$pc" "$(ratio "$pc" "$ec")"
printf '%-40s %14s %7s %16s %7s   (issue: about 0.03x)\n' "naive nft -f, 10,000 linear rules" "$l" "$(ratio "$l" "$e")" "$lc" "$(ratio "$lc" "$ec")"
printf 'sends to a pair no rule allows, refused by the policy: %s (expect > 0)\n' "${miss:-?}"
if echo "$out" | grep -q FAILED || [ "$e" = 0 ] || [ "$p" = 0 ]; then
	echo "$out"
	exit 1
fi
exit 0
