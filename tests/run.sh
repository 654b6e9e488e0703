#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the whole suite and prints "N passed, N failed" last.
#  - unit tests: cmocka binaries in $BUILD/tests (no privileges)
#  - tests/*.sh: golden and fuzz-smoke suites (no privileges)
#  - tests/integration/*.sh: as root, each in its own mount+network
#    namespace with a tmpfs on /run; never the host's own ruleset.
# Every test script prints "ok - NAME" or "not ok - NAME [why]" lines.
# Usage: tests/run.sh [PATTERN]   (PATTERN: run only tests whose name matches)
set -u
cd "$(dirname "$0")/.."
only=${1:-}
# PW_EXCLUDE (a glob): leave out the tests it matches (check-asan leaves
# out the fuzz suite, whose harnesses are ASan builds that make check ran).
want() {
	[ -n "${PW_EXCLUDE:-}" ] && [[ "$1" == $PW_EXCLUDE ]] && return 1
	[ -z "$only" ] || [[ "$1" == *$only* ]]
}
BUILD=${BUILD:-build}
# PORTWARDEN_WRAP (e.g. tests/valgrind.sh) runs every portwarden call
# of the suites under a checker.
if [ -n "${PORTWARDEN_WRAP:-}" ]; then
	export PORTWARDEN_REAL="$PWD/$BUILD/portwarden"
	PORTWARDEN=$(cd "$(dirname "$PORTWARDEN_WRAP")" && pwd)/$(basename "$PORTWARDEN_WRAP")
else
	PORTWARDEN="$PWD/$BUILD/portwarden"
fi
export BUILD PORTWARDEN
passed=0 failed=0
failures=()
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# contained NAME OUT CMD...: run CMD under a 600 s timeout with its output
# in OUT; rc is its exit status. timeout makes itself a process group, so
# whatever the test left running (a server in a peer namespace its trap
# missed) is found by that group afterwards: killed, and a failure of the
# test, so that nothing it left behind can change a later test.
contained() {
	local name=$1 o=$2 pid left
	shift 2
	timeout 600 "$@" > "$o" 2>&1 &
	pid=$!
	wait "$pid"
	rc=$?
	# (zombies do not count: they are dead, waiting for init to reap them)
	left=$(ps -e -o pgid=,stat=,comm= | awk -v g="$pid" '$1 == g && $2 !~ /^Z/ { print $3 }' |
	       sort | uniq -c | tr -s ' \n' ' ')
	if [ -n "$left" ]; then
		echo "not ok - $name left processes running:$left" >> "$o"
		kill -KILL -- "-$pid" 2>/dev/null
	fi
}

count_tap() { # name file
	local p f
	p=$(grep -c '^ok ' "$2")
	f=$(grep -c '^not ok ' "$2")
	passed=$((passed + p)); failed=$((failed + f))
	while IFS= read -r line; do failures+=("$1: $line"); done < <(grep '^not ok ' "$2")
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	want "$name" || continue
	out="$log/$name.out"
	CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 ${UNIT_WRAP:-} "$t" > "$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
	if [ "$f" -ne 0 ]; then failures+=("$name (exit $rc)"); cat "$out"; fi
	echo "unit $name: $p passed, $f failed"
done

for t in tests/*.sh; do
	[ -f "$t" ] || continue
	case "$t" in tests/run.sh|tests/*lib.sh|tests/valgrind.sh) continue;; esac
	name=$(basename "$t" .sh)
	want "$name" || continue
	out="$log/$name.out"
	t0=$SECONDS
	contained "$name" "$out" bash "$t"
	count_tap "$name" "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		failed=$((failed + 1)); failures+=("$name: exit $rc"); cat "$out"
	fi
	echo "suite $name: $(grep -c '^ok ' "$out") passed, $(grep -c '^not ok ' "$out") failed, $((SECONDS - t0)) s"
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	want "$name" || continue
	out="$log/$name.out"
	t0=$SECONDS
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - $name needs root (integration tests never skip)" > "$out"
		rc=1
	else
		contained "$name" "$out" unshare -m -n -- bash -c \
			'mount -t tmpfs tmpfs /run && ip link set lo up && exec bash "$0"' \
			"$t"
	fi
	count_tap "$name" "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		failed=$((failed + 1)); failures+=("$name: exit $rc"); cat "$out"
	fi
	[ -n "${VERBOSE:-}" ] && cat "$out"
	echo "integration $name: $(grep -c '^ok ' "$out") passed, $(grep -c '^not ok ' "$out") failed, $((SECONDS - t0)) s"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "FAILURES:"
	printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
