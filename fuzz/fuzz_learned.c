// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the daemon's learned-address file (learn_state.c):
 * any bytes in STATE_DIR/learned-TABLE are read line by line or refused,
 * never crash or read out of bounds, and every line accepted writes back
 * to a line that reads to the same address.
 *
 *   make BUILD=build fuzz
 *   build/fuzz_learned -max_total_time=30 fuzz/corpus-learned
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "learn_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct again {
	struct learned_addr a;
	int n;
};

static void same(void *ctx, const struct learned_addr *b)
{
	struct again *g = ctx;

	g->n++;
	if (b->family != g->a.family || b->expires != g->a.expires ||
	    memcmp(b->addr, g->a.addr, 16) != 0 || strcmp(b->name, g->a.name) != 0)
		__builtin_trap();
}

static void check(void *ctx, const struct learned_addr *a)
{
	struct again g = { .a = *a };
	char *buf = NULL;
	size_t len = 0, bad;
	FILE *f = open_memstream(&buf, &len);

	(void)ctx;
	if (!f)
		abort();
	if (a->family != 4 && a->family != 6)
		__builtin_trap();
	learn_state_write_header(f);
	learn_state_write_line(f, a);
	fclose(f);
	if (learn_state_parse(buf, len, same, &g, &bad) != 1 || g.n != 1 || bad)
		__builtin_trap();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t bad;

	learn_state_parse((const char *)data, size, check, NULL, &bad);
	return 0;
}
