// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rollback point (see rollback.h): the record written around each
 * apply, and rollback, which puts the table from before it back.
 *
 * Every state change happens under the run lock, write-ahead: the record
 * a transaction will make current is written whole to state.new (synced)
 * before the batch is sent, and renamed over the current record only
 * after the kernel has committed. The kernel side is atomic (one batch
 * per transaction), and each step on disk is a rename, so a kill -9 at
 * any instant leaves the old record with the old table, or state.new
 * beside a kernel that may hold either table: safe_recover() asks the
 * kernel which, under the lock, before anything reads the record.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rollback.h"
#include "util.h"

static int64_t now_realtime(void)
{
	return (int64_t)time(NULL);
}

/* The ruleset generation and namespace cookie of the current namespace:
 * 0 or a negative errno (then nothing is known). */
static int kernel_gen_now(uint32_t *gen, uint64_t *cookie)
{
	struct nl_sock *s = NULL;
	int ret = nl_sock_open(&s);

	if (!ret)
		ret = nl_get_generation(s, gen);
	if (!ret)
		ret = nl_netns_cookie(s, cookie);
	nl_sock_close(s);
	return ret;
}

static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* Rules read back from the kernel that portwarden did not make. */
static bool model_restorable(const struct model *m)
{
	size_t i, j;

	for (i = 0; i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++) {
			const char *c = m->chains[i].rules[j].comment;

			if (c && !strncmp(c, "unknown: ", 9))
				return false;
		}
	return true;
}

static bool same_table(const struct model *a, const struct model *b)
{
	if (!a || !b)
		return !a && !b;
	return model_equal(a, b);
}


/* The table the transaction of record @st leaves in the kernel. */
static const struct model *result_of(const struct safe_state *st)
{
	return st->status == SAFE_ROLLED_BACK ? st->previous : st->applied;
}

/* A newer record is current: a timer of an older generation guards a
 * table that is gone (it would find a newer generation and do nothing);
 * remove its file so that `confirm` does not claim to confirm it. */
static void clear_older_timer(const char *dir, uint64_t gen)
{
	struct safe_pending p;

	if (safe_pending_load(dir, &p) == 0 && p.generation < gen)
		safe_pending_clear(dir);
}

int safe_recover(const char *dir, struct nl_sock *s)
{
	struct safe_state *nx = NULL;
	struct nl_sock *own = NULL;
	struct model *live = NULL;
	uint64_t cookie;
	uint32_t gen;
	bool committed;
	int ret;

	ret = safe_state_load_next(dir, &nx);
	if (ret == -ENOENT || ret == -EINVAL) {
		/* None, or one cut short while it was written: the kernel was
		 * not touched before it was whole. */
		safe_state_discard_next(dir);
		return 0;
	}
	if (ret < 0)
		return ret;
	if (!s) {
		ret = nl_sock_open(&own);
		if (ret < 0)
			goto out;
		s = own;
	}
	ret = nl_get_generation(s, &gen);
	if (!ret)
		ret = nl_netns_cookie(s, &cookie);
	if (ret < 0)
		goto out;
	if (nx->begin_gen && gen == nx->begin_gen && cookie == nx->begin_cookie) {
		committed = false;	/* nothing committed since it was written */
	} else {
		ret = nl_read_table(s, nx->table, &live);
		if (ret < 0 && ret != -ENOENT)
			goto out;
		committed = same_table(live, result_of(nx));
	}
	if (committed) {
		/* The record's kernel-generation is right or in the past: the
		 * kernel's generation only grows, and the table at it was just
		 * found equal. */
		ret = safe_state_promote(dir);
		if (!ret && nx->status != SAFE_ROLLED_BACK)
			clear_older_timer(dir, nx->generation);
	} else {
		ret = safe_state_discard_next(dir);
		if (ret == -ENOENT)
			ret = 0;
	}
out:
	model_free(live);
	nl_sock_close(own);
	safe_state_free(nx);
	return ret;
}

int safe_apply_begin(struct safe_txn *t, const char *dir,
		     const struct model *live, const struct model *next)
{
	const struct model *any = next ? next : live;
	struct safe_pending p;
	struct safe_state *cur;
	uint64_t old_gen = 0;
	int ret;

	if (!any)
		return -EINVAL;
	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s", dir) >= sizeof(t->dir))
		return -ENAMETOOLONG;
	ret = safe_recover(dir, NULL);
	if (ret < 0)
		return ret;
	/* Only the old record's generation is needed (loading a record of
	 * 110,000 elements whole cost 15 MB and 40 ms); it stays as it is
	 * until the kernel has committed. A damaged record must not stop the
	 * next apply: it is replaced. */
	ret = safe_state_generation(dir, &old_gen);
	if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
		return ret;
	cur = xcalloc(1, sizeof(*cur));
	t->cur = cur;
	cur->generation = ret == 0 ? old_gen : 0;
	/* Never reuse the number a waiting timer keys on, even when the
	 * state file was lost or damaged. */
	if (safe_pending_load(dir, &p) == 0 && p.generation > cur->generation)
		cur->generation = p.generation;
	cur->generation++;
	cur->status = SAFE_APPLIED;
	cur->time = now_realtime();
	cur->table = xstrdup(any->table);
	/* Borrowed, not copied: the caller keeps both alive until
	 * safe_txn_release() (a copy of 110,000 elements doubled the peak
	 * memory of an apply). */
	cur->previous = (struct model *)live;
	cur->applied = (struct model *)next;
	if (kernel_gen_now(&t->gen_before, &t->cookie) < 0)
		t->gen_before = 0;
	if (t->gen_before && t->gen_before + 1) {
		/* Written ahead, before the commit: it becomes current only
		 * once ours has committed, at this generation or a later one.
		 * A generation in the past never matches the kernel again. */
		cur->begin_gen = t->gen_before;
		cur->begin_cookie = t->cookie;
		cur->kernel_gen = t->gen_before + 1;
		cur->netns_cookie = t->cookie;
	}
	block_signals(&t->oldmask);
	t->blocked = true;
	ret = safe_state_save_next(dir, cur);
	if (ret < 0) {
		safe_state_discard_next(dir);
		safe_txn_release(t);
	}
	return ret;
}

int safe_apply_end(struct safe_txn *t, int apply_ret)
{
	int ret;

	if (!t->cur)
		return -EINVAL;
	if (apply_ret < 0) {
		/* Nothing changed in the kernel: the current record stays. */
		ret = safe_state_discard_next(t->dir);
		return ret == -ENOENT ? 0 : ret;
	}
	/* The kernel has committed: the record written ahead is current.
	 * When this rename fails, state.new stays and the next run's
	 * safe_recover() finds the kernel holding its table. */
	ret = safe_state_promote(t->dir);
	if (!ret)
		clear_older_timer(t->dir, t->cur->generation);
	return ret;
}

void safe_txn_release(struct safe_txn *t)
{
	if (!t)
		return;
	if (t->blocked)
		sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	t->blocked = false;
	if (t->cur) {	/* its tables are the caller's (safe_apply_begin) */
		t->cur->previous = NULL;
		t->cur->applied = NULL;
	}
	safe_state_free(t->cur);
	t->cur = NULL;
}

int safe_rollback(const char *dir, struct nl_sock *s, uint64_t expect,
		  bool force, bool by_timer, struct safe_state **st_out)
{
	struct safe_state *st = NULL;
	struct model *live = NULL;
	struct safe_pending p;
	enum safe_status status;
	uint32_t begin_gen = 0, known_gen = 0;
	uint64_t begin_cookie = 0;
	bool was_by_timer;
	int64_t was_time;
	uint32_t kgen;
	struct diag d;
	sigset_t old;
	int ret;

	diag_init(&d);
	if (st_out)
		*st_out = NULL;
	ret = safe_recover(dir, s);
	if (ret < 0)
		goto out;
	ret = safe_state_load(dir, &st);
	if (ret < 0)
		goto out;
	if (expect && st->generation != expect) {
		ret = -ESTALE;
		goto out;
	}
	if (st->status == SAFE_ROLLED_BACK) {
		ret = -EALREADY;
		goto out;
	}
	/* Nothing committed since the apply: the live table is the one it
	 * made, no need to dump it back; and the generation now is known. */
	if (safe_state_is_live(st, s)) {
		begin_gen = st->kernel_gen;
		begin_cookie = st->netns_cookie;
		known_gen = st->kernel_gen;
		goto restore;
	}
	ret = nl_read_table(s, st->table, &live);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (!same_table(live, st->applied)) {
		if (same_table(live, st->previous)) {
			/* The apply never took effect (failed or cut short
			 * before the kernel committed it). */
			ret = -EALREADY;
			goto out;
		}
		if (!force) {
			ret = -EBUSY;
			goto out;
		}
	}
restore:
	if (st->previous && !model_restorable(st->previous)) {
		ret = -EUCLEAN;
		goto out;
	}
	/* The record as the rollback leaves it, written ahead. */
	status = st->status;
	was_by_timer = st->by_timer;
	was_time = st->time;
	kgen = st->kernel_gen;
	st->status = SAFE_ROLLED_BACK;
	st->kernel_gen = 0;	/* the live table will be st->previous */
	st->by_timer = by_timer;
	st->time = now_realtime();
	if (!begin_gen && (nl_get_generation(s, &begin_gen) < 0 ||
			   nl_netns_cookie(s, &begin_cookie) < 0))
		begin_gen = 0;
	st->begin_gen = begin_gen;
	st->begin_cookie = begin_cookie;
	block_signals(&old);
	ret = safe_state_save_next(dir, st);
	if (ret < 0) {
		safe_state_discard_next(dir);
		goto undo;
	}
	if (st->previous)
		/* incremental: rules both tables share keep their counters;
		 * the live elements come from the record while it vouches */
		ret = nl_apply_known(s, st->previous, st->applied, known_gen,
				     &d);
	else
		ret = nl_delete_table(s, st->table);
	if (ret == -ENOENT && !st->previous)
		ret = 0;
	if (ret < 0) {
		safe_state_discard_next(dir);
		goto undo;
	}
	ret = safe_state_promote(dir);
	if (safe_pending_load(dir, &p) == 0 && p.generation == st->generation)
		safe_pending_clear(dir);
	sigprocmask(SIG_SETMASK, &old, NULL);
	goto out;
undo:
	/* Nothing changed: the caller's message describes the record. */
	st->status = status;
	st->by_timer = was_by_timer;
	st->time = was_time;
	st->kernel_gen = kgen;
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	model_free(live);
	diag_release(&d);
	if (st_out)
		*st_out = st;
	else
		safe_state_free(st);
	return ret;
}

int safe_flush(const char *dir, struct nl_sock *s, const char *table,
	       bool *kernel_err)
{
	struct safe_state *st = NULL;
	struct model *live = NULL;
	struct safe_txn t = { 0 };
	int ret;

	*kernel_err = true;
	ret = safe_recover(dir, s);
	if (ret < 0)
		return ret;
	/* The table as portwarden's last apply left it, when nothing has
	 * committed since; else read it. */
	if (safe_state_load(dir, &st) == 0 && !strcmp(st->table, table) &&
	    safe_state_is_live(st, s)) {
		live = st->applied;
		st->applied = NULL;
	} else {
		ret = nl_read_table(s, table, &live);
		if (ret < 0)
			goto out;
	}
	*kernel_err = false;
	ret = safe_apply_begin(&t, dir, live, NULL);
	if (ret < 0)
		goto out;
	*kernel_err = true;
	ret = nl_delete_table(s, table);
	if (ret == -ENOENT)	/* gone meanwhile: as good as flushed */
		ret = 0;
	/* When the record cannot be made current now, safe_recover() of the
	 * next run does it: the kernel holds what it says. */
	safe_apply_end(&t, ret);
	safe_txn_release(&t);
out:
	model_free(live);
	safe_state_free(st);
	return ret;
}
