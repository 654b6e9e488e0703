/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_GUARD_H
#define PORTWARDEN_GUARD_H

#include <stddef.h>

#include "model.h"

/*
 * The lock-out guard: before an apply, the live inbound connections that
 * the new table would cut (SPEC §2: `apply` refuses with exit 4 unless
 * --force). It reads the live sockets (or a sock_diag recording), never
 * prints; cmd_safe.c reports.
 */

/**
 * struct safe_conn - a live connection the new policy would cut
 * @text:   "tcp 10.9.0.2:51234 -> 10.9.0.1:22"
 * @rule:   the deciding rule name, or the label ("default", ...)
 * @origin: the deciding policy rule (for its location), or NULL
 * @verdict: "drop" or "reject"
 */
struct safe_conn {
	char *text;
	const char *rule;
	const struct rule *origin;
	const char *verdict;
};

struct safe_conns {
	struct safe_conn *v;
	size_t n, cap;
	size_t checked;		/* inbound connections looked at */
};

void safe_conns_release(struct safe_conns *cs);

/**
 * safe_guard() - find live inbound connections that @next would cut
 * @next:   the compiled table about to be applied
 * @replay: NULL for the live socket table, or a sock_diag recording
 * @out:    zeroed by the caller; receives every connection whose first
 *          packet, sent again from the remote end, @next would drop or
 *          reject
 *
 * Inbound means: an established TCP connection or a connected UDP socket
 * whose local port has a listener (TCP LISTEN, unconnected bound UDP)
 * of the same protocol. The packet comes in on "lo" when either address
 * is a loopback one or both are equal, else on the interface holding the
 * local address.
 * Return: 0 or a negative errno.
 */
int safe_guard(const struct model *next, const char *replay,
	       struct safe_conns *out);

#endif
