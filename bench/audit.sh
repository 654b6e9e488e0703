#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Audit benchmark: 90,000 TCP sockets (45,000 listeners on 0.0.0.0 and
# 22,500 loopback connections, both ends: 45,000 established) in a
# throwaway network namespace; then, same run, side by side:
#   ss -tanp    (dump + process attribution)
#   ss -tan     (dump only)
#   portwarden audit POLICY --format json   (dump + attribution + judgement)
# Usage: bench/audit.sh [PORTWARDEN] [LISTENERS] [CONNS]   (as root)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pw=${1:-$here/../build/portwarden}
nl=${2:-45000}
nc=${3:-22500}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -Wall -Wextra -o "$tmp/audit_sockets" "$here/audit_sockets.c"
cat > "$tmp/policy.yaml" <<'EOP'
portwarden: 1
table: pwbench
defaults: {inbound: drop, outbound: drop}
inbound:
  - {name: ssh, proto: tcp, port: 22, from: [10.0.0.0/8, "2001:db8::/32"]}
  - {name: web, proto: tcp, port: [80, 443, 8000-8999]}
  - {name: mgmt, proto: tcp, port: 1024-20000, from: 192.168.0.0/16}
outbound:
  - {name: dns, port: 53}
  - {name: https, proto: tcp, port: 443}
listeners:
  - {proto: tcp, port: 22}
EOP
chmod 0644 "$tmp/policy.yaml"
exec unshare -n -- bash -s "$pw" "$nl" "$nc" "$tmp" <<'EOS'
set -eu
pw=$1 nl=$2 nc=$3 tmp=$4
ip link set lo up
echo "50000 65000" > /proc/sys/net/ipv4/ip_local_port_range
# One process may hold at most `ulimit -Hn` descriptors (20,000 here, and
# CAP_SYS_RESOURCE may be missing to raise it): spread the sockets over
# as many helper processes as needed, as a busy host would anyway.
ulimit -n "$(ulimit -Hn)"
per=$(( ($(ulimit -n) - 100) / 2 ))	# listeners per helper (+ per/2 conns, both ends)
helpers=()
trap 'kill "${helpers[@]}" 2>/dev/null' EXIT
left=$nl k=0 base=2000 cleft=$nc
while [ "$left" -gt 0 ]; do
	n=$(( left < per ? left : per ))
	c=$(( cleft < n / 2 ? cleft : n / 2 ))
	[ "$left" -eq "$n" ] && c=$cleft
	"$tmp/audit_sockets" "$n" "$c" "$base" "$tmp/ready.$k" &
	helpers+=($!)
	left=$((left - n)) cleft=$((cleft - c)) base=$((base + n)) k=$((k + 1))
done
for j in $(seq 0 $((k - 1))); do
	for i in $(seq 600); do [ -s "$tmp/ready.$j" ] && break; sleep 0.1; done
	[ -s "$tmp/ready.$j" ] || { echo "helper $j did not start"; kill "${helpers[@]}"; exit 1; }
done
t() { # LABEL KEY CMD... : best of 5 by wall clock; its CPU time and peak RSS
	local label=$1 key=$2 best=999 s e d rss=0 cpu=0
	shift 2
	for _ in 1 2 3 4 5; do
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
	printf '%-26s %7.3f s wall  %6.2f s cpu  %7d KiB max RSS  %6d lines\n' \
		"$label" "$best" "$cpu" "$rss" "$(wc -l < "$tmp/out")"
	echo "$best" > "$tmp/t.$key"
	echo "$cpu" > "$tmp/c.$key"
}
echo "sockets: $(ss -tan | tail -n +2 | wc -l) TCP ($nl listeners, $((2 * nc)) established)"
t "ss -tanp" ssp ss -tanp
t "ss -tan" ss ss -tan
t "portwarden audit (json)" pw "$pw" audit "$tmp/policy.yaml" --format json
t "portwarden audit (text)" pwt "$pw" audit "$tmp/policy.yaml"
r() { echo "$(cat "$tmp/$1") / $(cat "$tmp/$2")" | bc -l; }
printf 'wall: audit / ss -tanp = %.3f   audit / ss -tan = %.3f\n' "$(r t.pw t.ssp)" "$(r t.pw t.ss)"
printf 'cpu:  audit / ss -tanp = %.3f   audit / ss -tan = %.3f\n' "$(r c.pw c.ssp)" "$(r c.pw c.ss)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
EOS
