// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * compare, part 3: a region in words and one example packet of it, as
 * `explain` arguments (include/compare.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare_priv.h"
#include "util.h"

/* ---- values ---- */

static bool list_has(const struct cmp_list *l, cmp_u128 v)
{
	size_t i;

	if (!l->n)
		return true;
	for (i = 0; i < l->n; i++)
		if (l->v[i].lo <= v && v <= l->v[i].hi)
			return true;
	return false;
}

static void u128_to_cidr(cmp_u128 v, int fam, unsigned int plen, struct cidr *c)
{
	int i, n = fam ? 16 : 4;

	memset(c, 0, sizeof(*c));
	c->family = fam ? 6 : 4;
	c->plen = (uint8_t)plen;
	for (i = n - 1; i >= 0; i--) {
		c->addr[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static bool is_loop(int fam, cmp_u128 v)
{
	return fam ? v == 1 : (v >> 24) == 127;
}

static int region_fam(const struct cmp_region *g)
{
	return g->dim[CD_FAM].n ? (int)g->dim[CD_FAM].v[0].lo : -1;
}

static const char *proto_name(unsigned int p)
{
	switch (p) {
	case 1:  return "icmp";
	case 6:  return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	default: return NULL;
	}
}

struct pfx_arg {
	FILE *f;
	int fam;
	bool first;
	bool json;
};

static void put_prefix(cmp_u128 addr, unsigned int plen, void *arg)
{
	struct pfx_arg *a = arg;
	struct cidr c;
	char buf[64];

	u128_to_cidr(addr, a->fam, plen, &c);
	cidr_format(&c, buf, sizeof(buf));
	if (a->json) {
		fputs(a->first ? "" : ",", a->f);
		json_string(a->f, buf);
	} else {
		fputs(a->first ? "" : ",", a->f);
		fputs(buf, a->f);
	}
	a->first = false;
}

/* one value of dimension @d, as text */
static void put_value(FILE *f, const struct cmp_result *r, int d, int fam,
		      cmp_u128 lo, cmp_u128 hi, bool json)
{
	char buf[96];
	size_t i;

	switch (d) {
	case CD_DIR:
		for (i = (size_t)lo; i <= (size_t)hi; i++) {
			snprintf(buf, sizeof(buf), "%s", i ? "out" : "in");
			if (json)
				json_string(f, buf);
			else
				fputs(buf, f);
			if (i < (size_t)hi)
				fputc(',', f);
		}
		return;
	case CD_FAM:
		for (i = (size_t)lo; i <= (size_t)hi; i++) {
			fprintf(f, json ? "\"%s\"" : "%s", i ? "ipv6" : "ipv4");
			if (i < (size_t)hi)
				fputc(',', f);
		}
		return;
	case CD_PROTO:
		for (i = (size_t)lo; i <= (size_t)hi; i++) {
			const char *n = proto_name((unsigned int)i);

			if (!n && i < (size_t)hi && !proto_name((unsigned int)i + 1)) {
				size_t j = i;

				while (j < (size_t)hi && !proto_name((unsigned int)j + 1))
					j++;
				snprintf(buf, sizeof(buf), "%zu-%zu", i, j);
				i = j;
			} else if (n) {
				snprintf(buf, sizeof(buf), "%s", n);
			} else {
				snprintf(buf, sizeof(buf), "%zu", i);
			}
			if (json)
				json_string(f, buf);
			else
				fputs(buf, f);
			if (i < (size_t)hi)
				fputc(',', f);
		}
		return;
	case CD_REMOTE:
	case CD_LOCAL: {
		struct pfx_arg a = { f, fam > 0, true, json };

		cmp_prefixes(lo, hi, fam > 0 ? 128 : 32, put_prefix, &a);
		return;
	}
	case CD_IFACE:
	case CD_CGROUP:
	case CD_HOST:
		for (i = (size_t)lo; i <= (size_t)hi; i++) {
			char **names = d == CD_IFACE ? r->atoms.iface :
				       d == CD_HOST ? r->atoms.host : r->atoms.cgroup;
			const char *s = i ? names[i] : (d == CD_IFACE ? "(other)" : "(other)");

			if (d == CD_CGROUP && i)
				snprintf(buf, sizeof(buf), "/%s", s);
			else
				snprintf(buf, sizeof(buf), "%s", s);
			if (json)
				json_string(f, buf);
			else
				text_put(f, buf);
			if (i < (size_t)hi)
				fputc(',', f);
		}
		return;
	default:
		if (lo == hi)
			snprintf(buf, sizeof(buf), "%llu", (unsigned long long)lo);
		else
			snprintf(buf, sizeof(buf), "%llu-%llu", (unsigned long long)lo,
				 (unsigned long long)hi);
		if (json)
			json_string(f, buf);
		else
			fputs(buf, f);
	}
}

/**
 * cmp_put_dim() - the values of dimension @d of region @g, comma
 * separated (text) or as JSON array members
 */
void cmp_put_dim(FILE *f, const struct cmp_result *r,
		 const struct cmp_region *g, int d, bool json)
{
	const struct cmp_list *l = &g->dim[d];
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i)
			fputc(',', f);
		put_value(f, r, d, region_fam(g), l->v[i].lo, l->v[i].hi, json);
	}
}

/* is the region's protocol list ICMP only (ports are ICMP types)? */
static bool icmp_only(const struct cmp_region *g)
{
	const struct cmp_list *l = &g->dim[CD_PROTO];
	size_t i;

	if (!l->n)
		return false;
	for (i = 0; i < l->n; i++)
		if (l->v[i].lo != l->v[i].hi || (l->v[i].lo != 1 && l->v[i].lo != 58))
			return false;
	return true;
}

/* an address list, as "10.0.0.0/8" or, when that reads shorter,
 * "0.0.0.0/0 except 10.0.0.0/8" */
static void put_addrs(FILE *f, const struct cmp_result *r,
		      const struct cmp_region *g, int d, int fam)
{
	struct cmp_region t = *g;
	struct cmp_list c = { 0 };
	size_t i, n_l = 0, n_c = 0, bits = fam ? 128 : 32;

	for (i = 0; i < g->dim[d].n; i++)
		cmp_list_add(&c, g->dim[d].v[i].lo, g->dim[d].v[i].hi);
	cmp_list_complement(&c, cmp_addr_max(fam));
	for (i = 0; i < g->dim[d].n; i++)
		n_l += cmp_prefixes(g->dim[d].v[i].lo, g->dim[d].v[i].hi,
				    (unsigned int)bits, NULL, NULL);
	for (i = 0; i < c.n; i++)
		n_c += cmp_prefixes(c.v[i].lo, c.v[i].hi, (unsigned int)bits, NULL, NULL);
	if (fam < 0 || !c.n || n_c + 1 >= n_l) {
		cmp_put_dim(f, r, g, d, false);
	} else {
		fputs(fam ? "::/0 except " : "0.0.0.0/0 except ", f);
		t.dim[d] = c;
		cmp_put_dim(f, r, &t, d, false);
	}
	free(c.v);
}

void cmp_region_words(FILE *f, const struct cmp_result *r,
		      const struct cmp_region *g)
{
	bool out = g->dim[CD_DIR].n && g->dim[CD_DIR].v[0].lo == 1;
	int fam = region_fam(g);

	if (g->dim[CD_DIR].n)
		cmp_put_dim(f, r, g, CD_DIR, false);
	else
		fputs("in,out", f);
	fputc(' ', f);
	if (g->dim[CD_PROTO].n > 2 && g->dim[CD_PROTO].v[0].lo == 0 &&
	    g->dim[CD_PROTO].v[g->dim[CD_PROTO].n - 1].hi == 255) {
		/* "all but icmp,icmpv6" reads better than 0,2-5,tcp,7-16,... */
		struct cmp_region t = *g;
		struct cmp_list c = { 0 };
		size_t i;

		for (i = 0; i < g->dim[CD_PROTO].n; i++)
			cmp_list_add(&c, g->dim[CD_PROTO].v[i].lo, g->dim[CD_PROTO].v[i].hi);
		cmp_list_complement(&c, 255);
		t.dim[CD_PROTO] = c;
		fputs("all protocols but ", f);
		cmp_put_dim(f, r, &t, CD_PROTO, false);
		free(c.v);
	} else if (g->dim[CD_PROTO].n)
		cmp_put_dim(f, r, g, CD_PROTO, false);
	else
		fputs("any protocol", f);
	if (g->dim[CD_DPORT].n) {
		fputs(icmp_only(g) ? " type " : "/", f);
		cmp_put_dim(f, r, g, CD_DPORT, false);
	}
	if (g->dim[CD_SPORT].n) {
		fputs(" sport ", f);
		cmp_put_dim(f, r, g, CD_SPORT, false);
	}
	fputs(out ? " to " : " from ", f);
	if (g->dim[CD_HOST].n && !g->dim[CD_REMOTE].n) {
		/* by name: "to github.com" */
		cmp_put_dim(f, r, g, CD_HOST, false);
	} else if (g->dim[CD_REMOTE].n)
		put_addrs(f, r, g, CD_REMOTE, fam);
	else if (fam == 0)
		fputs("0.0.0.0/0", f);
	else if (fam == 1)
		fputs("::/0", f);
	else
		fputs("anywhere", f);
	if (g->dim[CD_HOST].n && g->dim[CD_REMOTE].n) {
		fputs(" name ", f);
		cmp_put_dim(f, r, g, CD_HOST, false);
	}
	if (g->dim[CD_LOCAL].n) {
		fputs(" local ", f);
		put_addrs(f, r, g, CD_LOCAL, fam);
	}
	if (g->dim[CD_IFACE].n) {
		fputs(" interface ", f);
		cmp_put_dim(f, r, g, CD_IFACE, false);
	}
	if (g->dim[CD_UID].n) {
		fputs(" user ", f);
		cmp_put_dim(f, r, g, CD_UID, false);
	}
	if (g->dim[CD_GID].n) {
		fputs(" group ", f);
		cmp_put_dim(f, r, g, CD_GID, false);
	}
	if (g->dim[CD_CGROUP].n) {
		fputs(" cgroup ", f);
		cmp_put_dim(f, r, g, CD_CGROUP, false);
	}
	if (g->not_lo)
		fputs(" not on lo", f);
}

const char *cmp_change_verb(const struct cmp_region *g)
{
	if (g->new.verdict == MV_ACCEPT)
		return "opens";
	if (g->old.verdict == MV_ACCEPT)
		return "closes";
	return g->new.verdict == MV_DROP ? "drops instead of rejecting" :
	       "rejects instead of dropping";
}

/* ---- the example ---- */

/* a point of @l in [@dlo, @dhi], preferring @pref, then one that is not
 * @avoid (a callback), then the lowest; false when there is none */
static bool pick(const struct cmp_list *l, cmp_u128 dlo, cmp_u128 dhi,
		 cmp_u128 pref, bool (*avoid)(int, cmp_u128), int fam,
		 cmp_u128 *v)
{
	struct cmp_ival whole = { dlo, dhi };
	const struct cmp_ival *iv = l->n ? l->v : &whole;
	size_t n = l->n ? l->n : 1, i;
	bool found = false;

	if (list_has(l, pref) && pref >= dlo && pref <= dhi) {
		*v = pref;
		return true;
	}
	for (i = 0; i < n; i++) {
		cmp_u128 lo = iv[i].lo < dlo ? dlo : iv[i].lo;
		cmp_u128 hi = iv[i].hi > dhi ? dhi : iv[i].hi;

		if (lo > hi)
			continue;
		if (!found) {
			*v = lo;
			found = true;
			if (!avoid)
				return true;
		}
		/* the first value not avoided: lo + 1 in a block (not the
		 * network's own address), lo, or just past the loopback
		 * block or type 0 */
		{
			cmp_u128 cand[4];
			size_t k, nc = 0;

			if (hi > lo + 1)
				cand[nc++] = lo + 1;
			cand[nc++] = lo;
			if (!fam && lo < ((cmp_u128)128 << 24) && hi >= ((cmp_u128)128 << 24))
				cand[nc++] = (cmp_u128)128 << 24;
			if (hi > lo)
				cand[nc++] = lo + 1 + (fam && lo == 0);
			for (k = 0; k < nc; k++)
				if (cand[k] >= lo && cand[k] <= hi && !avoid(fam, cand[k])) {
					*v = cand[k];
					return true;
				}
		}
	}
	return found;
}

/* types explain reads otherwise: 0 (echo reply) reads as no type, and
 * it runs an echo reply for ICMPv6 type 8 and ICMP type 128 too */
static bool type_zero(int v6, cmp_u128 v)
{
	return v == 0 || (v6 && v == 8) || (!v6 && v == 128);
}

static bool iface_matches(const char *name, const char *pat)
{
	size_t n = strlen(pat);

	if (n && pat[n - 1] == '*')
		return !strncmp(name, pat, n - 1);
	return !strcmp(name, pat);
}

/* a real interface name for atom @a: a literal is itself, a pattern p*
 * gives a name with prefix p no other atom takes, atom 0 a name no
 * atom takes */
static int iface_example(const struct cmp_atoms *at, size_t a, char *buf,
			 size_t len)
{
	static const char *const tails[] = { "0", "1", "x", "9z", "q7" };
	const char *base = a ? at->iface[a] : "";
	size_t bl = strlen(base), t, k, r;

	if (a && (!bl || base[bl - 1] != '*')) {
		snprintf(buf, len, "%s", base);
		return 0;
	}
	if (bl)
		bl--;
	for (t = 0; t < ARRAY_SIZE(tails) * 3; t++) {
		bool ok = true;

		snprintf(buf, len, "%.*s%s%s", a ? (int)bl : 3, a ? base : "pwc",
			 tails[t % ARRAY_SIZE(tails)], t >= 5 ? (t >= 10 ? "b" : "a") : "");
		if (!*buf || strlen(buf) > 15)
			continue;
		for (k = 1; k < at->n_iface && ok; k++) {
			if (k == a)
				continue;
			/* a literal atom, or a longer pattern, takes it */
			r = strlen(at->iface[k]);
			if (at->iface[k][r - 1] != '*')
				ok = strcmp(buf, at->iface[k]) != 0;
			else if (!a || r - 1 > bl)
				ok = !iface_matches(buf, at->iface[k]);
		}
		if (ok)
			return 0;
	}
	return -ENOENT;
}

static int cgroup_example(const struct cmp_atoms *at, size_t a, char *buf,
			  size_t len)
{
	size_t k, t;

	if (a) {
		snprintf(buf, len, "/%s", at->cgroup[a]);
		return 0;
	}
	for (t = 0; t < 10; t++) {
		bool ok = true;

		snprintf(buf, len, "/pwcompare%zu.slice", t);
		for (k = 1; k < at->n_cgroup && ok; k++)
			ok = strncmp(buf + 1, at->cgroup[k], strlen(at->cgroup[k])) != 0;
		if (ok)
			return 0;
	}
	return -ENOENT;
}

static void addr_text(cmp_u128 v, int fam, char *buf, size_t len)
{
	struct cidr c;

	u128_to_cidr(v, fam, fam ? 128 : 32, &c);
	cidr_format(&c, buf, len);
}

static void endpoint(char *buf, size_t len, const char *addr, int fam,
		     bool port, unsigned int p)
{
	if (!port)
		snprintf(buf, len, "%s", addr);
	else if (fam)
		snprintf(buf, len, "[%s]:%u", addr, p);
	else
		snprintf(buf, len, "%s:%u", addr, p);
}

int cmp_example(const struct cmp_result *r, const struct cmp_region *g,
		char *buf, size_t len)
{
	static const cmp_u128 protos[] = { 6, 17, 1, 58 };
	cmp_u128 dir, fam = 0, proto = 0, dport = 0, sport = 0, rem, loc, v;
	char ra[64], la[64], re[80], le[80], ifn[32], cg[300];
	bool found = false, ported, icmp, lo_if = false;
	size_t i;
	int f;

	/* an address learned for a name: explain cannot name one */
	if (g->dim[CD_HOST].n && g->dim[CD_HOST].v[0].lo != 0)
		return -ENOENT;
	dir = g->dim[CD_DIR].n ? g->dim[CD_DIR].v[0].lo : 0;
	/* the protocol (and with it the family): tcp, udp, icmp first */
	for (f = 0; f < 2 && !found; f++) {
		if (!list_has(&g->dim[CD_FAM], (cmp_u128)f))
			continue;
		for (i = 0; i < ARRAY_SIZE(protos) && !found; i++)
			if (list_has(&g->dim[CD_PROTO], protos[i]) &&
			    !(protos[i] == 1 && f) && !(protos[i] == 58 && !f)) {
				proto = protos[i];
				fam = (cmp_u128)f;
				found = true;
			}
	}
	for (f = 0; f < 2 && !found; f++) {
		if (!list_has(&g->dim[CD_FAM], (cmp_u128)f))
			continue;
		for (v = 0; v < 256 && !found; v++)
			if (list_has(&g->dim[CD_PROTO], v) && v != 1 && v != 58) {
				proto = v;
				fam = (cmp_u128)f;
				found = true;
			}
	}
	if (!found)
		return -ENOENT;
	ported = proto == 6 || proto == 17;
	icmp = proto == 1 || proto == 58;
	if (ported || icmp) {
		if (!pick(&g->dim[CD_DPORT], 0, icmp ? 255 : 65535,
			  icmp ? (proto == 1 ? 8 : 128) : 443, icmp ? type_zero : NULL,
			  proto == 58, &dport))
			return -ENOENT;
	}
	if (ported && !pick(&g->dim[CD_SPORT], 0, 65535, 40000, NULL, 0, &sport))
		return -ENOENT;
	/* addresses: documentation prefixes when any will do, loopback only
	 * when the region holds nothing else */
	if (!pick(&g->dim[CD_REMOTE], 0, cmp_addr_max((int)fam),
		  fam ? (((cmp_u128)0x20010db8u << 96) | 0x100) : 0xc6336401u /* 198.51.100.1 */,
		  is_loop, (int)fam, &rem) ||
	    !pick(&g->dim[CD_LOCAL], 0, cmp_addr_max((int)fam),
		  fam ? (((cmp_u128)0x20010db8u << 96) | 0x5) : 0xc0000205u /* 192.0.2.5 */,
		  is_loop, (int)fam, &loc))
		return -ENOENT;
	lo_if = is_loop((int)fam, rem) || is_loop((int)fam, loc);
	addr_text(rem, (int)fam, ra, sizeof(ra));
	addr_text(loc, (int)fam, la, sizeof(la));
	{
		char pn[8];
		const char *name = proto_name((unsigned int)proto);

		if (!name) {
			snprintf(pn, sizeof(pn), "%u", (unsigned int)proto);
			name = pn;
		}
		if (dir == 0) {
			endpoint(le, sizeof(le), la, (int)fam, ported || icmp,
				 (unsigned int)dport);
			endpoint(re, sizeof(re), ra, (int)fam, ported, (unsigned int)sport);
			snprintf(buf, len, "in %s %s --from %s", name, le, re);
		} else {
			endpoint(re, sizeof(re), ra, (int)fam, ported || icmp,
				 (unsigned int)dport);
			endpoint(le, sizeof(le), la, (int)fam, ported, (unsigned int)sport);
			snprintf(buf, len, "out %s %s --from %s", name, re, le);
		}
	}
	/* the interface: named whenever the policies name one (an unnamed
	 * interface is not "any other" to every rule) */
	if (r->atoms.n_iface > 1 && !lo_if) {
		size_t a = g->dim[CD_IFACE].n ? (size_t)g->dim[CD_IFACE].v[0].lo : 0;

		if (!g->dim[CD_IFACE].n && r->atoms.n_iface > 1) {
			/* any: a name no rule mentions, unless lo is all */
			a = 0;
		}
		if (iface_example(&r->atoms, a, ifn, sizeof(ifn)) < 0)
			return -ENOENT;
		snprintf(buf + strlen(buf), len - strlen(buf), " --interface %s", ifn);
	}
	if (g->dim[CD_UID].n || g->dim[CD_GID].n) {
		if (!pick(&g->dim[CD_UID], 0, 0xfffffffeu, 1000, NULL, 0, &v))
			return -ENOENT;
		snprintf(buf + strlen(buf), len - strlen(buf), " --user %llu",
			 (unsigned long long)v);
		if (!pick(&g->dim[CD_GID], 0, 0xfffffffeu, 1000, NULL, 0, &v))
			return -ENOENT;
		snprintf(buf + strlen(buf), len - strlen(buf), " --group %llu",
			 (unsigned long long)v);
	}
	if (g->dim[CD_CGROUP].n) {
		if (cgroup_example(&r->atoms, (size_t)g->dim[CD_CGROUP].v[0].lo, cg,
				   sizeof(cg)) < 0)
			return -ENOENT;
		snprintf(buf + strlen(buf), len - strlen(buf), " --cgroup %s", cg);
	}
	return 0;
}
