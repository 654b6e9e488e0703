#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A transaction the kernel refuses changes nothing and names the rule
# (root, inside the private mount + network namespace tests/run.sh made).
# The refusal is a real one: `socket cgroupv2 level N` with N > 255 is
# rejected by the kernel's nft_socket (ERANGE), and nft -f of the same text
# is refused the same way.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
W=$(mktemp -d /run/pwerr.XXXXXX)
trap 'rm -rf "$W"' EXIT
pw() { "$PORTWARDEN" "$@"; }

mount -t tmpfs pwcgroup /sys/fs/cgroup || { not_ok "environment" "cannot mount /sys/fs/cgroup"; exit 1; }
deep=$(printf 'a/%.0s' $(seq 1 256)); deep=${deep%/}
mkdir -p "/sys/fs/cgroup/$deep" || { not_ok "environment" "cannot make a deep cgroup directory"; exit 1; }

cat > "$W/good.yaml" <<'EOF'
portwarden: 1
table: pw_err
defaults: { outbound: drop }
sets:
  web: [80, 443]
outbound:
  - { name: web, proto: tcp, port: $web }
EOF
cat > "$W/bad.yaml" <<EOF
portwarden: 1
table: pw_err
defaults: { outbound: drop }
sets:
  web: [80, 443, 8443]
outbound:
  - { name: web, proto: tcp, port: \$web }
  - { name: dns, port: 53 }
  - name: deep-cgroup
    proto: tcp
    port: 8080
    cgroup: $deep
EOF
line=$(grep -n 'name: deep-cgroup' "$W/bad.yaml" | cut -d: -f1)

# the oracle agrees that the kernel refuses this
"$PORTWARDEN" compile "$W/bad.yaml" > "$W/bad.nft" 2>/dev/null
if nft -f "$W/bad.nft" > "$W/nfterr" 2>&1; then
	not_ok "environment" "the kernel accepted level 256; test cannot show a refusal"
	exit 1
fi
ok "nft -f of the same ruleset is refused too"

# 1. no table before: nothing appears
out=$(pw apply "$W/bad.yaml" 2>&1); rc=$?
check_eq "refused apply exits 3" 3 "$rc"
if nft list table inet pw_err >/dev/null 2>&1; then not_ok "refused apply creates nothing"
else ok "refused apply creates nothing"; fi
if grep -q "$W/bad.yaml:$line:[0-9]*: error: kernel refused rule \"deep-cgroup\"" <<<"$out"; then
	ok "error names the rule and FILE:LINE"
else not_ok "error names the rule and FILE:LINE" "$out"; fi

# 2. with a table: it stays exactly as it was (old table, never a mix)
nft add table inet bystander
nft add chain inet bystander c
pw apply -q "$W/good.yaml" || not_ok "good policy applies"
before=$(nft -a list ruleset)
out=$(pw apply "$W/bad.yaml" 2>&1); rc=$?
check_eq "refused apply over a table exits 3" 3 "$rc"
check_eq "refused apply changes nothing" "$before" "$(nft -a list ruleset)"
check_rc "diff still sees the good policy" 0 pw diff "$W/good.yaml"
if grep -q "was not changed" <<<"$out"; then ok "error says nothing changed"
else not_ok "error says nothing changed" "$out"; fi
if grep -q "$W/bad.yaml:$line:[0-9]*: error: kernel refused rule \"deep-cgroup\"" <<<"$out"; then
	ok "incremental apply: the error names the rule and FILE:LINE"
else not_ok "incremental apply: the error names the rule and FILE:LINE" "$out"; fi

# 3. a cgroup that does not exist: refused before anything is sent
sed "s|cgroup: .*|cgroup: no/such.service|" "$W/bad.yaml" > "$W/missing.yaml"
out=$(pw apply "$W/missing.yaml" 2>&1); rc=$?
check_eq "missing cgroup exits 3" 3 "$rc"
if grep -q 'deep-cgroup' <<<"$out"; then ok "missing cgroup names the rule"
else not_ok "missing cgroup names the rule" "$out"; fi
check_eq "missing cgroup changes nothing" "$before" "$(nft -a list ruleset)"

# 4. an invalid policy never reaches the kernel
printf 'portwarden: 1\ntable: pw_err\ninbound:\n  - { name: x, port: 0 }\n' > "$W/invalid.yaml"
check_rc "invalid policy exits 2" 2 pw apply "$W/invalid.yaml"
check_eq "invalid policy changes nothing" "$before" "$(nft -a list ruleset)"
exit 0
