#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every benchmark against one portwarden binary (`make bench` does
# `bench/run.sh BUILD/portwarden`) and prints the figures side by side with
# nft's. Benchmarks measure, they do not pass or fail; a bench that cannot
# run makes the exit status non-zero. Needs root (throwaway namespaces),
# nft, python3, cc and /usr/bin/time (Debian package `time`).
# Environment: REPEAT (runs per measurement, default 3), SECONDS_PER_RUN
# (data plane, default 2).
set -u
PW=${1:?usage: bench/run.sh PATH/TO/portwarden}
cd "$(dirname "$0")/.."
BENCH_WORK=$(mktemp -d /tmp/pwbench.XXXXXX)
export BENCH_WORK
trap 'rm -rf "$BENCH_WORK"' EXIT
python3 bench/gen.py "$BENCH_WORK" || exit 1

echo "portwarden bench: $(uname -r), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %R UTC')"
echo "portwarden $("$PW" --version 2>&1 | head -1); $(nft -v)"
rc=0
for b in ${BENCHES:-compile apply apply_change dataplane audit audit_bigtable dns_learn daemon_repair compare test_cmd}; do
	[ -f "bench/$b.sh" ] || continue
	bash "bench/$b.sh" "$PW" || { echo "bench $b: FAILED (exit $?)"; rc=1; }
done
exit $rc
