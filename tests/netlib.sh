# SPDX-License-Identifier: GPL-2.0-or-later
# Namespace, veth and probe helpers for the real-packet suites
# (tests/integration/packets_*.sh, differential.sh). Source it after
# tests/lib.sh, as root, inside the fresh namespace tests/run.sh made.
#
# Topology: this namespace ("here", where portwarden applies its policy)
# and a peer namespace joined by a veth pair:
#   here: veth0 10.77.0.1/24 10.77.0.11/24 fd77::1/64 fd77::11/64
#   peer: veth1 10.77.0.2-4/24             fd77::2-4/64
PY=/usr/bin/python3
PROBE="$TESTS_DIR/tools/probe.py"
HERE4=10.77.0.1 HERE6=fd77::1 PEER4=10.77.0.2 PEER6=fd77::2
NET_PIDS=()
WORK=$(mktemp -d /run/pwtest.XXXXXX)
chmod 755 "$WORK"
umask 022

CGROUP_DIR=
# kill_tree PID: PID and everything it started (`in_peer cmd &` is a
# subshell whose child is the command: killing the subshell alone would
# leave the command running)
kill_tree() {
	local c
	for c in $(pgrep -P "$1"); do kill_tree "$c"; done
	kill "$1" 2>/dev/null
}
net_cleanup() {
	local p
	for p in "${NET_PIDS[@]}"; do kill_tree "$p"; done
	wait 2>/dev/null
	[ -n "$CGROUP_DIR" ] && rmdir "$CGROUP_DIR/app" "$CGROUP_DIR" 2>/dev/null
	ip netns del peer 2>/dev/null
	rm -rf "$WORK"
}
trap net_cleanup EXIT

in_peer() { ip netns exec peer "$@"; }

# Quiet ICMP rate limits: a reject must answer every probe, not 6 a second.
_net_sysctls() {
	sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=100000 net.ipv4.icmp_msgs_burst=100000 \
		>/dev/null 2>&1
}

# net_setup: build the topology; abort (as a failure) when we cannot.
net_setup() {
	need_root_netns
	if ! { ip netns add peer &&
		ip link add veth0 type veth peer name veth1 netns peer &&
		ip addr add 10.77.0.1/24 dev veth0 &&
		ip addr add 10.77.0.11/24 dev veth0 &&
		ip addr add fd77::1/64 dev veth0 nodad &&
		ip addr add fd77::11/64 dev veth0 nodad &&
		ip link set veth0 up &&
		in_peer ip link set lo up &&
		in_peer ip addr add 10.77.0.2/24 dev veth1 &&
		in_peer ip addr add 10.77.0.3/24 dev veth1 &&
		in_peer ip addr add 10.77.0.4/24 dev veth1 &&
		in_peer ip addr add fd77::2/64 dev veth1 nodad &&
		in_peer ip addr add fd77::3/64 dev veth1 nodad &&
		in_peer ip addr add fd77::4/64 dev veth1 nodad &&
		in_peer ip link set veth1 up; } >/dev/null 2>&1; then
		not_ok "environment" "cannot create the peer namespace and veth pair"
		exit 1
	fi
	_net_sysctls
	in_peer bash -c "$(declare -f _net_sysctls); _net_sysctls"
	# wait for the link (carrier) in both directions
	local i
	ping_ok() { [ "$($PY "$PROBE" ping "$1" -t 0.2)" = open ]; }
	for i in $(seq 50); do
		if ping_ok $PEER4 && ping_ok $PEER6; then return 0; fi
		sleep 0.1
	done
	not_ok "environment" "the peer does not answer pings over the veth"
	exit 1
}

# Pin the neighbour entries, so that a policy that drops ICMPv6 neighbour
# discovery cannot make the veth itself fail (the differential test is
# about the verdict on each packet, not about ND).
net_pin_neighbours() {
	local mac_here mac_peer a
	mac_here=$(ip -br link show dev veth0 | awk '{ print $3 }')
	mac_peer=$(in_peer ip -br link show dev veth1 | awk '{ print $3 }')
	for a in 10.77.0.2 10.77.0.3 10.77.0.4 fd77::2 fd77::3 fd77::4; do
		ip neigh replace "$a" lladdr "$mac_peer" nud permanent dev veth0
	done
	for a in 10.77.0.1 10.77.0.11 fd77::1 fd77::11; do
		in_peer ip neigh replace "$a" lladdr "$mac_here" nud permanent dev veth1
	done
}

# serve WHERE ADDRS PORTS: TCP+UDP listeners (here|peer), until the end.
serve() {
	local where=$1 fifo="$WORK/serve.$RANDOM" line
	mkfifo "$fifo"
	if [ "$where" = peer ]; then
		ip netns exec peer $PY "$PROBE" serve "$2" "$3" > "$fifo" 2>&1 &
	else
		$PY "$PROBE" serve "$2" "$3" > "$fifo" 2>&1 &
	fi
	NET_PIDS+=($!)
	if ! read -r -t 5 line < "$fifo" || [ "$line" != ready ]; then
		not_ok "environment" "listeners did not start in $where: $line"
		exit 1
	fi
	rm -f "$fifo"
}

# cgroup_setup: a cgroup v2 "$CGROUP_NAME/app" for `run_as here cgapp`.
# nft and portwarden resolve cgroup paths under /sys/fs/cgroup; where the
# v2 hierarchy sits at /sys/fs/cgroup/unified (hybrid hosts) it is bound
# there, in this test's own mount namespace only.
cgroup_setup() {
	if [ ! -f /sys/fs/cgroup/cgroup.controllers ] &&
	   [ -f /sys/fs/cgroup/unified/cgroup.controllers ]; then
		mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup || return 1
	fi
	CGROUP_NAME=pwtest-$$
	CGROUP_DIR=/sys/fs/cgroup/$CGROUP_NAME
	mkdir -p "$CGROUP_DIR/app"
}

# run_as WHERE USER CMD...: WHERE here|peer, USER root|nobody|cgapp
# (cgapp: root, in the cgroup made by cgroup_setup)
run_as() {
	local where=$1 user=$2; shift 2
	local pre=()
	[ "$where" = peer ] && pre=(ip netns exec peer)
	if [ "$user" = nobody ]; then
		pre+=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	elif [ "$user" = cgapp ]; then
		pre+=(bash -c 'echo $$ > "$0/app/cgroup.procs" && exec "$@"' "$CGROUP_DIR")
	fi
	"${pre[@]}" "$@"
}

# expect_probes TIMEOUT < TABLE
# TABLE lines: NAME WHERE USER PROTO DST PORT EXPECT [SRC [SPORT]]
#   WHERE: where the client runs (here = outbound, peer = inbound)
#   EXPECT: open | drop (timeout or EPERM) | refused | timeout
# Probes of one (WHERE, USER) group run at once; one ok/not ok per line.
expect_probes() {
	local t=$1 spec="$WORK/spec.$RANDOM" g name where user rest pids=()
	grep -v '^[[:space:]]*\(#\|$\)' > "$spec"
	for g in here:root here:nobody here:cgapp peer:root peer:nobody; do
		where=${g%:*} user=${g#*:}
		awk -v w="$where" -v u="$user" '$2 == w && $3 == u {
			print $1, $4, $5, $6, ($8 == "" ? "-" : $8), ($9 == "" ? 0 : $9) }' \
			"$spec" > "$spec.$where.$user"
		[ -s "$spec.$where.$user" ] || continue
		run_as "$where" "$user" $PY "$PROBE" run -t "$t" \
			< "$spec.$where.$user" > "$spec.$where.$user.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	local got
	while read -r name where user rest; do
		set -- $rest
		got=$(awk -v n="$name" '$1 == n { print $2 }' "$spec.$where.$user.out")
		case "$4:$got" in
		open:open|refused:refused|timeout:timeout|drop:timeout|drop:eperm)
			ok "$name";;
		*)	not_ok "$name" "$where($user) $1 ${5:-}:${6:-} -> $2:$3: expected $4, got ${got:-nothing}";;
		esac
	done < "$spec"
	rm -f "$spec"*
}

# pw_apply NAME POLICY...: apply, report a failure with portwarden's words
pw_apply() {
	local name=$1 out rc; shift
	out=$("$PORTWARDEN" apply "$@" 2>&1); rc=$?
	if [ $rc -eq 0 ]; then ok "$name"; else
		not_ok "$name" "apply exit $rc: $(echo "$out" | head -5 | tr '\n' ' ')"
	fi
	return $rc
}

# policy FILE < YAML: write a policy file under $WORK
policy() { cat > "$WORK/$1"; chmod 644 "$WORK/$1"; }
