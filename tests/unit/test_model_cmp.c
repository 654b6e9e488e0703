// SPDX-License-Identifier: GPL-2.0-or-later
/* model_cmp: equality of ruleset models and the diff lines, on models built
 * by hand (no kernel). */
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
#include "util.h"

static void v4(struct cidr *c, uint8_t a, uint8_t b, uint8_t cc, uint8_t d,
	       uint8_t plen)
{
	memset(c, 0, sizeof(*c));
	c->family = 4;
	c->plen = plen;
	c->addr[0] = a;
	c->addr[1] = b;
	c->addr[2] = cc;
	c->addr[3] = d;
}

/*
 * A small table: set "web" of ports, set "corp" of IPv4 prefixes, an input
 * chain with `ip saddr @corp meta l4proto tcp th dport @web accept` (no
 * explicit nfproto when @explicit_dep is false) and a log rule.
 */
static struct model *table(bool explicit_dep, bool reverse_elems)
{
	struct model *m = model_new("t");
	struct mset *web = model_add_set(m, "web");
	struct mset *corp;
	struct mchain *c;
	struct mrule *r;
	struct match *mt;
	static const uint16_t ports[][2] = { { 80, 80 }, { 443, 443 },
					     { 8000, 8999 } };
	size_t i;

	web->keys[0] = KEY_DPORT;
	web->n_keys = 1;
	web->interval = true;
	for (i = 0; i < 3; i++) {
		size_t k = reverse_elems ? 2 - i : i;
		struct melem *e = mset_add_elem(web);

		e->v[0].range.lo = ports[k][0];
		e->v[0].range.hi = ports[k][1];
	}
	corp = model_add_set(m, "corp");
	corp->keys[0] = KEY_SADDR;
	corp->n_keys = 1;
	corp->family = 4;
	corp->interval = true;
	v4(&mset_add_elem(corp)->v[0].prefix, 10, 0, 0, 0, 8);

	c = model_add_chain(m, "input", HOOK_INPUT, 0, MV_DROP);
	r = mchain_add_rule(c);
	if (explicit_dep)
		mrule_add_match(r, KEY_NFPROTO)->value.num = 2;
	mt = mrule_add_match(r, KEY_SADDR);
	mt->set = 1;
	mt->family = 4;
	mrule_add_match(r, KEY_L4PROTO)->value.num = 6;
	mt = mrule_add_match(r, KEY_DPORT);
	mt->set = 0;
	r->counter = true;
	r->verdict = MV_ACCEPT;
	r->comment = xstrdup("web");

	r = mchain_add_rule(c);
	r->log_prefix = xstrdup("portwarden inbound default: ");
	return m;
}

static void test_equal_self(void **state)
{
	struct model *a = table(false, false), *b = table(false, false);

	(void)state;
	assert_true(model_equal(a, b));
	assert_true(model_equal(NULL, NULL));
	assert_false(model_equal(a, NULL));
	assert_false(model_equal(NULL, a));
	model_free(a);
	model_free(b);
}

/* the kernel hands back `meta nfproto ipv4` that nft added on its own */
static void test_implicit_dependency(void **state)
{
	struct model *a = table(false, false), *b = table(true, false);
	struct match *v;
	size_t n;

	(void)state;
	assert_true(model_equal(a, b));
	n = mrule_expand(&a->chains[0].rules[0], &v);
	assert_int_equal(n, 4);
	assert_int_equal(v[0].key, KEY_NFPROTO);
	assert_int_equal(v[0].value.num, 2);
	assert_int_equal(v[1].key, KEY_SADDR);
	free(v);
	/* and the display form drops it again */
	mrule_strip_deps(&b->chains[0].rules[0]);
	assert_int_equal(b->chains[0].rules[0].n_matches, 3);
	assert_int_equal(b->chains[0].rules[0].matches[0].key, KEY_SADDR);
	model_free(a);
	model_free(b);
}

/* icmp type needs `meta l4proto icmp`, and nfproto only when that is
 * implicit too: the two spellings differ in bytecode */
static void test_icmp_dependency(void **state)
{
	struct mrule r = { 0 }, r2 = { 0 };
	struct match *v;
	size_t n;

	(void)state;
	mrule_add_match(&r, KEY_ICMP_TYPE)->value.num = 8;
	n = mrule_expand(&r, &v);
	assert_int_equal(n, 3);
	assert_int_equal(v[0].key, KEY_NFPROTO);
	assert_int_equal(v[1].key, KEY_L4PROTO);
	assert_int_equal(v[1].value.num, 1);
	free(v);
	mrule_add_match(&r2, KEY_L4PROTO)->value.num = 1;
	mrule_add_match(&r2, KEY_ICMP_TYPE)->value.num = 8;
	n = mrule_expand(&r2, &v);
	assert_int_equal(n, 2);
	free(v);
	{
		struct model m = { .table = "t" };

		assert_false(mrule_equal(&m, &r, &m, &r2));
	}
	free(r.matches);
	free(r2.matches);
}

static void test_elements_as_sets(void **state)
{
	struct model *a = table(false, false), *b = table(false, true);

	(void)state;
	assert_true(model_equal(a, b));
	/* saddr/daddr is not something a set knows */
	b->sets[1].keys[0] = KEY_DADDR;
	assert_true(model_equal(a, b));
	b->sets[0].elems[0].v[0].range.hi = 8998;
	assert_false(model_equal(a, b));
	model_free(a);
	model_free(b);
}

static void test_unequal(void **state)
{
	struct model *a = table(false, false), *b;

	(void)state;
	b = table(false, false);
	b->chains[0].policy = MV_ACCEPT;
	assert_false(model_equal(a, b));
	model_free(b);

	b = table(false, false);
	b->chains[0].rules[0].counter = false;
	assert_false(model_equal(a, b));
	model_free(b);

	b = table(false, false);
	free(b->chains[0].rules[0].comment);
	b->chains[0].rules[0].comment = xstrdup("other");
	assert_false(model_equal(a, b));
	model_free(b);

	b = table(false, false);
	b->chains[0].rules[0].matches[1].value.num = 17;
	assert_false(model_equal(a, b));
	model_free(b);

	b = table(false, false);
	b->sets[1].family = 6;
	assert_false(model_equal(a, b));
	model_free(b);

	b = table(false, false);
	b->chains[0].rules[0].packets = 99;	/* counters do not count */
	b->chains[0].rules[0].handle = 7;
	assert_true(model_equal(a, b));
	model_free(b);
	model_free(a);
}

static bool has_line(char **v, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i], want))
			return true;
	return false;
}

static void test_diff_lines(void **state)
{
	struct model *a = table(false, false), *b = table(false, false);
	struct model_diff d;
	struct mrule *r;

	(void)state;
	assert_int_equal(model_diff(a, b, &d), 0);
	assert_int_equal(d.n_added + d.n_removed, 0);
	model_diff_release(&d);

	/* live table has an extra element and a rule in the middle */
	mset_add_elem(&a->sets[0])->v[0].range = (struct port_range){ 7000, 7000 };
	r = mchain_add_rule(&a->chains[0]);
	r->verdict = MV_DROP;
	assert_int_equal(model_diff(a, b, &d), 0);
	assert_int_equal(d.n_elems_removed, 1);
	assert_int_equal(d.n_rules_removed, 1);
	assert_int_equal(d.n_added, 0);
	assert_true(has_line(d.removed, d.n_removed, "element web { 7000 }"));
	assert_true(has_line(d.removed, d.n_removed, "rule input drop"));
	model_diff_release(&d);

	/* absent live table: everything is added */
	assert_int_equal(model_diff(NULL, b, &d), 0);
	assert_true(has_line(d.added, d.n_added, "table inet t"));
	assert_true(has_line(d.added, d.n_added, "element web { 8000-8999 }"));
	assert_true(has_line(d.added, d.n_added, "element corp { 10.0.0.0/8 }"));
	assert_int_equal(d.n_rules_added, 2);
	assert_int_equal(d.n_elems_added, 4);
	model_diff_release(&d);
	model_free(a);
	model_free(b);
}

/* a rule that moved shows as removed and added, the rest stays */
static void test_diff_order(void **state)
{
	struct model *a = model_new("t"), *b = model_new("t");
	struct mchain *ca = model_add_chain(a, "output", HOOK_OUTPUT, 0, MV_ACCEPT);
	struct mchain *cb = model_add_chain(b, "output", HOOK_OUTPUT, 0, MV_ACCEPT);
	struct model_diff d;
	static const uint32_t uids[] = { 1, 2, 3, 4 }, uids_b[] = { 1, 3, 2, 4 };
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		struct mrule *r = mchain_add_rule(ca);

		mrule_add_match(r, KEY_SKUID)->value.num = uids[i];
		r->verdict = MV_ACCEPT;
		r = mchain_add_rule(cb);
		mrule_add_match(r, KEY_SKUID)->value.num = uids_b[i];
		r->verdict = MV_ACCEPT;
	}
	assert_false(model_equal(a, b));
	assert_int_equal(model_diff(a, b, &d), 0);
	assert_int_equal(d.n_rules_removed, 1);
	assert_int_equal(d.n_rules_added, 1);
	model_diff_release(&d);
	model_free(a);
	model_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_self),
		cmocka_unit_test(test_implicit_dependency),
		cmocka_unit_test(test_icmp_dependency),
		cmocka_unit_test(test_elements_as_sets),
		cmocka_unit_test(test_unequal),
		cmocka_unit_test(test_diff_lines),
		cmocka_unit_test(test_diff_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
