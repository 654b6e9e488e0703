/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MODEL_IO_H
#define PORTWARDEN_MODEL_IO_H

#include <stdio.h>

#include "kv.h"
#include "model.h"

/*
 * A line-based text form of a ruleset model, portwarden's own (it is not
 * nft syntax and nothing else parses it), in the line format of kv.h. The
 * rollback record (state.c) keeps the table from before an apply in it, so
 * that rollback and the confirm timer can put that table back through
 * nl_apply() without ever reading nft text.
 *
 * The form is exact: every field of every set, element, chain, rule and
 * match is written, so model_read() of model_write() gives a model equal
 * field by field (origins, handles and counter values are not kept;
 * mrule.origin_name is kept for the built-in labels eval reports).
 *
 *   model 1
 *   table "portwarden"
 *   set "web" family 0 interval 1 keys dport
 *   elem 0 80-80 - -
 *   chain "input" hook input priority 0 policy drop
 *   rule verdict accept counter 1 log - comment "ssh" label -
 *   match l4proto negate 0 set -1 family 0 value 6 0-0 - -
 *   end
 *
 * A value is "NUM LO-HI PREFIX STR": PREFIX is "-" or FAMILY/PLEN/HEX of
 * the 4 or 16 address bytes, STR is "-" (NULL) or a quoted string with
 * \\, \" and \xHH escapes.
 */

/**
 * model_write() - write @m in the text form above, ending with "end"
 * Return: 0, or -EIO when the stream failed.
 */
int model_write(const struct model *m, FILE *f);

/**
 * model_read() - read one model written by model_write(), through its "end"
 * @f:   positioned at the "model 1" line
 * @out: the model (model_free() it)
 *
 * Return: 0; -EINVAL on a malformed or truncated text; -EIO on a read error.
 */
int model_read(FILE *f, struct model **out);

/* The same inside a larger record: write through @w (errors are reported
 * by kv_writer_finish()), read the next lines of @r. */
void model_write_kv(struct kv_writer *w, const struct model *m);
int model_read_kv(struct kv_reader *r, struct model **out);

#endif
