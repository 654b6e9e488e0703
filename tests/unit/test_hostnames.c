// SPDX-License-Identifier: GPL-2.0-or-later
/* Hostnames (SPEC §8): syntax, wildcard matching, set names, resolv.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "diag.h"
#include "hostnames.h"
#include "model.h"
#include "model_io.h"
#include "policy.h"
#include "util.h"

static int check(const char *s, size_t *pos)
{
	return hostname_check(s, strlen(s), pos);
}

static void test_syntax(void **state)
{
	char buf[400];
	size_t pos;

	(void)state;
	assert_int_equal(check("github.com", &pos), HOSTNAME_OK);
	assert_int_equal(check("GitHub.COM", &pos), HOSTNAME_OK);
	assert_int_equal(check("a-b.c-d.e", &pos), HOSTNAME_OK);
	assert_int_equal(check("localhost", &pos), HOSTNAME_OK);
	assert_int_equal(check("*.githubusercontent.com", &pos), HOSTNAME_OK);
	assert_int_equal(check("", &pos), HOSTNAME_EMPTY);
	assert_int_equal(check("a..b", &pos), HOSTNAME_EMPTY_LABEL);
	assert_int_equal(pos, 2);
	assert_int_equal(check(".a", &pos), HOSTNAME_EMPTY_LABEL);
	assert_int_equal(pos, 0);
	assert_int_equal(check("a.", &pos), HOSTNAME_EMPTY_LABEL);
	assert_int_equal(pos, 1);
	assert_int_equal(check("git_hub.com", &pos), HOSTNAME_BAD_CHAR);
	assert_int_equal(pos, 3);
	assert_int_equal(check("a b", &pos), HOSTNAME_BAD_CHAR);
	assert_int_equal(check("-a.com", &pos), HOSTNAME_HYPHEN);
	assert_int_equal(check("a-.com", &pos), HOSTNAME_HYPHEN);
	assert_int_equal(pos, 1);
	assert_int_equal(check("*", &pos), HOSTNAME_BAD_WILDCARD);
	assert_int_equal(check("*.", &pos), HOSTNAME_EMPTY_LABEL);
	assert_int_equal(check("a.*.com", &pos), HOSTNAME_BAD_WILDCARD);
	assert_int_equal(pos, 2);
	assert_int_equal(check("*a.com", &pos), HOSTNAME_BAD_WILDCARD);
	assert_int_equal(check("*.*.com", &pos), HOSTNAME_BAD_WILDCARD);
	assert_int_equal(pos, 2);

	/* a label of 63 passes, 64 does not */
	memset(buf, 'a', 63);
	strcpy(buf + 63, ".com");
	assert_int_equal(check(buf, &pos), HOSTNAME_OK);
	memset(buf, 'a', 64);
	strcpy(buf + 64, ".com");
	assert_int_equal(check(buf, &pos), HOSTNAME_LABEL_TOO_LONG);
	assert_int_equal(pos, 0);

	/* 253 characters pass, 254 do not: 4 x (62 + '.') + "abcde" = 257 */
	for (size_t i = 0; i < 4; i++) {
		memset(buf + i * 63, 'b', 62);
		buf[i * 63 + 62] = '.';
	}
	strcpy(buf + 252, "x");
	assert_int_equal(strlen(buf), 253);
	assert_int_equal(check(buf, &pos), HOSTNAME_OK);
	strcpy(buf + 252, "xy");
	assert_int_equal(check(buf, &pos), HOSTNAME_TOO_LONG);
	/* not NUL-terminated: only len bytes are read */
	assert_true(hostname_valid("example.com!!", 11));
}

static void test_match(void **state)
{
	struct host_target w = { .pattern = (char *)"cdn.test", .wildcard = true };
	struct host_target e = { .pattern = (char *)"github.com" };

	(void)state;
	assert_true(host_target_matches(&w, "a.cdn.test"));
	assert_true(host_target_matches(&w, "a.b.cdn.test"));
	assert_true(host_target_matches(&w, "A.CDN.Test."));
	assert_false(host_target_matches(&w, "cdn.test"));
	assert_false(host_target_matches(&w, "cdn.test."));
	assert_false(host_target_matches(&w, "acdn.test"));
	assert_false(host_target_matches(&w, ".cdn.test"));
	assert_false(host_target_matches(&w, "a.cdn.test.evil"));
	assert_false(host_target_matches(&w, "dn.test"));
	assert_true(host_target_matches(&e, "github.com"));
	assert_true(host_target_matches(&e, "GITHUB.com."));
	assert_false(host_target_matches(&e, "api.github.com"));
	assert_false(host_target_matches(&e, "github.co"));
	assert_false(host_target_matches(&e, "github.comm"));
	assert_false(host_target_matches(&e, ""));
}

static const char *fmt(const struct cidr *c, char *buf)
{
	cidr_format(c, buf, 64);
	return buf;
}

static void test_resolv_conf(void **state)
{
	static const char text[] =
		"# generated\n"
		"search example.com\n"
		"nameserver 10.0.0.53\n"
		"  nameserver\t2001:db8::53  # trailing\n"
		"nameserver fe80::1%eth0\n"
		"nameserver 10.0.0.53\n"
		"nameserverx 10.9.9.9\n"
		"nameserver 10.0.0.0/8\n"
		"nameserver not-an-address\n"
		";nameserver 10.1.1.1\n"
		"options edns0\n"
		"nameserver 192.0.2.1";	/* no final newline */
	struct cidr *v;
	char buf[64], *big;
	size_t n, i;

	(void)state;
	assert_int_equal(resolv_conf_parse(text, sizeof(text) - 1, &v, &n), 4);
	assert_string_equal(fmt(&v[0], buf), "10.0.0.53");
	assert_string_equal(fmt(&v[1], buf), "2001:db8::53");
	assert_string_equal(fmt(&v[2], buf), "fe80::1");
	assert_string_equal(fmt(&v[3], buf), "192.0.2.1");
	free(v);

	/* a cut buffer: "nameserver 10.0.0.5" of "…53" */
	assert_int_equal(resolv_conf_parse(text, (size_t)(strstr(text, "53\n") - text) + 1,
					   &v, &n), 1);
	assert_string_equal(fmt(&v[0], buf), "10.0.0.5");
	free(v);

	/* empty and binary input */
	assert_int_equal(resolv_conf_parse("", 0, &v, &n), 0);
	free(v);
	assert_int_equal(resolv_conf_parse("nameserver \0" "1.2.3.4\n", 20,
					   &v, &n), 0);
	free(v);

	/* at most DNS_MAX_RESOLVERS; an over-long line is skipped */
	big = xmalloc(200 * 32 + 2000);
	n = 0;
	memset(big, ' ', 1500);
	memcpy(big + 1490, "nameserver 9.9.9.9\n", 19);
	i = 1509;
	for (unsigned int k = 0; k < 200; k++)
		i += (size_t)sprintf(big + i, "nameserver 10.0.%u.%u\n",
				     k / 256, k % 256);
	assert_int_equal(resolv_conf_parse(big, i, &v, &n), DNS_MAX_RESOLVERS);
	assert_string_equal(fmt(&v[0], buf), "10.0.0.0");
	free(v);
	free(big);
}

static void test_trusted(void **state)
{
	struct dns_settings s;
	struct cidr *v;
	size_t n;
	uint8_t a4[4] = { 127, 0, 0, 53 }, b4[4] = { 10, 0, 0, 53 };
	uint8_t a6[16] = { [15] = 1 };

	(void)state;
	dns_settings_default(&s);
	assert_int_equal(dns_trusted_resolvers(&s, "/nonexistent/resolv.conf",
					       &v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(dns_resolver_in(v, n, 4, a4));
	assert_true(dns_resolver_in(v, n, 6, a6));
	assert_false(dns_resolver_in(v, n, 4, b4));
	free(v);
	/* an explicit list replaces the system one */
	s.resolvers_system = false;
	s.resolvers = xcalloc(1, sizeof(*s.resolvers));
	cidr_parse("10.0.0.53", &s.resolvers[0], NULL);
	s.n_resolvers = 1;
	assert_int_equal(dns_trusted_resolvers(&s, NULL, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_true(dns_resolver_in(v, n, 4, b4));
	assert_false(dns_resolver_in(v, n, 4, a4));
	free(v);
	free(s.resolvers);
}

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	struct diag d;

	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", text, strlen(text), &d), 0);
	diag_release(&d);
	return p;
}

/* Set names: reduced rule names, clashes with rules and named sets,
 * families, not_to; the compiler makes exactly these sets. */
static void test_targets(void **state)
{
	static const char text[] =
		"portwarden: 1\n"
		"sets:\n"
		"  web_dns: [192.0.2.0/24]\n"
		"  names: [a.test, \"*.b.test\"]\n"
		"outbound:\n"
		"  - { name: web, proto: tcp, port: 443, to: [A.Test, 192.0.2.9, 198.51.100.0/24] }\n"
		"  - { name: \"web!\", proto: tcp, port: 80, to: $names }\n"
		"  - { name: six, family: ipv6, to: \"*.c.test\" }\n"
		"  - { name: not, proto: tcp, not_to: [d.test] }\n"
		"  - { name: ref, to: $web_dns }\n";
	struct policy *p = load(text);
	struct host_targets t;
	struct model *m = NULL;
	struct diag d;
	int k;

	(void)state;
	assert_int_equal(host_targets_from_policy(p, &t), 0);
	assert_int_equal(t.n, 5);
	assert_string_equal(t.v[0].pattern, "a.test");	/* lower case */
	assert_false(t.v[0].wildcard);
	assert_string_equal(t.v[0].set4, "web_2_dns_v4");	/* $web_dns_v4 */
	assert_string_equal(t.v[0].set6, "web_2_dns_v6");
	assert_string_equal(t.v[1].set4, "web_3_dns_v4");	/* "web!" */
	assert_string_equal(t.v[1].pattern, "a.test");
	assert_string_equal(t.v[2].pattern, "b.test");
	assert_true(t.v[2].wildcard);
	assert_null(t.v[3].set4);				/* ipv6 only */
	assert_string_equal(t.v[3].set6, "six_dns_v6");
	assert_true(t.v[4].exclude);
	assert_string_equal(t.v[4].set4, "not_notdns_v4");
	assert_int_equal(t.dns.queue_num, DNS_DEFAULT_QUEUE);
	assert_true(t.dns.resolvers_system);

	diag_init(&d);
	assert_int_equal(compile_policy(p, &m, &d), 0);
	diag_release(&d);
	k = model_find_set(m, "web_2_dns_v4");
	assert_true(k >= 0);
	assert_true(m->sets[k].timeout);
	assert_false(m->sets[k].interval);
	assert_int_equal(m->sets[k].n_elems, 1);		/* 192.0.2.9 only */
	assert_true(model_find_set(m, "web_dns_v4") >= 0);	/* the $set */
	assert_true(model_find_set(m, "six_dns_v4") < 0);
	assert_true(model_find_set(m, "dns") < 0);
	assert_non_null(m->chains[2].name);
	assert_string_equal(m->chains[2].name, "dns");
	assert_int_equal(m->chains[2].n_rules, 2);		/* udp, tcp */
	assert_int_equal(m->chains[2].rules[0].verdict, MV_QUEUE);
	assert_int_equal(m->chains[2].rules[0].queue_num, 53);
	/* the saved form (rollback record): the timeout flag survives, a
	 * learned element does not become a permanent one */
	{
		struct melem *e = mset_add_elem(&m->sets[k]);
		struct model *back = NULL;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		cidr_parse("203.0.113.5", &e->v[0].prefix, NULL);
		e->timeout_ms = 30000;
		mset_sort(&m->sets[k]);
		assert_int_equal(model_write(m, f), 0);
		fclose(f);
		f = fmemopen(buf, len, "r");
		assert_int_equal(model_read(f, &back), 0);
		fclose(f);
		assert_true(back->sets[k].timeout);
		assert_int_equal(back->sets[k].n_elems, 1);
		assert_int_equal(back->chains[2].rules[0].verdict, MV_QUEUE);
		assert_int_equal(back->chains[2].rules[0].queue_num, 53);
		assert_true(model_equal(m, back));	/* m has more: learned */
		model_free(back);
		free(buf);
	}
	model_free(m);
	host_targets_release(&t);
	policy_free(p);
}

/* Warnings: hostname rules that cannot resolve, dns: without names. */
static void test_warnings(void **state)
{
	static const char nodns[] =
		"portwarden: 1\ndefaults: { outbound: drop }\n"
		"outbound:\n  - { name: web, proto: tcp, port: 443, to: github.com }\n";
	static const char withdns[] =
		"portwarden: 1\ndefaults: { outbound: drop }\n"
		"outbound:\n  - { name: dns, port: domain }\n"
		"  - { name: web, proto: tcp, port: 443, to: github.com }\n";
	static const char unused[] =
		"portwarden: 1\ndns: { grace: 10 }\n";
	struct policy *p = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", nodns, sizeof(nodns) - 1, &d), 0);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.v[0].loc.line, 4);
	assert_non_null(strstr(d.v[0].msg, "no outbound rule accepts port 53"));
	policy_free(p);
	diag_release(&d);
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", withdns, sizeof(withdns) - 1, &d), 0);
	assert_int_equal(d.warnings, 0);
	policy_free(p);
	diag_release(&d);
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", unused, sizeof(unused) - 1, &d), 0);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.v[0].loc.line, 2);
	assert_int_equal(p->dns.grace, 10);
	policy_free(p);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_trusted),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_warnings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
