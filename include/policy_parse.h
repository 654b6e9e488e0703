/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_PARSE_H
#define PORTWARDEN_POLICY_PARSE_H

/*
 * The bottom of the policy front end: policy_parse.c turns YAML text into
 * a tree of nodes that remember where they stand in the file. It knows
 * nothing of the policy language; the checker (policy_check.h) reads the
 * trees and policy_load.c drives both.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "policy.h"

/* Limits against hostile input; every message names the limit. */
#define POLICY_MAX_FILE_SIZE	(64u << 20)	/* bytes per file */
#define POLICY_MAX_DEPTH	64		/* nested collections */
#define POLICY_MAX_NODES	2000000u	/* nodes, aliases expanded */
#define POLICY_MAX_RULES	100000u		/* rules per direction */
#define POLICY_MAX_ELEMENTS	1000000u	/* elements per set or field */
#define POLICY_MAX_DIAGS	1000u		/* shown errors, and warnings */

enum node_kind {
	NODE_SCALAR,
	NODE_SEQ,
	NODE_MAP,
};

/**
 * struct node - one YAML node with its location
 * @kind:   scalar, sequence or mapping
 * @loc:    file, line and column (1-based) of the node's start mark
 * @plain:  a scalar written without quotes and without a !!str tag (only
 *          plain scalars are read as numbers, booleans or null)
 * @str:    scalar text, NUL-terminated (may contain NUL when @len says so)
 * @len:    scalar length in bytes
 * @items:  sequence items; for a mapping key0, value0, key1, value1, ...
 * @n:      number of items (a mapping holds @n / 2 pairs)
 * @weight: nodes below and including this one, aliases expanded
 *
 * Nodes live in the arena of their struct yaml_tree and are never freed
 * one by one; an alias shares the anchored node.
 */
struct node {
	enum node_kind kind;
	struct loc loc;
	bool plain;
	char *str;
	size_t len;
	struct node **items;
	size_t n;
	size_t weight;
};

/**
 * struct yaml_tree - one parsed policy document
 * @root: the document's top node, or NULL for an empty document
 * @file: owned file name every node's loc.file points at
 * @broken: parsing stopped early (syntax error, limit); @root is NULL.
 *          Lesser errors (duplicate keys) leave a usable tree.
 */
struct yaml_tree {
	struct node *root;
	char *file;
	bool broken;
	struct arena *arena;
};

/**
 * yaml_tree_parse() - parse one YAML document from memory
 * @out:  receives the tree (also on errors; see yaml_tree.broken)
 * @name: file name used in locations
 * @buf:  the text; need not be NUL-terminated
 * @len:  its length
 * @d:    receives syntax errors and limit violations
 *
 * Return: 0, or -EINVAL after recording errors in @d.
 */
int yaml_tree_parse(struct yaml_tree **out, const char *name,
		    const char *buf, size_t len, struct diag *d);

/** yaml_tree_free() - free a tree and all its nodes; accepts NULL */
void yaml_tree_free(struct yaml_tree *t);

/** node_kind_name() - "a string", "a list", "a mapping" for messages */
const char *node_kind_name(const struct node *n);

/** node_is_null() - a plain `~`, `null` or empty scalar */
bool node_is_null(const struct node *n);

/**
 * policy_vdiag() - diag_vadd() that shows at most POLICY_MAX_DIAGS errors
 * and as many warnings: the rest are counted but not stored, so hostile
 * input cannot fill memory with messages; a note says so once.
 */
void policy_vdiag(struct diag *d, enum diag_severity sev,
		  const struct loc *l, const char *fmt, va_list ap);

#endif
