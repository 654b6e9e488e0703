/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_PROCMAP_H
#define PORTWARDEN_PROCMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Which processes hold which sockets: one pass over /proc/PID/fd, reading
 * each link once ("socket:[INODE]") into a hash table keyed by inode.
 * Socket inodes are unique system-wide, so one map serves every network
 * namespace. cgroup ids are turned into paths by walking /sys/fs/cgroup
 * once, and only when a path is first asked for.
 */

/**
 * struct proc_info - one process holding a socket
 * @pid:  process id (thread group leader)
 * @comm: command name, as in /proc/PID/comm
 */
struct proc_info {
	int pid;
	char comm[16];
};

struct procmap;

/**
 * procmap_build() - scan /proc once
 * @out:  the map
 * @proc: the proc mount to scan, normally "/proc" (tests may point
 *        elsewhere)
 *
 * Processes whose fd directory cannot be read (permission, or gone while
 * scanning) are counted, not fatal: see procmap_denied().
 * Return: 0 or a negative errno when @proc itself cannot be read.
 */
int procmap_build(struct procmap **out, const char *proc);

/* The same, always by reading /proc (never the BPF iterator). */
int procmap_build_scan(struct procmap **out, const char *proc);

/* "bpf" when the map came from the task_file iterator, else "proc". */
const char *procmap_method(const struct procmap *pm);

/*
 * procmap_bpf_scan() - internal to procmap: every (tgid, socket inode) pair
 * of the system from a BPF task_file iterator, when /proc is @proc ==
 * "/proc" and the process may load BPF tracing programs.
 * Return: 0, or a negative errno (the caller then scans /proc).
 */
int procmap_bpf_scan(void (*emit)(void *arg, uint32_t tgid, uint64_t inode),
		     void *arg);

void procmap_free(struct procmap *pm);

/**
 * procmap_next() - iterate over the processes holding socket @inode
 * @it: set to 0 before the first call
 * Return: the next process, or NULL when there is none left.
 */
const struct proc_info *procmap_next(const struct procmap *pm, uint64_t inode,
				     size_t *it);

/* Number of processes whose fds could not be read for lack of permission. */
size_t procmap_denied(const struct procmap *pm);

/* Number of socket file descriptors seen (for -v and the benchmark). */
size_t procmap_sockets(const struct procmap *pm);

/**
 * procmap_cgroup_path() - cgroup v2 path of a cgroup id (INET_DIAG_CGROUP_ID)
 * @root: cgroup2 mount, or NULL to find it (/sys/fs/cgroup, or
 *        /sys/fs/cgroup/unified on hybrid hosts); walked on the first call
 * @path: set to the path relative to @root ("" for the root cgroup,
 *        "system.slice/sshd.service" otherwise); owned by @pm
 * Return: 0, or -ENOENT when no cgroup has that id.
 */
int procmap_cgroup_path(struct procmap *pm, const char *root, uint64_t id,
			const char **path);

#endif
