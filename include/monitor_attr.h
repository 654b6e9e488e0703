/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MONITOR_ATTR_H
#define PORTWARDEN_MONITOR_ATTR_H

/*
 * Which local socket and process a logged packet belongs to (`monitor`).
 *
 * Outbound: the socket of the packet's 5-tuple (a connected or connecting
 * socket), else the unconnected socket bound to its source port (UDP
 * sendto). Inbound: the listener that would have received it (TCP LISTEN
 * or unconnected UDP on the destination port and address, or a wildcard).
 *
 * Both come from a cache of the sock_diag table, one per protocol, and
 * the process from procmap (inode -> pid, comm). A cache is dumped again
 * on a miss only when its dump is older than the read that delivered the
 * record: every socket that existed when the packet was logged and still
 * exists is then in it, so a miss after that means the socket is gone
 * (ATTR_GONE) and a flood of unattributable packets costs one dump per
 * read, not one per packet.
 */

#include <stdbool.h>
#include <stdint.h>

#include "nflog.h"

enum attr_owner {
	ATTR_FOUND,		/* socket and process known */
	ATTR_NO_PROCESS,	/* socket known, no process holds it (or /proc denied) */
	ATTR_GONE,		/* outbound: the socket no longer exists */
	ATTR_NO_LISTENER,	/* inbound: nothing listens there */
	ATTR_NONE,		/* no ports (ICMP, ...): nothing to look up */
};

/**
 * struct attr_result - who is behind a logged packet
 * @owner:  see enum attr_owner
 * @uid:    the socket's uid (sock_diag), valid unless @owner is GONE,
 *          NO_LISTENER or NONE
 * @pid, @comm: the first process holding the socket (ATTR_FOUND)
 * @cgroup: cgroup v2 path, or NULL (owned by the cache)
 */
struct attr_result {
	enum attr_owner owner;
	uint32_t uid;
	int pid;
	char comm[16];
	const char *cgroup;
};

struct attr_cache;

/* Open sock_diag in the current network namespace. Return 0 or -errno. */
int attr_new(struct attr_cache **out);
void attr_free(struct attr_cache *a);

/**
 * attr_lookup() - attribute one record
 * @p:        the record (l3 and ports parsed)
 * @outbound: DIR_OUT (output hook) or inbound
 * @batch:    number of the read that delivered @p (increasing)
 * @r:        the answer
 */
void attr_lookup(struct attr_cache *a, const struct nflog_pkt *p,
		 bool outbound, uint64_t batch, struct attr_result *r);

/* Dumps of the socket table and scans of /proc so far (for -v). */
void attr_stats(const struct attr_cache *a, uint64_t *dumps, uint64_t *scans);

#endif
