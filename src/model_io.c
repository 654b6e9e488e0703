// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The saved-state text form of a ruleset model (see model_io.h). It is
 * written and read only by portwarden, so it is generic rather than pretty:
 * every mvalue is written whole, whatever its key, so a round trip is exact
 * even for fields a given key does not use.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model_io.h"
#include "util.h"

#define MODEL_IO_VERSION 1
#define MAX_TOKENS	 (8 + 5 * MSET_MAX_KEYS + 8)

static const char *const key_names[] = {
	[KEY_NFPROTO] = "nfproto",
	[KEY_L4PROTO] = "l4proto",
	[KEY_IIFNAME] = "iifname",
	[KEY_OIFNAME] = "oifname",
	[KEY_SADDR] = "saddr",
	[KEY_DADDR] = "daddr",
	[KEY_SPORT] = "sport",
	[KEY_DPORT] = "dport",
	[KEY_SKUID] = "skuid",
	[KEY_SKGID] = "skgid",
	[KEY_CGROUPV2] = "cgroupv2",
	[KEY_CT_STATE] = "ct_state",
	[KEY_ICMP_TYPE] = "icmp_type",
	[KEY_ICMPV6_TYPE] = "icmpv6_type",
	[KEY_CONCAT] = "concat",
};

static const char *const verdict_names[] = {
	[MV_NONE] = "none",
	[MV_ACCEPT] = "accept",
	[MV_DROP] = "drop",
	[MV_REJECT_TCP] = "reject_tcp",
	[MV_REJECT_ICMPX] = "reject_icmpx",
};

static const char *const hook_names[] = {
	[HOOK_INPUT] = "input",
	[HOOK_OUTPUT] = "output",
};

/* The labels eval reports for built-in rules; origin_name points at one of
 * these after a read, as it points at a literal after compile. */
static const char *const builtin_labels[] = {
	"established", "loopback", "icmp", "default",
};

/* A name from the table, or the number of an enum value the table does
 * not know yet (model.h grew): the state stays readable either way. */
static int name_index(const char *const *names, size_t n, const char *s)
{
	unsigned long v;
	char *end;
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return (int)i;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	return *end || v > 255 ? -EINVAL : (int)v;
}

static const char *name_of(const char *const *names, size_t n, unsigned int i,
			   char *buf, size_t len)
{
	if (i < n && names[i])
		return names[i];
	snprintf(buf, len, "%u", i);
	return buf;
}

/* ---- writing ---------------------------------------------------------- */

/*
 * The writer formats into its own buffer and hands the stream 64 KiB at a
 * time: a 110,000-element table is 3 MB of text, and fprintf() per field
 * made writing it a tenth of a whole apply.
 */
#define OUT_CHUNK (64u * 1024)

struct out {
	FILE *f;
	char buf[OUT_CHUNK + 256];	/* room for one field past the mark */
	size_t len;
	bool err;
};

static void out_flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->err = true;
	o->len = 0;
}

/* Call before each field of at most 128 bytes. */
static void out_room(struct out *o)
{
	if (o->len >= OUT_CHUNK)
		out_flush(o);
}

static void out_mem(struct out *o, const char *s, size_t n)
{
	while (n) {
		size_t k;

		out_room(o);
		k = sizeof(o->buf) - o->len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static void out_puts(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_c(struct out *o, char c)
{
	out_room(o);
	o->buf[o->len++] = c;
}

static void out_u(struct out *o, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_room(o);
	while (n)
		o->buf[o->len++] = tmp[--n];
}

static void out_i(struct out *o, int v)
{
	if (v < 0) {
		out_c(o, '-');
		out_u(o, (uint64_t)-(int64_t)v);
		return;
	}
	out_u(o, (uint64_t)v);
}

static void out_hex(struct out *o, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	out_room(o);
	for (i = 0; i < n; i++) {
		o->buf[o->len++] = digits[p[i] >> 4];
		o->buf[o->len++] = digits[p[i] & 15];
	}
}

static void write_str(struct out *o, const char *s)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p;

	if (!s) {
		out_mem(o, " -", 2);
		return;
	}
	out_mem(o, " \"", 2);
	for (p = (const unsigned char *)s; *p; p++) {
		out_room(o);
		if (*p == '"' || *p == '\\') {
			o->buf[o->len++] = '\\';
			o->buf[o->len++] = (char)*p;
		} else if (*p < 0x21 || *p > 0x7e) {
			o->buf[o->len++] = '\\';
			o->buf[o->len++] = 'x';
			o->buf[o->len++] = digits[*p >> 4];
			o->buf[o->len++] = digits[*p & 15];
		} else {
			o->buf[o->len++] = (char)*p;
		}
	}
	out_c(o, '"');
}

static void write_value(struct out *o, const struct mvalue *v)
{
	out_c(o, ' ');
	out_u(o, v->num);
	out_c(o, ' ');
	out_u(o, v->range.lo);
	out_c(o, '-');
	out_u(o, v->range.hi);
	if (v->prefix.family == 4 || v->prefix.family == 6) {
		out_c(o, ' ');
		out_u(o, v->prefix.family);
		out_c(o, '/');
		out_u(o, v->prefix.plen);
		out_c(o, '/');
		out_hex(o, v->prefix.addr, v->prefix.family == 4 ? 4 : 16);
	} else {
		out_mem(o, " -", 2);
	}
	write_str(o, v->str);
}

static void write_name(struct out *o, const char *const *names, size_t n,
		       unsigned int i)
{
	char nb[16];

	out_puts(o, name_of(names, n, i, nb, sizeof(nb)));
}

static void write_model(struct out *o, const struct model *m)
{
	size_t i, j, k, l;

	out_puts(o, "model ");
	out_u(o, MODEL_IO_VERSION);
	out_puts(o, "\ntable");
	write_str(o, m->table);
	out_c(o, '\n');
	for (i = 0; i < m->n_sets; i++) {
		const struct mset *s = &m->sets[i];

		out_puts(o, "set");
		write_str(o, s->name);
		out_puts(o, " family ");
		out_u(o, s->family);
		out_puts(o, s->interval ? " interval 1 keys" : " interval 0 keys");
		for (k = 0; k < s->n_keys; k++) {
			out_c(o, ' ');
			write_name(o, key_names, ARRAY_SIZE(key_names), s->keys[k]);
		}
		out_c(o, '\n');
		for (j = 0; j < s->n_elems; j++) {
			out_mem(o, "elem", 4);
			for (k = 0; k < s->n_keys; k++)
				write_value(o, &s->elems[j].v[k]);
			out_c(o, '\n');
		}
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *c = &m->chains[i];

		out_puts(o, "chain");
		write_str(o, c->name);
		out_puts(o, " hook ");
		write_name(o, hook_names, ARRAY_SIZE(hook_names), c->hook);
		out_puts(o, " priority ");
		out_i(o, c->priority);
		out_puts(o, " policy ");
		write_name(o, verdict_names, ARRAY_SIZE(verdict_names), c->policy);
		out_c(o, '\n');
		for (j = 0; j < c->n_rules; j++) {
			const struct mrule *r = &c->rules[j];

			out_puts(o, "rule verdict ");
			write_name(o, verdict_names, ARRAY_SIZE(verdict_names),
				   r->verdict);
			out_puts(o, r->counter ? " counter 1 log" : " counter 0 log");
			write_str(o, r->log_prefix);
			out_puts(o, " comment");
			write_str(o, r->comment);
			out_puts(o, " label");
			write_str(o, r->origin_name);
			out_c(o, '\n');
			for (l = 0; l < r->n_matches; l++) {
				const struct match *mt = &r->matches[l];

				out_puts(o, "match ");
				write_name(o, key_names, ARRAY_SIZE(key_names),
					   mt->key);
				out_puts(o, mt->negate ? " negate 1 set " :
					 " negate 0 set ");
				out_i(o, mt->set);
				out_puts(o, " family ");
				out_u(o, mt->family);
				out_puts(o, " value");
				write_value(o, &mt->value);
				if (mt->mask) {
					out_puts(o, " mask ");
					out_u(o, mt->mask);
				}
				out_c(o, '\n');
			}
		}
	}
	out_puts(o, "end\n");
}

int model_write(const struct model *m, FILE *f)
{
	struct out *o = xmalloc(sizeof(*o));
	bool err;

	o->f = f;
	o->len = 0;
	o->err = false;
	write_model(o, m);
	out_flush(o);
	err = o->err;
	free(o);
	return err || ferror(f) ? -EIO : 0;
}

/* ---- reading ---------------------------------------------------------- */

struct line {
	char *tok[MAX_TOKENS];
	bool quoted[MAX_TOKENS];
	size_t n;
};

/* Split @buf in place into tokens; quoted tokens are unescaped. */
static int tokenize(char *buf, struct line *ln)
{
	char *p = buf, *w;

	ln->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			return 0;
		if (ln->n == MAX_TOKENS)
			return -EINVAL;
		ln->quoted[ln->n] = *p == '"';
		if (*p != '"') {
			ln->tok[ln->n++] = p;
			while (*p && *p != ' ' && *p != '\n' && *p != '\r')
				p++;
			if (*p)
				*p++ = '\0';
			continue;
		}
		w = ++p;
		ln->tok[ln->n++] = w;
		for (;;) {
			if (!*p)
				return -EINVAL;
			if (*p == '"') {
				p++;
				break;
			}
			if (*p != '\\') {
				*w++ = *p++;
				continue;
			}
			p++;
			if (*p == '"' || *p == '\\') {
				*w++ = *p++;
			} else if (*p == 'x') {
				char hex[3] = { 0 };
				char *end;
				unsigned long v;

				if (!p[1] || !p[2])
					return -EINVAL;
				hex[0] = p[1];
				hex[1] = p[2];
				v = strtoul(hex, &end, 16);
				if (*end || !v)
					return -EINVAL;
				*w++ = (char)v;
				p += 3;
			} else {
				return -EINVAL;
			}
		}
		*w = '\0';
		if (*p && *p != ' ' && *p != '\n' && *p != '\r')
			return -EINVAL;
	}
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	long v;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < -2147483647L - 1 || v > 2147483647L)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "0") || !strcmp(s, "1")) {
		*out = s[0] == '1';
		return 0;
	}
	return -EINVAL;
}

/* A "-" or a quoted string; @out gets an owned copy or NULL. */
static int parse_str(const struct line *ln, size_t i, char **out)
{
	if (!ln->quoted[i]) {
		if (strcmp(ln->tok[i], "-"))
			return -EINVAL;
		*out = NULL;
		return 0;
	}
	*out = xstrdup(ln->tok[i]);
	return 0;
}

/* Decimal digits at *@p, at most @max; *@p is left after them. No sign,
 * no blanks: sscanf() accepted both and cost a tenth of a rollback. */
static int parse_dec(const char **p, uint32_t max, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s++ - '0');
		if (v > max)
			return -EINVAL;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_prefix(const char *s, struct cidr *c)
{
	uint32_t fam, plen;
	size_t len, i;

	memset(c, 0, sizeof(*c));
	if (!strcmp(s, "-"))
		return 0;
	if (parse_dec(&s, 255, &fam) < 0 || *s++ != '/' ||
	    parse_dec(&s, 255, &plen) < 0 || *s++ != '/')
		return -EINVAL;
	if (fam != 4 && fam != 6)
		return -EINVAL;
	len = fam == 4 ? 4 : 16;
	if (plen > len * 8)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int hi = hex_digit(s[2 * i]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = hex_digit(s[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		c->addr[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2 * len])
		return -EINVAL;
	c->family = (uint8_t)fam;
	c->plen = (uint8_t)plen;
	return 0;
}

/* Four tokens from @i: NUM LO-HI PREFIX STR. */
static int parse_value(const struct line *ln, size_t i, struct mvalue *v)
{
	const char *p;
	uint32_t lo, hi;

	memset(v, 0, sizeof(*v));
	if (i + 4 > ln->n || ln->quoted[i] || ln->quoted[i + 1] ||
	    ln->quoted[i + 2])
		return -EINVAL;
	p = ln->tok[i];
	if (parse_dec(&p, UINT32_MAX, &v->num) < 0 || *p)
		return -EINVAL;
	p = ln->tok[i + 1];
	if (parse_dec(&p, 65535, &lo) < 0 || *p++ != '-' ||
	    parse_dec(&p, 65535, &hi) < 0 || *p)
		return -EINVAL;
	v->range.lo = (uint16_t)lo;
	v->range.hi = (uint16_t)hi;
	if (parse_prefix(ln->tok[i + 2], &v->prefix) < 0)
		return -EINVAL;
	return parse_str(ln, i + 3, &v->str);
}

/* Does token @i read @word (unquoted)? */
static bool is_word(const struct line *ln, size_t i, const char *word)
{
	return i < ln->n && !ln->quoted[i] && !strcmp(ln->tok[i], word);
}

static int read_set(struct model *m, const struct line *ln)
{
	struct mset *s;
	uint32_t fam;
	size_t k;
	int key;

	/* set "NAME" family F interval B keys K... */
	if (ln->n < 8 || ln->n > 7 + MSET_MAX_KEYS || !ln->quoted[1] ||
	    !is_word(ln, 2, "family") || !is_word(ln, 4, "interval") ||
	    !is_word(ln, 6, "keys"))
		return -EINVAL;
	if (parse_u32(ln->tok[3], &fam) < 0 || fam > 255)
		return -EINVAL;
	s = model_add_set(m, ln->tok[1]);
	if (!s)
		return -ENOMEM;
	s->family = (uint8_t)fam;
	if (parse_bool(ln->tok[5], &s->interval) < 0)
		return -EINVAL;
	s->n_keys = 0;
	for (k = 7; k < ln->n; k++) {
		key = name_index(key_names, ARRAY_SIZE(key_names), ln->tok[k]);
		if (key < 0 || ln->quoted[k])
			return -EINVAL;
		s->keys[s->n_keys++] = (enum match_key)key;
	}
	return 0;
}

static int read_elem(struct model *m, const struct line *ln)
{
	struct melem *e;
	struct mset *s;
	size_t k;
	int ret;

	if (!m->n_sets)
		return -EINVAL;
	s = &m->sets[m->n_sets - 1];
	if (ln->n != 1 + 4 * s->n_keys)
		return -EINVAL;
	e = mset_add_elem(s);
	if (!e)
		return -ENOMEM;
	for (k = 0; k < MSET_MAX_KEYS; k++)
		memset(&e->v[k], 0, sizeof(e->v[k]));
	e->origin = NULL;
	for (k = 0; k < s->n_keys; k++) {
		ret = parse_value(ln, 1 + 4 * k, &e->v[k]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int read_chain(struct model *m, const struct line *ln)
{
	int hook, policy, prio;

	/* chain "NAME" hook H priority P policy V */
	if (ln->n != 8 || !ln->quoted[1] || !is_word(ln, 2, "hook") ||
	    !is_word(ln, 4, "priority") || !is_word(ln, 6, "policy"))
		return -EINVAL;
	hook = name_index(hook_names, ARRAY_SIZE(hook_names), ln->tok[3]);
	policy = name_index(verdict_names, ARRAY_SIZE(verdict_names), ln->tok[7]);
	if (hook < 0 || policy < 0 || parse_int(ln->tok[5], &prio) < 0)
		return -EINVAL;
	if (!model_add_chain(m, ln->tok[1], (enum mhook)hook, prio,
			     (enum mverdict)policy))
		return -ENOMEM;
	return 0;
}

static int read_rule(struct model *m, const struct line *ln)
{
	struct mchain *c;
	struct mrule *r;
	char *label = NULL;
	int verdict, ret, idx;

	/* rule verdict V counter B log S comment S label S */
	if (!m->n_chains || ln->n != 11 || !is_word(ln, 1, "verdict") ||
	    !is_word(ln, 3, "counter") || !is_word(ln, 5, "log") ||
	    !is_word(ln, 7, "comment") || !is_word(ln, 9, "label"))
		return -EINVAL;
	verdict = name_index(verdict_names, ARRAY_SIZE(verdict_names), ln->tok[2]);
	if (verdict < 0)
		return -EINVAL;
	c = &m->chains[m->n_chains - 1];
	r = mchain_add_rule(c);
	if (!r)
		return -ENOMEM;
	r->verdict = (enum mverdict)verdict;
	if (parse_bool(ln->tok[4], &r->counter) < 0)
		return -EINVAL;
	ret = parse_str(ln, 6, &r->log_prefix);
	if (!ret)
		ret = parse_str(ln, 8, &r->comment);
	if (!ret)
		ret = parse_str(ln, 10, &label);
	if (ret < 0)
		return ret;
	if (label) {
		idx = name_index(builtin_labels, ARRAY_SIZE(builtin_labels), label);
		r->origin_name = idx >= 0 ? builtin_labels[idx] : NULL;
		free(label);
	}
	return 0;
}

static int read_match(struct model *m, const struct line *ln)
{
	struct mchain *c;
	struct mrule *r;
	struct match *mt;
	uint32_t fam, mask = 0;
	int key, set;

	/* match K negate B set S family F value V V V V [mask M] */
	if (ln->n == 15 && (!is_word(ln, 13, "mask") ||
			    parse_u32(ln->tok[14], &mask) < 0 || !mask ||
			    mask > 128))
		return -EINVAL;
	if (!m->n_chains || (ln->n != 13 && ln->n != 15) ||
	    !is_word(ln, 2, "negate") ||
	    !is_word(ln, 4, "set") || !is_word(ln, 6, "family") ||
	    !is_word(ln, 8, "value"))
		return -EINVAL;
	c = &m->chains[m->n_chains - 1];
	if (!c->n_rules)
		return -EINVAL;
	r = &c->rules[c->n_rules - 1];
	key = name_index(key_names, ARRAY_SIZE(key_names), ln->tok[1]);
	if (key < 0 || parse_int(ln->tok[5], &set) < 0 ||
	    parse_u32(ln->tok[7], &fam) < 0 || fam > 255)
		return -EINVAL;
	if (set < -1 || (set >= 0 && (size_t)set >= m->n_sets))
		return -EINVAL;
	mt = mrule_add_match(r, (enum match_key)key);
	if (!mt)
		return -ENOMEM;
	mt->key = (enum match_key)key;
	mt->set = set;
	mt->family = (uint8_t)fam;
	mt->mask = (uint8_t)mask;
	if (parse_bool(ln->tok[3], &mt->negate) < 0)
		return -EINVAL;
	free(mt->value.str);
	return parse_value(ln, 9, &mt->value);
}

int model_read(FILE *f, struct model **out)
{
	struct model *m = NULL;
	struct line ln;
	char *buf = NULL;
	size_t cap = 0;
	bool ended = false;
	int ret = -EINVAL;

	*out = NULL;
	if (getline(&buf, &cap, f) < 0)
		goto eof;
	if (tokenize(buf, &ln) < 0 || ln.n != 2 || !is_word(&ln, 0, "model") ||
	    strcmp(ln.tok[1], "1"))
		goto out;
	if (getline(&buf, &cap, f) < 0)
		goto eof;
	if (tokenize(buf, &ln) < 0 || ln.n != 2 || !is_word(&ln, 0, "table") ||
	    !ln.quoted[1] || !ln.tok[1][0])
		goto out;
	m = model_new(ln.tok[1]);
	if (!m) {
		ret = -ENOMEM;
		goto out;
	}
	while (getline(&buf, &cap, f) >= 0) {
		ret = -EINVAL;
		if (tokenize(buf, &ln) < 0 || !ln.n || ln.quoted[0])
			goto out;
		if (!strcmp(ln.tok[0], "end")) {
			ended = ln.n == 1;
			break;
		}
		if (!strcmp(ln.tok[0], "set"))
			ret = read_set(m, &ln);
		else if (!strcmp(ln.tok[0], "elem"))
			ret = read_elem(m, &ln);
		else if (!strcmp(ln.tok[0], "chain"))
			ret = read_chain(m, &ln);
		else if (!strcmp(ln.tok[0], "rule"))
			ret = read_rule(m, &ln);
		else if (!strcmp(ln.tok[0], "match"))
			ret = read_match(m, &ln);
		else
			ret = -EINVAL;
		if (ret < 0)
			goto out;
	}
	if (!ended) {
		ret = ferror(f) ? -EIO : -EINVAL;
		goto out;
	}
	*out = m;
	m = NULL;
	ret = 0;
	goto out;
eof:
	ret = ferror(f) ? -EIO : -EINVAL;
out:
	model_free(m);
	free(buf);
	return ret;
}
