#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Incremental apply with real packets (SPEC §7): packets sent over a veth
# pair are counted by the kernel; applying a changed policy keeps the
# counters (and handles) of the rules it did not change, new rules start
# at 0; a change that needs the table recreated carries the counters
# over; rollback is incremental too. And kill -9 during an incremental
# apply leaves the old table or the new one, never a mix.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup

T=pwcnt
# rule -> "HANDLE PACKETS" for every rule of table $T, from the kernel
counters() {
	nft -j -a list table inet $T | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    r = o.get("rule")
    if not r or "comment" not in r:
        continue
    pk = [x["counter"]["packets"] for x in r["expr"] if "counter" in x]
    if pk:
        print("%s/%s %d %d" % (r["chain"], r["comment"], r["handle"], pk[0]))'
}
field() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$WORK/cnt"; }
# send N UDP datagrams from the peer to this host's PORT
send_udp() { # PORT N
	in_peer $PY -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"x", ("'$HERE4'", int(sys.argv[1])))' "$1" "$2"
}
pwj() { "$PORTWARDEN" "$@" --format json 2> "$WORK/err"; }
jfield() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2]))' "$1" "$2" 2>/dev/null; }

policy p1.yaml <<Y
portwarden: 1
table: $T
defaults: { inbound: drop, outbound: accept }
established: false
inbound:
  - { name: u7000, proto: udp, port: 7000 }
  - { name: u7001, proto: udp, port: 7001, from: [$PEER4, 10.9.9.9] }
  - { name: gone, proto: tcp, port: 9999 }
Y
# p2: a rule inserted before the others, one removed, an address added
# to u7001's set, the inbound default changed (drop -> reject)
policy p2.yaml <<Y
portwarden: 1
table: $T
defaults: { inbound: reject, outbound: accept }
established: false
inbound:
  - { name: first, proto: tcp, port: 5555 }
  - { name: u7000, proto: udp, port: 7000 }
  - { name: u7001, proto: udp, port: 7001, from: [$PEER4, 10.9.9.9, 10.9.9.10] }
Y
# p3: u7001's addresses become a prefix list: its set needs flags
# interval, which cannot change in place, so the table is recreated
policy p3.yaml <<Y
portwarden: 1
table: $T
defaults: { inbound: reject, outbound: accept }
established: false
inbound:
  - { name: first, proto: tcp, port: 5555 }
  - { name: u7000, proto: udp, port: 7000 }
  - { name: u7001, proto: udp, port: 7001, from: [$PEER4, 10.9.9.0/24] }
Y

pw_apply "apply p1" -q "$WORK/p1.yaml"
send_udp 7000 20
send_udp 7001 7
counters > "$WORK/cnt"
check_eq "kernel counted 20 packets on u7000" 20 "$(field input/u7000 3)"
check_eq "kernel counted 7 packets on u7001" 7 "$(field input/u7001 3)"
h7000=$(field input/u7000 2) h7001=$(field input/u7001 2)

out=$(pwj apply "$WORK/p2.yaml")
check_eq "apply p2 changed" True "$(jfield "$out" changed)"
counters > "$WORK/cnt"
check_eq "u7000 kept its counter" 20 "$(field input/u7000 3)"
check_eq "u7000 kept its handle" "$h7000" "$(field input/u7000 2)"
check_eq "u7001 kept its counter (its set changed, not the rule)" 7 "$(field input/u7001 3)"
check_eq "u7001 kept its handle" "$h7001" "$(field input/u7001 2)"
check_eq "the new rule starts at 0" 0 "$(field input/first 3)"
check_eq "the removed rule is gone" "" "$(field input/gone 3)"
check_eq "JSON counters_kept: u7000 and u7001" 2 "$(jfield "$out" counters_kept)"
check_eq "the new rule stands first" "first" \
	"$(nft -j list chain inet $T input | python3 -c 'import json,sys; print([o["rule"]["comment"] for o in json.load(sys.stdin)["nftables"] if "comment" in o.get("rule", {})][0])')"
nft -s list table inet $T > "$WORK/inc.list"
# the table equals a fresh apply of p2 (another namespace)
ip netns add pwfresh
ip netns exec pwfresh "$PORTWARDEN" apply -q "$WORK/p2.yaml" 2>/dev/null
ip netns exec pwfresh nft -s list table inet $T > "$WORK/fresh.list"
check "incremental p2 lists like a fresh p2" diff -u "$WORK/fresh.list" "$WORK/inc.list"
send_udp 7000 5
send_udp 7001 1
counters > "$WORK/cnt"
check_eq "u7000 counts on (25)" 25 "$(field input/u7000 3)"

out=$(pwj apply "$WORK/p3.yaml")
check_eq "apply p3 changed" True "$(jfield "$out" changed)"
counters > "$WORK/cnt"
check_eq "recreated table: u7000 counter carried over" 25 "$(field input/u7000 3)"
check_eq "recreated table: u7001 counter carried over" 8 "$(field input/u7001 3)"
# first, u7000, u7001 and the two rules of the (unchanged) reject default
check_eq "JSON counters_kept after the recreation" 5 "$(jfield "$out" counters_kept)"
ip netns exec pwfresh nft delete table inet $T
ip netns exec pwfresh "$PORTWARDEN" apply -q "$WORK/p3.yaml" 2>/dev/null
check "recreated p3 lists like a fresh p3 (but for counters)" diff -u \
	<(ip netns exec pwfresh nft list table inet $T | sed 's/packets [0-9]* bytes [0-9]*//') \
	<(nft list table inet $T | sed 's/packets [0-9]* bytes [0-9]*//')

# rollback (to p2) is incremental: u7000 keeps its counter
"$PORTWARDEN" rollback -q 2> "$WORK/err"
check_eq "rollback exits 0" 0 $?
counters > "$WORK/cnt"
check_eq "after rollback: u7000 still counts 25" 25 "$(field input/u7000 3)"
check "after rollback: the table is p2 again" diff -u \
	<(sed 's/packets [0-9]* bytes [0-9]*//' "$WORK/fresh.list") \
	<(nft -s list table inet $T | sed 's/packets [0-9]* bytes [0-9]*//')
check "no apply had to fall back to recreating" test ! -s "$WORK/err"

# ---- kill -9 during an incremental apply: the old table or the new ----
T2=pwkill
python3 - "$WORK" <<'PY'
import sys
d = sys.argv[1]
def pol(name, lo, hi):
    y = ["portwarden: 1", "table: pwkill", "sets:", "  block:"]
    y += ["    - 10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255) for i in range(lo, hi)]
    y += ["inbound:", "  - { name: block, from: $block, action: drop }",
          "  - { name: web, proto: tcp, port: %d }" % (80 if lo == 0 else 8080)]
    open("%s/%s" % (d, name), "w").write("\n".join(y) + "\n")
# 40,000 hosts; the new one replaces 20,000 of them and changes a rule
pol("k1.yaml", 0, 40000)
pol("k2.yaml", 20000, 60000)
PY
chmod 644 "$WORK"/k1.yaml "$WORK"/k2.yaml
ip netns exec pwfresh "$PORTWARDEN" apply -q "$WORK/k2.yaml"
ip netns exec pwfresh nft -s list table inet $T2 | md5sum > "$WORK/k2.sum"
ip netns exec pwfresh nft delete table inet $T2
"$PORTWARDEN" apply -q "$WORK/k1.yaml"
nft -s list table inet $T2 | md5sum > "$WORK/k1.sum"
mixed=0 olds=0 news=0
for i in $(seq 12); do
	"$PORTWARDEN" apply -q --force "$WORK/k$((i % 2 + 1)).yaml" >/dev/null 2>&1	# start from either
	start=$(nft -s list table inet $T2 | md5sum)
	next=$([ "$start" = "$(cat "$WORK/k1.sum")" ] && echo k2 || echo k1)
	"$PORTWARDEN" apply -q --force "$WORK/$next.yaml" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%02d' $((RANDOM % 40)))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	now=$(nft -s list table inet $T2 | md5sum)
	if [ "$now" = "$start" ]; then olds=$((olds + 1))
	elif [ "$now" = "$(cat "$WORK/$next.sum")" ]; then news=$((news + 1))
	else mixed=$((mixed + 1)); nft -s list table inet $T2 > "/tmp/pw-kill-mixed-$i.list" 2>&1; fi
done
check_eq "kill -9 mid-apply: never a mix of old and new (old $olds, new $news)" 0 "$mixed"
ip netns del pwfresh
exit 0
