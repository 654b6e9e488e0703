#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden monitor` (SPEC §9) with real packets over a veth pair:
# every refusal appears exactly once, with the process behind it (pid,
# command name, uid from the kernel), the deciding rule and its FILE:LINE;
# inbound refusals name the listener that would have received them;
# control characters in a command name are escaped; the text format says
# the same; a bad option is a usage error.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours

CLIENT="$TESTS_DIR/tools/monclient.py"
MON_PID=
MON_RC=
mon_stop() {
	MON_RC=
	if [ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null; then
		wait "$MON_PID" 2>/dev/null
		MON_RC=$?
	fi
	MON_PID=
}
trap 'mon_stop; net_cleanup' EXIT

# mon_start OUT ARGS...: start monitor, wait until its NFLOG group is bound
mon_start() {
	local out=$1 i; shift
	"$PORTWARDEN" monitor "$@" > "$out" 2> "$out.err" &
	MON_PID=$!
	for i in $(seq 600); do
		grep -q '^ *1000 ' /proc/net/netfilter/nfnetlink_log 2>/dev/null && return 0
		sleep 0.05
	done
	not_ok "monitor starts" "$(cat "$out.err")"
	return 1
}
# wait_lines FILE N: until FILE has N lines (bounded)
wait_lines() {
	local i
	for i in $(seq 600); do
		[ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# counter RULE: packets counted by the rules with that comment
counter() {
	nft -j list table inet pwmon | python3 -c '
import json, sys
n = 0
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if r and r.get("comment") == sys.argv[1]:
        n += sum(x["counter"]["packets"] for x in r["expr"] if "counter" in x)
print(n)' "$1"
}
# ev FILE PY-EXPR: the events (JSON lines) e for which EXPR holds, one
# "pid comm uid rule at owner" line each
ev() {
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if eval(sys.argv[2]):
        print(e["pid"], e["comm"], e["uid"], e["rule"], e["at"], e["owner"],
              e["verdict"], e["dir"], e["proto"], e["src"], e["dst"],
              e["iif"], e["oif"])' "$1" "$2"
}

P="$WORK/mon.yaml"
policy mon.yaml <<Y
portwarden: 1
table: pwmon
defaults:
  inbound: drop
inbound:
  - name: ssh
    proto: tcp
    port: 22
  - name: no-db
    proto: tcp
    port: 5432
    action: reject
outbound:
  - name: no-web
    proto: tcp
    port: 8080
    to: 10.77.0.2
    action: drop
  - name: no-mdns
    proto: udp
    port: 5353
    action: drop
Y
pw_apply "apply" "$P" || exit 1
serve here 10.77.0.1 5432

OUT="$WORK/ev.json"
mon_start "$OUT" --format json --timeout 60 || exit 1

# outbound: TCP refused (SYN dropped) as nobody, command name pwclient;
# the socket lives 0.6 s, before the first retransmission (1 s)
setpriv --reuid=65534 --regid=65534 --clear-groups \
	$PY "$CLIENT" tcp 10.77.0.2 8080 0.6 > "$WORK/c1" 2>&1
c1=$(awk '/^pid/ { print $2 }' "$WORK/c1")
# outbound: UDP from an unconnected socket, command name with an ESC
PW_COMM=$'pw\033[31mx' setpriv --reuid=65534 --regid=65534 --clear-groups \
	$PY "$CLIENT" udp 10.77.0.2 5353 1 > "$WORK/c2" 2>&1
c2=$(awk '/^pid/ { print $2 }' "$WORK/c2")
# inbound: a listener here refuses through the policy (reject)
in_peer $PY -c '
import socket
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("10.77.0.1", 5432))
except OSError:
    pass'
# inbound: nothing listens, the default drops
in_peer $PY -c '
import socket
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.77.0.1", 9999))'

wait_lines "$OUT" 4
sleep 0.3
mon_stop

check_eq "monitor exits 0 on SIGTERM, nothing on stderr" "0:" "$MON_RC:$(cat "$OUT.err")"
python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    keys = ["time","kind","dir","proto","src","dst","verdict","rule","at",
            "uid","gid","pid","comm","cgroup","iif","oif","staged"]
    assert all(k in e for k in keys), l' "$OUT" 2> "$WORK/keys.err"
check_eq "every event is JSON with the fields of SPEC §9" "" "$(cat "$WORK/keys.err")"

line=$(grep -c . "$OUT")
check_eq "one event per refused packet (4 packets, 4 events)" 4 "$line"

check_eq "outbound tcp refusal: pid, comm, uid, rule, FILE:LINE" \
	"$c1 pwclient 65534 no-web $P:14 process drop out tcp" \
	"$(ev "$OUT" 'e["rule"] == "no-web"' | cut -d' ' -f1-9)"
check_eq "outbound tcp refusal: addresses and interface" \
	"10.77.0.1 10.77.0.2:8080 None veth0" \
	"$(ev "$OUT" 'e["rule"] == "no-web"' | cut -d' ' -f10- | sed 's/:[0-9]* / /')"
check_eq "counter of no-web counted the one SYN the monitor saw" 1 "$(counter no-web)"

check_eq "outbound udp refusal (unconnected socket): pid, uid, rule" \
	"$c2 65534 no-mdns $P:19 process drop" \
	"$(ev "$OUT" 'e["rule"] == "no-mdns"' | awk '{ print $1, $3, $4, $5, $6, $7 }')"
check_eq "control characters in the command name are escaped (JSON)" 1 \
	"$(grep -c 'pw\\u001b\[31mx' "$OUT")"
check_eq "no raw control byte on the output" 0 "$(grep -c $'\033' "$OUT")"

srv=${NET_PIDS[0]}
check_eq "inbound refusal names the listener (pid, comm, rule, FILE:LINE)" \
	"$srv python3 0 no-db $P:9 process reject in tcp" \
	"$(ev "$OUT" 'e["rule"] == "no-db"' | cut -d' ' -f1-9)"
check_eq "inbound refusal: input interface" "veth0 None" \
	"$(ev "$OUT" 'e["rule"] == "no-db"' | awk '{ print $12, $13 }')"
check_eq "default drop with nothing listening: rule default, no listener" \
	"None None default $P:4 no-listener drop in udp" \
	"$(ev "$OUT" 'e["rule"] == "default"' | awk '{ print $1, $2, $4, $5, $6, $7, $8, $9 }')"

# the text format says the same on one line per event
mon_start "$WORK/ev.txt" --format text --count 1 --timeout 20 || exit 1
setpriv --reuid=65534 --regid=65534 --clear-groups \
	$PY "$CLIENT" tcp 10.77.0.2 8080 0.6 > "$WORK/c3" 2>&1
c3=$(awk '/^pid/ { print $2 }' "$WORK/c3")
wait "$MON_PID"; rc=$?; MON_PID=
check_eq "--count 1 exits 0 after one event" 0 "$rc"
check "text event: kind, rule, FILE:LINE, pid, comm, uid" \
	grep -q "denied out tcp 10.77.0.1:[0-9]* -> 10.77.0.2:8080 drop no-web ($P:14) uid=65534 gid=65534 pid=$c3 comm=pwclient" "$WORK/ev.txt"

# A staged record (KIND S, as staged policies log them: the staged rule
# would accept what the enforced one drops) becomes kind staged, the
# enforced side named by evaluating the packet against the live ruleset.
nft -f - <<'N'
table inet pwstagesim {
	chain output {
		type filter hook output priority -10; policy accept;
		meta l4proto tcp th dport 8080 log prefix "pw1 S out accept web-ok /etc/pw/stage.yaml:3 drop" group 1000
	}
}
N
mon_start "$WORK/st.json" --format json --count 2 --timeout 20 || exit 1
$PY "$CLIENT" tcp 10.77.0.2 8080 0.6 > "$WORK/c4" 2>&1
c4=$(awk '/^pid/ { print $2 }' "$WORK/c4")
wait "$MON_PID"; MON_PID=
check_eq "staged record: enforced verdict, rule, FILE:LINE; staged verdict, rule, FILE:LINE; pid" \
	"staged drop no-web $P:14 accept web-ok /etc/pw/stage.yaml:3 $c4 pwclient" \
	"$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["kind"] == "staged":
        s = e["staged"]
        print(e["kind"], e["verdict"], e["rule"], e["at"], s["verdict"], s["rule"], s["at"], e["pid"], e["comm"])' "$WORK/st.json")"
check_eq "the enforced drop is its own denied event" 1 "$(grep -c '"kind": "denied"' "$WORK/st.json")"
nft delete table inet pwstagesim

# The daemon's `learned` and `repaired` events (JSON lines it appends to
# RUN_DIR/net-INODE/events) are passed on; what was there before monitor
# started, other kinds and malformed lines are not.
EVF=/run/portwarden/net-$(stat -L -c %i /proc/self/ns/net)/events
mkdir -p "$(dirname "$EVF")"
echo '{"time": "t0", "kind": "learned", "name": "old.example"}' > "$EVF"
mon_start "$WORK/de.json" --format json --count 2 --timeout 20 || exit 1
{
	echo '{"time": "t1", "kind": "drift", "table": "pwmon"}'
	printf '{"time": "t2", "kind": "learned", "name": "bad\033"}\n'
	echo '{"time": "t3", "kind": "learned", "name": "example.com", "addresses": ["192.0.2.7"], "ttl": 60}'
	echo '{"time": "t4", "kind": "repaired", "table": "pwmon"}'
} >> "$EVF"
wait "$MON_PID"; MON_PID=
check_eq "daemon events: learned and repaired passed on, nothing else" \
	"t3 learned example.com|t4 repaired None|" \
	"$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    sys.stdout.write("%s %s %s|" % (e["time"], e["kind"], e.get("name")))' "$WORK/de.json")"

# A rule added above moves every FILE:LINE below it: those rules are
# replaced (their prefix changed) but keep their counters (SPEC §7).
before=$(counter no-web)
sed 's/^inbound:$/inbound:\n  - name: new-first\n    proto: tcp\n    port: 23/' "$P" > "$WORK/mon2.yaml"
out=$("$PORTWARDEN" apply "$WORK/mon2.yaml" --format json 2>&1)
check "apply with lines moved" test "$(counter new-first)" = 0
check_eq "no-web kept its counter though its FILE:LINE moved" "$before" "$(counter no-web)"
check "the NFLOG prefix names the new line" \
	grep -q "pw1 D out drop no-web $WORK/mon2.yaml:17\"" <(nft list table inet pwmon)

# One reader per group: a second monitor on the group says who is in the way
mon_start "$WORK/first.json" --format json --timeout 20 || exit 1
"$PORTWARDEN" monitor --timeout 1 > /dev/null 2> "$WORK/second.err"
rc=$?
check_eq "a second reader of the group fails (exit 3)" 3 "$rc"
check "... and says another program reads the group" \
	grep -q 'cannot bind NFLOG group 1000: another program reads it' "$WORK/second.err"
check "--group picks another group beside it" \
	"$PORTWARDEN" monitor --group 1001 --timeout 1
mon_stop

check_rc "bad --group is a usage error" 2 "$PORTWARDEN" monitor --group 70000
check_rc "--netns with --all-netns is a usage error" 2 \
	"$PORTWARDEN" monitor --netns peer --all-netns
check_rc "--count is monitor's alone" 2 "$PORTWARDEN" status --count 1
exit $((T_FAILED > 0))
