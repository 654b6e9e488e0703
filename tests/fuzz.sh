#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fuzz smoke test: build the libFuzzer harnesses with clang (ASan+UBSan)
# and run each from its seed corpus (fuzz/corpus*): the policy front end
# for 15 seconds (its tests: too), the rollback record reader and the DNS
# answer parser for 10 each, the daemon's readers, its learned-address
# file, the hostname code's text, NFLOG records and learn's monitor-events
# reader for 5. Any crash, leak, sanitizer report or timeout fails the
# test, and so does a harness that made fewer than 1,000 runs.
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

# fuzz HARNESS SECONDS MAX_LEN SEEDS WHAT [libFuzzer options...]
# New inputs go to a scratch corpus; the seeds in SEEDS stay as they are.
fuzz() {
	local h=$1 secs=$2 max=$3 seeds=$4 what=$5 rc runs f
	shift 5
	mkdir "$work/$h"
	"$BUILD/$h" "$@" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-max_len="$max" -artifact_prefix="$work/$h-" -print_final_stats=1 \
		"$work/$h" "$seeds" >"$work/$h.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log")
	if [ "$rc" -eq 0 ] && ! ls "$work/$h"-crash-* "$work/$h"-leak-* \
			"$work/$h"-timeout-* >/dev/null 2>&1; then
		ok "fuzz $what ${secs}s (${runs:-?} runs)"
	else
		not_ok "fuzz $what" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|Test unit written' "$work/$h.log" | tr '\n' '|')"
		for f in "$work/$h"-crash-* "$work/$h"-leak-* "$work/$h"-timeout-*; do
			[ -f "$f" ] && { echo "# reproducer $f:"; od -c "$f" | head -20; }
		done
		return
	fi
	if [ "${runs:-0}" -gt 1000 ]; then
		ok "fuzz $what made progress"
	else
		not_ok "fuzz $what made progress" "only ${runs:-0} runs"
	fi
}

fuzz fuzz_policy 15 65536 fuzz/corpus policy_load_buffer -dict=fuzz/policy.dict
# the rollback record (and the staged record), from records portwarden wrote
fuzz fuzz_state 10 65536 fuzz/corpus-state safe_state_read
# the daemon's readers: nftables event datagrams captured from the kernel,
# the last-change note
fuzz fuzz_nft_events 5 65536 fuzz/corpus-events "nft_ev_walk and drift_note_read"
# the daemon's DNS path: queued IP packets, answers, TCP streams
fuzz fuzz_dns 10 70000 fuzz/corpus-dns dns_msg_parse
# the daemon's learned-address file
fuzz fuzz_learned 5 65536 fuzz/corpus-learned learn_state_parse
# NFLOG records for monitor, as the kernel builds them
fuzz fuzz_nflog 5 4096 fuzz/corpus-nflog nflog_parse
# the hostname code's untrusted text: resolv.conf and names
fuzz fuzz_hostnames 5 4096 fuzz/corpus-hostnames "resolv_conf_parse and hostname_check"
# learn --events: monitor's JSON lines
fuzz fuzz_mon_event 5 4096 fuzz/corpus-mon-event mon_event_parse
exit $((T_FAILED > 0))
