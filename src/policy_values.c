// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Values of the policy language: booleans, enums with "did you mean"
 * hints, ports, addresses, user and group ids, the `sets:` section, and
 * the normalised (sorted, merged) port and prefix lists.
 * Each reader reports problems at the offending node and returns what it
 * could read, so that checking goes on.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostnames.h"
#include "policy_values.h"
#include "util.h"

/* ---- scalars -------------------------------------------------------- */

const char *chk_q(struct ctx *c, const char *s)
{
	return printable_text(s, c->quote[c->quote_next++ % 4]);
}

/* A scalar that is not null; else an error naming what was expected. */
bool chk_want_scalar(struct ctx *c, const struct node *n, const char *what)
{
	if (n->kind == NODE_SCALAR && !node_is_null(n))
		return true;
	err(c, n, "expected %s, got %s", what, node_kind_name(n));
	return false;
}

/* YAML 1.2 booleans, plus yes/no/on/off which YAML 1.1 users expect. */
int chk_get_bool(struct ctx *c, const struct node *n, bool *out)
{
	static const char *const t[] = { "true", "True", "TRUE", "yes", "Yes",
					 "YES", "on", "On", "ON" };
	static const char *const f[] = { "false", "False", "FALSE", "no", "No",
					 "NO", "off", "Off", "OFF" };
	size_t i;

	if (n->kind == NODE_SCALAR && n->plain) {
		for (i = 0; i < ARRAY_SIZE(t); i++) {
			if (!strcmp(n->str, t[i])) {
				*out = true;
				return 0;
			}
			if (!strcmp(n->str, f[i])) {
				*out = false;
				return 0;
			}
		}
	}
	if (n->kind == NODE_SCALAR && !n->plain) {
		for (i = 0; i < ARRAY_SIZE(t); i++)
			if (!strcmp(n->str, t[i]) || !strcmp(n->str, f[i]))
				break;
		if (i < ARRAY_SIZE(t)) {
			err(c, n, "expected true or false, got the string '%s' (drop the quotes)",
			    chk_q(c, n->str));
			return -EINVAL;
		}
	}
	if (n->kind == NODE_SCALAR && !node_is_null(n))
		err(c, n, "expected true or false, got '%s'", chk_q(c, n->str));
	else
		err(c, n, "expected true or false, got %s", node_kind_name(n));
	return -EINVAL;
}

/* closest_word(), plus one swap of adjacent letters ("tpc" for "tcp"),
 * the commonest typo of short words. */
const char *chk_hint_for(const char *word, const char *const *names,
			    size_t n)
{
	const char *hint = closest_word(word, names, n);
	size_t i, k, len = strlen(word);

	if (hint || len < 2 || len > 64)
		return hint;
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) != len)
			continue;
		for (k = 0; k + 1 < len; k++) {
			if (word[k] == names[i][k + 1] &&
			    word[k + 1] == names[i][k] &&
			    !strncmp(word, names[i], k) &&
			    !strcmp(word + k + 2, names[i] + k + 2))
				return names[i];
		}
	}
	return NULL;
}

/* One of @names; a near miss gets a hint, anything else the full list. */
int chk_get_enum(struct ctx *c, const struct node *n, const char *what,
		    const char *const *names, size_t count, int *out)
{
	const char *hint;
	char list[128] = "";
	size_t i, len = 0;

	if (!chk_want_scalar(c, n, what))
		return -EINVAL;
	for (i = 0; i < count; i++)
		if (!strcmp(n->str, names[i])) {
			*out = (int)i;
			return 0;
		}
	hint = chk_hint_for(n->str, names, count);
	if (hint) {
		err(c, n, "unknown %s '%s'; did you mean '%s'?", what, chk_q(c, n->str),
		    hint);
		return -EINVAL;
	}
	for (i = 0; i < count && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					i ? (i + 1 == count ? " or " : ", ") : "",
					names[i]);
	err(c, n, "unknown %s '%s' (expected %s)", what, chk_q(c, n->str), list);
	return -EINVAL;
}

/* Words from other firewalls' vocabularies, pointing at ours. */
static const char *const synonyms[][2] = {
	{ "protocol", "proto" }, { "src", "from" }, { "source", "from" },
	{ "saddr", "from" }, { "dst", "to" }, { "destination", "to" },
	{ "daddr", "to" }, { "dest", "to" }, { "iface", "interface" },
	{ "dev", "interface" }, { "iif", "interface" }, { "oif", "interface" },
	{ "verdict", "action" }, { "target", "action" }, { "jump", "action" },
	{ "uid", "user" }, { "gid", "group" }, { "owner", "user" },
	{ "exclude", "not_from" }, { "except", "not_from" },
	{ "version", "portwarden" }, { "policy", "defaults" },
	{ "rules", "inbound" }, { "input", "inbound" }, { "output", "outbound" },
	{ "in", "inbound" }, { "out", "outbound" }, { "ingress", "inbound" },
	{ "egress", "outbound" }, { "listen", "listeners" },
	{ "command", "process" }, { "comm", "process" },
};

void chk_unknown_key(struct ctx *c, const struct node *k, const char *where,
		     const char *const *keys, size_t n)
{
	const char *hint = chk_hint_for(k->str, keys, n);
	size_t i, j;

	for (i = 0; !hint && i < ARRAY_SIZE(synonyms); i++) {
		if (strcmp(k->str, synonyms[i][0]))
			continue;
		for (j = 0; j < n; j++)
			if (!strcmp(keys[j], synonyms[i][1]))
				hint = keys[j];
	}
	if (hint)
		err(c, k, "unknown key '%s' in %s; did you mean '%s'?",
		    chk_q(c, k->str), where, hint);
	else if (!strcmp(k->str, "<<"))
		err(c, k, "unknown key '<<' in %s (a quoted '<<' is an ordinary key; write << unquoted to merge)",
		    where);
	else if (!strncmp(k->str, "x-", 2))
		err(c, k, "unknown key '%s' in %s ('x-' keys are ignored at the top level only)",
		    chk_q(c, k->str), where);
	else
		err(c, k, "unknown key '%s' in %s", chk_q(c, k->str), where);
}

int chk_key_index(const struct node *k, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(k->str, keys[i]))
			return (int)i;
	return -1;
}

bool chk_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Merge one top-level setting; the second place of a conflict is named. */
void chk_merge_setting(struct ctx *c, struct setting *s, const char *what,
			  const struct node *n, int value)
{
	if (s->set && s->value != value) {
		err(c, n, "%s set to %s here but to %s at %s:%u:%u", what,
		    n->str, s->text, s->loc.file, s->loc.line, s->loc.col);
		return;
	}
	if (s->set)
		return;
	s->set = true;
	s->loc = at(c, n);
	s->text = n->str;
	s->value = value;
}

/* ---- normalised lists ----------------------------------------------- */

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

/* ---- ports ---------------------------------------------------------- */

static int parse_port_num(const char *s, unsigned long *out)
{
	if (!chk_all_digits(s) || strlen(s) > 6)
		return -EINVAL;
	*out = strtoul(s, NULL, 10);
	return 0;
}

/* One port element: number, "lo-hi", or a name of the built-in table. */
static int port_elem(struct ctx *c, const struct node *n, struct port_range *r)
{
	const char *s = n->str, *dash;
	unsigned long lo, hi;
	const char *const *names;
	const char *hint;
	size_t count;
	char buf[16];

	if (chk_all_digits(s)) {
		if (parse_port_num(s, &lo) < 0 || lo < 1 || lo > 65535) {
			err(c, n, "port %s is out of range (1-65535)", s);
			return -EINVAL;
		}
		r->lo = r->hi = (uint16_t)lo;
		return 0;
	}
	if (!port_by_name(s, r))
		return 0;
	dash = strchr(s, '-');
	if (dash && dash != s && (size_t)(dash - s) < sizeof(buf) &&
	    chk_all_digits(dash + 1)) {
		memcpy(buf, s, (size_t)(dash - s));
		buf[dash - s] = '\0';
		if (!parse_port_num(buf, &lo) && !parse_port_num(dash + 1, &hi)) {
			if (lo < 1 || lo > 65535 || hi < 1 || hi > 65535) {
				err(c, n, "port range %s is out of range (1-65535)", s);
				return -EINVAL;
			}
			if (lo > hi) {
				err(c, n, "reversed port range %s (did you mean %lu-%lu?)",
				    s, hi, lo);
				return -EINVAL;
			}
			r->lo = (uint16_t)lo;
			r->hi = (uint16_t)hi;
			return 0;
		}
	}
	names = port_names(&count);
	hint = chk_hint_for(s, names, count);
	if (hint)
		err(c, n, "unknown port name '%s'; did you mean '%s'?", chk_q(c, s), hint);
	else if (strspn(s, "0123456789-") == strlen(s) || strchr(s, ' '))
		err(c, n, "bad port '%s' (expected 1-65535, a range such as 8000-8999, a service name or a $set)", chk_q(c, s));
	else
		err(c, n, "unknown port name '%s' (names come from portwarden's built-in table)", chk_q(c, s));
	return -EINVAL;
}

/* ---- addresses ------------------------------------------------------ */

unsigned int chk_addr_families(const struct addr_set *s)
{
	unsigned int f = 0;

	if (s->any)
		return FAM_BOTH;
	if (s->n && s->v[0].family == 4)
		f |= FAM_V4;
	if (s->n && s->v[s->n - 1].family == 6)
		f |= FAM_V6;
	return f;
}

static int addr_elem(struct ctx *c, const struct node *n, struct cidr *out)
{
	bool host_bits;
	char buf[64];

	if (cidr_parse(n->str, out, &host_bits) < 0) {
		err(c, n, "bad address '%s' (expected an IPv4 or IPv6 address or prefix, 'any' or a $set)",
		    chk_q(c, n->str));
		return -EINVAL;
	}
	if (host_bits) {
		cidr_format(out, buf, sizeof(buf));
		warn(c, n, "%s has host bits set; using %s", n->str, buf);
	}
	return 0;
}

/* ---- hostnames ------------------------------------------------------ */

bool chk_looks_like_host(const char *s)
{
	struct cidr a;
	bool hb, other = false;

	if (strpbrk(s, ":/") || cidr_parse(s, &a, &hb) == 0)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			other = true;
	return other;
}

/* The label of @s around byte @pos, for a message. */
static const char *label_at(struct ctx *c, const char *s, size_t pos)
{
	size_t a = pos, b = pos;
	char buf[80];

	while (a && s[a - 1] != '.')
		a--;
	while (s[b] && s[b] != '.')
		b++;
	snprintf(buf, sizeof(buf), "%.*s", (int)(b - a < 64 ? b - a : 64),
		 s + a);
	return chk_q(c, buf);
}

static int host_elem(struct ctx *c, const struct node *n, struct hostname *out)
{
	const char *s = n->str;
	size_t pos, i, skip;
	int e = hostname_check(s, n->len, &pos);
	char ch[8];

	switch (e) {
	case HOSTNAME_OK:
		break;
	case HOSTNAME_TOO_LONG:
		err(c, n, "bad hostname '%s': %zu characters (at most %u)",
		    chk_q(c, s), n->len, HOSTNAME_MAX);
		return -EINVAL;
	case HOSTNAME_EMPTY_LABEL:
		if (pos + 1 == n->len && pos)
			err(c, n, "bad hostname '%s': a final dot is not allowed; write '%.*s'",
			    chk_q(c, s), (int)(pos < 200 ? pos : 200), s);
		else
			err(c, n, "bad hostname '%s': empty label at character %zu (two dots in a row, or a dot at the start)",
			    chk_q(c, s), pos + 1);
		return -EINVAL;
	case HOSTNAME_LABEL_TOO_LONG:
		for (i = pos; s[i] && s[i] != '.'; i++)
			;
		err(c, n, "bad hostname '%s': label '%s' has %zu characters (at most %u)",
		    chk_q(c, s), label_at(c, s, pos), i - pos,
		    HOSTNAME_LABEL_MAX);
		return -EINVAL;
	case HOSTNAME_BAD_CHAR:
		if ((unsigned char)s[pos] >= 0x21 && (unsigned char)s[pos] < 0x7f)
			snprintf(ch, sizeof(ch), "'%c'", s[pos]);
		else
			snprintf(ch, sizeof(ch), "\\x%02x", (unsigned char)s[pos]);
		err(c, n, "bad hostname '%s': character %s in label '%s' (hostnames hold letters, digits, '-' and '.')",
		    chk_q(c, s), ch, label_at(c, s, pos));
		return -EINVAL;
	case HOSTNAME_BAD_WILDCARD:
		err(c, n, "bad hostname '%s': '*' is allowed only as a leading '*.', as in '*.example.com'",
		    chk_q(c, s));
		return -EINVAL;
	case HOSTNAME_HYPHEN:
		err(c, n, "bad hostname '%s': label '%s' %s with '-'",
		    chk_q(c, s), label_at(c, s, pos),
		    s[pos + 1] == '.' || pos + 1 == n->len ? "ends" : "starts");
		return -EINVAL;
	default:
		err(c, n, "bad hostname '%s'", chk_q(c, s));
		return -EINVAL;
	}
	skip = s[0] == '*' ? 2 : 0;
	out->wildcard = skip != 0;
	out->name = xstrndup(s + skip, n->len - skip);
	for (i = 0; out->name[i]; i++)
		if (out->name[i] >= 'A' && out->name[i] <= 'Z')
			out->name[i] = (char)(out->name[i] - 'A' + 'a');
	out->loc = at(c, n);
	return 0;
}

static int host_cmp(const void *a, const void *b)
{
	const struct hostname *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	if (x->wildcard != y->wildcard)
		return x->wildcard ? 1 : -1;
	if (x->loc.line != y->loc.line)
		return x->loc.line < y->loc.line ? -1 : 1;
	return (x->loc.col > y->loc.col) - (x->loc.col < y->loc.col);
}

/* Sort by name (exact before wildcard) and drop duplicates; the first
 * written stays (locations within one field share a file). */
static void hosts_normalise(struct host_list *l)
{
	size_t i, k = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), host_cmp);
	for (i = 1; i < l->n; i++) {
		if (!strcmp(l->v[i].name, l->v[k].name) &&
		    l->v[i].wildcard == l->v[k].wildcard) {
			free(l->v[i].name);
			continue;
		}
		l->v[++k] = l->v[i];
	}
	l->n = k + 1;
}

/* Why a hostname cannot stand in @field (@hosts_ok false). */
static void host_not_here(struct ctx *c, const struct node *n,
			  const char *field, bool via_set)
{
	bool src = !strcmp(field, "from") || !strcmp(field, "not_from");

	if (src)
		err(c, n, "%s '%s' in '%s': hostnames stand only for where outbound connections go ('to', 'not_to'); give addresses here",
		    via_set ? "set of hostnames" : "hostname", chk_q(c, n->str),
		    field);
	else
		err(c, n, "%s '%s' in an inbound rule: hostnames work only in outbound 'to' and 'not_to' (their addresses are learned from this host's own DNS answers); give addresses here",
		    via_set ? "set of hostnames" : "hostname", chk_q(c, n->str));
}

/* ---- sets ----------------------------------------------------------- */

static bool set_name_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return i <= 32;
}

static int set_order_cmp(const void *a, const void *b, void *arg)
{
	const struct named_set *sets = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(sets[x].name, sets[y].name);

	if (r)
		return r;
	return (x > y) - (x < y);
}

static struct named_set *set_find(struct ctx *c, const char *name, size_t *idx)
{
	size_t lo = 0, hi = c->p->n_sets;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = strcmp(c->p->sets[c->set_order[mid]].name, name);

		if (!r) {
			/* the first definition wins; later ones are errors */
			while (mid > lo &&
			       !strcmp(c->p->sets[c->set_order[mid - 1]].name, name))
				mid--;
			*idx = c->set_order[mid];
			return &c->p->sets[*idx];
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void undefined_set(struct ctx *c, const struct node *n)
{
	const char **names;
	const char *hint = NULL;
	size_t i;

	/* hints cost an edit distance per set: not for huge policies */
	if (c->p->n_sets > 1000) {
		err(c, n, "undefined set '%s'", chk_q(c, n->str));
		return;
	}
	names = xcalloc(c->p->n_sets + 1, sizeof(*names));
	for (i = 0; i < c->p->n_sets; i++)
		names[i] = c->p->sets[i].name;
	hint = chk_hint_for(n->str + 1, names, c->p->n_sets);
	if (hint)
		err(c, n, "undefined set '%s'; did you mean '$%s'?", chk_q(c, n->str), hint);
	else
		err(c, n, "undefined set '%s'", chk_q(c, n->str));
	free(names);
}

/* The items of a scalar-or-list field; NULL after an error. */
struct node *const *chk_field_items(struct ctx *c, struct node *const *one,
				       const struct node *n, const char *what,
				       size_t *count)
{
	size_t i;

	if (n->kind == NODE_MAP || node_is_null(n)) {
		err(c, n, "expected %s or a list of them, got %s", what,
		    node_kind_name(n));
		return NULL;
	}
	if (n->kind == NODE_SCALAR) {
		*count = 1;
		return one;
	}
	if (!n->n) {
		/* ports and addresses take [] (never matches); ids, protocols
		 * have no "nothing" to say, and absent means every one */
		err(c, n, "expected %s or a list of them, got an empty list",
		    what);
		return NULL;
	}
	if (n->n > POLICY_MAX_ELEMENTS) {
		err(c, n, "more than %u elements (element limit per set or field)",
		    POLICY_MAX_ELEMENTS);
		return NULL;
	}
	for (i = 0; i < n->n; i++)
		if (n->items[i]->kind != NODE_SCALAR || node_is_null(n->items[i])) {
			err(c, n->items[i], "expected %s, got %s", what,
			    node_kind_name(n->items[i]));
			return NULL;
		}
	*count = n->n;
	return n->items;
}

static void check_set(struct ctx *c, struct pending *pd, struct named_set *s)
{
	struct node *const *items;
	struct node *one = pd->val;
	size_t n, i, np = 0, na = 0, nh = 0, cap_p = 0, cap_a = 0, cap_h = 0;
	const struct node *first_port = NULL, *first_addr = NULL;
	const struct node *first_host = NULL;

	s->ports.any = s->addrs.any = false;
	if (pd->val->kind == NODE_SEQ && !pd->val->n)
		return;		/* empty: warned about by the caller */
	items = chk_field_items(c, &one, pd->val, "a port or an address", &n);
	if (!items)
		return;
	for (i = 0; i < n; i++) {
		const struct node *e = items[i];

		if (e->str[0] == '$') {
			err(c, e, "a set cannot contain another set ('%s'); list its elements", chk_q(c, e->str));
		} else if (!strcmp(e->str, "any")) {
			err(c, e, "'any' cannot be a set element; leave the field out to match every address");
		} else if (strchr(e->str, '.') && chk_looks_like_host(e->str)) {
			struct hostname h;

			if (!first_host)
				first_host = e;
			if (host_elem(c, e, &h) < 0)
				continue;
			*ARRAY_PUSH(s->hosts.v, nh, cap_h) = h;
		} else if (!strpbrk(e->str, ".:/")) {
			/* no port or port name holds '.', ':' or '/' */
			struct port_range r;

			if (!first_port)
				first_port = e;
			if (port_elem(c, e, &r) < 0) {
					continue;
			}
			if (!strcmp(e->str, "ephemeral"))
				s->ephemeral = true;
			ARRAY_PUSH(s->ports.v, np, cap_p);
			s->ports.v[np - 1] = r;
		} else {
			struct cidr a;

			if (!first_addr)
				first_addr = e;
			if (addr_elem(c, e, &a) < 0) {
					continue;
			}
			ARRAY_PUSH(s->addrs.v, na, cap_a);
			s->addrs.v[na - 1] = a;
		}
	}
	s->ports.n = np;
	s->addrs.n = na;
	s->hosts.n = nh;
	hosts_normalise(&s->hosts);
	if (first_host && (first_port || first_addr)) {
		const struct node *o = first_addr ? first_addr : first_port;

		err(c, pd->key, "set '%s' mixes hostnames ('%s', line %u) and %s ('%s', line %u); a set holds addresses, hostnames or ports",
		    chk_q(c, s->name), chk_q(c, first_host->str),
		    first_host->loc.line, first_addr ? "addresses" : "ports",
		    chk_q(c, o->str), o->loc.line);
	} else if (first_port && first_addr)
		err(c, pd->key, "set '%s' mixes ports ('%s', line %u) and addresses ('%s', line %u)",
		    chk_q(c, s->name), chk_q(c, first_port->str),
		    first_port->loc.line, chk_q(c, first_addr->str),
		    first_addr->loc.line);
	s->is_port = first_port && !first_addr;
	chk_ports_normalise(&s->ports);
	chk_addrs_normalise(&s->addrs);
}

void chk_check_sets(struct ctx *c)
{
	struct policy *p = c->p;
	size_t i, first;

	p->sets = xcalloc(c->sets.n + 1, sizeof(*p->sets));
	c->set_order = xcalloc(c->sets.n + 1, sizeof(*c->set_order));
	c->set_used = xcalloc(c->sets.n + 1, sizeof(*c->set_used));
	c->set_empty = xcalloc(c->sets.n + 1, sizeof(*c->set_empty));
	for (i = 0; i < c->sets.n; i++) {
		struct named_set *s = &p->sets[i];
		struct pending *pd = &c->sets.v[i];

		c->file = pd->file;
		s->name = xstrdup(pd->key->str);
		s->loc = at(c, pd->key);
		c->set_order[i] = i;
		if (!set_name_ok(s->name))
			err(c, pd->key, "bad set name '%s' (a letter or '_', then letters, digits, '_' or '-'; at most 32)",
			    chk_q(c, s->name));
	}
	p->n_sets = c->sets.n;
	qsort_r(c->set_order, p->n_sets, sizeof(*c->set_order), set_order_cmp,
		p->sets);
	for (i = 1, first = 0; i < p->n_sets; i++) {
		struct named_set *a = &p->sets[c->set_order[first]];
		struct named_set *b = &p->sets[c->set_order[i]];

		if (strcmp(a->name, b->name)) {
			first = i;
			continue;
		}
		c->file = c->sets.v[c->set_order[i]].file;
		err(c, c->sets.v[c->set_order[i]].key,
		    "set '%s' is already defined at %s:%u:%u", chk_q(c, b->name),
		    a->loc.file, a->loc.line, a->loc.col);
	}
	for (i = 0; i < p->n_sets; i++) {
		struct named_set *s = &p->sets[i];

		c->file = c->sets.v[i].file;
		check_set(c, &c->sets.v[i], s);
		if (!s->ports.n && !s->addrs.n && c->sets.v[i].val->kind == NODE_SEQ &&
		    !c->sets.v[i].val->n) {
			c->set_empty[i] = true;
			warn(c, c->sets.v[i].key, "set '%s' is empty",
			     chk_q(c, s->name));
		}
	}
}

/* ---- rule fields ---------------------------------------------------- */

/* The named set a `$name` element refers to, marked used; NULL after an
 * error when it is undefined or of the other kind (an empty set fits both). */
static struct named_set *use_set(struct ctx *c, const struct node *e,
				 bool ports, const char *field)
{
	struct named_set *s;
	size_t idx;

	s = set_find(c, e->str + 1, &idx);
	if (!s) {
		undefined_set(c, e);
		return NULL;
	}
	c->set_used[idx] = true;
	if (ports && !s->is_port && (s->addrs.n || s->hosts.n)) {
		err(c, e, "set '%s' holds %s, not ports ('%s' takes ports)",
		    chk_q(c, e->str), s->hosts.n ? "hostnames" : "addresses",
		    field);
		return NULL;
	}
	if (!ports && s->is_port) {
		err(c, e, "set '%s' holds ports, not addresses ('%s' takes addresses)",
		    chk_q(c, e->str), field);
		return NULL;
	}
	return s;
}

/* Append a named set's @n elements of @sz bytes to a field's list,
 * within the element limit (past it: an error at @e, -E2BIG). */
static int append_set(struct ctx *c, const struct node *e, void **v,
		      size_t *len, size_t *cap, const void *src, size_t n,
		      size_t sz)
{
	if (*len + n > POLICY_MAX_ELEMENTS) {
		err(c, e, "more than %u elements (element limit per set or field)",
		    POLICY_MAX_ELEMENTS);
		return -E2BIG;
	}
	*v = xrealloc(*v, (*len + n + 1) * sz);
	memcpy((char *)*v + *len * sz, src, n * sz);
	*len += n;
	*cap = *len + 1;
	return 0;
}

/* Does a port field name `ephemeral`, itself or through a $set? */
bool chk_names_ephemeral(struct ctx *c, const struct node *n)
{
	struct node *const *items = n->kind == NODE_SEQ ? n->items : NULL;
	size_t count = n->kind == NODE_SEQ ? n->n : 1, i, idx;
	const struct node *e;
	struct named_set *s;

	for (i = 0; i < count; i++) {
		e = items ? items[i] : n;
		if (e->kind != NODE_SCALAR)
			continue;
		if (!strcmp(e->str, "ephemeral"))
			return true;
		if (e->str[0] == '$') {
			s = set_find(c, e->str + 1, &idx);
			if (s && s->ephemeral)
				return true;
		}
	}
	return false;
}

void chk_parse_ports(struct ctx *c, const struct node *n, const char *field,
			struct port_set *out)
{
	struct node *const *items;
	struct node *one = (struct node *)n;
	size_t count, i, np = 0, cap = 0;
	unsigned int errors = c->d->errors;
	struct named_set *s;

	memset(out, 0, sizeof(*out));
	if (n->kind == NODE_SEQ && !n->n)
		return;
	items = chk_field_items(c, &one, n, "a port", &count);
	if (!items) {
		out->any = true;
		return;
	}
	for (i = 0; i < count; i++) {
		const struct node *e = items[i];
		struct port_range r;

		if (e->str[0] != '$') {
			if (port_elem(c, e, &r) < 0)
				continue;
			ARRAY_PUSH(out->v, np, cap);
			out->v[np - 1] = r;
			continue;
		}
		s = use_set(c, e, true, field);
		if (!s)
			continue;
		if (count == 1) {
			/* shared with the named set, not copied */
			out->v = s->ports.v;
			out->n = s->ports.n;
			out->ref = s->name;
			return;
		}
		if (append_set(c, e, (void **)&out->v, &np, &cap, s->ports.v,
			       s->ports.n, sizeof(*out->v)) < 0)
			break;
	}
	out->n = np;
	/* elements in error: do not also call the field empty */
	if (!np && c->d->errors != errors) {
		free(out->v);
		memset(out, 0, sizeof(*out));
		out->any = true;
	}
	chk_ports_normalise(out);
}

/* @exclude: not_from/not_to, where `any` means every address. */
void chk_parse_addrs(struct ctx *c, const struct node *n, const char *field,
			bool exclude, struct addr_set *out, struct host_list *hosts)
{
	struct node *const *items;
	struct node *one = (struct node *)n;
	size_t count, i, na = 0, cap = 0, cap_h = 0;
	unsigned int errors = c->d->errors;
	struct named_set *s;

	memset(out, 0, sizeof(*out));
	if (hosts)
		memset(hosts, 0, sizeof(*hosts));
	if (n->kind == NODE_SEQ && !n->n)
		return;
	items = chk_field_items(c, &one, n, "an address", &count);
	if (!items) {
		out->any = !exclude;
		return;
	}
	for (i = 0; i < count; i++) {
		const struct node *e = items[i];
		struct cidr a;

		if (!strcmp(e->str, "any")) {
			if (!exclude) {
				free(out->v);
				memset(out, 0, sizeof(*out));
				out->any = true;
				return;
			}
			ARRAY_PUSH(out->v, na, cap);
			cidr_parse("0.0.0.0/0", &out->v[na - 1], NULL);
			ARRAY_PUSH(out->v, na, cap);
			cidr_parse("::/0", &out->v[na - 1], NULL);
			continue;
		}
		if (e->str[0] != '$' && chk_looks_like_host(e->str)) {
			struct hostname h;

			if (!hosts) {
				host_not_here(c, e, field, false);
				continue;
			}
			if (host_elem(c, e, &h) < 0)
				continue;
			*ARRAY_PUSH(hosts->v, hosts->n, cap_h) = h;
			continue;
		}
		if (e->str[0] != '$') {
			if (addr_elem(c, e, &a) < 0)
				continue;
			ARRAY_PUSH(out->v, na, cap);
			out->v[na - 1] = a;
			continue;
		}
		s = use_set(c, e, false, field);
		if (!s)
			continue;
		if (s->hosts.n) {
			if (!hosts) {
				host_not_here(c, e, field, true);
				continue;
			}
			for (size_t j = 0; j < s->hosts.n; j++) {
				struct hostname *h = ARRAY_PUSH(hosts->v, hosts->n,
								cap_h);

				*h = s->hosts.v[j];
				h->name = xstrdup(h->name);
			}
			continue;
		}
		if (count == 1) {
			out->v = s->addrs.v;
			out->n = s->addrs.n;
			out->ref = s->name;
			return;
		}
		if (append_set(c, e, (void **)&out->v, &na, &cap, s->addrs.v,
			       s->addrs.n, sizeof(*out->v)) < 0)
			break;
	}
	out->n = na;
	if (hosts)
		hosts_normalise(hosts);
	if (!na && c->d->errors != errors && !(hosts && hosts->n)) {
		free(out->v);
		memset(out, 0, sizeof(*out));
		out->any = !exclude;
	}
	chk_addrs_normalise(out);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static const struct id_cache *lookup_id(struct ctx *c, const char *name,
				       bool group)
{
	struct id_cache *e;
	size_t i;

	for (i = 0; i < c->n_ids; i++)
		if (c->ids[i].group == group && !strcmp(c->ids[i].name, name))
			return &c->ids[i];
	e = ARRAY_PUSH(c->ids, c->n_ids, c->cap_ids);
	e->name = name;
	e->group = group;
	e->found = false;
	if (group) {
		struct group *g = getgrnam(name);

		if (g) {
			e->found = true;
			e->id = (uint32_t)g->gr_gid;
		}
	} else {
		struct passwd *pw = getpwnam(name);

		if (pw) {
			e->found = true;
			e->id = (uint32_t)pw->pw_uid;
		}
	}
	return e;
}

/* user/group: names resolve on this host; numbers are taken as they are. */
void chk_parse_ids(struct ctx *c, const struct node *n, bool group,
		      struct id_set *out)
{
	const char *what = group ? "group" : "user";
	struct node *const *items;
	struct node *one = (struct node *)n;
	size_t count, i, k, cap = 0;

	memset(out, 0, sizeof(*out));
	items = chk_field_items(c, &one, n, group ? "a group name or number" :
			    "a user name or number", &count);
	if (!items)
		return;
	for (i = 0; i < count; i++) {
		const char *s = items[i]->str;
		unsigned long long v;
		uint32_t id;

		if (chk_all_digits(s)) {
			v = strlen(s) > 10 ? ~0ull : strtoull(s, NULL, 10);
			if (v >= 0xffffffffull) {
				err(c, items[i], "%s id %s is out of range", what, s);
				continue;
			}
			id = (uint32_t)v;
		} else {
			const struct id_cache *e = lookup_id(c, s, group);

			if (!e->found) {
				err(c, items[i], "unknown %s '%s'", what, chk_q(c, s));
				continue;
			}
			id = e->id;
		}
		ARRAY_PUSH(out->v, out->n, cap);
		out->v[out->n - 1] = id;
	}
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), u32_cmp);
		for (i = 1, k = 0; i < out->n; i++)
			if (out->v[i] != out->v[k])
				out->v[++k] = out->v[i];
		out->n = k + 1;
	}
}

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * `interface`: a name or a list of names. A list compiles to a set of
 * type ifname, which matches whole names, so an `eth*` pattern must stand
 * alone.
 */
void chk_parse_ifaces(struct ctx *c, const struct node *n,
		      struct iface_set *out)
{
	struct node *const *items;
	struct node *one = (struct node *)n;
	size_t count, i, k, cap = 0;

	memset(out, 0, sizeof(*out));
	items = chk_field_items(c, &one, n, "an interface name", &count);
	if (!items)
		return;
	for (i = 0; i < count; i++) {
		const struct node *e = items[i];

		if (!chk_iface_ok(e->str, e->len)) {
			err(c, e, "bad interface name '%s' (1 to 15 characters, no spaces, '/', ':' or '\"'; '*' only at the end)",
			    chk_q(c, e->str));
			continue;
		}
		if (count > 1 && e->str[e->len - 1] == '*') {
			err(c, e, "'%s' cannot be in a list of interfaces (a list matches whole names); give the pattern a rule of its own",
			    chk_q(c, e->str));
			continue;
		}
		ARRAY_PUSH(out->v, out->n, cap);
		out->v[out->n - 1] = xstrdup(e->str);
	}
	if (out->n > 1) {
		qsort(out->v, out->n, sizeof(*out->v), str_ptr_cmp);
		for (i = 1, k = 0; i < out->n; i++) {
			if (strcmp(out->v[i], out->v[k]))
				out->v[++k] = out->v[i];
			else
				free(out->v[i]);
		}
		out->n = k + 1;
	}
}

/* Printable ASCII without '"' (names and comments end up inside nft
 * strings, which have no escapes). */
bool chk_text_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if (!len || len > max)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e ||
		    s[i] == '"')
			return false;
	return true;
}

bool chk_iface_ok(const char *s, size_t len)
{
	size_t i;

	if (!len || len > 15 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch > 0x7e || ch == '/' || ch == ':' ||
		    ch == '"' || (ch == '*' && i + 1 != len))
			return false;
	}
	return true;
}

