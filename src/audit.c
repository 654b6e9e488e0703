// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The audit's judgement: listeners and connections of the live socket table
 * against the policy, every verdict from eval_packet() so that the audit,
 * `explain` and the kernel agree.
 *
 * Whether "some source may connect" to a listener is decided exactly, not
 * by sampling: the verdict of the input chain, as a function of the source
 * address, only changes at the edges of the prefixes the model mentions, so
 * evaluating one packet from the start of every prefix, from just past its
 * end and from address zero visits every distinct answer. The same holds
 * for the destination of a wildcard listener and for input interfaces.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "interp.h"
#include "sockpkt.h"
#include "util.h"

struct cand_list {
	struct cidr *v;
	size_t n, cap;
};

struct str_list {
	const char **v;
	size_t n, cap;
};

/* One answer of reachable(), shared by listeners the policy cannot tell
 * apart: same protocol, family, destination and port class. */
struct reach_key {
	uint8_t proto, fi, wild;
	uint32_t port_class;
	uint8_t addr[16];
};

struct reach_entry {
	bool used, open;
	struct reach_key key;
	struct eval_result first, hit;
};

/*
 * Connections differ by their ports, and the verdict often depends on
 * neither (loopback, established, address rules): when no rule looked at
 * a port (the interpreter tells), a connection that differs only there
 * gets the remembered answer. Two direct-mapped caches: the packet with
 * the opener's port zeroed, and with both ports zeroed.
 */
#define CONN_CACHE 4096

struct conn_entry {
	bool used;
	struct packet key;
	struct eval_result res;
};

struct audit {
	const struct policy *policy;
	const struct model *model;
	const struct ix_host *host;	/* what verdicts are computed on */
	struct ix_host *own_host;	/* the model alone, when no host is set */
	struct ix_host **hosts;		/* taken by audit_take_host() */
	size_t n_hosts, cap_hosts;
	bool exact_ports;		/* other tables: no port classes */
	struct procmap *pm;
	const char *cgroup_root;
	bool uses_cgroup;
	bool uses_gid;
	struct cand_list src[2], dst[2];	/* [0] IPv4, [1] IPv6 */
	struct str_list iifs;
	/* destination-port edges of every match and set element: ports
	 * between two edges are treated alike by the whole table */
	uint32_t *port_edges;
	size_t n_port_edges, cap_port_edges;
	struct reach_entry *reach;
	size_t n_reach, cap_reach;	/* cap_reach: power of two or 0 */
	struct conn_entry *conn_cache;	/* 2 * CONN_CACHE slots, or NULL */
	/* the current namespace's part of the report */
	size_t first_listener, first_conn;
	uint8_t ports[2][65536 / 8];		/* [0] tcp, [1] udp */
	struct audit_report r;
};

const char *finding_kind_name(enum finding_kind k)
{
	static const char *const names[FIND_MAX] = {
		"unexpected-listener", "missing-listener", "filtered-listener",
		"local-only-listener", "disallowed-connection", "ruleset-drift",
	};

	return (unsigned int)k < FIND_MAX ? names[k] : "unknown";
}

const char *listen_state_name(enum listen_state s)
{
	static const char *const names[LISTEN_MAX] = {
		"open", "filtered", "local",
	};

	return (unsigned int)s < LISTEN_MAX ? names[s] : "unknown";
}

/* ---- candidate points -------------------------------------------------- */

static void cand_push(struct cand_list *l, const struct cidr *c)
{
	struct cidr *n = ARRAY_PUSH(l->v, l->n, l->cap);

	*n = *c;
	n->plen = c->family == 4 ? 32 : 128;
}

/* The first address of @c and the one just past its last (if any). */
static void cand_add_prefix(struct cand_list *lists, const struct cidr *c)
{
	unsigned int bytes = c->family == 4 ? 4 : 16, i, bit;
	struct cidr next = *c;
	int carry = 1;

	if (c->family != 4 && c->family != 6)
		return;
	cand_push(&lists[c->family == 4 ? 0 : 1], c);
	for (i = 0; i < bytes; i++) {
		bit = i * 8;
		if (bit + 8 <= c->plen)
			continue;
		if (bit >= c->plen)
			next.addr[i] = 0xff;
		else
			next.addr[i] |= (uint8_t)(0xff >> (c->plen - bit));
	}
	for (i = bytes; i-- > 0 && carry;) {
		next.addr[i]++;
		carry = next.addr[i] == 0;
	}
	if (!carry)
		cand_push(&lists[c->family == 4 ? 0 : 1], &next);
}

static int cidr_cmp(const void *a, const void *b)
{
	return memcmp(((const struct cidr *)a)->addr,
		      ((const struct cidr *)b)->addr, 16);
}

static void cand_finish(struct cand_list *l, uint8_t family)
{
	struct cidr zero = { .family = family };
	size_t i, out = 0;

	cand_push(l, &zero);
	qsort(l->v, l->n, sizeof(*l->v), cidr_cmp);
	for (i = 0; i < l->n; i++)
		if (!out || memcmp(l->v[out - 1].addr, l->v[i].addr, 16))
			l->v[out++] = l->v[i];
	l->n = out;
}

static void add_iif(struct audit *a, const char *name)
{
	size_t i;

	if (!name || !strcmp(name, "lo"))
		return;
	for (i = 0; i < a->iifs.n; i++)
		if (!strcmp(a->iifs.v[i], name))
			return;
	*ARRAY_PUSH(a->iifs.v, a->iifs.n, a->iifs.cap) = name;
}

static void collect_value(struct audit *a, enum match_key key,
			  const struct mvalue *v)
{
	if (key == KEY_SADDR)
		cand_add_prefix(a->src, &v->prefix);
	else if (key == KEY_DADDR)
		cand_add_prefix(a->dst, &v->prefix);
	else if (key == KEY_IIFNAME)
		add_iif(a, v->str);
	else if (key == KEY_CGROUPV2)
		a->uses_cgroup = true;
	else if (key == KEY_SKGID)
		a->uses_gid = true;
	else if (key == KEY_DPORT) {
		*ARRAY_PUSH(a->port_edges, a->n_port_edges, a->cap_port_edges) =
			v->range.lo;
		*ARRAY_PUSH(a->port_edges, a->n_port_edges, a->cap_port_edges) =
			(uint32_t)v->range.hi + 1;
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void collect_candidates(struct audit *a)
{
	const struct model *m = a->model;
	size_t c, r, i, k, e;

	for (c = 0; m && c < m->n_chains; c++) {
		const struct mchain *ch = &m->chains[c];

		for (r = 0; r < ch->n_rules; r++) {
			const struct mrule *mr = &ch->rules[r];

			for (i = 0; i < mr->n_matches; i++) {
				const struct match *mt = &mr->matches[i];
				const struct mset *s;

				if (mt->set < 0 || (size_t)mt->set >= m->n_sets) {
					collect_value(a, mt->key, &mt->value);
					continue;
				}
				s = &m->sets[mt->set];
				if (mt->mask && s->n_keys == 1) {
					/* a masked set's elements stand for
					 * the prefixes of that length */
					for (e = 0; e < s->n_elems; e++) {
						struct mvalue v = s->elems[e].v[0];

						if (v.prefix.plen > mt->mask)
							v.prefix.plen = mt->mask;
						collect_value(a, mt->key, &v);
					}
					continue;
				}
				for (k = 0; k < s->n_keys; k++)
					for (e = 0; e < s->n_elems; e++)
						collect_value(a, s->keys[k],
							      &s->elems[e].v[k]);
			}
		}
	}
	if (a->n_port_edges) {
		size_t out = 0;

		qsort(a->port_edges, a->n_port_edges, sizeof(*a->port_edges),
		      u32_cmp);
		for (i = 0; i < a->n_port_edges; i++)
			if (!out || a->port_edges[out - 1] != a->port_edges[i])
				a->port_edges[out++] = a->port_edges[i];
		a->n_port_edges = out;
	}
	cand_finish(&a->src[0], 4);
	cand_finish(&a->src[1], 6);
	cand_finish(&a->dst[0], 4);
	cand_finish(&a->dst[1], 6);
}

/* ---- lifecycle --------------------------------------------------------- */

struct audit *audit_new(const struct policy *p, const struct model *m,
			struct procmap *pm)
{
	struct audit *a = xcalloc(1, sizeof(*a));

	a->policy = p;
	a->model = m;
	a->pm = pm;
	a->cgroup_root = NULL;	/* procmap finds the cgroup2 mount */
	collect_candidates(a);
	if (m) {
		a->own_host = ix_host_new();
		if (ix_host_add_model(a->own_host, m) < 0) {
			ix_host_free(a->own_host);
			a->own_host = NULL;
		}
	}
	a->host = a->own_host;
	return a;
}

void audit_take_host(struct audit *a, struct ix_host *h)
{
	if (h)
		*ARRAY_PUSH(a->hosts, a->n_hosts, a->cap_hosts) = h;
	a->host = h ? h : a->own_host;
	/* ports the model treats alike another table may not: remembered
	 * answers are per port then */
	a->exact_ports = h && ix_host_n_tables(h) > 1;
	a->n_reach = 0;
	if (a->reach)
		memset(a->reach, 0, a->cap_reach * sizeof(*a->reach));
	if (a->conn_cache)
		memset(a->conn_cache, 0, 2 * CONN_CACHE * sizeof(*a->conn_cache));
}

void audit_free(struct audit *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < 2; i++) {
		free(a->src[i].v);
		free(a->dst[i].v);
	}
	free(a->iifs.v);
	free(a->port_edges);
	free(a->reach);
	free(a->conn_cache);
	ix_host_free(a->own_host);
	for (i = 0; i < a->n_hosts; i++)
		ix_host_free(a->hosts[i]);
	free(a->hosts);
	for (i = 0; i < a->r.n_findings; i++)
		free(a->r.findings[i].detail);
	free(a->r.findings);
	free(a->r.listeners);
	free(a->r.conns);
	for (i = 0; i < a->r.n_netns; i++)
		free(a->r.netns[i]);
	free(a->r.netns);
	free(a);
}

void audit_set_procmap(struct audit *a, struct procmap *pm)
{
	a->pm = pm;
}

const struct model *audit_model(const struct audit *a)
{
	return a->model;
}

const struct audit_report *audit_report(const struct audit *a)
{
	return &a->r;
}

void audit_begin_netns(struct audit *a, const char *label)
{
	*ARRAY_PUSH(a->r.netns, a->r.n_netns, a->r.cap_netns) =
		xstrdup(label ? label : "");
	a->first_listener = a->r.n_listeners;
	a->first_conn = a->r.n_conns;
	memset(a->ports, 0, sizeof(a->ports));
}

/* ---- addresses --------------------------------------------------------- */

static bool addr_is_zero(const struct cidr *c)
{
	static const uint8_t zero[16];

	return !memcmp(c->addr, zero, c->family == 4 ? 4 : 16);
}

static bool sock_is_loopback(const struct sock_info *s)
{
	struct cidr c;

	sock_wire_addr(s, s->src, &c);
	/* lo is ifindex 1 in every network namespace */
	return cidr_is_loopback(&c) || s->ifindex == 1;
}

static const char *rule_label(const struct eval_result *res)
{
	if (res->origin)
		return res->origin->name;
	if (res->label && strcmp(res->label, "default"))
		return res->label;
	return NULL;
}

const char *audit_cgroup_path(struct audit *a, const struct sock_info *s)
{
	const char *path;

	if (!a->pm || !s->cgroup_id)
		return NULL;
	if (procmap_cgroup_path(a->pm, a->cgroup_root, s->cgroup_id, &path) < 0)
		return NULL;
	return path;
}

const char *audit_why_unattributed(const struct procmap *pm,
				   const struct sock_info *s)
{
	size_t it = 0;

	if (s->state == TCP_TIME_WAIT)
		return "TIME_WAIT has no owner";
	if (!s->inode)
		return "no owner yet";
	if (!pm)
		return "not attributed (replayed dump)";
	if (procmap_next(pm, s->inode, &it))
		return NULL;
	if (procmap_denied(pm))
		return "no permission";
	return "no process holds it";
}

/*
 * `meta skgid` is the fsgid of the credentials the socket was opened with;
 * sock_diag does not carry it. The owning process's current fsgid (the
 * fourth Gid: field) is the same unless it changed groups since.
 */
static bool owner_fsgid(const struct procmap *pm, uint64_t inode, uint32_t *gid)
{
	const struct proc_info *pi;
	unsigned int g[4];
	char path[64], line[256];
	size_t it = 0;
	bool found = false;
	FILE *f;

	pi = procmap_next(pm, inode, &it);
	if (!pi)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/status", pi->pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Gid: %u %u %u %u", &g[0], &g[1], &g[2], &g[3]) == 4) {
			*gid = g[3];
			found = true;
			break;
		}
	fclose(f);
	return found;
}

/* ---- feeding ----------------------------------------------------------- */

static void port_mark(struct audit *a, const struct sock_info *s)
{
	int i = s->proto == IPPROTO_TCP ? 0 : 1;

	a->ports[i][s->sport / 8] |= (uint8_t)(1u << (s->sport % 8));
}

static bool port_listened(const struct audit *a, const struct sock_info *s)
{
	int i = s->proto == IPPROTO_TCP ? 0 : 1;

	return a->ports[i][s->sport / 8] & (1u << (s->sport % 8));
}

void audit_add_socket(struct audit *a, const struct sock_info *s)
{
	struct audit_sock *as;
	bool listener, conn;

	if (!a->r.n_netns)
		audit_begin_netns(a, NULL);
	a->r.sockets++;
	if (s->proto == IPPROTO_TCP) {
		listener = s->state == TCP_LISTEN;
		conn = s->state == TCP_ESTABLISHED;
	} else if (s->proto == IPPROTO_UDP) {
		listener = s->state == TCP_CLOSE && s->sport;
		conn = s->state == TCP_ESTABLISHED;
	} else {
		return;
	}
	if (listener) {
		as = ARRAY_PUSH(a->r.listeners, a->r.n_listeners,
				a->r.cap_listeners);
		port_mark(a, s);
	} else if (conn) {
		as = ARRAY_PUSH(a->r.conns, a->r.n_conns, a->r.cap_conns);
	} else {
		return;
	}
	memset(as, 0, sizeof(*as));
	as->s = *s;
	as->netns = (unsigned int)(a->r.n_netns - 1);
}

static int dump_cb(const struct sock_info *s, void *arg)
{
	audit_add_socket(arg, s);
	return 0;
}

int audit_dump(struct audit *a, struct sockdiag *sd)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t fams[] = { AF_INET, AF_INET6 };
	size_t p, f;
	int ret;

	if (!a->r.n_netns)
		audit_begin_netns(a, NULL);
	for (p = 0; p < ARRAY_SIZE(protos); p++)
		for (f = 0; f < ARRAY_SIZE(fams); f++) {
			ret = sockdiag_dump(sd, protos[p], fams[f], dump_cb, a);
			if (ret < 0)
				return ret;
		}
	return 0;
}

/* ---- judging ----------------------------------------------------------- */

static struct finding *add_finding(struct audit *a, enum finding_kind kind,
				   const struct audit_sock *as, uint8_t proto)
{
	struct finding *f = ARRAY_PUSH(a->r.findings, a->r.n_findings,
				       a->r.cap_findings);

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->proto = proto;
	f->netns = a->r.n_netns ? (unsigned int)(a->r.n_netns - 1) : 0;
	if (as) {
		f->has_sock = true;
		f->sock = *as;
		f->port = as->s.sport;
		f->rule = as->rule;
		f->netns = as->netns;
	}
	return f;
}

static bool ports_contain(const struct port_set *ps, uint16_t port)
{
	size_t i;

	if (ps->any)
		return true;
	for (i = 0; i < ps->n; i++)
		if (port >= ps->v[i].lo && port <= ps->v[i].hi)
			return true;
	return false;
}

static unsigned int proto_bit(uint8_t proto)
{
	return proto == IPPROTO_TCP ? PROTO_TCP : PROTO_UDP;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

/* The families a listening socket takes: a v4-mapped address is IPv4, a
 * [::] wildcard without IPV6_V6ONLY takes both. */
static unsigned int sock_families(const struct sock_info *s)
{
	struct cidr c;

	sock_wire_addr(s, s->src, &c);
	if (c.family == 4)
		return FAM_V4;
	return addr_is_zero(&c) && !s->v6only ? FAM_BOTH : FAM_V6;
}

static bool entry_matches(const struct audit *a, const struct listener *e,
			  const struct audit_sock *l)
{
	const struct proc_info *pi;
	size_t it = 0;
	bool any = false;

	if (!(e->protos & proto_bit(l->s.proto)) ||
	    !ports_contain(&e->ports, l->s.sport) ||
	    !(e->families & sock_families(&l->s)))
		return false;
	if (!e->process)
		return true;
	while ((pi = procmap_next(a->pm, l->s.inode, &it))) {
		any = true;
		if (!strncmp(pi->comm, e->process, sizeof(pi->comm) - 1))
			return true;
	}
	/* No owner known (replay, no permission): cannot tell it is wrong. */
	return !any;
}

/* An inbound accept rule that names this listener's proto and port.
 * A rule with no port (everything from a network, say) expects no
 * particular listener. */
static bool rule_expects(const struct policy *p, const struct audit_sock *l)
{
	size_t i;

	for (i = 0; p && i < p->n_rules[DIR_IN]; i++) {
		const struct rule *r = &p->rules[DIR_IN][i];

		if (r->action != VERDICT_ACCEPT || r->dport.any)
			continue;
		if (!(r->protos & (proto_bit(l->s.proto) | PROTO_ANY)))
			continue;
		if (ports_contain(&r->dport, l->s.sport))
			return true;
	}
	return false;
}

/* Does some source, through some input interface, reach @dst:@port?
 * @dst NULL: a wildcard listener of that family. */
static bool reachable(struct audit *a, uint8_t proto, int fi,
		      const struct cidr *dst, uint16_t port,
		      struct eval_result *first, struct eval_result *hit)
{
	const struct cand_list *dl = &a->dst[fi], *sl = &a->src[fi];
	size_t di, si, ii;
	struct packet pkt;
	bool have_first = false;

	memset(&pkt, 0, sizeof(pkt));
	pkt.dir = DIR_IN;
	pkt.l4proto = proto;
	pkt.has_src = true;
	pkt.dport = port;
	pkt.has_dport = true;
	for (di = 0; di < (dst ? 1 : dl->n); di++) {
		pkt.dst = dst ? *dst : dl->v[di];
		for (si = 0; si < sl->n; si++) {
			pkt.src = sl->v[si];
			for (ii = 0; ii <= a->iifs.n; ii++) {
				struct eval_result res;

				pkt.iif = ii ? a->iifs.v[ii - 1] : NULL;
				if (!a->host || eval_packet(a->host, &pkt, &res) < 0)
					continue;
				if (!have_first) {
					*first = res;
					have_first = true;
				}
				if (res.verdict == MV_ACCEPT) {
					*hit = res;
					return true;
				}
			}
		}
	}
	return false;
}

/* Number of port edges at or below @port: equal for ports no match or
 * set element of the table tells apart. */
static uint32_t port_class(const struct audit *a, uint16_t port)
{
	size_t lo = 0, hi = a->n_port_edges;

	if (a->exact_ports)
		return port;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (a->port_edges[mid] <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

static size_t reach_hash(const struct reach_key *k)
{
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p = (const uint8_t *)k;
	size_t i;

	for (i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return (size_t)h;
}

static struct reach_entry *reach_slot(struct reach_entry *v, size_t cap,
				      const struct reach_key *k)
{
	size_t i = reach_hash(k) & (cap - 1);

	while (v[i].used && memcmp(&v[i].key, k, sizeof(*k)))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static void reach_grow(struct audit *a)
{
	struct reach_entry *old = a->reach;
	size_t n_old = a->cap_reach, i;

	a->cap_reach = n_old ? n_old * 2 : 64;
	a->reach = xcalloc(a->cap_reach, sizeof(*a->reach));
	for (i = 0; i < n_old; i++)
		if (old[i].used)
			*reach_slot(a->reach, a->cap_reach, &old[i].key) = old[i];
	free(old);
}

/* reachable(), remembered: a busy host has thousands of listeners on
 * ports the policy treats alike, and a block list makes each answer for a
 * filtered port cost one evaluation per prefix edge. */
static bool reachable_cached(struct audit *a, uint8_t proto, int fi,
			     const struct cidr *dst, uint16_t port,
			     struct eval_result *first, struct eval_result *hit)
{
	struct reach_key k;
	struct reach_entry *e;

	memset(&k, 0, sizeof(k));
	k.proto = proto;
	k.fi = (uint8_t)fi;
	k.wild = !dst;
	k.port_class = port_class(a, port);
	if (dst)
		memcpy(k.addr, dst->addr, 16);
	if ((a->n_reach + 1) * 2 > a->cap_reach)
		reach_grow(a);
	e = reach_slot(a->reach, a->cap_reach, &k);
	if (!e->used) {
		e->used = true;
		e->key = k;
		e->first.verdict = MV_DROP;
		e->open = reachable(a, proto, fi, dst, port, &e->first, &e->hit);
		a->n_reach++;
	}
	*first = e->first;
	if (e->open)
		*hit = e->hit;
	return e->open;
}

static void judge_listener(struct audit *a, struct audit_sock *l)
{
	struct eval_result first = { .verdict = MV_DROP }, hit;
	struct cidr addr;
	bool open = false, wild;

	if (sock_is_loopback(&l->s)) {
		l->state = LISTEN_LOCAL;
		return;
	}
	sock_wire_addr(&l->s, l->s.src, &addr);
	wild = addr_is_zero(&addr);
	l->dual = l->s.family == AF_INET6 && wild && !l->s.v6only;
	if (addr.family == 4 || l->dual)
		open = reachable_cached(a, l->s.proto, 0, wild ? NULL : &addr,
					l->s.sport, &first, &hit);
	if (!open && addr.family == 6)
		open = reachable_cached(a, l->s.proto, 1, wild ? NULL : &addr,
					l->s.sport, &first, &hit);
	l->state = open ? LISTEN_OPEN : LISTEN_FILTERED;
	l->rule = rule_label(open ? &hit : &first);
}

static uint64_t conn_key(const struct packet *pkt, bool dport,
			 struct packet *key)
{
	const unsigned char *b = (const unsigned char *)key;
	uint64_t h = 1469598103934665603ull;
	size_t i;

	memset(key, 0, sizeof(*key));
	key->dir = pkt->dir;
	key->l4proto = pkt->l4proto;
	key->src = pkt->src;
	key->dst = pkt->dst;
	key->has_src = pkt->has_src;
	key->has_sport = pkt->has_sport;
	key->dport = dport ? pkt->dport : 0;
	key->has_dport = pkt->has_dport;
	key->uid = pkt->uid;
	key->gid = pkt->gid;
	key->has_uid = pkt->has_uid;
	key->has_gid = pkt->has_gid;
	key->cgroup = pkt->cgroup;	/* audit's paths are interned */
	key->iif = pkt->iif;
	key->oif = pkt->oif;
	for (i = 0; i < sizeof(*key); i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int eval_conn_cached(struct audit *a, const struct packet *pkt,
			    struct eval_result *res)
{
	struct conn_entry *e1, *e2;
	struct packet k1, k2;
	int ret;

	if (!a->conn_cache)
		a->conn_cache = xcalloc(2 * CONN_CACHE, sizeof(*a->conn_cache));
	/* [0, CONN_CACHE): no port read; then: only the responder's read */
	e2 = &a->conn_cache[conn_key(pkt, false, &k2) & (CONN_CACHE - 1)];
	if (e2->used && !memcmp(&e2->key, &k2, sizeof(k2))) {
		*res = e2->res;
		return 0;
	}
	e1 = &a->conn_cache[CONN_CACHE + (conn_key(pkt, true, &k1) & (CONN_CACHE - 1))];
	if (e1->used && !memcmp(&e1->key, &k1, sizeof(k1))) {
		*res = e1->res;
		return 0;
	}
	ret = eval_packet(a->host, pkt, res);
	if (ret < 0 || (res->ports_read & IX_READ_OPENER))
		return ret;
	if (!res->ports_read) {
		e2->used = true;
		e2->key = k2;
		e2->res = *res;
	} else {
		e1->used = true;
		e1->key = k1;
		e1->res = *res;
	}
	return 0;
}

/* The comment of the learned element holding @c's remote address in a
 * `flags timeout` set of the model (explain_learned() copied them from
 * the live table), or NULL. */
static const char *learned_host(const struct audit *a,
				const struct audit_sock *c)
{
	struct melem key;
	size_t i;

	memset(&key, 0, sizeof(key));
	key.v[0].prefix.family = c->s.family == AF_INET6 ? 6 : 4;
	key.v[0].prefix.plen = key.v[0].prefix.family == 6 ? 128 : 32;
	memcpy(key.v[0].prefix.addr, c->s.dst,
	       key.v[0].prefix.family == 6 ? 16 : 4);
	for (i = 0; i < a->model->n_sets; i++) {
		const struct mset *s = &a->model->sets[i];
		size_t lo = 0, hi = s->n_elems;

		if (!s->timeout || s->family != key.v[0].prefix.family ||
		    !s->sorted)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int r = melem_cmp(s, &s->elems[mid], &key);

			if (!r)
				return s->elems[mid].comment;
			if (r < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return NULL;
}

static void judge_conn(struct audit *a, struct audit_sock *c)
{
	struct sock_owner own = { 0 };
	struct eval_result res;
	struct packet pkt;
	struct finding *f;
	char lbuf[64], rbuf[64];

	c->inbound = port_listened(a, &c->s);
	if (!c->inbound) {
		if (a->uses_cgroup)
			own.cgroup = audit_cgroup_path(a, &c->s);
		if (a->uses_gid && a->pm)
			own.has_gid = owner_fsgid(a->pm, c->s.inode, &own.gid);
	}
	sock_packet(&c->s, c->inbound, &own, &pkt);
	if (!a->host || eval_conn_cached(a, &pkt, &res) < 0) {
		c->verdict = MV_ACCEPT;
		return;
	}
	c->verdict = res.verdict;
	c->rule = rule_label(&res);
	if (res.verdict == MV_ACCEPT && !c->inbound && res.origin &&
	    res.origin->to_hosts.n)
		c->host = learned_host(a, c);
	if (res.verdict == MV_ACCEPT)
		return;
	sock_addr_format(c->s.family, c->s.src, c->s.sport, lbuf, sizeof(lbuf));
	sock_addr_format(c->s.family, c->s.dst, c->s.dport, rbuf, sizeof(rbuf));
	f = add_finding(a, FIND_DISALLOWED_CONNECTION, c, c->s.proto);
	c->finding = a->r.n_findings;
	f->detail = xasprintf("%s %s connection %s %s: the %s policy would %s it as new traffic (%s%s%s)",
			      c->inbound ? "inbound" : "outbound",
			      proto_name(c->s.proto),
			      c->inbound ? "from" : "to", rbuf,
			      c->inbound ? "inbound" : "outbound",
			      mverdict_name(res.verdict),
			      c->rule ? "rule \"" : "default",
			      c->rule ? c->rule : "",
			      c->rule ? "\"" : "");
}

static void check_entries(struct audit *a)
{
	const struct policy *p = a->policy;
	size_t i, j, k;
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };

	for (i = 0; p && i < p->n_listeners; i++) {
		const struct listener *e = &p->listeners[i];

		for (k = 0; k < ARRAY_SIZE(protos); k++) {
			const struct audit_sock *filtered = NULL, *local = NULL;
			bool live = false, open = false, reachable = false;
			struct finding *f;
			char ports[32];

			if (!(e->protos & proto_bit(protos[k])))
				continue;
			for (j = a->first_listener; j < a->r.n_listeners; j++) {
				const struct audit_sock *l = &a->r.listeners[j];

				if (l->s.proto != protos[k] ||
				    !entry_matches(a, e, l))
					continue;
				live = true;
				if (l->state == LISTEN_OPEN)
					open = true;
				else if (l->state == LISTEN_FILTERED && !filtered)
					filtered = l;
				if (l->state == LISTEN_LOCAL) {
					if (!local)
						local = l;
				} else {
					reachable = true;
				}
			}
			if (e->ports.n == 1 && e->ports.v[0].lo == e->ports.v[0].hi)
				snprintf(ports, sizeof(ports), "%u", e->ports.v[0].lo);
			else if (e->ports.n >= 1)
				snprintf(ports, sizeof(ports), "%u-%u%s", e->ports.v[0].lo,
					 e->ports.v[0].hi, e->ports.n > 1 ? ",..." : "");
			else
				snprintf(ports, sizeof(ports), "any");
			if (!live) {
				f = add_finding(a, FIND_MISSING_LISTENER, NULL, protos[k]);
				f->entry = e;
				f->port = e->ports.n ? e->ports.v[0].lo : 0;
				f->detail = xasprintf("%s:%u:%u: listeners entry %s port %s%s%s%s has no live socket",
						      e->loc.file ? e->loc.file : "policy",
						      e->loc.line, e->loc.col,
						      proto_name(protos[k]), ports,
						      e->families == FAM_V4 ? " ipv4" :
						      e->families == FAM_V6 ? " ipv6" : "",
						      e->process ? " process " : "",
						      e->process ? e->process : "");
			} else if (!reachable) {
				/* every live socket of the entry is bound to
				 * loopback: nothing outside the host reaches it */
				char buf[64];

				sock_addr_format(local->s.family, local->s.src,
						 local->s.sport, buf, sizeof(buf));
				f = add_finding(a, FIND_LOCAL_ONLY_LISTENER, local,
						protos[k]);
				f->entry = e;
				f->rule = NULL;
				f->detail = xasprintf("%s:%u:%u: listeners entry %s port %s is live only on loopback (%s): nothing outside the host can reach it",
						      e->loc.file ? e->loc.file : "policy",
						      e->loc.line, e->loc.col,
						      proto_name(protos[k]), ports, buf);
			} else if (!open && filtered) {
				f = add_finding(a, FIND_FILTERED_LISTENER, filtered,
						protos[k]);
				f->entry = e;
				f->detail = xasprintf("%s:%u:%u: listeners entry %s port %s is live, but the inbound policy drops new connections to it from everywhere",
						      e->loc.file ? e->loc.file : "policy",
						      e->loc.line, e->loc.col,
						      proto_name(protos[k]), ports);
			}
		}
	}
}

void audit_end_netns(struct audit *a, bool primary)
{
	size_t i, j;

	if (!a->r.n_netns)
		audit_begin_netns(a, NULL);
	for (i = a->first_listener; i < a->r.n_listeners; i++) {
		struct audit_sock *l = &a->r.listeners[i];
		bool expected = false;
		struct finding *f;
		char buf[64];

		judge_listener(a, l);
		if (l->state == LISTEN_LOCAL)
			continue;
		for (j = 0; a->policy && j < a->policy->n_listeners && !expected; j++)
			expected = entry_matches(a, &a->policy->listeners[j], l);
		if (expected || rule_expects(a->policy, l))
			continue;
		sock_addr_format(l->s.family, l->s.src, l->s.sport, buf, sizeof(buf));
		f = add_finding(a, FIND_UNEXPECTED_LISTENER, l, l->s.proto);
		l->finding = a->r.n_findings;
		f->detail = xasprintf("%s %s%s is listening (%s), but no listeners entry or inbound accept rule names %s port %u",
				      proto_name(l->s.proto), buf,
				      l->dual ? " (IPv4 and IPv6)" : "",
				      listen_state_name(l->state),
				      proto_name(l->s.proto), l->s.sport);
	}
	for (i = a->first_conn; i < a->r.n_conns; i++)
		judge_conn(a, &a->r.conns[i]);
	if (primary)
		check_entries(a);
}

void audit_drift_who(struct audit *a, const char *who)
{
	struct finding *f;
	char *detail;
	size_t i;

	for (i = a->r.n_findings; i-- > 0;) {
		f = &a->r.findings[i];
		if (f->kind != FIND_RULESET_DRIFT)
			continue;
		detail = xasprintf("%s; last changed by %s (seen by portwarden daemon)",
				   f->detail, who);
		free(f->detail);
		f->detail = detail;
		return;
	}
}

void audit_drift_none(struct audit *a)
{
	a->r.drift_checked = true;
}

bool audit_drift(struct audit *a, const struct model *live, int err)
{
	const char *table = a->model && a->model->table ? a->model->table :
			    a->policy ? a->policy->table : "portwarden";
	struct finding *f;

	a->r.drift_checked = true;
	if (!err && live && a->model && model_equal(live, a->model))
		return true;
	f = add_finding(a, FIND_RULESET_DRIFT, NULL, 0);
	if (err == -ENOENT || (!err && !live))
		f->detail = xasprintf("the live table inet %s is missing", table);
	else if (err)
		f->detail = xasprintf("the live table inet %s cannot be read: %s",
				      table, strerror(-err));
	else
		f->detail = xasprintf("the live table inet %s differs from what the policy compiles to",
				      table);
	return false;
}
