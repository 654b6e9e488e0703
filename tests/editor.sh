#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The JSON Schema in an editor, as the README says to use it: each policy
# with a "# yaml-language-server: $schema=..." modeline, opened in
# yaml-language-server (the server of VS Code's, Neovim's and Emacs' YAML
# support; contrib/install-deps.sh installs it from npm). Valid policies
# get no diagnostics; the unknown keys and misspelt values of tests/bad/
# are underlined on the lines check names. No privileges.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
server=$(command -v yaml-language-server)
if [ -z "$server" ]; then
	not_ok "environment" "yaml-language-server is missing (contrib/install-deps.sh installs it with npm)"
	exit 1
fi
schema=$TOP/contrib/schema/portwarden.schema.json

# with_modeline SRC DEST SCHEMA: SRC with the modeline as its first line
with_modeline() {
	{ printf '# yaml-language-server: $schema=%s\n' "$3"; cat "$1"; } > "$2"
}
mkdir "$tmp/good" "$tmp/bad" "$tmp/rel"
for f in policies/*.yaml tests/golden/*.yaml tests/schema/extensions.yaml; do
	with_modeline "$f" "$tmp/good/$(echo "$f" | tr / _)" "$schema"
done
for f in unknown-keys enum-values; do
	with_modeline "tests/bad/$f.yaml" "$tmp/bad/$f.yaml" "$schema"
done
# A path relative to the policy file.
cp "$schema" "$tmp/rel/"
with_modeline policies/webserver.yaml "$tmp/rel/webserver.yaml" portwarden.schema.json
with_modeline tests/bad/unknown-keys.yaml "$tmp/rel/unknown-keys.yaml" portwarden.schema.json

timeout 120 python3 tests/tools/lsp_diagnostics.py "$server" "$tmp"/good/* "$tmp"/bad/* \
	"$tmp"/rel/*.yaml > "$tmp/diag.json" 2> "$tmp/diag.err"
rc=$?
check_eq "yaml-language-server answers for every file" "0" "$rc$(head -c 200 "$tmp/diag.err")"

# expect FILE LINES...: the diagnostics are on exactly these lines
# (1-based, in the file with its modeline)
lines_of() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(" ".join(str(l) for l in sorted({l for l, _ in d.get(sys.argv[2], [["?", ""]])})))' \
		"$tmp/diag.json" "$1" 2>/dev/null
}
bad=""
n=0
for f in "$tmp"/good/* "$tmp/rel/webserver.yaml"; do
	n=$((n + 1))
	got=$(lines_of "$f")
	[ -z "$got" ] || bad="$bad ${f##*/}:[$got]"
done
check_eq "no diagnostics on the $n valid policies (examples, golden, extensions)" "" "$bad"

# The lines check reports errors on, shifted by the modeline.
check_lines() { # NAME BADFILE EDITORFILE
	local want
	want=$("$PORTWARDEN" check "$2" 2>&1 | sed -n 's/^[^:]*:\([0-9]*\):[0-9]*: error: .*/\1/p' |
		awk '{ print $1 + 1 }' | sort -nu | tr '\n' ' ')
	check_eq "$1" "${want% }" "$(lines_of "$3")"
}
check_lines "unknown keys are underlined where check finds them" \
	tests/bad/unknown-keys.yaml "$tmp/bad/unknown-keys.yaml"
check_lines "misspelt actions, protocols, modes and families are underlined" \
	tests/bad/enum-values.yaml "$tmp/bad/enum-values.yaml"
check_lines "a modeline with a path relative to the policy works" \
	tests/bad/unknown-keys.yaml "$tmp/rel/unknown-keys.yaml"
exit 0
