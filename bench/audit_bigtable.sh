#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Audit with a 100,000-rule portwarden table (SPEC §11): in a throwaway
# `unshare -m -n` namespace with its own /run, apply a policy of RULES
# outbound rules that do not fold (each has a source port range, so each is
# one nft rule), then, same run, side by side, best of REPEAT by wall clock:
#   ss -tanp                                  (dump + process attribution)
#   ss -tan                                   (dump only)
#   portwarden audit POLICY --format json     (the generation cache vouches:
#                                              the table is not read)
#   portwarden audit POLICY --format json     (record removed before each
#                                              run: the whole table is read,
#                                              as every audit did before)
#   portwarden check POLICY                   (parse + check: the floor of
#                                              any command given this policy)
# first with no socket at all, then with LISTENERS listeners on 0.0.0.0
# and CONNS loopback connections, both ends kept (bench/audit_sockets.c),
# as on a busy host.
# Usage: bench/audit_bigtable.sh [PORTWARDEN]   (as root)
# Environment: RULES (default 100000), LISTENERS (default 10), CONNS
# (default 8000), REPEAT (default 3).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pw=${1:-$here/../build/portwarden}
pw=$(cd "$(dirname "$pw")" && pwd)/$(basename "$pw")
rules=${RULES:-100000}
nl=${LISTENERS:-10}
nc=${CONNS:-8000}
repeat=${REPEAT:-3}
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
cc -O2 -Wall -Wextra -o "$tmp/audit_sockets" "$here/audit_sockets.c"
python3 - "$tmp/policy.yaml" "$rules" <<'EOP'
import os, sys
path, n = sys.argv[1], int(sys.argv[2])
y = ["portwarden: 1", "table: portwarden",
     "defaults: {inbound: drop, outbound: drop}",
     "inbound:", "  - {name: ssh, proto: tcp, port: 22}",
     "listeners:", "  - {proto: tcp, port: 22}", "outbound:"]
for i in range(n):
    y.append("  - {name: r%d, proto: udp, port: %d, sport: 1024-65535, to: 198.%d.%d.%d}"
             % (i, 1024 + i % 60000, 18 + (i >> 16), (i >> 8) & 255, i & 255))
open(path, "w").write("\n".join(y) + "\n")
os.chmod(path, 0o644)
EOP
exec unshare -m -n -- bash -s "$pw" "$tmp" "$nl" "$nc" "$repeat" <<'EOS'
set -eu
pw=$1 tmp=$2 nl=$3 nc=$4 repeat=$5
mount -t tmpfs tmpfs /run
ip link set lo up
t() { # LABEL KEY [--fresh] CMD... : best of $repeat by wall clock
	local label=$1 key=$2 fresh=false best=999 s e d rss=0 cpu=0 u sy
	shift 2
	if [ "$1" = --fresh ]; then fresh=true; shift; fi
	for _ in $(seq "$repeat"); do
		$fresh && rm -f /run/portwarden/gen-*
		s=$(date +%s.%N)
		/usr/bin/time -f '%M %U %S' -o "$tmp/rss" "$@" > "$tmp/out" 2>/dev/null || true
		e=$(date +%s.%N)
		d=$(echo "$e - $s" | bc)
		if [ "$(echo "$d < $best" | bc)" = 1 ]; then
			best=$d
			read -r rss u sy < <(tail -1 "$tmp/rss")
			cpu=$(echo "$u + $sy" | bc)
		fi
	done
	printf '%-40s %7.3f s wall  %6.2f s cpu  %7d KiB max RSS\n' "$label" "$best" "$cpu" "$rss"
	echo "$best" > "$tmp/t.$key"
}
r() { printf '%.2fx' "$(echo "$(cat "$tmp/t.$1") / $(cat "$tmp/t.$2")" | bc -l)"; }
s=$(date +%s.%N)
"$pw" apply -q "$tmp/policy.yaml"
echo "applied: $(nft list chain inet portwarden output | grep -c 'comment "r[0-9]') outbound rules in $(echo "$(date +%s.%N) - $s" | bc | cut -c1-5) s"
"$pw" audit "$tmp/policy.yaml" --format json > "$tmp/a.json" || true
grep -q ruleset-drift "$tmp/a.json" && { echo "bench: drift right after apply"; exit 1; }
round() { # TITLE
	echo "== $1: $(ss -tan | tail -n +2 | wc -l) TCP sockets"
	t "ss -tanp" ssp ss -tanp
	t "ss -tan" ss ss -tan
	t "portwarden audit (generation unchanged)" pw "$pw" audit "$tmp/policy.yaml" --format json
	t "portwarden audit (table read)" pwr --fresh "$pw" audit "$tmp/policy.yaml" --format json
	t "portwarden check (parse + check)" chk "$pw" check -q "$tmp/policy.yaml"
	echo "audit / ss -tanp: $(r pw ssp) (table read: $(r pwr ssp));" \
	     "audit / check: $(r pw chk); table read / unchanged: $(r pwr pw)"
}
round "no sockets"
ulimit -n "$(ulimit -Hn)"
"$tmp/audit_sockets" "$nl" "$nc" 2000 "$tmp/ready" &
helper=$!
trap 'kill $helper 2>/dev/null' EXIT
for _ in $(seq 600); do [ -s "$tmp/ready" ] && break; sleep 0.1; done
[ -s "$tmp/ready" ] || { echo "bench: socket helper did not start"; exit 1; }
round "$nl listeners, $((2 * nc)) established"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
EOS
