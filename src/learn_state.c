// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The learned-address file: a small line format written atomically, and a
 * reader that trusts nothing in it (each field checked, lines bounded).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostnames.h"
#include "learn_state.h"
#include "util.h"

#define HEADER "portwarden-learned 1"
#define LINE_MAX_LEN 400

/* The next blank-separated field of [*p, end), NUL-terminated into @out. */
static int field(const char **p, const char *end, char *out, size_t cap)
{
	const char *s = *p;
	size_t n;

	while (s < end && *s == ' ')
		s++;
	n = 0;
	while (s + n < end && s[n] != ' ')
		n++;
	if (n == 0 || n >= cap)
		return -EINVAL;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n;
	return 0;
}

static int parse_line(const char *s, size_t len, struct learned_addr *a,
		      char name[HOSTNAME_MAX + 1])
{
	const char *p = s, *end = s + len;
	char fam[4], addr[INET6_ADDRSTRLEN], exp[24], *ep;
	long long v;

	if (field(&p, end, name, HOSTNAME_MAX + 1) < 0 ||
	    field(&p, end, fam, sizeof(fam)) < 0 ||
	    field(&p, end, addr, sizeof(addr)) < 0 ||
	    field(&p, end, exp, sizeof(exp)) < 0 || p != end)
		return -EINVAL;
	if (name[0] == '*' || !hostname_valid(name, strlen(name)))
		return -EINVAL;
	for (char *c = name; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			return -EINVAL;		/* we write lower case only */
	if (strcmp(fam, "4") == 0)
		a->family = 4;
	else if (strcmp(fam, "6") == 0)
		a->family = 6;
	else
		return -EINVAL;
	memset(a->addr, 0, sizeof(a->addr));
	if (inet_pton(a->family == 4 ? AF_INET : AF_INET6, addr, a->addr) != 1)
		return -EINVAL;
	if (exp[0] < '0' || exp[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(exp, &ep, 10);
	if (errno || *ep || v < 0)
		return -EINVAL;
	a->expires = v;
	a->name = name;
	return 0;
}

long learn_state_parse(const char *buf, size_t len, learn_state_fn fn,
		       void *ctx, size_t *bad)
{
	char name[HOSTNAME_MAX + 1];
	size_t off = 0, hl = strlen(HEADER);
	long n = 0;

	*bad = 0;
	if (len < hl + 1 || memcmp(buf, HEADER, hl) != 0 || buf[hl] != '\n')
		return -EINVAL;
	off = hl + 1;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - (buf + off)) : len - off;
		struct learned_addr a;

		if (l > 0 && l <= LINE_MAX_LEN && nl &&
		    parse_line(buf + off, l, &a, name) == 0) {
			fn(ctx, &a);
			n++;
		} else if (l > 0 || !nl) {
			(*bad)++;	/* malformed, too long, or cut short */
		}
		off += l + 1;
	}
	return n;
}

int learn_state_write_header(FILE *f)
{
	return fprintf(f, "%s\n", HEADER) < 0 ? -EIO : 0;
}

int learn_state_write_line(FILE *f, const struct learned_addr *a)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->addr, text,
		       sizeof(text)))
		return -EIO;
	return fprintf(f, "%s %d %s %lld\n", a->name, a->family, text,
		       (long long)a->expires) < 0 ? -EIO : 0;
}

int learn_state_path(char *buf, size_t len, const char *table)
{
	const char *dir = getenv(STATE_DIR_ENV);
	int n;

	if (!dir || !*dir)
		dir = STATE_DIR;
	n = snprintf(buf, len, "%s/learned-%s", dir, table);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

FILE *learn_state_open_tmp(const char *path)
{
	char *tmp = xasprintf("%s.tmp", path), *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	FILE *f = NULL;
	int fd;

	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		goto out;
	f = fdopen(fd, "w");
	if (!f)
		close(fd);
out:
	free(tmp);
	free(dir);
	return f;
}

int learn_state_commit(FILE *f, const char *path)
{
	char *tmp = xasprintf("%s.tmp", path);
	int err = 0;

	if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0)
		err = errno ? -errno : -EIO;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

long learn_state_read(const char *path, learn_state_fn fn, void *ctx,
		      size_t *bad)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	long n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	*bad = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > LEARN_STATE_MAX_BYTES) {
		close(fd);
		return -EFBIG;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	n = learn_state_parse(buf, got, fn, ctx, bad);
	free(buf);
	return n;
}
