#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Stand in for systemd's notification socket: bind an AF_UNIX datagram
socket at PATH (or an abstract name written "@name") and print every
datagram received as one line, "MONOTONIC_SECONDS STATE", flushed at once,
until killed. Usage: notify_listen.py PATH"""
import socket
import sys
import time


def main():
    path = sys.argv[1]
    addr = "\0" + path[1:] if path.startswith("@") else path
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(addr)
    print("listening", flush=True)
    while True:
        data = s.recv(4096)
        text = data.decode("utf-8", "backslashreplace").replace("\n", " ")
        print(f"{time.monotonic():.6f} {text}", flush=True)


if __name__ == "__main__":
    main()
