// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Compiler: checked policy -> ruleset model.
 *
 * Compiled layout (the contract with nl_batch.c, render_nft.c, eval.c):
 *
 *  - One table `inet <policy.table>`. Named sets come first, in the order
 *    of their first use (input chain before output chain, rules in order),
 *    then chain `input` (hook input priority filter) and chain `output`
 *    (hook output priority filter). A chain's policy is accept when the
 *    direction's default is accept, else drop.
 *  - Each chain: `ct state established,related accept` (established: true);
 *    `iifname "lo" accept` / `oifname "lo" accept` (loopback: true); ICMP:
 *    essential = `icmp type @icmp_essential accept` and
 *    `icmpv6 type @icmpv6_essential accept` (sets shared by both chains),
 *    all = `meta l4proto icmp accept` + `meta l4proto ipv6-icmp accept`,
 *    none = nothing. Built-in rules have no counter and no comment; their
 *    origin_name is "established", "loopback" or "icmp".
 *  - Then the policy rules in order. One policy rule becomes one nft rule
 *    per (family variant x protocol): protocols are always expanded one per
 *    rule (`meta l4proto tcp`, `meta l4proto udp`, ...; no match for
 *    `any`); families are split when the rule has address matches (each
 *    variant holds the addresses of its family; a variant left with no
 *    address match of its own family gets `meta nfproto`), else one rule,
 *    with `meta nfproto` only when the rule is restricted to one family.
 *    Matches in this order: nfproto, l4proto, iifname/oifname, saddr,
 *    daddr, saddr !=, daddr !=, sport, dport, skuid, skgid, cgroupv2.
 *    One value is an inline match; more become a named set. A field that
 *    was one `$set` reference always uses the shared set `<ref>_v4` /
 *    `<ref>_v6` (addresses) or `<ref>` (ports). Other sets are named
 *    `<rule>_<field>[_v4|_v6]` with the rule name reduced to [A-Za-z0-9_]
 *    (`_2`, `_3`... appended on a clash).
 *  - Host split: an address set with both real prefixes and at least
 *    SPLIT_MIN_HOSTS single hosts (/32, /128) is two sets: `<name>`
 *    (`flags interval`, the prefixes) and `<name>_hosts` (a hash set, the
 *    hosts), because the kernel inserts hash elements much faster than
 *    interval ones. A positive match on it becomes two otherwise identical
 *    rules, first `@<name>_hosts` then `@<name>` (same counter, comment,
 *    origin; a split saddr and daddr give four); since the policy's lists
 *    never overlap, a packet matches at most one of them and first-match
 *    semantics are unchanged. A negated match stays one rule with
 *    `!= @<name>_hosts` then `!= @<name>`. Smaller sets stay one set.
 *  - Mask split (takes precedence over the host split): an address set
 *    of at least MASK_MIN_ELEMS elements of one family with at most
 *    MAX_PARTS distinct prefix lengths (not all hosts, no /0) is one hash
 *    set per length, longest first: `<name>_hosts` (the hosts, a plain
 *    lookup) and `<name>_p<N>` holding the network addresses of the /N
 *    prefixes, looked up as `ip saddr & <mask /N> @<name>_p<N>` (model:
 *    match.mask = N). The kernel inserts hash elements about twice as
 *    fast as interval ones. A positive match becomes one rule per set
 *    (saddr sets vary fastest when saddr and daddr are both split), a
 *    negated one one rule with a `!=` lookup in every set.
 *  - Every policy rule has `counter` and `comment "<name>"` (or
 *    "<name>: <comment>"), at most 127 bytes. `reject` is `reject with tcp
 *    reset` for tcp and `reject` (icmpx port-unreachable) otherwise; proto
 *    any gives two rules (`meta l4proto tcp ... reject with tcp reset`,
 *    then `... reject`). `log: true` puts before each rule a copy of its
 *    matches with `limit rate 5/minute burst 5 packets log prefix
 *    "portwarden <name>: "`, no counter, no verdict.
 *  - NFLOG (SPEC §9): every policy rule that drops or rejects has
 *    `counter log prefix "pw1 D DIR VERDICT NAME FILE:LINE" group G`
 *    before its verdict (G: the policy's `log_group`, default 1000; the
 *    prefix of include/logprefix.h), in the same rule so a packet costs
 *    no extra rule; an accepting rule with `log: true` has the same with
 *    KIND L. The default rules have it with NAME "default" and the
 *    location of `defaults.inbound`/`outbound` ("-" when built in).
 *  - Defaults: drop -> final `counter drop comment "default"`; reject ->
 *    `meta l4proto tcp counter reject with tcp reset comment "default"`
 *    then `counter reject comment "default"`; with `defaults.log` a log
 *    rule (prefix "portwarden <direction> default: ") comes first.
 *    These rules have origin_name "default".
 *  - Folding: a run of >= FOLD_MIN adjacent simple rules that accept
 *    becomes one rule per family,
 *    `ip daddr . meta l4proto . th dport @out_foldN_v4 counter accept`
 *    (inbound: `ip saddr`), whose set holds one element per (address,
 *    protocol, port range) with origin = its policy rule. Simple: protocols
 *    within tcp/udp, optional `port`, optional remote address (`to`
 *    outbound, `from` inbound), nothing else, action accept. Rules that
 *    drop are never folded: each carries its own NFLOG prefix, so that
 *    `monitor` names the exact rule from the prefix alone. A rule
 *    without address contributes 0.0.0.0/0 (::/0), without port 0-65535.
 *    The kernel (nft 1.0.6) refuses overlapping elements in concatenated
 *    interval sets, and since every element of one set has the same verdict
 *    the compiler removes overlaps without changing what matches: ranges of
 *    the same (address, protocol) merge, and the part of an element covered
 *    by a containing prefix's ranges is cut away. The folded rule keeps
 *    origin = the run's first policy rule and origin_run = its length, so
 *    that eval names the first rule of the run that matches, exactly. `flags interval` only when some element is a prefix or a
 *    port range (hash sets are faster).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_dns.h"
#include "logprefix.h"
#include "model.h"
#include "util.h"

#define FOLD_MIN	4
#define SPLIT_MIN_HOSTS	64
#define MASK_MIN_ELEMS	1024
#define MAX_PARTS	8
#define NAME_MAX_LEN	64
#define COMMENT_MAX	127
#define NFPROTO_V4	2
#define NFPROTO_V6	10
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17
#define IPPROTO_ICMP_	1
#define IPPROTO_ICMPV6_	58

/*
 * Set names already taken: an open-addressing hash of indexes into
 * model.sets, so that naming 10,000 sets stays linear.
 */
struct name_table {
	int *slot;		/* -1 when free */
	size_t cap;		/* power of two */
	size_t n;
};

/*
 * The sets an address field is compiled into: one (unsplit), hosts +
 * prefixes (host split) or one hash set per prefix length (mask split);
 * @mask: the match's mask per set (0: plain lookup).
 */
struct addr_parts {
	int idx[MAX_PARTS];
	uint8_t mask[MAX_PARTS];
	size_t n;
};

struct ref_set {
	const char *ref;
	uint8_t fam;		/* 0 for ports */
	int idx;
	struct addr_parts parts;	/* address sets */
};

struct compiler {
	const struct policy *p;
	struct model *m;
	struct diag *d;
	unsigned int fold_no[DIR_MAX];
	int icmp_set[2];
	struct ref_set *refs;
	size_t n_refs, cap_refs;
	struct name_table names;
	struct dns_rule_sets *dns;	/* per outbound rule; NULL: no hostnames */
};

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool name_taken(const struct compiler *cc, const char *name)
{
	const struct name_table *t = &cc->names;
	size_t i;

	if (!t->cap)
		return false;
	for (i = name_hash(name) & (t->cap - 1); t->slot[i] >= 0;
	     i = (i + 1) & (t->cap - 1))
		if (!strcmp(cc->m->sets[t->slot[i]].name, name))
			return true;
	return false;
}

static void name_insert(struct compiler *cc, int idx)
{
	struct name_table *t = &cc->names;
	size_t i, k;

	if ((t->n + 1) * 2 > t->cap) {
		struct name_table bigger = { 0 };

		bigger.cap = t->cap ? t->cap * 2 : 64;
		bigger.slot = xmalloc(bigger.cap * sizeof(*bigger.slot));
		for (i = 0; i < bigger.cap; i++)
			bigger.slot[i] = -1;
		for (k = 0; k < t->cap; k++) {
			if (t->slot[k] < 0)
				continue;
			i = name_hash(cc->m->sets[t->slot[k]].name) &
			    (bigger.cap - 1);
			while (bigger.slot[i] >= 0)
				i = (i + 1) & (bigger.cap - 1);
			bigger.slot[i] = t->slot[k];
		}
		bigger.n = t->n;
		free(t->slot);
		*t = bigger;
	}
	i = name_hash(cc->m->sets[idx].name) & (t->cap - 1);
	while (t->slot[i] >= 0)
		i = (i + 1) & (t->cap - 1);
	t->slot[i] = idx;
	t->n++;
}

/* ---- names ---------------------------------------------------------- */

static void sanitize(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; *src && i + 1 < len; src++) {
		char ch = *src;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_'))
			ch = '_';
		dst[i++] = ch;
	}
	dst[i] = '\0';
}

/* A new set named @base (or @base_2, _3...: the first free one). */
static int new_set(struct compiler *cc, const char *base)
{
	char name[NAME_MAX_LEN * 2];
	unsigned int n = 2;

	snprintf(name, sizeof(name), "%s", base);
	while (name_taken(cc, name))
		snprintf(name, sizeof(name), "%s_%u", base, n++);
	model_add_set(cc->m, name);
	name_insert(cc, (int)cc->m->n_sets - 1);
	return (int)cc->m->n_sets - 1;
}

/* Comments and log prefixes go into nft's quoted strings: no quotes, no
 * backslashes, no control characters; cut to @max bytes, not inside a
 * UTF-8 sequence. */
static char *clean_text(const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char *t;

	if (n > max) {
		n = max;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	t = xstrndup(s, n);
	for (i = 0; t[i]; i++)
		if (t[i] == '"' || t[i] == '\\' || (unsigned char)t[i] < 0x20 ||
		    t[i] == 0x7f)
			t[i] = '\'';
	return t;
}

static char *rule_comment(const struct rule *r)
{
	char *s, *c;

	if (r->comment && *r->comment)
		s = xasprintf("%s: %s", r->name, r->comment);
	else
		s = xstrdup(r->name);
	c = clean_text(s, COMMENT_MAX);
	free(s);
	return c;
}

/* ---- per-rule set cache --------------------------------------------- */

enum field {
	F_SADDR, F_DADDR, F_NOT_SADDR, F_NOT_DADDR, F_SPORT, F_DPORT,
	F_UID, F_GID, F_IFACE, F_MAX
};

static const char *const field_names[F_MAX] = {
	"saddr", "daddr", "not_saddr", "not_daddr", "sport", "dport",
	"uid", "gid", "iface",
};

/* Set index per field and family (index 0: no family / v4, 1: v6), -1
 * until made; @parts: the sets of an address field once made. */
struct rule_sets {
	int idx[F_MAX][2];
	struct addr_parts parts[F_MAX][2];
};

/* Shared $set references are found by (ref, family), never by set name,
 * so that a rule-named set can never be taken for a reference. */
static int find_ref_set(struct compiler *cc, const char *ref, uint8_t fam,
			struct addr_parts *parts)
{
	size_t i;

	for (i = 0; i < cc->n_refs; i++) {
		if (cc->refs[i].fam == fam && !strcmp(cc->refs[i].ref, ref)) {
			if (parts)
				*parts = cc->refs[i].parts;
			return cc->refs[i].idx;
		}
	}
	return -1;
}

static void remember_ref_set(struct compiler *cc, const char *ref,
			     uint8_t fam, int idx,
			     const struct addr_parts *parts)
{
	struct ref_set *rs = ARRAY_PUSH(cc->refs, cc->n_refs, cc->cap_refs);

	rs->ref = ref;
	rs->fam = fam;
	rs->idx = idx;
	memset(&rs->parts, 0, sizeof(rs->parts));
	if (parts)
		rs->parts = *parts;
}

static bool is_host(const struct cidr *c)
{
	return c->plen == (c->family == 4 ? 32 : 128);
}

/*
 * Fill @s with the addresses of family @fam in @a: all of them, or only
 * the real prefixes (@prefixes_only; the hosts go to fill_addr_len()).
 */
static void fill_addr_set(struct mset *s, enum match_key key,
			  const struct addr_set *a, uint8_t fam,
			  bool prefixes_only)
{
	size_t i;

	s->keys[0] = key;
	s->n_keys = 1;
	s->family = fam;
	for (i = 0; i < a->n; i++) {
		struct melem *e;

		if (a->v[i].family != fam)
			continue;
		if (prefixes_only && is_host(&a->v[i]))
			continue;
		e = mset_add_elem(s);
		e->v[0].prefix = a->v[i];
		if (!is_host(&a->v[i]))
			s->interval = true;
	}
	mset_sort(s);
}

/*
 * Fill the hash set @s with the addresses of family @fam and prefix
 * length @plen in @a, each as its network address (what a lookup of the
 * address masked to @plen bits finds).
 */
static void fill_addr_len(struct mset *s, enum match_key key,
			  const struct addr_set *a, uint8_t fam, uint8_t plen)
{
	size_t i;

	s->keys[0] = key;
	s->n_keys = 1;
	s->family = fam;
	for (i = 0; i < a->n; i++) {
		struct melem *e;

		if (a->v[i].family != fam || a->v[i].plen != plen)
			continue;
		e = mset_add_elem(s);
		e->v[0].prefix = a->v[i];
		e->v[0].prefix.plen = fam == 4 ? 32 : 128;
	}
	mset_sort(s);
}

static void fill_port_set(struct mset *s, enum match_key key,
			  const struct port_set *ps)
{
	size_t i;

	s->keys[0] = key;
	s->n_keys = 1;
	for (i = 0; i < ps->n; i++) {
		struct melem *e = mset_add_elem(s);

		e->v[0].range = ps->v[i];
		if (ps->v[i].lo != ps->v[i].hi)
			s->interval = true;
	}
	mset_sort(s);
}

static void fill_id_set(struct mset *s, enum match_key key,
			const struct id_set *ids)
{
	size_t i;

	s->keys[0] = key;
	s->n_keys = 1;
	for (i = 0; i < ids->n; i++)
		mset_add_elem(s)->v[0].num = ids->v[i];
	mset_sort(s);
}

static size_t count_family(const struct addr_set *a, uint8_t fam)
{
	size_t i, n = 0;

	for (i = 0; i < a->n; i++)
		n += a->v[i].family == fam;
	return n;
}

enum split_kind {
	SPLIT_NONE,
	SPLIT_HOSTS,	/* an interval set of prefixes + a hash set of hosts */
	SPLIT_MASK,	/* one hash set per prefix length */
};

/*
 * How is the set for the addresses of family @fam in @a split? A mask
 * split when it has at least MASK_MIN_ELEMS elements of at most MAX_PARTS
 * prefix lengths (and is not all hosts, already a hash set): @lens gets
 * the lengths, longest first. Else a host split when there are real
 * prefixes and at least SPLIT_MIN_HOSTS hosts. Small sets stay one
 * readable set. *@n: the number of sets (1, 2 or the number of lengths).
 */
static enum split_kind addr_split(const struct addr_set *a, uint8_t fam,
				  uint8_t lens[MAX_PARTS], size_t *n)
{
	size_t i, j, hosts = 0, prefixes = 0, nl = 0;
	bool many = false, zero = false;
	uint8_t l[MAX_PARTS], t;

	*n = 1;
	if (a->any)
		return SPLIT_NONE;
	for (i = 0; i < a->n; i++) {
		if (a->v[i].family != fam)
			continue;
		if (is_host(&a->v[i]))
			hosts++;
		else
			prefixes++;
		if (!a->v[i].plen)
			zero = true;
		for (j = 0; j < nl && l[j] != a->v[i].plen; j++)
			;
		if (j == nl) {
			if (nl == MAX_PARTS)
				many = true;
			else
				l[nl++] = a->v[i].plen;
		}
	}
	if (hosts + prefixes >= MASK_MIN_ELEMS && !many && !zero && prefixes) {
		/* longest first */
		for (i = 1; i < nl; i++)
			for (j = i; j > 0 && l[j - 1] < l[j]; j--) {
				t = l[j];
				l[j] = l[j - 1];
				l[j - 1] = t;
			}
		memcpy(lens, l, nl);
		*n = nl;
		return SPLIT_MASK;
	}
	if (prefixes && hosts >= SPLIT_MIN_HOSTS) {
		*n = 2;
		return SPLIT_HOSTS;
	}
	return SPLIT_NONE;
}

/* How many rules a positive match on @a (family @fam) needs. */
static size_t addr_rules(const struct addr_set *a, uint8_t fam)
{
	uint8_t lens[MAX_PARTS];
	size_t n;

	if (a->any || !count_family(a, fam))
		return 1;
	addr_split(a, fam, lens, &n);
	return n;
}

static const struct cidr *first_of_family(const struct addr_set *a,
					  uint8_t fam)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i].family == fam)
			return &a->v[i];
	return NULL;
}

/* ---- building one rule ---------------------------------------------- */

/* Make the sets of an address field named after @base (see
 * addr_split()) into @parts; returns the first one's index. */
static int make_addr_sets(struct compiler *cc, const char *base,
			  enum match_key key, const struct addr_set *a,
			  uint8_t fam, struct addr_parts *parts)
{
	char name[NAME_MAX_LEN * 2 + 16];
	uint8_t lens[MAX_PARTS];
	size_t n, i;
	int idx;

	memset(parts, 0, sizeof(*parts));
	switch (addr_split(a, fam, lens, &n)) {
	case SPLIT_NONE:
		idx = new_set(cc, base);
		fill_addr_set(&cc->m->sets[idx], key, a, fam, false);
		parts->idx[parts->n++] = idx;
		return idx;
	case SPLIT_HOSTS:
		idx = new_set(cc, base);
		fill_addr_set(&cc->m->sets[idx], key, a, fam, true);
		snprintf(name, sizeof(name), "%s_hosts", cc->m->sets[idx].name);
		parts->idx[parts->n++] = new_set(cc, name);
		fill_addr_len(&cc->m->sets[parts->idx[0]], key, a, fam,
			      fam == 4 ? 32 : 128);
		parts->idx[parts->n++] = idx;
		return idx;
	case SPLIT_MASK:
		for (i = 0; i < n; i++) {
			bool host = lens[i] == (fam == 4 ? 32 : 128);

			if (host)
				snprintf(name, sizeof(name), "%s_hosts", base);
			else
				snprintf(name, sizeof(name), "%s_p%u", base,
					 lens[i]);
			idx = new_set(cc, name);
			fill_addr_len(&cc->m->sets[idx], key, a, fam, lens[i]);
			parts->mask[parts->n] = host ? 0 : lens[i];
			parts->idx[parts->n++] = idx;
		}
		return parts->idx[0];
	}
	return -1;
}

/*
 * Add an address match for the prefixes of family @fam in @a (the caller
 * makes sure there is at least one): inline for one prefix, else the
 * $set's shared set or a set of the rule's own. A split set (see
 * addr_split()) is several sets: a negated match gets a `!=` lookup in
 * each, a positive one a lookup in the set number @sel.
 */
static void add_addr_match(struct compiler *cc, struct mrule *mr,
			   const struct rule *r, struct rule_sets *rs,
			   enum field f, enum match_key key, bool negate,
			   const struct addr_set *a, uint8_t fam, size_t sel)
{
	struct match *mt;
	int *slot = &rs->idx[f][fam == 6];
	struct addr_parts *parts = &rs->parts[f][fam == 6];
	char base[NAME_MAX_LEN * 2], rname[NAME_MAX_LEN];
	size_t i;

	if (*slot < 0 && !a->ref && count_family(a, fam) == 1) {
		mt = mrule_add_match(mr, key);
		mt->negate = negate;
		mt->family = fam;
		mt->value.prefix = *first_of_family(a, fam);
		return;
	}
	if (*slot < 0 && a->ref)
		*slot = find_ref_set(cc, a->ref, fam, parts);
	if (*slot < 0) {
		if (a->ref) {
			sanitize(rname, sizeof(rname), a->ref);
			snprintf(base, sizeof(base), "%s_v%u", rname, fam);
		} else {
			sanitize(rname, sizeof(rname), r->name);
			snprintf(base, sizeof(base), "%s_%s_v%u", rname,
				 field_names[f], fam);
		}
		*slot = make_addr_sets(cc, base, key, a, fam, parts);
		if (a->ref)
			remember_ref_set(cc, a->ref, fam, *slot, parts);
	}
	for (i = 0; i < parts->n; i++) {
		if (!negate && i != (sel < parts->n ? sel : 0))
			continue;
		mt = mrule_add_match(mr, key);
		mt->negate = negate;
		mt->family = fam;
		mt->set = parts->idx[i];
		mt->mask = parts->mask[i];
	}
}

static void add_port_match(struct compiler *cc, struct mrule *mr,
			   const struct rule *r, struct rule_sets *rs,
			   enum field f, enum match_key key,
			   const struct port_set *ps)
{
	struct match *mt;
	int *slot = &rs->idx[f][0];
	char base[NAME_MAX_LEN + 24], rname[NAME_MAX_LEN];

	if (ps->any)
		return;
	if (*slot < 0 && !ps->ref && ps->n == 1) {
		mt = mrule_add_match(mr, key);
		mt->value.range = ps->v[0];
		return;
	}
	if (*slot < 0 && ps->ref)
		*slot = find_ref_set(cc, ps->ref, 0, NULL);
	if (*slot < 0) {
		if (ps->ref) {
			sanitize(base, sizeof(base), ps->ref);
		} else {
			sanitize(rname, sizeof(rname), r->name);
			snprintf(base, sizeof(base), "%s_%s", rname,
				 field_names[f]);
		}
		*slot = new_set(cc, base);
		fill_port_set(&cc->m->sets[*slot], key, ps);
		if (ps->ref)
			remember_ref_set(cc, ps->ref, 0, *slot, NULL);
	}
	mt = mrule_add_match(mr, key);
	mt->set = *slot;
}

static void add_id_match(struct compiler *cc, struct mrule *mr,
			 const struct rule *r, struct rule_sets *rs,
			 enum field f, enum match_key key,
			 const struct id_set *ids)
{
	struct match *mt;
	int *slot = &rs->idx[f][0];
	char base[NAME_MAX_LEN + 24], rname[NAME_MAX_LEN];

	if (!ids->n)
		return;
	if (ids->n == 1) {
		mt = mrule_add_match(mr, key);
		mt->value.num = ids->v[0];
		return;
	}
	if (*slot < 0) {
		sanitize(rname, sizeof(rname), r->name);
		snprintf(base, sizeof(base), "%s_%s", rname, field_names[f]);
		*slot = new_set(cc, base);
		fill_id_set(&cc->m->sets[*slot], key, ids);
	}
	mt = mrule_add_match(mr, key);
	mt->set = *slot;
}

/* interface: one name inline (`iifname "eth0"`), more a set of type
 * ifname (`iifname @web_iface`), as nft writes `iifname { "a", "b" }` */
static void add_iface_match(struct compiler *cc, struct mrule *mr,
			    const struct rule *r, struct rule_sets *rs)
{
	enum match_key key = r->dir == DIR_IN ? KEY_IIFNAME : KEY_OIFNAME;
	int *slot = &rs->idx[F_IFACE][0];
	char base[NAME_MAX_LEN + 24], rname[NAME_MAX_LEN];
	struct match *mt;
	struct mset *s;
	size_t i;

	if (!r->ifaces.n)
		return;
	mt = mrule_add_match(mr, key);
	if (r->ifaces.n == 1) {
		mt->value.str = xstrdup(r->ifaces.v[0]);
		return;
	}
	if (*slot < 0) {
		sanitize(rname, sizeof(rname), r->name);
		snprintf(base, sizeof(base), "%s_%s", rname, field_names[F_IFACE]);
		*slot = new_set(cc, base);
		s = &cc->m->sets[*slot];
		s->keys[0] = key;
		s->n_keys = 1;
		for (i = 0; i < r->ifaces.n; i++)
			mset_add_elem(s)->v[0].str = xstrdup(r->ifaces.v[i]);
		mset_sort(s);
	}
	mt->set = *slot;
}

static unsigned int cgroup_level(const char *path)
{
	unsigned int n = 0;
	bool in = false;

	for (; *path; path++) {
		if (*path == '/') {
			in = false;
		} else if (!in) {
			in = true;
			n++;
		}
	}
	return n;
}

/* One family variant: @fam 4 or 6 with address matches of that family,
 * or 0 for a rule with no address match. A hostname rule (compile_dns.c)
 * has @to: the part of its `to` this variant matches (NULL: all of it),
 * @dns: its `to` set to look up instead (-1: none), @notdns: its `not_to`
 * set (-1: none). */
struct variant {
	uint8_t fam;
	bool need_nfproto;
	const struct addr_set *to;
	int dns, notdns;
};

/*
 * @sel: for a positive saddr (0) / daddr (1) field whose set is split,
 * which of its sets this rule looks up (see add_addr_match()).
 */
static void build_matches(struct compiler *cc, struct mrule *mr,
			  const struct rule *r, struct rule_sets *rs,
			  const struct variant *v, uint8_t l4proto,
			  const size_t sel[2])
{
	const struct addr_set *to = v->to ? v->to : &r->to;
	struct match *mt;

	if (v->need_nfproto) {
		mt = mrule_add_match(mr, KEY_NFPROTO);
		mt->value.num = v->fam == 4 ? NFPROTO_V4 : NFPROTO_V6;
	}
	if (l4proto) {
		mt = mrule_add_match(mr, KEY_L4PROTO);
		mt->value.num = l4proto;
	}
	add_iface_match(cc, mr, r, rs);
	if (v->fam) {
		if (!r->from.any && count_family(&r->from, v->fam))
			add_addr_match(cc, mr, r, rs, F_SADDR, KEY_SADDR, false,
				       &r->from, v->fam, sel[0]);
		if (v->dns >= 0) {
			mt = mrule_add_match(mr, KEY_DADDR);
			mt->family = v->fam;
			mt->set = v->dns;
		} else if (!to->any && count_family(to, v->fam)) {
			add_addr_match(cc, mr, r, rs, F_DADDR, KEY_DADDR, false,
				       to, v->fam, sel[1]);
		}
		if (count_family(&r->not_from, v->fam))
			add_addr_match(cc, mr, r, rs, F_NOT_SADDR, KEY_SADDR,
				       true, &r->not_from, v->fam, 0);
		if (count_family(&r->not_to, v->fam))
			add_addr_match(cc, mr, r, rs, F_NOT_DADDR, KEY_DADDR,
				       true, &r->not_to, v->fam, 0);
		if (v->notdns >= 0) {
			mt = mrule_add_match(mr, KEY_DADDR);
			mt->negate = true;
			mt->family = v->fam;
			mt->set = v->notdns;
		}
	}
	add_port_match(cc, mr, r, rs, F_SPORT, KEY_SPORT, &r->sport);
	add_port_match(cc, mr, r, rs, F_DPORT, KEY_DPORT, &r->dport);
	add_id_match(cc, mr, r, rs, F_UID, KEY_SKUID, &r->uids);
	add_id_match(cc, mr, r, rs, F_GID, KEY_SKGID, &r->gids);
	if (r->cgroup) {
		mt = mrule_add_match(mr, KEY_CGROUPV2);
		mt->value.str = xstrdup(r->cgroup);
		mt->value.num = cgroup_level(r->cgroup);
	}
}

static bool addr_field_has(const struct addr_set *a, uint8_t fam)
{
	return !a->any && count_family(a, fam);
}

/* Which family variants does @r need? Returns how many went into @v. */
static size_t rule_variants(const struct rule *r, struct variant v[2])
{
	bool has_addr = (!r->from.any || !r->to.any || r->not_from.n ||
			 r->not_to.n);
	size_t n = 0;
	uint8_t fam;

	if (!has_addr) {
		if ((r->families & FAM_BOTH) == FAM_BOTH) {
			v[n++] = (struct variant){ 0, false, NULL, -1, -1 };
		} else if (r->families & FAM_BOTH) {
			fam = (r->families & FAM_V4) ? 4 : 6;
			v[n++] = (struct variant){ fam, true, NULL, -1, -1 };
		}
		return n;
	}
	for (fam = 4; fam <= 6; fam += 2) {
		if (!(r->families & (fam == 4 ? FAM_V4 : FAM_V6)))
			continue;
		/* a positive address list without this family: no match */
		if ((!r->from.any && !count_family(&r->from, fam)) ||
		    (!r->to.any && !count_family(&r->to, fam)))
			continue;
		v[n++] = (struct variant){
			fam,
			!addr_field_has(&r->from, fam) &&
			!addr_field_has(&r->to, fam) &&
			!count_family(&r->not_from, fam) &&
			!count_family(&r->not_to, fam),
			NULL, -1, -1
		};
	}
	return n;
}

/* The NFLOG statement of SPEC §9 (include/logprefix.h): KIND D for what
 * drops or rejects, L for an accepting rule with `log: true`. */
static void set_nflog(const struct compiler *cc, struct mrule *mr, char kind,
		      enum direction dir, enum verdict v, const char *name,
		      const struct loc *loc)
{
	struct log_id id = { .kind = (enum logprefix_kind)kind, .dir = dir,
			     .verdict = v };
	char buf[LOGPREFIX_MAX + 1];

	snprintf(id.name, sizeof(id.name), "%s", name);
	if (loc && loc->file && loc->line)
		snprintf(id.at, sizeof(id.at), "%s:%u", loc->file, loc->line);
	logprefix_format(&id, buf);
	mr->nflog_prefix = xstrdup(buf);
	mr->nflog_group = cc->p->log_group;
}

/*
 * The variants of a hostname rule, per family: one that looks up the
 * `to` set (the learned and the single listed addresses), then one with
 * the prefixes listed beside the names in @prefixes (if any). A rule with
 * only `not_to` hostnames keeps its ordinary variants, each with the
 * `not_to` set added. Returns how many went into @v (at most 4).
 */
static size_t host_variants(struct compiler *cc, const struct rule *r,
			    const struct addr_set *prefixes,
			    struct variant v[4])
{
	const struct dns_rule_sets *ds = &cc->dns[r->index];
	size_t n = 0, i;
	uint8_t fam;

	if (!r->to_hosts.n) {
		n = rule_variants(r, v);
		for (i = 0; i < n; i++) {
			if (v[i].fam) {
				v[i].notdns = ds->not_to[v[i].fam == 6];
				if (v[i].notdns >= 0)
					v[i].need_nfproto = false;
				continue;
			}
			/* no address match at all: one rule per family */
			v[i] = (struct variant){ 4, false, NULL, -1,
						 ds->not_to[0] };
			v[n] = (struct variant){ 6, false, NULL, -1,
						 ds->not_to[1] };
			if (v[i].notdns < 0)
				v[i].need_nfproto = true;
			if (v[n].notdns < 0)
				v[n].need_nfproto = true;
			n++;
			break;
		}
		return n;
	}
	for (fam = 4; fam <= 6; fam += 2) {
		int k = fam == 6;

		if (ds->to[k] < 0 ||
		    (!r->from.any && !count_family(&r->from, fam)))
			continue;
		v[n++] = (struct variant){ fam, false, NULL, ds->to[k],
					   ds->not_to[k] };
		if (count_family(prefixes, fam))
			v[n++] = (struct variant){ fam, false, prefixes, -1,
						   ds->not_to[k] };
	}
	return n;
}

/* The rules of one (family variant, protocol, split selection): the log
 * copy when the rule logs, then the rule itself. */
static void emit_rule(struct compiler *cc, struct mchain *c,
		      const struct rule *r, struct rule_sets *rs,
		      const struct variant *v, uint8_t l4proto,
		      const size_t sel[2])
{
	size_t k;

	for (k = r->log ? 0 : 1; k < 2; k++) {
		struct mrule *mr = mchain_add_rule(c);

		mr->origin = r;
		mr->comment = rule_comment(r);
		build_matches(cc, mr, r, rs, v, l4proto, sel);
		if (!k) {
			char *s = xasprintf("portwarden %s: ", r->name);

			mr->log_prefix = clean_text(s, 127);
			free(s);
			continue;
		}
		mr->counter = true;
		if (r->action != VERDICT_ACCEPT || r->log)
			set_nflog(cc, mr, r->action != VERDICT_ACCEPT ?
				  LOGPREFIX_DENIED : LOGPREFIX_LOGGED,
				  r->dir, r->action, r->name, &r->loc);
		switch (r->action) {
		case VERDICT_ACCEPT:
			mr->verdict = MV_ACCEPT;
			break;
		case VERDICT_DROP:
			mr->verdict = MV_DROP;
			break;
		case VERDICT_REJECT:
			mr->verdict = l4proto == IPPROTO_TCP_ ?
				MV_REJECT_TCP : MV_REJECT_ICMPX;
			break;
		}
	}
}

static void compile_rule(struct compiler *cc, struct mchain *c,
			 const struct rule *r)
{
	static const struct { unsigned int bit; uint8_t num; } protos[] = {
		{ PROTO_TCP, IPPROTO_TCP_ }, { PROTO_UDP, IPPROTO_UDP_ },
		{ PROTO_ICMP, IPPROTO_ICMP_ }, { PROTO_ICMPV6, IPPROTO_ICMPV6_ },
	};
	struct rule_sets rs;
	struct variant v[4];
	struct addr_set prefixes = { 0 };
	uint8_t pl[6];
	size_t nv, np = 0, i, j, ns, nd, sel[2];

	memset(&rs, 0, sizeof(rs));
	memset(rs.idx, 0xff, sizeof(rs.idx));
	if (r->dir == DIR_OUT && cc->dns &&
	    (r->to_hosts.n || r->not_to_hosts.n)) {
		prefixes.v = xcalloc(r->to.n + 1, sizeof(*prefixes.v));
		for (i = 0; i < r->to.n; i++)
			if (!is_host(&r->to.v[i]))
				prefixes.v[prefixes.n++] = r->to.v[i];
		nv = host_variants(cc, r, &prefixes, v);
	} else {
		nv = rule_variants(r, v);
	}
	if (r->protos & PROTO_ANY) {
		if (r->action == VERDICT_REJECT)
			pl[np++] = IPPROTO_TCP_;
		pl[np++] = 0;
	} else {
		for (i = 0; i < ARRAY_SIZE(protos); i++)
			if (r->protos & protos[i].bit)
				pl[np++] = protos[i].num;
	}
	for (i = 0; i < nv; i++) {
		/* a split positive field: one rule per set of the split,
		 * hosts first (disjoint sets, same verdict) */
		ns = v[i].fam ? addr_rules(&r->from, v[i].fam) : 1;
		nd = v[i].fam && v[i].dns < 0 ?
		     addr_rules(v[i].to ? v[i].to : &r->to, v[i].fam) : 1;
		for (j = 0; j < np; j++)
			for (sel[1] = 0; sel[1] < nd; sel[1]++)
				for (sel[0] = 0; sel[0] < ns; sel[0]++)
					emit_rule(cc, c, r, &rs, &v[i], pl[j],
						  sel);
	}
	free(prefixes.v);
}

/* ---- folding -------------------------------------------------------- */

static bool rule_is_simple(const struct rule *r)
{
	const struct addr_set *local = r->dir == DIR_OUT ? &r->from : &r->to;

	return !(r->protos & ~(PROTO_TCP | PROTO_UDP)) && r->protos &&
	       !r->to_hosts.n && !r->not_to_hosts.n &&
	       local->any && r->sport.any && !r->not_from.n && !r->not_to.n &&
	       !r->uids.n && !r->gids.n && !r->cgroup && !r->ifaces.n &&
	       !r->log && (r->dport.any || r->dport.n) &&
	       r->action == VERDICT_ACCEPT;
}

/* A flat element of a fold under construction. */
struct felem {
	struct cidr pfx;
	uint8_t proto;
	struct port_range range;
	const struct rule *origin;
};

static int felem_cmp(const void *pa, const void *pb)
{
	const struct felem *a = pa, *b = pb;
	int c;

	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	c = memcmp(a->pfx.addr, b->pfx.addr, 16);
	if (c)
		return c;
	if (a->pfx.plen != b->pfx.plen)
		return a->pfx.plen < b->pfx.plen ? -1 : 1;
	if (a->range.lo != b->range.lo)
		return a->range.lo < b->range.lo ? -1 : 1;
	if (a->range.hi != b->range.hi)
		return a->range.hi < b->range.hi ? -1 : 1;
	if (a->origin != b->origin)
		return a->origin->index < b->origin->index ? -1 : 1;
	return 0;
}

struct fvec {
	struct felem *v;
	size_t n, cap;
};

static void fvec_push(struct fvec *fv, const struct felem *e)
{
	*ARRAY_PUSH(fv->v, fv->n, fv->cap) = *e;
}

static bool same_group(const struct felem *a, const struct felem *b)
{
	return a->proto == b->proto && a->pfx.plen == b->pfx.plen &&
	       !memcmp(a->pfx.addr, b->pfx.addr, 16);
}

/* Ancestor prefixes of the sweep: a group is [start, end) of @out. */
struct group {
	struct cidr pfx;
	size_t start, end;
};

/* Remove from @pieces (sorted, disjoint) what @cut (sorted, disjoint)
 * covers; result in @res. */
static void range_subtract(struct fvec *res, const struct fvec *pieces,
			   const struct felem *cut, size_t ncut)
{
	size_t i, j = 0;

	res->n = 0;
	for (i = 0; i < pieces->n; i++) {
		struct felem e = pieces->v[i];
		uint32_t lo = e.range.lo, hi = e.range.hi;

		while (j < ncut && cut[j].range.hi < lo)
			j++;
		for (size_t k = j; k < ncut && cut[k].range.lo <= hi &&
				    lo <= hi; k++) {
			if (cut[k].range.lo > lo) {
				e.range.lo = (uint16_t)lo;
				e.range.hi = (uint16_t)(cut[k].range.lo - 1);
				fvec_push(res, &e);
			}
			lo = (uint32_t)cut[k].range.hi + 1;
		}
		if (lo <= hi) {
			e.range.lo = (uint16_t)lo;
			e.range.hi = (uint16_t)hi;
			fvec_push(res, &e);
		}
	}
}

/* Make the elements of one family non-overlapping, see the top comment. */
static void fold_normalise(struct fvec *in, struct fvec *out)
{
	struct group stack[130];
	struct fvec pieces = { 0 }, tmp = { 0 }, swap;
	size_t depth = 0, i = 0, j, g;

	if (in->n)
		qsort(in->v, in->n, sizeof(*in->v), felem_cmp);
	out->n = 0;
	while (i < in->n) {
		size_t gstart = out->n;
		struct felem cur;

		if (i && in->v[i].proto != in->v[i - 1].proto)
			depth = 0;
		while (depth && !cidr_contains(&stack[depth - 1].pfx,
					       &in->v[i].pfx))
			depth--;
		/* merge the ranges of one (proto, prefix) group */
		pieces.n = 0;
		cur = in->v[i];
		for (j = i + 1; j < in->n && same_group(&in->v[j], &cur); j++) {
			if (in->v[j].range.lo <= cur.range.hi) {
				if (in->v[j].range.hi > cur.range.hi)
					cur.range.hi = in->v[j].range.hi;
				continue;
			}
			fvec_push(&pieces, &cur);
			cur = in->v[j];
		}
		fvec_push(&pieces, &cur);
		/* cut what containing prefixes already cover */
		for (g = 0; g < depth; g++) {
			range_subtract(&tmp, &pieces, &out->v[stack[g].start],
				       stack[g].end - stack[g].start);
			swap = tmp;
			tmp = pieces;
			pieces = swap;
		}
		for (g = 0; g < pieces.n; g++)
			fvec_push(out, &pieces.v[g]);
		if (depth < ARRAY_SIZE(stack)) {
			stack[depth].pfx = in->v[i].pfx;
			stack[depth].start = gstart;
			stack[depth].end = out->n;
			depth++;
		}
		i = j;
	}
	free(pieces.v);
	free(tmp.v);
}

static void fold_family(struct compiler *cc, struct mchain *c,
			const struct rule *run, size_t n, uint8_t fam)
{
	static const uint8_t l4[2] = { IPPROTO_TCP_, IPPROTO_UDP_ };
	static const struct port_range all_ports = { 0, 65535 };
	enum direction dir = run[0].dir;
	struct fvec in = { 0 }, out = { 0 };
	struct felem e;
	struct mset *s;
	struct mrule *mr;
	struct match *mt;
	char name[32], *cm;
	size_t i, a, p, q;
	int idx;

	for (i = 0; i < n; i++) {
		const struct rule *r = &run[i];
		const struct addr_set *remote = dir == DIR_OUT ? &r->to : &r->from;
		struct cidr any = { .family = fam, .plen = 0 };
		size_t na = remote->any ? 1 : remote->n;

		if (!(r->families & (fam == 4 ? FAM_V4 : FAM_V6)))
			continue;
		for (a = 0; a < na; a++) {
			const struct cidr *pfx = remote->any ? &any : &remote->v[a];

			if (pfx->family != fam)
				continue;
			for (p = 0; p < 2; p++) {
				if (!(r->protos & (p ? PROTO_UDP : PROTO_TCP)))
					continue;
				for (q = 0; q < (r->dport.any ? 1 : r->dport.n); q++) {
					e.pfx = *pfx;
					e.proto = l4[p];
					e.range = r->dport.any ? all_ports :
								r->dport.v[q];
					e.origin = r;
					fvec_push(&in, &e);
				}
			}
		}
	}
	fold_normalise(&in, &out);
	if (!out.n)
		goto out;
	snprintf(name, sizeof(name), "%s_fold%u_v%u",
		 dir == DIR_OUT ? "out" : "in", cc->fold_no[dir], fam);
	idx = new_set(cc, name);
	s = &cc->m->sets[idx];
	s->keys[0] = dir == DIR_OUT ? KEY_DADDR : KEY_SADDR;
	s->keys[1] = KEY_L4PROTO;
	s->keys[2] = KEY_DPORT;
	s->n_keys = 3;
	s->family = fam;
	for (i = 0; i < out.n; i++) {
		struct melem *me = mset_add_elem(s);

		me->v[0].prefix = out.v[i].pfx;
		me->v[1].num = out.v[i].proto;
		me->v[2].range = out.v[i].range;
		me->origin = out.v[i].origin;
		if (out.v[i].pfx.plen != (fam == 4 ? 32 : 128) ||
		    out.v[i].range.lo != out.v[i].range.hi)
			s->interval = true;
	}
	mset_sort(s);

	mr = mchain_add_rule(c);
	mt = mrule_add_match(mr, KEY_CONCAT);
	mt->set = idx;
	mt->family = fam;
	mr->counter = true;
	mr->verdict = run[0].action == VERDICT_DROP ? MV_DROP : MV_ACCEPT;
	mr->origin = &run[0];
	mr->origin_run = n;
	cm = xasprintf("fold: %.40s .. %.40s (%zu rules)", run[0].name,
		       run[n - 1].name, n);
	mr->comment = clean_text(cm, COMMENT_MAX);
	free(cm);
out:
	free(in.v);
	free(out.v);
}

/* ---- chains ----------------------------------------------------------- */

static struct mrule *builtin_rule(struct mchain *c, const char *label,
				  enum match_key key)
{
	struct mrule *mr = mchain_add_rule(c);

	mr->origin_name = label;
	mr->verdict = MV_ACCEPT;
	mrule_add_match(mr, key);
	return mr;
}

static int icmp_set(struct compiler *cc, bool v6)
{
	static const uint8_t t4[] = { 3, 11, 12, 8, 0 };
	static const uint8_t t6[] = { 1, 2, 3, 4, 128, 129, 133, 134, 135, 136 };
	const uint8_t *t = v6 ? t6 : t4;
	size_t n = v6 ? ARRAY_SIZE(t6) : ARRAY_SIZE(t4), i;
	struct mset *s;

	if (cc->icmp_set[v6] >= 0)
		return cc->icmp_set[v6];
	cc->icmp_set[v6] = new_set(cc, v6 ? "icmpv6_essential" :
					       "icmp_essential");
	s = &cc->m->sets[cc->icmp_set[v6]];
	s->keys[0] = v6 ? KEY_ICMPV6_TYPE : KEY_ICMP_TYPE;
	s->n_keys = 1;
	for (i = 0; i < n; i++)
		mset_add_elem(s)->v[0].num = t[i];
	mset_sort(s);
	return cc->icmp_set[v6];
}

static void compile_builtins(struct compiler *cc, struct mchain *c,
			     enum direction dir)
{
	const struct policy *p = cc->p;
	struct mrule *mr;
	int v6;

	if (p->established) {
		mr = builtin_rule(c, "established", KEY_CT_STATE);
		mr->matches[0].value.num = CT_STATE_ESTABLISHED |
					   CT_STATE_RELATED;
	}
	if (p->loopback) {
		mr = builtin_rule(c, "loopback",
				  dir == DIR_IN ? KEY_IIFNAME : KEY_OIFNAME);
		mr->matches[0].value.str = xstrdup("lo");
	}
	for (v6 = 0; v6 < 2; v6++) {
		if (p->icmp == ICMP_ESSENTIAL) {
			int idx = icmp_set(cc, v6);

			mr = builtin_rule(c, "icmp", v6 ? KEY_ICMPV6_TYPE :
							  KEY_ICMP_TYPE);
			mr->matches[0].set = idx;
		} else if (p->icmp == ICMP_ALL) {
			mr = builtin_rule(c, "icmp", KEY_L4PROTO);
			mr->matches[0].value.num = v6 ? IPPROTO_ICMPV6_ :
							IPPROTO_ICMP_;
		}
	}
}

static void compile_default(struct compiler *cc, struct mchain *c,
			    enum direction dir)
{
	enum verdict def = cc->p->def[dir];
	struct mrule *mr;

	if (def == VERDICT_ACCEPT)
		return;
	if (cc->p->log_default) {
		mr = mchain_add_rule(c);
		mr->origin_name = "default";
		mr->log_prefix = xasprintf("portwarden %s default: ",
					   direction_name(dir));
	}
	if (def == VERDICT_REJECT) {
		mr = mchain_add_rule(c);
		mr->origin_name = "default";
		mrule_add_match(mr, KEY_L4PROTO)->value.num = IPPROTO_TCP_;
		mr->counter = true;
		mr->verdict = MV_REJECT_TCP;
		mr->comment = xstrdup("default");
		set_nflog(cc, mr, LOGPREFIX_DENIED, dir, def, "default",
			  &cc->p->def_loc[dir]);
	}
	mr = mchain_add_rule(c);
	mr->origin_name = "default";
	mr->counter = true;
	set_nflog(cc, mr, LOGPREFIX_DENIED, dir, def, "default",
		  &cc->p->def_loc[dir]);
	mr->verdict = def == VERDICT_REJECT ? MV_REJECT_ICMPX : MV_DROP;
	mr->comment = xstrdup("default");
}

static void compile_chain(struct compiler *cc, enum direction dir)
{
	const struct policy *p = cc->p;
	const struct rule *rules = p->rules[dir];
	size_t n = p->n_rules[dir], i = 0, j;
	struct mchain *c;

	c = model_add_chain(cc->m, dir == DIR_IN ? "input" : "output",
			    dir == DIR_IN ? HOOK_INPUT : HOOK_OUTPUT, 0,
			    p->def[dir] == VERDICT_ACCEPT ? MV_ACCEPT : MV_DROP);
	compile_builtins(cc, c, dir);
	while (i < n) {
		j = i;
		while (j < n && rule_is_simple(&rules[j]) &&
		       rules[j].action == rules[i].action)
			j++;
		if (j - i >= FOLD_MIN) {
			cc->fold_no[dir]++;
			fold_family(cc, c, &rules[i], j - i, 4);
			fold_family(cc, c, &rules[i], j - i, 6);
			i = j;
			continue;
		}
		compile_rule(cc, c, &rules[i]);
		i++;
	}
	compile_default(cc, c, dir);
}

int compile_policy(const struct policy *p, struct model **out, struct diag *d)
{
	struct compiler cc = { .p = p, .d = d, .icmp_set = { -1, -1 } };

	*out = NULL;
	if (!p || !p->table)
		return -EINVAL;
	cc.m = model_new(p->table);
	cc.m->policy = p;
	cc.dns = compile_dns_sets(cc.m, p);
	for (size_t i = 0; i < cc.m->n_sets; i++)
		name_insert(&cc, (int)i);
	compile_chain(&cc, DIR_IN);
	compile_chain(&cc, DIR_OUT);
	compile_dns_chain(cc.m, p);
	free(cc.dns);
	free(cc.refs);
	free(cc.names.slot);
	*out = cc.m;
	return 0;
}
