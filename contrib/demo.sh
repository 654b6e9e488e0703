#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# portwarden in two minutes: `sudo make demo` (or contrib/demo.sh [BINARY]).
#
# Everything happens inside a private mount + network namespace made with
# `unshare -m -n`, joined by a veth pair to a throwaway peer namespace:
# the host's own ruleset, interfaces and /run are never touched, and all
# of it disappears when the demo ends.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
policy=policies/https-only.yaml
PEER=pwdemo-peer
HOST_IP=192.0.2.1
PEER_IP=192.0.2.2

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B="" G="" R="" N=""; fi
say()  { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
good() { printf '    %s%s%s\n' "$G" "$*" "$N"; }
bad()  { printf '    %s%s%s\n' "$R" "$*" "$N"; surprises=$((surprises + 1)); }
die()  { printf 'demo: %s\n' "$*" >&2; exit 1; }

# --- outside: dependencies, build, then into the private namespaces -------
if [ "${PORTWARDEN_DEMO_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" -eq 0 ] || die "run as root (sudo make demo): it creates network namespaces"
	"$top/contrib/install-deps.sh"
	bin=${1:-$top/build/portwarden}
	if [ ! -x "$bin" ]; then
		say "Building portwarden"
		make -C "$top" --no-print-directory all
		bin=$top/build/portwarden
	fi
	[ -f "$top/$policy" ] || die "$top/$policy is missing"
	bin=$(realpath "$bin")
	exec env PORTWARDEN_DEMO_INSIDE=1 unshare -m -n --propagation private -- \
		bash "$(realpath "$0")" "$bin"
fi

# --- inside: a private network namespace and a private /run ---------------
bin=$1
cd "$top"
surprises=0
portwarden() { "$bin" "$@"; }
# run CMD...: show the command as a user would type it, run it, show its
# exit status; never stops the demo.
# The last command's exit status and output stay in $last_rc, $last_out.
last_out=$(mktemp)
last_rc=0
run() {
	last_rc=0
	printf '    %s$ %s%s\n' "$B" "$*" "$N"
	"$@" > "$last_out" 2>&1 || last_rc=$?
	sed 's/^/    /' "$last_out"
	printf '    (exit %d)\n' "$last_rc"
}
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	pids=()
	ip netns del "$PEER" 2>/dev/null || true
	rm -f "$last_out"
}
trap cleanup EXIT

mount -t tmpfs tmpfs /run
ip link set lo up
ip netns add "$PEER"
ip link add pw-host type veth peer name pw-peer netns "$PEER"
ip addr add "$HOST_IP/24" dev pw-host
ip link set pw-host up
ip -n "$PEER" addr add "$PEER_IP/24" dev pw-peer
ip -n "$PEER" link set pw-peer up
ip -n "$PEER" link set lo up

# A tiny TCP service: answers one line per connection.
serve() { # PORT (exec: the caller's $! is the server itself)
	exec python3 -c '
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", port)); s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(b"hello from the peer on port %d\n" % port); c.close()' "$1"
}
# connect ADDR PORT: try one connection for at most 3 seconds
connect() {
	python3 - "$1" "$2" <<'EOF'
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    print("connected: " + c.recv(100).decode().strip())
except socket.timeout:
    print("no answer within 3 seconds (dropped)"); sys.exit(1)
except OSError as e:
    print("failed: %s" % e.strerror); sys.exit(1)
EOF
}
wait_listen() { # NETNS|"" PORT
	local _
	for _ in $(seq 1 30); do
		if [ -n "$1" ]; then ip netns exec "$1" ss -Htln "sport = :$2" | grep -q . && return 0
		else ss -Htln "sport = :$2" | grep -q . && return 0; fi
		sleep 0.1
	done
	die "nothing listens on port $2"
}

say "A throwaway network: this host ($HOST_IP) and a peer ($PEER_IP) on a veth pair"
echo "    Both live in namespaces private to this demo; the real host is untouched."
ip netns exec "$PEER" bash -c "$(declare -f serve); serve 443" &
pids+=($!)
ip netns exec "$PEER" bash -c "$(declare -f serve); serve 8080" &
pids+=($!)
wait_listen "$PEER" 443
wait_listen "$PEER" 8080
echo "    The peer runs two TCP services: port 443 (the HTTPS port) and port 8080."

say "Without a policy, this host reaches both"
printf '    port 443:  '; connect "$PEER_IP" 443 || true
printf '    port 8080: '; connect "$PEER_IP" 8080 || true

say "The policy: outbound HTTPS and DNS only ($(basename "$policy"))"
sed -n '/^portwarden:/,$p' "$policy" | sed 's/^/    | /'

say "Validate it, then apply it (one atomic netlink transaction, no nft involved)"
run portwarden check "$policy"
run portwarden apply "$policy"
[ "$last_rc" -eq 0 ] || bad "-> UNEXPECTED: apply failed"
run portwarden apply "$policy" --format json
if grep -q '"changed": *false' "$last_out"; then
	good "-> the live table already equals the policy: nothing was sent"
else
	bad "-> UNEXPECTED: a second apply should change nothing"
fi

say "Now the same two connections"
printf '    port 443:  '
if connect "$PEER_IP" 443; then good "-> allowed, as the policy says"
else bad "-> UNEXPECTED: HTTPS should be allowed"; fi
printf '    port 8080: '
if connect "$PEER_IP" 8080; then bad "-> UNEXPECTED: port 8080 should be blocked"
else good "-> blocked by portwarden"; fi

say "Ask portwarden why"
run portwarden explain "$policy" out tcp "$PEER_IP:443"
run portwarden explain "$policy" out tcp "$PEER_IP:8080"

say "The live rules, with their counters"
run portwarden status

say "Someone starts a service nobody asked for, on port 9000 of this host"
serve 9000 &
pids+=($!)
wait_listen "" 9000
run portwarden audit "$policy"
if [ "$last_rc" -eq 1 ] && grep -q 'unexpected-listener.*:9000' "$last_out"; then
	good "-> audit caught the unexpected listener (exit 1: findings)"
else
	bad "-> UNEXPECTED: audit should report an unexpected listener on 9000"
fi
echo "    --format json, junit and prometheus are there for automation and"
echo "    monitoring; contrib/systemd has a timer for node_exporter."

say "Cleaning up"
run portwarden flush
cleanup
trap - EXIT
echo "    The peer namespace is gone; this demo's own namespace ends with it."
echo "    Nothing outside it was changed."
if [ "$surprises" -ne 0 ]; then
	printf '\n%d step(s) did not behave as described above.\n' "$surprises" >&2
	exit 1
fi
