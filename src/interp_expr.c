// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftables expressions: decoded once from libnftnl, then run on a
 * synthesized packet over a register file, as the kernel's nft_do_chain()
 * runs them (net/netfilter/nft_*.c): payload and meta load bytes into
 * registers, cmp/range/lookup compare them with memcmp() order, bitwise
 * and byteorder transform them, immediate and lookups into verdict maps set
 * the verdict.
 *
 * Every register byte carries a state beside its value: known, absent (the
 * caller did not give it: a comparison fails, negated or not) or
 * undetermined (the kernel's packet has a value we cannot know: the answer
 * is undetermined). Transformations propagate the states byte by byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include "interp_priv.h"
#include "util.h"

#define NFPROTO_V4	2
#define NFPROTO_V6	10

#define CT_BIT_INVALID		1u
#define CT_BIT_UNTRACKED	64u

/* ---- decoding ---- */

/* register number -> byte offset in the file, or -1 */
static int reg_off(uint32_t reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 16;
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return (int)(reg - NFT_REG32_00) * 4;
	return -1;
}

static void unknown(struct ix_expr *x, const char *fmt, const char *arg)
{
	x->op = IXO_UNKNOWN;
	snprintf(x->what, sizeof(x->what), fmt, arg);
}

/* An expression's attributes (NFTA_*), as the kernel sends them: read
 * straight from the message, without libnftnl's objects (a 10,000-rule
 * table is decoded for every explain). */
#define XA_MAX	16

struct xattrs {
	const struct nlattr *tb[XA_MAX + 1];
};

static int xattr_cb(const struct nlattr *a, void *data)
{
	struct xattrs *x = data;
	int type = mnl_attr_get_type(a);

	if (type > 0 && type <= XA_MAX)
		x->tb[type] = a;
	return MNL_CB_OK;
}

static bool has(const struct xattrs *e, int t)
{
	return e->tb[t] != NULL;
}

static uint32_t u32(const struct xattrs *e, int t)
{
	if (!e->tb[t] || mnl_attr_get_payload_len(e->tb[t]) < 4)
		return 0;
	return ntohl(mnl_attr_get_u32(e->tb[t]));
}

static uint16_t u16(const struct xattrs *e, int t)
{
	if (!e->tb[t] || mnl_attr_get_payload_len(e->tb[t]) < 2)
		return 0;
	return ntohs(mnl_attr_get_u16(e->tb[t]));
}

static uint8_t u8(const struct xattrs *e, int t)
{
	if (!e->tb[t] || mnl_attr_get_payload_len(e->tb[t]) < 1)
		return 0;
	return mnl_attr_get_u8(e->tb[t]);
}

static const char *str(const struct xattrs *e, int t)
{
	const struct nlattr *a = e->tb[t];
	uint16_t len;
	const char *s;

	if (!a)
		return NULL;
	len = mnl_attr_get_payload_len(a);
	s = mnl_attr_get_str(a);
	return len && memchr(s, '\0', len) ? s : NULL;
}

/* a source or destination register of @len bytes; false when invalid */
static bool get_reg(const struct xattrs *e, int attr, uint32_t len, uint32_t *off)
{
	int o;

	if (!has(e, attr))
		return false;
	o = reg_off(u32(e, attr));
	if (o < 0 || (uint32_t)o + len > IX_REG_BYTES)
		return false;
	*off = (uint32_t)o;
	return true;
}

/* NFTA_DATA_VALUE inside a data attribute; its length, or 0 */
static uint32_t get_data(const struct xattrs *e, int attr, uint8_t *out)
{
	const struct nlattr *n;

	if (!e->tb[attr])
		return 0;
	mnl_attr_for_each_nested(n, e->tb[attr]) {
		uint16_t len = mnl_attr_get_payload_len(n);

		if (mnl_attr_get_type(n) != NFTA_DATA_VALUE || len > IX_DATA_MAX)
			continue;
		memcpy(out, mnl_attr_get_payload(n), len);
		return len;
	}
	return 0;
}

/* NFTA_DATA_VERDICT inside a data attribute: code and chain */
static bool get_verdict(const struct xattrs *e, int attr, int32_t *code,
			const char **chain)
{
	const struct nlattr *n, *v;

	*chain = NULL;
	if (!e->tb[attr])
		return false;
	mnl_attr_for_each_nested(n, e->tb[attr]) {
		if (mnl_attr_get_type(n) != NFTA_DATA_VERDICT)
			continue;
		mnl_attr_for_each_nested(v, n) {
			if (mnl_attr_get_type(v) == NFTA_VERDICT_CODE &&
			    mnl_attr_get_payload_len(v) >= 4)
				*code = (int32_t)ntohl(mnl_attr_get_u32(v));
			else if (mnl_attr_get_type(v) == NFTA_VERDICT_CHAIN)
				*chain = mnl_attr_get_str(v);
		}
		return true;
	}
	return false;
}

static uint32_t meta_len(uint32_t key)
{
	switch (key) {
	case NFT_META_IIFNAME:
	case NFT_META_OIFNAME:
	case NFT_META_BRI_IIFNAME:
	case NFT_META_BRI_OIFNAME:
	case NFT_META_IIFKIND:
	case NFT_META_OIFKIND:
	case NFT_META_SDIFNAME:
		return 16;
	case NFT_META_TIME_NS:
		return 8;
	case NFT_META_NFPROTO:
	case NFT_META_L4PROTO:
	case NFT_META_PKTTYPE:
	case NFT_META_TIME_DAY:
	case NFT_META_SECPATH:
		return 1;
	case NFT_META_PROTOCOL:
	case NFT_META_IIFTYPE:
	case NFT_META_OIFTYPE:
		return 2;
	default:
		return 4;
	}
}

static uint32_t ct_len(uint32_t key, uint8_t family)
{
	switch (key) {
	case NFT_CT_DIRECTION:
	case NFT_CT_L3PROTOCOL:
	case NFT_CT_PROTOCOL:
		return 1;
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST:
	case NFT_CT_ZONE:
		return 2;
	case NFT_CT_SRC:
	case NFT_CT_DST:
		return family == 6 ? 16 : 4;
	case NFT_CT_SRC_IP:
	case NFT_CT_DST_IP:
		return 4;
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6:
	case NFT_CT_LABELS:
	case NFT_CT_HELPER:
		return 16;
	case NFT_CT_PKTS:
	case NFT_CT_BYTES:
	case NFT_CT_AVGPKT:
		return 8;
	default:
		return 4;
	}
}

static void decode_verdict(struct ix_table *t, int32_t code, const char *chain,
			   struct ix_vdict *vd, bool *bad)
{
	vd->code = code;
	vd->chain = -1;
	if (code == NFT_JUMP || code == NFT_GOTO) {
		vd->chain = chain ? ix_chain_find(t, chain) : -1;
		if (vd->chain < 0)
			*bad = true;
	}
}

static void decode_one(struct ix_table *t, const char *name,
		       const struct xattrs *e, struct ix_expr *x)
{
	bool bad = false;

	memset(x, 0, sizeof(*x));
	x->set = -1;
	if (!name)
		name = "?";

	if (!strcmp(name, "payload")) {
		if (has(e, NFTA_PAYLOAD_SREG))
			return unknown(x, "%s that rewrites the packet", name);
		x->op = IXO_PAYLOAD;
		x->key = u32(e, NFTA_PAYLOAD_BASE);
		x->offset = u32(e, NFTA_PAYLOAD_OFFSET);
		x->len = u32(e, NFTA_PAYLOAD_LEN);
		bad = !get_reg(e, NFTA_PAYLOAD_DREG, x->len, &x->dreg);
	} else if (!strcmp(name, "meta")) {
		x->key = u32(e, NFTA_META_KEY);
		x->len = meta_len(x->key);
		if (has(e, NFTA_META_SREG)) {
			x->op = IXO_META_SET;
			bad = !get_reg(e, NFTA_META_SREG, x->len, &x->sreg);
		} else {
			x->op = IXO_META;
			bad = !get_reg(e, NFTA_META_DREG, x->len, &x->dreg);
		}
	} else if (!strcmp(name, "cmp")) {
		x->op = IXO_CMP;
		x->cmp_op = u32(e, NFTA_CMP_OP);
		x->len = get_data(e, NFTA_CMP_DATA, x->data);
		bad = !x->len || !get_reg(e, NFTA_CMP_SREG, x->len, &x->sreg);
	} else if (!strcmp(name, "bitwise")) {
		x->op = IXO_BITWISE;
		x->cmp_op = has(e, NFTA_BITWISE_OP) ?
			    u32(e, NFTA_BITWISE_OP) :
			    NFT_BITWISE_MASK_XOR;
		x->len = u32(e, NFTA_BITWISE_LEN);
		if (x->cmp_op == NFT_BITWISE_MASK_XOR) {
			bad = get_data(e, NFTA_BITWISE_MASK, x->data) < x->len ||
			      get_data(e, NFTA_BITWISE_XOR, x->data2) < x->len;
		} else if (x->cmp_op == NFT_BITWISE_LSHIFT ||
			   x->cmp_op == NFT_BITWISE_RSHIFT) {
			uint8_t d[IX_DATA_MAX] = { 0 };

			bad = get_data(e, NFTA_BITWISE_DATA, d) != 4;
			memcpy(&x->size, d, 4);
		} else {
			return unknown(x, "%s with two source registers", name);
		}
		bad = bad || !get_reg(e, NFTA_BITWISE_SREG, x->len, &x->sreg) ||
		      !get_reg(e, NFTA_BITWISE_DREG, x->len, &x->dreg);
	} else if (!strcmp(name, "byteorder")) {
		x->op = IXO_BYTEORDER;
		x->cmp_op = u32(e, NFTA_BYTEORDER_OP);
		x->len = u32(e, NFTA_BYTEORDER_LEN);
		x->size = u32(e, NFTA_BYTEORDER_SIZE);
		bad = (x->size != 2 && x->size != 4 && x->size != 8) ||
		      !get_reg(e, NFTA_BYTEORDER_SREG, x->len, &x->sreg) ||
		      !get_reg(e, NFTA_BYTEORDER_DREG, x->len, &x->dreg);
	} else if (!strcmp(name, "range")) {
		x->op = IXO_RANGE;
		x->cmp_op = u32(e, NFTA_RANGE_OP);
		x->len = get_data(e, NFTA_RANGE_FROM_DATA, x->data);
		bad = !x->len || get_data(e, NFTA_RANGE_TO_DATA, x->data2) != x->len ||
		      !get_reg(e, NFTA_RANGE_SREG, x->len, &x->sreg);
	} else if (!strcmp(name, "lookup")) {
		const char *set = str(e, NFTA_LOOKUP_SET);

		x->op = IXO_LOOKUP;
		x->set = set ? ix_set_find(t, set) : -1;
		if (x->set < 0)
			return unknown(x, "lookup into a set that was not read (%s)",
				       set ? set : "?");
		x->len = t->sets[x->set].key_len;
		x->flags = has(e, NFTA_LOOKUP_FLAGS) ?
			   u32(e, NFTA_LOOKUP_FLAGS) : 0;
		bad = !get_reg(e, NFTA_LOOKUP_SREG, x->len, &x->sreg);
		if (has(e, NFTA_LOOKUP_DREG)) {
			uint32_t dreg = u32(e, NFTA_LOOKUP_DREG);

			if (dreg == NFT_REG_VERDICT)
				x->to_verdict = true;
			else
				bad = bad || !get_reg(e, NFTA_LOOKUP_DREG,
						      t->sets[x->set].data_len,
						      &x->dreg);
			x->dreg = x->to_verdict ? 0 : x->dreg;
			x->size = 1;	/* has a destination */
		}
	} else if (!strcmp(name, "immediate")) {
		uint32_t dreg = u32(e, NFTA_IMMEDIATE_DREG);

		x->op = IXO_IMMEDIATE;
		if (dreg == NFT_REG_VERDICT) {
			int32_t code = NFT_CONTINUE;
			const char *chain;

			x->to_verdict = true;
			bad = !get_verdict(e, NFTA_IMMEDIATE_DATA, &code, &chain);
			decode_verdict(t, code, chain, &x->vd, &bad);
		} else {
			x->len = get_data(e, NFTA_IMMEDIATE_DATA, x->data);
			bad = !x->len || !get_reg(e, NFTA_IMMEDIATE_DREG, x->len, &x->dreg);
		}
	} else if (!strcmp(name, "ct")) {
		x->key = u32(e, NFTA_CT_KEY);
		x->offset = has(e, NFTA_CT_DIRECTION) ?
			    u8(e, NFTA_CT_DIRECTION) + 1u : 0;
		if (has(e, NFTA_CT_SREG)) {
			x->op = IXO_CT_SET;
			x->len = 4;
			bad = !get_reg(e, NFTA_CT_SREG, 4, &x->sreg);
		} else {
			x->op = IXO_CT;
			/* an address without its family: the register holds 16 */
			x->len = ct_len(x->key, 6);
			bad = !get_reg(e, NFTA_CT_DREG, x->len, &x->dreg);
		}
	} else if (!strcmp(name, "counter") || !strcmp(name, "log") ||
		   !strcmp(name, "last") || !strcmp(name, "dup") ||
		   !strcmp(name, "flow_offload")) {
		x->op = IXO_NOOP;
	} else if (!strcmp(name, "objref")) {
		uint32_t type = has(e, NFTA_OBJREF_IMM_TYPE) ?
				u32(e, NFTA_OBJREF_IMM_TYPE) : 0;

		if (type == NFT_OBJECT_COUNTER || type == NFT_OBJECT_CT_HELPER ||
		    type == NFT_OBJECT_CT_TIMEOUT || type == NFT_OBJECT_SECMARK ||
		    type == NFT_OBJECT_CT_EXPECT)
			x->op = IXO_NOOP;
		else
			return unknown(x, "%s (a stateful object: quota, limit, ...)", name);
	} else if (!strcmp(name, "dynset")) {
		const char *set = str(e, NFTA_DYNSET_SET_NAME);

		if (has(e, NFTA_DYNSET_EXPR) ||
		    has(e, NFTA_DYNSET_EXPRESSIONS))
			return unknown(x, "%s with statements of its own (a meter)", name);
		x->op = IXO_DYNSET;
		x->set = set ? ix_set_find(t, set) : -1;
		if (x->set < 0)
			return unknown(x, "%s into a set that was not read", name);
	} else if (!strcmp(name, "limit")) {
		x->op = IXO_LIMIT;
	} else if (!strcmp(name, "queue")) {
		/* portwarden's DNS queue has `bypass` and the daemon releases
		 * every answer: the packet leaves this chain accepted (as
		 * NF_ACCEPT from a queue does: on to the next base chain) */
		if (!has(e, NFTA_QUEUE_FLAGS) ||
		    !(u16(e, NFTA_QUEUE_FLAGS) & NFT_QUEUE_FLAG_BYPASS))
			return unknown(x, "%s without bypass (a program decides)", name);
		x->op = IXO_IMMEDIATE;
		x->to_verdict = true;
		x->vd.code = NF_ACCEPT;
		x->vd.chain = -1;
	} else if (!strcmp(name, "reject")) {
		x->op = IXO_REJECT;
	} else if (!strcmp(name, "fib")) {
		x->op = IXO_FIB;
		x->key = u32(e, NFTA_FIB_RESULT);
		x->flags = u32(e, NFTA_FIB_FLAGS);
		x->len = 4;
		bad = !get_reg(e, NFTA_FIB_DREG, 4, &x->dreg);
	} else if (!strcmp(name, "socket")) {
		x->op = IXO_SOCKET;
		x->key = u32(e, NFTA_SOCKET_KEY);
		x->flags = has(e, NFTA_SOCKET_LEVEL) ?
			   u32(e, NFTA_SOCKET_LEVEL) : 0;
		x->len = x->key == NFT_SOCKET_CGROUPV2 ? 8 : 4;
		bad = !get_reg(e, NFTA_SOCKET_DREG, x->len, &x->dreg);
	} else if (!strcmp(name, "notrack")) {
		x->op = IXO_NOTRACK;
	} else if (!strcmp(name, "match")) {
		return unknown(x, "xt match \"%s\" (iptables-nft)",
			       str(e, NFTA_MATCH_NAME));
	} else if (!strcmp(name, "target") && str(e, NFTA_TARGET_NAME) &&
		   !strcmp(str(e, NFTA_TARGET_NAME), "NFQUEUE") &&
		   u32(e, NFTA_TARGET_REV) == 3 && e->tb[NFTA_TARGET_INFO] &&
		   mnl_attr_get_payload_len(e->tb[NFTA_TARGET_INFO]) >=
		   sizeof(struct xt_NFQ_info_v3) &&
		   (((const struct xt_NFQ_info_v3 *)
		     mnl_attr_get_payload(e->tb[NFTA_TARGET_INFO]))->flags &
		    NFQ_FLAG_BYPASS)) {
		/* the xtables form of the DNS queue (nl_expr.c): as above */
		x->op = IXO_IMMEDIATE;
		x->to_verdict = true;
		x->vd.code = NF_ACCEPT;
		x->vd.chain = -1;
	} else if (!strcmp(name, "target")) {
		return unknown(x, "xt target \"%s\" (iptables-nft)",
			       str(e, NFTA_TARGET_NAME));
	} else if (!strcmp(name, "nat") || !strcmp(name, "masq") ||
		   !strcmp(name, "redir") || !strcmp(name, "tproxy")) {
		return unknown(x, "%s (rewrites the address)", name);
	} else {
		return unknown(x, "%s", name);
	}
	if (bad)
		unknown(x, "%s with an operand the interpreter cannot read", name);
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
		const char *s = nftnl_udata_get(attr);
		uint8_t len = nftnl_udata_len(attr);

		if (len && s[len - 1] == '\0')
			*(const char **)data = s;
	}
	return 0;
}

/* One NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS. */
static void decode_elem(struct ix_table *t, const struct nlattr *elem,
			struct ix_expr *x)
{
	const struct nlattr *a, *data = NULL;
	const char *name = NULL;
	struct xattrs e;

	memset(&e, 0, sizeof(e));
	mnl_attr_for_each_nested(a, elem) {
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA)
			data = a;
	}
	if (data && mnl_attr_parse_nested(data, xattr_cb, &e) < 0)
		memset(&e, 0, sizeof(e));
	decode_one(t, name ? name : "?", &e, x);
}

void ix_rule_decode(struct ix_table *t, const struct nlmsghdr *nlh,
		    struct ix_rule *r)
{
	const struct nlattr *a, *el;
	const char *comment = NULL;
	size_t cap = 0;

	memset(r, 0, sizeof(*r));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_RULE_HANDLE:
			if (mnl_attr_get_payload_len(a) == 8)
				r->handle = be64toh(mnl_attr_get_u64(a));
			break;
		case NFTA_RULE_EXPRESSIONS:
			mnl_attr_for_each_nested(el, a) {
				if (mnl_attr_get_type(el) != NFTA_LIST_ELEM)
					continue;
				decode_elem(t, el, ARRAY_PUSH(r->ex, r->n_ex, cap));
			}
			break;
		case NFTA_RULE_USERDATA:
			nftnl_udata_parse(mnl_attr_get_payload(a),
					  mnl_attr_get_payload_len(a),
					  comment_cb, &comment);
			if (comment)
				r->comment = xstrdup(comment);
			break;
		}
	}
}

void ix_rule_release(struct ix_rule *r)
{
	free(r->ex);
	free(r->comment);
	memset(r, 0, sizeof(*r));
}

/* ---- running ---- */

static void set_bytes(struct ix_regs *rg, uint32_t off, const void *v,
		      uint32_t len, enum ix_byte st)
{
	memcpy(rg->b + off, v, len);
	memset(rg->st + off, st, len);
}

/* worst state of @len bytes at @off */
static enum ix_byte reg_state(const struct ix_regs *rg, uint32_t off,
			      uint32_t len)
{
	enum ix_byte w = IXB_KNOWN;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (rg->st[off + i] > w)
			w = rg->st[off + i];
	return w;
}

/* The kernel stores loads into whole 32-bit registers: the bytes past the
 * value up to the register's end are zero. */
static void zero_pad(struct ix_regs *rg, uint32_t off, uint32_t len)
{
	uint32_t end = (off + len + 3) & ~3u;

	if (end > IX_REG_BYTES)
		end = IX_REG_BYTES;
	if (off + len < end)
		set_bytes(rg, off + len, "\0\0\0", end - off - len, IXB_KNOWN);
}

static void load(struct ix_regs *rg, uint32_t off, const void *v, uint32_t len,
		 enum ix_byte st)
{
	set_bytes(rg, off, v, len, st);
	zero_pad(rg, off, len);
}

#define BRK(rg)	((rg)->vd.code = NFT_BREAK)

struct run {
	struct ix_pkt *p;
	struct ix_regs *rg;
	struct ix_rule_out *out;
	const struct ix_table *t;
	const struct ix_rule *r;
	size_t i;			/* expression index */
};

static void undet(struct run *u, const char *what)
{
	u->out->undet = true;
	snprintf(u->out->why, sizeof(u->out->why), "%s", what);
}

/* A comparison on a register range: break on absent bytes, undetermined
 * on unknowable ones; true when it may go on. */
static bool operand_ok(struct run *u, uint32_t off, uint32_t len,
		       const char *what)
{
	switch (reg_state(u->rg, off, len)) {
	case IXB_KNOWN:
		return true;
	case IXB_ABSENT:
		BRK(u->rg);
		return false;
	case IXB_UNDET:
		undet(u, what);
		return false;
	}
	return false;
}

static void run_payload(struct run *u, const struct ix_expr *x)
{
	const uint8_t *src, *st;
	uint32_t avail;
	char why[96];

	switch (x->key) {
	case NFT_PAYLOAD_NETWORK_HEADER:
		src = u->p->nh;
		st = u->p->nh_st;
		avail = u->p->nh_len;
		break;
	case NFT_PAYLOAD_TRANSPORT_HEADER:
		src = u->p->th;
		st = u->p->th_st;
		avail = u->p->th_len;
		break;
	default:
		snprintf(why, sizeof(why), "payload of the %s header",
			 x->key == NFT_PAYLOAD_LL_HEADER ? "link-layer" : "inner");
		undet(u, why);
		return;
	}
	if (x->offset + x->len > avail) {
		snprintf(why, sizeof(why), "payload %s header bytes %u-%u",
			 x->key == NFT_PAYLOAD_NETWORK_HEADER ? "network" : "transport",
			 x->offset, x->offset + x->len - 1);
		undet(u, why);
		return;
	}
	if (x->key == NFT_PAYLOAD_TRANSPORT_HEADER && u->p->opener_port >= 0 &&
	    x->offset < 4) {
		uint32_t o = (uint32_t)u->p->opener_port, r = 2 - o;

		if (x->offset < o + 2 && x->offset + x->len > o)
			*u->p->ports_read |= IX_READ_OPENER;
		if (x->offset < r + 2 && x->offset + x->len > r)
			*u->p->ports_read |= IX_READ_RESPONDER;
	}
	memcpy(u->rg->b + x->dreg, src + x->offset, x->len);
	memcpy(u->rg->st + x->dreg, st + x->offset, x->len);
	zero_pad(u->rg, x->dreg, x->len);
}

static void store_ifname(struct run *u, uint32_t off, const char *name,
			 bool exists, bool absent)
{
	char buf[16] = { 0 };

	if (exists && name)
		strncpy(buf, name, sizeof(buf) - 1);
	load(u->rg, off, buf, 16, exists && absent ? IXB_ABSENT : IXB_KNOWN);
}

static void run_meta(struct run *u, const struct ix_expr *x)
{
	struct ix_pkt *p = u->p;
	struct ix_regs *rg = u->rg;
	uint32_t v32 = 0;
	uint16_t v16;
	uint8_t v8;
	bool in_dev = p->iif || p->iif_absent, out_dev = p->oif || p->oif_absent;
	char why[64];

	switch (x->key) {
	case NFT_META_NFPROTO:
		v8 = p->family == 6 ? NFPROTO_V6 : NFPROTO_V4;
		load(rg, x->dreg, &v8, 1, IXB_KNOWN);
		return;
	case NFT_META_L4PROTO:
		load(rg, x->dreg, &p->l4proto, 1, IXB_KNOWN);
		return;
	case NFT_META_PROTOCOL:
		v16 = htons(p->family == 6 ? 0x86dd : 0x0800);
		load(rg, x->dreg, &v16, 2, IXB_KNOWN);
		return;
	case NFT_META_MARK:
		load(rg, x->dreg, &p->mark, 4, IXB_KNOWN);
		return;
	case NFT_META_IIFNAME:
		store_ifname(u, x->dreg, p->iif, in_dev, p->iif_absent);
		return;
	case NFT_META_OIFNAME:
		store_ifname(u, x->dreg, p->oif, out_dev, p->oif_absent);
		return;
	case NFT_META_IIF:
	case NFT_META_OIF: {
		bool dev = x->key == NFT_META_IIF ? in_dev : out_dev;
		int idx = x->key == NFT_META_IIF ? p->iif_index : p->oif_index;
		bool absent = x->key == NFT_META_IIF ? p->iif_absent : p->oif_absent;

		if (dev && absent) {
			load(rg, x->dreg, &v32, 4, IXB_ABSENT);
			return;
		}
		if (dev && idx <= 0) {
			undet(u, "meta iif/oif (the interface's index is not known)");
			return;
		}
		v32 = dev ? (uint32_t)idx : 0;
		load(rg, x->dreg, &v32, 4, IXB_KNOWN);
		return;
	}
	case NFT_META_IIFTYPE:
	case NFT_META_OIFTYPE: {
		bool dev = x->key == NFT_META_IIFTYPE ? in_dev : out_dev;
		int type = x->key == NFT_META_IIFTYPE ? p->iif_type : p->oif_type;

		if (!dev) {
			BRK(rg);
			return;
		}
		if (type <= 0) {
			undet(u, "meta iiftype/oiftype (the interface's type is not known)");
			return;
		}
		v16 = (uint16_t)type;
		load(rg, x->dreg, &v16, 2, IXB_KNOWN);
		return;
	}
	case NFT_META_SKUID:
	case NFT_META_SKGID: {
		bool uid = x->key == NFT_META_SKUID;

		if (p->sk_undet) {
			undet(u, "meta skuid/skgid of a packet the kernel may or may not have tied to a socket (early demux)");
			return;
		}
		if (!p->has_sk) {
			BRK(rg);
			return;
		}
		v32 = uid ? p->uid : p->gid;
		load(rg, x->dreg, &v32, 4,
		     (uid ? p->has_uid : p->has_gid) ? IXB_KNOWN : IXB_ABSENT);
		return;
	}
	case NFT_META_PKTTYPE:
		if (p->hook == IXH_INPUT || p->hook == IXH_PREROUTING) {
			v8 = 0;		/* PACKET_HOST: unicast to us */
			load(rg, x->dreg, &v8, 1, IXB_KNOWN);
			return;
		}
		break;
	case NFT_META_NFTRACE:
		v8 = 0;
		load(rg, x->dreg, &v8, 1, IXB_KNOWN);
		return;
	case NFT_META_SECPATH:
		v8 = 0;
		load(rg, x->dreg, &v8, 1, IXB_KNOWN);
		return;
	default:
		break;
	}
	snprintf(why, sizeof(why), "meta key %u of the packet", x->key);
	undet(u, why);
}

static void run_ct(struct run *u, const struct ix_expr *x)
{
	struct ix_pkt *p = u->p;
	struct ix_regs *rg = u->rg;
	const struct packet *o = p->orig;
	bool reply_tuple = x->offset == 2;	/* NFTNL_EXPR_CT_DIR reply + 1 */
	const struct cidr *a;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8, alen;
	char why[64];

	if (x->key == NFT_CT_STATE) {
		v32 = p->untracked ? CT_BIT_UNTRACKED :
		      !p->has_ct ? CT_BIT_INVALID : p->ct_state;
		load(rg, x->dreg, &v32, 4, IXB_KNOWN);
		return;
	}
	if (!p->has_ct || p->untracked) {
		BRK(rg);
		return;
	}
	switch (x->key) {
	case NFT_CT_DIRECTION:
		load(rg, x->dreg, &p->ct_dir, 1, IXB_KNOWN);
		return;
	case NFT_CT_MARK:
		load(rg, x->dreg, &p->ct_mark, 4, IXB_KNOWN);
		return;
	case NFT_CT_L3PROTOCOL:
		v8 = o->dst.family == 6 ? NFPROTO_V6 : NFPROTO_V4;
		load(rg, x->dreg, &v8, 1, IXB_KNOWN);
		return;
	case NFT_CT_PROTOCOL:
		load(rg, x->dreg, &o->l4proto, 1, IXB_KNOWN);
		return;
	case NFT_CT_SRC:
	case NFT_CT_DST:
	case NFT_CT_SRC_IP:
	case NFT_CT_DST_IP:
	case NFT_CT_SRC_IP6:
	case NFT_CT_DST_IP6: {
		bool src = x->key == NFT_CT_SRC || x->key == NFT_CT_SRC_IP ||
			   x->key == NFT_CT_SRC_IP6;
		bool has;

		if (!x->offset && (x->key == NFT_CT_SRC || x->key == NFT_CT_DST)) {
			undet(u, "ct saddr/daddr without a direction");
			return;
		}
		if ((x->key == NFT_CT_SRC_IP || x->key == NFT_CT_DST_IP) &&
		    o->dst.family != 4) {
			BRK(rg);
			return;
		}
		if ((x->key == NFT_CT_SRC_IP6 || x->key == NFT_CT_DST_IP6) &&
		    o->dst.family != 6) {
			BRK(rg);
			return;
		}
		if (reply_tuple)
			src = !src;
		a = src ? &o->src : &o->dst;
		has = src ? o->has_src : true;
		alen = o->dst.family == 6 ? 16 : 4;
		load(rg, x->dreg, a->addr, alen, has ? IXB_KNOWN : IXB_ABSENT);
		return;
	}
	case NFT_CT_PROTO_SRC:
	case NFT_CT_PROTO_DST: {
		bool src = x->key == NFT_CT_PROTO_SRC;
		bool has;

		*p->ports_read |= IX_READ_OPENER | IX_READ_RESPONDER;
		if (reply_tuple)
			src = !src;
		has = src ? o->has_sport : o->has_dport;
		v16 = htons(src ? o->sport : o->dport);
		load(rg, x->dreg, &v16, 2, has ? IXB_KNOWN : IXB_ABSENT);
		return;
	}
	default:
		break;
	}
	snprintf(why, sizeof(why), "ct key %u of the connection", x->key);
	undet(u, why);
}

static int cmp_bytes(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	return memcmp(a, b, len);
}

static void run_cmp(struct run *u, const struct ix_expr *x)
{
	int d;
	bool ok;

	if (!operand_ok(u, x->sreg, x->len, "cmp on a packet field that is not known"))
		return;
	d = cmp_bytes(u->rg->b + x->sreg, x->data, x->len);
	switch (x->cmp_op) {
	case NFT_CMP_EQ:  ok = d == 0; break;
	case NFT_CMP_NEQ: ok = d != 0; break;
	case NFT_CMP_LT:  ok = d < 0; break;
	case NFT_CMP_LTE: ok = d <= 0; break;
	case NFT_CMP_GT:  ok = d > 0; break;
	case NFT_CMP_GTE: ok = d >= 0; break;
	default:
		undet(u, "cmp with an unknown operator");
		return;
	}
	if (!ok)
		BRK(u->rg);
}

static void run_range(struct run *u, const struct ix_expr *x)
{
	const uint8_t *v = u->rg->b + x->sreg;
	bool in;

	if (!operand_ok(u, x->sreg, x->len, "range on a packet field that is not known"))
		return;
	in = cmp_bytes(v, x->data, x->len) >= 0 && cmp_bytes(v, x->data2, x->len) <= 0;
	if ((x->cmp_op == NFT_RANGE_EQ) != in)
		BRK(u->rg);
}

static void run_bitwise(struct run *u, const struct ix_expr *x)
{
	uint8_t b[IX_REG_BYTES], st[IX_REG_BYTES];
	uint32_t i, n = x->len;

	memcpy(b, u->rg->b + x->sreg, n);
	memcpy(st, u->rg->st + x->sreg, n);
	if (x->cmp_op == NFT_BITWISE_MASK_XOR) {
		for (i = 0; i < n; i++) {
			b[i] = (uint8_t)((b[i] & x->data[i]) ^ x->data2[i]);
			if (!x->data[i])	/* the byte no longer depends on
						 * the packet */
				st[i] = IXB_KNOWN;
		}
	} else {
		/* shifts work on 32-bit words in host order */
		enum ix_byte w = IXB_KNOWN;
		uint32_t words = n / 4, k, carry = 0;
		uint32_t *wv = (uint32_t *)(void *)b;

		for (i = 0; i < n; i++)
			if (st[i] > w)
				w = st[i];
		if (x->size >= 32) {
			undet(u, "bitwise shift by 32 or more");
			return;
		}
		if (x->cmp_op == NFT_BITWISE_LSHIFT) {
			for (k = words; k-- > 0;) {
				uint32_t v = ntohl(wv[k]);

				wv[k] = htonl((v << x->size) | carry);
				carry = x->size ? v >> (32 - x->size) : 0;
			}
		} else {
			for (k = 0; k < words; k++) {
				uint32_t v = ntohl(wv[k]);

				wv[k] = htonl((v >> x->size) | carry);
				carry = x->size ? v << (32 - x->size) : 0;
			}
		}
		memset(st, w, n);
	}
	memcpy(u->rg->b + x->dreg, b, n);
	memcpy(u->rg->st + x->dreg, st, n);
}

static void run_byteorder(struct run *u, const struct ix_expr *x)
{
	uint8_t b[IX_REG_BYTES], st[IX_REG_BYTES];
	uint32_t i, j, n = x->len, sz = x->size;

	memcpy(b, u->rg->b + x->sreg, n);
	memcpy(st, u->rg->st + x->sreg, n);
	/* on a little-endian host hton and ntoh both reverse each word;
	 * the kernel walks the words of @size bytes the same way */
	for (i = 0; i + sz <= n; i += sz) {
		for (j = 0; j < sz; j++) {
			u->rg->b[x->dreg + i + j] = b[i + sz - 1 - j];
			u->rg->st[x->dreg + i + j] = st[i + sz - 1 - j];
		}
	}
}

/* Does [lo, hi] of one field hold the register bytes? */
static int field_in(const uint8_t *v, const uint8_t *vst, const uint8_t *lo,
		    const uint8_t *hi, uint32_t len)
{
	enum ix_byte w = IXB_KNOWN;
	uint32_t i;

	for (i = 0; i < len; i++)
		if (vst[i] > w)
			w = vst[i];
	if (w != IXB_KNOWN) {
		/* an unknown field is inside only a range that is everything */
		for (i = 0; i < len; i++)
			if (lo[i] != 0 || hi[i] != 0xff)
				return w == IXB_ABSENT ? 0 : -1;
		return 1;
	}
	return memcmp(v, lo, len) >= 0 && memcmp(v, hi, len) <= 0;
}

/* Element of @s that holds the key at @v: 1 found, 0 not, -1 unknowable */
static int set_find(const struct ix_set *s, const uint8_t *v, const uint8_t *vst,
		    const struct ix_elem **found)
{
	bool known = true;
	size_t i;
	uint32_t k;
	int undet_seen = 0;

	for (k = 0; k < s->key_len; k++)
		if (vst[k] != IXB_KNOWN)
			known = false;
	if (known && s->sorted) {
		size_t lo = 0, hi = s->n_elems, mid;

		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (memcmp(s->elems[mid].lo, v, s->key_len) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo && memcmp(v, s->elems[lo - 1].hi, s->key_len) <= 0) {
			*found = &s->elems[lo - 1];
			return 1;
		}
		return 0;
	}
	for (i = 0; i < s->n_elems; i++) {
		const struct ix_elem *e = &s->elems[i];
		uint32_t off = 0, f;
		int in = 1, r;

		if (s->n_fields > 1) {
			for (f = 0; f < s->n_fields && in > 0; f++) {
				uint32_t fl = s->field_len[f];

				r = field_in(v + off, vst + off, e->lo + off, e->hi + off, fl);
				if (r <= 0)
					in = r;
				off += (fl + 3) & ~3u;
			}
		} else {
			in = field_in(v, vst, e->lo, e->hi, s->key_len);
		}
		if (in > 0) {
			*found = e;
			return 1;
		}
		if (in < 0)
			undet_seen = 1;
	}
	return undet_seen ? -1 : 0;
}

static void run_lookup(struct run *u, const struct ix_expr *x)
{
	const struct ix_set *s = &u->t->sets[x->set];
	const struct ix_elem *e = NULL;
	bool inv = x->flags & NFT_LOOKUP_F_INV;
	int r;

	r = set_find(s, u->rg->b + x->sreg, u->rg->st + x->sreg, &e);
	if (r < 0) {
		char why[96];

		snprintf(why, sizeof(why), "lookup in @%s of a packet field that is not known",
			 s->name);
		undet(u, why);
		return;
	}
	if (r == 0 && reg_state(u->rg, x->sreg, x->len) == IXB_ABSENT) {
		/* an absent field matches no rule that constrains it, also
		 * through a negated lookup */
		BRK(u->rg);
		return;
	}
	if ((r > 0) == inv) {
		BRK(u->rg);
		return;
	}
	if (r > 0 && !inv && e->origin)
		u->out->origin = e->origin;
	if (r > 0 && x->size) {
		if (x->to_verdict)
			u->rg->vd = e->vd;
		else if (e->data)
			load(u->rg, x->dreg, e->data, s->data_len, IXB_KNOWN);
	}
}

/* Does anything after expression @i of the rule act on the verdict or the
 * packet? (a limit in front of only counters and logs decides nothing) */
static bool rest_matters(const struct ix_rule *r, size_t i)
{
	for (i++; i < r->n_ex; i++)
		if (r->ex[i].op != IXO_NOOP)
			return true;
	return false;
}

static void run_fib(struct run *u, const struct ix_expr *x)
{
	uint32_t v;
	const struct packet *o = u->p->orig;

	if (x->key == NFT_FIB_RESULT_ADDRTYPE && (x->flags & NFTA_FIB_F_DADDR) &&
	    !(x->flags & (NFTA_FIB_F_IIF | NFTA_FIB_F_OIF | NFTA_FIB_F_SADDR)) &&
	    u->p->host && u->p->host->live_addrs) {
		const uint8_t *a = u->p->nh + (u->p->family == 6 ? 24 : 16);

		(void)o;
		if (u->p->local_dst)
			v = 2;		/* RTN_LOCAL */
		else if (u->p->family == 4 && a[0] >= 224 && a[0] < 240)
			v = 5;		/* RTN_MULTICAST */
		else if (u->p->family == 6 && a[0] == 0xff)
			v = 5;
		else if (u->p->family == 4 && !memcmp(a, "\xff\xff\xff\xff", 4))
			v = 3;		/* RTN_BROADCAST */
		else
			v = 1;		/* RTN_UNICAST */
		load(u->rg, x->dreg, &v, 4, IXB_KNOWN);
		return;
	}
	undet(u, "fib lookup (routing decision)");
}

static int cgroup_ino(const char *path, uint32_t level, uint64_t *ino)
{
	char buf[4096];
	const char *s = path;
	uint32_t depth = 0;
	size_t n = 0;
	struct stat st;

	while (*s == '/')
		s++;
	while (depth < level && *s) {
		const char *e = strchrnul(s, '/');

		n = (size_t)(e - path);
		depth++;
		s = e;
		while (*s == '/')
			s++;
	}
	if (depth < level)
		return -ENOENT;		/* the socket's cgroup is not that deep */
	if (snprintf(buf, sizeof(buf), "/sys/fs/cgroup/%.*s", (int)n, path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	if (stat(buf, &st) < 0)
		return -EIO;
	*ino = st.st_ino;
	return 0;
}

static void run_socket(struct run *u, const struct ix_expr *x)
{
	struct ix_pkt *p = u->p;
	uint64_t ino;
	int r;

	if (x->key != NFT_SOCKET_CGROUPV2 || p->hook != IXH_OUTPUT || !p->has_sk) {
		undet(u, "socket expression (the kernel's socket lookup)");
		return;
	}
	if (!p->cgroup) {
		load(u->rg, x->dreg, "\0\0\0\0\0\0\0\0", 8, IXB_ABSENT);
		return;
	}
	r = cgroup_ino(p->cgroup, x->flags, &ino);
	if (r == -ENOENT) {
		BRK(u->rg);
		return;
	}
	if (r < 0) {
		undet(u, "socket cgroupv2 (the cgroup's inode cannot be read)");
		return;
	}
	load(u->rg, x->dreg, &ino, 8, IXB_KNOWN);
}

/* `socket cgroupv2 level N "path"`, by path: the socket's cgroup is @str or
 * below it. x->flags holds N, x->cmp_op the cmp operator. */
static void run_cgroup_path(struct run *u, const struct ix_expr *x)
{
	const char *s = u->p->cgroup;
	size_t n = strlen(x->str);
	bool in;

	if (u->p->hook != IXH_OUTPUT && u->p->hook != IXH_POSTROUTING) {
		undet(u, "socket expression (the kernel's socket lookup)");
		return;
	}
	if (!u->p->has_sk || !s) {
		BRK(u->rg);
		return;
	}
	while (*s == '/')
		s++;
	in = !strncmp(s, x->str, n) && (s[n] == '\0' || s[n] == '/');
	if (in != (x->cmp_op == NFT_CMP_EQ))
		BRK(u->rg);
}

void ix_rule_run(const struct ix_table *t, const struct ix_rule *r,
		 struct ix_pkt *p, struct ix_regs *rg, struct ix_rule_out *out)
{
	struct run u = { .p = p, .rg = rg, .out = out, .t = t, .r = r };
	char why[128];

	memset(out, 0, sizeof(*out));
	rg->vd.code = NFT_CONTINUE;
	rg->vd.chain = -1;
	for (u.i = 0; u.i < r->n_ex; u.i++) {
		const struct ix_expr *x = &r->ex[u.i];

		switch (x->op) {
		case IXO_PAYLOAD:	run_payload(&u, x); break;
		case IXO_META:		run_meta(&u, x); break;
		case IXO_CT:		run_ct(&u, x); break;
		case IXO_CMP:		run_cmp(&u, x); break;
		case IXO_RANGE:		run_range(&u, x); break;
		case IXO_BITWISE:	run_bitwise(&u, x); break;
		case IXO_BYTEORDER:	run_byteorder(&u, x); break;
		case IXO_LOOKUP:	run_lookup(&u, x); break;
		case IXO_FIB:		run_fib(&u, x); break;
		case IXO_SOCKET:	run_socket(&u, x); break;
		case IXO_CGROUP_PATH:	run_cgroup_path(&u, x); break;
		case IXO_NOOP:		break;
		case IXO_IMMEDIATE:
			if (x->to_verdict)
				rg->vd = x->vd;
			else
				load(rg, x->dreg, x->data, x->len, IXB_KNOWN);
			break;
		case IXO_META_SET:
			if (x->key == NFT_META_MARK &&
			    reg_state(rg, x->sreg, 4) == IXB_KNOWN) {
				memcpy(&p->mark, rg->b + x->sreg, 4);
			} else if (x->key != NFT_META_NFTRACE &&
				   x->key != NFT_META_PRIORITY) {
				undet(&u, "meta set");
			}
			break;
		case IXO_CT_SET:
			if (x->key == NFT_CT_MARK && p->has_ct &&
			    reg_state(rg, x->sreg, 4) == IXB_KNOWN)
				memcpy(&p->ct_mark, rg->b + x->sreg, 4);
			else if (x->key != NFT_CT_MARK || p->has_ct)
				undet(&u, "ct set");
			break;
		case IXO_NOTRACK:
			p->untracked = true;
			break;
		case IXO_DYNSET:
			/* it changes the set, not the verdict; unless a rule
			 * looks the set up (port knocking, meters) */
			if (t->sets[x->set].looked_up)
				undet(&u, "dynset into a set that rules look up");
			break;
		case IXO_LIMIT:
			if (rest_matters(r, u.i))
				undet(&u, "limit (a rate: whether this packet is within it is not known)");
			break;
		case IXO_REJECT:
			rg->vd.code = NF_DROP;
			rg->vd.chain = -2;	/* marks a reject */
			break;
		case IXO_UNKNOWN:
			snprintf(why, sizeof(why), "%s", x->what);
			undet(&u, why);
			break;
		}
		if (out->undet || rg->vd.code != NFT_CONTINUE)
			return;
	}
}
