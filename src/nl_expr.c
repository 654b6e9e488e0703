// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model rule -> libnftnl expressions: the bytecode nft 1.0 emits for each
 * text form documented in model.h (netlink_linearize.c's job in nftables).
 *
 * What nft adds on its own is reproduced: the protocol dependencies
 * (mrule_expand()), trimmed loads for byte-aligned prefixes and masks for
 * the others, cmp gte/lte for port ranges and `range neq` for negated
 * ones, 32-bit registers and, for interval sets only, a byteorder for
 * the protocol inside concatenations, the merge of `th sport X th dport Y` into one compare,
 * and the family's own ICMP code for a plain `reject` in a one-family
 * rule. Checked against `nft --debug=netlink` by tests/integration/
 * apply_basic.sh, apply_random.sh and compile_oracle.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include "model_cmp.h"
#include "nl_priv.h"
#include "util.h"

/* ---- key types ---- */

int nl_keyinfo(enum match_key key, uint8_t family, struct nl_keyinfo *ki)
{
	switch (key) {
	case KEY_SADDR:
	case KEY_DADDR:
		ki->type = family == 6 ? NL_TYPE_IP6ADDR : NL_TYPE_IPADDR;
		ki->len = family == 6 ? 16 : 4;
		ki->byteorder = NL_BYTEORDER_BIG;
		return 0;
	case KEY_SPORT:
	case KEY_DPORT:
		*ki = (struct nl_keyinfo){ NL_TYPE_INET_SERVICE, 2, NL_BYTEORDER_BIG };
		return 0;
	case KEY_L4PROTO:
		*ki = (struct nl_keyinfo){ NL_TYPE_INET_PROTOCOL, 1, NL_BYTEORDER_INVALID };
		return 0;
	case KEY_ICMP_TYPE:
		*ki = (struct nl_keyinfo){ NL_TYPE_ICMP_TYPE, 1, NL_BYTEORDER_BIG };
		return 0;
	case KEY_ICMPV6_TYPE:
		*ki = (struct nl_keyinfo){ NL_TYPE_ICMPV6_TYPE, 1, NL_BYTEORDER_BIG };
		return 0;
	case KEY_SKUID:
		*ki = (struct nl_keyinfo){ NL_TYPE_UID, 4, NL_BYTEORDER_HOST };
		return 0;
	case KEY_SKGID:
		*ki = (struct nl_keyinfo){ NL_TYPE_GID, 4, NL_BYTEORDER_HOST };
		return 0;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		*ki = (struct nl_keyinfo){ NL_TYPE_IFNAME, NL_IFNAMSIZ, NL_BYTEORDER_HOST };
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

void nl_value_bytes(enum match_key key, const struct mvalue *v,
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

/* ---- expressions ---- */

/*
 * How MV_QUEUE is sent: nft's own `queue` expression (CONFIG_NFT_QUEUE),
 * or, on kernels built without it, the xtables NFQUEUE target through
 * nft_compat (what iptables-nft sends for `-j NFQUEUE --queue-bypass`; nft
 * lists it as `queue num N bypass`). A property of the running kernel,
 * found once per process by nl_apply (nl_queue_probe()).
 */
static int queue_form = NL_QUEUE_NATIVE;

void nl_queue_set_form(int form)
{
	queue_form = form;
}

int nl_queue_form(void)
{
	return queue_form;
}

static int add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	nftnl_rule_add_expr(r, e);
	return 0;
}

static struct nftnl_expr *expr_new(const char *name)
{
	return XALLOC(nftnl_expr_alloc(name));
}

/* nft's register numbering: 128-bit registers where a component starts on
 * one, 32-bit ones otherwise (netlink_put_register). */
static uint32_t reg_of(uint32_t off32)
{
	if (off32 % 4 == 0)
		return NFT_REG_1 + off32 / 4;
	return NFT_REG32_00 + off32;
}

static void e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	add_expr(r, e);
}

static void e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
		      uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = expr_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	add_expr(r, e);
}

static void e_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
		  uint32_t len)
{
	struct nftnl_expr *e = expr_new("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	add_expr(r, e);
}

static void e_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = expr_new("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	add_expr(r, e);
}

static void e_lookup(struct nftnl_rule *r, const struct mset *s, uint32_t id,
		     bool negate)
{
	struct nftnl_expr *e = expr_new("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, s->name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (negate)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	add_expr(r, e);
}

/* Where a key is loaded from, into register @dreg. */
static void e_load(struct nftnl_rule *r, enum match_key key, uint8_t family,
		   uint32_t dreg)
{
	switch (key) {
	case KEY_NFPROTO:
		e_meta(r, NFT_META_NFPROTO, dreg);
		break;
	case KEY_L4PROTO:
		e_meta(r, NFT_META_L4PROTO, dreg);
		break;
	case KEY_IIFNAME:
		e_meta(r, NFT_META_IIFNAME, dreg);
		break;
	case KEY_OIFNAME:
		e_meta(r, NFT_META_OIFNAME, dreg);
		break;
	case KEY_SKUID:
		e_meta(r, NFT_META_SKUID, dreg);
		break;
	case KEY_SKGID:
		e_meta(r, NFT_META_SKGID, dreg);
		break;
	case KEY_SADDR:
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == 6 ? 8 : 12,
			  family == 6 ? 16 : 4, dreg);
		break;
	case KEY_DADDR:
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, family == 6 ? 24 : 16,
			  family == 6 ? 16 : 4, dreg);
		break;
	case KEY_SPORT:
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, dreg);
		break;
	case KEY_DPORT:
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, dreg);
		break;
	case KEY_ICMP_TYPE:
	case KEY_ICMPV6_TYPE:
		e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, dreg);
		break;
	default:
		break;
	}
}

/* An address prefix: byte-aligned prefixes load only their bytes; others
 * load the whole address and mask it (nft's payload_expr_trim idea). */
static void match_prefix(struct nftnl_rule *r, const struct match *mt)
{
	const struct cidr *c = &mt->value.prefix;
	uint32_t alen = c->family == 6 ? 16 : 4;
	uint32_t off = c->family == 6 ? (mt->key == KEY_SADDR ? 8 : 24) :
					 (mt->key == KEY_SADDR ? 12 : 16);
	uint32_t op = mt->negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
	uint8_t mask[16] = { 0 }, data[16] = { 0 };
	uint32_t i;

	if (c->plen && c->plen % 8 == 0) {
		e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, c->plen / 8, NFT_REG_1);
		e_cmp(r, op, c->addr, c->plen / 8);
		return;
	}
	for (i = 0; i < c->plen; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (i = 0; i < alen; i++)
		data[i] = c->addr[i] & mask[i];
	e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen, NFT_REG_1);
	e_bitwise(r, mask, alen);
	e_cmp(r, op, data, alen);
}

static void match_ports(struct nftnl_rule *r, const struct match *mt)
{
	uint8_t lo[2], hi[2];

	nl_put_be16(lo, mt->value.range.lo);
	nl_put_be16(hi, mt->value.range.hi);
	e_load(r, mt->key, 0, NFT_REG_1);
	if (mt->value.range.lo == mt->value.range.hi) {
		e_cmp(r, mt->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, lo, 2);
	} else if (!mt->negate) {
		e_cmp(r, NFT_CMP_GTE, lo, 2);
		e_cmp(r, NFT_CMP_LTE, hi, 2);
	} else {
		struct nftnl_expr *e = expr_new("range");

		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, 2);
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, 2);
		add_expr(r, e);
	}
}

/* Inode of a cgroup v2 directory: what `socket cgroupv2` compares. */
static int cgroup_id(const char *path, uint64_t *id)
{
	struct stat st;
	char *full, *end;
	int ret = 0;

	/* nl_decode.c's name for a cgroup it could not find: put back as is */
	if (!strncmp(path, "inode:", 6)) {
		*id = strtoull(path + 6, &end, 10);
		return *end ? -EINVAL : 0;
	}
	full = xasprintf("%s/%s", NL_CGROUP_ROOT, path);

	if (stat(full, &st) < 0)
		ret = -errno;
	else
		*id = st.st_ino;
	free(full);
	return ret;
}

static int match_concat(struct nftnl_rule *r, const struct model *m,
			const struct match *mt)
{
	const struct mset *s = &m->sets[mt->set];
	uint32_t off32 = 0;
	size_t k;

	for (k = 0; k < s->n_keys; k++) {
		struct nl_keyinfo ki;
		uint32_t reg = reg_of(off32);

		if (nl_keyinfo(s->keys[k], s->family, &ki) < 0)
			return -EOPNOTSUPP;
		e_load(r, s->keys[k], s->family, reg);
		if (s->keys[k] == KEY_L4PROTO && s->interval) {
			/* nft (evaluate.c, "data for range lookups needs to
			 * be in big endian order") turns the host-order meta
			 * value around for an interval set only; a hash set
			 * is looked up as loaded */
			struct nftnl_expr *e = expr_new("byteorder");

			nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 2);
			add_expr(r, e);
		}
		off32 += nl_reg_round(ki.len) / 4;
	}
	e_lookup(r, s, (uint32_t)mt->set + 1, mt->negate);
	return 0;
}

static int match_build(struct nftnl_rule *r, const struct model *m,
		       const struct match *mt)
{
	uint32_t op = mt->negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
	uint8_t family = mt->family;
	uint8_t b[16] = { 0 };
	uint32_t u32;
	size_t len;

	if (mt->set >= 0) {
		if ((size_t)mt->set >= m->n_sets)
			return -EINVAL;
		if (mt->key == KEY_CONCAT)
			return match_concat(r, m, mt);
		if (!family)
			family = m->sets[mt->set].family;
		e_load(r, mt->key, family, NFT_REG_1);
		if (mt->mask && (mt->key == KEY_SADDR || mt->key == KEY_DADDR)) {
			/* nft: the whole address, `& mask ^ 0`, lookup */
			uint32_t alen = family == 6 ? 16 : 4, i;

			if (mt->mask > alen * 8)
				return -EINVAL;
			for (i = 0; i < mt->mask; i++)
				b[i / 8] |= (uint8_t)(0x80u >> (i % 8));
			e_bitwise(r, b, alen);
		}
		e_lookup(r, &m->sets[mt->set], (uint32_t)mt->set + 1, mt->negate);
		return 0;
	}
	switch (mt->key) {
	case KEY_NFPROTO:
	case KEY_L4PROTO:
	case KEY_ICMP_TYPE:
	case KEY_ICMPV6_TYPE:
		e_load(r, mt->key, 0, NFT_REG_1);
		b[0] = (uint8_t)mt->value.num;
		e_cmp(r, op, b, 1);
		return 0;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		if (!mt->value.str || strlen(mt->value.str) >= NL_IFNAMSIZ)
			return -ENAMETOOLONG;
		e_load(r, mt->key, 0, NFT_REG_1);
		len = strlen(mt->value.str);
		memcpy(b, mt->value.str, len);
		/* "eth*" compares the prefix only, without the terminator */
		if (len && mt->value.str[len - 1] == '*')
			e_cmp(r, op, b, (uint32_t)len - 1);
		else
			e_cmp(r, op, b, NL_IFNAMSIZ);
		return 0;
	case KEY_SADDR:
	case KEY_DADDR:
		match_prefix(r, mt);
		return 0;
	case KEY_SPORT:
	case KEY_DPORT:
		match_ports(r, mt);
		return 0;
	case KEY_SKUID:
	case KEY_SKGID:
		e_load(r, mt->key, 0, NFT_REG_1);
		u32 = mt->value.num;
		e_cmp(r, op, &u32, 4);
		return 0;
	case KEY_CGROUPV2: {
		struct nftnl_expr *e;
		uint64_t id;
		int ret = cgroup_id(mt->value.str ? mt->value.str : "", &id);

		if (ret < 0)
			return ret;
		e = expr_new("socket");
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_KEY, NFT_SOCKET_CGROUPV2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_SOCKET_LEVEL, mt->value.num);
		add_expr(r, e);
		e_cmp(r, op, &id, 8);
		return 0;
	}
	case KEY_CT_STATE: {
		struct nftnl_expr *e = expr_new("ct");

		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
		add_expr(r, e);
		u32 = mt->value.num;
		e_bitwise(r, &u32, 4);
		u32 = 0;
		e_cmp(r, mt->negate ? NFT_CMP_EQ : NFT_CMP_NEQ, &u32, 4);
		return 0;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * @nfproto: the family the matches fixed (0: both). A plain `reject` is
 * icmpx in an inet rule, but nft picks the family's own ICMP code when the
 * rule is known to be IPv4 or IPv6 only.
 */
static void stmt_build(struct nftnl_rule *r, const struct mrule *mr,
		       uint32_t nfproto)
{
	struct nftnl_expr *e;

	if (mr->counter) {
		e = expr_new("counter");
		/* a rule recreated with its table keeps its counts */
		if (mr->packets || mr->bytes) {
			nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, mr->packets);
			nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, mr->bytes);
		}
		add_expr(r, e);
	}
	if (mr->log_prefix) {
		e = expr_new("limit");
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, 5);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 60);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
		add_expr(r, e);
		e = expr_new("log");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, mr->log_prefix);
		add_expr(r, e);
	}
	if (mr->nflog_prefix) {
		/* as nft builds `log group G prefix "..."`: prefix and group
		 * only */
		e = expr_new("log");
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, mr->nflog_prefix);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, mr->nflog_group);
		add_expr(r, e);
	}
	switch (mr->verdict) {
	case MV_NONE:
		break;
	case MV_ACCEPT:
	case MV_DROP:
		e = expr_new("immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
				   mr->verdict == MV_ACCEPT ? NF_ACCEPT : NF_DROP);
		add_expr(r, e);
		break;
	case MV_QUEUE:
		if (queue_form == NL_QUEUE_XT) {
			/* libnftnl owns (and frees) the target's info */
			struct xt_NFQ_info_v3 *info = xcalloc(1, sizeof(*info));

			info->queuenum = mr->queue_num;
			info->queues_total = 1;
			info->flags = NFQ_FLAG_BYPASS;
			e = expr_new("target");
			nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "NFQUEUE");
			nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 3);
			nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, sizeof(*info));
			add_expr(r, e);
			break;
		}
		e = expr_new("queue");
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, mr->queue_num);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
		nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS,
				   NFT_QUEUE_FLAG_BYPASS);
		add_expr(r, e);
		break;
	case MV_REJECT_TCP:
		e = expr_new("reject");
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
		add_expr(r, e);
		break;
	case MV_REJECT_ICMPX:
		e = expr_new("reject");
		if (nfproto == NFPROTO_IPV4 || nfproto == NFPROTO_IPV6) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
					   NFT_REJECT_ICMP_UNREACH);
			/* ICMP_PORT_UNREACH / ICMPV6_PORT_UNREACH */
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
					  nfproto == NFPROTO_IPV4 ? 3 : 4);
		} else {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE,
					   NFT_REJECT_ICMPX_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE,
					  NFT_REJECT_ICMPX_PORT_UNREACH);
		}
		add_expr(r, e);
		break;
	}
}

static bool single_port(const struct match *mt)
{
	return mt->set < 0 && mt->value.range.lo == mt->value.range.hi;
}

/*
 * nft merges equality matches on adjacent header fields into one load
 * (rule.c payload_do_merge): `th sport 67 th dport 68` becomes one 4-byte
 * compare at the sport's place. It does so for `!=` too, which then means
 * "not both"; portwarden never negates ports, so only the bytes matter.
 * Return: the index of the sport match to merge at, or -1.
 */
static ssize_t ports_merge(const struct match *v, size_t n)
{
	ssize_t sp = -1, dp = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i].key == KEY_SPORT && single_port(&v[i]))
			sp = sp < 0 ? (ssize_t)i : -2;
		else if (v[i].key == KEY_DPORT && single_port(&v[i]))
			dp = dp < 0 ? (ssize_t)i : -2;
	}
	if (sp < 0 || dp < 0 || v[sp].negate != v[dp].negate)
		return -1;
	return sp;
}

static void match_ports_merged(struct nftnl_rule *r, const struct match *sp,
			       const struct match *v)
{
	const struct match *dp = NULL;
	uint8_t b[4];
	size_t i;

	for (i = 0; !dp; i++)
		if (v[i].key == KEY_DPORT && single_port(&v[i]))
			dp = &v[i];
	nl_put_be16(b, sp->value.range.lo);
	nl_put_be16(b + 2, dp->value.range.lo);
	e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4, NFT_REG_1);
	e_cmp(r, sp->negate ? NFT_CMP_NEQ : NFT_CMP_EQ, b, 4);
}

struct nftnl_rule *nl_rule_build(const struct model *m,
				     const struct mchain *c,
				     const struct mrule *mr, int *err)
{
	struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());
	struct match *v = NULL;
	uint32_t nfproto = 0;
	ssize_t merge;
	size_t n, i;

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, m->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, c->name);
	n = mrule_expand(mr, &v);
	merge = ports_merge(v, n);
	for (i = 0; i < n; i++) {
		if (merge >= 0 && v[i].key == KEY_DPORT && v[i].set < 0 &&
		    v[i].value.range.lo == v[i].value.range.hi)
			continue;
		if (merge >= 0 && (size_t)merge == i) {
			match_ports_merged(r, &v[i], v);
			continue;
		}
		*err = match_build(r, m, &v[i]);
		if (*err < 0) {
			free(v);
			nftnl_rule_free(r);
			return NULL;
		}
		if (v[i].key == KEY_NFPROTO && v[i].set < 0 && !v[i].negate)
			nfproto = v[i].value.num;
	}
	free(v);
	stmt_build(r, mr, nfproto);
	if (mr->comment) {
		struct nftnl_udata_buf *u = XALLOC(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));

		if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, mr->comment)) {
			nftnl_udata_buf_free(u);
			nftnl_rule_free(r);
			*err = -E2BIG;
			return NULL;
		}
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	*err = 0;
	return r;
}
