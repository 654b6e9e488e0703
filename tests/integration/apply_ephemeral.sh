#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `sport: ephemeral` is IANA's 49152-65535; `apply` (not `check`, which
# needs no host) warns at the rule's sport when an outbound rule naming it
# does not cover the target namespace's net.ipv4.ip_local_port_range.
. "$(dirname "$0")/../lib.sh"
need_root_netns
work=$(mktemp -d)
trap 'ip netns del pweph 2>/dev/null; rm -rf "$work"' EXIT
cd "$work" || exit 1
cat > eph.yaml <<'Y'
portwarden: 1
sets:
  high: [ephemeral, 1024]
outbound:
  - { name: eph, proto: tcp, sport: ephemeral, port: 443 }
  - { name: via-set, proto: udp, sport: $high, port: 53 }
  - { name: wide, proto: tcp, sport: [ephemeral, "32768-49151"], port: 80 }
inbound:
  - { name: in-eph, proto: tcp, sport: ephemeral, port: 22 }
Y
chmod 644 eph.yaml
warn1='eph.yaml:5:37: warning: rule '"'eph'"': sport '"'ephemeral'"' is 49152-65535 (IANA), but this host'"'"'s connections use source ports 32768-60999 (net.ipv4.ip_local_port_range); write sport: "32768-65535" to cover both'
warn2='eph.yaml:6:41: warning: rule '"'via-set'"': sport '"'ephemeral'"' is 49152-65535 (IANA), but this host'"'"'s connections use source ports 32768-60999 (net.ipv4.ip_local_port_range); write sport: "32768-65535" to cover both'

sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
err=$("$PORTWARDEN" apply eph.yaml 2>&1 >/dev/null); rc=$?
check_eq "ephemeral: apply still applies" 0 "$rc"
check_eq "ephemeral: apply warns for the outbound rules that miss 32768-49151" "$warn1
$warn2" "$err"
err=$("$PORTWARDEN" apply eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: an unchanged apply warns too" "$warn1
$warn2" "$err"
err=$("$PORTWARDEN" check eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: check does not look at the host" "" "$err"
err=$("$PORTWARDEN" apply -q eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: -q keeps it quiet" "" "$err"

sysctl -qw net.ipv4.ip_local_port_range="49152 65535"
err=$("$PORTWARDEN" apply eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: no warning when the range is IANA's" "" "$err"
sysctl -qw net.ipv4.ip_local_port_range="50000 60000"
err=$("$PORTWARDEN" apply eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: no warning for a range inside 49152-65535" "" "$err"

# --netns: the range of the target namespace counts, not ours
"$PORTWARDEN" flush >/dev/null 2>&1
ip netns add pweph
ip netns exec pweph sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
err=$("$PORTWARDEN" apply --netns pweph eph.yaml 2>&1 >/dev/null); rc=$?
check_eq "ephemeral: apply --netns exit" 0 "$rc"
check_eq "ephemeral: apply --netns reads the target's range" "$warn1
$warn2" "$err"
ip netns exec pweph sysctl -qw net.ipv4.ip_local_port_range="49152 65535"
sysctl -qw net.ipv4.ip_local_port_range="32768 60999"
err=$("$PORTWARDEN" apply --netns pweph eph.yaml 2>&1 >/dev/null)
check_eq "ephemeral: ... and not the caller's" "" "$err"
exit $((T_FAILED > 0))
