#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Regenerates audit-basic.nlmsg, the sock_diag recording the unit test
# (tests/unit/test_audit.c) replays. Run as root from the top directory:
#   BUILD=build tests/data/make-audit-basic.sh
# It works in a throwaway network namespace only. Sockets recorded:
#   tcp 0.0.0.0:22 LISTEN, tcp [::]:8080 LISTEN dual-stack,
#   tcp [::]:8443 LISTEN v6only, tcp 127.0.0.1:6379 LISTEN,
#   udp 0.0.0.0:5353 and 192.0.2.1:123 bound, unconnected,
#   tcp 192.0.2.2 -> 192.0.2.1:22 (both ends), tcp 192.0.2.2 -> [::]:8080
#   (both ends, v4-mapped on the server side), udp 192.0.2.1 -> 198.51.100.7:53
#   connected, one TIME_WAIT socket (192.0.2.2 -> 192.0.2.1:22, closed).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
pw=${PORTWARDEN:-$top/${BUILD:-build}/portwarden}
out=$top/tests/data/audit-basic.nlmsg
exec unshare -n -- bash -c '
set -eu
ip link set lo up
ip link add d0 type veth peer name d1
ip link set d1 up
ip link set d0 up
ip addr add 192.0.2.1/24 dev d0
ip addr add 192.0.2.2/24 dev d0
ip route add default dev d0
cat > /tmp/pw-rec-pol.yaml <<EOP
portwarden: 1
EOP
timeout 20 python3 - "$1" "$2" <<"EOP"
import socket, subprocess, sys, time
def L(fam, addr, port, v6only=None, typ=socket.SOCK_STREAM):
    s = socket.socket(fam, typ)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    if typ == socket.SOCK_STREAM:
        s.listen(16)
    return s
keep = [L(socket.AF_INET, "0.0.0.0", 22), L(socket.AF_INET6, "::", 8080, 0),
        L(socket.AF_INET6, "::", 8443, 1), L(socket.AF_INET, "127.0.0.1", 6379),
        L(socket.AF_INET, "0.0.0.0", 5353, typ=socket.SOCK_DGRAM),
        L(socket.AF_INET, "192.0.2.1", 123, typ=socket.SOCK_DGRAM)]
def conn(dst, port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.bind(("192.0.2.2", 0))
    c.connect((dst, port))
    return c
c1 = conn("192.0.2.1", 22); a1, _ = keep[0].accept()
c2 = conn("192.0.2.1", 8080); a2, _ = keep[1].accept()
tw = conn("192.0.2.1", 22); atw, _ = keep[0].accept()
tw.close(); time.sleep(0.2); atw.close(); time.sleep(0.2)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("192.0.2.1", 0)); u.connect(("198.51.100.7", 53))
keep += [c1, a1, c2, a2, u]
rc = subprocess.run([sys.argv[1], "audit", "/tmp/pw-rec-pol.yaml", "--record", sys.argv[2], "-q"],
                    stdout=subprocess.DEVNULL).returncode
sys.exit(0 if rc in (0, 1) else rc)
EOP
' bash "$pw" "$out"
