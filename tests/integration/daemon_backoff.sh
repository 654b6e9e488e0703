#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# portwarden daemon does not fight: a loop that flushes the ruleset ten
# times a second for five seconds gets at most 5 repairs and exactly one
# `conflict` event naming nft; the daemon stays healthy and, once the
# window is over, repairs again (the window is shortened to 8 s with
# PORTWARDEN_REPAIR_WINDOW, the variable documented for tests; it is 60 s).
# `repair: false` turns the repair off: a `drift` event, no repair.
# Events for other tables never make the daemon read its own.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
. "$TESTS_DIR/daemonlib.sh"
need_root_netns
PY=/usr/bin/python3

policy p.yaml <<EOF
portwarden: 1
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF

# the table is already applied and there is no rollback record of it
# (an unchanged apply records nothing): the daemon keeps its own policy
"$PORTWARDEN" apply "$WORK/p.yaml" > /dev/null 2>&1
rm -f /run/portwarden/net-*/state
export PORTWARDEN_REPAIR_WINDOW=8s
if daemon_start "@pwtest-backoff-$$" "$WORK/p.yaml"; then ok "daemon ready (abstract NOTIFY_SOCKET)"
else not_ok "daemon ready (abstract NOTIFY_SOCKET)" "$(cat "$WORK/events")"; exit 1; fi
PRISTINE=$(table_text)
check "the daemon found the table applied" grep -q "^[^ ]* applied .*changed=false" "$WORK/events"

# another program's table churning: no event, and the daemon's own table
# is not read for it (that is measured in bench/daemon_repair.sh)
for i in $(seq 20); do
	nft add table inet churn; nft add chain inet churn c; nft delete table inet churn
done
sleep 0.3
check_eq "other tables' changes: no event" 2 "$(wc -l < "$WORK/events")"

# the fight: 50 flushes in 5 s
t0=$(date +%s.%N)
for i in $(seq 50); do nft flush ruleset; sleep 0.1; done &
loop=$!
wait $loop
during=$(ev_count repaired)
check "at most 5 repairs during the loop (got $during)" test "$during" -le 5
check "some repairs during the loop (got $during)" test "$during" -ge 1
check_eq "exactly one conflict event" 1 "$(ev_count conflict)"
line=$(last_ev conflict)
check_eq "the conflict names nft" nft "$(ev_field "$line" comm)"
check "the daemon is still running" kill -0 "$DAEMON_PID"

# after the window the daemon repairs what the loop left, and again after
# another change, as usual
if wait_ev repaired $((during + 1)) || { sleep 5; wait_ev repaired $((during + 1)); }; then
	ok "repaired again once the window ended"
else
	not_ok "repaired again once the window ended" "$(tail -3 "$WORK/events" | tr '\n' ' ')"
fi
check_eq "table restored after the window" "$PRISTINE" "$(table_text)"
nft delete table inet portwarden & fpid=$!; wait $fpid
if wait_ev repaired $((during + 2)); then ok "normal repair after the window"
else not_ok "normal repair after the window"; fi
check_eq "the repair names the pid" "$fpid" "$(ev_field "$(last_ev repaired)" pid)"
check_eq "still one conflict event" 1 "$(ev_count conflict)"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
check_eq "SIGTERM: exit 0" 0 "$?"

# repair: false
policy off.yaml <<EOF
portwarden: 1
repair: false
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF
if daemon_start "$WORK/notify2.sock" "$WORK/off.yaml"; then ok "daemon ready (repair: false)"
else not_ok "daemon ready (repair: false)" "$(cat "$WORK/events")"; fi
nft delete table inet portwarden & fpid=$!; wait $fpid
if wait_ev drift 1; then ok "repair: false: a drift event"; else not_ok "repair: false: a drift event"; fi
check_eq "repair: false: the drift event names the pid" "$fpid" "$(ev_field "$(last_ev drift)" pid)"
sleep 1
check_eq "repair: false: no repair" 0 "$(ev_count repaired)"
check_eq "repair: false: the table stays gone" absent "$(table_text)"

# audit names who changed the table last (the daemon's note)
"$PORTWARDEN" audit "$WORK/off.yaml" > "$WORK/audit.out" 2>&1
check "audit's drift finding names nft and its pid" \
	grep -q "ruleset-drift.*last changed by nft (pid $fpid)" "$WORK/audit.out"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"

# lost events (ENOBUFS): with a receive buffer too small for one
# transaction's events (PORTWARDEN_EVENT_RCVBUF, for tests only), the
# daemon counts the loss, says so, checks the table, and keeps it
PORTWARDEN_EVENT_RCVBUF=1 daemon_start "$WORK/notify3.sock" "$WORK/p.yaml" ||
	not_ok "daemon ready (tiny event buffer)"
PRISTINE=$(table_text)
nft flush ruleset
if wait_ev repaired 1; then ok "lost events: the table is repaired"
else not_ok "lost events: the table is repaired" "$(tail -3 "$WORK/events" | tr '\n' ' ')"; fi
check_eq "lost events: table restored" "$PRISTINE" "$(table_text)"
check "lost events: a resync event" test "$(ev_count resync)" -ge 1
check "lost events: the daemon still runs" kill -0 "$DAEMON_PID"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
check_eq "lost events: exit 0" 0 "$?"
lost=$(ev_field "$(last_ev repair-stats)" events_lost)
check "lost events: counted (${lost:-none})" test "${lost:-0}" -ge 1
exit $((T_FAILED > 0))
