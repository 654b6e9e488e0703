/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NETNS_H
#define PORTWARDEN_NETNS_H

#include <stdbool.h>

/**
 * netns_enter() - move this thread into another network namespace
 * @spec: a name under /run/netns, or a path such as /proc/PID/ns/net
 * Return: 0 or a negative errno.
 */
int netns_enter(const char *spec);

/**
 * netns_local_port_range() - net.ipv4.ip_local_port_range of the network
 * namespace this thread is in (the source ports its connections use)
 * Return: 0, or a negative errno (-EINVAL when the file makes no sense).
 */
int netns_local_port_range(unsigned int *lo, unsigned int *hi);

#include <stddef.h>
#include <sys/types.h>

/**
 * struct netns_entry - one network namespace found by netns_list()
 * @dev, @ino: the namespace's identity (stat of its nsfs file)
 * @path:      /run/netns/NAME for a named one, else /proc/PID/ns/net of
 *             its lowest pid, or "net:[INODE]" for the caller's own
 *             namespace when no other path names it
 * @self:      the caller's namespace
 */
struct netns_entry {
	dev_t dev;
	ino_t ino;
	char *path;
	bool self;
};

/**
 * netns_list() - every distinct network namespace: named ones
 * (/run/netns) first, then one per /proc/PID/ns/net, lowest pid first
 * (the caller's own pid is left out); the caller's namespace is always
 * in the list (@self)
 * @out, @n: the list; free with netns_list_free()
 * Return: 0 or a negative errno (/proc/self/ns/net unreadable).
 */
int netns_list(struct netns_entry **out, size_t *n);
void netns_list_free(struct netns_entry *v, size_t n);

#endif
