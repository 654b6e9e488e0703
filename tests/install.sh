#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install` into a scratch DESTDIR, with the default PREFIX and with
# PREFIX=/usr: every file lands where it should, the units and man pages
# name the installed paths, the installed man pages render. No privileges.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# install_into DIR [make variables...]
install_into() {
	local d=$1
	shift
	make -s --no-print-directory BUILD="$BUILD" DESTDIR="$d" "$@" install \
		> "$d.log" 2>&1
}

for variant in local usr; do
	d=$tmp/$variant
	mkdir -p "$d"
	if [ "$variant" = usr ]; then
		prefix=/usr
		install_into "$d" PREFIX=/usr
	else
		prefix=/usr/local
		install_into "$d"
	fi
	rc=$?
	if [ "$rc" -ne 0 ]; then
		not_ok "make install PREFIX=$prefix" "exit $rc: $(tail -3 "$d.log")"
		continue
	fi
	ok "make install PREFIX=$prefix"
	missing=""
	for f in sbin/portwarden share/man/man8/portwarden.8 \
		 share/man/man5/portwarden.yaml.5 \
		 share/bash-completion/completions/portwarden \
		 lib/systemd/system/portwarden.service \
		 lib/systemd/system/portwarden-daemon.service \
		 lib/systemd/system/portwarden-audit.service \
		 lib/systemd/system/portwarden-audit.timer \
		 lib/systemd/system/portwarden-monitor.service; do
		[ -f "$d$prefix/$f" ] || missing="$missing $f"
	done
	for p in policies/*.yaml; do
		[ -f "$p" ] || continue
		cmp -s "$p" "$d$prefix/share/portwarden/$p" || missing="$missing share/portwarden/$p"
	done
	check_eq "PREFIX=$prefix: every file installed" "" "$missing"
	stray=$(cd "$d" && find . -type f | grep -v "^\.$prefix/")
	check_eq "PREFIX=$prefix: nothing outside the prefix" "" "$stray"
	check "PREFIX=$prefix: the binary is executable and runs" \
		"$d$prefix/sbin/portwarden" --version
	bad=$(find "$d" -type f ! -path "*/sbin/*" -perm /0133)
	check_eq "PREFIX=$prefix: data files are 0644" "" "$bad"
	units=$(grep -h '^Exec.*portwarden ' "$d$prefix"/lib/systemd/system/* | sed 's/^[A-Za-z]*=[-@:+!]*//; s/ .*//' | sort -u)
	check_eq "PREFIX=$prefix: units run the installed binary" "$prefix/sbin/portwarden" "$units"
	if grep -q "$prefix/share/portwarden/policies" "$d$prefix/share/man/man8/portwarden.8"; then
		ok "PREFIX=$prefix: the man page names the installed examples"
	else
		not_ok "PREFIX=$prefix: the man page names the installed examples"
	fi
	w=$(man --warnings -l "$d$prefix/share/man/man8/portwarden.8" "$d$prefix/share/man/man5/portwarden.yaml.5" 2>&1 >/dev/null)
	check_eq "PREFIX=$prefix: installed man pages render cleanly" "" "$w"
done
exit 0
