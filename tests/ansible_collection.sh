#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible collection portwarden.portwarden (contrib/ansible):
# ansible-galaxy builds it with the version of VERSION and installs the
# tarball; ansible-doc reads the module by its FQCN; ansible-test sanity
# --python 3.11 passes every test it has for the collection, on Debian's
# pylint, pycodestyle, yamllint and voluptuous (no PyPI: see
# tests/tools/ansible_sanity_venvs.py); and the same sanity tests fail on
# a copy of the module with an undocumented option, an overlong line and
# an undefined name, so they can fail. No privileges.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/ansiblelib.sh"
cd "$TOP" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for tool in ansible-galaxy ansible-doc ansible-test; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "ansible tools" "$tool is missing (ansible-core, contrib/install-deps.sh)"
		exit 1
	fi
done
# ansible-test keeps its virtual environments under ~/.ansible: a scratch
# home keeps the caller's own cache out of it (and theirs out of us).
export HOME=$tmp/home ANSIBLE_LOCAL_TEMP=$tmp/ansible-tmp
mkdir -p "$HOME"
version=$(cat VERSION)

galaxy_version=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' \
	contrib/ansible/galaxy.yml 2>&1)
check_eq "galaxy.yml's version is VERSION" "$version" "$galaxy_version"

collection_install "$tmp/galaxy" 2> "$tmp/galaxy.err"
tarball=${COLLECTION_TARBALL:-}
if [ -n "$tarball" ] && [ "${tarball##*/}" = "portwarden-portwarden-$version.tar.gz" ]; then
	ok "ansible-galaxy collection build makes portwarden-portwarden-$version.tar.gz and it installs"
else
	not_ok "ansible-galaxy collection build makes portwarden-portwarden-$version.tar.gz and it installs" \
		"$(head -c 300 "$tmp/galaxy.err")"
	exit 1
fi
missing=""
listing=$(tar -tzf "$tarball")
for f in MANIFEST.json FILES.json README.md meta/runtime.yml plugins/modules/portwarden.py; do
	grep -qx "$f" <<<"$listing" || missing="$missing $f"
done
check_eq "the tarball holds the manifest, README, runtime metadata and module" "" "$missing"
stray=$(grep -E '(^|/)tests/output/|\.pyc$|__pycache__' <<<"$listing")
check_eq "the tarball holds no test output or bytecode" "" "$stray"

out=$(ansible-doc portwarden.portwarden.portwarden 2>&1)
if [ $? -eq 0 ] && grep -q 'PORTWARDEN.PORTWARDEN.PORTWARDEN' <<<"$out" &&
   ! grep -q 'ERROR\|WARNING' <<<"$out"; then
	ok "ansible-doc reads portwarden.portwarden.portwarden from the installed collection"
else
	not_ok "ansible-doc reads portwarden.portwarden.portwarden from the installed collection" \
		"$(head -3 <<<"$out")"
fi

# sanity COLLECTION_DIR LOG [ansible-test options]: ansible-test sanity in
# a copy of the collection at .../ansible_collections/portwarden/portwarden
# (where ansible-test needs it, and where its tests/output may go).
sanity() {
	local dir=$1 log=$2
	shift 2
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		(cd "$dir" && timeout 300 ansible-test sanity --python 3.11 --color no "$@") \
			> "$log" 2>&1
		grep -q 'does not have pip available' "$log" || return 0
		# The first run makes the environments it could not fill.
		python3 "$TESTS_DIR/tools/ansible_sanity_venvs.py" >> "$log.venvs" || return 1
	done
}
copy_collection() { # DEST
	mkdir -p "$1"
	cp -r contrib/ansible/. "$1"
	rm -rf "$1/tests/output"
}
good=$tmp/sanity/ansible_collections/portwarden/portwarden
copy_collection "$good"
sanity "$good" "$tmp/sanity.log"
rc=$?
ran=$(grep -c '^Running sanity test' "$tmp/sanity.log")
if [ "$rc" -eq 0 ] && grep -q '^Running sanity test "validate-modules"' "$tmp/sanity.log"; then
	ok "ansible-test sanity --python 3.11 passes ($ran tests)"
else
	not_ok "ansible-test sanity --python 3.11 passes" \
		"$(grep -E '^(ERROR|FATAL)' "$tmp/sanity.log" | head -5)"
fi
missing=""
for t in validate-modules pep8 pylint yamllint import compile ansible-doc \
	 runtime-metadata shebang future-import-boilerplate metaclass-boilerplate; do
	grep -q "^Running sanity test \"$t\"" "$tmp/sanity.log" || missing="$missing $t"
done
check_eq "validate-modules, pep8, pylint, yamllint, import and the rest ran" "" "$missing"
# A test that ansible-test skips for want of a tool says so; none may.
skipped=$(grep -iE 'skipping|skipped' "$tmp/sanity.log" | grep -v '^Running')
check_eq "no sanity test was skipped" "" "$skipped"

# The same on a module made wrong in three ways.
bad=$tmp/sanity-bad/ansible_collections/portwarden/portwarden
copy_collection "$bad"
python3 - "$bad/plugins/modules/portwarden.py" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("            binary=dict(type='str', default='portwarden'),\n",
              "            binary=dict(type='str', default='portwarden'),\n"
              "            undocumented=dict(type='str'),\n")
s = s.replace("\n\ndef main():", "\n\ndef broken():\n    return undefined_name\n\n\ndef main():", 1)
s = s.replace("EXIT_FINDINGS = 1\n", "EXIT_FINDINGS = 1  # " + "x" * 170 + "\n", 1)
open(p, "w").write(s)
EOF
sanity "$bad" "$tmp/sanity-bad.log" --test validate-modules --test pep8 --test pylint
rc=$?
check "ansible-test sanity fails on the broken module" \
	grep -q '^FATAL: The 3 sanity test(s) listed below' "$tmp/sanity-bad.log"
for what in "validate-modules:undocumented-parameter" "pep8:E501" "pylint:undefined-variable"; do
	t=${what%%:*} code=${what#*:}
	if grep -q "ERROR: plugins/modules/portwarden.py:.*$code" "$tmp/sanity-bad.log"; then
		ok "$t reports $code on the broken module"
	else
		not_ok "$t reports $code on the broken module" \
			"$(grep -E '^(ERROR|FATAL)' "$tmp/sanity-bad.log" | head -3)"
	fi
done
exit 0
