#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 13: `portwarden compare OLD NEW` of two big policies that differ in
# one element, against one compile of the same policy:
#   - the 110,000-CIDR blocklist (cidrs.yaml) with one /24 replaced;
#   - the 10,000 outbound rules (rules.yaml) with one rule's port changed.
# Goals: each compare <= 1 s; the CIDR compare's peak RSS <= 3x one compile.
# Usage: bench/compare.sh PATH/TO/portwarden
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK

first24=$(grep -n '^    - .*/24$' "$W/cidrs.yaml" | head -1 | cut -d: -f1)
sed "${first24}s|.*|    - 203.0.113.0/24|" "$W/cidrs.yaml" > "$W/cidrs-cmp.yaml"
sed '0,/port: [0-9]*,/s/port: \([0-9]*\),/port: 4444,/' "$W/rules.yaml" > "$W/rules-cmp.yaml"
chmod 644 "$W"/cidrs-cmp.yaml "$W"/rules-cmp.yaml

measure compile_cidrs "$PW" compile "$W/cidrs.yaml"
# compare exits 1 when the policies differ, as they do here
differs() { "$@"; [ $? -eq 1 ]; }
export -f differs
measure cmp_cidrs bash -c 'differs "$@"' _ "$PW" compare -q "$W/cidrs.yaml" "$W/cidrs-cmp.yaml"
measure compile_rules "$PW" compile "$W/rules.yaml"
measure cmp_rules bash -c 'differs "$@"' _ "$PW" compare -q "$W/rules.yaml" "$W/rules-cmp.yaml"
n_cidrs=$(grep -c '^[a-z]' <<< "${O[cmp_cidrs]}")
n_rules=$(grep -c '^[a-z]' <<< "${O[cmp_rules]}")

echo "compare (issue 13), best of $REPEAT"
printf '%-44s %8s %10s %s\n' "" "wall s" "max RSS KB" "goal"
printf '%-44s %8s %10s %s\n' "compile 110k CIDRs" "${T[compile_cidrs]}" "${M[compile_cidrs]}" ""
printf '%-44s %8s %10s %s\n' "compare 110k CIDRs, one /24 replaced" "${T[cmp_cidrs]}" "${M[cmp_cidrs]}" "<= 1 s, <= 3x compile RSS"
printf '%-44s %8s %10s %s\n' "compile 10,000 rules" "${T[compile_rules]}" "${M[compile_rules]}" ""
printf '%-44s %8s %10s %s\n' "compare 10,000 rules, one port changed" "${T[cmp_rules]}" "${M[cmp_rules]}" "<= 1 s"
echo "changes reported: CIDRs $n_cidrs, rules $n_rules"
awk -v a="${M[cmp_cidrs]}" -v b="${M[compile_cidrs]}" 'BEGIN { printf "RSS ratio (compare / compile, CIDRs): %.2fx\n", a / b }'
