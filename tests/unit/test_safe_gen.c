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
#include "kv.h"
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

/* The record's numbers: plain decimal within bounds, nothing else. */
static void test_kv_numbers(void **state)
{
	uint64_t u;
	int64_t i;
	bool b;

	assert_int_equal(kv_parse_u64("18446744073709551615", UINT64_MAX, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(kv_parse_u64("18446744073709551616", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64("4294967296", UINT32_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64("", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64("+1", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64(" 1", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64("1a", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_u64("-1", UINT64_MAX, &u), -EINVAL);
	assert_int_equal(kv_parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(kv_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &i), 0);
	assert_true(i == INT64_MAX);
	assert_int_equal(kv_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &i), -EINVAL);
	assert_int_equal(kv_parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &i), -EINVAL);
	assert_int_equal(kv_parse_i64("-2147483649", INT32_MIN, INT32_MAX, &i), -EINVAL);
	assert_int_equal(kv_parse_i64("-", INT64_MIN, INT64_MAX, &i), -EINVAL);
	assert_int_equal(kv_parse_i64("-1", 0, 5, &i), -EINVAL);
	assert_int_equal(kv_parse_bool("1", &b), 0);
	assert_true(b);
	assert_int_equal(kv_parse_bool("2", &b), -EINVAL);
}

/* Strings survive any byte but NUL; the reader refuses what the writer
 * never writes. */
static void test_kv_strings(void **state)
{
	struct kv_reader r;
	char *buf = NULL, *s = NULL;
	size_t len = 0;
	struct kv_writer *w;
	FILE *f;

	f = open_memstream(&buf, &len);
	w = kv_writer_new(f);
	kv_puts(w, "k");
	kv_put_str(w, "a\\\"b\n\xc3\xa9");
	kv_put_str(w, NULL);
	kv_put_str(w, "");
	kv_putc(w, '\n');
	assert_int_equal(kv_writer_finish(w), 0);
	fclose(f);
	assert_string_equal(buf, "k \"a\\\\\\\"b\\x0a\\xc3\\xa9\" - \"\"\n");
	f = fmemopen(buf, len, "r");
	kv_reader_init(&r, f);
	assert_int_equal(kv_read_line(&r), 0);
	assert_int_equal(r.line.n, 4);
	assert_int_equal(kv_parse_str(&r.line, 1, &s), 0);
	assert_string_equal(s, "a\\\"b\n\xc3\xa9");
	free(s);
	assert_int_equal(kv_parse_str(&r.line, 2, &s), 0);
	assert_null(s);
	assert_int_equal(kv_parse_str(&r.line, 3, &s), 0);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(kv_read_line(&r), -ENODATA);
	kv_reader_release(&r);
	fclose(f);
	free(buf);

	/* \x00, a bad escape, an unterminated string, a quoted keyword */
	{
		static const char *const bad[] = {
			"k \"a\\x00\"\n", "k \"a\\q\"\n", "k \"abc\n",
			"\"k\" 1\n", "k \"a\"b\n", "\n",
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			f = fmemopen((void *)bad[i], strlen(bad[i]), "r");
			kv_reader_init(&r, f);
			if (kv_read_line(&r) != -EINVAL)
				fail_msg("accepted: %s", bad[i]);
			kv_reader_release(&r);
			fclose(f);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_and_damaged),
		cmocka_unit_test(test_is_live_needs_applied_gen),
		cmocka_unit_test(test_write_ahead),
		cmocka_unit_test(test_kv_numbers),
		cmocka_unit_test(test_kv_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
