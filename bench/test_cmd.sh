#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13: `portwarden test` with 1,000 tests (goal: at most 0.2 s), on a
# policy of 200 rules (100 a direction: addresses, ports, users, sets),
# beside `check` of the same policy without its tests (what the tests
# add) and `check` with them (check runs them too). No kernel, no root.
# Usage: bench/test_cmd.sh PATH/TO/portwarden   (REPEAT=N, TESTS=N)
set -u
PW=${1:?usage: bench/test_cmd.sh PATH/TO/portwarden}
REPEAT=${REPEAT:-5}
N=${TESTS:-1000}
W=$(mktemp -d /tmp/pwbench-test.XXXXXX)
trap 'rm -rf "$W"' EXIT

gen() { # FILE WITH_TESTS
	{
		echo "portwarden: 1"
		echo "defaults: { inbound: drop, outbound: reject }"
		echo "sets:"
		echo "  mgmt: [10.20.0.0/16, 192.168.100.0/24, \"2001:db8:100::/48\"]"
		echo "inbound:"
		for i in $(seq 0 99); do
			echo "  - { name: in$i, proto: tcp, port: $((1000 + i)), from: [10.$((i % 250)).0.0/16, \$mgmt] }"
		done
		echo "outbound:"
		for i in $(seq 0 99); do
			if [ $((i % 3)) = 0 ]; then
				echo "  - { name: out$i, proto: udp, port: $((2000 + i)), to: 198.18.$i.0/24, user: root }"
			else
				echo "  - { name: out$i, proto: tcp, port: $((2000 + i)), to: 198.18.$i.0/24, action: $([ $((i % 5)) = 0 ] && echo drop || echo accept) }"
			fi
		done
		[ "$2" = yes ] || return 0
		echo "tests:"
		for t in $(seq 0 $((N - 1))); do
			i=$((t % 100))
			case $((t % 4)) in
			0) echo "  - { packet: \"in tcp 192.0.2.1:$((1000 + i)) --from 10.$((i % 250)).3.4\", expect: accept, rule: in$i }" ;;
			1) echo "  - { packet: \"in tcp 192.0.2.1:$((1000 + i)) --from 172.16.3.4\", expect: drop, rule: default }" ;;
			2) if [ $((i % 3)) = 0 ]; then
				echo "  - { packet: \"out udp 198.18.$i.9:$((2000 + i)) --user root\", expect: accept, rule: out$i }"
			   else
				echo "  - { packet: \"out tcp 198.18.$i.9:$((2000 + i))\", expect: $([ $((i % 5)) = 0 ] && echo drop || echo accept), rule: out$i }"
			   fi ;;
			3) echo "  - { packet: \"out tcp [2001:db8::$i]:$((2000 + i))\", expect: reject }" ;;
			esac
		done
	} > "$1"
	chmod 0600 "$1"
}
gen "$W/with.yaml" yes
gen "$W/without.yaml" no
"$PW" test -q "$W/with.yaml" | tail -1 | grep -q "^$N tests: $N passed" ||
	{ echo "bench: the generated tests do not all pass" >&2; "$PW" test -q "$W/with.yaml" | head >&2; exit 1; }

best() { # CMD...: best wall time and peak RSS of REPEAT runs
	local i t m bt= bm=0
	for i in $(seq "$REPEAT"); do
		/usr/bin/time -f "%e %M" -o "$W/time" "$@" >/dev/null 2>&1
		read -r t m < "$W/time"
		if [ -z "$bt" ] || awk -v a="$t" -v b="$bt" 'BEGIN { exit !(a < b) }'; then bt=$t; fi
		[ "$m" -gt "$bm" ] && bm=$m
	done
	printf '%6s s %8.1f MB' "$bt" "$(awk -v k="$bm" 'BEGIN { print k / 1024 }')"
}
echo "== portwarden test with $N tests, 200 rules (best of $REPEAT; goal <= 0.2 s)"
printf '%-44s %s\n' "test ($N tests):" "$(best "$PW" test "$W/with.yaml")"
printf '%-44s %s\n' "test --format junit ($N tests):" "$(best "$PW" test --format junit "$W/with.yaml")"
printf '%-44s %s\n' "check, with the $N tests:" "$(best "$PW" check "$W/with.yaml")"
printf '%-44s %s\n' "check, the same policy without tests:" "$(best "$PW" check "$W/without.yaml")"
