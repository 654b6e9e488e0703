// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * NFLOG prefixes that name a rule: see include/logprefix.h for the format.
 * Written by the compiler (and the staging compiler), read by `monitor`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "logprefix.h"
#include "util.h"

static const char *const verdict_words[] = {
	[VERDICT_ACCEPT] = "accept",
	[VERDICT_DROP] = "drop",
	[VERDICT_REJECT] = "reject",
};

static bool plain_byte(unsigned char c, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	if (c == ':')
		return colon;
	return strchr("._/@+=,-", c) != NULL && c != '\0';
}

/* Escape @s into @out (room for @cap bytes with the NUL); return length. */
static size_t escape(const char *s, bool colon, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (plain_byte(c, colon)) {
			if (n + 1 >= cap)
				break;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= cap)
				break;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

/* The longest prefix of the escaped @s no longer than @max, not cutting
 * a %XX in two. */
static size_t escaped_cut(const char *s, size_t max)
{
	size_t i = 0;

	while (s[i]) {
		size_t w = s[i] == '%' ? 3 : 1;

		if (i + w > max)
			break;
		i += w;
	}
	return i;
}

size_t logprefix_format(const struct log_id *id, char *buf)
{
	char name[3 * LOGPREFIX_NAME_MAX + 1], at[3 * LOGPREFIX_AT_MAX + 1];
	char head[32], tail[16] = "";
	size_t fixed, nlen, alen;
	int n;

	n = snprintf(head, sizeof(head), "pw1 %c %s %s ", (char)id->kind,
		     id->dir == DIR_IN ? "in" : "out",
		     verdict_words[id->verdict]);
	if (n < 0)
		head[0] = '\0';
	if (id->has_other)
		snprintf(tail, sizeof(tail), " %s", verdict_words[id->other]);
	nlen = escape(id->name[0] ? id->name : "-", false, name, sizeof(name));
	alen = id->at[0] ? escape(id->at, true, at, sizeof(at))
			 : (strcpy(at, "-"), 1);
	fixed = strlen(head) + 1 + strlen(tail);
	if (fixed + nlen + alen > LOGPREFIX_MAX && id->at[0]) {
		const char *base = strrchr(id->at, '/');

		if (base)
			alen = escape(base + 1, true, at, sizeof(at));
	}
	/* Keep at least "x%~" of the name; an AT that leaves no room for it
	 * is dropped. */
	if (fixed + alen + 3 > LOGPREFIX_MAX) {
		strcpy(at, "-");
		alen = 1;
	}
	if (fixed + nlen + alen > LOGPREFIX_MAX) {
		nlen = escaped_cut(name, LOGPREFIX_MAX - fixed - alen - 2);
		memcpy(name + nlen, "%~", 3);
		nlen += 2;
	}
	n = snprintf(buf, LOGPREFIX_MAX + 1, "%s%s %s%s", head, name, at, tail);
	return n < 0 ? 0 : strlen(buf);
}

static int parse_verdict(const char *s, size_t len, enum verdict *v)
{
	for (size_t i = 0; i < sizeof(verdict_words) / sizeof(*verdict_words);
	     i++)
		if (strlen(verdict_words[i]) == len &&
		    !memcmp(verdict_words[i], s, len)) {
			*v = (enum verdict)i;
			return 0;
		}
	return -EINVAL;
}

/* Unescape @len bytes of @s into @out (@cap bytes with the NUL). */
static int unescape(const char *s, size_t len, bool colon, char *out,
		    size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -EINVAL;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (!plain_byte(c, colon)) {
			return -EINVAL;
		}
		if (n + 1 >= cap)
			return -EINVAL;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

int logprefix_parse(const char *s, size_t len, struct log_id *id)
{
	const char *tok[8];
	size_t tlen[8], nt = 0, i = 0;

	while (len > 0 && s[len - 1] == '\0')
		len--;
	if (memchr(s, '\0', len))
		return -EINVAL;
	while (i < len) {
		size_t j = i;

		while (j < len && s[j] != ' ')
			j++;
		if (j == i || nt == 8)
			return -EINVAL;
		tok[nt] = s + i;
		tlen[nt++] = j - i;
		i = j + (j < len);
		if (j < len && i == len)
			return -EINVAL;	/* trailing space */
	}
	if (nt < 6 || nt > 7 || tlen[0] != 3 || memcmp(tok[0], "pw1", 3) ||
	    tlen[1] != 1)
		return -EINVAL;
	memset(id, 0, sizeof(*id));
	switch (tok[1][0]) {
	case 'D': case 'L': case 'S':
		id->kind = (enum logprefix_kind)tok[1][0];
		break;
	default:
		return -EINVAL;
	}
	if (tlen[2] == 2 && !memcmp(tok[2], "in", 2))
		id->dir = DIR_IN;
	else if (tlen[2] == 3 && !memcmp(tok[2], "out", 3))
		id->dir = DIR_OUT;
	else
		return -EINVAL;
	if (parse_verdict(tok[3], tlen[3], &id->verdict))
		return -EINVAL;
	if (tlen[4] >= 2 && !memcmp(tok[4] + tlen[4] - 2, "%~", 2)) {
		id->name_cut = true;
		tlen[4] -= 2;
	}
	if (unescape(tok[4], tlen[4], false, id->name, sizeof(id->name)))
		return -EINVAL;
	if (!(tlen[5] == 1 && tok[5][0] == '-') &&
	    unescape(tok[5], tlen[5], true, id->at, sizeof(id->at)))
		return -EINVAL;
	if (nt == 7) {
		if (parse_verdict(tok[6], tlen[6], &id->other))
			return -EINVAL;
		id->has_other = true;
	}
	if ((id->kind == LOGPREFIX_STAGED) != id->has_other)
		return -EINVAL;
	return 0;
}
