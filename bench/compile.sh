#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 2: parse + check + compile (portwarden compile, text written to
# /dev/null) against `nft -c -f` of the hand-written equivalent, for
# 100,000 IPv4 + 10,000 IPv6 CIDRs in one set and for 10,000 rules.
# Usage: bench/compile.sh PATH/TO/portwarden
set -u
PW=${1:-}
. "$(dirname "$0")/common.sh"
W=$BENCH_WORK

measure pw_cidrs "$PW" compile "$W/cidrs.yaml"
measure nft_cidrs --netns nft -c -f "$W/cidrs.nft"
measure pw_rules "$PW" compile "$W/rules.yaml"
measure nft_rules --netns nft -c -f "$W/rules-linear.nft"

header "compile (issue 2): portwarden compile vs nft -c -f"
row "110k CIDRs in one set:" pw_cidrs nft_cidrs "<= 0.2x" "<= 0.5x"
row "10,000 rules:" pw_rules nft_rules "<= 0.2x" "<= 0.5x"
