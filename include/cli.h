/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_CLI_H
#define PORTWARDEN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * @sport, @group, @cgroup, @iface: `explain --sport`, `--group`,
 *           `--cgroup`, `--interface`
 * @policy_only: `explain --policy-only`: no other table
 * @record, @replay: `audit --record FILE` / `--replay FILE` (sock_diag dumps)
 * @count, @timeout, @rcvbuf: `monitor --count N`, `--timeout SECONDS`,
 *           `--rcvbuf BYTES` (monitor's `--group G` is @group)
 */
struct cli_json;

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
	bool stage;		/* apply --stage */
	long confirm;
	const char *from;
	const char *user;
	const char *sport;
	const char *group;
	const char *cgroup;
	const char *iface;
	bool policy_only;
	const char *record;
	const char *replay;
	const char *duration;	/* learn --duration, --events, --by */
	const char *events;
	const char *by;
	const char *count;
	const char *timeout;
	const char *rcvbuf;
	char **args;
	size_t n_args;
	struct cli_json *json;	/* --format json: see cli_json_begin() */
};

/* Each command: returns an exit code. */
int check_main(struct cli *c);
int compile_main(struct cli *c);
int explain_main(struct cli *c);
int apply_main(struct cli *c);
int daemon_main(struct cli *c);

/**
 * apply_loaded() - apply_main() with a policy already loaded and checked
 * @p:       borrowed; NULL loads c->args as apply_main() does
 * @changed: when not NULL, set on success: whether a transaction was sent
 * Prints as apply_main() does (set c->quiet for nothing on stdout).
 * Return: an exit code.
 */
int apply_loaded(struct cli *c, const struct policy *p, bool *changed);
int diff_main(struct cli *c);
int status_main(struct cli *c);
int flush_main(struct cli *c);
int confirm_main(struct cli *c);
int rollback_main(struct cli *c);
int audit_main(struct cli *c);
int compare_main(struct cli *c);
int test_main(struct cli *c);
int learn_main(struct cli *c);
int monitor_main(struct cli *c);
struct nl_sock;
/**
 * cmd_fail() - report a failed step of a command that talks to the kernel
 * @cmd: the command's name; @what: the step; @arg: what it was about (may
 * be NULL; escaped); @err: negative errno (permissions and missing
 * nf_tables support get a hint)
 * Return: EXIT_RUNTIME.
 */
int cmd_fail(const char *cmd, const char *what, const char *arg, int err);
/**
 * cmd_connect() - enter --netns (when given) and open the netlink socket
 * Return: EXIT_OK, or EXIT_RUNTIME after cmd_fail().
 */
int cmd_connect(struct cli *c, struct nl_sock **sock);
/**
 * cmd_connect_locked() - cmd_connect(), then portwarden's run lock
 * @lock: the lock (for run_unlock()), or a negative errno when not taken
 * Return: EXIT_OK, or EXIT_RUNTIME after cmd_fail().
 */
int cmd_connect_locked(struct cli *c, struct nl_sock **sock, int *lock);
int promote_main(struct cli *c);
int unstage_main(struct cli *c);
/* apply --stage (cmd_stage.c) */
int stage_main(struct cli *c);
/**
 * apply_run() - apply (cmd_nft.c); promote's transaction as well
 * @drop:      NULL, or a table deleted in the same transaction (promote:
 *             the staged table)
 * @want_hash: 0, or the model_hash() the compiled policy must have (the
 *             staged policy as it was staged)
 */
int apply_run(struct cli *c, const char *drop, uint64_t want_hash);
struct nl_sock;
/**
 * stage_status() - the staged part of `status` for portwarden table
 * @table: its source files, time, NFLOG group and staged rules' counters
 * (text), or `, "staged": {...}` / `, "staged": null` (@json)
 * Return: 0 or a negative errno (nothing printed).
 */
int stage_status(const struct cli *c, struct nl_sock *s, const char *table,
		 bool json);

/**
 * cli_load_policy() - load the policy paths of a command, print diagnostics
 * @first: index of the first policy path in c->args
 * @n:     number of policy paths; 0 means DEFAULT_POLICY_DIR
 * Return: the policy, or NULL after printing why (exit EXIT_INVALID then,
 * or EXIT_RUNTIME when *@exit_code says so).
 */
struct policy *cli_load_policy(struct cli *c, size_t first, size_t n,
			       int *exit_code);

struct nl_sock;

/**
 * cli_check_owner() - ownership (SPEC §6): act only on portwarden's table
 * @table:   the inet table a command is about to change
 * @foreign: when not NULL, set when @table exists without the mark
 *
 * A table that exists without the ownership mark (OWNER_MARK in model.h)
 * is another program's, or one made by a portwarden older than the mark:
 * refused, naming it, unless --force (then a warning says it is taken
 * over).
 * Return: EXIT_OK to go on (also when @table does not exist), or
 * EXIT_RUNTIME after printing why not.
 */
int cli_check_owner(const struct cli *c, struct nl_sock *s, const char *table,
		    bool *foreign);

/**
 * cli_check_owner_recorded() - cli_check_owner() for the table of the
 * last apply recorded in the state directory @dir (rollback, confirm)
 * @s: a netlink socket, or NULL to open one
 * Return: EXIT_OK also when nothing is recorded, or EXIT_RUNTIME (printed).
 */
int cli_check_owner_recorded(const struct cli *c, struct nl_sock *s,
			     const char *dir);

/* Does the command change the kernel's ruleset (apply without --dry-run,
 * flush, rollback, confirm)? Only those may say "nothing was changed". */
bool cli_changes(const struct cli *c);

/**
 * cli_load_model() - cli_load_policy(), then compile it (diagnostics
 * printed); NULL with *@rc set on failure. The caller frees both.
 */
struct model;
struct model *cli_load_model(struct cli *c, size_t first, size_t n,
			     struct policy **pp, int *rc);

/* Print diagnostics to stderr honouring -q (warnings hidden). */
void cli_print_diag(const struct cli *c, const struct diag *d);

/*
 * Errors in JSON (SPEC §6): with --format json every command prints one
 * JSON object on stdout, also when it fails:
 *   {"error": {"code": EXIT, "message": "...", "diagnostics": [...]}}
 * cli_json_begin() puts stdout and stderr behind thin tees (fopencookie):
 * everything still goes to fd 1 and 2 as before, but the command layer's
 * stderr lines are kept for "message", cli_print_diag() keeps the
 * diagnostics, and what was written to stdout is counted. When the command
 * ends with an exit code of 2 or more and wrote nothing on stdout,
 * cli_json_end() prints the error object. Commands keep reporting on
 * stderr as they always do; none needs to know.
 */
void cli_json_begin(struct cli *c);
/* Print the error object when due, restore stdout and stderr, free. */
void cli_json_end(struct cli *c, int exit_code);

/**
 * cli_json_error() - write the members of an error object's "error" value
 * @message: one or more lines (joined with "\n")
 * @d:       diagnostics of the policy checker, or NULL
 * Writes {"code": ..., "message": ..., "diagnostics": [...]}.
 */
void cli_json_error(FILE *f, int code, const char *message,
		    const struct diag *d);

#endif
