// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The plan of an incremental apply (include/model_delta.h): which sets,
 * elements, chains and rules of the live table stay, which go, which
 * come.
 *
 * Rules pair by a patience diff (as git's): common head and tail; then the
 * rules that occur exactly once on both sides, of which the longest run in
 * the same order anchors the pairing; the gaps between anchors recurse;
 * a gap without unique rules falls back to a longest common subsequence
 * when it is small. Inserting one rule into 10,000 costs a few hashes per
 * rule, not 10,000².
 */
#include <stdlib.h>
#include <string.h>

#include "model_cmp.h"
#include "model_delta.h"
#include "util.h"

#define LCS_MAX_CELLS (1u << 20)

/* ---- definitions ---- */

static int key_class(enum match_key k)
{
	switch (k) {
	case KEY_SADDR:
	case KEY_DADDR:
		return KEY_DADDR;
	case KEY_SPORT:
	case KEY_DPORT:
		return KEY_DPORT;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		return KEY_OIFNAME;
	default:
		return (int)k;
	}
}

bool mset_def_equal(const struct mset *a, const struct mset *b)
{
	size_t k;

	if (strcmp(a->name, b->name) || a->n_keys != b->n_keys ||
	    a->interval != b->interval || a->timeout != b->timeout ||
	    a->family != b->family)
		return false;
	for (k = 0; k < a->n_keys; k++)
		if (key_class(a->keys[k]) != key_class(b->keys[k]))
			return false;
	return true;
}

bool mchain_def_equal(const struct mchain *a, const struct mchain *b)
{
	/* MV_NONE: read back, not a filter base chain of input or output */
	return !strcmp(a->name, b->name) && a->hook == b->hook &&
	       a->priority == b->priority && a->policy != MV_NONE &&
	       b->policy != MV_NONE;
}

/* ---- rule fingerprints ---- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t fnv_u32(uint64_t h, uint32_t v)
{
	return fnv(h, &v, sizeof(v));
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return s ? fnv(h, s, strlen(s) + 1) : fnv_u32(h, 0xfffffffeu);
}

/* Hash exactly what mrule_equal() compares, so equal rules hash equal. */
static uint64_t rule_hash(const struct model *m, const struct mrule *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct match *v;
	size_t n, i;

	h = fnv_u32(h, (uint32_t)r->queue_num << 16 |
		       (uint32_t)r->counter << 8 | r->verdict);
	h = fnv_str(h, r->log_prefix);
	h = fnv_str(h, r->nflog_prefix);
	if (r->nflog_prefix)
		h = fnv_u32(h, r->nflog_group);
	h = fnv_str(h, r->comment);
	n = mrule_expand(r, &v);
	h = fnv_u32(h, (uint32_t)n);
	for (i = 0; i < n; i++) {
		const struct match *mt = &v[i];

		h = fnv_u32(h, (uint32_t)mt->key << 16 | (uint32_t)mt->negate << 8 |
			       mt->mask);
		if (mt->set >= 0) {
			const struct mset *s = (size_t)mt->set < m->n_sets ?
					       &m->sets[mt->set] : NULL;

			h = fnv_str(h, s ? s->name : "?");
			if (s && (mt->key == KEY_SADDR || mt->key == KEY_DADDR ||
				  mt->key == KEY_CONCAT))
				h = fnv_u32(h, s->family);
			continue;
		}
		switch (mt->key) {
		case KEY_SADDR:
		case KEY_DADDR:
			h = fnv_u32(h, (uint32_t)mt->value.prefix.family << 8 |
				       mt->value.prefix.plen);
			h = fnv(h, mt->value.prefix.addr,
				mt->value.prefix.family == 6 ? 16 : 4);
			break;
		case KEY_SPORT:
		case KEY_DPORT:
			h = fnv_u32(h, (uint32_t)mt->value.range.lo << 16 |
				       mt->value.range.hi);
			break;
		case KEY_IIFNAME:
		case KEY_OIFNAME:
			h = fnv_str(h, mt->value.str ? mt->value.str : "");
			break;
		case KEY_CGROUPV2:
			h = fnv_u32(h, mt->value.num);
			h = fnv_str(h, mt->value.str ? mt->value.str : "");
			break;
		default:
			h = fnv_u32(h, mt->value.num);
			break;
		}
	}
	free(v);
	return h;
}

/* ---- pairing the rules of two chains ---- */

struct pairing {
	const struct model *ma, *mb;
	const struct mchain *a, *b;
	uint64_t *ha, *hb;
	size_t *a_to_b;		/* per live rule: paired wanted rule */
	size_t *b_to_a;
};

static bool rule_eq(struct pairing *p, size_t i, size_t j)
{
	return p->ha[i] == p->hb[j] &&
	       mrule_equal(p->ma, &p->a->rules[i], p->mb, &p->b->rules[j]);
}

static void pair(struct pairing *p, size_t i, size_t j)
{
	p->a_to_b[i] = j;
	p->b_to_a[j] = i;
}

struct occ {
	uint64_t h;
	size_t idx;
	int side;
};

static int occ_cmp(const void *pa, const void *pb)
{
	const struct occ *a = pa, *b = pb;

	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	if (a->side != b->side)
		return a->side - b->side;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

struct anchor {
	size_t i, j;
};

static int anchor_cmp(const void *pa, const void *pb)
{
	const struct anchor *a = pa, *b = pb;

	return a->i < b->i ? -1 : a->i > b->i;
}

/* Longest common subsequence of a small gap, by the table. */
static void lcs(struct pairing *p, size_t alo, size_t ahi, size_t blo,
		size_t bhi)
{
	size_t n = ahi - alo, m = bhi - blo, i, j;
	uint32_t *t = xcalloc((n + 1) * (m + 1), sizeof(*t));

#define T(i, j) t[(i) * (m + 1) + (j)]
	for (i = n; i-- > 0;)
		for (j = m; j-- > 0;) {
			if (rule_eq(p, alo + i, blo + j))
				T(i, j) = T(i + 1, j + 1) + 1;
			else
				T(i, j) = T(i + 1, j) > T(i, j + 1) ?
					  T(i + 1, j) : T(i, j + 1);
		}
	i = j = 0;
	while (i < n && j < m) {
		if (rule_eq(p, alo + i, blo + j)) {
			pair(p, alo + i, blo + j);
			i++;
			j++;
		} else if (T(i + 1, j) >= T(i, j + 1)) {
			i++;
		} else {
			j++;
		}
	}
#undef T
	free(t);
}

static void pair_range(struct pairing *p, size_t alo, size_t ahi, size_t blo,
		       size_t bhi)
{
	struct occ *o;
	struct anchor *c;
	size_t n_o = 0, n_c = 0, i, k;
	size_t *tails, *prev, n_t = 0;

	while (alo < ahi && blo < bhi && rule_eq(p, alo, blo))
		pair(p, alo++, blo++);
	while (ahi > alo && bhi > blo && rule_eq(p, ahi - 1, bhi - 1))
		pair(p, --ahi, --bhi);
	if (alo == ahi || blo == bhi)
		return;

	/* rules that occur once on each side */
	o = xcalloc((ahi - alo) + (bhi - blo), sizeof(*o));
	for (i = alo; i < ahi; i++)
		o[n_o++] = (struct occ){ p->ha[i], i, 0 };
	for (i = blo; i < bhi; i++)
		o[n_o++] = (struct occ){ p->hb[i], i, 1 };
	qsort(o, n_o, sizeof(*o), occ_cmp);
	c = xcalloc(n_o / 2 + 1, sizeof(*c));
	for (i = 0; i < n_o;) {
		size_t e = i;

		while (e < n_o && o[e].h == o[i].h)
			e++;
		if (e - i == 2 && o[i].side == 0 && o[i + 1].side == 1 &&
		    rule_eq(p, o[i].idx, o[i + 1].idx))
			c[n_c++] = (struct anchor){ o[i].idx, o[i + 1].idx };
		i = e;
	}
	free(o);
	if (!n_c) {
		free(c);
		if ((ahi - alo + 1) * (bhi - blo + 1) <= LCS_MAX_CELLS)
			lcs(p, alo, ahi, blo, bhi);
		return;
	}

	/* the longest run of anchors increasing in both (patience sorting) */
	qsort(c, n_c, sizeof(*c), anchor_cmp);
	tails = xcalloc(n_c, sizeof(*tails));
	prev = xcalloc(n_c, sizeof(*prev));
	for (k = 0; k < n_c; k++) {
		size_t lo = 0, hi = n_t;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (c[tails[mid]].j < c[k].j)
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[k] = lo ? tails[lo - 1] : DELTA_NONE;
		tails[lo] = k;
		if (lo == n_t)
			n_t++;
	}
	{
		struct anchor *run = xcalloc(n_t, sizeof(*run));
		size_t at = tails[n_t - 1], r = n_t;
		size_t ai = alo, bj = blo;

		while (r) {
			run[--r] = c[at];
			at = prev[at];
		}
		for (k = 0; k < n_t; k++) {
			pair_range(p, ai, run[k].i, bj, run[k].j);
			pair(p, run[k].i, run[k].j);
			ai = run[k].i + 1;
			bj = run[k].j + 1;
		}
		pair_range(p, ai, ahi, bj, bhi);
		free(run);
	}
	free(tails);
	free(prev);
	free(c);
}

/*
 * A rule whose NFLOG prefix alone changed (its FILE:LINE moved because
 * lines above it were added or removed) must be replaced, but it is the
 * same rule to the user: the new one starts with the old one's counter
 * values (SPEC §7). Such rules keep their order, so the unpaired wanted
 * rules and the deleted live rules are walked together, each wanted rule
 * looking a few deleted rules ahead: linear, not quadratic.
 */
#define CARRY_WINDOW 8

static bool equal_but_nflog(const struct model *ma, const struct mrule *a,
			    const struct model *mb, const struct mrule *b)
{
	struct mrule tmp = *b;

	if (!a->nflog_prefix || !b->nflog_prefix)
		return false;
	tmp.nflog_prefix = a->nflog_prefix;
	tmp.nflog_group = a->nflog_group;
	return mrule_equal(ma, a, mb, &tmp);
}

static void carry_rules(const struct model *old, const struct model *new,
			struct model_delta *d, size_t i)
{
	const struct mchain *c = &new->chains[i];
	size_t k = d->chain_old[i], j, o = 0, w, tries;

	d->rule_carry[i] = xcalloc(c->n_rules + 1, sizeof(size_t));
	for (j = 0; j < c->n_rules; j++)
		d->rule_carry[i][j] = DELTA_NONE;
	if (k == DELTA_NONE)
		return;
	for (j = 0; j < c->n_rules; j++) {
		if (d->rule_old[i][j] != DELTA_NONE || !c->rules[j].nflog_prefix)
			continue;
		for (w = o, tries = 0; w < old->chains[k].n_rules &&
		     tries < CARRY_WINDOW; w++) {
			if (!d->rule_del[k][w])
				continue;
			tries++;
			if (equal_but_nflog(old, &old->chains[k].rules[w], new,
					    &c->rules[j])) {
				d->rule_carry[i][j] = w;
				o = w + 1;
				break;
			}
		}
	}
}

/* Pair the rules of live chain @a and wanted chain @b. */
static void pair_rules(const struct model *ma, const struct mchain *a,
		       const struct model *mb, const struct mchain *b,
		       size_t *b_to_a, bool *a_del)
{
	struct pairing p = { .ma = ma, .mb = mb, .a = a, .b = b };
	size_t i;

	p.ha = xcalloc(a->n_rules + 1, sizeof(*p.ha));
	p.hb = xcalloc(b->n_rules + 1, sizeof(*p.hb));
	p.a_to_b = xcalloc(a->n_rules + 1, sizeof(*p.a_to_b));
	p.b_to_a = b_to_a;
	for (i = 0; i < a->n_rules; i++) {
		p.ha[i] = rule_hash(ma, &a->rules[i]);
		p.a_to_b[i] = DELTA_NONE;
	}
	for (i = 0; i < b->n_rules; i++) {
		p.hb[i] = rule_hash(mb, &b->rules[i]);
		b_to_a[i] = DELTA_NONE;
	}
	pair_range(&p, 0, a->n_rules, 0, b->n_rules);
	for (i = 0; i < a->n_rules; i++)
		a_del[i] = p.a_to_b[i] == DELTA_NONE;
	free(p.ha);
	free(p.hb);
	free(p.a_to_b);
}

/* ---- elements ---- */

static int elem_cmp_r(const void *pa, const void *pb, void *ctx)
{
	const size_t *a = pa, *b = pb;
	const struct mset *s = ctx;

	return melem_cmp(s, &s->elems[*a], &s->elems[*b]);
}

/* Indexes of @s's elements in melem_cmp() order. */
static size_t *elem_order(const struct mset *s)
{
	size_t *v = xcalloc(s->n_elems + 1, sizeof(*v)), i;

	for (i = 0; i < s->n_elems; i++)
		v[i] = i;
	if (!s->sorted)
		qsort_r(v, s->n_elems, sizeof(*v), elem_cmp_r, (void *)s);
	return v;
}

static void elems_delta(const struct mset *a, const struct mset *b,
			struct set_delta *sd)
{
	size_t *va = elem_order(a), *vb = elem_order(b);
	size_t i = 0, j = 0;

	while (i < a->n_elems || j < b->n_elems) {
		int c;

		if (i == a->n_elems)
			c = 1;
		else if (j == b->n_elems)
			c = -1;
		else
			c = melem_cmp(a, &a->elems[va[i]], &b->elems[vb[j]]);
		if (!c) {
			/* equal elements, and duplicates of them */
			const struct melem *e = &a->elems[va[i]];

			while (i < a->n_elems && !melem_cmp(a, &a->elems[va[i]], e))
				i++;
			while (j < b->n_elems && !melem_cmp(a, &b->elems[vb[j]], e))
				j++;
		} else if (c < 0) {
			/* a run-time element (it has a timeout) stays; one of
			 * an earlier policy (none) goes with it */
			if (b->timeout && a->elems[va[i]].timeout_ms)
				*ARRAY_PUSH(sd->kept_extra, sd->n_kept_extra,
					    sd->cap_kept_extra) = va[i];
			else
				*ARRAY_PUSH(sd->del, sd->n_del, sd->cap_del) = va[i];
			i++;
		} else {
			*ARRAY_PUSH(sd->add, sd->n_add, sd->cap_add) = vb[j++];
		}
	}
	free(va);
	free(vb);
}

/* ---- the plan ---- */

static size_t find_chain(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_chains; i++)
		if (!strcmp(m->chains[i].name, name))
			return i;
	return DELTA_NONE;
}

void model_delta(const struct model *old, const struct model *new,
		 struct model_delta *d)
{
	size_t i, j;

	memset(d, 0, sizeof(*d));
	d->n_new_sets = new->n_sets;
	d->n_new_chains = new->n_chains;
	d->n_old_sets = old ? old->n_sets : 0;
	d->n_old_chains = old ? old->n_chains : 0;
	d->set_old = xcalloc(new->n_sets + 1, sizeof(*d->set_old));
	d->sets = xcalloc(new->n_sets + 1, sizeof(*d->sets));
	d->set_del = xcalloc(d->n_old_sets + 1, sizeof(*d->set_del));
	d->chain_old = xcalloc(new->n_chains + 1, sizeof(*d->chain_old));
	d->policy_changed = xcalloc(new->n_chains + 1, sizeof(*d->policy_changed));
	d->chain_del = xcalloc(d->n_old_chains + 1, sizeof(*d->chain_del));
	d->rule_old = xcalloc(new->n_chains + 1, sizeof(*d->rule_old));
	d->rule_del = xcalloc(d->n_old_chains + 1, sizeof(*d->rule_del));
	d->create = !old;

	for (i = 0; i < d->n_old_sets; i++)
		d->set_del[i] = true;
	for (i = 0; i < new->n_sets; i++) {
		const struct mset *s = &new->sets[i];
		int k = old ? model_find_set(old, s->name) : -1;

		d->set_old[i] = DELTA_NONE;
		if (k < 0) {
			d->n_changes++;
			d->elems_added += s->n_elems;
			continue;
		}
		d->set_old[i] = (size_t)k;
		d->set_del[k] = false;
		if (!mset_def_equal(&old->sets[k], s)) {
			d->recreate = true;
			d->n_changes++;
			/* every element goes and comes back */
			d->elems_deleted += old->sets[k].n_elems;
			d->elems_added += s->n_elems;
			continue;
		}
		elems_delta(&old->sets[k], s, &d->sets[i]);
		d->elems_added += d->sets[i].n_add;
		d->elems_deleted += d->sets[i].n_del;
		d->n_changes += d->sets[i].n_add + d->sets[i].n_del;
	}
	for (i = 0; i < d->n_old_sets; i++)
		if (d->set_del[i]) {
			d->n_changes++;
			d->elems_deleted += old->sets[i].n_elems;
		}

	for (i = 0; i < d->n_old_chains; i++) {
		d->chain_del[i] = true;
		d->rule_del[i] = xcalloc(old->chains[i].n_rules + 1, sizeof(bool));
		for (j = 0; j < old->chains[i].n_rules; j++)
			d->rule_del[i][j] = true;
	}
	for (i = 0; i < new->n_chains; i++) {
		const struct mchain *c = &new->chains[i];
		size_t k = old ? find_chain(old, c->name) : DELTA_NONE;

		d->rule_old[i] = xcalloc(c->n_rules + 1, sizeof(size_t));
		for (j = 0; j < c->n_rules; j++)
			d->rule_old[i][j] = DELTA_NONE;
		d->chain_old[i] = k;
		if (k == DELTA_NONE) {
			d->n_changes++;
			continue;
		}
		d->chain_del[k] = false;
		if (!mchain_def_equal(&old->chains[k], c)) {
			d->recreate = true;
			d->n_changes++;
		} else if (old->chains[k].policy != c->policy) {
			d->policy_changed[i] = true;
			d->n_changes++;
		}
		pair_rules(old, &old->chains[k], new, c, d->rule_old[i],
			   d->rule_del[k]);
	}
	for (i = 0; i < d->n_old_chains; i++) {
		if (d->chain_del[i])
			d->n_changes++;
		/* nl_read.c's holder of what it could not place: rules of no
		 * chain, table flags; no kernel object to delete */
		if (!strcmp(old->chains[i].name, "unknown:"))
			d->recreate = true;
		/* rules read back without a handle (of no chain of the
		 * table, see nl_read.c) cannot be deleted one by one */
		for (j = 0; j < old->chains[i].n_rules; j++)
			if (d->rule_del[i][j] && !old->chains[i].rules[j].handle)
				d->recreate = true;
	}

	d->rule_carry = xcalloc(new->n_chains + 1, sizeof(*d->rule_carry));
	for (i = 0; i < new->n_chains; i++)
		carry_rules(old, new, d, i);
	for (i = 0; i < new->n_chains; i++)
		for (j = 0; j < new->chains[i].n_rules; j++) {
			size_t o = d->rule_old[i][j], oc = d->chain_old[i];

			if (o == DELTA_NONE) {
				d->rules_added++;
				o = d->rule_carry[i][j];
				if (o != DELTA_NONE &&
				    new->chains[i].rules[j].counter &&
				    old->chains[oc].rules[o].counter)
					d->counters_kept++;
				continue;
			}
			d->rules_kept++;
			if (new->chains[i].rules[j].counter &&
			    old->chains[d->chain_old[i]].rules[o].counter)
				d->counters_kept++;
		}
	for (i = 0; i < d->n_old_chains; i++)
		for (j = 0; j < old->chains[i].n_rules; j++)
			d->rules_deleted += d->rule_del[i][j];
	d->n_changes += d->rules_added + d->rules_deleted;
}

void model_delta_release(struct model_delta *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; d->sets && i < d->n_new_sets; i++) {
		free(d->sets[i].add);
		free(d->sets[i].del);
		free(d->sets[i].kept_extra);
	}
	for (i = 0; d->rule_old && i < d->n_new_chains; i++)
		free(d->rule_old[i]);
	for (i = 0; d->rule_carry && i < d->n_new_chains; i++)
		free(d->rule_carry[i]);
	free(d->rule_carry);
	for (i = 0; d->rule_del && i < d->n_old_chains; i++)
		free(d->rule_del[i]);
	free(d->set_old);
	free(d->set_del);
	free(d->sets);
	free(d->chain_old);
	free(d->chain_del);
	free(d->policy_changed);
	free(d->rule_old);
	free(d->rule_del);
	memset(d, 0, sizeof(*d));
}
