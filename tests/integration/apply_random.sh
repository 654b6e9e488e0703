#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Random policies (root, inside the private namespaces tests/run.sh made):
# for each, `portwarden apply` must make the same bytecode and listing as
# `nft -f` of `portwarden compile`, and read back as unchanged, also after
# nft's own load (some with runs of rules that fold into one lookup: `diff`
# equal, no drift in `audit`, no unknown rules in `status`). Seeded, so a
# failure can be replayed: SEED=N (APPLY_RANDOM_N policies, default 40).
set -u
. "$(dirname "$0")/../lib.sh"
need_root_netns
W=$(mktemp -d /run/pwrand.XXXXXX)
trap 'rm -rf "$W"' EXIT
pw() { "$PORTWARDEN" "$@"; }
SEED=${SEED:-$RANDOM}
N=${APPLY_RANDOM_N:-40}
mount -t tmpfs pwcgroup /sys/fs/cgroup || { not_ok "environment" "cannot mount /sys/fs/cgroup"; exit 1; }
mkdir -p /sys/fs/cgroup/system.slice/a.service /sys/fs/cgroup/user.slice

python3 - "$W" "$SEED" "$N" <<'EOF'
import random, sys
out, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
def v4():
    p = rnd.choice([8, 12, 16, 20, 24, 27, 32, 32])
    a = [rnd.randint(1, 223), rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(0, 255)]
    bits = (a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]) & ((0xffffffff << (32 - p)) & 0xffffffff)
    return "%d.%d.%d.%d/%d" % (bits >> 24, bits >> 16 & 255, bits >> 8 & 255, bits & 255, p)
def v6():
    p = rnd.choice([32, 48, 64, 127, 128])
    g = [0x2001, 0xdb8] + [rnd.randint(0, 65535) for _ in range(6)]
    val = 0
    for x in g: val = val << 16 | x
    val &= ((1 << 128) - 1) ^ ((1 << (128 - p)) - 1)
    s = ":".join("%x" % (val >> (112 - 16 * i) & 0xffff) for i in range(8))
    return '"%s/%d"' % (s, p)
def addrs(fam=None):
    k = rnd.choice([1, 1, 2, 3])
    pick = {4: [v4], 6: [v6]}.get(fam, [v4, v4, v6])
    return "[" + ", ".join(rnd.choice(pick)() for _ in range(k)) + "]"
def ports():
    c = rnd.choice(["one", "list", "range", "name", "iana"])
    if c == "one": return str(rnd.randint(1, 65535))
    if c == "range":
        a = rnd.randint(1, 65000); return '"%d-%d"' % (a, a + rnd.randint(1, 500))
    if c == "name": return rnd.choice(["ssh", "https", "domain", "ntp", "postgresql"])
    if c == "iana": return rnd.choice(["well-known", "registered", "ephemeral"])
    return "[" + ", ".join(str(rnd.randint(1, 65535)) for _ in range(rnd.randint(2, 4))) + "]"
for i in range(n):
    lines = ["portwarden: 1", "table: pwr%d" % i, "defaults:",
             "  inbound: %s" % rnd.choice(["accept", "drop", "reject"]),
             "  outbound: %s" % rnd.choice(["accept", "drop", "reject"]),
             "  log: %s" % rnd.choice(["true", "false"]),
             "established: %s" % rnd.choice(["true", "false"]),
             "loopback: %s" % rnd.choice(["true", "false"]),
             "icmp: %s" % rnd.choice(["essential", "all", "none"])]
    sets = {}
    if rnd.random() < 0.5:
        sets["nets"] = addrs()
    if rnd.random() < 0.5:
        sets["svc"] = "[" + ", ".join(str(rnd.randint(1, 65535)) for _ in range(rnd.randint(1, 5))) + "]"
    if sets:
        lines.append("sets:")
        for k, v in sets.items():
            lines.append("  %s: %s" % (k, v))
    for d in ("inbound", "outbound"):
        lines.append("%s:" % d)
        if rnd.random() < 0.4:
            # a run of simple rules that compile folds into one
            # concatenation lookup: single hosts and ports make a hash
            # set, a prefix or a range an interval set
            act = rnd.choice(["accept", "accept", "drop"])
            interval = rnd.random() < 0.5
            peer = "from" if d == "inbound" else "to"
            for j in range(rnd.randint(4, 7)):
                fam = rnd.choice([4, 4, 6])
                host = v4().split("/")[0] if fam == 4 else v6().split("/")[0] + '"'
                if interval and rnd.random() < 0.3:
                    host = v4() if fam == 4 else v6()
                port = rnd.randint(1, 65000)
                pspec = '"%d-%d"' % (port, port + rnd.randint(1, 50)) if interval and rnd.random() < 0.3 else str(port)
                r = ["name: fo%s%d" % (d[:2], j),
                     "proto: %s" % rnd.choice(["tcp", "udp", "[tcp, udp]"]),
                     "port: %s" % pspec, "%s: %s" % (peer, host)]
                if act != "accept": r.append("action: %s" % act)
                lines.append("  - { " + ", ".join(r) + " }")
        for j in range(rnd.randint(1, 6)):
            r = ["name: %s%d" % (d[:2], j)]
            proto = rnd.choice([None, "tcp", "udp", "[tcp, udp]", "icmp", "icmpv6", "any"])
            fam = {"icmp": 4, "icmpv6": 6}.get(proto, rnd.choice([None, None, 4, 6]))
            if proto: r.append("proto: %s" % proto)
            if proto not in ("icmp", "icmpv6", "any") and rnd.random() < 0.7:
                r.append("port: %s" % ("$svc" if "svc" in sets and rnd.random() < 0.3 else ports()))
                if rnd.random() < 0.2: r.append("sport: %s" % ports())
            peer = "from" if d == "inbound" else "to"
            if rnd.random() < 0.5:
                use_set = "nets" in sets and fam is None and rnd.random() < 0.4
                r.append("%s: %s" % (peer, "$nets" if use_set else addrs(fam)))
            if rnd.random() < 0.2:
                r.append("not_%s: %s" % (peer, addrs(fam)))
            if d == "outbound" and rnd.random() < 0.15: r.append("user: %d" % rnd.choice([0, 1000]))
            if d == "outbound" and rnd.random() < 0.1: r.append("group: [0, 100]")
            if d == "outbound" and rnd.random() < 0.1: r.append("cgroup: system.slice/a.service")
            if rnd.random() < 0.2: r.append("interface: %s" % rnd.choice(["eth0", "veth*", "wg0", "[eth0, wg0]", "[veth1, eth0, lo]"]))
            if rnd.random() < 0.2: r.append("action: %s" % rnd.choice(["drop", "reject"]))
            if rnd.random() < 0.15: r.append("log: true")
            if fam and rnd.random() < 0.3: r.append("family: ipv%d" % fam)
            lines.append("  - { " + ", ".join(r) + " }")
    open("%s/r%d.yaml" % (out, i), "w").write("\n".join(lines) + "\n")
EOF

valid=0 folded=0
for i in $(seq 0 $((N - 1))); do
	y="$W/r$i.yaml" t=pwr$i name="random policy $i (SEED=$SEED)"
	pw compile "$y" > "$W/c.nft" 2> "$W/err" || continue	# invalid: checker's business
	valid=$((valid + 1))
	if ! nft -f "$W/c.nft" 2> "$W/err"; then
		not_ok "$name" "nft -f: $(head -2 "$W/err" | tr '\n' ' ')"; continue
	fi
	nft -s list table inet $t > "$W/nft.list"
	nft --debug=netlink list table inet $t | sort > "$W/nft.bc"
	if grep -q '_fold[0-9]*_v[46] {$' "$W/c.nft"; then
		# SPEC §2: portwarden reads nft's load of its text as its own
		folded=$((folded + 1))
		why=""
		pw diff "$y" > "$W/o" 2>&1 || why="diff: $(grep '^[-+]' "$W/o" | head -3 | tr '\n' '|')"
		pw audit "$y" > "$W/o" 2>&1
		grep -q 'ruleset-drift\|drift not checked' "$W/o" && why="$why audit: $(grep drift "$W/o" | head -1)"
		pw status --table $t > "$W/o" 2>&1 || why="$why status failed"
		grep -q unknown "$W/o" && why="$why status: $(grep unknown "$W/o" | head -2 | tr '\n' '|')"
		if [ -z "$why" ]; then ok "$name: nft -f of folded compile reads back equal"
		else not_ok "$name: nft -f of folded compile reads back equal" "$why"; cp "$y" "/tmp/pw-random-fail-$SEED-$i.yaml" 2>/dev/null; fi
	fi
	check_eq "$name: apply over nft -f unchanged" "table inet $t: unchanged" "$(pw apply "$y" 2>/dev/null)"
	nft delete table inet $t
	if ! pw apply -q "$y" 2> "$W/err"; then
		not_ok "$name" "apply: $(head -2 "$W/err" | tr '\n' ' ')"; continue
	fi
	nft -s list table inet $t > "$W/pw.list"
	nft --debug=netlink list table inet $t | sort > "$W/pw.bc"
	if ! diff -u "$W/nft.list" "$W/pw.list" > "$W/d"; then
		not_ok "$name" "listing: $(grep '^[-+]' "$W/d" | head -4 | tr '\n' '|')"; cp "$y" "/tmp/pw-random-fail-$SEED-$i.yaml" 2>/dev/null
	elif ! diff -u "$W/nft.bc" "$W/pw.bc" > "$W/d"; then
		not_ok "$name" "bytecode: $(grep '^[-+] ' "$W/d" | head -4 | tr '\n' '|')"; cp "$y" "/tmp/pw-random-fail-$SEED-$i.yaml" 2>/dev/null
	else
		ok "$name"
	fi
	rm -f /run/portwarden/gen-*	# make the next check read the table back
	check_eq "$name: second apply unchanged" "table inet $t: unchanged" "$(pw apply "$y" 2>/dev/null)"
	nft delete table inet $t
done
[ "$folded" -ge $((N / 10)) ] && ok "random: $folded policies with folded runs" ||
	not_ok "random folded policies" "only $folded of $valid (SEED=$SEED)"
[ "$valid" -ge $((N / 2)) ] && ok "random: $valid of $N policies valid" || not_ok "random policies" "only $valid of $N valid (SEED=$SEED)"
exit 0
