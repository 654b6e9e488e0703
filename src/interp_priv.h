/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_INTERP_PRIV_H
#define PORTWARDEN_INTERP_PRIV_H

/*
 * The interpreter's own copy of the host's tables (interp_load.c builds it,
 * interp_expr.c and interp_run.c run it). Expressions are decoded from
 * libnftnl once, into plain structs, so that a packet costs no libnftnl
 * call.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interp.h"

#define IX_REG_BYTES	64	/* 16 32-bit registers (NFT_REG32_00..15) */
#define IX_DATA_MAX	64	/* NFT_DATA_VALUE_MAXLEN */

enum ix_op {
	IXO_PAYLOAD,
	IXO_META,
	IXO_META_SET,
	IXO_CMP,
	IXO_BITWISE,
	IXO_BYTEORDER,
	IXO_RANGE,
	IXO_LOOKUP,
	IXO_IMMEDIATE,
	IXO_CT,
	IXO_CT_SET,
	IXO_NOOP,		/* counter, log, last, dup, objref counter, ... */
	IXO_LIMIT,
	IXO_REJECT,
	IXO_FIB,
	IXO_SOCKET,
	IXO_NOTRACK,
	IXO_DYNSET,		/* add/update @set: no verdict of its own */
	IXO_CGROUP_PATH,	/* a compiled policy's `socket cgroupv2 level N
				 * "path"` whose path this host does not have:
				 * compared by path, not by inode */
	IXO_UNKNOWN,		/* cannot be interpreted: undetermined */
};

/* immediate verdicts (NF_* and NFT_* codes as the kernel has them) */
struct ix_vdict {
	int32_t code;
	int chain;		/* index into the table's chains for jump/goto */
};

/**
 * struct ix_expr - one decoded expression
 * @what:  for IXO_UNKNOWN and for messages: "xt match conntrack", "nat"...
 */
struct ix_expr {
	enum ix_op op;
	uint32_t sreg, sreg2, dreg;	/* byte offsets into the register file */
	uint32_t len;
	uint32_t key;			/* meta/ct key, payload base, fib result */
	uint32_t offset;		/* payload offset, ct direction + 1 */
	uint32_t cmp_op;		/* cmp/range op, bitwise op, byteorder op */
	uint32_t flags;			/* lookup/fib flags, socket level */
	uint32_t size;			/* byteorder size, bitwise shift */
	uint8_t data[IX_DATA_MAX];	/* cmp data, range from, bitwise mask */
	uint8_t data2[IX_DATA_MAX];	/* range to, bitwise xor */
	int set;			/* lookup: index into the table's sets */
	bool to_verdict;		/* lookup into a verdict map, immediate
					 * verdict */
	struct ix_vdict vd;
	const char *str;		/* IXO_CGROUP_PATH: the path (not owned) */
	char what[48];
};

struct ix_rule {
	struct ix_expr *ex;
	size_t n_ex;
	uint64_t handle;
	char *comment;
	const struct mrule *mrule;	/* compiled policy: the model rule */
};

struct ix_chain {
	char *name;
	uint64_t handle;
	bool base;
	uint32_t hooknum;		/* NF_INET_* */
	int32_t prio;
	char type[16];			/* filter, nat, route */
	int32_t policy;			/* NF_ACCEPT or NF_DROP */
	char *dev;			/* netdev/ingress chains: the device */
	struct ix_rule *rules;
	size_t n_rules, cap_rules;
	const struct mchain *mchain;
};

/*
 * One set element as a closed range [lo, hi] of key bytes (hi == lo for
 * an element of a set without intervals); maps carry data or a verdict.
 */
struct ix_elem {
	uint8_t *lo, *hi;		/* key_len bytes each (hi may be lo) */
	uint8_t *data;			/* data_len bytes, maps only */
	struct ix_vdict vd;		/* verdict maps */
	const struct rule *origin;
};

struct ix_set {
	char *name;
	uint32_t flags;			/* NFT_SET_* */
	uint32_t key_len, data_len;
	uint32_t data_type;		/* NFT_DATA_VERDICT for verdict maps */
	uint8_t field_len[16];		/* concatenations: field lengths */
	uint32_t n_fields;
	bool is_map;
	struct ix_elem *elems;
	size_t n_elems, cap_elems;
	bool sorted;			/* by lo, non-overlapping: bsearch */
	bool looked_up;			/* a rule of the table looks it up */
	/* while loading interval sets: start/end markers to pair up */
	struct ix_bound *bounds;
	size_t n_bounds, cap_bounds;
};

struct ix_bound {
	uint8_t *key;
	bool end;
	struct ix_vdict vd;
	uint8_t *data;
};

struct ix_table {
	uint32_t family;		/* NFPROTO_* */
	char *name;
	char *label;			/* "inet portwarden": for messages */
	uint64_t handle;
	uint32_t flags;			/* NFT_TABLE_F_DORMANT ... */
	struct ix_set *sets;
	size_t n_sets, cap_sets;
	int *set_hash;			/* open addressing: 1 + set index */
	size_t set_hash_cap, set_hash_n;	/* set_hash_n: sets hashed */
	struct ix_chain *chains;
	size_t n_chains, cap_chains;
	const struct model *model;	/* a compiled policy's table */
};

struct ix_iface {
	char name[16];
	int index;
	int type;			/* ARPHRD_* */
	struct cidr *addrs;
	size_t n_addrs, cap_addrs;
};

/* a base chain on a hook, in the order the hook runs them */
struct ix_hooked {
	const struct ix_table *t;
	const struct ix_chain *c;
};

struct ix_host {
	struct ix_table *tables;
	size_t n_tables, cap_tables;
	/* the base chains of each hook, per family (IPv4, IPv6) and for the
	 * first packet / the others (NAT chains see first packets only);
	 * built on the first evaluation, dropped when tables change */
	struct ix_hooked *hooks[5][2][2];
	size_t n_hooks[5][2][2];
	bool hooks_ready;
	struct ix_iface *ifaces;
	size_t n_ifaces, cap_ifaces;
	bool live_addrs;		/* ifaces come from the namespace */
};

struct ix_table *ix_table_add(struct ix_host *h, uint32_t family,
			      const char *name);
struct ix_table *ix_table_find(const struct ix_host *h, uint32_t family,
			       const char *name);
void ix_table_clear(struct ix_table *t);
int ix_set_find(const struct ix_table *t, const char *name);
int ix_chain_find(const struct ix_table *t, const char *name);

/* Decode one NFT_MSG_NEWRULE message (a dump reply, or the one apply
 * would send) into @r (interp_expr.c). What cannot be decoded or resolved
 * becomes an expression that evaluates undetermined. */
struct nlmsghdr;
void ix_rule_decode(struct ix_table *t, const struct nlmsghdr *nlh,
		    struct ix_rule *r);
void ix_rule_release(struct ix_rule *r);

/* Sort a set's elements (and pair interval bounds) after loading. */
void ix_set_finish(struct ix_set *s);

/* ---- running ---- */

/* byte states of the register file and the packet */
enum ix_byte {
	IXB_KNOWN = 0,
	IXB_ABSENT = 1,		/* the caller did not give it: no match */
	IXB_UNDET = 2,		/* the kernel's packet has a value we cannot
				 * know: the answer is undetermined */
};

/* the packet as one hook sees it */
struct ix_pkt {
	uint8_t family;			/* 4 or 6 */
	uint8_t l4proto;
	enum ix_hook hook;
	uint8_t nh[40], nh_st[40];	/* network header and byte states */
	uint32_t nh_len;
	uint8_t th[20], th_st[20];	/* transport header */
	uint32_t th_len;
	const char *iif, *oif;		/* NULL: no such device at this hook */
	bool iif_absent, oif_absent;	/* the device exists, name unknown */
	int iif_index, oif_index, iif_type, oif_type;
	bool has_sk;			/* a local socket is attached */
	bool sk_undet;			/* whether one is attached is unknown */
	uint32_t uid, gid;
	bool has_uid, has_gid;
	const char *cgroup;
	bool has_ct;			/* conntrack ran (priority > -200) */
	bool untracked;
	uint32_t ct_state;		/* NF_CT_STATE bits */
	uint8_t ct_dir;			/* 0 original, 1 reply */
	uint32_t mark, ct_mark;
	bool local_dst;			/* fib daddr type local */
	const struct packet *orig;	/* the connection's first packet */
	int opener_port;		/* transport header offset of the
					 * opener's port (0 or 2), or -1; the
					 * other port is the responder's */
	unsigned int *ports_read;	/* IX_READ_* of the ports rules read */
	struct packet view;		/* this packet (a reply: swapped) */
	const struct ix_host *host;
};

struct ix_regs {
	uint8_t b[IX_REG_BYTES];
	uint8_t st[IX_REG_BYTES];
	struct ix_vdict vd;
};

/* result of running one rule's expressions */
struct ix_rule_out {
	bool undet;
	char why[160];
	const struct rule *origin;	/* element origin of a deciding lookup */
};

/* Forget the hooks' chain lists (the tables changed). */
void ix_hooks_drop(struct ix_host *h);

/* "inet", "ip", "ip6", "arp", "bridge", "netdev" */
const char *ix_family_name(uint32_t f);

/* Run one rule; returns with regs->vd.code set (NFT_CONTINUE when the rule
 * matched without verdict, NFT_BREAK when it did not match). */
void ix_rule_run(const struct ix_table *t, const struct ix_rule *r,
		 struct ix_pkt *p, struct ix_regs *regs,
		 struct ix_rule_out *out);

#endif
