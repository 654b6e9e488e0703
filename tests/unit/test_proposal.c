// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * learn's pieces without a host: monitor's JSON lines read back (good,
 * null and nested fields; every malformed shape refused), and the
 * proposal: connections counted once, /24 and /64 widening at
 * PROPOSAL_WIDEN_MIN distinct addresses and not below, rules per port and
 * owner, and a policy that check accepts and whose tests pass.
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

#include "mon_event.h"
#include "model.h"
#include "policy.h"
#include "proposal.h"
#include "testrun.h"

static int parse(const char *s, struct mon_event *ev)
{
	return mon_event_parse(s, strlen(s), ev);
}

static void event_good(void **state)
{
	struct mon_event ev;

	(void)state;
	assert_int_equal(parse("{\"time\": \"2026-11-30T03:00:00.123456Z\", \"kind\": \"denied\", "
			       "\"dir\": \"out\", \"proto\": \"tcp\", \"src\": \"10.0.0.1:4000\", "
			       "\"dst\": \"[fd00::1]:443\", \"uid\": 65534, \"gid\": null, "
			       "\"comm\": \"cu\\u0001rl\\u00e9\", \"cgroup\": \"/system.slice/a.service\", "
			       "\"staged\": {\"verdict\": \"accept\", \"x\": [1, [2, {}]]}, \"ok\": true}", &ev), 0);
	assert_string_equal(ev.kind, "denied");
	assert_string_equal(ev.dir, "out");
	assert_string_equal(ev.dst, "[fd00::1]:443");
	assert_true(ev.has_uid);
	assert_int_equal(ev.uid, 65534);
	assert_string_equal(ev.comm, "cu?rl?");
	assert_string_equal(ev.cgroup, "system.slice/a.service");
	assert_true(ev.has_time);
	assert_int_equal(ev.time, 1796007600);	/* 2026-11-30T03:00:00Z */
	assert_int_equal(parse("{\"uid\": null, \"kind\": null}", &ev), 0);
	assert_false(ev.has_uid);
	assert_string_equal(ev.kind, "");
	assert_int_equal(parse("  {}  ", &ev), 0);
	/* a learned event: the name and the first MON_EVENT_MAX_ADDRS addresses */
	assert_int_equal(parse("{\"kind\": \"learned\", \"name\": \"example.com\", "
			       "\"addresses\": [\"93.184.216.34\", \"2606:2800:220:1::1\"], \"ttl\": 300}",
			       &ev), 0);
	assert_string_equal(ev.name, "example.com");
	assert_int_equal(ev.n_addrs, 2);
	assert_string_equal(ev.addrs[1], "2606:2800:220:1::1");
	assert_int_equal(parse("{\"addresses\": [\"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", "
			       "\"9\", \"10\", \"11\", \"12\", \"13\", \"14\", \"15\", \"16\", \"17\", \"18\"]}",
			       &ev), 0);
	assert_int_equal(ev.n_addrs, MON_EVENT_MAX_ADDRS);
	assert_string_equal(ev.addrs[15], "16");
	assert_int_equal(parse("{\"addresses\": []}", &ev), 0);
	assert_int_equal(ev.n_addrs, 0);
	assert_int_equal(parse("{\"addresses\": [1]}", &ev), -EINVAL);
	assert_int_equal(parse("{\"addresses\": [\"a\",]}", &ev), -EINVAL);
	assert_int_equal(parse("{\"addresses\": \"a\"}", &ev), -EINVAL);
}

static void event_bad(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{", "{\"kind\": \"denied\"", "{\"kind\": \"denied\"} x",
		"{\"kind\": \"den\nied\"}", "{\"kind\": \"abcdefghijklmnopq\"}",
		"{\"uid\": -1}", "{\"uid\": 4294967295}", "{\"uid\": 12345678901}",
		"{\"uid\": \"5\"}", "{\"time\": \"2026-13-30T03:00:00Z\"}",
		"{\"time\": \"yesterday\"}", "{\"kind\": \"\\x41\"}", "{\"kind\": \"\\u12\"}",
		"{\"a\": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}", "{\"a\" 1}", "{\"a\": 1,}",
		"{\"a\": \"unterminated}",
	};
	struct mon_event ev;
	char big[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &ev) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
	snprintf(big, sizeof(big), "{\"src\": \"%0100d\"}", 1);
	assert_int_equal(parse(big, &ev), -EINVAL);
	/* the length is the line's, not the NUL's */
	assert_int_equal(mon_event_parse("{}xyz", 2, &ev), 0);
}

static struct cidr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct cidr x = { .family = 4, .plen = 32, .addr = { a, b, c, d } };

	return x;
}

/* the proposal as text, loaded back as a policy */
static char *write_policy(struct proposal *p, struct policy **pol)
{
	struct proposal_stats st = { .start = 1796007600, .end = 1796007660 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct diag d;

	assert_non_null(f);
	assert_int_equal(proposal_write(p, &st, f), 0);
	fclose(f);
	diag_init(&d);
	if (policy_load_buffer(pol, "learned.yaml", buf, len, &d) < 0) {
		diag_print(&d, stderr);
		fail_msg("the proposal does not load:\n%s", buf);
	}
	diag_release(&d);
	return buf;
}

static void proposal_widening(void **state)
{
	struct proposal *p = proposal_new();
	struct policy *pol = NULL;
	struct model *m = NULL;
	struct test_run r;
	struct diag d;
	struct cidr a, six = { .family = 6, .plen = 128,
			       .addr = { 0x20, 0x01, 0x0d, 0xb8 } };
	char *text;
	int i;

	(void)state;
	/* root: 200 connections to 200 hosts of 10.1.2.0/24, each seen in
	 * three snapshots; and 7 hosts of 10.9.9.0/24 (below the threshold) */
	for (i = 1; i <= 200; i++) {
		a = v4(10, 1, 2, (uint8_t)i);
		proposal_flow(p, DIR_OUT, 6, &a, 443, (uint16_t)(40000 + i), "user:root", 1796007600 + i);
		proposal_flow(p, DIR_OUT, 6, &a, 443, (uint16_t)(40000 + i), "user:root", 1796007601 + i);
		proposal_flow(p, DIR_OUT, 6, &a, 443, (uint16_t)(40000 + i), "user:root", 1796007602 + i);
	}
	for (i = 1; i <= PROPOSAL_WIDEN_MIN - 1; i++) {
		a = v4(10, 9, 9, (uint8_t)i);
		proposal_flow(p, DIR_OUT, 6, &a, 443, (uint16_t)(50000 + i), "user:root", 1796007600);
	}
	/* IPv6: 8 hosts of one /64 */
	for (i = 1; i <= PROPOSAL_WIDEN_MIN; i++) {
		six.addr[15] = (uint8_t)i;
		proposal_flow(p, DIR_OUT, 17, &six, 53, 5353, "user:nobody", 1796007600);
	}
	/* an inbound service */
	a = v4(0, 0, 0, 0);
	proposal_listener(p, 6, &a, 22, "sshd", 1796007600);
	a = v4(192, 0, 2, 7);
	proposal_flow(p, DIR_IN, 6, &a, 22, 51000, NULL, 1796007605);
	text = write_policy(p, &pol);
	assert_non_null(strstr(text, "  - name: out-tcp-443-root\n    proto: tcp\n    port: 443\n"
				     "    user: \"root\"\n    to: [\"10.1.2.0/24\", \"10.9.9.1\", \"10.9.9.2\", "
				     "\"10.9.9.3\", \"10.9.9.4\", \"10.9.9.5\", \"10.9.9.6\", \"10.9.9.7\"]\n"
				     "    comment: \"207 connections 2026-11-30T03:00:00Z to 2026-11-30T03:03:22Z; "
				     "a /24 widened from 200 addresses\"\n"));
	assert_non_null(strstr(text, "  # 10.1.2.0/24: widened from 200 addresses seen\n"));
	assert_non_null(strstr(text, "    to: [\"2001:db8::/64\"]\n"));
	assert_non_null(strstr(text, "  - { proto: tcp, port: 22, process: \"sshd\" }\n"));
	assert_non_null(strstr(text, "    comment: \"1 connection 2026-11-30T03:00:00Z to 2026-11-30T03:00:05Z\"\n"));
	assert_int_equal(pol->n_rules[DIR_OUT], 2);
	assert_int_equal(pol->n_rules[DIR_IN], 1);
	assert_int_equal(pol->n_listeners, 1);
	assert_int_equal(pol->n_tests, 3);
	/* its tests pass: each rule gets what it was learned from */
	diag_init(&d);
	assert_int_equal(compile_policy(pol, &m, &d), 0);
	assert_int_equal(test_run(pol, m, &r), 0);
	if (r.passed != 3)
		fail_msg("%zu of 3 tests pass:\n%s", r.passed, text);
	test_run_release(&r);
	diag_release(&d);
	model_free(m);
	policy_free(pol);
	free(text);
	proposal_free(p);
}

static void proposal_owners_and_names(void **state)
{
	struct proposal *p = proposal_new();
	struct policy *pol = NULL;
	struct cidr a = v4(198, 51, 100, 7);
	char *text;

	(void)state;
	proposal_flow(p, DIR_OUT, 6, &a, 8443, 40001, "user:root", 1796007600);
	proposal_flow(p, DIR_OUT, 6, &a, 8443, 40002, "user:nobody", 1796007600);
	proposal_flow(p, DIR_OUT, 6, &a, 8443, 40003, "cgroup:system.slice/a b.service", 1796007600);
	/* an inbound connection with no listener seen: no rule for it */
	proposal_flow(p, DIR_IN, 6, &a, 9999, 40004, NULL, 1796007600);
	text = write_policy(p, &pol);
	assert_int_equal(pol->n_rules[DIR_OUT], 3);
	assert_int_equal(pol->n_rules[DIR_IN], 0);
	assert_non_null(strstr(text, "name: out-tcp-8443-a_b.service\n"));
	assert_non_null(strstr(text, "    cgroup: \"system.slice/a b.service\"\n"));
	assert_non_null(strstr(text, "--cgroup 'system.slice/a b.service'"));
	assert_non_null(strstr(text, "No DNS (port 53) was seen"));
	policy_free(pol);
	free(text);
	/* the daemon's names: said next to the address */
	proposal_hostname(p, &a, "api.example.com");
	text = NULL;
	{
		struct proposal_stats st = { 0 };
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_int_equal(proposal_write(p, &st, f), 0);
		fclose(f);
	}
	assert_non_null(strstr(text, "  # 198.51.100.7 is api.example.com (learned by the daemon)\n"));
	assert_non_null(strstr(text, "    to: [\"198.51.100.7\"]\n"));
	free(text);
	proposal_free(p);
}

/* the tables are bounded: what does not fit is counted, the rest stays */
static void proposal_bounds(void **state)
{
	struct proposal *p = proposal_new();
	struct policy *pol = NULL;
	struct cidr a;
	char *text;
	unsigned int i;

	(void)state;
	for (i = 0; i < PROPOSAL_MAX_ADDRS + 100; i++) {
		a = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i);
		proposal_flow(p, DIR_OUT, 6, &a, 443, 40000, "user:root", 1796007600);
	}
	assert_int_equal(proposal_dropped(p), 100);
	text = write_policy(p, &pol);
	/* 65,536 addresses of 256 /24s: each /24 widened */
	assert_non_null(strstr(text, "    to: [\"10.0.0.0/24\", \"10.0.1.0/24\", "));
	assert_non_null(strstr(text, "# 100 observations did not fit"));
	assert_int_equal(pol->n_rules[DIR_OUT], 1);
	policy_free(pol);
	free(text);
	proposal_free(p);
	p = proposal_new();
	for (i = 0; i < PROPOSAL_MAX_GROUPS + 10; i++) {
		a = v4(192, 0, 2, 1);
		proposal_flow(p, DIR_OUT, 17, &a, (uint16_t)(1 + i), 40000, "user:root", 1796007600);
	}
	assert_int_equal(proposal_dropped(p), 10);
	proposal_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(event_good),
		cmocka_unit_test(event_bad),
		cmocka_unit_test(proposal_widening),
		cmocka_unit_test(proposal_owners_and_names),
		cmocka_unit_test(proposal_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
