// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "cli.h"

int check_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: check: not built yet\n", stderr);
	return EXIT_RUNTIME;
}
