#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nft as the oracle of `portwarden compile` (root, inside the private network
# namespace tests/run.sh made): every golden .nft file and the compile output
# of every golden and example policy must pass `nft -c -f`, load with
# `nft -f` (twice: the text replaces its own table), and list back with the
# same sets and the same number of rules per chain; `portwarden apply` of
# each policy must list exactly like `nft -f` of its compile output, make
# the same bytecode, and read a table loaded by `nft -f` back as its own
# (diff equal, no drift in audit, no unknown rules in status).
# Nothing else in the namespace may change.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
cd "$TOP"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# nft resolves `socket cgroupv2` paths under /sys/fs/cgroup when it loads a
# rule. The golden policies name "init.scope"; make sure it exists without
# creating a cgroup: a tmpfs in this test's private mount namespace.
if [ ! -d /sys/fs/cgroup/init.scope ]; then
	mount -t tmpfs pwcgroup /sys/fs/cgroup && mkdir /sys/fs/cgroup/init.scope ||
		{ not_ok "environment" "cannot provide /sys/fs/cgroup/init.scope"; exit 1; }
fi

# Hostname policies (SPEC §8) queue DNS answers. A kernel built without
# nft's queue expression (CONFIG_NFT_QUEUE) cannot load `queue` from nft
# text at all; portwarden then sends the xtables NFQUEUE target, which nft
# lists as `queue num N bypass`. On such a kernel the text is checked with
# the queue statement read as `accept`, and apply's table by portwarden's
# own readers (diff, audit, status) instead of nft's bytecode.
nft add table inet pwqprobe && nft add chain inet pwqprobe c
if nft add rule inet pwqprobe c queue flags bypass to 1 2>/dev/null; then
	native_queue=true
else
	native_queue=false
	ok "oracle: this kernel has no nft queue expression; hostname policies are checked with queue read as accept"
fi
nft delete table inet pwqprobe
# queue_as_accept FILE: the text nft can load here
queue_as_accept() {
	if $native_queue; then cat "$1"; else sed 's/queue flags bypass to [0-9]*$/accept/' "$1"; fi
}
# the listing of apply's table, the xtables queue read the same way
list_norm() {
	nft -s list table inet "$1" 2>&1 | grep -v '^# Warning: table .* is managed by iptables-nft' |
		sed -e 's/libxtables: unhandled NFPROTO in xtables_set_nfproto//' |
		sed -e ':a;/ established $/{N;s/\n//;ba}' -e 's/queue num [0-9]* bypass$/accept/'
}

# An unrelated table that compile's text must never touch.
nft add table inet bystander && nft add chain inet bystander c
before_other=$(nft list table inet bystander)

sets_of()  { sed -n 's/^\tset \([A-Za-z0-9_]*\) {$/\1/p' "$1"; }
# rules per chain: "CHAIN N" lines (every line inside a chain but its type)
rules_of() {
	awk '/^\tchain /{c=$2; n[c]=0; order[++k]=c; inc=1; next}
	     /^\t}/{inc=0; next}
	     inc && !/^\t\ttype / && NF {n[c]++}
	     END{for(i=1;i<=k;i++) print order[i], n[order[i]]}' "$1"
}

oracle() { # NAME FILE
	local name=$1 f=$2 table listed
	queue_as_accept "$f" > "$work/oracle.in"; f="$work/oracle.in"
	table=$(sed -n '1s/^table inet \([A-Za-z0-9_]*\)$/\1/p' "$f")
	if [ -z "$table" ]; then not_ok "$name" "no 'table inet T' first line"; return; fi
	if ! nft -c -f "$f" > "$work/err" 2>&1; then
		not_ok "$name" "nft -c: $(head -3 "$work/err" | tr '\n' ' ')"; return
	fi
	if ! nft -f "$f" > "$work/err" 2>&1 || ! nft -f "$f" > "$work/err" 2>&1; then
		not_ok "$name" "nft -f: $(head -3 "$work/err" | tr '\n' ' ')"; return
	fi
	listed="$work/listed"
	if ! nft -s list table inet "$table" > "$listed" 2> "$work/err"; then
		not_ok "$name" "nft list: $(head -3 "$work/err")"; return
	fi
	if [ "$(sets_of "$f")" != "$(sets_of "$listed")" ]; then
		not_ok "$name" "sets differ: [$(sets_of "$f" | tr '\n' ' ')] vs [$(sets_of "$listed" | tr '\n' ' ')]"
	elif [ "$(rules_of "$f")" != "$(rules_of "$listed")" ]; then
		not_ok "$name" "rule counts differ: [$(rules_of "$f" | tr '\n' ' ')] vs [$(rules_of "$listed" | tr '\n' ' ')]"
	else
		ok "$name"
	fi
	nft delete table inet "$table"
}

# The kernel's bytecode of table T, rules as nft prints them and set
# elements sorted (a hash set lists its elements in hash order, which
# differs from load to load).
bytecode() { nft --debug=netlink list table inet "$1" 2>&1 | sort; }

# SPEC §2: the table `nft -f` makes of compile's text is the one apply
# makes, to the byte, and portwarden reads it back as its own: `diff`
# equal, `audit` without ruleset-drift, `status` without unknown rules.
fidelity() { # NAME POLICY COMPILED TABLE
	local name=$1 y=$2 out=$3 t=$4 why=""
	if ! $native_queue && grep -q 'queue flags bypass' "$out"; then
		fidelity_xt "$@"; return
	fi
	nft -f "$out" 2> "$work/err" || { not_ok "$name" "nft -f: $(head -2 "$work/err" | tr '\n' ' ')"; return; }
	bytecode "$t" > "$work/bc.nft"
	"$PORTWARDEN" diff "$y" > "$work/diff.out" 2>&1 ||
		why="diff: $(grep -v '^table' "$work/diff.out" | head -3 | tr '\n' '|')"
	"$PORTWARDEN" audit "$y" > "$work/audit.out" 2>&1
	if grep -q 'ruleset-drift\|drift not checked' "$work/audit.out"; then
		why="$why audit: $(grep 'drift' "$work/audit.out" | head -2 | tr '\n' '|')"
	fi
	if ! "$PORTWARDEN" status --table "$t" > "$work/status.out" 2>&1; then
		why="$why status failed: $(head -2 "$work/status.out" | tr '\n' ' ')"
	elif grep -q 'unknown' "$work/status.out"; then
		why="$why status: $(grep unknown "$work/status.out" | head -2 | tr '\n' '|')"
	fi
	nft delete table inet "$t"
	if ! "$PORTWARDEN" apply "$y" > "$work/err" 2>&1; then
		not_ok "$name" "apply: $(head -2 "$work/err" | tr '\n' ' ')"; return
	fi
	bytecode "$t" > "$work/bc.pw"
	nft delete table inet "$t"
	if ! diff -u "$work/bc.nft" "$work/bc.pw" > "$work/bc.diff"; then
		why="$why bytecode: $(grep '^[-+] ' "$work/bc.diff" | head -4 | tr '\n' '|')"
	fi
	if [ -z "$why" ]; then ok "$name"; else not_ok "$name" "$why"; fi
}

# Without nft's queue: apply's own table, read back by portwarden.
fidelity_xt() { # NAME POLICY COMPILED TABLE
	local name=$1 y=$2 t=$4 why=""
	if ! "$PORTWARDEN" apply "$y" > "$work/err" 2>&1; then
		not_ok "$name" "apply: $(head -2 "$work/err" | tr '\n' ' ')"; return
	fi
	"$PORTWARDEN" diff "$y" > "$work/diff.out" 2>&1 ||
		why="diff: $(grep -v '^table' "$work/diff.out" | head -3 | tr '\n' '|')"
	"$PORTWARDEN" audit "$y" > "$work/audit.out" 2>&1
	grep -q 'ruleset-drift\|drift not checked' "$work/audit.out" &&
		why="$why audit: $(grep 'drift' "$work/audit.out" | head -2 | tr '\n' '|')"
	"$PORTWARDEN" status --table "$t" > "$work/status.out" 2>&1 &&
		! grep -q unknown "$work/status.out" || why="$why status: $(grep unknown "$work/status.out" | head -2)"
	nft delete table inet "$t"
	if [ -z "$why" ]; then ok "$name (xtables queue)"; else not_ok "$name" "$why"; fi
}

n=0 folded=0
for f in tests/golden/*.nft; do
	oracle "oracle $(basename "$f")" "$f"
	n=$((n + 1))
done
for y in tests/golden/*.yaml policies/*.yaml; do
	out="$work/$(basename "$y" .yaml).nft"
	if ! "$PORTWARDEN" compile "$y" > "$out" 2> "$work/err"; then
		not_ok "oracle compile $y" "exit $?: $(head -2 "$work/err" | tr '\n' ' ')"
		continue
	fi
	oracle "oracle compile $y" "$out"
	n=$((n + 1))
	# SPEC: compile's text and apply make the same table (nft list)
	t=$(sed -n '1s/^table inet //p' "$out")
	if ! "$PORTWARDEN" apply "$y" > "$work/err" 2>&1; then
		not_ok "oracle apply = compile $y" "apply: $(head -2 "$work/err" | tr '\n' ' ')"
		continue
	fi
	list_norm "$t" > "$work/applied"
	nft delete table inet "$t"
	queue_as_accept "$out" > "$work/loadable"
	nft -f "$work/loadable" && nft -s list table inet "$t" > "$work/loaded" 2>&1
	nft delete table inet "$t"
	if diff -u "$work/loaded" "$work/applied" > "$work/diff"; then
		ok "oracle apply = compile $y"
	else
		not_ok "oracle apply = compile $y" "$(head -12 "$work/diff" | tr '\n' '|')"
	fi
	fidelity "oracle nft -f of compile is apply's table $y" "$y" "$out" "$t"
	grep -q '_fold[0-9]*_v[46] {$' "$out" && folded=$((folded + 1))
done
[ "$folded" -ge 4 ] && ok "oracle fidelity covered $folded folded policies" ||
	not_ok "oracle fidelity coverage" "only $folded folded policies"
[ "$n" -ge 12 ] && ok "oracle covered $n rulesets" || not_ok "oracle coverage" "only $n rulesets"

# Scale: 10,000 rules fold into one lookup that nft loads.
big="$work/big.yaml"
{
	printf 'portwarden: 1\ntable: pw_big\ndefaults:\n  outbound: drop\noutbound:\n'
	for i in $(seq 0 9999); do
		printf '  - name: r%d\n    proto: tcp\n    port: %d\n    to: 10.%d.%d.%d\n' \
			"$i" $((1024 + i % 20000)) $((i / 65536)) $((i / 256 % 256)) $((i % 256))
	done
} > "$big"
if "$PORTWARDEN" compile "$big" > "$work/big.nft" 2> "$work/err"; then
	rules=$(rules_of "$work/big.nft" | awk '$1=="output"{print $2}')
	check_eq "oracle 10000 rules fold into one output rule (+4 built-in, +1 default)" 6 "$rules"
	oracle "oracle 10000 folded rules load" "$work/big.nft"
	fidelity "oracle 10000 folded rules: nft -f of compile is apply's table" \
		"$big" "$work/big.nft" pw_big
else
	not_ok "oracle compile 10000 rules" "$(head -2 "$work/err")"
fi

check_eq "oracle leaves other tables alone" "$before_other" "$(nft list table inet bystander)"
exit 0
