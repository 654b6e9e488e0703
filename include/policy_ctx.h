/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_CTX_H
#define PORTWARDEN_POLICY_CTX_H

/*
 * The checker's working state, shared by its three modules, which stack
 * without a cycle:
 *   policy_values.c  scalars, ports, addresses, ids, `sets:`, normalising
 *   policy_lint.c    rules that never match (uses values)
 *   policy_check.c   rules, listeners, the top level (uses both)
 * and report through the inline helpers below. Not for other modules:
 * they read struct policy.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy.h"
#include "policy_parse.h"
#include "util.h"

struct setting {
	bool set;
	struct loc loc;
	const char *text;	/* the value as written, for messages */
	int value;
};

struct pending {
	struct node *key;	/* set name node; NULL for rules/listeners */
	struct node *val;
	const char *file;	/* policy-owned file name */
};

struct pending_list {
	struct pending *v;
	size_t n, cap;
};

struct ctx {
	struct policy *p;
	struct diag *d;
	const char *file;
	struct setting version, table, def[DIR_MAX], log, established, repair,
		       loopback, icmp, log_group;
	const char *table_name;
	struct pending_list sets, rules[DIR_MAX], listeners, tests;
	size_t *set_order;	/* indices of p->sets sorted by name */
	bool *set_used;
	bool *set_empty;
	struct id_cache *ids;	/* user/group names already resolved */
	size_t n_ids, cap_ids;
	char quote[4][PRINTABLE_TEXT_SIZE];	/* chk_q() buffers: four per message */
	unsigned int quote_next;
};

/* getpwnam()/getgrnam() read files or ask NSS: once per name, not per rule. */
struct id_cache {
	const char *name;	/* points into a YAML tree */
	bool group, found;
	uint32_t id;
};

static inline struct loc at(const struct ctx *c, const struct node *n)
{
	struct loc l = { c->file, n->loc.line, n->loc.col };

	return l;
}

static inline void err(struct ctx *c, const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void warn(struct ctx *c, const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void err(struct ctx *c, const struct node *n, const char *fmt, ...)
{
	struct loc l = at(c, n);
	va_list ap;

	va_start(ap, fmt);
	policy_vdiag(c->d, DIAG_ERROR, &l, fmt, ap);
	va_end(ap);
}

static inline void warn(struct ctx *c, const struct node *n, const char *fmt, ...)
{
	struct loc l = at(c, n);
	va_list ap;

	va_start(ap, fmt);
	policy_vdiag(c->d, DIAG_WARNING, &l, fmt, ap);
	va_end(ap);
}

static inline void warn_at(struct ctx *c, const struct loc *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void err_at(struct ctx *c, const struct loc *l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void err_at(struct ctx *c, const struct loc *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	policy_vdiag(c->d, DIAG_ERROR, l, fmt, ap);
	va_end(ap);
}

static inline void warn_at(struct ctx *c, const struct loc *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	policy_vdiag(c->d, DIAG_WARNING, l, fmt, ap);
	va_end(ap);
}

#endif
