#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Real packets: every match of a rule (ports, ranges, service names, sets,
# from/to, not_from/not_to, user/group, sport, family), first-match order,
# and a directory of policies, over TCP and UDP, IPv4 and IPv6, both ways.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
if ! cgroup_setup; then
	not_ok "environment" "no cgroup v2 hierarchy to test cgroup rules"
	exit 1
fi
serve here "$HERE4,10.77.0.11,$HERE6,fd77::11" 22,7000,7001,7002,7003,8080,8081,8082,8083,8084,8085,8086,8443,9100,9101,9102,9103
serve peer "10.77.0.2,10.77.0.3,10.77.0.4,fd77::2,fd77::3,fd77::4" 443,8080,8081,8082,8083,8084,8085,8086,8087,8088

# ---- inbound matches (clients in the peer; SRC picks the peer address)
policy in.yaml <<'Y'
portwarden: 1
table: portwarden
defaults: { inbound: drop, outbound: accept }
sets:
  peers: [10.77.0.2, "fd77::2", 10.77.0.4]
  apps: [8443, 9100-9102]
inbound:
  - { name: ssh, proto: tcp, port: ssh }
  - { name: range, proto: udp, port: "7000-7002" }
  - { name: setports, port: $apps, from: $peers }
  - { name: notfrom, proto: tcp, port: 8080, from: 10.77.0.0/24, not_from: [10.77.0.3] }
  - { name: v6only, port: 8081, family: ipv6 }
  - { name: sport, proto: udp, port: 8082, sport: "40000-40099" }
  - { name: first-reject, proto: tcp, port: 8083, from: 10.77.0.3, action: reject }
  - { name: first-accept, proto: tcp, port: 8083 }
  - { name: to-only, proto: tcp, port: 8084, to: 10.77.0.11 }
  - { name: on-veth, proto: tcp, port: 8085, interface: veth0 }
  - { name: on-other, proto: tcp, port: 8086, interface: eth9 }
Y
pw_apply "apply inbound match policy" "$WORK/in.yaml" &&
expect_probes 0.7 <<T
in-service-tcp4      peer root tcp 10.77.0.1 22 open
in-service-tcp6      peer root tcp fd77::1   22 open
in-service-not-udp   peer root udp 10.77.0.1 22 drop
in-range-lo          peer root udp 10.77.0.1 7000 open
in-range-hi6         peer root udp fd77::1   7002 open
in-range-above       peer root udp 10.77.0.1 7003 drop
in-range-not-tcp     peer root tcp 10.77.0.1 7001 drop
in-set-port-tcp4     peer root tcp 10.77.0.1 8443 open 10.77.0.2
in-set-range-udp6    peer root udp fd77::1   9101 open fd77::2
in-set-range-tcp4b   peer root tcp 10.77.0.1 9102 open 10.77.0.4
in-set-src-miss4     peer root tcp 10.77.0.1 9102 drop 10.77.0.3
in-set-src-miss6     peer root tcp fd77::1   8443 drop fd77::3
in-set-port-miss     peer root tcp 10.77.0.1 9103 drop 10.77.0.2
in-notfrom-hit       peer root tcp 10.77.0.1 8080 open 10.77.0.2
in-notfrom-excluded  peer root tcp 10.77.0.1 8080 drop 10.77.0.3
in-notfrom-hit2      peer root tcp 10.77.0.1 8080 open 10.77.0.4
in-from-v4-only      peer root tcp fd77::1   8080 drop fd77::2
in-family6-tcp       peer root tcp fd77::1   8081 open
in-family6-udp       peer root udp fd77::1   8081 open
in-family6-not-v4    peer root tcp 10.77.0.1 8081 drop
in-sport-hit         peer root udp 10.77.0.1 8082 open 10.77.0.2 40050
in-sport-hit6        peer root udp fd77::1   8082 open fd77::2 40099
in-sport-above       peer root udp 10.77.0.1 8082 drop 10.77.0.2 40100
in-sport-below       peer root udp 10.77.0.1 8082 drop 10.77.0.2 39999
in-first-reject      peer root tcp 10.77.0.1 8083 refused 10.77.0.3
in-first-accept      peer root tcp 10.77.0.1 8083 open 10.77.0.2
in-first-accept6     peer root tcp fd77::1   8083 open fd77::3
in-to-hit            peer root tcp 10.77.0.11 8084 open
in-to-miss           peer root tcp 10.77.0.1 8084 drop
in-to-miss6          peer root tcp fd77::11  8084 drop
in-iface-hit         peer root tcp 10.77.0.1 8085 open
in-iface-hit6        peer root tcp fd77::1   8085 open
in-iface-miss        peer root tcp 10.77.0.1 8086 drop
T

# ---- outbound matches (clients here, as root or as nobody)
policy out.yaml <<Y
portwarden: 1
table: portwarden
defaults: { inbound: accept, outbound: drop }
sets:
  dests: [10.77.0.2, "fd77::3"]
outbound:
  - { name: nobody-only, user: nobody, proto: tcp, port: 8080 }
  - { name: group-nogroup, group: nogroup, proto: udp, port: 8080 }
  - { name: uid-number, user: 0, proto: tcp, port: 8081 }
  - { name: https, proto: tcp, port: https }
  - { name: dests, port: 8082, to: \$dests }
  - { name: notto, proto: tcp, port: 8083, to: 10.77.0.0/24, not_to: [10.77.0.3] }
  - { name: sport-out, proto: tcp, port: 8084, sport: "41000-41010" }
  - { name: v4only, proto: udp, port: 8085, family: ipv4 }
  - { name: first-reject, proto: tcp, port: 8086, to: "fd77::2", action: reject }
  - { name: then-all, proto: tcp, port: 8086 }
  - { name: out-veth, proto: udp, port: 8087, interface: veth0 }
  - { name: out-other, proto: udp, port: 8088, interface: eth9 }
  - { name: app-cgroup, cgroup: $CGROUP_NAME/app, proto: tcp, port: 8088 }
Y
pw_apply "apply outbound match policy" "$WORK/out.yaml" &&
expect_probes 0.7 <<T
out-user-hit4        here nobody tcp 10.77.0.2 8080 open
out-user-hit6        here nobody tcp fd77::2   8080 open
out-user-miss        here root   tcp 10.77.0.2 8080 drop
out-group-hit        here nobody udp 10.77.0.3 8080 open
out-group-miss       here root   udp 10.77.0.3 8080 drop
out-uid0-hit         here root   tcp fd77::4   8081 open
out-uid0-miss        here nobody tcp fd77::4   8081 drop
out-service-tcp      here root   tcp 10.77.0.2 443 open
out-service-not-udp  here root   udp 10.77.0.2 443 drop
out-set-hit4         here root   tcp 10.77.0.2 8082 open
out-set-hit6         here root   udp fd77::3   8082 open
out-set-miss4        here root   tcp 10.77.0.3 8082 drop
out-set-miss6        here root   udp fd77::2   8082 drop
out-notto-hit        here root   tcp 10.77.0.2 8083 open
out-notto-excluded   here root   tcp 10.77.0.3 8083 drop
out-notto-hit2       here nobody tcp 10.77.0.4 8083 open
out-sport-hit        here root   tcp 10.77.0.2 8084 open - 41005
out-sport-miss       here root   tcp 10.77.0.2 8084 drop - 41011
out-family4-hit      here root   udp 10.77.0.4 8085 open
out-family4-miss6    here root   udp fd77::4   8085 drop
out-first-reject     here root   tcp fd77::2   8086 refused
out-first-accept6    here root   tcp fd77::3   8086 open
out-first-accept4    here root   tcp 10.77.0.2 8086 open
out-iface-hit        here root   udp fd77::2   8087 open
out-iface-miss       here root   udp 10.77.0.2 8088 drop
out-cgroup-hit4      here cgapp  tcp 10.77.0.2 8088 open
out-cgroup-hit6      here cgapp  tcp fd77::4   8088 open
out-cgroup-miss      here root   tcp 10.77.0.2 8088 drop
out-cgroup-other     here cgapp  tcp 10.77.0.2 8087 drop
T

# ---- a directory of policies, merged in name order, plus one more file
mkdir -p "$WORK/pol.d"
policy pol.d/10-base.yaml <<'Y'
portwarden: 1
table: portwarden
defaults: { inbound: drop }
Y
policy pol.d/20-web.yaml <<'Y'
portwarden: 1
inbound:
  - { name: web, proto: tcp, port: 8080 }
  - { name: block-8083, proto: tcp, port: 8083, action: reject }
Y
policy pol.d/30-udp.yml <<'Y'
portwarden: 1
inbound:
  - { name: udp7000, proto: udp, port: 7000 }
  - { name: allow-8083, proto: tcp, port: 8083 }
Y
printf 'not: [a policy\n' > "$WORK/pol.d/README.txt"
policy extra.yaml <<'Y'
portwarden: 1
inbound:
  - { name: extra, proto: tcp, port: 8084 }
Y
pw_apply "apply a directory and a file" "$WORK/pol.d" "$WORK/extra.yaml" &&
expect_probes 0.7 <<T
dir-first-file       peer root tcp 10.77.0.1 8080 open
dir-later-file       peer root udp fd77::1   7000 open
dir-order-first-wins peer root tcp 10.77.0.1 8083 refused
dir-extra-file       peer root tcp fd77::1   8084 open
dir-default-drop     peer root tcp 10.77.0.1 8081 drop
T
exit 0
