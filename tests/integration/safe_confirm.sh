#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# apply --confirm N: the detached timer restores the previous table after
# N seconds unless `confirm` ran, also when the calling shell has exited and
# the timer got SIGHUP; a confirmed apply stays; confirm is idempotent and
# says when it came too late; --netns keeps the timer in that namespace.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

T=pwsafe
WORK=$(mktemp -d /run/pwsafe.XXXXXX)
cleanup() {
	ip netns del pwconfirm 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
umask 022

cat > "$WORK/p1.yaml" <<EOF
portwarden: 1
table: $T
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF
cat > "$WORK/p2.yaml" <<EOF
portwarden: 1
table: $T
defaults: { outbound: drop }
outbound:
  - { name: https, proto: tcp, port: 443 }
EOF

live() { nft -s list table inet $T 2>/dev/null || echo absent; }
live_ns() { ip netns exec pwconfirm nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > "$WORK/out" 2>&1; }
timer_pid() { sed -n 's/.*timer pid \([0-9]*\).*/\1/p' "$WORK/out" | head -1; }
# wait_for SECONDS CMD...: poll until CMD succeeds; fail after SECONDS
wait_for() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}
# gone PID: exited (a zombie waiting for init to reap it counts)
gone() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null); [ -z "$st" ] || [[ $st == Z* ]]; }
is_absent() { [ "$(live)" = absent ]; }
is_live() { [ "$(live)" = "$1" ]; }

# 1. unconfirmed, from a shell that exits at once, timer hit by SIGHUP:
#    rolled back (here: the table removed) within about 2 s, not before
check_eq "no table at start" absent "$(live)"
start=$SECONDS
bash -c '"$0" apply --confirm 2 "$1" > "$2" 2>&1; exit 0' \
	"$PORTWARDEN" "$WORK/p1.yaml" "$WORK/out"
L1=$(live)
check "apply --confirm applied at once" test "$L1" != absent
check "apply --confirm printed how to confirm" grep -q "portwarden confirm" "$WORK/out"
pid=$(timer_pid)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	ok "timer runs after its caller exited"
	tsid=$(ps -o sid= -p "$pid" | tr -d ' ')
	check "timer left the caller's session" test -n "$tsid" -a "$tsid" != "$(ps -o sid= -p $$ | tr -d ' ')"
	check "timer is not a session leader (cannot regain a terminal)" test "$tsid" != "$pid"
	kill -HUP "$pid"
else
	not_ok "timer runs after its caller exited" "pid '$pid': $(cat "$WORK/out")"
fi
sleep 1
check "not rolled back before the deadline" test "$(live)" = "$L1"
if wait_for 3 is_absent; then ok "unconfirmed apply rolled back in time"
else not_ok "unconfirmed apply rolled back in time" "still live after $((SECONDS - start)) s"; fi
check "timer exited after its work" wait_for 2 gone "$pid"
rc=0; pw confirm || rc=$?
check_eq "confirm after the timer fired exits 3" 3 "$rc"
check "confirm after the timer fired says too late" grep -q "too late" "$WORK/out"

# 2. unconfirmed over an existing table: that table comes back exactly
pw apply "$WORK/p1.yaml"
pw apply --confirm 2 "$WORK/p2.yaml"
L2=$(live)
check "p2 live while waiting" test "$L2" != "$L1"
if wait_for 4 is_live "$L1"; then ok "timer restored the previous table"
else not_ok "timer restored the previous table" "$(live | head -3)"; fi

# 3. confirmed: the new table stays, the timer goes away
pw apply --confirm 2 "$WORK/p2.yaml"
pid=$(timer_pid)
if pw confirm; then ok "confirm exit 0"; else not_ok "confirm exit 0" "$(cat "$WORK/out")"; fi
check "confirm says confirmed" grep -q "confirmed" "$WORK/out"
check "timer stands down after confirm" wait_for 2 gone "${pid:-1}"
sleep 2.5
check_eq "confirmed apply stays" "$L2" "$(live)"
if pw confirm; then ok "second confirm exit 0"; else not_ok "second confirm exit 0" "$(cat "$WORK/out")"; fi
check "second confirm says nothing to confirm" grep -q "nothing to confirm" "$WORK/out"

# 3b. confirm --format json
pw apply --confirm 5 "$WORK/p1.yaml"
"$PORTWARDEN" confirm --format json > "$WORK/json" 2>&1
check_eq "confirm --format json" "True pwsafe" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["confirmed"], d["table"])' "$WORK/json" 2>&1)"
pw apply "$WORK/p2.yaml"
check_eq "back to p2" "$L2" "$(live)"

# 4. a newer apply supersedes a waiting timer: it must not undo the newer one
pw apply --confirm 1 "$WORK/p1.yaml"
check "the superseded apply armed a timer" grep -q "timer pid" "$WORK/out"
pw apply "$WORK/p2.yaml"
sleep 2
check_eq "old timer does not undo a newer apply" "$L2" "$(live)"

# 5. --netns: the timer rolls back in that namespace, not here
ip netns add pwconfirm
before_here=$(live)
if pw apply --netns pwconfirm --confirm 2 "$WORK/p1.yaml"; then ok "apply --netns --confirm"
else not_ok "apply --netns --confirm" "$(cat "$WORK/out")"; fi
check "table is in the other namespace" test "$(live_ns)" != absent
check "confirm hint names the namespace" grep -q "confirm --netns pwconfirm" "$WORK/out"
ns_absent() { [ "$(live_ns)" = absent ]; }
if wait_for 4 ns_absent; then ok "timer rolled back in the other namespace"
else not_ok "timer rolled back in the other namespace" "$(live_ns | head -3)"; fi
check_eq "this namespace was not touched" "$before_here" "$(live)"

exit $((T_FAILED > 0))
