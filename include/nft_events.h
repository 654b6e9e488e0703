/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NFT_EVENTS_H
#define PORTWARDEN_NFT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * The kernel's nftables events (multicast group NFNLGRP_NFTABLES), as
 * `nft monitor` reads them. Each committed transaction is announced
 * object by object (NEWTABLE, DELRULE, NEWSETELEM, ...) and then closed by
 * one NEWGEN message naming the new ruleset generation and the process
 * that committed it (NFTA_GEN_PROC_PID, NFTA_GEN_PROC_NAME); checked on
 * Linux 6.18: the object messages of a transaction come before its
 * NEWGEN. Attributes are validated with explicit lengths before use.
 */

struct nl_events;

/**
 * nl_events_open() - a socket of its own subscribed to NFNLGRP_NFTABLES
 * @rcvbuf: receive buffer in bytes, 0 for 8 MiB (a `flush ruleset` of a
 *          large ruleset is one message per rule); non-blocking.
 * Return: 0 or a negative errno.
 */
int nl_events_open(struct nl_events **out, int rcvbuf);
void nl_events_close(struct nl_events *ev);
int nl_events_fd(const struct nl_events *ev);

/**
 * nl_events_recv() - read one datagram (one or more messages)
 * Return: bytes read (> 0) into the socket's buffer, 0 when nothing is
 * waiting, -ENOBUFS when the kernel dropped events (resynchronise), or
 * another negative errno.
 */
ssize_t nl_events_recv(struct nl_events *ev, const void **buf);

enum nft_ev_kind {
	NFT_EV_OTHER,
	NFT_EV_GEN,		/* the end of a transaction */
	NFT_EV_TABLE,
	NFT_EV_CHAIN,
	NFT_EV_RULE,
	NFT_EV_SET,
	NFT_EV_SETELEM,
	NFT_EV_OBJ,		/* stateful objects, flowtables */
};

/**
 * struct nft_ev - one parsed event message
 * @kind:    what it is about
 * @del:     a DEL (or DESTROY) message, else a NEW one
 * @family:  NFPROTO_* of the table
 * @table:   the table's name ("" when the message has none)
 * @chain:   NFT_EV_RULE, NFT_EV_CHAIN: the chain's name
 * @set:     NFT_EV_SET, NFT_EV_SETELEM: the set's name
 * @handle:  NFT_EV_RULE: the rule's handle (0 when absent)
 * @gen_id, @pid, @comm: NFT_EV_GEN: the generation and who committed it
 *           (@comm "" when the kernel did not say; escape before printing)
 */
struct nft_ev {
	enum nft_ev_kind kind;
	bool del;
	uint8_t family;
	char table[257];
	char chain[257];
	char set[257];
	uint64_t handle;
	uint32_t gen_id;
	uint32_t pid;
	char comm[64];
};

/**
 * nft_ev_parse() - parse one netlink message of the nftables group
 * @buf, @len: the message (header included), as read from the socket
 * Return: 0; -EINVAL when it is truncated or malformed.
 */
int nft_ev_parse(const void *buf, size_t len, struct nft_ev *out);

/**
 * nft_ev_walk() - call @fn for each message of a datagram
 * Malformed messages are skipped and counted in *@bad.
 * Return: 0, or the first negative value @fn returned.
 */
int nft_ev_walk(const void *buf, size_t len,
		int (*fn)(const struct nft_ev *e, void *ctx), void *ctx,
		size_t *bad);

#endif
