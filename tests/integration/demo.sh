#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make demo` (contrib/demo.sh) does what it narrates, and leaves the
# namespace it was started from exactly as it was: a stand-in for the
# host's own ruleset survives untouched, no namespace or process remains.
. "$(dirname "$0")/../lib.sh"
need_root_netns
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The "host" ruleset: a foreign table the demo must never see or touch.
nft -f - <<'NFT' || { not_ok "environment" "cannot create the host stand-in table"; exit 1; }
table inet hostfw {
	chain input { type filter hook input priority 0; policy accept; tcp dport 2222 counter accept; }
}
NFT
before=$(nft list ruleset)
netns_before=$(ip netns list)

timeout 120 "$TOP/contrib/demo.sh" "$PORTWARDEN" > "$tmp/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then ok "the demo runs to the end (exit 0)"
else not_ok "the demo runs to the end" "exit $rc: $(grep -i 'unexpected\|error' "$tmp/out" | head -3)"; fi
expect() { # NAME REGEX
	if grep -Eq -- "$2" "$tmp/out"; then ok "$1"; else not_ok "$1" "no line matching /$2/"; fi
}
expect "port 8080 is reachable before the policy" 'port 8080: connected'
expect "the second apply changes nothing" '"changed": *false'
expect "port 443 is allowed under the policy" '443: +connected.*' 
expect "port 8080 is blocked under the policy" 'port 8080: (failed|no answer)'
expect "explain names the https rule" 'out tcp 192\.0\.2\.2:443 -> accept \(rule "https"'
expect "explain says 8080 is refused" 'out tcp 192\.0\.2\.2:8080 -> (reject|drop)'
expect "audit reports the unexpected listener" 'unexpected-listener.*0\.0\.0\.0:9000'
check_eq "the demo's own report has no surprises" 0 "$(grep -c 'UNEXPECTED' "$tmp/out")"
check_eq "the calling namespace's ruleset is untouched" "$before" "$(nft list ruleset)"
check_eq "no network namespace is left behind" "$netns_before" "$(ip netns list)"
check_eq "no demo process is left behind" 0 "$(pgrep -fc 'hello from the peer')"
[ -n "${VERBOSE:-}" ] && cat "$tmp/out"
exit 0
