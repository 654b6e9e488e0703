#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The JSON Schema of the policy language (contrib/schema) against the
# checker, with Debian's python3-jsonschema: every policy portwarden check
# accepts validates, every structural error it reports is found by the
# schema on the same line, the fixtures of tests/schema/ behave, and the
# keys and port names of the schema are exactly those check accepts
# (tests/tools/schema_check.py). No privileges.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
	not_ok "environment" "python3-jsonschema and python3-yaml are missing (contrib/install-deps.sh)"
	exit 1
fi
python3 tests/tools/schema_check.py "$PORTWARDEN" contrib/schema/portwarden.schema.json "$TOP"
rc=$?
[ "$rc" -le 1 ] || not_ok "schema_check.py" "exit $rc"
exit 0
