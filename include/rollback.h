/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_ROLLBACK_H
#define PORTWARDEN_ROLLBACK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "nl.h"
#include "state.h"

/*
 * The rollback point: recording, around each apply, the table it replaces
 * (in the rollback record of state.h), and putting that table back.
 * Call everything here with the run lock held. Never prints.
 */

/**
 * safe_recover() - resolve a write-ahead record a killed run left
 * @s: netlink socket, or NULL to open one (only when there is a record)
 *
 * A leftover @dir/state.new was written whole before its transaction was
 * sent. When the kernel has committed since (its ruleset generation moved)
 * and holds the table that record's transaction makes, the record becomes
 * current; otherwise it is removed and the current record stays. Temp
 * files of killed writers are removed. Every function below calls it
 * first; call it with the run lock held before reading the record.
 * Return: 0 or a negative errno (netlink, or the rename).
 */
int safe_recover(const char *dir, struct nl_sock *s);

/**
 * struct safe_txn - one apply as the safe layer sees it
 * @dir:      the state directory
 * @cur:      the record of this apply, written ahead to state.new
 * @oldmask:  the signal mask to restore
 * @blocked:  SIGINT, SIGTERM and SIGHUP are blocked
 * @gen_before: the ruleset generation when the apply began (0: unknown)
 * @cookie:   the namespace's SO_NETNS_COOKIE
 */
struct safe_txn {
	char dir[256];
	struct safe_state *cur;
	sigset_t oldmask;
	bool blocked;
	uint32_t gen_before;
	uint64_t cookie;
};

/**
 * safe_apply_begin() - write the record of an apply ahead of it
 * @t:    zeroed by the caller; safe_txn_release() releases it
 * @dir:  the state directory
 * @live: the live table, read under the run lock, or NULL when absent
 * @next: the table about to be applied, or NULL to delete @live (`flush`)
 *
 * Call with the run lock held. @live and @next are borrowed, not copied:
 * keep both alive and unchanged until safe_txn_release(). Resolves a
 * leftover record (safe_recover()), then writes the record of this apply
 * (generation + 1, @live as the table to roll back to) to state.new,
 * synced; the current record stays until safe_apply_end(). Blocks SIGINT,
 * SIGTERM and SIGHUP so that neither the transaction nor the records are
 * cut in the middle.
 * Return: 0 or a negative errno (-ENOSPC, -EROFS, ...: then nothing is
 * left of it and no signal is blocked; the caller must not apply).
 */
int safe_apply_begin(struct safe_txn *t, const char *dir,
		     const struct model *live, const struct model *next);

/**
 * safe_apply_end() - record the outcome of the transaction
 * @apply_ret: what nl_apply() returned
 *
 * On success the record written ahead becomes current (rename over
 * state, directory synced), and the pending file of any older timer is
 * removed (that timer would find a newer generation and do nothing); on
 * failure it is removed and the record from before stays. The signals
 * stay blocked (arm the confirm timer first), safe_txn_release()
 * unblocks them.
 * Return: 0 or a negative errno from the rename (then the next run's
 * safe_recover() makes the record current).
 */
int safe_apply_end(struct safe_txn *t, int apply_ret);

/* Unblock the signals and free @t's record; accepts a released @t. */
void safe_txn_release(struct safe_txn *t);

/**
 * safe_rollback() - put back the table from before the last apply
 * @dir:      the state directory
 * @s:        netlink socket
 * @expect:   0, or the generation the caller means (the confirm timer):
 *            -ESTALE when the last apply is another one
 * @force:    restore even when the live table is not what the last apply
 *            made
 * @by_timer: recorded in the state
 * @st_out:   when not NULL, receives the state (also on most errors) for
 *            the caller's message; safe_state_free() it
 *
 * Call with the run lock held. The record as the rollback leaves it is
 * written ahead, as by safe_apply_begin(). Signals are blocked around the
 * transaction.
 * Return: 0; -ENOENT when no apply was recorded; -EALREADY when the last
 * apply was already rolled back, or never took effect (the live table is
 * the previous one); -ESTALE when @expect is not the last generation;
 * -EBUSY when the live table differs from what the last apply made
 * (changed since by something else) and @force is false; -EUCLEAN when
 * the saved previous table holds rules portwarden cannot recreate;
 * another negative errno from netlink or writing the state.
 */
int safe_rollback(const char *dir, struct nl_sock *s, uint64_t expect,
		  bool force, bool by_timer, struct safe_state **st_out);

/**
 * safe_flush() - delete @table with a rollback point, as an apply has
 * @kernel_err: set when the error came from netlink, not from the record
 *
 * Call with the run lock held. The table is read (or taken from the
 * record while the kernel's generation vouches for it), recorded as the
 * table to roll back to, then deleted.
 * Return: 0; -ENOENT when @table does not exist (nothing recorded);
 * another negative errno (then the kernel was not changed).
 */
int safe_flush(const char *dir, struct nl_sock *s, const char *table,
	       bool *kernel_err);

#endif
