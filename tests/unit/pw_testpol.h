/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hand-built policies for the compiler and evaluator unit tests (no YAML:
 * these tests must not depend on the front end).
 */
#ifndef PW_TESTPOL_H
#define PW_TESTPOL_H

#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

static inline struct policy *tp_new(void)
{
	struct policy *p = xcalloc(1, sizeof(*p));

	p->table = xstrdup("pw");
	p->def[DIR_IN] = VERDICT_DROP;
	p->def[DIR_OUT] = VERDICT_ACCEPT;
	p->established = true;
	p->loopback = true;
	p->icmp = ICMP_ESSENTIAL;
	p->log_group = 1000;
	return p;
}

/* A new rule at the end of @dir; the pointer lives until the next tp_rule. */
static inline struct rule *tp_rule(struct policy *p, enum direction dir,
				   const char *name, unsigned int line)
{
	struct rule *r;

	p->rules[dir] = xrealloc(p->rules[dir],
				 (p->n_rules[dir] + 1) * sizeof(*r));
	r = &p->rules[dir][p->n_rules[dir]];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->loc.file = "test.yaml";
	r->loc.line = line;
	r->loc.col = 3;
	r->dir = dir;
	r->index = (unsigned int)p->n_rules[dir]++;
	r->action = VERDICT_ACCEPT;
	r->protos = PROTO_ANY;
	r->dport.any = r->sport.any = true;
	r->from.any = r->to.any = true;
	r->families = FAM_BOTH;
	return r;
}

static inline void tp_addr(struct addr_set *a, const char *cidr)
{
	struct cidr c;

	if (cidr_parse(cidr, &c, NULL) < 0)
		abort();
	a->any = false;
	a->v = xrealloc(a->v, (a->n + 1) * sizeof(c));
	a->v[a->n++] = c;
}

static inline void tp_port(struct port_set *ps, uint16_t lo, uint16_t hi)
{
	ps->any = false;
	ps->v = xrealloc(ps->v, (ps->n + 1) * sizeof(*ps->v));
	ps->v[ps->n].lo = lo;
	ps->v[ps->n++].hi = hi;
}

static inline void tp_id(struct id_set *ids, uint32_t id)
{
	ids->v = xrealloc(ids->v, (ids->n + 1) * sizeof(*ids->v));
	ids->v[ids->n++] = id;
}

/* Append an interface name; keep them sorted as the checker does. */
static inline void tp_iface(struct iface_set *s, const char *name)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = xstrdup(name);
}

static inline void tp_free(struct policy *p)
{
	size_t d, i;

	if (!p)
		return;
	for (d = 0; d < DIR_MAX; d++) {
		for (i = 0; i < p->n_rules[d]; i++) {
			struct rule *r = &p->rules[d][i];

			free(r->name);
			free(r->dport.v);
			free(r->sport.v);
			free(r->from.v);
			free(r->to.v);
			free(r->not_from.v);
			free(r->not_to.v);
			free(r->uids.v);
			free(r->gids.v);
			free(r->cgroup);
			for (size_t j = 0; j < r->ifaces.n; j++)
				free(r->ifaces.v[j]);
			free(r->ifaces.v);
			free(r->comment);
		}
		free(p->rules[d]);
	}
	free(p->table);
	free(p);
}

#include "eval.h"
#include "interp.h"

/* eval_packet() on the compiled model alone, the way check and explain
 * --policy-only run it (the host's own addresses are left out: only
 * loopback is local). */
static inline int eval_model(const struct model *m, const struct packet *k,
			     struct eval_result *r)
{
	struct ix_host *h = ix_host_new();
	int ret = ix_host_add_model(h, m);

	if (!ret)
		ret = eval_packet(h, k, r);
	ix_host_free(h);
	return ret;
}

#endif
