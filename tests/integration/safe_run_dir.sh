#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full /run (a tmpfs with size=, filled) and a read-only /run: apply and
# flush refuse before the kernel is touched (exit 3, naming the path), so
# the kernel never holds a table without its rollback record; once there
# is room again, rollback still undoes the last apply that went through.
# Runs as root in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

T=pwrun
# not under /run: that goes read-only below
WORK=$(mktemp -d /tmp/pwrun.XXXXXX)
cleanup() {
	umount /run/portwarden 2>/dev/null
	mount -o remount,rw /run 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
umask 022

printf 'portwarden: 1\ntable: %s\ninbound:\n  - { name: ssh, proto: tcp, port: 22 }\n' "$T" > "$WORK/p1.yaml"
printf 'portwarden: 1\ntable: %s\ndefaults: { outbound: drop }\noutbound:\n  - { name: https, proto: tcp, port: 443 }\n' "$T" > "$WORK/p2.yaml"
# 20,000 addresses: a record of about 600 KB, more than the tmpfs holds
{
	printf 'portwarden: 1\ntable: %s\nsets:\n  block:\n' "$T"
	for ((i = 0; i < 20000; i++)); do
		printf '    - 10.%d.%d.%d\n' $((i / 65536)) $((i / 256 % 256)) $((i % 256))
	done
	printf 'inbound:\n  - { name: block, from: $block, action: drop }\n'
} > "$WORK/big.yaml"

live() { nft -s list table inet $T 2>/dev/null || echo absent; }
pw() { "$PORTWARDEN" "$@" > "$WORK/out" 2>&1; }
record() { ls /run/portwarden/net-*/state 2>/dev/null; }

mkdir -p /run/portwarden
mount -t tmpfs -o size=256k,mode=0700 tmpfs /run/portwarden || {
	not_ok "environment" "cannot mount a tmpfs on /run/portwarden"; exit 1; }

# 1. a record that does not fit: refused before the kernel is touched
pw apply "$WORK/p1.yaml"
L1=$(live)
check "p1 applied on the small tmpfs" test "$L1" != absent
rc=0; pw apply "$WORK/big.yaml" || rc=$?
check_eq "apply whose record does not fit exits 3" 3 "$rc"
check "the message names the record's path" grep -q "/run/portwarden/net-[0-9]*/state.new: No space left on device" "$WORK/out"
check "the message says the table was not changed" grep -q "table inet $T was not changed" "$WORK/out"
check_eq "the kernel still holds p1" "$L1" "$(live)"
check_eq "no write-ahead record or temp file is left" "state" "$(ls -A /run/portwarden/net-*/ | tr '\n' ' ' | sed 's/ $//')"

# 2. /run filled to the last block: a small policy is refused too
dd if=/dev/zero of=/run/portwarden/fill bs=4k 2>/dev/null
check "the tmpfs is full" test "$(df --output=avail /run/portwarden | tail -1 | tr -d ' ')" -eq 0
rc=0; pw apply "$WORK/p2.yaml" || rc=$?
check_eq "apply on a full /run exits 3" 3 "$rc"
check "it names the path and the reason" grep -q "/run/portwarden/net-[0-9]*/state.new: No space left on device" "$WORK/out"
check_eq "the kernel still holds p1 (full /run)" "$L1" "$(live)"
rc=0; pw flush --table $T || rc=$?
check_eq "flush on a full /run exits 3" 3 "$rc"
check "flush names the path" grep -q "/run/portwarden/net-[0-9]*/state.new: No space left on device" "$WORK/out"
check_eq "flush on a full /run left the table" "$L1" "$(live)"
rc=0; pw rollback || rc=$?
check_eq "rollback on a full /run exits 3" 3 "$rc"
check_eq "rollback on a full /run left the table" "$L1" "$(live)"

# 3. room again: the record of p1 was never lost
rm -f /run/portwarden/fill
if pw apply "$WORK/p2.yaml"; then ok "apply once there is room"; else not_ok "apply once there is room" "$(cat "$WORK/out")"; fi
L2=$(live)
pw rollback
check_eq "rollback returns to p1" "$L1" "$(live)"
umount /run/portwarden

# 4. a read-only /run: refused before the kernel is touched
pw apply "$WORK/p2.yaml"
check_eq "p2 applied" "$L2" "$(live)"
mount -o remount,ro /run || { not_ok "environment" "cannot remount /run read-only"; exit 1; }
rc=0; pw apply "$WORK/p1.yaml" || rc=$?
check_eq "apply on a read-only /run exits 3" 3 "$rc"
check "it names the path" grep -q "/run/portwarden/lock: Read-only file system" "$WORK/out"
check_eq "the kernel still holds p2 (read-only /run)" "$L2" "$(live)"
rc=0; pw flush --table $T || rc=$?
check_eq "flush on a read-only /run exits 3" 3 "$rc"
check_eq "flush on a read-only /run left the table" "$L2" "$(live)"
mount -o remount,rw /run
pw rollback
check_eq "after /run is writable again, rollback returns to the table before p2" "$L1" "$(live)"

exit $((T_FAILED > 0))
