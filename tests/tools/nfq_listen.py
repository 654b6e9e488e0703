#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A minimal NFQUEUE listener for portwarden's tests (no third-party modules).

  nfq_listen.py QUEUE [-n COUNT] [-t SECONDS]

Binds netfilter queue QUEUE over nfnetlink, prints "ready" once bound,
then for each queued packet prints "queued SRC SPORT LEN" and accepts it
(NF_ACCEPT), until COUNT packets (default: no limit) or SECONDS (default
30) have passed. Speaks the nfnetlink_queue protocol itself, as
`portwarden daemon` does.
"""
import os
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS = 1, 2
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NFQA_PACKET_HDR, NFQA_PAYLOAD = 1, 10
NFQA_VERDICT_HDR = 2
NF_ACCEPT = 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def attr(t, data):
    ln = 4 + len(data)
    return struct.pack("=HH", ln, t) + data + b"\0" * ((4 - ln % 4) % 4)


def msg(mtype, queue, payload, seq, flags=NLM_F_REQUEST | NLM_F_ACK):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + payload
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | mtype,
                       flags, seq, 0) + body


def attrs(buf):
    out, off = {}, 0
    while off + 4 <= len(buf):
        ln, t = struct.unpack_from("=HH", buf, off)
        if ln < 4 or off + ln > len(buf):
            break
        out[t & 0x7fff] = buf[off + 4:off + ln]
        off += (ln + 3) & ~3
    return out


def expect_ack(s):
    data = s.recv(65536)
    ln, t = struct.unpack_from("=IH", data, 0)
    if t == NLMSG_ERROR:
        err = struct.unpack_from("=i", data, 16)[0]
        if err:
            raise OSError(-err, os.strerror(-err))


def main():
    queue = int(sys.argv[1])
    count, seconds = None, 30.0
    args = sys.argv[2:]
    while args:
        if args[0] == "-n":
            count = int(args[1])
        elif args[0] == "-t":
            seconds = float(args[1])
        args = args[2:]
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    s.send(msg(NFQNL_MSG_CONFIG, queue,
               attr(NFQA_CFG_CMD, struct.pack("=BBH", NFQNL_CFG_CMD_BIND, 0, 0)), 1))
    expect_ack(s)
    s.send(msg(NFQNL_MSG_CONFIG, queue,
               attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0xffff, NFQNL_COPY_PACKET)), 2))
    expect_ack(s)
    print("ready", flush=True)
    seen, end, seq = 0, time.monotonic() + seconds, 3
    while (count is None or seen < count) and time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        data = s.recv(65536)
        off = 0
        while off + 16 <= len(data):
            ln, t = struct.unpack_from("=IH", data, off)
            if ln < 16:
                break
            if t == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                a = attrs(data[off + 20:off + ln])
                pid = struct.unpack("!I", a[NFQA_PACKET_HDR][:4])[0]
                pkt = a.get(NFQA_PAYLOAD, b"")
                src, sport = "?", 0
                if pkt and pkt[0] >> 4 == 4:
                    hl = (pkt[0] & 15) * 4
                    src = socket.inet_ntop(socket.AF_INET, pkt[12:16])
                    sport = struct.unpack_from("!H", pkt, hl)[0]
                elif pkt and pkt[0] >> 4 == 6:
                    src = socket.inet_ntop(socket.AF_INET6, pkt[8:24])
                    sport = struct.unpack_from("!H", pkt, 40)[0]
                print("queued %s %d %d" % (src, sport, len(pkt)), flush=True)
                s.send(msg(NFQNL_MSG_VERDICT, queue,
                           attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, pid)),
                           seq, NLM_F_REQUEST))
                seq += 1
                seen += 1
            off += (ln + 3) & ~3


if __name__ == "__main__":
    main()
