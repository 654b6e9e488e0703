#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A test-only NFLOG reader: bind nfnetlink_log group GROUP and print one
JSON line per logged packet: {"prefix", "family", "proto", "src", "dst",
"sport", "dport"} (ports null when the protocol has none).

  nflog_read.py GROUP OUTFILE READYFILE

Writes READYFILE once the group is bound, then appends to OUTFILE
(flushed per line) until killed. The kernel is the source of the records;
this only decodes them (nfnetlink_log, as portwarden's `monitor` reads
them), with length checks on every field.
"""
import ipaddress
import json
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_PACKET = 0
NFULNL_MSG_CONFIG = 1
NFULA_CFG_CMD = 1
NFULA_CFG_MODE = 2
NFULA_CFG_QTHRESH = 4
NFULA_CFG_TIMEOUT = 3
NFULNL_CFG_CMD_BIND = 1
NFULNL_COPY_PACKET = 2
NFULA_PAYLOAD = 9
NFULA_PREFIX = 10
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2


def attr(t, data):
    ln = 4 + len(data)
    return struct.pack("=HH", ln, t) + data + b"\0" * ((4 - ln % 4) % 4)


def config(sock, group, payload):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(group)) + payload
    hdr = struct.pack("=IHHII", 16 + len(body),
                      (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    sock.send(hdr + body)
    data = sock.recv(65536)
    if len(data) >= 20:
        ln, typ = struct.unpack_from("=IH", data, 0)
        if typ == NLMSG_ERROR:
            err = struct.unpack_from("=i", data, 16)[0]
            if err:
                raise OSError(-err, "nflog config refused")


def attrs(buf, off, end):
    out = {}
    while off + 4 <= end:
        ln, t = struct.unpack_from("=HH", buf, off)
        if ln < 4 or off + ln > end:
            break
        out[t & 0x7fff] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def decode(family, payload):
    ev = {"proto": None, "src": None, "dst": None, "sport": None, "dport": None}
    l4 = None
    if family == socket.AF_INET and len(payload) >= 20:
        ihl = (payload[0] & 15) * 4
        ev["proto"] = payload[9]
        ev["src"] = str(ipaddress.IPv4Address(payload[12:16]))
        ev["dst"] = str(ipaddress.IPv4Address(payload[16:20]))
        l4 = payload[ihl:] if ihl >= 20 else b""
    elif family == socket.AF_INET6 and len(payload) >= 40:
        ev["proto"] = payload[6]
        ev["src"] = str(ipaddress.IPv6Address(payload[8:24]))
        ev["dst"] = str(ipaddress.IPv6Address(payload[24:40]))
        l4 = payload[40:]
    if l4 is not None and ev["proto"] in (6, 17) and len(l4) >= 4:
        ev["sport"], ev["dport"] = struct.unpack_from("!HH", l4, 0)
    return ev


def main():
    group, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, 0))
    config(sock, group, attr(NFULA_CFG_CMD, struct.pack("B", NFULNL_CFG_CMD_BIND)))
    config(sock, group, attr(NFULA_CFG_MODE,
                             struct.pack("!IBB", 0xffff, NFULNL_COPY_PACKET, 0)))
    # one packet a message, at once (the default batches up to 100 or 1 s)
    config(sock, group, attr(NFULA_CFG_QTHRESH, struct.pack("!I", 1)) +
           attr(NFULA_CFG_TIMEOUT, struct.pack("!I", 1)))
    with open(ready, "w") as f:
        f.write("ready\n")
    with open(out, "a") as f:
        while True:
            try:
                buf = sock.recv(1 << 20)
            except OSError as e:
                f.write(json.dumps({"lost": e.errno}) + "\n")
                f.flush()
                continue
            off = 0
            while off + 16 <= len(buf):
                ln, typ = struct.unpack_from("=IH", buf, off)
                if ln < 16 or off + ln > len(buf):
                    break
                if typ == (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET and ln >= 20:
                    family = buf[off + 16]
                    a = attrs(buf, off + 20, off + ln)
                    ev = {"prefix": a.get(NFULA_PREFIX, b"").rstrip(b"\0")
                          .decode("ascii", "replace"), "family": family}
                    ev.update(decode(family, a.get(NFULA_PAYLOAD, b"")))
                    f.write(json.dumps(ev) + "\n")
                    f.flush()
                off += (ln + 3) & ~3


if __name__ == "__main__":
    main()
