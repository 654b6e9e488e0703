/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_STAGE_STATE_H
#define PORTWARDEN_STAGE_STATE_H

/*
 * The record of a staged policy, `<state dir>/staged-<table>` (state.h's
 * per-namespace directory under /run/portwarden), in kv.h's line format:
 *
 *   staged "portwarden" 1764480000 1234567890123 1000
 *   source "/etc/portwarden/next.yaml"
 *
 * (table, time it was staged, model_hash() of the compiled staged policy,
 * NFLOG group), then one line per policy path as given to apply --stage,
 * made absolute. `promote` loads the sources again and refuses when they
 * no longer compile to the same model; `status` shows them.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct stage_state {
	char *table;
	int64_t time;
	uint64_t hash;
	uint16_t group;
	char **sources;
	size_t n_sources;
};

void stage_state_free(struct stage_state *st);

/* Write @st atomically: 0 or a negative errno. */
int stage_state_save(const char *dir, const struct stage_state *st);

/* Read the record of @table: 0, -ENOENT, -EINVAL (malformed), -errno. */
int stage_state_load(const char *dir, const char *table,
		     struct stage_state **out);

/* Read a record from @f (untrusted bytes: fuzz/fuzz_state.c feeds it):
 * 0 or -EINVAL. */
int stage_state_read(FILE *f, struct stage_state **out);

/* Remove it: 0 or -ENOENT. */
int stage_state_remove(const char *dir, const char *table);

#endif
