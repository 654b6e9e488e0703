// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The record of a staged policy (stage_state.h): written by apply
 * --stage, read by status and promote, removed by promote and unstage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv.h"
#include "stage_state.h"
#include "util.h"

void stage_state_free(struct stage_state *st)
{
	size_t i;

	if (!st)
		return;
	for (i = 0; i < st->n_sources; i++)
		free(st->sources[i]);
	free(st->sources);
	free(st->table);
	free(st);
}

static int path_of(const char *dir, const char *table, const char *suffix,
		   char *buf, size_t len)
{
	if (strchr(table, '/'))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/staged-%s%s", dir, table, suffix) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int stage_state_save(const char *dir, const struct stage_state *st)
{
	char path[512], tmp[512];
	struct kv_writer *w;
	FILE *f;
	size_t i;
	int ret;

	ret = path_of(dir, st->table, "", path, sizeof(path));
	if (!ret)
		ret = path_of(dir, st->table, ".new", tmp, sizeof(tmp));
	if (ret < 0)
		return ret;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	w = kv_writer_new(f);
	kv_puts(w, "staged");
	kv_put_str(w, st->table);
	kv_putc(w, ' ');
	kv_put_i64(w, st->time);
	kv_putc(w, ' ');
	kv_put_u64(w, st->hash);
	kv_putc(w, ' ');
	kv_put_u64(w, st->group);
	kv_putc(w, '\n');
	for (i = 0; i < st->n_sources; i++) {
		kv_puts(w, "source");
		kv_put_str(w, st->sources[i]);
		kv_putc(w, '\n');
	}
	ret = kv_writer_finish(w);
	if (fflush(f) != 0 && !ret)
		ret = -errno;
	if (fsync(fileno(f)) < 0 && !ret && errno != EINVAL)
		ret = -errno;
	if (fclose(f) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

int stage_state_load(const char *dir, const char *table,
		     struct stage_state **out)
{
	char path[512];
	FILE *f;
	int ret;

	*out = NULL;
	ret = path_of(dir, table, "", path, sizeof(path));
	if (ret < 0)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ret = stage_state_read(f, out);
	fclose(f);
	if (!ret && strcmp((*out)->table, table)) {
		stage_state_free(*out);
		*out = NULL;
		ret = -EINVAL;
	}
	return ret;
}

int stage_state_read(FILE *f, struct stage_state **out)
{
	struct stage_state *st;
	struct kv_reader r;
	size_t cap = 0;
	uint64_t u;
	int ret;

	*out = NULL;
	st = xcalloc(1, sizeof(*st));
	kv_reader_init(&r, f);
	ret = kv_read_line(&r);
	if (ret < 0 || r.line.n != 5 || !kv_is_word(&r.line, 0, "staged") ||
	    kv_parse_str(&r.line, 1, &st->table) < 0 || !st->table ||
	    kv_parse_i64(r.line.tok[2], 0, INT64_MAX, &st->time) < 0 ||
	    kv_parse_u64(r.line.tok[3], UINT64_MAX, &st->hash) < 0 ||
	    kv_parse_u64(r.line.tok[4], UINT16_MAX, &u) < 0) {
		ret = -EINVAL;
		goto out;
	}
	st->group = (uint16_t)u;
	while ((ret = kv_read_line(&r)) == 0) {
		char **slot;

		if (r.line.n != 2 || !kv_is_word(&r.line, 0, "source")) {
			ret = -EINVAL;
			goto out;
		}
		slot = ARRAY_PUSH(st->sources, st->n_sources, cap);
		*slot = NULL;
		if (kv_parse_str(&r.line, 1, slot) < 0 || !*slot) {
			ret = -EINVAL;
			goto out;
		}
	}
	ret = ret == -ENODATA ? 0 : ret;
out:
	kv_reader_release(&r);
	if (ret < 0)
		stage_state_free(st);
	else
		*out = st;
	return ret;
}

int stage_state_remove(const char *dir, const char *table)
{
	char path[512];
	int ret = path_of(dir, table, "", path, sizeof(path));

	if (ret < 0)
		return ret;
	return unlink(path) < 0 ? -errno : 0;
}
