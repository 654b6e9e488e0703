#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Generate the benchmark policies and their hand-written nft equivalents.

  gen.py DIR   writes into DIR:
    cidrs.yaml        100,000 IPv4 + 10,000 IPv6 CIDRs in one set, one rule
    cidrs.nft         the same as a human would write it for nft -f:
                      two named interval sets and two rules
    rules.yaml        10,000 separate outbound rules, each one distinct
                      (address, UDP port) pair, default drop
    rules-linear.nft  the naive translation: 10,000 linear nft rules
    empty.nft         an output chain that accepts everything, no rules
    target            "ADDR PORT" of the last rule (the data-plane target)

Addresses come from a fixed seed, so every run measures the same input.
CIDRs never overlap (each sits in its own /24 or /48), as nft needs for
an interval set without auto-merge.
"""
import ipaddress
import os
import random
import sys


def cidrs(r):
    v4, v6 = [], []
    blocks = r.sample(range(1 << 24), 100000)
    for b in blocks:
        net = b << 8
        k = r.random()
        if k < 0.5:
            v4.append("%s/24" % ipaddress.IPv4Address(net))
        elif k < 0.8:
            v4.append(str(ipaddress.IPv4Address(net + r.randint(1, 254))))
        else:
            v4.append("%s/28" % ipaddress.IPv4Address(net + 16 * r.randint(0, 15)))
    base = int(ipaddress.IPv6Address("2001:db8::"))
    for b in r.sample(range(1 << 16), 10000):
        net = base + (b << 80)
        k = r.random()
        if k < 0.5:
            v6.append("%s/48" % ipaddress.IPv6Address(net))
        elif k < 0.8:
            v6.append("%s/64" % ipaddress.IPv6Address(net + (r.randint(0, 65535) << 64)))
        else:
            v6.append(str(ipaddress.IPv6Address(net + r.randint(1, 1 << 60))))
    # sorted, as a careful hand-written file would be (nft loads a sorted
    # list of intervals about twice as fast as a shuffled one)
    v4.sort(key=lambda a: ipaddress.ip_network(a).network_address)
    v6.sort(key=lambda a: ipaddress.ip_network(a).network_address)
    return v4, v6


def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o644)


def main():
    d = sys.argv[1]
    r = random.Random(20261124)
    v4, v6 = cidrs(r)
    y = ["portwarden: 1", "table: portwarden",
         "defaults: { inbound: accept, outbound: accept }",
         "sets:", "  blocklist:"]
    y += ["    - %s" % a for a in v4]
    y += ['    - "%s"' % a for a in v6]
    y += ["inbound:", "  - { name: blocklist, from: $blocklist, action: drop }"]
    write(os.path.join(d, "cidrs.yaml"), "\n".join(y) + "\n")
    n = ["table inet portwarden {",
         "\tset blocklist_v4 {", "\t\ttype ipv4_addr", "\t\tflags interval",
         "\t\telements = {"]
    n += ["\t\t\t%s," % a for a in v4]
    n += ["\t\t}", "\t}",
          "\tset blocklist_v6 {", "\t\ttype ipv6_addr", "\t\tflags interval",
          "\t\telements = {"]
    n += ["\t\t\t%s," % a for a in v6]
    n += ["\t\t}", "\t}",
          "\tchain input {",
          "\t\ttype filter hook input priority filter; policy accept;",
          "\t\tct state established,related accept",
          '\t\tiifname "lo" accept',
          '\t\tip saddr @blocklist_v4 counter drop comment "blocklist"',
          '\t\tip6 saddr @blocklist_v6 counter drop comment "blocklist"',
          "\t}",
          "\tchain output {",
          "\t\ttype filter hook output priority filter; policy accept;",
          "\t}", "}"]
    write(os.path.join(d, "cidrs.nft"), "\n".join(n) + "\n")

    # 10,000 distinct (address, port) pairs in 198.18.0.0/15 (benchmarking
    # range, RFC 2544), routed to a dummy device by dataplane.sh.
    pairs = set()
    while len(pairs) < 10000:
        pairs.add((r.randint(0, (1 << 17) - 1), r.randint(1024, 65535)))
    pairs = sorted(pairs)
    r.shuffle(pairs)
    base = int(ipaddress.IPv4Address("198.18.0.0"))
    pairs = [(str(ipaddress.IPv4Address(base + a)), p) for a, p in pairs]
    y = ["portwarden: 1", "table: portwarden",
         "defaults: { inbound: accept, outbound: drop }",
         "established: false", "outbound:"]
    y += ["  - { name: r%d, proto: udp, port: %d, to: %s }" % (i, p, a)
          for i, (a, p) in enumerate(pairs)]
    write(os.path.join(d, "rules.yaml"), "\n".join(y) + "\n")
    n = ["table inet portwarden {",
         "\tchain output {",
         "\t\ttype filter hook output priority filter; policy drop;",
         '\t\toifname "lo" accept']
    n += ['\t\tip daddr %s udp dport %d counter accept comment "r%d"' % (a, p, i)
          for i, (a, p) in enumerate(pairs)]
    n += ["\t}", "}"]
    write(os.path.join(d, "rules-linear.nft"), "\n".join(n) + "\n")
    write(os.path.join(d, "empty.nft"),
          "table inet portwarden {\n\tchain output {\n"
          "\t\ttype filter hook output priority filter; policy accept;\n"
          "\t}\n}\n")
    write(os.path.join(d, "target"), "%s %d\n" % pairs[-1])


if __name__ == "__main__":
    main()
