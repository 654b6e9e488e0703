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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

static bool is_str_tag(const yaml_char_t *tag)
{
	return tag && (!strcmp((const char *)tag, YAML_STR_TAG) ||
		       !strcmp((const char *)tag, "!!str"));
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
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !is_str_tag(ev->data.scalar.tag);
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
		if (n->kind == NODE_MAP)
			finish_map(ps, f);
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

/* ---- files ---------------------------------------------------------- */

/*
 * Like pfctl, refuse a policy that someone other than root or the caller
 * could have written: whoever can edit it controls the firewall.
 */
static int check_owner(const char *path, const struct stat *st, bool dir,
		       struct diag *d)
{
	struct loc l = { path, 0, 0 };

	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		diag_error(d, &l, "refusing a %s-writable policy %s; fix: chmod go-w %s",
			   (st->st_mode & S_IWOTH) ? "world" : "group",
			   dir ? "directory" : "file", path);
		return -EPERM;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		diag_error(d, &l, "refusing a policy %s owned by uid %u (neither root nor you); fix: chown root %s",
			   dir ? "directory" : "file", (unsigned int)st->st_uid,
			   path);
		return -EPERM;
	}
	return 0;
}

static int read_fd(int fd, const char *path, const struct stat *st,
		   char **buf, size_t *len, struct diag *d)
{
	struct loc l = { path, 0, 0 };
	size_t cap, n = 0;
	char *p;
	ssize_t r;

	if (st->st_size > (off_t)POLICY_MAX_FILE_SIZE) {
		diag_error(d, &l, "file is larger than %u MiB (file size limit)",
			   POLICY_MAX_FILE_SIZE >> 20);
		return -EPERM;	/* invalid, not a runtime failure */
	}
	cap = (size_t)st->st_size + 1;
	p = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap > POLICY_MAX_FILE_SIZE) {
				free(p);
				diag_error(d, &l, "file is larger than %u MiB (file size limit)",
					   POLICY_MAX_FILE_SIZE >> 20);
				return -EPERM;	/* invalid, not a runtime failure */
			}
			cap *= 2;
			p = xrealloc(p, cap);
		}
		r = read(fd, p + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			free(p);
			diag_error(d, &l, "cannot read: %s", strerror(-err));
			return err;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	*buf = p;
	*len = n;
	return 0;
}

/*
 * Results of loading, from good to bad: 0; -EINVAL, parsed with errors
 * (checking goes on, to report everything); -EPERM, refused or unusable
 * (the policy is invalid and is not checked); any other errno, a file
 * could not be read (a runtime failure, which outranks an invalid policy).
 */
static int worse(int a, int b)
{
	int ra = !a ? 0 : a == -EINVAL ? 1 : a == -EPERM ? 2 : 3;
	int rb = !b ? 0 : b == -EINVAL ? 1 : b == -EPERM ? 2 : 3;

	return rb > ra ? b : a;
}

/* What a path that is not a regular file or a directory is, for the
 * message that refuses it. */
static const char *file_kind(mode_t mode)
{
	return S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket" :
	       S_ISCHR(mode) ? "a character device" :
	       S_ISBLK(mode) ? "a block device" : "not a regular file";
}

/*
 * Open a policy path without ever blocking: O_NONBLOCK makes open() of a
 * FIFO return at once (a FIFO with no writer would block it forever, and
 * portwarden.service with it at boot), O_NOCTTY keeps a terminal device
 * from becoming ours. The caller fstat()s the descriptor and refuses
 * anything but a regular file or a directory. A socket cannot be open()ed
 * at all (ENXIO); say what it is. Symbolic links are followed (a conf.d
 * link to a shared policy is common); what they lead to is checked.
 */
static int open_policy(int dfd, const char *name, const char *path,
		       struct diag *d)
{
	struct loc l = { path, 0, 0 };
	struct stat st;
	int fd, err;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd >= 0) {
		/* reads of a regular file never block; clear the flag so
		 * that nothing later depends on it */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		return fd;
	}
	err = -errno;
	if (err == -ENXIO && !fstatat(dfd, name, &st, 0) &&
	    !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		diag_error(d, &l, "not a regular file or directory (%s); policy files must be regular files",
			   file_kind(st.st_mode));
		return -EPERM;
	}
	diag_error(d, &l, "cannot open: %s", strerror(-err));
	return err;
}

struct tree_list {
	struct yaml_tree **v;
	size_t n, cap;
};

static int load_fd(struct tree_list *tl, int fd, const char *path,
		   struct diag *d)
{
	struct stat st;
	struct loc l = { path, 0, 0 };
	size_t len = 0;
	char *buf = NULL;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = -errno;
		diag_error(d, &l, "cannot stat: %s", strerror(errno));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, &l, "not a regular file or directory (%s); policy files must be regular files",
			   file_kind(st.st_mode));
		return -EPERM;
	}
	ret = check_owner(path, &st, false, d);
	if (ret < 0)
		return ret;
	ret = read_fd(fd, path, &st, &buf, &len, d);
	if (ret < 0)
		return ret;
	ARRAY_PUSH(tl->v, tl->n, tl->cap);
	ret = yaml_tree_parse(&tl->v[tl->n - 1], path, buf, len, d);
	free(buf);
	return ret;
}

static bool policy_name(const char *name)
{
	size_t len = strlen(name);

	if (name[0] == '.')
		return false;
	return (len > 5 && !strcmp(name + len - 5, ".yaml")) ||
	       (len > 4 && !strcmp(name + len - 4, ".yml"));
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int load_dir(struct tree_list *tl, int dfd, const char *path,
		    struct diag *d)
{
	struct loc l = { path, 0, 0 };
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	int ret = 0, err;
	DIR *dir;

	dir = fdopendir(dfd);
	if (!dir) {
		ret = -errno;
		close(dfd);
		diag_error(d, &l, "cannot read directory: %s", strerror(-ret));
		return ret;
	}
	while ((de = readdir(dir))) {
		if (!policy_name(de->d_name))
			continue;
		ARRAY_PUSH(names, n, cap);
		names[n - 1] = xstrdup(de->d_name);
	}
	if (!n) {
		diag_error(d, &l, "no *.yaml or *.yml policy files in this directory");
		ret = -EPERM;
		goto out;
	}
	qsort(names, n, sizeof(*names), str_cmp);
	for (i = 0; i < n; i++) {
		size_t plen = strlen(path);
		char *full = xasprintf("%s%s%s", path,
				       plen && path[plen - 1] == '/' ? "" : "/",
				       names[i]);
		int fd = open_policy(dirfd(dir), names[i], full, d);

		if (fd < 0) {
			err = fd;
		} else {
			err = load_fd(tl, fd, full, d);
			close(fd);
		}
		ret = worse(ret, err);
		free(full);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return ret;
}

static int load_path(struct tree_list *tl, const char *path, struct diag *d)
{
	struct loc l = { path, 0, 0 };
	struct stat st;
	int fd, ret;

	fd = open_policy(AT_FDCWD, path, path, d);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		diag_error(d, &l, "cannot stat: %s", strerror(errno));
		close(fd);
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = check_owner(path, &st, true, d);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		return load_dir(tl, fd, path, d);	/* takes fd */
	}
	ret = load_fd(tl, fd, path, d);
	close(fd);
	return ret;
}

static void free_trees(struct tree_list *tl)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		yaml_tree_free(tl->v[i]);
	free(tl->v);
}

int policy_load(struct policy **out, const char *const *paths, size_t n,
		struct diag *d)
{
	struct tree_list tl = { 0 };
	size_t i, start = d->n;
	int ret = 0, err;

	*out = NULL;
	for (i = 0; i < n; i++)
		ret = worse(ret, load_path(&tl, paths[i], d));
	for (i = 0; i < tl.n; i++)
		if (tl.v[i]->broken)
			ret = worse(ret, -EPERM);
	/*
	 * Check unless some file was refused, unreadable or broken off:
	 * checking a part would report references to sets of the missing
	 * file as undefined. Duplicate keys alone do not stop it, so that
	 * one run reports every error.
	 */
	if (!ret || ret == -EINVAL) {
		struct policy *p = NULL;

		err = policy_check_trees(&p, (struct yaml_tree *const *)tl.v,
					 tl.n, d);
		if (!ret && !err)
			*out = p;
		else
			policy_free(p);
		ret = worse(ret, err);
	}
	if (ret == -EPERM)
		ret = -EINVAL;
	policy_sort_diags(d, start, (struct yaml_tree *const *)tl.v, tl.n);
	free_trees(&tl);
	return ret;
}

int policy_load_buffer(struct policy **out, const char *name,
		       const char *buf, size_t len, struct diag *d)
{
	struct yaml_tree *t = NULL;
	struct policy *p = NULL;
	size_t start = d->n;
	int ret, err;

	*out = NULL;
	ret = yaml_tree_parse(&t, name, buf, len, d);
	if (!t->broken) {
		err = policy_check_trees(&p, &t, 1, d);
		if (!ret && !err)
			*out = p;
		else
			policy_free(p);
		if (!ret)
			ret = err;
	}
	policy_sort_diags(d, start, &t, 1);
	yaml_tree_free(t);
	return ret;
}
