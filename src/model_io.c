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

#include "kv.h"
#include "model_io.h"
#include "util.h"

#define MODEL_IO_VERSION 1

/* the longest line: match K negate B set S family F value V V V V mask M */
_Static_assert(KV_MAX_TOKENS >= 16 + 4 * MSET_MAX_KEYS, "kv lines too short");

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
	[MV_QUEUE] = "queue",	/* written "queue:N" (the queue number) */
};

static const char *const hook_names[] = {
	[HOOK_INPUT] = "input",
	[HOOK_OUTPUT] = "output",
};

/* The labels eval reports for built-in rules; origin_name points at one of
 * these after a read, as it points at a literal after compile. */
static const char *const builtin_labels[] = {
	"established", "loopback", "icmp", "default", "dns-queue",
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

static void write_value(struct kv_writer *o, const struct mvalue *v)
{
	kv_putc(o, ' ');
	kv_put_u64(o, v->num);
	kv_putc(o, ' ');
	kv_put_u64(o, v->range.lo);
	kv_putc(o, '-');
	kv_put_u64(o, v->range.hi);
	if (v->prefix.family == 4 || v->prefix.family == 6) {
		kv_putc(o, ' ');
		kv_put_u64(o, v->prefix.family);
		kv_putc(o, '/');
		kv_put_u64(o, v->prefix.plen);
		kv_putc(o, '/');
		kv_put_hex(o, v->prefix.addr, v->prefix.family == 4 ? 4 : 16);
	} else {
		kv_put(o, " -", 2);
	}
	kv_put_str(o, v->str);
}

static void write_name(struct kv_writer *o, const char *const *names, size_t n,
		       unsigned int i)
{
	char nb[16];

	kv_puts(o, name_of(names, n, i, nb, sizeof(nb)));
}

static void write_model(struct kv_writer *o, const struct model *m)
{
	size_t i, j, k, l;

	kv_puts(o, "model ");
	kv_put_u64(o, MODEL_IO_VERSION);
	kv_puts(o, "\ntable");
	kv_put_str(o, m->table);
	kv_putc(o, '\n');
	for (i = 0; i < m->n_sets; i++) {
		const struct mset *s = &m->sets[i];

		kv_puts(o, "set");
		kv_put_str(o, s->name);
		kv_puts(o, " family ");
		kv_put_u64(o, s->family);
		kv_puts(o, s->interval ? " interval 1" : " interval 0");
		if (s->timeout)		/* absent in older records */
			kv_puts(o, " timeout 1");
		kv_puts(o, " keys");
		for (k = 0; k < s->n_keys; k++) {
			kv_putc(o, ' ');
			write_name(o, key_names, ARRAY_SIZE(key_names), s->keys[k]);
		}
		kv_putc(o, '\n');
		for (j = 0; j < s->n_elems; j++) {
			/* what portwarden daemon added lives and expires in
			 * the kernel; a restored table must not make it
			 * permanent (apply keeps the live ones) */
			if (s->elems[j].timeout_ms)
				continue;
			kv_put(o, "elem", 4);
			for (k = 0; k < s->n_keys; k++)
				write_value(o, &s->elems[j].v[k]);
			kv_putc(o, '\n');
		}
	}
	for (i = 0; i < m->n_chains; i++) {
		const struct mchain *c = &m->chains[i];

		kv_puts(o, "chain");
		kv_put_str(o, c->name);
		kv_puts(o, " hook ");
		write_name(o, hook_names, ARRAY_SIZE(hook_names), c->hook);
		kv_puts(o, " priority ");
		kv_put_i64(o, c->priority);
		kv_puts(o, " policy ");
		write_name(o, verdict_names, ARRAY_SIZE(verdict_names), c->policy);
		kv_putc(o, '\n');
		for (j = 0; j < c->n_rules; j++) {
			const struct mrule *r = &c->rules[j];

			kv_puts(o, "rule verdict ");
			write_name(o, verdict_names, ARRAY_SIZE(verdict_names),
				   r->verdict);
			if (r->verdict == MV_QUEUE) {
				kv_putc(o, ':');
				kv_put_u64(o, r->queue_num);
			}
			kv_puts(o, r->counter ? " counter 1 log" : " counter 0 log");
			kv_put_str(o, r->log_prefix);
			kv_puts(o, " comment");
			kv_put_str(o, r->comment);
			kv_puts(o, " label");
			kv_put_str(o, r->origin_name);
			if (r->nflog_prefix) {
				kv_puts(o, " nflog");
				kv_put_str(o, r->nflog_prefix);
				kv_puts(o, " group ");
				kv_put_i64(o, r->nflog_group);
			}
			kv_putc(o, '\n');
			for (l = 0; l < r->n_matches; l++) {
				const struct match *mt = &r->matches[l];

				kv_puts(o, "match ");
				write_name(o, key_names, ARRAY_SIZE(key_names),
					   mt->key);
				kv_puts(o, mt->negate ? " negate 1 set " :
					 " negate 0 set ");
				kv_put_i64(o, mt->set);
				kv_puts(o, " family ");
				kv_put_u64(o, mt->family);
				kv_puts(o, " value");
				write_value(o, &mt->value);
				if (mt->mask) {
					kv_puts(o, " mask ");
					kv_put_u64(o, mt->mask);
				}
				kv_putc(o, '\n');
			}
		}
	}
	kv_puts(o, "end\n");
}

void model_write_kv(struct kv_writer *w, const struct model *m)
{
	write_model(w, m);
}

int model_write(const struct model *m, FILE *f)
{
	struct kv_writer *w = kv_writer_new(f);

	write_model(w, m);
	return kv_writer_finish(w);
}

/* ---- reading ---------------------------------------------------------- */

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (kv_parse_u64(s, UINT32_MAX, &v) < 0)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_int(const char *s, int *out)
{
	int64_t v;

	if (kv_parse_i64(s, INT32_MIN, INT32_MAX, &v) < 0)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_prefix(const char *s, struct cidr *c)
{
	uint32_t fam, plen;
	size_t len, i;

	memset(c, 0, sizeof(*c));
	if (!strcmp(s, "-"))
		return 0;
	if (kv_parse_dec(&s, 255, &fam) < 0 || *s++ != '/' ||
	    kv_parse_dec(&s, 255, &plen) < 0 || *s++ != '/')
		return -EINVAL;
	if (fam != 4 && fam != 6)
		return -EINVAL;
	len = fam == 4 ? 4 : 16;
	if (plen > len * 8)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int hi = hex_value(s[2 * i]), lo;

		if (hi < 0)
			return -EINVAL;
		lo = hex_value(s[2 * i + 1]);
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
static int parse_value(const struct kv_line *ln, size_t i, struct mvalue *v)
{
	const char *p;
	uint32_t lo, hi;

	memset(v, 0, sizeof(*v));
	if (i + 4 > ln->n || ln->quoted[i] || ln->quoted[i + 1] ||
	    ln->quoted[i + 2])
		return -EINVAL;
	p = ln->tok[i];
	if (kv_parse_dec(&p, UINT32_MAX, &v->num) < 0 || *p)
		return -EINVAL;
	p = ln->tok[i + 1];
	if (kv_parse_dec(&p, 65535, &lo) < 0 || *p++ != '-' ||
	    kv_parse_dec(&p, 65535, &hi) < 0 || *p)
		return -EINVAL;
	v->range.lo = (uint16_t)lo;
	v->range.hi = (uint16_t)hi;
	if (parse_prefix(ln->tok[i + 2], &v->prefix) < 0)
		return -EINVAL;
	return kv_parse_str(ln, i + 3, &v->str);
}

static int read_set(struct model *m, const struct kv_line *ln)
{
	struct mset *s;
	uint32_t fam;
	size_t k;
	int key;

	/* set "NAME" family F interval B [timeout B] keys K... */
	size_t kw = ln->n > 6 && kv_is_word(ln, 6, "timeout") ? 8 : 6;

	if (ln->n < kw + 2 || ln->n > kw + 1 + MSET_MAX_KEYS || !ln->quoted[1] ||
	    !kv_is_word(ln, 2, "family") || !kv_is_word(ln, 4, "interval") ||
	    !kv_is_word(ln, kw, "keys"))
		return -EINVAL;
	if (parse_u32(ln->tok[3], &fam) < 0 || fam > 255)
		return -EINVAL;
	/* the kernel has one set of a name, and model_equal() looks sets up
	 * by name */
	if (model_find_set(m, ln->tok[1]) >= 0)
		return -EINVAL;
	s = model_add_set(m, ln->tok[1]);
	if (!s)
		return -ENOMEM;
	s->family = (uint8_t)fam;
	if (kv_parse_bool(ln->tok[5], &s->interval) < 0)
		return -EINVAL;
	if (kw == 8 && kv_parse_bool(ln->tok[7], &s->timeout) < 0)
		return -EINVAL;
	s->n_keys = 0;
	for (k = kw + 1; k < ln->n; k++) {
		key = name_index(key_names, ARRAY_SIZE(key_names), ln->tok[k]);
		if (key < 0 || ln->quoted[k])
			return -EINVAL;
		s->keys[s->n_keys++] = (enum match_key)key;
	}
	return 0;
}

static int read_elem(struct model *m, const struct kv_line *ln)
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

static int read_chain(struct model *m, const struct kv_line *ln)
{
	int hook, policy, prio;

	/* chain "NAME" hook H priority P policy V */
	if (ln->n != 8 || !ln->quoted[1] || !kv_is_word(ln, 2, "hook") ||
	    !kv_is_word(ln, 4, "priority") || !kv_is_word(ln, 6, "policy"))
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

static int read_rule(struct model *m, const struct kv_line *ln)
{
	struct mchain *c;
	struct mrule *r;
	char *label = NULL;
	int verdict, ret, idx, queue = -1;

	/* rule verdict V counter B log S comment S label S [nflog S group N]
	 * (records written before NFLOG have no nflog) */
	if (!m->n_chains || (ln->n != 11 && ln->n != 15) || !kv_is_word(ln, 1, "verdict") ||
	    !kv_is_word(ln, 3, "counter") || !kv_is_word(ln, 5, "log") ||
	    !kv_is_word(ln, 7, "comment") || !kv_is_word(ln, 9, "label"))
		return -EINVAL;
	if (!strncmp(ln->tok[2], "queue:", 6)) {
		char *end;
		unsigned long q = strtoul(ln->tok[2] + 6, &end, 10);

		if (ln->tok[2][6] < '0' || ln->tok[2][6] > '9' || *end ||
		    q > 65535)
			return -EINVAL;
		queue = (int)q;
		verdict = MV_QUEUE;
	} else {
		verdict = name_index(verdict_names, ARRAY_SIZE(verdict_names),
				     ln->tok[2]);
	}
	if (verdict < 0 || (verdict == MV_QUEUE && queue < 0))
		return -EINVAL;
	c = &m->chains[m->n_chains - 1];
	r = mchain_add_rule(c);
	if (!r)
		return -ENOMEM;
	r->verdict = (enum mverdict)verdict;
	r->queue_num = (uint16_t)(queue < 0 ? 0 : queue);
	if (kv_parse_bool(ln->tok[4], &r->counter) < 0)
		return -EINVAL;
	ret = kv_parse_str(ln, 6, &r->log_prefix);
	if (!ret)
		ret = kv_parse_str(ln, 8, &r->comment);
	if (!ret)
		ret = kv_parse_str(ln, 10, &label);
	if (!ret && ln->n == 15) {
		int64_t g = 0;

		if (!kv_is_word(ln, 11, "nflog") || !kv_is_word(ln, 13, "group") ||
		    kv_parse_i64(ln->tok[14], 0, 65535, &g) < 0)
			ret = -EINVAL;
		else
			ret = kv_parse_str(ln, 12, &r->nflog_prefix);
		r->nflog_group = (uint16_t)g;
	}
	if (ret < 0) {
		free(label);
		return ret;
	}
	if (label) {
		idx = name_index(builtin_labels, ARRAY_SIZE(builtin_labels), label);
		r->origin_name = idx >= 0 ? builtin_labels[idx] : NULL;
		free(label);
	}
	return 0;
}

static int read_match(struct model *m, const struct kv_line *ln)
{
	struct mchain *c;
	struct mrule *r;
	struct match *mt;
	uint32_t fam, mask = 0;
	int key, set;

	/* match K negate B set S family F value V V V V [mask M] */
	if (ln->n == 15 && (!kv_is_word(ln, 13, "mask") ||
			    parse_u32(ln->tok[14], &mask) < 0 || !mask ||
			    mask > 128))
		return -EINVAL;
	if (!m->n_chains || (ln->n != 13 && ln->n != 15) ||
	    !kv_is_word(ln, 2, "negate") ||
	    !kv_is_word(ln, 4, "set") || !kv_is_word(ln, 6, "family") ||
	    !kv_is_word(ln, 8, "value"))
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
	if (kv_parse_bool(ln->tok[3], &mt->negate) < 0)
		return -EINVAL;
	free(mt->value.str);
	return parse_value(ln, 9, &mt->value);
}

int model_read_kv(struct kv_reader *r, struct model **out)
{
	const struct kv_line *ln = &r->line;
	struct model *m = NULL;
	int ret;

	*out = NULL;
	ret = kv_read_line(r);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	if (ln->n != 2 || !kv_is_word(ln, 0, "model") || strcmp(ln->tok[1], "1"))
		goto out;
	ret = kv_read_line(r);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	if (ln->n != 2 || !kv_is_word(ln, 0, "table") || !ln->quoted[1] ||
	    !ln->tok[1][0])
		goto out;
	m = model_new(ln->tok[1]);
	if (!m) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		ret = kv_read_line(r);
		if (ret < 0)
			goto out;
		if (!strcmp(ln->tok[0], "end")) {
			ret = ln->n == 1 ? 0 : -EINVAL;
			break;
		}
		if (!strcmp(ln->tok[0], "set"))
			ret = read_set(m, ln);
		else if (!strcmp(ln->tok[0], "elem"))
			ret = read_elem(m, ln);
		else if (!strcmp(ln->tok[0], "chain"))
			ret = read_chain(m, ln);
		else if (!strcmp(ln->tok[0], "rule"))
			ret = read_rule(m, ln);
		else if (!strcmp(ln->tok[0], "match"))
			ret = read_match(m, ln);
		else
			ret = -EINVAL;
		if (ret < 0)
			goto out;
	}
	if (!ret) {
		*out = m;
		m = NULL;
	}
out:
	if (ret == -ENODATA)	/* cut short before "end" */
		ret = -EINVAL;
	model_free(m);
	return ret;
}

int model_read(FILE *f, struct model **out)
{
	struct kv_reader r;
	int ret;

	kv_reader_init(&r, f);
	ret = model_read_kv(&r, out);
	kv_reader_release(&r);
	return ret;
}
