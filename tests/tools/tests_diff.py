#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The kernel as the oracle of a policy's tests (SPEC §10).

  tests_diff.py PORTWARDEN WORKDIR PROBE_TOOL SEED...

Inside the topology of tests/netlib.sh (probe.py listeners on both sides,
no other table). For each seed: a random policy (conn_diff.py's
generator), random connections out to the peer and in from it, as root
and nobody; each connection becomes a test written from `explain
--policy-only`'s verdict and rule; then
  - `portwarden test` must pass every one of them (the tests' own
    evaluation, without the host's addresses, agrees with explain);
  - `portwarden apply` (which runs them again) must apply the policy;
  - real connections must complete exactly where the test expects accept.
One "ok"/"not ok" line per seed.
"""
import concurrent.futures
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conn_diff as C  # noqa: E402
import differential as D  # noqa: E402


def make_conns(r, n, sports):
    conns = []
    for i in range(n):
        fam = r.choice([4, 6])
        c = {"id": "c%d" % i, "proto": r.choice(["tcp", "udp"]),
             "dport": r.choice(C.DPORTS), "sport": sports.pop(), "user": "root"}
        if r.random() < 0.5:
            c.update(where="here", src=r.choice(D.HERE[fam]), dst=r.choice(D.PEER[fam]),
                     dir="out", user=r.choice(C.USERS))
        else:
            c.update(where="peer", src=r.choice(D.PEER[fam]), dst=r.choice(D.HERE[fam]),
                     dir="in")
        conns.append(c)
    return conns


def packet(c):
    """explain's arguments: the interface named, as the host would pick it,
    and the local socket's owner (for an inbound connection the listener's,
    root here: its replies carry it)"""
    return [c["dir"], c["proto"], D.bracket(c["dst"], c["dport"]),
            "--from", D.bracket(c["src"], c["sport"]), "--interface", "veth0",
            "--user", c["user"]]


def explain(pw, pol, c):
    res = subprocess.run([pw, "explain", pol] + packet(c) + ["--policy-only", "--format", "json"],
                         capture_output=True, text=True)
    try:
        j = json.loads(res.stdout)
    except ValueError:
        return None
    return j["verdict"], j["rule"] or j["label"]


def main(pw, work, probe, seeds):
    sports = list(range(30000, 60000))
    random.Random(7).shuffle(sports)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=4)
    failed = total = 0
    for seed in seeds:
        g = C.ConnGen(5000 + seed)
        base = g.policy()
        pol = os.path.join(work, "tests-%d.yaml" % seed)
        with open(pol, "w") as fh:
            fh.write(base)
        os.chmod(pol, 0o644)
        conns = make_conns(g.r, 24, sports)
        answers = list(pool.map(lambda c: explain(pw, pol, c), conns))
        bad = []
        tests = []
        for c, a in zip(conns, answers):
            if a is None or a[0] == "undetermined":
                bad.append("%s: explain gave %s" % (" ".join(packet(c)), a))
                continue
            c["expect"], c["rule"] = a
            tests.append('  - { packet: "%s", expect: %s%s }' % (
                " ".join(packet(c)), a[0], ", rule: %s" % a[1] if a[1] else ""))
        with open(pol, "w") as fh:
            fh.write(base.rstrip("\n") + "\ntests:\n" + "\n".join(tests) + "\n")
        res = subprocess.run([pw, "test", pol, "--format", "json"], capture_output=True,
                             text=True)
        try:
            j = json.loads(res.stdout)
            if res.returncode != 0 or j["passed"] != len(tests):
                bad += ["test says %s: %s" % (t["status"], t["message"])
                        for t in j["tests"] if t["status"] != "pass"]
                bad.append("portwarden test exit %d" % res.returncode)
        except (ValueError, KeyError):
            bad.append("portwarden test: exit %d: %s" % (res.returncode, res.stderr[:300]))
        res = subprocess.run([pw, "apply", pol, "--force"], capture_output=True, text=True)
        if res.returncode != 0:
            bad.append("apply exit %d: %s" % (res.returncode, res.stderr.strip()[:300]))
        else:
            run = [c for c in conns if "expect" in c]
            outcome = C.run_conns(probe, run, 1.2)
            for c in run:
                got = outcome.get(c["id"], "nothing")
                completed = got in ("open", "connected-silent")
                if (c["expect"] == "accept") != completed:
                    bad.append("test '%s' expects %s (rule %s); the real connection: %s" % (
                        " ".join(packet(c)), c["expect"], c["rule"], got))
        total += len(conns)
        if bad:
            failed += 1
            print("not ok - tests of random policy %d: %d problems" % (seed, len(bad)))
            for b in bad:
                print("#   " + b)
            print("# policy:\n# " + open(pol).read().replace("\n", "\n# "))
        else:
            acc = sum(1 for c in conns if c.get("expect") == "accept")
            print("ok - tests of random policy %d: %d tests pass, the kernel agrees (%d accepted)" % (
                seed, len(conns), acc))
        sys.stdout.flush()
    print("# %d tests over %d policies, %d policies with problems" % (total, len(seeds), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], [int(s) for s in sys.argv[4:]]))
