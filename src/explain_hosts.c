// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `explain` and hostname rules (SPEC §8).
 *
 * By name: the policy's compiled table stands in for the live one, with a
 * stand-in address put into the sets of every rule whose names match, as
 * `portwarden daemon` would put the name's real addresses after an
 * answer; the interpreter then runs as for any address. The stand-in is
 * 240.0.0.1 (reserved, class E) or 100::1 (the discard prefix 100::/64),
 * which no rule names in practice: a rule with `to: any` matches it, as
 * it matches every address the name may have.
 *
 * By address: the addresses the daemon learned are in the live table's
 * sets, not in the compiled ones; explain_learned() copies them over, so
 * a learned address matches its rule. An address not learned gets a note
 * naming the hostname rules that would match it if it were.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain_hosts.h"
#include "hostnames.h"
#include "util.h"

int explain_parse_name(const char *s, char *name, size_t len, bool *has_port,
		       uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s), i;
	struct port_range pr;
	char *e;
	long v;

	*has_port = false;
	if (!n || n >= len || s[0] == '*' || !hostname_valid(s, n))
		return -EINVAL;
	/* an address is not a name: "10.0.0.1" is all digits and dots */
	if (strspn(s, "0123456789.") >= n)
		return -EINVAL;
	for (i = 0; i < n; i++)
		name[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
	name[n] = '\0';
	if (!colon)
		return 0;
	errno = 0;
	v = strtol(colon + 1, &e, 10);
	if (colon[1] && !*e && !errno && v >= 0 && v <= 65535)
		*port = (uint16_t)v;
	else if (port_by_name(colon + 1, &pr) == 0 && pr.lo == pr.hi)
		*port = pr.lo;
	else
		return -EINVAL;
	*has_port = true;
	return 0;
}

static void put_standin(struct model *m, const char *set,
			const struct cidr *a)
{
	int k = set ? model_find_set(m, set) : -1;

	if (k < 0)
		return;
	mset_add_elem(&m->sets[k])->v[0].prefix = *a;
	mset_sort(&m->sets[k]);
}

size_t explain_by_name(const struct policy *p, struct model *m,
		       const char *name, struct packet *pkt)
{
	struct cidr v4, v6;
	struct host_targets t;
	size_t i, n = 0;
	bool want4 = false, want6 = false;

	cidr_parse("240.0.0.1", &v4, NULL);
	cidr_parse("100::1", &v6, NULL);
	host_targets_from_policy(p, &t);
	for (i = 0; i < t.n; i++) {
		if (!host_target_matches(&t.v[i], name))
			continue;
		n++;
		want4 |= t.v[i].set4 != NULL;
		want6 |= t.v[i].set6 != NULL;
	}
	/* the family the name's rules hold; IPv4 when both (or none) do */
	pkt->dst = want4 || !want6 ? v4 : v6;
	for (i = 0; i < t.n; i++)
		if (host_target_matches(&t.v[i], name))
			put_standin(m, pkt->dst.family == 4 ? t.v[i].set4 :
				    t.v[i].set6, &pkt->dst);
	host_targets_release(&t);
	return n;
}

int explain_learned(struct nl_sock *s, struct model *m)
{
	struct model *live = NULL;
	int ret = nl_read_table(s, m->table, &live), n = 0;
	size_t i, j;

	if (ret == -ENOENT)
		return 0;
	if (ret < 0)
		return ret;
	for (i = 0; i < live->n_sets; i++) {
		const struct mset *ls = &live->sets[i];
		int k = model_find_set(m, ls->name);
		struct mset *ms;

		if (!ls->timeout || k < 0 || !m->sets[k].timeout ||
		    m->sets[k].family != ls->family)
			continue;
		ms = &m->sets[k];
		for (j = 0; j < ls->n_elems; j++) {
			struct melem *e;

			if (!ls->elems[j].timeout_ms)
				continue;
			e = mset_add_elem(ms);
			e->v[0].prefix = ls->elems[j].v[0].prefix;
			e->timeout_ms = ls->elems[j].timeout_ms;
			e->expires_ms = ls->elems[j].expires_ms;
			if (ls->elems[j].comment)
				e->comment = xstrdup(ls->elems[j].comment);
			n++;
		}
		mset_sort(ms);
	}
	model_free(live);
	return n;
}

static bool proto_matches(const struct rule *r, uint8_t l4)
{
	if (r->protos & PROTO_ANY)
		return true;
	return (l4 == 6 && (r->protos & PROTO_TCP)) ||
	       (l4 == 17 && (r->protos & PROTO_UDP));
}

static bool port_matches(const struct port_set *ps, const struct packet *pkt)
{
	if (ps->any)
		return true;
	if (!pkt->has_dport)
		return false;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].lo <= pkt->dport && pkt->dport <= ps->v[i].hi)
			return true;
	return false;
}

void explain_host_notes(FILE *f, const struct policy *p,
			const struct packet *pkt, const struct rule *decider)
{
	size_t i, k, shown = 0;

	if (pkt->dir != DIR_OUT)
		return;
	for (i = 0; i < p->n_rules[DIR_OUT] && shown < 3; i++) {
		const struct rule *r = &p->rules[DIR_OUT][i];

		if (!r->to_hosts.n || r == decider ||
		    !proto_matches(r, pkt->l4proto) ||
		    !port_matches(&r->dport, pkt))
			continue;
		fprintf(f, "  note: rule %s (%s:%u) matches its hostnames (",
			r->name, r->loc.file, r->loc.line);
		for (k = 0; k < r->to_hosts.n && k < 3; k++)
			fprintf(f, "%s%s%s", k ? ", " : "",
				r->to_hosts.v[k].wildcard ? "*." : "",
				r->to_hosts.v[k].name);
		fprintf(f, "%s) only at addresses learned from DNS answers; this address is not one of them now\n",
			r->to_hosts.n > 3 ? ", ..." : "");
		shown++;
	}
}
