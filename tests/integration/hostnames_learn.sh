#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostnames in outbound rules, race-free (SPEC §8, issue 12): the host
# resolves through dnsmasq in the peer namespace, and `portwarden daemon`
# holds each answer until its addresses are in the rule's set.
#  - no race: N fresh names (HOSTNAMES_RACE_N, default 100), each resolved
#    then connected to at once: zero failures; and with the test-only
#    PORTWARDEN_DNS_NO_HOLD=1 (answers released before the addresses are
#    added) the same test fails: the test can tell.
#  - names that must not pass: an address never returned for an allowed
#    name; a name that is not allowed.
#  - wildcards, CNAME both ways, DNS over TCP, element comments, IPv6.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
. "$TESTS_DIR/daemonlib.sh"
. "$TESTS_DIR/hostlib.sh"
net_setup
N=${HOSTNAMES_RACE_N:-100}

{
	race_names fresh "$N" 0
	race_names nohold "$N" 100
	race_names late 1 220
	echo "address=/exact.test/10.78.210.1"
	echo "address=/a.cdn.test/10.78.210.2"
	echo "address=/a.b.cdn.test/10.78.210.3"
	echo "address=/cdn.test/10.78.210.4"
	echo "address=/other.test/10.78.210.5"
	echo "address=/tcp.cdn.test/10.78.210.6"
	# CNAME targets must be names dnsmasq knows itself
	echo "host-record=edge.elsewhere.test,10.78.210.7"
	echo "cname=www.cn1.test,edge.elsewhere.test"
	echo "host-record=real.cn2.test,10.78.210.8"
	echo "cname=alias.elsewhere.test,real.cn2.test"
	echo "address=/v6.test/fd78::210:9"
} > "$WORK/dnsmasq.conf"
dns_setup "$WORK/dnsmasq.conf" 600

policy p.yaml <<EOF
portwarden: 1
defaults: { outbound: reject }
dns:
  resolvers: [$PEER4]
outbound:
  - { name: dns, port: 53, to: [$PEER4] }
  - name: web
    proto: tcp
    port: 443
    to: ["*.race.test", exact.test, "*.cdn.test", "*.cn1.test", "*.cn2.test", v6.test]
EOF

if daemon_start "$WORK/notify.sock" "$WORK/p.yaml"; then ok "daemon ready"
else not_ok "daemon ready" "$(tail -5 "$WORK/events")"; exit 1; fi
check "learning started" grep -q " learning " "$WORK/events"

# 1. no race
out=$($PY "$DNS_TOOL" race "$WORK/fresh.names" 443)
check_eq "no race: $N fresh names resolved then connected at once" "failed 0 of $N" "$(head -1 <<<"$out")"
[ "$(head -1 <<<"$out")" = "failed 0 of $N" ] || echo "# $out"
wait_counter held "$N"
held=$(dns_counter held)
check "answers were held until learned (held=$held)" test "${held:-0}" -ge "$N"
check_eq "no answer timed out" 0 "$(dns_counter timed-out)"
n4=$(nft list set inet portwarden web_dns_v4 | grep -o 'comment "fresh-[0-9]*\.race\.test"' | sort -u | wc -l)
check_eq "each address carries its hostname as comment" "$N" "$n4"
nft list set inet portwarden web_dns_v4 | grep -q 'expires' && ok "learned elements have a timeout" ||
	not_ok "learned elements have a timeout"

# status shows the sets' sizes and the learner's counters
st=$("$PORTWARDEN" status)
check "status: size of web_dns_v4, learned counted" grep -Eq "^  web_dns_v4 [0-9]+ elements \(0 static, [1-9][0-9]* learned\)$" <<<"$st"
check "status: learner counters" grep -Eq "^  held +[1-9][0-9]*$" <<<"$st"
check_eq "status --format json: learner counters" "$(dns_counter held)" \
	"$("$PORTWARDEN" status --format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["hostnames"]["learner"]["held"])')"

# 2. must not pass
check_eq "an address never returned for an allowed name" refused \
	"$($PY "$PROBE" run -t 2 <<<"x tcp 10.78.250.250 443" | awk '{print $2}')"
check_eq "a name that is not allowed" refused "$($PY "$DNS_TOOL" connect other.test 443)"
check_eq "an exact name" open "$($PY "$DNS_TOOL" connect exact.test 443)"

# 3. wildcards
check_eq "*.cdn.test allows a.cdn.test" open "$($PY "$DNS_TOOL" connect a.cdn.test 443)"
check_eq "*.cdn.test allows a.b.cdn.test" open "$($PY "$DNS_TOOL" connect a.b.cdn.test 443)"
check_eq "*.cdn.test does not allow cdn.test" refused "$($PY "$DNS_TOOL" connect cdn.test 443)"

# 4. CNAME both ways
check_eq "allowed name whose address comes through a CNAME" open \
	"$($PY "$DNS_TOOL" connect www.cn1.test 443)"
check_eq "other name that is a CNAME of an allowed name" open \
	"$($PY "$DNS_TOOL" connect alias.elsewhere.test 443)"
check "the CNAME's element is commented with the allowed name" \
	grep -q '10.78.210.8 .*comment "real.cn2.test"' <(nft list set inet portwarden web_dns_v4)

# 5. DNS over TCP, IPv6
check_eq "DNS over TCP: answer learned" open "$($PY "$DNS_TOOL" tcp $PEER4 tcp.cdn.test 443)"
[ -n "${HN_DEBUG:-}" ] && { sleep 1.2; sed 's/^/# /' /run/portwarden/net-*/dns; tail -3 "$WORK/events" | sed 's/^/# /'; }
check_eq "IPv6: AAAA learned into web_dns_v6" open "$($PY "$DNS_TOOL" connect v6.test 443 -6)"

# 6. the test can fail: the same race with answers released before learning
daemon_stop
PORTWARDEN_DNS_NO_HOLD=1 daemon_start "$WORK/notify2.sock" "$WORK/p.yaml" ||
	not_ok "daemon (no hold) ready" "$(tail -5 "$WORK/events")"
check "test mode announced" grep -q "TEST MODE" "$WORK/events"
out=$($PY "$DNS_TOOL" race "$WORK/nohold.names" 443)
failed=$(awk 'NR == 1 { print $2 }' <<<"$out")
[ -n "${HN_DEBUG:-}" ] && { echo "$out"; tail -5 "$WORK/events"; cat /run/portwarden/net-*/dns; nft list set inet portwarden web_dns_v4 | head -5; nft list chain inet portwarden output; }
check "without the hold the race test fails ($failed of $N failed)" test "${failed:-0}" -gt 0
daemon_stop

# 7. learning starts on SIGHUP when the first policy had no hostname
policy p0.yaml <<EOF
portwarden: 1
defaults: { outbound: reject }
outbound:
  - { name: dns, port: 53, to: [$PEER4] }
EOF
daemon_start "$WORK/notify3.sock" "$WORK/p0.yaml" || not_ok "daemon without hostnames ready"
check "no learning without hostnames" bash -c "! grep -q ' learning ' '$WORK/events'"
cp "$WORK/p.yaml" "$WORK/p0.yaml"
kill -HUP "$DAEMON_PID"
wait_ev learning 1 || not_ok "learning after SIGHUP" "$(tail -3 "$WORK/events")"
check_eq "a name of the reloaded policy is learned" open "$($PY "$DNS_TOOL" connect late-0.race.test 443)"
daemon_stop
exit $((T_FAILED > 0))
