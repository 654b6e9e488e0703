/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DAEMON_H
#define PORTWARDEN_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

/*
 * `portwarden daemon`: one epoll loop (src/daemon.c) over a signalfd
 * (SIGHUP, SIGTERM, SIGINT), timerfds and the event sources other
 * modules add: the nftables event socket of the drift repair (repair.c),
 * the NFQUEUE and DNS learner of hostname rules. No threads: every
 * callback runs on the loop and must not block for long.
 *
 * Events are one line each on stderr (text, or JSON lines with
 * --format json), built with daemon_ev_*(); the JSON lines also go to
 * RUN_DIR/events (bounded: it is truncated past 1 MiB) for `monitor`.
 *
 * SIGHUP: the "reload" callbacks run in the order they were added (the
 * command re-reads and re-applies the policy first, incrementally, so
 * learned set elements survive). SIGTERM/SIGINT: the "exit" callbacks
 * run, then the loop ends; the table stays as it is.
 */

struct daemon;
struct policy;
struct model;
struct nl_sock;

/* A callback of the loop: 0 to go on, a negative errno to stop the daemon
 * (it then exits with a runtime failure, after the exit callbacks). */
typedef int (*daemon_fn)(void *ctx, struct daemon *d);

/**
 * daemon_new() - an empty loop with its signalfd
 * @json: write events as JSON lines
 * Blocks SIGHUP, SIGTERM, SIGINT (they arrive on the signalfd).
 * Return: 0 or a negative errno.
 */
int daemon_new(struct daemon **out, bool json);
void daemon_free(struct daemon *d);

/**
 * daemon_run() - run the loop until SIGTERM/SIGINT or a callback fails
 * Return: 0 after a signal to stop, or the callback's negative errno.
 */
int daemon_run(struct daemon *d);

/* Make daemon_run() return @err (0: a clean stop) after this callback. */
void daemon_stop(struct daemon *d, int err);

/**
 * daemon_add_source() - call @on_ready whenever @fd is readable
 * The daemon does not own @fd; remove it before closing it.
 * Return: 0 or a negative errno.
 */
int daemon_add_source(struct daemon *d, int fd, daemon_fn on_ready, void *ctx);
void daemon_remove_source(struct daemon *d, int fd);

/**
 * daemon_add_timer() - a timer that calls @fn
 * @first_ms:    first expiry from now, 0 to leave it disarmed
 * @interval_ms: period after that, 0 for a one-shot timer
 * Return: a timer id (>= 0) for daemon_timer_arm(), or a negative errno.
 */
int daemon_add_timer(struct daemon *d, uint64_t first_ms, uint64_t interval_ms,
		     daemon_fn fn, void *ctx);
/* Re-arm timer @id (0, 0: disarm). */
int daemon_timer_arm(struct daemon *d, int id, uint64_t first_ms,
		     uint64_t interval_ms);

/* Callbacks on SIGHUP (after the policy was re-applied) and on exit. */
void daemon_on_reload(struct daemon *d, daemon_fn fn, void *ctx);
void daemon_on_exit(struct daemon *d, daemon_fn fn, void *ctx);

/**
 * daemon_on_repair() - a callback after each drift repair
 * The repair restores what the rollback record holds; elements learned at
 * run time that the kernel lost with a deleted set or table are not in
 * it: the hostname learner re-adds its own here. Its return value is
 * ignored beyond the daemon_fn convention (negative stops the daemon).
 */
void daemon_on_repair(struct daemon *d, daemon_fn fn, void *ctx);
/* Run the repair callbacks (repair.c calls it). */
int daemon_repaired(struct daemon *d);

/**
 * daemon_set_policy() - the policy and its compiled model the daemon runs
 * The daemon owns both from here (the previous ones are freed: callers
 * must not keep pointers across a reload).
 */
void daemon_set_policy(struct daemon *d, struct policy *p, struct model *m);
const struct policy *daemon_policy(const struct daemon *d);
const struct model *daemon_model(const struct daemon *d);

/**
 * daemon_mark_own() - "this transaction was mine": the drift repair never
 * treats ruleset generation @gen as another program's change. Every
 * transaction sent from the daemon's own process (its pid is in the
 * kernel's generation message) is already recognised; this is for a
 * helper process, should there ever be one.
 */
void daemon_mark_own(struct daemon *d, uint32_t gen);
bool daemon_is_own(const struct daemon *d, uint32_t gen);

/* ---- events ---- */

/*
 * One event line: daemon_ev_begin(), any number of fields, daemon_ev_end().
 * Text: "TIME KIND key=value key=\"quoted value\"" with untrusted bytes
 * escaped as \xNN; JSON: {"time": ..., "kind": KIND, "key": value, ...}.
 * Field keys are the caller's constant words.
 */
struct daemon_ev;

struct daemon_ev *daemon_ev_begin(struct daemon *d, const char *kind);
void daemon_ev_str(struct daemon_ev *e, const char *key, const char *val);
void daemon_ev_int(struct daemon_ev *e, const char *key, long long val);
void daemon_ev_num(struct daemon_ev *e, const char *key, double val);
void daemon_ev_bool(struct daemon_ev *e, const char *key, bool val);
void daemon_ev_end(struct daemon_ev *e);

/* A whole event with one "message" field (formatted). */
void daemon_event(struct daemon *d, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Milliseconds of CLOCK_MONOTONIC. */
double daemon_now_ms(void);

#endif
