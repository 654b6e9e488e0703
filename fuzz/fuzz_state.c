// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the rollback record reader (state.c, with the
 * model form of model_io.c and the line format of kv.c): any bytes in
 * RUN_DIR/net-INODE/state or state.new must be read as a record or
 * refused with -EINVAL, never crash, leak or take unbounded time. A record
 * that is read writes back to a text that reads to the same record. The
 * same bytes go to the reader of the staged-policy record (stage_state.c,
 * the same line format), which must read them or refuse them alike.
 *
 *   make BUILD=build fuzz
 *   build/fuzz_state -max_total_time=30 fuzz/corpus-state
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "stage_state.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* @st written out; the caller frees it. */
static char *to_text(const struct safe_state *st, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	if (safe_state_write(f, st) < 0)
		__builtin_trap();
	fclose(f);
	return buf;
}

static struct safe_state *from_text(const char *text, size_t len)
{
	struct safe_state *st = NULL;
	FILE *f = fmemopen((void *)text, len, "r");

	if (!f)
		abort();
	if (safe_state_read(f, &st) != 0)
		__builtin_trap();	/* what we wrote must read */
	fclose(f);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct safe_state *st = NULL, *back;
	char *text, *again;
	size_t len, len2;
	FILE *f;
	int ret;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	{
		struct stage_state *sst = NULL;

		ret = stage_state_read(f, &sst);
		if ((ret && (ret != -EINVAL || sst)) || (!ret && !sst->table))
			__builtin_trap();
		stage_state_free(sst);
	}
	rewind(f);
	ret = safe_state_read(f, &st);
	fclose(f);
	if (ret) {
		if (ret != -EINVAL || st)
			__builtin_trap();
		return 0;
	}
	text = to_text(st, &len);
	back = from_text(text, len);
	if (back->generation != st->generation || back->status != st->status ||
	    back->by_timer != st->by_timer || back->time != st->time ||
	    strcmp(back->table, st->table) ||
	    back->kernel_gen != st->kernel_gen ||
	    back->begin_gen != st->begin_gen ||
	    !back->previous != !st->previous || !back->applied != !st->applied ||
	    (st->previous && !model_equal(back->previous, st->previous)) ||
	    (st->applied && !model_equal(back->applied, st->applied)))
		__builtin_trap();
	/* and the text is a fixed point */
	again = to_text(back, &len2);
	if (len != len2 || memcmp(text, again, len))
		__builtin_trap();
	free(again);
	free(text);
	safe_state_free(back);
	safe_state_free(st);
	return 0;
}
