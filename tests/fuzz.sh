#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz smoke test: build the libFuzzer harnesses with clang (ASan+UBSan)
# and run each from its seed corpus: the policy front end for 30 seconds
# (its tests: too), the rollback record reader for 10, learn's events
# reader for 5. Any crash, leak, sanitizer report or timeout fails the
# test.
. "$(dirname "$0")/lib.sh"

cd "$TOP" || exit 1
BUILD=${BUILD:-build}
if ! command -v clang >/dev/null 2>&1; then
	not_ok "fuzz build" "clang is not installed"
	exit 1
fi
if ! make --no-print-directory BUILD="$BUILD" fuzz >"$BUILD.fuzz-build.log" 2>&1; then
	not_ok "fuzz build" "$(tail -5 "$BUILD.fuzz-build.log" | tr '\n' '|')"
	exit 1
fi
rm -f "$BUILD.fuzz-build.log"
ok "fuzz build"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
log="$work/fuzz.log"
# New inputs go to a scratch corpus; the seeds in fuzz/corpus stay as they are.
"$BUILD/fuzz_policy" -dict=fuzz/policy.dict -max_total_time=30 -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -artifact_prefix="$work/" -print_final_stats=1 \
	"$work/corpus" fuzz/corpus >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1; then
	ok "fuzz policy_load_buffer 30s (${runs:-?} runs)"
else
	not_ok "fuzz policy_load_buffer" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz made progress" || not_ok "fuzz made progress" "only ${runs:-0} runs"

# The rollback record reader, from records portwarden wrote (10 seconds).
mkdir "$work/corpus-state"
log="$work/fuzz-state.log"
"$BUILD/fuzz_state" -max_total_time=10 -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -artifact_prefix="$work/state-" -print_final_stats=1 \
	"$work/corpus-state" fuzz/corpus-state >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/state-crash-* "$work"/state-leak-* "$work"/state-timeout-* >/dev/null 2>&1; then
	ok "fuzz safe_state_read 10s (${runs:-?} runs)"
else
	not_ok "fuzz safe_state_read" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/state-crash-* "$work"/state-leak-* "$work"/state-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz state reader made progress" || not_ok "fuzz state reader made progress" "only ${runs:-0} runs"

# learn --events: monitor's JSON lines (5 seconds).
mkdir "$work/corpus-events"
log="$work/fuzz-events.log"
"$BUILD/fuzz_events" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=4096 -artifact_prefix="$work/events-" -print_final_stats=1 \
	"$work/corpus-events" fuzz/corpus-events >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/events-crash-* "$work"/events-leak-* "$work"/events-timeout-* >/dev/null 2>&1; then
	ok "fuzz mon_event_parse 5s (${runs:-?} runs)"
else
	not_ok "fuzz mon_event_parse" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/events-crash-* "$work"/events-leak-* "$work"/events-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz events reader made progress" || not_ok "fuzz events reader made progress" "only ${runs:-0} runs"
exit $((T_FAILED > 0))
