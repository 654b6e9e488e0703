// SPDX-License-Identifier: GPL-2.0-or-later
/* Compiler: the shape of the model built from hand-made policies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "pw_testpol.h"
#include "model.h"
#include "render.h"
#include "eval.h"

static struct model *compile_ok(const struct policy *p)
{
	struct model *m = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(compile_policy(p, &m, &d), 0);
	assert_int_equal(d.errors, 0);
	diag_release(&d);
	assert_non_null(m);
	return m;
}

static char *rule_text(const struct model *m, enum mhook h, size_t i)
{
	const struct mchain *c = model_find_chain(m, h);

	assert_non_null(c);
	assert_true(i < c->n_rules);
	return render_rule(m, &c->rules[i]);
}

static void assert_rule(const struct model *m, enum mhook h, size_t i,
			const char *want)
{
	char *s = rule_text(m, h, i);

	assert_string_equal(s, want);
	free(s);
}

static void test_layout_builtins(void **state)
{
	struct policy *p = tp_new();
	struct model *m = compile_ok(p);
	const struct mchain *in, *out;

	(void)state;
	assert_string_equal(m->table, "pw");
	assert_int_equal(m->n_sets, 2);
	assert_string_equal(m->sets[0].name, "icmp_essential");
	assert_int_equal(m->sets[0].n_elems, 5);
	assert_string_equal(m->sets[1].name, "icmpv6_essential");
	assert_int_equal(m->sets[1].n_elems, 10);
	assert_int_equal(m->n_chains, 2);
	in = &m->chains[0];
	out = &m->chains[1];
	assert_string_equal(in->name, "input");
	assert_string_equal(out->name, "output");
	assert_int_equal(in->policy, MV_DROP);
	assert_int_equal(out->policy, MV_ACCEPT);
	assert_int_equal(in->n_rules, 5);
	assert_int_equal(out->n_rules, 4);
	assert_rule(m, HOOK_INPUT, 0, "ct state established,related accept");
	assert_rule(m, HOOK_INPUT, 1, "iifname \"lo\" accept");
	assert_rule(m, HOOK_OUTPUT, 1, "oifname \"lo\" accept");
	assert_rule(m, HOOK_INPUT, 2, "icmp type @icmp_essential accept");
	assert_rule(m, HOOK_INPUT, 3, "icmpv6 type @icmpv6_essential accept");
	assert_rule(m, HOOK_INPUT, 4, "counter log prefix \"pw1 D in drop default -\" group 1000 drop comment \"default\"");
	assert_string_equal(in->rules[1].origin_name, "loopback");
	assert_string_equal(in->rules[4].origin_name, "default");
	model_free(m);
	tp_free(p);
}

static void test_no_builtins_reject_default(void **state)
{
	struct policy *p = tp_new();
	struct model *m;

	(void)state;
	p->established = p->loopback = false;
	p->icmp = ICMP_ALL;
	p->def[DIR_OUT] = VERDICT_REJECT;
	p->log_default = true;
	m = compile_ok(p);
	assert_int_equal(m->n_sets, 0);
	assert_rule(m, HOOK_OUTPUT, 0, "meta l4proto icmp accept");
	assert_rule(m, HOOK_OUTPUT, 1, "meta l4proto ipv6-icmp accept");
	assert_rule(m, HOOK_OUTPUT, 2,
		    "limit rate 5/minute burst 5 packets log prefix \"portwarden outbound default: \"");
	assert_rule(m, HOOK_OUTPUT, 3,
		    "meta l4proto tcp counter log prefix \"pw1 D out reject default -\" group 1000 reject with tcp reset comment \"default\"");
	assert_rule(m, HOOK_OUTPUT, 4, "counter log prefix \"pw1 D out reject default -\" group 1000 reject comment \"default\"");
	assert_int_equal(model_find_chain(m, HOOK_OUTPUT)->policy, MV_DROP);
	model_free(m);
	tp_free(p);
}

static void test_expand_family_proto(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_OUT, "dns", 7);
	r->protos = PROTO_TCP | PROTO_UDP;
	tp_port(&r->dport, 53, 53);
	tp_addr(&r->to, "10.0.0.2");
	tp_addr(&r->to, "2001:db8::53");
	m = compile_ok(p);
	assert_int_equal(model_find_chain(m, HOOK_OUTPUT)->n_rules, 4);
	assert_rule(m, HOOK_OUTPUT, 0,
		    "meta l4proto tcp ip daddr 10.0.0.2 th dport 53 counter accept comment \"dns\"");
	assert_rule(m, HOOK_OUTPUT, 1,
		    "meta l4proto udp ip daddr 10.0.0.2 th dport 53 counter accept comment \"dns\"");
	assert_rule(m, HOOK_OUTPUT, 2,
		    "meta l4proto tcp ip6 daddr 2001:db8::53 th dport 53 counter accept comment \"dns\"");
	assert_rule(m, HOOK_OUTPUT, 3,
		    "meta l4proto udp ip6 daddr 2001:db8::53 th dport 53 counter accept comment \"dns\"");
	assert_ptr_equal(model_find_chain(m, HOOK_OUTPUT)->rules[3].origin,
			 &p->rules[DIR_OUT][0]);
	model_free(m);
	tp_free(p);
}

static void test_sets_and_order(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;
	int i;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_IN, "ssh from corp", 3);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 22, 22);
	tp_addr(&r->from, "10.0.0.0/8");
	tp_addr(&r->from, "192.168.0.0/16");
	r->from.ref = "corp";
	tp_addr(&r->not_from, "10.66.0.0/16");
	r->families = FAM_V4;
	r = tp_rule(p, DIR_IN, "web", 4);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 80, 80);
	tp_port(&r->dport, 443, 443);
	tp_port(&r->dport, 8000, 8999);
	tp_addr(&r->from, "10.0.0.0/8");
	tp_addr(&r->from, "192.168.0.0/16");
	r->from.ref = "corp";
	r->families = FAM_V4;
	tp_iface(&r->ifaces, "eth0");
	r = tp_rule(p, DIR_OUT, "backup", 9);
	r->protos = PROTO_TCP;
	tp_id(&r->uids, 34);
	tp_id(&r->uids, 1000);
	tp_addr(&r->to, "192.0.2.1");
	tp_addr(&r->to, "192.0.2.7");
	r->families = FAM_V4;
	r->action = VERDICT_REJECT;
	m = compile_ok(p);
	assert_int_equal(m->n_sets, 4);
	assert_string_equal(m->sets[0].name, "corp_v4");
	assert_true(m->sets[0].interval);
	assert_int_equal(m->sets[0].n_elems, 2);
	assert_string_equal(m->sets[1].name, "web_dport");
	assert_true(m->sets[1].interval);
	assert_string_equal(m->sets[2].name, "backup_daddr_v4");
	assert_false(m->sets[2].interval);
	assert_string_equal(m->sets[3].name, "backup_uid");
	assert_rule(m, HOOK_INPUT, 0,
		    "meta l4proto tcp ip saddr @corp_v4 ip saddr != 10.66.0.0/16 th dport 22 counter accept comment \"ssh from corp\"");
	assert_rule(m, HOOK_INPUT, 1,
		    "meta l4proto tcp iifname \"eth0\" ip saddr @corp_v4 th dport @web_dport counter accept comment \"web\"");
	assert_rule(m, HOOK_OUTPUT, 0,
		    "meta l4proto tcp ip daddr @backup_daddr_v4 meta skuid @backup_uid counter log prefix \"pw1 D out reject backup test.yaml:9\" group 1000 reject with tcp reset comment \"backup\"");
	for (i = 0; i < 4; i++)
		assert_non_null(strchr(m->sets[i].name, '_'));
	model_free(m);
	tp_free(p);
}

static void test_reject_any_and_log(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_OUT, "no-metadata", 5);
	tp_addr(&r->to, "169.254.169.254");
	r->families = FAM_V4;
	r->action = VERDICT_REJECT;
	r->log = true;
	r = tp_rule(p, DIR_OUT, "v6 only", 6);
	r->families = FAM_V6;
	r->action = VERDICT_DROP;
	m = compile_ok(p);
	assert_int_equal(model_find_chain(m, HOOK_OUTPUT)->n_rules, 5);
	assert_rule(m, HOOK_OUTPUT, 0,
		    "meta l4proto tcp ip daddr 169.254.169.254 limit rate 5/minute burst 5 packets log prefix \"portwarden no-metadata: \" comment \"no-metadata\"");
	assert_rule(m, HOOK_OUTPUT, 1,
		    "meta l4proto tcp ip daddr 169.254.169.254 counter log prefix \"pw1 D out reject no-metadata test.yaml:5\" group 1000 reject with tcp reset comment \"no-metadata\"");
	assert_rule(m, HOOK_OUTPUT, 2,
		    "ip daddr 169.254.169.254 limit rate 5/minute burst 5 packets log prefix \"portwarden no-metadata: \" comment \"no-metadata\"");
	assert_rule(m, HOOK_OUTPUT, 3,
		    "ip daddr 169.254.169.254 counter log prefix \"pw1 D out reject no-metadata test.yaml:5\" group 1000 reject comment \"no-metadata\"");
	assert_rule(m, HOOK_OUTPUT, 4,
		    "meta nfproto ipv6 counter log prefix \"pw1 D out drop v6%20only test.yaml:6\" group 1000 drop comment \"v6 only\"");
	assert_int_equal(model_find_chain(m, HOOK_OUTPUT)->rules[0].verdict,
			 MV_NONE);
	model_free(m);
	tp_free(p);
}

/* n simple outbound rules "r0".."rN-1": 10.0.i.j:1000+i */
static void add_simple(struct policy *p, size_t n, enum verdict v)
{
	char name[32], addr[32];
	struct rule *r;
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%zu", p->n_rules[DIR_OUT]);
		snprintf(addr, sizeof(addr), "10.%zu.%zu.%zu", i >> 16,
			 (i >> 8) & 255, i & 255);
		r = tp_rule(p, DIR_OUT, name, (unsigned int)(10 + i));
		r->protos = PROTO_TCP;
		tp_port(&r->dport, (uint16_t)(1000 + i % 5000),
			(uint16_t)(1000 + i % 5000));
		tp_addr(&r->to, addr);
		r->families = FAM_V4;
		r->action = v;
	}
}

static void test_fold(void **state)
{
	struct policy *p = tp_new();
	const struct mchain *c;
	const struct mset *s;
	struct model *m;
	struct rule *r;
	size_t i;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	add_simple(p, 6, VERDICT_ACCEPT);	/* r0..r5: folded */
	add_simple(p, 3, VERDICT_DROP);		/* r6..r8: too few */
	add_simple(p, 5, VERDICT_ACCEPT);	/* r9..r13: folded again */
	r = tp_rule(p, DIR_OUT, "any-v6", 99);	/* no address: ::/0 */
	r->protos = PROTO_UDP;
	r->families = FAM_V6;
	m = compile_ok(p);
	c = model_find_chain(m, HOOK_OUTPUT);
	/* fold1 v4, r6, r7, r8, fold2 v4 + v6 (any-v6 joins run 2) */
	assert_int_equal(c->n_rules, 6);
	assert_rule(m, HOOK_OUTPUT, 0,
		    "ip daddr . meta l4proto . th dport @out_fold1_v4 counter accept comment \"fold: r0 .. r5 (6 rules)\"");
	assert_rule(m, HOOK_OUTPUT, 1,
		    "meta l4proto tcp ip daddr 10.0.0.0 th dport 1000 counter log prefix \"pw1 D out drop r6 test.yaml:10\" group 1000 drop comment \"r6\"");
	assert_rule(m, HOOK_OUTPUT, 4,
		    "ip daddr . meta l4proto . th dport @out_fold2_v4 counter accept comment \"fold: r9 .. any-v6 (6 rules)\"");
	assert_rule(m, HOOK_OUTPUT, 5,
		    "ip6 daddr . meta l4proto . th dport @out_fold2_v6 counter accept comment \"fold: r9 .. any-v6 (6 rules)\"");
	s = &m->sets[0];
	assert_string_equal(s->name, "out_fold1_v4");
	assert_int_equal(s->n_keys, 3);
	assert_false(s->interval);	/* all hosts and single ports */
	assert_int_equal(s->n_elems, 6);
	for (i = 0; i < 6; i++) {
		char *e = render_elem(s, &s->elems[i]);
		char want[64];

		snprintf(want, sizeof(want), "10.0.0.%zu . tcp . %zu", i,
			 1000 + i);
		assert_string_equal(e, want);
		free(e);
		assert_ptr_equal(s->elems[i].origin, &p->rules[DIR_OUT][i]);
	}
	s = &m->sets[2];
	assert_string_equal(s->name, "out_fold2_v6");
	assert_true(s->interval);
	assert_int_equal(s->n_elems, 1);
	{
		char *e = render_elem(s, &s->elems[0]);

		assert_string_equal(e, "::/0 . udp . 0-65535");
		free(e);
	}
	model_free(m);
	tp_free(p);
}

/* A run of drop rules is never folded: each rule keeps its own NFLOG
 * prefix, so that monitor names the exact rule (SPEC §9); the log group
 * is the policy's. */
static void test_drop_run_not_folded(void **state)
{
	struct policy *p = tp_new();
	const struct mchain *c;
	struct model *m;
	size_t i;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	p->log_group = 7;
	add_simple(p, 6, VERDICT_DROP);
	m = compile_ok(p);
	c = model_find_chain(m, HOOK_OUTPUT);
	assert_int_equal(c->n_rules, 6);
	assert_int_equal(m->n_sets, 0);
	for (i = 0; i < 6; i++) {
		char want[160];

		snprintf(want, sizeof(want),
			 "meta l4proto tcp ip daddr 10.0.0.%zu th dport %zu counter log prefix \"pw1 D out drop r%zu test.yaml:%zu\" group 7 drop comment \"r%zu\"",
			 i, 1000 + i, i, 10 + i, i);
		assert_rule(m, HOOK_OUTPUT, i, want);
		assert_int_equal(c->rules[i].nflog_group, 7);
	}
	model_free(m);
	tp_free(p);
}

static void test_fold_overlap(void **state)
{
	struct policy *p = tp_new();
	const struct mset *s;
	struct model *m;
	struct rule *r;
	char *e;
	size_t i;
	static const char *const want[] = {
		"10.0.0.0/8 . tcp . 443",
		"10.1.2.3 . tcp . 400-442",
		"10.1.2.3 . tcp . 444-500",
		"10.9.9.9 . tcp . 22-25",
		"10.9.9.9 . udp . 53",
	};

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_OUT, "a", 1);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 443, 443);
	tp_addr(&r->to, "10.0.0.0/8");
	r = tp_rule(p, DIR_OUT, "b", 2);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 400, 500);
	tp_addr(&r->to, "10.1.2.3");
	r = tp_rule(p, DIR_OUT, "c", 3);	/* inside a: vanishes */
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 443, 443);
	tp_addr(&r->to, "10.200.0.0/16");
	r = tp_rule(p, DIR_OUT, "d", 4);
	r->protos = PROTO_TCP | PROTO_UDP;
	tp_port(&r->dport, 22, 24);
	tp_addr(&r->to, "10.9.9.9");
	r->families = FAM_V4;
	r = tp_rule(p, DIR_OUT, "e", 5);	/* merges with d's tcp range */
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 23, 25);
	tp_addr(&r->to, "10.9.9.9");
	/* d's udp 22-24 must be cut by nothing: make it 53 instead */
	p->rules[DIR_OUT][3].protos = PROTO_TCP;
	r = tp_rule(p, DIR_OUT, "f", 6);
	r->protos = PROTO_UDP;
	tp_port(&r->dport, 53, 53);
	tp_addr(&r->to, "10.9.9.9");
	for (i = 0; i < p->n_rules[DIR_OUT]; i++)
		p->rules[DIR_OUT][i].families = FAM_V4;
	m = compile_ok(p);
	assert_int_equal(m->n_sets, 1);
	s = &m->sets[0];
	assert_true(s->interval);
	assert_int_equal(s->n_elems, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		e = render_elem(s, &s->elems[i]);
		assert_string_equal(e, want[i]);
		free(e);
	}
	assert_string_equal(s->elems[1].origin->name, "b");
	assert_string_equal(s->elems[3].origin->name, "d");
	assert_string_equal(s->elems[4].origin->name, "f");
	model_free(m);
	tp_free(p);
}

/*
 * What makes a fold cheap is its shape, not a stopwatch: however many
 * simple rules there are, the packet meets one rule (one lookup) and the
 * set holds one element per policy rule, each naming its rule. Checked at
 * two sizes, so a per-rule rule or lookup would show as growth.
 */
static void test_fold_scale(void **state)
{
	static const size_t sizes[] = { 1000, 10000 };
	const struct mchain *c;
	const struct mset *s;
	struct policy *p;
	struct model *m;
	size_t k, i, lookups;

	(void)state;
	for (k = 0; k < ARRAY_SIZE(sizes); k++) {
		p = tp_new();
		add_simple(p, sizes[k], VERDICT_ACCEPT);
		m = compile_ok(p);
		c = model_find_chain(m, HOOK_OUTPUT);
		/* builtins (4) + one fold rule, at every size */
		assert_int_equal(c->n_rules, 5);
		for (i = 0, lookups = 0; i < c->n_rules; i++)
			lookups += c->rules[i].n_matches == 1 &&
				   c->rules[i].matches[0].set >= 0;
		assert_int_equal(lookups, 3);	/* icmp, icmpv6 essential, the fold */
		assert_int_equal(c->rules[4].matches[0].key, KEY_CONCAT);
		assert_int_equal(c->rules[4].origin_run, sizes[k]);
		s = &m->sets[c->rules[4].matches[0].set];
		assert_int_equal(s->n_elems, sizes[k]);
		for (i = 0; i < s->n_elems; i++) {
			assert_non_null(s->elems[i].origin);
			assert_int_equal(s->elems[i].v[0].prefix.addr[3],
					 s->elems[i].origin->index & 255);
		}
		model_free(m);
		tp_free(p);
	}
}

static void test_render_whole(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	p->icmp = ICMP_NONE;
	p->loopback = false;
	r = tp_rule(p, DIR_IN, "ssh", 3);
	r->protos = PROTO_TCP;
	tp_port(&r->dport, 22, 22);
	tp_addr(&r->from, "10.0.0.0/8");
	tp_addr(&r->from, "2001:db8::/32");
	r->comment = xstrdup("say \"hi\"");
	m = compile_ok(p);
	f = open_memstream(&buf, &len);
	assert_int_equal(render_model(m, f), 0);
	fclose(f);
	assert_string_equal(buf,
		"table inet pw\n"
		"delete table inet pw\n"
		"table inet pw {\n"
		"\tcomment \"managed by portwarden\"\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy drop;\n"
		"\t\tct state established,related accept\n"
		"\t\tmeta l4proto tcp ip saddr 10.0.0.0/8 th dport 22 counter accept comment \"ssh: say 'hi'\"\n"
		"\t\tmeta l4proto tcp ip6 saddr 2001:db8::/32 th dport 22 counter accept comment \"ssh: say 'hi'\"\n"
		"\t\tcounter log prefix \"pw1 D in drop default -\" group 1000 drop comment \"default\"\n"
		"\t}\n"
		"\n"
		"\tchain output {\n"
		"\t\ttype filter hook output priority filter; policy accept;\n"
		"\t\tct state established,related accept\n"
		"\t}\n"
		"}\n");
	free(buf);
	model_free(m);
	tp_free(p);
}

/* @n hosts 10.1.x.y, then 10.9.0.0/16 when @prefix */
static void add_hosts(struct addr_set *a, unsigned int n, bool prefix)
{
	char buf[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.1.%u.%u", i / 200, i % 200 + 1);
		tp_addr(a, buf);
	}
	if (prefix)
		tp_addr(a, "10.9.0.0/16");
}

static const char *eval_src(const struct model *m, const char *src)
{
	struct packet pkt = { .dir = DIR_IN, .l4proto = 6, .has_src = true,
			      .dport = 22, .has_dport = true };
	struct eval_result res;

	assert_int_equal(cidr_parse(src, &pkt.src, NULL), 0);
	/* a packet has one family: the destination is of the source's */
	assert_int_equal(cidr_parse(pkt.src.family == 6 ? "2001:db8:ffff::1" :
				    "192.0.2.1", &pkt.dst, NULL), 0);
	assert_int_equal(eval_model(m, &pkt, &res), 0);
	if (res.origin)
		return res.origin->name;
	return res.label ? res.label : "(chain policy)";
}

/* A large address set with hosts and prefixes: hosts go to a hash set. */
static void test_split_hosts(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_IN, "blk", 3);
	add_hosts(&r->from, 70, true);
	r->from.ref = "bad";
	r->families = FAM_V4;
	r->action = VERDICT_DROP;
	r = tp_rule(p, DIR_IN, "not bad", 4);
	r->protos = PROTO_TCP;
	add_hosts(&r->not_from, 70, true);
	r->not_from.ref = "bad";
	r->families = FAM_V4;
	r = tp_rule(p, DIR_IN, "few", 5);
	add_hosts(&r->from, 63, true);
	r->families = FAM_V4;
	r = tp_rule(p, DIR_IN, "only hosts", 6);
	add_hosts(&r->from, 80, false);
	r->families = FAM_V4;
	r = tp_rule(p, DIR_IN, "both", 7);
	r->protos = PROTO_TCP;
	add_hosts(&r->from, 64, true);
	add_hosts(&r->to, 64, true);
	r->families = FAM_V4;
	m = compile_ok(p);

	assert_int_equal(m->n_sets, 8);
	assert_string_equal(m->sets[0].name, "bad_v4");
	assert_true(m->sets[0].interval);
	assert_int_equal(m->sets[0].n_elems, 1);
	assert_string_equal(m->sets[1].name, "bad_v4_hosts");
	assert_false(m->sets[1].interval);
	assert_int_equal(m->sets[1].n_elems, 70);
	/* 63 hosts: one interval set as before */
	assert_string_equal(m->sets[2].name, "few_saddr_v4");
	assert_true(m->sets[2].interval);
	assert_int_equal(m->sets[2].n_elems, 64);
	/* hosts only: one hash set */
	assert_string_equal(m->sets[3].name, "only_hosts_saddr_v4");
	assert_false(m->sets[3].interval);
	assert_int_equal(m->sets[3].n_elems, 80);
	assert_string_equal(m->sets[4].name, "both_saddr_v4");
	assert_string_equal(m->sets[5].name, "both_saddr_v4_hosts");
	assert_string_equal(m->sets[6].name, "both_daddr_v4");
	assert_string_equal(m->sets[7].name, "both_daddr_v4_hosts");
	assert_int_equal(m->sets[7].n_elems, 64);

	/* blk 2, not bad 1, few 1, only hosts 1, both 4, default 1 */
	assert_int_equal(m->chains[0].n_rules, 2 + 1 + 1 + 1 + 4 + 1);
	assert_rule(m, HOOK_INPUT, 0,
		    "ip saddr @bad_v4_hosts counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 1,
		    "ip saddr @bad_v4 counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 2,
		    "meta l4proto tcp ip saddr != @bad_v4_hosts ip saddr != @bad_v4 counter accept comment \"not bad\"");
	assert_rule(m, HOOK_INPUT, 3,
		    "ip saddr @few_saddr_v4 counter accept comment \"few\"");
	assert_rule(m, HOOK_INPUT, 4,
		    "ip saddr @only_hosts_saddr_v4 counter accept comment \"only hosts\"");
	assert_rule(m, HOOK_INPUT, 5,
		    "meta l4proto tcp ip saddr @both_saddr_v4_hosts ip daddr @both_daddr_v4_hosts counter accept comment \"both\"");
	assert_rule(m, HOOK_INPUT, 6,
		    "meta l4proto tcp ip saddr @both_saddr_v4 ip daddr @both_daddr_v4_hosts counter accept comment \"both\"");
	assert_rule(m, HOOK_INPUT, 7,
		    "meta l4proto tcp ip saddr @both_saddr_v4_hosts ip daddr @both_daddr_v4 counter accept comment \"both\"");
	assert_rule(m, HOOK_INPUT, 8,
		    "meta l4proto tcp ip saddr @both_saddr_v4 ip daddr @both_daddr_v4 counter accept comment \"both\"");

	/* what matches is unchanged: a host, a prefix, neither */
	assert_string_equal(eval_src(m, "10.1.0.7"), "blk");
	assert_string_equal(eval_src(m, "10.9.3.4"), "blk");
	assert_string_equal(eval_src(m, "10.2.0.1"), "not bad");
	model_free(m);
	tp_free(p);
}

/* @n /24 prefixes 10.100.x.0/24 (n <= 256 * 100) */
static void add_p24(struct addr_set *a, unsigned int n)
{
	char buf[32];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "10.%u.%u.0/24", 100 + i / 256,
			 i % 256);
		tp_addr(a, buf);
	}
}

/* A large set of few prefix lengths: one hash set per length. */
static void test_split_masks(void **state)
{
	struct policy *p = tp_new();
	struct model *m;
	struct rule *r;
	size_t i;

	(void)state;
	p->icmp = ICMP_NONE;
	p->established = p->loopback = false;
	r = tp_rule(p, DIR_IN, "blk", 3);
	add_p24(&r->from, 1024);
	tp_addr(&r->from, "192.0.2.7");
	tp_addr(&r->from, "198.51.100.16/28");
	tp_addr(&r->from, "2001:db8::1");
	tp_addr(&r->from, "2001:db8:1::/48");
	r->from.ref = "bad";
	r->action = VERDICT_DROP;
	r = tp_rule(p, DIR_IN, "not bad", 4);
	r->protos = PROTO_TCP;
	add_p24(&r->not_from, 1024);
	tp_addr(&r->not_from, "192.0.2.7");
	tp_addr(&r->not_from, "198.51.100.16/28");
	r->not_from.ref = "bad";
	r->families = FAM_V4;
	/* 1023 elements: not split by length (hosts split needs 64 hosts) */
	r = tp_rule(p, DIR_IN, "few", 5);
	add_p24(&r->from, 1021);
	tp_addr(&r->from, "192.0.2.7");
	tp_addr(&r->from, "198.51.100.16/28");
	r->families = FAM_V4;
	/* nine lengths: not split either */
	r = tp_rule(p, DIR_IN, "lengths", 6);
	add_p24(&r->from, 1024);
	for (i = 0; i < 8; i++) {
		char buf[32];

		snprintf(buf, sizeof(buf), "172.16.%zu.0/%zu", i * 8, 25 + i);
		tp_addr(&r->from, buf);
	}
	r->families = FAM_V4;
	m = compile_ok(p);

	/* bad_v4: hosts, p28, p24; bad_v6 (2 elements); few; lengths */
	assert_int_equal(m->n_sets, 6);
	assert_string_equal(m->sets[0].name, "bad_v4_hosts");
	assert_int_equal(m->sets[0].n_elems, 1);
	assert_string_equal(m->sets[1].name, "bad_v4_p28");
	assert_int_equal(m->sets[1].n_elems, 1);
	assert_string_equal(m->sets[2].name, "bad_v4_p24");
	assert_int_equal(m->sets[2].n_elems, 1024);
	for (i = 0; i < 3; i++) {
		assert_false(m->sets[i].interval);
		assert_int_equal(m->sets[i].elems[0].v[0].prefix.plen, 32);
	}
	assert_string_equal(m->sets[3].name, "bad_v6");
	assert_true(m->sets[3].interval);
	assert_string_equal(m->sets[4].name, "few_saddr_v4");
	assert_true(m->sets[4].interval);
	assert_int_equal(m->sets[4].n_elems, 1023);
	assert_string_equal(m->sets[5].name, "lengths_saddr_v4");
	assert_true(m->sets[5].interval);
	assert_int_equal(m->sets[5].n_elems, 1032);

	/* blk 3 + 1, not bad 1, few 1, lengths 1, default 1 */
	assert_int_equal(m->chains[0].n_rules, 4 + 1 + 1 + 1 + 1);
	assert_rule(m, HOOK_INPUT, 0,
		    "ip saddr @bad_v4_hosts counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 1,
		    "ip saddr & 255.255.255.240 @bad_v4_p28 counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 2,
		    "ip saddr & 255.255.255.0 @bad_v4_p24 counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 3,
		    "ip6 saddr @bad_v6 counter log prefix \"pw1 D in drop blk test.yaml:3\" group 1000 drop comment \"blk\"");
	assert_rule(m, HOOK_INPUT, 4,
		    "meta l4proto tcp ip saddr != @bad_v4_hosts ip saddr & 255.255.255.240 != @bad_v4_p28 ip saddr & 255.255.255.0 != @bad_v4_p24 counter accept comment \"not bad\"");

	/* what matches is unchanged: each length, and neither */
	assert_string_equal(eval_src(m, "192.0.2.7"), "blk");
	assert_string_equal(eval_src(m, "198.51.100.31"), "blk");
	assert_string_equal(eval_src(m, "10.103.255.254"), "blk");
	assert_string_equal(eval_src(m, "10.100.0.0"), "blk");
	assert_string_equal(eval_src(m, "2001:db8::1"), "blk");
	assert_string_equal(eval_src(m, "2001:db8:1:ffff::9"), "blk");
	assert_string_equal(eval_src(m, "192.0.2.8"), "not bad");
	assert_string_equal(eval_src(m, "198.51.100.32"), "not bad");
	assert_string_equal(eval_src(m, "10.104.0.1"), "not bad");
	assert_string_equal(eval_src(m, "2001:db8:2::1"), "default");
	model_free(m);
	tp_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_builtins),
		cmocka_unit_test(test_no_builtins_reject_default),
		cmocka_unit_test(test_expand_family_proto),
		cmocka_unit_test(test_sets_and_order),
		cmocka_unit_test(test_reject_any_and_log),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_overlap),
		cmocka_unit_test(test_fold_scale),
		cmocka_unit_test(test_render_whole),
		cmocka_unit_test(test_drop_run_not_folded),
		cmocka_unit_test(test_split_hosts),
		cmocka_unit_test(test_split_masks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
