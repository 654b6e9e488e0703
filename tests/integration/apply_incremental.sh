#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Incremental apply against the kernel (SPEC §7): sequences of random
# policy mutations (tests/tools/mutate.py: add, remove or move a rule; add
# or remove an element; change a port, a verdict or a default) applied one
# after the other in this namespace. After each step, `nft -s list table`
# must equal a fresh apply of the same policy in another namespace, and
# the apply must have changed the table in place (no fallback to
# recreating it, counters kept) unless the plan said it must recreate it.
# Starts: random small policies, a large CIDR blocklist (BIG, default
# 110,000 IPv4 + 11,000 IPv6) and a folded policy of FOLD (10,000) rules.
# Seeded: SEED=N replays a run.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
W=$(mktemp -d /run/pwinc.XXXXXX)
trap 'ip netns del pwfresh 2>/dev/null; rm -rf "$W"' EXIT
SEED=${SEED:-$RANDOM}
SMALL=${SMALL:-5} SMALL_STEPS=${SMALL_STEPS:-30}
BIG=${BIG:-110000} BIG_STEPS=${BIG_STEPS:-6}
FOLD=${FOLD:-10000} FOLD_STEPS=${FOLD_STEPS:-30}
T=pwinc
ip netns add pwfresh || { not_ok "environment" "cannot add a namespace"; exit 1; }
steps=0

# `nft -s list table` with the set blocks in name order and each set's
# elements sorted: the kernel lists sets in the order they were created
# (an incremental apply creates a new set after the ones that stay), and
# the elements of a concatenated set in the order they were inserted
listing() { # [ip netns exec NS]
	"$@" nft -s list table inet $T | python3 -c '
import re, sys
text = sys.stdin.read()
def elems(m):
    v = sorted(e.strip() for e in m.group(1).split(","))
    return "elements = {\n" + "\n".join(v) + " }"
text = re.sub(r"elements = \{([^}]*)\}", elems, text)
lines = text.split("\n")
head, blocks, cur = [], [], None
for l in lines:
    if cur is None and re.match(r"^\t(set|chain) ", l):
        cur = [l]
    elif cur is not None:
        cur.append(l)
        if l == "\t}":
            blocks.append(cur); cur = None
    else:
        head.append(l)
sets = sorted((b for b in blocks if b[0].startswith("\tset ")), key=lambda b: b[0])
chains = [b for b in blocks if b[0].startswith("\tchain ")]
print("\n".join(head[:1]))
for b in sets + chains:
    print("\n".join(b))
print("\n".join(head[1:]))'
}

# run NAME DIR: apply every step of DIR here, compare with a fresh apply
run() {
	local name=$1 d=$2 y i k fails=0 kept
	"$PORTWARDEN" apply -q --force "$d/step000.yaml" 2> "$W/err" ||
		{ not_ok "$name: first apply" "$(head -2 "$W/err")"; return; }
	for y in "$d"/step[0-9]*.yaml; do
		i=${y##*/step}; i=${i%.yaml}
		[ "$i" = 000 ] && continue
		k=$(awk -v i="$i" '$1 == i { print $2 }' "$d/steps")
		steps=$((steps + 1))
		if ! "$PORTWARDEN" check -q "$y" 2>/dev/null; then
			continue	# e.g. a rule left without a port by a mutation
		fi
		"$PORTWARDEN" apply --force --format json "$y" > "$W/out" 2> "$W/err"
		if [ $? -ne 0 ] || grep -q "recreated instead" "$W/err"; then
			not_ok "$name step $i ($k)" "apply: $(head -3 "$W/err" | tr '\n' ' ')"
			fails=$((fails + 1)); cp "$y" "/tmp/pw-inc-fail-$SEED-$name-$i.yaml" 2>/dev/null
			continue
		fi
		kept=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters_kept"])' "$W/out" 2>/dev/null)
		# the fresh apply in the other namespace meanwhile
		{ ip netns exec pwfresh nft delete table inet $T 2>/dev/null
		  ip netns exec pwfresh "$PORTWARDEN" apply -q --force "$y" 2> "$W/err2"
		  listing ip netns exec pwfresh > "$W/fresh.list"; } &
		listing > "$W/inc.list"
		wait $!
		if ! cmp -s "$W/inc.list" "$W/fresh.list"; then
			not_ok "$name step $i ($k)" "listing differs: $(diff "$W/fresh.list" "$W/inc.list" | grep '^[<>]' | head -4 | tr '\n' '|')"
			fails=$((fails + 1)); cp "$y" "/tmp/pw-inc-fail-$SEED-$name-$i.yaml" 2>/dev/null
		elif [ -z "$kept" ]; then
			not_ok "$name step $i ($k)" "no counters_kept in: $(head -c 200 "$W/out")"
			fails=$((fails + 1))
		else
			ok "$name step $i ($k, $kept counters kept)"
		fi
	done
	"$PORTWARDEN" flush -q 2>/dev/null
	nft delete table inet $T 2>/dev/null
	[ $fails -eq 0 ]
}

t0=$SECONDS
for n in $(seq "$SMALL"); do
	mkdir -p "$W/small$n"
	python3 "$TESTS_DIR/tools/mutate.py" "$W/small$n" $((SEED + n)) small "$SMALL_STEPS"
	run "small$n (SEED=$SEED)" "$W/small$n"
done
echo "# small policies: $((SECONDS - t0)) s"; t0=$SECONDS
mkdir -p "$W/fold"
python3 "$TESTS_DIR/tools/mutate.py" "$W/fold" "$SEED" folded "$FOLD_STEPS" "$FOLD"
run "folded $FOLD rules (SEED=$SEED)" "$W/fold"
echo "# folded policy: $((SECONDS - t0)) s"; t0=$SECONDS
mkdir -p "$W/big"
python3 "$TESTS_DIR/tools/mutate.py" "$W/big" "$SEED" cidrs "$BIG_STEPS" "$BIG"
run "$BIG CIDRs (SEED=$SEED)" "$W/big"
echo "# CIDR policy: $((SECONDS - t0)) s"
# (a mutation that changes nothing is not a step: 4 in 5 planned ones at least)
min=$(( (SMALL * SMALL_STEPS + BIG_STEPS + FOLD_STEPS) * 4 / 5 ))
check "at least $min mutation steps ran ($steps)" test "$steps" -ge "$min"

# A live interval set holding a range portwarden would not make (added by
# nft): the range reads back as prefixes whose boundaries the kernel does
# not hold, so deleting them one by one is refused; apply recreates the
# table instead, says so, and keeps the counters.
cat > "$W/range.yaml" <<Y
portwarden: 1
table: $T
inbound:
  - { name: nets, from: [10.0.0.0/8, 192.168.0.0/16], action: drop }
  - { name: web, proto: tcp, port: 80 }
Y
chmod 644 "$W/range.yaml"
"$PORTWARDEN" apply -q "$W/range.yaml"
set_name=$(nft list table inet $T | awk '$1 == "set" && $2 ~ /^nets/ { print $2; exit }')
nft add element inet $T "$set_name" '{ 172.16.0.1-172.16.0.5 }'
"$PORTWARDEN" apply --format json "$W/range.yaml" > "$W/out" 2> "$W/err"
check_eq "apply over a foreign range exits 0" 0 $?
check "it says the table was recreated" grep -q "recreated instead" "$W/err"
check_eq "counters kept across the recreation (nets, web)" 2 \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counters_kept"])' "$W/out")"
check_eq "the table is the policy again" "table inet $T: no differences" \
	"$("$PORTWARDEN" diff "$W/range.yaml" 2>&1)"
exit 0
