#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A synthetic DNS server and load clients for bench/dns_learn.sh.

  dns_bench.py serve ADDR K
        UDP DNS server on ADDR:53: "nI.bench.test" gets K A records,
        10.0.0.0/8 addresses numbered I*K .. I*K+K-1, TTL 3600. Prints
        "ready".
  dns_bench.py rate SERVER PORT RATE SECONDS FIRST
        queries for fresh names nFIRST.. at RATE a second for SECONDS;
        prints "sent N answered M p50 X p99 Y max Z" (round trips, ms).
  dns_bench.py blast SERVER PORT N FIRST WINDOW
        N queries for nFIRST..nFIRST+N-1 as fast as answers come back,
        at most WINDOW in flight; prints "answered M seconds S".
"""
import socket
import struct
import sys
import time


def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)


def serve(addr, k):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, 53))
    print("ready", flush=True)
    while True:
        q, peer = s.recvfrom(512)
        off = 12
        labels = []
        while off < len(q) and q[off]:
            labels.append(q[off + 1:off + 1 + q[off]])
            off += q[off] + 1
        question = q[12:off + 5]
        try:
            i = int(labels[0][1:])
        except (ValueError, IndexError):
            i = 0
        out = q[:2] + struct.pack(">HHHHH", 0x8180, 1, k, 0, 0) + question
        for j in range(k):
            n = (i * k + j) % (1 << 24)
            out += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 3600, 4) + \
                bytes([10, n >> 16, (n >> 8) & 255, n & 255])
        s.sendto(out, peer)


def pct(v, p):
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(len(v) * p))]


def rate(server, port, r, seconds, first):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect((server, port))
    sent = {}
    rtts = []
    n = int(r * seconds)
    t0 = time.perf_counter()
    i = 0
    deadline = t0 + seconds + 2
    while time.perf_counter() < deadline and (i < n or len(rtts) < i):
        now = time.perf_counter()
        while i < n and now >= t0 + i / r:
            qid = i & 0xffff
            s.send(query("n%d.bench.test" % (first + i), qid))
            sent[qid] = now
            i += 1
        try:
            while True:
                d = s.recv(4096)
                qid = struct.unpack(">H", d[:2])[0]
                t = sent.pop(qid, None)
                if t is not None:
                    rtts.append((time.perf_counter() - t) * 1000)
        except BlockingIOError:
            pass
        time.sleep(0.0001)
    rtts.sort()
    print("sent %d answered %d p50 %.3f p99 %.3f max %.3f" %
          (i, len(rtts), pct(rtts, 0.5), pct(rtts, 0.99), rtts[-1] if rtts else 0))


def blast(server, port, n, first, window):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, port))
    s.settimeout(2)
    t0 = time.perf_counter()
    i = got = 0
    inflight = 0
    while got < n:
        while i < n and inflight < window:
            s.send(query("n%d.bench.test" % (first + i), i & 0xffff))
            i += 1
            inflight += 1
        try:
            s.recv(65535)
            got += 1
            inflight -= 1
        except socket.timeout:
            break
    print("answered %d seconds %.3f" % (got, time.perf_counter() - t0))


def main():
    a = sys.argv[1:]
    if a and a[0] == "serve":
        serve(a[1], int(a[2]))
    elif a and a[0] == "rate":
        rate(a[1], int(a[2]), float(a[3]), float(a[4]), int(a[5]))
    elif a and a[0] == "blast":
        blast(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
