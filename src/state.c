// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The run lock and the records under RUN_DIR (see state.h): the rollback
 * record and the confirm timer's file, both in the line format of kv.h.
 *
 * Every file is replaced whole (temp file, fsync, rename), so a reader
 * sees the old record or the new one, never a part.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv.h"
#include "model_io.h"
#include "state.h"
#include "util.h"

#define STATE_FILE	"state"
#define NEXT_FILE	"state.new"	/* write-ahead: not current yet */
#define PENDING_FILE	"pending"

static int lock_open(int op)
{
	int fd;

	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(RUN_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, op) < 0) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

int run_trylock(void)
{
	return lock_open(LOCK_EX | LOCK_NB);
}

int run_lock(void)
{
	return lock_open(LOCK_EX);
}

void run_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int safe_state_dir(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(buf, len, RUN_DIR "/net-%llu",
			     (unsigned long long)st.st_ino) >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

/* Make a rename in @dir durable (a no-op on tmpfs, not on a disk). */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		ret = -errno;
	close(fd);
	return ret;
}

typedef int (*write_fn)(FILE *f, const void *arg);

/* Replace @dir/@name whole: a temp file in the same directory (named
 * .NAME.PID), synced, renamed over the old one, the directory synced. */
static int write_atomic(const char *dir, const char *name, write_fn fn,
			const void *arg)
{
	char *tmp = xasprintf("%s/.%s.%ld", dir, name, (long)getpid());
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = NULL;
	int fd, ret;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = fn(f, arg);
	if (ret < 0)
		goto fail;
	if (fflush(f) == EOF || fsync(fileno(f)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = fclose(f);
	f = NULL;
	if (ret) {
		ret = -EIO;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = sync_dir(dir);
	goto out;
fail:
	if (f)
		fclose(f);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return ret;
}

static FILE *open_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "re");

	free(path);
	return f;
}
static const char *const status_names[] = {
	[SAFE_APPLYING] = "applying",
	[SAFE_APPLIED] = "applied",
	[SAFE_ROLLED_BACK] = "rolled-back",
};

void safe_state_free(struct safe_state *st)
{
	if (!st)
		return;
	free(st->table);
	model_free(st->previous);
	model_free(st->applied);
	free(st);
}

/* "KEY NUMBER" */
static void put_num(struct kv_writer *w, const char *key, uint64_t v)
{
	kv_puts(w, key);
	kv_putc(w, ' ');
	kv_put_u64(w, v);
	kv_putc(w, '\n');
}

int safe_state_write(FILE *f, const struct safe_state *st)
{
	struct kv_writer *w = kv_writer_new(f);

	put_num(w, "portwarden-state", 1);
	put_num(w, "generation", st->generation);
	kv_puts(w, "status ");
	kv_puts(w, status_names[st->status]);
	kv_putc(w, '\n');
	put_num(w, "by-timer", st->by_timer ? 1 : 0);
	kv_puts(w, "time ");
	kv_put_i64(w, st->time);
	kv_puts(w, "\ntable");
	kv_put_str(w, st->table);
	kv_putc(w, '\n');
	if (st->kernel_gen) {
		kv_puts(w, "kernel-generation ");
		kv_put_u64(w, st->kernel_gen);
		kv_putc(w, ' ');
		kv_put_u64(w, st->netns_cookie);
		kv_putc(w, '\n');
	}
	if (st->begin_gen) {
		kv_puts(w, "begin-generation ");
		kv_put_u64(w, st->begin_gen);
		kv_putc(w, ' ');
		kv_put_u64(w, st->begin_cookie);
		kv_putc(w, '\n');
	}
	if (!st->previous) {
		kv_puts(w, "previous absent\n");
	} else {
		kv_puts(w, "previous\n");
		model_write_kv(w, st->previous);
	}
	if (!st->applied) {
		kv_puts(w, "applied absent\n");
	} else {
		kv_puts(w, "applied\n");
		model_write_kv(w, st->applied);
	}
	return kv_writer_finish(w);
}

static int state_write(FILE *f, const void *arg)
{
	return safe_state_write(f, arg);
}

static bool state_valid(const struct safe_state *st)
{
	return st->table && st->table[0] && !strpbrk(st->table, "\n\r") &&
	       (st->previous || st->applied) &&
	       (unsigned int)st->status < ARRAY_SIZE(status_names);
}

int safe_state_save(const char *dir, const struct safe_state *st)
{
	if (!state_valid(st))
		return -EINVAL;
	return write_atomic(dir, STATE_FILE, state_write, st);
}

int safe_state_save_next(const char *dir, const struct safe_state *st)
{
	if (!state_valid(st))
		return -EINVAL;
	return write_atomic(dir, NEXT_FILE, state_write, st);
}

int safe_state_promote(const char *dir)
{
	char *next = xasprintf("%s/%s", dir, NEXT_FILE);
	char *path = xasprintf("%s/%s", dir, STATE_FILE);
	int ret = rename(next, path) < 0 ? -errno : sync_dir(dir);

	free(next);
	free(path);
	return ret;
}

/* Leftovers of a writer that was killed: .state.PID, .state.new.PID,
 * .pending.PID, and .state.prev of older versions. Every writer holds
 * the run lock, so under it none of them is in use. */
static void remove_temp_files(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".state.", 7) ||
		    !strncmp(de->d_name, ".pending.", 9))
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

int safe_state_discard_next(const char *dir)
{
	char *next = xasprintf("%s/%s", dir, NEXT_FILE);
	int ret = unlink(next) < 0 ? -errno : 0;

	free(next);
	remove_temp_files(dir);
	return ret;
}

/* The next line, which must be "@key VALUE" (one token); @val: VALUE. */
static int read_kv(struct kv_reader *r, const char *key, const char **val)
{
	int ret = kv_read_line(r);

	if (ret < 0)
		return ret;
	if (!kv_is_word(&r->line, 0, key) || r->line.n != 2 ||
	    r->line.quoted[1])
		return -EINVAL;
	*val = r->line.tok[1];
	return 0;
}

static int read_u64(struct kv_reader *r, const char *key, uint64_t max,
		    uint64_t *out)
{
	const char *v;
	int ret = read_kv(r, key, &v);

	if (ret < 0)
		return ret;
	return kv_parse_u64(v, max, out);
}

/* A table: "NAME" or "-" (the table did not exist), with its line. */
static int read_table(struct kv_reader *r, const char *key, bool may_be_absent,
		      struct model **out)
{
	const struct kv_line *ln = &r->line;
	int ret = kv_read_line(r);

	*out = NULL;
	if (ret < 0)
		return ret;
	if (!kv_is_word(ln, 0, key))
		return -EINVAL;
	if (ln->n == 2 && may_be_absent && kv_is_word(ln, 1, "absent"))
		return 0;
	if (ln->n != 1)
		return -EINVAL;
	return model_read_kv(r, out);
}

static int state_read_kv(struct kv_reader *r, struct safe_state **out)
{
	const struct kv_line *ln = &r->line;
	struct safe_state *st = NULL;
	const char *v;
	uint64_t u;
	size_t i;
	int ret;

	*out = NULL;
	st = xcalloc(1, sizeof(*st));
	ret = read_u64(r, "portwarden-state", 1, &u);
	if (ret < 0 || u != 1)
		goto bad;
	ret = read_u64(r, "generation", UINT64_MAX, &st->generation);
	if (ret < 0)
		goto bad;
	ret = read_kv(r, "status", &v);
	if (ret < 0)
		goto bad;
	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(v, status_names[i]))
			break;
	if (i == ARRAY_SIZE(status_names))
		goto bad;
	st->status = (enum safe_status)i;
	ret = read_u64(r, "by-timer", 1, &u);
	if (ret < 0)
		goto bad;
	st->by_timer = u == 1;
	ret = read_kv(r, "time", &v);
	if (ret < 0 || kv_parse_i64(v, INT64_MIN, INT64_MAX, &st->time) < 0)
		goto bad;
	/* the name quoted, or bare as older records wrote it */
	ret = kv_read_line(r);
	if (ret < 0 || !kv_is_word(ln, 0, "table") || ln->n != 2 ||
	    !ln->tok[1][0] || (!ln->quoted[1] && !strcmp(ln->tok[1], "-")) ||
	    strpbrk(ln->tok[1], "\n\r"))
		goto bad;
	st->table = xstrdup(ln->tok[1]);
	/* optional: "kernel-generation GEN COOKIE" */
	ret = kv_read_line(r);
	if (ret < 0)
		goto bad;
	if (kv_is_word(ln, 0, "kernel-generation")) {
		if (ln->n != 3 || ln->quoted[1] || ln->quoted[2] ||
		    kv_parse_u64(ln->tok[1], UINT32_MAX, &u) < 0 || !u ||
		    kv_parse_u64(ln->tok[2], UINT64_MAX, &st->netns_cookie) < 0)
			goto bad;
		st->kernel_gen = (uint32_t)u;
		ret = kv_read_line(r);
		if (ret < 0)
			goto bad;
	}
	/* optional: "begin-generation GEN COOKIE" */
	if (kv_is_word(ln, 0, "begin-generation")) {
		if (ln->n != 3 || ln->quoted[1] || ln->quoted[2] ||
		    kv_parse_u64(ln->tok[1], UINT32_MAX, &u) < 0 || !u ||
		    kv_parse_u64(ln->tok[2], UINT64_MAX, &st->begin_cookie) < 0)
			goto bad;
		st->begin_gen = (uint32_t)u;
		ret = kv_read_line(r);
		if (ret < 0)
			goto bad;
	}
	if (!kv_is_word(ln, 0, "previous"))
		goto bad;
	if (ln->n == 2 && kv_is_word(ln, 1, "absent"))
		st->previous = NULL;
	else if (ln->n != 1 || model_read_kv(r, &st->previous) < 0)
		goto bad;
	ret = read_table(r, "applied", true, &st->applied);
	if (ret < 0 || (!st->previous && !st->applied))
		goto bad;
	if ((st->applied && strcmp(st->applied->table, st->table)) ||
	    (st->previous && strcmp(st->previous->table, st->table)))
		goto bad;
	*out = st;
	return 0;
bad:
	safe_state_free(st);
	return ferror(r->f) ? -EIO : -EINVAL;
}

int safe_state_read(FILE *f, struct safe_state **out)
{
	struct kv_reader r;
	int ret;

	kv_reader_init(&r, f);
	ret = state_read_kv(&r, out);
	kv_reader_release(&r);
	return ret;
}

static int load_file(const char *dir, const char *name,
		     struct safe_state **out)
{
	FILE *f;
	int ret;

	*out = NULL;
	f = open_in(dir, name);
	if (!f)
		return -errno;
	ret = safe_state_read(f, out);
	fclose(f);
	return ret;
}

int safe_state_load(const char *dir, struct safe_state **out)
{
	return load_file(dir, STATE_FILE, out);
}

int safe_state_load_next(const char *dir, struct safe_state **out)
{
	return load_file(dir, NEXT_FILE, out);
}

int safe_state_generation(const char *dir, uint64_t *gen)
{
	struct kv_reader r;
	uint64_t u;
	FILE *f;
	int ret;

	f = open_in(dir, STATE_FILE);
	if (!f)
		return -errno;
	kv_reader_init(&r, f);
	ret = read_u64(&r, "portwarden-state", 1, &u);
	if (!ret && u != 1)
		ret = -EINVAL;
	if (!ret)
		ret = read_u64(&r, "generation", UINT64_MAX, gen);
	if (ret == -ENODATA)
		ret = -EINVAL;
	kv_reader_release(&r);
	fclose(f);
	return ret;
}

bool safe_state_is_live(const struct safe_state *st, struct nl_sock *s)
{
	uint64_t cookie;
	uint32_t gen;

	if (!st || st->status != SAFE_APPLIED || !st->kernel_gen ||
	    !st->applied)
		return false;
	return nl_get_generation(s, &gen) == 0 && gen == st->kernel_gen &&
	       nl_netns_cookie(s, &cookie) == 0 && cookie == st->netns_cookie;
}

/* ---- the confirm timer's record ----------------------------------------- */

static int pending_write(FILE *f, const void *arg)
{
	const struct safe_pending *p = arg;
	struct kv_writer *w = kv_writer_new(f);

	put_num(w, "portwarden-pending", 1);
	put_num(w, "generation", p->generation);
	kv_puts(w, "deadline ");
	kv_put_i64(w, p->deadline);
	kv_putc(w, '\n');
	put_num(w, "pid", (uint64_t)p->pid);
	return kv_writer_finish(w);
}

int safe_pending_save(const char *dir, const struct safe_pending *p)
{
	return write_atomic(dir, PENDING_FILE, pending_write, p);
}

int safe_pending_load(const char *dir, struct safe_pending *p)
{
	struct kv_reader r;
	const char *v;
	uint64_t u;
	FILE *f;
	int ret;

	memset(p, 0, sizeof(*p));
	f = open_in(dir, PENDING_FILE);
	if (!f)
		return -errno;
	kv_reader_init(&r, f);
	ret = read_u64(&r, "portwarden-pending", 1, &u);
	if (!ret && u != 1)
		ret = -EINVAL;
	if (!ret)
		ret = read_u64(&r, "generation", UINT64_MAX, &p->generation);
	if (!ret)
		ret = read_kv(&r, "deadline", &v);
	if (!ret)
		ret = kv_parse_i64(v, INT64_MIN, INT64_MAX, &p->deadline);
	if (!ret)
		ret = read_u64(&r, "pid", INT32_MAX, &u);
	if (!ret)
		p->pid = (pid_t)u;
	if (ret == -ENODATA)
		ret = -EINVAL;
	kv_reader_release(&r);
	fclose(f);
	return ret;
}

int safe_pending_clear(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, PENDING_FILE);
	int ret = unlink(path) < 0 ? -errno : 0;

	free(path);
	return ret;
}
