#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 3: apply of 100,000 IPv4 + 10,000 IPv6 CIDRs from YAML against
# `nft -f` of the hand-written equivalent (named interval sets), each in a
# throwaway network namespace; and re-apply of the unchanged policy
# against nft's first apply.
# Usage: bench/apply.sh PATH/TO/portwarden
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK

measure pw_apply --netns "$PW" apply "$W/cidrs.yaml"
measure nft_apply --netns nft -f "$W/cidrs.nft"
# the same table as portwarden's, loaded by nft from compile's own text
"$PW" compile "$W/cidrs.yaml" > "$W/cidrs-compiled.nft"
measure nft_apply_compiled --netns nft -f "$W/cidrs-compiled.nft"

# re-apply: first apply untimed, then the timed one in the same namespace
cat > "$W/reapply.sh" <<-S
	"$PW" apply "$W/cidrs.yaml" >/dev/null || exit 1
	exec /usr/bin/time -f "%e %M" -o "\$1" "$PW" apply --format json "$W/cidrs.yaml"
S
reapply() { # KEY
	local key=$1 i f="$W/re.$$" t m
	T[$key]= M[$key]=
	for i in $(seq "$REPEAT"); do
		O[$key]=$(in_netns bash "$W/reapply.sh" "$f") || { T[$key]=FAILED; M[$key]=FAILED; return; }
		read -r t m < "$f"
		if [ -z "${T[$key]}" ] || awk -v a="$t" -v b="${T[$key]}" 'BEGIN { exit !(a < b) }'; then T[$key]=$t; fi
		if [ -z "${M[$key]}" ] || [ "$m" -gt "${M[$key]}" ]; then M[$key]=$m; fi
	done
}
reapply pw_reapply

header "apply (issue 3): 100k IPv4 + 10k IPv6 CIDRs, fresh namespace each"
row "apply vs nft -f (hand-written):" pw_apply nft_apply "<= 0.4x" "<= 0.5x"
cpu_row "apply vs nft -f (hand-written):" pw_apply nft_apply
row "apply vs nft -f (compile output):" pw_apply nft_apply_compiled "-" "-"
row "re-apply unchanged vs nft -f:" pw_reapply nft_apply "<= 0.1x" "-"
case ${O[pw_reapply]} in
*'"changed": false'*|*'"changed":false'*) echo "re-apply reported changed: false";;
*) echo "re-apply did NOT report changed: false: ${O[pw_reapply]:0:200}";;
esac
