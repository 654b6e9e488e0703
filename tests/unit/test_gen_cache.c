// SPDX-License-Identifier: GPL-2.0-or-later
/* gen_cache: the ruleset generation cache in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "gen_cache.h"

static void test_store_hit(void **state)
{
	char dir[] = "/tmp/pwgencache.XXXXXX", *path;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_false(gen_cache_hit(dir, 7, "t", 5, 0xabc));
	assert_int_equal(gen_cache_store(dir, 7, "t", 5, 0xabc), 0);
	assert_true(gen_cache_hit(dir, 7, "t", 5, 0xabc));
	/* another generation, model, namespace or table: no */
	assert_false(gen_cache_hit(dir, 7, "t", 6, 0xabc));
	assert_false(gen_cache_hit(dir, 7, "t", 5, 0xabd));
	assert_false(gen_cache_hit(dir, 8, "t", 5, 0xabc));
	assert_false(gen_cache_hit(dir, 7, "u", 5, 0xabc));
	/* an unknown generation is never stored */
	assert_int_equal(gen_cache_store(dir, 7, "t", 0, 0x123), 0);
	assert_true(gen_cache_hit(dir, 7, "t", 5, 0xabc));
	/* a newer store replaces the entry */
	assert_int_equal(gen_cache_store(dir, 7, "t", 9, 0x123), 0);
	assert_false(gen_cache_hit(dir, 7, "t", 5, 0xabc));
	assert_true(gen_cache_hit(dir, 7, "t", 9, 0x123));
	/* a damaged file is a miss */
	assert_true(asprintf(&path, "%s/gen-%016x-t", dir, 7) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);
	assert_false(gen_cache_hit(dir, 7, "t", 9, 0x123));
	unlink(path);
	free(path);
	/* a directory that cannot be written: an error, not a crash */
	assert_true(gen_cache_store("/nonexistent/dir", 7, "t", 1, 1) < 0);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_hit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
