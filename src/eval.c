// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One packet through the model, as the kernel runs it: the chain of the
 * packet's hook, rules in order, all matches of a rule must hold, the first
 * rule with a verdict decides, log-only rules do not, then the chain policy.
 *
 * Like nft's implicit dependencies, an address match only holds for a
 * packet of its family, an icmp type match only for ICMP of the right
 * family. A field the caller does not know (has_src false, ...) fails
 * every match on it, negated or not: explain answers for "a packet about
 * which we know only this", never by guessing.
 */
#include <errno.h>
#include <string.h>

#include "eval.h"

#define NFPROTO_V4	2
#define NFPROTO_V6	10

static uint8_t pkt_family(const struct packet *p)
{
	return p->dst.family ? p->dst.family : p->src.family;
}

/* Can the kernel look at this field of this packet at all? */
static bool field_known(enum match_key key, uint8_t family,
			const struct packet *p)
{
	switch (key) {
	case KEY_NFPROTO:	return pkt_family(p) != 0;
	case KEY_IIFNAME:	return p->iif != NULL;
	case KEY_OIFNAME:	return p->oif != NULL;
	/* address matches carry nft's implicit `meta nfproto` dependency */
	case KEY_SADDR:		return p->has_src && p->src.family == family;
	case KEY_DADDR:		return p->dst.family && p->dst.family == family;
	case KEY_SPORT:		return p->has_sport;
	case KEY_DPORT:		return p->has_dport;
	case KEY_SKUID:		return p->has_uid;
	case KEY_SKGID:		return p->has_gid;
	case KEY_CGROUPV2:	return p->cgroup != NULL;
	case KEY_ICMP_TYPE:	return p->l4proto == 1 && pkt_family(p) == 4;
	case KEY_ICMPV6_TYPE:	return p->l4proto == 58 && pkt_family(p) == 6;
	case KEY_L4PROTO:
	case KEY_CT_STATE:	return true;
	case KEY_CONCAT:	break;
	}
	return false;
}

/* nft's interface names: "eth*" matches every name that starts "eth" */
static bool ifname_match(const char *pattern, const char *name)
{
	size_t n;

	if (!pattern)
		return false;
	n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return !strncmp(pattern, name, n - 1);
	return !strcmp(pattern, name);
}

/* Does one value hold? (the field is known) */
static bool value_match(enum match_key key, const struct mvalue *v,
			const struct packet *p)
{
	const char *s;
	size_t n;

	switch (key) {
	case KEY_NFPROTO:
		return v->num == (pkt_family(p) == 6 ? NFPROTO_V6 : NFPROTO_V4);
	case KEY_L4PROTO:
		return v->num == p->l4proto;
	case KEY_IIFNAME:
		return ifname_match(v->str, p->iif);
	case KEY_OIFNAME:
		return ifname_match(v->str, p->oif);
	case KEY_SADDR:
		return cidr_contains(&v->prefix, &p->src);
	case KEY_DADDR:
		return cidr_contains(&v->prefix, &p->dst);
	case KEY_SPORT:
		return v->range.lo <= p->sport && p->sport <= v->range.hi;
	case KEY_DPORT:
		return v->range.lo <= p->dport && p->dport <= v->range.hi;
	case KEY_SKUID:
		return v->num == p->uid;
	case KEY_SKGID:
		return v->num == p->gid;
	case KEY_CGROUPV2:
		if (!v->str)
			return false;
		/* `level N "path"`: the socket's cgroup is path or below it */
		s = p->cgroup;
		while (*s == '/')
			s++;
		n = strlen(v->str);
		return !strncmp(s, v->str, n) && (s[n] == '\0' || s[n] == '/');
	case KEY_CT_STATE:
		return (v->num & p->ct_state) != 0;
	case KEY_ICMP_TYPE:
	case KEY_ICMPV6_TYPE:
		return v->num == p->icmp_type;
	case KEY_CONCAT:
		break;
	}
	return false;
}

/*
 * A sorted set of non-overlapping prefixes (a block list of 100,000 CIDRs
 * is looked up once per socket by audit): the only candidate is the last
 * element that starts at or before the address.
 */
static int addr_set_search(const struct mset *s, const struct cidr *a,
			   const struct melem **elem)
{
	size_t lo = 0, hi = s->n_elems, mid;
	const struct cidr *c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = &s->elems[mid].v[0].prefix;
		if (c->family < a->family ||
		    (c->family == a->family && memcmp(c->addr, a->addr, 16) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !cidr_contains(&s->elems[lo - 1].v[0].prefix, a))
		return 0;
	*elem = &s->elems[lo - 1];
	return 1;
}

/* Is the packet in @s? 1 yes (*@elem the element), 0 no, -1 the lookup
 * cannot happen (a key field is unknown). @sel: the lookup's selector for
 * a one-key set (a set read back from the kernel only knows its data
 * type: an ifname set is `oifname` whichever lookup uses it), or
 * KEY_CONCAT to use the set's own keys. */
static int set_lookup(const struct mset *s, enum match_key sel,
		      uint8_t family, const struct packet *p,
		      const struct melem **elem)
{
	uint8_t fam = family ? family : s->family;
	enum match_key keys[MSET_MAX_KEYS];
	size_t i, k;

	*elem = NULL;
	for (k = 0; k < s->n_keys && k < MSET_MAX_KEYS; k++)
		keys[k] = s->n_keys == 1 && sel != KEY_CONCAT ? sel : s->keys[k];
	for (k = 0; k < s->n_keys; k++)
		if (!field_known(keys[k], fam, p))
			return -1;
	if (s->sorted && s->n_keys == 1 &&
	    (keys[0] == KEY_SADDR || keys[0] == KEY_DADDR))
		return addr_set_search(s, keys[0] == KEY_SADDR ? &p->src :
								 &p->dst, elem);
	for (i = 0; i < s->n_elems; i++) {
		for (k = 0; k < s->n_keys; k++)
			if (!value_match(keys[k], &s->elems[i].v[k], p))
				break;
		if (k == s->n_keys) {
			*elem = &s->elems[i];
			return 1;
		}
	}
	return 0;
}

/*
 * A masked lookup (`ip saddr & 255.255.255.0 @s`): the packet's address
 * cut to its first mt->mask bits (the rest zero) looked up in the set.
 */
static int masked_lookup(const struct model *m, const struct match *mt,
			 const struct packet *p, const struct melem **elem)
{
	struct packet q = *p;
	struct cidr *a = mt->key == KEY_SADDR ? &q.src : &q.dst;
	unsigned int i;

	*elem = NULL;
	if (mt->key != KEY_SADDR && mt->key != KEY_DADDR)
		return -1;
	for (i = mt->mask; i < 128; i++)
		a->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return set_lookup(&m->sets[mt->set], mt->key, mt->family, &q, elem);
}

static unsigned int proto_bit(uint8_t l4proto)
{
	switch (l4proto) {
	case 6:		return PROTO_TCP;
	case 17:	return PROTO_UDP;
	case 1:		return PROTO_ICMP;
	case 58:	return PROTO_ICMPV6;
	}
	return 0;
}

/* Does the folded ("simple", see compile.c) policy rule @r match? */
static bool simple_rule_match(const struct rule *r, const struct packet *p)
{
	const struct addr_set *remote = r->dir == DIR_OUT ? &r->to : &r->from;
	const struct cidr *addr = r->dir == DIR_OUT ? &p->dst : &p->src;
	size_t i;

	if (!(r->families & (pkt_family(p) == 6 ? FAM_V6 : FAM_V4)))
		return false;
	if (!(r->protos & proto_bit(p->l4proto)))
		return false;
	if (!remote->any) {
		if (r->dir == DIR_OUT ? !p->dst.family : !p->has_src)
			return false;
		for (i = 0; i < remote->n; i++)
			if (cidr_contains(&remote->v[i], addr))
				break;
		if (i == remote->n)
			return false;
	}
	if (!r->dport.any) {
		if (!p->has_dport)
			return false;
		for (i = 0; i < r->dport.n; i++)
			if (r->dport.v[i].lo <= p->dport &&
			    p->dport <= r->dport.v[i].hi)
				break;
		if (i == r->dport.n)
			return false;
	}
	return true;
}

static bool rule_match(const struct model *m, const struct mrule *r,
		       const struct packet *p, const struct rule **origin)
{
	const struct melem *elem;
	size_t i;
	int res;

	*origin = r->origin;
	/*
	 * A packet whose port is not given cannot be looked up in a folded
	 * set, yet the port-less rules folded into it match it when unfolded:
	 * answer for those rules, one by one. (A real packet always has a
	 * port, so this never disagrees with the kernel.)
	 */
	if (r->origin_run && r->origin && !p->has_dport) {
		for (i = 0; i < r->origin_run; i++)
			if (simple_rule_match(&r->origin[i], p)) {
				*origin = &r->origin[i];
				return true;
			}
		return false;
	}
	for (i = 0; i < r->n_matches; i++) {
		const struct match *mt = &r->matches[i];

		if (mt->set >= 0) {
			if ((size_t)mt->set >= m->n_sets)
				return false;
			res = mt->mask ? masked_lookup(m, mt, p, &elem) :
			      set_lookup(&m->sets[mt->set], mt->key, mt->family,
					 p, &elem);
			if (res > 0 && elem->origin && !mt->negate)
				*origin = elem->origin;
		} else {
			uint8_t fam = mt->family ? mt->family :
						   mt->value.prefix.family;

			res = field_known(mt->key, fam, p) ?
			      value_match(mt->key, &mt->value, p) : -1;
		}
		if (res < 0)
			return false;
		if (mt->negate)
			res = !res;
		if (!res)
			return false;
	}
	for (i = 0; i < r->origin_run && r->origin; i++)
		if (simple_rule_match(&r->origin[i], p)) {
			*origin = &r->origin[i];
			break;
		}
	return true;
}

int eval_packet(const struct model *m, const struct packet *pkt,
		struct eval_result *res)
{
	const struct mchain *c;
	const struct rule *origin;
	size_t i;

	memset(res, 0, sizeof(*res));
	c = model_find_chain(m, pkt->dir == DIR_OUT ? HOOK_OUTPUT : HOOK_INPUT);
	if (!c)
		return -ENOENT;
	for (i = 0; i < c->n_rules; i++) {
		const struct mrule *r = &c->rules[i];

		if (r->verdict == MV_NONE)
			continue;
		if (!rule_match(m, r, pkt, &origin))
			continue;
		res->verdict = r->verdict;
		res->rule = r;
		res->origin = r->origin_name ? NULL : origin;
		res->label = r->origin_name;
		if (!res->origin && !res->label)
			res->label = "rule";
		return 0;
	}
	res->verdict = c->policy;
	res->label = "default";
	return 0;
}

const char *mverdict_name(enum mverdict v)
{
	switch (v) {
	case MV_ACCEPT:
		return "accept";
	case MV_DROP:
		return "drop";
	case MV_REJECT_TCP:
	case MV_REJECT_ICMPX:
		return "reject";
	case MV_NONE:
		break;
	}
	return "none";
}
