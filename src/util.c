// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void oom(void)
{
	fputs("portwarden: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *alloc_check(void *p)
{
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom();
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void *grow_array(void *v, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 8;
	return xrealloc(v, *cap * sz);
}

unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int *row, prev, tmp, best;

	if (la > 64 || lb > 64)
		return 1000;
	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	best = row[lb];
	free(row);
	return best;
}

const char *closest_word(const char *word, const char *const *candidates,
			 size_t n)
{
	unsigned int best = 1000, d, limit;
	const char *hit = NULL;
	size_t i;

	limit = strlen(word) <= 4 ? 1 : 2;
	for (i = 0; i < n; i++) {
		d = edit_distance(word, candidates[i]);
		if (d < best) {
			best = d;
			hit = candidates[i];
		}
	}
	return best <= limit ? hit : NULL;
}

/*
 * The length of the valid UTF-8 sequence of a printable character at @p:
 * 1 for printable ASCII, 2-4 for a well-formed multi-byte sequence that is
 * not a C1 control, not a surrogate and not overlong; 0 for anything else
 * (to be escaped byte by byte).
 */
static size_t utf8_printable(const unsigned char *p)
{
	uint32_t cp;
	size_t n, i;

	if (*p >= 0x20 && *p < 0x7f)
		return 1;
	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		cp = *p & 0x1fu;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		cp = *p & 0x0fu;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		cp = *p & 0x07u;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3fu);
	}
	if (cp < 0xa0 || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void text_put(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "(null)");
	size_t n;

	while (*p) {
		n = utf8_printable(p);
		if (!n) {
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
}

char *text_escape(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		oom();
	text_put(f, s);
	if (fclose(f))
		oom();
	return buf;
}

void json_string(FILE *f, const char *s)
{
	const unsigned char *p;
	size_t n;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (p = (const unsigned char *)s; *p; ) {
		switch (*p) {
		case '"':  fputs("\\\"", f); p++; continue;
		case '\\': fputs("\\\\", f); p++; continue;
		case '\n': fputs("\\n", f); p++; continue;
		case '\t': fputs("\\t", f); p++; continue;
		case '\r': fputs("\\r", f); p++; continue;
		}
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(f, "\\u%04x", p[1]);	/* a C1 control */
			p += 2;
			continue;
		}
		n = utf8_printable(p);
		if (!n) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
	}
	fputc('"', f);
}

const char *printable_text(const char *s, char *buf)
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 ||
			  (unsigned char)s[i] > 0x7e) ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
