// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `compare OLD NEW`: every region of traffic whose verdict differs
 * between two policies (SPEC §10), in text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compare.h"
#include "diag.h"
#include "eval.h"
#include "util.h"

/* the deciding rule's name and FILE:LINE (the default's: where it was set) */
static void who_names(const struct cmp_who *w, const struct policy *p,
		      const char **rule, char *at, size_t len)
{
	const struct loc *l = NULL;

	*rule = NULL;
	at[0] = '\0';
	if (w->origin) {
		*rule = w->origin->name;
		l = &w->origin->loc;
	} else if (w->label && !strcmp(w->label, "default") && p &&
		   p->def_loc[w->dir].line) {
		l = &p->def_loc[w->dir];
	}
	if (l && l->file)
		snprintf(at, len, "%s:%u", l->file, l->line);
}

static void text_who(const struct cmp_who *w, const struct policy *p)
{
	const char *rule;
	char at[512], *s;

	who_names(w, p, &rule, at, sizeof(at));
	if (rule)
		s = xasprintf("%s (rule \"%s\", %s)", mverdict_name(w->verdict),
			      rule, at[0] ? at : "?");
	else if (w->label && !strcmp(w->label, "default"))
		s = xasprintf("%s (default %s policy%s%s)", mverdict_name(w->verdict),
			      direction_name(w->dir), at[0] ? ", " : "", at);
	else
		s = xasprintf("%s (built-in \"%s\")", mverdict_name(w->verdict),
			      w->label ? w->label : "?");
	text_put(stdout, s);
	free(s);
}

static void json_who(const struct cmp_who *w, const struct policy *p)
{
	const char *rule;
	char at[512];

	who_names(w, p, &rule, at, sizeof(at));
	printf("{\"verdict\":\"%s\",\"rule\":", mverdict_name(w->verdict));
	if (rule)
		json_string(stdout, rule);
	else
		fputs("null", stdout);
	fputs(",\"label\":", stdout);
	if (!rule && w->label)
		json_string(stdout, w->label);
	else
		fputs("null", stdout);
	fputs(",\"at\":", stdout);
	if (at[0])
		json_string(stdout, at);
	else
		fputs("null", stdout);
	fputs("}", stdout);
}

static void json_dim(const struct cmp_result *r, const struct cmp_region *g,
		     int d)
{
	if (!g->dim[d].n) {
		fputs("null", stdout);
		return;
	}
	fputc('[', stdout);
	cmp_put_dim(stdout, r, g, d, true);
	fputc(']', stdout);
}

static void print_json(const struct cmp_result *r, const struct policy *po,
		       const struct policy *pn)
{
	static const struct { const char *key; int d; } keys[] = {
		{ "family", CD_FAM }, { "protos", CD_PROTO }, { "dports", CD_DPORT },
		{ "sports", CD_SPORT }, { "remote", CD_REMOTE }, { "local", CD_LOCAL },
		{ "interface", CD_IFACE }, { "user", CD_UID }, { "group", CD_GID },
		{ "cgroup", CD_CGROUP }, { "names", CD_HOST },
	};
	char ex[512];
	size_t i, k;

	printf("{\"equal\":%s,\"changes\":[", r->n_regions ? "false" : "true");
	for (i = 0; i < r->n_regions; i++) {
		const struct cmp_region *g = &r->regions[i];
		char *words = NULL;
		size_t wlen = 0;
		FILE *f = open_memstream(&words, &wlen);

		if (!f)
			abort();
		fprintf(f, "%s ", cmp_change_verb(g));
		cmp_region_words(f, r, g);
		fclose(f);
		fputs(i ? ",{\"dir\":" : "{\"dir\":", stdout);
		if (g->dim[CD_DIR].n)
			printf("\"%s\"", g->dim[CD_DIR].v[0].lo ? "out" : "in");
		else
			fputs("\"any\"", stdout);
		for (k = 0; k < ARRAY_SIZE(keys); k++) {
			printf(",\"%s\":", keys[k].key);
			json_dim(r, g, keys[k].d);
		}
		printf(",\"not_lo\":%s", g->not_lo ? "true" : "false");
		fputs(",\"old\":", stdout);
		json_who(&g->old, po);
		fputs(",\"new\":", stdout);
		json_who(&g->new, pn);
		fputs(",\"summary\":", stdout);
		json_string(stdout, words);
		free(words);
		fputs(",\"example\":", stdout);
		if (cmp_example(r, g, ex, sizeof(ex)) == 0)
			json_string(stdout, ex);
		else
			fputs("null", stdout);
		fputs("}", stdout);
	}
	fputs("]}\n", stdout);
}

static void print_text(const struct cli *c, const struct cmp_result *r,
		       const struct policy *po, const struct policy *pn)
{
	char ex[512];
	size_t i;

	if (!r->n_regions) {
		if (!c->quiet)
			printf("equal: every packet gets the same verdict\n");
		return;
	}
	for (i = 0; i < r->n_regions; i++) {
		const struct cmp_region *g = &r->regions[i];

		printf("%s ", cmp_change_verb(g));
		cmp_region_words(stdout, r, g);
		fputs("\n  old: ", stdout);
		text_who(&g->old, po);
		fputs("\n  new: ", stdout);
		text_who(&g->new, pn);
		if (cmp_example(r, g, ex, sizeof(ex)) == 0) {
			fputs("\n  example: ", stdout);
			text_put(stdout, ex);	/* names from the policies */
		} else if (g->dim[CD_HOST].n) {
			fputs("\n  example: none (an address learned for a name)", stdout);
		}
		fputc('\n', stdout);
	}
	if (!c->quiet)
		printf("%zu change%s\n", r->n_regions, r->n_regions == 1 ? "" : "s");
	if (c->verbose)
		fprintf(stderr, "portwarden: compare: %zu decision nodes\n",
			r->stats_nodes);
}

/* the policy at c->args[@i], compiled; no lint beyond check's (compare
 * speaks of the two policies' difference, not of each one) */
static struct model *load(struct cli *c, size_t i, struct policy **pp, int *rc)
{
	struct model *m = NULL;
	struct diag d;
	int ret;

	*pp = cli_load_policy(c, i, 1, rc);
	if (!*pp)
		return NULL;
	diag_init(&d);
	ret = compile_policy(*pp, &m, &d);
	cli_print_diag(c, &d);
	diag_release(&d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: compare: cannot compile %s: %s\n",
			c->args[i], strerror(-ret));
		*rc = EXIT_INVALID;
		return NULL;
	}
	return m;
}

int compare_main(struct cli *c)
{
	struct policy *po = NULL, *pn = NULL;
	struct model *mo = NULL, *mn = NULL;
	struct cmp_result *r = NULL;
	int rc = EXIT_OK, ret;

	if (c->n_args != 2) {
		fprintf(stderr, "portwarden: compare: needs two policies, OLD and NEW (each a file or a directory)\n"
			"usage: portwarden compare OLD NEW [--format text|json]\n");
		return EXIT_INVALID;
	}
	mo = load(c, 0, &po, &rc);
	if (!mo)
		goto out;
	mn = load(c, 1, &pn, &rc);
	if (!mn)
		goto out;
	ret = compare_run(mo, mn, &r);
	if (ret < 0) {
		fprintf(stderr, "portwarden: compare: %s\n", ret == -ENOTSUP ?
			"a rule matches on something compare cannot place in the traffic space (addresses filled at run time, such as hostnames, are not compared yet)" :
			strerror(-ret));
		rc = ret == -ENOTSUP ? EXIT_INVALID : EXIT_RUNTIME;
		goto out;
	}
	if (c->format == FMT_JSON)
		print_json(r, po, pn);
	else
		print_text(c, r, po, pn);
	rc = r->n_regions ? EXIT_FINDINGS : EXIT_OK;
out:
	cmp_result_free(r);
	model_free(mo);
	model_free(mn);
	policy_free(po);
	policy_free(pn);
	return rc;
}
