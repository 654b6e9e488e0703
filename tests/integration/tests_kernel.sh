#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A policy's tests against the kernel (SPEC §10):
#  - a policy with a failing test leaves the kernel untouched: no table
#    when there was none, the previous apply's table byte for byte;
#  - the kernel is the oracle: random policies (conn_diff.py's generator)
#    with tests written from explain's verdicts; `test` passes them, and
#    real connections over the veth pair complete exactly where a test
#    expects accept (tests/tools/tests_diff.py).
# TESTS_SEEDS="1 2 3" overrides the seed list (default: 6 seeds).
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
net_pin_neighbours

ruleset() { nft list ruleset 2>&1; }

# --- a failing test changes nothing ---------------------------------------
policy good.yaml <<'EOF'
portwarden: 1
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
tests:
  - { packet: "in tcp 10.77.0.1:22 --from 10.77.0.2", expect: accept, rule: ssh }
EOF
# the same policy opened to the web, with a test that says it must not be
policy bad.yaml <<'EOF'
portwarden: 1
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
  - { name: web, proto: tcp, port: [80, 443] }
tests:
  - { packet: "in tcp 10.77.0.1:22 --from 10.77.0.2", expect: accept, rule: ssh }
  - { packet: "in tcp 10.77.0.1:80 --from 10.77.0.2", expect: drop }
EOF
nft flush ruleset
before=$(ruleset)
out=$("$PORTWARDEN" apply "$WORK/bad.yaml" 2>&1); rc=$?
check_eq "apply of a policy with a failing test: exit 2, the error at the test, nothing changed" \
	"2 yes yes" "$rc $(grep -qF "$WORK/bad.yaml:8:5: error: test expects drop, but the policy says accept by rule 'web' ($WORK/bad.yaml:5)" <<<"$out" && echo yes || echo "no: $out") $(grep -q 'nothing was changed' <<<"$out" && echo yes || echo no)"
check_eq "no table appears when there was none" "$before" "$(ruleset)"

pw_apply "apply of the good policy (its test passes)" "$WORK/good.yaml"
before=$(ruleset)
grep -q 'table inet portwarden' <<<"$before" && ok "the good policy's table is in place" ||
	not_ok "the good policy's table is in place" "$before"
check_rc "apply of the failing policy is refused (exit 2)" 2 "$PORTWARDEN" apply "$WORK/bad.yaml"
check_rc "apply --dry-run of it is refused too" 2 "$PORTWARDEN" apply --dry-run "$WORK/bad.yaml"
check_rc "apply --force does not override a failing test" 2 "$PORTWARDEN" apply --force "$WORK/bad.yaml"
check_eq "the previous table is unchanged, byte for byte" "$before" "$(ruleset)"
# and the kernel still does what the old table says: 80 stays closed
serve here 10.77.0.1 22,80
expect_probes 1.5 <<'EOF'
still-ssh-open   peer root tcp 10.77.0.1 22 open
still-80-closed  peer root tcp 10.77.0.1 80 drop
EOF
check_rc "diff still reports the good policy equal" 0 "$PORTWARDEN" diff "$WORK/good.yaml"
# test and explain still answer about the failing policy (how it is looked into)
check_rc "test of the failing policy exits 1" 1 "$PORTWARDEN" test "$WORK/bad.yaml"
check_rc "explain of the failing policy still answers (accept: exit 0)" 0 \
	"$PORTWARDEN" explain "$WORK/bad.yaml" in tcp 10.77.0.1:80 --from 10.77.0.2
"$PORTWARDEN" flush >/dev/null 2>&1
kill "${NET_PIDS[@]}" 2>/dev/null; wait 2>/dev/null; NET_PIDS=()

# --- the kernel as the oracle of generated tests --------------------------
nft flush ruleset
ports=22,53,80,443,8000,8001,8002,8003,9000,9999
serve peer 10.77.0.2,10.77.0.3,10.77.0.4,fd77::2,fd77::3,fd77::4 $ports
serve here 10.77.0.1,10.77.0.11,fd77::1,fd77::11 $ports
seeds=${TESTS_SEEDS:-$(seq 1 6)}
$PY "$TESTS_DIR/tools/tests_diff.py" "$PORTWARDEN" "$WORK" "$PROBE" $seeds ||
	not_ok "tests_diff.py" "exit $?"
exit $((T_FAILED > 0))
