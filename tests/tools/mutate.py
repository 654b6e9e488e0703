#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sequences of random policy mutations for tests/integration/apply_incremental.sh.

  mutate.py DIR SEED KIND STEPS [SIZE]

writes DIR/step000.yaml (the start) .. DIR/stepNNN.yaml, each one random
mutation of the one before: add, remove or move a rule; add or remove an
element of a set or of a rule's address list; change a port, a verdict or
a default. KIND is the start:
  small   a random policy of a few rules, sets of addresses and ports
  cidrs   SIZE IPv4 + SIZE/10 IPv6 CIDRs in one blocklist set (bench/'s)
  folded  SIZE outbound UDP rules of distinct (address, port): they fold
          into one concatenated set lookup
The same SEED gives the same sequence.
"""
import ipaddress
import os
import sys

import random


def v4(r):
    # the ends of the address space: an interval set's leading end marker
    # (none when the first interval starts at 0) and its open last interval
    if r.random() < 0.08:
        return r.choice(["0.0.0.0/8", "0.0.0.0", "240.0.0.0/4", "255.255.255.255"])
    p = r.choice([16, 24, 28, 32, 32])
    a = r.getrandbits(32) & ~((1 << (32 - p)) - 1) & 0xffffffff
    a = (a & 0x00ffffff) | (r.randint(11, 99) << 24)
    return "%s/%d" % (ipaddress.IPv4Address(a), p) if p < 32 else str(ipaddress.IPv4Address(a))


def v6(r):
    p = r.choice([48, 64, 128])
    a = (0x20010db8 << 96) | (r.getrandbits(96) & ~((1 << (128 - p)) - 1))
    s = str(ipaddress.IPv6Address(a))
    return '"%s/%d"' % (s, p) if p < 128 else '"%s"' % s


def port(r):
    k = r.random()
    if k < 0.6:
        return str(r.randint(1, 65535))
    if k < 0.75:
        return "[%d, %d]" % (r.randint(1, 30000), r.randint(30001, 65535))
    # ranges: interval sets of ports, up to the top (an open interval)
    a = r.randint(1, 60000)
    return r.choice(['"%d-%d"' % (a, a + r.randint(1, 5000)), "ephemeral",
                     '[1, "%d-%d", 65535]' % (a, a + 100), "well-known"])


class Policy:
    def __init__(self, r):
        self.r = r
        self.defaults = {"inbound": "accept", "outbound": "accept"}
        self.sets = {}          # name -> list of strings
        self.rules = {"inbound": [], "outbound": []}   # list of dicts
        self.n = 0
        self.extra = []

    def name(self):
        self.n += 1
        return "m%d" % self.n

    def rule(self, d):
        r = self.r
        peer = "from" if d == "inbound" else "to"
        x = {"name": self.name()}
        proto = r.choice(["tcp", "udp", "[tcp, udp]", None])
        if proto:
            x["proto"] = proto
            x["port"] = port(r)
        if r.random() < 0.6:
            if self.sets and r.random() < 0.3:
                x[peer] = "$" + r.choice(sorted(self.sets))
            else:
                x[peer] = "[" + ", ".join(r.choice([v4, v4, v6])(r)
                                          for _ in range(r.randint(1, 4))) + "]"
        if r.random() < 0.2:
            x["action"] = r.choice(["drop", "reject"])
        return x

    def dump(self, path):
        y = ["portwarden: 1", "table: pwinc",
             "defaults: { inbound: %s, outbound: %s }" %
             (self.defaults["inbound"], self.defaults["outbound"])]
        y += self.extra
        if self.sets:
            y.append("sets:")
            for k in sorted(self.sets):
                y.append("  %s:" % k)
                y += ["    - %s" % e for e in self.sets[k]]
        for d in ("inbound", "outbound"):
            if not self.rules[d]:
                continue
            y.append("%s:" % d)
            for x in self.rules[d]:
                y.append("  - { " + ", ".join("%s: %s" % kv for kv in x.items()) + " }")
        with open(path, "w") as fh:
            fh.write("\n".join(y) + "\n")
        os.chmod(path, 0o644)

    def mutate(self):
        r = self.r
        d = r.choice(["inbound", "outbound"])
        rules = self.rules[d]
        peer = "from" if d == "inbound" else "to"
        kinds = ["add", "remove", "move", "elem+", "elem-", "port", "verdict", "default"]
        while True:
            k = r.choice(kinds)
            if k == "add":
                rules.insert(r.randint(0, len(rules)), self.rule(d))
            elif k == "remove" and rules:
                rules.pop(r.randrange(len(rules)))
            elif k == "move" and len(rules) > 1:
                x = rules.pop(r.randrange(len(rules)))
                rules.insert(r.randint(0, len(rules)), x)
            elif k in ("elem+", "elem-"):
                # an element of a named set, or of a rule's own list
                lists = [("set", s) for s in self.sets]
                lists += [("rule", i) for i, x in enumerate(rules)
                          if x.get(peer, "").startswith("[")]
                if not lists:
                    continue
                what, key = r.choice(lists)
                if what == "set":
                    v = self.sets[key]
                else:
                    v = [e.strip() for e in rules[key][peer][1:-1].split(",")]
                if k == "elem+":
                    fam = v6 if v and v[0].startswith('"') else v4
                    v.insert(r.randint(0, len(v)), fam(r))
                elif len(v) > 1:
                    v.pop(r.randrange(len(v)))
                else:
                    continue
                if what == "rule":
                    rules[key][peer] = "[" + ", ".join(v) + "]"
            elif k == "port":
                cand = [x for x in rules if "port" in x]
                if not cand:
                    continue
                r.choice(cand)["port"] = port(r)
            elif k == "verdict" and rules:
                x = r.choice(rules)
                x["action"] = r.choice(["accept", "drop", "reject"])
            elif k == "default":
                self.defaults[d] = r.choice(["accept", "drop", "reject"])
            else:
                continue
            return k


def small(r):
    p = Policy(r)
    p.defaults = {"inbound": r.choice(["accept", "drop", "reject"]),
                  "outbound": r.choice(["accept", "drop"])}
    if r.random() < 0.7:
        p.sets["nets"] = [v4(r) for _ in range(r.randint(1, 5))]
    for d in ("inbound", "outbound"):
        for _ in range(r.randint(1, 8)):
            p.rules[d].append(p.rule(d))
    return p


def cidrs(r, size):
    p = Policy(r)
    blocks = r.sample(range(1 << 24), size)
    v = []
    for b in blocks:
        net = b << 8
        k = r.random()
        if k < 0.5:
            v.append("%s/24" % ipaddress.IPv4Address(net))
        elif k < 0.8:
            v.append(str(ipaddress.IPv4Address(net + r.randint(1, 254))))
        else:
            v.append("%s/28" % ipaddress.IPv4Address(net + 16 * r.randint(0, 15)))
    base = int(ipaddress.IPv6Address("2001:db8::"))
    for b in r.sample(range(1 << 16), size // 10):
        v.append('"%s/48"' % ipaddress.IPv6Address(base + (b << 80)))
    p.sets["blocklist"] = v
    p.rules["inbound"].append({"name": "blocklist", "from": "$blocklist", "action": "drop"})
    p.rules["inbound"].append({"name": "ssh", "proto": "tcp", "port": "22"})
    return p


def folded(r, size):
    p = Policy(r)
    p.defaults = {"inbound": "accept", "outbound": "drop"}
    p.extra = ["established: false"]
    pairs = set()
    while len(pairs) < size:
        pairs.add((r.randint(0, (1 << 17) - 1), r.randint(1024, 65535)))
    base = int(ipaddress.IPv4Address("198.18.0.0"))
    for a, port in sorted(pairs):
        p.rules["outbound"].append({"name": p.name(), "proto": "udp", "port": str(port),
                                    "to": str(ipaddress.IPv4Address(base + a))})
    return p


def main():
    out, seed, kind, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    size = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    r = random.Random(seed)
    p = {"small": lambda: small(r), "cidrs": lambda: cidrs(r, size),
         "folded": lambda: folded(r, size)}[kind]()
    p.dump(os.path.join(out, "step000.yaml"))
    with open(os.path.join(out, "steps"), "w") as log:
        for i in range(1, steps + 1):
            log.write("%03d %s\n" % (i, p.mutate()))
            p.dump(os.path.join(out, "step%03d.yaml" % i))


if __name__ == "__main__":
    main()
