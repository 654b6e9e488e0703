// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading monitor's JSON events back (learn --events): a bounded parser for
 * one flat JSON object a line. Every read checks the end of the buffer;
 * nested values are skipped with a depth limit; strings are decoded into
 * fixed buffers and refused when they do not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mon_event.h"
#include "util.h"

#define MAX_DEPTH 16

struct rd {
	const char *p, *end;
};

static void ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\r' ||
				 *r->p == '\n'))
		r->p++;
}

/*
 * A string at r->p (the opening quote). Into @out (size @cap, NUL
 * terminated) when @out is not NULL; -EINVAL when malformed or too long.
 * \uXXXX outside ASCII and control characters become '?': what is kept is
 * matched and printed, never executed.
 */
static int str(struct rd *r, char *out, size_t cap)
{
	size_t n = 0;

	if (r->p >= r->end || *r->p != '"')
		return -EINVAL;
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p++;

		if (c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (r->p >= r->end)
				return -EINVAL;
			c = (unsigned char)*r->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': case 'f': case 'n': case 'r': case 't':
				c = '?';
				break;
			case 'u': {
				int v = 0, k, h;

				if (r->end - r->p < 4)
					return -EINVAL;
				for (k = 0; k < 4; k++) {
					h = hex_value(r->p[k]);
					if (h < 0)
						return -EINVAL;
					v = v * 16 + h;
				}
				r->p += 4;
				c = v >= 0x20 && v < 0x7f ? (unsigned char)v : '?';
				break;
			}
			default:
				return -EINVAL;
			}
		} else if (c >= 0x7f) {
			c = '?';
		}
		if (out) {
			if (n + 1 >= cap)
				return -EINVAL;
			out[n++] = (char)c;
		}
	}
	if (r->p >= r->end)
		return -EINVAL;
	r->p++;
	if (out)
		out[n] = '\0';
	return 0;
}

/* a number, true, false or null: the bare word's extent */
static int word(struct rd *r, const char **s, size_t *len)
{
	const char *b = r->p;

	while (r->p < r->end && (strchr("+-.eE", *r->p) ||
				 (*r->p >= '0' && *r->p <= '9') ||
				 (*r->p >= 'a' && *r->p <= 'z')))
		r->p++;
	*s = b;
	*len = (size_t)(r->p - b);
	return *len ? 0 : -EINVAL;
}

/* skip any value, nested ones to MAX_DEPTH */
static int skip(struct rd *r, int depth)
{
	const char *s;
	size_t len;

	ws(r);
	if (r->p >= r->end)
		return -EINVAL;
	if (*r->p == '"')
		return str(r, NULL, 0);
	if (*r->p == '{' || *r->p == '[') {
		char close = *r->p == '{' ? '}' : ']';

		if (depth >= MAX_DEPTH)
			return -EINVAL;
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				ws(r);
				if (str(r, NULL, 0) < 0)
					return -EINVAL;
				ws(r);
				if (r->p >= r->end || *r->p++ != ':')
					return -EINVAL;
			}
			if (skip(r, depth + 1) < 0)
				return -EINVAL;
			ws(r);
			if (r->p >= r->end)
				return -EINVAL;
			if (*r->p == close) {
				r->p++;
				return 0;
			}
			if (*r->p++ != ',')
				return -EINVAL;
		}
	}
	return word(r, &s, &len);
}

/* ["a", "b", ...]: the first MON_EVENT_MAX_ADDRS strings kept */
static int str_array(struct rd *r, struct mon_event *ev)
{
	if (r->p >= r->end || *r->p++ != '[')
		return -EINVAL;
	ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		char *dst = ev->n_addrs < MON_EVENT_MAX_ADDRS ? ev->addrs[ev->n_addrs] : NULL;

		ws(r);
		if (str(r, dst, sizeof(ev->addrs[0])) < 0)
			return -EINVAL;
		if (dst)
			ev->n_addrs++;
		ws(r);
		if (r->p >= r->end)
			return -EINVAL;
		if (*r->p == ']') {
			r->p++;
			return 0;
		}
		if (*r->p++ != ',')
			return -EINVAL;
	}
}

/* "2026-11-30T03:50:12.123456Z" (the fraction and zone optional, UTC) */
static int parse_time(const char *s, time_t *out)
{
	static const int at[] = { 0, 5, 8, 11, 14, 17 };
	static const int w[] = { 4, 2, 2, 2, 2, 2 };
	int v[6], i, k;
	struct tm tm = { 0 };

	if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':')
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (k = 0; k < w[i]; k++) {
			char c = s[at[i] + k];

			if (c < '0' || c > '9')
				return -EINVAL;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return -EINVAL;
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	*out = timegm(&tm);
	return 0;
}

int mon_event_parse(const char *buf, size_t len, struct mon_event *ev)
{
	struct rd r = { buf, buf + len };
	char key[32], tbuf[40];

	memset(ev, 0, sizeof(*ev));
	if (len > MON_EVENT_MAX_LINE)
		return -EINVAL;
	ws(&r);
	if (r.p >= r.end || *r.p++ != '{')
		return -EINVAL;
	ws(&r);
	if (r.p < r.end && *r.p == '}') {
		r.p++;
		goto tail;
	}
	for (;;) {
		char *dst = NULL;
		size_t cap = 0;

		ws(&r);
		if (str(&r, key, sizeof(key)) < 0) {
			/* monitor's keys are short: a longer one is not its line */
			return -EINVAL;
		}
		ws(&r);
		if (r.p >= r.end || *r.p++ != ':')
			return -EINVAL;
		ws(&r);
		if (!strcmp(key, "kind"))
			dst = ev->kind, cap = sizeof(ev->kind);
		else if (!strcmp(key, "dir"))
			dst = ev->dir, cap = sizeof(ev->dir);
		else if (!strcmp(key, "proto"))
			dst = ev->proto, cap = sizeof(ev->proto);
		else if (!strcmp(key, "src"))
			dst = ev->src, cap = sizeof(ev->src);
		else if (!strcmp(key, "dst"))
			dst = ev->dst, cap = sizeof(ev->dst);
		else if (!strcmp(key, "comm"))
			dst = ev->comm, cap = sizeof(ev->comm);
		else if (!strcmp(key, "cgroup"))
			dst = ev->cgroup, cap = sizeof(ev->cgroup);
		else if (!strcmp(key, "time"))
			dst = tbuf, cap = sizeof(tbuf);
		else if (!strcmp(key, "name"))
			dst = ev->name, cap = sizeof(ev->name);
		if (r.p < r.end && *r.p == 'n' && r.end - r.p >= 4 &&
		    !memcmp(r.p, "null", 4)) {
			r.p += 4;	/* null: the field is absent */
		} else if (dst) {
			if (str(&r, dst, cap) < 0)
				return -EINVAL;
			if (dst == tbuf) {
				if (parse_time(tbuf, &ev->time) < 0)
					return -EINVAL;
				ev->has_time = true;
			}
		} else if (!strcmp(key, "addresses")) {
			if (str_array(&r, ev) < 0)
				return -EINVAL;
		} else if (!strcmp(key, "uid")) {
			const char *s;
			size_t n, i;
			uint64_t v = 0;

			if (word(&r, &s, &n) < 0 || n > 10)
				return -EINVAL;
			for (i = 0; i < n; i++) {
				if (s[i] < '0' || s[i] > '9')
					return -EINVAL;
				v = v * 10 + (uint64_t)(s[i] - '0');
			}
			if (v > 0xfffffffeu)
				return -EINVAL;
			ev->uid = (uint32_t)v;
			ev->has_uid = true;
		} else if (skip(&r, 1) < 0) {
			return -EINVAL;
		}
		ws(&r);
		if (r.p >= r.end)
			return -EINVAL;
		if (*r.p == '}') {
			r.p++;
			break;
		}
		if (*r.p++ != ',')
			return -EINVAL;
	}
tail:
	ws(&r);
	if (r.p != r.end)
		return -EINVAL;
	/* monitor writes "/system.slice/x.service"; policies say it without */
	if (ev->cgroup[0] == '/')
		memmove(ev->cgroup, ev->cgroup + 1, strlen(ev->cgroup));
	return 0;
}
