// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The rollback point (see rollback.h): the record written around each
 * apply, and rollback, which puts the table from before it back.
 *
 * Every state change happens under the run lock. The kernel side is
 * atomic anyway (one batch per transaction); the state written before it
 * says SAFE_APPLYING, and rollback decides what really happened by
 * comparing the live table with the two saved ones, so a crash at any
 * point leaves something rollback can reason about.
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

#define STATE_FILE	"state"
#define PREV_FILE	".state.prev"	/* the record before a running apply */

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

/* The generation of @dir's record, read from its first lines only. */
int safe_apply_begin(struct safe_txn *t, const char *dir,
		     const struct model *live, const struct model *next)
{
	struct safe_pending p;
	struct safe_state *cur;
	char *state = NULL, *prev = NULL;
	uint64_t old_gen = 0;
	int ret;

	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s", dir) >= sizeof(t->dir))
		return -ENAMETOOLONG;
	/* Only the old record's generation is needed; the record itself is
	 * kept as it is, under a second name, to be put back when the
	 * transaction fails (loading it whole cost 15 MB and 40 ms for a
	 * 110,000-element table). A damaged record must not stop the next
	 * apply: it is replaced. */
	ret = safe_state_generation(dir, &old_gen);
	if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
		return ret;
	state = xasprintf("%s/%s", dir, STATE_FILE);
	prev = xasprintf("%s/%s", dir, PREV_FILE);
	unlink(prev);
	if (ret != -ENOENT) {
		if (link(state, prev) < 0) {
			ret = -errno;
			goto out_paths;
		}
		t->kept_old = true;
	}
	cur = xcalloc(1, sizeof(*cur));
	t->cur = cur;
	cur->generation = ret == 0 ? old_gen : 0;
	/* Never reuse the number a waiting timer keys on, even when the
	 * state file was lost or damaged. */
	if (safe_pending_load(dir, &p) == 0 && p.generation > cur->generation)
		cur->generation = p.generation;
	cur->generation++;
	cur->status = SAFE_APPLYING;
	cur->time = now_realtime();
	cur->table = xstrdup(next->table);
	/* Borrowed, not copied: the caller keeps both alive until
	 * safe_txn_release() (a copy of 110,000 elements doubled the peak
	 * memory of an apply). */
	cur->previous = (struct model *)live;
	cur->applied = (struct model *)next;
	if (kernel_gen_now(&t->gen_before, &t->cookie) < 0)
		t->gen_before = 0;
	block_signals(&t->oldmask);
	t->blocked = true;
	ret = safe_state_save(dir, cur);
	if (ret < 0)
		goto fail;
	goto out_paths;
fail:
	safe_txn_release(t);
out_paths:
	free(state);
	free(prev);
	return ret;
}

int safe_apply_end(struct safe_txn *t, int apply_ret)
{
	uint64_t cookie;
	uint32_t gen;
	char *path;
	int ret;

	if (!t->cur)
		return -EINVAL;
	if (apply_ret < 0) {
		/* Nothing changed in the kernel: put the old record back. */
		path = xasprintf("%s/%s", t->dir, STATE_FILE);
		if (t->kept_old) {
			char *prev = xasprintf("%s/%s", t->dir, PREV_FILE);

			ret = rename(prev, path) < 0 ? -errno : 0;
			if (!ret)
				t->kept_old = false;
			free(prev);
		} else {
			ret = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
		}
		free(path);
		return ret;
	}
	t->cur->status = SAFE_APPLIED;
	t->cur->time = now_realtime();
	/* One commit since safe_apply_begin(), and ours committed: the
	 * kernel's table at that generation is t->cur->applied. */
	if (t->gen_before && kernel_gen_now(&gen, &cookie) == 0 &&
	    gen == t->gen_before + 1 && cookie == t->cookie) {
		t->cur->kernel_gen = gen;
		t->cur->netns_cookie = cookie;
	}
	ret = safe_state_save(t->dir, t->cur);
	/* An older timer guards a table that is gone now: it would find a
	 * newer generation and do nothing; remove its file so that `confirm`
	 * does not claim to confirm this apply. */
	safe_pending_clear(t->dir);
	return ret;
}

void safe_txn_release(struct safe_txn *t)
{
	if (!t)
		return;
	if (t->kept_old) {	/* the old record is not needed any more */
		char *prev = xasprintf("%s/%s", t->dir, PREV_FILE);

		unlink(prev);
		free(prev);
		t->kept_old = false;
	}
	if (t->blocked)
		sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	t->blocked = false;
	safe_state_free(t->old);
	if (t->cur) {	/* its tables are the caller's (safe_apply_begin) */
		t->cur->previous = NULL;
		t->cur->applied = NULL;
	}
	safe_state_free(t->cur);
	t->old = NULL;
	t->cur = NULL;
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

int safe_rollback(const char *dir, struct nl_sock *s, uint64_t expect,
		  bool force, bool by_timer, struct safe_state **st_out)
{
	struct safe_state *st = NULL;
	struct model *live = NULL;
	struct safe_pending p;
	struct diag d;
	sigset_t old;
	int ret;

	diag_init(&d);
	if (st_out)
		*st_out = NULL;
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
	 * made, no need to dump it back. */
	if (safe_state_is_live(st, s))
		goto restore;
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
	block_signals(&old);
	if (st->previous)
		ret = nl_apply(s, st->previous, &d);
	else
		ret = nl_delete_table(s, st->table);
	if (ret == -ENOENT && !st->previous)
		ret = 0;
	if (!ret) {
		st->status = SAFE_ROLLED_BACK;
		st->kernel_gen = 0;	/* the live table is st->previous now */
		st->by_timer = by_timer;
		st->time = now_realtime();
		ret = safe_state_save(dir, st);
		if (safe_pending_load(dir, &p) == 0 &&
		    p.generation == st->generation)
			safe_pending_clear(dir);
	}
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

