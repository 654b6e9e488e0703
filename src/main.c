// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden: command table and option parsing (wireguard-tools' wg.c
 * style). Options may stand before or after the command's arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

#ifndef PORTWARDEN_VERSION
#error "PORTWARDEN_VERSION comes from the VERSION file (the Makefile passes it)"
#endif

/* Which options a command takes, beside the global ones. */
#define OPT_TABLE	0x001u
#define OPT_DRY_RUN	0x002u
#define OPT_CONFIRM	0x004u
#define OPT_FORCE	0x008u
#define OPT_NETNS	0x010u
#define OPT_ALL_NETNS	0x020u
#define OPT_FROM	0x040u
#define OPT_USER	0x080u
#define OPT_RECORD	0x100u
#define OPT_STAGE	0x400u	/* apply --stage */
#define OPT_PACKET	0x200u	/* explain's --sport, --group, --cgroup,
				 * --interface, --policy-only */
#define OPT_MONITOR	0x400u	/* --group, --count, --timeout, --rcvbuf */
#define OPT_LEARN	0x800u	/* learn's --duration, --events, --by */

static const struct command {
	const char *name;
	int (*fn)(struct cli *c);
	unsigned int opts;
	const char *usage;
	const char *description;
} commands[] = {
	{ "check", check_main, 0, "POLICY...",
	  "validate a policy; print errors and warnings" },
	{ "compile", compile_main, 0, "POLICY...",
	  "print the nft ruleset the policy compiles to" },
	{ "apply", apply_main, OPT_DRY_RUN | OPT_CONFIRM | OPT_FORCE | OPT_NETNS |
	  OPT_STAGE,
	  "[POLICY...] [--dry-run] [--confirm SECONDS] [--force] [--stage]",
	  "replace portwarden's table with the policy, atomically" },
	{ "promote", promote_main, OPT_TABLE | OPT_DRY_RUN | OPT_CONFIRM |
	  OPT_FORCE | OPT_NETNS,
	  "[--table NAME] [--dry-run] [--confirm SECONDS] [--force]",
	  "enforce the staged policy (one incremental transaction)" },
	{ "unstage", unstage_main, OPT_TABLE | OPT_NETNS,
	  "[--table NAME]",
	  "remove the staged policy" },
	{ "daemon", daemon_main, OPT_NETNS | OPT_FORCE, "[POLICY...] [--force]",
	  "apply the policy and keep it applied; repair drift (systemd service)" },
	{ "confirm", confirm_main, OPT_NETNS | OPT_FORCE, "[--force]",
	  "keep a ruleset applied with --confirm" },
	{ "rollback", rollback_main, OPT_NETNS | OPT_FORCE, "[--force]",
	  "restore the ruleset from before the last apply" },
	{ "diff", diff_main, OPT_NETNS, "[POLICY...]",
	  "compare the live table with the policy" },
	{ "status", status_main, OPT_TABLE | OPT_NETNS,
	  "[--table [FAMILY] NAME | FAMILY:NAME] [--format text|json|prometheus]",
	  "show live rules with packet and byte counters" },
	{ "flush", flush_main, OPT_TABLE | OPT_NETNS | OPT_FORCE,
	  "[--table NAME] [--force]",
	  "remove portwarden's table" },
	{ "audit", audit_main, OPT_NETNS | OPT_ALL_NETNS | OPT_RECORD,
	  "[POLICY...] [--netns NAME|PATH] [--all-netns] "
	  "[--format text|json|junit|prometheus] [--record FILE] [--replay FILE]",
	  "check live sockets against the policy" },
	{ "explain", explain_main, OPT_FROM | OPT_USER | OPT_PACKET | OPT_NETNS,
	  "POLICY... in|out PROTO ADDR[:PORT] [--from ADDR[:PORT]|:PORT] "
	  "[--sport PORT] [--user USER] [--group GROUP] [--cgroup PATH] "
	  "[--interface NAME] [--policy-only] [--netns NAME|PATH]",
	  "show the verdict and deciding rule for one packet" },
	{ "compare", compare_main, 0, "OLD NEW [--format text|json]",
	  "every region of traffic whose verdict differs between two policies" },
	{ "monitor", monitor_main, OPT_NETNS | OPT_ALL_NETNS | OPT_MONITOR,
	  "[--format text|json] [--netns NAME|PATH | --all-netns] [--group G] "
	  "[--count N] [--timeout SECONDS] [--rcvbuf BYTES]",
	  "print refused and logged packets live, with rule and process" },
	{ "test", test_main, 0, "[POLICY...] [--format text|json|junit]",
	  "run the policy's tests on the policy alone" },
	{ "learn", learn_main, OPT_LEARN | OPT_NETNS,
	  "[--duration SECONDS] [--events FILE] [--by user|cgroup] [--netns NAME|PATH]",
	  "watch the host and print a proposed policy (applies nothing)" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: portwarden COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name,
			commands[i].description);
	fprintf(f, "\nglobal options:\n"
		"  --format text|json   output format (audit also junit, prometheus;\n"
		"                       status also prometheus; test also junit)\n"
		"  --netns NAME|PATH    act in another network namespace\n"
		"  -q, --quiet          print errors only\n"
		"  -v, --verbose        print more; -vv more still\n"
		"  -h, --help           this help; COMMAND --help for one command\n"
		"  -V, --version        print the version\n");
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int bad_usage(const char *fmt, const char *arg)
{
	char *esc = text_escape(arg);	/* a word from the command line */

	fputs("portwarden: ", stderr);
	fprintf(stderr, fmt, esc);
	free(esc);
	fputs("\nTry 'portwarden --help'.\n", stderr);
	return EXIT_INVALID;
}

static int parse_format(struct cli *c, const char *v)
{
	static const char *const names[] = { "text", "json", "junit",
					     "prometheus" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(v, names[i])) {
			c->format = (enum out_format)i;
			return 0;
		}
	return -EINVAL;
}

/* A value option may be given once: the second would silently win. */
static int once(const char **slot, const char *v, const char *name)
{
	if (*slot) {
		fprintf(stderr, "portwarden: %s given twice ('%s', then '%s')\n"
			"Try 'portwarden --help'.\n", name, *slot, v);
		return -1;
	}
	*slot = v;
	return 0;
}

/* An option that takes a value: "--opt VALUE" or "--opt=VALUE". */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);

	if (!strncmp(argv[*i], name, len) && argv[*i][len] == '=')
		return argv[*i] + len + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct cli c = { .confirm = -1 };
	bool help = false, only_args = false;
	const char *v;
	char *end;
	int i, ret;

	c.args = xcalloc((size_t)argc, sizeof(*c.args));
	/* usage errors answer in JSON too when --format json is anywhere */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--format=json") ||
		    (!strcmp(argv[i], "--format") && i + 1 < argc &&
		     !strcmp(argv[i + 1], "json"))) {
			cli_json_begin(&c);
			break;
		}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (only_args || a[0] != '-' || !strcmp(a, "-")) {
			if (!cmd && !only_args) {
				cmd = find_command(a);
				if (!cmd) {
					const char *names[ARRAY_SIZE(commands)];
					const char *hint;
					size_t k;

					for (k = 0; k < ARRAY_SIZE(commands); k++)
						names[k] = commands[k].name;
					hint = closest_word(a, names, ARRAY_SIZE(names));
					fputs("portwarden: unknown command '", stderr);
					text_put(stderr, a);
					fputc('\'', stderr);
					if (hint)
						fprintf(stderr, "; did you mean '%s'?", hint);
					fputs("\nTry 'portwarden --help'.\n", stderr);
					ret = EXIT_INVALID;
					goto out;
				}
				c.cmd = cmd->name;
				continue;
			}
			c.args[c.n_args++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("portwarden %s\n", PORTWARDEN_VERSION);
			ret = EXIT_OK;
			goto out;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			c.quiet = true;
		} else if (!strcmp(a, "--verbose")) {
			c.verbose++;
		} else if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
			c.verbose += (int)strlen(a + 1);	/* -v, -vv, -vvv */
		} else if ((v = opt_value(argc, argv, &i, "--format"))) {
			if (parse_format(&c, v) < 0) {
				ret = bad_usage("unknown format '%s' (text, json, junit, prometheus)", v);
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--netns"))) {
			if (!*v) {
				ret = bad_usage("%s needs a namespace name or path", "--netns");
				goto out;
			}
			c.netns = v;
		} else if ((v = opt_value(argc, argv, &i, "--table"))) {
			if (once(&c.table, v, "--table") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--confirm"))) {
			errno = 0;
			c.confirm = strtol(v, &end, 10);
			if (errno || !*v || *end || c.confirm < 1 || c.confirm > 86400) {
				ret = bad_usage("--confirm needs a number of seconds from 1 to 86400, not '%s'", v);
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--from"))) {
			if (once(&c.from, v, "--from") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--user"))) {
			if (once(&c.user, v, "--user") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--record"))) {
			if (once(&c.record, v, "--record") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--replay"))) {
			if (once(&c.replay, v, "--replay") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--sport"))) {
			if (once(&c.sport, v, "--sport") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--group"))) {
			if (once(&c.group, v, "--group") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--count"))) {
			if (once(&c.count, v, "--count") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--timeout"))) {
			if (once(&c.timeout, v, "--timeout") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--rcvbuf"))) {
			if (once(&c.rcvbuf, v, "--rcvbuf") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--cgroup"))) {
			if (once(&c.cgroup, v, "--cgroup") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--interface"))) {
			if (once(&c.iface, v, "--interface") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--duration"))) {
			if (once(&c.duration, v, "--duration") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--events"))) {
			if (once(&c.events, v, "--events") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if ((v = opt_value(argc, argv, &i, "--by"))) {
			if (once(&c.by, v, "--by") < 0) {
				ret = EXIT_INVALID;
				goto out;
			}
		} else if (!strcmp(a, "--policy-only")) {
			c.policy_only = true;
		} else if (!strcmp(a, "--dry-run")) {
			c.dry_run = true;
		} else if (!strcmp(a, "--force")) {
			c.force = true;
		} else if (!strcmp(a, "--stage")) {
			c.stage = true;
		} else if (!strcmp(a, "--all-netns")) {
			c.all_netns = true;
		} else {
			ret = bad_usage("unknown option '%s'", a);
			goto out;
		}
	}
	if (help) {
		if (cmd)
			printf("usage: portwarden %s %s\n\n%s\n", cmd->name,
			       cmd->usage, cmd->description);
		else
			usage(stdout);
		ret = EXIT_OK;
		goto out;
	}
	if (!cmd) {
		usage(stderr);
		ret = EXIT_INVALID;
		goto out;
	}
	if ((c.table && !(cmd->opts & OPT_TABLE)) ||
	    (c.dry_run && !(cmd->opts & OPT_DRY_RUN)) ||
	    (c.confirm >= 0 && !(cmd->opts & OPT_CONFIRM)) ||
	    (c.force && !(cmd->opts & OPT_FORCE)) ||
	    (c.stage && !(cmd->opts & OPT_STAGE)) ||
	    (c.netns && !(cmd->opts & OPT_NETNS)) ||
	    (c.all_netns && !(cmd->opts & OPT_ALL_NETNS)) ||
	    (c.from && !(cmd->opts & OPT_FROM)) ||
	    (c.user && !(cmd->opts & OPT_USER)) ||
	    ((c.record || c.replay) && !(cmd->opts & OPT_RECORD)) ||
	    ((c.sport || c.cgroup || c.iface || c.policy_only) &&
	     !(cmd->opts & OPT_PACKET)) ||
	    (c.group && !(cmd->opts & (OPT_PACKET | OPT_MONITOR))) ||
	    ((c.count || c.timeout || c.rcvbuf) && !(cmd->opts & OPT_MONITOR)) ||
	    ((c.duration || c.events || c.by) && !(cmd->opts & OPT_LEARN))) {
		ret = bad_usage("an option given does not apply to '%s'", cmd->name);
		goto out;
	}
	if (c.format == FMT_JUNIT && strcmp(cmd->name, "audit") &&
	    strcmp(cmd->name, "test")) {
		ret = bad_usage("--format junit is for audit and test only, not '%s'",
				cmd->name);
		goto out;
	}
	if (c.format == FMT_PROMETHEUS && strcmp(cmd->name, "audit") &&
	    strcmp(cmd->name, "status")) {
		ret = bad_usage("--format prometheus is for audit and status only, not '%s'",
				cmd->name);
		goto out;
	}
	ret = cmd->fn(&c);
out:
	cli_json_end(&c, ret);
	free(c.args);
	return ret;
}
