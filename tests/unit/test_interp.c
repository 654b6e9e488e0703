// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The nftables interpreter, one expression type at a time: hand-built
 * tables (libnftnl messages, as a dump would carry them) and connections
 * run through them. No kernel needed; the kernel itself is the oracle of
 * tests/integration/differential*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "pw_testpol.h"
#include "interp.h"

#define FAM NFPROTO_INET
#define TBL "t"

static char buf[1 << 16];
static uint64_t next_handle = 1;

static void load(struct ix_host *h, struct nlmsghdr *nlh)
{
	assert_int_equal(ix_host_load_msg(h, nlh), 0);
}

static void add_table(struct ix_host *h, uint32_t family, const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWTABLE,
						     (uint16_t)family, 0, 0);

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, family);
	nftnl_table_set_u64(t, NFTNL_TABLE_HANDLE, next_handle++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	load(h, nlh);
}

/* hook < 0: a regular chain */
static void add_chain(struct ix_host *h, uint32_t family, const char *table,
		      const char *name, int hook, int prio, uint32_t policy)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWCHAIN,
						     (uint16_t)family, 0, 0);

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_u64(c, NFTNL_CHAIN_HANDLE, next_handle++);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	load(h, nlh);
}

static struct nftnl_rule *rule_new(const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, TBL);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, FAM);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, next_handle++);
	return r;
}

static void rule_add(struct ix_host *h, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, FAM, 0, 0);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	load(h, nlh);
}

static struct nftnl_expr *ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	nftnl_rule_add_expr(r, e);
	return e;
}

static void payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = ex(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void cmp(struct nftnl_rule *r, uint32_t op, const void *d, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, d, len);
}

static void cmp8(struct nftnl_rule *r, uint8_t v)
{
	cmp(r, NFT_CMP_EQ, &v, 1);
}

static void verdict(struct nftnl_rule *r, int v, const char *chain)
{
	struct nftnl_expr *e = ex(r, "immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
}

static void lookup(struct nftnl_rule *r, const char *set, bool inv, bool vmap)
{
	struct nftnl_expr *e = ex(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
}

/* `meta l4proto tcp th dport PORT` */
static void tcp_dport(struct nftnl_rule *r, uint16_t port)
{
	uint16_t p = htons(port);

	meta(r, NFT_META_L4PROTO);
	cmp8(r, IPPROTO_TCP);
	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	cmp(r, NFT_CMP_EQ, &p, 2);
}

static void add_set(struct ix_host *h, const char *name, uint32_t key_len,
		    uint32_t flags, bool vmap)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, FAM, 0, 0);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, TBL);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAM);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 13);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags | (vmap ? NFT_SET_MAP : 0));
	if (vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	}
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	load(h, nlh);
}

/* one element: a key, an interval end marker, or a verdict map entry */
static void add_elem(struct ix_host *h, const char *set, const void *key,
		     uint32_t len, bool end, int vd, const char *chain)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSETELEM, FAM, 0, 0);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, TBL);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAM);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	if (vd != NFT_CONTINUE) {
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)vd);
		if (chain)
			nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	}
	nftnl_set_elem_add(s, e);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	load(h, nlh);
}

/* A host with table inet t and base chain "in" on input, priority 0. */
static struct ix_host *host(uint32_t policy)
{
	struct ix_host *h = ix_host_new();

	add_table(h, FAM, TBL);
	add_chain(h, FAM, TBL, "in", NF_INET_LOCAL_IN, 0, policy);
	add_chain(h, FAM, TBL, "out", NF_INET_LOCAL_OUT, 0, NF_ACCEPT);
	return h;
}

static struct packet conn(enum direction dir, uint8_t proto, const char *src,
			  uint16_t sport, const char *dst, uint16_t dport)
{
	struct packet k;

	memset(&k, 0, sizeof(k));
	k.dir = dir;
	k.l4proto = proto;
	assert_int_equal(cidr_parse(dst, &k.dst, NULL), 0);
	k.dport = dport;
	k.has_dport = true;
	if (src) {
		assert_int_equal(cidr_parse(src, &k.src, NULL), 0);
		k.has_src = true;
	}
	k.sport = sport;
	k.has_sport = sport != 0;
	return k;
}

static enum ix_verdict first(const struct ix_host *h, const struct packet *k,
			     struct ix_conn_result *res)
{
	assert_int_equal(ix_eval_conn(h, k, res), 0);
	return res->first.verdict;
}

#define IN_TCP(port) conn(DIR_IN, IPPROTO_TCP, "10.0.0.9", 40000, "10.0.0.1", (port))

/* payload + cmp: `ip daddr 10.0.0.1 drop` */
static void test_payload_cmp(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r = rule_new("in");
	struct ix_conn_result res;
	uint8_t nfproto = NFPROTO_IPV4, a[4] = { 10, 0, 0, 1 };
	struct packet k;

	(void)state;
	meta(r, NFT_META_NFPROTO);
	cmp(r, NFT_CMP_EQ, &nfproto, 1);
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	cmp(r, NFT_CMP_EQ, a, 4);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(22);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	assert_int_equal(res.first.n_steps, 1);
	assert_string_equal(res.first.steps[0].table, "inet t");
	assert_int_not_equal(res.first.steps[0].handle, 0);
	k = conn(DIR_IN, IPPROTO_TCP, "10.0.0.9", 40000, "10.0.0.2", 22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	/* the same address as IPv4-mapped IPv6 */
	k = conn(DIR_IN, IPPROTO_TCP, "::ffff:10.0.0.9", 40000, "::ffff:10.0.0.1", 22);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	ix_host_free(h);
}

/* range (negated), bitwise (a /24 prefix) */
static void test_range_bitwise(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r = rule_new("in");
	struct nftnl_expr *e;
	uint8_t mask[4] = { 255, 255, 255, 0 }, zero[4] = { 0 }, net[4] = { 10, 0, 0, 0 };
	uint16_t lo = htons(1000), hi = htons(2000);
	struct ix_conn_result res;
	struct packet k;

	(void)state;
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
	e = ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, 4);
	cmp(r, NFT_CMP_EQ, net, 4);
	meta(r, NFT_META_L4PROTO);
	cmp8(r, IPPROTO_TCP);
	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	e = ex(r, "range");
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 2);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 2);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(22);			/* 10.0.0.9 in 10.0.0.0/24, 22 outside */
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	k = IN_TCP(1500);		/* inside the range: no match */
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	k = conn(DIR_IN, IPPROTO_TCP, "10.0.1.9", 40000, "10.0.0.1", 22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	/* no source given: the masked compare cannot hold, negated or not */
	k = conn(DIR_IN, IPPROTO_TCP, NULL, 0, "10.0.0.1", 22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* interval set lookup, plain and negated; byteorder */
static void test_lookup_interval(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r;
	struct ix_conn_result res;
	uint16_t p;
	struct packet k;

	(void)state;
	add_set(h, "ports", 2, NFT_SET_INTERVAL, false);
	p = htons(0);
	add_elem(h, "ports", &p, 2, true, NFT_CONTINUE, NULL);
	p = htons(8000);
	add_elem(h, "ports", &p, 2, false, NFT_CONTINUE, NULL);
	p = htons(9000);		/* 8000-8999 */
	add_elem(h, "ports", &p, 2, true, NFT_CONTINUE, NULL);
	r = rule_new("in");
	meta(r, NFT_META_L4PROTO);
	cmp8(r, IPPROTO_TCP);
	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	lookup(r, "ports", false, false);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	r = rule_new("in");		/* byteorder then an inverted lookup */
	{
		struct nftnl_expr *e;

		payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		e = ex(r, "byteorder");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_NTOH);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
		e = ex(r, "byteorder");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
	}
	lookup(r, "ports", true, false);
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(8000);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	k = IN_TCP(8999);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	k = IN_TCP(9000);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	assert_int_not_equal(res.first.steps[0].handle, 0);	/* rule 2 */
	k = IN_TCP(7999);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* verdict map -> jump to a chain that returns; goto; return */
static void test_vmap_jump(void **state)
{
	struct ix_host *h = host(NF_DROP);
	struct nftnl_rule *r;
	struct ix_conn_result res;
	uint16_t p;
	struct packet k;

	(void)state;
	add_chain(h, FAM, TBL, "sub", -1, 0, 0);
	add_chain(h, FAM, TBL, "ok", -1, 0, 0);
	add_set(h, "vm", 2, 0, true);
	p = htons(22);
	add_elem(h, "vm", &p, 2, false, NFT_JUMP, "sub");
	p = htons(80);
	add_elem(h, "vm", &p, 2, false, NFT_GOTO, "ok");
	p = htons(443);
	add_elem(h, "vm", &p, 2, false, NF_DROP, NULL);
	r = rule_new("sub");		/* sub: port 22 returns, continues */
	verdict(r, NFT_RETURN, NULL);
	rule_add(h, r);
	r = rule_new("ok");
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	r = rule_new("in");
	meta(r, NFT_META_L4PROTO);
	cmp8(r, IPPROTO_TCP);
	payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	lookup(r, "vm", false, true);
	rule_add(h, r);
	r = rule_new("in");		/* after the return: 22 accepted here */
	tcp_dport(r, 22);
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	assert_string_equal(res.first.steps[0].rule_chain, "in");
	k = IN_TCP(80);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	assert_string_equal(res.first.steps[0].rule_chain, "ok");
	k = IN_TCP(443);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	k = IN_TCP(25);			/* not in the map: the chain's policy */
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	assert_int_equal(res.first.steps[0].handle, 0);
	ix_host_free(h);
}

/* ct state: new first, established replies; before conntrack: invalid */
static void test_ct_state(void **state)
{
	struct ix_host *h = ix_host_new();
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct ix_conn_result res;
	uint32_t est = 2, inval = 1;
	struct packet k;

	(void)state;
	add_table(h, FAM, TBL);
	add_chain(h, FAM, TBL, "in", NF_INET_LOCAL_IN, 0, NF_DROP);
	add_chain(h, FAM, TBL, "out", NF_INET_LOCAL_OUT, 0, NF_DROP);
	add_chain(h, FAM, TBL, "raw", NF_INET_LOCAL_OUT, -300, NF_ACCEPT);
	r = rule_new("raw");		/* before conntrack: invalid */
	e = ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	cmp(r, NFT_CMP_NEQ, &inval, 4);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	r = rule_new("in");		/* ssh in */
	tcp_dport(r, 22);
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	/* the SYN-ACK meets "out": policy drop, no established rule */
	k = IN_TCP(22);
	assert_int_equal(ix_eval_conn(h, &k, &res), 0);
	assert_int_equal(res.first.verdict, IXV_ACCEPT);
	assert_true(res.has_reply);
	assert_int_equal(res.reply.verdict, IXV_DROP);
	assert_int_equal(res.verdict, IXV_DROP);
	assert_int_equal(res.reply.steps[res.reply.decider].hook, IXH_OUTPUT);
	ix_host_free(h);

	/* with `ct state established accept` in "out", it completes */
	h = ix_host_new();
	add_table(h, FAM, TBL);
	add_chain(h, FAM, TBL, "in", NF_INET_LOCAL_IN, 0, NF_DROP);
	add_chain(h, FAM, TBL, "out", NF_INET_LOCAL_OUT, 0, NF_DROP);
	r = rule_new("out");
	e = ex(r, "ct");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	e = ex(r, "bitwise");
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &est, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, "\0\0\0\0", 4);
	cmp(r, NFT_CMP_NEQ, "\0\0\0\0", 4);
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	r = rule_new("in");
	tcp_dport(r, 22);
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	assert_int_equal(ix_eval_conn(h, &k, &res), 0);
	assert_int_equal(res.verdict, IXV_ACCEPT);
	ix_host_free(h);
}

/* meta skuid on output: a user not given matches no rule on it */
static void test_meta_skuid(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r = rule_new("out");
	struct ix_conn_result res;
	uint32_t uid = 65534;
	struct packet k;

	(void)state;
	meta(r, NFT_META_SKUID);
	cmp(r, NFT_CMP_NEQ, &uid, 4);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = conn(DIR_OUT, IPPROTO_UDP, "10.0.0.1", 40000, "10.0.0.9", 53);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);	/* absent */
	k.uid = 0;
	k.has_uid = true;
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	k.uid = 65534;
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* iifname on the output hook is "": `iifname != "eth0"` matches there */
static void test_ifname_without_device(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r = rule_new("out");
	struct ix_conn_result res;
	char name[16] = "eth0";
	struct packet k;

	(void)state;
	meta(r, NFT_META_IIFNAME);
	cmp(r, NFT_CMP_NEQ, name, 16);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = conn(DIR_OUT, IPPROTO_UDP, "10.0.0.1", 40000, "10.0.0.9", 53);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	ix_host_free(h);
}

/* xt matches, NAT, TTL: undetermined, naming the expression */
static void test_undetermined(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r = rule_new("in");
	struct nftnl_expr *e;
	struct ix_conn_result res;
	struct packet k;

	(void)state;
	tcp_dport(r, 22);
	e = ex(r, "match");
	nftnl_expr_set_str(e, NFTNL_EXPR_MT_NAME, "conntrack");
	nftnl_expr_set_u32(e, NFTNL_EXPR_MT_REV, 3);
	/* libnftnl keeps (and frees) the info buffer it is given */
	nftnl_expr_set(e, NFTNL_EXPR_MT_INFO, calloc(1, 4), 4);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	r = rule_new("in");		/* ip ttl 64 drop */
	tcp_dport(r, 80);
	payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 1);
	cmp8(r, 64);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(22);
	assert_int_equal(first(h, &k, &res), IXV_UNDETERMINED);
	assert_non_null(strstr(res.first.why, "xt match \"conntrack\""));
	assert_non_null(strstr(res.first.why, "inet t chain in rule handle"));
	k = IN_TCP(80);
	assert_int_equal(first(h, &k, &res), IXV_UNDETERMINED);
	assert_non_null(strstr(res.first.why, "cmp on a packet field that is not known"));
	k = IN_TCP(443);		/* the rules do not match before: fine */
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* A concatenation with an unknown field: one known field outside the
 * element decides ("no match"), whatever the unknown one holds. */
static void test_concat_unknown_field(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWSET, FAM, 0, 0);
	uint8_t fields[2] = { 1, 2 }, key[8] = { 64, 0, 0, 0, 0, 22, 0, 0 };
	struct ix_conn_result res;
	struct packet k;

	(void)state;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TBL);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "c");
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, FAM);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 8);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 13);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_CONCAT);
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, 2);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	load(h, nlh);
	add_elem(h, "c", key, 8, false, NFT_CONTINUE, NULL);
	r = rule_new("in");		/* ip ttl . th dport @c drop */
	meta(r, NFT_META_L4PROTO);
	cmp8(r, IPPROTO_TCP);
	e = ex(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_00);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 8);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 1);
	e = ex(r, "payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 2);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	e = ex(r, "lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "c");
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(80);			/* the port alone says no */
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	k = IN_TCP(22);			/* the ttl would decide: unknown */
	assert_int_equal(first(h, &k, &res), IXV_UNDETERMINED);
	ix_host_free(h);
}

/* reject; a limit in front of a log decides nothing, in front of a
 * verdict it is undetermined */
static void test_reject_limit(void **state)
{
	struct ix_host *h = host(NF_ACCEPT);
	struct nftnl_rule *r;
	struct ix_conn_result res;
	struct packet k;

	(void)state;
	r = rule_new("in");
	ex(r, "limit");
	ex(r, "log");
	rule_add(h, r);
	r = rule_new("in");
	tcp_dport(r, 25);
	ex(r, "reject");
	rule_add(h, r);
	r = rule_new("in");
	tcp_dport(r, 26);
	ex(r, "limit");
	verdict(r, NF_ACCEPT, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(25);
	assert_int_equal(first(h, &k, &res), IXV_REJECT);
	k = IN_TCP(26);
	assert_int_equal(first(h, &k, &res), IXV_UNDETERMINED);
	k = IN_TCP(27);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* a mark set by an earlier chain is seen by a later one; base chains run
 * in priority order across tables */
static void test_mark_and_order(void **state)
{
	struct ix_host *h = ix_host_new();
	struct nftnl_rule *r;
	struct nftnl_expr *e;
	struct ix_conn_result res;
	uint32_t one = 1;
	struct packet k;

	(void)state;
	add_table(h, FAM, TBL);
	add_chain(h, FAM, TBL, "late", NF_INET_LOCAL_IN, 10, NF_ACCEPT);
	add_chain(h, FAM, TBL, "early", NF_INET_LOCAL_IN, -10, NF_ACCEPT);
	r = rule_new("early");
	tcp_dport(r, 22);
	e = ex(r, "immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &one, 4);
	e = ex(r, "meta");
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	rule_add(h, r);
	r = rule_new("late");
	meta(r, NFT_META_MARK);
	cmp(r, NFT_CMP_EQ, &one, 4);
	verdict(r, NF_DROP, NULL);
	rule_add(h, r);
	ix_host_finish(h);
	k = IN_TCP(22);
	assert_int_equal(first(h, &k, &res), IXV_DROP);
	assert_int_equal(res.first.n_steps, 2);
	assert_string_equal(res.first.steps[0].chain, "early");
	assert_string_equal(res.first.steps[1].chain, "late");
	k = IN_TCP(23);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	ix_host_free(h);
}

/* an ip table sees IPv4 only; a dormant table nothing */
static void test_families(void **state)
{
	struct ix_host *h = ix_host_new();
	struct nftnl_rule *r;
	struct ix_conn_result res;
	struct packet k;

	(void)state;
	add_table(h, NFPROTO_IPV4, "filter");
	add_chain(h, NFPROTO_IPV4, "filter", "INPUT", NF_INET_LOCAL_IN, 0, NF_DROP);
	r = nftnl_rule_alloc();
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "filter");
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "INPUT");
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	verdict(r, NF_ACCEPT, NULL);
	{
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE,
							     NFPROTO_IPV4, 0, 0);

		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		load(h, nlh);
	}
	ix_host_finish(h);
	k = IN_TCP(22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	assert_string_equal(res.first.steps[0].table, "ip filter");
	k = conn(DIR_IN, IPPROTO_TCP, "fd00::9", 40000, "fd00::1", 22);
	assert_int_equal(first(h, &k, &res), IXV_ACCEPT);
	assert_int_equal(res.first.n_steps, 0);
	ix_host_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_cmp),
		cmocka_unit_test(test_range_bitwise),
		cmocka_unit_test(test_lookup_interval),
		cmocka_unit_test(test_vmap_jump),
		cmocka_unit_test(test_ct_state),
		cmocka_unit_test(test_meta_skuid),
		cmocka_unit_test(test_ifname_without_device),
		cmocka_unit_test(test_undetermined),
		cmocka_unit_test(test_concat_unknown_field),
		cmocka_unit_test(test_reject_limit),
		cmocka_unit_test(test_mark_and_order),
		cmocka_unit_test(test_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
