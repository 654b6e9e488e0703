// SPDX-License-Identifier: GPL-2.0-or-later
/* learn_table.c and learn_state.c: the daemon's learned addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "learn_state.h"
#include "learn_table.h"

static void v4(uint8_t a[16], uint32_t host)
{
	memset(a, 0, 16);
	host = htonl(host);
	memcpy(a, &host, 4);
}

static void test_table_bound_and_order(void **state)
{
	struct learn_table t;
	uint8_t a[16], ev[16];

	(void)state;
	learn_table_init(&t, "web_dns_v4", 4, 3);
	for (uint32_t i = 1; i <= 3; i++) {
		v4(a, i);
		assert_int_equal(learn_table_put(&t, a, "a.test", 100 + i, ev), 0);
	}
	assert_int_equal(t.n, 3);
	/* renewing 1 makes 2 the oldest */
	v4(a, 1);
	assert_int_equal(learn_table_put(&t, a, "b.test", 50, ev), 0);
	assert_int_equal(learn_table_find(&t, a)->expires, 101);	/* later kept */
	assert_string_equal(learn_table_find(&t, a)->name, "b.test");
	v4(a, 4);
	assert_int_equal(learn_table_put(&t, a, "a.test", 200, ev), 1);
	v4(a, 2);
	assert_memory_equal(ev, a, 4);
	assert_null(learn_table_find(&t, a));
	assert_int_equal(t.n, 3);
	/* expiry */
	assert_int_equal(learn_table_expire(&t, 150), 2);	/* 1 (101), 3 (103) */
	assert_int_equal(t.n, 1);
	v4(a, 4);
	assert_non_null(learn_table_find(&t, a));
	learn_table_del(&t, a);
	assert_int_equal(t.n, 0);
	assert_int_equal(learn_table_first(&t), LT_NONE);
	learn_table_release(&t);
}

static void test_table_many(void **state)
{
	struct learn_table t;
	uint8_t a[16], ev[16];
	size_t evicted = 0, seen = 0;

	(void)state;
	learn_table_init(&t, "s", 6, 50000);
	for (uint32_t i = 0; i < 60000; i++) {
		memset(a, 0, 16);
		a[0] = 0x20;
		memcpy(a + 12, &i, 4);
		evicted += (size_t)learn_table_put(&t, a, "x.test", i, ev);
	}
	assert_int_equal(evicted, 10000);
	assert_int_equal(t.n, 50000);
	for (uint32_t i = learn_table_first(&t); i != LT_NONE; i = learn_table_next(&t, i))
		seen++;
	assert_int_equal(seen, 50000);
	for (uint32_t i = 0; i < 60000; i += 997) {
		memset(a, 0, 16);
		a[0] = 0x20;
		memcpy(a + 12, &i, 4);
		if (i < 10000)
			assert_null(learn_table_find(&t, a));
		else
			assert_non_null(learn_table_find(&t, a));
	}
	learn_table_release(&t);
}

struct got {
	char names[8][64];
	struct learned_addr a[8];
	size_t n;
};

static void collect(void *ctx, const struct learned_addr *a)
{
	struct got *g = ctx;

	if (g->n < 8) {
		snprintf(g->names[g->n], sizeof(g->names[0]), "%s", a->name);
		g->a[g->n] = *a;
		g->n++;
	}
}

static void test_state_parse(void **state)
{
	static const char good[] =
		"portwarden-learned 1\n"
		"api.example.com 4 192.0.2.1 1790000000\n"
		"api.example.com 6 2001:db8::1 1790000001\n";
	static const char hostile[] =
		"portwarden-learned 1\n"
		"API.example.com 4 192.0.2.1 1\n"	/* upper case */
		"*.example.com 4 192.0.2.1 1\n"		/* a wildcard */
		"a.test 5 192.0.2.1 1\n"		/* family */
		"a.test 4 2001:db8::1 1\n"		/* wrong family */
		"a.test 4 192.0.2.1 -1\n"		/* negative */
		"a.test 4 192.0.2.1 99999999999999999999999\n"
		"a.test 4 192.0.2.1 1 extra\n"
		"a\x1b.test 4 192.0.2.1 1\n"
		"\n"
		"b.test 4 192.0.2.9 7\n"
		"c.test 4 192.0.2.1 1";			/* cut short */
	struct got g = { .n = 0 };
	size_t bad;
	char text[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(learn_state_parse(good, strlen(good), collect, &g, &bad), 2);
	assert_int_equal(bad, 0);
	assert_string_equal(g.names[1], "api.example.com");
	assert_int_equal(g.a[1].family, 6);
	assert_int_equal(g.a[1].expires, 1790000001);
	inet_ntop(AF_INET6, g.a[1].addr, text, sizeof(text));
	assert_string_equal(text, "2001:db8::1");
	g.n = 0;
	assert_int_equal(learn_state_parse(hostile, strlen(hostile), collect, &g, &bad), 1);
	assert_int_equal(bad, 9);
	assert_string_equal(g.names[0], "b.test");
	assert_int_equal(learn_state_parse("nonsense\n", 9, collect, &g, &bad), -EINVAL);
	assert_int_equal(learn_state_parse("", 0, collect, &g, &bad), -EINVAL);
}

static void test_state_round_trip(void **state)
{
	char dir[] = "/tmp/pw-learn-XXXXXX", path[256];
	struct learned_addr a = { .name = "a.b.test", .family = 6, .expires = 42 };
	struct got g = { .n = 0 };
	size_t bad;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv(STATE_DIR_ENV, dir, 1);
	assert_int_equal(learn_state_path(path, sizeof(path), "portwarden"), 0);
	unsetenv(STATE_DIR_ENV);
	assert_int_equal(learn_state_read(path, collect, &g, &bad), -ENOENT);
	inet_pton(AF_INET6, "fd00::7", a.addr);
	f = learn_state_open_tmp(path);
	assert_non_null(f);
	assert_int_equal(learn_state_write_header(f), 0);
	assert_int_equal(learn_state_write_line(f, &a), 0);
	assert_int_equal(learn_state_commit(f, path), 0);
	assert_int_equal(learn_state_read(path, collect, &g, &bad), 1);
	assert_int_equal(bad, 0);
	assert_string_equal(g.names[0], "a.b.test");
	assert_memory_equal(g.a[0].addr, a.addr, 16);
	assert_int_equal(g.a[0].expires, 42);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_bound_and_order),
		cmocka_unit_test(test_table_many),
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_state_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
