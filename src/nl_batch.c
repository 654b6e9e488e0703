// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model -> libnftnl objects -> one netlink batch (libnftnl
 * examples/nft-rule-add.c, nftables src/mnl.c mnl_batch_talk).
 *
 * The batch replaces the model's table and nothing else:
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

#include "model_cmp.h"
#include "nl.h"
#include "nl_priv.h"
#include "util.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Kernel elements per NEWSETELEM message: the element list is one nested
 * attribute whose length is 16 bits, so keep it well under 64 KiB. */
#define ELEMS_PER_MSG	512
#define MSG_RESERVE	(128u * 1024)
#define MIN_SOCKBUF	(4u * 1024 * 1024)

/* ---- socket ---- */

int nl_sock_open(struct nl_sock **out)
{
	struct nl_sock *s = xcalloc(1, sizeof(*s));
	int one = 1, ret;

	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	/* extended acks carry the kernel's reason; capped acks keep a refused
	 * 60 KiB element message from being echoed back whole */
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->seq = (uint32_t)time(NULL);
	nl_sock_bufsize(s, 0);
	*out = s;
	return 0;
fail:
	nl_sock_close(s);
	return ret;
}

void nl_sock_close(struct nl_sock *s)
{
	if (!s)
		return;
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s);
}

void nl_sock_bufsize(struct nl_sock *s, size_t bytes)
{
	int fd = mnl_socket_get_fd(s->nl);
	int size = (int)(bytes + MIN_SOCKBUF > 1u << 30 ? 1u << 30 :
			 bytes + MIN_SOCKBUF);

	/* the FORCE variants need CAP_NET_ADMIN, which nftables needs too;
	 * fall back to the capped ones otherwise */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* ---- the batch buffer ---- */

enum msg_what {
	MSG_OTHER,
	MSG_SET,
	MSG_RULE,
	MSG_CHAIN,
};

struct msg_info {
	enum msg_what what;
	size_t set, chain, rule;	/* indexes into the model */
	size_t elem;			/* 1 + first model element of a
					 * NEWSETELEM message, or 0 */
};

/* The batch lives in pages that are never moved: no copy when it grows,
 * and no more memory than the messages plus one page's slack. */
#define PAGE_BYTES	(1u << 20)

struct bpage {
	char *buf;
	size_t len, cap;
};

struct batch {
	struct bpage *pages;
	size_t n_pages, cap_pages;
	size_t len;			/* bytes in all pages */
	uint32_t seq0;
	struct msg_info *info;		/* by seq - seq0 */
	size_t n_info, cap_info;
	size_t n_acks;
};

/* Room for a message of up to @need bytes; zeroed, as attribute padding
 * is not always written. */
static char *batch_reserve(struct batch *b, size_t need)
{
	struct bpage *pg = b->n_pages ? &b->pages[b->n_pages - 1] : NULL;

	if (!pg || pg->cap - pg->len < need) {
		pg = ARRAY_PUSH(b->pages, b->n_pages, b->cap_pages);
		pg->cap = need > PAGE_BYTES ? need : PAGE_BYTES;
		pg->buf = xcalloc(1, pg->cap);
		pg->len = 0;
	}
	return pg->buf + pg->len;
}

/* Account for a message just built at the end of the buffer. */
static void batch_commit(struct batch *b, struct nlmsghdr *nlh,
			 const struct msg_info *mi)
{
	struct msg_info *slot;

	b->pages[b->n_pages - 1].len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	slot = ARRAY_PUSH(b->info, b->n_info, b->cap_info);
	*slot = mi ? *mi : (struct msg_info){ .what = MSG_OTHER };
	if (nlh->nlmsg_flags & NLM_F_ACK)
		b->n_acks++;
}

static struct nlmsghdr *msg_hdr(struct batch *b, uint16_t type, uint16_t flags)
{
	char *p = batch_reserve(b, MSG_RESERVE);

	memset(p, 0, sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg));
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK,
				     b->seq0 + (uint32_t)b->n_info);
}

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
	struct batch *b;
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
	batch_commit(w->b, w->nlh, &(struct msg_info){ .what = MSG_SET,
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

		w->nlh = msg_hdr(w->b, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
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
static int set_elems(struct batch *b, const struct model *m, size_t si,
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
				nl_value_bytes(s->keys[k], &e->v[k], &d->ki[k], false,
					    key + off);
				nl_value_bytes(s->keys[k], &e->v[k], &d->ki[k], true,
					    key_end + off);
				off += nl_reg_round(d->ki[k].len);
			}
			if (s->interval)
				ke.key_end = key_end;
			ew_put(&w, &ke);
			continue;
		}
		nl_value_bytes(s->keys[0], &e->v[0], &d->ki[0], false, key);
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
		nl_value_bytes(s->keys[0], &e->v[0], &d->ki[0], true, key_end);
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

/* ---- talking to the kernel ---- */

struct ack_ctx {
	struct batch *b;
	const struct model *m;
	struct diag *d;
	int err;
};

static const char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*e);
	const struct nlattr *a;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(e->msg);
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			return mnl_attr_get_str(a);
	}
	return NULL;
}

static void report_error(struct ack_ctx *c, uint32_t seq, int err,
			 const char *why)
{
	const struct msg_info *mi = NULL;
	char reason[256];

	if (seq - c->b->seq0 < c->b->n_info)
		mi = &c->b->info[seq - c->b->seq0];
	snprintf(reason, sizeof(reason), "%s%s%s%s", strerror(-err),
		 why ? " (" : "", why ? why : "", why ? ")" : "");
	if (mi && mi->what == MSG_RULE) {
		const struct mrule *r = &c->m->chains[mi->chain].rules[mi->rule];
		const char *name = r->origin ? r->origin->name :
				   r->origin_name ? r->origin_name :
				   r->comment ? r->comment : "?";

		diag_error(c->d, r->origin ? &r->origin->loc : NULL,
			   "kernel refused rule \"%s\" (chain %s): %s", name,
			   c->m->chains[mi->chain].name, reason);
	} else if (mi && mi->what == MSG_SET) {
		const struct mset *s = &c->m->sets[mi->set];
		const struct rule *o = NULL;

		/* an element message names the rule of its first element */
		if (mi->elem && mi->elem - 1 < s->n_elems)
			o = s->elems[mi->elem - 1].origin;
		if (o)
			diag_error(c->d, &o->loc,
				   "kernel refused elements of set \"%s\" (from rule \"%s\" and others): %s",
				   s->name, o->name, reason);
		else
			diag_error(c->d, NULL, "kernel refused set \"%s\": %s",
				   s->name, reason);
	} else if (mi && mi->what == MSG_CHAIN) {
		diag_error(c->d, NULL, "kernel refused chain \"%s\": %s",
			   c->m->chains[mi->chain].name, reason);
	} else {
		diag_error(c->d, NULL, "kernel refused table \"%s\": %s",
			   c->m->table, reason);
	}
}

static void ack_one(struct ack_ctx *c, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
		return;
	e = mnl_nlmsg_get_payload(nlh);
	if (e->error) {
		report_error(c, nlh->nlmsg_seq, e->error, extack_msg(nlh));
		if (!c->err)
			c->err = e->error;
	}
}

/* One sendmsg of all pages: the kernel sees a single batch. */
static ssize_t batch_send(struct nl_sock *s, const struct batch *b)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec *iov = xcalloc(b->n_pages, sizeof(*iov));
	struct msghdr msg = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel),
		.msg_iov = iov, .msg_iovlen = b->n_pages,
	};
	ssize_t n;
	size_t i;

	for (i = 0; i < b->n_pages; i++) {
		iov[i].iov_base = b->pages[i].buf;
		iov[i].iov_len = b->pages[i].len;
	}
	n = sendmsg(mnl_socket_get_fd(s->nl), &msg, 0);
	free(iov);
	return n;
}

/* Send the whole batch in one sendmsg and read every reply. The kernel
 * handles a batch within sendmsg, so all replies are queued on return. */
static int batch_talk(struct nl_sock *s, struct batch *b,
		      const struct model *m, struct diag *d)
{
	struct ack_ctx c = { .b = b, .m = m, .d = d };
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *rbuf = xmalloc(bufsz);
	size_t got = 0;
	bool lost = false;
	ssize_t n;
	int ret = 0;

	nl_sock_bufsize(s, b->len + b->n_acks * 1024);
	n = batch_send(s, b);
	if (n < 0) {
		ret = -errno;
		diag_error(d, NULL, "cannot send the batch for table \"%s\": %s",
			   m->table, strerror(errno));
		goto out;
	}
	for (;;) {
		n = recv(mnl_socket_get_fd(s->nl), rbuf, bufsz, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == ENOBUFS) {
			lost = true;	/* some replies dropped; read the rest */
			continue;
		}
		if (n < 0) {
			ret = -errno;
			diag_error(d, NULL, "reading the kernel's replies: %s",
				   strerror(errno));
			goto out;
		}
		{
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
			int left = (int)n;

			while (mnl_nlmsg_ok(nlh, left)) {
				if (nlh->nlmsg_pid == s->portid ||
				    nlh->nlmsg_pid == 0) {
					got++;
					ack_one(&c, nlh);
				}
				nlh = mnl_nlmsg_next(nlh, &left);
			}
		}
	}
	ret = c.err;
	if (!ret && (lost || got < b->n_acks))
		ret = -ENOBUFS;	/* the caller finds out from the table */
out:
	free(rbuf);
	return ret;
}

/* Replies were lost: the table itself says whether the batch committed. */
static int outcome_from_table(struct nl_sock *s, const struct model *m,
			      struct diag *d)
{
	struct model *live = NULL;
	int ret = nl_read_table(s, m->table, &live);

	if (!ret && model_equal(live, m)) {
		model_free(live);
		return 0;
	}
	model_free(live);
	diag_error(d, NULL, "the kernel did not take the transaction for table \"%s\" (its replies were lost)",
		   m->table);
	return -EPROTO;
}

static void put_table(struct batch *b, const char *name, uint16_t type)
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
	nlh = msg_hdr(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_commit(b, nlh, NULL);
}

static void put_chain(struct batch *b, const struct model *m, size_t i)
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
	nlh = msg_hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	batch_commit(b, nlh, &(struct msg_info){ .what = MSG_CHAIN, .chain = i });
}

static void batch_release(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n_pages; i++)
		free(b->pages[i].buf);
	free(b->pages);
	free(b->info);
}

/* Build every message of the transaction into @b. */
static int batch_build(struct batch *b, const struct model *m, struct diag *d)
{
	struct nlmsghdr *nlh;
	size_t i, j;
	int ret;

	nlh = nftnl_batch_begin(batch_reserve(b, MSG_RESERVE), b->seq0);
	batch_commit(b, nlh, NULL);
	put_table(b, m->table, NFT_MSG_NEWTABLE);
	put_table(b, m->table, NFT_MSG_DELTABLE);
	put_table(b, m->table, NFT_MSG_NEWTABLE);
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
		nlh = msg_hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);
		nftnl_set_nlmsg_build_payload(nlh, ns);
		nftnl_set_free(ns);
		batch_commit(b, nlh, &(struct msg_info){ .what = MSG_SET, .set = i });
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
			nlh = msg_hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
			nftnl_rule_nlmsg_build_payload(nlh, r);
			nftnl_rule_free(r);
			batch_commit(b, nlh, &(struct msg_info){
				.what = MSG_RULE, .chain = i, .rule = j });
		}
	}
	nlh = nftnl_batch_end(batch_reserve(b, MSG_RESERVE),
			      b->seq0 + (uint32_t)b->n_info);
	batch_commit(b, nlh, NULL);
	return 0;
}

int nl_apply(struct nl_sock *s, const struct model *m, struct diag *d)
{
	struct batch b = { 0 };
	uint32_t gen, after;
	int ret;

	b.seq0 = ++s->seq;
	s->applied_gen = 0;
	ret = batch_build(&b, m, d);
	if (ret < 0)
		goto out;
	s->seq = b.seq0 + (uint32_t)b.n_info;
	s->last_msgs = b.n_info;
	s->last_bytes = b.len;
	if (nl_get_generation(s, &gen) < 0)
		gen = 0;
	ret = batch_talk(s, &b, m, d);
	if (ret == -ENOBUFS)
		ret = outcome_from_table(s, m, d);
	/* every commit moves the generation by one: when it moved by exactly
	 * one, ours was the only one and the table is the model as of then */
	if (!ret && gen && nl_get_generation(s, &after) == 0 && after == gen + 1)
		s->applied_gen = after;
out:
	batch_release(&b);
	return ret;
}

void nl_last_batch(const struct nl_sock *s, size_t *msgs, size_t *bytes)
{
	*msgs = s->last_msgs;
	*bytes = s->last_bytes;
}

uint32_t nl_applied_generation(const struct nl_sock *s)
{
	return s->applied_gen;
}

int nl_netns_cookie(struct nl_sock *s, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
	if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_NETNS_COOKIE,
		       cookie, &len) < 0)
		return -errno;
	return 0;
}

int nl_delete_table(struct nl_sock *s, const char *table)
{
	struct model m = { .table = (char *)table };
	struct diag d;
	struct batch b = { 0 };
	struct nlmsghdr *nlh;
	int ret;

	diag_init(&d);
	b.seq0 = ++s->seq;
	nlh = nftnl_batch_begin(batch_reserve(&b, MSG_RESERVE), b.seq0);
	batch_commit(&b, nlh, NULL);
	put_table(&b, table, NFT_MSG_DELTABLE);
	nlh = nftnl_batch_end(batch_reserve(&b, MSG_RESERVE),
			      b.seq0 + (uint32_t)b.n_info);
	batch_commit(&b, nlh, NULL);
	s->seq = b.seq0 + (uint32_t)b.n_info;
	ret = batch_talk(s, &b, &m, &d);
	batch_release(&b);
	diag_release(&d);
	return ret;
}
