/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NETNS_H
#define PORTWARDEN_NETNS_H

/**
 * netns_enter() - move this thread into another network namespace
 * @spec: a name under /run/netns, or a path such as /proc/PID/ns/net
 * Return: 0 or a negative errno.
 */
int netns_enter(const char *spec);

#endif
