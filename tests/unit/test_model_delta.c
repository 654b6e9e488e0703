// SPDX-License-Identifier: GPL-2.0-or-later
/* model_delta: the plan of an incremental apply, on models built by hand
 * (no kernel): which rules stay (handles, counters), which elements go,
 * when the table must be recreated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "model.h"
#include "model_cmp.h"
#include "model_delta.h"
#include "util.h"

/* A rule `udp dport PORT counter accept comment "rPORT"`. */
static void port_rule(struct mchain *c, uint16_t port, uint64_t handle)
{
	struct mrule *r = mchain_add_rule(c);
	struct match *mt;

	mrule_add_match(r, KEY_L4PROTO)->value.num = 17;
	mt = mrule_add_match(r, KEY_DPORT);
	mt->value.range.lo = mt->value.range.hi = port;
	r->counter = true;
	r->verdict = MV_ACCEPT;
	r->comment = xasprintf("r%u", port);
	r->handle = handle;
	r->packets = handle * 10;
}

/* A table of @n rules on ports 1000.. (handles 100..), chain policy @pol. */
static struct model *rules_table(size_t n, enum mverdict pol, int prio)
{
	struct model *m = model_new("t");
	struct mchain *c = model_add_chain(m, "output", HOOK_OUTPUT, prio, pol);
	size_t i;

	for (i = 0; i < n; i++)
		port_rule(c, (uint16_t)(1000 + i), 100 + i);
	return m;
}

/* A set "hosts" of single IPv4 addresses 10.0.0.X for X in @xs. */
static struct model *set_table(const uint8_t *xs, size_t n, bool timeout,
			       bool interval)
{
	struct model *m = model_new("t");
	struct mset *s = model_add_set(m, "hosts");
	size_t i;

	s->keys[0] = KEY_DADDR;
	s->n_keys = 1;
	s->family = 4;
	s->timeout = timeout;
	s->interval = interval;
	for (i = 0; i < n; i++) {
		struct cidr *c = &mset_add_elem(s)->v[0].prefix;

		c->family = 4;
		c->plen = 32;
		c->addr[0] = 10;
		c->addr[3] = xs[i];
	}
	model_add_chain(m, "output", HOOK_OUTPUT, 0, MV_ACCEPT);
	return m;
}

static void test_unchanged(void **state)
{
	struct model *a = rules_table(50, MV_DROP, 0);
	struct model *b = rules_table(50, MV_DROP, 0);
	struct model_delta d;

	model_delta(a, b, &d);
	assert_int_equal(d.n_changes, 0);
	assert_false(d.recreate);
	assert_int_equal(d.rules_kept, 50);
	assert_int_equal(d.counters_kept, 50);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
}

/* One rule inserted in the middle of 2,000: every other rule stays. */
static void test_insert_middle(void **state)
{
	struct model *a = rules_table(2000, MV_DROP, 0);
	struct model *b = model_new("t");
	struct mchain *c = model_add_chain(b, "output", HOOK_OUTPUT, 0, MV_DROP);
	struct model_delta d;
	size_t i;

	for (i = 0; i < 2000; i++) {
		if (i == 1000)
			port_rule(c, 9999, 0);
		port_rule(c, (uint16_t)(1000 + i), 0);
	}
	model_delta(a, b, &d);
	assert_false(d.recreate);
	assert_int_equal(d.rules_added, 1);
	assert_int_equal(d.rules_deleted, 0);
	assert_int_equal(d.rules_kept, 2000);
	assert_int_equal(d.n_changes, 1);
	assert_true(d.rule_old[0][1000] == DELTA_NONE);
	assert_int_equal(d.rule_old[0][999], 999);
	assert_int_equal(d.rule_old[0][1001], 1000);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
}

/* A rule moved from the front to the back: one delete, one add. */
static void test_move(void **state)
{
	struct model *a = rules_table(300, MV_DROP, 0);
	struct model *b = model_new("t");
	struct mchain *c = model_add_chain(b, "output", HOOK_OUTPUT, 0, MV_DROP);
	struct model_delta d;
	size_t i;

	for (i = 1; i < 300; i++)
		port_rule(c, (uint16_t)(1000 + i), 0);
	port_rule(c, 1000, 0);
	model_delta(a, b, &d);
	assert_int_equal(d.rules_added, 1);
	assert_int_equal(d.rules_deleted, 1);
	assert_true(d.rule_del[0][0]);
	assert_true(d.rule_old[0][299] == DELTA_NONE);
	assert_int_equal(d.rules_kept, 299);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
}

/* Rules that are not unique (no anchors) still pair by the LCS. */
static void test_duplicates(void **state)
{
	struct model *a = model_new("t"), *b = model_new("t");
	struct mchain *ca = model_add_chain(a, "output", HOOK_OUTPUT, 0, MV_DROP);
	struct mchain *cb = model_add_chain(b, "output", HOOK_OUTPUT, 0, MV_DROP);
	struct model_delta d;
	static const uint16_t pa[] = { 1, 2, 1, 2, 1 }, pb[] = { 1, 2, 3, 1, 2, 1 };
	size_t i;

	for (i = 0; i < 5; i++)
		port_rule(ca, pa[i], 10 + i);
	for (i = 0; i < 6; i++)
		port_rule(cb, pb[i], 0);
	model_delta(a, b, &d);
	assert_int_equal(d.rules_added, 1);
	assert_int_equal(d.rules_deleted, 0);
	assert_true(d.rule_old[0][2] == DELTA_NONE);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
}

/* A policy changes in place; a priority cannot: the table is recreated,
 * and the rules still pair (their counters are carried over). */
static void test_chain_changes(void **state)
{
	struct model *a = rules_table(5, MV_DROP, 0);
	struct model *b = rules_table(5, MV_ACCEPT, 0);
	struct model *c = rules_table(5, MV_DROP, 10);
	struct model_delta d;
	struct model_diff df;

	model_delta(a, b, &d);
	assert_false(d.recreate);
	assert_true(d.policy_changed[0]);
	assert_int_equal(d.n_changes, 1);
	assert_int_equal(d.rules_kept, 5);
	model_diff_delta(a, b, &d, &df);
	assert_int_equal(df.n_added, 1);
	assert_int_equal(df.n_removed, 1);
	assert_non_null(strstr(df.added[0], "policy accept"));
	model_diff_release(&df);
	model_delta_release(&d);

	model_delta(a, c, &d);
	assert_true(d.recreate);
	assert_int_equal(d.counters_kept, 5);
	assert_int_equal(d.rule_old[0][3], 3);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
	model_free(c);
}

/* Mark the live elements 10.0.0.X >= @from as added at run time. */
static void learned_from(struct model *m, uint8_t from)
{
	for (size_t i = 0; i < m->sets[0].n_elems; i++)
		if (m->sets[0].elems[i].v[0].prefix.addr[3] >= from)
			m->sets[0].elems[i].timeout_ms = 60000;
}

/* Unlisted live elements of a timeout set stay when they were added at
 * run time (they have a timeout); of another set, or without a timeout
 * (an earlier policy's static address), they go. */
static void test_timeout_set_keeps(void **state)
{
	static const uint8_t live[] = { 1, 2, 3, 50, 60 }, want[] = { 1, 3, 4 };
	struct model *a = set_table(live, 5, true, false);
	struct model *b = set_table(want, 3, true, false);
	struct model *a2 = set_table(live, 5, false, false);
	struct model *b2 = set_table(want, 3, false, false);
	struct model_delta d;

	learned_from(a, 50);
	model_delta(a, b, &d);
	assert_false(d.recreate);
	assert_int_equal(d.sets[0].n_add, 1);		/* 10.0.0.4 */
	assert_int_equal(d.sets[0].n_del, 1);		/* 2: static, unlisted */
	assert_int_equal(d.sets[0].n_kept_extra, 2);	/* 50, 60 */
	assert_int_equal(d.n_changes, 2);
	model_delta_release(&d);
	learned_from(a, 1);

	/* everything the policy lists is there: nothing to do */
	{
		struct model *sub = set_table(live + 1, 2, true, false);

		model_delta(a, sub, &d);
		assert_int_equal(d.n_changes, 0);
		assert_int_equal(d.sets[0].n_kept_extra, 3);
		model_delta_release(&d);
		model_free(sub);
	}

	/* the live table is "the same" for rollback and audit */
	{
		struct model *sub = set_table(live + 1, 2, true, false);

		assert_true(model_equal(a, sub));	/* live has more */
		assert_false(model_equal(sub, a));	/* live lacks some */
		assert_false(model_equal(a, b));	/* b wants 10.0.0.4 */
		model_free(sub);
	}
	{
		struct model *sub = set_table(live + 1, 2, false, false);

		assert_false(model_equal(a2, sub));	/* not a timeout set */
		model_free(sub);
	}

	model_delta(a2, b2, &d);
	assert_int_equal(d.sets[0].n_add, 1);
	assert_int_equal(d.sets[0].n_del, 3);
	assert_int_equal(d.sets[0].n_kept_extra, 0);
	assert_int_equal(d.elems_deleted, 3);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
	model_free(a2);
	model_free(b2);
}

/* A set that gains `flags interval` or `flags timeout` cannot change in
 * place; a set that goes and one that comes can. */
static void test_set_changes(void **state)
{
	static const uint8_t xs[] = { 1, 2 };
	struct model *a = set_table(xs, 2, false, false);
	struct model *b = set_table(xs, 2, false, true);
	struct model *c = set_table(xs, 2, true, false);
	struct model *e = set_table(xs, 0, false, false);
	struct model_delta d;

	model_delta(a, b, &d);
	assert_true(d.recreate);
	model_delta_release(&d);
	model_delta(a, c, &d);
	assert_true(d.recreate);
	model_delta_release(&d);
	free(e->sets[0].name);
	e->sets[0].name = xstrdup("other");
	model_delta(a, e, &d);
	assert_false(d.recreate);
	assert_true(d.set_del[0]);
	assert_true(d.set_old[0] == DELTA_NONE);
	assert_int_equal(d.n_changes, 2);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
	model_free(c);
	model_free(e);
}

static void test_create(void **state)
{
	struct model *b = rules_table(3, MV_DROP, 0);
	struct model_delta d;

	model_delta(NULL, b, &d);
	assert_true(d.create);
	assert_int_equal(d.rules_added, 3);
	assert_int_equal(d.counters_kept, 0);
	model_delta_release(&d);
	model_free(b);
}

/* Lines added above rules move their FILE:LINE: every rule's NFLOG prefix
 * changes, none pairs, each is carried (counters kept), in order; a rule
 * that changed otherwise is not. */
static void test_nflog_moved(void **state)
{
	struct model *a = rules_table(20, MV_DROP, 0);
	struct model *b = rules_table(20, MV_DROP, 0);
	struct model_delta d;
	size_t i;

	(void)state;
	for (i = 0; i < 20; i++) {
		a->chains[0].rules[i].nflog_prefix = xasprintf("pw1 D out drop r%zu p.yaml:%zu", i, 10 + i);
		b->chains[0].rules[i].nflog_prefix = xasprintf("pw1 D out drop r%zu p.yaml:%zu", i, 13 + i);
		a->chains[0].rules[i].nflog_group = b->chains[0].rules[i].nflog_group = 1000;
	}
	b->chains[0].rules[7].verdict = MV_DROP;	/* really changed */
	model_delta(a, b, &d);
	assert_int_equal(d.rules_kept, 0);
	assert_int_equal(d.rules_added, 20);
	assert_int_equal(d.rules_deleted, 20);
	for (i = 0; i < 20; i++)
		assert_int_equal(d.rule_carry[0][i], i == 7 ? DELTA_NONE : i);
	assert_int_equal(d.counters_kept, 19);
	model_delta_release(&d);
	model_free(a);
	model_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_insert_middle),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_chain_changes),
		cmocka_unit_test(test_timeout_set_keeps),
		cmocka_unit_test(test_set_changes),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_nflog_moved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
