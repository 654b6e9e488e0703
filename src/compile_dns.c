// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Compiler, hostname part (SPEC §8): the `flags timeout` sets of the
 * hostname rules and the chain that hands DNS answers to
 * `portwarden daemon`.
 *
 * Layout (added to the one documented in compile.c):
 *  - The hostname sets come first in the table, in the order of the
 *    outbound rules: `<rule>_dns_v4`, `<rule>_dns_v6` (`to`), then
 *    `<rule>_notdns_v4`... (`not_to`), named by host_targets_from_policy()
 *    (the daemon takes the same names from there). Each is a hash set
 *    (`type ipv4_addr; flags timeout`) of single addresses; the `to`
 *    sets hold the single addresses listed beside the names as permanent
 *    elements (no timeout). Prefixes listed beside the names stay in the
 *    rule (compile.c: a second rule with the ordinary address match).
 *  - Chain `dns` (hook input priority filter + 10, policy accept), only
 *    when some rule names a hostname:
 *        meta l4proto udp [ip saddr @dns_resolvers_v4] th sport 53
 *            ct state established queue flags bypass to <queue>
 *    and the same for tcp (and per family with a resolver list). It runs
 *    after chain `input`, so it sees only the answers the policy itself
 *    accepted; a packet the daemon releases (NF_ACCEPT) goes on to the
 *    next base chain, exactly as the accept of chain `dns` would. With
 *    `resolvers: system` every established answer from port 53 is queued
 *    and the daemon checks its source against resolv.conf and the local
 *    stubs at run time (resolv.conf changes without a re-apply); a list
 *    of resolvers is matched in the kernel as well.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile_dns.h"
#include "hostnames.h"
#include "util.h"

#define NFPROTO_V4	2
#define NFPROTO_V6	10
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define DNS_PORT	53
#define DNS_CHAIN_PRIO	10

static int dns_set(struct model *m, const char *name, uint8_t fam)
{
	struct mset *s = model_add_set(m, name);

	s->keys[0] = KEY_DADDR;
	s->n_keys = 1;
	s->family = fam;
	s->timeout = true;
	return (int)m->n_sets - 1;
}

static bool is_host(const struct cidr *c)
{
	return c->plen == (c->family == 4 ? 32 : 128);
}

struct dns_rule_sets *compile_dns_sets(struct model *m,
				       const struct policy *p)
{
	struct dns_rule_sets *rs;
	struct host_targets t;
	size_t i, k;

	if (!p->has_hosts)
		return NULL;
	rs = xcalloc(p->n_rules[DIR_OUT] + 1, sizeof(*rs));
	for (i = 0; i < p->n_rules[DIR_OUT]; i++)
		rs[i].to[0] = rs[i].to[1] = rs[i].not_to[0] =
			rs[i].not_to[1] = -1;
	host_targets_from_policy(p, &t);
	for (i = 0; i < t.n; i++) {
		const struct host_target *ht = &t.v[i];
		const struct rule *r = ht->rule;
		int *slot = ht->exclude ? rs[r->index].not_to : rs[r->index].to;

		if (slot[0] >= 0 || slot[1] >= 0)
			continue;	/* the rule's sets exist already */
		if (ht->set4)
			slot[0] = dns_set(m, ht->set4, 4);
		if (ht->set6)
			slot[1] = dns_set(m, ht->set6, 6);
		if (ht->exclude)
			continue;
		/* the single addresses beside the names, permanent */
		for (k = 0; k < r->to.n; k++) {
			const struct cidr *c = &r->to.v[k];
			int idx = slot[c->family == 6];
			struct melem *e;

			if (idx < 0 || !is_host(c))
				continue;
			e = mset_add_elem(&m->sets[idx]);
			e->v[0].prefix = *c;
			e->origin = r;
		}
		if (slot[0] >= 0)
			mset_sort(&m->sets[slot[0]]);
		if (slot[1] >= 0)
			mset_sort(&m->sets[slot[1]]);
	}
	host_targets_release(&t);
	return rs;
}

/* A set name not yet in @m: @base, else @base_2, @base_3... */
static int fresh_set(struct model *m, const char *base)
{
	char *name = xstrdup(base);
	unsigned int n = 2;
	int idx;

	while (model_find_set(m, name) >= 0) {
		free(name);
		name = xasprintf("%s_%u", base, n++);
	}
	model_add_set(m, name);
	free(name);
	idx = (int)m->n_sets - 1;
	return idx;
}

static void queue_rule(struct mchain *c, const struct policy *p,
		       uint8_t proto, uint8_t fam, int resolvers)
{
	struct mrule *r = mchain_add_rule(c);
	struct match *mt;

	r->origin_name = "dns-queue";
	mt = mrule_add_match(r, KEY_L4PROTO);
	mt->value.num = proto;
	if (resolvers >= 0) {
		mt = mrule_add_match(r, KEY_SADDR);
		mt->family = fam;
		mt->set = resolvers;
	}
	mt = mrule_add_match(r, KEY_SPORT);
	mt->value.range.lo = mt->value.range.hi = DNS_PORT;
	mt = mrule_add_match(r, KEY_CT_STATE);
	mt->value.num = CT_STATE_ESTABLISHED;
	r->verdict = MV_QUEUE;
	r->queue_num = p->dns.queue_num;
}

void compile_dns_chain(struct model *m, const struct policy *p)
{
	static const uint8_t protos[] = { IPPROTO_UDP_, IPPROTO_TCP_ };
	int res[2] = { -1, -1 };
	struct mchain *c;
	size_t i, k;

	if (!p->has_hosts)
		return;
	if (!p->dns.resolvers_system) {
		for (k = 0; k < 2; k++) {
			uint8_t fam = k ? 6 : 4;
			struct mset *s = NULL;

			for (i = 0; i < p->dns.n_resolvers; i++) {
				const struct cidr *a = &p->dns.resolvers[i];

				if (a->family != fam)
					continue;
				if (res[k] < 0) {
					res[k] = fresh_set(m, k ? "dns_resolvers_v6" :
							   "dns_resolvers_v4");
					s = &m->sets[res[k]];
					s->keys[0] = KEY_SADDR;
					s->n_keys = 1;
					s->family = fam;
				}
				mset_add_elem(s)->v[0].prefix = *a;
				if (!is_host(a))
					s->interval = true;
			}
			if (s)
				mset_sort(s);
		}
	}
	c = model_add_chain(m, "dns", HOOK_INPUT, DNS_CHAIN_PRIO, MV_ACCEPT);
	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		if (p->dns.resolvers_system) {
			queue_rule(c, p, protos[i], 0, -1);
			continue;
		}
		for (k = 0; k < 2; k++)
			if (res[k] >= 0)
				queue_rule(c, p, protos[i], k ? 6 : 4, res[k]);
	}
}
