#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rollback: restores the table from before the last apply or flush
# (removes it when there was none), says so and exits 0 when there is
# nothing to undo, refuses to clobber a table changed behind portwarden's
# back, keeps its record 0600.
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
defaults:
  inbound: drop
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF
cat > "$WORK/p2.yaml" <<EOF
portwarden: 1
table: $T
defaults: { inbound: accept, outbound: drop }
sets:
  web: [80, 443, 8000-8999]
outbound:
  - { name: web, proto: tcp, port: \$web }
  - { name: dns, port: 53, to: [10.0.0.2, "2001:db8::53"] }
EOF

live() { nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > "$WORK/out" 2>&1; }

# 1. an apply over no table, rolled back: the table is gone again
check_eq "no table at start" absent "$(live)"
if pw apply "$WORK/p1.yaml"; then ok "apply p1"; else not_ok "apply p1" "$(cat "$WORK/out")"; fi
L1=$(live)
check "p1 is live" test "$L1" != absent
st=$(stat -c %a /run/portwarden/net-*/state 2>/dev/null)
check_eq "state file is 0600" 600 "$st"
if pw rollback; then ok "rollback exit 0"; else not_ok "rollback exit 0" "$(cat "$WORK/out")"; fi
check_eq "rollback removed a table that did not exist before" absent "$(live)"
check "rollback says it removed the table" grep -q "removed" "$WORK/out"

# 2. a second rollback has nothing to undo: it says so and changes nothing
if pw rollback; then ok "second rollback exit 0"; else not_ok "second rollback exit 0" "$(cat "$WORK/out")"; fi
check "second rollback says nothing to roll back" grep -q "nothing to roll back" "$WORK/out"
check_eq "second rollback changed nothing" absent "$(live)"

# 3. p1 then p2: rollback brings p1 back, exactly
pw apply "$WORK/p1.yaml"
pw apply "$WORK/p2.yaml"
L2=$(live)
check "p2 differs from p1" test "$L2" != "$L1"
check_eq "p2 is live" "$L2" "$(live)"
pw rollback
check_eq "rollback restored p1 exactly" "$L1" "$(live)"

# 4. the table changed since the last apply: refused, table untouched
pw apply "$WORK/p2.yaml"
nft add chain inet $T extra
changed=$(live)
rc=0; pw rollback || rc=$?
check_eq "rollback over a foreign change exits 3" 3 "$rc"
check "the refusal says why" grep -q "changed since" "$WORK/out"
check_eq "refused rollback left the table alone" "$changed" "$(live)"
nft delete chain inet $T extra
check_eq "after undoing the change, the table is p2 again" "$L2" "$(live)"
pw rollback
check_eq "then rollback works" "$L1" "$(live)"

# 5. other tables are never touched by apply or rollback
nft add table inet bystander
nft add chain inet bystander c '{ type filter hook input priority 10; }'
before=$(nft -s list table inet bystander)
pw apply "$WORK/p2.yaml"
pw rollback
check_eq "another table survives apply + rollback" "$before" "$(nft -s list table inet bystander)"

# 6. a failed apply (the kernel or netlink refuses) leaves the record of
#    the last good apply: rollback still undoes that one
cat > "$WORK/bad.yaml" <<EOF
portwarden: 1
table: $T
outbound:
  - { name: cg, cgroup: no/such/group.slice, proto: tcp, port: 443 }
EOF
pw apply "$WORK/p1.yaml"
pw apply "$WORK/p2.yaml"
rc=0; pw apply "$WORK/bad.yaml" || rc=$?
check_eq "an apply that cannot load exits 3" 3 "$rc"
check_eq "the failed apply changed nothing" "$L2" "$(live)"
pw rollback
check_eq "rollback after a failed apply undoes the last good one" "$L1" "$(live)"

# 7. --format json: apply's shape, parsed by a JSON parser
pw apply "$WORK/p2.yaml"
"$PORTWARDEN" rollback --format json > "$WORK/json" 2>&1
check_eq "rollback --format json" "True pwsafe table" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["changed"], d["table"], d["restored"])' "$WORK/json" 2>&1)"
"$PORTWARDEN" rollback --format json > "$WORK/json" 2>&1
check_eq "rollback --format json with nothing to do" "False" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["changed"])' "$WORK/json" 2>&1)"

# 8. flush leaves a rollback point, as apply does (SPEC §6): rollback
#    right after portwarden's own flush restores the flushed table
pw apply "$WORK/p1.yaml"
pw apply "$WORK/p2.yaml"
if pw flush --table $T; then ok "flush exit 0"; else not_ok "flush exit 0" "$(cat "$WORK/out")"; fi
check_eq "flush removed the table" absent "$(live)"
if pw rollback; then ok "rollback after flush exit 0"; else not_ok "rollback after flush exit 0" "$(cat "$WORK/out")"; fi
check_eq "rollback after flush restored the flushed table exactly" "$L2" "$(live)"
check "it says the table is back as before the flush" grep -q "before it was flushed" "$WORK/out"
rc=0; pw rollback || rc=$?
check_eq "a second rollback after flush has nothing to undo (exit 0)" 0 "$rc"
check_eq "and leaves the restored table" "$L2" "$(live)"
# flush of a table that is not there records nothing: rollback still
# undoes the last real change
pw flush --table $T
pw flush --table $T
check "the second flush says there was nothing" grep -q "not present" "$WORK/out"
pw rollback
check_eq "rollback after flush, flush: the table is back" "$L2" "$(live)"

# 9. a damaged record: refused, named, nothing changed; the next apply
#    replaces it
printf 'portwarden-state 1\ngeneration 3\nstatus applied\n' > /run/portwarden/net-*/state
rc=0; pw rollback || rc=$?
check_eq "rollback with a damaged record exits 3" 3 "$rc"
check "it names the damaged record" grep -q "rollback record /run/portwarden/net-[0-9]*/state is damaged" "$WORK/out"
check_eq "rollback with a damaged record changed nothing" "$L2" "$(live)"
pw apply "$WORK/p1.yaml"
pw rollback
check_eq "an apply over a damaged record records a new rollback point" "$L2" "$(live)"

# 10. no record at all: nothing to undo is not a failure (SPEC §6: exit 0)
rm -rf /run/portwarden/net-*
rc=0; pw rollback || rc=$?
check_eq "rollback with no record exits 0" 0 "$rc"
check "rollback with no record says so" grep -q "nothing to roll back: no apply or flush is recorded" "$WORK/out"
check_eq "rollback with no record changed nothing" "$L2" "$(live)"
"$PORTWARDEN" rollback --format json > "$WORK/json" 2>&1
check_eq "rollback --format json with no record" "False None" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["changed"], d["table"])' "$WORK/json" 2>&1)"

# 11. issue #10's case: apply p1, apply p2, then an apply of a big policy
#     killed with SIGKILL while its record waits for the kernel's commit.
#     Before, rollback then said "nothing to roll back" and p1 was lost.
python3 - "$WORK/big.yaml" "$T" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("portwarden: 1\ntable: %s\nsets:\n  block:\n" % sys.argv[2])
    for i in range(60000):
        f.write("    - 10.%d.%d.0/24\n" % (i // 256 % 256, i % 256) if i < 65536 else "")
    f.write("inbound:\n  - { name: block, from: $block, action: drop }\n")
PY
pw apply "$WORK/p1.yaml"
pw apply "$WORK/p2.yaml"
check_eq "p2 before the killed apply" "$L2" "$(live)"
dir=$(echo /run/portwarden/net-*)
"$PORTWARDEN" apply "$WORK/big.yaml" > /dev/null 2>&1 &
pid=$!
# the record of the big apply is on disk, written ahead: the batch is
# being built, the commit is yet to come (both outcomes are checked below)
end=$((SECONDS + 120))	# a bound for slow runs (valgrind), not a test
while ((SECONDS < end)); do
	[ -e "$dir/state.new" ] && break
	kill -0 $pid 2>/dev/null || break
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
now=$(live)
if [ "$now" = "$L2" ]; then
	ok "killed before the commit: the kernel still holds p2"
	pw rollback
	check_eq "rollback after the killed apply returns to p1" "$L1" "$(live)"
elif grep -q "10.233.95.0" <<< "$now"; then
	ok "killed after the commit: the kernel holds the big table"
	pw rollback
	check_eq "rollback after the killed apply returns to p2" "$L2" "$(live)"
else
	not_ok "the kernel holds p2 or the big table after kill -9" "$(head -5 <<< "$now")"
fi
check_eq "no write-ahead record is left once rollback has run" "" "$(ls -A "$dir" | grep -v '^state$' || true)"

exit $((T_FAILED > 0))
