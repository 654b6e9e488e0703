// SPDX-License-Identifier: GPL-2.0-or-later
/* The `compile` and `explain` commands: no privileges, no kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "eval.h"
#include "render.h"
#include "util.h"

/* Load and compile; prints diagnostics. NULL with *rc set on failure. */
static struct model *load_model(struct cli *c, size_t first, size_t n,
				struct policy **pp, int *rc)
{
	struct model *m = NULL;
	struct diag d;
	int ret;

	*pp = cli_load_policy(c, first, n, rc);
	if (!*pp)
		return NULL;
	diag_init(&d);
	ret = compile_policy(*pp, &m, &d);
	cli_print_diag(c, &d);
	diag_release(&d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: cannot compile the policy: %s\n",
			strerror(-ret));
		*rc = EXIT_INVALID;
		policy_free(*pp);
		*pp = NULL;
		return NULL;
	}
	return m;
}

int compile_main(struct cli *c)
{
	struct policy *p;
	struct model *m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = EXIT_OK;

	m = load_model(c, 0, c->n_args, &p, &rc);
	if (!m)
		return rc;
	if (c->format == FMT_JSON) {
		f = open_memstream(&buf, &len);
		if (!f || render_model(m, f) < 0 || fclose(f)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
		fputs("{\"table\": ", stdout);
		json_string(stdout, m->table);
		fputs(", \"nft\": ", stdout);
		json_string(stdout, buf);
		fputs("}\n", stdout);
	} else if (render_model(m, stdout) < 0) {
		rc = EXIT_RUNTIME;
	}
out:
	free(buf);
	model_free(m);
	policy_free(p);
	return rc;
}

/* "A.B.C.D", "A.B.C.D:PORT", "V6", "[V6]", "[V6]:PORT" (no prefixes) */
static int parse_endpoint(const char *s, struct cidr *addr, bool *has_port,
			  uint16_t *port)
{
	char buf[INET6_ADDRSTRLEN + 2];
	const char *a = s, *colon = NULL, *end;
	size_t alen;
	struct port_range pr;
	char *e;
	long v;

	*has_port = false;
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
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* bare IPv6 */
		alen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (!alen || alen >= sizeof(buf) || memchr(a, '/', alen))
		return -EINVAL;
	memcpy(buf, a, alen);
	buf[alen] = '\0';
	if (cidr_parse(buf, addr, NULL) < 0)
		return -EINVAL;
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
		return -EINVAL;
	}
	*has_port = true;
	return 0;
}

static void endpoint_format(char *buf, size_t len, const struct cidr *a,
			    bool has_port, uint16_t port)
{
	char s[INET6_ADDRSTRLEN + 8];

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

static bool is_loopback(const struct cidr *a)
{
	static const uint8_t v6lo[16] = { [15] = 1 };

	if (a->family == 4)
		return a->addr[0] == 127;
	return !memcmp(a->addr, v6lo, 16);
}

static int explain_usage(const char *why, const char *arg)
{
	fprintf(stderr, "portwarden: explain: ");
	fprintf(stderr, why, arg);
	fputs("\nusage: portwarden explain POLICY... in|out PROTO ADDR[:PORT] "
	      "[--from ADDR[:PORT]] [--user USER]\n", stderr);
	return EXIT_INVALID;
}

/* Fill the packet from the command line; prints and returns an exit code
 * on a usage error, else -1. */
static int explain_packet(struct cli *c, struct packet *pkt,
			  const char **proto_name, bool *icmp_type_given)
{
	const char *dir = c->args[c->n_args - 3];
	const char *proto = c->args[c->n_args - 2];
	const char *dst = c->args[c->n_args - 1];
	struct passwd *pw;
	char *e;
	long v;

	memset(pkt, 0, sizeof(*pkt));
	if (!strcmp(dir, "in"))
		pkt->dir = DIR_IN;
	else if (!strcmp(dir, "out"))
		pkt->dir = DIR_OUT;
	else
		return explain_usage("direction must be 'in' or 'out', not '%s'", dir);
	if (parse_proto(proto, &pkt->l4proto, proto_name) < 0)
		return explain_usage("unknown protocol '%s' (tcp, udp, icmp, icmpv6 or a number)",
				     proto);
	if (parse_endpoint(dst, &pkt->dst, &pkt->has_dport, &pkt->dport) < 0)
		return explain_usage("bad destination '%s' (ADDR, ADDR:PORT or [V6]:PORT)", dst);
	if ((pkt->l4proto == 1 && pkt->dst.family == 6) ||
	    (pkt->l4proto == 58 && pkt->dst.family == 4))
		return explain_usage("'%s' does not travel in this address family (icmp is IPv4, icmpv6 IPv6)",
				     proto);
	if (c->from) {
		if (parse_endpoint(c->from, &pkt->src, &pkt->has_sport,
				   &pkt->sport) < 0)
			return explain_usage("bad --from '%s' (ADDR, ADDR:PORT or [V6]:PORT)",
					     c->from);
		if (pkt->src.family != pkt->dst.family)
			return explain_usage("--from '%s' is not of the destination's family",
					     c->from);
		pkt->has_src = true;
	}
	if (pkt->l4proto == 1 || pkt->l4proto == 58) {
		/* no ports: the "port" names the ICMP type, echo-request
		 * by default */
		if (pkt->has_dport && pkt->dport > 255)
			return explain_usage("an ICMP type is 0 to 255: '%s'", dst);
		*icmp_type_given = pkt->has_dport;
		pkt->icmp_type = pkt->has_dport ? (uint8_t)pkt->dport :
				 (pkt->l4proto == 1 ? 8 : 128);
		pkt->has_dport = pkt->has_sport = false;
	}
	if (c->user) {
		errno = 0;
		v = strtol(c->user, &e, 10);
		if (*c->user && !*e && !errno && v >= 0 && v <= 0xfffffffe) {
			pkt->uid = (uint32_t)v;
			pkt->has_uid = true;
			pw = getpwuid((uid_t)v);
		} else {
			pw = getpwnam(c->user);
			if (!pw)
				return explain_usage("unknown user '%s'", c->user);
			pkt->uid = pw->pw_uid;
			pkt->has_uid = true;
		}
		if (pw) {
			pkt->gid = pw->pw_gid;
			pkt->has_gid = true;
		}
	}
	if (is_loopback(&pkt->dst)) {
		if (pkt->dir == DIR_IN)
			pkt->iif = "lo";
		else
			pkt->oif = "lo";
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

int explain_main(struct cli *c)
{
	struct policy *p = NULL;
	struct model *m = NULL;
	struct eval_result res;
	struct packet pkt;
	const char *proto_name;
	char to[80], from[80];
	bool icmp_type_given = false;
	int rc;

	if (c->n_args < 3)
		return explain_usage("needs in|out, a protocol and an address%s", "");
	rc = explain_packet(c, &pkt, &proto_name, &icmp_type_given);
	if (rc >= 0)
		return rc;
	rc = EXIT_OK;
	m = load_model(c, 0, c->n_args - 3, &p, &rc);
	if (!m)
		return rc;
	if (eval_packet(m, &pkt, &res) < 0) {
		fprintf(stderr, "portwarden: explain: no chain for this direction\n");
		rc = EXIT_RUNTIME;
		goto out;
	}
	/* the destination as given: for ICMP the "port" is the type */
	endpoint_format(to, sizeof(to), &pkt.dst,
			pkt.has_dport || icmp_type_given,
			icmp_type_given ? pkt.icmp_type : pkt.dport);
	if (pkt.has_src)
		endpoint_format(from, sizeof(from), &pkt.src, pkt.has_sport,
				pkt.sport);
	if (c->format == FMT_JSON) {
		printf("{\"direction\":\"%s\",\"proto\":", pkt.dir == DIR_IN ? "in" : "out");
		json_string(stdout, proto_name);
		fputs(",\"to\":", stdout);
		json_string(stdout, to);
		fputs(",\"from\":", stdout);
		json_or_null(stdout, pkt.has_src ? from : NULL);
		printf(",\"verdict\":\"%s\",\"rule\":", mverdict_name(res.verdict));
		json_or_null(stdout, res.origin ? res.origin->name : NULL);
		fputs(",\"file\":", stdout);
		json_or_null(stdout, res.origin ? res.origin->loc.file : NULL);
		if (res.origin)
			printf(",\"line\":%u", res.origin->loc.line);
		else
			fputs(",\"line\":null", stdout);
		fputs(",\"label\":", stdout);
		json_or_null(stdout, res.origin ? NULL : res.label);
		fputs("}\n", stdout);
	} else {
		printf("%s %s %s", pkt.dir == DIR_IN ? "in" : "out", proto_name, to);
		if (pkt.has_src)
			printf(" from %s", from);
		printf(" -> %s ", mverdict_name(res.verdict));
		if (res.origin)
			printf("(rule \"%s\", %s:%u)\n", res.origin->name,
			       res.origin->loc.file ? res.origin->loc.file : "?",
			       res.origin->loc.line);
		else if (res.label && strcmp(res.label, "default"))
			printf("(built-in \"%s\")\n", res.label);
		else if (p->def_loc[pkt.dir].line)
			printf("(default %s policy, %s:%u)\n",
			       direction_name(pkt.dir), p->def_loc[pkt.dir].file,
			       p->def_loc[pkt.dir].line);
		else
			printf("(default %s policy)\n", direction_name(pkt.dir));
	}
	rc = res.verdict == MV_ACCEPT ? EXIT_OK : EXIT_FINDINGS;
out:
	model_free(m);
	policy_free(p);
	return rc;
}
