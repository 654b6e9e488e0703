// SPDX-License-Identifier: GPL-2.0-or-later
/* logprefix.c: NFLOG prefixes naming a rule, written and read back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "logprefix.h"

static struct log_id id_of(enum logprefix_kind k, enum direction d,
			   enum verdict v, const char *name, const char *at)
{
	struct log_id id;

	memset(&id, 0, sizeof(id));
	id.kind = k;
	id.dir = d;
	id.verdict = v;
	snprintf(id.name, sizeof(id.name), "%s", name);
	snprintf(id.at, sizeof(id.at), "%s", at);
	return id;
}

static void roundtrip(const struct log_id *in, const char *want)
{
	char buf[LOGPREFIX_MAX + 1];
	struct log_id out;
	size_t n = logprefix_format(in, buf);

	assert_true(n <= LOGPREFIX_MAX);
	assert_int_equal(n, strlen(buf));
	if (want)
		assert_string_equal(buf, want);
	assert_int_equal(logprefix_parse(buf, n + 1, &out), 0);
	assert_int_equal(out.kind, in->kind);
	assert_int_equal(out.dir, in->dir);
	assert_int_equal(out.verdict, in->verdict);
	assert_int_equal(out.has_other, in->has_other);
	if (in->has_other)
		assert_int_equal(out.other, in->other);
	if (!out.name_cut)
		assert_string_equal(out.name, in->name);
}

static void test_plain(void **state)
{
	struct log_id id = id_of(LOGPREFIX_DENIED, DIR_OUT, VERDICT_DROP,
				 "block-smtp", "/etc/portwarden/p.yaml:12");

	(void)state;
	roundtrip(&id, "pw1 D out drop block-smtp /etc/portwarden/p.yaml:12");
	id = id_of(LOGPREFIX_DENIED, DIR_IN, VERDICT_REJECT, "default", "");
	roundtrip(&id, "pw1 D in reject default -");
	id = id_of(LOGPREFIX_STAGED, DIR_IN, VERDICT_DROP, "no80", "s.yaml:3");
	id.has_other = true;
	id.other = VERDICT_ACCEPT;
	roundtrip(&id, "pw1 S in drop no80 s.yaml:3 accept");
}

static void test_escaped(void **state)
{
	struct log_id id = id_of(LOGPREFIX_LOGGED, DIR_IN, VERDICT_ACCEPT,
				 "web server\n%x", "/a b/p.yaml:7");
	char buf[LOGPREFIX_MAX + 1];
	struct log_id out;

	(void)state;
	roundtrip(&id, "pw1 L in accept web%20server%0A%25x /a%20b/p.yaml:7");
	logprefix_format(&id, buf);
	assert_int_equal(logprefix_parse(buf, strlen(buf), &out), 0);
	assert_string_equal(out.at, "/a b/p.yaml:7");
}

static void test_long(void **state)
{
	char name[LOGPREFIX_NAME_MAX + 1], at[LOGPREFIX_AT_MAX + 1];
	char buf[LOGPREFIX_MAX + 1];
	struct log_id id, out;

	(void)state;
	memset(name, 'n', 100);
	name[100] = '\0';
	snprintf(at, sizeof(at), "/etc/portwarden/%s/policy.yaml:1234",
		 "some/very/long/directory/path/that/goes/on/and/on");
	id = id_of(LOGPREFIX_DENIED, DIR_OUT, VERDICT_REJECT, name, at);
	logprefix_format(&id, buf);
	assert_true(strlen(buf) <= LOGPREFIX_MAX);
	assert_int_equal(logprefix_parse(buf, strlen(buf), &out), 0);
	/* directories go first, then the name is cut, marked as cut */
	assert_string_equal(out.at, "policy.yaml:1234");
	assert_true(out.name_cut);
	assert_int_equal(strncmp(out.name, name, strlen(out.name)), 0);
	/* a cut never splits an escape */
	memset(name, ' ', 100);
	id = id_of(LOGPREFIX_DENIED, DIR_OUT, VERDICT_REJECT, name, at);
	logprefix_format(&id, buf);
	assert_int_equal(logprefix_parse(buf, strlen(buf), &out), 0);
	assert_true(out.name_cut);
	/* a file name that leaves no room is dropped */
	memset(at, 'f', 120);
	strcpy(at + 120, ":1");
	id = id_of(LOGPREFIX_DENIED, DIR_OUT, VERDICT_DROP, "r", at);
	roundtrip(&id, "pw1 D out drop r -");
}

static void test_reject_foreign(void **state)
{
	static const char *bad[] = {
		"", "pw1", "portwarden ssh: ", "pw1 D in drop x",
		"pw1 D in drop x - extra more", "pw1 X in drop x -",
		"pw1 D up drop x -", "pw1 D in allow x -", "pw1 D in drop x%2 -",
		"pw1 D in drop x%00 -", "pw1 D in drop x%zz -",
		"pw1 D in drop x -  ", "pw1  D in drop x -", "pw1 D in drop x -\n",
		"pw1 S in drop x -", "pw1 D in drop x - accept",
		"pw1 D in drop a\x01 -",
	};
	struct log_id id;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(logprefix_parse(bad[i], strlen(bad[i]), &id),
				 -EINVAL);
	/* embedded NUL */
	assert_int_equal(logprefix_parse("pw1 D in drop x\0 -", 18, &id),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escaped),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_reject_foreign),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
