// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Any table of any family, unmodelled (see include/nl_raw.h): dumps of
 * tables, chains and rules through libmnl, rules printed by libnftnl's
 * nftnl_expr_snprintf().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nl_priv.h"
#include "nl_raw.h"
#include "util.h"

#define RAW_RETRIES 8

static const struct {
	const char *name;
	uint32_t family;
} families[] = {
	{ "ip", NFPROTO_IPV4 }, { "ip6", NFPROTO_IPV6 },
	{ "inet", NFPROTO_INET }, { "arp", NFPROTO_ARP },
	{ "bridge", NFPROTO_BRIDGE }, { "netdev", NFPROTO_NETDEV },
};

const char *nl_family_name(uint32_t family)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (families[i].family == family)
			return families[i].name;
	return NULL;
}

int nl_family_parse(const char *word)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(families); i++)
		if (!strcmp(families[i].name, word))
			return (int)families[i].family;
	return -1;
}

const char *nl_hook_name(uint32_t family, uint32_t hook)
{
	static const char *const inet[] = { "prerouting", "input", "forward",
					    "output", "postrouting", "ingress" };
	static const char *const arp[] = { "input", "output", "forward" };

	if (family == NFPROTO_NETDEV)
		return hook == 0 ? "ingress" : hook == 1 ? "egress" : "?";
	if (family == NFPROTO_ARP)
		return hook < ARRAY_SIZE(arp) ? arp[hook] : "?";
	return hook < ARRAY_SIZE(inet) ? inet[hook] : "?";
}

struct raw_ctx {
	struct nl_raw_table *t;
	bool found;
	int err;
};

typedef int (*raw_cb)(const struct nlmsghdr *nlh, struct raw_ctx *c);

struct raw_dump {
	raw_cb cb;
	struct raw_ctx *c;
	bool intr;
};

static int raw_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct raw_dump *d = data;
	int ret;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	if (d->c->err)
		return MNL_CB_OK;
	ret = d->cb(nlh, d->c);
	if (ret < 0)
		d->c->err = ret;
	return MNL_CB_OK;
}

/* One dump of @type in @family, @cb on every reply. */
static int raw_dump(struct nl_sock *s, uint16_t type, uint32_t family,
		    const char *table, raw_cb cb, struct raw_ctx *c)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 8;
	struct raw_dump d = { .cb = cb, .c = c };
	struct nlmsghdr *nlh;
	char *buf;
	int ret;

	memset(req, 0, sizeof(req));
	nlh = nftnl_nlmsg_build_hdr(req, type, (uint16_t)family, NLM_F_DUMP,
				    ++s->seq);
	if (type == NFT_MSG_GETRULE) {	/* the kernel filters by table */
		struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());

		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	}
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	buf = xmalloc(bufsz);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->nl, buf, bufsz);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, s->portid,
				 raw_data_cb, &d);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
	free(buf);
	if (!ret && c->err)
		ret = c->err;
	if (!ret && d.intr)
		ret = -EINTR;
	return ret;
}

static int table_cb(const struct nlmsghdr *nlh, struct raw_ctx *c)
{
	struct nftnl_table *t = XALLOC(nftnl_table_alloc());
	int ret = 0;

	if (nftnl_table_nlmsg_parse(nlh, t) < 0)
		ret = -EINVAL;
	else if (nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == c->t->family &&
		 !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), c->t->name))
		c->found = true;
	nftnl_table_free(t);
	return ret;
}

static int chain_cb(const struct nlmsghdr *nlh, struct raw_ctx *c)
{
	struct nftnl_chain *nc = XALLOC(nftnl_chain_alloc());
	struct nl_raw_chain *ch;
	const char *table;
	int ret = 0;

	if (nftnl_chain_nlmsg_parse(nlh, nc) < 0) {
		ret = -EINVAL;
		goto out;
	}
	table = nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE);
	if (nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY) != c->t->family ||
	    !table || strcmp(table, c->t->name))
		goto out;
	ch = ARRAY_PUSH(c->t->chains, c->t->n_chains, c->t->cap_chains);
	memset(ch, 0, sizeof(*ch));
	ch->name = xstrdup(nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM)) {
		ch->base = true;
		ch->hook = nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM);
		ch->priority = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
		ch->policy = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) ?
			     nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) : NF_ACCEPT;
		ch->type = xstrdup(nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE) ?
				   nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE) : "filter");
	}
out:
	nftnl_chain_free(nc);
	return ret;
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && len &&
	    v[len - 1] == '\0')
		*(const char **)data = v;
	return 0;
}

/* "[ NAME ARGS ]" of every expression; the counter's values on the side. */
static char *rule_text(const struct nftnl_rule *r, struct nl_raw_rule *out)
{
	struct nftnl_expr_iter *it = XALLOC(nftnl_expr_iter_create(r));
	struct nftnl_expr *e;
	char *buf = NULL, one[1024];
	size_t len = 0;
	FILE *f = XALLOC(open_memstream(&buf, &len));
	bool first = true;

	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

		if (nftnl_expr_snprintf(one, sizeof(one), e, NFTNL_OUTPUT_DEFAULT, 0) < 0)
			one[0] = '\0';
		fprintf(f, "%s[ %s %s]", first ? "" : " ", name ? name : "?", one);
		first = false;
		if (name && !strcmp(name, "counter")) {
			out->counter = true;
			out->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
			out->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
		}
	}
	nftnl_expr_iter_destroy(it);
	if (fclose(f))
		abort();
	return buf;
}

static int rule_cb(const struct nlmsghdr *nlh, struct raw_ctx *c)
{
	struct nftnl_rule *nr = XALLOC(nftnl_rule_alloc());
	const char *table, *comment = NULL;
	struct nl_raw_rule *r;
	int ret = 0;

	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		ret = -EINVAL;
		goto out;
	}
	table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	if (nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY) != c->t->family ||
	    !table || strcmp(table, c->t->name))
		goto out;
	r = ARRAY_PUSH(c->t->rules, c->t->n_rules, c->t->cap_rules);
	memset(r, 0, sizeof(*r));
	r->chain = xstrdup(nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
	r->handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	r->text = rule_text(nr, r);
	if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA)) {
		uint32_t ulen = 0;
		const void *ud = nftnl_rule_get_data(nr, NFTNL_RULE_USERDATA, &ulen);

		if (ud && ulen)
			nftnl_udata_parse(ud, ulen, comment_cb, &comment);
	}
	r->comment = comment ? xstrdup(comment) : NULL;
out:
	nftnl_rule_free(nr);
	return ret;
}

static int raw_read_once(struct nl_sock *s, uint32_t family, const char *name,
			 struct nl_raw_table **out)
{
	struct nl_raw_table *t = xcalloc(1, sizeof(*t));
	struct raw_ctx c = { .t = t };
	int ret;

	t->family = family;
	t->name = xstrdup(name);
	ret = raw_dump(s, NFT_MSG_GETTABLE, family, name, table_cb, &c);
	if (!ret && !c.found)
		ret = -ENOENT;
	if (!ret)
		ret = raw_dump(s, NFT_MSG_GETCHAIN, family, name, chain_cb, &c);
	if (!ret)
		ret = raw_dump(s, NFT_MSG_GETRULE, family, name, rule_cb, &c);
	if (ret < 0) {
		nl_raw_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int nl_raw_read(struct nl_sock *s, uint32_t family, const char *name,
		struct nl_raw_table **out)
{
	int ret = -EINTR, tries;

	*out = NULL;
	for (tries = 0; tries < RAW_RETRIES; tries++) {
		ret = raw_read_once(s, family, name, out);
		if (ret != -EINTR && ret != -ENOBUFS && ret != -EAGAIN)
			break;
	}
	return ret;
}

void nl_raw_free(struct nl_raw_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n_chains; i++) {
		free(t->chains[i].name);
		free(t->chains[i].type);
	}
	for (i = 0; i < t->n_rules; i++) {
		free(t->rules[i].chain);
		free(t->rules[i].text);
		free(t->rules[i].comment);
	}
	free(t->chains);
	free(t->rules);
	free(t->name);
	free(t);
}
