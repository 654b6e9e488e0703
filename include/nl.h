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

/**
 * nl_apply() - replace the model's table in one transaction
 * @m: the table to install; every other table is left alone
 * @d: on a kernel error, receives the error naming the policy rule
 *     (name and FILE:LINE) whose message the kernel refused
 * Return: 0, or a negative errno (nothing changed).
 */
int nl_apply(struct nl_sock *s, const struct model *m, struct diag *d);

/**
 * nl_read_table() - dump a live inet table into a model
 * Return: 0; -ENOENT when the table does not exist; another -errno.
 * Rules or sets of shapes portwarden does not make are kept as rules with
 * no matches and a comment starting "unknown: " so they compare unequal.
 */
int nl_read_table(struct nl_sock *s, const char *table, struct model **out);

/**
 * nl_get_generation() - the ruleset generation of the socket's namespace
 * It changes with every committed transaction, whoever sent it.
 * Return: 0 or a negative errno.
 */
int nl_get_generation(struct nl_sock *s, uint32_t *gen);

/* The generation nl_apply()'s transaction committed, or 0 when unknown
 * (another transaction committed around it). */
uint32_t nl_applied_generation(const struct nl_sock *s);

/* SO_NETNS_COOKIE: names the socket's network namespace for this boot
 * (never reused, unlike the namespace's inode). 0 or a negative errno. */
int nl_netns_cookie(struct nl_sock *s, uint64_t *cookie);

/* Delete the inet table @table; -ENOENT when it does not exist. */
int nl_delete_table(struct nl_sock *s, const char *table);

#endif
