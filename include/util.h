/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_UTIL_H
#define PORTWARDEN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Allocation that aborts on exhaustion: a firewall tool half-built from a
 * failed malloc is worse than one that stops. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/*
 * The same habit for other libraries' allocators (libnftnl's
 * nftnl_*_alloc(), nftnl_udata_buf_alloc(), open_memstream()): their NULL
 * is out of memory, and aborts here as xmalloc() does.
 *   struct nftnl_rule *r = XALLOC(nftnl_rule_alloc());
 */
void *alloc_check(void *p);
#define XALLOC(expr) ((__typeof__(expr))alloc_check(expr))

/* Grow a dynamic array *v of *cap elements of size sz so that it holds n+1. */
void *grow_array(void *v, size_t *cap, size_t n, size_t sz);
#define ARRAY_PUSH(v, n, cap) \
	((v) = grow_array((v), &(cap), (n), sizeof(*(v))), &(v)[(n)++])

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Levenshtein distance, for "did you mean" hints. */
unsigned int edit_distance(const char *a, const char *b);
/* The candidate closest to @word within a small distance, or NULL. */
const char *closest_word(const char *word, const char *const *candidates,
			 size_t n);

/* Policy text fit for a message: control and non-ASCII bytes as '?',
 * cut at 64 characters with "..."; @buf needs PRINTABLE_TEXT_SIZE bytes. */
#define PRINTABLE_TEXT_SIZE 68
const char *printable_text(const char *s, char *buf);

/*
 * Foreign text in text output (SPEC §6): process names, interface names,
 * cgroup paths, comments read from the kernel, file names, policy text
 * in messages. Every control character (bytes below 0x20, DEL, the C1
 * controls U+0080..U+009F in UTF-8) and every byte that is not part of
 * valid UTF-8 is written as \xNN, so no such string can move the cursor,
 * recolour a terminal or start a line of its own in a report. Printable
 * ASCII and valid UTF-8 pass unchanged (a backslash too: systemd's unit
 * names carry \x2d escapes of their own).
 */
void text_put(FILE *f, const char *s);
/* The same into a new string (xmalloc'd); NULL gives "(null)". */
char *text_escape(const char *s);

/**
 * hex_value() - the value of one hexadecimal digit
 * Return: 0 to 15, or -1 when @c is not a hex digit.
 */
int hex_value(char c);

/* Write a JSON string literal (with quotes) to a stdio stream. Control
 * characters become \u00XX (\n, \t, \r their short forms), DEL too;
 * bytes that are not valid UTF-8 become \u00XX of the byte, so the
 * output is always valid JSON. */
void json_string(FILE *f, const char *s);

#endif
