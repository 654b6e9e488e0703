#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The policy front end is a stack without cycles (STYLE.md, "one module per
# pipeline stage"): each module may include the headers of, and call into,
# only the modules below it:
#   policy_util < policy_parse < policy_values < policy_lint < policy_check
#   < policy_load
# Includes are read with grep; calls from the symbols the built objects
# need (nm), so a call through a header declared elsewhere is caught too.
. "$(dirname "$0")/lib.sh"

cd "$TOP" || exit 1
BUILD=${BUILD:-build}
order=(policy_util policy_parse policy_values policy_lint policy_check policy_load)
declare -A rank header_of
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
# the header each module's functions are declared in
header_of=([policy.h]=policy_util [policy_parse.h]=policy_parse
	[policy_ctx.h]=policy_values [policy_values.h]=policy_values
	[policy_lint.h]=policy_lint [policy_check.h]=policy_check)

# includes: a module (or its headers) includes no header of a module above it
for m in "${order[@]}"; do
	bad=
	for f in src/$m.c include/$m.h; do
		[ -f "$f" ] || continue
		for h in $(sed -n 's/^#include "\(policy[a-z_]*\.h\)"$/\1/p' "$f"); do
			owner=${header_of[$h]:-}
			[ -n "$owner" ] || { bad+=" $f:unknown-$h"; continue; }
			[ "${rank[$owner]}" -le "${rank[$m]}" ] || bad+=" $f->$h"
		done
	done
	check_eq "layers: $m includes nothing above it" "" "${bad# }"
done

# calls: every policy symbol a module's object needs is defined below it
if [ ! -f "$BUILD/obj/policy_load.o" ]; then
	not_ok "layers: objects" "build first (make all)"
	exit 1
fi
declare -A def_of
for m in "${order[@]}"; do
	for s in $(nm --defined-only -g "$BUILD/obj/$m.o" | awk '{print $3}'); do
		def_of[$s]=$m
	done
done
edges=0
for m in "${order[@]}"; do
	bad=
	for s in $(nm -u "$BUILD/obj/$m.o" | awk '{print $2}'); do
		owner=${def_of[$s]:-}
		[ -n "$owner" ] || continue
		edges=$((edges + 1))
		[ "${rank[$owner]}" -lt "${rank[$m]}" ] || bad+=" $s($owner)"
	done
	check_eq "layers: $m calls only modules below it" "" "${bad# }"
done
# the check must see the calls it judges (policy_load -> check, parse...)
[ "$edges" -ge 20 ] && ok "layers: $edges calls between policy modules seen" ||
	not_ok "layers: calls seen" "only $edges"
exit $((T_FAILED > 0))
