#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Documentation and integration files: the man pages render without
# warnings and cover every command and option the binary has, the systemd
# units pass `systemd-analyze verify`, the bash completion completes, and
# the policies shown in portwarden.yaml(5) are valid. No privileges.
. "$(dirname "$0")/lib.sh"
. "$TESTS_DIR/ansiblelib.sh"
cd "$TOP" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- man pages ---------------------------------------------------------
if ! command -v man >/dev/null; then
	not_ok "man pages" "man is missing (Debian package man-db)"
	exit 1
fi
for page in doc/portwarden.8 doc/portwarden.yaml.5; do
	w=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$w" ]; then ok "$page renders without warnings"
	else not_ok "$page renders without warnings" "exit $rc: $(echo "$w" | head -3)"; fi
done
MANWIDTH=200 man -l doc/portwarden.8 2>/dev/null > "$tmp/man8.txt"

# The commands and options the binary really has, from its --help and
# from the option parser in src/main.c.
commands=$(sed -n 's/^[[:space:]]*{ "\([a-z]*\)", [a-z_]*_main,.*/\1/p' src/main.c)
"$PORTWARDEN" --help > "$tmp/help.txt" 2>&1
helped=$(sed -n '/^commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p' "$tmp/help.txt")
if [ "$(echo "$commands" | wc -w)" -ge 10 ] && [ "$(echo $commands)" = "$(echo $helped)" ]; then
	ok "portwarden --help lists the commands of the command table"
else
	not_ok "portwarden --help lists the commands of the command table" \
		"table: $(echo $commands); --help: $(echo $helped)"
fi
options=$(grep -o '"--[a-z-]*"' src/main.c | tr -d '"' | sort -u | grep -vx -- '--')

missing=""
for c in $commands; do
	grep -Eq "^ {7}$c( |$)" "$tmp/man8.txt" || missing="$missing $c"
done
check_eq "portwarden(8) documents every command" "" "$missing"
missing=""
for o in $options; do
	grep -q -- "$o" "$tmp/man8.txt" || missing="$missing $o"
done
check_eq "portwarden(8) documents every option" "" "$missing"
missing=""
for code in 0 1 2 3 4; do
	sed -n '/^EXIT STATUS/,/^FILES/p' "$tmp/man8.txt" | grep -Eq "^ {7}$code( |$)" ||
		missing="$missing $code"
done
check_eq "portwarden(8) documents every exit code" "" "$missing"

# Every policy example in portwarden.yaml(5) is a valid policy.
awk '/^\.EX/{n++; f=sprintf("'"$tmp"'/ex%02d.yaml", n); on=1; next}
     /^\.EE/{on=0; next} on {print > f}' doc/portwarden.yaml.5
n=0 bad=""
for f in "$tmp"/ex*.yaml; do
	grep -q '^portwarden: 1' "$f" || continue
	n=$((n + 1))
	# \- is roff for a plain hyphen
	sed -i 's/\\-/-/g' "$f"
	chmod 0600 "$f"
	# The long example names a user; any existing account will do.
	sed -i "s/user: backup/user: $(id -un)/" "$f"
	"$PORTWARDEN" check "$f" > "$tmp/check.out" 2>&1 ||
		bad="$bad $(basename "$f"): $(head -2 "$tmp/check.out" | tr '\n' ' ')"
done
if [ "$n" -ge 3 ] && [ -z "$bad" ]; then ok "the $n policies in portwarden.yaml(5) pass check"
else not_ok "the policies in portwarden.yaml(5) pass check" "$n examples;$bad"; fi

# The README's policy example is valid too.
awk '/^```yaml/{on=1; n++; next} /^```/{on=0} on && n == 1' README.md > "$tmp/readme.yaml"
chmod 0600 "$tmp/readme.yaml"
sed -i "s/user: backup/user: $(id -un)/" "$tmp/readme.yaml"
if grep -q '^portwarden: 1' "$tmp/readme.yaml" &&
   "$PORTWARDEN" check "$tmp/readme.yaml" > "$tmp/check.out" 2>&1; then
	ok "the README's policy passes check"
else
	not_ok "the README's policy passes check" "$(head -3 "$tmp/check.out" | tr '\n' ' ')"
fi

# Every test the README's comparison cites as proof exists.
missing=""
for t in $(grep -o '`tests/[^`]*`' README.md | tr -d '`' | sort -u); do
	[ -e "$t" ] || missing="$missing $t"
done
check_eq "every test the README cites exists" "" "$missing"

# --- systemd units -----------------------------------------------------
if ! command -v systemd-analyze >/dev/null; then
	not_ok "systemd-analyze verify" "systemd-analyze is missing (contrib/install-deps.sh)"
else
	# verify checks that ExecStart= exists and that Documentation=man:
	# pages resolve, so point it at this build and at these man pages.
	mkdir -p "$tmp/units" "$tmp/man/man8" "$tmp/man/man5"
	cp doc/portwarden.8 "$tmp/man/man8/"
	cp doc/portwarden.yaml.5 "$tmp/man/man5/"
	for u in contrib/systemd/*; do
		sed "s|/usr/local/sbin/portwarden|$PORTWARDEN|g" "$u" > "$tmp/units/${u##*/}"
	done
	out=$(cd "$tmp/units" && MANPATH="$tmp/man:" systemd-analyze verify ./*.service ./*.timer 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify is clean"
	else not_ok "systemd-analyze verify is clean" "exit $rc: $(echo "$out" | head -3)"; fi
fi
svc=contrib/systemd/portwarden.service
for want in 'Type=oneshot' 'RemainAfterExit=yes' 'Before=network-pre.target' \
	    'Wants=network-pre.target' 'ExecStart=/usr/local/sbin/portwarden apply /etc/portwarden' \
	    'ExecReload=/usr/local/sbin/portwarden apply /etc/portwarden'; do
	grep -q "^$want" "$svc" || grep -q "^${want%%=*}=.*${want#*=}" "$svc" ||
		not_ok "portwarden.service has $want"
done
grep -q '^ExecStop=' "$svc" && not_ok "portwarden.service keeps the rules on stop" "has ExecStop="
aud=contrib/systemd/portwarden-audit.service
if grep -q '^SuccessExitStatus=1' "$aud" &&
   grep -q '^ExecStart=.*audit.*--format prometheus' "$aud" &&
   grep -q '^ExecStartPost=/bin/mv -f .*portwarden.prom.tmp .*portwarden.prom$' "$aud" &&
   ! grep -q '^StandardOutput=truncate:' "$aud"; then
	ok "the audit unit writes its textfile by rename, findings are no failure"
else
	not_ok "the audit unit writes its textfile by rename, findings are no failure"
fi

# The audit unit's Exec lines, run in order the way systemd runs them
# (every one with stdout appended to the StandardOutput= file), against a
# recorded sock_diag dump and a scratch textfile directory. Twice: the
# second report must replace the first, not follow it.
mkdir -p "$tmp/textfile" "$tmp/etc"
cp policies/audit-baseline.yaml "$tmp/etc/"
chmod 0700 "$tmp/etc"; chmod 0600 "$tmp/etc/audit-baseline.yaml"
sed -e "s|/var/lib/prometheus/node-exporter|$tmp/textfile|g" \
    -e "s|/etc/portwarden|$tmp/etc|g" \
    -e "s|/usr/local/sbin/portwarden|$PORTWARDEN|g" \
    -e "s|^ExecStart=.* audit .*|& --replay $TOP/tests/data/audit-basic.nlmsg|" \
    "$aud" > "$tmp/audit.service"
stdout=$(sed -n 's/^StandardOutput=append://p' "$tmp/audit.service")
success=" 0 $(sed -n 's/^SuccessExitStatus=//p' "$tmp/audit.service") "
run_unit() {
	local key line rc
	for key in ExecStartPre ExecStart ExecStartPost; do
		while IFS= read -r line; do
			# shellcheck disable=SC2086
			${line#-} >> "$stdout" 2>/dev/null
			rc=$?
			# "-": systemd ignores the command's failure
			[[ $success == *" $rc "* || $line == -* ]] ||
				{ echo "$key exit $rc"; return 1; }
		done < <(sed -n "s/^$key=//p" "$tmp/audit.service")
	done
}
echo "stale" > "$stdout"
r1=$(run_unit) && r2=$(run_unit)
prom=$tmp/textfile/portwarden.prom
if [ -n "$stdout" ] && [ -z "$r1$r2" ] && [ -f "$prom" ] && [ ! -e "$stdout" ] &&
   [ "$(grep -c '^portwarden_compliant 0$' "$prom")" = 1 ] && ! grep -q stale "$prom"; then
	ok "the audit unit's commands leave exactly one fresh report in place"
else
	not_ok "the audit unit's commands leave exactly one fresh report in place" \
		"$r1 $r2; $(ls "$tmp/textfile" | tr '\n' ' ')"
fi

# --- Ansible module ------------------------------------------------------
if ! command -v ansible-doc >/dev/null; then
	not_ok "ansible module documentation" "ansible-core is missing (contrib/install-deps.sh)"
else
	export ANSIBLE_LOCAL_TEMP="$tmp/ansible"
	collection_install "$tmp/galaxy" > /dev/null 2>&1
	out=$(ansible-doc portwarden.portwarden.portwarden 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ] && ! grep -q 'ERROR\|WARNING' <<<"$out"; then
		ok "ansible-doc reads the module's documentation"
	else
		not_ok "ansible-doc reads the module's documentation" "exit $rc: $(head -3 <<<"$out")"
	fi
	# The documented options are the ones the module accepts, and the
	# examples and return values are valid YAML.
	out=$(python3 - contrib/ansible/plugins/modules/portwarden.py <<'EOF' 2>&1
import ast, sys, yaml
tree = ast.parse(open(sys.argv[1]).read())
doc = {n.targets[0].id: n.value.value for n in tree.body
       if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)}
documented = set(yaml.safe_load(doc["DOCUMENTATION"])["options"])
yaml.safe_load(doc["EXAMPLES"]); yaml.safe_load(doc["RETURN"])
spec = set()
for n in ast.walk(tree):
    if isinstance(n, ast.keyword) and n.arg == "argument_spec":
        spec = {k.arg for k in n.value.keywords}
if documented != spec:
    print("documented %s, accepted %s" % (sorted(documented), sorted(spec)))
EOF
)
	check_eq "the module documents exactly the options it accepts" "" "$out"
	out=$(ansible-playbook --syntax-check -i localhost, contrib/ansible/playbook.yml 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "the example playbook passes ansible-playbook --syntax-check"
	else not_ok "the example playbook passes ansible-playbook --syntax-check" "$(head -3 <<<"$out")"; fi
fi

# --- bash completion ---------------------------------------------------
mkdir -p "$tmp/pol/conf.d"
: > "$tmp/pol/a.yaml"; : > "$tmp/pol/b.yml"; : > "$tmp/pol/notes.txt"
complete_words() { # words...: the completions for the last word
	(cd "$tmp/pol" && bash -c '
		source "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_portwarden 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		"$TOP/contrib/bash-completion/portwarden" "$@")
}
if bash -c 'source "$0" && complete -p portwarden' contrib/bash-completion/portwarden >/dev/null 2>&1; then
	ok "bash completion loads and registers portwarden"
else
	not_ok "bash completion loads and registers portwarden"
fi
check_eq "completes every command" "$(echo $commands | tr ' ' '\n' | sort | tr '\n' ' ')" \
	"$(complete_words portwarden '')"
check_eq "completes a command prefix" "apply audit " "$(complete_words portwarden a)"
check_eq "audit --format offers junit and prometheus" "json junit prometheus text " \
	"$(complete_words portwarden audit --format '')"
check_eq "status --format offers prometheus" "json prometheus text " \
	"$(complete_words portwarden status --format '')"
check_eq "apply --format offers text and json" "json text " \
	"$(complete_words portwarden apply --format '')"
check_eq "policy arguments are yaml files and directories" "a.yaml b.yml conf.d " \
	"$(complete_words portwarden check '')"
check_eq "explain offers in|out after a policy" "a.yaml b.yml conf.d in out " \
	"$(complete_words portwarden explain a.yaml '')"
check_eq "explain offers protocols after in|out" "icmp icmpv6 tcp udp " \
	"$(complete_words portwarden explain a.yaml out '')"
got=$(complete_words portwarden apply --)
case $got in *--dry-run*--confirm*|*--confirm*--dry-run*) ok "apply options complete";;
*) not_ok "apply options complete" "got [$got]";; esac
missing=""
for o in $options; do
	grep -q -- "$o" contrib/bash-completion/portwarden || missing="$missing $o"
done
check_eq "the completion knows every option" "" "$missing"
# Per command: the options its --help names are in its synopsis line of
# portwarden(8) and among its completions.
syn_missing="" comp_missing=""
for c in $commands; do
	syn=$(grep -E "^ {7}portwarden $c( |$)" "$tmp/man8.txt" | head -1)
	comp=$(complete_words portwarden "$c" --)
	for o in $("$PORTWARDEN" "$c" --help 2>/dev/null | head -1 | grep -o -- '--[a-z-]*'); do
		grep -q -- "$o" <<<"$syn" || syn_missing="$syn_missing $c:$o"
		[[ " $comp" == *" $o "* ]] || comp_missing="$comp_missing $c:$o"
	done
done
check_eq "each command's synopsis in portwarden(8) has its options" "" "$syn_missing"
check_eq "each command completes its options" "" "$comp_missing"
# With the bash-completion package loaded, policies go through its _filedir.
bc=/usr/share/bash-completion/bash_completion
if [ -f "$bc" ]; then
	got=$(cd "$tmp/pol" && bash -c '
		source "$0"; source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}; COMPREPLY=()
		_portwarden portwarden "" "${COMP_WORDS[-2]}" 2>/dev/null
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' \
		"$bc" "$TOP/contrib/bash-completion/portwarden" portwarden explain a.yaml '')
	check_eq "with bash-completion: policies, directories and in|out" \
		"a.yaml b.yml conf.d in out " "$got"
fi
exit 0
