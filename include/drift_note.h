/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DRIFT_NOTE_H
#define PORTWARDEN_DRIFT_NOTE_H

#include <stdint.h>
#include <stdio.h>

/*
 * The last change to portwarden's table that `portwarden daemon` saw from
 * another process (or another portwarden command), so that `audit` can
 * name who changed the table. One small file per namespace state
 * directory (state.h): DIR/last-change, mode 0600, in the line format of
 * kv.h:
 *   table "portwarden"
 *   pid 1234
 *   comm "nft"
 *   time 1764470000
 *   generation 42
 *   what "table deleted"
 */
struct drift_note {
	char *table;
	uint32_t pid;
	char *comm;
	int64_t time;
	uint32_t generation;
	char *what;
};

void drift_note_release(struct drift_note *n);

/* Write @dir/last-change atomically: 0 or a negative errno. */
int drift_note_save(const char *dir, const struct drift_note *n);

/* Read @dir/last-change: 0, -ENOENT, -EINVAL (damaged), another -errno. */
int drift_note_load(const char *dir, struct drift_note *n);

/* Write @n to @f as drift_note_save() writes the file: 0 or -errno. */
int drift_note_write(FILE *f, const struct drift_note *n);

/* Parse a note from @f (the fuzz harness calls it): 0 or -EINVAL. */
int drift_note_read(FILE *f, struct drift_note *n);

#endif
