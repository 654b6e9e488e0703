/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_LEARN_STATE_H
#define PORTWARDEN_LEARN_STATE_H

/*
 * The daemon's learned addresses on disk (SPEC §8), so a restart opens no
 * gap: STATE_DIR/learned-TABLE, one line an address,
 *
 *   portwarden-learned 1
 *   NAME 4|6 ADDRESS EXPIRES
 *
 * EXPIRES in seconds since the epoch. Written to a temporary file, synced
 * and renamed over the old one. Read back as untrusted input: a line that
 * is not exactly that shape is skipped and counted.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATE_DIR "/var/lib/portwarden"
/* Environment variable that moves STATE_DIR (tests, packaging). */
#define STATE_DIR_ENV "PORTWARDEN_STATE_DIR"
/* A state file larger than this is not read (about 1M addresses). */
#define LEARN_STATE_MAX_BYTES (96u << 20)

/**
 * struct learned_addr - one line of the file
 * @name:    a hostname (hostname_valid(), no wildcard)
 * @family:  4 or 6
 * @addr:    4 or 16 bytes
 * @expires: seconds since the epoch
 */
struct learned_addr {
	const char *name;
	int family;
	uint8_t addr[16];
	int64_t expires;
};

typedef void (*learn_state_fn)(void *ctx, const struct learned_addr *a);

/**
 * learn_state_parse() - read a state file's text
 * @buf, @len: the bytes (need not be NUL-terminated)
 * @fn:        called for every well-formed line
 * @bad:       receives the number of lines skipped
 * Return: lines read, or -EINVAL when the first line is not the header.
 */
long learn_state_parse(const char *buf, size_t len, learn_state_fn fn,
		       void *ctx, size_t *bad);

/* One line for @a. 0 or -EIO. */
int learn_state_write_line(FILE *f, const struct learned_addr *a);

/* The header line. */
int learn_state_write_header(FILE *f);

/**
 * learn_state_path() - STATE_DIR (or $PORTWARDEN_STATE_DIR)/learned-@table
 * Return: 0, or -ENAMETOOLONG.
 */
int learn_state_path(char *buf, size_t len, const char *table);

/**
 * learn_state_open_tmp() - open @path.tmp for writing (0600), creating the
 * directory (0700) when missing
 * Return: the stream, or NULL with errno set.
 */
FILE *learn_state_open_tmp(const char *path);

/* Flush, fsync and close @f, then rename @path.tmp over @path. 0 or -errno. */
int learn_state_commit(FILE *f, const char *path);

/**
 * learn_state_read() - read @path whole and parse it
 * Return: as learn_state_parse(); -ENOENT when there is no file; -EFBIG
 * beyond LEARN_STATE_MAX_BYTES.
 */
long learn_state_read(const char *path, learn_state_fn fn, void *ctx,
		      size_t *bad);

#endif
