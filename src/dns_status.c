// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `status` for hostname rules: the sizes of the `_dns_` sets of the live
 * table and the learner's counters file. The file is written by the
 * daemon (root, 0644 under a 0700 directory) but read here as untrusted:
 * only "WORD NUMBER" lines of known words are shown.
 */
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns_learn.h"
#include "dns_status.h"
#include "model.h"
#include "util.h"

static const char *const counter_names[] = {
	"held", "released-learned", "released-unlearned", "unparsable",
	"timed-out", "queue-full", "tcp-partial", "addresses", "added",
	"renewed", "evicted", "hold-p50-us", "hold-p99-us", "hold-max-us",
};
#define N_COUNTERS ARRAY_SIZE(counter_names)

struct learner_file {
	bool present;		/* the file exists and its daemon runs */
	uint64_t v[N_COUNTERS];
};

static bool is_dns_set(const char *name)
{
	return strstr(name, "_dns_v4") || strstr(name, "_dns_v6");
}

static void read_counters(struct learner_file *lf)
{
	char path[PATH_MAX], line[128];
	long pid = 0;
	FILE *f;

	memset(lf, 0, sizeof(*lf));
	if (dns_counters_path(path, sizeof(path)) < 0)
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char word[32];
		unsigned long long v;

		if (sscanf(line, "%31s %llu", word, &v) != 2)
			continue;
		if (strcmp(word, "pid") == 0)
			pid = (long)v;
		for (size_t i = 0; i < N_COUNTERS; i++)
			if (strcmp(word, counter_names[i]) == 0)
				lf->v[i] = v;
	}
	fclose(f);
	/* a file a stopped daemon left behind says nothing about now */
	lf->present = pid > 0 && pid <= INT_MAX && kill((pid_t)pid, 0) == 0;
}

void dns_status_text(const struct model *m, FILE *f)
{
	struct learner_file lf;
	bool any = false;

	for (size_t i = 0; i < m->n_sets; i++) {
		if (!is_dns_set(m->sets[i].name))
			continue;
		if (!any)
			fputs("hostname sets\n", f);
		any = true;
		fputs("  ", f);
		text_put(f, m->sets[i].name);
		fprintf(f, " %zu elements", m->sets[i].n_elems);
		if (m->sets[i].timeout) {
			size_t learned = 0;

			/* the daemon's have a timeout, the policy's not */
			for (size_t j = 0; j < m->sets[i].n_elems; j++)
				learned += m->sets[i].elems[j].timeout_ms != 0;
			fprintf(f, " (%zu static, %zu learned)",
				m->sets[i].n_elems - learned, learned);
		}
		fputc('\n', f);
	}
	if (!any)
		return;
	read_counters(&lf);
	if (!lf.present) {
		fputs("hostname learner: not running (portwarden daemon)\n", f);
		return;
	}
	fputs("hostname learner\n", f);
	for (size_t i = 0; i < N_COUNTERS; i++)
		fprintf(f, "  %-20s %" PRIu64 "\n", counter_names[i], lf.v[i]);
}

void dns_status_json(const struct model *m, FILE *f)
{
	struct learner_file lf;
	bool any = false;

	for (size_t i = 0; i < m->n_sets; i++) {
		if (!is_dns_set(m->sets[i].name))
			continue;
		fputs(any ? ", " : ", \"hostnames\": {\"sets\": {", f);
		any = true;
		json_string(f, m->sets[i].name);
		fprintf(f, ": %zu", m->sets[i].n_elems);
	}
	if (!any)
		return;
	read_counters(&lf);
	fputs("}, \"learner\": ", f);
	if (!lf.present) {
		fputs("null}", f);
		return;
	}
	for (size_t i = 0; i < N_COUNTERS; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "{", counter_names[i], lf.v[i]);
	fputs("}}", f);
}
