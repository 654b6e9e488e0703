// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Live table → Prometheus samples, for `status --format prometheus` and
 * the audit timer's textfile (beside the audit's own metrics).
 *
 * The kernel counts per nft rule; a policy rule may be several of them
 * (tcp and udp, IPv4 and IPv6, the two halves of a split address set),
 * which share the rule's name as their comment. Summing by (direction,
 * comment) gives the policy rule's count, in the policy's own words.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "util.h"

struct rule_count {
	const char *direction;	/* static */
	const char *name;	/* the rule's comment (the model owns it); unnamed last */
	uint64_t handle;	/* names a rule without a comment */
	uint64_t packets, bytes;
};

static int count_cmp(const void *a, const void *b)
{
	const struct rule_count *x = a, *y = b;
	int r = strcmp(x->direction, y->direction);

	if (r)
		return r;
	if (!x->name || !y->name)
		return x->name ? -1 : y->name ? 1 :
		       (x->handle > y->handle) - (x->handle < y->handle);
	return strcmp(x->name, y->name);
}

/* Label values escape backslash, double quote and newline. */
static void label_value(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void print_family(FILE *out, const char *table,
			 const struct rule_count *v, size_t n, bool bytes)
{
	size_t i;

	if (bytes)
		fputs("# HELP portwarden_rule_bytes_total Bytes matched by a policy rule since its table was applied.\n"
		      "# TYPE portwarden_rule_bytes_total counter\n", out);
	else
		fputs("# HELP portwarden_rule_packets_total Packets matched by a policy rule since its table was applied.\n"
		      "# TYPE portwarden_rule_packets_total counter\n", out);
	for (i = 0; i < n; i++) {
		fprintf(out, "portwarden_rule_%s_total{table=\"",
			bytes ? "bytes" : "packets");
		label_value(out, table);
		fprintf(out, "\",direction=\"%s\",rule=\"", v[i].direction);
		if (v[i].name)
			label_value(out, v[i].name);
		else
			fprintf(out, "handle %" PRIu64, v[i].handle);
		fprintf(out, "\"} %" PRIu64 "\n", bytes ? v[i].bytes : v[i].packets);
	}
}

void metrics_rules_prometheus(const struct model *m, FILE *out)
{
	struct rule_count *v = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *ch = &m->chains[i];
		const char *dir = ch->hook == HOOK_OUTPUT ? "outbound" : "inbound";

		for (j = 0; j < ch->n_rules; j++) {
			const struct mrule *ru = &ch->rules[j];

			if (!ru->counter)
				continue;
			ARRAY_PUSH(v, n, cap);
			v[n - 1] = (struct rule_count){ dir, ru->comment, ru->handle,
							ru->packets, ru->bytes };
		}
	}
	/* Sort by (direction, name) and sum each run: O(n log n) for the
	 * 100,000 rules a direction may hold. */
	if (n)
		qsort(v, n, sizeof(*v), count_cmp);
	for (i = 0, j = 0; i < n; i++) {
		if (j && !count_cmp(&v[j - 1], &v[i])) {
			v[j - 1].packets += v[i].packets;
			v[j - 1].bytes += v[i].bytes;
		} else {
			v[j++] = v[i];
		}
	}
	print_family(out, m->table, v, j, false);
	print_family(out, m->table, v, j, true);
	free(v);
}
