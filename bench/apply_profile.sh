#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Where the time of a first apply of the 110k-CIDR policy goes, side by side
# with `nft -f` of the hand-written equivalent, each run in a throwaway
# `unshare -m -n` namespace with its own /run (the host is never touched).
#
# Per tool, ROUNDS interleaved runs (default 5) of /usr/bin/time: wall,
# peak RSS, user and system CPU (best and median wall); then one run each
# under `strace -T -e trace=sendmsg`: the time the kernel spends inside the
# sendmsg that carries the whole batch (nf_tables handles the batch
# synchronously there), i.e. the kernel's share, the same work for both.
# Usage: bench/apply_profile.sh PATH/TO/portwarden [WORKDIR]
set -u
PW=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
W=${2:-$(mktemp -d /tmp/pwprof.XXXXXX)}
ROUNDS=${ROUNDS:-5}
[ "$(id -u)" -eq 0 ] || { echo "apply_profile: needs root" >&2; exit 2; }
[ -f "$W/cidrs.yaml" ] || python3 "$(dirname "$0")/gen.py" "$W" || exit 2

in_netns() {
	unshare -m -n -- bash -c 'mount -t tmpfs tmpfs /run && ip link set lo up && exec "$@"' _ "$@"
}

declare -A R
for i in $(seq "$ROUNDS"); do
	for who in pw nft; do
		if [ $who = pw ]; then cmd=("$PW" apply -q "$W/cidrs.yaml")
		else cmd=(nft -f "$W/cidrs.nft"); fi
		in_netns /usr/bin/time -f "%e %M %U %S" -o "$W/t" "${cmd[@]}" >/dev/null ||
			{ echo "apply_profile: $who failed" >&2; exit 1; }
		R[$who]+="$(cat "$W/t")"$'\n'
	done
done
summary() { # WHO
	printf '%s' "${R[$1]}" | sort -n | awk -v who="$1" '
		{ t[NR] = $1; m[NR] = $2; u[NR] = $3; s[NR] = $4 }
		END { printf "%-4s wall best %.2f s median %.2f s | peak RSS %.1f MB | user %.2f s sys %.2f s (best run)\n",
			who, t[1], t[int((NR + 1) / 2)], m[1] / 1024, u[1], s[1] }'
}
echo "first apply, 100k IPv4 + 10k IPv6 CIDRs, $ROUNDS interleaved runs each:"
summary pw
summary nft
for who in pw nft; do
	if [ $who = pw ]; then cmd=("$PW" apply -q "$W/cidrs.yaml")
	else cmd=(nft -f "$W/cidrs.nft"); fi
	k=$(in_netns strace -f -qq -T -e trace=sendmsg "${cmd[@]}" 2>&1 >/dev/null |
		awk -F'<' '/sendmsg/ { sub(/>.*/, "", $NF); if ($NF + 0 > m) m = $NF + 0 } END { printf "%.3f", m }')
	echo "$who: kernel time inside the batch's sendmsg: $k s"
done
