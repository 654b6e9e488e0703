# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for shell test suites. Source it; every check prints
# "ok - NAME" or "not ok - NAME: why".
: "${PORTWARDEN:?run through tests/run.sh or set PORTWARDEN}"
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$TESTS_DIR/.." && pwd)
T_FAILED=0

ok()      { echo "ok - $1"; }
not_ok()  { echo "not ok - $1${2:+: $2}"; T_FAILED=$((T_FAILED + 1)); }
# check NAME COMMAND...: ok when the command succeeds
check()   { local n=$1; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"
	else not_ok "$1" "expected [$2], got [$3]"; fi
}
# check_rc NAME EXPECTED_RC COMMAND...
check_rc() {
	local n=$1 want=$2 rc; shift 2
	"$@" >/dev/null 2>&1; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$n"; else not_ok "$n" "exit $rc, expected $want"; fi
}
# Abort loudly (counted as a failure) when the environment cannot run us.
need_root_netns() {
	if [ "$(id -u)" -ne 0 ] || ! nft list tables >/dev/null 2>&1; then
		not_ok "environment" "needs root and nftables in a network namespace"
		exit 1
	fi
}
