#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A staged policy never changes a verdict, even when it is broken
# (tests/tools/stage_neutral.py): random enforced policies (or none) with
# random or broken staged policies beside them (drop everything, reject
# everything, contradicting defaults, hundreds of rules); real TCP and UDP
# connections in and out must come out as portwarden's own table alone
# decides, and `explain` (which reads the staged table too) must agree.
# STAGE_SEEDS="1 2 3" overrides the seed list.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours
ports=22,53,80,443,8000,8001,8002,8003,9000,9999
serve peer 10.77.0.2,10.77.0.3,10.77.0.4,fd77::2,fd77::3,fd77::4 $ports
serve here 10.77.0.1,10.77.0.11,fd77::1,fd77::11,127.0.0.1,::1 $ports

seeds=${STAGE_SEEDS:-$(seq 1 10)}
$PY "$TESTS_DIR/tools/stage_neutral.py" "$PORTWARDEN" "$WORK" "$PROBE" $seeds ||
	not_ok "staged-policy neutrality driver" "exit $?"
exit 0
