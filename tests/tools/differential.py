#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Differential test driver: random policies, random packets, and the
kernel's verdict on each real packet compared with `portwarden explain`.

  differential.py PORTWARDEN WORKDIR PROBE_TOOL SEED...

Runs inside the topology of tests/netlib.sh with the observer tables that
differential.sh installs (`inet pwobs`): here, after portwarden's chains
(input and output hooks, priority 1000), and in the peer (prerouting), its
sets record the source port of every TCP/UDP packet and the identifier of
every echo request that got through. Every probe has a source port (or
identifier) of its own, so one lookup tells whether the kernel accepted it.

Prints "ok - policy SEED (N probes)" or "not ok - ..." with every
disagreement (policy file, packet, explain's answer, kernel's answer).
"""
import concurrent.futures
import errno
import json
import os
import random
import re
import subprocess
import sys
import time

HERE = {4: ["10.77.0.1", "10.77.0.11"], 6: ["fd77::1", "fd77::11"]}
PEER = {4: ["10.77.0.2", "10.77.0.3", "10.77.0.4"],
        6: ["fd77::2", "fd77::3", "fd77::4"]}
LO = {4: "127.0.0.1", 6: "::1"}
ADDR_ATOMS = {
    4: HERE[4] + PEER[4] + ["10.77.0.0/24", "10.77.0.2/31", "10.77.0.0/30",
                            "10.77.0.8/29", "192.0.2.0/24", "10.0.0.0/8",
                            "127.0.0.1", "127.0.0.0/8"],
    6: HERE[6] + PEER[6] + ["fd77::/64", "fd77::2/127", "fd77::/126",
                            "fd77::8/125", "2001:db8::/32", "::1"],
}
DPORTS = [22, 53, 80, 443, 8000, 8001, 8002, 8003, 9000, 9999]
PORT_ATOMS = [22, 53, 80, 443, 8000, 8001, 8003, 9000, "8000-8001",
              "8001-8003", "9000-9999", "ssh", "http", "https", "domain",
              "well-known"]
SPORT_LO, SPORT_HI = 20000, 60999


def q(v):
    return '"%s"' % v if isinstance(v, str) else str(v)


def ylist(vals):
    return "[" + ", ".join(q(v) for v in vals) + "]"


class Gen:
    """One random policy (as YAML text) from a seed."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.seed = seed

    def addrs(self, fam, n=None):
        r = self.r
        fams = [4, 6] if fam == 0 else [fam]
        n = n or r.choice([1, 1, 2, 3])
        out = [r.choice(ADDR_ATOMS[r.choice(fams)]) for _ in range(n)]
        if fam == 0:	# a mixed field holds both families
            out += [r.choice(ADDR_ATOMS[4]), r.choice(ADDR_ATOMS[6])]
        return sorted(set(out), key=out.index)

    def ports(self):
        r = self.r
        if r.random() < 0.15:
            return "$ports"
        vals = [r.choice(PORT_ATOMS) for _ in range(r.choice([1, 1, 1, 2, 3]))]
        vals = sorted(set(vals), key=vals.index)
        return q(vals[0]) if len(vals) == 1 else ylist(vals)

    def rule(self, d, name):
        r = self.r
        f = {"name": name}
        f["action"] = r.choice(["accept", "accept", "drop", "reject"])
        has_port = r.random() < 0.6
        if has_port:
            f["port"] = self.ports()
            p = r.choice([None, "tcp", "udp", "[tcp, udp]"])
        else:
            p = r.choice([None, "tcp", "udp", "any", "icmp", "icmpv6",
                          "[tcp, icmp]", "[udp, icmpv6]", "[icmp, icmpv6]"])
        if p:
            f["proto"] = p
        if p in ("tcp", "udp", "[tcp, udp]") and r.random() < 0.2:
            a = r.randint(SPORT_LO, SPORT_HI - 1000)
            f["sport"] = q("%d-%d" % (a, min(SPORT_HI, a + r.randint(2000, 25000))))
        fam = r.choice([0, 4, 6])
        if p and "icmp" in p and p != "[icmp, icmpv6]":
            fam = 6 if "icmpv6" in p else 4
        remote, local = ("from", "to") if d == "in" else ("to", "from")
        used = False
        if r.random() < 0.45:
            f[remote] = "$peers" if (fam == 0 and r.random() < 0.2) \
                else ylist(self.addrs(fam))
            used = True
        if r.random() < 0.2:
            f[local] = ylist(self.addrs(fam, 1))
            used = True
        if r.random() < 0.15:
            f["not_" + remote] = ylist(self.addrs(fam, 1))
            used = True
        if fam and (not used or r.random() < 0.3) and r.random() < 0.4:
            f["family"] = "ipv%d" % fam
        if d == "out" and r.random() < 0.15:
            f["user"] = r.choice(["root", "nobody", "65534", "[root, nobody]"])
        elif d == "out" and r.random() < 0.1:
            f["group"] = r.choice(["root", "nogroup", "65534", "[root, nogroup]"])
        return f

    def fold_run(self, d, start):
        """A run of same-shaped rules the compiler folds into one lookup."""
        r = self.r
        action = r.choice(["accept", "drop", "reject"])
        proto = r.choice(["tcp", "udp"])
        key = "from" if d == "in" else "to"
        fam = r.choice([4, 6])
        rules = []
        for i in range(r.randint(12, 40)):
            rules.append({"name": "%s-fold%d" % (d, start + i),
                          "action": action, "proto": proto,
                          "port": str(r.choice(DPORTS)),
                          key: q(r.choice(PEER[fam]))})
        return rules

    def policy(self):
        r = self.r
        y = ["portwarden: 1", "table: portwarden", "defaults:"]
        for d in ("inbound", "outbound"):
            y.append("  %s: %s" % (d, r.choice(["accept", "drop", "reject"])))
        self.established = r.choice([True, True, False])
        y.append("established: %s" % str(self.established).lower())
        self.loopback = r.choice([True, False])
        y.append("loopback: %s" % str(self.loopback).lower())
        y.append("icmp: %s" % r.choice(["essential", "all", "none"]))
        y.append("sets:")
        y.append("  peers: %s" % ylist(self.addrs(0, 2)))
        y.append("  ports: %s" % ylist(sorted({r.choice(DPORTS) for _ in range(3)})))
        for d in ("in", "out"):
            y.append("%sbound:" % d)
            rules = []
            n = r.randint(3, 25)
            while len(rules) < n:
                if r.random() < 0.08:
                    rules += self.fold_run(d, len(rules))
                else:
                    rules.append(self.rule(d, "%s%d" % (d, len(rules))))
            for f in rules:
                y.append("  - { " + ", ".join("%s: %s" % kv for kv in f.items()) + " }")
        return "\n".join(y) + "\n"


def bracket(a, port):
    return ("[%s]:%d" % (a, port)) if ":" in a else ("%s:%d" % (a, port))


def make_probes(r, n, sports):
    """Random packets: TCP/UDP over the veth (both ways), ICMP echo
    requests over the veth (both ways), and TCP/UDP over lo, which pass
    the output chain and then the input chain. "sport" is unique in the
    whole run (the ICMP identifier for echo requests)."""
    probes = []
    for _ in range(n):
        fam = r.choice([4, 6])
        kind = r.random()
        p = {"sport": sports.pop(), "dport": r.choice(DPORTS),
             "proto": r.choice(["tcp", "udp"]), "user": None}
        if kind < 0.15:
            p["dir"] = "lo"
            p["src"] = p["dst"] = LO[fam]
            p["user"] = r.choice(["root", "nobody"])
        else:
            p["dir"] = r.choice(["in", "out"])
            src, dst = (PEER, HERE) if p["dir"] == "in" else (HERE, PEER)
            p["src"], p["dst"] = r.choice(src[fam]), r.choice(dst[fam])
            if kind < 0.3:
                p["proto"] = "icmp" if fam == 4 else "icmpv6"
                p["dport"] = None
            if p["dir"] == "out":
                p["user"] = ("root" if p["dport"] is None
                             else r.choice(["root", "nobody"]))
        probes.append(p)
    return probes


def explain(pw, pol, p, d=None):
    """explain's verdict on the probe's first packet (the observers see
    first packets): (accepted?, text) or (None, why it failed). A packet
    on lo crosses output, postrouting, prerouting and input: one answer."""
    d = d or p["dir"]
    if p["dport"] is None:	# echo request: addresses only
        cmd = [pw, "explain", pol, d, p["proto"], p["dst"], "--from", p["src"]]
    else:
        cmd = [pw, "explain", pol, d, p["proto"], bracket(p["dst"], p["dport"]),
               "--from", bracket(p["src"], p["sport"])]
    if p["user"] and d == "out":
        cmd += ["--user", p["user"]]
    res = subprocess.run(cmd + ["--format", "json"], capture_output=True, text=True)
    if res.returncode not in (0, 1):
        return None, " ".join(cmd) + ": exit %d: %s" % (res.returncode,
                                                      res.stderr.strip())
    try:
        j = json.loads(res.stdout)
    except ValueError:
        return None, " ".join(cmd) + ": not JSON: " + res.stdout[:200]
    first = j["first"]
    if first["verdict"] == "undetermined":
        return None, " ".join(cmd) + ": undetermined: " + str(j.get("reason"))
    text = "-> %s (%s %s %s)" % (first["verdict"], first["table"], first["chain"],
                                  first["rule"])
    return first["verdict"] == "accept", text


def seen(peer, name):
    cmd = ["nft", "-j", "list", "set", "inet", "pwobs", name]
    if peer:
        cmd = ["ip", "netns", "exec", "peer"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    ports = set()
    for obj in json.loads(out)["nftables"]:
        if "set" in obj:
            for e in obj["set"].get("elem", []):
                ports.add(e if isinstance(e, int) else e.get("elem", {}).get("val"))
    return ports


def blast(tool, probes, where, user):
    lines = "".join("%s %s %d %s %d\n" % (p["proto"], p["src"], p["sport"],
                                          p["dst"], p["dport"] or 0)
                    for p in probes)
    if not lines:
        return {}
    cmd = ["/usr/bin/python3", tool, "blast", "-w", "0.25"]
    if user == "nobody":
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    if where == "peer":
        cmd = ["ip", "netns", "exec", "peer"] + cmd
    out = subprocess.run(cmd, input=lines, text=True, check=True,
                         capture_output=True).stdout
    return {int(a): int(b) for a, b in (l.split() for l in out.splitlines())}


def main():
    pw, work, tool = sys.argv[1:4]
    seeds = [int(s) for s in sys.argv[4:]]
    sports = list(range(SPORT_LO, SPORT_HI + 1))
    random.Random(0).shuffle(sports)
    total = bad_total = 0
    rejects = {}
    observed = {}
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    for seed in seeds:
        g = Gen(seed)
        pol = os.path.join(work, "diff-%d.yaml" % seed)
        with open(pol, "w") as fh:
            fh.write(g.policy())
        res = subprocess.run([pw, "apply", pol], capture_output=True, text=True)
        if res.returncode != 0:
            print("not ok - policy %d: apply exit %d: %s" %
                  (seed, res.returncode, res.stderr.strip()[:500]))
            print("# policy:\n# " + open(pol).read().replace("\n", "\n# "))
            bad_total += 1
            continue
        probes = make_probes(g.r, int(os.environ.get("DIFF_PROBES", "60")), sports)
        # a packet on lo crosses output and input: explain answers for both
        checks = [(p, "out" if p["dir"] == "lo" else p["dir"]) for p in probes]
        answers = list(pool.map(lambda c: explain(pw, pol, c[0], c[1]), checks))
        groups = [("peer", "root", [p for p in probes if p["dir"] == "in"]),
                  ("here", "root", [p for p in probes
                                    if p["dir"] != "in" and p["user"] == "root"]),
                  ("here", "nobody", [p for p in probes
                                      if p["dir"] != "in" and p["user"] == "nobody"])]
        futs = [pool.submit(blast, tool, ps, w, u) for w, u, ps in groups]
        sock_err = {}
        for f in futs:
            sock_err.update(f.result())
        time.sleep(0.05)
        got = {("here", n): seen(False, n)
               for n in ("seen", "icmp4", "icmp6", "lo_in", "lo_out")}
        got.update({("peer", n): seen(True, n) for n in
                    ("seen", "icmp4", "icmp6", "rst", "unreach4", "unreach6")})
        observed = {k: len(v) for k, v in got.items()}	# sets only grow
        bad = []
        accepted = {}
        for (p, d), (want, text) in zip(checks, answers):
            if want is None:
                bad.append("explain failed: " + text)
                continue
            where = "here" if d == "in" else "peer"
            name = {"icmp": "icmp4", "icmpv6": "icmp6"}.get(p["proto"], "seen")
            if p["dir"] == "lo":
                where, name = "here", "lo_in"
            kernel = p["sport"] in got[(where, name)]
            if (kernel == want and not want and d == "in" and p["dir"] == "in"
                    and p["dport"] and g.established):
                # not accepted: a reject answers (reset for TCP, port
                # unreachable otherwise), a drop stays silent; the answer
                # leaves through the output chain as related traffic
                m = re.search(r"-> (drop|reject)\b", text)
                verdict = m.group(1) if m else "?"
                unreach = "unreach%d" % (6 if ":" in p["dst"] else 4)
                answer = ("reset" if p["sport"] in got[("peer", "rst")] else
                          "port-unreachable" if p["sport"] in got[("peer", unreach)]
                          else "nothing")
                expect = {"drop": "nothing", "reject": "reset" if p["proto"] == "tcp"
                          else "port-unreachable"}.get(verdict, "?")
                rejects["in " + verdict] = rejects.get("in " + verdict, 0) + 1
                if answer != expect:
                    bad.append("in %s %s -> %s: explain says %s [%s], the kernel "
                               "answered with %s" % (
                                   p["proto"], bracket(p["src"], p["sport"]),
                                   bracket(p["dst"], p["dport"]), verdict, text,
                                   answer))
            if (kernel == want and not want and d == "out" and p["dir"] == "out"
                    and p["dport"] and g.loopback):
                # not accepted on the way out: a reject answers the local
                # socket (over lo) with ECONNREFUSED, a drop does not
                m = re.search(r"-> (drop|reject)\b", text)
                verdict = m.group(1) if m else "?"
                refused = sock_err.get(p["sport"]) == errno.ECONNREFUSED
                rejects["out " + verdict] = rejects.get("out " + verdict, 0) + 1
                if refused != (verdict == "reject"):
                    bad.append("out %s %s -> %s user %s: explain says %s [%s], "
                               "the socket %s" % (
                                   p["proto"], bracket(p["src"], p["sport"]),
                                   bracket(p["dst"], p["dport"]), p["user"],
                                   verdict, text, "was refused" if refused
                                   else "was not refused"))
            if kernel != want:
                bad.append("%s %s %s -> %s%s: explain says %s [%s], kernel %s" % (
                    d + (" (lo)" if p["dir"] == "lo" else ""), p["proto"],
                    bracket(p["src"], p["sport"]) if p["dport"] else p["src"],
                    bracket(p["dst"], p["dport"]) if p["dport"] else
                    p["dst"] + " echo-request id %d" % p["sport"],
                    " user " + p["user"] if p["user"] and d == "out" else "",
                    "accept" if want else "not accept", text,
                    "accepted" if kernel else "did not accept"))
        total += len(checks)
        if bad:
            bad_total += 1
            print("not ok - policy %d: %d of %d probes disagree" %
                  (seed, len(bad), len(checks)))
            for b in bad:
                print("#   " + b)
            print("# policy %s:\n# " % pol + open(pol).read().replace("\n", "\n# "))
        else:
            print("ok - policy %d (%d verdicts on %d packets, %d accepted)" %
                  (seed, len(checks), len(probes), sum(1 for a in answers if a[0])))
        sys.stdout.flush()
    print("# %d verdicts over %d policies, %d policies with disagreements" %
          (total, len(seeds), bad_total))
    print("# TCP/UDP not accepted, answer checked: %s" %
          ", ".join("%s %d" % kv for kv in sorted(rejects.items())))
    print("# packets seen getting through, by observer set: " +
          ", ".join("%s %s %d" % (w, n, c) for (w, n), c in sorted(observed.items())))


if __name__ == "__main__":
    main()
