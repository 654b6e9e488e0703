#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Golden bad policies: each tests/bad/NAME.yaml (or NAME.d directory) must
# make `portwarden check` exit 2 and print exactly tests/bad/NAME.err on
# stderr. `tests/bad.sh --update` regenerates the .err files; every file it
# changed is reported `not ok` until a person has reviewed the diff (git
# diff tests/bad) and committed it. Each policy is checked from a private copy with mode 0644, so the
# checkout's umask cannot trip the group-writable refusal.
. "$(dirname "$0")/lib.sh"

update=
[ "${1:-}" = "--update" ] && update=1
dir="$TESTS_DIR/bad"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

n=0
for src in "$dir"/*.yaml "$dir"/*.d; do
	[ -e "$src" ] || continue
	name=$(basename "$src")
	base=${name%.yaml}
	base=${base%.d}
	n=$((n + 1))
	rm -rf "${work:?}/$name"
	cp -r "$src" "$work/$name"
	chmod -R u=rwX,go=rX "$work/$name"
	err=$(cd "$work" && timeout 10 "$PORTWARDEN" check "$name" 2>&1 >/dev/null)
	rc=$?
	if [ -n "$update" ]; then
		if [ -f "$dir/$base.err" ] && [ "$err" = "$(cat "$dir/$base.err")" ]; then
			ok "bad/$base (unchanged)"
		else
			printf '%s\n' "$err" > "$dir/$base.err"
			not_ok "bad/$base" "updated $base.err: needs review (git diff), not evidence yet"
		fi
		continue
	fi
	if [ "$rc" -ne 2 ]; then
		not_ok "bad/$base" "exit $rc, expected 2"
		continue
	fi
	if [ ! -f "$dir/$base.err" ]; then
		not_ok "bad/$base" "no $base.err (run tests/bad.sh --update)"
		continue
	fi
	if [ "$err" = "$(cat "$dir/$base.err")" ]; then
		ok "bad/$base"
	else
		not_ok "bad/$base" "stderr differs: $(diff <(printf '%s\n' "$err") "$dir/$base.err" | head -5 | tr '\n' '|')"
	fi
done
[ "$n" -ge 20 ] || not_ok "bad" "only $n bad policies (want at least 20)"

# JSON output of an invalid policy: valid false, errors with locations.
cp "$dir/bad-ports.yaml" "$work/j.yaml"
chmod 644 "$work/j.yaml"
json=$(cd "$work" && "$PORTWARDEN" check --format json j.yaml 2>/dev/null)
rc=$?
check_eq "check --format json exit" 2 "$rc"
case "$json" in
'{"valid": false, "errors": [{"file": "j.yaml", "line": 3, "column": 11, "message": "port 0 is out of range (1-65535)"}, '*)
	ok "check --format json shape";;
*)	not_ok "check --format json shape" "$json";;
esac

# A valid policy: exit 0, the summary on stdout, warnings on stderr.
cat > "$work/good.yaml" <<'YAML'
portwarden: 1
sets:
  corp: [10.0.0.1/8]
inbound:
  - { name: ssh, port: 22, from: $corp }
outbound:
  - { name: dns, port: 53 }
YAML
chmod 644 "$work/good.yaml"
out=$(cd "$work" && "$PORTWARDEN" check good.yaml 2>"$work/good.err")
rc=$?
check_eq "check valid exit" 0 "$rc"
check_eq "check valid summary" "good.yaml: ok (1 inbound, 1 outbound rule, 1 set, 0 listeners; 1 warning)" "$out"
check_eq "check valid warning" "good.yaml:3:10: warning: 10.0.0.1/8 has host bits set; using 10.0.0.0/8" "$(cat "$work/good.err")"
out=$(cd "$work" && "$PORTWARDEN" check -q good.yaml 2>&1)
check_eq "check -q prints nothing" "" "$out"
json=$(cd "$work" && "$PORTWARDEN" check --format json good.yaml 2>/dev/null)
check_eq "check valid json" '{"valid": true, "errors": [], "warnings": [{"file": "good.yaml", "line": 3, "column": 10, "message": "10.0.0.1/8 has host bits set; using 10.0.0.0/8"}]}' "$json"

# Refusals: group-writable file, and a missing file (runtime error).
chmod 664 "$work/good.yaml"
err=$(cd "$work" && "$PORTWARDEN" check good.yaml 2>&1 >/dev/null)
rc=$?
check_eq "check group-writable exit" 2 "$rc"
check_eq "check group-writable message" "good.yaml: error: refusing a group-writable policy file; fix: chmod go-w good.yaml
portwarden: 1 error, 0 warnings" "$err"
(cd "$work" && "$PORTWARDEN" check missing.yaml >/dev/null 2>&1)
check_eq "check missing file exit" 3 "$?"

exit $((T_FAILED > 0))
