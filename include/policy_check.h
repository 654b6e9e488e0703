/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_CHECK_H
#define PORTWARDEN_POLICY_CHECK_H

/*
 * Internal to the checker (policy_check.c: rules, listeners, top level;
 * policy_values.c: scalars, ports, addresses, sets; policy_lint.c:
 * normalisation, shadowed rules, freeing, diagnostic order). Not for other
 * modules: they read struct policy.
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
	struct setting version, table, def[DIR_MAX], log, established,
		       loopback, icmp;
	const char *table_name;
	struct pending_list sets, rules[DIR_MAX], listeners;
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


/* ---- policy_values.c ---- */

/**
 * chk_q() - a policy string made safe for a message: control and non-ASCII
 * bytes shown as '?', cut to 64 characters with "..."; valid until four
 * more calls
 */
const char *chk_q(struct ctx *c, const char *s);
/** chk_want_scalar() - @n is a non-null scalar, else an error naming @what */
bool chk_want_scalar(struct ctx *c, const struct node *n, const char *what);
/** chk_get_bool() - true/false (and yes/no/on/off); 0 or -EINVAL */
int chk_get_bool(struct ctx *c, const struct node *n, bool *out);
/** chk_hint_for() - closest_word() plus one swap of adjacent letters */
const char *chk_hint_for(const char *word, const char *const *names,
			 size_t n);
/** chk_get_enum() - index of @n in @names, or an error with a hint */
int chk_get_enum(struct ctx *c, const struct node *n, const char *what,
		 const char *const *names, size_t count, int *out);
/** chk_unknown_key() - report an unknown mapping key with a hint */
void chk_unknown_key(struct ctx *c, const struct node *k, const char *where,
		     const char *const *keys, size_t n);
/** chk_key_index() - index of key @k in @keys, or -1 */
int chk_key_index(const struct node *k, const char *const *keys, size_t n);
/** chk_all_digits() - non-empty and only 0-9 */
bool chk_all_digits(const char *s);
/** chk_merge_setting() - record a top-level setting, or report a conflict
 * naming both places */
void chk_merge_setting(struct ctx *c, struct setting *s, const char *what,
		       const struct node *n, int value);
/** chk_addr_families() - FAM_* bits present in a normalised set */
unsigned int chk_addr_families(const struct addr_set *s);
/** chk_field_items() - the items of a scalar-or-list field; @one holds
 * the node itself for a scalar; NULL after an error */
struct node *const *chk_field_items(struct ctx *c, struct node *const *one,
				    const struct node *n, const char *what,
				    size_t *count);
/** chk_check_sets() - check every collected `sets:` entry into c->p */
void chk_check_sets(struct ctx *c);
/** chk_parse_ports() - a Ports field (numbers, ranges, names, $sets) */
void chk_parse_ports(struct ctx *c, const struct node *n, const char *field,
		     struct port_set *out);
/** chk_parse_addrs() - an Addresses field; @exclude for not_from/not_to */
void chk_parse_addrs(struct ctx *c, const struct node *n, const char *field,
		     bool exclude, struct addr_set *out);
/** chk_parse_ids() - user or group names/numbers, sorted and unique */
void chk_parse_ids(struct ctx *c, const struct node *n, bool group,
		   struct id_set *out);
/** chk_text_ok() - 1..@max printable ASCII characters, no '"' */
bool chk_text_ok(const char *s, size_t len, size_t max);
/** chk_iface_ok() - a Linux interface name, '*' allowed at the end */
bool chk_iface_ok(const char *s, size_t len);

/* ---- policy_lint.c ---- */

/** chk_ports_normalise() - sort and merge overlapping/adjacent ranges */
void chk_ports_normalise(struct port_set *s);
/** chk_cidr_cmp() - qsort order: IPv4 first, by address, then prefix length */
int chk_cidr_cmp(const void *a, const void *b);
/** chk_addrs_normalise() - sort, drop prefixes covered by another */
void chk_addrs_normalise(struct addr_set *s);
/** chk_empty_field() - name of a present but empty match field, or NULL */
const char *chk_empty_field(const struct rule *r);
/** chk_lint_shadowed() - warn about rules an earlier rule fully covers */
void chk_lint_shadowed(struct ctx *c, enum direction dir);

#endif
