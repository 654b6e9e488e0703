// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by the commands: loading policies, printing diagnostics. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nl.h"
#include "safe.h"

void cli_print_diag(const struct cli *c, const struct diag *d)
{
	struct diag shown = *d;
	size_t i;

	if (!c->quiet) {
		diag_print(d, stderr);
		return;
	}
	for (i = 0; i < d->n; i++) {
		if (d->v[i].severity != DIAG_ERROR)
			continue;
		shown.v = &d->v[i];
		shown.n = 1;
		diag_print(&shown, stderr);
	}
}

struct policy *cli_load_policy(struct cli *c, size_t first, size_t n,
			       int *exit_code)
{
	static const char *const def[] = { DEFAULT_POLICY_DIR };
	const char *const *paths = def;
	struct policy *p = NULL;
	struct diag d;
	int ret;

	if (n)
		paths = (const char *const *)&c->args[first];
	else
		n = 1;
	diag_init(&d);
	ret = policy_load(&p, paths, n, &d);
	cli_print_diag(c, &d);
	if (ret < 0 && !d.errors)
		fprintf(stderr, "portwarden: cannot load policy\n");
	if (ret < 0)
		*exit_code = (ret == -EINVAL) ? EXIT_INVALID : EXIT_RUNTIME;
	if (ret < 0 && d.errors)
		fprintf(stderr, "portwarden: %u error%s, %u warning%s; nothing was changed\n",
			d.errors, d.errors == 1 ? "" : "s",
			d.warnings, d.warnings == 1 ? "" : "s");
	diag_release(&d);
	return ret < 0 ? NULL : p;
}

int cli_check_owner(const struct cli *c, struct nl_sock *s, const char *table,
		    bool *foreign)
{
	int ret = nl_table_owned(s, table);

	if (foreign)
		*foreign = ret == 0;
	if (ret == 1 || ret == -ENOENT)
		return EXIT_OK;
	if (ret < 0) {
		fprintf(stderr, "portwarden: %s: cannot read table inet %s: %s\n",
			c->cmd, table, strerror(-ret));
		return EXIT_RUNTIME;
	}
	if (c->force) {
		if (!c->quiet)
			fprintf(stderr, "portwarden: %s: warning: table inet %s is not portwarden's; taking it over (--force)\n",
				c->cmd, table);
		return EXIT_OK;
	}
	fprintf(stderr, "portwarden: %s: table inet %s exists and is not portwarden's; refusing (use --force to take it over)\n",
		c->cmd, table);
	return EXIT_RUNTIME;
}

int cli_check_owner_recorded(const struct cli *c, struct nl_sock *s,
			     const char *dir)
{
	struct safe_state *st = NULL;
	struct nl_sock *own = NULL;
	int rc = EXIT_OK, ret;

	if (safe_state_load(dir, &st) < 0)
		return EXIT_OK;	/* nothing recorded: nothing to act on */
	if (!s) {
		ret = nl_sock_open(&own);
		if (ret < 0) {
			fprintf(stderr, "portwarden: %s: cannot open a netlink socket: %s\n",
				c->cmd, strerror(-ret));
			rc = EXIT_RUNTIME;
			goto out;
		}
		s = own;
	}
	rc = cli_check_owner(c, s, st->table, NULL);
out:
	nl_sock_close(own);
	safe_state_free(st);
	return rc;
}
