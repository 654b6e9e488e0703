#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Long-lived traffic for tests/integration/learn_ns.sh (no third-party
modules): connections that stay established long enough for `portwarden
learn`'s snapshots to see them.

  learn_traffic.py serve ADDRS PORTS   TCP listeners that send "pw\\n" and
                                       then hold the connection until the
                                       client closes it, and UDP echo, on
                                       every ADDR x PORT (comma lists);
                                       prints "ready" once bound (probe.py
                                       run reads their banner as "open")
  learn_traffic.py hold SECONDS PROTO ADDR:PORT...
                                       connect to each (TCP, or a connected
                                       UDP socket that sends one datagram),
                                       hold them SECONDS, close; prints
                                       "held N failed M"
"""
import selectors
import socket
import sys
import time


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def split_ap(s):
    if s.startswith("["):
        a, p = s[1:].split("]:")
    else:
        a, p = s.rsplit(":", 1)
    return a, int(p)


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
                    s.listen(512)
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, ("listen", kind))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            what, kind = key.data
            try:
                if what == "conn":
                    if not s.recv(4096):
                        sel.unregister(s)
                        s.close()
                elif kind == socket.SOCK_STREAM:
                    c, _ = s.accept()
                    c.sendall(b"pw\n")
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, ("conn", kind))
                else:
                    data, peer = s.recvfrom(2048)
                    s.sendto(data, peer)
            except OSError:
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()


def hold(seconds, proto, targets):
    socks, failed = [], 0
    for t in targets:
        a, p = split_ap(t)
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(family_of(a), kind)
        s.settimeout(2)
        try:
            s.connect((a, p))
            if proto == "udp":
                s.send(b"hello")
            socks.append(s)
        except OSError:
            failed += 1
            s.close()
    time.sleep(seconds)
    for s in socks:
        s.close()
    print("held %d failed %d" % (len(socks), failed), flush=True)


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "hold":
        hold(float(sys.argv[2]), sys.argv[3], sys.argv[4:])
    else:
        sys.exit("usage: learn_traffic.py serve ADDRS PORTS | hold SECONDS PROTO ADDR:PORT...")


if __name__ == "__main__":
    main()
