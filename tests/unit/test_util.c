// SPDX-License-Identifier: GPL-2.0-or-later
/* util.c: escaping of foreign text for text and JSON output (SPEC §6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void expect_text(const char *in, const char *want)
{
	char *got = text_escape(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_text_escape(void **state)
{
	(void)state;
	expect_text("sshd", "sshd");
	expect_text("\x1b[31mred\n", "\\x1b[31mred\\x0a");
	expect_text("a\tb\rc\x7f", "a\\x09b\\x0dc\\x7f");
	/* valid UTF-8 passes, C1 controls and broken sequences do not */
	expect_text("caf\xc3\xa9", "caf\xc3\xa9");
	expect_text("x\xc2\x9b" "2J", "x\\xc2\\x9b2J");
	expect_text("\xff\xfe", "\\xff\\xfe");
	expect_text("\xe2\x82", "\\xe2\\x82");		/* cut short */
	expect_text("\xc0\xaf", "\\xc0\\xaf");		/* overlong '/' */
	expect_text("\xed\xa0\x80", "\\xed\\xa0\\x80");	/* a surrogate */
	expect_text("\xf0\x9f\x94\xa5", "\xf0\x9f\x94\xa5");
	/* a backslash is left alone: systemd's own \x2d escapes stay */
	expect_text("dev-disk-by\\x2duuid", "dev-disk-by\\x2duuid");
	expect_text(NULL, "(null)");
}

static void expect_json(const char *in, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	json_string(f, in);
	fclose(f);
	assert_string_equal(buf, want);
	free(buf);
}

static void test_json_string(void **state)
{
	(void)state;
	expect_json("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect_json("\x1b[31m\n", "\"\\u001b[31m\\n\"");
	expect_json("\x7f", "\"\\u007f\"");
	expect_json("x\xc2\x9b", "\"x\\u009b\"");	/* C1: its code point */
	expect_json("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	expect_json("\xff", "\"\\u00ff\"");		/* never invalid UTF-8 */
	expect_json(NULL, "null");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_escape),
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
