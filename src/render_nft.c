// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Model -> nft text, indented with tabs the way `nft list` prints, so that
 * `nft -f` of it makes the same table as nl_batch.c. Every form printed here
 * is the one documented in include/model.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "util.h"

static const char *const icmp_names[] = {
	[0] = "echo-reply", [3] = "destination-unreachable",
	[4] = "source-quench", [5] = "redirect", [8] = "echo-request",
	[9] = "router-advertisement", [10] = "router-solicitation",
	[11] = "time-exceeded", [12] = "parameter-problem",
	[13] = "timestamp-request", [14] = "timestamp-reply",
	[15] = "info-request", [16] = "info-reply",
	[17] = "address-mask-request", [18] = "address-mask-reply",
};

static const char *icmpv6_name(uint32_t t)
{
	switch (t) {
	case 1: return "destination-unreachable";
	case 2: return "packet-too-big";
	case 3: return "time-exceeded";
	case 4: return "parameter-problem";
	case 128: return "echo-request";
	case 129: return "echo-reply";
	case 130: return "mld-listener-query";
	case 131: return "mld-listener-report";
	case 132: return "mld-listener-done";
	case 133: return "nd-router-solicit";
	case 134: return "nd-router-advert";
	case 135: return "nd-neighbor-solicit";
	case 136: return "nd-neighbor-advert";
	case 137: return "nd-redirect";
	case 138: return "router-renumbering";
	case 141: return "ind-neighbor-solicit";
	case 142: return "ind-neighbor-advert";
	case 143: return "mld2-listener-report";
	}
	return NULL;
}

static const char *l4proto_name(uint32_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "ipv6-icmp";
	}
	return NULL;
}

/* One value of @key as nft writes it, appended to @f. */
static void value_print(FILE *f, enum match_key key, const struct mvalue *v)
{
	char buf[64];
	const char *name;

	switch (key) {
	case KEY_NFPROTO:
		fputs(v->num == 10 ? "ipv6" : "ipv4", f);
		break;
	case KEY_L4PROTO:
		name = l4proto_name(v->num);
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", v->num);
		break;
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		fprintf(f, "\"%s\"", v->str ? v->str : "");
		break;
	case KEY_SADDR:
	case KEY_DADDR:
		cidr_format(&v->prefix, buf, sizeof(buf));
		fputs(buf, f);
		break;
	case KEY_SPORT:
	case KEY_DPORT:
		if (v->range.lo == v->range.hi)
			fprintf(f, "%u", v->range.lo);
		else
			fprintf(f, "%u-%u", v->range.lo, v->range.hi);
		break;
	case KEY_CGROUPV2:
		fprintf(f, "level %u \"%s\"", v->num, v->str ? v->str : "");
		break;
	case KEY_CT_STATE: {
		static const struct { uint32_t bit; const char *n; } st[] = {
			{ 0x1, "invalid" }, { 0x2, "established" },
			{ 0x4, "related" }, { 0x8, "new" }, { 0x40, "untracked" },
		};
		const char *sep = "";
		size_t i;

		for (i = 0; i < ARRAY_SIZE(st); i++)
			if (v->num & st[i].bit) {
				fprintf(f, "%s%s", sep, st[i].n);
				sep = ",";
			}
		break;
	}
	case KEY_ICMP_TYPE:
		name = v->num < ARRAY_SIZE(icmp_names) ? icmp_names[v->num] : NULL;
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", v->num);
		break;
	case KEY_ICMPV6_TYPE:
		name = icmpv6_name(v->num);
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", v->num);
		break;
	default:
		fprintf(f, "%u", v->num);
		break;
	}
}

/* The selector of @key: "ip saddr", "th dport", "meta skuid"... */
static const char *key_selector(enum match_key key, uint8_t family)
{
	switch (key) {
	case KEY_NFPROTO:	return "meta nfproto";
	case KEY_L4PROTO:	return "meta l4proto";
	case KEY_IIFNAME:	return "iifname";
	case KEY_OIFNAME:	return "oifname";
	case KEY_SADDR:		return family == 6 ? "ip6 saddr" : "ip saddr";
	case KEY_DADDR:		return family == 6 ? "ip6 daddr" : "ip daddr";
	case KEY_SPORT:		return "th sport";
	case KEY_DPORT:		return "th dport";
	case KEY_SKUID:		return "meta skuid";
	case KEY_SKGID:		return "meta skgid";
	case KEY_CGROUPV2:	return "socket cgroupv2";
	case KEY_CT_STATE:	return "ct state";
	case KEY_ICMP_TYPE:	return "icmp type";
	case KEY_ICMPV6_TYPE:	return "icmpv6 type";
	case KEY_CONCAT:	break;
	}
	return "?";
}

/* The set type name of one key component. */
static const char *key_type(enum match_key key, uint8_t family)
{
	switch (key) {
	case KEY_NFPROTO:	return "nf_proto";
	case KEY_L4PROTO:	return "inet_proto";
	case KEY_IIFNAME:
	case KEY_OIFNAME:	return "ifname";
	case KEY_SADDR:
	case KEY_DADDR:		return family == 6 ? "ipv6_addr" : "ipv4_addr";
	case KEY_SPORT:
	case KEY_DPORT:		return "inet_service";
	case KEY_SKUID:		return "uid";
	case KEY_SKGID:		return "gid";
	case KEY_CT_STATE:	return "ct_state";
	case KEY_ICMP_TYPE:	return "icmp_type";
	case KEY_ICMPV6_TYPE:	return "icmpv6_type";
	case KEY_CGROUPV2:
	case KEY_CONCAT:	break;
	}
	return "?";
}

static void elem_print(FILE *f, const struct mset *s, const struct melem *e)
{
	size_t k;

	for (k = 0; k < s->n_keys; k++) {
		if (k)
			fputs(" . ", f);
		value_print(f, s->keys[k], &e->v[k]);
	}
}

static void match_print(FILE *f, const struct model *m, const struct match *mt)
{
	const struct mset *s = mt->set >= 0 && (size_t)mt->set < m->n_sets ?
			       &m->sets[mt->set] : NULL;
	size_t k;

	if (mt->key == KEY_CONCAT) {
		for (k = 0; s && k < s->n_keys; k++)
			fprintf(f, "%s%s", k ? " . " : "",
				key_selector(s->keys[k], mt->family));
	} else {
		fputs(key_selector(mt->key, mt->family), f);
	}
	if (s && mt->mask && (mt->key == KEY_SADDR || mt->key == KEY_DADDR)) {
		struct cidr c = { .family = s->family == 6 ? 6 : 4 };
		char buf[64];
		unsigned int i;

		c.plen = c.family == 6 ? 128 : 32;
		for (i = 0; i < mt->mask && i < c.plen; i++)
			c.addr[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		cidr_format(&c, buf, sizeof(buf));
		fprintf(f, " & %s", buf);
	}
	fputs(mt->negate ? " != " : " ", f);
	if (s)
		fprintf(f, "@%s", s->name);
	else
		value_print(f, mt->key, &mt->value);
}

static void rule_print(FILE *f, const struct model *m, const struct mrule *r)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < r->n_matches; i++) {
		fputs(sep, f);
		match_print(f, m, &r->matches[i]);
		sep = " ";
	}
	if (r->counter) {
		fprintf(f, "%scounter", sep);
		sep = " ";
	}
	if (r->log_prefix) {
		fprintf(f, "%slimit rate 5/minute burst 5 packets log prefix \"%s\"",
			sep, r->log_prefix);
		sep = " ";
	}
	if (r->nflog_prefix) {
		fprintf(f, "%slog prefix \"%s\" group %u", sep, r->nflog_prefix,
			(unsigned int)r->nflog_group);
		sep = " ";
	}
	switch (r->verdict) {
	case MV_NONE:
		break;
	case MV_ACCEPT:
		fprintf(f, "%saccept", sep);
		break;
	case MV_DROP:
		fprintf(f, "%sdrop", sep);
		break;
	case MV_REJECT_TCP:
		fprintf(f, "%sreject with tcp reset", sep);
		break;
	case MV_REJECT_ICMPX:
		fprintf(f, "%sreject", sep);
		break;
	case MV_QUEUE:
		fprintf(f, "%squeue flags bypass to %u", sep, r->queue_num);
		break;
	}
	if (r->comment)
		fprintf(f, " comment \"%s\"", r->comment);
}

static char *to_string(void (*fn)(FILE *, const void *, const void *),
		       const void *a, const void *b)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fn(f, a, b);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void rule_print_v(FILE *f, const void *m, const void *r)
{
	rule_print(f, m, r);
}

static void elem_print_v(FILE *f, const void *s, const void *e)
{
	elem_print(f, s, e);
}

char *render_rule(const struct model *m, const struct mrule *r)
{
	return to_string(rule_print_v, m, r);
}

char *render_elem(const struct mset *s, const struct melem *e)
{
	return to_string(elem_print_v, s, e);
}

static void set_print(FILE *f, const struct mset *s)
{
	size_t i, k;

	fprintf(f, "\tset %s {\n\t\ttype ", s->name);
	for (k = 0; k < s->n_keys; k++)
		fprintf(f, "%s%s", k ? " . " : "", key_type(s->keys[k], s->family));
	fputc('\n', f);
	if (s->interval || s->timeout)
		fprintf(f, "\t\tflags %s%s%s\n", s->interval ? "interval" : "",
			s->interval && s->timeout ? "," : "",
			s->timeout ? "timeout" : "");
	for (i = 0; i < s->n_elems; i++) {
		fputs(i ? ",\n\t\t\t     " : "\t\telements = { ", f);
		elem_print(f, s, &s->elems[i]);
	}
	if (s->n_elems)
		fputs(" }\n", f);
	fputs("\t}\n", f);
}

static const char *hook_name(enum mhook h)
{
	return h == HOOK_OUTPUT ? "output" : "input";
}

static void priority_print(FILE *f, int prio)
{
	if (!prio)
		fputs("filter", f);
	else if (prio > 0)
		fprintf(f, "filter + %d", prio);
	else
		fprintf(f, "filter - %d", -prio);
}

int render_model(const struct model *m, FILE *f)
{
	size_t i, j;
	bool first = true;

	/* create-then-delete: works whether or not the table exists, and the
	 * whole file is one transaction */
	fprintf(f, "table inet %s\ndelete table inet %s\ntable inet %s {\n"
		"\tcomment \"%s\"\n", m->table, m->table, m->table,
		OWNER_MARK);
	for (i = 0; i < m->n_sets; i++) {
		if (!first)
			fputc('\n', f);
		first = false;
		set_print(f, &m->sets[i]);
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *c = &m->chains[i];

		if (!first)
			fputc('\n', f);
		first = false;
		fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority ",
			c->name, hook_name(c->hook));
		priority_print(f, c->priority);
		fprintf(f, "; policy %s;\n",
			c->policy == MV_DROP ? "drop" : "accept");
		for (j = 0; j < c->n_rules; j++) {
			fputs("\t\t", f);
			rule_print(f, m, &c->rules[j]);
			fputc('\n', f);
		}
		fputs("\t}\n", f);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
