#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`portwarden compare` against `explain --policy-only` (SPEC §10).

  compare_diff.py PORTWARDEN WORKDIR [PAIRS [PACKETS [SEED]]]

1. Hand-made pairs with known answers: equal (reordered without overlap,
   renamed, split in two, same thing written otherwise) and not equal
   (each with the summary lines compare must print).
2. PAIRS random policies, each with a random mutation of it (port changed,
   CIDR widened, rules reordered, renamed, split, verdict flipped, rule
   added or removed, default changed, established/loopback/icmp toggled,
   interface or user changed). For every pair:
   (a) every reported region's example packet gets different verdicts from
       explain on the two policies, the verdicts compare names;
   (b) PACKETS random packets (uniform and near the policies' boundaries):
       a packet inside a reported region gets different verdicts from
       explain on the two, a packet outside every region the same verdict.
Skipped and counted: ICMP type 0 is never sent (explain reads
"icmp ADDR:0" as a packet without a type), nor ICMPv6 type 8 (explain
takes it for an echo request, which is type 128 in ICMPv6), and a packet or example that
explain calls undetermined is not compared (a folded rule's
`ip saddr . meta l4proto . th dport` lookup on a protocol without ports:
explain cannot read the port bytes; the kernel's lookup fails on the
protocol). LO_EXACT=0 in the environment skips traffic
on lo when a policy has `loopback: false` (for bisecting).
Run it in a network namespace of its own with only lo (tests/run.sh does):
explain's answer depends on the host's addresses.
Prints "ok - ..." / "not ok - ..." lines; exit 1 on a failure.
"""
import ipaddress
import json
import os
import random
import subprocess
import sys

PW = sys.argv[1]
WORK = sys.argv[2]
PAIRS = int(sys.argv[3]) if len(sys.argv) > 3 else 30
PACKETS = int(sys.argv[4]) if len(sys.argv) > 4 else 30
SEED = int(sys.argv[5]) if len(sys.argv) > 5 else 1
# random packets per hand-made pair (fewer under valgrind)
HAND = int(os.environ.get("COMPARE_HAND_PACKETS", "20"))

ADDRS = {4: ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3",
             "192.0.2.0/24", "192.0.2.128/25", "198.51.100.7", "127.0.0.1"],
         6: ["2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5", "fd00::/8",
             "::1"]}
PORTS = [22, 53, 80, 443, 8080, "1000-2000", "1500-1600", "60000-65535"]
IFACES = ["eth0", "eth1"]
USERS = [0, 1000]
fails = 0
n_ok = 0


def say(ok, name, why=""):
    global fails, n_ok
    if ok:
        n_ok += 1
        print("ok - " + name)
    else:
        fails += 1
        print("not ok - %s %s" % (name, why))
    sys.stdout.flush()


def ylist(v):
    return "[" + ", ".join('"%s"' % x for x in v) + "]"


def render(p):
    """A policy (dict) as YAML text."""
    out = ["portwarden: 1", "defaults:",
           "  inbound: %s" % p["def"][0], "  outbound: %s" % p["def"][1],
           "established: %s" % ("true" if p["est"] else "false"),
           "loopback: %s" % ("true" if p["lo"] else "false"),
           "icmp: %s" % p["icmp"]]
    if p.get("sets"):
        out.append("sets:")
        for k, v in p["sets"].items():
            out.append("  %s: %s" % (k, ylist(v)))
    for d in ("inbound", "outbound"):
        rules = [r for r in p["rules"] if r["dir"] == d]
        if not rules:
            continue
        out.append("%s:" % d)
        for r in rules:
            out.append("  - name: %s" % r["name"])
            for k in ("proto", "port", "sport", "from", "to", "not_from",
                      "not_to", "interface", "user", "action"):
                if k in r:
                    v = r[k]
                    if isinstance(v, list):
                        v = ylist(v)
                    elif isinstance(v, str) and k != "action" and \
                            not v.startswith("$"):
                        v = '"%s"' % v
                    out.append("    %s: %s" % (k, v))
    return "\n".join(out) + "\n"


class Gen:
    def __init__(self, r):
        self.r = r
        self.n = 0

    def rule(self):
        r = self.r
        self.n += 1
        d = r.choice(["inbound", "outbound"])
        rule = {"dir": d, "name": "r%d" % self.n}
        proto = r.choice(["tcp", "udp", "tcp", ["tcp", "udp"], "icmp",
                          "any", None])
        if proto == "icmp":
            rule["proto"] = "icmp"
        elif proto == "any":
            rule["proto"] = "any"
        elif proto:
            rule["proto"] = proto
            if r.random() < 0.8:
                rule["port"] = [r.choice(PORTS)] if r.random() < 0.7 else \
                    r.sample(PORTS[:5], 2)
            if r.random() < 0.1:
                rule["sport"] = r.choice(["1024-65535", "53", "40000-50000"])
        remote = "from" if d == "inbound" else "to"
        if r.random() < 0.6:
            fam = 4 if proto == "icmp" else r.choice([4, 4, 6])
            rule[remote] = r.sample(ADDRS[fam], r.choice([1, 1, 2]))
            if r.random() < 0.2 and fam == 4:
                rule[remote] = "$peers"
            if r.random() < 0.15 and rule[remote] != "$peers":
                rule["not_" + remote] = [r.choice(["10.1.2.0/24", "10.1.2.3",
                                                   "192.0.2.128/25"])]
                rule[remote] = ["10.0.0.0/8", "192.0.2.0/24"]
        if r.random() < 0.15:
            rule["interface"] = r.choice(IFACES)
        if d == "outbound" and r.random() < 0.15:
            rule["user"] = r.choice(USERS)
        rule["action"] = r.choice(["accept", "accept", "drop", "reject"])
        return rule

    def policy(self):
        r = self.r
        return {"def": [r.choice(["accept", "drop", "reject"]) for _ in (0, 1)],
                "est": r.random() < 0.8, "lo": r.random() < 0.8,
                "icmp": r.choice(["essential", "all", "none"]),
                "sets": {"peers": ["10.1.0.0/16", "192.0.2.7"]},
                "rules": [self.rule() for _ in range(r.randint(1, 8))] +
                (self.simple_run() if r.random() < 0.3 else [])}

    def simple_run(self):
        """Five adjacent simple rules of one verdict: compile folds them
        into one set lookup (a concatenation)."""
        r = self.r
        d = r.choice(["inbound", "outbound"])
        act = r.choice(["accept", "drop"])
        out = []
        for _ in range(5):
            self.n += 1
            x = {"dir": d, "name": "f%d" % self.n, "action": act,
                 "proto": r.choice(["tcp", "udp", ["tcp", "udp"]])}
            if r.random() < 0.8:
                x["port"] = [r.choice(PORTS)]
            if r.random() < 0.7:
                fam = r.choice([4, 4, 6])
                x["from" if d == "inbound" else "to"] = [r.choice(ADDRS[fam])]
            out.append(x)
        return out

    def mutate(self, p):
        """A copy of @p with one random change, and the change's name."""
        r = self.r
        q = json.loads(json.dumps(p))
        rules = q["rules"]
        kind = r.choice(["port", "widen", "reorder", "rename", "split", "flip",
                         "add", "remove", "default", "toggle", "iface", "user",
                         "set"])
        i = r.randrange(len(rules))
        x = rules[i]
        if kind == "port" and "port" in x:
            x["port"] = [r.choice(PORTS)]
        elif kind == "widen":
            for k in ("from", "to"):
                if isinstance(x.get(k), list):
                    a = ipaddress.ip_network(x[k][0], strict=False)
                    x[k][0] = str(a.supernet(min(a.prefixlen, 8)))
        elif kind == "reorder" and len(rules) > 1:
            j = r.randrange(len(rules))
            rules[i], rules[j] = rules[j], rules[i]
        elif kind == "rename":
            x["name"] = x["name"] + "-renamed"
        elif kind == "split" and isinstance(x.get("port"), list) and \
                len(x["port"]) > 1:
            y = dict(x, name=x["name"] + "-b", port=x["port"][1:])
            x["port"] = x["port"][:1]
            rules.insert(i + 1, y)
        elif kind == "flip":
            x["action"] = r.choice(["accept", "drop", "reject"])
        elif kind == "add":
            rules.insert(r.randrange(len(rules) + 1), self.rule())
        elif kind == "remove" and len(rules) > 1:
            del rules[i]
        elif kind == "default":
            q["def"][r.randrange(2)] = r.choice(["accept", "drop", "reject"])
        elif kind == "toggle":
            k = r.choice(["est", "lo", "icmp"])
            if k == "icmp":
                q["icmp"] = r.choice(["essential", "all", "none"])
            else:
                q[k] = not q[k]
        elif kind == "iface":
            x["interface"] = r.choice(IFACES)
        elif kind == "user" and x["dir"] == "outbound":
            x["user"] = r.choice(USERS + [1001])
        elif kind == "set":
            q["sets"]["peers"] = ["10.1.0.0/17", "192.0.2.7", "198.51.100.7"]
        return q, kind


def run(args):
    p = subprocess.run([PW] + args, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def explain(path, pkt):
    rc, out, err = run(["explain", path] + pkt.split() +
                       ["--policy-only", "--format", "json"])
    if rc > 1:
        raise RuntimeError("explain %s %s: %s" % (path, pkt, err.strip()))
    return json.loads(out)["verdict"]


def compare(a, b):
    rc, out, err = run(["compare", a, b, "--format", "json", "-q"])
    if rc > 1:
        raise RuntimeError("compare: rc %d %s" % (rc, err.strip()))
    j = json.loads(out)
    if (rc == 0) != j["equal"]:
        raise RuntimeError("compare: exit %d but equal=%s" % (rc, j["equal"]))
    return j


# ---- region membership (the JSON's dimensions) ----

PROTO_NUM = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def in_ranges(v, lst):
    if lst is None:
        return True
    for s in lst:
        if "-" in s:
            lo, hi = s.split("-")
            if int(lo) <= v <= int(hi):
                return True
        elif str(PROTO_NUM.get(s, s)) == str(v):
            return True
    return False


def in_cidrs(a, lst):
    if lst is None:
        return True
    return any(ipaddress.ip_address(a) in ipaddress.ip_network(c) for c in lst)


def atom_of(name, atoms):
    """The interface atom compare uses for a name: itself, else the
    longest pattern p* it falls under, else "(other)"."""
    return name if name in atoms else "(other)"


def inside(g, k, iface_atoms):
    if g["dir"] != "any" and g["dir"] != k["dir"]:
        return False
    if g["family"] is not None and ("ipv%d" % k["fam"]) not in g["family"]:
        return False
    if not in_ranges(k["proto"], g["protos"]):
        return False
    if g["dports"] is not None and not in_ranges(k["dport"], g["dports"]):
        return False
    if g["sports"] is not None and not in_ranges(k["sport"], g["sports"]):
        return False
    if not in_cidrs(k["remote"], g["remote"]) or \
            not in_cidrs(k["local"], g["local"]):
        return False
    if g["interface"] is not None and \
            atom_of(k["iface"], iface_atoms) not in g["interface"]:
        return False
    if g["not_lo"] and k["iface"] == "lo":
        return False
    if not in_ranges(k["uid"], g["user"]) or not in_ranges(k["gid"], g["group"]):
        return False
    # a random packet's address was learned for no name: "(other)"
    if g.get("names") is not None and "(other)" not in g["names"]:
        return False
    return True


def rand_addr(r, fam):
    if r.random() < 0.08:
        return "127.0.0.1" if fam == 4 else "::1"
    n = ipaddress.ip_network(r.choice(ADDRS[fam]), strict=False)
    base = int(n.network_address)
    pick = r.choice([0, 1, n.num_addresses - 1, n.num_addresses,
                     -1, r.randrange(n.num_addresses)])
    top = 2 ** (32 if fam == 4 else 128) - 1
    return str(ipaddress.ip_address(max(1, min(top, base + pick)) if fam == 4
               else ipaddress.IPv6Address(max(1, min(top, base + pick)))))


def rand_port(r):
    if r.random() < 0.3:
        return r.randrange(65536)
    p = r.choice(PORTS)
    if isinstance(p, str):
        lo, hi = map(int, p.split("-"))
        p = r.choice([lo, hi])
    return max(0, min(65535, p + r.choice([-1, 0, 0, 1])))


def rand_packet(r):
    fam = r.choice([4, 4, 6])
    proto = r.choice(["tcp", "tcp", "udp", "icmp", 47])
    if proto == "icmp" and fam == 6:
        proto = "icmpv6"
    d = r.choice(["in", "out"])
    k = {"dir": d, "fam": fam, "proto": PROTO_NUM.get(proto, proto),
         "remote": rand_addr(r, fam), "local": rand_addr(r, fam),
         "iface": r.choice(IFACES + ["wlan0", "lo"]),
         "uid": r.choice([0, 1000, 1001]), "gid": r.choice([0, 1000, 100])}
    rl = ipaddress.ip_address(k["remote"]).is_loopback
    ll = ipaddress.ip_address(k["local"]).is_loopback
    if d == "out" and ll and not rl:
        # an outbound packet from a loopback address to another host: the
        # kernel does not route it; compare puts it on lo, explain on the
        # interface given (see the man page)
        k["local"] = "192.0.2.5" if fam == 4 else "2001:db8::5"
        ll = False
    if rl or ll:
        k["iface"] = "lo"

    def ep(a, port):
        if port is None:
            return a
        return "[%s]:%d" % (a, port) if fam == 6 else "%s:%d" % (a, port)
    if proto in ("tcp", "udp"):
        k["dport"], k["sport"] = rand_port(r), rand_port(r)
        dst, src = (k["local"], k["remote"]) if d == "in" else \
            (k["remote"], k["local"])
        k["args"] = "%s %s %s --from %s" % (d, proto, ep(dst, k["dport"]),
                                            ep(src, k["sport"]))
    else:
        k["dport"] = r.choice([3, 5, 8, 11, 128, 129, 135, 136, 200]) \
            if proto != 47 else 0
        if proto == "icmp" and k["dport"] >= 128:
            k["dport"] -= 120
        if proto == "icmpv6" and k["dport"] == 8:
            k["dport"] = 9	# explain runs a reply for ICMPv6 type 8 too
        k["sport"] = 0
        dst, src = (k["local"], k["remote"]) if d == "in" else \
            (k["remote"], k["local"])
        k["args"] = "%s %s %s --from %s" % (
            d, proto, ep(dst, k["dport"] if proto != 47 else None), src)
    k["args"] += " --interface %s --user %d --group %d" % (k["iface"], k["uid"],
                                                          k["gid"])
    return k


skipped = 0


def check_pair(name, a, b, r, n_packets, atoms, lo_exact=True):
    """(a) and (b) for one pair of policy files; returns the result."""
    global skipped
    j = compare(a, b)
    bad = []
    for g in j["changes"]:
        if not g["example"] and g.get("names") and "(other)" not in g["names"]:
            # an address learned for a name: explain cannot name one
            skipped += 1
            continue
        if not lo_exact and g["example"] and (
                "--interface lo" in g["example"] or "127." in g["example"]
                or "::1]" in g["example"] or "--interface" not in g["example"]):
            skipped += 1
            continue
        if not g["example"]:
            bad.append("no example for %s" % g["summary"])
            continue
        vo, vn = explain(a, g["example"]), explain(b, g["example"])
        if "undetermined" in (vo, vn):
            # explain cannot read `th dport` of a protocol without ports
            # (a folded rule's set lookup); the kernel's lookup fails
            skipped += 1
            continue
        if vo == vn or vo != g["old"]["verdict"] or vn != g["new"]["verdict"]:
            bad.append("example %s: explain %s/%s, compare %s/%s" % (
                g["example"], vo, vn, g["old"]["verdict"], g["new"]["verdict"]))
    for _ in range(n_packets):
        k = rand_packet(r)
        if not lo_exact and k["iface"] == "lo":
            skipped += 1
            continue
        vo, vn = explain(a, k["args"]), explain(b, k["args"])
        if "undetermined" in (vo, vn):
            skipped += 1
            continue
        ins = [g for g in j["changes"] if inside(g, k, atoms)]
        if len(ins) > 1:
            bad.append("%s in %d regions" % (k["args"], len(ins)))
        if bool(ins) != (vo != vn):
            bad.append("%s: explain %s/%s but %s" % (
                k["args"], vo, vn, "in region " + ins[0]["summary"] if ins
                else "outside every region"))
    say(not bad, name, "; ".join(bad[:4]))
    return j


def hand_made():
    base = """portwarden: 1
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: ssh, proto: tcp, port: 22, from: [10.0.0.0/8] }
  - { name: web, proto: tcp, port: [80, 443] }
  - { name: dns, proto: udp, port: 53 }
"""
    cases = [
        ("renamed", base.replace("name: web", "name: www"), []),
        ("reordered without overlap",
         base.replace("  - { name: ssh, proto: tcp, port: 22, from: [10.0.0.0/8] }\n", "")
         + "  - { name: ssh, proto: tcp, port: 22, from: [10.0.0.0/8] }\n", []),
        ("split in two", base.replace(
            "  - { name: web, proto: tcp, port: [80, 443] }",
            "  - { name: http, proto: tcp, port: 80 }\n"
            "  - { name: https, proto: tcp, port: 443 }"), []),
        ("the same set written otherwise", base.replace(
            "from: [10.0.0.0/8]", "from: [10.0.0.0/9, 10.128.0.0/9]"), []),
        ("ssh opened to the world", base.replace(
            ", from: [10.0.0.0/8]", ""),
         ["opens in tcp/22 from 0.0.0.0/0 except 10.0.0.0/8 not on lo",
          "opens in tcp/22 from ::/0 not on lo"]),
        ("reject instead of drop", base.replace(
            "inbound: drop", "inbound: reject"), None),
        ("port range", base.replace("port: 53", "port: 53-60"),
         ["opens in udp/54-60 from anywhere not on lo"]),
        ("ssh from one more network", base.replace(
            "from: [10.0.0.0/8]", "from: [10.0.0.0/8, 192.168.0.0/16]"),
         ["opens in tcp/22 from 192.168.0.0/16 not on lo"]),
        ("outbound smtp closed", base + "outbound:\n"
         "  - { name: no-smtp, proto: tcp, port: 25, action: reject }\n",
         ["closes out tcp/25 to anywhere not on lo"]),
    ]
    base2 = """portwarden: 1
defaults: { inbound: drop, outbound: accept }
sets:
  peers: [10.0.0.0/8]
inbound:
  - { name: ssh, proto: tcp, port: 22, from: $peers, not_from: [10.66.0.0/16] }
  - { name: web, proto: tcp, port: 443, interface: eth0 }
"""
    cases2 = [
        ("a $set grows", base2.replace("[10.0.0.0/8]",
                                       "[10.0.0.0/8, 192.168.0.0/16]"),
         ["opens in tcp/22 from 192.168.0.0/16 not on lo"]),
        ("not_from removed", base2.replace(", not_from: [10.66.0.0/16]", ""),
         ["opens in tcp/22 from 10.66.0.0/16 not on lo"]),
        ("an interface list grows", base2.replace(
            "interface: eth0", "interface: [eth0, eth1]"),
         ["opens in tcp/443 from anywhere interface eth1"]),
        ("icmp: none", base2 + "icmp: none\n",
         ["closes in icmp type 0,3,8,11-12 from 0.0.0.0/0 not on lo",
          "closes in icmpv6 type 1-4,128-129,133-136 from ::/0 not on lo"]),
        ("the same $set inline", base2.replace("from: $peers",
                                               "from: [10.0.0.0/8]"), []),
    ]
    base3 = """portwarden: 1
defaults: { outbound: drop }
outbound:
  - { name: dns, port: 53 }
"""
    cases3 = [
        ("a rule for one user and cgroup", base3 +
         "  - { name: web, proto: tcp, port: 443, user: 33,"
         " cgroup: system.slice/nginx.service }\n",
         ["opens out tcp/443 to anywhere user 33 cgroup "
          "/system.slice/nginx.service not on lo"]),
    ]
    base4 = """portwarden: 1
defaults: { outbound: drop }
outbound:
  - { name: dns, port: 53 }
  - { name: gh, proto: tcp, port: 443, to: [github.com, "*.example.org", 192.0.2.9] }
  - { name: noads, proto: tcp, port: 80, not_to: [ads.example.org] }
"""
    cases4 = [
        ("hostnames reordered", base4.replace(
            'github.com, "*.example.org"', '"*.example.org", github.com'), []),
        ("a hostname renamed (compared by name)",
         base4.replace("github.com", "gitlab.com"),
         ["closes out tcp/443 to github.com not on lo",
          "closes out tcp/443 to 0.0.0.0/0 except 192.0.2.9 name github.com not on lo",
          "opens out tcp/443 to gitlab.com not on lo",
          "opens out tcp/443 to 0.0.0.0/0 except 192.0.2.9 name gitlab.com not on lo"]),
        ("a not_to hostname added", base4.replace(
            "ads.example.org", "ads.example.org, track.example.org"),
         ["closes out tcp/80 to track.example.org not on lo"]),
        ("a name under a wildcard, rejected before it", base4.replace(
            "  - { name: gh", "  - { name: w0, proto: tcp, port: 443,"
            " to: [www.example.org], action: reject }\n  - { name: gh"),
         ["closes out tcp/443 to www.example.org not on lo"]),
    ]
    r = random.Random(SEED)
    run_cases(base, cases, r)
    run_cases(base2, cases2, r)
    run_cases(base3, cases3, r)
    run_cases(base4, cases4, r)
    # established: false: replies of outbound connections meet the inbound
    # default; everything that changes is an outbound connection closed
    old, new = os.path.join(WORK, "hand-old.yaml"), os.path.join(WORK, "hand-new.yaml")
    with open(old, "w") as f:
        f.write(base2)
    with open(new, "w") as f:
        f.write(base2 + "established: false\n")
    j = check_pair("hand-made: established: false (explain agrees)", old, new,
                   r, 2 * HAND, {"lo", "eth0"})
    say(not j["equal"] and all(g["dir"] == "out" and
                               g["old"]["verdict"] == "accept" and
                               g["new"]["verdict"] == "drop" and
                               g["new"]["label"] == "default"
                               for g in j["changes"]),
        "hand-made: established: false closes outbound connections only",
        str([g["summary"] for g in j["changes"]][:3]))
    # loopback: false with the same defaults: traffic on lo meets them
    with open(new, "w") as f:
        f.write(base2 + "loopback: false\n")
    j = check_pair("hand-made: loopback: false (explain agrees)", old, new,
                   r, 2 * HAND, {"lo", "eth0"})
    say(not j["equal"] and all(g["old"]["label"] == "loopback" or
                               g["old"]["verdict"] == "accept"
                               for g in j["changes"]),
        "hand-made: loopback: false closes traffic on lo",
        str([g["summary"] for g in j["changes"]][:3]))


def run_cases(base, cases, r):
    old = os.path.join(WORK, "hand-old.yaml")
    with open(old, "w") as f:
        f.write(base)
    for name, text, want in cases:
        new = os.path.join(WORK, "hand-new.yaml")
        with open(new, "w") as f:
            f.write(text)
        j = check_pair("hand-made: " + name + " (explain agrees)", old, new,
                       r, HAND, {"lo", "eth0", "eth1"})
        got = [g["summary"] for g in j["changes"]]
        if want == []:
            say(j["equal"], "hand-made: %s is equal" % name, str(got))
        elif want is None:
            say(not j["equal"] and all(
                g["old"]["verdict"] == "drop" and g["new"]["verdict"] == "reject"
                for g in j["changes"]), "hand-made: %s differs, drop -> reject"
                % name, str(got))
        else:
            say(sorted(got) == sorted(want),
                "hand-made: %s" % name, "got %s, want %s" % (got, want))


def main():
    hand_made()
    r = random.Random(SEED)
    g = Gen(r)
    kinds = {}
    regions = packets = 0
    for i in range(PAIRS):
        p = g.policy()
        q, kind = g.mutate(p)
        a = os.path.join(WORK, "old-%d.yaml" % i)
        b = os.path.join(WORK, "new-%d.yaml" % i)
        with open(a, "w") as f:
            f.write(render(p))
        with open(b, "w") as f:
            f.write(render(q))
        atoms = {"lo"} | {x.get("interface") for x in p["rules"] + q["rules"]
                          if x.get("interface")}
        try:
            j = check_pair("random pair %d (%s)" % (i, kind), a, b, r, PACKETS,
                           atoms, (p["lo"] and q["lo"]) or
                           os.environ.get("LO_EXACT", "1") != "0")
        except RuntimeError as e:
            say(False, "random pair %d (%s)" % (i, kind), str(e))
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
        regions += len(j["changes"])
        packets += PACKETS
    print("# %d pairs, %d regions, %d random packets (%d skipped), mutations %s" %
          (PAIRS, regions, packets, skipped, kinds))
    print("# %d ok, %d not ok" % (n_ok, fails))
    sys.exit(1 if fails else 0)


main()
