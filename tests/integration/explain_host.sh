#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# explain, audit and check answer for the whole host and for connections
# (SPEC §5), each case checked against real connections over the veth:
# a $set used in several roles, other tables (ip and inet) that drop,
# replies dropped with established: false, the host's own address on lo,
# IPv4-mapped addresses, interfaces, and the options' usage errors.
. "$(dirname "$0")/../lib.sh"
. "$TESTS_DIR/netlib.sh"
net_setup
serve here "$HERE4,10.77.0.11,$HERE6" 22,443,5000,8080
serve peer "10.77.0.2,10.77.0.3,fd77::2,fd77::3" 22,443,5000,8080

pwx() { "$PORTWARDEN" explain "$@" 2>/dev/null; }
verdict_of() { # explain args...: the verdict word
	pwx "$@" --format json | $PY -c 'import json,sys; print(json.load(sys.stdin)["verdict"])'
}
json_field() { # FIELD explain args...
	local f=$1; shift
	pwx "$@" --format json | $PY -c 'import json,sys; j = json.load(sys.stdin); print(eval(sys.argv[1]))' "$f"
}

# ---- a $set used as from, to and in both directions (issue: the set
# carried saddr/daddr, not the lookup)
policy sets.yaml <<'Y'
portwarden: 1
defaults: { inbound: accept, outbound: drop }
sets:
  peers: [10.77.0.2, "fd77::3"]
inbound:
  - { name: no-5000, port: 5000, from: $peers, action: reject }
outbound:
  - { name: udp-443, proto: udp, port: 443, to: $peers }
  - { name: tcp-to-not-peers, proto: tcp, port: 443, not_to: $peers }
Y
pw_apply "apply the reused-set policy" "$WORK/sets.yaml"
check_eq "set reused: out udp to a peer is accepted" accept \
	"$(verdict_of "$WORK/sets.yaml" out udp 10.77.0.2:443 --from 10.77.0.1:40001)"
check_eq "set reused: out udp to fd77::3 is accepted" accept \
	"$(verdict_of "$WORK/sets.yaml" out udp '[fd77::3]:443' --from '[fd77::1]:40002')"
check_eq "set reused as not_to: tcp to a peer is not accepted" drop \
	"$(verdict_of "$WORK/sets.yaml" out tcp 10.77.0.2:443 --from 10.77.0.1:40003)"
check_eq "set reused as not_to: tcp elsewhere is accepted" accept \
	"$(verdict_of "$WORK/sets.yaml" out tcp 10.77.0.3:443 --from 10.77.0.1:40004)"
check_eq "set reused as from: inbound 5000 from a peer is rejected" reject \
	"$(verdict_of "$WORK/sets.yaml" in tcp 10.77.0.1:5000 --from 10.77.0.2:40005)"
expect_probes 0.8 <<T
set-udp-443-peer     here root udp 10.77.0.2 443  open   10.77.0.1 40001
set-udp-443-peer6    here root udp fd77::3   443  open   fd77::1   40002
set-tcp-443-peer     here root tcp 10.77.0.2 443  drop   10.77.0.1 40003
set-tcp-443-other    here root tcp 10.77.0.3 443  open   10.77.0.1 40004
set-in-5000-peer     peer root tcp 10.77.0.1 5000 refused 10.77.0.2 40005
T

# ---- other tables: a Docker-style ip filter INPUT, an inet output drop
policy open.yaml <<'Y'
portwarden: 1
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: ssh, proto: tcp, port: 22 }
  - { name: web, proto: tcp, port: 8080 }
listeners:
  - { proto: tcp, port: 22 }
Y
pw_apply "apply the open policy" "$WORK/open.yaml"
nft -f - <<'N'
table ip filter {
	chain INPUT {
		type filter hook input priority filter; policy accept;
		tcp dport 22 counter drop
	}
}
table inet other {
	chain out {
		type filter hook output priority 10; policy accept;
		ip daddr 10.77.0.3 tcp dport 443 drop
	}
}
N
check_eq "ip filter drops ssh: explain says drop" drop \
	"$(verdict_of "$WORK/open.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40010)"
check_eq "ip filter drops ssh: explain names the table" "ip filter INPUT" \
	"$(json_field 'j["table"] + " " + j["chain"]' "$WORK/open.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40010)"
check_eq "ip filter drops ssh: the path shows both tables" \
	"inet portwarden:accept ip filter:drop" \
	"$(json_field '" ".join(s["table"] + ":" + s["verdict"] for s in j["path"])' "$WORK/open.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40010)"
check_eq "--policy-only leaves the other tables out" accept \
	"$(verdict_of "$WORK/open.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40010 --policy-only)"
check_eq "inet table drops out 10.77.0.3:443" drop \
	"$(verdict_of "$WORK/open.yaml" out tcp 10.77.0.3:443 --from 10.77.0.1:40011)"
check_eq "inet table: 10.77.0.2:443 still accepted" accept \
	"$(verdict_of "$WORK/open.yaml" out tcp 10.77.0.2:443 --from 10.77.0.1:40012)"
expect_probes 0.8 <<T
other-ssh-in         peer root tcp 10.77.0.1 22   drop 10.77.0.2 40010
other-web-in         peer root tcp 10.77.0.1 8080 open 10.77.0.2 40013
other-out-443-3      here root tcp 10.77.0.3 443  drop 10.77.0.1 40011
other-out-443-2      here root tcp 10.77.0.2 443  open 10.77.0.1 40012
T
out=$("$PORTWARDEN" audit "$WORK/open.yaml" 2>&1)
check "audit: port 22 is filtered by the other table" \
	grep -Eq '^tcp +(0\.0\.0\.0|10\.77\.0\.1):22 +filtered' <<<"$out"
check "audit: port 8080 stays open" \
	grep -Eq '^tcp +(0\.0\.0\.0|10\.77\.0\.1):8080 +open' <<<"$out"
check "audit: IPv6 port 22 is open (the ip table sees IPv4 only)" \
	grep -Eq '^tcp +\[fd77::1\]:22 +open' <<<"$out"
check "audit: so the listeners entry is reachable: no filtered-listener" \
	bash -c '! grep -q filtered-listener <<<"$1"' _ "$out"
nft delete table ip filter
nft delete table inet other

# ---- connections, not first packets: established off
policy noest.yaml <<'Y'
portwarden: 1
defaults: { inbound: drop, outbound: drop }
established: false
inbound:
  - { name: ssh, proto: tcp, port: 22 }
Y
pw_apply "apply established: false" "$WORK/noest.yaml" --force
check_eq "established off: the ssh connection cannot complete" drop \
	"$(verdict_of "$WORK/noest.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40020)"
check_eq "established off: the first packet itself is accepted" "accept ssh" \
	"$(json_field 'j["first"]["verdict"] + " " + j["first"]["rule"]' "$WORK/noest.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40020)"
check_eq "established off: the reply is what fails" "drop output" \
	"$(json_field 'j["reply"]["verdict"] + " " + j["reply"]["chain"]' "$WORK/noest.yaml" in tcp 10.77.0.1:22 --from 10.77.0.2:40020)"
check "established off: check warns about the replies" \
	grep -q "warning: connections rule 'ssh' accepts cannot complete" \
	<<<"$("$PORTWARDEN" check "$WORK/noest.yaml" 2>&1)"
expect_probes 0.8 <<T
noest-ssh            peer root tcp 10.77.0.1 22 timeout 10.77.0.2 40020
T

# ---- addresses: the host's own address travels on lo; v4-mapped
policy own.yaml <<'Y'
portwarden: 1
defaults: { inbound: drop, outbound: drop }
inbound:
  - { name: web-from-peer, proto: tcp, port: 8080, from: 10.77.0.2 }
Y
pw_apply "apply the own-address policy" "$WORK/own.yaml"
check_eq "own address: loopback rule accepts it" "accept loopback" \
	"$(json_field 'j["verdict"] + " " + str(j["rule"])' "$WORK/own.yaml" out tcp 10.77.0.11:8080 --from 10.77.0.1:40030)"
check_eq "v4-mapped: ::ffff:10.77.0.2 is 10.77.0.2" \
	"$(verdict_of "$WORK/own.yaml" in tcp 10.77.0.1:8080 --from 10.77.0.2:40031)" \
	"$(verdict_of "$WORK/own.yaml" in tcp '[::ffff:10.77.0.1]:8080' --from '[::ffff:10.77.0.2]:40031')"
expect_probes 0.8 <<T
own-address-lo       here root tcp 10.77.0.11 8080 open 10.77.0.1 40030
own-web-from-peer    peer root tcp 10.77.0.1  8080 open 10.77.0.2 40031
T

# ---- options
policy iface.yaml <<'Y'
portwarden: 1
defaults: { inbound: drop, outbound: accept }
inbound:
  - { name: web-on-veth, proto: tcp, port: [8080, 8090], interface: veth0 }
Y
pw_apply "apply the interface policy" "$WORK/iface.yaml"
check_eq "--interface veth0 matches the interface rule" accept \
	"$(verdict_of "$WORK/iface.yaml" in tcp 10.77.0.1:8080 --from 10.77.0.2:40040 --interface veth0)"
check_eq "--interface eth9 does not" drop \
	"$(verdict_of "$WORK/iface.yaml" in tcp 10.77.0.1:8080 --from 10.77.0.2:40040 --interface eth9)"
check_eq "no --interface: the one holding the address (veth0)" accept \
	"$(verdict_of "$WORK/iface.yaml" in tcp 10.77.0.1:8080 --from 10.77.0.2:40040)"
expect_probes 0.8 <<T
iface-web            peer root tcp 10.77.0.1 8080 open 10.77.0.2 40040
T
check_rc "--from :PORT (a source port, any address)" 1 \
	"$PORTWARDEN" explain "$WORK/iface.yaml" in tcp 10.77.0.1:22 --from :40000
check_rc "an unbracketed IPv6 address with a port is a usage error" 2 \
	"$PORTWARDEN" explain "$WORK/iface.yaml" out tcp fd00::2:443
check_rc "a second --from is a usage error" 2 \
	"$PORTWARDEN" explain "$WORK/iface.yaml" in tcp 10.77.0.1:22 --from 10.0.0.1 --from 10.0.0.2
check_rc "--sport and a port in --from is a usage error" 2 \
	"$PORTWARDEN" explain "$WORK/iface.yaml" in tcp 10.77.0.1:22 --from 10.0.0.1:5 --sport 6

# ---- audit: an interface rule admits the live connection
timeout 10 $PY -c '
import socket, time
l = socket.create_server(("10.77.0.1", 8090))
c, _ = l.accept()
time.sleep(5)' &
server=$!
sleep 0.3
timeout 10 ip netns exec peer $PY -c '
import socket, time
s = socket.create_connection(("10.77.0.1", 8090), timeout=3)
time.sleep(4)' &
client=$!
sleep 1
out=$("$PORTWARDEN" audit "$WORK/iface.yaml" --format json 2>/dev/null)
check "audit: the connection was live while audited" \
	bash -c 'ss -Htn state established | grep -q "10.77.0.1:8090 "'
check_eq "audit: the connection the interface rule admits is not disallowed" "" \
	"$($PY -c 'import json,sys; j = json.loads(sys.argv[1]); print(" ".join(f["kind"] for f in j["findings"] if f["kind"] == "disallowed-connection"))' "$out")"
wait "$client" "$server"
[ "$T_FAILED" -eq 0 ]
