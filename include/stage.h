/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_STAGE_H
#define PORTWARDEN_STAGE_H

/*
 * Staged policies (SPEC §9): a candidate policy that sees the packets of
 * new connections, decides nothing, and logs through NFLOG each new
 * connection on which its verdict differs from the enforced one.
 *
 * Kernel layout (nl_stage.c). The staged policy lives in its own inet
 * table, `<table>_staged` (same ownership mark), whose base chains run on
 * the same hooks just before portwarden's (priority STAGE_PRIORITY):
 *
 *   chain input { type filter hook input priority filter - 1; policy accept;
 *     ct state != new accept           (established packets pay no more)
 *     goto enforced_input
 *   }
 *   chain enforced_input {             (a copy of the enforced chain)
 *     <rule both policies start with> counter return comment "K ..."
 *     <enforced rule, verdict E> goto staged_input_E
 *     ...
 *     goto staged_input_<the enforced chain's policy>
 *   }
 *   chain staged_input_accept {        (and _drop, _reject: one copy of
 *     <staged rule K, verdict V == E> counter return comment "K ..."
 *     <staged rule K, verdict V != E> 5-tuple != @seen_v4 add @seen_v4
 *                   log group G prefix "pw1 S in V NAME AT E"   (and v6)
 *     <staged rule K, verdict V != E> counter return comment "K ..."
 *     ...                              the staged chain per enforced
 *   }                                  verdict E)
 *
 * The enforced verdict is carried by control flow, not in a register:
 * Linux (6.5+) refuses a rule that reads a register it did not write
 * itself. Only the copies whose verdict differs log, once per 5-tuple a
 * minute (`seen_v4`/`seen_v6`, dynamic sets with timeout), so only the
 * new connections whose verdicts differ reach user space. Nothing in the
 * table drops, rejects or alters a packet: an `accept` in a base chain
 * only ends that chain, the packet goes on to the next one. Sets are
 * copied in: the enforced policy's as `e_<name>`, the staged policy's as
 * `s_<name>`. Rule comments "K PREFIX" name staged rule K of the
 * direction for nl_stage_read().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "nl.h"

#define STAGE_SUFFIX "_staged"
#define STAGE_PRIORITY (-1)

/* Verdict codes in NFT_REG32_15. */
enum stage_code {
	STAGE_ACCEPT = 1,
	STAGE_DROP = 2,
	STAGE_REJECT = 3,
};

/**
 * stage_table_name() - the staged table of portwarden table @table
 * Return: 0, or -ENAMETOOLONG.
 */
int stage_table_name(const char *table, char *buf, size_t len);

/**
 * nl_stage_install() - create (or replace) the staged table in one
 * transaction
 * @enforced: the live enforced table, or NULL when there is none (the
 *            enforced verdict is then the host's: accept)
 * @staged:   the compiled staged policy (its table is the enforced one's
 *            name; the staged table is named from it)
 * @group:    NFLOG group of the records
 *
 * Return: 0, or a negative errno (reported in @d).
 */
int nl_stage_install(struct nl_sock *s, const struct model *enforced,
		     const struct model *staged, uint16_t group,
		     struct diag *d);

/**
 * nl_stage_refresh() - the enforced table changed: replace the shadow
 * copy in the staged table of @table (the staged rules and their counters
 * stay), in one transaction
 * @enforced: the enforced table now, or NULL when there is none
 *
 * Return: 0, -ENOENT when nothing is staged, another negative errno.
 */
int nl_stage_refresh(struct nl_sock *s, const char *table,
		     const struct model *enforced, struct diag *d);

/**
 * struct stage_rule - one staged rule as the kernel holds it
 * @dir:     DIR_IN or DIR_OUT
 * @name:    rule name (or "default", "established", ...)
 * @at:      "FILE:LINE" or ""
 * @verdict: the staged verdict
 * @packets, @bytes: its counter (packets of new connections)
 */
struct stage_rule {
	enum direction dir;
	char *name;
	char *at;
	enum verdict verdict;
	uint64_t packets, bytes;
};

/**
 * nl_stage_read() - the staged rules of the staged table of @table
 * @group: the NFLOG group the records go to (0 when none was found)
 *
 * Return: 0, -ENOENT when nothing is staged, another negative errno.
 * Free with stage_rules_free().
 */
int nl_stage_read(struct nl_sock *s, const char *table,
		  struct stage_rule **out, size_t *n, uint16_t *group);

void stage_rules_free(struct stage_rule *v, size_t n);

/**
 * nl_stage_exists() - is there a staged table for @table?
 * Return: 1, 0, or a negative errno.
 */
int nl_stage_exists(struct nl_sock *s, const char *table);

#endif
