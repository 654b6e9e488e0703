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
#include "interp.h"
#include "nl.h"
#include "sockdiag.h"
#include "sockpkt.h"
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

static int guard_check(const struct ix_host *h, const struct model *next,
		       const struct guard_ctx *g, struct safe_conns *out)
{
	char *own = xasprintf("inet %s", next->table);
	char from[80], to[80];
	struct eval_result res;
	struct packet pkt;
	struct safe_conn *sc;
	bool foreign;
	size_t i;
	int ret = 0;

	for (i = 0; i < g->n_conns; i++) {
		const struct sock_info *si = &g->conns[i];
		const uint8_t *listen = si->proto == IPPROTO_TCP ?
					g->tcp_listen : g->udp_listen;

		if (!bit_test(listen, si->sport))
			continue;	/* outbound: not ours to protect */
		sock_packet(si, true, NULL, &pkt);
		out->checked++;
		ret = eval_packet(h, &pkt, &res);
		if (ret < 0)
			break;
		if (res.verdict == MV_ACCEPT)
			continue;
		format_endpoint(&pkt.src, pkt.sport, from, sizeof(from));
		format_endpoint(&pkt.dst, pkt.dport, to, sizeof(to));
		sc = ARRAY_PUSH(out->v, out->n, out->cap);
		/* another table's names belong to the host, freed below:
		 * they go into the text */
		foreign = res.table && strcmp(res.table, own);
		sc->origin = res.origin;
		sc->rule = res.origin ? res.origin->name :
			   foreign ? "another table's rule" :
			   res.label ? res.label : "default";
		sc->text = xasprintf("%s %s -> %s%s%s%s%s%s%s",
				     si->proto == IPPROTO_TCP ? "tcp" : "udp",
				     from, to, res.reply ? " (its replies)" : "",
				     foreign ? " in table " : "",
				     foreign ? res.table : "",
				     foreign ? ", chain " : "",
				     foreign ? res.chain : "",
				     res.undetermined ? ", undetermined" : "");
		sc->verdict = mverdict_name(res.verdict);
	}
	free(own);
	return ret < 0 ? ret : 0;
}

/* The host the next table would run on: every live table (a guard that
 * ignored Docker's would let through a policy whose SSH replies another
 * table drops), with @next standing in for portwarden's own. */
static struct ix_host *guard_host(const struct model *next, bool live)
{
	struct ix_host *h = ix_host_new();
	struct nl_sock *s = NULL;

	if (live && nl_sock_open(&s) == 0) {
		if (ix_host_load_live(h, s, next->table) < 0)
			ix_host_load_addrs(h);
		nl_sock_close(s);
	}
	if (ix_host_add_model(h, next) < 0) {
		ix_host_free(h);
		return NULL;
	}
	return h;
}

int safe_guard(const struct model *next, const char *replay,
	       struct safe_conns *out)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct ix_host *h = NULL;
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
	h = guard_host(next, !replay);
	ret = h ? guard_check(h, next, g, out) : -ENOMEM;
out:
	ix_host_free(h);
	sockdiag_close(sd);
	free(g->conns);
	free(g);
	return ret;
}
