#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, data plane: what a staged policy costs. UDP packets per CPU
# second through the output hook with the enforced policy alone and with a
# staged policy beside it, in the same run, for two kinds of traffic:
#   new:          an unreplied flow, so that every packet is ct state new
#                 and runs the whole staged table (the worst case: real
#                 connections have one new packet, then established ones)
#   established:  the peer sent first, so every packet of the flow is
#                 established (the staged table's first rule ends it)
# Enforced: bench/gen.py's rules.yaml (10,000 distinct outbound (address,
# UDP port) rules) with `established: true`. Staged, two ways:
#   shared:   the same rules with `outbound: reject` (a staged policy is
#             usually a change of the enforced one: the rules both start
#             with are decided once, in the staged table's copy)
#   disjoint: one extra rule first (`tcp port 9 drop`), so that no policy
#             rule is shared and every new packet runs both policies in
#             the staged table (the worst case)
# Nothing differs for the flow measured: no records, only the cost. The
# target is the pair of the LAST rule. The peer namespace drops what it
# receives at prerouting.
# Usage: bench/stage_dataplane.sh PATH/TO/portwarden   (SECONDS_PER_RUN=2, ROUNDS=3)
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK
SECONDS_PER_RUN=${SECONDS_PER_RUN:-2}
ROUNDS=${ROUNDS:-3}

cc -O2 -Wall -Wextra -o "$W/udpblast" "$BENCH_DIR/udpblast.c" || exit 1
read -r ADDR PORT < "$W/target"
sed 's/^established: false$/established: true/' "$W/rules.yaml" > "$W/stage-enforced.yaml"
sed 's/outbound: drop/outbound: reject/' "$W/stage-enforced.yaml" > "$W/stage-shared.yaml"
sed 's/^outbound:$/outbound:\n  - { name: first, proto: tcp, port: 9, action: drop }/' \
	"$W/stage-enforced.yaml" > "$W/stage-disjoint.yaml"
chmod 644 "$W"/stage-*.yaml

cat > "$W/stage-inner.sh" <<-S
	set -u
	ip netns add pwbpeer || exit 1
	trap 'ip netns del pwbpeer 2>/dev/null' EXIT
	ip link add pwb0 type veth peer name pwb1 netns pwbpeer && ip link set pwb0 up &&
	ip addr add 10.99.0.1/24 dev pwb0 &&
	ip route add 198.18.0.0/15 via 10.99.0.2 dev pwb0 &&
	ip netns exec pwbpeer ip link set lo up &&
	ip netns exec pwbpeer ip addr add 10.99.0.2/24 dev pwb1 &&
	ip netns exec pwbpeer ip addr add $ADDR/32 dev pwb1 &&
	ip netns exec pwbpeer ip link set pwb1 up &&
	ip netns exec pwbpeer nft add table inet sink &&
	ip netns exec pwbpeer nft add chain inet sink pre '{ type filter hook prerouting priority -400; policy drop; }' || exit 1
	for i in \$(seq 50); do ping -c1 -W0.2 10.99.0.2 >/dev/null 2>&1 && break; done
	"$PW" apply -q "$W/stage-enforced.yaml" || exit 1
	sport=40000
	blast() { # new|established SPORT (a flow of its own each time)
		local sport=\$2
		if [ "\$1" = established ]; then
			# the peer opens the flow: ours are its replies
			ip netns exec pwbpeer python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
s.bind((sys.argv[1],int(sys.argv[2]))); s.sendto(b"x",("10.99.0.1",int(sys.argv[3])))' $ADDR $PORT \$sport
			sleep 0.05
		fi
		"$W/udpblast" $ADDR $PORT $SECONDS_PER_RUN \$sport
	}
	for round in \$(seq $ROUNDS); do
		for t in new established; do
			"$PW" unstage -q
			sport=\$((sport + 1))
			echo "alone-\$t \$(blast \$t \$sport)"
			for v in shared disjoint; do
				"$PW" apply -q --stage "$W/stage-\$v.yaml" || echo "stage FAILED"
				sport=\$((sport + 1))
				echo "\$v-\$t \$(blast \$t \$sport)"
				# the staged policy was live: its rules count new packets
				echo "counted-\$v-\$t \$("$PW" status --format json | python3 -c 'import json,sys
d=json.load(sys.stdin); print(sum(r["packets"] for r in d["staged"]["rules"]))')"
			done
		done
	done
S
out=$(in_netns bash "$W/stage-inner.sh")
[ -n "${STAGE_BENCH_DEBUG:-}" ] && echo "$out" >&2
best() { echo "$out" | awk -v v="$1" -v c="$2" '$1 == v && $c > m { m = $c } END { print m + 0 }'; }

printf '\n== staged policy, data plane (issue 11): UDP packets through the output hook, best of %s runs of %s s\n' "$ROUNDS" "$SECONDS_PER_RUN"
printf '%-46s %14s %16s %7s\n' "" "per wall s" "per CPU s" ratio
for t in new established; do
	a=$(best alone-$t 3)
	printf '%-46s %14s %16s %7s\n' "$t: enforced policy alone" "$(best alone-$t 2)" "$a" 1.00x
	for v in shared disjoint; do
		s=$(best $v-$t 3)
		printf '%-46s %14s %16s %7s   (goal >= 0.9x)\n' "$t: + staged policy, $v rules" "$(best $v-$t 2)" "$s" "$(ratio "$s" "$a")"
	done
done
last() { echo "$out" | awk -v k="$1" '$1 == k { v = $2 } END { print v }'; }
printf 'packets the staged rules counted (last round): new %s / %s, established %s / %s (expect: about all sent, 1)\n' \
	"$(last counted-shared-new)" "$(last counted-disjoint-new)" \
	"$(last counted-shared-established)" "$(last counted-disjoint-established)"
if echo "$out" | grep -q FAILED || [ "$(best alone-new 3)" = 0 ]; then
	echo "$out"
	exit 1
fi
exit 0
