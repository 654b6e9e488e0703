#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Errors in JSON (SPEC §6): with --format json every command prints exactly
# one JSON object on stdout also when it fails,
#   {"error": {"code": EXIT, "message": "...", "diagnostics": [...]}},
# whose code is the exit status; a policy error carries the checker's
# diagnostics (file, line, column, severity, message). `check` keeps its
# own object and adds the same "error" member. Root, in the private
# namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwjson.XXXXXX)
trap 'kill $srv 2>/dev/null; rm -rf "$W"' EXIT
umask 022
printf 'portwarden: 1\ntable: pw_json\noutbound:\n  - { name: web, proto: tcp, port: 99999 }\n' > "$W/bad.yaml"
printf 'portwarden: 1\ntable: other\n' > "$W/other.yaml"
printf 'portwarden: 1\ntable: pw_json\n' > "$W/good.yaml"
nft add table inet other

# one_error NAME EXPECTED_EXIT [DIAG_LINE] -- ARGS...: stdout is exactly one
# JSON object with an error of that code (and a diagnostic at that line)
one_error() {
	local name=$1 want=$2 line=$3 out rc; shift 4
	out=$(timeout 30 "$PORTWARDEN" "$@" --format json 2>"$W/err"); rc=$?
	check_eq "$name: exit $want" "$want" "$rc"
	python3 "$W/check.py" "$rc" "$line" "$W/bad.yaml" <<<"$out" > "$W/why" 2>&1
	if [ $? -eq 0 ]; then ok "$name: one JSON error object"
	else not_ok "$name: one JSON error object" "$(tail -1 "$W/why") [stdout: $out]"; fi
}
cat > "$W/check.py" <<'PY'
import json, sys
rc, line, bad = int(sys.argv[1]), sys.argv[2], sys.argv[3]
text = sys.stdin.read()
obj, end = json.JSONDecoder().raw_decode(text)
assert not text[end:].strip(), "more than one object: %r" % text[end:]
err = obj["error"]
assert err["code"] == rc, "code %r, exit %r" % (err["code"], rc)
assert isinstance(err["message"], str) and err["message"], "empty message"
for d in err["diagnostics"]:
    assert set(d) == {"file", "line", "column", "severity", "message"}, d
if line != "-":
    hits = [d for d in err["diagnostics"] if d["file"] == bad and d["line"] == int(line)
            and d["severity"] == "error" and isinstance(d["column"], int)]
    assert hits, "no error diagnostic at %s:%s in %r" % (bad, line, err["diagnostics"])
PY

# invalid policy (exit 2), with the checker's diagnostic at line 4
for cmd in apply diff audit compile; do
	one_error "$cmd, invalid policy" 2 4 -- $cmd "$W/bad.yaml"
done
one_error "explain, invalid policy" 2 4 -- explain "$W/bad.yaml" out tcp 192.0.2.1:443
# usage errors (exit 2)
one_error "unknown command" 2 - -- frobnicate
one_error "unknown option" 2 - -- apply --frob "$W/good.yaml"
one_error "option of another command" 2 - -- status --dry-run
one_error "bad --confirm" 2 - -- apply --confirm 0 "$W/good.yaml"
one_error "explain without a packet" 2 - -- explain "$W/good.yaml"
one_error "status with an argument" 2 - -- status extra
one_error "flush with an argument" 2 - -- flush extra
one_error "rollback with an argument" 2 - -- rollback extra
one_error "confirm with an argument" 2 - -- confirm extra
# runtime failures (exit 3)
one_error "status of an absent table" 3 - -- status --table nosuch
one_error "apply to a foreign table" 3 - -- apply "$W/other.yaml"
one_error "flush of a foreign table" 3 - -- flush --table other
one_error "diff in a missing namespace" 3 - -- diff --netns nosuch "$W/good.yaml"
one_error "audit in a missing namespace" 3 - -- audit --netns nosuch "$W/good.yaml"
one_error "audit of a missing recording" 3 - -- audit --replay "$W/nosuch" "$W/good.yaml"
one_error "rollback in a missing namespace" 3 - -- rollback --netns nosuch
one_error "confirm in a missing namespace" 3 - -- confirm --netns nosuch
one_error "apply in a missing namespace" 3 - -- apply --netns nosuch "$W/good.yaml"
# rollback of a table another program replaced: refused (exit 3)
"$PORTWARDEN" apply "$W/good.yaml" >/dev/null 2>&1
nft delete table inet pw_json && nft add table inet pw_json
one_error "rollback of a foreign table" 3 - -- rollback
one_error "confirm of a foreign table" 3 - -- confirm
nft delete table inet pw_json

# the lock-out guard (exit 4): an established loopback connection that a
# policy without the loopback exemption would cut
printf 'portwarden: 1\ntable: pw_json\nloopback: false\ndefaults: { inbound: drop }\n' > "$W/cut.yaml"
python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 2222)); s.listen(1)
c = socket.create_connection(("127.0.0.1", 2222)); a, _ = s.accept()
time.sleep(60)' &
srv=$!
for _ in $(seq 50); do ss -tn state established '( sport = :2222 )' | grep -q 2222 && break; sleep 0.1; done
one_error "apply refused by the lock-out guard" 4 - -- apply "$W/cut.yaml"

# check keeps its own object and adds the error member
out=$("$PORTWARDEN" check --format json "$W/bad.yaml" 2>/dev/null); rc=$?
if python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
assert o["valid"] is False and o["errors"], o
assert o["error"]["code"] == int(sys.argv[1]) == 2, o
assert o["error"]["diagnostics"][0]["line"] == 4, o' "$rc" <<<"$out"; then
	ok "check: its object with the error member"
else not_ok "check: its object with the error member" "exit $rc: $out"; fi

# success is unchanged: no error object
out=$("$PORTWARDEN" apply --format json "$W/good.yaml" 2>/dev/null)
if python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); assert "error" not in o and o["changed"] is True' <<<"$out"; then
	ok "a successful apply prints its own object, no error"
else not_ok "a successful apply prints its own object, no error" "$out"; fi
# text output gets no JSON
out=$("$PORTWARDEN" status --table nosuch 2>/dev/null)
check_eq "text mode prints no error object" "" "$out"
exit 0
