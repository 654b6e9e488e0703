#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# explain with a 10,000-rule foreign table loaded (issue: median at most
# 50 ms). In a throwaway `unshare -m -n` namespace: a foreign `inet fw`
# table of RULES rules on the input and output hooks (addresses, ports,
# an anonymous set now and then, as a hand-written or generated nft file
# has them), portwarden's https-only policy applied, then RUNS explains of
# connections that cross every foreign rule (none matches, so each is
# run), side by side with `nft list ruleset` (reading the same ruleset,
# the floor of any answer that looks at it). Median and worst wall time.
# Usage: bench/explain_foreign.sh [PORTWARDEN]   (as root)
# Environment: RULES (default 10000), RUNS (default 21), ANON (one rule in
# ANON has two anonymous sets `{ ... }`, default 100; each set costs the
# kernel one element dump, for nft as for portwarden).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pw=${1:-$here/../build/portwarden}
pw=$(cd "$(dirname "$pw")" && pwd)/$(basename "$pw")
rules=${RULES:-10000}
runs=${RUNS:-21}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
anon=${ANON:-100}
python3 - "$tmp/fw.nft" "$rules" "$anon" <<'EOP'
import sys
path, n, anon = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = ["table inet fw {",
       "\tchain in { type filter hook input priority -5; policy accept; }",
       "\tchain out { type filter hook output priority 5; policy accept; }", "}"]
for i in range(n):
    chain = "in" if i % 2 else "out"
    a = "198.%d.%d.%d" % (18 + (i >> 16), (i >> 8) & 255, i & 255)
    if i % anon == 0:
        r = "ip saddr { %s, 203.0.113.%d } tcp dport { %d, %d } counter drop" % (
            a, i % 250, 1000 + i % 5000, 7000 + i % 900)
    elif i % 3 == 0:
        r = "ip daddr %s udp dport %d counter reject" % (a, 1024 + i % 60000)
    else:
        r = "ip daddr %s tcp dport %d counter drop" % (a, 1024 + i % 60000)
    out.append("add rule inet fw %s %s" % (chain, r))
open(path, "w").write("\n".join(out) + "\n")
EOP
cp "$here/../policies/https-only.yaml" "$tmp/p.yaml"
chmod 0644 "$tmp/p.yaml"
exec unshare -m -n -- bash -s "$pw" "$tmp" "$runs" "$rules" <<'EOS'
set -eu
pw=$1 tmp=$2 runs=$3 rules=$4
mount -t tmpfs tmpfs /run
ip link set lo up
nft -f "$tmp/fw.nft"
"$pw" apply "$tmp/p.yaml" --force >/dev/null 2>&1
stat() { # LABEL CMD...: median and worst of $runs wall times (ms)
	local label=$1 i s e
	shift
	: > "$tmp/times"
	for i in $(seq "$runs"); do
		s=$(date +%s%N)
		"$@" > "$tmp/out" 2>&1 || true
		e=$(date +%s%N)
		echo $(((e - s) / 1000)) >> "$tmp/times"
	done
	sort -n "$tmp/times" | awk -v l="$label" '{ v[NR] = $1 } END {
		printf "%-52s median %7.1f ms  worst %7.1f ms\n", l, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
}
echo "explain with a $rules-rule foreign table (inet fw, input and output; $(grep -c '{ ' "$tmp/fw.nft") rules with anonymous sets)"
stat "nft list ruleset (reference: reading it)" nft list ruleset
stat "portwarden explain out tcp 192.0.2.1:443" \
	"$pw" explain "$tmp/p.yaml" out tcp 192.0.2.1:443 --from 10.9.0.1:40000
stat "portwarden explain in tcp 10.9.0.1:22" \
	"$pw" explain "$tmp/p.yaml" in tcp 10.9.0.1:22 --from 192.0.2.9:40000
stat "portwarden explain --policy-only (no foreign table)" \
	"$pw" explain "$tmp/p.yaml" out tcp 192.0.2.1:443 --policy-only
"$pw" explain "$tmp/p.yaml" in tcp 10.9.0.1:22 --from 192.0.2.9:40000 -v | head -4
EOS
