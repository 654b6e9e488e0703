// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden check POLICY...: load, merge and check; print every error and
 * warning and a one-line summary. Exit 0 when valid (warnings allowed),
 * 2 when invalid, 3 when a file cannot be read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostnames.h"
#include "lint_conn.h"
#include "testrun.h"
#include "util.h"

static void json_diags(FILE *f, const struct diag *d, enum diag_severity sev)
{
	bool first = true;
	size_t i;

	fputc('[', f);
	for (i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->v[i];

		if (e->severity != sev)
			continue;
		fputs(first ? "" : ", ", f);
		first = false;
		fputs("{\"file\": ", f);
		json_string(f, e->file);
		if (e->loc.line)
			fprintf(f, ", \"line\": %u, \"column\": %u", e->loc.line,
				e->loc.col);
		else
			fputs(", \"line\": null, \"column\": null", f);
		fputs(", \"message\": ", f);
		json_string(f, e->msg);
		fputc('}', f);
	}
	fputc(']', f);
}

static void print_paths(FILE *f, const char *const *paths, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fputs(i ? " " : "", f);
		text_put(f, paths[i]);
	}
}

/* The hostname sets portwarden daemon fills, per rule (SPEC §8). */
static void print_host_sets(const struct policy *p)
{
	struct host_targets t;
	size_t i, j;

	if (!p->has_hosts)
		return;
	host_targets_from_policy(p, &t);
	for (i = 0; i < t.n; i = j) {
		const struct host_target *a = &t.v[i];

		printf("  rule \"%s\": %s%s%s%s%s for ", a->rule_name,
		       a->exclude ? "not_to, " : "",
		       a->set4 ? a->set4 : "", a->set4 && a->set6 ? ", " : "",
		       a->set6 ? a->set6 : "", "");
		for (j = i; j < t.n && t.v[j].rule == a->rule &&
			    t.v[j].exclude == a->exclude; j++)
			printf("%s%s%s", j > i ? ", " : "",
			       t.v[j].wildcard ? "*." : "", t.v[j].pattern);
		putchar('\n');
	}
	host_targets_release(&t);
}

int check_main(struct cli *c)
{
	static const char *const def[] = { DEFAULT_POLICY_DIR };
	const char *const *paths = def;
	size_t n = 1;
	struct policy *p = NULL;
	struct diag d;
	int ret, code;

	if (c->n_args) {
		paths = (const char *const *)c->args;
		n = c->n_args;
	}
	diag_init(&d);
	ret = policy_load(&p, paths, n, &d);
	if (!ret) {
		struct model *m = NULL;
		struct diag cd;

		/* the compiler's own warnings are the checker's already */
		diag_init(&cd);
		if (compile_policy(p, &m, &cd) == 0) {
			struct test_run r;

			lint_replies(p, m, &d);
			/* a failing test is an error at its line (SPEC §10) */
			if (test_run(p, m, &r) < 0)
				diag_error(&d, NULL, "cannot run the policy's tests");
			if (test_run_diag(&r, &d) || r.n != p->n_tests)
				ret = -EINVAL;
			test_run_release(&r);
		}
		diag_release(&cd);
		model_free(m);
		if (ret < 0) {
			policy_free(p);
			p = NULL;
		}
	}
	if (!ret)
		code = EXIT_OK;
	else if (ret == -EINVAL)
		code = EXIT_INVALID;
	else
		code = EXIT_RUNTIME;
	if (c->format == FMT_JSON) {
		fputs("{\"valid\": ", stdout);
		fputs(ret ? "false" : "true", stdout);
		fputs(", \"errors\": ", stdout);
		json_diags(stdout, &d, DIAG_ERROR);
		fputs(", \"warnings\": ", stdout);
		json_diags(stdout, &d, DIAG_WARNING);
		if (ret < 0) {	/* SPEC §6: the error object, in the same one */
			char *msg = d.errors ?
				xasprintf("%u error%s, %u warning%s", d.errors,
					  d.errors == 1 ? "" : "s", d.warnings,
					  d.warnings == 1 ? "" : "s") :
				xasprintf("cannot load the policy: %s",
					  strerror(-ret));

			fputs(", \"error\": ", stdout);
			cli_json_error(stdout, code, msg, &d);
			free(msg);
		}
		fputs("}\n", stdout);
		goto out;
	}
	cli_print_diag(c, &d);
	if (ret < 0) {
		if (!d.errors)
			fprintf(stderr, "portwarden: cannot load the policy: %s\n",
				strerror(-ret));
		else
			fprintf(stderr, "portwarden: %u error%s, %u warning%s\n",
				d.errors, d.errors == 1 ? "" : "s", d.warnings,
				d.warnings == 1 ? "" : "s");
		goto out;
	}
	if (!c->quiet) {
		print_paths(stdout, paths, n);
		printf(": ok (%zu inbound, %zu outbound rule%s, %zu set%s, %zu listener%s",
		       p->n_rules[DIR_IN], p->n_rules[DIR_OUT],
		       p->n_rules[DIR_OUT] == 1 ? "" : "s", p->n_sets,
		       p->n_sets == 1 ? "" : "s", p->n_listeners,
		       p->n_listeners == 1 ? "" : "s");
		if (d.warnings)
			printf("; %u warning%s", d.warnings,
			       d.warnings == 1 ? "" : "s");
		puts(")");
		print_host_sets(p);
	}
out:
	policy_free(p);
	diag_release(&d);
	return code;
}
