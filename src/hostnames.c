// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hostnames in outbound rules (SPEC §8): syntax, the sets each name's
 * addresses go into, name matching and the trusted resolvers. Shared by
 * the checker, the compiler and `portwarden daemon` (include/hostnames.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostnames.h"
#include "util.h"

#define RESOLV_CONF		"/etc/resolv.conf"
#define RESOLV_CONF_MAX		(64u << 10)
#define RESOLV_LINE_MAX		1024u

static bool is_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int hostname_check(const char *s, size_t len, size_t *pos)
{
	size_t i, start, label;

	*pos = 0;
	if (!len)
		return HOSTNAME_EMPTY;
	if (len > HOSTNAME_MAX) {
		*pos = HOSTNAME_MAX;
		return HOSTNAME_TOO_LONG;
	}
	start = 0;
	if (s[0] == '*') {
		if (len < 2 || s[1] != '.') {
			*pos = 0;
			return HOSTNAME_BAD_WILDCARD;
		}
		start = 2;
	}
	label = start;
	for (i = start; i <= len; i++) {
		unsigned char ch = i < len ? (unsigned char)s[i] : '.';

		if (ch == '.') {
			if (i == label) {
				*pos = i < len ? i : i - 1;
				return HOSTNAME_EMPTY_LABEL;
			}
			if (i - label > HOSTNAME_LABEL_MAX) {
				*pos = label;
				return HOSTNAME_LABEL_TOO_LONG;
			}
			if (s[label] == '-' || s[i - 1] == '-') {
				*pos = s[label] == '-' ? label : i - 1;
				return HOSTNAME_HYPHEN;
			}
			label = i + 1;
			continue;
		}
		if (ch == '*') {
			*pos = i;
			return HOSTNAME_BAD_WILDCARD;
		}
		if (!is_alnum(ch) && ch != '-') {
			*pos = i;
			return HOSTNAME_BAD_CHAR;
		}
	}
	return HOSTNAME_OK;
}

bool hostname_valid(const char *s, size_t len)
{
	size_t pos;

	return hostname_check(s, len, &pos) == HOSTNAME_OK;
}

const char *hostname_error_text(int e)
{
	switch (e) {
	case HOSTNAME_OK:		return "no error";
	case HOSTNAME_EMPTY:		return "an empty name";
	case HOSTNAME_TOO_LONG:		return "more than 253 characters";
	case HOSTNAME_EMPTY_LABEL:	return "an empty label";
	case HOSTNAME_LABEL_TOO_LONG:	return "a label of more than 63 characters";
	case HOSTNAME_BAD_CHAR:		return "a character other than a letter, digit, '-' or '.'";
	case HOSTNAME_BAD_WILDCARD:	return "'*' other than a leading '*.'";
	case HOSTNAME_HYPHEN:		return "a label that starts or ends with '-'";
	}
	return "an invalid name";
}

/* ---- targets -------------------------------------------------------- */

/* @dst: at least strlen(@src) + 2 bytes */
static void reduce_name(char *dst, const char *src)
{
	size_t i = 0;
	bool gap = false;

	for (; *src; src++) {
		if (is_alnum((unsigned char)*src) || *src == '_') {
			if (gap && i)
				dst[i++] = '_';
			gap = false;
			dst[i++] = *src;
		} else {
			gap = true;
		}
	}
	if (!i)
		dst[i++] = 'r';
	dst[i] = '\0';
}

struct taken {
	char **v;
	size_t n, cap;
};

static bool is_taken(const struct taken *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i], name))
			return true;
	return false;
}

static void take(struct taken *t, char *name)
{
	ARRAY_PUSH(t->v, t->n, t->cap);
	t->v[t->n - 1] = name;
}

/* The named sets of the policy compile to `S_v4`/`S_v6`: taken. */
static void take_named_sets(const struct policy *p, struct taken *t)
{
	char buf[80];

	for (size_t i = 0; i < p->n_sets; i++) {
		if (p->sets[i].is_port || p->sets[i].hosts.n)
			continue;
		snprintf(buf, sizeof(buf), "%s_v4", p->sets[i].name);
		take(t, xstrdup(buf));
		snprintf(buf, sizeof(buf), "%s_v6", p->sets[i].name);
		take(t, xstrdup(buf));
	}
}

/* Pick `<base>[_N]<suffix>_v4` / `_v6`, neither taken. */
static void pick_names(struct taken *t, const char *base, const char *suffix,
		       char **v4, char **v6)
{
	unsigned int k = 1;
	char *a, *b;

	for (;;) {
		if (k == 1) {
			a = xasprintf("%s%s_v4", base, suffix);
			b = xasprintf("%s%s_v6", base, suffix);
		} else {
			a = xasprintf("%s_%u%s_v4", base, k, suffix);
			b = xasprintf("%s_%u%s_v6", base, k, suffix);
		}
		if (!is_taken(t, a) && !is_taken(t, b))
			break;
		free(a);
		free(b);
		k++;
	}
	take(t, a);
	take(t, b);
	*v4 = a;
	*v6 = b;
}

static void add_targets(struct host_targets *out, size_t *cap,
			const struct rule *r, const struct host_list *l,
			bool exclude, const char *v4, const char *v6)
{
	for (size_t i = 0; i < l->n; i++) {
		struct host_target *t = ARRAY_PUSH(out->v, out->n, *cap);

		memset(t, 0, sizeof(*t));
		t->pattern = xstrdup(l->v[i].name);
		t->wildcard = l->v[i].wildcard;
		t->exclude = exclude;
		t->set4 = (r->families & FAM_V4) ? xstrdup(v4) : NULL;
		t->set6 = (r->families & FAM_V6) ? xstrdup(v6) : NULL;
		t->rule = r;
		t->rule_name = r->name;
		t->file = l->v[i].loc.file;
		t->line = l->v[i].loc.line;
		t->col = l->v[i].loc.col;
	}
}

int host_targets_from_policy(const struct policy *p, struct host_targets *out)
{
	struct taken t = { 0 };
	size_t cap = 0, i;

	memset(out, 0, sizeof(*out));
	dns_settings_default(&out->dns);
	if (!p)
		return -EINVAL;
	out->dns = p->dns;
	out->dns.resolvers = NULL;
	if (p->dns.n_resolvers) {
		out->dns.resolvers = xcalloc(p->dns.n_resolvers,
					     sizeof(*out->dns.resolvers));
		memcpy(out->dns.resolvers, p->dns.resolvers,
		       p->dns.n_resolvers * sizeof(*out->dns.resolvers));
	}
	take_named_sets(p, &t);
	for (i = 0; i < p->n_rules[DIR_OUT]; i++) {
		const struct rule *r = &p->rules[DIR_OUT][i];
		char *base, *v4, *v6;

		if (!r->to_hosts.n && !r->not_to_hosts.n)
			continue;
		base = xmalloc(strlen(r->name) * 2 + 2);
		reduce_name(base, r->name);
		if (r->to_hosts.n) {
			pick_names(&t, base, "_dns", &v4, &v6);
			add_targets(out, &cap, r, &r->to_hosts, false, v4, v6);
		}
		if (r->not_to_hosts.n) {
			pick_names(&t, base, "_notdns", &v4, &v6);
			add_targets(out, &cap, r, &r->not_to_hosts, true, v4,
				    v6);
		}
		free(base);
	}
	for (i = 0; i < t.n; i++)
		free(t.v[i]);
	free(t.v);
	return 0;
}

void host_targets_release(struct host_targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].pattern);
		free(t->v[i].set4);
		free(t->v[i].set6);
	}
	free(t->v);
	free(t->dns.resolvers);
	memset(t, 0, sizeof(*t));
}

bool host_target_matches(const struct host_target *t, const char *qname)
{
	size_t ql = strlen(qname), pl = strlen(t->pattern), i, off;

	if (ql && qname[ql - 1] == '.')
		ql--;
	if (t->wildcard) {
		/* at least one label, then ".pattern" */
		if (ql < pl + 2 || qname[ql - pl - 1] != '.')
			return false;
		off = ql - pl;
		if (qname[0] == '.' || qname[off - 2] == '.')
			return false;
	} else {
		if (ql != pl)
			return false;
		off = 0;
	}
	for (i = 0; i < pl; i++)
		if (lower(qname[off + i]) != t->pattern[i])
			return false;
	return true;
}

/* ---- resolvers ------------------------------------------------------ */

void dns_settings_default(struct dns_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->min_ttl = DNS_DEFAULT_MIN_TTL;
	s->max_ttl = DNS_DEFAULT_MAX_TTL;
	s->grace = DNS_DEFAULT_GRACE;
	s->max_addresses = DNS_DEFAULT_MAX_ADDRS;
	s->resolvers_system = true;
	s->queue_num = DNS_DEFAULT_QUEUE;
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool have_addr(const struct cidr *v, size_t n, const struct cidr *a)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].family == a->family && v[i].plen == a->plen &&
		    !memcmp(v[i].addr, a->addr, 16))
			return true;
	return false;
}

/* One line (no newline) of at most RESOLV_LINE_MAX bytes. */
static void resolv_line(const char *l, size_t len, struct cidr **out,
			size_t *n, size_t *cap)
{
	static const char kw[] = "nameserver";
	char addr[64];
	size_t i = 0, a;
	struct cidr c;
	bool hb;

	while (i < len && is_blank(l[i]))
		i++;
	if (len - i < sizeof(kw) || memcmp(l + i, kw, sizeof(kw) - 1) ||
	    !is_blank(l[i + sizeof(kw) - 1]))
		return;
	i += sizeof(kw) - 1;
	while (i < len && is_blank(l[i]))
		i++;
	for (a = 0; i < len && !is_blank(l[i]) && l[i] != '%' &&
		    l[i] != '#' && l[i] != ';'; i++) {
		if (a + 1 >= sizeof(addr))
			return;
		if (l[i] == '/' || l[i] == '\0')
			return;		/* an address, not a prefix */
		addr[a++] = l[i];
	}
	addr[a] = '\0';
	if (!a || cidr_parse(addr, &c, &hb) < 0)
		return;
	if (have_addr(*out, *n, &c))
		return;
	*ARRAY_PUSH(*out, *n, *cap) = c;
}

size_t resolv_conf_parse(const char *buf, size_t len, struct cidr **out,
			 size_t *n)
{
	size_t i = 0, cap = 0;

	*out = NULL;
	*n = 0;
	while (i < len && *n < DNS_MAX_RESOLVERS) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (buf + i)) : len - i;

		if (ll <= RESOLV_LINE_MAX)
			resolv_line(buf + i, ll, out, n, &cap);
		i += ll + 1;
	}
	return *n;
}

bool dns_resolver_in(const struct cidr *list, size_t n, uint8_t family,
		     const uint8_t *addr)
{
	struct cidr a = { .family = family, .plen = family == 4 ? 32 : 128 };

	memcpy(a.addr, addr, family == 4 ? 4 : 16);
	for (size_t i = 0; i < n; i++)
		if (cidr_contains(&list[i], &a))
			return true;
	return false;
}

static int read_small(const char *path, char **buf, size_t *len)
{
	size_t got = 0;
	ssize_t r;
	int fd, e = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	*buf = xmalloc(RESOLV_CONF_MAX);
	while (got < RESOLV_CONF_MAX) {
		r = read(fd, *buf + got, RESOLV_CONF_MAX - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = -errno;
			break;
		}
		if (!r)
			break;
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return e;
}

int dns_trusted_resolvers(const struct dns_settings *s,
			  const char *resolv_conf, struct cidr **out,
			  size_t *n)
{
	struct cidr stub4 = { .family = 4, .plen = 8, .addr = { 127 } };
	struct cidr stub6 = { .family = 6, .plen = 128, .addr = { [15] = 1 } };
	size_t cap, len;
	char *buf;
	int e;

	*out = NULL;
	*n = 0;
	if (!s->resolvers_system) {
		*out = xcalloc(s->n_resolvers + 1, sizeof(**out));
		memcpy(*out, s->resolvers, s->n_resolvers * sizeof(**out));
		*n = s->n_resolvers;
		return 0;
	}
	e = read_small(resolv_conf ? resolv_conf : RESOLV_CONF, &buf, &len);
	if (e == -ENOENT)
		e = 0;
	if (buf)
		resolv_conf_parse(buf, len, out, n);
	free(buf);
	cap = *n;
	*ARRAY_PUSH(*out, *n, cap) = stub4;
	*ARRAY_PUSH(*out, *n, cap) = stub6;
	return e;
}
