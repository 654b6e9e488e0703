/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SOCKPKT_H
#define PORTWARDEN_SOCKPKT_H

#include <stdbool.h>
#include <stdint.h>

#include "eval.h"
#include "sockdiag.h"

/*
 * A live socket as the connection the kernel would see again as new
 * traffic: the one conversion audit and the lock-out guard share, so that
 * they judge a socket the same way (SPEC §5).
 */

/* The address as the packet on the wire carries it: v4-mapped -> IPv4. */
void sock_wire_addr(const struct sock_info *s, const uint8_t *addr,
		    struct cidr *out);

/**
 * struct sock_owner - what is known of the socket's owner beyond sock_diag
 * @cgroup: cgroup v2 path, or NULL
 * @gid:    file system gid of an owning process, when @has_gid
 */
struct sock_owner {
	const char *cgroup;
	uint32_t gid;
	bool has_gid;
};

/**
 * sock_packet() - the first packet of @s's connection
 * @inbound: the connection was opened towards this host (its local port
 *           has a listener), else by it
 * @own:     owner details, or NULL
 *
 * Inbound: remote -> local, the local port as destination; outbound:
 * local -> remote. The socket's uid owns the local end (a TIME_WAIT or
 * request socket, inode 0, has none). A connection between two addresses
 * of the same host travels on lo; otherwise the interface is the one that
 * holds the local address, which the interpreter finds from the host.
 */
void sock_packet(const struct sock_info *s, bool inbound,
		 const struct sock_owner *own, struct packet *pkt);

#endif
