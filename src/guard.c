// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The lock-out guard (see guard.h): which live inbound connections would a
 * new table cut? Moved from safe.c unchanged.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "eval.h"
#include "guard.h"
#include "sockdiag.h"
#include "util.h"

struct guard_ctx {
	uint8_t tcp_listen[65536 / 8];
	uint8_t udp_listen[65536 / 8];
	struct sock_info *conns;
	size_t n_conns, cap_conns;
};

static void bit_set(uint8_t *map, uint16_t port)
{
	map[port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool bit_test(const uint8_t *map, uint16_t port)
{
	return map[port / 8] & (1u << (port % 8));
}

static int guard_collect(const struct sock_info *si, void *arg)
{
	struct guard_ctx *g = arg;

	if (si->proto == IPPROTO_TCP && si->state == TCP_LISTEN)
		bit_set(g->tcp_listen, si->sport);
	else if (si->proto == IPPROTO_UDP && si->state == TCP_CLOSE && si->sport)
		bit_set(g->udp_listen, si->sport);
	else if (si->state == TCP_ESTABLISHED && si->sport && si->dport)
		*ARRAY_PUSH(g->conns, g->n_conns, g->cap_conns) = *si;
	return 0;
}

/* An IPv6 socket's peer may be IPv4 (::ffff:a.b.c.d); the hook sees IPv4. */
static void to_cidr(uint8_t family, const uint8_t *addr, struct cidr *c)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(c, 0, sizeof(*c));
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		c->family = 4;
		c->plen = 32;
		memcpy(c->addr, addr + 12, 4);
	} else if (family == AF_INET6) {
		c->family = 6;
		c->plen = 128;
		memcpy(c->addr, addr, 16);
	} else {
		c->family = 4;
		c->plen = 32;
		memcpy(c->addr, addr, 4);
	}
}

static bool is_loopback(const struct cidr *c)
{
	static const uint8_t one[16] = { [15] = 1 };

	if (c->family == 4)
		return c->addr[0] == 127;
	return !memcmp(c->addr, one, 16);
}

static bool same_addr(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
}

/* The interface holding @local, or NULL. */
static const char *local_iface(const struct ifaddrs *ifa,
			       const struct cidr *local)
{
	struct cidr c;

	for (; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || !ifa->ifa_name)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET && local->family == 4)
			to_cidr(AF_INET, (const uint8_t *)
				&((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr,
				&c);
		else if (ifa->ifa_addr->sa_family == AF_INET6 && local->family == 6)
			to_cidr(AF_INET6, (const uint8_t *)
				&((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr,
				&c);
		else
			continue;
		if (same_addr(&c, local))
			return ifa->ifa_name;
	}
	return NULL;
}

static void format_endpoint(const struct cidr *c, uint16_t port, char *buf,
			    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	if (c->family == 4)
		snprintf(buf, len, "%s:%u", a, port);
	else
		snprintf(buf, len, "[%s]:%u", a, port);
}

void safe_conns_release(struct safe_conns *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->n; i++)
		free(cs->v[i].text);
	free(cs->v);
	memset(cs, 0, sizeof(*cs));
}

static int guard_check(const struct model *next, const struct guard_ctx *g,
		       const struct ifaddrs *ifa, struct safe_conns *out)
{
	char from[80], to[80];
	struct eval_result res;
	struct packet pkt;
	struct safe_conn *sc;
	size_t i;
	int ret;

	for (i = 0; i < g->n_conns; i++) {
		const struct sock_info *si = &g->conns[i];
		const uint8_t *listen = si->proto == IPPROTO_TCP ?
					g->tcp_listen : g->udp_listen;

		if (!bit_test(listen, si->sport))
			continue;	/* outbound: not ours to protect */
		memset(&pkt, 0, sizeof(pkt));
		pkt.dir = DIR_IN;
		pkt.l4proto = si->proto;
		to_cidr(si->family, si->dst, &pkt.src);
		to_cidr(si->family, si->src, &pkt.dst);
		pkt.has_src = true;
		pkt.sport = si->dport;
		pkt.dport = si->sport;
		pkt.has_sport = pkt.has_dport = true;
		if (is_loopback(&pkt.src) || is_loopback(&pkt.dst) ||
		    same_addr(&pkt.src, &pkt.dst))
			pkt.iif = "lo";
		else
			pkt.iif = local_iface(ifa, &pkt.dst);
		out->checked++;
		ret = eval_packet(next, &pkt, &res);
		if (ret == -ENOENT)
			continue;	/* no input chain: nothing filters */
		if (ret < 0)
			return ret;
		if (res.verdict == MV_ACCEPT || res.verdict == MV_NONE)
			continue;
		format_endpoint(&pkt.src, pkt.sport, from, sizeof(from));
		format_endpoint(&pkt.dst, pkt.dport, to, sizeof(to));
		sc = ARRAY_PUSH(out->v, out->n, out->cap);
		sc->text = xasprintf("%s %s -> %s",
				     si->proto == IPPROTO_TCP ? "tcp" : "udp",
				     from, to);
		sc->origin = res.origin;
		sc->rule = res.origin ? res.origin->name :
			   res.label ? res.label : "default";
		sc->verdict = res.verdict == MV_DROP ? "drop" : "reject";
	}
	return 0;
}

int safe_guard(const struct model *next, const char *replay,
	       struct safe_conns *out)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct ifaddrs *ifa = NULL;
	struct sockdiag *sd = NULL;
	struct guard_ctx *g;
	size_t i, j;
	int ret;

	g = xcalloc(1, sizeof(*g));
	ret = replay ? sockdiag_open_replay(&sd, replay) :
		       sockdiag_open(&sd, NULL);
	if (ret < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		for (j = 0; j < ARRAY_SIZE(families); j++) {
			ret = sockdiag_dump(sd, protos[i], families[j],
					    guard_collect, g);
			/* No IPv6 in this kernel: nothing to protect there. */
			if (ret == -EAFNOSUPPORT || ret == -ENOENT)
				ret = 0;
			if (ret < 0)
				goto out;
		}
	if (!replay && getifaddrs(&ifa) < 0)
		ifa = NULL;
	ret = guard_check(next, g, ifa, out);
out:
	if (ifa)
		freeifaddrs(ifa);
	sockdiag_close(sd);
	free(g->conns);
	free(g);
	return ret;
}
