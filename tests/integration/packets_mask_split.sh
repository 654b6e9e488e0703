#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets through address sets split by prefix length: a $set of
# >= 1024 elements with <= 8 prefix lengths per family is compiled into
# one hash set per length, hosts looked up as they are and the others as
# `ip saddr & <mask> @<name>_pN`. An address of each length, and one in
# none, must match (or, negated, not match) exactly as the policy says,
# as source (inbound) and as destination (outbound), over IPv4 and IPv6;
# the kernel must hold the sets without `flags interval` and list the
# masked lookups; a re-apply changes nothing.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
if ! { in_peer ip addr add 10.77.0.20/24 dev veth1 &&
       in_peer ip addr add 10.77.0.200/24 dev veth1 &&
       in_peer ip addr add fd77::150/64 dev veth1 nodad &&
       in_peer ip addr add fd77::1:5/64 dev veth1 nodad; } >/dev/null 2>&1; then
	not_ok "environment" "cannot add the peer's extra addresses"
	exit 1
fi
P4="10.77.0.2,10.77.0.3,10.77.0.4,10.77.0.20,10.77.0.200"
P6="fd77::2,fd77::3,fd77::4,fd77::150,fd77::1:5"
serve here "$HERE4,$HERE6" 8443,9100
serve peer "$P4,$P6" 443

{
	cat <<'Y'
portwarden: 1
table: portwarden
defaults: { inbound: drop, outbound: accept }
sets:
  big:
    - 10.77.0.2
    - 10.77.0.4/30
    - 10.77.0.16/28
    - 10.77.0.128/25
    - "fd77::2"
    - "fd77::4/126"
    - "fd77::100/120"
    - "fd77::1:0/112"
Y
	for i in $(seq 0 1023); do
		echo "    - 10.$((100 + i / 256)).$((i % 256)).0/24"
		printf '    - "fd99:%x::/64"\n' "$i"
	done
	cat <<'Y'
inbound:
  - { name: big-in, proto: tcp, port: 8443, from: $big }
  - { name: not-big, proto: tcp, port: 9100, not_from: $big }
outbound:
  - { name: big-out, proto: tcp, port: 443, to: $big, action: drop }
Y
} | policy mask.yaml

pw_apply "apply mask-split policy" "$WORK/mask.yaml" || exit 0

list=$(nft -s list table inet portwarden)
want="big_v4_hosts big_v4_p30 big_v4_p28 big_v4_p25 big_v4_p24
big_v6_hosts big_v6_p126 big_v6_p120 big_v6_p112 big_v6_p64"
missing= interval=
for s in $want; do
	body=$(printf '%s\n' "$list" | awk -v n="set $s {" '$0 ~ n {p=1} p && /^\t}/ {exit} p')
	if [ -z "$body" ]; then
		missing="$missing $s"
	elif printf '%s\n' "$body" | grep -q 'flags interval'; then
		interval="$interval $s"
	fi
done
if [ -n "$missing$interval" ]; then
	not_ok "kernel holds one hash set per length" "missing:$missing interval:$interval"
else
	ok "kernel holds one hash set per length"
fi
for m in "ip saddr & 255.255.255.252 == @big_v4_p30" \
	 "ip saddr & 255.255.255.0 != @big_v4_p24" \
	 "ip6 saddr & ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00 == @big_v6_p120" \
	 "ip daddr & 255.255.255.128 == @big_v4_p25" \
	 "ip6 daddr & ffff:ffff:ffff:ffff:: == @big_v6_p64"; do
	if printf '%s\n' "$list" | grep -qF "$m"; then
		ok "kernel lists: $m"
	else
		not_ok "kernel lists: $m" "$(printf '%s\n' "$list" | grep -c '&') masked lookups listed"
	fi
done

expect_probes 0.7 <<T
mask-host4-in        peer root tcp 10.77.0.1 8443 open 10.77.0.2
mask-p30-4-in        peer root tcp 10.77.0.1 8443 open 10.77.0.4
mask-p28-4-in        peer root tcp 10.77.0.1 8443 open 10.77.0.20
mask-p25-4-in        peer root tcp 10.77.0.1 8443 open 10.77.0.200
mask-none4-in        peer root tcp 10.77.0.1 8443 drop 10.77.0.3
mask-host6-in        peer root tcp fd77::1   8443 open fd77::2
mask-p126-6-in       peer root tcp fd77::1   8443 open fd77::4
mask-p120-6-in       peer root tcp fd77::1   8443 open fd77::150
mask-p112-6-in       peer root tcp fd77::1   8443 open fd77::1:5
mask-none6-in        peer root tcp fd77::1   8443 drop fd77::3
mask-not-host4       peer root tcp 10.77.0.1 9100 drop 10.77.0.2
mask-not-p28-4       peer root tcp 10.77.0.1 9100 drop 10.77.0.20
mask-not-p25-4       peer root tcp 10.77.0.1 9100 drop 10.77.0.200
mask-not-none4       peer root tcp 10.77.0.1 9100 open 10.77.0.3
mask-not-p126-6      peer root tcp fd77::1   9100 drop fd77::4
mask-not-p112-6      peer root tcp fd77::1   9100 drop fd77::1:5
mask-not-none6       peer root tcp fd77::1   9100 open fd77::3
mask-p28-4-out       here root tcp 10.77.0.20 443 drop
mask-p25-4-out       here root tcp 10.77.0.200 443 drop
mask-none4-out       here root tcp 10.77.0.3 443 open
mask-host6-out       here root tcp fd77::2 443 drop
mask-p120-6-out      here root tcp fd77::150 443 drop
mask-none6-out       here root tcp fd77::3 443 open
T

out=$("$PORTWARDEN" apply --format json "$WORK/mask.yaml" 2>&1)
if printf '%s' "$out" | grep -q '"changed": false'; then
	ok "mask-split re-apply unchanged"
else
	not_ok "mask-split re-apply unchanged" "$(printf '%s' "$out" | head -c 300)"
fi
exit 0
