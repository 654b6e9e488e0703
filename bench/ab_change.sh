#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A steadier A/B of one small change than bench/apply_change.sh on a busy
# machine: ROUNDS alternating rounds of two portwarden builds, each round
# a fresh namespace where FIRST is applied (not timed) and then SECOND
# (timed); prints the median and best wall time and the median CPU
# (user + system) of each build.
# Usage: bench/ab_change.sh OLD/portwarden NEW/portwarden FIRST SECOND [ROUNDS]
# e.g. FIRST=cidrs.yaml SECOND=cidrs-one.yaml from bench/apply_change.sh's
# work directory.
set -u
OLD=$1 NEW=$2 FIRST=$3 SECOND=$4 ROUNDS=${5:-8}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
out=$(mktemp)
trap 'rm -f "$out" "$out".t' EXIT
for i in $(seq "$ROUNDS"); do
	for v in old new; do
		pw=$OLD; [ $v = new ] && pw=$NEW
		unshare -m -n -- bash -c 'mount -t tmpfs tmpfs /run && ip link set lo up &&
			"$1" apply -q --force "$2" >/dev/null 2>&1 &&
			/usr/bin/time -f "%e %U %S" -o "$4" "$1" apply -q --force "$3" >/dev/null 2>&1' \
			_ "$pw" "$FIRST" "$SECOND" "$out.t" || { echo "bench: $v failed" >&2; exit 1; }
		echo "$v $(cat "$out.t")" >> "$out"
	done
done
med() { sort -n | awk '{ v[NR] = $1 } END { printf "median %.2f s, best %.2f s", v[int((NR + 1) / 2)], v[1] }'; }
for v in old new; do
	printf '%s: wall %s; CPU user+sys %s (%s rounds)\n' "$v" \
		"$(awk -v v=$v '$1 == v { print $2 }' "$out" | med)" \
		"$(awk -v v=$v '$1 == v { print $3 + $4 }' "$out" | med)" "$ROUNDS"
done
