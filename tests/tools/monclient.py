#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A client with a known pid and command name, for the monitor suites.

  monclient.py tcp HOST PORT HOLD   connect (non-blocking), keep the socket
                                    HOLD seconds, close
  monclient.py udp HOST PORT N      N datagrams from one unconnected socket

The command name is set with prctl(PR_SET_NAME) from $PW_COMM (default
"pwclient"; it may hold control characters). Prints "pid PID" first, then
"done" when the socket is closed.
"""
import ctypes
import os
import socket
import sys
import time


def main():
    comm = os.environ.get("PW_COMM", "pwclient").encode()[:15]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(15, ctypes.c_char_p(comm), 0, 0, 0) != 0:
        print("prctl failed", file=sys.stderr)
        return 1
    print("pid %d" % os.getpid(), flush=True)
    what, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    if what == "tcp":
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except (BlockingIOError, OSError):
            pass
        time.sleep(float(sys.argv[4]))
        s.close()
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        for _ in range(int(sys.argv[4])):
            try:
                s.sendto(b"x", (host, port))
            except OSError:
                pass
        # keep the socket until the monitor had a chance to look it up
        time.sleep(float(os.environ.get("PW_HOLD", "0.5")))
        s.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
