/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_KV_H
#define PORTWARDEN_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The line format of portwarden's own records under /run/portwarden: the
 * rollback record and the confirm timer's file (state.c) and the ruleset
 * model inside the rollback record (model_io.c). One writer and one reader
 * serve all of them.
 *
 * A record is a sequence of lines; a line is a keyword followed by tokens
 * separated by single blanks:
 *
 *   generation 3
 *   set "web" family 0 interval 1 keys dport
 *
 * A token is a bare word (no blank, no '"') or a quoted string in which
 * '"' and '\' are escaped with '\' and every byte outside 0x21..0x7e is
 * written \xHH (so a string never breaks a line; \x00 is refused). A bare
 * "-" stands for "no string" (NULL). Nothing else (no comments, no blank
 * lines) is part of the format: a reader refuses what it does not expect.
 */

/* At most this many tokens on one line (the keyword included). */
#define KV_MAX_TOKENS 48

/**
 * struct kv_writer - a buffered writer of records to a stdio stream
 *
 * Formats into its own buffer and hands the stream 64 KiB at a time: a
 * 110,000-element table is 3 MB of text, and fprintf() per field made
 * writing it a tenth of a whole apply. The first error is kept and
 * reported by kv_writer_finish().
 */
struct kv_writer;

struct kv_writer *kv_writer_new(FILE *f);
/* Flush and free @w: 0, or the negative errno of the first failure
 * (-ENOSPC on a full disk; -EIO when the stream does not say). Accepts
 * NULL. */
int kv_writer_finish(struct kv_writer *w);

/* Append raw bytes, a NUL-terminated string, one character. */
void kv_put(struct kv_writer *w, const char *s, size_t n);
void kv_puts(struct kv_writer *w, const char *s);
void kv_putc(struct kv_writer *w, char c);
/* Append a number in decimal. */
void kv_put_u64(struct kv_writer *w, uint64_t v);
void kv_put_i64(struct kv_writer *w, int64_t v);
/* Append @n bytes as 2n lower-case hex digits. */
void kv_put_hex(struct kv_writer *w, const uint8_t *p, size_t n);
/* Append a blank and a quoted string, or a blank and "-" for NULL. */
void kv_put_str(struct kv_writer *w, const char *s);

/**
 * struct kv_line - one line split into tokens
 * @tok:    the tokens, quoted ones unescaped, pointing into the reader's
 *          buffer (valid until the next kv_read_line())
 * @quoted: token i was a quoted string
 * @n:      number of tokens (at least 1 after a successful read)
 */
struct kv_line {
	char *tok[KV_MAX_TOKENS];
	bool quoted[KV_MAX_TOKENS];
	size_t n;
};

/**
 * struct kv_reader - reads a record line by line from a stdio stream
 * @line: the last line read
 */
struct kv_reader {
	FILE *f;
	char *buf;
	size_t cap;
	struct kv_line line;
};

void kv_reader_init(struct kv_reader *r, FILE *f);
void kv_reader_release(struct kv_reader *r);

/**
 * kv_read_line() - read and split the next line into @r->line
 * Return: 0; -ENODATA at the end of the stream; -EINVAL for a line that is
 * empty, starts with a quoted token, has too many tokens or a malformed
 * string; -EIO on a read error.
 */
int kv_read_line(struct kv_reader *r);

/* Is token @i of @ln the bare word @word? */
bool kv_is_word(const struct kv_line *ln, size_t i, const char *word);

/* Parsers of one token's text: 0 or -EINVAL. Numbers are plain decimal
 * digits (a leading '-' for kv_parse_i64), nothing else. */
int kv_parse_u64(const char *s, uint64_t max, uint64_t *out);
int kv_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int kv_parse_bool(const char *s, bool *out);
/* Token @i: a quoted string (an owned copy in *@out) or "-" (NULL). */
int kv_parse_str(const struct kv_line *ln, size_t i, char **out);

/*
 * kv_parse_dec() - decimal digits at *@p, at most @max; *@p is left after
 * them (for composite tokens such as "80-443"). Return: 0 or -EINVAL.
 */
int kv_parse_dec(const char **p, uint32_t max, uint32_t *out);

#endif
