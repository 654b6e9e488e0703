#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `status --table` shows any table, not only inet ones: `--table ip filter`,
# `--table ip:filter` and `--table "ip filter"` show iptables-nft's table
# with its chains, hooks and live counters, each rule in libnftnl's raw
# expression form; an inet rule the decoder does not understand is shown
# raw too, not as "unknown". Root, in the private namespace tests/run.sh
# made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwstat.XXXXXX)
trap 'rm -rf "$W"' EXIT
umask 022

if command -v iptables-nft >/dev/null; then
	iptables-nft -A INPUT -p tcp --dport 7 -j ACCEPT
	how="iptables-nft"
else
	nft add table ip filter
	nft add chain ip filter INPUT '{ type filter hook input priority 0; policy accept; }'
	how="nft"
fi
nft insert rule ip filter INPUT tcp dport 7 counter accept comment '"seven"'
# two packets through the counted rule (nothing listens: RST, but counted)
for _ in 1 2; do timeout 5 python3 -c 'import socket
try: socket.create_connection(("127.0.0.1", 7), timeout=1)
except OSError: pass'; done

for spec in "ip filter" "ip:filter" "\"ip filter\""; do
	eval "set -- --table $spec"
	out=$("$PORTWARDEN" status "$@" 2>&1); rc=$?
	check_eq "status --table $spec ($how): exit 0" 0 "$rc"
	if grep -q "^table ip filter$" <<<"$out" &&
	   grep -q "^chain INPUT (type filter, hook input, priority 0, policy accept)$" <<<"$out" &&
	   grep -Eq "^  seven +[1-9][0-9]* +[1-9][0-9]*  \[ meta load l4proto => reg 1 \] .*\[ counter pkts [1-9]" <<<"$out"; then
		ok "status --table $spec: chain, hook and the counted rule raw"
	else not_ok "status --table $spec: chain, hook and the counted rule raw" "$out"; fi
done
"$PORTWARDEN" status --table ip:filter --format json > "$W/j" 2>&1
if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["table"] == "filter" and o["family"] == "ip", o
ch = [c for c in o["chains"] if c["name"] == "INPUT"][0]
assert ch["hook"] == "input" and ch["policy"] == "accept", ch
r = [r for r in ch["rules"] if r["rule"] == "seven"][0]
assert r["packets"] >= 1 and "counter" in r["raw"] and r["nft"] is None, r' "$W/j"; then
	ok "status --table ip:filter --format json"
else not_ok "status --table ip:filter --format json" "$(head -c 500 "$W/j")"; fi

out=$("$PORTWARDEN" status --table ip:nosuch 2>&1); rc=$?
check_eq "absent ip table: exit 3" 3 "$rc"
check_eq "absent ip table: says so" "portwarden: status: table ip nosuch does not exist" "$out"
check_rc "unknown family: usage error" 2 "$PORTWARDEN" status --table ipx:filter
check_rc "family with a stray argument: usage error" 2 "$PORTWARDEN" status --table ip:filter extra
check_rc "flush takes inet names only" 2 "$PORTWARDEN" flush --table ip:filter
if nft list table ip filter >/dev/null 2>&1; then ok "the ip table is still there"; else not_ok "the ip table is still there"; fi

# an inet rule the decoder does not know (ct mark) is shown raw, with its
# comment and counter, between the decoded ones
printf 'portwarden: 1\ntable: pw_stat\noutbound:\n  - { name: web, proto: tcp, port: 443 }\n' > "$W/p.yaml"
"$PORTWARDEN" apply "$W/p.yaml" >/dev/null 2>&1 || not_ok "apply"
nft add rule inet pw_stat output ct mark 7 counter accept comment '"hand"'
out=$("$PORTWARDEN" status --table pw_stat 2>&1)
if grep -Eq '^  hand +0 +0  raw: .*\[ ct load mark => reg 1 \] \[ cmp eq reg 1 0x00000007 \]' <<<"$out" &&
   grep -q 'meta l4proto tcp th dport 443 counter accept comment "web"' <<<"$out" &&
   ! grep -q 'unknown:' <<<"$out"; then
	ok "an undecoded inet rule is shown raw, not as unknown"
else not_ok "an undecoded inet rule is shown raw, not as unknown" "$out"; fi
exit 0
