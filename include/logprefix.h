/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_LOGPREFIX_H
#define PORTWARDEN_LOGPREFIX_H

/*
 * The identity of a rule in an NFLOG prefix (SPEC §9).
 *
 * Rules that log through NFLOG carry the deciding rule's identity in the
 * log expression's prefix, so that `monitor` (and any other NFLOG reader,
 * such as ulogd2) can name the rule and its FILE:LINE without reading the
 * policy again. The prefix is one line of at most LOGPREFIX_MAX bytes
 * (the kernel's NF_LOG_PREFIXLEN is 128 with the NUL):
 *
 *   pw1 KIND DIR VERDICT NAME AT [VERDICT2]
 *
 *   KIND     D  a rule or default of the enforced policy dropped/rejected
 *            L  a rule with `log: true` matched (any verdict)
 *            S  a staged rule decided VERDICT where the enforced policy
 *               decides VERDICT2 (staged policies, SPEC §9)
 *   DIR      in | out
 *   VERDICT  accept | drop | reject
 *   NAME     the rule's name, "default" for a direction's default, or a
 *            built-in label; bytes outside [A-Za-z0-9._/@+=,-] are written
 *            as %XX, so NAME has no spaces and round-trips
 *   AT       FILE:LINE of the rule, "-" when it has none; when the whole
 *            prefix would not fit, the directories of FILE are dropped
 *            first, then NAME is cut (and ends in "%~", which no
 *            escape produces)
 *
 * Example: "pw1 D out drop block-smtp /etc/portwarden/policy.yaml:12".
 */

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define LOGPREFIX_MAX 127
#define LOGPREFIX_NAME_MAX 128
#define LOGPREFIX_AT_MAX 128

enum logprefix_kind {
	LOGPREFIX_DENIED = 'D',
	LOGPREFIX_LOGGED = 'L',
	LOGPREFIX_STAGED = 'S',
};

/**
 * struct log_id - what a portwarden NFLOG prefix says
 * @kind:      see above
 * @dir:       DIR_IN or DIR_OUT
 * @verdict:   the rule's verdict
 * @name:      the rule's name (unescaped; cut when @name_cut)
 * @name_cut:  the name did not fit in the prefix and was cut
 * @at:        "FILE:LINE" or "" (the FILE may have lost its directories)
 * @has_other: @other is set (KIND S)
 * @other:     the enforced verdict of a staged record
 */
struct log_id {
	enum logprefix_kind kind;
	enum direction dir;
	enum verdict verdict;
	char name[LOGPREFIX_NAME_MAX + 1];
	bool name_cut;
	char at[LOGPREFIX_AT_MAX + 1];
	bool has_other;
	enum verdict other;
};

/**
 * logprefix_format() - write @id as a prefix
 * @id:  @name, @at (may be empty) and the rest; @name_cut is ignored
 * @buf: at least LOGPREFIX_MAX + 1 bytes; always NUL-terminated
 *
 * Return: the prefix's length (at most LOGPREFIX_MAX).
 */
size_t logprefix_format(const struct log_id *id, char *buf);

/**
 * logprefix_parse() - read a prefix
 * @s:   the prefix bytes (untrusted; need not be NUL-terminated)
 * @len: their number (a trailing NUL is allowed)
 * @id:  filled on success
 *
 * Return: 0, or -EINVAL when @s is not a portwarden prefix.
 */
int logprefix_parse(const char *s, size_t len, struct log_id *id);

#endif
