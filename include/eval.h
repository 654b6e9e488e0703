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
 * @ct_state: CT_STATE_* bits; 0 for a new connection
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
	uint32_t ct_state;
};

/**
 * struct eval_result - what the table does with a packet
 * @verdict: MV_ACCEPT, MV_DROP, MV_REJECT_TCP or MV_REJECT_ICMPX
 * @rule:    the deciding nft rule, or NULL when the chain policy decided
 * @origin:  the deciding policy rule (via the rule or a set element), or NULL
 * @label:   a name for the decision when @origin is NULL: "established",
 *           "loopback", "icmp", "default"
 */
struct eval_result {
	enum mverdict verdict;
	const struct mrule *rule;
	const struct rule *origin;
	const char *label;
};

/**
 * eval_packet() - run one packet through the chain of its direction
 * Return: 0, or -ENOENT when the model has no chain for that direction.
 */
int eval_packet(const struct model *m, const struct packet *pkt,
		struct eval_result *res);

/* "accept", "drop", "reject" */
const char *mverdict_name(enum mverdict v);

#endif
