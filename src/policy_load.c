// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Loading a policy: files and conf.d directories are read (refusing what
 * others could have written), each parsed into a YAML tree
 * (policy_parse.c), the trees checked and merged in order
 * (policy_check.c), and the diagnostics of the run put in file, line and
 * column order, as a compiler prints them.
 *
 * This is the top of the policy front end: it calls down into the parser
 * and the checker, and nothing below calls back up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy_check.h"
#include "policy_parse.h"
#include "util.h"


/*
 * Like pfctl, refuse a policy that someone other than root or the caller
 * could have written: whoever can edit it controls the firewall.
 */
static int check_owner(const char *path, const struct stat *st, bool dir,
		       struct diag *d)
{
	struct loc l = { path, 0, 0 };

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		diag_error(d, &l, "refusing a %s-writable policy %s; fix: chmod go-w %s",
			   (st->st_mode & S_IWOTH) ? "world" : "group",
			   dir ? "directory" : "file", path);
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		diag_error(d, &l, "refusing a policy %s owned by uid %u (neither root nor you); fix: chown root %s",
			   dir ? "directory" : "file", (unsigned int)st->st_uid,
			   path);
		return -EPERM;
	}
	return 0;
}

static int read_fd(int fd, const char *path, const struct stat *st,
		   char **buf, size_t *len, struct diag *d)
{
	struct loc l = { path, 0, 0 };
	size_t cap, n = 0;
	char *p;
	ssize_t r;

	if (st->st_size > (off_t)POLICY_MAX_FILE_SIZE) {
		diag_error(d, &l, "file is larger than %u MiB (file size limit)",
			   POLICY_MAX_FILE_SIZE >> 20);
		return -EPERM;	/* invalid, not a runtime failure */
	}
	cap = (size_t)st->st_size + 1;
	p = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > POLICY_MAX_FILE_SIZE) {
				free(p);
				diag_error(d, &l, "file is larger than %u MiB (file size limit)",
					   POLICY_MAX_FILE_SIZE >> 20);
				return -EPERM;	/* invalid, not a runtime failure */
			}
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(p);
			diag_error(d, &l, "cannot read: %s", strerror(-err));
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	*buf = p;
	*len = n;
	return 0;
}

/*
 * Results of loading, from good to bad: 0; -EINVAL, parsed with errors
 * (checking goes on, to report everything); -EPERM, refused or unusable
 * (the policy is invalid and is not checked); any other errno, a file
 * could not be read (a runtime failure, which outranks an invalid policy).
 */
static int worse(int a, int b)
{
	int ra = !a ? 0 : a == -EINVAL ? 1 : a == -EPERM ? 2 : 3;
	int rb = !b ? 0 : b == -EINVAL ? 1 : b == -EPERM ? 2 : 3;

	return rb > ra ? b : a;
}

/* What a path that is not a regular file or a directory is, for the
 * message that refuses it. */
static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket" :
	       S_ISCHR(mode) ? "a character device" :
	       S_ISBLK(mode) ? "a block device" : "not a regular file";
}

/*
 * Open a policy path without ever blocking: O_NONBLOCK makes open() of a
 * FIFO return at once (a FIFO with no writer would block it forever, and
 * portwarden.service with it at boot), O_NOCTTY keeps a terminal device
 * from becoming ours. The caller fstat()s the descriptor and refuses
 * anything but a regular file or a directory. A socket cannot be open()ed
 * at all (ENXIO); say what it is. Symbolic links are followed (a conf.d
 * link to a shared policy is common); what they lead to is checked.
 */
static int open_policy(int dfd, const char *name, const char *path,
		       struct diag *d)
{
	struct loc l = { path, 0, 0 };
	struct stat st;
	int fd, err;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		/* reads of a regular file never block; clear the flag so
		 * that nothing later depends on it */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		return fd;
	}
	err = -errno;
	if (err == -ENXIO && !fstatat(dfd, name, &st, 0) &&
	    !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		diag_error(d, &l, "not a regular file or directory (%s); policy files must be regular files",
			   file_kind(st.st_mode));
		return -EPERM;
	}
	diag_error(d, &l, "cannot open: %s", strerror(-err));
	return err;
}

struct tree_list {
	struct yaml_tree **v;
	size_t n, cap;
};

static int load_fd(struct tree_list *tl, int fd, const char *path,
		   struct diag *d)
{
	struct stat st;
	struct loc l = { path, 0, 0 };
	size_t len = 0;
	char *buf = NULL;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = -errno;
		diag_error(d, &l, "cannot stat: %s", strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, &l, "not a regular file or directory (%s); policy files must be regular files",
			   file_kind(st.st_mode));
		return -EPERM;
	}
	ret = check_owner(path, &st, false, d);
	if (ret < 0)
		return ret;
	ret = read_fd(fd, path, &st, &buf, &len, d);
	if (ret < 0)
		return ret;
	ARRAY_PUSH(tl->v, tl->n, tl->cap);
	ret = yaml_tree_parse(&tl->v[tl->n - 1], path, buf, len, d);
	free(buf);
	return ret;
}

static bool policy_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_dir(struct tree_list *tl, int dfd, const char *path,
		    struct diag *d)
{
	struct loc l = { path, 0, 0 };
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	int ret = 0, err;
	DIR *dir;

	dir = fdopendir(dfd);
	if (!dir) {
		ret = -errno;
		close(dfd);
		diag_error(d, &l, "cannot read directory: %s", strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (!policy_name(de->d_name))
			continue;
		ARRAY_PUSH(names, n, cap);
		names[n - 1] = xstrdup(de->d_name);
	}
	if (!n) {
		diag_error(d, &l, "no *.yaml or *.yml policy files in this directory");
		ret = -EPERM;
		goto out;
	}
	qsort(names, n, sizeof(*names), str_cmp);
	for (i = 0; i < n; i++) {
		size_t plen = strlen(path);
		char *full = xasprintf("%s%s%s", path,
				       plen && path[plen - 1] == '/' ? "" : "/",
				       names[i]);
		int fd = open_policy(dirfd(dir), names[i], full, d);

		if (fd < 0) {
			err = fd;
		} else {
			err = load_fd(tl, fd, full, d);
			close(fd);
		}
		ret = worse(ret, err);
		free(full);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return ret;
}

static int load_path(struct tree_list *tl, const char *path, struct diag *d)
{
	struct loc l = { path, 0, 0 };
	struct stat st;
	int fd, ret;

	fd = open_policy(AT_FDCWD, path, path, d);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		diag_error(d, &l, "cannot stat: %s", strerror(errno));
		close(fd);
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = check_owner(path, &st, true, d);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		return load_dir(tl, fd, path, d);	/* takes fd */
	}
	ret = load_fd(tl, fd, path, d);
	close(fd);
	return ret;
}

static void free_trees(struct tree_list *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		yaml_tree_free(tl->v[i]);
	free(tl->v);
}

struct diag_key {
	size_t file, index;
	unsigned int line, col;
	struct diag_entry e;
};

static int diag_key_cmp(const void *a, const void *b)
{
	const struct diag_key *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

/* Diagnostics of this run (from @start) in file order, then line and column. */
static void sort_diags(struct diag *d, size_t start,
		       struct yaml_tree *const *trees, size_t n_trees)
{
	size_t n = d->n - start, i, f, out, last = 0;
	struct diag_key *k;

	if (n < 2)
		return;
	k = xmalloc(n * sizeof(*k));
	for (i = 0; i < n; i++) {
		const struct diag_entry *e = &d->v[start + i];

		f = 0;
		if (e->file)
			for (f = 0; f < n_trees; f++)
				if (!strcmp(trees[f]->file, e->file))
					break;
		k[i].file = e->file ? f : SIZE_MAX;	/* notes last */
		k[i].index = i;
		k[i].line = e->loc.line;
		k[i].col = e->loc.col;
		k[i].e = *e;
	}
	qsort(k, n, sizeof(*k), diag_key_cmp);
	/*
	 * A node merged (`<<: *base`) or aliased into several places keeps
	 * its own location, so a problem with it is found once per use: say
	 * it once.
	 */
	for (i = 0, out = 0; i < n; i++) {
		const struct diag_key *prev = out ? &k[last] : NULL;

		if (prev && prev->file == k[i].file && prev->line == k[i].line &&
		    prev->col == k[i].col && prev->e.severity == k[i].e.severity &&
		    !strcmp(prev->e.msg, k[i].e.msg)) {
			if (k[i].e.severity == DIAG_ERROR)
				d->errors--;
			else if (k[i].e.severity == DIAG_WARNING)
				d->warnings--;
			free(k[i].e.msg);
			free(k[i].e.file);
			continue;
		}
		last = i;
		d->v[start + out++] = k[i].e;
	}
	d->n = start + out;
	free(k);
}

int policy_load(struct policy **out, const char *const *paths, size_t n,
		struct diag *d)
{
	struct tree_list tl = { 0 };
	size_t i, start = d->n;
	int ret = 0, err;

	*out = NULL;
	for (i = 0; i < n; i++)
		ret = worse(ret, load_path(&tl, paths[i], d));
	for (i = 0; i < tl.n; i++)
		if (tl.v[i]->broken)
			ret = worse(ret, -EPERM);
	/*
	 * Check unless some file was refused, unreadable or broken off:
	 * checking a part would report references to sets of the missing
	 * file as undefined. Duplicate keys alone do not stop it, so that
	 * one run reports every error.
	 */
	if (!ret || ret == -EINVAL) {
		struct policy *p = NULL;

		err = policy_check_trees(&p, (struct yaml_tree *const *)tl.v,
					 tl.n, d);
		if (!ret && !err)
			*out = p;
		else
			policy_free(p);
		ret = worse(ret, err);
	}
	if (ret == -EPERM)
		ret = -EINVAL;
	sort_diags(d, start, (struct yaml_tree *const *)tl.v, tl.n);
	free_trees(&tl);
	return ret;
}

int policy_load_buffer(struct policy **out, const char *name,
		       const char *buf, size_t len, struct diag *d)
{
	struct yaml_tree *t = NULL;
	struct policy *p = NULL;
	size_t start = d->n;
	int ret, err;

	*out = NULL;
	ret = yaml_tree_parse(&t, name, buf, len, d);
	if (!t->broken) {
		err = policy_check_trees(&p, &t, 1, d);
		if (!ret && !err)
			*out = p;
		else
			policy_free(p);
		if (!ret)
			ret = err;
	}
	sort_diags(d, start, &t, 1);
	yaml_tree_free(t);
	return ret;
}
