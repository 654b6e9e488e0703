// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `explain`: what this host's kernel does with one connection, if the
 * policy were applied (SPEC §5). Every table of the host is read live
 * (root), the compiled policy stands in for portwarden's own, and the
 * interpreter runs them all; `--policy-only` (and an unprivileged run)
 * leaves the other tables out.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explain_hosts.h"
#include "interp.h"
#include "netns.h"
#include "nl.h"
#include "packet_args.h"
#include "util.h"

static int explain_usage(const char *why, const char *arg)
{
	fprintf(stderr, "portwarden: explain: ");
	fprintf(stderr, why, arg);
	fputs("\nusage: portwarden explain POLICY... in|out PROTO ADDR[:PORT] "
	      "[--from ADDR[:PORT]|:PORT] [--sport PORT] [--user USER] "
	      "[--group GROUP] [--cgroup PATH] [--interface NAME] "
	      "[--policy-only]\n", stderr);
	return EXIT_INVALID;
}

/* Fill the packet from the command line; prints and returns an exit code
 * on a usage error, else -1. */
static int explain_packet(struct cli *c, struct packet *pkt, struct packet_desc *x)
{
	struct packet_args a = {
		.dir = c->args[c->n_args - 3], .proto = c->args[c->n_args - 2],
		.dst = c->args[c->n_args - 1], .from = c->from, .sport = c->sport,
		.user = c->user, .group = c->group, .cgroup = c->cgroup,
		.iface = c->iface,
	};
	char *why;
	int rc;

	if (packet_args_parse(&a, pkt, x, &why) == 0)
		return -1;
	if (x->endpoint) {
		fprintf(stderr, "portwarden: explain: %s\n", why);
		rc = explain_usage("%s", "");
	} else {
		rc = explain_usage("%s", why);
	}
	free(why);
	return rc;
}

static void json_or_null(FILE *f, const char *s)
{
	if (s)
		json_string(f, s);
	else
		fputs("null", f);
}

/* "FILE:LINE" of a step's rule: the policy rule, or for a policy's default
 * where the default was set */
static const char *step_at(const struct ix_step *st, const struct policy *p,
			   enum direction dir, char *buf, size_t len)
{
	const struct loc *l = st->at;

	if (!l && st->label && !strcmp(st->label, "default") && p &&
	    p->def_loc[dir].line)
		l = &p->def_loc[dir];
	if (!l || !l->file)
		return NULL;
	snprintf(buf, len, "%s:%u", l->file, l->line);
	return buf;
}

/* the direction a step's chain judges (for its default's location) */
static enum direction step_dir(const struct ix_step *st)
{
	return st->hook == IXH_OUTPUT || st->hook == IXH_POSTROUTING ? DIR_OUT : DIR_IN;
}

static const struct ix_step *decider(const struct ix_packet_result *r)
{
	return r->decider >= 0 ? &r->steps[r->decider] : NULL;
}

static void json_step_head(const struct ix_step *st, const struct policy *p)
{
	char at[512];

	fputs("\"rule\":", stdout);
	json_or_null(stdout, st ? st->rule : NULL);
	fputs(",\"at\":", stdout);
	json_or_null(stdout, st ? step_at(st, p, step_dir(st), at, sizeof(at)) : NULL);
	fputs(",\"table\":", stdout);
	json_or_null(stdout, st ? st->table : NULL);
	fputs(",\"chain\":", stdout);
	json_or_null(stdout, st ? st->rule_chain ? st->rule_chain : st->chain : NULL);
}

static void json_path(const struct ix_packet_result *r)
{
	size_t i;

	fputs("[", stdout);
	for (i = 0; i < r->n_steps; i++) {
		const struct ix_step *st = &r->steps[i];

		fputs(i ? ",{\"table\":" : "{\"table\":", stdout);
		json_string(stdout, st->table);
		fputs(",\"chain\":", stdout);
		json_string(stdout, st->chain);
		printf(",\"hook\":\"%s\",\"priority\":%d,\"verdict\":\"%s\",\"rule\":",
		       ix_hook_name(st->hook), st->priority, ix_verdict_name(st->verdict));
		json_or_null(stdout, st->rule);
		printf(",\"handle\":%llu}", (unsigned long long)st->handle);
	}
	fputs("]", stdout);
}

static void print_json(const struct packet *pkt, const struct packet_desc *x,
		       const char *to, const char *from,
		       const struct ix_conn_result *res, const struct policy *p)
{
	const struct ix_step *st = decider(&res->first);
	bool reply_failed = res->first.verdict == IXV_ACCEPT && res->has_reply &&
			    res->reply.verdict != IXV_ACCEPT;
	const struct ix_step *dec = reply_failed ? decider(&res->reply) : st;

	printf("{\"direction\":\"%s\",\"proto\":", pkt->dir == DIR_IN ? "in" : "out");
	json_string(stdout, x->proto_name);
	fputs(",\"to\":", stdout);
	json_string(stdout, to);
	fputs(",\"from\":", stdout);
	json_or_null(stdout, from);
	printf(",\"verdict\":\"%s\",", ix_verdict_name(res->verdict));
	json_step_head(dec, p);
	fputs(",\"label\":", stdout);
	json_or_null(stdout, dec && !dec->origin ? dec->label : NULL);
	fputs(",\"reason\":", stdout);
	json_or_null(stdout, res->verdict == IXV_UNDETERMINED ?
		     (reply_failed ? res->reply.why : res->first.why) : NULL);
	fputs(",\"first\":{", stdout);
	printf("\"verdict\":\"%s\",", ix_verdict_name(res->first.verdict));
	json_step_head(st, p);
	fputs("},\"reply\":", stdout);
	if (res->has_reply && res->first.verdict == IXV_ACCEPT) {
		printf("{\"verdict\":\"%s\",", ix_verdict_name(res->reply.verdict));
		json_step_head(decider(&res->reply), p);
		fputs(",\"path\":", stdout);
		json_path(&res->reply);
		fputs("}", stdout);
	} else {
		fputs("null", stdout);
	}
	fputs(",\"path\":", stdout);
	json_path(&res->first);
	fputs("}\n", stdout);
}

/* "(rule "https", policy.yaml:21)", "(table ip filter, chain INPUT, handle 4)" */
static void print_who(FILE *f, const struct ix_step *st, const struct policy *p)
{
	char at[512];
	const char *loc;

	if (!st) {
		fputs("(no base chain on this path)", f);
		return;
	}
	loc = step_at(st, p, step_dir(st), at, sizeof(at));
	if (st->origin) {
		fprintf(f, "(rule \"%s\", %s)", st->origin->name, loc ? loc : "?");
	} else if (st->label && !strcmp(st->label, "default")) {
		fprintf(f, "(default %s policy%s%s)", direction_name(step_dir(st)),
		       loc ? ", " : "", loc ? loc : "");
	} else if (st->label) {
		fprintf(f, "(built-in \"%s\")", st->label);
	} else if (st->handle || st->rule) {
		fprintf(f, "(table %s, chain %s, rule handle %llu%s%s%s)", st->table,
		       st->rule_chain ? st->rule_chain : st->chain,
		       (unsigned long long)st->handle, st->rule ? ", \"" : "",
		       st->rule ? st->rule : "", st->rule ? "\"" : "");
	} else {
		fprintf(f, "(table %s, chain %s policy)", st->table, st->chain);
	}
}

static void print_path(FILE *f, const char *what, const struct ix_packet_result *r)
{
	size_t i;

	for (i = 0; i < r->n_steps; i++) {
		const struct ix_step *st = &r->steps[i];

		fprintf(f, "  %s: %s %s (%s, priority %d) -> %s", what, st->table,
		       st->chain, ix_hook_name(st->hook), st->priority,
		       ix_verdict_name(st->verdict));
		if (st->rule)
			fprintf(f, " by \"%s\"", st->rule);
		if (st->handle)
			fprintf(f, " [handle %llu]", (unsigned long long)st->handle);
		fputc('\n', f);
	}
}

static void print_text(FILE *f, const struct cli *c, const struct packet *pkt,
		       const struct packet_desc *x, const char *to, const char *from,
		       const struct ix_conn_result *res, const struct policy *p)
{
	const struct ix_step *st = decider(&res->first);
	static const char *const reply_name[] = { "", "the reply" };

	fprintf(f, "%s %s %s", pkt->dir == DIR_IN ? "in" : "out", x->proto_name, to);
	if (from)
		fprintf(f, " from %s", from);
	if (res->first.verdict == IXV_UNDETERMINED) {
		fprintf(f, " -> undetermined: %s\n", res->first.why);
	} else if (res->first.verdict != IXV_ACCEPT || !res->has_reply ||
		   res->reply.verdict == IXV_ACCEPT) {
		fprintf(f, " -> %s ", ix_verdict_name(res->first.verdict));
		print_who(f, st, p);
		fputc('\n', f);
	} else {
		const struct ix_step *rs = decider(&res->reply);

		fprintf(f, " -> %s: the first packet is accepted ",
		       ix_verdict_name(res->verdict));
		print_who(f, st, p);
		if (res->reply.verdict == IXV_UNDETERMINED)
			fprintf(f, ", but what happens to %s is undetermined: %s\n",
			       reply_name[1], res->reply.why);
		else {
			fprintf(f, ", but %s is %s by ", pkt->l4proto == 6 ?
			       "the connection's reply (SYN-ACK or ACK)" : reply_name[1],
			       res->reply.verdict == IXV_REJECT ? "rejected" : "dropped");
			print_who(f, rs, p);
			fprintf(f, " in chain %s of table %s\n", rs ? rs->chain : "?",
			       rs ? rs->table : "?");
		}
	}
	if (c->verbose) {
		print_path(f, "first", &res->first);
		if (res->has_reply && res->first.verdict == IXV_ACCEPT)
			print_path(f, "reply", &res->reply);
	}
}

/* The host to explain on: every table (root), and the compiled policy. */
static int explain_host(struct cli *c, struct model *m, struct ix_host **out)
{
	struct ix_host *h = ix_host_new();
	struct nl_sock *s = NULL;
	int ret;

	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0) {
			fprintf(stderr, "portwarden: explain: cannot enter network namespace %s: %s\n",
				c->netns, strerror(-ret));
			ix_host_free(h);
			return EXIT_RUNTIME;
		}
	}
	if (!c->policy_only) {
		ret = nl_sock_open(&s);
		if (!ret)
			ret = ix_host_load_live(h, s, m->table);
		/* the addresses portwarden daemon learned match their rules */
		if (!ret)
			explain_learned(s, m);
		nl_sock_close(s);
		if (ret == -EPERM || ret == -EACCES) {
			fprintf(stderr, "portwarden: explain: not permitted to read the host's other tables (run as root); answering for the policy alone\n");
		} else if (ret == -EPROTONOSUPPORT || ret == -ENOENT) {
			fprintf(stderr, "portwarden: explain: the kernel has no nf_tables; answering for the policy alone\n");
		} else if (ret < 0) {
			fprintf(stderr, "portwarden: explain: cannot read the host's tables: %s\n",
				strerror(-ret));
			ix_host_free(h);
			return EXIT_RUNTIME;
		}
	}
	if (!ix_host_n_tables(h) || c->policy_only)
		ix_host_load_addrs(h);
	ret = ix_host_add_model(h, m);
	if (ret < 0) {
		fprintf(stderr, "portwarden: explain: the policy's table cannot be built: %s\n",
			strerror(-ret));
		ix_host_free(h);
		return EXIT_RUNTIME;
	}
	*out = h;
	return -1;
}

int explain_main(struct cli *c)
{
	struct policy *p = NULL;
	struct model *m = NULL;
	struct ix_host *h = NULL;
	struct ix_conn_result res;
	struct packet pkt;
	struct packet_desc x = { 0 };
	char to[300], from[80];
	int rc;

	if (c->n_args < 3)
		return explain_usage("needs in|out, a protocol and an address%s", "");
	rc = explain_packet(c, &pkt, &x);
	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	m = cli_load_model(c, 0, c->n_args - 3, &p, &rc);
	if (!m)
		return rc;
	if (x.by_name)
		x.name_matches = explain_by_name(p, m, x.name, &pkt);
	rc = explain_host(c, m, &h);
	if (rc >= 0)
		goto out;
	if (ix_eval_conn(h, &pkt, &res) < 0) {
		fprintf(stderr, "portwarden: explain: the packet has no address family\n");
		rc = EXIT_INVALID;
		goto out;
	}
	/* the destination as given: for ICMP the "port" is the type */
	packet_endpoint_format(to, sizeof(to), &pkt.dst, true,
			pkt.has_dport || x.icmp_type_given,
			x.icmp_type_given ? pkt.icmp_type : pkt.dport);
	if (x.by_name && pkt.has_dport)
		snprintf(to, sizeof(to), "%s:%u", x.name, pkt.dport);
	else if (x.by_name)
		snprintf(to, sizeof(to), "%s", x.name);
	if (pkt.has_src || pkt.has_sport)
		packet_endpoint_format(from, sizeof(from), &pkt.src, pkt.has_src,
				pkt.has_sport, pkt.sport);
	if (c->format == FMT_JSON) {
		print_json(&pkt, &x, to, pkt.has_src || pkt.has_sport ? from : NULL,
			   &res, p);
	} else {
		/* other tables' names, chains and comments are someone
		 * else's text: escaped, line by line (SPEC §6) */
		char *buf = NULL, *line, *save = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		if (!f)
			abort();
		print_text(f, c, &pkt, &x, to,
			   pkt.has_src || pkt.has_sport ? from : NULL, &res, p);
		if (x.by_name && !x.name_matches)
			fprintf(f, "  note: no hostname of the policy matches %s\n",
				x.name);
		else if (!x.by_name && res.first.verdict != IXV_ACCEPT)
			explain_host_notes(f, p, &pkt,
					   decider(&res.first) ?
					   decider(&res.first)->origin : NULL);
		fclose(f);
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			text_put(stdout, line);
			putchar('\n');
		}
		free(buf);
	}
	rc = res.verdict == IXV_ACCEPT ? EXIT_OK : EXIT_FINDINGS;
out:
	ix_host_free(h);
	model_free(m);
	policy_free(p);
	return rc;
}
