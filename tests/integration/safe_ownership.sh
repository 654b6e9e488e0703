#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Ownership (SPEC §6): portwarden's table carries a mark (the table comment
# "managed by portwarden"); apply, flush, rollback and confirm refuse
# (exit 3), naming it, a table of that name without the mark, and leave
# it byte for byte as it was; --force takes it over. The mark does not
# disturb idempotence, and compile prints it, so `nft -f` of compile makes
# a table portwarden owns. Root, in the private namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwown.XXXXXX)
trap 'rm -rf "$W"' EXIT
umask 022

cat > "$W/other.yaml" <<'EOF2'
portwarden: 1
table: other
defaults: { inbound: drop }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
EOF2
sed 's/^table: other/table: mine/' "$W/other.yaml" > "$W/mine.yaml"

# a foreign table with a set, a chain and a rule of its own
nft -f - <<'EOF2' || { not_ok "environment" "cannot create the foreign table"; exit 1; }
table inet other {
	set keep { type ipv4_addr; elements = { 192.0.2.7 } }
	chain input {
		type filter hook input priority 10; policy accept;
		ip saddr @keep counter accept
	}
}
EOF2
snap() { nft -s -a list table inet other 2>&1; }
before=$(snap)
# refused CMD...: exit 3, the message names the table, the table unchanged
refused() {
	local name=$1 out rc; shift
	out=$("$PORTWARDEN" "$@" 2>&1); rc=$?
	check_eq "$name: exit 3" 3 "$rc"
	if grep -qF "table inet other exists and is not portwarden's; refusing (use --force to take it over)" <<<"$out"; then
		ok "$name: names the foreign table"
	else not_ok "$name: names the foreign table" "$out"; fi
	check_eq "$name: the foreign table is byte-identical" "$before" "$(snap)"
}

refused "apply table: other" apply "$W/other.yaml"
refused "apply --dry-run table: other" apply --dry-run "$W/other.yaml"
refused "flush --table other" flush --table other
refused "flush --table=other --format json" flush --table=other --format json

# diff is read-only: it compares, and notes the table is not portwarden's
out=$("$PORTWARDEN" diff "$W/other.yaml" 2>&1); rc=$?
check_eq "diff of a foreign table: exit 1 (differs)" 1 "$rc"
if grep -q "not portwarden's" <<<"$out"; then ok "diff notes the table is foreign"
else not_ok "diff notes the table is foreign" "$out"; fi
check_eq "diff leaves the foreign table alone" "$before" "$(snap)"

# rollback and confirm act on the recorded table only while it is ours:
# apply "mine", then let another program replace it by its own table
"$PORTWARDEN" apply "$W/mine.yaml" >/dev/null 2>&1 || not_ok "apply mine"
if nft list table inet mine | grep -q 'comment "managed by portwarden"'; then
	ok "apply marks its table (nft lists the comment)"
else not_ok "apply marks its table" "$(nft list table inet mine)"; fi
check_eq "re-apply is unchanged with the mark" "table inet mine: unchanged" \
	"$("$PORTWARDEN" apply "$W/mine.yaml" 2>&1)"
check_eq "diff equal with the mark" "table inet mine: no differences" \
	"$("$PORTWARDEN" diff "$W/mine.yaml" 2>&1)"
nft delete table inet mine
nft add table inet mine '{ comment "firewalld"; }'
nft add chain inet mine c
mine_before=$(nft -s list table inet mine)
out=$("$PORTWARDEN" rollback 2>&1); rc=$?
check_eq "rollback of a replaced, foreign table: exit 3" 3 "$rc"
if grep -qF "table inet mine exists and is not portwarden's" <<<"$out"; then ok "rollback names the foreign table"
else not_ok "rollback names the foreign table" "$out"; fi
check_eq "rollback leaves the foreign table alone" "$mine_before" "$(nft -s list table inet mine)"
"$PORTWARDEN" apply --force --confirm 30 "$W/mine.yaml" >/dev/null 2>&1 || not_ok "apply --force --confirm mine"
nft delete table inet mine
nft add table inet mine
mine_before=$(nft -s list table inet mine)
out=$("$PORTWARDEN" confirm 2>&1); rc=$?
check_eq "confirm of a replaced, foreign table: exit 3" 3 "$rc"
if grep -qF "table inet mine exists and is not portwarden's" <<<"$out"; then ok "confirm names the foreign table"
else not_ok "confirm names the foreign table" "$out"; fi
check_rc "confirm --force" 0 "$PORTWARDEN" confirm --force
check_eq "confirm leaves the foreign table alone" "$mine_before" "$(nft -s list table inet mine)"
nft delete table inet mine

# --force takes the foreign table over, and from then on it is ours
out=$("$PORTWARDEN" apply --force "$W/other.yaml" 2>&1); rc=$?
check_eq "apply --force table: other: exit 0" 0 "$rc"
if grep -q "taking it over (--force)" <<<"$out"; then ok "apply --force warns it takes the table over"
else not_ok "apply --force warns it takes the table over" "$out"; fi
if nft list table inet other | grep -q 'comment "managed by portwarden"' &&
   ! nft list table inet other | grep -q '@keep'; then ok "the taken-over table is portwarden's policy, marked"
else not_ok "the taken-over table is portwarden's policy, marked" "$(nft list table inet other)"; fi
check_eq "then apply without --force is unchanged" "table inet other: unchanged" \
	"$("$PORTWARDEN" apply "$W/other.yaml" 2>&1)"
check_rc "and flush without --force works" 0 "$PORTWARDEN" flush --table other
if nft list table inet other >/dev/null 2>&1; then not_ok "flushed table is gone"; else ok "flushed table is gone"; fi

# the same rules without the mark (nft -f of a listing with the comment
# taken out; an older portwarden's table) are foreign; with --force an
# apply whose rules already equal the policy still sends, to put the mark on
"$PORTWARDEN" compile "$W/other.yaml" | grep -v 'comment "managed by portwarden"' | nft -f -
check_rc "unmarked table with the policy's rules: apply refused" 3 "$PORTWARDEN" apply "$W/other.yaml"
out=$("$PORTWARDEN" apply --force "$W/other.yaml" 2>&1)
if grep -q "applied" <<<"$out" && nft list table inet other | grep -q 'comment "managed by portwarden"'; then
	ok "apply --force over equal rules marks the table"
else not_ok "apply --force over equal rules marks the table" "$out"; fi

# compile prints the mark: nft -f of compile makes a table portwarden owns
nft delete table inet other
"$PORTWARDEN" compile "$W/other.yaml" | nft -f -
check_eq "apply over nft -f of compile: unchanged" "table inet other: unchanged" \
	"$("$PORTWARDEN" apply "$W/other.yaml" 2>&1)"

# a comment that merely mentions portwarden is not the mark
nft delete table inet other
nft add table inet other '{ comment "not managed by portwarden"; }'
check_rc "a different comment is not the mark" 3 "$PORTWARDEN" flush --table other
exit 0
