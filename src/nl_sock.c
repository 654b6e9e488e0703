// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The netlink socket, transactions and dumps (nftables src/mnl.c:
 * mnl_batch_talk, nft_mnl_talk; libnftnl examples/nft-rule-add.c).
 *
 * A transaction is sent in one sendmsg; every message has its own
 * sequence number and asks for an ack, so a refusal maps back, through
 * the message's tag, to the object (and from there the policy rule) that
 * caused it. Dumps are read until NLMSG_DONE; an interrupted dump or lost
 * replies are reported for the caller to retry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nl_sock.h"
#include "util.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

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

int nl_netns_cookie(struct nl_sock *s, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_NETNS_COOKIE,
		       cookie, &len) < 0)
		return -errno;
	return 0;
}

uint32_t nl_applied_generation(const struct nl_sock *s)
{
	return s->applied_gen;
}

void nl_last_batch(const struct nl_sock *s, size_t *msgs, size_t *bytes)
{
	*msgs = s->last_msgs;
	*bytes = s->last_bytes;
}

/* ---- transactions ---- */

#define PAGE_BYTES	(1u << 20)

char *nl_txn_reserve(struct nl_txn *t, size_t need)
{
	struct nl_txn_page *pg = t->n_pages ? &t->pages[t->n_pages - 1] : NULL;

	if (!pg || pg->cap - pg->len < need) {
		pg = ARRAY_PUSH(t->pages, t->n_pages, t->cap_pages);
		pg->cap = need > PAGE_BYTES ? need : PAGE_BYTES;
		pg->buf = xcalloc(1, pg->cap);
		pg->len = 0;
	}
	return pg->buf + pg->len;
}

void nl_txn_commit(struct nl_txn *t, struct nlmsghdr *nlh,
		   const struct nl_tag *tag)
{
	struct nl_tag *slot;

	t->pages[t->n_pages - 1].len += NLMSG_ALIGN(nlh->nlmsg_len);
	t->len += NLMSG_ALIGN(nlh->nlmsg_len);
	slot = ARRAY_PUSH(t->tags, t->n_tags, t->cap_tags);
	*slot = tag ? *tag : (struct nl_tag){ .what = NL_TAG_TABLE };
	if (nlh->nlmsg_flags & NLM_F_ACK)
		t->n_acks++;
	if (nlh->nlmsg_type != NFNL_MSG_BATCH_BEGIN &&
	    nlh->nlmsg_type != NFNL_MSG_BATCH_END)
		t->n_msgs++;
}

struct nlmsghdr *nl_txn_msg(struct nl_txn *t, uint16_t type, uint16_t flags)
{
	char *p = nl_txn_reserve(t, NL_MSG_RESERVE);

	memset(p, 0, sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg));
	return nftnl_nlmsg_build_hdr(p, type, NFPROTO_INET, flags | NLM_F_ACK,
				     t->seq0 + (uint32_t)t->n_tags);
}

void nl_txn_begin(struct nl_txn *t, struct nl_sock *s)
{
	struct nlmsghdr *nlh;

	memset(t, 0, sizeof(*t));
	t->seq0 = ++s->seq;
	nlh = nftnl_batch_begin(nl_txn_reserve(t, NL_MSG_RESERVE), t->seq0);
	nl_txn_commit(t, nlh, NULL);
}

void nl_txn_end(struct nl_txn *t, struct nl_sock *s)
{
	struct nlmsghdr *nlh;

	nlh = nftnl_batch_end(nl_txn_reserve(t, NL_MSG_RESERVE),
			      t->seq0 + (uint32_t)t->n_tags);
	nl_txn_commit(t, nlh, NULL);
	s->seq = t->seq0 + (uint32_t)t->n_tags;
}

void nl_txn_release(struct nl_txn *t)
{
	size_t i;

	for (i = 0; i < t->n_pages; i++)
		free(t->pages[i].buf);
	free(t->pages);
	free(t->tags);
	memset(t, 0, sizeof(*t));
}

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

/* One sendmsg of all pages: the kernel sees a single batch. */
static ssize_t txn_send(struct nl_sock *s, const struct nl_txn *t)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct iovec *iov = xcalloc(t->n_pages, sizeof(*iov));
	struct msghdr msg = {
		.msg_name = &kernel, .msg_namelen = sizeof(kernel),
		.msg_iov = iov, .msg_iovlen = t->n_pages,
	};
	ssize_t n;
	size_t i;

	for (i = 0; i < t->n_pages; i++) {
		iov[i].iov_base = t->pages[i].buf;
		iov[i].iov_len = t->pages[i].len;
	}
	n = sendmsg(mnl_socket_get_fd(s->nl), &msg, 0);
	free(iov);
	return n;
}

/* The kernel handles a batch within sendmsg, so all replies are queued
 * when it returns: read until the queue is empty. */
int nl_txn_talk(struct nl_sock *s, struct nl_txn *t, nl_error_fn on_error,
		void *ctx)
{
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
	char *rbuf = xmalloc(bufsz);
	size_t got = 0;
	bool lost = false;
	int ret = 0, err = 0;
	ssize_t n;

	nl_sock_bufsize(s, t->len + t->n_acks * 1024);
	n = txn_send(s, t);
	if (n < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
		int left;

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
			goto out;
		}
		left = (int)n;
		while (mnl_nlmsg_ok(nlh, left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_pid != s->portid && nlh->nlmsg_pid != 0)
				goto next;
			got++;
			if (nlh->nlmsg_type == NLMSG_ERROR &&
			    nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e))) {
				uint32_t i = nlh->nlmsg_seq - t->seq0;

				if (e->error) {
					if (on_error)
						on_error(ctx, i < t->n_tags ?
							 &t->tags[i] : NULL,
							 e->error, extack_msg(nlh));
					if (!err)
						err = e->error;
				}
			}
next:
			nlh = mnl_nlmsg_next(nlh, &left);
		}
	}
	ret = err;
	if (!ret && (lost || got < t->n_acks))
		ret = -ENOBUFS;
out:
	free(rbuf);
	return ret;
}

/* ---- dumps ---- */

struct dump_ctx {
	nl_dump_cb cb;
	void *data;
	int err;		/* first error of a callback */
	bool intr;		/* NLM_F_DUMP_INTR seen */
};

static int dump_data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	int ret;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->intr = true;
	if (c->err)
		return MNL_CB_OK;
	ret = c->cb(nlh, c->data);
	if (ret < 0)
		c->err = ret;
	return MNL_CB_OK;
}

int nl_query(struct nl_sock *s, struct nlmsghdr *req, nl_dump_cb cb,
	     void *data)
{
	struct dump_ctx c = { .cb = cb, .data = data };
	size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 8;
	char *buf = xmalloc(bufsz);
	uint32_t seq = req->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(s->nl, req, req->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s->nl, buf, bufsz);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, s->portid, dump_data_cb, &c);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? -errno : 0;
			break;
		}
	}
	if (ret == -ENOBUFS) {
		/* drain what is left of the broken dump */
		while (recv(mnl_socket_get_fd(s->nl), buf, bufsz, MSG_DONTWAIT) > 0)
			;
	}
	if (!ret && c.err)
		ret = c.err;
	if (!ret && c.intr)
		ret = -EINTR;
out:
	free(buf);
	return ret;
}

struct nlmsghdr *nl_req_hdr(struct nl_sock *s, char *buf, uint16_t type,
			    uint16_t flags)
{
	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	return nftnl_nlmsg_build_hdr(buf, type, NFPROTO_INET, flags, ++s->seq);
}

int nl_dump(struct nl_sock *s, uint16_t type, uint16_t family,
	    const char *table, const char *set, nl_dump_cb cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, type, family, NLM_F_DUMP, ++s->seq);
	if (type == NFT_MSG_GETSETELEM) {
		struct nftnl_set *ns = XALLOC(nftnl_set_alloc());

		nftnl_set_set_str(ns, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(ns, NFTNL_SET_NAME, set);
		nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, family);
		nftnl_set_elems_nlmsg_build_payload(nlh, ns);
		nftnl_set_free(ns);
	} else if (type == NFT_MSG_GETRULE && table) {
		struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());

		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
	} else if (type == NFT_MSG_GETSET && table) {
		struct nftnl_set *st = XALLOC(nftnl_set_alloc());

		nftnl_set_set_str(st, NFTNL_SET_TABLE, table);
		nftnl_set_set_u32(st, NFTNL_SET_FAMILY, family);
		nftnl_set_nlmsg_build_payload(nlh, st);
		nftnl_set_free(st);
	}
	return nl_query(s, nlh, cb, data);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = XALLOC(nftnl_gen_alloc());
	int ret = 0;

	if (nftnl_gen_nlmsg_parse(nlh, g) < 0)
		ret = -EINVAL;
	else
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return ret;
}

int nl_get_generation(struct nl_sock *s, uint32_t *gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nl_req_hdr(s, buf, NFT_MSG_GETGEN, NLM_F_ACK);

	return nl_query(s, nlh, gen_cb, gen);
}
