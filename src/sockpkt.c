// SPDX-License-Identifier: GPL-2.0-or-later
/* A live socket -> the connection's first packet (see sockpkt.h). */
#include <string.h>
#include <sys/socket.h>

#include "sockpkt.h"

void sock_wire_addr(const struct sock_info *s, const uint8_t *addr,
		    struct cidr *out)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(out, 0, sizeof(*out));
	if (s->family == AF_INET || !memcmp(addr, mapped, sizeof(mapped))) {
		out->family = 4;
		out->plen = 32;
		memcpy(out->addr, s->family == AF_INET ? addr : addr + 12, 4);
	} else {
		out->family = 6;
		out->plen = 128;
		memcpy(out->addr, addr, 16);
	}
}

void sock_packet(const struct sock_info *s, bool inbound,
		 const struct sock_owner *own, struct packet *pkt)
{
	struct cidr local, remote;
	bool lo;

	sock_wire_addr(s, s->src, &local);
	sock_wire_addr(s, s->dst, &remote);
	lo = cidr_is_loopback(&local) || cidr_is_loopback(&remote) ||
	     (local.family == remote.family && !memcmp(local.addr, remote.addr, 16));
	memset(pkt, 0, sizeof(*pkt));
	pkt->l4proto = s->proto;
	pkt->has_src = pkt->has_sport = pkt->has_dport = true;
	pkt->dir = inbound ? DIR_IN : DIR_OUT;
	pkt->src = inbound ? remote : local;
	pkt->dst = inbound ? local : remote;
	pkt->sport = inbound ? s->dport : s->sport;
	pkt->dport = inbound ? s->sport : s->dport;
	if (lo) {
		if (inbound)
			pkt->iif = "lo";
		else
			pkt->oif = "lo";
	}
	/* TIME_WAIT and request sockets have no owner; an established
	 * socket always has one */
	pkt->uid = s->uid;
	pkt->has_uid = s->inode != 0;
	if (own) {
		pkt->cgroup = own->cgroup;
		pkt->gid = own->gid;
		pkt->has_gid = own->has_gid;
	}
}
