// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lint: rules that can never match, because a field is empty, because
 * their exclusions take away everything they would match, or because an
 * earlier rule already decides all of their traffic (shadowed).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_lint.h"
#include "policy_values.h"
#include "util.h"

const char *chk_empty_field(const struct rule *r)
{
	if (!r->dport.any && !r->dport.n)
		return "port";
	if (!r->sport.any && !r->sport.n)
		return "sport";
	if (!r->from.any && !r->from.n)
		return "from";
	if (!r->to.any && !r->to.n && !r->to_hosts.n)
		return "to";
	return NULL;
}

/* ---- shadowed rules ------------------------------------------------- */

static bool ports_within(const struct port_set *in, const struct port_set *out)
{
	size_t i, j = 0;

	if (out->any)
		return true;
	if (in->any)
		return false;
	for (i = 0; i < in->n; i++) {
		while (j < out->n && out->v[j].hi < in->v[i].lo)
			j++;
		if (j == out->n || out->v[j].lo > in->v[i].lo ||
		    out->v[j].hi < in->v[i].hi)
			return false;
	}
	return true;
}

/* Prefix lists: every prefix of @in lies inside some prefix of @out. The
 * prefixes of a normalised list are disjoint, so the candidate is the last
 * one starting at or before the inner prefix. */
static bool prefixes_within(const struct cidr *in, size_t nin,
			    const struct cidr *out, size_t nout)
{
	size_t i;

	for (i = 0; i < nin; i++) {
		size_t lo = 0, hi = nout;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (chk_cidr_cmp(&out[mid], &in[i]) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || !cidr_contains(&out[lo - 1], &in[i]))
			return false;
	}
	return true;
}

static bool addrs_within(const struct addr_set *in, const struct addr_set *out)
{
	if (out->any)
		return true;
	if (in->any)
		return false;
	return prefixes_within(in->v, in->n, out->v, out->n);
}

/* First and last address of a prefix, in its family's length. */
static size_t prefix_range(const struct cidr *c, uint8_t lo[16], uint8_t hi[16])
{
	size_t len = c->family == 4 ? 4 : 16, i;

	memcpy(lo, c->addr, len);
	memcpy(hi, c->addr, len);
	for (i = c->plen; i < len * 8; i++)
		hi[i / 8] |= (uint8_t)(0x80u >> (i % 8));
	return len;
}

/* a += 1; false when it wrapped around */
static bool addr_inc(uint8_t *a, size_t len)
{
	while (len--)
		if (++a[len])
			return true;
	return false;
}

/*
 * Is every address of @p in the union of the normalised list @v (sorted,
 * none inside another)? Walk @v's prefixes in order from @p's first
 * address; a gap before @p's last address means no. So 0.0.0.0/1 and
 * 128.0.0.0/1 together cover 0.0.0.0/0.
 */
static bool union_covers(const struct cidr *p, const struct cidr *v, size_t n)
{
	uint8_t cur[16], last[16], lo[16], hi[16];
	size_t len = prefix_range(p, cur, last), i;

	for (i = 0; i < n; i++) {
		if (v[i].family != p->family)
			continue;
		prefix_range(&v[i], lo, hi);
		if (memcmp(hi, cur, len) < 0)
			continue;
		if (memcmp(lo, cur, len) > 0)
			return false;
		if (memcmp(hi, last, len) >= 0)
			return true;
		memcpy(cur, hi, len);
		if (!addr_inc(cur, len))
			return true;
	}
	return false;
}

/* Does @excl take away every address @pos allows, in @families? */
static bool excludes_all(const struct addr_set *pos, const struct addr_set *excl,
			 unsigned int families)
{
	struct cidr all[2];
	size_t n = 0, i, k;
	bool ok = true;

	if (!excl->n)
		return false;
	if (pos->any) {
		memset(all, 0, sizeof(all));
		if (families & FAM_V4)
			all[n++].family = 4;
		if (families & FAM_V6)
			all[n++].family = 6;
		for (i = 0; i < n; i++)
			if (!union_covers(&all[i], excl->v, excl->n))
				return false;
		return n > 0;
	}
	/* only the prefixes of the rule's families count */
	for (i = 0, k = 0; i < pos->n && ok; i++) {
		if (!(families & (pos->v[i].family == 4 ? FAM_V4 : FAM_V6)))
			continue;
		k++;
		ok = union_covers(&pos->v[i], excl->v, excl->n);
	}
	return ok && k;
}

const char *chk_excluded_all(const struct rule *r)
{
	if (excludes_all(&r->from, &r->not_from, r->families))
		return "not_from";
	/* learned addresses of `to` hostnames may lie outside not_to */
	if (!r->to_hosts.n && excludes_all(&r->to, &r->not_to, r->families))
		return "not_to";
	return NULL;
}

static bool ids_within(const struct id_set *in, const struct id_set *out)
{
	size_t i, j = 0;

	if (!out->n)
		return true;
	if (!in->n)
		return false;
	for (i = 0; i < in->n; i++) {
		while (j < out->n && out->v[j] < in->v[i])
			j++;
		if (j == out->n || out->v[j] != in->v[i])
			return false;
	}
	return true;
}

static bool str_within(const char *in, const char *out)
{
	return !out || (in && !strcmp(in, out));
}

/* Is every interface of @in matched by one of @out? "eth*" matches
 * "eth0" and "eth1*" alike. */
static bool ifaces_within(const struct iface_set *in, const struct iface_set *out)
{
	size_t i, j, len;

	if (!out->n)
		return true;
	if (!in->n)
		return false;
	for (i = 0; i < in->n; i++) {
		for (j = 0; j < out->n; j++) {
			len = strlen(out->v[j]);
			if (len && out->v[j][len - 1] == '*' ?
			    !strncmp(out->v[j], in->v[i], len - 1) :
			    !strcmp(out->v[j], in->v[i]))
				break;
		}
		if (j == out->n)
			return false;
	}
	return true;
}

/* Does @a (earlier) match every packet that @b matches? */
static bool rule_covers(const struct rule *a, const struct rule *b)
{
	if (!(a->protos & PROTO_ANY) &&
	    ((b->protos & PROTO_ANY) || (b->protos & ~a->protos)))
		return false;
	if (b->families & ~a->families)
		return false;
	/* what DNS teaches is unknown here: @b's hostnames reach past its
	 * listed addresses, @a's `not_to` hostnames take away from @a */
	if ((b->to_hosts.n && !a->to.any) || a->not_to_hosts.n)
		return false;
	return ports_within(&b->dport, &a->dport) &&
	       ports_within(&b->sport, &a->sport) &&
	       addrs_within(&b->from, &a->from) &&
	       addrs_within(&b->to, &a->to) &&
	       prefixes_within(a->not_from.v, a->not_from.n, b->not_from.v,
			       b->not_from.n) &&
	       prefixes_within(a->not_to.v, a->not_to.n, b->not_to.v,
			       b->not_to.n) &&
	       ids_within(&b->uids, &a->uids) &&
	       ids_within(&b->gids, &a->gids) &&
	       str_within(b->cgroup, a->cgroup) &&
	       ifaces_within(&b->ifaces, &a->ifaces);
}

static size_t port_sig(const struct port_set *s)
{
	size_t h = s->any ? 7 : 11, i;

	for (i = 0; i < s->n && i < 8; i++)
		h = h * 1000003u + (size_t)s->v[i].lo * 65537u + s->v[i].hi;
	return h;
}

#define SHADOW_BUDGET	500000u	/* pair checks per direction */
#define SHADOW_BUCKET	256u		/* candidates per list per rule */

/*
 * Compare each rule with earlier rules that could cover it: those matching
 * every port, and those with the same destination ports (found through a
 * hash), each list capped; then, while the budget lasts, every other
 * earlier rule. 10,000 rules stay in the millisecond range.
 */
void chk_lint_shadowed(struct ctx *c, enum direction dir)
{
	struct rule *rules = c->p->rules[dir];
	size_t n = c->p->n_rules[dir], nb, i, j, budget = SHADOW_BUDGET;
	size_t *head, *next, *wide, nwide = 0;

	if (n < 2)
		return;
	for (nb = 64; nb < n * 2; nb *= 2)
		;
	head = xmalloc(nb * sizeof(*head));
	next = xmalloc(n * sizeof(*next));
	wide = xmalloc(n * sizeof(*wide));
	for (i = 0; i < nb; i++)
		head[i] = SIZE_MAX;
	for (j = 0; j < n; j++) {
		const struct rule *b = &rules[j], *a = NULL;
		size_t h = port_sig(&b->dport) & (nb - 1), k, seen;

		if (chk_empty_field(b) || chk_excluded_all(b))
			goto index;
		for (k = nwide, seen = 0; k-- > 0 && seen < SHADOW_BUCKET; seen++)
			if (rule_covers(&rules[wide[k]], b)) {
				a = &rules[wide[k]];
				break;
			}
		for (k = head[h], seen = 0; !a && k != SIZE_MAX &&
		     seen < SHADOW_BUCKET; k = next[k], seen++)
			if (rule_covers(&rules[k], b))
				a = &rules[k];
		for (k = j; !a && k-- > 0 && budget; budget--)
			if (rule_covers(&rules[k], b))
				a = &rules[k];
		if (a)
			warn_at(c, &b->loc, "rule '%s' never matches: rule '%s' (%s:%u) above already decides all of its traffic",
				b->name, a->name, a->loc.file, a->loc.line);
index:
		if (b->dport.any) {
			wide[nwide++] = j;
		} else {
			next[j] = head[h];
			head[h] = j;
		}
	}
	free(head);
	free(next);
	free(wide);
}

/* ---- the host's ephemeral ports -------------------------------------- */

unsigned int policy_warn_ephemeral(const struct policy *p, unsigned int lo,
				   unsigned int hi, struct diag *d)
{
	const struct rule *r;
	unsigned int n = 0;
	size_t i, k;

	if (!lo || lo > hi || hi > 65535)
		return 0;
	for (i = 0; i < p->n_rules[DIR_OUT]; i++) {
		r = &p->rules[DIR_OUT][i];
		if (!r->sport_ephemeral.line || r->sport.any)
			continue;
		/* normalised: one range holds lo-hi, or some port is missed */
		for (k = 0; k < r->sport.n; k++)
			if (r->sport.v[k].lo <= lo && hi <= r->sport.v[k].hi)
				break;
		if (k < r->sport.n)
			continue;
		diag_add(d, DIAG_WARNING, &r->sport_ephemeral,
			 "rule '%s': sport 'ephemeral' is 49152-65535 (IANA), but this host's connections use source ports %u-%u (net.ipv4.ip_local_port_range); write sport: \"%u-65535\" to cover both",
			 r->name, lo, hi, lo < 49152 ? lo : 49152);
		n++;
	}
	return n;
}
