// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The staged table (stage.h has its layout): built from the compiled
 * staged policy and a copy of the enforced table, sent in one
 * transaction; its shadow copy replaced when the enforced table changes;
 * its staged rules read back with their counters for `status`.
 *
 * The match bytecode of every rule is nl_rule_build()'s, the same as the
 * enforced table's; this module only appends what no policy rule has:
 * goto/return, `log group`, and the 5-tuple lookup and update of the
 * `seen` sets that make a record once per connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "kv.h"
#include "logprefix.h"
#include "model_cmp.h"
#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"
#include "stage.h"
#include "util.h"

#define SHADOW_PREFIX "enforced_"
#define STAGED_PREFIX "staged_"

int stage_table_name(const char *table, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s%s", table, STAGE_SUFFIX);

	return n < 0 || (size_t)n >= len || n > 255 ? -ENAMETOOLONG : 0;
}

static const char *dir_chain(enum direction dir)
{
	return dir == DIR_IN ? "input" : "output";
}

static enum stage_code code_of(enum mverdict v)
{
	switch (v) {
	case MV_ACCEPT:
		return STAGE_ACCEPT;
	case MV_DROP:
		return STAGE_DROP;
	default:
		return STAGE_REJECT;
	}
}

static enum verdict verdict_of_code(uint32_t c)
{
	return c == STAGE_ACCEPT ? VERDICT_ACCEPT :
	       c == STAGE_DROP ? VERDICT_DROP : VERDICT_REJECT;
}

/* ---- the combined model: the sets of both policies ---- */

static void copy_sets(struct model *to, const struct model *from,
		      const char *prefix)
{
	size_t i, j, k;

	for (i = 0; i < from->n_sets; i++) {
		const struct mset *s = &from->sets[i];
		char *name = xasprintf("%s%s", prefix, s->name);
		struct mset *n = model_add_set(to, name);

		free(name);
		memcpy(n->keys, s->keys, sizeof(n->keys));
		n->n_keys = s->n_keys;
		n->family = s->family;
		n->interval = s->interval;
		n->timeout = s->timeout;
		for (j = 0; j < s->n_elems; j++) {
			struct melem *e = mset_add_elem(n);

			*e = s->elems[j];
			for (k = 0; k < MSET_MAX_KEYS; k++)
				if (s->elems[j].v[k].str)
					e->v[k].str = xstrdup(s->elems[j].v[k].str);
		}
		n->sorted = s->sorted;
	}
}

/* ---- messages ---- */

struct builder {
	struct nl_txn *t;
	struct model *c;	/* the combined model (sets) */
	const char *table;	/* the staged table */
	uint16_t group;
	char **names;		/* what each rule message stands for */
	size_t n_names, cap_names;
};

static void put_chain(struct builder *b, const char *name, int hook,
		      bool base)
{
	struct nftnl_chain *nc = XALLOC(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, b->table);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, name);
	if (base) {
		nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, STAGE_PRIORITY);
	}
	nlh = nl_txn_msg(b->t, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	nl_txn_commit(b->t, nlh, NULL);
}

/* Delete every rule of chain @name (nft's `flush chain`). */
static void flush_chain(struct builder *b, const char *name)
{
	struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());
	struct nlmsghdr *nlh;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, b->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nlh = nl_txn_msg(b->t, NFT_MSG_DELRULE, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nl_txn_commit(b->t, nlh, NULL);
}

static void del_set(struct builder *b, const char *name)
{
	struct nftnl_set *s = XALLOC(nftnl_set_alloc());
	struct nlmsghdr *nlh;

	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, b->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nl_txn_msg(b->t, NFT_MSG_DELSET, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nl_txn_commit(b->t, nlh, NULL);
}

/* A rule of @chain: @src's matches (sets shifted by @set_off), @counter,
 * no verdict, no log; NULL @src: no matches. */
static struct nftnl_rule *rule_start(struct builder *b, const char *chain,
				     const struct mrule *src, size_t set_off,
				     bool counter, int *err)
{
	struct mchain fake = { .name = (char *)chain };
	struct mrule mr = { .verdict = MV_NONE, .counter = counter };
	struct nftnl_rule *r;
	size_t i;

	if (src) {
		mr.n_matches = src->n_matches;
		mr.matches = xcalloc(src->n_matches + 1, sizeof(*mr.matches));
		for (i = 0; i < src->n_matches; i++) {
			mr.matches[i] = src->matches[i];
			if (mr.matches[i].set >= 0)
				mr.matches[i].set += (int)set_off;
		}
		mr.origin_run = src->origin_run;
	}
	r = nl_rule_build(b->c, &fake, &mr, err);
	free(mr.matches);
	return r;
}

static void e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = XALLOC(nftnl_expr_alloc("immediate"));

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

static void e_log(struct nftnl_rule *r, uint16_t group, const char *prefix)
{
	struct nftnl_expr *e = XALLOC(nftnl_expr_alloc("log"));

	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_rule_add_expr(r, e);
}

/* Append rule @r; @what names it in error messages. */
static void put_rule(struct builder *b, struct nftnl_rule *r, const char *what)
{
	struct nlmsghdr *nlh;
	char **slot = ARRAY_PUSH(b->names, b->n_names, b->cap_names);

	*slot = xstrdup(what);
	nlh = nl_txn_msg(b->t, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nl_txn_commit(b->t, nlh, &(struct nl_tag){ .what = NL_TAG_RULE,
						   .side = 1,
						   .rule = b->n_names - 1 });
}

static const struct mchain *chain_of(const struct model *m, enum direction dir)
{
	return m ? model_find_chain(m, dir == DIR_IN ? HOOK_INPUT : HOOK_OUTPUT) :
		   NULL;
}

/*
 * Exactly one record per connection: the first packet of a connection the
 * enforced policy drops comes again (TCP SYN and UDP retransmissions,
 * each ct state new, each with a fresh unconfirmed conntrack entry), so a
 * record is written only for a 5-tuple not in `seen_v4`/`seen_v6` (a
 * dynamic set whose elements time out after SEEN_TIMEOUT_MS), and the
 * 5-tuple is added in the same rule.
 */
#define SEEN_TIMEOUT_MS	60000u
#define SEEN_SIZE	65536u
#define SEEN_SET_ID	0x7fff0000u

static const char *seen_name(int fam)
{
	return fam == 4 ? "seen_v4" : "seen_v6";
}

/* key: saddr . daddr . l4proto . th sport . th dport, from NFT_REG_1 */
static uint32_t seen_len(int fam)
{
	return fam == 4 ? 20 : 44;
}

static void put_seen_set(struct builder *b, int fam)
{
	static const uint8_t concat_udata[] = {
		0x03, 0x08, 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
	};
	uint32_t at = fam == 4 ? NL_TYPE_IPADDR : NL_TYPE_IP6ADDR, type, bo = 0;
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	uint8_t udata[32];
	size_t ulen = 0;
	struct nlmsghdr *nlh;

	type = (((at << NL_TYPE_BITS | at) << NL_TYPE_BITS |
		 NL_TYPE_INET_PROTOCOL) << NL_TYPE_BITS |
		NL_TYPE_INET_SERVICE) << NL_TYPE_BITS | NL_TYPE_INET_SERVICE;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, b->table);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, seen_name(fam));
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_EVAL);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, type);
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, seen_len(fam));
	nftnl_set_set_u32(ns, NFTNL_SET_ID, SEEN_SET_ID + (uint32_t)fam);
	nftnl_set_set_u64(ns, NFTNL_SET_TIMEOUT, SEEN_TIMEOUT_MS);
	nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, SEEN_SIZE);
	udata[ulen++] = NFTNL_UDATA_SET_KEYBYTEORDER;
	udata[ulen++] = 4;
	memcpy(udata + ulen, &bo, 4);
	ulen += 4;
	memcpy(udata + ulen, concat_udata, sizeof(concat_udata));
	ulen += sizeof(concat_udata);
	nftnl_set_set_data(ns, NFTNL_SET_USERDATA, udata, (uint32_t)ulen);
	nlh = nl_txn_msg(b->t, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	nl_txn_commit(b->t, nlh, NULL);
}

static void e_load(struct nftnl_rule *r, const char *what, uint32_t base,
		   uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = XALLOC(nftnl_expr_alloc(what));

	if (!strcmp(what, "meta")) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	} else {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	nftnl_rule_add_expr(r, e);
}

/* nft's register of 32-bit word @w (netlink_put_register) */
static uint32_t word_reg(uint32_t w)
{
	return w % 4 == 0 ? NFT_REG_1 + w / 4 : NFT_REG32_00 + w;
}

/* meta nfproto F; the 5-tuple into NFT_REG_1...; != @seen_F; add @seen_F */
static void e_seen(struct nftnl_rule *r, int fam)
{
	uint32_t alen = fam == 4 ? 4 : 16, aw = alen / 4;
	uint8_t nfp = fam == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	struct nftnl_expr *e;

	e = XALLOC(nftnl_expr_alloc("meta"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_NFPROTO);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = XALLOC(nftnl_expr_alloc("cmp"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &nfp, 1);
	nftnl_rule_add_expr(r, e);
	e_load(r, "payload", NFT_PAYLOAD_NETWORK_HEADER, fam == 4 ? 12 : 8,
	       alen, word_reg(0));
	e_load(r, "payload", NFT_PAYLOAD_NETWORK_HEADER, fam == 4 ? 16 : 24,
	       alen, word_reg(aw));
	e_load(r, "meta", 0, 0, 0, word_reg(2 * aw));
	e_load(r, "payload", NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2,
	       word_reg(2 * aw + 1));
	e_load(r, "payload", NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
	       word_reg(2 * aw + 2));
	e = XALLOC(nftnl_expr_alloc("lookup"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, seen_name(fam));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, SEEN_SET_ID + (uint32_t)fam);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
	e = XALLOC(nftnl_expr_alloc("dynset"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_ADD);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, seen_name(fam));
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, SEEN_SET_ID + (uint32_t)fam);
	nftnl_expr_set_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT, SEEN_TIMEOUT_MS);
	nftnl_rule_add_expr(r, e);
}

/*
 * Rules left out of both copies: log-only rules decide nothing (and a
 * staged policy writes no kernel log), and the established rule never
 * matches here (the base chain lets only ct state new in).
 */
static bool skipped(const struct mrule *mr)
{
	return mr->verdict == MV_NONE ||
	       (mr->origin_name && !strcmp(mr->origin_name, "established")) ||
	       (!mr->origin && mr->n_matches == 1 &&
		mr->matches[0].key == KEY_CT_STATE && !mr->matches[0].negate);
}

static int elem_ptr_cmp(const void *pa, const void *pb, void *ctx)
{
	return melem_cmp(ctx, *(const struct melem *const *)pa,
			 *(const struct melem *const *)pb);
}

static const char *const code_word[] = {
	[STAGE_ACCEPT] = "accept", [STAGE_DROP] = "drop",
	[STAGE_REJECT] = "reject",
};

/* The copy of @dir's staged chain for enforced verdict @e. */
static void staged_chain(char *buf, size_t len, enum direction dir,
			 enum stage_code e)
{
	snprintf(buf, len, STAGED_PREFIX "%s_%s", dir_chain(dir), code_word[e]);
}

static void rule_ident(const struct mrule *mr, struct log_id *id)
{
	const char *name = mr->origin ? mr->origin->name :
			   mr->origin_name ? mr->origin_name :
			   mr->comment ? mr->comment : "unnamed";

	snprintf(id->name, sizeof(id->name), "%s", name);
	id->at[0] = '\0';
	if (mr->origin && mr->origin->loc.file)
		snprintf(id->at, sizeof(id->at), "%s:%u", mr->origin->loc.file,
			 mr->origin->loc.line);
}

/* Staged rule @mr (NULL: the chain's policy, verdict @v) in the copy of
 * the staged chain for enforced verdict @e. */
/* The record prefix of staged rule @mr (NULL: the chain's policy, verdict
 * @v) when the enforced verdict is @e. */
static void staged_prefix(const struct mrule *mr, enum direction dir,
			  enum mverdict v, enum stage_code e,
			  const struct loc *def_at, char *prefix)
{
	struct log_id id = { .kind = LOGPREFIX_STAGED, .dir = dir,
			     .has_other = true };

	if (mr) {
		rule_ident(mr, &id);
	} else {
		snprintf(id.name, sizeof(id.name), "default");
		id.at[0] = '\0';
	}
	if (def_at && def_at->file && def_at->line && !id.at[0] &&
	    !strcmp(id.name, "default"))
		snprintf(id.at, sizeof(id.at), "%s:%u", def_at->file, def_at->line);
	id.verdict = verdict_of_code(code_of(v));
	id.other = verdict_of_code(e);
	logprefix_format(&id, prefix);
}

/* comment "K PREFIX": staged rule K of its direction (status sums the
 * counters of every rule that stands for it) */
static void set_comment(struct nftnl_rule *r, size_t k, const char *prefix)
{
	struct nftnl_udata_buf *u = XALLOC(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
	char c[LOGPREFIX_MAX + 24];

	snprintf(c, sizeof(c), "%zu %s", k, prefix);
	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, c);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

/* Do sets @a of @ma and @b of @mb hold the same elements? */
static bool set_same(const struct mset *a, const struct mset *b)
{
	const struct melem **va, **vb;
	size_t i;
	bool eq = true;

	if (a->n_keys != b->n_keys || memcmp(a->keys, b->keys, sizeof(a->keys)) ||
	    a->family != b->family || a->interval != b->interval ||
	    a->timeout != b->timeout || a->n_elems != b->n_elems)
		return false;
	va = xcalloc(a->n_elems + 1, sizeof(*va));
	vb = xcalloc(b->n_elems + 1, sizeof(*vb));
	for (i = 0; i < a->n_elems; i++) {
		va[i] = &a->elems[i];
		vb[i] = &b->elems[i];
	}
	qsort_r(va, a->n_elems, sizeof(*va), elem_ptr_cmp, (void *)a);
	qsort_r(vb, b->n_elems, sizeof(*vb), elem_ptr_cmp, (void *)b);
	for (i = 0; eq && i < a->n_elems; i++)
		eq = melem_cmp(a, va[i], vb[i]) == 0;
	free(va);
	free(vb);
	return eq;
}

/*
 * Does enforced rule @er decide exactly what staged rule @sr decides:
 * same matches (set contents compared), same verdict? Counters, comments
 * and origins do not matter.
 */
static bool rule_same(const struct model *em, const struct mrule *er,
		      const struct model *sm, const struct mrule *sr)
{
	struct mrule a = *er, b = *sr;
	struct match *va = NULL, *vb = NULL;
	size_t na, nb, i;
	bool eq;

	/* origin_run is not compared: a table read back does not know it */
	if (er->verdict != sr->verdict)
		return false;
	a.counter = b.counter = false;
	a.comment = b.comment = NULL;
	a.log_prefix = b.log_prefix = NULL;
	/* the enforced rule's own NFLOG record (its FILE:LINE) is no part of
	 * what it decides */
	a.nflog_prefix = b.nflog_prefix = NULL;
	a.nflog_group = b.nflog_group = 0;
	if (!mrule_equal(em, &a, sm, &b))
		return false;
	/* mrule_equal() compares lookups by set name: compare the sets */
	na = mrule_expand(er, &va);
	nb = mrule_expand(sr, &vb);
	eq = na == nb;
	for (i = 0; eq && i < na; i++) {
		int x = va[i].set, y = vb[i].set;

		if ((x < 0) != (y < 0))
			eq = false;
		else if (x >= 0)
			eq = x < (int)em->n_sets && y < (int)sm->n_sets &&
			     set_same(&em->sets[x], &sm->sets[y]);
	}
	free(va);
	free(vb);
	return eq;
}

/*
 * The shadow chain of @dir: the enforced chain's rules, each going to the
 * staged chain copy of its verdict. Where both policies start with the
 * same rules (the usual case: a staged policy is a change of the enforced
 * one), a packet one of those decides is decided alike by both: the
 * shadow counts it for the staged rule and ends there, and the staged
 * copies are not run at all. @staged: NULL when only the shadow is
 * replaced (nl_stage_refresh(): no shortcut, the staged copies decide).
 */
static int put_shadow(struct builder *b, const struct model *enforced,
		      const struct model *staged, enum direction dir)
{
	const struct mchain *ec = chain_of(enforced, dir);
	const struct mchain *sc = staged ? chain_of(staged, dir) : NULL;
	const struct loc *def_at = staged && staged->policy ?
				   &staged->policy->def_loc[dir] : NULL;
	char chain[32], to[48], prefix[LOGPREFIX_MAX + 1];
	struct nftnl_rule *r;
	size_t i, j = 0, k = 0;
	bool common = sc != NULL;
	int err;

	snprintf(chain, sizeof(chain), SHADOW_PREFIX "%s", dir_chain(dir));
	for (i = 0; ec && i < ec->n_rules; i++) {
		const struct mrule *er = &ec->rules[i];

		if (skipped(er))
			continue;
		while (common && j < sc->n_rules && skipped(&sc->rules[j]))
			j++;
		common = common && j < sc->n_rules &&
			 rule_same(enforced, er, staged, &sc->rules[j]);
		r = rule_start(b, chain, er, 0, common, &err);
		if (!r)
			return err;
		if (common) {
			staged_prefix(&sc->rules[j], dir, er->verdict,
				      code_of(er->verdict), def_at, prefix);
			set_comment(r, k++, prefix);
			j++;
			e_verdict(r, NFT_RETURN, NULL);
		} else {
			staged_chain(to, sizeof(to), dir, code_of(er->verdict));
			e_verdict(r, NFT_GOTO, to);
		}
		put_rule(b, r, "a copy of an enforced rule");
		if (!er->n_matches)
			return 0;	/* the default rule: nothing follows */
	}
	r = rule_start(b, chain, NULL, 0, false, &err);
	if (!r)
		return err;
	staged_chain(to, sizeof(to), dir,
		     ec && ec->policy == MV_DROP ? STAGE_DROP : STAGE_ACCEPT);
	e_verdict(r, NFT_GOTO, to);
	put_rule(b, r, "the enforced default");
	return 0;
}

static int put_staged_rule(struct builder *b, enum direction dir,
			   enum stage_code e, size_t k, const struct mrule *mr,
			   size_t set_off, enum mverdict v,
			   const struct loc *def_at)
{
	enum stage_code mine = code_of(v);
	char chain[48], prefix[LOGPREFIX_MAX + 1], name[LOGPREFIX_MAX + 1];
	struct nftnl_rule *r;
	int err;

	staged_prefix(mr, dir, v, e, def_at, prefix);
	snprintf(name, sizeof(name), "%s", prefix);
	staged_chain(chain, sizeof(chain), dir, e);
	if (mine != e) {
		int fam;

		/* the record, once per 5-tuple and family; no verdict */
		for (fam = 4; fam <= 6; fam += 2) {
			r = rule_start(b, chain, mr, set_off, false, &err);
			if (!r)
				return err;
			e_seen(r, fam);
			e_log(r, b->group, prefix);
			put_rule(b, r, name);
		}
	}
	/* the counter and the end of the staged chain */
	r = rule_start(b, chain, mr, set_off, true, &err);
	if (!r)
		return err;
	set_comment(r, k, prefix);
	e_verdict(r, NFT_RETURN, NULL);
	put_rule(b, r, name);
	return 0;
}

/* The staged chain copy of @dir for enforced verdict @e. */
static int put_staged(struct builder *b, const struct model *staged,
		      size_t set_off, enum direction dir, enum stage_code e)
{
	const struct mchain *sc = chain_of(staged, dir);
	const struct loc *def_at = staged->policy ?
				   &staged->policy->def_loc[dir] : NULL;
	size_t i, k = 0;
	int err;

	for (i = 0; sc && i < sc->n_rules; i++) {
		const struct mrule *mr = &sc->rules[i];

		if (skipped(mr))
			continue;
		err = put_staged_rule(b, dir, e, k++, mr, set_off, mr->verdict,
				      def_at);
		if (err < 0)
			return err;
		if (!mr->n_matches)
			return 0;	/* a default rule: nothing follows */
	}
	return put_staged_rule(b, dir, e, k, NULL, 0,
			       sc && sc->policy == MV_DROP ? MV_DROP : MV_ACCEPT,
			       def_at);
}

/* The base chain of @dir: the guard and the way into the shadow. */
static int put_base(struct builder *b, enum direction dir)
{
	const char *base = dir_chain(dir);
	struct mrule guard = { .verdict = MV_NONE };
	struct match new_only = { .key = KEY_CT_STATE, .negate = true,
				  .set = -1, .value = { .num = 0x8 } };
	char shadow[32];
	struct nftnl_rule *r;
	int err;

	/* ct state != new accept: this base chain ends; the packet goes on
	 * to the next base chain (the enforced one) */
	guard.matches = &new_only;
	guard.n_matches = 1;
	r = rule_start(b, base, &guard, 0, false, &err);
	if (!r)
		return err;
	e_verdict(r, NF_ACCEPT, NULL);
	put_rule(b, r, "ct state != new");
	snprintf(shadow, sizeof(shadow), SHADOW_PREFIX "%s", base);
	r = rule_start(b, base, NULL, 0, false, &err);
	if (!r)
		return err;
	e_verdict(r, NFT_GOTO, shadow);
	put_rule(b, r, "goto the enforced copy");
	return 0;
}

struct stage_err {
	struct builder *b;
	struct diag *d;
};

static void on_error(void *ctx, const struct nl_tag *tag, int err,
		     const char *why)
{
	struct stage_err *se = ctx;

	if (tag && tag->what == NL_TAG_RULE && tag->rule < se->b->n_names)
		diag_error(se->d, NULL, "kernel refused staged rule \"%s\" (table %s): %s%s%s%s",
			   se->b->names[tag->rule], se->b->table, strerror(-err),
			   why ? " (" : "", why ? why : "", why ? ")" : "");
	else
		diag_error(se->d, NULL, "kernel refused a message for table %s: %s%s%s%s",
			   se->b->table, strerror(-err), why ? " (" : "",
			   why ? why : "", why ? ")" : "");
}

static int stage_send(struct nl_sock *s, struct builder *b, struct diag *d)
{
	struct stage_err se = { .b = b, .d = d };
	int ret;

	nl_txn_end(b->t, s);
	ret = nl_txn_talk(s, b->t, on_error, &se);
	if (ret < 0 && !d->errors)
		diag_error(d, NULL, "cannot send the batch for table %s: %s",
			   b->table, strerror(-ret));
	return ret;
}

static void builder_release(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->n_names; i++)
		free(b->names[i]);
	free(b->names);
	model_free(b->c);
}

int nl_stage_install(struct nl_sock *s, const struct model *enforced,
		     const struct model *staged, uint16_t group,
		     struct diag *d)
{
	char table[264];
	struct nl_txn t;
	struct builder b = { .t = &t, .group = group };
	size_t off = enforced ? enforced->n_sets : 0;
	int ret, dir;

	ret = stage_table_name(staged->table, table, sizeof(table));
	if (ret < 0) {
		diag_error(d, NULL, "table name \"%s\" is too long for a staged table",
			   staged->table);
		return ret;
	}
	b.table = table;
	b.c = model_new(table);
	if (enforced)
		copy_sets(b.c, enforced, "e_");
	copy_sets(b.c, staged, "s_");
	nl_txn_begin(&t, s);
	/* the table (created, deleted, created: replaced) and its sets */
	ret = nl_build_replace(&t, b.c, NULL, NULL, d);
	if (!ret) {
		put_seen_set(&b, 4);
		put_seen_set(&b, 6);
	}
	for (dir = DIR_IN; !ret && dir <= DIR_OUT; dir++) {
		char name[48];
		enum stage_code e;

		put_chain(&b, dir_chain(dir),
			  dir == DIR_IN ? NF_INET_LOCAL_IN : NF_INET_LOCAL_OUT,
			  true);
		for (e = STAGE_ACCEPT; e <= STAGE_REJECT; e++) {
			staged_chain(name, sizeof(name), dir, e);
			put_chain(&b, name, 0, false);
		}
		snprintf(name, sizeof(name), SHADOW_PREFIX "%s", dir_chain(dir));
		put_chain(&b, name, 0, false);
		for (e = STAGE_ACCEPT; !ret && e <= STAGE_REJECT; e++)
			ret = put_staged(&b, staged, off, dir, e);
		if (!ret)
			ret = put_shadow(&b, enforced, staged, dir);
		if (!ret)
			ret = put_base(&b, dir);
	}
	if (!ret)
		ret = stage_send(s, &b, d);
	nl_txn_release(&t);
	builder_release(&b);
	return ret;
}

/* ---- refresh: the set names of the staged table ---- */

struct names {
	const char *table;
	char **v;
	size_t n, cap;
	bool found;
};

static int set_name_cb(const struct nlmsghdr *nlh, void *data)
{
	struct names *nm = data;
	struct nftnl_set *ns = XALLOC(nftnl_set_alloc());
	const char *t, *n;

	if (nftnl_set_nlmsg_parse(nlh, ns) == 0 &&
	    nftnl_set_get_u32(ns, NFTNL_SET_FAMILY) == NFPROTO_INET &&
	    (t = nftnl_set_get_str(ns, NFTNL_SET_TABLE)) && !strcmp(t, nm->table) &&
	    (n = nftnl_set_get_str(ns, NFTNL_SET_NAME))) {
		char **slot = ARRAY_PUSH(nm->v, nm->n, nm->cap);

		*slot = xstrdup(n);
	}
	nftnl_set_free(ns);
	return 0;
}

static void names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = nm->cap = 0;
}

int nl_stage_exists(struct nl_sock *s, const char *table)
{
	char name[264];
	int ret = stage_table_name(table, name, sizeof(name));

	if (ret < 0)
		return ret;
	ret = nl_table_owned(s, name);
	if (ret == -ENOENT)
		return 0;
	return ret < 0 ? ret : 1;
}

int nl_stage_refresh(struct nl_sock *s, const char *table,
		     const struct model *enforced, struct diag *d)
{
	char name[264];
	struct names nm = { .table = name };
	struct nl_txn t;
	struct builder b = { .t = &t };
	size_t i;
	int ret, dir;

	ret = nl_stage_exists(s, table);
	if (ret <= 0)
		return ret < 0 ? ret : -ENOENT;
	stage_table_name(table, name, sizeof(name));
	ret = nl_dump(s, NFT_MSG_GETSET, NFPROTO_INET, name, NULL, set_name_cb, &nm);
	if (ret < 0) {
		names_free(&nm);
		diag_error(d, NULL, "cannot read table inet %s: %s", name,
			   strerror(-ret));
		return ret;
	}
	b.table = name;
	b.c = model_new(name);
	if (enforced)
		copy_sets(b.c, enforced, "e_");
	nl_txn_begin(&t, s);
	for (dir = DIR_IN; !ret && dir <= DIR_OUT; dir++) {
		char chain[32];

		snprintf(chain, sizeof(chain), SHADOW_PREFIX "%s", dir_chain(dir));
		flush_chain(&b, chain);
	}
	for (i = 0; !ret && i < nm.n; i++)
		if (!strncmp(nm.v[i], "e_", 2))
			del_set(&b, nm.v[i]);
	if (!ret) {
		/* the new sets: nl_build_replace()'s sets without its table
		 * messages would need a third entry point; a model holding
		 * only the sets, sent through the same builder */
		ret = nl_build_sets(&t, b.c, d);
	}
	for (dir = DIR_IN; !ret && dir <= DIR_OUT; dir++)
		ret = put_shadow(&b, enforced, NULL, dir);
	if (!ret)
		ret = stage_send(s, &b, d);
	nl_txn_release(&t);
	builder_release(&b);
	names_free(&nm);
	return ret;
}

/* ---- reading the staged rules back ---- */

struct srule_raw {
	char *chain;		/* chain of the rule */
	char *prefix;		/* log prefix or comment: the rule's identity */
	uint16_t group;
	uint64_t packets, bytes;
	bool counter;
};

struct rule_reader {
	const char *table;
	struct srule_raw *v;
	size_t n, cap;
};

static int expr_cb(struct nftnl_expr *e, void *data)
{
	struct srule_raw *sr = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (!name)
		return 0;
	if (!strcmp(name, "counter")) {
		sr->counter = true;
		sr->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		sr->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	} else if (!strcmp(name, "log") &&
		   nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)) {
		sr->group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
	}
	return 0;
}

static int rule_comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len &&
	    v[len - 1] == '\0')
		*(const char **)data = v;
	return 0;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule_reader *rr = data;
	struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());
	const char *t, *c;

	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    (t = nftnl_rule_get_str(r, NFTNL_RULE_TABLE)) && !strcmp(t, rr->table) &&
	    (c = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN)) &&
	    (!strncmp(c, STAGED_PREFIX, strlen(STAGED_PREFIX)) ||
	     !strncmp(c, SHADOW_PREFIX, strlen(SHADOW_PREFIX)))) {
		struct srule_raw *sr = ARRAY_PUSH(rr->v, rr->n, rr->cap);
		const char *comment = NULL;

		memset(sr, 0, sizeof(*sr));
		sr->chain = xstrdup(c);
		if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
			uint32_t len = 0;
			const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

			if (ud && len)
				nftnl_udata_parse(ud, len, rule_comment_cb, &comment);
		}
		if (comment)
			sr->prefix = xstrdup(comment);
		nftnl_expr_foreach(r, expr_cb, sr);
	}
	nftnl_rule_free(r);
	return 0;
}

void stage_rules_free(struct stage_rule *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].at);
	}
	free(v);
}

/*
 * Every rule that stands for staged rule K of a direction (its three
 * copies, and the shadow rule when both policies share it) carries the
 * comment "K PREFIX"; its counter is the sum of theirs.
 */
int nl_stage_read(struct nl_sock *s, const char *table,
		  struct stage_rule **out, size_t *n, uint16_t *group)
{
	char name[264];
	struct rule_reader rr = { .table = name };
	struct stage_rule *slot[DIR_MAX] = { NULL }, *v = NULL;
	size_t n_slot[DIR_MAX] = { 0 }, i, nv = 0;
	int ret, d;

	*out = NULL;
	*n = 0;
	*group = 0;
	ret = nl_stage_exists(s, table);
	if (ret <= 0)
		return ret < 0 ? ret : -ENOENT;
	stage_table_name(table, name, sizeof(name));
	ret = nl_dump(s, NFT_MSG_GETRULE, NFPROTO_INET, name, NULL, rule_cb, &rr);
	for (i = 0; !ret && i < rr.n; i++) {
		struct srule_raw *sr = &rr.v[i];
		const char *p = sr->prefix;
		struct stage_rule *x;
		struct log_id id;
		uint32_t k;

		if (sr->group)
			*group = sr->group;
		/* K is below the number of rules: it indexes a slot */
		if (!sr->counter || !p || kv_parse_dec(&p, (uint32_t)rr.n, &k) < 0 ||
		    *p++ != ' ' || logprefix_parse(p, strlen(p), &id) < 0 ||
		    id.dir >= DIR_MAX)
			continue;
		if (k >= n_slot[id.dir]) {
			slot[id.dir] = xrealloc(slot[id.dir], (k + 1) * sizeof(*x));
			memset(slot[id.dir] + n_slot[id.dir], 0,
			       (k + 1 - n_slot[id.dir]) * sizeof(*x));
			n_slot[id.dir] = k + 1;
		}
		x = &slot[id.dir][k];
		if (!x->name) {
			x->dir = id.dir;
			x->name = xstrdup(id.name);
			x->at = xstrdup(id.at);
			x->verdict = id.verdict;
		}
		x->packets += sr->packets;
		x->bytes += sr->bytes;
	}
	/* in policy order: inbound then outbound */
	v = xcalloc(n_slot[DIR_IN] + n_slot[DIR_OUT] + 1, sizeof(*v));
	for (d = DIR_IN; d < DIR_MAX; d++) {
		for (i = 0; i < n_slot[d]; i++)
			if (slot[d][i].name)
				v[nv++] = slot[d][i];
		free(slot[d]);
	}
	for (i = 0; i < nv; i++) {
		if (!v[i].name)
			v[i].name = xstrdup("?");
		if (!v[i].at)
			v[i].at = xstrdup("");
	}
	for (i = 0; i < rr.n; i++) {
		free(rr.v[i].chain);
		free(rr.v[i].prefix);
	}
	free(rr.v);
	if (ret < 0) {
		stage_rules_free(v, nv);
		return ret;
	}
	*out = v;
	*n = nv;
	return 0;
}
