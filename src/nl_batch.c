// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model -> libnftnl objects -> the messages of one transaction (libnftnl
 * examples/nft-rule-add.c). nl_sock.c sends them; nl_apply.c decides
 * what to send.
 *
 * A replacing transaction touches the model's table and nothing else:
 *   BEGIN, NEWTABLE (create, so that the delete cannot fail), DELTABLE,
 *   NEWTABLE, per set NEWSET + NEWSETELEM..., per chain NEWCHAIN,
 *   NEWRULE..., END
 * Either all of it commits or none of it does. Every message has its own
 * sequence number and asks for an ack, so a refusal maps back to the set
 * or rule (and from there to the policy rule) that caused it.
 *
 * Each rule's bytecode comes from nl_expr.c: the one nft 1.0 emits for
 * the text form documented in model.h, so that `nft list table` prints the
 * same for both ways of loading it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

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

#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"
#include "util.h"

/* Kernel elements per NEWSETELEM message: the element list is one nested
 * attribute whose length is 16 bits, so keep it well under 64 KiB. */
#define ELEMS_PER_MSG	512

/* ---- sets ---- */

/* The bytes of one key component of an element (padded to @ki.len). */
static void value_bytes(enum match_key key, const struct mvalue *v,
			const struct nl_keyinfo *ki, bool end, uint8_t *out)
{
	uint32_t u32;

	memset(out, 0, ki->len);
	switch (key) {
	case KEY_SADDR:
	case KEY_DADDR:
		memcpy(out, v->prefix.addr, ki->len);
		if (end) {	/* last address of the prefix */
			uint32_t i;

			for (i = v->prefix.plen; i < ki->len * 8; i++)
				out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		}
		break;
	case KEY_SPORT:
	case KEY_DPORT:
		nl_put_be16(out, end ? v->range.hi : v->range.lo);
		break;
	case KEY_SKUID:
	case KEY_SKGID:
		u32 = v->num;
		memcpy(out, &u32, 4);
		break;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		if (v->str)
			strncpy((char *)out, v->str, ki->len - 1);
		break;
	default:
		out[0] = (uint8_t)v->num;
		break;
	}
}

struct set_desc {
	struct nl_keyinfo ki[MSET_MAX_KEYS];
	uint32_t type, len, byteorder;
	bool concat;
};

static int set_desc(const struct mset *s, struct set_desc *d)
{
	size_t k;

	memset(d, 0, sizeof(*d));
	if (!s->n_keys || s->n_keys > MSET_MAX_KEYS)
		return -EINVAL;
	for (k = 0; k < s->n_keys; k++) {
		if (nl_keyinfo(s->keys[k], s->family, &d->ki[k]) < 0)
			return -EOPNOTSUPP;
		d->type = (d->type << NL_TYPE_BITS) | d->ki[k].type;
	}
	d->concat = s->n_keys > 1;
	if (d->concat) {
		for (k = 0; k < s->n_keys; k++)
			d->len += nl_reg_round(d->ki[k].len);
		d->byteorder = NL_BYTEORDER_INVALID;
	} else {
		d->len = d->ki[0].len;
		d->byteorder = d->ki[0].byteorder;
	}
	return 0;
}

static struct nftnl_set *set_build(const struct model *m, size_t i,
				   const struct set_desc *d)
{
	/* nft 1.0.6 marks concatenated keys in the set's userdata this way
	 * (KEY_TYPEOF nest of a concat expression); `nft list` uses it */
	static const uint8_t concat_udata[] = {
		0x03, 0x08, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
	};
	const struct mset *s = &m->sets[i];
	struct nftnl_set *ns = nftnl_set_alloc();
	uint8_t udata[32];
	size_t ulen = 0;
	uint32_t flags = 0;

	if (!ns)
		abort();
	if (s->interval)
		flags |= NFT_SET_INTERVAL | (d->concat ? NFT_SET_CONCAT : 0);
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, m->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, s->name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, d->type);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, d->len);
	nftnl_set_set_u32(ns, NFTNL_SET_ID, (uint32_t)i + 1);
	if (d->concat && s->interval) {
		uint8_t fl[NFT_REG32_COUNT] = { 0 };
		size_t k;

		for (k = 0; k < s->n_keys; k++)
			fl[k] = (uint8_t)d->ki[k].len;
		nftnl_set_set_data(ns, NFTNL_SET_DESC_CONCAT, fl, (uint32_t)s->n_keys);
	}
	udata[ulen++] = NFTNL_UDATA_SET_KEYBYTEORDER;
	udata[ulen++] = 4;
	memcpy(udata + ulen, &d->byteorder, 4);
	ulen += 4;
	if (d->concat) {
		memcpy(udata + ulen, concat_udata, sizeof(concat_udata));
		ulen += sizeof(concat_udata);
	}
	nftnl_set_set_data(ns, NFTNL_SET_USERDATA, udata, (uint32_t)ulen);
	return ns;
}

/* One kernel element, appended to an open element list. */
struct kelem {
	const uint8_t *key, *key_end;
	uint32_t len;
	bool end_flag, open;
};

static void put_kelem(struct nlmsghdr *nlh, uint16_t idx, const struct kelem *k)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, idx), *n;

	if (k->end_flag)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, k->len, k->key);
	mnl_attr_nest_end(nlh, n);
	if (k->key_end) {
		n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, k->len, k->key_end);
		mnl_attr_nest_end(nlh, n);
	}
	if (k->open) {
		static const uint8_t ud[] = { NFTNL_UDATA_SET_ELEM_FLAGS, 4,
					      NFTNL_SET_ELEM_F_INTERVAL_OPEN, 0, 0, 0 };

		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
	}
	mnl_attr_nest_end(nlh, e);
}

/* Writes NEWSETELEM messages: a new one whenever the current one is full. */
struct elem_writer {
	struct nl_txn *b;
	const struct model *m;
	size_t set;
	struct nlmsghdr *nlh;
	struct nlattr *list;
	size_t n_in_msg;
	size_t elem;		/* model element being written */
	size_t first;		/* first model element of the open message */
};

static void ew_flush(struct elem_writer *w)
{
	if (!w->nlh)
		return;
	mnl_attr_nest_end(w->nlh, w->list);
	nl_txn_commit(w->b, w->nlh, &(struct nl_tag){ .what = NL_TAG_SET, .side = 1,
						      .set = w->set,
						      .elem = w->first + 1 });
	w->nlh = NULL;
}

static void ew_put(struct elem_writer *w, const struct kelem *k)
{
	if (w->nlh && w->n_in_msg >= ELEMS_PER_MSG)
		ew_flush(w);
	if (!w->nlh) {
		const struct mset *s = &w->m->sets[w->set];

		w->nlh = nl_txn_msg(w->b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_TABLE, w->m->table);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_SET, s->name);
		mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_LIST_SET_ID,
				 htonl((uint32_t)w->set + 1));
		w->list = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		w->n_in_msg = 0;
		w->first = w->elem;
	}
	put_kelem(w->nlh, (uint16_t)(w->n_in_msg + 1), k);
	w->n_in_msg++;
}

static int elem_idx_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct mset *s = ctx;
	const size_t *a = pa, *b = pb;

	return melem_cmp(s, &s->elems[*a], &s->elems[*b]);
}

/*
 * Elements as nft sends them. Plain sets: one key each. Concatenated
 * interval sets: key and key_end (inclusive). Other interval sets: a start
 * and an end marker (first value after the interval) per element, the end
 * left out when the interval reaches the top (then flagged open), and a
 * leading end marker at zero when the first interval does not start there.
 */
static int set_elems(struct nl_txn *b, const struct model *m, size_t si,
		     const struct set_desc *d)
{
	const struct mset *s = &m->sets[si];
	struct elem_writer w = { .b = b, .m = m, .set = si };
	uint8_t key[64], key_end[64];
	size_t *order, i, k;
	bool has_end;

	if (!s->n_elems)
		return 0;
	order = xcalloc(s->n_elems, sizeof(*order));
	for (i = 0; i < s->n_elems; i++)
		order[i] = i;
	/* compile.c and nl_read.c hand over sets already in melem_cmp()
	 * order (s->sorted): sorting 110,000 elements again cost 3% of an
	 * apply */
	if (s->interval && !d->concat && !s->sorted)
		qsort_r(order, s->n_elems, sizeof(*order), elem_idx_cmp, (void *)s);
	for (i = 0; i < s->n_elems; i++) {
		const struct melem *e = &s->elems[order[i]];

		w.elem = order[i];
		struct kelem ke = { .key = key, .len = d->len };

		if (d->concat) {
			uint32_t off = 0;

			memset(key, 0, d->len);
			memset(key_end, 0, d->len);
			for (k = 0; k < s->n_keys; k++) {
				value_bytes(s->keys[k], &e->v[k], &d->ki[k], false,
					    key + off);
				value_bytes(s->keys[k], &e->v[k], &d->ki[k], true,
					    key_end + off);
				off += nl_reg_round(d->ki[k].len);
			}
			if (s->interval)
				ke.key_end = key_end;
			ew_put(&w, &ke);
			continue;
		}
		value_bytes(s->keys[0], &e->v[0], &d->ki[0], false, key);
		if (!s->interval) {
			ew_put(&w, &ke);
			continue;
		}
		if (i == 0) {
			uint8_t zero[64] = { 0 };

			if (memcmp(key, zero, d->len)) {
				struct kelem z = { .key = zero, .len = d->len,
						   .end_flag = true };
				ew_put(&w, &z);
			}
		}
		value_bytes(s->keys[0], &e->v[0], &d->ki[0], true, key_end);
		has_end = nl_be_inc(key_end, d->len);
		ke.open = !has_end;
		ew_put(&w, &ke);
		if (has_end) {
			struct kelem ee = { .key = key_end, .len = d->len,
					    .end_flag = true };

			ew_put(&w, &ee);
		}
	}
	ew_flush(&w);
	free(order);
	return 0;
}

void nl_put_table(struct nl_txn *b, const char *name, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		abort();
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nlh = nl_txn_msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nl_txn_commit(b, nlh, NULL);
}

static void put_chain(struct nl_txn *b, const struct model *m, size_t i)
{
	const struct mchain *c = &m->chains[i];
	struct nftnl_chain *nc = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!nc)
		abort();
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, m->table);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, c->name);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY,
			    c->policy == MV_DROP ? NF_DROP : NF_ACCEPT);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM,
			    c->hook == HOOK_OUTPUT ? NF_INET_LOCAL_OUT : NF_INET_LOCAL_IN);
	nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, c->priority);
	nlh = nl_txn_msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_CHAIN, .side = 1, .chain = i });
}

int nl_build_replace(struct nl_txn *b, const struct model *m, struct diag *d)
{
	struct nlmsghdr *nlh;
	size_t i, j;
	int ret;

	nl_put_table(b, m->table, NFT_MSG_NEWTABLE);
	nl_put_table(b, m->table, NFT_MSG_DELTABLE);
	nl_put_table(b, m->table, NFT_MSG_NEWTABLE);
	for (i = 0; i < m->n_sets; i++) {
		struct set_desc sd;
		struct nftnl_set *ns;

		ret = set_desc(&m->sets[i], &sd);
		if (ret < 0) {
			diag_error(d, NULL, "set \"%s\": key type not supported",
				   m->sets[i].name);
			return ret;
		}
		ns = set_build(m, i, &sd);
		nlh = nl_txn_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		nftnl_set_free(ns);
		nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_SET, .side = 1, .set = i });
		set_elems(b, m, i, &sd);
	}
	for (i = 0; i < m->n_chains; i++)
		put_chain(b, m, i);
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *c = &m->chains[i];

		for (j = 0; j < c->n_rules; j++) {
			const struct mrule *mr = &c->rules[j];
			struct nftnl_rule *r = nl_rule_build(m, c, mr, &ret);

			if (!r) {
				const char *name = mr->origin ? mr->origin->name :
						   mr->comment ? mr->comment : "?";

				diag_error(d, mr->origin ? &mr->origin->loc : NULL,
					   "rule \"%s\" cannot be loaded: %s", name,
					   strerror(-ret));
				return ret;
			}
			nlh = nl_txn_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
			nftnl_rule_nlmsg_build_payload(nlh, r);
			nftnl_rule_free(r);
			nl_txn_commit(b, nlh, &(struct nl_tag){
				.what = NL_TAG_RULE, .side = 1, .chain = i, .rule = j });
		}
	}
	return 0;
}


void nl_report_error(void *ctx, const struct nl_tag *tag, int err,
		     const char *why)
{
	struct nl_err_ctx *c = ctx;
	const struct model *m = tag && tag->side == 0 && c->old ? c->old : c->m;
	char reason[256];

	snprintf(reason, sizeof(reason), "%s%s%s%s", strerror(-err),
		 why ? " (" : "", why ? why : "", why ? ")" : "");
	if (tag && tag->what == NL_TAG_RULE) {
		const struct mrule *r = &m->chains[tag->chain].rules[tag->rule];
		const char *name = r->origin ? r->origin->name :
				   r->origin_name ? r->origin_name :
				   r->comment ? r->comment : "?";

		diag_error(c->d, r->origin ? &r->origin->loc : NULL,
			   "kernel refused rule \"%s\" (chain %s): %s", name,
			   m->chains[tag->chain].name, reason);
	} else if (tag && tag->what == NL_TAG_SET) {
		const struct mset *s = &m->sets[tag->set];
		const struct rule *o = NULL;

		/* an element message names the rule of its first element */
		if (tag->elem && tag->elem - 1 < s->n_elems)
			o = s->elems[tag->elem - 1].origin;
		if (o)
			diag_error(c->d, &o->loc,
				   "kernel refused elements of set \"%s\" (from rule \"%s\" and others): %s",
				   s->name, o->name, reason);
		else
			diag_error(c->d, NULL, "kernel refused set \"%s\": %s",
				   s->name, reason);
	} else if (tag && tag->what == NL_TAG_CHAIN) {
		diag_error(c->d, NULL, "kernel refused chain \"%s\": %s",
			   m->chains[tag->chain].name, reason);
	} else {
		diag_error(c->d, NULL, "kernel refused table \"%s\": %s",
			   c->m->table, reason);
	}
}
