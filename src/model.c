// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ruleset model's lifecycle: building blocks shared by the compiler
 * (compile.c) and the kernel reader (nl_read.c). Every array grows with
 * ARRAY_PUSH, so a pointer returned by an *_add_* function stays valid only
 * until the next addition to the same array.
 */
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "util.h"

struct model *model_new(const char *table)
{
	struct model *m = xcalloc(1, sizeof(*m));

	m->table = xstrdup(table);
	return m;
}

static void mvalue_release(struct mvalue *v)
{
	free(v->str);
	v->str = NULL;
}

static void mset_release(struct mset *s)
{
	size_t i, k;

	for (i = 0; i < s->n_elems; i++) {
		for (k = 0; k < MSET_MAX_KEYS; k++)
			mvalue_release(&s->elems[i].v[k]);
		free(s->elems[i].comment);
	}
	free(s->elems);
	free(s->name);
}

static void mrule_release(struct mrule *r)
{
	size_t i;

	for (i = 0; i < r->n_matches; i++)
		mvalue_release(&r->matches[i].value);
	free(r->matches);
	free(r->log_prefix);
	free(r->nflog_prefix);
	free(r->comment);
}

static void mchain_release(struct mchain *c)
{
	size_t i;

	for (i = 0; i < c->n_rules; i++)
		mrule_release(&c->rules[i]);
	free(c->rules);
	free(c->name);
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_sets; i++)
		mset_release(&m->sets[i]);
	free(m->sets);
	for (i = 0; i < m->n_chains; i++)
		mchain_release(&m->chains[i]);
	free(m->chains);
	free(m->table);
	free(m);
}

struct mset *model_add_set(struct model *m, const char *name)
{
	struct mset *s = ARRAY_PUSH(m->sets, m->n_sets, m->cap_sets);

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

struct mchain *model_add_chain(struct model *m, const char *name,
			       enum mhook hook, int priority,
			       enum mverdict policy)
{
	struct mchain *c = ARRAY_PUSH(m->chains, m->n_chains, m->cap_chains);

	memset(c, 0, sizeof(*c));
	c->name = xstrdup(name);
	c->hook = hook;
	c->priority = priority;
	c->policy = policy;
	return c;
}

struct mrule *mchain_add_rule(struct mchain *c)
{
	struct mrule *r = ARRAY_PUSH(c->rules, c->n_rules, c->cap_rules);

	memset(r, 0, sizeof(*r));
	r->verdict = MV_NONE;
	return r;
}

struct match *mrule_add_match(struct mrule *r, enum match_key key)
{
	struct match *mt;

	/* Rules hold a handful of matches: grow one at a time. */
	r->matches = xrealloc(r->matches, (r->n_matches + 1) * sizeof(*mt));
	mt = &r->matches[r->n_matches++];
	memset(mt, 0, sizeof(*mt));
	mt->key = key;
	mt->set = -1;
	return mt;
}

struct melem *mset_add_elem(struct mset *s)
{
	struct melem *e = ARRAY_PUSH(s->elems, s->n_elems, s->cap_elems);

	memset(e, 0, sizeof(*e));
	s->sorted = false;
	return e;
}

int model_find_set(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_sets; i++)
		if (!strcmp(m->sets[i].name, name))
			return (int)i;
	return -1;
}

struct mchain *model_find_chain(const struct model *m, enum mhook hook)
{
	size_t i;

	for (i = 0; i < m->n_chains; i++)
		if (m->chains[i].hook == hook)
			return &m->chains[i];
	return NULL;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static int mvalue_cmp(enum match_key key, const struct mvalue *a,
		      const struct mvalue *b)
{
	int c;

	switch (key) {
	case KEY_SADDR:
	case KEY_DADDR:
		c = cmp_u32(a->prefix.family, b->prefix.family);
		if (!c)
			c = memcmp(a->prefix.addr, b->prefix.addr, 16);
		if (!c)
			c = cmp_u32(a->prefix.plen, b->prefix.plen);
		return c;
	case KEY_SPORT:
	case KEY_DPORT:
		c = cmp_u32(a->range.lo, b->range.lo);
		return c ? c : cmp_u32(a->range.hi, b->range.hi);
	case KEY_IIFNAME:
	case KEY_OIFNAME:
	case KEY_CGROUPV2:
		return strcmp(a->str ? a->str : "", b->str ? b->str : "");
	default:
		return cmp_u32(a->num, b->num);
	}
}

int melem_cmp(const struct mset *s, const struct melem *a,
	      const struct melem *b)
{
	size_t k;
	int c;

	for (k = 0; k < s->n_keys; k++) {
		c = mvalue_cmp(s->keys[k], &a->v[k], &b->v[k]);
		if (c)
			return c;
	}
	return 0;
}

/* qsort_r hands the set to the comparison. */
static int elem_cmp_r(const void *pa, const void *pb, void *ctx)
{
	const struct melem *a = pa, *b = pb;
	int c = melem_cmp(ctx, a, b);

	/* Equal elements: the earliest policy rule (lowest address in its
	 * direction's array) first, so that it is the one kept. */
	if (c)
		return c;
	if (a->origin == b->origin)
		return 0;
	if (!a->origin || !b->origin)
		return a->origin ? 1 : -1;
	return (uintptr_t)a->origin < (uintptr_t)b->origin ? -1 : 1;
}

void mset_sort(struct mset *s)
{
	size_t i, n = 0, k;

	s->sorted = true;
	if (s->n_elems < 2)
		return;
	/* compiled sets mostly arrive in order already: one pass then */
	for (i = 1; i < s->n_elems; i++)
		if (melem_cmp(s, &s->elems[i - 1], &s->elems[i]) >= 0)
			break;
	if (i == s->n_elems)
		return;
	qsort_r(s->elems, s->n_elems, sizeof(*s->elems), elem_cmp_r, s);
	for (i = 0; i < s->n_elems; i++) {
		if (n && !melem_cmp(s, &s->elems[n - 1], &s->elems[i])) {
			for (k = 0; k < MSET_MAX_KEYS; k++)
				mvalue_release(&s->elems[i].v[k]);
			free(s->elems[i].comment);
			continue;
		}
		s->elems[n++] = s->elems[i];
	}
	s->n_elems = n;
}
