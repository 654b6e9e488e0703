// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden status [--table [FAMILY] NAME]: the live rules of a table
 * with their counters. An inet table is decoded into the model and shown
 * in nft syntax, except rules the decoder does not understand, which are
 * shown raw (libnftnl's expression dump, as `nft --debug=netlink`); a
 * table of another family (iptables-nft's `ip filter`, a bridge table) is
 * shown raw throughout.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dns_status.h"
#include "metrics.h"
#include "model.h"
#include "netns.h"
#include "nl.h"
#include "nl_raw.h"
#include "render.h"
#include "stage.h"
#include "util.h"

#define DEFAULT_TABLE "portwarden"

/*
 * --table NAME (inet), --table FAMILY:NAME, --table "FAMILY NAME", and as
 * nft writes it, --table FAMILY NAME (the name then stands as the one
 * argument). @name points into @c's strings or @buf.
 * Return: 0, or -EINVAL (a family that does not exist, stray arguments).
 */
static int table_spec(const struct cli *c, uint32_t *family,
		      const char **name, char *buf, size_t len)
{
	const char *v = c->table ? c->table : DEFAULT_TABLE, *sep;
	int fam;

	*family = NFPROTO_INET;
	*name = v;
	sep = strpbrk(v, ": ");
	if (sep) {
		if ((size_t)(sep - v) >= len)
			return -EINVAL;
		memcpy(buf, v, (size_t)(sep - v));
		buf[sep - v] = '\0';
		fam = nl_family_parse(buf);
		if (fam < 0 || !sep[1] || c->n_args)
			return -EINVAL;
		*family = (uint32_t)fam;
		*name = sep + 1;
		return 0;
	}
	if (c->n_args == 1 && c->table && nl_family_parse(v) >= 0) {
		*family = (uint32_t)nl_family_parse(v);
		*name = c->args[0];
		return 0;
	}
	return c->n_args ? -EINVAL : 0;
}

static const char *policy_word(enum mverdict v)
{
	return v == MV_DROP ? "drop" : v == MV_ACCEPT ? "accept" : "none";
}

/* The raw form of the rule with @handle, or NULL. */
static const struct nl_raw_rule *raw_rule(const struct nl_raw_table *raw,
					  uint64_t handle)
{
	size_t i;

	for (i = 0; raw && handle && i < raw->n_rules; i++)
		if (raw->rules[i].handle == handle)
			return &raw->rules[i];
	return NULL;
}

static bool undecoded(const struct mrule *ru)
{
	return ru->comment && !strncmp(ru->comment, "unknown: ", 9);
}

static void status_json(const struct model *m, const struct nl_raw_table *raw)
{
	size_t i, j;

	printf("{\"table\": ");
	json_string(stdout, m->table);
	printf(", \"family\": \"inet\", \"chains\": [");
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *ch = &m->chains[i];

		printf("%s{\"name\": ", i ? ", " : "");
		json_string(stdout, ch->name);
		printf(", \"policy\": \"%s\", \"rules\": [", policy_word(ch->policy));
		for (j = 0; j < ch->n_rules; j++) {
			const struct mrule *ru = &ch->rules[j];
			const struct nl_raw_rule *rr = undecoded(ru) ?
				raw_rule(raw, ru->handle) : NULL;
			char *txt = rr ? NULL : render_rule(m, ru);

			printf("%s{\"rule\": ", j ? ", " : "");
			json_string(stdout, rr ? rr->comment : ru->comment);
			printf(", \"nft\": ");
			json_string(stdout, rr ? NULL : txt ? txt : "");
			printf(", \"raw\": ");
			json_string(stdout, rr ? rr->text : NULL);
			printf(", \"handle\": %" PRIu64 ", \"packets\": %" PRIu64
			       ", \"bytes\": %" PRIu64 "}",
			       ru->handle, rr ? rr->packets : ru->packets,
			       rr ? rr->bytes : ru->bytes);
			free(txt);
		}
		printf("]}");
	}
	printf("]");
	dns_status_json(m, stdout);
	/* the staged part and the closing brace: status_main() */
}

/* every name and comment below was read from the kernel, where anyone
 * with CAP_NET_ADMIN may have put it: escaped (SPEC §6) */
static void rule_line(const char *name, bool counter, uint64_t packets,
		      uint64_t bytes, const char *prefix, const char *text)
{
	char *n = text_escape(name ? name : "-");

	if (counter)
		printf("  %-24s %12" PRIu64 " %14" PRIu64 "  ", n, packets, bytes);
	else
		printf("  %-24s %12s %14s  ", n, "-", "-");
	fputs(prefix, stdout);
	text_put(stdout, text);
	fputc('\n', stdout);
	free(n);
}

static void status_text(const struct model *m, const struct nl_raw_table *raw)
{
	size_t i, j;

	fputs("table inet ", stdout);
	text_put(stdout, m->table);
	fputc('\n', stdout);
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *ch = &m->chains[i];

		fputs("chain ", stdout);
		text_put(stdout, ch->name);
		if (ch->policy == MV_NONE)
			printf(" (not an input or output filter chain)\n");
		else
			printf(" (hook %s, policy %s)\n",
			       ch->hook == HOOK_OUTPUT ? "output" : "input",
			       policy_word(ch->policy));
		printf("  %-24s %12s %14s  %s\n", "RULE", "PACKETS", "BYTES", "NFT");
		for (j = 0; j < ch->n_rules; j++) {
			const struct mrule *ru = &ch->rules[j];
			const struct nl_raw_rule *rr = undecoded(ru) ?
				raw_rule(raw, ru->handle) : NULL;
			char *txt;

			if (rr) {	/* what the decoder could not say */
				rule_line(rr->comment, rr->counter, rr->packets,
					  rr->bytes, "raw: ", rr->text);
				continue;
			}
			txt = render_rule(m, ru);
			rule_line(ru->comment, true, ru->packets, ru->bytes, "",
				  txt ? txt : "?");
			free(txt);
		}
	}
}

static void raw_json(const struct nl_raw_table *t)
{
	size_t i, j;
	bool first;

	printf("{\"table\": ");
	json_string(stdout, t->name);
	printf(", \"family\": \"%s\", \"chains\": [", nl_family_name(t->family));
	for (i = 0; i < t->n_chains; i++) {
		const struct nl_raw_chain *ch = &t->chains[i];

		printf("%s{\"name\": ", i ? ", " : "");
		json_string(stdout, ch->name);
		if (ch->base)
			printf(", \"hook\": \"%s\", \"priority\": %" PRId32
			       ", \"policy\": \"%s\"",
			       nl_hook_name(t->family, ch->hook), ch->priority,
			       ch->policy == NF_DROP ? "drop" : "accept");
		else
			printf(", \"hook\": null, \"priority\": null, \"policy\": null");
		printf(", \"rules\": [");
		first = true;
		for (j = 0; j < t->n_rules; j++) {
			const struct nl_raw_rule *r = &t->rules[j];

			if (strcmp(r->chain, ch->name))
				continue;
			printf("%s{\"rule\": ", first ? "" : ", ");
			first = false;
			json_string(stdout, r->comment);
			printf(", \"nft\": null, \"raw\": ");
			json_string(stdout, r->text);
			printf(", \"handle\": %" PRIu64, r->handle);
			if (r->counter)
				printf(", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
				       r->packets, r->bytes);
			else
				printf(", \"packets\": null, \"bytes\": null}");
		}
		printf("]}");
	}
	printf("]}\n");
}

static void raw_text(const struct nl_raw_table *t)
{
	size_t i, j;

	printf("table %s ", nl_family_name(t->family));
	text_put(stdout, t->name);
	fputc('\n', stdout);
	for (i = 0; i < t->n_chains; i++) {
		const struct nl_raw_chain *ch = &t->chains[i];

		fputs("chain ", stdout);
		text_put(stdout, ch->name);
		if (ch->base) {
			printf(" (type ");
			text_put(stdout, ch->type);
			printf(", hook %s, priority %" PRId32 ", policy %s)\n",
			       nl_hook_name(t->family, ch->hook), ch->priority,
			       ch->policy == NF_DROP ? "drop" : "accept");
		} else {
			printf(" (regular chain)\n");
		}
		printf("  %-24s %12s %14s  %s\n", "RULE", "PACKETS", "BYTES",
		       "EXPRESSIONS");
		for (j = 0; j < t->n_rules; j++) {
			const struct nl_raw_rule *r = &t->rules[j];

			if (!strcmp(r->chain, ch->name))
				rule_line(r->comment, r->counter, r->packets,
					  r->bytes, "", r->text);
		}
	}
}

static int fail_read(const char *family, const char *table, int err)
{
	char *t = text_escape(table);

	if (err == -ENOENT)
		fprintf(stderr, "portwarden: status: table %s %s does not exist%s\n",
			family, t, strcmp(family, "inet") ? "" :
			" (nothing applied?)");
	else
		fprintf(stderr, "portwarden: status: cannot read table %s %s: %s\n",
			family, t, strerror(-err));
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "portwarden: status needs CAP_NET_ADMIN (run as root)\n");
	free(t);
	return EXIT_RUNTIME;
}

int status_main(struct cli *c)
{
	struct nl_raw_table *raw = NULL;
	struct nl_sock *sock = NULL;
	struct model *m = NULL;
	const char *table;
	uint32_t family;
	char buf[16];
	int rc = EXIT_RUNTIME, ret;
	size_t i, j;

	if (table_spec(c, &family, &table, buf, sizeof(buf)) < 0) {
		fprintf(stderr, "portwarden: status: --table takes NAME (an inet table), FAMILY:NAME or FAMILY NAME, FAMILY one of ip, ip6, inet, arp, bridge, netdev\n");
		return EXIT_INVALID;
	}
	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0) {
			fprintf(stderr, "portwarden: status: cannot enter network namespace %s: %s\n",
				c->netns, strerror(-ret));
			return EXIT_RUNTIME;
		}
	}
	ret = nl_sock_open(&sock);
	if (ret < 0) {
		fprintf(stderr, "portwarden: status: cannot open a netlink socket: %s\n",
			strerror(-ret));
		return EXIT_RUNTIME;
	}
	if (family != NFPROTO_INET) {
		ret = nl_raw_read(sock, family, table, &raw);
		if (ret < 0) {
			rc = fail_read(nl_family_name(family), table, ret);
			goto out;
		}
		if (c->format == FMT_JSON)
			raw_json(raw);
		else
			raw_text(raw);
		rc = EXIT_OK;
		goto out;
	}
	ret = nl_read_table(sock, table, &m);
	if (ret == -ENOENT && nl_stage_exists(sock, table) == 1) {
		/* staged from no policy: nothing enforced yet */
		if (c->format == FMT_JSON) {
			printf("{\"table\": ");
			json_string(stdout, table);
			printf(", \"family\": \"inet\", \"present\": false, \"chains\": []");
		} else if (c->format != FMT_PROMETHEUS) {
			printf("table inet ");
			text_put(stdout, table);
			printf(": not present (nothing enforced)\n");
		}
		goto staged;
	}
	if (ret < 0) {
		rc = fail_read("inet", table, ret);
		goto out;
	}
	/* rules the decoder did not understand are shown raw */
	for (i = 0; !raw && i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++)
			if (undecoded(&m->chains[i].rules[j])) {
				if (nl_raw_read(sock, NFPROTO_INET, table, &raw) < 0)
					raw = NULL;
				break;
			}
	if (c->format == FMT_JSON)
		status_json(m, raw);
	else if (c->format == FMT_PROMETHEUS)
		metrics_rules_prometheus(m, stdout);
	else
		status_text(m, raw);
	if (c->format == FMT_TEXT)
		dns_status_text(m, stdout);
staged:
	rc = EXIT_OK;
	if (c->format != FMT_PROMETHEUS) {
		ret = stage_status(c, sock, table, c->format == FMT_JSON);
		if (ret < 0) {
			fprintf(stderr, "portwarden: status: cannot read the staged policy: %s\n",
				strerror(-ret));
			rc = EXIT_RUNTIME;
		}
		if (c->format == FMT_JSON)
			printf("}\n");
	}
out:
	nl_raw_free(raw);
	model_free(m);
	nl_sock_close(sock);
	return rc;
}
