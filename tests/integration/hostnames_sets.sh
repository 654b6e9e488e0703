#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostname rules (SPEC §8) with real packets, without the daemon: the
# daemon's part is played by `nft add element` (an address with a timeout
# and the hostname as its comment, as the daemon adds it).
#  - a learned address lets a real TCP connection to the peer through, and
#    is refused again once it expires (2 s timeout); the static address
#    listed beside the names always passes;
#  - apply (the same policy, a changed one) never drops a learned address,
#    but does drop a static address the policy no longer lists;
#  - DNS answers from the resolver (dnsmasq in the peer namespace) reach
#    the NFQUEUE when a listener is bound, pass without one (bypass), and
#    are not queued when the policy's own input chain drops them.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve peer "$PEER4,10.77.0.3,10.77.0.4,$PEER6" 8443
T=pwhost
NFQ="$PY $TESTS_DIR/tools/nfq_listen.py"
DNSQ="$PY $TESTS_DIR/tools/dns_query.py"

host_policy() { # FILE STATIC [EXTRA_RULE] [ESTABLISHED]
	policy "$1" <<-Y
	portwarden: 1
	table: $T
	established: ${4:-true}
	defaults: { inbound: drop, outbound: reject }
	dns: { resolvers: [$PEER4] }
	outbound:
	  - { name: dns, port: 53 }
	  - name: web
	    proto: tcp
	    port: 8443
	    to: [web.test, "*.cdn.test", $2]
	$3
	Y
}
host_policy hosts.yaml 10.77.0.4
pw_apply "hostnames: apply a policy with hostname rules" "$WORK/hosts.yaml" || exit 1

set_has() { nft list set inet $T "$1" 2>/dev/null | grep -q "$2"; }

expect_probes 2 <<-E
	hostnames-the-static-address-beside-the-names-passes here root tcp 10.77.0.4 8443 open
	hostnames-an-address-no-answer-taught-is-refused here root tcp $PEER4 8443 refused
	hostnames-an-ipv6-address-no-answer-taught-is-refused here root tcp $PEER6 8443 refused
E

# What the daemon does for an answer: the address, its timeout, the name.
nft add element inet $T web_dns_v4 "{ $PEER4 timeout 2s comment \"web.test\" }"
nft add element inet $T web_dns_v6 "{ $PEER6 timeout 60s comment \"a.cdn.test\" }"
nft add element inet $T web_dns_v4 "{ 10.77.0.3 timeout 60s comment \"b.cdn.test\" }"
expect_probes 2 <<-E
	hostnames-a-learned-address-passes here root tcp $PEER4 8443 open
	hostnames-a-learned-ipv6-address-passes here root tcp $PEER6 8443 open
E

# explain by name, and by a learned address (the live set, as root)
explain() { "$PORTWARDEN" explain "$WORK/hosts.yaml" out tcp "$1" 2>&1 | head -1 | sed 's/ (.*//'; }
check_eq "hostnames: explain by name" "out tcp web.test:8443 -> accept" "$(explain web.test:8443)"
check_eq "hostnames: explain by a name under a wildcard" "out tcp a.b.cdn.test:8443 -> accept" "$(explain a.b.cdn.test:8443)"
check_eq "hostnames: explain of the wildcard's own name" "out tcp cdn.test:8443 -> reject" "$(explain cdn.test:8443)"
check_eq "hostnames: explain of a learned address" "out tcp 10.77.0.3:8443 -> accept" "$(explain 10.77.0.3:8443)"
# the answer to a DNS query crosses chain dns (the queue, with bypass)
got=$("$PORTWARDEN" explain -v "$WORK/hosts.yaml" out udp $PEER4:53 2>&1)
if echo "$got" | head -1 | grep -q -- '-> accept' && echo "$got" | grep -q 'dns (input, priority 10) -> accept by "dns-queue"'; then
	ok "hostnames: explain runs a DNS answer through the queue rule"
else
	not_ok "hostnames: explain runs a DNS answer through the queue rule" "$(echo "$got" | tr '\n' ' ')"
fi
if "$PORTWARDEN" explain "$WORK/hosts.yaml" out tcp 10.77.0.9:8443 2>&1 | grep -q 'rule web .* only at addresses learned from DNS'; then
	ok "hostnames: explain of an address not learned names the hostname rule"
else
	not_ok "hostnames: explain of an address not learned names the hostname rule" \
		"$("$PORTWARDEN" explain "$WORK/hosts.yaml" out tcp 10.77.0.9:8443 2>&1 | tr '\n' ' ')"
fi

# audit names the hostname of an allowed connection (the element comment)
nft add element inet $T web_dns_v6 "{ fd77::3 timeout 60s comment \"long.cdn.test\" }"
in_peer $PY -c 'import socket, time
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("fd77::3", 8443)); s.listen(); print("ready", flush=True); c, _ = s.accept(); time.sleep(10)' > "$WORK/hold.out" 2>&1 &
NET_PIDS+=($!)
for i in $(seq 50); do grep -q ready "$WORK/hold.out" && break; sleep 0.1; done
$PY -c 'import socket, time
s = socket.create_connection(("fd77::3", 8443), timeout=3); time.sleep(10)' &
NET_PIDS+=($!)
sleep 0.5
"$PORTWARDEN" audit -vv "$WORK/hosts.yaml" > "$WORK/audit.out" 2>&1
if grep -q -- '-> \[fd77::3\]:8443 outbound (rule web, host long.cdn.test)' "$WORK/audit.out" &&
   ! grep -q disallowed "$WORK/audit.out"; then
	ok "hostnames: audit allows a connection to a learned address and names its host"
else
	not_ok "hostnames: audit allows a connection to a learned address and names its host" \
		"$(grep -i 'fd77::3\|disallowed' "$WORK/audit.out" | head -3 | tr '\n' ' ')"
fi

# The 2 s element may expire while this runs (slow under valgrind): the
# kernel's own listing, read before and after, says what status must show.
learned() { nft list set inet $T web_dns_v4 | grep -o expires | wc -l; }
for i in 1 2 3; do
	before=$(learned)
	line=$("$PORTWARDEN" status --table $T | awk '$1 == "web_dns_v4"' | sed 's/^ *//')
	[ "$(learned)" = "$before" ] && break
done
check_eq "hostnames: status counts a hostname set's static and learned addresses" \
	"web_dns_v4 $((before + 1)) elements (1 static, $before learned)" "$line"
check "hostnames: the 60 s element is among the learned ones ($before)" test "$before" -ge 1

# Apply the same policy, then a changed one: learned addresses stay.
pw_apply "hostnames: re-apply the same policy" "$WORK/hosts.yaml"
if set_has web_dns_v6 "$PEER6" && set_has web_dns_v4 10.77.0.3; then
	ok "hostnames: re-apply keeps the learned addresses"
else
	not_ok "hostnames: re-apply keeps the learned addresses" "$(nft list set inet $T web_dns_v4)"
fi
host_policy hosts2.yaml 10.77.0.5 "  - { name: other, proto: tcp, port: 9000 }"
pw_apply "hostnames: apply a changed policy" "$WORK/hosts2.yaml"
if set_has web_dns_v6 "$PEER6" && set_has web_dns_v4 10.77.0.3 &&
   set_has web_dns_v6 'comment "a.cdn.test"'; then
	ok "hostnames: a changed policy keeps the learned addresses and their names"
else
	not_ok "hostnames: a changed policy keeps the learned addresses and their names" \
		"$(nft list set inet $T web_dns_v6 | tr '\n' ' ')"
fi
if ! set_has web_dns_v4 '10.77.0.4[ ,}]' && set_has web_dns_v4 10.77.0.5; then
	ok "hostnames: a static address the policy no longer lists is removed"
else
	not_ok "hostnames: a static address the policy no longer lists is removed" \
		"$(nft list set inet $T web_dns_v4 | tr '\n' ' ')"
fi
"$PORTWARDEN" diff "$WORK/hosts2.yaml" > "$WORK/diff.out" 2>&1
check_eq "hostnames: diff does not count learned addresses as drift" 0 $?

# Expiry: the 2 s element goes, and the connection is refused again.
for i in $(seq 60); do set_has web_dns_v4 "$PEER4" || break; sleep 0.1; done
if set_has web_dns_v4 "$PEER4"; then
	not_ok "hostnames: a learned address expires" "still in the set after 6 s"
else
	ok "hostnames: a learned address expires"
fi
expect_probes 2 <<-E
	hostnames-an-expired-address-is-refused-again here root tcp $PEER4 8443 refused
	hostnames-the-other-learned-address-still-passes here root tcp 10.77.0.3 8443 open
E

# DNS answers and the queue. dnsmasq answers for x.test in the peer.
in_peer dnsmasq --no-daemon --no-resolv --no-hosts --user=root \
	--listen-address=$PEER4 --bind-interfaces --port=53 \
	--address=/x.test/10.0.0.2 --pid-file="$WORK/dnsmasq.pid" \
	> "$WORK/dnsmasq.log" 2>&1 &
NET_PIDS+=($!)
for i in $(seq 50); do
	[ "$($DNSQ $PEER4 x.test -t 0.2)" = 10.0.0.2 ] && break
	sleep 0.1
done
check_eq "hostnames: DNS answers pass when no program listens on the queue (bypass)" \
	10.0.0.2 "$($DNSQ $PEER4 x.test -t 2)"
check_eq "hostnames: DNS over TCP passes as well" \
	10.0.0.2 "$($DNSQ $PEER4 x.test -t 2 --tcp)"

listen() { # OUT: a queue listener on queue 53 for up to 6 s
	local fifo="$WORK/nfq.$RANDOM" line
	mkfifo "$fifo"
	$NFQ 53 -t 6 > "$fifo" 2>&1 &
	NFQ_PID=$!
	cat "$fifo" > "$1" &
	CAT_PID=$!
	for i in $(seq 50); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.1; done
	not_ok "environment" "the queue listener did not start: $(cat "$1")"
	exit 1
}
listen "$WORK/nfq.out"
got=$($DNSQ $PEER4 x.test -t 3)
kill "$NFQ_PID" 2>/dev/null; wait "$NFQ_PID" "$CAT_PID" 2>/dev/null
check_eq "hostnames: a held answer is released to the client" 10.0.0.2 "$got"
if grep -q "^queued $PEER4 53 " "$WORK/nfq.out"; then
	ok "hostnames: the resolver's answer reaches the queue"
else
	not_ok "hostnames: the resolver's answer reaches the queue" "$(tr '\n' ' ' < "$WORK/nfq.out")"
fi

# resolvers: system queues the answers of a local stub over lo as well
policy stub.yaml <<-Y
	portwarden: 1
	table: $T
	defaults: { inbound: drop, outbound: reject }
	outbound:
	  - { name: dns, port: 53 }
	  - { name: web, proto: tcp, port: 8443, to: [web.test] }
	Y
pw_apply "hostnames: apply with resolvers: system" "$WORK/stub.yaml"
dnsmasq --no-daemon --no-resolv --no-hosts --user=root --listen-address=127.0.0.53 \
	--bind-interfaces --port=53 --address=/y.test/10.0.0.3 \
	--pid-file="$WORK/stub.pid" > "$WORK/stub.log" 2>&1 &
NET_PIDS+=($!)
for i in $(seq 50); do
	[ "$($DNSQ 127.0.0.53 y.test -t 0.2)" = 10.0.0.3 ] && break
	sleep 0.1
done
listen "$WORK/nfq3.out"
got=$($DNSQ 127.0.0.53 y.test -t 3)
kill "$NFQ_PID" 2>/dev/null; wait "$NFQ_PID" "$CAT_PID" 2>/dev/null
check_eq "hostnames: a local stub's answer is released to the client" 10.0.0.3 "$got"
if grep -q '^queued 127.0.0.53 53 ' "$WORK/nfq3.out"; then
	ok "hostnames: a local stub's answer over lo reaches the queue (resolvers: system)"
else
	not_ok "hostnames: a local stub's answer over lo reaches the queue (resolvers: system)" \
		"$(tr '\n' ' ' < "$WORK/nfq3.out")"
fi

# The policy's own input chain decides first: with established: false and
# nothing allowing the answers in, they are dropped, never queued.
host_policy noest.yaml 10.77.0.4 "" false
pw_apply "hostnames: apply with established: false" "$WORK/noest.yaml"
listen "$WORK/nfq2.out"
got=$($DNSQ $PEER4 x.test -t 1)
kill "$NFQ_PID" 2>/dev/null; wait "$NFQ_PID" "$CAT_PID" 2>/dev/null
check_eq "hostnames: an answer the policy drops never arrives" timeout "$got"
if grep -q '^queued' "$WORK/nfq2.out"; then
	not_ok "hostnames: an answer the policy drops is not queued" "$(tr '\n' ' ' < "$WORK/nfq2.out")"
else
	ok "hostnames: an answer the policy drops is not queued"
fi
exit 0
