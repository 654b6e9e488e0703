#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden monitor` with a real staged policy (SPEC §9, `apply
# --stage`): a connection the staged policy would reject and the enforced
# one accepts is one `staged` event with both sides (the staged verdict,
# rule and FILE:LINE from the record; the enforced verdict and rule from
# evaluating the packet against the live ruleset) and the listener that
# received it; a connection both policies accept is no event.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here 10.77.0.1 22,80

MON_PID=
trap '[ -n "$MON_PID" ] && kill "$MON_PID" 2>/dev/null; net_cleanup' EXIT

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
pw_apply "apply the enforced policy" "$WORK/enforced.yaml" || exit 1
if ! out=$("$PORTWARDEN" apply --stage "$WORK/staged.yaml" 2>&1); then
	not_ok "apply --stage" "$out"
	exit 1
fi
ok "apply --stage"

OUT="$WORK/ev.json"
"$PORTWARDEN" monitor --format json --timeout 30 > "$OUT" 2> "$OUT.err" &
MON_PID=$!
for i in $(seq 600); do
	grep -q '^ *1000 ' /proc/net/netfilter/nfnetlink_log 2>/dev/null && break
	sleep 0.05
done
connect() { # PORT
	printf 'c1 tcp 10.77.0.1 %s\n' "$1" | in_peer $PY "$PROBE" run -t 2 | awk '{ print $2 }'
}
check_eq "port 80 open (the staged reject decides nothing)" open "$(connect 80)"
check_eq "port 22 open" open "$(connect 22)"
for i in $(seq 600); do [ -s "$OUT" ] && break; sleep 0.05; done
sleep 0.5
kill "$MON_PID"; wait "$MON_PID"; rc=$?; MON_PID=
check_eq "monitor exits 0" 0 "$rc"

check_eq "one event: the staged connection to port 80" 1 "$(grep -c . "$OUT")"
check_eq "staged event: both sides, the listener" \
	"staged in tcp :80 accept web None | reject no-web $WORK/staged.yaml:5 | ${NET_PIDS[0]} python3" \
	"$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    s = e["staged"] or {}
    print(e["kind"], e["dir"], e["proto"], e["dst"][e["dst"].rindex(":"):],
          e["verdict"], e["rule"], e["at"], "|", s.get("verdict"), s.get("rule"),
          s.get("at"), "|", e["pid"], e["comm"])' "$OUT")"
exit $((T_FAILED > 0))
