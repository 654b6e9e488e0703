// SPDX-License-Identifier: GPL-2.0-or-later
/* The `compile` command: no privileges, no kernel. */
#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lint_conn.h"
#include "render.h"
#include "util.h"

/* Load and compile; prints diagnostics. NULL with *rc set on failure. */
struct model *cli_load_model(struct cli *c, size_t first, size_t n,
			      struct policy **pp, int *rc)
{
	struct model *m = NULL;
	struct diag d;
	int ret;

	*pp = cli_load_policy(c, first, n, rc);
	if (!*pp)
		return NULL;
	diag_init(&d);
	ret = compile_policy(*pp, &m, &d);
	if (!ret)
		lint_replies(*pp, m, &d);
	cli_print_diag(c, &d);
	diag_release(&d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: cannot compile the policy: %s\n",
			strerror(-ret));
		*rc = EXIT_INVALID;
		policy_free(*pp);
		*pp = NULL;
		return NULL;
	}
	return m;
}

int compile_main(struct cli *c)
{
	struct policy *p;
	struct model *m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int rc = EXIT_OK;

	m = cli_load_model(c, 0, c->n_args, &p, &rc);
	if (!m)
		return rc;
	if (c->format == FMT_JSON) {
		f = open_memstream(&buf, &len);
		if (!f || render_model(m, f) < 0 || fclose(f)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
		fputs("{\"table\": ", stdout);
		json_string(stdout, m->table);
		fputs(", \"nft\": ", stdout);
		json_string(stdout, buf);
		fputs("}\n", stdout);
	} else if (render_model(m, stdout) < 0) {
		rc = EXIT_RUNTIME;
	}
out:
	free(buf);
	model_free(m);
	policy_free(p);
	return rc;
}
