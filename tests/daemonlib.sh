# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the `portwarden daemon` suites (tests/integration/daemon_*.sh).
# Source after tests/lib.sh and tests/netlib.sh (for $WORK and NET_PIDS).
# The daemon is started as systemd starts a Type=notify service: with
# NOTIFY_SOCKET naming a datagram socket this test listens on; it counts
# as up once it has sent READY=1. Its events (stderr) go to $WORK/events.

DAEMON_PID=
# daemon_start NOTIFY_ADDR POLICY...: start it, wait for READY=1 (10 s)
daemon_start() {
	local addr=$1 i; shift
	rm -f "$WORK/notify.out" "$WORK/events"
	$PY "$TESTS_DIR/tools/notify_listen.py" "$addr" > "$WORK/notify.out" 2>&1 &
	NET_PIDS+=($!)
	for i in $(seq 50); do grep -q listening "$WORK/notify.out" 2>/dev/null && break; sleep 0.1; done
	NOTIFY_SOCKET=$addr "$PORTWARDEN" daemon "$@" 2> "$WORK/events" &
	DAEMON_PID=$!
	NET_PIDS+=($DAEMON_PID)
	for i in $(seq 100); do
		grep -q 'READY=1' "$WORK/notify.out" && return 0
		kill -0 $DAEMON_PID 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# ev_count KIND: event lines of that kind so far
ev_count() { grep -c "^[^ ]* $1 " "$WORK/events" 2>/dev/null; }

# wait_ev KIND N: wait (at most 5 s) until there are N events of KIND
wait_ev() {
	local i
	for i in $(seq 100); do
		[ "$(ev_count "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# last_ev KIND: the last event line of that kind
last_ev() { grep "^[^ ]* $1 " "$WORK/events" | tail -1; }

# ev_field LINE KEY: a field's value (quotes removed)
ev_field() {
	local v
	v=$(printf '%s\n' "$1" | sed -n "s/.* $2=\"\([^\"]*\)\".*/\1/p")
	[ -n "$v" ] || v=$(printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p")
	printf '%s\n' "$v"
}

# table_text [TABLE]: the live table as `nft list` prints it, counters
# blanked (absent: "absent")
table_text() {
	local t
	t=$(nft list table inet "${1:-portwarden}" 2>/dev/null) || { echo absent; return; }
	printf '%s\n' "$t" | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'
}
