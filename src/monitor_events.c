// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Following the daemon's events file (include/monitor_events.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor_events.h"
#include "state.h"
#include "util.h"

#define DEVENTS_LINE_MAX 8192

struct devents {
	char *path;
	int fd;
	off_t off;
	bool started;		/* the first poll skips what was there */
	char line[DEVENTS_LINE_MAX];
	size_t len;
	bool overlong;		/* dropping the rest of a line too long */
	uint64_t bad;
};

struct devents *devents_new(void)
{
	struct devents *de = xcalloc(1, sizeof(*de));
	struct stat st;

	de->fd = -1;
	if (stat("/proc/self/ns/net", &st) == 0)
		de->path = xasprintf(RUN_DIR "/net-%llu/events",
				     (unsigned long long)st.st_ino);
	return de;
}

void devents_free(struct devents *de)
{
	if (!de)
		return;
	if (de->fd >= 0)
		close(de->fd);
	free(de->path);
	free(de);
}

uint64_t devents_bad(const struct devents *de)
{
	return de->bad;
}

/* One JSON object of printable ASCII (the daemon escapes the rest); its
 * "kind" value copied to @kind. */
static bool line_ok(const char *s, size_t n, char *kind, size_t klen)
{
	const char *k, *e;
	size_t i;

	if (n < 2 || s[0] != '{' || s[n - 1] != '}')
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	k = strstr(s, "\"kind\": \"");
	if (!k)
		return false;
	k += 9;
	e = strchr(k, '"');
	if (!e || (size_t)(e - k) >= klen)
		return false;
	memcpy(kind, k, (size_t)(e - k));
	kind[e - k] = '\0';
	return true;
}

static void take_line(struct devents *de, const char *const *kinds,
		      devents_cb cb, void *arg)
{
	char kind[32];
	size_t i;

	de->line[de->len] = '\0';
	if (!kinds)
		return;
	if (!line_ok(de->line, de->len, kind, sizeof(kind))) {
		de->bad++;
		return;
	}
	for (i = 0; kinds[i]; i++)
		if (!strcmp(kinds[i], kind)) {
			cb(de->line, kind, arg);
			return;
		}
}

void devents_poll(struct devents *de, const char *const *kinds,
		  devents_cb cb, void *arg)
{
	char buf[4096];
	struct stat st;
	ssize_t n, i;

	if (!de->path)
		return;
	if (de->fd < 0) {
		de->fd = open(de->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (de->fd < 0) {
			de->started = true;	/* a file made later is new */
			return;
		}
		de->off = 0;
		if (!de->started && fstat(de->fd, &st) == 0)
			de->off = st.st_size;
		de->started = true;
	}
	if (fstat(de->fd, &st) < 0)
		return;
	if (st.st_size < de->off) {
		/* truncated by the daemon: a partial line is gone with it */
		de->off = 0;
		de->len = 0;
		de->overlong = false;
	}
	while ((n = pread(de->fd, buf, sizeof(buf), de->off)) > 0) {
		de->off += n;
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (de->overlong)
					de->bad++;
				else
					take_line(de, kinds, cb, arg);
				de->len = 0;
				de->overlong = false;
			} else if (de->len + 1 < sizeof(de->line)) {
				de->line[de->len++] = buf[i];
			} else {
				de->overlong = true;
			}
		}
	}
}
