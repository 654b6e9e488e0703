// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A policy's `tests:` (SPEC §10), each packet parsed as explain parses its
 * arguments (packet_args.c) and run by the interpreter on the compiled
 * policy alone: the answer explain --policy-only gives, the kernel's by
 * construction, the same on every host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain_hosts.h"
#include "packet_args.h"
#include "testrun.h"
#include "util.h"

/* the verdict a test names, as the interpreter says it */
static enum ix_verdict expected(const struct policy_test *t)
{
	switch (t->expect) {
	case VERDICT_ACCEPT:	return IXV_ACCEPT;
	case VERDICT_DROP:	return IXV_DROP;
	case VERDICT_REJECT:	return IXV_REJECT;
	}
	return IXV_UNDETERMINED;
}

/* the step that decided the connection, as explain reports it */
static const struct ix_step *decider(const struct ix_conn_result *res)
{
	const struct ix_packet_result *r = &res->first;

	if (res->first.verdict == IXV_ACCEPT && res->has_reply &&
	    res->reply.verdict != IXV_ACCEPT)
		r = &res->reply;
	return r->decider >= 0 ? &r->steps[r->decider] : NULL;
}

static void describe(const struct policy *p, const struct ix_step *st,
		     struct test_result *tr)
{
	const struct loc *l;
	enum direction dir;

	if (!st)
		return;
	if (st->origin)
		tr->rule = xstrdup(st->origin->name);
	else if (st->label)
		tr->rule = xstrdup(st->label);
	else if (st->rule)
		tr->rule = xstrdup(st->rule);
	dir = st->hook == IXH_OUTPUT || st->hook == IXH_POSTROUTING ? DIR_OUT : DIR_IN;
	l = st->at;
	if (!l && st->label && !strcmp(st->label, "default") && p->def_loc[dir].line)
		l = &p->def_loc[dir];
	if (l && l->file)
		tr->at = xasprintf("%s:%u", l->file, l->line);
}

/* "rule 'https' (p.yaml:21)", "the outbound default (p.yaml:4)" */
static char *who(const struct test_result *tr, enum direction dir)
{
	const char *at = tr->at ? tr->at : "built in";

	if (!tr->rule)
		return xstrdup("no rule");
	if (!strcmp(tr->rule, "default"))
		return xasprintf("the %s default (%s)", direction_name(dir), at);
	return xasprintf("rule '%s' (%s)", tr->rule, at);
}

/* `out tcp github.com:443`: the policy with a stand-in address in the
 * name's sets (explain_by_name()), on a host of its own */
static int by_name(const struct policy *p, struct packet_desc *x,
		   struct packet *pkt, struct ix_conn_result *res)
{
	struct model *m = NULL;
	struct ix_host *h = NULL;
	struct diag d;
	int ret;

	diag_init(&d);
	ret = compile_policy(p, &m, &d);
	diag_release(&d);
	if (ret < 0)
		return ret;
	x->name_matches = explain_by_name(p, m, x->name, pkt);
	h = ix_host_new();
	ret = ix_host_add_model(h, m);
	if (!ret)
		ret = ix_eval_conn(h, pkt, res);
	ix_host_free(h);
	model_free(m);
	return ret;
}

static void run_one(const struct policy *p, const struct ix_host *h,
		    const struct policy_test *t, struct test_result *tr)
{
	struct packet_args a;
	struct packet_desc x;
	struct packet pkt;
	struct ix_conn_result res;
	char *buf = NULL, *why = NULL, *by;
	bool rule_ok;
	int ret;

	tr->t = t;
	tr->loc = t->loc;
	if (!t->packet) {	/* the checker already said so */
		tr->status = TEST_ERROR;
		tr->message = xstrdup("a test needs a 'packet'");
		return;
	}
	if (packet_args_split(t->packet, &buf, &a, &why) < 0 ||
	    packet_args_parse(&a, &pkt, &x, &why) < 0) {
		tr->status = TEST_ERROR;
		tr->loc = t->packet_loc;
		tr->message = xasprintf("bad test packet: %s", why);
		goto out;
	}
	if (x.by_name) {
		/* a hostname: matched as the daemon would after an answer,
		 * on a model of its own (explain_by_name() changes its sets) */
		ret = by_name(p, &x, &pkt, &res);
		if (ret < 0) {
			tr->status = TEST_ERROR;
			tr->loc = t->packet_loc;
			tr->message = xasprintf("cannot run a test by hostname: %s",
						strerror(-ret));
			goto out;
		}
	} else if (ix_eval_conn(h, &pkt, &res) < 0) {
		tr->status = TEST_ERROR;
		tr->loc = t->packet_loc;
		tr->message = xstrdup("bad test packet: it has no address family");
		goto out;
	}
	tr->verdict = res.verdict;
	describe(p, decider(&res), tr);
	rule_ok = !t->rule || (tr->rule && !strcmp(t->rule, tr->rule));
	if (tr->verdict == expected(t) && rule_ok) {
		tr->status = TEST_PASS;
		goto out;
	}
	tr->status = TEST_FAIL;
	by = who(tr, pkt.dir);
	tr->message = xasprintf("test expects %s%s%s%s, but the policy says %s by %s%s%s",
				verdict_name(t->expect),
				t->rule ? " by rule '" : "", t->rule ? t->rule : "",
				t->rule ? "'" : "", ix_verdict_name(tr->verdict), by,
				res.verdict == IXV_UNDETERMINED ? ": " : "",
				res.verdict == IXV_UNDETERMINED ? res.first.why : "");
	free(by);
out:
	free(buf);
	free(why);
}

int test_run(const struct policy *p, const struct model *m,
	     struct test_run *out)
{
	struct ix_host *h;
	size_t i;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!p->n_tests)
		return 0;
	h = ix_host_new();
	ret = ix_host_add_model(h, m);
	if (ret < 0) {
		ix_host_free(h);
		return ret;
	}
	out->v = xcalloc(p->n_tests, sizeof(*out->v));
	out->n = p->n_tests;
	for (i = 0; i < p->n_tests; i++) {
		run_one(p, h, &p->tests[i], &out->v[i]);
		if (out->v[i].status == TEST_PASS)
			out->passed++;
		else if (out->v[i].status == TEST_FAIL)
			out->failed++;
		else
			out->errors++;
	}
	ix_host_free(h);
	return 0;
}

void test_run_release(struct test_run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->v[i].rule);
		free(r->v[i].at);
		free(r->v[i].message);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

unsigned int test_run_diag(const struct test_run *r, struct diag *d)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct test_result *tr = &r->v[i];

		if (tr->status == TEST_PASS)
			continue;
		if (tr->status == TEST_FAIL)
			diag_error(d, &tr->loc, "%s; see: portwarden explain --policy-only POLICY %s",
				   tr->message, tr->t->packet);
		else
			diag_error(d, &tr->loc, "%s", tr->message);
		n++;
	}
	return n;
}

int policy_tests_check(const struct policy *p, struct diag *d)
{
	struct model *m = NULL;
	struct test_run r;
	struct diag cd;
	int ret;

	if (!p->n_tests)
		return 0;
	diag_init(&cd);	/* the compiler's warnings are the caller's business */
	ret = compile_policy(p, &m, &cd);
	diag_release(&cd);
	if (ret < 0) {
		diag_error(d, NULL, "cannot compile the policy to run its tests: %s",
			   strerror(-ret));
		return ret;
	}
	ret = test_run(p, m, &r);
	if (ret < 0) {
		diag_error(d, NULL, "cannot run the policy's tests: %s", strerror(-ret));
	} else if (test_run_diag(&r, d)) {
		ret = -EINVAL;
	}
	test_run_release(&r);
	model_free(m);
	return ret;
}
