// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden test POLICY... [--format text|json|junit]: run the policy's
 * `tests:` (SPEC §10) on the policy alone and print each with its result.
 * Exit 0 when all pass, 1 when one fails, 2 when the policy is invalid or a
 * test's packet is not explain's arguments. No privileges, no kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "testrun.h"
#include "util.h"

static const char *const status_name[] = {
	[TEST_PASS] = "pass", [TEST_FAIL] = "fail", [TEST_ERROR] = "error",
};

static void json_or_null(FILE *f, const char *s)
{
	if (s)
		json_string(f, s);
	else
		fputs("null", f);
}

static void print_json(const struct test_run *r)
{
	size_t i;

	printf("{\"passed\": %zu, \"failed\": %zu, \"errors\": %zu, \"tests\": [",
	       r->passed, r->failed, r->errors);
	for (i = 0; i < r->n; i++) {
		const struct test_result *tr = &r->v[i];
		const struct policy_test *t = tr->t;

		fputs(i ? ",\n  {\"file\": " : "\n  {\"file\": ", stdout);
		json_string(stdout, t->loc.file);
		printf(", \"line\": %u, \"column\": %u, \"packet\": ", t->loc.line,
		       t->loc.col);
		json_or_null(stdout, t->packet);
		printf(", \"expect\": \"%s\", \"expect_rule\": ", verdict_name(t->expect));
		json_or_null(stdout, t->rule);
		printf(", \"status\": \"%s\", \"verdict\": ", status_name[tr->status]);
		json_or_null(stdout, tr->status == TEST_ERROR ? NULL :
			     ix_verdict_name(tr->verdict));
		fputs(", \"rule\": ", stdout);
		json_or_null(stdout, tr->rule);
		fputs(", \"at\": ", stdout);
		json_or_null(stdout, tr->at);
		fputs(", \"message\": ", stdout);
		json_or_null(stdout, tr->message);
		fputc('}', stdout);
	}
	printf("%s]}\n", r->n ? "\n" : "");
}

/* XML text: markup escaped; control and non-ASCII bytes as \xNN, so the
 * document is ASCII whatever bytes a policy holds */
static void xml_text(const char *s)
{
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		switch (ch) {
		case '&': fputs("&amp;", stdout); break;
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		case '\'': fputs("&apos;", stdout); break;
		default:
			if (ch < 0x20 || ch >= 0x7f)
				printf("\\x%02x", ch);
			else
				putchar(ch);
		}
	}
}

static void print_junit(const struct test_run *r)
{
	size_t i;

	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	printf("<testsuites name=\"portwarden test\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
	       r->n, r->failed, r->errors);
	printf("  <testsuite name=\"policy tests\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n",
	       r->n, r->failed, r->errors);
	for (i = 0; i < r->n; i++) {
		const struct test_result *tr = &r->v[i];
		const struct policy_test *t = tr->t;
		char *where = xasprintf("%s:%u:%u", t->loc.file, t->loc.line,
					t->loc.col);

		fputs("    <testcase classname=\"portwarden.test\" name=\"", stdout);
		xml_text(t->packet ? t->packet : "?");
		fputs("\" file=\"", stdout);
		xml_text(t->loc.file);
		printf("\" line=\"%u\"", t->loc.line);
		if (tr->status == TEST_PASS) {
			fputs("/>\n", stdout);
			free(where);
			continue;
		}
		printf(">\n      <%s type=\"%s\" message=\"",
		       tr->status == TEST_FAIL ? "failure" : "error",
		       status_name[tr->status]);
		xml_text(tr->message);
		fputs("\">", stdout);
		xml_text(where);
		fputs(": ", stdout);
		xml_text(tr->message);
		printf("</%s>\n    </testcase>\n",
		       tr->status == TEST_FAIL ? "failure" : "error");
		free(where);
	}
	printf("  </testsuite>\n</testsuites>\n");
}

static void print_text(const struct cli *c, const struct test_run *r)
{
	static const char *const tag[] = {
		[TEST_PASS] = "PASS", [TEST_FAIL] = "FAIL", [TEST_ERROR] = "ERROR",
	};
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct test_result *tr = &r->v[i];
		const struct policy_test *t = tr->t;
		char *line;

		if (tr->status == TEST_PASS && c->quiet)
			continue;
		if (tr->status == TEST_PASS)
			line = xasprintf("%s %s:%u:%u: %s -> %s (%s%s%s%s)", tag[tr->status],
					 t->loc.file, t->loc.line, t->loc.col, t->packet,
					 ix_verdict_name(tr->verdict),
					 tr->rule ? "rule '" : "no rule",
					 tr->rule ? tr->rule : "", tr->rule ? "', " : "",
					 tr->at ? tr->at : tr->rule ? "built in" : "");
		else
			line = xasprintf("%s %s:%u:%u: %s: %s", tag[tr->status],
					 tr->loc.file, tr->loc.line, tr->loc.col,
					 t->packet ? t->packet : "?", tr->message);
		text_put(stdout, line);	/* the policy's text, escaped */
		putchar('\n');
		free(line);
	}
	printf("%zu test%s: %zu passed, %zu failed, %zu error%s\n", r->n,
	       r->n == 1 ? "" : "s", r->passed, r->failed, r->errors,
	       r->errors == 1 ? "" : "s");
}

int test_main(struct cli *c)
{
	struct policy *p = NULL;
	struct model *m;
	struct test_run r;
	int rc = EXIT_OK, ret;

	m = cli_load_model(c, 0, c->n_args, &p, &rc);
	if (!m)
		return rc;
	ret = test_run(p, m, &r);
	if (ret < 0) {
		fprintf(stderr, "portwarden: test: cannot run the tests: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (c->format == FMT_JSON)
		print_json(&r);
	else if (c->format == FMT_JUNIT)
		print_junit(&r);
	else
		print_text(c, &r);
	rc = r.errors ? EXIT_INVALID : r.failed ? EXIT_FINDINGS : EXIT_OK;
	test_run_release(&r);
out:
	model_free(m);
	policy_free(p);
	return rc;
}
