#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Driver of bench/daemon_repair.sh; runs inside a throwaway namespace.

  daemon_repair.py PORTWARDEN WORKDIR N

1. Repair latency: the daemon keeps a small policy; N times, this
   process deletes the table with the netlink batch `nft delete table`
   sends (no process start in the measurement), and reads the kernel's
   nftables events (NFNLGRP_NFTABLES) until the generation message of the
   daemon's repair arrives. From just before the send to that message is
   the time from the foreign change to the restored table (an upper bound:
   it includes the deletion's own commit). Also the daemon's own
   `took_ms` (from the generation message to the kernel's ack of the
   repair).
2. CPU: the daemon's user+system time over SECONDS idle, then over SECONDS
   while another table is created and deleted 10 times a second; and the
   daemon's count of reads of its own table (must not grow with other
   tables' changes).
"""
import atexit
import os
import re
import selectors
import signal
import subprocess
import sys
import time

PW, WORK, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
SECONDS = float(os.environ.get("CPU_SECONDS", "10"))


def cpu(pid):
    """CPU seconds of @pid, in nanoseconds' resolution (schedstat)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


policy = os.path.join(WORK, "p.yaml")
with open(policy, "w") as f:
    f.write("portwarden: 1\ndefaults: { inbound: drop }\ninbound:\n"
            "  - { name: ssh, proto: tcp, port: 22 }\n"
            "  - { name: web, proto: tcp, port: [80, 443] }\n")
os.chmod(policy, 0o644)
env = dict(os.environ, PORTWARDEN_REPAIR_WINDOW="1ms")  # no back-off here
events = open(os.path.join(WORK, "events"), "w")
d = subprocess.Popen([PW, "daemon", policy], stderr=events, env=env)
atexit.register(lambda: d.poll() is None and d.kill())
for _ in range(100):
    if os.path.exists(os.path.join(WORK, "events")) and \
            " ready " in open(os.path.join(WORK, "events")).read():
        break
    time.sleep(0.05)
else:
    sys.exit("bench: the daemon did not become ready")

import socket  # noqa: E402
import struct  # noqa: E402

NFNL_SUBSYS_NFTABLES, NFT_MSG_DELTABLE, NFT_MSG_NEWGEN = 10, 2, 15
NFTA_GEN_PROC_PID = 2


def nlmsg(mtype, flags, seq, family, res_id, attrs=b""):
    body = struct.pack("BBH", family, 0, socket.htons(res_id)) + attrs
    return struct.pack("=IHHII", 16 + len(body), mtype, flags, seq, 0) + body


def attr(atype, data):
    a = struct.pack("=HH", 4 + len(data), atype) + data
    return a + b"\0" * (-len(a) % 4)


def delete_batch(seq):
    """BEGIN, DELTABLE inet portwarden, END: what `nft delete table` sends."""
    return (nlmsg(0x10, 1, seq, 0, NFNL_SUBSYS_NFTABLES) +
            nlmsg((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, 1 | 4, seq + 1,
                  1, 0, attr(1, b"portwarden\0")) +
            nlmsg(0x11, 1, seq + 2, 0, NFNL_SUBSYS_NFTABLES))


def newgen_pids(data):
    """pids named by the NEWGEN messages of one datagram."""
    out, off = [], 0
    while off + 16 <= len(data):
        ln, mtype = struct.unpack_from("=IH", data, off)
        if ln < 16 or off + ln > len(data):
            break
        if mtype == (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN:
            a = off + 20
            while a + 4 <= off + ln:
                alen, atype = struct.unpack_from("=HH", data, a)
                if alen < 4:
                    break
                if atype == NFTA_GEN_PROC_PID:
                    out.append(struct.unpack_from(">I", data, a + 4)[0])
                a += (alen + 3) & ~3
        off += (ln + 3) & ~3
    return out


ev = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
ev.bind((0, 1 << 6))
ev.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
tx = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)
tx.bind((0, 0))
tx.settimeout(5)
ev.settimeout(5)

lat = []
seq = 1000
for i in range(N):
    seq += 3
    t0 = time.monotonic()
    tx.send(delete_batch(seq))
    while True:
        data = ev.recv(1 << 16)
        if d.pid in newgen_pids(data):
            t1 = time.monotonic()
            break
    tx.recv(1 << 16)  # the ack of the DELTABLE
    lat.append((t1 - t0) * 1000)
    time.sleep(0.02)

took = [float(x) for x in re.findall(r" repaired .*took_ms=([0-9.]+)",
                                     open(os.path.join(WORK, "events")).read())]
print(f"repairs: {len(lat)}")
print(f"foreign change sent -> restored table's generation received: p50 {pct(lat, 50):.2f} ms, "
      f"p99 {pct(lat, 99):.2f} ms, max {max(lat):.2f} ms")
print(f"daemon took_ms (generation message -> repair acked): p50 {pct(took, 50):.2f} ms, "
      f"p99 {pct(took, 99):.2f} ms")

c0 = cpu(d.pid)
time.sleep(SECONDS)
c1 = cpu(d.pid)
print(f"daemon CPU idle: {(c1 - c0) * 1000:.2f} ms over {SECONDS:.0f} s "
      f"({(c1 - c0) / SECONDS * 100:.4f} %)")


def churn_once():
    subprocess.run(["nft", "-f", "-"], input=b"table inet churn {\n"
                   b" chain c { type filter hook output priority 10; counter; }\n"
                   b" set s { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2 } }\n}\n",
                   check=True)
    subprocess.run(["nft", "delete", "table", "inet", "churn"], check=True)


c0 = cpu(d.pid)
end = time.monotonic() + SECONDS
rounds = 0
while time.monotonic() < end:
    t = time.monotonic()
    churn_once()
    rounds += 1
    time.sleep(max(0, 0.1 - (time.monotonic() - t)))
c1 = cpu(d.pid)
print(f"daemon CPU while another table churns 10x/s ({rounds} rounds, "
      f"{2 * rounds} transactions): {(c1 - c0) * 1000:.2f} ms over {SECONDS:.0f} s "
      f"({(c1 - c0) / SECONDS * 100:.4f} %)")

d.send_signal(signal.SIGTERM)
d.wait(timeout=10)
events.close()
text = open(os.path.join(WORK, "events")).read()
m = re.search(r" repair-stats .*", text)
print("daemon counters at exit:", m.group(0).strip() if m else "missing")
reads = int(re.search(r"table_reads=(\d+)", text).group(1))
print(f"reads of its own table: {reads} (one per repair: {len(lat)}; "
      f"none for the {2 * rounds} transactions of the other table)")
