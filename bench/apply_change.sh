#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 15: the cost of a small change. In one throwaway namespace, apply
# a policy (not timed), then time the apply of the same policy with one
# thing changed:
#   - one address of the 110,000-CIDR blocklist (cidrs.yaml) replaced;
#   - one rule inserted in the middle of 10,000 outbound rules that do
#     not fold (rules-nofold.yaml: every rule has its own sport);
#   - an unchanged re-apply of cidrs.yaml, for reference;
# each compared with nft's first load of the hand-written cidrs.nft.
# Each timed apply must report "changed": true (false for the re-apply).
# Usage: bench/apply_change.sh PATH/TO/portwarden
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK

# one address replaced: the first IPv4 /24 of the blocklist becomes another
python3 - "$W" <<'PY'
import sys
d = sys.argv[1]
lines = open(d + "/cidrs.yaml").read().split("\n")
for i, l in enumerate(lines):
    if l.strip().startswith("- ") and l.strip().endswith("/24"):
        lines[i] = "    - 203.0.113.0/24"
        break
open(d + "/cidrs-one.yaml", "w").write("\n".join(lines))
r = open(d + "/rules.yaml").read().split("\n")
head = [l for l in r if not l.startswith("  - ")]
rules = [l for l in r if l.startswith("  - ")]
# sport makes every rule its own nft rule: nothing folds
rules = [l.replace(" }", ", sport: %d }" % (1024 + i)) for i, l in enumerate(rules)]
open(d + "/rules-nofold.yaml", "w").write("\n".join(head + rules) + "\n")
mid = len(rules) // 2
ins = rules[:mid] + ["  - { name: inserted, proto: tcp, port: 4444, to: 192.0.2.1 }"] + rules[mid:]
open(d + "/rules-nofold-ins.yaml", "w").write("\n".join(head + ins) + "\n")
PY
chmod 644 "$W"/cidrs-one.yaml "$W"/rules-nofold*.yaml

# change KEY FIRST SECOND: apply FIRST untimed, time apply of SECOND
change() {
	local key=$1 first=$2 second=$3 i f="$W/ch.$$" t m
	cat > "$W/change.sh" <<-S
		"$PW" apply -q --force "$W/$first" >/dev/null || exit 1
		exec /usr/bin/time -f "%e %M" -o "\$1" "$PW" apply --force --format json "$W/$second"
	S
	T[$key]= M[$key]=
	for i in $(seq "$REPEAT"); do
		O[$key]=$(in_netns bash "$W/change.sh" "$f") || { T[$key]=FAILED; M[$key]=FAILED; return; }
		read -r t m < "$f"
		if [ -z "${T[$key]}" ] || awk -v a="$t" -v b="${T[$key]}" 'BEGIN { exit !(a < b) }'; then T[$key]=$t; fi
		if [ -z "${M[$key]}" ] || [ "$m" -gt "${M[$key]}" ]; then M[$key]=$m; fi
	done
	rm -f "$f"
}
said() { # KEY: the "changed" and "counters_kept" fields of the last run
	python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print("changed: %s, counters_kept: %s" % (o.get("changed"), o.get("counters_kept", "-")))' "${O[$1]}" 2>/dev/null || echo "unparsable: ${O[$1]:0:120}"
}

measure nft_apply --netns nft -f "$W/cidrs.nft"
measure pw_first_nofold --netns "$PW" apply -q "$W/rules-nofold.yaml"
change pw_one cidrs.yaml cidrs-one.yaml
change pw_same cidrs.yaml cidrs.yaml
change pw_ins rules-nofold.yaml rules-nofold-ins.yaml

header "apply a small change (issue 15), one namespace, first apply untimed"
row "change one of 110k CIDRs vs first nft -f:" pw_one nft_apply "<= 0.05x" "-"
echo "  ($(said pw_one))"
row "re-apply unchanged vs first nft -f:" pw_same nft_apply "<= 0.1x" "-"
echo "  ($(said pw_same))"
printf '%-46s %10s %10s   %-7s (goal %s)\n' "insert 1 rule in 10,000 vs their first apply" \
	"$(secs "${T[pw_ins]}")" "$(secs "${T[pw_first_nofold]}")" \
	"$(ratio "${T[pw_ins]}" "${T[pw_first_nofold]}")" "<= 0.05x"
echo "  ($(said pw_ins))"
