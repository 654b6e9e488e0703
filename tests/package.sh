#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: dpkg-buildpackage builds it from a copy of the tree
# in a scratch directory (it writes the .deb to ../), lintian finds
# nothing, `dpkg -x` unpacks it into a throwaway root where every file is
# where it should be, no unit is enabled or started by the maintainer
# scripts, and the unpacked binary reports the version of VERSION and
# accepts the example policies it ships. No privileges.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in dpkg-buildpackage dh lintian fakeroot; do
	if ! command -v "$tool" >/dev/null; then
		not_ok "package tools" "$tool is missing (contrib/install-deps.sh installs it)"
		exit 1
	fi
done

version=$(cat VERSION)
check_eq "debian/changelog's version is VERSION" "$version" \
	"$(dpkg-parsechangelog -S Version)"
# The source tree as git would see it, with uncommitted changes, without
# build directories.
mkdir "$tmp/src"
git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$tmp/src" 2>"$tmp/cp.log"
check "the tree copies to a scratch directory" test -x "$tmp/src/debian/rules"

# dpkg-buildpackage -b: the binary package only (no source package).
(cd "$tmp/src" && timeout 300 dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1
rc=$?
deb=$tmp/portwarden_${version}_amd64.deb
if [ "$rc" -eq 0 ] && [ -f "$deb" ]; then
	ok "dpkg-buildpackage -us -uc -b builds portwarden_${version}_amd64.deb"
else
	not_ok "dpkg-buildpackage -us -uc -b builds portwarden_${version}_amd64.deb" \
		"exit $rc: $(tail -5 "$tmp/build.log")"
	exit 1
fi
changes=$tmp/portwarden_${version}_amd64.changes

# Every lintian tag of severity warning or error fails; overrides live
# in debian/portwarden.lintian-overrides with the reason beside each.
lintian --fail-on error,warning --no-tag-display-limit "$changes" > "$tmp/lintian.log" 2>&1
rc=$?
tags=$(grep -E '^[EW]: ' "$tmp/lintian.log")
if [ "$rc" -eq 0 ] && [ -z "$tags" ]; then
	ok "lintian: no errors, no warnings"
else
	not_ok "lintian: no errors, no warnings" "exit $rc: $(head -5 "$tmp/lintian.log")"
fi

# The control fields.
field() { dpkg-deb -f "$deb" "$1"; }
check_eq "Version is VERSION" "$version" "$(field Version)"
depends=$(field Depends)
missing=""
for lib in libc6 libyaml-0-2 libnftnl11 libmnl0; do
	[[ "$depends" == *"$lib "* || "$depends" == *"$lib," || "$depends" == *"$lib" ]] ||
		missing="$missing $lib"
done
check_eq "Depends (from shlibs) names libc, libyaml, libnftnl, libmnl" "" "$missing"

# The files, unpacked into a throwaway root.
root=$tmp/root
dpkg -x "$deb" "$root"
missing=""
for f in usr/sbin/portwarden usr/share/man/man8/portwarden.8.gz \
	 usr/share/man/man5/portwarden.yaml.5.gz \
	 usr/share/bash-completion/completions/portwarden \
	 lib/systemd/system/portwarden.service \
	 lib/systemd/system/portwarden-audit.service \
	 lib/systemd/system/portwarden-audit.timer \
	 usr/share/doc/portwarden/copyright \
	 usr/share/portwarden/portwarden.schema.json; do
	[ -f "$root/$f" ] || missing="$missing $f"
done
for u in contrib/systemd/*.service contrib/systemd/*.timer; do
	[ -f "$root/lib/systemd/system/${u##*/}" ] || missing="$missing ${u##*/}"
done
n=0
for p in policies/*.yaml; do
	n=$((n + 1))
	cmp -s "$p" "$root/usr/share/doc/portwarden/examples/${p##*/}" ||
		missing="$missing examples/${p##*/}"
done
[ "$n" -gt 0 ] || missing="$missing policies/*.yaml"
check_eq "binary, man pages, completion, units, examples, copyright" "" "$missing"
if [ -d "$root/etc/portwarden" ] && [ -z "$(ls -A "$root/etc/portwarden")" ]; then
	ok "an empty /etc/portwarden"
else
	not_ok "an empty /etc/portwarden"
fi
links=$(find "$root/etc" "$root/lib/systemd" -name '*.wants' -o -type l 2>/dev/null)
check_eq "no enable symlinks in the package" "" "$links"
stat=$(stat -c '%a' "$root/usr/sbin/portwarden")
check_eq "the binary is 0755" "755" "$stat"
units=$(grep -h '^Exec[A-Za-z]*=.*portwarden ' "$root"/lib/systemd/system/portwarden*.service |
	sed 's/^[A-Za-z]*=[-@:+!]*//; s/ .*//' | sort -u)
check_eq "the units run /usr/sbin/portwarden" "/usr/sbin/portwarden" "$units"
footers=$(zcat "$root"/usr/share/man/man*/portwarden*.gz | sed -n 's/^\.TH .*"portwarden \([^"]*\)".*/\1/p' | sort -u)
check_eq "the man pages' footers name VERSION" "$version" "$footers"
if zcat "$root/usr/share/man/man8/portwarden.8.gz" | grep -q '/usr/share/doc/portwarden/examples'; then
	ok "portwarden(8) names the installed examples"
else
	not_ok "portwarden(8) names the installed examples"
fi

# The maintainer scripts: nothing is enabled, started or restarted. The
# one "enable" dh_installsystemd --no-enable leaves is the upgrade path
# that restores the administrator's own choice ("was-enabled").
mkdir "$tmp/control"
dpkg-deb -e "$deb" "$tmp/control"
bad=$(cat "$tmp"/control/{preinst,postinst,prerm,postrm} 2>/dev/null | awk '
	/deb-systemd-helper (enable|reenable)/ && prev !~ /was-enabled/ { print; next }
	/deb-systemd-invoke|systemctl( --[a-z]+)* (enable|start|restart|try-restart|reload)|invoke-rc\.d|portwarden (apply|flush|rollback)/ { print }
	NF && $1 !~ /^#/ { prev = $0 }')
check_eq "the maintainer scripts enable and start nothing" "" "$bad"

# The unpacked binary runs from the throwaway root.
v=$("$root/usr/sbin/portwarden" --version 2>&1)
check_eq "the installed binary's --version is VERSION" "portwarden $version" "$v"
# Each example is a policy of its own (merged, they would disagree).
bad=""
for p in "$root"/usr/share/doc/portwarden/examples/*.yaml; do
	"$root/usr/sbin/portwarden" check "$p" > "$tmp/check.out" 2>&1 &&
		! grep -q warning "$tmp/check.out" || bad="$bad ${p##*/}"
done
check_eq "the installed binary's check accepts each shipped policy" "" "$bad"
bad=""
for p in "$root"/usr/share/doc/portwarden/examples/*.yaml; do
	"$root/usr/sbin/portwarden" compile "$p" 2>&1 | grep -q '^table inet ' ||
		bad="$bad ${p##*/}"
done
check_eq "the installed binary compiles each shipped policy" "" "$bad"
exit 0
