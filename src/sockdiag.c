// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NETLINK_SOCK_DIAG dumps (inet_diag_req_v2, SOCK_DIAG_BY_FAMILY) through
 * libmnl. Each reply message is validated into a tb[] table and turned into
 * a struct sock_info on the stack, then handed to the caller: the dump
 * streams through one receive buffer.
 *
 * Recording format: the raw netlink messages as they crossed the socket,
 * back to back — each request (NLM_F_REQUEST set, naming protocol and
 * family) followed by every reply buffer of its dump up to NLMSG_DONE.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>

#include "sockdiag.h"
#include "util.h"

/* Large enough for the kernel to fill each read with many messages. */
#define SD_BUF_SIZE	(64 * 1024)

struct sockdiag {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	int record_fd;
	char *buf;
	/* replay */
	char *data;
	size_t len;
};

struct dump_ctx {
	uint8_t proto;
	sockdiag_cb cb;
	void *arg;
	int err;
};

int sockdiag_open(struct sockdiag **out, const char *record)
{
	struct sockdiag *sd;
	int ret, one = 1, rcvbuf = 4 * 1024 * 1024;

	sd = xcalloc(1, sizeof(*sd));
	sd->record_fd = -1;
	sd->seq = (unsigned int)time(NULL);
	sd->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!sd->nl) {
		ret = -errno;
		goto fail;
	}
	if (mnl_socket_bind(sd->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto fail;
	}
	/* Best effort: fewer, fuller reads; extended acks for errors. */
	setsockopt(mnl_socket_get_fd(sd->nl), SOL_SOCKET, SO_RCVBUF,
		   &rcvbuf, sizeof(rcvbuf));
	mnl_socket_setsockopt(sd->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	sd->portid = mnl_socket_get_portid(sd->nl);
	if (record) {
		sd->record_fd = open(record, O_WRONLY | O_CREAT | O_TRUNC |
				     O_CLOEXEC, 0644);
		if (sd->record_fd < 0) {
			ret = -errno;
			goto fail;
		}
	}
	sd->buf = xmalloc(SD_BUF_SIZE);
	*out = sd;
	return 0;
fail:
	sockdiag_close(sd);
	return ret;
}

/* Walk a recording; return true when every message is whole. */
static bool replay_valid(const char *data, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)data;
	int left = (int)len;
	bool request = false;

	if (len == 0 || len > INT32_MAX)
		return false;
	while (mnl_nlmsg_ok(nlh, left)) {
		if (nlh->nlmsg_flags & NLM_F_REQUEST) {
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    mnl_nlmsg_get_payload_len(nlh) <
			    sizeof(struct inet_diag_req_v2))
				return false;
			request = true;
		} else if (!request) {
			return false;
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return left == 0 && request;
}

int sockdiag_open_replay(struct sockdiag **out, const char *path)
{
	struct sockdiag *sd;
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	sd = xcalloc(1, sizeof(*sd));
	sd->record_fd = -1;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	/* A recording of a busy host is a few MB; read it whole. */
	sd->data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, sd->data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			goto fail;
		}
		got += (size_t)n;
	}
	sd->len = got;
	if (!replay_valid(sd->data, sd->len)) {
		ret = -EINVAL;
		goto fail;
	}
	close(fd);
	*out = sd;
	return 0;
fail:
	close(fd);
	sockdiag_close(sd);
	return ret;
}

void sockdiag_close(struct sockdiag *sd)
{
	if (!sd)
		return;
	if (sd->nl)
		mnl_socket_close(sd->nl);
	if (sd->record_fd >= 0)
		close(sd->record_fd);
	free(sd->buf);
	free(sd->data);
	free(sd);
}

static int attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, INET_DIAG_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel: ignore what we do not know */
	switch (type) {
	case INET_DIAG_SKV6ONLY:
		if (mnl_attr_validate(attr, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		break;
	case INET_DIAG_CGROUP_ID:
		if (mnl_attr_validate(attr, MNL_TYPE_U64) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *ctx = data;
	const struct nlattr *tb[INET_DIAG_MAX + 1] = { NULL };
	const struct inet_diag_msg *m;
	struct sock_info s;
	int ret;

	if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		ctx->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	m = mnl_nlmsg_get_payload(nlh);
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*m), attr_cb, tb) < 0) {
		ctx->err = -EBADMSG;
		return MNL_CB_ERROR;
	}
	memset(&s, 0, sizeof(s));
	s.family = m->idiag_family;
	s.proto = ctx->proto;
	s.state = m->idiag_state;
	memcpy(s.src, m->id.idiag_src, s.family == AF_INET ? 4 : 16);
	memcpy(s.dst, m->id.idiag_dst, s.family == AF_INET ? 4 : 16);
	s.sport = ntohs(m->id.idiag_sport);
	s.dport = ntohs(m->id.idiag_dport);
	s.ifindex = m->id.idiag_if;
	s.uid = m->idiag_uid;
	s.inode = m->idiag_inode;
	if (tb[INET_DIAG_SKV6ONLY])
		s.v6only = mnl_attr_get_u8(tb[INET_DIAG_SKV6ONLY]) != 0;
	if (tb[INET_DIAG_CGROUP_ID])
		s.cgroup_id = mnl_attr_get_u64(tb[INET_DIAG_CGROUP_ID]);
	ret = ctx->cb(&s, ctx->arg);
	if (ret < 0) {
		ctx->err = ret;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static void req_fill(struct nlmsghdr *nlh, uint8_t proto, uint8_t family,
		     unsigned int seq)
{
	struct inet_diag_req_v2 *req;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof(*req));
	req->sdiag_family = family;
	req->sdiag_protocol = proto;
	req->idiag_states = ~0u;	/* every state, TIME_WAIT included */
	req->idiag_ext = 0;		/* v6only and cgroup id come unasked */
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int dump_live(struct sockdiag *sd, struct dump_ctx *ctx,
		     uint8_t family)
{
	char reqbuf[256];
	struct nlmsghdr *nlh;
	unsigned int seq = ++sd->seq;
	ssize_t n;
	int ret;

	memset(reqbuf, 0, sizeof(reqbuf));
	nlh = mnl_nlmsg_put_header(reqbuf);
	req_fill(nlh, ctx->proto, family, seq);
	if (sd->record_fd >= 0) {
		ret = write_all(sd->record_fd, nlh, nlh->nlmsg_len);
		if (ret < 0)
			return ret;
	}
	if (mnl_socket_sendto(sd->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(sd->nl, sd->buf, SD_BUF_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (sd->record_fd >= 0) {
			ret = write_all(sd->record_fd, sd->buf, (size_t)n);
			if (ret < 0)
				return ret;
		}
		ret = mnl_cb_run(sd->buf, (size_t)n, seq, sd->portid,
				 msg_cb, ctx);
		if (ret == MNL_CB_STOP)
			return 0;
		if (ret < 0)
			return ctx->err ? ctx->err : -errno;
	}
}

static int dump_replay(struct sockdiag *sd, struct dump_ctx *ctx,
		       uint8_t family)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)sd->data;
	int left = (int)sd->len;
	bool mine = false;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_flags & NLM_F_REQUEST) {
			const struct inet_diag_req_v2 *req =
				mnl_nlmsg_get_payload(nlh);

			mine = req->sdiag_protocol == ctx->proto &&
			       req->sdiag_family == family;
			continue;
		}
		if (!mine)
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE)
			mine = false;
		else if (nlh->nlmsg_type == NLMSG_ERROR)
			return -EPROTO;
		else if (msg_cb(nlh, ctx) != MNL_CB_OK)
			return ctx->err ? ctx->err : -EBADMSG;
	}
	return 0;
}

int sockdiag_dump(struct sockdiag *sd, uint8_t proto, uint8_t family,
		  sockdiag_cb cb, void *arg)
{
	struct dump_ctx ctx = { .proto = proto, .cb = cb, .arg = arg };

	if (sd->data)
		return dump_replay(sd, &ctx, family);
	return dump_live(sd, &ctx, family);
}

const char *sock_state_name(uint8_t state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTAB",
		[TCP_SYN_SENT] = "SYN-SENT",
		[TCP_SYN_RECV] = "SYN-RECV",
		[TCP_FIN_WAIT1] = "FIN-WAIT-1",
		[TCP_FIN_WAIT2] = "FIN-WAIT-2",
		[TCP_TIME_WAIT] = "TIME-WAIT",
		[TCP_CLOSE] = "UNCONN",
		[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
		[TCP_LAST_ACK] = "LAST-ACK",
		[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	if (state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "UNKNOWN";
}

void sock_addr_format(uint8_t family, const uint8_t *addr, uint16_t port,
		      char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (family == AF_INET) {
		inet_ntop(AF_INET, addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	} else {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	}
}
