// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nft bytecode -> model matches: the inverse of nl_expr.c, for rules read
 * back by nl_read.c. Follows what each expression loads into which
 * register (a small symbolic run of the rule, as nftables'
 * netlink_delinearize.c does) and turns each compare or lookup into one
 * match. Anything else makes the whole rule "not understood".
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

#include "nl_priv.h"
#include "util.h"

/* What a register holds while a rule runs. */

enum src_kind {
	SRC_NONE,
	SRC_META,
	SRC_PAYLOAD,
	SRC_CT,
	SRC_SOCKET,
};

struct regsrc {
	enum src_kind kind;
	uint32_t key;		/* meta/ct/socket key */
	uint32_t base, off, len;	/* payload */
	uint32_t level;		/* socket cgroupv2 */
	bool masked;
	uint8_t mask[16];
	bool swapped;		/* byteorder */
};

#define NREG32 16

static int reg32(uint32_t reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 4;
	if (reg >= NFT_REG32_00 && reg < NFT_REG32_00 + NREG32)
		return (int)(reg - NFT_REG32_00);
	return -1;
}

struct decoder {
	struct model *m;
	struct mrule *r;
	struct regsrc regs[NREG32];
	uint32_t nfproto, l4proto;	/* protocol context */
	bool bad;
	char why[64];
	/* a pending `cmp gte` of a port range */
	bool have_gte;
	int gte_reg;
	uint8_t gte_data[2];
};

static void bad(struct decoder *d, const char *why)
{
	if (!d->bad)
		snprintf(d->why, sizeof(d->why), "%s", why);
	d->bad = true;
}

/* The model key a register source stands for, or -1. */
static int src_key(const struct decoder *d, const struct regsrc *src,
		   uint8_t *family)
{
	*family = 0;
	switch (src->kind) {
	case SRC_META:
		switch (src->key) {
		case NFT_META_NFPROTO:	return KEY_NFPROTO;
		case NFT_META_L4PROTO:	return KEY_L4PROTO;
		case NFT_META_IIFNAME:	return KEY_IIFNAME;
		case NFT_META_OIFNAME:	return KEY_OIFNAME;
		case NFT_META_SKUID:	return KEY_SKUID;
		case NFT_META_SKGID:	return KEY_SKGID;
		}
		return -1;
	case SRC_PAYLOAD:
		if (src->base == NFT_PAYLOAD_NETWORK_HEADER) {
			if (d->nfproto == NFPROTO_IPV4 && src->len <= 4 &&
			    (src->off == 12 || src->off == 16)) {
				*family = 4;
				return src->off == 12 ? KEY_SADDR : KEY_DADDR;
			}
			if (d->nfproto == NFPROTO_IPV6 && src->len <= 16 &&
			    (src->off == 8 || src->off == 24)) {
				*family = 6;
				return src->off == 8 ? KEY_SADDR : KEY_DADDR;
			}
			return -1;
		}
		if (src->base != NFT_PAYLOAD_TRANSPORT_HEADER)
			return -1;
		if (src->len == 2 && (src->off == 0 || src->off == 2))
			return src->off == 0 ? KEY_SPORT : KEY_DPORT;
		if (src->len == 1 && src->off == 0) {
			if (d->l4proto == IPPROTO_ICMP)
				return KEY_ICMP_TYPE;
			if (d->l4proto == IPPROTO_ICMPV6)
				return KEY_ICMPV6_TYPE;
		}
		return -1;
	case SRC_CT:
		return src->key == NFT_CT_STATE ? KEY_CT_STATE : -1;
	case SRC_SOCKET:
		return src->key == NFT_SOCKET_CGROUPV2 ? KEY_CGROUPV2 : -1;
	default:
		return -1;
	}
}

static unsigned int mask_plen(const uint8_t *mask, uint32_t len, bool *ok)
{
	unsigned int plen = 0, i;
	bool zero = false;

	*ok = true;
	for (i = 0; i < len * 8; i++) {
		bool bit = mask[i / 8] & (0x80 >> (i % 8));

		if (bit && zero)
			*ok = false;
		if (bit)
			plen++;
		else
			zero = true;
	}
	return plen;
}

/* Find the path below the cgroup root whose directory has inode @id. */
static char *cgroup_path(const char *dir, const char *rel, unsigned int depth,
			 uint64_t id)
{
	DIR *dh;
	struct dirent *de;
	char *found = NULL;

	if (!depth)
		return NULL;
	dh = opendir(dir);
	if (!dh)
		return NULL;
	while (!found && (de = readdir(dh))) {
		char *full, *r;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		full = xasprintf("%s/%s", dir, de->d_name);
		r = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		if (!lstat(full, &st) && S_ISDIR(st.st_mode)) {
			if (depth == 1 && st.st_ino == id)
				found = xstrdup(r);
			else if (depth > 1)
				found = cgroup_path(full, r, depth - 1, id);
		}
		free(full);
		free(r);
	}
	closedir(dh);
	return found;
}

static void set_value(struct match *mt, int key, uint8_t family,
		      const struct regsrc *src, const uint8_t *data,
		      uint32_t len)
{
	struct mvalue *v = &mt->value;

	switch (key) {
	case KEY_SADDR:
	case KEY_DADDR: {
		bool ok;

		v->prefix.family = family;
		memcpy(v->prefix.addr, data, len > 16 ? 16 : len);
		if (src->masked)
			v->prefix.plen = (uint8_t)mask_plen(src->mask, src->len, &ok);
		else
			v->prefix.plen = (uint8_t)(len * 8);
		mt->family = family;
		break;
	}
	case KEY_SPORT:
	case KEY_DPORT:
		v->range.lo = v->range.hi = (uint16_t)(data[0] << 8 | data[1]);
		break;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		if (len < NL_IFNAMSIZ)	/* a prefix: "eth*" */
			v->str = xasprintf("%.*s*", (int)len, (const char *)data);
		else
			v->str = xstrndup((const char *)data, len);
		break;
	case KEY_SKUID:
	case KEY_SKGID:
		memcpy(&v->num, data, 4);
		break;
	case KEY_CGROUPV2: {
		uint64_t id = 0;

		memcpy(&id, data, len < 8 ? len : 8);
		v->num = src->level;
		v->str = cgroup_path(NL_CGROUP_ROOT, "", src->level, id);
		if (!v->str)
			v->str = xasprintf("inode:%llu", (unsigned long long)id);
		break;
	}
	default:
		v->num = data[0];
		break;
	}
}

static void update_ctx(struct decoder *d, const struct match *mt)
{
	if (mt->negate || mt->set >= 0)
		return;
	if (mt->key == KEY_NFPROTO)
		d->nfproto = mt->value.num;
	else if (mt->key == KEY_L4PROTO)
		d->l4proto = mt->value.num;
}

static void on_cmp(struct decoder *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), len;
	const uint8_t *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
	int r = reg32(sreg), key;
	struct regsrc *src;
	struct match *mt;
	uint8_t family;

	if (r < 0 || !data) {
		bad(d, "cmp");
		return;
	}
	src = &d->regs[r];
	if (src->swapped) {
		bad(d, "cmp of a swapped register");
		return;
	}
	if (src->kind == SRC_PAYLOAD && src->base == NFT_PAYLOAD_TRANSPORT_HEADER &&
	    src->off == 0 && src->len == 4 && len == 4 && !src->masked &&
	    (op == NFT_CMP_EQ || op == NFT_CMP_NEQ)) {
		/* nft's merged `th sport X th dport Y` */
		mt = mrule_add_match(d->r, KEY_SPORT);
		mt->negate = op == NFT_CMP_NEQ;
		mt->value.range.lo = mt->value.range.hi = (uint16_t)(data[0] << 8 | data[1]);
		mt = mrule_add_match(d->r, KEY_DPORT);
		mt->negate = op == NFT_CMP_NEQ;
		mt->value.range.lo = mt->value.range.hi = (uint16_t)(data[2] << 8 | data[3]);
		return;
	}
	key = src_key(d, src, &family);
	if (key < 0) {
		bad(d, "cmp operand");
		return;
	}
	if (key == KEY_CT_STATE) {
		uint32_t z = 0;

		if (!src->masked || len != 4 || memcmp(data, &z, 4) ||
		    (op != NFT_CMP_NEQ && op != NFT_CMP_EQ)) {
			bad(d, "ct state");
			return;
		}
		mt = mrule_add_match(d->r, KEY_CT_STATE);
		memcpy(&mt->value.num, src->mask, 4);
		mt->negate = op == NFT_CMP_EQ;
		return;
	}
	if ((key == KEY_SPORT || key == KEY_DPORT) && len == 2) {
		if (op == NFT_CMP_GTE) {
			d->have_gte = true;
			d->gte_reg = r;
			memcpy(d->gte_data, data, 2);
			return;
		}
		if (op == NFT_CMP_LTE && d->have_gte && d->gte_reg == r) {
			d->have_gte = false;
			mt = mrule_add_match(d->r, (enum match_key)key);
			mt->value.range.lo = (uint16_t)(d->gte_data[0] << 8 | d->gte_data[1]);
			mt->value.range.hi = (uint16_t)(data[0] << 8 | data[1]);
			return;
		}
	}
	if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
		bad(d, "cmp op");
		return;
	}
	if (src->masked && key != KEY_SADDR && key != KEY_DADDR) {
		bad(d, "mask");
		return;
	}
	mt = mrule_add_match(d->r, (enum match_key)key);
	mt->negate = op == NFT_CMP_NEQ;
	set_value(mt, key, family, src, data, len);
	update_ctx(d, mt);
}

static void on_range(struct decoder *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP), l1, l2;
	const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &l1);
	const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &l2);
	int r = reg32(sreg), key;
	struct match *mt;
	uint8_t family;

	if (r < 0 || !from || !to || l1 != 2 || l2 != 2) {
		bad(d, "range");
		return;
	}
	key = src_key(d, &d->regs[r], &family);
	if ((key != KEY_SPORT && key != KEY_DPORT) || d->regs[r].swapped) {
		bad(d, "range operand");
		return;
	}
	mt = mrule_add_match(d->r, (enum match_key)key);
	mt->negate = op == NFT_RANGE_NEQ;
	mt->value.range.lo = (uint16_t)(from[0] << 8 | from[1]);
	mt->value.range.hi = (uint16_t)(to[0] << 8 | to[1]);
}

/* Keys of a set that a rule's lookup tells apart (saddr vs daddr). */
static void on_lookup(struct decoder *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG);
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) ?
			 nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) : 0;
	int r = reg32(sreg), si, key;
	struct mset *s;
	struct match *mt;
	uint8_t family;
	size_t k;
	uint32_t off = 0;

	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) || r < 0 || !name ||
	    (flags & ~NFT_LOOKUP_F_INV)) {
		bad(d, "lookup");
		return;
	}
	si = model_find_set(d->m, name);
	if (si < 0) {
		bad(d, "lookup set");
		return;
	}
	s = &d->m->sets[si];
	if (!s->n_keys) {	/* a set of a kind portwarden never makes */
		bad(d, "lookup of a foreign set");
		return;
	}
	if (s->n_keys == 1) {
		const struct regsrc *src = &d->regs[r];
		unsigned int plen = 0;
		bool ok = true;

		key = src_key(d, src, &family);
		if (key >= 0 && src->masked) {
			/* `ip saddr & 255.255.255.0 @s`: the whole address
			 * and a prefix mask */
			ok = (key == KEY_SADDR || key == KEY_DADDR) &&
			     src->len == (family == 6 ? 16u : 4u);
			if (ok)
				plen = mask_plen(src->mask, src->len, &ok);
			if (!plen || plen >= src->len * 8)
				ok = false;
		}
		if (key < 0 || !ok || src->swapped) {
			bad(d, "lookup operand");
			return;
		}
		/* the kernel does not know whether a set of addresses is for
		 * saddr or daddr: the rule that uses it says */
		if ((key == KEY_SADDR || key == KEY_DADDR ||
		     key == KEY_SPORT || key == KEY_DPORT ||
		     key == KEY_IIFNAME || key == KEY_OIFNAME))
			s->keys[0] = (enum match_key)key;
		mt = mrule_add_match(d->r, (enum match_key)key);
		mt->set = si;
		mt->family = family ? family : s->family;
		mt->negate = flags & NFT_LOOKUP_F_INV;
		mt->mask = (uint8_t)plen;
		return;
	}
	for (k = 0; k < s->n_keys; k++) {
		struct nl_keyinfo ki;
		int rk = r + (int)off;

		if (rk >= NREG32 || nl_keyinfo(s->keys[k], s->family, &ki) < 0) {
			bad(d, "concat");
			return;
		}
		key = src_key(d, &d->regs[rk], &family);
		/* nft swaps the protocol for an interval set only */
		if (key < 0 || d->regs[rk].swapped !=
			       (key == KEY_L4PROTO && s->interval)) {
			bad(d, "concat operand");
			return;
		}
		s->keys[k] = (enum match_key)key;
		off += nl_reg_round(ki.len) / 4;
	}
	mt = mrule_add_match(d->r, KEY_CONCAT);
	mt->set = si;
	mt->family = s->family;
	mt->negate = flags & NFT_LOOKUP_F_INV;
}

static int decode_expr(struct nftnl_expr *e, void *data)
{
	struct decoder *d = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	struct mrule *r = d->r;
	int dr;

	if (d->bad)
		return 0;
	if (d->have_gte && strcmp(name, "cmp")) {
		bad(d, "lone cmp gte");
		return 0;
	}
	if (!strcmp(name, "meta")) {
		if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) {
			bad(d, "meta set");
			return 0;
		}
		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG));
		if (dr < 0)
			return bad(d, "meta reg"), 0;
		d->regs[dr] = (struct regsrc){ .kind = SRC_META,
			.key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) };
	} else if (!strcmp(name, "payload")) {
		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG));
		if (dr < 0 || nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG))
			return bad(d, "payload"), 0;
		d->regs[dr] = (struct regsrc){ .kind = SRC_PAYLOAD,
			.base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
			.off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
			.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) };
	} else if (!strcmp(name, "ct")) {
		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG));
		if (dr < 0 || nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR))
			return bad(d, "ct"), 0;
		d->regs[dr] = (struct regsrc){ .kind = SRC_CT,
			.key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) };
	} else if (!strcmp(name, "socket")) {
		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_DREG));
		if (dr < 0)
			return bad(d, "socket"), 0;
		d->regs[dr] = (struct regsrc){ .kind = SRC_SOCKET,
			.key = nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_KEY),
			.level = nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_LEVEL) };
	} else if (!strcmp(name, "bitwise")) {
		uint32_t ml, xl;
		const uint8_t *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &ml);
		const uint8_t *xr = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xl);
		uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG);
		uint8_t zero[16] = { 0 };

		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG));
		if (dr < 0 || sreg != nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG) ||
		    !mask || !xr || ml > 16 || xl != ml || memcmp(xr, zero, xl) ||
		    d->regs[dr].masked)
			return bad(d, "bitwise"), 0;
		d->regs[dr].masked = true;
		memcpy(d->regs[dr].mask, mask, ml);
	} else if (!strcmp(name, "byteorder")) {
		/* nft's only one: `meta l4proto` turned to network order in
		 * place, before an interval set's concatenation lookup */
		dr = reg32(nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_DREG));
		if (dr < 0 || nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SREG) !=
			      nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_DREG) ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_OP) != NFT_BYTEORDER_HTON ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_LEN) != 1 ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_BYTEORDER_SIZE) != 2 ||
		    d->regs[dr].kind != SRC_META ||
		    d->regs[dr].key != NFT_META_L4PROTO || d->regs[dr].swapped)
			return bad(d, "byteorder"), 0;
		d->regs[dr].swapped = true;
	} else if (!strcmp(name, "cmp")) {
		on_cmp(d, e);
	} else if (!strcmp(name, "range")) {
		on_range(d, e);
	} else if (!strcmp(name, "lookup")) {
		on_lookup(d, e);
	} else if (!strcmp(name, "counter")) {
		r->counter = true;
		r->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		r->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	} else if (!strcmp(name, "limit")) {
		if (nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE) != 5 ||
		    nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT) != 60 ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_BURST) != 5 ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_TYPE) != NFT_LIMIT_PKTS ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_LIMIT_FLAGS) != 0 || r->log_prefix)
			return bad(d, "limit"), 0;
		r->log_prefix = xstrdup("");
	} else if (!strcmp(name, "log") &&
		   nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP)) {
		const char *p = nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX);

		/* NFLOG (model.h nflog_prefix): prefix and group only, once,
		 * after a kernel log */
		if (!p || r->nflog_prefix || r->verdict != MV_NONE ||
		    (r->log_prefix && !*r->log_prefix) ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_SNAPLEN) ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD) ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_LOG_FLAGS))
			return bad(d, "log group"), 0;
		r->nflog_prefix = xstrdup(p);
		r->nflog_group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
	} else if (!strcmp(name, "log")) {
		const char *p = nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX);

		if (!r->log_prefix || *r->log_prefix || !p || r->nflog_prefix)
			return bad(d, "log"), 0;
		free(r->log_prefix);
		r->log_prefix = xstrdup(p);
	} else if (!strcmp(name, "immediate")) {
		uint32_t v = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);

		if (nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT ||
		    (v != NF_ACCEPT && v != NF_DROP) || r->verdict != MV_NONE)
			return bad(d, "immediate"), 0;
		r->verdict = v == NF_ACCEPT ? MV_ACCEPT : MV_DROP;
	} else if (!strcmp(name, "target")) {
		/* the xtables form of the same (nl_expr.c, NL_QUEUE_XT) */
		const char *tg = nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME);
		uint32_t ilen = 0;
		const struct xt_NFQ_info_v3 *info =
			nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &ilen);

		if (!tg || strcmp(tg, "NFQUEUE") ||
		    nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV) != 3 || !info ||
		    ilen < sizeof(*info) || r->verdict != MV_NONE ||
		    info->queues_total > 1 || info->flags != NFQ_FLAG_BYPASS)
			return bad(d, "target"), 0;
		r->verdict = MV_QUEUE;
		r->queue_num = info->queuenum;
	} else if (!strcmp(name, "queue")) {
		/* only what compile emits: one queue, bypass, no sreg */
		if (r->verdict != MV_NONE ||
		    nftnl_expr_is_set(e, NFTNL_EXPR_QUEUE_SREG_QNUM) ||
		    nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL) > 1 ||
		    nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS) !=
		    NFT_QUEUE_FLAG_BYPASS)
			return bad(d, "queue"), 0;
		r->verdict = MV_QUEUE;
		r->queue_num = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
	} else if (!strcmp(name, "reject")) {
		uint32_t t = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE);
		uint8_t c = nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE);

		if (t == NFT_REJECT_TCP_RST && c == 0)
			r->verdict = MV_REJECT_TCP;
		else if (t == NFT_REJECT_ICMPX_UNREACH &&
			 c == NFT_REJECT_ICMPX_PORT_UNREACH &&
			 d->nfproto != NFPROTO_IPV4 && d->nfproto != NFPROTO_IPV6)
			r->verdict = MV_REJECT_ICMPX;
		else if (t == NFT_REJECT_ICMP_UNREACH &&
			 ((d->nfproto == NFPROTO_IPV4 && c == 3) ||
			  (d->nfproto == NFPROTO_IPV6 && c == 4)))
			r->verdict = MV_REJECT_ICMPX;
		else
			return bad(d, "reject"), 0;
	} else {
		bad(d, name);
	}
	return 0;
}

bool nl_rule_decode(struct model *m, struct nftnl_rule *nr, struct mrule *r,
		    char *why, size_t len)
{
	struct decoder d = { .m = m, .r = r };

	nftnl_expr_foreach(nr, decode_expr, &d);
	if (!d.bad && d.have_gte)
		bad(&d, "lone cmp gte");
	if (!d.bad && r->log_prefix && !*r->log_prefix)
		bad(&d, "limit without log");
	snprintf(why, len, "%s", d.bad ? d.why : "");
	return !d.bad;
}
