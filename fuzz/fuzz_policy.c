// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the policy front end: any bytes given to
 * policy_load_buffer() must yield a policy or diagnostics, never a crash,
 * a leak or unbounded time (wireguard-tools src/fuzz/ style).
 *
 *   make BUILD=build-frontend fuzz
 *   build-frontend/fuzz_policy -max_total_time=30 fuzz/corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct diag d;
	char buf[64];
	size_t i, k;

	diag_init(&d);
	if (!policy_load_buffer(&p, "fuzz.yaml", (const char *)data, size, &d)) {
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
	for (i = 0; i < d.n; i++)
		if (!d.v[i].msg)
			__builtin_trap();
	policy_free(p);
	diag_release(&d);
	return 0;
}
