/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SAFE_H
#define PORTWARDEN_SAFE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "model.h"
#include "nl.h"

struct cli;

/*
 * Safe operations around apply: the run lock, the saved previous state
 * (for rollback and --confirm), the lock-out guard and the confirm timer.
 * All state lives under RUN_DIR (/run/portwarden), in one directory per
 * network namespace (RUN_DIR/net-INODE, see safe_state_dir()), so that
 * applies to different namespaces never roll each other back.
 *
 * Files of a namespace directory, each written to a temporary file, synced
 * and renamed into place, mode 0600:
 *   state    the generation of the last apply, its status, the table as it
 *            was before it (or "absent") and the table it made
 *   pending  the generation a confirm timer waits for; `confirm` removes it
 *
 * Library functions take the directory as an argument (tests use a
 * temporary one), return 0 or a negative errno and never print.
 */

/**
 * run_lock() - take the exclusive run lock (RUN_DIR/lock), waiting for it
 * Return: a file descriptor to pass to run_unlock(), or a negative errno.
 */
int run_lock(void);
void run_unlock(int fd);

/**
 * safe_state_dir() - the state directory of the current network namespace
 * @buf: receives RUN_DIR "/net-INODE"; created (0700) with RUN_DIR if absent
 * Return: 0 or a negative errno.
 */
int safe_state_dir(char *buf, size_t len);

enum safe_status {
	SAFE_APPLYING,		/* saved just before the transaction */
	SAFE_APPLIED,		/* the transaction succeeded */
	SAFE_ROLLED_BACK,	/* rollback or the confirm timer undid it */
};

/**
 * struct safe_state - what the last apply changed
 * @generation: 1 for the first apply in this namespace, +1 for each one
 * @status:     see enum safe_status
 * @by_timer:   SAFE_ROLLED_BACK: the confirm timer did it (not `rollback`)
 * @time:       when @status was set (seconds since the epoch)
 * @table:      the table name
 * @previous:   the table before the apply, or NULL when it did not exist
 * @applied:    the table the apply made
 * @kernel_gen: the nftables ruleset generation the apply's transaction
 *              committed, 0 when not known (another transaction committed
 *              around it); while the kernel is still at it, the live table
 *              is @applied (see safe_state_is_live())
 * @netns_cookie: SO_NETNS_COOKIE of the namespace of @kernel_gen
 */
struct safe_state {
	uint64_t generation;
	enum safe_status status;
	bool by_timer;
	int64_t time;
	char *table;
	struct model *previous;
	struct model *applied;
	uint32_t kernel_gen;
	uint64_t netns_cookie;
};

void safe_state_free(struct safe_state *st);

/**
 * safe_state_is_live() - is the live table still the one @st's apply made?
 * True when @st is SAFE_APPLIED with a known @kernel_gen and @s's
 * namespace (same cookie) is still at that ruleset generation: no
 * transaction of anyone has committed since, so @st->applied is the live
 * table and need not be dumped (a dump of 110,000 interval elements costs
 * the kernel about 0.5 s: it walks the set from its start for every 32 KiB
 * of reply).
 */
bool safe_state_is_live(const struct safe_state *st, struct nl_sock *s);

/**
 * safe_state_load() - read @dir/state
 * Return: 0; -ENOENT when no apply was recorded; -EINVAL when the file is
 * damaged; another negative errno.
 */
int safe_state_load(const char *dir, struct safe_state **out);

/**
 * safe_state_save() - write @dir/state atomically (temp file, fsync, rename)
 * Return: 0 or a negative errno (then the old file is untouched).
 */
int safe_state_save(const char *dir, const struct safe_state *st);

/**
 * struct safe_pending - a confirm timer waiting
 * @generation: the apply it guards
 * @deadline:   when it rolls back (seconds since the epoch)
 * @pid:        the timer process, 0 when not known yet
 */
struct safe_pending {
	uint64_t generation;
	int64_t deadline;
	pid_t pid;
};

/* Read @dir/pending: 0, -ENOENT when no timer waits, another -errno. */
int safe_pending_load(const char *dir, struct safe_pending *p);
/* Write @dir/pending atomically. */
int safe_pending_save(const char *dir, const struct safe_pending *p);
/* Remove @dir/pending: 0, or -ENOENT when there was none. */
int safe_pending_clear(const char *dir);

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

/**
 * safe_confirm() - keep the last apply: remove the pending timer file
 * @gen_out: the confirmed generation
 * Return: 0; -ENOENT when no timer waits; -ETIME when the confirm timer
 * already rolled the last apply back (too late).
 */
int safe_confirm(const char *dir, uint64_t *gen_out);

/**
 * safe_arm_timer() - start the detached confirm timer of generation @gen
 * @seconds: after this, the timer takes the run lock and, unless `confirm`
 *           ran, calls safe_rollback(@gen)
 * @pid_out: the timer process
 *
 * Writes @dir/pending, then forks twice with setsid() in between: the
 * timer belongs to no session or terminal, ignores SIGHUP, holds no file
 * descriptor of the caller (not the run lock) and stays in the current
 * network namespace. It runs no program: it is portwarden continuing in
 * a child, which _exit()s. Call with the run lock held.
 * Return: 0 or a negative errno (then no timer runs and no pending file
 * is left).
 */
int safe_arm_timer(const char *dir, uint64_t gen, long seconds,
		   pid_t *pid_out);

/**
 * struct safe_conn - a live connection the new policy would cut
 * @text:   "tcp 10.9.0.2:51234 -> 10.9.0.1:22"
 * @rule:   the deciding rule name, or the label ("default", ...)
 * @origin: the deciding policy rule (for its location), or NULL
 * @verdict: "drop" or "reject"
 */
struct safe_conn {
	char *text;
	const char *rule;
	const struct rule *origin;
	const char *verdict;
};

struct safe_conns {
	struct safe_conn *v;
	size_t n, cap;
	size_t checked;		/* inbound connections looked at */
};

void safe_conns_release(struct safe_conns *cs);

/**
 * safe_guard() - find live inbound connections that @next would cut
 * @next:   the compiled table about to be applied
 * @replay: NULL for the live socket table, or a sock_diag recording
 * @out:    zeroed by the caller; receives every connection whose first
 *          packet, sent again from the remote end, @next would drop or
 *          reject
 *
 * Inbound means: an established TCP connection or a connected UDP socket
 * whose local port has a listener (TCP LISTEN, unconnected bound UDP)
 * of the same protocol. The packet comes in on "lo" when either address
 * is a loopback one or both are equal, else on the interface holding the
 * local address.
 * Return: 0 or a negative errno.
 */
int safe_guard(const struct model *next, const char *replay,
	       struct safe_conns *out);

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
