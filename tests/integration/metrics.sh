#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# status --format prometheus: per-rule packet and byte counters of the live
# table after real packets from a peer namespace, parsed with
# prometheus_client's text parser (Debian's python3-prometheus-client) and
# compared with the kernel's own counters (nft -j), summed per rule; and
# the audit unit's commands writing them beside the audit's metrics.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
if ! $PY -c 'import prometheus_client.parser' 2>/dev/null; then
	not_ok "environment" "python3-prometheus-client is missing (contrib/install-deps.sh)"
	exit 1
fi
TABLE=pwmetrics

policy metrics.yaml <<EOF
portwarden: 1
table: $TABLE
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: web, proto: tcp, port: [80, 443] }
  - { name: alt, port: 8080 }
  - { name: v6-only, proto: tcp, port: 8443, from: "fd77::/64" }
  - { name: never, proto: tcp, port: 9000, not_from: 192.0.2.0/24, sport: 1-1023 }
outbound:
  - { name: o1, proto: tcp, port: 7001, to: $PEER4 }
  - { name: o2, proto: tcp, port: 7002, to: $PEER4 }
  - { name: o3, proto: tcp, port: 7003, to: $PEER4 }
  - { name: o4, proto: tcp, port: 7004, to: $PEER4 }
listeners:
  - { port: [80, 443, 8080, 8443] }
EOF
pw_apply "apply the policy" "$WORK/metrics.yaml" || exit 1
serve here "$HERE4,$HERE6" 80,443,8080,8443,9999
expect_probes 1 <<EOF
web4-80    peer root tcp $HERE4 80   open
web6-443   peer root tcp $HERE6 443  open
web4-443   peer root tcp $HERE4 443  open
alt-tcp    peer root tcp $HERE4 8080 open
alt-udp    peer root udp $HERE6 8080 open
v6only     peer root tcp $HERE6 8443 open
v4-8443    peer root tcp $HERE4 8443 drop
other      peer root tcp $HERE4 9999 drop
folded     here root tcp $PEER4 7003 refused
EOF

"$PORTWARDEN" status --table "$TABLE" --format prometheus > "$WORK/status.prom" 2> "$WORK/status.err"
check_eq "status --format prometheus exits 0" "0" "$?"
nft -j list table inet "$TABLE" > "$WORK/nft.json"

# One Python pass: parse, then compare with the kernel's counters. Prints
# "ok"/"not ok" lines itself.
$PY - "$WORK/status.prom" "$WORK/nft.json" "$TABLE" <<'EOF'
import json, sys
from prometheus_client.parser import text_string_to_metric_families

prom, nftj, table = sys.argv[1:4]
def ok(n): print("ok - " + n)
def not_ok(n, why=""): print("not ok - %s%s" % (n, ": " + why if why else ""))

try:
    fams = {f.name: f for f in text_string_to_metric_families(open(prom).read())}
    ok("the exposition parses (prometheus_client)")
except Exception as e:
    not_ok("the exposition parses (prometheus_client)", str(e))
    sys.exit(0)

want = {"portwarden_rule_packets": "counter", "portwarden_rule_bytes": "counter"}
got = {n: f.type for n, f in fams.items()}
if got == want:
    ok("two counter families, portwarden_rule_packets and _bytes")
else:
    not_ok("two counter families, portwarden_rule_packets and _bytes", str(got))
samples = {}
bad_names = []
for f in fams.values():
    for s in f.samples:
        if not s.name.endswith("_total") or set(s.labels) != {"table", "direction", "rule"}:
            bad_names.append(s.name + str(s.labels))
        samples[(s.name, s.labels["direction"], s.labels["rule"])] = s.value
        if s.labels.get("table") != table:
            bad_names.append("table=" + str(s.labels.get("table")))
if not bad_names:
    ok("samples end in _total and carry table, direction and rule")
else:
    not_ok("samples end in _total and carry table, direction and rule", str(bad_names[:3]))

# The kernel's counters, summed per (hook, comment).
hooks = {}
kernel = {}
for o in json.load(open(nftj))["nftables"]:
    if "chain" in o and "hook" in o["chain"]:
        hooks[o["chain"]["name"]] = {"input": "inbound", "output": "outbound"}[o["chain"]["hook"]]
for o in json.load(open(nftj))["nftables"]:
    r = o.get("rule")
    if not r:
        continue
    counter = [e["counter"] for e in r["expr"] if "counter" in e]
    if not counter or "comment" not in r:
        continue
    key = (hooks[r["chain"]], r["comment"])
    p, b = kernel.get(key, (0, 0))
    kernel[key] = (p + counter[0]["packets"], b + counter[0]["bytes"])
mine = {}
for (name, d, rule), v in samples.items():
    p, b = mine.get((d, rule), (0, 0))
    if name == "portwarden_rule_packets_total":
        p = v
    else:
        b = v
    mine[(d, rule)] = (p, b)
if mine and mine == {k: (float(p), float(b)) for k, (p, b) in kernel.items()}:
    ok("every sample equals the kernel's counters summed per rule (%d rules)" % len(mine))
else:
    not_ok("every sample equals the kernel's counters summed per rule",
           "mine %s, kernel %s" % (sorted(mine.items()), sorted(kernel.items())))

def pk(d, rule):
    return mine.get((d, rule), (None, None))[0]
checks = [
    ("web counted its three new connections", (pk("inbound", "web") or 0) >= 3),
    ("alt (tcp and udp, two nft rules) counts both", (pk("inbound", "alt") or 0) >= 2),
    ("v6-only counted its IPv6 connection", (pk("inbound", "v6-only") or 0) >= 1),
    ("a folded run of rules is one sample under its comment",
     any(d == "outbound" and r.startswith("fold: o1 .. o4") and p >= 1 for (d, r), (p, _) in mine.items())),
    ("a rule no packet matched is 0", pk("inbound", "never") == 0),
    ("the default rule counted the refused probes", (pk("inbound", "default") or 0) >= 2),
    ("built-in rules without counters have no sample",
     not any(r in ("established", "loopback", "icmp") for _, r in mine)),
]
for n, c in checks:
    (ok if c else not_ok)(n)
EOF

# alt is one policy rule, two nft rules: the sample is their sum, not
# one of them (the kernel's per-rule values differ from the sum).
n=$(nft -a list chain inet "$TABLE" input | grep -c 'comment "alt"')
check_eq "alt is two nft rules in the kernel" 2 "$n"

# A table that does not exist: exit 3, nothing on stdout (the audit unit
# ignores the failure and publishes the audit alone).
out=$("$PORTWARDEN" status --table nosuchtable --format prometheus 2>/dev/null)
rc=$?
check_eq "status --format prometheus on a missing table: exit 3, no output" "3:" "$rc:$out"

# The audit unit's commands, as systemd runs them: both reports in one
# textfile that parses as a whole.
mkdir -p "$WORK/textfile" "$WORK/etc"
cp "$WORK/metrics.yaml" "$WORK/etc/"
chmod 0700 "$WORK/etc"; chmod 0600 "$WORK/etc/metrics.yaml"
sed -e "s|/var/lib/prometheus/node-exporter|$WORK/textfile|g" \
    -e "s|/etc/portwarden|$WORK/etc|g" \
    -e "s|/usr/local/sbin/portwarden|$PORTWARDEN|g" \
    -e "s|status --format prometheus|& --table $TABLE|" \
    "$TOP/contrib/systemd/portwarden-audit.service" > "$WORK/audit.service"
stdout=$(sed -n 's/^StandardOutput=append://p' "$WORK/audit.service")
failed=""
for key in ExecStartPre ExecStart ExecStartPost; do
	while IFS= read -r line; do
		# shellcheck disable=SC2086
		${line#-} >> "$stdout" 2>/dev/null
		rc=$?
		[[ $rc == 0 || $rc == 1 || $line == -* ]] || failed="$failed $key:$rc"
	done < <(sed -n "s/^$key=//p" "$WORK/audit.service")
done
check_eq "the audit unit's commands succeed" "" "$failed"
$PY - "$WORK/textfile/portwarden.prom" <<'EOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
try:
    names = sorted(f.name for f in text_string_to_metric_families(open(sys.argv[1]).read()))
except Exception as e:
    print("not ok - the audit textfile parses with the rule counters in it: %s" % e)
    sys.exit(0)
need = {"portwarden_compliant", "portwarden_findings", "portwarden_rule_packets", "portwarden_rule_bytes"}
if need <= set(names) and len(names) == len(set(names)):
    print("ok - the audit textfile parses with the rule counters in it")
else:
    print("not ok - the audit textfile parses with the rule counters in it: %s" % names)
EOF
exit 0
