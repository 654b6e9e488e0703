/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_LINT_H
#define PORTWARDEN_POLICY_LINT_H

/* Rules that can never match (policy_lint.c); see policy_ctx.h. */

#include "policy_ctx.h"

/** chk_empty_field() - name of a present but empty match field, or NULL */
const char *chk_empty_field(const struct rule *r);
/** chk_excluded_all() - "not_from"/"not_to" when that field excludes every
 * address the rule would otherwise match (it never matches), or NULL */
const char *chk_excluded_all(const struct rule *r);
/** chk_lint_shadowed() - warn about rules an earlier rule fully covers */
void chk_lint_shadowed(struct ctx *c, enum direction dir);

#endif
