/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_EVAL_H
#define PORTWARDEN_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/**
 * struct packet - the first packet of a new connection, as the hook sees it
 * @dir:     DIR_IN (input hook) or DIR_OUT (output hook)
 * @l4proto: IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, ...
 * @src, @dst: full-length prefixes (plen 32/128) of one family
 * @has_src: false when the source is not known: a match on it fails,
 *           negated or not (SPEC: "matches no rule that constrains it")
 * @has_sport, @has_uid, @has_gid, @cgroup: likewise
 * @iif, @oif: interface names, or NULL when not known
 * @icmp_type: for ICMP/ICMPv6 packets
 */
struct packet {
	enum direction dir;
	uint8_t l4proto;
	struct cidr src, dst;
	bool has_src;
	uint16_t sport, dport;
	bool has_sport, has_dport;
	uint32_t uid, gid;
	bool has_uid, has_gid;
	const char *cgroup;
	const char *iif, *oif;
	uint8_t icmp_type;
};

struct ix_host;

/**
 * struct eval_result - what the host does with a connection (interp.h has
 * the whole story; this is what audit and the lock-out guard need)
 * @verdict: MV_ACCEPT, MV_DROP or MV_REJECT_ICMPX (any reject); for an
 *           undetermined answer MV_NONE
 * @undetermined: the interpreter met something it cannot run (@why)
 * @reply:   the first packet passes but a reply does not: @verdict and the
 *           deciding rule are the reply's
 * @origin:  the deciding policy rule (via the rule or a set element), or NULL
 * @label:   a name for the decision when @origin is NULL: "established",
 *           "loopback", "icmp", "default", "dns-queue", or a foreign rule's comment
 * @table, @chain: where the decision was taken ("inet portwarden", "input")
 * @handle:  the deciding rule's kernel handle (0: policy, or compiled)
 */
struct eval_result {
	enum mverdict verdict;
	bool undetermined;
	bool reply;
	const struct rule *origin;
	const char *label;
	const char *table;		/* the host's strings */
	const char *chain;
	uint64_t handle;
	unsigned int ports_read;	/* see struct ix_conn_result */
	char why[256];
};

/**
 * eval_packet() - run a connection, first packet and replies, through
 * every base chain of the host @h (interp.h)
 * Return: 0, or -EINVAL for a packet without an address family.
 */
int eval_packet(const struct ix_host *h, const struct packet *pkt,
		struct eval_result *res);

/* "accept", "drop", "reject", "undetermined" (MV_NONE) */
const char *mverdict_name(enum mverdict v);

#endif
