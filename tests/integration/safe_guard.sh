#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The lock-out guard: with a TCP connection from a peer namespace (over a
# veth) established to a local listener, apply refuses (exit 4, table
# unchanged) a policy that would drop or reject that connection's first
# packet, naming the connection and the deciding rule; --force applies;
# a policy that still admits it applies; outbound connections and
# loopback (when the policy accepts lo) do not count; connected inbound
# UDP counts like TCP.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup

T=pwsafe
PORT=2222
live() { nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > "$WORK/out" 2>&1; }

# hold_listener WHERE ADDR PORT: a listener that accepts and keeps every connection
hold_listener() {
	local fifo="$WORK/l.$RANDOM" line pre=()
	[ "$1" = peer ] && pre=(ip netns exec peer)
	mkfifo "$fifo"
	# a simple command in the background, so that $! is what we kill
	"${pre[@]}" timeout 120 $PY -c '
import socket, sys
a, p = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a, p)); s.listen(16); print("ready", flush=True)
keep = []
while True:
    keep.append(s.accept()[0])
' "$2" "$3" > "$fifo" 2>&1 &
	NET_PIDS+=($!)
	read -r -t 5 line < "$fifo"
	rm -f "$fifo"
	[ "$line" = ready ] || { not_ok "environment" "listener $2:$3: $line"; exit 1; }
}
# hold_client WHERE DST PORT: connect, print the local port, keep it open
hold_client() {
	local fifo="$WORK/c.$RANDOM" line pre=()
	[ "$1" = peer ] && pre=(ip netns exec peer)
	mkfifo "$fifo"
	"${pre[@]}" timeout 120 $PY -c '
import socket, sys, time
a, p = sys.argv[1], int(sys.argv[2])
c = socket.create_connection((a, p), timeout=3)
print(c.getsockname()[1], flush=True)
time.sleep(120)
' "$2" "$3" > "$fifo" 2>&1 &
	CLIENT=$!
	NET_PIDS+=($CLIENT)
	read -r -t 5 line < "$fifo"
	rm -f "$fifo"
	[[ "$line" =~ ^[0-9]+$ ]] || { not_ok "environment" "client to $2:$3: $line"; exit 1; }
	CPORT=$line
}

policy drop.yaml <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF
policy from.yaml <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: other-net-only, proto: tcp, port: $PORT, from: 10.66.0.0/16 }
  - { name: no-peer, proto: tcp, port: $PORT, from: 10.77.0.0/24, action: reject }
EOF
policy keep.yaml <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: admin, proto: tcp, port: $PORT, from: 10.77.0.0/24 }
EOF
policy nolo.yaml <<EOF
portwarden: 1
table: $T
loopback: false
defaults: { inbound: drop }
inbound:
  - { name: admin, proto: tcp, port: $PORT, from: 10.77.0.0/24 }
EOF

hold_listener here $HERE4 $PORT
hold_client peer $HERE4 $PORT
conn="tcp $PEER4:$CPORT -> $HERE4:$PORT"

# 1. inbound: drop with no rule for the port: refused, named, nothing applied
rc=0; pw apply "$WORK/drop.yaml" || rc=$?
check_eq "guard refuses with exit 4" 4 "$rc"
if grep -qF "refusing: would block established inbound $conn (rule \"default\"" "$WORK/out"
then ok "refusal names the connection and the default"
else not_ok "refusal names the connection and the default" "$(cat "$WORK/out")"; fi
check "refusal says how to override" grep -q "use --force to apply anyway" "$WORK/out"
check_eq "refused apply changed nothing" absent "$(live)"

# 2. the deciding rule is named with its location
rc=0; pw apply "$WORK/from.yaml" || rc=$?
check_eq "guard refuses a rejecting rule" 4 "$rc"
if grep -qF "would reject established inbound $conn (rule \"no-peer\", $WORK/from.yaml:" "$WORK/out"
then ok "refusal names the deciding rule and its file"
else not_ok "refusal names the deciding rule and its file" "$(cat "$WORK/out")"; fi

# 3. --force applies anyway, still naming the connection
if pw apply --force "$WORK/drop.yaml"; then ok "--force applies"
else not_ok "--force applies" "$(cat "$WORK/out")"; fi
check "--force still names the connection" grep -qF "$conn" "$WORK/out"
check "--force applied the table" test "$(live)" != absent

# 4. a policy that still admits the connection passes the guard
if pw apply "$WORK/keep.yaml"; then ok "a policy keeping the connection applies"
else not_ok "a policy keeping the connection applies" "$(cat "$WORK/out")"; fi

# 5. loopback connections: exempt when the policy accepts lo, not otherwise
hold_listener here 127.0.0.1 2223
hold_client here 127.0.0.1 2223
LPORT=$CPORT
if pw apply "$WORK/keep.yaml"; then ok "loopback accepted by the policy: no refusal"
else not_ok "loopback accepted by the policy: no refusal" "$(cat "$WORK/out")"; fi
rc=0; pw apply "$WORK/nolo.yaml" || rc=$?
check_eq "loopback: false refuses over a loopback connection" 4 "$rc"
check "it names the loopback connection" \
	grep -qF "tcp 127.0.0.1:$LPORT -> 127.0.0.1:2223" "$WORK/out"

# 6. outbound connections do not count: close the inbound ones, connect
#    from here to a listener in the peer, then drop all inbound
for p in "${NET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
NET_PIDS=()
hold_listener peer $PEER4 3333
hold_client here $PEER4 3333
if pw apply "$WORK/drop.yaml"; then ok "outbound connections do not trigger the guard"
else not_ok "outbound connections do not trigger the guard" "$(cat "$WORK/out")"; fi

# 7. connected inbound UDP (a server socket connect()ed to its client,
#    beside the unconnected one on the same port) is protected too
fifo="$WORK/u.fifo"
mkfifo "$fifo"
timeout 120 $PY -c '
import socket, sys, time
a, p, peer = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def sock():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a, p))
    return s
u = sock()
c = sock(); c.connect((peer, 40000))
print("ready", flush=True)
time.sleep(120)
' $HERE4 5353 $PEER4 > "$fifo" 2>&1 &
NET_PIDS+=($!)
read -r -t 5 line < "$fifo"
[ "$line" = ready ] || not_ok "environment" "udp sockets: $line"
rc=0; pw apply "$WORK/keep.yaml" || rc=$?
check_eq "guard refuses over a connected inbound UDP socket" 4 "$rc"
check "it names the UDP peer" \
	grep -qF "connected inbound udp $PEER4:40000 -> $HERE4:5353" "$WORK/out"

# 8. IPv6: a v6 peer is judged as v6 (a v4-only rule does not admit it)
policy v4only.yaml <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: v4-admins, proto: tcp, port: 2224, from: 10.77.0.0/24 }
  - { name: dns, proto: udp, port: 5353 }
EOF
policy open.yaml <<EOF
portwarden: 1
table: $T
EOF
pw apply --force "$WORK/open.yaml"	# let the connection in first
hold_listener here $HERE6 2224
hold_client peer $HERE6 2224
rc=0; pw apply "$WORK/v4only.yaml" || rc=$?
check_eq "guard refuses over an IPv6 connection" 4 "$rc"
# (the peer picks any of its fd77:: addresses as the source)
check "it names the IPv6 peer in brackets" \
	grep -q "inbound tcp \[fd77::[0-9]\]:$CPORT -> \[$HERE6\]:2224 (rule \"default\", [^)]*v4only.yaml:[0-9]*)" "$WORK/out"

# 9. replies count (SPEC §5): established off with an outbound default of
#    drop admits the first packet but drops the SYN-ACK; so does another
#    table that drops the replies (a Docker-style ip filter OUTPUT)
policy noest.yaml <<EOF
portwarden: 1
table: $T
established: false
defaults: { inbound: drop, outbound: drop }
inbound:
  - { name: admins, proto: tcp, port: 2225 }
EOF
policy keep2.yaml <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: admin, proto: tcp, port: 2225, from: 10.77.0.0/24 }
EOF
for p in "${NET_PIDS[@]}"; do kill "$p" 2>/dev/null; done
wait 2>/dev/null
NET_PIDS=()
pw apply --force "$WORK/open.yaml"
hold_listener here $HERE4 2225
hold_client peer $HERE4 2225
rc=0; pw apply "$WORK/noest.yaml" || rc=$?
check_eq "guard refuses a policy that drops the connection's replies" 4 "$rc"
check "it says the replies are what is stopped" \
	grep -qF "$PEER4:$CPORT -> $HERE4:2225 (its replies) (rule \"default\"" "$WORK/out"
nft -f - <<'N'
table ip filter {
	chain OUTPUT {
		type filter hook output priority filter; policy accept;
		tcp sport 2225 drop
	}
}
N
rc=0; pw apply "$WORK/keep2.yaml" || rc=$?
check_eq "guard refuses when another table drops the replies" 4 "$rc"
check "it names the other table" grep -qF "in table ip filter, chain OUTPUT" "$WORK/out"
nft delete table ip filter
if pw apply "$WORK/keep2.yaml"; then ok "without that table the same policy applies"
else not_ok "without that table the same policy applies" "$(cat "$WORK/out")"; fi

exit $((T_FAILED > 0))
