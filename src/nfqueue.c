// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NFQUEUE over nfnetlink_queue with libmnl: the config messages that bind
 * a queue, the packet messages the kernel sends, and the verdicts.
 * The packet bytes are untrusted: every header length is checked against
 * what the kernel copied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfqueue.h"
#include "util.h"

/* ---- IP packets ---- */

static int parse_l4(const uint8_t *l4, size_t len, uint8_t proto,
		    struct nfq_packet *p)
{
	if (proto == IPPROTO_UDP) {
		size_t ulen;

		if (len < 8)
			return -EINVAL;
		ulen = (size_t)l4[4] << 8 | l4[5];
		/* GSO packets may carry 0 or more than we have: trust the copy */
		if (ulen < 8 || ulen > len)
			ulen = len;
		p->data = l4 + 8;
		p->data_len = ulen - 8;
	} else if (proto == IPPROTO_TCP) {
		size_t doff;

		if (len < 20)
			return -EINVAL;
		doff = (size_t)(l4[12] >> 4) * 4;
		if (doff < 20 || doff > len)
			return -EINVAL;
		p->data = l4 + doff;
		p->data_len = len - doff;
		p->tcp_seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 |
			     (uint32_t)l4[6] << 8 | l4[7];
	} else {
		return -EINVAL;
	}
	p->l4proto = proto;
	p->sport = (uint16_t)(l4[0] << 8 | l4[1]);
	p->dport = (uint16_t)(l4[2] << 8 | l4[3]);
	return 0;
}

static int parse_ipv4(const uint8_t *pkt, size_t len, struct nfq_packet *p)
{
	size_t ihl, tot;

	if (len < 20)
		return -EINVAL;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	tot = (size_t)pkt[2] << 8 | pkt[3];
	if (ihl < 20 || ihl > len)
		return -EINVAL;
	if (tot < ihl || tot > len)
		tot = len;	/* GSO: the length field may be 0 */
	/* fragments: only a whole datagram is read (conntrack reassembles
	 * before the queue rule, so this is a packet we cannot judge) */
	if ((pkt[6] & 0x3f) || pkt[7])
		return -EINVAL;
	p->family = AF_INET;
	memcpy(p->saddr, pkt + 12, 4);
	memcpy(p->daddr, pkt + 16, 4);
	return parse_l4(pkt + ihl, tot - ihl, pkt[9], p);
}

static int parse_ipv6(const uint8_t *pkt, size_t len, struct nfq_packet *p)
{
	size_t off = 40, plen;
	uint8_t nh;

	if (len < 40)
		return -EINVAL;
	plen = (size_t)pkt[4] << 8 | pkt[5];
	if (plen == 0 || plen > len - 40)
		plen = len - 40;
	len = 40 + plen;
	nh = pkt[6];
	for (int i = 0; i < 8; i++) {
		size_t hl;

		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if (len - off < 8)
				return -EINVAL;
			hl = ((size_t)pkt[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			return -EINVAL;
		default:
			goto l4;
		}
		if (hl > len - off)
			return -EINVAL;
		nh = pkt[off];
		off += hl;
	}
	return -EINVAL;
l4:
	p->family = AF_INET6;
	memcpy(p->saddr, pkt + 8, 16);
	memcpy(p->daddr, pkt + 24, 16);
	return parse_l4(pkt + off, len - off, nh, p);
}

int nfq_parse_ip(const uint8_t *pkt, size_t len, struct nfq_packet *p)
{
	uint32_t id = p->id;

	memset(p, 0, sizeof(*p));
	p->id = id;
	if (len < 1)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		return parse_ipv4(pkt, len, p);
	case 6:
		return parse_ipv6(pkt, len, p);
	}
	return -EINVAL;
}

/* ---- the queue ---- */

static struct nlmsghdr *put_hdr(char *buf, uint16_t type, uint16_t num)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(num);
	return nlh;
}

/* Send @nlh asking for an ack and read it. */
static int talk(struct nfq *q, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = 1;
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(q->nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(buf, (size_t)n, 1, q->portid, NULL, NULL) < 0)
		return -errno;
	return 0;
}

static int cfg_cmd(struct nfq *q, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_hdr(buf, NFQNL_MSG_CONFIG, q->num);
	struct nfqnl_msg_config_cmd c = { .command = cmd };

	mnl_attr_put(nlh, NFQA_CFG_CMD, sizeof(c), &c);
	return talk(q, nlh);
}

static int cfg_params(struct nfq *q, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_hdr(buf, NFQNL_MSG_CONFIG, q->num);
	struct nfqnl_msg_config_params params = {
		.copy_range = htonl(0xffff),
		.copy_mode = NFQNL_COPY_PACKET,
	};
	uint32_t flags = htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);

	mnl_attr_put(nlh, NFQA_CFG_PARAMS, sizeof(params), &params);
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(maxlen));
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, flags);
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, flags);
	return talk(q, nlh);
}

int nfq_open(uint16_t num, uint32_t maxlen, struct nfq **out)
{
	struct nfq *q = xcalloc(1, sizeof(*q));
	int one = 1, size = 4 << 20, err;

	q->num = num;
	q->buf_size = 0xffff + (size_t)MNL_SOCKET_BUFFER_SIZE;
	q->buf = xmalloc(q->buf_size);
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!q->nl) {
		err = -errno;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	mnl_socket_setsockopt(q->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	/* a large buffer for bursts; beyond it the kernel accepts (fail-open)
	 * and the id gap counts it */
	if (setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)) < 0)
		setsockopt(mnl_socket_get_fd(q->nl), SOL_SOCKET, SO_RCVBUF,
			   &size, sizeof(size));
	err = cfg_cmd(q, NFQNL_CFG_CMD_BIND);
	if (err < 0)
		goto fail;
	err = cfg_params(q, maxlen);
	if (err < 0)
		goto fail;
	*out = q;
	return 0;
fail:
	nfq_close(q);
	return err;
}

void nfq_close(struct nfq *q)
{
	if (!q)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	free(q->buf);
	free(q);
}

int nfq_fd(const struct nfq *q)
{
	return mnl_socket_get_fd(q->nl);
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NFQA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case NFQA_PACKET_HDR:
		if (mnl_attr_validate2(attr, MNL_TYPE_UNSPEC,
				       sizeof(struct nfqnl_msg_packet_hdr)) < 0)
			return MNL_CB_ERROR;
		break;
	case NFQA_PAYLOAD:
		break;
	default:
		return MNL_CB_OK;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

struct read_ctx {
	struct nfq *q;
	nfq_packet_fn fn;
	void *ctx;
	int n;
};

static void note_id(struct nfq *q, uint32_t id)
{
	/* ids count up by one per packet the kernel meant for the queue;
	 * the ones we never saw were accepted without us (fail-open) */
	if (q->have_id && id > q->next_id && id - q->next_id < 0x80000000u)
		q->lost += id - q->next_id;
	q->next_id = id + 1;
	q->have_id = 1;
}

static int packet_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	const struct nlattr *tb[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	struct nfq_packet p;
	uint32_t id;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0 ||
	    !tb[NFQA_PACKET_HDR])
		return MNL_CB_OK;	/* no id: nothing we can give a verdict to */
	ph = mnl_attr_get_payload(tb[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	note_id(rc->q, id);
	rc->q->received++;
	rc->n++;
	p.id = id;
	if (!tb[NFQA_PAYLOAD] ||
	    nfq_parse_ip(mnl_attr_get_payload(tb[NFQA_PAYLOAD]),
			 mnl_attr_get_payload_len(tb[NFQA_PAYLOAD]), &p) < 0) {
		rc->fn(rc->ctx, id, NULL);
		return MNL_CB_OK;
	}
	rc->fn(rc->ctx, id, &p);
	return MNL_CB_OK;
}

int nfq_read(struct nfq *q, nfq_packet_fn fn, void *ctx)
{
	struct read_ctx rc = { .q = q, .fn = fn, .ctx = ctx };
	ssize_t n;

	n = recv(mnl_socket_get_fd(q->nl), q->buf, q->buf_size, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		if (errno == ENOBUFS) {
			q->enobufs++;
			return -ENOBUFS;
		}
		return -errno;
	}
	/* the kernel's packet messages carry no sequence number or portid
	 * of ours: run the callbacks without those checks */
	if (mnl_cb_run(q->buf, (size_t)n, 0, 0, packet_cb, &rc) < 0 && errno != 0 &&
	    rc.n == 0)
		return -errno;
	return rc.n;
}

static int verdict(struct nfq *q, uint16_t type, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = put_hdr(buf, type, q->num);
	struct nfqnl_msg_verdict_hdr vh = {
		.verdict = htonl(NF_ACCEPT),
		.id = htonl(id),
	};

	mnl_attr_put(nlh, NFQA_VERDICT_HDR, sizeof(vh), &vh);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

int nfq_accept(struct nfq *q, uint32_t id)
{
	return verdict(q, NFQNL_MSG_VERDICT, id);
}

int nfq_accept_upto(struct nfq *q, uint32_t id)
{
	return verdict(q, NFQNL_MSG_VERDICT_BATCH, id);
}
