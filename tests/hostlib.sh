# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the hostname suites (tests/integration/hostnames_*.sh).
# Source after tests/lib.sh, tests/netlib.sh and tests/daemonlib.sh, as
# root, in the private namespaces tests/run.sh made.
#
# The peer namespace runs dnsmasq on 10.77.0.2 (the host's resolver: a
# resolv.conf bind-mounted over /etc/resolv.conf in this test's own mount
# namespace) and TCP echo listeners on port 443 of every address of
# 10.78.0.0/16 and fd78::/64 (AnyIP routes on the peer's lo), so that each
# test name can have an address of its own.
DNS_TOOL="$TESTS_DIR/tools/dns_tool.py"
# never the host's /var/lib/portwarden
export PORTWARDEN_STATE_DIR="$WORK/state"
RACE4=10.78.0.0/16 RACE6=fd78::/64
DNSMASQ_PID=

# dns_setup CONF_LINES_FILE [LOCAL_TTL]: routes, listeners, dnsmasq, resolv.conf
dns_setup() {
	local conf=$1 ttl=${2:-600} fifo="$WORK/listen.fifo" line
	ip route add $RACE4 via $PEER4 &&
	ip -6 route add $RACE6 via $PEER6 &&
	in_peer ip route add local $RACE4 dev lo &&
	in_peer ip -6 route add local $RACE6 dev lo || {
		not_ok "environment" "cannot route the test address ranges"; exit 1; }
	mkfifo "$fifo"
	in_peer $PY "$DNS_TOOL" listen 443 > "$fifo" 2>&1 &
	NET_PIDS+=($!)
	if ! read -r -t 5 line < "$fifo" || [ "$line" != ready ]; then
		not_ok "environment" "listeners did not start: $line"; exit 1
	fi
	rm -f "$fifo"
	dnsmasq_start "$conf" "$ttl" || { not_ok "environment" "dnsmasq did not start: $(tail -3 "$WORK/dnsmasq.log")"; exit 1; }
	printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$PEER4" > "$WORK/resolv.conf"
	mount --bind "$WORK/resolv.conf" /etc/resolv.conf || {
		not_ok "environment" "cannot bind-mount resolv.conf"; exit 1; }
}

# dnsmasq_start CONF TTL: dnsmasq in the peer, answering from CONF only
dnsmasq_start() {
	local i
	in_peer dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address=$PEER4 --user=root --group=root \
		--pid-file="$WORK/dnsmasq.pid" --conf-file="$1" --local-ttl="$2" \
		--cache-size=0 --log-facility=- > "$WORK/dnsmasq.log" 2>&1 &
	DNSMASQ_PID=$!
	NET_PIDS+=($DNSMASQ_PID)
	for i in $(seq 50); do
		[ "$($PY "$DNS_TOOL" query $PEER4 probe.invalid 1)" = "answered 1 of 1" ] && return 0
		kill -0 $DNSMASQ_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# race_names PREFIX N FIRST_OCTET: N names PREFIX-I (file $WORK/PREFIX.names)
# and their dnsmasq lines, each its own address 10.78.FIRST.I / fd78::FIRST:I
race_names() {
	local p=$1 n=$2 o=$3 i
	: > "$WORK/$p.names"
	for ((i = 0; i < n; i++)); do
		echo "$p-$i.race.test" >> "$WORK/$p.names"
		echo "address=/$p-$i.race.test/10.78.$((o + i / 250)).$((i % 250 + 1))"
		echo "address=/$p-$i.race.test/fd78::$((o + i / 250)):$((i % 250 + 1))"
	done
}

# dns_counter NAME: the daemon's counter from RUN_DIR/net-INODE/dns
dns_counter() {
	local f
	f=$(ls /run/portwarden/net-*/dns 2>/dev/null | head -1)
	[ -n "$f" ] && sed -n "s/^$1 //p" "$f"
}

# wait_counter NAME MIN: until the counter reaches MIN (5 s)
wait_counter() {
	local i
	for i in $(seq 50); do
		[ "$(dns_counter "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# daemon_stop: SIGTERM; the daemon must exit 0 within 5 s (under ASan a
# leak makes the exit status non-zero)
daemon_stop() {
	local i rc
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for i in $(seq 50); do
		if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			wait "$DAEMON_PID"; rc=$?
			[ "$rc" -eq 0 ] && return 0
			not_ok "daemon exit status on SIGTERM" "exit $rc: $(grep -m3 -E 'ERROR|SUMMARY|error' "$WORK/events" | tr '\n' '|')"
			return 1
		fi
		sleep 0.1
	done
	not_ok "daemon exit on SIGTERM" "still running after 5 s"
	return 1
}
