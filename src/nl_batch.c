// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model -> libnftnl objects -> the messages of one transaction (libnftnl
 * examples/nft-rule-add.c). nl_sock.c sends them; nl_apply.c decides
 * what to send.
 *
 * Transactions touch the model's table and nothing else. An incremental
 * one (nl_build_delta(), the plan of model_delta.c) deletes by handle and
 * name what goes and adds what comes, leaving every rule that stays
 * alone. A replacing one (a new table, or one that cannot change in
 * place):
 *   BEGIN, NEWTABLE (create, so that the delete cannot fail), DELTABLE,
 *   NEWTABLE, per set NEWSET + NEWSETELEM..., per chain NEWCHAIN,
 *   NEWRULE..., END
 * Either all of it commits or none of it does. Every message has its own
 * sequence number and asks for an ack, and its tag names the object of
 * the old or the new model it stands for, so a refusal maps back to the
 * set or rule (and from there to the policy rule) that caused it
 * (nl_report_error()).
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

#include "model_delta.h"
#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"
#include "util.h"

/* Kernel elements per NEWSETELEM message: the element list is one nested
 * attribute whose length is 16 bits, so keep it well under 64 KiB. */
#define ELEMS_PER_MSG	512

/* ---- sets ---- */

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
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	uint8_t udata[32];
	size_t ulen = 0;
	uint32_t flags = 0;

	if (s->interval)
		flags |= NFT_SET_INTERVAL | (d->concat ? NFT_SET_CONCAT : 0);
	if (s->timeout)
		flags |= NFT_SET_TIMEOUT;
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
	uint64_t timeout_ms, expires_ms;	/* a run-time element kept */
	const char *comment;
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
	if (k->timeout_ms) {
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT,
				 htobe64(k->timeout_ms));
		if (k->expires_ms)
			mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION,
					 htobe64(k->expires_ms));
	}
	if (k->comment && !k->open) {
		/* nft's comment TLV (NFTNL_UDATA_SET_ELEM_COMMENT) */
		uint8_t ud[2 + 256];
		size_t len = strnlen(k->comment, 254) + 1;

		ud[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
		ud[1] = (uint8_t)len;
		memcpy(ud + 2, k->comment, len - 1);
		ud[1 + len] = '\0';
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, 2 + len, ud);
	}
	mnl_attr_nest_end(nlh, e);
}

/* Writes NEWSETELEM or DELSETELEM messages of one set: a new message
 * whenever the current one is full. */
struct elem_writer {
	struct nl_txn *b;
	const struct model *m;
	size_t set;
	uint16_t type;		/* NFT_MSG_NEWSETELEM or NFT_MSG_DELSETELEM */
	int side;		/* tag side: which model @m is */
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
	nl_txn_commit(w->b, w->nlh, &(struct nl_tag){ .what = NL_TAG_SET,
						      .side = w->side,
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

		w->nlh = nl_txn_msg(w->b, w->type,
				    w->type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_TABLE, w->m->table);
		mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_SET, s->name);
		if (w->side)	/* a set created in this batch has this id */
			mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_LIST_SET_ID,
					 htonl((uint32_t)w->set + 1));
		w->list = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		w->n_in_msg = 0;
		w->first = w->elem;
	}
	put_kelem(w->nlh, (uint16_t)(w->n_in_msg + 1), k);
	w->n_in_msg++;
}

/* The one kernel element of model element @idx of a plain or a
 * concatenated set: key, and for a concatenated interval set key_end
 * (inclusive). */
static void ew_elem(struct elem_writer *w, const struct mset *s,
		    const struct set_desc *d, size_t idx)
{
	const struct melem *e = &s->elems[idx];
	uint8_t key[64], key_end[64];
	struct kelem ke = { .key = key, .len = d->len };
	uint32_t off = 0;
	size_t k;

	w->elem = idx;
	memset(key, 0, d->len);
	memset(key_end, 0, d->len);
	for (k = 0; k < s->n_keys; k++) {
		nl_value_bytes(s->keys[k], &e->v[k], &d->ki[k], false, key + off);
		if (d->concat && s->interval)
			nl_value_bytes(s->keys[k], &e->v[k], &d->ki[k], true,
				    key_end + off);
		off += d->concat ? nl_reg_round(d->ki[k].len) : d->ki[k].len;
	}
	if (d->concat && s->interval)
		ke.key_end = key_end;
	ke.timeout_ms = e->timeout_ms;
	ke.expires_ms = e->expires_ms;
	ke.comment = e->comment;
	ew_put(w, &ke);
}

static int elem_idx_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct mset *s = ctx;
	const size_t *a = pa, *b = pb;

	return melem_cmp(s, &s->elems[*a], &s->elems[*b]);
}

/* One boundary of a one-key interval (rbtree) set, as the kernel holds it. */
struct bound {
	uint8_t key[16];
	bool end, open;
	size_t elem;		/* the model element it belongs to */
};

static bool rbtree_set(const struct mset *s, const struct set_desc *d)
{
	return s->interval && !d->concat;
}

/*
 * The boundaries of a one-key interval set, in order, as nft sends them: a
 * start and an end marker (first value after the interval) per element,
 * the end left out when the interval reaches the top (then flagged open),
 * and a leading end marker at zero when the first interval does not start
 * there. The kernel holds exactly these, so two versions of a set differ
 * by the boundaries only one of them has.
 */
static struct bound *set_bounds(const struct mset *s, const struct set_desc *d,
				size_t *n_out)
{
	struct bound *v = xcalloc(2 * s->n_elems + 2, sizeof(*v));
	uint8_t key[16], key_end[16], zero[16] = { 0 };
	size_t *order, i, n = 0;

	order = xcalloc(s->n_elems + 1, sizeof(*order));
	for (i = 0; i < s->n_elems; i++)
		order[i] = i;
	/* compile.c and nl_read.c hand over sets already in melem_cmp()
	 * order (s->sorted): sorting 110,000 elements again cost 3% of an
	 * apply */
	if (!s->sorted)
		qsort_r(order, s->n_elems, sizeof(*order), elem_idx_cmp, (void *)s);
	for (i = 0; i < s->n_elems; i++) {
		const struct melem *e = &s->elems[order[i]];
		bool has_end;

		nl_value_bytes(s->keys[0], &e->v[0], &d->ki[0], false, key);
		if (i == 0 && memcmp(key, zero, d->len))
			v[n++] = (struct bound){ .end = true, .elem = order[i] };
		nl_value_bytes(s->keys[0], &e->v[0], &d->ki[0], true, key_end);
		has_end = nl_be_inc(key_end, d->len);
		memcpy(v[n].key, key, d->len);
		v[n].open = !has_end;
		v[n++].elem = order[i];
		if (has_end) {
			memcpy(v[n].key, key_end, d->len);
			v[n].end = true;
			v[n++].elem = order[i];
		}
	}
	free(order);
	*n_out = n;
	return v;
}

static void ew_bound(struct elem_writer *w, const struct bound *bd,
		     uint32_t len)
{
	struct kelem ke = { .key = bd->key, .len = len, .end_flag = bd->end,
			    .open = bd->open };

	w->elem = bd->elem;
	ew_put(w, &ke);
}

/* Every element of set @si of @m, as nft sends them. */
static void set_elems(struct nl_txn *b, const struct model *m, size_t si,
		      const struct set_desc *d)
{
	const struct mset *s = &m->sets[si];
	struct elem_writer w = { .b = b, .m = m, .set = si, .side = 1,
				 .type = NFT_MSG_NEWSETELEM };
	size_t i, n;

	if (!s->n_elems)
		return;
	if (rbtree_set(s, d)) {
		struct bound *v = set_bounds(s, d, &n);

		for (i = 0; i < n; i++)
			ew_bound(&w, &v[i], d->len);
		free(v);
	} else {
		for (i = 0; i < s->n_elems; i++)
			ew_elem(&w, s, d, i);
	}
	ew_flush(&w);
}

static int bound_cmp(const struct bound *a, const struct bound *b, uint32_t len)
{
	int c = memcmp(a->key, b->key, len);

	if (c)
		return c;
	if (a->end != b->end)
		return a->end ? -1 : 1;	/* an end before a start */
	return (int)a->open - (int)b->open;
}

/*
 * The element changes of a set that stays: deletions first (a boundary
 * may go and come back with another flag), then additions. Plain and
 * concatenated sets send the model elements of the plan; a one-key
 * interval set sends the boundaries only one version has.
 */
static void set_elems_delta(struct nl_txn *b, const struct model *old,
			    size_t oi, const struct model *new, size_t ni,
			    const struct set_delta *sd, const struct set_desc *d)
{
	const struct mset *os = &old->sets[oi], *ns = &new->sets[ni];
	struct elem_writer wd = { .b = b, .m = old, .set = oi, .side = 0,
				  .type = NFT_MSG_DELSETELEM };
	struct elem_writer wa = { .b = b, .m = new, .set = ni, .side = 1,
				  .type = NFT_MSG_NEWSETELEM };
	size_t i;

	if (!sd->n_add && !sd->n_del)
		return;
	if (!rbtree_set(ns, d)) {
		for (i = 0; i < sd->n_del; i++)
			ew_elem(&wd, os, d, sd->del[i]);
		ew_flush(&wd);
		for (i = 0; i < sd->n_add; i++)
			ew_elem(&wa, ns, d, sd->add[i]);
		ew_flush(&wa);
		return;
	}
	{
		size_t na, nb, j, k;
		struct bound *va = set_bounds(os, d, &na);
		struct bound *vb = set_bounds(ns, d, &nb);
		/* a timeout set keeps its unlisted elements: only the
		 * boundaries of listed ones may go */
		bool keep = ns->timeout;

		for (j = k = 0; j < na || k < nb;) {
			int c = j == na ? 1 : k == nb ? -1 :
				bound_cmp(&va[j], &vb[k], d->len);

			if (!c) {
				j++;
				k++;
			} else if (c < 0) {
				if (!keep)
					ew_bound(&wd, &va[j], d->len);
				j++;
			} else {
				k++;
			}
		}
		ew_flush(&wd);
		for (j = k = 0; j < na || k < nb;) {
			int c = j == na ? 1 : k == nb ? -1 :
				bound_cmp(&va[j], &vb[k], d->len);

			if (!c) {
				j++;
				k++;
			} else if (c < 0) {
				j++;
			} else {
				ew_bound(&wa, &vb[k], d->len);
				k++;
			}
		}
		ew_flush(&wa);
		free(va);
		free(vb);
	}
}

void nl_put_table(struct nl_txn *b, const char *name, uint16_t type)
{
	struct nftnl_table *t = XALLOC(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	if (type == NFT_MSG_NEWTABLE) {
		/* the ownership mark: nft's table comment TLV, so that
		 * `nft list` shows it and `nft -f` of a listing keeps it */
		uint8_t ud[2 + sizeof(OWNER_MARK)];

		ud[0] = NFTNL_UDATA_TABLE_COMMENT;
		ud[1] = sizeof(OWNER_MARK);
		memcpy(ud + 2, OWNER_MARK, sizeof(OWNER_MARK));
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
		nftnl_table_set_data(t, NFTNL_TABLE_USERDATA, ud, sizeof(ud));
	}
	nlh = nl_txn_msg(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nl_txn_commit(b, nlh, NULL);
}

static void put_chain(struct nl_txn *b, const struct model *m, size_t i)
{
	const struct mchain *c = &m->chains[i];
	struct nftnl_chain *nc = XALLOC(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

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

static int put_set(struct nl_txn *b, const struct model *m, size_t i,
		   struct set_desc *sd, struct diag *d)
{
	struct nftnl_set *ns;
	struct nlmsghdr *nlh;
	int ret = set_desc(&m->sets[i], sd);

	if (ret < 0) {
		diag_error(d, NULL, "set \"%s\": key type not supported",
			   m->sets[i].name);
		return ret;
	}
	ns = set_build(m, i, sd);
	nlh = nl_txn_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_SET, .side = 1,
						.set = i });
	return 0;
}

/*
 * A NEWRULE for rule @j of chain @ci of @m: appended, or, when @before is
 * a handle, inserted before that rule. @carry: the live rule whose counter
 * values the new one starts with (a recreated table, or a rule whose NFLOG
 * prefix alone changed), or NULL.
 */
static int put_rule(struct nl_txn *b, const struct model *m, size_t ci,
		    size_t j, uint64_t before, const struct mrule *carry,
		    struct diag *d)
{
	const struct mchain *c = &m->chains[ci];
	struct mrule mr = c->rules[j];
	struct nftnl_rule *r;
	struct nlmsghdr *nlh;
	int ret;

	if (carry) {
		mr.packets = carry->packets;
		mr.bytes = carry->bytes;
	}
	r = nl_rule_build(m, c, &mr, &ret);
	if (!r) {
		const char *name = mr.origin ? mr.origin->name :
				   mr.comment ? mr.comment : "?";

		diag_error(d, mr.origin ? &mr.origin->loc : NULL,
			   "rule \"%s\" cannot be loaded: %s", name,
			   strerror(-ret));
		return ret;
	}
	if (before)
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, before);
	nlh = nl_txn_msg(b, NFT_MSG_NEWRULE,
			 before ? NLM_F_CREATE : NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_RULE, .side = 1,
						.chain = ci, .rule = j });
	return 0;
}

/* The live rule a wanted rule is paired with, or NULL. */
static const struct mrule *paired(const struct model *old,
				  const struct model_delta *dl, size_t ci,
				  size_t j)
{
	size_t oc, o;

	if (!old || !dl || (oc = dl->chain_old[ci]) == DELTA_NONE ||
	    (o = dl->rule_old[ci][j]) == DELTA_NONE)
		return NULL;
	return &old->chains[oc].rules[o];
}

/* The live rule a new rule takes its counter values from: the paired one,
 * or one that differed only in its NFLOG prefix (model_delta.h). */
static const struct mrule *carried(const struct model *old,
				   const struct model_delta *dl, size_t ci,
				   size_t j)
{
	const struct mrule *r = paired(old, dl, ci, j);
	size_t o;

	if (r || !old || !dl || !dl->rule_carry ||
	    dl->chain_old[ci] == DELTA_NONE ||
	    (o = dl->rule_carry[ci][j]) == DELTA_NONE)
		return r;
	return &old->chains[dl->chain_old[ci]].rules[o];
}

int nl_build_queue_probe(struct nl_txn *b, const struct model *probe,
			 struct diag *d)
{
	char *absent = xasprintf("%s_absent", probe->table);
	int ret;

	nl_put_table(b, probe->table, NFT_MSG_NEWTABLE);
	put_chain(b, probe, 0);
	ret = put_rule(b, probe, 0, 0, 0, NULL, d);
	nl_put_table(b, absent, NFT_MSG_DELTABLE);
	free(absent);
	return ret;
}

int nl_build_replace(struct nl_txn *b, const struct model *m,
		     const struct model *old, const struct model_delta *dl,
		     struct diag *d)
{
	size_t i, j;
	int ret;

	nl_put_table(b, m->table, NFT_MSG_NEWTABLE);
	nl_put_table(b, m->table, NFT_MSG_DELTABLE);
	nl_put_table(b, m->table, NFT_MSG_NEWTABLE);
	for (i = 0; i < m->n_sets; i++) {
		struct set_desc sd;

		ret = put_set(b, m, i, &sd, d);
		if (ret < 0)
			return ret;
		set_elems(b, m, i, &sd);
		/* a timeout set keeps what was added at run time */
		if (old && dl && dl->set_old[i] != DELTA_NONE &&
		    dl->sets[i].n_kept_extra && !rbtree_set(&m->sets[i], &sd)) {
			struct elem_writer w = { .b = b, .m = old,
						 .set = dl->set_old[i], .side = 0,
						 .type = NFT_MSG_NEWSETELEM };

			for (j = 0; j < dl->sets[i].n_kept_extra; j++)
				ew_elem(&w, &old->sets[dl->set_old[i]], &sd,
					dl->sets[i].kept_extra[j]);
			ew_flush(&w);
		}
	}
	for (i = 0; i < m->n_chains; i++)
		put_chain(b, m, i);
	for (i = 0; i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++) {
			ret = put_rule(b, m, i, j, 0, carried(old, dl, i, j), d);
			if (ret < 0)
				return ret;
		}
	return 0;
}

int nl_build_sets(struct nl_txn *b, const struct model *m, struct diag *d)
{
	size_t i;
	int ret;

	for (i = 0; i < m->n_sets; i++) {
		struct set_desc sd;

		ret = put_set(b, m, i, &sd, d);
		if (ret < 0)
			return ret;
		set_elems(b, m, i, &sd);
	}
	return 0;
}

static void del_rule(struct nl_txn *b, const struct model *old, size_t ci,
		     size_t j)
{
	struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());
	struct nlmsghdr *nlh;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, old->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, old->chains[ci].name);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, old->chains[ci].rules[j].handle);
	nlh = nl_txn_msg(b, NFT_MSG_DELRULE, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_RULE, .side = 0,
						.chain = ci, .rule = j });
}

static void del_chain(struct nl_txn *b, const struct model *old, size_t ci)
{
	struct nftnl_chain *nc = XALLOC(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, old->table);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, old->chains[ci].name);
	nlh = nl_txn_msg(b, NFT_MSG_DELCHAIN, 0);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_CHAIN, .side = 0,
						.chain = ci });
}

static void del_set(struct nl_txn *b, const struct model *old, size_t si)
{
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, old->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, old->sets[si].name);
	nlh = nl_txn_msg(b, NFT_MSG_DELSET, 0);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	nl_txn_commit(b, nlh, &(struct nl_tag){ .what = NL_TAG_SET, .side = 0,
						.set = si });
}

int nl_build_delta(struct nl_txn *b, const struct model *old,
		   const struct model *new, const struct model_delta *dl,
		   struct diag *d)
{
	size_t i, j;
	int ret;

	if (dl->create || dl->recreate)
		return nl_build_replace(b, new, old, dl, d);

	/* what goes: rules first (they hold the sets), chains with their
	 * rules, sets, then elements of sets that stay */
	for (i = 0; i < old->n_chains; i++) {
		if (dl->chain_del[i]) {
			del_chain(b, old, i);
			continue;
		}
		for (j = 0; j < old->chains[i].n_rules; j++)
			if (dl->rule_del[i][j])
				del_rule(b, old, i, j);
	}
	for (i = 0; i < old->n_sets; i++)
		/* an anonymous set goes with its rule */
		if (dl->set_del[i] && strncmp(old->sets[i].name, "__", 2))
			del_set(b, old, i);
	for (i = 0; i < new->n_sets; i++) {
		struct set_desc sd;

		if (dl->set_old[i] == DELTA_NONE) {
			ret = put_set(b, new, i, &sd, d);
			if (ret < 0)
				return ret;
			set_elems(b, new, i, &sd);
			continue;
		}
		if (set_desc(&new->sets[i], &sd) < 0)
			return -EOPNOTSUPP;
		set_elems_delta(b, old, dl->set_old[i], new, i, &dl->sets[i], &sd);
	}
	for (i = 0; i < new->n_chains; i++)
		if (dl->chain_old[i] == DELTA_NONE || dl->policy_changed[i])
			put_chain(b, new, i);
	/* what comes: each new rule before the next rule that stays, or at
	 * the end of its chain */
	for (i = 0; i < new->n_chains; i++) {
		const struct mchain *c = &new->chains[i];
		uint64_t *before = xcalloc(c->n_rules + 1, sizeof(*before));
		uint64_t next = 0;

		for (j = c->n_rules; j-- > 0;) {
			const struct mrule *o = paired(old, dl, i, j);

			if (o)
				next = o->handle;
			else
				before[j] = next;
		}
		for (j = 0; j < c->n_rules; j++) {
			if (paired(old, dl, i, j))
				continue;
			ret = put_rule(b, new, i, j, before[j],
				       carried(old, dl, i, j), d);
			if (ret < 0) {
				free(before);
				return ret;
			}
		}
		free(before);
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
