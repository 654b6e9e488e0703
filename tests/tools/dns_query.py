#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One DNS query for portwarden's tests (no third-party modules).

  dns_query.py SERVER NAME [-t SECONDS] [--tcp]

Sends an A query for NAME to SERVER port 53 (UDP, or TCP with --tcp) and
prints the addresses of the answer's A records, one a line, or "timeout" /
"error: ..." when there is no usable answer.
"""
import random
import socket
import struct
import sys


def query(name):
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return qid, q + b"\0" + struct.pack("!HH", 1, 1)


def skip_name(buf, off):
    while off < len(buf):
        n = buf[off]
        if n == 0:
            return off + 1
        if n & 0xc0 == 0xc0:
            return off + 2
        off += 1 + n
    raise ValueError("truncated name")


def answers(buf, qid):
    rid, flags, qd, an = struct.unpack_from("!HHHH", buf, 0)
    if rid != qid:
        raise ValueError("wrong id")
    off = 12
    for _ in range(qd):
        off = skip_name(buf, off) + 4
    out = []
    for _ in range(an):
        off = skip_name(buf, off)
        t, c, ttl, ln = struct.unpack_from("!HHIH", buf, off)
        off += 10
        if t == 1 and ln == 4:
            out.append(socket.inet_ntop(socket.AF_INET, buf[off:off + 4]))
        off += ln
    return out


def main():
    server, name = sys.argv[1], sys.argv[2]
    timeout, tcp = 3.0, "--tcp" in sys.argv
    if "-t" in sys.argv:
        timeout = float(sys.argv[sys.argv.index("-t") + 1])
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    qid, q = query(name)
    try:
        if tcp:
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.settimeout(timeout)
            s.connect((server, 53))
            s.sendall(struct.pack("!H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(4096)
                if not chunk:
                    break
                buf += chunk
            buf = buf[2:]
        else:
            s = socket.socket(fam, socket.SOCK_DGRAM)
            s.settimeout(timeout)
            s.sendto(q, (server, 53))
            buf, _ = s.recvfrom(4096)
        for a in answers(buf, qid):
            print(a)
    except socket.timeout:
        print("timeout")
    except (OSError, ValueError, struct.error) as e:
        print("error: %s" % e)


if __name__ == "__main__":
    main()
