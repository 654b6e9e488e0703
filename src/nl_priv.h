/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NL_PRIV_H
#define PORTWARDEN_NL_PRIV_H

/*
 * Shared between nl_batch.c (model -> kernel) and nl_read.c (kernel ->
 * model): the socket, and the set key types exactly as nft encodes them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

struct mnl_socket;

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint32_t applied_gen;	/* NEWGEN echoed for the last batch, or 0 */
	size_t last_msgs;	/* messages of nl_apply()'s last batch (-vv) */
	size_t last_bytes;	/* and their bytes */
};

/* nft datatype ids (nftables include/datatype.h) and byte orders */
#define NL_TYPE_BITS		6
#define NL_TYPE_MASK		((1u << NL_TYPE_BITS) - 1)
#define NL_TYPE_IPADDR		7
#define NL_TYPE_IP6ADDR		8
#define NL_TYPE_INET_PROTOCOL	12
#define NL_TYPE_INET_SERVICE	13
#define NL_TYPE_ICMP_TYPE	14
#define NL_TYPE_UID		24
#define NL_TYPE_GID		25
#define NL_TYPE_ICMPV6_TYPE	29
#define NL_TYPE_IFNAME		41

#define NL_BYTEORDER_INVALID	0
#define NL_BYTEORDER_HOST	1
#define NL_BYTEORDER_BIG	2

#define NL_IFNAMSIZ		16
#define NL_CGROUP_ROOT		"/sys/fs/cgroup"

/**
 * struct nl_keyinfo - how nft stores one key component
 * @type:      datatype id
 * @len:       length in bytes as loaded into a register
 * @byteorder: for the set's NFTNL_UDATA_SET_KEYBYTEORDER
 */
struct nl_keyinfo {
	uint32_t type;
	uint32_t len;
	uint32_t byteorder;
};

/* Return: 0, or -EOPNOTSUPP for a key that cannot be a set key. */
int nl_keyinfo(enum match_key key, uint8_t family, struct nl_keyinfo *ki);

/* Round a component length up to 32-bit registers, as concatenations do. */
static inline uint32_t nl_reg_round(uint32_t len)
{
	return (len + 3) & ~3u;
}

/* Add one to a big-endian number; false when it wrapped around to zero. */
static inline bool nl_be_inc(uint8_t *p, size_t len)
{
	while (len--) {
		if (++p[len])
			return true;
	}
	return false;
}

static inline void nl_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

struct nftnl_rule;
struct mchain;
struct mrule;

/**
 * nl_rule_build() - the libnftnl rule for one model rule (nl_expr.c)
 * @err: set to 0, or to a negative errno when a match cannot be expressed
 *       (an interface name too long, a cgroup that does not exist)
 * Return: the rule (nftnl_rule_free() it), or NULL.
 */
struct nftnl_rule *nl_rule_build(const struct model *m, const struct mchain *c,
				 const struct mrule *mr, int *err);

/**
 * nl_rule_decode() - the matches and statements of a live rule (nl_decode.c)
 * @m:   the model being read; its sets are already in it (a lookup may
 *       tell a set's saddr/daddr or sport/dport key)
 * @r:   filled in: matches, counter and its values, log, verdict
 * @why: when false is returned, what was not understood
 * Return: true when every expression was understood.
 */
bool nl_rule_decode(struct model *m, struct nftnl_rule *nr, struct mrule *r,
		    char *why, size_t len);

/**
 * nl_dump() - one NLM_F_DUMP request of @type for @family (NFPROTO_UNSPEC:
 * every family); @table and @set name the set of a GETSETELEM dump;
 * @table alone filters a GETRULE or GETSET dump to one table.
 * @cb runs for every reply message. Return: 0 or a negative errno
 * (-EINTR when the dump was interrupted by a change: retry).
 */
struct nlmsghdr;
typedef int (*nl_dump_cb)(const struct nlmsghdr *nlh, void *data);
int nl_dump(struct nl_sock *s, uint16_t type, uint16_t family,
	    const char *table, const char *set, nl_dump_cb cb, void *data);

/**
 * nl_value_bytes() - the bytes of one key component of a set element, as
 * apply sends them (padded to @ki->len); @end: the last value of a prefix
 * or range instead of the first.
 */
void nl_value_bytes(enum match_key key, const struct mvalue *v,
		    const struct nl_keyinfo *ki, bool end, uint8_t *out);

/* Set up a freshly opened socket's buffers for a payload of @bytes. */
void nl_sock_bufsize(struct nl_sock *s, size_t bytes);

#endif
