#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets through split address sets: a $set with >= 64 single hosts
# and real prefixes is compiled into an interval set of the prefixes plus a
# hash set `<name>_hosts` of the hosts. A host, an address inside a prefix
# and an address in neither must still match (or, negated, not match)
# exactly as the policy says, over IPv4 and IPv6; the kernel must hold the
# hosts in a set without `flags interval`; a re-apply changes nothing.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here "$HERE4,$HERE6" 8443,9100
serve peer "10.77.0.2,10.77.0.3,10.77.0.4,fd77::2,fd77::3,fd77::4" 443

{
	cat <<'Y'
portwarden: 1
table: portwarden
defaults: { inbound: drop, outbound: accept }
sets:
  big:
    - 10.77.0.2
    - 10.77.0.4/30
    - "fd77::2"
    - "fd77::4/126"
Y
	for i in $(seq 1 70); do
		echo "    - 10.200.$((i / 200)).$((i % 200 + 1))"
		echo "    - \"fd99::$i\""
	done
	cat <<'Y'
inbound:
  - { name: big-in, proto: tcp, port: 8443, from: $big }
  - { name: not-big, proto: tcp, port: 9100, not_from: $big }
Y
} | policy split.yaml

pw_apply "apply split-set policy" "$WORK/split.yaml" || exit 0

sets=$(nft -s list table inet portwarden)
for s in big_v4 big_v6; do
	hs=$(printf '%s\n' "$sets" | awk -v n="set ${s}_hosts {" '$0 ~ n {p=1} p && /^\t}/ {exit} p')
	ps=$(printf '%s\n' "$sets" | awk -v n="set ${s} {" '$0 ~ n {p=1} p && /^\t}/ {exit} p')
	if [ -z "$hs" ] || [ -z "$ps" ]; then
		not_ok "kernel holds $s and ${s}_hosts" "missing: $(printf '%s\n' "$sets" | grep '^\tset' | tr '\n' ' ')"
	elif printf '%s\n' "$hs" | grep -q 'flags interval'; then
		not_ok "kernel holds $s and ${s}_hosts" "${s}_hosts has flags interval"
	elif ! printf '%s\n' "$ps" | grep -q 'flags interval'; then
		not_ok "kernel holds $s and ${s}_hosts" "$s has no flags interval"
	else
		ok "kernel holds $s and ${s}_hosts"
	fi
done

expect_probes 0.7 <<T
split-host4-hit      peer root tcp 10.77.0.1 8443 open 10.77.0.2
split-prefix4-hit    peer root tcp 10.77.0.1 8443 open 10.77.0.4
split-neither4-miss  peer root tcp 10.77.0.1 8443 drop 10.77.0.3
split-host6-hit      peer root tcp fd77::1   8443 open fd77::2
split-prefix6-hit    peer root tcp fd77::1   8443 open fd77::4
split-neither6-miss  peer root tcp fd77::1   8443 drop fd77::3
split-not-host4      peer root tcp 10.77.0.1 9100 drop 10.77.0.2
split-not-prefix4    peer root tcp 10.77.0.1 9100 drop 10.77.0.4
split-not-neither4   peer root tcp 10.77.0.1 9100 open 10.77.0.3
split-not-host6      peer root tcp fd77::1   9100 drop fd77::2
split-not-prefix6    peer root tcp fd77::1   9100 drop fd77::4
split-not-neither6   peer root tcp fd77::1   9100 open fd77::3
T

out=$("$PORTWARDEN" apply --format json "$WORK/split.yaml" 2>&1)
if printf '%s' "$out" | grep -q '"changed": false'; then
	ok "split-set re-apply unchanged"
else
	not_ok "split-set re-apply unchanged" "$(printf '%s' "$out" | head -c 300)"
fi
exit 0
