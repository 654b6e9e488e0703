#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Staged policies (SPEC §9) with real packets over a veth: a staged policy
# that rejects port 80 while the enforced one accepts it lets the traffic
# through, gives exactly one NFLOG record (KIND S, read straight from
# nfnetlink_log by tests/tools/nflog_read.py) per new connection to 80 and
# none for port 22 where both agree, and counts them in `status`; promote
# enforces it in one transaction (port 80 refused, the counters of
# unchanged rules kept, the staged table gone); rollback goes back;
# unstage leaves nothing staged; staging works from no enforced policy.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here 10.77.0.1 22,80

N=${STAGE_CONNS:-5}
policy enforced.yaml <<'EOF'
portwarden: 1
defaults:
  inbound: drop
inbound:
  - name: web
    proto: tcp
    port: 80
  - name: ssh
    proto: tcp
    port: 22
EOF
policy staged.yaml <<'EOF'
portwarden: 1
defaults:
  inbound: drop
inbound:
  - name: no-web
    proto: tcp
    port: 80
    action: reject
  - name: ssh
    proto: tcp
    port: 22
EOF

LOG="$WORK/nflog.jsonl"
nflog_start() {
	rm -f "$WORK/nflog.ready"
	: > "$LOG"
	$PY "$TESTS_DIR/tools/nflog_read.py" 1000 "$LOG" "$WORK/nflog.ready" &
	NET_PIDS+=($!)
	NFLOG_PID=$!
	for _ in $(seq 50); do [ -f "$WORK/nflog.ready" ] && return 0; sleep 0.1; done
	not_ok "environment" "the NFLOG reader did not bind group 1000"
	exit 1
}
nflog_stop() { sleep 0.5; kill "$NFLOG_PID" 2>/dev/null; wait "$NFLOG_PID" 2>/dev/null; [ -n "${STAGE_DEBUG:-}" ] && cat "$LOG" >&2; }

# connect PORT N: N connections from the peer, one line of outcomes
connect() {
	local i spec=""
	for i in $(seq "$2"); do spec+="c$i tcp 10.77.0.1 $1"$'\n'; done
	printf '%s' "$spec" | in_peer $PY "$PROBE" run -t 2 | awk '{ print $2 }' | sort | uniq -c |
		awk '{ printf "%s%s=%s", sep, $2, $1; sep=" " }'
}

# jq-free JSON reads
js() { $PY -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

pw_apply "apply the enforced policy" "$WORK/enforced.yaml"
out=$("$PORTWARDEN" apply --stage "$WORK/staged.yaml" 2>&1)
check_eq "apply --stage" 0 $?
check "the staged table exists" nft list table inet portwarden_staged
check "the enforced table is unchanged by staging" \
	"$PORTWARDEN" diff -q "$WORK/enforced.yaml"
check_eq "audit: the staged table is no drift" 0 \
	"$("$PORTWARDEN" audit "$WORK/enforced.yaml" --format json | js 'len([f for f in d["findings"] if f["kind"] == "ruleset-drift"])')"

nflog_start
check_eq "staged reject, enforced accept: port 80 still open" "open=$N" "$(connect 80 "$N")"
check_eq "port 22 open" "open=$N" "$(connect 22 "$N")"
nflog_stop
recs=$(grep -c '"pw1 S in reject no-web .*staged.yaml:5 accept"' "$LOG")
check_eq "one KIND S record per new connection to 80" "$N" "$recs"
sports=$($PY -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
print(len({e["sport"] for e in s if e.get("dport") == 80}), len(s))' "$LOG")
check_eq "records name $N distinct connections to 80, nothing else" "$N $N" "$sports"
check_eq "no record for port 22 (both policies accept)" 0 "$(grep -c 'dport": 22' "$LOG")"

st=$("$PORTWARDEN" status --format json)
check_eq "status: the staged rule's counter counts the new connections" "$N" \
	"$(echo "$st" | js '[r["packets"] for r in d["staged"]["rules"] if r["rule"] == "no-web"][0]')"
check_eq "status: staged rule identity" "in reject" \
	"$(echo "$st" | js '[r["dir"] + " " + r["verdict"] for r in d["staged"]["rules"] if r["rule"] == "no-web"][0]')"
check_eq "status: sources of the staged policy" "$WORK/staged.yaml" \
	"$(echo "$st" | js 'd["staged"]["sources"][0]')"
"$PORTWARDEN" status | grep -q '^staged policy: table inet portwarden_staged'
check_eq "status text shows the staged policy" 0 $?
ssh_before=$(echo "$st" | js '[r["packets"] for c in d["chains"] for r in c["rules"] if r["rule"] == "ssh"][0]')

# end to end: `portwarden monitor` turns the records into staged events
"$PORTWARDEN" monitor --format json --count "$N" --timeout 20 > "$WORK/mon.json" 2> "$WORK/mon.err" &
MON_PID=$!
NET_PIDS+=($MON_PID)
for _ in $(seq 100); do
	grep -q '^ *1000 ' /proc/net/netfilter/nfnetlink_log 2>/dev/null && break
	sleep 0.05
done
check_eq "with monitor running, port 80 still open" "open=$N" "$(connect 80 "$N")"
wait "$MON_PID"
check_eq "monitor: exit 0" "0:" "$?:$(cat "$WORK/mon.err")"
got=$($PY -c '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
ok = [e for e in ev if e["kind"] == "staged" and e["dir"] == "in"
      and e["dst"].endswith(":80") and e["verdict"] == "accept"
      and e["rule"] == "web" and e["staged"]["verdict"] == "reject"
      and e["staged"]["rule"] == "no-web"
      and e["staged"]["at"].endswith("staged.yaml:5")]
print(len(ok), len(ev), len({e["src"] for e in ok}))' "$WORK/mon.json" 2>&1)
check_eq "monitor: one staged event per connection, both verdicts and both rules" "$N $N $N" "$got"

# promote: one transaction, port 80 refused, ssh's counter kept
out=$("$PORTWARDEN" promote --dry-run 2>&1)
check_eq "promote --dry-run: exit 0" 0 $?
check "promote --dry-run shows the rule that would come" grep -q '^+ .*reject.*no-web' <<<"$out"
check "promote --dry-run changes nothing" nft list table inet portwarden_staged
out=$("$PORTWARDEN" promote --format json 2>&1)
check_eq "promote" 0 $?
check_eq "promote keeps the unchanged rules' counters (json)" "True" \
	"$(echo "$out" | js 'd["counters_kept"] >= 1 and d["promoted"]')"
check "the staged table is gone after promote" bash -c '! nft list table inet portwarden_staged >/dev/null 2>&1'
check_eq "after promote port 80 is refused" "refused=$N" "$(connect 80 "$N")"
st=$("$PORTWARDEN" status --format json)
check_eq "after promote ssh's counter survived" "$ssh_before" \
	"$(echo "$st" | js '[r["packets"] for c in d["chains"] for r in c["rules"] if r["rule"] == "ssh"][0]')"
check_eq "after promote status says nothing is staged" "None" "$(echo "$st" | js 'd["staged"]')"
check "the promoted policy is the enforced one" "$PORTWARDEN" diff -q "$WORK/staged.yaml"

"$PORTWARDEN" rollback -q
check_eq "rollback after promote" 0 $?
check_eq "after rollback port 80 is open again" "open=$N" "$(connect 80 "$N")"

# unstage
"$PORTWARDEN" apply -q --stage "$WORK/staged.yaml"
out=$("$PORTWARDEN" unstage 2>&1)
check_eq "unstage" 0 $?
check "unstage: no staged table" bash -c '! nft list table inet portwarden_staged >/dev/null 2>&1'
check_eq "unstage: status says nothing is staged" "None" \
	"$("$PORTWARDEN" status --format json | js 'd["staged"]')"
check_eq "unstage: nothing is left in the ruleset but the enforced table" "table inet portwarden" \
	"$(nft list tables)"
"$PORTWARDEN" promote >/dev/null 2>&1
check_eq "promote with nothing staged is refused" 2 $?
"$PORTWARDEN" apply --stage --confirm 30 "$WORK/staged.yaml" >/dev/null 2>&1
check_eq "apply --stage --confirm is a usage error (nothing to undo)" 2 $?

# promote enforces what was staged, not what the files say later
cp "$WORK/staged.yaml" "$WORK/moving.yaml"
"$PORTWARDEN" apply -q --stage "$WORK/moving.yaml"
echo "  - { name: extra, proto: udp, port: 99 }" >> "$WORK/moving.yaml"
out=$("$PORTWARDEN" promote 2>&1)
check_eq "promote refuses files changed since staging" 2 $?
check "and changes nothing" "$PORTWARDEN" diff -q "$WORK/enforced.yaml"
check "and the staged policy stays" nft list table inet portwarden_staged
"$PORTWARDEN" unstage -q

# staging from no enforced policy: the host's verdict (accept) is the enforced one
"$PORTWARDEN" flush -q
(cd "$WORK" && "$PORTWARDEN" apply -q --stage staged.yaml)
check_eq "stage with no enforced policy (a relative path)" 0 $?
nflog_start
check_eq "no enforced policy, staged: port 80 still open" "open=$N" "$(connect 80 "$N")"
nflog_stop
check_eq "no enforced policy: one record per connection to 80" "$N" \
	"$(grep -c '"pw1 S in reject no-web .* accept"' "$LOG")"
"$PORTWARDEN" status | grep -q 'not present (nothing enforced)'
check_eq "status with only a staged policy" 0 $?
(cd / && "$PORTWARDEN" promote -q)
check_eq "promote from no enforced policy (from another directory)" 0 $?
check_eq "after promote from nothing, port 80 is refused" "refused=$N" "$(connect 80 "$N")"
check_eq "and port 22 open" "open=$N" "$(connect 22 "$N")"

# a staged policy follows changes of the enforced one (apply refreshes its copy)
"$PORTWARDEN" apply -q "$WORK/enforced.yaml"
"$PORTWARDEN" apply -q --stage "$WORK/enforced.yaml"
policy enforced2.yaml <<'EOF'
portwarden: 1
defaults:
  inbound: drop
inbound:
  - name: ssh
    proto: tcp
    port: 22
EOF
"$PORTWARDEN" apply -q --force "$WORK/enforced2.yaml"
nflog_start
check_eq "enforced now refuses 80 (drop)" "timeout=2" "$(connect 80 2)"
nflog_stop
check_eq "the staged copy of the enforced table followed the apply" 2 \
	"$(grep -c '"pw1 S in accept web .* drop"' "$LOG")"
# ... and rollback (back to the enforced policy that accepts 80: no record)
"$PORTWARDEN" rollback -q
nflog_start
check_eq "after rollback port 80 is open" "open=2" "$(connect 80 2)"
nflog_stop
check_eq "the staged copy followed the rollback (both accept 80: no record)" 0 \
	"$(grep -c 'dport": 80' "$LOG")"
# ... and flush (nothing enforced: the host accepts; staged agrees on 80)
"$PORTWARDEN" flush -q
nflog_start
check_eq "after flush port 22 is open" "open=2" "$(connect 22 2)"
check_eq "after flush port 9 is refused by the host" "refused=2" "$(connect 9 2)"
nflog_stop
check_eq "the staged copy followed the flush (the host accepts 9, staged drops it)" 2 \
	"$(grep -c '"pw1 S in drop default .* accept"' "$LOG")"
exit 0
