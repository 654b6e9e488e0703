#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Concurrent applies, rollbacks and confirm timers, and SIGTERM in the
# middle of applies: at every moment the table is one whole policy (p1, p2
# or none), never a mix, and the rollback record stays usable.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

T=pwsafe
WORK=$(mktemp -d /run/pwsafe.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
umask 022

cat > "$WORK/p1.yaml" <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
sets:
  admins: [10.1.0.0/16, 10.2.0.0/16, "2001:db8:1::/48"]
inbound:
  - { name: ssh, proto: tcp, port: 22, from: \$admins }
  - { name: web, proto: tcp, port: [80, 443] }
EOF
cat > "$WORK/p2.yaml" <<EOF
portwarden: 1
table: $T
defaults: { inbound: accept, outbound: drop }
sets:
  resolvers: [192.0.2.53, 198.51.100.53, "2001:db8::53"]
outbound:
  - { name: dns, port: 53, to: \$resolvers }
  - { name: https, proto: tcp, port: 443 }
  - { name: mail, proto: tcp, port: [25, 587], action: reject }
EOF

live() { nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > /dev/null 2>&1; }

pw apply "$WORK/p1.yaml"
L1=$(live)
pw apply "$WORK/p2.yaml"
L2=$(live)
if [ "$L1" = absent ] || [ "$L2" = absent ] || [ "$L1" = "$L2" ]; then
	not_ok "environment" "cannot apply the two policies"
	exit 1
fi

whole() { [ "$1" = "$L1" ] || [ "$1" = "$L2" ] || [ "$1" = absent ]; }

worker() { # what rounds
	local i
	for ((i = 0; i < $2; i++)); do
		case $1 in
		a1) pw apply "$WORK/p1.yaml";;
		a2) pw apply "$WORK/p2.yaml";;
		rb) pw rollback;;
		c1) pw apply --confirm 1 "$WORK/p1.yaml";;
		cf) pw confirm;;
		esac
	done
}

pids=()
for w in a1 a2 rb c1 cf rb; do
	worker $w 6 &
	pids+=($!)
done
# sample the table while they race
mixed=0 samples=0
while :; do
	alive=0
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	s=$(live)
	samples=$((samples + 1))
	if ! whole "$s"; then
		mixed=$((mixed + 1))
		echo "$s" > "$WORK/mixed"
	fi
	[ $alive = 1 ] || break
done
wait "${pids[@]}"
check_eq "every sampled table was a whole policy ($samples samples)" 0 "$mixed"

# let any confirm timer still waiting fire (1 s each)
sleep 2.5
check "final table is a whole policy" whole "$(live)"

# SIGTERM at random moments of an apply: the table is whole each time and
# the record agrees with it, so rollback never finds a foreign change
bad_rb=0 bad_tbl=0
for ((i = 0; i < 16; i++)); do
	"$PORTWARDEN" apply "$WORK/p$((i % 2 + 1)).yaml" > /dev/null 2>&1 &
	sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
	kill -TERM $! 2>/dev/null
	wait $! 2>/dev/null
	whole "$(live)" || bad_tbl=$((bad_tbl + 1))
	if ((i % 4 == 3)); then
		"$PORTWARDEN" rollback > "$WORK/out" 2>&1 || { bad_rb=$((bad_rb + 1)); cat "$WORK/out"; }
		whole "$(live)" || bad_tbl=$((bad_tbl + 1))
	fi
done
check_eq "SIGTERM during apply: table always whole" 0 "$bad_tbl"
check_eq "SIGTERM during apply: rollback record always consistent" 0 "$bad_rb"

# the record survived the race: a fresh apply and rollback behave
pw apply "$WORK/p1.yaml"
pw apply "$WORK/p2.yaml"
check_eq "apply after the race" "$L2" "$(live)"
if "$PORTWARDEN" rollback > "$WORK/out" 2>&1; then ok "rollback after the race"
else not_ok "rollback after the race" "$(cat "$WORK/out")"; fi
check_eq "rollback after the race restores p1" "$L1" "$(live)"
check_eq "no state temp files left" "" "$(ls -A /run/portwarden/net-*/ | grep '^\.' || true)"

exit $((T_FAILED > 0))
