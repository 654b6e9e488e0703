#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Policy paths that are not regular files (a FIFO, a socket, a device) are
# refused at once with an error naming the file and what it is, on the
# command line and inside a policy directory (SPEC §6). Every call runs
# under `timeout`: a hang is a failure (exit 124), never a stuck suite.
# No privileges needed.
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"
cat > "$W/good.yaml" <<'EOF2'
portwarden: 1
outbound:
  - { name: https, proto: tcp, port: 443 }
EOF2
chmod 644 "$W/good.yaml"
mkfifo "$W/fifo.yaml"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$W/sock.yaml"
mkdir "$W/conf.d" && chmod 755 "$W/conf.d"
cp "$W/good.yaml" "$W/conf.d/10-good.yaml"
mkfifo "$W/conf.d/20-fifo.yaml"

# refused PATH WHAT NAME-IN-MESSAGE COMMAND...: exit 2 quickly, naming it
refused() {
	local path=$1 what=$2 named=$3 out rc; shift 3
	out=$(timeout 10 "$PORTWARDEN" "$@" 2>&1 </dev/null); rc=$?
	if [ "$rc" -eq 124 ]; then not_ok "$*: refused without blocking" "timed out"; return; fi
	check_eq "$*: exit 2" 2 "$rc"
	if grep -qF "$named: error: not a regular file or directory ($what)" <<<"$out"; then
		ok "$*: names $path as $what"
	else not_ok "$*: names $path as $what" "$out"; fi
}

for cmd in check compile; do
	refused "$W/fifo.yaml" "a FIFO" "$W/fifo.yaml" $cmd "$W/fifo.yaml"
	refused "$W/sock.yaml" "a socket" "$W/sock.yaml" $cmd "$W/sock.yaml"
	refused /dev/zero "a character device" /dev/zero $cmd /dev/zero
	refused "$W/conf.d" "a FIFO" "$W/conf.d/20-fifo.yaml" $cmd "$W/conf.d"
done
# the same with a good file beside it: still refused, still no hang
refused "$W/fifo.yaml" "a FIFO" "$W/fifo.yaml" check "$W/good.yaml" "$W/fifo.yaml"
# commands that load a policy before anything else refuse it the same way
refused "$W/fifo.yaml" "a FIFO" "$W/fifo.yaml" explain "$W/fifo.yaml" out tcp 192.0.2.1:443
refused "$W/conf.d" "a FIFO" "$W/conf.d/20-fifo.yaml" apply --dry-run "$W/conf.d"

# a FIFO that does have a writer is refused as well: nothing is read from it
( exec 3<>"$W/fifo.yaml"; sleep 5 ) &
writer=$!
refused "$W/fifo.yaml" "a FIFO" "$W/fifo.yaml" check "$W/fifo.yaml"
kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null

# the good file alone is fine (the refusals above are not blanket ones)
check_rc "regular file accepted" 0 timeout 10 "$PORTWARDEN" check "$W/good.yaml"
exit 0
