// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compare, part 1: the traffic space. Interval lists, interned lists,
 * atoms, and the boxes of a compiled model's rules (include/compare.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compare_priv.h"
#include "util.h"

/* ---- interval lists ---- */

void cmp_list_add(struct cmp_list *l, cmp_u128 lo, cmp_u128 hi)
{
	size_t i = l->n, j;

	/* the usual case: appended in order */
	if (l->n && l->v[l->n - 1].hi != CMP_MAX && l->v[l->n - 1].hi + 1 >= lo &&
	    l->v[l->n - 1].lo <= lo) {
		if (hi > l->v[l->n - 1].hi)
			l->v[l->n - 1].hi = hi;
		return;
	}
	if (!l->n || l->v[l->n - 1].hi < lo) {
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n].lo = lo;
		l->v[l->n].hi = hi;
		l->n++;
		return;
	}
	/* general case: insert, then merge neighbours */
	for (i = 0; i < l->n && l->v[i].lo < lo; i++)
		;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(*l->v));
	l->v[i].lo = lo;
	l->v[i].hi = hi;
	l->n++;
	for (i = 0, j = 1; j < l->n; j++) {
		if (l->v[i].hi == CMP_MAX || l->v[i].hi + 1 >= l->v[j].lo) {
			if (l->v[j].hi > l->v[i].hi)
				l->v[i].hi = l->v[j].hi;
		} else {
			l->v[++i] = l->v[j];
		}
	}
	l->n = i + 1;
}

size_t cmp_prefixes(cmp_u128 lo, cmp_u128 hi, unsigned int bits,
		    void (*fn)(cmp_u128 addr, unsigned int plen, void *arg),
		    void *arg)
{
	size_t n = 0;

	for (;;) {
		unsigned int k = 0;
		cmp_u128 last;

		/* the largest aligned block at lo that stays within hi */
		while (k < bits) {
			cmp_u128 size;

			if (k + 1 == 128) {
				if (lo == 0 && hi == CMP_MAX)
					k = 128;
				break;
			}
			size = (cmp_u128)1 << (k + 1);
			if ((lo & (size - 1)) || lo + size - 1 > hi)
				break;
			k++;
		}
		if (fn)
			fn(lo, bits - k, arg);
		n++;
		if (k == 128)
			break;
		last = lo + (((cmp_u128)1 << k) - 1);
		if (last >= hi)
			break;
		lo = last + 1;
	}
	return n;
}

/* a = a ∩ b */
static void list_intersect(struct cmp_list *a, const struct cmp_list *b)
{
	struct cmp_list r = { 0 };
	size_t i = 0, j = 0;

	while (i < a->n && j < b->n) {
		cmp_u128 lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
		cmp_u128 hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;

		if (lo <= hi)
			cmp_list_add(&r, lo, hi);
		if (a->v[i].hi < b->v[j].hi)
			i++;
		else
			j++;
	}
	free(a->v);
	*a = r;
}

/* the complement of @l within [0, @max] */
void cmp_list_complement(struct cmp_list *l, cmp_u128 max)
{
	struct cmp_list r = { 0 };
	cmp_u128 next = 0;
	bool done = false;
	size_t i;

	for (i = 0; i < l->n && !done; i++) {
		if (l->v[i].lo > next)
			cmp_list_add(&r, next, l->v[i].lo - 1);
		if (l->v[i].hi >= max)
			done = true;
		else
			next = l->v[i].hi + 1;
	}
	if (!done)
		cmp_list_add(&r, next, max);
	free(l->v);
	*l = r;
}

/* ---- interning ---- */

static uint64_t list_hash(const struct cmp_ival *v, size_t n)
{
	uint64_t h = 1469598103934665603ull ^ n;
	size_t i;

	for (i = 0; i < n; i++) {
		const uint64_t *w = (const uint64_t *)&v[i];
		int k;

		for (k = 0; k < 4; k++) {
			h ^= w[k];
			h *= 1099511628211ull;
			h ^= h >> 29;
		}
	}
	return h;
}

static void intern_grow(struct cmp_space *sp)
{
	size_t cap = sp->hcap ? sp->hcap * 2 : 1024, i;
	uint32_t *t = xmalloc(cap * sizeof(*t));

	memset(t, 0, cap * sizeof(*t));
	for (i = 1; i < sp->n_lists; i++) {
		size_t k = list_hash(sp->lists[i].v, sp->lists[i].n) & (cap - 1);

		while (t[k])
			k = (k + 1) & (cap - 1);
		t[k] = (uint32_t)i;
	}
	free(sp->htab);
	sp->htab = t;
	sp->hcap = cap;
}

uint32_t cmp_intern(struct cmp_space *sp, struct cmp_list *l)
{
	size_t k;

	if (!l->n) {
		free(l->v);
		l->v = NULL;
		return 0;
	}
	if ((sp->n_lists + 1) * 2 > sp->hcap)
		intern_grow(sp);
	k = list_hash(l->v, l->n) & (sp->hcap - 1);
	while (sp->htab[k]) {
		const struct cmp_list *o = &sp->lists[sp->htab[k]];

		if (o->n == l->n && !memcmp(o->v, l->v, l->n * sizeof(*l->v))) {
			free(l->v);
			l->v = NULL;
			l->n = 0;
			return sp->htab[k];
		}
		k = (k + 1) & (sp->hcap - 1);
	}
	if (!sp->n_lists) {
		struct cmp_list *any = ARRAY_PUSH(sp->lists, sp->n_lists, sp->cap_lists);

		any->v = NULL;	/* id 0: any */
		any->n = 0;
	}
	sp->htab[k] = (uint32_t)sp->n_lists;
	*ARRAY_PUSH(sp->lists, sp->n_lists, sp->cap_lists) = *l;
	l->v = NULL;
	l->n = 0;
	return sp->htab[k];
}

/* ---- atoms ---- */

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void atom_add(char ***v, size_t *n, const char *s)
{
	size_t i;

	for (i = 1; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
}

static const char *cg_norm(const char *s)
{
	while (*s == '/')
		s++;
	return s;
}

static void atoms_collect(struct cmp_atoms *a, const struct model *m)
{
	size_t c, r, k, e;

	for (c = 0; c < m->n_chains; c++)
		for (r = 0; r < m->chains[c].n_rules; r++) {
			const struct mrule *mr = &m->chains[c].rules[r];

			for (k = 0; k < mr->n_matches; k++) {
				const struct match *mt = &mr->matches[k];
				bool ifc = mt->key == KEY_IIFNAME || mt->key == KEY_OIFNAME;

				if (!ifc && mt->key != KEY_CGROUPV2)
					continue;
				if (mt->set < 0) {
					if (ifc)
						atom_add(&a->iface, &a->n_iface, mt->value.str);
					else
						atom_add(&a->cgroup, &a->n_cgroup,
							 cg_norm(mt->value.str));
					continue;
				}
				for (e = 0; e < m->sets[mt->set].n_elems; e++) {
					const char *s = m->sets[mt->set].elems[e].v[0].str;

					if (ifc)
						atom_add(&a->iface, &a->n_iface, s);
					else
						atom_add(&a->cgroup, &a->n_cgroup, cg_norm(s));
				}
			}
		}
}

static void atoms_init(struct cmp_atoms *a, const struct model *const *m,
		       size_t n)
{
	size_t i;

	a->iface = xmalloc(sizeof(*a->iface));
	a->iface[0] = xstrdup("");
	a->n_iface = 1;
	a->cgroup = xmalloc(sizeof(*a->cgroup));
	a->cgroup[0] = xstrdup("");
	a->n_cgroup = 1;
	atom_add(&a->iface, &a->n_iface, "lo");
	for (i = 0; i < n; i++)
		atoms_collect(a, m[i]);
	a->host = xmalloc(sizeof(*a->host));
	a->host[0] = xstrdup("");
	a->n_host = 1;
	for (i = 0; i < n; i++) {
		const struct policy *p = m[i]->policy;
		size_t r, k;

		for (r = 0; p && r < p->n_rules[DIR_OUT]; r++) {
			const struct rule *x = &p->rules[DIR_OUT][r];

			for (k = 0; k < x->to_hosts.n + x->not_to_hosts.n; k++) {
				const struct hostname *h = k < x->to_hosts.n ?
					&x->to_hosts.v[k] :
					&x->not_to_hosts.v[k - x->to_hosts.n];
				char *t = xasprintf("%s%s", h->wildcard ? "*." : "", h->name);

				atom_add(&a->host, &a->n_host, t);
				free(t);
			}
		}
	}
	qsort(a->iface + 1, a->n_iface - 1, sizeof(*a->iface), str_cmp);
	qsort(a->cgroup + 1, a->n_cgroup - 1, sizeof(*a->cgroup), str_cmp);
	qsort(a->host + 1, a->n_host - 1, sizeof(*a->host), str_cmp);
}

void cmp_atoms_release(struct cmp_atoms *a)
{
	size_t i;

	for (i = 0; i < a->n_iface; i++)
		free(a->iface[i]);
	for (i = 0; i < a->n_cgroup; i++)
		free(a->cgroup[i]);
	for (i = 0; i < a->n_host; i++)
		free(a->host[i]);
	free(a->iface);
	free(a->cgroup);
	free(a->host);
	memset(a, 0, sizeof(*a));
}

/* is interface atom @atom inside what rule name @name matches? */
static bool iface_atom_in(const char *atom, const char *name)
{
	size_t n = strlen(name), a = strlen(atom);

	if (!*atom)
		return false;		/* "any other": matches no named rule */
	if (!n || name[n - 1] != '*')
		return !strcmp(atom, name);	/* a literal only itself */
	/* a pattern p*: the literal atoms starting with p, the pattern
	 * atoms q* whose q starts with p */
	if (atom[a - 1] == '*')
		a--;
	return a >= n - 1 && !strncmp(atom, name, n - 1);
}

static bool cgroup_atom_in(const char *atom, const char *path)
{
	size_t n = strlen(path);

	if (!*atom)
		return false;
	return !strncmp(atom, path, n) && (atom[n] == '\0' || atom[n] == '/');
}

/* does "a.b" end with ".b"-style suffix @sfx (a label boundary)? */
static bool under(const char *name, const char *sfx)
{
	size_t n = strlen(name), k = strlen(sfx);

	return n > k + 1 && name[n - k - 1] == '.' && !strcmp(name + n - k, sfx);
}

/* is host atom @atom ("name" or "*.suffix") inside what @h matches?
 * A learned address is the name's the daemon saw asked: a literal rule
 * takes its own name, a wildcard rule `*.x` the names under x (an atom
 * `*.y` stands for names under y that no other atom names) */
static bool host_atom_in(const char *atom, const struct hostname *h)
{
	bool aw = !strncmp(atom, "*.", 2);

	if (!*atom)
		return false;
	if (!h->wildcard)
		return !aw && !strcmp(atom, h->name);
	if (aw)
		return !strcmp(atom + 2, h->name) || under(atom + 2, h->name);
	return under(atom, h->name);
}

/* the atoms of hostname list @l */
static void host_atoms(const struct cmp_space *sp, const struct host_list *l,
		       struct cmp_list *out)
{
	size_t a, k;

	for (a = 1; a < sp->atoms.n_host; a++)
		for (k = 0; k < l->n; k++)
			if (host_atom_in(sp->atoms.host[a], &l->v[k])) {
				cmp_list_add(out, a, a);
				break;
			}
}

/* ---- boxes ---- */

/* constraints of one rule being built: per dimension a list, or unset */
struct cons {
	struct cmp_list l[CD_N];
	bool set[CD_N];
	bool unsat;
};

static void cons_release(struct cons *c)
{
	int d;

	for (d = 0; d < CD_N; d++)
		free(c->l[d].v);
	memset(c, 0, sizeof(*c));
}

static void cons_copy(struct cons *dst, const struct cons *src)
{
	int d;

	*dst = *src;
	for (d = 0; d < CD_N; d++) {
		dst->l[d].v = NULL;
		if (src->l[d].n) {
			dst->l[d].v = xmalloc(src->l[d].n * sizeof(*src->l[d].v));
			memcpy(dst->l[d].v, src->l[d].v, src->l[d].n * sizeof(*src->l[d].v));
		}
	}
}

/* restrict dimension @d to @l (consumed) */
static void cons_and(struct cons *c, int d, struct cmp_list *l)
{
	if (!c->set[d]) {
		c->l[d] = *l;
		c->set[d] = true;
	} else {
		list_intersect(&c->l[d], l);
		free(l->v);
	}
	l->v = NULL;
	l->n = 0;
	if (!c->l[d].n)
		c->unsat = true;
}

static void cons_point(struct cons *c, int d, cmp_u128 v)
{
	struct cmp_list l = { 0 };

	cmp_list_add(&l, v, v);
	cons_and(c, d, &l);
}

cmp_u128 cmp_addr_max(int fam)
{
	return fam ? CMP_MAX : (cmp_u128)0xffffffffu;
}

cmp_u128 cmp_dim_max(const struct cmp_space *sp, int d, int fam)
{
	switch (d) {
	case CD_DIR:
	case CD_FAM:	return 1;
	case CD_PROTO:	return 255;
	case CD_REMOTE:
	case CD_LOCAL:	return cmp_addr_max(fam);
	case CD_DPORT:
	case CD_SPORT:	return 65535;
	case CD_IFACE:	return sp->atoms.n_iface - 1;
	case CD_CGROUP:	return sp->atoms.n_cgroup - 1;
	case CD_HOST:	return sp->atoms.n_host - 1;
	default:	return 0xffffffffu;
	}
}

static cmp_u128 addr_num(const struct cidr *c)
{
	cmp_u128 v = 0;
	int i, n = c->family == 6 ? 16 : 4;

	for (i = 0; i < n; i++)
		v = (v << 8) | c->addr[i];
	return v;
}

static void prefix_ival(const struct cidr *c, unsigned int plen, cmp_u128 *lo,
			cmp_u128 *hi)
{
	unsigned int bits = c->family == 6 ? 128 : 32;
	cmp_u128 host = plen >= bits ? 0 :
		(bits - plen == 128 ? CMP_MAX : (((cmp_u128)1 << (bits - plen)) - 1));

	*lo = addr_num(c) & ~host;
	*hi = *lo | host;
}

/* one match's values as a list of dimension @d (before negation) */
static void match_values(const struct cmp_space *sp, const struct model *m,
			 const struct match *mt, int d, bool reply_icmp,
			 struct cmp_list *out)
{
	const struct mset *s = mt->set >= 0 ? &m->sets[mt->set] : NULL;
	size_t n = s ? s->n_elems : 1, i, a;

	for (i = 0; i < n; i++) {
		const struct mvalue *v = s ? &s->elems[i].v[0] : &mt->value;
		cmp_u128 lo, hi;

		switch (mt->key) {
		case KEY_NFPROTO:
			cmp_list_add(out, v->num == 10, v->num == 10);
			break;
		case KEY_L4PROTO:
		case KEY_SKUID:
		case KEY_SKGID:
			cmp_list_add(out, v->num, v->num);
			break;
		case KEY_ICMP_TYPE:
		case KEY_ICMPV6_TYPE:
			if (!reply_icmp) {
				cmp_list_add(out, v->num, v->num);
			} else if (v->num == 0 && mt->key == KEY_ICMP_TYPE) {
				cmp_list_add(out, 8, 8);	/* echo reply */
			} else if (v->num == 129 && mt->key == KEY_ICMPV6_TYPE) {
				cmp_list_add(out, 128, 128);
			}
			break;
		case KEY_SADDR:
		case KEY_DADDR:
			prefix_ival(&v->prefix, mt->mask ? mt->mask : v->prefix.plen,
				    &lo, &hi);
			cmp_list_add(out, lo, hi);
			break;
		case KEY_SPORT:
		case KEY_DPORT:
			cmp_list_add(out, v->range.lo, v->range.hi);
			break;
		case KEY_IIFNAME:
		case KEY_OIFNAME:
			for (a = 1; a < sp->atoms.n_iface; a++)
				if (iface_atom_in(sp->atoms.iface[a], v->str))
					cmp_list_add(out, a, a);
			break;
		case KEY_CGROUPV2:
			for (a = 1; a < sp->atoms.n_cgroup; a++)
				if (cgroup_atom_in(sp->atoms.cgroup[a], cg_norm(v->str)))
					cmp_list_add(out, a, a);
			break;
		default:
			break;
		}
	}
	(void)d;
}

/*
 * Restrict @c by one match of a rule of chain @hook, for the connection
 * list @reply (the rule judges the reply). Return: 0 or -ENOTSUP.
 */
static int cons_match(struct cons *c, const struct cmp_space *sp,
		      const struct model *m, const struct match *mt,
		      enum mhook hook, enum direction cdir, bool reply,
		      const struct rule *origin, int by_name)
{
	struct cmp_list l = { 0 };
	int d = -1, fam = -1;
	bool in_hook = hook == HOOK_INPUT;
	/* the packet's source is the opener's address for the first packet
	 * (the remote end's when it opened towards us), the other end's for
	 * the reply; on lo a chain sees both, whatever its hook */
	bool src_remote = (cdir == DIR_IN) == !reply;
	/* a socket's owner is known on the way out from the socket of our
	 * side of the connection only */
	bool ours = (cdir == DIR_OUT) == !reply;

	switch (mt->key) {
	case KEY_NFPROTO:
		d = CD_FAM;
		break;
	case KEY_L4PROTO:
		d = CD_PROTO;
		break;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		/* iifname exists at input only, oifname at output only */
		if ((mt->key == KEY_IIFNAME) != in_hook) {
			c->unsat = true;
			return 0;
		}
		d = CD_IFACE;
		break;
	case KEY_SADDR:
	case KEY_DADDR:
		d = (mt->key == KEY_SADDR) == src_remote ? CD_REMOTE : CD_LOCAL;
		/* a set the daemon fills at run time (hostnames, SPEC §8):
		 * by name (include/compare.h) */
		if (mt->set >= 0 && m->sets[mt->set].timeout) {
			struct cmp_list h = { 0 };

			if (!origin || (!mt->negate && !origin->to_hosts.n) ||
			    (mt->negate && !origin->not_to_hosts.n))
				return -ENOTSUP;
			fam = mt->family == 6;
			cons_point(c, CD_FAM, (cmp_u128)fam);
			host_atoms(sp, mt->negate ? &origin->not_to_hosts :
				   &origin->to_hosts, &h);
			if (mt->negate) {
				/* neither a learned address nor a listed one */
				cmp_list_complement(&h, cmp_dim_max(sp, CD_HOST, 0));
				cons_and(c, CD_HOST, &h);
			} else if (by_name) {
				/* the names' learned addresses */
				cons_and(c, CD_HOST, &h);
				return 0;
			} else {
				free(h.v);	/* the listed addresses, below */
			}
			if (!m->sets[mt->set].n_elems) {
				if (!mt->negate)
					c->unsat = true;
				return 0;
			}
		}
		fam = (mt->set >= 0 ? mt->family : mt->value.prefix.family) == 6;
		break;
	case KEY_SPORT:
		d = reply ? CD_DPORT : CD_SPORT;
		break;
	case KEY_DPORT:
		d = reply ? CD_SPORT : CD_DPORT;
		break;
	case KEY_SKUID:
	case KEY_SKGID:
	case KEY_CGROUPV2:
		/* a socket only on the way out (SPEC: outbound only), and
		 * its owner only when it is ours (explain: the other local
		 * end's socket on lo has no owner it knows) */
		if (in_hook || !ours) {
			c->unsat = true;
			return 0;
		}
		d = mt->key == KEY_SKUID ? CD_UID : mt->key == KEY_SKGID ? CD_GID : CD_CGROUP;
		break;
	case KEY_CT_STATE: {
		uint32_t state = reply ? CT_STATE_ESTABLISHED : 0x8u;	/* new */
		bool hit = (mt->value.num & state) != 0;

		if (mt->set >= 0)
			return -ENOTSUP;
		if (hit == mt->negate)
			c->unsat = true;
		return 0;
	}
	case KEY_ICMP_TYPE:
	case KEY_ICMPV6_TYPE:
		fam = mt->key == KEY_ICMPV6_TYPE;
		cons_point(c, CD_PROTO, fam ? 58 : 1);
		d = CD_DPORT;
		break;
	default:
		return -ENOTSUP;
	}
	if (fam >= 0)
		cons_point(c, CD_FAM, (cmp_u128)fam);
	match_values(sp, m, mt, d, reply && (mt->key == KEY_ICMP_TYPE ||
					      mt->key == KEY_ICMPV6_TYPE), &l);
	if (mt->negate) {
		if (reply && (mt->key == KEY_ICMP_TYPE || mt->key == KEY_ICMPV6_TYPE)) {
			/* the reply of echo is 0/129: != S holds when that is
			 * not in S */
			struct cmp_list e = { 0 };

			cmp_list_add(&e, fam ? 128 : 8, fam ? 128 : 8);
			cmp_list_complement(&l, 255);
			list_intersect(&l, &e);
			free(e.v);
		} else {
			cmp_list_complement(&l, cmp_dim_max(sp, d, fam > 0));
		}
	}
	cons_and(c, d, &l);
	return 0;
}

static enum mverdict norm_verdict(enum mverdict v)
{
	return v == MV_REJECT_TCP ? MV_REJECT_ICMPX : v;
}

static uint64_t who_hash(const struct cmp_who *w)
{
	uint64_t h = (uint64_t)(uintptr_t)w->origin * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)(uintptr_t)w->label + ((uint64_t)w->dir << 40) +
	     ((uint64_t)w->verdict << 48);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 29);
}

/* the who of (rule, label, chain, verdict): one per distinct one, so
 * that the nft rules of one policy rule (one per protocol, per family,
 * per split set) merge into one region */
static uint32_t who_add(struct cmp_space *sp, const struct rule *origin,
			const char *label, enum direction dir, enum mverdict v)
{
	struct cmp_who w = { origin, origin ? NULL : label, dir, norm_verdict(v) };
	size_t k;

	if ((sp->n_who + 1) * 2 > sp->who_cap) {
		size_t cap = sp->who_cap ? sp->who_cap * 2 : 256, i;

		free(sp->who_tab);
		sp->who_tab = xcalloc(cap, sizeof(*sp->who_tab));
		sp->who_cap = cap;
		for (i = 0; i < sp->n_who; i++) {
			k = who_hash(&sp->who[i]) & (cap - 1);
			while (sp->who_tab[k])
				k = (k + 1) & (cap - 1);
			sp->who_tab[k] = (uint32_t)i + 1;
		}
	}
	k = who_hash(&w) & (sp->who_cap - 1);
	while (sp->who_tab[k]) {
		const struct cmp_who *o = &sp->who[sp->who_tab[k] - 1];

		if (o->origin == w.origin && o->label == w.label && o->dir == w.dir &&
		    o->verdict == w.verdict)
			return sp->who_tab[k] - 1;
		k = (k + 1) & (sp->who_cap - 1);
	}
	*ARRAY_PUSH(sp->who, sp->n_who, sp->cap_who) = w;
	sp->who_tab[k] = (uint32_t)sp->n_who;
	return (uint32_t)(sp->n_who - 1);
}

/* the finished constraints @c become one box of group @grp */
static void box_emit(struct cmp_space *sp, struct cons *c, int grp,
		     uint32_t who)
{
	struct cmp_box *b;
	int d, fam = -1;

	if (c->unsat)
		return;
	if (c->set[CD_FAM] && c->l[CD_FAM].n == 1 &&
	    c->l[CD_FAM].v[0].lo == c->l[CD_FAM].v[0].hi)
		fam = (int)c->l[CD_FAM].v[0].lo;
	b = ARRAY_PUSH(sp->boxes, sp->n_boxes, sp->cap_boxes);
	memset(b, 0, sizeof(*b));
	b->grp = (uint8_t)grp;
	b->who = who;
	for (d = 0; d < CD_N; d++) {
		if (!c->set[d])
			continue;
		/* the whole dimension is "any" */
		if (c->l[d].n == 1 && c->l[d].v[0].lo == 0 &&
		    (d == CD_REMOTE || d == CD_LOCAL ?
		     fam >= 0 && c->l[d].v[0].hi == cmp_addr_max(fam) :
		     c->l[d].v[0].hi == cmp_dim_max(sp, d, 0)))
			continue;
		b->dim[d] = cmp_intern(sp, &c->l[d]);
		if (b->dim[d])
			b->last = (uint8_t)d;
	}
}

static void folded_run(struct cmp_space *sp, const struct model *m,
		       const struct mrule *mr, const struct match *concat,
		       const struct cons *base, enum mhook hook, enum direction cdir,
		       bool reply, int grp)
{
	int fam = concat->family == 6;
	bool src_remote = (cdir == DIR_IN) == !reply;
	int addr_d = (m->sets[concat->set].keys[0] == KEY_SADDR) == src_remote ?
		     CD_REMOTE : CD_LOCAL;
	size_t i, k;

	for (i = 0; i < mr->origin_run; i++) {
		const struct rule *r = &mr->origin[i];
		const struct addr_set *remote = r->dir == DIR_OUT ? &r->to : &r->from;
		struct cons c;
		struct cmp_list l = { 0 };

		if (!(r->families & (fam ? FAM_V6 : FAM_V4)))
			continue;
		cons_copy(&c, base);
		cons_point(&c, CD_FAM, (cmp_u128)fam);
		if (r->protos & PROTO_TCP)
			cmp_list_add(&l, 6, 6);
		if (r->protos & PROTO_UDP)
			cmp_list_add(&l, 17, 17);
		cons_and(&c, CD_PROTO, &l);
		if (!r->dport.any) {
			for (k = 0; k < r->dport.n; k++)
				cmp_list_add(&l, r->dport.v[k].lo, r->dport.v[k].hi);
			cons_and(&c, reply ? CD_SPORT : CD_DPORT, &l);
		}
		if (!remote->any) {
			for (k = 0; k < remote->n; k++) {
				cmp_u128 lo, hi;

				if ((remote->v[k].family == 6) != fam)
					continue;
				prefix_ival(&remote->v[k], remote->v[k].plen, &lo, &hi);
				cmp_list_add(&l, lo, hi);
			}
			/* the folded set's address: inbound saddr, outbound
			 * daddr (the remote end's, off lo) */
			cons_and(&c, addr_d, &l);
		}
		box_emit(sp, &c, grp, who_add(sp, r, NULL, r->dir, mr->verdict));
		cons_release(&c);
	}
	(void)m;
	(void)hook;
}

/* the direction of the connections whose packet @reply crosses @hook:
 * off lo the chain of its way; @other: the other one (on lo a packet
 * crosses output, then input) */
static enum direction conn_dir(enum mhook hook, bool reply, bool other)
{
	return ((hook == HOOK_INPUT) != reply) != other ? DIR_IN : DIR_OUT;
}

/* the boxes of one chain rule for one connection direction */
static int rule_boxes_one(struct cmp_space *sp, const struct model *m,
			  const struct mrule *mr, enum mhook hook, int side,
			  bool reply, bool other, int by_name);

/* a rule with a positive lookup in a hostname set is two boxes: by name,
 * then by the addresses listed beside the names */
static int rule_boxes(struct cmp_space *sp, const struct model *m,
		      const struct mrule *mr, enum mhook hook, int side,
		      bool reply, bool other)
{
	size_t k;
	int ret;

	for (k = 0; k < mr->n_matches; k++) {
		const struct match *mt = &mr->matches[k];

		if ((mt->key == KEY_SADDR || mt->key == KEY_DADDR) && mt->set >= 0 &&
		    !mt->negate && m->sets[mt->set].timeout) {
			ret = rule_boxes_one(sp, m, mr, hook, side, reply, other, 1);
			if (ret < 0)
				return ret;
			break;
		}
	}
	return rule_boxes_one(sp, m, mr, hook, side, reply, other, 0);
}

static int rule_boxes_one(struct cmp_space *sp, const struct model *m,
			  const struct mrule *mr, enum mhook hook, int side,
			  bool reply, bool other, int by_name)
{
	enum direction cdir = conn_dir(hook, reply, other);
	int grp = side * CMP_LISTS + reply + (other ? GRP_OTHER : 0);
	const struct match *concat = NULL;
	struct cons c;
	size_t k;
	int ret;

	memset(&c, 0, sizeof(c));
	cons_point(&c, CD_DIR, cdir == DIR_OUT);
	if (other)
		cons_point(&c, CD_IFACE, sp->lo_atom);
	for (k = 0; k < mr->n_matches && !c.unsat; k++) {
		if (mr->matches[k].key == KEY_CONCAT) {
			concat = &mr->matches[k];
			continue;
		}
		ret = cons_match(&c, sp, m, &mr->matches[k], hook, cdir, reply,
				 mr->origin, by_name);
		if (ret < 0) {
			cons_release(&c);
			return ret;
		}
	}
	if (concat && !c.unsat) {
		if (!mr->origin_run || !mr->origin) {
			cons_release(&c);
			return -ENOTSUP;
		}
		folded_run(sp, m, mr, concat, &c, hook, cdir, reply, grp);
	} else {
		box_emit(sp, &c, grp, who_add(sp, mr->origin,
					      mr->origin ? NULL : mr->origin_name,
					      hook == HOOK_INPUT ? DIR_IN : DIR_OUT,
					      mr->verdict));
	}
	cons_release(&c);
	return 0;
}

int cmp_space_add(struct cmp_space *sp, const struct model *m, int side)
{
	int reply, other, ret;
	size_t c, r;

	for (other = 0; other < 2; other++)
		for (reply = 0; reply < 2; reply++) {
			for (c = 0; c < m->n_chains; c++) {
				const struct mchain *ch = &m->chains[c];
				enum direction dir = ch->hook == HOOK_INPUT ? DIR_IN : DIR_OUT;
				struct cons pol;

				/* chain dns (after input, policy accept) hands
				 * DNS answers to the daemon, which lets them
				 * go on: it decides nothing */
				if (model_find_chain(m, ch->hook) != ch)
					continue;

				for (r = 0; r < ch->n_rules; r++) {
					if (ch->rules[r].verdict == MV_NONE)
						continue;	/* log: goes on */
					ret = rule_boxes(sp, m, &ch->rules[r], ch->hook,
							 side, reply, other);
					if (ret < 0)
						return ret;
				}
				/* the chain's policy: everything that reaches it */
				memset(&pol, 0, sizeof(pol));
				cons_point(&pol, CD_DIR,
					   conn_dir(ch->hook, reply, other) == DIR_OUT);
				if (other)
					cons_point(&pol, CD_IFACE, sp->lo_atom);
				box_emit(sp, &pol, side * CMP_LISTS + reply +
					 (other ? GRP_OTHER : 0),
					 who_add(sp, NULL, "default", dir, ch->policy));
				cons_release(&pol);
			}
		}
	return 0;
}

void cmp_space_init(struct cmp_space *sp, const struct model *const *m,
		    size_t n)
{
	size_t i;

	memset(sp, 0, sizeof(*sp));
	atoms_init(&sp->atoms, m, n);
	for (i = 1; i < sp->atoms.n_iface; i++)
		if (!strcmp(sp->atoms.iface[i], "lo"))
			sp->lo_atom = (uint32_t)i;
}

static int box_order(const void *a, const void *b)
{
	const struct cmp_box *x = a, *y = b;

	if (x->grp != y->grp)
		return x->grp - y->grp;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cmp_space_finish(struct cmp_space *sp)
{
	size_t i;

	for (i = 0; i < sp->n_boxes; i++)
		sp->boxes[i].seq = (uint32_t)i;
	qsort(sp->boxes, sp->n_boxes, sizeof(*sp->boxes), box_order);
}

void cmp_space_release(struct cmp_space *sp)
{
	size_t i;

	for (i = 0; i < sp->n_lists; i++)
		free(sp->lists[i].v);
	free(sp->lists);
	free(sp->htab);
	free(sp->boxes);
	free(sp->who);
	free(sp->who_tab);
	cmp_atoms_release(&sp->atoms);
	memset(sp, 0, sizeof(*sp));
}
