/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SAFE_H
#define PORTWARDEN_SAFE_H

#include "model.h"
#include "nl.h"
#include "rollback.h"

struct cli;

/*
 * Command-layer hooks for apply_main (src/cmd_safe.c; these print), one
 * call on each side of nl_apply(), both under the run lock.
 */

/**
 * safe_before_apply() - the lock-out guard, then save the live table
 * @live: the live table read under the run lock, NULL when absent
 * @next: the table about to be applied
 * @t:    filled for safe_after_apply()
 *
 * Return: EXIT_OK to go on (signals are blocked until safe_after_apply());
 * EXIT_LOCKOUT after naming each connection @next would cut (unless
 * --force: then they are named as warnings); EXIT_RUNTIME when the
 * sockets or the state cannot be read or written. Anything but EXIT_OK:
 * do not apply, and do not call safe_after_apply().
 */
int safe_before_apply(struct cli *c, const struct model *live,
		      const struct model *next, struct safe_txn *t);

/**
 * safe_after_apply() - record the outcome; with --confirm N arm the timer
 * @s:         the socket nl_apply() used (to roll back when the timer
 *             cannot start)
 * @apply_ret: what nl_apply() returned
 *
 * Prints how to confirm. Always releases @t (unblocks the signals).
 * Return: EXIT_OK; EXIT_RUNTIME when the confirm timer could not start
 * (the apply was then rolled back at once, and said so). With
 * @apply_ret < 0 it returns EXIT_OK: the caller reports its own error.
 */
int safe_after_apply(struct cli *c, struct nl_sock *s, struct safe_txn *t,
		     int apply_ret);

#endif
