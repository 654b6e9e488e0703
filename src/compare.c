// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compare, part 2: the decision. Splits the traffic space dimension by
 * dimension over the boxes of both policies (compare_space.c), decides
 * each cell by first match, and merges the cells whose verdicts differ
 * into regions (include/compare.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compare_priv.h"
#include "util.h"

/* what the cells above a node fixed */
enum pkind {
	PK_NONE,	/* not known yet, or a protocol with no ports */
	PK_PORTED,	/* tcp, udp: the reply exists */
	PK_ICMP4,
	PK_ICMP6,
};

struct ctx {
	int fam;		/* -1: not fixed */
	enum pkind pk;
	bool proto_known, type_known;
	bool echo;		/* ICMP echo request: it has a reply */
	bool loop;		/* an address is a loopback one: on lo */
	int dir;		/* -1: not fixed, else DIR_IN / DIR_OUT */
	bool rloop;		/* the remote address is a loopback one */
	int ifc;		/* -1: not cut yet, 1: on lo, 0: another interface */
};

struct item {
	uint32_t dim[CD_N];
	uint32_t w[2];		/* deciding who, old and new */
};

struct items {
	struct item *v;
	size_t n, cap;
};

struct solver {
	struct cmp_space *sp;
	uint32_t lo_atom;
	size_t nodes;
};

static const struct cmp_box *B(const struct solver *s, uint32_t i)
{
	return &s->sp->boxes[i];
}

static enum mverdict W(const struct solver *s, uint32_t who)
{
	return s->sp->who[who].verdict;
}

/* the first box of each group in @b (UINT32_MAX: none) */
static void heads(const struct solver *s, const uint32_t *b, size_t n,
		  uint32_t h[CMP_GROUPS])
{
	size_t i;

	for (i = 0; i < CMP_GROUPS; i++)
		h[i] = UINT32_MAX;
	for (i = 0; i < n; i++)
		if (h[B(s, b[i])->grp] == UINT32_MAX)
			h[B(s, b[i])->grp] = b[i];
}

/*
 * One packet through two chains in order (@a then @b; UINT32_MAX: the
 * packet does not cross it): the first that does not accept decides,
 * else @own's accept is the one named.
 */
static uint32_t two_chains(const struct solver *s, uint32_t a, uint32_t b,
			   uint32_t own)
{
	uint32_t wa = a == UINT32_MAX ? UINT32_MAX : B(s, a)->who;
	uint32_t wb = b == UINT32_MAX ? UINT32_MAX : B(s, b)->who;

	if (wa == UINT32_MAX)
		return wb;
	if (wb == UINT32_MAX)
		return wa;
	if (W(s, wa) != MV_ACCEPT)
		return wa;
	if (W(s, wb) != MV_ACCEPT)
		return wb;
	return B(s, own)->who;
}

/* explain's verdict for one side: the first packet's deciding rule,
 * unless it is accepted and the reply is not. On lo (the GRP_OTHER
 * lists are live) each packet crosses output, then input. */
static uint32_t side_who(const struct solver *s, const uint32_t h[CMP_GROUPS],
			 int side, bool has_reply, int dir)
{
	const uint32_t *g = &h[side * CMP_LISTS];
	uint32_t of = g[GRP_FIRST], orp = g[GRP_REPLY];
	uint32_t xf = g[GRP_OTHER + GRP_FIRST], xr = g[GRP_OTHER + GRP_REPLY];
	uint32_t f, r;

	f = dir == DIR_IN ? two_chains(s, xf, of, of) : two_chains(s, of, xf, of);
	if (W(s, f) != MV_ACCEPT || !has_reply)
		return f;
	r = dir == DIR_IN ? two_chains(s, orp, xr, orp) : two_chains(s, xr, orp, orp);
	return W(s, r) != MV_ACCEPT ? r : f;
}

static void leaf(const struct solver *s, const uint32_t h[CMP_GROUPS],
		 bool has_reply, int dir, struct items *out)
{
	uint32_t o = side_who(s, h, 0, has_reply, dir);
	uint32_t n = side_who(s, h, 1, has_reply, dir);
	struct item *it;

	if (W(s, o) == W(s, n))
		return;
	it = ARRAY_PUSH(out->v, out->n, out->cap);
	memset(it, 0, sizeof(*it));
	it->w[0] = o;
	it->w[1] = n;
}

static bool ctx_has_reply(const struct ctx *c)
{
	return c->pk == PK_PORTED || ((c->pk == PK_ICMP4 || c->pk == PK_ICMP6) && c->echo);
}

/* do the old and new lists decide alike everywhere below? (the same
 * verdicts over the same boxes, list for list) */
static bool lists_equal(const struct solver *s, const uint32_t *b, size_t n,
			int d)
{
	size_t st[CMP_GROUPS + 1] = { 0 }, i, g;

	for (i = 0; i < n; i++)
		st[B(s, b[i])->grp + 1]++;
	for (g = 1; g <= CMP_GROUPS; g++)
		st[g] += st[g - 1];
	for (g = 0; g < CMP_LISTS; g++) {
		size_t a = st[g], a_end = st[g + 1];
		size_t c = st[g + CMP_LISTS], c_end = st[g + CMP_LISTS + 1];

		if (a_end - a != c_end - c)
			return false;
		for (; a < a_end; a++, c++) {
			const struct cmp_box *x = B(s, b[a]), *y = B(s, b[c]);

			if (W(s, x->who) != W(s, y->who) ||
			    memcmp(&x->dim[d], &y->dim[d], (CD_N - d) * sizeof(x->dim[0])))
				return false;
		}
	}
	return true;
}

static void dim_domain(const struct solver *s, int d, const struct ctx *c,
		       cmp_u128 *lo, cmp_u128 *hi)
{
	*lo = 0;
	*hi = cmp_dim_max(s->sp, d, c->fam > 0);
	if (d == CD_DPORT && (c->pk == PK_ICMP4 || c->pk == PK_ICMP6))
		*hi = 255;
}

static int u128_cmp(const void *a, const void *b)
{
	cmp_u128 x = *(const cmp_u128 *)a, y = *(const cmp_u128 *)b;

	return x < y ? -1 : x > y;
}

/* cuts the dimension always has, so that a cell never straddles what
 * changes the rules' meaning (ICMP, ports, echo, loopback) */
static size_t fixed_cuts(int d, const struct ctx *c, uint32_t lo_atom,
			 cmp_u128 *v)
{
	size_t n = 0;

	switch (d) {
	case CD_IFACE:
		v[n++] = lo_atom;
		v[n++] = (cmp_u128)lo_atom + 1;
		break;
	case CD_FAM:
		v[n++] = 1;
		break;
	case CD_PROTO:
		v[n++] = 1; v[n++] = 2; v[n++] = 6; v[n++] = 7;
		v[n++] = 17; v[n++] = 18; v[n++] = 58; v[n++] = 59;
		break;
	case CD_DPORT:
		if (c->pk == PK_ICMP4 || c->pk == PK_ICMP6) {
			v[n++] = c->pk == PK_ICMP4 ? 8 : 128;
			v[n++] = c->pk == PK_ICMP4 ? 9 : 129;
		}
		break;
	case CD_REMOTE:
	case CD_LOCAL:
		if (c->fam == 0) {
			v[n++] = (cmp_u128)127 << 24;
			v[n++] = (cmp_u128)128 << 24;
		} else {
			v[n++] = 1;
			v[n++] = 2;
		}
		break;
	}
	return n;
}

static bool is_loopback(int fam, cmp_u128 lo, cmp_u128 hi)
{
	if (fam == 0)
		return lo >= ((cmp_u128)127 << 24) && hi < ((cmp_u128)128 << 24);
	return lo == 1 && hi == 1;
}

/*
 * a cell no packet can be in: ICMP in the other family (explain refuses
 * it), and a packet from a loopback address to another host (the kernel
 * does not route it; explain would put it on lo by the output chain
 * alone, while every other connection on lo crosses both chains)
 */
static bool infeasible(int d, const struct ctx *c, cmp_u128 lo, cmp_u128 hi)
{
	/* a loopback address travels on lo only */
	if ((d == CD_REMOTE || d == CD_LOCAL) && c->ifc == 0 &&
	    is_loopback(c->fam, lo, hi))
		return true;
	if (d == CD_LOCAL && c->dir == DIR_OUT && !c->rloop &&
	    is_loopback(c->fam, lo, hi))
		return true;
	if (d != CD_PROTO || lo != hi)
		return false;
	return (c->fam == 0 && lo == 58) || (c->fam == 1 && lo == 1);
}

static struct ctx child_ctx(int d, const struct ctx *c, uint32_t lo_atom,
			     cmp_u128 lo, cmp_u128 hi)
{
	struct ctx k = *c;

	switch (d) {
	case CD_IFACE:
		k.ifc = lo == hi && lo == lo_atom ? 1 :
			lo <= lo_atom && lo_atom <= hi ? -1 : 0;
		break;
	case CD_DIR:
		k.dir = lo == hi ? (int)lo : -1;	/* 0 in, 1 out */
		break;
	case CD_FAM:
		k.fam = (int)lo;
		break;
	case CD_PROTO:
		k.proto_known = true;
		k.pk = PK_NONE;
		if (lo == hi && (lo == 6 || lo == 17))
			k.pk = PK_PORTED;
		else if (lo == hi && lo == 1)
			k.pk = PK_ICMP4;
		else if (lo == hi && lo == 58)
			k.pk = PK_ICMP6;
		break;
	case CD_DPORT:
		k.type_known = true;
		k.echo = lo == hi && ((c->pk == PK_ICMP4 && lo == 8) ||
				      (c->pk == PK_ICMP6 && lo == 128));
		break;
	case CD_REMOTE:
	case CD_LOCAL:
		if (is_loopback(c->fam, lo, hi))
			k.loop = true;
		if (d == CD_REMOTE)
			k.rloop = is_loopback(c->fam, lo, hi);
		break;
	}
	return k;
}

static unsigned int ctx_bits(const struct ctx *c)
{
	return (unsigned int)(c->fam + 1) | (unsigned int)c->pk << 2 |
	       (unsigned int)c->echo << 5 | (unsigned int)c->loop << 6 |
	       (unsigned int)c->proto_known << 7 | (unsigned int)c->type_known << 8 |
	       (unsigned int)(c->dir + 1) << 9 | (unsigned int)c->rloop << 11 |
	       (unsigned int)(c->ifc + 1) << 12;
}

/* ---- hashing for the shared branches and the merge ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t branch_hash(const struct solver *s, const uint32_t *b, size_t n,
			    int d, unsigned int cb)
{
	uint64_t h = mix(cb, n);
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		const struct cmp_box *x = B(s, b[i]);

		h = mix(h, x->who);
		for (k = d + 1; k < CD_N; k++)
			h = mix(h, x->dim[k]);
	}
	return h;
}

static bool branch_same(const struct solver *s, const uint32_t *a, size_t na,
			const uint32_t *b, size_t nb, int d)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		const struct cmp_box *x = B(s, a[i]), *y = B(s, b[i]);

		if (x->who != y->who ||
		    memcmp(&x->dim[d + 1], &y->dim[d + 1],
			   (size_t)(CD_N - d - 1) * sizeof(x->dim[0])))
			return false;
	}
	return true;
}

struct acc {
	struct item key;	/* dim[d] unused */
	uint64_t tag;
	struct cmp_list l;
	size_t cells;
};

static uint64_t item_hash(const struct item *it, int d, uint64_t tag)
{
	uint64_t h = mix(tag, ((uint64_t)it->w[0] << 32) | it->w[1]);
	int k;

	for (k = d + 1; k < CD_N; k++)
		h = mix(h, it->dim[k]);
	return h;
}

static bool item_same(const struct item *a, const struct item *b, int d)
{
	return a->w[0] == b->w[0] && a->w[1] == b->w[1] &&
	       !memcmp(&a->dim[d + 1], &b->dim[d + 1],
		       (size_t)(CD_N - d - 1) * sizeof(a->dim[0]));
}

/* ---- the recursion ---- */

struct pair {
	uint32_t cell, box;
};

static void solve(struct solver *s, int d, const struct ctx *c,
		  const uint32_t *b, size_t n, struct items *out);

static void split(struct solver *s, int d, const struct ctx *c,
		  const uint32_t *b, size_t n, struct items *out)
{
	cmp_u128 dlo, dhi, *cut = NULL, fixed[8];
	size_t n_cut = 0, cap_cut = 0, k, i, j, nf, n_pairs = 0, cap_pairs = 0;
	struct pair *pairs = NULL;
	uint32_t *sorted, *start, *memo_of, *memo_tab, closed_n[CMP_GROUPS] = { 0 };
	uint8_t *closed;
	struct items *res = NULL;
	size_t n_res = 0, memo_cap, feasible = 0;
	struct acc *acc = NULL;
	size_t n_acc = 0, cap_acc = 0, acc_cap;
	uint32_t *acc_tab;

	dim_domain(s, d, c, &dlo, &dhi);
	*ARRAY_PUSH(cut, n_cut, cap_cut) = dlo;
	nf = fixed_cuts(d, c, s->lo_atom, fixed);
	for (i = 0; i < nf; i++)
		if (fixed[i] > dlo && fixed[i] <= dhi)
			*ARRAY_PUSH(cut, n_cut, cap_cut) = fixed[i];
	for (i = 0; i < n; i++) {
		const struct cmp_list *l = &s->sp->lists[B(s, b[i])->dim[d]];

		for (j = 0; j < l->n; j++) {
			cmp_u128 lo = l->v[j].lo, hi = l->v[j].hi;

			if (hi < dlo || lo > dhi)
				continue;
			if (lo > dlo)
				*ARRAY_PUSH(cut, n_cut, cap_cut) = lo;
			if (hi < dhi)
				*ARRAY_PUSH(cut, n_cut, cap_cut) = hi + 1;
		}
	}
	qsort(cut, n_cut, sizeof(*cut), u128_cmp);
	for (i = 1, k = 1; i < n_cut; i++)
		if (cut[i] != cut[k - 1])
			cut[k++] = cut[i];
	n_cut = k;

	/* every box into the cells it covers, in priority order; a group
	 * stops in a cell at its first box that covers the rest of it */
	closed = xcalloc(n_cut, 1);
	for (i = 0; i < n; i++) {
		const struct cmp_box *x = B(s, b[i]);
		const struct cmp_list *l = &s->sp->lists[x->dim[d]];
		bool full_after = x->last <= d;
		uint8_t bit = (uint8_t)(1u << x->grp);
		size_t lo_i, hi_i, r;

		if (closed_n[x->grp] == n_cut)
			continue;
		for (r = 0; r < (l->n ? l->n : 1); r++) {
			cmp_u128 lo = l->n ? l->v[r].lo : dlo, hi = l->n ? l->v[r].hi : dhi;
			size_t a, z;

			if (hi < dlo || lo > dhi)
				continue;
			if (lo < dlo)
				lo = dlo;
			if (hi > dhi)
				hi = dhi;
			/* cells [lo_i, hi_i] */
			a = 0;
			z = n_cut;
			while (a < z) {
				size_t m = (a + z) / 2;

				if (cut[m] < lo)
					a = m + 1;
				else
					z = m;
			}
			lo_i = a;
			if (hi == dhi) {
				hi_i = n_cut - 1;
			} else {
				a = lo_i;
				z = n_cut;
				while (a < z) {
					size_t m = (a + z) / 2;

					if (cut[m] <= hi)
						a = m + 1;
					else
						z = m;
				}
				hi_i = a - 1;
			}
			for (j = lo_i; j <= hi_i; j++) {
				struct pair *p;

				if (closed[j] & bit)
					continue;
				p = ARRAY_PUSH(pairs, n_pairs, cap_pairs);
				p->cell = (uint32_t)j;
				p->box = b[i];
				if (full_after) {
					closed[j] |= bit;
					closed_n[x->grp]++;
				}
			}
		}
	}
	/* stable counting sort by cell */
	start = xcalloc(n_cut + 1, sizeof(*start));
	for (i = 0; i < n_pairs; i++)
		start[pairs[i].cell + 1]++;
	for (i = 0; i < n_cut; i++)
		start[i + 1] += start[i];
	sorted = xmalloc((n_pairs ? n_pairs : 1) * sizeof(*sorted));
	{
		uint32_t *pos = xmalloc((n_cut + 1) * sizeof(*pos));

		memcpy(pos, start, (n_cut + 1) * sizeof(*pos));
		for (i = 0; i < n_pairs; i++)
			sorted[pos[pairs[i].cell]++] = pairs[i].box;
		free(pos);
	}
	free(pairs);

	/* solve each distinct branch once */
	memo_of = xmalloc(n_cut * sizeof(*memo_of));
	memo_cap = 16;
	while (memo_cap < n_cut * 2)
		memo_cap *= 2;
	memo_tab = xmalloc(memo_cap * sizeof(*memo_tab));
	memset(memo_tab, 0xff, memo_cap * sizeof(*memo_tab));
	res = xcalloc(n_cut, sizeof(*res));
	{
		uint32_t *rep = xmalloc(n_cut * sizeof(*rep));	/* result -> cell */

		for (i = 0; i < n_cut; i++) {
			cmp_u128 lo = cut[i], hi = i + 1 < n_cut ? cut[i + 1] - 1 : dhi;
			struct ctx kc;
			uint64_t h;
			size_t slot;
			const uint32_t *lb = sorted + start[i];
			size_t ln = start[i + 1] - start[i];

			memo_of[i] = UINT32_MAX;
			if (infeasible(d, c, lo, hi))
				continue;
			feasible++;
			kc = child_ctx(d, c, s->lo_atom, lo, hi);
			h = branch_hash(s, lb, ln, d, ctx_bits(&kc));
			slot = h & (memo_cap - 1);
			while (memo_tab[slot] != UINT32_MAX) {
				uint32_t r = memo_tab[slot];
				size_t rc = rep[r];
				cmp_u128 rlo = cut[rc], rhi = rc + 1 < n_cut ? cut[rc + 1] - 1 : dhi;
				struct ctx rk = child_ctx(d, c, s->lo_atom, rlo, rhi);

				if (ctx_bits(&rk) == ctx_bits(&kc) &&
				    branch_same(s, sorted + start[rc], start[rc + 1] - start[rc],
						lb, ln, d))
					break;
				slot = (slot + 1) & (memo_cap - 1);
			}
			if (memo_tab[slot] == UINT32_MAX) {
				memo_tab[slot] = (uint32_t)n_res;
				rep[n_res] = (uint32_t)i;
				solve(s, d + 1, &kc, lb, ln, &res[n_res]);
				n_res++;
			}
			memo_of[i] = memo_tab[slot];
		}
		free(rep);
	}
	free(memo_tab);

	/* merge: the cells of one outcome with the same rest join on @d */
	acc_cap = 16;
	{
		size_t total = 0;

		for (i = 0; i < n_cut; i++)
			if (memo_of[i] != UINT32_MAX)
				total += res[memo_of[i]].n;
		while (acc_cap < total * 2)
			acc_cap *= 2;
	}
	acc_tab = xmalloc(acc_cap * sizeof(*acc_tab));
	memset(acc_tab, 0xff, acc_cap * sizeof(*acc_tab));
	for (i = 0; i < n_cut; i++) {
		cmp_u128 lo = cut[i], hi = i + 1 < n_cut ? cut[i + 1] - 1 : dhi;
		const struct items *r;

		if (memo_of[i] == UINT32_MAX)
			continue;
		r = &res[memo_of[i]];
		for (j = 0; j < r->n; j++) {
			const struct item *it = &r->v[j];
			uint64_t tag = 0, h;
			size_t slot;
			struct acc *a;

			/* addresses and ports mean different things in the
			 * other family / for ICMP: do not merge across */
			if (d == CD_FAM && (it->dim[CD_REMOTE] || it->dim[CD_LOCAL]))
				tag = 1 + (uint64_t)i;
			if (d == CD_PROTO && (it->dim[CD_DPORT] || it->dim[CD_SPORT]) &&
			    lo == hi && (lo == 1 || lo == 58))
				tag = 1;
			h = item_hash(it, d, tag);
			slot = h & (acc_cap - 1);
			while (acc_tab[slot] != UINT32_MAX &&
			       !(acc[acc_tab[slot]].tag == tag &&
				 item_same(&acc[acc_tab[slot]].key, it, d)))
				slot = (slot + 1) & (acc_cap - 1);
			if (acc_tab[slot] == UINT32_MAX) {
				acc_tab[slot] = (uint32_t)n_acc;
				a = ARRAY_PUSH(acc, n_acc, cap_acc);
				memset(a, 0, sizeof(*a));
				a->key = *it;
				a->tag = tag;
			}
			a = &acc[acc_tab[slot]];
			cmp_list_add(&a->l, lo, hi);
			a->cells++;
		}
	}
	for (i = 0; i < n_acc; i++) {
		struct item *it = ARRAY_PUSH(out->v, out->n, out->cap);

		*it = acc[i].key;
		if (acc[i].cells == feasible && !acc[i].tag) {
			free(acc[i].l.v);
			it->dim[d] = 0;
		} else {
			it->dim[d] = cmp_intern(s->sp, &acc[i].l);
		}
	}
	free(acc);
	free(acc_tab);
	for (i = 0; i < n_res; i++)
		free(res[i].v);
	free(res);
	free(memo_of);
	free(sorted);
	free(start);
	free(closed);
	free(cut);
}

static void solve(struct solver *s, int d, const struct ctx *c,
		  const uint32_t *b, size_t n, struct items *out)
{
	uint32_t h[CMP_GROUPS];
	bool full = true;
	int g;

	s->nodes++;
	if (lists_equal(s, b, n, d))
		return;
	heads(s, b, n, h);
	for (g = 0; g < CMP_GROUPS; g++)
		if (h[g] == UINT32_MAX && !(g & GRP_OTHER))
			return;		/* cannot happen: the chain policies */
	if (d == CD_N) {
		leaf(s, h, ctx_has_reply(c), c->dir, out);
		return;
	}
	for (g = 0; g < CMP_GROUPS; g++)
		if (h[g] != UINT32_MAX && (d == 0 || B(s, h[g])->last >= d))
			full = false;
	if (full) {
		/* every head covers the rest: one outcome, if the reply
		 * does not depend on cells not cut yet */
		if (d > CD_DPORT) {
			leaf(s, h, ctx_has_reply(c), c->dir, out);
			return;
		}
		if (side_who(s, h, 0, false, c->dir) == side_who(s, h, 0, true, c->dir) &&
		    side_who(s, h, 1, false, c->dir) == side_who(s, h, 1, true, c->dir)) {
			leaf(s, h, false, c->dir, out);
			return;
		}
	}
	split(s, d, c, b, n, out);
}

/* ---- the result ---- */

static int region_cmp(const void *a, const void *b)
{
	const struct cmp_region *x = a, *y = b;
	int d;

	for (d = 0; d < CD_N; d++) {
		const struct cmp_list *p = &x->dim[d], *q = &y->dim[d];

		if (!p->n != !q->n)
			return p->n ? -1 : 1;
		if (p->n && p->v[0].lo != q->v[0].lo)
			return p->v[0].lo < q->v[0].lo ? -1 : 1;
	}
	return 0;
}

static void list_copy(struct cmp_list *dst, const struct cmp_list *src)
{
	dst->n = src->n;
	dst->v = NULL;
	if (src->n) {
		dst->v = xmalloc(src->n * sizeof(*src->v));
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	}
}

static size_t list_n_after(const struct cmp_list *l, cmp_u128 lo, cmp_u128 hi,
			   struct cmp_list *out)
{
	size_t i;

	out->v = NULL;
	out->n = 0;
	for (i = 0; i < l->n; i++)
		cmp_list_add(out, l->v[i].lo, l->v[i].hi);
	cmp_list_add(out, lo, hi);
	return out->n;
}

/*
 * A region without the lo interface holds no loopback address (those
 * travel on lo): say "not on lo" once instead of cutting the loopback
 * block out of every address list.
 */
static void region_not_lo(struct cmp_region *g, uint32_t lo_atom,
			  size_t n_iface)
{
	struct cmp_list *ifc = &g->dim[CD_IFACE];
	int fam, d;
	size_t i;

	if (!lo_atom || !ifc->n)
		return;
	for (i = 0; i < ifc->n; i++)
		if (ifc->v[i].lo <= lo_atom && lo_atom <= ifc->v[i].hi)
			return;
	fam = g->dim[CD_FAM].n ? (int)g->dim[CD_FAM].v[0].lo : -1;
	for (d = CD_REMOTE; fam >= 0 && d <= CD_LOCAL; d += CD_LOCAL - CD_REMOTE) {
		struct cmp_list *l = &g->dim[d], t;
		cmp_u128 blo = fam ? 1 : (cmp_u128)127 << 24;
		cmp_u128 bhi = fam ? 1 : ((cmp_u128)128 << 24) - 1;

		if (!l->n)
			continue;
		if (list_n_after(l, blo, bhi, &t) < l->n) {
			free(l->v);
			*l = t;
			if (l->n == 1 && l->v[0].lo == 0 && l->v[0].hi == cmp_addr_max(fam)) {
				free(l->v);
				l->v = NULL;
				l->n = 0;
			}
		} else {
			free(t.v);
		}
	}
	/* every interface but lo: "not on lo" */
	if (n_iface - 1 == 0)
		return;
	{
		size_t covered = 0;

		for (i = 0; i < ifc->n; i++)
			covered += (size_t)(ifc->v[i].hi - ifc->v[i].lo + 1);
		if (covered == n_iface - 1) {
			free(ifc->v);
			ifc->v = NULL;
			ifc->n = 0;
			g->not_lo = true;
		}
	}
}

static bool who_same(const struct cmp_who *a, const struct cmp_who *b)
{
	return a->origin == b->origin && a->label == b->label &&
	       a->dir == b->dir && a->verdict == b->verdict;
}

static bool list_same(const struct cmp_list *a, const struct cmp_list *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

/*
 * The last merge, after region_not_lo(): two regions with the same
 * outcome that differ in one dimension only become one (IPv4 and IPv6
 * "from anywhere"; in and out). Not across protocols when ports are
 * named (ICMP types are not ports), nor across families when addresses
 * are. Quadratic: only for a readable number of regions.
 */
static void regions_join(struct cmp_result *r)
{
	bool again = r->n_regions <= 4096;

	while (again) {
		size_t i, j;

		again = false;
		for (i = 0; i < r->n_regions; i++)
			for (j = i + 1; j < r->n_regions; j++) {
				struct cmp_region *a = &r->regions[i], *b = &r->regions[j];
				int d, diff = -1, k;

				if (!who_same(&a->old, &b->old) || !who_same(&a->new, &b->new) ||
				    a->not_lo != b->not_lo)
					continue;
				for (d = 0; d < CD_N; d++)
					if (!list_same(&a->dim[d], &b->dim[d])) {
						if (diff >= 0)
							break;
						diff = d;
					}
				if (d < CD_N || diff < 0)
					continue;
				if (!a->dim[diff].n || !b->dim[diff].n)
					continue;	/* "any" already */
				if (diff == CD_FAM && (a->dim[CD_REMOTE].n || a->dim[CD_LOCAL].n))
					continue;
				if (diff == CD_PROTO && (a->dim[CD_DPORT].n || a->dim[CD_SPORT].n))
					continue;
				for (k = 0; k < (int)b->dim[diff].n; k++)
					cmp_list_add(&a->dim[diff], b->dim[diff].v[k].lo,
						     b->dim[diff].v[k].hi);
				if ((diff == CD_FAM || diff == CD_DIR) && a->dim[diff].n == 1 &&
				    a->dim[diff].v[0].lo == 0 && a->dim[diff].v[0].hi == 1) {
					free(a->dim[diff].v);
					a->dim[diff].v = NULL;
					a->dim[diff].n = 0;
				}
				for (d = 0; d < CD_N; d++)
					free(b->dim[d].v);
				r->regions[j] = r->regions[--r->n_regions];
				j--;
				again = true;
			}
	}
}

int compare_run(const struct model *old, const struct model *new,
		struct cmp_result **out)
{
	const struct model *m[2] = { old, new };
	struct cmp_space sp;
	struct solver s = { .sp = &sp };
	struct items it = { 0 };
	struct ctx c = { .fam = -1, .dir = -1, .ifc = -1 };
	struct cmp_result *r;
	uint32_t *all;
	size_t i;
	int ret, d;

	cmp_space_init(&sp, m, 2);
	for (i = 0; i < 2; i++) {
		ret = cmp_space_add(&sp, m[i], (int)i);
		if (ret < 0) {
			cmp_space_release(&sp);
			return ret;
		}
	}
	cmp_space_finish(&sp);
	for (i = 1; i < sp.atoms.n_iface; i++)
		if (!strcmp(sp.atoms.iface[i], "lo"))
			s.lo_atom = (uint32_t)i;
	all = xmalloc((sp.n_boxes ? sp.n_boxes : 1) * sizeof(*all));
	for (i = 0; i < sp.n_boxes; i++)
		all[i] = (uint32_t)i;
	solve(&s, 0, &c, all, sp.n_boxes, &it);
	free(all);

	r = xcalloc(1, sizeof(*r));
	r->regions = xcalloc(it.n ? it.n : 1, sizeof(*r->regions));
	r->n_regions = it.n;
	r->stats_nodes = s.nodes;
	for (i = 0; i < it.n; i++) {
		for (d = 0; d < CD_N; d++)
			list_copy(&r->regions[i].dim[d], &sp.lists[it.v[i].dim[d]]);
		r->regions[i].old = sp.who[it.v[i].w[0]];
		r->regions[i].new = sp.who[it.v[i].w[1]];
		region_not_lo(&r->regions[i], s.lo_atom, sp.atoms.n_iface);
	}
	free(it.v);
	regions_join(r);
	qsort(r->regions, r->n_regions, sizeof(*r->regions), region_cmp);
	r->atoms = sp.atoms;
	memset(&sp.atoms, 0, sizeof(sp.atoms));
	cmp_space_release(&sp);
	*out = r;
	return 0;
}

void cmp_result_free(struct cmp_result *r)
{
	size_t i;
	int d;

	if (!r)
		return;
	for (i = 0; i < r->n_regions; i++)
		for (d = 0; d < CD_N; d++)
			free(r->regions[i].dim[d].v);
	free(r->regions);
	cmp_atoms_release(&r->atoms);
	free(r);
}
