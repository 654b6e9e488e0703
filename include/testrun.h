/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_TESTRUN_H
#define PORTWARDEN_TESTRUN_H

/*
 * Running a policy's `tests:` (SPEC §10) on the policy alone: the compiled
 * table is the only table of the interpreter's host (explain --policy-only
 * without the host's own addresses), so a test gives the same answer on
 * every machine, the CI runner's as the firewall's.
 */

#include <stddef.h>

#include "diag.h"
#include "interp.h"
#include "model.h"
#include "policy.h"

enum test_status {
	TEST_PASS,
	TEST_FAIL,
	TEST_ERROR,	/* the packet is not explain's arguments */
};

/**
 * struct test_result - one test, run
 * @t:       the test (points into the policy)
 * @verdict: the connection's verdict (explain's), when not TEST_ERROR
 * @rule:    the deciding rule: a policy rule's name, a built-in label
 *           ("default", "loopback", "icmp", ...), or NULL
 * @at:      "FILE:LINE" of that rule (of the default: where it was set),
 *           or NULL
 * @message: for TEST_FAIL and TEST_ERROR, what went wrong (no location)
 * @loc:     where to report it: the test, or its packet for TEST_ERROR
 */
struct test_result {
	const struct policy_test *t;
	enum test_status status;
	enum ix_verdict verdict;
	char *rule;
	char *at;
	char *message;
	struct loc loc;
};

struct test_run {
	struct test_result *v;
	size_t n;
	size_t passed, failed, errors;
};

/**
 * test_run() - run every test of @p against its compiled model @m
 * Return: 0, or a negative errno when the interpreter cannot be built
 * (then @out is empty).
 */
int test_run(const struct policy *p, const struct model *m,
	     struct test_run *out);

void test_run_release(struct test_run *r);

/**
 * test_run_diag() - an error in @d for each test that failed or could not
 * run, at the test's FILE:LINE:COL (a bad packet: at the packet)
 * Return: the number of errors added.
 */
unsigned int test_run_diag(const struct test_run *r, struct diag *d);

/**
 * policy_tests_check() - compile @p and run its tests into @d (for check,
 * compile, apply): nothing is added for a policy without tests.
 * Return: 0, -EINVAL when a test failed (errors in @d), or another
 * negative errno (compile or interpreter failure, also in @d).
 */
int policy_tests_check(const struct policy *p, struct diag *d);

#endif
