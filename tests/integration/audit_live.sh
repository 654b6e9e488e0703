#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# audit against real sockets. Runs as root inside the private namespace
# tests/run.sh makes ("host" below); a peer namespace reached over a veth
# pair plays the remote side. Listeners: tcp v4, a dual-stack and a v6only
# [::] listener, a loopback one, udp v4 and v6. Connections: allowed and
# denied sources (v4 and v6), outbound by a uid a `user` rule admits and
# by one it does not, connected udp. Every finding kind (local-only-listener
# for an expected listener bound to loopback only), the JSON shape (port and
# cgroup of every finding, "*:PORT" of a missing listener), junit,
# prometheus, --netns, --all-netns, --record/--replay, drift after editing
# the live table with nft, and drift checked without reading the table
# while the ruleset generation is unchanged.
. "$(dirname "$0")/../lib.sh"
need_root_netns

PEER=pwaudpeer
TABLE=pwaudit
tmp=$(mktemp -d)
chmod 0755 "$tmp"
mkdir -m 1777 "$tmp/r"	# ready files of clients running under other uids
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	ip netns del "$PEER" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$PEER" || { not_ok "environment" "ip netns add"; exit 1; }
ip link add pwa0 type veth peer name pwa1 netns "$PEER" ||
	{ not_ok "environment" "veth"; exit 1; }
ip addr add 10.9.0.1/24 dev pwa0
ip addr add fd00:9::1/64 dev pwa0 nodad
ip link set pwa0 up
ip -n "$PEER" link set lo up
ip -n "$PEER" addr add 10.9.0.2/24 dev pwa1
ip -n "$PEER" addr add 10.9.0.3/24 dev pwa1
ip -n "$PEER" addr add fd00:9::2/64 dev pwa1 nodad
ip -n "$PEER" link set pwa1 up

# ---- the programs playing servers and clients ---------------------------
cat > "$tmp/server.py" <<'EOF'
import os, socket, sys, threading, time
def L(fam, addr, port, v6only=None, typ=socket.SOCK_STREAM):
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    if typ == socket.SOCK_STREAM:
        s.listen(64)
    return s
spec = sys.argv[2:]
socks, kept = [], []
for item in spec:
    proto, fam, addr, port, *opt = item.split(",")
    f = socket.AF_INET6 if fam == "6" else socket.AF_INET
    t = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    v6 = None
    if opt:
        v6 = 1 if opt[0] == "v6only" else 0
    socks.append(L(f, addr, int(port), v6, t))
def acceptor(s):
    while True:
        c, _ = s.accept()
        kept.append(c)
for s in socks:
    if s.type == socket.SOCK_STREAM:
        threading.Thread(target=acceptor, args=(s,), daemon=True).start()
open(sys.argv[1], "w").write("%d\n" % os.getpid())
time.sleep(120)
EOF
cat > "$tmp/client.py" <<'EOF'
import os, socket, sys, time
# client.py READYFILE [uid=N] proto,fam,src,dst,port ...
args = sys.argv[2:]
if args and args[0].startswith("uid="):
    os.setgid(int(args[0][4:])); os.setuid(int(args[0][4:])); args = args[1:]
kept = []
for item in args:
    proto, fam, src, dst, port = item.split(",")
    f = socket.AF_INET6 if fam == "6" else socket.AF_INET
    t = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(f, t)
    s.settimeout(3)
    if src:
        s.bind((src, 0))
    s.connect((dst, int(port)))
    kept.append(s)
open(sys.argv[1], "w").write("ready\n")
time.sleep(120)
EOF
wait_ready() { # FILE
	local i
	for i in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
start() { # READYFILE CMD...
	local f=$1; shift
	timeout 150 "$@" 2>"$f.err" &
	pids+=($!)
	wait_ready "$f" || { not_ok "start $*" "$(cat "$f.err")"; exit 1; }
}

# host: the audited side
start "$tmp/srv" python3 "$tmp/server.py" "$tmp/srv" \
	tcp,4,0.0.0.0,22 tcp,6,::,8080,dual tcp,6,::,8443,v6only \
	tcp,4,127.0.0.1,6379 tcp,4,0.0.0.0,9000 udp,4,0.0.0.0,5353 \
	udp,6,fd00:9::1,123
srv_pid=$(cat "$tmp/srv")	# python itself, not timeout
# peer: a service the host calls out to
ip netns exec "$PEER" timeout 150 python3 "$tmp/server.py" "$tmp/psrv" \
	tcp,4,10.9.0.2,7000 2>"$tmp/psrv.err" &
pids+=($!)
wait_ready "$tmp/psrv" || { not_ok "peer server" "$(cat "$tmp/psrv.err")"; exit 1; }
# inbound: a denied ssh (10.9.0.2), an allowed one (10.9.0.3), web over
# IPv4 (allowed) and over IPv6 (web is IPv4 only)
ip netns exec "$PEER" timeout 150 python3 "$tmp/client.py" "$tmp/pcli" \
	tcp,4,10.9.0.2,10.9.0.1,22 tcp,4,10.9.0.3,10.9.0.1,22 \
	tcp,4,10.9.0.2,10.9.0.1,8080 tcp,6,fd00:9::2,fd00:9::1,8080 \
	2>"$tmp/pcli.err" &
pids+=($!)
wait_ready "$tmp/pcli" || { not_ok "peer clients" "$(cat "$tmp/pcli.err")"; exit 1; }
# outbound: uid 1234 may reach 10.9.0.2:7000, uid 1235 may not; udp dns
start "$tmp/r/c1234" python3 "$tmp/client.py" "$tmp/r/c1234" uid=1234 tcp,4,,10.9.0.2,7000
start "$tmp/r/c1235" python3 "$tmp/client.py" "$tmp/r/c1235" uid=1235 tcp,4,,10.9.0.2,7000
start "$tmp/cdns" python3 "$tmp/client.py" "$tmp/cdns" udp,4,,10.9.0.2,53

cat > "$tmp/policy.yaml" <<EOF
portwarden: 1
table: $TABLE
defaults: {inbound: drop, outbound: drop}
inbound:
  - {name: ssh, proto: tcp, port: 22, from: 10.9.0.3}
  - {name: web, proto: tcp, port: [8080, 8443], from: 10.9.0.0/24}
  - {name: ntp, proto: udp, port: 123}
outbound:
  - {name: dns, port: 53}
  - {name: backup, user: 1234, proto: tcp, port: 7000, to: 10.9.0.2}
listeners:
  - {proto: tcp, port: 22}
  - {proto: tcp, port: 8443}
  - {proto: tcp, port: 2222, process: sshd}
  - {proto: tcp, port: 6379}
  - {proto: tcp, port: 9000, family: ipv6}
EOF
chmod 0644 "$tmp/policy.yaml"

# The policy is live (established connections survive it: ct state).
"$PORTWARDEN" compile "$tmp/policy.yaml" > "$tmp/ruleset.nft" &&
	nft -f "$tmp/ruleset.nft" || { not_ok "load the ruleset with nft"; exit 1; }

# ---- JSON ----------------------------------------------------------------
"$PORTWARDEN" audit "$tmp/policy.yaml" --format json > "$tmp/a.json" 2>"$tmp/a.err"
check_eq "audit with findings exits 1" 1 $?
cat > "$tmp/check.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
srv = int(sys.argv[2])
srv_cg = sys.argv[3]
errs = []
def want(cond, msg):
    if not cond: errs.append(msg)
want(set(d) == {"compliant", "sockets", "findings"}, "top keys %s" % sorted(d))
want(d["compliant"] is False, "compliant")
want(isinstance(d["sockets"], int) and d["sockets"] >= 14, "sockets %r" % d["sockets"])
keys = {"kind", "proto", "local", "port", "remote", "processes", "uid",
        "cgroup", "rule", "detail"}
for f in d["findings"]:
    want(set(f) == keys, "finding keys %s" % sorted(f))
    for p in f["processes"]:
        want(set(p) == {"pid", "comm"} and isinstance(p["pid"], int), "process %r" % p)
    # SPEC §11: port is the local port, a number, also of *:PORT
    want(type(f["port"]) is int and f["local"] is not None and
         f["local"].rsplit(":", 1)[1] == str(f["port"]), "port of %r" % f)
    # and cgroup the socket's cgroup: the server's for its sockets
    if any(p["pid"] == srv for p in f["processes"]):
        want(f["cgroup"] == srv_cg, "cgroup %r, the server is in %r" % (f["cgroup"], srv_cg))
    elif not f["processes"]:
        want(f["cgroup"] is None, "cgroup of an unowned finding %r" % f)
    else:
        want(isinstance(f["cgroup"], str) and f["cgroup"], "cgroup %r" % f)
F = lambda k: [f for f in d["findings"] if f["kind"] == k]
got = sorted((f["kind"], f["proto"], f["local"], f["remote"]) for f in d["findings"])
def has(kind, local=None, remote=None, proto=None):
    return [f for f in F(kind) if (local is None or f["local"] == local)
            and (remote is None or (f["remote"] or "").startswith(remote))
            and (proto is None or f["proto"] == proto)]
ul = has("unexpected-listener", "0.0.0.0:9000", proto="tcp")
want(len(ul) == 1, "unexpected tcp 9000")
if ul:
    want(any(p["pid"] == srv and p["comm"] == "python3" for p in ul[0]["processes"]),
         "9000 attributed to the server %r" % ul[0]["processes"])
    want(ul[0]["uid"] == 0 and ul[0]["rule"] is None and ul[0]["remote"] is None, "9000 fields")
want(len(has("unexpected-listener", "0.0.0.0:5353", proto="udp")) == 1, "unexpected udp 5353")
want(len(F("unexpected-listener")) == 2, "exactly two unexpected listeners")
m = F("missing-listener")
m2 = [f for f in m if f["port"] == 2222]
want(len(m2) == 1 and m2[0]["proto"] == "tcp" and "2222" in m2[0]["detail"]
     and m2[0]["local"] == "*:2222" and m2[0]["processes"] == []
     and m2[0]["cgroup"] is None, "missing 2222 %r" % m)
# an IPv6-only entry is not met by the IPv4 socket on 0.0.0.0:9000
m9 = [f for f in m if f["port"] == 9000]
want(len(m9) == 1 and m9[0]["local"] == "[::]:9000" and "ipv6" in m9[0]["detail"],
     "missing ipv6 9000 %r" % m)
want(len(m) == 2, "two missing listeners %r" % m)
lo = F("local-only-listener")
want(len(lo) == 1 and lo[0]["local"] == "127.0.0.1:6379" and lo[0]["port"] == 6379
     and lo[0]["proto"] == "tcp" and lo[0]["remote"] is None
     and any(p["pid"] == srv for p in lo[0]["processes"])
     and "only on loopback" in lo[0]["detail"], "local-only 6379 %r" % lo)
fl = F("filtered-listener")
want(len(fl) == 1 and fl[0]["local"] == "[::]:8443", "filtered 8443 (v6only, web is IPv4) %r" % fl)
dc = F("disallowed-connection")
want(len(has("disallowed-connection", "10.9.0.1:22", "10.9.0.2:")) == 1, "denied ssh source")
want(not has("disallowed-connection", "10.9.0.1:22", "10.9.0.3:"), "allowed ssh source flagged")
want(len(has("disallowed-connection", "[fd00:9::1]:8080", "[fd00:9::2]:")) == 1, "v6 web flagged")
want(not has("disallowed-connection", "[::ffff:10.9.0.1]:8080"), "v4 web over dual-stack flagged")
out = has("disallowed-connection", remote="10.9.0.2:7000")
want(len(out) == 1 and out[0]["uid"] == 1235, "uid 1235 to 7000 only %r" % out)
if out:
    want(out[0]["rule"] is None and out[0]["processes"] and
         out[0]["processes"][0]["comm"] == "python3", "outbound finding fields %r" % out[0])
want(not has("disallowed-connection", remote="10.9.0.2:53"), "dns flagged")
want(len(dc) == 3, "three disallowed connections, got %d" % len(dc))
want(not F("ruleset-drift"), "drift right after loading the ruleset")
if errs:
    print("; ".join(errs)); print(json.dumps(d, indent=1)); sys.exit(1)
EOF
srv_cg=$(sed -n 's|^0::/||p' "/proc/$srv_pid/cgroup")
srv_cg=${srv_cg:-/}	# the root cgroup is "/", any other has no leading /
out=$(python3 "$tmp/check.py" "$tmp/a.json" "$srv_pid" "$srv_cg" 2>&1)
check_eq "json findings and shape" "" "$out"

# ---- text ----------------------------------------------------------------
"$PORTWARDEN" audit "$tmp/policy.yaml" > "$tmp/a.txt" 2>&1
check "text: loopback listener is local" \
	grep -Eq '^tcp +127\.0\.0\.1:6379 +local ' "$tmp/a.txt"
check "text: dual-stack listener open by rule web" \
	grep -Eq '^tcp +\[::\]:8080 \(dual-stack\) +open +python3\([0-9]+\) +web$' "$tmp/a.txt"
check "text: v6only listener filtered" \
	grep -Eq '^tcp +\[::\]:8443 +filtered ' "$tmp/a.txt"
check "text: udp v6 listener open by rule ntp" \
	grep -Eq '^udp +\[fd00:9::1\]:123 +open .* ntp$' "$tmp/a.txt"
check "text: no colour when not a terminal" bash -c "! grep -q $'\e' '$tmp/a.txt'"
check "text: local-only-listener names the entry and the socket" \
	grep -Eq '^  local-only-listener +.*policy\.yaml:[0-9]+:[0-9]+: listeners entry tcp port 6379 is live only on loopback \(127\.0\.0\.1:6379\)' "$tmp/a.txt"

# ---- without privileges: still audits, says what it cannot see -----------
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups \
	"$PORTWARDEN" audit "$tmp/policy.yaml" --format json 2>"$tmp/u.err" |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print([(f["processes"], f["detail"].endswith("(unattributed: no permission)")) for f in d["findings"] if f["local"] == "0.0.0.0:9000"])')
check_eq "unprivileged: root's sockets are unattributed, saying why" "[([], True)]" "$out"
check "unprivileged: warns that drift was not checked" grep -q 'ruleset drift not checked' "$tmp/u.err"

# ---- junit ---------------------------------------------------------------
"$PORTWARDEN" audit "$tmp/policy.yaml" --format junit > "$tmp/a.xml" 2>/dev/null
out=$(python3 - "$tmp/a.xml" "$tmp/a.json" <<'EOF' 2>&1
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
d = json.load(open(sys.argv[2]))
cases = root.findall(".//testcase")
fails = root.findall(".//testcase/failure")
errs = []
if root.tag != "testsuites": errs.append("root " + root.tag)
if int(root.get("failures")) != len(fails): errs.append("failures attr")
if int(root.get("tests")) != len(cases): errs.append("tests attr")
if len(fails) != len(d["findings"]): errs.append("%d failures, %d findings" % (len(fails), len(d["findings"])))
kinds = sorted(f.get("type") for f in fails)
if kinds != sorted(f["kind"] for f in d["findings"]): errs.append("kinds %s" % kinds)
names = [c.get("name") for c in cases]
if not any(n.startswith("tcp 127.0.0.1:6379") for n in names): errs.append("no loopback listener case")
if sum(1 for c in cases if c.get("classname").endswith("connection")) != 7: errs.append("connection cases")
print("; ".join(errs))
EOF
)
check_eq "junit parses, one failure per finding" "" "$out"

# ---- prometheus ----------------------------------------------------------
"$PORTWARDEN" audit "$tmp/policy.yaml" --format prometheus > "$tmp/a.prom" 2>/dev/null
check "prometheus: findings by kind" grep -qx 'portwarden_findings{kind="disallowed-connection"} 3' "$tmp/a.prom"
check "prometheus: local-only listeners" grep -qx 'portwarden_findings{kind="local-only-listener"} 1' "$tmp/a.prom"
check "prometheus: listeners by state" grep -qx 'portwarden_listeners{state="local"} 1' "$tmp/a.prom"
check "prometheus: compliance gauge" grep -qx 'portwarden_compliant 0' "$tmp/a.prom"
check "prometheus: socket count" grep -Eqx 'portwarden_sockets [0-9]+' "$tmp/a.prom"

# ---- record and replay -----------------------------------------------------
"$PORTWARDEN" audit "$tmp/policy.yaml" --record "$tmp/dump.nl" --format json > "$tmp/r1.json" 2>/dev/null
"$PORTWARDEN" audit "$tmp/policy.yaml" --replay "$tmp/dump.nl" --format json > "$tmp/r2.json" 2>"$tmp/r2.err"
check_eq "replay exits 1 (findings)" 1 $?
out=$(python3 - "$tmp/r1.json" "$tmp/r2.json" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
k = lambda d: sorted((f["kind"], f["local"], f["remote"]) for f in d["findings"])
print("same" if a["sockets"] == b["sockets"] and k(a) == k(b) else "differ %s %s" % (k(a), k(b)))
EOF
)
check_eq "replay finds what the live run found" same "$out"
check "replay says drift is not checked" grep -q 'drift not checked' "$tmp/r2.err"

# ---- drift from the ruleset generation (SPEC §11) -------------------------
# The audits above read the table (nft -f left no record) and recorded that
# it is the policy's model at this generation: the next one reads nothing.
"$PORTWARDEN" audit -v "$tmp/policy.yaml" > "$tmp/g.txt" 2> "$tmp/g.err"
check "unchanged generation: drift known without reading the table" \
	grep -q "table inet $TABLE: ruleset generation unchanged since portwarden last read or wrote it; not read again" "$tmp/g.err"
check "unchanged generation: no drift" bash -c "! grep -q 'ruleset-drift\|drift not checked' '$tmp/g.txt'"
# the record vouches for this policy only: another one is compared in full
sed 's/- {name: dns, port: 53}/- {name: dns, port: 54}/' "$tmp/policy.yaml" > "$tmp/other.yaml"
chmod 0644 "$tmp/other.yaml"
"$PORTWARDEN" audit -v "$tmp/other.yaml" > "$tmp/g.txt" 2> "$tmp/g.err"
check "unchanged generation, other policy: the table is read" bash -c "! grep -q 'not read again' '$tmp/g.err'"
check "unchanged generation, other policy: drift" grep -q "ruleset-drift .*differs from what the policy compiles to" "$tmp/g.txt"
# any transaction, even on another table, moves the generation
nft add table inet pwaudit_bystander
"$PORTWARDEN" audit -v "$tmp/policy.yaml" > "$tmp/g.txt" 2> "$tmp/g.err"
check "moved generation: the table is read again" bash -c "! grep -q 'not read again' '$tmp/g.err'"
check "moved generation: still no drift" bash -c "! grep -q 'ruleset-drift\|drift not checked' '$tmp/g.txt'"
"$PORTWARDEN" audit -v "$tmp/policy.yaml" > "$tmp/g.txt" 2> "$tmp/g.err"
check "read at the new generation: the next audit reads nothing" grep -q 'not read again' "$tmp/g.err"
nft delete table inet pwaudit_bystander

# ---- drift ---------------------------------------------------------------
nft add rule inet "$TABLE" input tcp dport 9000 accept
"$PORTWARDEN" audit "$tmp/policy.yaml" --format json > "$tmp/d.json" 2>/dev/null
check_eq "hand-edited table exits 1" 1 $?
out=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(",".join(f["detail"] for f in d["findings"] if f["kind"]=="ruleset-drift"))' "$tmp/d.json")
check_eq "drift after a hand-added rule" "the live table inet $TABLE differs from what the policy compiles to" "$out"
nft delete table inet "$TABLE"
out=$("$PORTWARDEN" audit "$tmp/policy.yaml" --format json 2>/dev/null |
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(f["detail"] for f in d["findings"] if f["kind"]=="ruleset-drift"))')
check_eq "drift when the table is missing" "the live table inet $TABLE is missing" "$out"

# ---- other namespaces ------------------------------------------------------
cat > "$tmp/peer.yaml" <<EOF
portwarden: 1
table: $TABLE
defaults: {inbound: drop, outbound: drop}
inbound:
  - {name: svc, proto: tcp, port: 7000, from: 10.9.0.1}
outbound:
  - {name: to-host, proto: tcp, to: 10.9.0.1, port: [22, 8080]}
  - {name: to-host6, proto: tcp, to: "fd00:9::1", port: 8080}
listeners:
  - {proto: tcp, port: 7000, process: python3}
EOF
chmod 0644 "$tmp/peer.yaml"
"$PORTWARDEN" compile "$tmp/peer.yaml" > "$tmp/peer.nft" &&
	ip netns exec "$PEER" nft -f "$tmp/peer.nft" || not_ok "load the peer ruleset"
"$PORTWARDEN" audit "$tmp/peer.yaml" --netns "$PEER" > "$tmp/n.txt" 2>&1
rc=$?
check_eq "--netns: the peer is compliant" 0 "$rc"
[ "$rc" -eq 0 ] || cat "$tmp/n.txt"
check "--netns: text names the peer's listener" grep -Eq "^$PEER +tcp +10\.9\.0\.2:7000 +open " "$tmp/n.txt"

"$PORTWARDEN" audit "$tmp/peer.yaml" --all-netns --format json > "$tmp/all.json" 2>"$tmp/all.err"
out=$(python3 - "$tmp/all.json" "$PEER" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
peer = "/run/netns/" + sys.argv[2]
errs = []
if any("netns" not in f for f in d["findings"]): errs.append("finding without netns")
mine = [f for f in d["findings"] if f.get("netns") == peer]
if mine: errs.append("peer has findings %r" % mine)
other = [f for f in d["findings"] if f["local"] == "0.0.0.0:9000"]
if len(other) != 1 or other[0]["netns"] == peer: errs.append("host listener 9000 %r" % other)
print("; ".join(errs))
EOF
)
check_eq "--all-netns labels findings by namespace" "" "$out"

# ---- usage and runtime errors ---------------------------------------------
printf 'portwarden: 2\nbogus: 1\n' > "$tmp/bad.yaml"
chmod 0644 "$tmp/bad.yaml"
check_rc "invalid policy exits 2" 2 "$PORTWARDEN" audit "$tmp/bad.yaml" --replay "$tmp/dump.nl"
check_rc "bad recording exits 3" 3 "$PORTWARDEN" audit "$tmp/policy.yaml" --replay "$tmp/policy.yaml"
check_rc "unknown namespace exits 3" 3 "$PORTWARDEN" audit "$tmp/policy.yaml" --netns no-such-ns

exit 0
