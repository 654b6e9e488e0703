#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden compare OLD NEW` against `explain --policy-only` (SPEC §10):
# hand-made pairs with known answers (the equal cases too), then random
# policy pairs made by random mutations: every region's example gets
# different verdicts from explain, random packets inside a region
# different ones, outside every region the same (tests/tools/compare_diff.py).
# Also the command's exit codes and text. Runs in the private namespace
# tests/run.sh made (explain's answer depends on the host's addresses).
# COMPARE_PAIRS / COMPARE_PACKETS / COMPARE_SEED for a bigger run.
. "$(dirname "$0")/../lib.sh"
need_root_netns
ip link set lo up 2>/dev/null
TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "$0")/.." && pwd)}

W=$(mktemp -d /run/pwcmp.XXXXXX)
trap 'rm -rf "$W"' EXIT
printf 'portwarden: 1\ndefaults: { inbound: drop }\ninbound:\n  - { name: web, proto: tcp, port: [80, 443] }\n' > "$W/a.yaml"
sed 's/name: web/name: www/' "$W/a.yaml" > "$W/renamed.yaml"
printf 'portwarden: 1\ndefaults: { inbound: drop }\ninbound:\n  - { name: web, proto: tcp, port: [80, 443] }\n  - { name: ssh, proto: tcp, port: 22 }\n' > "$W/b.yaml"
printf 'portwarden: 1\ninbound:\n  - { name: bad, port: 70000 }\n' > "$W/bad.yaml"

"$PORTWARDEN" compare "$W/a.yaml" "$W/renamed.yaml" > "$W/out" 2>&1
check_eq "a renamed rule: exit 0" 0 "$?"
check_eq "a renamed rule: says equal" "equal: every packet gets the same verdict" "$(cat "$W/out")"
"$PORTWARDEN" compare "$W/a.yaml" "$W/b.yaml" > "$W/out" 2>&1
check_eq "ssh added: exit 1" 1 "$?"
check_eq "ssh added: one change, in words" "opens in tcp/22 from anywhere not on lo" "$(head -1 "$W/out")"
if grep -q "new: accept (rule \"ssh\", $W/b.yaml:5)" "$W/out" &&
   grep -q "old: drop (default inbound policy, $W/a.yaml:2)" "$W/out" &&
   grep -q "example: in tcp " "$W/out"; then
	ok "ssh added: both verdicts with rule and FILE:LINE, and an example"
else not_ok "ssh added: both verdicts with rule and FILE:LINE, and an example" "$(cat "$W/out")"; fi
"$PORTWARDEN" compare "$W/a.yaml" "$W/b.yaml" --format json > "$W/out" 2>&1
check_eq "ssh added: JSON" "False 1 drop accept ssh 22 in" "$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); c=j["changes"]; print(j["equal"], len(c), c[0]["old"]["verdict"], c[0]["new"]["verdict"], c[0]["new"]["rule"], c[0]["dports"][0], c[0]["dir"])' "$W/out" 2>&1)"
"$PORTWARDEN" compare "$W/a.yaml" "$W/bad.yaml" > "$W/out" 2>&1
check_eq "an invalid policy: exit 2" 2 "$?"
"$PORTWARDEN" compare "$W/a.yaml" > "$W/out" 2>&1
check_eq "one policy only: exit 2" 2 "$?"

# under a wrapper (valgrind) every explain is slow: a few pairs only
pairs=40 packets=25
[ -n "${PORTWARDEN_WRAP:-}" ] && pairs=2 packets=3 && export COMPARE_HAND_PACKETS=${COMPARE_HAND_PACKETS:-1}
timeout 1200 python3 "$TESTS_DIR/tools/compare_diff.py" "$PORTWARDEN" "$W" \
	"${COMPARE_PAIRS:-$pairs}" "${COMPARE_PACKETS:-$packets}" "${COMPARE_SEED:-1}" > "$W/diff.out" 2>&1
rc=$?
grep -v '^ok - ' "$W/diff.out"
check_eq "compare_diff.py: every answer agrees with explain" 0 "$rc"
exit $((T_FAILED > 0))
