// SPDX-License-Identifier: GPL-2.0-or-later
/* compare: interval lists, prefixes, and the merge of cells into the
 * fewest readable regions, on small policies (no kernel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compare.h"
#include "diag.h"
#include "model.h"
#include "policy.h"
#include "util.h"

static void test_list_add(void **state)
{
	struct cmp_list l = { 0 };

	(void)state;
	cmp_list_add(&l, 10, 20);
	cmp_list_add(&l, 30, 40);
	cmp_list_add(&l, 1, 2);
	assert_int_equal(l.n, 3);
	assert_true(l.v[0].lo == 1 && l.v[2].hi == 40);
	cmp_list_add(&l, 21, 29);	/* adjacent on both sides: one */
	assert_int_equal(l.n, 2);
	assert_true(l.v[1].lo == 10 && l.v[1].hi == 40);
	cmp_list_add(&l, 0, 100);	/* covers everything */
	assert_int_equal(l.n, 1);
	assert_true(l.v[0].lo == 0 && l.v[0].hi == 100);
	free(l.v);
}

struct pfx {
	cmp_u128 a[8];
	unsigned int p[8];
	size_t n;
};

static void collect(cmp_u128 addr, unsigned int plen, void *arg)
{
	struct pfx *x = arg;

	if (x->n < 8) {
		x->a[x->n] = addr;
		x->p[x->n] = plen;
	}
	x->n++;
}

static void test_prefixes(void **state)
{
	struct pfx x = { 0 };

	(void)state;
	/* 10.0.0.0-10.0.1.255 is one /23 */
	assert_int_equal(cmp_prefixes(0x0a000000u, 0x0a0001ffu, 32, collect, &x), 1);
	assert_true(x.a[0] == 0x0a000000u && x.p[0] == 23);
	/* 1-6: 1/32, 2/31, 4/31, 6/32 */
	memset(&x, 0, sizeof(x));
	assert_int_equal(cmp_prefixes(1, 6, 32, collect, &x), 4);
	assert_true(x.p[0] == 32 && x.p[1] == 31 && x.p[2] == 31 && x.p[3] == 32);
	/* the whole IPv6 space is ::/0, the whole IPv4 one 0.0.0.0/0 */
	memset(&x, 0, sizeof(x));
	assert_int_equal(cmp_prefixes(0, ~(cmp_u128)0, 128, collect, &x), 1);
	assert_int_equal(x.p[0], 0);
	assert_int_equal(cmp_prefixes(0, 0xffffffffu, 32, NULL, NULL), 1);
}

static struct model *compiled(const char *yaml, struct policy **p)
{
	struct model *m = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(policy_load_buffer(p, "t.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(compile_policy(*p, &m, &d), 0);
	diag_release(&d);
	return m;
}

/* compare two policies; the regions' words, one per line, in @out */
static size_t run(const char *a, const char *b, char *out, size_t len)
{
	struct policy *pa, *pb;
	struct model *ma = compiled(a, &pa), *mb = compiled(b, &pb);
	struct cmp_result *r = NULL;
	char *buf = NULL;
	size_t blen = 0, i, n;
	FILE *f;

	assert_int_equal(compare_run(ma, mb, &r), 0);
	f = open_memstream(&buf, &blen);
	for (i = 0; i < r->n_regions; i++) {
		fprintf(f, "%s ", cmp_change_verb(&r->regions[i]));
		cmp_region_words(f, r, &r->regions[i]);
		fputc('\n', f);
	}
	fclose(f);
	snprintf(out, len, "%s", buf ? buf : "");
	free(buf);
	n = r->n_regions;
	cmp_result_free(r);
	model_free(ma);
	model_free(mb);
	policy_free(pa);
	policy_free(pb);
	return n;
}

#define HEAD "portwarden: 1\ndefaults: { inbound: drop }\ninbound:\n"

static void test_equal(void **state)
{
	char out[4096];

	(void)state;
	/* renamed; split in two; reordered without overlap */
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: [80, 443] }\n",
			     HEAD "  - { name: b, proto: tcp, port: [80, 443] }\n",
			     out, sizeof(out)), 0);
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: [80, 443] }\n",
			     HEAD "  - { name: a, proto: tcp, port: 80 }\n"
				  "  - { name: b, proto: tcp, port: 443 }\n",
			     out, sizeof(out)), 0);
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: 22, from: 10.0.0.0/8 }\n"
				  "  - { name: b, proto: udp, port: 53 }\n",
			     HEAD "  - { name: b, proto: udp, port: 53 }\n"
				  "  - { name: a, proto: tcp, port: 22, from: 10.0.0.0/8 }\n",
			     out, sizeof(out)), 0);
	/* reordered with overlap and different verdicts: not equal */
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: 22, action: reject }\n"
				  "  - { name: b, proto: tcp, port: 22 }\n",
			     HEAD "  - { name: b, proto: tcp, port: 22 }\n"
				  "  - { name: a, proto: tcp, port: 22, action: reject }\n",
			     out, sizeof(out)), 1);
	assert_string_equal(out, "opens in tcp/22 from anywhere not on lo\n");
}

static void test_merge(void **state)
{
	char out[4096];

	(void)state;
	/* adjacent ports of one rule: one range; its tcp and udp nft rules:
	 * one region; another rule: a region of its own (each names its
	 * deciding rule) */
	assert_int_equal(run(HEAD "  - { name: a, port: 80 }\n",
			     HEAD "  - { name: a, port: 80 }\n"
				  "  - { name: b, port: [81, 83, 82, 84-90] }\n"
				  "  - { name: c, port: 91 }\n",
			     out, sizeof(out)), 2);
	assert_string_equal(out, "opens in tcp,udp/81-90 from anywhere not on lo\n"
			    "opens in tcp,udp/91 from anywhere not on lo\n");
	/* two /25 halves: one /24; IPv6 untouched */
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: 22, from: 10.0.0.0/8 }\n",
			     HEAD "  - { name: a, proto: tcp, port: 22, from: 10.0.0.0/8 }\n"
				  "  - { name: b, proto: tcp, port: 22, from: [192.168.1.0/25, 192.168.1.128/26, 192.168.1.192/26] }\n",
			     out, sizeof(out)), 1);
	assert_string_equal(out, "opens in tcp/22 from 192.168.1.0/24 not on lo\n");
	/* everything but one network reads as "except" */
	assert_int_equal(run(HEAD "  - { name: a, proto: tcp, port: 22, from: 10.0.0.0/8 }\n",
			     HEAD "  - { name: a, proto: tcp, port: 22, family: ipv4 }\n",
			     out, sizeof(out)), 1);
	assert_string_equal(out, "opens in tcp/22 from 0.0.0.0/0 except 10.0.0.0/8 not on lo\n");
	/* reject vs drop, both families and every protocol */
	assert_int_equal(run(HEAD, "portwarden: 1\ndefaults: { inbound: reject }\n",
			     out, sizeof(out)), 3);
	assert_non_null(strstr(out, "rejects instead of dropping in all protocols but icmp,icmpv6 from anywhere not on lo\n"));
}

static void test_example(void **state)
{
	struct policy *pa, *pb;
	struct model *ma = compiled(HEAD, &pa);
	struct model *mb = compiled(HEAD "  - { name: s, proto: udp, port: 5353, from: \"2001:db8::/32\" }\n", &pb);
	struct cmp_result *r = NULL;
	char ex[256];

	(void)state;
	assert_int_equal(compare_run(ma, mb, &r), 0);
	assert_int_equal(r->n_regions, 1);
	assert_int_equal(cmp_example(r, &r->regions[0], ex, sizeof(ex)), 0);
	assert_string_equal(ex, "in udp [2001:db8::5]:5353 --from [2001:db8::100]:40000 --interface pwc0");
	cmp_result_free(r);
	model_free(ma);
	model_free(mb);
	policy_free(pa);
	policy_free(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_add),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
