// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nftables events: the NFNLGRP_NFTABLES subscription and the parser of
 * its messages (nftables' src/monitor.c reads the same group through
 * libnftnl; we only need names, handles and the generation message).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "nft_events.h"
#include "util.h"

#define EV_RCVBUF	(8 * 1024 * 1024)
#define EV_BUFSIZE	(64 * 1024)

/* DESTROY variants (Linux 6.3+), absent from older headers */
#define MSG_DESTROYTABLE	26
#define MSG_DESTROYFLOWTABLE	32

struct nl_events {
	struct mnl_socket *nl;
	char *buf;
};

int nl_events_open(struct nl_events **out, int rcvbuf)
{
	struct nl_events *ev = xcalloc(1, sizeof(*ev));
	int size = rcvbuf > 0 ? rcvbuf : EV_RCVBUF, group = NFNLGRP_NFTABLES, ret;
	int fd;

	ev->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!ev->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(ev->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(ev->nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0) {
		ret = -errno;
		goto fail;
	}
	fd = mnl_socket_get_fd(ev->nl);
	/* FORCE needs CAP_NET_ADMIN, which the daemon has; else capped */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	ev->buf = xmalloc(EV_BUFSIZE);
	*out = ev;
	return 0;
fail:
	nl_events_close(ev);
	return ret;
}

void nl_events_close(struct nl_events *ev)
{
	if (!ev)
		return;
	if (ev->nl)
		mnl_socket_close(ev->nl);
	free(ev->buf);
	free(ev);
}

int nl_events_fd(const struct nl_events *ev)
{
	return mnl_socket_get_fd(ev->nl);
}

ssize_t nl_events_recv(struct nl_events *ev, const void **buf)
{
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(ev->nl, ev->buf, EV_BUFSIZE);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -errno;
	}
	*buf = ev->buf;
	return n;
}

/* ---- parsing ---- */

#define MAX_ATTR 8	/* every attribute we read has a smaller type */

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < MAX_ATTR)
		tb[type] = a;
	return MNL_CB_OK;
}

/* A string attribute, copied with its length checked; "" when absent. */
static int get_str(const struct nlattr *a, char *dst, size_t size)
{
	size_t len;
	const char *s;

	dst[0] = '\0';
	if (!a)
		return 0;
	len = mnl_attr_get_payload_len(a);
	s = mnl_attr_get_payload(a);
	len = strnlen(s, len);		/* NUL-terminated or not */
	if (len >= size)
		return -EINVAL;		/* the kernel limits names to 256 */
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EINVAL;
	*v = ntohl(mnl_attr_get_u32(a));
	return 0;
}

static int get_u64(const struct nlattr *a, uint64_t *v)
{
	if (!a)
		return 0;
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return -EINVAL;
	*v = be64toh(mnl_attr_get_u64(a));
	return 0;
}

int nft_ev_parse(const void *buf, size_t len, struct nft_ev *out)
{
	const struct nlmsghdr *nlh = buf;
	const struct nlattr *tb[MAX_ATTR] = { 0 };
	const struct nfgenmsg *nfg;
	uint16_t type;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (len < sizeof(*nlh) || len > INT32_MAX || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return -EINVAL;
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES)
		return 0;	/* NFT_EV_OTHER */
	nfg = mnl_nlmsg_get_payload(nlh);
	out->family = nfg->nfgen_family;
	if (mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, tb) < 0)
		return -EINVAL;
	type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	switch (type) {
	case NFT_MSG_NEWGEN:
		out->kind = NFT_EV_GEN;
		ret = get_u32(tb[NFTA_GEN_ID], &out->gen_id) ?:
		      get_u32(tb[NFTA_GEN_PROC_PID], &out->pid) ?:
		      get_str(tb[NFTA_GEN_PROC_NAME], out->comm, sizeof(out->comm));
		return ret;
	case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE:
		out->kind = NFT_EV_TABLE;
		out->del = type == NFT_MSG_DELTABLE;
		return get_str(tb[NFTA_TABLE_NAME], out->table, sizeof(out->table));
	case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN:
		out->kind = NFT_EV_CHAIN;
		out->del = type == NFT_MSG_DELCHAIN;
		return get_str(tb[NFTA_CHAIN_TABLE], out->table, sizeof(out->table)) ?:
		       get_str(tb[NFTA_CHAIN_NAME], out->chain, sizeof(out->chain));
	case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE:
		out->kind = NFT_EV_RULE;
		out->del = type == NFT_MSG_DELRULE;
		return get_str(tb[NFTA_RULE_TABLE], out->table, sizeof(out->table)) ?:
		       get_str(tb[NFTA_RULE_CHAIN], out->chain, sizeof(out->chain)) ?:
		       get_u64(tb[NFTA_RULE_HANDLE], &out->handle);
	case NFT_MSG_NEWSET: case NFT_MSG_DELSET:
		out->kind = NFT_EV_SET;
		out->del = type == NFT_MSG_DELSET;
		return get_str(tb[NFTA_SET_TABLE], out->table, sizeof(out->table)) ?:
		       get_str(tb[NFTA_SET_NAME], out->set, sizeof(out->set));
	case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM:
		out->kind = NFT_EV_SETELEM;
		out->del = type == NFT_MSG_DELSETELEM;
		return get_str(tb[NFTA_SET_ELEM_LIST_TABLE], out->table,
			       sizeof(out->table)) ?:
		       get_str(tb[NFTA_SET_ELEM_LIST_SET], out->set, sizeof(out->set));
	case NFT_MSG_NEWOBJ: case NFT_MSG_DELOBJ:
	case NFT_MSG_NEWFLOWTABLE: case NFT_MSG_DELFLOWTABLE:
		out->kind = NFT_EV_OBJ;
		out->del = type == NFT_MSG_DELOBJ || type == NFT_MSG_DELFLOWTABLE;
		/* NFTA_OBJ_TABLE == NFTA_FLOWTABLE_TABLE == 1 */
		return get_str(tb[NFTA_OBJ_TABLE], out->table, sizeof(out->table));
	default:
		if (type >= MSG_DESTROYTABLE && type <= MSG_DESTROYFLOWTABLE) {
			/* the kernel announces a destroy as a delete; should a
			 * kernel ever send one, it is about some object of the
			 * table named in attribute 1 of every kind */
			out->kind = NFT_EV_OBJ;
			out->del = true;
			return get_str(tb[1], out->table, sizeof(out->table));
		}
		return 0;	/* NFT_EV_OTHER (trace, ...) */
	}
}

int nft_ev_walk(const void *buf, size_t len,
		int (*fn)(const struct nft_ev *e, void *ctx), void *ctx,
		size_t *bad)
{
	const char *p = buf;
	const struct nlmsghdr *nlh;
	struct nft_ev e;
	size_t off = 0, mlen;
	int ret;

	/* by hand, in size_t: libmnl's mnl_nlmsg_ok() takes a length of
	 * 2 GiB or more for a negative int and walks off the buffer */
	while (len - off >= sizeof(*nlh)) {
		nlh = (const struct nlmsghdr *)(p + off);
		mlen = nlh->nlmsg_len;
		if (mlen < sizeof(*nlh) || mlen > len - off) {
			++*bad;		/* the rest cannot be framed */
			break;
		}
		if (nft_ev_parse(nlh, mlen, &e) < 0)
			++*bad;
		else if (e.kind != NFT_EV_OTHER && (ret = fn(&e, ctx)) < 0)
			return ret;
		mlen = NLMSG_ALIGN(mlen);
		if (mlen > len - off)
			break;
		off += mlen;
	}
	return 0;
}
