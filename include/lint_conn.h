/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_LINT_CONN_H
#define PORTWARDEN_LINT_CONN_H

#include "diag.h"
#include "model.h"
#include "policy.h"

/**
 * lint_replies() - warn about accept rules whose connections cannot
 * complete because the policy drops their replies (SPEC §5: with
 * `established: false`, the replies of one direction meet the other
 * direction's rules and default)
 *
 * For every accept rule of TCP or UDP, one connection the rule accepts is
 * run through the compiled table alone (the interpreter, as `check` runs
 * it); when its reply is not accepted, a warning at the rule names what
 * stops it.
 */
void lint_replies(const struct policy *p, const struct model *m, struct diag *d);

#endif
