/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MODEL_H
#define PORTWARDEN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * The ruleset model: one nftables inet table in terms close to the kernel's,
 * but knowing nothing of netlink or text. compile.c builds it from a policy,
 * nl_read.c builds it from the live kernel table; render_nft.c prints it,
 * nl_batch.c sends it, eval.c runs one packet through it, and model_equal()
 * compares two of them (apply's idempotence, diff, audit drift).
 *
 * Every match and verdict kind below has exactly one nft text form and one
 * bytecode form (the one nft itself emits for that text), so that
 * `nft -f` of the rendered text and portwarden's own batch make the same
 * table.
 */

/**
 * enum match_key - what a match or a set key looks at
 *
 * Text forms (single value / set lookup):
 *   KEY_NFPROTO   meta nfproto ipv4            value.num: NFPROTO_IPV4/IPV6
 *   KEY_L4PROTO   meta l4proto tcp | @s        value.num: IPPROTO_*
 *   KEY_IIFNAME   iifname "eth0"               value.str
 *   KEY_OIFNAME   oifname "eth0"               value.str
 *   KEY_SADDR     ip saddr 10.0.0.0/8 | @s     value.prefix (family picks ip/ip6);
 *                 a set lookup may be masked: ip saddr & 255.255.255.0 @s
 *   KEY_DADDR     ip6 daddr ::1 | @s           value.prefix
 *   KEY_SPORT     th sport 1024-65535 | @s     value.range
 *   KEY_DPORT     th dport 443 | @s            value.range
 *   KEY_SKUID     meta skuid 1000 | @s         value.num
 *   KEY_SKGID     meta skgid 1000 | @s         value.num
 *   KEY_CGROUPV2  socket cgroupv2 level N "p"  value.str, value.num = N (the
 *                 path depth); nft resolves "p" under /sys/fs/cgroup to its
 *                 inode number when the rule is loaded, so "p" must exist
 *   KEY_CT_STATE  ct state established,related value.num: CT_STATE_* bits
 *   KEY_ICMP_TYPE   icmp type echo-request | @s     value.num
 *   KEY_ICMPV6_TYPE icmpv6 type nd-neighbor-solicit | @s value.num
 *   KEY_CONCAT    ip daddr . meta l4proto . th dport @s  (set->keys)
 *
 * compile.c emits KEY_CONCAT only for folded rules: keys {KEY_DADDR or
 * KEY_SADDR, KEY_L4PROTO, KEY_DPORT} of one family, `flags interval` only
 * when an element is a prefix or a port range (a port-less rule becomes
 * the range 0-65535), never two overlapping elements (the kernel refuses
 * them). Its top comment documents the whole compiled layout.
 *
 * KEY_DPORT/KEY_SPORT are always preceded in the same rule by a
 * KEY_L4PROTO match (tcp or udp), or are inside a concatenation whose
 * elements fix the protocol.
 */
enum match_key {
	KEY_NFPROTO,
	KEY_L4PROTO,
	KEY_IIFNAME,
	KEY_OIFNAME,
	KEY_SADDR,
	KEY_DADDR,
	KEY_SPORT,
	KEY_DPORT,
	KEY_SKUID,
	KEY_SKGID,
	KEY_CGROUPV2,
	KEY_CT_STATE,
	KEY_ICMP_TYPE,
	KEY_ICMPV6_TYPE,
	KEY_CONCAT,
};

#define CT_STATE_ESTABLISHED	0x2u	/* kernel NF_CT_STATE_BIT values */
#define CT_STATE_RELATED	0x4u

/**
 * struct mvalue - one value or one set-element component
 * @num:    protocol number, uid/gid, nfproto, ct bits, icmp type
 * @range:  port range (lo == hi for one port)
 * @prefix: address prefix (plen == 32/128 for one address)
 * @str:    interface name or cgroup path (owned)
 */
struct mvalue {
	uint32_t num;
	struct port_range range;
	struct cidr prefix;
	char *str;
};

#define MSET_MAX_KEYS 3

/**
 * struct melem - one set element
 * @v:      one component per key of the set
 * @origin: the policy rule this element came from (NULL when read from
 *          the kernel or for built-in sets); explain and audit name it
 * @timeout_ms, @expires_ms: read from the kernel: an element added at
 *          run time with a timeout (`portwarden daemon`'s learned
 *          addresses), and the time it has left; 0 for the policy's own
 *          elements, which never expire. Apply keeps such elements of a
 *          `flags timeout` set (model_delta.h) and re-adds them with both
 *          when it must recreate the table.
 * @comment: read from the kernel: the element's comment (the hostname an
 *          address was learned for), owned; NULL when none
 */
struct melem {
	struct mvalue v[MSET_MAX_KEYS];
	const struct rule *origin;
	uint64_t timeout_ms, expires_ms;
	char *comment;
};

/**
 * struct mset - a named set of the table
 * @name:     unique within the table, [A-Za-z0-9_]+
 * @keys:     the key of each component; one for a plain set
 * @family:   4 or 6 when a key is an address, else 0
 * @interval: `flags interval` (needed when any element is a range/prefix)
 * @timeout:  `flags timeout`: others (the DNS daemon) add elements with a
 *            timeout at run time; apply keeps live elements the model does
 *            not list (model_delta.h)
 * @elems:    sorted by components, no duplicates
 * @sorted:   set by mset_sort(), cleared by mset_add_elem(): @elems are in
 *            melem_cmp() order without duplicates, so that eval may use a
 *            binary search (address sets: prefixes must not overlap, as
 *            the policy's normalised lists and kernel interval sets are)
 */
struct mset {
	char *name;
	enum match_key keys[MSET_MAX_KEYS];
	size_t n_keys;
	uint8_t family;
	bool interval;
	bool timeout;
	struct melem *elems;
	size_t n_elems, cap_elems;
	bool sorted;
};

/**
 * struct match - one condition of a rule
 * @key:    what is looked at
 * @negate: `!=` / `!= @set`
 * @set:    index into model.sets for a lookup, or -1 for a single @value
 * @family: 4 or 6 for KEY_SADDR/KEY_DADDR and concatenations with an address
 * @value:  the single value when @set < 0
 * @mask:   for a KEY_SADDR/KEY_DADDR set lookup only: when non-zero, the
 *          address is masked to its first @mask bits before the lookup,
 *          text `ip saddr & 255.255.255.0 @s` / `ip6 daddr & ffff:ffff:: @s`
 *          (the set's elements are network addresses of that length; a
 *          hash set). Bytecode: payload load of the whole address, bitwise
 *          `& mask ^ 0`, lookup. 0: no mask.
 */
struct match {
	enum match_key key;
	bool negate;
	int set;
	uint8_t family;
	struct mvalue value;
	uint8_t mask;
};

enum mverdict {
	MV_NONE,		/* no verdict: e.g. a log-only rule */
	MV_ACCEPT,
	MV_DROP,
	MV_REJECT_TCP,		/* reject with tcp reset (needs l4proto tcp) */
	MV_REJECT_ICMPX,	/* reject with icmpx port-unreachable ("reject") */
	MV_QUEUE,		/* `queue flags bypass to N` (mrule.queue_num):
				 * the DNS answers portwarden daemon holds */
};

/**
 * struct mrule - one nft rule
 * @matches:    all must hold, in this order
 * @counter:    has a `counter` statement (after the matches)
 * @log_prefix: when set: `limit rate 5/minute burst 5 packets log prefix "..."`
 *              after the counter (a rule with a log_prefix has MV_NONE)
 * @nflog_prefix: when set: `log prefix "..." group @nflog_group` after the
 *              counter (and after a @log_prefix), before the verdict: the
 *              NFLOG record of SPEC §9, a prefix of include/logprefix.h.
 *              Bytecode: one `log` expression with NFTA_LOG_PREFIX and
 *              NFTA_LOG_GROUP only (no snaplen or queue threshold: the
 *              reader sets its copy range, nfnetlink_log batches), as nft
 *              builds it for `log group G prefix "..."`
 * @nflog_group: the NFLOG group (policy `log_group`)
 * @verdict:    final statement
 * @comment:    `comment "..."` (owned), the policy rule name or built-in label
 * @origin:     the policy rule it came from, NULL for built-in rules and
 *              rules read from the kernel
 * @origin_name: the label eval reports for built-in rules ("established",
 *              "loopback", "icmp", "default"), or NULL
 * @handle:     kernel handle when read from the kernel, else 0
 * @queue_num:  the NFQUEUE number of an MV_QUEUE verdict (always with
 *              `bypass`: the packet is accepted when no program listens)
 * @origin_run: for a folded rule (a KEY_CONCAT lookup standing for a run of
 *              adjacent policy rules): the number of rules of the run,
 *              which starts at @origin in its direction's array; else 0.
 *              eval uses it to name the first rule of the run that matches.
 */
struct mrule {
	struct match *matches;
	size_t n_matches;
	bool counter;
	char *log_prefix;
	char *nflog_prefix;
	uint16_t nflog_group;
	enum mverdict verdict;
	char *comment;
	const struct rule *origin;
	const char *origin_name;
	uint64_t handle;
	uint64_t packets, bytes;	/* counter values when read back */
	size_t origin_run;
	uint16_t queue_num;
};

enum mhook {
	HOOK_INPUT,
	HOOK_OUTPUT,
};

/**
 * struct mchain - a base chain
 * @name:   "input" / "output"
 * @policy: MV_ACCEPT or MV_DROP
 */
struct mchain {
	char *name;
	enum mhook hook;
	int priority;
	enum mverdict policy;
	struct mrule *rules;
	size_t n_rules, cap_rules;
};

/**
 * struct model - one inet table
 * @table:  table name
 * @sets:   in creation order (nft lists them in this order)
 * @chains: in creation order; a compiled model has input then output
 * @policy: the policy it was compiled from (not owned), or NULL
 */
struct model {
	char *table;
	struct mset *sets;
	size_t n_sets, cap_sets;
	struct mchain *chains;
	size_t n_chains, cap_chains;
	const struct policy *policy;
};

/*
 * The ownership mark: portwarden creates its table with this comment in
 * the table's user data (NFTA_TABLE_USERDATA, nft's NFTNL_UDATA_TABLE_COMMENT
 * TLV, shown by `nft list` as `comment "..."`). A table is portwarden's
 * when its comment starts with OWNER_MARK; a later format may append
 * to it (" v2"). compile prints the same comment, so a table loaded with
 * `nft -f` from compile's output is portwarden's as well.
 */
#define OWNER_MARK "managed by portwarden"

struct model *model_new(const char *table);
void model_free(struct model *m);
struct mset *model_add_set(struct model *m, const char *name);
struct mchain *model_add_chain(struct model *m, const char *name,
			       enum mhook hook, int priority,
			       enum mverdict policy);
struct mrule *mchain_add_rule(struct mchain *c);
struct match *mrule_add_match(struct mrule *r, enum match_key key);
struct melem *mset_add_elem(struct mset *s);
int model_find_set(const struct model *m, const char *name);
struct mchain *model_find_chain(const struct model *m, enum mhook hook);

/**
 * melem_cmp() - order two elements of @s component by component
 *
 * Addresses by family, address bytes, then prefix length; ports by lo then
 * hi; strings with strcmp; everything else by number.
 * Return: <0, 0 or >0.
 */
int melem_cmp(const struct mset *s, const struct melem *a,
	      const struct melem *b);

/**
 * mset_sort() - sort @s->elems with melem_cmp() and drop exact duplicates
 *
 * Of equal elements the one whose origin comes first in its policy list is
 * kept. Overlapping (not equal) intervals are left alone.
 */
void mset_sort(struct mset *s);

/*
 * model_equal() - do two tables hold the same sets, chains and rules?
 * Ignores handles, counter values, origins. Set elements compare as sets;
 * a `flags timeout` set of the live table @a may hold more elements than
 * that of @b (added at run time, apply keeps them).
 */
bool model_equal(const struct model *a, const struct model *b);

/**
 * compile_policy() - build the ruleset model of a checked policy
 * @p:   the policy (must outlive the model: rules point into it)
 * @out: the model
 * @d:   receives compile-time warnings (shadowed rules and the like)
 *
 * Return: 0 or a negative errno.
 */
int compile_policy(const struct policy *p, struct model **out, struct diag *d);

#endif
