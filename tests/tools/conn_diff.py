#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Connection-level differential test: random policies beside random
foreign tables, and real connections compared with `portwarden explain`.

  conn_diff.py PORTWARDEN WORKDIR PROBE_TOOL SEED...
  conn_diff.py --iptables PORTWARDEN WORKDIR PROBE_TOOL

Runs inside the topology of tests/netlib.sh, with probe.py listeners on
every address of both sides (TCP answers with a banner, UDP echoes). For
each seed: a random policy (sets reused in every role and direction,
established on or off, interface rules), applied; one to three random
foreign tables (ip, ip6 or inet; filter chains on prerouting, input,
output or postrouting at priorities before and after portwarden's,
conntrack's included; drops, rejects, jumps, verdict maps, marks); then
real connections: out to the peer, in from the peer, to this host's own
veth address (which travels on lo) and to loopback, as root and nobody.

A connection is accepted when it completes: the TCP handshake (and the
banner), or the UDP echo. explain must say accept exactly then; a drop or
reject of the first packet or of any reply is "not accepted". An
`undetermined` answer is a failure here: every foreign rule this
generator writes can be interpreted.

--iptables: rules made by iptables-nft (Debian `iptables`), as Docker and
its users write them: plain matches (which iptables-nft turns into native
expressions) must be answered right; xt matches (-m conntrack, -m owner,
-m multiport, -m comment) must come out undetermined, never wrong.
"""
import concurrent.futures
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import differential as D  # noqa: E402  (the policy generator)

HERE = D.HERE
PEER = D.PEER
LO = D.LO
DPORTS = [22, 53, 80, 443, 8000, 8001, 8002, 8003, 9000, 9999]
USERS = ["root", "nobody"]


class ConnGen(D.Gen):
    """Policies whose sets are used in every role of both directions."""

    def rule(self, d, name):
        f = super().rule(d, name)
        r = self.r
        remote, local = ("from", "to") if d == "in" else ("to", "from")
        # one set, many roles: remote, local, excluded, ports as dport
        # and as sport
        if r.random() < 0.25:
            f[r.choice([remote, local, "not_" + remote])] = "$peers"
            f.pop("family", None)
        if "port" in f and r.random() < 0.2:
            f["sport"] = "$ports"
        if r.random() < 0.12:
            f["interface"] = r.choice(["veth0", "lo", "veth*", "eth9"])
        if d == "out" and "user" not in f and "group" not in f \
                and r.random() < 0.1:
            f["user"] = r.choice(["root", "nobody"])
        return f

    def policy(self):
        text = super().policy()
        # established off more often than the first-packet test does
        if self.r.random() < 0.3:
            text = text.replace("established: true", "established: false")
        self.established = "established: true" in text
        # $peers holds addresses of both sides
        lines = text.split("\n")
        for i, l in enumerate(lines):
            if l.startswith("  peers:"):
                atoms = [self.r.choice(PEER[4]), self.r.choice(HERE[4]),
                         self.r.choice(PEER[6]), self.r.choice(HERE[6])]
                lines[i] = "  peers: " + D.ylist(sorted(set(atoms)))
        return "\n".join(lines)


FOREIGN_HOOKS = ["input", "output", "prerouting", "postrouting"]
PRIOS = [-300, -150, -10, 0, 10, 100]


def foreign_rule(r, fam, hook, sub):
    """One random rule of a foreign chain (nft syntax)."""
    v4 = fam in ("ip", "inet") and (fam == "ip" or r.random() < 0.5)
    addrs = (PEER[4] + HERE[4]) if v4 else (PEER[6] + HERE[6])
    a = r.choice(addrs)
    ipk = "ip" if v4 else "ip6"
    port = r.choice(DPORTS)
    proto = r.choice(["tcp", "udp"])
    verdict = r.choice(["drop", "drop", "reject", "accept", "counter"])
    if verdict == "reject" and hook in ("prerouting", "postrouting"):
        verdict = "drop"	# reject is for input, forward and output
    kinds = [
        "%s dport %d %s" % (proto, port, verdict),
        "%s daddr %s %s" % (ipk, a, verdict),
        "%s saddr %s %s dport %d %s" % (ipk, a, proto, port, verdict),
        "meta l4proto %s th dport { %d, %d } %s" % (proto, port, r.choice(DPORTS), verdict),
        "%s sport %d-%d %s" % (proto, port, port + 1, verdict),
        "ct state established %s" % r.choice(["accept", "counter", "drop"]),
        "ct state new %s dport %d %s" % (proto, port, verdict),
        "%s dport vmap { %d : drop, %d : accept }" % (proto, port, r.choice(DPORTS)),
        "%s daddr . %s dport { %s . %d } %s" % (ipk, proto, a, port, verdict),
        "meta mark set 0x%x" % r.randint(1, 3),
        "meta mark 0x%x %s dport %d %s" % (r.randint(1, 3), proto, port, verdict),
        "ct direction reply %s sport %d %s" % (proto, port, verdict),
        "tcp flags syn / syn,ack %s dport %d %s" % ("tcp", port, verdict),
        "jump %s" % sub,
    ]
    if hook in ("input", "prerouting"):
        kinds.append('iifname "%s" %s dport %d %s' % (r.choice(["lo", "veth0"]),
                                                     proto, port, verdict))
        kinds.append("fib daddr type local %s dport %d %s" % (proto, port, verdict))
    else:
        kinds.append('oifname "%s" %s dport %d %s' % (r.choice(["lo", "veth0"]),
                                                     proto, port, verdict))
        if hook == "output":
            kinds.append("meta skuid %s %s dport %d %s" % (r.choice(["0", "65534"]),
                                                           proto, port, verdict))
    if fam == "inet" and r.random() < 0.2:
        kinds.append("meta nfproto ipv6 %s dport %d %s" % (proto, port, verdict))
    return r.choice(kinds)


def foreign_tables(r, seed):
    out = []
    for i in range(r.randint(1, 3)):
        fam = r.choice(["ip", "ip6", "inet", "inet"])
        name = "f%d_%d" % (seed, i)
        t = ["table %s %s {" % (fam, name)]
        t.append("\tchain sub {")
        for _ in range(r.randint(1, 2)):
            t.append("\t\t" + foreign_rule(r, fam, "input", "sub").replace("jump sub", "counter"))
        t.append("\t}")
        for j in range(r.randint(1, 2)):
            hook = r.choice(FOREIGN_HOOKS)
            prio = r.choice(PRIOS)
            policy = "accept" if r.random() < 0.92 else "drop"
            t.append("\tchain c%d {" % j)
            t.append("\t\ttype filter hook %s priority %d; policy %s;" % (hook, prio, policy))
            if policy == "drop":
                # keep something flowing
                t.append("\t\tct state established,related accept")
                t.append("\t\tmeta l4proto { tcp, udp } th dport { %d, %d } accept"
                         % (r.choice(DPORTS), r.choice(DPORTS)))
                t.append("\t\tmeta l4proto { tcp, udp } th sport { %d, %d } accept"
                         % (r.choice(DPORTS), r.choice(DPORTS)))
            for _ in range(r.randint(1, 4)):
                t.append("\t\t" + foreign_rule(r, fam, hook, "sub"))
            t.append("\t}")
        t.append("}")
        out.append("\n".join(t))
    return out


def make_conns(r, n, sports):
    conns = []
    for i in range(n):
        fam = r.choice([4, 6])
        kind = r.choice(["out", "out", "in", "in", "self", "lo"])
        c = {"id": "c%d" % i, "proto": r.choice(["tcp", "udp"]),
             "dport": r.choice(DPORTS), "sport": sports.pop(), "user": "root"}
        if kind == "out":
            c.update(where="here", src=r.choice(HERE[fam]), dst=r.choice(PEER[fam]),
                     dir="out", user=r.choice(USERS))
        elif kind == "in":
            c.update(where="peer", src=r.choice(PEER[fam]), dst=r.choice(HERE[fam]),
                     dir="in")
        elif kind == "self":
            c.update(where="here", src=HERE[fam][0], dst=HERE[fam][1], dir="out",
                     user=r.choice(USERS))
        else:
            c.update(where="here", src=LO[fam], dst=LO[fam], dir="out",
                     user=r.choice(USERS))
        conns.append(c)
    return conns


def explain(pw, pol, c):
    cmd = [pw, "explain", pol, c["dir"], c["proto"], D.bracket(c["dst"], c["dport"]),
           "--from", D.bracket(c["src"], c["sport"]), "--format", "json"]
    if c["where"] == "here":
        cmd += ["--user", c["user"]]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        return None, " ".join(cmd) + ": exit %d: %s" % (res.returncode, res.stderr.strip())
    try:
        j = json.loads(res.stdout)
    except ValueError:
        return None, "not JSON: " + res.stdout[:200]
    return j, " ".join(cmd[3:9])


def run_conns(probe, conns, timeout):
    """Real connections, grouped by where they start and as whom."""
    groups = {}
    for c in conns:
        groups.setdefault((c["where"], c["user"]), []).append(c)
    outcome = {}

    def one(key):
        where, user = key
        pre = ["ip", "netns", "exec", "peer"] if where == "peer" else []
        if user == "nobody":
            pre += ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        lines = "".join("%s %s %s %d %s %d\n" % (c["id"], c["proto"], c["dst"],
                                                 c["dport"], c["src"], c["sport"])
                        for c in groups[key])
        out = subprocess.run(pre + ["/usr/bin/python3", probe, "run", "-t", str(timeout)],
                             input=lines, capture_output=True, text=True).stdout
        return dict(l.split(None, 1) for l in out.splitlines() if l.strip())

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for res in pool.map(one, list(groups)):
            outcome.update({k: v.strip() for k, v in res.items()})
    return outcome


def judge(conns, answers, outcome, allow_undetermined=False):
    bad, undet = [], 0
    for c, (j, text) in zip(conns, answers):
        got = outcome.get(c["id"], "nothing")
        completed = got in ("open", "connected-silent")
        if j is None:
            bad.append("explain failed: " + text)
            continue
        v = j["verdict"]
        if v == "undetermined":
            undet += 1
            if not allow_undetermined:
                bad.append("%s: undetermined (%s); the connection %s" % (
                    text, j.get("reason"), got))
            continue
        if (v == "accept") != completed:
            where = (j.get("table"), j.get("chain"), j.get("rule"))
            reply = j.get("reply") or {}
            bad.append("%s as %s: explain says %s %s (reply %s), the connection %s" % (
                text, c["user"], v, where, reply.get("verdict"), got))
    return bad, undet


def nft(text):
    return subprocess.run(["nft", "-f", "-"], input=text, capture_output=True,
                          text=True)


def main_random(pw, work, probe, seeds):
    sports = list(range(30000, 60000))
    random.Random(1).shuffle(sports)
    total = failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    for seed in seeds:
        g = ConnGen(1000 + seed)
        pol = os.path.join(work, "conn-%d.yaml" % seed)
        with open(pol, "w") as fh:
            fh.write(g.policy())
        res = subprocess.run([pw, "apply", pol, "--force"], capture_output=True, text=True)
        if res.returncode != 0:
            print("not ok - conn policy %d: apply exit %d: %s" % (
                seed, res.returncode, res.stderr.strip()[:300]))
            failed += 1
            continue
        tables = foreign_tables(g.r, seed)
        loaded = []
        for t in tables:
            if nft(t).returncode == 0:
                loaded.append(t)
        conns = make_conns(g.r, 36, sports)
        answers = list(pool.map(lambda c: explain(pw, pol, c), conns))
        outcome = run_conns(probe, conns, 1.2)
        bad, _ = judge(conns, answers, outcome)
        for t in loaded:
            name = t.split("\n", 1)[0].rstrip(" {")
            subprocess.run(["nft", "delete " + name.replace("table ", "table ", 1)],
                           capture_output=True)
        total += len(conns)
        if bad:
            failed += 1
            print("not ok - conn policy %d: %d of %d connections disagree" % (
                seed, len(bad), len(conns)))
            for b in bad:
                print("#   " + b)
            print("# policy:\n# " + open(pol).read().replace("\n", "\n# "))
            print("# foreign tables:\n# " + "\n".join(loaded).replace("\n", "\n# "))
        else:
            done = sum(1 for c in conns if outcome.get(c["id"]) in ("open", "connected-silent"))
            print("ok - conn policy %d (%d connections, %d completed, %d foreign tables)" % (
                seed, len(conns), done, len(loaded)))
        sys.stdout.flush()
    print("# %d connections over %d policies, %d with disagreements" % (
        total, len(seeds), failed))


IPTABLES = [
    # plain matches: iptables-nft writes native expressions
    (["-A", "INPUT", "-p", "tcp", "--dport", "8001", "-j", "DROP"], False),
    (["-A", "OUTPUT", "-p", "udp", "-d", "10.77.0.3", "--dport", "53", "-j", "DROP"], False),
    (["-A", "INPUT", "-s", "10.77.0.4", "-p", "tcp", "--dport", "443", "-j", "ACCEPT"], False),
    # xt matches and targets: undetermined where they are reached
    (["-A", "INPUT", "-p", "tcp", "--dport", "8002", "-m", "conntrack", "--ctstate",
      "NEW", "-j", "DROP"], True),
    (["-A", "OUTPUT", "-p", "tcp", "--dport", "9000", "-m", "owner", "--uid-owner",
      "65534", "-j", "REJECT"], True),
    (["-A", "INPUT", "-p", "udp", "-m", "multiport", "--dports", "8003,9999", "-j",
      "DROP"], True),
]


def main_iptables(pw, work, probe):
    pol = os.path.join(work, "ipt.yaml")
    with open(pol, "w") as fh:
        fh.write("portwarden: 1\ndefaults: {inbound: accept, outbound: accept}\n"
                 "inbound:\n  - {name: no-8000, proto: tcp, port: 8000, action: drop}\n")
    os.chmod(pol, 0o644)
    res = subprocess.run([pw, "apply", pol, "--force"], capture_output=True, text=True)
    if res.returncode != 0:
        print("not ok - iptables: apply: " + res.stderr.strip()[:300])
        return
    for args, _ in IPTABLES:
        r = subprocess.run(["iptables"] + args, capture_output=True, text=True)
        if r.returncode != 0:
            print("not ok - iptables %s: %s" % (" ".join(args), r.stderr.strip()))
            return
    print("ok - iptables-nft rules loaded")
    sports = list(range(20000, 29000))
    random.Random(2).shuffle(sports)
    conns = []
    for i, (port, proto, kind) in enumerate(
            [(p, pr, k) for p in (8000, 8001, 8002, 8003, 443, 9000, 9999, 53)
             for pr in ("tcp", "udp") for k in ("in", "out-root", "out-nobody")]):
        c = {"id": "i%d" % i, "proto": proto, "dport": port, "sport": sports.pop()}
        if kind == "in":
            c.update(where="peer", src=PEER[4][2], dst=HERE[4][0], dir="in", user="root")
        else:
            c.update(where="here", src=HERE[4][0], dst=PEER[4][1], dir="out",
                     user=kind.split("-")[1])
        conns.append(c)
    answers = [explain(pw, pol, c) for c in conns]
    outcome = run_conns(probe, conns, 1.2)
    bad, undet = judge(conns, answers, outcome, allow_undetermined=True)
    if bad:
        print("not ok - iptables-nft: %d of %d connections answered wrong" % (
            len(bad), len(conns)))
        for b in bad:
            print("#   " + b)
    else:
        print("ok - iptables-nft: %d connections, none answered wrong" % len(conns))
    # the xt rules must be named: in tcp 8002 meets -m conntrack
    want = {("in", "tcp", 8002), ("out-nobody", "tcp", 9000), ("in", "udp", 8003),
            ("in", "udp", 9999)}
    missing = []
    for c, (j, text) in zip(conns, answers):
        k = ("in" if c["dir"] == "in" else "out-" + c["user"], c["proto"], c["dport"])
        if k in want and (j is None or j["verdict"] != "undetermined"
                          or "xt" not in (j.get("reason") or "")):
            missing.append("%s: %s" % (text, j and (j["verdict"], j.get("reason"))))
    if missing:
        print("not ok - iptables-nft: xt matches reached but not undetermined")
        for m in missing:
            print("#   " + m)
    else:
        print("ok - iptables-nft: xt matches reached come out undetermined (%d)" % undet)


if __name__ == "__main__":
    if sys.argv[1] == "--iptables":
        main_iptables(*sys.argv[2:5])
    else:
        main_random(sys.argv[1], sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]])
