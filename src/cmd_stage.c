// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Staged policies (SPEC §9): `apply --stage POLICY...`, `promote`,
 * `unstage`, and the staged part of `status`. The kernel side is
 * nl_stage.c (stage.h has the layout); the record of what was staged is
 * stage_state.c; promote's transaction is apply's (cmd_nft.c apply_run()),
 * with the staged table deleted in the same batch.
 *
 * A staged policy decides nothing, so it cannot lock anyone out: apply
 * --stage runs no lock-out guard and takes no --confirm. It keeps no
 * rollback point either (the enforced table does not change); promote
 * does, as apply does.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "model_cmp.h"
#include "netns.h"
#include "nl.h"
#include "stage.h"
#include "stage_state.h"
#include "state.h"
#include "util.h"

#define DEFAULT_TABLE "portwarden"

/* The staged table exists and is not portwarden's: refuse unless --force. */
static int check_staged_owner(struct cli *c, struct nl_sock *s,
			      const char *table)
{
	char name[264];

	if (stage_table_name(table, name, sizeof(name)) < 0)
		return EXIT_INVALID;
	return cli_check_owner(c, s, name, NULL);
}

/* ---- apply --stage ---- */

static size_t staged_rules(const struct model *m)
{
	size_t i, j, n = 0;

	for (i = 0; i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++)
			n += m->chains[i].rules[j].verdict != MV_NONE;
	return n;
}

int stage_main(struct cli *c)
{
	struct stage_state st = { 0 };
	struct model *want = NULL, *live = NULL;
	struct policy *p = NULL;
	struct nl_sock *sock = NULL;
	char dir[256], name[264], abs[PATH_MAX];
	char **saved_args;
	struct diag d;
	size_t i;
	int rc = EXIT_INVALID, ret, lock = -1;
	uint16_t group;

	diag_init(&d);
	if (c->confirm >= 0) {
		fprintf(stderr, "portwarden: apply --stage: a staged policy decides nothing, so there is nothing for --confirm to undo (use it with promote)\n");
		return EXIT_INVALID;
	}
	/* loaded by absolute path, as promote loads them again: the paths are
	 * in the rules' NFLOG prefixes, and so in the model's fingerprint */
	st.sources = xcalloc(c->n_args + 1, sizeof(*st.sources));
	for (i = 0; i < c->n_args; i++)
		st.sources[st.n_sources++] = xstrdup(realpath(c->args[i], abs) ?
						     abs : c->args[i]);
	saved_args = c->args;
	c->args = st.sources;
	want = cli_load_model(c, 0, c->n_args, &p, &rc);
	c->args = saved_args;
	if (!want)
		goto out;
	if (stage_table_name(want->table, name, sizeof(name)) < 0) {
		fprintf(stderr, "portwarden: apply --stage: table name %s is too long to stage\n",
			want->table);
		rc = EXIT_INVALID;
		goto out;
	}
	if (c->dry_run) {
		if (c->format == FMT_JSON) {
			printf("{\"staged\": false, \"table\": ");
			json_string(stdout, want->table);
			printf(", \"staged_table\": ");
			json_string(stdout, name);
			printf(", \"rules\": %zu, \"dry_run\": true}\n",
			       staged_rules(want));
		} else if (!c->quiet) {
			printf("table inet %s: would stage %zu rules; nothing sent (--dry-run)\n",
			       name, staged_rules(want));
		}
		rc = EXIT_OK;
		goto out;
	}
	rc = cmd_connect_locked(c, &sock, &lock);
	if (rc != EXIT_OK)
		goto out;
	rc = check_staged_owner(c, sock, want->table);
	if (rc != EXIT_OK)
		goto out;
	ret = nl_read_table(sock, want->table, &live);
	if (ret < 0 && ret != -ENOENT) {
		rc = cmd_fail(c->cmd, "cannot read table inet", want->table, ret);
		goto out;
	}
	ret = safe_state_dir(dir, sizeof(dir));
	if (ret < 0) {
		rc = cmd_fail(c->cmd, "cannot use", RUN_DIR, ret);
		goto out;
	}
	/* the staged policy's own log_group: where its records go */
	group = p->log_group;
	ret = nl_stage_install(sock, live, want, group, &d);
	cli_print_diag(c, &d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: apply --stage: nothing was staged: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	st.table = want->table;
	st.time = (int64_t)time(NULL);
	st.hash = model_hash(want);
	st.group = group;
	ret = stage_state_save(dir, &st);
	if (ret < 0)
		fprintf(stderr, "portwarden: apply --stage: warning: cannot write %s/staged-%s: %s (promote will not know the staged files)\n",
			dir, want->table, strerror(-ret));
	if (c->format == FMT_JSON) {
		printf("{\"staged\": true, \"table\": ");
		json_string(stdout, want->table);
		printf(", \"staged_table\": ");
		json_string(stdout, name);
		printf(", \"rules\": %zu, \"enforced\": %s, \"log_group\": %u}\n",
		       staged_rules(want), live ? "true" : "false", group);
	} else if (!c->quiet) {
		printf("table inet %s: staged (%zu rules) beside %s%s; new connections on which it differs are logged to NFLOG group %u\n",
		       name, staged_rules(want), live ? "table inet " : "no enforced policy (the host accepts)",
		       live ? want->table : "", group);
	}
	rc = EXIT_OK;
out:
	for (i = 0; i < st.n_sources; i++)
		free(st.sources[i]);
	free(st.sources);
	diag_release(&d);
	run_unlock(lock);
	nl_sock_close(sock);
	model_free(live);
	model_free(want);
	policy_free(p);
	return rc;
}

/* ---- promote ---- */

int promote_main(struct cli *c)
{
	struct stage_state *st = NULL;
	struct nl_sock *sock = NULL;
	const char *table = c->table ? c->table : DEFAULT_TABLE;
	char dir[256], name[264];
	char **saved_args = c->args;
	size_t saved_n = c->n_args;
	int rc, ret;

	if (c->n_args) {
		fprintf(stderr, "portwarden: promote takes no policy: it enforces the staged one (apply --stage POLICY... first)\n");
		return EXIT_INVALID;
	}
	rc = cmd_connect(c, &sock);
	if (rc != EXIT_OK)
		return rc;
	ret = safe_state_dir(dir, sizeof(dir));
	if (ret < 0) {
		rc = cmd_fail(c->cmd, "cannot use", RUN_DIR, ret);
		goto out;
	}
	ret = stage_state_load(dir, table, &st);
	if (ret == -ENOENT || (!ret && nl_stage_exists(sock, table) != 1)) {
		fprintf(stderr, "portwarden: promote: nothing is staged (apply --stage POLICY... first)\n");
		rc = EXIT_INVALID;
		goto out;
	}
	if (ret < 0) {
		rc = cmd_fail(c->cmd, "cannot read the record of the staged policy in", dir, ret);
		goto out;
	}
	stage_table_name(table, name, sizeof(name));
	nl_sock_close(sock);	/* apply_run() opens its own */
	sock = NULL;
	if (c->netns) {
		/* already entered; apply_run() must not enter it again */
		c->netns = NULL;
	}
	c->args = st->sources;
	c->n_args = st->n_sources;
	rc = apply_run(c, name, st->hash);
	c->args = saved_args;
	c->n_args = saved_n;
	if (rc == EXIT_OK && !c->dry_run)
		stage_state_remove(dir, table);
out:
	stage_state_free(st);
	nl_sock_close(sock);
	return rc;
}

/* ---- unstage ---- */

int unstage_main(struct cli *c)
{
	const char *table = c->table ? c->table : DEFAULT_TABLE;
	struct nl_sock *sock = NULL;
	char dir[256], name[264];
	int rc, ret, lock = -1;

	if (c->n_args) {
		fprintf(stderr, "portwarden: unstage takes no arguments (use --table NAME)\n");
		return EXIT_INVALID;
	}
	if (stage_table_name(table, name, sizeof(name)) < 0) {
		fprintf(stderr, "portwarden: unstage: table name too long\n");
		return EXIT_INVALID;
	}
	rc = cmd_connect_locked(c, &sock, &lock);
	if (rc != EXIT_OK)
		goto out;
	rc = check_staged_owner(c, sock, table);
	if (rc != EXIT_OK)
		goto out;
	ret = nl_delete_table(sock, name);
	if (safe_state_dir(dir, sizeof(dir)) == 0)
		stage_state_remove(dir, table);
	if (ret < 0 && ret != -ENOENT) {
		rc = cmd_fail(c->cmd, "cannot delete table inet", name, ret);
		goto out;
	}
	if (c->format == FMT_JSON) {
		printf("{\"table\": ");
		json_string(stdout, table);
		printf(", \"unstaged\": %s}\n", ret == -ENOENT ? "false" : "true");
	} else if (!c->quiet) {
		printf(ret == -ENOENT ? "table inet %s: nothing staged\n" :
		       "table inet %s: staged policy removed\n", table);
	}
	rc = EXIT_OK;
out:
	run_unlock(lock);
	nl_sock_close(sock);
	return rc;
}

/* ---- status ---- */

static const char *verdict_word(enum verdict v)
{
	return v == VERDICT_ACCEPT ? "accept" : v == VERDICT_DROP ? "drop" :
	       "reject";
}

static void iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%" PRId64, t);
}

int stage_status(const struct cli *c, struct nl_sock *s, const char *table,
		 bool json)
{
	struct stage_state *st = NULL;
	struct stage_rule *v = NULL;
	char dir[256], name[264], when[40];
	uint16_t group = 0;
	size_t n = 0, i;
	int ret;

	(void)c;
	ret = nl_stage_read(s, table, &v, &n, &group);
	if (ret == -ENOENT) {
		if (json)
			printf(", \"staged\": null");
		return 0;
	}
	if (ret < 0)
		return ret;
	if (safe_state_dir(dir, sizeof(dir)) < 0 ||
	    stage_state_load(dir, table, &st) < 0)
		st = NULL;
	stage_table_name(table, name, sizeof(name));
	if (st)
		iso_time(st->time, when, sizeof(when));
	if (json) {
		printf(", \"staged\": {\"table\": ");
		json_string(stdout, name);
		printf(", \"sources\": ");
		if (st) {
			putchar('[');
			for (i = 0; i < st->n_sources; i++) {
				if (i)
					fputs(", ", stdout);
				json_string(stdout, st->sources[i]);
			}
			putchar(']');
		} else {
			fputs("null", stdout);
		}
		printf(", \"applied\": ");
		json_string(stdout, st ? when : NULL);
		printf(", \"log_group\": %u, \"rules\": [", group);
		for (i = 0; i < n; i++) {
			printf("%s{\"dir\": \"%s\", \"rule\": ", i ? ", " : "",
			       v[i].dir == DIR_IN ? "in" : "out");
			json_string(stdout, v[i].name);
			printf(", \"at\": ");
			json_string(stdout, v[i].at[0] ? v[i].at : NULL);
			printf(", \"verdict\": \"%s\", \"packets\": %" PRIu64
			       ", \"bytes\": %" PRIu64 "}",
			       verdict_word(v[i].verdict), v[i].packets, v[i].bytes);
		}
		printf("]}");
	} else {
		printf("\nstaged policy: table inet %s", name);
		if (st) {
			printf(", staged %s from", when);
			for (i = 0; i < st->n_sources; i++) {
				putchar(' ');
				text_put(stdout, st->sources[i]);
			}
			if (!st->n_sources)
				printf(" " DEFAULT_POLICY_DIR);
		}
		printf("; differing new connections go to NFLOG group %u\n", group);
		printf("  %-3s %-6s %-24s %12s %14s  %s\n", "dir", "verdict",
		       "rule", "packets", "bytes", "at");
		for (i = 0; i < n; i++) {
			char *nm = text_escape(v[i].name), *at = text_escape(v[i].at);

			printf("  %-3s %-6s %-24s %12" PRIu64 " %14" PRIu64 "  %s\n",
			       v[i].dir == DIR_IN ? "in" : "out",
			       verdict_word(v[i].verdict), nm, v[i].packets,
			       v[i].bytes, at[0] ? at : "-");
			free(nm);
			free(at);
		}
	}
	stage_rules_free(v, n);
	stage_state_free(st);
	return 0;
}
