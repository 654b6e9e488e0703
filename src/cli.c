// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers shared by the commands: loading policies, printing diagnostics. */
#include <errno.h>
#include <stdio.h>

#include "cli.h"

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
