#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 16: how fast `portwarden daemon` restores its table after another
# program deletes it (p50/p99 over N=100 repairs, measured with
# `nft monitor`'s generation lines, not with sleeps), and the daemon's CPU
# while idle and while another table churns 10 times a second (it must
# not re-read its own table for other tables' changes).
# All of it in one throwaway network namespace; see daemon_repair.py.
# Usage: bench/daemon_repair.sh PATH/TO/portwarden   (N=100 CPU_SECONDS=10)
set -u
PW=${1:?usage: bench/daemon_repair.sh PATH/TO/portwarden}
PW=$(cd "$(dirname "$PW")" && pwd)/$(basename "$PW")
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 2; }
DIR=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/pwbench-daemon.XXXXXX)
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"
echo "== daemon_repair: N=${N:-100} CPU_SECONDS=${CPU_SECONDS:-10}"
unshare -m -n -- bash -c 'mount -t tmpfs tmpfs /run && ip link set lo up &&
	exec timeout -k 5 300 python3 -u "$1" "$2" "$3" "$4"' _ \
	"$DIR/daemon_repair.py" "$PW" "$W" "${N:-100}"
