#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""DNS clients and a hostile DNS server for the hostname suites
(tests/integration/hostnames_*.sh, bench/dns_*.sh); no third-party modules.

  dns_tool.py race NAMES_FILE PORT [-6]
        for each name of the file: resolve it (getaddrinfo, the host's
        resolver), then connect to the first address at once; prints
        "failed N of M" and up to 5 "fail NAME ADDR OUTCOME" lines.
  dns_tool.py connect NAME PORT [-6]
        resolve, connect; prints the OUTCOME (nxdomain when it does not
        resolve). Holds nothing.
  dns_tool.py hold NAME PORT SECONDS FIFO
        resolve, connect, print the OUTCOME, then keep the connection for
        up to SECONDS: each line read from FIFO makes it send "x" and wait
        for the peer's echo, printing "alive" or "dead".
  dns_tool.py tcp SERVER NAME PORT
        one query for NAME's A record over TCP to SERVER:53, then connect
        to the first address; prints the OUTCOME (noanswer when none).
  dns_tool.py listen PORT
        TCP listeners on 0.0.0.0 and :: (AnyIP routes make every address
        of a range local): each connection is echoed; prints "ready".
  dns_tool.py hostile ADDR
        a UDP DNS server on ADDR:53 answering every query with a hostile
        message chosen by the first label of the name (see HOSTILE);
        prints "ready".
  dns_tool.py unsolicited SRC DST NAME ADDR
        send, from SRC port 53 to DST port 40053, an answer nobody asked
        for: NAME has the A record ADDR.
  dns_tool.py query SERVER NAME [COUNT]
        COUNT UDP queries for NAME straight to SERVER:53; prints
        "answered N of COUNT" (an answer is any datagram back in 2 s).

OUTCOME: open, eperm (the output hook dropped it), refused, timeout,
nxdomain, error.
"""
import errno
import os
import select
import socket
import struct
import sys
import time

OUTCOMES = {errno.EPERM: "eperm", errno.EACCES: "eperm",
            errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout"}


def resolve(name, family):
    try:
        ai = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
    except socket.gaierror:
        return None
    return ai[0][4][0] if ai else None


def connect(addr, port, timeout=2.0):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((addr, port))
    except socket.timeout:
        s.close()
        return "timeout", None
    except OSError as e:
        s.close()
        return OUTCOMES.get(e.errno, "error"), None
    return "open", s


def cmd_race(args):
    names = [l.strip() for l in open(args[0]) if l.strip()]
    port = int(args[1])
    fam = socket.AF_INET6 if "-6" in args else socket.AF_INET
    fails = []
    for n in names:
        a = resolve(n, fam)
        if a is None:
            fails.append((n, "-", "nxdomain"))
            continue
        out, s = connect(a, port)
        if s:
            s.close()
        if out != "open":
            fails.append((n, a, out))
    print("failed %d of %d" % (len(fails), len(names)))
    for f in fails[:5]:
        print("fail %s %s %s" % f)


def cmd_connect(args):
    fam = socket.AF_INET6 if "-6" in args else socket.AF_INET
    a = resolve(args[0], fam)
    if a is None:
        print("nxdomain")
        return
    out, s = connect(a, int(args[1]))
    if s:
        s.close()
    print(out)


def cmd_hold(args):
    a = resolve(args[0], socket.AF_INET)
    if a is None:
        print("nxdomain", flush=True)
        return
    out, s = connect(a, int(args[1]))
    print(out, flush=True)
    if not s:
        return
    end = time.time() + float(args[2])
    fd = os.open(args[3], os.O_RDONLY | os.O_NONBLOCK)
    buf = b""
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        chunk = os.read(fd, 100)
        if not chunk:
            time.sleep(0.1)
            continue
        buf += chunk
        while b"\n" in buf:
            _, buf = buf.split(b"\n", 1)
            try:
                s.sendall(b"x")
                s.settimeout(2)
                print("alive" if s.recv(1) == b"x" else "dead", flush=True)
            except OSError:
                print("dead", flush=True)


def dns_query(name, qtype=1, qid=0x4242):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


def first_a(msg):
    """The first A record's address of a response (no compression in the
    question assumed; answers may point back to it)."""
    (qd, an) = struct.unpack(">HH", msg[4:8])
    off = 12
    for _ in range(qd):
        while msg[off] != 0:
            off += msg[off] + 1
        off += 5
    for _ in range(an):
        if msg[off] & 0xc0 == 0xc0:
            off += 2
        else:
            while msg[off] != 0:
                off += msg[off] + 1
            off += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntoa(msg[off:off + 4])
        off += rdlen
    return None


def cmd_tcp(args):
    server, name, port = args[0], args[1], int(args[2])
    q = dns_query(name)
    s = socket.create_connection((server, 53), timeout=3)
    s.sendall(struct.pack(">H", len(q)) + q)
    data = b""
    while len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    a = first_a(data[2:]) if len(data) > 14 else None
    if a is None:
        print("noanswer")
        return
    out, c = connect(a, port)
    if c:
        c.close()
    print(out)


def cmd_listen(args):
    port = int(args[0])
    socks = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        s.listen(1024)
        s.setblocking(False)
        socks.append(s)
    print("ready", flush=True)
    conns = []
    while True:
        r, _, _ = select.select(socks + conns, [], [], 1)
        for s in r:
            if s in socks:
                try:
                    c, _ = s.accept()
                    c.setblocking(False)
                    conns.append(c)
                except OSError:
                    pass
                continue
            try:
                d = s.recv(100)
            except OSError:
                d = b""
            if d:
                try:
                    s.send(d)
                except OSError:
                    pass
            else:
                conns.remove(s)
                s.close()
        if len(conns) > 2000:
            for c in conns[:1000]:
                c.close()
            del conns[:1000]


def name_wire(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def hostile_answer(query):
    """A response to QUERY chosen by its first label."""
    qid = query[:2]
    off = 12
    labels = []
    while off < len(query) and query[off] != 0:
        labels.append(query[off + 1:off + 1 + query[off]].decode(errors="replace"))
        off += query[off] + 1
    question = query[12:off + 5]
    kind = labels[0] if labels else ""

    def hdr(an, flags=0x8180, qd=1):
        return qid + struct.pack(">HHHHH", flags, qd, an, 0, 0)

    a_rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([10, 78, 250, 1])
    if kind == "loop":		# an answer whose owner points at itself
        here = 12 + len(question)
        return hdr(1) + question + struct.pack(">H", 0xc000 | here) + \
            struct.pack(">HHIH", 1, 1, 300, 4) + bytes([10, 78, 250, 1])
    if kind == "long":		# a CNAME target of 300 octets
        target = b"".join(bytes([60]) + b"a" * 60 for _ in range(5)) + b"\0"
        return hdr(1) + question + b"\xc0\x0c" + \
            struct.pack(">HHIH", 5, 1, 300, len(target)) + target
    if kind == "rdlen":		# an A record of 16 bytes
        return hdr(1) + question + b"\xc0\x0c" + \
            struct.pack(">HHIH", 1, 1, 300, 16) + bytes(16)
    if kind == "many":		# claims 10,000 answers, carries 30
        return hdr(10000) + question + a_rr * 30
    if kind == "trunc":		# cut in the middle of a record
        return (hdr(1) + question + a_rr)[:-3]
    if kind == "unrelated":	# a well-formed answer for another name
        return hdr(1) + question + name_wire("other.example") + \
            struct.pack(">HHIH", 1, 1, 300, 4) + bytes([10, 78, 250, 2])
    if kind == "query":		# QR clear
        return hdr(1, flags=0x0100) + question + a_rr
    return hdr(1) + question + a_rr


def cmd_hostile(args):
    fam = socket.AF_INET6 if ":" in args[0] else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((args[0], 53))
    print("ready", flush=True)
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 17:
            continue
        s.sendto(hostile_answer(q), peer)


def cmd_unsolicited(args):
    src, dst, name, addr = args[0], args[1], args[2], args[3]
    q = dns_query(name)
    ans = q[:2] + struct.pack(">HHHHH", 0x8180, 1, 1, 0, 0) + q[12:] + \
        b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + socket.inet_aton(addr)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 53))
    for _ in range(3):
        s.sendto(ans, (dst, 40053))
    print("sent")


def cmd_query(args):
    server, name = args[0], args[1]
    count = int(args[2]) if len(args) > 2 else 1
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    got = 0
    for i in range(count):
        s.sendto(dns_query(name, qid=i & 0xffff), (server, 53))
        try:
            s.recv(65535)
            got += 1
        except socket.timeout:
            pass
    print("answered %d of %d" % (got, count))


def main():
    cmds = {"race": cmd_race, "connect": cmd_connect, "hold": cmd_hold,
            "tcp": cmd_tcp, "listen": cmd_listen, "hostile": cmd_hostile,
            "query": cmd_query, "unsolicited": cmd_unsolicited}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
