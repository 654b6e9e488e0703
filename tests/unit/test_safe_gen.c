// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rollback record's "kernel-generation GEN COOKIE" line (state.c): it
 * round-trips, a record without it (older portwarden) still loads with
 * the generation unknown, and a damaged one makes the record unreadable
 * rather than trusted. No kernel needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>
#include <cmocka.h>

#include "model.h"
#include "rollback.h"
#include "state.h"
#include "util.h"

static char *make_dir(void)
{
	char *dir = xstrdup("/tmp/pw-test-safe-gen.XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_dir(char *dir)
{
	char *path = xasprintf("%s/state", dir);

	unlink(path);
	free(path);
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

static bool exists(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	bool ret = access(path, F_OK) == 0;

	free(path);
	return ret;
}

static void write_file(const char *dir, const char *text)
{
	char *path = xasprintf("%s/state", dir);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

#define HEAD "portwarden-state 1\ngeneration 3\nstatus applied\nby-timer 0\n" \
	     "time 5\ntable t\n"
#define TAIL "previous absent\napplied\nmodel 1\ntable \"t\"\nend\n"

static void test_round_trip(void **state)
{
	struct safe_state st = {
		.generation = 9,
		.status = SAFE_APPLIED,
		.table = "t",
		.kernel_gen = 4000000000u,
		.netns_cookie = 18446744073709551615ull,
	}, *back = NULL;
	char *dir = make_dir();

	st.applied = model_new("t");
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->kernel_gen, 4000000000u);
	assert_true(back->netns_cookie == 18446744073709551615ull);
	assert_int_equal(back->generation, 9);
	assert_null(back->previous);
	safe_state_free(back);

	/* unknown generation: no line, loads as 0 */
	st.kernel_gen = 0;
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->kernel_gen, 0);
	assert_true(back->netns_cookie == 0);
	safe_state_free(back);

	model_free(st.applied);
	remove_dir(dir);
}

static void test_old_and_damaged(void **state)
{
	static const char *const bad[] = {
		HEAD "kernel-generation\n" TAIL,
		HEAD "kernel-generation 5\n" TAIL,
		HEAD "kernel-generation 0 1\n" TAIL,
		HEAD "kernel-generation 4294967296 1\n" TAIL,
		HEAD "kernel-generation -1 1\n" TAIL,
		HEAD "kernel-generation 5 x\n" TAIL,
		HEAD "kernel-generation 5 1 2\n" TAIL,
		HEAD "kernel-generation 5 1\nkernel-generation 5 1\n" TAIL,
		HEAD "previousabsent\napplied\nmodel 1\ntable \"t\"\nend\n",
	};
	struct safe_state *st = NULL;
	char *dir = make_dir();
	size_t i;

	write_file(dir, HEAD TAIL);
	assert_int_equal(safe_state_load(dir, &st), 0);
	assert_int_equal(st->kernel_gen, 0);
	safe_state_free(st);

	write_file(dir, HEAD "kernel-generation 12 34\n" TAIL);
	assert_int_equal(safe_state_load(dir, &st), 0);
	assert_int_equal(st->kernel_gen, 12);
	assert_true(st->netns_cookie == 34);
	safe_state_free(st);

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		write_file(dir, bad[i]);
		st = (void *)1;
		assert_int_equal(safe_state_load(dir, &st), -EINVAL);
		assert_null(st);
	}
	remove_dir(dir);
}

/* Without a socket question: records that cannot describe the live table. */
static void test_is_live_needs_applied_gen(void **state)
{
	struct safe_state st = { .status = SAFE_APPLYING, .kernel_gen = 5 };

	assert_false(safe_state_is_live(NULL, NULL));
	assert_false(safe_state_is_live(&st, NULL));	/* not applied */
	st.status = SAFE_APPLIED;
	st.kernel_gen = 0;
	assert_false(safe_state_is_live(&st, NULL));	/* gen unknown */
	st.kernel_gen = 5;
	assert_false(safe_state_is_live(&st, NULL));	/* no table */
}

/*
 * The write-ahead record: state.new is written beside the current record
 * and changes nothing until promoted; promotion replaces the record whole;
 * discarding leaves the current one and removes a killed writer's temp
 * files. A flush record (no table applied) and the begin generation
 * round-trip; a record with neither table is refused.
 */
static void test_write_ahead(void **state)
{
	struct safe_state old = { .generation = 1, .status = SAFE_APPLIED,
				  .table = "t" };
	struct safe_state nx = { .generation = 2, .status = SAFE_APPLIED,
				 .table = "t", .begin_gen = 77,
				 .begin_cookie = 5 };
	struct safe_state *back = NULL;
	char *dir = make_dir(), *tmp;
	FILE *f;

	old.applied = model_new("t");
	nx.previous = old.applied;	/* flush: the table goes */
	assert_int_equal(safe_state_save(dir, &old), 0);
	assert_int_equal(safe_state_load_next(dir, &back), -ENOENT);
	assert_int_equal(safe_state_save_next(dir, &nx), 0);
	assert_true(exists(dir, "state.new"));
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 1);		/* not current yet */
	safe_state_free(back);
	assert_int_equal(safe_state_load_next(dir, &back), 0);
	assert_int_equal(back->generation, 2);
	assert_null(back->applied);
	assert_non_null(back->previous);
	assert_int_equal(back->begin_gen, 77);
	assert_true(back->begin_cookie == 5);
	safe_state_free(back);

	/* discard: the current record stays, temp files of a killed writer go */
	tmp = xasprintf("%s/.state.new.12345", dir);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("portwarden-state 1\n", f);
	fclose(f);
	assert_int_equal(safe_state_discard_next(dir), 0);
	assert_false(exists(dir, "state.new"));
	assert_false(exists(dir, ".state.new.12345"));
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 1);
	safe_state_free(back);
	assert_int_equal(safe_state_discard_next(dir), -ENOENT);
	assert_int_equal(safe_state_promote(dir), -ENOENT);

	/* promote: the new record is current, whole */
	assert_int_equal(safe_state_save_next(dir, &nx), 0);
	assert_int_equal(safe_state_promote(dir), 0);
	assert_false(exists(dir, "state.new"));
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 2);
	assert_null(back->applied);
	safe_state_free(back);

	/* without a leftover record, recovery needs no kernel and leaves the
	 * record alone */
	f = fopen(tmp, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(safe_recover(dir, NULL), 0);
	assert_false(exists(dir, ".state.new.12345"));
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 2);
	safe_state_free(back);
	/* a damaged leftover (cut short while written) is dropped */
	write_file(dir, HEAD "previous absent\napplied absent\n");
	assert_int_equal(safe_state_load(dir, &back), -EINVAL);
	assert_int_equal(safe_state_save(dir, &old), 0);
	{
		char *next = xasprintf("%s/state.new", dir);

		f = fopen(next, "w");
		assert_non_null(f);
		fputs(HEAD "previous absent\napplied\nmodel 1\n", f);
		fclose(f);
		free(next);
	}
	assert_int_equal(safe_recover(dir, NULL), 0);
	assert_false(exists(dir, "state.new"));
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 1);
	safe_state_free(back);

	/* neither table: not a record */
	nx.previous = NULL;
	assert_int_equal(safe_state_save_next(dir, &nx), -EINVAL);

	model_free(old.applied);
	free(tmp);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_and_damaged),
		cmocka_unit_test(test_is_live_needs_applied_gen),
		cmocka_unit_test(test_write_ahead),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
