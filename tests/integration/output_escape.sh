#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Control characters from outside never reach a terminal (SPEC §6): a
# process that names itself with an escape sequence and a newline, and a
# rule comment with the same written into the kernel by another program,
# come out of the text reports as \xNN, with no raw ESC byte and no line
# of their own; JSON carries them as \u00XX and parses back to the bytes.
# Root, in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwesc.XXXXXX)
trap 'kill $srv 2>/dev/null; rm -rf "$W"' EXIT
umask 022
printf 'portwarden: 1\ntable: pw_esc\nlisteners:\n  - { proto: tcp, port: 22 }\n' > "$W/p.yaml"

# a listener on a non-loopback address whose comm is ESC[31m, "EVIL",
# a newline and "fake" (15 bytes, the most PR_SET_NAME keeps)
ip link add pwesc0 type veth peer name pwesc1 && ip link set pwesc1 up && ip addr add 10.77.0.1/24 dev pwesc0 && ip link set pwesc0 up
python3 - <<'PY' &
import ctypes, socket, time
name = b"\x1b[31mEVIL\nfake"
ctypes.CDLL(None, use_errno=True).prctl(15, ctypes.c_char_p(name), 0, 0, 0)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 8081)); s.listen(1)
time.sleep(60)
PY
srv=$!
for _ in $(seq 50); do
	[ "$(cat /proc/$srv/comm 2>/dev/null)" != python3 ] && ss -tln | grep -q 10.77.0.1:8081 && break
	sleep 0.1
done
if od -c /proc/$srv/comm | grep -q '033'; then ok "the listener named itself with an escape sequence"
else not_ok "environment" "prctl(PR_SET_NAME) did not take: $(od -c /proc/$srv/comm | head -2)"; fi

"$PORTWARDEN" audit "$W/p.yaml" > "$W/text" 2>&1
if grep -q "unexpected-listener.*10.77.0.1:8081" "$W/text"; then ok "audit reports the listener"
else not_ok "audit reports the listener" "$(cat "$W/text")"; fi
if grep -qF '\x1b[31mEVIL\x0afake(' "$W/text"; then ok "audit text shows the name escaped as \\xNN"
else not_ok "audit text shows the name escaped as \\xNN" "$(grep 8081 "$W/text")"; fi
if LC_ALL=C grep -q $'\x1b' "$W/text"; then not_ok "audit text carries no raw ESC byte"
else ok "audit text carries no raw ESC byte"; fi
if grep -q '^fake' "$W/text"; then not_ok "the name's newline starts no line of its own" "$(grep -n fake "$W/text")"
else ok "the name's newline starts no line of its own"; fi

"$PORTWARDEN" audit --format json "$W/p.yaml" > "$W/json" 2>/dev/null
if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
names = [p["comm"] for f in o["findings"] for p in f["processes"]]
assert "\x1b[31mEVIL\nfake" in names, names' "$W/json" && ! LC_ALL=C grep -q $'\x1b' "$W/json"; then
	ok "audit JSON escapes the name as \\u001b and parses back to it"
else not_ok "audit JSON escapes the name as \\u001b and parses back to it" "$(head -c 600 "$W/json")"; fi

# another program's rule comment with an escape sequence, shown by
# status and diff
"$PORTWARDEN" apply "$W/p.yaml" >/dev/null 2>&1 || not_ok "apply"
nft add rule inet pw_esc input tcp dport 9 counter accept comment "\"$(printf 'x\033[2Jy\nz')\""
"$PORTWARDEN" status --table pw_esc > "$W/status" 2>&1
if grep -qF 'x\x1b[2Jy\x0az' "$W/status" && ! LC_ALL=C grep -q $'\x1b' "$W/status"; then
	ok "status escapes a foreign rule comment"
else not_ok "status escapes a foreign rule comment" "$(od -c "$W/status" | head -20)"; fi
"$PORTWARDEN" diff "$W/p.yaml" > "$W/diff" 2>&1
if grep -qF 'x\x1b[2Jy\x0az' "$W/diff" && ! LC_ALL=C grep -q $'\x1b' "$W/diff"; then
	ok "diff escapes a foreign rule comment"
else not_ok "diff escapes a foreign rule comment" "$(cat -A "$W/diff" | head)"; fi
"$PORTWARDEN" status --table pw_esc --format json > "$W/sj" 2>&1
if python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert any(r["rule"] == "x\x1b[2Jy\nz" for c in o["chains"] for r in c["rules"]), o' "$W/sj"; then
	ok "status JSON carries the comment escaped, parsed back whole"
else not_ok "status JSON carries the comment escaped, parsed back whole" "$(head -c 400 "$W/sj")"; fi

# a file name with a control character, echoed in a diagnostic
f="$W/$(printf 'a\033]0;title\007b').yaml"
printf 'portwarden: 2\n' > "$f"
"$PORTWARDEN" check "$f" > "$W/diag" 2>&1
if grep -qF 'a\x1b]0;title\x07b.yaml:1:' "$W/diag" && ! LC_ALL=C grep -q $'\x1b' "$W/diag"; then
	ok "a diagnostic escapes the file name"
else not_ok "a diagnostic escapes the file name" "$(cat -A "$W/diag")"; fi
exit 0
