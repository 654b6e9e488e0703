/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NL_SOCK_H
#define PORTWARDEN_NL_SOCK_H

/*
 * The netlink module (nftables' src/mnl.c): the socket, transactions sent
 * as one batch with every ack read back, and dumps. It knows nothing of
 * the ruleset model: nl_batch.c builds a transaction's messages from
 * models, nl_read.c turns dump replies into a model, nl_apply.c runs an
 * apply; all three call this module, none of them calls another's
 * socket code.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"

struct mnl_socket;
struct nlmsghdr;

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	uint32_t applied_gen;	/* generation of the last transaction, or 0 */
	size_t last_msgs;	/* messages of the last apply's batch (-vv) */
	size_t last_bytes;	/* and their bytes */
};

/* Set up the socket's buffers for a payload of @bytes. */
void nl_sock_bufsize(struct nl_sock *s, size_t bytes);

/**
 * struct nl_tag - what one message of a transaction stands for
 * @what:  NL_TAG_* (0: the table, or the batch markers)
 * @side:  0: an object of the live (old) model, 1: of the wanted (new) one
 * @set, @chain, @rule: indexes into that model
 * @elem:  1 + the model element a NEWSETELEM/DELSETELEM message starts
 *         with, or 0
 * The socket module only hands tags back to the error callback.
 */
enum nl_tag_what {
	NL_TAG_TABLE,
	NL_TAG_SET,
	NL_TAG_RULE,
	NL_TAG_CHAIN,
};

struct nl_tag {
	enum nl_tag_what what;
	int side;
	size_t set, chain, rule;
	size_t elem;
};

/**
 * struct nl_txn - the messages of one transaction, BEGIN ... END
 *
 * Kept in pages that never move: no copy when it grows, and no more
 * memory than the messages plus one page's slack. Message n has sequence
 * number @seq0 + n; @tags[n] says what it stands for.
 */
struct nl_txn_page {
	char *buf;
	size_t len, cap;
};

struct nl_txn {
	struct nl_txn_page *pages;
	size_t n_pages, cap_pages;
	size_t len;			/* bytes in all pages */
	uint32_t seq0;
	struct nl_tag *tags;		/* by seq - seq0 */
	size_t n_tags, cap_tags;
	size_t n_acks;
	size_t n_msgs;			/* messages between BEGIN and END */
};

/* Room a message may take at most (a NEWSETELEM of 512 elements). */
#define NL_MSG_RESERVE	(128u * 1024)

/* Start a transaction on @s: its BEGIN message. */
void nl_txn_begin(struct nl_txn *t, struct nl_sock *s);

/* Room for a message of up to @need bytes; zeroed. */
char *nl_txn_reserve(struct nl_txn *t, size_t need);

/* The header of the next message (inet family, asks for an ack). */
struct nlmsghdr *nl_txn_msg(struct nl_txn *t, uint16_t type, uint16_t flags);

/* Account for the message just built at @nlh, standing for @tag (NULL:
 * the table). */
void nl_txn_commit(struct nl_txn *t, struct nlmsghdr *nlh,
		   const struct nl_tag *tag);

/* The END message; the socket's sequence numbers move past the batch. */
void nl_txn_end(struct nl_txn *t, struct nl_sock *s);

void nl_txn_release(struct nl_txn *t);

/**
 * nl_error_fn - called for every message the kernel refused
 * @tag: what the message stood for, NULL when the sequence number is not
 *       one of the transaction's
 * @err: negative errno
 * @why: the kernel's extended ack text, or NULL
 */
typedef void (*nl_error_fn)(void *ctx, const struct nl_tag *tag, int err,
			    const char *why);

/**
 * nl_txn_talk() - send the transaction in one sendmsg, read every ack
 * Return: 0; the first error the kernel returned (after calling @on_error
 * for each); -ENOBUFS when replies were lost (the caller must find out
 * from the kernel whether the transaction committed); another -errno when
 * the batch could not be sent or the replies not read (the caller
 * reports it; @on_error is not called).
 */
int nl_txn_talk(struct nl_sock *s, struct nl_txn *t, nl_error_fn on_error,
		void *ctx);

/* ---- dumps and queries ---- */

typedef int (*nl_dump_cb)(const struct nlmsghdr *nlh, void *data);

/* The header of a request in @buf (MNL_SOCKET_BUFFER_SIZE bytes, zeroed). */
struct nlmsghdr *nl_req_hdr(struct nl_sock *s, char *buf, uint16_t type,
			    uint16_t flags);

/**
 * nl_query() - send @req and run @cb on every reply until the dump ends
 * Return: 0, -EINTR when the dump was interrupted (retry), -ENOBUFS when
 * replies were lost (retry), the first error of @cb, or another -errno.
 */
int nl_query(struct nl_sock *s, struct nlmsghdr *req, nl_dump_cb cb,
	     void *data);

/**
 * nl_dump() - one NLM_F_DUMP request of @type for @family (NFPROTO_UNSPEC:
 * every family); @table and @set name the set of a GETSETELEM dump;
 * @table alone filters a GETRULE or GETSET dump to one table.
 * @cb runs for every reply message. Return: as nl_query().
 */
int nl_dump(struct nl_sock *s, uint16_t type, uint16_t family,
	    const char *table, const char *set, nl_dump_cb cb, void *data);

#endif
