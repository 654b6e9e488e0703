// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "cli.h"

int apply_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: apply: not built yet\n", stderr);
	return EXIT_RUNTIME;
}

int diff_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: diff: not built yet\n", stderr);
	return EXIT_RUNTIME;
}

int status_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: status: not built yet\n", stderr);
	return EXIT_RUNTIME;
}

int flush_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: flush: not built yet\n", stderr);
	return EXIT_RUNTIME;
}
