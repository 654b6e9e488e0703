#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the seed corpus of fuzz/fuzz_nflog.c: NFULNL_MSG_PACKET messages
as the kernel builds them (net/netfilter/nfnetlink_log.c), one per file.

  python3 fuzz/nflog_seeds.py fuzz/corpus-nflog
"""
import os
import struct
import sys

NFULA_PACKET_HDR, NFULA_TIMESTAMP = 1, 3
NFULA_IFINDEX_INDEV, NFULA_IFINDEX_OUTDEV = 4, 5
NFULA_PAYLOAD, NFULA_PREFIX, NFULA_UID, NFULA_SEQ, NFULA_GID = 9, 10, 11, 12, 14


def attr(t, v):
    n = 4 + len(v)
    return struct.pack("=HH", n, t) + v + b"\0" * ((4 - n % 4) % 4)


def msg(attrs, family=2):
    body = struct.pack("=BB", family, 0) + struct.pack(">H", 1000)
    body += b"".join(attrs)
    n = 16 + len(body)
    return struct.pack("=IHHII", n, (4 << 8) | 0, 0, 0, 0) + body


def ipv4(proto, l4):
    tot = 20 + len(l4)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, tot, 1, 0x4000, 64, proto, 0,
                       bytes([10, 77, 0, 1]), bytes([10, 77, 0, 2])) + l4


def ipv6(nh, l4, ext=b""):
    return struct.pack(">IHBB16s16s", 6 << 28, len(ext) + len(l4), nh, 64,
                       bytes.fromhex("fd77" + "00" * 13 + "01"),
                       bytes.fromhex("fd77" + "00" * 13 + "02")) + ext + l4


def common(prefix, payload, hook=3, seq=7):
    return [attr(NFULA_PACKET_HDR, struct.pack(">HBB", 0x0800, hook, 0)),
            attr(NFULA_PREFIX, prefix + b"\0"),
            attr(NFULA_TIMESTAMP, struct.pack(">QQ", 1764470000, 123456)),
            attr(NFULA_IFINDEX_OUTDEV, struct.pack(">I", 2)),
            attr(NFULA_UID, struct.pack(">I", 65534)),
            attr(NFULA_GID, struct.pack(">I", 65534)),
            attr(NFULA_SEQ, struct.pack(">I", seq)),
            attr(NFULA_PAYLOAD, payload)]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tcp = struct.pack(">HHIIBBHHH", 40000, 8080, 1, 0, 0x50, 2, 64240, 0, 0)
    udp = struct.pack(">HHHH", 40001, 5353, 9, 0) + b"x"
    seeds = {
        "tcp4": msg(common(b"pw1 D out drop no-web /etc/portwarden/p.yaml:14",
                           ipv4(6, tcp))),
        "udp4": msg(common(b"pw1 D in drop default -", ipv4(17, udp), hook=1)),
        "icmp4": msg(common(b"pw1 L in accept ping p.yaml:3",
                            ipv4(1, b"\x08\x00\x00\x00\x00\x01\x00\x01"))),
        "tcp6-frag": msg(common(b"pw1 S out accept web p.yaml:9 drop",
                                ipv6(44, tcp, b"\x06\x00\x00\x00\x00\x00\x00\x01")),
                         family=10),
        "udp6-hbh": msg(common(b"pw1 D out reject x%20y p.yaml:2",
                               ipv6(0, udp, b"\x11\x00" + b"\x01\x04" + b"\0" * 4)),
                        family=10),
        "noprefix": msg([attr(NFULA_PACKET_HDR, struct.pack(">HBB", 0x86dd, 1, 0)),
                         attr(NFULA_PAYLOAD, b"\x60")]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
