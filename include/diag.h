/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DIAG_H
#define PORTWARDEN_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/**
 * struct loc - where a policy node stands in its file
 * @file: path as given on the command line (owned by the policy or tree)
 * @line: 1-based line
 * @col:  1-based column
 */
struct loc {
	const char *file;
	unsigned int line;
	unsigned int col;
};

enum diag_severity {
	DIAG_ERROR,
	DIAG_WARNING,
	DIAG_NOTE,
};

/**
 * struct diag_entry - one error or warning, already formatted
 */
struct diag_entry {
	enum diag_severity severity;
	struct loc loc;
	char *file;		/* owned copy of loc.file */
	char *msg;
};

/**
 * struct diag - the error record list of one run (nftables' erec, pfctl's
 * file->errors): library code appends, only the command layer prints.
 */
struct diag {
	struct diag_entry *v;
	size_t n, cap;
	unsigned int errors;
	unsigned int warnings;
};

void diag_init(struct diag *d);
void diag_release(struct diag *d);
/* Append one entry; @loc may be NULL for a message with no location. */
void diag_add(struct diag *d, enum diag_severity sev, const struct loc *loc,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_vadd(struct diag *d, enum diag_severity sev, const struct loc *loc,
	       const char *fmt, va_list ap);
#define diag_error(d, loc, ...)   diag_add(d, DIAG_ERROR, loc, __VA_ARGS__)
#define diag_warning(d, loc, ...) diag_add(d, DIAG_WARNING, loc, __VA_ARGS__)
/* Print every entry as "FILE:LINE:COL: error: MSG" in the order added. */
void diag_print(const struct diag *d, FILE *f);

#endif
