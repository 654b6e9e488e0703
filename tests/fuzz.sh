#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz smoke test: build the libFuzzer harnesses with clang (ASan+UBSan)
# and run each from its seed corpus: the policy front end for 15 seconds
# (its tests: too), the rollback record reader and the DNS answer parser
# for 10 each, the daemon's readers, its learned-address file, NFLOG
# records and learn's monitor-events reader for 5. Any crash, leak,
# sanitizer report or timeout fails the test.
. "$(dirname "$0")/lib.sh"

cd "$TOP" || exit 1
BUILD=${BUILD:-build}
if ! command -v clang >/dev/null 2>&1; then
	not_ok "fuzz build" "clang is not installed"
	exit 1
fi
if ! make -j"$(nproc)" --no-print-directory BUILD="$BUILD" fuzz >"$BUILD.fuzz-build.log" 2>&1; then
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
"$BUILD/fuzz_policy" -dict=fuzz/policy.dict -max_total_time=15 -rss_limit_mb=2048 -timeout=10 \
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

# The daemon's readers: nftables event datagrams captured from the kernel,
# the last-change note (5 seconds).
mkdir "$work/corpus-events"
log="$work/fuzz-events.log"
"$BUILD/fuzz_nft_events" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -artifact_prefix="$work/events-" -print_final_stats=1 \
	"$work/corpus-events" fuzz/corpus-events >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/events-crash-* "$work"/events-leak-* "$work"/events-timeout-* >/dev/null 2>&1; then
	ok "fuzz nft_ev_walk and drift_note_read 5s (${runs:-?} runs)"
else
	not_ok "fuzz nft_ev_walk and drift_note_read" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/events-crash-* "$work"/events-leak-* "$work"/events-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
# The daemon's DNS path: queued IP packets, answers, TCP streams (10 seconds).
mkdir "$work/corpus-dns"
log="$work/fuzz-dns.log"
"$BUILD/fuzz_dns" -max_total_time=10 -rss_limit_mb=2048 -timeout=10 \
	-max_len=70000 -artifact_prefix="$work/dns-" -print_final_stats=1 \
	"$work/corpus-dns" fuzz/corpus-dns >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/dns-crash-* "$work"/dns-leak-* "$work"/dns-timeout-* >/dev/null 2>&1; then
	ok "fuzz dns_msg_parse 10s (${runs:-?} runs)"
else
	not_ok "fuzz dns_msg_parse" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/dns-crash-* "$work"/dns-leak-* "$work"/dns-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz dns made progress" || not_ok "fuzz dns made progress" "only ${runs:-0} runs"

# The daemon's learned-address file (5 seconds).
mkdir "$work/corpus-learned"
log="$work/fuzz-learned.log"
"$BUILD/fuzz_learned" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=65536 -artifact_prefix="$work/learned-" -print_final_stats=1 \
	"$work/corpus-learned" fuzz/corpus-learned >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/learned-crash-* "$work"/learned-leak-* "$work"/learned-timeout-* >/dev/null 2>&1; then
	ok "fuzz learn_state_parse 5s (${runs:-?} runs)"
else
	not_ok "fuzz learn_state_parse" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	exit 1
fi
# NFLOG records for monitor, as the kernel builds them (5 seconds).
mkdir "$work/corpus-nflog"
log="$work/fuzz-nflog.log"
"$BUILD/fuzz_nflog" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=4096 -artifact_prefix="$work/nflog-" -print_final_stats=1 \
	"$work/corpus-nflog" fuzz/corpus-nflog >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/nflog-crash-* "$work"/nflog-leak-* "$work"/nflog-timeout-* >/dev/null 2>&1; then
	ok "fuzz nflog_parse 5s (${runs:-?} runs)"
else
	not_ok "fuzz nflog_parse" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/nflog-crash-* "$work"/nflog-leak-* "$work"/nflog-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz nflog parser made progress" || not_ok "fuzz nflog parser made progress" "only ${runs:-0} runs"

# The hostname code's untrusted text: resolv.conf and names (5 seconds).
mkdir "$work/corpus-hostnames"
log="$work/fuzz-hostnames.log"
"$BUILD/fuzz_hostnames" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=4096 -artifact_prefix="$work/hn-" -print_final_stats=1 \
	"$work/corpus-hostnames" fuzz/corpus-hostnames >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/hn-crash-* "$work"/hn-leak-* "$work"/hn-timeout-* >/dev/null 2>&1; then
	ok "fuzz resolv_conf_parse and hostname_check 5s (${runs:-?} runs)"
else
	not_ok "fuzz resolv_conf_parse and hostname_check" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	exit 1
fi

# learn --events: monitor's JSON lines (5 seconds).
mkdir "$work/corpus-mon-event"
log="$work/fuzz-mon-event.log"
"$BUILD/fuzz_mon_event" -max_total_time=5 -rss_limit_mb=2048 -timeout=10 \
	-max_len=4096 -artifact_prefix="$work/mon-" -print_final_stats=1 \
	"$work/corpus-mon-event" fuzz/corpus-mon-event >"$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
if [ "$rc" -eq 0 ] && ! ls "$work"/mon-crash-* "$work"/mon-leak-* "$work"/mon-timeout-* >/dev/null 2>&1; then
	ok "fuzz mon_event_parse 5s (${runs:-?} runs)"
else
	not_ok "fuzz mon_event_parse" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$log" | tr '\n' '|')"
	for f in "$work"/mon-crash-* "$work"/mon-leak-* "$work"/mon-timeout-*; do
		[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
	done
	exit 1
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzz monitor-events reader made progress" || not_ok "fuzz monitor-events reader made progress" "only ${runs:-0} runs"
exit $((T_FAILED > 0))
