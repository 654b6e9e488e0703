# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by bench/*.sh: input generation, throwaway namespaces, timing.
# Source it with PW set to the portwarden binary.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPEAT=${REPEAT:-3}
: "${PW:?usage: bench/SCRIPT.sh PATH/TO/portwarden}"
PW=$(cd "$(dirname "$PW")" && pwd)/$(basename "$PW")
[ -x "$PW" ] || { echo "bench: $PW is not executable" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
if [ ! -x /usr/bin/time ]; then	# GNU time, for peak memory
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 ||
		{ echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
fi

# One input directory per run, generated once (fixed seed) and shared by
# the scripts when run.sh exports BENCH_WORK.
if [ -z "${BENCH_WORK:-}" ]; then
	BENCH_WORK=$(mktemp -d /tmp/pwbench.XXXXXX)
	BENCH_OWN_WORK=1
	trap 'rm -rf "$BENCH_WORK"' EXIT
fi
[ -f "$BENCH_WORK/cidrs.yaml" ] || python3 "$BENCH_DIR/gen.py" "$BENCH_WORK"

# in_netns CMD...: run in a throwaway network namespace with its own /run
# (portwarden keeps its lock and saved ruleset there).
in_netns() {
	unshare -m -n -- bash -c 'mount -t tmpfs tmpfs /run && ip link set lo up && exec "$@"' _ "$@"
}

# measure KEY [--netns] CMD...: best wall time (s) and peak RSS (KB) of
# REPEAT runs, in T[KEY] and M[KEY]; the last run's stdout in O[KEY].
# --netns: each run in a throwaway namespace (not counted in the time).
declare -A T M O U S
measure() {
	local key=$1 i f="$BENCH_WORK/time.$$" e="$BENCH_WORK/err.$$" t m u s
	local pre=()
	shift
	if [ "$1" = --netns ]; then pre=(in_netns); shift; fi
	T[$key]= M[$key]=
	for i in $(seq "$REPEAT"); do
		if ! O[$key]=$("${pre[@]}" /usr/bin/time -f "%e %M %U %S" -o "$f" "$@" 2>"$e"); then
			echo "bench: $key failed: $(head -3 "$e")" >&2
			T[$key]=FAILED M[$key]=FAILED
			return 1
		fi
		read -r t m u s < "$f"
		if [ -z "${T[$key]}" ] || awk -v a="$t" -v b="${T[$key]}" 'BEGIN { exit !(a < b) }'; then
			T[$key]=$t U[$key]=$u S[$key]=$s
		fi
		if [ -z "${M[$key]}" ] || [ "$m" -gt "${M[$key]}" ]; then M[$key]=$m; fi
	done
	rm -f "$f" "$e"
}

# ratio A B: A/B with two decimals, or "-" when either is not a number
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a !~ /^[0-9.]+$/ || b !~ /^[0-9.]+$/ || b == 0) print "-";
		else printf "%.2fx", a / b }'
}
mb() { awk -v k="$1" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.1f MB", k / 1024; else print k }'; }
secs() { case $1 in *[0-9]*) echo "$1 s";; *) echo "$1";; esac; }

# row LABEL PW_KEY NFT_KEY GOAL_TIME GOAL_MEM
row() {
	printf '%-46s %10s %10s   %-7s (goal %s)\n' "$1 time" \
		"$(secs "${T[$2]}")" "$(secs "${T[$3]}")" "$(ratio "${T[$2]}" "${T[$3]}")" "$4"
	printf '%-46s %10s %10s   %-7s (goal %s)\n' "$1 peak memory" \
		"$(mb "${M[$2]}")" "$(mb "${M[$3]}")" "$(ratio "${M[$2]}" "${M[$3]}")" "$5"
}
# cpu_row LABEL PW_KEY NFT_KEY: user and system (kernel) CPU of the best runs
cpu_row() {
	printf '%-46s %10s %10s\n' "$1 CPU user/sys" \
		"${U[$2]:-?}/${S[$2]:-?} s" "${U[$3]:-?}/${S[$3]:-?} s"
}
header() {
	printf '\n== %s (best of %s runs)\n' "$1" "$REPEAT"
	printf '%-46s %10s %10s   %s\n' "" portwarden nft ratio
}
