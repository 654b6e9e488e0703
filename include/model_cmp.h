/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MODEL_CMP_H
#define PORTWARDEN_MODEL_CMP_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/*
 * Comparing ruleset models: the live table read back by nl_read_table()
 * against the table a policy compiles to (apply's idempotence, diff, audit
 * drift). model_equal() itself is declared in model.h.
 *
 * nft adds protocol dependencies a rule does not spell out: `ip saddr X`
 * in an inet table becomes `meta nfproto ipv4 ip saddr X`, `icmp type T`
 * becomes `meta nfproto ipv4 meta l4proto icmp icmp type T`. The kernel
 * only ever holds the expanded form, so rules compare by their expanded
 * match lists (mrule_expand()), which is also what nl_batch.c sends.
 */

/**
 * mrule_expand() - the matches of @r with nft's implicit dependencies added
 * @r:   the rule
 * @out: receives a malloc'd array of shallow copies (value.str points into
 *       @r; free only the array)
 *
 * Return: the number of matches in *@out.
 */
size_t mrule_expand(const struct mrule *r, struct match **out);

/**
 * mrule_equal() - do two rules (of models @ma and @mb) do the same thing?
 *
 * Matches (expanded, in order; set lookups compare by set name), counter
 * presence, log prefix, verdict and comment. Handles, counter values and
 * origins are ignored.
 */
bool mrule_equal(const struct model *ma, const struct mrule *a,
		 const struct model *mb, const struct mrule *b);

/**
 * struct model_diff - what turns one table into another
 * @added:   nft-syntax lines present only in the new table, e.g.
 *           "rule input tcp dport 22 counter accept comment \"ssh\"",
 *           "element web { 8080 }", "set web { type inet_service; }",
 *           "chain input { policy drop; }", "table inet portwarden"
 * @removed: likewise, present only in the old table
 * @n_rules_added, @n_elems_added: counts of the rule and element lines
 */
struct model_diff {
	char **added;
	size_t n_added, cap_added;
	char **removed;
	size_t n_removed, cap_removed;
	size_t n_rules_added, n_rules_removed;
	size_t n_elems_added, n_elems_removed;
};

/**
 * model_diff() - compute what differs between @old and @new
 * @old: the live table, or NULL when it does not exist
 * @new: the wanted table
 * @out: filled in (model_diff_release() it, also on error)
 *
 * The lines of model_delta()'s plan, which is what `apply` sends: rules
 * that stay are not shown (a rule that moved shows as removed and added),
 * set elements compare as sets, a chain whose policy changes shows its
 * old and new declaration.
 * Return: 0.
 */
int model_diff(const struct model *old, const struct model *new,
	       struct model_diff *out);

struct model_delta;

/* model_diff() of a plan already made: model_delta(@old, @new) is @dl. */
void model_diff_delta(const struct model *old, const struct model *new,
		      const struct model_delta *dl, struct model_diff *out);
void model_diff_release(struct model_diff *d);

/**
 * model_hash() - a 64-bit fingerprint of everything model_equal() compares
 * (FNV-1a, in the model's own order: equal compiles hash equal). apply
 * remembers it with the ruleset generation it made, to tell "nothing
 * changed since" without dumping a large table again.
 */
uint64_t model_hash(const struct model *m);

/* mrule_expand() then drop the dependencies nft would add back itself, so
 * that a rule read from the kernel renders as `nft list` prints it. */
void mrule_strip_deps(struct mrule *r);

#endif
