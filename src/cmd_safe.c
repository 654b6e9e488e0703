// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `confirm` and `rollback`, and the hooks apply_main calls around its
 * transaction: the lock-out guard, saving the previous table, arming the
 * confirm timer. The work is in state.c, rollback.c, confirm_timer.c and
 * guard.c; this file only reports.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "netns.h"
#include "confirm_timer.h"
#include "guard.h"
#include "safe.h"
#include "stage.h"
#include "util.h"

/* The command that talks to the same namespace, for the hints we print. */
static void print_cmd(FILE *f, const struct cli *c, const char *cmd)
{
	fprintf(f, "portwarden %s", cmd);
	if (c->netns)
		fprintf(f, " --netns %s", c->netns);
}

static const char *when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || !strftime(buf, len, "%H:%M:%S", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* Enter --netns and find (create) its state directory. */
static int open_state(struct cli *c, const char *cmd, char *dir, size_t len)
{
	int ret;

	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0) {
			fprintf(stderr, "portwarden: %s: cannot enter network namespace %s: %s\n",
				cmd, c->netns, strerror(-ret));
			return EXIT_RUNTIME;
		}
	}
	ret = safe_state_dir(dir, len);
	if (ret < 0) {
		fprintf(stderr, "portwarden: %s: cannot use %s: %s\n", cmd,
			RUN_DIR, strerror(-ret));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int confirm_main(struct cli *c)
{
	char dir[256], t[32];
	struct safe_state *st = NULL;
	uint64_t gen;
	int lock, ret, rc;

	if (c->n_args) {
		fprintf(stderr, "portwarden: confirm takes no arguments\n");
		return EXIT_INVALID;
	}
	rc = open_state(c, "confirm", dir, sizeof(dir));
	if (rc)
		return rc;
	lock = run_lock();
	if (lock < 0) {
		fprintf(stderr, "portwarden: confirm: cannot take the run lock: %s\n",
			strerror(-lock));
		return EXIT_RUNTIME;
	}
	rc = cli_check_owner_recorded(c, NULL, dir);	/* SPEC §6 ownership */
	if (rc != EXIT_OK) {
		run_unlock(lock);
		return rc;
	}
	ret = safe_confirm(dir, &gen);
	if (safe_state_load(dir, &st) < 0)
		st = NULL;
	run_unlock(lock);
	switch (ret) {
	case 0:
		if (c->format == FMT_JSON) {
			printf("{\"confirmed\": true, \"generation\": %" PRIu64
			       ", \"table\": ", gen);
			json_string(stdout, st ? st->table : NULL);
			printf("}\n");
		} else if (!c->quiet) {
			printf("confirmed: keeping generation %" PRIu64
			       " of table %s; the confirm timer stands down\n",
			       gen, st ? st->table : "?");
		}
		rc = EXIT_OK;
		break;
	case -ENOENT:
		/* Idempotent for config management: confirming twice, or an
		 * apply without --confirm, is not an error. */
		if (c->format == FMT_JSON)
			printf("{\"confirmed\": false, \"generation\": null, \"table\": null}\n");
		else if (!c->quiet)
			printf("nothing to confirm: no apply with --confirm is waiting\n");
		rc = EXIT_OK;
		break;
	case -ETIME:
		fprintf(stderr, "portwarden: confirm: too late: the confirm timer rolled generation %"
			PRIu64 " of table %s back at %s; apply it again\n",
			gen, st ? st->table : "?",
			when(st ? st->time : 0, t, sizeof(t)));
		rc = EXIT_RUNTIME;
		break;
	default:
		fprintf(stderr, "portwarden: confirm: %s\n", strerror(-ret));
		rc = EXIT_RUNTIME;
	}
	safe_state_free(st);
	return rc;
}

int rollback_main(struct cli *c)
{
	struct safe_state *st = NULL;
	struct nl_sock *s = NULL;
	char dir[256], t[32];
	int lock = -1, ret, rc;

	if (c->n_args) {
		fprintf(stderr, "portwarden: rollback takes no arguments\n");
		return EXIT_INVALID;
	}
	rc = open_state(c, "rollback", dir, sizeof(dir));
	if (rc)
		return rc;
	lock = run_lock();
	if (lock < 0) {
		fprintf(stderr, "portwarden: rollback: cannot take the run lock: %s\n",
			strerror(-lock));
		return EXIT_RUNTIME;
	}
	ret = nl_sock_open(&s);
	if (ret < 0) {
		fprintf(stderr, "portwarden: rollback: cannot open netlink: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = cli_check_owner_recorded(c, s, dir);	/* SPEC §6 ownership */
	if (rc != EXIT_OK)
		goto out;
	ret = safe_rollback(dir, s, 0, c->force, false, &st);
	if (ret == 0 && st && st->table) {
		/* a staged policy compares with the enforced table as it is
		 * now (nothing staged: -ENOENT) */
		struct diag d;
		int sr;

		diag_init(&d);
		sr = nl_stage_refresh(s, st->table, st->previous, &d);
		if (sr < 0 && sr != -ENOENT)
			fprintf(stderr, "portwarden: rollback: warning: the staged policy still compares with the rolled-back table: %s (run apply --stage again)\n",
				strerror(-sr));
		diag_release(&d);
	}
	rc = EXIT_RUNTIME;
	if (ret == -ENOENT) {
		/* SPEC §6: nothing to undo is not a failure */
		if (c->format == FMT_JSON)
			printf("{\"changed\": false, \"table\": null, \"generation\": null, \"restored\": null}\n");
		else if (!c->quiet)
			printf("nothing to roll back: no apply or flush is recorded in %s\n",
			       dir);
		rc = EXIT_OK;
		goto out;
	}
	if (c->format == FMT_JSON && (ret == 0 || ret == -EALREADY)) {
		/* apply's shape: did the kernel change, and to what */
		printf("{\"changed\": %s, \"table\": ", ret ? "false" : "true");
		json_string(stdout, st->table);
		printf(", \"generation\": %" PRIu64 ", \"restored\": \"%s\"}\n",
		       st->generation, st->previous ? "table" : "absent");
		rc = EXIT_OK;
		goto out;
	}
	switch (ret) {
	case 0:
		if (!c->quiet && st->previous && !st->applied)
			printf("rolled back generation %" PRIu64
			       ": table %s is back as it was before it was flushed\n",
			       st->generation, st->table);
		else if (!c->quiet && st->previous)
			printf("rolled back generation %" PRIu64
			       ": table %s is as it was before that apply\n",
			       st->generation, st->table);
		else if (!c->quiet)
			printf("rolled back generation %" PRIu64
			       ": table %s removed (it did not exist before that apply)\n",
			       st->generation, st->table);
		rc = EXIT_OK;
		break;
	case -EALREADY:
		/* The table already is what a rollback would make. */
		if (!c->quiet && st->status == SAFE_ROLLED_BACK)
			printf("nothing to roll back: generation %" PRIu64
			       " of table %s was already rolled back at %s%s\n",
			       st->generation, st->table,
			       when(st->time, t, sizeof(t)),
			       st->by_timer ? " by the confirm timer" : "");
		else if (!c->quiet)
			printf("nothing to roll back: table %s is already as it was before generation %"
			       PRIu64 " (that apply did not take effect, or was undone some other way)\n",
			       st->table, st->generation);
		rc = EXIT_OK;
		break;
	case -EBUSY:
		fprintf(stderr, "portwarden: rollback: refusing: table %s is not the one the last apply (generation %"
			PRIu64 ", %s) made; it was changed since by something else, and a rollback would clobber that; use --force to restore the table from before generation %"
			PRIu64 " anyway\n",
			st->table, st->generation, when(st->time, t, sizeof(t)),
			st->generation);
		break;
	case -EUCLEAN:
		fprintf(stderr, "portwarden: rollback: cannot restore table %s: before generation %"
			PRIu64 " it held rules portwarden did not make\n",
			st->table, st->generation);
		break;
	case -EINVAL:
		if (!st) {
			fprintf(stderr, "portwarden: rollback: the rollback record %s/state is damaged; nothing was changed (the next apply replaces it)\n",
				dir);
			break;
		}
		/* fall through */
	default:
		fprintf(stderr, "portwarden: rollback: %s%s\n",
			st ? "cannot restore the previous table: " : "",
			strerror(-ret));
	}
out:
	nl_sock_close(s);
	run_unlock(lock);
	safe_state_free(st);
	return rc;
}

/* The lock-out guard: EXIT_OK, or EXIT_LOCKOUT / EXIT_RUNTIME (printed). */
static int guard(struct cli *c, const struct model *next)
{
	struct safe_conns cs = { 0 };
	size_t i;
	int ret;

	ret = safe_guard(next, NULL, &cs);
	if (ret < 0) {
		fprintf(stderr, "portwarden: lock-out guard: cannot read the live sockets: %s; %s\n",
			strerror(-ret), c->force ? "applying anyway (--force)" :
			"use --force to apply anyway");
		safe_conns_release(&cs);
		return c->force ? EXIT_OK : EXIT_RUNTIME;
	}
	for (i = 0; i < cs.n; i++) {
		const struct safe_conn *sc = &cs.v[i];
		bool tcp = !strncmp(sc->text, "tcp", 3);

		fprintf(stderr, "%s: would %s %s inbound %s (rule \"%s\"",
			c->force ? "warning" : "refusing",
			!strcmp(sc->verdict, "drop") ? "block" : "reject",
			tcp ? "established" : "connected", sc->text, sc->rule);
		if (sc->origin && sc->origin->loc.file)
			fprintf(stderr, ", %s:%u", sc->origin->loc.file,
				sc->origin->loc.line);
		else if (!sc->origin && !strcmp(sc->rule, "default") &&
			 next->policy && next->policy->def_loc[DIR_IN].line)
			fprintf(stderr, ", %s:%u", next->policy->def_loc[DIR_IN].file,
				next->policy->def_loc[DIR_IN].line);
		fprintf(stderr, ")%s\n", c->force ? "; applying anyway (--force)" :
			"; use --force to apply anyway");
	}
	ret = cs.n && !c->force ? EXIT_LOCKOUT : EXIT_OK;
	safe_conns_release(&cs);
	return ret;
}

int safe_before_apply(struct cli *c, const struct model *live,
		      const struct model *next, struct safe_txn *t)
{
	char dir[256];
	int ret, rc;

	memset(t, 0, sizeof(*t));
	rc = guard(c, next);
	if (rc != EXIT_OK)
		return rc;
	ret = safe_state_dir(dir, sizeof(dir));
	if (!ret)
		ret = safe_apply_begin(t, dir, live, next);
	if (ret < 0) {
		fprintf(stderr, "portwarden: apply: cannot write the rollback record %s/state.new: %s; table inet %s was not changed (free space in %s, or make it writable)\n",
			dir, strerror(-ret), next->table, RUN_DIR);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int safe_after_apply(struct cli *c, struct nl_sock *s, struct safe_txn *t,
		     int apply_ret)
{
	uint64_t gen;
	pid_t pid;
	int ret, rc = EXIT_OK;

	if (!t->cur)
		return EXIT_OK;
	gen = t->cur->generation;
	ret = safe_apply_end(t, apply_ret);
	if (apply_ret < 0) {
		if (ret < 0)
			fprintf(stderr, "portwarden: apply: cannot put the rollback record in %s back: %s\n",
				t->dir, strerror(-ret));
		goto out;
	}
	/* The record written ahead stays beside the current one; the next
	 * run finds the kernel holding its table and makes it current. */
	if (ret < 0)
		fprintf(stderr, "portwarden: warning: cannot make the rollback record %s/state.new current: %s; the next portwarden run does\n",
			t->dir, strerror(-ret));
	if (c->confirm <= 0)
		goto out;
	ret = safe_arm_timer(t->dir, gen, c->confirm, &pid);
	if (ret < 0) {
		fprintf(stderr, "portwarden: apply: cannot start the confirm timer: %s; rolling back now\n",
			strerror(-ret));
		ret = safe_rollback(t->dir, s, gen, false, false, NULL);
		if (ret < 0) {
			fprintf(stderr, "portwarden: apply: the rollback failed too (%s): run '",
				strerror(-ret));
			print_cmd(stderr, c, "rollback");
			fputs("'\n", stderr);
		}
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (!c->quiet) {
		fprintf(stderr, "portwarden: applied generation %" PRIu64
			" of table %s; it is rolled back in %ld second%s unless you run '",
			gen, t->cur->table, c->confirm, c->confirm == 1 ? "" : "s");
		print_cmd(stderr, c, "confirm");
		fprintf(stderr, "' (timer pid %ld)\n", (long)pid);
	}
out:
	safe_txn_release(t);
	return rc;
}
