// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>

#include "cli.h"

int confirm_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: confirm: not built yet\n", stderr);
	return EXIT_RUNTIME;
}

int rollback_main(struct cli *c)
{
	(void)c;
	fputs("portwarden: rollback: not built yet\n", stderr);
	return EXIT_RUNTIME;
}
