// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * YAML trees → checked struct policy.
 *
 * Files merge in order. Top-level settings are remembered with where they
 * were set, so that two files disagreeing are reported with both places;
 * sets, rules and listeners are collected from every file first and
 * checked afterwards, so a rule may use a set defined in a later file
 * (conf.d style). Every problem is one diag entry at the offending node;
 * the checker never stops at the first. At the end the entries of this
 * run are sorted by file order, line and column, as a compiler prints
 * them.
 *
 * Values are normalised once (port ranges sorted and merged, prefixes
 * sorted and de-duplicated, policy_lint.c), so the compiler and the lint
 * work on sorted arrays in O(n log n).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostnames.h"
#include "policy_check.h"
#include "policy_ctx.h"
#include "policy_lint.h"
#include "policy_values.h"
#include "util.h"

enum rule_key {
	RK_NAME, RK_ACTION, RK_PROTO, RK_PORT, RK_DPORT, RK_SPORT, RK_FROM,
	RK_TO, RK_NOT_FROM, RK_NOT_TO, RK_USER, RK_GROUP, RK_CGROUP,
	RK_INTERFACE, RK_FAMILY, RK_LOG, RK_COMMENT, RK_MAX
};

static const char *const rule_keys[RK_MAX] = {
	"name", "action", "proto", "port", "dport", "sport", "from", "to",
	"not_from", "not_to", "user", "group", "cgroup", "interface", "family",
	"log", "comment",
};

static const char *const verdict_names[] = { "accept", "drop", "reject" };
static const char *const proto_names[] = { "tcp", "udp", "icmp", "icmpv6",
					   "any" };

static unsigned int parse_protos(struct ctx *c, const struct node *n)
{
	struct node *const *items;
	struct node *one = (struct node *)n;
	unsigned int bits = 0;
	size_t count, i;
	int v;

	items = chk_field_items(c, &one, n, "a protocol", &count);
	if (!items)
		return 0;
	for (i = 0; i < count; i++)
		if (!chk_get_enum(c, items[i], "protocol", proto_names,
			      ARRAY_SIZE(proto_names), &v))
			bits |= 1u << v;
	if (bits & PROTO_ANY)
		return PROTO_ANY;
	return bits;	/* 0 after errors */
}

/* Intersect the rule's families with what one more field allows; @why
 * says what narrowed them last, for the message of a contradiction. */
static void narrow_families(struct ctx *c, const struct node *n,
			    unsigned int *fam, const char **why,
			    unsigned int allowed, const char *because)
{
	if (allowed == FAM_BOTH || !allowed)
		return;
	if (!(*fam & allowed)) {
		err(c, n, "%s contradicts %s", *why ? *why : "the rule",
		    because);
		return;
	}
	if ((*fam & allowed) != *fam) {
		*fam &= allowed;
		*why = because;
	}
}

static const char *only_family(unsigned int f, const char *field, char *buf,
			       size_t len)
{
	snprintf(buf, len, "%s: only %s addresses", field,
		 f == FAM_V4 ? "IPv4" : "IPv6");
	return buf;
}

static void check_rule(struct ctx *c, struct pending *pd, enum direction dir,
		       unsigned int index, struct rule *r)
{
	const struct node *f[RK_MAX] = { 0 };
	const struct node *n = pd->val, *pnode;
	char why_buf[3][64];
	const char *why = NULL;
	unsigned int fam = FAM_BOTH, implied;
	bool b;
	size_t i;
	int v;

	c->file = pd->file;
	r->loc = at(c, n);
	r->dir = dir;
	r->index = index;
	r->action = VERDICT_ACCEPT;
	r->dport.any = r->sport.any = true;
	r->from.any = r->to.any = true;
	r->families = FAM_BOTH;
	if (n->kind != NODE_MAP) {
		r->name = xasprintf("%s[%u]", direction_name(dir), index);
		err(c, n, "%s: a rule must be a mapping, not %s", r->name,
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i += 2) {
		int k = chk_key_index(n->items[i], rule_keys, RK_MAX);

		if (k < 0)
			chk_unknown_key(c, n->items[i], "a rule", rule_keys, RK_MAX);
		else
			f[k] = n->items[i + 1];
	}
	if (f[RK_NAME] && chk_want_scalar(c, f[RK_NAME], "a rule name")) {
		if (!chk_text_ok(f[RK_NAME]->str, f[RK_NAME]->len, 64))
			err(c, f[RK_NAME], "rule name must be 1 to 64 printable ASCII characters without '\"'");
		else
			r->name = xstrdup(f[RK_NAME]->str);
	}
	if (!r->name)
		r->name = xasprintf("%s[%u]", direction_name(dir), index);
	if (f[RK_ACTION] && !chk_get_enum(c, f[RK_ACTION], "action", verdict_names,
				      ARRAY_SIZE(verdict_names), &v))
		r->action = (enum verdict)v;
	if (f[RK_PORT] && f[RK_DPORT])
		err(c, f[RK_DPORT], "'dport' is another name for 'port'; give only one");
	pnode = f[RK_PORT] ? f[RK_PORT] : f[RK_DPORT];
	if (f[RK_PROTO])
		r->protos = parse_protos(c, f[RK_PROTO]);
	else
		r->protos = (pnode || f[RK_SPORT]) ? PROTO_TCP | PROTO_UDP :
						     PROTO_ANY;
	if (pnode)
		chk_parse_ports(c, pnode, "port", &r->dport);
	if (f[RK_SPORT]) {
		chk_parse_ports(c, f[RK_SPORT], "sport", &r->sport);
		if (chk_names_ephemeral(c, f[RK_SPORT]))
			r->sport_ephemeral = at(c, f[RK_SPORT]);
	}
	if (!r->protos)		/* errors reported; don't pile on */
		r->protos = (pnode || f[RK_SPORT]) ? PROTO_TCP | PROTO_UDP :
						     PROTO_ANY;
	else if ((pnode || f[RK_SPORT]) &&
		 (r->protos & (PROTO_ICMP | PROTO_ICMPV6 | PROTO_ANY))) {
		const char *p = (r->protos & PROTO_ANY) ? "any" :
				(r->protos & PROTO_ICMP) ? "icmp" : "icmpv6";

		err(c, pnode ? pnode : f[RK_SPORT],
		    "'%s' needs proto tcp or udp; %s has no ports",
		    pnode ? (f[RK_PORT] ? "port" : "dport") : "sport", p);
	}
	if (f[RK_FROM])
		chk_parse_addrs(c, f[RK_FROM], "from", false, &r->from, NULL);
	if (f[RK_TO])
		chk_parse_addrs(c, f[RK_TO], "to", false, &r->to,
				dir == DIR_OUT ? &r->to_hosts : NULL);
	if (f[RK_NOT_FROM])
		chk_parse_addrs(c, f[RK_NOT_FROM], "not_from", true,
				&r->not_from, NULL);
	if (f[RK_NOT_TO])
		chk_parse_addrs(c, f[RK_NOT_TO], "not_to", true, &r->not_to,
				dir == DIR_OUT ? &r->not_to_hosts : NULL);
	if (r->to.any && r->to_hosts.n) {
		err(c, f[RK_TO], "'to' holds 'any' and hostnames; 'any' already matches every address (drop the one or the other)");
	}
	if (r->to_hosts.n || r->not_to_hosts.n)
		c->p->has_hosts = true;
	if (f[RK_USER] || f[RK_GROUP] || f[RK_CGROUP]) {
		const int ks[] = { RK_USER, RK_GROUP, RK_CGROUP };

		for (i = 0; i < ARRAY_SIZE(ks); i++) {
			const struct node *k = f[ks[i]];

			if (!k || dir != DIR_IN)
				continue;
			err(c, k, "'%s' applies to outbound rules only (inbound packets have no local socket owner yet)",
			    rule_keys[ks[i]]);
			f[ks[i]] = NULL;
		}
	}
	if (f[RK_USER])
		chk_parse_ids(c, f[RK_USER], false, &r->uids);
	if (f[RK_GROUP])
		chk_parse_ids(c, f[RK_GROUP], true, &r->gids);
	if (f[RK_CGROUP] && chk_want_scalar(c, f[RK_CGROUP], "a cgroup path")) {
		const char *s = f[RK_CGROUP]->str;
		size_t len;

		while (*s == '/')
			s++;
		len = strlen(s);
		while (len && s[len - 1] == '/')
			len--;
		if (!chk_text_ok(s, len, 4096) || strstr(s, "//") ||
		    strstr(s, ".."))
			err(c, f[RK_CGROUP], "bad cgroup path '%s' (a cgroup v2 path such as system.slice/nginx.service)",
			    chk_q(c, f[RK_CGROUP]->str));
		else
			r->cgroup = xstrndup(s, len);
	}
	if (f[RK_INTERFACE])
		chk_parse_ifaces(c, f[RK_INTERFACE], &r->ifaces);
	if (f[RK_LOG] && !chk_get_bool(c, f[RK_LOG], &b))
		r->log = b;
	if (f[RK_COMMENT] && chk_want_scalar(c, f[RK_COMMENT], "a comment")) {
		if (!chk_text_ok(f[RK_COMMENT]->str, f[RK_COMMENT]->len, 100))
			err(c, f[RK_COMMENT], "comment must be 1 to 100 printable ASCII characters without '\"'");
		else
			r->comment = xstrdup(f[RK_COMMENT]->str);
	}
	/* families: family ∩ from ∩ to ∩ what the protocols imply */
	if (f[RK_FAMILY]) {
		static const char *const fams[] = { "ipv4", "ipv6" };

		if (!chk_get_enum(c, f[RK_FAMILY], "family", fams, 2, &v)) {
			fam = v ? FAM_V6 : FAM_V4;
			snprintf(why_buf[0], sizeof(why_buf[0]), "family %s",
				 fams[v]);
			why = why_buf[0];
		}
	}
	if (f[RK_FROM] && !r->from.any && r->from.n)
		narrow_families(c, f[RK_FROM], &fam, &why,
				chk_addr_families(&r->from),
				only_family(chk_addr_families(&r->from), "from",
					    why_buf[1], sizeof(why_buf[1])));
	if (f[RK_TO] && !r->to.any && r->to.n && !r->to_hosts.n)
		narrow_families(c, f[RK_TO], &fam, &why, chk_addr_families(&r->to),
				only_family(chk_addr_families(&r->to), "to",
					    why_buf[2], sizeof(why_buf[2])));
	implied = 0;
	if (r->protos & PROTO_ICMP)
		implied |= FAM_V4;
	if (r->protos & PROTO_ICMPV6)
		implied |= FAM_V6;
	if (r->protos & (PROTO_TCP | PROTO_UDP | PROTO_ANY))
		implied |= FAM_BOTH;
	if (fam && f[RK_PROTO])
		narrow_families(c, f[RK_PROTO], &fam, &why, implied,
				implied == FAM_V4 ? "proto icmp (IPv4 only)" :
						    "proto icmpv6 (IPv6 only)");
	r->families = fam ? fam : FAM_BOTH;
}

/* A field that is present but empty: the rule never matches. */
static int rule_name_cmp(const void *a, const void *b, void *arg)
{
	const struct rule *rules = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(rules[x].name, rules[y].name);

	if (r)
		return r;
	return (x > y) - (x < y);
}

static void check_rule_names(struct ctx *c, enum direction dir)
{
	struct rule *rules = c->p->rules[dir];
	size_t n = c->p->n_rules[dir], i, first = 0;
	size_t *order;

	if (n < 2)
		return;
	order = xmalloc(n * sizeof(*order));
	for (i = 0; i < n; i++)
		order[i] = i;
	qsort_r(order, n, sizeof(*order), rule_name_cmp, rules);
	for (i = 1; i < n; i++) {
		const struct rule *a = &rules[order[first]];
		const struct rule *b = &rules[order[i]];

		if (strcmp(a->name, b->name)) {
			first = i;
			continue;
		}
		err_at(c, &b->loc,
			   "duplicate %s rule name '%s' (first at %s:%u:%u)",
			   direction_name(dir), b->name, a->loc.file,
			   a->loc.line, a->loc.col);
	}
	free(order);
}

/* ---- listeners ------------------------------------------------------ */

static void check_listener(struct ctx *c, struct pending *pd,
			   struct listener *l)
{
	static const char *const keys[] = { "proto", "port", "process", "family" };
	static const char *const lprotos[] = { "tcp", "udp" };
	static const char *const fams[] = { "ipv4", "ipv6" };
	const struct node *n = pd->val, *f[4] = { 0 };
	struct node *const *items;
	struct node *one;
	size_t i, count;
	int v, k;

	c->file = pd->file;
	l->loc = at(c, n);
	l->protos = PROTO_TCP;
	l->ports.any = true;
	l->families = FAM_V4 | FAM_V6;
	if (n->kind != NODE_MAP) {
		err(c, n, "a listener must be a mapping such as { proto: tcp, port: 22 }, not %s",
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i += 2) {
		k = chk_key_index(n->items[i], keys, ARRAY_SIZE(keys));
		if (k < 0)
			chk_unknown_key(c, n->items[i], "a listener", keys,
				    ARRAY_SIZE(keys));
		else
			f[k] = n->items[i + 1];
	}
	/* proto defaults to tcp: listeners are mostly TCP services, and a
	 * UDP socket must be asked for, as with ss -l. */
	if (f[0]) {
		one = (struct node *)f[0];
		items = chk_field_items(c, &one, f[0], "tcp or udp", &count);
		if (items) {
			l->protos = 0;
			for (i = 0; i < count; i++)
				if (!chk_get_enum(c, items[i], "listener protocol",
					      lprotos, 2, &v))
					l->protos |= 1u << v;
			if (!l->protos)
				l->protos = PROTO_TCP;
		}
	}
	if (!f[1])
		err(c, n, "a listener needs a 'port'");
	else
		chk_parse_ports(c, f[1], "port", &l->ports);
	if (f[2] && chk_want_scalar(c, f[2], "a process name"))
		l->process = xstrdup(f[2]->str);
	if (f[3] && !chk_get_enum(c, f[3], "family", fams, 2, &v))
		l->families = v ? FAM_V6 : FAM_V4;
}

/* ---- tests (SPEC §10): the structure; cli runs them ------------------ */

static void check_test(struct ctx *c, struct pending *pd, struct policy_test *t)
{
	static const char *const keys[] = { "packet", "expect", "rule" };
	const struct node *n = pd->val, *f[3] = { 0 };
	size_t i;
	int k, v;

	c->file = pd->file;
	t->loc = at(c, n);
	if (n->kind != NODE_MAP) {
		err(c, n, "a test must be a mapping such as { packet: \"out tcp 192.0.2.1:443\", expect: accept }, not %s",
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i += 2) {
		k = chk_key_index(n->items[i], keys, ARRAY_SIZE(keys));
		if (k < 0)
			chk_unknown_key(c, n->items[i], "a test", keys,
					ARRAY_SIZE(keys));
		else
			f[k] = n->items[i + 1];
	}
	if (!f[0])
		err(c, n, "a test needs a 'packet' (explain's arguments, such as \"out tcp 192.0.2.1:443\")");
	else if (chk_want_scalar(c, f[0], "explain's arguments")) {
		t->packet = xstrdup(f[0]->str);
		t->packet_loc = at(c, f[0]);
	}
	if (!f[1])
		err(c, n, "a test needs an 'expect' (accept, drop or reject)");
	else if (!chk_get_enum(c, f[1], "expected verdict", verdict_names,
			       ARRAY_SIZE(verdict_names), &v)) {
		t->expect = (enum verdict)v;
		t->expect_loc = at(c, f[1]);
	}
	if (f[2] && chk_want_scalar(c, f[2], "a rule name")) {
		t->rule = xstrdup(f[2]->str);
		t->rule_loc = at(c, f[2]);
	}
}

/* ---- top level ------------------------------------------------------ */

enum top_key {
	TK_VERSION, TK_TABLE, TK_DEFAULTS, TK_ESTABLISHED, TK_LOOPBACK,
	TK_ICMP, TK_SETS, TK_INBOUND, TK_OUTBOUND, TK_LISTENERS, TK_REPAIR,
	TK_DNS, TK_LOG_GROUP, TK_TESTS,
	TK_MAX
};

static const char *const top_keys[TK_MAX] = {
	"portwarden", "table", "defaults", "established", "loopback", "icmp",
	"sets", "inbound", "outbound", "listeners", "repair", "dns",
	"log_group", "tests",
};

static bool table_name_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > 32 ||
	    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static void collect_list(struct ctx *c, struct node *n, struct pending_list *l,
			 const char *what)
{
	size_t i;

	if (node_is_null(n))
		return;
	if (n->kind != NODE_SEQ) {
		err(c, n, "'%s' must be a list of %s, not %s", what,
		    !strcmp(what, "listeners") || !strcmp(what, "tests") ?
		    what : "rules",
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i++) {
		ARRAY_PUSH(l->v, l->n, l->cap);
		l->v[l->n - 1] = (struct pending){ NULL, n->items[i], c->file };
	}
}

static void top_defaults(struct ctx *c, struct node *n)
{
	static const char *const keys[] = { "inbound", "outbound", "log" };
	size_t i;
	bool b;
	int v;

	if (node_is_null(n))
		return;
	if (n->kind != NODE_MAP) {
		err(c, n, "'defaults' must be a mapping (inbound, outbound, log), not %s",
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i += 2) {
		struct node *k = n->items[i], *val = n->items[i + 1];

		switch (chk_key_index(k, keys, ARRAY_SIZE(keys))) {
		case 0:
		case 1:
			if (!chk_get_enum(c, val, "action", verdict_names,
				      ARRAY_SIZE(verdict_names), &v))
				chk_merge_setting(c, &c->def[k->str[0] == 'o'],
					      k->str[0] == 'o' ? "defaults.outbound" :
					      "defaults.inbound", val, v);
			break;
		case 2:
			if (!chk_get_bool(c, val, &b))
				chk_merge_setting(c, &c->log, "defaults.log", val, b);
			break;
		default:
			chk_unknown_key(c, k, "defaults", keys, ARRAY_SIZE(keys));
		}
	}
}

/* A whole number of seconds or addresses within [@lo, @hi]. */
static int dns_number(struct ctx *c, const struct node *n, const char *key,
		      unsigned long lo, unsigned long hi, uint32_t *out)
{
	unsigned long v;

	if (!chk_want_scalar(c, n, "a number"))
		return -EINVAL;
	if (!n->plain || !chk_all_digits(n->str) || n->len > 10 ||
	    (v = strtoul(n->str, NULL, 10)) < lo || v > hi) {
		err(c, n, "dns.%s must be a whole number from %lu to %lu%s, not '%s'",
		    key, lo, hi, strcmp(key, "max_addresses") &&
		    strcmp(key, "queue") ? " (seconds)" : "",
		    chk_q(c, n->str));
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static void dns_resolvers(struct ctx *c, const struct node *n,
			  struct dns_settings *s)
{
	struct node *const *items;
	struct node *one = (struct node *)n;
	size_t count, i, cap = 0;
	struct cidr a;
	bool hb;

	if (n->kind == NODE_SCALAR && !strcmp(n->str, "system")) {
		s->resolvers_system = true;
		return;
	}
	items = chk_field_items(c, &one, n, "'system' or an address", &count);
	if (!items)
		return;
	if (count > DNS_MAX_RESOLVERS) {
		err(c, n, "more than %u resolvers", DNS_MAX_RESOLVERS);
		return;
	}
	s->resolvers_system = false;
	for (i = 0; i < count; i++) {
		const struct node *e = items[i];

		if (!strcmp(e->str, "system")) {
			err(c, e, "'system' stands alone: resolvers: system");
			continue;
		}
		if (cidr_parse(e->str, &a, &hb) < 0) {
			err(c, e, "bad resolver address '%s' (an IPv4 or IPv6 address or prefix; hostnames cannot name resolvers)",
			    chk_q(c, e->str));
			continue;
		}
		if (hb)
			warn(c, e, "%s has host bits set; using the prefix", e->str);
		*ARRAY_PUSH(s->resolvers, s->n_resolvers, cap) = a;
	}
	if (s->n_resolvers) {
		struct addr_set all = { .v = s->resolvers, .n = s->n_resolvers };

		chk_addrs_normalise(&all);
		s->resolvers = all.v;
		s->n_resolvers = all.n;
	}
}

static void top_dns(struct ctx *c, struct node *n)
{
	static const char *const keys[] = { "min_ttl", "max_ttl", "grace",
		"max_addresses", "resolvers", "queue" };
	struct dns_settings *s = &c->p->dns;
	const struct node *min_n = NULL, *max_n = NULL;
	uint32_t q;
	size_t i;

	if (s->loc.line) {
		err(c, n, "dns settings given again; the first are at %s:%u:%u (give 'dns' in one file)",
		    s->loc.file, s->loc.line, s->loc.col);
		return;
	}
	s->loc = at(c, n);
	if (node_is_null(n))
		return;
	if (n->kind != NODE_MAP) {
		err(c, n, "'dns' must be a mapping (min_ttl, max_ttl, grace, max_addresses, resolvers, queue), not %s",
		    node_kind_name(n));
		return;
	}
	for (i = 0; i < n->n; i += 2) {
		struct node *k = n->items[i], *val = n->items[i + 1];

		switch (chk_key_index(k, keys, ARRAY_SIZE(keys))) {
		case 0:
			if (!dns_number(c, val, "min_ttl", 0, DNS_MAX_SECONDS,
					&s->min_ttl))
				min_n = val;
			break;
		case 1:
			if (!dns_number(c, val, "max_ttl", 1, DNS_MAX_SECONDS,
					&s->max_ttl))
				max_n = val;
			break;
		case 2:
			dns_number(c, val, "grace", 0, DNS_MAX_SECONDS,
				   &s->grace);
			break;
		case 3:
			dns_number(c, val, "max_addresses", 1,
				   DNS_MAX_ADDRS_LIMIT, &s->max_addresses);
			break;
		case 4:
			dns_resolvers(c, val, s);
			break;
		case 5:
			if (!dns_number(c, val, "queue", 0, 65535, &q))
				s->queue_num = (uint16_t)q;
			break;
		default:
			chk_unknown_key(c, k, "dns", keys, ARRAY_SIZE(keys));
		}
	}
	if (s->min_ttl > s->max_ttl)
		err(c, min_n ? min_n : max_n,
		    "dns.min_ttl (%u) is greater than dns.max_ttl (%u); an address must stay at least min_ttl and at most max_ttl seconds",
		    s->min_ttl, s->max_ttl);
}

static void top_level(struct ctx *c, const struct yaml_tree *t)
{
	static const char *const icmp_names[] = { "essential", "all", "none" };
	struct node *root = t->root;
	bool have_version = false, b;
	size_t i;
	int v;

	if (!root || node_is_null(root)) {
		struct loc l = { c->file, 1, 1 };

		err_at(c, &l, "empty policy: expected a mapping with 'portwarden: 1'");
		return;
	}
	if (root->kind != NODE_MAP) {
		err(c, root, "the top level must be a mapping with 'portwarden: 1', not %s",
		    node_kind_name(root));
		return;
	}
	for (i = 0; i < root->n; i += 2) {
		struct node *k = root->items[i], *val = root->items[i + 1];

		switch (chk_key_index(k, top_keys, TK_MAX)) {
		case TK_VERSION:
			have_version = true;
			if (val->kind == NODE_SCALAR && !strcmp(val->str, "1"))
				break;
			if (val->kind == NODE_SCALAR && chk_all_digits(val->str))
				err(c, val, "unsupported schema version %s (this portwarden reads version 1)",
				    chk_q(c, val->str));
			else
				err(c, val, "'portwarden' must be the schema version 1, not %s%s%s",
				    val->kind == NODE_SCALAR ? "'" : "",
				    val->kind == NODE_SCALAR ? chk_q(c, val->str) :
				    node_kind_name(val),
				    val->kind == NODE_SCALAR ? "'" : "");
			break;
		case TK_TABLE:
			if (!chk_want_scalar(c, val, "a table name"))
				break;
			if (!table_name_ok(val->str, val->len)) {
				err(c, val, "bad table name '%s' (a letter, then letters, digits, '_' or '-'; at most 32)",
				    chk_q(c, val->str));
				break;
			}
			if (c->table.set && strcmp(c->table.text, val->str)) {
				err(c, val, "table set to %s here but to %s at %s:%u:%u",
				    val->str, c->table.text, c->table.loc.file,
				    c->table.loc.line, c->table.loc.col);
			} else if (!c->table.set) {
				c->table.set = true;
				c->table.loc = at(c, val);
				c->table.text = val->str;
			}
			break;
		case TK_DEFAULTS:
			top_defaults(c, val);
			break;
		case TK_ESTABLISHED:
			if (!chk_get_bool(c, val, &b))
				chk_merge_setting(c, &c->established, "established", val, b);
			break;
		case TK_LOOPBACK:
			if (!chk_get_bool(c, val, &b))
				chk_merge_setting(c, &c->loopback, "loopback", val, b);
			break;
		case TK_REPAIR:
			if (!chk_get_bool(c, val, &b))
				chk_merge_setting(c, &c->repair, "repair", val, b);
			break;
		case TK_ICMP:
			if (!chk_get_enum(c, val, "icmp mode", icmp_names,
				      ARRAY_SIZE(icmp_names), &v))
				chk_merge_setting(c, &c->icmp, "icmp", val, v);
			break;
		case TK_LOG_GROUP:
			if (!chk_want_scalar(c, val, "an NFLOG group number"))
				break;
			if (!chk_all_digits(val->str) || val->len > 5 ||
			    strtoul(val->str, NULL, 10) > 65535) {
				err(c, val, "bad log_group '%s' (an NFLOG group number 0-65535)",
				    chk_q(c, val->str));
				break;
			}
			chk_merge_setting(c, &c->log_group, "log_group", val,
					  (int)strtoul(val->str, NULL, 10));
			break;
		case TK_SETS:
			if (node_is_null(val))
				break;
			if (val->kind != NODE_MAP) {
				err(c, val, "'sets' must be a mapping of set names to lists, not %s",
				    node_kind_name(val));
				break;
			}
			for (size_t j = 0; j < val->n; j += 2) {
				ARRAY_PUSH(c->sets.v, c->sets.n, c->sets.cap);
				c->sets.v[c->sets.n - 1] = (struct pending){
					val->items[j], val->items[j + 1], c->file };
			}
			break;
		case TK_INBOUND:
			collect_list(c, val, &c->rules[DIR_IN], "inbound");
			break;
		case TK_OUTBOUND:
			collect_list(c, val, &c->rules[DIR_OUT], "outbound");
			break;
		case TK_LISTENERS:
			collect_list(c, val, &c->listeners, "listeners");
			break;
		case TK_DNS:
			top_dns(c, val);
			break;
		case TK_TESTS:
			collect_list(c, val, &c->tests, "tests");
			break;
		default:
			/* x- keys hold anchors for the rest (compose style) */
			if (!strncmp(k->str, "x-", 2))
				break;
			chk_unknown_key(c, k, "the policy", top_keys, TK_MAX);
		}
	}
	if (!have_version)
		err(c, root, "missing 'portwarden: 1' (the schema version)");
}

static void check_rules(struct ctx *c, enum direction dir)
{
	struct pending_list *l = &c->rules[dir];
	struct policy *p = c->p;
	size_t n = l->n, i;

	if (n > POLICY_MAX_RULES) {
		c->file = l->v[POLICY_MAX_RULES].file;
		err(c, l->v[POLICY_MAX_RULES].val,
		    "more than %u %s rules (rule limit per direction)",
		    POLICY_MAX_RULES, direction_name(dir));
		n = POLICY_MAX_RULES;
	}
	p->rules[dir] = xcalloc(n + 1, sizeof(*p->rules[dir]));
	p->n_rules[dir] = n;
	for (i = 0; i < n; i++) {
		struct rule *r = &p->rules[dir][i];
		const char *empty;

		check_rule(c, &l->v[i], dir, (unsigned int)i, r);
		empty = chk_empty_field(r);
		if (empty) {
			warn_at(c, &r->loc, "rule '%s' never matches: its '%s' is empty",
				r->name, empty);
			continue;
		}
		empty = chk_excluded_all(r);
		if (empty) {
			bool from = !strcmp(empty, "not_from");
			const struct addr_set *pos = from ? &r->from : &r->to;

			if (pos->any)
				warn_at(c, &r->loc, "rule '%s' can never match: its '%s' excludes every address",
					r->name, empty);
			else
				warn_at(c, &r->loc, "rule '%s' can never match: its '%s' excludes every address its '%s' allows",
					r->name, empty, from ? "from" : "to");
		}
	}
	check_rule_names(c, dir);
}

/* Hostname rules learn from this host's DNS answers: can it ask at all?
 * Returns the first outbound rule with hostnames when nothing lets DNS
 * (port 53) out, else NULL. */
static const struct rule *dns_blocked(const struct policy *p)
{
	const struct rule *first = NULL;
	size_t i, k;

	if (!p->has_hosts || p->def[DIR_OUT] == VERDICT_ACCEPT)
		return NULL;
	for (i = 0; i < p->n_rules[DIR_OUT]; i++) {
		const struct rule *r = &p->rules[DIR_OUT][i];

		if (!first && (r->to_hosts.n || r->not_to_hosts.n))
			first = r;
		if (r->action != VERDICT_ACCEPT ||
		    !(r->protos & (PROTO_TCP | PROTO_UDP | PROTO_ANY)))
			continue;
		if (r->dport.any)
			return NULL;
		for (k = 0; k < r->dport.n; k++)
			if (r->dport.v[k].lo <= 53 && 53 <= r->dport.v[k].hi)
				return NULL;
	}
	return first;
}

int policy_check_trees(struct policy **out, struct yaml_tree *const *trees,
		       size_t n, struct diag *d)
{
	struct ctx c = { .d = d };
	size_t i, k;
	unsigned int errors = d->errors;
	struct policy *p;

	*out = NULL;
	p = c.p = xcalloc(1, sizeof(*p));
	p->files = xcalloc(n + 1, sizeof(*p->files));
	for (i = 0; i < n; i++)
		p->files[i] = xstrdup(trees[i]->file);
	p->n_files = n;
	if (!n) {
		diag_error(d, NULL, "no policy files given");
		goto out;
	}
	dns_settings_default(&p->dns);
	for (i = 0; i < n; i++) {
		c.file = p->files[i];
		top_level(&c, trees[i]);
	}
	p->table = xstrdup(c.table.set ? c.table.text : "portwarden");
	for (k = 0; k < DIR_MAX; k++) {
		p->def[k] = c.def[k].set ? (enum verdict)c.def[k].value :
					   VERDICT_ACCEPT;
		if (c.def[k].set)
			p->def_loc[k] = c.def[k].loc;
	}
	p->log_default = c.log.set && c.log.value;
	p->log_group = c.log_group.set ? (uint16_t)c.log_group.value : 1000;
	p->established = !c.established.set || c.established.value;
	p->loopback = !c.loopback.set || c.loopback.value;
	p->repair = !c.repair.set || c.repair.value;
	p->icmp = c.icmp.set ? (enum icmp_mode)c.icmp.value : ICMP_ESSENTIAL;
	chk_check_sets(&c);
	for (k = 0; k < DIR_MAX; k++)
		check_rules(&c, (enum direction)k);
	p->listeners = xcalloc(c.listeners.n + 1, sizeof(*p->listeners));
	p->n_listeners = c.listeners.n;
	for (i = 0; i < c.listeners.n; i++)
		check_listener(&c, &c.listeners.v[i], &p->listeners[i]);
	p->tests = xcalloc(c.tests.n + 1, sizeof(*p->tests));
	p->n_tests = c.tests.n;
	for (i = 0; i < c.tests.n; i++)
		check_test(&c, &c.tests.v[i], &p->tests[i]);
	if (dns_blocked(p))
		warn_at(&c, &dns_blocked(p)->loc,
			"rule '%s' names hostnames, but no outbound rule accepts port 53 and the default is %s: this host cannot look them up (add a rule such as { name: dns, port: domain })",
			dns_blocked(p)->name, verdict_name(p->def[DIR_OUT]));
	if (p->dns.loc.line && !p->has_hosts)
		warn_at(&c, &p->dns.loc, "the 'dns' settings have no effect: no outbound rule names a hostname");
	for (i = 0; i < p->n_sets; i++)
		if (!c.set_used[i])
			warn_at(&c, &p->sets[i].loc, "set '%s' is never used",
				chk_q(&c, p->sets[i].name));
	if (d->errors == errors)
		for (k = 0; k < DIR_MAX; k++)
			chk_lint_shadowed(&c, (enum direction)k);
out:
	free(c.sets.v);
	for (k = 0; k < DIR_MAX; k++)
		free(c.rules[k].v);
	free(c.listeners.v);
	free(c.tests.v);
	free(c.set_order);
	free(c.set_used);
	free(c.set_empty);
	free(c.ids);
	if (d->errors != errors) {
		policy_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

