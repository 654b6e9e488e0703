# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The Ansible collection (contrib/ansible) for the suites that use it.
# Source it after lib.sh.

# collection_install DIR: build the collection with ansible-galaxy (into
# DIR) and install the tarball into DIR/collections, as a user installing
# it from Galaxy would get it. Prints the tarball's path; sets
# ANSIBLE_COLLECTIONS_PATH. Returns non-zero (with the log on stderr)
# when either step fails.
collection_install() {
	local d=$1 tarball
	mkdir -p "$d/collections"
	if ! ansible-galaxy collection build --force --output-path "$d" \
		"$TOP/contrib/ansible" > "$d/galaxy-build.log" 2>&1; then
		cat "$d/galaxy-build.log" >&2
		return 1
	fi
	tarball=$(ls "$d"/portwarden-portwarden-*.tar.gz 2>/dev/null | head -1)
	if [ -z "$tarball" ] || ! ansible-galaxy collection install --force \
		-p "$d/collections" "$tarball" > "$d/galaxy-install.log" 2>&1; then
		cat "$d/galaxy-build.log" "$d/galaxy-install.log" >&2
		return 1
	fi
	export ANSIBLE_COLLECTIONS_PATH="$d/collections"
	# shellcheck disable=SC2034 # for the caller
	COLLECTION_TARBALL=$tarball
}
