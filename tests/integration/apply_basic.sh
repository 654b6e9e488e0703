#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# apply/diff/status/flush against the kernel (root, inside the private
# network namespace tests/run.sh made):
#  - apply makes exactly the table `nft -f` of `compile` makes: same
#    `nft -s list table` and the same bytecode (`nft --debug=netlink list`),
#    for every golden and example policy and the policies below;
#  - a second apply, or an apply over nft's own load, says unchanged and
#    sends nothing (handles stay), --dry-run sends nothing;
#  - a foreign table survives apply and flush untouched;
#  - diff exit codes and lines, status counters after traffic on lo.
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
cd "$TOP"
W=$(mktemp -d /run/pwapply.XXXXXX)
trap 'rm -rf "$W"' EXIT
pw() { "$PORTWARDEN" "$@"; }

# `socket cgroupv2` matches need their cgroup directories: give this mount
# namespace (private, see tests/run.sh) its own tree to create them in.
mount -t tmpfs pwcgroup /sys/fs/cgroup || { not_ok "environment" "cannot mount /sys/fs/cgroup"; exit 1; }
mkcgroups() { # NFT-FILE
	sed -n 's/.*socket cgroupv2 level [0-9]* "\([^"]*\)".*/\1/p' "$1" |
		while read -r p; do mkdir -p "/sys/fs/cgroup/$p"; done
}

# ---- policies of our own, for forms the examples may not cover ----
cat > "$W/forms.yaml" <<'EOF'
portwarden: 1
table: pw_forms
defaults: { inbound: drop, outbound: reject, log: true }
established: false
icmp: all
sets:
  admins: [10.1.0.0/16, 192.0.2.7, "2001:db8:1::/48", "2001:db8:2::1"]
  web: [80, 443, 8000-8999]
inbound:
  - { name: ssh, proto: tcp, port: ssh, from: $admins, not_from: [10.1.66.0/24] }
  - { name: dhcp, proto: udp, sport: 67, port: 68 }
  - { name: web, port: $web, interface: "veth*" }
  - { name: ntp, proto: udp, port: ntp, from: 10.16.0.0/12, log: true }
  - { name: v6-only, proto: tcp, port: 9000-9100, family: ipv6 }
  - { name: nope, proto: tcp, port: 23, action: reject }
outbound:
  - { name: dns, port: 53, to: [10.0.0.2, "2001:db8::53"] }
  - { name: owner, proto: tcp, port: 873, user: [0, 1000], group: 0, to: 192.0.2.10 }
  - { name: not-meta, proto: tcp, port: 443, not_to: [169.254.169.254] }
  - { name: eth0-out, interface: eth0, proto: udp, sport: 1024-65535 }
  - { name: block6, to: "2001:db8:dead::/48", action: drop }
  - { name: svc, cgroup: system.slice/pw-test.service, proto: tcp, port: 8443 }
EOF
cat > "$W/open.yaml" <<'EOF'
portwarden: 1
table: pw_open
loopback: false
icmp: none
inbound:
  - { name: web, proto: tcp, port: 8080 }
  - { name: udp-echo, proto: udp, port: 7 }
EOF

# ---- apply == nft -f of compile, listing and bytecode ----
# A kernel without nft's queue expression cannot load the DNS queue rule
# of a hostname policy from text (compile_oracle.sh checks those there).
nft add table inet pwqprobe && nft add chain inet pwqprobe c
native_queue=true
nft add rule inet pwqprobe c queue flags bypass to 1 2>/dev/null || native_queue=false
nft delete table inet pwqprobe
same_as_nft() { # NAME POLICY
	local name=$1 y=$2 t
	if ! pw compile "$y" > "$W/c.nft" 2> "$W/err"; then
		not_ok "$name" "compile: $(head -2 "$W/err" | tr '\n' ' ')"; return
	fi
	if ! $native_queue && grep -q 'queue flags bypass' "$W/c.nft"; then
		echo "# $name: no nft queue expression in this kernel; see compile_oracle.sh"
		return
	fi
	t=$(sed -n '1s/^table inet //p' "$W/c.nft")
	mkcgroups "$W/c.nft"
	nft delete table inet "$t" 2>/dev/null
	if ! nft -f "$W/c.nft" 2> "$W/err"; then
		not_ok "$name" "nft -f: $(head -2 "$W/err" | tr '\n' ' ')"; return
	fi
	nft -s list table inet "$t" > "$W/nft.list"
	nft --debug=netlink list table inet "$t" | sort > "$W/nft.bc"
	nft delete table inet "$t"
	if ! pw apply -q "$y" 2> "$W/err"; then
		not_ok "$name" "apply: $(head -2 "$W/err" | tr '\n' ' ')"; return
	fi
	nft -s list table inet "$t" > "$W/pw.list"
	nft --debug=netlink list table inet "$t" | sort > "$W/pw.bc"
	if ! diff -u "$W/nft.list" "$W/pw.list" > "$W/d"; then
		not_ok "$name" "listing differs: $(head -12 "$W/d" | tr '\n' '|')"
	elif ! diff -u "$W/nft.bc" "$W/pw.bc" > "$W/d"; then
		not_ok "$name" "bytecode differs: $(grep '^[-+] ' "$W/d" | head -6 | tr '\n' '|')"
	else
		ok "$name"
	fi
	# the reader understands nft's own bytecode: apply over nft -f is a no-op
	nft delete table inet "$t"
	nft -f "$W/c.nft"
	check_eq "$name: apply over nft -f unchanged" "table inet $t: unchanged" \
		"$(pw apply "$y" 2>/dev/null)"
	nft delete table inet "$t"
}
n=0
for y in tests/golden/*.yaml policies/*.yaml "$W/forms.yaml" "$W/open.yaml"; do
	[ -f "$y" ] || continue
	same_as_nft "apply = nft -f of compile: $(basename "$y")" "$y"
	n=$((n + 1))
done
[ "$n" -ge 5 ] && ok "covered $n policies" || not_ok "coverage" "only $n policies"

# ---- a foreign table, as Docker would leave it ----
nft -f - <<'EOF'
table inet docker {
	set peers {
		type ipv4_addr
		elements = { 172.17.0.2 }
	}
	chain forward_c {
		type filter hook forward priority 0; policy accept;
		ip saddr @peers counter accept comment "docker rule"
	}
}
EOF
foreign() { nft -a list table inet docker 2>&1; }
F0=$(foreign)
if grep -q 'comment "docker rule"' <<<"$F0"; then ok "foreign table in place"
else not_ok "foreign table in place" "$F0"; exit 1; fi

# ---- idempotence: nothing is sent the second time ----
pw apply -q "$W/forms.yaml"
H1=$(nft -a list table inet pw_forms)
out=$(pw apply "$W/forms.yaml" 2>&1)
check_eq "second apply says unchanged" "table inet pw_forms: unchanged" "$out"
check_eq "second apply sends nothing (handles kept)" "$H1" "$(nft -a list table inet pw_forms)"
out=$(pw apply --format json "$W/forms.yaml" 2>&1)
n_counters=$(nft -j list table inet pw_forms | python3 -c 'import json,sys; print(sum(1 for o in json.load(sys.stdin)["nftables"] if "rule" in o and any("counter" in x for x in o["rule"]["expr"])))')
check_eq "second apply JSON (every counter kept)" "{\"changed\": false, \"table\": \"pw_forms\", \"added\": [], \"removed\": [], \"counters_kept\": $n_counters}" "$out"
check_eq "foreign table untouched by apply" "$F0" "$(foreign)"

# ---- diff ----
check_rc "diff equal exits 0" 0 pw diff "$W/forms.yaml"
nft add rule inet pw_forms input tcp dport 31337 accept
check_rc "diff after a manual rule exits 1" 1 pw diff "$W/forms.yaml"
out=$(pw diff "$W/forms.yaml" 2>/dev/null)
if grep -q '^- rule input .*dport 31337 accept' <<<"$out"; then ok "diff names the foreign rule"
else not_ok "diff names the foreign rule" "$out"; fi
out=$(pw diff --format json "$W/forms.yaml" 2>/dev/null)
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["changed"] is True and d["table"]=="pw_forms" and any("31337" in r for r in d["removed"]) and d["added"]==[]' "$out"; then
	ok "diff JSON lists the removed rule"
else not_ok "diff JSON lists the removed rule" "$out"; fi
H2=$(nft -a list table inet pw_forms)
out=$(pw apply --dry-run "$W/forms.yaml" 2>&1)
check_eq "dry-run sends nothing" "$H2" "$(nft -a list table inet pw_forms)"
if grep -q '^- rule input .*31337' <<<"$out"; then ok "dry-run prints the change"
else not_ok "dry-run prints the change" "$out"; fi
out=$(pw apply --dry-run --format json "$W/forms.yaml" 2>/dev/null)
if python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["changed"] is True and d["table"]=="pw_forms" and any("31337" in r for r in d["removed"]) and d["added"]==[]' "$out"; then
	ok "dry-run JSON lists the change"
else not_ok "dry-run JSON lists the change" "$out"; fi
check_eq "dry-run JSON sends nothing" "$H2" "$(nft -a list table inet pw_forms)"
out=$(pw apply "$W/forms.yaml" 2>&1)
if [[ "$out" == "table inet pw_forms: applied ("*" rules, "*" set elements)" ]]; then ok "apply repairs drift"
else not_ok "apply repairs drift" "$out"; fi
check_rc "diff equal again" 0 pw diff "$W/forms.yaml"
nft add element inet pw_forms web '{ 7000 }'
out=$(pw diff "$W/forms.yaml" 2>/dev/null)
if grep -q '^- element web { 7000 }' <<<"$out"; then ok "diff names an extra set element"
else not_ok "diff names an extra set element" "$out"; fi
pw apply -q "$W/forms.yaml"
nft add table inet pw_forms '{ flags dormant; }'
check_rc "diff sees a dormant table" 1 pw diff "$W/forms.yaml"
pw apply -q "$W/forms.yaml"
if nft list table inet pw_forms | grep -q dormant; then not_ok "apply wakes a dormant table"
else ok "apply wakes a dormant table"; fi
nft delete table inet pw_forms
out=$(pw diff "$W/forms.yaml" 2>/dev/null); rc=$?
check_eq "diff of an absent table exits 1" 1 "$rc"
if grep -q '^+ rule input .*comment "ssh"' <<<"$out" && grep -q '^+ element web { 8000-8999 }' <<<"$out"; then
	ok "diff of an absent table lists rules and elements"
else not_ok "diff of an absent table lists rules and elements" "$(head -5 <<<"$out")"; fi
out=$(pw apply --dry-run "$W/forms.yaml" 2>&1)
if nft list table inet pw_forms >/dev/null 2>&1; then not_ok "dry-run creates nothing"
else ok "dry-run creates nothing"; fi

# ---- status ----
out=$(pw status --table pw_open 2>&1); rc=$?
check_eq "status of an absent table exits 3" 3 "$rc"
if grep -q "does not exist" <<<"$out"; then ok "status says the table is missing"
else not_ok "status says the table is missing" "$out"; fi
pw apply -q "$W/open.yaml"
pkts() { # RULE
	pw status --table pw_open --format json | python3 -c '
import json,sys
d=json.load(sys.stdin)
print(sum(r["packets"] for c in d["chains"] for r in c["rules"] if r["rule"]==sys.argv[1]))' "$1"
}
p0=$(pkts web)
for i in 1 2 3; do timeout 3 bash -c 'echo > /dev/tcp/127.0.0.1/8080' 2>/dev/null; done
p1=$(pkts web)
if [ -n "$p0" ] && [ -n "$p1" ] && [ "$p1" -ge $((p0 + 3)) ]; then ok "status counters count traffic on lo ($p0 -> $p1)"
else not_ok "status counters count traffic on lo" "$p0 -> $p1"; fi
out=$(pw status --table pw_open)
if grep -q '^chain input (hook input, policy accept)' <<<"$out" && grep -q '^  web ' <<<"$out"; then
	ok "status text shows chains and rule names"
else not_ok "status text shows chains and rule names" "$(head -4 <<<"$out")"; fi
pw status --table pw_open --format json | python3 -c '
import json,sys
d=json.load(sys.stdin)
assert d["table"]=="pw_open"
c=[c for c in d["chains"] if c["name"]=="input"][0]
assert c["policy"] in ("accept","drop")
r=[r for r in c["rules"] if r["rule"]=="web"][0]
assert "dport 8080" in r["nft"] and r["bytes"]>0' && ok "status JSON shape" || not_ok "status JSON shape"

# ---- flush ----
check_rc "flush exits 0" 0 pw flush --table pw_open
if nft list table inet pw_open >/dev/null 2>&1; then not_ok "flush removes the table"
else ok "flush removes the table"; fi
out=$(pw flush --table pw_open 2>&1); rc=$?
check_eq "flush of an absent table exits 0" 0 "$rc"
if grep -q "not present" <<<"$out"; then ok "flush says the table was absent"
else not_ok "flush says the table was absent" "$out"; fi
check_eq "foreign table untouched by flush" "$F0" "$(foreign)"
exit 0
