// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attribution of logged packets to sockets and processes (monitor_attr.h).
 * Addresses are kept as 16 bytes, IPv4 as ::ffff:a.b.c.d, so that an IPv6
 * socket that carries IPv4 (not v6only) is found by an IPv4 packet.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "monitor_attr.h"
#include "procmap.h"
#include "sockdiag.h"
#include "util.h"

struct sk_ent {
	bool used;
	bool v6only;
	uint8_t l[16], r[16];
	uint16_t lp, rp;
	uint32_t uid;
	uint64_t inode, cgroup_id;
};

struct sk_table {
	struct sk_ent *slot;
	size_t cap, n;		/* cap: power of two */
	uint64_t batch;		/* dumped while handling this read */
	bool dumped;
};

struct attr_cache {
	struct sockdiag *sd;
	struct sk_table t[2];	/* tcp, udp */
	struct procmap *pm;
	uint64_t pm_batch;
	uint64_t dumps, scans;
};

static void map_addr(uint8_t out[16], uint8_t family, const uint8_t *a)
{
	if (family == 4 || family == AF_INET) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a, 4);
	} else {
		memcpy(out, a, 16);
	}
}

static uint64_t key_hash(const uint8_t l[16], uint16_t lp, const uint8_t r[16],
			 uint16_t rp)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ l[i]) * 0x100000001b3ULL;
	for (i = 0; i < 16; i++)
		h = (h ^ r[i]) * 0x100000001b3ULL;
	h = (h ^ lp) * 0x100000001b3ULL;
	h = (h ^ rp) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

static struct sk_ent *tbl_find(const struct sk_table *t, const uint8_t l[16],
			       uint16_t lp, const uint8_t r[16], uint16_t rp)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = key_hash(l, lp, r, rp) & (t->cap - 1); t->slot[i].used;
	     i = (i + 1) & (t->cap - 1)) {
		struct sk_ent *e = &t->slot[i];

		if (e->lp == lp && e->rp == rp && !memcmp(e->l, l, 16) &&
		    !memcmp(e->r, r, 16))
			return e;
	}
	return NULL;
}

static void tbl_insert(struct sk_table *t, const struct sk_ent *e);

static void tbl_grow(struct sk_table *t)
{
	struct sk_table old = *t;
	size_t i;

	t->cap = old.cap ? old.cap * 2 : 256;
	t->slot = xcalloc(t->cap, sizeof(*t->slot));
	t->n = 0;
	for (i = 0; i < old.cap; i++)
		if (old.slot[i].used)
			tbl_insert(t, &old.slot[i]);
	free(old.slot);
}

/* The first socket of a key wins (SO_REUSEPORT groups share one). */
static void tbl_insert(struct sk_table *t, const struct sk_ent *e)
{
	size_t i;

	if ((t->n + 1) * 2 > t->cap)
		tbl_grow(t);
	for (i = key_hash(e->l, e->lp, e->r, e->rp) & (t->cap - 1);
	     t->slot[i].used; i = (i + 1) & (t->cap - 1))
		if (t->slot[i].lp == e->lp && t->slot[i].rp == e->rp &&
		    !memcmp(t->slot[i].l, e->l, 16) &&
		    !memcmp(t->slot[i].r, e->r, 16))
			return;
	t->slot[i] = *e;
	t->slot[i].used = true;
	t->n++;
}

static int dump_cb(const struct sock_info *s, void *arg)
{
	struct sk_table *t = arg;
	struct sk_ent e = { 0 };

	/* TIME_WAIT and request sockets have no owner to name */
	if (!s->inode)
		return 0;
	map_addr(e.l, s->family, s->src);
	/* unconnected (listeners, UDP): the key's remote is all zeros, in
	 * both families, as find_bound() asks for it */
	if (s->dport || memcmp(s->dst, (const uint8_t[16]){ 0 },
			       s->family == AF_INET ? 4 : 16))
		map_addr(e.r, s->family, s->dst);
	e.lp = s->sport;
	e.rp = s->dport;
	e.uid = s->uid;
	e.inode = s->inode;
	e.cgroup_id = s->cgroup_id;
	e.v6only = s->family == AF_INET6 && s->v6only;
	tbl_insert(t, &e);
	return 0;
}

static void refresh(struct attr_cache *a, int k, uint64_t batch)
{
	struct sk_table *t = &a->t[k];
	uint8_t proto = k ? IPPROTO_UDP : IPPROTO_TCP;

	if (t->slot)
		memset(t->slot, 0, t->cap * sizeof(*t->slot));
	t->n = 0;
	/* a failed dump leaves what it read: attribution is best effort */
	(void)sockdiag_dump(a->sd, proto, AF_INET, dump_cb, t);
	(void)sockdiag_dump(a->sd, proto, AF_INET6, dump_cb, t);
	t->batch = batch;
	t->dumped = true;
	a->dumps++;
}

int attr_new(struct attr_cache **out)
{
	struct attr_cache *a = xcalloc(1, sizeof(*a));
	int ret = sockdiag_open(&a->sd, NULL);

	if (ret < 0) {
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

void attr_free(struct attr_cache *a)
{
	if (!a)
		return;
	sockdiag_close(a->sd);
	free(a->t[0].slot);
	free(a->t[1].slot);
	procmap_free(a->pm);
	free(a);
}

void attr_stats(const struct attr_cache *a, uint64_t *dumps, uint64_t *scans)
{
	*dumps = a->dumps;
	*scans = a->scans;
}

/* An unconnected socket bound to @l:@lp or to a wildcard that covers it. */
static const struct sk_ent *find_bound(const struct sk_table *t,
				       const uint8_t l[16], uint16_t lp,
				       bool v4)
{
	static const uint8_t zero[16];
	static const uint8_t any4[16] = { [10] = 0xff, [11] = 0xff };
	const struct sk_ent *e;

	e = tbl_find(t, l, lp, zero, 0);
	if (e)
		return e;
	if (v4) {
		e = tbl_find(t, any4, lp, zero, 0);
		if (e)
			return e;
	}
	e = tbl_find(t, zero, lp, zero, 0);
	if (e && v4 && e->v6only)
		return NULL;
	return e;
}

static const struct sk_ent *find_sock(const struct sk_table *t,
				      const struct nflog_pkt *p, bool outbound)
{
	uint8_t s[16], d[16];
	const struct sk_ent *e;

	map_addr(s, p->l3, p->src);
	map_addr(d, p->l3, p->dst);
	if (outbound) {
		e = tbl_find(t, s, p->sport, d, p->dport);
		return e ? e : find_bound(t, s, p->sport, p->l3 == 4);
	}
	/* inbound: a connected socket (an established flow that the policy
	 * now refuses) or the listener */
	e = tbl_find(t, d, p->dport, s, p->sport);
	return e ? e : find_bound(t, d, p->dport, p->l3 == 4);
}

void attr_lookup(struct attr_cache *a, const struct nflog_pkt *p,
		 bool outbound, uint64_t batch, struct attr_result *r)
{
	const struct proc_info *pi;
	const struct sk_ent *e;
	size_t it = 0;
	int k;

	memset(r, 0, sizeof(*r));
	if (!p->l3 || !p->has_ports ||
	    (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)) {
		r->owner = ATTR_NONE;
		return;
	}
	k = p->proto == IPPROTO_UDP;
	e = a->t[k].dumped ? find_sock(&a->t[k], p, outbound) : NULL;
	if (!e && (!a->t[k].dumped || a->t[k].batch < batch)) {
		refresh(a, k, batch);
		e = find_sock(&a->t[k], p, outbound);
	}
	if (!e) {
		r->owner = outbound ? ATTR_GONE : ATTR_NO_LISTENER;
		return;
	}
	r->uid = e->uid;
	if (!a->pm || (!procmap_next(a->pm, e->inode, &it) &&
		       a->pm_batch < batch)) {
		struct procmap *pm = NULL;

		if (procmap_build(&pm, "/proc") == 0) {
			procmap_free(a->pm);
			a->pm = pm;
			a->pm_batch = batch;
			a->scans++;
		}
	}
	it = 0;
	pi = a->pm ? procmap_next(a->pm, e->inode, &it) : NULL;
	if (pi) {
		r->owner = ATTR_FOUND;
		r->pid = pi->pid;
		memcpy(r->comm, pi->comm, sizeof(r->comm));
	} else {
		r->owner = ATTR_NO_PROCESS;
	}
	if (a->pm && e->cgroup_id &&
	    procmap_cgroup_path(a->pm, NULL, e->cgroup_id, &r->cgroup) < 0)
		r->cgroup = NULL;
}
