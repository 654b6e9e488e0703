/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NETNS_H
#define PORTWARDEN_NETNS_H

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

#endif
