#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `portwarden explain`: verdicts, deciding rules, exit codes, JSON shape,
# on the example policies (no privileges needed).
set -u
cd "$(dirname "$0")/.."
PORTWARDEN=${PORTWARDEN:-$PWD/${BUILD:-build}/portwarden}
. tests/lib.sh
# --policy-only: the policy's own verdicts, whatever tables this host has
# (tests/integration/explain_host.sh runs the host-wide answer)
pw() { "$PORTWARDEN" "$@" --policy-only 2>/dev/null; }
HO=policies/https-only.yaml WS=policies/webserver.yaml

line_of() { # FILE NAME: line of "- name: NAME"
	grep -n -- "- name: $2\$" "$1" | cut -d: -f1
}

check_eq "explain https accepted" \
	"out tcp 93.184.216.34:443 -> accept (rule \"https\", $HO:$(line_of $HO https))" \
	"$(pw explain $HO out tcp 93.184.216.34:443)"
check_rc "explain accept exits 0" 0 "$PORTWARDEN" explain $HO out tcp 93.184.216.34:443
check_eq "explain default reject" "out tcp 93.184.216.34:80 -> reject (default outbound policy, policies/https-only.yaml:8)" \
	"$(pw explain $HO out tcp 93.184.216.34:80)"
check_rc "explain reject exits 1" 1 "$PORTWARDEN" explain $HO out tcp 93.184.216.34:80
check_eq "explain first match: reject before https" \
	"out tcp 169.254.169.254:443 -> reject (rule \"no-metadata\", $HO:$(line_of $HO no-metadata))" \
	"$(pw explain $HO out tcp 169.254.169.254:443)"
check_eq "explain loopback built-in" "out tcp 127.0.0.1:5432 -> accept (built-in \"loopback\")" \
	"$(pw explain $HO out tcp 127.0.0.1:5432)"
check_eq "explain ::1 is loopback too" "in udp [::1]:9 -> accept (built-in \"loopback\")" \
	"$(pw explain $HO in udp '[::1]:9')"
check_eq "explain icmpv6 essential" "out icmpv6 2001:db8::1 -> accept (built-in \"icmp\")" \
	"$(pw explain $HO out icmpv6 2001:db8::1)"
# ICMP type 0 (echo-reply) is a type like any other, not "no type"; an
# echo request is type 8 in ICMP and 128 in ICMPv6, and only it has a reply
icmp_view() { # ARGS...: verdict, rule and the reply's verdict
	pw explain $HO "$@" --format json | python3 -c 'import json,sys
j = json.load(sys.stdin); r = j.get("reply") or {}
print(j["verdict"], j.get("rule"), r.get("verdict"))' 2>&1
}
check_eq "explain icmp type 0 is echo-reply (essential)" "accept icmp None" \
	"$(icmp_view in icmp 10.0.0.1:0)"
check_eq "explain icmp echo request has a reply" "accept icmp accept" \
	"$(icmp_view in icmp 10.0.0.1:8)"
check_eq "explain icmpv6 type 8 is no echo request" "drop default None" \
	"$(icmp_view in icmpv6 '[2001:db8::1]:8')"
check_eq "explain icmpv6 echo request has a reply" "accept icmp accept" \
	"$(icmp_view in icmpv6 '[2001:db8::1]:128')"
json=$(pw explain $HO out udp 10.0.0.2:53 --format json)
check_eq "explain dns to a resolver, json" \
	"out udp 10.0.0.2:53 None accept dns $HO:$(line_of $HO dns) inet portwarden output | reply accept established input | path output 0 accept dns" \
	"$(python3 -c 'import json,sys
j = json.loads(sys.argv[1]); r = j["reply"]; p = j["path"][0]
print(j["direction"], j["proto"], j["to"], j["from"], j["verdict"], j["rule"], j["at"], j["table"], j["chain"], "|",
      "reply", r["verdict"], r["rule"], r["chain"], "|", "path", p["hook"], p["priority"], p["verdict"], p["rule"])' "$json" 2>&1)"
check_eq "explain dns elsewhere rejected" "out udp 10.9.9.9:53 -> reject (default outbound policy, policies/https-only.yaml:8)" \
	"$(pw explain $HO out udp 10.9.9.9:53)"
check_eq "explain ipv6 source in mgmt set" \
	"in tcp [2001:db8::1]:22 from [2001:db8:100::5]:5555 -> accept (rule \"ssh-from-mgmt\", $WS:$(line_of $WS ssh-from-mgmt))" \
	"$(pw explain $WS in tcp '[2001:db8::1]:22' --from '[2001:db8:100::5]:5555')"
check_eq "explain not_from excludes" "in tcp 192.0.2.1:22 from 10.20.66.1 -> drop (default inbound policy, policies/webserver.yaml:7)" \
	"$(pw explain $WS in tcp 192.0.2.1:22 --from 10.20.66.1)"
check_eq "explain unknown source matches no from rule" "in tcp 192.0.2.1:22 -> drop (default inbound policy, policies/webserver.yaml:7)" \
	"$(pw explain $WS in tcp 192.0.2.1:22)"
check_eq "explain port set" "in tcp 192.0.2.1:80 from 198.51.100.7:40000 -> accept (rule \"web\", $WS:$(line_of $WS web))" \
	"$(pw explain $WS in tcp 192.0.2.1:80 --from 198.51.100.7:40000)"
check_eq "explain options before arguments" "in udp 192.0.2.1:443 -> accept (rule \"http3\", $WS:$(line_of $WS http3))" \
	"$(pw explain --format text $WS in udp 192.0.2.1:443)"
check_eq "explain folded rule names the first match" \
	"out tcp 198.51.100.3:8003 -> accept (rule \"api3\", tests/golden/fold.yaml:$(line_of tests/golden/fold.yaml api3))" \
	"$(pw explain tests/golden/fold.yaml out tcp 198.51.100.3:8003)"
check_eq "explain folded rule, no match" "out tcp 198.51.100.3:8004 -> drop (default outbound policy, tests/golden/fold.yaml:6)" \
	"$(pw explain tests/golden/fold.yaml out tcp 198.51.100.3:8004)"
check_eq "explain user by number" \
	"out tcp 192.0.2.10:873 -> accept (rule \"backup\", tests/golden/owner.yaml:$(line_of tests/golden/owner.yaml backup))" \
	"$(pw explain tests/golden/owner.yaml out tcp 192.0.2.10:873 --user 34)"
check_eq "explain user by name" \
	"out tcp 192.0.2.10:873 -> accept (rule \"root-anything\", tests/golden/owner.yaml:$(line_of tests/golden/owner.yaml root-anything))" \
	"$(pw explain tests/golden/owner.yaml out tcp 192.0.2.10:873 --user root)"
check_eq "explain no user matches no user rule" "out tcp 192.0.2.10:873 -> drop (default outbound policy, tests/golden/owner.yaml:6)" \
	"$(pw explain tests/golden/owner.yaml out tcp 192.0.2.10:873)"
check_rc "explain bad direction" 2 "$PORTWARDEN" explain $HO sideways tcp 1.2.3.4
check_rc "explain bad proto" 2 "$PORTWARDEN" explain $HO out sctpx 1.2.3.4
check_rc "explain bad address" 2 "$PORTWARDEN" explain $HO out tcp 1.2.3.400:80
check_rc "explain bad port" 2 "$PORTWARDEN" explain $HO out tcp 1.2.3.4:70000
check_rc "explain family mismatch" 2 "$PORTWARDEN" explain $HO out tcp 1.2.3.4:80 --from ::1
check_rc "explain unknown user" 2 "$PORTWARDEN" explain $HO out tcp 1.2.3.4:80 --user no-such-user-pw
check_rc "explain icmp to an IPv6 address" 2 "$PORTWARDEN" explain $HO out icmp 2001:db8::1
check_eq "explain icmp type as port" "out icmp 192.0.2.1:13 -> reject (default outbound policy, policies/https-only.yaml:8)" \
	"$(pw explain $HO out icmp 192.0.2.1:13)"
check_eq "explain icmp echo by default" "out icmp 192.0.2.1 -> accept (built-in \"icmp\")" \
	"$(pw explain $HO out icmp 192.0.2.1)"
check_rc "explain too few arguments" 2 "$PORTWARDEN" explain out tcp
exit 0
