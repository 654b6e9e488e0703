#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The rollback record remembers the ruleset generation its apply committed:
# while nothing else has committed, rollback trusts the record instead of
# dumping the table back (a dump of a big interval set costs the kernel
# far more than the apply). Any other commit, even one undone since, makes
# rollback read the table again and compare, as before.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns
command -v strace >/dev/null || { not_ok "environment" "needs strace"; exit 1; }

T=pwfast
WORK=$(mktemp -d /run/pwfast.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
umask 022

printf 'portwarden: 1\ntable: %s\ninbound:\n  - { name: ssh, proto: tcp, port: 22 }\n' \
	"$T" > "$WORK/p1.yaml"
# 4,000 /24s in one set (compiled into the hash set block_v4_p24 of their
# network addresses): a dump of it takes many replies
{
	printf 'portwarden: 1\ntable: %s\nsets:\n  block:\n' "$T"
	for ((i = 0; i < 4000; i++)); do
		printf '    - 10.%d.%d.0/24\n' $((i / 250)) $((i % 250))
	done
	printf 'inbound:\n  - { name: block, from: $block, action: drop }\n'
} > "$WORK/p2.yaml"

live() { nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > "$WORK/out" 2>&1; }
# bytes of the replies read by a portwarden rollback (dumps, acks): an
# incremental rollback reads the rules back (handles, counters) but not
# the 4,000 elements when the record vouches for them. The sanitizers'
# leak check cannot run under ptrace, the other runs do it
rollback_recvs() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=recvmsg -o "$WORK/trace" \
		"$PORTWARDEN" rollback > "$WORK/out" 2>&1
	echo $? > "$WORK/rc"; [ "$(cat "$WORK/rc")" = 0 ] || cat "$WORK/out" >&2
	awk '/recvmsg/ && $NF ~ /^[0-9]+$/ { s += $NF } END { print s + 0 }' "$WORK/trace"
}

pw apply "$WORK/p1.yaml"
L1=$(live)
pw apply "$WORK/p2.yaml"
L2=$(live)
check "p2 has the big set" grep -qw "10.15.249.0" <<< "$L2"
check "the record names the committed generation" \
	grep -q "^kernel-generation [1-9]" /run/portwarden/net-*/state
n=$(rollback_recvs)
check_eq "rollback with nothing committed since exits 0" 0 "$(cat "$WORK/rc")"
check_eq "it restored p1" "$L1" "$(live)"
check "it did not dump the elements back (bytes read: $n)" test "$n" -lt 32768

# a foreign commit undone again: the table is p2, but the generation moved,
# so rollback must read it (many replies) and then restore p1
pw apply "$WORK/p2.yaml"
nft add chain inet $T extra
nft delete chain inet $T extra
n=$(rollback_recvs)
check_eq "rollback after a foreign commit and its undo exits 0" 0 "$(cat "$WORK/rc")"
check_eq "it restored p1 after comparing" "$L1" "$(live)"
check "it read the elements back (bytes read: $n)" test "$n" -ge 65536

# a foreign change that stays: refused as before
pw apply "$WORK/p2.yaml"
nft add element inet $T block_v4_p24 '{ 192.0.2.0 }'
changed=$(live)
rc=0; pw rollback || rc=$?
check_eq "rollback over a foreign element exits 3" 3 "$rc"
check "the refusal says why" grep -q "changed since" "$WORK/out"
check_eq "the table was left alone" "$changed" "$(live)"

# after a rollback the record no longer claims the live table
nft delete element inet $T block_v4_p24 '{ 192.0.2.0 }'
pw rollback
check_eq "rollback after undoing the change restores p1" "$L1" "$(live)"
check "a rolled-back record has no kernel generation" \
	bash -c "! grep -q '^kernel-generation' /run/portwarden/net-*/state"

# the record before an apply stays in place while it runs (the new one is
# written ahead beside it) and is byte for byte the same when the kernel
# refuses the transaction; nothing is left over
printf 'portwarden: 1\ntable: %s\noutbound:\n  - { name: cg, cgroup: no/such/group.slice, proto: tcp, port: 443 }\n' \
	"$T" > "$WORK/bad.yaml"
pw apply "$WORK/p2.yaml"
cp /run/portwarden/net-*/state "$WORK/state.good"
rc=0; pw apply "$WORK/bad.yaml" || rc=$?
check_eq "an apply the kernel refuses exits 3" 3 "$rc"
check "the record is the one from before, unchanged" \
	cmp -s "$WORK/state.good" /run/portwarden/net-*/state
check_eq "no copy of the old record is left" "" \
	"$(ls -A /run/portwarden/net-*/ | grep -v '^state$')"
pw apply "$WORK/p1.yaml"
check_eq "nor after a good apply" "" \
	"$(ls -A /run/portwarden/net-*/ | grep -v '^state$')"
pw rollback
check_eq "rollback undoes that apply" "$L2" "$(live)"
exit $((T_FAILED > 0))
