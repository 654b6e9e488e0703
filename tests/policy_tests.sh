#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `tests:` in the policy and `portwarden test` (SPEC §10), no privileges:
# for each verdict and each option of explain, a test that passes and the
# same test with another verdict (or another rule) that fails; check and
# compile refuse a policy with a failing test at the test's FILE:LINE:COL;
# `test` prints text, JSON and JUnit XML (read back with python3's XML
# parser) and exits 0 / 1 / 2; and every test's verdict is explain's.
set -u
cd "$(dirname "$0")/.."
PORTWARDEN=${PORTWARDEN:-$PWD/${BUILD:-build}/portwarden}
. tests/lib.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

me=$(id -un)
# rules for every verdict and every option of explain
head_yaml() {
	printf '%s\n' \
		'portwarden: 1' \
		'defaults: { inbound: drop, outbound: drop }' \
		'outbound:' \
		'  - { name: https, proto: tcp, port: 443 }' \
		'  - { name: meta, to: 169.254.169.254, action: reject }' \
		'  - { name: blackhole, to: 192.0.2.0/24, action: drop }' \
		'  - { name: ntp-sport, proto: udp, port: 123, sport: 123 }' \
		'  - { name: root-only, proto: tcp, port: 8446, user: root }' \
		'  - { name: by-group, proto: tcp, port: 8444, group: root }' \
		'  - { name: by-cgroup, proto: tcp, port: 8443, cgroup: system.slice/agent.service }' \
		'  - { name: out-eth9, proto: tcp, port: 8445, interface: eth9 }' \
		'inbound:' \
		'  - { name: ssh, proto: tcp, port: 22, from: [10.0.0.0/8, "2001:db8::/32"] }' \
		'  - { name: web-eth1, proto: tcp, port: 80, interface: eth1 }' \
		'  - { name: refuse-smtp, proto: tcp, port: 25, action: reject }' \
		'tests:'
}
# PACKET|EXPECT|RULE: each true of the policy above
cases=(
	"out tcp 93.184.216.34:443|accept|https"
	"out tcp [2001:db8::1]:443|accept|https"
	"out tcp 169.254.169.254:80|reject|meta"
	"in tcp 10.9.9.9:25|reject|refuse-smtp"
	"out udp 192.0.2.9:53|drop|blackhole"
	"out tcp 198.51.100.1:9|drop|default"
	"in tcp 10.9.9.9:22 --from 10.1.1.1|accept|ssh"
	"in tcp [2001:db8::9]:22 --from [2001:db8::5]:40000|accept|ssh"
	"in tcp 10.9.9.9:22 --from 11.1.1.1|drop|default"
	"out udp 198.51.100.1:123 --sport 123|accept|ntp-sport"
	"out udp 198.51.100.1:123 --from :123|accept|ntp-sport"
	"out udp 198.51.100.1:123 --sport 124|drop|default"
	"out tcp 198.51.100.1:8446 --user root|accept|root-only"
	"out tcp 198.51.100.1:8446 --user=0|accept|root-only"
	"out tcp 198.51.100.1:8446|drop|default"
	"out tcp 198.51.100.1:8444 --group root|accept|by-group"
	"out tcp 198.51.100.1:8444 --group 0 --policy-only|accept|by-group"
	"out tcp 198.51.100.1:8443 --cgroup system.slice/agent.service|accept|by-cgroup"
	"out tcp 198.51.100.1:8443 --cgroup system.slice/other.service|drop|default"
	"out tcp 198.51.100.1:8445 --interface eth9|accept|out-eth9"
	"out tcp 198.51.100.1:8445 --interface eth8|drop|default"
	"in tcp 10.9.9.9:80 --from 11.1.1.1 --interface eth1|accept|web-eth1"
	"in tcp 10.9.9.9:80 --interface=eth2|drop|default"
	"in icmp 10.9.9.9|accept|icmp"
	"in icmp 10.9.9.9:13|drop|default"
	"out tcp 127.0.0.1:5432|accept|loopback"
)
[ "$me" = root ] || cases+=("out tcp 198.51.100.1:8446 --user $me|drop|default")

policy() { # FILE, then lines of tests
	local f=$1; shift
	{ head_yaml; printf '%s\n' "$@"; } > "$f"
	chmod 0600 "$f"
}
entry() { # PACKET EXPECT [RULE]
	if [ -n "${3:-}" ]; then printf '  - { packet: "%s", expect: %s, rule: %s }' "$1" "$2" "$3"
	else printf '  - { packet: "%s", expect: %s }' "$1" "$2"; fi
}
other() { case $1 in accept) echo drop;; drop) echo reject;; *) echo accept;; esac; }

# --- all true: every test passes ------------------------------------------
lines=()
for c in "${cases[@]}"; do
	IFS='|' read -r pkt exp rule <<<"$c"
	lines+=("$(entry "$pkt" "$exp" "$rule")")
done
all=$tmp/all.yaml
policy "$all" "${lines[@]}"
out=$("$PORTWARDEN" test "$all" 2>&1); rc=$?
n=${#cases[@]}
check_eq "test: the $n true tests pass, exit 0" \
	"0 $n $n tests: $n passed, 0 failed, 0 errors" \
	"$rc $(grep -c '^PASS ' <<<"$out") $(tail -1 <<<"$out")"
check_rc "check accepts the policy whose tests pass" 0 "$PORTWARDEN" check "$all"
check_rc "compile accepts the policy whose tests pass" 0 "$PORTWARDEN" compile "$all"
check_eq "test -q prints only the summary when all pass" "1" \
	"$("$PORTWARDEN" test -q "$all" | wc -l)"

# --- each test's verdict is explain's (--policy-only), rule too ---------
bad=""
for c in "${cases[@]}"; do
	IFS='|' read -r pkt exp rule <<<"$c"
	# shellcheck disable=SC2086
	got=$("$PORTWARDEN" explain "$all" $pkt --policy-only --format json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["verdict"], j["rule"] or j["label"])' 2>&1)
	[ "$got" = "$exp $rule" ] || bad="$bad [$pkt: explain says $got]"
done
check_eq "explain --policy-only gives every test's verdict and rule" "" "$bad"

# --- each test with another verdict, or another rule, fails -------------
bad_v="" bad_r="" bad_c=""
line=$(( $(head_yaml | wc -l) + 1 ))
for c in "${cases[@]}"; do
	IFS='|' read -r pkt exp rule <<<"$c"
	f=$tmp/one.yaml
	policy "$f" "$(entry "$pkt" "$(other "$exp")" "")"
	out=$("$PORTWARDEN" test "$f" 2>&1); rc=$?
	[ "$rc" = 1 ] && grep -q "^FAIL $f:$line:5: .*test expects $(other "$exp"), but the policy says $exp by " <<<"$out" ||
		bad_v="$bad_v [$pkt: exit $rc: $out]"
	out=$("$PORTWARDEN" check "$f" 2>&1); rc=$?
	[ "$rc" = 2 ] && grep -qF "$f:$line:5: error: test expects $(other "$exp"), but the policy says $exp by " <<<"$out" &&
		[[ "$out" == *"; see: portwarden explain --policy-only POLICY $pkt"* ]] ||
		bad_c="$bad_c [$pkt: exit $rc: $out]"
	policy "$f" "$(entry "$pkt" "$exp" "not-$rule")"
	out=$("$PORTWARDEN" test "$f" 2>&1); rc=$?
	[ "$rc" = 1 ] && grep -q "test expects $exp by rule 'not-$rule', but the policy says $exp by " <<<"$out" ||
		bad_r="$bad_r [$pkt: exit $rc: $out]"
done
check_eq "test: each case with another verdict fails at its line, exit 1 ($n)" "" "$bad_v"
check_eq "check: each failing test is an error at FILE:LINE:COL, exit 2 ($n)" "" "$bad_c"
check_eq "test: each case with another rule fails, exit 1 ($n)" "" "$bad_r"

# --- a failing test refuses compile, names the deciding rule's line ------
f=$tmp/fail.yaml
policy "$f" "$(entry "out tcp 169.254.169.254:80" accept https)"
out=$("$PORTWARDEN" compile "$f" 2>&1 >"$tmp/compile.out"); rc=$?
check_eq "compile refuses a policy with a failing test (exit 2, no ruleset)" "2 0" \
	"$rc $(wc -c < "$tmp/compile.out")"
check_eq "the error names what decided and where" \
	"$f:$line:5: error: test expects accept by rule 'https', but the policy says reject by rule 'meta' ($f:5); see: portwarden explain --policy-only POLICY out tcp 169.254.169.254:80" \
	"$(grep ': error: ' <<<"$out")"

# --- bad packets and bad tests: exit 2 ------------------------------------
policy "$f" '  - { packet: "out tcp 1.2.3.4:1 --netns foo", expect: drop }' \
	'  - { packet: "out tcp 1.2.3.4:1 --usr root", expect: drop }' \
	'  - { packet: "sideways tcp 1.2.3.4:1", expect: drop }'
out=$("$PORTWARDEN" check "$f" 2>&1); rc=$?
col=$(( $(printf '  - { packet: ' | wc -c) + 1 ))
check_eq "check: bad packets are errors at the packet (exit 2)" \
	"2
$f:$line:$col: error: bad test packet: '--netns' needs the live host; a test is evaluated on the policy alone (drop it, and use explain --netns to ask a live host)
$f:$((line + 1)):$col: error: bad test packet: unknown option '--usr'; did you mean '--user'?
$f:$((line + 2)):$col: error: bad test packet: direction must be 'in' or 'out', not 'sideways'" \
	"$rc
$(grep ': error: ' <<<"$out")"
policy "$f" '  - { packet: "out tcp 1.2.3.4:1", expect: allow }' \
	'  - { packet: "out tcp 1.2.3.4:1", expect: drop, rules: x }' \
	'  - { expect: drop }' '  - "out tcp 1.2.3.4:1"'
out=$("$PORTWARDEN" check "$f" 2>&1); rc=$?
check_eq "check: a test's structure is checked (exit 2, 4 errors)" "2 4 yes" \
	"$rc $(grep -c ': error: ' <<<"$out") $([[ "$out" == *"$f:$line:"*"'allow'"* &&
	   "$out" == *"$f:$((line + 1)):"*"unknown key 'rules' in a test; did you mean 'rule'"* &&
	   "$out" == *"$f:$((line + 2)):"*"needs a 'packet'"* &&
	   "$out" == *"$f:$((line + 3)):"*"must be a mapping"* ]] && echo yes || echo "no: $out")"
policy "$f" '  - { packet: "out tcp 1.2.3.4:1 --netns foo", expect: drop }' \
	"$(entry "out tcp 93.184.216.34:443" accept https)"
out=$("$PORTWARDEN" test "$f" 2>&1); rc=$?
check_eq "test: a bad packet is an ERROR, exit 2, the other tests still run" \
	"2 1 1" "$rc $(grep -c '^ERROR ' <<<"$out") $(grep -c '^PASS ' <<<"$out")"

# --- formats ---------------------------------------------------------------
policy "$f" "$(entry "out tcp 93.184.216.34:443" accept https)" \
	"$(entry 'out tcp 93.184.216.34:8443 --cgroup \"a<b>&c'"'"'d\x01\"' accept by-cgroup)" \
	'  - { packet: "out tcp 1.2.3.4:1 --netns x", expect: drop }'
"$PORTWARDEN" test --format json "$f" > "$tmp/t.json" 2>/dev/null; rc=$?
check_eq "test --format json: passed, failed, errors and each test" \
	"2 pass accept https $f:4 None | fail drop default $f:2 | error None None None" \
	"$rc $(python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
assert (j["passed"], j["failed"], j["errors"]) == (1, 1, 1), j
print(" | ".join(" ".join(str(t[k]) for k in ("status", "verdict", "rule", "at") + (("message",) if t["status"] == "pass" else ())) for t in j["tests"]))' "$tmp/t.json" 2>&1)"
"$PORTWARDEN" test --format junit "$f" > "$tmp/t.xml" 2>/dev/null; rc=$?
check_eq "test --format junit: valid XML, a failure and an error, text escaped" \
	"2 3 1 1 yes" \
	"$rc $(python3 -c 'import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
cases = r.iter("testcase")
cases = list(cases)
f = [c for c in cases if c.find("failure") is not None]
e = [c for c in cases if c.find("error") is not None]
ok = "a<b>&c'"'"'d\\x01" in f[0].get("name") and r.get("failures") == "1" and r.get("errors") == "1"
print(len(cases), len(f), len(e), "yes" if ok else "no: " + f[0].get("name"))' "$tmp/t.xml" 2>&1)"
out=$("$PORTWARDEN" test --format junit "$f" 2>/dev/null | LC_ALL=C grep -c '[^[:print:]]')
check_eq "test --format junit: no raw control bytes from the policy" "0" "$out"
printf 'portwarden: 1\n' > "$tmp/none.yaml"; chmod 0600 "$tmp/none.yaml"
out=$("$PORTWARDEN" test "$tmp/none.yaml" 2>&1); rc=$?
check_eq "test: a policy without tests passes, exit 0" "0 0 tests: 0 passed, 0 failed, 0 errors" "$rc $out"
printf 'portwarden: 1\ninbound: 3\n' > "$tmp/inv.yaml"; chmod 0600 "$tmp/inv.yaml"
check_rc "test: an invalid policy exits 2" 2 "$PORTWARDEN" test "$tmp/inv.yaml"
out=$("$PORTWARDEN" test --format json "$tmp/inv.yaml" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["code"])' 2>&1)
check_eq "test --format json: an invalid policy is the error object" "2" "$out"
out=$("$PORTWARDEN" check --format json tests/bad/tests-fail.yaml 2>/dev/null |
	python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["valid"], len(j["errors"]), j["error"]["code"], j["errors"][0]["line"])' 2>&1)
check_eq "check --format json: failing tests are errors with their lines" "False 6 2 9" "$out"
out=$("$PORTWARDEN" compile --format json tests/bad/tests-fail.yaml 2>/dev/null |
	python3 -c 'import json,sys; j=json.load(sys.stdin)["error"]; print(j["code"], len(j["diagnostics"]))' 2>&1)
check_eq "compile --format json: the error object carries the failing tests" "2 6" "$out"
check_rc "--format junit is refused for explain" 2 "$PORTWARDEN" explain "$all" out tcp 1.2.3.4:1 --format junit

# --- hostnames (SPEC §8): a test by name matches as explain by name does ---
printf '%s\n' 'portwarden: 1' 'defaults: { outbound: reject }' 'outbound:' \
	'  - { name: dns, port: 53 }' \
	'  - { name: github, proto: tcp, port: 443, to: [github.com, "*.githubusercontent.com"] }' \
	'tests:' \
	'  - { packet: "out tcp github.com:443", expect: accept, rule: github }' \
	'  - { packet: "out tcp raw.githubusercontent.com:443", expect: accept, rule: github }' \
	'  - { packet: "out tcp example.com:443", expect: reject, rule: default }' \
	'  - { packet: "out tcp 140.82.112.3:443", expect: reject, rule: default }' \
	'  - { packet: "out tcp github.com:443", expect: reject }' > "$tmp/hosts.yaml"
chmod 0600 "$tmp/hosts.yaml"
out=$("$PORTWARDEN" test "$tmp/hosts.yaml" 2>&1); rc=$?
check_eq "tests by hostname: by name as the daemon would learn it, an address only when learned" \
	"1 4 FAIL $tmp/hosts.yaml:11:5: out tcp github.com:443: test expects reject, but the policy says accept by rule 'github' ($tmp/hosts.yaml:5)" \
	"$rc $(grep -c '^PASS ' <<<"$out") $(grep '^FAIL ' <<<"$out")"
bad=""
for pkt in "out tcp github.com:443" "out tcp raw.githubusercontent.com:443" "out tcp example.com:443"; do
	# shellcheck disable=SC2086
	e=$("$PORTWARDEN" explain "$tmp/hosts.yaml" $pkt --policy-only --format json 2>/dev/null |
		python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["verdict"], j["rule"] or j["label"])')
	t=$(grep -F "$pkt ->" <<<"$out" | sed -n "s/.* -> \([a-z]*\) (rule '\([^']*\)'.*/\1 \2/p")
	[ "$e" = "$t" ] || bad="$bad [$pkt: explain $e, test $t]"
done
check_eq "tests by hostname agree with explain --policy-only" "" "$bad"

# --- the example policies' tests pass --------------------------------------
for p in policies/*.yaml; do
	grep -q '^tests:' "$p" || continue
	check_rc "test $p: its tests pass" 0 "$PORTWARDEN" test "$p"
done
exit $((T_FAILED > 0))
