/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NL_H
#define PORTWARDEN_NL_H

#include "diag.h"
#include "model.h"

/*
 * nftables over netlink (libnftnl + libmnl): nl_sock.c is the socket,
 * transactions and dumps; nl_batch.c builds a transaction's messages from
 * models, nl_read.c reads a live table back into a model, nl_apply.c
 * applies a model.
 */
struct nl_sock;

int nl_sock_open(struct nl_sock **out);
void nl_sock_close(struct nl_sock *s);

struct model_delta;

/**
 * nl_apply() - make the live table the model's, in one transaction
 * @m: the table to install; every other table is left alone
 * @d: on a kernel error, receives the error naming the policy rule
 *     (name and FILE:LINE) whose message the kernel refused
 *
 * Reads the live table and sends only what differs (nl_apply_delta());
 * nothing when nothing does.
 * Return: 0, or a negative errno (nothing changed).
 */
int nl_apply(struct nl_sock *s, const struct model *m, struct diag *d);

/**
 * nl_apply_known() - nl_apply(), knowing the live table's elements
 * @known, @known_gen: as for nl_read_table_known(): the table the last
 *        apply made (rollback's record), and the generation it committed
 */
int nl_apply_known(struct nl_sock *s, const struct model *m,
		   const struct model *known, uint32_t known_gen,
		   struct diag *d);

/**
 * nl_apply_delta() - send the plan @dl from @live to @m in one transaction
 * @live: the live table as nl_read_table() read it (with handles), NULL
 *        when absent
 * @dl:   model_delta(@live, @m)
 *
 * Rules that stay keep their handles and counters (model_delta.h). When
 * the kernel refuses a change in place, the table is recreated in a second
 * transaction, counters carried over, with a warning in @d.
 * Return: 0, or a negative errno (nothing changed).
 */
int nl_apply_delta(struct nl_sock *s, const struct model *live,
		   const struct model *m, const struct model_delta *dl,
		   struct diag *d);

/**
 * nl_apply_delta_drop() - nl_apply_delta(), and in the same transaction
 * delete the inet table @drop (promote: the staged table), which must
 * exist; @dl may have no changes (then only @drop goes)
 */
int nl_apply_delta_drop(struct nl_sock *s, const struct model *live,
			const struct model *m, const struct model_delta *dl,
			const char *drop, struct diag *d);

/**
 * nl_read_table() - dump a live inet table into a model
 * Return: 0; -ENOENT when the table does not exist; another -errno.
 * Rules or sets of shapes portwarden does not make are kept as rules with
 * no matches and a comment starting "unknown: " so they compare unequal.
 */
int nl_read_table(struct nl_sock *s, const char *table, struct model **out);

/**
 * nl_read_table_with() - nl_read_table(), set elements taken from @known
 * @known:     a model of the live table as of ruleset generation @known_gen
 *             (the one the last apply made, from its rollback record)
 *
 * While the ruleset generation is @known_gen when the dump starts and
 * ends, nothing has changed since @known: the elements of each live set
 * that @known has with the same definition are moved out of @known
 * instead of dumped (the kernel walks a large set from its start for every
 * dump reply). Sets, chains and rules, with handles and counters, are
 * always read from the kernel.
 */
int nl_read_table_with(struct nl_sock *s, const char *table,
		       struct model *known, uint32_t known_gen,
		       struct model **out);

/* nl_read_table_with(), the elements copied from @known (left as it is). */
int nl_read_table_known(struct nl_sock *s, const char *table,
			const struct model *known, uint32_t known_gen,
			struct model **out);

/**
 * nl_get_generation() - the ruleset generation of the socket's namespace
 * It changes with every committed transaction, whoever sent it.
 * Return: 0 or a negative errno.
 */
int nl_get_generation(struct nl_sock *s, uint32_t *gen);

/* The generation nl_apply()'s transaction committed, or 0 when unknown
 * (another transaction committed around it). */
uint32_t nl_applied_generation(const struct nl_sock *s);

/* The size of nl_apply()'s last batch: messages (BEGIN and END
 * included) and bytes, for `apply -v`. */
void nl_last_batch(const struct nl_sock *s, size_t *msgs, size_t *bytes);

/* SO_NETNS_COOKIE: names the socket's network namespace for this boot
 * (never reused, unlike the namespace's inode). 0 or a negative errno. */
int nl_netns_cookie(struct nl_sock *s, uint64_t *cookie);


/**
 * nl_table_owned() - does the inet table @table carry the ownership mark?
 * Return: 1 when it does; 0 when it exists without it (another program's
 * table, or one made by a portwarden older than the mark); -ENOENT when
 * there is no such table; another negative errno.
 */
int nl_table_owned(struct nl_sock *s, const char *table);

/* Delete the inet table @table; -ENOENT when it does not exist. */
int nl_delete_table(struct nl_sock *s, const char *table);

#endif
