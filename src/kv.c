// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The line format of portwarden's records (see kv.h): a buffered writer
 * and a tokenizing reader, shared by the rollback record (state.c) and the
 * ruleset model inside it (model_io.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "kv.h"
#include "util.h"

/* ---- writing ---------------------------------------------------------- */

#define OUT_CHUNK (64u * 1024)

struct kv_writer {
	FILE *f;
	char buf[OUT_CHUNK + 256];	/* room for one field past the mark */
	size_t len;
	int err;		/* the first failure, a negative errno */
};

struct kv_writer *kv_writer_new(FILE *f)
{
	struct kv_writer *w = xmalloc(sizeof(*w));

	w->f = f;
	w->len = 0;
	w->err = 0;
	return w;
}

static void out_flush(struct kv_writer *w)
{
	if (w->len) {
		errno = 0;
		if (fwrite(w->buf, 1, w->len, w->f) != w->len && !w->err)
			w->err = errno ? -errno : -EIO;
	}
	w->len = 0;
}

int kv_writer_finish(struct kv_writer *w)
{
	int err;

	if (!w)
		return 0;
	out_flush(w);
	err = w->err;
	if (!err && ferror(w->f))
		err = -EIO;
	free(w);
	return err;
}

/* Call before each field of at most 128 bytes. */
static void out_room(struct kv_writer *w)
{
	if (w->len >= OUT_CHUNK)
		out_flush(w);
}

void kv_put(struct kv_writer *w, const char *s, size_t n)
{
	while (n) {
		size_t k;

		out_room(w);
		k = sizeof(w->buf) - w->len;
		if (k > n)
			k = n;
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		s += k;
		n -= k;
	}
}

void kv_puts(struct kv_writer *w, const char *s)
{
	kv_put(w, s, strlen(s));
}

void kv_putc(struct kv_writer *w, char c)
{
	out_room(w);
	w->buf[w->len++] = c;
}

void kv_put_u64(struct kv_writer *w, uint64_t v)
{
	char tmp[24];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_room(w);
	while (n)
		w->buf[w->len++] = tmp[--n];
}

void kv_put_i64(struct kv_writer *w, int64_t v)
{
	if (v < 0) {
		kv_putc(w, '-');
		kv_put_u64(w, (uint64_t)0 - (uint64_t)v);
		return;
	}
	kv_put_u64(w, (uint64_t)v);
}

static const char hex_digits[] = "0123456789abcdef";

void kv_put_hex(struct kv_writer *w, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out_room(w);
		w->buf[w->len++] = hex_digits[p[i] >> 4];
		w->buf[w->len++] = hex_digits[p[i] & 15];
	}
}

void kv_put_str(struct kv_writer *w, const char *s)
{
	const unsigned char *p;

	if (!s) {
		kv_put(w, " -", 2);
		return;
	}
	kv_put(w, " \"", 2);
	for (p = (const unsigned char *)s; *p; p++) {
		out_room(w);
		if (*p == '"' || *p == '\\') {
			w->buf[w->len++] = '\\';
			w->buf[w->len++] = (char)*p;
		} else if (*p < 0x21 || *p > 0x7e) {
			w->buf[w->len++] = '\\';
			w->buf[w->len++] = 'x';
			w->buf[w->len++] = hex_digits[*p >> 4];
			w->buf[w->len++] = hex_digits[*p & 15];
		} else {
			w->buf[w->len++] = (char)*p;
		}
	}
	kv_putc(w, '"');
}

/* ---- reading ---------------------------------------------------------- */

void kv_reader_init(struct kv_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
}

void kv_reader_release(struct kv_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	r->buf = NULL;
	r->cap = 0;
}

/* Split @buf in place into tokens; quoted tokens are unescaped. */
static int tokenize(char *buf, struct kv_line *ln)
{
	char *p = buf, *w;

	ln->n = 0;
	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			return 0;
		if (ln->n == KV_MAX_TOKENS)
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
				int hi, lo;

				if (!p[1] || !p[2])
					return -EINVAL;
				hi = hex_value(p[1]);
				lo = hex_value(p[2]);
				if (hi < 0 || lo < 0 || !(hi | lo))
					return -EINVAL;
				*w++ = (char)(hi << 4 | lo);
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

int kv_read_line(struct kv_reader *r)
{
	ssize_t n;

	r->line.n = 0;
	n = getline(&r->buf, &r->cap, r->f);
	if (n < 0)
		return ferror(r->f) ? -EIO : -ENODATA;
	/* a NUL inside the line would hide the rest of it */
	if (memchr(r->buf, '\0', (size_t)n))
		return -EINVAL;
	if (tokenize(r->buf, &r->line) < 0 || !r->line.n ||
	    r->line.quoted[0])
		return -EINVAL;
	return 0;
}

bool kv_is_word(const struct kv_line *ln, size_t i, const char *word)
{
	return i < ln->n && !ln->quoted[i] && !strcmp(ln->tok[i], word);
}

int kv_parse_dec(const char **p, uint32_t max, uint32_t *out)
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

int kv_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (uint64_t)(*s - '0');
		if (v > (max - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

int kv_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	uint64_t mag;

	if (*s == '-') {
		if (kv_parse_u64(s + 1, (uint64_t)0 - (uint64_t)min, &mag) < 0 ||
		    min >= 0)
			return -EINVAL;
		*out = (int64_t)((uint64_t)0 - mag);
		return 0;
	}
	if (max < 0 || kv_parse_u64(s, (uint64_t)max, &mag) < 0)
		return -EINVAL;
	*out = (int64_t)mag;
	return 0;
}

int kv_parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "0") || !strcmp(s, "1")) {
		*out = s[0] == '1';
		return 0;
	}
	return -EINVAL;
}

int kv_parse_str(const struct kv_line *ln, size_t i, char **out)
{
	*out = NULL;
	if (i >= ln->n)
		return -EINVAL;
	if (!ln->quoted[i])
		return strcmp(ln->tok[i], "-") ? -EINVAL : 0;
	*out = xstrdup(ln->tok[i]);
	return 0;
}
