#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Network probes for portwarden's packet tests (no third-party modules).

  probe.py serve ADDRS PORTS     TCP and UDP listeners on every ADDR x PORT
                                 (comma lists). TCP sends "pw\\n" and closes;
                                 UDP echoes. Prints "ready" once bound.
  probe.py run [-t SECONDS]      probes read from stdin, all run at once:
                                 "ID tcp|udp DST PORT [SRC [SPORT]]"; prints
                                 "ID OUTCOME" per probe, in input order.
  probe.py blast [-w SECONDS]    one SYN or one datagram per stdin line
                                 "tcp|udp SRC SPORT DST DPORT", or one echo
                                 request "icmp|icmpv6 SRC ID DST 0"; no
                                 waiting for answers (an observer counts
                                 arrivals); after -w seconds prints
                                 "SPORT ERRNO" (SO_ERROR) per TCP/UDP line.
  probe.py ping ADDR [-t S]      one ICMP/ICMPv6 echo; prints an OUTCOME.

OUTCOME: open (TCP banner or UDP echo received), refused (TCP RST or ICMP
port unreachable: ECONNREFUSED), unreach (other ICMP error), eperm (the
local output hook dropped it: EPERM), timeout (nothing came back).
"""
import errno
import os
import selectors
import socket
import struct
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def outcome_of_errno(e):
    if e == errno.ECONNREFUSED:
        return "refused"
    if e in (errno.EPERM, errno.EACCES):
        return "eperm"
    if e in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN,
             errno.EPROTO, errno.ENOPROTOOPT):
        return "unreach"
    if e == errno.ETIMEDOUT:
        return "timeout"
    return "error:" + errno.errorcode.get(e, str(e))


def serve(addrs, ports):
    sel = selectors.DefaultSelector()
    for a in addrs.split(","):
        for p in ports.split(","):
            fam = family_of(a)
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                s = socket.socket(fam, kind)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((a, int(p)))
                if kind == socket.SOCK_STREAM:
                    s.listen(128)
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, kind)
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            try:
                if key.data == socket.SOCK_STREAM:
                    c, _ = s.accept()
                    try:
                        c.sendall(b"pw\n")
                    finally:
                        c.close()
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                pass


class Probe:
    def __init__(self, line):
        f = line.split()
        self.id, self.proto, self.dst, self.dport = f[0], f[1], f[2], int(f[3])
        self.src = f[4] if len(f) > 4 and f[4] != "-" else None
        self.sport = int(f[5]) if len(f) > 5 else 0
        self.result = None
        self.sock = None

    def start(self, sel):
        fam = family_of(self.dst)
        kind = socket.SOCK_STREAM if self.proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, kind)
        self.sock = s
        s.setblocking(False)
        try:
            if self.src or self.sport:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((self.src or ("::" if fam == socket.AF_INET6
                                     else "0.0.0.0"), self.sport))
            if kind == socket.SOCK_STREAM:
                e = s.connect_ex((self.dst, self.dport))
                if e not in (0, errno.EINPROGRESS):
                    self.result = outcome_of_errno(e)
                    return
                self.state = "connecting"
                sel.register(s, selectors.EVENT_WRITE, self)
            else:
                s.connect((self.dst, self.dport))
                self.state = "waiting"
                try:
                    s.send(("probe " + self.id).encode())
                except PermissionError:
                    # dropped by the local output hook; a reject there
                    # also queues ICMP port unreachable on the socket
                    self.state = "eperm"
                sel.register(s, selectors.EVENT_READ, self)
        except OSError as ex:
            self.result = outcome_of_errno(ex.errno)

    def event(self, sel):
        s = self.sock
        if self.state == "connecting":
            e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                self.result = outcome_of_errno(e)
                sel.unregister(s)
                return
            self.state = "waiting"
            sel.modify(s, selectors.EVENT_READ, self)
            return
        try:
            data = s.recv(2048)
            self.result = "open" if data else "closed"
        except BlockingIOError:
            return
        except OSError as ex:
            self.result = outcome_of_errno(ex.errno)
        sel.unregister(s)


def run(timeout):
    probes = [Probe(l) for l in sys.stdin if l.strip()]
    sel = selectors.DefaultSelector()
    for p in probes:
        p.start(sel)
    deadline = time.monotonic() + timeout
    while any(p.result is None for p in probes):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            key.data.event(sel)
    for p in probes:
        if p.result is None:
            state = getattr(p, "state", "")
            if state == "eperm":
                p.result = "eperm"
            elif state == "waiting" and p.proto == "tcp":
                p.result = "connected-silent"
            else:
                p.result = "timeout"
        print(p.id, p.result)
        if p.sock:
            p.sock.close()


def blast(wait):
    socks = []
    for line in sys.stdin:
        f = line.split()
        if not f:
            continue
        proto, src, sport, dst, dport = f[0], f[1], int(f[2]), f[3], int(f[4])
        fam = family_of(dst)
        if proto in ("icmp", "icmpv6"):	# echo request, SPORT is its id
            try:
                echo(src, dst, sport)
            except OSError:
                pass
            continue
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, kind)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setblocking(False)
        try:
            s.bind((src, sport))
            if kind == socket.SOCK_STREAM:
                s.connect_ex((dst, dport))
            else:
                s.connect((dst, dport))
                s.send(b"x")
        except OSError:
            pass
        socks.append((sport, s))
        if len(socks) >= 400:	# stay far from the fd limit
            blast_close(socks, wait)
            socks = []
    blast_close(socks, wait)


def blast_close(socks, wait):
    """After WAIT, print "SPORT ERRNO" of each socket's pending error
    (ECONNREFUSED when a reset or port unreachable came back), close."""
    time.sleep(wait)
    for sport, s in socks:
        print(sport, s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
        s.close()


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def echo_socket(fam):
    if fam == socket.AF_INET6:
        return socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMPV6), 128
    return socket.socket(fam, socket.SOCK_RAW, socket.IPPROTO_ICMP), 8


def echo_request(fam, req, ident, payload):
    hdr = struct.pack("!BBHHH", req, 0, 0, ident, 1)
    if fam == socket.AF_INET:	# the kernel sums ICMPv6 itself
        hdr = struct.pack("!BBHHH", req, 0, checksum(hdr + payload), ident, 1)
    return hdr + payload


def echo(src, dst, ident):
    """One echo request from SRC with identifier IDENT; no waiting."""
    fam = family_of(dst)
    s, req = echo_socket(fam)
    with s:
        s.bind((src, 0))
        s.sendto(echo_request(fam, req, ident, b"pw"), (dst, 0))


def ping(addr, timeout):
    fam = family_of(addr)
    ident = os.getpid() & 0xffff
    s, req = echo_socket(fam)
    want = 129 if fam == socket.AF_INET6 else 0
    try:
        s.sendto(echo_request(fam, req, ident, b"portwarden-ping"), (addr, 0))
    except OSError as ex:
        return outcome_of_errno(ex.errno)
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return "timeout"
        s.settimeout(left)
        try:
            data, _ = s.recvfrom(4096)
        except socket.timeout:
            return "timeout"
        except OSError as ex:
            return outcome_of_errno(ex.errno)
        if fam == socket.AF_INET:
            data = data[(data[0] & 0x0f) * 4:]
        if len(data) >= 8:
            t, _, _, i, _ = struct.unpack("!BBHHH", data[:8])
            if t == want and i == ident:
                return "open"


def main():
    a = sys.argv[1:]
    t = 1.0
    if "-t" in a:
        i = a.index("-t")
        t = float(a[i + 1])
        del a[i:i + 2]
    w = 0.3
    if "-w" in a:
        i = a.index("-w")
        w = float(a[i + 1])
        del a[i:i + 2]
    if not a:
        sys.exit(__doc__)
    if a[0] == "serve":
        serve(a[1], a[2])
    elif a[0] == "run":
        run(t)
    elif a[0] == "blast":
        blast(w)
    elif a[0] == "ping":
        print(ping(a[1], t))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
