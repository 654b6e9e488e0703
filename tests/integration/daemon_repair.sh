#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# portwarden daemon keeps the table as applied (SPEC §12): started as
# systemd starts it (NOTIFY_SOCKET, READY=1), it restores the table after
# `nft flush ruleset`, `nft delete table`, `nft delete rule`, a foreign rule
# added, and Debian's shipped /etc/nftables.conf, each time with a
# `repaired` event naming nft and its pid; allowed traffic flows after the
# repair and counters of untouched rules survive a deleted rule. portwarden's
# own flush, apply of another policy and rollback are left alone. SIGHUP
# re-applies the policy incrementally; SIGTERM exits 0 leaving the table.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
. "$TESTS_DIR/daemonlib.sh"
net_setup

policy p.yaml <<EOF
portwarden: 1
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
  - { name: web, proto: tcp, port: 8080 }
EOF
policy p2.yaml <<EOF
portwarden: 1
defaults: { inbound: drop }
inbound:
  - { name: web, proto: tcp, port: 8080 }
  - { name: alt, proto: tcp, port: 8443 }
EOF
serve here "$HERE4" 22,8080,8443

# rule_handle CHAIN NAME: the handle of the rule with that comment
rule_handle() {
	nft -a list chain inet portwarden "$1" | sed -n "s/.*comment \"$2\" # handle \([0-9]*\)$/\1/p"
}
# rule_packets CHAIN NAME: its packet counter
rule_packets() {
	nft list chain inet portwarden "$1" | sed -n "/comment \"$2\"/s/.*counter packets \([0-9]*\).*/\1/p"
}
# foreign COMMAND...: run an nft command in the background, as another
# program would; sets $FPID to its pid
foreign() { "$@" & FPID=$!; wait $FPID; }
# expect_repair NAME N WHAT: the Nth repaired event names nft, $FPID and WHAT
expect_repair() {
	local line
	if ! wait_ev repaired "$2"; then
		not_ok "$1: repaired" "no repaired event within 5 s: $(tail -3 "$WORK/events" | tr '\n' ' ')"
		return
	fi
	line=$(last_ev repaired)
	check_eq "$1: repaired event names nft" nft "$(ev_field "$line" comm)"
	check_eq "$1: repaired event names its pid" "$FPID" "$(ev_field "$line" pid)"
	check_eq "$1: repaired event says what changed" "$3" "$(ev_field "$line" what)"
	check_eq "$1: table restored" "$PRISTINE" "$(table_text)"
}

# more than 5 repairs in the back-off window are a conflict (that is
# daemon_backoff.sh); this suite makes 5 in its first seconds
export PORTWARDEN_REPAIR_WINDOW=2s
if daemon_start "$WORK/notify.sock" "$WORK/p.yaml"; then ok "daemon ready (READY=1)"
else not_ok "daemon ready (READY=1)" "$(cat "$WORK/events")"; exit 1; fi
check "daemon applied the policy" grep -q "^[^ ]* applied table=portwarden changed=true" "$WORK/events"
PRISTINE=$(table_text)
check "table present" test "$PRISTINE" != absent

# 1. the ways another program removes or changes the table
foreign nft flush ruleset
expect_repair "flush ruleset" 1 "table deleted"
foreign nft delete table inet portwarden
expect_repair "delete table" 2 "table deleted"

# counters: traffic on "web", then "ssh" deleted by hand
expect_probes 0.7 <<T
web-before peer root tcp $HERE4 8080 open
T
before=$(rule_packets input web)
check "web rule counted the connection" test "${before:-0}" -gt 0
h=$(rule_handle input ssh)
foreign nft delete rule inet portwarden input handle "$h"
expect_repair "delete rule" 3 "rule handle $h deleted from chain input"
after=$(rule_packets input web)
check_eq "counter of the untouched rule survives" "$before" "$after"

foreign nft --echo --handle add rule inet portwarden input tcp dport 9999 accept > "$WORK/echo"
h=$(sed -n 's/.*# handle \([0-9]*\)$/\1/p' "$WORK/echo")
expect_repair "foreign rule" 4 "foreign rule handle $h added to chain input"

# Debian's nftables.service configuration starts with `flush ruleset`
conf=/etc/nftables.conf
[ -f "$conf" ] || conf=$(ls /usr/share/doc/nftables/examples/sysvinit/nftables.conf 2>/dev/null)
if [ -n "$conf" ] && [ -f "$conf" ]; then
	foreign nft -f "$conf"
	expect_repair "nft -f $conf" 5 "table deleted"
	check "the configuration's own table stays" nft list table inet filter
else
	not_ok "nft -f /etc/nftables.conf" "no nftables.conf shipped (package nftables)"
fi

# allowed traffic flows after the repairs, the default still drops
expect_probes 0.7 <<T
web-after-repair   peer root tcp $HERE4 8080 open
ssh-after-repair   peer root tcp $HERE4 22   open
other-after-repair peer root tcp $HERE4 8443 drop
T

# 2. portwarden's own changes are not drift
n=$(ev_count repaired)
"$PORTWARDEN" flush > /dev/null 2>&1
sleep 1
check_eq "after portwarden flush the table stays gone" absent "$(table_text)"
check_eq "no repair after portwarden flush" "$n" "$(ev_count repaired)"

"$PORTWARDEN" apply "$WORK/p2.yaml" > /dev/null 2>&1
P2=$(table_text)
sleep 1
check_eq "no repair after apply of another policy" "$n" "$(ev_count repaired)"
check_eq "the other policy stays" "$P2" "$(table_text)"
foreign nft delete table inet portwarden
if wait_ev repaired $((n + 1)); then ok "drift after another apply repaired"
else not_ok "drift after another apply repaired"; fi
check_eq "the policy the last apply used is restored" "$P2" "$(table_text)"

"$PORTWARDEN" rollback > /dev/null 2>&1
sleep 1
check_eq "no repair after rollback" "$((n + 1))" "$(ev_count repaired)"
check_eq "rollback's table stays (none: flushed before p2)" absent "$(table_text)"

# the rollback record decides, not the process name: portwarden under
# another name (as under valgrind) is recognised by what it recorded
cp "${PORTWARDEN_REAL:-$PORTWARDEN}" "$WORK/pwcopy"
"$WORK/pwcopy" apply "$WORK/p2.yaml" > /dev/null 2>&1
sleep 1
check_eq "renamed portwarden's apply: no repair" "$((n + 1))" "$(ev_count repaired)"
check_eq "renamed portwarden's apply stays" "$P2" "$(table_text)"
"$WORK/pwcopy" rollback > /dev/null 2>&1
sleep 1
check_eq "renamed portwarden's rollback: no repair" "$((n + 1))" "$(ev_count repaired)"
check_eq "renamed portwarden's rollback stays" absent "$(table_text)"

# 3. SIGHUP re-applies the daemon's policy, incrementally
"$PORTWARDEN" apply "$WORK/p.yaml" > /dev/null 2>&1
expect_probes 0.7 <<T
web-before-hup peer root tcp $HERE4 8080 open
T
before=$(rule_packets input web)
cat >> "$WORK/p.yaml" <<EOF
  - { name: alt, proto: tcp, port: 8443 }
EOF
kill -HUP "$DAEMON_PID"
if wait_ev reloaded 1; then ok "SIGHUP: reloaded event"; else not_ok "SIGHUP: reloaded event"; fi
for i in $(seq 40); do grep -A1 RELOADING=1 "$WORK/notify.out" | grep -q READY=1 && break; sleep 0.05; done
check "SIGHUP: RELOADING=1 then READY=1" bash -c "grep -A1 RELOADING=1 '$WORK/notify.out' | grep -q READY=1"
check "SIGHUP: the new rule is live" nft list chain inet portwarden input | grep -q 'comment "alt"'
check_eq "SIGHUP: counters kept" "$before" "$(rule_packets input web)"
check_eq "SIGHUP: no repair for the daemon's own apply" "$((n + 1))" "$(ev_count repaired)"

before=$(table_text)
cp "$WORK/p.yaml" "$WORK/p.good"
echo "  - { name: broken, proto: tcp, port: 70000 }" >> "$WORK/p.yaml"
kill -HUP "$DAEMON_PID"
if wait_ev reload-failed 1; then ok "SIGHUP with a broken policy: reload-failed event"
else not_ok "SIGHUP with a broken policy: reload-failed event"; fi
check "SIGHUP with a broken policy: the error names the line" grep -q "p.yaml:7:.*error" "$WORK/events"
check "SIGHUP with a broken policy: the daemon keeps running" kill -0 "$DAEMON_PID"
check_eq "SIGHUP with a broken policy: the table stays" "$before" "$(table_text)"
cp "$WORK/p.good" "$WORK/p.yaml"
check_eq "no conflict in this suite" 0 "$(ev_count conflict)"

# a process name with control bytes is escaped in the event line
weird=$(printf 'nf\tt\033x')
cp "$(command -v nft)" "$WORK/$weird"
n=$(ev_count repaired)
"$WORK/$weird" delete table inet portwarden & FPID=$!; wait $FPID
if wait_ev repaired $((n + 1)); then ok "a weirdly named process: repaired"
else not_ok "a weirdly named process: repaired"; fi
check "its name is escaped" grep -q 'comm="nf\\x09t\\x1bx"' "$WORK/events"
check "no raw control byte in the events" test -z "$(tr -d '\n' < "$WORK/events" | tr -d '[:print:]')"
# the same events as JSON lines for monitor, one object each
if $PY - /run/portwarden/net-*/events "$FPID" <<'PY'
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
rep = [e for e in evs if e["kind"] == "repaired"]
assert rep and rep[-1]["pid"] == int(sys.argv[2]), rep[-1:]
assert rep[-1]["comm"] == "nf\tt\x1bx", rep[-1]["comm"]
assert all("time" in e for e in evs)
PY
then ok "events file: JSON lines, the repair with pid and name"
else not_ok "events file: JSON lines, the repair with pid and name"; fi

# 4. SIGTERM: exit 0, the table stays
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check_eq "SIGTERM: exit 0" 0 "$?"
# the listener may print it a moment after the daemon is gone
for i in $(seq 40); do grep -q STOPPING=1 "$WORK/notify.out" && break; sleep 0.05; done
check "SIGTERM: STOPPING=1" grep -q STOPPING=1 "$WORK/notify.out"
check "SIGTERM: the table stays" nft list chain inet portwarden input
exit $((T_FAILED > 0))
