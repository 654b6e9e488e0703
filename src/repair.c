// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Drift repair: see repair.h for whose change is what.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "daemon.h"
#include "diag.h"
#include "drift_note.h"
#include "model.h"
#include "model_delta.h"
#include "nft_events.h"
#include "nl.h"
#include "policy.h"
#include "repair.h"
#include "rollback.h"
#include "state.h"
#include "util.h"

#define MAX_REPAIRS	5	/* per window; the 6th is a conflict */
#define WHAT_MAX	6	/* descriptions kept per transaction */
#define LOCK_RETRY_MS	10

/* What one transaction did to our table, as its events said. */
struct txn_seen {
	bool touched;
	bool lost;		/* events were lost while it was read */
	bool table_deleted, table_added;
	char *what[WHAT_MAX];
	size_t n_what, n_more;
};

struct repair {
	struct daemon *d;
	struct nl_events *ev;
	struct nl_sock *sock;
	char *table;
	bool enabled;
	uint32_t self;
	struct txn_seen txn;

	/* a check to do: someone changed the table */
	bool pending;
	uint32_t culprit_pid, culprit_gen;
	char culprit[64];
	char *what;
	double t_seen;		/* when its generation message arrived */
	int retry_timer, window_timer;

	/* back-off */
	double window_ms;
	double hist[MAX_REPAIRS];	/* times of the last repairs, a ring */
	size_t n_hist;
	bool suspended;

	/* the rollback record, kept while the file does not change */
	struct safe_state *rec;
	dev_t rec_dev;
	ino_t rec_ino;
	struct timespec rec_mtime;

	/* counters */
	unsigned long repairs, conflicts, lost, bad, failures;
	unsigned long checks;	/* reads of the live table */
	unsigned long foreign, own;	/* transactions that touched it */
};

static void txn_reset(struct txn_seen *t)
{
	size_t i;

	for (i = 0; i < t->n_what; i++)
		free(t->what[i]);
	memset(t, 0, sizeof(*t));
}

static void txn_note(struct txn_seen *t, char *what)
{
	size_t i;

	for (i = 0; i < t->n_what; i++)
		if (!strcmp(t->what[i], what)) {
			free(what);
			return;
		}
	if (t->n_what < WHAT_MAX)
		t->what[t->n_what++] = what;
	else {
		t->n_more++;
		free(what);
	}
}

/* One line of what the transaction did to our table. */
static char *txn_text(const struct txn_seen *t)
{
	char *s, *n;
	size_t i;

	if (t->table_deleted)
		return xstrdup(t->lost ? "table deleted (events were lost: incomplete)" :
			       t->table_added ? "table deleted and recreated" :
			       "table deleted");
	if (!t->n_what)
		return xstrdup("table changed");
	s = xstrdup(t->what[0]);
	if (t->lost) {
		n = xasprintf("%s (events were lost: incomplete)", s);
		free(s);
		s = n;
	}
	for (i = 1; i < t->n_what; i++) {
		n = xasprintf("%s; %s", s, t->what[i]);
		free(s);
		s = n;
	}
	if (t->n_more) {
		n = xasprintf("%s; and %zu more", s, t->n_more);
		free(s);
		s = n;
	}
	return s;
}

static void describe(struct txn_seen *t, const struct nft_ev *e)
{
	switch (e->kind) {
	case NFT_EV_TABLE:
		if (e->del)
			t->table_deleted = true;
		else
			t->table_added = true;
		break;
	case NFT_EV_CHAIN:
		txn_note(t, xasprintf("chain %s %s", e->chain,
				      e->del ? "deleted" : "added or changed"));
		break;
	case NFT_EV_RULE:
		txn_note(t, e->del ?
			 xasprintf("rule handle %llu deleted from chain %s",
				   (unsigned long long)e->handle, e->chain) :
			 xasprintf("foreign rule handle %llu added to chain %s",
				   (unsigned long long)e->handle, e->chain));
		break;
	case NFT_EV_SET:
		txn_note(t, xasprintf("set %s %s", e->set,
				      e->del ? "deleted" : "added or changed"));
		break;
	case NFT_EV_SETELEM:
		txn_note(t, xasprintf("elements %s set %s",
				      e->del ? "deleted from" : "added to", e->set));
		break;
	default:
		txn_note(t, xstrdup(e->del ? "an object deleted" :
				    "an object added"));
		break;
	}
}

/* ---- the note for audit ---- */

static void save_note(struct repair *r, uint32_t pid, const char *comm,
		      uint32_t gen, const char *what)
{
	struct drift_note n = {
		.table = r->table, .pid = pid, .comm = (char *)comm,
		.time = (int64_t)time(NULL), .generation = gen,
		.what = (char *)what,
	};
	char dir[256];

	if (safe_state_dir(dir, sizeof(dir)) == 0)
		drift_note_save(dir, &n);	/* best effort: audit only */
}

/* ---- the check and the repair ---- */

/* The rollback record, re-read only when its file was replaced. Call
 * with the run lock held. NULL when there is none (or it is damaged). */
static const struct safe_state *record(struct repair *r, const char *dir)
{
	char *path = xasprintf("%s/state", dir);
	struct stat st;
	int ret;

	safe_recover(dir, r->sock);	/* a killed command's leftovers */
	ret = stat(path, &st);
	free(path);
	if (ret < 0) {
		safe_state_free(r->rec);
		r->rec = NULL;
		return NULL;
	}
	if (r->rec && st.st_dev == r->rec_dev && st.st_ino == r->rec_ino &&
	    st.st_mtim.tv_sec == r->rec_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == r->rec_mtime.tv_nsec)
		return r->rec;
	safe_state_free(r->rec);
	r->rec = NULL;
	if (safe_state_load(dir, &r->rec) < 0)
		return NULL;
	r->rec_dev = st.st_dev;
	r->rec_ino = st.st_ino;
	r->rec_mtime = st.st_mtim;
	return r->rec;
}

static void ev_culprit(struct repair *r, struct daemon_ev *e)
{
	daemon_ev_str(e, "table", r->table);
	if (r->culprit_pid)
		daemon_ev_int(e, "pid", r->culprit_pid);
	else
		daemon_ev_str(e, "pid", NULL);
	daemon_ev_str(e, "comm", r->culprit);
	daemon_ev_str(e, "what", r->what);
}

/* More than MAX_REPAIRS in the window: stop until its end. */
static bool backed_off(struct repair *r, double now)
{
	struct daemon_ev *e;
	double oldest, left;

	if (r->n_hist < MAX_REPAIRS)
		return false;
	oldest = r->hist[r->n_hist % MAX_REPAIRS];
	if (now - oldest >= r->window_ms)
		return false;
	left = oldest + r->window_ms - now;
	r->suspended = true;
	r->conflicts++;
	daemon_timer_arm(r->d, r->window_timer, (uint64_t)left + 1, 0);
	e = daemon_ev_begin(r->d, "conflict");
	ev_culprit(r, e);
	daemon_ev_int(e, "repairs", MAX_REPAIRS);
	daemon_ev_num(e, "window_s", r->window_ms / 1000);
	daemon_ev_num(e, "resume_in_s", left / 1000);
	daemon_ev_str(e, "message",
		      "another program keeps changing the table; repairs stop until the window ends");
	daemon_ev_end(e);
	return true;
}

/* Put the recorded table back. Call with the run lock held. */
static void repair_to(struct repair *r, const struct model *want)
{
	struct model_delta dl = { 0 };
	struct model *live = NULL;
	struct daemon_ev *e;
	struct diag dg;
	double now;
	int ret, owned;

	diag_init(&dg);
	r->checks++;
	ret = nl_read_table(r->sock, want->table, &live);
	if (ret == -ENOENT) {
		live = NULL;
		ret = 0;
	}
	if (ret < 0)
		goto fail;
	model_delta(live, want, &dl);
	/* a table of that name without the mark was made by someone else:
	 * recreated, so that it is portwarden's again */
	owned = live ? nl_table_owned(r->sock, want->table) : 1;
	if (owned == 0) {
		dl.recreate = true;
		dl.n_changes++;
	}
	r->pending = false;
	if (!dl.n_changes)
		goto out;	/* e.g. elements added to a timeout set */
	now = daemon_now_ms();
	if (backed_off(r, now))
		goto out;
	ret = nl_apply_delta(r->sock, live, want, &dl, &dg);
	if (ret < 0)
		goto fail;
	daemon_mark_own(r->d, nl_applied_generation(r->sock));
	r->hist[r->n_hist++ % MAX_REPAIRS] = now;
	r->repairs++;
	e = daemon_ev_begin(r->d, "repaired");
	ev_culprit(r, e);
	daemon_ev_int(e, "generation", r->culprit_gen);
	daemon_ev_int(e, "rules_added", (long long)dl.rules_added);
	daemon_ev_int(e, "rules_deleted", (long long)dl.rules_deleted);
	daemon_ev_int(e, "counters_kept", (long long)dl.counters_kept);
	daemon_ev_str(e, "recreated", dl.create ? "table" :
		      dl.recreate ? "table (counters carried over)" : "no");
	daemon_ev_num(e, "took_ms", daemon_now_ms() - r->t_seen);
	daemon_ev_end(e);
	ret = daemon_repaired(r->d);	/* the learner re-adds what it knows */
	if (ret < 0)
		daemon_stop(r->d, ret);
	goto out;
fail:
	r->pending = false;
	r->failures++;
	e = daemon_ev_begin(r->d, "repair-failed");
	ev_culprit(r, e);
	daemon_ev_str(e, "error", strerror(-ret));
	if (dg.n)
		daemon_ev_str(e, "kernel", dg.v[0].msg);
	daemon_ev_end(e);
out:
	model_delta_release(&dl);
	model_free(live);
	diag_release(&dg);
}

static void check(struct repair *r)
{
	const struct safe_state *st;
	const struct model *want;
	struct daemon_ev *e;
	char dir[256];
	int lock, ret;

	if (!r->pending || r->suspended)
		return;
	if (!r->enabled) {
		r->pending = false;
		e = daemon_ev_begin(r->d, "drift");
		ev_culprit(r, e);
		daemon_ev_str(e, "message", "not repaired: the policy says repair: false");
		daemon_ev_end(e);
		return;
	}
	lock = run_trylock();
	if (lock == -EWOULDBLOCK || lock == -EAGAIN) {
		/* a portwarden command is at work: look again shortly */
		daemon_timer_arm(r->d, r->retry_timer, LOCK_RETRY_MS, 0);
		return;
	}
	ret = lock < 0 ? lock : safe_state_dir(dir, sizeof(dir));
	if (ret < 0) {
		r->pending = false;
		r->failures++;
		daemon_event(r->d, "repair-failed", "cannot take the run lock: %s",
			     strerror(-ret));
		run_unlock(lock);
		return;
	}
	st = record(r, dir);
	/* what the last portwarden command left: a rollback (also the
	 * confirm timer's) left the table from before its apply */
	want = !st ? NULL : st->status == SAFE_ROLLED_BACK ? st->previous :
	       st->applied;
	/* no record of this table: the daemon's start found the table equal
	 * to its policy (an unchanged apply records nothing) */
	if (!st || strcmp(st->table, r->table))
		want = daemon_model(r->d);
	if (!want)
		r->pending = false;	/* nothing portwarden left to keep */
	else
		repair_to(r, want);
	run_unlock(lock);
}

/* Someone changed the table: check (now, or when the lock is free). */
static void schedule(struct repair *r, uint32_t pid, const char *comm,
		     uint32_t gen, char *what)
{
	free(r->what);
	r->what = what;
	r->culprit_pid = pid;
	r->culprit_gen = gen;
	snprintf(r->culprit, sizeof(r->culprit), "%s", comm);
	if (!r->pending)
		r->t_seen = daemon_now_ms();
	r->pending = true;
}

static int on_ev(const struct nft_ev *e, void *ctx)
{
	struct repair *r = ctx;
	char *what;

	if (e->kind != NFT_EV_GEN) {
		if (r->table && e->family == NFPROTO_INET &&
		    !strcmp(e->table, r->table)) {
			r->txn.touched = true;
			describe(&r->txn, e);
		}
		return 0;
	}
	if (!r->txn.touched)
		goto done;	/* another table's business */
	if (e->pid == r->self || daemon_is_own(r->d, e->gen_id)) {
		r->own++;
		goto done;	/* our repair, re-apply or learner */
	}
	what = txn_text(&r->txn);
	save_note(r, e->pid, e->comm, e->gen_id, what);
	if (!strcmp(e->comm, "portwarden")) {
		r->own++;
		free(what);	/* a portwarden command: its record says */
		goto done;
	}
	r->foreign++;
	schedule(r, e->pid, e->comm[0] ? e->comm : "unknown", e->gen_id, what);
done:
	txn_reset(&r->txn);
	return 0;
}

static int on_readable(void *ctx, struct daemon *d)
{
	struct repair *r = ctx;
	const void *buf;
	ssize_t n;

	for (;;) {
		n = nl_events_recv(r->ev, &buf);
		if (n == 0)
			break;
		if (n == -ENOBUFS) {
			/* events were lost: we cannot know who did what, so
			 * look at the table itself */
			r->lost++;
			txn_reset(&r->txn);
			r->txn.lost = true;	/* the next one may be partial */
			daemon_event(d, "resync",
				     "nftables events were lost (%lu times so far); checking the table",
				     r->lost);
			schedule(r, 0, "unknown", 0,
				 xstrdup("unknown (events lost)"));
			continue;
		}
		if (n < 0)
			return (int)n;
		nft_ev_walk(buf, (size_t)n, on_ev, r, &r->bad);
	}
	check(r);
	return 0;
}

static int on_retry(void *ctx, struct daemon *d)
{
	check(ctx);
	return 0;
}

static int on_window_end(void *ctx, struct daemon *d)
{
	struct repair *r = ctx;

	r->suspended = false;
	r->n_hist = 0;		/* a fresh window */
	/* whatever was undone meanwhile is repaired now */
	r->pending = true;
	r->t_seen = daemon_now_ms();
	check(r);
	return 0;
}

/* "5s", "500ms", "60": the back-off window in milliseconds. */
static double window_from_env(void)
{
	const char *v = getenv("PORTWARDEN_REPAIR_WINDOW");
	double x;
	char *end;

	if (!v || !*v)
		return 60000;
	x = strtod(v, &end);
	if (end == v || x <= 0)
		return 60000;
	if (!strcmp(end, "ms"))
		return x;
	if (!*end || !strcmp(end, "s"))
		return x * 1000;
	return 60000;
}

/* On exit: what the repair did, for the journal and the benchmark. */
static int on_exit_stats(void *ctx, struct daemon *d)
{
	struct repair *r = ctx;
	struct daemon_ev *e = daemon_ev_begin(d, "repair-stats");

	daemon_ev_int(e, "foreign_changes", (long long)r->foreign);
	daemon_ev_int(e, "own_changes", (long long)r->own);
	daemon_ev_int(e, "table_reads", (long long)r->checks);
	daemon_ev_int(e, "repairs", (long long)r->repairs);
	daemon_ev_int(e, "conflicts", (long long)r->conflicts);
	daemon_ev_int(e, "failures", (long long)r->failures);
	daemon_ev_int(e, "events_lost", (long long)r->lost);
	daemon_ev_int(e, "events_malformed", (long long)r->bad);
	daemon_ev_end(e);
	return 0;
}

int repair_new(struct repair **out, struct daemon *d)
{
	struct repair *r = xcalloc(1, sizeof(*r));
	const char *v;
	int ret;

	r->d = d;
	r->self = (uint32_t)getpid();
	r->window_ms = window_from_env();
	r->retry_timer = r->window_timer = -1;
	/* PORTWARDEN_EVENT_RCVBUF (bytes), for tests only: a buffer small
	 * enough to lose events */
	v = getenv("PORTWARDEN_EVENT_RCVBUF");
	ret = nl_events_open(&r->ev, v ? atoi(v) : 0);
	if (ret < 0)
		goto fail;
	ret = nl_sock_open(&r->sock);
	if (ret < 0)
		goto fail;
	ret = daemon_add_timer(d, 0, 0, on_retry, r);
	if (ret < 0)
		goto fail;
	r->retry_timer = ret;
	ret = daemon_add_timer(d, 0, 0, on_window_end, r);
	if (ret < 0)
		goto fail;
	r->window_timer = ret;
	ret = daemon_add_source(d, nl_events_fd(r->ev), on_readable, r);
	if (ret < 0)
		goto fail;
	daemon_on_exit(d, on_exit_stats, r);
	*out = r;
	return 0;
fail:
	repair_free(r);
	return ret;
}

void repair_free(struct repair *r)
{
	if (!r)
		return;
	if (r->ev) {
		daemon_remove_source(r->d, nl_events_fd(r->ev));
		nl_events_close(r->ev);
	}
	nl_sock_close(r->sock);
	txn_reset(&r->txn);
	safe_state_free(r->rec);
	free(r->what);
	free(r->table);
	free(r);
}

int repair_reload(struct repair *r, struct daemon *d)
{
	const struct policy *p = daemon_policy(d);
	const struct model *m = daemon_model(d);

	if (!m || !p)
		return -EINVAL;
	free(r->table);
	r->table = xstrdup(m->table);
	r->enabled = p->repair;
	return 0;
}
