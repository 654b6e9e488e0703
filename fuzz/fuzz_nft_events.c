// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the daemon's two readers of outside bytes: the
 * nftables event parser (nft_events.c; datagrams of NFNLGRP_NFTABLES) and
 * the note of the last change (drift_note.c, RUN_DIR/net-INODE/last-change,
 * which audit reads). The first byte picks the reader. Neither may crash,
 * leak, or read past the buffer; a note that is read writes back to a
 * text that reads to the same note.
 *
 *   make BUILD=build fuzz
 *   build/fuzz_nft_events -max_total_time=30
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift_note.h"
#include "nft_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(const struct nft_ev *e, void *ctx)
{
	size_t *n = ctx;

	/* every string is terminated within its buffer */
	if (strlen(e->table) >= sizeof(e->table) ||
	    strlen(e->comm) >= sizeof(e->comm))
		__builtin_trap();
	++*n;
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void note(const uint8_t *data, size_t size)
{
	struct drift_note n, back;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = fmemopen((void *)data, size, "r");
	if (!f)
		return;
	if (drift_note_read(f, &n) < 0) {
		fclose(f);
		return;
	}
	fclose(f);
	f = open_memstream(&buf, &len);
	if (!f || drift_note_write(f, &n) < 0)
		abort();
	fclose(f);
	f = fmemopen(buf, len, "r");
	if (!f || drift_note_read(f, &back) < 0)
		__builtin_trap();	/* what we wrote must read */
	fclose(f);
	if (!same(n.table, back.table) || !same(n.comm, back.comm) ||
	    !same(n.what, back.what) || n.pid != back.pid ||
	    n.time != back.time || n.generation != back.generation)
		__builtin_trap();
	free(buf);
	drift_note_release(&back);
	drift_note_release(&n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0, bad = 0;
	void *copy;

	if (!size)
		return 0;
	if (data[0] & 1) {
		note(data + 1, size - 1);
		return 0;
	}
	/* an exact-size copy, so that ASan sees any read past the datagram */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	nft_ev_walk(copy, size - 1, count, &n, &bad);
	free(copy);
	return 0;
}
