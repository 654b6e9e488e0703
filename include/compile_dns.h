/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_COMPILE_DNS_H
#define PORTWARDEN_COMPILE_DNS_H

/* The compiler's hostname part (src/compile_dns.c; layout documented
 * there). Used by compile.c only. */

#include "model.h"

/**
 * struct dns_rule_sets - the hostname sets of one outbound rule
 * @to:     index in model.sets of `<rule>_dns_v4` / `_v6`, or -1
 * @not_to: the same for `<rule>_notdns_v4` / `_v6`
 */
struct dns_rule_sets {
	int to[2];
	int not_to[2];
};

/**
 * compile_dns_sets() - create the hostname sets of @p in @m
 *
 * Call before any other set is made: the names are the ones
 * host_targets_from_policy() gives the daemon.
 * Return: one entry per outbound rule (free()), or NULL when @p names no
 * hostname.
 */
struct dns_rule_sets *compile_dns_sets(struct model *m,
				       const struct policy *p);

/** compile_dns_chain() - add chain `dns` (after `input` and `output`) */
void compile_dns_chain(struct model *m, const struct policy *p);

#endif
