// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * learn's observations -> a proposed policy (SPEC §10; proposal.h has the
 * rules of the proposal). Observations are deduplicated by hashing: a
 * connection seen in many snapshots is one connection, an address seen in
 * many connections one address; the tables are bounded and what does not
 * fit is counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proposal.h"
#include "util.h"

struct addr_obs {
	struct cidr a;
	unsigned long n;
	time_t first, last;
	const char *name;	/* a learned hostname (proposal_hostname) */
};

struct group {
	enum direction dir;
	uint8_t proto;
	uint16_t port;
	char *owner;		/* DIR_OUT: "user:NAME" or "cgroup:PATH" */
	bool listener;
	bool v4, v6;		/* listener families */
	bool has_local;		/* a listener on a specific address */
	struct cidr local;
	char *comms[4];
	size_t n_comms;
	struct addr_obs *addrs;
	size_t n_addrs, cap_addrs;
	unsigned long conns, snapshots;
	time_t first, last;
	char name[64];
};

/* uint64 key -> uint32 value, open addressing; key 0 is "empty" */
struct hmap {
	uint64_t *k;
	uint32_t *v;
	size_t n, cap;
};

struct proposal {
	struct group *g;
	size_t n_g, cap_g;
	struct hmap conns;	/* connection hash -> 1 */
	struct hmap addrs;	/* (group, address) hash -> index + 1 */
	struct hmap names;	/* address hash -> name index + 1 */
	char **name_v;
	size_t n_names, cap_names;
	unsigned long dropped;
};

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static uint32_t *hmap_slot(struct hmap *m, uint64_t key, bool add)
{
	size_t i;

	if (add && (m->n + 1) * 2 > m->cap) {
		struct hmap old = *m;

		m->cap = m->cap ? m->cap * 2 : 1024;
		m->k = xcalloc(m->cap, sizeof(*m->k));
		m->v = xcalloc(m->cap, sizeof(*m->v));
		m->n = 0;
		for (i = 0; i < old.cap; i++)
			if (old.k[i])
				*hmap_slot(m, old.k[i], true) = old.v[i];
		free(old.k);
		free(old.v);
	}
	if (!m->cap)
		return NULL;
	for (i = (size_t)(key % m->cap);; i = (i + 1) % m->cap) {
		if (m->k[i] == key)
			return &m->v[i];
		if (!m->k[i]) {
			if (!add)
				return NULL;
			m->k[i] = key;
			m->v[i] = 0;
			m->n++;
			return &m->v[i];
		}
	}
}

static void hmap_free(struct hmap *m)
{
	free(m->k);
	free(m->v);
}

struct proposal *proposal_new(void)
{
	return xcalloc(1, sizeof(struct proposal));
}

void proposal_free(struct proposal *p)
{
	size_t i, k;

	if (!p)
		return;
	for (i = 0; i < p->n_g; i++) {
		free(p->g[i].owner);
		for (k = 0; k < p->g[i].n_comms; k++)
			free(p->g[i].comms[k]);
		free(p->g[i].addrs);
	}
	free(p->g);
	for (i = 0; i < p->n_names; i++)
		free(p->name_v[i]);
	free(p->name_v);
	hmap_free(&p->conns);
	hmap_free(&p->addrs);
	hmap_free(&p->names);
	free(p);
}

unsigned long proposal_dropped(const struct proposal *p)
{
	return p->dropped;
}

static void seen(time_t *first, time_t *last, time_t when)
{
	if (!*first || when < *first)
		*first = when;
	if (when > *last)
		*last = when;
}

static struct group *group_get(struct proposal *p, enum direction dir,
			       uint8_t proto, uint16_t port, const char *owner)
{
	struct group *g;
	size_t i;

	for (i = 0; i < p->n_g; i++) {
		g = &p->g[i];
		if (g->dir == dir && g->proto == proto && g->port == port &&
		    !strcmp(g->owner ? g->owner : "", owner ? owner : ""))
			return g;
	}
	if (p->n_g == PROPOSAL_MAX_GROUPS) {
		p->dropped++;
		return NULL;
	}
	g = ARRAY_PUSH(p->g, p->n_g, p->cap_g);
	memset(g, 0, sizeof(*g));
	g->dir = dir;
	g->proto = proto;
	g->port = port;
	g->owner = owner ? xstrdup(owner) : NULL;
	return g;
}

static size_t cidr_bytes(const struct cidr *c)
{
	return c->family == 4 ? 4 : 16;
}

void proposal_listener(struct proposal *p, uint8_t proto, const struct cidr *local,
		       uint16_t port, const char *comm, time_t when)
{
	struct group *g = group_get(p, DIR_IN, proto, port, NULL);
	static const uint8_t zero[16];
	size_t k;

	if (!g)
		return;
	g->listener = true;
	g->snapshots++;
	seen(&g->first, &g->last, when);
	if (local->family == 4)
		g->v4 = true;
	else
		g->v6 = true;
	if (!g->has_local && memcmp(local->addr, zero, cidr_bytes(local))) {
		g->has_local = true;
		g->local = *local;
	}
	if (!comm || !*comm)
		return;
	for (k = 0; k < g->n_comms; k++)
		if (!strcmp(g->comms[k], comm))
			return;
	if (g->n_comms < ARRAY_SIZE(g->comms))
		g->comms[g->n_comms++] = xstrdup(comm);
}

void proposal_flow(struct proposal *p, enum direction dir, uint8_t proto,
		   const struct cidr *remote, uint16_t port, uint16_t sport,
		   const char *owner, time_t when)
{
	struct group *g = group_get(p, dir, proto, port, dir == DIR_OUT ? owner : NULL);
	uint64_t h, ah;
	uint32_t *slot;
	struct addr_obs *a;
	size_t gi;

	if (!g)
		return;
	seen(&g->first, &g->last, when);
	gi = (size_t)(g - p->g);
	/* the connection: group, other end, both ports */
	h = fnv(0xcbf29ce484222325ULL, &gi, sizeof(gi));
	h = fnv(h, remote->addr, cidr_bytes(remote));
	h = fnv(h, &sport, sizeof(sport));
	slot = hmap_slot(&p->conns, h, p->conns.n < PROPOSAL_MAX_CONNS);
	if (!slot) {
		p->dropped++;	/* counted no more: the count is a floor */
	} else if (!*slot) {
		*slot = 1;
		g->conns++;
	}
	ah = fnv(fnv(0x84222325cbf29ce4ULL, &gi, sizeof(gi)), remote->addr,
		 cidr_bytes(remote));
	slot = hmap_slot(&p->addrs, ah, false);
	if (!slot) {
		if (g->n_addrs == PROPOSAL_MAX_ADDRS ||
		    p->addrs.n >= PROPOSAL_MAX_ADDRS_TOTAL) {
			p->dropped++;
			return;
		}
		slot = hmap_slot(&p->addrs, ah, true);
		a = ARRAY_PUSH(g->addrs, g->n_addrs, g->cap_addrs);
		memset(a, 0, sizeof(*a));
		a->a = *remote;
		a->a.plen = remote->family == 4 ? 32 : 128;
		*slot = (uint32_t)g->n_addrs;
	}
	a = &g->addrs[*slot - 1];
	a->n++;
	seen(&a->first, &a->last, when);
}

void proposal_hostname(struct proposal *p, const struct cidr *addr,
		       const char *name)
{
	uint32_t *slot = hmap_slot(&p->names, fnv(0x9e3779b97f4a7c15ULL, addr->addr,
						 cidr_bytes(addr)), true);

	if (*slot)
		return;		/* the first name learned for it */
	*ARRAY_PUSH(p->name_v, p->n_names, p->cap_names) = xstrdup(name);
	*slot = (uint32_t)p->n_names;
}

/* ---- writing the policy ---- */

static const char *proto_word(uint8_t proto)
{
	return proto == 6 ? "tcp" : "udp";
}

static void iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* a YAML double-quoted scalar of someone else's bytes */
static void yq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static int cmp_addr(const void *x, const void *y)
{
	const struct addr_obs *a = x, *b = y;

	if (a->a.family != b->a.family)
		return a->a.family - b->a.family;
	return memcmp(a->a.addr, b->a.addr, 16);
}

static int cmp_group(const void *x, const void *y)
{
	const struct group *a = *(const struct group *const *)x;
	const struct group *b = *(const struct group *const *)y;

	if (a->proto != b->proto)
		return a->proto - b->proto;
	if (a->port != b->port)
		return a->port - b->port;
	return strcmp(a->owner ? a->owner : "", b->owner ? b->owner : "");
}

/* same /24 (IPv4) or /64 (IPv6) */
static bool same_net(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == 4 ? 3 : 8);
}

static const char *name_of(const struct proposal *p, const struct cidr *a)
{
	uint32_t *slot = hmap_slot((struct hmap *)&p->names,
				   fnv(0x9e3779b97f4a7c15ULL, a->addr, cidr_bytes(a)),
				   false);

	return slot && *slot ? p->name_v[*slot - 1] : NULL;
}

/* the rule's name: dir-proto-port[-owner], letters, digits, '-', '_', '.' */
static void group_name(struct group *g)
{
	const char *o = g->owner ? strchr(g->owner, ':') + 1 : NULL;
	const char *slash = o ? strrchr(o, '/') : NULL;
	size_t n;
	char *q;

	if (slash && slash[1])
		o = slash + 1;
	n = (size_t)snprintf(g->name, sizeof(g->name), "%s-%s-%u%s%.40s",
			     g->dir == DIR_IN ? "in" : "out", proto_word(g->proto),
			     g->port, o && *o ? "-" : "", o ? o : "");
	for (q = g->name; n && *q; q++)
		if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_' || *q == '.'))
			*q = '_';
}

struct dest {
	struct cidr c;
	const char *name;
	unsigned long widened;	/* addresses it stands for (0: one) */
};

/* the destinations of @g: addresses sorted, a /24 or /64 where at least
 * PROPOSAL_WIDEN_MIN of its addresses were seen, names where known */
static struct dest *dests(const struct proposal *p, struct group *g, size_t *n,
			  unsigned long *widened_nets, unsigned long *widened_addrs)
{
	struct dest *v = xcalloc(g->n_addrs + 1, sizeof(*v));
	size_t i = 0, j, k;

	*n = 0;
	*widened_nets = *widened_addrs = 0;
	qsort(g->addrs, g->n_addrs, sizeof(*g->addrs), cmp_addr);
	while (i < g->n_addrs) {
		for (j = i + 1; j < g->n_addrs && same_net(&g->addrs[i].a, &g->addrs[j].a); j++)
			;
		if (j - i >= PROPOSAL_WIDEN_MIN) {
			struct dest *d = &v[(*n)++];

			d->c = g->addrs[i].a;
			d->c.plen = d->c.family == 4 ? 24 : 64;
			memset(d->c.addr + d->c.plen / 8, 0, 16 - d->c.plen / 8);
			d->widened = j - i;
			(*widened_nets)++;
			*widened_addrs += j - i;
		} else {
			for (k = i; k < j; k++) {
				v[*n].c = g->addrs[k].a;
				v[*n].name = name_of(p, &g->addrs[k].a);
				(*n)++;
			}
		}
		i = j;
	}
	return v;
}

static void rule_comment(FILE *f, const struct group *g, unsigned long wn,
			 unsigned long wa)
{
	char a[32], b[32], buf[160];
	int n;

	iso(g->first, a, sizeof(a));
	iso(g->last, b, sizeof(b));
	if (g->dir == DIR_IN && !g->conns)
		n = snprintf(buf, sizeof(buf), "listening, seen %s to %s", a, b);
	else
		n = snprintf(buf, sizeof(buf), "%lu connection%s %s to %s", g->conns,
			     g->conns == 1 ? "" : "s", a, b);
	if (wn == 1)
		snprintf(buf + n, sizeof(buf) - (size_t)n, "; a /%u widened from %lu addresses",
			 g->addrs[0].a.family == 4 ? 24u : 64u, wa);
	else if (wn)
		snprintf(buf + n, sizeof(buf) - (size_t)n, "; %lu nets widened from %lu addresses",
			 wn, wa);
	buf[100] = '\0';	/* the checker's limit */
	fprintf(f, "    comment: \"%s\"\n", buf);
}

static void write_addr(FILE *f, const struct cidr *c, bool host)
{
	char s[INET6_ADDRSTRLEN + 8];

	cidr_format(c, s, sizeof(s));
	if (host && strchr(s, '/'))
		*strchr(s, '/') = '\0';
	fputs(s, f);
}

static void write_listeners(FILE *f, struct group **v, size_t n)
{
	size_t i, k;

	fputs("\nlisteners:\n", f);
	for (i = 0; i < n; i++) {
		struct group *g = v[i];

		fprintf(f, "  - { proto: %s, port: %u", proto_word(g->proto), g->port);
		if (g->n_comms) {
			fputs(", process: ", f);
			yq(f, g->comms[0]);
		}
		fputs(" }", f);
		if (g->n_comms > 1) {
			fputs("   # also held by", f);
			for (k = 1; k < g->n_comms; k++) {
				fputc(' ', f);
				yq(f, g->comms[k]);
			}
		}
		fputc('\n', f);
	}
}

static void write_inbound(FILE *f, struct group **v, size_t n)
{
	size_t i;

	fputs("\ninbound:\n", f);
	for (i = 0; i < n; i++) {
		struct group *g = v[i];

		fprintf(f, "  - name: %s\n    proto: %s\n    port: %u\n", g->name,
			proto_word(g->proto), g->port);
		if (g->n_addrs)
			fprintf(f, "    # from %zu address%s\n", g->n_addrs,
				g->n_addrs == 1 ? "" : "es");
		rule_comment(f, g, 0, 0);
	}
}

static void write_outbound(const struct proposal *p, FILE *f, struct group **v,
			   size_t n)
{
	size_t i, k, nd;

	fputs("\noutbound:\n", f);
	for (i = 0; i < n; i++) {
		struct group *g = v[i];
		unsigned long wn, wa;
		struct dest *d = dests(p, g, &nd, &wn, &wa);
		const char *o = strchr(g->owner, ':') + 1;

		for (k = 0; k < nd; k++)
			if (d[k].widened) {
				fputs("  # ", f);
				write_addr(f, &d[k].c, false);
				fprintf(f, ": widened from %lu addresses seen\n", d[k].widened);
			} else if (d[k].name) {
				/* a comment: the address in `to:` matches
				 * without the daemon, the name only once it
				 * learns it again */
				fputs("  # ", f);
				write_addr(f, &d[k].c, true);
				fprintf(f, " is %s (learned by the daemon)\n", d[k].name);
			}
		fprintf(f, "  - name: %s\n    proto: %s\n    port: %u\n", g->name,
			proto_word(g->proto), g->port);
		if (!strncmp(g->owner, "user:", 5)) {
			fputs("    user: ", f);
			yq(f, o);
		} else {
			fputs("    cgroup: ", f);
			yq(f, o);
		}
		fputs("\n    to: [", f);
		for (k = 0; k < nd; k++) {
			fputs(k ? ", \"" : "\"", f);
			write_addr(f, &d[k].c, !d[k].widened);
			fputc('"', f);
		}
		fputs("]\n", f);
		rule_comment(f, g, wn, wa);
		free(d);
	}
}

static void write_tests(FILE *f, struct group **in, size_t n_in,
			struct group **out, size_t n_out)
{
	size_t i;

	fputs("\n# one connection of each rule (portwarden test)\ntests:\n", f);
	for (i = 0; i < n_in; i++) {
		const struct group *g = in[i];

		fprintf(f, "  - { packet: \"in %s ", proto_word(g->proto));
		if (g->has_local && g->local.family == 6) {
			fputc('[', f);
			write_addr(f, &g->local, true);
			fputc(']', f);
		} else if (g->has_local) {
			write_addr(f, &g->local, true);
		} else {
			fputs(g->v4 ? "192.0.2.1" : "[2001:db8::1]", f);
		}
		fprintf(f, ":%u\", expect: accept, rule: %s }\n", g->port, g->name);
	}
	for (i = 0; i < n_out; i++) {
		const struct group *g = out[i];
		const struct addr_obs *a = g->addrs;
		const char *o = strchr(g->owner, ':') + 1;

		if (!g->n_addrs)
			continue;
		fprintf(f, "  - { packet: \"out %s %s", proto_word(g->proto),
			a->a.family == 6 ? "[" : "");
		write_addr(f, &a->a, true);
		fprintf(f, "%s:%u %s ", a->a.family == 6 ? "]" : "", g->port,
			!strncmp(g->owner, "user:", 5) ? "--user" : "--cgroup");
		/* a user or cgroup name with a blank or quote: single-quoted
		 * in the packet; the YAML string escapes the rest */
		fputs("'", f);
		for (; *o; o++) {
			unsigned char c = (unsigned char)*o;

			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '\'')
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
		fprintf(f, "'\", expect: accept, rule: %s }\n", g->name);
	}
}

int proposal_write(const struct proposal *p, const struct proposal_stats *st,
		   FILE *f)
{
	struct group **lis = xcalloc(p->n_g + 1, sizeof(*lis));
	struct group **out = xcalloc(p->n_g + 1, sizeof(*out));
	size_t n_lis = 0, n_out = 0, i, k;
	bool dns = false;
	char a[32], b[32];

	for (i = 0; i < p->n_g; i++) {
		struct group *g = &p->g[i];

		if (g->dir == DIR_IN && g->listener)
			lis[n_lis++] = g;
		else if (g->dir == DIR_OUT && g->n_addrs)
			out[n_out++] = g;
		if (g->dir == DIR_OUT && g->port == 53)
			dns = true;
	}
	qsort(lis, n_lis, sizeof(*lis), cmp_group);
	qsort(out, n_out, sizeof(*out), cmp_group);
	for (i = 0; i < n_lis; i++)
		group_name(lis[i]);
	for (i = 0; i < n_out; i++) {
		group_name(out[i]);
		/* two owners that clean up to one name */
		for (k = 0; k < i; k++)
			if (!strcmp(out[k]->name, out[i]->name)) {
				size_t len = strlen(out[i]->name);

				snprintf(out[i]->name + (len > 50 ? 50 : len),
					 sizeof(out[i]->name) - (len > 50 ? 50 : len),
					 "-%zu", i);
				k = (size_t)-1;
			}
	}
	iso(st->start, a, sizeof(a));
	iso(st->end, b, sizeof(b));
	fprintf(f, "# Proposed by portwarden learn, %s to %s: %lu snapshot%s (%lu sockets),\n"
		"# %lu monitor event%s used of %lu (%lu unreadable lines skipped).\n"
		"# Hostnames: %s.\n"
		"# It allows what was seen and nothing else: review it, then\n"
		"# portwarden check / test / apply --dry-run.\n",
		a, b, st->snapshots, st->snapshots == 1 ? "" : "s", st->sockets,
		st->events_used, st->events_used == 1 ? "" : "s", st->events,
		st->events_bad, st->hostnames ? st->hostnames : "none");
	if (p->dropped)
		fprintf(f, "# %lu observations did not fit the learner's bounds and are not in it.\n",
			p->dropped);
	if (!dns)
		fputs("# No DNS (port 53) was seen: if this host resolves names, add a rule\n"
		      "# for its resolvers before applying.\n", f);
	fputs("portwarden: 1\ndefaults:\n  inbound: drop\n  outbound: reject\n", f);
	if (n_lis) {
		write_listeners(f, lis, n_lis);
		write_inbound(f, lis, n_lis);
	}
	if (n_out)
		write_outbound(p, f, out, n_out);
	if (n_lis || n_out)
		write_tests(f, lis, n_lis, out, n_out);
	free(lis);
	free(out);
	return ferror(f) ? -EIO : 0;
}
