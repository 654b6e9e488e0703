/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SOCKDIAG_H
#define PORTWARDEN_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The live socket table through NETLINK_SOCK_DIAG (inet_diag, libmnl).
 * Messages are parsed one by one out of the receive buffer and handed to a
 * callback: nothing is copied as text and the dump is never held whole.
 *
 * A dump can be recorded to a file (the raw request and reply messages,
 * back to back, as `ss -D` writes them) and replayed from it later, with
 * no privileges, for tests.
 */

/**
 * struct sock_info - one socket as inet_diag describes it
 * @family:     AF_INET or AF_INET6
 * @proto:      IPPROTO_TCP or IPPROTO_UDP (from the request that dumped it)
 * @state:      TCP_* state (UDP: TCP_CLOSE unconnected, TCP_ESTABLISHED
 *              connected)
 * @src, @dst:  local and remote address, network byte order; IPv4 in [0..3]
 * @sport, @dport: local and remote port, host byte order
 * @ifindex:    device the socket is bound to, 0 when none
 * @uid:        owner uid (0 for TIME_WAIT and request sockets)
 * @inode:      socket inode, 0 when no file holds it (TIME_WAIT, SYN_RECV)
 * @v6only:     IPV6_V6ONLY (INET_DIAG_SKV6ONLY); only for AF_INET6
 * @cgroup_id:  INET_DIAG_CGROUP_ID, 0 when the kernel did not send it
 */
struct sock_info {
	uint8_t family;
	uint8_t proto;
	uint8_t state;
	bool v6only;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ifindex;
	uint32_t uid;
	uint64_t inode;
	uint64_t cgroup_id;
};

/* Return 0 to go on, a negative errno to stop the dump with that error. */
typedef int (*sockdiag_cb)(const struct sock_info *s, void *arg);

struct sockdiag;

/**
 * sockdiag_open() - open a NETLINK_SOCK_DIAG socket in this network namespace
 * @out:    the handle
 * @record: when not NULL, every request and reply is appended to this file
 *          (created or truncated)
 * Return: 0 or a negative errno.
 */
int sockdiag_open(struct sockdiag **out, const char *record);

/**
 * sockdiag_open_replay() - read dumps recorded by sockdiag_open(@record)
 * Return: 0; -EINVAL when the file holds no well-formed recording.
 */
int sockdiag_open_replay(struct sockdiag **out, const char *path);

void sockdiag_close(struct sockdiag *sd);

/**
 * sockdiag_dump() - every socket of one protocol and family, all states
 * @proto:  IPPROTO_TCP or IPPROTO_UDP
 * @family: AF_INET or AF_INET6
 *
 * On a replay handle, delivers the replies recorded for the same request.
 * Return: 0, the callback's negative errno, or another negative errno.
 */
int sockdiag_dump(struct sockdiag *sd, uint8_t proto, uint8_t family,
		  sockdiag_cb cb, void *arg);

/* "ESTAB", "LISTEN", "TIME-WAIT", ... as ss prints them. */
const char *sock_state_name(uint8_t state);

/**
 * sock_addr_format() - "A.B.C.D:PORT" or "[V6]:PORT" (SPEC §3)
 * @addr: 4 or 16 bytes by @family; @buf at least 64 bytes
 */
void sock_addr_format(uint8_t family, const uint8_t *addr, uint16_t port,
		      char *buf, size_t len);

#endif
