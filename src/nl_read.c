// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A live inet table -> ruleset model: the inverse of nl_batch.c.
 *
 * Dumps the table, its sets (with their elements), chains and rules
 * through libnftnl, and turns each rule's bytecode back into the model's
 * matches by following what every expression loads into which register
 * (a small symbolic run of the rule, as nftables' netlink_delinearize.c
 * does). A rule or set of a shape portwarden never makes is kept as a
 * rule without matches commented "unknown: ...", so that it compares
 * unequal to anything a policy compiles to.
 *
 * The dumps run between two reads of the ruleset generation and are
 * retried when it moved or a reply was lost (ENOBUFS, NLM_F_DUMP_INTR).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "model_cmp.h"
#include "model_delta.h"
#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"
#include "util.h"

#define DUMP_RETRIES	8

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len &&
	    v[len - 1] == '\0')
		*(const char **)data = v;
	return 0;
}

/* ---- the objects of one table ---- */

struct reader {
	struct model *m;
	const char *table;
	bool found;
	bool owned;		/* the table carries OWNER_MARK */
	uint32_t flags;		/* NFTA_TABLE_FLAGS */
};

static int table_udata_cb(const struct nftnl_udata *attr, void *data)
{
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT &&
	    len >= sizeof(OWNER_MARK) && v[len - 1] == '\0' &&
	    !strncmp(v, OWNER_MARK, sizeof(OWNER_MARK) - 1))
		*(bool *)data = true;
	return 0;
}

/* The ownership mark in a table's user data (see OWNER_MARK). */
static bool table_owned(const struct nftnl_table *t)
{
	const void *ud;
	uint32_t len = 0;
	bool owned = false;

	if (!nftnl_table_is_set(t, NFTNL_TABLE_USERDATA))
		return false;
	ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
	if (!ud || !len)
		return false;
	nftnl_udata_parse(ud, len, table_udata_cb, &owned);
	return owned;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_table *t = XALLOC(nftnl_table_alloc());
	int ret = 0;

	if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
		ret = -EINVAL;
	} else if (nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET &&
		   !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), rd->table)) {
		rd->found = true;
		rd->owned = table_owned(t);
		/* a dormant (or otherwise flagged) table is not the one apply
		 * makes, even with the same rules */
		if (nftnl_table_is_set(t, NFTNL_TABLE_FLAGS))
			rd->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
	}
	nftnl_table_free(t);
	return ret;
}

static bool in_table(struct reader *rd, uint32_t family, const char *table)
{
	return family == NFPROTO_INET && table && !strcmp(table, rd->table);
}

static void key_from_type(uint32_t type, enum match_key *key, uint8_t *family)
{
	*family = 0;
	switch (type) {
	case NL_TYPE_IPADDR:		*key = KEY_DADDR; *family = 4; return;
	case NL_TYPE_IP6ADDR:		*key = KEY_DADDR; *family = 6; return;
	case NL_TYPE_INET_SERVICE:	*key = KEY_DPORT; return;
	case NL_TYPE_INET_PROTOCOL:	*key = KEY_L4PROTO; return;
	case NL_TYPE_ICMP_TYPE:		*key = KEY_ICMP_TYPE; return;
	case NL_TYPE_ICMPV6_TYPE:	*key = KEY_ICMPV6_TYPE; return;
	case NL_TYPE_UID:		*key = KEY_SKUID; return;
	case NL_TYPE_GID:		*key = KEY_SKGID; return;
	case NL_TYPE_IFNAME:		*key = KEY_OIFNAME; return;
	default:			*key = KEY_CONCAT; return;
	}
}

/* A rule of a chain that is not there: kept in a chain no policy makes. */
static struct mrule *unknown_rule(struct model *m, const char *what)
{
	struct mchain *c = NULL;
	struct mrule *r;
	size_t i;

	for (i = 0; i < m->n_chains; i++)
		if (!strcmp(m->chains[i].name, "unknown:"))
			c = &m->chains[i];
	if (!c)
		c = model_add_chain(m, "unknown:", HOOK_INPUT, 0, MV_ACCEPT);
	r = mchain_add_rule(c);
	r->comment = xasprintf("unknown: %s", what);
	return r;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	uint32_t type, flags, len, sum = 0;
	struct mset *s;
	uint8_t fam, comps[MSET_MAX_KEYS + 1];
	size_t n = 0, k;
	int ret = 0;

	if (nftnl_set_nlmsg_parse(nlh, ns) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (!in_table(rd, nftnl_set_get_u32(ns, NFTNL_SET_FAMILY),
		      nftnl_set_get_str(ns, NFTNL_SET_TABLE)))
		goto out;
	type = nftnl_set_get_u32(ns, NFTNL_SET_KEY_TYPE);
	flags = nftnl_set_get_u32(ns, NFTNL_SET_FLAGS);
	len = nftnl_set_get_u32(ns, NFTNL_SET_KEY_LEN);
	s = model_add_set(rd->m, nftnl_set_get_str(ns, NFTNL_SET_NAME));
	s->interval = flags & NFT_SET_INTERVAL;
	s->timeout = flags & NFT_SET_TIMEOUT;
	while (type && n <= MSET_MAX_KEYS) {
		comps[n++] = (uint8_t)(type & NL_TYPE_MASK);
		type >>= NL_TYPE_BITS;
	}
	if (type || !n || n > MSET_MAX_KEYS || (flags & ~(NFT_SET_INTERVAL | NFT_SET_CONCAT | NFT_SET_TIMEOUT)) ||
	    nftnl_set_is_set(ns, NFTNL_SET_DATA_TYPE)) {
		s->n_keys = 0;	/* compares unequal to every compiled set */
		goto out;
	}
	s->n_keys = n;
	for (k = 0; k < n; k++) {
		struct nl_keyinfo ki;

		key_from_type(comps[n - 1 - k], &s->keys[k], &fam);
		if (fam)
			s->family = fam;
		if (nl_keyinfo(s->keys[k], fam, &ki) < 0) {
			s->n_keys = 0;
			goto out;
		}
		sum += n > 1 ? nl_reg_round(ki.len) : ki.len;
	}
	if (sum != len)
		s->n_keys = 0;
out:
	nftnl_set_free(ns);
	return ret;
}

/* One key component from element bytes. */
static void elem_value(const struct mset *s, size_t k, const uint8_t *p,
		       const uint8_t *end_p, struct mvalue *v)
{
	switch (s->keys[k]) {
	case KEY_SADDR:
	case KEY_DADDR: {
		size_t alen = s->family == 6 ? 16 : 4, i;
		unsigned int plen = (unsigned int)alen * 8;

		v->prefix.family = s->family;
		memcpy(v->prefix.addr, p, alen);
		if (end_p) {	/* start..end as a prefix */
			for (i = alen * 8; i-- > 0;) {
				uint8_t bit = (uint8_t)(0x80 >> (i % 8));

				if ((p[i / 8] & bit) || !(end_p[i / 8] & bit))
					break;
				plen = (unsigned int)i;
			}
		}
		v->prefix.plen = (uint8_t)plen;
		break;
	}
	case KEY_SPORT:
	case KEY_DPORT:
		v->range.lo = (uint16_t)(p[0] << 8 | p[1]);
		v->range.hi = end_p ? (uint16_t)(end_p[0] << 8 | end_p[1]) : v->range.lo;
		break;
	case KEY_SKUID:
	case KEY_SKGID:
		memcpy(&v->num, p, 4);
		break;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		v->str = xstrndup((const char *)p, NL_IFNAMSIZ);
		break;
	default:
		v->num = p[0];
		break;
	}
}

/* An interval boundary of a one-key interval set. */
struct bound {
	uint8_t key[16];
	bool end;
};

struct elem_reader {
	struct mset *s;
	uint32_t klen;
	struct bound *b;
	size_t n_b, cap_b;
	bool bad;
};

/* A run-time element's timeout, time left and comment (model.h). The
 * user data is a list of type-length-value records (libnftnl udata). */
static void elem_extras(struct nftnl_set_elem *e, struct melem *me)
{
	const uint8_t *ud;
	uint32_t len = 0, i;

	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		me->timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		me->expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA))
		return;
	ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
	for (i = 0; ud && i + 2 <= len && i + 2 + ud[i + 1] <= len;
	     i += 2 + ud[i + 1]) {
		const char *s = (const char *)ud + i + 2;
		size_t n = ud[i + 1];

		if (ud[i] != NFTNL_UDATA_SET_ELEM_COMMENT || !n || me->comment)
			continue;
		me->comment = xstrndup(s, strnlen(s, n));
	}
}

static int elem_iter_cb(struct nftnl_set_elem *e, void *data)
{
	struct elem_reader *er = data;
	struct mset *s = er->s;
	uint32_t len = 0, elen = 0, flags = 0;
	const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	const uint8_t *kend = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END) ?
			      nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &elen) : NULL;
	struct melem *me;
	uint32_t off = 0;
	size_t k;

	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		flags = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
	if (!key || len != er->klen || (kend && elen != len)) {
		er->bad = true;
		return 0;
	}
	if (s->interval && s->n_keys == 1) {
		struct bound *b;

		if (len > 16) {
			er->bad = true;
			return 0;
		}
		b = ARRAY_PUSH(er->b, er->n_b, er->cap_b);
		memset(b, 0, sizeof(*b));
		memcpy(b->key, key, len);
		b->end = flags & NFT_SET_ELEM_INTERVAL_END;
		return 0;
	}
	me = mset_add_elem(s);
	for (k = 0; k < s->n_keys; k++) {
		struct nl_keyinfo ki;

		nl_keyinfo(s->keys[k], s->family, &ki);
		elem_value(s, k, key + off, kend ? kend + off : NULL, &me->v[k]);
		off += s->n_keys > 1 ? nl_reg_round(ki.len) : ki.len;
	}
	elem_extras(e, me);
	return 0;
}

static int bound_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct bound *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, *(uint32_t *)ctx);

	if (c)
		return c;
	return (int)b->end - (int)a->end;	/* an end before a start */
}

/* Decrement a big-endian number. */
static void be_dec(uint8_t *p, size_t len)
{
	while (len--) {
		if (p[len]--)
			return;
	}
}

/* Turn [lo, hi] of an address interval set into prefixes. */
static void add_addr_range(struct mset *s, const uint8_t *lo, const uint8_t *hi,
			   uint32_t alen)
{
	uint8_t cur[16];

	memcpy(cur, lo, alen);
	for (;;) {
		unsigned int host = 0;
		struct melem *e;

		/* the largest aligned block at cur that stays <= hi */
		while (host < alen * 8) {
			unsigned int i = alen * 8 - 1 - host;
			uint8_t last[16];
			unsigned int j;

			if (cur[i / 8] & (0x80 >> (i % 8)))
				break;
			memcpy(last, cur, alen);
			for (j = i; j < alen * 8; j++)
				last[j / 8] |= (uint8_t)(0x80 >> (j % 8));
			if (memcmp(last, hi, alen) > 0)
				break;
			host++;
		}
		e = mset_add_elem(s);
		e->v[0].prefix.family = s->family;
		e->v[0].prefix.plen = (uint8_t)(alen * 8 - host);
		memcpy(e->v[0].prefix.addr, cur, alen);
		{
			uint8_t last[16];
			unsigned int j;

			memcpy(last, cur, alen);
			for (j = alen * 8 - host; j < alen * 8; j++)
				last[j / 8] |= (uint8_t)(0x80 >> (j % 8));
			if (!memcmp(last, hi, alen))
				return;
			memcpy(cur, last, alen);
			if (!nl_be_inc(cur, alen))
				return;
		}
	}
}

/* Rebuild the intervals of a one-key interval set from its boundaries. */
static void intervals_finish(struct elem_reader *er)
{
	struct mset *s = er->s;
	uint32_t len = er->klen;
	uint8_t open[16], hi[16];
	bool have_open = false;
	size_t i;

	qsort_r(er->b, er->n_b, sizeof(*er->b), bound_cmp, &len);
	for (i = 0; i <= er->n_b; i++) {
		bool last = i == er->n_b;

		if (!last && !er->b[i].end) {
			if (have_open) {	/* start without end: one value */
				memcpy(hi, open, len);
				goto emit;
			}
			memcpy(open, er->b[i].key, len);
			have_open = true;
			continue;
		}
		if (!have_open)
			continue;
		if (last)
			memset(hi, 0xff, len);
		else {
			memcpy(hi, er->b[i].key, len);
			be_dec(hi, len);
		}
emit:
		if (s->keys[0] == KEY_SADDR || s->keys[0] == KEY_DADDR) {
			add_addr_range(s, open, hi, len);
		} else if (s->keys[0] == KEY_SPORT || s->keys[0] == KEY_DPORT) {
			struct melem *e = mset_add_elem(s);

			e->v[0].range.lo = (uint16_t)(open[0] << 8 | open[1]);
			e->v[0].range.hi = (uint16_t)(hi[0] << 8 | hi[1]);
		} else {
			unsigned int v;

			for (v = open[0]; v <= hi[0]; v++)
				mset_add_elem(s)->v[0].num = v;
		}
		have_open = false;
		if (!last && !er->b[i].end) {
			memcpy(open, er->b[i].key, len);
			have_open = true;
		}
	}
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_reader *er = data;
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	int ret = 0;

	if (nftnl_set_elems_nlmsg_parse(nlh, ns) < 0)
		ret = -EINVAL;
	else
		nftnl_set_elem_foreach(ns, elem_iter_cb, er);
	nftnl_set_free(ns);
	return ret;
}

static int read_elems(struct nl_sock *s, struct model *m, size_t si)
{
	struct mset *set = &m->sets[si];
	struct elem_reader er = { .s = set };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *ns;
	struct nlmsghdr *nlh;
	size_t k;
	int ret;

	if (!set->n_keys)
		return 0;
	for (k = 0; k < set->n_keys; k++) {
		struct nl_keyinfo ki;

		nl_keyinfo(set->keys[k], set->family, &ki);
		er.klen += set->n_keys > 1 ? nl_reg_round(ki.len) : ki.len;
	}
	ns = XALLOC(nftnl_set_alloc());
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, set->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nlh = nl_req_hdr(s, buf, NFT_MSG_GETSETELEM, NLM_F_DUMP);
	nftnl_set_elems_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	ret = nl_query(s, nlh, elems_cb, &er);
	if (!ret && set->interval && set->n_keys == 1)
		intervals_finish(&er);
	if (er.bad)
		set->n_keys = 0;
	free(er.b);
	if (!ret)
		mset_sort(set);
	return ret;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_chain *nc = XALLOC(nftnl_chain_alloc());
	uint32_t hook, policy;
	struct mchain *c;
	int ret = 0;

	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (!in_table(rd, nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY),
		      nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE)))
		goto out;
	hook = nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM) ?
	       nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM) : 0xffff;
	policy = nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY);
	c = model_add_chain(rd->m, nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME),
			    hook == NF_INET_LOCAL_OUT ? HOOK_OUTPUT : HOOK_INPUT,
			    nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO),
			    policy == NF_DROP ? MV_DROP : MV_ACCEPT);
	if ((hook != NF_INET_LOCAL_IN && hook != NF_INET_LOCAL_OUT) ||
	    !nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE) ||
	    strcmp(nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE), "filter")) {
		/* not a base filter chain of input or output: no compiled
		 * chain has "no policy", so it differs from every one */
		c->policy = MV_NONE;
	}
out:
	nftnl_chain_free(nc);
	return ret;
}

static struct mchain *chain_by_name(struct model *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_chains; i++)
		if (!strcmp(m->chains[i].name, name))
			return &m->chains[i];
	return NULL;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *rd = data;
	struct nftnl_rule *nr = XALLOC(nftnl_rule_alloc());
	struct mrule *r;
	char why[64];
	bool understood;
	struct mchain *c;
	const char *comment = NULL;
	int ret = 0;

	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		ret = -EINVAL;
		goto out;
	}
	if (!in_table(rd, nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY),
		      nftnl_rule_get_str(nr, NFTNL_RULE_TABLE)))
		goto out;
	c = chain_by_name(rd->m, nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
	if (!c) {
		unknown_rule(rd->m, "rule of an unknown chain");
		goto out;
	}
	r = mchain_add_rule(c);
	r->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	understood = nl_rule_decode(rd->m, nr, r, why, sizeof(why));
	if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)) {
		uint32_t len;
		const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &len);

		nftnl_udata_parse(ud, len, comment_cb, &comment);
	}
	if (!understood) {
		uint64_t handle = r->handle, pk = r->packets, by = r->bytes;
		size_t i;

		for (i = 0; i < r->n_matches; i++)
			free(r->matches[i].value.str);
		free(r->matches);
		free(r->log_prefix);
		free(r->nflog_prefix);
		memset(r, 0, sizeof(*r));
		r->handle = handle;
		r->packets = pk;
		r->bytes = by;
		r->comment = xasprintf("unknown: %s%s%s", why,
				       comment ? ": " : "", comment ? comment : "");
		goto out;
	}
	if (comment)
		r->comment = xstrdup(comment);
	mrule_strip_deps(r);
out:
	nftnl_rule_free(nr);
	return ret;
}

static int dump_kind(struct nl_sock *s, struct reader *rd, uint16_t type,
		     nl_dump_cb cb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req_hdr(s, buf, type, NLM_F_DUMP);

	/* the kernel filters rule and set dumps by table */
	if (type == NFT_MSG_GETRULE) {
		struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());

		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, rd->table);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	} else if (type == NFT_MSG_GETSET) {
		struct nftnl_set *st = XALLOC(nftnl_set_alloc());

		nftnl_set_set_str(st, NFTNL_SET_TABLE, rd->table);
		nftnl_set_set_u32(st, NFTNL_SET_FAMILY, NFPROTO_INET);
		nftnl_set_nlmsg_build_payload(nlh, st);
		nftnl_set_free(st);
	}
	return nl_query(s, nlh, cb, rd);
}

/* Move (@steal) or copy the elements of @known's set of the same
 * definition into set @si of @m. Return: true when there was one. */
static bool take_elems(struct model *m, size_t si, struct model *known,
		       bool steal)
{
	struct mset *to = &m->sets[si], *from;
	int k = model_find_set(known, to->name);

	if (k < 0 || !to->n_keys)
		return false;
	from = &known->sets[k];
	if (!mset_def_equal(from, to))
		return false;
	to->sorted = from->sorted;
	if (steal) {
		to->elems = from->elems;
		to->n_elems = from->n_elems;
		to->cap_elems = from->cap_elems;
		from->elems = NULL;
		from->n_elems = from->cap_elems = 0;
	} else {
		size_t i, j;

		for (i = 0; i < from->n_elems; i++) {
			struct melem *e = mset_add_elem(to);

			*e = from->elems[i];
			e->origin = NULL;
			for (j = 0; j < MSET_MAX_KEYS; j++)
				if (e->v[j].str)
					e->v[j].str = xstrdup(e->v[j].str);
			if (e->comment)
				e->comment = xstrdup(e->comment);
		}
	}
	if (!to->sorted) {	/* a record written from a sorted model */
		size_t i;

		for (i = 1; i < to->n_elems; i++)
			if (melem_cmp(to, &to->elems[i - 1], &to->elems[i]) >= 0)
				break;
		if (i >= to->n_elems)
			to->sorted = true;
		else
			mset_sort(to);
	}
	return true;
}

/* @known_gen: in, the generation @known is of; set to 0 once @known's
 * elements were taken (a retry must dump them). */
static int read_once(struct nl_sock *s, const char *table, struct model *known,
		     uint32_t *known_gen, bool steal, struct model **out)
{
	struct reader rd = { .table = table };
	uint32_t gen0 = 0, gen1 = 0;
	bool use_known;
	size_t i;
	int ret;

	*out = NULL;
	ret = nl_get_generation(s, &gen0);
	if (ret < 0)
		return ret;
	ret = dump_kind(s, &rd, NFT_MSG_GETTABLE, table_cb);
	if (ret < 0)
		return ret;
	if (!rd.found)
		return -ENOENT;
	rd.m = model_new(table);
	ret = dump_kind(s, &rd, NFT_MSG_GETSET, set_cb);
	use_known = known && *known_gen && gen0 == *known_gen;
	if (use_known)
		*known_gen = 0;
	for (i = 0; !ret && i < rd.m->n_sets; i++)
		if (!use_known || !take_elems(rd.m, i, known, steal))
			ret = read_elems(s, rd.m, i);
	if (!ret)
		ret = dump_kind(s, &rd, NFT_MSG_GETCHAIN, chain_cb);
	if (!ret)
		ret = dump_kind(s, &rd, NFT_MSG_GETRULE, rule_cb);
	if (!ret && rd.flags)
		unknown_rule(rd.m, "table flags")->handle = rd.flags;
	if (!ret)
		ret = nl_get_generation(s, &gen1);
	if (!ret && gen0 != gen1)
		ret = -EINTR;
	if (ret < 0) {
		model_free(rd.m);
		return ret;
	}
	*out = rd.m;
	return 0;
}

int nl_table_owned(struct nl_sock *s, const char *table)
{
	struct reader rd = { .table = table };
	int ret, tries;

	for (tries = 0; tries < DUMP_RETRIES; tries++) {
		ret = dump_kind(s, &rd, NFT_MSG_GETTABLE, table_cb);
		if (ret != -EINTR && ret != -ENOBUFS && ret != -EAGAIN)
			break;
		rd.found = rd.owned = false;
	}
	if (ret < 0)
		return ret;
	if (!rd.found)
		return -ENOENT;
	return rd.owned;
}

static int read_table(struct nl_sock *s, const char *table,
		      struct model *known, uint32_t known_gen, bool steal,
		      struct model **out)
{
	int ret = -EINTR, tries;

	for (tries = 0; tries < DUMP_RETRIES; tries++) {
		ret = read_once(s, table, known, &known_gen, steal, out);
		if (ret != -EINTR && ret != -ENOBUFS && ret != -EAGAIN)
			break;
		if (ret == -ENOBUFS)
			nl_sock_bufsize(s, (size_t)(tries + 1) * 16 * 1024 * 1024);
	}
	return ret;
}

int nl_read_table_with(struct nl_sock *s, const char *table,
		       struct model *known, uint32_t known_gen,
		       struct model **out)
{
	return read_table(s, table, known, known_gen, true, out);
}

int nl_read_table_known(struct nl_sock *s, const char *table,
			const struct model *known, uint32_t known_gen,
			struct model **out)
{
	/* copied, never written to */
	return read_table(s, table, (struct model *)known, known_gen, false,
			  out);
}

int nl_read_table(struct nl_sock *s, const char *table, struct model **out)
{
	return read_table(s, table, NULL, 0, false, out);
}
