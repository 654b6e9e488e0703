#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Big sets (root, inside the private namespace tests/run.sh made): a set of
# 110,000 prefixes goes in one transaction split over many messages, reads
# back equal (second apply unchanged, diff 0), and 10,000 (address, port)
# rules folded into one concatenated set make exactly nft's table.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
W=$(mktemp -d /run/pwscale.XXXXXX)
trap 'rm -rf "$W"' EXIT
pw() { "$PORTWARDEN" "$@"; }

python3 - "$W/big.yaml" <<'EOF'
import random, sys
random.seed(7)
v4 = set()
while len(v4) < 100000:
    v4.add("%d.%d.%d.0/24" % (random.randint(1, 223), random.randint(0, 255), random.randint(0, 255)))
v6 = set()
while len(v6) < 10000:
    v6.add("2001:db8:%x:%x::/64" % (random.randint(0, 65535), random.randint(0, 65535)))
with open(sys.argv[1], "w") as f:
    f.write("portwarden: 1\ntable: pw_big\ndefaults: { inbound: drop }\nsets:\n  blocked: [")
    f.write(", ".join('"%s"' % x for x in sorted(v4) + sorted(v6)))
    f.write("]\ninbound:\n  - { name: block, from: $blocked, action: drop }\n")
EOF

out=$(pw apply "$W/big.yaml" 2>&1); rc=$?
check_eq "110,000-element apply exits 0" 0 "$rc"
if [[ "$out" == "table inet pw_big: applied ("*" rules, 1100"*" set elements)" ]]; then ok "apply reports the elements"
else not_ok "apply reports the elements" "$out"; fi
# one length per family: one hash set of network addresses each, looked
# up as `ip saddr & 255.255.255.0 @blocked_v4_p24` (compile.c mask split)
n4=$(nft list set inet pw_big blocked_v4_p24 | grep -o '\b[0-9]*\.[0-9]*\.[0-9]*\.0\b' | wc -l)
n6=$(nft list set inet pw_big blocked_v6_p64 | grep -o '2001:db8:[0-9a-f:]*' | wc -l)
check_eq "kernel holds 100,000 IPv4 prefixes" 100000 "$n4"
check_eq "kernel holds 10,000 IPv6 prefixes" 10000 "$n6"
check_eq "the prefix sets are hash sets" 0 "$(nft list table inet pw_big | grep -c 'flags interval')"
check_eq "second apply unchanged" "table inet pw_big: unchanged" "$(pw apply "$W/big.yaml" 2>&1)"
check_rc "diff equal" 0 pw diff "$W/big.yaml"
nft delete element inet pw_big blocked_v4_p24 "{ $(grep -o '[0-9.]*/24' "$W/big.yaml" | sed -n 500p | cut -d/ -f1) }"
out=$(pw diff "$W/big.yaml" 2>/dev/null); rc=$?
check_eq "diff sees one missing element" 1 "$rc"
check_eq "diff lists exactly that element" 1 "$(grep -c '^+ element' <<<"$out")"
check_rc "apply repairs it" 0 pw apply -q "$W/big.yaml"
check_rc "diff equal after repair" 0 pw diff "$W/big.yaml"
pw flush -q --table pw_big

# 10,000 (address, port) rules -> one concatenated interval set
{
	printf 'portwarden: 1\ntable: pw_fold\ndefaults: { outbound: drop }\noutbound:\n'
	for i in $(seq 0 9999); do
		printf '  - { name: r%d, proto: tcp, port: %d, to: 10.%d.%d.%d }\n' \
			"$i" $((1024 + i)) $((i / 65536)) $((i / 256 % 256)) $((i % 256))
	done
} > "$W/fold.yaml"
pw compile "$W/fold.yaml" > "$W/fold.nft" 2>/dev/null
nft -f "$W/fold.nft" && nft -s list table inet pw_fold > "$W/nft.list"
nft delete table inet pw_fold
check_rc "10,000 folded rules apply" 0 pw apply -q "$W/fold.yaml"
nft -s list table inet pw_fold > "$W/pw.list"
if cmp -s "$W/nft.list" "$W/pw.list" && [ -s "$W/pw.list" ]; then ok "folded table lists like nft -f of compile"
else not_ok "folded table lists like nft -f of compile" "$(diff "$W/nft.list" "$W/pw.list" | head -4 | tr '\n' '|')"; fi
check_eq "folded second apply unchanged" "table inet pw_fold: unchanged" "$(pw apply "$W/fold.yaml" 2>&1)"
exit 0
