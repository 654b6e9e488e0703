// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Comparing two ruleset models: equality for apply's idempotence and the
 * audit's drift check, and a line diff for `diff` and `apply --dry-run`.
 *
 * Rules compare in their expanded form (the matches nft itself sends,
 * dependencies included), so that `ip saddr 10.0.0.0/8` built by the
 * compiler equals the `meta nfproto ipv4 ip saddr 10.0.0.0/8` the kernel
 * hands back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model_cmp.h"
#include "model_delta.h"
#include "render.h"
#include "util.h"

#define NFPROTO_IPV4_	2
#define NFPROTO_IPV6_	10
#define IPPROTO_ICMP_	1
#define IPPROTO_ICMPV6_	58

/* The protocol context a rule has established so far, as nft tracks it. */
struct dep_ctx {
	uint32_t nfproto;	/* 0: unknown */
	uint32_t l4proto;	/* 0: unknown */
};

static uint8_t match_family(const struct match *mt)
{
	if (mt->set < 0 && (mt->key == KEY_SADDR || mt->key == KEY_DADDR))
		return mt->value.prefix.family;
	return mt->family;
}

static void push_dep(struct match *v, size_t *n, enum match_key key,
		     uint32_t num)
{
	memset(&v[*n], 0, sizeof(v[*n]));
	v[*n].key = key;
	v[*n].set = -1;
	v[*n].value.num = num;
	(*n)++;
}

static void need_nfproto(struct match *v, size_t *n, struct dep_ctx *ctx,
			 uint8_t family)
{
	uint32_t want = family == 6 ? NFPROTO_IPV6_ : NFPROTO_IPV4_;

	if (family != 4 && family != 6)
		return;
	if (ctx->nfproto == want)
		return;
	push_dep(v, n, KEY_NFPROTO, want);
	ctx->nfproto = want;
}

size_t mrule_expand(const struct mrule *r, struct match **out)
{
	struct dep_ctx ctx = { 0, 0 };
	struct match *v;
	size_t i, n = 0;

	/* each match adds at most two dependencies */
	v = xcalloc(r->n_matches * 3 + 1, sizeof(*v));
	for (i = 0; i < r->n_matches; i++) {
		const struct match *mt = &r->matches[i];

		switch (mt->key) {
		case KEY_SADDR:
		case KEY_DADDR:
		case KEY_CONCAT:
			need_nfproto(v, &n, &ctx, match_family(mt));
			break;
		case KEY_ICMP_TYPE:
		case KEY_ICMPV6_TYPE: {
			bool v6 = mt->key == KEY_ICMPV6_TYPE;
			uint32_t l4 = v6 ? IPPROTO_ICMPV6_ : IPPROTO_ICMP_;

			if (ctx.l4proto == l4)
				break;
			need_nfproto(v, &n, &ctx, v6 ? 6 : 4);
			push_dep(v, &n, KEY_L4PROTO, l4);
			ctx.l4proto = l4;
			break;
		}
		default:
			break;
		}
		v[n++] = *mt;
		if (mt->set < 0 && !mt->negate) {
			if (mt->key == KEY_NFPROTO)
				ctx.nfproto = mt->value.num;
			else if (mt->key == KEY_L4PROTO)
				ctx.l4proto = mt->value.num;
		}
	}
	*out = v;
	return n;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
	return a < b ? -1 : a > b;
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool mvalue_eq(enum match_key key, const struct mvalue *a,
		      const struct mvalue *b)
{
	switch (key) {
	case KEY_SADDR:
	case KEY_DADDR:
		return a->prefix.family == b->prefix.family &&
		       a->prefix.plen == b->prefix.plen &&
		       !memcmp(a->prefix.addr, b->prefix.addr,
			       a->prefix.family == 6 ? 16 : 4);
	case KEY_SPORT:
	case KEY_DPORT:
		return a->range.lo == b->range.lo && a->range.hi == b->range.hi;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		return str_eq(a->str, b->str);
	case KEY_CGROUPV2:
		return a->num == b->num && str_eq(a->str, b->str);
	default:
		return a->num == b->num;
	}
}

static const char *set_name(const struct model *m, int set)
{
	if (set < 0 || (size_t)set >= m->n_sets)
		return NULL;
	return m->sets[set].name;
}

static bool match_eq(const struct model *ma, const struct match *a,
		     const struct model *mb, const struct match *b)
{
	if (a->key != b->key || a->negate != b->negate || a->mask != b->mask)
		return false;
	if ((a->set < 0) != (b->set < 0))
		return false;
	if (a->set >= 0) {
		const char *na = set_name(ma, a->set), *nb = set_name(mb, b->set);

		if (!na || !nb || strcmp(na, nb))
			return false;
		if ((a->key == KEY_SADDR || a->key == KEY_DADDR ||
		     a->key == KEY_CONCAT) &&
		    ma->sets[a->set].family != mb->sets[b->set].family)
			return false;
		return true;
	}
	return mvalue_eq(a->key, &a->value, &b->value);
}

bool mrule_equal(const struct model *ma, const struct mrule *a,
		 const struct model *mb, const struct mrule *b)
{
	struct match *va = NULL, *vb = NULL;
	size_t na, nb, i;
	bool eq = false;

	if (a->counter != b->counter || a->verdict != b->verdict ||
	    a->queue_num != b->queue_num ||
	    !str_eq(a->log_prefix, b->log_prefix) ||
	    (!a->log_prefix) != (!b->log_prefix) ||
	    !str_eq(a->nflog_prefix, b->nflog_prefix) ||
	    (!a->nflog_prefix) != (!b->nflog_prefix) ||
	    (a->nflog_prefix && a->nflog_group != b->nflog_group) ||
	    !str_eq(a->comment, b->comment) || (!a->comment) != (!b->comment))
		return false;
	na = mrule_expand(a, &va);
	nb = mrule_expand(b, &vb);
	if (na != nb)
		goto out;
	for (i = 0; i < na; i++)
		if (!match_eq(ma, &va[i], mb, &vb[i]))
			goto out;
	eq = true;
out:
	free(va);
	free(vb);
	return eq;
}

static bool set_def_eq(const struct mset *a, const struct mset *b)
{
	return mset_def_equal(a, b);
}

static int elem_cmp_r(const void *pa, const void *pb, void *ctx)
{
	const struct melem *const *a = pa, *const *b = pb;

	return melem_cmp(ctx, *a, *b);
}

/* Elements of @s as a sorted array of pointers (free the array only). */
static const struct melem **sorted_elems(const struct mset *s)
{
	const struct melem **v = xcalloc(s->n_elems + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < s->n_elems; i++)
		v[i] = &s->elems[i];
	qsort_r(v, s->n_elems, sizeof(*v), elem_cmp_r, (void *)s);
	return v;
}

/*
 * Walk the sorted elements of two sets of the same definition; call @fn
 * for each element in only one of them (side 0: only in @a, 1: only in @b).
 * Return: the sum of what @fn returned, or stop at the first such element
 * when @fn is NULL and return 1.
 */
static size_t elems_walk(const struct mset *a, const struct mset *b,
			 int (*fn)(void *ctx, int side, const struct mset *s,
				   const struct melem *e),
			 void *ctx)
{
	const struct melem **va = sorted_elems(a), **vb = sorted_elems(b);
	size_t i = 0, j = 0, n = 0;

	while (i < a->n_elems || j < b->n_elems) {
		int c;

		if (i == a->n_elems)
			c = 1;
		else if (j == b->n_elems)
			c = -1;
		else
			c = melem_cmp(a, va[i], vb[j]);
		if (!c) {
			/* equal elements, and duplicates of them */
			const struct melem *e = va[i];

			while (i < a->n_elems && !melem_cmp(a, va[i], e))
				i++;
			while (j < b->n_elems && !melem_cmp(a, vb[j], e))
				j++;
			continue;
		}
		if (!fn) {
			n = 1;
			break;
		}
		if (c < 0)
			n += (size_t)fn(ctx, 0, a, va[i++]);
		else
			n += (size_t)fn(ctx, 1, b, vb[j++]);
	}
	free(va);
	free(vb);
	return n;
}

static bool chain_def_eq(const struct mchain *a, const struct mchain *b)
{
	return !strcmp(a->name, b->name) && a->hook == b->hook &&
	       a->priority == b->priority && a->policy == b->policy;
}

/* Counts the elements only the second set has, and those only the first
 * has that were not added at run time (elems_walk() callback). */
static int only_in_b(void *ctx, int side, const struct mset *s,
		     const struct melem *e)
{
	return side || !e->timeout_ms;
}

bool model_equal(const struct model *a, const struct model *b)
{
	size_t i, j;

	if (!a || !b)
		return a == b;
	if (strcmp(a->table, b->table) || a->n_sets != b->n_sets ||
	    a->n_chains != b->n_chains)
		return false;
	for (i = 0; i < a->n_sets; i++) {
		const struct mset *sa = &a->sets[i];
		int k = model_find_set(b, sa->name);

		if (k < 0 || !set_def_eq(sa, &b->sets[k]))
			return false;
		if (sa->timeout ? elems_walk(sa, &b->sets[k], only_in_b, NULL) :
		    elems_walk(sa, &b->sets[k], NULL, NULL))
			return false;
	}
	for (i = 0; i < a->n_chains; i++) {
		const struct mchain *ca = &a->chains[i], *cb = &b->chains[i];

		if (!chain_def_eq(ca, cb) || ca->n_rules != cb->n_rules)
			return false;
		for (j = 0; j < ca->n_rules; j++)
			if (!mrule_equal(a, &ca->rules[j], b, &cb->rules[j]))
				return false;
	}
	return true;
}

/* ---- diff ---- */

static void diff_add(struct model_diff *d, int side, char *line)
{
	if (side)
		*ARRAY_PUSH(d->added, d->n_added, d->cap_added) = line;
	else
		*ARRAY_PUSH(d->removed, d->n_removed, d->cap_removed) = line;
}

static int elem_line(void *ctx, int side, const struct mset *s,
		     const struct melem *e)
{
	struct model_diff *d = ctx;
	char *txt = render_elem(s, e);

	diff_add(d, side, xasprintf("element %s { %s }", s->name,
				    txt ? txt : "?"));
	free(txt);
	if (side)
		d->n_elems_added++;
	else
		d->n_elems_removed++;
	return 0;
}

static const char *const key_type_names[] = {
	[KEY_NFPROTO] = "nf_proto", [KEY_L4PROTO] = "inet_proto",
	[KEY_IIFNAME] = "ifname", [KEY_OIFNAME] = "ifname",
	[KEY_SADDR] = "ipv4_addr", [KEY_DADDR] = "ipv4_addr",
	[KEY_SPORT] = "inet_service", [KEY_DPORT] = "inet_service",
	[KEY_SKUID] = "uid", [KEY_SKGID] = "gid",
	[KEY_CGROUPV2] = "cgroupsv2", [KEY_CT_STATE] = "ct_state",
	[KEY_ICMP_TYPE] = "icmp_type", [KEY_ICMPV6_TYPE] = "icmpv6_type",
	[KEY_CONCAT] = "?",
};

static char *set_line(const struct mset *s)
{
	char *type, *t;
	size_t k;

	if (!s->n_keys)		/* read back, of a kind portwarden never makes */
		return xasprintf("set %s { }", s->name);
	type = xstrdup("");
	for (k = 0; k < s->n_keys; k++) {
		const char *n = key_type_names[s->keys[k]];

		if ((s->keys[k] == KEY_SADDR || s->keys[k] == KEY_DADDR) &&
		    s->family == 6)
			n = "ipv6_addr";
		t = xasprintf("%s%s%s", type, k ? " . " : "", n);
		free(type);
		type = t;
	}
	t = xasprintf("set %s { type %s;%s }", s->name, type,
		      s->interval && s->timeout ? " flags interval,timeout;" :
		      s->interval ? " flags interval;" :
		      s->timeout ? " flags timeout;" : "");
	free(type);
	return t;
}

static void set_whole(struct model_diff *d, int side, const struct mset *s)
{
	size_t i;

	diff_add(d, side, set_line(s));
	for (i = 0; i < s->n_elems; i++)
		elem_line(d, side, s, &s->elems[i]);
}

static char *chain_line(const struct mchain *c)
{
	if (c->policy == MV_NONE)	/* read back: not one portwarden makes */
		return xasprintf("chain %s { }", c->name);
	return xasprintf("chain %s { type filter hook %s priority %d; policy %s; }",
			 c->name, c->hook == HOOK_OUTPUT ? "output" : "input",
			 c->priority, c->policy == MV_DROP ? "drop" : "accept");
}

static void rule_line(struct model_diff *d, int side, const struct model *m,
		      const struct mchain *c, const struct mrule *r)
{
	char *txt = render_rule(m, r);

	diff_add(d, side, xasprintf("rule %s %s", c->name, txt ? txt : "?"));
	free(txt);
	if (side)
		d->n_rules_added++;
	else
		d->n_rules_removed++;
}

int model_diff(const struct model *old, const struct model *new,
	       struct model_diff *out)
{
	struct model_delta dl;

	model_delta(old, new, &dl);
	model_diff_delta(old, new, &dl, out);
	model_delta_release(&dl);
	return 0;
}

void model_diff_delta(const struct model *old, const struct model *new,
		      const struct model_delta *dl, struct model_diff *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (!old)
		diff_add(out, 1, xasprintf("table inet %s", new->table));
	for (i = 0; i < dl->n_old_sets; i++)
		if (dl->set_del[i])
			set_whole(out, 0, &old->sets[i]);
	for (i = 0; i < new->n_sets; i++) {
		const struct mset *s = &new->sets[i];
		const struct set_delta *sd = &dl->sets[i];
		size_t k = dl->set_old[i];

		if (k == DELTA_NONE) {
			set_whole(out, 1, s);
		} else if (!mset_def_equal(&old->sets[k], s)) {
			set_whole(out, 0, &old->sets[k]);
			set_whole(out, 1, s);
		} else {
			for (j = 0; j < sd->n_del; j++)
				elem_line(out, 0, &old->sets[k],
					  &old->sets[k].elems[sd->del[j]]);
			for (j = 0; j < sd->n_add; j++)
				elem_line(out, 1, s, &s->elems[sd->add[j]]);
		}
	}
	for (i = 0; i < dl->n_old_chains; i++) {
		const struct mchain *c = &old->chains[i];

		if (!dl->chain_del[i])
			continue;
		diff_add(out, 0, chain_line(c));
		for (j = 0; j < c->n_rules; j++)
			rule_line(out, 0, old, c, &c->rules[j]);
	}
	for (i = 0; i < new->n_chains; i++) {
		const struct mchain *c = &new->chains[i];
		size_t k = dl->chain_old[i];

		if (k == DELTA_NONE) {
			diff_add(out, 1, chain_line(c));
			for (j = 0; j < c->n_rules; j++)
				rule_line(out, 1, new, c, &c->rules[j]);
			continue;
		}
		if (dl->policy_changed[i] ||
		    !mchain_def_equal(&old->chains[k], c)) {
			diff_add(out, 0, chain_line(&old->chains[k]));
			diff_add(out, 1, chain_line(c));
		}
		for (j = 0; j < old->chains[k].n_rules; j++)
			if (dl->rule_del[k][j])
				rule_line(out, 0, old, &old->chains[k],
					  &old->chains[k].rules[j]);
		for (j = 0; j < c->n_rules; j++)
			if (dl->rule_old[i][j] == DELTA_NONE)
				rule_line(out, 1, new, c, &c->rules[j]);
	}
}

void model_diff_release(struct model_diff *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->n_added; i++)
		free(d->added[i]);
	for (i = 0; i < d->n_removed; i++)
		free(d->removed[i]);
	free(d->added);
	free(d->removed);
	memset(d, 0, sizeof(*d));
}

/* ---- fingerprint ---- */

struct fnv {
	uint64_t h;
};

static void fnv_bytes(struct fnv *f, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		f->h ^= *b++;
		f->h *= 0x100000001b3ULL;
	}
}

static void fnv_u32(struct fnv *f, uint32_t v)
{
	fnv_bytes(f, &v, sizeof(v));
}

static void fnv_str(struct fnv *f, const char *s)
{
	if (s)
		fnv_bytes(f, s, strlen(s) + 1);
	else
		fnv_u32(f, 0xfffffffeu);
}

static void fnv_value(struct fnv *f, const struct mvalue *v)
{
	fnv_u32(f, v->num);
	fnv_u32(f, (uint32_t)v->range.lo << 16 | v->range.hi);
	fnv_u32(f, (uint32_t)v->prefix.family << 8 | v->prefix.plen);
	fnv_bytes(f, v->prefix.addr, sizeof(v->prefix.addr));
	fnv_str(f, v->str);
}

uint64_t model_hash(const struct model *m)
{
	struct fnv f = { 0xcbf29ce484222325ULL };
	size_t i, j, k;

	fnv_str(&f, m->table);
	for (i = 0; i < m->n_sets; i++) {
		const struct mset *s = &m->sets[i];

		fnv_str(&f, s->name);
		fnv_u32(&f, (uint32_t)s->n_keys << 16 | (uint32_t)s->family << 8 |
			    (uint32_t)s->timeout << 1 | s->interval);
		for (k = 0; k < s->n_keys; k++)
			fnv_u32(&f, s->keys[k]);
		fnv_u32(&f, (uint32_t)s->n_elems);
		for (j = 0; j < s->n_elems; j++)
			for (k = 0; k < s->n_keys; k++)
				fnv_value(&f, &s->elems[j].v[k]);
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *c = &m->chains[i];

		fnv_str(&f, c->name);
		fnv_u32(&f, c->hook);
		fnv_u32(&f, (uint32_t)c->priority);
		fnv_u32(&f, c->policy);
		fnv_u32(&f, (uint32_t)c->n_rules);
		for (j = 0; j < c->n_rules; j++) {
			const struct mrule *r = &c->rules[j];

			fnv_u32(&f, (uint32_t)r->n_matches);
			for (k = 0; k < r->n_matches; k++) {
				const struct match *mt = &r->matches[k];

				fnv_u32(&f, mt->key);
				fnv_u32(&f, (uint32_t)mt->mask << 16 |
					    (uint32_t)mt->negate << 8 | mt->family);
				fnv_u32(&f, (uint32_t)mt->set);
				fnv_value(&f, &mt->value);
			}
			fnv_u32(&f, (uint32_t)r->queue_num << 16 |
				    (uint32_t)r->counter << 8 | r->verdict);
			fnv_str(&f, r->log_prefix);
			fnv_str(&f, r->nflog_prefix);
			if (r->nflog_prefix)
				fnv_u32(&f, r->nflog_group);
			fnv_str(&f, r->comment);
		}
	}
	return f.h;
}

/* ---- display form of rules read back ---- */

static bool match_list_eq(const struct match *a, size_t na,
			  const struct match *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		if (a[i].key != b[i].key || a[i].negate != b[i].negate ||
		    a[i].set != b[i].set || a[i].mask != b[i].mask)
			return false;
		if (a[i].set < 0 && !mvalue_eq(a[i].key, &a[i].value, &b[i].value))
			return false;
		if (match_family(&a[i]) != match_family(&b[i]))
			return false;
	}
	return true;
}

void mrule_strip_deps(struct mrule *r)
{
	struct match *full, *cand;
	size_t nfull, i;

	nfull = mrule_expand(r, &full);
	for (i = 0; i < r->n_matches;) {
		struct match *mt = &r->matches[i];
		struct mrule tmp = *r;
		size_t n, k;

		if ((mt->key != KEY_NFPROTO && mt->key != KEY_L4PROTO) ||
		    mt->set >= 0 || mt->negate) {
			i++;
			continue;
		}
		tmp.matches = xcalloc(r->n_matches, sizeof(*tmp.matches));
		for (k = 0, n = 0; k < r->n_matches; k++)
			if (k != i)
				tmp.matches[n++] = r->matches[k];
		tmp.n_matches = n;
		n = mrule_expand(&tmp, &cand);
		if (match_list_eq(full, nfull, cand, n)) {
			free(r->matches[i].value.str);
			memmove(&r->matches[i], &r->matches[i + 1],
				(r->n_matches - i - 1) * sizeof(*r->matches));
			r->n_matches--;
		} else {
			i++;
		}
		free(cand);
		free(tmp.matches);
	}
	free(full);
	(void)cmp_u32;
}
