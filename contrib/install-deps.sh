#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building, testing and the demo need (Debian packages).
set -eu
pkgs="build-essential pkg-config libyaml-dev libnftnl-dev libmnl-dev
      libcmocka-dev nftables iproute2 clang libclang-rt-dev valgrind
      python3 ansible-core util-linux procps man-db systemd
      bash-completion time git iptables
      debhelper dpkg-dev fakeroot lintian
      python3-yaml python3-jsonschema python3-prometheus-client
      python3-venv pylint pycodestyle yamllint python3-voluptuous nodejs
      dnsmasq-base ulogd2 ulogd2-json"
# npm only where node came without one (Debian's nodejs does).
command -v npm >/dev/null || pkgs="$pkgs npm"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run as root to install:$missing" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The YAML language server (tests/editor.sh) is not in Debian: from npm,
# at a fixed version.
YLS_VERSION=1.15.0
if ! npm ls -g --depth=0 "yaml-language-server@$YLS_VERSION" >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run as root to install yaml-language-server@$YLS_VERSION (npm)" >&2
		exit 1
	fi
	npm install -g --no-audit --no-fund "yaml-language-server@$YLS_VERSION" >/dev/null
fi
