/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_CHECK_H
#define PORTWARDEN_POLICY_CHECK_H

/*
 * The checker's entry point: parsed YAML trees -> checked struct policy.
 * policy_load.c calls it; the checker itself never reads files.
 */

#include <stddef.h>

#include "diag.h"
#include "policy.h"
#include "policy_parse.h"

/**
 * policy_check_trees() - check and merge parsed trees into a policy
 * @out:   the checked policy, or NULL when there are errors
 * @trees: parsed documents in merge order
 * @n:     number of trees
 * @d:     receives every error and warning
 *
 * Return: 0, or -EINVAL when @d holds errors.
 */
int policy_check_trees(struct policy **out, struct yaml_tree *const *trees,
		       size_t n, struct diag *d);

#endif
