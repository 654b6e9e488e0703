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
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explain_hosts.h"
#include "interp.h"
#include "netns.h"
#include "nl.h"
#include "util.h"

/*
 * "A.B.C.D", "A.B.C.D:PORT", "V6", "[V6]", "[V6]:PORT", ":PORT" (no
 * address; only where @addr_optional). A bare IPv6 address whose last
 * group could be a port ("fd00::2:443") is refused: say [fd00::2]:443.
 */
static int parse_endpoint(const char *s, struct cidr *addr, bool *has_addr,
			  bool *has_port, uint16_t *port, bool addr_optional,
			  const char **why)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *a = s, *colon = NULL, *end;
	size_t alen;
	struct port_range pr;
	char *e;
	long v;

	*has_port = false;
	*has_addr = true;
	*why = "ADDR, ADDR:PORT or [V6]:PORT";
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		a = s + 1;
		alen = (size_t)(end - a);
		if (end[1] == ':')
			colon = end + 1;
		else if (end[1])
			return -EINVAL;
	} else if (*s == ':' && s[1] != ':') {
		if (!addr_optional)
			return -EINVAL;
		*has_addr = false;
		colon = s;
		alen = 0;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':')) {
			const char *last = strrchr(s, ':');
			struct cidr tmp;

			colon = NULL;	/* bare IPv6 */
			/* "fd00::2:443": an address, or fd00::2 port 443? */
			if (last[1] && strspn(last + 1, "0123456789") == strlen(last + 1) &&
			    (size_t)(last - s) < sizeof(buf)) {
				memcpy(buf, s, (size_t)(last - s));
				buf[last - s] = '\0';
				if (cidr_parse(buf, &tmp, NULL) == 0) {
					*why = "an IPv6 address with a port needs brackets: [V6]:PORT";
					return -EINVAL;
				}
			}
		}
		alen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (*has_addr) {
		if (!alen || alen >= sizeof(buf) || memchr(a, '/', alen))
			return -EINVAL;
		memcpy(buf, a, alen);
		buf[alen] = '\0';
		if (cidr_parse(buf, addr, NULL) < 0)
			return -EINVAL;
	}
	if (!colon)
		return 0;
	colon++;
	errno = 0;
	v = strtol(colon, &e, 10);
	if (*colon && !*e && !errno && v >= 0 && v <= 65535) {
		*port = (uint16_t)v;
	} else if (port_by_name(colon, &pr) == 0 && pr.lo == pr.hi) {
		*port = pr.lo;
	} else {
		*why = "a port is a number from 0 to 65535 or a service name";
		return -EINVAL;
	}
	*has_port = true;
	return 0;
}

static void endpoint_format(char *buf, size_t len, const struct cidr *a,
			    bool has_addr, bool has_port, uint16_t port)
{
	char s[INET6_ADDRSTRLEN + 8];

	if (!has_addr) {
		snprintf(buf, len, "*:%u", port);
		return;
	}
	cidr_format(a, s, sizeof(s));
	if (!has_port)
		snprintf(buf, len, "%s", s);
	else if (a->family == 6)
		snprintf(buf, len, "[%s]:%u", s, port);
	else
		snprintf(buf, len, "%s:%u", s, port);
}

static int parse_proto(const char *s, uint8_t *out, const char **name)
{
	static const struct { const char *n; uint8_t num; } t[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
		{ "ipv6-icmp", 58 },
	};
	size_t i;
	char *e;
	long v;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(s, t[i].n)) {
			*out = t[i].num;
			*name = t[i].n;
			return 0;
		}
	errno = 0;
	v = strtol(s, &e, 10);
	if (!*s || *e || errno || v < 0 || v > 255)
		return -EINVAL;
	*out = (uint8_t)v;
	*name = s;
	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].num == v)
			*name = t[i].n;
	return 0;
}

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

static int parse_id(const char *s, bool user, uint32_t *id, uint32_t *gid,
		    bool *has_gid)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(s, &e, 10);
	if (*s && !*e && !errno && v >= 0 && v <= 0xfffffffe) {
		*id = (uint32_t)v;
		if (user) {
			struct passwd *pw = getpwuid((uid_t)v);

			if (pw && gid) {
				*gid = pw->pw_gid;
				*has_gid = true;
			}
		}
		return 0;
	}
	if (user) {
		struct passwd *pw = getpwnam(s);

		if (!pw)
			return -ENOENT;
		*id = pw->pw_uid;
		if (gid) {
			*gid = pw->pw_gid;
			*has_gid = true;
		}
	} else {
		struct group *gr = getgrnam(s);

		if (!gr)
			return -ENOENT;
		*id = gr->gr_gid;
	}
	return 0;
}

struct explained {
	const char *proto_name;
	bool icmp_type_given;
	bool src_addr;		/* --from named an address */
	bool by_name;		/* the destination is a hostname (@name) */
	char name[256];
	size_t name_matches;	/* hostname patterns of the policy it matches */
};

/* Fill the packet from the command line; prints and returns an exit code
 * on a usage error, else -1. */
static int explain_packet(struct cli *c, struct packet *pkt, struct explained *x)
{
	const char *dir = c->args[c->n_args - 3];
	const char *proto = c->args[c->n_args - 2];
	const char *dst = c->args[c->n_args - 1];
	const char *why;
	bool has_addr;

	memset(pkt, 0, sizeof(*pkt));
	if (!strcmp(dir, "in"))
		pkt->dir = DIR_IN;
	else if (!strcmp(dir, "out"))
		pkt->dir = DIR_OUT;
	else
		return explain_usage("direction must be 'in' or 'out', not '%s'", dir);
	if (parse_proto(proto, &pkt->l4proto, &x->proto_name) < 0)
		return explain_usage("unknown protocol '%s' (tcp, udp, icmp, icmpv6 or a number)",
				     proto);
	if (parse_endpoint(dst, &pkt->dst, &has_addr, &pkt->has_dport,
			   &pkt->dport, false, &why) < 0) {
		/* a hostname: its address comes from the policy's sets */
		if (explain_parse_name(dst, x->name, sizeof(x->name),
				       &pkt->has_dport, &pkt->dport) == 0 &&
		    pkt->dir == DIR_OUT) {
			x->by_name = true;
		} else {
			fprintf(stderr, "portwarden: explain: bad destination '%s': %s%s\n",
				dst, why, pkt->dir == DIR_OUT ?
				", or a HOSTNAME[:PORT]" : "");
			return explain_usage("%s", "");
		}
	}
	if (c->from) {
		struct cidr src;

		if (parse_endpoint(c->from, &src, &has_addr, &pkt->has_sport,
				   &pkt->sport, true, &why) < 0) {
			fprintf(stderr, "portwarden: explain: bad --from '%s': %s\n",
				c->from, why);
			return explain_usage("%s", "");
		}
		if (has_addr) {
			pkt->src = src;
			pkt->has_src = true;
			x->src_addr = true;
		}
	}
	if (c->sport) {
		struct port_range pr;
		char *e;
		long v;

		if (pkt->has_sport)
			return explain_usage("--sport '%s' and a port in --from: give one", c->sport);
		errno = 0;
		v = strtol(c->sport, &e, 10);
		if (*c->sport && !*e && !errno && v >= 0 && v <= 65535)
			pkt->sport = (uint16_t)v;
		else if (port_by_name(c->sport, &pr) == 0 && pr.lo == pr.hi)
			pkt->sport = pr.lo;
		else
			return explain_usage("bad --sport '%s' (a port number or service name)",
					     c->sport);
		pkt->has_sport = true;
	}
	/* ::ffff:a.b.c.d is a.b.c.d to the kernel */
	if (pkt->has_src && x->by_name)
		return explain_usage("--from '%s' with a hostname: give the destination's address instead",
				     c->from);
	if (pkt->has_src && pkt->src.family != pkt->dst.family) {
		struct cidr d = pkt->dst, s = pkt->src;
		static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };
		bool dm = d.family == 6 && !memcmp(d.addr, pfx, 12);
		bool sm = s.family == 6 && !memcmp(s.addr, pfx, 12);

		if (!dm && !sm)
			return explain_usage("--from '%s' is not of the destination's family",
					     c->from);
	}
	if ((pkt->l4proto == 1 && pkt->dst.family == 6) ||
	    (pkt->l4proto == 58 && pkt->dst.family == 4))
		return explain_usage("'%s' does not travel in this address family (icmp is IPv4, icmpv6 IPv6)",
				     proto);
	if (pkt->l4proto == 1 || pkt->l4proto == 58) {
		/* no ports: the "port" names the ICMP type, echo-request
		 * by default */
		if (pkt->has_dport && pkt->dport > 255)
			return explain_usage("an ICMP type is 0 to 255: '%s'", dst);
		x->icmp_type_given = pkt->has_dport;
		pkt->icmp_type = pkt->has_dport ? (uint8_t)pkt->dport :
				 (pkt->l4proto == 1 ? 8 : 128);
		pkt->has_dport = pkt->has_sport = false;
	}
	if (c->user) {
		if (parse_id(c->user, true, &pkt->uid, c->group ? NULL : &pkt->gid,
			     &pkt->has_gid) < 0)
			return explain_usage("unknown user '%s'", c->user);
		pkt->has_uid = true;
	}
	if (c->group) {
		if (parse_id(c->group, false, &pkt->gid, NULL, NULL) < 0)
			return explain_usage("unknown group '%s'", c->group);
		pkt->has_gid = true;
	}
	if (c->cgroup)
		pkt->cgroup = c->cgroup;
	if (c->iface) {
		if (!*c->iface || strlen(c->iface) >= 16)
			return explain_usage("bad --interface '%s' (an interface name, 1 to 15 characters)",
					     c->iface);
		if (pkt->dir == DIR_IN)
			pkt->iif = c->iface;
		else
			pkt->oif = c->iface;
	}
	return -1;
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

static void print_json(const struct packet *pkt, const struct explained *x,
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
		       const struct explained *x, const char *to, const char *from,
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
	struct explained x = { 0 };
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
	endpoint_format(to, sizeof(to), &pkt.dst, true,
			pkt.has_dport || x.icmp_type_given,
			x.icmp_type_given ? pkt.icmp_type : pkt.dport);
	if (x.by_name && pkt.has_dport)
		snprintf(to, sizeof(to), "%s:%u", x.name, pkt.dport);
	else if (x.by_name)
		snprintf(to, sizeof(to), "%s", x.name);
	if (pkt.has_src || pkt.has_sport)
		endpoint_format(from, sizeof(from), &pkt.src, pkt.has_src,
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
