#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Ansible module of the collection (contrib/ansible, built with
# ansible-galaxy and installed into a scratch collections path) run by
# Debian's ansible-core against localhost as portwarden.portwarden.portwarden,
# acting in a throwaway network namespace through the module's netns
# parameter. Runs as root inside the private
# namespace tests/run.sh makes; the namespace it targets is its own.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/ansiblelib.sh"
need_root_netns
command -v ansible >/dev/null || { not_ok "environment" "ansible-core is not installed"; exit 1; }

NS=pwans
TABLE=pwansible
tmp=$(mktemp -d)
listener="" server="" client=""
cleanup() {
	for p in $listener $server $client; do kill "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
	ip netns del pwpeer 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$NS" || { not_ok "environment" "ip netns add failed"; exit 1; }
ip -n "$NS" link set lo up
mkdir -p "$tmp/pol" "$tmp/ansible"
chmod 0700 "$tmp/pol"
if collection_install "$tmp/galaxy" > /dev/null 2> "$tmp/galaxy.err"; then
	ok "the collection builds and installs"
else
	not_ok "the collection builds and installs" "$(head -c 300 "$tmp/galaxy.err")"
	exit 1
fi

cat > "$tmp/pol/policy.yaml" <<EOF
portwarden: 1
table: $TABLE
defaults:
  inbound: drop
  outbound: drop
inbound:
  - { name: ssh, proto: tcp, port: 22 }
outbound:
  - { name: dns, port: 53 }
  - { name: https, proto: tcp, port: 443 }
EOF
cat > "$tmp/pol/more.yaml" <<EOF
portwarden: 1
table: $TABLE
defaults:
  inbound: drop
  outbound: drop
inbound:
  - { name: ssh, proto: tcp, port: 22 }
outbound:
  - { name: dns, port: 53 }
  - { name: https, proto: tcp, port: 443 }
  - { name: imaps, proto: tcp, port: 993 }
EOF
printf 'portwarden: 1\ntable: %s\ninbound:\n  - { port: 0 }\n' "$TABLE" > "$tmp/pol/bad.yaml"
chmod 0600 "$tmp"/pol/*.yaml

# run_module OUT ARGS_JSON [ansible options...]: the task result as JSON in OUT
run_module() {
	local out=$1 args=$2
	shift 2
	ANSIBLE_LOCAL_TEMP="$tmp/ansible" ANSIBLE_REMOTE_TEMP="$tmp/ansible" \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_GATHERING=explicit \
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
	timeout 120 ansible localhost -i localhost, -c local \
		-t "$tmp/tree" -m portwarden.portwarden.portwarden -a "$args" "$@" \
		> "$out.out" 2> "$tmp/raw.err"
	# --tree writes the module's result as JSON but leaves "failed" out:
	# take that from the status line. Without a result, "failed" is
	# neither true nor false, so every check on this run fails.
	python3 - "$tmp/tree/localhost" "$out.out" > "$out" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    r = {"failed": "no result", "msg": "ansible gave no result"}
else:
    r["failed"] = "localhost | FAILED!" in open(sys.argv[2]).read()
print(json.dumps(r))
EOF
	rm -f "$tmp/tree/localhost"
}
# field FILE EXPR: a Python expression on the result r, printed
field() {
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>/dev/null
}
# The live table without counter values: traffic such as IPv6 neighbour
# discovery on the veth moves them while the rules stay the same.
live() {
	ip netns exec "$NS" nft list table inet "$TABLE" 2>/dev/null |
		sed 's/counter packets [0-9]* bytes [0-9]*/counter/'
}
why() { # a short reason from a result file
	echo "$(field "$1" 'r.get("msg", "")' | head -c 300) $(head -c 300 "$tmp/raw.err")"
}
# succeeded FILE: the task ran and did not fail
succeeded() { [ "$(field "$1" 'r.get("failed", False)')" = False ]; }

# deployed: the module's copy of the last applied policy (diff mode's
# "old" for portwarden compare), here and not under /var/lib
P='"policy": ["'"$tmp/pol/policy.yaml"'"], "netns": "'"$NS"'", "binary": "'"$PORTWARDEN"'", "deployed": "'"$tmp/deployed"'"'
M='"policy": ["'"$tmp/pol/more.yaml"'"], "netns": "'"$NS"'", "binary": "'"$PORTWARDEN"'", "deployed": "'"$tmp/deployed"'"'

# 1. check mode on an empty namespace: would change, changes nothing
run_module "$tmp/r1" "{$P}" --check --diff
if [ "$(field "$tmp/r1" 'r.get("failed", False)')" = False ] &&
   [ "$(field "$tmp/r1" 'r["changed"]')" = True ]; then
	ok "check mode reports changed=true for a missing table"
else
	not_ok "check mode reports changed=true for a missing table" "$(why "$tmp/r1")"
fi
if succeeded "$tmp/r1" && [ -z "$(live)" ]; then ok "check mode creates no table"
else not_ok "check mode creates no table" "$(why "$tmp/r1")"; fi
# --tree keeps no diff; ansible prints it before the result
if grep -q '^+.*dport 443' "$tmp/r1.out"; then
	ok "diff mode shows the rules the policy would add"
else
	not_ok "diff mode shows the rules the policy would add" "$(head -c 300 "$tmp/r1.out")"
fi

# 2. first apply changes, in the target namespace only
run_module "$tmp/r2" "{$P}"
check_eq "first apply changed=true" True "$(field "$tmp/r2" 'r["changed"]')"
if live | grep -q 'dport 443'; then ok "first apply created the table in the netns"
else not_ok "first apply created the table in the netns" "$(why "$tmp/r2")"; fi
check "the caller's own namespace is untouched" test -z "$(nft list tables 2>/dev/null)"
before=$(live)

# 3. second apply: nothing to do
run_module "$tmp/r3" "{$P}"
check_eq "second apply changed=false" False "$(field "$tmp/r3" 'r["changed"]')"
if [ -n "$before" ] && [ "$before" = "$(live)" ]; then ok "second apply left the table as it was"
else not_ok "second apply left the table as it was"; fi

# 4. check mode with a changed policy: says so, changes nothing
run_module "$tmp/r4" "{$M}" --check
check_eq "check mode reports a pending change" True "$(field "$tmp/r4" 'r["changed"]')"
if succeeded "$tmp/r4" && [ -n "$before" ] && [ "$before" = "$(live)" ]; then
	ok "check mode left the live table alone"
else
	not_ok "check mode left the live table alone" "$(why "$tmp/r4")"
fi
run_module "$tmp/r4b" "{$P}" --check
check_eq "check mode on an applied policy reports changed=false" False "$(field "$tmp/r4b" 'r["changed"]')"
# diff mode: portwarden compare of the deployed copy (the policy applied
# in step 2) and the candidate, one line per change
run_module "$tmp/r4c" "{$M}" --check --diff
check_eq "diff mode: compare's summary of deployed -> candidate" \
	"False ['opens out tcp/993 to anywhere not on lo']" \
	"$(field "$tmp/r4c" '"%s %s" % (r["compare"]["equal"], r["compare"]["changes"])')"
if grep -q '^opens out tcp/993 to anywhere not on lo' "$tmp/r4c.out"; then
	ok "diff mode prints compare's summary"
else not_ok "diff mode prints compare's summary" "$(head -c 400 "$tmp/r4c.out")"; fi
run_module "$tmp/r4d" "{$P}" --check --diff
check_eq "diff mode: the deployed policy itself is equal" "True []" \
	"$(field "$tmp/r4d" '"%s %s" % (r["compare"]["equal"], r["compare"]["changes"])')"

# 5. apply with confirm: applied, confirmed, still there after the timeout
# The detached timer must not hold Ansible's pipes open: the task returns
# well before the timer would fire.
start=$(date +%s)
run_module "$tmp/r5" "{$M, \"confirm\": 8}"
took=$(($(date +%s) - start))
check_eq "apply with confirm changed=true" True "$(field "$tmp/r5" 'r["changed"]')"
if [ "$took" -lt 8 ]; then ok "apply with confirm returns before the timer fires"
else not_ok "apply with confirm returns before the timer fires" "took ${took}s"; fi
[ "$took" -lt 10 ] && sleep $((10 - took))
if live | grep -q 'dport 993'; then ok "a confirmed apply survives its timeout"
else not_ok "a confirmed apply survives its timeout" "$(why "$tmp/r5")"; fi

# 6. audit: compliant, then an unexpected listener makes the task fail
run_module "$tmp/r6" "{$M, \"state\": \"audited\"}"
if [ "$(field "$tmp/r6" 'r.get("failed", False)')" = False ] &&
   [ "$(field "$tmp/r6" 'r["compliant"]')" = True ]; then
	ok "audited passes on a compliant namespace"
else
	not_ok "audited passes on a compliant namespace" "$(why "$tmp/r6") $(field "$tmp/r6" 'r.get("findings")')"
fi
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(8); time.sleep(120)' &
listener=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	ip netns exec "$NS" ss -Htln 2>/dev/null | grep -q ':8080 ' && break
	sleep 0.2
done
run_module "$tmp/r7" "{$M, \"state\": \"audited\"}"
check_eq "audited fails on an unexpected listener" True "$(field "$tmp/r7" 'r.get("failed", False)')"
check_eq "audited returns the finding" True \
	"$(field "$tmp/r7" 'any(f["kind"] == "unexpected-listener" and f["local"].endswith(":8080") for f in r["findings"])')"
kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null; listener=""

# 7. an invalid policy fails the task and changes nothing
after=$(live)
run_module "$tmp/r8" "{\"policy\": [\"$tmp/pol/bad.yaml\"], \"netns\": \"$NS\", \"binary\": \"$PORTWARDEN\"}"
check_eq "an invalid policy fails the task" True "$(field "$tmp/r8" 'r.get("failed", False)')"
check_eq "an invalid policy reports exit 2" 2 "$(field "$tmp/r8" 'r.get("rc")')"
if [ -n "$after" ] && [ "$after" = "$(live)" ]; then ok "an invalid policy changed nothing"
else not_ok "an invalid policy changed nothing" "table missing or changed"; fi

# 7b. check mode runs the policy's tests: a failing one fails the task,
# naming it; passing ones come back in "tests"
{ cat "$tmp/pol/more.yaml"; printf '%s\n' 'tests:' \
	'  - { packet: "out tcp 192.0.2.1:993", expect: accept, rule: imaps }' \
	'  - { packet: "out tcp 192.0.2.1:25", expect: accept }'; } > "$tmp/pol/tested.yaml"
chmod 0600 "$tmp/pol/tested.yaml"
line=$(($(wc -l < "$tmp/pol/more.yaml") + 3))
T='"policy": ["'"$tmp/pol/tested.yaml"'"], "netns": "'"$NS"'", "binary": "'"$PORTWARDEN"'"'
run_module "$tmp/t1" "{$T}" --check
check_eq "check mode fails on a failing policy test, naming it and what decided" "True 1 True" \
	"$(field "$tmp/t1" 'r.get("failed")') $(field "$tmp/t1" 'r.get("rc")') $(field "$tmp/t1" '"1 of 2 policy tests do not pass: '"$tmp/pol/tested.yaml:$line"':5: out tcp 192.0.2.1:25: test expects accept, but the policy says drop by the outbound default" in r.get("msg", "")')"
check_eq "the failing test's result is returned" "fail drop default" \
	"$(field "$tmp/t1" '" ".join(str(t[k]) for t in r["tests"] if t["status"] != "pass" for k in ("status", "verdict", "rule"))')"
if [ -n "$after" ] && [ "$after" = "$(live)" ]; then ok "a failing policy test changed nothing"
else not_ok "a failing policy test changed nothing" "table changed"; fi
sed -i '$d' "$tmp/pol/tested.yaml"
run_module "$tmp/t2" "{$T}" --check
check_eq "check mode with passing policy tests succeeds and returns them" "False pass imaps" \
	"$(field "$tmp/t2" 'r.get("failed")') $(field "$tmp/t2" '" ".join(t["status"] + " " + t["rule"] for t in r["tests"])')"

# 8. the lock-out guard: a live inbound connection the new policy would
# cut fails the task with rc 4 and changes nothing; force overrides it
cat > "$tmp/pol/guard.yaml" <<EOF
portwarden: 1
table: $TABLE
defaults: { inbound: drop, outbound: drop }
inbound:
  - { name: admin, proto: tcp, port: 2222 }
EOF
chmod 0600 "$tmp/pol/guard.yaml"
ip netns add pwpeer
ip link add pwv0 type veth peer name pwv1
ip link set pwv0 netns "$NS"
ip link set pwv1 netns pwpeer
ip -n "$NS" addr add 10.99.0.1/24 dev pwv0
ip -n "$NS" link set pwv0 up
ip -n pwpeer addr add 10.99.0.2/24 dev pwv1
ip -n pwpeer link set pwv1 up
run_module "$tmp/g1" "{\"policy\": [\"$tmp/pol/guard.yaml\"], \"netns\": \"$NS\", \"binary\": \"$PORTWARDEN\", \"deployed\": \"$tmp/deployed-guard\"}"
ip netns exec "$NS" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 2222)); s.listen(4); c = s.accept(); time.sleep(120)' &
server=$!
sleep 0.5
ip netns exec pwpeer python3 -c '
import socket, time
c = socket.create_connection(("10.99.0.1", 2222), timeout=3); time.sleep(120)' &
client=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	ip netns exec "$NS" ss -Htn state established '( sport = :2222 )' | grep -q . && break
	sleep 0.2
done
guarded=$(live)
run_module "$tmp/g2" "{$M}"
if [ "$(field "$tmp/g2" 'r.get("failed")')" = True ] && [ "$(field "$tmp/g2" 'r.get("rc")')" = 4 ]; then
	ok "the lock-out guard fails the task with rc 4"
else
	not_ok "the lock-out guard fails the task with rc 4" "$(why "$tmp/g2")"
fi
if [ -n "$guarded" ] && [ "$guarded" = "$(live)" ]; then ok "a refused apply changed nothing"
else not_ok "a refused apply changed nothing" "$(diff <(echo "$guarded") <(live) | head -5 | tr "\n" "|")"; fi
run_module "$tmp/g3" "{$M, \"force\": true}"
if [ "$(field "$tmp/g3" 'r["changed"]')" = True ] && live | grep -q 'dport 993'; then
	ok "force overrides the lock-out guard"
else
	not_ok "force overrides the lock-out guard" "$(why "$tmp/g3")"
fi
kill "$server" "$client" 2>/dev/null
wait "$server" "$client" 2>/dev/null
server="" client=""
ip netns del pwpeer

# 9. absent: check mode keeps the table, then it goes, then nothing to do
A='"state": "absent", "table": "'"$TABLE"'", "netns": "'"$NS"'", "binary": "'"$PORTWARDEN"'"'
run_module "$tmp/r9" "{$A}" --check
check_eq "absent in check mode reports changed=true" True "$(field "$tmp/r9" 'r["changed"]')"
if succeeded "$tmp/r9" && [ -n "$(live)" ]; then ok "absent in check mode keeps the table"
else not_ok "absent in check mode keeps the table" "$(why "$tmp/r9")"; fi
run_module "$tmp/r10" "{$A}"
check_eq "absent changed=true" True "$(field "$tmp/r10" 'r["changed"]')"
if succeeded "$tmp/r10" && [ -z "$(live)" ]; then ok "absent removed the table"
else not_ok "absent removed the table" "$(why "$tmp/r10")"; fi
run_module "$tmp/r11" "{$A}"
check_eq "absent again changed=false" False "$(field "$tmp/r11" 'r["changed"]')"
check_eq "absent again does not fail" False "$(field "$tmp/r11" 'r.get("failed", False)')"

# 10. absent without a table name: found from the policy
run_module "$tmp/r12" "{$P}"
run_module "$tmp/r13" "{$P, \"state\": \"absent\"}"
if [ "$(field "$tmp/r12" 'r.get("changed")')" = True ] &&
   [ "$(field "$tmp/r13" 'r.get("table")')" = "$TABLE" ] && [ -z "$(live)" ]; then
	ok "absent finds the table name from the policy"
else
	not_ok "absent finds the table name from the policy" "$(why "$tmp/r13")"
fi
exit 0
