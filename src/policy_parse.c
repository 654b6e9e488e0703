// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Policy files → YAML trees with locations.
 *
 * libyaml's event parser feeds a small tree of our own (struct node), each
 * node remembering the file, line and column of its start mark. Nodes and
 * scalar text live in one arena per document, so a 110,000-element set
 * costs a handful of large allocations instead of 220,000 small ones.
 *
 * Hostile input is bounded: files over POLICY_MAX_FILE_SIZE are refused
 * before reading, nesting beyond POLICY_MAX_DEPTH stops the parse, and
 * aliases are expanded by sharing the anchored node while counting the
 * expanded size against POLICY_MAX_NODES, so an alias bomb stops after a
 * fixed amount of work. An alias can only name a finished node, so the
 * tree never has a cycle.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy_parse.h"
#include "util.h"

/* ---- arena ---------------------------------------------------------- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

#define ARENA_CHUNK (256u * 1024u)

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;
	void *p;

	if (!c || c->size - c->used < need) {
		size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;

		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

static void arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* ---- tree ----------------------------------------------------------- */

void yaml_tree_free(struct yaml_tree *t)
{
	if (!t)
		return;
	arena_free(t->arena);
	free(t->file);
	free(t);
}

const char *node_kind_name(const struct node *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case NODE_SEQ:
		return "a list";
	case NODE_MAP:
		return "a mapping";
	case NODE_SCALAR:
		break;
	}
	if (node_is_null(n))
		return "null";
	return "a scalar";
}

bool node_is_null(const struct node *n)
{
	if (!n || n->kind != NODE_SCALAR || !n->plain)
		return false;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

/* ---- event parser --------------------------------------------------- */

struct anchor {
	const char *name;
	struct node *node;
};

struct frame {
	struct node *node;
	const char *anchor;	/* registered when the collection ends */
	struct node **items;
	size_t n, cap;
};

struct parser {
	struct yaml_tree *t;
	struct diag *d;
	const char *buf;
	size_t len;
	struct frame frames[POLICY_MAX_DEPTH + 1];
	size_t depth;
	size_t total;		/* nodes so far, aliases expanded */
	struct anchor *anchors;	/* open-addressing hash table */
	size_t n_anchors, cap_anchors;
	int errors;
};

void policy_vdiag(struct diag *d, enum diag_severity sev,
		  const struct loc *l, const char *fmt, va_list ap)
{
	unsigned int *count = sev == DIAG_ERROR ? &d->errors :
			      sev == DIAG_WARNING ? &d->warnings : NULL;

	if (!count || *count < POLICY_MAX_DIAGS) {
		diag_vadd(d, sev, l, fmt, ap);
		return;
	}
	if (*count == POLICY_MAX_DIAGS)
		diag_add(d, DIAG_NOTE, NULL, "more than %u %s; the rest are counted but not shown",
			 POLICY_MAX_DIAGS, sev == DIAG_ERROR ? "errors" : "warnings");
	(*count)++;
}

static void perr(struct parser *ps, unsigned int line, unsigned int col,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void perr(struct parser *ps, unsigned int line, unsigned int col,
		 const char *fmt, ...)
{
	struct loc l = { ps->t->file, line, col };
	va_list ap;

	va_start(ap, fmt);
	policy_vdiag(ps->d, DIAG_ERROR, &l, fmt, ap);
	va_end(ap);
	ps->errors++;
}

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull & SIZE_MAX;

	while (*s)
		h = (h ^ (unsigned char)*s++) * (size_t)1099511628211ull;
	return h;
}

static struct anchor *anchor_slot(struct parser *ps, const char *name)
{
	size_t mask = ps->cap_anchors - 1, i;

	for (i = hash_str(name) & mask;; i = (i + 1) & mask)
		if (!ps->anchors[i].name || !strcmp(ps->anchors[i].name, name))
			return &ps->anchors[i];
}

static void anchor_set(struct parser *ps, const char *name, struct node *n)
{
	struct anchor *slot;

	if ((ps->n_anchors + 1) * 2 > ps->cap_anchors) {
		struct anchor *old = ps->anchors;
		size_t oldcap = ps->cap_anchors, i;

		ps->cap_anchors = oldcap ? oldcap * 2 : 64;
		ps->anchors = xcalloc(ps->cap_anchors, sizeof(*ps->anchors));
		for (i = 0; i < oldcap; i++)
			if (old[i].name)
				*anchor_slot(ps, old[i].name) = old[i];
		free(old);
	}
	slot = anchor_slot(ps, name);
	if (!slot->name) {
		slot->name = name;
		ps->n_anchors++;
	}
	slot->node = n;	/* YAML lets a later anchor of the same name win */
}

static struct node *anchor_get(struct parser *ps, const char *name)
{
	struct anchor *slot;

	if (!ps->cap_anchors)
		return NULL;
	slot = anchor_slot(ps, name);
	return slot->name ? slot->node : NULL;
}

static char *arena_strdup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static struct node *new_node(struct parser *ps, enum node_kind kind,
			     const yaml_mark_t *mark)
{
	struct node *n = arena_alloc(ps->t->arena, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->loc.file = ps->t->file;
	n->loc.line = (unsigned int)mark->line + 1;
	n->loc.col = (unsigned int)mark->column + 1;
	n->weight = 1;
	return n;
}

/* Attach a finished node to the open collection, or make it the root. */
static void attach(struct parser *ps, struct node *n)
{
	struct frame *f;

	if (!ps->depth) {
		ps->t->root = n;
		return;
	}
	f = &ps->frames[ps->depth - 1];
	ARRAY_PUSH(f->items, f->n, f->cap);
	f->items[f->n - 1] = n;
	f->node->weight += n->weight;
}

static int count_nodes(struct parser *ps, size_t weight,
		       const yaml_mark_t *mark)
{
	ps->total += weight;
	if (ps->total <= POLICY_MAX_NODES)
		return 0;
	perr(ps, (unsigned int)mark->line + 1, (unsigned int)mark->column + 1,
	     "document exceeds %u nodes with aliases expanded (limit on alias expansion and document size)",
	     POLICY_MAX_NODES);
	return -E2BIG;
}

struct key_ref {
	const struct node *key;
	size_t pair;
};

/* By text, then by position in the mapping: the first of equal keys wins. */
static int key_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	size_t l = x->key->len < y->key->len ? x->key->len : y->key->len;
	int c = memcmp(x->key->str, y->key->str, l);

	if (c)
		return c;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return (x->pair > y->pair) - (x->pair < y->pair);
}

static bool same_key(const struct node *a, const struct node *b)
{
	return a->len == b->len && !memcmp(a->str, b->str, a->len);
}

/*
 * A finished mapping: non-scalar keys and repeated keys are errors and are
 * dropped (the first of a repeated key stays), so the checker never sees
 * the same key twice. Sorting keeps this O(n log n) for huge mappings.
 */
static void finish_map(struct parser *ps, struct frame *f)
{
	struct node **items = f->items;
	size_t pairs = f->n / 2, i, j, first, out;
	struct key_ref *keys;
	char shown[PRINTABLE_TEXT_SIZE];
	bool *drop;

	drop = xcalloc(pairs ? pairs : 1, sizeof(*drop));
	keys = xcalloc(pairs ? pairs : 1, sizeof(*keys));
	for (i = 0, j = 0; i < pairs; i++) {
		struct node *k = items[2 * i];

		if (k->kind != NODE_SCALAR) {
			perr(ps, k->loc.line, k->loc.col,
			     "a mapping key must be a string, not %s",
			     node_kind_name(k));
			drop[i] = true;
			continue;
		}
		keys[j].key = k;
		keys[j++].pair = i;
	}
	if (j > 1)
		qsort(keys, j, sizeof(*keys), key_cmp);
	for (i = 1, first = 0; i < j; i++) {
		if (!same_key(keys[first].key, keys[i].key)) {
			first = i;
			continue;
		}
		perr(ps, keys[i].key->loc.line, keys[i].key->loc.col,
		     "duplicate key '%s' (first at line %u, column %u)",
		     printable_text(keys[i].key->str, shown), keys[first].key->loc.line,
		     keys[first].key->loc.col);
		drop[keys[i].pair] = true;
	}
	free(keys);
	for (i = 0, out = 0; i < pairs; i++) {
		if (drop[i])
			continue;
		items[2 * out] = items[2 * i];
		items[2 * out + 1] = items[2 * i + 1];
		out++;
	}
	f->n = 2 * out;
	free(drop);
}

/* ---- merge keys ----------------------------------------------------- */

/*
 * YAML 1.1 merge keys, as Ansible and compose files use them:
 *   base: &base { proto: tcp, port: 22 }
 *   rule: { <<: *base, port: 2222 }          port stays 2222
 *   both: { <<: [*a, *b], name: x }          a's keys win over b's
 * The key is a plain `<<` (or `!!merge <<`; a quoted "<<" is an ordinary
 * key). The mapping's own keys win over merged ones, and of the merged
 * mappings the earlier wins. Merged pairs are the very nodes of the
 * source mapping, so their locations still point where they were written.
 * A source that itself merged was resolved when it ended, so merging is
 * transitive; the result never holds a `<<` key.
 */

static bool is_merge_key(const struct node *k)
{
	return k->kind == NODE_SCALAR && k->plain && k->len == 2 &&
	       !memcmp(k->str, "<<", 2);
}

static size_t hash_key(const struct node *k)
{
	size_t h = 1469598103934665603ull & SIZE_MAX, i;

	for (i = 0; i < k->len; i++)
		h = (h ^ (unsigned char)k->str[i]) * (size_t)1099511628211ull;
	return h;
}

/* Keys already in the mapping: an open-addressing set of key nodes. */
struct key_set {
	const struct node **slot;
	size_t cap;
};

/* Adds @k unless an equal key is there; returns whether it was added. */
static bool key_set_add(struct key_set *ks, const struct node *k)
{
	size_t i;

	for (i = hash_key(k) & (ks->cap - 1); ks->slot[i];
	     i = (i + 1) & (ks->cap - 1))
		if (same_key(ks->slot[i], k))
			return false;
	ks->slot[i] = k;
	return true;
}

static void merge_from(struct frame *f, struct key_set *ks,
		       const struct node *src)
{
	size_t i;

	for (i = 0; i + 1 < src->n; i += 2) {
		if (!key_set_add(ks, src->items[i]))
			continue;
		ARRAY_PUSH(f->items, f->n, f->cap);
		f->items[f->n - 1] = src->items[i];
		ARRAY_PUSH(f->items, f->n, f->cap);
		f->items[f->n - 1] = src->items[i + 1];
	}
}

static void merge_keys(struct parser *ps, struct frame *f)
{
	struct node **own = f->items;
	size_t pairs = f->n / 2, i, j, merges = 0, total = 0, out;
	struct node **mk;
	struct key_set ks;

	for (i = 0; i < pairs; i++)
		if (own[2 * i]->kind == NODE_SCALAR && is_merge_key(own[2 * i]))
			merges++;
	if (!merges)
		return;
	/* keep the merge values aside, then drop the `<<` pairs */
	mk = xcalloc(2 * merges, sizeof(*mk));
	for (i = 0, j = 0, out = 0; i < pairs; i++) {
		if (is_merge_key(own[2 * i])) {
			mk[j++] = own[2 * i];
			mk[j++] = own[2 * i + 1];
			continue;
		}
		own[2 * out] = own[2 * i];
		own[2 * out + 1] = own[2 * i + 1];
		out++;
	}
	f->n = 2 * out;
	for (i = 0; i < merges; i++) {
		const struct node *v = mk[2 * i + 1];

		if (v->kind == NODE_MAP) {
			total += v->n / 2;
		} else if (v->kind == NODE_SEQ) {
			for (j = 0; j < v->n; j++)
				if (v->items[j]->kind == NODE_MAP)
					total += v->items[j]->n / 2;
		}
	}
	for (ks.cap = 16; ks.cap < 2 * (out + total + 1); ks.cap *= 2)
		;
	ks.slot = xcalloc(ks.cap, sizeof(*ks.slot));
	for (i = 0; i < out; i++)
		key_set_add(&ks, own[2 * i]);
	for (i = 0; i < merges; i++) {
		const struct node *k = mk[2 * i], *v = mk[2 * i + 1];

		if (v->kind == NODE_MAP) {
			merge_from(f, &ks, v);
			continue;
		}
		if (v->kind != NODE_SEQ) {
			perr(ps, k->loc.line, k->loc.col,
			     "'<<' merges a mapping or a list of mappings, not %s (write '<<: *anchor' with an anchored mapping)",
			     node_kind_name(v));
			continue;
		}
		for (j = 0; j < v->n; j++) {
			if (v->items[j]->kind == NODE_MAP) {
				merge_from(f, &ks, v->items[j]);
				continue;
			}
			perr(ps, k->loc.line, k->loc.col,
			     "'<<' merges mappings, but item %zu of its list is %s",
			     j + 1, node_kind_name(v->items[j]));
		}
	}
	free(ks.slot);
	free(mk);
}

/* ---- tags ----------------------------------------------------------- */

#define CORE_TAG "tag:yaml.org,2002:"

/* "tag:yaml.org,2002:binary" is written "!!binary" in messages. */
static const char *tag_shown(const char *tag, char *buf)
{
	char tmp[PRINTABLE_TEXT_SIZE + 2];

	if (!strncmp(tag, CORE_TAG, strlen(CORE_TAG))) {
		snprintf(tmp, sizeof(tmp), "!!%s", tag + strlen(CORE_TAG));
		return printable_text(tmp, buf);
	}
	return printable_text(tag, buf);
}

static bool scalar_is(const struct node *n, const char *const *words,
		      size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (!strcmp(n->str, words[i]))
			return true;
	return false;
}

static bool decimal_int(const struct node *n)
{
	const char *s = n->str;

	if (*s == '-' || *s == '+')
		s++;
	if (!*s || strlen(s) != n->len - (size_t)(s - n->str))
		return false;
	return strspn(s, "0123456789") == strlen(s);
}

/*
 * An explicit tag must be a core-schema tag that fits the node: the
 * policy language reads plain YAML, and anything else (!!binary, !!float,
 * !!timestamp, a local !tag) would be silently reinterpreted. A fitting
 * !!int, !!bool or !!null makes even a quoted scalar plain; !!str makes
 * any scalar a string (a plain one is then no longer read as a boolean
 * or null). @merge_ok: the node is a mapping key, where `!!merge <<` is
 * a merge key. Returns 0, or -EINVAL after an error.
 */
static int apply_tag(struct parser *ps, const yaml_char_t *utag,
		     struct node *n, bool merge_ok)
{
	static const char *const bools[] = { "true", "True", "TRUE", "false",
		"False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO", "on",
		"On", "ON", "off", "Off", "OFF" };
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	const char *tag = (const char *)utag, *name;
	char shown[PRINTABLE_TEXT_SIZE], val[PRINTABLE_TEXT_SIZE];
	bool fits;

	if (!tag)
		return 0;
	if (strncmp(tag, CORE_TAG, strlen(CORE_TAG))) {
		perr(ps, n->loc.line, n->loc.col,
		     "unsupported tag '%s' (a policy is plain YAML; the tags it takes are !!str, !!int, !!bool, !!null, !!map and !!seq)",
		     tag_shown(tag, shown));
		return -EINVAL;
	}
	name = tag + strlen(CORE_TAG);
	if (!strcmp(name, "binary")) {
		perr(ps, n->loc.line, n->loc.col,
		     "unsupported tag '!!binary' (a policy holds no binary data; write the value as text)");
		return -EINVAL;
	}
	if (!strcmp(name, "map"))
		fits = n->kind == NODE_MAP;
	else if (!strcmp(name, "seq"))
		fits = n->kind == NODE_SEQ;
	else if (!strcmp(name, "str"))
		fits = n->kind == NODE_SCALAR;
	else if (!strcmp(name, "int"))
		fits = n->kind == NODE_SCALAR && decimal_int(n);
	else if (!strcmp(name, "bool"))
		fits = n->kind == NODE_SCALAR && scalar_is(n, bools, ARRAY_SIZE(bools));
	else if (!strcmp(name, "null"))
		fits = n->kind == NODE_SCALAR && scalar_is(n, nulls, ARRAY_SIZE(nulls));
	else if (!strcmp(name, "merge") && merge_ok)
		fits = n->kind == NODE_SCALAR && n->len == 2 &&
		       !memcmp(n->str, "<<", 2);
	else {
		perr(ps, n->loc.line, n->loc.col,
		     "unsupported tag '%s' (the tags a policy takes are !!str, !!int, !!bool, !!null, !!map and !!seq)",
		     tag_shown(tag, shown));
		return -EINVAL;
	}
	if (!fits) {
		if (n->kind == NODE_SCALAR)
			perr(ps, n->loc.line, n->loc.col,
			     "tag '%s' does not fit the value '%s'%s",
			     tag_shown(tag, shown), printable_text(n->str, val),
			     !strcmp(name, "int") ? " (a decimal integer)" : "");
		else
			perr(ps, n->loc.line, n->loc.col,
			     "tag '%s' does not fit %s", tag_shown(tag, shown),
			     node_kind_name(n));
		return -EINVAL;
	}
	if (n->kind == NODE_SCALAR)
		n->plain = strcmp(name, "str") != 0;
	return 0;
}

/* libyaml reports reader errors (bad UTF-8, control characters) by offset. */
static void offset_to_mark(const char *buf, size_t len, size_t off,
			   unsigned int *line, unsigned int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	if (off > len)
		off = len;
	for (i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void syntax_error(struct parser *ps, yaml_parser_t *yp)
{
	unsigned int line, col;
	const char *problem = yp->problem ? yp->problem : "syntax error";

	if (yp->error == YAML_READER_ERROR) {
		offset_to_mark(ps->buf, ps->len, yp->problem_offset, &line, &col);
		if (yp->problem_value != -1)
			perr(ps, line, col, "invalid input: %s (byte 0x%02x)",
			     problem, (unsigned int)yp->problem_value & 0xff);
		else
			perr(ps, line, col, "invalid input: %s", problem);
		return;
	}
	if (yp->error == YAML_MEMORY_ERROR) {
		perr(ps, 0, 0, "out of memory while parsing");
		return;
	}
	line = (unsigned int)yp->problem_mark.line + 1;
	col = (unsigned int)yp->problem_mark.column + 1;
	if (yp->context && (yp->context_mark.line != yp->problem_mark.line ||
			    yp->context_mark.column != yp->problem_mark.column))
		perr(ps, line, col, "YAML syntax error: %s %s started at line %u, column %u",
		     problem, yp->context,
		     (unsigned int)yp->context_mark.line + 1,
		     (unsigned int)yp->context_mark.column + 1);
	else if (yp->context)
		perr(ps, line, col, "YAML syntax error: %s %s", problem,
		     yp->context);
	else
		perr(ps, line, col, "YAML syntax error: %s", problem);
}

/* The next node attached is a key of the open mapping. */
static bool is_key_position(const struct parser *ps)
{
	const struct frame *f;

	if (!ps->depth)
		return false;
	f = &ps->frames[ps->depth - 1];
	return f->node->kind == NODE_MAP && f->n % 2 == 0;
}

/* One event; returns 1 to go on, 0 at the end, <0 to stop. */
static int handle_event(struct parser *ps, yaml_event_t *ev, int *docs)
{
	const yaml_mark_t *mark = &ev->start_mark;
	char shown[PRINTABLE_TEXT_SIZE];
	struct frame *f;
	struct node *n;
	const char *anchor = NULL;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			perr(ps, (unsigned int)mark->line + 1,
			     (unsigned int)mark->column + 1,
			     "a second YAML document in one file; a policy file holds one document");
			return -EINVAL;
		}
		return 1;
	case YAML_SCALAR_EVENT:
		if (count_nodes(ps, 1, mark) < 0)
			return -E2BIG;
		n = new_node(ps, NODE_SCALAR, mark);
		n->str = arena_strdup(ps->t->arena,
				      (const char *)ev->data.scalar.value,
				      ev->data.scalar.length);
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		apply_tag(ps, ev->data.scalar.tag, n, is_key_position(ps));
		if (ev->data.scalar.anchor)
			anchor_set(ps, arena_strdup(ps->t->arena,
				   (const char *)ev->data.scalar.anchor,
				   strlen((const char *)ev->data.scalar.anchor)), n);
		attach(ps, n);
		return 1;
	case YAML_ALIAS_EVENT:
		n = anchor_get(ps, (const char *)ev->data.alias.anchor);
		if (!n) {
			perr(ps, (unsigned int)mark->line + 1,
			     (unsigned int)mark->column + 1,
			     "alias '*%s' names no finished anchor",
			     printable_text((const char *)ev->data.alias.anchor, shown));
			return -EINVAL;
		}
		if (count_nodes(ps, n->weight, mark) < 0)
			return -E2BIG;
		attach(ps, n);
		return 1;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ps->depth >= POLICY_MAX_DEPTH) {
			perr(ps, (unsigned int)mark->line + 1,
			     (unsigned int)mark->column + 1,
			     "nesting deeper than %u levels (nesting depth limit)",
			     POLICY_MAX_DEPTH);
			return -E2BIG;
		}
		if (count_nodes(ps, 1, mark) < 0)
			return -E2BIG;
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			n = new_node(ps, NODE_SEQ, mark);
			if (ev->data.sequence_start.anchor)
				anchor = (const char *)ev->data.sequence_start.anchor;
		} else {
			n = new_node(ps, NODE_MAP, mark);
			if (ev->data.mapping_start.anchor)
				anchor = (const char *)ev->data.mapping_start.anchor;
		}
		apply_tag(ps, ev->type == YAML_SEQUENCE_START_EVENT ?
			  ev->data.sequence_start.tag :
			  ev->data.mapping_start.tag, n, false);
		f = &ps->frames[ps->depth++];
		f->node = n;
		f->n = 0;
		f->anchor = anchor ? arena_strdup(ps->t->arena, anchor,
						  strlen(anchor)) : NULL;
		return 1;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (!ps->depth)
			return -EINVAL;
		f = &ps->frames[ps->depth - 1];
		n = f->node;
		if (n->kind == NODE_MAP) {
			finish_map(ps, f);
			merge_keys(ps, f);
		}
		n->n = f->n;
		if (f->n) {
			n->items = arena_alloc(ps->t->arena,
					       f->n * sizeof(*n->items));
			memcpy(n->items, f->items, f->n * sizeof(*n->items));
		}
		if (f->anchor)
			anchor_set(ps, f->anchor, n);
		ps->depth--;
		attach(ps, n);
		return 1;
	default:
		return 1;
	}
}

int yaml_tree_parse(struct yaml_tree **out, const char *name,
		    const char *buf, size_t len, struct diag *d)
{
	struct parser ps = { .d = d, .buf = buf, .len = len };
	yaml_parser_t yp;
	yaml_event_t ev;
	int docs = 0, ret = 0;
	size_t i;

	ps.t = xcalloc(1, sizeof(*ps.t));
	ps.t->file = xstrdup(name);
	ps.t->arena = xcalloc(1, sizeof(*ps.t->arena));
	*out = ps.t;
	if (len > POLICY_MAX_FILE_SIZE) {
		perr(&ps, 0, 0, "file is larger than %u MiB (file size limit)",
		     POLICY_MAX_FILE_SIZE >> 20);
		ps.t->broken = true;
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&yp)) {
		perr(&ps, 0, 0, "cannot start the YAML parser");
		ps.t->broken = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_parse(&yp, &ev)) {
			syntax_error(&ps, &yp);
			ret = -EINVAL;
			break;
		}
		ret = handle_event(&ps, &ev, &docs);
		yaml_event_delete(&ev);
		if (ret <= 0)
			break;
	}
	yaml_parser_delete(&yp);
	for (i = 0; i < ARRAY_SIZE(ps.frames); i++)
		free(ps.frames[i].items);
	free(ps.anchors);
	if (ret < 0) {
		ps.t->root = NULL;
		ps.t->broken = true;
	}
	return ret < 0 || ps.errors ? -EINVAL : 0;
}
