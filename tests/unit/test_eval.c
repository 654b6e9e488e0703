// SPDX-License-Identifier: GPL-2.0-or-later
/* Evaluator: packets through compiled hand-made policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pw_testpol.h"
#include "eval.h"

static struct model *compile_ok(const struct policy *p)
{
	struct model *m = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(compile_policy(p, &m, &d), 0);
	diag_release(&d);
	return m;
}

static struct packet pkt(enum direction dir, uint8_t proto, const char *dst,
			 uint16_t dport)
{
	struct packet k;

	memset(&k, 0, sizeof(k));
	k.dir = dir;
	k.l4proto = proto;
	assert_int_equal(cidr_parse(dst, &k.dst, NULL), 0);
	k.dport = dport;
	k.has_dport = dport != 0;
	return k;
}

static void with_src(struct packet *k, const char *src, uint16_t sport)
{
	assert_int_equal(cidr_parse(src, &k->src, NULL), 0);
	k->has_src = true;
	k->sport = sport;
	k->has_sport = sport != 0;
}

static const char *who(const struct eval_result *r)
{
	return r->origin ? r->origin->name : r->label;
}

#define EXPECT(m_, k_, v_, n_) do {				\
		struct eval_result r_;					\
		assert_int_equal(eval_model((m_), &(k_), &r_), 0);	\
		assert_string_equal(mverdict_name(r_.verdict), (v_));	\
		assert_string_equal(who(&r_), (n_));			\
	} while (0)

/* The SPEC's example policy, roughly. */
static struct policy *example(void)
{
	struct policy *p = tp_new();
	struct rule *r;

	p->def[DIR_OUT] = VERDICT_DROP;
	r = tp_rule(p, DIR_IN, "ssh-from-corp", 10);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 22, 22);
	tp_addr(&r->from, "10.0.0.0/8");
	tp_addr(&r->from, "2001:db8::/32");
	r->from.ref = "corp";
	tp_addr(&r->not_from, "10.66.0.0/16");
	r = tp_rule(p, DIR_OUT, "dns", 20);
	r->protos = PROTO_TCP | PROTO_UDP;
	tp_port(&r->dport, 53, 53);
	tp_addr(&r->to, "10.0.0.2");
	tp_addr(&r->to, "2001:db8::53");
	r = tp_rule(p, DIR_OUT, "no-metadata", 21);
	tp_addr(&r->to, "169.254.169.254");
	r->families = FAM_V4;
	r->action = VERDICT_REJECT;
	r = tp_rule(p, DIR_OUT, "https", 22);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 443, 443);
	r = tp_rule(p, DIR_OUT, "backup-agent", 23);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 873, 873);
	tp_addr(&r->to, "192.0.2.10");
	r->families = FAM_V4;
	tp_id(&r->uids, 34);
	return p;
}

static void test_first_match_and_defaults(void **state)
{
	struct policy *p = example();
	struct model *m = compile_ok(p);
	struct packet k;

	(void)state;
	k = pkt(DIR_OUT, 6, "93.184.216.34", 443);
	EXPECT(m, k, "accept", "https");
	k = pkt(DIR_OUT, 6, "93.184.216.34", 80);
	EXPECT(m, k, "drop", "default");
	/* reject comes before https: first match decides */
	k = pkt(DIR_OUT, 6, "169.254.169.254", 443);
	EXPECT(m, k, "reject", "no-metadata");
	k = pkt(DIR_OUT, 17, "2001:db8::53", 53);
	EXPECT(m, k, "accept", "dns");
	k = pkt(DIR_OUT, 17, "2001:db8::54", 53);
	EXPECT(m, k, "drop", "default");
	k = pkt(DIR_OUT, 6, "127.0.0.1", 5432);
	k.oif = "lo";
	EXPECT(m, k, "accept", "loopback");
	k = pkt(DIR_OUT, 58, "2001:db8::1", 0);
	k.icmp_type = 135;
	EXPECT(m, k, "accept", "icmp");
	k = pkt(DIR_OUT, 58, "2001:db8::1", 0);
	k.icmp_type = 200;
	EXPECT(m, k, "drop", "default");
	/* icmp type 8 in an IPv6 packet is no icmp match */
	k = pkt(DIR_OUT, 1, "2001:db8::1", 0);
	k.icmp_type = 8;
	EXPECT(m, k, "drop", "default");
	model_free(m);
	tp_free(p);
}

static void test_unknown_fields(void **state)
{
	struct policy *p = example();
	struct model *m = compile_ok(p);
	struct packet k;

	(void)state;
	/* no source: neither `ip saddr @corp_v4` nor `!=` can hold */
	k = pkt(DIR_IN, 6, "192.0.2.1", 22);
	EXPECT(m, k, "drop", "default");
	with_src(&k, "10.1.2.3", 40000);
	EXPECT(m, k, "accept", "ssh-from-corp");
	with_src(&k, "10.66.1.1", 40000);
	EXPECT(m, k, "drop", "default");
	with_src(&k, "2001:db8:1::1", 0);
	k.dst.family = 6;	/* same family as the source */
	assert_int_equal(cidr_parse("2001:db8::99", &k.dst, NULL), 0);
	EXPECT(m, k, "accept", "ssh-from-corp");
	/* no user: the uid rule cannot match */
	k = pkt(DIR_OUT, 6, "192.0.2.10", 873);
	EXPECT(m, k, "drop", "default");
	k.uid = 34;
	k.has_uid = true;
	EXPECT(m, k, "accept", "backup-agent");
	k.uid = 35;
	EXPECT(m, k, "drop", "default");
	model_free(m);
	tp_free(p);
}

static void test_folded_lookup(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct packet k;
	struct rule *r;
	char name[16], addr[32];
	int i;

	(void)state;
	p->def[DIR_OUT] = VERDICT_REJECT;
	for (i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		snprintf(addr, sizeof(addr), "198.51.%d.%d", i / 100, i % 100);
		r = tp_rule(p, DIR_OUT, name, (unsigned int)i + 1);
		r->protos = i % 2 ? PROTO_UDP : PROTO_TCP;
		tp_port(&r->dport, (uint16_t)(2000 + i), (uint16_t)(2000 + i));
		tp_addr(&r->to, addr);
		r->families = FAM_V4;
	}
	/* one deny in the middle of nowhere would break the run; add it
	 * after, then a broad accept that must not win over it */
	r = tp_rule(p, DIR_OUT, "deny-51", 300);
	tp_addr(&r->to, "198.51.0.0/16");
	r->families = FAM_V4;
	r->action = VERDICT_DROP;
	m = compile_ok(p);
	k = pkt(DIR_OUT, 6, "198.51.1.42", 2142);
	EXPECT(m, k, "accept", "r142");
	k = pkt(DIR_OUT, 17, "198.51.1.43", 2143);
	EXPECT(m, k, "accept", "r143");
	k = pkt(DIR_OUT, 6, "198.51.1.43", 2143);	/* wrong protocol */
	EXPECT(m, k, "drop", "deny-51");
	k = pkt(DIR_OUT, 6, "203.0.113.1", 2000);
	EXPECT(m, k, "reject", "default");
	k.has_dport = false;		/* no port: no concat lookup */
	EXPECT(m, k, "reject", "default");
	model_free(m);
	tp_free(p);
}

/* Overlaps are removed from the folded set, yet the first rule that
 * matches is still the one named. */
static void test_fold_attribution(void **state)
{
	static const char *const to[] = { "10.0.0.0/8", "10.1.2.3",
					  "10.200.0.0/16", NULL };
	static const char *const names[] = { "corp-https", "host-range",
					     "covered", "web-any" };
	struct policy *p = tp_new();
	struct model *m;
	struct packet k;
	struct rule *r;
	int i;

	(void)state;
	p->def[DIR_OUT] = VERDICT_DROP;
	for (i = 0; i < 4; i++) {
		r = tp_rule(p, DIR_OUT, names[i], (unsigned int)i + 1);
		r->protos = PROTO_TCP;
		if (i == 1)
			tp_port(&r->dport, 400, 500);
		else
			tp_port(&r->dport, 443, 443);
		if (to[i])
			tp_addr(&r->to, to[i]);
		r->families = to[i] ? FAM_V4 : FAM_BOTH;
	}
	m = compile_ok(p);
	k = pkt(DIR_OUT, 6, "10.5.5.5", 443);
	EXPECT(m, k, "accept", "corp-https");
	k = pkt(DIR_OUT, 6, "10.1.2.3", 443);
	EXPECT(m, k, "accept", "corp-https");
	k = pkt(DIR_OUT, 6, "10.1.2.3", 450);
	EXPECT(m, k, "accept", "host-range");
	k = pkt(DIR_OUT, 6, "10.200.1.1", 443);
	EXPECT(m, k, "accept", "corp-https");
	k = pkt(DIR_OUT, 6, "8.8.8.8", 443);
	EXPECT(m, k, "accept", "web-any");
	k = pkt(DIR_OUT, 6, "2001:db8::1", 443);
	EXPECT(m, k, "accept", "web-any");
	k = pkt(DIR_OUT, 6, "8.8.8.8", 450);
	EXPECT(m, k, "drop", "default");
	k = pkt(DIR_OUT, 6, "8.8.8.8", 0);	/* port not given */
	EXPECT(m, k, "drop", "default");
	model_free(m);
	/* a port-less rule in a fold matches a packet without a port, as
	 * the unfolded rule would */
	r = tp_rule(p, DIR_OUT, "all-tcp-to-192", 9);
	r->protos = PROTO_TCP;
	tp_addr(&r->to, "192.0.2.0/24");
	r->families = FAM_V4;
	m = compile_ok(p);
	assert_int_equal(model_find_chain(m, HOOK_OUTPUT)->n_rules, 4 + 2 + 1);
	k = pkt(DIR_OUT, 6, "192.0.2.9", 0);
	EXPECT(m, k, "accept", "all-tcp-to-192");
	k = pkt(DIR_OUT, 6, "10.1.2.3", 0);
	EXPECT(m, k, "drop", "default");
	model_free(m);
	tp_free(p);
}

/* The oracle: is @a in the policy's own list (a linear scan)? */
static bool in_list(const struct addr_set *l, const struct cidr *a)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], a))
			return true;
	return false;
}

/* Lookups in big address sets agree with a scan of the policy's list. */
static void test_big_address_set(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct mset *s;
	struct packet k;
	struct rule *r;
	struct eval_result a;
	char addr[64];
	unsigned int i, x = 12345;

	(void)state;
	r = tp_rule(p, DIR_OUT, "blocklist", 4);
	for (i = 0; i < 2000; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.0/24", i / 100, (i % 100) * 2);
		tp_addr(&r->to, addr);
	}
	tp_addr(&r->to, "2001:db8::/48");
	tp_addr(&r->to, "2001:db8:2::1");
	r->action = VERDICT_DROP;
	m = compile_ok(p);
	s = &m->sets[m->n_sets - 2];
	assert_int_equal(s->n_elems, 2000);
	assert_true(s->sorted);
	k = pkt(DIR_OUT, 6, "10.0.0.0", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "10.19.198.255", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "10.19.199.0", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "9.255.255.255", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "2001:db8:2::1", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "2001:db8:2::2", 80);
	EXPECT(m, k, "accept", "default");
	for (i = 0; i < 3000; i++) {
		x = x * 1103515245u + 12345u;
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", (x >> 8) % 22,
			 (x >> 16) % 256, x % 256);
		k = pkt(DIR_OUT, 17, addr, 53);
		assert_int_equal(eval_model(m, &k, &a), 0);
		assert_string_equal(mverdict_name(a.verdict),
				    in_list(&p->rules[DIR_OUT][0].to, &k.dst) ?
				    "drop" : "accept");
	}
	model_free(m);
	tp_free(p);
}

/* Large sets of few prefix lengths are one hash set per length, looked up
 * with the address masked (`ip6 daddr & ffff:ffff:ffff:ffff:: @s`): every
 * length hits, its neighbours miss, IPv4 and IPv6, positive and negated;
 * binary search and linear scan agree. */
static void test_masked_sets(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct packet k;
	struct rule *r;
	struct eval_result a;
	char addr[64];
	unsigned int i, x = 777;
	size_t j, masked = 0;

	(void)state;
	r = tp_rule(p, DIR_OUT, "blocklist", 4);
	for (i = 0; i < 1024; i++) {
		snprintf(addr, sizeof(addr), "2001:db8:%x:%x::/64", i / 7, i);
		tp_addr(&r->to, addr);
		snprintf(addr, sizeof(addr), "10.%u.%u.0/24", i / 100, (i % 100) * 2);
		tp_addr(&r->to, addr);
	}
	tp_addr(&r->to, "2001:db9::1");
	tp_addr(&r->to, "2001:dba::/48");
	tp_addr(&r->to, "192.0.2.9");
	tp_addr(&r->to, "198.51.100.32/28");
	r->action = VERDICT_DROP;
	r = tp_rule(p, DIR_OUT, "not-listed", 5);
	r->protos = PROTO_UDP;
	for (i = 0; i < 1024; i++) {
		snprintf(addr, sizeof(addr), "10.%u.%u.0/24", i / 100, (i % 100) * 2);
		tp_addr(&r->not_to, addr);
	}
	tp_addr(&r->not_to, "192.0.2.9");
	r->action = VERDICT_REJECT;
	m = compile_ok(p);
	for (j = 0; j < m->chains[1].n_rules; j++)
		masked += m->chains[1].rules[j].n_matches &&
			  m->chains[1].rules[j].matches[0].mask;
	assert_int_equal(masked, 4);	/* v4 /24 /28, v6 /64 /48 */

	k = pkt(DIR_OUT, 6, "2001:db8:0:0:ffff::1", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "2001:db8:92:3ff:1::", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "2001:db8:92:400::", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "2001:dba:0:ffff::1", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "2001:dbb::", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "2001:db9::1", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "2001:db9::2", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "10.10.46.255", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "10.10.47.1", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "198.51.100.47", 80);
	EXPECT(m, k, "drop", "blocklist");
	k = pkt(DIR_OUT, 6, "198.51.100.48", 80);
	EXPECT(m, k, "accept", "default");
	k = pkt(DIR_OUT, 6, "192.0.2.9", 80);
	EXPECT(m, k, "drop", "blocklist");
	/* negated: listed addresses are not rejected by not-listed */
	k = pkt(DIR_OUT, 17, "10.10.47.1", 53);
	EXPECT(m, k, "reject", "not-listed");
	k = pkt(DIR_OUT, 17, "192.0.2.10", 53);
	EXPECT(m, k, "reject", "not-listed");
	for (i = 0; i < 3000; i++) {
		x = x * 1103515245u + 12345u;
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", (x >> 8) % 12,
			 (x >> 16) % 256, x % 256);
		k = pkt(DIR_OUT, 17, addr, 53);
		assert_int_equal(eval_model(m, &k, &a), 0);
		if (in_list(&p->rules[DIR_OUT][0].to, &k.dst))
			assert_string_equal(who(&a), "blocklist");
		else if (!in_list(&p->rules[DIR_OUT][1].not_to, &k.dst))
			assert_string_equal(who(&a), "not-listed");
		else
			assert_string_equal(who(&a), "default");
	}
	model_free(m);
	tp_free(p);
}

static void test_interface_and_cgroup(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct packet k;
	struct rule *r;

	(void)state;
	p->def[DIR_OUT] = VERDICT_DROP;
	r = tp_rule(p, DIR_OUT, "nginx", 5);
	r->protos = PROTO_TCP;
	r->cgroup = xstrdup("system.slice/nginx.service");
	r = tp_rule(p, DIR_OUT, "wg", 6);
	tp_iface(&r->ifaces, "wg0");
	m = compile_ok(p);
	k = pkt(DIR_OUT, 6, "192.0.2.1", 80);
	EXPECT(m, k, "drop", "default");
	k.cgroup = "/system.slice/nginx.service";
	EXPECT(m, k, "accept", "nginx");
	k.cgroup = "/system.slice/nginx.service2";
	EXPECT(m, k, "drop", "default");
	k.oif = "wg0";
	EXPECT(m, k, "accept", "wg");
	k.oif = "wg1";
	EXPECT(m, k, "drop", "default");
	model_free(m);
	free(p->rules[DIR_OUT][1].ifaces.v[0]);
	p->rules[DIR_OUT][1].ifaces.v[0] = xstrdup("wg*");
	m = compile_ok(p);
	EXPECT(m, k, "accept", "wg");
	k.oif = "eth0";
	EXPECT(m, k, "drop", "default");
	model_free(m);
	/* a list of interfaces is a set lookup: any of them */
	free(p->rules[DIR_OUT][1].ifaces.v[0]);
	p->rules[DIR_OUT][1].ifaces.v[0] = xstrdup("eth0");
	tp_iface(&p->rules[DIR_OUT][1].ifaces, "wg0");
	m = compile_ok(p);
	k.oif = "eth0";
	EXPECT(m, k, "accept", "wg");
	k.oif = "wg0";
	EXPECT(m, k, "accept", "wg");
	k.oif = "wg1";
	EXPECT(m, k, "drop", "default");
	k.oif = "eth";
	EXPECT(m, k, "drop", "default");
	model_free(m);
	tp_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_match_and_defaults),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_folded_lookup),
		cmocka_unit_test(test_fold_attribution),
		cmocka_unit_test(test_big_address_set),
		cmocka_unit_test(test_masked_sets),
		cmocka_unit_test(test_interface_and_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
