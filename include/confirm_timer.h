/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_CONFIRM_TIMER_H
#define PORTWARDEN_CONFIRM_TIMER_H

#include <stdint.h>
#include <sys/types.h>

/*
 * `apply --confirm N`: a detached timer that rolls the apply back after N
 * seconds unless `confirm` runs first. Its record is RUN_DIR/net-INODE/pending
 * (state.h). Never prints (the timer logs to syslog).
 */

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

#endif
