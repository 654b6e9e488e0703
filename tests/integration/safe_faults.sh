#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection: kill -9 at 100 random instants of apply (small policies
# and a 100,000-CIDR one; a third with --confirm), flush, rollback, confirm
# and the confirm timer.
# After each kill (SPEC §6):
#  - the kernel holds the table from before the killed command or the one
#    it makes, whole (nft -s list table compared with the expected ones);
#  - rollback returns to the table before the last completed apply: the
#    table the kernel held before the last apply or flush whose table the
#    kernel holds now (a rollback that went through leaves nothing to
#    undo).
# The walk is random; PW_FAULT_SEED=N repeats one. Runs as root in the
# private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

T=pwfault
KILLS=${PW_FAULT_KILLS:-100}
WORK=$(mktemp -d /run/pwfault.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
umask 022
seed=${PW_FAULT_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$seed
echo "# seed $seed (PW_FAULT_SEED=$seed repeats this walk)"

# ---- policies: three small ones and a big one ------------------------------
cat > "$WORK/s1.yaml" <<EOF
portwarden: 1
table: $T
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF
cat > "$WORK/s2.yaml" <<EOF
portwarden: 1
table: $T
defaults: { outbound: drop }
sets:
  resolvers: [192.0.2.53, "2001:db8::53"]
outbound:
  - { name: dns, port: 53, to: \$resolvers }
  - { name: https, proto: tcp, port: 443 }
EOF
cat > "$WORK/s3.yaml" <<EOF
portwarden: 1
table: $T
sets:
  web: [80, 443, 8000-8999]
inbound:
  - { name: web, proto: tcp, port: \$web }
  - { name: no-telnet, proto: tcp, port: 23, action: reject }
EOF
# 100,000 IPv4 CIDRs in one set, as bench/gen.py makes them
python3 - "$WORK/big.yaml" "$T" <<'PY'
import random, sys
r = random.Random(20261124)
out = []
for b in r.sample(range(1 << 24), 100000):
    net = b << 8
    k = r.random()
    a = "%d.%d.%d" % (net >> 24, (net >> 16) & 255, (net >> 8) & 255)
    if k < 0.5:
        out.append(a + ".0/24")
    elif k < 0.8:
        out.append("%s.%d" % (a, r.randint(1, 254)))
    else:
        out.append("%s.%d/28" % (a, 16 * r.randint(0, 15)))
with open(sys.argv[1], "w") as f:
    f.write("portwarden: 1\ntable: %s\nsets:\n  blocklist:\n" % sys.argv[2])
    f.write("".join("    - %s\n" % a for a in out))
    f.write("inbound:\n  - { name: blocklist, from: $blocklist, action: drop }\n")
PY

pw() { timeout 120 "$PORTWARDEN" "$@"; }
digest() { { nft -s list table inet $T 2>/dev/null || echo absent; } | md5sum | cut -c1-32; }

# The expected listing of each policy, from a plain apply of it; and how
# long an apply takes here, to kill within it (ms, bounded).
declare -A HASH MS
for p in s1 s2 s3 big s1; do
	t=$(date +%s%N)
	if ! pw apply -q "$WORK/$p.yaml" > "$WORK/out" 2>&1; then
		not_ok "environment" "cannot apply $p: $(cat "$WORK/out")"
		exit 1
	fi
	MS[$p]=$(( ($(date +%s%N) - t) / 1000000 + 5 ))
	HASH[$p]=$(digest)
done
bound() { echo $(( $1 > $2 ? $2 : $1 )); }
MS_SMALL=$(bound "${MS[s3]}" 300)
MS_BIG=$(bound "${MS[big]}" 3000)
MS_FROM_BIG=$(bound "${MS[s1]}" 2000)
echo "# an apply takes ${MS_SMALL} ms (small), ${MS_BIG} ms (to big), ${MS_FROM_BIG} ms (from big)"
pw flush -q --table $T
HASH[absent]=$(digest)
name_of() { # digest -> policy name, or "unknown"
	local p
	for p in s1 s2 s3 big absent; do
		[ "${HASH[$p]}" = "$1" ] && { echo "$p"; return; }
	done
	echo unknown
}
rm -rf /run/portwarden

# The model: K is the table the kernel holds, R the one rollback returns
# to (R = K: nothing to undo).
K=absent R=absent

# Bring the kernel to policy $1 (or absent) with a completed apply (or
# flush, which records a rollback point the same way).
settle() {
	if [ "$K" = "$1" ]; then
		return 0
	elif [ "$1" = absent ]; then
		pw flush -q --table $T > "$WORK/out" 2>&1
	else
		pw apply -q "$WORK/$1.yaml" > "$WORK/out" 2>&1
	fi || { not_ok "settle on $1" "$(cat "$WORK/out")"; return 1; }
	R=$K K=$1
}

# A random sleep of 0..$1 milliseconds.
nap() { local x=$((RANDOM % ($1 + 1))); sleep "$((x / 1000)).$(printf %03d $((x % 1000)))"; }

# After a kill: the table is $1 (old) or $2 (new); sets $now.
expect_one_of() {
	now=$(name_of "$(digest)")
	[ "$now" = "$1" ] || [ "$now" = "$2" ]
}

# rollback, uninterrupted, must give R; then bring K back with an apply
# (whose record rolls back to R again).
verify_rollback() { # label
	local got rc=0
	pw rollback > "$WORK/out" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		not_ok "$1: rollback" "exit $rc: $(cat "$WORK/out")"
		K=$(name_of "$(digest)") R=$K
		return 1
	fi
	got=$(name_of "$(digest)")
	if [ "$got" != "$R" ]; then
		not_ok "$1: rollback returns to $R" "the kernel holds $got; $(cat "$WORK/out")"
		K=$got R=$got
		return 1
	fi
	if [ "$K" != "$R" ]; then
		local k=$K
		K=$R
		settle "$k" || return 1
		R=$got
	fi
	return 0
}

small_other() { # a small policy other than K
	local p
	while :; do
		p=s$((RANDOM % 3 + 1))
		[ "$p" != "$K" ] && { echo "$p"; return; }
	done
}

kills=0 start=$SECONDS
declare -A DONE
for ((i = 1; i <= KILLS; i++)); do
	r=$((RANDOM % 100))
	if ((r < 35)); then		# apply, small to small
		op=apply-small; p=$(small_other); ms=$MS_SMALL
	elif ((r < 43)); then		# apply, small to big
		op=apply-big; p=big; ms=$MS_BIG
		[ "$K" = big ] && settle "$(small_other)"
	elif ((r < 49)); then		# apply, big to small
		op=apply-from-big; p=$(small_other); ms=$MS_FROM_BIG
		settle big
	elif ((r < 55)); then
		op=flush; ms=$MS_SMALL
		[ "$K" = absent ] && settle "$(small_other)"
	elif ((r < 70)); then
		op=rollback; ms=$MS_SMALL
		[ "$K" = big ] && ms=$MS_FROM_BIG
		[ "$R" = big ] && ms=$MS_BIG
		if [ "$K" = "$R" ]; then settle "$(small_other)"; fi
	elif ((r < 80)); then
		op=confirm; ms=$MS_SMALL
	else
		# the timer rolls back about 1.0 to 1.2 s after the apply
		op=timer; ms=400
		((r < 83)) && p=big || p=$(small_other)
		[ "$p" = "$K" ] && settle "$(small_other)"
	fi
	old=$K
	case $op in
	apply-*)
		new=$p
		# a third of them with --confirm: killed around arming the timer
		opt=()
		((RANDOM % 3 == 0)) && opt=(--confirm 30) && op+=" --confirm"
		"$PORTWARDEN" apply -q "${opt[@]}" "$WORK/$p.yaml" > /dev/null 2>&1 &
		pid=$!; nap $ms; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		;;
	flush)
		new=absent
		"$PORTWARDEN" flush -q --table $T > /dev/null 2>&1 &
		pid=$!; nap $ms; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		;;
	rollback)
		new=$R
		"$PORTWARDEN" rollback -q > /dev/null 2>&1 &
		pid=$!; nap $ms; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		;;
	confirm)
		# an apply waiting for its confirm, then confirm killed
		p=$(small_other)
		if ! pw apply -q --confirm 30 "$WORK/$p.yaml" > "$WORK/out" 2>&1; then
			not_ok "kill $i: apply --confirm $p" "$(cat "$WORK/out")"; continue
		fi
		R=$K K=$p old=$p new=$p
		"$PORTWARDEN" confirm -q > /dev/null 2>&1 &
		pid=$!; nap $ms; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
		;;
	timer)
		# an unconfirmed apply --confirm 1: its timer killed around the
		# moment it rolls back
		if ! "$PORTWARDEN" apply --confirm 1 "$WORK/$p.yaml" > "$WORK/out" 2>&1; then
			not_ok "kill $i: apply --confirm 1 $p" "$(cat "$WORK/out")"; continue
		fi
		tpid=$(sed -n 's/.*timer pid \([0-9]*\).*/\1/p' "$WORK/out")
		R=$K K=$p old=$p new=$R
		sleep 0.9; nap $ms
		kill -9 "$tpid" 2>/dev/null
		# gone (a zombie waiting for init counts)
		for ((w = 0; w < 50; w++)); do
			st=$(ps -o stat= -p "$tpid" 2>/dev/null)
			[ -z "$st" ] || [[ $st == Z* ]] && break
			sleep 0.1
		done
		;;
	esac
	kills=$((kills + 1))
	DONE[${op%% *}]=$(( ${DONE[${op%% *}]:-0} + 1 ))
	label="kill $i ($op $old->$new)"
	if ! expect_one_of "$old" "$new"; then
		not_ok "$label: the kernel holds $old or $new" "it holds $now"
		K=$now R=$now
		continue
	fi
	# what the kernel holds says whether the command took effect
	if [ "$now" != "$old" ]; then
		case $op in
		apply-*|flush) R=$old;;
		rollback|timer) R=$now;;
		esac
		K=$now
	fi
	if [ "$op" = confirm ] || [[ $op == *--confirm ]]; then
		# a confirm that did not get through, or a timer armed by the
		# killed apply: confirm (again), so that no timer outlives this
		# step
		pw confirm -q > /dev/null 2>&1
	fi
	if verify_rollback "$label"; then
		ok "$label: the kernel holds $now; rollback returns to the table before the last completed apply"
	fi
done

summary=""
for op in apply-small apply-big apply-from-big flush rollback confirm timer; do
	summary+=" $op=${DONE[$op]:-0}"
done
echo "# $kills kills in $((SECONDS - start)) s:$summary"
check "every kind of command was killed at least once" \
	test "${DONE[apply-small]:-0}" -gt 0 -a "${DONE[apply-big]:-0}" -gt 0 \
	-a "${DONE[rollback]:-0}" -gt 0 -a "${DONE[confirm]:-0}" -gt 0 \
	-a "${DONE[timer]:-0}" -gt 0
check_eq "no write-ahead record left after the last command" "" \
	"$(ls -A /run/portwarden/net-*/ 2>/dev/null | grep -v '^state$\|^pending$' || true)"
exit $((T_FAILED > 0))
