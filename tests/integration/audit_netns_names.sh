#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `audit --all-netns` names every namespace by something that outlives the
# audit: its /run/netns path when it has one, else /proc/PID/ns/net of a
# process in it other than portwarden itself, else its id net:[INODE] —
# never a path that vanishes when portwarden exits. Root, in the private
# namespace tests/run.sh made.
. "$(dirname "$0")/../lib.sh"
need_root_netns

W=$(mktemp -d /run/pwnsn.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; ip netns del pwnsblue 2>/dev/null; rm -rf "$W"' EXIT
umask 022
# a listeners entry nobody serves: a missing-listener finding in
# portwarden's own namespace, labelled with that namespace's name
printf 'portwarden: 1\ntable: pw_nsn\nlisteners:\n  - { proto: tcp, port: 4999 }\n' > "$W/p.yaml"

listen() { # PORT: a listener in the current namespace, in the background
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); time.sleep(60)' "$1" &
	pids+=($!)
}
ip netns add pwnsblue
ip netns exec pwnsblue ip link set lo up
ip netns exec pwnsblue python3 -c 'import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 4001)); s.listen(1); time.sleep(60)' &
pids+=($!)
listen 4002
for _ in $(seq 50); do
	ss -tln | grep -q ':4002 ' && ip netns exec pwnsblue ss -tln | grep -q ':4001 ' && break
	sleep 0.1
done

labels() { # FILE PORT-or-kind: the netns labels of matching findings
	python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
key = sys.argv[2]
print(" ".join(sorted({f["netns"] for f in d["findings"]
                       if f["kind"] == key or (f["local"] or "").endswith(":" + key)})))
PY
}

"$PORTWARDEN" audit --all-netns --format json "$W/p.yaml" > "$W/a.json" 2>/dev/null
check_eq "a named namespace is named by its /run/netns path" "/run/netns/pwnsblue" "$(labels "$W/a.json" 4001)"
own=$(labels "$W/a.json" 4002)
if [[ "$own" =~ ^/proc/([0-9]+)/ns/net$ ]] && [ -e "$own" ] &&
   [ "$(stat -L -c %i "$own")" = "$(stat -L -c %i /proc/self/ns/net)" ]; then
	ok "the own namespace is named by a process in it that is still there ($own)"
else not_ok "the own namespace is named by a process in it that is still there" "[$own]"; fi
check_eq "missing-listener in the same namespace, same name" "$own" "$(labels "$W/a.json" missing-listener)"

# a namespace where portwarden is the only process: never its own pid
unshare -n "$PORTWARDEN" audit --all-netns --format json "$W/p.yaml" > "$W/b.json" 2>/dev/null
lone=$(labels "$W/b.json" missing-listener)
if [[ "$lone" =~ ^net:\[[0-9]+\]$ ]]; then ok "a namespace of portwarden alone is named by its id ($lone)"
else not_ok "a namespace of portwarden alone is named by its id" "[$lone] $(head -c 300 "$W/b.json")"; fi

# the same namespace bound under /run/netns is named by that name
touch /run/netns/pwnsself && mount --bind /proc/self/ns/net /run/netns/pwnsself
"$PORTWARDEN" audit --all-netns --format json "$W/p.yaml" > "$W/c.json" 2>/dev/null
check_eq "the own namespace, once named, by its /run/netns path" "/run/netns/pwnsself" "$(labels "$W/c.json" 4002)"
umount /run/netns/pwnsself; rm -f /run/netns/pwnsself
exit 0
