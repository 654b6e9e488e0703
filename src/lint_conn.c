// SPDX-License-Identifier: GPL-2.0-or-later
/* Warnings about connections the policy accepts but cannot complete. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "eval.h"
#include "interp.h"
#include "lint_conn.h"

/* A connection rule @r accepts: its first protocol, port, addresses. */
static bool sample(const struct rule *r, unsigned int fam, uint8_t proto,
		   struct packet *k)
{
	const struct addr_set *remote = r->dir == DIR_OUT ? &r->to : &r->from;
	const struct addr_set *local = r->dir == DIR_OUT ? &r->from : &r->to;
	struct cidr *rk = r->dir == DIR_OUT ? &k->dst : &k->src;
	struct cidr *lk = r->dir == DIR_OUT ? &k->src : &k->dst;
	uint8_t f = fam == FAM_V6 ? 6 : 4;
	size_t i;

	memset(k, 0, sizeof(*k));
	k->dir = r->dir;
	k->l4proto = proto;
	/* documentation addresses stand for "anyone" */
	cidr_parse(f == 6 ? "2001:db8::7" : "192.0.2.7", rk, NULL);
	cidr_parse(f == 6 ? "2001:db8::8" : "198.51.100.8", lk, NULL);
	for (i = 0; !remote->any && i < remote->n; i++)
		if (remote->v[i].family == f)
			break;
	if (!remote->any) {
		if (i == remote->n)
			return false;
		*rk = remote->v[i];
		rk->plen = f == 6 ? 128 : 32;
	}
	for (i = 0; !local->any && i < local->n; i++)
		if (local->v[i].family == f)
			break;
	if (!local->any) {
		if (i == local->n)
			return false;
		*lk = local->v[i];
		lk->plen = f == 6 ? 128 : 32;
	}
	k->has_src = true;
	k->dport = r->dport.any || !r->dport.n ? 80 : r->dport.v[0].lo;
	k->sport = r->sport.any || !r->sport.n ? 40000 : r->sport.v[0].lo;
	k->has_dport = k->has_sport = true;
	if (r->uids.n) {
		k->uid = r->uids.v[0];
		k->has_uid = true;
	}
	if (r->gids.n) {
		k->gid = r->gids.v[0];
		k->has_gid = true;
	}
	k->cgroup = r->cgroup;
	if (r->ifaces.n && r->dir == DIR_OUT)
		k->oif = r->ifaces.v[0];
	else if (r->ifaces.n)
		k->iif = r->ifaces.v[0];
	return true;
}

void lint_replies(const struct policy *p, const struct model *m, struct diag *d)
{
	static const struct { unsigned int bit; uint8_t num; } protos[] = {
		{ PROTO_TCP, IPPROTO_TCP }, { PROTO_UDP, IPPROTO_UDP },
	};
	struct ix_host *h = ix_host_new();
	unsigned int dir;
	size_t i, j, f;

	if (ix_host_add_model(h, m) < 0)
		goto out;
	for (dir = 0; dir < DIR_MAX; dir++)
		for (i = 0; i < p->n_rules[dir]; i++) {
			const struct rule *r = &p->rules[dir][i];
			bool warned = false;

			/* a rule for source ports only is itself written for
			 * replies (a stateless policy) */
			if (r->action != VERDICT_ACCEPT ||
			    (!r->sport.any && r->sport.n && r->dport.any))
				continue;
			for (j = 0; j < 2 && !warned; j++)
				for (f = FAM_V4; f <= FAM_V6 && !warned; f <<= 1) {
					struct eval_result res;
					struct packet k;

					if (!(r->protos & (protos[j].bit | PROTO_ANY)) ||
					    !(r->families & f) ||
					    !sample(r, (unsigned int)f, protos[j].num, &k) ||
					    eval_packet(h, &k, &res) < 0 ||
					    !res.reply || res.undetermined)
						continue;
					diag_warning(d, &r->loc,
						     "connections rule '%s' accepts cannot complete: their replies meet the %s rules and are %sed by %s%s%s (established: false); set established: true or allow the replies",
						     r->name, dir == DIR_IN ? "outbound" : "inbound",
						     res.verdict == MV_DROP ? "dropp" : "reject",
						     res.origin ? "rule '" : "the default",
						     res.origin ? res.origin->name : "",
						     res.origin ? "'" : "");
					warned = true;
				}
		}
out:
	ix_host_free(h);
}
