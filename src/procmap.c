// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inode -> processes, from one pass over /proc/PID/fd.
 *
 * ss -p opens every process's fd directory again for each socket it
 * prints; here each fd link is read exactly once and filed in an
 * open-addressing hash table, so attribution costs one readlink per fd.
 * A process's command name is read only when it holds a socket.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#include "procmap.h"
#include "util.h"

/* One (inode, process) pair; pairs of one inode are chained by @next. */
struct owner {
	uint64_t inode;
	uint32_t proc;		/* index into procs */
	uint32_t next;		/* index into owners, or NONE */
};

#define NONE UINT32_MAX

/* The inode sits in the bucket itself: a probe touches one cache line. */
struct slot {
	uint64_t inode;
	uint32_t head;
};

struct cg_entry {
	uint64_t id;
	char *path;
};

struct procmap {
	struct proc_info *procs;
	size_t n_procs, cap_procs;
	struct owner *owners;
	size_t n_owners, cap_owners;
	struct slot *slots;	/* chain head per bucket (head NONE: empty) */
	size_t n_slots;		/* power of two */
	size_t denied;
	bool bpf;
	/* cgroup id -> path, filled on first use */
	bool cg_loaded;
	struct cg_entry *cgs;
	size_t n_cgs, cap_cgs;
};

static size_t hash_inode(uint64_t ino)
{
	ino ^= ino >> 33;
	ino *= 0xff51afd7ed558ccdULL;
	ino ^= ino >> 33;
	return (size_t)ino;
}

static size_t find_slot(const struct procmap *pm, uint64_t inode)
{
	size_t mask = pm->n_slots - 1, i = hash_inode(inode) & mask;

	while (pm->slots[i].head != NONE && pm->slots[i].inode != inode)
		i = (i + 1) & mask;
	return i;
}

static void rehash(struct procmap *pm)
{
	struct slot *old = pm->slots;
	size_t n_old = pm->n_slots, i;

	pm->n_slots = n_old ? n_old * 2 : 1024;
	pm->slots = xmalloc(pm->n_slots * sizeof(*pm->slots));
	for (i = 0; i < pm->n_slots; i++)
		pm->slots[i].head = NONE;
	for (i = 0; i < n_old; i++)
		if (old[i].head != NONE)
			pm->slots[find_slot(pm, old[i].inode)] = old[i];
	free(old);
}

/* Heads only live in slots, so the number of slots in use is bounded by
 * n_owners; keep it under half full. */
static void add_owner(struct procmap *pm, uint64_t inode, uint32_t proc)
{
	struct owner *o;
	size_t slot;
	uint32_t head;

	if ((pm->n_owners + 1) * 2 > pm->n_slots)
		rehash(pm);
	slot = find_slot(pm, inode);
	head = pm->slots[slot].head;
	/* The same process holding one socket twice (dup, fork-then-exec
	 * leftovers) is listed once; its fds are read consecutively. */
	if (head != NONE && pm->owners[head].proc == proc)
		return;
	o = ARRAY_PUSH(pm->owners, pm->n_owners, pm->cap_owners);
	o->inode = inode;
	o->proc = proc;
	o->next = head;
	pm->slots[slot].inode = inode;
	pm->slots[slot].head = (uint32_t)(pm->n_owners - 1);
}

static void read_comm(int procfd, const char *pid, char *comm, size_t len)
{
	char path[300];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/comm", pid);
	comm[0] = '\0';
	fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n <= 0) {
		comm[0] = '\0';
		return;
	}
	comm[n] = '\0';
	if (n > 0 && comm[n - 1] == '\n')
		comm[n - 1] = '\0';
}

/* Parse "socket:[12345]"; 0 when the link is something else. */
static uint64_t socket_inode(const char *link, ssize_t n)
{
	uint64_t ino = 0;
	ssize_t i;

	if (n < 10 || memcmp(link, "socket:[", 8) || link[n - 1] != ']')
		return 0;
	for (i = 8; i < n - 1; i++) {
		if (link[i] < '0' || link[i] > '9')
			return 0;
		ino = ino * 10 + (uint64_t)(link[i] - '0');
	}
	return ino;
}

/* What one scanning thread found, merged into the map afterwards. */
struct pair {
	uint64_t inode;
	uint32_t proc;		/* index into the part's procs */
};

struct scan_part {
	struct proc_info *procs;
	size_t n_procs, cap_procs;
	struct pair *pairs;
	size_t n_pairs, cap_pairs;
	size_t denied;
};

struct scan {
	int procfd;
	int *pids;
	size_t n_pids;
	atomic_size_t next;		/* next index into pids to take */
	struct scan_part *parts;
};

static void scan_process(struct scan_part *part, int procfd, int pidnum)
{
	char pid[16], path[64], link[64];
	struct dirent *de;
	uint32_t me = NONE;
	uint64_t ino;
	ssize_t n;
	DIR *dir;
	int fd;

	snprintf(pid, sizeof(pid), "%d", pidnum);
	snprintf(path, sizeof(path), "%s/fd", pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			part->denied++;
		return;
	}
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	while ((de = readdir(dir))) {
		struct pair *pr;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(fd, de->d_name, link, sizeof(link));
		if (n <= 0)
			continue;
		ino = socket_inode(link, n);
		if (!ino)
			continue;
		if (me == NONE) {
			struct proc_info *p;

			p = ARRAY_PUSH(part->procs, part->n_procs, part->cap_procs);
			p->pid = pidnum;
			read_comm(procfd, pid, p->comm, sizeof(p->comm));
			me = (uint32_t)(part->n_procs - 1);
		}
		pr = ARRAY_PUSH(part->pairs, part->n_pairs, part->cap_pairs);
		pr->inode = ino;
		pr->proc = me;
	}
	closedir(dir);
}

static void *scan_worker(void *arg)
{
	struct scan *sc = ((void **)arg)[0];
	struct scan_part *part = ((void **)arg)[1];
	size_t i;

	while ((i = atomic_fetch_add(&sc->next, 1)) < sc->n_pids)
		scan_process(part, sc->procfd, sc->pids[i]);
	return NULL;
}

#define SCAN_THREADS_MAX 4

struct bpf_ctx {
	struct procmap *pm;
	int procfd;
	uint32_t last_tgid;
	uint32_t me;
};

/* Pairs arrive task by task (threads sharing the leader's table skipped). */
static void bpf_emit(void *arg, uint32_t tgid, uint64_t inode)
{
	struct bpf_ctx *bc = arg;
	struct procmap *pm = bc->pm;

	if (bc->me == NONE || tgid != bc->last_tgid) {
		struct proc_info *p;
		char pid[16];

		p = ARRAY_PUSH(pm->procs, pm->n_procs, pm->cap_procs);
		p->pid = (int)tgid;
		snprintf(pid, sizeof(pid), "%u", tgid);
		read_comm(bc->procfd, pid, p->comm, sizeof(p->comm));
		bc->me = (uint32_t)(pm->n_procs - 1);
		bc->last_tgid = tgid;
	}
	add_owner(pm, inode, bc->me);
}

/*
 * The iterator reports pids as the initial pid namespace numbers them:
 * they name processes in /proc only when /proc is that namespace's (its
 * pid 1 is the initial namespace's init: PROC_PID_INIT_INO). In a
 * container, /proc is read instead.
 */
static bool proc_is_init_pidns(void)
{
	struct stat st;

	return stat("/proc/1/ns/pid", &st) == 0 && st.st_ino == 0xEFFFFFFCu;
}

int procmap_build(struct procmap **out, const char *proc)
{
	struct bpf_ctx bc = { .me = NONE };
	struct procmap *pm;
	size_t i;

	if (strcmp(proc, "/proc") || !proc_is_init_pidns())
		return procmap_build_scan(out, proc);
	bc.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bc.procfd < 0)
		return -errno;
	pm = xcalloc(1, sizeof(*pm));
	rehash(pm);
	bc.pm = pm;
	if (procmap_bpf_scan(bpf_emit, &bc) < 0) {
		/* not allowed or not supported: read /proc instead */
		close(bc.procfd);
		procmap_free(pm);
		return procmap_build_scan(out, proc);
	}
	close(bc.procfd);
	/* A process that exited between the walk and reading its comm. */
	for (i = 0; i < pm->n_procs; i++)
		if (!pm->procs[i].comm[0])
			snprintf(pm->procs[i].comm, sizeof(pm->procs[i].comm), "?");
	pm->bpf = true;
	*out = pm;
	return 0;
}

const char *procmap_method(const struct procmap *pm)
{
	return pm && pm->bpf ? "bpf" : "proc";
}

int procmap_build_scan(struct procmap **out, const char *proc)
{
	pthread_t threads[SCAN_THREADS_MAX];
	struct scan_part parts[SCAN_THREADS_MAX];
	void *args[SCAN_THREADS_MAX][2];
	struct scan sc = { .pids = NULL };
	size_t cap = 0, i, j, nthreads, started = 1;
	struct procmap *pm;
	struct dirent *de;
	long cpus;
	DIR *dir;

	sc.procfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sc.procfd < 0)
		return -errno;
	dir = opendir(proc);
	if (!dir) {
		int ret = -errno;

		close(sc.procfd);
		return ret;
	}
	while ((de = readdir(dir)))
		if (isdigit((unsigned char)de->d_name[0]))
			*ARRAY_PUSH(sc.pids, sc.n_pids, cap) = atoi(de->d_name);
	closedir(dir);
	atomic_init(&sc.next, 0);

	/* Reading fd links is all kernel time and scales with cores. */
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	nthreads = cpus < 1 ? 1 : cpus > SCAN_THREADS_MAX ? SCAN_THREADS_MAX
							  : (size_t)cpus;
	memset(parts, 0, sizeof(parts));
	for (i = 0; i < nthreads; i++) {
		args[i][0] = &sc;
		args[i][1] = &parts[i];
	}
	for (i = 1; i < nthreads; i++, started++)
		if (pthread_create(&threads[i], NULL, scan_worker, args[i]))
			break;
	scan_worker(args[0]);
	for (i = 1; i < started; i++)
		pthread_join(threads[i], NULL);
	close(sc.procfd);
	free(sc.pids);

	pm = xcalloc(1, sizeof(*pm));
	rehash(pm);
	for (i = 0; i < started; i++) {
		size_t base = pm->n_procs;

		for (j = 0; j < parts[i].n_procs; j++)
			*ARRAY_PUSH(pm->procs, pm->n_procs, pm->cap_procs) =
				parts[i].procs[j];
		for (j = 0; j < parts[i].n_pairs; j++)
			add_owner(pm, parts[i].pairs[j].inode,
				  (uint32_t)(base + parts[i].pairs[j].proc));
		pm->denied += parts[i].denied;
		free(parts[i].procs);
		free(parts[i].pairs);
	}
	*out = pm;
	return 0;
}

void procmap_free(struct procmap *pm)
{
	size_t i;

	if (!pm)
		return;
	for (i = 0; i < pm->n_cgs; i++)
		free(pm->cgs[i].path);
	free(pm->cgs);
	free(pm->procs);
	free(pm->owners);
	free(pm->slots);
	free(pm);
}

const struct proc_info *procmap_next(const struct procmap *pm, uint64_t inode,
				     size_t *it)
{
	uint32_t o;

	if (!pm || !inode)
		return NULL;
	if (*it == 0)
		o = pm->slots[find_slot(pm, inode)].head;
	else if (*it - 1 < pm->n_owners)
		o = pm->owners[*it - 1].next;
	else
		return NULL;
	if (o == NONE)
		return NULL;
	*it = (size_t)o + 1;
	return &pm->procs[pm->owners[o].proc];
}

size_t procmap_denied(const struct procmap *pm)
{
	return pm ? pm->denied : 0;
}

size_t procmap_sockets(const struct procmap *pm)
{
	return pm ? pm->n_owners : 0;
}

/* Depth-first walk of the cgroup2 tree; @rel is the path below the root. */
static void cg_walk(struct procmap *pm, int dirfd, const char *rel, int depth,
		    dev_t dev)
{
	struct dirent *de;
	struct stat st;
	struct cg_entry *e;
	DIR *dir;
	int fd;

	/* stay on the cgroup2 mount: v1 hierarchies have their own ids */
	if (fstat(dirfd, &st) < 0 || (depth && st.st_dev != dev)) {
		close(dirfd);
		return;
	}
	e = ARRAY_PUSH(pm->cgs, pm->n_cgs, pm->cap_cgs);
	e->id = (uint64_t)st.st_ino;
	e->path = xstrdup(rel);
	dir = fdopendir(dirfd);
	if (!dir) {
		close(dirfd);
		return;
	}
	while ((de = readdir(dir))) {
		char *sub;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || depth > 64)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		sub = *rel ? xasprintf("%s/%s", rel, de->d_name)
			   : xstrdup(de->d_name);
		cg_walk(pm, fd, sub, depth + 1, st.st_dev);
		free(sub);
	}
	closedir(dir);
}

/* The cgroup2 mount: /sys/fs/cgroup on unified hosts, .../unified on
 * hybrid ones (cgroup v1 controllers beside a v2 tree). */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = {
		"/sys/fs/cgroup", "/sys/fs/cgroup/unified",
	};
	struct statfs sf;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(roots); i++)
		if (!statfs(roots[i], &sf) && sf.f_type == CGROUP2_SUPER_MAGIC)
			return roots[i];
	return NULL;
}

static int cg_cmp(const void *a, const void *b)
{
	const struct cg_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int procmap_cgroup_path(struct procmap *pm, const char *root, uint64_t id,
			const char **path)
{
	struct cg_entry key = { .id = id }, *hit;

	if (!pm->cg_loaded) {
		/* cgroup2 directory inode numbers are the cgroup ids. */
		int fd;

		pm->cg_loaded = true;
		if (!root)
			root = cgroup2_root();
		fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (fd >= 0)
			cg_walk(pm, fd, "", 0, 0);
		if (pm->n_cgs)
			qsort(pm->cgs, pm->n_cgs, sizeof(*pm->cgs), cg_cmp);
	}
	if (!pm->n_cgs)
		return -ENOENT;
	hit = bsearch(&key, pm->cgs, pm->n_cgs, sizeof(*pm->cgs), cg_cmp);
	if (!hit)
		return -ENOENT;
	*path = hit->path;
	return 0;
}
