#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets: the default verdict of each direction (accept, drop,
# reject) for TCP and UDP over IPv4 and IPv6; a broken policy changes
# nothing; the applied table lists like `nft -f` of `compile`.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here "$HERE4,$HERE6" 8080
serve peer "$PEER4,$PEER6" 8080

# the same eight probes for every phase: in/out x tcp/udp x v4/v6
probes8() { # PHASE IN_EXPECT OUT_EXPECT
	expect_probes 0.7 <<-T
	$1-in-tcp4  peer root tcp $HERE4 8080 $2
	$1-in-udp4  peer root udp $HERE4 8080 $2
	$1-in-tcp6  peer root tcp $HERE6 8080 $2
	$1-in-udp6  peer root udp $HERE6 8080 $2
	$1-out-tcp4 here root tcp $PEER4 8080 $3
	$1-out-udp4 here root udp $PEER4 8080 $3
	$1-out-tcp6 here root tcp $PEER6 8080 $3
	$1-out-udp6 here root udp $PEER6 8080 $3
	T
}

defaults() { # FILE IN OUT
	policy "$1" <<-Y
	portwarden: 1
	table: portwarden
	defaults:
	  inbound: $2
	  outbound: $3
	Y
}

probes8 none open open

defaults aa.yaml accept accept
pw_apply "apply accept/accept" "$WORK/aa.yaml" && probes8 accept open open

defaults da.yaml drop accept
pw_apply "apply inbound drop" "$WORK/da.yaml" && probes8 in-drop drop open

defaults ra.yaml reject accept
pw_apply "apply inbound reject" "$WORK/ra.yaml" && probes8 in-reject refused open

defaults ad.yaml accept drop
pw_apply "apply outbound drop" "$WORK/ad.yaml" && probes8 out-drop open drop

defaults ar.yaml accept reject
pw_apply "apply outbound reject" "$WORK/ar.yaml" && probes8 out-reject open refused

defaults dd.yaml drop drop
pw_apply "apply drop/drop" "$WORK/dd.yaml" && probes8 drop-drop drop drop

# a reject must be quick: refused well before a drop would time out
defaults rr.yaml reject reject
pw_apply "apply reject/reject" "$WORK/rr.yaml"
start=$(date +%s%N)
out=$(echo "r tcp $PEER4 8080" | $PY "$PROBE" run -t 3)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$out" = "r refused" ] && [ $ms -lt 1000 ]; then ok "reject answers at once (${ms} ms)"
else not_ok "reject answers at once" "got [$out] after $ms ms"; fi

# A policy with an error is never applied: the kernel keeps the old table.
pw_apply "apply inbound drop again" "$WORK/da.yaml"
before=$(nft -s list table inet portwarden 2>&1)
policy broken.yaml <<-Y
portwarden: 1
table: portwarden
defaults:
  inbound: accept
inbound:
  - name: web
    port: 99999
Y
check_rc "broken policy refused with exit 2" 2 "$PORTWARDEN" apply "$WORK/broken.yaml"
check_eq "broken policy leaves the table as it was" "$before" "$(nft -s list table inet portwarden 2>&1)"
probes8 after-broken drop open

# The table apply made lists exactly like `nft -f` of compile's output.
policy rich.yaml <<-Y
portwarden: 1
table: portwarden
defaults: { inbound: drop, outbound: reject, log: true }
sets:
  peers: [10.77.0.2, 10.77.0.3, "fd77::2"]
  web: [80, 443, 8000-8099]
inbound:
  - { name: ssh, proto: tcp, port: ssh, from: \$peers, not_from: [10.77.0.3] }
  - { name: web, port: \$web }
outbound:
  - { name: dns, port: 53, to: [10.77.0.2, "fd77::2"] }
  - { name: nobody-web, user: nobody, proto: tcp, port: 8080 }
  - { name: https, proto: tcp, port: 443, comment: "to anywhere" }
Y
if pw_apply "apply rich policy" "$WORK/rich.yaml"; then
	mine=$(nft -s list table inet portwarden 2>&1)
	"$PORTWARDEN" compile "$WORK/rich.yaml" > "$WORK/rich.nft"
	nft delete table inet portwarden
	nft -f "$WORK/rich.nft"
	theirs=$(nft -s list table inet portwarden 2>&1)
	check_eq "apply lists like nft -f of compile" "$theirs" "$mine"
	out=$("$PORTWARDEN" apply --format json "$WORK/rich.yaml" 2>&1)
	case $out in
	*'"changed": false'*|*'"changed":false'*) ok "re-apply over nft's copy: changed false";;
	*) not_ok "re-apply over nft's copy: changed false" "$out";;
	esac
fi
# status counts what the rules decided: 5 new UDP flows to "web", 3 to
# ports no rule names (the default), each flow's first packet only.
policy counters.yaml <<-Y
portwarden: 1
table: portwarden
defaults: { inbound: drop }
inbound:
  - { name: web, proto: udp, port: 8080 }
Y
if pw_apply "apply counters policy" "$WORK/counters.yaml"; then
	expect_probes 0.7 <<-T
	count-web1 peer root udp $HERE4 8080 open
	count-web2 peer root udp $HERE4 8080 open
	count-web3 peer root udp $HERE6 8080 open
	count-web4 peer root udp $HERE6 8080 open
	count-web5 peer root udp $HERE4 8080 open
	count-def1 peer root udp $HERE4 8081 drop
	count-def2 peer root udp $HERE6 8082 drop
	count-def3 peer root udp $HERE4 8083 drop
	T
	counts=$("$PORTWARDEN" status --format json | $PY -c '
import json, sys
t = json.load(sys.stdin)
c = {r["rule"]: r["packets"] for ch in t["chains"] if ch["name"] == "input"
     for r in ch["rules"] if r["rule"]}
print(c.get("web"), c.get("default"))')
	set -- $counts
	check_eq "status: web counted 5 packets" 5 "${1:-}"
	if [ "${2:-0}" -ge 3 ] 2>/dev/null; then ok "status: default counted the 3 drops"
	else not_ok "status: default counted the 3 drops" "got ${2:-nothing}"; fi
fi
exit 0
