/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_PROPOSAL_H
#define PORTWARDEN_PROPOSAL_H

/*
 * What `portwarden learn` saw, and the policy it proposes (SPEC §10).
 * Observations come from sock_diag snapshots, monitor events and (when the
 * daemon's state file can be read) learned hostnames; the proposal allows
 * every observed flow and nothing else it can name:
 *  - a listener on a non-loopback address: a `listeners:` entry (with its
 *    process) and an inbound rule for its protocol and port;
 *  - outbound flows: one rule per (protocol, destination port, owner),
 *    the owner a user name or a cgroup path; destinations as single
 *    addresses, or as the /24 (IPv4) or /64 (IPv6) holding them when at
 *    least PROPOSAL_WIDEN_MIN distinct addresses of that network were seen
 *    (said in the rule's comment and a YAML comment above it);
 *  - the hostnames the daemon learned for destination addresses (SPEC §8)
 *    as YAML comments above the rule; `to:` keeps the addresses, which
 *    match without the daemon (a name matches only what it learns later);
 *  - a test per rule (its first flow, expecting accept by that rule), so
 *    `portwarden test` checks the proposal;
 *  - each rule's comment: how often and when it was seen.
 * Nothing here reads the host or prints to the terminal.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "policy.h"

/* distinct addresses of one /24 (or /64) that make the proposal use it */
#define PROPOSAL_WIDEN_MIN	8
/* bounds: what is beyond them is counted, not kept */
#define PROPOSAL_MAX_GROUPS	4096
#define PROPOSAL_MAX_ADDRS	65536	/* per group */
#define PROPOSAL_MAX_ADDRS_TOTAL (1u << 20)
#define PROPOSAL_MAX_CONNS	(1u << 22)	/* distinct connections counted */

struct proposal;

struct proposal *proposal_new(void);
void proposal_free(struct proposal *p);

/**
 * proposal_listener() - a listening socket (TCP LISTEN, or bound UDP)
 * @proto: 6 or 17
 * @local: its address (full length); loopback-only listeners are the
 *         caller's to leave out
 * @comm:  its process's command name, or NULL
 */
void proposal_listener(struct proposal *p, uint8_t proto, const struct cidr *local,
		       uint16_t port, const char *comm, time_t when);

/**
 * proposal_flow() - one connection seen (a snapshot's socket, or an event)
 * @dir:    DIR_IN: @remote connected to this host's @port (a listener's);
 *          DIR_OUT: this host connected to @remote:@port
 * @sport:  the other end's port for DIR_IN, the local port for DIR_OUT:
 *          with the addresses it tells one connection from the next
 * @owner:  DIR_OUT: "user:NAME" or "cgroup:PATH"; NULL for DIR_IN
 */
void proposal_flow(struct proposal *p, enum direction dir, uint8_t proto,
		   const struct cidr *remote, uint16_t port, uint16_t sport,
		   const char *owner, time_t when);

/**
 * proposal_hostname() - an address the daemon learned for @name (from a
 * monitor `learned` event or the daemon's state file, see cmd_learn.c):
 * destinations at that address are named in a comment. The first name
 * given for an address is kept.
 */
void proposal_hostname(struct proposal *p, const struct cidr *addr,
		       const char *name);

/**
 * struct proposal_stats - for the header comment
 */
struct proposal_stats {
	time_t start, end;
	unsigned long snapshots, sockets;
	unsigned long events, events_bad, events_used;
	const char *hostnames;	/* what became of the daemon's names */
};

/**
 * proposal_write() - the proposed policy as YAML, `check`-clean
 * Return: 0, or -EIO when @f fails.
 */
int proposal_write(const struct proposal *p, const struct proposal_stats *st,
		   FILE *f);

/* groups and addresses dropped at the bounds above */
unsigned long proposal_dropped(const struct proposal *p);

#endif
