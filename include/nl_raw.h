/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NL_RAW_H
#define PORTWARDEN_NL_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

/*
 * Any table of any family, as the kernel holds it, for `status --table`:
 * chains with their hooks, and each rule as libnftnl's own readable form
 * of its expressions ("[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x06 ]",
 * what `nft --debug=netlink` prints), its counter and comment. Nothing is
 * interpreted: this shows tables portwarden does not model (iptables-nft's
 * `ip filter`, a bridge table) and rules nl_read.c cannot decode.
 */

/**
 * struct nl_raw_rule - one rule
 * @chain:   its chain's name
 * @text:    its expressions, each as "[ NAME ARGS ]", space separated
 * @comment: the rule's comment, or NULL
 * @counter: it has a counter expression; @packets, @bytes its values
 */
struct nl_raw_rule {
	char *chain;
	uint64_t handle;
	char *text;
	char *comment;
	bool counter;
	uint64_t packets, bytes;
};

/**
 * struct nl_raw_chain - one chain
 * @base:   a base chain: @type, @hook (NF_INET_* or NF_NETDEV_*),
 *          @priority and @policy (NF_ACCEPT/NF_DROP) are set
 */
struct nl_raw_chain {
	char *name;
	bool base;
	char *type;
	uint32_t hook;
	int32_t priority;
	uint32_t policy;
};

struct nl_raw_table {
	uint32_t family;	/* NFPROTO_* */
	char *name;
	struct nl_raw_chain *chains;
	size_t n_chains, cap_chains;
	struct nl_raw_rule *rules;	/* in kernel order, chain by chain */
	size_t n_rules, cap_rules;
};

/**
 * nl_raw_read() - dump table @name of @family (NFPROTO_*)
 * Return: 0; -ENOENT when there is no such table; another negative errno.
 */
int nl_raw_read(struct nl_sock *s, uint32_t family, const char *name,
		struct nl_raw_table **out);
void nl_raw_free(struct nl_raw_table *t);

/* "ip", "ip6", "inet", "arp", "bridge", "netdev" <-> NFPROTO_*: the name,
 * or NULL; the number, or -1 for a word that is no family. */
const char *nl_family_name(uint32_t family);
int nl_family_parse(const char *word);

/* The hook's name in @family ("input", "ingress", ...), or "?". */
const char *nl_hook_name(uint32_t family, uint32_t hook);

#endif
