/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_STATE_H
#define PORTWARDEN_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "model.h"
#include "nl.h"

/*
 * The run lock and the records portwarden keeps between runs. All of it
 * lives under RUN_DIR, in one directory per network namespace
 * (RUN_DIR/net-INODE, see safe_state_dir()), so that applies to different
 * namespaces never roll each other back.
 *
 * Files of a namespace directory, mode 0600, in the line format of kv.h:
 *   state      the rollback record: the generation of the last apply (or
 *              flush), its status, the table as it was before it (or
 *              "absent") and the table it made (or "absent")
 *   state.new  the next rollback record, written ahead of a transaction;
 *              renamed over `state` only once the kernel has committed
 *              (see rollback.h); a leftover one is resolved against the
 *              kernel by safe_recover()
 *   pending    the generation a confirm timer waits for; `confirm` removes it
 *
 * Library functions take the directory as an argument (tests use a
 * temporary one), return 0 or a negative errno and never print.
 */

#define RUN_DIR "/run/portwarden"

/**
 * run_lock() - take the exclusive run lock (RUN_DIR/lock), waiting for it
 * Return: a file descriptor to pass to run_unlock(), or a negative errno.
 */
int run_lock(void);
void run_unlock(int fd);
/* run_lock() without waiting: -EWOULDBLOCK while another run holds it. */
int run_trylock(void);

/**
 * safe_state_dir() - the state directory of the current network namespace
 * @buf: receives RUN_DIR "/net-INODE"; created (0700) with RUN_DIR if absent
 * Return: 0 or a negative errno.
 */
int safe_state_dir(char *buf, size_t len);

enum safe_status {
	SAFE_APPLYING,		/* older records only: saved over the last
				 * one just before the transaction */
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
 * @applied:    the table the apply made, or NULL when it removed the table
 *              (`flush`); never both NULL
 * @kernel_gen: the nftables ruleset generation the apply's transaction
 *              committed, 0 when not known (another transaction committed
 *              around it); while the kernel is still at it, the live table
 *              is @applied (see safe_state_is_live())
 * @netns_cookie: SO_NETNS_COOKIE of the namespace of @kernel_gen
 * @begin_gen:  the ruleset generation when this record was written ahead
 *              of its transaction, 0 when not known: while the kernel is
 *              still there, that transaction has not committed
 * @begin_cookie: SO_NETNS_COOKIE of the namespace of @begin_gen
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
	uint32_t begin_gen;
	uint64_t begin_cookie;
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
 * safe_state_read() - read one rollback record from @f (what
 * safe_state_load() does with the file; the fuzz harness calls it)
 * Return: 0, -EINVAL when the record is damaged, -EIO.
 */
int safe_state_read(FILE *f, struct safe_state **out);
/* Write @st to @f as safe_state_save() writes the file: 0 or -errno. */
int safe_state_write(FILE *f, const struct safe_state *st);

/*
 * The write-ahead record, @dir/state.new. safe_state_save_next() writes it
 * as safe_state_save() writes @dir/state (temp file, fsync, rename, fsync
 * of the directory); safe_state_promote() renames it over @dir/state;
 * safe_state_discard_next() removes it and any temp file a killed writer
 * left. Each returns 0 or a negative errno (-ENOENT: no such file).
 */
int safe_state_save_next(const char *dir, const struct safe_state *st);
int safe_state_load_next(const char *dir, struct safe_state **out);
int safe_state_promote(const char *dir);
int safe_state_discard_next(const char *dir);

/**
 * safe_state_generation() - the generation of @dir/state, read from its
 * first lines only (the record of a big table is megabytes)
 * Return: 0, -ENOENT, -EINVAL (damaged) or another negative errno.
 */
int safe_state_generation(const char *dir, uint64_t *gen);

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

#endif
