#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# --netns and concurrency (root, inside the private namespaces tests/run.sh
# made): apply/diff/status/flush act in the named namespace only; six
# applies started at once all succeed and leave one whole policy.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
W=$(mktemp -d /run/pwns.XXXXXX)
trap 'ip netns del pwpeer 2>/dev/null; rm -rf "$W"' EXIT
pw() { "$PORTWARDEN" "$@"; }

cat > "$W/p1.yaml" <<'EOF'
portwarden: 1
table: pw_ns
defaults: { inbound: drop }
sets:
  admins: [10.1.0.0/16, 10.2.0.0/16, "2001:db8:1::/48"]
inbound:
  - { name: ssh, proto: tcp, port: 22, from: $admins }
  - { name: web, proto: tcp, port: [80, 443] }
EOF
cat > "$W/p2.yaml" <<'EOF'
portwarden: 1
table: pw_ns
defaults: { outbound: drop }
outbound:
  - { name: dns, port: 53, to: [192.0.2.53, "2001:db8::53"] }
  - { name: https, proto: tcp, port: 443 }
EOF

# ---- --netns NAME and --netns PATH ----
if ! ip netns add pwpeer; then not_ok "environment" "ip netns add"; exit 1; fi
out=$(pw apply --netns pwpeer "$W/p1.yaml" 2>&1)
if [[ "$out" == "table inet pw_ns: applied ("*" rules, "*" set elements)" ]]; then ok "apply --netns NAME"
else not_ok "apply --netns NAME" "$out"; fi
if ip netns exec pwpeer nft list table inet pw_ns >/dev/null 2>&1; then ok "table made in the named namespace"
else not_ok "table made in the named namespace"; fi
if nft list table inet pw_ns >/dev/null 2>&1; then not_ok "table not made here"
else ok "table not made here"; fi
check_rc "diff --netns equal" 0 pw diff --netns pwpeer "$W/p1.yaml"
check_rc "diff here differs (absent)" 1 pw diff "$W/p1.yaml"
check_eq "apply --netns PATH unchanged" "table inet pw_ns: unchanged" \
	"$(pw apply --netns /run/netns/pwpeer "$W/p1.yaml" 2>&1)"
check_rc "status --netns" 0 pw status --netns pwpeer --table pw_ns
check_rc "status here fails" 3 pw status --table pw_ns
check_rc "flush --netns" 0 pw flush --netns pwpeer --table pw_ns
if ip netns exec pwpeer nft list table inet pw_ns >/dev/null 2>&1; then not_ok "flush --netns removes the table"
else ok "flush --netns removes the table"; fi
check_rc "--netns of a missing namespace exits 3" 3 pw apply --netns no-such-ns "$W/p1.yaml"

# ---- six concurrent applies ----
pw apply -q "$W/p1.yaml"; L1=$(nft -s list table inet pw_ns)
pw apply -q "$W/p2.yaml"; L2=$(nft -s list table inet pw_ns)
nft delete table inet pw_ns
pids=()
for i in 1 2 3 4 5 6; do
	pw apply -q "$W/p$(( i % 2 + 1 )).yaml" > "$W/out$i" 2>&1 & pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
check_eq "six concurrent applies all succeed" 0 "$fails"
final=$(nft -s list table inet pw_ns 2>&1)
if [ "$final" = "$L1" ] || [ "$final" = "$L2" ]; then ok "the table is one whole policy"
else not_ok "the table is one whole policy" "$(head -5 <<<"$final")"; fi
n=$(nft list tables | grep -c 'inet pw_ns')
check_eq "exactly one table" 1 "$n"
exit 0
