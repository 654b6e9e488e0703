// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The commands that change or compare portwarden's table: apply, diff,
 * flush (status is in cmd_status.c). Each loads what it needs, enters
 * --netns, and leaves the netlink work to nl_apply.c / nl_read.c, the
 * plan and the comparison to model_delta.c / model_cmp.c and the
 * generation cache to gen_cache.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gen_cache.h"
#include "model_cmp.h"
#include "model_delta.h"
#include "netns.h"
#include "nl.h"
#include "render.h"
#include "safe.h"
#include "stage.h"
#include "util.h"

#define DEFAULT_TABLE "portwarden"

/* The phases `apply -vv` times. */
enum phase {
	PH_LOAD,	/* read, parse and check the policy */
	PH_COMPILE,
	PH_READ,	/* find out what the live table is */
	PH_SAFE,	/* lock-out guard and rollback record */
	PH_SEND,	/* the transaction */
	PH_MAX,
};

static const char *const phase_name[PH_MAX] = {
	"load and check", "compile", "read the live table",
	"guard and rollback record", "transaction",
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Everything one apply/diff run holds; released by nft_run_release(). */
struct nft_run {
	struct policy *policy;
	struct model *want;	/* compiled from the policy */
	struct model *live;	/* read from the kernel, NULL when absent */
	struct nl_sock *sock;
	int lock;
	struct diag d;
	bool cached;		/* the generation cache says live == want */
	bool foreign;		/* the live table lacks the ownership mark */
	bool no_cache;		/* read the live table even when cached */
	const char *source;	/* -v: where r->live came from */
	double ms[PH_MAX];	/* -vv: time of each phase */
	uint32_t gen;		/* generation r->live was read at, or 0 */
	uint64_t hash;		/* model_hash(want) */
};

static void nft_run_release(struct nft_run *r)
{
	model_free(r->live);
	model_free(r->want);
	policy_free(r->policy);
	nl_sock_close(r->sock);
	run_unlock(r->lock);
	diag_release(&r->d);
}

int cmd_fail(const char *cmd, const char *what, const char *arg, int err)
{
	char *a = arg ? text_escape(arg) : NULL;

	fprintf(stderr, "portwarden: %s: %s%s%s: %s\n", cmd, what,
		a ? " " : "", a ? a : "", strerror(-err));
	free(a);
	if (err == -EPERM || err == -EACCES)
		fprintf(stderr, "portwarden: %s needs CAP_NET_ADMIN (run as root)\n", cmd);
	else if (err == -EPROTONOSUPPORT || err == -EOPNOTSUPP ||
		 err == -EAFNOSUPPORT)
		fprintf(stderr, "portwarden: %s: the kernel has no nf_tables support loaded (modprobe nf_tables, or a kernel with CONFIG_NF_TABLES and CONFIG_NF_TABLES_INET)\n",
			cmd);
	return EXIT_RUNTIME;
}

int cmd_connect(struct cli *c, struct nl_sock **sock)
{
	int ret;

	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0)
			return cmd_fail(c->cmd, "cannot enter network namespace",
				    c->netns, ret);
	}
	ret = nl_sock_open(sock);
	if (ret < 0)
		return cmd_fail(c->cmd, "cannot open a netlink socket", NULL, ret);
	return EXIT_OK;
}

int cmd_connect_locked(struct cli *c, struct nl_sock **sock, int *lock)
{
	int rc = cmd_connect(c, sock);

	if (rc != EXIT_OK)
		return rc;
	*lock = run_lock();
	if (*lock < 0)
		return cmd_fail(c->cmd, "cannot take the lock", RUN_DIR "/lock",
				*lock);
	return EXIT_OK;
}

/* The generation cache (gen_cache.h) of this namespace and table. */
static bool cache_hit(struct nft_run *r, uint32_t gen)
{
	uint64_t cookie;

	return nl_netns_cookie(r->sock, &cookie) == 0 &&
	       gen_cache_hit(RUN_DIR, cookie, r->want->table, gen, r->hash);
}

/* Call with the run lock held. */
static void cache_store(struct nft_run *r, uint32_t gen)
{
	uint64_t cookie;

	if (r->lock >= 0 && nl_netns_cookie(r->sock, &cookie) == 0)
		gen_cache_store(RUN_DIR, cookie, r->want->table, gen, r->hash);
}

/*
 * Read the live table with its handles and counters. While nothing has
 * committed to the kernel since portwarden's last apply here (same
 * ruleset generation and namespace), the record of that apply holds the
 * live set elements: take them from it instead of reading 100k elements
 * back (the kernel re-walks a set for every dump reply). Call with the run
 * lock held when @record. @vouched: set when the record vouched for the
 * table (then it is the one portwarden's last apply made). Return: 0,
 * -ENOENT when the table is absent, -ESRCH when @record and the record
 * does not vouch (nothing was read), or another negative errno.
 */
static int read_live(struct nft_run *r, bool record, bool *vouched)
{
	struct safe_state *st = NULL;
	struct model *known = NULL;
	uint32_t known_gen = 0;
	char dir[256];
	int ret;

	if (record && safe_state_dir(dir, sizeof(dir)) == 0 &&
	    safe_state_load(dir, &st) == 0 && st->applied &&
	    !strcmp(st->table, r->want->table) &&
	    safe_state_is_live(st, r->sock)) {
		known = st->applied;
		known_gen = st->kernel_gen;
	}
	*vouched = known != NULL;
	if (record && !known)
		ret = -ESRCH;	/* the caller checks ownership, then reads */
	else
		ret = nl_read_table_with(r->sock, r->want->table, known,
					 known_gen, &r->live);
	safe_state_free(st);
	return ret;
}

static void model_counts(const struct model *m, size_t *rules, size_t *elems)
{
	size_t i;

	*rules = *elems = 0;
	for (i = 0; i < m->n_chains; i++)
		*rules += m->chains[i].n_rules;
	for (i = 0; i < m->n_sets; i++)
		*elems += m->sets[i].n_elems;
}

static int nft_read_live(struct cli *c, struct nft_run *r, bool lock);

/*
 * Load and compile the policy, enter the namespace, take the run lock and
 * read the live table (unless the generation cache already knows it equals
 * the policy: then r->cached). Return: EXIT_OK or the exit code of the failure
 * (already reported).
 */
static int nft_prepare(struct cli *c, struct nft_run *r, bool lock)
{
	int rc = EXIT_INVALID, ret;
	double t = now_ms();

	diag_init(&r->d);
	r->lock = -1;
	if (!r->policy)	/* else apply_loaded()'s */
		r->policy = cli_load_policy(c, 0, c->n_args, &rc);
	if (!r->policy)
		return rc;
	r->ms[PH_LOAD] = now_ms() - t;
	t = now_ms();
	ret = compile_policy(r->policy, &r->want, &r->d);
	r->ms[PH_COMPILE] = now_ms() - t;
	cli_print_diag(c, &r->d);
	diag_release(&r->d);
	diag_init(&r->d);
	if (ret < 0)
		return cmd_fail(c->cmd, "cannot compile the policy", NULL, ret);
	rc = cmd_connect(c, &r->sock);
	if (rc != EXIT_OK)
		return rc;
	if (lock) {
		r->lock = run_lock();
		if (r->lock < 0)
			return cmd_fail(c->cmd, "cannot take the lock", RUN_DIR "/lock",
				    r->lock);
	}
	t = now_ms();
	rc = nft_read_live(c, r, lock);
	r->ms[PH_READ] = now_ms() - t;
	return rc;
}

/* The live table into r->live (or r->cached), with the ownership check. */
static int nft_read_live(struct cli *c, struct nft_run *r, bool lock)
{
	uint32_t g0, g1;
	bool vouched = false;
	int rc, ret;

	r->hash = model_hash(r->want);
	if (nl_get_generation(r->sock, &g0) < 0)
		g0 = 0;
	if (g0 && !r->no_cache && cache_hit(r, g0)) {
		r->cached = true;
		r->source = "the generation cache (nothing committed since portwarden last applied this policy)";
		return EXIT_OK;
	}
	/* the elements from the rollback record when it vouches for the
	 * table; the rules (handles, counters) always from the kernel */
	if (lock && g0) {
		ret = read_live(r, true, &vouched);
		if (vouched)
			goto read;
	}
	/* the record does not vouch for the table: is it ours at all? */
	if (lock) {
		rc = cli_check_owner(c, r->sock, r->want->table, &r->foreign);
		if (rc != EXIT_OK)
			return rc;
	} else {
		r->foreign = nl_table_owned(r->sock, r->want->table) == 0;
	}
	ret = read_live(r, false, &vouched);
read:
	if (ret == -ENOENT) {
		r->live = NULL;
		ret = 0;
	}
	if (ret < 0)
		return cmd_fail(c->cmd, "cannot read table inet", r->want->table, ret);
	r->source = !r->live ? "absent" : vouched ?
		    "the rollback record for its set elements (nothing committed since the last apply), a dump for its rules" :
		    "a dump of the kernel's table";
	if (g0 && nl_get_generation(r->sock, &g1) == 0 && g1 == g0)
		r->gen = g0;
	return EXIT_OK;
}

/* -v: where the live table came from, what was sent; -vv: timings. */
static void nft_verbose(const struct cli *c, const struct nft_run *r,
			bool sent)
{
	size_t msgs, bytes, rules, elems;
	int i;

	if (c->verbose < 1 || !r->want)
		return;
	if (r->source)
		fprintf(stderr, "portwarden: %s: live table inet %s: %s\n",
			c->cmd, r->want->table, r->source);
	if (r->live) {
		model_counts(r->live, &rules, &elems);
		fprintf(stderr, "portwarden: %s: live table: %zu rules, %zu set elements\n",
			c->cmd, rules, elems);
	}
	if (sent) {
		nl_last_batch(r->sock, &msgs, &bytes);
		fprintf(stderr, "portwarden: %s: sent one transaction: %zu netlink messages, %zu bytes; ruleset generation now %" PRIu32 "\n",
			c->cmd, msgs, bytes, nl_applied_generation(r->sock));
	}
	if (c->verbose < 2)
		return;
	fprintf(stderr, "portwarden: %s: timings:", c->cmd);
	for (i = 0; i < PH_MAX; i++)
		if (r->ms[i] > 0)
			fprintf(stderr, "%s %s %.1f ms", i ? "," : "",
				phase_name[i], r->ms[i]);
	fputc('\n', stderr);
}

static void json_list(FILE *f, char **v, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		if (i)
			fputs(", ", f);
		json_string(f, v[i]);
	}
	fputc(']', f);
}

static void print_json_diff(const char *table, bool changed,
			    const struct model_diff *df, const char *extra)
{
	printf("{\"changed\": %s, \"table\": ", changed ? "true" : "false");
	json_string(stdout, table);
	printf(", \"added\": ");
	if (df)
		json_list(stdout, df->added, df->n_added);
	else
		fputs("[]", stdout);
	printf(", \"removed\": ");
	if (df)
		json_list(stdout, df->removed, df->n_removed);
	else
		fputs("[]", stdout);
	printf("%s}\n", extra ? extra : "");
}

static void print_text_diff(const struct model_diff *df)
{
	size_t i;

	/* lines of the live table carry interface names and comments
	 * someone else wrote: escaped (SPEC §6) */
	for (i = 0; i < df->n_removed; i++) {
		fputs("- ", stdout);
		text_put(stdout, df->removed[i]);
		fputc('\n', stdout);
	}
	for (i = 0; i < df->n_added; i++) {
		fputs("+ ", stdout);
		text_put(stdout, df->added[i]);
		fputc('\n', stdout);
	}
}


/* `sport: ephemeral` against the source ports this namespace really uses;
 * a host whose range cannot be read gets no warning. */
static void warn_ephemeral(struct cli *c, const struct policy *p)
{
	unsigned int lo, hi;
	struct diag d;

	if (netns_local_port_range(&lo, &hi) < 0)
		return;
	diag_init(&d);
	if (policy_warn_ephemeral(p, lo, hi, &d))
		cli_print_diag(c, &d);
	diag_release(&d);
}

/* Rules of @m with a counter: after an unchanged apply, every one kept. */
static size_t counted_rules(const struct model *m)
{
	size_t i, j, n = 0;

	for (i = 0; i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++)
			n += m->chains[i].rules[j].counter;
	return n;
}

/* The enforced table changed: the staged table's copy of it follows. */
static void stage_follow(struct cli *c, struct nl_sock *s, const char *table,
			 const struct model *now)
{
	struct diag d;
	int ret;

	diag_init(&d);
	ret = nl_stage_refresh(s, table, now, &d);
	if (ret < 0 && ret != -ENOENT) {
		cli_print_diag(c, &d);
		fprintf(stderr, "portwarden: %s: warning: the staged policy still compares with the previous enforced table: %s (run apply --stage again)\n",
			c->cmd, strerror(-ret));
	}
	diag_release(&d);
}

int apply_main(struct cli *c)
{
	if (c->stage)
		return stage_main(c);
	return apply_loaded(c, NULL, NULL);
}

/*
 * apply_loaded(), apply_run(): @p (borrowed) or c->args; @changed; @drop
 * deleted in the same transaction; @want_hash the fingerprint the
 * compiled policy must have.
 */
static int apply_common(struct cli *c, const struct policy *p, bool *changed,
			const char *drop, uint64_t want_hash);

int apply_loaded(struct cli *c, const struct policy *p, bool *changed)
{
	return apply_common(c, p, changed, NULL, 0);
}

int apply_run(struct cli *c, const char *drop, uint64_t want_hash)
{
	return apply_common(c, NULL, NULL, drop, want_hash);
}

static int apply_common(struct cli *c, const struct policy *p, bool *changed,
			const char *drop, uint64_t want_hash)
{
	struct nft_run r = { .lock = -1, .policy = (struct policy *)p,
			     .no_cache = drop != NULL };
	struct model_diff df = { 0 };
	struct model_delta dl = { 0 };
	struct safe_txn txn;	/* safe ops */
	size_t n_rules, n_elems;
	char extra[96];
	double t;
	int rc, ret;

	rc = nft_prepare(c, &r, true);
	if (rc != EXIT_OK)
		goto out;
	warn_ephemeral(c, r.policy);	/* nft_prepare entered --netns */
	if (want_hash && r.hash != want_hash) {
		fprintf(stderr, "portwarden: %s: the staged policy's files changed since they were staged; nothing was changed (stage them again with apply --stage, or apply them)\n",
			c->cmd);
		rc = EXIT_INVALID;
		goto out;
	}
	if (!r.cached) {
		model_delta(r.live, r.want, &dl);
		/* a foreign table taken over with --force is recreated, so
		 * that it gets the mark, even when its rules are already the
		 * policy's (counters carried over) */
		if (r.foreign && r.live) {
			dl.recreate = true;
			dl.n_changes++;
		}
	}
	if (!drop && (r.cached || !dl.n_changes)) {
		if (!r.cached)
			cache_store(&r, r.gen);
		nft_verbose(c, &r, false);
		snprintf(extra, sizeof(extra), ", \"counters_kept\": %zu",
			 counted_rules(r.want));
		if (c->format == FMT_JSON)
			print_json_diff(r.want->table, false, NULL, extra);
		else if (!c->quiet)
			printf("table inet %s: unchanged\n", r.want->table);
		if (changed)
			*changed = false;
		rc = EXIT_OK;
		goto out;
	}
	/* the lines are printed by --dry-run and JSON only: a first apply of
	 * 100,000 elements need not format each of them */
	if (c->dry_run || c->format == FMT_JSON)
		model_diff_delta(r.live, r.want, &dl, &df);
	if (c->dry_run) {
		nft_verbose(c, &r, false);
		if (c->format == FMT_JSON) {
			snprintf(extra, sizeof(extra),
				 ", \"counters_kept\": %zu, \"dry_run\": true",
				 dl.counters_kept);
			print_json_diff(r.want->table, true, &df, extra);
		} else {
			print_text_diff(&df);
			printf("table inet %s: would change (%zu added, %zu removed%s); nothing sent (--dry-run)\n",
			       r.want->table, df.n_added, df.n_removed,
			       dl.recreate ? "; the table would be recreated" : "");
		}
		rc = EXIT_OK;
		goto out;
	}

	/* safe ops: save the live table (r.live) for rollback and --confirm
	 * before sending; refuse with EXIT_LOCKOUT when the policy would cut
	 * live established inbound connections unless c->force. */
	t = now_ms();
	rc = safe_before_apply(c, r.live, r.want, &txn);
	r.ms[PH_SAFE] = now_ms() - t;
	if (rc != EXIT_OK)
		goto out;

	t = now_ms();
	ret = nl_apply_delta_drop(r.sock, r.live, r.want, &dl, drop, &r.d);
	r.ms[PH_SEND] = now_ms() - t;

	/* safe ops: record the outcome; arm the --confirm timer (c->confirm). */
	rc = safe_after_apply(c, r.sock, &txn, ret);

	cli_print_diag(c, &r.d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: apply: table inet %s was not changed: %s\n",
			r.want->table, strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (rc != EXIT_OK)	/* safe ops: the confirm timer failed */
		goto out;
	cache_store(&r, nl_applied_generation(r.sock));
	nft_verbose(c, &r, true);
	if (!drop)
		stage_follow(c, r.sock, r.want->table, r.want);
	if (c->verbose >= 1 && !dl.create)
		fprintf(stderr, "portwarden: apply: %s: %zu rules added, %zu removed, %zu set elements added, %zu removed; %zu rules kept, %zu of them with their counters\n",
			dl.recreate ? "table recreated (counters carried over)" :
			"changed in place", dl.rules_added, dl.rules_deleted,
			dl.elems_added, dl.elems_deleted, dl.rules_kept,
			dl.counters_kept);
	model_counts(r.want, &n_rules, &n_elems);
	if (c->format == FMT_JSON) {
		snprintf(extra, sizeof(extra), ", \"counters_kept\": %zu%s",
			 dl.counters_kept, drop ? ", \"promoted\": true" : "");
		print_json_diff(r.want->table, true, &df, extra);
	} else if (!c->quiet) {
		printf("table inet %s: %s (%zu rules, %zu set elements)\n",
		       r.want->table, drop ? "the staged policy is enforced" :
		       "applied", n_rules, n_elems);
	}
	if (changed)
		*changed = true;
	rc = EXIT_OK;
out:
	model_delta_release(&dl);
	model_diff_release(&df);
	if (p)
		r.policy = NULL;	/* the caller's */
	nft_run_release(&r);
	return rc;
}

int diff_main(struct cli *c)
{
	struct nft_run r = { .lock = -1 };
	struct model_diff df = { 0 };
	struct model_delta dl = { 0 };
	bool same;
	int rc;

	rc = nft_prepare(c, &r, false);
	if (rc != EXIT_OK)
		goto out;
	same = r.cached;
	if (!same) {
		model_delta(r.live, r.want, &dl);
		same = !dl.n_changes;
	}
	nft_verbose(c, &r, false);
	if (r.foreign)
		fprintf(stderr, "portwarden: diff: note: table inet %s is not portwarden's; apply refuses to change it without --force\n",
			r.want->table);
	if (!same)
		model_diff_delta(r.live, r.want, &dl, &df);
	if (c->format == FMT_JSON) {
		print_json_diff(r.want->table, !same, same ? NULL : &df, NULL);
	} else if (same) {
		if (!c->quiet)
			printf("table inet %s: no differences\n", r.want->table);
	} else {
		print_text_diff(&df);
		if (!c->quiet)
			printf("table inet %s: %zu added, %zu removed%s\n",
			       r.want->table, df.n_added, df.n_removed,
			       r.live ? "" : " (table absent)");
	}
	rc = same ? EXIT_OK : EXIT_FINDINGS;
out:
	model_delta_release(&dl);
	model_diff_release(&df);
	nft_run_release(&r);
	return rc;
}

int flush_main(struct cli *c)
{
	const char *table = c->table ? c->table : DEFAULT_TABLE;
	struct nl_sock *sock = NULL;
	int rc, ret, lock = -1;
	bool kernel_err;
	char dir[256];

	if (c->n_args || strpbrk(table, ": ")) {
		fprintf(stderr, "portwarden: flush takes no arguments (use --table NAME; portwarden's table is always an inet table)\n");
		return EXIT_INVALID;
	}
	rc = cmd_connect_locked(c, &sock, &lock);
	if (rc != EXIT_OK)
		goto out;
	rc = cli_check_owner(c, sock, table, NULL);
	if (rc != EXIT_OK)
		goto out;
	/* Like apply, flush leaves a rollback point (SPEC §6). */
	ret = safe_state_dir(dir, sizeof(dir));
	if (ret < 0) {
		rc = cmd_fail(c->cmd, "cannot use", RUN_DIR, ret);
		goto out;
	}
	ret = safe_flush(dir, sock, table, &kernel_err);
	if (ret == -ENOENT) {
		if (c->format == FMT_JSON) {
			printf("{\"table\": ");
			json_string(stdout, table);
			printf(", \"flushed\": false}\n");
		} else if (!c->quiet)
			printf("table inet %s: not present, nothing to flush\n", table);
		rc = EXIT_OK;
		goto out;
	}
	if (ret < 0 && !kernel_err) {
		fprintf(stderr, "portwarden: flush: cannot write the rollback record %s/state.new: %s; table inet %s was not changed (free space in %s, or make it writable)\n",
			dir, strerror(-ret), table, RUN_DIR);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (ret < 0) {
		rc = cmd_fail(c->cmd, "cannot delete table inet", table, ret);
		goto out;
	}
	stage_follow(c, sock, table, NULL);
	if (c->format == FMT_JSON) {
		printf("{\"table\": ");
		json_string(stdout, table);
		printf(", \"flushed\": true}\n");
	} else if (!c->quiet) {
		printf("table inet %s: flushed\n", table);
	}
	rc = EXIT_OK;
out:
	run_unlock(lock);
	nl_sock_close(sock);
	return rc;
}
