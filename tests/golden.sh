#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden tests of `portwarden compile`: every tests/golden/NAME.yaml must
# compile to exactly tests/golden/NAME.nft, and every policies/NAME.yaml to
# tests/golden/policy-NAME.nft. `tests/golden.sh --update` regenerates the
# .nft files; a file the tool wrote is not evidence, so every file it
# changed is reported `not ok` (review `git diff tests/golden`, then commit
# and run again without --update).
set -u
cd "$(dirname "$0")/.."
PORTWARDEN=${PORTWARDEN:-$PWD/${BUILD:-build}/portwarden}
. tests/lib.sh
update=false
[ "${1:-}" = "--update" ] && update=true

golden() { # NAME YAML EXPECTED
	local out rc
	out=$(mktemp)
	"$PORTWARDEN" compile "$2" > "$out" 2> "$out.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "$1" "compile exit $rc: $(head -3 "$out.err" | tr '\n' ' ')"
	elif $update; then
		if [ -f "$3" ] && cmp -s "$out" "$3"; then
			ok "$1 (unchanged)"
		else
			cp "$out" "$3"
			not_ok "$1" "updated $3: needs review (git diff), not evidence yet"
		fi
	elif [ ! -f "$3" ]; then
		not_ok "$1" "no expected output $3 (run tests/golden.sh --update)"
	elif diff -u "$3" "$out" > "$out.diff"; then
		ok "$1"
	else
		not_ok "$1" "output differs from $3"
		head -40 "$out.diff"
	fi
	rm -f "$out" "$out.err" "$out.diff"
}

for y in tests/golden/*.yaml; do
	n=$(basename "$y" .yaml)
	golden "golden $n" "$y" "tests/golden/$n.nft"
done
for y in policies/*.yaml; do
	n=$(basename "$y" .yaml)
	golden "golden policies/$n" "$y" "tests/golden/policy-$n.nft"
done

# Deterministic: the same policy twice gives the same bytes.
a=$("$PORTWARDEN" compile tests/golden/fold.yaml 2>/dev/null | md5sum)
b=$("$PORTWARDEN" compile tests/golden/fold.yaml 2>/dev/null | md5sum)
check_eq "golden deterministic" "$a" "$b"

# --format json carries the same text.
json_nft=$("$PORTWARDEN" compile --format json policies/webserver.yaml 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["table"]); print(d["nft"], end="")' 2>&1)
check_eq "golden compile json = text" "$(printf 'portwarden\n'; "$PORTWARDEN" compile policies/webserver.yaml 2>/dev/null)" "$json_nft"

# A policy that cannot be read compiles to nothing, and says so.
out=$("$PORTWARDEN" compile tests/golden/does-not-exist.yaml 2>/dev/null)
rc=$?
if [ "$rc" -ne 0 ] && [ -z "$out" ]; then ok "golden missing policy fails"
else not_ok "golden missing policy fails" "exit $rc, output [$out]"; fi

exit $((T_FAILED > 0))
