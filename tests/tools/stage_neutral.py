#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A staged policy never changes a verdict (SPEC §9), shown with real
connections.

  stage_neutral.py PORTWARDEN WORKDIR PROBE_TOOL SEED...

Runs inside the topology of tests/netlib.sh with probe.py listeners on
every address of both sides (as differential_conn.sh). For each seed: a
random enforced policy (conn_diff.py's generator; none at all for every
fifth seed), applied; a staged policy beside it, random or deliberately
broken (drops everything, rejects everything, defaults contradicting the
enforced ones, hundreds of rules); then real TCP and UDP connections in
and out, to this host's own address and to loopback, as root and nobody.

Each connection's outcome (completed or not) must be what
`explain ENFORCED --policy-only` says: the verdict of portwarden's own
table alone, which differential_conn.sh holds to the kernel; so the staged
table changed nothing. And it must be what plain `explain ENFORCED` says,
which reads every table of the host, the staged one included: the
interpreter follows the staged table's chains exactly. The staged rules'
counters must have seen the new connections (the staged policy was live).
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conn_diff as C  # noqa: E402
import differential as D  # noqa: E402

ACCEPT_ALL = "portwarden: 1\ndefaults: {inbound: accept, outbound: accept}\n"


def broken(kind, r):
    """A staged policy that would break the host if it were enforced."""
    if kind == "drop-all":
        return ("portwarden: 1\ndefaults: {inbound: drop, outbound: drop}\n"
                "established: false\nloopback: false\nicmp: none\n")
    if kind == "reject-all":
        return ("portwarden: 1\ndefaults: {inbound: reject, outbound: reject}\n"
                "established: false\nloopback: false\nicmp: none\n"
                "inbound:\n  - {name: no-in, action: reject}\n"
                "outbound:\n  - {name: no-out, action: reject}\n")
    if kind == "many":
        y = ["portwarden: 1", "defaults: {inbound: %s, outbound: %s}" % (
            r.choice(["drop", "reject"]), r.choice(["drop", "accept"]))]
        for d in ("in", "out"):
            y.append("%sbound:" % d)
            remote = "from" if d == "in" else "to"
            for i in range(150):
                fam = r.choice([4, 6])
                y.append("  - {name: %s%d, proto: %s, port: %d, %s: %s, action: %s}" % (
                    d, i, r.choice(["tcp", "udp"]), r.choice(C.DPORTS), remote,
                    r.choice(D.PEER[fam] + D.HERE[fam]),
                    r.choice(["accept", "drop", "reject"])))
        return "\n".join(y) + "\n"
    raise ValueError(kind)


def contradict(text):
    """The enforced policy with its defaults turned around."""
    swap = {"accept": "drop", "drop": "accept", "reject": "accept"}
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith(("inbound: ", "outbound: ")) and line.startswith("  "):
            k, v = s.split(": ", 1)
            line = "  %s: %s" % (k, swap.get(v, v))
        out.append(line)
    return "\n".join(out)


def write(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o644)


def staged_packets(pw):
    res = subprocess.run([pw, "status", "--format", "json"], capture_output=True,
                         text=True)
    try:
        st = json.loads(res.stdout)["staged"]
    except (ValueError, KeyError, TypeError):
        return None
    return sum(r["packets"] for r in st["rules"]) if st else None


def main(pw, work, probe, seeds):
    sports = list(range(30000, 60000))
    random.Random(7).shuffle(sports)
    kinds = ["random", "drop-all", "reject-all", "contradict", "many"]
    failed = 0
    for seed in seeds:
        g = C.ConnGen(3000 + seed)
        enforced = g.policy() if seed % 5 else None
        kind = kinds[(seed + seed // 5) % len(kinds)]
        if kind == "random":
            staged = C.ConnGen(9000 + seed).policy()
        elif kind == "contradict":
            staged = contradict(enforced or ACCEPT_ALL)
        else:
            staged = broken(kind, g.r)
        epol = os.path.join(work, "enf-%d.yaml" % seed)
        spol = os.path.join(work, "stg-%d.yaml" % seed)
        write(epol, enforced or ACCEPT_ALL)
        write(spol, staged)
        subprocess.run([pw, "unstage", "-q"], capture_output=True)
        if enforced:
            res = subprocess.run([pw, "apply", epol, "--force"], capture_output=True,
                                 text=True)
        else:
            res = subprocess.run([pw, "flush", "-q"], capture_output=True, text=True)
        if res.returncode != 0:
            print("not ok - stage seed %d: enforce: %s" % (seed, res.stderr.strip()[:300]))
            failed += 1
            continue
        res = subprocess.run([pw, "apply", "--stage", spol], capture_output=True,
                             text=True)
        if res.returncode != 0:
            print("not ok - stage seed %d (%s): apply --stage exit %d: %s" % (
                seed, kind, res.returncode, res.stderr.strip()[:300]))
            failed += 1
            continue
        conns = C.make_conns(g.r, 24, sports)
        outcome = C.run_conns(probe, conns, 1.2)
        alone = [C.explain(pw, epol, c) for c in conns]
        # explain --policy-only: portwarden's own table alone
        only = []
        for c in conns:
            cmd = [pw, "explain", epol, c["dir"], c["proto"], D.bracket(c["dst"], c["dport"]),
                   "--from", D.bracket(c["src"], c["sport"]), "--format", "json",
                   "--policy-only"]
            if c["where"] == "here":
                cmd += ["--user", c["user"]]
            res = subprocess.run(cmd, capture_output=True, text=True)
            try:
                only.append((json.loads(res.stdout), " ".join(cmd[3:9])))
            except ValueError:
                only.append((None, "explain --policy-only: " + res.stderr.strip()[:200]))
        bad_neutral, _ = C.judge(conns, only, outcome)
        bad_interp, _ = C.judge(conns, alone, outcome)
        seen = staged_packets(pw)
        news = sum(1 for c in conns if c["dst"] not in (D.LO[4], D.LO[6]))
        done = sum(1 for c in conns if outcome.get(c["id"]) in ("open", "connected-silent"))
        if bad_neutral or bad_interp or not seen:
            failed += 1
            print("not ok - stage seed %d (%s staged%s): %d changed by the staged policy, "
                  "%d explained wrong with it, staged counters %s" % (
                      seed, kind, "" if enforced else ", nothing enforced",
                      len(bad_neutral), len(bad_interp), seen))
            for b in bad_neutral:
                print("#   changed: " + b)
            for b in bad_interp:
                print("#   explain: " + b)
            print("# enforced:\n# " + (enforced or ACCEPT_ALL).replace("\n", "\n# "))
            print("# staged:\n# " + staged.replace("\n", "\n# "))
        else:
            print("ok - stage seed %d (%s staged%s): %d connections (%d completed, "
                  "%d non-loopback), none changed; staged counters %d" % (
                      seed, kind, "" if enforced else ", nothing enforced",
                      len(conns), done, news, seen))
        sys.stdout.flush()
    return failed


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]])
