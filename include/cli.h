/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_CLI_H
#define PORTWARDEN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "policy.h"

/* Exit codes, SPEC §2. */
#define EXIT_OK		0
#define EXIT_FINDINGS	1	/* audit findings, diff differs, explain drop */
#define EXIT_INVALID	2	/* invalid policy or usage */
#define EXIT_RUNTIME	3	/* netlink, permissions, kernel refused */
#define EXIT_LOCKOUT	4	/* apply refused by the lock-out guard */

#define DEFAULT_POLICY_DIR	"/etc/portwarden"

enum out_format {
	FMT_TEXT,
	FMT_JSON,
	FMT_JUNIT,
	FMT_PROMETHEUS,
};

/**
 * struct cli - the parsed command line, handed to every command
 * @args:    positional arguments after the command name
 * @confirm: seconds for `apply --confirm`, or -1
 * @table:   `--table NAME`, or NULL
 * @from, @user: `explain --from`, `--user`
 * @record, @replay: `audit --record FILE` / `--replay FILE` (sock_diag dumps)
 */
struct cli {
	const char *cmd;
	enum out_format format;
	int verbose;
	bool quiet;
	const char *netns;
	bool all_netns;
	const char *table;
	bool dry_run;
	bool force;
	long confirm;
	const char *from;
	const char *user;
	const char *record;
	const char *replay;
	char **args;
	size_t n_args;
};

/* Each command: returns an exit code. */
int check_main(struct cli *c);
int compile_main(struct cli *c);
int explain_main(struct cli *c);
int apply_main(struct cli *c);
int diff_main(struct cli *c);
int status_main(struct cli *c);
int flush_main(struct cli *c);
int confirm_main(struct cli *c);
int rollback_main(struct cli *c);
int audit_main(struct cli *c);

/**
 * cli_load_policy() - load the policy paths of a command, print diagnostics
 * @first: index of the first policy path in c->args
 * @n:     number of policy paths; 0 means DEFAULT_POLICY_DIR
 * Return: the policy, or NULL after printing why (exit EXIT_INVALID then,
 * or EXIT_RUNTIME when *@exit_code says so).
 */
struct policy *cli_load_policy(struct cli *c, size_t first, size_t n,
			       int *exit_code);

/* Print diagnostics to stderr honouring -q (warnings hidden). */
void cli_print_diag(const struct cli *c, const struct diag *d);

#endif
