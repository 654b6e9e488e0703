// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The interpreter's tables: dumped from the kernel (every table of every
 * family, with sets, elements, chains and rules), or built from a compiled
 * policy with the very functions apply uses (nl_rule_build() for rules,
 * nl_value_bytes() for set elements), so that the policy's table is run
 * as the kernel would run it once applied.
 *
 * Set elements become closed ranges of key bytes: interval sets arrive as
 * start and end markers (the end being the first value after the
 * interval) and are paired here; concatenated interval sets carry key and
 * key_end; plain sets hold single keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "interp_priv.h"
#include "nl.h"
#include "nl_priv.h"
#include "util.h"

#define LOAD_RETRIES	8

/* ---- the host and its tables ---- */

struct ix_host *ix_host_new(void)
{
	return xcalloc(1, sizeof(struct ix_host));
}

static void set_release(struct ix_set *s)
{
	size_t i;

	for (i = 0; i < s->n_elems; i++) {
		if (s->elems[i].hi != s->elems[i].lo)
			free(s->elems[i].hi);
		free(s->elems[i].lo);
		free(s->elems[i].data);
	}
	for (i = 0; i < s->n_bounds; i++) {
		free(s->bounds[i].key);
		free(s->bounds[i].data);
	}
	free(s->bounds);
	free(s->elems);
	free(s->name);
}

void ix_table_clear(struct ix_table *t)
{
	size_t i, j;

	for (i = 0; i < t->n_sets; i++)
		set_release(&t->sets[i]);
	free(t->sets);
	for (i = 0; i < t->n_chains; i++) {
		struct ix_chain *c = &t->chains[i];

		for (j = 0; j < c->n_rules; j++)
			ix_rule_release(&c->rules[j]);
		free(c->rules);
		free(c->name);
		free(c->dev);
	}
	free(t->chains);
	free(t->set_hash);
	t->set_hash = NULL;
	t->set_hash_cap = t->set_hash_n = 0;
	t->sets = NULL;
	t->chains = NULL;
	t->n_sets = t->cap_sets = t->n_chains = t->cap_chains = 0;
}

static void clear_tables(struct ix_host *h);

void ix_host_free(struct ix_host *h)
{
	size_t i;

	if (!h)
		return;
	clear_tables(h);
	for (i = 0; i < h->n_ifaces; i++)
		free(h->ifaces[i].addrs);
	free(h->ifaces);
	ix_hooks_drop(h);
	free(h);
}

struct ix_table *ix_table_find(const struct ix_host *h, uint32_t family,
			       const char *name)
{
	size_t i;

	for (i = 0; i < h->n_tables; i++)
		if (h->tables[i].family == family && !strcmp(h->tables[i].name, name))
			return &h->tables[i];
	return NULL;
}

struct ix_table *ix_table_add(struct ix_host *h, uint32_t family,
			      const char *name)
{
	struct ix_table *t = ix_table_find(h, family, name);

	ix_hooks_drop(h);
	if (t)
		return t;
	t = ARRAY_PUSH(h->tables, h->n_tables, h->cap_tables);
	memset(t, 0, sizeof(*t));
	t->family = family;
	t->name = xstrdup(name);
	t->label = xasprintf("%s %s", ix_family_name(family), name);
	return t;
}

size_t ix_host_n_tables(const struct ix_host *h)
{
	return h->n_tables;
}

static size_t name_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* A table of thousands of anonymous sets (one per `{ ... }` of its rules)
 * is looked up by name once per lookup of every rule: hashed. */
static void set_hash_build(struct ix_table *t)
{
	size_t i, cap = 64;

	while (cap < t->n_sets * 2)
		cap *= 2;
	free(t->set_hash);
	t->set_hash = xcalloc(cap, sizeof(*t->set_hash));
	t->set_hash_cap = cap;
	for (i = 0; i < t->n_sets; i++) {
		size_t k = name_hash(t->sets[i].name) & (cap - 1);

		while (t->set_hash[k])
			k = (k + 1) & (cap - 1);
		t->set_hash[k] = (int)i + 1;
	}
	t->set_hash_n = t->n_sets;
}

int ix_set_find(const struct ix_table *t, const char *name)
{
	struct ix_table *w = (struct ix_table *)t;	/* the index only */
	size_t k;

	if (t->n_sets < 16) {
		for (k = 0; k < t->n_sets; k++)
			if (!strcmp(t->sets[k].name, name))
				return (int)k;
		return -1;
	}
	if (t->set_hash_n != t->n_sets)
		set_hash_build(w);
	for (k = name_hash(name) & (t->set_hash_cap - 1); t->set_hash[k];
	     k = (k + 1) & (t->set_hash_cap - 1))
		if (!strcmp(t->sets[t->set_hash[k] - 1].name, name))
			return t->set_hash[k] - 1;
	return -1;
}

int ix_chain_find(const struct ix_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		if (!strcmp(t->chains[i].name, name))
			return (int)i;
	return -1;
}

static struct ix_set *set_new(struct ix_table *t, const char *name)
{
	struct ix_set *s = ARRAY_PUSH(t->sets, t->n_sets, t->cap_sets);

	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

static struct ix_elem *elem_new(struct ix_set *s)
{
	struct ix_elem *e = ARRAY_PUSH(s->elems, s->n_elems, s->cap_elems);

	memset(e, 0, sizeof(*e));
	e->vd.chain = -1;
	return e;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = xmalloc(n ? n : 1);

	memcpy(d, p, n);
	return d;
}

static int elem_lo_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct ix_elem *a = pa, *b = pb;
	const struct ix_set *s = ctx;

	return memcmp(a->lo, b->lo, s->key_len);
}

static int bound_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct ix_bound *a = pa, *b = pb;
	const struct ix_set *s = ctx;
	int d = memcmp(a->key, b->key, s->key_len);

	/* an end marker at the start of the next interval comes first */
	return d ? d : (int)b->end - (int)a->end;
}

/* Pair the start and end markers of a one-field interval set into
 * [start, end - 1] ranges; a start with no end reaches the top. */
static void pair_bounds(struct ix_set *s)
{
	size_t i, j;

	qsort_r(s->bounds, s->n_bounds, sizeof(*s->bounds), bound_cmp, s);
	for (i = 0; i < s->n_bounds; i++) {
		struct ix_bound *b = &s->bounds[i];
		struct ix_elem *e;
		uint8_t *hi;

		if (b->end)
			continue;
		hi = xmalloc(s->key_len);
		for (j = i + 1; j < s->n_bounds && !s->bounds[j].end; j++)
			;
		if (j < s->n_bounds) {
			size_t k = s->key_len;

			memcpy(hi, s->bounds[j].key, s->key_len);
			while (k--)		/* end - 1 */
				if (hi[k]-- != 0)
					break;
		} else {
			memset(hi, 0xff, s->key_len);
		}
		e = elem_new(s);
		e->lo = b->key;
		e->hi = hi;
		e->data = b->data;
		e->vd = b->vd;
		b->key = NULL;
		b->data = NULL;
	}
	for (i = 0; i < s->n_bounds; i++) {
		free(s->bounds[i].key);
		free(s->bounds[i].data);
	}
	free(s->bounds);
	s->bounds = NULL;
	s->n_bounds = s->cap_bounds = 0;
}

void ix_set_finish(struct ix_set *s)
{
	size_t i;

	if (s->n_bounds)
		pair_bounds(s);
	s->sorted = false;
	if (s->n_fields > 1 || !s->n_elems)
		return;
	qsort_r(s->elems, s->n_elems, sizeof(*s->elems), elem_lo_cmp, s);
	for (i = 1; i < s->n_elems; i++)
		if (memcmp(s->elems[i - 1].hi, s->elems[i].lo, s->key_len) >= 0)
			return;		/* overlapping: scan them all */
	s->sorted = true;
}

/* Which sets do lookups read (a dynset into one changes verdicts)? */
static void mark_lookups(struct ix_table *t)
{
	size_t i, j, k;

	for (i = 0; i < t->n_chains; i++)
		for (j = 0; j < t->chains[i].n_rules; j++)
			for (k = 0; k < t->chains[i].rules[j].n_ex; k++) {
				const struct ix_expr *x = &t->chains[i].rules[j].ex[k];

				if (x->op == IXO_LOOKUP && x->set >= 0)
					t->sets[x->set].looked_up = true;
			}
}

/* ---- from a compiled policy ---- */

static int model_set(struct ix_table *t, const struct mset *ms)
{
	struct nl_keyinfo ki[MSET_MAX_KEYS];
	struct ix_set *s = set_new(t, ms->name);
	size_t k, i;
	uint32_t off;

	for (k = 0; k < ms->n_keys; k++) {
		if (nl_keyinfo(ms->keys[k], ms->family, &ki[k]) < 0)
			return -EOPNOTSUPP;
		s->field_len[k] = (uint8_t)ki[k].len;
		s->key_len += ms->n_keys > 1 ? nl_reg_round(ki[k].len) : ki[k].len;
	}
	s->n_fields = (uint32_t)ms->n_keys;
	s->flags = ms->interval ? NFT_SET_INTERVAL : 0;
	for (i = 0; i < ms->n_elems; i++) {
		const struct melem *me = &ms->elems[i];
		struct ix_elem *e = elem_new(s);

		e->lo = xcalloc(1, s->key_len);
		e->hi = xcalloc(1, s->key_len);
		e->origin = me->origin;
		for (k = 0, off = 0; k < ms->n_keys; k++) {
			nl_value_bytes(ms->keys[k], &me->v[k], &ki[k], false, e->lo + off);
			nl_value_bytes(ms->keys[k], &me->v[k], &ki[k], ms->interval,
				       e->hi + off);
			off += ms->n_keys > 1 ? nl_reg_round(ki[k].len) : ki[k].len;
		}
	}
	ix_set_finish(s);
	return 0;
}

/*
 * A model rule, as apply builds it. A cgroup this host does not have (the
 * kernel would refuse the rule; nft resolves the path when it loads it)
 * cannot be built: the rest of the rule is, and the cgroup is compared by
 * path, so that `check` and `explain` work for a policy meant for another
 * host.
 */
/* The message apply sends for @nr, decoded. */
static void decode_built(struct ix_table *t, struct nftnl_rule *nr,
			 struct ix_rule *r)
{
	char *buf = xmalloc(MNL_SOCKET_BUFFER_SIZE * 4);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE,
						     NFPROTO_INET, 0, 0);

	nftnl_rule_nlmsg_build_payload(nlh, nr);
	ix_rule_decode(t, nlh, r);
	free(buf);
}

static int model_rule(struct ix_table *t, const struct model *m,
		      const struct mchain *mc, const struct mrule *mr,
		      struct ix_rule *r)
{
	struct nftnl_rule *nr = nl_rule_build(m, mc, mr, &(int){ 0 });
	struct mrule copy;
	size_t i, k = 0, cg = 0;
	struct ix_expr *x;

	if (nr) {
		decode_built(t, nr, r);
		r->mrule = mr;
		nftnl_rule_free(nr);
		return 0;
	}
	copy = *mr;
	copy.matches = xcalloc(mr->n_matches + 1, sizeof(*copy.matches));
	for (i = 0; i < mr->n_matches; i++) {
		if (mr->matches[i].key == KEY_CGROUPV2 && mr->matches[i].set < 0)
			cg = i + 1;
		else
			copy.matches[k++] = mr->matches[i];
	}
	copy.n_matches = k;
	nr = cg ? nl_rule_build(m, mc, &copy, &(int){ 0 }) : NULL;
	free(copy.matches);
	if (!nr)
		return -EINVAL;
	decode_built(t, nr, r);
	nftnl_rule_free(nr);
	r->mrule = mr;
	r->ex = xrealloc(r->ex, (r->n_ex + 1) * sizeof(*r->ex));
	memmove(r->ex + 1, r->ex, r->n_ex * sizeof(*r->ex));
	r->n_ex++;
	x = &r->ex[0];
	memset(x, 0, sizeof(*x));
	x->op = IXO_CGROUP_PATH;
	x->set = -1;
	x->str = mr->matches[cg - 1].value.str ? mr->matches[cg - 1].value.str : "";
	x->flags = mr->matches[cg - 1].value.num;
	x->cmp_op = mr->matches[cg - 1].negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
	snprintf(x->what, sizeof(x->what), "socket cgroupv2");
	return 0;
}

int ix_host_add_model(struct ix_host *h, const struct model *m)
{
	struct ix_table *t = ix_table_add(h, NFPROTO_INET, m->table);
	size_t i, j;
	int ret;

	ix_table_clear(t);
	t->model = m;
	t->flags = 0;
	/* a table of its own: after every live table at the same priority */
	if (!t->handle)
		t->handle = UINT64_MAX;
	for (i = 0; i < m->n_sets; i++) {
		ret = model_set(t, &m->sets[i]);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *mc = &m->chains[i];
		struct ix_chain *c = ARRAY_PUSH(t->chains, t->n_chains, t->cap_chains);

		memset(c, 0, sizeof(*c));
		c->name = xstrdup(mc->name);
		c->base = true;
		c->hooknum = mc->hook == HOOK_OUTPUT ? NF_INET_LOCAL_OUT : NF_INET_LOCAL_IN;
		c->prio = mc->priority;
		snprintf(c->type, sizeof(c->type), "filter");
		c->policy = mc->policy == MV_DROP ? NF_DROP : NF_ACCEPT;
		c->handle = i + 1;
		c->mchain = mc;
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *mc = &m->chains[i];
		struct ix_chain *c = &t->chains[i];

		for (j = 0; j < mc->n_rules; j++) {
			ret = model_rule(t, m, mc, &mc->rules[j],
					 ARRAY_PUSH(c->rules, c->n_rules, c->cap_rules));
			if (ret < 0)
				return ret;
		}
	}
	mark_lookups(t);
	return 0;
}

/* ---- from the kernel ---- */

struct loader {
	struct ix_host *h;
	int err;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct loader *l = data;
	struct nftnl_table *nt = nftnl_table_alloc();
	struct ix_table *t;

	if (!nt)
		abort();
	if (nftnl_table_nlmsg_parse(nlh, nt) < 0) {
		nftnl_table_free(nt);
		return -EINVAL;
	}
	t = ix_table_add(l->h, nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY),
			 nftnl_table_get_str(nt, NFTNL_TABLE_NAME));
	t->handle = nftnl_table_get_u64(nt, NFTNL_TABLE_HANDLE);
	t->flags = nftnl_table_get_u32(nt, NFTNL_TABLE_FLAGS);
	nftnl_table_free(nt);
	return 0;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct loader *l = data;
	struct nftnl_set *ns = nftnl_set_alloc();
	struct ix_table *t;
	struct ix_set *s;

	if (!ns)
		abort();
	if (nftnl_set_nlmsg_parse(nlh, ns) < 0) {
		nftnl_set_free(ns);
		return -EINVAL;
	}
	t = ix_table_find(l->h, nftnl_set_get_u32(ns, NFTNL_SET_FAMILY),
			  nftnl_set_get_str(ns, NFTNL_SET_TABLE));
	if (t) {
		s = set_new(t, nftnl_set_get_str(ns, NFTNL_SET_NAME));
		s->flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
		s->key_len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
		s->is_map = s->flags & NFT_SET_MAP;
		if (s->is_map) {
			s->data_type = nftnl_set_get_u32(ns, NFTNL_SET_DATA_TYPE);
			s->data_len = nftnl_set_get_u32(ns, NFTNL_SET_DATA_LEN);
		}
		s->n_fields = 1;
		if (nftnl_set_is_set(ns, NFTNL_SET_DESC_CONCAT)) {
			uint32_t len = 0, i;
			const uint8_t *f = nftnl_set_get_data(ns, NFTNL_SET_DESC_CONCAT, &len);

			for (i = 0; f && i < len && i < 16 && f[i]; i++)
				s->field_len[i] = f[i];
			if (i > 1)
				s->n_fields = i;
		}
		/* keys or data longer than a register file: a lookup into
		 * the set cannot be decoded and is undetermined */
		if (s->n_fields == 1)
			s->field_len[0] = (uint8_t)s->key_len;
	}
	nftnl_set_free(ns);
	return 0;
}

struct elem_ctx {
	struct ix_table *t;
	struct ix_set *s;
};

static int elem_cb(struct nftnl_set_elem *ne, void *data)
{
	struct elem_ctx *c = data;
	struct ix_set *s = c->s;
	struct ix_table *t = c->t;
	uint32_t flags = nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_FLAGS) ?
			 nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_FLAGS) : 0;
	uint32_t klen = 0, elen = 0, dlen = 0;
	const void *key = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY, &klen);
	const void *kend = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_KEY_END, &elen);
	const void *d = nftnl_set_elem_get(ne, NFTNL_SET_ELEM_DATA, &dlen);
	struct ix_vdict vd = { .code = NFT_CONTINUE, .chain = -1 };
	uint8_t zero[IX_DATA_MAX] = { 0 };

	if (!key) {
		if (!(flags & NFT_SET_ELEM_CATCHALL))
			return 0;
		key = zero;		/* a catch-all element: everything */
		klen = s->key_len;
	}
	if (klen != s->key_len || (kend && elen != s->key_len))
		return 0;
	if (s->is_map && s->data_type == NFT_DATA_VERDICT &&
	    nftnl_set_elem_is_set(ne, NFTNL_SET_ELEM_VERDICT)) {
		const char *chain = nftnl_set_elem_get_str(ne, NFTNL_SET_ELEM_CHAIN);

		vd.code = (int32_t)nftnl_set_elem_get_u32(ne, NFTNL_SET_ELEM_VERDICT);
		if (vd.code == NFT_JUMP || vd.code == NFT_GOTO) {
			/* chains are read before sets and elements; a chain
			 * not found stays -1: run_base() calls the jump
			 * undetermined */
			if (chain)
				vd.chain = ix_chain_find(t, chain);
		}
	}
	if (flags & NFT_SET_ELEM_CATCHALL) {
		struct ix_elem *e = elem_new(s);

		e->lo = xcalloc(1, s->key_len);
		e->hi = xmalloc(s->key_len);
		memset(e->hi, 0xff, s->key_len);
		e->vd = vd;
		e->data = d && dlen == s->data_len ? dup_bytes(d, dlen) : NULL;
		return 0;
	}
	if ((s->flags & NFT_SET_INTERVAL) && !kend) {
		struct ix_bound *b = ARRAY_PUSH(s->bounds, s->n_bounds, s->cap_bounds);

		b->key = dup_bytes(key, klen);
		b->end = flags & NFT_SET_ELEM_INTERVAL_END;
		b->vd = vd;
		b->data = d && dlen == s->data_len ? dup_bytes(d, dlen) : NULL;
		return 0;
	}
	{
		struct ix_elem *e = elem_new(s);

		e->lo = dup_bytes(key, klen);
		e->hi = kend ? dup_bytes(kend, elen) : e->lo;
		e->vd = vd;
		e->data = d && dlen == s->data_len ? dup_bytes(d, dlen) : NULL;
	}
	return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (!ns)
		abort();
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0) {
		nftnl_set_free(ns);
		return -EINVAL;
	}
	nftnl_set_elem_foreach(ns, elem_cb, data);
	nftnl_set_free(ns);
	return 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct loader *l = data;
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct ix_table *t;
	struct ix_chain *c;

	if (!nc)
		abort();
	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0) {
		nftnl_chain_free(nc);
		return -EINVAL;
	}
	t = ix_table_find(l->h, nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY),
			  nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE));
	if (t) {
		c = ARRAY_PUSH(t->chains, t->n_chains, t->cap_chains);
		memset(c, 0, sizeof(*c));
		c->name = xstrdup(nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
		c->handle = nftnl_chain_get_u64(nc, NFTNL_CHAIN_HANDLE);
		c->base = nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM);
		c->policy = NF_ACCEPT;
		if (c->base) {
			c->hooknum = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
			c->prio = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
			if (nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY))
				c->policy = (int32_t)nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY);
			if (nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE))
				snprintf(c->type, sizeof(c->type), "%s",
					 nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE));
			if (nftnl_chain_is_set(nc, NFTNL_CHAIN_DEV))
				c->dev = xstrdup(nftnl_chain_get_str(nc, NFTNL_CHAIN_DEV));
		}
	}
	nftnl_chain_free(nc);
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *table = NULL, *chain = NULL;
	struct loader *l = data;
	struct nlattr *a;
	struct ix_table *t;
	int ci;

	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
			continue;
		if (mnl_attr_get_type(a) == NFTA_RULE_TABLE)
			table = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_RULE_CHAIN)
			chain = mnl_attr_get_str(a);
	}
	if (!table || !chain)
		return 0;
	t = ix_table_find(l->h, g->nfgen_family, table);
	ci = t ? ix_chain_find(t, chain) : -1;
	if (ci >= 0) {
		struct ix_chain *c = &t->chains[ci];

		ix_rule_decode(t, nlh, ARRAY_PUSH(c->rules, c->n_rules, c->cap_rules));
	}
	return 0;
}

static void clear_tables(struct ix_host *h)
{
	size_t i;

	for (i = 0; i < h->n_tables; i++) {
		ix_table_clear(&h->tables[i]);
		free(h->tables[i].name);
		free(h->tables[i].label);
	}
	free(h->tables);
	h->tables = NULL;
	h->n_tables = h->cap_tables = 0;
}

/* Is this table left out (the one a compiled policy replaces)? */
static bool skipped(const struct ix_table *t, const char *skip)
{
	return skip && t->family == NFPROTO_INET && !strcmp(t->name, skip);
}

/* The elements of every set of the ip, ip6 and inet tables. */
static int load_elems(struct ix_host *h, struct nl_sock *s, const char *skip)
{
	size_t i, j;
	int ret;

	for (i = 0; i < h->n_tables; i++) {
		struct ix_table *t = &h->tables[i];

		for (j = 0; j < t->n_sets; j++) {
			struct elem_ctx c = { .t = t, .s = &t->sets[j] };

			if ((t->family != NFPROTO_INET && t->family != NFPROTO_IPV4 &&
			     t->family != NFPROTO_IPV6) || skipped(t, skip))
				continue;
			ret = nl_dump(s, NFT_MSG_GETSETELEM, (uint16_t)t->family,
				      t->name, t->sets[j].name, elems_cb, &c);
			if (ret < 0)
				return ret;
			ix_set_finish(&t->sets[j]);
		}
	}
	return 0;
}

static int load_once(struct ix_host *h, struct nl_sock *s, const char *skip)
{
	struct loader l = { .h = h };
	uint32_t gen0, gen1;
	size_t i, n;
	int ret;

	clear_tables(h);
	ix_hooks_drop(h);
	ret = nl_get_generation(s, &gen0);
	if (!ret)
		ret = nl_dump(s, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NULL, NULL, table_cb, &l);
	if (!ret)
		ret = nl_dump(s, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NULL, NULL, chain_cb, &l);
	/* sets and rules table by table: the table a compiled policy stands
	 * in for (100,000 rules, maybe) is not read at all */
	n = h->n_tables;
	for (i = 0; !ret && i < n; i++) {
		struct ix_table *t = &h->tables[i];

		if (skipped(t, skip))
			continue;
		ret = nl_dump(s, NFT_MSG_GETSET, (uint16_t)t->family, t->name, NULL,
			      set_cb, &l);
	}
	if (!ret)
		ret = load_elems(h, s, skip);
	for (i = 0; !ret && i < n; i++) {
		struct ix_table *t = &h->tables[i];

		if (skipped(t, skip))
			continue;
		ret = nl_dump(s, NFT_MSG_GETRULE, (uint16_t)t->family, t->name, NULL,
			      rule_cb, &l);
	}
	if (!ret) {
		for (i = 0; i < h->n_tables; i++)
			mark_lookups(&h->tables[i]);
		ret = nl_get_generation(s, &gen1);
	}
	if (!ret && gen0 != gen1)
		ret = -EINTR;
	return ret;
}

int ix_host_load_live(struct ix_host *h, struct nl_sock *s, const char *skip)
{
	int ret = -EINTR, tries;

	for (tries = 0; tries < LOAD_RETRIES; tries++) {
		ret = load_once(h, s, skip);
		if (ret != -EINTR && ret != -ENOBUFS && ret != -EAGAIN)
			break;
		if (ret == -ENOBUFS)
			nl_sock_bufsize(s, (size_t)(tries + 1) * 16 * 1024 * 1024);
	}
	if (ret < 0)
		clear_tables(h);
	if (!ret)
		ret = ix_host_load_addrs(h);
	return ret;
}

/* ---- from messages ---- */

static int elems_msg(struct ix_host *h, const struct nlmsghdr *nlh)
{
	struct nftnl_set *ns = nftnl_set_alloc();
	struct elem_ctx c = { 0 };
	int si;

	if (!ns)
		abort();
	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0) {
		nftnl_set_free(ns);
		return -EINVAL;
	}
	c.t = ix_table_find(h, nftnl_set_get_u32(ns, NFTNL_SET_FAMILY),
			    nftnl_set_get_str(ns, NFTNL_SET_TABLE));
	si = c.t ? ix_set_find(c.t, nftnl_set_get_str(ns, NFTNL_SET_NAME)) : -1;
	if (si >= 0) {
		c.s = &c.t->sets[si];
		nftnl_set_elem_foreach(ns, elem_cb, &c);
	}
	nftnl_set_free(ns);
	return si >= 0 ? 0 : -ENOENT;
}

int ix_host_load_msg(struct ix_host *h, const struct nlmsghdr *nlh)
{
	struct loader l = { .h = h };

	ix_hooks_drop(h);
	switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
	case NFT_MSG_NEWTABLE:
		return table_cb(nlh, &l);
	case NFT_MSG_NEWCHAIN:
		return chain_cb(nlh, &l);
	case NFT_MSG_NEWSET:
		return set_cb(nlh, &l);
	case NFT_MSG_NEWSETELEM:
		return elems_msg(h, nlh);
	case NFT_MSG_NEWRULE:
		return rule_cb(nlh, &l);
	}
	return -EOPNOTSUPP;
}

void ix_host_finish(struct ix_host *h)
{
	size_t i, j;

	for (i = 0; i < h->n_tables; i++) {
		for (j = 0; j < h->tables[i].n_sets; j++)
			ix_set_finish(&h->tables[i].sets[j]);
		mark_lookups(&h->tables[i]);
	}
}

/* ---- addresses and interfaces ---- */

static struct ix_iface *iface_get(struct ix_host *h, const char *name)
{
	struct ix_iface *f;
	size_t i;

	for (i = 0; i < h->n_ifaces; i++)
		if (!strcmp(h->ifaces[i].name, name))
			return &h->ifaces[i];
	f = ARRAY_PUSH(h->ifaces, h->n_ifaces, h->cap_ifaces);
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->index = (int)if_nametoindex(name);
	f->type = !strcmp(name, "lo") ? ARPHRD_LOOPBACK : 0;
	return f;
}

static int iface_type(const char *name)
{
	char path[64], buf[16];
	FILE *f;
	int t = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		t = atoi(buf);
	fclose(f);
	return t;
}

int ix_host_load_addrs(struct ix_host *h)
{
	struct ifaddrs *ifa, *i;
	size_t k;

	for (k = 0; k < h->n_ifaces; k++)
		free(h->ifaces[k].addrs);
	h->n_ifaces = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		struct ix_iface *f;
		struct cidr *c;

		if (!i->ifa_name)
			continue;
		f = iface_get(h, i->ifa_name);
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		c = ARRAY_PUSH(f->addrs, f->n_addrs, f->cap_addrs);
		memset(c, 0, sizeof(*c));
		if (i->ifa_addr->sa_family == AF_INET) {
			c->family = 4;
			c->plen = 32;
			memcpy(c->addr, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		} else {
			c->family = 6;
			c->plen = 128;
			memcpy(c->addr, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	/* the sysfs of the namespace we started in may not be this one's;
	 * a type read for a name this namespace does not have is 0 anyway */
	for (k = 0; k < h->n_ifaces; k++)
		if (!h->ifaces[k].type)
			h->ifaces[k].type = iface_type(h->ifaces[k].name);
	h->live_addrs = true;
	return 0;
}

bool ix_host_is_local(const struct ix_host *h, const struct cidr *a)
{
	return cidr_is_loopback(a) || ix_host_iface_of(h, a) != NULL;
}

const char *ix_host_iface_of(const struct ix_host *h, const struct cidr *a)
{
	size_t i, j;

	if (cidr_is_loopback(a))
		return "lo";
	for (i = 0; i < h->n_ifaces; i++)
		for (j = 0; j < h->ifaces[i].n_addrs; j++) {
			const struct cidr *c = &h->ifaces[i].addrs[j];

			if (c->family == a->family &&
			    !memcmp(c->addr, a->addr, a->family == 6 ? 16 : 4))
				return h->ifaces[i].name;
		}
	return NULL;
}
