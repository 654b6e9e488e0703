#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# -v may be repeated (SPEC §6) and each level shows more: -v says where the
# live table came from and what was sent, -vv (also -v -v, --verbose
# --verbose) adds the phase timings of apply and one line per socket with
# its attribution in audit. Stdout stays the same at every level. Root, in
# the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwverb.XXXXXX)
trap 'kill $srv 2>/dev/null; rm -rf "$W"' EXIT
umask 022
printf 'portwarden: 1\ntable: pw_v\noutbound:\n  - { name: web, proto: tcp, port: [80, 443] }\n' > "$W/p.yaml"
sed 's/443/8443/' "$W/p.yaml" > "$W/q.yaml"

run() { "$PORTWARDEN" "$@" > "$W/out" 2> "$W/err"; }
run apply "$W/p.yaml"; plain=$(cat "$W/out")
check_eq "plain apply says nothing on stderr" "" "$(cat "$W/err")"

run apply -v "$W/q.yaml"; rc=$?
check_eq "-v: exit 0" 0 "$rc"
if grep -q "live table inet pw_v: the rollback record" "$W/err" &&
   grep -q "sent one transaction: [0-9]* netlink messages, [0-9]* bytes" "$W/err"; then
	ok "-v: says where the live table came from and what was sent"
else not_ok "-v: says where the live table came from and what was sent" "$(cat "$W/err")"; fi
if grep -q "timings:" "$W/err"; then not_ok "-v: no timings" "$(cat "$W/err")"; else ok "-v: no timings"; fi

for v in -vv "-v -v" "--verbose --verbose" "-v --verbose"; do
	# shellcheck disable=SC2086
	run apply $v "$W/p.yaml"; rc=$?
	check_eq "$v: exit 0" 0 "$rc"
	if grep -q "timings: load and check [0-9.]* ms, compile [0-9.]* ms, read the live table [0-9.]* ms, guard and rollback record [0-9.]* ms, transaction [0-9.]* ms" "$W/err" &&
	   grep -q "netlink messages" "$W/err"; then ok "$v: phase timings and the batch"
	else not_ok "$v: phase timings and the batch" "$(cat "$W/err")"; fi
	check_eq "$v: stdout as without it" "$plain" "$(cat "$W/out")"
	run apply "$W/q.yaml"
done
check_rc "-vx is a usage error" 2 "$PORTWARDEN" apply -vx "$W/p.yaml"

# audit: -vv names every socket with its process; -v does not
python3 -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 2999)); s.listen(1); time.sleep(60)' &
srv=$!
for _ in $(seq 50); do ss -tln | grep -q ':2999 ' && break; sleep 0.1; done
run audit -v "$W/p.yaml"
if grep -q "0.0.0.0:2999 listener" "$W/err"; then not_ok "audit -v: no per-socket lines" "$(cat "$W/err")"
else ok "audit -v: no per-socket lines"; fi
run audit -vv "$W/p.yaml"
if grep -q "portwarden: audit: tcp 0.0.0.0:2999 listener, open (rule default); inode [0-9]*, uid 0; processes python3($srv)" "$W/err"; then
	ok "audit -vv: one line per socket with its process"
else not_ok "audit -vv: one line per socket with its process" "$(cat "$W/err")"; fi
exit 0
