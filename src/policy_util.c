// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small value helpers of the policy language shared by every stage: the
 * built-in port name table, verdict and direction names, and the text form
 * of address prefixes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "util.h"

/*
 * Port names resolve from this table only (never /etc/services), so one
 * policy compiles to the same ruleset on every host. The first name of a
 * port is the one port_name() returns.
 */
static const struct port_entry {
	const char *name;
	uint16_t lo, hi;
} port_table[] = {
	{ "ftp-data", 20, 20 },
	{ "ftp", 21, 21 },
	{ "ssh", 22, 22 },
	{ "telnet", 23, 23 },
	{ "smtp", 25, 25 },
	{ "domain", 53, 53 },
	{ "dns", 53, 53 },
	{ "bootps", 67, 67 },
	{ "bootpc", 68, 68 },
	{ "tftp", 69, 69 },
	{ "http", 80, 80 },
	{ "kerberos", 88, 88 },
	{ "pop3", 110, 110 },
	{ "ntp", 123, 123 },
	{ "imap", 143, 143 },
	{ "snmp", 161, 161 },
	{ "ldap", 389, 389 },
	{ "https", 443, 443 },
	{ "submissions", 465, 465 },
	{ "smtps", 465, 465 },
	{ "syslog", 514, 514 },
	{ "submission", 587, 587 },
	{ "ldaps", 636, 636 },
	{ "rsync", 873, 873 },
	{ "imaps", 993, 993 },
	{ "pop3s", 995, 995 },
	{ "mysql", 3306, 3306 },
	{ "postgresql", 5432, 5432 },
	{ "postgres", 5432, 5432 },
	{ "redis", 6379, 6379 },
	{ "well-known", 1, 1023 },
	{ "registered", 1024, 49151 },
	{ "ephemeral", 49152, 65535 },
};

int port_by_name(const char *name, struct port_range *out)
{
	size_t i;

	for (i = 0; i < sizeof(port_table) / sizeof(port_table[0]); i++) {
		if (strcmp(port_table[i].name, name))
			continue;
		out->lo = port_table[i].lo;
		out->hi = port_table[i].hi;
		return 0;
	}
	return -ENOENT;
}

const char *port_name(uint16_t port)
{
	size_t i;

	for (i = 0; i < sizeof(port_table) / sizeof(port_table[0]); i++)
		if (port_table[i].lo == port && port_table[i].hi == port)
			return port_table[i].name;
	return NULL;
}

const char *const *port_names(size_t *n)
{
	static const char *names[sizeof(port_table) / sizeof(port_table[0])];
	size_t i;

	for (i = 0; i < sizeof(port_table) / sizeof(port_table[0]); i++)
		names[i] = port_table[i].name;
	*n = i;
	return names;
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPT: return "accept";
	case VERDICT_DROP:   return "drop";
	case VERDICT_REJECT: return "reject";
	}
	return "?";
}

const char *direction_name(enum direction d)
{
	return d == DIR_OUT ? "outbound" : "inbound";
}

void cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	unsigned int full = c->family == 4 ? 32 : 128;

	if (!len)
		return;
	if (!inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a,
		       sizeof(a))) {
		snprintf(buf, len, "?");
		return;
	}
	if (c->plen == full)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, c->plen);
}

/* Clear the bits beyond the prefix; true when any was set. */
static bool clear_host_bits(struct cidr *c)
{
	unsigned int bytes = c->family == 4 ? 4 : 16, i;
	bool had = false;
	uint8_t mask;

	for (i = 0; i < bytes; i++) {
		if (c->plen >= (i + 1) * 8)
			continue;
		if (c->plen <= i * 8)
			mask = 0;
		else
			mask = (uint8_t)(0xff00u >> (c->plen - i * 8));
		if (c->addr[i] & ~mask)
			had = true;
		c->addr[i] &= mask;
	}
	return had;
}

int cidr_parse(const char *s, struct cidr *out, bool *host_bits)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int plen = 0, full;
	struct cidr c;
	const char *p;

	memset(&c, 0, sizeof(c));
	if (host_bits)
		*host_bits = false;
	if (!alen || alen >= INET6_ADDRSTRLEN)
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, c.addr) == 1)
		c.family = 4;
	else if (strchr(buf, ':') && inet_pton(AF_INET6, buf, c.addr) == 1)
		c.family = 6;
	else
		return -EINVAL;
	full = c.family == 4 ? 32 : 128;
	if (slash) {
		p = slash + 1;
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		if (p[0] == '0' && p[1])
			return -EINVAL;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return -EINVAL;
			plen = plen * 10 + (unsigned int)(*p - '0');
		}
		if (plen > full)
			return -EINVAL;
	} else {
		plen = full;
	}
	c.plen = (uint8_t)plen;
	if (clear_host_bits(&c) && host_bits)
		*host_bits = true;
	*out = c;
	return 0;
}

bool cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	unsigned int full_bytes, rem;

	if (outer->family != inner->family || outer->plen > inner->plen)
		return false;
	full_bytes = outer->plen / 8;
	rem = outer->plen % 8;
	if (memcmp(outer->addr, inner->addr, full_bytes))
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xff00u >> rem);

		if ((outer->addr[full_bytes] & mask) !=
		    (inner->addr[full_bytes] & mask))
			return false;
	}
	return true;
}

/* ---- the destructor ------------------------------------------------- */

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

static void host_list_free(struct host_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
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
			host_list_free(&r->to_hosts);
			host_list_free(&r->not_to_hosts);
			free(r->uids.v);
			free(r->gids.v);
			free(r->cgroup);
			for (size_t j = 0; j < r->ifaces.n; j++)
				free(r->ifaces.v[j]);
			free(r->ifaces.v);
			free(r->comment);
		}
		free(p->rules[k]);
	}
	for (i = 0; i < p->n_listeners; i++) {
		free_port_set(&sh, &p->listeners[i].ports);
		free(p->listeners[i].process);
	}
	free(p->listeners);
	for (i = 0; i < p->n_tests; i++) {
		free(p->tests[i].packet);
		free(p->tests[i].rule);
	}
	free(p->tests);
	for (i = 0; i < p->n_sets; i++) {
		free(p->sets[i].name);
		free(p->sets[i].ports.v);
		free(p->sets[i].addrs.v);
		host_list_free(&p->sets[i].hosts);
	}
	free(p->dns.resolvers);
	free(p->sets);
	free(sh.v);
	for (i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	free(p->table);
	free(p);
}

bool cidr_is_loopback(const struct cidr *c)
{
	static const uint8_t one[16] = { [15] = 1 };

	return c->family == 4 ? c->addr[0] == 127 : !memcmp(c->addr, one, 16);
}
