// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "cli.h"

int compile_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: compile: not built yet\n", stderr);
	return EXIT_RUNTIME;
}

int explain_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: explain: not built yet\n", stderr);
	return EXIT_RUNTIME;
}
