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
 * struct safe_txn - one apply as the safe layer sees it
 * @dir:      the state directory
 * @old:      no longer loaded (always NULL): the record before this apply
 *            is kept as a file instead (@kept_old) and put back when the
 *            transaction fails, so a failed apply leaves no trace
 * @kept_old: that file exists
 * @cur:      the state of this apply
 * @oldmask:  the signal mask to restore
 * @blocked:  SIGINT, SIGTERM and SIGHUP are blocked
 * @gen_before: the ruleset generation when the apply began (0: unknown)
 * @cookie:   the namespace's SO_NETNS_COOKIE
 */
struct safe_txn {
	char dir[256];
	struct safe_state *old;
	struct safe_state *cur;
	sigset_t oldmask;
	bool blocked;
	uint32_t gen_before;
	uint64_t cookie;
	bool kept_old;
};

/**
 * safe_apply_begin() - save the live table before replacing it by @next
 * @t:    zeroed by the caller; safe_txn_release() releases it
 * @dir:  the state directory
 * @live: the live table, read under the run lock, or NULL when absent
 * @next: the table about to be applied
 *
 * Call with the run lock held. @live and @next are borrowed, not copied:
 * keep both alive and unchanged until safe_txn_release(). Writes
 * the new state with status SAFE_APPLYING and generation + 1, and
 * blocks SIGINT, SIGTERM and SIGHUP so that neither the transaction nor
 * the state files are cut in the middle.
 * Return: 0 or a negative errno (then nothing was written and no signal is
 * blocked; the caller must not apply).
 */
int safe_apply_begin(struct safe_txn *t, const char *dir,
		     const struct model *live, const struct model *next);

/**
 * safe_apply_end() - record the outcome of the transaction
 * @apply_ret: what nl_apply() returned
 *
 * On success the state becomes SAFE_APPLIED, with the ruleset generation
 * the transaction committed when exactly one commit happened since
 * safe_apply_begin() (then it was ours), and the pending file of any
 * older timer is removed (that timer would find a newer generation and do
 * nothing); on failure the state from before is put back. The signals stay
 * blocked (arm the confirm timer first), safe_txn_release() unblocks them.
 * Return: 0 or a negative errno from writing the state.
 */
int safe_apply_end(struct safe_txn *t, int apply_ret);

/* Unblock the signals and free @t's states; accepts a released @t. */
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
 * Call with the run lock held. Signals are blocked around the transaction.
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

#endif
