// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by the commands: loading policies, printing diagnostics. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nl.h"
#include "safe.h"
#include "testrun.h"
#include "util.h"

/* What cli_json_begin() keeps of a run. */
struct cli_json {
	FILE *out, *err;	/* the tees standing in for stdout, stderr */
	FILE *real_out, *real_err;
	char *text;		/* stderr lines outside diagnostics */
	size_t len;
	size_t out_bytes;	/* written on stdout */
	bool in_diag;
	struct diag diags;
};

#define JSON_TEXT_MAX	(64u * 1024)

static ssize_t write_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)len;
}

static ssize_t tee_out(void *cookie, const char *buf, size_t len)
{
	struct cli_json *j = cookie;

	j->out_bytes += len;
	return write_all(STDOUT_FILENO, buf, len);
}

static ssize_t tee_err(void *cookie, const char *buf, size_t len)
{
	struct cli_json *j = cookie;
	size_t keep = len;

	if (!j->in_diag && j->len < JSON_TEXT_MAX) {
		if (keep > JSON_TEXT_MAX - j->len)
			keep = JSON_TEXT_MAX - j->len;
		j->text = xrealloc(j->text, j->len + keep + 1);
		memcpy(j->text + j->len, buf, keep);
		j->len += keep;
		j->text[j->len] = '\0';
	}
	return write_all(STDERR_FILENO, buf, len);
}

void cli_json_begin(struct cli *c)
{
	struct cli_json *j = xcalloc(1, sizeof(*j));

	diag_init(&j->diags);
	j->real_out = stdout;
	j->real_err = stderr;
	fflush(stdout);
	fflush(stderr);
	j->out = fopencookie(j, "w", (cookie_io_functions_t){ .write = tee_out });
	j->err = fopencookie(j, "w", (cookie_io_functions_t){ .write = tee_err });
	if (!j->out || !j->err) {
		if (j->out)
			fclose(j->out);
		if (j->err)
			fclose(j->err);
		free(j);
		return;		/* out of memory: plain output, no error object */
	}
	setvbuf(j->out, NULL, _IOFBF, 64 * 1024);
	setvbuf(j->err, NULL, _IOLBF, 4096);
	stdout = j->out;
	stderr = j->err;
	c->json = j;
}

void cli_json_error(FILE *f, int code, const char *message,
		    const struct diag *d)
{
	static const char *const sev[] = {
		[DIAG_ERROR] = "error", [DIAG_WARNING] = "warning",
		[DIAG_NOTE] = "note",
	};
	size_t i;

	fprintf(f, "{\"code\": %d, \"message\": ", code);
	json_string(f, message);
	fputs(", \"diagnostics\": [", f);
	for (i = 0; d && i < d->n; i++) {
		const struct diag_entry *e = &d->v[i];

		fputs(i ? ", {\"file\": " : "{\"file\": ", f);
		json_string(f, e->file);
		if (e->loc.line)
			fprintf(f, ", \"line\": %u, \"column\": %u",
				e->loc.line, e->loc.col);
		else
			fputs(", \"line\": null, \"column\": null", f);
		fprintf(f, ", \"severity\": \"%s\", \"message\": ",
			sev[e->severity]);
		json_string(f, e->msg);
		fputc('}', f);
	}
	fputs("]}", f);
}

/* The kept stderr lines as one message: "portwarden: " and the hint to
 * try --help left out. */
static char *json_message(const struct cli_json *j, int code)
{
	char *msg = xstrdup(""), *line, *next, *text;
	size_t len = 0;

	text = xstrdup(j->text ? j->text : "");
	for (line = text; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "portwarden: ", 12))
			line += 12;
		if (!*line || !strncmp(line, "Try 'portwarden", 15))
			continue;
		msg = xrealloc(msg, len + strlen(line) + 2);
		len += (size_t)sprintf(msg + len, "%s%s", len ? "\n" : "", line);
	}
	free(text);
	if (!len) {
		free(msg);
		msg = xasprintf("failed with exit code %d", code);
	}
	return msg;
}

void cli_json_end(struct cli *c, int exit_code)
{
	struct cli_json *j = c->json;
	char *msg;

	if (!j)
		return;
	fflush(j->out);
	fflush(j->err);
	stdout = j->real_out;
	stderr = j->real_err;
	if (exit_code >= EXIT_INVALID && !j->out_bytes) {
		msg = json_message(j, exit_code);
		fputs("{\"error\": ", stdout);
		cli_json_error(stdout, exit_code, msg, &j->diags);
		fputs("}\n", stdout);
		fflush(stdout);
		free(msg);
	}
	fclose(j->out);
	fclose(j->err);
	diag_release(&j->diags);
	free(j->text);
	free(j);
	c->json = NULL;
}

void cli_print_diag(const struct cli *c, const struct diag *d)
{
	struct diag shown = *d;
	size_t i;

	if (c->json) {
		/* every error and warning for the JSON error object, also
		 * with -q; none of them in its "message" */
		for (i = 0; i < d->n; i++)
			if (d->v[i].severity != DIAG_NOTE)
				diag_add(&c->json->diags, d->v[i].severity,
					 &d->v[i].loc, "%s", d->v[i].msg);
		fflush(stderr);
		c->json->in_diag = true;
	}
	if (!c->quiet)
		diag_print(d, stderr);
	for (i = 0; c->quiet && i < d->n; i++) {
		if (d->v[i].severity != DIAG_ERROR)
			continue;
		shown.v = &d->v[i];
		shown.n = 1;
		diag_print(&shown, stderr);
	}
	if (c->json) {
		fflush(stderr);
		c->json->in_diag = false;
	}
}

bool cli_changes(const struct cli *c)
{
	static const char *const changing[] = { "apply", "flush", "rollback",
						"confirm", "promote", "unstage" };
	size_t i;

	if (!c->cmd || c->dry_run)
		return false;
	for (i = 0; i < ARRAY_SIZE(changing); i++)
		if (!strcmp(c->cmd, changing[i]))
			return true;
	return false;
}

/*
 * Commands that make or install a ruleset run the policy's tests and refuse
 * it when one fails (check runs them itself). explain, diff, audit and
 * test answer about a policy whatever its tests say: they are how a
 * failing test is looked into.
 */
static bool cli_runs_tests(const struct cli *c)
{
	static const char *const cmds[] = { "apply", "compile", "daemon",
					    "promote" };
	size_t i;

	for (i = 0; c->cmd && i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(c->cmd, cmds[i]))
			return true;
	return false;
}

struct policy *cli_load_policy(struct cli *c, size_t first, size_t n,
			       int *exit_code)
{
	static const char *const def[] = { DEFAULT_POLICY_DIR };
	const char *const *paths = def;
	struct policy *p = NULL;
	struct diag d;
	int ret;

	if (n)
		paths = (const char *const *)&c->args[first];
	else
		n = 1;
	diag_init(&d);
	ret = policy_load(&p, paths, n, &d);
	/* a policy whose tests fail is not applied (SPEC §10) */
	if (!ret && cli_runs_tests(c) && policy_tests_check(p, &d) < 0) {
		policy_free(p);
		p = NULL;
		ret = -EINVAL;
	}
	cli_print_diag(c, &d);
	if (ret < 0 && !d.errors)
		fprintf(stderr, "portwarden: cannot load policy\n");
	if (ret < 0)
		*exit_code = (ret == -EINVAL) ? EXIT_INVALID : EXIT_RUNTIME;
	/* only a command that would have changed something says it did not */
	if (ret < 0 && d.errors)
		fprintf(stderr, "portwarden: %u error%s, %u warning%s%s\n",
			d.errors, d.errors == 1 ? "" : "s",
			d.warnings, d.warnings == 1 ? "" : "s",
			cli_changes(c) ? "; nothing was changed" : "");
	diag_release(&d);
	return ret < 0 ? NULL : p;
}

int cli_check_owner(const struct cli *c, struct nl_sock *s, const char *table,
		    bool *foreign)
{
	int ret = nl_table_owned(s, table);

	if (foreign)
		*foreign = ret == 0;
	if (ret == 1 || ret == -ENOENT)
		return EXIT_OK;
	if (ret < 0) {
		fprintf(stderr, "portwarden: %s: cannot read table inet %s: %s\n",
			c->cmd, table, strerror(-ret));
		return EXIT_RUNTIME;
	}
	if (c->force) {
		if (!c->quiet)
			fprintf(stderr, "portwarden: %s: warning: table inet %s is not portwarden's; taking it over (--force)\n",
				c->cmd, table);
		return EXIT_OK;
	}
	fprintf(stderr, "portwarden: %s: table inet %s exists and is not portwarden's; refusing (use --force to take it over)\n",
		c->cmd, table);
	return EXIT_RUNTIME;
}

int cli_check_owner_recorded(const struct cli *c, struct nl_sock *s,
			     const char *dir)
{
	struct safe_state *st = NULL;
	struct nl_sock *own = NULL;
	int rc = EXIT_OK, ret;

	if (safe_state_load(dir, &st) < 0)
		return EXIT_OK;	/* nothing recorded: nothing to act on */
	if (!s) {
		ret = nl_sock_open(&own);
		if (ret < 0) {
			fprintf(stderr, "portwarden: %s: cannot open a netlink socket: %s\n",
				c->cmd, strerror(-ret));
			rc = EXIT_RUNTIME;
			goto out;
		}
		s = own;
	}
	rc = cli_check_owner(c, s, st->table, NULL);
out:
	nl_sock_close(own);
	safe_state_free(st);
	return rc;
}
