// SPDX-License-Identifier: GPL-2.0-or-later
/* metrics: the Prometheus samples of a hand-built live table (no kernel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "model.h"
#include "util.h"

static void rule(struct mchain *c, const char *comment, bool counter,
		 uint64_t packets, uint64_t bytes, uint64_t handle)
{
	struct mrule *r = mchain_add_rule(c);

	r->comment = comment ? xstrdup(comment) : NULL;
	r->counter = counter;
	r->packets = packets;
	r->bytes = bytes;
	r->handle = handle;
	r->verdict = MV_ACCEPT;
}

static char *render(const struct model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	metrics_rules_prometheus(m, f);
	fclose(f);
	return buf;
}

/* Rules sharing a name sum; directions stay apart; no counter, no sample. */
static void test_sum_per_rule(void **state)
{
	struct model *m = model_new("pw");
	struct mchain *in = model_add_chain(m, "input", HOOK_INPUT, 0, MV_DROP);
	struct mchain *out = model_add_chain(m, "output", HOOK_OUTPUT, 0, MV_ACCEPT);
	char *txt;

	(void)state;
	rule(in, "established", false, 0, 0, 1);
	rule(in, "alt", true, 3, 180, 2);
	rule(in, "web", true, 5, 300, 3);
	rule(in, "alt", true, 4, 400, 4);
	rule(in, "default", true, 7, 420, 5);
	rule(out, "alt", true, 1, 60, 6);
	rule(out, NULL, true, 2, 120, 7);
	txt = render(m);
	assert_string_equal(txt,
		"# HELP portwarden_rule_packets_total Packets matched by a policy rule since its table was applied.\n"
		"# TYPE portwarden_rule_packets_total counter\n"
		"portwarden_rule_packets_total{table=\"pw\",direction=\"inbound\",rule=\"alt\"} 7\n"
		"portwarden_rule_packets_total{table=\"pw\",direction=\"inbound\",rule=\"default\"} 7\n"
		"portwarden_rule_packets_total{table=\"pw\",direction=\"inbound\",rule=\"web\"} 5\n"
		"portwarden_rule_packets_total{table=\"pw\",direction=\"outbound\",rule=\"alt\"} 1\n"
		"portwarden_rule_packets_total{table=\"pw\",direction=\"outbound\",rule=\"handle 7\"} 2\n"
		"# HELP portwarden_rule_bytes_total Bytes matched by a policy rule since its table was applied.\n"
		"# TYPE portwarden_rule_bytes_total counter\n"
		"portwarden_rule_bytes_total{table=\"pw\",direction=\"inbound\",rule=\"alt\"} 580\n"
		"portwarden_rule_bytes_total{table=\"pw\",direction=\"inbound\",rule=\"default\"} 420\n"
		"portwarden_rule_bytes_total{table=\"pw\",direction=\"inbound\",rule=\"web\"} 300\n"
		"portwarden_rule_bytes_total{table=\"pw\",direction=\"outbound\",rule=\"alt\"} 60\n"
		"portwarden_rule_bytes_total{table=\"pw\",direction=\"outbound\",rule=\"handle 7\"} 120\n");
	free(txt);
	model_free(m);
}

/* A comment read from someone else's rule may hold anything. */
static void test_label_escaping(void **state)
{
	struct model *m = model_new("pw");
	struct mchain *in = model_add_chain(m, "input", HOOK_INPUT, 0, MV_ACCEPT);
	char *txt;

	(void)state;
	rule(in, "a\\b\"c\nd", true, 1, 2, 1);
	txt = render(m);
	assert_non_null(strstr(txt, "rule=\"a\\\\b\\\"c\\nd\"} 1\n"));
	free(txt);
	model_free(m);
}

/* An empty table: the families are announced, with no samples. */
static void test_empty(void **state)
{
	struct model *m = model_new("pw");
	char *txt;

	(void)state;
	txt = render(m);
	assert_null(strstr(txt, "portwarden_rule_packets_total{"));
	assert_non_null(strstr(txt, "# TYPE portwarden_rule_bytes_total counter\n"));
	free(txt);
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sum_per_rule),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
