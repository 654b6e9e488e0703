#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The life of learned addresses (SPEC §8, issue 12):
#  - max_addresses evicts the oldest address of a rule;
#  - a restart mid-traffic fails no connection, and addresses saved on
#    SIGTERM come back on start even when the set lost them;
#  - after `nft flush ruleset` and the drift repair, the learned addresses
#    are put back without a new DNS answer;
#  - without the daemon, DNS still resolves (the queue's bypass), nothing
#    hangs, and hostname rules allow nothing new;
#  - hostile answers (compression loop, a 300-octet name, a lying rdlength,
#    10,000 records claimed, a cut record, unrelated records, a query) are
#    released unlearned and counted; the daemon stays up, memory bounded;
#  - an answer to a query this host never sent is not learned;
#  - expiry: after SIGHUP with min_ttl 1, max_ttl 2, grace 1, an address
#    stops working after clamp(TTL) + grace, and an established
#    connection to it survives.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
. "$TESTS_DIR/daemonlib.sh"
. "$TESTS_DIR/hostlib.sh"
net_setup

{
	race_names few 5 0
	race_names keep 2 10
	race_names down 1 20
	race_names short 2 30
} > "$WORK/dnsmasq.conf"
dns_setup "$WORK/dnsmasq.conf" 1
hostile_fifo="$WORK/hostile.fifo"
mkfifo "$hostile_fifo"
in_peer $PY "$DNS_TOOL" hostile 10.77.0.3 > "$hostile_fifo" 2>&1 &
NET_PIDS+=($!)
read -r -t 5 line < "$hostile_fifo"
[ "$line" = ready ] || { not_ok "environment" "hostile DNS server: $line"; exit 1; }

policy p.yaml <<EOF
portwarden: 1
defaults: { outbound: reject }
dns:
  max_addresses: 3
  resolvers: [$PEER4, 10.77.0.3, 10.77.0.4]
outbound:
  - { name: dns, port: 53, to: [$PEER4, 10.77.0.3] }
  - { name: web, proto: tcp, port: 443, to: ["*.race.test"] }
EOF
# addr_of NAME: its IPv4 address in dnsmasq.conf
addr_of() { sed -n "s|^address=/$1/\([0-9.]*\)$|\1|p" "$WORK/dnsmasq.conf"; }
# probe ADDR: connect to ADDR:443 (our echo listener sends no banner)
probe() { $PY "$PROBE" run -t 2 <<<"x tcp $1 443" | awk '{ print $2 == "connected-silent" ? "open" : $2 }'; }

if daemon_start "$WORK/notify.sock" "$WORK/p.yaml"; then ok "daemon ready"
else not_ok "daemon ready" "$(tail -5 "$WORK/events")"; exit 1; fi

# 1. max_addresses: 5 names into a set of 3
for i in 0 1 2 3 4; do $PY "$DNS_TOOL" connect few-$i.race.test 443 >/dev/null; done
check_eq "max_addresses 3: the set holds 3 learned addresses" 3 \
	"$(nft list set inet portwarden web_dns_v4 | grep -o 'comment "few-' | wc -l)"
check_eq "the oldest address was evicted" refused "$(probe "$(addr_of few-0.race.test)")"
check_eq "the newest address stays" open "$(probe "$(addr_of few-4.race.test)")"
check "evictions counted" test "$(dns_counter evicted)" -ge 2

# 2. restart mid-traffic
$PY "$DNS_TOOL" connect keep-0.race.test 443 >/dev/null
$PY "$DNS_TOOL" connect keep-1.race.test 443 >/dev/null
( end=$((SECONDS + 4)); fails=0; total=0
  while [ $SECONDS -lt $end ]; do
	for n in keep-0 keep-1; do
		r=$($PY "$DNS_TOOL" connect $n.race.test 443)
		total=$((total + 1)); [ "$r" = open ] || { fails=$((fails + 1)); echo "# $n: $r" >&2; }
	done
  done; echo "$fails $total" > "$WORK/traffic.out" ) &
traffic=$!
sleep 1
daemon_stop
check "state saved on SIGTERM" grep -q "keep-0.race.test 4 " "$WORK/state/learned-portwarden"
daemon_start "$WORK/notify2.sock" "$WORK/p.yaml" || not_ok "daemon restarted" "$(tail -3 "$WORK/events")"
wait $traffic
read -r fails total < "$WORK/traffic.out"
check_eq "restart mid-traffic: no failed connection ($total made)" 0 "$fails"

# restore: the set loses its elements (a reboot), the daemon brings them back
daemon_stop
nft flush set inet portwarden web_dns_v4
check_eq "set emptied by hand" refused "$(probe "$(addr_of keep-0.race.test)")"
daemon_start "$WORK/notify3.sock" "$WORK/p.yaml" || not_ok "daemon started again"
check "restored event" grep -q " restored " "$WORK/events"
check_eq "saved address restored without a new DNS answer" open "$(probe "$(addr_of keep-1.race.test)")"

# another program flushes the ruleset: the drift repair puts the table
# back, the learner its learned addresses (no new DNS answer needed)
nft flush ruleset
for i in $(seq 40); do
	nft list set inet portwarden web_dns_v4 2>/dev/null | grep -q 'comment "keep-1' && break
	sleep 0.1
done
[ -n "${HN_DEBUG:-}" ] && { tail -5 "$WORK/events"; nft list set inet portwarden web_dns_v4; }
check "learned addresses put back after 'nft flush ruleset'" grep -q " relearned " "$WORK/events"
check_eq "a learned address works again after the flush" open "$(probe "$(addr_of keep-1.race.test)")"

# 3. daemon not running
daemon_stop
out=$(timeout 10 $PY "$DNS_TOOL" connect down-0.race.test 443); rc=$?
check_eq "without the daemon: nothing hangs" 0 "$rc"
check_eq "without the daemon: DNS resolves, the new name is not allowed" refused "$out"

# 4. hostile answers
daemon_start "$WORK/notify4.sock" "$WORK/p.yaml" || not_ok "daemon started for hostile answers"
rss() { awk '/^VmRSS/ { print $2 }' /proc/$DAEMON_PID/status; }
u0=$(dns_counter unparsable); u0=${u0:-0}
for k in loop long rdlen many trunc query; do
	check_eq "hostile '$k' answer released" "answered 20 of 20" \
		"$($PY "$DNS_TOOL" query 10.77.0.3 $k.x.race.test 20)"
done
check_eq "unrelated records released" "answered 20 of 20" \
	"$($PY "$DNS_TOOL" query 10.77.0.3 unrelated.x.race.test 20)"
wait_counter unparsable $((u0 + 120)) || true
check_eq "hostile answers counted as unparsable" $((u0 + 120)) "$(dns_counter unparsable)"
check "nothing learned from them" bash -c "! nft list set inet portwarden web_dns_v4 | grep -q '10.78.250'"
r0=$(rss)
for k in loop long rdlen many trunc; do $PY "$DNS_TOOL" query 10.77.0.3 $k.y.race.test 400 >/dev/null; done
r1=$(rss)
check "daemon alive after 2,000 more hostile answers" kill -0 "$DAEMON_PID"
check "memory bounded (RSS ${r0} kB -> ${r1} kB)" test $((r1 - r0)) -lt 2048

# an answer to a query this host never sent, from a trusted resolver's
# address and port 53: conntrack does not call it established, so the
# queue never sees it and nothing is learned
in_peer $PY "$DNS_TOOL" unsolicited 10.77.0.4 $HERE4 spoof-0.race.test 10.78.40.1 >/dev/null
sleep 0.3
check_eq "an answer to a query never sent is not learned" refused "$(probe 10.78.40.1)"

# 5. expiry, after a SIGHUP to small TTLs (dnsmasq answers with TTL 1)
# (and max_addresses 3 -> 2: the oldest learned address goes at once)
learned_now() { nft list set inet portwarden web_dns_v4 | grep -o 'comment "' | wc -l; }
check_eq "3 learned addresses before the reload" 3 "$(learned_now)"
sed -i 's/^  max_addresses: 3$/  max_addresses: 2\n  min_ttl: 1\n  max_ttl: 2\n  grace: 1/' "$WORK/p.yaml"
kill -HUP "$DAEMON_PID"
wait_ev reloaded 1 || not_ok "reloaded" "$(tail -3 "$WORK/events")"
for i in $(seq 20); do [ "$(learned_now)" -le 2 ] && break; sleep 0.1; done
check_eq "a smaller max_addresses on SIGHUP trims the set" 2 "$(learned_now)"
mkfifo "$WORK/hold.fifo"
exec 7<>"$WORK/hold.fifo"
$PY "$DNS_TOOL" hold short-0.race.test 443 10 "$WORK/hold.fifo" > "$WORK/hold.out" &
NET_PIDS+=($!)
sleep 0.5
check_eq "short-lived name connects" open "$(head -1 "$WORK/hold.out")"
check "its timeout is clamp(1) + 1 = 2 s" \
	grep -q "$(addr_of short-0.race.test) .*timeout 2s" <(nft list set inet portwarden web_dns_v4)
sleep 3
check_eq "after clamp(TTL) + grace the address is no longer allowed" refused \
	"$(probe "$(addr_of short-0.race.test)")"
echo >&7
sleep 0.5
check_eq "the established connection survives expiry" alive "$(sed -n 2p "$WORK/hold.out")"
# renewal: learned at 0 s (allowed until 2 s), answered again at 1 s
# (until 3 s): still allowed at 2.5 s
a=$(addr_of short-1.race.test)
$PY "$DNS_TOOL" connect short-1.race.test 443 >/dev/null
sleep 1.1
$PY "$DNS_TOOL" connect short-1.race.test 443 >/dev/null
sleep 1.4
check_eq "a repeated answer renews the timeout" open "$(probe "$a")"
check "renewals counted" test "$(dns_counter renewed)" -ge 1
exec 7>&-
daemon_stop
exit $((T_FAILED > 0))
