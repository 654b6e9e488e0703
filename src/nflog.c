// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nfnetlink_log through libmnl: bind a group, read and parse its records
 * (include/nflog.h). The configuration follows the kernel's
 * net/netfilter/nfnetlink_log.c: one NFULNL_MSG_CONFIG message carries
 * the bind command and every setting, which the kernel applies in order
 * (command first), so the instance never runs with half a configuration.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nflog.h"
#include "util.h"

#define NFLOG_RCVBUF_DEFAULT	(32 << 20)	/* ~100,000 records */
/*
 * The kernel's batch: one skb of this size holds ~200 records. The skb's
 * data and its shared info (~320 bytes) fit one 64 KiB allocation; a round
 * 65536 would take a 128 KiB one, and every batch charges its whole
 * allocation to the receive buffer, so that would halve how many records
 * the buffer holds. The batch leaves when full or after NFLOG_TIMEOUT.
 */
#define NFLOG_NLBUFSIZ		(65536 - 1024)
#define NFLOG_QTHRESH		1024
#define NFLOG_TIMEOUT		1	/* 1/100 s before a batch leaves */
#define NFLOG_RECV_BUF		65536

struct nflog {
	struct mnl_socket *nl;
	uint16_t group;
	uint32_t next_seq;
	uint64_t overruns, bad;
	char *buf;
};

/* ---- parsing ------------------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static bool has_ports(uint8_t proto)
{
	/* tcp, udp, dccp, sctp, udplite: ports in the first 4 bytes */
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 ||
	       proto == 136;
}

/* The L4 header at @p (@len bytes, possibly cut by the copy range). */
static void parse_l4(struct nflog_pkt *o, const uint8_t *p, size_t len)
{
	if (has_ports(o->proto) && len >= 4) {
		o->has_ports = true;
		o->sport = (uint16_t)(p[0] << 8 | p[1]);
		o->dport = (uint16_t)(p[2] << 8 | p[3]);
	} else if ((o->proto == 1 || o->proto == 58) && len >= 2) {
		o->has_icmp = true;
		o->icmp_type = p[0];
		o->icmp_code = p[1];
	}
}

static void parse_ipv4(struct nflog_pkt *o, const uint8_t *p, size_t len)
{
	size_t ihl;

	if (len < 20 || (p[0] >> 4) != 4)
		return;
	ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		return;
	o->l3 = 4;
	o->proto = p[9];
	memcpy(o->src, p + 12, 4);
	memcpy(o->dst, p + 16, 4);
	/* a fragment other than the first has no L4 header */
	if ((p[6] << 8 | p[7]) & 0x1fff)
		return;
	parse_l4(o, p + ihl, len - ihl);
}

static void parse_ipv6(struct nflog_pkt *o, const uint8_t *p, size_t len)
{
	size_t off = 40;
	uint8_t nh;
	int hops;

	if (len < 40 || (p[0] >> 4) != 6)
		return;
	o->l3 = 6;
	memcpy(o->src, p + 8, 16);
	memcpy(o->dst, p + 24, 16);
	nh = p[6];
	/* extension headers: hop-by-hop, routing, fragment, destination */
	for (hops = 0; hops < 8; hops++) {
		size_t hl;

		if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
			break;
		if (off + 8 > len) {
			o->proto = nh;
			return;
		}
		if (nh == 44) {
			if ((p[off + 2] << 8 | p[off + 3]) & 0xfff8) {
				o->proto = p[off];
				return;	/* not the first fragment */
			}
			hl = 8;
		} else {
			hl = ((size_t)p[off + 1] + 1) * 8;
		}
		nh = p[off];
		if (hl > len - off) {
			o->proto = nh;
			return;
		}
		off += hl;
	}
	o->proto = nh;
	parse_l4(o, p + off, len - off);
}

int nflog_parse(const void *buf, size_t len, struct nflog_pkt *out)
{
	const struct nlmsghdr *nlh = buf;
	const uint8_t *b = buf;
	bool payload = false;
	size_t off, end;

	if (len < sizeof(*nlh))
		return -EINVAL;
	end = nlh->nlmsg_len;
	if (end < NLMSG_HDRLEN || end > len)
		return -EINVAL;
	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return -ENOMSG;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
	if (off > end)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	while (end - off >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const struct nlattr *)(b + off);
		const uint8_t *v = b + off + sizeof(*a);
		size_t alen = a->nla_len, plen;

		if (alen < sizeof(*a) || alen > end - off)
			return -EINVAL;
		plen = alen - sizeof(*a);
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NFULA_PACKET_HDR:
			if (plen < sizeof(struct nfulnl_msg_packet_hdr))
				return -EINVAL;
			out->hook = v[2];
			break;
		case NFULA_TIMESTAMP:
			if (plen < sizeof(struct nfulnl_msg_packet_timestamp))
				return -EINVAL;
			out->has_time = true;
			out->sec = get_be64(v);
			out->usec = get_be64(v + 8);
			break;
		case NFULA_IFINDEX_INDEV:
		case NFULA_IFINDEX_OUTDEV:
		case NFULA_UID:
		case NFULA_GID:
		case NFULA_SEQ:
			if (plen < 4)
				return -EINVAL;
			switch (a->nla_type & NLA_TYPE_MASK) {
			case NFULA_IFINDEX_INDEV:
				out->indev = get_be32(v);
				break;
			case NFULA_IFINDEX_OUTDEV:
				out->outdev = get_be32(v);
				break;
			case NFULA_UID:
				out->has_uid = true;
				out->uid = get_be32(v);
				break;
			case NFULA_GID:
				out->has_gid = true;
				out->gid = get_be32(v);
				break;
			default:
				out->has_seq = true;
				out->seq = get_be32(v);
			}
			break;
		case NFULA_PREFIX: {
			/* NUL-terminated; never trust that it is */
			const uint8_t *nul = memchr(v, '\0', plen);
			size_t n = nul ? (size_t)(nul - v) : plen;

			if (n > NFLOG_PREFIX_MAX)
				return -EINVAL;
			memcpy(out->prefix, v, n);
			out->prefix[n] = '\0';
			out->prefix_len = n;
			break;
		}
		case NFULA_PAYLOAD:
			/* the kernel sends one; two would mix their fields */
			if (payload)
				return -EINVAL;
			payload = true;
			if (plen && (v[0] >> 4) == 4)
				parse_ipv4(out, v, plen);
			else if (plen && (v[0] >> 4) == 6)
				parse_ipv6(out, v, plen);
			break;
		default:
			break;
		}
		off += NLA_ALIGN(alen);
		if (off > end)
			break;
	}
	return 0;
}

/* ---- the socket ---------------------------------------------------------- */

static int config(struct nflog *nf)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nfulnl_msg_config_cmd cmd = { .command = NFULNL_CFG_CMD_BIND };
	struct nfulnl_msg_config_mode mode = {
		.copy_range = htonl(NFLOG_COPY_RANGE),
		.copy_mode = NFULNL_COPY_PACKET,
	};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	unsigned int portid = mnl_socket_get_portid(nf->nl);
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;

	memset(buf, 0, sizeof(buf));	/* attribute padding goes out too */
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(nf->group);
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(cmd), &cmd);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
	mnl_attr_put_u16(nlh, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
	mnl_attr_put_u32(nlh, NFULA_CFG_NLBUFSIZ, htonl(NFLOG_NLBUFSIZ));
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(NFLOG_QTHRESH));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(NFLOG_TIMEOUT));
	if (mnl_socket_sendto(nf->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	/* Records may come before the ack; the ones that do were logged
	 * before monitor started and only set where the sequence begins. */
	for (;;) {
		const struct nlmsghdr *m;
		int left;

		n = mnl_socket_recvfrom(nf->nl, nf->buf, NFLOG_RECV_BUF);
		if (n < 0) {
			if (errno == ENOBUFS || errno == EINTR)
				continue;
			return -errno;
		}
		left = (int)n;
		for (m = (const struct nlmsghdr *)nf->buf; mnl_nlmsg_ok(m, left);
		     m = mnl_nlmsg_next(m, &left)) {
			struct nflog_pkt p;

			if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == seq &&
			    m->nlmsg_pid == portid) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);

				if (m->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
					return -EPROTO;
				return e->error;
			}
			if (nflog_parse(m, (size_t)left, &p) == 0 && p.has_seq)
				nf->next_seq = p.seq + 1;
		}
	}
}

int nflog_open(struct nflog **out, uint16_t group, int rcvbuf)
{
	struct nflog *nf = xcalloc(1, sizeof(*nf));
	int ret, size = rcvbuf > 0 ? rcvbuf : NFLOG_RCVBUF_DEFAULT;
	int fd;

	nf->group = group;
	nf->buf = xmalloc(NFLOG_RECV_BUF);
	nf->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nf->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(nf->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	fd = mnl_socket_get_fd(nf->nl);
	/* the kernel doubles the value; FORCE needs CAP_NET_ADMIN */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = config(nf);
	if (ret < 0)
		goto fail;
	*out = nf;
	return 0;
fail:
	nflog_close(nf);
	return ret;
}

void nflog_close(struct nflog *nf)
{
	if (!nf)
		return;
	if (nf->nl)
		mnl_socket_close(nf->nl);
	free(nf->buf);
	free(nf);
}

int nflog_fd(const struct nflog *nf)
{
	return mnl_socket_get_fd(nf->nl);
}

uint64_t nflog_overruns(const struct nflog *nf)
{
	return nf->overruns;
}

uint64_t nflog_bad(const struct nflog *nf)
{
	return nf->bad;
}

int nflog_read(struct nflog *nf, nflog_cb cb, void *arg)
{
	const struct nlmsghdr *m;
	int left, delivered = 0, ret;
	ssize_t n;

	n = recv(mnl_socket_get_fd(nf->nl), nf->buf, NFLOG_RECV_BUF,
		 MSG_DONTWAIT);
	if (n < 0) {
		if (errno == ENOBUFS) {
			nf->overruns++;
			return 0;
		}
		if (errno == EAGAIN || errno == EINTR)
			return 0;
		return -errno;
	}
	left = (int)n;
	for (m = (const struct nlmsghdr *)nf->buf; mnl_nlmsg_ok(m, left);
	     m = mnl_nlmsg_next(m, &left)) {
		struct nflog_pkt p;
		uint64_t lost = 0;

		ret = nflog_parse(m, (size_t)left, &p);
		if (ret == -ENOMSG)
			continue;
		if (ret < 0) {
			nf->bad++;
			continue;
		}
		if (p.has_seq) {
			uint32_t gap = p.seq - nf->next_seq;

			/* a record older than the last one is no loss */
			if (gap < 0x80000000u) {
				lost = gap;
				nf->next_seq = p.seq + 1;
			}
		}
		ret = cb(&p, lost, arg);
		if (ret < 0)
			return ret;
		delivered++;
	}
	return delivered;
}
