#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden learn` (SPEC §10) in namespaces: real services and clients of
# several users (root, nobody, daemon via setpriv), on several ports and
# destinations, TCP and connected UDP, run while `learn --duration N`
# watches; a monitor events file adds a connection the sockets never
# showed and hostnames the daemon learned (its events and its state
# file). The proposal passes check
# and test; applied, the same traffic passes, and a new port, a new
# destination, a new user and a new inbound
# service are refused (real connections); 200 connections to 200 hosts of
# one /24 become one element of one rule. With --by cgroup, the rule names
# the client's cgroup and lets only that cgroup through; --netns reads
# another namespace's sockets; `portwarden monitor`'s own JSON log of a refused
# call becomes the rule for it.
# (UDP goes to the peer's first address: its echo server is bound to
# 0.0.0.0 and answers from that one.)
# LEARN_SECONDS overrides the watch (default 3); LEARN_KEEP=FILE keeps a
# copy of the proposal.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
TRAFFIC="$TESTS_DIR/tools/learn_traffic.py"
SECS=${LEARN_SECONDS:-3}

# 200 hosts of 10.78.0.0/24 behind the peer
ip -n peer addr add 10.78.0.254/24 dev veth1
for i in $(seq 1 200); do echo "addr add 10.78.0.$i/32 dev veth1"; done | ip -n peer -b -
ip route add 10.78.0.0/24 via 10.77.0.2

start_bg() { # WHERE USER CMD...: a server; waits for "ready"
	local where=$1 user=$2 fifo="$WORK/bg.$RANDOM" line; shift 2
	mkfifo "$fifo"
	run_as "$where" "$user" "$@" > "$fifo" 2>&1 &
	NET_PIDS+=($!)
	if ! read -r -t 5 line < "$fifo" || [ "$line" != ready ]; then
		not_ok "environment" "server $* did not start: $line"; exit 1
	fi
	rm -f "$fifo"
}
as_uid() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }

# services: peer answers on every address; here, a service as nobody and
# one that nobody connects to
start_bg peer root $PY "$TRAFFIC" serve 0.0.0.0 443,5353,8443,8444,9000
start_bg here nobody $PY "$TRAFFIC" serve 0.0.0.0 8080
start_bg here root $PY "$TRAFFIC" serve 0.0.0.0 2222

# a monitor event (SPEC §9 shape) for a connection the snapshots never see,
# and lines learn must skip without harm
uid_nobody=$(id -u nobody)
{
	printf '%s\n' '{"time": "2026-11-30T03:00:00.000001Z", "kind": "denied", "dir": "out", "proto": "tcp", "src": "10.77.0.1:40000", "dst": "10.77.0.3:9000", "verdict": "reject", "rule": null, "at": null, "uid": '"$uid_nobody"', "gid": null, "pid": 42, "comm": "curl", "cgroup": "/user.slice", "iif": null, "oif": "veth0", "staged": false}'
	printf '%s\n' '{"time": "2026-11-30T03:00:01Z", "kind": "lost", "count": 3}'
	printf '%s\n' '{"time": "2026-11-30T03:00:02Z", "kind": "learned", "name": "api.example.test", "addresses": ["10.77.0.3", "fd77::3"], "ttl": 300}'
	printf '%s\n' 'not json at all' '{"kind": "denied", "dir": "out", "proto": "tcp", "src": "x", "dst": "10.77.0.3:9"}'
	printf '{"kind": "denied", "dir": "out", "proto": "tcp", "dst": "10.77.0.3:%s"}\n' 99999
	head -c 3000 /dev/urandom | tr -d '\n' ; echo
} > "$WORK/events.json"

# the daemon's learned-address file (SPEC §8), one line of it broken
mkdir -p "$WORK/state"
printf '%s\n' 'portwarden-learned 1' "mirror.example.test 4 10.77.0.2 $(( $(date +%s) + 3600 ))" \
	'not a line' > "$WORK/state/learned-portwarden"
PORTWARDEN_STATE_DIR=$WORK/state \
	"$PORTWARDEN" learn --duration "$SECS" --events "$WORK/events.json" > "$WORK/proposal.yaml" 2> "$WORK/learn.err" &
learner=$!
NET_PIDS+=($learner)
sleep 0.4
hold=$((SECS - 1))
targets200=$(for i in $(seq 1 200); do printf '10.78.0.%s:443 ' "$i"; done)
# shellcheck disable=SC2086
$PY "$TRAFFIC" hold $hold tcp 10.77.0.2:443 10.77.0.3:443 $targets200 > "$WORK/h1" &
holders=($!)
as_uid "$uid_nobody" $PY "$TRAFFIC" hold $hold tcp 10.77.0.2:8443 > "$WORK/h2" &
holders+=($!)
as_uid 1 $PY "$TRAFFIC" hold $hold udp 10.77.0.2:5353 > "$WORK/h3" &
holders+=($!)
in_peer $PY "$TRAFFIC" hold $hold tcp 10.77.0.1:8080 > "$WORK/h4" &
holders+=($!)
NET_PIDS+=("${holders[@]}")
wait "${holders[@]}"
held=$(cat "$WORK"/h1 "$WORK"/h2 "$WORK"/h3 "$WORK"/h4 | tr '\n' ' ')
check_eq "the clients held their connections" "held 202 failed 0 held 1 failed 0 held 1 failed 0 held 1 failed 0 " "$held"
timeout 30 tail --pid="$learner" -f /dev/null
wait "$learner"; rc=$?
P=$WORK/proposal.yaml
[ -n "${LEARN_KEEP:-}" ] && cp "$P" "$LEARN_KEEP"	# a copy to look at
chmod 0644 "$P"
check_eq "learn exits 0 and prints a proposal" "0 yes" "$rc $(grep -q '^portwarden: 1' "$P" && echo yes || echo "no: $(head -3 "$WORK/learn.err")")"

# --- the proposal -----------------------------------------------------------
out=$("$PORTWARDEN" check "$P" 2>&1); rc=$?
check_eq "check accepts the proposal" "0" "$rc"
[ "$rc" = 0 ] || { echo "# $out"; sed 's/^/# /' "$P"; }
out=$("$PORTWARDEN" test "$P" 2>&1); rc=$?
check_eq "the proposal's own tests pass" "0" "$rc"
[ "$rc" = 0 ] && [ "$(grep -c '^PASS ' <<<"$out")" -ge 5 ] || echo "# $out"
rules() { awk '/^outbound:/{o=1} /^(tests|inbound|listeners):/{o=0} o && /^  - name:/' "$P"; }
check_eq "outbound rules per port and user (root 443, nobody 8443, daemon udp 5353, nobody 9000 from the event)" \
	"out-tcp-443-root out-tcp-8443-nobody out-tcp-9000-nobody out-udp-5353-daemon" \
	"$(rules | awk '{print $3}' | sort | tr '\n' ' ' | sed 's/ $//')"
to443=$(awk '/name: out-tcp-443-root/{f=1} f && /^    to:/{print; exit}' "$P")
check_eq "200 hosts of one /24: one element, widened, beside the two single hosts" \
	'    to: ["10.77.0.2", "10.77.0.3", "10.78.0.0/24"]' "$to443"
grep -q '^  # 10.78.0.0/24: widened from 200 addresses seen$' "$P" &&
	grep -q 'comment: "202 connections .*Z to .*Z; a /24 widened from 200 addresses"' "$P" &&
	ok "the comments say how often, when, and what was widened" ||
	not_ok "the comments say how often, when, and what was widened" "$(grep -n 'comment\|widened' "$P" | head -5)"
check_eq "the proposal stays small (lines)" "yes" "$([ "$(wc -l < "$P")" -lt 80 ] && echo yes || echo "no: $(wc -l < "$P")")"
grep -q '^  - { proto: tcp, port: 8080, process: "python3" }$' "$P" &&
	grep -q '^  - { proto: tcp, port: 2222, process: "python3" }$' "$P" &&
	grep -q '^  - name: in-tcp-8080$' "$P" && grep -q '^  - name: in-tcp-2222$' "$P" &&
	ok "listeners with their processes, and an inbound rule per listening port" ||
	not_ok "listeners with their processes, and an inbound rule per listening port" "$(sed -n '/^listeners:/,/^outbound:/p' "$P" | head -20)"
grep -q '^# 2 monitor events used of 7 (4 unreadable lines skipped)' "$P" &&
	ok "the events file: a connection and a learned name used, bad lines skipped and counted" ||
	not_ok "the events file: a connection and a learned name used, bad lines skipped and counted" "$(head -3 "$P")"
check_eq "the daemon's learned names are said next to the addresses (events and state file)" "2 3 yes" \
	"$(grep -c '^  # 10.77.0.3 is api.example.test (learned by the daemon)$' "$P") $(grep -c '^  # 10.77.0.2 is mirror.example.test (learned by the daemon)$' "$P") $(grep -q '^# Hostnames: 3 addresses named (learned events, 1 daemon state file; unreadable lines skipped), shown as comments\.$' "$P" && echo yes || echo "no: $(sed -n 3p "$P")")"

# --- applied: the same traffic passes, new traffic is refused ---------------
if pw_apply "apply the proposal" "$P"; then
	start_bg here root $PY "$TRAFFIC" serve 0.0.0.0 9999	# a new service
	expect_probes 1.5 <<'EOF'
same-root-443-a        here root   tcp 10.77.0.2 443  open
same-root-443-b        here root   tcp 10.77.0.3 443  open
same-root-443-wide     here root   tcp 10.78.0.77 443 open
same-nobody-8443       here nobody tcp 10.77.0.2 8443 open
event-nobody-9000      here nobody tcp 10.77.0.3 9000 open
same-in-8080           peer root   tcp 10.77.0.1 8080 open
listener-in-2222       peer root   tcp 10.77.0.1 2222 open
new-port-root-8444     here root   tcp 10.77.0.2 8444 refused
new-dest-root-443      here root   tcp 10.77.0.4 443  refused
new-dest-outside-24    here root   tcp 10.77.0.2 9000 refused
new-user-nobody-443    here nobody tcp 10.77.0.2 443  refused
new-proto-root-udp     here root   udp 10.77.0.2 5353 refused
new-service-in-9999    peer root   tcp 10.77.0.1 9999 drop
EOF
	got=$(printf 'd1 udp 10.77.0.2 5353\nd2 tcp 10.77.0.2 443\n' | as_uid 1 $PY "$PROBE" run -t 1.5 | tr '\n' ' ')
	check_eq "daemon's UDP passes, daemon's TCP to 443 (root's) is refused" "d1 open d2 refused " "$got"
fi
"$PORTWARDEN" flush >/dev/null 2>&1

# --- --by cgroup: the rule names the client's cgroup, and it still works --
if cgroup_setup; then
	"$PORTWARDEN" learn --by cgroup --duration 2 > "$WORK/cg.yaml" 2> "$WORK/cg.err" &
	learner=$!
	NET_PIDS+=($learner)
	sleep 0.4
	run_as here cgapp $PY "$TRAFFIC" hold 1 tcp 10.77.0.3:8443 > "$WORK/h5"
	timeout 30 tail --pid="$learner" -f /dev/null
	wait "$learner"
	chmod 0644 "$WORK/cg.yaml"
	check_eq "--by cgroup: one rule for the client's cgroup" \
		"    cgroup: \"$CGROUP_NAME/app\"" "$(grep '^    cgroup:' "$WORK/cg.yaml")"
	check_rc "--by cgroup: check accepts the proposal" 0 "$PORTWARDEN" check "$WORK/cg.yaml"
	if pw_apply "--by cgroup: apply the proposal" "$WORK/cg.yaml"; then
		expect_probes 1.5 <<'EOF'
cgroup-same-8443      here cgapp tcp 10.77.0.3 8443 open
cgroup-other-root     here root  tcp 10.77.0.3 8443 refused
EOF
	fi
	"$PORTWARDEN" flush >/dev/null 2>&1
else
	not_ok "--by cgroup" "cannot make a cgroup v2 directory"
fi

# --- the real monitor's log as --events ------------------------------------
# an enforced policy refuses nobody's call to 10.77.0.4:8444; monitor logs
# it (SPEC §9) and learn turns the log into a rule for it
policy refuse.yaml <<'EOF'
portwarden: 1
defaults: { inbound: drop, outbound: reject }
EOF
if pw_apply "apply a policy that refuses everything outbound" "$WORK/refuse.yaml"; then
	"$PORTWARDEN" monitor --format json --count 1 --timeout 20 > "$WORK/mon.json" 2> "$WORK/mon.err" &
	mon=$!
	NET_PIDS+=($mon)
	for _ in $(seq 200); do
		grep -q '^ *1000 ' /proc/net/netfilter/nfnetlink_log 2>/dev/null && break
		sleep 0.05
	done
	printf 'm1 tcp 10.77.0.4 8444\n' | as_uid "$uid_nobody" $PY "$PROBE" run -t 1 > /dev/null
	timeout 25 tail --pid="$mon" -f /dev/null
	"$PORTWARDEN" flush >/dev/null 2>&1
	"$PORTWARDEN" learn --duration 0 --events "$WORK/mon.json" > "$WORK/mon.yaml" 2>/dev/null
	chmod 0644 "$WORK/mon.yaml"
	check_eq "monitor's own JSON log becomes a rule for the refused call" \
		'    to: ["10.77.0.4"]' \
		"$(awk '/name: out-tcp-8444-nobody/{f=1} f && /^    to:/{print; exit}' "$WORK/mon.yaml")"
	grep -q '^# 1 monitor event used of 1 ' "$WORK/mon.yaml" ||
		echo "# monitor wrote: $(head -c 400 "$WORK/mon.json") $(head -c 200 "$WORK/mon.err")"
fi

# --- usage ----------------------------------------------------------------
for bad in "--duration x" "--duration -1" "--by group" "somepolicy.yaml" "--format json"; do
	# shellcheck disable=SC2086
	check_rc "learn $bad is a usage error (exit 2)" 2 "$PORTWARDEN" learn $bad
done
check_rc "learn --events of a missing file: exit 3" 3 "$PORTWARDEN" learn --duration 0 --events "$WORK/none.json"
out=$("$PORTWARDEN" learn --format json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["code"])' 2>&1)
check_eq "learn --format json: the error object" 2 "$out"

# --- --netns: another namespace's sockets (the peer's servers) -------------
"$PORTWARDEN" learn --netns peer --duration 0 > "$WORK/peer.yaml" 2>/dev/null
check_eq "learn --netns peer --duration 0 sees the peer's listeners" \
	"tcp:443 tcp:5353 tcp:8443 tcp:8444 tcp:9000 udp:443 udp:5353 udp:8443 udp:8444 udp:9000" \
	"$(sed -n 's/^  - { proto: \([a-z]*\), port: \([0-9]*\),.*/\1:\2/p' "$WORK/peer.yaml" | tr '\n' ' ' | sed 's/ $//')"
exit $((T_FAILED > 0))
