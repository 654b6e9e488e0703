// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A policy's tests (SPEC §10): the packet string split into explain's
 * arguments, and tests run on the compiled policy alone, passing and
 * failing for each verdict and with the deciding rule named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "packet_args.h"
#include "policy.h"
#include "testrun.h"

static void split_ok(void **state)
{
	struct packet_args a;
	char *buf, *why;

	(void)state;
	assert_int_equal(packet_args_split("  out tcp 192.0.2.1:443 --user=root --cgroup 'a b/c.service'\t--policy-only",
					   &buf, &a, &why), 0);
	assert_string_equal(a.dir, "out");
	assert_string_equal(a.proto, "tcp");
	assert_string_equal(a.dst, "192.0.2.1:443");
	assert_string_equal(a.user, "root");
	assert_string_equal(a.cgroup, "a b/c.service");
	assert_null(a.from);
	assert_null(a.iface);
	free(buf);
	assert_int_equal(packet_args_split("in udp [fd00::1]:53 --from \"[fd00::2]:5353\" --interface eth0 --group 0",
					   &buf, &a, &why), 0);
	assert_string_equal(a.from, "[fd00::2]:5353");
	assert_string_equal(a.iface, "eth0");
	assert_string_equal(a.group, "0");
	free(buf);
}

static void split_bad_one(const char *s, const char *needle)
{
	struct packet_args a;
	char *buf, *why = NULL;

	assert_int_equal(packet_args_split(s, &buf, &a, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("'%s': message '%s' lacks '%s'", s, why, needle);
	free(why);
	free(buf);
}

static void split_bad(void **state)
{
	(void)state;
	split_bad_one("out tcp", "DIR PROTO ADDR");
	split_bad_one("out tcp 1.2.3.4:1 extra", "unexpected 'extra'");
	split_bad_one("out tcp 1.2.3.4:1 --user a --user b", "--user given twice");
	split_bad_one("out tcp 1.2.3.4:1 --usr a", "did you mean '--user'");
	split_bad_one("out tcp 1.2.3.4:1 --netns x", "needs the live host");
	split_bad_one("out tcp 1.2.3.4:1 --netns=x", "needs the live host");
	split_bad_one("out tcp 1.2.3.4:1 --from", "needs a value");
	split_bad_one("out tcp 1.2.3.4:1 --cgroup 'a", "unterminated");
}

/* parse errors are explain's own messages */
static void parse_bad(void **state)
{
	static const struct { const char *s, *needle; } t[] = {
		{ "up tcp 1.2.3.4:1", "direction must be 'in' or 'out'" },
		{ "out tcpx 1.2.3.4:1", "unknown protocol 'tcpx'" },
		{ "out tcp fd00::2:443", "needs brackets" },
		{ "out tcp 1.2.3.4:1 --from fd00::1", "not of the destination's family" },
		{ "out icmp [fd00::1]", "does not travel in this address family" },
		{ "out tcp 1.2.3.4:1 --from :5 --sport 6", "give one" },
		{ "out tcp 1.2.3.4:1 --user no-such-user-here", "unknown user" },
		{ "out tcp 1.2.3.4:1 --interface 0123456789abcdefg", "bad --interface" },
	};
	struct packet_args a;
	struct packet_desc x;
	struct packet pkt;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *buf, *why = NULL;

		assert_int_equal(packet_args_split(t[i].s, &buf, &a, &why), 0);
		assert_int_equal(packet_args_parse(&a, &pkt, &x, &why), -EINVAL);
		if (!why || !strstr(why, t[i].needle))
			fail_msg("'%s': message '%s' lacks '%s'", t[i].s, why, t[i].needle);
		free(why);
		free(buf);
	}
}

static const char policy_yaml[] =
	"portwarden: 1\n"
	"defaults: { inbound: drop, outbound: reject }\n"
	"outbound:\n"
	"  - { name: https, proto: tcp, port: 443 }\n"
	"  - { name: meta, to: 169.254.169.254, action: reject }\n"
	"  - { name: blackhole, to: 192.0.2.0/24, action: drop }\n"
	"  - { name: root-dns, proto: udp, port: 53, user: 0 }\n"
	"inbound:\n"
	"  - { name: ssh, proto: tcp, port: 22, from: 10.0.0.0/8 }\n"
	"  - { name: web-eth1, proto: tcp, port: 80, interface: eth1 }\n"
	"tests:\n"
	"  - { packet: \"out tcp 93.184.216.34:443\", expect: accept, rule: https }\n"	/* 12 pass */
	"  - { packet: \"out tcp 93.184.216.34:443\", expect: drop }\n"			/* 13 fail */
	"  - { packet: \"out tcp 169.254.169.254:443\", expect: reject, rule: meta }\n"	/* 14 fail: https decides first */
	"  - { packet: \"out udp 169.254.169.254:53\", expect: reject, rule: meta }\n"	/* 15 pass */
	"  - { packet: \"out udp 192.0.2.7:53\", expect: drop, rule: blackhole }\n"	/* 16 pass */
	"  - { packet: \"out udp 198.51.100.1:53 --user 0\", expect: accept }\n"	/* 17 pass */
	"  - { packet: \"out udp 198.51.100.1:53\", expect: accept }\n"			/* 18 fail: reject by default */
	"  - { packet: \"in tcp 10.9.9.9:22 --from 10.1.1.1\", expect: accept }\n"	/* 19 pass */
	"  - { packet: \"in tcp 10.9.9.9:22 --from 11.1.1.1\", expect: accept }\n"	/* 20 fail */
	"  - { packet: \"in tcp 10.9.9.9:80 --from 11.1.1.1 --interface eth1\", expect: accept, rule: web-eth1 }\n" /* 21 pass */
	"  - { packet: \"in tcp 10.9.9.9:80 --from 11.1.1.1 --interface eth0\", expect: drop, rule: default }\n" /* 22 pass */
	"  - { packet: \"in tcp 10.9.9.9:80 --bogus 1\", expect: drop }\n";		/* 23 error */

static void run_policy_tests(void **state)
{
	static const enum test_status want[] = {
		TEST_PASS, TEST_FAIL, TEST_FAIL, TEST_PASS, TEST_PASS, TEST_PASS,
		TEST_FAIL, TEST_PASS, TEST_FAIL, TEST_PASS, TEST_PASS, TEST_ERROR,
	};
	struct policy *p = NULL;
	struct model *m = NULL;
	struct test_run r;
	struct diag d;
	size_t i;

	(void)state;
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", policy_yaml,
					    sizeof(policy_yaml) - 1, &d), 0);
	assert_int_equal(p->n_tests, sizeof(want) / sizeof(want[0]));
	assert_int_equal(compile_policy(p, &m, &d), 0);
	assert_int_equal(test_run(p, m, &r), 0);
	for (i = 0; i < r.n; i++)
		if (r.v[i].status != want[i])
			fail_msg("test at line %u: status %d, wanted %d (%s)",
				 r.v[i].t->loc.line, r.v[i].status, want[i],
				 r.v[i].message ? r.v[i].message : "");
	assert_int_equal(r.passed, 7);
	assert_int_equal(r.failed, 4);
	assert_int_equal(r.errors, 1);
	/* the failure names what decided instead, with its line */
	assert_string_equal(r.v[2].rule, "https");
	assert_string_equal(r.v[2].at, "t.yaml:4");
	assert_non_null(strstr(r.v[2].message, "expects reject by rule 'meta'"));
	assert_non_null(strstr(r.v[2].message, "says accept by rule 'https' (t.yaml:4)"));
	assert_string_equal(r.v[6].rule, "default");
	assert_string_equal(r.v[6].at, "t.yaml:2");
	/* errors land at the test's line and column, a bad packet at it */
	diag_release(&d);
	diag_init(&d);
	assert_int_equal(test_run_diag(&r, &d), 5);
	assert_int_equal(d.v[0].loc.line, 13);
	assert_int_equal(d.v[0].loc.col, 5);
	assert_int_equal(d.v[4].loc.line, 23);
	assert_int_equal(d.v[4].loc.col, 15);
	test_run_release(&r);
	diag_release(&d);
	diag_init(&d);
	assert_int_equal(policy_tests_check(p, &d), -EINVAL);
	assert_int_equal(d.errors, 5);
	diag_release(&d);
	model_free(m);
	policy_free(p);
}

static void structure_errors(void **state)
{
	static const char y[] =
		"portwarden: 1\n"
		"tests:\n"
		"  - { packet: \"out tcp 1.2.3.4:1\", expect: allow }\n"
		"  - { expect: accept }\n"
		"  - { packet: \"out tcp 1.2.3.4:1\" }\n"
		"  - { packet: \"out tcp 1.2.3.4:1\", expect: accept, rules: x }\n"
		"  - out tcp 1.2.3.4:1\n";
	struct policy *p = NULL;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "t.yaml", y, sizeof(y) - 1, &d), -EINVAL);
	assert_int_equal(d.errors, 5);
	diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(split_ok),
		cmocka_unit_test(split_bad),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(run_policy_tests),
		cmocka_unit_test(structure_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
