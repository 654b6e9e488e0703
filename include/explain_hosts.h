/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_EXPLAIN_HOSTS_H
#define PORTWARDEN_EXPLAIN_HOSTS_H

/*
 * `explain` and hostname rules (SPEC §8), src/explain_hosts.c: explain by
 * name (`explain out tcp github.com:443`) and by address (a learned
 * address of the live sets matches its rule).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "eval.h"
#include "model.h"
#include "nl.h"

/**
 * explain_parse_name() - "NAME" or "NAME:PORT" where NAME is a hostname
 * @s:    the destination argument
 * @name: receives the name in lower case, without a final dot
 * Return: 0, or -EINVAL when @s is not a hostname (or the port is bad).
 */
int explain_parse_name(const char *s, char *name, size_t len,
		       bool *has_port, uint16_t *port);

/**
 * explain_by_name() - make @m match @name as the daemon would after an
 * answer: put a stand-in address (240.0.0.1, or 100::1 for a name only
 * IPv6 rules hold) into every hostname set of @p whose names match
 * @name, and set @pkt->dst to it
 * Return: the number of hostname patterns of @p that match @name.
 */
size_t explain_by_name(const struct policy *p, struct model *m,
		       const char *name, struct packet *pkt);

/**
 * explain_learned() - copy the addresses portwarden daemon learned (the
 * live hostname sets' elements with a timeout) into @m's sets of the
 * same name, so that the compiled policy standing in for the live table
 * matches them too
 * Return: the number of elements copied, or a negative errno.
 */
int explain_learned(struct nl_sock *s, struct model *m);

/**
 * explain_host_notes() - after an explain by address that no hostname
 * rule decided: one line per outbound hostname rule of @p that would
 * match the packet's protocol and port, saying that it matches only
 * addresses learned from DNS answers
 */
void explain_host_notes(FILE *f, const struct policy *p,
			const struct packet *pkt, const struct rule *decider);

#endif
