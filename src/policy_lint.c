// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Normalisation of port and address lists, the shadowed-rule lint, the
 * policy destructor and the order of diagnostics.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_check.h"
#include "util.h"

static int range_cmp(const void *a, const void *b)
{
	const struct port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (x->hi > y->hi) - (x->hi < y->hi);
}

void chk_ports_normalise(struct port_set *s)
{
	size_t i, out = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), range_cmp);
	for (i = 1; i < s->n; i++) {
		struct port_range *last = &s->v[out];

		if ((unsigned int)s->v[i].lo <= (unsigned int)last->hi + 1) {
			if (s->v[i].hi > last->hi)
				last->hi = s->v[i].hi;
		} else {
			s->v[++out] = s->v[i];
		}
	}
	s->n = out + 1;
}

int chk_cidr_cmp(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;
	int r;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->family == 4) {
		uint32_t u = (uint32_t)x->addr[0] << 24 | (uint32_t)x->addr[1] << 16 |
			     (uint32_t)x->addr[2] << 8 | x->addr[3];
		uint32_t v = (uint32_t)y->addr[0] << 24 | (uint32_t)y->addr[1] << 16 |
			     (uint32_t)y->addr[2] << 8 | y->addr[3];

		if (u != v)
			return u < v ? -1 : 1;
		return (x->plen > y->plen) - (x->plen < y->plen);
	}
	r = memcmp(x->addr, y->addr, 16);
	if (r)
		return r;
	return (x->plen > y->plen) - (x->plen < y->plen);
}

/* Sorted, IPv4 before IPv6; a prefix inside the one kept before it goes. */
void chk_addrs_normalise(struct addr_set *s)
{
	size_t i, out = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(*s->v), chk_cidr_cmp);
	for (i = 1; i < s->n; i++)
		if (!cidr_contains(&s->v[out], &s->v[i]))
			s->v[++out] = s->v[i];
	s->n = out + 1;
}

const char *chk_empty_field(const struct rule *r)
{
	if (!r->dport.any && !r->dport.n)
		return "port";
	if (!r->sport.any && !r->sport.n)
		return "sport";
	if (!r->from.any && !r->from.n)
		return "from";
	if (!r->to.any && !r->to.n)
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

/* Does @a (earlier) match every packet that @b matches? */
static bool rule_covers(const struct rule *a, const struct rule *b)
{
	if (!(a->protos & PROTO_ANY) &&
	    ((b->protos & PROTO_ANY) || (b->protos & ~a->protos)))
		return false;
	if (b->families & ~a->families)
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
	       str_within(b->iface, a->iface);
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

		if (chk_empty_field(b))
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

/* ---- the whole run -------------------------------------------------- */

/*
 * A field that was exactly one $set shares that set's elements (a
 * 110,000-prefix set used by ten rules is stored once). Compare pointers
 * rather than trusting @ref, so a hand-built policy with @ref set and its
 * own array is freed completely too. @shared: the sets' arrays, sorted.
 */
struct shared {
	const void **v;
	size_t n;
};

static int ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(const void *const *)a;
	uintptr_t y = (uintptr_t)*(const void *const *)b;

	return (x > y) - (x < y);
}

static bool is_shared(const struct shared *sh, const void *v)
{
	return v && bsearch(&v, sh->v, sh->n, sizeof(*sh->v), ptr_cmp);
}

static void free_port_set(const struct shared *sh, struct port_set *s)
{
	if (!s->ref || !is_shared(sh, s->v))
		free(s->v);
}

static void free_addr_set(const struct shared *sh, struct addr_set *s)
{
	if (!s->ref || !is_shared(sh, s->v))
		free(s->v);
}

void policy_free(struct policy *p)
{
	struct shared sh = { 0 };
	size_t i, k;

	if (!p)
		return;
	sh.v = xcalloc(2 * p->n_sets + 1, sizeof(*sh.v));
	for (i = 0; i < p->n_sets; i++) {
		if (p->sets[i].ports.v)
			sh.v[sh.n++] = p->sets[i].ports.v;
		if (p->sets[i].addrs.v)
			sh.v[sh.n++] = p->sets[i].addrs.v;
	}
	qsort(sh.v, sh.n, sizeof(*sh.v), ptr_cmp);
	for (k = 0; k < DIR_MAX; k++) {
		for (i = 0; i < p->n_rules[k]; i++) {
			struct rule *r = &p->rules[k][i];

			free(r->name);
			free_port_set(&sh, &r->dport);
			free_port_set(&sh, &r->sport);
			free_addr_set(&sh, &r->from);
			free_addr_set(&sh, &r->to);
			free_addr_set(&sh, &r->not_from);
			free_addr_set(&sh, &r->not_to);
			free(r->uids.v);
			free(r->gids.v);
			free(r->cgroup);
			free(r->iface);
			free(r->comment);
		}
		free(p->rules[k]);
	}
	for (i = 0; i < p->n_listeners; i++) {
		free_port_set(&sh, &p->listeners[i].ports);
		free(p->listeners[i].process);
	}
	free(p->listeners);
	for (i = 0; i < p->n_sets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].ports.v);
		free(p->sets[i].addrs.v);
	}
	free(p->sets);
	free(sh.v);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->table);
	free(p);
}

struct diag_key {
	size_t file, index;
	unsigned int line, col;
	struct diag_entry e;
};

static int diag_key_cmp(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

void policy_sort_diags(struct diag *d, size_t start,
		       struct yaml_tree *const *trees, size_t n_trees)
{
	size_t n = d->n - start, i, f;
	struct diag_key *k;

	if (n < 2)
		return;
	k = xmalloc(n * sizeof(*k));
	for (i = 0; i < n; i++) {
		const struct diag_entry *e = &d->v[start + i];

		f = 0;
		if (e->file)
			for (f = 0; f < n_trees; f++)
				if (!strcmp(trees[f]->file, e->file))
					break;
		k[i].file = e->file ? f : SIZE_MAX;	/* notes last */
		k[i].index = i;
		k[i].line = e->loc.line;
		k[i].col = e->loc.col;
		k[i].e = *e;
	}
	qsort(k, n, sizeof(*k), diag_key_cmp);
	for (i = 0; i < n; i++)
		d->v[start + i] = k[i].e;
	free(k);
}

