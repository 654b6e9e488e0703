// SPDX-License-Identifier: GPL-2.0-or-later
/* stage_state.c: the record of a staged policy, written and read back;
 * damaged records are refused. */
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

#include "stage_state.h"

static void roundtrip(void **unused)
{
	char dir[] = "/tmp/pwstage.XXXXXX";
	char *src[] = { "/etc/portwarden/next", "/tmp/a \"quoted\"\tname.yaml" };
	struct stage_state st = { .table = "portwarden", .time = 1764480000,
				  .hash = UINT64_MAX - 7, .group = 65535,
				  .sources = src, .n_sources = 2 };
	struct stage_state *back = NULL;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(stage_state_save(dir, &st), 0);
	assert_int_equal(stage_state_load(dir, "portwarden", &back), 0);
	assert_string_equal(back->table, "portwarden");
	assert_int_equal(back->time, st.time);
	assert_true(back->hash == st.hash);
	assert_int_equal(back->group, 65535);
	assert_int_equal(back->n_sources, 2);
	assert_string_equal(back->sources[0], src[0]);
	assert_string_equal(back->sources[1], src[1]);
	stage_state_free(back);
	/* another table's record is another file */
	assert_int_equal(stage_state_load(dir, "other", &back), -ENOENT);
	assert_null(back);
	assert_int_equal(stage_state_remove(dir, "portwarden"), 0);
	assert_int_equal(stage_state_remove(dir, "portwarden"), -ENOENT);
	assert_int_equal(stage_state_load(dir, "portwarden", &back), -ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

static int read_text(const char *text, struct stage_state **out)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = stage_state_read(f, out);
	fclose(f);
	return ret;
}

static void refused(void **unused)
{
	static const char *const bad[] = {
		"",
		"staged \"portwarden\" 1 2\n",			/* no group */
		"staged \"portwarden\" 1 2 70000\n",		/* group > 65535 */
		"staged - 1 2 1000\n",				/* no table */
		"staged \"portwarden\" -1 2 1000\n",		/* negative time */
		"staged \"portwarden\" 1 2 1000\nsource\n",	/* no path */
		"staged \"portwarden\" 1 2 1000\nsource -\n",	/* NULL path */
		"staged \"portwarden\" 1 2 1000\npolicy \"x\"\n",	/* unknown line */
		"source \"x\"\nstaged \"portwarden\" 1 2 1000\n",	/* order */
	};
	struct stage_state *st = NULL;
	size_t i;

	(void)unused;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(read_text(bad[i], &st), -EINVAL);
		assert_null(st);
	}
	assert_int_equal(read_text("staged \"t\" 0 0 0\n", &st), 0);
	assert_int_equal(st->n_sources, 0);
	stage_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
