// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * explain's packet arguments -> struct packet, for `explain` and for the
 * tests of a policy (SPEC §5, §10). Moved out of cmd_explain.c unchanged
 * in behaviour; the messages are the ones explain always printed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain_hosts.h"
#include "packet_args.h"
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

void packet_endpoint_format(char *buf, size_t len, const struct cidr *a,
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

#define FAIL(...) do { *why = xasprintf(__VA_ARGS__); return -EINVAL; } while (0)

int packet_args_parse(const struct packet_args *a, struct packet *pkt,
		      struct packet_desc *x, char **why)
{
	const char *ewhy;
	bool has_addr;

	memset(pkt, 0, sizeof(*pkt));
	memset(x, 0, sizeof(*x));
	*why = NULL;
	if (!strcmp(a->dir, "in"))
		pkt->dir = DIR_IN;
	else if (!strcmp(a->dir, "out"))
		pkt->dir = DIR_OUT;
	else
		FAIL("direction must be 'in' or 'out', not '%s'", a->dir);
	if (parse_proto(a->proto, &pkt->l4proto, &x->proto_name) < 0)
		FAIL("unknown protocol '%s' (tcp, udp, icmp, icmpv6 or a number)",
		     a->proto);
	if (parse_endpoint(a->dst, &pkt->dst, &has_addr, &pkt->has_dport,
			   &pkt->dport, false, &ewhy) < 0) {
		/* a hostname: its address comes from the policy's sets */
		if (explain_parse_name(a->dst, x->name, sizeof(x->name),
				       &pkt->has_dport, &pkt->dport) == 0 &&
		    pkt->dir == DIR_OUT) {
			x->by_name = true;
		} else {
			x->endpoint = true;
			FAIL("bad destination '%s': %s%s", a->dst, ewhy,
			     pkt->dir == DIR_OUT ? ", or a HOSTNAME[:PORT]" : "");
		}
	}
	if (a->from) {
		struct cidr src;

		if (parse_endpoint(a->from, &src, &has_addr, &pkt->has_sport,
				   &pkt->sport, true, &ewhy) < 0) {
			x->endpoint = true;
			FAIL("bad --from '%s': %s", a->from, ewhy);
		}
		if (has_addr) {
			pkt->src = src;
			pkt->has_src = true;
			x->src_addr = true;
		}
	}
	if (a->sport) {
		struct port_range pr;
		char *e;
		long v;

		if (pkt->has_sport)
			FAIL("--sport '%s' and a port in --from: give one", a->sport);
		errno = 0;
		v = strtol(a->sport, &e, 10);
		if (*a->sport && !*e && !errno && v >= 0 && v <= 65535)
			pkt->sport = (uint16_t)v;
		else if (port_by_name(a->sport, &pr) == 0 && pr.lo == pr.hi)
			pkt->sport = pr.lo;
		else
			FAIL("bad --sport '%s' (a port number or service name)",
			     a->sport);
		pkt->has_sport = true;
	}
	/* ::ffff:a.b.c.d is a.b.c.d to the kernel */
	if (pkt->has_src && x->by_name)
		FAIL("--from '%s' with a hostname: give the destination's address instead",
		     a->from);
	if (pkt->has_src && pkt->src.family != pkt->dst.family) {
		struct cidr d = pkt->dst, s = pkt->src;
		static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };
		bool dm = d.family == 6 && !memcmp(d.addr, pfx, 12);
		bool sm = s.family == 6 && !memcmp(s.addr, pfx, 12);

		if (!dm && !sm)
			FAIL("--from '%s' is not of the destination's family", a->from);
	}
	if ((pkt->l4proto == 1 && pkt->dst.family == 6) ||
	    (pkt->l4proto == 58 && pkt->dst.family == 4))
		FAIL("'%s' does not travel in this address family (icmp is IPv4, icmpv6 IPv6)",
		     a->proto);
	if (pkt->l4proto == 1 || pkt->l4proto == 58) {
		/* no ports: the "port" names the ICMP type, echo-request
		 * by default */
		if (pkt->has_dport && pkt->dport > 255)
			FAIL("an ICMP type is 0 to 255: '%s'", a->dst);
		x->icmp_type_given = pkt->has_dport;
		pkt->icmp_type = pkt->has_dport ? (uint8_t)pkt->dport :
				 (pkt->l4proto == 1 ? 8 : 128);
		pkt->has_dport = pkt->has_sport = false;
	}
	if (a->user) {
		if (parse_id(a->user, true, &pkt->uid, a->group ? NULL : &pkt->gid,
			     &pkt->has_gid) < 0)
			FAIL("unknown user '%s'", a->user);
		pkt->has_uid = true;
	}
	if (a->group) {
		if (parse_id(a->group, false, &pkt->gid, NULL, NULL) < 0)
			FAIL("unknown group '%s'", a->group);
		pkt->has_gid = true;
	}
	if (a->cgroup)
		pkt->cgroup = a->cgroup;
	if (a->iface) {
		if (!*a->iface || strlen(a->iface) >= 16)
			FAIL("bad --interface '%s' (an interface name, 1 to 15 characters)",
			     a->iface);
		if (pkt->dir == DIR_IN)
			pkt->iif = a->iface;
		else
			pkt->oif = a->iface;
	}
	return 0;
}

/* ---- a test's packet string ---- */

static const char *const value_opts[] = {
	"--from", "--sport", "--user", "--group", "--cgroup", "--interface",
};

static const char **opt_slot(struct packet_args *a, size_t i)
{
	const char **slots[] = { &a->from, &a->sport, &a->user, &a->group,
				 &a->cgroup, &a->iface };

	return slots[i];
}

/* Split @buf in place into words; quotes group blanks. */
static int split_words(char *buf, char **w, size_t max, size_t *n, char **why)
{
	char *r = buf, *o = buf;

	*n = 0;
	for (;;) {
		char q = 0;

		while (*r == ' ' || *r == '\t')
			r++;
		if (!*r)
			return 0;
		if (*n == max)
			FAIL("too many words (at most %zu)", max);
		w[(*n)++] = o;
		while (*r && (q || (*r != ' ' && *r != '\t'))) {
			if (!q && (*r == '\'' || *r == '"')) {
				q = *r++;
				continue;
			}
			if (q && *r == q) {
				q = 0;
				r++;
				continue;
			}
			*o++ = *r++;
		}
		if (q)
			FAIL("unterminated %c quote", q);
		if (*r)
			r++;
		*o++ = '\0';
	}
}

int packet_args_split(const char *s, char **buf, struct packet_args *a,
		      char **why)
{
	char *w[32];
	const char *pos[3];
	size_t n, i, k, npos = 0;

	memset(a, 0, sizeof(*a));
	*why = NULL;
	*buf = xstrdup(s);
	if (split_words(*buf, w, ARRAY_SIZE(w), &n, why) < 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const char *word = w[i], *v = NULL, *eq;

		if (word[0] != '-' || !word[1]) {
			if (npos == 3)
				FAIL("unexpected '%s' (a packet is DIR PROTO ADDR[:PORT] [options])",
				     word);
			pos[npos++] = word;
			continue;
		}
		if (!strcmp(word, "--policy-only"))
			continue;	/* a test is always the policy alone */
		if (!strncmp(word, "--netns", 7) || !strcmp(word, "--all-netns"))
			FAIL("'%s' needs the live host; a test is evaluated on the policy alone (drop it, and use explain --netns to ask a live host)",
			     word);
		eq = strchr(word, '=');
		for (k = 0; k < ARRAY_SIZE(value_opts); k++) {
			size_t len = strlen(value_opts[k]);

			if (!strncmp(word, value_opts[k], len) &&
			    (!word[len] || word + len == eq))
				break;
		}
		if (k == ARRAY_SIZE(value_opts)) {
			const char *hint = closest_word(word, value_opts,
							ARRAY_SIZE(value_opts));

			if (hint)
				FAIL("unknown option '%s'; did you mean '%s'?", word, hint);
			FAIL("unknown option '%s' (--from, --sport, --user, --group, --cgroup, --interface)",
			     word);
		}
		if (eq)
			v = eq + 1;
		else if (i + 1 < n)
			v = w[++i];
		else
			FAIL("'%s' needs a value", word);
		if (*opt_slot(a, k))
			FAIL("%s given twice ('%s', then '%s')", value_opts[k],
			     *opt_slot(a, k), v);
		*opt_slot(a, k) = v;
	}
	if (npos < 3)
		FAIL("a packet is DIR PROTO ADDR[:PORT] [options], such as 'out tcp 192.0.2.1:443 --user backup'");
	a->dir = pos[0];
	a->proto = pos[1];
	a->dst = pos[2];
	return 0;
}
