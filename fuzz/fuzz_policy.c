// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the policy front end: any bytes given to
 * policy_load_buffer() must yield a policy or diagnostics, never a crash,
 * a leak or unbounded time (wireguard-tools src/fuzz/ style). A policy
 * that loads is also compiled and linted as apply would, and the error
 * and warning counts must match what is shown. Its tests are run too
 * (explain's packet parser on the test's text, then the interpreter).
 *
 *   make BUILD=build-frontend fuzz
 *   build-frontend/fuzz_policy -dict=fuzz/policy.dict -max_total_time=30 fuzz/corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "model.h"
#include "policy.h"
#include "testrun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct model *m = NULL;
	unsigned int errors = 0, warnings = 0;
	struct diag d;
	char buf[64];
	size_t i, k;

	diag_init(&d);
	if (!policy_load_buffer(&p, "fuzz.yaml", (const char *)data, size, &d)) {
		/* what apply does with a valid policy (not the kernel part) */
		policy_warn_ephemeral(p, 32768, 60999, &d);
		if (compile_policy(p, &m, &d) == 0) {
			struct test_run r;

			if (test_run(p, m, &r) == 0) {
				if (r.passed + r.failed + r.errors != p->n_tests)
					__builtin_trap();
				test_run_release(&r);
			}
			model_free(m);
		}
		/* walk what the compiler would read */
		for (k = 0; k < DIR_MAX; k++)
			for (i = 0; i < p->n_rules[k]; i++) {
				const struct rule *r = &p->rules[k][i];

				if (r->from.n)
					cidr_format(&r->from.v[0], buf, sizeof(buf));
				if (r->to.n)
					cidr_format(&r->to.v[r->to.n - 1], buf,
						    sizeof(buf));
			}
	}
	for (i = 0; i < d.n; i++) {
		if (!d.v[i].msg)
			__builtin_trap();
		errors += d.v[i].severity == DIAG_ERROR;
		warnings += d.v[i].severity == DIAG_WARNING;
	}
	/* the counts say what is shown, also after repeats are dropped */
	if ((d.errors < 1000 && errors != d.errors) ||
	    (d.warnings < 1000 && warnings != d.warnings))
		__builtin_trap();
	policy_free(p);
	diag_release(&d);
	return 0;
}
