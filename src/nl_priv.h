/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NL_PRIV_H
#define PORTWARDEN_NL_PRIV_H

/*
 * Shared between nl_batch.c (model -> messages), nl_read.c (kernel ->
 * model) and nl_apply.c: the set key types exactly as nft encodes them,
 * and the builders. The socket is nl_sock.h's.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

#include "nl_sock.h"

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

/* How an MV_QUEUE verdict is sent (nl_expr.c): nft's `queue` expression,
 * or the xtables NFQUEUE target (kernels without CONFIG_NFT_QUEUE). */
#define NL_QUEUE_NATIVE	0
#define NL_QUEUE_XT	1
void nl_queue_set_form(int form);
int nl_queue_form(void);

/**
 * nl_build_queue_probe() - messages that create table @probe->table with
 * its chain 0 and that chain's rule 0, then delete the table
 * "<table>_absent", which does not exist: the kernel answers each message
 * (the rule's with ENOENT when it lacks one of its expressions) and
 * aborts the transaction (nl_batch.c)
 */
int nl_build_queue_probe(struct nl_txn *t, const struct model *probe,
			 struct diag *d);

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

struct nl_txn;
struct nl_tag;

struct model_delta;

/**
 * nl_build_replace() - the messages that replace @m's table (nl_batch.c)
 * @old, @dl: the live table and model_delta(@old, @m), or NULL: each rule
 *       paired with a live one starts with that rule's counter values,
 *       and a timeout set gets its live run-time elements back
 *
 * NEWTABLE (create, so that the delete cannot fail), DELTABLE, NEWTABLE,
 * every set with its elements, every chain, every rule; between
 * nl_txn_begin() and nl_txn_end().
 * Return: 0, or a negative errno after reporting to @d (a rule that
 * cannot be expressed, a set key type not supported).
 */
int nl_build_replace(struct nl_txn *t, const struct model *m,
		     const struct model *old, const struct model_delta *dl,
		     struct diag *d);

/**
 * nl_build_delta() - the messages of the plan @dl from @old to @new
 *
 * When @dl creates or recreates the table: nl_build_replace(). Else, in
 * this order: DELRULE (by handle) of the live rules that go, DELCHAIN,
 * DELSET, per set that stays DELSETELEM then NEWSETELEM, NEWSET with the
 * elements of new sets, NEWCHAIN of new chains and of chains whose policy
 * changes, and NEWRULE of each new rule, inserted before the next rule
 * that stays (NFTA_RULE_POSITION), or appended. No message touches a rule
 * that stays: it keeps its handle and counters.
 * Return: 0, or a negative errno after reporting to @d.
 */
int nl_build_delta(struct nl_txn *t, const struct model *old,
		   const struct model *new, const struct model_delta *dl,
		   struct diag *d);

/* NEWSET and NEWSETELEM messages for every set of @m (in @m->table, which
 * exists): the sets of nl_build_replace() without its table messages. */
int nl_build_sets(struct nl_txn *t, const struct model *m, struct diag *d);

/* A NEWTABLE (create) or DELTABLE message for the inet table @name. */
void nl_put_table(struct nl_txn *t, const char *name, uint16_t type);

/**
 * struct nl_err_ctx - what nl_report_error() maps refused messages to
 * @old: the live model of a delta (messages tagged side 0), or NULL
 * @m:   the model being applied (side 1)
 * @d:   receives one error naming the policy rule per refused message
 */
struct nl_err_ctx {
	const struct model *old;
	const struct model *m;
	struct diag *d;
};

/* An nl_error_fn (nl_sock.h) with a struct nl_err_ctx. */
void nl_report_error(void *ctx, const struct nl_tag *tag, int err,
		     const char *why);

/**
 * nl_value_bytes() - the bytes of one key component of a set element, as
 * apply sends them (padded to @ki->len); @end: the last value of a prefix
 * or range instead of the first.
 */
void nl_value_bytes(enum match_key key, const struct mvalue *v,
		    const struct nl_keyinfo *ki, bool end, uint8_t *out);

#endif
