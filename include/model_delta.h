/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MODEL_DELTA_H
#define PORTWARDEN_MODEL_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/*
 * What turns the live table into the wanted one, object by object: the
 * plan of an incremental apply (SPEC §7). Pure computation on two models;
 * nl_batch.c turns it into messages, model_diff() into text lines, so
 * that `apply` sends exactly what `apply --dry-run` and `diff` show.
 *
 * Sets and chains pair by name. A paired set keeps its live elements that
 * the wanted one also has; the others are deleted, except in a `flags
 * timeout` set, whose unlisted live elements were added at run time and
 * are kept. Rules pair within paired chains: a common head and tail, then
 * rules that occur once in both versions, in order (patience diff), and a
 * longest common subsequence of what is left between them when it is
 * small. A paired rule stays in the kernel with its handle and counters;
 * the other live rules are deleted by handle, the other wanted rules are
 * inserted before the next paired rule (or appended).
 *
 * A paired set of another key, type or flags, or a paired chain of another
 * hook, type or priority cannot change in place: then the whole table is
 * recreated in the same transaction (@recreate), and the paired rules
 * carry their counter values over.
 */

#define DELTA_NONE ((size_t)-1)

/**
 * struct set_delta - the elements of one paired set
 * @add: indexes of wanted elements the live set lacks
 * @del: indexes of live elements to delete
 * @kept_extra: indexes of live elements the wanted set does not list but
 *       that stay (a timeout set's run-time elements)
 */
struct set_delta {
	size_t *add, n_add, cap_add;
	size_t *del, n_del, cap_del;
	size_t *kept_extra, n_kept_extra, cap_kept_extra;
};

/**
 * struct model_delta - the plan
 * @create:     no live table: everything is new
 * @recreate:   something cannot change in place: replace the table,
 *              carrying counters of paired rules over
 * @set_old:    per wanted set: the paired live set, or DELTA_NONE (new)
 * @set_del:    per live set: not paired (deleted)
 * @sets:       per wanted set: its element delta (empty when new)
 * @chain_old:  per wanted chain: the paired live chain, or DELTA_NONE
 * @chain_del:  per live chain: not paired (deleted)
 * @policy_changed: per wanted chain: paired, with another policy
 * @rule_old:   per wanted chain, per rule: the paired live rule, or
 *              DELTA_NONE (a rule to add)
 * @rule_del:   per live chain, per rule: not paired (deleted)
 * @rule_carry: per wanted chain, per unpaired rule: a deleted live rule
 *              that differs only in its NFLOG prefix (its FILE:LINE
 *              moved), whose counter values the new rule starts with; or
 *              DELTA_NONE
 * @n_new_sets, @n_old_sets, @n_new_chains, @n_old_chains: array sizes
 * @n_changes:  objects added, deleted or changed; 0: nothing differs
 * @rules_kept: paired rules
 * @counters_kept: paired or carried rules with a counter (their counters
 *              survive)
 * @rules_added, @rules_deleted, @elems_added, @elems_deleted: counts
 */
struct model_delta {
	bool create, recreate;
	size_t *set_old;
	bool *set_del;
	struct set_delta *sets;
	size_t *chain_old;
	bool *chain_del;
	bool *policy_changed;
	size_t **rule_old;
	bool **rule_del;
	size_t **rule_carry;
	size_t n_new_sets, n_old_sets, n_new_chains, n_old_chains;
	size_t n_changes;
	size_t rules_kept, counters_kept;
	size_t rules_added, rules_deleted, elems_added, elems_deleted;
};

/**
 * model_delta() - plan the change from @old to @new
 * @old: the live table (read back, with handles), or NULL when absent
 * @new: the wanted table
 * @out: filled in; model_delta_release() it
 */
void model_delta(const struct model *old, const struct model *new,
		 struct model_delta *out);
void model_delta_release(struct model_delta *d);

/**
 * mset_def_equal() - can a live set @a stay as the wanted set @b?
 * Same name, key types (by class: addresses, ports, interfaces), family,
 * and flags (interval, timeout).
 */
bool mset_def_equal(const struct mset *a, const struct mset *b);

/**
 * mchain_def_equal() - can live chain @a stay as wanted chain @b?
 * Same name, hook and priority, and @a a filter base chain (policy is
 * changed in place).
 */
bool mchain_def_equal(const struct mchain *a, const struct mchain *b);

#endif
