#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# PORTWARDEN_WRAP for tests/run.sh: runs portwarden under valgrind's
# memcheck; a memory error or a definite leak exits 99, which the suites
# see as a failed command. Not a suite itself (run.sh skips *wrap names).
exec valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \
	--child-silent-after-fork=yes "${PORTWARDEN_REAL:?}" "$@"
