// SPDX-License-Identifier: GPL-2.0-or-later
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "util.h"

int netns_enter(const char *spec)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	if (strchr(spec, '/'))
		snprintf(path, sizeof(path), "%s", spec);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", spec);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int netns_local_port_range(unsigned int *lo, unsigned int *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (fscanf(f, "%u %u", lo, hi) != 2 || !*lo || *lo > *hi || *hi > 65535)
		ret = -EINVAL;
	fclose(f);
	return ret;
}

static void ns_add(struct netns_entry **v, size_t *n, size_t *cap,
		   const char *path)
{
	struct netns_entry *e;
	struct stat st;
	size_t i;

	if (stat(path, &st) < 0)
		return;
	for (i = 0; i < *n; i++)
		if ((*v)[i].dev == st.st_dev && (*v)[i].ino == st.st_ino)
			return;
	e = ARRAY_PUSH(*v, *n, *cap);
	memset(e, 0, sizeof(*e));
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->path = xstrdup(path);
}

static int pid_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int netns_list(struct netns_entry **out, size_t *n_out)
{
	struct netns_entry *v = NULL;
	size_t n = 0, cap = 0, np = 0, pcap = 0, i;
	struct stat self;
	struct dirent *de;
	int *pids = NULL;
	char path[300];
	DIR *d;

	if (stat("/proc/self/ns/net", &self) < 0)
		return -errno;
	d = opendir("/run/netns");
	if (d) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
			ns_add(&v, &n, &cap, path);
		}
		closedir(d);
	}
	d = opendir("/proc");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
				*ARRAY_PUSH(pids, np, pcap) = atoi(de->d_name);
		closedir(d);
	}
	if (np)
		qsort(pids, np, sizeof(*pids), pid_cmp);
	for (i = 0; i < np; i++) {
		if (pids[i] == (int)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pids[i]);
		ns_add(&v, &n, &cap, path);
	}
	free(pids);
	for (i = 0; i < n; i++)
		if (v[i].dev == self.st_dev && v[i].ino == self.st_ino)
			break;
	if (i == n) {
		snprintf(path, sizeof(path), "net:[%lu]", (unsigned long)self.st_ino);
		ARRAY_PUSH(v, n, cap);
		memset(&v[i], 0, sizeof(v[i]));
		v[i].dev = self.st_dev;
		v[i].ino = self.st_ino;
		v[i].path = xstrdup(path);
	}
	v[i].self = true;
	*out = v;
	*n_out = n;
	return 0;
}

void netns_list_free(struct netns_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
