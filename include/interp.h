/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_INTERP_H
#define PORTWARDEN_INTERP_H

/*
 * The host's nftables rulesets, run on a synthesized packet.
 *
 * explain, audit and the lock-out guard ask one question: what does this
 * host's kernel do with this connection? The answer is computed the way
 * the kernel computes it: every base chain of every table on the hooks the
 * packet crosses, in priority order, each running the rules' own
 * expressions (payload, meta, cmp, bitwise, byteorder, range, lookup,
 * immediate, ct, reject, ...) over a register file. Tables come from
 * libnftnl (a dump of the live kernel, or the rules nl_expr.c builds for a
 * compiled policy: the same bytecode apply sends), so a verdict is the
 * kernel's by construction.
 *
 * What the interpreter cannot know (an xt match of iptables-nft, a NAT
 * that rewrites the address, a packet byte it would have to guess such as
 * the TTL) makes the answer IXV_UNDETERMINED, naming table, chain, rule
 * handle and expression. A field the caller did not give (the source port
 * of `explain` without --from, the socket owner of an inbound packet) is
 * absent: a comparison on it fails, negated or not, and a set lookup
 * matches only an element whose range for that field is everything.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "model.h"

struct nl_sock;
struct ix_host;

/* the verdict of one packet or one connection */
enum ix_verdict {
	IXV_ACCEPT,
	IXV_DROP,
	IXV_REJECT,
	IXV_UNDETERMINED,
};

const char *ix_verdict_name(enum ix_verdict v);

/* the hooks the interpreter runs (netfilter's NF_INET_* order) */
enum ix_hook {
	IXH_PREROUTING,
	IXH_INPUT,
	IXH_FORWARD,
	IXH_OUTPUT,
	IXH_POSTROUTING,
};

const char *ix_hook_name(enum ix_hook h);

/**
 * struct ix_step - one base chain a packet crossed
 * @table:   "inet portwarden", "ip filter", ... (the strings of a step
 *           belong to the host: valid while it is)
 * @chain:   chain name of the base chain (the deciding rule may sit in a
 *           chain it jumped to: @rule_chain, or NULL)
 * @verdict: what this base chain did (accept lets the packet on)
 * @handle:  the deciding rule's handle, 0 for the chain's policy (or a rule
 *           of a compiled policy, which has no handle yet)
 * @rule:    the deciding rule's name: a policy rule, a built-in label, the
 *           rule's comment, or NULL for the chain's policy
 * @at:      the policy rule's location, or NULL
 */
struct ix_step {
	const char *table;
	const char *chain;
	const char *rule_chain;
	enum ix_hook hook;
	int32_t priority;
	enum ix_verdict verdict;
	uint64_t handle;
	const char *rule;
	const struct loc *at;
	const struct rule *origin;
	const char *label;
};

#define IX_MAX_STEPS	32

/**
 * struct ix_packet_result - what the hooks did with one packet
 * @verdict: accept when every base chain accepted it
 * @decider: the step that decided: the first that did not accept, or the
 *           last portwarden step (or last step) when all accepted; -1 when
 *           no base chain is on the packet's hooks
 * @why:     for IXV_UNDETERMINED: what could not be interpreted
 */
struct ix_packet_result {
	enum ix_verdict verdict;
	struct ix_step steps[IX_MAX_STEPS];
	size_t n_steps;
	int decider;
	char why[256];
};

/**
 * struct ix_conn_result - a connection: its first packet, then the replies
 * @first:  the first packet (ct state new)
 * @reply:  the first of the following packets (TCP: SYN-ACK, then the
 *          initiator's ACK; UDP: the answer; ICMP echo: the echo reply)
 *          that is not accepted, else the last of them
 * @has_reply: the protocol has replies the interpreter runs
 * @verdict: @first's verdict, unless @first is accepted and a reply is not:
 *          then the reply's (the connection cannot complete)
 * @ports_read: IX_READ_OPENER: some rule looked at the opener's port (the
 *          source port of the first packet), IX_READ_RESPONDER: at the
 *          other end's; a port no rule read can be anything and the
 *          answer is the same (audit's cache)
 */
#define IX_READ_OPENER		1u
#define IX_READ_RESPONDER	2u
struct ix_conn_result {
	struct ix_packet_result first;
	struct ix_packet_result reply;
	bool has_reply;
	enum ix_verdict verdict;
	unsigned int ports_read;
};

/* ---- the host ---- */

struct ix_host *ix_host_new(void);
void ix_host_free(struct ix_host *h);

/**
 * ix_host_load_live() - dump every table of the socket's namespace
 * (ip, ip6, inet; other families are kept only to report them) and the
 * namespace's addresses and interfaces (for the local path and the
 * interface of an address)
 * @skip: the inet table a compiled policy will stand in for: its sets
 *        and rules are not read (NULL: read everything)
 * Return: 0 or a negative errno (-EPERM unprivileged).
 */
int ix_host_load_live(struct ix_host *h, struct nl_sock *s, const char *skip);

/**
 * ix_host_load_addrs() - only the namespace's own addresses and interfaces
 * (works unprivileged).
 */
int ix_host_load_addrs(struct ix_host *h);

/**
 * ix_host_add_model() - add the compiled table @m, replacing a table of
 * the same family and name (the live one): "what if this were applied".
 * Rules are built by nl_rule_build() and set elements by nl_value_bytes(),
 * as apply sends them; rules and elements keep their policy origins.
 * @m must outlive @h. Return: 0 or a negative errno.
 */
int ix_host_add_model(struct ix_host *h, const struct model *m);

/**
 * ix_host_load_msg() - add what one NFT_MSG_NEW{TABLE,CHAIN,SET,SETELEM,
 * RULE} message describes, as a dump reply or a batch carries it (tables
 * before their chains and sets, sets before their elements, chains before
 * the rules that jump to them); ix_host_finish() once after the last.
 * For tests and recorded rulesets. Return: 0 or a negative errno.
 */
struct nlmsghdr;
int ix_host_load_msg(struct ix_host *h, const struct nlmsghdr *nlh);
void ix_host_finish(struct ix_host *h);

/* Number of tables loaded (the compiled one included). */
size_t ix_host_n_tables(const struct ix_host *h);

/**
 * ix_eval_conn() - run a connection through the host's hooks
 * Return: 0, or a negative errno (-EINVAL for a packet with no family).
 */
int ix_eval_conn(const struct ix_host *h, const struct packet *pkt,
		 struct ix_conn_result *res);

/* Is @a one of the host's own addresses (or loopback)? */
bool ix_host_is_local(const struct ix_host *h, const struct cidr *a);

/* The interface that holds address @a, or NULL. */
const char *ix_host_iface_of(const struct ix_host *h, const struct cidr *a);

#endif
