// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's note of the last change to portwarden's table, for audit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drift_note.h"
#include "kv.h"
#include "util.h"

#define NOTE_FILE "last-change"

void drift_note_release(struct drift_note *n)
{
	if (!n)
		return;
	free(n->table);
	free(n->comm);
	free(n->what);
	memset(n, 0, sizeof(*n));
}

int drift_note_write(FILE *f, const struct drift_note *n)
{
	struct kv_writer *w = kv_writer_new(f);

	kv_puts(w, "table");
	kv_put_str(w, n->table);
	kv_puts(w, "\npid ");
	kv_put_u64(w, n->pid);
	kv_puts(w, "\ncomm");
	kv_put_str(w, n->comm);
	kv_puts(w, "\ntime ");
	kv_put_i64(w, n->time);
	kv_puts(w, "\ngeneration ");
	kv_put_u64(w, n->generation);
	kv_puts(w, "\nwhat");
	kv_put_str(w, n->what);
	kv_putc(w, '\n');
	return kv_writer_finish(w);
}

int drift_note_save(const char *dir, const struct drift_note *n)
{
	char *tmp = xasprintf("%s/" NOTE_FILE ".tmp", dir);
	char *path = xasprintf("%s/" NOTE_FILE, dir);
	FILE *f = NULL;
	int fd, ret;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	ret = drift_note_write(f, n);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
out:
	if (ret)
		unlink(tmp);
	free(tmp);
	free(path);
	return ret;
}

int drift_note_read(FILE *f, struct drift_note *n)
{
	struct kv_reader r;
	struct kv_line *ln = &r.line;
	unsigned int seen = 0, bit;
	uint64_t u;
	int ret;

	memset(n, 0, sizeof(*n));
	kv_reader_init(&r, f);
	while ((ret = kv_read_line(&r)) == 0) {
		if (ln->n != 2) {
			ret = -EINVAL;
			break;
		}
		if (kv_is_word(ln, 0, "table")) {
			bit = 1;
			ret = seen & bit ? -EINVAL : kv_parse_str(ln, 1, &n->table);
		} else if (kv_is_word(ln, 0, "pid")) {
			bit = 2;
			ret = kv_parse_u64(ln->tok[1], UINT32_MAX, &u);
			n->pid = (uint32_t)u;
		} else if (kv_is_word(ln, 0, "comm")) {
			bit = 4;
			ret = seen & bit ? -EINVAL : kv_parse_str(ln, 1, &n->comm);
		} else if (kv_is_word(ln, 0, "time")) {
			bit = 8;
			ret = kv_parse_i64(ln->tok[1], 0, INT64_MAX, &n->time);
		} else if (kv_is_word(ln, 0, "generation")) {
			bit = 16;
			ret = kv_parse_u64(ln->tok[1], UINT32_MAX, &u);
			n->generation = (uint32_t)u;
		} else if (kv_is_word(ln, 0, "what")) {
			bit = 32;
			ret = seen & bit ? -EINVAL : kv_parse_str(ln, 1, &n->what);
		} else {
			ret = -EINVAL;
		}
		if (ret < 0 || (seen & bit)) {
			ret = -EINVAL;
			break;
		}
		seen |= bit;
	}
	kv_reader_release(&r);
	if (ret == -ENODATA && seen == 63 && n->table)
		return 0;
	drift_note_release(n);
	return -EINVAL;
}

int drift_note_load(const char *dir, struct drift_note *n)
{
	char *path = xasprintf("%s/" NOTE_FILE, dir);
	FILE *f;
	int ret;

	f = fopen(path, "re");
	free(path);
	if (!f)
		return -errno;
	ret = drift_note_read(f, n);
	fclose(f);
	return ret;
}
